"""End to end: a small MLP (nn.Linear) trained by each optimizer (+ a scheduler) from torch's initial
weights reaches the same losses as torch, step by step."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

RUNS = [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4), ("StepLR", dict(step_size=10))),
    ("Adam", dict(lr=0.01), ("OneCycleLR", dict(max_lr=0.02, total_steps=25))),
    ("AdamW", dict(lr=0.01, amsgrad=True), ("CosineAnnealingLR", dict(T_max=25))),
    ("RMSprop", dict(lr=0.003, centered=True, momentum=0.5), None),
    ("NAdam", dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.01), ("LinearLR", dict(total_iters=10))),
    ("RAdam", dict(lr=0.01), None),
    ("Adamax", dict(lr=0.01), ("ExponentialLR", dict(gamma=0.97))),
    ("Adagrad", dict(lr=0.05, lr_decay=0.01), None),
    ("Adadelta", dict(lr=1.0), None),
    ("ASGD", dict(lr=0.05, t0=10), None),
    ("Rprop", dict(lr=0.001), None),
    ("LBFGS", dict(lr=0.5, max_iter=4, history_size=5, line_search_fn="strong_wolfe"), None),
]


def _train(lib, tmodel, opt_name, okw, sched, steps):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))
    model.load_state_dict({k: lib.tensor(v.detach().numpy().copy()) for k, v in tmodel.state_dict().items()})
    # LBFGS's line search compares losses that differ in the last float32 bits (each library sums in its own
    # order), which is enough to pick another trial step: run it in float64
    dt = np.float64 if opt_name == "LBFGS" else np.float32
    model.to(getattr(lib, dt.__name__))
    opt = getattr(lib.optim, opt_name)(model.parameters(), **okw)
    sch = getattr(lib.optim.lr_scheduler, sched[0])(opt, **sched[1]) if sched else None
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((64, 6)).astype(dt))
    y = lib.tensor(rng.integers(0, 3, 64))
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(steps):
        def closure():
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            return loss
        losses.append(opt.step(closure).item())
        if sch is not None:
            sch.step()
    with lib.no_grad():
        losses.append(float(loss_fn(model(x), y)))
    return losses


@pytest.mark.parametrize("run", RUNS, ids=[r[0] for r in RUNS])
def test_mlp_matches_torch(run):
    name, okw, sched = run
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16),
                                 torch.nn.ReLU(), torch.nn.Linear(16, 3))
    steps = 5 if name == "LBFGS" else 25
    le = _train(ember, tmodel, name, okw, sched, steps)
    lt = _train(torch, tmodel, name, okw, sched, steps)
    np.testing.assert_allclose(le, lt, rtol=1e-5, atol=1e-5)
    assert le[-1] < le[0]  # and it actually trains
