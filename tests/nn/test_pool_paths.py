"""The pooling and embedding kernel paths (ember/ops/nn_ops.py) against torch: average pooling's window sums on
the unpadded input (padding, ceil_mode, count_include_pad, divisor_override, 1-3 dims, integers, strides past the
kernel, non-contiguous input, second derivatives), max pooling's add.at backward (overlapping windows, float32
and float64), embedding's grouped backward (few and many repeats, padding_idx, scale_grad_by_freq)."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _pair(shape, dtype=np.float64, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return (ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True))


def _close(e, t, tol=1e-10):
    e, t = e.detach().numpy(), t.detach().numpy()
    assert e.shape == t.shape and e.dtype == t.dtype
    np.testing.assert_allclose(e, t, rtol=tol, atol=tol)


AVG = [  # nd, spatial, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
    (1, (9,), 3, 2, 1, False, True, None),
    (1, (10,), 4, 3, 2, True, False, None),
    (2, (9, 8), 3, 2, 1, False, True, None),
    (2, (9, 8), 3, 2, 1, True, False, None),
    (2, (7, 11), (2, 3), (3, 4), (1, 0), True, True, None),     # stride past the kernel: skipped inputs
    (2, (8, 8), 3, 1, 1, False, True, 5),
    (2, (5, 6), 1, 1, 0, False, True, None),
    (3, (5, 6, 7), (2, 3, 2), (2, 1, 3), (1, 1, 0), True, False, None),
]


@pytest.mark.parametrize("case", AVG)
def test_avg_pool_values_and_grads(case):
    nd, sp, k, s, p, ceil, cip, div = case
    xe, xt = _pair((2, 3) + sp)
    kw = dict(kernel_size=k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=cip)
    if nd > 1:
        kw["divisor_override"] = div
    fe = getattr(ember.nn.functional, f"avg_pool{nd}d")
    ft = getattr(torch.nn.functional, f"avg_pool{nd}d")
    ye, yt = fe(xe, **kw), ft(xt, **kw)
    _close(ye, yt)
    ge = np.cos(np.arange(ye.numel())).reshape(tuple(ye.shape))
    gte, gtt = ember.tensor(ge, requires_grad=True), torch.tensor(ge, requires_grad=True)
    (de,) = ember.autograd.grad(ye, xe, gte, create_graph=True)
    (dt,) = torch.autograd.grad(yt, xt, gtt, create_graph=True)
    _close(de, dt)
    # the backward's own backward (the pooling again) through the output gradient
    w = np.sin(np.arange(de.numel())).reshape(tuple(de.shape))
    (he,) = ember.autograd.grad((de * ember.tensor(w)).sum(), gte)
    (ht,) = torch.autograd.grad((dt * torch.tensor(w)).sum(), gtt)
    _close(he, ht)


def test_avg_pool_integers_and_noncontiguous():
    a = np.random.default_rng(1).integers(-50, 50, (2, 3, 7, 9))
    ye = ember.nn.functional.avg_pool2d(ember.tensor(a), 3, 2, 1)
    yt = torch.nn.functional.avg_pool2d(torch.tensor(a), 3, 2, 1)
    assert ye.dtype == ember.int64 and np.array_equal(ye.numpy(), yt.numpy())
    b = np.random.default_rng(2).standard_normal((3, 2, 8, 6)).astype(np.float32)
    xe, xt = ember.tensor(b).permute(1, 0, 3, 2), torch.tensor(b).permute(1, 0, 3, 2)
    for k, s, p in ((3, 1, 1), (2, 2, 0), (3, 2, 1)):
        _close(ember.nn.functional.avg_pool2d(xe, k, s, p), torch.nn.functional.avg_pool2d(xt, k, s, p), 1e-6)
    ref = b.copy()
    ember.nn.functional.avg_pool2d(ember.tensor(b), 3, 1, 1)  # a full-range tap must not write into x
    assert np.array_equal(b, ref)


def test_avg_pool_non_finite():
    a = np.random.default_rng(3).standard_normal((1, 2, 6, 6))
    a[0, 0, 2, 3], a[0, 1, 0, 0], a[0, 1, 4, 4] = np.inf, np.nan, -np.inf
    ye = ember.nn.functional.avg_pool2d(ember.tensor(a), 3, 2, 1)
    yt = torch.nn.functional.avg_pool2d(torch.tensor(a), 3, 2, 1)
    np.testing.assert_allclose(ye.numpy(), yt.numpy(), rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k,s,p,d", [(3, 2, 1, 1), (3, 1, 1, 1), (2, 2, 0, 1), (5, 1, 2, 2)])
def test_max_pool_backward_overlapping(dtype, k, s, p, d):
    xe, xt = _pair((2, 3, 9, 10), dtype, seed=4)
    ye = ember.nn.functional.max_pool2d(xe, k, s, p, d)
    yt = torch.nn.functional.max_pool2d(xt, k, s, p, d)
    ge = np.sin(np.arange(ye.numel())).reshape(tuple(ye.shape)).astype(dtype)
    (de,) = ember.autograd.grad(ye, xe, ember.tensor(ge))
    (dt,) = torch.autograd.grad(yt, xt, torch.tensor(ge))
    _close(de, dt, 1e-6 if dtype == np.float32 else 1e-12)


def test_max_pool_backward_ties_accumulate():
    # a constant input: every window picks its first element, many windows share it
    xe = ember.ones(1, 1, 6, 6, requires_grad=True)
    xt = torch.ones(1, 1, 6, 6, requires_grad=True)
    ember.nn.functional.max_pool2d(xe, 3, 1, 1).sum().backward()
    torch.nn.functional.max_pool2d(xt, 3, 1, 1).sum().backward()
    assert np.array_equal(xe.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize("num,dim,shape,kw", [
    (256, 16, (16, 64), {}),                          # a few repeats per row: the per-repeat loop
    (5, 8, (40, 30), {}),                             # many repeats: reduceat
    (50, 4, (7,), {}),                                # no repeats at all
    (20, 6, (12, 10), {"padding_idx": 3}),
    (20, 6, (12, 10), {"scale_grad_by_freq": True}),
    (9, 5, (0,), {}),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_backward(num, dim, shape, kw, dtype):
    rng = np.random.default_rng(5)
    ids = rng.integers(0, num, shape)
    we, wt = _pair((num, dim), dtype, seed=6)
    ye = ember.nn.functional.embedding(ember.tensor(ids), we, **kw)
    yt = torch.nn.functional.embedding(torch.tensor(ids), wt, **kw)
    _close(ye, yt)
    g = rng.standard_normal(tuple(ye.shape)).astype(dtype)
    (de,) = ember.autograd.grad(ye, we, ember.tensor(g))
    (dt,) = torch.autograd.grad(yt, wt, torch.tensor(g))
    _close(de, dt, 1e-5 if dtype == np.float32 else 1e-12)
