"""finfo / iinfo: the numerical limits of ember's floating and integer dtypes (torch.finfo, torch.iinfo)."""
import math

import ml_dtypes as _mld
import numpy as np

from . import _dtype as D

_PY_TYPES = {float: D.float64, int: D.int64, bool: D.bool_, complex: D.complex128}


def _dtype_arg(name, args, kwargs):
    """The dtype argument with torch's argument errors (Python number types name their dtype)."""
    if kwargs:
        k = next(iter(kwargs))
        if k != "type" or args:
            raise TypeError(f'{name}() missing 1 required positional arguments: "type"' if k != "type" else
                            f"{name}() got multiple values for argument 'type'")
        args = (kwargs["type"],)
    if len(args) > 1:
        got = ", ".join("torch.dtype" if isinstance(a, D.dtype) else type(a).__name__ for a in args)
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({got}), but expected one "
                        f"of:\n * (torch.dtype type)\n * ()\n")
    if not args:
        return None
    t = args[0]
    if isinstance(t, D.dtype):
        return t
    if type(t) is type and t in _PY_TYPES:
        return _PY_TYPES[t]
    raise TypeError(f"{name}(): argument 'type' (position 1) must be torch.dtype, not {type(t).__name__}")


def _g(v):
    return f"{v:g}"


class finfo:
    """Machine limits of a floating point (or complex: its real part's) dtype; ``finfo()`` is the default dtype's."""
    __slots__ = ("_bits", "_eps", "_max", "_min", "_tiny", "_resolution", "_dtype")
    __hash__ = None  # torch's finfo compares by value and is unhashable

    def __init__(self, *args, **kwargs):
        dt = _dtype_arg("finfo", args, kwargs)
        if dt is None:
            dt = D.get_default_dtype()
        if dt.category < 2:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            "'torch.finfo'")
        real = dt.to_real()
        info = _mld.finfo(real.np) if real is D.bfloat16 else np.finfo(real.np)
        eps = float(info.eps)
        object.__setattr__(self, "_bits", real.itemsize * 8)
        object.__setattr__(self, "_eps", eps)
        object.__setattr__(self, "_max", float(info.max))
        object.__setattr__(self, "_min", float(info.min))
        object.__setattr__(self, "_tiny", float(info.tiny))
        # the decimal resolution: 10 ** -(the number of whole decimal digits eps allows)
        object.__setattr__(self, "_resolution", 10.0 ** -int(-math.log10(eps)))
        object.__setattr__(self, "_dtype", real.name)

    bits = property(lambda self: self._bits)
    eps = property(lambda self: self._eps)
    max = property(lambda self: self._max)
    min = property(lambda self: self._min)
    tiny = property(lambda self: self._tiny)
    smallest_normal = property(lambda self: self._tiny)
    resolution = property(lambda self: self._resolution)
    dtype = property(lambda self: self._dtype)

    def __setattr__(self, name, value):
        raise AttributeError(f"attribute '{name}' of 'torch.finfo' objects is not writable")

    def __eq__(self, other):
        if not isinstance(other, finfo):
            return False
        return all(getattr(self, s) == getattr(other, s) for s in finfo.__slots__)

    def __repr__(self):
        return (f"finfo(resolution={_g(self._resolution)}, min={_g(self._min)}, max={_g(self._max)}, "
                f"eps={_g(self._eps)}, smallest_normal={_g(self._tiny)}, tiny={_g(self._tiny)}, "
                f"dtype={self._dtype})")

    __str__ = __repr__


class iinfo:
    """Machine limits of an integer dtype."""
    __slots__ = ("_bits", "_max", "_min", "_dtype")
    __hash__ = None

    def __init__(self, *args, **kwargs):
        dt = _dtype_arg("iinfo", args, kwargs)
        if dt is None:
            raise TypeError('iinfo() missing 1 required positional arguments: "type"')
        if dt.category == 0:
            raise TypeError(f"{dt} is not supported by torch.iinfo")
        if dt.category != 1:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        info = np.iinfo(dt.np)
        object.__setattr__(self, "_bits", dt.itemsize * 8)
        object.__setattr__(self, "_max", int(info.max))
        object.__setattr__(self, "_min", int(info.min))
        object.__setattr__(self, "_dtype", dt.name)

    bits = property(lambda self: self._bits)
    max = property(lambda self: self._max)
    min = property(lambda self: self._min)
    dtype = property(lambda self: self._dtype)

    def __setattr__(self, name, value):
        raise AttributeError(f"attribute '{name}' of 'torch.iinfo' objects is not writable")

    def __eq__(self, other):
        if not isinstance(other, iinfo):
            return False
        return all(getattr(self, s) == getattr(other, s) for s in iinfo.__slots__)

    def __repr__(self):
        # torch prints the limits through a float format: int32's max shows as 2.14748e+09
        return f"iinfo(min={_g(float(self._min))}, max={_g(float(self._max))}, dtype={self._dtype})"

    __str__ = __repr__


finfo.__module__ = iinfo.__module__ = "ember"
