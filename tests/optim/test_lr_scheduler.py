"""Every lr scheduler against torch's: the lr (and momentum/beta1) of every param group over 100 steps,
bit for bit; warnings, errors, state_dict layout and loading torch's state."""
import math
import warnings

import pytest

import ember

from ._util import convert

torch = pytest.importorskip("torch")


def _optimizer(lib, name="SGD", lr=0.1, groups=2, **kw):
    ps = [lib.zeros(2, requires_grad=True) for _ in range(groups)]
    if name == "SGD":
        kw.setdefault("momentum", 0.9)
    return getattr(lib.optim, name)([{"params": [p], "lr": lr * (i + 1)} for i, p in enumerate(ps)], **kw)


def _momentum(g):
    return g["momentum"] if "momentum" in g else g["betas"][0]


def _sequence(lib, make, steps=100, opt_name="SGD", metric=None, epochs=None, **okw):
    """lrs and momenta after construction and after each step; the warnings raised; the final state_dict."""
    opt = _optimizer(lib, opt_name, **okw)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        sched = make(lib.optim.lr_scheduler, opt)
        rows = [[g["lr"] for g in opt.param_groups] + [_momentum(g) for g in opt.param_groups]]
        for i in range(steps):
            opt.step()
            if metric is not None:
                sched.step(metric(i))
            elif epochs is not None:
                sched.step(epochs(i))
            else:
                sched.step()
            rows.append([g["lr"] for g in opt.param_groups] + [_momentum(g) for g in opt.param_groups]
                        + list(sched.get_last_lr()))
    return rows, [(x.category, str(x.message)) for x in w], sched


class Scale:
    """A callable object: its __dict__ goes into LambdaLR's state_dict."""

    def __init__(self, r):
        self.r = r

    def __call__(self, e):
        return self.r ** e


CASES = {
    "LambdaLR": lambda L, o: L.LambdaLR(o, lambda e: 0.95 ** e),
    "LambdaLR-per-group": lambda L, o: L.LambdaLR(o, [lambda e: 0.95 ** e, Scale(0.9)]),
    "MultiplicativeLR": lambda L, o: L.MultiplicativeLR(o, lambda e: 0.97),
    "StepLR": lambda L, o: L.StepLR(o, 7, gamma=0.5),
    "MultiStepLR": lambda L, o: L.MultiStepLR(o, [10, 30, 30, 60], gamma=0.3),
    "ConstantLR": lambda L, o: L.ConstantLR(o, factor=0.25, total_iters=13),
    "LinearLR": lambda L, o: L.LinearLR(o, start_factor=0.1, end_factor=0.8, total_iters=37),
    "LinearLR-down": lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=50),
    "ExponentialLR": lambda L, o: L.ExponentialLR(o, 0.97),
    "PolynomialLR": lambda L, o: L.PolynomialLR(o, total_iters=60, power=2.5),
    "CosineAnnealingLR": lambda L, o: L.CosineAnnealingLR(o, T_max=17, eta_min=0.001),
    "CosineAnnealingWarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=0.001),
    "CosineAnnealingWarmRestarts-1": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=9),
    "CyclicLR": lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=7, step_size_down=11),
    "CyclicLR-triangular2": lambda L, o: L.CyclicLR(o, [0.01, 0.02], 0.1, step_size_up=7, mode="triangular2"),
    "CyclicLR-exp_range": lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=5, mode="exp_range", gamma=0.97,
                                                  base_momentum=0.7, max_momentum=0.95),
    "CyclicLR-custom": lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=5, scale_fn=lambda x: 1 / (1 + x),
                                               scale_mode="iterations", cycle_momentum=False),
    "OneCycleLR": lambda L, o: L.OneCycleLR(o, 0.5, total_steps=100),
    "OneCycleLR-three-phase": lambda L, o: L.OneCycleLR(o, [0.5, 0.3], epochs=10, steps_per_epoch=10,
                                                        three_phase=True, anneal_strategy="linear", pct_start=0.25),
    "OneCycleLR-no-momentum": lambda L, o: L.OneCycleLR(o, 0.5, total_steps=120, cycle_momentum=False,
                                                        div_factor=10.0, final_div_factor=100.0),
    "SequentialLR": lambda L, o: L.SequentialLR(o, [L.LinearLR(o, 0.1, total_iters=10), L.ExponentialLR(o, 0.95),
                                                    L.StepLR(o, 5)], milestones=[10, 40]),
    "ChainedScheduler": lambda L, o: L.ChainedScheduler([L.ConstantLR(o, 0.5, total_iters=20),
                                                         L.ExponentialLR(o, 0.98)]),
    "ChainedScheduler-of-Sequential": lambda L, o: L.ChainedScheduler(
        [L.SequentialLR(o, [L.ConstantLR(o, 0.5, total_iters=3), L.CosineAnnealingLR(o, 20)], [5]),
         L.MultiStepLR(o, [50, 70])]),
}


