"""Op-table rows for ember/ops/pointwise.py (where, clamp, lerp, addcmul, nan_to_num, round, isclose, ...)."""
import math

import numpy as np

from ..opinfo import FLOATS, NUMERIC, OpInfo, Sample, arr, noncontig, special_values, unary_samples

try:
    import scipy.special as sps
except ImportError:  # refs that need SciPy are skipped without it
    sps = None

_FI = FLOATS + ("int64", "int32")


def _as_float(x):
    return x.astype(np.float32) if x.dtype.kind in "biu" else x


# ---------------------------------------------------------------- where
def _where_samples(dtype):
    c = arr((3, 4), "bool", seed=1)
    yield Sample((c, arr((3, 4), dtype, seed=2), arr((3, 4), dtype, seed=3)), name="2d")
    yield Sample((c, arr((4,), dtype, seed=4), arr((3, 1), dtype, seed=5)), name="broadcast")
    yield Sample((arr((), "bool", seed=6), arr((2, 3), dtype, seed=7), arr((), dtype, seed=8)), name="0d-cond")
    yield Sample((c, noncontig(arr((3, 4), dtype, seed=9)), arr((3, 4), dtype, seed=10)), name="noncontig")
    yield Sample((arr((0, 2), "bool"), arr((0, 2), dtype), arr((0, 2), dtype)), name="empty")
    yield Sample((c, arr((3, 4), dtype, seed=11), 0), name="scalar-other")
    yield Sample((arr((3,), "bool", seed=12), arr((3,), dtype, seed=13), arr((2,), dtype)), name="bad-shape",
                 error=RuntimeError)


def _where_ref(c, x, y):
    return np.where(c, x, y)


# ---------------------------------------------------------------- clamp family
def _clamp_samples(dtype):
    x = arr((3, 4), dtype, -4, 4, seed=1)
    yield Sample((x, -1, 2), name="both")
    yield Sample((x,), {"min": 0}, name="min-only")
    yield Sample((x,), {"max": 1}, name="max-only")
    yield Sample((x, 1.5), name="float-bound")
    yield Sample((x, arr((4,), dtype, -2, 0, seed=2), arr((3, 1), dtype, 0, 2, seed=3)), name="tensor-bounds")
    yield Sample((arr((), dtype, seed=4), -0.5, 0.5), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, -4, 4, seed=5)), -1, 1), name="noncontig")
    yield Sample((arr((0,), dtype), -1, 1), name="empty")
    yield Sample((x, 2, -1), name="min>max")
    yield Sample((x,), name="no-bounds", error=RuntimeError)


def _clamp_ref(x, min=None, max=None):
    r = x
    if min is not None:
        r = np.maximum(r, min)
    if max is not None:
        r = np.minimum(r, max)
    return r


def _clamp_one(kind):
    def gen(dtype):
        x = arr((3, 4), dtype, -4, 4, seed=1)
        yield Sample((x, 1), name="scalar")
        yield Sample((x, arr((4,), dtype, -2, 2, seed=2)), name="tensor")
        yield Sample((arr((), dtype, seed=3), 0), name="0d")
        yield Sample((arr((0, 3), dtype), 0), name="empty")
    return gen


# ---------------------------------------------------------------- lerp, addcmul, addcdiv
def _lerp_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), arr((3, 4), dtype, seed=2), 0.3), name="scalar-w")
    yield Sample((arr((3, 4), dtype, seed=1), arr((3, 4), dtype, seed=2), 0.8), name="scalar-w-hi")
    yield Sample((arr((3, 4), dtype, seed=3), arr((4,), dtype, seed=4), arr((3, 1), dtype, -0.5, 1.5, seed=5)),
                 name="tensor-w")
    yield Sample((arr((), dtype, seed=6), arr((), dtype, seed=7), arr((), dtype, 0, 1, seed=8)), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=9)), arr((3, 4), dtype, seed=10), 0.5), name="noncontig")
    yield Sample((arr((0, 2), dtype), arr((0, 2), dtype), 0.5), name="empty")


def _lerp_ref(a, b, w):
    return a + w * (b - a)


