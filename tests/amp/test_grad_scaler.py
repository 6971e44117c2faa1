"""GradScaler against torch's on 'cpu': the same scale/tracker/parameter trajectory step for step (with
injected inf/NaN gradients), the state machine's errors, state_dict/pickling, disabled pass-through."""
import math
import pickle
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

W0 = np.array([[0.5, -1.0, 0.25], [1.5, 0.75, -0.5]], dtype=np.float32)
B0 = np.array([0.1, -0.2], dtype=np.float32)


def _trajectory(lib, bad_steps, steps=9, **kw):
    w = lib.tensor(W0, requires_grad=True)
    b = lib.tensor(B0, requires_grad=True)
    opt = lib.optim.SGD([w, b], lr=0.1, momentum=0.5)
    scaler = lib.amp.GradScaler("cpu", **kw)
    x = lib.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))
    rows = []
    for i in range(steps):
        opt.zero_grad()
        loss = ((x @ w.t() + b) ** 2).mean()
        scaler.scale(loss).backward()
        if i in bad_steps:
            with lib.no_grad():
                w.grad[0, 1] = bad_steps[i]
        if i % 2:
            scaler.unscale_(opt)  # e.g. for gradient clipping
            lib.nn.utils.clip_grad_norm_([w, b], 1.0)
        r = scaler.step(opt)
        scaler.update()
        rows.append((scaler.get_scale(), scaler._get_growth_tracker(), r, w.detach().numpy().copy(),
                     b.detach().numpy().copy()))
    return rows, scaler


@pytest.mark.parametrize("kw", [dict(growth_interval=3), dict(init_scale=2.0 ** 20, growth_factor=3.0,
                                                                backoff_factor=0.3, growth_interval=2)])
def test_trajectory_matches_torch(kw):
    bad = {1: math.inf, 4: math.nan, 5: -math.inf}
    t, ts = _trajectory(torch, bad, **kw)
    e, es = _trajectory(ember, bad, **kw)
    for i, (a, b) in enumerate(zip(e, t)):
        assert a[0] == b[0] and type(a[0]) is type(b[0]), (i, a[0], b[0])
        assert a[1] == b[1], i
        assert a[2] is None and b[2] is None
        np.testing.assert_allclose(a[3], b[3], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a[4], b[4], rtol=1e-5, atol=1e-6)
    assert es.state_dict() == ts.state_dict()


def test_skipped_step_leaves_params_and_unscales_grads():
    for lib in (torch, ember):
        p = lib.ones(2, requires_grad=True)
        opt = lib.optim.SGD([p], lr=1.0)
        s = lib.amp.GradScaler("cpu", init_scale=8.0)
        s.scale((p * 3).sum()).backward()
        assert p.grad.tolist() == [24.0, 24.0]
        s.unscale_(opt)
        assert p.grad.tolist() == [3.0, 3.0]
        s.step(opt)
        assert p.tolist() == [-2.0, -2.0]
        s.update()
        p.grad = lib.tensor([1.0, float("inf")])
        s.step(opt)
        assert p.tolist() == [-2.0, -2.0]
        s.update()
        assert s.get_scale() == 4.0 and s._get_growth_tracker() == 0


def _errors(lib):
    out = []
    s = lib.amp.GradScaler("cpu")
    p = lib.ones(2, requires_grad=True)
    opt = lib.optim.SGD([p], lr=0.1)

    def attempt(f):
        try:
            f()
            out.append(None)
        except Exception as e:
            out.append((type(e).__name__, str(e)))
    attempt(lambda: s.update())
    attempt(lambda: s.step(opt))
    attempt(lambda: s.unscale_(opt))
    attempt(lambda: s.scale(5))
    s.scale((p * 2).sum()).backward()
    attempt(lambda: s.step(opt, closure=lambda: 0))
    s.unscale_(opt)
    attempt(lambda: s.unscale_(opt))
    s.step(opt)
    attempt(lambda: s.step(opt))
    attempt(lambda: s.unscale_(opt))
    s.update()
    attempt(lambda: s.load_state_dict({}))
    attempt(lambda: lib.amp.GradScaler("cpu", growth_factor=1.0))
    attempt(lambda: lib.amp.GradScaler("cpu", backoff_factor=1.0))
    attempt(lambda: s.update(lib.tensor([1.0, 2.0])))
    return out


