"""clip_grad_norm_, clip_grad_value_, get_total_norm, parameters_to_vector/vector_to_parameters, fusion."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

rng = np.random.default_rng(3)


def _params(lib, arrays, dtype="float32"):
    ps = []
    for a in arrays:
        p = lib.nn.Parameter(lib.tensor(a, dtype=getattr(lib, dtype)))
        p.grad = lib.tensor(a * 3 - 1, dtype=getattr(lib, dtype))
        ps.append(p)
    return ps


ARRS = [rng.standard_normal((3, 4)), rng.standard_normal(5), rng.standard_normal((2, 2, 2))]


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clip_grad_norm(norm_type, max_norm, dtype):
    res = []
    for lib in (torch, ember):
        ps = _params(lib, ARRS, dtype)
        total = lib.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type, foreach=None)
        res.append((total, [p.grad for p in ps]))
    (tt, tg), (et, eg) = res
    assert isinstance(et, ember.Tensor) and et.dim() == 0 and str(et.dtype) == str(tt.dtype)
    np.testing.assert_allclose(et.item(), tt.item(), rtol=1e-5)
    for a, b in zip(eg, tg):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_single_tensor_foreach_and_none_grads():
    for foreach in (True, False):
        res = []
        for lib in (torch, ember):
            ps = _params(lib, ARRS)
            ps.append(lib.nn.Parameter(lib.ones(3)))  # no grad
            total = lib.nn.utils.clip_grad_norm_(ps[0], 1.0, foreach=foreach)
            total2 = lib.nn.utils.clip_grad_norm_(iter(ps), 2.0, foreach=foreach)
            res.append((total.item(), total2.item(), ps[0].grad.numpy(), ps[3].grad))
        np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-6)
        np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-6)
        np.testing.assert_allclose(res[0][2], res[1][2], rtol=1e-6)
        assert res[1][3] is None


def test_clip_grad_norm_empty_and_nonfinite():
    with pytest.warns(UserWarning, match="empty generator"):
        t = ember.nn.utils.clip_grad_norm_((p for p in []), 1.0)
    assert t.item() == 0.0 and t.dtype is ember.float32
    ps = _params(ember, ARRS)
    ps[0].grad[0, 0] = float("inf")
    with pytest.raises(RuntimeError, match="non-finite"):
        ember.nn.utils.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    with pytest.warns(FutureWarning):
        ember.nn.utils.clip_grad_norm(_params(ember, ARRS), 1.0)


def test_get_total_norm_and_clip_grads_with_norm():
    for lib in (torch, ember):
        ps = _params(lib, ARRS)
        grads = [p.grad for p in ps]
        n = lib.nn.utils.get_total_norm(grads, 2.0)
        lib.nn.utils.clip_grads_with_norm_(ps, 1.0, n)
        if lib is torch:
            expect = (n.item(), [g.numpy().copy() for g in grads])
    assert n.item() == pytest.approx(expect[0], rel=1e-6)
    for a, b in zip(grads, expect[1]):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-6)


@pytest.mark.parametrize("clip", [0.5, 2])
def test_clip_grad_value(clip):
    res = []
    for lib in (torch, ember):
        ps = _params(lib, ARRS)
        assert lib.nn.utils.clip_grad_value_(ps, clip) is None
        res.append([p.grad.numpy() for p in ps])
    for a, b in zip(*res):
        np.testing.assert_array_equal(a, b)


def test_parameters_to_vector_and_back():
    m = ember.nn.Linear(3, 2)
    t = torch.nn.Linear(3, 2)
    with torch.no_grad():
        t.weight.copy_(torch.tensor(m.weight.detach().numpy()))
        t.bias.copy_(torch.tensor(m.bias.detach().numpy()))
    ve = ember.nn.utils.parameters_to_vector(m.parameters())
    vt = torch.nn.utils.parameters_to_vector(t.parameters())
    np.testing.assert_array_equal(ve.detach().numpy(), vt.detach().numpy())
    assert ve.requires_grad and ve.shape == (8,)
    ve.sum().backward()
    assert m.weight.grad.shape == (2, 3)
    new = ember.arange(8.0)
    ember.nn.utils.vector_to_parameters(new, m.parameters())
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(m.bias.detach().numpy(), [6.0, 7.0])
    assert isinstance(m.weight, ember.nn.Parameter)
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        ember.nn.utils.vector_to_parameters([1.0], m.parameters())


def test_fuse_linear_bn():
    lin = ember.nn.Linear(3, 4).eval()
    bn = ember.nn.BatchNorm1d(4).eval()
    bn.running_mean.copy_(ember.randn(4))
    bn.running_var.copy_(ember.rand(4) + 0.5)
    fused = ember.nn.utils.fuse_linear_bn_eval(lin, bn)
    x = ember.randn(5, 3)
    try:
        ref = bn(lin(x))
    except AttributeError:
        pytest.skip("F.batch_norm not available yet")
    np.testing.assert_allclose(fused(x).detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        ember.nn.utils.fuse_linear_bn_eval(lin.train(), bn)


def test_skip_init():
    m = ember.nn.utils.skip_init(ember.nn.Linear, 3, 4)
    assert m.weight.device.type == "cpu" and m.weight.shape == (4, 3)
    with pytest.raises(RuntimeError, match="Expected a Module"):
        ember.nn.utils.skip_init(int)
