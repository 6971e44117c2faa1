"""repr/str of tensors compared character for character with torch's."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")



@pytest.fixture(autouse=True)
def _reset_printoptions():
    yield
    ember.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")
    ember.set_default_dtype(ember.float32)
    torch.set_default_dtype(torch.float32)


def _pair(a, dtype=None):
    a = np.asarray(a)
    t, e = torch.from_numpy(a.copy()), ember.from_numpy(a.copy())
    if dtype is not None:
        t, e = t.to(getattr(torch, dtype)), e.to(getattr(ember, dtype))
    return t, e


def _same(t, e):
    assert repr(e) == repr(t)
    assert str(e) == str(t)


R = np.random.default_rng(0)
VALUES = {
    "0d_float": np.array(1.5),
    "0d_int_mode": np.array(3.0),
    "0d_int": np.array(7),
    "0d_bool": np.array(True),
    "0d_complex": np.array(1 + 2j),
    "int_mode": np.array([1.0, 2.0, -3.0]),
    "small": np.array([1e-5, 1.0]),
    "large": np.array([1e10, 1.0]),
    "nonfinite": np.array([np.nan, np.inf, -np.inf, 1.5]),
    "nonfinite_int_mode": np.array([np.nan, 1.0]),
    "only_nonfinite": np.array([np.nan, -np.inf]),
    "zeros": np.array([0.0, 0.0]),
    "neg_zero": np.array([-0.0, 1.0]),
    "ratio_1e3": np.array([-1e-3, 1e3]),
    "big_int_mode": np.array([123456789.0, 1.0]),
    "1e8_edge": np.array([1.0, 1e8]),
    "1e9": np.array([1.0, 1e9]),
    "tiny": np.array([1e-200, 1e200]),
    "1e-4_edge": np.array([1e-4, 0.5]),
    "round_up": np.array([99999.5, 0.5]),
    "float32_repr": np.array([0.1, 0.25], np.float32),
    "ints": np.array([1, -1000000]),
    "bools": np.array([True, False, True]),
    "complex": np.array([1 + 2j, -3.5 - 0.25j]),
    "complex_neg_zero_imag": np.array([1 - 0.0j, complex(2, -0.0)]),
    "complex_nan": np.array([complex(1, np.nan), complex(np.inf, -2)]),
    "complex_sci": np.array([1e-8 + 1e8j, -1 - 1j]),
    "2d": R.standard_normal((3, 4)),
    "3d": R.standard_normal((2, 3, 4)) * 1000,
    "5d": R.standard_normal((2, 2, 2, 2, 3)),
    "wrap_1d": R.standard_normal(30),
    "summarize_1d": R.standard_normal(2000),
    "summarize_2d": R.standard_normal((40, 40)),
    "summarize_3d": R.standard_normal((5, 5, 50)),
    "summarize_ints": np.arange(2000).reshape(20, 100),
    "ints_3d": R.integers(-100, 100, (10, 10, 10)).astype(np.int32),
    "complex_2d": R.standard_normal((3, 3)) + 1j * R.standard_normal((3, 3)) * 1e-6,
    "complex_wrap": R.standard_normal(12) + 1j * R.standard_normal(12),
    "complex_summarize": R.standard_normal((30, 40)) + 1j * R.standard_normal((30, 40)),
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_repr_matches_torch(name):
    _same(*_pair(VALUES[name]))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64", "int8", "uint8", "int16",
                                   "int32", "int64", "complex64", "complex128", "bool"])
@pytest.mark.parametrize("shape", [(), (3, 5), (1500,)])
def test_dtype_suffix_and_values(dtype, shape):
    a = np.asarray(R.standard_normal(shape) * 10)
    _same(*_pair(a, dtype))


@pytest.mark.parametrize("shape,dtype", [((0,), "float32"), ((0, 3), "float32"), ((0,), "int64"),
                                         ((2, 0, 3), "int64"), ((0,), "bool"), ((1, 0), "complex64"),
                                         ((0,), "float64")])
def test_empty(shape, dtype):
    _same(*_pair(np.zeros(shape), dtype))


def test_empty_examples():
    assert repr(ember.zeros(0, 3)) == "tensor([], size=(0, 3))"
    assert repr(ember.tensor([], dtype=ember.int64)) == "tensor([], dtype=torch.int64)"
    assert repr(ember.tensor([])) == "tensor([])"


OPTIONS = [dict(precision=2), dict(precision=8), dict(precision=0), dict(threshold=5),
           dict(edgeitems=1, threshold=10), dict(edgeitems=0, threshold=10), dict(linewidth=40),
           dict(linewidth=200), dict(linewidth=5), dict(sci_mode=True), dict(sci_mode=False),
           dict(profile="short"), dict(profile="full"), dict(threshold=0)]
OPT_VALUES = ["summarize_1d", "summarize_2d", "2d", "summarize_ints", "3d", "complex_nan", "complex_sci",
              "ratio_1e3", "0d_float", "wrap_1d", "complex_2d", "zeros"]


@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_printoptions(opts):
    ember.set_printoptions(**opts)
    torch.set_printoptions(**opts)
    for name in OPT_VALUES:
        _same(*_pair(VALUES[name]))
    for dt in ("float16", "int32", "complex64"):
        _same(*_pair(VALUES["2d"], dt))


def test_printoptions_state():
    ember.set_printoptions(precision=2, linewidth=100)
    assert ember.get_printoptions() == dict(precision=2, threshold=1000, edgeitems=3, linewidth=100,
                                            sci_mode=None)
    ember.set_printoptions(sci_mode=True)
    assert ember.get_printoptions()["sci_mode"] is True
    ember.set_printoptions(precision=3)  # sci_mode is reset whenever it is not passed, as in torch
    assert ember.get_printoptions()["sci_mode"] is None
    ember.set_printoptions(profile="full")
    assert ember.get_printoptions()["threshold"] == float("inf")
    ember.set_printoptions(profile="nonsense")  # ignored, like torch
    assert ember.get_printoptions()["threshold"] == float("inf")
    ember.set_printoptions(profile="default")
    assert ember.get_printoptions() == dict(precision=4, threshold=1000, edgeitems=3, linewidth=80,
                                            sci_mode=None)


def test_examples():
    assert repr(ember.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(ember.tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"
    assert repr(ember.tensor([1e-5, 1.0])) == "tensor([1.0000e-05, 1.0000e+00])"
    assert repr(ember.tensor(2.5, dtype=ember.float64)) == "tensor(2.5000, dtype=torch.float64)"
    assert repr(ember.tensor([1, 2], dtype=ember.int32)) == "tensor([1, 2], dtype=torch.int32)"
    assert repr(ember.tensor([True])) == "tensor([True])"
    assert repr(ember.tensor([1 + 2j])) == "tensor([1.+2.j])"


@pytest.mark.parametrize("shape", [(3,), (20,), (7, 7), (2, 2, 10), ()])
def test_requires_grad_and_grad_fn(shape):
    a = R.standard_normal(shape)
    t, e = torch.tensor(a, requires_grad=True), ember.tensor(a, requires_grad=True)
    _same(t, e)
    _same(t * 2, e * 2)
    _same(t.float() + 1, e.float() + 1)
    _same(t.detach(), e.detach())
    if t.dim():
        _same(t.narrow(0, 0, 2), e.narrow(0, 0, 2))
        _same(t.exp(), e.exp())


def test_grad_fn_suffix_wraps_to_new_line():
    a = R.standard_normal((3, 200))
    t, e = torch.tensor(a, requires_grad=True), ember.tensor(a, requires_grad=True)
    _same(t.sum(0).narrow(0, 0, 4), e.sum(0).narrow(0, 0, 4))
    assert repr(e.sum(0).narrow(0, 0, 4)).endswith("dtype=torch.float64,\n       grad_fn=<SliceBackward0>)")


def test_default_dtype_float64():
    torch.set_default_dtype(torch.float64)
    ember.set_default_dtype(ember.float64)
    for a in [np.array([1.0, 2.0], np.float32), np.array([1.5]), np.array([1 + 1j], np.complex64),
              np.array([1 + 1j]), np.zeros((0,), np.float32), np.zeros(0)]:
        _same(*_pair(a))
    _same(torch.tensor([1.5, 2]), ember.tensor([1.5, 2]))
    assert repr(ember.tensor([1.5], dtype=ember.float32)) == "tensor([1.5000], dtype=torch.float32)"


@pytest.mark.parametrize("shape,dtype", [((2, 3), "float32"), ((0,), "float32"), ((), "int64"),
                                         ((4,), "bool"), ((2,), "float64"), ((1, 0), "complex64")])
def test_meta(shape, dtype):
    t = torch.empty(shape, device="meta", dtype=getattr(torch, dtype))
    e = ember.empty(shape, device="meta", dtype=getattr(ember, dtype))
    _same(t, e)
    if dtype.startswith(("float", "complex")):
        _same(t.requires_grad_(), e.requires_grad_())
        _same(t * 2, e * 2)
    assert repr(ember.empty(2, 3, device="meta")) == "tensor(..., device='meta', size=(2, 3))"


def test_tensor_contents_and_format():
    assert ember.tensor([1.0, 2.0]).__repr__(tensor_contents="foo") == "tensor(foo)"
    assert f"{ember.tensor(2.5):.2f}" == "2.50"
    assert f"{ember.tensor(3)}" == "3"


def test_parameter_and_subclass():
    p_t, p_e = torch.nn.Parameter(torch.ones(2)), ember.nn.Parameter(ember.ones(2))
    assert repr(p_e) == repr(p_t)

    class MyT(ember.Tensor):
        pass

    x = ember.ones(2)
    x.__class__ = MyT
    assert repr(x) == "MyT([1., 1.])"


def test_half_precision_values():
    a = np.array([0.1, 1 / 3, 65504.0, 1e-7])
    for dt in ("float16", "bfloat16"):
        _same(*_pair(a, dt))


def test_cuda_device_suffix():
    # no GPU needed: a CPU tensor relabelled as cuda:0 prints the way torch prints a CUDA tensor
    from ember.backend import numpy_backend

    class FakeCuda:
        type, index, backend = "cuda", 0, numpy_backend

        def __str__(self):
            return "cuda:0"

    x = ember.tensor([1.5, 2.0], dtype=ember.float64)
    x._device = FakeCuda()
    assert repr(x) == "tensor([1.5000, 2.0000], device='cuda:0', dtype=torch.float64)"
    y = ember.zeros(0, 2)
    y._device = FakeCuda()
    assert repr(y) == "tensor([], device='cuda:0', size=(0, 2))"
