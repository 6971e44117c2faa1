"""More elementwise ops: where, clamp/clip, lerp, addcmul/addcdiv, nan_to_num, round(decimals),
isclose/allclose/equal, heaviside, sinc, deg2rad/rad2deg, positive, polygamma, mvlgamma, i0.

Forward kernels work on raw ``xp`` arrays; gradients are written in ember ops so they can be
differentiated again. Special functions come from ``_special`` (vectorised, any backend).
"""
import math
import warnings

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from . import _special as S
from ._registry import _promotion_key, _type_name, apply, apply_inplace, defop, elementwise_shape, write_out

_PI = math.pi


def _kind(npdt):
    """NumPy's dtype kind, with ml_dtypes' bfloat16 (kind 'V') counted as floating."""
    return "f" if npdt.name == "bfloat16" else npdt.kind


# ---------------------------------------------------------------- shared helpers
def broadcast_shapes(*shapes):
    """Broadcast shapes with torch's RuntimeError (not NumPy's ValueError) on a mismatch."""
    nd = max((len(s) for s in shapes), default=0)
    out = [1] * nd
    for s in shapes:
        for i, n in enumerate(reversed(s)):
            j = nd - 1 - i
            if out[j] == 1:
                out[j] = n
            elif n != 1 and n != out[j]:
                raise RuntimeError(f"The size of tensor a ({out[j]}) must match the size of tensor b ({n}) at "
                                   f"non-singleton dimension {j}")
    return tuple(out)


def _shape(a):
    return a._data.shape if isinstance(a, Tensor) else ()


_CTYPE = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
          "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
          "uint8": "unsigned char", "bool": "bool", "complex64": "c10::complex<float>",
          "complex128": "c10::complex<double>"}
_CSCALAR = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
            "float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
            "bool": "bool"}


def _check_scalar_fits(v, dt):
    """torch refuses a Python scalar that does not fit the computation dtype (int8 and 300, float and 1j)."""
    if isinstance(v, bool) or v is None or isinstance(v, Tensor):
        return
    bad = False
    if isinstance(v, complex) and dt.category < 3 and v.imag != 0:
        bad = True
    elif isinstance(v, int) and dt.category == 1:
        info = np.iinfo(dt.np)
        # unsigned types also take negatives down to -max (they wrap around, as in torch)
        lo = -int(info.max) if info.min == 0 else int(info.min)
        bad = not lo <= v <= info.max
    elif isinstance(v, (int, float)) and dt is D.float32:
        f = float(v)
        bad = math.isfinite(f) and abs(f) > 3.4028234663852886e38
    if bad:
        raise RuntimeError(f"value cannot be converted to type {_CSCALAR.get(dt.name, dt.name)} without overflow")


def _need_tensor(fn, name, pos, v):
    if not isinstance(v, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not {type(v).__name__}")


def _zeros_like(g):
    return g.new_zeros(g.shape)


def _mask_grad(mask, g):
    return where(mask, g, 0.0)


def _finfo(npdt):
    try:
        return np.finfo(npdt)
    except (TypeError, ValueError):  # bfloat16 (ml_dtypes) keeps its own finfo
        import ml_dtypes
        return ml_dtypes.finfo(npdt)


def _out(r, out):
    return r if out is None else write_out(out, r)


# ---------------------------------------------------------------- where
def _where_fwd(xp, c, a, b, npdt):
    if c.dtype != np.bool_:
        c = c.astype(np.bool_)
    return xp.where(c, a, b).astype(npdt, copy=False)


def _where_vjp(g, out, c, a, b, needs, npdt):
    ga = where(c, g, 0.0) if needs[1] else None
    gb = where(c, 0.0, g) if needs[2] else None
    return None, ga, gb


# torch's node: no edge for the condition, a (None) edge for a number operand
_WHERE = defop("where", "raw", _where_fwd, _where_vjp, needs=True, save_in=(True, False, False), save_out=False,
               pointwise=True, nodiff=(0,), scalar_edges=True)


def where(condition, input=None, other=None, *, out=None):
    """Elements of ``input`` where ``condition`` holds, else of ``other``; one argument: ``nonzero(as_tuple=True)``."""
    if input is None and other is None:
        from .. import ops
        return ops.nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where() missing required argument 'other'" if other is None else
                        "where() missing required argument 'input'")
    _need_tensor("where", "condition", 1, condition)
    if condition.dtype is not D.bool_:
        if condition.dtype is D.uint8:
            warnings.warn("where received a uint8 condition tensor. This behavior is deprecated and will be "
                          "removed in a future version of PyTorch. Use a boolean condition instead.")
        else:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                               f"{_type_name(condition.dtype)}")
    dt = D.result_type_of(_promotion_key((input, other)))
    for v in (input, other):
        _check_scalar_fits(v, dt)
    broadcast_shapes(_shape(condition), _shape(input), _shape(other))
    r = apply(_WHERE, (condition, input, other), {"npdt": dt.np})
    return _out(r, out)


