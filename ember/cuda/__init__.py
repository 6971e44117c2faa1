"""ember.cuda: GPU queries and controls (torch.cuda), backed by CuPy when it is installed.

Nothing here imports CuPy until asked, and the queries (``is_available``, ``device_count``) never raise:
without CuPy or without a GPU they answer False / 0. Calls that need a GPU raise torch's errors.
"""
from .. import _device

NOT_COMPILED = ("Torch not compiled with CUDA enabled (ember's CUDA backend needs CuPy and an NVIDIA GPU: "
                "pip install ember[cuda])")
NO_GPU = "No CUDA GPUs are available"

_state = {"probed": False, "cupy": None, "count": 0, "initialized": False}


def _probe():
    """Import CuPy and count GPUs once; remembers failure instead of raising."""
    if not _state["probed"]:
        _state["probed"] = True
        try:
            import cupy
        except Exception:  # ImportError, or a CuPy built for another CUDA failing at import
            return
        _state["cupy"] = cupy
        try:
            _state["count"] = int(cupy.cuda.runtime.getDeviceCount())
        except Exception:  # no driver / no device
            _state["count"] = 0
    return _state["cupy"]


def is_available():
    """True when CuPy is importable and at least one GPU is visible (never raises)."""
    _probe()
    return _state["count"] > 0


def device_count():
    """Number of visible GPUs (0 without CuPy or a GPU)."""
    _probe()
    return _state["count"]


def _lazy_init():
    if _probe() is None:
        raise AssertionError(NOT_COMPILED)
    if not _state["count"]:
        raise RuntimeError(NO_GPU)
    _state["initialized"] = True
    return _state["cupy"]


def init():
    """Initialise the CUDA state (torch's errors when there is no GPU backend)."""
    _lazy_init()


def is_initialized():
    return _state["initialized"]


def _index(device, optional=True):
    """The GPU index ``device`` names (int, 'cuda:1', ember.device); None/'cuda' mean the current one."""
    if device is None:
        return _device._cuda_current[0] if optional else -1
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    d = _device.device(device)
    if d.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {d}")
    return _device._cuda_current[0] if d.index is None else d.index


def _check_index(cp, idx):
    if not 0 <= idx < _state["count"]:
        raise RuntimeError("CUDA error: invalid device ordinal")
    return cp.cuda.Device(idx)


def current_device():
    """Index of the GPU that bare 'cuda' means."""
    _lazy_init()
    return _device._cuda_current[0]


def set_device(device):
    """Make ``device`` the current GPU (a negative index is ignored, as in torch)."""
    idx = _index(device)
    if idx < 0:
        return
    cp = _lazy_init()
    _check_index(cp, idx).use()
    _device._cuda_current[0] = idx


class device:
    """Context manager that makes a GPU current for its block (torch.cuda.device)."""

    def __init__(self, device):
        self.idx = _index(device, optional=True)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx < 0:
            return self
        self.prev_idx = _device._cuda_current[0]
        set_device(self.idx)
        return self

    def __exit__(self, *exc):
        if self.prev_idx >= 0:
            set_device(self.prev_idx)
        return False


def _props(idx):
    cp = _lazy_init()
    _check_index(cp, idx)
    return cp.cuda.runtime.getDeviceProperties(idx)


class _CudaDeviceProperties:
    """What ``get_device_properties`` reports: name, capability, memory and SM count."""

    def __init__(self, p):
        name = p["name"]
        self.name = name.decode() if isinstance(name, bytes) else str(name)
        self.major, self.minor = int(p["major"]), int(p["minor"])
        self.total_memory = int(p["totalGlobalMem"])
        self.multi_processor_count = int(p["multiProcessorCount"])
        self.L2_cache_size = int(p.get("l2CacheSize", 0))

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
                f"total_memory={self.total_memory // (1024 * 1024)}MB, "
                f"multi_processor_count={self.multi_processor_count}, "
                f"L2_cache_size={self.L2_cache_size // (1024 * 1024)}MB)")


def get_device_properties(device=None):
    """Properties of a GPU (name, major, minor, total_memory, multi_processor_count)."""
    return _CudaDeviceProperties(_props(_index(device)))


