"""Spectral ops: the torch.fft transforms, window functions, stft/istft.

Three ops do all transforms: complex-to-complex (``fft_c2c``), real-to-half-complex (``fft_r2c``) and
half-complex-to-real (``fft_c2r``), each N-dimensional over ``axes`` with torch's ``norm`` modes. Their
vjps are adjoint transforms with the opposite normalisation (``_SWAP``), then a pad/trim (``fft_fit``)
back to the input's sizes; c2r weighs the bins that stand for two conjugate frequencies twice.
hfft/ihfft are conjugated c2r/r2c; stft frames with ``unfold`` and ``fft_r2c``; istft overlap-adds
with a scatter op (``_ola_scatter``) whose vjp is the matching gather.
"""
import math
import warnings

import numpy as np

from .. import _dtype as D
from .._device import to_device
from .._tensor import Tensor, wrap_dim
from ._registry import OPS, apply, defop, renamed, write_out, _type_name

_SWAP = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _norm(norm):
    if norm is None:
        return "backward"
    if norm not in _SWAP:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _cplx_of(dt):
    if dt.category == 3:
        return dt
    if dt.category == 2:
        if dt.itemsize < 4:
            raise RuntimeError(f"Unsupported dtype {_type_name(dt)}")
        return dt.to_complex()
    return D.get_default_dtype().to_complex()


def _real_of(dt):
    if dt.category == 3:
        return dt.to_real()
    if dt.category == 2:
        if dt.itemsize < 4:
            raise RuntimeError(f"Unsupported dtype {_type_name(dt)}")
        return dt
    return D.get_default_dtype()


def _as_float(x):
    """Integer/bool inputs are transformed as the default float dtype, as in torch."""
    if x.dtype.category < 2:
        return x.to(D.get_default_dtype())
    if x.dtype.itemsize < 4 or (x.dtype.category == 3 and x.dtype.itemsize < 8):
        raise RuntimeError(f"Unsupported dtype {_type_name(x.dtype)}")
    return x


# ---------------------------------------------------------------- pad / trim to sizes along axes
def _fit_fwd(xp, x, axes, sizes):
    shape = list(x.shape)
    for a, n in zip(axes, sizes):
        shape[a] = n
    if tuple(shape) == x.shape:
        return x.copy()
    out = xp.zeros(tuple(shape), x.dtype)
    src = tuple(slice(0, min(x.shape[i], shape[i])) for i in range(x.ndim))
    out[src] = x[src]
    return out


_FIT = defop("fft_fit", "raw", _fit_fwd,
             lambda g, out, x, axes, sizes: _fit(g, axes, [x.shape[a] for a in axes]),
             save_in=(None,), save_out=False, node="ConstantPadNdBackward0")


def _fit(t, axes, sizes):
    if all(t.shape[a] == n for a, n in zip(axes, sizes)):
        return t
    return apply(_FIT, (t,), {"axes": tuple(axes), "sizes": tuple(sizes)})


def _resize(x, axes, sizes):
    """The input cut (a slice per dim) or zero-padded (one pad) to the transform's sizes before it, as torch
    does: its graph shows those nodes in front of the transform's."""
    for a, n in zip(axes, sizes):
        if x.shape[a] > n:
            x = x.narrow(a, 0, n)
    return _fit(x, axes, sizes)


# torch's hfft/ihfft conjugate lazily (a ConjBackward0 node); ember copies
_CONJ = renamed(OPS["conj_physical"], "ConjBackward0", False)


# ---------------------------------------------------------------- the three transforms
def _c2c_fwd(xp, x, sizes, axes, norm, forward, npdt):
    if not axes:
        return x.astype(npdt, copy=True)
    f = xp.fft.fftn if forward else xp.fft.ifftn
    return f(x, s=sizes, axes=axes, norm=norm).astype(npdt, copy=False)


def _c2c_vjp(g, out, x, sizes, axes, norm, forward, npdt):
    adj = apply(_C2C, (g,), {"sizes": sizes, "axes": axes, "norm": _SWAP[norm], "forward": not forward,
                             "npdt": npdt})
    return _fit(adj, axes, [x.shape[a] for a in axes])


