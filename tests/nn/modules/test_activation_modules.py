"""Activation modules against torch: values, input gradients, parameters (PReLU), reprs, in-place forms."""
import numpy as np
import pytest

import ember
from tests.nn.modules._harness import check, same_error, torch

rng = np.random.default_rng(2)
X = rng.standard_normal((3, 4, 6)) * 3
X4 = rng.standard_normal((2, 3, 4, 5))

CASES = [
    ("Threshold(0.1, 20)", lambda lib: lib.nn.Threshold(0.1, 20.0)),
    ("ReLU()", lambda lib: lib.nn.ReLU()),
    ("RReLU eval", lambda lib: lib.nn.RReLU(0.1, 0.3)),
    ("Hardtanh(-2, 2)", lambda lib: lib.nn.Hardtanh(-2.0, 2.0)),
    ("ReLU6()", lambda lib: lib.nn.ReLU6()),
    ("Sigmoid()", lambda lib: lib.nn.Sigmoid()),
    ("Hardsigmoid()", lambda lib: lib.nn.Hardsigmoid()),
    ("Tanh()", lambda lib: lib.nn.Tanh()),
    ("SiLU()", lambda lib: lib.nn.SiLU()),
    ("Mish()", lambda lib: lib.nn.Mish()),
    ("Hardswish()", lambda lib: lib.nn.Hardswish()),
    ("ELU(1.5)", lambda lib: lib.nn.ELU(1.5)),
    ("CELU(0.7)", lambda lib: lib.nn.CELU(0.7)),
    ("SELU()", lambda lib: lib.nn.SELU()),
    ("GLU(1)", lambda lib: lib.nn.GLU(1)),
    ("GLU()", lambda lib: lib.nn.GLU()),
    ("GELU()", lambda lib: lib.nn.GELU()),
    ("GELU(tanh)", lambda lib: lib.nn.GELU("tanh")),
    ("Hardshrink(1.0)", lambda lib: lib.nn.Hardshrink(1.0)),
    ("LeakyReLU(0.2)", lambda lib: lib.nn.LeakyReLU(0.2)),
    ("LogSigmoid()", lambda lib: lib.nn.LogSigmoid()),
    ("Softplus(2, 5)", lambda lib: lib.nn.Softplus(2, 5)),
    ("Softshrink(0.7)", lambda lib: lib.nn.Softshrink(0.7)),
    ("PReLU()", lambda lib: lib.nn.PReLU()),
    ("PReLU(4, 0.1)", lambda lib: lib.nn.PReLU(4, 0.1)),
    ("Softsign()", lambda lib: lib.nn.Softsign()),
    ("Tanhshrink()", lambda lib: lib.nn.Tanhshrink()),
    ("Softmin(1)", lambda lib: lib.nn.Softmin(1)),
    ("Softmax(-1)", lambda lib: lib.nn.Softmax(-1)),
    ("LogSoftmax(0)", lambda lib: lib.nn.LogSoftmax(0)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,ctor", CASES, ids=[c[0] for c in CASES])
def test_activation(name, ctor, dtype):
    check(ctor, [X], dtype, train=not name.startswith("RReLU"))


def test_softmax2d():
    check(lambda lib: lib.nn.Softmax2d(), [X4])
    check(lambda lib: lib.nn.Softmax2d(), [X])
    same_error(lambda: torch.nn.Softmax2d()(torch.randn(3)), lambda: ember.nn.Softmax2d()(ember.randn(3)))


@pytest.mark.parametrize("ctor", [
    lambda lib: lib.nn.ReLU(inplace=True), lambda lib: lib.nn.ELU(inplace=True), lambda lib: lib.nn.SiLU(True),
    lambda lib: lib.nn.Hardtanh(inplace=True), lambda lib: lib.nn.LeakyReLU(0.3, True),
    lambda lib: lib.nn.Threshold(0.5, -1.0, True), lambda lib: lib.nn.Hardswish(True),
])
def test_inplace(ctor):
    res = []
    for lib in (torch, ember):
        t = lib.tensor(X.copy())
        out = ctor(lib)(t)
        res.append((out.numpy(), t.numpy()))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-12)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-12)


def test_rrelu_training_is_random_within_bounds():
    m = ember.nn.RReLU(0.1, 0.3)
    x = ember.full((1000,), -1.0)
    y = m(x).numpy()
    assert (y <= -0.1 + 1e-6).all() and (y >= -0.3 - 1e-6).all() and y.std() > 0.01


REPRS = ["nn.ReLU(True)", "nn.ReLU6(True)", "nn.ReLU6()", "nn.LeakyReLU()", "nn.LeakyReLU(0.2, True)", "nn.PReLU()",
         "nn.PReLU(3, 0.5)", "nn.ELU()", "nn.ELU(2., True)", "nn.SELU(True)", "nn.CELU()", "nn.GELU()",
         "nn.GELU('tanh')", "nn.SiLU(True)", "nn.Mish(True)", "nn.Sigmoid()", "nn.Tanh()", "nn.Hardtanh()",
         "nn.Hardtanh(-2,2,True)", "nn.Hardsigmoid(True)", "nn.Hardswish(True)", "nn.Softplus()",
         "nn.Softplus(2, 10)", "nn.Softsign()", "nn.Tanhshrink()", "nn.Threshold(0.1, 20)",
         "nn.Threshold(0.1, 20, True)", "nn.GLU()", "nn.Softmax()", "nn.Softmax(1)", "nn.LogSoftmax()",
         "nn.Softmin(1)", "nn.Softmax2d()", "nn.LogSigmoid()", "nn.Hardshrink()", "nn.Softshrink()", "nn.RReLU()",
         "nn.RReLU(0.1,0.3,True)"]


@pytest.mark.parametrize("expr", REPRS)
def test_repr(expr):
    assert repr(eval(expr, {"nn": ember.nn})) == repr(eval(expr, {"nn": torch.nn}))


def test_hardtanh_errors_and_deprecated_args():
    same_error(lambda: torch.nn.Hardtanh(1.0, 1.0), lambda: ember.nn.Hardtanh(1.0, 1.0))
    with pytest.warns(FutureWarning, match="min_value"):
        m = ember.nn.Hardtanh(min_value=-3.0)
    assert m.min_val == -3.0


def test_prelu_parameter():
    m = ember.nn.PReLU(3, 0.1)
    assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == [("weight", (3,))]
    np.testing.assert_allclose(m.weight.detach().numpy(), [0.1] * 3, rtol=1e-7)
    check(lambda lib: lib.nn.PReLU(3), [X4[:, :, :2, :2].transpose(0, 1, 2, 3)])
