"""Training checkpoints: resuming from one gives bit-identical training, and nn/optim state_dicts move between
ember and torch (ember.save -> torch.load(weights_only=True) and back) with values, dtypes, shapes, strides."""
import os
import subprocess
import sys

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
lr_scheduler = getattr(ember.optim, "lr_scheduler", None)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


# ============================================================================ resume identity
def _build(seed, opt_name, sched_name):
    ember.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.25), nn.Linear(16, 3))
    if opt_name == "sgd":
        opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)
    else:
        opt = ember.optim.Adam(model.parameters(), lr=0.02, amsgrad=True, weight_decay=1e-4)
    if lr_scheduler is None:
        sched = None
    elif sched_name == "step":
        sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    else:
        sched = lr_scheduler.CosineAnnealingLR(opt, T_max=6, eta_min=1e-3)
    return model, opt, sched


def _train(model, opt, sched, epochs):
    """Each epoch draws its batches from the global generator, so the RNG state is part of what resumes."""
    model.train()
    for _ in epochs:
        for _ in range(3):
            x = ember.randn(8, 6)
            y = ember.randint(0, 3, (8,))
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if sched is not None:
            sched.step()


def _bits(model):
    return {k: v.detach().numpy().tobytes() for k, v in model.state_dict().items()}


def _checkpoint(model, opt, sched, epoch):
    ck = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch, "rng": ember.get_rng_state()}
    if sched is not None:
        ck["scheduler"] = sched.state_dict()
    return ck


def _resume(path, opt_name, sched_name):
    model, opt, sched = _build(1234, opt_name, sched_name)  # a different start: everything must come from the file
    ember.randn(100)  # and a different RNG position
    ck = ember.load(path)  # weights_only=True (the default) must be enough for a training checkpoint
    model.load_state_dict(ck["model"])
    opt.load_state_dict(ck["optimizer"])
    if sched is not None:
        sched.load_state_dict(ck["scheduler"])
    ember.set_rng_state(ck["rng"])
    return model, opt, sched, ck["epoch"]


@pytest.mark.parametrize("opt_name, sched_name", [("sgd", "step"), ("adam", "cosine")])
def test_resume_is_bit_identical(tmp_path, opt_name, sched_name):
    model, opt, sched = _build(0, opt_name, sched_name)
    _train(model, opt, sched, range(6))
    straight = _bits(model)
    straight_lr = [g["lr"] for g in opt.param_groups]

    model, opt, sched = _build(0, opt_name, sched_name)
    _train(model, opt, sched, range(3))
    ember.save(_checkpoint(model, opt, sched, 3), tmp_path / "ck.pt")
    halfway = _bits(model)
    _train(model, opt, sched, range(3, 6))  # the original run goes on too
    assert _bits(model) == straight
    del model, opt, sched

    model, opt, sched, epoch = _resume(tmp_path / "ck.pt", opt_name, sched_name)
    assert epoch == 3 and _bits(model) == halfway
    _train(model, opt, sched, range(epoch, 6))
    assert _bits(model) == straight  # bit for bit
    assert [g["lr"] for g in opt.param_groups] == straight_lr
    assert straight != halfway  # the second half really trained


def test_resume_in_a_fresh_process(tmp_path):
    script = f"""
import sys
sys.path.insert(0, {REPO!r})
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
import ember
import test_checkpoint_resume as T
model, opt, sched, epoch = T._resume(sys.argv[1], "adam", "step")
T._train(model, opt, sched, range(epoch, 6))
ember.save(model.state_dict(), sys.argv[2])
"""
    model, opt, sched = _build(0, "adam", "step")
    _train(model, opt, sched, range(3))
    ember.save(_checkpoint(model, opt, sched, 3), tmp_path / "ck.pt")
    _train(model, opt, sched, range(3, 6))
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "ck.pt"), str(tmp_path / "out.pt")], check=True,
                   cwd=str(tmp_path), timeout=120)
    resumed = ember.load(tmp_path / "out.pt")
    assert {k: v.numpy().tobytes() for k, v in resumed.items()} == _bits(model)


def test_checkpoint_loads_in_torch_and_rng_state_transfers(torch, tmp_path):
    model, opt, sched = _build(0, "adam", "step")
    _train(model, opt, sched, range(2))
    ember.save(_checkpoint(model, opt, sched, 2), tmp_path / "ck.pt")
    ck = torch.load(tmp_path / "ck.pt", weights_only=True)
    tm = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Dropout(0.25), torch.nn.Linear(16, 3))
    tm.load_state_dict(ck["model"])
    topt = torch.optim.Adam(tm.parameters(), lr=0.02, amsgrad=True, weight_decay=1e-4)
    topt.load_state_dict(ck["optimizer"])
    tsched = torch.optim.lr_scheduler.StepLR(topt, step_size=2, gamma=0.5)
    tsched.load_state_dict(ck["scheduler"])
    assert tsched.get_last_lr() == sched.get_last_lr() and topt.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    # the generator state is torch's own format: torch continues ember's random stream and vice versa
    torch.set_rng_state(ck["rng"])
    ember.set_rng_state(ember.load(tmp_path / "ck.pt")["rng"])
    assert torch.randn(5).tolist() == ember.randn(5).tolist()
    torch.save({"rng": torch.get_rng_state()}, tmp_path / "t.pt")
    ember.set_rng_state(ember.load(tmp_path / "t.pt")["rng"])
    assert ember.rand(4).tolist() == torch.rand(4).tolist()


