"""Random sampling with torch's CPU streams: the same seed gives the same bits as torch 2.13 on x86-64.

The engine is ``ember.Generator`` (mt19937, see ember/_generator.py). Each function below draws from it in
the order and with the transform torch's CPU kernel uses, including the float rounding: the FMAs torch's
compiler forms (``x * (to - from) + from``, ``z * std + mean``), Python's ``math`` for the C library calls
torch's scalar kernels make, and a NumPy transcription of the AVX2 Box-Muller torch uses for float32
``normal`` on 16 or more contiguous elements (Cephes-style log and sincos polynomials). Values are written in
torch's TensorIterator order, so non-contiguous outputs (``t.T.uniform_()``, ``rand_like(t.T)``) match too.

Bit-exact against torch 2.13 (x86-64 CPU, checked value for value and state for state): rand, rand_like,
uniform_, randn, randn_like, normal (all four overloads), normal_, randint, randint_like, random_, randperm,
bernoulli / bernoulli_ (tensor p; float p, see below), multinomial (with and without replacement), poisson,
exponential_, geometric_, log_normal_, cauchy_, in float64, float32, float16, bfloat16, complex and the
integer dtypes each supports; the Box-Muller cache and ``get_state`` bytes match too.
Not reproduced exactly:
  * ``bernoulli_(p: float)`` (dropout's kernel) on Intel CPUs, where torch switches to MKL's own VSL stream;
    ember follows torch's portable kernel, the one torch runs on other CPUs (AMD, ARM);
  * ``random_(from, to)`` into float32/bfloat16/float16 for ranges beyond 2**digits, which torch itself
    warns it cannot sample exactly;
  * the float64 FMA is emulated with error-free transforms, which may differ from hardware by one ulp in
    extremely rare double-rounding cases (none seen in millions of samples);
  * CUDA tensors get values from an ember generator of their own (copied over), not torch's Philox stream.
"""
import math
import warnings

import numpy as np

from .. import _dtype as D
from .._device import to_device
from .._generator import (Generator, default_generator, generator_for, get_rng_state, initial_seed,
                          manual_seed, seed, set_rng_state)
from .._size import Size
from .._tensor import Tensor
from ..autograd import grad_mode
from ._registry import apply, apply_inplace, check_inplace, defop

_f32, _f64, _u64 = np.float32, np.float64, np.uint64
_gm = grad_mode.state
_TWO_PI = 2.0 * math.pi

# torch's names for dtypes in its messages: ScalarType names, and the C++ types of bounds checks
_SNAME = {D.bool_: "Bool", D.uint8: "Byte", D.int8: "Char", D.int16: "Short", D.int32: "Int", D.int64: "Long",
          D.uint16: "UInt16", D.uint32: "UInt32", D.uint64: "UInt64", D.float16: "Half", D.bfloat16: "BFloat16",
          D.float32: "Float", D.float64: "Double", D.complex64: "ComplexFloat", D.complex128: "ComplexDouble"}
_CNAME = {D.bool_: "bool", D.uint8: "unsigned char", D.int8: "signed char", D.int16: "short int", D.int32: "int",
          D.int64: "long int", D.uint16: "short unsigned int", D.uint32: "unsigned int",
          D.uint64: "long unsigned int",
          D.float16: "c10::Half", D.bfloat16: "c10::BFloat16", D.float32: "float", D.float64: "double",
          D.complex64: "c10::complex<float>", D.complex128: "c10::complex<double>"}
_DIGITS = {D.float16: 11, D.bfloat16: 8, D.float32: 24, D.float64: 53}
_FLOATS = (D.float16, D.bfloat16, D.float32, D.float64)


def _fmt(v):
    """A number as torch's messages print it (C++ ostream: %g for doubles)."""
    return str(v) if isinstance(v, int) else f"{v:g}"


def _not_impl(kernel, dt):
    return NotImplementedError(f'"{kernel}" not implemented for \'{_SNAME[dt]}\'')


# ---------------------------------------------------------------- exact float arithmetic helpers
def _fma32(a, b, c):
    """float32 fused multiply-add, correctly rounded: the product is exact in float64 and so is the sum's
    error; rounding the float64 sum to float32 only goes wrong (rounds twice) at a float32 tie, which the
    exact remainder of the sum then settles."""
    p = np.asarray(a, _f32).astype(_f64) * np.asarray(b, _f32)
    c = np.asarray(c, _f32)
    s = np.asarray(p + c)
    tie = (s.view(_u64) & _u64(0x1FFFFFFF)) == _u64(0x10000000)
    if tie.any():
        p, c64 = np.broadcast_to(p, s.shape)[tie], np.broadcast_to(c, s.shape)[tie].astype(_f64)
        st = s[tie]
        bb = st - p
        err = (p - (st - bb)) + (c64 - bb)
        s = s.copy()
        s[tie] = np.where(err != 0, np.nextafter(st, st + err), st)
    return s.astype(_f32)


_SPLIT = 134217729.0  # 2**27 + 1 (Veltkamp)


def _fma64(a, b, c):
    """float64 a * b + c with one rounding (error-free product and sum; exact but for rare double ties)."""
    a = np.asarray(a, _f64)
    b = np.asarray(b, _f64)
    c = np.asarray(c, _f64)
    with np.errstate(all="ignore"):
        p = a * b
        t = _SPLIT * a
        ah = t - (t - a)
        al = a - ah
        t = _SPLIT * b
        bh = t - (t - b)
        bl = b - bh
        pe = ((ah * bh - p) + ah * bl + al * bh) + al * bl
        s = p + c
        bb = s - p
        se = (p - (s - bb)) + (c - bb)
        r = s + (pe + se)
    # infinities/overflow make the error terms NaN; the plain sum is the answer there
    return np.where(np.isfinite(r), r, s)


def _libm(fn, x):
    """Apply a ``math`` function (the C library's double routine, as torch's kernels call it) elementwise."""
    return np.fromiter(map(fn, x.ravel().tolist()), _f64, count=x.size).reshape(x.shape)


# ---------------------------------------------------------------- draws
_M53 = _u64((1 << 53) - 1)


def _u53(g, n):
    """Doubles in [0, 1) from 64-bit draws (53 low bits), as uniform_real_distribution<double>."""
    return (g._raw64(n) & _M53).astype(_f64) * (2.0 ** -53)


def _ugrid(g, n, digits):
    """float32 values in [0, 1) on a 2**-digits grid from 32-bit draws (the low ``digits`` bits)."""
    return (g._raw32(n) & _u64((1 << digits) - 1)).astype(_f32) * _f32(2.0 ** -digits)


