"""ember.backends.cuda: cuBLAS matmul flags and attention-kernel switches (torch.backends.cuda)."""
import contextlib

__all__ = ["is_built", "matmul", "flash_sdp_enabled", "enable_flash_sdp", "mem_efficient_sdp_enabled",
           "enable_mem_efficient_sdp", "math_sdp_enabled", "enable_math_sdp", "cudnn_sdp_enabled",
           "enable_cudnn_sdp", "sdp_kernel", "preferred_linalg_library", "preferred_blas_library"]


def is_built():
    """Whether ember can run on CUDA at all (CuPy is installed)."""
    from .. import cuda
    return cuda._probe() is not None


class cuBLASModule:
    """``ember.backends.cuda.matmul``: allow_tf32 and the reduced-precision reduction flags."""
    _NAMES = ("allow_tf32", "allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction",
              "allow_fp16_accumulation")

    def __init__(self):
        object.__setattr__(self, "_flags", {"allow_fp16_reduced_precision_reduction": True,
                                            "allow_bf16_reduced_precision_reduction": True,
                                            "allow_fp16_accumulation": False})

    def __getattr__(self, name):
        if name == "allow_tf32":
            from . import get_float32_matmul_precision
            return get_float32_matmul_precision() != "highest"
        flags = object.__getattribute__(self, "_flags")
        if name in flags:
            return flags[name]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name, value):
        if name == "allow_tf32":
            if not isinstance(value, bool):
                raise RuntimeError(f"set_allow_tf32_cublas expects a bool, but got {type(value).__name__}")
            from . import _precision
            if not value:
                _precision["value"] = "highest"
            elif _precision["value"] == "highest":
                _precision["value"] = "high"
            return
        if name in self._flags:
            if not isinstance(value, (bool, tuple, list)):
                raise TypeError(f"{name} expects a bool or a tuple/list of bools, but got {type(value)}")
            self._flags[name] = value if isinstance(value, bool) else bool(value[0])
            return
        raise AttributeError(f"Unknown attribute {name}")


matmul = cuBLASModule()

_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def flash_sdp_enabled():
    return _sdp["flash"]


def enable_flash_sdp(enabled: bool):
    _sdp["flash"] = bool(enabled)


def mem_efficient_sdp_enabled():
    return _sdp["mem_efficient"]


def enable_mem_efficient_sdp(enabled: bool):
    _sdp["mem_efficient"] = bool(enabled)


def math_sdp_enabled():
    return _sdp["math"]


def enable_math_sdp(enabled: bool):
    _sdp["math"] = bool(enabled)


def cudnn_sdp_enabled():
    return _sdp["cudnn"]


def enable_cudnn_sdp(enabled: bool):
    _sdp["cudnn"] = bool(enabled)


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True, enable_cudnn=True):
    """Temporarily choose which attention kernels may run (ember has one: the math kernel)."""
    prev = dict(_sdp)
    _sdp.update(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient, cudnn=enable_cudnn)
    try:
        yield {}
    finally:
        _sdp.update(prev)


_linalg = {"value": "default"}


def preferred_linalg_library(backend=None):
    """The linear-algebra library preference ('default', 'cusolver', 'magma'); ember uses CuPy's."""
    if backend is not None:
        if not isinstance(backend, str) or backend.lower() not in ("default", "cusolver", "magma"):
            raise RuntimeError("Unknown input value. Choose from: default, cusolver, magma.")
        _linalg["value"] = backend.lower()
    return _linalg["value"]


_blas = {"value": "cublas"}


def preferred_blas_library(backend=None):
    """The BLAS preference ('cublas', 'cublaslt', ...); ember uses CuPy's cuBLAS."""
    if backend is not None:
        if not isinstance(backend, str) or backend.lower() not in ("default", "cublas", "cublaslt", "hipblaslt",
                                                                      "ck"):
            raise RuntimeError("Unknown input value. Choose from: default, cublas, hipblaslt, ck.")
        _blas["value"] = "cublas" if backend.lower() == "default" else backend.lower()
    return _blas["value"]
