"""Monitoring overheads, ember vs torch (each side in its own process).

    python bench/monitoring.py [--threads 2]

Cases: ``SummaryWriter.add_scalar`` calls (event files in a temp dir, both sides through tensorboard's
EventFileWriter), and the per-op cost of ``a + b`` / ``a.add_(b)`` on 1-element tensors with no profiler
and inside ``profiler.profile()``. ember's profiler swaps the op runner only while it records, so the
"no profiler" rows run exactly the code that runs without any profiler hook; in-place calls pay one
global check. Times are per call, best of 5; the ratio is what matters.
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H  # noqa: E402


def measure(side):
    if side == "torch":
        import torch as T
        from torch.utils.tensorboard import SummaryWriter
        import torch.profiler as P
    else:
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        import ember as T
        from ember.utils.tensorboard import SummaryWriter
        import ember.profiler as P
    r = {}
    with tempfile.TemporaryDirectory() as d:
        w = SummaryWriter(d, max_queue=1000)
        step = [0]

        def scalar():
            step[0] += 1
            w.add_scalar("loss", 0.5, step[0])
        r["add_scalar(float)"] = H.best_of(scalar, 5000)
        x = T.tensor(0.25)

        def scalar_t():
            step[0] += 1
            w.add_scalar("loss_t", x, step[0])
        r["add_scalar(0-d tensor)"] = H.best_of(scalar_t, 5000)
        w.close()
    a, b = T.ones(1), T.ones(1)
    r["a + b, no profiler"] = H.best_of(lambda: a + b, 20000)
    r["a.add_(b), no profiler"] = H.best_of(lambda: a.add_(b), 20000)
    with P.profile(activities=[P.ProfilerActivity.CPU]):
        r["a + b, inside profile()"] = H.best_of(lambda: a + b, 4000)
        r["a.add_(b), inside profile()"] = H.best_of(lambda: a.add_(b), 4000)
    r["a + b, no profiler (after profiling)"] = H.best_of(lambda: a + b, 20000)
    if side == "ember":
        r["_extra"] = _ember_hook_ab(a, b)
    return r


def _ember_hook_ab(a, b):
    """A/B of the idle profiler hook: ``a + b`` through ``apply`` (the runner global is the plain runner:
    nothing to remove), and ``a.add_(b)`` with apply_inplace's one-global check compiled out."""
    import inspect
    from ember.ops import _registry as R
    check = """    if _inplace_hook is not None and not _hooked:
        return _inplace_hook(op, self, args, kw)
"""
    src = inspect.getsource(R.apply_inplace)
    assert check in src
    ns = {}
    exec(compile(src.replace(check, ""), "apply_inplace_without_hook", "exec"), R.__dict__, ns)
    code = R.apply_inplace.__code__
    out = {}
    for _ in range(3):  # interleaved, so drift on a shared machine hits both sides alike
        with_ = H.best_of(lambda: a.add_(b), 20000)
        R.apply_inplace.__code__ = ns["apply_inplace"].__code__
        try:
            without = H.best_of(lambda: a.add_(b), 20000)
        finally:
            R.apply_inplace.__code__ = code
        out["with"] = min(out.get("with", 1), with_)
        out["without"] = min(out.get("without", 1), without)
    return out


if __name__ == "__main__":
    res, args = H.main(__doc__, measure, __file__)
    if res is not None:
        extra = res["ember"].pop("_extra")
        H.report("Monitoring: TensorBoard writer and profiler overhead", res, args.threads)
        for side in ("ember", "torch"):
            print(f"{side}: add_scalar {1 / res[side]['add_scalar(float)']:,.0f} calls/s")
        print(f"ember a.add_(b): idle hook check {extra['with'] * 1e9:.0f} ns/call, check compiled out "
              f"{extra['without'] * 1e9:.0f} ns/call ({(extra['with'] / extra['without'] - 1) * 100:+.1f}%)")
