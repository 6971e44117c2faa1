"""Op-table rows for ember/ops/binary.py (elementwise two-input ops and the Python operators).

Samples cover same-shape, broadcasting, 0-d, empty and non-contiguous pairs, mixed dtypes, Python
scalars on either side (torch's wrapped-number promotion: ``int tensor + 2.5`` is float32,
``uint8 + 300`` wraps), and the errors torch raises (bool subtraction, integer division by zero,
integers to negative powers, floats in bitwise ops, Python scalars where torch wants a Tensor).
"""
import operator

import numpy as np

from ..opinfo import FLOATS, OpInfo, Sample, arr, binary_samples, noncontig

DTYPES = FLOATS + ("int64", "uint8", "bool")
OP_DTYPES = ("float64", "int64", "bool")   # the Python operators: their function forms have the full rows
_BITS = ("int64", "uint8", "bool")
INTS = ("int64", "int32", "uint8")
_NI = NotImplementedError


# ---------------------------------------------------------------- torch's promotion for the NumPy refs
def _cat(x):
    if isinstance(x, np.ndarray):
        return {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}[x.dtype.kind]
    return {bool: 0, int: 1, float: 2, complex: 3}[type(x)]


_CAT_DT = {0: np.bool_, 1: np.int64, 2: np.float32, 3: np.complex64}


def _prep(a, b):
    """Cast the operands like torch: a Python scalar takes the tensor's dtype unless it is of a higher
    category (then the default dtype of that category); integer scalars wrap like torch."""
    out = []
    arrays = [x for x in (a, b) if isinstance(x, np.ndarray)]
    t = arrays[0]
    if len(arrays) == 2:
        ca, cb = _cat(a), _cat(b)
        dim_a, dim_b = a.ndim > 0, b.ndim > 0
        if dim_a != dim_b and ca != cb:
            hi = a if ca > cb else b
            if not (hi.ndim > 0) and max(ca, cb) > _cat(a if hi is b else b):
                # a 0-d tensor of a higher category: its dtype decides (torch keeps 0-d dtypes)
                return a.astype(hi.dtype) if hi is b else a, b.astype(hi.dtype) if hi is a else b
        if dim_a != dim_b and ca == cb:
            big = a if dim_a else b
            return a.astype(big.dtype), b.astype(big.dtype)
        dt = np.promote_types(a.dtype, b.dtype)
        return a.astype(dt), b.astype(dt)
    for x in (a, b):
        if isinstance(x, np.ndarray):
            out.append(x)
        elif _cat(x) <= _cat(t):
            out.append(np.array(x).astype(t.dtype) if _cat(t) > 0 else np.array(x, dtype=t.dtype))
        else:
            dt = _CAT_DT[_cat(x)]
            out.append(np.array(x, dtype=dt))
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray):
        hi = max(_cat(a), _cat(b))
        if hi > _cat(t):
            out = [o.astype(_CAT_DT[hi]) for o in out]
    return tuple(out)


def _ref(fn):
    def ref(a, b, **kw):
        a, b = _prep(a, b)
        return fn(a, b, **kw)
    return ref


def _float_ref(fn):
    def ref(a, b, **kw):
        a, b = _prep(a, b)
        if a.dtype.kind in "biu":
            a = a.astype(np.float32)
        if b.dtype.kind in "biu":
            b = b.astype(np.float32)
        return fn(a, b, **kw)
    return ref


# ---------------------------------------------------------------- samples
def _nonzero(x, lo=0.5):
    """Keep values away from 0 (divisors, log args): ints -> 1, floats -> at least ``lo`` in magnitude."""
    if x.dtype == bool:
        return np.ones_like(x)
    if x.dtype.kind in "iu":
        y = np.where(x == 0, 1, x).astype(x.dtype)
    else:
        # shift small values out by a non-round amount (a divisor of exactly 0.5 sits on a kink of remainder)
        y = np.where(np.abs(x) < lo, x + np.where(x < 0, -1.3, 1.3) * lo, x).astype(x.dtype)
    return noncontig(np.array(y, order="C")) if not x.flags.c_contiguous and x.ndim else np.asarray(y)