def _from_double(x, dt):
    """static_cast<scalar_t>(double): float16/bfloat16 convert through float, as c10 does."""
    with np.errstate(over="ignore"):
        if dt is D.float16 or dt is D.bfloat16:
            return x.astype(_f32).astype(dt.np)
        return x.astype(dt.np)


# ---------------------------------------------------------------- uniform
def _uniform_values(g, n, dt, lo, hi):
    """uniform_real_distribution: ``x * (to - from) + from`` fused, in float64 for double and float32
    otherwise (float16/bfloat16 round the float result); a result that rounds up to ``to`` becomes ``from``."""
    if dt is D.float64:
        v = _fma64(_u53(g, n), hi - lo, lo)
        return np.where(v == hi, lo, v)
    f, t = _f32(lo), _f32(hi)
    v = _fma32(_ugrid(g, n, 24), t - f, f)
    if dt is D.float32:
        return np.where(v == t, f, v)
    v, t, f = v.astype(dt.np), t.astype(dt.np), f.astype(dt.np)
    return np.where(v == t, f, v)


# ---------------------------------------------------------------- normal
def _normal_scalar(g, n, mean, std):
    """normal_distribution<double>: Box-Muller on pairs of doubles, the second sample cached in ``g``."""
    z = np.empty(n, _f64)
    if n == 0:
        return z
    i = 0
    if g._next_double is not None:
        z[0] = g._next_double
        g._next_double = None
        i = 1
    m = n - i
    if m:
        k = (m + 1) // 2
        u = _u53(g, 2 * k)
        r = np.sqrt(-2.0 * _libm(math.log1p, -u[1::2]))
        th = _TWO_PI * u[0::2]
        c = r * _libm(math.cos, th)
        s = r * _libm(math.sin, th)
        pairs = np.empty(2 * k, _f64)
        pairs[0::2], pairs[1::2] = c, s
        z[i:] = pairs[:m]
        if m % 2:
            g._next_double = float(s[-1])
    return _fma64(z, std, mean)


def _fill_blocks(d, n, block_fn):
    """torch's normal_fill: transform each block of 16 uniforms; a ragged tail re-draws the last 16."""
    nb = n // 16
    out = block_fn(d[:nb * 16].reshape(nb, 16)).reshape(-1)
    if n % 16:
        tail = block_fn(d[n:].reshape(1, 16)).reshape(-1)
        out = np.concatenate([out[:n - 16], tail])
    return out


def _normal_fill64(g, n, mean, std):
    d = _u53(g, n + (16 if n % 16 else 0))

    def block(x):
        r = np.sqrt(-2.0 * _libm(math.log, 1.0 - x[:, :8]))
        th = _TWO_PI * x[:, 8:]
        return np.concatenate([_fma64(r * _libm(math.cos, th), std, mean),
                               _fma64(r * _libm(math.sin, th), std, mean)], axis=1)
    return _fill_blocks(d, n, block)


def _normal_fill_lowp(g, n, dt, mean, std):
    """float16/bfloat16: the float32 fill computed block by block (a ragged tail re-draws the last 16
    outputs from 16 fresh uniforms, without the leftover draws the float32 fill makes), then rounded."""
    full = n // 16 * 16
    d = _ugrid(g, full + (16 if n % 16 else 0), 24)
    d = np.concatenate([d[:full], np.zeros(n - full, _f32), d[full:]])
    m, s = _f32(mean), _f32(std)
    return _fill_blocks(d, n, lambda x: _avx_blocks(x, m, s)).astype(dt.np)


# The float32 path: torch's normal_fill_16_AVX2 with Cephes-style log256_ps/sincos256_ps, transcribed
# operation by operation (float32 NumPy arithmetic; the multiply-adds GCC fuses are fused here too).
_LOG_P = [_f32(v) for v in (7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1,
                            1.4249322787E-1, -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1,
                            3.3333331174E-1)]
_LOG_Q1, _LOG_Q2 = _f32(-2.12194440e-4), _f32(0.693359375)
_SQRTHF = _f32(0.707106781186547524)
_DP = [_f32(-0.78515625), _f32(-2.4187564849853515625e-4), _f32(-3.77489497744594108e-8)]
_SIN_P = [_f32(-1.9515295891E-4), _f32(8.3321608736E-3), _f32(-1.6666654611E-1)]
_COS_P = [_f32(2.443315711809948E-005), _f32(-1.388731625493765E-003), _f32(4.166664568298827E-002)]
_FOPI = _f32(1.27323954473516)
_ONE, _HALF = _f32(1), _f32(0.5)


def _log_avx(x):
    """log for x in (0, 1]: exponent split, a degree-8 polynomial on the reduced mantissa."""
    x = np.maximum(x, _f32(1.17549435e-38))
    bits = x.view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(_f32) + _ONE
    x = ((bits & ~0x7F800000) | 0x3F000000).view(_f32)  # mantissa in [0.5, 1)
    small = x < _SQRTHF
    x = (x - _ONE) + np.where(small, x, _f32(0))
    e = e - np.where(small, _ONE, _f32(0))
    z = x * x
    y = np.full_like(x, _LOG_P[0])
    for p in _LOG_P[1:]:
        y = _fma32(y, x, p)
    y = y * x
    y = _fma32(y, z, e * _LOG_Q1)
    y = _fma32(-z, _HALF, y)
    return _fma32(e, _LOG_Q2, x + y)


def _sincos_avx(x):
    """(sin x, cos x) for x >= 0: octant reduction with three-part pi/4, then the two Cephes polynomials."""
    j = ((np.trunc(x * _FOPI).astype(np.int32) + 1) & ~1)
    y = j.astype(_f32)
    sin_neg = (j & 4) != 0
    cos_neg = (~(j - 2) & 4) != 0
    use_sin_poly = (j & 2) == 0
    for dp in _DP:
        x = _fma32(y, dp, x)
    z = x * x
    yc = np.full_like(x, _COS_P[0])
    yc = _fma32(yc, z, _COS_P[1])
    yc = _fma32(yc, z, _COS_P[2])
    yc = yc * z
    yc = _fma32(yc, z, -(z * _HALF)) + _ONE
    ys = np.full_like(x, _SIN_P[0])
    ys = _fma32(ys, z, _SIN_P[1])
    ys = _fma32(ys, z, _SIN_P[2])
    ys = _fma32(ys * z, x, x)
    s = np.where(use_sin_poly, ys, yc)
    c = np.where(use_sin_poly, yc, ys)
    return np.where(sin_neg, -s, s), np.where(cos_neg, -c, c)


def _avx_blocks(x, m, s):
    """normal_fill_16_AVX2 on rows of 16 uniforms: Box-Muller on (1 - x[:8], x[8:])."""
    radius = np.sqrt(_f32(-2) * _log_avx(_ONE - x[:, :8]))
    sn, cs = _sincos_avx(_f32(_TWO_PI) * x[:, 8:])
    return np.concatenate([_fma32(radius * cs, s, m), _fma32(radius * sn, s, m)], axis=1)


