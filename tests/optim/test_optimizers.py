"""Every ember optimizer against torch's: the same parameters and loss in both libraries, 50 steps, the
parameters equal at every step; plus state layout, constructor errors, hooks and edge cases."""
import warnings

import numpy as np
import pytest

import ember

from ._util import convert, make_problem, run_steps, same_structure, to_numpy

torch = pytest.importorskip("torch")

GRID = {
    "SGD": [dict(lr=0.01), dict(lr=0.01, momentum=0.9), dict(lr=0.01, momentum=0.9, dampening=0.3, weight_decay=0.1),
            dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.05), dict(lr=0.01, maximize=True, momentum=0.5)],
    "Adam": [dict(), dict(lr=0.05, betas=(0.8, 0.95), eps=1e-6), dict(weight_decay=0.1), dict(amsgrad=True, lr=0.03),
             dict(maximize=True, weight_decay=0.1, amsgrad=True), dict(decoupled_weight_decay=True, weight_decay=0.2)],
    "AdamW": [dict(), dict(lr=0.05, weight_decay=0.3, amsgrad=True), dict(maximize=True)],
    "Adamax": [dict(), dict(lr=0.05, betas=(0.8, 0.9), eps=1e-4), dict(weight_decay=0.1, maximize=True)],
    "NAdam": [dict(), dict(momentum_decay=0.01, lr=0.02), dict(weight_decay=0.1),
              dict(weight_decay=0.1, decoupled_weight_decay=True, maximize=True)],
    "RAdam": [dict(), dict(lr=0.02, betas=(0.8, 0.99)), dict(weight_decay=0.1),
              dict(weight_decay=0.1, decoupled_weight_decay=True, maximize=True)],
    "RMSprop": [dict(), dict(alpha=0.9, eps=1e-5, lr=0.003), dict(centered=True), dict(momentum=0.9, lr=0.001),
                dict(centered=True, momentum=0.5, weight_decay=0.1, maximize=True)],
    "Adagrad": [dict(), dict(lr_decay=0.05), dict(initial_accumulator_value=0.3, eps=1e-6),
                dict(weight_decay=0.1, lr_decay=0.01, maximize=True)],
    "Adadelta": [dict(), dict(rho=0.5, eps=1e-4, lr=0.5), dict(weight_decay=0.1, maximize=True)],
    "ASGD": [dict(), dict(t0=10, lambd=0.01, alpha=0.5), dict(t0=0, weight_decay=0.1, lr=0.02),
             dict(maximize=True, t0=20)],
    "Rprop": [dict(), dict(etas=(0.3, 1.5), step_sizes=(1e-3, 0.1)), dict(lr=0.1, maximize=True)],
}
CASES = [(name, kw) for name, kws in GRID.items() for kw in kws]


def _ids(c):
    return c[0] + "-" + ",".join(f"{k}={v}" for k, v in c[1].items())


def _run(lib, name, kw, steps, dtype="float64", transposed=True):
    params, targets = make_problem(lib, dtype, transposed=transposed)
    opt = getattr(lib.optim, name)(params, **kw)
    traj = run_steps(opt, params, targets, steps, sign=-1.0 if kw.get("maximize") else 1.0)
    return traj, opt


def _compare(te, tt, tol):
    for step, (xs, ys) in enumerate(zip(te, tt)):
        for x, y in zip(xs, ys):
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol, err_msg=f"step {step + 1}")


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_trajectory_float64(case):
    name, kw = case
    te, oe = _run(ember, name, kw, 50)
    tt, ot = _run(torch, name, kw, 50)
    _compare(te, tt, 1e-6)
    # the state (moments, counters) matches too, with torch's layout and dtypes
    same_structure(convert(oe.state_dict(), torch), ot.state_dict(), exact=False, tol=1e-6)


@pytest.mark.parametrize("name", list(GRID))
def test_trajectory_float32(name):
    kw = GRID[name][1]
    te, oe = _run(ember, name, kw, 20, "float32")
    tt, ot = _run(torch, name, kw, 20, "float32")
    _compare(te, tt, 2e-5)
    for st in oe.state.values():
        for k, v in st.items():
            if isinstance(v, ember.Tensor) and v.dim() > 0:
                assert v.dtype == ember.float32, k


