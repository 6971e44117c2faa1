"""Result dtypes of the losses when the input, target and weights differ in dtype, against torch:
weights never promote BCE / BCE-with-logits (whose result takes the target's dtype), class weights of
nll/cross_entropy/multi_margin must match the input, huber and soft-margin keep the input's dtype."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

_RNG = np.random.default_rng(0)
X = _RNG.random((4, 3))
Y = _RNG.random((4, 3))
W = _RNG.random(3)
TG = np.array([0, 2, 1, 1])


def run(fn, M):
    try:
        r = fn(M)
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return ("err", type(e).__name__, str(e))
    return ("ok", str(r.dtype).split(".")[-1], tuple(r.shape), r.detach().double().numpy())


def check(fn, tol):
    t, e = run(fn, torch), run(fn, ember)
    if t[0] == "err" or e[0] == "err":
        assert t == e, f"\ntorch: {t}\nember: {e}"
        return
    assert t[1:3] == e[1:3], f"\ntorch: {t[:3]}\nember: {e[:3]}"
    np.testing.assert_allclose(e[3], t[3], rtol=tol, atol=tol)


def a(M, x, dt):
    return M.tensor(x, dtype=getattr(M, dt))


CASES = [
    # (label, fn(M, reduction), tolerance)
    ("bce_w64", lambda M, r: M.nn.functional.binary_cross_entropy(a(M, X, "float32"), a(M, Y, "float32"),
                                                                  a(M, W, "float64"), reduction=r), 1e-6),
    ("bce_x64_w32", lambda M, r: M.nn.functional.binary_cross_entropy(a(M, X, "float64"), a(M, Y, "float64"),
                                                                      a(M, W, "float32"), reduction=r), 1e-6),
    ("bce_w16", lambda M, r: M.nn.functional.binary_cross_entropy(a(M, X, "float32"), a(M, Y, "float32"),
                                                                  a(M, W, "float16"), reduction=r), 1e-6),
    ("bce_x16_w32", lambda M, r: M.nn.functional.binary_cross_entropy(a(M, X, "float16"), a(M, Y, "float16"),
                                                                      a(M, W, "float32"), reduction=r), 2e-2),
    ("bce_wint", lambda M, r: M.nn.functional.binary_cross_entropy(a(M, X, "float32"), a(M, Y, "float32"),
                                                                   M.tensor([1, 2, 3]), reduction=r), 1e-6),
    ("bce_y64", lambda M, r: M.nn.functional.binary_cross_entropy(a(M, X, "float32"), a(M, Y, "float64"),
                                                                  reduction=r), 0),
    ("bcel_w64", lambda M, r: M.nn.functional.binary_cross_entropy_with_logits(
        a(M, X, "float32"), a(M, Y, "float32"), a(M, W, "float64"), reduction=r), 1e-6),
    ("bcel_pw64", lambda M, r: M.nn.functional.binary_cross_entropy_with_logits(
        a(M, X, "float32"), a(M, Y, "float32"), pos_weight=a(M, W, "float64"), reduction=r), 1e-6),
    ("bcel_y64", lambda M, r: M.nn.functional.binary_cross_entropy_with_logits(
        a(M, X, "float32"), a(M, Y, "float64"), reduction=r), 1e-6),
    ("bcel_x64_y32", lambda M, r: M.nn.functional.binary_cross_entropy_with_logits(
        a(M, X, "float64"), a(M, Y, "float32"), reduction=r), 1e-6),
    ("bcel_x64_y32_w16", lambda M, r: M.nn.functional.binary_cross_entropy_with_logits(
        a(M, X, "float64"), a(M, Y, "float32"), a(M, W, "float16"), reduction=r), 1e-6),
    ("bcel_x16_y32", lambda M, r: M.nn.functional.binary_cross_entropy_with_logits(
        a(M, X, "float16"), a(M, Y, "float32"), reduction=r), 2e-3),  # torch takes log_sigmoid in half
    ("bcel_x32_y16", lambda M, r: M.nn.functional.binary_cross_entropy_with_logits(
        a(M, X, "float32"), a(M, Y, "float16"), reduction=r), 2e-3),
    ("bcel_ylong", lambda M, r: M.nn.functional.binary_cross_entropy_with_logits(
        a(M, X, "float32"), M.tensor(Y > 0.5).long(), reduction=r), 0),
    ("bcel_ybool", lambda M, r: M.nn.functional.binary_cross_entropy_with_logits(
        a(M, X, "float32"), M.tensor(Y > 0.5), reduction=r), 0),
    ("nll_w64", lambda M, r: M.nn.functional.nll_loss(a(M, X, "float32"), M.tensor(TG), a(M, W, "float64"),
                                                      reduction=r), 0),
    ("nll_x64_w32", lambda M, r: M.nn.functional.nll_loss(a(M, X, "float64"), M.tensor(TG), a(M, W, "float32"),
                                                          reduction=r), 0),
    ("nll_w16", lambda M, r: M.nn.functional.nll_loss(a(M, X, "float32"), M.tensor(TG), a(M, W, "float16"),
                                                      reduction=r), 0),
    ("nll_w32", lambda M, r: M.nn.functional.nll_loss(a(M, X, "float32"), M.tensor(TG), a(M, W, "float32"),
                                                      reduction=r), 1e-6),
    ("ce_w64", lambda M, r: M.nn.functional.cross_entropy(a(M, X, "float32"), M.tensor(TG), a(M, W, "float64"),
                                                          reduction=r), 0),
    ("ce_w64_ls", lambda M, r: M.nn.functional.cross_entropy(a(M, X, "float32"), M.tensor(TG), a(M, W, "float64"),
                                                             label_smoothing=0.1, reduction=r), 0),
    ("ce_probs_w64", lambda M, r: M.nn.functional.cross_entropy(a(M, X, "float32"), a(M, Y, "float32"),
                                                                a(M, W, "float64"), reduction=r), 1e-6),
    ("mm_w64", lambda M, r: M.nn.functional.multi_margin_loss(a(M, X, "float32"), M.tensor(TG),
                                                              weight=a(M, W, "float64"), reduction=r), 0),
    ("mlsm_w64", lambda M, r: M.nn.functional.multilabel_soft_margin_loss(
        a(M, X, "float32"), M.tensor(Y > 0.5).float(), a(M, W, "float64"), reduction=r), 1e-6),
    ("huber_y64", lambda M, r: M.nn.functional.huber_loss(a(M, X, "float32"), a(M, Y, "float64"), reduction=r),
     1e-6),
    ("huber_x64_y32", lambda M, r: M.nn.functional.huber_loss(a(M, X, "float64"), a(M, Y, "float32"),
                                                              reduction=r), 1e-6),
    ("smooth_l1_y64", lambda M, r: M.nn.functional.smooth_l1_loss(a(M, X, "float32"), a(M, Y, "float64"),
                                                                  reduction=r), 1e-6),
    ("soft_margin_y64", lambda M, r: M.nn.functional.soft_margin_loss(a(M, X, "float32"), a(M, Y, "float64"),
                                                                      reduction=r), 1e-6),
    ("soft_margin_yint", lambda M, r: M.nn.functional.soft_margin_loss(a(M, X, "float32"),
                                                                       M.ones(4, 3, dtype=M.int64), reduction=r), 1e-6),
    ("mse_y64", lambda M, r: M.nn.functional.mse_loss(a(M, X, "float32"), a(M, Y, "float64"), reduction=r), 1e-6),
    ("l1_y64", lambda M, r: M.nn.functional.l1_loss(a(M, X, "float32"), a(M, Y, "float64"), reduction=r), 1e-6),
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_loss_dtype(case, reduction):
    _, fn, tol = case
    check(lambda M: fn(M, reduction), tol)


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in ("bce_w64", "bcel_w64", "bcel_pw64", "bcel_x64_y32",
                                                               "soft_margin_y64", "mlsm_w64")],
                         ids=lambda c: c[0])
def test_loss_dtype_gradients(case):
    """The input's gradient has the input's dtype and torch's values when weights are wider."""
    _, fn, _ = case

    def g(M):
        x = {}
        orig = M.tensor

        def tensor(v, dtype=None, **kw):  # make the first tensor (the input) a leaf that requires grad
            t = orig(v, dtype=dtype, **kw)
            if not x and t.dtype.is_floating_point:
                t.requires_grad_(True)
                x["in"] = t
            return t
        M.tensor = tensor
        try:
            loss = fn(M, "sum")
        finally:
            M.tensor = orig
        loss.backward()
        return x["in"].grad
    check(g, 1e-5)
