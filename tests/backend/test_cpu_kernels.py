"""The compiled float32 CPU kernels (GELU, layer norm, softmax) against float64 references, against the NumPy
code they replace (the same op with the kernels switched off), and against torch; on special values, 0-d,
non-contiguous and large (multi-threaded) inputs."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.backend import cpu_kernels as K

pytestmark = pytest.mark.skipif(not K.available(), reason=f"no compiled CPU kernels: {K.status()}")

R = np.random.default_rng(0)


def _both(fn, monkeypatch):
    """fn() with the kernels, then with the NumPy code (kernels reported unavailable)."""
    a = fn()
    with monkeypatch.context() as m:
        m.setattr(K, "available", lambda: False)
        b = fn()
    return a, b


def _phi64(x):
    return 0.5 * np.array([math.erfc(-v / math.sqrt(2)) for v in x.astype(np.float64).ravel()]).reshape(x.shape)


def test_gelu_exact_within_a_few_ulp():
    x = np.concatenate([np.linspace(-16, 16, 20001), R.standard_normal(5000) * 3]).astype(np.float32)
    y, cdf = K.gelu(x, "none", keep_cdf=True)
    p = _phi64(x)
    ref = x.astype(np.float64) * p
    big = np.abs(ref) > 1e-37
    ulp = np.abs(y[big] - ref[big]) / np.spacing(np.abs(ref[big]).astype(np.float32))
    assert ulp.max() <= 8  # (the NumPy float32 path: within 11; torch's loses digits for x < -3)
    np.testing.assert_allclose(cdf, p, rtol=1e-6, atol=1e-37)  # (subnormal results flush to 0)
    g = R.standard_normal(x.size).astype(np.float32)
    dref = g * (p + x * np.exp(-x.astype(np.float64) ** 2 / 2) / math.sqrt(2 * math.pi))
    for d in (K.gelu_backward(g, x, "none"), K.gelu_backward(g, x, "none", cdf)):
        np.testing.assert_allclose(d, dref, rtol=2e-6, atol=1e-6)


def test_gelu_tanh_matches_formula():
    x = np.linspace(-12, 12, 4001).astype(np.float32)
    x64 = x.astype(np.float64)
    u = math.sqrt(2 / math.pi) * (x64 + 0.044715 * x64 ** 3)
    ref = x64 / (1 + np.exp(-2 * u))  # 0.5 x (1 + tanh u) without its cancellation
    # (in the far negative tail the float32 rounding of u, ~55 there, moves exp(-2u) by ~3e-6 relative)
    np.testing.assert_allclose(K.gelu(x, "tanh")[0], ref, rtol=2e-5, atol=1e-30)
    t = np.tanh(u)
    dref = 0.5 * (1 + t) + 0.5 * x64 * (1 - t * t) * math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x64 ** 2)
    np.testing.assert_allclose(K.gelu_backward(np.ones_like(x), x, "tanh"), dref, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_special_values(approximate):
    # x * Phi(x): inf at inf, NaN at -inf (-inf * 0), signed zeros kept. (torch's vectorised float32 erf gives
    # NaN at +inf and loses digits for x < -3 to cancellation, e.g. -1.19e-6 for the true -1.43e-6 at -5:
    # those two points are compared with the true values, not with torch's.)
    v = [math.inf, -math.inf, math.nan, 0.0, -0.0, 1e-30, -1e-30, 30.0, -30.0, 5.0, -5.0]
    e = ember.tensor(v, requires_grad=True)
    y = F.gelu(e, approximate=approximate)
    got = y.detach().numpy()
    assert got[0] == math.inf and np.isnan(got[1]) and np.isnan(got[2])
    assert got[3] == 0 and not np.signbit(got[3]) and got[4] == 0 and np.signbit(got[4])
    np.testing.assert_allclose(got[5:7], [5e-31, -5e-31], rtol=1e-6)
    assert got[7] == 30.0 and got[8] == 0 and np.signbit(got[8])
    if approximate == "none":
        np.testing.assert_allclose(got[9:], [5 * (1 - 2.866515718791939e-07), -5 * 2.866515718791939e-07],
                                   rtol=2e-7)
    y.sum().backward()
    d = e.grad.numpy()  # Phi(x) + x phi(x): inf * 0 at +inf is NaN, as in torch
    assert np.isnan(d[:3]).all() and d[3] == d[4] == 0.5 and d[7] == 1 and d[8] == 0


def test_gelu_shapes_and_layouts_match_the_numpy_path(monkeypatch):
    for shape in [(), (0, 3), (7,), (300, 400)]:  # 120000 elements: split across the intra-op threads
        for approximate in ("none", "tanh"):
            base = R.standard_normal(shape).astype(np.float32)
            for transposed in ((False, True) if base.ndim == 2 else (False,)):  # a non-contiguous input
                def run():
                    x = ember.tensor(base, requires_grad=True)
                    y = F.gelu(x.t() if transposed else x, approximate=approximate)
                    y.backward(ember.ones_like(y) * 0.5)
                    return y.detach().numpy().copy(), x.grad.numpy().copy()
                (ya, ga), (yb, gb) = _both(run, monkeypatch)
                assert ya.shape == yb.shape == (base.T.shape if transposed else base.shape)
                # (the NumPy tanh form loses ~|x| * 1e-7 to cancellation for x < 0; the kernel does not)
                np.testing.assert_allclose(ya, yb, rtol=2e-6, atol=1e-6)
                np.testing.assert_allclose(ga, gb, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape,ns", [((4, 6), (6,)), ((2, 3, 4, 5), (4, 5)), ((600, 256), (256,))])
def test_layer_norm_matches_numpy_path_and_float64(shape, ns, affine, monkeypatch):
    x0 = (R.standard_normal(shape) * 3 + 2).astype(np.float32)
    w0, b0 = R.standard_normal(ns).astype(np.float32), R.standard_normal(ns).astype(np.float32)
    g0 = R.standard_normal(shape).astype(np.float32)

    def run():
        x = ember.tensor(x0, requires_grad=True)
        w = ember.tensor(w0, requires_grad=True) if affine else None
        b = ember.tensor(b0, requires_grad=True) if affine else None
        y = F.layer_norm(x, ns, w, b, 1e-5)
        y.backward(ember.tensor(g0))
        return [y.detach().numpy().copy(), x.grad.numpy().copy()] + (
            [w.grad.numpy().copy(), b.grad.numpy().copy()] if affine else [])
    a, b = _both(run, monkeypatch)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-4)
    # float64 reference of the forward and the input gradient
    k = len(ns)
    X = x0.astype(np.float64).reshape(-1, int(np.prod(ns)))
    m, rs = X.mean(1, keepdims=True), 1 / np.sqrt(X.var(1, keepdims=True) + 1e-5)
    xh = (X - m) * rs
    W = w0.reshape(-1).astype(np.float64) if affine else 1.0
    Bv = b0.reshape(-1).astype(np.float64) if affine else 0.0
    np.testing.assert_allclose(a[0].reshape(X.shape), xh * W + Bv, rtol=1e-5, atol=2e-6)
    G = g0.astype(np.float64).reshape(X.shape) * W
    gx = rs * (G - G.mean(1, keepdims=True) - xh * (G * xh).mean(1, keepdims=True))
    np.testing.assert_allclose(a[1].reshape(X.shape), gx, rtol=1e-5, atol=2e-6)
    assert a[0].shape == shape and k >= 1


def test_layer_norm_constant_rows_and_weight_only():
    torch = pytest.importorskip("torch")
    x0 = np.ones((3, 8), np.float32)
    x0[1] = R.standard_normal(8)
    w0 = R.standard_normal(8).astype(np.float32)
    e, t = ember.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    ew, tw = ember.tensor(w0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    ye, yt = F.layer_norm(e, (8,), ew), torch.nn.functional.layer_norm(t, (8,), tw)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("log", [False, True])
def test_softmax_rows_with_special_values_match_numpy_path(log, monkeypatch):
    x0 = (R.standard_normal((6, 5)) * 20).astype(np.float32)
    x0[1, 2] = np.inf
    x0[2, :] = -np.inf
    x0[3, 4] = np.nan
    x0[4, 0] = -np.inf
    f = F.log_softmax if log else F.softmax

    def run():
        return f(ember.tensor(x0), dim=-1).numpy().copy()
    a, b = _both(run, monkeypatch)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    assert (np.isnan(a) == np.isnan(b)).all()


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("shape", [(7,), (3, 4, 9), (700, 300)])
def test_softmax_forward_backward_match_numpy_path(shape, log, monkeypatch):
    x0 = (R.standard_normal(shape) * 4).astype(np.float32)
    g0 = R.standard_normal(shape).astype(np.float32)
    f = F.log_softmax if log else F.softmax

    def run():
        x = ember.tensor(x0, requires_grad=True)
        y = f(x, dim=-1)
        y.backward(ember.tensor(g0))
        return y.detach().numpy().copy(), x.grad.numpy().copy()
    (ya, ga), (yb, gb) = _both(run, monkeypatch)
    np.testing.assert_allclose(ya, yb, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ga, gb, rtol=1e-4, atol=1e-5)


def test_cross_entropy_like_torch():
    torch = pytest.importorskip("torch")
    x0 = (R.standard_normal((64, 50)) * 10).astype(np.float32)
    y0 = R.integers(0, 50, 64)
    e, t = ember.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    le = F.cross_entropy(e, ember.tensor(y0), label_smoothing=0.1)
    lt = torch.nn.functional.cross_entropy(t, torch.tensor(y0), label_smoothing=0.1)
    np.testing.assert_allclose(le.item(), lt.item(), rtol=1e-6)
    le.backward()
    lt.backward()
    np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_switched_off_by_environment(tmp_path):
    code = "from ember.backend import cpu_kernels as K; print(K.available(), K.status())"
    env = dict(os.environ, EMBER_CPU_KERNELS="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.startswith("False disabled by EMBER_CPU_KERNELS=0")
    env = dict(os.environ, EMBER_CACHE_DIR=str(tmp_path / "cache"))  # a fresh cache: builds, then loads
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.startswith("True compiled with")
    assert [p.suffix for p in (tmp_path / "cache").iterdir()] == [".so"]  # no temporary left behind


@pytest.mark.parametrize("H, B, threads", [(7, 3, 2), (13, 27, 2), (40, 16, 3), (33, 8, 1)])
@pytest.mark.parametrize("bidirectional, use_out, batch_first",
                         [(False, True, False), (True, True, False), (False, False, False), (True, False, True)])
def test_lstm_steps_match_numpy_path(bidirectional, use_out, batch_first, H, B, threads, monkeypatch):
    # the compiled recurrences (packed gemm and gate math, split by units over the pool) against the NumPy step
    # loop; batches off multiples of 8 and 16 take the gemm's tails, hidden sizes off the panel height its padded
    # rows; without use_out only h_n and c_n carry gradient (the output gradient arrives as None)
    monkeypatch.setattr(ember.backend.parallel, "threads", lambda: threads)
    monkeypatch.setattr(K, "_recurrence_pieces", lambda units, macs: min(threads, units))  # split even tiny steps
    ember.manual_seed(0)
    m = ember.nn.LSTM(5, H, bidirectional=bidirectional, num_layers=2 if not use_out else 1,
                      batch_first=batch_first)
    x0 = R.standard_normal((6, B, 5)).astype(np.float32) * 2
    g0 = R.standard_normal((6, B, 2 * H if bidirectional else H)).astype(np.float32)

    def run():
        for p in m.parameters():
            p.grad = None
        x = ember.tensor(x0, requires_grad=True)
        out, (h, c) = m(x)
        loss = h.sum() * 0.5 + c.sum() * 0.25
        if use_out:
            loss = loss + (out * ember.tensor(g0)).sum()
        loss.backward()
        return [out.detach().numpy().copy(), h.detach().numpy().copy(), c.detach().numpy().copy(),
                x.grad.numpy().copy()] + [p.grad.numpy().copy() for p in m.parameters()]
    a, b = _both(run, monkeypatch)
    for u, v in zip(a, b):  # (the packed gemm sums in another order than NumPy's BLAS)
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-5)


def test_relu_compiled_keeps_negative_zero_and_nan_like_torch(monkeypatch):
    torch = pytest.importorskip("torch")
    x = R.standard_normal(20000).astype(np.float32)
    x[:5] = [-0.0, np.nan, -np.inf, np.inf, 0.0]
    got = ember.tensor(x).relu().numpy()
    want = torch.tensor(x).relu().numpy()
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(want))
    a, b = _both(lambda: F.relu(ember.tensor(x[5:])).numpy(), monkeypatch)  # no specials: same as NumPy's
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n", [7, 20000])  # the NumPy path and the compiled one
def test_relu_gradient_is_torchs_threshold_backward(n):
    """0 where the output is <= 0 (also for a NaN gradient there), else g (also where the output is NaN); the
    double-backward node is torch's."""
    torch = pytest.importorskip("torch")
    x = R.standard_normal(n).astype(np.float32)
    g = R.standard_normal(n).astype(np.float32)
    x[:5] = [-0.0, np.nan, -1.0, 2.0, 0.0]
    g[:5] = [1.0, 2.0, np.nan, np.nan, np.nan]
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ge, = ember.autograd.grad(xe.relu(), xe, ember.tensor(g), create_graph=True)
    gt, = torch.autograd.grad(xt.relu(), xt, torch.tensor(g), create_graph=True)
    np.testing.assert_array_equal(ge.detach().numpy(), gt.detach().numpy())
    assert type(ge.grad_fn).__name__ == type(gt.grad_fn).__name__ == "ThresholdBackwardBackward0"