def _normal_fill32(g, n, mean, std):
    d = _ugrid(g, n + (16 if n % 16 else 0), 24)
    m, s = _f32(mean), _f32(std)
    return _fill_blocks(d, n, lambda x: _avx_blocks(x, m, s))


def _normal_values(g, n, dt, contiguous, mean, std):
    """What torch's normal_kernel writes: the vectorised fill for >= 16 contiguous elements, else the
    scalar Box-Muller (in TensorIterator order)."""
    if n >= 16 and contiguous:
        if dt is D.float32:
            return _normal_fill32(g, n, mean, std)
        if dt is D.float64:
            return _normal_fill64(g, n, mean, std)
        return _normal_fill_lowp(g, n, dt, mean, std)
    return _from_double(_normal_scalar(g, n, mean, std), dt)


# ---------------------------------------------------------------- layout: torch's write order
def _layout(t):
    """(shape, element strides) of the real values a kernel writes: complex tensors as (..., 2) reals."""
    shape, strides = list(t._data.shape), list(t.stride())
    if t.dtype.category == 3:
        shape.append(2)
        strides = [2 * s for s in strides] + [1]
    return shape, strides


def _arrange(vals, shape, strides):
    """Values drawn in TensorIterator order (largest stride outermost) at their logical positions."""
    dims = [d for d in range(len(shape)) if shape[d] > 1]
    order = sorted(dims, key=lambda d: -abs(strides[d]))
    if order == dims:
        return vals.reshape(shape)
    arr = vals.reshape([shape[d] for d in order]).transpose(np.argsort(order))
    return arr.reshape(shape)


def _real_dt(dt):
    return dt.to_real() if dt.category == 3 else dt


def _pack(arr, t):
    """Real values shaped (..., 2) -> the complex array of ``t``'s dtype; others pass through."""
    if t.dtype.category != 3:
        return arr
    out = np.empty(arr.shape[:-1], t.dtype.np)
    out.real, out.imag = arr[..., 0], arr[..., 1]
    return out


def _check_overlap(t):
    for n, s in zip(t._data.shape, t.stride()):
        if n > 1 and s == 0:
            raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                               "single memory location. Please clone() the tensor before performing the operation.")


def _fill_fwd(xp, *inputs, vals=None):
    return vals  # the samples, drawn before the op runs


def _zero_grad_of_self(g, out, x, vals=None):
    from .. import ops
    return ops.zeros_like(g)


def _zero_grads(g, out, *inputs, vals=None):
    from .. import ops
    return tuple(ops.zeros_like(x) for x in inputs) if len(inputs) > 1 else ops.zeros_like(inputs[0])


# In-place fills record a node whose gradient is zero, named like torch's.
_FILL = {n: defop("_random_fill_" + n, "raw", _fill_fwd, _zero_grad_of_self, save_in=False, save_out=False, node=n)
         for n in ("UniformBackward0", "NormalBackward0", "RandomBackward0", "RandomBackward1", "RandomBackward2",
                   "ExponentialBackward0", "GeometricBackward0", "LogNormalBackward0", "CauchyBackward0",
                   "BernoulliBackward1", "BernoulliBackward2")}
# Out-of-place samplers of tensors that may require grad: differentiable with zero gradient, as in torch.
_SAMPLE = {n: defop("_random_sample_" + n, "raw", _fill_fwd, _zero_grads, save_out=False, node=n)
           for n in ("NormalBackward1", "NormalBackward2", "NormalBackward3", "BernoulliBackward0",
                     "PoissonBackward0")}


def _store(self, arr, node):
    """Write host values ``arr`` (logical shape, self's dtype) into ``self``: version bump and history."""
    dev = self._device
    if dev.type != "cpu":
        arr = dev.backend.from_host(arr)
    if _gm.enabled and self._rg:
        apply_inplace(_FILL[node], self, (), {"vals": arr})
    else:
        self._data[...] = arr
        self._storage._version += 1
    return self


def _inplace_fill(self, generator, name, node, make):
    """Common in-place driver: torch's checks, then ``make(g, n, real_dtype, contiguous)`` flat values."""
    check_inplace(self)
    _check_overlap(self)
    if self._device.type == "meta":
        return self
    g = _gen(generator, self._device, name)
    shape, strides = _layout(self)
    n = int(np.prod(shape)) if shape else 1
    if n == 0:
        self._storage._version += 1
        return self
    vals = make(g, n, _real_dt(self.dtype), self.is_contiguous())
    arr = _pack(_arrange(np.asarray(vals), shape, strides), self)
    return _store(self, arr.astype(self.dtype.np, copy=False), node)


def _gen(generator, dev, fname):
    if generator is None:
        return generator_for(dev)
    if not isinstance(generator, Generator):
        raise TypeError(f"{fname}(): argument 'generator' must be torch.Generator, not {type(generator).__name__}")
    if generator.device.type != dev.type:
        raise RuntimeError(f"Expected a '{dev.type}' device type for generator but found "
                           f"'{generator.device.type}'")
    return generator


# ---------------------------------------------------------------- in-place samplers (Tensor methods)
_FMAX = {D.float16: 65504.0, D.bfloat16: 3.3895313892515355e38, D.float32: 3.4028234663852886e38,
         D.float64: 1.7976931348623157e308}


def _check_float_bounds(dt, name, v):
    if not -_FMAX[dt] <= v <= _FMAX[dt]:
        raise RuntimeError(f"{name} is out of bounds for {_CNAME[dt]}")


def uniform_(self, from_=0.0, to=1.0, *, generator=None, **kw):
    """Fill with samples from U[from, to) (torch.Tensor.uniform_)."""
    check_inplace(self)  # autograd's check comes before the kernel's argument checks
    if "from" in kw:
        from_ = kw.pop("from")
    if kw:
        raise TypeError(f"uniform_() got an unexpected keyword argument '{next(iter(kw))}'")
    dt = _real_dt(self.dtype)
    if dt not in _FLOATS:
        raise _not_impl("check_uniform_bounds", self.dtype)
    from_, to = float(from_), float(to)
    _check_float_bounds(dt, "from", from_)
    _check_float_bounds(dt, "to", to)
    if not from_ <= to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={_fmt(from_)} > "
                           f"to={_fmt(to)}")
    if not to - from_ <= _FMAX[dt]:
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<{_SNAME[dt]}>::max(), but found "
                           f"to={_fmt(to)} and from={_fmt(from_)} which result in to-from to exceed the limit")
    return _inplace_fill(self, generator, "uniform_", "UniformBackward0",
                         lambda g, n, rdt, contig: _uniform_values(g, n, rdt, from_, to))


