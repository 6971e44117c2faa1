"""ember.fft, the window functions and stft/istft against torch: values, dtypes, errors, and the
gradients of the same programs (complex outputs enter the loss through their real and imaginary parts).
"""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)


def R(*shape, dt="float64"):
    if dt.startswith("complex"):
        return np.asarray(RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(dt)
    return np.asarray(RNG.standard_normal(shape)).astype(dt)


def _np(t):
    t = t.detach()
    if isinstance(t, torch.Tensor):
        return t.resolve_conj().resolve_neg().numpy()
    return np.asarray(t.numpy())


def _loss(m, o):
    w = m.arange(o.numel(), dtype=o.real.dtype if o.dtype.is_complex else o.dtype).reshape(o.shape)
    if o.dtype.is_complex:
        return (o.real * w).sum() + (o.imag ** 2).sum()
    return (o * w).sum()


def check(fn, *arrays, grad=True, atol=1e-7, **kw):
    res = {}
    for mod in (torch, ember):
        ins = []
        for a in arrays:
            if isinstance(a, np.ndarray):
                t = mod.tensor(a)
                if grad and a.dtype.kind in "fc":
                    t.requires_grad_()
                ins.append(t)
            else:
                ins.append(a)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(mod, *ins, **kw)
        if grad:
            _loss(mod, out).backward()
        res[mod] = (out, [t.grad for t in ins if hasattr(t, "grad")])
    (to, tg), (eo, eg) = res[torch], res[ember]
    assert str(eo.dtype) == str(to.dtype), f"dtype {eo.dtype} != {to.dtype}"
    assert tuple(eo.shape) == tuple(to.shape), f"shape {tuple(eo.shape)} != {tuple(to.shape)}"
    np.testing.assert_allclose(_np(eo), _np(to), rtol=1e-5, atol=atol)
    if grad:
        for i, (a, b) in enumerate(zip(tg, eg)):
            assert (a is None) == (b is None)
            if a is not None:
                assert str(a.dtype) == str(b.dtype)
                np.testing.assert_allclose(_np(b), _np(a), rtol=1e-6, atol=atol * 10, err_msg=f"grad {i}")


NORMS = [None, "backward", "ortho", "forward"]


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", ["fft", "ifft"])
def test_c2c(name, norm):
    f = lambda m, x, **kw: getattr(m.fft, name)(x, norm=norm, **kw)  # noqa: E731
    check(f, R(6))
    check(f, R(6, dt="complex128"))
    check(f, R(3, 5), n=8, dim=0)
    check(f, R(3, 5, dt="complex128"), n=3)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", ["rfft", "ihfft"])
def test_r2c(name, norm):
    f = lambda m, x, **kw: getattr(m.fft, name)(x, norm=norm, **kw)  # noqa: E731
    check(f, R(6))
    check(f, R(7))
    check(f, R(3, 5), n=8, dim=0)
    check(f, R(3, 5), n=3)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", ["irfft", "hfft"])
def test_c2r(name, norm):
    f = lambda m, x, **kw: getattr(m.fft, name)(x, norm=norm, **kw)  # noqa: E731
    check(f, R(4, dt="complex128"))
    check(f, R(4, dt="complex128"), n=7)
    check(f, R(3, 5, dt="complex128"), n=4, dim=0)
    check(f, R(3, 5, dt="complex128"), n=12)
    check(f, R(4))                                  # a real input is read as complex


@pytest.mark.parametrize("name", ["fft2", "ifft2", "fftn", "ifftn", "rfft2", "rfftn", "ihfft2", "ihfftn"])
def test_nd_forward_kinds(name):
    f = lambda m, x, **kw: getattr(m.fft, name)(x, **kw)  # noqa: E731
    check(f, R(3, 4, 5))
    check(f, R(3, 4, 5), s=(5, 2))
    check(f, R(3, 4, 5), s=(5, 6), dim=(0, 2), norm="ortho")
    if not name.startswith(("r", "ih")):
        check(f, R(3, 4, 5, dt="complex128"), s=(-1, 3))


@pytest.mark.parametrize("name", ["irfft2", "irfftn", "hfft2", "hfftn"])
def test_nd_inverse_real(name):
    f = lambda m, x, **kw: getattr(m.fft, name)(x, **kw)  # noqa: E731
    check(f, R(3, 4, 5, dt="complex128"))
    check(f, R(3, 4, 5, dt="complex128"), s=(5, 7))
    check(f, R(3, 4, 5, dt="complex128"), s=(5, 6), dim=(0, 2), norm="forward")


def test_dtypes():
    check(lambda m, x: m.fft.fft(x), np.arange(5), grad=False)                # int -> complex64
    check(lambda m, x: m.fft.fft(x), np.array([True, False, True]), grad=False)
    check(lambda m, x: m.fft.fft(x), R(5, dt="float32"), grad=False, atol=1e-5)
    check(lambda m, x: m.fft.rfft(x), np.arange(5), grad=False)
    check(lambda m, x: m.fft.irfft(x), R(5, dt="complex64"), grad=False, atol=1e-5)
    check(lambda m, x: m.fft.irfft(x), np.arange(4), grad=False)              # int -> float32
    check(lambda m, x: m.fft.fftn(x), np.array(2.0))                          # 0-d: no dims to transform
    assert ember.fft.fft(ember.tensor(R(4))).dtype is ember.complex128


F32 = lambda *s: np.ones(s, np.float32)  # noqa: E731
C64 = lambda *s: np.ones(s, np.complex64)  # noqa: E731
ERRORS = [
    ("m.fft.fft(a)", [F32(6).astype(np.float16)]), ("m.fft.fft(a, n=0)", [F32(6)]), ("m.fft.fft(a, n=-1)", [F32(6)]),
    ("m.fft.fft(a, dim=2)", [F32(6)]), ("m.fft.fft(a, norm='x')", [F32(6)]), ("m.fft.fft(a)", [F32()]),
    ("m.fft.rfft(a)", [C64(6)]), ("m.fft.rfftn(a)", [C64(6)]), ("m.fft.ihfft(a)", [C64(6)]),
    ("m.fft.irfft(a)", [F32(1)]),
    ("m.fft.irfft(a)", [C64(0)]), ("m.fft.fftn(a, s=(4,), dim=(0,1))", [F32(2, 3)]),
    ("m.fft.fftn(a, dim=(0,0))", [F32(2, 3)]),
    ("m.fft.fft2(a)", [F32(6)]), ("m.fft.fft(a)", [F32(0)]), ("m.fft.fftfreq(5, dtype=m.int64)", []),
    ("m.fft.ifftshift(a, dim=3)", [F32(2)]),
    ("m.hann_window(5, dtype=m.int64)", []), ("m.hann_window(-1)", []), ("m.kaiser_window(3, dtype=m.int32)", []),
    ("m.stft(a, 4)", [F32(6)]), ("m.stft(a, 8, window=m.hann_window(8), return_complex=True, center=False)", [F32(6)]),
    ("m.stft(a, 2, window=m.hann_window(2), return_complex=True)", [F32(1, 2, 3)]),
    ("m.stft(a, 4, window=m.hann_window(3), return_complex=True)", [F32(6)]),
    ("m.stft(a, 4, hop_length=0, window=m.hann_window(4), return_complex=True)", [F32(10)]),
    ("m.stft(a, 8, window=m.hann_window(8), return_complex=True)", [F32(3)]),
    ("m.stft(a, 4, window=m.hann_window(4), return_complex=True, pad_mode='bad')", [F32(10)]),
    ("m.stft(a, 4, window=m.hann_window(4), return_complex=True, onesided=True)", [C64(10)]),
    ("m.istft(a, 4, window=m.hann_window(4))", [F32(3, 4)]), ("m.istft(a, 4, window=m.zeros(4))", [C64(3, 4)]),
    ("m.istft(a, 4, window=m.ones(4), onesided=False)", [C64(3, 4)]),
    ("m.istft(a, 4, window=m.ones(4), return_complex=True)", [C64(3, 4)]),
    ("m.istft(a, 4, window=m.ones(4))", [C64(2, 4)]), ("m.istft(a, 4)", [C64(3, 4, 4, 4)]),
]


@pytest.mark.parametrize("expr,arrays", ERRORS, ids=[f"{e}-{i}" for i, (e, _) in enumerate(ERRORS)])
def test_errors_match_torch(expr, arrays):
    out = []
    for m in (torch, ember):
        env = {"m": m, **dict(zip("ab", [m.tensor(x) for x in arrays]))}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                eval(expr, env)
                out.append(None)
            except Exception as e:  # noqa: BLE001 - the exception is the result
                out.append(e)
    te, ee = out
    assert te is not None and ee is not None, f"torch: {te!r}, ember: {ee!r}"
    assert type(ee) is type(te) and str(ee).split("\n")[0] == str(te).split("\n")[0], f"{ee!r} != {te!r}"


def test_freq_and_shift():
    for n, d in ((5, 1.0), (4, 0.5), (1, 1.0), (0, 1.0)):
        check(lambda m: m.fft.fftfreq(n, d), grad=False)
        check(lambda m: m.fft.rfftfreq(n, d, dtype=m.float64), grad=False)
    for name in ("fftshift", "ifftshift"):
        f = lambda m, x, **kw: getattr(m.fft, name)(x, **kw)  # noqa: E731
        check(f, R(6))
        check(f, R(3, 5))
        check(f, R(3, 5), dim=1)
        check(f, R(3, 5), dim=(0,))
    x = ember.tensor(R(3, 4), requires_grad=True)
    assert ember.fft.fftshift(x).grad_fn.name() == "RollBackward0"


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
                                  "kaiser_window"])
