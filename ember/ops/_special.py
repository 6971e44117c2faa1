"""Special functions on ``xp`` arrays (erf, lgamma, digamma, polygamma, i0, ...) that NumPy lacks.

Written against the NumPy API that CuPy shares, so every backend gets them. Real inputs are evaluated
in float64 and rounded to the input's dtype once, so float32 results are correctly rounded in practice.

The ``_CHEB`` tables are Chebyshev interpolants computed once, offline, in 50-digit arithmetic (mpmath)
at the Chebyshev points of each interval; each is truncated where its terms drop below 1e-18 of its
scale, which keeps the float64 evaluation (Clenshaw's recurrence) within about one ulp.
"""
import math

import numpy as np

_ERF_T = (
    0.9754769393826541, -0.14226120510371365, 0.010035582187599796, -0.0005768764699767485,
    2.741993125219606e-05, -1.1043175507344507e-06, 3.8488755420345036e-08, -1.1808582533875466e-09,
    3.2334215826050907e-11, -7.991015947004549e-13, 1.7990725113961456e-14, -3.718635487818682e-16,
    7.103599003627703e-18, -1.261245445935402e-19, 2.0911640074559498e-21,)
_ERFCX_A = (
    0.447795810680899, -0.14437117094579746, 0.02052348013327858, -0.0026459068473904633,
    0.0003148828357127584, -3.501741816305982e-05, 3.6716735606971222e-06, -3.654722598254305e-07,
    3.4721186358948525e-08, -3.162115483017617e-09, 2.7705635476511733e-10, -2.3425031428441204e-11,
    1.916171382436389e-12, -1.5198378406714607e-13, 1.1711473727725007e-14, -8.782506233564804e-16,
    6.419115600233519e-17, -4.578977014181792e-18, 3.1916643862840016e-19, -2.1668098957010517e-20,)
_ERFCX_B = (
    0.21084514886877034, -0.08875911965092476, 0.01779568311377229, -0.003417809505980177,
    0.0006315843285274828, -0.00011269649288373558, 1.9474094087233837e-05, -3.2669199871737084e-06,
    5.331651926547068e-07, -8.480266251099298e-08, 1.3166285933690329e-08, -1.9981254745967563e-09,
    2.967697433271719e-10, -4.318459107276473e-11, 6.16278867940593e-12, -8.63278695780626e-13,
    1.1879573348757262e-13, -1.6071151735941363e-14, 2.1388637838303665e-15, -2.8020731007408697e-16,
    3.615643428719306e-17, -4.597616789838779e-18, 5.764142054811508e-19, -7.126988330179897e-20,
    8.57486083235686e-21,)
_ERFC_TAIL = (
    0.5579806323959606, -0.008176370652593417, -0.001893800698918767, 8.135191807225853e-05,
    6.886433482931834e-06, -8.66842697260929e-07, -1.0605985681160552e-08, 9.128665955359679e-09,
    -5.137073029655299e-10, -7.515699719704348e-11, 1.3379723228335024e-11, -6.82377297372895e-14,
    -2.1213907894085105e-13, 2.2951219659606375e-14, 1.4778079350368897e-15, -6.239943410822488e-16,
    4.380197243844983e-17, 8.250480023769786e-18, -2.0854092337121564e-18, 8.358007905441334e-20,
    4.0423456668014973e-20,)
_LG1 = (
    -0.633011426275031, 0.4405675574678963, -0.057857409449912446, 0.010513973690267811,
    -0.002163989092091715, 0.0004744402338724658, -0.00010799644528099427, 2.5201155299530276e-05,
    -5.986014498026819e-06, 1.4410616180293054e-06, -3.5060690575761177e-07, 8.603823016763753e-08,
    -2.126510912478688e-08, 5.287778091463614e-09, -1.3217135752166157e-09, 3.3186698554450495e-10,
    -8.365902567746219e-11, 2.116338666160694e-11, -5.370507653794381e-12, 1.366668810054585e-12,
    -3.486660039885131e-13, 8.915622432766546e-14, -2.2845495935046435e-14, 5.865146715052585e-15,
    -1.5084071177486686e-15, 3.8856146236308415e-16, -1.0024187237382297e-16, 2.5896382203309432e-17,
    -6.6985353560608645e-18, 1.7343026506325088e-18, -4.477427526274503e-19, 1.088550075160029e-19,)