@pytest.mark.parametrize("name", ["LBFGS"])
@pytest.mark.parametrize("kw", [dict(max_iter=4), dict(max_iter=5, history_size=2, lr=0.5),
                                dict(line_search_fn="strong_wolfe", max_iter=6),
                                dict(line_search_fn="strong_wolfe", history_size=3, tolerance_grad=1e-3,
                                     tolerance_change=1e-6, max_eval=8)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lbfgs(name, kw, dtype):
    te, oe = _run(ember, name, kw, 12, dtype, transposed=False)
    tt, ot = _run(torch, name, kw, 12, dtype, transposed=False)
    _compare(te, tt, 1e-6 if dtype == "float64" else 2e-5)
    se, st = oe.state_dict()["state"][0], ot.state_dict()["state"][0]
    assert list(se) == list(st)
    if dtype == "float64":  # float32 runs end in a tie of ulp-sized losses, where stopping tests can differ
        assert se["func_evals"] == st["func_evals"] and se["n_iter"] == st["n_iter"]
    # t / H_diag / ro stay 0-d tensors exactly where torch's do
    for k in ("t", "H_diag"):
        assert isinstance(se[k], ember.Tensor) == isinstance(st[k], torch.Tensor), k
    assert [isinstance(r, ember.Tensor) for r in se["ro"]] == [isinstance(r, torch.Tensor) for r in st["ro"]]


@pytest.mark.parametrize("kw", [dict(line_search_fn="strong_wolfe", max_iter=5), dict(max_iter=5, lr=0.3),
                                dict(line_search_fn="strong_wolfe", history_size=2)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lbfgs_same_losses_same_path(kw, dtype):
    """Fed bit-identical losses and gradients (from NumPy), LBFGS takes the same path in both libraries, also in
    float32: its scalars (t, ro, H_diag, gtd) round like torch's."""
    res = []
    for lib in (ember, torch):
        rng = np.random.default_rng(1)
        A, b = rng.standard_normal((30, 10)), rng.standard_normal(30)
        w = lib.zeros(10, dtype=getattr(lib, dtype), requires_grad=True)
        opt = lib.optim.LBFGS([w], **kw)

        def closure():
            x = to_numpy(w).astype(np.float64)
            h = np.tanh(A @ x)
            w.grad = lib.tensor((2 * A.T @ ((h - b) * (1 - h ** 2)) / 30 + 0.04 * x ** 3).astype(dtype))
            return lib.tensor(np.float64(((h - b) ** 2).mean() + 0.01 * (x ** 4).sum()).astype(dtype))
        traj = []
        for _ in range(8):
            opt.step(closure)
            traj.append(to_numpy(w).copy())
        res.append((traj, opt.state[w]["n_iter"], opt.state[w]["func_evals"]))
    assert res[0][1:] == res[1][1:]
    tol = 2e-6 if dtype == "float32" else 1e-12
    for x, y in zip(res[0][0], res[1][0]):
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol)


def test_lbfgs_converged_and_errors():
    for lib in (ember, torch):
        p = lib.zeros(3, requires_grad=True)
        opt = lib.optim.LBFGS([p])

        def closure():
            opt.zero_grad()
            loss = (p ** 2).sum()
            loss.backward()
            return loss
        # gradient already zero: returns the first loss without moving or counting iterations
        assert opt.step(closure).item() == 0.0
        assert opt.state[p] == {"func_evals": 1, "n_iter": 0}
        with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
            lib.optim.LBFGS([{"params": [p]}, {"params": [lib.zeros(1, requires_grad=True)]}])
        q = lib.ones(2, requires_grad=True)
        opt = lib.optim.LBFGS([q], line_search_fn="wolfe")

        def closure2():
            opt.zero_grad()
            loss = (q ** 2).sum()
            loss.backward()
            return loss
        with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
            opt.step(closure2)


def test_lbfgs_noncontiguous_grad_error():
    msgs = []
    for lib in (ember, torch):
        p = lib.tensor(np.ones((4, 3))).t().requires_grad_()
        opt = lib.optim.LBFGS([p])

        def closure():
            opt.zero_grad()
            loss = (p ** 2).sum()
            loss.backward()
            return loss
        with pytest.raises(RuntimeError) as e:
            opt.step(closure)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


ALL = ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad", "Adadelta", "ASGD", "Rprop",
       "LBFGS"]


@pytest.mark.parametrize("name", ALL)
def test_defaults_and_param_group_layout(name):
    pe, pt = ember.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    ge = getattr(ember.optim, name)([pe]).param_groups[0]
    gt = getattr(torch.optim, name)([pt]).param_groups[0]
    assert list(ge) == list(gt)
    assert {k: v for k, v in ge.items() if k != "params"} == {k: v for k, v in gt.items() if k != "params"}
    assert repr(getattr(ember.optim, name)([pe])) == repr(getattr(torch.optim, name)([pt]))


BAD = [
    ("Adamax", dict(lr=-1)), ("Adamax", dict(eps=-1)), ("Adamax", dict(betas=(1.0, 0.9))),
    ("Adamax", dict(betas=(0.9, -0.1))), ("Adamax", dict(weight_decay=-1)),
    ("NAdam", dict(momentum_decay=-1)), ("NAdam", dict(betas=(0.9, 1.0))), ("RAdam", dict(eps=-1e-3)),
    ("RMSprop", dict(alpha=-0.5)), ("RMSprop", dict(momentum=-0.5)), ("RMSprop", dict(weight_decay=-2)),
    ("Adagrad", dict(lr_decay=-1)), ("Adagrad", dict(initial_accumulator_value=-1)), ("Adagrad", dict(eps=-1)),
    ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(lr=-0.1)), ("ASGD", dict(weight_decay=-1)),
    ("Rprop", dict(etas=(1.2, 0.5))), ("Rprop", dict(etas=(0.0, 1.2))), ("LBFGS", dict(lr=-1)),
    ("Adagrad", dict(fused=True, differentiable=True)), ("Adagrad", dict(fused=True, foreach=True)),
    ("SGD", dict(lr=-1)), ("SGD", dict(nesterov=True)), ("SGD", dict(momentum=-1)),
]


@pytest.mark.parametrize("case", BAD, ids=[_ids(c) for c in BAD])
def test_constructor_errors(case):
    name, kw = case
    errs = []
    for lib in (ember, torch):
        with pytest.raises(Exception) as e:
            getattr(lib.optim, name)([lib.zeros(2, requires_grad=True)], **kw)
        errs.append((type(e.value), str(e.value)))
    assert errs[0] == errs[1]


def test_tensor_lr_must_be_one_element():
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
            lib.optim.Adamax([lib.zeros(2, requires_grad=True)], lr=lib.tensor([0.1, 0.2]))


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adadelta", "ASGD",
                                  "Rprop"])