@pytest.mark.parametrize("value", [1.0, -2.5, np.nan])
def test_relu_gradient_of_a_broadcast_value(value, monkeypatch):
    """``relu(x).sum().backward()`` sends one value broadcast over x (all strides 0): the compiled kernel
    reads it once; torch's threshold_backward values, NaN outputs included."""
    torch = pytest.importorskip("torch")
    x = R.standard_normal((8, 3000)).astype(np.float32)
    x[0, :4] = [-0.0, np.nan, 0.0, 1.0]

    def run():
        xe = ember.tensor(x, requires_grad=True)
        (xe.relu() * value).sum().backward() if value != 1.0 else xe.relu().sum().backward()
        return xe.grad.numpy()
    a, b = _both(run, monkeypatch)
    xt = torch.tensor(x, requires_grad=True)
    (xt.relu() * value).sum().backward()
    np.testing.assert_array_equal(a, xt.grad.numpy())
    np.testing.assert_array_equal(b, xt.grad.numpy())


@pytest.mark.parametrize("mod,shape", [("BatchNorm2d", (16, 8, 9, 7)), ("BatchNorm1d", (5, 4, 11)),
                                       ("BatchNorm1d", (9, 6)), ("BatchNorm3d", (2, 3, 4, 5, 6)),
                                       ("InstanceNorm2d", (3, 4, 5, 6)), ("BatchNorm2d", (2, 3, 0, 4))])
