"""Joining/rearranging ops against torch: values, dtypes, shapes, errors, warnings and float64 gradients."""
import warnings

import numpy as np
import pytest

import ember

from .test_index import check, check_grad

torch = pytest.importorskip("torch")

SETUP = """
x = torch.arange(12.).reshape(3, 4)
xi = torch.arange(12).reshape(3, 4)
a = torch.arange(24.).reshape(2, 3, 4)
L = torch.tensor
e = torch.zeros(0)
z = torch.tensor(5.)
"""


def C(expr, **kw):
    check(expr, SETUP, **kw)


CASES = [
    # cat
    "torch.cat([x, x])", "torch.cat([x, x], 1)", "torch.cat([x, x], -1)", "torch.cat((x, x[:1]))", "torch.cat([x])",
    "torch.cat([])", "torch.cat([x, e])", "torch.cat([e, x], 1)", "torch.cat([e, e])", "torch.cat([e.long(), x])",
    "torch.cat([torch.zeros(0, dtype=torch.float64), x])", "torch.cat([e, torch.zeros(2, 0)], 1)",
    "torch.cat([torch.zeros(2, 0), x])", "torch.cat([x, xi])", "torch.cat([xi, xi.bool()])", "torch.cat([xi.int(), xi.bool()])",
    "torch.cat([x, L(1.)])", "torch.cat([L(1.), L(2.)])", "torch.cat([x, x[0]])", "torch.cat([x, x[:, :3]])",
    "torch.cat([x, x[:, :3]], 1)", "torch.cat([x, x], 2)", "torch.cat(x)", "torch.cat([x, 1])", "torch.cat([x.t(), x.t()], 1)",
    "torch.cat([a, a[:, :1]], dim=1)", "torch.cat([L([1 + 1j]), L([2.])])", "torch.concatenate([x, x], axis=1)",
    "torch.concatenate([x, x], dim=1)", "torch.concat([x, x], dim=-2)", "torch.cat([torch.zeros(2, 0), torch.zeros(2, 0)])",
    # stack family
    "torch.stack([x, x])", "torch.stack([x, x], -1)", "torch.stack([x, x], 2)", "torch.stack([x, x], 3)",
    "torch.stack([x, x[0]])", "torch.stack([])", "torch.stack([x, xi])", "torch.stack([L(1.), L(2)])", "torch.stack([e, e], 1)",
    "torch.stack(x)", "torch.stack((x.t(), x.t()), 1)",
    "torch.hstack([L(1.), L(2)])", "torch.hstack([L([1.]), L([2, 3])])", "torch.hstack([x, x])", "torch.hstack([])",
    "torch.vstack([L(1.), L([2, 3])])", "torch.vstack([L([1., 2]), L([2, 3])])", "torch.vstack([x, x[0]])", "torch.vstack(x)",
    "torch.dstack([L([1., 2]), L([2, 3])])", "torch.dstack([x, x])", "torch.dstack([L(1), L(2)])", "torch.dstack([a, a])",
    "torch.column_stack([L([1., 2]), L([2, 3])])", "torch.column_stack([L(1.), L(2)])", "torch.column_stack([x, L([2, 3, 4])])",
    "torch.column_stack([a, a])", "torch.row_stack([L([1., 2]), L([2, 3])])", "torch.row_stack([])",
    # repeat / tile / repeat_interleave
    "x.repeat(2)", "x.repeat(1, 2, 1)", "x.repeat((1, 2))", "x.repeat([2, 2])", "x.repeat(torch.Size([2, 1]))",
    "x.repeat(-1, 2)", "x.repeat(0, 2)", "z.repeat(2)", "z.repeat()", "x.repeat()", "z.repeat(2, 3)", "e.repeat(2, 2)",
    "x.t().repeat(2, 1)", "x.tile(2)", "x.tile((2,))", "x.tile(())", "torch.tile(x, [2, 1, 1])", "x.tile(-1)", "z.tile(3)",
    "torch.tile(a, (2,))", "x.tile(2, 2)",
    "L([1, 2, 3]).repeat_interleave(2)", "x.repeat_interleave(2)", "x.repeat_interleave(2, dim=0)",
    "x.repeat_interleave(3, dim=-1)", "x.repeat_interleave(L([1, 2, 0]), dim=0)", "x.repeat_interleave(L([1, 2]), dim=0)",
    "x.repeat_interleave(L([2]), dim=0)", "x.repeat_interleave(L(2), dim=0)", "x.repeat_interleave(L([-1, 2, 0]), dim=0)",
    "x.repeat_interleave(L([1., 2, 0]), dim=0)", "x.repeat_interleave(L([[1, 2, 0]]), dim=0)", "x.repeat_interleave(-1)",
    "x.repeat_interleave(2, dim=0, output_size=6)", "x.repeat_interleave(2, dim=0, output_size=5)",
    "x.repeat_interleave(L([1, 2, 0]), dim=0, output_size=2)", "torch.repeat_interleave(L([1, 2, 0]))",
    "torch.repeat_interleave(L([1, 2, 0]).int())", "z.repeat_interleave(2)", "x.repeat_interleave(L([1, 2, 0]))",
    "x.repeat_interleave(L([1, 2, 0]).int(), dim=0)", "torch.repeat_interleave(x, L([0, 1, 2, 3]), dim=1)",
    "xi.repeat_interleave(0, dim=1)", "torch.repeat_interleave(L(3))",
    # flip / roll / rot90
    "x.flip(0)", "x.flip((0, 1))", "x.flip([])", "x.flip(0, 0)", "x.flip(2)", "z.flip(0)", "z.flip(())", "x.flip(-1)",
    "torch.flip(a, (0, 2))", "torch.flip(a, [-1, 0])", "x.flip(0, 1)", "x[0].fliplr()", "x.fliplr()", "z.flipud()",
    "torch.flipud(x)", "torch.fliplr(a)", "x.flip(0).stride()", "x.t().flip(1)",
    "x.roll(1)", "x.roll(1, 0)", "x.roll((1, 2), (0, 1))", "x.roll((1, 2), 0)", "x.roll((1,), (0, 1))", "x.roll([], [])",
    "x.roll(5, -1)", "z.roll(1)", "z.roll(1, 0)", "torch.zeros(0, 3).roll(1, 0)", "torch.roll(a, -7)", "x.roll((1, 2))",
    "torch.roll(a, (1, -1), (2, 0))", "x.t().roll(1, 1)",
    "x.rot90()", "x.rot90(1, [0])", "x.rot90(1, [0, 0])", "x[0].rot90()", "x.rot90(-1)", "x.rot90(5, (1, 0))",
    "x.rot90(1, (0, 2))", "x.rot90(2)", "x.rot90(0)", "torch.rot90(a, 1, (0, 2))", "torch.rot90(a, 3, (-1, -2))",
    "x.rot90(1, (0, -2))",
    # tril / triu
    "x.tril()", "x.tril(-1)", "x.tril(2)", "x[0].tril()", "a.triu(1)", "xi.bool().triu(1)", "torch.triu(x, -10)",
    "torch.tril(a, 1)", "torch.zeros(0, 3).tril()", "x.t().triu()",
    # diag family
    "x.diag()", "x.diag(1)", "x.diag(-5)", "x[0].diag(1)", "x[0].diag(-1)", "z.diag()", "a.diag()", "torch.diag(x.t(), -1)",
    "xi.diag()", "e.diag()", "x.diag_embed()", "x.diag_embed(1)", "x.diag_embed(-1, 0, 2)", "x.diag_embed(0, 0, 0)",
    "x.diag_embed(0, 0, 3)", "z.diag_embed()", "torch.diag_embed(a, 2, -1, 0)", "x.diagflat()", "x.diagflat(-1)",
    "z.diagflat()", "e.diagflat()", "torch.diagflat(x.t(), 2)",
    "torch.block_diag(x, L([1., 2]), L(3))", "torch.block_diag()", "torch.block_diag(torch.zeros(2, 2, 2))",
    "torch.block_diag(L([1, 2]), L(3.), L(5 + 1j))", "torch.block_diag(torch.zeros(0, 2), torch.ones(2, 0))",
    "torch.block_diag(x, torch.zeros(0))", "torch.block_diag(xi)", "torch.block_diag(x, 1)",
    # meshgrid / cartesian_prod
    "torch.cartesian_prod(L([1, 2]), L([3., 4, 5]))", "torch.cartesian_prod(L([1, 2]))", "torch.cartesian_prod(L([1, 2]), x)",
    "torch.cartesian_prod(L(1), L([1]))", "torch.cartesian_prod()", "torch.cartesian_prod(L([1, 2]), L([3, 4, 5]), L([6, 7]))",
    "torch.meshgrid(L([1, 2]), L([3, 4, 5]))", "torch.meshgrid(L([1, 2]), L([3, 4, 5]), indexing='xy')",
    "torch.meshgrid([L([1, 2]), L([3, 4, 5])], indexing='ij')", "torch.meshgrid((L([1, 2]), L([3, 4, 5])), indexing='ij')",
    "torch.meshgrid(L([1, 2]), L([3., 4, 5]), indexing='ij')", "torch.meshgrid(L([1, 2]), L(3), indexing='ij')",
    "torch.meshgrid(L([1, 2]), x, indexing='ij')", "torch.meshgrid(indexing='ij')",
    "torch.meshgrid(L([1, 2]), L([3, 4, 5]), indexing='foo')", "torch.meshgrid(L([1, 2]), indexing='xy')",
    "torch.meshgrid(L([1, 2]), L([3, 4, 5]), L([6, 7, 8, 9]), indexing='xy')",
    "[g.stride() for g in torch.meshgrid(L([1., 2]), L([3., 4, 5]), indexing='ij')]",
    "[g.stride() for g in torch.meshgrid(L([1., 2]), L([3., 4, 5]), L([1., 0]), indexing='xy')]",
]


