"""Op-table rows for ember/ops/unary.py (elementwise one-input ops)."""
import numpy as np

from ..opinfo import FLOATS, OpInfo, Sample, arr, special_values, unary_samples

try:
    import scipy.special as sps
except ImportError:  # the refs that need SciPy are skipped without it
    sps = None

ALL = FLOATS + ("int64", "uint8", "bool")
NUMERIC = FLOATS + ("int64", "uint8")


_FEW = ("0d", "empty", "2d", "noncontig")


def _s(low=-2.0, high=2.0, special=False):
    def gen(dtype):
        for smp in unary_samples(dtype, low, high):
            # integer and bool inputs: the layouts that matter, not every shape again
            if dtype in FLOATS or smp.name in _FEW:
                yield smp
        if special:
            yield from special_values(dtype)
    return gen


def _away_from_zero(dtype):
    """Values with |x| in [0.5, 2] (reciprocal-like ops; no pole in the finite differences)."""
    for s in unary_samples(dtype, 0.5, 2.0):
        a = s.args[0]
        if a.dtype.kind in "fc" and a.size:
            sign = np.where(np.arange(a.size).reshape(a.shape) % 2 == 0, 1, -1).astype(a.dtype)
            a = np.asarray(a * sign)
            if not s.args[0].flags.c_contiguous:
                from ..opinfo import noncontig
                a = noncontig(np.ascontiguousarray(a))
        yield Sample((a,), name=s.name)


def _f(npfn):
    """Ref for a float op: integers/bools are computed in the default float dtype like torch."""
    def ref(x):
        if x.dtype.kind in "biu":
            x = x.astype(np.float32)
        return npfn(x)
    return ref


def _row(name, ref, low=-2.0, high=2.0, special=False, dtypes=ALL, samples=None, **kw):
    return OpInfo(name, samples or _s(low, high, special), ref=ref, dtypes=dtypes, inplace=kw.pop("inplace", True),
                  **kw)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _logit_ref(x, eps=None):
    x = x.astype(np.float32) if x.dtype.kind in "biu" else x
    if eps is not None:
        x = np.clip(x, eps, 1 - eps)
    return np.log(x / (1 - x))


def _logit_samples(dtype):
    yield from unary_samples(dtype, 0.05, 0.95)
    yield Sample((arr((3, 4), dtype, -0.5, 1.5, 40),), {"eps": 0.1}, name="eps", grad=False)
    yield Sample((arr((3, 4), dtype, 0.05, 0.95, 41), 0.01), name="eps-positional")


def _sgn_ref(x):
    if x.dtype == bool:
        return x
    return np.where(np.isnan(x), 0, np.sign(x)).astype(x.dtype)  # torch: sign(nan) is 0


def _angle_ref(x):
    x = x.astype(np.float32) if x.dtype.kind in "biu" else x
    return np.where(np.isnan(x), x, np.where(x < 0, np.pi, 0.0)).astype(x.dtype)


def _bitnot(x):
    return np.logical_not(x) if x.dtype == bool else np.invert(x)


_NOT_BOOL = {"bool": RuntimeError}
_NOTIMPL_BOOL = {"bool": NotImplementedError}
_SP = sps is not None

