"""Elementwise two-input ops and the Python operators.

vjp signature ``vjp(g, out, a, b, needs)``: ``a``/``b`` may be Python scalars (then needs[i] is False).
The engine sums each gradient back to its input's broadcast shape.
"""
import math

import numpy as np

from .. import _dtype as D
from ..backend import cpu_kernels as _K
from .._tensor import Tensor
from ._api import binary_forms
from ._registry import OPS, apply, apply2, apply_inplace, defop, elementwise_shape, rapply2, renamed, write_out


def _tname(npdt):
    from .. import _dtype as D
    from ._registry import _type_name
    return _type_name(D.NP2DT[np.dtype(npdt)])


def _kernel(kernel, bad):
    """Wrap a forward: torch's NotImplementedError when the compute dtype's kind is in ``bad``."""
    def deco(f):
        def g(xp, *args, **kw):
            for x in args:
                dt = getattr(x, "dtype", None)
                if dt is not None:
                    if dt.kind in bad:
                        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_tname(dt)}'")
                    break
            return f(xp, *args, **kw)
        return g
    return deco


def _zero_div_check(a, b):
    # integer division by zero is an error in torch (NumPy returns 0 with a warning)
    if getattr(a, "dtype", None) is not None and a.dtype.kind in "biu" or \
            getattr(b, "dtype", None) is not None and b.dtype.kind in "biu":
        if (b == 0) if isinstance(b, (int, bool)) else bool((b == 0).any()):
            raise RuntimeError("ZeroDivisionError")


def _int_pow_check(xp, a, b):
    if getattr(a, "dtype", np.dtype(float)).kind in "iub" and not isinstance(b, float):
        if bool((b < 0).any()) if hasattr(b, "dtype") else b < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")


@_kernel("pow", "b")
def _pow_fwd(xp, a, b):
    if hasattr(a, "dtype") and a.dtype.kind in "iu":
        _int_pow_check(xp, a, b)
    return xp.power(a, b)


def _pow_vjp(g, out, a, b, needs):
    ga = gb = None
    if needs[0]:
        if isinstance(b, (int, float)) and not isinstance(b, bool):
            # (b == 2, a square: a ** 1 is a copy of a; doubling is exact, so the product is the same)
            ga = g * (a * 2.0) if b == 2 else g * b * a ** (b - 1) if b != 0 else g * 0
        else:
            ga = g * b * a ** (b - 1)
            ga = ga.masked_fill((b == 0) & ga.isnan().logical_not() | (b == 0), 0.0)
    if needs[1]:
        if isinstance(a, Tensor):
            la = a.log() if a.dtype.category == 3 else a.log().masked_fill((a == 0) & (b >= 0), 0.0)
            gb = g * out * la
        else:
            gb = g * out * (math.log(a) if a > 0 else (0.0 if a == 0 else float("nan")))
    return ga, gb


def _rem_grad_ok(a):
    # torch has no derivative for remainder(Scalar, Tensor)
    if not isinstance(a, Tensor):
        raise RuntimeError("derivative for aten::remainder is not implemented")
    return True


def _div_vjp(g, out, a, b, needs):
    return (g / b if needs[0] else None,
            -(g * a) / (b * b) if needs[1] else None)


def _cmp(name, f):
    return defop(name, "compare", f, shape=elementwise_shape)


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
    bad = "fcb" if cname in ("lshift", "rshift") else "fc"

    @_kernel(cname + "_cpu", bad)
    def f(xp, a, b):
        if cname in ("lshift", "rshift"):
            return _shift(xp, a, b, cname == "lshift")
        return getattr(xp, xp_fn)(a, b)
    return f