_LG2 = (
    0.41418612492156676, 0.16322170068760064, -0.008658972394126285, 0.0006727515726001485,
    -6.139556963628233e-05, 6.110065797003576e-06, -6.410003033826223e-07, 6.962242692768951e-08,
    -7.747248733788217e-09, 8.774075140687239e-10, -1.0070266869830198e-10, 1.1678602130652374e-11,
    -1.3656871334744932e-12, 1.607935114971155e-13, -1.903950108848869e-14, 2.2653768767829632e-15,
    -2.706656814803961e-16, 3.24566072934824e-17, -3.904483192464751e-18, 4.710420434178202e-19,
    -5.696035325106405e-20, 6.804645268490277e-21,)
_DG = (
    0.983570260441567, -0.2270640863346444, 0.03336889902393011, -0.005320077271596548, 0.0008788656937820505,
    -0.00014773492650606044, 2.5060543468359146e-05, -4.2721034029993324e-06, 7.302769272465923e-07,
    -1.2502886813559594e-07, 2.1425009322359472e-08, -3.673295918565179e-09, 6.299717236108931e-10,
    -1.080593028883266e-10, 1.853735192053638e-11, -3.18023536582553e-12, 5.456147570322792e-13,
    -9.360993131036283e-14, 1.6060646362941694e-14, -2.7555431376911e-15, 4.727736175525581e-16,
    -8.11148402416338e-17, 1.3917067244271837e-17, -2.3877291984159417e-18, 4.0932471035052265e-19,
    -6.822075684142679e-20,)
_DG_ROOT_HI, _DG_ROOT_LO = 1.4616321449683622, 9.549995429965697e-17
_I0_TAIL = (
    0.4022452055070544, 0.0033691164782556943, 6.889758346916825e-05, 2.8913705208347567e-06,
    2.0489185894690638e-07, 2.266668990498178e-08, 3.3962320257083865e-09, 4.94060238822497e-10,
    1.1889147107846426e-11, -3.149916527963241e-11, -1.3215811840447673e-11, -1.7941785315068908e-12,
    7.180124451383187e-13, 3.8527783827463527e-13, 1.5400862174845193e-14, -4.15056934741858e-14,
    -9.554846695525662e-15, 3.811680670937817e-15, 1.7725601164463654e-15, -3.425485492796256e-16,
    -2.8276233704167463e-16, 3.461210215738626e-17, 4.465606398961046e-17, -4.829749503442244e-18,
    -7.233193170851234e-18, 9.884606089335434e-19, 1.1969217058565744e-18, -2.32851434643331e-19,
    -2.227031613789828e-19,)
_I1_TAIL = (
    0.38928811750914005, -0.009761097491361469, -0.00011058893876262371, -3.882564808877691e-06,
    -2.512236237870209e-07, -2.6314688468895196e-08, -3.835380385964237e-09, -5.589743462196584e-10,
    -1.89749581235054e-11, 3.252603583015488e-11, 1.4125807436613742e-11, 2.0356285441471768e-12,
    -7.198551776245466e-13, -4.0835511110964747e-13, -2.1015418427332572e-14, 4.272440016842897e-14,
    1.0420276980719244e-14, -3.814403073867604e-15, -1.8803547586024057e-15, 3.308202173292952e-16,
    2.962628385980464e-16, -3.2095127397405566e-17, -4.650290840580386e-17, 4.413572323320543e-18,
    7.517354181216376e-18, -9.27665868784752e-19, -1.2457541891592009e-18, 2.2529925342897006e-19,
    2.331925629290595e-19,)
_STIRLING = (
    0.08333333333333333, -0.002777777777777778, 0.0007936507936507937, -0.0005952380952380953,
    0.0008417508417508417, -0.0019175269175269176, 0.00641025641025641, -0.029550653594771242,
    0.17964437236883057,)
_DIGAMMA_ASYM = (
    0.08333333333333333, -0.008333333333333333, 0.003968253968253968, -0.004166666666666667,
    0.007575757575757576, -0.021092796092796094, 0.08333333333333333, -0.4432598039215686, 3.0539543302701198,)