def _where_method(self, condition, y):
    return where(condition, self, y)


# ---------------------------------------------------------------- clamp / clip
def _clamp_fwd(xp, x, lo, hi):
    if x.dtype == np.bool_ and not hasattr(lo, "shape") and not hasattr(hi, "shape"):
        k = "clamp_scalar_cpu" if lo is not None and hi is not None else \
            ("clamp_min_scalar_cpu" if lo is not None else "clamp_max_scalar_cpu")
        raise NotImplementedError(f"\"{k}\" not implemented for 'Bool'")
    for v in (lo, hi):
        if getattr(v, "dtype", None) is not None and _kind(v.dtype) == "c":
            raise NotImplementedError(f"\"maximum_cpu\" not implemented for '{S._tn(v.dtype)}'")
    r = x
    if lo is not None:
        r = xp.maximum(r, lo)
    if hi is not None:
        r = xp.minimum(r, hi)
    return r.copy() if r is x else r


def _clamp_vjp(g, out, x, lo, hi, needs):
    gx = glo = ghi = None
    if needs[0]:
        m = None
        if lo is not None:
            m = x >= lo
        if hi is not None:
            m = (x <= hi) if m is None else m & (x <= hi)
        gx = _mask_grad(m, g)
    if needs[1]:
        m = x < lo
        if hi is not None:
            m = m & (lo < hi)
        glo = _mask_grad(m, g)
    if needs[2]:
        m = x > hi
        if lo is not None:
            m = m | (lo > hi)
        ghi = _mask_grad(m, g)
    return gx, glo, ghi


def _clamp_op(name, node):
    return defop(name, "promote", _clamp_fwd, _clamp_vjp, needs=True, save_out=False, node=node,
                 shape=elementwise_shape)


_CLAMP = {("both", False): _clamp_op("clamp", "ClampBackward1"),
          ("both", True): _clamp_op("clamp_tensor", "ClampBackward0"),
          ("min", False): _clamp_op("clamp_min", "ClampMinBackward0"),
          ("min", True): _clamp_op("clamp_min_tensor", "ClampMinBackward1"),
          ("max", False): _clamp_op("clamp_max", "ClampMaxBackward0"),
          ("max", True): _clamp_op("clamp_max_tensor", "ClampMaxBackward1")}


def _clamp_args(input, lo, hi, kind):
    if lo is None and hi is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(input, Tensor) and input.dtype.category == 3:
        raise NotImplementedError("clamp is not supported for complex types")
    tens = isinstance(lo, Tensor) or isinstance(hi, Tensor)
    if tens:
        broadcast_shapes(_shape(input), _shape(lo), _shape(hi))
    elif isinstance(input, Tensor):
        dt = D.result_type_of(_promotion_key((input, lo, hi)))
        _check_scalar_fits(lo, dt)
        _check_scalar_fits(hi, dt)
    return _CLAMP[(kind, tens)], (input, lo, hi)