def _check_std(std):
    if not std >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with samples from N(mean, std**2) (torch.Tensor.normal_)."""
    check_inplace(self)  # autograd's check comes before the kernel's argument checks
    mean, std = float(mean), float(std)
    _check_std(std)
    if _real_dt(self.dtype) not in _FLOATS:
        raise _not_impl("normal_kernel_cpu", self.dtype)
    if self.dtype.category == 3:
        std = std / math.sqrt(2.0)  # real and imaginary parts each carry half the variance
    return _inplace_fill(self, generator, "normal_", "NormalBackward0",
                         lambda g, n, rdt, contig: _normal_values(g, n, rdt, contig, mean, std))


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with samples from Exp(lambd) (torch.Tensor.exponential_)."""
    check_inplace(self)  # autograd's check comes before the kernel's argument checks
    lambd = float(lambd)
    if not lambd > 0.0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_fmt(lambd)}")
    if self.dtype not in _FLOATS:
        raise RuntimeError(f"Exponential distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {_SNAME[self.dtype]}")
    return _inplace_fill(self, generator, "exponential_", "ExponentialBackward0",
                         lambda g, n, rdt, contig: _from_double(_exponential_values(g, n, lambd), rdt))


def _exponential_values(g, n, lambd):
    return (-1.0 / lambd) * _libm(math.log1p, -_u53(g, n))


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with samples from Cauchy(median, sigma) (torch.Tensor.cauchy_)."""
    check_inplace(self)  # autograd's check comes before the kernel's argument checks
    median, sigma = float(median), float(sigma)
    if not sigma > 0.0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_fmt(sigma)}")
    if self.dtype not in _FLOATS:
        raise RuntimeError(f"Cauchy distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {_CNAME[self.dtype]}")

    def make(g, n, rdt, contig):
        t = _libm(math.tan, math.pi * (_u53(g, n) - 0.5))
        return _from_double(_fma64(sigma, t, median), rdt)
    return _inplace_fill(self, generator, "cauchy_", "CauchyBackward0", make)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with exp of samples from N(mean, std**2) (torch.Tensor.log_normal_)."""
    check_inplace(self)  # autograd's check comes before the kernel's argument checks
    mean, std = float(mean), float(std)
    if not std > 0.0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_fmt(std)}")
    if self.dtype not in _FLOATS:
        raise _not_impl("log_normal_cpu", self.dtype)
    return _inplace_fill(self, generator, "log_normal_", "LogNormalBackward0",
                         lambda g, n, rdt, contig: _from_double(_libm(math.exp, _normal_scalar(g, n, mean, std)),
                                                                rdt))


def geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials up to the first success (torch.Tensor.geometric_)."""
    check_inplace(self)  # autograd's check comes before the kernel's argument checks
    p = float(p)
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_fmt(p)}")
    if self.dtype.category in (0, 3):
        raise _not_impl("geometric_cpu", self.dtype)

    def make(g, n, rdt, contig):
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            v = np.ceil(_libm(_safe_log, _u53(g, n)) / math.log1p(-p))
        return _cast_double(v, self.dtype)
    return _inplace_fill(self, generator, "geometric_", "GeometricBackward0", make)


def _safe_log(x):
    return math.log(x) if x > 0 else -math.inf


def _cast_double(v, dt):
    """static_cast<T>(double) for any dtype (integers through int64, like the C++ conversion on x86)."""
    if dt.category >= 2:
        return _from_double(v, dt)
    if dt is D.bool_:
        return v != 0
    with np.errstate(invalid="ignore", over="ignore"):
        return v.astype(np.int64).astype(dt.np)


# ---------------------------------------------------------------- random_ / randint
def _int_bounds(dt):
    if dt is D.bool_:
        return 0, 1
    if dt.category == 1:
        info = np.iinfo(dt.np)
        return int(info.min), int(info.max)
    return None


def _check_random_type(self):
    dt = self.dtype
    if dt.category == 3:
        raise RuntimeError("check_random_bounds handles only integral, floating-point and boolean types")


def _check_from_to(dt, from_, to_inc):
    """torch's range checks for random_(from, to): warnings for floats beyond 2**digits, errors beyond the type."""
    if dt.category == 2:
        digits = _DIGITS[dt]
        lo, hi = -(2 ** digits), 2 ** digits
        fmax = _FMAX[dt]
        for v, what in ((from_, "from"), (to_inc, "to - 1")):
            if not -fmax <= v <= fmax:
                raise RuntimeError(f"{what} is out of bounds for {_CNAME[dt]}")
        for v, what in ((from_, "from"), (to_inc, "to - 1")):
            if not lo <= v <= hi:
                warnings.warn(f"{what} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision limitations "
                              f"{_CNAME[dt]} can support discrete uniform distribution only within this range. This "
                              f"warning will become an error in version 1.7 release, please fix the code in advance",
                              UserWarning, stacklevel=4)
        return
    lo, hi = _int_bounds(dt)
    if not lo <= from_ <= hi:
        raise RuntimeError(f"from is out of bounds for {_CNAME[dt]}")
    if not lo <= to_inc <= hi:
        raise RuntimeError(f"to - 1 is out of bounds for {_CNAME[dt]}")


_I64_MIN = -(1 << 63)


def _from_int64(v, dt):
    """static_cast<T>(int64) from uint64 bit patterns ``v``: wraps for integers, rounds for floats."""
    i = v.view(np.int64)
    if dt is D.bool_:
        return i != 0
    if dt.category == 1:
        return i.astype(dt.np)
    if dt is D.float16 or dt is D.bfloat16:
        return i.astype(_f32).astype(dt.np)
    return i.astype(dt.np)


def _random_from_to_values(g, n, dt, rng, base):
    """uniform_int_from_to: (draw % range) + from, with a 64-bit draw once the range reaches 2**28
    (observed; float32/bfloat16 switch just above it, where they are past their exact-integer range)."""
    wide = rng > (1 << 28) if dt in (D.float32, D.bfloat16, D.float16) else rng >= (1 << 28)
    v = g._raw64(n) if wide else g._raw32(n)
    return _from_int64((v % _u64(rng)) + _u64(base & ((1 << 64) - 1)), dt)


def _random_values(g, n, dt):
    """uniform_int: the full non-negative range of the type ([0, 2**digits] for floats)."""
    if dt is D.int64 or dt is D.float64:
        v = g._raw64(n)
    else:
        v = g._raw32(n)
    if dt is D.bool_:
        return (v & _u64(1)) != 0
    if dt.category == 2:
        m = (1 << _DIGITS[dt]) + 1
        r = v % _u64(m)
        return r.astype(_f32).astype(dt.np) if dt in (D.float16, D.bfloat16) else r.astype(dt.np)
    m = int(np.iinfo(dt.np).max) + 1
    return (v % _u64(m)).astype(dt.np)