OPS = [
    _row("exp", _f(np.exp), special=True),
    _row("exp2", _f(np.exp2)),
    _row("expm1", _f(np.expm1)),
    _row("log", _f(np.log), 0.1, 3.0, special=True),
    _row("log2", _f(np.log2), 0.1, 3.0),
    _row("log10", _f(np.log10), 0.1, 3.0),
    _row("log1p", _f(np.log1p), -0.5, 2.0),
    _row("sqrt", _f(np.sqrt), 0.1, 3.0, special=True),
    _row("rsqrt", _f(lambda x: 1 / np.sqrt(x)), 0.2, 3.0),
    _row("sin", _f(np.sin), special=True),
    _row("cos", _f(np.cos)),
    _row("tan", _f(np.tan), -1.2, 1.2),
    _row("asin", _f(np.arcsin), -0.9, 0.9),
    _row("acos", _f(np.arccos), -0.9, 0.9),
    _row("atan", _f(np.arctan)),
    _row("sinh", _f(np.sinh)),
    _row("cosh", _f(np.cosh)),
    _row("tanh", _f(np.tanh), special=True),
    _row("asinh", _f(np.arcsinh)),
    _row("acosh", _f(np.arccosh), 1.1, 3.0),
    _row("atanh", _f(np.arctanh), -0.9, 0.9),
    _row("sigmoid", _f(_sigmoid), special=True),
    OpInfo("logit", _logit_samples, ref=_logit_ref, dtypes=ALL, inplace=True),
    _row("erf", _f(sps.erf) if _SP else None),
    _row("erfc", _f(sps.erfc) if _SP else None),
    _row("erfinv", _f(sps.erfinv) if _SP else None, -0.9, 0.9, atol=1e-4, rtol=1e-4),
    _row("lgamma", _f(sps.gammaln) if _SP else None, 0.5, 3.0, atol=1e-4, rtol=1e-4),
    _row("digamma", _f(sps.digamma) if _SP else None, 0.5, 3.0, atol=1e-4, rtol=1e-4),
    _row("reciprocal", _f(lambda x: 1 / x), samples=_away_from_zero, dtypes=FLOATS + ("int64", "int32"),
         errors={}),
    _row("neg", np.negative, dtypes=NUMERIC, errors=_NOT_BOOL),
    _row("square", lambda x: np.square(x.astype(np.int64)) if x.dtype == bool else np.square(x)),
    _row("abs", np.abs, special=True, dtypes=NUMERIC, errors=_NOTIMPL_BOOL),
    _row("sign", _sgn_ref, special=True, dtypes=NUMERIC + ("bool",)),
    _row("sgn", _sgn_ref, special=True, dtypes=NUMERIC + ("bool",)),
    _row("floor", np.floor, special=True, dtypes=NUMERIC, errors=_NOTIMPL_BOOL),
    _row("ceil", np.ceil, dtypes=NUMERIC, errors=_NOTIMPL_BOOL),
    _row("trunc", np.trunc, dtypes=NUMERIC, errors=_NOTIMPL_BOOL),
    _row("frac", lambda x: x - np.trunc(x), special=True, dtypes=FLOATS,
         errors={"int64": NotImplementedError, "uint8": NotImplementedError, "bool": NotImplementedError}),
    _row("relu", lambda x: np.maximum(x, 0).astype(x.dtype), dtypes=NUMERIC, errors=_NOT_BOOL),
    _row("angle", _angle_ref, special=True, inplace=False, grad=False),
    _row("signbit", np.signbit, special=True, inplace=False, grad=False),
    _row("isnan", np.isnan, special=True, inplace=False, grad=False),
    _row("isinf", np.isinf, special=True, inplace=False, grad=False),
    _row("isfinite", np.isfinite, special=True, inplace=False, grad=False),
    _row("isposinf", np.isposinf, special=True, inplace=False, grad=False, dtypes=NUMERIC),
    _row("isneginf", np.isneginf, special=True, inplace=False, grad=False, dtypes=NUMERIC),
    _row("logical_not", np.logical_not, special=True, grad=False),
    _row("bitwise_not", _bitnot, grad=False, dtypes=("int64", "int32", "int16", "int8", "uint8", "bool"),
         errors={"float32": RuntimeError}),
    _row("conj_physical", np.conj),
    OpInfo("polygamma_1", _s(0.5, 3.0), ref=_f(lambda x: sps.polygamma(1, x)) if _SP else None, grad=False,
           fn=lambda m, x: m.polygamma_1(x) if m.__name__ == "ember" else m.polygamma(1, x), atol=1e-4,
           rtol=1e-4, method=False),
]
