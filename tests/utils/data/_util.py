"""Helpers shared by the data tests: run the same program on ember and torch and compare plain structures."""
import collections.abc

import numpy as np


def to_py(obj):
    """Tensors (ember or torch) become ('T', dtype name, shape, values); containers keep their kind."""
    mod = type(obj).__module__.split(".")[0]
    if type(obj).__name__ in ("Tensor", "Parameter") and mod in ("ember", "torch"):
        return ("T", str(obj.dtype).split(".")[-1], tuple(obj.shape), obj.tolist())
    if isinstance(obj, np.ndarray):
        return ("A", str(obj.dtype), obj.shape, obj.tolist())
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return (type(obj).__name__,) + tuple(to_py(x) for x in obj)
    if isinstance(obj, collections.abc.Mapping):
        return {k: to_py(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_py(x) for x in obj)
    return obj
