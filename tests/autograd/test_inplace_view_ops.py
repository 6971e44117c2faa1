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
