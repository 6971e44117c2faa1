"""Op-table rows for ember/ops/view.py: results must be views (shared storage, torch's strides and
storage offset) with negative dims, 0-d and empty inputs, non-contiguous inputs, and torch's errors."""
import numpy as np

from ..opinfo import DT, FLOATS, OpInfo, Sample, arr, noncontig

DTYPES = FLOATS + ("int64", "bool")


def _t(shape, dtype, seed=0):
    return arr(shape, dtype, -2, 2, seed)


def _nc(shape, dtype, seed=0):
    return noncontig(_t(shape, dtype, seed))


def _row(name, samples, ref=None, **kw):
    kw.setdefault("dtypes", DTYPES)
    kw.setdefault("view", True)
    kw.setdefault("strides", True)
    return OpInfo(name, samples, ref=ref, **kw)


def _m(name):
    """A Tensor-method-only op: called as ``x.<name>(*rest)`` for ember and torch."""
    return lambda m, x, *a, **k: getattr(x, name)(*a, **k)


def _prop(name):
    return lambda m, x: getattr(x, name)


# ---------------------------------------------------------------- samples
def _reshape_samples(d):
    yield Sample((_t((3, 4), d, 1), (4, 3)), name="2d")
    yield Sample((_t((2, 3, 4), d, 2), (-1, 4)), name="infer")
    yield Sample((_t((), d, 3), (1, 1)), name="0d")
    yield Sample((_t((1,), d, 4), ()), name="to-0d")
    yield Sample((_t((0, 3), d), (3, 0)), name="empty")
    yield Sample((_t((0, 3), d), (3, -1, 0)), name="empty-ambiguous2", error=RuntimeError)
    yield Sample((_nc((3, 4), d, 5), (12,)), name="noncontig-copy")
    yield Sample((_nc((3, 4), d, 6), (4, 1, 3)), name="noncontig-view")
    yield Sample((_t((3, 4), d, 7), (5, -1)), name="bad", error=RuntimeError)
    yield Sample((_t((3, 4), d, 8), (-1, -1)), name="two-infer", error=RuntimeError)
    yield Sample((_t((0, 4), d), (-1, 0)), name="empty-ambiguous", error=RuntimeError)


def _view_samples(d):
    yield Sample((_t((3, 4), d, 1), 4, 3), name="2d")
    yield Sample((_t((2, 3, 4), d, 2), (6, -1)), name="tuple")
    yield Sample((_t((), d, 3), -1), name="0d")
    yield Sample((_nc((3, 4), d, 4), 3, 2, 2), name="noncontig-ok")
    yield Sample((_nc((3, 4), d, 5), 12), name="noncontig-bad", error=RuntimeError)
    yield Sample((_t((3, 4), d, 6), 5, 3), name="bad", error=RuntimeError)


def _view_dtype_samples(d):
    yield Sample((_t((3, 4), d, 1), DT("int32" if d != "bool" else "uint8")), name="same-or-narrow")
    yield Sample((_t((2, 4), d, 2), DT("uint8")), name="to-bytes")
    yield Sample((_t((), d, 3), DT("int16") if d == "bool" else DT("uint8")), name="0d", error=RuntimeError)


def _flatten_samples(d):
    yield Sample((_t((2, 3, 4), d, 1),), name="all")
    yield Sample((_t((2, 3, 4), d, 2), 1), name="start1")
    yield Sample((_t((2, 3, 4, 5), d, 3), -3, -2), name="neg")
    yield Sample((_t((), d, 4),), name="0d")
    yield Sample((_nc((3, 4), d, 5),), name="noncontig")
    yield Sample((_t((2, 3), d, 6), 1, 1), name="same-dim")
    yield Sample((_t((2, 3), d, 7), 1, 0), name="bad-order", error=RuntimeError)


def _unflatten_samples(d):
    yield Sample((_t((2, 12), d, 1), 1, (3, 4)), name="2d")
    yield Sample((_t((2, 12), d, 2), -1, (2, -1, 3)), name="infer")
    yield Sample((_t((6, 2), d, 3), 0, (5, -1)), name="bad", error=RuntimeError)


def _permute_samples(d):
    yield Sample((_t((2, 3, 4), d, 1), (2, 0, 1)), name="3d")
    yield Sample((_t((2, 3, 4), d, 2), (-1, -3, 1)), name="neg")
    yield Sample((_t((), d, 3), ()), name="0d")
    yield Sample((_nc((3, 4), d, 4), (1, 0)), name="noncontig")
    yield Sample((_t((2, 3), d, 5), (0, 0)), name="dup", error=RuntimeError)
    yield Sample((_t((2, 3), d, 6), (0,)), name="short", error=RuntimeError)