def _shift(xp, a, b, left):
    # torch: shifting by a negative amount or by at least the bit width gives 0 (or -1 for a
    # negative value shifted right); NumPy leaves those cases to the C compiler
    a_arr, b_arr = xp.asarray(a), xp.asarray(b)
    dt = a_arr.dtype if a_arr.ndim or not b_arr.ndim else b_arr.dtype
    bits = np.dtype(dt).itemsize * 8
    big = (b_arr < 0) | (b_arr >= bits)
    safe = xp.where(big, 0, b_arr).astype(dt)
    if left:
        r = xp.left_shift(a_arr.astype(dt), safe)
        return xp.where(big, 0, r).astype(dt)
    r = xp.right_shift(a_arr.astype(dt), safe)
    return xp.where(big, xp.where(a_arr < 0, -1, 0), r).astype(dt)


@_kernel("div_floor_cpu", "b")
def _floor_div(xp, a, b):
    _zero_div_check(a, b)
    return xp.floor_divide(a, b)


@_kernel("div_trunc_cpu", "b")
def _div_trunc(xp, a, b):
    if (getattr(a, "dtype", None) is not None and a.dtype.kind in "iu") and \
            (not hasattr(b, "dtype") or b.dtype.kind in "iu") and not isinstance(b, float):
        _zero_div_check(a, b)
        q = xp.floor_divide(a, b)
        r = xp.remainder(a, b)
        # floor and trunc differ where the division is inexact and the signs of a and b differ
        return q + ((r != 0) & ((xp.asarray(a) < 0) != (xp.asarray(b) < 0))).astype(q.dtype)
    return xp.trunc(xp.true_divide(a, b))


@_kernel("remainder_cpu", "b")
def _remainder(xp, a, b):
    _zero_div_check(a, b)
    return xp.remainder(a, b)


@_kernel("fmod_cpu", "b")
def _fmod(xp, a, b):
    _zero_div_check(a, b)
    return xp.fmod(a, b)