# ============================================================================ state_dicts across libraries
def _layers():
    """(name, builder(lib)); a builder gets ember or torch and returns a module with some state in it."""
    def linear(L):
        return L.nn.Linear(5, 3)

    def conv(L):
        return L.nn.Conv2d(2, 4, 3, padding=1, bias=True)

    def bn(L):
        m = L.nn.BatchNorm2d(3)
        m.train()
        m(L.arange(2 * 3 * 2 * 2, dtype=L.float32).reshape(2, 3, 2, 2) / 5)  # running stats and the batch count move
        return m

    def lstm(L):
        return L.nn.LSTM(4, 5, num_layers=2, bidirectional=True)

    def emb(L):
        return L.nn.Embedding(7, 3, padding_idx=0)

    def ln(L):
        return L.nn.LayerNorm([4, 3])

    return [("Linear", linear), ("Conv2d", conv), ("BatchNorm2d", bn), ("LSTM", lstm), ("Embedding", emb),
            ("LayerNorm", ln)]


LAYERS = _layers()


def _need(name):
    if not hasattr(ember.nn, name):
        pytest.skip(f"ember.nn.{name} does not exist yet")


def _same_tensor(e, t):
    assert str(e.dtype) == str(t.dtype), (e.dtype, t.dtype)
    assert tuple(e.shape) == tuple(t.shape) and e.stride() == t.stride()
    assert e.storage_offset() == t.storage_offset()
    np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())


@pytest.mark.parametrize("name, build", LAYERS, ids=[n for n, _ in LAYERS])
def test_layer_state_dict_ember_to_torch(torch, tmp_path, name, build):
    _need(name)
    ember.manual_seed(0)
    em = build(ember)
    esd = em.state_dict()
    ember.save(esd, tmp_path / "e.pt")
    tsd = torch.load(tmp_path / "e.pt", weights_only=True)
    tm = build(torch)
    assert list(tsd) == list(tm.state_dict())  # the same names, in the same order, as torch's own layer
    for k in esd:
        _same_tensor(esd[k], tsd[k])
    tm.load_state_dict(tsd)  # strict
    for k, v in tm.state_dict().items():
        _same_tensor(esd[k], v)


@pytest.mark.parametrize("name, build", LAYERS, ids=[n for n, _ in LAYERS])
def test_layer_state_dict_torch_to_ember(torch, tmp_path, name, build):
    _need(name)
    torch.manual_seed(0)
    tm = build(torch)
    tsd = tm.state_dict()
    torch.save(tsd, tmp_path / "t.pt")
    esd = ember.load(tmp_path / "t.pt")
    for k in tsd:
        _same_tensor(esd[k], tsd[k])
    em = build(ember)
    em.load_state_dict(esd)  # strict
    assert list(em.state_dict()) == list(tsd)
    for k, v in em.state_dict().items():
        _same_tensor(v, tsd[k])


def _opt_run(L, opt_name, steps=3):
    """Three steps of an optimizer on two parameters with fixed gradients (exactly representable values)."""
    w = L.nn.Parameter(L.arange(6, dtype=L.float32).reshape(2, 3) / 4)
    b = L.nn.Parameter(L.ones(3) / 2)
    if opt_name == "sgd":
        opt = L.optim.SGD([{"params": [w], "lr": 0.5}, {"params": [b]}], lr=0.25, momentum=0.5, dampening=0.5)
    elif opt_name == "adam":
        opt = L.optim.Adam([w, b], lr=0.125, betas=(0.5, 0.75), amsgrad=True)
    else:
        opt = L.optim.AdamW([w, b], lr=0.125, weight_decay=0.5)
    for i in range(steps):
        w.grad = L.ones(2, 3) / (i + 2)
        b.grad = -L.ones(3) / 8
        opt.step()
    return (w, b), opt


OPTIMS = ["sgd", "adam", "adamw"]


def _compare_opt_state(esd, tsd):
    assert esd["param_groups"] == tsd["param_groups"]
    assert list(esd["state"]) == list(tsd["state"])
    for i, st in esd["state"].items():
        assert list(st) == list(tsd["state"][i])
        for k, v in st.items():
            if isinstance(v, ember.Tensor):
                _same_tensor(v, tsd["state"][i][k])
            else:
                assert v == tsd["state"][i][k]


@pytest.mark.parametrize("opt_name", OPTIMS)
def test_optimizer_state_dict_ember_to_torch(torch, tmp_path, opt_name):
    (ew, eb), eopt = _opt_run(ember, opt_name)
    ember.save(eopt.state_dict(), tmp_path / "o.pt")
    tsd = torch.load(tmp_path / "o.pt", weights_only=True)
    _compare_opt_state(eopt.state_dict(), tsd)
    # torch's optimizer takes the state and continues from it like ember's does
    (tw, tb), topt = _opt_run(torch, opt_name, steps=0)
    with torch.no_grad():
        tw.copy_(torch.from_numpy(ew.detach().numpy().copy()))
        tb.copy_(torch.from_numpy(eb.detach().numpy().copy()))
    topt.load_state_dict(tsd)
    for p, e in ((tw, ew), (tb, eb)):
        p.grad = torch.full(p.shape, 0.5)
        e.grad = ember.full(e.shape, 0.5)
    topt.step()
    eopt.step()
    np.testing.assert_allclose(ew.detach().numpy(), tw.detach().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(eb.detach().numpy(), tb.detach().numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("opt_name", OPTIMS)
def test_optimizer_state_dict_torch_to_ember(torch, tmp_path, opt_name):
    _, topt = _opt_run(torch, opt_name)
    torch.save(topt.state_dict(), tmp_path / "o.pt")
    esd = ember.load(tmp_path / "o.pt")
    _compare_opt_state(esd, topt.state_dict())
    _, eopt = _opt_run(ember, opt_name, steps=0)
    eopt.load_state_dict(esd)
    _compare_opt_state(eopt.state_dict(), topt.state_dict())