def clamp(input, min=None, max=None, *, out=None):
    """Limit every element to [min, max]; either bound may be a number, a tensor, or None."""
    op, args = _clamp_args(input, min, max, "both")
    return _out(apply(op, args, {}), out)


def clamp_min(input, min, *, out=None):
    op, args = _clamp_args(input, min, None, "min")
    return _out(apply(op, args, {}), out)


def clamp_max(input, max, *, out=None):
    op, args = _clamp_args(input, None, max, "max")
    return _out(apply(op, args, {}), out)


def _clamp_(self, min=None, max=None):
    op, args = _clamp_args(self, min, max, "both")
    return apply_inplace(op, self, args[1:], {})


def _clamp_min_(self, min):
    op, args = _clamp_args(self, min, None, "min")
    return apply_inplace(op, self, args[1:], {})


def _clamp_max_(self, max):
    op, args = _clamp_args(self, None, max, "max")
    return apply_inplace(op, self, args[1:], {})


# ---------------------------------------------------------------- lerp
def _lerp_fwd(xp, a, b, w):
    if not isinstance(w, (int, float, complex)) and w.dtype != a.dtype:
        w = w.astype(a.dtype)
    d = b - a
    # two formulas so that weight 0 gives start and weight 1 gives end exactly
    if isinstance(w, (int, float, complex)):
        r = a + w * d if abs(w) < 0.5 else b - d * (1 - w)
    else:
        r = xp.where(xp.abs(w) < 0.5, a + w * d, b - d * (1 - w))
    return r.astype(a.dtype, copy=False)


def _lerp_vjp(g, out, a, b, w, needs):
    return (g * (1 - w) if needs[0] else None, g * w if needs[1] else None,
            g * (b - a) if needs[2] else None)


_LERP_S = defop("lerp", "raw", _lerp_fwd, _lerp_vjp, needs=True, save_in=(False, False), save_out=False,
                node="LerpBackward0",
                shape=elementwise_shape)
_LERP_T = defop("lerp_tensor", "raw", _lerp_fwd, _lerp_vjp, needs=True, save_in=(2, 2, True), save_out=False,
                node="LerpBackward1",
                shape=elementwise_shape)


def _lerp_args(input, end, weight):
    if not isinstance(end, Tensor):
        raise TypeError(f"lerp(): argument 'end' (position 2) must be Tensor, not {type(end).__name__}")
    tw = isinstance(weight, Tensor)
    if input.dtype.category < 2:
        raise NotImplementedError(f"\"lerp_kernel_{'tensor' if tw else 'scalar'}\" not implemented for "
                                  f"'{_type_name(input.dtype)}'")
    if end.dtype is not input.dtype:
        raise RuntimeError(f"expected dtype {_CTYPE[input.dtype.name]} for `end` but got dtype "
                           f"{_CTYPE[end.dtype.name]}")
    if tw and weight._data.ndim and weight.dtype is not input.dtype:
        raise RuntimeError(f"expected dtype {_CTYPE[input.dtype.name]} for `weight` but got dtype "
                           f"{_CTYPE[weight.dtype.name]}")
    if not tw:
        _check_scalar_fits(weight, input.dtype)
    broadcast_shapes(_shape(input), _shape(end), _shape(weight))
    return (_LERP_T if tw else _LERP_S), (input, end, weight)


def lerp(input, end, weight, *, out=None):
    """start + weight * (end - start), elementwise; ``weight`` is a number or a tensor."""
    op, args = _lerp_args(input, end, weight)
    return _out(apply(op, args, {}), out)


def _lerp_(self, end, weight):
    op, args = _lerp_args(self, end, weight)
    return apply_inplace(op, self, args[1:], {})


# ---------------------------------------------------------------- addcmul / addcdiv
def _value_for(value, dt):
    # the scalar is converted to the computation type first: 2.5 becomes 2 for integer results
    if dt.category == 1 and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(np.array(int(value)).astype(dt.np))  # negatives wrap for unsigned types, as in torch
    if dt.category == 0:
        return bool(value)
    return value


