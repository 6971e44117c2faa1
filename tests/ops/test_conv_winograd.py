"""The Winograd F(2x2, 3x3) path of 3x3 stride-1 convolutions (ember/ops/conv_winograd.py): values and
gradients against a float64 direct convolution and against torch, the cases it must leave to the direct
path, and that it is really the path taken."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.backend import cpu_kernels as K
from ember.ops import conv_winograd as WG

pytestmark = pytest.mark.skipif(not K.available(), reason="compiled CPU kernels unavailable")

CASES = [  # N, C, O, H, W, padding
    (2, 16, 16, 8, 8, 1),
    (3, 17, 20, 7, 9, 1),
    (2, 16, 16, 5, 6, 0),
    (1, 16, 24, 6, 5, 2),
    (2, 16, 16, 1, 1, 1),
    (1, 32, 16, 3, 4, (0, 2)),
    (4, 16, 18, 11, 13, 3),
]


def _direct(x, w, b, padding):
    """The same convolution in float64 through the direct path (Winograd takes float32 only)."""
    y = F.conv2d(ember.from_numpy(x.astype(np.float64)), ember.from_numpy(w.astype(np.float64)),
                 None if b is None else ember.from_numpy(b.astype(np.float64)), padding=padding)
    return y.numpy()


@pytest.fixture
def taken(monkeypatch):
    """Counts the Winograd forward and weight-gradient calls."""
    calls = {"fwd": 0, "wgrad": 0}
    fwd, wgrad = WG.conv2d, WG.conv2d_weight_grad

    def count_fwd(*a):
        calls["fwd"] += 1
        return fwd(*a)

    def count_wgrad(*a):
        calls["wgrad"] += 1
        return wgrad(*a)
    monkeypatch.setattr(WG, "conv2d", count_fwd)
    monkeypatch.setattr(WG, "conv2d_weight_grad", count_wgrad)
    return calls


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_forward_and_gradients_match_direct_float64(case, bias, taken):
    N, C, O, H, W, padding = case
    rng = np.random.default_rng(sum(case[:5]))
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = rng.standard_normal((O, C, 3, 3)).astype(np.float32)
    b = rng.standard_normal(O).astype(np.float32) if bias else None
    xt, wt = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
    bt = None if b is None else ember.tensor(b, requires_grad=True)
    y = F.conv2d(xt, wt, bt, padding=padding)
    ref = _direct(x, w, b, padding)
    assert y.dtype == ember.float32 and tuple(y.shape) == ref.shape
    scale = np.abs(ref).max()
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=0, atol=2e-6 * scale)
    g = rng.standard_normal(ref.shape).astype(np.float32)
    y.backward(ember.from_numpy(g))
    x64 = ember.tensor(x.astype(np.float64), requires_grad=True)
    w64 = ember.tensor(w.astype(np.float64), requires_grad=True)
    F.conv2d(x64, w64, padding=padding).backward(ember.from_numpy(g.astype(np.float64)))
    for got, want in [(xt.grad, x64.grad), (wt.grad, w64.grad)]:
        want = want.numpy()
        np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=2e-6 * max(np.abs(want).max(), 1e-30))
    if bias:
        np.testing.assert_allclose(bt.grad.numpy(), g.sum((0, 2, 3)), rtol=1e-5, atol=1e-5)
    assert taken["fwd"] >= 1 and taken["wgrad"] == 1


def test_matches_torch_resnet_layer():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 64, 16, 16)).astype(np.float32)
    w = (rng.standard_normal((64, 64, 3, 3)) * 0.05).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    g = rng.standard_normal((4, 64, 16, 16)).astype(np.float32)
    sides = []
    for lib, tensor in [(ember, ember.tensor), (torch, torch.tensor)]:
        xt, wt, bt = (tensor(a, requires_grad=True) for a in (x, w, b))
        y = lib.nn.functional.conv2d(xt, wt, bt, padding=1)
        y.backward(tensor(g))
        sides.append([a.detach().numpy() for a in (y, xt.grad, wt.grad, bt.grad)])
    for e, t in zip(*sides):
        np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-4 * np.abs(t).max())


@pytest.mark.parametrize("where", ["input", "weight", "grad"])
@pytest.mark.parametrize("value", [np.inf, np.nan])
def test_non_finite_values_take_the_direct_path(where, value):
    """An inf stays an inf where a direct sum keeps it (Winograd's transforms would mix it into a tile)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 16, 6, 6)).astype(np.float32)
    w = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    g = rng.standard_normal((2, 16, 6, 6)).astype(np.float32)
    {"input": x, "weight": w, "grad": g}[where][0, 1, 2, 2] = value
    xt, wt = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
    y = F.conv2d(xt, wt, padding=1)
    y.backward(ember.from_numpy(g))
    with np.errstate(invalid="ignore", over="ignore"):
        x64, w64 = ember.tensor(x.astype(np.float64), requires_grad=True), \
            ember.tensor(w.astype(np.float64), requires_grad=True)
        y64 = F.conv2d(x64, w64, padding=1)
        y64.backward(ember.from_numpy(g.astype(np.float64)))
    for got, want in [(y.detach(), y64.detach()), (xt.grad, x64.grad), (wt.grad, w64.grad)]:
        got, want = got.numpy(), want.numpy()
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
        fin = np.isfinite(want)
        np.testing.assert_allclose(got[fin], want[fin], rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("kw", [dict(stride=2, padding=1), dict(dilation=2, padding=2), dict(groups=2, padding=1)])
def test_other_geometries_stay_direct(kw, taken):
    rng = np.random.default_rng(2)
    x = ember.tensor(rng.standard_normal((2, 16, 8, 8)).astype(np.float32))
    w = ember.tensor(rng.standard_normal((16, 16 // kw.get("groups", 1), 3, 3)).astype(np.float32))
    y = F.conv2d(x, w, **kw)
    ref = F.conv2d(x.double(), w.double(), **kw)
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-5, atol=1e-4)
    assert taken["fwd"] == 0


def test_few_channels_and_float64_stay_direct(taken):
    rng = np.random.default_rng(3)
    x = ember.tensor(rng.standard_normal((2, 3, 8, 8)).astype(np.float32))
    F.conv2d(x, ember.randn(16, 3, 3, 3), padding=1)
    F.conv2d(ember.randn(2, 16, 8, 8, dtype=ember.float64), ember.randn(16, 16, 3, 3, dtype=ember.float64))
    assert taken["fwd"] == 0


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_steps_and_threads_give_the_same_result(monkeypatch, threads):
    """A batch done in several steps of samples, on one or more threads, gives the one-step result."""
    from ember.backend import parallel
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 16, 9, 7)).astype(np.float32)
    w = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    g = rng.standard_normal((5, 16, 9, 7)).astype(np.float32)
    pads = ((1, 1), (1, 1))
    monkeypatch.setattr(parallel, "threads", lambda: 1)
    whole, whole_w = WG.conv2d(x, w, None, pads), WG.conv2d_weight_grad(g, x, pads)
    monkeypatch.setattr(parallel, "threads", lambda: threads)
    monkeypatch.setattr(parallel, "PER_THREAD_WORK", 0)
    monkeypatch.setattr(WG, "_CHUNK", 16 * 32 * 5 * 4 * 4 * 2)  # two samples per step
    assert WG._step(16, 16, 5, 4) == 2
    np.testing.assert_allclose(WG.conv2d(x, w, None, pads), whole, rtol=0, atol=1e-6)
    # (the weight gradient sums 315 positions per sample in another order: float32 rounding of that size)
    np.testing.assert_allclose(WG.conv2d_weight_grad(g, x, pads), whole_w, rtol=0, atol=2e-6 * np.abs(whole_w).max())
