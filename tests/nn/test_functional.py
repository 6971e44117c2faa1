"""ember.nn.functional against torch: embeddings, padding, resampling, grid sampling, shuffles, distances,
attention, losses and CTC. Values, dtypes, shapes, errors, warnings and float64 gradients.

Each case is an expression evaluated twice, with ``torch``/``F`` bound to PyTorch and to ember, on the same
data; results (or the exception type and message) must agree. ``check_grad`` compares the gradients of a
float64 program (and, with ``double=True``, its second derivatives).
"""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


# ---------------------------------------------------------------- the differential harness (shared by tests/nn)
def _mods(mod):
    return {"torch": mod, "F": mod.nn.functional, "np": np}


def _conv(r, mod):
    if isinstance(r, mod.Tensor):
        d = r.detach()
        return ("T", str(d.dtype), tuple(d.shape), d.numpy().copy())
    if isinstance(r, (tuple, list)):
        return (type(r).__name__ if type(r) in (tuple, list) else "tuple", [_conv(x, mod) for x in r])
    if isinstance(r, mod.Size):
        return ("S", tuple(r))
    return ("V", r)


def _same(a, b, atol, rtol):
    if a[0] != b[0]:
        return False
    if a[0] == "T":
        if a[1:3] != b[1:3]:
            return False
        x, y = a[3], b[3]
        if x.dtype.kind in "fc":
            return np.allclose(x, y, atol=atol, rtol=rtol, equal_nan=True)
        return np.array_equal(x, y)
    if a[0] in ("tuple", "list"):
        return len(a[1]) == len(b[1]) and all(_same(p, q, atol, rtol) for p, q in zip(a[1], b[1]))
    return a == b


def _eval(mod, expr, setup, env, seed):
    g = _mods(mod)
    g.update(env or {})
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            exec(setup, g)
            if seed is not None:
                mod.manual_seed(seed)
            if expr.startswith("!"):
                exec(expr[1:], g)
                r = g.get("out")
            else:
                r = eval(expr, g)
            res = ("ok", _conv(r, mod))
        except Exception as e:  # noqa: BLE001 - the exception itself is compared
            res = ("err", type(e).__name__, str(e).split("\n")[0])
    return res, [(x.category.__name__, str(x.message)) for x in w]


def check(expr, setup="", env=None, atol=1e-6, rtol=1e-5, msg=True, seed=None, warn=True):
    """Evaluate ``expr`` under torch and ember; results (or the error's type and message) must match, and so must
    the warnings raised."""
    t, tw = _eval(torch, expr, setup, env, seed)
    e, ew = _eval(ember, expr, setup, env, seed)
    if t[0] == "err" or e[0] == "err":
        assert t[0] == e[0], f"{expr}: torch {t} vs ember {e}"
        assert t[1] == e[1], f"{expr}: torch raised {t[1:]} but ember {e[1:]}"
        if msg:
            assert t[2] == e[2], f"{expr}: message differs:\n torch: {t[2]}\n ember: {e[2]}"
        return
    assert _same(t[1], e[1], atol, rtol), f"{expr}:\n torch {t[1]}\n ember {e[1]}"
    if warn:
        tw = [(c, m.split(" (Triggered internally")[0]) for c, m in tw]
        assert tw == ew, f"{expr}: warnings differ:\n torch: {tw}\n ember: {ew}"


def _leaves(mod, inputs):
    g = _mods(mod)
    for k, v in inputs.items():
        if isinstance(v, np.ndarray):
            g[k] = mod.tensor(v, requires_grad=v.dtype.kind == "f")
        else:
            g[k] = v
    return g