def _transpose_samples(d):
    yield Sample((_t((2, 3, 4), d, 1), 0, 2), name="3d")
    yield Sample((_t((2, 3, 4), d, 2), -1, -2), name="neg")
    yield Sample((_t((), d, 3), 0, -1), name="0d")
    yield Sample((_nc((3, 4), d, 4), 0, 1), name="noncontig")
    yield Sample((_t((0, 3), d), 0, 1), name="empty")
    yield Sample((_t((2, 3), d, 5), 0, 2), name="bad-dim", error=IndexError)


def _unary_view_samples(d, shapes=((3, 4), (4,), (), (0, 2))):
    for i, s in enumerate(shapes):
        yield Sample((_t(s, d, i),), name=f"{len(s)}d" + ("-empty" if 0 in s else ""))
    yield Sample((_nc((3, 4), d, 9),), name="noncontig")


def _t_samples(d):
    yield from _unary_view_samples(d)
    yield Sample((_t((2, 3, 4), d, 5),), name="3d", error=RuntimeError)


def _mt_samples(d):
    yield Sample((_t((3, 4), d, 1),), name="2d")
    yield Sample((_t((2, 3, 4), d, 2),), name="3d")
    yield Sample((_nc((3, 4), d, 3),), name="noncontig")
    yield Sample((_t((4,), d, 4),), name="1d", error=RuntimeError)
    yield Sample((_t((), d, 5),), name="0d")


def _movedim_samples(d):
    yield Sample((_t((2, 3, 4), d, 1), 0, 2), name="int")
    yield Sample((_t((2, 3, 4), d, 2), (0, -1), (-1, 0)), name="tuple")
    yield Sample((_t((2, 3, 4, 5), d, 3), (1, 2), (3, 0)), name="tuple2")
    yield Sample((_t((2, 3), d, 4), (0, 1), (1,)), name="mismatch", error=RuntimeError)


def _expand_samples(d):
    yield Sample((_t((3, 1), d, 1), 3, 4), name="2d")
    yield Sample((_t((3, 1), d, 2), (2, -1, 4)), name="lead")
    yield Sample((_t((), d, 3), (2, 3)), name="0d")
    yield Sample((_t((1,), d, 4), 0), name="to-empty")
    yield Sample((_t((3, 2), d, 5), 3, 4), name="bad", error=RuntimeError)
    yield Sample((_t((3, 2), d, 6), 2), name="short", error=RuntimeError)


def _squeeze_samples(d):
    yield Sample((_t((1, 3, 1, 4), d, 1),), name="all")
    yield Sample((_t((1, 3, 1, 4), d, 2), 2), name="dim")
    yield Sample((_t((1, 3, 1, 4), d, 3), -4), name="neg")
    yield Sample((_t((1, 3, 1, 4), d, 4), 1), name="not-one")
    yield Sample((_t((1, 3, 1, 4), d, 5), (0, -2)), name="tuple")
    yield Sample((_t((), d, 6),), name="0d")
    yield Sample((_t((), d, 7), 0), name="0d-dim0")
    yield Sample((_t((3, 1), d, 8), 2), name="bad-dim", error=IndexError)


def _unsqueeze_samples(d):
    yield Sample((_t((3, 4), d, 1), 0), name="front")
    yield Sample((_t((3, 4), d, 2), -1), name="back")
    yield Sample((_t((3, 4), d, 3), 1), name="middle")
    yield Sample((_t((), d, 4), 0), name="0d")
    yield Sample((_nc((3, 4), d, 5), -2), name="noncontig")
    yield Sample((_t((3, 4), d, 6), 3), name="bad-dim", error=IndexError)


def _select_samples(d):
    yield Sample((_t((3, 4), d, 1), 0, 1), name="2d")
    yield Sample((_t((2, 3, 4), d, 2), -1, -2), name="neg")
    yield Sample((_nc((3, 4), d, 3), 1, 2), name="noncontig")
    yield Sample((_t((3, 4), d, 4), 0, 3), name="out-of-range", error=IndexError)
    yield Sample((_t((), d, 5), 0, 0), name="0d", error=IndexError)


def _narrow_samples(d):
    yield Sample((_t((4, 5), d, 1), 0, 1, 2), name="2d")
    yield Sample((_t((4, 5), d, 2), -1, -3, 2), name="neg")
    yield Sample((_nc((4, 5), d, 3), 1, 2, 3), name="noncontig")
    yield Sample((_t((4, 5), d, 4), 0, 2, 0), name="empty")
    yield Sample((_t((4, 5), d, 5), 0, 3, 2), name="too-long", error=RuntimeError)