def _as_int_arg(v, fname, what, pos):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        if isinstance(v, Tensor) and v.dtype.category == 1 and v.numel() == 1:
            return int(v.item())
        raise TypeError(f"{fname}(): argument '{what}' (position {pos}) must be int, not {type(v).__name__}")
    v = int(v)
    if not _I64_MIN <= v < (1 << 63):
        raise ValueError("Overflow when unpacking long long")
    return v


def random_(self, *args, generator=None, **kw):
    """Fill with integers from [from, to) (torch.Tensor.random_): ``random_()``, ``random_(to)``,
    ``random_(from, to)``; without ``to`` the range is the type's non-negative values."""
    check_inplace(self)  # autograd's check comes before the kernel's argument checks
    if kw:
        extra = set(kw) - {"from", "to"}
        if extra:
            raise TypeError(f"random_() got an unexpected keyword argument '{extra.pop()}'")
        if "from" in kw:
            if args:
                raise TypeError("random_() got multiple values for argument 'from'")
            args = (kw["from"], kw.get("to"))
        else:
            args = (args[0] if args else 0, kw["to"])
    if len(args) > 2:
        raise TypeError(f"random_() takes at most 2 positional arguments ({len(args)} given)")
    for a in args:
        if a is not None and (isinstance(a, bool) or not isinstance(a, (int, np.integer))):
            raise TypeError(f"random_() received an invalid combination of arguments - got ({type(a).__name__}), but "
                            "expected one of:\n * (*, torch.Generator generator = None)\n * (int from, int to, *, "
                            "torch.Generator generator = None)\n * (int to, *, torch.Generator generator = None)")
    args = tuple(None if a is None else _as_int_arg(a, "random_", "from", 1) for a in args)
    dt = self.dtype
    if not args:
        if dt.category == 3 or dt in (D.uint16, D.uint32, D.uint64):
            raise _not_impl("random_kernel_cpu", dt)
        return _inplace_fill(self, generator, "random_", "RandomBackward2",
                             lambda g, n, rdt, contig: _random_values(g, n, dt))
    if len(args) == 1:
        from_, to = 0, args[0]
        node = "RandomBackward1"
    else:
        from_, to = args
        node = "RandomBackward0"
    _check_random_type(self)
    if to is not None:
        if not from_ < to:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}")
        _check_from_to(dt, from_, to - 1)
        rng, base = to - from_, from_
    elif from_ == _I64_MIN:
        if dt in (D.bool_, D.float16) or dt.category == 3:
            raise _not_impl("random_full_64_bits_range_kernel_cpu", dt)
        if dt not in (D.int64, D.float64, D.float32, D.bfloat16):
            raise RuntimeError("random_full_64_bits_range_kernel_cpu handles only int64, double, float and bfloat16")
        return _inplace_fill(self, generator, "random_", node,
                             lambda g, n, rdt, contig: _from_int64(g._raw64(n), dt))
    else:
        to_inc = (1 << _DIGITS[dt]) if dt.category == 2 else _int_bounds(dt)[1]
        _check_from_to(dt, from_, to_inc)
        if from_ > to_inc:
            raise RuntimeError(f"random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' casted "
                               f"to dtype, but got from={from_} > to_inc={to_inc}")
        rng, base = to_inc - from_ + 1, from_
    return _inplace_fill(self, generator, "random_", node,
                         lambda g, n, rdt, contig: _random_from_to_values(g, n, dt, rng, base))


# ---------------------------------------------------------------- bernoulli
def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 with probability ``p`` (a float or a tensor broadcastable to self), else 0."""
    check_inplace(self)  # autograd's check comes before the kernel's argument checks
    dt = self.dtype
    if isinstance(p, Tensor):
        if dt.category == 3:
            raise _not_impl("bernoulli_tensor_cpu_self_", dt)
        if p.dtype.category != 2:
            raise _not_impl("bernoulli_tensor_cpu_p_", p.dtype)
        _check_expand(p, self._data.shape)
        pv = p._device.backend.to_host(p._data) if p._device.type != "meta" else None
        pv = np.broadcast_to(pv, self._data.shape) if pv is not None else None

        def make(g, n, rdt, contig):
            shape, strides = _layout(self)
            # the iterator walks p in the same order as self
            flat = _order_flat(np.asarray(pv), shape, strides)
            if p.dtype is D.float64:
                u = _u53(g, n)
                pp = flat
            else:
                u = _ugrid(g, n, 24)
                pp = flat.astype(_f32)
            bad = ~((pp >= 0) & (pp <= 1))
            if bad.any():
                raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error "
                                   "message be improved?  If so, please report an enhancement request to PyTorch.)")
            return _cast_bool(u < pp, dt)
        return _inplace_fill(self, generator, "bernoulli_", "BernoulliBackward1", make)
    p = float(p)
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_fmt(p)}")
    if dt.category == 3:
        raise _not_impl("bernoulli_scalar_cpu_", dt)
    return _inplace_fill(self, generator, "bernoulli_", "BernoulliBackward2",
                         lambda g, n, rdt, contig: _cast_bool(_u53(g, n) < p, dt))


_LEGACY = {D.float32: "Float", D.float64: "Double", D.float16: "Half", D.bfloat16: "BFloat16"}


def _check_expand(src, target):
    """torch's errors for expanding ``src`` to ``target`` (bernoulli_'s p)."""
    sh = tuple(src._data.shape)
    if len(target) < len(sh):
        raise RuntimeError(f"expand(torch.{_LEGACY.get(src.dtype, _SNAME[src.dtype])}Tensor{{{list(sh)}}}, "
                           f"size={list(target)}): the number of sizes provided ({len(target)}) must be greater or "
                           f"equal to the number of dimensions in the tensor ({len(sh)})")
    off = len(target) - len(sh)
    for i, n in enumerate(sh):
        if n != 1 and n != target[off + i]:
            raise RuntimeError(f"The expanded size of the tensor ({target[off + i]}) must match the existing size "
                               f"({n}) at non-singleton dimension {off + i}.  Target sizes: {list(target)}.  Tensor "
                               f"sizes: {list(sh)}")


def _order_flat(arr, shape, strides):
    """The inverse of ``_arrange``: a logical array's elements in TensorIterator order."""
    dims = [d for d in range(len(shape)) if shape[d] > 1]
    order = sorted(dims, key=lambda d: -abs(strides[d]))
    a = arr.reshape([shape[d] for d in dims]) if arr.ndim else arr.reshape(-1)
    if order != dims:
        a = a.transpose([dims.index(d) for d in order])
    return a.reshape(-1)


