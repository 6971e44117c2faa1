"""The op library. Each family module registers its ops and adds Tensor methods; this module
re-exports every public function so ``ember.ops.<name>`` and ``ember.<name>`` find it."""
from . import _registry
from . import unary, binary, view, creation, reduce, linalg  # noqa: E401  (order: methods used by later ones)

_FAMILIES = [unary, binary, view, creation, reduce, linalg]
__all__ = []
for _m in _FAMILIES:
    for _k, _v in _m.FUNCS.items():
        globals()[_k] = _v
        __all__.append(_k)
OPS = _registry.OPS
