"""The op library. Each family module registers its ops (``defop``), adds its Tensor methods, and
exports its public functions in a ``FUNCS`` dict; this module re-exports them all, so
``ember.ops.<name>`` and ``ember.<name>`` find every function."""
import importlib

from . import _registry

# order matters only in that later families may use methods of earlier ones at import time
_FAMILIES = ["unary", "binary", "view", "creation", "reduce", "linalg", "pointwise", "index", "join", "sort",
             "scan", "random", "linalg_ext", "spectral", "nn_ops"]
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
