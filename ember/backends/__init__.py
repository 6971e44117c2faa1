"""ember.backends (torch.backends): flags and queries for the libraries behind the ops.

ember computes with NumPy on the CPU and CuPy on NVIDIA GPUs, so the queries answer for those: no cuDNN,
oneDNN (mkldnn) or MPS backend is ever used, and the flags are kept for code that sets them.
"""
import warnings

from . import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp, opt_einsum  # noqa: F401

_det = {"enabled": False, "warn_only": False}
_precision = {"value": "highest"}
_PRECISIONS = ("highest", "high", "medium")


def _bool_arg(fn, name, pos, value):
    if not isinstance(value, bool):
        where = f"argument '{name}' (position {pos})" if pos else f"argument '{name}'"
        raise TypeError(f"{fn}(): {where} must be bool, not {type(value).__name__}")


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Ask ops for deterministic algorithms (NumPy's CPU kernels already are; the flag is recorded)."""
    _bool_arg("_set_deterministic_algorithms", "mode", 1, mode)
    _bool_arg("_set_deterministic_algorithms", "warn_only", 0, warn_only)
    _det["enabled"], _det["warn_only"] = mode, warn_only if mode else False


def are_deterministic_algorithms_enabled():
    return _det["enabled"]


def is_deterministic_algorithms_warn_only_enabled():
    return _det["warn_only"]


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode):
    """0/'default': off; 1/'warn': deterministic, warn only; 2/'error': deterministic."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got "
                               f"{debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    elif isinstance(debug_mode, int):
        if debug_mode not in (0, 1, 2):
            raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    else:
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode == 0:
        use_deterministic_algorithms(False)
    elif debug_mode == 1:
        use_deterministic_algorithms(True, warn_only=True)
    else:
        use_deterministic_algorithms(True)


def get_deterministic_debug_mode():
    if not _det["enabled"]:
        return 0
    return 1 if _det["warn_only"] else 2


def set_float32_matmul_precision(precision):
    """'highest' (full float32), 'high' or 'medium' (TF32/bfloat16 allowed on GPUs that have them)."""
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}")
    if precision not in _PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      f"setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _precision["value"] = precision


def get_float32_matmul_precision():
    return _precision["value"]
