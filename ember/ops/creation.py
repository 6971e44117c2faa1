"""Tensor factories: tensor, as_tensor, from_numpy, zeros/ones/empty/full(+_like), arange, linspace, eye, ...

Also the copy/cast ops every tensor needs (clone, contiguous, to) since they are how data moves.
"""
import math
import warnings

import numpy as np

from .. import _dtype as D
from .. import _memory_format as MF
from .._device import device as Device, to_device
from .._size import Size
from .._storage import UntypedStorage, root_of
from .._tensor import Tensor
from ..autograd import grad_mode
from ._registry import apply, defop

_make = Tensor._make


def _size_arg(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s.item())
        if not isinstance(s, (int, np.integer)):
            raise TypeError(f"empty(): argument 'size' must be tuple of ints, but found element of type "
                            f"{type(s).__name__} at pos {len(out)}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _finish(arr, dev, requires_grad):
    t = _make(arr, dev)
    if requires_grad:
        if t.dtype.category < 2:  # factories word this differently from requires_grad_()
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t.requires_grad_(True)
    return t


def _place(host_arr, dev):
    be = dev.backend
    if dev.type == "cpu":
        return host_arr
    return be.from_host(host_arr) if not be.is_meta else be.empty(host_arr.shape, host_arr.dtype)


_PY_NUM = frozenset((int, float, bool, complex))
_PLAIN_NP = (np.dtype(np.bool_), np.dtype(np.int64), np.dtype(np.float64), np.dtype(np.complex128))


def _plain_leaves(seq):
    """True when nested lists/tuples hold only Python numbers, so NumPy converts them as torch would."""
    if not seq:
        return True
    if isinstance(seq[0], (list, tuple)):
        return all(isinstance(s, (list, tuple)) and _plain_leaves(s) for s in seq)
    return {type(v) for v in seq} <= _PY_NUM


def _py_sizes(data):
    """torch's shape of nested data: follow first elements (tensors count as scalars, arrays add their shape)."""
    sizes, x = [], data
    while True:
        if isinstance(x, np.ndarray):
            sizes.extend(x.shape)
            return sizes
        if isinstance(x, (str, bytes)) and sizes:
            raise ValueError(f"too many dimensions '{type(x).__name__}'")
        if not isinstance(x, (list, tuple, range)):
            return sizes
        sizes.append(len(x))
        if not len(x):
            return sizes
        x = x[0]


def _py_infer_dtype(x):
    """torch's dtype inference for Python data: promote the dtypes of every scalar."""
    if isinstance(x, Tensor):
        return x.dtype
    if isinstance(x, (np.ndarray, np.generic)):  # before float: np.float64 subclasses float
        return D.from_numpy_dtype(x.dtype)
    if isinstance(x, (bool, int, float, complex)):
        return D.scalar_dtype(x)
    if isinstance(x, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(x).__name__}'")
    if isinstance(x, (list, tuple, range)):
        r = None
        for item in x:
            d = _py_infer_dtype(item)
            r = d if r is None else D.promote_types(r, d)
        return D.get_default_dtype() if r is None else r
    raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")


def _overflow(dt):
    return RuntimeError(f"value cannot be converted to type {dt.name} without overflow")


def _py_converter(dt):
    """Convert one Python/NumPy scalar (or one-element tensor) to ``dt`` with torch's checks."""
    cat = dt.category
    if cat == 1:
        info = np.iinfo(dt.np)
        lo, hi, flo, fhi, span = int(info.min), int(info.max), float(info.min), float(info.max), 1 << info.bits

    def conv(v):
        if isinstance(v, Tensor):
            if v.numel() != 1:
                if cat <= 1:
                    raise TypeError("only integer tensors of a single element can be converted to an index")
                raise ValueError("only one element tensors can be converted to Python scalars")
            v = v.item()
        elif isinstance(v, (np.generic, np.ndarray)):
            v = v.item()
        if not isinstance(v, (bool, int, float, complex)):
            if cat >= 2:
                raise TypeError(f"must be real number, not {type(v).__name__}")
            raise TypeError(f"'{type(v).__name__}' object cannot be interpreted as an integer")
        if cat == 0:
            return bool(v)
        if cat == 3:
            return complex(v)
        if isinstance(v, complex):
            raise TypeError("must be real number, not complex" if cat == 2 else
                            "'complex' object cannot be interpreted as an integer")
        if cat == 2:
            return float(v)
        if isinstance(v, float):
            if v != v or v < flo or v > fhi:
                raise _overflow(dt)
            v = int(v)
            return (v - lo) % span + lo  # float(max) may round up past max: wrap as the C cast does
        v = int(v)
        if dt is D.uint64:
            if v < 0:
                raise OverflowError("can't convert negative int to unsigned")
            if v > hi:
                raise OverflowError("int too big to convert")
            return v
        if not -(1 << 63) <= v < (1 << 63):
            raise ValueError("Overflow when unpacking long long")
        # unsigned types take negative ints down to -max, wrapping like two's complement
        if v < (lo if lo else -hi) or v > hi:
            raise _overflow(dt)
        return v % span if not lo else v
    return conv


def _py_store(x, dim, sizes, out, conv):
    if dim == len(sizes):
        out.append(conv(x))
        return
    if isinstance(x, (np.ndarray, Tensor)) and x.ndim:
        x = x.tolist() if isinstance(x, np.ndarray) else list(x.unbind(0))
    if not isinstance(x, (list, tuple, range)):
        raise TypeError("not a sequence")
    if len(x) != sizes[dim]:
        raise ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} (got {len(x)})")
    for item in x:
        _py_store(item, dim + 1, sizes, out, conv)


