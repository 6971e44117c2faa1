"""Elementwise two-input ops and the Python operators.

vjp signature ``vjp(g, out, a, b, needs)``: ``a``/``b`` may be Python scalars (then needs[i] is False).
The engine sums each gradient back to its input's broadcast shape.
"""
import math

import numpy as np

from .._tensor import Tensor
from ._api import binary_forms
from ._registry import OPS, apply, apply2, apply_inplace, defop, rapply2, write_out


def _int_pow_check(xp, a, b):
    if getattr(a, "dtype", np.dtype(float)).kind in "iub" and not isinstance(b, float):
        bb = b if not hasattr(b, "dtype") else b
        if (np.asarray(bb) < 0).any() if not isinstance(bb, (int, bool)) else bb < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")


def _pow_fwd(xp, a, b):
    if hasattr(a, "dtype") and a.dtype.kind in "iu":
        _int_pow_check(xp, a, b)
    return xp.power(a, b)


def _pow_vjp(g, out, a, b, needs):
    ga = gb = None
    if needs[0]:
        if isinstance(b, (int, float)) and not isinstance(b, bool):
            ga = g * b * a ** (b - 1) if b != 0 else g * 0
        else:
            ga = g * b * a ** (b - 1)
            ga = ga.masked_fill((b == 0) & ga.isnan().logical_not() | (b == 0), 0.0)
    if needs[1]:
        if isinstance(a, Tensor):
            la = a.log() if a.dtype.category == 3 else a.log().masked_fill((a == 0) & (b >= 0), 0.0)
            gb = g * (a ** b) * la
        else:
            gb = g * (a ** b) * (math.log(a) if a > 0 else (0.0 if a == 0 else float("nan")))
    return ga, gb


def _div_vjp(g, out, a, b, needs):
    return (g / b if needs[0] else None,
            -(g * a) / (b * b) if needs[1] else None)


def _cmp(name, f):
    return defop(name, "compare", f)


def _minmax_vjp(which):
    def vjp(g, out, a, b, needs):
        # ties split the gradient evenly, as torch does
        if which == "max":
            ma, mb = (a > b), (b > a)
        else:
            ma, mb = (a < b), (b < a)
        tie = a == b
        half = g * 0.5
        return (g * ma + half * tie if needs[0] else None,
                g * mb + half * tie if needs[1] else None)
    return vjp


def _bitwise(xp_fn, cname):
    def f(xp, a, b):
        for x in (a, b):
            k = getattr(x, "dtype", None)
            if (k is not None and k.kind in "fc") or isinstance(x, (float, complex)):
                tn = {"float32": "Float", "float64": "Double", "float16": "Half"}.get(str(k), str(k))
                raise RuntimeError(f"\"{cname}_cpu\" not implemented for '{tn}'")
        return getattr(xp, xp_fn)(a, b)
    return f


def _floor_div(xp, a, b):
    return xp.floor_divide(a, b)


def _div_trunc(xp, a, b):
    if (getattr(a, "dtype", None) is not None and a.dtype.kind in "iu") and \
            (not hasattr(b, "dtype") or b.dtype.kind in "iu") and not isinstance(b, float):
        q = xp.floor_divide(a, b)
        r = xp.remainder(a, b)
        return q + ((r != 0) & ((r < 0) != (xp.asarray(b) < 0)))
    return xp.trunc(xp.true_divide(a, b))


def _remainder(xp, a, b):
    return xp.remainder(a, b)


def _fmod(xp, a, b):
    return xp.fmod(a, b)


