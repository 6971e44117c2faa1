"""ember.profiler: op recording through the runner hook, tables, schedules, traces -- checked against
torch.profiler where the two can be compared (schedules, step/trace-ready sequence, table layout)."""
import gzip
import itertools
import json
import os
import re
import threading
import warnings

import numpy as np
import pytest

import ember
import ember.profiler as ep
from ember.ops import _registry as R
from ember.profiler import ProfilerAction, ProfilerActivity, profile, record_function


def _counts(prof):
    return {e.key: e.count for e in prof.key_averages()}


# ---------------------------------------------------------------- recording
def test_table_names_every_op_with_counts():
    a, b = ember.ones(3, 4), ember.ones(4)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(3):
            c = a + b
        d = c * 2
        d.add_(1)
        e = (a @ b).sum()
        f = 2 - a
    c = _counts(prof)
    assert c["aten::add"] == 3 and c["aten::mul"] == 1 and c["aten::add_"] == 1
    assert c["aten::matmul"] == 1 and c["aten::sum_all"] == 1 and c["aten::sub"] == 1
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10)
    for name in ("aten::add ", "aten::mul", "aten::add_", "aten::matmul", "aten::sum_all", "aten::sub"):
        assert name in table
    lines = table.splitlines()
    assert lines[1].split() == ["Name", "Self", "CPU", "%", "Self", "CPU", "CPU", "total", "%", "CPU", "total",
                                "CPU", "time", "avg", "#", "of", "Calls"]
    assert lines[-1].startswith("Self CPU time total: ")
    row = next(line for line in lines if line.strip().startswith("aten::add "))
    assert row.split()[-1] == "3"
    # rows come sorted by self CPU time, descending
    want = [ev.key for ev in sorted(prof.key_averages(), key=lambda ev: -ev.self_cpu_time_total)]
    assert [ln.split()[0] for ln in lines[3:3 + len(want)]] == want
    assert e.item() == 12.0 and f.sum().item() == 12.0


def test_inplace_is_one_event_and_values_are_right():
    x = ember.zeros(3)
    with profile() as prof:
        x.add_(2)
        x.mul_(ember.tensor([1.0, 2.0, 3.0]))
    assert x.tolist() == [2.0, 4.0, 6.0]
    names = [e.name for e in prof.events()]
    assert names == ["aten::add_", "aten::mul_"]


def test_times_nest_self_plus_children_is_total():
    a = ember.ones(100, 100)
    with profile() as prof:
        with record_function("outer"):
            with record_function("inner"):
                b = a @ a
            c = b + 1
    evs = {e.name: e for e in prof.events()}
    outer, inner = evs["outer"], evs["inner"]
    assert inner.cpu_parent is outer and evs["aten::matmul"].cpu_parent is inner
    assert [ch.name for ch in outer.cpu_children] == ["inner", "aten::add"]
    kids = sum(ch.cpu_time_total for ch in outer.cpu_children)
    assert outer.cpu_time_total >= kids > 0
    assert outer.self_cpu_time_total == pytest.approx(outer.cpu_time_total - kids)
    tr = outer.time_range
    assert tr.start <= inner.time_range.start <= inner.time_range.end <= tr.end
    total = prof.key_averages().self_cpu_time_total
    assert total == pytest.approx(outer.cpu_time_total)
    assert c[0, 0].item() == 101.0


def test_backward_ops_are_recorded():
    w = ember.ones(3, requires_grad=True)
    with profile() as prof:
        (w * 2).sum().backward()
    c = _counts(prof)
    assert c["aten::mul"] >= 2  # forward, and the vjp's g * 2
    assert w.grad.tolist() == [2.0, 2.0, 2.0]