@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_backward_kernel_matches_torch(mod, shape, train, affine, monkeypatch):
    """The per-channel compiled gradient (two passes per channel) against torch and the NumPy code, with batch
    and with running statistics, with and without affine parameters, and for a broadcast gradient."""
    torch = pytest.importorskip("torch")
    C = shape[1]
    tm = getattr(torch.nn, mod)(C, affine=affine, track_running_stats=mod.startswith("Batch"))
    if affine:
        with torch.no_grad():
            tm.weight.uniform_(0.5, 1.5)
            tm.bias.uniform_(-1, 1)
    x = (R.standard_normal(shape) * 3 + 1).astype(np.float32)
    g = R.standard_normal(shape).astype(np.float32)
    tm.train(train)
    if not train and mod.startswith("Batch"):
        with torch.no_grad():
            tm.running_mean.uniform_(-1, 1)
            tm.running_var.uniform_(0.5, 2)

    def run():
        em = getattr(ember.nn, mod)(C, affine=affine, track_running_stats=mod.startswith("Batch"))
        em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()})
        em.train(train)
        xe = ember.tensor(x, requires_grad=True)
        em(xe).backward(ember.tensor(g))
        out = [xe.grad.numpy()] + ([em.weight.grad.numpy(), em.bias.grad.numpy()] if affine else [])
        xe.grad = None
        em(xe).sum().backward()  # a broadcast gradient
        return out + [xe.grad.numpy()]
    got, numpy_path = _both(run, monkeypatch)
    if x.size == 0 and train:
        return  # (torch's batch statistics of an empty batch: NaN running stats; the shapes are checked above)
    xt = torch.tensor(x, requires_grad=True)
    tm(xt).backward(torch.tensor(g))
    want = [xt.grad.numpy()] + ([tm.weight.grad.numpy(), tm.bias.grad.numpy()] if affine else [])
    xt.grad = None
    tm(xt).sum().backward()
    want.append(xt.grad.numpy())
    for a, b, c in zip(got, numpy_path, want):
        np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dims,N,C,O,size,k,padding,dilation", [
    (2, 64, 1, 6, 28, 5, 2, 1),       # LeNet's first layer (two pieces on two threads)
    (2, 64, 6, 16, 14, 5, 0, 1),      # LeNet's second
    (2, 3, 3, 5, 9, (2, 3), "same", 1),  # even kernel: 'same' pads unequally
    (2, 2, 4, 7, 11, 3, 2, 2),        # dilation
    (1, 4, 3, 9, 20, 4, 1, 1),
    (3, 2, 2, 3, 6, 3, 1, 1),
    (2, 1, 1, 1, 5, 5, 2, 1),         # one channel each side
])
def test_conv_weight_gradient_kernel_matches_torch(dims, N, C, O, size, k, padding, dilation, monkeypatch):
    """The compiled weight gradient (few output channels) against torch and the gemm path."""
    torch = pytest.importorskip("torch")
    x = R.standard_normal((N, C) + (size,) * dims).astype(np.float32)
    kk = k if isinstance(k, tuple) else (k,) * dims
    w = R.standard_normal((O, C) + kk).astype(np.float32)
    conv_t, conv_e = getattr(torch.nn.functional, f"conv{dims}d"), getattr(F, f"conv{dims}d")

    def run():
        we = ember.tensor(w, requires_grad=True)
        y = conv_e(ember.tensor(x), we, padding=padding, dilation=dilation)
        y.backward(ember.tensor(np.cos(np.arange(y.numel(), dtype=np.float32)).reshape(tuple(y.shape))))
        return we.grad.numpy()
    calls = []
    orig = K.conv_direct_wgrad
    monkeypatch.setattr(K, "conv_direct_wgrad", lambda *a: calls.append(1) or orig(*a))
    got = run()
    assert calls, "the compiled weight gradient was not used"
    with monkeypatch.context() as m:
        m.setattr(ember.ops.nn_ops, "_direct_wgrad_ok", lambda *a: False)
        gemm = run()
    wt = torch.tensor(w, requires_grad=True)
    y = conv_t(torch.tensor(x), wt, padding=padding, dilation=dilation)
    y.backward(torch.cos(torch.arange(y.numel(), dtype=torch.float32)).reshape(y.shape))
    want = wt.grad.numpy()
    tol = 1e-5 * np.abs(want).max() + 1e-6  # float32 sums of thousands of products, in another order
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=tol)
    np.testing.assert_allclose(got, gemm, rtol=1e-4, atol=tol)