def test_capturable_needs_accelerator(name):
    errs = []
    for lib in (ember, torch):
        p = lib.zeros(2, requires_grad=True)
        p.grad = lib.ones(2)
        opt = getattr(lib.optim, name)([p], capturable=True)
        with pytest.raises(AssertionError) as e:
            opt.step()
        errs.append(str(e.value))
    assert errs[0] == errs[1]


def test_groups_and_missing_grads():
    """Two groups with their own options; a parameter without a gradient gets no state and does not move."""
    res = {}
    for lib in (ember, torch):
        params, targets = make_problem(lib)
        frozen = lib.ones(2, requires_grad=True)
        opt = lib.optim.NAdam([{"params": params[:2], "lr": 0.05, "weight_decay": 0.1},
                               {"params": [params[2], frozen], "momentum_decay": 0.02}], lr=0.01)
        traj = run_steps(opt, params, targets, 10)
        assert frozen not in opt.state and to_numpy(frozen).tolist() == [1.0, 1.0]
        res[lib.__name__] = traj
    for xs, ys in zip(res["ember"], res["torch"]):
        for x, y in zip(xs, ys):
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


def test_adagrad_state_exists_before_step():
    pe, pt = ember.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    se = ember.optim.Adagrad([pe], initial_accumulator_value=0.25).state_dict()
    st = torch.optim.Adagrad([pt], initial_accumulator_value=0.25).state_dict()
    same_structure(convert(se, torch), st)
    # a group added later gets its state lazily at the first step, from the optimizer's defaults
    for lib in (ember, torch):
        p = lib.zeros(2, requires_grad=True)
        q = lib.ones(3, requires_grad=True)
        opt = lib.optim.Adagrad([p], initial_accumulator_value=0.5)
        opt.add_param_group({"params": [q], "initial_accumulator_value": 9.0})
        q.grad = lib.ones(3)
        opt.step()
        assert to_numpy(opt.state[q]["sum"]).tolist() == [1.5, 1.5, 1.5]


@pytest.mark.parametrize("name", ["Adam", "RAdam", "Rprop"])
def test_step_counter_dtype_follows_default_dtype(name):
    for lib in (ember, torch):
        old = lib.get_default_dtype()
        lib.set_default_dtype(lib.float64)
        try:
            p = lib.zeros(2, dtype=lib.float32, requires_grad=True)
            p.grad = lib.ones(2, dtype=lib.float32)
            opt = getattr(lib.optim, name)([p])
            opt.step()
            assert opt.state[p]["step"].dtype == lib.float64
        finally:
            lib.set_default_dtype(old)


@pytest.mark.parametrize("name", ["Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad", "Adadelta", "ASGD", "Rprop"])
def test_step_hooks_and_closure(name):
    p = ember.ones(3, requires_grad=True)
    opt = getattr(ember.optim, name)([p])
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: calls.append("post"))

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        calls.append("closure")
        return loss
    loss = opt.step(closure)
    assert calls == ["pre", "closure", "post"] and float(loss) == 3.0
    h1.remove()
    opt.step(closure)
    assert calls[3:] == ["closure", "post"]
    # the update itself never records autograd history
    assert p.grad_fn is None and p.is_leaf