def _map(gen, fa=None, fb=None):
    for s in gen:
        a, b = s.args
        if fa is not None and isinstance(a, np.ndarray):
            a = fa(a)
        if fb is not None and isinstance(b, np.ndarray):
            b = fb(b)
        yield Sample((a, b), s.kwargs, s.name, s.error, s.grad)


def _mixed(dtype, others=("int64", "float64", "bool"), low=-2.0, high=2.0):
    """Different dtypes: dimensioned pairs and 0-d tensors (a 0-d tensor only wins across categories)."""
    for i, o in enumerate(others):
        if o != dtype:
            yield Sample((arr((3, 4), dtype, low, high, 50 + i), arr((3, 4), o, low, high, 60 + i)), name=f"mix-{o}")
            if o == "float64" or dtype == "float64":
                yield Sample((arr((2, 3), dtype, low, high, 70 + i), arr((), o, low, high, 80 + i)),
                             name=f"mix0d-{o}")


def _scalars(dtype, scalars, ok=True, rok=True, low=-2.0, high=2.0, rgrad=True):
    err, rerr = (None if ok is True else ok), (None if rok is True else rok)
    for i, s in enumerate(scalars):
        tag = f"{type(s).__name__}{i}"
        if err is None or i == 0:  # one sample is enough for an error
            yield Sample((arr((3, 4), dtype, low, high, 20 + i), s), name=f"scalar-{tag}", error=err)
        if rerr is None or i == 0:
            yield Sample((s, arr((3, 4), dtype, low, high, 30 + i)), name=f"rscalar-{tag}", error=rerr, grad=rgrad)
    if err is None:
        yield Sample((arr((), dtype, low, high, 40), scalars[0]), name="0d-scalar")


def _samples(low=-2.0, high=2.0, low2=None, high2=None, scalars=(2, 2.5, True), ok=True, rok=True, mixed=True,
             fb=None, fa=None, extra=None, others=("int64", "float64", "bool"), rgrad=True):
    def gen(dtype):
        yield from _map(binary_samples(dtype, low, high, low2, high2), fa, fb)
        if scalars:
            yield from _map(_scalars(dtype, scalars, ok, rok, low, high, rgrad), fa, fb)
        if mixed:
            yield from _map(_mixed(dtype, others, low=low, high=high), fa, fb)
        if extra is not None:
            yield from extra(dtype)
    return gen


def _row(name, ref, samples=None, dtypes=DTYPES, **kw):
    kw.setdefault("inplace", True)
    return OpInfo(name, samples or _samples(), ref=ref, dtypes=dtypes, **kw)


# ---------------------------------------------------------------- extra samples
def _add_extra(dtype):
    yield Sample((arr((3, 4), dtype, -2, 2, 90), arr((4,), dtype, -2, 2, 91)), {"alpha": 2}, name="alpha2")
    if dtype in FLOATS:
        yield Sample((arr((3, 4), dtype, -2, 2, 92), arr((3, 4), dtype, -2, 2, 93)), {"alpha": -0.5}, name="alpha-f")
        yield Sample((arr((3, 4), dtype, -2, 2, 92), arr((3, 4), dtype)), {"alpha": True}, name="alpha-bool",
                     error=RuntimeError)
    if dtype in INTS:
        yield Sample((arr((3, 4), dtype, 0, 5, 94), arr((3, 4), dtype, 0, 5, 95)), {"alpha": 2.5},
                     name="alpha-float", error=RuntimeError)
    if dtype == "uint8":
        yield Sample((arr((5,), dtype, 0, 200, 96), 300), name="wrap-300")
        yield Sample((arr((5,), dtype, 0, 200, 97), arr((5,), dtype, 0, 200, 98)), name="overflow")
    if dtype == "int32":
        yield Sample((np.array([2 ** 31 - 1, -2 ** 31, 5], np.int32), np.array([1, -1, 7], np.int32)), name="overflow")


