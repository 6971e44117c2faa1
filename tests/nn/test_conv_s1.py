"""The stride-1 convolution on shifted planes (ember/ops/nn_ops.py ``_conv_s1_fwd`` / ``_conv_s1_bwd_w``) against
torch: values, input/weight/bias gradients and second derivatives over groups, dilation, asymmetric ('same')
padding, padding modes, 1-3 spatial dims, float32/float64, both weight-gradient layouts, several sample chunks,
and the shapes that must fall back to im2col."""
import warnings

import numpy as np
import pytest

import ember
from ember.ops import nn_ops as N

torch = pytest.importorskip("torch")


@pytest.fixture(params=["plain", "chunked"])
def mode(request, monkeypatch):
    if request.param != "plain":
        monkeypatch.setattr(N, "_S1_CHUNK", 1)  # one sample per gemm batch
    return request.param


def _run(lib, xa, wa, ba, kw, nd, dtype, double):
    dt = getattr(lib, dtype)
    x = lib.tensor(xa, dtype=dt, requires_grad=True)
    w = lib.tensor(wa, dtype=dt, requires_grad=True)
    b = None if ba is None else lib.tensor(ba, dtype=dt, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 'same' with an even kernel warns (both libraries)
        y = getattr(lib.nn.functional, f"conv{nd}d")(x, w, b, **kw)
    gy = lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)), dtype=dt)
    ins = (x, w) if b is None else (x, w, b)
    gs = lib.autograd.grad(y, ins, gy, create_graph=double)
    out = [y.detach().numpy()] + [a.detach().numpy() for a in gs]
    if double:
        h = lib.autograd.grad(sum((a * a).sum() for a in gs[:2]), (x, w))
        out += [a.numpy() for a in h]
    return out


def _compare(xa, wa, ba, kw, nd, dtype="float64", double=False):
    t = _run(torch, xa, wa, ba, kw, nd, dtype, double)
    e = _run(ember, xa, wa, ba, kw, nd, dtype, double)
    tol = 1e-10 if dtype == "float64" else 2e-5
    for a, b in zip(t, e):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol * (np.abs(a).max(initial=0) + 1))


# nd, N, C, O, G, spatial, k, padding, dilation
CASES = [
    (2, 3, 4, 6, 1, (9, 8), 3, 1, 1),
    (2, 3, 4, 6, 2, (9, 8), 3, 1, 1),
    (2, 2, 6, 6, 6, (7, 9), 3, 2, 2),          # depthwise, dilated
    (2, 2, 3, 5, 1, (8, 8), (3, 2), (1, 0), (1, 2)),
    (2, 2, 4, 4, 1, (7, 6), 4, "same", 1),     # even kernel: pads (1, 2)
    (2, 2, 4, 4, 2, (7, 6), 2, "same", 3),
    (2, 2, 4, 8, 1, (6, 6), 5, 2, 1),          # pads wider than nothing, kernel 5
    (2, 3, 16, 16, 1, (8, 8), 3, 1, 1),        # 8+ output channels on a small plane: channels-last gradient
    (2, 2, 1, 6, 1, (12, 12), 5, 2, 1),        # LeNet's first layer
    (2, 2, 6, 16, 1, (10, 10), 5, 0, 1),       # LeNet's second layer (no padding)
    (2, 2, 3, 4, 1, (5, 5), 3, 3, 1),          # padding larger than the kernel span
    (1, 3, 4, 6, 2, (11,), 3, 1, 1),
    (1, 2, 3, 3, 3, (10,), 4, "same", 2),
    (3, 2, 4, 4, 1, (4, 5, 6), 3, 1, 1),
    (3, 1, 2, 4, 2, (5, 4, 6), (2, 3, 2), (1, 0, 1), (2, 1, 1)),
]


