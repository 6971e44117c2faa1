"""Special functions on ``xp`` arrays (erf, lgamma, digamma, ...) that NumPy lacks.

Written against the NumPy API that CuPy shares, so every backend gets them.
"""
import math

import numpy as np


def sigmoid(xp, x):
    # split by sign so exp never overflows
    out = xp.empty_like(x)
    pos = x >= 0
    e = xp.exp(-xp.abs(x))
    out = xp.where(pos, 1 / (1 + e), e / (1 + e))
    return out.astype(x.dtype, copy=False)


def logit(xp, x, eps):
    if eps is not None:
        x = xp.clip(x, eps, 1 - eps)
    return xp.log(x / (1 - x))


def logit_grad(g, x, eps):
    r = g / (x * (1 - x))
    if eps is not None:
        r = r.masked_fill((x < eps) | (x > 1 - eps), 0.0)
    return r


def sgn(xp, x):
    if x.dtype.kind == "c":
        a = xp.abs(x)
        return xp.where(a == 0, 0, x / xp.where(a == 0, 1, a)).astype(x.dtype)
    return xp.sign(x)


def bitwise_not(xp, x):
    if x.dtype.kind == "f" or x.dtype.kind == "c":
        raise RuntimeError(f"\"bitwise_not_cpu\" not implemented for '{_tn(x.dtype)}'")
    return xp.invert(x)


def _tn(npdt):
    return {"float32": "Float", "float64": "Double", "float16": "Half", "complex64": "ComplexFloat",
            "complex128": "ComplexDouble", "bfloat16": "BFloat16"}.get(str(npdt), str(npdt))


def _on_host(xp, x, f):
    """Apply a scalar math function elementwise (host side), keeping dtype and device."""
    host = x if xp is np else xp.asnumpy(x)
    h64 = host.astype(np.float64)
    r = np.frompyfunc(f, 1, 1)(h64).astype(np.float64).astype(host.dtype) if h64.size else \
        np.empty(host.shape, host.dtype)
    r = np.asarray(r, dtype=host.dtype)
    return r if xp is np else xp.asarray(r)


def erf(xp, x):
    return _on_host(xp, x, math.erf)


def erfc(xp, x):
    return _on_host(xp, x, math.erfc)


def _lgamma_scalar(v):
    if math.isnan(v):
        return v
    if v <= 0 and v == math.floor(v):
        return math.inf
    try:
        return math.lgamma(v)
    except (OverflowError, ValueError):
        return math.inf


def lgamma(xp, x):
    return _on_host(xp, x, _lgamma_scalar)


def _digamma64(x):
    """digamma in float64: reflection for x < 0, recurrence up to 6, then the asymptotic series."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    bad = (x <= 0) & (x == np.floor(x))
    refl = x < 0
    y = np.where(refl, 1 - x, x)
    acc = np.zeros_like(y)
    while True:
        small = y < 6
        if not small.any():
            break
        acc -= np.where(small, 1 / np.where(small, y, 1), 0)
        y = np.where(small, y + 1, y)
    inv2 = 1 / (y * y)
    series = np.log(y) - 0.5 / y - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (
        1 / 240 - inv2 * (1 / 132)))))
    out = acc + series
    with np.errstate(all="ignore"):
        out = np.where(refl, out - np.pi / np.tan(np.pi * x), out)
    out = np.where(bad, np.where(x == 0, -np.inf, np.nan), out)
    return out


def _trigamma64(x):
    x = np.asarray(x, dtype=np.float64)
    refl = x < 0.5
    y = np.where(refl, 1 - x, x)
    acc = np.zeros_like(y)
    while True:
        small = y < 6
        if not small.any():
            break
        acc += np.where(small, 1 / np.where(small, y * y, 1), 0)
        y = np.where(small, y + 1, y)
    inv = 1 / y
    inv2 = inv * inv
    series = inv + inv2 / 2 + inv * inv2 * (1 / 6 - inv2 * (1 / 30 - inv2 * (1 / 42 - inv2 * (1 / 30))))
    out = acc + series
    with np.errstate(all="ignore"):
        s = np.sin(np.pi * x)
        out = np.where(refl, -out + np.pi * np.pi / (s * s), out)
    return out


def _via64(xp, x, f):
    host = x if xp is np else xp.asnumpy(x)
    r = f(host.astype(np.float64)).astype(host.dtype)
    return r if xp is np else xp.asarray(r)


def digamma(xp, x):
    return _via64(xp, x, _digamma64)


def trigamma(xp, x):
    return _via64(xp, x, _trigamma64)


def _erfinv64(x):
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        a = 0.147
        ln = np.log1p(-x * x)
        t = 2 / (np.pi * a) + ln / 2
        y = np.sign(x) * np.sqrt(np.sqrt(t * t - ln / a) - t)
        verf = np.frompyfunc(math.erf, 1, 1)
        for _ in range(3):  # Newton steps on erf(y) = x
            e = verf(y).astype(np.float64) - x
            y = y - e / (2 / math.sqrt(math.pi) * np.exp(-y * y))
        y = np.where(x == 1, np.inf, np.where(x == -1, -np.inf, y))
        y = np.where(np.abs(x) > 1, np.nan, y)
    return y


def erfinv(xp, x):
    return _via64(xp, x, _erfinv64)
