"""Op-table rows for ember/ops/creation.py: factories (dtype inference from Python data, dtype= and
requires_grad= keywords, size arguments as varargs / tuple / list, empty sizes, torch's errors),
the *_like and new_* families, and the copy/cast methods (clone, contiguous, to, type, float, ...)."""
import numpy as np

from ..opinfo import DT, FLOATS, OpInfo, Sample, arr, noncontig, unary_samples

DTYPES = FLOATS + ("int64", "int32", "uint8", "bool")


def _m(name):
    return lambda m, x, *a, **k: getattr(x, name)(*a, **k)


def _factory(name, values=True):
    """Python-argument factories: no tensor inputs, so only the torch comparison applies."""
    return lambda samples, **kw: OpInfo(name, lambda d: samples, dtypes=("none",), grad=False, method=False,
                                        values=values, **kw)


def _size_samples(name):
    return [
        Sample((2, 3), name="varargs"),
        Sample(((2, 3),), name="tuple"),
        Sample(([4],), name="list"),
        Sample((0, 3), name="empty"),
        Sample(((),), name="0d"),
        Sample((2,), {"dtype": DT("int64")}, name="int64"),
        Sample((2, 2), {"dtype": DT("bool")}, name="bool"),
        Sample((3,), {"dtype": DT("float64"), "requires_grad": True}, name="requires-grad"),
        Sample((2, -1), name="negative", error=RuntimeError),
        Sample((2.5,), name="float-size", error=TypeError),
    ]


_TENSOR_DATA = [
    Sample(([1, 2, 3],), name="ints"),
    Sample(([[1.5, 2], [3, 4]],), name="floats"),
    Sample(([True, False],), name="bools"),
    Sample(([1, 2.5, True],), name="mixed"),
    Sample((3.5,), name="scalar"),
    Sample((7,), name="int-scalar"),
    Sample(([],), name="empty"),
    Sample(([[], []],), name="empty-2d"),
    Sample(([1 + 2j, 3],), name="complex"),
    Sample(([1, 2],), {"dtype": DT("float64")}, name="dtype"),
    Sample(([1.7, -2.7],), {"dtype": DT("int32")}, name="float-to-int"),
    Sample(([1.0, 2.0],), {"requires_grad": True}, name="requires-grad"),
    Sample(([[1, 2], [3]],), name="ragged", error=ValueError),
    Sample((["a"],), name="str", error=ValueError),
    Sample(("a",), name="str-scalar", error=TypeError),
]

_ARANGE = [
    Sample((5,), name="end"),
    Sample((1, 10, 3), name="start-end-step"),
    Sample((0, 1, 0.1), name="float-step"),
    Sample((10, 0, -2), name="negative-step"),
    Sample((1.5,), name="float-end"),
    Sample((0, 5), {"dtype": DT("float64")}, name="dtype"),
    Sample((0.5, 4), {"dtype": DT("int64")}, name="float-to-int"),
    Sample((0,), name="empty"),
    Sample((0, 5, 0), name="zero-step", error=RuntimeError),
    Sample((5, 0), name="wrong-sign", error=RuntimeError),
]

_LINSPACE = [
    Sample((0, 1, 5), name="5"),
    Sample((-1, 1, 1), name="1"),
    Sample((0, 10, 0), name="0"),
    Sample((2, -3.5, 7), name="decreasing"),
    Sample((0, 10, 4), {"dtype": DT("int64")}, name="int"),
    Sample((0, 1, 3), {"dtype": DT("float64")}, name="float64"),
    Sample((0, 1, -1), name="negative", error=RuntimeError),
]

_LOGSPACE = [
    Sample((0, 2, 3), name="base10"),
    Sample((0, 3, 4), {"base": 2.0}, name="base2"),
    Sample((-1, 1, 5), {"dtype": DT("float64")}, name="float64"),
    Sample((0, 1, 0), name="0"),
]

_EYE = [
    Sample((3,), name="square"),
    Sample((2, 4), name="rect"),
    Sample((0,), name="empty"),
    Sample((3,), {"dtype": DT("int64")}, name="int64"),
    Sample((-1,), name="negative", error=RuntimeError),
]

_FULL = [
    Sample(((2, 3), 1.5), name="float"),
    Sample(((2,), 7), name="int"),
    Sample(((2,), True), name="bool"),
    Sample(((), 2.5), name="0d"),
    Sample(([3], 2), {"dtype": DT("float64")}, name="dtype"),
    Sample(((0, 2), 1.0), name="empty"),
]

