"""One training script, run twice -- with ``lib = torch`` and with ``lib = ember`` -- then compared.

The script trains a small CNN (conv, batch norm, pooling, linear, layer norm) on the bundled digits for a few
steps under ``autocast("cpu", bfloat16)`` with an enabled GradScaler (one step gets an injected inf gradient,
so the scaler skips it and backs off), profiles steps with a schedule, logs scalars, histograms and an image to
a SummaryWriter every step, and sets the backend flags a real script sets. Both runs start from the same
weights (torch's, copied into ember). Compared: the event files read back through tensorboard's
EventAccumulator (tags, steps, values within bfloat16 tolerance), the profiler tables (op families), the
activation dtypes under autocast, the GradScaler's scale trajectory and skipped steps.
"""
import importlib
import io

import numpy as np
import pytest

import ember
import ember.vision  # noqa: F401 - the bundled digits

torch = pytest.importorskip("torch")
pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

STEPS, BATCH, BAD_STEP = 6, 32, 3


def training_script(lib, images, labels, init_state, logdir):
    """The program under test, written once for both libraries (``lib`` is torch or ember)."""
    nn, F = lib.nn, lib.nn.functional
    tb = importlib.import_module(lib.__name__ + ".utils.tensorboard")
    flags = (lib.backends.cudnn.benchmark, lib.backends.cudnn.deterministic, lib.get_float32_matmul_precision(),
             lib.are_deterministic_algorithms_enabled())
    lib.backends.cudnn.benchmark = True
    lib.backends.cudnn.deterministic = True
    lib.set_float32_matmul_precision("high")
    lib.use_deterministic_algorithms(True)
    try:
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(64, 32), nn.LayerNorm(32), nn.ReLU(), nn.Linear(32, 10))
        model.load_state_dict({k: lib.tensor(v) for k, v in init_state.items()})
        dtypes = []
        for m in model:
            m.register_forward_hook(lambda mod, inp, out: dtypes.append(f"{type(mod).__name__}:{out.dtype}"))
        opt = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        scaler = lib.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=2)
        writer = tb.SummaryWriter(logdir)
        X, Y = lib.tensor(images), lib.tensor(labels)
        tables, scales, skipped, losses = [], [], [], []
        sched = lib.profiler.schedule(wait=1, warmup=1, active=2, repeat=1)
        with lib.profiler.profile(activities=[lib.profiler.ProfilerActivity.CPU], schedule=sched,
                                  on_trace_ready=lambda p: tables.append(p.key_averages())) as prof:
            for step in range(STEPS):
                xb, yb = X[step * BATCH:(step + 1) * BATCH], Y[step * BATCH:(step + 1) * BATCH]
                with lib.autocast("cpu", dtype=lib.bfloat16):
                    out = model(xb)
                    loss = F.cross_entropy(out, yb)
                dtypes.append(f"loss:{loss.dtype}")
                opt.zero_grad()
                scaler.scale(loss).backward()
                if step == BAD_STEP:
                    with lib.no_grad():
                        model[0].weight.grad[0, 0, 0, 0] = float("inf")
                scaler.unscale_(opt)
                nn.utils.clip_grad_norm_(model.parameters(), 5.0)
                before = model[-1].weight.detach().clone()
                scaler.step(opt)
                scaler.update()
                skipped.append(bool(lib.equal(before, model[-1].weight.detach())))
                scales.append(scaler.get_scale())
                losses.append(loss.item())
                writer.add_scalar("train/loss", loss.item(), step)
                writer.add_scalar("amp/scale", scaler.get_scale(), step)
                writer.add_histogram("conv/weight", model[0].weight.detach(), step)
                writer.add_histogram("fc/weight_grad", model[-1].weight.grad, step)
                w = model[0].weight.detach().reshape(4, 3, 3)
                img = (w - w.min()) / (w.max() - w.min())
                writer.add_image("conv/filters", img.reshape(1, 12, 3), step)
                prof.step()
        writer.close()
        return {"dtypes": dtypes, "scales": scales, "skipped": skipped, "losses": losses, "tables": tables}
    finally:
        lib.backends.cudnn.benchmark, lib.backends.cudnn.deterministic = flags[:2]
        lib.set_float32_matmul_precision(flags[2])
        lib.use_deterministic_algorithms(flags[3])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    ds = ember.vision.datasets.Digits(train=True)
    n = STEPS * BATCH
    images = (ds.data.numpy()[:n].astype(np.float32) / 255.0).reshape(n, 1, 8, 8)
    labels = ds.targets.numpy()[:n].copy()
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                                 torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(64, 32),
                                 torch.nn.LayerNorm(32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    init_state = {k: v.detach().numpy().copy() for k, v in tmodel.state_dict().items()}
    out = {}
    for lib in (torch, ember):
        logdir = str(tmp_path_factory.mktemp(lib.__name__))
        res = training_script(lib, images, labels, init_state, logdir)
        acc = EventAccumulator(logdir, size_guidance={"scalars": 0, "histograms": 0, "images": 0})
        acc.Reload()
        res["events"] = acc
        out[lib.__name__] = res
    return out["torch"], out["ember"]


def test_flags_restored(runs):
    for lib in (torch, ember):
        assert lib.backends.cudnn.benchmark is False and lib.backends.cudnn.deterministic is False
        assert lib.get_float32_matmul_precision() == "highest"
        assert lib.are_deterministic_algorithms_enabled() is False


def test_autocast_dtypes_equal(runs):
    t, e = runs
    assert e["dtypes"] == t["dtypes"]
    # the lowered layers and what follows them: bfloat16 through the norms, float32 loss
    assert "Conv2d:torch.bfloat16" in t["dtypes"] and "BatchNorm2d:torch.bfloat16" in t["dtypes"]
    assert "LayerNorm:torch.bfloat16" in t["dtypes"] and "loss:torch.float32" in t["dtypes"]


def test_grad_scaler_trajectory_equal(runs):
    t, e = runs
    assert e["scales"] == t["scales"]
    assert e["skipped"] == t["skipped"]
    assert t["skipped"][BAD_STEP] and sum(t["skipped"]) == 1  # the injected inf skips exactly that step
    assert len(set(t["scales"])) > 1  # the scale both grew and backed off


def test_losses_close(runs):
    t, e = runs
    np.testing.assert_allclose(e["losses"], t["losses"], rtol=3e-2, atol=3e-2)


def test_event_files_same_tags_steps_values(runs):
    t, e = runs
    ta, ea = t["events"], e["events"]
    ttags, etags = ta.Tags(), ea.Tags()
    for kind in ("scalars", "histograms", "images"):
        assert sorted(etags[kind]) == sorted(ttags[kind]), kind
    for tag in ttags["scalars"]:
        ts, es = ta.Scalars(tag), ea.Scalars(tag)
        assert [x.step for x in es] == [x.step for x in ts] == list(range(STEPS))
        tol = 0 if tag == "amp/scale" else 3e-2
        np.testing.assert_allclose([x.value for x in es], [x.value for x in ts], rtol=tol, atol=tol, err_msg=tag)
    for tag in ttags["histograms"]:
        th, eh = ta.Histograms(tag), ea.Histograms(tag)
        assert [x.step for x in eh] == [x.step for x in th]
        for a, b in zip(eh, th):
            ha, hb = a.histogram_value, b.histogram_value
            assert ha.num == hb.num
            np.testing.assert_allclose([ha.min, ha.max, ha.sum, ha.sum_squares],
                                       [hb.min, hb.max, hb.sum, hb.sum_squares], rtol=5e-2, atol=5e-2, err_msg=tag)
            assert sum(ha.bucket) == sum(hb.bucket) == ha.num
    from PIL import Image
    for tag in ttags["images"]:
        ti, ei = ta.Images(tag), ea.Images(tag)
        assert [x.step for x in ei] == [x.step for x in ti]
        for a, b in zip(ei, ti):
            assert (a.width, a.height) == (b.width, b.height) == (3, 12)
            pa = np.asarray(Image.open(io.BytesIO(a.encoded_image_string)), dtype=np.int64)
            pb = np.asarray(Image.open(io.BytesIO(b.encoded_image_string)), dtype=np.int64)
            assert pa.shape == pb.shape
            assert np.abs(pa - pb).mean() < 6, tag


# profiler rows by op family: torch names ATen ops, ember its own ops, so rows are matched by family
FAMILIES = {"conv": ("conv",), "batch_norm": ("batch_norm",), "layer_norm": ("layer_norm",), "relu": ("relu",),
            "max_pool": ("max_pool",), "linear": ("linear", "addmm"), "log_softmax": ("log_softmax",),
            "nll_loss": ("nll_loss",), "autocast cast": ("_to_copy",)}


def _families(table):
    keys = [ev.key for ev in table]
    return {f for f, subs in FAMILIES.items() if any(s in k for k in keys for s in subs)}, \
        [ev.count for ev in table if ev.key == "ProfilerStep*"]


def test_profiler_tables_name_the_same_op_families(runs):
    t, e = runs
    assert len(t["tables"]) == len(e["tables"]) == 1  # one active window: wait 1, warmup 1, active 2
    tf, tsteps = _families(t["tables"][0])
    ef, esteps = _families(e["tables"][0])
    assert tf == set(FAMILIES)
    assert ef == tf
    assert esteps == tsteps == [2]
    assert "Name" in e["tables"][0].table(sort_by="cpu_time_total", row_limit=5)
