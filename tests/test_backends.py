"""ember.backends, the determinism / matmul-precision switches and ember.accelerator, against CPU-only torch."""
import warnings

import pytest

import ember

torch = pytest.importorskip("torch")
LIBS = (torch, ember)
# these compare with CPU-only torch: on a machine with a GPU both libraries (rightly) answer differently
cpu_only = pytest.mark.skipif(ember.cuda.is_available() or torch.cuda.is_available(),
                              reason="compares with CPU-only torch on a machine without a GPU")


@pytest.fixture(autouse=True)
def restore_flags():
    """Every test leaves both libraries' global flags as it found them."""
    saved = []
    for lib in LIBS:
        b = lib.backends
        saved.append((lib, lib.are_deterministic_algorithms_enabled(),
                      lib.is_deterministic_algorithms_warn_only_enabled(), lib.get_float32_matmul_precision(),
                      b.cuda.matmul.allow_fp16_reduced_precision_reduction,
                      b.cudnn.enabled, b.cudnn.benchmark, b.cudnn.deterministic, b.cudnn.allow_tf32))
    yield
    for lib, det, warn, prec, fp16, en, bench, cdet, tf32 in saved:
        b = lib.backends
        lib.use_deterministic_algorithms(det, warn_only=warn)
        lib.set_float32_matmul_precision(prec)
        b.cuda.matmul.allow_fp16_reduced_precision_reduction = fp16
        b.cudnn.enabled, b.cudnn.benchmark, b.cudnn.deterministic, b.cudnn.allow_tf32 = en, bench, cdet, tf32


def both(fn):
    """fn(lib) for torch and ember: results (or exception type and message) must be equal."""
    out = []
    for lib in LIBS:
        try:
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                r = fn(lib)
            out.append(("ok", r, [(x.category, str(x.message).split(" (Triggered internally")[0]) for x in w]))
        except Exception as e:
            out.append(("err", type(e), str(e)))
    assert out[0] == out[1], out
    return out[0]


@cpu_only
def test_queries_match_cpu_only_torch():
    both(lambda L: (L.backends.cuda.is_built(), L.backends.cudnn.is_available(), L.backends.cudnn.version(),
                    L.backends.mps.is_available(), L.backends.mps.is_built(), L.backends.cpu.get_cpu_capability(),
                    L.backends.cudnn.is_acceptable(L.ones(1)), L.backends.cudnn.benchmark_limit))
    both(lambda L: L.backends.mps.is_macos13_or_newer())


def test_default_flags():
    both(lambda L: (L.backends.cuda.matmul.allow_tf32, L.backends.cuda.matmul.allow_fp16_reduced_precision_reduction,
                    L.backends.cuda.matmul.allow_bf16_reduced_precision_reduction, L.backends.cudnn.allow_tf32,
                    L.backends.cudnn.benchmark, L.backends.cudnn.deterministic, L.backends.cudnn.enabled,
                    L.backends.mkldnn.enabled, L.backends.cuda.flash_sdp_enabled(),
                    L.backends.cuda.math_sdp_enabled(), L.backends.cuda.mem_efficient_sdp_enabled()))


def test_unknown_matmul_attribute():
    both(lambda L: L.backends.cuda.matmul.foo)
    both(lambda L: setattr(L.backends.cuda.matmul, "foo", True))


def test_flag_setters_check_bools():
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        both(lambda L: setattr(L.backends.cudnn, name, 1))
    both(lambda L: setattr(L.backends.cuda.matmul, "allow_tf32", "x"))
    both(lambda L: setattr(L.backends.cuda.matmul, "allow_fp16_reduced_precision_reduction", "x"))


def test_setting_flags():
    def prog(L):
        b = L.backends
        b.cudnn.benchmark = True
        b.cudnn.deterministic = True
        b.cuda.matmul.allow_fp16_reduced_precision_reduction = False
        r = [b.cudnn.benchmark, b.cudnn.deterministic, b.cuda.matmul.allow_fp16_reduced_precision_reduction]
        with b.cudnn.flags(enabled=False, benchmark=False, deterministic=False, allow_tf32=False):
            r.append((b.cudnn.enabled, b.cudnn.benchmark, b.cudnn.deterministic, b.cudnn.allow_tf32))
        r.append((b.cudnn.enabled, b.cudnn.benchmark, b.cudnn.deterministic, b.cudnn.allow_tf32))
        return r
    both(prog)


def test_matmul_precision_and_allow_tf32():
    def prog(L):
        b = L.backends
        r = [L.get_float32_matmul_precision(), b.cuda.matmul.allow_tf32]
        b.cuda.matmul.allow_tf32 = True
        r += [L.get_float32_matmul_precision(), b.cuda.matmul.allow_tf32]
        b.cuda.matmul.allow_tf32 = False
        r += [L.get_float32_matmul_precision(), b.cuda.matmul.allow_tf32]
        L.set_float32_matmul_precision("high")
        r += [L.get_float32_matmul_precision(), b.cuda.matmul.allow_tf32]
        L.set_float32_matmul_precision("highest")
        r += [L.get_float32_matmul_precision(), b.cuda.matmul.allow_tf32]
        return r
    both(prog)
    both(lambda L: (L.set_float32_matmul_precision("foo"), L.get_float32_matmul_precision()))
    both(lambda L: L.set_float32_matmul_precision(3))


