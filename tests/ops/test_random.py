"""Random sampling against torch, bit for bit: same seed -> same values, same generator state bytes."""
import copy
import pickle

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

SEEDS = (0, 7, 2 ** 40 + 3)
FLOATS = ("float32", "float64", "float16", "bfloat16")
SHAPES = ((), (0,), (1,), (3,), (15,), (16,), (17,), (5, 7), (2, 3, 40))


def _np(t):
    """Host values of an ember or torch tensor, bfloat16 widened (values are exact)."""
    if isinstance(t, ember.Tensor):
        t = t.detach()
        if t.dtype is ember.bfloat16:
            t = t.float()
        return np.asarray(t._data)
    t = t.detach()
    if t.dtype is torch.bfloat16:
        t = t.float()
    return t.numpy()


def check(fn, seeds=SEEDS):
    """Run ``fn(module)`` after ``manual_seed`` on ember and torch: equal values, dtype, shape and state."""
    for s in seeds:
        torch.manual_seed(s)
        ember.manual_seed(s)
        t, e = fn(torch), fn(ember)
        assert str(t.dtype) == str(e.dtype)
        assert tuple(t.shape) == tuple(e.shape)
        a, b = _np(t), _np(e)
        assert np.array_equal(a, b, equal_nan=True), (s, a.ravel()[:6], b.ravel()[:6], int((a != b).sum()))
        assert np.array_equal(torch.get_rng_state().numpy(), ember.get_rng_state().numpy()), s


def layout(T, kind, dt):
    d = getattr(T, dt)
    return {"contig": lambda: T.zeros(6, 5, dtype=d), "T": lambda: T.zeros(6, 5, dtype=d).t(),
            "slice": lambda: T.zeros(8, 10, dtype=d)[:, ::3],
            "perm": lambda: T.zeros(2, 3, 4, dtype=d).permute(2, 0, 1),
            "bigT": lambda: T.zeros(20, 9, dtype=d).t(), "0d": lambda: T.zeros((), dtype=d),
            "empty": lambda: T.zeros(0, 3, dtype=d)}[kind]()


LAYOUTS = ("contig", "T", "slice", "perm", "bigT", "0d", "empty")


# ---------------------------------------------------------------- factories
@pytest.mark.parametrize("dt", FLOATS + ("complex64", "complex128"))
@pytest.mark.parametrize("shape", SHAPES)
def test_rand_randn(shape, dt):
    check(lambda T: T.rand(shape, dtype=getattr(T, dt)))
    check(lambda T: T.randn(shape, dtype=getattr(T, dt)))


def test_rand_forms_and_cache():
    check(lambda T: T.rand(2, 3))
    check(lambda T: T.rand(size=(4,)))
    check(lambda T: T.randn([2, 2]))
    # scalar Box-Muller draws pairs and caches the second sample: consecutive small calls share it
    check(lambda T: T.cat([T.randn(3), T.randn(1), T.rand(2), T.randn(5, dtype=T.float64), T.randn(40)]))


def test_large_float32_normal():
    check(lambda T: T.randn(20000), seeds=(3,))
    check(lambda T: T.empty(4099).normal_(0.25, 3.5), seeds=(3,))


@pytest.mark.parametrize("dt", ("float32", "float64", "float16"))
def test_like(dt):
    check(lambda T: T.rand_like(T.zeros(4, 5, dtype=getattr(T, dt)).t()))
    check(lambda T: T.randn_like(T.zeros(9, 5, dtype=getattr(T, dt)).t()))
    check(lambda T: T.randn_like(T.zeros(3, dtype=getattr(T, dt)), dtype=T.float64))
    check(lambda T: T.randint_like(T.zeros(4, 5, dtype=getattr(T, dt)), 3, 9))
    check(lambda T: T.randint_like(T.zeros(4, 5, dtype=getattr(T, dt)).t(), 7))


@pytest.mark.parametrize("dt", ("int64", "int32", "int16", "int8", "uint8", "bool", "float32", "float64", "float16",
                                "bfloat16"))