def get_device_name(device=None):
    """The GPU's name, e.g. 'NVIDIA H100 80GB HBM3'."""
    return get_device_properties(device).name


def get_device_capability(device=None):
    """(major, minor) compute capability of a GPU."""
    p = get_device_properties(device)
    return (p.major, p.minor)


def synchronize(device=None):
    """Wait until all queued work on the GPU has finished."""
    cp = _lazy_init()
    _check_index(cp, _index(device)).synchronize()


def _cuda_generator(idx):
    from .._generator import generator_for
    return generator_for(_device.device("cuda", idx))


def manual_seed(seed):
    """Seed the current GPU's generator (silently nothing without a GPU, as in torch)."""
    if is_available():
        _cuda_generator(current_device()).manual_seed(int(seed))


def manual_seed_all(seed):
    """Seed every GPU's generator (silently nothing without a GPU)."""
    for i in range(device_count()):
        _cuda_generator(i).manual_seed(int(seed))


def seed():
    """Seed the current GPU's generator from OS entropy (nothing without a GPU)."""
    if is_available():
        _cuda_generator(current_device()).seed()


def seed_all():
    """Seed every GPU's generator from one OS-entropy seed (nothing without a GPU)."""
    if is_available():
        s = _cuda_generator(0).seed()
        for i in range(1, device_count()):
            _cuda_generator(i).manual_seed(s)


def initial_seed():
    """The current GPU generator's seed."""
    _lazy_init()
    return _cuda_generator(current_device()).initial_seed()


def get_rng_state(device="cuda"):
    """The GPU generator's state as a uint8 CPU tensor."""
    _lazy_init()
    return _cuda_generator(_index(device)).get_state()


def set_rng_state(new_state, device="cuda"):
    _lazy_init()
    _cuda_generator(_index(device)).set_state(new_state)


def get_rng_state_all():
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state_all(new_states):
    for i, st in enumerate(new_states):
        set_rng_state(st, i)


def is_bf16_supported(including_emulation=True):
    """True when bfloat16 tensors work on the GPU (natively from compute capability 8.0)."""
    if not is_available():
        return False
    cp = _state["cupy"]
    try:
        from .._dtype import bfloat16
        cp.zeros(1, dtype=bfloat16.np)  # CuPy must accept ml_dtypes' bfloat16 at all
    except Exception:
        return False
    return including_emulation or get_device_capability()[0] >= 8


def empty_cache():
    """Return cached, unused GPU memory to the driver (nothing without a GPU)."""
    if is_available():
        _state["cupy"].get_default_memory_pool().free_all_blocks()


def memory_allocated(device=None):
    """Bytes currently held by tensors on the GPU (0 without a GPU)."""
    if not is_available():
        return 0
    cp = _state["cupy"]
    with _check_index(cp, _index(device)):
        return int(cp.get_default_memory_pool().used_bytes())


def memory_reserved(device=None):
    """Bytes the memory pool holds on the GPU, used or cached (0 without a GPU)."""
    if not is_available():
        return 0
    cp = _state["cupy"]
    with _check_index(cp, _index(device)):
        return int(cp.get_default_memory_pool().total_bytes())


def get_arch_list():
    """CUDA architectures this build supports ([] without a GPU backend)."""
    return []


# ---------------------------------------------------------------- memory statistics (CuPy's memory pool)
# CuPy's pool knows the bytes in use now, not the peak: the peak is tracked by a thin allocator installed
# in front of the pool the first time the statistics are used.
_peak = {"tracking": False, "allocated": {}, "reserved": {}}


def _track_peaks(cp):
    if _peak["tracking"]:
        return
    pool = cp.get_default_memory_pool()
    try:
        current = cp.cuda.get_allocator()
        if current is not None and current != pool.malloc:
            return  # the user installed an allocator of their own: leave it alone
    except Exception:
        pass

    def malloc(size):
        mem = pool.malloc(size)
        dev = cp.cuda.runtime.getDevice()
        used, total = pool.used_bytes(), pool.total_bytes()
        if used > _peak["allocated"].get(dev, 0):
            _peak["allocated"][dev] = used
        if total > _peak["reserved"].get(dev, 0):
            _peak["reserved"][dev] = total
        return mem
    cp.cuda.set_allocator(malloc)
    _peak["tracking"] = True


