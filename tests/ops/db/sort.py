"""Op-table rows for ember/ops/sort.py: sort/argsort/msort, topk, kthvalue, unique(_consecutive),
searchsorted/bucketize, bincount, histc, histogram.

Samples that sort with ``stable=False`` keep ties out of rows longer than 16 (there torch's std::sort
order is not the NumPy reference's stable order; tests/ops/test_sort.py checks those against torch).
"""
import numpy as np

from ..opinfo import ALL, COMPLEX, FLOATS, NUMERIC, OpInfo, Sample, arr, noncontig, rng

INT_TYPES = ("int64", "int32", "int16", "int8", "uint8")


def distinct(shape, dtype, seed=0):
    """Distinct values (a shuffled range), so orders and selections are unique."""
    n = int(np.prod(shape))
    v = rng(seed).permutation(n)
    if dtype == "bool":
        return (v % 2).astype(bool).reshape(shape)
    if dtype in ("float32", "float64", "float16"):
        return ((v - n / 2) * 0.37).astype(dtype).reshape(shape)
    if dtype == "int8":
        v = v - n // 2
    return v.astype(dtype).reshape(shape)


def _stable_argsort(x, axis, descending):
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    return (n - 1) - np.flip(np.argsort(np.flip(x, axis), axis=axis, kind="stable"), axis)


def _sort_ref(x, dim=-1, descending=False, stable=False):
    if x.ndim == 0:
        return x.copy(), np.array(0)
    idx = _stable_argsort(x, dim, descending)
    return np.take_along_axis(x, idx, dim), idx


def _sort_samples(dtype):
    yield Sample((arr((), dtype),), name="0d")
    yield Sample((arr((0,), dtype),), name="empty")
    yield Sample((distinct((7,), dtype, 1),), name="1d")
    yield Sample((distinct((3, 4), dtype, 2), 0), name="2d")
    yield Sample((distinct((3, 4), dtype, 3), -1, True), name="desc")
    yield Sample((distinct((2, 3, 4), dtype, 4),), {"dim": 1, "stable": True}, name="3d-stable")
    yield Sample((noncontig(distinct((3, 4), dtype, 5)), 1), name="noncontig")
    yield Sample((arr((2, 12), dtype, 0, 3, seed=6),), {"descending": True}, name="ties-short", grad=False)
    yield Sample((arr((3, 30), dtype, 0, 4, seed=7),), {"stable": True, "dim": 1}, name="ties-stable", grad=False)
    yield Sample((arr((3, 4), dtype), 2), name="bad-dim", error=IndexError)
    if dtype in FLOATS:
        yield Sample((np.array([3.0, np.nan, -np.inf, 0.5, np.nan, np.inf], dtype),), name="nan", grad=False)


def _argsort_samples(dtype):
    for s in _sort_samples(dtype):
        yield s


def _msort_samples(dtype):
    yield Sample((arr((), dtype),), name="0d")
    yield Sample((distinct((5,), dtype, 1),), name="1d")
    yield Sample((distinct((4, 3), dtype, 2),), name="2d")
    yield Sample((noncontig(distinct((4, 3), dtype, 3)),), name="noncontig")
    yield Sample((arr((0, 2), dtype),), name="empty")


def _topk_ref(x, k, dim=-1, largest=True, sorted=True):
    if x.ndim == 0:
        return x.copy(), np.array(0)
    idx = np.take(_stable_argsort(x, dim, largest), np.arange(k), axis=dim)
    return np.take_along_axis(x, idx, dim), idx


def _topk_samples(dtype):
    yield Sample((arr((), dtype), 1), name="0d")
    yield Sample((arr((0,), dtype), 0), name="empty")
    yield Sample((distinct((8,), dtype, 1), 3), name="1d")
    yield Sample((distinct((3, 5), dtype, 2), 2, 0), name="2d")
    yield Sample((distinct((3, 5), dtype, 3), 2), {"largest": False}, name="smallest")
    yield Sample((distinct((2, 3, 5), dtype, 4), 5, -1), name="k-all")
    yield Sample((noncontig(distinct((4, 5), dtype, 5)), 1, 1, True), name="noncontig")
    yield Sample((distinct((3, 5), dtype, 6), 6), name="k-too-big", error=RuntimeError)