def check_grad(expr, inputs, setup="", atol=1e-7, double=False, seed=None):
    """``expr`` is a program of the leaves in ``inputs`` (name -> NumPy array; float arrays require grad).
    Compares .grad after backward with a fixed cotangent; with ``double`` also the gradients of
    <grads, v> (create_graph=True), i.e. second derivatives."""
    res = []
    for mod in (torch, ember):
        g = _leaves(mod, inputs)
        exec(setup, g)
        if seed is not None:
            mod.manual_seed(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = eval(expr, g)
        if isinstance(out, (tuple, list)):
            out = sum((o * (i + 1)).sum() for i, o in enumerate(out) if o.dtype.is_floating_point)
        up = mod.tensor(np.cos(np.arange(out.numel(), dtype=np.float64)).reshape(tuple(out.shape)) + 0.5,
                        dtype=out.dtype)
        names = [k for k, v in inputs.items() if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
        leaves = [g[k] for k in names]
        grads = mod.autograd.grad(out, leaves, up, create_graph=double, allow_unused=True)
        r = {k: (None if gr is None else gr.detach().numpy().copy()) for k, gr in zip(names, grads)}
        if double:
            for k in names:
                r["d2_" + k] = None
            used = [gr for gr in grads if gr is not None and gr.requires_grad]
            if used:
                s = sum((gr * mod.tensor(np.sin(np.arange(gr.numel(), dtype=np.float64)).reshape(tuple(gr.shape)),
                                         dtype=gr.dtype)).sum() for gr in used)
                g2 = mod.autograd.grad(s, leaves, allow_unused=True)
                for k, gr in zip(names, g2):
                    r["d2_" + k] = None if gr is None else gr.detach().numpy().copy()
        res.append(r)
    t, e = res
    assert set(t) == set(e), f"{expr}: gradients present: torch {sorted(t)} ember {sorted(e)}"
    for k in t:
        a, b = t[k], e[k]
        if a is None or b is None:
            # an unused input: torch may give None where ember gives zeros (or the reverse)
            z = a if b is None else b
            assert z is None or not np.any(z), f"{expr}: grad of {k}: torch {a} ember {b}"
            continue
        assert a.shape == b.shape and np.allclose(a, b, atol=atol, rtol=1e-6, equal_nan=True), \
            f"{expr}: grad {k}:\n torch {a}\n ember {b}"


def R(*shape, seed=0, lo=None, hi=None):
    r = np.random.RandomState(seed)
    if lo is not None:
        return r.uniform(lo, hi, size=shape)
    return r.randn(*shape)


# ---------------------------------------------------------------- embedding / one_hot
SETUP = """
L = torch.tensor
w = torch.arange(15.).reshape(5, 3)
idx = L([[1, 2], [4, 0]])
x3 = torch.arange(10.).reshape(1, 2, 5)
x4 = torch.arange(50.).reshape(1, 2, 5, 5) / 7
x5 = torch.arange(2 * 3 * 4 * 5.).reshape(1, 2, 3, 4, 5) / 11
"""


def C(expr, **kw):
    check(expr, SETUP, **kw)


EMBEDDING = [
    "F.embedding(idx, w)", "F.embedding(L([1, 1]), w)", "F.embedding(L(3), w)", "F.embedding(idx.int(), w)",
    "F.embedding(L([], dtype=torch.long), w)", "F.embedding(idx, w, padding_idx=2)",
    "F.embedding(idx, w, padding_idx=-1)", "F.embedding(idx.float(), w)", "F.embedding(L([5]), w)",
    "F.embedding(L([-1]), w)", "F.embedding(idx, w, padding_idx=5)", "F.embedding(idx, w, padding_idx=-6)",
    "F.embedding(idx, w[0])", "F.embedding(idx, w.double())", "F.embedding(idx, w.t().contiguous().t())",
    "!ww = w.clone(); F.embedding(L([1, 2]), ww, max_norm=5.); out = ww",
    "!ww = w.clone(); F.embedding(L([1, 4, 4]), ww, max_norm=3., norm_type=1.); out = ww",
    "F.embedding(L([1, 4]), w.clone(), max_norm=5.)",
    "F.one_hot(L([0, 2, 1]))", "F.one_hot(L([0, 2, 1]), 5)", "F.one_hot(L([[0], [3]]), 4)", "F.one_hot(L(2), 3)",
    "F.one_hot(L([], dtype=torch.long), 3)", "F.one_hot(L([], dtype=torch.long))", "F.one_hot(L([1.]))",
    "F.one_hot(L([1], dtype=torch.int32))", "F.one_hot(L([3]), 3)", "F.one_hot(L([-1]), 3)",
    "F.one_hot(L([0]), 0)", "F.one_hot(L([0]), -2)",
]


@pytest.mark.parametrize("expr", EMBEDDING)
def test_embedding(expr):
    C(expr)


EMBEDDING_BAG = [
    "F.embedding_bag(L([1, 2, 3, 0]), w, L([0, 2]))",
    "F.embedding_bag(L([1, 2, 3, 0]), w, L([0, 2]), mode='sum')",
    "F.embedding_bag(L([1, 2, 3, 0]), w, L([0, 2]), mode='max')",
    "F.embedding_bag(L([[1, 2], [3, 3]]), w)", "F.embedding_bag(L([[1, 2], [3, 3]]), w, mode='max')",
    "F.embedding_bag(L([1, 2, 3, 0]), w, L([0, 2, 2, 4]), mode='max')",
    "F.embedding_bag(L([1, 2, 3, 0]), w, L([0, 2, 2, 4]), mode='mean')",
    "F.embedding_bag(L([1, 2, 3, 0]), w, L([0, 2, 4]), include_last_offset=True)",
    "F.embedding_bag(L([1, 2, 3, 0]), w, L([0, 2]), mode='sum', per_sample_weights=L([1., 2., 3., 4.]))",
    "F.embedding_bag(L([1, 2, 3, 0]), w, L([0, 2]), padding_idx=2)",
    "F.embedding_bag(L([1, 2, 2, 2]), w, L([0, 2]), padding_idx=2, mode='max')",
    "F.embedding_bag(L([[1, 2], [3, 0]]), w, L([0, 2]))", "F.embedding_bag(L([1, 2, 3, 0]), w)",
    "F.embedding_bag(L([1, 2, 3, 0]), w, L([0, 2]), per_sample_weights=torch.ones(4))",
    "F.embedding_bag(L([1, 2, 3, 0]), w, L([0, 2]), mode='foo')", "F.embedding_bag(torch.ones(1, 2, 2).long(), w)",
    "F.embedding_bag(L([1, 2, 3, 0]), w, L([1, 2]))", "F.embedding_bag(L([1, 2, 3, 0]), w, L([0, 5]))",
    "F.embedding_bag(L([1, 2, 3, 0]), w, L([0, 2]), mode='sum', per_sample_weights=torch.ones(3))",
]


@pytest.mark.parametrize("expr", EMBEDDING_BAG)
def test_embedding_bag(expr):
    C(expr)


def test_embedding_grads():
    w = R(6, 3)
    for pi in (None, 1, -1):
        check_grad(f"F.embedding(torch.tensor([[1, 2, 1], [5, 0, 1]]), w, padding_idx={pi})", {"w": w})
    check_grad("F.embedding(torch.tensor([1, 2, 1, 1]), w, scale_grad_by_freq=True, padding_idx=2)", {"w": w})
    check_grad("F.embedding(torch.tensor([1, 2, 1, 1]), w * w, scale_grad_by_freq=True)", {"w": w}, double=True)
    for mode in ("sum", "mean", "max"):
        check_grad(f"F.embedding_bag(torch.tensor([1, 2, 3, 1, 5]), w, torch.tensor([0, 2, 2]), mode='{mode}')",
                   {"w": w})
        check_grad(f"F.embedding_bag(torch.tensor([[1, 2], [1, 1]]), w, mode='{mode}', padding_idx=2)", {"w": w})
    check_grad("F.embedding_bag(torch.tensor([1, 2, 3, 1]), w, torch.tensor([0, 2]), mode='sum', "
               "per_sample_weights=p)", {"w": w, "p": R(4, seed=3)})


# ---------------------------------------------------------------- pad
PAD = [
    "F.pad(x3, (1, 2))", "F.pad(x3, (1, 2), value=-1.5)", "F.pad(x3, (1, 1, 0, 1, 1, 0))", "F.pad(x3, (-1, 2))",
    "F.pad(x3, (-3, -3))", "F.pad(x3, (-2, -3))", "F.pad(x3, (1,))", "F.pad(x3, (1, 1, 1, 1, 1, 1, 1, 1))",
    "F.pad(x3.long(), (1, 1), value=1.5)", "F.pad(x3 > 3, (1, 1))", "F.pad(torch.tensor(1.), ())",
    "F.pad(x3, (2, 2), mode='reflect')", "F.pad(x3, (4, 4), mode='reflect')", "F.pad(x3, (5, 5), mode='reflect')",
    "F.pad(x3, (-1, 2), mode='reflect')", "F.pad(x3, (3, 0), mode='replicate')", "F.pad(x3, (-1, 2), mode='replicate')",
    "F.pad(x3, (9, 0), mode='replicate')", "F.pad(x3, (2, 5), mode='circular')", "F.pad(x3, (-1, 2), mode='circular')",
    "F.pad(x3, (6, 2), mode='circular')", "F.pad(x3[0], (1, 1), mode='reflect')", "F.pad(x3[0, 0], (1, 1), mode='reflect')",
    "F.pad(x4, (1, 1), mode='reflect')", "F.pad(x3, (1, 1, 1, 1), mode='reflect')", "F.pad(x4, (1, 2, 3, 1), mode='reflect')",
    "F.pad(x4, (1, 2, 3, 1), mode='replicate')", "F.pad(x4, (1, 2, 3, 1), mode='circular')",
    "F.pad(x5, (1, 2, 1, 0, 2, 1), mode='reflect')", "F.pad(x5, (1, 2, 1, 0, 2, 1), mode='replicate')",
    "F.pad(x5, (1, 2, 1, 0, 2, 1), mode='circular')", "F.pad(x4[0], (1, 2, 1, 0, 2, 1), mode='replicate')",
    "F.pad(x3, (1, 1), mode='foo')", "F.pad(x3, (1, 1), mode='reflect', value=1.)",
    "F.pad(torch.zeros(1, 0, 3), (1, 1), mode='reflect')", "F.pad(torch.zeros(1, 2, 0), (1, 1), mode='replicate')",
    "F.pad(torch.arange(5).view(1, 1, 5), (2, 1), mode='reflect')", "F.pad(x3.transpose(1, 2), (1, 2), mode='reflect')",
]


@pytest.mark.parametrize("expr", PAD)
def test_pad(expr):
    C(expr)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_grad(mode):
    x = R(2, 3, 4, 5)
    check_grad(f"F.pad(x, (2, 1, -1, 3), mode='{mode}')", {"x": x}, double=True)
    check_grad(f"F.pad(x[0], (3, 2), mode='{mode}')", {"x": x})


# ---------------------------------------------------------------- interpolate
INTERP = [
    "F.interpolate(x3, size=7)", "F.interpolate(x3, size=3)", "F.interpolate(x3, scale_factor=2)",
    "F.interpolate(x3, scale_factor=1.7)", "F.interpolate(x3, scale_factor=0.6)", "F.interpolate(x3, size=13)",
    "F.interpolate(x3, size=7, mode='nearest-exact')", "F.interpolate(x3, scale_factor=2.5, mode='nearest-exact')",
    "F.interpolate(x3, size=7, mode='linear')", "F.interpolate(x3, size=3, mode='linear', align_corners=True)",
    "F.interpolate(x3, size=1, mode='linear', align_corners=True)", "F.interpolate(x3, scale_factor=1.5, mode='linear')",
    "F.interpolate(x3, scale_factor=1.5, mode='linear', recompute_scale_factor=True)",
    "F.interpolate(x3, size=4, mode='area')", "F.interpolate(x3, scale_factor=0.5, mode='area')",
    "F.interpolate(x4, size=(3, 8), mode='bilinear')", "F.interpolate(x4, size=(7, 4), mode='bilinear', align_corners=True)",
    "F.interpolate(x4, scale_factor=(1.3, 0.7), mode='bilinear')", "F.interpolate(x4, size=(9, 3), mode='bicubic')",
    "F.interpolate(x4, size=(9, 3), mode='bicubic', align_corners=True)", "F.interpolate(x4, scale_factor=2, mode='bicubic')",
    "F.interpolate(x4, size=(3, 2), mode='bilinear', antialias=True)", "F.interpolate(x4, size=(3, 8), mode='bicubic', antialias=True)",
    "F.interpolate(x4, size=(2, 3), mode='bicubic', antialias=True, align_corners=True)",
    "F.interpolate(x4, size=(3, 4), mode='lanczos', antialias=True)", "F.interpolate(x4, size=(3, 4), mode='lanczos')",
    "F.interpolate(x4, size=(3, 4), mode='lanczos', antialias=True, align_corners=True)",
    "F.interpolate(x4, size=(3, 7), mode='area')", "F.interpolate(x4, size=(6, 11))", "F.interpolate(x4, size=(10, 10))",
    "F.interpolate(x5, size=(2, 5, 7), mode='trilinear')", "F.interpolate(x5, scale_factor=1.5, mode='trilinear', align_corners=True)",
    "F.interpolate(x5, size=(5, 2, 3))", "F.interpolate(x5, size=(2, 3, 3), mode='area')",
    "F.interpolate(x3, scale_factor=2, mode='bilinear')", "F.interpolate(x4, scale_factor=2, mode='linear')",
    "F.interpolate(x4, scale_factor=2, mode='trilinear')", "F.interpolate(x5, size=3, mode='bicubic')",
    "F.interpolate(x4, scale_factor=2, align_corners=True)", "F.interpolate(x4, size=3, scale_factor=2)",
    "F.interpolate(x4)", "F.interpolate(x4, size=3, mode='foo')", "F.interpolate(x4, size=(3, 3, 3))",
    "F.interpolate(x4, scale_factor=(2, 2, 2))", "F.interpolate(torch.randn(3, 4), size=3)",
    "F.interpolate(x3.long(), size=3)", "F.interpolate(x3.long(), size=3, mode='linear')",
    "F.interpolate(x4, size=3, recompute_scale_factor=True)", "F.interpolate(x4, size=3, mode='nearest', antialias=True)",
    "F.interpolate(x4, size=0)", "F.interpolate(x4, scale_factor=0.1)", "F.interpolate(x4, scale_factor=-1)",
    "F.interpolate(x4.double(), size=(3, 8), mode='bilinear')", "F.interpolate(x4.transpose(2, 3), size=(3, 8), mode='bicubic')",
    "F.upsample(x4, scale_factor=2)", "F.upsample_nearest(x4, scale_factor=2)", "F.upsample_bilinear(x4, size=(3, 7))",
]


@pytest.mark.parametrize("expr", INTERP)
def test_interpolate(expr):
    C(expr, atol=2e-5)


@pytest.mark.parametrize("kw", ["size=(4, 7)", "size=(7, 11), mode='nearest-exact'", "size=(3, 9), mode='bilinear'",
                                "scale_factor=1.6, mode='bilinear', align_corners=True",
                                "size=(5, 3), mode='bicubic'", "size=(3, 2), mode='bilinear', antialias=True",
                                "size=(2, 3), mode='bicubic', antialias=True", "size=(3, 4), mode='area'"])
def test_interpolate_grad(kw):
    check_grad(f"F.interpolate(x, {kw})", {"x": R(2, 2, 5, 6)}, double=True)


def test_interpolate_grad_1d_3d():
    check_grad("F.interpolate(x, size=9, mode='linear')", {"x": R(2, 3, 5)})
    check_grad("F.interpolate(x, size=(3, 5, 2), mode='trilinear')", {"x": R(1, 2, 4, 3, 5)})


# ---------------------------------------------------------------- grid_sample / affine_grid
GRID = [
    "F.grid_sample(x4, g)", "F.grid_sample(x4, g, align_corners=True)", "F.grid_sample(x4, g, align_corners=False)",
    "F.grid_sample(x4, g, mode='nearest', align_corners=False)", "F.grid_sample(x4, g * 1.5, mode='bicubic', align_corners=False)",
    "F.grid_sample(x4, g * 1.7, padding_mode='border', align_corners=False)",
    "F.grid_sample(x4, g * 2.7, padding_mode='reflection', align_corners=False)",
    "F.grid_sample(x4, g * 2.7, padding_mode='reflection', align_corners=True)",
    "F.grid_sample(x4, g * 2.7, mode='bicubic', padding_mode='reflection', align_corners=True)",
    "F.grid_sample(x4, g * 2.7, mode='bicubic', padding_mode='border', align_corners=False)",
    "F.grid_sample(x4, g * 2.7, mode='nearest', padding_mode='reflection', align_corners=False)",
    "F.grid_sample(x5, g3, align_corners=False)", "F.grid_sample(x5, g3 * 1.5, mode='nearest', align_corners=True)",
    "F.grid_sample(x5, g3 * 1.5, padding_mode='border', align_corners=True)",
    "F.grid_sample(x5, g3, mode='bicubic', align_corners=False)", "F.grid_sample(x4, g, mode='foo', align_corners=False)",
    "F.grid_sample(x4, g, padding_mode='foo', align_corners=False)", "F.grid_sample(x4, g3, align_corners=False)",
    "F.grid_sample(x4, torch.zeros(1, 3, 3, 3), align_corners=False)", "F.grid_sample(x4.long(), g, align_corners=False)",
    "F.grid_sample(x4, g.double(), align_corners=False)", "F.grid_sample(x4.expand(2, 2, 5, 5), g, align_corners=False)",
    "F.affine_grid(th, (2, 3, 4, 5))", "F.affine_grid(th, (2, 3, 4, 5), align_corners=False)",
    "F.affine_grid(th, (2, 3, 4, 5), align_corners=True)", "F.affine_grid(th3, (2, 3, 4, 5, 2), align_corners=False)",
    "F.affine_grid(th3, (2, 3, 4, 5), align_corners=False)", "F.affine_grid(th.long(), (2, 3, 4, 5), align_corners=False)",
    "F.affine_grid(th, (2, 3, 1, 5), align_corners=True)", "F.affine_grid(th, (2, 3, 0, 5), align_corners=False)",
    "F.affine_grid(th, (2, 3, 4), align_corners=False)",
]
GSETUP = SETUP + """
g = torch.tensor(np.linspace(-1.2, 1.2, 24).reshape(1, 3, 4, 2))
g = g.float() * torch.tensor([1., -0.8])
g3 = torch.tensor(np.linspace(-1.1, 1.1, 36).reshape(1, 2, 3, 2, 3)).float()
th = torch.tensor([[[1., 0.2, 0.1], [-0.3, 0.9, 0.2]], [[0.5, 0, 0], [0, 2., -0.5]]])
th3 = torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(0)) if hasattr(torch, 'Generator') else None
th3 = torch.tensor(np.random.RandomState(0).randn(2, 3, 4)).float()
"""


@pytest.mark.parametrize("expr", GRID)
def test_grid(expr):
    check(expr, GSETUP, atol=2e-5)


@pytest.mark.parametrize("mode,pm,ac", [("bilinear", "zeros", False), ("bilinear", "border", True),
                                        ("bilinear", "reflection", False), ("bicubic", "zeros", True),
                                        ("bicubic", "reflection", False), ("nearest", "zeros", False)])
def test_grid_sample_grad(mode, pm, ac):
    x = R(2, 3, 4, 5)
    g = R(2, 3, 2, 2, seed=1) * 0.8
    check_grad(f"F.grid_sample(x, g * 1.3, mode='{mode}', padding_mode='{pm}', align_corners={ac})",
               {"x": x, "g": g}, atol=1e-6)


def test_grid_sample_3d_grad_and_affine():
    check_grad("F.grid_sample(x, g, align_corners=False, padding_mode='reflection')",
               {"x": R(1, 2, 3, 4, 3), "g": R(1, 2, 2, 3, 3, seed=2)}, atol=1e-6)
    check_grad("F.grid_sample(x, F.affine_grid(th, (2, 3, 4, 3), align_corners=False), align_corners=False)",
               {"x": R(2, 3, 5, 4), "th": R(2, 2, 3, seed=4) * 0.5})


def test_grid_sample_double_backward_raises():
    x = ember.randn(1, 1, 3, 3, dtype=ember.float64, requires_grad=True)
    g = ember.rand(1, 2, 2, 2, dtype=ember.float64)
    y = ember.nn.functional.grid_sample(x, g, align_corners=False)
    (gx,) = ember.autograd.grad(y.sum() * 1.0, x, create_graph=True)
    with pytest.raises(RuntimeError, match="not implemented"):
        gx.sum().backward()


# ---------------------------------------------------------------- shuffles, unfold/fold
SHUFFLE = [
    "F.pixel_shuffle(torch.arange(72.).view(2, 4, 3, 3), 2)", "F.pixel_shuffle(torch.arange(72.).view(1, 2, 4, 3, 3), 2)",
    "F.pixel_shuffle(torch.arange(36.).view(4, 3, 3), 2)", "F.pixel_shuffle(torch.randn(1, 8, 2, 2), 3)",
    "F.pixel_shuffle(torch.randn(8, 2), 2)", "F.pixel_shuffle(torch.randn(1, 4, 2, 2), 0)",
    "F.pixel_unshuffle(torch.arange(72.).view(2, 2, 6, 3), 3)", "F.pixel_unshuffle(torch.randn(1, 2, 5, 4), 2)",
    "F.pixel_unshuffle(torch.randn(1, 2, 4, 5), 2)", "F.pixel_unshuffle(torch.randn(1, 4, 2, 2), 0)",
    "F.channel_shuffle(torch.arange(48.).view(1, 6, 2, 4), 3)", "F.channel_shuffle(torch.arange(48.).view(2, 6, 4), 2)",
    "F.channel_shuffle(torch.randn(1, 8, 2, 2), 3)", "F.channel_shuffle(torch.randn(2, 8), 2)",
    "F.channel_shuffle(torch.randn(1, 4, 2, 2), 0)", "F.native_channel_shuffle(torch.arange(24.).view(1, 6, 4), 2)",
]


@pytest.mark.parametrize("expr", SHUFFLE)
def test_shuffles(expr):
    C(expr)


def test_shuffle_grads():
    check_grad("F.pixel_shuffle(x, 2) * torch.arange(32.).double().view(1, 2, 4, 4)", {"x": R(1, 8, 2, 2)})
    check_grad("F.pixel_unshuffle(x, 2)", {"x": R(1, 2, 4, 6)})
    check_grad("F.channel_shuffle(x, 3)", {"x": R(2, 6, 3)})


# ---------------------------------------------------------------- distances, normalize, attention
DIST = [
    "F.normalize(x4)", "F.normalize(x4, p=1, dim=-1)", "F.normalize(torch.zeros(2, 3))", "F.normalize(x4, p=float('inf'))",
    "F.cosine_similarity(a, b)", "F.cosine_similarity(a, b[0])", "F.cosine_similarity(a, b, dim=0)",
    "F.cosine_similarity(a, torch.zeros(3, 4))", "F.cosine_similarity(a, b[:, :2])", "F.cosine_similarity(a.long(), b)",
    "F.pairwise_distance(a, b)", "F.pairwise_distance(a, b, p=1, keepdim=True)", "F.pairwise_distance(a[0], b[0])",
    "F.pairwise_distance(a, b, p=float('inf'))", "F.pairwise_distance(a, b, p=0.5, eps=0.)",
    "F.pdist(a)", "F.pdist(a, 1)", "F.pdist(a, 0)", "F.pdist(a, float('inf'))", "F.pdist(a, 3.5)",
    "F.pdist(a.view(3, 2, 2))", "F.pdist(a, -1)", "F.pdist(a[:1])", "F.pdist(a[:0])",
    "torch.cosine_similarity(a, b)", "torch.pairwise_distance(a, b)", "torch.pdist(a)",
]
DSETUP = SETUP + """
a = torch.tensor(np.random.RandomState(0).randn(3, 4)).float()
b = torch.tensor(np.random.RandomState(1).randn(3, 4)).float()
"""


@pytest.mark.parametrize("expr", DIST)
def test_distances(expr):
    check(expr, DSETUP)


def test_distance_grads():
    a, b = R(4, 3), R(4, 3, seed=1)
    check_grad("F.normalize(a, dim=0)", {"a": a}, double=True)
    check_grad("F.cosine_similarity(a, b)", {"a": a, "b": b}, double=True)
    check_grad("F.cosine_similarity(a, b[:1], dim=-1)", {"a": a, "b": b})
    check_grad("F.pairwise_distance(a, b, p=3)", {"a": a, "b": b})
    check_grad("F.pdist(a)", {"a": a})
    check_grad("F.pdist(a, 1.5)", {"a": a})
    check_grad("F.pdist(torch.cat([a, a[:1]]))", {"a": a})


SDPA = [
    "F.scaled_dot_product_attention(q, k, v)", "F.scaled_dot_product_attention(q, k, v, is_causal=True)",
    "F.scaled_dot_product_attention(q, k, v, scale=0.3)", "F.scaled_dot_product_attention(q, k, v, attn_mask=mb)",
    "F.scaled_dot_product_attention(q, k, v, attn_mask=mf)", "F.scaled_dot_product_attention(q, k, v, attn_mask=mb & False)",
    "F.scaled_dot_product_attention(q, k, v, attn_mask=mb, is_causal=True)",
    "F.scaled_dot_product_attention(q4, k4, v4, enable_gqa=True)", "F.scaled_dot_product_attention(q4, k4, v4)",
    "F.scaled_dot_product_attention(q.long(), k.long(), v.long())",
    "F.scaled_dot_product_attention(q, k.double(), v)", "F.scaled_dot_product_attention(q[0], k[0], v[0])",
]
SSETUP = """
r = np.random.RandomState(0)
q = torch.tensor(r.randn(2, 3, 4)).float(); k = torch.tensor(r.randn(2, 5, 4)).float(); v = torch.tensor(r.randn(2, 5, 6)).float()
mb = torch.tensor(r.rand(3, 5) > 0.4); mf = torch.tensor(r.randn(3, 5)).float()
q4 = torch.tensor(r.randn(1, 4, 3, 4)).float(); k4 = torch.tensor(r.randn(1, 2, 5, 4)).float(); v4 = torch.tensor(r.randn(1, 2, 5, 6)).float()
"""


@pytest.mark.parametrize("expr", SDPA)
def test_sdpa(expr):
    check(expr, SSETUP, seed=0)


def test_sdpa_dropout_statistics():
    q = ember.randn(1, 64, 8)
    out = ember.nn.functional.scaled_dot_product_attention(q, q, ember.ones(1, 64, 8), dropout_p=0.5)
    # each row is a dropped-out, rescaled convex combination of ones: mean near 1, entries vary
    assert abs(out.mean().item() - 1) < 0.2 and out.std().item() > 0.05


def test_sdpa_grads():
    r = np.random.RandomState(0)
    q, k, v = r.randn(2, 3, 4), r.randn(2, 5, 4), r.randn(2, 5, 3)
    check_grad("F.scaled_dot_product_attention(q, k, v)", {"q": q, "k": k, "v": v}, double=True)
    check_grad("F.scaled_dot_product_attention(q, k, v, attn_mask=torch.tensor(mask))",
               {"q": q, "k": k, "v": v, "mask": r.rand(3, 5) > 0.3})
    check_grad("F.scaled_dot_product_attention(q, k[:, :3], v[:, :3], is_causal=True)", {"q": q, "k": k, "v": v})


def test_gumbel_softmax_matches_torch_rng():
    C("F.gumbel_softmax(x4.view(5, 10), tau=0.5)", seed=3)
    C("F.gumbel_softmax(x4.view(5, 10), hard=True, dim=0)", seed=4)
    C("F.gumbel_softmax(x4.view(5, 10), eps=1e-3)", seed=5)
    check_grad("F.gumbel_softmax(x, tau=2.)", {"x": R(3, 4)}, seed=0)
    check_grad("F.gumbel_softmax(x, hard=True)", {"x": R(3, 4)}, seed=0)


# ---------------------------------------------------------------- losses
LSETUP = """
r = np.random.RandomState(0)
p = torch.tensor(r.uniform(0.05, 0.95, (3, 4))).float()
t = torch.tensor(r.uniform(0, 1, (3, 4))).float()
y = torch.tensor(r.randn(3, 4)).float()
s = torch.tensor([1., -1., 1.])
lbl = torch.tensor([0, 3, 1])
wg = torch.ones(4, requires_grad=True)
tg = t.clone().requires_grad_()
"""
LOSSES = [
    "F.binary_cross_entropy(p, t)", "F.binary_cross_entropy(p, t, reduction='none')", "F.binary_cross_entropy(p, t, reduction='sum')",
    "F.binary_cross_entropy(p, t, torch.tensor([1., 2., 3., 4.]))", "F.binary_cross_entropy(p, t[0])",
    "F.binary_cross_entropy(p * 2, t)", "F.binary_cross_entropy(p, t.long())", "F.binary_cross_entropy(torch.tensor([0., 1.]), torch.tensor([1., 0.]))",
    "F.binary_cross_entropy(p, t, size_average=False)", "F.binary_cross_entropy(p, t, reduce=False)", "F.binary_cross_entropy(p, t, reduction='foo')",
    "F.binary_cross_entropy_with_logits(y, t)", "F.binary_cross_entropy_with_logits(y * 100, t)",
    "F.binary_cross_entropy_with_logits(y, t, pos_weight=torch.tensor([1., 2., 3., .5]))",
    "F.binary_cross_entropy_with_logits(y, t, weight=torch.tensor([1., 2., 3., .5]), reduction='sum')",
    "F.binary_cross_entropy_with_logits(y, t[0])", "F.binary_cross_entropy_with_logits(y * 1e4, t, reduction='none')",
    "F.kl_div(y, t)", "F.kl_div(y, t, reduction='batchmean')", "F.kl_div(y, t, reduction='sum', log_target=True)",
    "F.kl_div(y, t * 0, reduction='none')", "F.kl_div(y, t, reduction='foo')", "F.kl_div(y[0, 0], t[0, 0], reduction='batchmean')",
    "F.poisson_nll_loss(y, t)", "F.poisson_nll_loss(p, t * 3, log_input=False, full=True)", "F.poisson_nll_loss(y, t * 5, full=True, reduction='none')",
    "F.poisson_nll_loss(y, t, reduction='foo')",
    "F.gaussian_nll_loss(y, t, p)", "F.gaussian_nll_loss(y, t, p[:, :1])", "F.gaussian_nll_loss(y, t, p[:, 0])",
    "F.gaussian_nll_loss(y, t, p[:2])", "F.gaussian_nll_loss(y, t, -p)", "F.gaussian_nll_loss(y, t, 0.5, full=True)",
    "F.gaussian_nll_loss(y, t, p * 0, reduction='sum')", "F.gaussian_nll_loss(y, t, p, reduction='foo')",
    "F.smooth_l1_loss(y, t)", "F.smooth_l1_loss(y, t, beta=0.)", "F.smooth_l1_loss(y, t, beta=0.3, reduction='none')",
    "F.smooth_l1_loss(y, t, beta=-1.)", "F.smooth_l1_loss(y, t[0])",
    "F.huber_loss(y, t)", "F.huber_loss(y, t, delta=0.3, reduction='sum')", "F.huber_loss(y, t, delta=0.)",
    "F.huber_loss(y, t, weight=t)",
    "F.soft_margin_loss(y, torch.sign(t - 0.5))", "F.soft_margin_loss(torch.tensor([-1000.]), torch.tensor([1.]))",
    "F.multilabel_soft_margin_loss(y, (t > .5).float())", "F.multilabel_soft_margin_loss(y, (t > .5).float(), torch.tensor([1., 2., 3., 4.]))",
    "F.multilabel_soft_margin_loss(y[0], (t[0] > .5).float())", "F.multilabel_soft_margin_loss(y.view(3, 2, 2), (t > .5).float().view(3, 2, 2), reduction='none')",
    "F.multi_margin_loss(y, lbl)", "F.multi_margin_loss(y, lbl, p=2, margin=0.5)", "F.multi_margin_loss(y, lbl, weight=torch.tensor([1., 2., 3., 4.]))",
    "F.multi_margin_loss(y, lbl, reduction='none')", "F.multi_margin_loss(y[0], lbl[:1])", "F.multi_margin_loss(y, lbl, p=3)",
    "F.multi_margin_loss(y, torch.tensor([0, 4, 1]))", "F.multi_margin_loss(y, lbl, weight=torch.ones(5))", "F.multi_margin_loss(y, lbl, weight=torch.ones(4).double())",
    "F.multilabel_margin_loss(y, torch.tensor([[0, 1, -1, 0], [3, -1, 0, 0], [-1, 0, 0, 0]]))",
    "F.multilabel_margin_loss(y, torch.tensor([[0, 1, 1, -1], [3, 2, 1, 0], [2, -1, 0, 0]]), reduction='none')",
    "F.multilabel_margin_loss(y[0], torch.tensor([0, 1, -1, 0]))",
    "F.multilabel_margin_loss(y, torch.tensor([[0, 1, -1, 0], [4, -1, 0, 0], [-1, 0, 0, 0]]))",
    "F.hinge_embedding_loss(y, torch.sign(t - 0.5))", "F.hinge_embedding_loss(y, t, margin=0.5, reduction='none')",
    "F.cosine_embedding_loss(y, t, s)", "F.cosine_embedding_loss(y, t, s, margin=0.3, reduction='none')",
    "F.cosine_embedding_loss(y[0], t[0], torch.tensor(1.))", "F.cosine_embedding_loss(y, t, s[:2])",
    "F.cosine_embedding_loss(y, t, torch.tensor(1.))",
    "F.margin_ranking_loss(y, t, torch.sign(t - 0.5))", "F.margin_ranking_loss(y, t, torch.ones(3))",
    "F.margin_ranking_loss(y[0], t[0], s[0].expand(4), margin=0.2, reduction='sum')",
    "F.triplet_margin_loss(y, t, p)", "F.triplet_margin_loss(y, t, p, swap=True, p=1, reduction='none')",
    "F.triplet_margin_loss(y, t, p[:2])", "F.triplet_margin_loss(y, t, p, margin=-1)", "F.triplet_margin_loss(y, t[0], p)",
    "F.triplet_margin_with_distance_loss(y, t, p)", "F.triplet_margin_with_distance_loss(y, t, p, swap=True, margin=2.)",
    "F.triplet_margin_with_distance_loss(y, t, p, distance_function=lambda a, b: (a - b).abs().sum(-1))",
    "F.triplet_margin_with_distance_loss(y, t, p, margin=-1)",
    "F.mse_loss(y, t, reduction='foo')", "F.l1_loss(y, t[0])",
    "F.linear_cross_entropy(y, y[:2], lbl % 2)", "F.linear_cross_entropy(y, y[:2], torch.tensor([0, -100, 1]))",
    "F.linear_cross_entropy(y, y[:2], lbl % 2, linear_bias=s[:2], reduction='none', label_smoothing=0.2)",
    "F.linear_cross_entropy(y, y[:2], lbl % 2, ignore_index=1, weight=s[:2].abs())", "F.mse_loss(y, t, weight=t)", "F.mse_loss(y, t, weight=t[0])", "F.l1_loss(y, t, weight=t, reduction='sum')",
    "F.l1_loss(y, t, weight=t)", "F.huber_loss(y, t, weight=t, reduction='none')",
    "F.l1_loss(y, t, weight=t[0])", "F.huber_loss(y, t, weight=t[:1])",
    "F.binary_cross_entropy(p, t, wg)", "F.binary_cross_entropy_with_logits(y, t, wg)",
    "F.binary_cross_entropy_with_logits(y, t, pos_weight=wg)", "F.soft_margin_loss(y, tg)",
    "F.multi_margin_loss(y, lbl, weight=wg)", "F.nll_loss(y, lbl, weight=wg)", "F.binary_cross_entropy(p, tg)",
]


@pytest.mark.parametrize("expr", LOSSES)
def test_losses(expr):
    check(expr, LSETUP)


LOSS_GRADS = [
    ("F.binary_cross_entropy(p, t, torch.tensor(w))", {"p": R(3, 4, lo=0.05, hi=0.95), "t": R(3, 4, seed=1, lo=0, hi=1),
                                                       "w": R(4, seed=2, lo=0.5, hi=2).tolist()}),
    ("F.binary_cross_entropy(torch.tensor([0., 1., 0.5]) * 1 + p * 0, t)", {"p": R(3), "t": R(3, lo=0, hi=1)}),
    ("F.binary_cross_entropy_with_logits(y, t, torch.tensor(w), pos_weight=torch.tensor(pw))",
     {"y": R(3, 4), "t": R(3, 4, seed=1, lo=0, hi=1), "w": R(4, seed=2).tolist(), "pw": R(4, seed=3, lo=0.5, hi=2).tolist()}),
    ("F.binary_cross_entropy_with_logits(y * 50, t, reduction='sum')", {"y": R(3, 4), "t": R(3, 4, lo=0, hi=1)}),
    ("F.kl_div(y, t, reduction='batchmean')", {"y": R(3, 4), "t": R(3, 4, lo=0, hi=1)}),
    ("F.kl_div(y, t, reduction='sum', log_target=True)", {"y": R(3, 4), "t": R(3, 4, seed=1)}),
    ("F.poisson_nll_loss(y, t, full=True)", {"y": R(3, 4), "t": R(3, 4, lo=0, hi=4)}),
    ("F.poisson_nll_loss(y, t, log_input=False)", {"y": R(3, 4, lo=0.1, hi=2), "t": R(3, 4, lo=0, hi=4)}),
    ("F.gaussian_nll_loss(y, t, v)", {"y": R(3, 4), "t": R(3, 4, seed=1), "v": R(3, 4, lo=0, hi=1)}),
    ("F.gaussian_nll_loss(y, t, v * torch.tensor([1., 0., 1.]).double().view(3, 1), full=True)",
     {"y": R(3, 4), "t": R(3, 4, seed=1), "v": R(3, 1, lo=0.5, hi=1)}),
    ("F.smooth_l1_loss(y, t, beta=0.5)", {"y": R(3, 4), "t": R(3, 4, seed=1)}),
    ("F.huber_loss(y, t, delta=0.5, reduction='sum')", {"y": R(3, 4), "t": R(3, 4, seed=1)}),
    ("F.soft_margin_loss(y, torch.tensor(t))", {"y": R(3, 4), "t": np.sign(R(3, 4, seed=1)).tolist()}),
    ("F.multilabel_soft_margin_loss(y, t, w)", {"y": R(3, 4), "t": (R(3, 4, seed=1) > 0) * 1.0, "w": R(4, seed=2)}),
    ("F.multi_margin_loss(y, torch.tensor([0, 3, 1]), p=2, weight=torch.tensor(w).double())", {"y": R(3, 4), "w": R(4, seed=2).tolist()}),
    ("F.multilabel_margin_loss(y, torch.tensor([[0, 1, -1, 0], [3, 2, -1, 0], [2, 2, -1, 0]]))", {"y": R(3, 4)}),
    ("F.hinge_embedding_loss(y, torch.tensor([1., -1., -1., 1.]), margin=0.7)", {"y": R(3, 4)}),
    ("F.cosine_embedding_loss(a, b, torch.tensor([1., -1., -1.]), margin=-0.5)", {"a": R(3, 4), "b": R(3, 4, seed=1)}),
    ("F.margin_ranking_loss(a, b, torch.tensor([1., -1., -1.]).double().view(3, 1), margin=0.1)",
     {"a": R(3, 4), "b": R(3, 4, seed=1)}),
    ("F.triplet_margin_loss(a, b, c, swap=True, margin=3.)", {"a": R(3, 4), "b": R(3, 4, seed=1), "c": R(3, 4, seed=2)}),
    ("F.triplet_margin_with_distance_loss(a, b, c, margin=3.)", {"a": R(3, 4), "b": R(3, 4, seed=1), "c": R(3, 4, seed=2)}),
]


@pytest.mark.parametrize("expr,inputs", LOSS_GRADS, ids=[e for e, _ in LOSS_GRADS])
def test_loss_grads(expr, inputs):
    check_grad(expr, inputs, double="binary_cross_entropy(" in expr or "_with_logits" in expr)


def test_bce_with_logits_is_stable():
    x = ember.tensor([1e4, -1e4, 0.0], requires_grad=True)
    loss = ember.nn.functional.binary_cross_entropy_with_logits(x, ember.tensor([0.0, 1.0, 1.0]), reduction="sum")
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()
    assert np.allclose(x.grad.numpy(), [1.0, -1.0, -0.5])


# ---------------------------------------------------------------- CTC
CSETUP = """
r = np.random.RandomState(0)
lp = torch.tensor(r.randn(6, 3, 5)).float().log_softmax(2)
tg = torch.tensor([[1, 2, 2], [3, 1, 0], [4, 4, 4]])
il = [6, 5, 6]; tl = [3, 2, 1]
flat = torch.tensor([1, 2, 2, 3, 1, 4])
"""
CTC = [
    "F.ctc_loss(lp, tg, il, tl)", "F.ctc_loss(lp, tg, il, tl, reduction='sum')", "F.ctc_loss(lp, tg, il, tl, reduction='none')",
    "F.ctc_loss(lp, flat, il, tl, reduction='none')", "F.ctc_loss(lp, tg, torch.tensor(il), torch.tensor(tl))",
    "F.ctc_loss(lp, tg, il, [3, 3, 3], reduction='none')", "F.ctc_loss(lp, tg, [2, 5, 6], [3, 2, 1], reduction='none')",
    "F.ctc_loss(lp, tg, [2, 5, 6], [3, 2, 1], reduction='none', zero_infinity=True)",
    "F.ctc_loss(lp, tg, il, [0, 2, 1], reduction='none')", "F.ctc_loss(lp, tg + 1, il, [2, 2, 0], blank=3)",
    "F.ctc_loss(lp[:, 0], tg[0], [6], [3])", "F.ctc_loss(lp[:, 0], tg[0], torch.tensor(6), torch.tensor(3))",
    "F.ctc_loss(lp * 30, tg, il, tl, reduction='none')", "F.ctc_loss(lp.double(), tg, il, tl)",
    "F.ctc_loss(lp, tg, [7, 5, 6], tl)", "F.ctc_loss(lp, tg, il, [4, 2, 2])", "F.ctc_loss(lp, tg, il, tl, blank=5)",
    "F.ctc_loss(lp.long(), tg, il, tl)", "F.ctc_loss(lp, tg, il[:2], tl)", "F.ctc_loss(lp, tg, il, tl, reduction='foo')",
]


@pytest.mark.parametrize("expr", CTC)
def test_ctc(expr):
    check(expr, CSETUP, atol=1e-5)


@pytest.mark.parametrize("red", ["mean", "sum", "none"])
def test_ctc_grad(red):
    lp = R(6, 3, 5)
    tg = np.array([[1, 2, 2], [3, 1, 0], [4, 4, 4]])
    check_grad(f"F.ctc_loss(x.log_softmax(2), torch.tensor(tg), [6, 4, 6], [3, 2, 1], reduction='{red}')",
               {"x": lp, "tg": tg}, atol=1e-6)
    # the gradient with respect to log_probs themselves follows torch's formula (not the softmax-free one)
    check_grad(f"F.ctc_loss(x, torch.tensor(tg), [6, 4, 6], [3, 2, 1], reduction='{red}', zero_infinity=True)",
               {"x": lp, "tg": tg}, atol=1e-6)


def test_ctc_zero_infinity_grad():
    check_grad("F.ctc_loss(x.log_softmax(2), torch.tensor([[1, 1, 1], [2, 3, 4]]), [2, 5], [3, 3], "
               "zero_infinity=True)", {"x": R(5, 2, 6)}, atol=1e-6)


def test_ctc_large_inputs_stay_finite():
    x = ember.tensor(np.random.RandomState(0).randn(50, 2, 6) * 80, requires_grad=True)
    loss = ember.nn.functional.ctc_loss(x.log_softmax(2), ember.tensor([[1, 2, 3], [4, 5, 5]]), [50, 40], [3, 3])
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()


# ---------------------------------------------------------------- torch.* aliases and meta tensors
def test_conv_tbc():
    C("F.conv_tbc(x4.view(5, 2, 5), torch.ones(3, 5, 4) / 7, torch.arange(4.), 1)")
    C("F.conv_tbc(x4.view(5, 2, 5), torch.ones(3, 4, 4), torch.arange(4.))")
    check_grad("F.conv_tbc(x, w, b, 2)", {"x": R(6, 2, 3), "w": R(3, 3, 4, seed=1), "b": R(4, seed=2)})


def test_torch_level_aliases():
    for name in ("conv2d", "max_pool2d", "pixel_shuffle", "cosine_similarity", "pdist", "layer_norm", "group_norm",
                 "prelu", "selu", "hardshrink", "threshold", "channel_shuffle"):
        assert callable(getattr(ember, name)), name
    C("torch.conv2d(x4, torch.ones(1, 2, 2, 2))")
    C("torch.max_pool2d(x4, 2)")
    C("torch.layer_norm(x4, [5])", atol=1e-5)


def test_meta_shapes():
    F = ember.nn.functional
    x = ember.empty(2, 3, 8, 8, device="meta")
    assert F.conv2d(x, ember.empty(4, 3, 3, 3, device="meta"), stride=2).shape == (2, 4, 3, 3)
    assert F.max_pool2d(x, 3, 2, 1).shape == (2, 3, 4, 4)
    assert F.avg_pool2d(x, 2).shape == (2, 3, 4, 4)
    assert F.interpolate(x, size=(5, 7), mode="bilinear").shape == (2, 3, 5, 7)
    assert F.pad(x, (1, 2, 3, 4), mode="reflect").shape == (2, 3, 15, 11)
    assert F.layer_norm(x, [8]).shape == (2, 3, 8, 8)
    assert F.adaptive_avg_pool2d(x, 3).shape == (2, 3, 3, 3)
    assert F.unfold(x, 3).shape == (2, 27, 36)
    assert F.embedding(ember.empty(2, 5, dtype=ember.int64, device="meta"), ember.empty(10, 4, device="meta")).shape \
        == (2, 5, 4)


@pytest.mark.parametrize("expr", ["F.softmax(M.ones(2, dtype=M.long), 0)", "F.log_softmax(M.ones(2, 3, dtype=M.long), 0)",
                                  "M.ones(2, dtype=M.bool).softmax(0)", "F.softmax(M.ones(2, dtype=M.long), 0, dtype=M.float)"])
def test_softmax_needs_floating_input_like_torch(expr):
    import torch as T
    out = []
    for M in (ember, T):
        F = M.nn.functional  # noqa: F841 (used by eval)
        try:
            out.append(("ok", eval(expr).tolist()))
        except NotImplementedError as e:
            out.append(("raise", str(e)))
    assert out[0] == out[1]
