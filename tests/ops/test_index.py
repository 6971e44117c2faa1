"""Indexing and mutation ops against torch: values, dtypes, shapes, view-ness, errors and float64 gradients.

Each case is an expression evaluated twice, once with ``torch`` bound to PyTorch and once to ember, on
the same NumPy data; results (or the exception type and message) must agree.
"""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


# ---------------------------------------------------------------- the differential harness
def _conv(r, mod):
    if isinstance(r, (mod.Tensor,)):
        d = r.detach()
        if d.device.type != "cpu":
            d = d.cpu()
        return ("T", str(d.dtype), tuple(d.shape), d.numpy().copy())
    if isinstance(r, (tuple, list)):
        return (type(r).__name__, [_conv(x, mod) for x in r])
    if isinstance(r, mod.Size):
        return ("S", tuple(r))
    return ("V", r)


def _same(a, b, atol=1e-6):
    if a[0] != b[0]:
        return False
    if a[0] == "T":
        if a[1:3] != b[1:3]:
            return False
        x, y = a[3], b[3]
        if x.dtype.kind in "fc":
            return np.allclose(x, y, atol=atol, rtol=1e-6, equal_nan=True)
        return np.array_equal(x, y)
    if a[0] in ("tuple", "list"):
        return len(a[1]) == len(b[1]) and all(_same(p, q, atol) for p, q in zip(a[1], b[1]))
    return a == b