_C2C = defop("fft_c2c", "raw", _c2c_fwd, _c2c_vjp, save_in=(None,), save_out=False, node="FftC2CBackward0",
             shape=lambda s, sizes, axes, norm, forward, npdt: _sized(s, axes, sizes))


def _sized(shape, axes, sizes):
    shape = list(shape)
    for a, n in zip(axes, sizes):
        shape[a] = n
    return tuple(shape)


def _r2c_fwd(xp, x, sizes, axes, norm, npdt, onesided):
    if onesided:
        r = xp.fft.rfftn(x, s=sizes, axes=axes, norm=norm)
    else:
        r = xp.fft.fftn(x, s=sizes, axes=axes, norm=norm)
    return r.astype(npdt, copy=False)


def _r2c_vjp(g, out, x, sizes, axes, norm, npdt, onesided):
    if onesided:
        g = _fit(g, (axes[-1],), (sizes[-1],))
    adj = apply(_C2C, (g,), {"sizes": sizes, "axes": axes, "norm": _SWAP[norm], "forward": False, "npdt": npdt})
    return _fit(adj, axes, [x.shape[a] for a in axes])


def _r2c_shape(s, sizes, axes, norm, npdt, onesided):
    out = _sized(s, axes, sizes)
    if onesided:
        out = list(out)
        out[axes[-1]] = sizes[-1] // 2 + 1
    return tuple(out)


_R2C = defop("fft_r2c", "raw", _r2c_fwd, _r2c_vjp, save_out=False, node="FftR2CBackward0", shape=_r2c_shape)


def _c2r_fwd(xp, x, sizes, axes, norm, npdt):
    return xp.fft.irfftn(x, s=sizes, axes=axes, norm=norm).astype(npdt, copy=False)


def _c2r_vjp(g, out, x, sizes, axes, norm, npdt):
    half = apply(_R2C, (g,), {"sizes": sizes, "axes": axes, "norm": _SWAP[norm], "npdt": np.dtype(x.dtype.np)
                              if x.dtype.category == 3 else np.result_type(g.dtype.np, np.complex64),
                              "onesided": True})
    # bins 1 .. n/2 (exclusive of the Nyquist bin for even n) stand for two conjugate frequencies
    n = sizes[-1]
    k = n // 2 + 1
    w = np.full(k, 2.0, dtype=g.dtype.np)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    shape = [1] * half.dim()
    shape[axes[-1]] = k
    be = g._device.backend
    wt = Tensor._make(be.xp.asarray(w.reshape(shape)) if be.xp is not np else w.reshape(shape), g._device)
    return _fit(half * wt, axes, [x.shape[a] for a in axes])


_C2R = defop("fft_c2r", "raw", _c2r_fwd, _c2r_vjp, save_in=(None,), save_out=False, node="FftC2RBackward0",
             shape=lambda s, sizes, axes, norm, npdt: _sized(s, axes, sizes))


# ---------------------------------------------------------------- argument handling
def _axes_sizes(name, x, s, dim, c2r=False):
    nd = x.dim()
    if dim is None:
        if s is None:
            axes = list(range(nd))
        else:
            s = list(s)
            if len(s) > nd:
                raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {nd} dimensions.")
            axes = list(range(nd - len(s), nd))
    else:
        dims = [dim] if isinstance(dim, (int, np.integer)) else list(dim)
        axes = []
        for d in dims:
            if nd == 0:
                raise IndexError(f"Dimension specified as {d} but tensor has no dimensions")
            axes.append(wrap_dim(int(d), nd))
        if s is not None and len(s) != len(axes):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    if len(set(axes)) != len(axes):
        raise RuntimeError("FFT dims must be unique")
    sizes = []
    for i, a in enumerate(axes):
        n = s[i] if s is not None and s[i] != -1 else None
        if n is None:
            n = x.shape[a]
            if c2r and i == len(axes) - 1:
                n = 2 * (n - 1)
        n = int(n)
        if n < 1:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
        sizes.append(n)
    return tuple(axes), tuple(sizes)


