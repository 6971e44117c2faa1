"""Op-table rows for ember/ops/extra.py: integer gcd/lcm, ldexp/nextafter/frexp, complex/polar, isin, renorm,
vander, combinations, gradient, index_reduce, the *_scatter ops (copies with a view region replaced), the *_copy
ops (view results in new contiguous memory), the directional splits and broadcasting helpers (views).

Samples cover 0-d, empty, broadcast, non-contiguous inputs and negative dims, and torch's errors. Rows whose torch
backward is wrong or broken (vander, polar with a negative abs, as_strided_scatter's input gradient) skip the
``torch_grad`` comparison; their gradients are still checked against finite differences.
"""
import itertools

import numpy as np

from ..opinfo import FLOATS, OpInfo, Sample, arr, noncontig

INTS = ("int64", "int32", "uint8", "int8")
REALS = FLOATS + ("int64",)
_NI = NotImplementedError


def _t(shape, dtype, seed=0, low=-2.0, high=2.0):
    return arr(shape, dtype, low, high, seed)


def _nc(shape, dtype, seed=0, low=-2.0, high=2.0):
    return noncontig(_t(shape, dtype, seed, low, high))


def _i64(values):
    return np.asarray(values, dtype=np.int64)


# ---------------------------------------------------------------- gcd / lcm
def _int_pair_samples(d):
    yield Sample((_t((), d, 1, 0, 30), _t((), d, 2, 0, 30)), name="0d")
    yield Sample((_t((0,), d), _t((0,), d)), name="empty")
    yield Sample((_t((3, 4), d, 3, -12, 30), _t((4,), d, 4, -12, 30)), name="broadcast")
    yield Sample((_nc((3, 4), d, 5, 0, 30), _t((3, 4), d, 6, 0, 30)), name="noncontig")
    yield Sample((_t((5,), d, 7, 0, 30), np.zeros(5, d)), name="zeros")
    yield Sample((_t((3,), d, 8), 2), name="scalar-other", error=TypeError)


# ---------------------------------------------------------------- ldexp / nextafter / frexp
def _ldexp_samples(d):
    e = "int64"
    yield Sample((_t((3, 4), d, 1), _t((3, 4), e, 2, 0, 4)), name="2d")
    yield Sample((_t((), d, 3), _t((4,), e, 4, 0, 4)), name="0d-broadcast")
    yield Sample((_t((0, 2), d), _t((2,), e, 5)), name="empty")
    yield Sample((_nc((3, 4), d, 6), _t((4,), e, 7, 0, 5)), name="noncontig")
    yield Sample((_t((3,), d, 8), _t((3,), "float64", 9)), name="float-exponent")
    yield Sample((_t((3,), d, 10), 2), name="scalar-other", error=TypeError)


def _ldexp_ref(a, b):
    dt = np.result_type(a.dtype, b.dtype)
    dt = dt if dt.kind == "f" else np.dtype(np.float32)
    return (a.astype(np.float64) * np.exp2(b.astype(np.float64))).astype(dt)


def _nextafter_samples(d):
    yield Sample((_t((3, 4), d, 1), _t((4,), d, 2)), name="broadcast")
    yield Sample((_t((), d, 3), _t((), d, 4)), name="0d")
    yield Sample((_t((0,), d), _t((0,), d)), name="empty")
    yield Sample((_nc((3, 4), d, 5), _t((3, 4), d, 6)), name="noncontig")
    if d in FLOATS:
        yield Sample((np.array([0.0, 1.0, -1.0, np.inf], d), np.array([1.0, 1.0, -2.0, 0.0], d)), name="special",
                     grad=False)


def _unary_samples(d, low=-2.0, high=2.0):
    yield Sample((_t((3, 4), d, 1, low, high),), name="2d")
    yield Sample((_t((), d, 2, low, high),), name="0d")
    yield Sample((_t((0, 3), d),), name="empty")
    yield Sample((_nc((3, 4), d, 3, low, high),), name="noncontig")


def _frexp_samples(d):
    yield from _unary_samples(d, -5, 5)
    if d in FLOATS + ("float16",):
        yield Sample((np.array([0.0, np.inf, -np.inf, np.nan, 1e-30, -8.0], d),), name="special", grad=False)


