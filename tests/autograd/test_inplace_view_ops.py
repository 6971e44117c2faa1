"""In-place view methods (squeeze_, unsqueeze_, t_, transpose_) on views and non-views, followed by in-place
writes: gradients as torch's."""
import pytest

import ember

torch = pytest.importorskip("torch")

PROGRAMS = [
    "(x*2).unsqueeze(0).movedim(0,1).squeeze_(1).mul_(2)",
    "(x*2).reshape(3,1).t_().mul_(3)",
    "(x*2).unsqueeze(1).transpose_(0,1).squeeze_(0).add_(1).mul_(x)",
    "(x*2)[1:].unsqueeze_(0).mul_(2)",
    "(x*2).unsqueeze_(0).mul_(2)",
    "x.clone().unsqueeze_(1).squeeze_(1).mul_(x)",
    "(x*2).view(3, 1).squeeze_().exp()",
]


@pytest.mark.parametrize("prog", PROGRAMS)
def test_inplace_view_then_write_gradients(prog):
    res = []
    for lib in (torch, ember):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        y = eval(prog, {"x": x})
        y.sum().backward()
        res.append((tuple(y.shape), x.grad.tolist()))
    assert res[0] == res[1]


# in-place writes on outputs of multi-output view functions (split, chunk, unbind, split_with_sizes), on views
# of them, and uses of them after their base changed: torch's errors (same type and text), or success
MULTI_OUTPUT = [
    "x.split(2)[0].mul_(2)",
    "(x*1).split(2)[0].mul_(2)",
    "(x*1).unbind(0)[0].mul_(2)",
    "(x*1).split([1,3])[1].add_(2)",
    "(x*1).chunk(2)[1].zero_()",
    "x.chunk(1)[0].mul_(2)",
    "(x*1).split(2)[0].unsqueeze_(0)",
    "(x*1).split(2)[0].squeeze_()",
    "(x*1).split(2)[0][0].mul_(2)",
    "(x*1).split(2)[0].view(6).mul_(2)",
    "(x*1).split(2)[1].clamp_(0)",
    "(x*1).split(2)[1].copy_(x[:2])",
    "(x*1).split(2)[1].index_fill_(0, m.tensor([0]), 1.0)",
    "a=(x*1).split(2)[0]\na[0]=1",
    "a=(x*1).split(2)[0]\na[:, 0]=1",
    "a=(x*1).split(2)[0]\nwith m.no_grad(): a.mul_(2)",
    "a=m.randn(4).split(2)[0]\na.mul_(x[0,0])",
    "a=m.randn(4).split(2)[0]\na.mul_(2)",
    "a,b=x.detach().split(2)\na.requires_grad_(True); a.mul_(2)",
    "y=x*1\na,b=y.split(2)\ny.mul_(2)\nz=a*2",
    "y=x*1\na,b=y.split(2)\ny[0].mul_(2)\nz=b*2",
    "y=x*1\na,b=y.split(2)\nc=a[0]\ny.mul_(2)\nz=c*2",
    "y=x*1\na,b=y.split(2)\nb.data.mul_(2)\nz=a*2\nz.sum().backward()",
    "y=x*1\na=y.tensor_split(2)[0]\na.mul_(2)\ny.sum().backward()",
    "y=x*1\na=y.unsafe_split(2)[0]\na.mul_(2)\na.sum().backward()",
]


@pytest.mark.parametrize("prog", MULTI_OUTPUT)
def test_multi_output_view_inplace(prog):
    res = []
    for lib in (torch, ember):
        x = lib.tensor([[1.0, -2.0, 3.0], [0.5, 1.5, -1.0], [2.0, 0.0, 1.0], [-3.0, 2.5, 0.25]],
                       dtype=lib.float64, requires_grad=True)
        try:
            exec(prog, {"m": lib, "x": x})
            res.append(("ok", None if x.grad is None else x.grad.tolist()))
        except RuntimeError as e:
            res.append(("RuntimeError", str(e)))
    assert res[0] == res[1]