@pytest.mark.parametrize("expr", CASES)
def test_join(expr):
    C(expr)


def test_inplace_tri():
    for expr in ["x.tril_()", "x.triu_(1)", "x[0].tril_()", "x.t().triu_(-1)"]:
        C(f"!r = {expr}\nout = (r, x)")
    y = ember.ones(3, 3)
    assert y.tril_() is y and y.sum().item() == 6.


def test_meshgrid_warns_without_indexing():
    a = ember.tensor([1, 2])
    with pytest.warns(UserWarning, match="indexing argument"):
        ember.meshgrid(a, a)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.meshgrid(a, a, indexing="ij")


def test_flip_copies_and_meshgrid_views():
    x = ember.arange(6.).reshape(2, 3)
    f = x.flip(0)
    assert f._base is None and all(s > 0 for s in f.stride())
    f[0, 0] = 100.
    assert x[1, 0].item() == 3.
    g = ember.meshgrid(ember.tensor([1., 2.]), ember.tensor([3., 4., 5.]), indexing="ij")
    assert g[0]._base is not None


def test_out_and_meta():
    for mod in (torch, ember):
        x = mod.arange(6.).reshape(2, 3)
        o = mod.empty(0)
        mod.cat([x, x], 1, out=o)
        assert o.shape == (2, 6)
        mod.stack([x, x], out=o)
        assert o.shape == (2, 2, 3)
        mod.tril(x, out=o)
        assert o.tolist() == [[0., 0., 0.], [3., 4., 0.]]
    m = ember.empty(2, 3, device="meta")
    assert ember.cat([m, m], 1).shape == (2, 6)
    assert ember.stack([m, m], 0).shape == (2, 2, 3)
    assert m.flip(0).shape == (2, 3) and m.rot90().shape == (3, 2) and m.repeat(2, 1, 2).shape == (2, 2, 6)
    assert m.diag_embed().shape == (2, 3, 3) and m.tril().device.type == "meta"