def test_errors_match_torch():
    assert _errors(ember) == _errors(torch)


def test_scale_containers_and_dtypes():
    for lib in (torch, ember):
        s = lib.amp.GradScaler("cpu", init_scale=4.0)
        x = lib.ones(2)
        r = s.scale((x, [x, x]))
        assert type(r) is tuple and type(r[1]) is list and r[1][0].tolist() == [4.0, 4.0]
        it = s.scale(iter([x]))
        assert not isinstance(it, (list, tuple)) and next(it).tolist() == [4.0, 4.0]
        assert str(s.scale(lib.ones(2, dtype=lib.bfloat16)).dtype) == "torch.bfloat16"
        assert str(s.scale(lib.tensor(2.0, dtype=lib.bfloat16)).dtype) == "torch.float32"
        assert str(s._scale.dtype) == "torch.float32" and s._scale.dim() == 0
        assert str(s._growth_tracker.dtype) == "torch.int32"


def test_update_with_new_scale():
    for lib in (torch, ember):
        s = lib.amp.GradScaler("cpu")
        s.scale(lib.ones(1))
        s.update(8.0)
        assert s.get_scale() == 8.0
        s.update(lib.tensor(2.0))
        assert s.get_scale() == 2.0


def test_state_dict_roundtrip_and_pickle():
    s = ember.amp.GradScaler("cpu", init_scale=16.0, growth_interval=7)
    assert s.get_scale() == 16.0 and s._scale is None
    s.scale(ember.ones(1))
    s.set_growth_factor(4.0)
    s.set_backoff_factor(0.25)
    s.set_growth_interval(9)
    sd = s.state_dict()
    assert sd == {"scale": 16.0, "growth_factor": 4.0, "backoff_factor": 0.25, "growth_interval": 9,
                  "_growth_tracker": 0}
    t = ember.amp.GradScaler("cpu")
    t.load_state_dict(sd)
    assert t.state_dict() == sd
    t.scale(ember.ones(1))
    assert t.get_scale() == 16.0
    u = pickle.loads(pickle.dumps(s))
    assert u.state_dict() == sd and u._scale is None
    assert (u.get_growth_factor(), u.get_backoff_factor(), u.get_growth_interval()) == (4.0, 0.25, 9)


def test_disabled_passes_through():
    for lib in (torch, ember):
        s = lib.amp.GradScaler("cpu", enabled=False)
        x = lib.ones(2)
        assert s.scale(x) is x
        p = lib.ones(1, requires_grad=True)
        p.grad = lib.tensor([float("inf")])
        opt = lib.optim.SGD([p], lr=1.0)
        s.step(opt)  # no inf check when disabled: the step runs
        assert math.isnan(p.item()) or math.isinf(p.item())
        s.update()
        s.unscale_(opt)
        assert s.state_dict() == {} and s.get_scale() == 1.0 and s._get_growth_tracker() == 0
        assert not s.is_enabled()


def test_cuda_without_gpu_disables_with_warning():
    msg = "torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling."
    for lib in (torch, ember):
        if lib.cuda.is_available():
            continue  # a GPU machine: the scaler stays enabled
        with pytest.warns(UserWarning, match=msg.replace(".", r"\.")):
            s = lib.amp.GradScaler()
        assert not s.is_enabled() and s._device == "cuda"
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            d = lib.cuda.amp.GradScaler(init_scale=4.0)
        msgs = [(x.category.__name__, str(x.message)) for x in w]
        assert ("FutureWarning", "`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                                 "`torch.amp.GradScaler('cuda', args...)` instead.") in msgs
        assert ("UserWarning", msg) in msgs
        assert not d.is_enabled()
    assert ember.GradScaler is ember.amp.GradScaler
