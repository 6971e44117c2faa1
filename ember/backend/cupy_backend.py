"""CUDA backend: CuPy arrays (optional dependency, ``pip install ember[cuda]``)."""
from ..cuda import NO_GPU, NOT_COMPILED

try:
    import cupy as xp
    import cupyx
except ImportError as e:  # raised when a user asks for a cuda tensor without CuPy, as torch's CPU build does
    raise AssertionError(NOT_COMPILED) from e
try:
    _count = xp.cuda.runtime.getDeviceCount()
except Exception:  # CuPy without a driver or a device
    _count = 0
if not _count:
    raise RuntimeError(NO_GPU)

name, is_meta = "cuda", False


def asarray(obj, npdtype=None):
    return xp.array(obj, dtype=npdtype, copy=True)


def empty(shape, npdtype):
    return xp.empty(shape, dtype=npdtype)


def to_host(a):
    return xp.asnumpy(a)


def from_host(a):
    return xp.asarray(a)


def synchronize():
    xp.cuda.Device().synchronize()


def index_add(dst, index, src):
    cupyx.scatter_add(dst, index, src)
