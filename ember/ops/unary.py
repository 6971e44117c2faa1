"""Elementwise one-input ops: forward on arrays | gradient in ember ops, one line each.

vjp signature: ``vjp(g, out, x)`` with ember tensors, so gradients are differentiable again.
"""
import math

import numpy as _np

from ..backend import cpu_kernels as _K
from . import _special as S
from ._api import unary_forms
from ._registry import OPS, ZERO, _zero_vjp, apply, apply_inplace, defop, elementwise_shape, renamed

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_2_SQRTPI = 2.0 / math.sqrt(math.pi)


def _sgn_vjp(g, out, x):
    """sgn(z) = z/|z|: for complex z the part of g along the unit circle, over |z| (0 at z = 0); real: 0."""
    if not x.is_complex():
        return g.new_zeros(g.shape)
    a = x.abs()
    r = (g - out * (out.conj() * g).real) / a
    return r.masked_fill(a == 0, 0)


def _angle_vjp(g, out, x):
    """angle(z) = atan2(y, x): g * i z / |z|^2 for complex z (0 at z = 0); a real input's angle is flat."""
    if not x.is_complex():
        return g.new_zeros(x.shape)
    a2 = x.real * x.real + x.imag * x.imag
    r = g * (x * 1j) / a2
    return r.masked_fill(a2 == 0, 0)


def _sgn_real(x):
    return x.sign()


def _tname(npdt):
    from .. import _dtype as D
    from ._registry import _type_name
    return _type_name(D.NP2DT[npdt])


def _kernel(kernel, bad, f):
    """Wrap a forward: torch's NotImplementedError when the compute dtype's kind is in ``bad``."""
    def g(xp, *args, **kw):
        for x in args:
            dt = getattr(x, "dtype", None)
            if dt is not None:
                if dt.kind in bad:
                    raise NotImplementedError(f"\"{kernel}\" not implemented for '{_tname(dt)}'")
                break
        return f(xp, *args, **kw)
    return g


def _sign(xp, x):
    # torch: sign(nan) is 0; sign of a bool is itself
    if x.dtype.kind == "b":
        return x.copy()
    r = xp.sign(x)
    return xp.where(xp.isnan(x), 0, r).astype(x.dtype) if x.dtype.kind in "fV" else r  # V: bfloat16


def _relu(xp, x):
    if x.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    if x.dtype == _np.float32 and x.size >= _RELU_COMPILED and x.flags.c_contiguous and xp is _np and \
            _K.available():
        return _K.relu(x)  # one pass instead of NumPy's NaN-aware maximum (and -0 stays -0, as in torch)
    return xp.maximum(x, 0)


_RELU_COMPILED = 4096  # below, the ctypes call costs more than NumPy's loop


def _threshold_bwd_fwd(xp, g, out):
    """torch's threshold_backward(g, out, 0), relu's gradient: 0 where out <= 0, else g (so a NaN output passes
    g on, and a NaN g where out <= 0 gives 0: ``g * (out > 0)`` differs from torch at both)."""
    if g.dtype == out.dtype == _np.float32 and g.shape == out.shape and g.size >= _RELU_COMPILED and xp is _np \
            and (g.flags.c_contiguous or not any(g.strides)) and out.flags.c_contiguous and _K.available():
        return _K.relu_backward(g, out)
    return xp.where(out <= 0, xp.zeros((), g.dtype), g)


def _threshold_bwd_vjp(gg, res, g, out, needs):
    return (apply(THRESHOLD_BWD, (gg, out), {}) if needs[0] else None,
            out.new_zeros(out.shape) if needs[1] else None)  # flat in out (almost everywhere), as in torch


def _relu_vjp(g, out, x):
    if type(g) is _np.ndarray:  # the engine's array path (CPU only)
        return _threshold_bwd_fwd(_np, g, out)
    return apply(THRESHOLD_BWD, (g, out), {})


THRESHOLD_BWD = defop("threshold_backward", "promote", _threshold_bwd_fwd, _threshold_bwd_vjp, needs=True,
                      save_out=False, node="ThresholdBackwardBackward0", shape=elementwise_shape)


def _neg(xp, x):
    if x.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    return xp.negative(x)


def _square_rule(c):
    # bool squares to int64 (torch computes it as pow(x, 2))
    from .. import _dtype as D
    return (D.int64, D.int64) if c is D.bool_ else (c, c)


def _rounding(name):
    # kind "V" is ml_dtypes' bfloat16
    return _kernel(name + "_vml_cpu", "b", lambda xp, x: getattr(xp, name)(x) if x.dtype.kind in "fcV" else x.copy())


