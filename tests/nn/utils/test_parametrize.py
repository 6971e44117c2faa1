"""parametrize, parametrizations (weight_norm, spectral_norm, orthogonal), legacy weight/spectral norm,
functional_call."""
import numpy as np
import pytest

import ember
from tests.nn.modules._harness import copy_state

torch = pytest.importorskip("torch")


class Symmetric:
    """A parametrization (built per library): X -> triu(X) + triu(X, 1).T."""

    @staticmethod
    def make(lib):
        class Sym(lib.nn.Module):
            def forward(self, X):
                return X.triu() + X.triu(1).transpose(-1, -2)

            def right_inverse(self, A):
                return A.triu()
        return Sym()


def _pair(seed=0):
    torch.manual_seed(seed)
    t = torch.nn.Linear(4, 4).double()
    e = ember.nn.Linear(4, 4).double()
    copy_state(t, e)
    return t, e


def test_register_and_remove_parametrization():
    t, e = _pair()
    P = ember.nn.utils.parametrize
    TP = torch.nn.utils.parametrize
    TP.register_parametrization(t, "weight", Symmetric.make(torch))
    P.register_parametrization(e, "weight", Symmetric.make(ember))
    assert type(e).__name__ == type(t).__name__ == "ParametrizedLinear"
    assert P.is_parametrized(e) and P.is_parametrized(e, "weight") and not P.is_parametrized(e, "bias")
    assert P.type_before_parametrizations(e) is ember.nn.Linear
    assert list(e.state_dict()) == list(t.state_dict())
    np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy())
    w = e.weight.detach().numpy()
    np.testing.assert_allclose(w, w.T)
    # gradients flow to the original
    xi = np.random.default_rng(0).standard_normal((3, 4))
    t(torch.tensor(xi)).pow(2).sum().backward()
    e(ember.tensor(xi)).pow(2).sum().backward()
    np.testing.assert_allclose(e.parametrizations.weight.original.grad.numpy(),
                               t.parametrizations.weight.original.grad.numpy(), rtol=1e-10)
    # assignment goes through right_inverse
    A = np.arange(16.0).reshape(4, 4)
    t.weight = torch.tensor(A + A.T)
    e.weight = ember.tensor(A + A.T)
    np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy())
    assert repr(e) == repr(t)
    P.remove_parametrizations(e, "weight")
    TP.remove_parametrizations(t, "weight")
    assert type(e) is ember.nn.Linear and isinstance(e.weight, ember.nn.Parameter)
    np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy())
    assert not hasattr(e, "parametrizations")