@pytest.mark.parametrize("B,H,L,S,D,Dv", [(2, 3, 5, 7, 4, 6), (16, 4, 64, 64, 32, 32), (1, 2, 70, 65, 33, 17),
                                           (2, 1, 1, 1, 8, 8), (1, 1, 9, 3, 40, 40)])
@pytest.mark.parametrize("masking", ["none", "causal", "float", "float-broadcast", "dead-row"])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_attention_kernel_matches_torch(B, H, L, S, D, Dv, masking, layout, monkeypatch):
    """F.scaled_dot_product_attention through the compiled kernel (float32 CPU) against torch: output and the
    three input gradients; causal and float masks (also broadcast, and rows with every key masked), inputs in
    two memory layouts, and L != S, Dv != D, sizes off the kernel's blocks."""
    torch = pytest.importorskip("torch")
    q = R.standard_normal((B, H, L, D)).astype(np.float32)
    k = R.standard_normal((B, H, S, D)).astype(np.float32)
    v = R.standard_normal((B, H, S, Dv)).astype(np.float32)
    g = R.standard_normal((B, H, L, Dv)).astype(np.float32)
    mask = None
    if masking.startswith("float"):
        mask = R.standard_normal((B, 1, L, S) if masking == "float" else (L, S)).astype(np.float32)
    elif masking == "dead-row":
        mask = np.zeros((L, S), np.float32)
        mask[L // 2] = -np.inf
    causal = masking == "causal"

    def lay(a, lib):
        t = lib.tensor(np.ascontiguousarray(a.transpose(0, 2, 1, 3)) if layout == "transposed" else a)
        t = t.transpose(1, 2) if layout == "transposed" else t
        return t.requires_grad_()

    def run(lib, fn):
        ts = [lay(a, lib) for a in (q, k, v)]
        m = None if mask is None else lib.tensor(mask)
        out = fn(*ts, attn_mask=m, is_causal=causal)
        out.backward(lib.tensor(g))
        return [out.detach().numpy()] + [t.grad.numpy() for t in ts]
    calls = []
    orig = K.attention
    monkeypatch.setattr(K, "attention", lambda *a: calls.append(1) or orig(*a))
    got = run(ember, F.scaled_dot_product_attention)
    assert calls, "the compiled attention was not used"
    want = run(torch, torch.nn.functional.scaled_dot_product_attention)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)