def _diagonal_samples(d):
    yield Sample((_t((3, 4), d, 1),), name="2d")
    yield Sample((_t((3, 4), d, 2), 1), name="offset")
    yield Sample((_t((3, 4), d, 3), -2), name="neg-offset")
    yield Sample((_t((2, 3, 4), d, 4), 0, -1, 0), name="3d")
    yield Sample((_nc((4, 4), d, 5), 1, 1, 0), name="noncontig")
    yield Sample((_t((3, 4), d, 6), 5), name="empty-offset")
    yield Sample((_t((3, 4), d, 7), 0, 1, -1), name="same-dims", error=RuntimeError)


def _as_strided_samples(d):
    yield Sample((_t((3, 4), d, 1), (2, 2), (1, 2)), name="2d")
    yield Sample((_t((3, 4), d, 2), (3,), (4,), 1), name="offset")
    yield Sample((_t((12,), d, 3), (2, 3), (0, 1)), name="broadcast-like", grad=False)
    yield Sample((_t((3, 4), d, 4), (3, 5), (4, 1)), name="out-of-bounds", error=RuntimeError)


def _unfold_samples(d):
    yield Sample((_t((7,), d, 1), 0, 2, 2), name="1d")
    yield Sample((_t((3, 6), d, 2), -1, 3, 1), name="overlap", grad=False)
    yield Sample((_t((), d, 3), 0, 1, 1), name="0d")
    yield Sample((_t((3, 4), d, 4), 1, 5, 1), name="too-big", error=RuntimeError)


def _split_samples(d):
    yield Sample((_t((5, 4), d, 1), 2), name="int")
    yield Sample((_t((5, 4), d, 2), [1, 3, 0], -1), name="sizes")
    yield Sample((_t((5, 4), d, 3), 2, 1), name="dim1")
    yield Sample((_t((0, 4), d), 2), name="empty")
    yield Sample((_t((5, 4), d, 4), [2, 2]), name="bad-sizes", error=RuntimeError)


def _chunk_samples(d):
    yield Sample((_t((5, 4), d, 1), 2), name="uneven")
    yield Sample((_t((6, 4), d, 2), 3, -1), name="dim")
    yield Sample((_t((2, 4), d, 3), 4), name="more-than-size")
    yield Sample((_t((0, 4), d), 2), name="empty")
    yield Sample((_t((5, 4), d, 4), 0), name="zero", error=RuntimeError)


def _tensor_split_samples(d):
    yield Sample((_t((7, 2), d, 1), 3), name="sections")
    yield Sample((_t((7, 2), d, 2), [1, 5]), name="indices")
    yield Sample((_t((2, 7), d, 3), (2, 9), 1), name="indices-past-end")
    yield Sample((_t((7, 2), d, 4), [5, 2]), name="decreasing")


def _unbind_samples(d):
    yield Sample((_t((3, 4), d, 1),), name="2d")
    yield Sample((_t((2, 3, 4), d, 2), -1), name="neg")
    yield Sample((_t((0, 4), d),), name="empty")
    yield Sample((_t((), d, 3),), name="0d", error=IndexError)


def _real_samples(d):
    yield from _unary_view_samples(d)


def _imag_samples(d):
    yield Sample((_t((3, 4), d, 1),), name="real-input", error=RuntimeError)


def _complex_samples(d):
    for s in _unary_view_samples(d):
        yield s


def _as_other(shape_fn):
    def gen(d):
        yield Sample((_t((3, 4), d, 1), _t((4, 3), d, 2)), name="2d")
        yield Sample((_t((3, 1), d, 3), _t((2, 3, 4), d, 4)), name="expand")
    return gen


def _expand_as_samples(d):
    yield Sample((_t((3, 1), d, 1), _t((2, 3, 4), d, 2)), name="3d")
    yield Sample((_t((), d, 3), _t((2, 2), d, 4)), name="0d")


def _view_as_samples(d):
    yield Sample((_t((3, 4), d, 1), _t((2, 6), d, 2)), name="2d")
    yield Sample((_t((3, 4), d, 3), _t((5,), d, 4)), name="bad", error=RuntimeError)


def _inplace_view_samples(name):
    gens = {"squeeze_": _squeeze_samples, "unsqueeze_": _unsqueeze_samples, "transpose_": _transpose_samples,
            "t_": _t_samples, "swapaxes_": _transpose_samples}
    return gens[name]


def _h_samples(d):
    yield Sample((_t((3, 4), d, 1),), name="2d")
    yield Sample((_nc((3, 4), d, 2),), name="noncontig")
    yield Sample((_t((4,), d, 3),), name="1d", error=RuntimeError)
    yield Sample((_t((2, 3, 4), d, 4),), name="3d", error=RuntimeError)
    yield Sample((_t((), d, 5),), name="0d")


def _ref_mt(x):
    return np.swapaxes(x, -1, -2) if x.ndim >= 2 else x


