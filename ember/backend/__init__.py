"""One backend module per device kind, behind one small interface.

Each backend module defines:
  name, is_meta, xp         -- the array namespace ops call (numpy, cupy; meta uses numpy for rules)
  asarray(obj, npdtype)     -- host data -> a fresh array on this device
  empty(shape, npdtype)     -- uninitialised array
  to_host(a) / from_host(a) -- copies across the host boundary (identity on CPU)
  synchronize()             -- wait for queued work
Ops receive ``xp`` and call only the NumPy API that CuPy shares; what differs lives here.
"""
import importlib


def c_strides(shape):
    """Element strides of a C-contiguous (row-major) array of ``shape`` (size-0 dims count as 1, as torch)."""
    st, acc = [0] * len(shape), 1
    for d in range(len(shape) - 1, -1, -1):
        st[d] = acc
        acc *= max(shape[d], 1)
    return tuple(st)

_loaded = {}
_MODULES = {"cpu": "numpy_backend", "cuda": "cupy_backend", "meta": "meta_backend"}


def get_backend(device_type):
    """The backend module for 'cpu', 'cuda' or 'meta' (imported on first use: CuPy is optional)."""
    be = _loaded.get(device_type)
    if be is None:
        if device_type not in _MODULES:
            raise NotImplementedError(f"ember has no backend for '{device_type}' tensors: the supported devices "
                                      f"are cpu, cuda (with CuPy) and meta")
        be = importlib.import_module(f"{__name__}.{_MODULES[device_type]}")
        _loaded[device_type] = be
    return be
