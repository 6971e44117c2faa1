"""Op-table rows for ember/ops/scan.py (scans and the remaining reductions)."""
import numpy as np

from ..opinfo import FLOATS, OpInfo, Sample, arr, noncontig

_FI = FLOATS + ("int64", "int32")


def _distinct(shape, dtype, seed=0):
    """Values without ties (selections like median/cummax are then well defined and differentiable)."""
    r = np.random.default_rng(seed)
    n = int(np.prod(shape))
    v = r.permutation(n).reshape(shape) - n // 2
    return (v * 0.5).astype(dtype) if dtype in FLOATS else v.astype(dtype)


# ---------------------------------------------------------------- cumsum / cumprod / cummax / logcumsumexp
def _cum_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), 1), name="dim1")
    yield Sample((arr((2, 3, 4), dtype, seed=2), -2), name="dim-neg")
    yield Sample((arr((), dtype, seed=3), 0), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=4)), 0), name="noncontig")
    yield Sample((arr((0, 3), dtype), 0), name="empty")
    yield Sample((arr((3, 4), dtype, seed=5), 1), {"dtype": None}, name="dtype-none")
    yield Sample((arr((3, 4), dtype, seed=6), 2), name="bad-dim", error=IndexError)


def _cumprod_samples(dtype):
    yield from _cum_samples(dtype)
    z = arr((3, 4), dtype, 1, 2, seed=7)
    z[0, 1] = z[1, 0] = z[1, 2] = z[2, 3] = 0
    yield Sample((z, 1), name="zeros")
    yield Sample((z, 0), name="zeros-dim0")


def _np_cum(fn):
    def ref(x, dim, dtype=None):
        if x.ndim == 0:
            return x.astype(np.int64) if x.dtype.kind in "biu" else x.copy()
        out = np.int64 if x.dtype.kind in "biu" else x.dtype
        return fn(x, axis=dim, dtype=out)
    return ref


def _cummax_samples(dtype):
    yield Sample((_distinct((3, 4), dtype, 1), 1), name="dim1")
    yield Sample((_distinct((2, 3, 4), dtype, 2), 0), name="dim0")
    yield Sample((arr((), dtype, seed=3), 0), name="0d")
    yield Sample((noncontig(_distinct((3, 4), dtype, 4)), -1), name="noncontig")
    yield Sample((arr((0, 2), dtype), 0), name="empty")
    if dtype in FLOATS:
        yield Sample((np.array([1.0, 3, np.nan, 5, np.nan, 0], dtype), 0), name="nan", grad=False)
    else:
        yield Sample((np.array([1, 3, 3, 2, 3, 0], dtype), 0), name="ties")


def _cumext_ref(which):
    def ref(x, dim):
        if x.ndim == 0:
            return x.copy(), np.array(0)
        acc = np.maximum if which == "max" else np.minimum
        v = acc.accumulate(x, axis=dim)
        chosen = (x == v) | (np.isnan(x) if x.dtype.kind == "f" else False)
        shape = [1] * x.ndim
        shape[dim] = x.shape[dim]
        cand = np.where(chosen, np.arange(x.shape[dim]).reshape(shape), 0)
        return v, np.maximum.accumulate(cand, axis=dim)
    return ref


def _lcse_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), 1), name="dim1")
    yield Sample((arr((2, 3, 4), dtype, -50, 50, seed=2), 0), name="dim0-wide")
    yield Sample((arr((), dtype, seed=3), 0), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=4)), 0), name="noncontig")
    yield Sample((arr((0, 2), dtype), 0), name="empty")
    if dtype in FLOATS:
        yield Sample((np.array([-np.inf, -np.inf, 1.0, np.inf, 2.0], dtype), 0), name="inf", grad=False)


# ---------------------------------------------------------------- diff
def _diff_samples(dtype):
    x = arr((3, 4), dtype, seed=1)
    yield Sample((x,), name="default")
    yield Sample((x, 2, 0), name="n2-dim0")
    yield Sample((x, 5), name="n-large")
    yield Sample((x, 0), name="n0")
    yield Sample((x, 1, -1, arr((3, 2), dtype, seed=2), arr((3, 1), dtype, seed=3)), name="prepend-append")
    yield Sample((noncontig(arr((3, 4), dtype, seed=4)),), name="noncontig")
    yield Sample((arr((0,), dtype),), name="empty")
    yield Sample((arr((), dtype),), name="0d", error=RuntimeError)
    yield Sample((x, 1, -1, arr((2, 2), dtype)), name="bad-prepend", error=RuntimeError)