R = np.random.default_rng(5)
X = R.normal(size=(3, 4))
Y = R.normal(size=(3, 4))
V = R.normal(size=(4,))
GRADS = [
    ("torch.cat([x, y])", {}), ("torch.cat([x, y[:, :2]], 1)", {}), ("torch.cat([x, torch.zeros(0, dtype=torch.float64)])", {}),
    ("torch.cat([x, y.float().double()], -1)", {}), ("torch.stack([x, y], 1)", {}), ("torch.stack([x, y], -1)", {}),
    ("torch.hstack([x, y])", {}), ("torch.vstack([x, v])", {"v": V}), ("torch.dstack([x, y])", {}),
    ("torch.column_stack([v, v * 2])", {"v": V}), ("torch.row_stack([v, x])", {"v": V}),
    ("x.repeat(2, 3)", {}), ("x.repeat(2, 1, 2)", {}), ("x.tile(2)", {}), ("v.repeat_interleave(3)", {"v": V}),
    ("x.repeat_interleave(2, dim=1)", {}), ("x.repeat_interleave(torch.tensor([2, 0, 1]), dim=0)", {}),
    ("x.flip(0)", {}), ("x.flip((0, 1))", {}), ("x.fliplr()", {}), ("x.roll(1)", {}), ("x.roll((2, -1), (1, 0))", {}),
    ("x.rot90()", {}), ("x.rot90(3, (1, 0))", {}), ("x.rot90(2)", {}), ("x.tril()", {}), ("x.triu(1)", {}),
    ("(x * 1).tril_(-1)", {}), ("x.diag()", {}), ("x.diag(1)", {}), ("v.diag(-1)", {"v": V}), ("x.diag_embed(1, 0, 2)", {}),
    ("x.diagflat()", {}), ("torch.block_diag(x, v, y[0, 0])", {"v": V}),
    ("torch.cartesian_prod(v, v * 2)", {"v": V}), ("torch.meshgrid(v, v[:2], indexing='xy')", {"v": V}),
    ("torch.meshgrid(v, v[:3], indexing='ij')", {"v": V}),
]