def test_random_and_randint(dt):
    d = lambda T: getattr(T, dt)  # noqa: E731
    check(lambda T: T.empty(50, dtype=d(T)).random_())
    check(lambda T: T.empty(50, dtype=d(T)).random_(2))
    check(lambda T: T.empty(50, dtype=d(T)).random_(0, None))
    check(lambda T: T.randint(0, 2, (4, 5), dtype=d(T)))
    if dt != "bool":
        check(lambda T: T.empty(7, 8, dtype=d(T)).t().random_(100, 120))
        check(lambda T: T.randint(3, 10, (4, 5), dtype=d(T)))
    if dt in ("int64", "float64", "float32", "bfloat16"):
        check(lambda T: T.empty(20, dtype=d(T)).random_(-2 ** 63, None))
    if dt in ("int64", "int32", "float64"):
        check(lambda T: T.empty(20, dtype=d(T)).random_(-2 ** 28, 2 ** 28))  # wide range: 64-bit draws


def test_randint_forms():
    check(lambda T: T.randint(10, (1000,)))
    check(lambda T: T.randint(low=-4, high=10, size=(3, 3)))
    check(lambda T: T.randint(10, size=(3, 3)))
    check(lambda T: T.randint(-2 ** 62, 2 ** 62, (100,)))
    check(lambda T: T.randint(0, 2 ** 28 - 1, (10,)))


@pytest.mark.parametrize("n", (0, 1, 2, 5, 1000, 70000))
def test_randperm(n):
    check(lambda T: T.randperm(n))


@pytest.mark.parametrize("dt", ("int32", "uint8", "float32", "float16"))
def test_randperm_dtypes(dt):
    check(lambda T: T.randperm(200, dtype=getattr(T, dt)))


# ---------------------------------------------------------------- in-place samplers, every layout
@pytest.mark.parametrize("kind", LAYOUTS)
@pytest.mark.parametrize("dt", FLOATS)
def test_inplace_samplers(kind, dt):
    check(lambda T: layout(T, kind, dt).uniform_(-1.7, 2.9))
    check(lambda T: layout(T, kind, dt).normal_(0.3, 1.7))
    check(lambda T: layout(T, kind, dt).exponential_(2.5))
    check(lambda T: layout(T, kind, dt).cauchy_(0.5, 2.0))
    check(lambda T: layout(T, kind, dt).log_normal_(0.5, 0.7))
    check(lambda T: layout(T, kind, dt).geometric_(0.3))
    check(lambda T: layout(T, kind, dt).bernoulli_(0.3))


@pytest.mark.parametrize("kind", ("contig", "T", "slice"))
@pytest.mark.parametrize("dt", ("complex64", "complex128"))
def test_complex(kind, dt):
    check(lambda T: layout(T, kind, dt).uniform_(-1.0, 2.0))
    check(lambda T: layout(T, kind, dt).normal_(0.5, 2.0))


def test_uniform_never_returns_to():
    # a float result that rounds up to ``to`` is replaced by ``from``, as torch does
    check(lambda T: T.empty(1000).uniform_(1.0, 1.0000001))
    check(lambda T: T.empty(1000, dtype=T.float16).uniform_(0.0, 1.0))


def test_many_samples():
    n = 60000
    for dt in ("float32", "float64"):
        d = lambda T: getattr(T, dt)  # noqa: E731
        check(lambda T: T.empty(n, dtype=d(T)).exponential_(0.7), seeds=(3,))
        check(lambda T: T.empty(n, dtype=d(T)).cauchy_(0.3, 1.3), seeds=(3,))
        check(lambda T: T.empty(n, dtype=d(T)).log_normal_(0.2, 0.9), seeds=(3,))
        check(lambda T: T.empty(n, 2, dtype=d(T))[:, 0].normal_(-0.4, 2.2), seeds=(3,))
        check(lambda T: T.empty(n + 5, dtype=d(T)).uniform_(-0.4, 2.2), seeds=(3,))