def _diff_ref(x, n=1, dim=-1, prepend=None, append=None):
    kw = {}
    if prepend is not None:
        kw["prepend"] = prepend
    if append is not None:
        kw["append"] = append
    return np.diff(x, n=n, axis=dim, **kw)


# ---------------------------------------------------------------- median / nanmedian / mode
def _median_samples(dtype):
    yield Sample((_distinct((3, 5), dtype, 1),), name="all-odd")
    yield Sample((_distinct((2, 4), dtype, 2),), name="all-even")
    yield Sample((_distinct((3, 4), dtype, 3), 1), name="dim1")
    yield Sample((_distinct((2, 3, 4), dtype, 4), 0, True), name="dim0-keepdim")
    yield Sample((arr((), dtype, seed=5), 0), name="0d-dim")
    yield Sample((noncontig(_distinct((3, 4), dtype, 6)), -1), name="noncontig")
    yield Sample((arr((0, 3), dtype), 1), name="empty-other-dim")
    yield Sample((arr((0, 3), dtype), 0), name="empty-dim", error=IndexError)
    if dtype in FLOATS:
        v = np.array([[1.0, np.nan, 2, 4], [3, 1, 2, 0.5]], dtype)
        yield Sample((v, 1), name="nan-dim", grad=False)
        yield Sample((v,), name="nan-all", grad=False)