def _cast_bool(b, dt):
    return b if dt is D.bool_ else b.astype(dt.np)


def bernoulli(input, p=None, *, generator=None, out=None):
    """Samples of Bernoulli(input) elementwise, or of Bernoulli(p) shaped like input when ``p`` is given."""
    from .. import ops
    if p is not None and not isinstance(p, Tensor):
        if out is not None:
            raise TypeError("bernoulli() received an invalid combination of arguments - got (Tensor, float, "
                            "out=Tensor), but expected one of:\n * (Tensor input, *, torch.Generator generator = "
                            "None, Tensor out = None)\n * (Tensor input, float p, *, torch.Generator generator = None)")
        r = Tensor._make(input._device.backend.empty(input._data.shape, input.dtype.np), input._device)
        return bernoulli_(r, p, generator=generator)
    prob = input if p is None else p
    if prob.dtype.category != 2:
        raise _not_impl("bernoulli_tensor_cpu_p_", prob.dtype)
    r = Tensor._make(input._device.backend.empty(input._data.shape, input.dtype.np), input._device)
    with grad_mode.no_grad():
        bernoulli_(r, prob, generator=generator)
    if _gm.enabled and input._rg:
        r = apply(_SAMPLE["BernoulliBackward0"], (input,), {"vals": r._data})
    if out is not None:
        from ._registry import write_out
        return write_out(out, r)
    return r


def _bernoulli_method(self, p=None, *, generator=None):
    return bernoulli(self, p, generator=generator)


# ---------------------------------------------------------------- factories
def _factory_args(fname, size, dtype, device, out, default=None, generator=None):
    from .creation import _size_arg
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{fname}(): argument 'generator' must be torch.Generator, not {type(generator).__name__}")
    if len(size) == 0:
        raise TypeError(f"{fname}() received an invalid combination of arguments - got (), but expected one of:\n"
                        f" * (tuple of ints size, *, torch.Generator generator, Tensor out = None, torch.dtype dtype "
                        f"= None, torch.layout layout = None, torch.device device = None, bool pin_memory = False, "
                        f"bool requires_grad = False)")
    shape = _size_arg(size)
    if out is not None:
        if dtype is not None and D.to_dtype(dtype) is not out.dtype:
            raise RuntimeError(f"dtype {_SNAME[D.to_dtype(dtype)]} does not match dtype of out parameter "
                               f"({_SNAME[out.dtype]})")
        return shape, out.dtype, out._device
    dt = D.to_dtype(dtype) if dtype is not None else (default or D.get_default_dtype())
    return shape, dt, to_device(device)


def _new(shape, dt, dev, out):
    """A fresh contiguous tensor to fill, or ``out`` resized to ``shape`` like torch's out= handling."""
    if out is None:
        return Tensor._make(dev.backend.empty(shape, dt.np), dev)
    if tuple(out._data.shape) != tuple(shape):
        from .._storage import UntypedStorage
        arr = out._device.backend.empty(shape, out.dtype.np)
        out._data, out._storage = arr, UntypedStorage(arr, out._device)
    return out


def _size_kw(fname, size, kw):
    """``size`` given positionally (``rand(2, 3)``, ``rand((2, 3))``) or as ``size=``."""
    if "size" in kw:
        if size:
            raise TypeError(f"{fname}() got multiple values for argument 'size'")
        size = (kw.pop("size"),)
    if kw:
        raise TypeError(f"{fname}() got an unexpected keyword argument '{next(iter(kw))}'")
    return size


def _finish(t, requires_grad):
    if requires_grad:
        if t.dtype.category < 2:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t.requires_grad_(True)
    return t


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False, **kw):
    """Samples from U[0, 1) of the given size (torch.rand)."""
    size = _size_kw("rand", size, kw)
    shape, dt, dev = _factory_args("rand", size, dtype, device, out, generator=generator)
    if _real_dt(dt) not in _FLOATS:
        raise _not_impl("check_uniform_bounds", dt)
    return _finish(uniform_(_new(shape, dt, dev, out), 0.0, 1.0, generator=generator), requires_grad)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, **kw):
    """Samples from N(0, 1) of the given size (torch.randn)."""
    size = _size_kw("randn", size, kw)
    shape, dt, dev = _factory_args("randn", size, dtype, device, out, generator=generator)
    if _real_dt(dt) not in _FLOATS:
        raise _not_impl("normal_kernel_cpu", dt)
    return _finish(normal_(_new(shape, dt, dev, out), 0.0, 1.0, generator=generator), requires_grad)


def _randint_args(args, kw):
    low = kw.pop("low", None)
    high = kw.pop("high", None)
    size = kw.pop("size", None)
    args = list(args)
    # randint(high, size) | randint(low, high, size), positionally or by keyword
    if size is None and args and isinstance(args[-1], (tuple, list, Size)):
        size = args.pop()
    elif size is None and len(args) >= 2 and isinstance(args[-1], int) and not isinstance(args[-1], bool):
        raise TypeError(f"randint(): argument 'size' (position {len(args)}) must be tuple of ints, not int")
    if high is None and args:
        high = args.pop()
    if low is None and args:
        low = args.pop()
    if args:
        raise TypeError("randint() takes at most 3 positional arguments")
    if high is None or size is None:
        if high is not None and size is None:
            raise TypeError("randint() received an invalid combination of arguments - got (int), but expected one "
                            "of:\n * (int high, tuple of ints size, *, torch.Generator generator, Tensor out = None, "
                            "torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, bool "
                            "pin_memory = False, bool requires_grad = False)\n * (int low, int high, tuple of ints "
                            "size, *, torch.Generator generator, Tensor out = None, torch.dtype dtype = None, "
                            "torch.layout layout = None, torch.device device = None, bool pin_memory = False, bool "
                            "requires_grad = False)")
        raise TypeError("randint() missing required argument 'high'")
    if isinstance(size, int) and not isinstance(size, bool):
        raise TypeError(f"randint(): argument 'size' (position {2 if low is None else 3}) must be tuple of ints, "
                        f"not int")
    high = _as_int_arg(high, "randint", "high", 1 if low is None else 2)
    low = 0 if low is None else _as_int_arg(low, "randint", "low", 1)
    return low, high, size


