"""Loss modules against torch: every reduction, weights, targets, gradients, reprs and constructor errors."""
import warnings

import numpy as np
import pytest

import ember
from tests.nn.modules._harness import check, same_error, torch

rng = np.random.default_rng(6)


def x(*shape):
    return rng.standard_normal(shape)


N, C = 4, 5
LOGITS = x(N, C)
CLS = rng.integers(0, C, N)
PROB = rng.random((N, C)) * 0.9 + 0.05
BIN = (rng.random((N, C)) > 0.5).astype(np.float64)
SIGN = np.where(rng.random(N) > 0.5, 1.0, -1.0)
W = rng.random(C) + 0.5

CASES = [
    ("L1Loss", lambda lib, r: lib.nn.L1Loss(reduction=r), lambda: [x(N, C), x(N, C)]),
    ("MSELoss", lambda lib, r: lib.nn.MSELoss(reduction=r), lambda: [x(N, C), x(N, C)]),
    ("SmoothL1Loss", lambda lib, r: lib.nn.SmoothL1Loss(reduction=r, beta=0.5), lambda: [x(N, C), x(N, C)]),
    ("HuberLoss", lambda lib, r: lib.nn.HuberLoss(reduction=r, delta=0.7), lambda: [x(N, C), x(N, C)]),
    ("CrossEntropyLoss", lambda lib, r: lib.nn.CrossEntropyLoss(reduction=r), lambda: [LOGITS, CLS]),
    ("CrossEntropyLoss weight smooth", lambda lib, r: lib.nn.CrossEntropyLoss(
        weight=lib.tensor(W), reduction=r, label_smoothing=0.1, ignore_index=2), lambda: [LOGITS, CLS]),
    ("CrossEntropyLoss probs", lambda lib, r: lib.nn.CrossEntropyLoss(reduction=r), lambda: [LOGITS, PROB]),
    ("CrossEntropyLoss 4d", lambda lib, r: lib.nn.CrossEntropyLoss(reduction=r),
     lambda: [x(2, C, 3, 2), rng.integers(0, C, (2, 3, 2))]),
    ("NLLLoss", lambda lib, r: lib.nn.NLLLoss(weight=lib.tensor(W), reduction=r), lambda: [LOGITS, CLS]),
    ("BCELoss", lambda lib, r: lib.nn.BCELoss(reduction=r), lambda: [PROB, BIN]),
    ("BCELoss weight", lambda lib, r: lib.nn.BCELoss(weight=lib.tensor(W), reduction=r), lambda: [PROB, BIN]),
    ("BCEWithLogitsLoss", lambda lib, r: lib.nn.BCEWithLogitsLoss(reduction=r), lambda: [LOGITS, BIN]),
    ("BCEWithLogitsLoss pos_weight", lambda lib, r: lib.nn.BCEWithLogitsLoss(
        weight=lib.tensor(W), pos_weight=lib.tensor(W[::-1].copy()), reduction=r), lambda: [LOGITS, BIN]),
    ("KLDivLoss", lambda lib, r: lib.nn.KLDivLoss(reduction=r), lambda: [np.log(PROB), PROB]),
    ("KLDivLoss log_target", lambda lib, r: lib.nn.KLDivLoss(reduction=r, log_target=True),
     lambda: [np.log(PROB), np.log(PROB[::-1].copy())]),
    ("PoissonNLLLoss", lambda lib, r: lib.nn.PoissonNLLLoss(reduction=r), lambda: [x(N, C), PROB * 4]),
    ("PoissonNLLLoss full", lambda lib, r: lib.nn.PoissonNLLLoss(log_input=False, full=True, reduction=r),
     lambda: [PROB, PROB * 4]),
    ("GaussianNLLLoss", lambda lib, r: lib.nn.GaussianNLLLoss(reduction=r), lambda: [x(N, C), x(N, C), PROB]),
    ("GaussianNLLLoss full", lambda lib, r: lib.nn.GaussianNLLLoss(full=True, eps=1e-3, reduction=r),
     lambda: [x(N, C), x(N, C), PROB[:, :1].copy()]),
    ("CosineEmbeddingLoss", lambda lib, r: lib.nn.CosineEmbeddingLoss(0.2, reduction=r),
     lambda: [x(N, C), x(N, C), SIGN]),
    ("MarginRankingLoss", lambda lib, r: lib.nn.MarginRankingLoss(0.3, reduction=r), lambda: [x(N), x(N), SIGN]),
    ("HingeEmbeddingLoss", lambda lib, r: lib.nn.HingeEmbeddingLoss(0.5, reduction=r),
     lambda: [x(N, C), np.where(BIN > 0, 1.0, -1.0)]),
    ("TripletMarginLoss", lambda lib, r: lib.nn.TripletMarginLoss(reduction=r), lambda: [x(N, C), x(N, C), x(N, C)]),
    ("TripletMarginLoss swap p1", lambda lib, r: lib.nn.TripletMarginLoss(0.5, p=1, swap=True, reduction=r),
     lambda: [x(N, C), x(N, C), x(N, C)]),
    ("TripletMarginWithDistanceLoss", lambda lib, r: lib.nn.TripletMarginWithDistanceLoss(reduction=r),
     lambda: [x(N, C), x(N, C), x(N, C)]),
    ("MultiLabelSoftMarginLoss", lambda lib, r: lib.nn.MultiLabelSoftMarginLoss(weight=lib.tensor(W), reduction=r),
     lambda: [LOGITS, BIN]),
    ("MultiMarginLoss", lambda lib, r: lib.nn.MultiMarginLoss(reduction=r), lambda: [LOGITS, CLS]),
    ("MultiMarginLoss p2 weight", lambda lib, r: lib.nn.MultiMarginLoss(p=2, margin=0.5, weight=lib.tensor(W),
                                                                        reduction=r), lambda: [LOGITS, CLS]),
    ("MultiLabelMarginLoss", lambda lib, r: lib.nn.MultiLabelMarginLoss(reduction=r),
     lambda: [LOGITS, np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [0, -1, 2, 1, 1], [4, 4, -1, 0, 0]])]),
    ("SoftMarginLoss", lambda lib, r: lib.nn.SoftMarginLoss(reduction=r), lambda: [x(N, C), np.where(BIN > 0, 1., -1.)]),
]