_ZETA_B = (
    0.08333333333333333, -0.001388888888888889, 3.306878306878307e-05, -8.267195767195768e-07,
    2.08767569878681e-08, -5.284190138687493e-10, 1.3382536530684679e-11, -3.3896802963225827e-13,
    8.586062056277845e-15, -2.174868698558062e-16, 5.5090028283602295e-18, -1.3954464685812522e-19,)
_HALF_LOG_2PI = 0.9189385332046728


# ---------------------------------------------------------------- small helpers
def sigmoid(xp, x):
    # split by sign so exp never overflows
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


def _real_only(x, kernel):
    if x.dtype.kind == "c":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_tn(x.dtype)}'")


def _in64(xp, x, f, kernel):
    """Evaluate ``f`` on a float64 copy of ``x`` and round the result back to ``x``'s dtype once."""
    _real_only(x, kernel)
    if x.ndim == 0:  # NumPy ufuncs turn 0-d arrays into scalars, which cannot be assigned into
        return _in64(xp, x.reshape(1), f, kernel).reshape(())
    with np.errstate(all="ignore"):  # poles and overflow give inf/nan like torch, silently
        if x.dtype == np.float64:
            return f(xp, x)
        return f(xp, x.astype(np.float64)).astype(x.dtype)


def _cheb(xp, cs, a, b, x):
    """Clenshaw's recurrence for the Chebyshev series ``cs`` on [a, b]."""
    s = (2.0 / (b - a)) * x - (a + b) / (b - a)
    s2 = 2 * s
    b1 = s2 * cs[-1] + cs[-2]
    b2 = cs[-1]
    for c in cs[-3:0:-1]:
        b1, b2 = s2 * b1 - b2 + c, b1
    return s * b1 - b2 + cs[0]


def _horner(xp, cs, x):
    r = cs[-1] + 0 * x
    for c in cs[-2::-1]:
        r = r * x + c
    return r


def _piece(xp, out, mask, x, fn):
    """out[mask] = fn(x[mask]), evaluating ``fn`` only where it is needed."""
    if mask.ndim == 0:
        if bool(mask):
            out[...] = fn(x)
        return
    sub = x[mask]
    if sub.size:
        out[mask] = fn(sub)


def _empty(xp, x):
    return xp.empty(x.shape, np.float64)


def _sinpi_abs(xp, x):
    """|sin(pi x)| with the argument reduced exactly first (accurate for large |x|)."""
    r = xp.abs(x - 2 * xp.round(x / 2))          # in [0, 1], exact
    r = xp.where(r > 0.5, 1 - r, r)              # sin(pi r) = sin(pi (1 - r))
    return xp.sin(math.pi * r)


def _tanpi(xp, x):
    return xp.tan(math.pi * (x - xp.round(x)))   # period 1; the reduction is exact


# ---------------------------------------------------------------- erf / erfc
def _erf_small(xp, x):  # |x| <= 1
    return x * _cheb(xp, _ERF_T, 0.0, 1.0, x * x)


def _exp_neg_sq(xp, a):
    """exp(-a*a) without the rounding error of a*a: split a into a float32-exact head and a tail."""
    a = xp.minimum(a, 30.0)  # erfc is 0 beyond ~27.3 anyway
    h = a.astype(np.float32).astype(np.float64)
    return xp.exp(-(h * h)) * xp.exp(-((a - h) * (a + h)))


def _erfc_pos(xp, a):  # a >= 0.5 (or inf)
    f = _empty(xp, a)
    _piece(xp, f, a < 1.5, a, lambda v: _cheb(xp, _ERFCX_A, 0.5, 1.5, v))
    _piece(xp, f, (a >= 1.5) & (a < 4), a, lambda v: _cheb(xp, _ERFCX_B, 1.5, 4.0, v))
    _piece(xp, f, a >= 4, a, lambda v: _cheb(xp, _ERFC_TAIL, 0.0, 0.25, 1 / v) / v)
    return _exp_neg_sq(xp, a) * f