def _xlogy(xp, a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        r = a * xp.log(b)
    return xp.where(xp.asarray(a) == 0, xp.where(xp.isnan(xp.asarray(b)), xp.nan, 0.0), r).astype(r.dtype)


def _alpha_check(a, b, alpha):
    """torch's checks on ``alpha`` against the result dtype; returns alpha."""
    k = next(x.dtype.kind for x in (a, b) if hasattr(x, "dtype"))
    if isinstance(alpha, bool):
        if k != "b":
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
    elif isinstance(alpha, float) and k in "biu":
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    return alpha


_nd = np.ndarray
_BIG = _K.BINARY_MIN  # from this many elements, float32 arithmetic runs on the compiled pool


def _pooled(a, b, op):
    """``a op b`` on the compiled pool when ``a`` is a large array the kernel takes; else None (NumPy's turn)."""
    return _K.binary(a, b, op) if type(a) is _nd and a.size >= _BIG else None


def _add(xp, a, b, alpha=None):
    if alpha is not None:
        return a + _alpha_check(a, b, alpha) * b
    r = _pooled(a, b, "add")
    return a + b if r is None else r


def _sub(xp, a, b, alpha=None):
    if alpha is not None:
        return a - _alpha_check(a, b, alpha) * b
    r = _pooled(a, b, "sub")
    return a - b if r is None else r


def _mul(xp, a, b):
    r = _pooled(a, b, "mul")
    return a * b if r is None else r


def _div(xp, a, b):
    r = _pooled(a, b, "div")
    return xp.true_divide(a, b) if r is None else r


# name, rule, fwd, vjp, opts
_TABLE = [
    ("add", "promote", _add,
     lambda g, out, a, b, needs, alpha=1: (g if needs[0] else None,
                                          (g if alpha == 1 else g * alpha) if needs[1] else None),
     {"save_in": False, "save_out": False, "needs": True, "ufunc": np.add}),
    ("sub", "promote", _sub,
     lambda g, out, a, b, needs, alpha=1: (g if needs[0] else None,
                                          (-g if alpha == 1 else g * (-alpha)) if needs[1] else None),
     {"save_in": False, "save_out": False, "needs": True, "ufunc": np.subtract}),
    ("mul", "promote", _mul,
     lambda g, out, a, b, needs: (_mul(None, g, b) if needs[0] else None, _mul(None, g, a) if needs[1] else None),
     {"save_in": (1, 0), "save_out": False, "needs": True, "ufunc": np.multiply}),
    ("div", "float", _div, _div_vjp,
     {"save_in": (1, True), "save_out": False, "needs": True, "ufunc": np.true_divide, "int_ok": False}),
    ("div_floor", "promote", _floor_div, lambda g, out, a, b, needs: (g * 0 if needs[0] else None,
                                                                      g * 0 if needs[1] else None),
     {"needs": True, "node": "DivBackward2"}),
    ("div_trunc", "promote", _div_trunc, lambda g, out, a, b, needs: (g * 0 if needs[0] else None,
                                                                      g * 0 if needs[1] else None),
     {"needs": True, "node": "DivBackward2"}),
    ("remainder", "promote", _remainder,
     lambda g, out, a, b, needs: (g if needs[0] else None, -(g * (a / b).floor()) if needs[1] and
                                  _rem_grad_ok(a) else None),
     {"needs": True, "save_in": (1, 1), "save_out": False}),
    ("fmod", "promote", _fmod,
     lambda g, out, a, b, needs: (g if needs[0] else None, -(g * (a / b).trunc()) if needs[1] else None),
     {"needs": True, "save_in": (1, 1), "save_out": False}),
    ("pow", "promote", _pow_fwd, _pow_vjp, {"needs": True, "save_out": lambda args: isinstance(args[1], Tensor)}),
    ("atan2", "float", lambda xp, a, b: xp.arctan2(a, b),
     lambda g, out, a, b, needs: (g * b / (a * a + b * b) if needs[0] else None,
                                  -(g * a) / (a * a + b * b) if needs[1] else None),
     {"needs": True, "save_out": False}),
    ("hypot", "promote", _kernel("hypot_cpu", "biu")(lambda xp, a, b: xp.hypot(a, b)),
     lambda g, out, a, b, needs: (g * a / out if needs[0] else None, g * b / out if needs[1] else None),
     {"needs": True, "save_in": (0, 1)}),
    ("logaddexp", "promote", _kernel("logaddexp_cpu", "biu")(lambda xp, a, b: xp.logaddexp(a, b)),
     lambda g, out, a, b, needs: (g / ((b - a).exp() + 1) if needs[0] else None,
                                  g / ((a - b).exp() + 1) if needs[1] else None), {"needs": True, "save_out": False}),
    ("logaddexp2", "promote", _kernel("logaddexp2_cpu", "biu")(lambda xp, a, b: xp.logaddexp2(a, b)),
     lambda g, out, a, b, needs: (g / ((b - a).exp2() + 1) if needs[0] else None,
                                  g / ((a - b).exp2() + 1) if needs[1] else None), {"needs": True, "save_out": False}),
    ("maximum", "promote", lambda xp, a, b: xp.maximum(a, b), _minmax_vjp("max"),
     {"needs": True, "save_out": False}),
    ("minimum", "promote", lambda xp, a, b: xp.minimum(a, b), _minmax_vjp("min"),
     {"needs": True, "save_out": False}),
    ("fmax", "promote", lambda xp, a, b: xp.fmax(a, b), _minmax_vjp("max"), {"needs": True, "save_out": False}),
    ("fmin", "promote", lambda xp, a, b: xp.fmin(a, b), _minmax_vjp("min"), {"needs": True, "save_out": False}),
    ("copysign", "float", lambda xp, a, b: xp.copysign(a, b),
     lambda g, out, a, b, needs: (g * out.sign() * a.sign() if needs[0] else None,
                                  g * 0 if needs[1] else None), {"needs": True, "save_in": (0, False)}),
    ("xlogy", "float", _xlogy,
     lambda g, out, a, b, needs: (g * b.log().masked_fill((a == 0) & (b <= 0), 0.0)
                                  if needs[0] and isinstance(b, Tensor) else
                                  (g * math.log(b) if needs[0] else None),
                                  g * a / b if needs[1] else None), {"needs": True, "save_out": False}),
]

FUNCS = {}
# vjps written with operators only, so the engine may run them on raw arrays (see Op); pow only for
# tensor ** Python number (its other branches use Tensor methods)
_ARRAYS = {"add": True, "sub": True, "mul": True, "div": True,
           "pow": lambda a, b, *rest: hasattr(a, "shape") and not hasattr(b, "shape")}
for _name, _rule, _fwd, _vjp, _opts in _TABLE:
    _op = defop(_name, _rule, _fwd, _vjp, shape=elementwise_shape,
                holo=_name in ("add", "sub", "mul", "div", "pow", "logaddexp"),
                arrays=_ARRAYS.get(_name, False), **_opts)
    if _name not in ("add", "sub", "div_floor", "div_trunc"):
        FUNCS[_name] = binary_forms(_op)

for _name, _f in [("eq", lambda xp, a, b: xp.equal(a, b)), ("ne", lambda xp, a, b: xp.not_equal(a, b)),
                  ("lt", lambda xp, a, b: xp.less(a, b)), ("le", lambda xp, a, b: xp.less_equal(a, b)),
                  ("gt", lambda xp, a, b: xp.greater(a, b)), ("ge", lambda xp, a, b: xp.greater_equal(a, b))]:
    FUNCS[_name] = binary_forms(_cmp(_name, _f))

for _name, _f in [("logical_and", lambda xp, a, b: xp.logical_and(a, b)),
                  ("logical_or", lambda xp, a, b: xp.logical_or(a, b)),
                  ("logical_xor", lambda xp, a, b: xp.logical_xor(a, b))]:
    FUNCS[_name] = binary_forms(defop(_name, "bool", _f, shape=elementwise_shape))

for _name, _np, _c in [("bitwise_and", "bitwise_and", "bitwise_and"), ("bitwise_or", "bitwise_or", "bitwise_or"),
                       ("bitwise_xor", "bitwise_xor", "bitwise_xor"),
                       ("bitwise_left_shift", "left_shift", "lshift"),
                       ("bitwise_right_shift", "right_shift", "rshift")]:
    FUNCS[_name] = binary_forms(defop(_name, "promote", _bitwise(_np, _c), shape=elementwise_shape))

_ADD, _SUB, _MUL, _DIV = OPS["add"], OPS["sub"], OPS["mul"], OPS["div"]
_DIV_MODES = {None: _DIV, "floor": OPS["div_floor"], "trunc": OPS["div_trunc"]}
# rsub(input, other) = other - alpha * input. With two tensors torch's node keeps its edges in (input, other)
# order, so it is an op of its own; with a number other it is sub(number, input) renamed
_RSUB0 = defop("rsub", "promote",
               lambda xp, a, b, alpha=None: b - a if alpha is None else b - _alpha_check(a, b, alpha) * a,
               lambda g, out, a, b, needs, alpha=1: ((-g if alpha == 1 else g * (-alpha)) if needs[0] else None,
                                                    g if needs[1] else None),
               shape=elementwise_shape, holo=True, arrays=True, save_in=False, save_out=False, needs=True,
               node="RsubBackward0", pointwise=(1, 0))
_RSUB1 = renamed(_SUB, "RsubBackward1")  # number - input
for _op in (_ADD, _SUB, _MUL, *_DIV_MODES.values()):
    _op.scalar_edges = True  # torch wraps a number operand in a tensor: its node has a (None, 0) edge for it


# torch names the nodes of some overloads apart; ops below are (Tensor-Tensor, Tensor-Number, Number-Tensor)
def _not_implemented(op, aten):
    """``op`` under torch's NotImplemented node: it saves nothing and its backward raises torch's error."""
    def vjp(g, out, *inputs, **kw):
        raise RuntimeError(f"derivative for aten::{aten} is not implemented")
    r = renamed(op, "torch::autograd::NotImplemented")
    r.vjp, r.save_in, r.save_out, r.needs = vjp, False, False, False
    return r


def _pick(ops, a, b):
    return ops[0] if isinstance(a, Tensor) and isinstance(b, Tensor) else ops[1] if isinstance(a, Tensor) else ops[2]


def _overload_forms(name, ops):
    """``binary_forms`` with the op picked by operand kinds."""
    def fn(input, other, *, out=None):
        r = apply(_pick(ops, input, other), (input, other), {})
        return r if out is None else write_out(out, r)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}`` with broadcasting and torch's type promotion (torch.{name})."
    setattr(Tensor, name, lambda self, other: apply2(_pick(ops, self, other), self, other))
    setattr(Tensor, name + "_", lambda self, other: apply_inplace(_pick(ops, self, other), self, (other,), {}))
    return fn