def _same_state(se, st):
    """A scheduler state_dict equals torch's: same keys, equal values (child schedulers recursively)."""
    assert list(se) == list(st), (list(se), list(st))
    for k in se:
        if k == "_schedulers":
            for a, b in zip(se[k], st[k]):
                _same_state(a, b)
        else:
            assert se[k] == st[k], k


@pytest.mark.parametrize("name", list(CASES))
def test_lr_sequence_matches_torch(name):
    e_rows, e_warn, e_s = _sequence(ember, CASES[name])
    t_rows, t_warn, t_s = _sequence(torch, CASES[name])
    assert e_rows == t_rows  # Python floats, bit for bit
    assert e_warn == t_warn
    _same_state(e_s.state_dict(), t_s.state_dict())


@pytest.mark.parametrize("name", ["OneCycleLR", "CyclicLR-exp_range"])
def test_momentum_cycles_adam_beta1(name):
    e = _sequence(ember, CASES[name], opt_name="Adam", lr=0.01)
    t = _sequence(torch, CASES[name], opt_name="Adam", lr=0.01)
    assert e[0] == t[0]
    assert all(isinstance(g["betas"], tuple) for g in e[2].optimizer.param_groups)


PLATEAU = [dict(), dict(mode="max", patience=2, threshold_mode="abs", cooldown=3, min_lr=[0.02, 0.01], factor=0.5),
           dict(patience=0, eps=0.05, factor=0.3), dict(patience=1, threshold=0.1, cooldown=1)]