def _eval(mod, expr, setup, env):
    g = {"torch": mod, "np": np}
    g.update(env or {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            exec(setup, g)
            if expr.startswith("!"):
                exec(expr[1:], g)
                r = g.get("out")
            else:
                r = eval(expr, g)
            return ("ok", _conv(r, mod))
        except Exception as e:  # noqa: BLE001 - the exception itself is compared
            return ("err", type(e).__name__, str(e).split("\n")[0])


def check(expr, setup="", env=None, atol=1e-6, msg=True):
    """Evaluate ``expr`` under torch and ember; results or (type, message) of the error must match."""
    t = _eval(torch, expr, setup, env)
    e = _eval(ember, expr, setup, env)
    if t[0] == "err" or e[0] == "err":
        assert t[0] == e[0], f"{expr}: torch {t} vs ember {e}"
        assert t[1] == e[1], f"{expr}: torch raised {t[1:]} but ember {e[1:]}"
        if msg:
            assert t[2] == e[2], f"{expr}: message differs:\n torch: {t[2]}\n ember: {e[2]}"
        return
    assert _same(t[1], e[1], atol), f"{expr}:\n torch {t[1]}\n ember {e[1]}"


def check_grad(fn_src, inputs, setup="", atol=1e-7):
    """``fn_src`` is an expression of the float64 leaves named in ``inputs`` (name -> NumPy array)."""
    grads = []
    for mod in (torch, ember):
        g = {"torch": mod, "np": np}
        for k, v in inputs.items():
            g[k] = mod.tensor(v, dtype=mod.float64, requires_grad=True) if v.dtype.kind == "f" else \
                mod.tensor(v)
        exec(setup, g)
        out = eval(fn_src, g)
        if isinstance(out, (tuple, list)):
            out = sum((o * (i + 1)).sum() for i, o in enumerate(out))
        up = np.cos(np.arange(max(out.numel(), 1), dtype=np.float64)).reshape(tuple(out.shape)) + 0.5
        out.backward(mod.tensor(up))
        grads.append({k: (None if g[k].grad is None else g[k].grad.detach().numpy().copy())
                      for k, v in inputs.items() if v.dtype.kind == "f"})
    for k in grads[0]:
        a, b = grads[0][k], grads[1][k]
        assert (a is None) == (b is None), f"{fn_src}: grad of {k}: torch {a} ember {b}"
        if a is not None:
            assert a.shape == b.shape and np.allclose(a, b, atol=atol), f"{fn_src}: grad {k}:\n{a}\nvs\n{b}"


# ---------------------------------------------------------------- data
SETUP = """
x = torch.arange(12.).reshape(3, 4)
a = torch.arange(60).reshape(3, 4, 5)
xi = torch.arange(12).reshape(3, 4)
z = torch.tensor(5.)
e = torch.zeros(0, 3)
L = torch.tensor
m = x > 5
i = L([[0, 1, 2, 0]])
"""


def C(expr, **kw):
    check(expr, SETUP, **kw)


# ---------------------------------------------------------------- __getitem__
GETITEM = [
    "x[0]", "x[-1]", "x[1:]", "x[::2]", "x[:, 1]", "x[..., 1]", "x[None]", "x[:, None]", "x[..., None]",
    "x[1:, None, 2:]", "x[()]", "x[...]", "x[:]", "x[0, 1]", "x[-1, -1]", "x[10:20]", "x[-10:2]", "x[1:1]",
    "a[0, ..., 1]", "a[..., 0]", "a[:, 1::2, ::3]", "a[1, None, :, None, 2]",
    "x[5]", "x[:, 4]", "x[-4]", "x[0, 0, 0]", "x[::0]", "x[::-1]", "x[1.0]", "x['a']", "z[0]", "z[...]",
    "z[None]", "z[()]", "z[True]", "z[False]", "z[L(True)]", "z[L([0])]",
    "x[True]", "x[False]", "x[0, True]", "x[L(1)]", "x[L(True)]", "x[L(1.)]", "x[np.int64(1)]", "x[np.array(1)]",
    # advanced
    "x[[0, 2]]", "x[L([0, 2])]", "x[L([[0], [2]])]", "x[L([0, 2]).int()]", "x[np.array([0, 2])]",
    "x[[0, 2], [1, 3]]", "x[[0, 2], 1:]", "x[1:, [0, 2]]", "x[:, [0, -1]]", "x[[True, False, True]]",
    "x[m]", "x[x > 100]", "x[m[0]]", "x[:, m[0]]", "x[L([], dtype=torch.long)]", "x[[]]", "x[[0.0, 1.0]]",
    "a[0, :, [0, 1]]", "a[[0, 1], :, 0]", "a[[0, 1], :, [0, 1]]", "a[:, [0, 1], [1, 2]]", "a[[0, 1], 0, [0, 1]]",
    "a[[[0, 1]]]", "a[[0, slice(None)]]", "a[[L(0), 1]]", "a[np.array([[0, 1], [1, 2]])]",
    "a[L([0, 1]), None]", "a[None, L([0, 1]), None, L([0, 1])]", "a[:, None, L([0, 1])]",
    "a[..., L([0, 4])]", "a[L([[0], [1]]), :, L([1, 2, 3])]",
    "x[L([5])]", "x[:, L([-5])]", "a[L([0]), L([9])]", "a[L([0]), :, L([9])]", "a[1:, L([9])]",
    "a[L([[0, 1]]), L([1, 2, 3])]", "x[L([0, 1]).short()]", "x[torch.ones(3, 5, dtype=torch.bool)]",
    "a[0, torch.ones(4, 6, dtype=torch.bool)]", "a[:, torch.ones(4, 6, dtype=torch.bool)]",
    "a[None, torch.ones(3, 5, dtype=torch.bool)]", "x[L([0, 1], dtype=torch.uint8)]",
    "x[L([1, 0, 1], dtype=torch.uint8)]", "e[[0]]", "e[:, [0]]", "e[e > 0]", "e[0]",
]


@pytest.mark.parametrize("expr", GETITEM)
def test_getitem(expr):
    C(expr)


def test_getitem_views_and_nodes():
    for expr, node in [("x[0]", "SelectBackward0"), ("x[1:]", "SliceBackward0"), ("x[:]", "SliceBackward0"),
                       ("x[None]", "UnsqueezeBackward0"), ("x[...]", "AliasBackward0"),
                       ("x[:, :]", "AliasBackward0"), ("x[0, None]", "UnsqueezeBackward0"),
                       ("x[None, 0]", "SelectBackward0"), ("x[[0, 1]]", "IndexBackward0"),
                       ("x[x > 0]", "IndexBackward0"), ("x[True]", "IndexBackward0"), ("x[L(1)]", "SelectBackward0")]:
        for mod in (torch, ember):
            g = {"torch": mod, "L": mod.tensor}
            exec("x = torch.arange(12.).reshape(3, 4).requires_grad_()", g)
            r = eval(expr, g)
            assert r.grad_fn.name() == node, (mod.__name__, expr, r.grad_fn.name())
    x = ember.zeros(3, 4)
    for v in (x[0], x[:, 1], x[1:, None, ::2], x[..., 1]):
        assert v._base is x and v.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    x[0][1] = 5.
    assert x[0, 1].item() == 5.
    t = torch.arange(12.).reshape(3, 4)
    for k in [(0,), (slice(None), 1), (slice(1, None), None, slice(None, None, 2)), (Ellipsis, 1)]:
        assert x[k].stride() == t[k].stride() and x[k].storage_offset() == t[k].storage_offset()
    y = x[[0, 1]]
    assert y._base is None
    y[0, 0] = 100.
    assert x[0, 0].item() == 0.


def test_getitem_warnings():
    x = ember.arange(60).reshape(3, 4, 5)
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        x[[0, slice(None)]]
    with pytest.warns(UserWarning, match="uint8"):
        x[ember.tensor([1, 0, 1], dtype=ember.uint8)]


GRAD_GETITEM = ["x[0]", "x[1:, ::2]", "x[None, :, 1]", "x[[0, 0, 2]]", "x[[0, 2], [1, 1]]", "x[x > 0.3]",
                "x[:, [1, 1, 3]]", "x[[[0, 1]], 1:]", "x[True]", "x[..., None]", "x[[2, 2]][:, [0, 0]]"]


@pytest.mark.parametrize("expr", GRAD_GETITEM)
def test_getitem_grad(expr):
    check_grad(expr, {"x": np.random.default_rng(0).normal(size=(3, 4))})


def test_getitem_double_backward():
    for mod in (torch, ember):
        x = mod.tensor([[1., 2.], [3., 4.]], dtype=mod.float64, requires_grad=True)
        y = (x[[0, 0, 1]] ** 2).sum()
        g, = mod.autograd.grad(y, x, create_graph=True)
        g.sum().backward()
        if mod is torch:
            ref = (g.detach().numpy(), x.grad.numpy())
        else:
            assert np.allclose(g.detach().numpy(), ref[0]) and np.allclose(x.grad.numpy(), ref[1])


# ---------------------------------------------------------------- __setitem__
SETITEM = [
    "!x[0] = 1.7; out = x", "!xi[0] = 1.7; out = xi", "!x[0] = L([1.5, 2.5, 3.5, 4.5]); out = x",
    "!x[0] = L([1, 2, 3, 4]); out = x", "!x[0:1] = torch.ones(1, 1, 4); out = x", "!x[0] = torch.ones(2, 4)",
    "!x[0:1] = torch.ones(2, 1, 4)", "!x[0] = L([1., 2.])", "!x[0] = [1, 2, 3, 4]", "!x[0] = (1, 2)",
    "!x[0] = None", "!x[0] = np.array([1, 2, 3, 4])", "!x[0] = np.float64(2.5); out = x",
    "!x[...] = 3; out = x", "!x[None] = 3; out = x", "!x[True] = 3; out = x", "!x[False] = 3; out = x",
    "!z[...] = 7; out = z", "!z[()] = 7; out = z", "!z[0] = 7", "!z[True] = 8; out = z",
    "!x[:, 1::2] = L([[9.], [8.], [7.]]); out = x", "!x[:, None, 1] = 0; out = x",
    "!x[[0, 2]] = 5; out = x", "!x[[0, 2]] = L([[1., 2, 3, 4]]); out = x", "!x[[0, 0], [1, 1]] = L([5., 6]); out = x",
    "!x[m] = 0; out = x", "!x[m] = L(1.5); out = x", "!xi[xi > 5] = L(1.5); out = xi",
    "!xi[xi > 5] = L([1.5]); out = xi", "!xi[xi > 5] = L([[1.5]]); out = xi", "!x[m] = L([1., 2]); out = x",
    "!x[m] = torch.arange(6.); out = x", "!xi[xi > 5] = torch.arange(6.)", "!xi[L([0])] = L(1.5)",
    "!xi[L([0])] = 2.5; out = xi", "!xi[L([0]), 0] = L([7]); out = xi", "!x[L([0, 1])] = torch.ones(2, 4, dtype=torch.float64)",
    "!x[0, [0, 1]] = L([9., 8.]); out = x", "!x[0, [0, 1]] = L([9., 8., 7.])", "!x[1:, [0, 3]] = 0; out = x",
    "!x[[True, False, True]] = 2; out = x", "!x[:, m[0]] = 3; out = x", "!x[L([5])] = 1",
    "!a[0, ..., [0]] = 7; out = a", "!x[0] = 1 + 2j", "!x[0] = L(1 + 2j); out = x", "!x[0] = True; out = x",
    "!xi[0] = float('nan')", "!xi[0] = 2 ** 70", "!b = torch.zeros(3, dtype=torch.uint8); b[0] = 300",
    "!b = torch.zeros(3, dtype=torch.uint8); b[0] = -1; out = b", "!b = torch.zeros(3, dtype=torch.bool); b[:] = L([1, 0, 2]); out = b",
    "!x.expand(2, 3, 4)[0, 0] = 2; out = x", "!x[0] = x[1].unsqueeze(0).unsqueeze(0); out = x",
    "!y = x.t(); y[0] = L([1., 2., 3.]); out = x", "!y = x[:, 1]; y[[0, 2]] = -1; out = x",
    "!e[0] = 1", "!e[[]] = 1; out = e", "!e[e > 0] = 1; out = e",
]


@pytest.mark.parametrize("expr", SETITEM)
def test_setitem(expr):
    C(expr)


def test_setitem_leaf_errors():
    for expr in ["y[0] = 1", "y[[0]] = 1", "y[...] = 1", "y[y > 0] = 1", "y[0].fill_(2)", "y[0].mul_(2)",
                 "y[:, 0][[0]] = 1", "y.t().zero_()"]:
        check("!" + expr, "y = torch.ones(3, 3, requires_grad=True)")
    check("!with torch.no_grad():\n y[0] = 5.\nout = y", "y = torch.ones(3, 3, requires_grad=True)")


SETITEM_GRAD = [
    ("y = x * 1; y[0] = v[0]; y", {"v": (2, 4)}), ("y = x * 1; y[:, 1:3] = v[:, :2] * 2; y", {"v": (3, 4)}),
    ("y = x * 1; y[[0, 2]] = v[:2]; y", {"v": (3, 4)}), ("y = x * 1; y[x > 0] = v[0, 0]; y", {"v": (1, 1)}),
    ("y = x * 1; y[0, [1, 1]] = v[0, :2]; y", {"v": (2, 4)}), ("y = x * 1; y[1] = 3.; y", {}),
    ("y = x * 1; y[:, 0][[0, 2]] = v[0, :2]; y", {"v": (2, 4)}),
    ("y = x * 1; z = y[1:]; z[0, 0] = v[0, 0] ** 2; y * y.sum()", {"v": (1, 1)}),
    ("y = x.clone(); y[y > 0] = v.reshape(-1)[:int((x > 0).sum())]; y", {"v": (3, 4)}),
]


@pytest.mark.parametrize("prog,extra", SETITEM_GRAD)
def test_setitem_grad(prog, extra):
    rng = np.random.default_rng(1)
    inputs = {"x": rng.normal(size=(3, 4))}
    inputs.update({k: rng.normal(size=s) for k, s in extra.items()})
    stmts, last = prog.rsplit(";", 1)
    src = f"(lambda: (exec({stmts.strip()!r}, globals()), {last.strip()})[1])()"
    check_grad(src, inputs)


def test_setitem_grad_fn_names():
    for mod in (torch, ember):
        x = mod.ones(3, 4, dtype=mod.float64, requires_grad=True)
        y = x * 1
        y[0] = 2.
        assert y.grad_fn.name().split("::")[-1] == "CopySlices"
        w = x * 1
        w[[0, 1]] = 2.
        assert w.grad_fn.name() == "IndexPutBackward0"


# ---------------------------------------------------------------- gather / scatter family
FUNCS = [
    "x.gather(0, i)", "x.gather(1, L([[0], [3], [1]]))", "torch.gather(x, -1, L([[0, 0], [1, 1], [3, 2]]))",
    "x.gather(0, i.int())", "x.gather(0, i.short())", "x.gather(0, i.float())", "x.gather(0, i[0])",
    "x.gather(0, torch.zeros(4, 4, dtype=torch.long))", "x.gather(1, torch.zeros(4, 4, dtype=torch.long))",
    "x.gather(0, L([[5]]))", "x.gather(1, L([[-1]]))", "x.gather(0, torch.zeros(0, 4, dtype=torch.long))",
    "z.gather(0, L(0))", "z.gather(0, L([0, 0]))", "x.gather(2, i)", "x[0].gather(0, L(2))",
    "xi.gather(1, L([[1, 0]]))",
    "x.scatter(0, i, 1.5)", "xi.scatter(0, i, 1.5)", "x.scatter(0, i, torch.ones(3, 4, dtype=torch.float64))",
    "x.scatter(0, i, torch.ones(1, 2))", "x.scatter(0, i.int(), 1.)", "x.scatter(0, i, 1., reduce='add')",
    "x.scatter(0, i, torch.full((3, 4), 2.), reduce='multiply')", "x.scatter(0, i, torch.ones(3, 4), reduce='mean')",
    "x.scatter(0, i, -torch.arange(12.).reshape(3, 4))", "x.scatter(1, L([[3, 0], [1, 1]]), -torch.ones(2, 2))",
    "x.scatter(0, L([[-1]]), 1.)", "x.scatter(0, L([0]), 1.)", "x.scatter(0, L([[0]]), torch.ones(2))",
    "x.scatter(1, torch.zeros(4, 4, dtype=torch.long), torch.ones(4, 4))", "x.scatter(0, L([[0]]), L(1.))",
    "x[0].scatter(0, L(1), 5.)", "z.scatter(0, L(0), 5.)", "z.scatter(0, L([0]), 5.)", "x.scatter(0, i.float(), 1.)",
    "torch.scatter(x, 0, i, 2.)", "torch.scatter(x, 0, i, value=3.)", "xi.scatter(0, i, 1e30)",
    "x.scatter_add(0, i, torch.ones(3, 4))", "x.scatter_add(0, i, torch.ones(3, 4, dtype=torch.float64))",
    "x.scatter_add(0, L([[0, 0, 0, 0], [0, 0, 0, 0]]), torch.ones(3, 4))", "torch.scatter_add(x, 1, L([[1, 1]]), x)",
    "x.scatter_add(0, L([[0]]).float(), L([[1.]]))", "xi.scatter_add(0, i, xi)",
    "x.scatter_reduce(0, i, torch.ones(3, 4) * 7, 'sum')", "x.scatter_reduce(0, i, torch.ones(3, 4), 'mean')",
    "x.scatter_reduce(0, i, torch.ones(3, 4), 'mean', include_self=False)",
    "xi.scatter_reduce(0, i, torch.ones(3, 4, dtype=torch.long) * 3, 'mean', include_self=False)",
    "L([-7, -5, 3]).scatter_reduce(0, L([0, 0, 1]), L([-2, -2, -1]), 'mean', include_self=False)",
    "L([-7, -5, 3]).scatter_reduce(0, L([0, 0, 1]), L([-2, -2, -1]), 'mean')",
    "x.scatter_reduce(0, i, torch.full((3, 4), 5.), 'amax')", "x.scatter_reduce(0, i, torch.full((3, 4), 5.), 'amin')",
    "x.scatter_reduce(0, i, torch.full((3, 4), 5.), 'amin', include_self=False)",
    "x.scatter_reduce(0, i, torch.full((3, 4), 2.), 'prod')", "x.scatter_reduce(0, i, torch.full((3, 4), 2.), 'prod', include_self=False)",
    "x.scatter_reduce(0, L([[0]]), L([[1.]]), 'foo')", "x.scatter_reduce(0, L([[0]]).float(), L([[1.]]), 'sum')",
    "torch.scatter_reduce(x, 1, L([[0, 0], [1, 1]]), x, 'amax', include_self=False)",
    "x.index_select(0, L([0, 2]))", "x.index_select(1, L([3, 3, 0]))", "x.index_select(0, L([0, 2]).int())",
    "x.index_select(0, L([0., 2]))", "x.index_select(0, L([[0, 2]]))", "x.index_select(0, L(2))",
    "x.index_select(0, L([5]))", "x.index_select(1, L([-1]))", "x.index_select(0, L([-1]))",
    "z.index_select(0, L([0]))", "z.index_select(0, L(0))", "z.index_select(0, L([0, 0]))",
    "torch.index_select(a, 2, L([4, 0]))", "torch.index_select(a, -2, L([], dtype=torch.long))",
    "x.index_add(0, L([0, 0]), torch.ones(2, 4), alpha=2)", "x.index_add(0, L([0, 0]), torch.ones(2, 3))",
    "x.index_add(0, L([0, 0]), torch.ones(3, 4))", "x.index_add(0, L([0, 0]), torch.ones(2, 4, dtype=torch.float64))",
    "x.index_add(0, L([0, 0]).int(), torch.ones(2, 4))", "x.index_add(0, L([0, 5]), torch.ones(2, 4))",
    "xi.index_add(0, L([0, 0]), torch.ones(2, 4, dtype=torch.long), alpha=2)", "x.index_add(0, L([0]).float(), x[:1])",
    "x.index_add(1, L([3, 0, 3]), torch.ones(3, 3))", "x.index_add(0, L([-1]), x[:1])", "z.index_add(0, L(0), L(5.))",
    "x[0].index_add(0, L(1), L(5.))",
    "x.index_copy(0, L([0, 2]), torch.ones(2, 4))", "x.index_copy(1, L([3, 0]), -torch.ones(3, 2))",
    "x.index_copy(0, L([0, 2]), torch.ones(2, 4, dtype=torch.float64))", "x.index_copy(0, L([0, 2]), torch.ones(3, 4))",
    "x.index_copy(0, L([0, 5]), torch.ones(2, 4))", "x.index_copy(0, L([0]).int(), x[:1])", "x.index_copy(0, L([-1]), x[:1])",
    "z.index_copy(0, L([0]), L([5.]))",
    "x.index_fill(0, L([0, 2]), 7)", "x.index_fill(1, L([0, 2]), L(7.))", "x.index_fill(0, L([0, 2]), L([7.]))",
    "xi.index_fill(0, L([0, 2]), 7.5)", "x.index_fill(0, L([0, 5]), 7)", "x.index_fill(1, L([[0, 2]]), 7)",
    "x.index_fill(1, L(1), 7)", "x.index_fill(0, L([0]).int(), 1.)", "x.index_fill(0, L([-1]), 1.)",
    "x.index_fill(0, L([-4]), 1.)", "z.index_fill(0, L([0]), 5.)", "torch.index_fill(x, 1, L([1]), -1.)",
    "x.masked_fill(m, 1.)", "x.masked_fill(m, L(2.))", "x.masked_fill(m.int(), 1.)", "x.masked_fill(m.byte(), 1.)",
    "x.masked_fill(m.long(), 1.)", "x.masked_fill(L([True, False, True, False]), 1.)", "x[0].masked_fill(m, 1.)",
    "xi.masked_fill(m, 1.5)", "xi.masked_fill(m, L(1.5))", "x.masked_fill(m, L(1.5, dtype=torch.float64))",
    "xi.bool().masked_fill(m, 0.5)", "x.masked_fill(m, L([1.]))", "x.masked_fill(m, 1 + 1j)", "x.masked_fill(m, L(1 + 1j))",
    "torch.masked_fill(x, m, float('-inf'))", "x.masked_fill(m[:2], 0.)", "x.masked_select(m[:2])",
    "x.masked_scatter(m[:2], x)", "x.masked_fill_(m[:, :1], 0.)", "x[:, None, 1].stride()", "x[None, 1:].stride()",
    "x[1:, None, None, ::2].stride()", "x.t()[None, :, None].stride()", "x[..., None].stride()",
    "x.masked_select(m)", "x.masked_select(m.int())", "x[0].masked_select(m)", "torch.masked_select(x, m[0])",
    "x.masked_select(L(True))", "e.masked_select(e > 0)",
    "x.masked_scatter(m, torch.arange(20.))", "x.masked_scatter(m, torch.arange(2.))", "x.masked_scatter(m, torch.arange(20))",
    "x[0].masked_scatter(m, torch.arange(20.))", "x.masked_scatter(m[0], -torch.arange(20.))", "x.masked_scatter(m.int(), torch.arange(20.))",
    "z.masked_scatter(L(True), L([5., 6]))", "x.masked_scatter(m, torch.arange(6.).reshape(2, 3))",
    "x.take(L([0, -1, 5]))", "x.take(L([[0, 11]]))", "x.take(L([12]))", "x.take(L([-13]))", "x.take(L([1]).int())",
    "torch.zeros(0).take(L([0]))", "z.take(L(0))", "torch.take(x.t(), L([1, 2, 3]))",
    "x.put(L([0, 0]), L([1., 2.]))", "x.put(L([0, 0]), L([1., 2.]), accumulate=True)", "x.put(L([0, 0]), L([1., 2., 3.]))",
    "x.put(L([0, 12]), L([1., 2.]))", "x.put(L([0, 1]), L([1, 2]))", "x.put(L([0, 1]).int(), L([1., 2]))",
    "x.put(L([[0, 1]]), L([1., 2]))", "z.put(L(0), L(5.))", "torch.put(x, L([-1]), L([9.]))",
    "x.t().put(L([1, 2]), L([-1., -2]))",
    "x.index_put((L([0, 0]),), L(1.))", "x.index_put((L([0, 0]),), L(1.), accumulate=True)",
    "x.index_put((L([0, 0]), L([1, 2])), L([5., 6.]), accumulate=True)", "x.index_put((L([0, 0]), L([1, 2])), L([5, 6]))",
    "x.index_put([m], L(3.))", "x.index_put((None, L([1, 2])), L(3.))", "x.index_put((L([1, 2]), L([1, 2]), L([1, 2])), L(3.))",
    "x.index_put((L([1, 5]),), L(3.))", "x.index_put((L([1., 5]),), L(3.))", "x.index_put((L([1, 2]),), 3.)",
    "x.index_put((L([0, 1]),), torch.ones(1, 2, 4))", "x.index_put((L([0, 1]),), torch.ones(4, 1))",
    "x.index_put((L([0, 0]),), torch.ones(3))", "torch.index_put(x, (L([2]), L([3])), L(-1.))",
    "z.index_put((L(0),), L(5.))", "torch.index_put_(x, (L([0]),), L(-1.))",
    "x.take_along_dim(L([[0], [1], [2]]), 1)", "x.take_along_dim(L([[0, 1]]), 1)", "x.take_along_dim(L([[0, 1]]))",
    "x.take_along_dim(L([[0, 1]]).int(), 1)", "x.take_along_dim(L([0, 1]), 1)", "x.take_along_dim(L([[[0, 1]]]), 1)",
    "x.take_along_dim(L([[0], [1]]), 1)", "torch.take_along_dim(x, L([[2], [0], [1]]), 0)",
    "x.take_along_dim(L([[3, 2, 1, 0]]), -1)",
]


@pytest.mark.parametrize("expr", FUNCS)
def test_funcs(expr):
    C(expr)


INPLACE = [
    "x.scatter_(0, i, 1.5)", "x.scatter_(0, i, torch.full((3, 4), 2.))", "x.scatter_(0, i, 2., reduce='add')",
    "x.scatter_(0, i, torch.full((3, 4), 2.), reduce='multiply')", "x.scatter_add_(0, i, torch.ones(3, 4))",
    "x.scatter_reduce_(0, i, torch.ones(3, 4), 'amax')", "x.scatter_reduce_(0, i, torch.ones(3, 4), 'mean', include_self=False)",
    "x.index_add_(0, L([0, 0]), torch.ones(2, 4), alpha=3)", "x.index_copy_(1, L([1]), torch.zeros(3, 1))",
    "x.index_fill_(1, L([1, 2]), -3)", "x.index_fill_(1, L([1, 2]), L(-3.))", "x.masked_fill_(m, 0.5)",
    "x.masked_fill_(m[0], 0.5)", "x[0].masked_fill_(m, 1.)", "x.masked_fill_(m, L(9.))",
    "x.masked_scatter_(m, -torch.arange(6.))", "x[0].masked_scatter_(m, torch.arange(12.))",
    "x.put_(L([1, 1]), L([2., 3.]), accumulate=True)", "x.put_(L([1, 1]), L([2., 3.]))",
    "x.index_put_((L([0, 0]), L([0, 0])), L([1., 2.]), accumulate=True)", "x.index_put_([m], L(-1.))",
    "x.fill_(2)", "x.fill_(L(2.))", "x.fill_(L([2.]))", "xi.fill_(2.7)", "x.zero_()", "torch.zero_(x)",
    "torch.fill_(x, 3.)", "torch.fill(x, 3.)", "xi.fill_(L(2.5))", "x.fill_('a')",
    "torch.zeros(2, dtype=torch.uint8).fill_(300)", "torch.zeros(2, dtype=torch.uint8).fill_(-1)",
    "torch.zeros(2, dtype=torch.int8).fill_(200)", "torch.zeros(2, dtype=torch.int32).fill_(2 ** 40)",
    "torch.zeros(2, dtype=torch.int16).fill_(2 ** 20)", "torch.zeros(2, dtype=torch.float16).fill_(1e6)",
    "torch.zeros(2, dtype=torch.float32).fill_(1e40)", "torch.zeros(2).fill_(float('inf'))",
    "torch.zeros(2, dtype=torch.bool).fill_(5)", "torch.zeros(2, dtype=torch.complex64).fill_(1e40)",
    "torch.zeros(2).fill_(1 + 1j)", "torch.zeros(2, dtype=torch.int64).fill_(float('nan'))",
    "torch.zeros(2, dtype=torch.int64).fill_(1e30)", "torch.zeros(2, dtype=torch.complex64).fill_(1 + 2j)",
    "x.expand(2, 3, 4).fill_(2) is not None and x", "x.t().fill_(1.)",
    "x.copy_(L([1., 2, 3, 4]))", "x.copy_(L([1., 2, 3]))", "x.copy_(torch.ones(2, 3, 4))", "x.copy_(torch.ones(1, 3, 4))",
    "x.copy_(L([1, 2, 3, 4]))", "x.copy_(L([1 + 1j, 2, 3, 4]))", "x[0].copy_(x[1])", "x.expand(2, 3, 4).copy_(x)",
    "x.t().copy_(torch.arange(12.).reshape(4, 3))", "xi.copy_(x * 1.5)", "xi.bool().copy_(L([0., 0.5, 2., 0.]))",
    "z.copy_(L(3))", "x.copy_(3)", "e.copy_(torch.ones(3))",
]


@pytest.mark.parametrize("expr", INPLACE)
def test_inplace(expr):
    C(f"!r = {expr}\nout = (r, x, xi)")


def test_inplace_returns_self_and_bumps_version():
    x = ember.zeros(3, 4)
    for f in [lambda: x.fill_(1.), lambda: x.zero_(), lambda: x.copy_(ember.ones(4)),
              lambda: x.index_fill_(0, ember.tensor([0]), 2.), lambda: x.masked_fill_(x > 0, 3.),
              lambda: x.scatter_(0, ember.tensor([[0]]), 1.), lambda: x.put_(ember.tensor([0]), ember.tensor([1.]))]:
        v = x._version
        assert f() is x
        assert x._version == v + 1


NONZERO = ["x.nonzero()", "x.nonzero(as_tuple=True)", "L(5).nonzero()", "L(0).nonzero()", "L(5).nonzero(as_tuple=True)",
           "L(0).nonzero(as_tuple=True)", "e.nonzero()", "e.nonzero(as_tuple=True)", "torch.argwhere(x)", "torch.argwhere(L(5))",
           "torch.nonzero(L([1 + 0j, 0j]))", "torch.nonzero(m)", "torch.nonzero(x.t() - 3)", "torch.nonzero(a % 7 == 0)"]


@pytest.mark.parametrize("expr", NONZERO)
def test_nonzero(expr):
    C(expr)


# ---------------------------------------------------------------- gradients (float64, compared with torch)
R = np.random.default_rng(3)
X = R.normal(size=(3, 4))
S = R.normal(size=(3, 4))
V = np.array(1.3)
GRADS = [
    ("x.gather(0, L([[0, 1, 2, 0], [2, 2, 2, 2]]))", {}), ("x.gather(1, L([[3], [3], [0]]))", {}),
    ("x.scatter(0, L([[0, 1, 2, 0]]), s[:1])", {"s": S}), ("x.scatter(1, L([[3, 1]]), 2.)", {}),
    ("x.scatter_add(0, L([[0, 1, 2, 0], [0, 0, 0, 0]]), s[:2])", {"s": S}),
    ("x.scatter_reduce(0, L([[0, 1, 2, 0], [0, 0, 0, 0]]), s[:2], 'sum')", {"s": S}),
    ("x.scatter_reduce(0, L([[0, 1, 2, 0], [0, 0, 0, 0]]), s[:2], 'sum', include_self=False)", {"s": S}),
    ("x.scatter_reduce(0, L([[0, 1, 2, 0], [0, 0, 0, 0]]), s[:2], 'mean')", {"s": S}),
    ("x.scatter_reduce(0, L([[0, 1, 2, 0], [0, 0, 0, 0]]), s[:2], 'mean', include_self=False)", {"s": S}),
    ("x.scatter_reduce(0, L([[0, 1, 2, 0], [0, 0, 0, 0]]), s[:2], 'prod')", {"s": S}),
    ("x.scatter_reduce(0, L([[0, 1, 2, 0], [0, 0, 0, 0]]), s[:2], 'prod', include_self=False)", {"s": S}),
    ("x.scatter_reduce(0, L([[0, 1, 2, 0], [0, 0, 0, 0]]), (s * (s > 0))[:2], 'prod')", {"s": S}),
    ("(x * (x > 0)).scatter_reduce(0, L([[0, 1, 2, 0], [0, 0, 0, 0]]), (s * (s > 0))[:2], 'prod')", {"s": S}),
    ("x.scatter_reduce(0, L([[0, 1, 2, 0], [0, 0, 0, 0]]), s[:2], 'amax')", {"s": S}),
    ("x.scatter_reduce(0, L([[0, 1, 2, 0], [0, 0, 0, 0]]), s[:2], 'amin', include_self=False)", {"s": S}),
    ("x.scatter_reduce(0, L([[0, 0, 0, 0], [0, 0, 0, 0]]), x[:1].expand(2, 4) * 1, 'amax')", {}),  # ties
    ("x.index_select(0, L([0, 2, 2]))", {}), ("x.index_select(1, L(3))", {}),
    ("x.index_add(0, L([0, 0]), s[:2], alpha=2.)", {"s": S}), ("x.index_copy(1, L([3, 0]), s[:, :2])", {"s": S}),
    ("x.index_fill(1, L([1]), 2.)", {}), ("x.index_fill(0, L([1, 2]), v)", {"v": V}),
    ("x.masked_fill(x > 0, 2.)", {}), ("x.masked_fill(x > 0, v)", {"v": V}), ("x[0].masked_fill(x > 0, v)", {"v": V}),
    ("x.masked_select(x > 0)", {}), ("x[0].masked_select(s > 0)", {"s": S}),
    ("x.masked_scatter(x > 0, s)", {"s": S}), ("x[0].masked_scatter(s > 0, s)", {"s": S}),
    ("x.take(L([[0, 0], [11, -1]]))", {}), ("x.put(L([0, 0, 5]), s[0, :3])", {"s": S}),
    ("x.put(L([0, 0, 5]), s[0, :3], accumulate=True)", {"s": S}),
    ("x.index_put((L([0, 0]), L([1, 1])), s[0, :2])", {"s": S}),
    ("x.index_put((L([0, 0]), L([1, 1])), s[0, :2], accumulate=True)", {"s": S}),
    ("x.index_put((x > 0,), v)", {"v": V}), ("x.take_along_dim(L([[0], [3], [1]]), 1)", {}),
    ("x.take_along_dim(L([[0, 1, 2, 2]]), 0)", {}), ("x.take_along_dim(L([0, 5]))", {}),
    ("torch.fill(x, v)", {"v": V}), ("x.clone().fill_(v) * x", {"v": V}), ("x.clone().zero_() + x", {}),
    ("x.clone().copy_(s[0]) * x", {"s": S}), ("(x * 1).copy_(s.double()) + 0", {"s": S}),
    ("(x * 1).scatter_(0, L([[1, 0]]), s[:1, :2]) * 2", {"s": S}), ("(x * 1).index_add_(1, L([0]), s[:, :1])", {"s": S}),
    ("(x * 1).masked_fill_(s > 0, v)", {"s": S, "v": V}), ("(x * 1).put_(L([3]), s[0, :1], accumulate=True)", {"s": S}),
    ("(x * 1).index_put_((L([2]),), s[0], accumulate=True)", {"s": S}),
]


@pytest.mark.parametrize("prog,extra", GRADS)
def test_grads(prog, extra):
    inputs = {"x": X}
    inputs.update(extra)
    check_grad(prog, inputs, setup="L = torch.tensor")


def test_grad_fn_names():
    progs = {"x.gather(0, L([[0]]))": "GatherBackward0", "x.scatter(0, L([[0]]), x)": "ScatterBackward0",
             "x.scatter(0, L([[0]]), 1.)": "ScatterBackward1", "x.scatter_add(0, L([[0]]), x)": "ScatterAddBackward0",
             "x.scatter_reduce(0, L([[0]]), x, 'amax')": "ScatterReduceBackward0",
             "x.index_select(0, L([0]))": "IndexSelectBackward0", "x.index_add(0, L([0]), x[:1])": "IndexAddBackward0",
             "x.index_copy(0, L([0]), x[:1])": "IndexCopyBackward0", "x.index_fill(0, L([0]), 1.)": "IndexFillBackward0",
             "x.index_fill(0, L([0]), x[0, 0])": "IndexFillBackward1", "x.masked_fill(x > 0, 1.)": "MaskedFillBackward0",
             "x.masked_fill(x > 0, x[0, 0])": "MaskedFillBackward1", "x.masked_select(x > 0)": "MaskedSelectBackward0",
             "x.masked_scatter(x > 0, x)": "MaskedScatterBackward0", "x.take(L([0]))": "TakeBackward0",
             "x.put(L([0]), x[0, :1])": "PutBackward0", "x.index_put((L([0]),), x[0])": "IndexPutBackward0",
             "x.clone().fill_(1.)": "FillBackward2", "x.clone().fill_(x[0, 0])": "FillBackward3",
             "x.clone().zero_()": "ZeroBackward0", "x.clone().copy_(x)": "CopyBackwards"}
    for prog, node in progs.items():
        for mod in (torch, ember):
            g = {"torch": mod, "L": mod.tensor, "x": mod.ones(2, 3, requires_grad=True)}
            name = eval(prog, g).grad_fn.name()
            assert name.split("::")[-1] == node, (mod.__name__, prog, name)


def test_scatter_reduce_backward_not_implemented():
    x = ember.ones(2, 3, requires_grad=True)
    y = x.scatter(0, ember.tensor([[0]]), x, reduce="add")
    with pytest.raises(RuntimeError):
        y.sum().backward()


def test_copy_cross_device_and_meta():
    x = ember.zeros(2, 3)
    x.copy_(ember.ones(3))
    assert x.tolist() == [[1., 1., 1.], [1., 1., 1.]]
    mt = ember.zeros(2, 3, device="meta")
    mt.copy_(ember.ones(3))
    assert mt.shape == (2, 3) and mt.device.type == "meta"
    r = ember.empty(2, 3, device="meta").gather(1, ember.zeros(2, 2, dtype=ember.int64, device="meta"))
    assert r.shape == (2, 2) and r.device.type == "meta"
    r = ember.empty(2, 3, device="meta")[ember.tensor([0, 1, 1], device="meta")]
    assert r.shape == (3, 3)


def test_out_arguments():
    for mod in (torch, ember):
        x = mod.arange(12.).reshape(3, 4)
        o = mod.empty(0)
        mod.gather(x, 1, mod.tensor([[0], [1], [2]]), out=o)
        mod.masked_select(x, x > 6, out=o)
        assert o.tolist() == [7., 8., 9., 10., 11.]
        mod.index_select(x, 0, mod.tensor([2]), out=o)
        assert o.tolist() == [[8., 9., 10., 11.]]
        n = mod.empty(0, dtype=mod.int64)
        mod.nonzero(x > 9, out=n)
        assert n.tolist() == [[2, 2], [2, 3]]


KW_CASES = ["torch.gather(x, axis=1, index=L([[0], [1], [2]]))", "torch.index_select(x, axis=1, index=L([0]))",
            "torch.scatter(x, dim=0, index=i, value=3)", "x.masked_fill(mask=m, value=2)",
            "x.index_fill(dim=0, index=L([0]), value=2)", "x.index_add(dim=0, index=L([0]), source=x[:1], alpha=2)",
            "torch.scatter_add(x, axis=0, index=i, src=x)", "x.index_copy(axis=0, index=L([0]), source=x[:1])",
            "x.put_(index=L([0]), source=L([1.]), accumulate=True)", "x.index_put_(indices=(L([0]),), values=L(1.))",
            "x.take(index=L([0]))", "x.copy_(other=x * 2)", "x.fill_(value=1)", "x.masked_select(mask=m)",
            "x.masked_scatter(mask=m, source=x)", "torch.take_along_dim(x, indices=L([[0]]), dim=0)",
            "x.scatter_reduce(axis=0, index=i, src=x, reduce='sum')", "x.nonzero(as_tuple=True)"]


@pytest.mark.parametrize("expr", KW_CASES)
def test_keyword_spellings(expr):
    C(expr)


_EXPANDED_WRITES = ["x.index_add_(0, M.tensor([0]), M.ones(1, 3))", "x.scatter_(0, M.tensor([[0, 1, 2]]), M.ones(1, 3))",
                    "x.scatter_(0, M.tensor([[0, 1, 2]]), 2.)", "x.scatter_add_(0, M.tensor([[0, 1, 2]]), M.ones(1, 3))",
                    "x.scatter_reduce_(0, M.tensor([[0, 1, 2]]), M.ones(1, 3), 'sum')",
                    "x.index_copy_(0, M.tensor([0]), M.ones(1, 3))", "x.put_(M.tensor([0]), M.ones(1))",
                    "x.masked_scatter_(M.ones(3, 3, dtype=M.bool), M.ones(9))", "x.fill_(M.tensor(1.))", "x.fill_(2.)",
                    "x.masked_fill_(M.ones(3, 3, dtype=M.bool), 1.)", "x.index_fill_(0, M.tensor([0]), 1.)",
                    "x.masked_fill_(M.ones(3, 3, dtype=M.bool), M.tensor(1.))"]


@pytest.mark.parametrize("stmt", _EXPANDED_WRITES)
def test_inplace_write_into_expanded_tensor_like_torch(stmt, torch_oracle):
    """Writes into an expanded tensor raise torch's overlap error, except the fills torch allows."""
    def outcome(M):
        x = M.zeros(1, 3).expand(3, 3)  # noqa: F841 (used by eval)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                eval(stmt)
        except RuntimeError as e:
            return str(e)
        return None
    assert outcome(ember) == outcome(torch_oracle)