def _grad_mask(inputs):
    return inputs


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,ctor,inputs", CASES, ids=[c[0] for c in CASES])
def test_loss(name, ctor, inputs, reduction):
    ins = inputs()

    def call(m, xs, kw):
        lib = torch if isinstance(m, torch.nn.Module) else ember
        xs = list(xs)
        # targets of classification-style losses are data, not parameters to differentiate
        for i in range(1, len(xs)):
            if isinstance(xs[i], lib.Tensor) and xs[i].requires_grad and name not in (
                    "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "TripletMarginLoss",
                    "TripletMarginLoss swap p1", "TripletMarginWithDistanceLoss", "MarginRankingLoss",
                    "CosineEmbeddingLoss", "GaussianNLLLoss", "GaussianNLLLoss full", "KLDivLoss",
                    "KLDivLoss log_target"):
                xs[i] = xs[i].detach()
            if name in ("CosineEmbeddingLoss", "MarginRankingLoss") and i == len(xs) - 1:
                xs[i] = xs[i].detach()
        return m(*xs)
    check(lambda lib: ctor(lib, reduction), ins, call=call)
    check(lambda lib: ctor(lib, reduction), ins, "float32", call=call)


def test_ctc_loss():
    T, B, Cc, S = 8, 2, 5, 3
    logp = np.log(rng.dirichlet(np.ones(Cc), size=(T, B)))
    targets = rng.integers(1, Cc, (B, S))
    for reduction in ("mean", "sum", "none"):
        def call(m, xs, kw):
            lib = torch if isinstance(m, torch.nn.Module) else ember
            return m(xs[0], xs[1], lib.tensor([8, 6]), lib.tensor([3, 2]))
        check(lambda lib: lib.nn.CTCLoss(reduction=reduction, zero_infinity=True), [logp, targets], call=call)


