"""Losses that are one op in torch (mse_loss, smooth_l1_loss, huber_loss, soft_margin_loss,
binary_cross_entropy[_with_logits]): one graph node named like torch's, whatever the reduction, with torch's
values, first and second derivatives."""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

R = np.random.default_rng(7)
X = (R.random((4, 5)) * 0.8 + 0.1)
Y = (R.random((4, 5)) * 0.8 + 0.1)
SGN = np.sign(R.standard_normal((4, 5)))

CASES = {
    "mse": (lambda F, a, b, r: F.mse_loss(a, b, reduction=r), True),
    "smooth_l1": (lambda F, a, b, r: F.smooth_l1_loss(a, b * 3, reduction=r, beta=0.5), True),
    "huber": (lambda F, a, b, r: F.huber_loss(a * 4, b, reduction=r, delta=0.7), True),
    "soft_margin": (lambda F, a, b, r: F.soft_margin_loss(a * 3 - 1, b, reduction=r), False),
    "bce": (lambda F, a, b, r: F.binary_cross_entropy(a, b, reduction=r), True),
    "bce_weight": (lambda F, a, b, r: F.binary_cross_entropy(a, b, weight=b.detach() * 2, reduction=r), True),
    "bce_logits": (lambda F, a, b, r: F.binary_cross_entropy_with_logits(a * 6 - 3, b, reduction=r), True),
    "bce_logits_pw": (lambda F, a, b, r: F.binary_cross_entropy_with_logits(
        a * 6 - 3, b, pos_weight=b.detach()[0] + 0.5, reduction=r), True),
}


def _run(lib, case, reduction, dtype, target_grad):
    fn, _ = CASES[case]
    a = lib.tensor(X, dtype=getattr(lib, dtype), requires_grad=True)
    tgt = SGN if case == "soft_margin" else Y
    b = lib.tensor(tgt, dtype=getattr(lib, dtype), requires_grad=target_grad)
    out = fn(lib.nn.functional, a, b, reduction)
    g = lib.ones_like(out) if reduction == "none" else None
    grads = lib.autograd.grad(out, (a, b) if target_grad else (a,), g, create_graph=True)
    # a second derivative: d/da of sum(da * a^2) through the first gradient
    gg = lib.autograd.grad((grads[0] * a * a).sum(), a)[0]
    return type(out.grad_fn).__name__, out.detach().numpy(), [t.detach().numpy() for t in grads], gg.numpy()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("case", list(CASES))
def test_loss_op_matches_torch(case, reduction, dtype):
    target_grad = CASES[case][1]
    e = _run(ember, case, reduction, dtype, target_grad)
    t = _run(torch, case, reduction, dtype, target_grad)
    assert e[0] == t[0]
    tol = 1e-5 if dtype == "float32" else 1e-11
    np.testing.assert_allclose(e[1], t[1], rtol=tol, atol=tol)
    for p, q in zip(e[2], t[2]):
        np.testing.assert_allclose(p, q, rtol=tol, atol=tol)
    np.testing.assert_allclose(e[3], t[3], rtol=10 * tol, atol=10 * tol)


def test_mse_broadcast_target_warns_and_sums_back():
    for lib in (ember, torch):
        a = lib.tensor(X, requires_grad=True)
        b = lib.tensor(Y[0], requires_grad=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.nn.functional.mse_loss(a, b).backward()
        assert any("target size" in str(m.message) for m in w)
        if lib is ember:
            ge = (a.grad.numpy(), b.grad.numpy())
        else:
            gt = (a.grad.numpy(), b.grad.numpy())
    np.testing.assert_allclose(ge[0], gt[0], rtol=1e-12)
    np.testing.assert_allclose(ge[1], gt[1], rtol=1e-12)


def test_mse_empty_and_0d():
    e = ember.nn.functional.mse_loss(ember.zeros(0), ember.zeros(0))
    assert e.shape == () and np.isnan(e.item())
    a = ember.tensor(2.0, requires_grad=True)
    loss = ember.nn.functional.mse_loss(a, ember.tensor(0.5))
    loss.backward()
    assert loss.item() == 2.25 and a.grad.item() == 3.0
