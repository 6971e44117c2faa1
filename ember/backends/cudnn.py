"""ember.backends.cudnn: cuDNN flags (torch.backends.cudnn). ember's GPU ops do not use cuDNN, so
``is_available()`` is False and ``version()`` None; the flags are kept and checked like torch's."""
import contextlib
import sys
import types

__all__ = ["is_available", "version", "is_acceptable", "flags"]  # and the flags, module properties below

_flags = {"enabled": True, "benchmark": False, "deterministic": False, "allow_tf32": True, "benchmark_limit": 10}
_SETTERS = {"enabled": "set_enabled_cudnn", "benchmark": "set_benchmark_cudnn",
            "deterministic": "set_deterministic_cudnn", "allow_tf32": "set_allow_tf32_cublas"}


def is_available():
    """False: ember has no cuDNN backend."""
    return False


def version():
    """cuDNN's version, or None when it is not available."""
    return None


def is_acceptable(tensor):
    """Whether cuDNN could run on ``tensor`` (never, in ember)."""
    return False


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True,
          fp32_precision="none", depthwise_kernel="auto"):
    """Set the cuDNN flags for a block, restoring the previous ones after it."""
    prev = dict(_flags)
    mod = sys.modules[__name__]
    mod.enabled, mod.benchmark, mod.deterministic, mod.allow_tf32 = enabled, benchmark, deterministic, allow_tf32
    if benchmark_limit is not None:
        _flags["benchmark_limit"] = benchmark_limit
    try:
        yield
    finally:
        _flags.update(prev)


def _prop(name):
    def get(self):
        if name == "benchmark_limit" and not is_available():
            return None
        return _flags[name]

    def set_(self, value):
        setter = _SETTERS.get(name)
        if setter is not None and not isinstance(value, bool):
            raise RuntimeError(f"{setter} expects a bool, but got {type(value).__name__}")
        _flags[name] = value
    return property(get, set_)


class _CudnnModule(types.ModuleType):
    enabled = _prop("enabled")
    benchmark = _prop("benchmark")
    deterministic = _prop("deterministic")
    allow_tf32 = _prop("allow_tf32")
    benchmark_limit = _prop("benchmark_limit")


sys.modules[__name__].__class__ = _CudnnModule
