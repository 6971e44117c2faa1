"""OpInfo: one row of the op table. Samples are NumPy arrays so ember and torch get the same inputs.

A family's rows live in ``tests/ops/db/<family>.py`` as ``OPS = [OpInfo(...), ...]``;
``tests/ops/op_db.py`` gathers them and ``tests/ops/test_ops.py`` runs the generic tests:
values vs ``ref`` (NumPy), conformance vs torch (values, dtype, shape, exception type), float64
gradients (finite differences and torch's ``.grad``), meta shapes, non-contiguous inputs, and the
method / in-place variants.

In a Sample, NumPy arrays become tensors (ember and torch each get their own copy with the same
strides); ``DT("int64")`` becomes ``ember.int64`` / ``torch.int64``; every other value passes as-is.
"""
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

FLOATS = ("float32", "float64")
INTS = ("int64", "int32", "uint8")
ALL_REAL = FLOATS + INTS + ("bool",)
SIGNED = FLOATS + ("int64", "int32", "int16", "int8")
NUMERIC = FLOATS + INTS + ("int16", "int8")
ALL = NUMERIC + ("bool",)
COMPLEX = ("complex64", "complex128")

GENERIC_TESTS = ("ref", "torch", "grad", "torch_grad", "meta", "noncontig", "method", "inplace")


@dataclass(frozen=True)
class DT:
    """A dtype in a Sample, resolved to ``module.<name>`` (ember or torch) when the op is called."""
    name: str


@dataclass
class Sample:
    """Positional ``args`` (NumPy arrays become tensors; other values pass as-is) and ``kwargs``.

    ``error``: the exception type the call must raise (checked without torch too; with torch the
    type must also be torch's). ``grad``: False to skip gradient checks for this sample only
    (non-differentiable points, e.g. ties).
    """
    args: tuple
    kwargs: dict = field(default_factory=dict)
    name: str = ""
    error: Optional[type] = None
    grad: bool = True


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
    variant: str = ""                           # tells apart rows of the same name in test ids
    ref_dtype: bool = False                     # also require the ref's dtype (when NumPy's matches torch's)
    grad_rtol: float = 1e-5
    values: bool = True                         # False: compare only shape/dtype (empty, random results)
    method_name: Optional[str] = None           # Tensor method name when it differs from ``name``
    view: bool = False                          # results are views of input 0 (checked against torch)
    strides: bool = False                       # also compare strides with torch's
    errors: dict = field(default_factory=dict)  # {dtype name: exception type}: that dtype must raise

    @property
    def id(self):
        return self.name + ("." + self.variant if self.variant else "")

    def call(self, module, *args, **kwargs):
        if self.fn is not None:
            return self.fn(module, *args, **kwargs)
        f = module
        for part in (self.torch_name if module.__name__ == "torch" and self.torch_name else self.name).split("."):
            f = getattr(f, part)
        return f(*args, **kwargs)


def rng(seed=0):
    return np.random.default_rng(seed)


_INT_NAMES = ("int64", "int32", "int16", "int8", "uint8")


def arr(shape, dtype, low=-2.0, high=2.0, seed=0):
    """A NumPy array of ``dtype`` (name) with values in [low, high)."""
    r = rng(seed)
    if dtype == "bool":
        return np.asarray(r.random(shape) > 0.5)
    if dtype in _INT_NAMES:
        lo = max(int(low), 0) if dtype == "uint8" else int(low)
        return r.integers(lo, max(int(high), lo + 1) + 1, size=shape).astype(dtype)
    if dtype.startswith("complex"):
        return np.asarray((r.uniform(low, high, shape) + 1j * r.uniform(low, high, shape)).astype(dtype))
    return np.asarray(r.uniform(low, high, shape).astype(dtype))


def noncontig(a):
    """A non-contiguous array with the same values as ``a`` (transposed storage, or a stepped 1-d view)."""
    if a.ndim < 2:
        if a.ndim == 1:
            big = np.zeros((a.shape[0] * 2,), a.dtype)
            big[::2] = a
            return big[::2]
        return a
    t = np.ascontiguousarray(np.swapaxes(a, -1, -2))
    return np.swapaxes(t, -1, -2)


def copy_layout(a):
    """A copy of ``a`` with the same strides (so a non-contiguous sample stays non-contiguous)."""
    if a.flags.c_contiguous or a.size == 0:
        return a.copy()
    if a.flags.f_contiguous:
        return np.asfortranarray(a).copy(order="F")
    base = a
    while base.base is not None:
        base = base.base
    if not isinstance(base, np.ndarray) or not (base.flags.c_contiguous or base.flags.f_contiguous):
        return np.ascontiguousarray(a)
    nb = base.copy(order="A").reshape(-1, order="A")
    off = a.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    return np.lib.stride_tricks.as_strided(nb[off // a.itemsize:], a.shape, a.strides)


def special_values(dtype):
    """nan, +-inf, +-0 and ordinary values (floats only; empty tuple otherwise)."""
    if dtype not in ("float32", "float64", "float16"):
        return ()
    return (Sample((np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.25], dtype),), name="special",
                   grad=False),)


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


def scalar_samples(dtype, scalars=(2, 2.5, True), low=-2.0, high=2.0):
    """A tensor with Python scalars as the other operand (torch's 'wrapped number' promotion)."""
    for i, s in enumerate(scalars):
        yield Sample((arr((3, 4), dtype, low, high, 20 + i), s), name=f"scalar-{type(s).__name__}{i}")
    yield Sample((arr((), dtype, low, high, 30), scalars[0]), name="0d-scalar")


def reduce_samples(dtype, low=-2.0, high=2.0, dims=True, empty_dim=True):
    """All dims, int / negative / tuple dims, keepdim, a 0-d input, an empty input reduced along a dim."""
    yield Sample((arr((3, 4), dtype, low, high, 1),), name="all")
    yield Sample((arr((), dtype, low, high, 2),), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, low, high, 3)),), name="noncontig-all")
    if not dims:
        return
    yield Sample((arr((3, 4), dtype, low, high, 4), 1), name="dim1")
    yield Sample((arr((2, 3, 4), dtype, low, high, 5), -1), name="dim-neg")
    yield Sample((arr((2, 3, 4), dtype, low, high, 6), 0, True), name="keepdim")
    yield Sample((arr((2, 3, 4), dtype, low, high, 7), (0, 2)), name="tuple")
    yield Sample((arr((2, 3, 4), dtype, low, high, 8), (-1, 0), True), name="tuple-keepdim")
    yield Sample((arr((), dtype, low, high, 9), 0), name="0d-dim0")
    yield Sample((noncontig(arr((3, 4), dtype, low, high, 10)), 0), name="noncontig-dim0")
    yield Sample((arr((3, 4), dtype, low, high, 11), 2), name="bad-dim", error=IndexError)
    if empty_dim:
        yield Sample((arr((0, 3), dtype, low, high), 1), name="empty-dim1")
