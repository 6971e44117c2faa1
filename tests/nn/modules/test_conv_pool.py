"""Convolution and pooling layers against torch (outputs, input/parameter gradients, reprs, lazy forms)."""
import numpy as np
import pytest

import ember
from tests.nn.modules._harness import check, copy_state, same_error, torch

rng = np.random.default_rng(4)


def x(*shape):
    return rng.standard_normal(shape)


CONV = [
    ("Conv1d", lambda lib: lib.nn.Conv1d(4, 6, 3), (2, 4, 9)),
    ("Conv1d pad/stride/dil/groups", lambda lib: lib.nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2),
     (2, 4, 11)),
    ("Conv1d same", lambda lib: lib.nn.Conv1d(4, 2, 4, padding="same", dilation=2), (2, 4, 9)),
    ("Conv1d valid nobias", lambda lib: lib.nn.Conv1d(4, 2, 3, padding="valid", bias=False), (4, 9)),
    ("Conv1d reflect", lambda lib: lib.nn.Conv1d(4, 2, 3, padding=2, padding_mode="reflect"), (2, 4, 9)),
    ("Conv1d circular", lambda lib: lib.nn.Conv1d(4, 2, 3, padding=1, padding_mode="circular"), (2, 4, 9)),
    ("Conv2d", lambda lib: lib.nn.Conv2d(3, 4, 3), (2, 3, 7, 6)),
    ("Conv2d complex args", lambda lib: lib.nn.Conv2d(4, 4, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2),
                                                       groups=4), (2, 4, 7, 6)),
    ("Conv2d same", lambda lib: lib.nn.Conv2d(3, 2, (3, 4), padding="same"), (2, 3, 6, 7)),
    ("Conv2d replicate", lambda lib: lib.nn.Conv2d(3, 2, 3, padding=(1, 2), padding_mode="replicate"), (2, 3, 6, 5)),
    ("Conv2d circular same", lambda lib: lib.nn.Conv2d(3, 2, 3, padding="same", padding_mode="circular"),
     (3, 6, 5)),
    ("Conv2d reflect", lambda lib: lib.nn.Conv2d(3, 2, 3, padding=1, padding_mode="reflect", bias=False),
     (1, 3, 5, 5)),
    ("Conv3d", lambda lib: lib.nn.Conv3d(2, 3, 2, padding=1, stride=(1, 2, 1)), (2, 2, 4, 5, 3)),
    ("ConvTranspose1d", lambda lib: lib.nn.ConvTranspose1d(4, 2, 3, stride=2, padding=1, output_padding=1),
     (2, 4, 5)),
    ("ConvTranspose1d groups dil", lambda lib: lib.nn.ConvTranspose1d(4, 6, 3, groups=2, dilation=2, bias=False),
     (2, 4, 5)),
    ("ConvTranspose2d", lambda lib: lib.nn.ConvTranspose2d(3, 2, (3, 2), stride=(2, 1), padding=(1, 0)),
     (2, 3, 4, 5)),
    ("ConvTranspose3d", lambda lib: lib.nn.ConvTranspose3d(2, 2, 2, stride=2), (1, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,ctor,shape", CONV, ids=[c[0] for c in CONV])
def test_conv(name, ctor, shape, dtype):
    check(ctor, [x(*shape)], dtype)


def test_conv_transpose_output_size():
    def call(m, xs, kw):
        return m(xs[0], output_size=[10])
    check(lambda lib: lib.nn.ConvTranspose1d(4, 2, 3, stride=2, padding=1), [x(2, 4, 5)], call=call)

    def call2(m, xs, kw):
        return m(xs[0], output_size=(2, 2, 8, 9))
    check(lambda lib: lib.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), [x(2, 3, 4, 5)], call=call2)
    mt, me = torch.nn.ConvTranspose1d(4, 2, 3, stride=2), ember.nn.ConvTranspose1d(4, 2, 3, stride=2)
    same_error(lambda: mt(torch.randn(2, 4, 5), output_size=[20]), lambda: me(ember.randn(2, 4, 5), output_size=[20]))
    same_error(lambda: mt(torch.randn(2, 4, 5), output_size=[1, 2, 3, 4]),
               lambda: me(ember.randn(2, 4, 5), output_size=[1, 2, 3, 4]))


@pytest.mark.parametrize("expr", [
    "nn.Conv1d(4, 6, 3)", "nn.Conv2d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2, bias=False)",
    "nn.Conv2d(4, 6, (3, 1), padding='same')", "nn.Conv2d(4, 6, 3, padding='valid')",
    "nn.Conv3d(2, 2, 3, padding=1, padding_mode='circular')",
    "nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1)", "nn.ConvTranspose1d(4, 6, 3, groups=2, dilation=3)",
    "nn.LazyConv2d(6, 3)", "nn.LazyConvTranspose1d(6, 3, bias=False)",
])
def test_conv_repr_and_layout(expr):
    e, t = eval(expr, {"nn": ember.nn}), eval(expr, {"nn": torch.nn})
    assert repr(e) == repr(t)
    if "Lazy" in expr:  # uninitialised parameters have no shape yet
        assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
        return
    assert [(n, tuple(p.shape)) for n, p in e.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]


def test_conv_init_bounds():
    m = ember.nn.Conv2d(4, 6, 3)
    bound = 1 / np.sqrt(4 * 9)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound and w.std() > bound / 4
    m = ember.nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert tuple(m.weight.shape) == (4, 3, 3, 3)


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Conv2d(4, 6, 3, groups=0),
    lambda lib: lib.nn.Conv2d(4, 6, 3, groups=3),
    lambda lib: lib.nn.Conv2d(4, 5, 3, groups=2),
    lambda lib: lib.nn.Conv2d(4, 6, 3, padding="full"),
    lambda lib: lib.nn.Conv2d(4, 6, 3, padding="same", stride=2),
    lambda lib: lib.nn.Conv2d(4, 6, 3, padding_mode="mirror"),
    lambda lib: lib.nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect"),
])
def test_conv_ctor_errors(make):
    same_error(lambda: make(torch), lambda: make(ember))


