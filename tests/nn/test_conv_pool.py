"""Convolution, unfold/fold and pooling in ember.nn.functional against torch: values, dtypes, shapes, strides,
errors and float64 gradients (first and second order)."""
import numpy as np
import pytest

import ember

from .test_functional import R, check, check_grad

torch = pytest.importorskip("torch")

SETUP = """
L = torch.tensor
r = np.random.RandomState(0)
x1 = torch.tensor(r.randn(2, 4, 9)).float()
x2 = torch.tensor(r.randn(2, 4, 7, 6)).float()
x3 = torch.tensor(r.randn(1, 2, 5, 4, 6)).float()
w1 = torch.tensor(r.randn(6, 2, 3)).float()
w2 = torch.tensor(r.randn(6, 2, 3, 2)).float()
w3 = torch.tensor(r.randn(4, 2, 2, 3, 2)).float()
b6 = torch.tensor(r.randn(6)).float()
wt2 = torch.tensor(r.randn(4, 3, 3, 2)).float()
xi = torch.arange(2 * 4 * 36).reshape(2, 4, 6, 6) % 7 - 3
"""


def C(expr, **kw):
    check(expr, SETUP, atol=1e-5, **kw)


CONV = [
    "F.conv2d(x2, w2, groups=2)", "F.conv2d(x2, w2, b6, stride=2, padding=1, groups=2)",
    "F.conv2d(x2, w2, b6, stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2)",
    "F.conv2d(x2, w2, padding='same', groups=2)", "F.conv2d(x2, w2, padding='same', dilation=2, groups=2)",
    "F.conv2d(x2, w2, padding='valid', groups=2)", "F.conv2d(x2[0], w2, groups=2)", "F.conv2d(x2[:0], w2, groups=2)",
    "F.conv2d(x2, torch.ones(3, 4, 1, 1))", "F.conv2d(x2, torch.ones(4, 1, 3, 3), groups=4)",
    "F.conv2d(x2.transpose(2, 3), w2, groups=2)", "F.conv2d(x2.double(), w2.double(), groups=2)",
    "F.conv2d(xi, torch.ones(2, 4, 2, 2).long())", "F.conv2d(x2, w2, stride=[2], groups=2)",
    "F.conv2d(x2 > 0, w2 > 0)", "F.conv2d(x2, w2.double(), groups=2)", "F.conv2d(x2.double(), w2, groups=2)",
    "F.conv2d(x2, w2, b6.double(), groups=2)", "F.conv2d(x2, w2, b6[:5], groups=2)", "F.conv2d(x2[:, :, :2, :1], w2, groups=2)",
    "F.conv2d(x2, w2)", "F.conv2d(x2[:, :3], w2, groups=3)", "F.conv2d(x2, w2, groups=4)", "F.conv2d(x2[None], w2)",
    "F.conv2d(x2[0, 0], w2)", "F.conv2d(x2, w2, padding='same', stride=2, groups=2)", "F.conv2d(x2, w2, padding='foo')",
    "F.conv2d(x2, w2, padding=-1, groups=2)", "F.conv2d(x2, w2, stride=0, groups=2)", "F.conv2d(x2, w2, dilation=0, groups=2)",
    "F.conv2d(x2, w2, groups=0)", "F.conv2d(x2, w2, padding=(1, 1, 1), groups=2)", "F.conv2d(x2, w2, stride=(1, 1, 1))",
    "F.conv2d(x2, w3)", "F.conv2d(x2, w1)",
    "F.conv1d(x1, w1, b6, stride=2, padding=2, groups=2)", "F.conv1d(x1, w1, padding='same', dilation=3, groups=2)",
    "F.conv1d(x1[1], w1, groups=2)", "F.conv1d(x2, w1)",
    "F.conv3d(x3, w3, padding=(1, 0, 1), stride=(1, 2, 1))", "F.conv3d(x3, w3, dilation=(1, 1, 2), padding='same')",
    "F.conv3d(x3[0], w3, padding=1)", "F.conv3d(x2, w3)",
    "F.conv_transpose2d(x2, wt2, b6, stride=2, padding=1, output_padding=1, groups=2, dilation=(1, 2))",
    "F.conv_transpose2d(x2, wt2, groups=2)", "F.conv_transpose2d(x2[0], wt2, groups=2, stride=(1, 3))",
    "F.conv_transpose2d(x2, torch.ones(4, 2, 3, 3), stride=3, output_padding=(2, 0))",
    "F.conv_transpose2d(x2, wt2, output_padding=1, groups=2)", "F.conv_transpose2d(x2, wt2, padding='same', groups=2)",
    "F.conv_transpose2d(x2, wt2, padding=(3, 5), groups=2, stride=(1, 2))", "F.conv_transpose2d(x2, wt2[:3], groups=2)",
    "F.conv_transpose2d(x2, wt2)", "F.conv_transpose2d(x2[:1, :, :3, :3], wt2.double(), groups=2)",
    "F.conv_transpose2d(x2[:1], wt2[:, :2].reshape(4, 3, 3, 2).double())", "F.conv1d(x1[:1], w1[:, :1].expand(6, 4, 3).double())",
    "F.conv_transpose2d(x2, wt2, b6[:3], groups=2)",
    "F.conv_transpose1d(x1, w1[:4], stride=1, output_padding=1, dilation=2)", "F.conv_transpose1d(x1, w1[:4], output_padding=1)",
    "F.conv_transpose3d(x3, torch.ones(2, 3, 2, 2, 3), stride=2, padding=1, output_padding=(1, 0, 1))",
    "F.conv_transpose3d(x3, torch.ones(2, 3, 2, 2, 3), output_padding=1)",
    "torch.conv2d(x2, w2, None, 1, 0, 1, 2)", "torch.conv_transpose1d(x1, w1[:4])",
]