# ---------------------------------------------------------------- bernoulli, multinomial, poisson, normal
def probs(T, dt="float32", shape=(6, 5)):
    return T.rand(shape, generator=T.Generator().manual_seed(123), dtype=getattr(T, dt))


@pytest.mark.parametrize("pdt", FLOATS)
def test_bernoulli_tensor_p(pdt):
    check(lambda T: T.bernoulli(probs(T, pdt)))
    check(lambda T: T.bernoulli(probs(T, pdt).t()))
    check(lambda T: probs(T, pdt).bernoulli())
    for sdt in ("float32", "int64", "bool", "uint8"):
        check(lambda T: T.empty(6, 5, dtype=getattr(T, sdt)).bernoulli_(probs(T, pdt)))
    check(lambda T: T.empty(4, 6, 5).bernoulli_(probs(T, pdt, (5,))))
    check(lambda T: T.empty(5, 6).t().bernoulli_(probs(T, pdt, (6, 1))))


def test_bernoulli_float_p():
    check(lambda T: T.bernoulli(T.ones(7, 3), 0.3))
    check(lambda T: T.ones(7, 3).t().bernoulli(0.3))
    check(lambda T: T.empty(40, dtype=T.bool).bernoulli_(0.5))
    # dropout's recipe on CPU: empty_like(x).bernoulli_(1 - p), scaled by 1 / (1 - p)
    torch.manual_seed(0)
    ref = torch.nn.functional.dropout(torch.randn(4, 5), 0.3, True)
    ember.manual_seed(0)
    x = ember.randn(4, 5)
    mask = ember.empty_like(x).bernoulli_(0.7)
    mask.div_(0.7)
    assert np.array_equal(_np(x * mask), ref.numpy())


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("replacement", (True, False))
def test_multinomial(dt, replacement):
    for ns in (1, 3, 5):
        check(lambda T: T.multinomial(probs(T, dt, (5,)), ns, replacement))
        check(lambda T: T.multinomial(probs(T, dt, (4, 7)), ns, replacement))
        check(lambda T: T.multinomial(probs(T, dt, (7, 4)).t(), ns, replacement))
        check(lambda T: probs(T, dt, (4, 7)).multinomial(ns, replacement=replacement))


def test_multinomial_many():
    check(lambda T: T.multinomial(probs(T, "float32", (1000,)), 5000, True))
    check(lambda T: T.multinomial(T.tensor([0., 1, 0, 2, 0]), 2000, True))
    check(lambda T: T.multinomial(probs(T, "float32", (30, 100)), 50))


@pytest.mark.parametrize("dt", FLOATS)
def test_poisson(dt):
    rates = [0., 0.5, 3., 9.9, 10., 25., 1000., 1e6]
    check(lambda T: T.poisson(T.tensor(rates).to(getattr(T, dt))))
    check(lambda T: T.poisson(probs(T, "float64", (30, 20)).t() * 40))


@pytest.mark.parametrize("shape", ((3,), (20,), (4, 5)))
def test_normal_overloads(shape):
    check(lambda T: T.normal(probs(T, "float32", shape), probs(T, "float32", shape) + 0.5))
    check(lambda T: T.normal(probs(T, "float32", shape), 0.7))
    check(lambda T: T.normal(0.3, probs(T, "float32", shape)))
    check(lambda T: T.normal(probs(T, "float64", shape), probs(T, "float32", shape)))
    check(lambda T: T.normal(probs(T, "float32", shape), probs(T, "float64", shape)))
    check(lambda T: T.normal(0.3, 2.0, shape))
    check(lambda T: T.normal(0.3, 2.0, size=shape, dtype=T.float64))
    check(lambda T: T.normal(probs(T, "float32", (4, 1)), probs(T, "float32", (5,))))
    check(lambda T: T.normal(probs(T, "float32", (5, 4)).t(), 1.0))