def _topk_unsorted_samples(dtype):
    yield Sample((distinct((4, 9), dtype, 1), 4), {"sorted": False}, name="2d")
    yield Sample((distinct((130,), dtype, 2), 2), {"sorted": False, "largest": False}, name="partial")
    yield Sample((arr((3, 20), dtype, 0, 3, seed=3), 5), {"sorted": False}, name="ties", grad=False)


def _kth_ref(x, k, dim=-1, keepdim=False):
    if x.ndim == 0:
        return x.copy(), np.array(0)
    idx = np.take(_stable_argsort(x, dim, False), [k - 1], axis=dim)
    v = np.take_along_axis(x, idx, dim)
    return (v, idx) if keepdim else (v.squeeze(dim), idx.squeeze(dim))


def _kth_samples(dtype):
    yield Sample((arr((), dtype), 1), name="0d")
    yield Sample((distinct((7,), dtype, 1), 3), name="1d")
    yield Sample((distinct((3, 5), dtype, 2), 2, 0), name="2d")
    yield Sample((distinct((3, 5), dtype, 3), 5, -1, True), name="keepdim")
    yield Sample((noncontig(distinct((4, 5), dtype, 4)), 1, 1), name="noncontig")
    yield Sample((distinct((3, 5), dtype, 5), 0), name="k0", error=RuntimeError)
    yield Sample((arr((0, 3), dtype), 1, 0), name="empty-dim", error=IndexError)


def _unique_ref(x, sorted=True, return_inverse=False, return_counts=False, dim=None):
    if dim is None:
        vals, inv, cnt = np.unique(x, return_inverse=True, return_counts=True)
        inv = inv.reshape(x.shape)
    else:
        vals, inv, cnt = np.unique(x, return_inverse=True, return_counts=True, axis=dim)
        inv = inv.reshape(-1)
    res = (vals,) + ((inv,) if return_inverse else ()) + ((cnt,) if return_counts else ())
    return res[0] if len(res) == 1 else res


def _unique_samples(dtype):
    yield Sample((arr((), dtype, 0, 3),), {"return_inverse": True, "return_counts": True}, name="0d")
    yield Sample((arr((0,), dtype),), {"return_inverse": True}, name="empty")
    yield Sample((arr((9,), dtype, 0, 3, seed=1),), name="1d")
    yield Sample((arr((3, 4), dtype, 0, 3, seed=2),), {"return_inverse": True, "return_counts": True}, name="2d")
    yield Sample((arr((30,), dtype, 0, 5, seed=3), False, False, True), name="counts-unsorted")
    yield Sample((noncontig(arr((3, 4), dtype, 0, 3, seed=4)), True, True), name="noncontig")
    rows = arr((3, 2), dtype, 0, 2, seed=5)
    yield Sample((np.concatenate([rows, rows[::-1], rows[:1]]),), {"dim": 0, "return_inverse": True,
                                                                    "return_counts": True}, name="dim0")
    yield Sample((arr((2, 6), dtype, 0, 1, seed=6),), {"dim": -1, "return_counts": True}, name="dim-neg")
    yield Sample((arr((3, 4), dtype), ), {"dim": 2}, name="bad-dim", error=IndexError)


def _consec_ref(x, return_inverse=False, return_counts=False, dim=None):
    if dim is None:
        flat = x.reshape(-1)
        flag = np.concatenate([[True], flat[1:] != flat[:-1]]) if flat.size else np.zeros(0, bool)
        vals = flat[flag]
        inv = (np.cumsum(flag) - 1).reshape(x.shape)
    else:
        m = np.moveaxis(x, dim, 0)
        r = m.reshape(m.shape[0], -1)
        flag = np.concatenate([[True], np.any(r[1:] != r[:-1], axis=1)])
        vals = np.moveaxis(m[flag], 0, dim)
        inv = np.cumsum(flag) - 1
    cnt = np.diff(np.append(np.flatnonzero(flag), flag.size))
    res = (vals,) + ((inv,) if return_inverse else ()) + ((cnt,) if return_counts else ())
    return res[0] if len(res) == 1 else res