def _erf64(xp, x):
    a = xp.abs(x)
    out = x.copy()  # NaN stays NaN
    _piece(xp, out, a <= 1, x, lambda v: _erf_small(xp, v))
    _piece(xp, out, a > 1, x, lambda v: xp.copysign(1 - _erfc_pos(xp, xp.abs(v)), v))
    return out


def _erfc64(xp, x):
    a = xp.abs(x)
    out = x.copy()
    _piece(xp, out, a < 0.5, x, lambda v: 1 - _erf_small(xp, v))
    _piece(xp, out, (a >= 0.5) & (x > 0), x, lambda v: _erfc_pos(xp, v))
    _piece(xp, out, (a >= 0.5) & (x < 0), x, lambda v: 2 - _erfc_pos(xp, -v))
    return out


def erf(xp, x):
    return _in64(xp, x, _erf64, "erf_vml_cpu")


def erfc(xp, x):
    return _in64(xp, x, _erfc64, "erfc_vml_cpu")


def _erfinv64(xp, x):
    a = xp.abs(x)
    out = xp.where(a == 1, xp.copysign(np.inf, x), xp.where(a > 1, np.nan, x))
    c = 2 / math.sqrt(math.pi)

    def start(v):
        # Winitzki's closed form: about 2e-3 relative error, enough for cubically convergent steps
        w = 1 - xp.abs(v)
        ln = xp.log(w * (2 - w))
        t = 2 / (math.pi * 0.147) + ln / 2
        return xp.sqrt(xp.sqrt(t * t - ln / 0.147) - t)

    def central(v):  # |v| <= 0.9: Halley on erf(y) = |v|
        av = xp.abs(v)
        y = start(v)
        for _ in range(3):
            fp = c * xp.exp(-y * y)
            f = _erf64(xp, y) - av
            y = y - f / (fp * (1 + y * f / fp))
        return xp.copysign(y, v)

    def tail(v):  # 0.9 < |v| < 1: Halley on erfc(y) = 1 - |v| (exact), keeping relative accuracy
        w = 1 - xp.abs(v)
        y = start(v)
        for _ in range(3):
            fp = -c * _exp_neg_sq(xp, y)
            f = _erfc_pos(xp, xp.maximum(y, 0.5)) - w
            y = y - f / (fp * (1 + y * f / fp))
        return xp.copysign(y, v)

    _piece(xp, out, (a <= 0.9) & (a > 0), x, central)
    _piece(xp, out, (a > 0.9) & (a < 1), x, tail)
    return out


def erfinv(xp, x):
    return _in64(xp, x, _erfinv64, "erfinv_vml_cpu")


# ---------------------------------------------------------------- lgamma
def _lgamma_pos(xp, y):
    """log Gamma(y) for finite y > 0."""
    out = _empty(xp, y)
    # lgamma(1 + z) = z * LG1(z) and lgamma(2 + z) = z * LG2(z) for |z| <= 1/2
    _piece(xp, out, y < 0.5, y, lambda v: v * _cheb(xp, _LG1, -0.5, 0.5, v) - xp.log(v))
    _piece(xp, out, (y >= 0.5) & (y < 1.5), y, lambda v: (v - 1) * _cheb(xp, _LG1, -0.5, 0.5, v - 1) + 0.0)
    _piece(xp, out, (y >= 1.5) & (y < 2.5), y, lambda v: (v - 2) * _cheb(xp, _LG2, -0.5, 0.5, v - 2) + 0.0)

    def mid(v):  # step down into [1.5, 2.5): lgamma(v) = log((v-1)...(v-m)) + lgamma(v-m)
        m = xp.floor(v - 1.5)
        prod = xp.ones_like(v)
        for k in range(1, 12):
            prod = prod * xp.where(m >= k, v - k, 1.0)
        z = v - m - 2
        return xp.log(prod) + z * _cheb(xp, _LG2, -0.5, 0.5, z)

    def big(v):  # Stirling's series
        r = 1 / v
        s = _horner(xp, _STIRLING[:7], r * r) * r
        return (v - 0.5) * xp.log(v) - v + _HALF_LOG_2PI + s

    _piece(xp, out, (y >= 2.5) & (y < 13), y, mid)
    _piece(xp, out, y >= 13, y, big)
    return out