def _from_python_slow(data, dtype):
    sizes = _py_sizes(data)
    dt = dtype or _py_infer_dtype(data)
    n = 1
    for s in sizes:
        n *= s
    if n == 0:  # torch stores nothing, so later rows are never checked
        return np.empty(sizes, dt.np), dt
    flat = []
    _py_store(data, 0, sizes, flat, _py_converter(dt))
    if dt.category == 1 or dt is D.bool_:
        return np.array(flat, dtype=object if dt is D.uint64 else None).astype(dt.np).reshape(sizes), dt
    return np.array(flat, dtype=dt.np).reshape(sizes), dt


def _check_cast(arr, dt):
    """torch's errors when Python numbers do not fit ``dt`` (NumPy would wrap silently)."""
    cat, kind = dt.category, arr.dtype.kind
    if cat == 2 and kind == "c":
        raise TypeError("must be real number, not complex")
    if cat != 1 or not arr.size:
        return
    if kind == "c":
        raise TypeError("'complex' object cannot be interpreted as an integer")
    info = np.iinfo(dt.np)
    if dt is D.uint64 and kind in "iu" and arr.min() < 0:
        raise OverflowError("can't convert negative int to unsigned")
    if kind == "f":
        bad = ~np.isfinite(arr) | (arr < float(info.min)) | (arr > float(info.max))
    elif kind in "iu":
        # unsigned types take negative ints down to -max, wrapping like two's complement
        bad = (arr < (info.min if info.min else -int(info.max))) | (arr > info.max)
    else:
        return
    if bad.any():
        raise _overflow(dt)


def _from_python(data, dtype):
    """(host ndarray, dtype) for Python numbers and nested sequences, with torch's inference and errors."""
    arr = None
    if type(data) in _PY_NUM or (isinstance(data, (list, tuple)) and _plain_leaves(data)):
        try:
            arr = np.array(data)
        except (ValueError, OverflowError):  # ragged: the slow path raises torch's error
            arr = None
        if arr is not None:
            if arr.dtype not in _PLAIN_NP:
                arr = None  # ints beyond int64 (uint64 / object arrays)
            elif arr.dtype.kind in "fc" and arr.size:
                m = np.abs(arr)
                if (np.isfinite(m) & (m >= 2.0 ** 63)).any():
                    arr = None  # may hide Python ints beyond int64, which torch rejects
    if arr is None:
        return _from_python_slow(data, dtype)
    if dtype is None:
        dtype = D.get_default_dtype() if arr.dtype.kind == "f" else \
            D.scalar_dtype(1j) if arr.dtype.kind == "c" else D.NP2DT[arr.dtype]
        return arr.astype(dtype.np, copy=False), dtype
    _check_cast(arr, dtype)
    with np.errstate(all="ignore"):
        return arr.astype(dtype.np), dtype