def test_record_shapes_memory_flops():
    a, b = ember.ones(64, 32), ember.ones(32, 16)
    with profile(record_shapes=True, profile_memory=True, with_flops=True) as prof:
        c = a @ b
        d = c + 1.5
        v = c.view(-1)
    by = {e.name: e for e in prof.events()}
    assert by["aten::matmul"].input_shapes == [[64, 32], [32, 16]]
    assert by["aten::add"].input_shapes == [[64, 16], []]
    assert by["aten::matmul"].flops == 2 * 64 * 32 * 16
    assert by["aten::add"].flops == 64 * 16
    assert by["aten::matmul"].cpu_memory_usage == 64 * 16 * 4
    assert by["aten::view"].cpu_memory_usage == 0  # a view allocates nothing
    t = prof.key_averages(group_by_input_shape=True).table()
    assert "Input Shapes" in t and "[[64, 32], [32, 16]]" in t
    assert "CPU Mem" in t and "Self CPU Mem" in t and "Total KFLOPs" in t
    assert "4.00 KB" in t
    assert d.shape == (64, 16) and v.shape == (1024,)


def test_flops_match_torch():
    torch = pytest.importorskip("torch")
    import torch.profiler as tp
    with tp.profile(with_flops=True) as tprof:
        torch.ones(8, 5) @ torch.ones(5, 3)
    with profile(with_flops=True) as eprof:
        ember.ones(8, 5) @ ember.ones(5, 3)
    tflops = sum(e.flops for e in tprof.events() if e.name == "aten::mm")
    eflops = sum(e.flops for e in eprof.events() if e.name == "aten::matmul")
    assert eflops == tflops == 240


def test_with_stack_and_export_stacks(tmp_path):
    with profile(with_stack=True) as prof:
        ember.ones(2) * 3
    ev = next(e for e in prof.events() if e.name == "aten::mul")
    assert ev.stack and "test_profiler.py" in ev.stack[0] and "test_with_stack_and_export_stacks" in ev.stack[0]
    assert not any(os.sep + "ember" + os.sep + "ops" in f for f in ev.stack)
    t = prof.key_averages(group_by_stack_n=2).table()
    assert "Source Location" in t and "test_profiler.py" in t
    p = tmp_path / "stacks.txt"
    prof.export_stacks(str(p))
    line = [ln for ln in p.read_text().splitlines() if "aten::mul" in ln][0]
    assert ";" in line and re.search(r"aten::mul \d+$", line)


def test_record_function_decorator_and_outside_profile():
    @record_function("my_fn")
    def f(x):
        return x + 1

    assert f(ember.ones(1)).item() == 2.0  # outside a profile: plain call
    with record_function("nothing"):
        pass
    with profile() as prof:
        f(ember.ones(1))
        f(ember.ones(1))
    c = _counts(prof)
    assert c["my_fn"] == 2 and c["aten::add"] == 2
    assert all(e.cpu_parent.name == "my_fn" for e in prof.events() if e.name == "aten::add")
    assert next(e for e in prof.events() if e.name == "my_fn").is_user_annotation


def test_other_threads_are_recorded():
    out = []

    def work():
        out.append((ember.ones(2) * 5).sum().item())

    with profile() as prof:
        th = threading.Thread(target=work)
        th.start()
        th.join()
        ember.ones(2) + 1
    threads = {e.thread for e in prof.events()}
    assert len(threads) == 2 and out == [10.0]
    assert _counts(prof)["aten::mul"] == 1


def test_hook_removed_after_profile_even_on_error():
    run, hook = R._run, R._inplace_hook
    with pytest.raises(ZeroDivisionError):
        with profile():
            assert R._run is not run and R._inplace_hook is not None
            1 / 0
    assert R._run is run and R._inplace_hook is hook is None
    assert (ember.ones(2) + 1).tolist() == [2.0, 2.0]


def test_one_profile_at_a_time():
    with profile():
        with pytest.raises(RuntimeError, match="another profiler is already running"):
            with profile():
                pass
    with profile() as p2:
        ember.ones(1) + 1
    assert _counts(p2) == {"aten::add": 1}