def _ref_reshape(x, *shape):
    if len(shape) == 1 and isinstance(shape[0], tuple):
        shape = shape[0]
    return x.reshape(shape)


def _ref_movedim(x, src, dst):
    return np.moveaxis(x, src, dst)


def _ref_squeeze(x, dim=None):
    if dim is None:
        return np.squeeze(x)
    dims = (dim,) if isinstance(dim, int) else dim
    dims = tuple(d % x.ndim for d in dims if x.ndim and x.shape[d] == 1)
    return np.squeeze(x, axis=dims) if dims else x


def _ref_split(x, size, dim=0):
    n = x.shape[dim]
    if isinstance(size, int):
        bounds = list(range(size, n, size))
    else:
        bounds = list(np.cumsum(size)[:-1])
    return np.split(x, bounds, axis=dim) if n else [x]


def _inplace_view(name):
    def f(m, x, *a):
        r = getattr(x, name)(*a)
        assert r is x
        return r
    return f


OPS = [
    _row("reshape", _reshape_samples, _ref_reshape),
    # (views depend on the input's strides: a non-contiguous input may legitimately fail)
    _row("view", _view_samples, _ref_reshape, fn=_m("view"), skip=("noncontig",)),
    _row("view", _view_dtype_samples, None, fn=_m("view"), variant="dtype", grad=False,
         dtypes=("float32", "int64", "bool"), skip=("noncontig",), view=False),  # torch: not _is_view()
    _row("view_as", _view_as_samples, lambda x, o: x.reshape(o.shape), fn=_m("view_as"), skip=("noncontig",)),
    _row("reshape_as", _view_as_samples, lambda x, o: x.reshape(o.shape), fn=_m("reshape_as")),
    _row("flatten", _flatten_samples, None),
    _row("unflatten", _unflatten_samples, None),
    _row("permute", _permute_samples, lambda x, dims: np.transpose(x, dims)),
    _row("transpose", _transpose_samples, lambda x, a, b: np.swapaxes(x, a, b) if x.ndim else x),
    _row("swapaxes", _transpose_samples, lambda x, a, b: np.swapaxes(x, a, b) if x.ndim else x),
    _row("swapdims", _transpose_samples, lambda x, a, b: np.swapaxes(x, a, b) if x.ndim else x),
    _row("t", _t_samples, lambda x: x.T),
    _row("adjoint", _mt_samples, _ref_mt),
    _row("movedim", _movedim_samples, _ref_movedim),
    _row("moveaxis", _movedim_samples, _ref_movedim),
    _row("expand", _expand_samples, None, fn=_m("expand")),
    _row("expand_as", _expand_as_samples, lambda x, o: np.broadcast_to(x, o.shape), fn=_m("expand_as")),
    _row("squeeze", _squeeze_samples, _ref_squeeze),
    _row("unsqueeze", _unsqueeze_samples, lambda x, d: np.expand_dims(x, d)),
    _row("select", _select_samples, lambda x, d, i: np.take(x, i, axis=d)),
    _row("narrow", _narrow_samples, lambda x, d, s, n: np.take(x, range(s % x.shape[d], s % x.shape[d] + n), axis=d)),
    _row("diagonal", _diagonal_samples, lambda x, o=0, a=0, b=1: np.diagonal(x, o, a, b)),
    _row("as_strided", _as_strided_samples, None, skip=("noncontig",)),
    _row("unfold", _unfold_samples, None, fn=_m("unfold")),
    _row("split", _split_samples, _ref_split, strides=True),
    _row("chunk", _chunk_samples, None),
    _row("tensor_split", _tensor_split_samples, None),
    _row("unbind", _unbind_samples, lambda x, d=0: [np.take(x, i, axis=d) for i in range(x.shape[d])]),
    _row("real", _real_samples, lambda x: x, method=False),
    _row("real", _complex_samples, lambda x: x.real, variant="complex", dtypes=("complex64", "complex128"),
         method=False, grad=False),
    _row("imag", _complex_samples, lambda x: x.imag, variant="complex", dtypes=("complex64", "complex128"),
         method=False, grad=False),
    _row("imag", _imag_samples, None, dtypes=("float32",), method=False),
    _row("T", lambda d: _unary_view_samples(d, ((3, 4), (4,), ())), lambda x: x.T, fn=_prop("T")),
    _row("mT", _mt_samples, _ref_mt, fn=_prop("mT")),
    _row("mH", _mt_samples, _ref_mt, fn=_prop("mH")),
    _row("H", _h_samples, lambda x: x.T, fn=_prop("H")),
]
for _n in ("squeeze_", "unsqueeze_", "transpose_", "t_", "swapaxes_"):
    OPS.append(_row(_n, _inplace_view_samples(_n), None, fn=_inplace_view(_n), view=False, grad=False,
                    method=False))