def _lgamma64(xp, x):
    out = xp.full(x.shape, np.inf)
    out = xp.where(xp.isnan(x), x, out)
    _piece(xp, out, (x > 0) & (x < np.inf), x, lambda v: _lgamma_pos(xp, v))
    # reflection for negative non-integers: lgamma(x) = log(pi / |sin(pi x)|) - lgamma(1 - x)
    neg = (x <= 0) & (x != xp.floor(x))
    _piece(xp, out, neg, x, lambda v: xp.log(math.pi / _sinpi_abs(xp, v)) - _lgamma_pos(xp, 1 - v))
    return out


def lgamma(xp, x):
    return _in64(xp, x, _lgamma64, "lgamma_vml_cpu")


# ---------------------------------------------------------------- digamma and polygamma
def _digamma_12(xp, v):  # 1 <= v < 2, relative accuracy kept near the root
    return ((v - _DG_ROOT_HI) - _DG_ROOT_LO) * _cheb(xp, _DG, 1.0, 2.0, v)


def _digamma_pos(xp, y):
    """digamma(y) for finite y > 0."""
    out = _empty(xp, y)
    _piece(xp, out, y < 1, y, lambda v: _digamma_12(xp, v + 1) - 1 / v)
    _piece(xp, out, (y >= 1) & (y < 2), y, lambda v: _digamma_12(xp, v))

    def mid(v):  # step down into [1, 2): digamma(v) = digamma(v - m) + sum 1/(v - k)
        m = xp.floor(v) - 1
        acc = xp.zeros_like(v)
        for k in range(8, 0, -1):
            acc = acc + xp.where(m >= k, 1 / (v - k), 0.0)
        return _digamma_12(xp, v - m) + acc

    def big(v):
        r2 = 1 / (v * v)
        return xp.log(v) - 0.5 / v - _horner(xp, _DIGAMMA_ASYM[:8], r2) * r2

    _piece(xp, out, (y >= 2) & (y < 10), y, mid)
    _piece(xp, out, y >= 10, y, big)
    return out


def _digamma64(xp, x):
    out = xp.where(x == 0, xp.copysign(np.inf, -x), xp.where(x == np.inf, np.inf, np.nan))
    _piece(xp, out, (x > 0) & (x < np.inf), x, lambda v: _digamma_pos(xp, v))
    # reflection: digamma(x) = digamma(1 - x) - pi / tan(pi x); poles (non-positive integers) are NaN
    neg = (x < 0) & (x != xp.floor(x))
    _piece(xp, out, neg, x, lambda v: _digamma_pos(xp, 1 - v) - math.pi / _tanpi(xp, v))
    return out


def digamma(xp, x):
    return _in64(xp, x, _digamma64, "digamma")


def _hurwitz_pos(xp, s, q):
    """Hurwitz zeta(s, q) for an integer s >= 2 and q > 0 (Euler-Maclaurin after shifting q up)."""
    n = 9 + int(s)  # a larger shift keeps the Bernoulli tail small for large s
    acc = xp.zeros_like(q)
    for k in range(n):
        acc = acc + (q + k) ** (-s)
    a = q + n
    tail = a ** (1 - s) / (s - 1) + 0.5 * a ** (-s)
    term_pow = a ** (-s - 1)         # a^(-s-2j+1) for j = 1
    fac = float(s)                   # s (s+1) ... (s+2j-2)
    ia2 = 1 / (a * a)
    for j, b in enumerate(_ZETA_B, start=1):
        tail = tail + (b * fac) * term_pow
        term_pow = term_pow * ia2
        fac *= (s + 2 * j - 1) * (s + 2 * j)
    return acc + tail


def _trigamma64(xp, x):
    out = xp.where(x == np.inf, 0.0, xp.where(x == -np.inf, np.nan, x))
    _piece(xp, out, (x > 0) & (x < np.inf), x, lambda v: _hurwitz_pos(xp, 2, v))

    def refl(v):
        # trigamma(x) = pi^2 / sin^2(pi x) - trigamma(1 - x), with torch's plain sin(pi * x) so the
        # non-positive integers give the same (huge, finite) values as torch
        sp = xp.sin(math.pi * v)
        return math.pi ** 2 / (sp * sp) - _hurwitz_pos(xp, 2, 1 - v)

    _piece(xp, out, (x <= 0) & (x > -np.inf), x, refl)
    return out