def test_deterministic_algorithms():
    def prog(L):
        r = [L.are_deterministic_algorithms_enabled(), L.get_deterministic_debug_mode()]
        L.use_deterministic_algorithms(True)
        r += [L.are_deterministic_algorithms_enabled(), L.is_deterministic_algorithms_warn_only_enabled(),
              L.get_deterministic_debug_mode(), L.backends.cudnn.deterministic]
        L.use_deterministic_algorithms(True, warn_only=True)
        r += [L.is_deterministic_algorithms_warn_only_enabled(), L.get_deterministic_debug_mode()]
        L.use_deterministic_algorithms(False)
        r += [L.are_deterministic_algorithms_enabled(), L.get_deterministic_debug_mode()]
        for mode in ("warn", "error", "default", 1, 2, 0):
            L.set_deterministic_debug_mode(mode)
            r.append((L.are_deterministic_algorithms_enabled(), L.is_deterministic_algorithms_warn_only_enabled(),
                      L.get_deterministic_debug_mode()))
        return r
    both(prog)
    both(lambda L: L.use_deterministic_algorithms("x"))
    both(lambda L: L.set_deterministic_debug_mode("x"))
    both(lambda L: L.set_deterministic_debug_mode(5))
    both(lambda L: L.set_deterministic_debug_mode(1.5))


def test_ember_answers_for_its_own_libraries():
    """oneDNN is never used by ember; MKL/OpenMP report on the BLAS NumPy runs (threadpoolctl's view)."""
    assert ember.backends.mkldnn.is_available() is False
    from threadpoolctl import threadpool_info
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    assert ember.backends.mkl.is_available() == any(i["internal_api"] == "mkl" for i in blas)
    assert ember.backends.openmp.is_available() == any(i.get("threading_layer") in ("openmp", "intel")
                                                       for i in blas)
    assert ember.backends.opt_einsum.is_available() in (True, False)


def test_cpu_capability_env_cap(monkeypatch):
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "default")
    assert ember.backends.cpu.get_cpu_capability() == "DEFAULT"


@cpu_only
def test_accelerator_without_gpu():
    both(lambda L: (L.accelerator.is_available(), L.accelerator.current_accelerator(),
                    L.accelerator.current_accelerator(check_available=True), L.accelerator.device_count()))
    both(lambda L: L.accelerator.current_device_index())
    both(lambda L: L.accelerator.set_device_index(0))
    both(lambda L: L.accelerator.synchronize())
    both(lambda L: L.accelerator.synchronize("cpu"))
    both(lambda L: L.accelerator.current_device_idx())


@cpu_only
def test_cuda_memory_queries_without_gpu():
    both(lambda L: (L.cuda.memory_allocated(), L.cuda.max_memory_allocated(), L.cuda.memory_reserved(),
                    L.cuda.max_memory_reserved(), dict(L.cuda.memory_stats()), L.cuda.empty_cache()))
    both(lambda L: L.cuda.memory_summary())
    both(lambda L: L.cuda.reset_peak_memory_stats())


class _FakePool:
    def __init__(self):
        self.used, self.total = 0, 0

    def malloc(self, size):
        self.used += size
        self.total = max(self.total, self.used)
        return size

    def used_bytes(self):
        return self.used

    def total_bytes(self):
        return self.total

    def free_all_blocks(self):
        self.total = self.used


class _FakeCupy:
    """Just enough of CuPy's memory-pool API for ember.cuda's statistics (no GPU is needed)."""

    def __init__(self):
        import types
        self.pool = _FakePool()
        self.allocator = self.pool.malloc

        class Device:
            def __init__(self, i):
                self.i = i

            def __enter__(self):
                return self

            def __exit__(self, *a):
                return False
        self.cuda = types.SimpleNamespace(Device=Device, runtime=types.SimpleNamespace(getDevice=lambda: 0),
                                          get_allocator=lambda: self.allocator,
                                          set_allocator=lambda f: setattr(self, "allocator", f))

    def get_default_memory_pool(self):
        return self.pool


def test_cuda_memory_statistics_from_the_pool(monkeypatch):
    from ember import cuda
    fake = _FakeCupy()
    monkeypatch.setattr(cuda, "_state", {"probed": True, "cupy": fake, "count": 1, "initialized": True})
    monkeypatch.setattr(cuda, "_peak", {"tracking": False, "allocated": {}, "reserved": {}})
    assert cuda.max_memory_allocated() == 0
    fake.allocator(1000)  # allocations go through ember's tracking allocator from now on
    fake.allocator(500)
    assert cuda.memory_allocated() == 1500 and cuda.max_memory_allocated() == 1500
    fake.pool.used = 200  # memory returned to the pool
    assert cuda.memory_allocated() == 200 and cuda.max_memory_allocated() == 1500
    assert cuda.max_memory_reserved() == 1500
    cuda.reset_peak_memory_stats()
    assert cuda.max_memory_allocated() == 200
    fake.allocator(100)
    assert cuda.max_memory_allocated() == 300
    st = cuda.memory_stats()
    assert st["allocated_bytes.all.current"] == 300 and st["allocated_bytes.all.peak"] == 300
    s = cuda.memory_summary()
    assert "memory summary, device ID 0" in s and "Allocated memory" in s and "300 B" in s
    cuda.empty_cache()
    assert cuda.memory_reserved() == 300