def test_windows(name):
    for n in (0, 1, 2, 5, 8):
        for periodic in (True, False):
            check(lambda m: getattr(m, name)(n, periodic), grad=False, atol=1e-6)
    check(lambda m: getattr(m, name)(7, dtype=m.float64), grad=False)
    w = getattr(ember, name)(4, requires_grad=True)
    assert w.requires_grad and w.is_leaf


def test_window_parameters():
    check(lambda m: m.hamming_window(6, False, 0.5, 0.5), grad=False)
    check(lambda m: m.hamming_window(6, True, 0.6), grad=False)
    check(lambda m: m.kaiser_window(6, False, 5.0), grad=False, atol=1e-6)
    check(lambda m: m.kaiser_window(6, True, 3.0, dtype=m.float64), grad=False)


def _stft(**kw):
    def f(m, x, w=None):
        return m.stft(x, window=w, return_complex=True, **kw)
    return f


def test_stft():
    x, w = R(64), R(16)
    for kw in ({}, {"hop_length": 5}, {"center": False}, {"normalized": True}, {"pad_mode": "constant"},
               {"pad_mode": "replicate"}, {"pad_mode": "circular"}, {"onesided": False}):
        check(_stft(n_fft=16, **kw), x, w)
    check(_stft(n_fft=16, win_length=10), R(3, 50), R(10))     # batched signal, centred short window
    check(_stft(n_fft=16), R(40, dt="complex128"), R(16))         # complex input: two-sided
    check(_stft(n_fft=16), R(40), R(16, dt="complex128"))         # complex window
    check(_stft(n_fft=8), R(40))                                  # rectangular window
    check(_stft(n_fft=16), R(40, dt="float32"), R(16, dt="float32"), atol=1e-4)
    t = ember.stft(ember.tensor(R(40)), 16, window=ember.hann_window(16, dtype=ember.float64),
                   return_complex=True)
    assert t.stride() == (1, 9)                                  # a transposed view, as torch returns
    t = ember.stft(ember.tensor(R(2, 40)), 16, window=ember.hann_window(16, dtype=ember.float64),
                   return_complex=True)
    assert t.stride() == (99, 1, 9)