@pytest.mark.parametrize("kw", PLATEAU)
def test_reduce_lr_on_plateau(kw):
    def metric(i):
        return [5, 4, 4, 4, 4, 3.9999, 3, 3, 3, 3][i % 10] - (i // 10) * 0.5

    def make(L, o):
        return L.ReduceLROnPlateau(o, **kw)
    e_rows, e_warn, e_s = _sequence(ember, make, metric=metric)
    t_rows, t_warn, t_s = _sequence(torch, make, metric=metric)
    assert e_rows == t_rows and e_warn == t_warn
    assert e_s.state_dict() == t_s.state_dict()
    # metrics may be 0-d tensors
    opt = _optimizer(ember)
    s = ember.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    s.step(ember.tensor(1.0))
    s.step(ember.tensor(2.0))
    assert s.best == 1.0 and opt.param_groups[0]["lr"] == pytest.approx(0.01)


CLOSED = {
    "StepLR": lambda L, o: L.StepLR(o, 3, gamma=0.5),
    "MultiStepLR": lambda L, o: L.MultiStepLR(o, [2, 5, 5], gamma=0.5),
    "ConstantLR": lambda L, o: L.ConstantLR(o, 0.5, total_iters=4),
    "LinearLR": lambda L, o: L.LinearLR(o, 0.2, total_iters=6),
    "ExponentialLR": lambda L, o: L.ExponentialLR(o, 0.9),
    "PolynomialLR": lambda L, o: L.PolynomialLR(o, total_iters=8, power=2.0),
    "CosineAnnealingLR": lambda L, o: L.CosineAnnealingLR(o, T_max=6, eta_min=0.01),
    "LambdaLR": lambda L, o: L.LambdaLR(o, lambda e: 1 / (1 + e)),
    "CosineAnnealingWarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    "CosineAnnealingWarmRestarts-1": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=4),
}


@pytest.mark.parametrize("name", list(CLOSED))
def test_step_with_epoch_uses_closed_form(name):
    """Deprecated ``step(epoch)``: the closed form where torch has one (fractional epochs for warm restarts)."""
    epochs = [3, 7, 1, 10, 10, 0, 5.5, 2.25, 13, 20] if "Warm" in name else [3, 7, 1, 10, 10, 0, 5, 2, 13, 20]
    e = _sequence(ember, CLOSED[name], steps=len(epochs), epochs=lambda i: epochs[i])
    t = _sequence(torch, CLOSED[name], steps=len(epochs), epochs=lambda i: epochs[i])
    assert e[0] == t[0]
    assert e[1] == t[1]
    # (CosineAnnealingWarmRestarts takes fractional epochs as a feature: no deprecation warning)
    assert any("epoch parameter" in m for _, m in e[1]) == ("Warm" not in name)


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fn()
    return [(x.category, str(x.message)) for x in w]


def test_warnings_like_torch():
    for case in ("before", "overridden", "get_lr", "ok"):
        got = []
        for lib in (ember, torch):
            opt = _optimizer(lib)

            def run():
                s = lib.optim.lr_scheduler.StepLR(opt, 2)
                if case == "overridden":
                    opt.step = lambda *a, **k: None
                if case != "before":
                    opt.step()
                s.step()
                if case == "get_lr":
                    s.get_lr()
                s.step()
            got.append(_warnings_of(run))
        assert got[0] == got[1], case
        assert (len(got[0]) == 0) == (case == "ok")


def test_step_order_warning_text():
    opt = _optimizer(ember)
    s = ember.optim.lr_scheduler.ExponentialLR(opt, 0.5)
    with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
        s.step()
    opt2 = _optimizer(ember)
    s2 = ember.optim.lr_scheduler.ExponentialLR(opt2, 0.5)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        s2.get_lr()
    # the optimizer's step is wrapped once, however many schedulers watch it; hooks still run
    calls = []
    opt2.register_step_post_hook(lambda *a: calls.append(1))
    ember.optim.lr_scheduler.StepLR(opt2, 3)
    opt2.step()
    assert getattr(opt2.step, "_wrapped_by_lr_sched", False) and opt2._opt_called and calls == [1]


ERRORS = [
    lambda L, o, lib: L.StepLR(object(), 3),
    lambda L, o, lib: L.StepLR(o, 3, last_epoch=5),
    lambda L, o, lib: L.ConstantLR(o, factor=1.5),
    lambda L, o, lib: L.LinearLR(o, start_factor=0),
    lambda L, o, lib: L.LinearLR(o, end_factor=1.5),
    lambda L, o, lib: L.LambdaLR(o, [lambda e: 1.0]),
    lambda L, o, lib: L.MultiplicativeLR(o, 0.5),
    lambda L, o, lib: L.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda L, o, lib: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5),
    lambda L, o, lib: L.CosineAnnealingWarmRestarts(o, T_0=2, eta_min="x"),
    lambda L, o, lib: L.CyclicLR(o, 0.1, 1.0, mode="bogus"),
    lambda L, o, lib: L.CyclicLR(o, [0.1], 1.0),
    lambda L, o, lib: L.CyclicLR(_optimizer(lib, "Adagrad"), 0.1, 1.0),
    lambda L, o, lib: L.OneCycleLR(o, 0.1),
    lambda L, o, lib: L.OneCycleLR(o, 0.1, total_steps=0),
    lambda L, o, lib: L.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=-1),
    lambda L, o, lib: L.OneCycleLR(o, 0.1, total_steps=10, pct_start=1),
    lambda L, o, lib: L.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="exp"),
    lambda L, o, lib: L.ReduceLROnPlateau(o, factor=1.0),
    lambda L, o, lib: L.ReduceLROnPlateau(o, mode="avg"),
    lambda L, o, lib: L.ReduceLROnPlateau(o, threshold_mode="pct"),
    lambda L, o, lib: L.ReduceLROnPlateau(o, min_lr=[0.1]),
    lambda L, o, lib: L.SequentialLR(o, [], []),
    lambda L, o, lib: L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o, 3)], [1, 2]),
    lambda L, o, lib: L.SequentialLR(o, [L.StepLR(o, 2), L.ReduceLROnPlateau(o)], [1]),
    lambda L, o, lib: L.ChainedScheduler([]),
    lambda L, o, lib: L.ChainedScheduler([L.StepLR(o, 2), L.StepLR(_optimizer(lib), 2)]),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_like_torch(i):
    res = []
    for lib in (ember, torch):
        L = lib.optim.lr_scheduler
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(Exception) as e:
                ERRORS[i](L, _optimizer(lib), lib)
        msg = str(e.value)
        # messages that print an optimizer object differ only by the library's repr of it
        res.append((type(e.value), msg if "which is different from" not in msg else msg.split(" has ")[0]))
    assert res[0] == res[1]