def test_attention_kernel_in_multihead_attention_matches_torch(monkeypatch):
    """nn.MultiheadAttention's packed self-attention (the GPT benchmark's form: batch_first, a float causal
    mask) through the kernel, against torch's module with the same weights."""
    torch = pytest.importorskip("torch")
    tm = torch.nn.MultiheadAttention(48, 4, batch_first=True)
    em = ember.nn.MultiheadAttention(48, 4, batch_first=True)
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = R.standard_normal((3, 21, 48)).astype(np.float32)
    g = R.standard_normal((3, 21, 48)).astype(np.float32)
    calls = []
    orig = K.attention_backward
    monkeypatch.setattr(K, "attention_backward", lambda *a: calls.append(1) or orig(*a))
    res = []
    for lib, m in ((ember, em), (torch, tm)):
        xt = lib.tensor(x, requires_grad=True)
        mask = lib.nn.Transformer.generate_square_subsequent_mask(21)
        out = m(xt, xt, xt, attn_mask=mask, need_weights=False, is_causal=True)[0]
        out.backward(lib.tensor(g))
        res.append([out.detach().numpy(), xt.grad.numpy(), m.in_proj_weight.grad.numpy()])
    assert calls, "the compiled attention gradient was not used"
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("shape", [(64, 256), (1, 5), (17, 33), (9, 16), (16, 9), (0, 3), (300, 1000)])
def test_transpose_kernel(shape):
    if not K.available():
        pytest.skip(K.status())
    x = R.standard_normal(shape).astype(np.float32)
    np.testing.assert_array_equal(K.transpose(x), x.T)