def _sub_extra(dtype):
    yield Sample((arr((3, 4), dtype, -2, 2, 90), arr((4,), dtype, -2, 2, 91)), {"alpha": 3}, name="alpha3")
    if dtype == "uint8":
        yield Sample((np.array([0, 1, 5], np.uint8), np.array([1, 3, 2], np.uint8)), name="underflow")


def _intdiv_zero(dtype):
    if dtype in INTS:
        yield Sample((arr((3,), dtype, 1, 5, 99), np.zeros(3, dtype)), name="zero-div", error=RuntimeError)
    if dtype in FLOATS:
        yield Sample((np.array([1.0, -1.0, 0.0, 2.5], dtype), np.array([0.0, 0.0, 0.0, -0.0], dtype)),
                     name="zero-div", grad=False)


def _pow_extra(dtype):
    if dtype in ("int64", "int32"):
        yield Sample((arr((3,), dtype, 1, 3, 99), -1), name="neg-exp", error=RuntimeError)
        yield Sample((arr((3, 4), dtype, -3, 3, 98), arr((3, 4), dtype, 0, 3, 97)), name="ints")
    if dtype in FLOATS:
        yield Sample((np.array([0.0, 0.0, 2.0, -2.0], dtype), np.array([0.0, 2.0, 0.5, 2.0], dtype)), name="edge",
                     grad=False)
        yield Sample((arr((3, 4), dtype, 0.5, 2, 96), 0), name="exp0")
        yield Sample((arr((3, 4), dtype, -2, 2, 95), 2), name="exp2")


def _shift_extra(dtype):
    if dtype in INTS:
        yield Sample((arr((4,), dtype, 1, 5, 99), np.array([0, 1, 3, 7], dtype)), name="shifts")


_RS = {"rok": TypeError}     # no Python scalar on the left
_NS = {"ok": TypeError, "rok": TypeError}   # no Python scalar at all
_NOBOOL = {"scalars": (2, 2.5), "others": ("int64", "float64")}   # subtraction refuses bools


def _pos(x):
    if x.dtype == bool:
        return np.ones_like(x)
    return np.asarray(np.abs(x) + (0.5 if x.dtype.kind == "f" else 1)).astype(x.dtype)