def _frexp_ref(x):
    m, e = np.frexp(x)
    return m, e.astype(np.int32)


# ---------------------------------------------------------------- complex / polar / isin
def _float_pair_samples(d, low=-2.0):
    yield Sample((_t((3, 4), d, 1, low), _t((3, 4), d, 2)), name="2d")
    yield Sample((_t((3, 1), d, 3, low), _t((4,), d, 4)), name="broadcast")
    yield Sample((_t((), d, 5, low), _t((), d, 6)), name="0d")
    yield Sample((_t((0,), d, 0, low), _t((0,), d)), name="empty")
    yield Sample((_nc((3, 4), d, 7, low), _t((3, 4), d, 8)), name="noncontig")
    other = "float64" if d == "float32" else "float32"
    yield Sample((_t((3,), d, 9, low), _t((3,), other, 10)), name="mixed-dtypes", error=RuntimeError)
    yield Sample((_t((3,), d, 11, low), 2.0), name="scalar", error=TypeError)


def _isin_samples(d):
    yield Sample((_t((3, 4), d, 1, 0, 6), _t((5,), d, 2, 0, 6)), name="2d")
    yield Sample((_t((), d, 3, 0, 3), _t((2, 2), d, 4, 0, 3)), name="0d")
    yield Sample((_t((0,), d), _t((3,), d, 5)), name="empty")
    yield Sample((_nc((3, 4), d, 6, 0, 6), _t((2,), d, 7, 0, 6)), name="noncontig")
    yield Sample((_t((3, 4), d, 8, 0, 6), 2), name="scalar-test")
    yield Sample((_t((3, 4), d, 9, 0, 6), _t((3,), d, 10, 0, 6)), {"invert": True}, name="invert")


def _isin_ref(a, b, invert=False):
    return np.isin(a, b, invert=invert)


# ---------------------------------------------------------------- renorm / vander / combinations / gradient
def _renorm_samples(d):
    yield Sample((_t((3, 4), d, 1), 2, 0, 1.5), name="p2-dim0")
    yield Sample((_t((3, 4), d, 2), 1, -1, 1.0), name="p1-neg-dim")
    yield Sample((_t((2, 3, 4), d, 3), 3, 1, 0.8), name="3d")
    yield Sample((_nc((3, 4), d, 4), 2, 1, 0.5), name="noncontig")
    yield Sample((_t((0, 3), d), 2, 0, 1.0), name="empty")
    yield Sample((_t((3, 4), d, 5), 2, 0, 100.0), name="nothing-scaled")
    yield Sample((_t((4,), d, 6), 2, 0, 1.0), name="1d", error=RuntimeError)
    yield Sample((_t((3, 4), d, 7), 0, 0, 1.0), name="p0", error=RuntimeError)
    yield Sample((_t((3, 4), d, 8), 2, 0, -1.0), name="neg-maxnorm", error=RuntimeError)


def _renorm_ref(x, p, dim, maxnorm):
    rest = tuple(i for i in range(x.ndim) if i != dim % x.ndim)
    norm = np.sum(np.abs(x.astype(np.float64)) ** p, axis=rest, keepdims=True) ** (1.0 / p)
    return (x * np.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)).astype(x.dtype)


def _vander_samples(d):
    yield Sample((_t((4,), d, 1),), name="1d")
    yield Sample((_t((4,), d, 2), 3), name="N3")
    yield Sample((_t((4,), d, 3), 5, True), name="increasing")
    yield Sample((_t((0,), d),), name="empty")
    yield Sample((_nc((5,), d, 4),), name="noncontig")
    yield Sample((_t((3,), d, 5), 0), name="N0")
    yield Sample((_t((3, 2), d, 6),), name="2d", error=RuntimeError)
    yield Sample((_t((3,), d, 7), -1), name="negative-N", error=RuntimeError)


def _vander_ref(x, N=None, increasing=False):
    r = np.vander(x, N, increasing)
    return r.astype(np.int64) if x.dtype.kind in "biu" else r


def _combinations_samples(d):
    yield Sample((_t((4,), d, 1),), name="r2")
    yield Sample((_t((4,), d, 2), 3), name="r3")
    yield Sample((_t((3,), d, 3), 2, True), name="with-replacement")
    yield Sample((_t((2,), d, 4), 3), name="r-too-big")
    yield Sample((_nc((4,), d, 5), 2), name="noncontig")
    yield Sample((_t((3, 2), d, 6),), name="2d", error=RuntimeError)


