"""Gradient layout: a leaf's .grad takes the leaf's strides without needless copies, and is never shared
with another leaf's gradient (accumulating into one must not change the other)."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _pair(shape, seed):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


@pytest.mark.parametrize("shapes", [((64, 30), (20, 30)), ((5, 3), (7, 3)), ((1, 3), (4, 3)), ((6, 1), (4, 1))])
def test_linear_weight_grad_layout_and_values(shapes):
    (xe, xt), (we, wt) = _pair(shapes[0], 0), _pair(shapes[1], 1)
    for x, w in ((xe, we), (xt, wt)):
        (x @ w.t()).square().sum().backward()
    assert we.grad.stride() == wt.grad.stride() == we.stride()
    assert xe.grad.stride() == xt.grad.stride()
    np.testing.assert_allclose(we.grad.numpy(), wt.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_transposed_left_operand_grad_layout():
    (we, wt), (xe, xt) = _pair((8, 5), 2), _pair((8, 3), 3)
    for w, x in ((we, xe), (wt, xt)):
        (w.t() @ x).sum().backward()
    assert we.grad.stride() == wt.grad.stride() == (5, 1)
    np.testing.assert_allclose(we.grad.numpy(), wt.grad.numpy(), rtol=1e-5)


def test_stolen_view_gradients_do_not_alias():
    a = ember.randn(3, 4, requires_grad=True)
    b = ember.randn(4, 3, requires_grad=True)
    x = ember.randn(2, 3)
    for _ in range(2):  # the second pass accumulates in place into each .grad
        ((x @ a) @ b).sum().backward()
        y = (a.t() * 2).t()
        (y + a).sum().backward()
    assert a.grad.data_ptr() != b.grad.data_ptr()
    with ember.no_grad():
        ga = 2 * (x.sum(0)[:, None] * b.sum(1)[None, :]) + 2 * 3 * ember.ones(3, 4)
        gb = 2 * (x @ a).sum(0)[:, None].expand(4, 3)
    np.testing.assert_allclose(a.grad.numpy(), ga.numpy(), rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), gb.numpy(), rtol=1e-5)


def test_bias_gradient_is_its_own_array():
    b = ember.zeros(4, requires_grad=True)
    h = ember.ones(3, 4, requires_grad=True)
    (h + b).sum().backward()
    assert b.grad.stride() == (1,) and b.grad._data.base is None
    np.testing.assert_array_equal(b.grad.numpy(), np.full(4, 3.0, np.float32))
    np.testing.assert_array_equal(h.grad.numpy(), np.ones((3, 4), np.float32))


def test_shared_gradient_of_an_add_is_not_shared_memory():
    a = ember.randn(3, requires_grad=True)
    b = ember.randn(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.add_(1.0)
    np.testing.assert_array_equal(b.grad.numpy(), np.ones(3, np.float32))
    np.testing.assert_array_equal(a.grad.numpy(), np.full(3, 2.0, np.float32))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_array_path_matches_graph_path(dtype):
    """The engine runs operator-only vjps on raw arrays unless create_graph asks for a graph: same values."""
    dt = getattr(ember, dtype)
    x = ember.randn(4, 5, dtype=dt, requires_grad=True)
    w = ember.randn(3, 5, dtype=dt, requires_grad=True)
    b = ember.randn(3, dtype=dt, requires_grad=True)

    def f():
        h = (x @ w.t() + b).relu() * 2.0 - (x.sum(1, keepdim=True) / 3).exp().tanh()
        return ((h ** 2).mean() + h.sigmoid().view(-1).sum()).log()

    fast = ember.autograd.grad(f(), (x, w, b))
    graph = ember.autograd.grad(f(), (x, w, b), create_graph=True)
    for p, q in zip(fast, graph):
        assert p.dtype == q.dtype == dt and p.shape == q.shape
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-6)