def test_one_cycle_past_the_end():
    for lib in (ember, torch):
        opt = _optimizer(lib)
        s = lib.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=3)
        for _ in range(3):
            opt.step()
            s.step()
        with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
            s.step()


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "OneCycleLR", "CyclicLR", "SequentialLR",
                                  "ChainedScheduler", "LambdaLR-per-group", "CosineAnnealingWarmRestarts"])
def test_load_torch_state_and_continue(name):
    """A torch scheduler's state_dict (after 37 steps) loaded into ember continues exactly like torch."""
    topt = _optimizer(torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts = CASES[name](torch.optim.lr_scheduler, topt)
        for _ in range(37):
            topt.step()
            ts.step()
        eopt = _optimizer(ember)
        es = CASES[name](ember.optim.lr_scheduler, eopt)
        eopt.load_state_dict(convert(topt.state_dict(), ember))
        es.load_state_dict(convert(ts.state_dict(), ember))
        _same_state(es.state_dict(), ts.state_dict())
        for _ in range(40):
            topt.step()
            ts.step()
            eopt.step()
            es.step()
            assert [g["lr"] for g in eopt.param_groups] == [g["lr"] for g in topt.param_groups]
            assert es.get_last_lr() == ts.get_last_lr()


def test_callable_object_state_in_lambda_lr():
    opt = _optimizer(ember)
    f = Scale(0.5)
    s = ember.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1.0, f])
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [None, {"r": 0.5}]
    f.r = 0.1
    s.load_state_dict(sd)
    assert f.r == 0.5 and "lr_lambdas" in sd


def test_tensor_lr_is_updated_in_place():
    res = []
    for lib in (ember, torch):
        p = lib.zeros(2, requires_grad=True)
        lr = lib.tensor(0.1)
        opt = lib.optim.Adam([p], lr=lr)
        s = lib.optim.lr_scheduler.ExponentialLR(opt, 0.5)
        for _ in range(3):
            p.grad = lib.ones(2)
            opt.step()
            s.step()
        assert opt.param_groups[0]["lr"] is lr
        res.append((lr.item(), [float(x) for x in s.get_last_lr()], p.detach().numpy().tolist()))
    assert res[0][:2] == res[1][:2]
    assert res[0][2] == pytest.approx(res[1][2], rel=1e-6)


def test_base_and_last_epoch_resume():
    for lib in (ember, torch):
        opt = _optimizer(lib)
        lib.optim.lr_scheduler.StepLR(opt, 2)
        s = lib.optim.lr_scheduler.StepLR(opt, 2, gamma=0.5, last_epoch=3)
        assert s.last_epoch == 4 and s.base_lrs == [0.1, 0.2]
    with pytest.raises(NotImplementedError):
        ember.optim.lr_scheduler.LRScheduler(_optimizer(ember))
    assert math.isinf(ember.optim.lr_scheduler.ReduceLROnPlateau(_optimizer(ember)).best)