def test_nn_linear_init_matches():
    torch.manual_seed(0)
    ember.manual_seed(0)
    t, e = torch.nn.Linear(20, 30), ember.nn.Linear(20, 30)
    assert np.array_equal(_np(t.weight), _np(e.weight))
    assert np.array_equal(_np(t.bias), _np(e.bias))


# ---------------------------------------------------------------- generators and state
def test_state_layout_matches_torch():
    for s in (0, 5, 2 ** 40 + 3, -1):
        g, tg = ember.Generator().manual_seed(s), torch.Generator().manual_seed(s)
        assert np.array_equal(_np(g.get_state()), tg.get_state().numpy())
        for n in (3, 1000, 621):
            ember.rand(n, generator=g)
            torch.rand(n, generator=tg)
            assert np.array_equal(_np(g.get_state()), tg.get_state().numpy())
        ember.randn(3, dtype=ember.float64, generator=g)  # leaves a cached Box-Muller sample
        torch.randn(3, dtype=torch.float64, generator=tg)
        assert np.array_equal(_np(g.get_state()), tg.get_state().numpy())
    assert np.array_equal(_np(ember.Generator().get_state()), torch.Generator().get_state().numpy())
    st = ember.Generator().get_state()
    assert st.dtype is ember.uint8 and tuple(st.shape) == (5056,)


def test_state_round_trip_and_cross_load():
    ember.manual_seed(7)
    ember.randn(3)  # a cached sample is part of the state
    s = ember.get_rng_state()
    a = ember.randn(5)
    ember.set_rng_state(s)
    assert np.array_equal(_np(a), _np(ember.randn(5)))
    # a torch state loads into ember and continues torch's stream
    torch.manual_seed(11)
    torch.randn(5)
    ember.set_rng_state(ember.tensor(torch.get_rng_state().numpy()))
    assert np.array_equal(torch.randn(7).numpy(), _np(ember.randn(7)))
    g = ember.Generator()
    assert g.set_state(g.get_state()) is g


def test_generator_independence():
    g = ember.Generator().manual_seed(5)
    ember.manual_seed(5)
    ember.rand(10)
    a = ember.rand(3, generator=g)
    ember.manual_seed(5)
    assert np.array_equal(_np(a), _np(ember.rand(3)))
    # drawing from g leaves the global stream alone
    ember.manual_seed(1)
    ember.randn(20, generator=g)
    b = ember.rand(4)
    ember.manual_seed(1)
    assert np.array_equal(_np(b), _np(ember.rand(4)))
    torch.manual_seed(1)
    tg = torch.Generator().manual_seed(99)
    eg = ember.Generator().manual_seed(99)
    ember.manual_seed(1)
    assert np.array_equal(torch.randn(30, generator=tg).numpy(), _np(ember.randn(30, generator=eg)))
    assert np.array_equal(torch.get_rng_state().numpy(), ember.get_rng_state().numpy())


def test_generator_api():
    g = ember.Generator()
    assert g.initial_seed() == 67280421310721
    assert str(g.device) == "cpu"
    assert g.manual_seed(4) is g and g.initial_seed() == 4
    assert ember.manual_seed(-1).initial_seed() == 2 ** 64 - 1
    assert ember.manual_seed(3) is ember.default_generator and ember.initial_seed() == 3
    s = ember.seed()
    assert isinstance(s, int) and ember.initial_seed() == s
    for clone in (pickle.loads(pickle.dumps(g)), copy.deepcopy(g), g.clone_state()):
        assert np.array_equal(_np(ember.rand(4, generator=g.clone_state())), _np(ember.rand(4, generator=clone)))
    with pytest.raises(RuntimeError, match="does not use offset"):
        g.get_offset()