_TRI = [
    Sample((3, 3), name="square"),
    Sample((4, 3, 1), name="offset"),
    Sample((3, 4, -1), name="neg-offset"),
    Sample((0, 0), name="empty"),
    Sample((3, 3), {"dtype": DT("int32")}, name="int32"),
]

_SCALAR_TENSOR = [
    Sample((3.5,), name="float"),
    Sample((2,), name="int"),
    Sample((True,), {"dtype": DT("bool")}, name="bool"),
    Sample((2,), {"dtype": DT("int64")}, name="int64"),
]


def _like_samples(d):
    yield Sample((arr((3, 4), d, -2, 2, 1),), name="2d")
    yield Sample((arr((), d, -2, 2, 2),), name="0d")
    yield Sample((arr((0, 3), d),), name="empty")
    yield Sample((noncontig(arr((3, 4), d, -2, 2, 3)),), name="noncontig")
    yield Sample((arr((2, 3), d, -2, 2, 4),), {"dtype": DT("float64")}, name="dtype")
    yield Sample((arr((2, 3), d, -2, 2, 5),), {"dtype": DT("float32"), "requires_grad": True}, name="requires-grad")


def _full_like_samples(d):
    yield Sample((arr((3, 4), d, -2, 2, 1), 1), name="int-fill")
    yield Sample((arr((), d, -2, 2, 2), True), name="0d")
    yield Sample((arr((2, 3), d, -2, 2, 3), 2.5), {"dtype": DT("float64")}, name="dtype")
    if d in FLOATS:
        yield Sample((arr((2, 3), d, -2, 2, 4), 2.5), name="float-fill")


def _new_samples(d):
    yield Sample((arr((3, 4), d, -2, 2, 1), (2, 3)), name="tuple")
    yield Sample((arr((3, 4), d, -2, 2, 2), 2, 3), name="varargs")
    yield Sample((arr((3, 4), d, -2, 2, 3), (0,)), name="empty")
    yield Sample((arr((3, 4), d, -2, 2, 4), (2,)), {"dtype": DT("float64")}, name="dtype")


def _new_tensor_samples(d):
    yield Sample((arr((3, 4), d, -2, 2, 1), [1, 2, 3]), name="ints")
    yield Sample((arr((3, 4), d, -2, 2, 2), [[1.5, 2.0]]), name="floats")
    yield Sample((arr((3, 4), d, -2, 2, 3), [1]), {"dtype": DT("float64")}, name="dtype")


def _new_full_samples(d):
    yield Sample((arr((3, 4), d, -2, 2, 1), (2, 3), 1), name="int")
    yield Sample((arr((3, 4), d, -2, 2, 2), (2,), 1), {"dtype": DT("float64")}, name="dtype")


def _to_samples(d):
    yield Sample((arr((3, 4), d, -2, 2, 1), DT("float64")), name="float64")
    yield Sample((arr((3, 4), d, -2, 2, 2), DT("int32")), name="int32")
    yield Sample((arr((3, 4), d, -2, 2, 3), DT("bool")), name="bool")
    yield Sample((noncontig(arr((3, 4), d, -2, 2, 4)), DT("float32")), name="noncontig")
    yield Sample((arr((3, 4), d, -2, 2, 5),), {"dtype": DT("uint8")}, name="kw")
    yield Sample((arr((), d, -2, 2, 6), "cpu"), name="device")
    yield Sample((arr((2,), d, -2, 2, 7), "cpu", DT("float64")), name="device-dtype")
    yield Sample((arr((2,), d, -2, 2, 8), DT("float32")), {"copy": True}, name="copy")


def _type_samples(d):
    yield Sample((arr((3, 4), d, -2, 2, 1),), name="name")
    yield Sample((arr((3, 4), d, -2, 2, 2), DT("float64")), name="dtype")
    yield Sample((arr((3, 4), d, -2, 2, 3), "torch.IntTensor"), name="string")
    yield Sample((arr((3, 4), d, -2, 2, 4), "torch.Nonsense"), name="bad", error=ValueError)


def _type_as_samples(d):
    yield Sample((arr((3, 4), d, -2, 2, 1), arr((2,), "float64", -2, 2, 2)), name="float64")
    yield Sample((arr((3, 4), d, -2, 2, 3), arr((), "int32", -2, 2, 4)), name="int32")