# name, dtype rule, forward, vjp, extra options
_TABLE = [
    ("exp", "float", lambda xp, x: xp.exp(x), lambda g, out, x: g * out, {"save_in": False}),
    ("exp2", "float", lambda xp, x: xp.exp2(x), lambda g, out, x: g * out * _LN2, {"save_in": False}),
    ("expm1", "float", lambda xp, x: xp.expm1(x), lambda g, out, x: g * (out + 1), {"save_in": False}),
    ("log", "float", lambda xp, x: xp.log(x), lambda g, out, x: g / x, {"save_out": False}),
    ("log2", "float", lambda xp, x: xp.log2(x), lambda g, out, x: g / (x * _LN2), {"save_out": False}),
    ("log10", "float", lambda xp, x: xp.log10(x), lambda g, out, x: g / (x * _LN10), {"save_out": False}),
    ("log1p", "float", lambda xp, x: xp.log1p(x), lambda g, out, x: g / (x + 1),
     {"save_out": False, "node": "Log1PBackward0"}),
    ("sqrt", "float", lambda xp, x: xp.sqrt(x), lambda g, out, x: g / (2 * out), {"save_in": False}),
    ("rsqrt", "float", lambda xp, x: 1 / xp.sqrt(x), lambda g, out, x: g * (-0.5) * out * out * out,
     {"save_in": False}),
    ("sin", "float", lambda xp, x: xp.sin(x), lambda g, out, x: g * x.cos(), {"save_out": False}),
    ("cos", "float", lambda xp, x: xp.cos(x), lambda g, out, x: -(g * x.sin()), {"save_out": False}),
    ("tan", "float", lambda xp, x: xp.tan(x), lambda g, out, x: g * (1 + out * out), {"save_in": False}),
    ("asin", "float", lambda xp, x: xp.arcsin(x), lambda g, out, x: g / (1 - x * x).sqrt(), {"save_out": False}),
    ("acos", "float", lambda xp, x: xp.arccos(x), lambda g, out, x: -(g / (1 - x * x).sqrt()),
     {"save_out": False}),
    ("atan", "float", lambda xp, x: xp.arctan(x), lambda g, out, x: g / (1 + x * x), {"save_out": False}),
    ("sinh", "float", lambda xp, x: xp.sinh(x), lambda g, out, x: g * x.cosh(), {"save_out": False}),
    ("cosh", "float", lambda xp, x: xp.cosh(x), lambda g, out, x: g * x.sinh(), {"save_out": False}),
    ("tanh", "float", lambda xp, x: xp.tanh(x), lambda g, out, x: g * (1 - out * out), {"save_in": False}),
    ("asinh", "float", lambda xp, x: xp.arcsinh(x), lambda g, out, x: g / (x * x + 1).sqrt(),
     {"save_out": False}),
    ("acosh", "float", lambda xp, x: xp.arccosh(x), lambda g, out, x: g / (x * x - 1).sqrt(),
     {"save_out": False}),
    ("atanh", "float", lambda xp, x: xp.arctanh(x), lambda g, out, x: g / (1 - x * x), {"save_out": False}),
    ("sigmoid", "float", lambda xp, x: S.sigmoid(xp, x), lambda g, out, x: g * out * (1 - out),
     {"save_in": False}),
    ("logit", "float", lambda xp, x, eps=None: S.logit(xp, x, eps),
     lambda g, out, x, eps=None: S.logit_grad(g, x, eps), {"save_out": False}),
    ("erf", "float", lambda xp, x: S.erf(xp, x), lambda g, out, x: g * _2_SQRTPI * (-(x * x)).exp(),
     {"save_out": False}),
    ("erfc", "float", lambda xp, x: S.erfc(xp, x), lambda g, out, x: -(g * _2_SQRTPI * (-(x * x)).exp()),
     {"save_out": False}),
    ("erfinv", "float", lambda xp, x: S.erfinv(xp, x),
     lambda g, out, x: g * (math.sqrt(math.pi) / 2) * (x.erfinv() ** 2).exp(), {"save_out": False}),
    ("lgamma", "float", lambda xp, x: S.lgamma(xp, x), lambda g, out, x: g * x.digamma(), {"save_out": False}),
    ("digamma", "float", lambda xp, x: S.digamma(xp, x), lambda g, out, x: g * x.polygamma_1(),
     {"save_out": False}),
    # digamma's derivative; torch's node is polygamma(1, x)'s, whose own derivative is polygamma(2, x)
    ("polygamma_1", "float", lambda xp, x: S.trigamma(xp, x), lambda g, out, x: g * x.polygamma(2),
     {"save_out": False, "node": "PolygammaBackward0"}),
    ("reciprocal", "float", lambda xp, x: 1 / x, lambda g, out, x: -(g * out * out), {"save_in": False}),
    ("neg", "same", _neg, lambda g, out, x: -g, {"save_in": False, "save_out": False}),
    ("square", _square_rule, lambda xp, x: x * x, lambda g, out, x: g * 2 * x,
     {"save_out": False, "node": "PowBackward0"}),  # torch's square is pow(x, 2)
    ("abs", "real", _kernel("abs_cpu", "b", lambda xp, x: xp.abs(x)), lambda g, out, x: g * x.sgn(),
     {"save_out": False}),
    ("sign", "same", _sign, ZERO, {"save_in": False, "save_out": False}),
    ("sgn", "same", lambda xp, x: S.sgn(xp, x) if x.dtype.kind == "c" else _sign(xp, x), _sgn_vjp, {}),
    ("floor", "same", _rounding("floor"), ZERO, {"save_in": False, "save_out": False}),
    ("ceil", "same", _rounding("ceil"), ZERO, {"save_in": False, "save_out": False}),
    ("trunc", "same", _rounding("trunc"), ZERO, {"save_in": False, "save_out": False}),
    ("frac", "same", _kernel("frac_cpu", "biu", lambda xp, x: x - xp.trunc(x)), lambda g, out, x: g,
     {"save_in": False, "save_out": False}),
    ("relu", "same", _relu, _relu_vjp, {"save_in": False}),
    ("angle", "float_real", lambda xp, x: xp.angle(x) if x.dtype.kind == "c" else
     xp.where(x < 0, math.pi, 0.0).astype(x.dtype) * (x == x) + xp.where(x != x, x, 0), _angle_vjp,
     {"save_out": False}),
    ("signbit", "bool", lambda xp, x: xp.signbit(x), None, {}),
    ("isnan", "bool", lambda xp, x: xp.isnan(x), None, {}),
    ("isinf", "bool", lambda xp, x: xp.isinf(x), None, {}),
    ("isfinite", "bool", lambda xp, x: xp.isfinite(x), None, {}),
    ("isposinf", "bool", lambda xp, x: xp.isposinf(x) if x.dtype.kind != "c" else xp.zeros(x.shape, bool),
     None, {}),
    ("isneginf", "bool", lambda xp, x: xp.isneginf(x) if x.dtype.kind != "c" else xp.zeros(x.shape, bool),
     None, {}),
    ("logical_not", "bool", lambda xp, x: xp.logical_not(x), None, {}),
    ("bitwise_not", "integral", _kernel("bitwise_not_cpu", "fc", lambda xp, x: S.bitwise_not(xp, x)), None, {}),
    ("conj_physical", "same", lambda xp, x: xp.conj(x), lambda g, out, x: g.conj_physical(),
     {"save_in": False, "save_out": False}),
]