_FLOORDIV = _not_implemented(OPS["div_floor"], "floor_divide")  # torch.floor_divide / //: no derivative
_FLOORDIV_ = _not_implemented(OPS["div_floor"], "floor_divide_")
_REM_OPS = (renamed(OPS["remainder"], "RemainderBackward1"), OPS["remainder"],
            _not_implemented(OPS["remainder"], "remainder"))
for _name, _ops in (("remainder", _REM_OPS),
                    ("fmod", (renamed(OPS["fmod"], "FmodBackward1"), OPS["fmod"], OPS["fmod"])),
                    ("copysign", (OPS["copysign"], renamed(OPS["copysign"], "CopysignBackward1"), OPS["copysign"])),
                    ("xlogy", (OPS["xlogy"], renamed(OPS["xlogy"], "XlogyBackward2"),
                               renamed(OPS["xlogy"], "XlogyBackward1")))):
    FUNCS[_name] = _overload_forms(_name, _ops)


def _div_op(rounding_mode):
    op = _DIV_MODES.get(rounding_mode, 0)
    if op == 0:
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")
    return op


def _akw(alpha):
    # alpha=True or 1.0 is not "no alpha": torch checks its type against the result dtype
    return {} if type(alpha) is int and alpha == 1 else {"alpha": alpha}