def _addc_samples(dtype):
    lo = 0.5 if dtype in FLOATS else 1
    yield Sample((arr((3, 4), dtype, seed=1), arr((3, 4), dtype, seed=2), arr((3, 4), dtype, lo, 2, seed=3)),
                 name="2d")
    yield Sample((arr((3, 4), dtype, seed=4), arr((4,), dtype, seed=5), arr((3, 1), dtype, lo, 2, seed=6)),
                 {"value": 2}, name="broadcast-value")
    yield Sample((arr((), dtype, seed=7), arr((), dtype, seed=8), arr((), dtype, lo, 2, seed=9)), {"value": -1},
                 name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=10)), arr((3, 4), dtype, seed=11),
                  arr((3, 4), dtype, lo, 2, seed=12)), name="noncontig")
    yield Sample((arr((0,), dtype), arr((0,), dtype), arr((0,), dtype)), name="empty")


def _addcmul_ref(a, b, c, value=1):
    return a + value * b * c


def _addcdiv_ref(a, b, c, value=1):
    return a + value * b / c


# ---------------------------------------------------------------- nan_to_num, round
def _ntn_samples(dtype):
    yield from unary_samples(dtype)
    yield from special_values(dtype)
    if dtype in FLOATS:
        v = np.array([np.nan, np.inf, -np.inf, 1.0], dtype)
        yield Sample((v,), {"nan": 1.5, "posinf": 9.0, "neginf": -9.0}, name="custom", grad=False)
        yield Sample((v, 2.0), name="nan-positional", grad=False)


def _round_samples(dtype):
    yield from unary_samples(dtype, -50, 50)
    if dtype in FLOATS:
        yield Sample((np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.25], dtype),), name="halves", grad=False)
        yield Sample((arr((3, 4), dtype, -50, 50, seed=5),), {"decimals": 2}, name="decimals2")
        yield Sample((arr((3, 4), dtype, -500, 500, seed=6),), {"decimals": -1}, name="decimals-neg")
        yield Sample((np.array([1.25, 2.675, -0.125], dtype),), {"decimals": 1}, name="decimals-halves", grad=False)


def _round_ref(x, decimals=0):
    if x.dtype.kind in "iub":
        return x.copy()
    if decimals == 0:
        return np.rint(x)
    if decimals > 0:
        p = 10.0 ** decimals
        return np.rint(x * p) / p
    p = 10.0 ** -decimals
    return np.rint(x / p) * p


# ---------------------------------------------------------------- isclose, heaviside
def _isclose_samples(dtype):
    a = arr((3, 4), dtype, seed=1)
    b = a + (np.asarray(arr((3, 4), dtype, 0, 2, seed=2)) * (1e-6 if dtype in FLOATS else 1)).astype(dtype)
    yield Sample((a, b), name="near")
    yield Sample((a, b), {"rtol": 0.0, "atol": 0.0}, name="exact")
    yield Sample((a, arr((4,), dtype, seed=3)), {"atol": 1.0}, name="broadcast-atol")
    if dtype in FLOATS:
        s = np.array([np.nan, np.inf, -np.inf, 1.0, np.nan], dtype)
        t = np.array([np.nan, np.inf, np.inf, np.inf, 0.0], dtype)
        yield Sample((s, t), name="special")
        yield Sample((s, t), {"equal_nan": True}, name="special-equal-nan")
    yield Sample((a, a), {"rtol": -1.0}, name="bad-rtol", error=RuntimeError)


def _heaviside_samples(dtype):
    x = arr((3, 4), dtype, seed=1)
    x[0, :2] = 0
    yield Sample((x, arr((4,), dtype, seed=2)), name="2d")
    yield Sample((x, arr((), dtype, seed=3)), name="0d-values")
    if dtype in FLOATS:
        yield Sample((np.array([np.nan, -0.0, 0.0, -np.inf], dtype), np.array([7.0], dtype)), name="special")


# ---------------------------------------------------------------- special functions
def _pos_samples(low, high):
    def gen(dtype):
        for s in unary_samples(dtype, low, high):
            yield s
    return gen


def _polygamma_samples(dtype):
    for n in (0, 1, 2, 3):
        yield Sample((arr((3, 4), dtype, 0.5, 4, seed=n), n), name=f"n{n}")
    yield Sample((np.array([-2.5, -0.5, -1.25, 7.5], dtype), 2), name="negative-n2")
    yield Sample((arr((), dtype, 0.5, 3, seed=9), 4), name="0d-n4")
    yield Sample((arr((0,), dtype), 1), name="empty")