def _need_tensor(name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")


def _c2c(name, x, s, dim, norm, forward, out):
    _need_tensor(name, x)
    x = _as_float(x)
    axes, sizes = _axes_sizes(name, x, s, dim)
    nm = _norm(norm)
    if x.dtype.category == 2:
        if name in ("fft", "ifft"):
            # as torch: a real input's 1-D transform is a two-sided r2c (conjugated for the inverse)
            x = _resize(x, axes, sizes)
            r = apply(_R2C, (x,), {"sizes": sizes, "axes": axes, "norm": nm if forward else _SWAP[nm],
                                   "npdt": _cplx_of(x.dtype).np, "onesided": False})
            if not forward:
                r = apply(_CONJ, (r,), {})
            return r if out is None else write_out(out, r)
        x = x.to(_cplx_of(x.dtype))  # torch's n-D transforms make a complex copy first
    x = _resize(x, axes, sizes)
    r = apply(_C2C, (x,), {"sizes": sizes, "axes": axes, "norm": nm, "forward": forward,
                           "npdt": _cplx_of(x.dtype).np})
    return r if out is None else write_out(out, r)


def _r2c(name, x, s, dim, norm, out, conj=False):
    _need_tensor(name, x)
    if x.dtype.category == 3:
        kind = "real-valued input tensor" if name.endswith("n") or name.endswith("2") else "real input tensor"
        raise RuntimeError(f"{name} expects a {kind}, but got {_type_name(x.dtype)}")
    x = _as_float(x)
    axes, sizes = _axes_sizes(name, x, s, dim)
    nm = _norm(norm)
    x = _resize(x, axes, sizes)
    cdt = _cplx_of(x.dtype).np
    if conj and len(axes) > 1:
        # as torch's ihfftn: the last dim's one-sided transform, conjugated, then the inverse over the rest
        r = apply(_R2C, (x,), {"sizes": sizes[-1:], "axes": axes[-1:], "norm": _SWAP[nm], "npdt": cdt,
                               "onesided": True}).conj_physical()
        r = apply(_C2C, (r,), {"sizes": sizes[:-1], "axes": axes[:-1], "norm": nm, "forward": False, "npdt": cdt})
        return r if out is None else write_out(out, r)
    r = apply(_R2C, (x,), {"sizes": sizes, "axes": axes, "norm": _SWAP[nm] if conj else nm, "npdt": cdt,
                           "onesided": True})
    if conj:
        r = apply(_CONJ, (r,), {})
    return r if out is None else write_out(out, r)


def _c2r(name, x, s, dim, norm, out, conj=False):
    _need_tensor(name, x)
    x = _as_float(x)
    axes, sizes = _axes_sizes(name, x, s, dim, c2r=True)
    nm = _norm(norm)
    if x.dtype.category == 2:
        x = x.to(_cplx_of(x.dtype))  # torch's c2r transforms make a complex copy of a real input first
    x = _resize(x, axes, sizes[:-1] + (sizes[-1] // 2 + 1,))
    if conj and x.dtype.category == 3 and len(axes) > 1:
        # as torch's hfftn: the forward transform over all but the last dim, conjugated, then the c2r of the last
        x = apply(_C2C, (x,), {"sizes": sizes[:-1], "axes": axes[:-1], "norm": nm, "forward": True,
                               "npdt": x.dtype.np})
        axes, sizes = axes[-1:], sizes[-1:]
    if conj and x.dtype.category == 3:
        x = apply(_CONJ, (x,), {})
    r = apply(_C2R, (x,), {"sizes": sizes, "axes": axes, "norm": _SWAP[nm] if conj else nm,
                           "npdt": _real_of(x.dtype).np})
    return r if out is None else write_out(out, r)


def _one(n):
    if n is None:
        return None
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return (n,)


# ---------------------------------------------------------------- torch.fft
def fft(input, n=None, dim=-1, norm=None, *, out=None):
    """1-D discrete Fourier transform (complex output)."""
    return _c2c("fft", input, _one(n), dim, norm, True, out)


def ifft(input, n=None, dim=-1, norm=None, *, out=None):
    """1-D inverse discrete Fourier transform."""
    return _c2c("ifft", input, _one(n), dim, norm, False, out)


def rfft(input, n=None, dim=-1, norm=None, *, out=None):
    """FFT of a real signal: the n // 2 + 1 non-negative frequencies."""
    return _r2c("rfft", input, _one(n), dim, norm, out)


def irfft(input, n=None, dim=-1, norm=None, *, out=None):
    """Inverse of rfft: a real signal of length n (default 2 * (m - 1))."""
    return _c2r("irfft", input, _one(n), dim, norm, out)


def hfft(input, n=None, dim=-1, norm=None, *, out=None):
    """FFT of a Hermitian-symmetric signal given by its first half: a real spectrum."""
    return _c2r("hfft", input, _one(n), dim, norm, out, conj=True)


def ihfft(input, n=None, dim=-1, norm=None, *, out=None):
    """Inverse of hfft: the one-sided Hermitian signal of a real spectrum."""
    return _r2c("ihfft", input, _one(n), dim, norm, out, conj=True)


def fft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """2-D FFT over ``dim`` (the last two dims by default)."""
    return _c2c("fft2", input, s, dim, norm, True, out)


def ifft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """2-D inverse FFT."""
    return _c2c("ifft2", input, s, dim, norm, False, out)


def rfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """2-D FFT of a real signal (the last dim halved)."""
    return _r2c("rfft2", input, s, dim, norm, out)


def irfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """Inverse of rfft2: a real 2-D signal."""
    return _c2r("irfft2", input, s, dim, norm, out)


def hfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """2-D FFT of a Hermitian-symmetric signal: a real result."""
    return _c2r("hfft2", input, s, dim, norm, out, conj=True)


def ihfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """Inverse of hfft2."""
    return _r2c("ihfft2", input, s, dim, norm, out, conj=True)


def fftn(input, s=None, dim=None, norm=None, *, out=None):
    """N-D discrete Fourier transform over ``dim`` (all dims by default)."""
    return _c2c("fftn", input, s, dim, norm, True, out)


def ifftn(input, s=None, dim=None, norm=None, *, out=None):
    """N-D inverse FFT."""
    return _c2c("ifftn", input, s, dim, norm, False, out)


def rfftn(input, s=None, dim=None, norm=None, *, out=None):
    """N-D FFT of a real signal (the last transformed dim halved)."""
    return _r2c("rfftn", input, s, dim, norm, out)


def irfftn(input, s=None, dim=None, norm=None, *, out=None):
    """Inverse of rfftn: a real N-D signal."""
    return _c2r("irfftn", input, s, dim, norm, out)


def hfftn(input, s=None, dim=None, norm=None, *, out=None):
    """N-D FFT of a Hermitian-symmetric signal: a real result."""
    return _c2r("hfftn", input, s, dim, norm, out, conj=True)


def ihfftn(input, s=None, dim=None, norm=None, *, out=None):
    """Inverse of hfftn."""
    return _r2c("ihfftn", input, s, dim, norm, out, conj=True)


def _freq_dtype(name, dtype, device):
    dt = D.to_dtype(dtype) if dtype is not None else D.get_default_dtype()
    if dt.category < 2:
        raise RuntimeError(f"{name} requires a floating point or complex dtype")
    return dt, to_device(device)


def _finish(arr, dt, dev, requires_grad):
    be = dev.backend
    if be.is_meta:
        data = be.empty(arr.shape, dt.np)
    else:
        data = be.from_host(np.ascontiguousarray(arr.astype(dt.np)))
    t = Tensor._make(data, dev)
    if requires_grad:
        t.requires_grad_()
    return t


def fftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Sample frequencies of an n-point FFT: [0, 1, ..., -(n // 2), ..., -1] / (d * n)."""
    dt, dev = _freq_dtype("fftfreq", dtype, device)
    k = np.concatenate([np.arange(0, (n - 1) // 2 + 1), np.arange(-(n // 2), 0)]) if n > 0 else np.zeros(0)
    with np.errstate(all="ignore"):
        r = _finish(k.astype(dt.np) / np.asarray(d * n, dtype=dt.np), dt, dev, requires_grad)
    return r if out is None else write_out(out, r)


def rfftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Sample frequencies of rfft: [0, 1, ..., n // 2] / (d * n)."""
    dt, dev = _freq_dtype("rfftfreq", dtype, device)
    k = np.arange(0, n // 2 + 1)
    with np.errstate(all="ignore"):
        r = _finish(k.astype(dt.np) / np.asarray(d * n, dtype=dt.np), dt, dev, requires_grad)
    return r if out is None else write_out(out, r)


_ROLL = defop("fft_roll", "raw", lambda xp, x, shifts, axes: xp.roll(x, shifts, axes),
              lambda g, out, x, shifts, axes: apply(_ROLL, (g,), {"shifts": tuple(-s for s in shifts),
                                                                  "axes": axes}),
              save_in=False, save_out=False, node="RollBackward0")


def _shift(x, dim, inverse):
    if dim is None:
        axes = tuple(range(x.dim()))
    else:
        axes = tuple(wrap_dim(d, x.dim()) for d in ((dim,) if isinstance(dim, int) else dim))
    shifts = tuple((-(x.shape[a] // 2) if inverse else x.shape[a] // 2) for a in axes)
    if not axes:
        return x.clone()
    return apply(_ROLL, (x,), {"shifts": shifts, "axes": axes})


def fftshift(input, dim=None):
    """Move the zero frequency to the centre (a roll by n // 2 over ``dim``)."""
    return _shift(input, dim, False)


def ifftshift(input, dim=None):
    """Inverse of fftshift."""
    return _shift(input, dim, True)


FFT = dict(fft=fft, ifft=ifft, rfft=rfft, irfft=irfft, hfft=hfft, ihfft=ihfft, fft2=fft2, ifft2=ifft2, rfft2=rfft2,
           irfft2=irfft2, hfft2=hfft2, ihfft2=ihfft2, fftn=fftn, ifftn=ifftn, rfftn=rfftn, irfftn=irfftn,
           hfftn=hfftn, ihfftn=ihfftn, fftfreq=fftfreq, rfftfreq=rfftfreq, fftshift=fftshift, ifftshift=ifftshift)


# ---------------------------------------------------------------- windows
_CTYPE = {"int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
          "bool": "bool", "uint16": "unsigned short", "uint32": "unsigned int", "uint64": "unsigned long"}


def _window(name, fn, window_length, periodic, params, dtype, device, requires_grad):
    dt = D.to_dtype(dtype) if dtype is not None else D.get_default_dtype()
    dev = to_device(device)
    if dt.category != 2:
        raise RuntimeError(f"{name} expects floating point dtypes, got: TensorOptions(dtype="
                           f"{_CTYPE.get(dt.name, dt.name)}, device={dev}, layout=Strided (default), "
                           f"requires_grad=false (default), pinned_memory=false, memory_format=(nullopt))")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    if window_length == 0:
        w = np.zeros(0)
    elif window_length == 1:
        w = np.ones(1)
    else:
        m = window_length + 1 if periodic else window_length
        w = fn(np.arange(m, dtype=dt.np if dt.np.itemsize >= 4 else np.float32), m, *params)
        if periodic:
            w = w[:-1]
    return _finish(np.asarray(w), dt, dev, requires_grad)


def _hamming(k, m, alpha=0.54, beta=0.46):
    return alpha - beta * np.cos(k * (2 * math.pi / (m - 1)))


def _hann(k, m):
    return _hamming(k, m, 0.5, 0.5)


def _blackman(k, m):
    x = k * (math.pi / (m - 1))
    return 0.08 * np.cos(4 * x) - 0.5 * np.cos(2 * x) + 0.42


def _bartlett(k, m):
    return 1 - np.abs(k * (2.0 / (m - 1)) - 1)


def _kaiser(k, m, beta=12.0):
    half = (m - 1) / 2.0
    r = np.clip(1 - ((k.astype(np.float64) - half) / half) ** 2, 0, None)
    return np.i0(beta * np.sqrt(r)) / np.i0(beta)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """Hann window: 0.5 - 0.5 cos(2 pi n / (N - 1)), periodic by default."""
    return _window("hann_window", _hann, window_length, periodic, (), dtype, device, requires_grad)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False):
    """Hamming window: alpha - beta cos(2 pi n / (N - 1))."""
    return _window("hamming_window", _hamming, window_length, periodic, (alpha, beta), dtype, device,
                   requires_grad)


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """Blackman window: 0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    return _window("blackman_window", _blackman, window_length, periodic, (), dtype, device, requires_grad)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """Bartlett (triangular) window: 1 - |2n / (N - 1) - 1|."""
    return _window("bartlett_window", _bartlett, window_length, periodic, (), dtype, device, requires_grad)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  requires_grad=False):
    """Kaiser window: I0(beta sqrt(1 - (2n / (N - 1) - 1)^2)) / I0(beta)."""
    return _window("kaiser_window", _kaiser, window_length, periodic, (beta,), dtype, device, requires_grad)


# ---------------------------------------------------------------- stft / istft
def _dev_index(xp, a):
    return a if xp is np else xp.asarray(a)


def _gather_fwd(xp, x, idx):
    # idx < 0 marks zero padding
    r = xp.take(x, _dev_index(xp, np.where(idx < 0, 0, idx)), axis=-1)
    if (idx < 0).any():
        r = xp.where(_dev_index(xp, idx >= 0), r, xp.zeros((), r.dtype))
    return r


def _scatter_fwd(xp, g, idx, n):
    out = xp.zeros(g.shape[:-1] + (n,), g.dtype)
    keep = np.nonzero(idx >= 0)[0]
    dst = out.reshape(-1, n)
    src = g[..., _dev_index(xp, keep)].reshape(dst.shape[0], -1)
    index = (slice(None), _dev_index(xp, idx[keep]))
    if xp is np:
        np.add.at(dst, index, src)
    else:
        import cupyx
        cupyx.scatter_add(dst, index, src)
    return out


_GATHER = defop("_stft_gather", "raw", _gather_fwd,
                lambda g, out, x, idx: apply(_SCATTER, (g,), {"idx": idx, "n": x.shape[-1]}),
                save_out=False, node="ReflectionPad1DBackward0")
_SCATTER = defop("_ola_scatter", "raw", _scatter_fwd,
                 lambda g, out, x, idx, n: apply(_GATHER, (g,), {"idx": idx}),
                 save_in=False, save_out=False, node="IndexAddBackward0")


def _pad_index(n, p, mode):
    """Source index for each position of an n-long signal padded by p on both sides (-1: zero)."""
    j = np.arange(-p, n + p)
    if mode == "constant":
        return np.where((j >= 0) & (j < n), j, -1)
    if mode == "reflect":
        if p >= n:
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({p}, {p}) at dimension 2 of input [1, 1, {n}]")
        j = np.abs(j)
        return np.where(j >= n, 2 * (n - 1) - j, j)
    if mode == "replicate":
        return np.clip(j, 0, n - 1)
    if mode == "circular":
        return np.mod(j, n)
    raise NotImplementedError(f"Unrecognised padding mode {mode}")


def _desc(t):
    if t is None:
        return "None"
    return f"torch.{_type_name(t.dtype)}Tensor{{{list(t.shape)}}}"


def _bool_s(v):
    return "None" if v is None else str(int(bool(v)))


_rect_warned = [False, False]
_rc_warned = [False]


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
         normalized=False, onesided=None, return_complex=None, align_to_window=None):
    """Short-time Fourier transform: (..., n_freq, n_frames) complex spectrogram of a 1-D/2-D signal."""
    if return_complex is None and input.dtype.category != 3 and (window is None or window.dtype.category != 3):
        raise RuntimeError("stft requires the return_complex parameter be given for real inputs, and will further "
                           "require that return_complex=True in a future PyTorch release.")
    x = input
    if center and 1 <= x.dim() <= 3 and x.shape[-1] > 0:
        x = apply(_GATHER, (x,), {"idx": _pad_index(x.shape[-1], n_fft // 2, pad_mode)})
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    pre = (f"stft(torch.{_type_name(x.dtype)}Tensor{list(x.shape)}, n_fft={n_fft}, hop_length={hop}, "
           f"win_length={win}, window={_desc(window)}, normalized={int(bool(normalized))}, "
           f"onesided={_bool_s(onesided)}, return_complex={_bool_s(return_complex)}, align_to_window=None) : ")
    if x.dim() not in (1, 2):
        raise RuntimeError(pre + "expected a 1D or 2D tensor")
    length = x.shape[-1]
    if n_fft <= 0 or n_fft > length:
        raise RuntimeError(pre + f"expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop <= 0:
        raise RuntimeError(pre + f"expected hop_length > 0, but got hop_length={hop}")
    if win <= 0 or win > n_fft:
        raise RuntimeError(pre + f"expected 0 < win_length <= n_fft, but got win_length={win}")
    if window is not None and (window.dim() != 1 or window.shape[0] != win):
        raise RuntimeError(pre + f"expected a 1D window tensor of size equal to win_length={win}, but got window "
                           f"with size {list(window.shape)}")
    if window is None and not _rect_warned[0]:
        warnings.warn("A window was not provided. A rectangular window will be applied,which is known to cause "
                      "spectral leakage. Other windows such as torch.hann_window or torch.hamming_window are "
                      "recommended to reduce spectral leakage.To suppress this warning and use a rectangular "
                      "window, explicitly set `window=torch.ones(n_fft, device=<device>)`.", UserWarning,
                      stacklevel=2)
        _rect_warned[0] = True
    if return_complex is False and not _rc_warned[0]:
        warnings.warn("stft with return_complex=False is deprecated. In a future pytorch release, stft will return "
                      "complex tensors for all inputs, and return_complex=False will raise an error.\nNote: you can "
                      "still call torch.view_as_real on the complex output to recover the old return format.",
                      UserWarning, stacklevel=2)
        _rc_warned[0] = True
    cplx = x.dtype.category == 3 or (window is not None and window.dtype.category == 3)
    if onesided is None:
        onesided = not cplx
    elif onesided and cplx:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    x = _as_float(x)
    frames = x.unfold(-1, n_fft, hop)                     # (..., n_frames, n_fft), a view
    if window is not None:
        w = window
        if win < n_fft:
            left = (n_fft - win) // 2
            w = _fit_at(w, left, n_fft)
        frames = frames * w
    axes = (frames.dim() - 1,)
    nm = "ortho" if normalized else "backward"
    if onesided:
        spec = apply(_R2C, (frames,), {"sizes": (n_fft,), "axes": axes, "norm": nm,
                                       "npdt": _cplx_of(frames.dtype).np, "onesided": True})
    else:
        spec = apply(_C2C, (frames,), {"sizes": (n_fft,), "axes": axes, "norm": nm, "forward": True,
                                       "npdt": _cplx_of(frames.dtype).np})
    out = spec.transpose(-1, -2)
    if return_complex is False:
        return _view_as_real(out)
    return out


def _fit_at(w, left, n):
    """Place window ``w`` at offset ``left`` inside n zeros (differentiable)."""
    idx = np.full(n, -1)
    idx[left:left + w.shape[0]] = np.arange(w.shape[0])
    return apply(_GATHER, (w,), {"idx": idx})


def _view_as_real(t):
    from .. import ops
    if hasattr(ops, "view_as_real"):
        return ops.view_as_real(t)
    return apply(_AS_REAL, (t,), {})


_AS_REAL = defop("_stft_as_real", "raw", lambda xp, x: xp.stack([x.real, x.imag], axis=-1),
                 lambda g, out, x: apply(_AS_CPLX, (g,), {}), save_in=False, save_out=False,
                 node="ViewAsRealBackward0")
_AS_CPLX = defop("_stft_as_complex", "raw", lambda xp, x: x[..., 0] + 1j * x[..., 1],
                 lambda g, out, x: apply(_AS_REAL, (g,), {}), save_in=False, save_out=False,
                 node="ViewAsComplexBackward0")


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
          onesided=None, length=None, return_complex=False):
    """Inverse of stft by overlap-add, normalised by the summed squared window."""
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    shape_s = list(input.shape)
    tname = {"complex64": "CPUComplexFloatType", "complex128": "CPUComplexDoubleType"}.get(
        input.dtype.name, f"CPU{_type_name(input.dtype)}Type")
    pre = (f"istft({tname}{shape_s}, n_fft={n_fft}, hop_length={hop}, win_length={win}, window={_desc(window)}, "
           f"center={int(bool(center))}, normalized={int(bool(normalized))}, onesided={_bool_s(onesided)}, "
           f"length={length if length is not None else 'None'}, return_complex={int(bool(return_complex))})")
    if input.dtype.category != 3:
        raise RuntimeError("istft requires a complex-valued input tensor matching the output from stft with "
                           "return_complex=True.")
    if input.dim() not in (2, 3):
        raise RuntimeError(pre + f" : expected a tensor with 3 or 4 dimensions, but got {input.dim() + 1}")
    if window is None and not _rect_warned[1]:
        warnings.warn("A window was not provided. A rectangular window will be applied.Please provide the same window "
                      "used by stft to make the inversion lossless.To suppress this warning and use a rectangular "
                      "window, explicitly set `window=torch.ones(n_fft, device=<device>)`.", UserWarning, stacklevel=2)
        _rect_warned[1] = True
    cplx_win = window is not None and window.dtype.category == 3
    n_freq = input.shape[-2]
    if onesided is None:
        onesided = n_freq != n_fft
    if onesided and (return_complex or cplx_win):
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    if onesided and n_freq != n_fft // 2 + 1:
        raise RuntimeError(pre + f" : expected the frequency dimension (3rd to the last) of the input tensor to "
                           f"match n_fft / 2 + 1 when onesided=True, but got {n_freq}")
    if not onesided and n_freq != n_fft:
        raise RuntimeError(pre + f" : expected the frequency dimension (3rd to the last) of the input tensor to "
                           f"match n_fft when onesided=False, but got {n_freq}")
    if not 0 < win <= n_fft:
        raise RuntimeError(pre + f" : expected 0 < win_length <= n_fft, but got win_length={win}")
    if hop <= 0 or hop > win:
        raise RuntimeError(pre + " : expected 0 < hop_length <= win_length")
    if window is not None and (window.dim() != 1 or window.shape[0] != win):
        raise RuntimeError(pre + " : Invalid window shape. window has to be 1D and length of `win_length`")
    n_frames = input.shape[-1]
    spec = input.transpose(-1, -2)                        # (..., n_frames, n_freq)
    axes = (spec.dim() - 1,)
    nm = "ortho" if normalized else "backward"
    if not onesided and not return_complex:
        # a real signal only needs the non-negative frequencies
        spec = spec.narrow(-1, 0, n_fft // 2 + 1)
        onesided = True
    if onesided:
        frames = apply(_C2R, (spec,), {"sizes": (n_fft,), "axes": axes, "norm": nm,
                                       "npdt": _real_of(spec.dtype).np})
    else:
        frames = apply(_C2C, (spec,), {"sizes": (n_fft,), "axes": axes, "norm": nm, "forward": False,
                                       "npdt": spec.dtype.np})
    if window is not None:
        w = window
        if win < n_fft:
            w = _fit_at(w, (n_fft - win) // 2, n_fft)
    else:
        from .. import ops
        w = ops.ones(n_fft, dtype=_real_of(frames.dtype), device=input.device)
    frames = frames * w
    total = n_fft + hop * (n_frames - 1)
    idx = (np.arange(n_frames)[:, None] * hop + np.arange(n_fft)[None, :]).reshape(-1)
    flat = frames.reshape(tuple(frames.shape[:-2]) + (n_frames * n_fft,))
    y = apply(_SCATTER, (flat,), {"idx": idx, "n": total})
    w2 = w * w
    env = apply(_SCATTER, (w2.expand(n_frames, n_fft).reshape(-1),), {"idx": idx, "n": total})
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else (total - n_fft // 2 if center else total)
    end_c = min(end, total)
    if start < end_c and input._device.type != "meta":
        e = env.detach().narrow(-1, start, end_c - start).abs()
        if bool((e < 1e-11).any()):
            raise RuntimeError(pre + " window overlap add min: 1")
    n_keep = max(end_c - start, 0)
    y = y.narrow(-1, start, n_keep) / env.narrow(-1, start, n_keep)
    if length is not None and end > total:
        y = _fit(y, (y.dim() - 1,), (length,))
    return y


FUNCS = dict(stft=stft, istft=istft, hann_window=hann_window, hamming_window=hamming_window,
             blackman_window=blackman_window, bartlett_window=bartlett_window, kaiser_window=kaiser_window)


def _install():
    Tensor.stft = lambda self, n_fft, hop_length=None, win_length=None, window=None, center=True, \
        pad_mode="reflect", normalized=False, onesided=None, return_complex=None: stft(
            self, n_fft, hop_length, win_length, window, center, pad_mode, normalized, onesided, return_complex)
    Tensor.istft = lambda self, n_fft, hop_length=None, win_length=None, window=None, center=True, \
        normalized=False, onesided=None, length=None, return_complex=False: istft(
            self, n_fft, hop_length, win_length, window, center, normalized, onesided, length, return_complex)


_install()