@pytest.mark.parametrize("case", CASES, ids=[str(c) for c in CASES])
def test_shifted_planes_float64(case, mode):
    nd, n, C, O, G, sp, k, pad, dil = case
    r = np.random.RandomState(3)
    ks = (k,) * nd if isinstance(k, int) else k
    xa, wa, ba = r.randn(n, C, *sp), r.randn(O, C // G, *ks), r.randn(O)
    _compare(xa, wa, ba, {"padding": pad, "dilation": dil, "groups": G}, nd, double=True)
    _compare(xa, wa, None, {"padding": pad, "dilation": dil, "groups": G}, nd)


@pytest.mark.parametrize("case", CASES[:10], ids=[str(c) for c in CASES[:10]])
def test_shifted_planes_float32(case, mode):
    nd, n, C, O, G, sp, k, pad, dil = case
    r = np.random.RandomState(4)
    ks = (k,) * nd if isinstance(k, int) else k
    xa, wa, ba = r.randn(n, C, *sp), r.randn(O, C // G, *ks), r.randn(O)
    _compare(xa, wa, ba, {"padding": pad, "dilation": dil, "groups": G}, nd, "float32")


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
def test_shifted_planes_padding_modes(padding_mode, mode):
    r = np.random.RandomState(5)
    xa = r.randn(2, 4, 7, 8)
    out = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        m = lib.nn.Conv2d(4, 6, 3, padding=1, padding_mode=padding_mode, groups=2).double()
        x = lib.tensor(xa, requires_grad=True)
        y = m(x)
        y.backward(lib.tensor(np.sin(np.arange(y.numel())).reshape(tuple(y.shape))))
        out.append([y.detach().numpy(), x.grad.numpy(), m.weight.grad.numpy(), m.bias.grad.numpy()])
    for a, b in zip(*out):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-10)


def _both(fn):
    t, e = fn(torch), fn(ember)
    for a, b in zip(t, e):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-9)


def test_shifted_planes_layouts_and_routes(monkeypatch):
    """Non-contiguous and channels-last inputs; the transposed convolution's gradients (outputs shorter than
    the full extent); shapes with too many garbage columns take the im2col route (checked by spying)."""
    r = np.random.RandomState(6)
    xa, wa, wt = r.randn(2, 4, 9, 7), r.randn(6, 4, 3, 3), r.randn(4, 3, 3, 3)

    def views(lib):
        x, w = lib.tensor(xa, requires_grad=True), lib.tensor(wa, requires_grad=True)
        xs = x.transpose(2, 3)  # a strided view
        xc = x.contiguous(memory_format=lib.channels_last)
        y = lib.nn.functional.conv2d(xs, w, padding=1).sum() + (lib.nn.functional.conv2d(xc, w, padding=2) ** 2).sum()
        return [y.detach().numpy()] + [a.numpy() for a in lib.autograd.grad(y, (x, w))]
    _both(views)

    def transposed(lib):
        x, w = lib.tensor(xa, requires_grad=True), lib.tensor(wt, requires_grad=True)
        y = lib.nn.functional.conv_transpose2d(x, w, stride=1, padding=1, dilation=2)
        return [y.detach().numpy()] + [a.numpy() for a in lib.autograd.grad((y * y).sum(), (x, w))]
    _both(transposed)
    calls = []
    real = N._conv_s1_fwd
    monkeypatch.setattr(N, "_conv_s1_fwd", lambda *a: calls.append(1) or real(*a))
    _compare(r.randn(2, 3, 4, 12), r.randn(2, 3, 3, 9), None, {}, 2)  # 4 of 12 columns valid: im2col
    assert not calls
    _compare(r.randn(2, 3, 9, 9), r.randn(2, 3, 3, 3), None, {"padding": 1}, 2)
    assert calls


def test_shifted_planes_empty_and_unbatched():
    r = np.random.RandomState(7)
    _compare(r.randn(0, 3, 6, 6), r.randn(4, 3, 3, 3), r.randn(4), {"padding": 1}, 2)
    xa = r.randn(3, 6, 6)

    def unbatched(lib):
        x, w = lib.tensor(xa, requires_grad=True), lib.tensor(np.ones((2, 3, 3, 3)), requires_grad=True)
        y = lib.nn.functional.conv2d(x, w, padding=1)
        return [y.detach().numpy()] + [a.numpy() for a in lib.autograd.grad(y.sum(), (x, w))]
    _both(unbatched)


@pytest.mark.parametrize("C,G,O", [(16, 1, 4), (4, 2, 4), (6, 1, 4), (4, 1, 16)])
def test_non_finite_like_torch(C, G, O):
    """inf/NaN in the input or the weight: the gradients have NaN exactly where torch's do (the shifted-plane
    routes multiply garbage or padding zeros, so they step aside for non-finite data)."""
    r = np.random.RandomState(8)
    xa = r.randn(2, C, 6, 6)
    xa[0, 0, 2, 5], xa[1, C - 1, 5, 0] = np.inf, np.nan
    wa = r.randn(O, C // G, 3, 3)
    wb = wa.copy()
    wb[0, 0, 1, 2] = np.inf
    for X, W in ((xa, wa), (r.randn(2, C, 6, 6), wb)):
        def run(lib):
            x, w = lib.tensor(X, requires_grad=True), lib.tensor(W, requires_grad=True)
            y = lib.nn.functional.conv2d(x, w, padding=1, groups=G)
            gy = lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))
            return [y.detach().numpy()] + [a.numpy() for a in lib.autograd.grad(y, (x, w), gy)]
        for a, b in zip(run(torch), run(ember)):
            np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-10, equal_nan=True)
