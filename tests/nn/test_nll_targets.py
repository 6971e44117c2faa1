"""nll_loss / cross_entropy over class-index targets, against torch: the all-in-range fast path and every case
that must leave it (ignored targets, an ignore_index that is a class, out-of-range and negative targets, class
weights), with values, input gradients, node names and the error torch raises."""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

R = np.random.default_rng(3)
LOGITS = R.standard_normal((6, 5))

TARGETS = {
    "all_valid": [0, 4, 2, 2, 1, 3],
    "ignored": [0, -100, 2, 2, -100, 3],
    "ignore_is_class": [0, 4, 2, 2, 1, 3],  # run with ignore_index=2
    "one_row": [3],
}


def _loss(lib, name, dtype, reduction, fn, weight):
    rows = len(TARGETS[name])
    x = lib.tensor(LOGITS[:rows], dtype=getattr(lib, dtype), requires_grad=True)
    t = lib.tensor(TARGETS[name])
    kw = {"reduction": reduction, "ignore_index": 2 if name == "ignore_is_class" else -100}
    if weight:
        kw["weight"] = lib.tensor([0.5, 1.0, 2.0, 0.25, 1.5], dtype=getattr(lib, dtype))
    F = lib.nn.functional
    out = F.cross_entropy(x, t, **kw) if fn == "ce" else F.nll_loss(F.log_softmax(x, 1), t, **kw)
    g = (out * lib.arange(out.numel(), dtype=out.dtype).reshape(out.shape).add(1)).sum()
    g.backward()
    return out.detach().numpy(), x.grad.numpy(), type(out.grad_fn).__name__


@pytest.mark.parametrize("name", list(TARGETS))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("fn", ["ce", "nll"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weight", [False, True])
def test_matches_torch(name, reduction, fn, dtype, weight):
    e = _loss(ember, name, dtype, reduction, fn, weight)
    t = _loss(torch, name, dtype, reduction, fn, weight)
    tol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(e[0], t[0], rtol=tol, atol=tol)
    np.testing.assert_allclose(e[1], t[1], rtol=tol, atol=tol)
    assert e[2] == t[2]


def test_all_ignored_mean_is_nan_like_torch():
    for lib in (ember, torch):
        x = lib.tensor(LOGITS[:2], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # torch gives NaN without a warning
            out = lib.nn.functional.cross_entropy(x, lib.tensor([-100, -100]))
            out.backward()
        assert np.isnan(out.item())
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 5)))  # ignored rows get no gradient


@pytest.mark.parametrize("bad", [5, -1, 7, -100])
def test_out_of_range_target_raises_like_torch(bad):
    errors = []
    for lib in (ember, torch):
        x = lib.tensor(LOGITS[:3])
        t = lib.tensor([0, bad, 1])
        try:
            lib.nn.functional.nll_loss(x, t, ignore_index=-7)
        except Exception as exc:  # noqa: BLE001 - the type is what is compared
            errors.append(type(exc))
        else:
            errors.append(None)
    assert errors[0] is not None and errors[0] is errors[1]


def test_ignore_index_out_of_classes_and_negative_targets():
    # ignore_index=-1 marks the -1 rows, and the others are all classes: ember's fast path must not take them
    for lib in (ember, torch):
        x = lib.tensor(LOGITS[:4], requires_grad=True)
        out = lib.nn.functional.cross_entropy(x, lib.tensor([1, -1, 3, -1]), ignore_index=-1)
        out.backward()
        if lib is ember:
            ev, eg = out.item(), x.grad.numpy()
        else:
            np.testing.assert_allclose(ev, out.item(), rtol=1e-6)
            np.testing.assert_allclose(eg, x.grad.numpy(), rtol=1e-6, atol=1e-7)