def _consec_samples(dtype):
    yield Sample((arr((), dtype, 0, 3),), {"return_inverse": True, "return_counts": True}, name="0d")
    yield Sample((arr((0,), dtype),), {"return_counts": True}, name="empty")
    yield Sample((np.repeat(arr((5,), dtype, 0, 3, seed=1), 2),), name="1d")
    yield Sample((np.repeat(arr((2, 3), dtype, 0, 3, seed=2), 2, axis=1), True, True), name="2d")
    yield Sample((np.repeat(arr((2, 3), dtype, 0, 2, seed=3), 2, axis=0),), {"dim": 0, "return_inverse": True},
                 name="dim0")
    yield Sample((arr((3, 4), dtype), ), {"dim": -3}, name="bad-dim", error=IndexError)


def _search_ref(seq, values, *, out_int32=False, right=False, side=None, sorter=None):
    side = side or ("right" if right else "left")
    if seq.ndim == 1:
        r = np.searchsorted(seq, values, side=side, sorter=sorter)
    else:
        s2, v2 = seq.reshape(-1, seq.shape[-1]), np.asarray(values).reshape(-1, np.shape(values)[-1])
        so = None if sorter is None else sorter.reshape(s2.shape)
        r = np.stack([np.searchsorted(s2[i], v2[i], side=side, sorter=None if so is None else so[i])
                      for i in range(s2.shape[0])]).reshape(np.shape(values))
    return np.asarray(r).astype(np.int32 if out_int32 else np.int64)


def _search_samples(dtype):
    seq = np.sort(arr((6,), dtype, 0, 9, seed=1))
    yield Sample((seq, arr((3, 4), dtype, 0, 10, seed=2)), name="2d")
    yield Sample((seq, arr((3, 4), dtype, 0, 10, seed=2)), {"right": True}, name="right")
    yield Sample((seq, arr((5,), dtype, 0, 10, seed=3)), {"side": "right", "out_int32": True}, name="side-int32")
    yield Sample((seq, arr((), dtype, 0, 10, seed=4)), name="0d")
    yield Sample((seq, 3), name="scalar")
    yield Sample((seq, arr((0,), dtype)), name="empty")
    nd = np.sort(arr((2, 5), dtype, 0, 9, seed=5), axis=1)
    yield Sample((nd, arr((2, 3), dtype, 0, 10, seed=6)), name="nd")
    un = arr((6,), dtype, 0, 9, seed=7)
    yield Sample((un, arr((4,), dtype, 0, 10, seed=8)), {"sorter": np.argsort(un, kind="stable")}, name="sorter")
    yield Sample((noncontig(np.sort(arr((3, 4), dtype, 0, 9, seed=9), axis=1)),
                  noncontig(arr((3, 4), dtype, 0, 9, seed=10))), name="noncontig")
    yield Sample((nd, arr((3, 3), dtype, 0, 10, seed=6)), name="bad-nd", error=RuntimeError)


def _bucketize_ref(values, boundaries, *, out_int32=False, right=False):
    return _search_ref(boundaries, values, out_int32=out_int32, right=right)


def _bucketize_samples(dtype):
    b = np.sort(arr((5,), dtype, 0, 9, seed=1))
    yield Sample((arr((3, 4), dtype, 0, 10, seed=2), b), name="2d")
    yield Sample((arr((6,), dtype, 0, 10, seed=3), b), {"right": True, "out_int32": True}, name="right")
    yield Sample((arr((), dtype, 0, 10, seed=4), b), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, 0, 10, seed=5)), b), name="noncontig")
    yield Sample((arr((3,), dtype, 0, 10, seed=6), b.reshape(1, 5)), name="2d-boundaries", error=RuntimeError)


def _bincount_ref(x, weights=None, minlength=0):
    return np.bincount(x, weights=weights, minlength=minlength)


def _bincount_samples(dtype):
    yield Sample((arr((8,), dtype, 0, 5, seed=1),), name="1d")
    yield Sample((arr((8,), dtype, 0, 5, seed=2), None, 9), name="minlength")
    yield Sample((arr((0,), dtype),), name="empty")
    yield Sample((arr((6,), dtype, 0, 3, seed=3), arr((6,), "float32", seed=4)), name="weights")
    yield Sample((arr((2, 3), dtype, 0, 3, seed=7),), name="2d", error=RuntimeError)


def _histc_ref(x, bins=100, min=0, max=0):
    lo, hi = float(min), float(max)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    return np.histogram(x.reshape(-1).astype(np.float64), bins, range=(lo, hi))[0].astype(x.dtype)