def _cast_samples(d):
    yield Sample((arr((3, 4), d, -2, 2, 1),), name="2d")
    yield Sample((arr((), d, -2, 2, 2),), name="0d")
    yield Sample((noncontig(arr((3, 4), d, -2, 2, 3)),), name="noncontig")


def _clone_samples(d):
    yield from unary_samples(d)
    yield Sample((np.broadcast_to(arr((1, 4), d, -2, 2, 5), (3, 4)).copy(),), name="copy")


def _contig_samples(d):
    yield Sample((arr((3, 4), d, -2, 2, 1),), name="contiguous")
    yield Sample((noncontig(arr((3, 4), d, -2, 2, 2)),), name="noncontig")
    yield Sample((noncontig(arr((5,), d, -2, 2, 3)),), name="stepped")
    yield Sample((arr((), d, -2, 2, 4),), name="0d")


def _from_numpy(m, a):
    # the generic runner turns arrays into tensors: give both libraries a fresh NumPy array instead
    return m.from_numpy(np.array(a.tolist(), dtype=str(a.dtype).replace("torch.", "")))


_f = _factory
OPS = [
    _f("zeros")(_size_samples("zeros")),
    _f("ones")(_size_samples("ones")),
    _f("empty", values=False)(_size_samples("empty")),
    _f("tensor")(_TENSOR_DATA),
    _f("as_tensor")([s for s in _TENSOR_DATA if "requires_grad" not in s.kwargs]),
    _f("asarray")([s for s in _TENSOR_DATA if "requires_grad" not in s.kwargs and s.name != "str"]),
    _f("arange")(_ARANGE),
    _f("linspace")(_LINSPACE),
    _f("logspace")(_LOGSPACE),
    _f("eye")(_EYE),
    _f("full")(_FULL),
    _f("tril_indices")(_TRI),
    _f("triu_indices")(_TRI),
    _f("scalar_tensor")(_SCALAR_TENSOR),
    OpInfo("zeros_like", _like_samples, ref=lambda x, dtype=None, requires_grad=False: np.zeros_like(x, dtype),
           dtypes=DTYPES, grad=False, method=False),
    OpInfo("ones_like", _like_samples, ref=lambda x, dtype=None, requires_grad=False: np.ones_like(x, dtype),
           dtypes=DTYPES, grad=False, method=False),
    OpInfo("empty_like", _like_samples, dtypes=DTYPES, grad=False, method=False, values=False),
    OpInfo("full_like", _full_like_samples, dtypes=DTYPES, grad=False, method=False),
    OpInfo("from_numpy", _cast_samples, dtypes=DTYPES, grad=False, method=False, fn=_from_numpy,
           skip=("meta", "noncontig")),
    OpInfo("clone", _clone_samples, ref=lambda x: x.copy(), dtypes=DTYPES, strides=True),
    OpInfo("contiguous", _contig_samples, ref=lambda x: x.copy(), dtypes=DTYPES, fn=_m("contiguous"),
           strides=True),
    OpInfo("to", _to_samples, dtypes=DTYPES, fn=_m("to"), skip=("meta",)),
    OpInfo("type", _type_samples, dtypes=FLOATS + ("int64",), fn=_m("type"), grad=False, skip=("meta",)),
    OpInfo("type_as", _type_as_samples, dtypes=FLOATS + ("int64",), fn=_m("type_as")),
    OpInfo("new_zeros", _new_samples, dtypes=DTYPES, fn=_m("new_zeros"), grad=False),
    OpInfo("new_ones", _new_samples, dtypes=DTYPES, fn=_m("new_ones"), grad=False),
    OpInfo("new_empty", _new_samples, dtypes=DTYPES, fn=_m("new_empty"), grad=False, values=False),
    OpInfo("new_full", _new_full_samples, dtypes=DTYPES, fn=_m("new_full"), grad=False),
    OpInfo("new_tensor", _new_tensor_samples, dtypes=DTYPES, fn=_m("new_tensor"), grad=False, skip=("meta",)),
]
for _n in ("float", "double", "half", "long", "int", "short", "char", "byte", "bool"):
    OPS.append(OpInfo(_n, _cast_samples, dtypes=DTYPES, fn=_m(_n), grad=_n in ("float", "double")))