def test_errors_and_empty():
    with profile() as prof:
        pass
    assert prof.key_averages().table() == ""
    with profile() as prof:
        ember.ones(1) + 1
    with pytest.raises(AttributeError):
        prof.key_averages().table(sort_by="bogus")
    with pytest.raises(AssertionError, match="No valid profiler activities found"):
        profile(activities=[])
    if not ep.profiler._cuda_available():
        with pytest.warns(UserWarning, match="CUDA is not available, disabling CUDA profiling"):
            profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA])
    assert ProfilerActivity.CPU in ep.supported_activities()
    assert repr(ProfilerActivity.CPU) == "<ProfilerActivity.CPU: 0>"
    assert str(ProfilerAction.RECORD_AND_SAVE) == "ProfilerAction.RECORD_AND_SAVE"


# ---------------------------------------------------------------- traces
def test_export_chrome_trace(tmp_path):
    with profile(record_shapes=True) as prof:
        with record_function("block"):
            ember.ones(2, 3) + ember.ones(3)
    p = tmp_path / "trace.json"
    prof.export_chrome_trace(str(p))
    doc = json.loads(p.read_text())
    assert doc["schemaVersion"] == 1 and doc["displayTimeUnit"] == "ms"
    xs = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    assert [e["name"] for e in xs] == ["block", "aten::add"]
    assert [e["cat"] for e in xs] == ["user_annotation", "cpu_op"]
    blk, add = xs
    assert blk["ts"] <= add["ts"] and add["ts"] + add["dur"] <= blk["ts"] + blk["dur"] + 1e-3
    assert add["args"]["Input Dims"] == [[2, 3], [3]]
    assert all(e["pid"] == os.getpid() for e in doc["traceEvents"])
    gz = tmp_path / "trace.json.gz"
    prof.export_chrome_trace(str(gz))
    assert json.loads(gzip.open(gz).read())["traceEvents"][-1]["name"] == "aten::add"


def test_tensorboard_trace_handler(tmp_path):
    d = str(tmp_path / "tb")
    sched = ep.schedule(wait=1, warmup=1, active=2, repeat=2)
    with profile(schedule=sched, on_trace_ready=ep.tensorboard_trace_handler(d, worker_name="w0")) as prof:
        for _ in range(9):
            ember.ones(2) * 2
            prof.step()
    files = sorted(os.listdir(d))
    assert len(files) == 2 and all(re.fullmatch(r"w0\.\d+\.pt\.trace\.json", f) for f in files)
    doc = json.load(open(os.path.join(d, files[0])))
    steps = [e["name"] for e in doc["traceEvents"] if e.get("cat") == "user_annotation"]
    assert steps == ["ProfilerStep#2", "ProfilerStep#3"]
    ops = [e for e in doc["traceEvents"] if e.get("name") == "aten::mul"]
    assert len(ops) == 2
    ep.tensorboard_trace_handler(d, use_gzip=True)(prof)
    assert any(f.endswith(".pt.trace.json.gz") for f in os.listdir(d))


# ---------------------------------------------------------------- against torch
def test_schedule_matches_torch():
    pytest.importorskip("torch")
    import torch.profiler as tp
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for wait, warmup, active, repeat, skip, sfw in itertools.product(
                [0, 2], [0, 1], [1, 3], [0, 2], [0, 3], [0, 1]):
            t = tp.schedule(wait=wait, warmup=warmup, active=active, repeat=repeat, skip_first=skip,
                            skip_first_wait=sfw)
            e = ep.schedule(wait=wait, warmup=warmup, active=active, repeat=repeat, skip_first=skip,
                            skip_first_wait=sfw)
            assert [t(i).name for i in range(25)] == [e(i).name for i in range(25)]
    with pytest.warns(UserWarning, match="Profiler won't be using warmup"):
        ep.schedule(wait=0, warmup=0, active=1)