def _median_ref(ignore_nan):
    def ref(x, dim=None, keepdim=False):
        if dim is None:
            f = np.sort(x.reshape(-1))
            if x.dtype.kind == "f":
                nn = int(np.isnan(f).sum())
                if nn and not ignore_nan:
                    return np.array(np.nan, x.dtype)
                return f[max(f.size - nn - 1, 0) // 2]
            return f[(f.size - 1) // 2]
        if x.ndim == 0:
            return x.copy(), np.array(0)
        dim = dim % x.ndim
        order = np.argsort(x, axis=dim, kind="stable")
        n = x.shape[dim]
        nn = np.isnan(x).sum(axis=dim, keepdims=True) if x.dtype.kind == "f" else np.zeros(1, int)
        if ignore_nan:
            pos = np.maximum(n - nn - 1, 0) // 2
        else:
            pos = np.where(nn > 0, n - nn, (n - 1) // 2)
        pos = np.broadcast_to(pos, x.shape[:dim] + (1,) + x.shape[dim + 1:])
        idx = np.take_along_axis(order, pos, axis=dim)
        vals = np.take_along_axis(x, idx, axis=dim)
        if not keepdim:
            vals, idx = vals.squeeze(dim), idx.squeeze(dim)
        return vals, idx
    return ref


def _mode_samples(dtype):
    r = np.random.default_rng(1)
    yield Sample((r.integers(0, 4, (3, 7)).astype(dtype),), name="default")
    yield Sample((r.integers(0, 3, (2, 5, 3)).astype(dtype), 1, True), name="dim1-keepdim")
    yield Sample((arr((), dtype, seed=2),), name="0d")
    yield Sample((noncontig(r.integers(0, 3, (4, 5)).astype(dtype)), 0), name="noncontig")
    yield Sample((arr((2, 0), dtype),), name="empty-dim", error=IndexError)


def _mode_ref(x, dim=-1, keepdim=False):
    if x.ndim == 0:
        return x.copy(), np.array(0)
    xm = np.moveaxis(x, dim, -1)
    vals = np.empty(xm.shape[:-1], x.dtype)
    idx = np.empty(xm.shape[:-1], np.int64)
    for i in np.ndindex(xm.shape[:-1]):
        row = xm[i]
        u, c = np.unique(row, return_counts=True)
        v = u[np.argmax(c)]
        vals[i], idx[i] = v, np.nonzero(row == v)[0][-1]
    d = dim % x.ndim
    if keepdim:
        vals, idx = np.expand_dims(vals, d), np.expand_dims(idx, d)
    return vals, idx


# ---------------------------------------------------------------- norm, count_nonzero, aminmax, nanmean
def _norm_call(m, *args, **kw):
    # ember.norm may be rebound by another family; this row tests scan.norm itself
    if m.__name__ == "ember":
        from ember.ops.scan import norm
        return norm(*args, **kw)
    return m.norm(*args, **kw)


def _norm_samples(dtype):
    x = arr((3, 4), dtype, seed=1)
    for p in ("fro", 2, 1, 3, 0.5, -1, float("inf"), float("-inf"), 0):
        yield Sample((x, p), name=f"p{p}")
    yield Sample((x, 2, 1, True), name="dim-keepdim")
    yield Sample((arr((2, 3, 4), dtype, seed=2), 1, (0, 2)), name="tuple-dim")
    yield Sample((arr((2, 3, 4), dtype, seed=3), "nuc", (2, 0)), name="nuc")
    yield Sample((x, "nuc"), name="nuc-2d")
    yield Sample((arr((), dtype, seed=4),), name="0d")
    yield Sample((arr((0,), dtype), 2), name="empty")
    yield Sample((arr((0,), dtype), float("inf")), name="empty-inf", error=RuntimeError)
    yield Sample((arr((2, 3, 4), dtype, seed=5), "nuc"), name="nuc-3d", error=RuntimeError)


def _norm_ref(x, p="fro", dim=None, keepdim=False):
    if p == "nuc":
        d = (0, 1) if dim is None else dim
        m = np.moveaxis(x, d, (-2, -1))
        r = np.linalg.svd(m, compute_uv=False).sum(-1)
        if keepdim:
            for a in sorted(v % x.ndim for v in d):
                r = np.expand_dims(r, a)
        return r
    if p == "fro":
        p = 2
    a = np.abs(x)
    ax = None if dim is None else (dim if isinstance(dim, tuple) else (dim,))
    if p == 0:
        return np.sum(a != 0, axis=ax, keepdims=keepdim).astype(x.dtype)
    if p == float("inf"):
        return np.max(a, axis=ax, keepdims=keepdim)
    if p == float("-inf"):
        return np.min(a, axis=ax, keepdims=keepdim)
    with np.errstate(divide="ignore"):
        return np.sum(a ** p, axis=ax, keepdims=keepdim) ** (1 / p)


def _cnz_samples(dtype):
    r = np.random.default_rng(1)
    x = (r.integers(0, 3, (3, 4)) * (arr((3, 4), dtype, 1, 2, seed=1) if dtype != "bool" else 1)).astype(dtype)
    yield Sample((x,), name="all")
    yield Sample((x, 0), name="dim0")
    yield Sample((x, (0, 1)), name="tuple")
    yield Sample((arr((), dtype, seed=2), 0), name="0d-dim")
    yield Sample((arr((0, 3), dtype), 1), name="empty")
    yield Sample((x, (1, 1)), name="dup-dim", error=RuntimeError)


def _aminmax_samples(dtype):
    yield Sample((_distinct((3, 4), dtype, 1),), name="all")
    yield Sample((_distinct((3, 4), dtype, 2),), {"dim": 1}, name="dim1")
    yield Sample((_distinct((2, 3, 4), dtype, 3),), {"dim": -1, "keepdim": True}, name="keepdim")
    yield Sample((arr((), dtype, seed=4),), {"dim": 0}, name="0d")
    yield Sample((arr((0, 3), dtype),), {"dim": 1}, name="empty-other-dim")
    yield Sample((arr((0, 3), dtype),), name="empty", error=RuntimeError)


def _aminmax_ref(x, dim=None, keepdim=False):
    ax = None if dim is None or x.ndim == 0 else dim
    return np.min(x, axis=ax, keepdims=keepdim), np.max(x, axis=ax, keepdims=keepdim)


def _nanmean_samples(dtype):
    x = arr((3, 4), dtype, seed=1)
    x[0, 1] = x[2, 0] = x[2, 3] = np.nan
    yield Sample((x,), name="all")
    yield Sample((x, 1), name="dim1")
    yield Sample((x, (0, 1), True), name="tuple-keepdim")
    yield Sample((noncontig(x), 0), name="noncontig")
    yield Sample((arr((), dtype, seed=2),), name="0d")


def _nanmean_ref(x, dim=None, keepdim=False):
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(np.nanmean(x, axis=dim, keepdims=keepdim)).astype(x.dtype)


# ---------------------------------------------------------------- quantile / nanquantile
def _quantile_samples(interp):
    def gen(dtype):
        x = _distinct((3, 5), dtype, 1)
        kw = {"interpolation": interp}
        yield Sample((x, 0.3), dict(kw), name="all")
        yield Sample((x, np.array([0.1, 0.3, 0.6, 0.95], dtype), 1), dict(kw), name="q-tensor-dim1")
        yield Sample((x, np.array([0.0, 1.0], dtype), 0), dict(kw), name="q-ends", grad=False)
        yield Sample((_distinct((2, 3, 4), dtype, 2), np.array([0.3, 0.9], dtype), 0, True), dict(kw),
                     name="keepdim")
        yield Sample((x, 0.7, None, True), dict(kw), name="all-keepdim")
        yield Sample((arr((), dtype, seed=3), 0.5), dict(kw), name="0d")
        yield Sample((x, 1.5), dict(kw), name="bad-q", error=RuntimeError)
    return gen


def _nanquantile_samples(dtype):
    x = _distinct((3, 5), dtype, 1)
    x[0, 1] = x[1, 3] = x[1, 4] = np.nan
    yield Sample((x, 0.3), name="all")
    yield Sample((x, np.array([0.1, 0.45, 0.8], dtype), 1), name="dim1")
    yield Sample((x, 0.5, 0, True), {"interpolation": "lower"}, name="dim0-lower")


def _quantile_ref(ignore_nan):
    def ref(x, q, dim=None, keepdim=False, interpolation="linear"):
        f = np.nanquantile if ignore_nan else np.quantile
        q = q.astype(np.float64) if isinstance(q, np.ndarray) else q
        with np.errstate(all="ignore"):
            r = f(x.astype(np.float64), q, axis=dim, keepdims=keepdim, method=interpolation)
        return np.asarray(r).astype(x.dtype)
    return ref


# ---------------------------------------------------------------- cov / corrcoef / trapezoid
def _cov_samples(dtype):
    x = arr((3, 5), dtype, seed=1)
    yield Sample((x,), name="2d")
    yield Sample((x,), {"correction": 0}, name="correction0")
    yield Sample((arr((6,), dtype, seed=2),), name="1d")
    yield Sample((x,), {"fweights": np.array([1, 2, 1, 3, 1])}, name="fweights")
    fdt = dtype if dtype in FLOATS else "float32"
    yield Sample((x,), {"aweights": np.array([1.0, 0.5, 1.0, 3.0, 2.0], fdt)}, name="aweights")
    yield Sample((x,), {"fweights": np.array([1, 2, 1, 3, 1]), "aweights": np.array([1.0, 0.5, 1, 3, 2], fdt)},
                 name="both-weights")
    yield Sample((x,), {"fweights": np.array([1, -2, 1, 3, 1])}, name="negative-fweights", error=RuntimeError)
    yield Sample((arr((2, 2, 2), dtype),), name="3d", error=RuntimeError)


def _cov_ref(x, correction=1, fweights=None, aweights=None):
    r = np.cov(x.astype(np.float64), ddof=correction, fweights=fweights,
               aweights=None if aweights is None else aweights.astype(np.float64))
    return np.asarray(r).astype(x.dtype if x.dtype.kind == "f" else np.float32)


def _corrcoef_samples(dtype):
    yield Sample((arr((3, 5), dtype, seed=1),), name="2d")
    yield Sample((arr((4,), dtype, seed=2),), name="1d")
    yield Sample((noncontig(arr((4, 4), dtype, seed=3)),), name="noncontig")


def _corrcoef_ref(x):
    r = np.corrcoef(x.astype(np.float64))
    return np.clip(np.asarray(r), -1, 1).astype(x.dtype if x.dtype.kind == "f" else np.float32)


def _trap_samples(dtype):
    y = arr((3, 4), dtype, seed=1)
    yield Sample((y,), name="default")
    yield Sample((y,), {"dx": 0.5}, name="dx")
    yield Sample((y,), {"dim": 0}, name="dim0")
    yield Sample((y, np.array([0.0, 1.0, 3.0, 3.5])), name="x-1d")
    yield Sample((y, np.sort(arr((3, 4), "float64", 0, 5, seed=2), axis=1)), name="x-2d")
    yield Sample((arr((3, 0), dtype),), name="empty")
    yield Sample((y, np.array([0.0, 1.0])), name="bad-x", error=RuntimeError)


def _trap_ref(y, x=None, dx=None, dim=-1):
    y = y.astype(np.float64)
    if x is not None:
        return np.trapezoid(y, x, axis=dim)
    return np.trapezoid(y, dx=1.0 if dx is None else dx, axis=dim)


def _ctrap_ref(y, x=None, dx=None, dim=-1):
    y = np.moveaxis(y.astype(np.float64), dim, -1)
    if x is None:
        d = np.full(max(y.shape[-1] - 1, 0), 1.0 if dx is None else dx)
    else:
        x = np.moveaxis(x, dim, -1) if x.ndim > 1 else x
        d = np.diff(x, axis=-1)
    r = np.cumsum(d * (y[..., 1:] + y[..., :-1]) / 2, axis=-1)
    return np.moveaxis(r, -1, dim)


_CMP = dict(rtol=1e-6, atol=1e-7)

OPS = [
    OpInfo("cumsum", _cum_samples, ref=_np_cum(np.cumsum), dtypes=_FI + ("bool",), inplace=False),
    OpInfo("cumprod", _cumprod_samples, ref=_np_cum(np.cumprod), dtypes=_FI, inplace=False),
    OpInfo("cummax", _cummax_samples, ref=_cumext_ref("max"), dtypes=_FI),
    OpInfo("cummin", _cummax_samples, ref=_cumext_ref("min"), dtypes=_FI),
    OpInfo("logcumsumexp", _lcse_samples, ref=lambda x, d: np.logaddexp.accumulate(x, axis=d) if x.ndim else x,
           dtypes=FLOATS, errors={"int64": NotImplementedError}),
    OpInfo("diff", _diff_samples, ref=_diff_ref, dtypes=_FI + ("bool",)),
    OpInfo("median", _median_samples, ref=_median_ref(False), dtypes=_FI),
    OpInfo("nanmedian", _median_samples, ref=_median_ref(True), dtypes=_FI),
    OpInfo("mode", _mode_samples, ref=_mode_ref, dtypes=_FI + ("bool",), grad=False),
    OpInfo("norm", _norm_samples, ref=_norm_ref, dtypes=FLOATS, fn=_norm_call, method=False, grad_rtol=1e-4),
    OpInfo("count_nonzero", _cnz_samples, ref=lambda x, dim=None: np.asarray(
        np.count_nonzero(x, axis=None if x.ndim == 0 else dim)), dtypes=_FI + ("bool",), grad=False),
    OpInfo("aminmax", _aminmax_samples, ref=_aminmax_ref, dtypes=_FI + ("bool",)),
    OpInfo("nanmean", _nanmean_samples, ref=_nanmean_ref, dtypes=FLOATS),
    *[OpInfo("quantile", _quantile_samples(m), ref=_quantile_ref(False) if m != "nearest" else None,
             dtypes=FLOATS, variant=m) for m in ("linear", "lower", "higher", "midpoint", "nearest")],
    OpInfo("nanquantile", _nanquantile_samples, ref=_quantile_ref(True), dtypes=FLOATS),
    OpInfo("cov", _cov_samples, ref=_cov_ref, dtypes=FLOATS + ("int64",), **_CMP),
    OpInfo("corrcoef", _corrcoef_samples, ref=_corrcoef_ref, dtypes=FLOATS + ("int64",), **_CMP),
    OpInfo("trapezoid", _trap_samples, ref=_trap_ref, dtypes=_FI, method=False),
    OpInfo("cumulative_trapezoid", _trap_samples, ref=_ctrap_ref, dtypes=_FI, method=False),
]
