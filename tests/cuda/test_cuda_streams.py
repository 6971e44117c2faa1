"""ember.cuda streams, events and memory info: torch's errors without a GPU, real CuPy behaviour with one."""
import numpy as np
import pytest

import ember

gpu = pytest.mark.skipif(not ember.cuda.is_available(), reason="needs a GPU (CuPy and a CUDA device)")
no_gpu = pytest.mark.skipif(ember.cuda.is_available(), reason="checks the CPU-only behaviour")

CALLS = ["cuda.Event(enable_timing=True)", "cuda.Stream()", "cuda.current_stream()", "cuda.default_stream()",
         "cuda.mem_get_info()"]


@no_gpu
@pytest.mark.parametrize("call", CALLS)
def test_without_gpu_raises_like_cpu_only_torch(call, torch_oracle):
    def outcome(M):
        try:
            eval("M." + call)
        except Exception as e:  # noqa: BLE001 - the exception is the result compared
            return type(e), str(e)
        return None, None
    et, em = outcome(ember)
    tt, tm = outcome(torch_oracle)
    assert et is tt and tt is not None
    assert em.startswith(tm)


def test_null_contexts_and_error_class():
    with ember.cuda.stream(None) as s:
        assert s is None
    with ember.cuda.device_of(ember.ones(1)):
        pass
    assert issubclass(ember.cuda.OutOfMemoryError, RuntimeError)


@gpu
def test_events_time_gpu_work_and_streams_order_it():
    start, end = ember.cuda.Event(enable_timing=True), ember.cuda.Event(enable_timing=True)
    a = ember.randn(1024, 1024, device="cuda")
    start.record()
    for _ in range(5):
        a = a @ a / 1024
    end.record()
    end.synchronize()
    assert end.query() and start.elapsed_time(end) > 0
    with pytest.raises(RuntimeError, match="enable_timing"):
        ember.cuda.Event().elapsed_time(end)

    s = ember.cuda.Stream()
    assert s != ember.cuda.default_stream() and s.device == ember.device("cuda", 0)
    with ember.cuda.stream(s):
        assert ember.cuda.current_stream() == s
        b = ember.ones(1000, device="cuda") * 3
    s.synchronize()
    assert s.query() and b.sum().item() == 3000.0
    assert ember.cuda.current_stream() == ember.cuda.default_stream()
    ev = s.record_event()
    ember.cuda.current_stream().wait_event(ev)
    free, total = ember.cuda.mem_get_info()
    assert 0 < free <= total


@gpu
def test_dlpack_with_torch_on_gpu_shares_memory():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch without CUDA")
    e = ember.arange(6.0, device="cuda")
    t = torch.from_dlpack(e)
    assert t.is_cuda
    t[0] = 42.0
    torch.cuda.synchronize()
    assert e[0].item() == 42.0  # same GPU memory
    back = ember.from_dlpack(torch.ones(3, device="cuda"))
    assert back.device.type == "cuda" and np.allclose(back.cpu().numpy(), 1.0)