def _step_log(lib, P, sched, nsteps):
    log = []

    def ready(p):
        steps = sorted({e.name for e in p.events() if e.name.startswith("ProfilerStep")})
        counts = [e.count for e in p.key_averages() if e.key.startswith("ProfilerStep")]
        log.append((p.step_num, steps, counts, sum(e.name == "aten::add" for e in p.events())))

    a = lib.ones(2)
    with P.profile(activities=[P.ProfilerActivity.CPU], schedule=sched(P), on_trace_ready=ready) as p:
        for _ in range(nsteps):
            a = a + 1
            p.step()
    log.append(("end", sorted({e.name for e in p.events() if e.name.startswith("ProfilerStep")})))
    return log


@pytest.mark.parametrize("nsteps", [3, 7, 9])
@pytest.mark.parametrize("sched", [
    lambda P: P.schedule(wait=1, warmup=1, active=2, repeat=1),
    lambda P: P.schedule(wait=1, warmup=1, active=2),
    lambda P: P.schedule(wait=0, warmup=0, active=3, repeat=2, skip_first=2),
    lambda P: P.schedule(wait=2, warmup=1, active=1, repeat=0),
])
def test_steps_and_trace_ready_match_torch(sched, nsteps):
    torch = pytest.importorskip("torch")
    import torch.profiler as tp
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _step_log(torch, tp, sched, nsteps) == _step_log(ember, ep, sched, nsteps)


def _norm_table(s):
    """Times and percentages vary run to run: compare the layout (every line's length but the last) and
    the text around them."""
    lines = s.splitlines()
    return re.sub(r"\s*-?\d+\.\d+(us|ms|s|%)", " T", s), [len(x) for x in lines[:-1]]


@pytest.mark.parametrize("kw,table_kw,avg_kw", [
    ({}, {}, {}),
    ({"profile_memory": True}, {}, {}),
    ({}, {"sort_by": "cpu_time_total", "row_limit": 2}, {}),
    ({}, {"sort_by": "count"}, {}),
    ({}, {"max_name_column_width": 10}, {}),
    ({}, {"top_level_events_only": True}, {}),
    ({}, {"header": "HEAD"}, {}),
    ({"record_shapes": True}, {}, {"group_by_input_shape": True}),
])
def test_table_layout_matches_torch(kw, table_kw, avg_kw):
    pytest.importorskip("torch")
    import torch.profiler as tp

    def program(P):
        with P.profile(activities=[P.ProfilerActivity.CPU], **kw) as p:
            with P.record_function("outer"):
                for _ in range(3):
                    with P.record_function("inner_block"):
                        pass
            with P.record_function("x" * 70):
                pass
        return p.key_averages(**avg_kw).table(**table_kw)

    assert _norm_table(program(tp)) == _norm_table(program(ep))


def test_time_and_memory_formats():
    from ember.profiler._events import _fmt_mem, _fmt_time
    assert [_fmt_time(x) for x in (0.5, 999.9994, 1500.0, 2.5e6)] == ["0.500us", "999.999us", "1.500ms", "2.500s"]
    assert [_fmt_mem(x) for x in (0, 112, 2048, 4_000_000, 3 * 1024 ** 3, -4)] == \
        ["0 B", "112 B", "2.00 KB", "3.81 MB", "3.00 GB", "-4 B"]


def test_events_attributes():
    with profile() as prof:
        ember.ones(2) + 1
    (ev,) = list(prof.events())
    assert ev.key == "aten::add" and ev.count == 1 and ev.cpu_parent is None
    assert ev.cpu_time == ev.cpu_time_total > 0 and ev.device_time_total == 0
    avg = prof.key_averages()[0]
    assert avg.key == "aten::add" and avg.count == 1 and avg.cpu_time_total == ev.cpu_time_total
    tot = prof.events().total_average()
    assert tot.key == "Total" and tot.count == 1
    assert "aten::add" in str(prof.key_averages())
    assert np.isfinite(prof.events().self_cpu_time_total)
