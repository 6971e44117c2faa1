"""Op-table rows for ember/ops/reduce.py: reductions over all dims, an int / negative / tuple dim,
keepdim, 0-d and empty inputs, output dtypes (ints sum to int64), and torch's errors."""
import numpy as np

from ..opinfo import DT, FLOATS, OpInfo, Sample, arr, noncontig, reduce_samples

DTYPES = FLOATS + ("int64", "int32", "uint8", "bool")


def _axis(dim, ndim=1):
    if dim is None or ndim == 0 or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return None
    return tuple(dim) if isinstance(dim, (tuple, list)) else dim


def _sum_ref(x, dim=None, keepdim=False, dtype=None):
    if dtype is None and x.dtype.kind in "biu":
        dtype = np.int64
    return np.sum(x, axis=_axis(dim, x.ndim), keepdims=keepdim, dtype=dtype)


def _mean_ref(x, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        x = x.astype(dtype)
    return np.mean(x, axis=_axis(dim, x.ndim), keepdims=keepdim)


def _prod_ref(x, dim=None, keepdim=False, dtype=None):
    if dtype is None and x.dtype.kind in "biu":
        dtype = np.int64
    return np.prod(x, axis=_axis(dim, x.ndim), keepdims=keepdim and dim is not None, dtype=dtype)


def _var_ref(std):
    def ref(x, dim=None, unbiased=None, keepdim=False, correction=None):
        if isinstance(dim, bool):
            dim, unbiased = None, dim
        c = correction if correction is not None else (0 if unbiased is False else 1)
        ax = _axis(dim, x.ndim)
        n = x.size if ax is None else int(np.prod([x.shape[d] for d in np.atleast_1d(ax)]))
        m = np.mean(x, axis=ax, keepdims=True)
        s = np.sum((x - m) ** 2, axis=ax, keepdims=keepdim)
        r = s / (n - c) if n - c > 0 else s * np.nan
        return np.sqrt(r) if std else r
    return ref


def _amax_ref(fn):
    def ref(x, dim=(), keepdim=False):
        return fn(x, axis=_axis(dim, x.ndim), keepdims=keepdim)
    return ref


def _arg_ref(fn):
    def ref(x, dim=None, keepdim=False):
        if dim is None:
            r = fn(x.reshape(-1))
            return np.asarray(r).reshape((1,) * x.ndim) if keepdim else np.asarray(r)
        if x.ndim == 0:
            return np.asarray(0)
        return fn(x, axis=dim, keepdims=keepdim)
    return ref


def _minmax_ref(name):
    amax, arg = (np.max, np.argmax) if name == "max" else (np.min, np.argmin)

    def ref(x, dim=None, keepdim=False):
        if isinstance(dim, np.ndarray):
            return (np.maximum if name == "max" else np.minimum)(x, dim)
        if dim is None:
            return amax(x)
        if x.ndim == 0:
            return x.copy(), np.asarray(0)
        return amax(x, axis=dim, keepdims=keepdim), arg(x, axis=dim, keepdims=keepdim)
    return ref


def _lse_ref(x, dim, keepdim=False):
    x = x.astype(np.float32) if x.dtype.kind in "biu" else x
    ax = _axis(dim, x.ndim)
    m = np.max(x, axis=ax, keepdims=True) if x.size else 0
    m = np.where(np.isfinite(m), m, 0)
    r = np.log(np.sum(np.exp(x - m), axis=ax, keepdims=True)) + m
    return r if keepdim else (np.squeeze(r, axis=ax) if ax is not None else r.reshape(()))


def _allany_ref(fn):
    def ref(x, dim=None, keepdim=False):
        r = fn(x, axis=_axis(dim, x.ndim), keepdims=keepdim)
        return np.asarray(r).astype(np.uint8) if x.dtype == np.uint8 else r
    return ref


# ---------------------------------------------------------------- samples
def _single_dim(dtype, low=-2.0, high=2.0, empty=True):
    """Reductions that take one int dim: all, 0-d, a dim, a negative dim, keepdim, errors."""
    yield Sample((arr((3, 4), dtype, low, high, 1),), name="all")
    yield Sample((arr((), dtype, low, high, 2),), name="0d")
    yield Sample((arr((3, 4), dtype, low, high, 4), 1), name="dim1")
    yield Sample((arr((2, 3, 4), dtype, low, high, 5), -1), name="dim-neg")
    yield Sample((arr((2, 3, 4), dtype, low, high, 6), 0, True), name="keepdim")
    yield Sample((arr((), dtype, low, high, 9), 0), name="0d-dim0")
    yield Sample((noncontig(arr((3, 4), dtype, low, high, 10)), 0), name="noncontig-dim0")
    yield Sample((arr((3, 4), dtype, low, high, 11), -3), name="bad-dim", error=IndexError)
    yield Sample((arr((3, 4), dtype, low, high, 12), (0, 1)), name="tuple-dim", error=TypeError)
    if empty:
        yield Sample((arr((0, 3), dtype, low, high), 1), name="empty-dim1")


def _sum_samples(dtype):
    yield from reduce_samples(dtype)
    yield Sample((arr((3, 4), dtype, -2, 2, 13), ()), name="empty-tuple")
    yield Sample((arr((3, 4), dtype, -2, 2, 14), (0, 0)), name="dup-dim", error=RuntimeError)
    yield Sample((arr((0, 3), dtype),), name="empty-all")
    yield Sample((arr((2, 3), dtype, -2, 2, 15),), {"dtype": DT("float64")}, name="dtype-f64", grad=False)
    yield Sample((arr((2, 3), dtype, -2, 2, 16), 1), {"keepdim": True, "dtype": DT("int32")}, name="dtype-i32",
                 grad=False)


def _mean_samples(dtype):
    yield from reduce_samples(dtype)
    yield Sample((arr((3, 4), dtype, -2, 2, 13), ()), name="empty-tuple")
    yield Sample((arr((0, 3), dtype), 0), name="empty-nan")
    yield Sample((arr((2, 3), dtype, -2, 2, 16), 1, True), {"dtype": DT("float64")}, name="dtype-f64", grad=False)


def _int_mean_samples(dtype):
    yield Sample((arr((3, 4), dtype, -2, 2, 1),), name="2d", error=RuntimeError)
    yield Sample((arr((2, 3), dtype, -2, 2, 16),), {"dtype": DT("float64")}, name="dtype-f64")


def _prod_samples(dtype):
    yield from _single_dim(dtype, -1.5, 1.5)
    yield Sample((arr((0, 3), dtype), 0), name="empty-one")
    if dtype in FLOATS:
        yield Sample((np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0], [1.5, -2.0, 0.5]], dtype), 1), name="zeros")
    yield Sample((arr((2, 3), dtype, -2, 2, 16),), {"dtype": DT("float64")}, name="dtype-f64", grad=False)