def _to_host_array(data, dtype):
    """(host ndarray, dtype) for arbitrary data, copying."""
    if isinstance(data, Tensor):
        arr = data._device.backend.to_host(data._data) if data._device.type != "meta" else None
        if arr is None:
            raise NotImplementedError("Cannot copy out of meta tensor; no data!")
        dt = dtype or data.dtype
        return np.array(arr, dtype=dt.np, copy=True), dt
    if isinstance(data, np.ndarray):
        dt = dtype or D.from_numpy_dtype(data.dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
            return np.array(data, dtype=dt.np, copy=True), dt
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if isinstance(data, np.generic):
        return _from_python_slow(data, dtype)
    if hasattr(data, "__array__") and not isinstance(data, (list, tuple)):
        arr = np.asarray(data)
        dt = dtype or D.from_numpy_dtype(arr.dtype)
        return np.array(arr, dtype=dt.np, copy=True), dt
    return _from_python(data, dtype)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (lists, numbers, NumPy arrays, tensors)."""
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() "
                      "or sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor("
                      "sourceTensor).", UserWarning, stacklevel=2)
    dtype = D.to_dtype(dtype) if dtype is not None else None
    if isinstance(data, Tensor) and data._device.type == "meta":
        dev = to_device(device) if device is not None else data._device
        return _finish(dev.backend.empty(data._data.shape, (dtype or data.dtype).np), dev, requires_grad)
    arr, dt = _to_host_array(data, dtype)
    dev = to_device(device) if device is not None or not isinstance(data, Tensor) else data._device
    return _finish(_place(np.ascontiguousarray(arr) if arr.ndim else arr, dev), dev, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a Tensor or NumPy array when dtype and device allow."""
    dtype = D.to_dtype(dtype) if dtype is not None else None
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (dtype or device) else data
    if isinstance(data, np.ndarray):
        dev = to_device(device)
        if dev.type == "cpu" and (dtype is None or dtype.np == data.dtype) and all(s >= 0 for s in data.strides):
            return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(ndarray):
    """A CPU tensor sharing memory with ``ndarray`` (writes through either are seen by both)."""
    if not isinstance(ndarray, np.ndarray):
        tp = type(ndarray)
        name = tp.__name__ if tp.__module__ == "builtins" else f"{tp.__module__}.{tp.__name__}"
        raise TypeError(f"expected np.ndarray (got {name})")
    if any(s < 0 for s in ndarray.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors with negative "
                         "strides are not currently supported. (You can probably work around this by making a "
                         "copy of your array  with array.copy().) ")
    if any(s % ndarray.itemsize for s in ndarray.strides):
        raise ValueError("given numpy array strides not a multiple of the element byte size. Copy the numpy "
                         "array to reallocate the memory.")
    if not ndarray.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte order. Conversion "
                         "between byte orders is currently not supported.")
    D.from_numpy_dtype(ndarray.dtype)
    if not ndarray.flags.writeable:
        warnings.warn("The given NumPy array is not writable, and PyTorch does not support non-writable tensors. "
                      "This means writing to this tensor will result in undefined behavior. You may want to copy "
                      "the array to protect its data or make it writable before converting it to a tensor. This "
                      "type of warning will be suppressed for the rest of this program.", UserWarning, stacklevel=2)
    return _make(ndarray, to_device("cpu"), UntypedStorage(root_of(ndarray), to_device("cpu")))


def _dtype_dev(dtype, device, default=None):
    dt = D.to_dtype(dtype) if dtype is not None else (default or D.get_default_dtype())
    return dt, to_device(device)


_NO_FORMAT = object()