def _xlogy(xp, a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        r = a * xp.log(b)
    return xp.where(xp.asarray(a) == 0, xp.where(xp.isnan(xp.asarray(b)), xp.nan, 0.0), r).astype(r.dtype)


# name, rule, fwd, vjp, opts
_TABLE = [
    ("add", "promote", lambda xp, a, b, alpha=1: a + b if alpha == 1 else a + alpha * b,
     lambda g, out, a, b, needs, alpha=1: (g if needs[0] else None,
                                          (g if alpha == 1 else g * alpha) if needs[1] else None),
     {"save_in": False, "save_out": False, "needs": True, "ufunc": np.add}),
    ("sub", "promote", lambda xp, a, b, alpha=1: a - b if alpha == 1 else a - alpha * b,
     lambda g, out, a, b, needs, alpha=1: (g if needs[0] else None,
                                          (-g if alpha == 1 else g * (-alpha)) if needs[1] else None),
     {"save_in": False, "save_out": False, "needs": True, "ufunc": np.subtract}),
    ("mul", "promote", lambda xp, a, b: a * b,
     lambda g, out, a, b, needs: (g * b if needs[0] else None, g * a if needs[1] else None),
     {"save_out": False, "needs": True, "ufunc": np.multiply}),
    ("div", "float", lambda xp, a, b: xp.true_divide(a, b), _div_vjp,
     {"save_out": False, "needs": True, "ufunc": np.true_divide}),
    ("div_floor", "promote", _floor_div, lambda g, out, a, b, needs: (g * 0 if needs[0] else None,
                                                                      g * 0 if needs[1] else None),
     {"needs": True, "node": "DivBackward1"}),
    ("div_trunc", "promote", _div_trunc, lambda g, out, a, b, needs: (g * 0 if needs[0] else None,
                                                                      g * 0 if needs[1] else None),
     {"needs": True, "node": "DivBackward1"}),
    ("remainder", "promote", _remainder,
     lambda g, out, a, b, needs: (g if needs[0] else None, -(g * (a / b).floor()) if needs[1] else None),
     {"needs": True, "save_out": False}),
    ("fmod", "promote", _fmod,
     lambda g, out, a, b, needs: (g if needs[0] else None, -(g * (a / b).trunc()) if needs[1] else None),
     {"needs": True, "save_out": False}),
    ("pow", "promote", _pow_fwd, _pow_vjp, {"needs": True, "save_out": False}),
    ("atan2", "float", lambda xp, a, b: xp.arctan2(a, b),
     lambda g, out, a, b, needs: (g * b / (a * a + b * b) if needs[0] else None,
                                  -(g * a) / (a * a + b * b) if needs[1] else None),
     {"needs": True, "save_out": False}),
    ("hypot", "float", lambda xp, a, b: xp.hypot(a, b),
     lambda g, out, a, b, needs: (g * a / out if needs[0] else None, g * b / out if needs[1] else None),
     {"needs": True}),
    ("logaddexp", "float", lambda xp, a, b: xp.logaddexp(a, b),
     lambda g, out, a, b, needs: (g * (a - out).exp() if needs[0] else None,
                                  g * (b - out).exp() if needs[1] else None), {"needs": True}),
    ("logaddexp2", "float", lambda xp, a, b: xp.logaddexp2(a, b),
     lambda g, out, a, b, needs: (g * (a - out).exp2() if needs[0] else None,
                                  g * (b - out).exp2() if needs[1] else None), {"needs": True}),
    ("maximum", "promote", lambda xp, a, b: xp.maximum(a, b), _minmax_vjp("max"),
     {"needs": True, "save_out": False}),
    ("minimum", "promote", lambda xp, a, b: xp.minimum(a, b), _minmax_vjp("min"),
     {"needs": True, "save_out": False}),
    ("fmax", "promote", lambda xp, a, b: xp.fmax(a, b), _minmax_vjp("max"), {"needs": True, "save_out": False}),
    ("fmin", "promote", lambda xp, a, b: xp.fmin(a, b), _minmax_vjp("min"), {"needs": True, "save_out": False}),
    ("copysign", "float", lambda xp, a, b: xp.copysign(a, b),
     lambda g, out, a, b, needs: (g * out.sign() * a.sign() if needs[0] else None,
                                  g * 0 if needs[1] else None), {"needs": True}),
    ("xlogy", "float", _xlogy,
     lambda g, out, a, b, needs: (g * b.log().masked_fill((a == 0) & (b <= 0), 0.0)
                                  if needs[0] and isinstance(b, Tensor) else
                                  (g * math.log(b) if needs[0] else None),
                                  g * a / b if needs[1] else None), {"needs": True, "save_out": False}),
]

FUNCS = {}
for _name, _rule, _fwd, _vjp, _opts in _TABLE:
    _op = defop(_name, _rule, _fwd, _vjp, **_opts)
    if _name not in ("add", "sub", "div_floor", "div_trunc"):
        FUNCS[_name] = binary_forms(_op)

for _name, _f in [("eq", lambda xp, a, b: xp.equal(a, b)), ("ne", lambda xp, a, b: xp.not_equal(a, b)),
                  ("lt", lambda xp, a, b: xp.less(a, b)), ("le", lambda xp, a, b: xp.less_equal(a, b)),
                  ("gt", lambda xp, a, b: xp.greater(a, b)), ("ge", lambda xp, a, b: xp.greater_equal(a, b))]:
    FUNCS[_name] = binary_forms(_cmp(_name, _f))

for _name, _f in [("logical_and", lambda xp, a, b: xp.logical_and(a, b)),
                  ("logical_or", lambda xp, a, b: xp.logical_or(a, b)),
                  ("logical_xor", lambda xp, a, b: xp.logical_xor(a, b))]:
    FUNCS[_name] = binary_forms(defop(_name, "bool", _f))

for _name, _np, _c in [("bitwise_and", "bitwise_and", "bitwise_and"), ("bitwise_or", "bitwise_or", "bitwise_or"),
                       ("bitwise_xor", "bitwise_xor", "bitwise_xor"),
                       ("bitwise_left_shift", "left_shift", "lshift"),
                       ("bitwise_right_shift", "right_shift", "rshift")]:
    FUNCS[_name] = binary_forms(defop(_name, "promote", _bitwise(_np, _c)))

_ADD, _SUB, _MUL, _DIV = OPS["add"], OPS["sub"], OPS["mul"], OPS["div"]
_DIV_MODES = {None: _DIV, "floor": OPS["div_floor"], "trunc": OPS["div_trunc"]}


def _div_op(rounding_mode):
    op = _DIV_MODES.get(rounding_mode, 0)
    if op == 0:
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")
    return op


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, with broadcasting and torch's type promotion."""
    r = apply(_ADD, (input, other), {} if alpha == 1 else {"alpha": alpha})
    return r if out is None else write_out(out, r)


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other."""
    r = apply(_SUB, (input, other), {} if alpha == 1 else {"alpha": alpha})
    return r if out is None else write_out(out, r)


def div(input, other, *, rounding_mode=None, out=None):
    """input / other; ``rounding_mode`` 'trunc' or 'floor' rounds the quotient (and keeps int dtypes)."""
    r = apply(_div_op(rounding_mode), (input, other), {})
    return r if out is None else write_out(out, r)


def floor_divide(input, other, *, out=None):
    r = apply(_DIV_MODES["floor"], (input, other), {})
    return r if out is None else write_out(out, r)


def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    return sub(other, input, alpha=alpha)


subtract, multiply, divide, true_divide = sub, FUNCS["mul"], div, div
FUNCS.update(add=add, sub=sub, div=div, floor_divide=floor_divide, rsub=rsub, subtract=sub,
             multiply=FUNCS["mul"], divide=div, true_divide=div, greater=FUNCS["gt"], greater_equal=FUNCS["ge"],
             less=FUNCS["lt"], less_equal=FUNCS["le"], not_equal=FUNCS["ne"], arctan2=FUNCS["atan2"],
             float_power=None)
del FUNCS["float_power"]


def float_power(input, exponent):
    """pow computed in float64 (complex128 for complex inputs)."""
    from .. import _dtype as D
    cplx = any(isinstance(x, complex) or (isinstance(x, Tensor) and x.dtype.category == 3)
               for x in (input, exponent))
    dt = D.complex128 if cplx else D.float64
    a = input.to(dt) if isinstance(input, Tensor) else input
    b = exponent.to(dt) if isinstance(exponent, Tensor) else exponent
    return apply(OPS["pow"], (a, b), {})


FUNCS["float_power"] = float_power


# ---------------------------------------------------------------- Tensor methods and operators
def _m_add(self, other, *, alpha=1):
    return apply(_ADD, (self, other), {} if alpha == 1 else {"alpha": alpha})


def _m_add_(self, other, *, alpha=1):
    return apply_inplace(_ADD, self, (other,), {} if alpha == 1 else {"alpha": alpha})


def _m_sub(self, other, *, alpha=1):
    return apply(_SUB, (self, other), {} if alpha == 1 else {"alpha": alpha})


def _m_sub_(self, other, *, alpha=1):
    return apply_inplace(_SUB, self, (other,), {} if alpha == 1 else {"alpha": alpha})


def _m_div(self, other, *, rounding_mode=None):
    return apply(_div_op(rounding_mode), (self, other), {})


def _m_div_(self, other, *, rounding_mode=None):
    return apply_inplace(_div_op(rounding_mode), self, (other,), {})


def _bool_neg_check(self):
    if self.dtype.name == "bool":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")


_NEG = OPS["neg"]


def _neg(self):
    _bool_neg_check(self)
    return apply(_NEG, (self,), {})


def _invert(self):
    if self.dtype.name == "bool":
        return apply(OPS["logical_not"], (self,), {})
    return apply(OPS["bitwise_not"], (self,), {})


def _rpow(self, other):
    return apply(OPS["pow"], (other, self), {})


def _inplace_op(op):
    def f(self, other):
        return apply_inplace(op, self, (other,), {})
    return f


_T = Tensor
_T.add, _T.add_, _T.sub, _T.sub_ = _m_add, _m_add_, _m_sub, _m_sub_
_T.subtract, _T.subtract_ = _m_sub, _m_sub_
_T.div, _T.div_, _T.divide, _T.divide_ = _m_div, _m_div_, _m_div, _m_div_
_T.true_divide, _T.true_divide_ = _m_div, _m_div_
_T.multiply, _T.multiply_ = _T.mul, _T.mul_
_T.floor_divide = lambda self, other: apply2(_DIV_MODES["floor"], self, other)
_T.floor_divide_ = _inplace_op(_DIV_MODES["floor"])
_T.float_power = float_power
_T.greater, _T.greater_equal, _T.less, _T.less_equal = _T.gt, _T.ge, _T.lt, _T.le
_T.not_equal, _T.arctan2 = _T.ne, _T.atan2
_T.neg, _T.negative = _neg, _neg
_T.__add__ = lambda self, other: apply2(_ADD, self, other)
_T.__radd__ = lambda self, other: rapply2(_ADD, other, self)
_T.__iadd__ = _inplace_op(_ADD)
_T.__sub__ = lambda self, other: apply2(_SUB, self, other)
_T.__rsub__ = lambda self, other: rapply2(_SUB, other, self)
_T.__isub__ = _inplace_op(_SUB)
_T.__mul__ = lambda self, other: apply2(_MUL, self, other)
_T.__rmul__ = lambda self, other: rapply2(_MUL, other, self)
_T.__imul__ = _inplace_op(_MUL)
_T.__truediv__ = lambda self, other: apply2(_DIV, self, other)
_T.__rtruediv__ = lambda self, other: rapply2(_DIV, other, self)
_T.__itruediv__ = _inplace_op(_DIV)
_T.__floordiv__ = lambda self, other: apply2(_DIV_MODES["floor"], self, other)
_T.__rfloordiv__ = lambda self, other: rapply2(_DIV_MODES["floor"], other, self)
_T.__ifloordiv__ = _inplace_op(_DIV_MODES["floor"])
_T.__mod__ = lambda self, other: apply2(OPS["remainder"], self, other)
_T.__rmod__ = lambda self, other: rapply2(OPS["remainder"], other, self)
_T.__imod__ = _inplace_op(OPS["remainder"])
_T.__pow__ = lambda self, other: apply2(OPS["pow"], self, other)
_T.__rpow__ = _rpow
_T.__ipow__ = _inplace_op(OPS["pow"])
_T.__neg__ = _neg
_T.__pos__ = lambda self: self
_T.__abs__ = lambda self: self.abs()
_T.__invert__ = _invert
_T.__and__ = lambda self, other: apply2(OPS["bitwise_and"], self, other)
_T.__rand__ = lambda self, other: rapply2(OPS["bitwise_and"], other, self)
_T.__iand__ = _inplace_op(OPS["bitwise_and"])
_T.__or__ = lambda self, other: apply2(OPS["bitwise_or"], self, other)
_T.__ror__ = lambda self, other: rapply2(OPS["bitwise_or"], other, self)
_T.__ior__ = _inplace_op(OPS["bitwise_or"])
_T.__xor__ = lambda self, other: apply2(OPS["bitwise_xor"], self, other)
_T.__rxor__ = lambda self, other: rapply2(OPS["bitwise_xor"], other, self)
_T.__ixor__ = _inplace_op(OPS["bitwise_xor"])
_T.__lshift__ = lambda self, other: apply2(OPS["bitwise_left_shift"], self, other)
_T.__rshift__ = lambda self, other: apply2(OPS["bitwise_right_shift"], self, other)
_T.__ilshift__ = _inplace_op(OPS["bitwise_left_shift"])
_T.__irshift__ = _inplace_op(OPS["bitwise_right_shift"])
_T.__eq__ = lambda self, other: apply2(OPS["eq"], self, other) if _cmp_ok(other) else False
_T.__ne__ = lambda self, other: apply2(OPS["ne"], self, other) if _cmp_ok(other) else True
_T.__lt__ = lambda self, other: apply2(OPS["lt"], self, other)
_T.__le__ = lambda self, other: apply2(OPS["le"], self, other)
_T.__gt__ = lambda self, other: apply2(OPS["gt"], self, other)
_T.__ge__ = lambda self, other: apply2(OPS["ge"], self, other)
_T.__hash__ = lambda self: id(self)


def _cmp_ok(other):
    return isinstance(other, (Tensor, int, float, bool, complex, np.number, np.bool_))


globals().update(FUNCS)