def _var_samples(dtype):
    yield from reduce_samples(dtype, empty_dim=False)
    yield Sample((arr((3, 4), dtype, -2, 2, 20), 1, False), name="biased-positional")
    yield Sample((arr((3, 4), dtype, -2, 2, 21), True), name="unbiased-bool")
    yield Sample((arr((3, 4), dtype, -2, 2, 22),), {"correction": 2}, name="correction2")
    yield Sample((arr((3, 4), dtype, -2, 2, 23), 0), {"correction": 0, "keepdim": True}, name="correction0-keep")
    yield Sample((arr((1, 4), dtype, -2, 2, 24), 0), name="single-nan", grad=False)
    yield Sample((arr((3, 4), dtype, -2, 2, 25),), {"unbiased": False}, name="unbiased-kw")


def _int_var_samples(dtype):
    yield Sample((arr((3, 4), dtype, -2, 2, 1),), name="2d", error=RuntimeError)


def _amax_samples(dtype):
    yield from reduce_samples(dtype)
    yield Sample((arr((0, 3), dtype), 0), name="empty-dim0", error=IndexError)
    yield Sample((arr((0, 3), dtype),), name="empty-all", error=RuntimeError)
    if dtype in FLOATS:
        yield Sample((np.array([[1.0, np.nan, 2.0], [3.0, 3.0, -1.0]], dtype), 1), name="nan-ties", grad=False)


def _arg_samples(dtype):
    yield from _single_dim(dtype)
    yield Sample((arr((3, 4), dtype, -2, 2, 30),), {"keepdim": True}, name="all-keepdim")
    yield Sample((arr((0, 3), dtype),), name="empty-all", error=IndexError)
    yield Sample((arr((0, 3), dtype), 0), name="empty-dim0", error=IndexError)
    if dtype in FLOATS:
        yield Sample((np.array([[1.0, np.nan, 2.0], [3.0, 3.0, np.nan]], dtype), 1), name="nan-ties")


def _minmax_samples(dtype):
    yield from _single_dim(dtype)
    yield Sample((arr((3, 4), dtype, -2, 2, 31), 1), {"keepdim": True}, name="keepdim-kw")
    yield Sample((arr((3, 4), dtype, -2, 2, 32), arr((4,), dtype, -2, 2, 33)), name="binary")
    yield Sample((arr((0, 3), dtype),), name="empty-all", error=RuntimeError)
    if dtype in FLOATS:
        yield Sample((np.array([[1.0, np.nan, 2.0], [3.0, 3.0, -1.0]], dtype), 1), name="nan-ties", grad=False)


def _lse_samples(dtype):
    yield Sample((arr((3, 4), dtype, -2, 2, 1), 1), name="dim1")
    yield Sample((arr((2, 3, 4), dtype, -2, 2, 2), -1, True), name="keepdim")
    yield Sample((arr((2, 3, 4), dtype, -2, 2, 3), (0, 2)), name="tuple")
    yield Sample((arr((), dtype, -2, 2, 4), 0), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, -2, 2, 5)), 0), name="noncontig")
    yield Sample((arr((0, 3), dtype), 0), name="empty-dim0")
    yield Sample((arr((3, 4), dtype, -2, 2, 6), 2), name="bad-dim", error=IndexError)
    if dtype in FLOATS:
        yield Sample((np.array([[-np.inf, -np.inf], [1.0, np.inf], [1000.0, 1000.0]], dtype), 1), name="inf",
                     grad=False)


