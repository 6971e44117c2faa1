"""Optimizer state_dicts: ember -> torch -> ember in the middle of training continues exactly as an
uninterrupted run; torch continues from ember's state as torch itself would; layouts match torch's."""
import copy
import pickle

import numpy as np
import pytest

import ember

from ._util import convert, make_problem, run_steps, same_structure, to_numpy

torch = pytest.importorskip("torch")

CASES = [
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True)), ("Adam", dict(amsgrad=True)), ("AdamW", dict()),
    ("Adamax", dict()), ("NAdam", dict(weight_decay=0.1)), ("RAdam", dict(decoupled_weight_decay=True,
                                                                         weight_decay=0.1)),
    ("RMSprop", dict(centered=True, momentum=0.9, lr=0.001)), ("Adagrad", dict(lr_decay=0.01)),
    ("Adadelta", dict()), ("ASGD", dict(t0=5)), ("Rprop", dict()), ("LBFGS", dict(max_iter=3)),
    ("LBFGS", dict(max_iter=3, line_search_fn="strong_wolfe", history_size=4)),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(CASES)]


def _optim(lib, name, kw, params):
    # two groups (one with its own lr) so group/param index bookkeeping is exercised; LBFGS allows one
    if name == "LBFGS":
        return getattr(lib.optim, name)(params, **kw)
    lr = kw.get("lr", 1e-3 if name != "Adadelta" else 1.0)
    return getattr(lib.optim, name)([{"params": params[:1]}, {"params": params[1:], "lr": lr * 0.5}], **kw)


def _continue_after_reload(name, kw, through_torch):
    """15 ember steps, state_dict out (via torch or not), into a fresh ember optimizer, 15 more steps."""
    transposed = name != "LBFGS"
    params, targets = make_problem(ember, transposed=transposed)
    opt = _optim(ember, name, kw, params)
    run_steps(opt, params, targets, 15)
    sd = opt.state_dict()
    extra = {}
    if through_torch:
        tparams = [torch.tensor(to_numpy(p).copy()).requires_grad_() for p in params]
        topt = _optim(torch, name, kw, tparams)
        topt.load_state_dict(convert(sd, torch))
        sd = convert(topt.state_dict(), ember)
        extra = dict(topt=topt, tparams=tparams, sd_torch=copy.deepcopy(topt.state_dict()))
    else:
        sd = copy.deepcopy(sd)
    opt2 = _optim(ember, name, kw, params)
    opt2.load_state_dict(sd)
    extra["loaded"] = copy.deepcopy(opt2.state_dict())
    return run_steps(opt2, params, targets, 15), extra


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_round_trip_through_torch(case):
    name, kw = case
    transposed = name != "LBFGS"
    # the continuation after ember -> torch -> ember is bit-identical to the one after ember -> ember
    cont, info = _continue_after_reload(name, kw, through_torch=True)
    cont_direct, _ = _continue_after_reload(name, kw, through_torch=False)
    for a, b in zip(cont, cont_direct):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    # what ember loaded is what torch loaded (torch casts non-counter state to the param dtype on load)
    same_structure(convert(info["loaded"], torch), info["sd_torch"])

    # ... and it continues the uninterrupted run (exactly, unless loading cast a float32 counter such as
    # NAdam's mu_product or ASGD's eta/mu to float64, as torch's load_state_dict does)
    params, targets = make_problem(ember, transposed=transposed)
    ref = run_steps(_optim(ember, name, kw, params), params, targets, 30)[15:]
    exact = name not in ("NAdam", "ASGD")
    for a, b in zip(cont, ref):
        for x, y in zip(a, b):
            if exact:
                np.testing.assert_array_equal(x, y)
            else:
                np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-6)

    # torch, continuing from ember's state, follows the same path (within rounding)
    _, ttargets = make_problem(torch, transposed=transposed)
    tcont = run_steps(info["topt"], info["tparams"], ttargets, 15)
    for a, b in zip(tcont, cont):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", CASES[:11], ids=IDS[:11])
def test_state_layout_matches_torch(case):
    """After the same steps, ember's state_dict equals torch's: keys in order, counters as float32 0-d tensors."""
    name, kw = case
    sds = []
    for lib in (ember, torch):
        params, targets = make_problem(lib)
        opt = _optim(lib, name, kw, params)
        run_steps(opt, params, targets, 5)
        sds.append(opt.state_dict())
    same_structure(convert(sds[0], torch), sds[1], exact=False, tol=1e-9)
    steps = [s["step"] for s in sds[0]["state"].values() if "step" in s]
    assert all(s.dtype == ember.float32 and s.dim() == 0 for s in steps)


def test_load_state_dict_casts_to_param_dtype_and_checks_groups():
    p = ember.zeros(3, dtype=ember.float32, requires_grad=True)
    p.grad = ember.ones(3, dtype=ember.float32)
    q = ember.zeros(3, dtype=ember.float64, requires_grad=True)
    q.grad = ember.ones(3, dtype=ember.float64)
    src = ember.optim.NAdam([q])
    src.step()
    dst = ember.optim.NAdam([p])
    dst.load_state_dict(src.state_dict())
    st = dst.state[p]
    assert st["exp_avg"].dtype == ember.float32
    # counters keep their saved dtype (float32), not the param's
    assert st["step"].dtype == ember.float32 and st["mu_product"].dtype == ember.float32
    for lib in (ember, torch):
        a = lib.optim.Adamax([lib.zeros(2, requires_grad=True)])
        b = lib.optim.Adamax([lib.zeros(2, requires_grad=True), lib.zeros(1, requires_grad=True)])
        with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
            b.load_state_dict(a.state_dict())
        c = lib.optim.Adamax([{"params": [lib.zeros(2, requires_grad=True)]},
                              {"params": [lib.zeros(2, requires_grad=True)]}])
        with pytest.raises(ValueError, match="different number of parameter groups"):
            c.load_state_dict(a.state_dict())


@pytest.mark.parametrize("name", ["NAdam", "ASGD", "Rprop", "Adagrad"])
def test_deepcopy_and_pickle(name):
    params, targets = make_problem(ember)
    opt = getattr(ember.optim, name)(params)
    run_steps(opt, params, targets, 3)
    for sd in (copy.deepcopy(opt.state_dict()), pickle.loads(pickle.dumps(opt.state_dict()))):
        same_structure(sd, opt.state_dict())


def test_old_style_numeric_step_is_upgraded():
    """State saved when counters were Python numbers loads as 0-d tensors (torch's __setstate__ upgrade)."""
    p = ember.zeros(2, requires_grad=True)
    p.grad = ember.ones(2)
    opt = ember.optim.NAdam([p])
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["step"] = 1
    sd["state"][0]["mu_product"] = sd["state"][0]["mu_product"].item()
    opt2 = ember.optim.NAdam([p])
    opt2.load_state_dict(sd)
    assert isinstance(opt2.state[p]["step"], ember.Tensor) and opt2.state[p]["step"].item() == 1.0
    assert isinstance(opt2.state[p]["mu_product"], ember.Tensor)
    opt2.step()
    assert opt2.state[p]["step"].item() == 2.0