@pytest.mark.parametrize("expr", [
    "nn.MSELoss()", "nn.CrossEntropyLoss(label_smoothing=0.1)", "nn.CTCLoss(blank=1)", "nn.TripletMarginLoss()",
    "nn.TripletMarginWithDistanceLoss()", "nn.BCEWithLogitsLoss()",
])
def test_loss_repr(expr):
    assert repr(eval(expr, {"nn": ember.nn})) == repr(eval(expr, {"nn": torch.nn}))


def test_loss_buffers_and_attributes():
    w = np.array([1.0, 2.0, 3.0])
    for name in ("CrossEntropyLoss", "NLLLoss", "BCELoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss"):
        e = getattr(ember.nn, name)(weight=ember.tensor(w))
        t = getattr(torch.nn, name)(weight=torch.tensor(w))
        assert list(e.state_dict()) == list(t.state_dict()) == ["weight"]
    e = ember.nn.BCEWithLogitsLoss(pos_weight=ember.tensor(w))
    t = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w))
    assert list(e.state_dict()) == list(t.state_dict()) == ["pos_weight"]
    assert ember.nn.CrossEntropyLoss().ignore_index == -100
    assert ember.nn.CTCLoss().zero_infinity is False and ember.nn.CTCLoss().blank == 0


@pytest.mark.parametrize("size_average,reduce", [(None, False), (False, None), (False, True), (True, True),
                                                 (True, False)])
def test_legacy_reduction_args(size_average, reduce):
    with warnings.catch_warnings(record=True) as wt:
        warnings.simplefilter("always")
        t = torch.nn.MSELoss(size_average=size_average, reduce=reduce)
    with warnings.catch_warnings(record=True) as we:
        warnings.simplefilter("always")
        e = ember.nn.MSELoss(size_average=size_average, reduce=reduce)
    assert e.reduction == t.reduction
    assert [str(w.message) for w in we] == [str(w.message) for w in wt]


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.HuberLoss(delta="1"),
    lambda lib: lib.nn.MultiMarginLoss(p=3),
    lambda lib: lib.nn.MultiMarginLoss(weight=lib.ones(2, 2)),
    lambda lib: lib.nn.TripletMarginLoss(margin=0),
    lambda lib: lib.nn.TripletMarginWithDistanceLoss(margin=-1),
])
def test_loss_ctor_errors(make):
    same_error(lambda: make(torch), lambda: make(ember))


def test_nllloss2d_deprecated():
    with pytest.warns(FutureWarning, match="NLLLoss2d"):
        m = ember.nn.NLLLoss2d()
    assert m.ignore_index == -100


def test_adaptive_log_softmax():
    inp = x(6, 8)
    tgt = np.array([0, 3, 5, 9, 12, 14])

    def call(m, xs, kw):
        lib = torch if isinstance(m, torch.nn.Module) else ember
        out = m(xs[0], lib.tensor(tgt))
        return out.output, out.loss, m.log_prob(xs[0]), m.predict(xs[0].detach())
    check(lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 15, [4, 10], div_value=2.0), [inp], call=call)
    check(lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 15, [2], head_bias=True), [inp], call=call)

    def call0(m, xs, kw):
        lib = torch if isinstance(m, torch.nn.Module) else ember
        return tuple(m(xs[0], lib.tensor(11)))
    check(lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 15, [4, 10]), [x(8)], call=call0)
    same_error(lambda: torch.nn.AdaptiveLogSoftmaxWithLoss(8, 15, [4, 4]),
               lambda: ember.nn.AdaptiveLogSoftmaxWithLoss(8, 15, [4, 4]))
    mt, me = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 15, [4]), ember.nn.AdaptiveLogSoftmaxWithLoss(8, 15, [4])
    same_error(lambda: mt(torch.randn(2, 8), torch.tensor([1, 20])), lambda: me(ember.randn(2, 8), ember.tensor([1, 20])))