def _allany_samples(dtype):
    yield from reduce_samples(dtype, low=0, high=2)
    yield Sample((arr((0, 3), dtype),), name="empty-all")
    yield Sample((arr((0, 3), dtype), 0), name="empty-dim0")


def _nansum_samples(dtype):
    yield from reduce_samples(dtype, empty_dim=False)
    if dtype in FLOATS:
        yield Sample((np.array([[1.0, np.nan, 2.0], [np.nan, np.nan, -1.0]], dtype), 1), name="nan")


def _sum_to_samples(dtype):
    yield Sample((arr((3, 4), dtype, -2, 2, 1), (1, 4)), name="rows")
    yield Sample((arr((2, 3, 4), dtype, -2, 2, 2), (3, 1)), name="lead-and-inner")
    yield Sample((arr((3, 4), dtype, -2, 2, 3), (3, 4)), name="same")
    yield Sample((arr((3, 4), dtype, -2, 2, 4), ()), name="scalar")


def _sum_to_ref(x, shape):
    lead = x.ndim - len(shape)
    r = x.sum(axis=tuple(range(lead))) if lead else x
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and r.shape[i] != 1)
    return r.sum(axis=axes, keepdims=True) if axes else r


def _var_mean_ref(x, dim=None, unbiased=None, keepdim=False, correction=None):
    return _var_ref(False)(x, dim, unbiased, keepdim, correction), \
        _mean_ref(x, None if isinstance(dim, bool) else dim, keepdim)


def _std_mean_ref(x, dim=None, unbiased=None, keepdim=False, correction=None):
    return _var_ref(True)(x, dim, unbiased, keepdim, correction), \
        _mean_ref(x, None if isinstance(dim, bool) else dim, keepdim)


_INT_ERR = {"int64": RuntimeError, "bool": RuntimeError}

OPS = [
    OpInfo("sum", _sum_samples, ref=_sum_ref, dtypes=DTYPES),
    OpInfo("mean", _mean_samples, ref=_mean_ref),
    OpInfo("mean", _int_mean_samples, ref=_mean_ref, variant="int", dtypes=("int64", "bool"), grad=False),
    OpInfo("prod", _prod_samples, ref=_prod_ref, dtypes=DTYPES),
    OpInfo("var", _var_samples, ref=_var_ref(False)),
    OpInfo("std", _var_samples, ref=_var_ref(True), grad_atol=1e-4),
    OpInfo("var", _int_var_samples, variant="int", dtypes=("int64", "bool"), grad=False),
    OpInfo("var_mean", _var_samples, ref=_var_mean_ref, method=False),
    OpInfo("std_mean", _var_samples, ref=_std_mean_ref, method=False, grad_atol=1e-4),
    OpInfo("amax", _amax_samples, ref=_amax_ref(np.max), dtypes=DTYPES),
    OpInfo("amin", _amax_samples, ref=_amax_ref(np.min), dtypes=DTYPES),
    OpInfo("argmax", _arg_samples, ref=_arg_ref(np.argmax), dtypes=DTYPES[:-1], grad=False,
           errors={"bool": RuntimeError}),
    OpInfo("argmin", _arg_samples, ref=_arg_ref(np.argmin), dtypes=DTYPES[:-1], grad=False,
           errors={"bool": RuntimeError}),
    OpInfo("max", _minmax_samples, ref=_minmax_ref("max"), dtypes=DTYPES),
    OpInfo("min", _minmax_samples, ref=_minmax_ref("min"), dtypes=DTYPES),
    OpInfo("logsumexp", _lse_samples, ref=_lse_ref, dtypes=FLOATS + ("int64",)),
    OpInfo("all", _allany_samples, ref=_allany_ref(np.all), dtypes=DTYPES, grad=False),
    OpInfo("any", _allany_samples, ref=_allany_ref(np.any), dtypes=DTYPES, grad=False),
    OpInfo("nansum", _nansum_samples, ref=lambda x, dim=None, keepdim=False: np.nansum(
        x, axis=_axis(dim, x.ndim), keepdims=keepdim, dtype=np.int64 if x.dtype.kind in "biu" else None),
        dtypes=FLOATS + ("int64",)),
    OpInfo("sum_to", _sum_to_samples, ref=_sum_to_ref, method=False,
           fn=lambda m, x, shape: m.sum_to(x, shape) if m.__name__ == "ember" else x.sum_to_size(shape)),
    OpInfo("sum_to_size", _sum_to_samples, ref=_sum_to_ref,
           fn=lambda m, x, shape: x.sum_to_size(shape), method=False),
]