def test_stft_return_complex_false_and_warnings():
    check(lambda m, x, w: m.stft(x, 16, window=w, return_complex=False), R(40), R(16))
    import ember.ops.spectral as sp
    sp._rc_warned[0] = sp._rect_warned[0] = False
    x = ember.tensor(R(40))
    with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
        ember.stft(x, 16, window=ember.ones(16, dtype=ember.float64), return_complex=False)
    with pytest.warns(UserWarning, match="A window was not provided"):
        ember.stft(x, 8, return_complex=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                            # warned once, like torch
        ember.stft(x, 8, return_complex=True)


def _istft(**kw):
    def f(m, x, w=None):
        return m.istft(x, window=w, **kw)
    return f


def test_istft():
    w = np.hanning(16) + 0.1
    spec = lambda frames, b=(), nf=9: R(*b, nf, frames, dt="complex128")  # noqa: E731
    check(_istft(n_fft=16), spec(9), w)
    check(_istft(n_fft=16, hop_length=5), spec(9), w)
    check(_istft(n_fft=16, center=False), spec(9), w)
    check(_istft(n_fft=16, normalized=True, length=30), spec(9), w)
    check(_istft(n_fft=16, length=50), spec(9, (2,)), w)               # longer than the signal: zero padded
    check(_istft(n_fft=16, onesided=False, return_complex=True), spec(9, nf=16), w)
    check(_istft(n_fft=16, onesided=False), spec(9, nf=16), w)
    check(_istft(n_fft=16, win_length=12), spec(9), np.hanning(12) + 0.1)
    check(_istft(n_fft=8), spec(9, nf=5))


def test_stft_istft_roundtrip():
    def rt(m, x, w):
        s = m.stft(x, 16, hop_length=4, window=w, return_complex=True)
        return m.istft(s, 16, hop_length=4, window=w, length=x.shape[-1])
    x = R(50)
    check(rt, x, np.hanning(16) + 0.1)
    y = rt(ember, ember.tensor(x), ember.tensor(np.hanning(16) + 0.1))
    np.testing.assert_allclose(y.numpy(), x, atol=1e-10)


def test_methods_and_meta():
    x = ember.tensor(R(40))
    w = ember.hann_window(16, dtype=ember.float64)
    s = x.stft(16, window=w, return_complex=True)
    np.testing.assert_allclose(s.istft(16, window=w, length=40).numpy(), x.numpy(), atol=1e-10)
    m = ember.empty((3, 8), device="meta")
    assert ember.fft.rfft(m).shape == (3, 5) and ember.fft.rfft(m).dtype is ember.complex64
    assert ember.fft.irfftn(ember.fft.fftn(m)).shape == (3, 14)