@pytest.mark.parametrize("expr", CONV)
def test_conv(expr):
    C(expr)


def test_conv_output_is_contiguous():
    F = ember.nn.functional
    x = ember.randn(2, 4, 7, 6)
    for y in (F.conv2d(x, ember.randn(6, 2, 3, 2), groups=2, padding=1), F.conv2d(x, ember.randn(3, 4, 1, 1)),
              F.conv_transpose2d(x, ember.randn(4, 3, 3, 3), stride=2, padding=1)):
        assert y.is_contiguous()
        assert y.stride() == torch.empty(tuple(y.shape)).stride()


CONV_GRADS = [
    ("F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2)", (2, 4, 7, 6), (6, 2, 3, 2)),
    ("F.conv2d(x, w, b, padding='same')", (1, 2, 5, 4), (3, 2, 2, 3)),
    ("F.conv1d(x, w, b, stride=3, padding=1)", (2, 3, 10), (2, 3, 4)),
    ("F.conv3d(x, w, b, stride=(1, 2, 1), padding=(1, 0, 1))", (1, 2, 4, 5, 3), (3, 2, 2, 3, 2)),
    ("F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2, dilation=(1, 2))",
     (2, 4, 3, 4), (4, 3, 3, 2)),
    ("F.conv_transpose1d(x, w, b, stride=1, output_padding=1, dilation=2)", (2, 3, 5), (3, 2, 3)),
    ("F.conv_transpose3d(x, w, b, stride=2, padding=1)", (1, 2, 3, 2, 3), (2, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("expr,xs,ws", CONV_GRADS, ids=[c[0] for c in CONV_GRADS])
def test_conv_grads(expr, xs, ws):
    is_t = "transpose" in expr
    nout = ws[1] * (2 if "groups=2" in expr else 1) if is_t else ws[0]
    check_grad(expr, {"x": R(*xs), "w": R(*ws, seed=1), "b": R(nout, seed=2)}, atol=1e-6, double=True)


def test_conv_unbatched_and_empty_grads():
    check_grad("F.conv2d(x, w, padding=1)", {"x": R(2, 4, 3), "w": R(3, 2, 2, 2, seed=1)})
    check_grad("F.conv2d(x, w)", {"x": R(0, 2, 4, 3), "w": R(3, 2, 2, 2, seed=1)})


def test_conv_big_batch_matches():
    # a size where im2col, grouped batched matmul and col2im all run on real work
    check_grad("F.conv2d(x, w, b, padding=1)", {"x": R(4, 8, 12, 12), "w": R(16, 8, 3, 3, seed=1),
                                                "b": R(16, seed=2)}, atol=1e-6)


UNFOLD = [
    "F.unfold(x2, 2)", "F.unfold(x2, (2, 3), dilation=(1, 2), padding=1, stride=2)", "F.unfold(x2[0], 3)",
    "F.unfold(x2.double(), (3, 1))", "F.unfold(x2[:0], 2)", "F.unfold(x3, 2)", "F.unfold(x2, 8)", "F.unfold(x2, (2, 2, 2))",
    "F.unfold(x2, 2, padding=-1)", "F.unfold(x2, 2, stride=0)", "F.unfold(x2, 2, dilation=0)", "F.unfold(x2, 0)",
    "F.unfold(xi, 2)",
    "F.fold(F.unfold(x2, 2), (7, 6), 2)", "F.fold(torch.arange(36.).view(1, 4, 9), (4, 4), 2)",
    "F.fold(torch.ones(2, 12, 12), (5, 4), (2, 3), dilation=(2, 1), padding=1, stride=(1, 2))",
    "F.fold(torch.ones(8, 16), (5, 5), 2)", "F.fold(torch.ones(1, 7, 16), (5, 5), 2)", "F.fold(torch.ones(1, 8, 15), (5, 5), 2)",
    "F.fold(torch.ones(1, 1, 8, 16), (5, 5), 2)", "F.fold(torch.ones(1, 8, 16).long(), (5, 5), 2)",
    "F.fold(torch.ones(1, 8, 16), (5, 5, 5), 2)",
]


@pytest.mark.parametrize("expr", UNFOLD)
def test_unfold_fold(expr):
    C(expr)


def test_unfold_fold_grads():
    check_grad("F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=2)", {"x": R(2, 3, 6, 7)}, double=True)
    check_grad("F.fold(x, (5, 4), (2, 3), dilation=(2, 1), padding=1, stride=(1, 2))", {"x": R(2, 12, 10)},
               double=True)


# ---------------------------------------------------------------- pooling
PSETUP = SETUP + """
xn = torch.tensor([[[[float('nan'), 1., 2.], [float('nan'), 2., -1.], [0., 5., float('nan')]]]])
xinf = torch.full((1, 1, 3, 4), -float('inf'))
"""


def P(expr, **kw):
    check(expr, PSETUP, atol=1e-5, **kw)


POOL = [
    "F.max_pool2d(x2, 2)", "F.max_pool2d(x2, 3, 2, 1)", "F.max_pool2d(x2, 3, 2, 1, ceil_mode=True, return_indices=True)",
    "F.max_pool2d(x2, (2, 3), (1, 2), (1, 0), dilation=(2, 1), return_indices=True)",
    "F.max_pool2d(x2[0], 2, return_indices=True)", "F.max_pool2d(x2[:0], 2)", "F.max_pool2d(x2.transpose(2, 3), 3, 1)",
    "F.max_pool2d(xi, 2, return_indices=True)", "F.max_pool2d(xi > 0, 2)", "F.max_pool2d(xn, 2, 1, return_indices=True)",
    "F.max_pool2d(xinf, 2, 1, 1, return_indices=True)", "F.max_pool2d(-xi, 3, 2, 1, ceil_mode=True, return_indices=True)",
    "F.max_pool2d(x2, [2])", "F.max_pool2d(x2, 3, padding=2)", "F.max_pool2d(x2, 0)", "F.max_pool2d(x2, 0, 1)",
    "F.max_pool2d(torch.ones(1, 1, 2, 2), 3)", "F.max_pool2d(torch.ones(4, 4), 2)", "F.max_pool2d(x3, 2)",
    "F.max_pool2d(torch.ones(1, 0, 4, 4), 2)", "F.max_pool2d(x2, (2, 2, 2))", "F.max_pool2d(x2, 2, (1, 1, 1))",
    "F.max_pool2d(x2, 2, 1, (1, 1, 1))", "F.max_pool2d(x2, 2, 1, 0, (1, 1, 1))", "F.max_pool2d(x2, 2, 1, -1)",
    "F.max_pool2d(x2, 2, dilation=0)", "F.max_pool2d(x2, 2, stride=0)",
    "F.max_pool1d(x1, 3, 2, 1, return_indices=True)", "F.max_pool1d(x1, 2, ceil_mode=True)",
    "F.max_pool1d(x1[0], 4, 1, 2, dilation=2)", "F.max_pool1d(xi[:, :, 0], 2)", "F.max_pool1d(xi[:, :, 0], 2, return_indices=True)",
    "F.max_pool1d(torch.ones(1, 1, 2), 3)", "F.max_pool1d(torch.ones(4), 2)", "F.max_pool1d(x1, (2, 2))",
    "F.max_pool1d(x1, 2, 0)", "F.max_pool1d(x1, 3, padding=2)", "F.max_pool1d(x1, 2, padding=-1)",
    "F.max_pool1d(x1, 2, dilation=0)", "F.max_pool1d(x1, 0, 1)", "F.max_pool1d(x1, 2, (1, 1))",
    "F.max_pool3d(x3, 2, return_indices=True)", "F.max_pool3d(x3, (2, 3, 2), (1, 2, 1), 1, ceil_mode=True, return_indices=True)",
    "F.max_pool3d(x3[0], 3, 2, 1, dilation=(1, 1, 2))", "F.max_pool3d(torch.ones(1, 1, 2, 2, 2), 3)",
    "F.max_pool3d(x2, 2)", "F.max_pool3d(x3, (2, 2))", "F.max_pool3d(x3, 0, 1)", "F.max_pool3d(x3, 2, dilation=0)",
    "F.max_pool3d(xi[None], 2)",
    "torch.max_pool2d(x2, 3, 2, 1)", "torch.max_pool1d_with_indices(x1, 2)",
    "F.avg_pool2d(x2, 2)", "F.avg_pool2d(x2, 3, 2, 1)", "F.avg_pool2d(x2, 3, 2, 1, ceil_mode=True)",
    "F.avg_pool2d(x2, 3, 2, 1, ceil_mode=True, count_include_pad=False)", "F.avg_pool2d(x2, (3, 2), (2, 3), (1, 1), divisor_override=3)",
    "F.avg_pool2d(x2[0], 2, 1)", "F.avg_pool2d(xi, 3, 2, 1)", "F.avg_pool2d(xi, 2, ceil_mode=True, count_include_pad=False)",
    "F.avg_pool2d(x2, 0, 1)", "F.avg_pool2d(torch.ones(4, 4), 2)", "F.avg_pool2d(torch.ones(1, 1, 2, 2), 3)",
    "F.avg_pool2d(x2, 3, padding=2)", "F.avg_pool2d(x2, 2, divisor_override=0)", "F.avg_pool2d(x2, (2, 2, 2))",
    "F.avg_pool2d(x3, 2)", "F.avg_pool2d(torch.ones(1, 1, 0, 4), 2)", "F.avg_pool2d(xi > 0, 2)",
    "F.avg_pool1d(x1, 3, 2, 1)", "F.avg_pool1d(x1, 3, 2, 1, ceil_mode=True, count_include_pad=False)",
    "F.avg_pool1d(x1[0], 2)", "F.avg_pool1d(xi[:, :, 0], 2)", "F.avg_pool1d(torch.ones(4), 2)", "F.avg_pool1d(torch.ones(1, 1, 2), 3)",
    "F.avg_pool1d(x1, (2, 2))", "F.avg_pool1d(x1, 2, (1, 1))", "F.avg_pool1d(x1, 2, 1, (1, 1))", "F.avg_pool1d(x1, 3, padding=2)",
    "F.avg_pool3d(x3, 2)", "F.avg_pool3d(x3, (2, 3, 2), (1, 2, 1), 1, ceil_mode=True, count_include_pad=False)",
    "F.avg_pool3d(x3[0], 3, 2, 1, divisor_override=5)", "F.avg_pool3d(torch.ones(1, 1, 2, 2, 2), 3)",
    "F.avg_pool3d(x3, (2, 2))", "F.avg_pool3d(x3, 2, (2, 2))", "F.avg_pool3d(x3, 2, 2, (1, 1))", "F.avg_pool3d(x2[0], 2)",
    "torch.avg_pool1d(x1, 3, 2, 1)",
    "F.lp_pool2d(x2, 2, 2)", "F.lp_pool2d(x2.abs(), 3, (2, 3), stride=1, ceil_mode=True)", "F.lp_pool1d(x1, 1, 3, 2)",
    "F.lp_pool3d(x3.abs(), 1.5, 2)",
]


@pytest.mark.parametrize("expr", POOL)
def test_pool(expr):
    P(expr)


ADAPTIVE = [
    "F.adaptive_avg_pool2d(x2, 3)", "F.adaptive_avg_pool2d(x2, (4, 5))", "F.adaptive_avg_pool2d(x2, (None, 2))",
    "F.adaptive_avg_pool2d(x2, (9, 11))", "F.adaptive_avg_pool2d(x2[0], 1)", "F.adaptive_avg_pool2d(x2, (7, 6))",
    "F.adaptive_avg_pool2d(x2, 0)", "F.adaptive_avg_pool2d(torch.ones(1, 0, 4, 4), 2)",
    "F.adaptive_avg_pool2d(torch.ones(1, 2, 0, 4), 2)", "F.adaptive_avg_pool2d(xi, 2)", "F.adaptive_avg_pool2d(x2, (2, 2, 2))",
    "F.adaptive_avg_pool2d(x2, -1)", "F.adaptive_avg_pool2d(torch.ones(4, 4), 2)",
    "F.adaptive_avg_pool1d(x1, 4)", "F.adaptive_avg_pool1d(x1[0], 5)", "F.adaptive_avg_pool1d(x1, (2, 2))",
    "F.adaptive_avg_pool1d(torch.ones(4), 2)", "F.adaptive_avg_pool3d(x3, (2, 3, 4))", "F.adaptive_avg_pool3d(x3[0], 2)",
    "F.adaptive_avg_pool3d(torch.ones(4, 4, 4), 2)",
    "F.adaptive_max_pool2d(x2, 3, return_indices=True)", "F.adaptive_max_pool2d(x2, (4, 5), True)",
    "F.adaptive_max_pool2d(x2[0], (None, 4))", "F.adaptive_max_pool2d(xn, 2, True)", "F.adaptive_max_pool2d(xinf, 2, True)",
    "F.adaptive_max_pool2d(xi, 2)", "F.adaptive_max_pool2d(torch.ones(4, 4), 2)",
    "F.adaptive_max_pool1d(x1, 4, True)", "F.adaptive_max_pool1d(x1, (2, 2))", "F.adaptive_max_pool1d(torch.ones(4), 2)",
    "F.adaptive_max_pool3d(x3, (2, 3, 4), True)", "F.adaptive_max_pool3d(x3[0], 2)",
    "torch.adaptive_avg_pool1d(x1, 4)",
]


@pytest.mark.parametrize("expr", ADAPTIVE)
def test_adaptive(expr):
    P(expr)


FRACTIONAL = [
    "F.fractional_max_pool2d(x2, 2, output_size=(4, 3), return_indices=True)",
    "F.fractional_max_pool2d(x2, (3, 2), output_ratio=(0.5, 0.6))", "F.fractional_max_pool2d(x2[0], 2, 3)",
    "F.fractional_max_pool2d(x2, 2, output_size=1, return_indices=True)", "F.fractional_max_pool2d(xn, 2, 2, True)",
    "F.fractional_max_pool2d(x2, 2, output_size=3, _random_samples=torch.rand(2, 4, 2))",
    "F.fractional_max_pool2d(x2, 2)", "F.fractional_max_pool2d(x2, 2, output_size=(7, 3))",
    "F.fractional_max_pool2d(x2, 2, output_size=(4, 3, 2))", "F.fractional_max_pool2d(x2, 2, output_size=-1)",
    "F.fractional_max_pool2d(x2, 2, output_size=3, _random_samples=torch.rand(2, 4, 3))",
    "F.fractional_max_pool2d(x2, 2, output_size=3, _random_samples=torch.rand(2, 3, 2))",
    "F.fractional_max_pool2d(x2, 2, output_size=3, _random_samples=torch.rand(2, 4, 2).double())",
    "F.fractional_max_pool2d(xi, 2, output_size=3)", "F.fractional_max_pool2d(x2[0, 0], 2, output_size=3)",
    "F.fractional_max_pool3d(x3, (2, 3, 2), output_size=(3, 2, 4), return_indices=True)",
    "F.fractional_max_pool3d(x3[0], 2, output_ratio=(0.5, 0.5, 0.5))", "F.fractional_max_pool3d(x3, 5, output_size=2)",
    "F.fractional_max_pool3d(x3, (2, 2, 2), output_size=(3, 2, 4), return_indices=True)",
]


@pytest.mark.parametrize("expr", FRACTIONAL)
def test_fractional(expr):
    P(expr, seed=0)


UNPOOL = [
    "F.max_unpool2d(*F.max_pool2d(x2, 2, return_indices=True), 2)",
    "F.max_unpool2d(*F.max_pool2d(x2, 3, 2, 1, return_indices=True), 3, 2, 1, output_size=(7, 6))",
    "F.max_unpool2d(*F.max_pool2d(x2, 2, return_indices=True), 2, output_size=(7, 7))",
    "F.max_unpool2d(*F.max_pool2d(x2, 2, return_indices=True), 2, output_size=(2, 4, 7, 7))",
    "F.max_unpool2d(*F.max_pool2d(x2[0], 2, return_indices=True), 2)",
    "F.max_unpool1d(*F.max_pool1d(x1, 2, return_indices=True), 2)",
    "F.max_unpool3d(*F.max_pool3d(x3, 2, return_indices=True), 2)",
    "F.max_unpool2d(torch.ones(1, 1, 2, 2), L([[[[0, 1], [2, 30]]]]), 2)",
    "F.max_unpool2d(torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), 2)",
    "F.max_unpool2d(torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2).long(), 2, output_size=(9, 9))",
    "F.max_unpool2d(torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2).long(), 2, output_size=(4, 4, 4))",
    "F.max_unpool2d(torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 3).long(), 2)",
    "F.max_unpool1d(torch.ones(1, 1, 2), L([[[0, 9]]]), 2)", "F.max_unpool3d(torch.ones(1, 1, 1, 1, 2), L([[[[[0, 90]]]]]), 2)",
    "F.max_unpool2d(torch.ones(4, 4), torch.zeros(4, 4).long(), 2)",
]


@pytest.mark.parametrize("expr", UNPOOL)
def test_unpool(expr):
    P(expr)


POOL_GRADS = [
    ("F.max_pool2d(x, 3, 2, 1, ceil_mode=True)", (2, 3, 7, 6)),
    ("F.max_pool2d(x, (2, 3), 1, (1, 0), dilation=(2, 1))", (2, 3, 6, 7)),
    ("F.max_pool2d(x.round(), 3, 1)", (1, 2, 5, 5)),
    ("F.max_pool1d(x, 3, 2, 1)", (2, 3, 9)),
    ("F.max_pool3d(x, 2, (1, 2, 1), 1)", (1, 2, 4, 5, 3)),
    ("F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)", (2, 3, 7, 6)),
    ("F.avg_pool2d(x, (3, 2), (2, 3), 1, divisor_override=3)", (2, 3, 7, 6)),
    ("F.avg_pool1d(x, 3, 2, 1, ceil_mode=True)", (2, 3, 8)),
    ("F.avg_pool3d(x, 2, 1, 1, count_include_pad=False)", (1, 2, 3, 4, 3)),
    ("F.adaptive_avg_pool2d(x, (4, 5))", (2, 3, 7, 6)),
    ("F.adaptive_avg_pool1d(x, 4)", (2, 3, 7)),
    ("F.adaptive_avg_pool3d(x, (2, 3, 2))", (1, 2, 3, 5, 4)),
    ("F.adaptive_max_pool2d(x, (4, 5))", (2, 3, 7, 6)),
    ("F.adaptive_max_pool1d(x, 4)", (2, 3, 7)),
    ("F.adaptive_max_pool3d(x, (2, 3, 2))", (1, 2, 3, 5, 4)),
    ("F.lp_pool2d(x, 2, 2)", (2, 2, 4, 6)),
    ("F.fractional_max_pool2d(x, (2, 3), output_size=(3, 4))", (2, 2, 6, 7)),
    ("F.fractional_max_pool3d(x, 2, output_size=(2, 2, 2))", (1, 2, 4, 5, 4)),
    ("F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2, output_size=(7, 7))", (2, 2, 7, 7)),
]


@pytest.mark.parametrize("expr,xs", POOL_GRADS, ids=[p[0] for p in POOL_GRADS])
def test_pool_grads(expr, xs):
    check_grad(expr, {"x": R(*xs)}, double=True, seed=0)


def test_max_pool_tie_and_overlap_grad():
    # overlapping windows select the same element several times: its gradient is the sum
    check_grad("F.max_pool2d(x * 0 + torch.arange(16.).double().view(1, 1, 4, 4), 3, 1)", {"x": R(1, 1, 4, 4)})
    check_grad("F.max_pool2d(x, 2, 1)", {"x": np.ones((1, 1, 3, 3))})


def test_pool_meta_and_noncontiguous():
    F = ember.nn.functional
    x = ember.empty(2, 3, 9, 8, device="meta")
    v, i = F.max_pool2d(x, 3, 2, 1, return_indices=True)
    assert v.shape == (2, 3, 5, 4) and i.dtype == ember.int64 and i.device.type == "meta"
    assert F.adaptive_max_pool2d(x, 2).shape == (2, 3, 2, 2)
    assert F.conv_transpose2d(x, ember.empty(3, 2, 3, 3, device="meta"), stride=2).shape == (2, 2, 19, 17)
    y = ember.randn(3, 2, 8, 6).permute(1, 0, 3, 2)
    ty = torch.tensor(y.numpy())
    assert np.allclose(F.max_pool2d(y, 2).numpy(), torch.nn.functional.max_pool2d(ty, 2).numpy())
    assert np.allclose(F.avg_pool2d(y, 3, 1, 1).numpy(), torch.nn.functional.avg_pool2d(ty, 3, 1, 1).numpy(), atol=1e-6)


def test_conv_transpose_output_padding_column_reads_no_memory_past_the_input():
    # output_padding with stride 1 (allowed by dilation) asks for an output column no input reaches: torch gives
    # exactly 0 there. Its windows once ran past the padded input and picked up whatever memory followed.
    F = ember.nn.functional
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 9)).astype(np.float32)
    w = rng.standard_normal((4, 2, 3)).astype(np.float32)
    want = torch.nn.functional.conv_transpose1d(torch.tensor(x), torch.tensor(w), stride=1, output_padding=1,
                                                dilation=2).numpy()
    assert (want[..., -1] == 0).all()
    for _ in range(20):
        junk = [np.full(n, 1e30, np.float32) for n in (16, 64, 300, 1000)]  # freed memory full of large values
        del junk
        got = F.conv_transpose1d(ember.tensor(x), ember.tensor(w), stride=1, output_padding=1, dilation=2).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
        assert (got[..., -1] == 0).all()