@pytest.mark.parametrize("call, exc", [
    (lambda T: T.Generator().manual_seed(1.5), RuntimeError),
    (lambda T: T.manual_seed(2 ** 64), ValueError),
    (lambda T: T.Generator("meta"), RuntimeError),
    (lambda T: T.set_rng_state(T.zeros(10, dtype=T.uint8)), RuntimeError),
    (lambda T: T.set_rng_state(T.zeros(5056)), TypeError),
    (lambda T: T.set_rng_state([1, 2]), TypeError),
    (lambda T: T.Generator().set_state(T.zeros(5056, dtype=T.uint8)), RuntimeError),
    (lambda T: T.rand(3, dtype=T.int64), NotImplementedError),
    (lambda T: T.randn(3, dtype=T.bool), NotImplementedError),
    (lambda T: T.rand(3, generator=5), TypeError),
    (lambda T: T.rand(-1), RuntimeError),
    (lambda T: T.empty(3).uniform_(1, 0), RuntimeError),
    (lambda T: T.empty(3).uniform_(-3e38, 3e38), RuntimeError),
    (lambda T: T.empty(3, dtype=T.half).uniform_(0, 1e6), RuntimeError),
    (lambda T: T.empty(3).normal_(0, -1), RuntimeError),
    (lambda T: T.empty(3, dtype=T.long).normal_(), NotImplementedError),
    (lambda T: T.empty(3).exponential_(0), RuntimeError),
    (lambda T: T.empty(3, dtype=T.long).exponential_(), RuntimeError),
    (lambda T: T.empty(3).geometric_(1.5), RuntimeError),
    (lambda T: T.empty(3, dtype=T.bool).geometric_(0.5), NotImplementedError),
    (lambda T: T.empty(3).log_normal_(0, 0), RuntimeError),
    (lambda T: T.empty(3).cauchy_(0, -1), RuntimeError),
    (lambda T: T.empty(3).bernoulli_(1.5), RuntimeError),
    (lambda T: T.empty(3).bernoulli_(T.full((2,), 0.5)), RuntimeError),
    (lambda T: T.bernoulli(T.tensor([1, 0])), NotImplementedError),
    (lambda T: T.empty(3, dtype=T.complex64).bernoulli_(0.5), NotImplementedError),
    (lambda T: T.zeros(3).expand(2, 3).uniform_(), RuntimeError),
    (lambda T: T.empty(3, dtype=T.long).random_(5, 5), RuntimeError),
    (lambda T: T.empty(3, dtype=T.uint8).random_(0, 300), RuntimeError),
    (lambda T: T.empty(3, dtype=T.int32).random_(-2 ** 63, None), RuntimeError),
    (lambda T: T.empty(3).random_(1.5), TypeError),
    (lambda T: T.empty(3, dtype=T.complex64).random_(), NotImplementedError),
    (lambda T: T.randint(5), TypeError),
    (lambda T: T.randint(5, 3), TypeError),
    (lambda T: T.randint(0, 5, (3,), requires_grad=True), RuntimeError),
    (lambda T: T.randperm(300, dtype=T.uint8), RuntimeError),
    (lambda T: T.randperm(5, dtype=T.bool), NotImplementedError),
    (lambda T: T.randperm(3000, dtype=T.float16), RuntimeError),
    (lambda T: T.normal(T.zeros(3), -T.ones(3)), RuntimeError),
    (lambda T: T.normal(T.zeros(2, 3), T.ones(4)), RuntimeError),
    (lambda T: T.multinomial(T.ones(3), 4), RuntimeError),
    (lambda T: T.multinomial(T.tensor([1., -1, 0]), 2, True), RuntimeError),
    (lambda T: T.multinomial(T.tensor([0., 0, 0]), 2), RuntimeError),
    (lambda T: T.multinomial(T.ones(2, 2, 2), 2), RuntimeError),
    (lambda T: T.multinomial(T.ones(3, dtype=T.long), 2), RuntimeError),
    (lambda T: T.poisson(T.tensor([-1.])), RuntimeError),
])
def test_errors_match_torch(call, exc):
    msgs = []
    for T in (torch, ember):
        with pytest.raises(exc) as info:
            call(T)
        msgs.append(str(info.value).split("\n")[0])
    if not msgs[0].startswith(("rand() received", "randint() received")):
        assert msgs[0] == msgs[1]