def _addcmul_fwd(xp, a, t1, t2, value):
    if a.dtype == np.bool_:
        raise NotImplementedError("\"addcmul_cpu_out\" not implemented for 'Bool'")
    return a + value * t1 * t2 if value != 1 else a + t1 * t2


def _addcdiv_fwd(xp, a, t1, t2, value):
    return a + value * t1 / t2 if value != 1 else a + t1 / t2


def _addcmul_vjp(g, out, a, t1, t2, needs, value):
    return (g if needs[0] else None, g * value * t2 if needs[1] else None, g * value * t1 if needs[2] else None)


def _addcdiv_vjp(g, out, a, t1, t2, needs, value):
    return (g if needs[0] else None, g * value / t2 if needs[1] else None,
            -(g * value) * t1 / (t2 * t2) if needs[2] else None)


_ADDCMUL = defop("addcmul", "promote", _addcmul_fwd, _addcmul_vjp, needs=True, save_in=(False, 2, 1), save_out=False,
                 shape=elementwise_shape)
_ADDCDIV = defop("addcdiv", "promote", _addcdiv_fwd, _addcdiv_vjp, needs=True, save_in=(False, 2, True),
                 save_out=False,
                 shape=elementwise_shape)


def _addc_args(name, input, tensor1, tensor2, value):
    _need_tensor(name, "tensor1", 2, tensor1)
    _need_tensor(name, "tensor2", 3, tensor2)
    if name == "addcdiv" and tensor1.dtype.category <= 1 and tensor2.dtype.category <= 1:
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future  release "
                           "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
                           "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))."
                           "to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for "
                           "float inputs. The future addcdiv behavior is just the latter implementation: "
                           "(input + value * tensor1 / tensor2), for all dtypes.")
    dt = D.result_type_of(_promotion_key((input, tensor1, tensor2)))
    _check_scalar_fits(value, dt)
    broadcast_shapes(_shape(input), _shape(tensor1), _shape(tensor2))
    return (input, tensor1, tensor2), {"value": _value_for(value, dt)}


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 * tensor2."""
    args, kw = _addc_args("addcmul", input, tensor1, tensor2, value)
    return _out(apply(_ADDCMUL, args, kw), out)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 / tensor2."""
    args, kw = _addc_args("addcdiv", input, tensor1, tensor2, value)
    return _out(apply(_ADDCDIV, args, kw), out)


def _addcmul_(self, tensor1, tensor2, *, value=1):
    args, kw = _addc_args("addcmul", self, tensor1, tensor2, value)
    return apply_inplace(_ADDCMUL, self, args[1:], kw)


def _addcdiv_(self, tensor1, tensor2, *, value=1):
    args, kw = _addc_args("addcdiv", self, tensor1, tensor2, value)
    return apply_inplace(_ADDCDIV, self, args[1:], kw)


# ---------------------------------------------------------------- nan_to_num
def _nan_to_num_fwd(xp, x, nan, posinf, neginf):
    if _kind(x.dtype) not in "fc":
        return x.copy()
    fi = _finfo(x.real.dtype if _kind(x.dtype) == "c" else x.dtype)
    pi = float(fi.max) if posinf is None else posinf
    ni = float(fi.min) if neginf is None else neginf
    with np.errstate(over="ignore"):
        if x.dtype.name == "bfloat16":  # ml_dtypes' bfloat16: go through float32
            return xp.nan_to_num(x.astype(np.float32), nan=nan, posinf=pi, neginf=ni).astype(x.dtype)
        return xp.nan_to_num(x, copy=True, nan=nan, posinf=pi, neginf=ni)


_NAN_TO_NUM = defop("nan_to_num", "same", _nan_to_num_fwd,
                    lambda g, out, x, nan, posinf, neginf: g * x.isfinite(), save_out=False, pointwise=True)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """Replace NaN with ``nan``, +inf with ``posinf`` and -inf with ``neginf`` (dtype max/min by default)."""
    r = apply(_NAN_TO_NUM, (input,), {"nan": nan, "posinf": posinf, "neginf": neginf})
    return _out(r, out)