def randint(*args, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
            pin_memory=False, **kw):
    """Integers drawn uniformly from [low, high) (torch.randint(low=0, high, size))."""
    low, high, size = _randint_args(args, kw)
    if kw:
        raise TypeError(f"randint() got an unexpected keyword argument '{next(iter(kw))}'")
    shape, dt, dev = _factory_args("randint", (size,), dtype, device, out, D.int64, generator)
    t = _new(shape, dt, dev, out)
    random_(t, low, high, generator=generator)
    return _finish(t, requires_grad)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """A random permutation of 0..n-1 (torch.randperm)."""
    n = _as_int_arg(n, "randperm", "n", 1)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    shape, dt, dev = _factory_args("randperm", ((n,),), dtype, device, out, D.int64, generator)
    if dt.category in (0, 3):
        raise _not_impl("randperm", dt)
    if dt.category == 2 and n > (1 << _DIGITS[dt]) + 1:
        raise RuntimeError(f"n cannot be greater than {(1 << _DIGITS[dt]) + 1} for {_SNAME[dt]} type.")
    if dt.category == 1 and n > 0 and n - 1 > int(np.iinfo(dt.np).max):
        raise RuntimeError(f"value cannot be converted to type {np.dtype(dt.np).name}_t without overflow")
    t = _new(shape, dt, dev, out)
    if dev.type != "meta":
        g = _gen(generator, dev, "randperm")
        perm = _randperm_values(g, n)
        t._data[...] = dev.backend.from_host(perm.astype(dt.np)) if dev.type != "cpu" else perm.astype(dt.np)
        t._storage._version += 1
    return _finish(t, requires_grad)


def _randperm_values(g, n):
    """Fisher-Yates from the front: swap slot i with i + (draw % (n - i)), 32-bit draws."""
    perm = list(range(n))
    if n > 1:
        wide = n >= (1 << 32)
        draws = g._raw64(n - 1) if wide else g._raw32(n - 1)
        idx = np.arange(n - 1, dtype=_u64)
        targets = (idx + draws % (_u64(n) - idx)).tolist()
        for i, z in enumerate(targets):
            perm[i], perm[z] = perm[z], perm[i]
    return np.array(perm, dtype=np.int64)


def _like_args(input, dtype, device, memory_format=None, name="empty_like"):
    from .creation import _like_array, _make
    return _make(*_like_array(name, input, dtype, device, memory_format))


def rand_like(input, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    """Samples from U[0, 1) shaped like ``input`` (its memory layout kept)."""
    t = _like_args(input, dtype, device, memory_format, "rand_like")
    if _real_dt(t.dtype) not in _FLOATS:
        raise _not_impl("check_uniform_bounds", t.dtype)
    return _finish(uniform_(t, 0.0, 1.0, generator=generator), requires_grad)


def randn_like(input, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    """Samples from N(0, 1) shaped like ``input`` (its memory layout kept)."""
    t = _like_args(input, dtype, device, memory_format, "randn_like")
    if _real_dt(t.dtype) not in _FLOATS:
        raise _not_impl("normal_kernel_cpu", t.dtype)
    return _finish(normal_(t, 0.0, 1.0, generator=generator), requires_grad)


def randint_like(input, *args, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None, **kw):
    """Integers from [low, high) shaped like ``input`` (randint_like(input, high) or (input, low, high))."""
    low, high = kw.pop("low", None), kw.pop("high", None)
    args = list(args)
    if high is None and args:
        high = args.pop()
    if low is None and args:
        low = args.pop()
    if high is None:
        raise TypeError("randint_like() missing required argument 'high'")
    if kw:
        raise TypeError(f"randint_like() got an unexpected keyword argument '{next(iter(kw))}'")
    high = _as_int_arg(high, "randint_like", "high", 2)
    low = 0 if low is None else _as_int_arg(low, "randint_like", "low", 2)
    t = _like_args(input, dtype, device, memory_format, "randint_like")
    random_(t, low, high, generator=generator)
    return _finish(t, requires_grad)


# ---------------------------------------------------------------- normal (functional)
def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False, pin_memory=False):
    """Samples from N(mean, std**2): tensor and/or float ``mean`` and ``std``, or two floats and a ``size``."""
    from .. import ops
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mt and not st:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments - got (float, float), but "
                            "expected one of:\n * (Tensor mean, Tensor std, *, torch.Generator generator = None, "
                            "Tensor out = None)\n * (Tensor mean, float std = 1, *, torch.Generator generator = "
                            "None, Tensor out = None)\n * (float mean, Tensor std, *, torch.Generator generator = "
                            "None, Tensor out = None)\n * (float mean, float std, tuple of ints size, *, "
                            "torch.Generator generator = None, Tensor out = None, torch.dtype dtype = None, "
                            "torch.layout layout = None, torch.device device = None, bool pin_memory = False, bool "
                            "requires_grad = False)")
        mean, std = float(mean), float(std)
        _check_std(std)
        shape, dt, dev = _factory_args("normal", (size,), dtype, device, out, generator=generator)
        if _real_dt(dt) not in _FLOATS:
            raise _not_impl("normal_kernel_cpu", dt)
        return _finish(normal_(_new(shape, dt, dev, out), mean, std, generator=generator), requires_grad)
    if size is not None:
        raise TypeError("normal(): 'size' is only accepted with float mean and std")
    if st:
        if std.dtype.category == 3:
            raise RuntimeError("normal expects standard deviation to be non-complex")
        if std.numel() and std._device.type != "meta" and \
                not bool((std._device.backend.to_host(std._data) >= 0).all()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    else:
        std = float(std)
        _check_std(std)
    if mt and st:
        shape, like, node = _broadcast_shape(mean._data.shape, std._data.shape), mean, "NormalBackward3"
    elif mt:
        shape, like, node = mean._data.shape, mean, "NormalBackward1"
    else:
        mean = float(mean)
        shape, like, node = std._data.shape, std, "NormalBackward2"
    dt = like.dtype
    if dt not in _FLOATS:
        raise _not_impl("normal_kernel_cpu", dt)
    dev = like._device
    o = Tensor._make(dev.backend.empty(shape, dt.np), dev)
    normal_(o, 0.0, std if (mt and not st) else 1.0, generator=generator)
    if dev.type != "meta":
        # torch then scales and shifts in place: output.mul_(std).add_(mean), each in the promoted dtype
        with grad_mode.no_grad():
            if st:
                o.mul_(std.detach())
            o.add_(mean.detach() if mt else mean)
    ins = tuple(x for x in (mean, std) if isinstance(x, Tensor))
    if _gm.enabled and any(x._rg for x in ins):
        o = apply(_SAMPLE[node], ins, {"vals": o._data})
    if out is not None:
        from ._registry import write_out
        return write_out(out, o)
    return o


def _broadcast_shape(a, b):
    """np.broadcast_shapes with torch's error message."""
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton "
                               f"dimension {i}")
        out.append(y if x == 1 else x)
    return tuple(out)


