"""The compiled direct path of stride-1 float32 convolutions with few output channels
(ember/backend/cpu_kernels.c conv_direct_f32, routed by ember/ops/nn_ops.py), and the per-thread sample
pieces of the other stride-1 paths: values and gradients against float64 and against torch."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.backend import cpu_kernels as K
from ember.backend import parallel

pytestmark = pytest.mark.skipif(not K.available(), reason="compiled CPU kernels unavailable")

CASES = [  # conv function, N, C, O, spatial, kernel, keyword arguments
    (F.conv2d, 64, 6, 16, (14, 14), (5, 5), {}),  # LeNet's second layer
    (F.conv2d, 8, 1, 6, (28, 28), (5, 5), {"padding": 2}),  # LeNet's first
    (F.conv2d, 3, 3, 5, (9, 7), (3, 3), {"padding": 1}),  # channel count not a multiple of 4
    (F.conv2d, 2, 4, 7, (5, 11), (2, 3), {"padding": (1, 0), "dilation": (2, 1)}),
    (F.conv2d, 1, 2, 3, (3, 3), (3, 3), {"padding": "same"}),
    (F.conv1d, 4, 3, 9, (30,), (5,), {"padding": 2}),
    (F.conv3d, 2, 2, 4, (5, 6, 4), (3, 3, 2), {"padding": 1}),
]


def _run(fn, x, w, b, kw, g):
    xt, wt, bt = (ember.tensor(a, requires_grad=True) for a in (x, w, b))
    y = fn(xt, wt, bt, **kw)
    y.backward(ember.tensor(g.astype(x.dtype)))
    return [a.detach().numpy() for a in (y, xt.grad, wt.grad, bt.grad)]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0].__name__}-{c[2]}-{c[3]}-{c[5]}")
def test_matches_float64(case, threads, monkeypatch):
    monkeypatch.setattr(parallel, "threads", lambda: threads)
    monkeypatch.setattr(parallel, "PER_THREAD_WORK", 0)  # split even these small ones
    fn, N, C, O, sp, k, kw = case
    rng = np.random.default_rng(N * 100 + C * 10 + O)
    x = rng.standard_normal((N, C) + sp).astype(np.float32)
    w = rng.standard_normal((O, C) + k).astype(np.float32)
    b = rng.standard_normal(O).astype(np.float32)
    y64 = fn(ember.tensor(x.astype(np.float64)), ember.tensor(w.astype(np.float64)),
             ember.tensor(b.astype(np.float64)), **kw).numpy()
    g = rng.standard_normal(y64.shape)
    got = _run(fn, x, w, b, kw, g)
    want = _run(fn, x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), kw, g)
    for a, e in zip(got, want):
        assert a.dtype == np.float32 and a.shape == e.shape
        np.testing.assert_allclose(a, e, rtol=0, atol=3e-6 * np.abs(e).max())


@pytest.mark.parametrize("lanes", [False, True])
@pytest.mark.parametrize("case", CASES + [
    (F.conv2d, 3, 2, 20, (7, 9), (3, 3), {}),  # two blocks of lanes, the second partly padding
    (F.conv2d, 2, 3, 32, (6, 6), (2, 2), {"padding": 1}),
    (F.conv1d, 3, 2, 17, (13,), (3,), {"dilation": 2}),
], ids=lambda c: f"{c[0].__name__}-{c[2]}-{c[3]}-{c[5]}-{c[6]}")
def test_both_kernels_match_float64(case, lanes, monkeypatch):
    """Each compiled kernel (conv_lanes: output channels in the vector lanes, conv_direct: grid positions in
    them) forced on every case, with bias, unpadded inputs (conv_lanes reads them in place) and a
    non-contiguous one."""
    import ember.ops.nn_ops as N
    monkeypatch.setattr(N, "_lanes_pay", lambda O, RW, Lr: lanes)
    calls = []
    for name in ("conv_lanes", "conv_direct"):
        orig = getattr(K, name)
        monkeypatch.setattr(K, name, lambda *a, _o=orig, _n=name: calls.append(_n) or _o(*a))
    fn, N_, C, O, sp, k, kw = case
    rng = np.random.default_rng(O * 7 + C)
    x = rng.standard_normal((N_, C) + sp).astype(np.float32)
    w = rng.standard_normal((O, C) + k).astype(np.float32)
    b = rng.standard_normal(O).astype(np.float32)
    for xi in (x, np.swapaxes(np.ascontiguousarray(np.swapaxes(x, 0, 1)), 0, 1)):
        got = fn(ember.from_numpy(xi), ember.tensor(w), ember.tensor(b), **kw).numpy()
        want = fn(ember.tensor(x.astype(np.float64)), ember.tensor(w.astype(np.float64)),
                  ember.tensor(b.astype(np.float64)), **kw).numpy()
        assert got.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=3e-6 * np.abs(want).max())
    assert calls and set(calls) == {"conv_lanes" if lanes else "conv_direct"}


def test_lenet_layers_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for (C, O, H, pad) in [(1, 6, 28, 2), (6, 16, 14, 0)]:
        x = rng.standard_normal((64, C, H, H)).astype(np.float32)
        w = (rng.standard_normal((O, C, 5, 5)) * 0.2).astype(np.float32)
        b = rng.standard_normal(O).astype(np.float32)
        H_out = H + 2 * pad - 4
        g = rng.standard_normal((64, O, H_out, H_out)).astype(np.float32)
        mine = _run(F.conv2d, x, w, b, {"padding": pad}, g)
        xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        y = torch.nn.functional.conv2d(xt, wt, bt, padding=pad)
        y.backward(torch.tensor(g))
        for a, e in zip(mine, [t.detach().numpy() for t in (y, xt.grad, wt.grad, bt.grad)]):
            np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4 * np.abs(e).max())


def test_non_finite_weight_keeps_torch_nan_pattern():
    """A non-finite weight goes the gemm way (the direct kernel never multiplies it by padding zeros either,
    but both must agree with the float64 reference)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    w[1, 2, 0, 0] = np.inf
    x[0, 1, 2, 3] = np.nan
    y = F.conv2d(ember.tensor(x), ember.tensor(w), padding=1).numpy()
    with np.errstate(invalid="ignore"):
        ref = F.conv2d(ember.tensor(x.astype(np.float64)), ember.tensor(w.astype(np.float64)), padding=1).numpy()
    np.testing.assert_array_equal(np.isnan(y), np.isnan(ref))
    np.testing.assert_array_equal(np.isinf(y), np.isinf(ref))


def test_tap_offsets_follow_the_weight_order():
    from ember.ops.nn_ops import _tap_offsets
    off = _tap_offsets(2, (2, 3), (1, 2), [10, 1], 100)
    want = [c * 100 + a * 10 + b * 2 for c in range(2) for a in range(2) for b in range(3)]
    assert off.tolist() == want
