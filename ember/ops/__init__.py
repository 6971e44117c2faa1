"""The op library. Each family module registers its ops (``defop``), adds its Tensor methods, and
exports its public functions in a ``FUNCS`` dict; this module re-exports them all, so
``ember.ops.<name>`` and ``ember.<name>`` find every function."""
import importlib
import warnings

from . import _registry

# torch computes IEEE results silently (log(0) = -inf, 0/0 = nan); NumPy warns. Silence NumPy's
# floating-point RuntimeWarnings raised from ember's own code only: NumPy's global error state and
# warnings from user code are left alone.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ember(\.|$)")

# order matters only in that later families may use methods of earlier ones at import time
_FAMILIES = ["unary", "binary", "view", "creation", "reduce", "linalg", "pointwise", "index", "join", "sort",
             "random", "linalg_ext", "spectral", "scan", "nn_ops", "extra"]  # scan after linalg_ext: its torch.norm wins
__all__ = []
for _name in _FAMILIES:
    try:
        _m = importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _e:  # a family not written yet; any other import error is real
        if _e.name != f"{__name__}.{_name}":
            raise
        continue
    for _k, _v in _m.FUNCS.items():
        globals()[_k] = _v
        __all__.append(_k)
OPS = _registry.OPS