def _matrix(rows, cols, layout):
    """A float32 (rows, cols) matrix: C-contiguous, a transposed block (w.t()), or a strided slice."""
    if layout == "t":
        return R.standard_normal((cols, rows)).astype(np.float32).T
    if layout == "step":
        return R.standard_normal((rows, 2 * cols + 1)).astype(np.float32)[:, 1::2]
    return R.standard_normal((rows, cols)).astype(np.float32)


@pytest.mark.parametrize("m, k, n", [(1, 1, 1), (7, 3, 5), (13, 17, 33), (6, 16, 16), (5, 100, 1), (100, 5, 3),
                                     (64, 784, 256), (3, 300, 40), (70, 20, 300), (0, 3, 4), (3, 0, 4)])
@pytest.mark.parametrize("la, lb", [("c", "c"), ("c", "t"), ("t", "c"), ("t", "t"), ("step", "t"), ("c", "step")])
@pytest.mark.parametrize("threads", [1, 2])
def test_strided_gemm_matches_float64(m, k, n, la, lb, threads):
    # every layout of both operands, tails of the 6 x 16 tile, one piece or several (split by rows or columns)
    a, b = _matrix(m, k, la), _matrix(k, n, lb)
    old = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        c = K.gemm(a, b)
    finally:
        ember.set_num_threads(old)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    assert c.shape == (m, n) and c.dtype == np.float32 and c.flags.c_contiguous
    np.testing.assert_allclose(c, ref, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(ref).max(initial=0)))