def _nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    return apply_inplace(_NAN_TO_NUM, self, (), {"nan": nan, "posinf": posinf, "neginf": neginf})


# ---------------------------------------------------------------- round
def _round_fwd(xp, x, decimals):
    if x.dtype == np.bool_:
        raise NotImplementedError("\"round_vml_cpu\" not implemented for 'Bool'")
    if _kind(x.dtype) not in "fc":
        if decimals:
            raise NotImplementedError(f"\"round_cpu\" not implemented for '{_type_name(D.NP2DT[x.dtype])}'")
        return x.copy()
    if decimals == 0:
        return xp.rint(x)  # half to even, like torch
    p = 10.0 ** min(abs(decimals), 400) if abs(decimals) <= 308 else math.inf
    with np.errstate(all="ignore"):
        if decimals > 0:
            return xp.rint(x * p) / p
        return xp.rint(x / p) * p


_ROUND = defop("round", "same", _round_fwd, lambda g, out, x, decimals: _zeros_like(g), save_in=False,
               save_out=False, pointwise=True)
_ROUND_D = defop("round_decimals", "same", _round_fwd, lambda g, out, x, decimals: _zeros_like(g),
                 save_in=False, save_out=False, node="RoundBackward1", pointwise=True)


def round(input, *, decimals=None, out=None):
    """Round half to even; with ``decimals``, to that many decimal places (negative: tens, hundreds, ...)."""
    op = _ROUND if decimals is None else _ROUND_D
    return _out(apply(op, (input,), {"decimals": int(decimals or 0)}), out)


def _round_m(self, *, decimals=None):
    return round(self, decimals=decimals)


def _round_(self, *, decimals=None):
    op = _ROUND if decimals is None else _ROUND_D
    return apply_inplace(op, self, (), {"decimals": int(decimals or 0)})


# ---------------------------------------------------------------- comparisons that return Python bools
def equal(input, other):
    """True if both tensors have the same shape and the same values (after type promotion)."""
    _need_tensor("equal", "input", 1, input)
    _need_tensor("equal", "other", 2, other)
    if input._data.shape != other._data.shape:
        return False
    return bool((input == other).all().item()) if input._data.size else True


def _isclose_fwd(xp, a, b, rtol, atol, equal_nan):
    if a.dtype == np.bool_:
        return a == b
    if _kind(a.dtype) in "iu":
        a, b = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(all="ignore"):
        close = a == b
        if equal_nan:
            close = close | (xp.isnan(a) & xp.isnan(b))
        err = xp.abs(a - b)
        allowed = atol + xp.abs(rtol * b)
        close = close | (xp.isfinite(err) & (err <= allowed))
    return close


_ISCLOSE = defop("isclose", "raw", _isclose_fwd)