def _fill_factory(name, fill):
    def f(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=_NO_FORMAT):
        if memory_format is not _NO_FORMAT and fill is not None:  # only empty() takes a memory format
            raise TypeError(f"{name}() got an unexpected keyword argument 'memory_format'")
        shape = _size_arg(size)
        dt, dev = _dtype_dev(dtype, device, out.dtype if out is not None else None)
        be = dev.backend
        fmt = MF.check(None if memory_format is _NO_FORMAT else memory_format, name)
        if fmt is not None and fmt is not MF.contiguous_format:
            arr = MF.alloc(be, shape, dt.np, MF.format_strides(shape, fmt))
        elif be.is_meta:
            arr = be.empty(shape, dt.np)
        elif fill is None:
            arr = be.empty(shape, dt.np)
        elif fill == 0:
            arr = be.xp.zeros(shape, dt.np)
        else:
            arr = be.xp.ones(shape, dt.np)
        t = _finish(arr, dev, requires_grad)
        if out is not None:
            from ._registry import write_out
            return write_out(out, t)
        return t
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"A new tensor of the given size, {'uninitialised' if fill is None else 'filled with ' + str(fill)}."
    return f


zeros = _fill_factory("zeros", 0)
ones = _fill_factory("ones", 1)
empty = _fill_factory("empty", None)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    """A tensor of ``size`` filled with ``fill_value``; dtype inferred from the value like torch."""
    shape = _size_arg((size,) if isinstance(size, int) else (tuple(size),))
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = D.scalar_dtype(fill_value) if isinstance(fill_value, (bool, int, float, complex)) else \
            D.get_default_dtype()
    dt, dev = _dtype_dev(dtype, device)
    be = dev.backend
    arr = be.empty(shape, dt.np) if be.is_meta else be.xp.full(shape, fill_value, dt.np)
    return _finish(arr, dev, requires_grad)


def _like_array(name, input, dtype, device, memory_format, fill=None):
    """(array, device) for a new tensor shaped like ``input`` in ``memory_format`` (preserve by default)."""
    fmt = MF.check(memory_format, name)
    dt = D.to_dtype(dtype) if dtype is not None else input.dtype
    dev = to_device(device) if device is not None else input._device
    be = dev.backend
    shape = input._data.shape
    strides = MF.c_strides(shape) if fmt is None and MF.plainly_c(input._data) else \
        MF.target_strides(shape, input.stride(), fmt)
    if be.is_meta:
        return MF.alloc(be, shape, dt.np, strides), dev
    if strides == MF.c_strides(shape):
        arr = (be.xp.empty if fill is None else be.xp.zeros if fill == 0 else be.xp.ones)(shape, dt.np)
    else:
        arr = MF.alloc(be, shape, dt.np, strides)
        if fill is not None and arr.size:
            arr[...] = fill
    return arr, dev


def _like(name, fill):
    def f(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None,
          pin_memory=False):
        arr, dev = _like_array(name, input, dtype, device, memory_format, fill)
        return _finish(arr, dev, requires_grad)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"A tensor shaped like ``input`` ({name})."
    return f


zeros_like = _like("zeros_like", 0)
ones_like = _like("ones_like", 1)
empty_like = _like("empty_like", None)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    arr, dev = _like_array("full_like", input, dtype, device, memory_format)
    t = _make(arr, dev)
    if t._device.type != "meta":
        t._data[...] = fill_value
    if requires_grad:
        t.requires_grad_(True)
    return t