# ---------------------------------------------------------------- multinomial, poisson
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices sampled from the rows of ``input`` (unnormalised probabilities), with or without replacement."""
    from .. import ops
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if input.dtype.category != 2:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {_SNAME[input.dtype]}")
    if out is not None and out.dtype is not D.int64:
        raise RuntimeError(f"multinomial expects Long tensor out, got: {_SNAME[out.dtype]}")
    n_sample = _as_int_arg(num_samples, "multinomial", "num_samples", 2)
    if n_sample <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    n_cat = input.shape[-1]
    if not replacement and n_sample > n_cat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if n_cat > (1 << 24):
        raise RuntimeError("number of categories cannot exceed 2^24")
    shape = (n_sample,) if input.dim() == 1 else (input.shape[0], n_sample)
    dev = input._device
    if dev.type == "meta":
        r = Tensor._make(dev.backend.empty(shape, np.int64), dev)
        return r if out is None else _copy_out(out, r)
    g = _gen(generator, dev, "multinomial")
    p = np.asarray(dev.backend.to_host(input.detach()._data))
    if not replacement or n_sample == 1:
        if p.size:
            with np.errstate(invalid="ignore"):
                ok = bool(p.max() < np.inf) and bool(p.min() >= 0) and not np.isnan(p).any()
            if not ok:
                raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
            sums = p.astype(_f64).sum(-1)
            if (np.asarray(sums) == 0).any():
                raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        # Gumbel-max: argmax / top-k of p / q with q ~ Exp(1) drawn like exponential_ on empty_like(input)
        q = ops.empty_like(input.detach())
        with grad_mode.no_grad():
            exponential_(q, 1.0, generator=g)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = p / np.asarray(q._device.backend.to_host(q._data))
        if n_sample == 1:
            idx = np.argmax(ratio, axis=-1)[..., None] if ratio.shape[-1] else np.zeros(shape, np.int64)
        else:
            idx = np.argsort(-ratio, axis=-1, kind="stable")[..., :n_sample]
        res = np.ascontiguousarray(idx, dtype=np.int64).reshape(shape)
    else:
        rows = p.reshape(-1, n_cat)
        res = np.empty((rows.shape[0], n_sample), np.int64)
        acc = _f32 if input.dtype in (D.float16, D.bfloat16) else input.dtype.np
        for i, row in enumerate(rows):
            res[i] = _multinomial_row(g, row.astype(acc), n_sample)
        res = res.reshape(shape)
    r = Tensor._make(dev.backend.from_host(res) if dev.type != "cpu" else res, dev)
    return r if out is None else _copy_out(out, r)


def _multinomial_row(g, row, n_sample):
    """Inverse-CDF sampling: sequential cumulative sum in the row's precision, normalised, last bucket 1."""
    if (row < 0).any():
        raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
    if not np.isfinite(row).all():
        raise RuntimeError("invalid multinomial distribution (encountering probability entry = infinity or NaN)")
    cum = np.cumsum(row, dtype=row.dtype)
    total = cum[-1] if cum.size else row.dtype.type(0)
    if not total > 0:
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    cum = cum / total
    cum[-1] = 1
    u = _u53(g, n_sample)
    return np.searchsorted(cum.astype(_f64), u, side="left")


def _copy_out(out, r):
    from ._registry import write_out
    return write_out(out, r)


class _Uniforms:
    """Doubles for a sequential sampler (one per call), read from ``g`` in blocks; ``close`` leaves ``g``
    exactly as many draws further on as were used, as torch's one-at-a-time reads would."""

    def __init__(self, g):
        self.g, self.used, self.buf = g, 0, []
        self.saved = (g._bg.state, g._fresh)

    def draw(self):
        if not self.buf:
            self.buf = _u53(self.g, 64 if self.used < 64 else 1024).tolist()[::-1]
        self.used += 1
        return self.buf.pop()

    def close(self):
        g = self.g
        g._bg.state, g._fresh = self.saved
        g._raw64(self.used)


def _poisson_one(lam, draw):
    """sample_poisson: transformed rejection (Hormann 1993, PTRS) for lam >= 10, products of uniforms below."""
    if lam >= 10:
        slam = math.sqrt(lam)
        loglam = math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = draw() - 0.5
            v = draw()
            us = 0.5 - abs(u)
            kf = (2 * a / us + b) * u + lam + 0.43
            # C's (int64_t) of NaN, inf or out-of-range values is INT64_MIN on x86
            k = math.floor(kf) if math.isfinite(kf) and -2.0 ** 63 <= kf < 2.0 ** 63 else _I64_MIN
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)) <= \
                    (-lam + k * loglam - math.lgamma(k + 1.0)):
                return k
    if lam == 0:
        return 0
    enlam = math.exp(-lam)
    x = 0
    prod = 1.0
    while True:
        prod *= draw()
        if prod > enlam:
            x += 1
        else:
            return x


def poisson(input, generator=None):
    """Samples from Poisson(rate) for each element of ``input`` (torch.poisson)."""
    if input.dtype not in _FLOATS:
        raise _not_impl("poisson_cpu", input.dtype)
    dev = input._device
    if dev.type == "meta":
        return Tensor._make(dev.backend.empty(input._data.shape, input.dtype.np), dev)
    g = _gen(generator, dev, "poisson")
    lam = np.ascontiguousarray(dev.backend.to_host(input.detach()._data)).astype(_f64).reshape(-1)
    if (~(lam >= 0)).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    stream = _Uniforms(g)
    try:
        vals = np.array([float(_poisson_one(v, stream.draw)) for v in lam.tolist()], _f64)
    finally:
        stream.close()
    res = _from_double(vals, input.dtype).reshape(input._data.shape)
    r = Tensor._make(dev.backend.from_host(res) if dev.type != "cpu" else res, dev)
    if _gm.enabled and input._rg:
        r = apply(_SAMPLE["PoissonBackward0"], (input,), {"vals": r._data})
    return r


# ---------------------------------------------------------------- Tensor methods and exports
Tensor.uniform_ = uniform_
Tensor.normal_ = normal_
Tensor.random_ = random_
Tensor.exponential_ = exponential_
Tensor.geometric_ = geometric_
Tensor.log_normal_ = log_normal_
Tensor.cauchy_ = cauchy_
Tensor.bernoulli_ = bernoulli_
Tensor.bernoulli = _bernoulli_method


def _multinomial_method(self, num_samples, replacement=False, *, generator=None):
    return multinomial(self, num_samples, replacement, generator=generator)


Tensor.multinomial = _multinomial_method

FUNCS = dict(rand=rand, randn=randn, randint=randint, randperm=randperm, rand_like=rand_like, randn_like=randn_like,
             randint_like=randint_like, normal=normal, bernoulli=bernoulli, multinomial=multinomial, poisson=poisson,
             manual_seed=manual_seed, seed=seed, initial_seed=initial_seed, get_rng_state=get_rng_state,
             set_rng_state=set_rng_state, Generator=Generator, default_generator=default_generator)
