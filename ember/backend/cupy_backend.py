"""CUDA backend: CuPy arrays (optional dependency, ``pip install ember[cuda]``)."""
try:
    import cupy as xp
    import cupyx
except ImportError as e:  # raised when a user asks for a cuda tensor without CuPy
    raise RuntimeError("Torch not compiled with CUDA enabled: ember's CUDA backend needs CuPy "
                       "(pip install ember[cuda])") from e

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