def _num(x):
    return x.item() if isinstance(x, Tensor) else x


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Values start, start+step, ... < end; int64 unless any argument is a float."""
    if end is None:
        start, end = 0, start
    start, end, step = _num(start), _num(end), _num(step)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        dtype = D.get_default_dtype() if any(isinstance(v, float) for v in (start, end, step)) else D.int64
    dt, dev = _dtype_dev(dtype, device)
    if (step > 0 and start > end) or (step < 0 and start < end):
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    n = math.ceil((end - start) / step)
    if dt.category == 1 or dt is D.bool_:
        if all(isinstance(v, int) for v in (start, end, step)):
            arr = np.arange(start, end, step, dtype=np.int64)[:n].astype(dt.np)
        else:
            arr = (start + np.arange(n, dtype=np.float64) * step).astype(dt.np)
    else:
        arr = (start + np.arange(n, dtype=np.float64) * step).astype(dt.np)
    t = _finish(_place(arr, dev), dev, requires_grad)
    if out is not None:
        from ._registry import write_out
        return write_out(out, t)
    return t


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Deprecated torch.range: includes ``end``."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                  "[start, end).", UserWarning, stacklevel=2)
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    dt, dev = _dtype_dev(dtype, device)
    arr = (start + np.arange(n, dtype=np.float64) * step).astype(dt.np)
    return _finish(_place(arr, dev), dev, requires_grad)


def _two_prod(a, b):
    """Dekker's error-free product: p + e == a * b exactly (float64 arrays)."""
    p = a * b
    split = 134217729.0  # 2**27 + 1
    ah = a * split
    ah = ah - (ah - a)
    al = a - ah
    bh = b * split
    bh = bh - (bh - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


def _fma64(a, b, c):
    """a * b + c rounded once (up to rare ties), vectorised: what C's fma gives torch's kernels."""
    p, e = _two_prod(a, b)
    s = p + c
    bb = s - p
    t = (p - (s - bb)) + (c - bb)
    return s + (t + e)


def _linspace_host(start, end, steps, npdt=np.dtype(np.float64)):
    """torch's CPU linspace: step = (end - start) / (steps - 1) in the dtype; the first half is
    fma(i, step, start) and the second half fma(-step, steps - 1 - i, end), for symmetry."""
    if steps == 1:
        return np.array([start], dtype=np.complex128 if isinstance(start, complex) else np.float64)
    if isinstance(start, complex) or isinstance(end, complex):
        step = (end - start) / (steps - 1)
        i = np.arange(steps, dtype=np.float64)
        return np.where(i < steps // 2, start + step * i, end - step * (steps - 1 - i))
    t = npdt.type if npdt.kind == "f" else np.float64
    st, en = float(t(start)), float(t(end))
    step = float(t(t(en - st) / t(steps - 1)))
    i = np.arange(steps, dtype=np.float64)
    half = steps // 2
    first, second = i[:half], (steps - 1 - i[half:])
    if npdt == np.float64 or npdt.kind != "f":
        lo = _fma64(first, np.float64(step), np.float64(st))
        hi = _fma64(-np.float64(step), second, np.float64(en))
    else:  # float32/16: the float64 product is exact, so one float64 rounding then the dtype's
        lo = first * step + st
        hi = -step * second + en
    return np.concatenate([lo, hi])


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from start to end inclusive."""
    start, end = _num(start), _num(end)
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    dt, dev = _dtype_dev(dtype, device)
    if steps == 0:
        arr = np.empty((0,), dt.np)
    elif dt.category == 1:
        arr = np.trunc(_linspace_host(float(start), float(end), steps)).astype(dt.np)
    else:
        arr = _linspace_host(start, end, steps, dt.np if dt.category == 2 and dt.np is not None else
                             np.dtype(np.float64)).astype(dt.np)
    return _finish(_place(arr, dev), dev, requires_grad)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """``base ** linspace(start, end, steps)``."""
    dt, dev = _dtype_dev(dtype, device)
    arr = np.power(base, _linspace_host(float(_num(start)), float(_num(end)), steps)).astype(dt.np) if steps \
        else np.empty((0,), dt.np)
    return _finish(_place(arr, dev), dev, requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A 2-D tensor with ones on the diagonal."""
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    m = n if m is None else m
    dt, dev = _dtype_dev(dtype, device)
    be = dev.backend
    arr = be.empty((n, m), dt.np) if be.is_meta else be.xp.eye(n, m, dtype=dt.np)
    return _finish(arr, dev, requires_grad)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """Indices (2 × N) of the lower triangle of a row × col matrix."""
    r, c = np.tril_indices(row, offset, col)
    dt, dev = _dtype_dev(dtype or D.int64, device)
    return _finish(_place(np.stack([r, c]).astype(dt.np), dev), dev, False)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """Indices (2 × N) of the upper triangle of a row × col matrix."""
    r, c = np.triu_indices(row, offset, col)
    dt, dev = _dtype_dev(dtype or D.int64, device)
    return _finish(_place(np.stack([r, c]).astype(dt.np), dev), dev, False)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return full((), s, dtype=dtype or D.get_default_dtype(), device=device, requires_grad=requires_grad)


# ---------------------------------------------------------------- copies and casts
def _copy(xp, x, strides=None):
    """A copy of ``x`` with the given element strides (None: torch's preserve_format; "C": C order)."""
    if strides is None:
        if MF.plainly_c(x):
            return x.copy()
        strides = MF.preserve_strides(x.shape, MF.array_strides(x))
    if strides == "C" or strides == MF.c_strides(x.shape):
        return x.copy(order="C")
    out = MF.alloc_xp(xp, x.shape, x.dtype, strides)
    out[...] = x
    return out


_CLONE = defop("clone", "raw", _copy, lambda g, out, x, strides=None: g, save_in=False, save_out=False)
_CONTIG = defop("contiguous", "raw", _copy, lambda g, out, x, strides=None: g,
                save_in=False, save_out=False, node="CloneBackward0")
def _astype(xp, x, npdt, strides=None):
    # float -> unsigned: CPUs wrap negatives (-1.0 -> 255) as torch does; CUDA casts saturate at 0, so go
    # through int64 there to give the same bytes on every device
    if xp is not np and x.dtype.kind == "f" and np.dtype(npdt).kind == "u":
        x = x.astype(np.int64)
    if strides is None:
        if MF.plainly_c(x):
            return x.astype(npdt)
        strides = MF.preserve_strides(x.shape, MF.array_strides(x))
    r = x.astype(npdt, order="C" if strides == MF.c_strides(x.shape) else "K")
    return r if MF.array_strides(r) == strides else _copy(xp, r, strides)


_TO_DTYPE = defop("_to_copy", "raw", _astype,
                  lambda g, out, x, npdt, strides=None: g, save_in=False, save_out=False, node="ToCopyBackward0")


def _meta_layout(t, strides):
    """Meta results come out C-ordered from the op runner: give them the strides a real copy has."""
    if t._device.type == "meta" and t.stride() != strides:
        t._data = MF.alloc(t._device.backend, t._data.shape, t._data.dtype, strides)
    return t


_NO_KW = {}


def clone(input, *, memory_format=None):
    """A copy with its own memory (in ``memory_format``; preserve by default); gradient flows back."""
    if memory_format is None or memory_format is MF.preserve_format:
        out = apply(_CLONE, (input,), _NO_KW)  # the forward keeps the layout (torch's preserve_format)
        if out._device.type == "meta":
            _meta_layout(out, MF.preserve_strides(input._data.shape, input.stride()))
        return out
    strides = MF.format_strides(input._data.shape, MF.check(memory_format, "clone"))
    return _meta_layout(apply(_CLONE, (input,), {"strides": strides}), strides)


_C_ORDER = {"strides": "C"}


def contiguous(self, *args, memory_format=MF.contiguous_format):
    """Self if already contiguous in ``memory_format`` (C order by default), else such a copy."""
    if memory_format is MF.contiguous_format and not args:
        return self if self.is_contiguous() else apply(_CONTIG, (self,), _C_ORDER)
    if args:
        raise TypeError(f"contiguous() takes 0 positional arguments but {len(args)} "
                        f"{'was' if len(args) == 1 else 'were'} given")
    fmt = MF.check(memory_format, "contiguous", False)
    shape = self._data.shape
    if fmt is MF.contiguous_format:
        if self.is_contiguous():
            return self
    elif MF.is_contiguous_as(shape, self.stride(), fmt):
        return self
    if fmt is MF.preserve_format:
        raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
    strides = MF.format_strides(shape, fmt)
    return _meta_layout(apply(_CONTIG, (self,), {"strides": strides}), strides)


_MOVE = defop("_move", "raw", lambda xp, x, arr, dst: arr, lambda g, out, x, arr, dst: g.to(x.device),
              save_out=False, node="ToCopyBackward0", check=False)


def _apply_move(op, t, arr, dev):
    out = _make(arr, dev)
    if t._rg and grad_mode.state.enabled:
        from ._registry import _attach
        _attach(op, (t,), {"arr": None, "dst": dev}, out, arr)
    return out


def _move_fwd_apply(t, dev, strides=None):
    src_be, dst_be = t._device.backend, dev.backend
    if strides is None:
        strides = MF.preserve_strides(t._data.shape, t.stride())
    if dst_be.is_meta:
        arr = MF.alloc(dst_be, t._data.shape, t._data.dtype, strides)
    elif src_be.is_meta:
        # torch's Module.to() adds its to_empty() hint to this exact message
        raise NotImplementedError("Cannot copy out of meta tensor; no data!")
    else:
        arr = dst_be.from_host(src_be.to_host(t._data))
        if arr is t._data:
            arr = arr.copy()
        arr = MF.relayout(dst_be, arr, strides)  # host transfers may reorder memory
    return _apply_move(_MOVE, t, arr, dev)


def _to_type_name(a):
    if isinstance(a, Tensor):
        return "Tensor"
    if isinstance(a, (D.dtype, Device, MF.memory_format)):
        return "torch." + type(a).__name__
    return type(a).__name__


def _to_signature_error(args, kwargs):
    # torch lists memory_format first among the keywords
    kws = sorted(kwargs.items(), key=lambda kv: kv[0] != "memory_format")
    got = [_to_type_name(a) for a in args] + [f"{k}={_to_type_name(v)}" for k, v in kws]
    got = ", ".join(got) if args else "".join(g + ", " for g in got)
    fmt = "*, torch.memory_format memory_format = None)"
    return TypeError(f"to() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                     f" * (torch.device device = None, torch.dtype dtype = None, bool non_blocking = False, "
                     f"bool copy = False, {fmt}\n"
                     f" * (torch.dtype dtype, bool non_blocking = False, bool copy = False, {fmt}\n"
                     f" * (Tensor tensor, bool non_blocking = False, bool copy = False, {fmt}\n")


def _parse_to(args, kwargs):
    """(dtype, device, copy, memory_format) from ``Tensor.to``'s overloads (also ``Module.to``'s)."""
    dtype = device = fmt = None
    copy = False
    if kwargs:
        fmt = kwargs.get("memory_format")
        if fmt is not None and not isinstance(fmt, MF.memory_format):
            raise _to_signature_error(args, kwargs)
        rest = dict(kwargs)
        dtype = rest.pop("dtype", None)
        device = rest.pop("device", None)
        copy = rest.pop("copy", False)
        rest.pop("non_blocking", None)
        rest.pop("memory_format", None)
        if rest:
            raise TypeError(f"to() received an invalid combination of arguments: unexpected {list(rest)}")
    flags = 0  # positional (non_blocking, copy) after the dtype/device/tensor
    for a in args:
        if isinstance(a, Tensor):
            dtype, device = a.dtype, a._device
        elif isinstance(a, D.dtype) or a in (float, int, bool, complex):
            dtype = a
        elif isinstance(a, bool):
            flags += 1
            if flags == 2:
                copy = a
        elif isinstance(a, (str, Device, int)):
            device = a
        elif isinstance(a, MF.memory_format):  # keyword-only in torch
            raise _to_signature_error(args, kwargs)
    return (D.to_dtype(dtype) if dtype is not None else None), (to_device(device) if device is not None else None), \
        copy, fmt


def to(self, *args, **kwargs):
    """Return self converted to another dtype, device and/or memory format (self itself when nothing changes)."""
    dtype, device, copy, fmt = _parse_to(args, kwargs)
    return _to(self, dtype, device, copy, fmt)


def _to(self, dtype, device, copy=False, fmt=None):
    t = self
    if device is not None and device.type == "cuda" and device.index is None:
        device = Device("cuda", 0)
    if dtype is t.dtype:
        dtype = None
    if device is not None and device == t._device:
        device = None
    shape = t._data.shape
    if fmt is MF.preserve_format:
        fmt = None
    if dtype is None and device is None and not copy:
        # a format change aliases only when the strides already suggest that format, as in torch
        if fmt is None or MF.suggest(shape, t.stride()) is fmt:
            return t
    # None: the forwards keep the layout themselves (preserve_format), cheaply for C-ordered arrays
    strides = None if fmt is None else MF.format_strides(shape, fmt)
    meta = t._device.type == "meta"
    if meta and strides is None:
        strides = MF.preserve_strides(shape, t.stride())
    if dtype is not None:
        if meta:
            t = _make(MF.alloc(t._device.backend, shape, dtype.np, strides), t._device)
        else:
            kw = {"npdt": dtype.np} if strides is None else {"npdt": dtype.np, "strides": strides}
            t = apply(_TO_DTYPE, (t,), kw)
    if device is not None:
        t = _move_fwd_apply(t, device, strides)
    if t is self:  # copy=True or a new memory format: a same-dtype copy
        t = apply(_TO_DTYPE, (t,), {"npdt": t.dtype.np, "strides": strides})
        if meta:
            _meta_layout(t, strides)
    return t


def _cast(dt, name):
    def f(self, *, memory_format=MF.preserve_format):
        return _to(self, dt, None, False, MF.check(memory_format, name, False))
    f.__name__ = f.__qualname__ = name
    return f


def type_(self, dtype=None, non_blocking=False, **kw):
    """``t.type()`` names the tensor type ('torch.FloatTensor'); ``t.type(dtype)`` casts."""
    from ._registry import _type_name
    if dtype is None:
        pre = "torch." if self._device.type == "cpu" else f"torch.{self._device.type}."
        return pre + _type_name(self.dtype) + "Tensor"
    if isinstance(dtype, str):
        name = dtype.split(".")[-1].replace("Tensor", "")
        rev = {"Float": D.float32, "Double": D.float64, "Half": D.float16, "BFloat16": D.bfloat16, "Long": D.int64,
               "Int": D.int32, "Short": D.int16, "Char": D.int8, "Byte": D.uint8, "Bool": D.bool_,
               "ComplexFloat": D.complex64, "ComplexDouble": D.complex128}
        if name not in rev:
            raise ValueError(f"invalid type: '{dtype}'")
        t = to(self, dtype=rev[name])
        if ".cuda." in dtype:
            t = to(t, device="cuda")
        return t
    return to(self, dtype=D.to_dtype(dtype))


def type_as(self, other):
    return to(self, dtype=other.dtype)


def cpu(self, memory_format=MF.preserve_format):
    return _to(self, None, to_device("cpu"), False, MF.check(memory_format, "cpu", False))


def cuda(self, device=None, non_blocking=False, memory_format=MF.preserve_format):
    fmt = MF.check(memory_format, "cuda", False)
    if device is None:
        device = "cuda"  # the current CUDA device
    elif isinstance(device, int) and not isinstance(device, bool):
        device = Device(device)  # a bare index: torch's error when there is no accelerator
    return _to(self, None, to_device(device), False, fmt)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    return tensor(data, dtype=dtype or self.dtype, device=device or self._device, requires_grad=requires_grad)


def _new_factory(fn):
    def f(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
        return fn(*size, dtype=dtype or self.dtype, device=device or self._device, requires_grad=requires_grad)
    f.__name__ = f.__qualname__ = "new_" + fn.__name__
    return f


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False):
    return full(size, fill_value, dtype=dtype or self.dtype, device=device or self._device,
                requires_grad=requires_grad)


_T = Tensor
_T.clone = lambda self, *, memory_format=None: clone(self, memory_format=memory_format)
_T.contiguous = contiguous
_T.to = to
_T.type = type_
_T.type_as = type_as
_T.cpu = cpu
_T.cuda = cuda
_T.new_tensor = new_tensor
_T.new_zeros = _new_factory(zeros)
_T.new_ones = _new_factory(ones)
_T.new_empty = _new_factory(empty)
_T.new_full = new_full
for _n, _dt in [("float", D.float32), ("double", D.float64), ("half", D.float16), ("bfloat16", D.bfloat16),
                ("long", D.int64), ("int", D.int32), ("short", D.int16), ("char", D.int8), ("byte", D.uint8),
                ("bool", D.bool_), ("cfloat", D.complex64), ("cdouble", D.complex128)]:
    setattr(_T, _n, _cast(_dt, _n))

FUNCS = dict(tensor=tensor, as_tensor=as_tensor, asarray=asarray, from_numpy=from_numpy, zeros=zeros, ones=ones,
             empty=empty, full=full, zeros_like=zeros_like, ones_like=ones_like, empty_like=empty_like,
             full_like=full_like, arange=arange, range=range_, linspace=linspace, logspace=logspace, eye=eye,
             tril_indices=tril_indices, triu_indices=triu_indices, scalar_tensor=scalar_tensor, clone=clone)