def _polygamma_ref(x, n):
    return sps.polygamma(n, _as_float(x).astype(np.float64))


def _mvlgamma_samples(dtype):
    yield Sample((arr((3, 4), dtype, 1.5, 5, seed=1), 1), name="p1")
    yield Sample((arr((3, 4), dtype, 2.6, 6, seed=2), 3), name="p3")
    yield Sample((arr((), dtype, 3, 4, seed=3), 2), name="0d")
    yield Sample((arr((3,), dtype, 3, 4, seed=4), 0), name="bad-p", error=RuntimeError)


def _mvlgamma_ref(x, p):
    x = _as_float(x).astype(np.float64)
    r = np.vectorize(math.lgamma, otypes=[np.float64])
    return sum(r(x - i / 2) for i in range(p)) + p * (p - 1) / 4 * math.log(math.pi)


OPS = [
    OpInfo("where", _where_samples, ref=_where_ref, dtypes=FLOATS + ("int64", "bool"), method=False),
    OpInfo("clamp", _clamp_samples, ref=_clamp_ref, dtypes=_FI, inplace=True),
    OpInfo("clip", _clamp_samples, ref=_clamp_ref, dtypes=FLOATS, inplace=True),
    OpInfo("clamp_min", _clamp_one("min"), ref=lambda x, v: np.maximum(x, v), dtypes=_FI, inplace=True),
    OpInfo("clamp_max", _clamp_one("max"), ref=lambda x, v: np.minimum(x, v), dtypes=_FI, inplace=True),
    OpInfo("lerp", _lerp_samples, ref=_lerp_ref, dtypes=FLOATS, inplace=True,
           errors={"int64": NotImplementedError}),
    OpInfo("addcmul", _addc_samples, ref=_addcmul_ref, dtypes=_FI, inplace=True),
    OpInfo("addcdiv", _addc_samples, ref=_addcdiv_ref, dtypes=FLOATS, inplace=True,
           errors={"int64": RuntimeError}),
    OpInfo("nan_to_num", _ntn_samples, ref=lambda x, nan=0.0, posinf=None, neginf=None: np.nan_to_num(
        x, nan=nan, posinf=posinf, neginf=neginf), dtypes=FLOATS + ("int64", "bool"), inplace=True),
    OpInfo("round", _round_samples, ref=_round_ref, dtypes=FLOATS + ("int64", "int32"), inplace=True),
    OpInfo("isclose", _isclose_samples, ref=np.isclose, dtypes=FLOATS + ("int64",), grad=False),
    OpInfo("heaviside", _heaviside_samples, ref=lambda x, v: np.where(x == 0, v, x > 0).astype(x.dtype),
           dtypes=FLOATS + ("int64",), grad=False, inplace=True),
    OpInfo("sinc", _pos_samples(-3, 3), ref=lambda x: np.sinc(_as_float(x)), dtypes=FLOATS + ("int64",),
           inplace=True),
    OpInfo("deg2rad", _pos_samples(-360, 360), ref=lambda x: np.deg2rad(_as_float(x)), dtypes=FLOATS + ("int64",),
           inplace=True),
    OpInfo("rad2deg", _pos_samples(-7, 7), ref=lambda x: np.rad2deg(_as_float(x)), dtypes=FLOATS + ("int64",),
           inplace=True),
    OpInfo("positive", _pos_samples(-2, 2), ref=lambda x: x, dtypes=NUMERIC, errors={"bool": RuntimeError}),
    OpInfo("polygamma", _polygamma_samples, ref=_polygamma_ref if sps is not None else None, dtypes=FLOATS,
           fn=lambda m, x, n: m.polygamma(n, x), method_name="polygamma", inplace=True, rtol=1e-9, atol=1e-9,
           grad_rtol=1e-4),
    OpInfo("mvlgamma", _mvlgamma_samples, ref=_mvlgamma_ref, dtypes=FLOATS, inplace=True, rtol=1e-10),
    OpInfo("i0", _pos_samples(-10, 10), ref=lambda x: np.i0(_as_float(x)), dtypes=FLOATS + ("int64",),
           inplace=True, rtol=3e-7),
]