DIFF_CASES = [("Adamax", dict(weight_decay=0.1)), ("RMSprop", dict(weight_decay=0.1)),
              ("RMSprop", dict(centered=True, momentum=0.9)), ("Adagrad", dict(weight_decay=0.1, lr_decay=0.1)),
              ("Adadelta", dict(weight_decay=0.1)), ("ASGD", dict(weight_decay=0.1)), ("Rprop", {}),
              ("NAdam", dict(weight_decay=0.1)), ("NAdam", dict(decoupled_weight_decay=True, weight_decay=0.1)),
              ("RAdam", dict(weight_decay=0.1))]


@pytest.mark.parametrize("name,kw", DIFF_CASES)
def test_differentiable_step(name, kw):
    """differentiable=True puts the update in the graph: gradients of the result w.r.t. the initial parameter
    and the gradient fed in, or (where torch's update overwrites something it saved) the same error."""
    res = {}
    for lib in (ember, torch):
        w0 = lib.tensor([0.5, -1.5, 2.0], dtype=lib.float64, requires_grad=True)
        g0 = lib.tensor([0.3, 0.2, -0.7], dtype=lib.float64, requires_grad=True)
        w = w0.clone()
        opt = getattr(lib.optim, name)([w], differentiable=True, **kw)
        try:
            for i in range(2):
                w.grad = g0 * (i + 1.5)
                opt.step()
            total = (w * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum()
            for v in opt.state[w].values():
                if isinstance(v, lib.Tensor) and v.requires_grad:
                    total = total + v.sum()
            total.backward()
            res[lib.__name__] = (to_numpy(w).copy(), to_numpy(w0.grad).copy(), to_numpy(g0.grad).copy())
        except RuntimeError as e:
            res[lib.__name__] = ("error", "modified by an inplace operation" in str(e))
    e, t = res["ember"], res["torch"]
    assert isinstance(e[0], str) == isinstance(t[0], str), (e, t)
    if isinstance(t[0], str):
        assert e == t
    else:
        for x, y in zip(e, t):
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


def _view_as_real_shim(t):
    """Stand-in until ember has view_as_real: the same (..., 2) real view, for contiguous tensors of dim >= 1."""
    real = ember.float64 if t.dtype == ember.complex128 else ember.float32
    return t.view(real).view(*t.shape, 2)


@pytest.fixture
def view_as_real(monkeypatch):
    from ember import ops
    if not hasattr(ops, "view_as_real"):
        monkeypatch.setattr(ops, "view_as_real", _view_as_real_shim, raising=False)
        return "shim"
    return "ember"


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad", "Adadelta",
                                  "ASGD", "Rprop", "LBFGS"])
def test_complex_params(name, view_as_real):
    """Complex parameters are updated as pairs of reals (torch's view_as_real), not with complex arithmetic."""
    kw = {"max_iter": 3} if name == "LBFGS" else {"weight_decay": 0.1} if name != "Rprop" else {}
    if name == "RMSprop":
        kw.update(centered=True, momentum=0.5)
    shapes = [(3, 4), (5,)] if view_as_real == "shim" else [(3, 4), (5,), ()]
    res = {}
    for lib in (ember, torch):
        params, targets = make_problem(lib, "complex128", transposed=False, complex_part=True, shapes=shapes)
        opt = getattr(lib.optim, name)(params, **kw)
        res[lib.__name__] = run_steps(opt, params, targets, 10)
    for xs, ys in zip(res["ember"], res["torch"]):
        for x, y in zip(xs, ys):
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-9)


def test_no_warnings_in_normal_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ALL:
            params, targets = make_problem(ember, transposed=False)
            run_steps(getattr(ember.optim, name)(params), params, targets, 2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls,kw", [("Adam", {}), ("Adam", {"weight_decay": 0.1, "maximize": True}),
                                    ("AdamW", {}), ("AdamW", {"weight_decay": 0.3})])
def test_adam_array_path_is_bitwise_the_tensor_path(dtype, cls, kw):
    """Adam(W) runs its update on raw arrays for real CPU tensors; differentiable=True keeps the Tensor-op
    path. Same kernels in the same order: the trajectories must agree bit for bit."""
    from tests.optim._util import loss_of, make_problem
    runs = []
    for differentiable in (False, True):
        params, targets = make_problem(ember, dtype)
        opt = getattr(ember.optim, cls)(params, lr=0.05, differentiable=differentiable, **kw)
        for _ in range(5):
            opt.zero_grad()
            loss_of(params, targets).backward()
            opt.step()
        runs.append(([p.detach().numpy().copy() for p in params],
                     [opt.state[p]["exp_avg_sq"].numpy().copy() for p in params],
                     [p._version for p in params]))
    for a, b in zip(runs[0][0] + runs[0][1], runs[1][0] + runs[1][1]):
        np.testing.assert_array_equal(a, b)
    assert runs[0][2] == runs[1][2]