OPS = [
    _row("add", _ref(lambda a, b, alpha=1: a + b * alpha if a.dtype != bool else a | b),
         _samples(extra=_add_extra), dtypes=DTYPES + ("int32",)),
    _row("sub", _ref(lambda a, b, alpha=1: a - b * alpha), _samples(extra=_sub_extra, **_NOBOOL), dtypes=DTYPES[:-1],
         errors={"bool": RuntimeError}),
    _row("mul", _ref(lambda a, b: a * b if a.dtype != bool else a & b)),
    _row("div", _float_ref(np.true_divide), _samples(fb=_nonzero)),
    _row("div", _ref(lambda a, b: np.trunc(a / b).astype(a.dtype) if a.dtype.kind == "f" else
                     (np.sign(a) * np.sign(b) * (np.abs(a) // np.abs(b))).astype(a.dtype)),
         _samples(fb=_nonzero, extra=_intdiv_zero), variant="trunc", dtypes=DTYPES[:-1], grad=False,
         fn=lambda m, a, b, **kw: m.div(a, b, rounding_mode="trunc", **kw), method=False, inplace=False,
         errors={"bool": _NI}),
    _row("div", _ref(np.floor_divide),
         _samples(fb=_nonzero, extra=_intdiv_zero), variant="floor", dtypes=DTYPES[:-1], grad=False,
         fn=lambda m, a, b, **kw: m.div(a, b, rounding_mode="floor", **kw), method=False, inplace=False,
         errors={"bool": _NI}),
    _row("floor_divide", _ref(np.floor_divide), _samples(fb=_nonzero, extra=_intdiv_zero), dtypes=DTYPES[:-1],
         grad=False, errors={"bool": _NI}),
    _row("remainder", _ref(np.remainder), _samples(fb=_nonzero, extra=_intdiv_zero, rgrad=False), dtypes=DTYPES[:-1],
         errors={"bool": _NI}),
    _row("fmod", _ref(np.fmod), _samples(fb=_nonzero, extra=_intdiv_zero, **_RS), dtypes=DTYPES[:-1],
         errors={"bool": _NI}),
    _row("pow", _ref(np.power), _samples(0.5, 2.0, -1.5, 1.5, scalars=(2, 0.5, 3), mixed=False, fa=_pos,
                                         extra=_pow_extra), dtypes=FLOATS,
         errors={"bool": _NI}),
    _row("float_power", _ref(lambda a, b: np.power(a.astype(np.float64), b.astype(np.float64))),
         _samples(0.5, 2.0, -1.5, 1.5, scalars=(2, 0.5), mixed=False, fa=_pos), inplace=False),
    _row("atan2", _float_ref(np.arctan2), _samples(**_NS)),
    _row("arctan2", _float_ref(np.arctan2), _samples(scalars=False, mixed=False), dtypes=FLOATS),
    _row("hypot", _ref(np.hypot), _samples(**_NS), dtypes=FLOATS, errors={"int64": _NI, "bool": _NI}),
    # (no bool operand: torch's own backward then fails subtracting a bool tensor)
    _row("logaddexp", _ref(np.logaddexp), _samples(**_NS, others=("int64", "float64")), dtypes=FLOATS,
         errors={"int64": _NI}, inplace=False),
    _row("logaddexp2", _ref(np.logaddexp2), _samples(**_NS, others=("int64", "float64")), dtypes=FLOATS,
         errors={"int64": _NI}, inplace=False),
    _row("maximum", _ref(np.maximum), _samples(**_NS), inplace=False),
    _row("minimum", _ref(np.minimum), _samples(**_NS), inplace=False),
    _row("fmax", _ref(np.fmax), _samples(**_NS, extra=lambda d: _nan_pairs(d)), inplace=False),
    _row("fmin", _ref(np.fmin), _samples(**_NS, extra=lambda d: _nan_pairs(d)), inplace=False),
    _row("copysign", _float_ref(np.copysign), _samples(fa=_nonzero, **_RS)),
    _row("xlogy", _float_ref(lambda a, b: np.where(a == 0, np.where(np.isnan(b), np.nan, 0.0), a * np.log(b))),
         _samples(scalars=(2, 2.5), fb=_pos), dtypes=FLOATS + ("int64",)),
    _row("rsub", _ref(lambda a, b, alpha=1: b - a * alpha), _samples(**_RS, **_NOBOOL), dtypes=DTYPES[:-1],
         method=False, inplace=False, errors={"bool": RuntimeError}),
]
for _n, _f in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
               ("ge", np.greater_equal)]:
    OPS.append(_row(_n, _ref(_f), _samples(extra=lambda d: _nan_pairs(d), **_RS), grad=False,
                    dtypes=DTYPES if _n == "eq" else ("float32", "int64", "uint8", "bool")))
for _n in ("greater", "greater_equal", "less", "less_equal", "not_equal", "subtract", "multiply", "divide",
           "true_divide"):
    # aliases: torch's results are the reference
    _rk = TypeError if _n in ("greater", "greater_equal", "less", "less_equal", "not_equal") else True
    OPS.append(OpInfo(_n, _samples(scalars=(2,), mixed=False, fb=_nonzero, rok=_rk), dtypes=("float64", "int64"),
                      inplace=True,
                      grad=_n in ("subtract", "multiply", "divide", "true_divide")))
for _n, _f in [("logical_and", np.logical_and), ("logical_or", np.logical_or), ("logical_xor", np.logical_xor)]:
    OPS.append(_row(_n, _f, _samples(**_NS), grad=False, dtypes=("float32", "int64", "uint8", "bool")))
for _n, _f in [("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or), ("bitwise_xor", np.bitwise_xor)]:
    OPS.append(_row(_n, _ref(_f), _samples(scalars=(3, True), mixed=False), dtypes=INTS + ("int16", "int8", "bool"),
                    grad=False, errors={"float32": _NI, "float64": _NI}))
for _n, _f in [("bitwise_left_shift", np.left_shift), ("bitwise_right_shift", np.right_shift)]:
    OPS.append(_row(_n, _ref(_f), _samples(0, 5, 0, 3, scalars=(2,), mixed=False, extra=_shift_extra),
                    dtypes=INTS + ("int16",), grad=False, errors={"float32": _NI, "bool": _NI}))


def _nan_pairs(dtype):
    if dtype in FLOATS:
        yield Sample((np.array([np.nan, 1.0, np.nan, -np.inf, 2.0], dtype),
                      np.array([1.0, np.nan, np.nan, 3.0, np.inf], dtype)), name="nan", grad=False)


# ---------------------------------------------------------------- the Python operators
def _op_row(name, f, samples, dtypes=OP_DTYPES, grad=True, ref=None, **kw):
    return OpInfo(name, samples, ref=ref, dtypes=dtypes, grad=grad, method=False,
                  fn=lambda m, *a, **k: f(*a, **k), **kw)


def _rev(f):
    return lambda a, b: f(b, a)


OPS += [
    _op_row("__add__", operator.add, _samples(), dtypes=DTYPES),
    _op_row("__radd__", _rev(operator.add), _samples(mixed=False)),
    _op_row("__sub__", operator.sub, _samples(**_NOBOOL), dtypes=OP_DTYPES[:-1], errors={"bool": RuntimeError}),
    _op_row("__rsub__", _rev(operator.sub), _samples(mixed=False, scalars=(2, 2.5)), dtypes=OP_DTYPES[:-1]),
    _op_row("__mul__", operator.mul, _samples(mixed=False)),
    _op_row("__rmul__", _rev(operator.mul), _samples(mixed=False)),
    _op_row("__truediv__", operator.truediv, _samples(fb=_nonzero, mixed=False)),
    _op_row("__rtruediv__", _rev(operator.truediv), _samples(fa=_nonzero, mixed=False)),
    _op_row("__floordiv__", operator.floordiv, _samples(fb=_nonzero, mixed=False), dtypes=OP_DTYPES[:-1], grad=False),
    _op_row("__rfloordiv__", _rev(operator.floordiv), _samples(fa=_nonzero, mixed=False), dtypes=OP_DTYPES[:-1],
            grad=False),
    _op_row("__mod__", operator.mod, _samples(fb=_nonzero, rgrad=False, mixed=False), dtypes=OP_DTYPES[:-1]),
    _op_row("__rmod__", _rev(operator.mod), _samples(fa=_nonzero, mixed=False), dtypes=OP_DTYPES[:-1],
            grad=False),
    _op_row("__pow__", operator.pow, _samples(0.5, 2.0, -1.5, 1.5, scalars=(2, 0.5), mixed=False, fa=_pos),
            dtypes=FLOATS),
    _op_row("__rpow__", _rev(operator.pow), _samples(-1.5, 1.5, 0.5, 2.0, scalars=(2, 0.5), mixed=False, fb=_pos),
            dtypes=FLOATS),
    _op_row("__and__", operator.and_, _samples(scalars=(3, True), mixed=False), dtypes=_BITS, grad=False),
    _op_row("__or__", operator.or_, _samples(scalars=(3, True), mixed=False), dtypes=_BITS, grad=False),
    _op_row("__xor__", operator.xor, _samples(scalars=(3, True), mixed=False), dtypes=_BITS, grad=False),
    _op_row("__rand__", _rev(operator.and_), _samples(scalars=(3, True), mixed=False), dtypes=_BITS, grad=False),
    _op_row("__lshift__", operator.lshift, _samples(0, 5, 0, 3, scalars=(2,), mixed=False), dtypes=_BITS[:2],
            grad=False),
    _op_row("__rshift__", operator.rshift, _samples(0, 5, 0, 3, scalars=(2,), mixed=False), dtypes=_BITS[:2],
            grad=False),
    _op_row("__eq__", operator.eq, _samples(mixed=False), grad=False),
    _op_row("__ne__", operator.ne, _samples(mixed=False, scalars=(2.5,)), grad=False),
    _op_row("__lt__", operator.lt, _samples(mixed=False), grad=False),
    _op_row("__ge__", operator.ge, _samples(mixed=False), grad=False),
    _op_row("__neg__", operator.neg, lambda d: (Sample((arr((3, 4), d, -2, 2, 1),), name="2d"),),
            dtypes=FLOATS + INTS, errors={"bool": RuntimeError}),
    _op_row("__invert__", operator.invert, lambda d: (Sample((arr((3, 4), d, -2, 2, 1),), name="2d"),),
            dtypes=("int64", "uint8", "bool"), grad=False, errors={"float32": TypeError}),
    _op_row("__abs__", operator.abs, lambda d: (Sample((arr((3, 4), d, -2, 2, 1),), name="2d"),), dtypes=FLOATS + INTS),
]


# ---------------------------------------------------------------- matrix products (ember/ops/linalg.py)
_MM_DTYPES = FLOATS + ("int64", "int32", "uint8")


def _mm_samples(dtype):
    yield Sample((arr((2, 3), dtype, -2, 2, 1), arr((3, 4), dtype, -2, 2, 2)), name="2d")
    yield Sample((noncontig(arr((3, 3), dtype, -2, 2, 3)), noncontig(arr((3, 2), dtype, -2, 2, 4))), name="noncontig")
    yield Sample((arr((0, 3), dtype), arr((3, 2), dtype, -2, 2, 5)), name="empty-rows")
    yield Sample((arr((2, 0), dtype), arr((0, 3), dtype)), name="empty-inner")
    yield Sample((arr((2, 3), dtype, -2, 2, 6), arr((2, 3), dtype, -2, 2, 7)), name="mismatch", error=RuntimeError)
    yield Sample((arr((3,), dtype, -2, 2, 8), arr((3, 2), dtype, -2, 2, 9)), name="1d", error=RuntimeError)
    other = "float64" if dtype != "float64" else "float32"
    yield Sample((arr((2, 3), dtype, -2, 2, 10), arr((3, 2), other, -2, 2, 11)), name="dtypes", error=RuntimeError)


def _matmul_samples(dtype):
    yield from (s for s in _mm_samples(dtype) if s.name != "1d")
    yield Sample((arr((3,), dtype, -2, 2, 12), arr((3,), dtype, -2, 2, 13)), name="vec-vec")
    yield Sample((arr((3,), dtype, -2, 2, 14), arr((3, 4), dtype, -2, 2, 15)), name="vec-mat")
    yield Sample((arr((2, 3), dtype, -2, 2, 16), arr((3,), dtype, -2, 2, 17)), name="mat-vec")
    yield Sample((arr((2, 2, 3), dtype, -2, 2, 18), arr((3,), dtype, -2, 2, 19)), name="batch-vec")
    yield Sample((arr((3,), dtype, -2, 2, 20), arr((2, 3, 2), dtype, -2, 2, 21)), name="vec-batch")
    yield Sample((arr((2, 1, 2, 3), dtype, -2, 2, 22), arr((4, 3, 2), dtype, -2, 2, 23)), name="broadcast")
    yield Sample((arr((2, 2, 3), dtype, -2, 2, 24), arr((3, 2), dtype, -2, 2, 25)), name="batch-mat")
    yield Sample((arr((), dtype, -2, 2, 26), arr((2, 3), dtype, -2, 2, 27)), name="0d", error=RuntimeError)
    yield Sample((arr((2, 3), dtype, -2, 2, 28), arr((2,), dtype, -2, 2, 29)), name="mat-vec-mismatch",
                 error=RuntimeError)


def _bmm_samples(dtype):
    yield Sample((arr((2, 2, 3), dtype, -2, 2, 1), arr((2, 3, 4), dtype, -2, 2, 2)), name="3d")
    yield Sample((noncontig(arr((2, 3, 3), dtype, -2, 2, 3)), arr((2, 3, 2), dtype, -2, 2, 4)), name="noncontig")
    yield Sample((arr((0, 2, 3), dtype), arr((0, 3, 4), dtype)), name="empty")
    yield Sample((arr((2, 2, 3), dtype, -2, 2, 5), arr((3, 3, 2), dtype, -2, 2, 6)), name="batch-mismatch",
                 error=RuntimeError)
    yield Sample((arr((2, 3), dtype, -2, 2, 7), arr((3, 2), dtype, -2, 2, 8)), name="2d", error=RuntimeError)


def _mv_samples(dtype):
    yield Sample((arr((2, 3), dtype, -2, 2, 1), arr((3,), dtype, -2, 2, 2)), name="2d")
    yield Sample((noncontig(arr((3, 3), dtype, -2, 2, 3)), noncontig(arr((3,), dtype, -2, 2, 4))), name="noncontig")
    yield Sample((arr((0, 3), dtype), arr((3,), dtype, -2, 2, 5)), name="empty")
    yield Sample((arr((2, 3), dtype, -2, 2, 6), arr((2,), dtype, -2, 2, 7)), name="mismatch", error=RuntimeError)


def _dot_samples(dtype):
    yield Sample((arr((4,), dtype, -2, 2, 1), arr((4,), dtype, -2, 2, 2)), name="1d")
    yield Sample((noncontig(arr((4,), dtype, -2, 2, 3)), arr((4,), dtype, -2, 2, 4)), name="noncontig")
    yield Sample((arr((0,), dtype), arr((0,), dtype)), name="empty")
    yield Sample((arr((3,), dtype, -2, 2, 5), arr((4,), dtype, -2, 2, 6)), name="mismatch", error=RuntimeError)
    yield Sample((arr((2, 2), dtype, -2, 2, 7), arr((2, 2), dtype, -2, 2, 8)), name="2d", error=RuntimeError)
    other = "float64" if dtype != "float64" else "float32"
    yield Sample((arr((3,), dtype, -2, 2, 9), arr((3,), other, -2, 2, 10)), name="dtypes", error=RuntimeError)


def _np_matmul(a, b):
    if a.dtype.kind in "iu":
        return np.matmul(a.astype(np.int64), b.astype(np.int64)).astype(a.dtype)
    return np.matmul(a, b)


_MM_ERR = {"bool": NotImplementedError}
OPS += [
    OpInfo("matmul", _matmul_samples, ref=_np_matmul, dtypes=_MM_DTYPES, errors=_MM_ERR),
    OpInfo("mm", _mm_samples, ref=_np_matmul, dtypes=_MM_DTYPES, errors=_MM_ERR),
    OpInfo("bmm", _bmm_samples, ref=_np_matmul, dtypes=_MM_DTYPES, errors=_MM_ERR),
    OpInfo("mv", _mv_samples, ref=_np_matmul, dtypes=_MM_DTYPES, errors=_MM_ERR),
    OpInfo("dot", _dot_samples, ref=_np_matmul, dtypes=_MM_DTYPES, errors=_MM_ERR),
    _op_row("__matmul__", operator.matmul, _matmul_samples, dtypes=FLOATS, ref=_np_matmul),
]