@pytest.mark.parametrize("prog,extra", GRADS)
def test_grads(prog, extra):
    inputs = {"x": X, "y": Y}
    inputs.update(extra)
    check_grad(prog, inputs)


def test_grad_fn_names():
    progs = {"torch.cat([x, x])": "CatBackward0", "torch.stack([x, x])": "StackBackward0",
             "x.repeat(2, 1)": "RepeatBackward0", "x.tile(2)": "RepeatBackward0", "x.flip(0)": "FlipBackward0",
             "x.roll(1)": "RollBackward0", "x.rot90()": "Rot90Backward0", "x.tril()": "TrilBackward0",
             "x.triu()": "TriuBackward0", "x.diag()": "DiagonalBackward0_copy", "x[0].diag()": "DiagEmbedBackward0",
             "x.diag_embed()": "DiagEmbedBackward0", "torch.block_diag(x, x)": "BlockDiagBackward0",
             "x.repeat_interleave(torch.tensor([1, 2]), dim=0)": "IndexSelectBackward0",
             "torch.meshgrid(x[0], x[1], indexing='ij')[0]": "ExpandBackward0"}
    for prog, node in progs.items():
        for mod in (torch, ember):
            g = {"torch": mod, "x": mod.ones(2, 3, requires_grad=True)}
            assert eval(prog, g).grad_fn.name() == node, (mod.__name__, prog)


KW_CASES = ["torch.cat([x, x], axis=1)", "torch.stack([x, x], axis=1)", "x.repeat_interleave(2, axis=0)",
            "torch.cat(tensors=[x])", "x.repeat(repeats=(2, 1))", "x.tile(dims=(2,))", "torch.tile(x, dims=(2,))",
            "torch.roll(x, shifts=1, dims=0)", "torch.rot90(x, k=1, dims=[0, 1])", "x.tril(diagonal=1)",
            "torch.diag(x, diagonal=1)", "torch.diag_embed(x, offset=0, dim1=0, dim2=2)", "torch.flip(x, dims=[0])"]


@pytest.mark.parametrize("expr", KW_CASES)
def test_keyword_spellings(expr):
    C(expr)