def _pool_bytes(device):
    """(index, bytes in use, bytes held) of a GPU's memory pool, or None without a GPU backend."""
    if not is_available():
        return None
    cp = _state["cupy"]
    _track_peaks(cp)
    idx = _index(device)
    with _check_index(cp, idx):
        pool = cp.get_default_memory_pool()
        return idx, int(pool.used_bytes()), int(pool.total_bytes())


def max_memory_allocated(device=None):
    """Peak bytes held by tensors on the GPU since the start or the last ``reset_peak_memory_stats``."""
    b = _pool_bytes(device)
    if b is None:
        return 0
    idx, used, _ = b
    return max(_peak["allocated"].get(idx, 0), used)


def max_memory_reserved(device=None):
    """Peak bytes held by the GPU memory pool (used or cached)."""
    b = _pool_bytes(device)
    if b is None:
        return 0
    idx, _, total = b
    return max(_peak["reserved"].get(idx, 0), total)


def reset_peak_memory_stats(device=None):
    """Restart peak tracking from the current usage."""
    if _probe() is None:
        raise AttributeError("module 'torch._C' has no attribute '_cuda_resetPeakMemoryStats'")
    _lazy_init()
    idx, used, total = _pool_bytes(device)
    _peak["allocated"][idx] = used
    _peak["reserved"][idx] = total


def reset_max_memory_allocated(device=None):
    warnings.warn("torch.cuda.reset_max_memory_allocated now calls torch.cuda.reset_peak_memory_stats, which "
                  "resets /all/ peak memory stats.", FutureWarning, stacklevel=2)
    reset_peak_memory_stats(device)


def memory_stats(device=None):
    """Allocator statistics as torch names them (``allocated_bytes.all.current``...); empty without a GPU."""
    import collections
    b = _pool_bytes(device)
    if b is None:
        return collections.OrderedDict()
    idx, used, total = b
    stats = {"allocated_bytes.all.current": used,
             "allocated_bytes.all.peak": max(_peak["allocated"].get(idx, 0), used),
             "reserved_bytes.all.current": total,
             "reserved_bytes.all.peak": max(_peak["reserved"].get(idx, 0), total),
             "active_bytes.all.current": used,
             "inactive_split_bytes.all.current": total - used}
    return collections.OrderedDict(sorted(stats.items()))


def _fmt_bytes(n):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024


def memory_summary(device=None, abbreviated=False):
    """A printable table of the GPU memory pool: current and peak bytes allocated and reserved."""
    stats = memory_stats(device)
    rows = [("Allocated memory", stats["allocated_bytes.all.current"], stats["allocated_bytes.all.peak"]),
            ("Active memory", stats["active_bytes.all.current"], stats["allocated_bytes.all.peak"]),
            ("GPU reserved memory", stats["reserved_bytes.all.current"], stats["reserved_bytes.all.peak"]),
            ("Non-releasable memory", stats["inactive_split_bytes.all.current"],
             stats["inactive_split_bytes.all.current"])]
    idx = _index(device)
    width = 75
    line = "|" + "=" * width + "|"
    sep = "|" + "-" * width + "|"
    out = [line, "|" + f" ember CUDA memory summary, device ID {idx} ".center(width) + "|", sep,
           "|" + " Metric                    | Cur Usage         | Peak Usage".ljust(width) + "|", sep]
    for name, cur, peak in rows:
        out.append("|" + f" {name:<25} | {_fmt_bytes(cur):>17} | {_fmt_bytes(peak):>17}".ljust(width) + "|")
    out.append(line)
    return "\n".join(out) + "\n"


import warnings  # noqa: E402
from . import amp  # noqa: E402,F401  (torch.cuda.amp: the deprecated GradScaler/autocast spellings)
from .streams import (Stream, ExternalStream, Event, StreamContext, current_stream, default_stream,  # noqa: E402
                      set_stream, stream, mem_get_info, device_of)


class OutOfMemoryError(RuntimeError):
    """Raised when the GPU runs out of memory (torch.cuda.OutOfMemoryError)."""