def test_cached_and_chained():
    _, e = _pair()
    P = ember.nn.utils.parametrize
    calls = []

    class Count(ember.nn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 2

    P.register_parametrization(e, "weight", Count())
    P.register_parametrization(e, "weight", Symmetric.make(ember))
    assert len(e.parametrizations.weight) == 2
    calls.clear()
    with P.cached():
        a = e.weight
        b = e.weight
    assert a is b and len(calls) == 1
    P.remove_parametrizations(e, "weight", leave_parametrized=False)
    assert type(e) is ember.nn.Linear


def test_parametrization_errors():
    _, e = _pair()
    P = ember.nn.utils.parametrize

    class Shape(ember.nn.Module):
        def forward(self, X):
            return X[:2]

    with pytest.raises(ValueError, match="may not change the shape"):
        P.register_parametrization(e, "weight", Shape())
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element"):
        P.register_parametrization(e, "nothing", Symmetric.make(ember))
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        P.remove_parametrizations(e, "weight")
    P.register_parametrization(e, "weight", Shape(), unsafe=True)
    assert e.weight.shape == (2, 4)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_parametrization(dim):
    t, e = _pair()
    torch.nn.utils.parametrizations.weight_norm(t, dim=dim)
    ember.nn.utils.parametrizations.weight_norm(e, dim=dim)
    assert [(k, tuple(v.shape)) for k, v in e.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    for k, v in t.state_dict().items():
        np.testing.assert_allclose(e.state_dict()[k].numpy(), v.numpy(), rtol=1e-12)
    xi = np.random.default_rng(1).standard_normal((3, 4))
    t(torch.tensor(xi)).sin().sum().backward()
    e(ember.tensor(xi)).sin().sum().backward()
    for (n, tp), (n2, ep) in zip(t.named_parameters(), e.named_parameters()):
        assert n == n2
        np.testing.assert_allclose(ep.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_weight_norm_loads_legacy_checkpoint():
    t, e = _pair()
    with pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(t)
    ember.nn.utils.parametrizations.weight_norm(e)
    sd = {k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()}
    assert "weight_g" in sd
    e.load_state_dict(sd)
    np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-12)


def test_legacy_weight_norm():
    t, e = _pair()
    with pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(t, dim=1)
    with pytest.warns(FutureWarning, match="weight_norm` is deprecated"):
        ember.nn.utils.weight_norm(e, dim=1)
    assert list(e.state_dict()) == list(t.state_dict()) == ["bias", "weight_g", "weight_v"]
    xi = np.random.default_rng(2).standard_normal((3, 4))
    yt, ye = t(torch.tensor(xi)), e(ember.tensor(xi))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    yt.sum().backward()
    ye.sum().backward()
    np.testing.assert_allclose(e.weight_g.grad.numpy(), t.weight_g.grad.numpy(), rtol=1e-10)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
        ember.nn.utils.weight_norm(e, dim=1)
    ember.nn.utils.remove_weight_norm(e)
    assert list(e.state_dict()) == ["bias", "weight"]
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found in"):
        ember.nn.utils.remove_weight_norm(e)


def test_spectral_norm_parametrization():
    t, e = _pair()
    torch.nn.utils.parametrizations.spectral_norm(t)
    ember.nn.utils.parametrizations.spectral_norm(e)
    assert [(k, tuple(v.shape)) for k, v in e.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    copy_state(t, e)  # same u, v
    xi = np.random.default_rng(3).standard_normal((3, 4))
    for train in (True, False):
        t.train(train)
        e.train(train)
        yt, ye = t(torch.tensor(xi)), e(ember.tensor(xi))
        np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-9)
    yt.sum().backward()
    ye.sum().backward()
    np.testing.assert_allclose(e.parametrizations.weight.original.grad.numpy(),
                               t.parametrizations.weight.original.grad.numpy(), rtol=1e-9)
    sv = np.linalg.svd(e.weight.detach().numpy(), compute_uv=False)
    assert abs(sv[0] - 1) < 0.05


def test_legacy_spectral_norm():
    t, e = _pair()
    torch.nn.utils.spectral_norm(t)
    ember.nn.utils.spectral_norm(e)
    assert list(e.state_dict()) == list(t.state_dict())
    copy_state(t, e)
    xi = np.random.default_rng(4).standard_normal((3, 4))
    for train in (True, False):
        t.train(train)
        e.train(train)
        yt, ye = t(torch.tensor(xi)), e(ember.tensor(xi))
        np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-9)
    sd = e.state_dict()
    assert sd._metadata[""]["spectral_norm"] == {"weight.version": 1}
    ember.nn.utils.remove_spectral_norm(e)
    torch.nn.utils.remove_spectral_norm(t)
    assert list(e.state_dict()) == list(t.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-9)


@pytest.mark.parametrize("shape,omap", [((4, 4), None), ((4, 4), "cayley"), ((5, 3), None), ((3, 5), "matrix_exp"),
                                        ((5, 3), "householder")])
def test_orthogonal(shape, omap):
    m = ember.nn.Linear(shape[1], shape[0]).double()
    ember.nn.utils.parametrizations.orthogonal(m, orthogonal_map=omap)
    w = m.weight.detach().numpy()
    small = min(shape)
    g = w.T @ w if shape[0] >= shape[1] else w @ w.T
    np.testing.assert_allclose(g, np.eye(small), atol=1e-10)
    xi = ember.randn(2, shape[1], dtype=ember.float64)
    m(xi).sum().backward()
    assert m.parametrizations.weight.original.grad is not None
    # assigning an orthogonal matrix keeps it (up to the trivialization)
    q = np.linalg.qr(np.random.default_rng(5).standard_normal((max(shape), small)))[0]
    q = q if shape[0] >= shape[1] else q.T
    m.weight = ember.tensor(q)
    np.testing.assert_allclose(m.weight.detach().numpy(), q, atol=1e-10)


def test_orthogonal_without_trivialization_householder():
    m = ember.nn.Linear(3, 5).double()
    ember.nn.utils.parametrizations.orthogonal(m, orthogonal_map="householder", use_trivialization=False)
    w = m.weight.detach().numpy()
    np.testing.assert_allclose(w.T @ w, np.eye(3), atol=1e-10)
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices"):
        ember.nn.utils.parametrizations.orthogonal(ember.nn.Linear(3, 4), "bias")


def test_functional_call():
    from ember.nn.utils.stateless import _functional_call
    m = ember.nn.Linear(3, 2)
    w = ember.ones(2, 3, requires_grad=True)
    b = ember.zeros(2)
    xi = ember.randn(4, 3)
    y = _functional_call(m, {"weight": w, "bias": b}, (xi,))
    np.testing.assert_allclose(y.detach().numpy(), np.repeat(xi.numpy().sum(1, keepdims=True), 2, 1), rtol=1e-6)
    assert isinstance(m.weight, ember.nn.Parameter) and m.weight is not w
    y.sum().backward()
    assert w.grad is not None and m.weight.grad is None
    with pytest.raises(RuntimeError, match="Missing key"):
        _functional_call(m, {"weight": w}, xi, strict=True)
    with pytest.warns(FutureWarning):
        ember.nn.utils.stateless.functional_call(m, {"weight": w}, xi)


def test_functional_call_tied_weights():
    from ember.nn.utils.stateless import _functional_call

    class Tied(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = ember.nn.Linear(2, 2, bias=False)
            self.b = ember.nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    m = Tied()
    eye = ember.eye(2)
    y = _functional_call(m, {"a.weight": eye}, (ember.ones(1, 2),))
    np.testing.assert_allclose(y.numpy(), [[1.0, 1.0]])
    y2 = _functional_call(m, {"a.weight": eye}, (ember.ones(1, 2),), tie_weights=False)
    expect = np.ones((1, 2)) @ m.b.weight.detach().numpy().T  # only a.weight was replaced
    np.testing.assert_allclose(y2.detach().numpy(), expect, rtol=1e-6)