@pytest.mark.parametrize("m, k, n", [(64, 784, 256), (16, 128, 512), (300, 200, 40)])
def test_linear_products_on_the_strided_gemm_match_torch(m, k, n, monkeypatch):
    # x @ W.t() of these sizes runs on the strided gemm (K.matmul's rule); values and gradients as torch's
    torch = pytest.importorskip("torch")
    x, w = _matrix(m, k, "c"), _matrix(n, k, "c")
    calls = []
    gemm = K.gemm
    monkeypatch.setattr(K, "gemm", lambda a, b: calls.append(a.shape) or gemm(a, b))
    xe, we = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ye, yt = xe @ we.t(), xt @ wt.t()
    assert calls == [(m, k)]
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-4)
    g = R.standard_normal((m, n)).astype(np.float32)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(we.grad.numpy(), wt.grad.numpy(), rtol=1e-4, atol=1e-4)


_SPECIAL = np.array([0.0, -0.0, 1.0, -1.5, np.inf, -np.inf, np.nan, 1e-40, 3e38, -3e38], np.float32)


def _operand(shape):
    v = R.standard_normal(shape).astype(np.float32)
    flat = v.reshape(-1)
    flat[:: max(1, flat.size // 50)][: _SPECIAL.size] = _SPECIAL[: flat[:: max(1, flat.size // 50)].size]
    return v


@pytest.mark.parametrize("op, fn", [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                                    ("div", np.true_divide)])
@pytest.mark.parametrize("sa, sb", [((70000,), (70000,)), ((300, 257), (257,)), ((40, 30, 64), (1, 30, 64)),
                                    ((257,), (300, 257)), ((1000, 40), ()), ((50000,), (1,)), ((3, 2), (3, 2))])
def test_binary_kernel_is_numpys_result_bit_for_bit(op, fn, sa, sb):
    a, b = _operand(sa), _operand(sb)
    with np.errstate(all="ignore"):
        ref = fn(a, b)
        y = K.binary(a, b, op)
    assert y is not None and y.flags.c_contiguous and y.shape == ref.shape
    np.testing.assert_array_equal(y, ref)  # NaN where NumPy has NaN, and the same bits elsewhere
    assert np.array_equal(y.view(np.int32), ref.view(np.int32)) or np.isnan(ref).any()


@pytest.mark.parametrize("op, fn", [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                                    ("div", np.true_divide)])
@pytest.mark.parametrize("number", [2, -0.5, 0.0, True])
def test_binary_kernel_with_a_python_number_on_either_side(op, fn, number):
    a = _operand((40000,))
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(K.binary(a, number, op), fn(a, np.float32(number)))
        np.testing.assert_array_equal(K.binary(number, a, op), fn(np.float32(number), a))


@pytest.mark.parametrize("a, b", [
    (np.zeros((40, 40), np.float32).T, np.ones((40, 40), np.float32)),  # not C-contiguous: NumPy's job
    (np.zeros((40, 40), np.float32), np.ones((40, 1), np.float32)),  # a column, not a trailing block
    (np.zeros((40, 40), np.float64), np.ones((40, 40), np.float64)),  # not float32
    (np.zeros((40,), np.float32), 1e39),  # a number float32 cannot hold: NumPy's overflow rules
    (np.zeros((40,), np.float32), np.ones((2, 40), np.float32)[:, :1]),  # a strided operand
])
def test_binary_kernel_declines_what_it_does_not_cover(a, b):
    assert K.binary(a, b, "add") is None


@pytest.mark.parametrize("expr", ["x * y + z", "x - y / z", "2 - x", "x / 3", "x + bias", "(x * y).relu()",
                                  "x.t() * y"])
def test_large_float32_arithmetic_matches_torch(expr, monkeypatch):
    torch = pytest.importorskip("torch")
    vals = {k: R.standard_normal((300, 300)).astype(np.float32) for k in "xyz"}
    vals["bias"] = R.standard_normal(300).astype(np.float32)
    mine, numpy_path = _both(lambda: eval(expr, {}, {k: ember.tensor(v) for k, v in vals.items()}).numpy(),
                             monkeypatch)
    theirs = eval(expr, {}, {k: torch.tensor(v) for k, v in vals.items()}).numpy()
    np.testing.assert_array_equal(mine, theirs)
    np.testing.assert_array_equal(mine, numpy_path)


@pytest.mark.parametrize("op, fn", [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                                    ("div", np.true_divide)])
@pytest.mark.parametrize("sb", [(300, 257), (257,), (), "number"])
def test_binary_kernel_in_place(op, fn, sb):
    a = _operand((300, 257))
    b = 1.75 if sb == "number" else _operand(sb)
    with np.errstate(all="ignore"):
        ref = fn(a, np.float32(b) if sb == "number" else b)
        assert K.binary(a, b, op, inplace=True) is a
    np.testing.assert_array_equal(a, ref)


def test_binary_kernel_in_place_declines_overlap_and_read_only():
    a = _operand((300, 300))
    assert K.binary(a, a, "add", inplace=True) is None  # NumPy buffers an operand that overlaps the output
    assert K.binary(a[:200], a[100:], "add", inplace=True) is None
    ro = _operand((300, 300))
    ro.flags.writeable = False
    assert K.binary(ro, 1.0, "add", inplace=True) is None


@pytest.mark.parametrize("expr", ["x.add_(y)", "x.sub_(bias)", "x.mul_(2.5)", "x.div_(y)", "x.add_(x)",
                                  "x.t().mul_(y)", "x[:, ::2].mul_(x[:, 1::2])"])
def test_large_float32_in_place_arithmetic_matches_torch(expr, monkeypatch):
    torch = pytest.importorskip("torch")
    vals = {k: R.standard_normal((300, 300)).astype(np.float32) for k in "xy"}
    vals["bias"] = R.standard_normal(300).astype(np.float32)

    def run(lib):
        env = {k: lib.tensor(v) for k, v in vals.items()}
        eval(expr, {}, env)
        return env["x"].numpy()
    mine, numpy_path = _both(lambda: run(ember), monkeypatch)
    np.testing.assert_array_equal(mine, run(torch))
    np.testing.assert_array_equal(mine, numpy_path)


def test_linear_bias_added_in_place_matches_torch():
    torch = pytest.importorskip("torch")
    x, w, b = (R.standard_normal(s).astype(np.float32) for s in ((256, 128), (512, 128), (512,)))
    mine = F.linear(ember.tensor(x), ember.tensor(w), ember.tensor(b)).numpy()
    theirs = torch.nn.functional.linear(torch.tensor(x), torch.tensor(w), torch.tensor(b)).numpy()
    np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-5)


def _openblas_with_callback():
    from threadpoolctl import threadpool_info
    for i in threadpool_info():
        if i.get("internal_api") == "openblas" and i.get("threading_layer") == "pthreads":
            v = tuple(int(p) for p in i["version"].split(".")[:3])
            return v >= (0, 3, 27)
    return False


def test_openblas_jobs_run_on_the_pool():
    # NumPy's wheels bundle an OpenBLAS that takes a threads callback: its threaded gemms then run on the
    # compiled pool's threads (jobs that wait on each other, each on a thread of its own)
    if not _openblas_with_callback():
        pytest.skip("NumPy's BLAS is not OpenBLAS 0.3.27+ on pthreads")
    assert K.blas_on_pool()
    a = R.standard_normal((300, 400)).astype(np.float32)
    b = R.standard_normal((400, 200)).astype(np.float32)
    np.testing.assert_allclose(a @ b, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-3)


def test_openblas_on_the_pool_from_threads_and_after_fork():
    # gemms from several Python threads at once wait for the pool in turn; a forked child starts its own workers
    import concurrent.futures as cf
    K.available()
    a = R.standard_normal((256, 256)).astype(np.float32)
    want = a.astype(np.float64) @ a
    with cf.ThreadPoolExecutor(4) as ex:
        for got in ex.map(lambda _: a @ a, range(16)):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)
    if not hasattr(os, "fork"):
        return
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a threaded gemm and a pool kernel, then its verdict through the pipe
        ok = np.allclose(a @ a, want, rtol=1e-4, atol=1e-3) and K.available()
        x = ember.tensor(R.standard_normal(1 << 16).astype(np.float32))
        ok = ok and np.array_equal(F.relu(x).numpy(), np.maximum(x.numpy(), 0))
        os.write(w, b"1" if ok else b"0")
        os._exit(0)
    os.close(w)
    assert os.read(r, 1) == b"1"
    os.waitpid(pid, 0)