def _combinations_ref(x, r=2, with_replacement=False):
    gen = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(gen(range(x.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return x[idx]


def _gradient_samples(d):
    yield Sample((_t((5,), d, 1),), name="1d")
    yield Sample((_t((3, 4), d, 2),), {"spacing": 2.0}, name="2d-spacing")
    yield Sample((_t((3, 4), d, 3),), {"dim": -1, "edge_order": 2}, name="dim-edge2")
    yield Sample((_t((3, 4), d, 4),), {"spacing": [np.array([0.0, 1.0, 3.0]), np.array([0.0, 0.5, 2.0, 2.5])]},
                 name="coordinates")
    yield Sample((_nc((3, 4), d, 5),), {"dim": 0}, name="noncontig")
    yield Sample((_t((1, 4), d, 6),), name="too-short", error=RuntimeError)


def _gradient_ref(x, spacing=1, dim=None, edge_order=1):
    axes = tuple(range(x.ndim)) if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    h = [spacing] * len(axes) if not isinstance(spacing, (list, tuple)) else list(spacing)
    xf = x.astype(np.float64)
    r = np.gradient(xf, *h, axis=axes, edge_order=edge_order)
    r = [r] if len(axes) == 1 else r
    dt = x.dtype if x.dtype.kind == "f" else np.float32
    return tuple(np.asarray(a).astype(dt) for a in r)


# ---------------------------------------------------------------- index_reduce
def _index_reduce_samples(d):
    for red in ("prod", "mean", "amax", "amin"):
        yield Sample((_t((3, 4), d, 1), 0, _i64([0, 2, 0, 1, 0]), _t((5, 4), d, 2), red), name=red)
        yield Sample((_t((3, 4), d, 3), -1, _i64([3, 3, 0]), _t((3, 3), d, 4), red), {"include_self": False},
                     name=red + "-exclude-self")
    yield Sample((_nc((3, 4), d, 5), 1, _i64([1, 1]), _t((3, 2), d, 6), "mean"), name="noncontig")
    yield Sample((_t((3, 4), d, 7), 0, _i64([0, 3]), _t((2, 4), d, 8), "prod"), name="out-of-range", error=IndexError)
    yield Sample((_t((3, 4), d, 9), 0, _i64([0, 1]), _t((2, 4), d, 10), "sum"), name="bad-reduce",
                 error=RuntimeError)


def _index_reduce_ref(x, dim, idx, src, reduce, include_self=True):
    x = np.moveaxis(x.copy(), dim, 0)
    src = np.moveaxis(src, dim, 0)
    out = x.copy()
    for row in set(idx.tolist()):
        vals = src[idx == row]
        if include_self:
            vals = np.concatenate([x[row:row + 1], vals])
        out[row] = {"prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}[reduce](vals, axis=0)
    return np.moveaxis(out, 0, dim)


# ---------------------------------------------------------------- *_scatter
def _select_scatter_samples(d):
    yield Sample((_t((3, 4), d, 1), _t((4,), d, 2), 0, 1), name="2d")
    yield Sample((_t((2, 3, 4), d, 3), _t((2, 3), d, 4), -1, -2), name="neg")
    yield Sample((_nc((3, 4), d, 5), _t((3,), d, 6), 1, 3), name="noncontig")
    yield Sample((_t((3,), d, 7), _t((), d, 8), 0, 2), name="1d")
    yield Sample((_t((3, 4), d, 9), _t((3,), d, 10), 0, 1), name="bad-src", error=RuntimeError)
    yield Sample((_t((3, 4), d, 11), _t((4,), d, 12), 0, 3), name="out-of-range", error=IndexError)


def _select_scatter_ref(x, src, dim, index):
    out = x.copy()
    out[(slice(None),) * (dim % x.ndim) + (index,)] = src
    return out


def _slice_scatter_samples(d):
    yield Sample((_t((4, 3), d, 1), _t((2, 3), d, 2), 0, 1, 3), name="2d")
    yield Sample((_t((4, 5), d, 3), _t((4, 2), d, 4), -1, 1, None, 2), name="step")
    yield Sample((_t((4, 3), d, 5), _t((4, 3), d, 6)), name="default")
    yield Sample((_nc((4, 3), d, 7), _t((4, 1), d, 8), 1, -1), name="noncontig")
    yield Sample((_t((4, 3), d, 9), _t((0, 3), d), 0, 5, 9), name="empty-slice")
    yield Sample((_t((4, 3), d, 10), _t((2, 3), d, 11), 0, 1), name="bad-src", error=RuntimeError)


def _slice_scatter_ref(x, src, dim=0, start=None, end=None, step=1):
    out = x.copy()
    out[(slice(None),) * (dim % x.ndim) + (slice(start, end, step),)] = src
    return out


def _diagonal_scatter_samples(d):
    yield Sample((_t((3, 3), d, 1), _t((3,), d, 2)), name="2d")
    yield Sample((_t((3, 4), d, 3), _t((2,), d, 4), -1), name="offset")
    yield Sample((_t((2, 3, 3), d, 5), _t((3, 2), d, 6), 0, 0, 2), name="dims")
    yield Sample((_nc((4, 3), d, 7), _t((3,), d, 8), 0, 1, 0), name="noncontig")
    yield Sample((_t((3, 3), d, 9), _t((2,), d, 10)), name="bad-src", error=RuntimeError)


def _diagonal_scatter_ref(x, src, offset=0, dim1=0, dim2=1):
    out = x.copy()
    v = np.diagonal(out, offset, dim1, dim2)
    v.setflags(write=True)
    v[...] = src
    return out


def _as_strided_scatter_samples(d):
    yield Sample((_t((3, 3), d, 1), _t((2, 2), d, 2), (2, 2), (1, 2)), name="2d")
    yield Sample((_t((3, 4), d, 3), _t((3,), d, 4), (3,), (4,), 1), name="offset")
    yield Sample((_t((3, 3), d, 5), _t((2, 3), d, 6), (2, 2), (1, 2)), name="bad-src", error=RuntimeError)
    yield Sample((_t((3, 3), d, 7), _t((2, 2), d, 8), (2, 2), (1, 20)), name="out-of-bounds", error=RuntimeError)


def _as_strided_scatter_ref(x, src, size, stride, offset=0):
    flat = x.copy().reshape(-1)
    pos = offset + sum(np.arange(n).reshape([-1 if j == i else 1 for j in range(len(size))]) * s
                       for i, (n, s) in enumerate(zip(size, stride)))
    flat[np.broadcast_to(pos, size).reshape(-1)] = src.reshape(-1)
    return flat.reshape(x.shape)


# ---------------------------------------------------------------- *_copy
def _copy_row(name, samples, ref, **kw):
    kw.setdefault("dtypes", FLOATS + ("int64", "bool"))
    kw.setdefault("strides", True)
    kw.setdefault("method", False)
    return OpInfo(name, samples, ref=ref, **kw)


def _s(*samples):
    """Samples from (args, name[, error]) entries; callables in args are given the dtype name."""
    def gen(d):
        for args, name, *err in samples:
            yield Sample(tuple(x(d) if callable(x) else x for x in args), name=name, error=err[0] if err else None)
    return gen


def _A(shape, seed=0):
    return lambda d: _t(shape, d, seed)


def _NC(shape, seed=0):
    return lambda d: _nc(shape, d, seed)


def _split_ref(x, size, dim=0):
    n = x.shape[dim]
    return tuple(np.take(x, np.arange(i, min(i + size, n)), axis=dim) for i in range(0, n, size))


def _slice_ref(x, dim=0, start=None, end=None, step=1):
    return x[(slice(None),) * (dim % x.ndim) + (slice(start, end, step),)].copy()


def _narrow_ref(x, dim, start, n):
    s = start % x.shape[dim]
    return np.take(x, np.arange(s, s + n), axis=dim)


COPY_ROWS = [
    _copy_row("view_copy", _s(((_A((3, 4), 1), (4, 3)), "2d"), ((_NC((3, 4), 2), (12,)), "noncontig"),
                              ((_A((), 3), (1, 1)), "0d"), ((_A((3, 4), 4), (5, 3)), "bad", RuntimeError)),
              lambda x, s: x.reshape(s).copy()),
    _copy_row("expand_copy", _s(((_A((3, 1), 1), (2, 3, 4)), "2d"), ((_A((), 2), (2,)), "0d"),
                                ((_A((3, 2), 3), (3, 4)), "bad", RuntimeError)),
              lambda x, s: np.broadcast_to(x, s).copy()),
    _copy_row("permute_copy", _s(((_A((2, 3, 4), 1), (2, 0, 1)), "3d"), ((_NC((3, 4), 2), (1, 0)), "noncontig")),
              lambda x, p: np.transpose(x, p).copy()),
    _copy_row("t_copy", _s(((_A((3, 4), 1),), "2d"), ((_A((4,), 2),), "1d"), ((_A((2, 3, 4), 3),), "3d", RuntimeError)),
              lambda x: x.T.copy()),
    _copy_row("transpose_copy", _s(((_A((2, 3, 4), 1), 0, -1), "3d"), ((_NC((3, 4), 2), 0, 1), "noncontig")),
              lambda x, a, b: np.swapaxes(x, a, b).copy()),
    _copy_row("squeeze_copy", _s(((_A((1, 3, 1), 1),), "all"), ((_A((1, 3, 1), 2), -1), "dim"),
                                 ((_A((1, 3, 1), 3), (0, 2)), "dims")),
              lambda x, dim=None: np.squeeze(x, dim).copy()),
    _copy_row("unsqueeze_copy", _s(((_A((3, 4), 1), 1), "2d"), ((_A((), 2), 0), "0d")),
              lambda x, dim: np.expand_dims(x, dim).copy()),
    _copy_row("select_copy", _s(((_A((3, 4), 1), 1, -1), "2d"), ((_NC((3, 4), 2), 0, 2), "noncontig"),
                                ((_A((3, 4), 3), 0, 5), "out-of-range", IndexError)),
              lambda x, dim, i: np.take(x, i, axis=dim).copy()),
    _copy_row("slice_copy", _s(((_A((5, 4), 1), 0, 1, None, 2), "step"), ((_A((5, 4), 2), -1, -3), "neg"),
                               ((_A((5, 4), 3),), "default"), ((_A((5, 4), 4), 0, 0, 3, 0), "step0", RuntimeError)),
              _slice_ref),
    _copy_row("diagonal_copy", _s(((_A((3, 4), 1),), "2d"), ((_A((3, 4), 2), 1, 1, 0), "offset"),
                                  ((_A((2, 3, 3), 3), 0, -1, -2), "3d")),
              lambda x, o=0, a=0, b=1: np.diagonal(x, o, a, b).copy()),
    _copy_row("unfold_copy", _s(((_A((3, 6), 1), 1, 2, 2), "2d"), ((_A((5,), 2), 0, 3, 1), "1d")), None),
    _copy_row("alias_copy", _s(((_A((3, 4), 1),), "2d"), ((_NC((3, 4), 2),), "noncontig")), lambda x: x.copy()),
    _copy_row("split_copy", _s(((_A((5, 4), 1), 2), "2d"), ((_A((3, 5), 2), 3, -1), "neg")), _split_ref),
    _copy_row("split_with_sizes_copy", _s(((_A((5, 4), 1), [2, 3]), "2d"),
                                          ((_A((5, 4), 2), [1, 2]), "bad", RuntimeError)), None),
    _copy_row("unbind_copy", _s(((_A((3, 4), 1),), "2d"), ((_A((3, 4), 2), 1), "dim1")),
              lambda x, dim=0: tuple(np.moveaxis(x, dim, 0).copy())),
    # as_strided reads the storage layout: a non-contiguous input (another layout) gives other values
    _copy_row("as_strided_copy", _s(((_A((3, 4), 1), (2, 2), (1, 3)), "2d"),
                                    ((_A((3, 4), 2), (3,), (4,), 1), "offset")), None, skip=("noncontig",)),
    _copy_row("narrow_copy", _s(((_A((4, 5), 1), 1, 1, 3), "2d"), ((_NC((4, 3), 2), 0, 2, 2), "noncontig"),
                                ((_A((4, 5), 3), 0, 3, 2), "too-long", RuntimeError)),
              _narrow_ref, method=True),
    _copy_row("detach_copy", _s(((_A((3, 4), 1),), "2d")), lambda x: x.copy(), grad=False),
    _copy_row("view_as_real_copy", _s(((_A((3, 2), 1),), "2d")), lambda x: np.stack([x.real, x.imag], -1),
              dtypes=("complex64", "complex128"), grad=False),
    # torch refuses inputs that require grad here (complex outputs)
    _copy_row("view_as_complex_copy", _s(((_A((3, 2), 1),), "2d"), ((_A((3, 3), 2),), "bad", RuntimeError)),
              lambda x: x.copy(), fn=lambda m, x: m.view_as_real(m.view_as_complex_copy(x)), dtypes=FLOATS,
              skip=("noncontig",), grad=False),
]


# ---------------------------------------------------------------- splits / broadcasting
def _hsplit_samples(d):
    yield Sample((_t((3, 4), d, 1), 2), name="2d")
    yield Sample((_t((6,), d, 2), [1, 4]), name="1d-indices")
    yield Sample((_nc((3, 4), d, 3), 4), name="noncontig")
    yield Sample((_t((3, 4), d, 4), 3), name="indivisible", error=RuntimeError)
    yield Sample((_t((), d, 5), 1), name="0d", error=RuntimeError)


def _vsplit_samples(d):
    yield Sample((_t((4, 3), d, 1), 2), name="2d")
    yield Sample((_t((4, 3), d, 2), [1, -1]), name="indices")
    yield Sample((_t((4,), d, 3), 2), name="1d", error=RuntimeError)


def _dsplit_samples(d):
    yield Sample((_t((2, 3, 4), d, 1), 2), name="3d")
    yield Sample((_t((2, 3, 4), d, 2), [3]), name="indices")
    yield Sample((_t((3, 4), d, 3), 2), name="2d", error=RuntimeError)


def _broadcast_to_samples(d):
    yield Sample((_t((3, 1), d, 1), (2, 3, 4)), name="2d")
    yield Sample((_t((), d, 2), (2, 2)), name="0d")
    yield Sample((_t((3,), d, 3), (2, -1)), name="keep")
    yield Sample((_nc((3, 4), d, 4), (2, 3, 4)), name="noncontig")
    yield Sample((_t((3,), d, 5), (2, 4)), name="bad", error=RuntimeError)


def _broadcast_tensors_samples(d):
    yield Sample((_t((3, 1), d, 1), _t((4,), d, 2)), name="2d")
    yield Sample((_t((), d, 3), _t((2, 3), d, 4), _t((3,), d, 5)), name="three")
    yield Sample((_t((0, 1), d), _t((3,), d, 6)), name="empty")
    yield Sample((_t((3,), d, 7), _t((4,), d, 8)), name="bad", error=RuntimeError)


def _atleast_samples(d):
    yield Sample((_t((), d, 1),), name="0d")
    yield Sample((_t((3,), d, 2),), name="1d")
    yield Sample((_t((3, 4), d, 3),), name="2d")
    yield Sample((_t((2, 3, 4), d, 4),), name="3d")
    yield Sample((_nc((3, 4), d, 5),), name="noncontig")


def _unravel_samples(d):
    yield Sample((_i64([4, 1, 5]), (2, 3)), name="2d")
    yield Sample((_i64(7), (2, 2, 3)), name="0d")
    yield Sample((_i64([[1, 2], [3, 0]]), 6), name="int-shape")
    yield Sample((np.array([1.0]), (2, 3)), name="float", error=TypeError)


# ---------------------------------------------------------------- the rows
OPS = [
    OpInfo("gcd", _int_pair_samples, ref=np.gcd, dtypes=INTS, grad=False, inplace=True,
           errors={"float32": _NI, "bool": _NI}),
    OpInfo("lcm", _int_pair_samples, ref=lambda a, b: np.lcm(a, b).astype(a.dtype), dtypes=("int64", "int32"),
           grad=False, inplace=True, errors={"float64": _NI}),
    OpInfo("ldexp", _ldexp_samples, ref=_ldexp_ref, dtypes=REALS, inplace=True),
    OpInfo("nextafter", _nextafter_samples, ref=np.nextafter, dtypes=FLOATS, inplace=True, errors={"int64": _NI}),
    OpInfo("frexp", _frexp_samples, ref=_frexp_ref, dtypes=FLOATS + ("float16",), errors={"int64": RuntimeError}),
    # complex results compared (and differentiated) as (real, imag) pairs
    OpInfo("complex", _float_pair_samples, ref=lambda a, b: np.stack(np.broadcast_arrays(a, b.astype(a.dtype)), -1),
           fn=lambda m, a, b: m.view_as_real(m.complex(a, b)), dtypes=FLOATS, method=False,
           errors={"int64": RuntimeError}),
    OpInfo("polar", lambda d: _float_pair_samples(d, low=0.1), fn=lambda m, a, b: m.view_as_real(m.polar(a, b)),
           ref=lambda a, b: np.stack(np.broadcast_arrays(a * np.cos(b.astype(a.dtype)), a * np.sin(b.astype(a.dtype))),
                                     -1), dtypes=FLOATS, method=False, errors={"int64": RuntimeError}),
    OpInfo("isin", _isin_samples, ref=_isin_ref, dtypes=("float32", "float64", "int64", "int32", "uint8"), grad=False,
           method=False, errors={"bool": RuntimeError}),
    OpInfo("renorm", _renorm_samples, ref=_renorm_ref, dtypes=FLOATS, inplace=True, atol=1e-5,
           errors={"int64": RuntimeError}),
    OpInfo("vander", _vander_samples, ref=_vander_ref, dtypes=REALS + ("bool",), method=False, skip=("torch_grad",)),
    OpInfo("combinations", _combinations_samples, ref=_combinations_ref, dtypes=REALS, method=False),
    OpInfo("gradient", _gradient_samples, ref=_gradient_ref, dtypes=REALS, method=False, atol=1e-5),
    OpInfo("index_reduce", _index_reduce_samples, ref=_index_reduce_ref, dtypes=FLOATS, inplace=True, atol=1e-5),
    OpInfo("select_scatter", _select_scatter_samples, ref=_select_scatter_ref, dtypes=FLOATS + ("int64", "bool")),
    OpInfo("slice_scatter", _slice_scatter_samples, ref=_slice_scatter_ref, dtypes=FLOATS + ("int64", "bool")),
    OpInfo("diagonal_scatter", _diagonal_scatter_samples, ref=_diagonal_scatter_ref, dtypes=FLOATS + ("int64",)),
    OpInfo("as_strided_scatter", _as_strided_scatter_samples, ref=_as_strided_scatter_ref, dtypes=FLOATS + ("int64",),
           skip=("torch_grad", "noncontig")),
    OpInfo("hsplit", _hsplit_samples, ref=lambda x, s: tuple(np.hsplit(x, s)), dtypes=REALS, view=True, strides=True),
    OpInfo("vsplit", _vsplit_samples, ref=lambda x, s: tuple(np.vsplit(x, s)), dtypes=REALS, view=True, strides=True),
    OpInfo("dsplit", _dsplit_samples, ref=lambda x, s: tuple(np.dsplit(x, s)), dtypes=REALS, view=True, strides=True),
    OpInfo("broadcast_to", _broadcast_to_samples, ref=lambda x, s: np.broadcast_to(x, s if -1 not in s else
                                                                                 (s[0],) + x.shape), dtypes=REALS,
           view=True, strides=True),
    OpInfo("broadcast_tensors", _broadcast_tensors_samples, ref=lambda *a: tuple(np.broadcast_arrays(*a)),
           dtypes=REALS, method=False, strides=True),
    OpInfo("atleast_1d", _atleast_samples, ref=np.atleast_1d, dtypes=REALS, method=False, view=True),
    OpInfo("atleast_2d", _atleast_samples, ref=np.atleast_2d, dtypes=REALS, method=False, view=True),
    OpInfo("atleast_3d", _atleast_samples, ref=np.atleast_3d, dtypes=REALS, method=False, view=True),
    OpInfo("ravel", _atleast_samples, ref=np.ravel, dtypes=REALS),
    OpInfo("unravel_index", _unravel_samples, ref=lambda i, s: np.unravel_index(i, s), dtypes=("int64",), grad=False,
           method=False),
] + COPY_ROWS