def trigamma(xp, x):
    return _in64(xp, x, _trigamma64, "polygamma")


def _cot_deriv_poly(n):
    """Coefficients (ascending) of P_n with d^n/dt^n cot(t) = P_n(cot t)."""
    p = [0.0, 1.0]
    for _ in range(n):
        dp = [i * p[i] for i in range(1, len(p))] + [0.0]
        # P' * -(1 + c^2)
        q = [0.0] * (len(dp) + 2)
        for i, c in enumerate(dp):
            q[i] -= c
            q[i + 2] -= c
        while len(q) > 1 and q[-1] == 0:
            q.pop()
        p = q
    return p


def _polygamma64(xp, n, x):
    if n == 0:
        return _digamma64(xp, x)
    if n == 1:
        return _trigamma64(xp, x)
    s = float(n + 1)
    sign = -1.0 if n % 2 == 0 else 1.0          # (-1)^(n+1)
    try:
        fact = float(math.factorial(n))
    except OverflowError:
        fact = math.inf
    pole = xp.full(x.shape, math.copysign(math.inf, sign))
    # torch gives NaN at +inf for n >= 2, and signed infinity at the poles and at -inf
    out = xp.where(xp.isnan(x) | (x == np.inf), np.nan, pole)
    _piece(xp, out, (x > 0) & (x < np.inf), x, lambda v: sign * fact * _hurwitz_pos(xp, s, v))

    def refl(v):
        # psi^(n)(x) = (-1)^n psi^(n)(1 - x) - pi^(n+1) P_n(cot(pi x))
        c = 1 / _tanpi(xp, v)
        p = _horner(xp, _cot_deriv_poly(n), c)
        return (-1.0) ** n * sign * fact * _hurwitz_pos(xp, s, 1 - v) - math.pi ** (n + 1) * p

    _piece(xp, out, (x < 0) & (x != xp.floor(x)), x, refl)
    return out


def polygamma(xp, n, x):
    return _in64(xp, x, lambda xp_, v: _polygamma64(xp_, n, v), "polygamma")


# ---------------------------------------------------------------- modified Bessel functions I0, I1
def _bessel_series(xp, a, order):
    """Power series in (a/2)^2 (all terms positive, so it is accurate) for a <= 8."""
    y = a * a / 4
    cs, t = [], 1.0
    for k in range(26):
        cs.append(t)
        t /= (k + 1) * (k + 1 + order)
    r = _horner(xp, cs, y)
    return r if order == 0 else r * (a / 2)


def _bessel_i64(xp, x, order):
    a = xp.abs(x)
    out = x.copy()  # NaN stays NaN; +-inf gives inf * 0 = NaN below, as in torch
    tab = _I0_TAIL if order == 0 else _I1_TAIL
    _piece(xp, out, a <= 8, a, lambda v: _bessel_series(xp, v, order))
    # large |x|: exp(|x|) overflows at ~709.78 exactly as torch's does
    _piece(xp, out, a > 8, a, lambda v: xp.exp(v) * (_cheb(xp, tab, 0.0, 1.0, 8 / v) /
                                                                      xp.sqrt(v)))
    if order:
        out = xp.where(x < 0, -out, out)  # odd, with i1(-0.) = +0. as in torch
    return out


def _bessel(xp, x, order, kernel):
    _real_only(x, kernel)
    r = _in64(xp, x, lambda xp_, v: _bessel_i64(xp_, v, order), kernel)
    if x.dtype == np.float32:
        # torch evaluates float32 in float32, where exp(|x|) overflows past log(FLT_MAX)
        big = (xp.abs(x) > np.float32(88.72283)) & xp.isfinite(x)
        r = xp.where(big, xp.copysign(np.float32(np.inf), x) if order else np.float32(np.inf), r)
        r = r.astype(np.float32)
    return r


def i0(xp, x):
    return _bessel(xp, x, 0, "i0_vml_cpu")


def i1(xp, x):
    return _bessel(xp, x, 1, "i1_cpu")