# vjps of these are already written in torch's complex convention (or the op is not analytic)
_NOT_HOLOMORPHIC = {"abs", "sgn", "angle", "conj_physical", "sign", "floor", "ceil", "trunc", "frac", "relu"}
# vjps written with operators only: the engine may run them on raw arrays (see Op)
_ARRAYS = {"exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "tan", "tanh", "atan",
           "atanh", "sigmoid", "reciprocal", "neg", "square", "relu", "frac"}
FUNCS = {}
for _name, _rule, _fwd, _vjp, _opts in _TABLE:
    _op = defop(_name, _rule, _fwd, _vjp if _vjp is not ZERO else _zero_vjp, shape=elementwise_shape,
                holo=_name not in _NOT_HOLOMORPHIC, arrays=_name in _ARRAYS, **_opts)
    if _name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit", "angle"):
        FUNCS[_name] = unary_forms(_op, inplace=False)
    elif _name == "logit":
        continue  # takes eps: defined below
    else:
        FUNCS[_name] = unary_forms(_op)


def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when eps is given (torch.logit)."""
    from ._registry import apply, write_out
    r = apply(_LOGIT, (input,), {"eps": eps})
    return r if out is None else write_out(out, r)


def _logit_method(self, eps=None):
    return logit(self, eps)


def _logit_(self, eps=None):
    from ._registry import apply_inplace
    return apply_inplace(_LOGIT, self, (), {"eps": eps})


_LOGIT = OPS_LOGIT = __import__("ember.ops._registry", fromlist=["OPS"]).OPS["logit"]
FUNCS["logit"] = logit
from .._tensor import Tensor as _T  # noqa: E402

_T.logit, _T.logit_ = _logit_method, _logit_


def conj(input):
    """The complex conjugate; real tensors are returned as they are (torch's lazy conj is a no-op there)."""
    return input.conj_physical() if input.dtype.category == 3 else input


def resolve_conj(input):
    return input


def is_conj(input):
    return False


_T.conj, _T.resolve_conj, _T.resolve_neg = conj, resolve_conj, resolve_conj
_conj_physical, _conj_physical_m = FUNCS["conj_physical"], _T.conj_physical


_CONJ_PHYSICAL_ = renamed(OPS["conj_physical"], "ConjPhysicalBackward1")  # torch names the in-place form apart


def conj_physical(input, *, out=None):
    """The conjugate, materialized; a real tensor is returned itself, as torch does."""
    if out is None and isinstance(input, _T) and input.dtype.category != 3:
        return input
    return _conj_physical(input, out=out)


_T.conj_physical = lambda self: self if self.dtype.category != 3 else _conj_physical_m(self)
_T.conj_physical_ = lambda self: apply_inplace(_CONJ_PHYSICAL_, self, (), {})
FUNCS["conj_physical"] = conj_physical
_T.is_conj, _T.is_neg = is_conj, is_conj
FUNCS.update(conj=conj, resolve_conj=resolve_conj, resolve_neg=resolve_conj, is_conj=is_conj)
globals().update(FUNCS)