def test_random_float_range_warning():
    for T in (torch, ember):
        with pytest.warns(UserWarning, match="to - 1 is out of bounds"):
            T.empty(3).random_(0, 2 ** 25)


# ---------------------------------------------------------------- autograd and in-place rules
@pytest.mark.parametrize("method, args, node", [
    ("uniform_", (), "UniformBackward0"), ("normal_", (), "NormalBackward0"), ("random_", (), "RandomBackward2"),
    ("random_", (5,), "RandomBackward1"), ("random_", (1, 5), "RandomBackward0"),
    ("exponential_", (), "ExponentialBackward0"), ("geometric_", (0.5,), "GeometricBackward0"),
    ("log_normal_", (), "LogNormalBackward0"), ("cauchy_", (), "CauchyBackward0"),
    ("bernoulli_", (0.5,), "BernoulliBackward2"), ("bernoulli_", ("p",), "BernoulliBackward1")])
def test_inplace_autograd(method, args, node):
    for T in (torch, ember):
        x = T.zeros(3, dtype=T.float64, requires_grad=True)
        y = x * 2
        a = tuple(T.full((3,), 0.5) if v == "p" else v for v in args)
        v0 = y._version
        assert getattr(y, method)(*a) is y
        assert y._version == v0 + 1
        assert node in repr(y.grad_fn) or getattr(y.grad_fn, "name", lambda: None)() == node
        y.sum().backward()
        assert np.array_equal(_np(x.grad), np.zeros(3))
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            getattr(x, method)(*a)
        with pytest.raises(RuntimeError, match="view of a leaf Variable"):
            getattr(x[:2], method)(*a[:1] if a and not isinstance(a[0], (int, float)) else a)
        with T.no_grad():
            x.uniform_()


def test_sampler_gradients_are_zero():
    for T in (torch, ember):
        p = T.full((3,), 0.5, requires_grad=True)
        T.bernoulli(p).sum().backward()
        assert np.array_equal(_np(p.grad), np.zeros(3))
        m, s = T.zeros(3, requires_grad=True), T.ones(3, requires_grad=True)
        T.normal(m, s).sum().backward()
        T.normal(m, 2.0).sum().backward()
        T.normal(0.0, s).sum().backward()
        assert np.array_equal(_np(m.grad), np.zeros(3)) and np.array_equal(_np(s.grad), np.zeros(3))
        lam = T.full((3,), 2.0, requires_grad=True)
        T.poisson(lam).sum().backward()
        assert np.array_equal(_np(lam.grad), np.zeros(3))
        r = T.rand(2, 3, requires_grad=True)
        assert r.requires_grad and r.is_leaf


def test_view_writes_through_and_out():
    ember.manual_seed(0)
    torch.manual_seed(0)
    eb, tb = ember.zeros(4, 4), torch.zeros(4, 4)
    eb[1:3, 1:3].uniform_()
    tb[1:3, 1:3].uniform_()
    assert np.array_equal(_np(eb), tb.numpy())
    o = ember.empty(0, dtype=ember.int64)
    assert ember.randperm(6, out=o) is o and tuple(o.shape) == (6,)
    o = ember.empty(2)
    assert ember.rand(5, out=o) is o and tuple(o.shape) == (5,)
    with pytest.raises(RuntimeError, match="does not match dtype of out"):
        ember.rand(3, out=ember.empty(3, dtype=ember.float64), dtype=ember.float32)


def test_meta_device_draws_nothing():
    ember.manual_seed(0)
    s = ember.get_rng_state()
    m = ember.empty(3, device="meta")
    assert m.uniform_() is m
    assert ember.rand(3, device="meta").device.type == "meta"
    assert tuple(ember.randn(2, 5, device="meta").shape) == (2, 5)
    assert np.array_equal(_np(s), _np(ember.get_rng_state()))


def test_no_torch_import():
    import sys
    import subprocess
    code = "import sys, ember; ember.randn(20); ember.Generator(); assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=__file__.rsplit("/tests/", 1)[0])