def _histc_samples(dtype):
    yield Sample((arr((20,), dtype, seed=1),), name="1d")
    yield Sample((arr((4, 5), dtype, seed=2), 7), name="2d")
    yield Sample((arr((4, 5), dtype, seed=3), 5, -1.0, 1.0), name="range")
    yield Sample((np.full((3,), 2.5, dtype), 4), name="constant")
    yield Sample((arr((), dtype, seed=4), 3), name="0d")
    yield Sample((arr((0,), dtype), 3), name="empty")
    yield Sample((noncontig(arr((4, 5), dtype, seed=5)), 6, -3.0, 3.0), name="noncontig")
    yield Sample((arr((4,), dtype, seed=6), 0), name="bins0", error=RuntimeError)


def _histogram_ref(x, bins=100, *, range=None, weight=None, density=False):
    if not isinstance(bins, int):
        bins = bins.astype(np.float64)
    h, e = np.histogram(x.reshape(-1).astype(np.float64), bins, range=range,
                        weights=None if weight is None else weight.reshape(-1), density=density)
    return h.astype(x.dtype), e.astype(x.dtype)


def _histogram_samples(dtype):
    yield Sample((arr((20,), dtype, seed=1),), name="default")
    yield Sample((arr((4, 5), dtype, seed=2), 6), name="2d")
    yield Sample((arr((4, 5), dtype, seed=3), 5), {"range": (-1.0, 1.0)}, name="range")
    yield Sample((arr((10,), dtype, seed=4), 4), {"weight": arr((10,), dtype, 0, 2, seed=5), "density": True},
                 name="weight-density")
    yield Sample((arr((10,), dtype, seed=6), np.array([-2.0, -0.5, 0.0, 1.5, 2.0], dtype)), name="edges")
    yield Sample((noncontig(arr((4, 5), dtype, seed=7)), 3), name="noncontig")
    yield Sample((arr((4,), dtype, seed=8), 0), name="bins0", error=RuntimeError)


def _no_bool_int(exc):
    return {d: exc for d in INT_TYPES + ("bool",)}


OPS = [
    OpInfo("sort", _sort_samples, ref=_sort_ref, dtypes=ALL, errors={"complex64": RuntimeError}),
    OpInfo("argsort", _argsort_samples, ref=lambda *a, **k: _sort_ref(*a, **k)[1], dtypes=ALL, grad=False,
           errors={"complex64": RuntimeError}),
    OpInfo("msort", _msort_samples, ref=lambda x: _sort_ref(x, 0)[0], dtypes=ALL),
    OpInfo("topk", _topk_samples, ref=_topk_ref, dtypes=NUMERIC, errors={"bool": RuntimeError}),
    OpInfo("topk", _topk_unsorted_samples, variant="unsorted", dtypes=NUMERIC),
    OpInfo("kthvalue", _kth_samples, ref=_kth_ref, dtypes=NUMERIC, errors={"bool": NotImplementedError}),
    OpInfo("unique", _unique_samples, ref=_unique_ref, dtypes=ALL, grad=False, skip=("meta",),
           errors={c: NotImplementedError for c in COMPLEX}),
    OpInfo("unique_consecutive", _consec_samples, ref=_consec_ref, dtypes=ALL, grad=False, skip=("meta",),
           errors={"complex64": NotImplementedError}),
    OpInfo("searchsorted", _search_samples, ref=_search_ref, dtypes=NUMERIC, grad=False, method=False,
           errors={"bool": NotImplementedError}),
    OpInfo("bucketize", _bucketize_samples, ref=_bucketize_ref, dtypes=NUMERIC, grad=False, method=False,
           errors={"bool": NotImplementedError}),
    OpInfo("bincount", _bincount_samples, ref=_bincount_ref, dtypes=INT_TYPES, grad=False, skip=("meta",),
           errors={"float32": NotImplementedError, "bool": NotImplementedError}),
    OpInfo("histc", _histc_samples, ref=_histc_ref, dtypes=FLOATS, grad=False,
           errors=_no_bool_int(NotImplementedError)),
    OpInfo("histogram", _histogram_samples, ref=_histogram_ref, dtypes=FLOATS, grad=False, skip=("meta",),
           errors={"int64": NotImplementedError}),
]