def _isclose_check(name, input, other, rtol, atol):
    _need_tensor(name, "input", 1, input)
    _need_tensor(name, "other", 2, other)
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{_type_name(input.dtype)} did not match {_type_name(other.dtype)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    broadcast_shapes(_shape(input), _shape(other))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise |input - other| <= atol + rtol * |other| (infinities equal only to themselves)."""
    _isclose_check("isclose", input, other, rtol, atol)
    return apply(_ISCLOSE, (input, other), {"rtol": float(rtol), "atol": float(atol),
                                            "equal_nan": bool(equal_nan)})


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True if ``isclose`` holds for every element."""
    r = isclose(input, other, rtol, atol, equal_nan)
    return bool(r.all().item())


# ---------------------------------------------------------------- heaviside
def _heaviside_fwd(xp, x, v):
    return xp.where(x == 0, v, (x > 0)).astype(x.dtype, copy=False)


def _no_derivative(name):
    def vjp(g, out, *a, **k):
        raise RuntimeError(f"the derivative for '{name}' is not implemented.")
    return vjp


_HEAVISIDE = defop("heaviside", "raw", _heaviside_fwd, _no_derivative("heaviside"), save_in=False,
                   save_out=False, node="NotImplemented", shape=elementwise_shape)


def _heaviside_args(input, values):
    _need_tensor("heaviside", "values", 2, values)
    if input.dtype.category == 3 or values.dtype.category == 3:
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    if input.dtype is not values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    broadcast_shapes(_shape(input), _shape(values))


def heaviside(input, values, *, out=None):
    """0 where input < 0, ``values`` where input == 0, 1 where input > 0."""
    _heaviside_args(input, values)
    return _out(apply(_HEAVISIDE, (input, values), {}), out)


def _heaviside_(self, values):
    _heaviside_args(self, values)
    return apply_inplace(_HEAVISIDE, self, (values,), {})


# ---------------------------------------------------------------- sinc, deg2rad, rad2deg, positive
def _sinc_fwd(xp, x):
    with np.errstate(all="ignore"):
        px = x * _PI
        r = xp.sin(px) / px
    return xp.where(x == 0, 1, r).astype(x.dtype, copy=False)


def _sinc_vjp(g, out, x):
    z = x == 0
    xs = where(z, 1.0, x)  # the derivative is 0 at 0; keep the formula away from 0/0
    px = xs * _PI
    d = (px * px.cos() - px.sin()) / (px * xs)
    return g * where(z, 0.0, d)


_SINC = defop("sinc", "float", _sinc_fwd, _sinc_vjp, save_out=False, pointwise=True)


def _no_complex(name):
    def f(xp, x):
        if _kind(x.dtype) == "c":
            raise RuntimeError(f"{name} is not supported for complex tensors.")
        return x * (_PI / 180 if name == "deg2rad" else 180 / _PI)
    return f


_DEG2RAD = defop("deg2rad", "float", _no_complex("deg2rad"), lambda g, out, x: g * (_PI / 180),
                 save_in=False, save_out=False, node="Deg2RadBackward0", pointwise=True)
_RAD2DEG = defop("rad2deg", "float", _no_complex("rad2deg"), lambda g, out, x: g * (180 / _PI),
                 save_in=False, save_out=False, node="Rad2DegBackward0", pointwise=True)


def positive(input):
    """Returns ``input`` itself; bool tensors raise like torch's unary ``+``."""
    if input.dtype is D.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


# ---------------------------------------------------------------- polygamma, mvlgamma, i0
def _pg_vjp(g, out, x, n):
    return g * apply(_POLYGAMMA, (x,), {"n": n + 1})


_POLYGAMMA = defop("polygamma", "float", lambda xp, x, n: S.polygamma(xp, n, x), _pg_vjp, save_out=False,
                   pointwise=True)


def _pg_n(n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return int(n)


def polygamma(n, input, *, out=None):
    """The n-th derivative of digamma (n = 0 is digamma itself)."""
    return _out(apply(_POLYGAMMA, (input,), {"n": _pg_n(n)}), out)


def _mvlgamma_fwd(xp, x, p):
    r = S.lgamma(xp, x)
    for i in range(1, p):
        r = r + S.lgamma(xp, x - i / 2)
    return r + (p * (p - 1) / 4 * math.log(_PI))


def _mvlgamma_vjp(g, out, x, p):
    d = x.digamma()
    for i in range(1, p):
        d = d + (x - i / 2).digamma()
    return g * d


_MVLGAMMA = defop("mvlgamma", "float", _mvlgamma_fwd, _mvlgamma_vjp, save_out=False, pointwise=True)


def _mv_p(p):
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    return int(p)


def mvlgamma(input, p, *, out=None):
    """Multivariate log-gamma of dimension ``p``: sum of lgamma(x - i/2) plus p(p-1)/4 log(pi)."""
    if input.dtype.category == 3:
        raise NotImplementedError(f"\"arange_cpu\" not implemented for '{_type_name(input.dtype)}'")
    return _out(apply(_MVLGAMMA, (input,), {"p": _mv_p(p)}), out)


def _i1_vjp(g, out, x):
    # d/dx I1(x) = I0(x) - I1(x) / x, which tends to 1/2 at 0
    d = apply(_I0, (x,), {}) - out / where(x == 0, 1.0, x)
    return g * where(x == 0, 0.5, d)


_I1 = defop("special_i1", "float", lambda xp, x: S.i1(xp, x), _i1_vjp, pointwise=True)
_I0 = defop("i0", "float", lambda xp, x: S.i0(xp, x), lambda g, out, x: g * apply(_I1, (x,), {}),
            save_out=False, pointwise=True)


def i0(input, *, out=None):
    """Modified Bessel function of the first kind, order 0."""
    return _out(apply(_I0, (input,), {}), out)


def _unary(op, name):
    def fn(input, *, out=None):
        return _out(apply(op, (input,), {}), out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}`` (torch.{name})."
    setattr(Tensor, name, lambda self: apply(op, (self,), {}))
    setattr(Tensor, name + "_", lambda self: apply_inplace(op, self, (), {}))
    return fn


sinc = _unary(_SINC, "sinc")
deg2rad = _unary(_DEG2RAD, "deg2rad")
rad2deg = _unary(_RAD2DEG, "rad2deg")


# ---------------------------------------------------------------- Tensor methods
_T = Tensor
_T.where = _where_method
_T.clamp = lambda self, min=None, max=None: clamp(self, min, max)
_T.clip = _T.clamp
_T.clamp_ = _clamp_
_T.clip_ = _clamp_
_T.clamp_min = lambda self, min: clamp_min(self, min)
_T.clamp_max = lambda self, max: clamp_max(self, max)
_T.clamp_min_ = _clamp_min_
_T.clamp_max_ = _clamp_max_
_T.lerp = lambda self, end, weight: lerp(self, end, weight)
_T.lerp_ = _lerp_
_T.addcmul = lambda self, tensor1, tensor2, *, value=1: addcmul(self, tensor1, tensor2, value=value)
_T.addcdiv = lambda self, tensor1, tensor2, *, value=1: addcdiv(self, tensor1, tensor2, value=value)
_T.addcmul_ = _addcmul_
_T.addcdiv_ = _addcdiv_
_T.nan_to_num = lambda self, nan=0.0, posinf=None, neginf=None: nan_to_num(self, nan, posinf, neginf)
_T.nan_to_num_ = _nan_to_num_
_T.round = _round_m
_T.round_ = _round_
_T.equal = equal
_T.isclose = lambda self, other, rtol=1e-05, atol=1e-08, equal_nan=False: isclose(self, other, rtol, atol,
                                                                                  equal_nan)
_T.allclose = lambda self, other, rtol=1e-05, atol=1e-08, equal_nan=False: allclose(self, other, rtol, atol,
                                                                                    equal_nan)
_T.heaviside = lambda self, values: heaviside(self, values)
_T.heaviside_ = _heaviside_
_T.positive = positive
_T.__pos__ = positive
_T.polygamma = lambda self, n: polygamma(n, self)
_T.polygamma_ = lambda self, n: apply_inplace(_POLYGAMMA, self, (), {"n": _pg_n(n)})
_T.mvlgamma = lambda self, p: mvlgamma(self, p)
_T.mvlgamma_ = lambda self, p: apply_inplace(_MVLGAMMA, self, (), {"p": _mv_p(p)})
_T.i0 = lambda self: apply(_I0, (self,), {})
_T.i0_ = lambda self: apply_inplace(_I0, self, (), {})

FUNCS = dict(where=where, clamp=clamp, clip=clamp, clamp_min=clamp_min, clamp_max=clamp_max, lerp=lerp,
             addcmul=addcmul, addcdiv=addcdiv, nan_to_num=nan_to_num, round=round, equal=equal,
             isclose=isclose, allclose=allclose, heaviside=heaviside, sinc=sinc, deg2rad=deg2rad,
             rad2deg=rad2deg, positive=positive, polygamma=polygamma, mvlgamma=mvlgamma, i0=i0)
