"""OpInfo: one row of the op table. Samples are NumPy arrays so ember and torch get the same inputs.

A family's rows live in ``tests/ops/db/<family>.py`` as ``OPS = [OpInfo(...), ...]``;
``tests/ops/op_db.py`` gathers them and ``tests/ops/test_ops.py`` runs the generic tests.
"""
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

FLOATS = ("float32", "float64")
INTS = ("int64", "int32", "uint8")
ALL_REAL = FLOATS + INTS + ("bool",)


@dataclass
class Sample:
    """Positional ``args`` (NumPy arrays become tensors; other values pass as-is) and ``kwargs``."""
    args: tuple
    kwargs: dict = field(default_factory=dict)
    name: str = ""


@dataclass
class OpInfo:
    name: str                                   # called as ember.<name>(*args, **kwargs) (and torch.<name>)
    samples: Callable[[str], Any]               # samples(dtype_name) -> iterable of Sample
    ref: Optional[Callable] = None              # NumPy reference on the same args, or None (torch only)
    dtypes: tuple = FLOATS
    grad: bool = True                           # differentiable: float64 gradcheck on every sample
    method: bool = True                         # also Tensor.<name>(*args[1:])
    inplace: bool = False                       # also Tensor.<name>_(*args[1:])
    torch_name: Optional[str] = None            # when torch spells it differently (e.g. "linalg.inv")
    atol: float = 1e-5
    rtol: float = 1.3e-6
    grad_atol: float = 1e-5
    skip: tuple = ()                            # names of generic tests to skip, e.g. ("meta",)
    fn: Optional[Callable] = None               # custom call: fn(module, *args, **kwargs) for ember and torch


def rng(seed=0):
    return np.random.default_rng(seed)


def arr(shape, dtype, low=-2.0, high=2.0, seed=0):
    """A NumPy array of ``dtype`` (name) with values in [low, high)."""
    r = rng(seed)
    if dtype == "bool":
        return r.random(shape) > 0.5
    if dtype in ("int64", "int32", "int16", "int8", "uint8"):
        lo = max(int(low), 0) if dtype == "uint8" else int(low)
        return r.integers(lo, max(int(high), lo + 1) + 1, size=shape).astype(dtype)
    if dtype.startswith("complex"):
        return (r.uniform(low, high, shape) + 1j * r.uniform(low, high, shape)).astype(dtype)
    return r.uniform(low, high, shape).astype(dtype)


def noncontig(a):
    """A non-contiguous array with the same values as ``a`` (transposed storage)."""
    if a.ndim < 2:
        big = np.empty((a.shape[0] * 2,) if a.ndim == 1 else (2,), a.dtype)
        if a.ndim == 1:
            big[::2] = a
            return big[::2]
        return a
    t = np.ascontiguousarray(np.swapaxes(a, -1, -2))
    return np.swapaxes(t, -1, -2)


def unary_samples(dtype, low=-2.0, high=2.0):
    """Shapes (), (0,), (5,), (3, 4), a non-contiguous (3, 4) and a (2, 3, 4)."""
    yield Sample((arr((), dtype, low, high),), name="0d")
    yield Sample((arr((0,), dtype, low, high),), name="empty")
    yield Sample((arr((5,), dtype, low, high, seed=1),), name="1d")
    yield Sample((arr((3, 4), dtype, low, high, seed=2),), name="2d")
    yield Sample((noncontig(arr((3, 4), dtype, low, high, seed=3)),), name="noncontig")
    yield Sample((arr((2, 3, 4), dtype, low, high, seed=4),), name="3d")


def binary_samples(dtype, low=-2.0, high=2.0, low2=None, high2=None):
    """Same shapes, broadcasting pairs, 0-d with n-d, a Python scalar, non-contiguous."""
    low2 = low if low2 is None else low2
    high2 = high if high2 is None else high2
    yield Sample((arr((), dtype, low, high), arr((), dtype, low2, high2, seed=9)), name="0d")
    yield Sample((arr((0,), dtype, low, high), arr((0,), dtype, low2, high2)), name="empty")
    yield Sample((arr((5,), dtype, low, high, 1), arr((5,), dtype, low2, high2, 2)), name="1d")
    yield Sample((arr((3, 4), dtype, low, high, 3), arr((4,), dtype, low2, high2, 4)), name="broadcast")
    yield Sample((arr((3, 1), dtype, low, high, 5), arr((1, 4), dtype, low2, high2, 6)), name="outer-broadcast")
    yield Sample((arr((2, 3), dtype, low, high, 7), arr((), dtype, low2, high2, 8)), name="nd-0d")
    yield Sample((noncontig(arr((3, 4), dtype, low, high, 10)), arr((3, 4), dtype, low2, high2, 11)),
                 name="noncontig")
