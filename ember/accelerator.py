"""ember.accelerator (torch.accelerator): the current accelerator -- CUDA when CuPy sees a GPU, else none."""
import warnings

from . import _device

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index", "set_device_index",
           "current_device_idx", "set_device_idx", "synchronize", "device_index", "empty_cache",
           "memory_allocated", "max_memory_allocated", "reset_peak_memory_stats"]

_NONE = "Cannot access accelerator device when none is available."


def _cuda():
    from . import cuda
    return cuda


def is_available():
    """Whether an accelerator (a CUDA GPU) is usable."""
    return _cuda().is_available()


def current_accelerator(check_available=False):
    """``device(type='cuda')`` when a GPU is usable, else None."""
    if _cuda().is_available():
        return _device.device("cuda")
    return None


def device_count():
    """Number of accelerator devices (0 without one)."""
    return _cuda().device_count()


def _require():
    if not _cuda().is_available():
        raise RuntimeError(_NONE)
    return _cuda()


def _index_of(device):
    if device is None:
        return None
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    d = _device.device(device)
    if d.type != "cuda":
        raise RuntimeError(f"{d.type} doesn't match the current accelerator cuda.")
    return d.index


def current_device_index():
    """Index of the current accelerator device."""
    return _require().current_device()


def current_device_idx():
    warnings.warn("Use `current_device_index` instead.", FutureWarning, stacklevel=2)
    return current_device_index()


def set_device_index(device, /):
    """Make ``device`` (an index, 'cuda:N' or device) the current accelerator device."""
    cuda = _require()
    idx = _index_of(device)
    if idx is not None:
        cuda.set_device(idx)


def set_device_idx(device, /):
    warnings.warn("Use `set_device_index` instead.", FutureWarning, stacklevel=2)
    set_device_index(device)


def synchronize(device=None, /):
    """Wait for all work queued on the accelerator device."""
    if device is not None and not isinstance(device, int):
        d = _device.device(device)
        if d.type != "cuda" and not is_available():
            raise RuntimeError("Accelerator expected")
    cuda = _require()
    cuda.synchronize(_index_of(device))


class device_index:
    """Context manager making accelerator ``device`` (an index, or None for no change) current."""

    def __init__(self, device, /):
        self.idx = device
        self.prev_idx = -1

    def __enter__(self):
        if self.idx is not None:
            self.prev_idx = current_device_index()
            if self.prev_idx != self.idx:
                set_device_index(self.idx)
        return self

    def __exit__(self, *exc):
        if self.idx is not None and self.prev_idx != self.idx:
            set_device_index(self.prev_idx)
        return False


def empty_cache():
    """Release cached accelerator memory (nothing without an accelerator)."""
    if is_available():
        _cuda().empty_cache()


def memory_allocated(device_index=None, /):
    return _require().memory_allocated(device_index)


def max_memory_allocated(device_index=None, /):
    return _require().max_memory_allocated(device_index)


def reset_peak_memory_stats(device_index=None, /):
    _require().reset_peak_memory_stats(device_index)