@pytest.mark.parametrize("lazy,shape", [("LazyConv1d(4, 3)", (2, 3, 7)), ("LazyConv2d(4, 3, padding=1)", (2, 3, 5, 5)),
                                        ("LazyConv3d(2, 2)", (1, 3, 3, 3, 3)),
                                        ("LazyConvTranspose1d(4, 3, stride=2)", (2, 3, 5)),
                                        ("LazyConvTranspose2d(2, 3)", (3, 4, 4)),
                                        ("LazyConvTranspose3d(2, 2, bias=False)", (1, 2, 2, 2, 2))])
def test_lazy_conv(lazy, shape):
    e = eval("nn." + lazy, {"nn": ember.nn})
    t = eval("nn." + lazy, {"nn": torch.nn})
    assert repr(e) == repr(t)
    xe = ember.tensor(x(*shape), dtype=ember.float32)
    ye = e(xe)
    t(torch.tensor(xe.numpy()))
    assert type(e).__name__ == type(t).__name__ and repr(e) == repr(t)
    assert e.in_channels == t.in_channels
    copy_state(t, e)
    np.testing.assert_allclose(e(xe).detach().numpy(), t(torch.tensor(xe.numpy())).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    assert ye.shape == t(torch.tensor(xe.numpy())).shape


def test_lazy_conv_load_state_dict_materializes():
    t = torch.nn.Conv2d(3, 4, 3)
    e = ember.nn.LazyConv2d(4, 3)
    copy_state(t, e)
    assert tuple(e.weight.shape) == (4, 3, 3, 3)
    xe = ember.randn(1, 3, 5, 5)
    np.testing.assert_allclose(e(xe).detach().numpy(), t(torch.tensor(xe.numpy())).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    assert type(e) is ember.nn.Conv2d


POOL = [
    ("MaxPool1d", lambda lib: lib.nn.MaxPool1d(3), (2, 3, 10)),
    ("MaxPool1d args", lambda lib: lib.nn.MaxPool1d(3, 2, 1, 2, ceil_mode=True), (2, 3, 10)),
    ("MaxPool2d", lambda lib: lib.nn.MaxPool2d(2), (2, 3, 6, 7)),
    ("MaxPool2d args", lambda lib: lib.nn.MaxPool2d((3, 2), (2, 1), (1, 0), ceil_mode=True), (3, 7, 6)),
    ("MaxPool3d", lambda lib: lib.nn.MaxPool3d(2, padding=1), (1, 2, 4, 5, 3)),
    ("AvgPool1d", lambda lib: lib.nn.AvgPool1d(3, 2, 1), (2, 3, 10)),
    ("AvgPool1d no pad count", lambda lib: lib.nn.AvgPool1d(3, 2, 1, True, False), (2, 3, 10)),
    ("AvgPool2d", lambda lib: lib.nn.AvgPool2d(2), (2, 3, 6, 7)),
    ("AvgPool2d divisor", lambda lib: lib.nn.AvgPool2d(3, 2, 1, divisor_override=2), (2, 3, 6, 7)),
    ("AvgPool3d", lambda lib: lib.nn.AvgPool3d((2, 1, 2), ceil_mode=True), (1, 2, 5, 4, 3)),
    ("LPPool1d", lambda lib: lib.nn.LPPool1d(2, 3), (2, 3, 9)),
    ("LPPool2d", lambda lib: lib.nn.LPPool2d(1.5, 2, 1), (2, 3, 5, 4)),
    ("LPPool3d", lambda lib: lib.nn.LPPool3d(2, 2), (1, 2, 4, 4, 4)),
    ("AdaptiveAvgPool1d", lambda lib: lib.nn.AdaptiveAvgPool1d(4), (2, 3, 10)),
    ("AdaptiveAvgPool2d", lambda lib: lib.nn.AdaptiveAvgPool2d((None, 3)), (2, 3, 5, 7)),
    ("AdaptiveAvgPool3d", lambda lib: lib.nn.AdaptiveAvgPool3d(2), (1, 2, 5, 4, 3)),
    ("AdaptiveMaxPool1d", lambda lib: lib.nn.AdaptiveMaxPool1d(3), (2, 3, 10)),
    ("AdaptiveMaxPool2d", lambda lib: lib.nn.AdaptiveMaxPool2d((2, 3), return_indices=True), (2, 3, 5, 7)),
    ("AdaptiveMaxPool3d", lambda lib: lib.nn.AdaptiveMaxPool3d(2), (1, 2, 5, 4, 3)),
    ("MaxPool2d indices", lambda lib: lib.nn.MaxPool2d(2, return_indices=True), (2, 3, 6, 7)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,ctor,shape", POOL, ids=[c[0] for c in POOL])
def test_pool(name, ctor, shape, dtype):
    inp = x(*shape)
    if name.startswith("LPPool"):
        inp = np.abs(inp) + 0.1  # fractional powers of negative sums are NaN in both
    check(ctor, [inp], dtype)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_max_unpool(d):
    shape = {1: (2, 3, 8), 2: (2, 3, 6, 4), 3: (1, 2, 4, 4, 2)}[d]

    def call(m, xs, kw):
        lib = torch if isinstance(m, torch.nn.Module) else ember
        pool = getattr(lib.nn, f"MaxPool{d}d")(2, return_indices=True)
        out, idx = pool(xs[0])
        return m(out, idx), m(out, idx, output_size=xs[0].shape)
    check(lambda lib: getattr(lib.nn, f"MaxUnpool{d}d")(2), [x(*shape)], call=call)


@pytest.mark.parametrize("expr", [
    "nn.MaxPool1d(3)", "nn.MaxPool2d(3, 2, 1, 2, True, True)", "nn.MaxPool3d((2,3,1))", "nn.AvgPool1d(3)",
    "nn.AvgPool2d(3,2,1,True,False,4)", "nn.AvgPool3d(2)", "nn.AdaptiveAvgPool1d(3)", "nn.AdaptiveAvgPool2d((None,3))",
    "nn.AdaptiveMaxPool2d(3, True)", "nn.AdaptiveMaxPool3d(2)", "nn.MaxUnpool1d(2)", "nn.MaxUnpool2d(2,1,1)",
    "nn.MaxUnpool3d(2)", "nn.LPPool1d(2, 3)", "nn.LPPool2d(1.5,2,1,True)", "nn.LPPool3d(2,2)",
    "nn.FractionalMaxPool2d(2, output_size=3)", "nn.FractionalMaxPool3d(2, output_ratio=0.5)",
])
def test_pool_repr(expr):
    assert repr(eval(expr, {"nn": ember.nn})) == repr(eval(expr, {"nn": torch.nn}))


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.FractionalMaxPool2d(2),
    lambda lib: lib.nn.FractionalMaxPool2d(2, output_size=3, output_ratio=0.5),
    lambda lib: lib.nn.FractionalMaxPool2d(2, output_ratio=1.5),
    lambda lib: lib.nn.FractionalMaxPool3d(0, output_size=2),
])
def test_fractional_pool_ctor_errors(make):
    same_error(lambda: make(torch), lambda: make(ember))


def test_fractional_max_pool_shapes():
    m = ember.nn.FractionalMaxPool2d(2, output_size=(3, 4), return_indices=True)
    try:
        out, idx = m(ember.randn(2, 3, 8, 9))
    except AttributeError:
        pytest.skip("F.fractional_max_pool2d not available")
    assert out.shape == (2, 3, 3, 4) and idx.shape == (2, 3, 3, 4)


@pytest.mark.parametrize("expr,shape", [("nn.FractionalMaxPool2d(2, output_size=(3, 4))", (2, 3, 8, 9)),
                                        ("nn.FractionalMaxPool2d((2, 3), output_ratio=0.5)", (1, 2, 8, 9)),
                                        ("nn.FractionalMaxPool3d(2, output_size=2)", (1, 2, 5, 4, 6))])
def test_fractional_max_pool_seeded(expr, shape):
    a = x(*shape)
    res = []
    for lib in (torch, ember):
        lib.manual_seed(3)
        inp = lib.tensor(a, requires_grad=True)
        out = eval(expr, {"nn": lib.nn})(inp)
        out.sum().backward()
        res.append((out.detach().numpy(), inp.grad.numpy()))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-12)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-12)