def _is_bool(x):
    return type(x) is bool or (isinstance(x, Tensor) and x.dtype.category == 0)


def _sub_ok(a, b):
    """torch refuses subtraction with bool operands."""
    if _is_bool(a) or _is_bool(b):
        if isinstance(a, Tensor) and isinstance(b, Tensor) and _is_bool(a) and _is_bool(b):
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                               "`logical_xor()` operator instead.")
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    return True


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, with broadcasting and torch's type promotion."""
    r = apply(_ADD, (input, other), _akw(alpha))
    return r if out is None else write_out(out, r)


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other."""
    _sub_ok(input, other)
    r = apply(_SUB, (input, other), _akw(alpha))
    return r if out is None else write_out(out, r)


def div(input, other, *, rounding_mode=None, out=None):
    """input / other; ``rounding_mode`` 'trunc' or 'floor' rounds the quotient (and keeps int dtypes)."""
    r = apply(_div_op(rounding_mode), (input, other), {})
    return r if out is None else write_out(out, r)


def floor_divide(input, other, *, out=None):
    r = apply(_FLOORDIV, (input, other), {})
    return r if out is None else write_out(out, r)


def rsub(input, other, *, alpha=1):
    """other - alpha * input (torch names the node RsubBackward0, or RsubBackward1 for a Python number)."""
    _sub_ok(other, input)
    if isinstance(other, Tensor):
        return apply(_RSUB0, (input, other), _akw(alpha))
    return apply(_RSUB1, (other, input), _akw(alpha))


def _rtruediv(self, other):
    # torch computes number / tensor as reciprocal(tensor) * number (MulBackward0 over ReciprocalBackward0)
    if type(other) in (int, float, bool, complex):
        return apply2(_MUL, OPS["reciprocal"](self), other)
    return rapply2(_DIV, other, self)


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
    return apply(_pow_op(a, b), (a, b), {})


FUNCS["float_power"] = float_power


# ---------------------------------------------------------------- Tensor methods and operators
def _m_add(self, other, *, alpha=1):
    return apply(_ADD, (self, other), _akw(alpha))


def _m_add_(self, other, *, alpha=1):
    return apply_inplace(_ADD, self, (other,), _akw(alpha))


def _m_sub(self, other, *, alpha=1):
    _sub_ok(self, other)
    return apply(_SUB, (self, other), _akw(alpha))


def _m_sub_(self, other, *, alpha=1):
    _sub_ok(self, other)
    return apply_inplace(_SUB, self, (other,), _akw(alpha))


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
    if self.dtype.category >= 2:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    if self.dtype.name == "bool":
        return apply(OPS["logical_not"], (self,), {})
    return apply(OPS["bitwise_not"], (self,), {})


# torch names pow's overloads apart: Tensor ** Scalar is PowBackward0, Tensor ** Tensor PowBackward1,
# Scalar ** Tensor PowBackward2 (same derivative)
_POW1, _POW2 = renamed(OPS["pow"], "PowBackward1"), renamed(OPS["pow"], "PowBackward2")


def _pow_op(a, b):
    if isinstance(b, Tensor):
        return _POW1 if isinstance(a, Tensor) else _POW2
    return OPS["pow"]


def pow(input, exponent, *, out=None):
    """``input ** exponent`` elementwise with broadcasting (either may be a Python number)."""
    r = apply(_pow_op(input, exponent), (input, exponent), {})
    return r if out is None else write_out(out, r)


FUNCS["pow"] = pow
Tensor.pow = lambda self, exponent: apply2(_pow_op(self, exponent), self, exponent)
Tensor.pow_ = lambda self, exponent: apply_inplace(_pow_op(self, exponent), self, (exponent,), {})


def _rpow(self, other):
    return apply(_POW2, (other, self), {})


def _inplace_op(op):
    def f(self, other):
        return apply_inplace(op, self, (other,), {})
    return f


_NUMS = (int, float, bool, complex)
_T = Tensor
_T.add, _T.add_, _T.sub, _T.sub_ = _m_add, _m_add_, _m_sub, _m_sub_
_T.subtract, _T.subtract_ = _m_sub, _m_sub_
_T.div, _T.div_, _T.divide, _T.divide_ = _m_div, _m_div_, _m_div, _m_div_
_T.true_divide, _T.true_divide_ = _m_div, _m_div_
_T.multiply, _T.multiply_ = _T.mul, _T.mul_
_T.floor_divide = lambda self, other: apply2(_FLOORDIV, self, other)
_T.floor_divide_ = _inplace_op(_FLOORDIV_)
_T.float_power = float_power
_T.greater, _T.greater_equal, _T.less, _T.less_equal = _T.gt, _T.ge, _T.lt, _T.le
_T.not_equal, _T.arctan2 = _T.ne, _T.atan2
_T.neg, _T.negative = _neg, _neg
_T.__add__ = lambda self, other: apply2(_ADD, self, other)
# a number on the left: torch computes tensor + number, so the number's (None) edge comes second
_T.__radd__ = lambda self, other: apply2(_ADD, self, other) if type(other) in _NUMS else rapply2(_ADD, other, self)
_T.__iadd__ = _inplace_op(_ADD)
_T.__sub__ = lambda self, other: _sub_ok(self, other) and apply2(_SUB, self, other)
_T.__rsub__ = lambda self, other: _sub_ok(other, self) and rapply2(_RSUB1, other, self)
_T.__isub__ = _m_sub_
_T.__mul__ = lambda self, other: apply2(_MUL, self, other)
_T.__rmul__ = lambda self, other: apply2(_MUL, self, other) if type(other) in _NUMS else rapply2(_MUL, other, self)
_T.__imul__ = _inplace_op(_MUL)
_T.__truediv__ = lambda self, other: apply2(_DIV, self, other)
_T.__rtruediv__ = _rtruediv
_T.__itruediv__ = _inplace_op(_DIV)
_T.__floordiv__ = lambda self, other: apply2(_FLOORDIV, self, other)
_T.__rfloordiv__ = lambda self, other: rapply2(_FLOORDIV, other, self)
_T.__ifloordiv__ = _inplace_op(_FLOORDIV_)
_T.__mod__ = lambda self, other: apply2(_pick(_REM_OPS, self, other), self, other)
_T.__rmod__ = lambda self, other: rapply2(_pick(_REM_OPS, other, self), other, self)
_T.__imod__ = _T.remainder_
_T.__pow__ = lambda self, other: apply2(_POW1 if isinstance(other, Tensor) else OPS["pow"], self, other)
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
_T.__rlshift__ = lambda self, other: rapply2(OPS["bitwise_left_shift"], other, self)
_T.__rrshift__ = lambda self, other: rapply2(OPS["bitwise_right_shift"], other, self)
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


# ---------------------------------------------------------------- torch's argument checks
# ops whose ``other`` must be a Tensor (no Python-number overload in torch)
_TENSOR_OTHER = ("atan2", "arctan2", "hypot", "logaddexp", "logaddexp2", "maximum", "minimum", "fmax", "fmin",
                 "logical_and", "logical_or", "logical_xor")
# ops that also accept a Python number as ``input`` (torch has a Scalar-self overload)
_SCALAR_INPUT = ("add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
                 "remainder", "pow", "xlogy", "float_power", "bitwise_and", "bitwise_or", "bitwise_xor",
                 "bitwise_left_shift", "bitwise_right_shift")


def _not_tensor(name, arg, pos, x):
    raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")


def _guard(name, fn):
    tensor_other = name in _TENSOR_OTHER
    scalar_input = name in _SCALAR_INPUT

    def f(input, other, *args, **kw):
        if not isinstance(input, Tensor):
            if tensor_other:
                _not_tensor(name, "input", 1, input)
            if not scalar_input:
                raise TypeError(f"{name}() received an invalid combination of arguments - got "
                                f"({type(input).__name__}, {type(other).__name__}), but expected one of:\n"
                                f" * (Tensor input, Tensor other, *, Tensor out = None)\n"
                                f" * (Tensor input, Number other, *, Tensor out = None)\n")
        if tensor_other and not isinstance(other, Tensor):
            _not_tensor(name, "other", 2, other)
        return fn(input, other, *args, **kw)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = fn.__doc__
    return f


def _guard_method(name, m):
    def f(self, other, *args, **kw):
        if not isinstance(other, Tensor):
            _not_tensor(name, "other", 1, other)
        return m(self, other, *args, **kw)
    return f


for _name in list(FUNCS):
    FUNCS[_name] = _guard(_name, FUNCS[_name])
for _name in _TENSOR_OTHER:
    for _m in (_name, _name + "_"):
        if hasattr(_T, _m):
            setattr(_T, _m, _guard_method(_name, getattr(_T, _m)))
# torch has no in-place forms of these
for _name in ("logaddexp", "logaddexp2", "maximum", "minimum", "fmax", "fmin"):
    delattr(_T, _name + "_")
for _alias, _name in (("greater", "gt"), ("greater_equal", "ge"), ("less", "lt"), ("less_equal", "le"),
                      ("not_equal", "ne"), ("arctan2", "atan2")):
    setattr(_T, _alias + "_", getattr(_T, _name + "_"))
_T.float_power_ = lambda self, exponent: self.copy_(float_power(self, exponent)) if self.dtype in (
    D.float64, D.complex128) else _float_power_err(self)


def _float_power_err(self):
    from ._registry import _type_name
    raise RuntimeError(f"the base given to float_power_ has dtype {_type_name(self.dtype)} but the operation's "
                       f"result requires dtype Double")


globals().update(FUNCS)
