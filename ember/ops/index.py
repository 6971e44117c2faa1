"""Indexing and mutation: ``t[key]``, ``t[key] = v``, gather/scatter, index_*, masked_*, take/put,
index_put, fill_/zero_/copy_ and nonzero.

Basic indexing (ints, slices, None, Ellipsis) is one view op on the input; advanced indexing (integer
and bool tensors) copies through ``index``, whose gradient accumulates into zeros. Each scatter-like
forward writes into a copy of its input; the in-place forms write straight into ``self`` when no
autograd history is needed and otherwise go through ``apply_inplace`` (so writes through views rewrite
the base's history like torch's CopySlices).
"""
import functools
import numbers
import operator
import warnings

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, wrap_dim
from ..autograd import grad_mode
from ._registry import OPS, _type_name, apply, apply_inplace, check_inplace, check_partial_overlap, defop, write_out
from .view import embed

_gm = grad_mode.state
_FULL = slice(None)
_make = Tensor._make


def _F(name):
    from .. import ops
    return getattr(ops, name)


# ---------------------------------------------------------------- shared helpers
def axis_alias(f):
    """Accept NumPy's ``axis=`` for ``dim=`` (torch's argument parser does)."""
    @functools.wraps(f)
    def g(*args, **kw):
        if "axis" in kw:
            if "dim" in kw:
                raise TypeError(f"{f.__name__}() got multiple values for argument 'dim'")
            kw["dim"] = kw.pop("axis")
        return f(*args, **kw)
    return g


def _host(t):
    """An index tensor's values on the host (bounds checks need them)."""
    return t._device.backend.to_host(t._data)


def _first_oob(h, lo, hi):
    """The first value of ``h`` outside [lo, hi), or None."""
    if h.size == 0 or (h.min() >= lo and h.max() < hi):
        return None
    flat = h.reshape(-1)
    return int(flat[np.argmax((flat < lo) | (flat >= hi))])


# dtypes CuPy's scatter_add/max/min kernels accept (int8/16, uint8/16, bool, complex are refused)
# (and CuPy 14's scatter_max/min round float64 through float32)
_GPU_AT_TYPES = {"add": "ilqILQefd", "maximum": "ilqILQf", "minimum": "ilqILQf"}


def _at(xp, ufunc, dst, key, src):
    """``dst[key] (ufunc)= src`` where repeated indices all take effect (unbuffered)."""
    if xp is np:
        getattr(np, ufunc).at(dst, key, src)
        return
    import cupyx
    f = {"add": cupyx.scatter_add, "maximum": cupyx.scatter_max, "minimum": cupyx.scatter_min}.get(ufunc)
    if f is not None and dst.dtype.char in _GPU_AT_TYPES[ufunc]:
        f(dst, key, src)
        return
    # no multiply-at on the GPU, and CuPy's scatter kernels take only some dtypes: round-trip through the host
    h = xp.asnumpy(dst)
    conv = (lambda k: xp.asnumpy(k) if isinstance(k, xp.ndarray) else k)
    hk = tuple(conv(k) for k in key) if isinstance(key, tuple) else conv(key)
    getattr(np, ufunc).at(h, hk, conv(src))
    dst[...] = xp.asarray(h)


def _no_track(*ts):
    """True when an in-place write needs no autograd bookkeeping (so it may write straight into self)."""
    if not _gm.enabled:
        return True
    for t in ts:
        if isinstance(t, Tensor) and t._rg:
            return False
    return True


def _writable(t):
    """``t``'s array, writable even when it is a broadcast (expanded) view of real memory."""
    a = t._data
    if getattr(a.flags, "writeable", True):
        return a
    from .._storage import root_of
    root = root_of(a)
    if not root.flags.writeable or not root.flags.c_contiguous:
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                           "single memory location. Please clone() the tensor before performing the operation.")
    off = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    flat = root.reshape(-1).view(np.uint8)[off:].view(a.dtype) if a.size else root.reshape(-1)[:0]
    return np.lib.stride_tricks.as_strided(flat, a.shape, a.strides)


def _check_overlap(t):
    a = t._data
    if t._device.type == "meta" or a.size == 0:
        return
    for n, s in zip(a.shape, a.strides):
        if s == 0 and n > 1:
            raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                               "single memory location. Please clone() the tensor before performing the operation.")


def _fast_write(self, fn, *arrays):
    """Run ``fn(xp, dst, *arrays)`` writing into ``self``'s memory; bumps the version."""
    if self._device.type != "meta":
        fn(self._device.backend.xp, _writable(self), *arrays)
    self._storage._version += 1
    return self


def _arr(t, dev):
    """A tensor's array on device ``dev`` (0-d CPU tensors may feed any device)."""
    if t._device is dev:
        return t._data
    return dev.backend.from_host(t._device.backend.to_host(t._data))


_CNAME = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
          "int64": "int64_t", "int32": "int", "int16": "int16_t", "int8": "int8_t", "uint8": "uint8_t",
          "uint16": "uint16_t", "uint32": "uint32_t", "uint64": "uint64_t", "bool": "bool",
          "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}
_MASK_CNAME = {"int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
               "uint8": "unsigned char", "float32": "float", "float64": "double", "float16": "c10::Half",
               "bfloat16": "c10::BFloat16", "complex64": "c10::complex<float>",
               "complex128": "c10::complex<double>"}
_FMAX = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38, "float32": 3.4028234663852886e38,
         "complex64": 3.4028234663852886e38}


def check_scalar(value, dt):
    """torch's range check when a Python number is written into a tensor of dtype ``dt``."""
    if isinstance(value, Tensor):
        value = value.item()
    elif isinstance(value, (np.generic,)):
        value = value.item()
    if dt.category == 0 or isinstance(value, bool):
        return value
    err = RuntimeError(f"value cannot be converted to type {_CNAME.get(dt.name, dt.name)} without overflow")
    if isinstance(value, complex):
        if dt.category < 3:
            if value.imag != 0:
                raise err
            value = value.real
        else:
            m = _FMAX.get(dt.name)
            if m is not None and any(abs(p) > m and p == p and abs(p) != float("inf")
                                     for p in (value.real, value.imag)):
                raise err
            return value
    if dt.category == 1:
        info = np.iinfo(dt.np)
        lo = -int(info.max) if not dt.is_signed else int(info.min)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")) or not lo - 1 < value < int(info.max) + 1:
                raise err
        elif not lo <= value <= int(info.max):
            raise err
        return value
    m = _FMAX.get(dt.name)
    if m is not None:
        try:
            f = float(value)
        except OverflowError:
            raise err from None
        if f == f and abs(f) != float("inf") and abs(f) > m:
            raise err
    return value


def _np_scalar(value, dt, setitem=False):
    """A checked Python number as a NumPy scalar of ``dt`` (wrapping negatives into unsigned like torch)."""
    if type(value) is int and not -2 ** 63 <= value < 2 ** 63:
        # Python ints beyond int64 fail while being unpacked, before any dtype is considered
        if setitem:
            raise ValueError("Overflow when unpacking long long")
        if value >= 2 ** 64:
            raise OverflowError("int too big to convert")
        if value < 0:
            raise OverflowError("can't convert negative int to unsigned")
    value = check_scalar(value, dt)
    if isinstance(value, complex) and dt.category < 3:
        value = value.real
    if isinstance(value, int) and not isinstance(value, bool) and dt.category == 1:
        return np.array(value, np.int64 if value < 2 ** 63 else np.uint64).astype(dt.np)[()]
    return np.array(value).astype(dt.np)[()]


def _is_number(v):
    return isinstance(v, (bool, int, float, complex, np.generic)) and not isinstance(v, Tensor)


def _shape_str(s):
    return str(list(s))


_I64 = (D.int64,)
_I32_64 = (D.int64, D.int32)


def _bshape(*shapes):
    return tuple(np.broadcast_shapes(*shapes))


# ---------------------------------------------------------------- basic indexing (views)
def _getitem_fwd(xp, x, key):
    r = x[key]
    if None in key:
        # torch gives an inserted dim the stride size*stride of the dim after it (1 at the end); NumPy gives 0
        st = list(r.strides)
        d = o = 0
        for k in key:
            if k is None:
                st[o] = x.shape[d] * x.strides[d] if d < x.ndim else x.itemsize
                o += 1
            elif k is Ellipsis:
                break
            elif isinstance(k, slice):
                d += 1
                o += 1
            else:
                d += 1
        if tuple(st) != r.strides:
            r = xp.lib.stride_tricks.as_strided(r, r.shape, st)
    return r


def _sel_op(name, node):
    op = defop(name, "raw", _getitem_fwd, None, view=True, save_out=False, node=node)
    op.vjp = lambda g, out, x, key: embed(g, x.shape, [(op, {"key": key})])
    return op


_SLICE = _sel_op("_getitem_slice", "SliceBackward0")
_SELECT = _sel_op("_getitem_select", "SelectBackward0")
_UNSQ = _sel_op("_getitem_unsqueeze", "UnsqueezeBackward0")
_ALIAS = OPS["alias"]

_SEQ_WARN = ("Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in "
             "pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as "
             "tensor index, x[torch.tensor(seq)], which will result either in an error or a different result")
_BAD_IDX = "tensors used as indices must be long, int, byte or bool tensors"
_SEQ_TYPES = (list, tuple, np.ndarray, range, str, Tensor, slice)

# item kinds
_K_INT, _K_SLICE, _K_TENSOR, _K_MASK, _K_BOOL, _K_ELL, _K_NONE = range(7)


def _key_items(key):
    if type(key) is tuple:
        return key
    if type(key) is list and len(key) < 32:
        # NumPy's old heuristic, kept by torch: a short list holding slices/sequences/None is a tuple
        for o in key:
            if o is None or o is Ellipsis or isinstance(o, _SEQ_TYPES):
                warnings.warn(_SEQ_WARN, UserWarning, stacklevel=4)
                return tuple(key)
    return (key,)


def _classify(o, dev):
    if o is None:
        return (_K_NONE, None)
    if o is Ellipsis:
        return (_K_ELL, None)
    t = type(o)
    if t is int:
        return (_K_INT, o)
    if t is slice:
        return (_K_SLICE, o)
    if t is bool or t is np.bool_:
        return (_K_BOOL, bool(o))
    if isinstance(o, Tensor):
        c = o.dtype.category
        if o._data.ndim == 0:
            if c == 1:
                return (_K_INT, int(o.item()))
            if c == 0:
                return (_K_BOOL, bool(o.item()))
            raise IndexError(_BAD_IDX)
        if o.dtype is D.bool_:
            return (_K_MASK, o)
        if o.dtype is D.uint8:
            warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool "
                          "instead.", UserWarning, stacklevel=4)
            return (_K_MASK, o != 0)
        if o.dtype in _I32_64:
            return (_K_TENSOR, o)
        raise IndexError(_BAD_IDX)
    if isinstance(o, numbers.Integral):
        return (_K_INT, int(o))
    if isinstance(o, np.ndarray):
        if o.ndim == 0 and o.dtype.kind in "iu":
            return (_K_INT, int(o))
        if o.ndim == 0 and o.dtype.kind == "b":
            return (_K_BOOL, bool(o))
        return _classify(_F("tensor")(o, device=dev), dev)
    if isinstance(o, (list, tuple, range)):
        t = _F("tensor")(list(o) if not isinstance(o, list) else o, device=dev)
        if t.dtype is D.bool_:
            return (_K_MASK, t) if t._data.ndim else (_K_BOOL, bool(t.item()))
        if t.dtype is not D.uint8 and t.dtype is not D.int64:
            t = t.to(D.int64)
        return _classify(t, dev) if t._data.ndim else (_K_TENSOR, t.reshape(1))
    if isinstance(o, float):
        raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                         "valid indices (got float)")
    if isinstance(o, str):
        raise TypeError("new(): invalid data type 'str'")
    raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
                     f"indices (got {type(o).__name__})")


def _slice_bounds(s):
    start, stop, step = s.start, s.stop, s.step
    if step is not None:
        step = operator.index(step)
        if step == 0:
            raise ValueError("slice step cannot be zero")
        if step < 0:
            raise ValueError("step must be greater than zero")
    if start is not None:
        start = operator.index(start)
    if stop is not None:
        stop = operator.index(stop)
    return start, stop, step


def _parse(self, key, setting=False):
    """Split ``key`` into a basic view of ``self`` and the advanced indices applied after it.

    Returns (view, adv, target): adv is None or a list of (dim in view, index tensor / mask / bool);
    target is True when the view is ``self`` itself (no basic op was needed). As in torch, a slice
    ``0:n:1`` or wider (start 0 or None as written) takes no view node, except a lone slice read (``t[:]``).
    """
    items = _key_items(key)
    arr = self._data
    nd = arr.ndim
    shape = arr.shape
    dev = self._device
    parsed = [_classify(o, dev) for o in items]
    consumed = 0
    for k, v in parsed:
        if k == _K_INT or k == _K_SLICE or k == _K_TENSOR:
            consumed += 1
        elif k == _K_MASK:
            consumed += v._data.ndim
    if consumed > nd:
        if nd == 0 and parsed and parsed[0][0] == _K_INT:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
                             "in C++ to convert a 0-dim tensor to a number")
        raise IndexError(f"too many indices for tensor of dimension {nd}")
    bare_slice = type(key) is slice and not setting
    npkey = []
    adv = None
    dim = odim = 0
    last = None
    steps = []  # (op, dim of the partial result, item): torch's one view node per item
    ell_seen = False
    for k, v in parsed:
        if k == _K_INT:
            n = shape[dim]
            if v < -n or v >= n:
                raise IndexError(f"index {v} is out of bounds for dimension {dim} with size {n}")
            npkey.append(v)
            dim += 1
            last = _SELECT
            steps.append((last, odim, v))
        elif k == _K_SLICE:
            start, stop, step = _slice_bounds(v)
            s = slice(start, stop, step)
            npkey.append(s)
            if bare_slice or start or (step is not None and step != 1) or (stop is not None and stop < shape[dim]):
                last = _SLICE
                steps.append((last, odim, s))
            dim += 1
            odim += 1
        elif k == _K_NONE:
            npkey.append(None)
            last = _UNSQ
            steps.append((last, odim, None))
            odim += 1
        elif k == _K_ELL:
            m = 0 if ell_seen else nd - consumed
            ell_seen = True
            npkey.extend([_FULL] * m)
            dim += m
            odim += m
        elif k == _K_BOOL:
            npkey.append(None)
            last = _UNSQ
            steps.append((last, odim, None))
            if adv is None:
                adv = []
            adv.append((odim, v))
            odim += 1
        elif k == _K_TENSOR:
            npkey.append(_FULL)
            if adv is None:
                adv = []
            adv.append((odim, v))
            dim += 1
            odim += 1
        else:  # mask
            m = v._data.ndim
            npkey.extend([_FULL] * m)
            if adv is None:
                adv = []
            adv.append((odim, v))
            dim += m
            odim += m
    if last is None:
        return self, adv, True
    if len(steps) > 1 and self._rg and _gm.enabled:
        # recorded in the graph: a chain of views, as torch's (one view op without a graph is cheaper)
        v = self
        for op, d, item in steps:
            v = apply(op, (v,), {"key": (_FULL,) * d + (item, Ellipsis)})
        return v, adv, False
    npkey.append(Ellipsis)
    return apply(last, (self,), {"key": tuple(npkey)}), adv, False


def _adv(v, adv):
    """(spec, index tensors) for advanced indices [(dim, index)] on ``v``; masks become nonzero columns.

    ``spec[d]`` is the position in the index list of the index for dim d, or None for a full slice.
    """
    vshape = v._data.shape
    nd = len(vshape)
    dev = v._device
    meta = dev.type == "meta"
    spec = [None] * nd
    idxs = []
    dims = []
    for d, t in adv:
        if t is True or t is False:
            spec[d] = len(idxs)
            idxs.append(_make(dev.backend.from_host(np.zeros(1 if t else 0, np.int64)), dev))
            dims.append(None)
            continue
        if t.dtype is D.bool_:
            m = t._data.ndim
            for j in range(m):
                if d + j >= nd or t._data.shape[j] != vshape[d + j]:
                    raise IndexError(f"The shape of the mask {_shape_str(t.shape)} at index {j} does not match the "
                                     f"shape of the indexed tensor {_shape_str(vshape)} at index {d + j}")
            if meta:
                raise NotImplementedError("boolean-mask indexing needs data and is not supported on meta tensors")
            ta = _arr(t, dev)
            cols = dev.backend.xp.nonzero(ta) if m else ()
            for j, c in enumerate(cols):
                spec[d + j] = len(idxs)
                idxs.append(_make(c.astype(np.int64), dev))
                dims.append(None)
            continue
        if t._device is not dev:
            t = _make(_arr(t, dev), dev)
        spec[d] = len(idxs)
        idxs.append(t)
        dims.append(d)
    if not meta:
        for k, (t, d) in enumerate(zip(idxs, dims)):
            if d is None:
                continue
            n = vshape[d]
            bad = _first_oob(_host(t), -n, n)
            if bad is not None:
                if n == 0:
                    raise IndexError("index is out of bounds for dimension with size 0")
                raise IndexError(f"index {bad} is out of bounds for dimension {k} with size {n}")
    shapes = [t._data.shape for t in idxs]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes " +
                         ", ".join(_shape_str(s) for s in shapes)) from None
    return tuple(spec), tuple(idxs)


def _adv_key(spec, idx):
    return tuple(_FULL if s is None else idx[s] for s in spec)


def _index_shape(xs, spec, ishapes):
    """Shape of ``x[adv key]`` with torch's (NumPy's) placement of the broadcast index dims."""
    b = _bshape(*ishapes) if ishapes else ()
    pos = [d for d, s in enumerate(spec) if s is not None]
    if not pos:
        return tuple(xs)
    if pos == list(range(pos[0], pos[-1] + 1)):
        return tuple(xs[:pos[0]]) + b + tuple(xs[pos[-1] + 1:])
    return b + tuple(xs[d] for d in range(len(xs)) if d >= len(spec) or spec[d] is None)


# the index tensors of index / index_put (any number of them): no edges, as torch's nodes
_FROM1, _FROM2 = range(1, 1 << 30), range(2, 1 << 30)


def _index_fwd(xp, x, *idx, spec, shape):
    # NumPy lays out results whose index dims are not leading non-contiguously; torch's are contiguous
    return xp.ascontiguousarray(x[_adv_key(spec, idx)])


def _index_vjp(g, out, x, *idx, spec, shape):
    gx = apply(_INDEX_PUT, (g.new_zeros(shape), g) + idx, {"spec": spec, "accumulate": True})
    return (gx,) + (None,) * len(idx)


_INDEX = defop("index", "raw", _index_fwd, _index_vjp, nodiff=_FROM1, save_out=False, save_in=(None,),
               node="IndexBackward0", shape=lambda xs, *ishapes, spec, shape: _index_shape(xs, spec, ishapes))


def _index_put_write(xp, out, v, *idx, spec, accumulate):
    key = _adv_key(spec, idx)
    if accumulate:
        _at(xp, "add", out, key, v)
    else:
        out[key] = v
    return out


def _index_put_vjp(g, out, x, v, *idx, needs, spec, accumulate):
    gx = gv = None
    if needs[0]:
        gx = g if accumulate else apply(_INDEX_PUT, (g, g.new_zeros(())) + idx, {"spec": spec, "accumulate": False})
    if needs[1]:
        gv = apply(_INDEX, (g,) + idx, {"spec": spec, "shape": tuple(g.shape)})
    return (gx, gv) + (None,) * len(idx)


_INDEX_PUT = defop("index_put", "raw", lambda xp, x, v, *idx, spec, accumulate:
                   _index_put_write(xp, x.copy(), v, *idx, spec=spec, accumulate=accumulate),
                   _index_put_vjp, nodiff=_FROM2, save_out=False, save_in=(None, None), needs=True,
                   node="IndexPutBackward0", shape=lambda xs, *rest, spec, accumulate: xs)


def _getitem(self, key):
    """``t[key]``: a view for ints/slices/None/Ellipsis, a copy when tensors, lists or masks index it."""
    v, adv, same = _parse(self, key)
    if adv is None:
        if same:
            return apply(_ALIAS, (self,), {})
        return v
    spec, idx = _adv(v, adv)
    return apply(_INDEX, (v,) + idx, {"spec": spec, "shape": tuple(v._data.shape)})


def _tensor_type(t):
    try:
        return t.type()
    except Exception:  # pragma: no cover
        return "torch." + _type_name(t.dtype) + "Tensor"


def _setitem(self, key, value):
    """``t[key] = value``: writes through a view (basic) or ``index_put_`` (advanced), with autograd."""
    if not (_is_number(value) or isinstance(value, Tensor)):
        raise TypeError(f"can't assign a {_qual(value)} to a {_tensor_type(self)}")
    v, adv, same = _parse(self, key, True)
    if adv is None:
        if isinstance(value, Tensor):
            _copy_to(v, value)
        elif _no_track(v):
            fill_(v, _np_scalar(value, v.dtype, True))
        else:  # torch fills with the number wrapped in a tensor: FillBackward3, with a None edge for it
            check_inplace(v)
            apply_inplace(_FILL_T, v, (_number_tensor(v, value),), {})
        return
    spec, idx = _adv(v, adv)
    if isinstance(value, Tensor):
        shp = _without_leading_ones(value._data.shape)
        if shp != value._data.shape:  # torch's index_put_ takes the value viewed without them
            value = value.view(shp)
        if len(adv) == 1 and not isinstance(adv[0][1], bool) and adv[0][1].dtype is D.bool_ and \
                value._data.size == 1:
            # one bool mask and a one-element value: torch casts the value as a fill would
            value = value.to(v.dtype)
    else:
        value = _number_tensor(v, value)
    _index_put_checked(v, spec, idx, value, False, inplace=True)


def _number_tensor(v, value):
    """``value`` (a Python number) as a 0-d tensor of ``v``'s dtype on its device."""
    be = v._device.backend
    return _make(be.asarray(_np_scalar(value, v.dtype, True), v.dtype.np) if v._device.type != "meta" else
                 be.empty((), v.dtype.np), v._device)


def _qual(o):
    t = type(o)
    m = t.__module__
    return t.__name__ if m == "builtins" else f"{m}.{t.__name__}"


def _copy_to(dst, value):
    """setitem's copy, in torch's steps (each shows in the graph): equal sizes copy; a 0-d CPU value fills;
    otherwise the value is viewed without its leading size-1 dims, expanded to ``dst`` and copied."""
    vs = value._data.shape
    ds = dst._data.shape
    if vs == ds:
        return copy_(dst, value)
    if not vs and value._device.type == "cpu":
        return fill_(dst, value)
    shp = _without_leading_ones(vs)
    value = value.view(shp)
    if shp != ds:
        value = value.expand(ds)
    copy_(dst, value)


def _without_leading_ones(shape):
    k = 0
    while k < len(shape) and shape[k] == 1:
        k += 1
    return shape[k:]


def _index_put_checked(self, spec, idx, values, accumulate, inplace):
    if values.dtype is not self.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_type_name(self.dtype)} for the destination and {_type_name(values.dtype)} for the "
                           f"source.")
    ishape = _index_shape(self._data.shape, spec, [t._data.shape for t in idx])
    vs = values._data.shape
    try:
        ok = _bshape(vs, ishape) == tuple(ishape)
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"shape mismatch: value tensor of shape {_shape_str(vs)} cannot be broadcast to indexing "
                           f"result of shape {_shape_str(ishape)}")
    kw = {"spec": spec, "accumulate": bool(accumulate)}
    if not inplace:
        return apply(_INDEX_PUT, (self, values) + idx, kw)
    check_inplace(self)
    if _no_track(self, values):
        dev = self._device
        return _fast_write(self, lambda xp, dst, v, *ix: _index_put_write(xp, dst, v, *ix, **kw),
                           _arr(values, dev), *[t._data for t in idx])
    return apply_inplace(_INDEX_PUT, self, (values,) + idx, kw)


def _index_list(self, indices, name):
    if isinstance(indices, Tensor) or not isinstance(indices, (list, tuple)):
        raise TypeError(f"{name}(): argument 'indices' (position 1) must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    adv = []
    d = 0
    consumed = 0
    for i, t in enumerate(indices):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
        consumed += t._data.ndim if t.dtype in (D.bool_, D.uint8) else 1
    if consumed > self._data.ndim:
        raise IndexError(f"too many indices for tensor of dimension {self._data.ndim} (got {len(indices)})")
    for t in indices:
        if t.dtype is D.uint8:
            warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool "
                          "instead.", UserWarning, stacklevel=3)
            t = t != 0
        if t.dtype is D.bool_:
            if t._data.ndim == 0:
                raise IndexError("too many indices for tensor of dimension 0")
            adv.append((d, t))
            d += t._data.ndim
        elif t.dtype in _I32_64:
            adv.append((d, t))
            d += 1
        else:
            raise IndexError(_BAD_IDX)
    return _adv(self, adv)


def index_put(input, indices, values, accumulate=False):
    """Out-of-place ``input[indices] = values`` (summing repeated indices when ``accumulate``)."""
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put(): argument 'values' (position 2) must be Tensor, not {type(values).__name__}")
    spec, idx = _index_list(input, indices, "index_put")
    return _index_put_checked(input, spec, idx, values, accumulate, inplace=False)


def index_put_(input, indices, values, accumulate=False):
    """In-place ``input[indices] = values`` (summing repeated indices when ``accumulate``)."""
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put_(): argument 'values' (position 2) must be Tensor, not "
                        f"{type(values).__name__}")
    spec, idx = _index_list(input, indices, "index_put_")
    return _index_put_checked(input, spec, idx, values, accumulate, inplace=True)


# ---------------------------------------------------------------- fill_, zero_, copy_
def _fill_scalar_vjp(g, out, x, value):
    return g.new_zeros(g.shape)


def _fill_tensor_vjp(g, out, x, v, needs):
    return (g.new_zeros(g.shape) if needs[0] else None, g.sum() if needs[1] else None)


_FILL = defop("fill", "raw", lambda xp, x, value: xp.full(x.shape, value, dtype=x.dtype), _fill_scalar_vjp,
              save_in=False, save_out=False, node="FillBackward2", shape=lambda xs, value: xs)
_FILL_T = defop("fill_tensor", "raw", lambda xp, x, v: xp.full(x.shape, v.astype(x.dtype), dtype=x.dtype),
                _fill_tensor_vjp, save_in=False, save_out=False, needs=True, node="FillBackward3",
                shape=lambda xs, vs: xs)
# out-of-place fill: torch's nodes for fill.Scalar / fill.Tensor (the in-place ones are FillBackward2/3)
_FILL_OOP = defop("fill_oop", "raw", _FILL.fwd, _fill_scalar_vjp, save_in=False, save_out=False,
                  node="FillBackward0", shape=lambda xs, value: xs)
_FILL_T_OOP = defop("fill_tensor_oop", "raw", _FILL_T.fwd, _fill_tensor_vjp, save_in=False, save_out=False,
                    needs=True, node="FillBackward1", shape=lambda xs, vs: xs)
_ZERO = defop("zero_", "raw", lambda xp, x: xp.zeros(x.shape, dtype=x.dtype), lambda g, out, x: g.new_zeros(g.shape),
              save_in=False, save_out=False, node="ZeroBackward0", shape=lambda xs: xs)


def _fill_value(self, value):
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        return value
    if not _is_number(value):
        raise TypeError(f"fill_() received an invalid combination of arguments - got ({type(value).__name__}), but "
                        f"expected one of:\n * (Number value)\n * (Tensor value)")
    return _np_scalar(value, self.dtype)


def fill_(self, value):
    """Fill with ``value`` (a number or a 0-d tensor) in place."""
    value = _fill_value(self, value)
    check_inplace(self)
    if isinstance(value, Tensor):
        _check_overlap(self)  # torch lets only a Python-number fill write over an expanded tensor
        if _no_track(self, value):
            val = value.to(self.dtype).item() if value.dtype is not self.dtype else value.item()
            return _fast_write(self, lambda xp, dst: dst.fill(val) if dst.ndim else dst.__setitem__((), val))
        return apply_inplace(_FILL_T, self, (value,), {})
    if _no_track(self):
        return _fast_write(self, lambda xp, dst: dst.fill(value) if dst.ndim else dst.__setitem__((), value))
    return apply_inplace(_FILL, self, (), {"value": value})


def fill(input, value):
    """A new tensor shaped like ``input`` filled with ``value`` (gradient zero for ``input``)."""
    value = _fill_value(input, value)
    if isinstance(value, Tensor):
        return apply(_FILL_T_OOP, (input, value), {})
    return apply(_FILL_OOP, (input,), {"value": value})


def zero_(self):
    """Fill with zeros in place."""
    check_inplace(self)
    if _no_track(self):
        return _fast_write(self, lambda xp, dst: dst.fill(0) if dst.ndim else dst.__setitem__((), 0))
    return apply_inplace(_ZERO, self, (), {})


def _copy_fwd(xp, x, src):
    if src.dtype.kind == "c" and x.dtype.kind != "c":
        src = src.real
    return xp.broadcast_to(src, x.shape).astype(x.dtype)


def _copy_vjp(g, out, x, src, needs):
    return (g.new_zeros(g.shape) if needs[0] else None, g if needs[1] else None)


_COPY = defop("copy_", "raw", _copy_fwd, _copy_vjp, save_in=False, save_out=False, needs=True,
              node="torch::autograd::CopyBackwards", shape=lambda xs, ss: xs)


def _bcast_error(a, b):
    """torch's message for shapes ``a`` and ``b`` that do not broadcast."""
    n = max(len(a), len(b))
    for i in range(n - 1, -1, -1):
        off = n - 1 - i
        da, db = len(a) - 1 - off, len(b) - 1 - off
        sa = a[da] if da >= 0 else 1
        sb = b[db] if db >= 0 else 1
        if sa != sb and sa != 1 and sb != 1:
            return RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at "
                                f"non-singleton dimension {i}")
    return None


def copy_(self, other, non_blocking=False):
    """Copy ``other`` into ``self`` (broadcasting, casting dtype, across devices) in place."""
    src = other
    if not isinstance(src, Tensor):
        if _is_number(src):
            return fill_(self, src)
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {type(src).__name__}")
    ds, ss = self._data.shape, src._data.shape
    if ds != ss:
        e = _bcast_error(ds, ss)
        if e is not None:
            raise e
        if len(ss) > len(ds) or _bshape(ds, ss) != ds:
            raise RuntimeError(f"output with shape {_shape_str(ds)} doesn't match the broadcast shape "
                               f"{_shape_str(_bshape(ds, ss))}")
    check_inplace(self)
    _check_overlap(self)
    check_partial_overlap(self, src)
    if src.dtype.category == 3 and self.dtype.category < 3:
        warnings.warn("Casting complex values to real discards the imaginary part", UserWarning, stacklevel=2)
    if src._device is not self._device and src._device != self._device:
        if self._device.type == "meta":
            self._storage._version += 1
            return self
        src = src.to(self._device)
    if _no_track(self, src):
        if self._device.type == "meta":
            self._storage._version += 1
            return self
        if src._data is self._data:
            return self
        s = src._data
        if s.dtype.kind == "c" and self._data.dtype.kind != "c":
            s = s.real
        d = _writable(self)
        if s.dtype == d.dtype or d.dtype.kind != "b":
            d[...] = s
        else:
            d[...] = s != 0
        self._storage._version += 1
        return self
    return apply_inplace(_COPY, self, (src,), {})


# ---------------------------------------------------------------- gather / scatter family
def _coords(xp, idx, dim):
    """Index tuple addressing, for every element of ``idx``, the same position with dim ``dim`` replaced."""
    nd = idx.ndim
    out = []
    for d in range(nd):
        if d == dim:
            out.append(idx)
        else:
            shp = [1] * nd
            shp[d] = idx.shape[d]
            out.append(xp.arange(idx.shape[d]).reshape(shp))
    return tuple(out)


def _as1(a):
    return a.reshape(1) if a.ndim == 0 else a


def _gather_fwd(xp, x, idx, dim):
    shp = idx.shape
    return _as1(x)[_coords(xp, _as1(idx), dim)].reshape(shp)


def _gather_vjp(g, out, x, idx, dim, shape):
    return apply(_SCATTER_ADD, (g.new_zeros(shape), idx, g), {"dim": dim}), None


_GATHER = defop("gather", "raw", lambda xp, x, idx, dim, shape: _gather_fwd(xp, x, idx, dim), _gather_vjp,
                nodiff=(1,), save_out=False, shape=lambda xs, ishape, dim, shape: ishape)


def _sub(src, ishape):
    """The leading ``ishape`` block of ``src`` (the part that scatter reads)."""
    return _as1(src)[tuple(slice(0, n) for n in (ishape or (1,)))]


def _scatter_write(xp, out, idx, src, dim, reduce, value=None):
    o, i = _as1(out), _as1(idx)
    key = _coords(xp, i, dim)
    s = value if src is None else _sub(src, idx.shape)
    if reduce is None:
        o[key] = s
    elif reduce == "add":
        _at(xp, "add", o, key, s)
    else:
        _at(xp, "multiply", o, key, s)
    return out


def _scatter_src_vjp(g, out, x, idx, src, needs, dim, reduce):
    if reduce is not None:
        raise RuntimeError("the derivative for 'scatter' with a reduce argument is not implemented.")
    gx = apply(_SCATTER_VAL, (g, idx), {"dim": dim, "value": 0, "reduce": None}) if needs[0] else None
    gs = _pad_to(_F("gather")(g, dim, idx), src.shape) if needs[2] else None
    return gx, None, gs


def _scatter_val_vjp(g, out, x, idx, dim, value, reduce):
    if reduce is not None:
        raise RuntimeError("the derivative for 'scatter' with a reduce argument is not implemented.")
    return apply(_SCATTER_VAL, (g, idx), {"dim": dim, "value": 0, "reduce": None}), None


def _pad_to(t, shape):
    """``t`` placed at the start of zeros of ``shape`` (gradient of reading a leading block)."""
    if tuple(t.shape) == tuple(shape):
        return t
    if len(shape) == 0:
        return t.reshape(())
    key = tuple(slice(0, n) for n in t.shape) + (Ellipsis,)
    return embed(t, shape, [(OPS["getitem"], {"key": key})])


_SCATTER = defop("scatter", "raw", lambda xp, x, idx, src, dim, reduce:
                 _scatter_write(xp, x.copy(), idx, src, dim, reduce), _scatter_src_vjp, nodiff=(1,), save_out=False,
                 needs=True, save_in=(None, True, None), node="ScatterBackward0",
                 shape=lambda xs, i, s, dim, reduce: xs)
_SCATTER_VAL = defop("scatter_value", "raw", lambda xp, x, idx, dim, value, reduce:
                     _scatter_write(xp, x.copy(), idx, None, dim, reduce, value), _scatter_val_vjp, save_out=False,
                     nodiff=(1,), save_in=(None, True), node="ScatterBackward1",
                     shape=lambda xs, i, dim, value, reduce: xs)


def _scatter_add_vjp(g, out, x, idx, src, needs, dim):
    gs = _pad_to(_F("gather")(g, dim, idx), src.shape) if needs[2] else None
    return (g if needs[0] else None), None, gs


_SCATTER_ADD = defop("scatter_add", "raw", lambda xp, x, idx, src, dim:
                     _scatter_write(xp, x.copy(), idx, src, dim, "add"), _scatter_add_vjp, nodiff=(1,), save_out=False,
                     needs=True, save_in=(None, 2, None), shape=lambda xs, i, s, dim: xs)


def _check_scatter(name, self, dim, index, src=None):
    nd = self._data.ndim
    dim = wrap_dim(dim, nd)
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' (position 2) must be Tensor, not {type(index).__name__}")
    if index.dtype not in _I32_64:
        raise RuntimeError(f"{'gather' if name == 'gather' else 'scatter'}(): Expected dtype int32/int64 for index")
    ind = max(index._data.ndim, 1)
    if ind != max(nd, 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as "
                           f"{'input' if name == 'gather' else 'self'} tensor")
    if src is not None and ind != max(src._data.ndim, 1):
        sn = src._data.ndim
        if 0 < sn < ind:  # torch reads src.size(d) for every index dim first
            wrap_dim(sn, sn)
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    ish = index._data.shape or (1,)
    ssh = self._data.shape or (1,)
    if name == "gather":
        for d in range(ind):
            if d != dim and ish[d] > ssh[d]:
                raise RuntimeError(f"Size does not match at dimension {d} expected index {_shape_str(index.shape)} "
                                   f"to be no larger than self {_shape_str(self.shape)} apart from dimension {dim}")
    elif index._data.size:
        srcsh = (src._data.shape or (1,)) if src is not None else None
        for d in range(ind):
            if (d != dim and ish[d] > ssh[d]) or (srcsh is not None and ish[d] > srcsh[d]):
                msg = (f"Expected index {_shape_str(index.shape)} to be no larger than self {_shape_str(self.shape)} "
                       f"apart from dimension {dim}")
                if srcsh is not None:
                    msg += f" and to be no larger size than src {_shape_str(src.shape)}"
                raise RuntimeError(msg)
    if self._device.type != "meta" and index._data.size:
        n = ssh[dim]
        bad = _first_oob(_host(index), 0, n)
        if bad is not None:
            raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {n}")
    if index._device is not self._device:
        index = _make(_arr(index, self._device), self._device)
    return dim, index


def gather(input, dim, index, *, sparse_grad=False, out=None):
    """Values of ``input`` at ``index`` along ``dim`` (output shaped like ``index``)."""
    dim, index = _check_scatter("gather", input, dim, index)
    r = apply(_GATHER, (input, index), {"dim": dim, "shape": tuple(input._data.shape)})
    return r if out is None else write_out(out, r)


def _scatter_args(name, self, dim, index, src, value, reduce):
    if src is None and value is None:
        raise TypeError(f"{name}() missing required argument 'src' or 'value'")
    s = src if src is not None else value
    if reduce is not None and reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    if isinstance(s, Tensor):
        dim, index = _check_scatter(name, self, dim, index, s)
        if s.dtype is not self.dtype:
            raise RuntimeError(f"{name.rstrip('_')}(): Expected self.dtype to be equal to src.dtype")
        if reduce is not None:
            warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and will be removed "
                          "in a future PyTorch release. Use torch.scatter_reduce instead for more reduction "
                          "options.", UserWarning, stacklevel=3)
        return _SCATTER, (index, s), {"dim": dim, "reduce": reduce}
    if not _is_number(s):
        raise TypeError(f"{name}(): argument 'src' must be Tensor or Number, not {type(s).__name__}")
    dim, index = _check_scatter(name, self, dim, index)
    return _SCATTER_VAL, (index,), {"dim": dim, "value": _np_scalar(s, self.dtype), "reduce": reduce}


def scatter(input, dim, index, src=None, value=None, *, reduce=None, out=None):
    """A copy of ``input`` with ``src`` (tensor or number) written at ``index`` along ``dim``."""
    op, args, kw = _scatter_args("scatter", input, dim, index, src, value, reduce)
    r = apply(op, (input,) + args, kw)
    return r if out is None else write_out(out, r)


def _inplace_op(op, self, args, kw, write, overlap_ok=False):
    """In-place form: write straight into self when autograd is not involved, else apply_inplace.

    Like torch, only the fills (masked_fill_, index_fill_) may write over an expanded tensor.
    """
    check_inplace(self)
    if not overlap_ok:
        _check_overlap(self)
    if _no_track(self, *args):
        dev = self._device
        return _fast_write(self, lambda xp, dst, *arrs: write(xp, dst, *arrs, **kw),
                           *[_arr(a, dev) if isinstance(a, Tensor) else a for a in args])
    return apply_inplace(op, self, args, kw)


def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
    """In-place ``scatter``."""
    op, args, kw = _scatter_args("scatter_", self, dim, index, src, value, reduce)
    if op is _SCATTER:
        return _inplace_op(op, self, args, kw, lambda xp, o, i, s, dim, reduce: _scatter_write(xp, o, i, s, dim,
                                                                                               reduce))
    return _inplace_op(op, self, args, kw, lambda xp, o, i, dim, value, reduce:
                       _scatter_write(xp, o, i, None, dim, reduce, value))


def _scatter_add_args(name, self, dim, index, src):
    if not isinstance(src, Tensor):
        raise TypeError(f"{name}(): argument 'src' (position 3) must be Tensor, not {type(src).__name__}")
    dim, index = _check_scatter("scatter", self, dim, index, src)
    if src.dtype is not self.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    return dim, index


def scatter_add(input, dim, index, src, *, out=None):
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeats accumulate)."""
    dim, index = _scatter_add_args("scatter_add", input, dim, index, src)
    r = apply(_SCATTER_ADD, (input, index, src), {"dim": dim})
    return r if out is None else write_out(out, r)


def scatter_add_(self, dim, index, src):
    """In-place ``scatter_add``."""
    dim, index = _scatter_add_args("scatter_add_", self, dim, index, src)
    return _inplace_op(_SCATTER_ADD, self, (index, src), {"dim": dim},
                       lambda xp, o, i, s, dim: _scatter_write(xp, o, i, s, dim, "add"))


# scatter_reduce: sum / prod / mean / amax / amin, optionally ignoring self's values
_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def _scatter_reduce_write(xp, out, idx, src, dim, reduce, include_self):
    o, i = _as1(out), _as1(idx)
    key = _coords(xp, i, dim)
    s = _sub(src, idx.shape)
    if reduce == "mean":
        cnt = xp.ones(o.shape, dtype=np.int64) if include_self else xp.zeros(o.shape, dtype=np.int64)
        if not include_self:
            o[key] = 0
        _at(xp, "add", o, key, s)
        _at(xp, "add", cnt, key, xp.ones(s.shape, dtype=np.int64))
        c = xp.maximum(cnt, 1)
        if o.dtype.kind in "iub":
            o[...] = xp.floor_divide(o, c.astype(o.dtype))
        else:
            o[...] = o / c.astype(o.dtype)
        return out
    if not include_self:
        o[key] = {"sum": 0, "prod": 1}.get(reduce, s) if reduce in ("sum", "prod") else s
    uf = {"sum": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}[reduce]
    _at(xp, uf, o, key, s)
    return out


def _scatter_reduce_vjp(g, out, x, idx, src, needs, dim, reduce, include_self):
    gather = _F("gather")
    gx = gs = None
    scattered = None
    if not include_self:
        scattered = apply(_SCATTER_VAL, (g.new_zeros(g.shape, dtype=D.bool_), idx),
                          {"dim": dim, "value": np.True_, "reduce": None})
    if reduce == "sum":
        if needs[0]:
            gx = g if include_self else g.masked_fill(scattered, 0)
        if needs[2]:
            gs = gather(g, dim, idx)
    elif reduce == "mean":
        cnt = apply(_SCATTER_ADD, (g.new_ones(g.shape) if include_self else g.new_zeros(g.shape), idx,
                                   g.new_ones(tuple(idx.shape))), {"dim": dim})
        cnt = cnt.masked_fill(cnt == 0, 1)
        gm = g / cnt
        if needs[0]:
            gx = gm if include_self else g.masked_fill(scattered, 0)
        if needs[2]:
            gs = gather(gm, dim, idx)
    elif reduce == "prod":
        xs = x if include_self else None
        s = _sub_t(src, idx)
        nz_src = s.masked_fill(s == 0, 1)
        zero_src = (s == 0).to(g.dtype)
        base_p = x.masked_fill(x == 0, 1) if include_self else g.new_ones(g.shape)
        base_z = (x == 0).to(g.dtype) if include_self else g.new_zeros(g.shape)
        P = apply(_SCATTER_REDUCE, (base_p, idx, nz_src), {"dim": dim, "reduce": "prod", "include_self": True})
        Z = apply(_SCATTER_ADD, (base_z, idx, zero_src), {"dim": dim})
        if needs[0]:
            if include_self:
                gx = g * _others(xs, P, Z)
            else:
                gx = g.masked_fill(scattered, 0)
        if needs[2]:
            gs = gather(g, dim, idx) * _others(s, gather(P, dim, idx), gather(Z, dim, idx))
    else:  # amax / amin: the gradient is shared evenly among the elements equal to the result
        r = out
        rg = gather(r, dim, idx)
        s = _sub_t(src, idx)
        hit_s = (s == rg).to(g.dtype)
        # torch counts a self element equal to the result even when include_self=False (its own gradient
        # is masked out below), so a tie with self halves the source's share; the same here
        hit_x = (x == r).to(g.dtype)
        N = apply(_SCATTER_ADD, (hit_x, idx, hit_s), {"dim": dim})
        gn = g / N.masked_fill(N == 0, 1)
        if needs[0]:
            gx = gn * hit_x if include_self else g.masked_fill(scattered, 0)
        if needs[2]:
            gs = gather(gn, dim, idx) * hit_s
    if gs is not None:
        gs = _pad_to(gs, src.shape)
    return gx, None, gs


def _sub_t(src, idx):
    """The block of ``src`` that scatter reads (shaped like ``idx``), as an ember tensor."""
    if tuple(src.shape) == tuple(idx.shape):
        return src
    if src._data.ndim == 0:
        return src.reshape(idx.shape)
    return src[tuple(slice(0, n) for n in idx.shape)]


def _others(v, P, Z):
    """Product of the other contributors: P is the product of non-zeros, Z the count of zeros."""
    safe = v.masked_fill(v == 0, 1)
    a = P.masked_fill(Z != 1, 0)
    b = (P / safe).masked_fill(Z != 0, 0)
    return a.masked_fill(v != 0, 0) + b.masked_fill(v == 0, 0)


_SCATTER_REDUCE = defop("scatter_reduce", "raw", lambda xp, x, idx, src, dim, reduce, include_self:
                        _scatter_reduce_write(xp, x.copy(), idx, src, dim, reduce, include_self),
                        _scatter_reduce_vjp, nodiff=(1,), needs=True, save_in=True, node="ScatterReduceBackward0",
                        shape=lambda xs, i, s, dim, reduce, include_self: xs)


def _scatter_reduce_args(self, dim, index, src, reduce):
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' (position 3) must be Tensor, not {type(src).__name__}")
    dim, index = _check_scatter("scatter", self, dim, index, src)
    if src.dtype is not self.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    return dim, index


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True, out=None):
    """Reduce ``src`` into a copy of ``input`` at ``index`` along ``dim`` (sum/prod/mean/amax/amin)."""
    dim, index = _scatter_reduce_args(input, dim, index, src, reduce)
    r = apply(_SCATTER_REDUCE, (input, index, src), {"dim": dim, "reduce": reduce, "include_self": bool(include_self)})
    return r if out is None else write_out(out, r)


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    """In-place ``scatter_reduce``."""
    dim, index = _scatter_reduce_args(self, dim, index, src, reduce)
    return _inplace_op(_SCATTER_REDUCE, self, (index, src),
                       {"dim": dim, "reduce": reduce, "include_self": bool(include_self)}, _scatter_reduce_write)


# ---------------------------------------------------------------- index_select / index_add / copy / fill
def _along(dim, idx):
    return (_FULL,) * dim + (idx,)


def _index_select_fwd(xp, x, idx, dim, shape):
    if x.ndim == 0:
        return x.copy()
    return xp.take(x, idx.reshape(-1), axis=dim)


def _index_select_vjp(g, out, x, idx, dim, shape):
    if not shape:
        return g.reshape(()), None
    return apply(_INDEX_ADD, (g.new_zeros(shape), idx.reshape(-1), g), {"dim": dim, "alpha": 1}), None


_INDEX_SELECT = defop("index_select", "raw", _index_select_fwd, _index_select_vjp, nodiff=(1,), save_out=False,
                      save_in=(None, True),
                      shape=lambda xs, ish, dim, shape: xs[:dim] + ((int(np.prod(ish)),) if xs else ()) +
                      xs[dim + 1:])


def _vector_index(index, name):
    if index._data.ndim > 1:
        if name == "index_select":
            raise IndexError("index_select(): Index is supposed to be a vector")
        raise RuntimeError("Index has to be a vector/scalar" if name == "index_fill" else
                           f"{name}_(): Index should have dimension 1 or 0 (got {index._data.ndim})")


def index_select(input, dim, index, *, out=None):
    """Slices of ``input`` along ``dim`` at the positions in the 1-D ``index``."""
    if index.dtype not in _I32_64:
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    _vector_index(index, "index_select")
    nd = input._data.ndim
    dim = wrap_dim(dim, nd)
    if nd == 0 and index._data.size != 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {index._data.size} value(s)")
    if input._device.type != "meta":
        n = input._data.shape[dim] if nd else 1
        bad = _first_oob(_host(index), 0, n)
        if bad is not None:
            if dim == 0:
                raise IndexError("index out of range in self")
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={n}")
    if index._device is not input._device:
        index = _make(_arr(index, input._device), input._device)
    r = apply(_INDEX_SELECT, (input, index), {"dim": dim, "shape": tuple(input._data.shape)})
    return r if out is None else write_out(out, r)


def _index_add_write(xp, out, idx, src, dim, alpha):
    o = _as1(out)
    s = _as1(src)
    if alpha != 1:
        s = s * alpha
    _at(xp, "add", o, _along(dim, _as1(idx)), s.astype(o.dtype, copy=False))
    return out


def _index_add_vjp(g, out, x, idx, src, needs, dim, alpha):
    gs = None
    if needs[2]:
        gs = index_select(g, dim, idx)
        if alpha != 1:
            gs = gs * alpha
        if src._data.ndim == 0:
            gs = gs.reshape(())
    return (g if needs[0] else None), None, gs


_INDEX_ADD = defop("index_add", "raw", lambda xp, x, idx, src, dim, alpha:
                   _index_add_write(xp, x.copy(), idx, src, dim, alpha), _index_add_vjp, nodiff=(1,), save_out=False,
                   needs=True, save_in=(None, 2, 2), shape=lambda xs, i, s, dim, alpha: xs)


def _check_index_src(name, self, dim, index, source, allowed, dtype_msg, bounds_exc, bounds_prefix, neg_ok):
    if not isinstance(source, Tensor):
        raise TypeError(f"{name}(): argument 'source' (position 3) must be Tensor, not {type(source).__name__}")
    nd = self._data.ndim
    dim = wrap_dim(dim, nd)
    if index.dtype not in allowed:
        raise RuntimeError(dtype_msg.format(_type_name(index.dtype)))
    _vector_index(index, name.rstrip("_"))
    if source.dtype is not self.dtype:
        if name.startswith("index_add"):
            raise RuntimeError(f"index_add_(): self ({_type_name(self.dtype)}) and source "
                               f"({_type_name(source.dtype)}) must have the same scalar type")
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{_type_name(self.dtype)} and (source) {_type_name(source.dtype)}")
    ssh, srh = self._data.shape, source._data.shape
    nidx = index._data.size
    if name.startswith("index_add"):
        if len(ssh) != len(srh) or any(a != b for d, (a, b) in enumerate(zip(ssh, srh)) if d != dim):
            raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified "
                               f"dimension. Got self.shape = {_shape_str(ssh)} source.shape = {_shape_str(srh)}")
        ns = srh[dim] if srh else 1
        if ns != nidx:
            raise RuntimeError(f"index_add_(): Number of indices ({nidx}) should be equal to source.size(dim): "
                               f"({ns}), for dim: {dim}")
    else:
        ns = srh[dim] if srh else 1
        if ns != nidx:
            raise IndexError(f"index_copy_(): Number of indices ({nidx}) should be equal to source.size(dim) ({ns})")
        if len(ssh) != len(srh) and not (len(ssh) <= 1 and len(srh) <= 1) or \
                any(a != b for d, (a, b) in enumerate(zip(ssh, srh)) if d != dim):
            raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice shapes. Destination "
                               f"slice shape: {_shape_str(ssh[:dim] + ssh[dim + 1:])} at dimension {dim} and source "
                               f"slice shape: {_shape_str(srh[:dim] + srh[dim + 1:])} at dimension 0.")
    _check_index_bounds(self, dim, index, bounds_exc, bounds_prefix, neg_ok)
    if index._device is not self._device:
        index = _make(_arr(index, self._device), self._device)
    return dim, index


def _check_index_bounds(self, dim, index, exc, prefix, neg_ok):
    if self._device.type == "meta":
        return
    n = self._data.shape[dim] if self._data.ndim else 1
    bad = _first_oob(_host(index), -n if neg_ok else 0, n)
    if bad is not None:
        raise exc(f"{prefix}index {bad} is out of bounds for dimension {dim} with size {n}")


def _index_add_args(name, self, dim, index, source, alpha):
    dim, index = _check_index_src(name, self, dim, index, source, _I32_64,
                                  "index_add_(): Expected dtype int32/int64 for index but got: {}", RuntimeError,
                                  "", False)
    if self.dtype.category < 2 and not isinstance(alpha, bool):
        alpha = int(alpha)
    return dim, index, alpha


def index_add(input, dim, index, source, *, alpha=1, out=None):
    """A copy of ``input`` with ``alpha * source`` added at ``index`` along ``dim``."""
    dim, index, alpha = _index_add_args("index_add", input, dim, index, source, alpha)
    r = apply(_INDEX_ADD, (input, index, source), {"dim": dim, "alpha": alpha})
    return r if out is None else write_out(out, r)


def index_add_(self, dim, index, source, *, alpha=1):
    """In-place ``index_add``."""
    dim, index, alpha = _index_add_args("index_add_", self, dim, index, source, alpha)
    return _inplace_op(_INDEX_ADD, self, (index, source), {"dim": dim, "alpha": alpha}, _index_add_write)


def _index_copy_write(xp, out, idx, src, dim):
    o = _as1(out)
    o[_along(dim, _as1(idx))] = _as1(src)
    return out


def _index_copy_vjp(g, out, x, idx, src, needs, dim):
    gx = index_fill(g, dim, idx, 0) if needs[0] else None
    gs = None
    if needs[2]:
        gs = index_select(g, dim, idx)
        if src._data.ndim == 0:
            gs = gs.reshape(())
    return gx, None, gs


_INDEX_COPY = defop("index_copy", "raw", lambda xp, x, idx, src, dim: _index_copy_write(xp, x.copy(), idx, src, dim),
                    _index_copy_vjp, nodiff=(1,), save_out=False, needs=True, save_in=(None, True, 2),
                    shape=lambda xs, i, s, dim: xs)


def _index_copy_args(name, self, dim, index, source):
    return _check_index_src(name, self, dim, index, source, _I64,
                            "index_copy_(): Expected a long tensor for index, but got {}", IndexError,
                            "index_copy_(): ", False)


def index_copy(input, dim, index, source, *, out=None):
    """A copy of ``input`` with slices along ``dim`` at ``index`` replaced by ``source``."""
    dim, index = _index_copy_args("index_copy", input, dim, index, source)
    r = apply(_INDEX_COPY, (input, index, source), {"dim": dim})
    return r if out is None else write_out(out, r)


def index_copy_(self, dim, index, source):
    """In-place ``index_copy``."""
    dim, index = _index_copy_args("index_copy_", self, dim, index, source)
    return _inplace_op(_INDEX_COPY, self, (index, source), {"dim": dim}, _index_copy_write)


def _index_fill_write(xp, out, idx, dim, value):
    o = _as1(out)
    o[_along(dim, _as1(idx))] = value
    return out


def _index_fill_t_write(xp, out, idx, v, dim):
    return _index_fill_write(xp, out, idx, dim, v.astype(out.dtype))


_INDEX_FILL = defop("index_fill", "raw", lambda xp, x, idx, dim, value:
                    _index_fill_write(xp, x.copy(), idx, dim, value),
                    lambda g, out, x, idx, dim, value: (index_fill(g, dim, idx, 0), None),
                    nodiff=(1,), save_out=False, save_in=(None, True), node="IndexFillBackward0",
                    shape=lambda xs, i, dim, value: xs)


def _index_fill_t_vjp(g, out, x, idx, v, needs, dim):
    gx = index_fill(g, dim, idx, 0) if needs[0] else None
    gv = index_select(g, dim, idx).sum() if needs[2] else None
    return gx, None, gv


_INDEX_FILL_T = defop("index_fill_tensor", "raw", lambda xp, x, idx, v, dim:
                      _index_fill_t_write(xp, x.copy(), idx, v, dim), _index_fill_t_vjp, nodiff=(1,), save_out=False,
                      needs=True, save_in=(None, True, None), node="IndexFillBackward1",
                      shape=lambda xs, i, vs, dim: xs)


def _index_fill_args(self, dim, index, value):
    nd = self._data.ndim
    dim = wrap_dim(dim, nd)
    if index.dtype is not D.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    _vector_index(index, "index_fill")
    _check_index_bounds(self, dim, index, IndexError, "", True)
    if index._device is not self._device:
        index = _make(_arr(index, self._device), self._device)
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        return _INDEX_FILL_T, (index, value), {"dim": dim}
    if not _is_number(value):
        raise TypeError(f"index_fill(): argument 'value' must be Number, not {type(value).__name__}")
    return _INDEX_FILL, (index,), {"dim": dim, "value": _np_scalar(value, self.dtype)}


def index_fill(input, dim, index, value):
    """A copy of ``input`` with slices along ``dim`` at ``index`` set to ``value``."""
    op, args, kw = _index_fill_args(input, dim, index, value)
    return apply(op, (input,) + args, kw)


def index_fill_(self, dim, index, value):
    """In-place ``index_fill``."""
    op, args, kw = _index_fill_args(self, dim, index, value)
    return _inplace_op(op, self, args, kw, _index_fill_write if op is _INDEX_FILL else _index_fill_t_write,
                       overlap_ok=True)


# ---------------------------------------------------------------- masked_fill / masked_select / masked_scatter
def _masked_fill_vjp(g, out, x, mask, value):
    return g.masked_fill(mask, 0), None


def _masked_fill_t_vjp(g, out, x, mask, v, needs):
    gx = g.masked_fill(mask, 0) if needs[0] else None
    gv = g.masked_fill(mask.logical_not(), 0).sum() if needs[2] else None
    return gx, None, gv


_MASKED_FILL = defop("masked_fill", "raw", lambda xp, x, mask, value: xp.where(mask, value, x).astype(x.dtype, copy=False),
                     _masked_fill_vjp, nodiff=(1,), save_out=False, save_in=(None, True), node="MaskedFillBackward0",
                     shape=lambda xs, ms, value: _bshape(xs, ms))
_MASKED_FILL_T = defop("masked_fill_tensor", "raw", lambda xp, x, mask, v:
                       xp.where(mask, v.astype(x.dtype), x).astype(x.dtype, copy=False), _masked_fill_t_vjp,
                       nodiff=(1,), save_out=False, needs=True, save_in=(None, True, None), node="MaskedFillBackward1",
                       shape=lambda xs, ms, vs: _bshape(xs, ms))


def _mask_arg(self, mask, what):
    if not isinstance(mask, Tensor):
        raise TypeError(f"{what}(): argument 'mask' (position 1) must be Tensor, not {type(mask).__name__}")
    if mask._device is not self._device and mask._data.ndim != 0:
        if self._device.type == "cpu" and self._data.ndim == 0:
            pass
        else:
            raise RuntimeError(f"expected mask and self to be on the same device, but got mask on "
                               f"{mask._device} and self on {self._device}")
    return mask


def _masked_fill_args(self, mask, value):
    mask = _mask_arg(self, mask, "masked_fill")
    if mask.dtype is not D.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_MASK_CNAME.get(mask.dtype.name, mask.dtype.name)}")
    _bcast_or_raise(mask._data.shape, self._data.shape)
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        if value.dtype.category == 3 and self.dtype.category < 3:
            check_scalar(value.item(), self.dtype)
        if value._device is not self._device:
            value = _make(_arr(value, self._device), self._device)
        return _MASKED_FILL_T, (mask, value), {}
    if not _is_number(value):
        raise TypeError(f"masked_fill(): argument 'value' must be Number, not {type(value).__name__}")
    return _MASKED_FILL, (mask,), {"value": _np_scalar(value, self.dtype)}


def masked_fill(input, mask, value):
    """A copy of ``input`` with ``value`` where the bool ``mask`` (broadcast) is True."""
    op, args, kw = _masked_fill_args(input, mask, value)
    return apply(op, (input,) + args, kw)


def _masked_fill_write(xp, out, mask, value):
    m = xp.broadcast_to(mask, out.shape)
    out[m] = value
    return out


def masked_fill_(self, mask, value):
    """In-place ``masked_fill`` (``mask`` must broadcast to ``self``)."""
    op, args, kw = _masked_fill_args(self, mask, value)
    ms = mask._data.shape
    if ms != self._data.shape:
        try:
            bs = _bshape(self._data.shape, ms)
        except ValueError:
            raise _bcast_error(self._data.shape, ms) from None
        if bs != self._data.shape:
            raise RuntimeError(f"output with shape {_shape_str(self.shape)} doesn't match the broadcast shape "
                               f"{_shape_str(bs)}")
    if op is _MASKED_FILL:
        return _inplace_op(op, self, args, kw, _masked_fill_write, overlap_ok=True)
    return _inplace_op(op, self, args, kw, lambda xp, o, m, v: _masked_fill_write(xp, o, m, v.astype(o.dtype)),
                       overlap_ok=True)


def _masked_select_fwd(xp, x, mask, shape):
    return xp.broadcast_to(x, shape)[xp.broadcast_to(mask, shape)]


def _masked_select_vjp(g, out, x, mask, shape):
    return apply(_MASKED_SCATTER, (g.new_zeros(shape), mask, g), {"shape": shape}), None


_MASKED_SELECT = defop("masked_select", "raw", _masked_select_fwd, _masked_select_vjp, nodiff=(1,), save_out=False)


def _bcast_or_raise(a, b):
    try:
        return _bshape(a, b)
    except ValueError:
        raise _bcast_error(a, b) from None


def masked_select(input, mask, *, out=None):
    """The elements of ``input`` where the bool ``mask`` is True, as a 1-D tensor."""
    mask = _mask_arg(input, mask, "masked_select")
    if mask.dtype is not D.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = _bcast_or_raise(mask._data.shape, input._data.shape)
    if mask._device is not input._device:
        mask = _make(_arr(mask, input._device), input._device)
    r = apply(_MASKED_SELECT, (input, mask), {"shape": shape})
    return r if out is None else write_out(out, r)


def _masked_scatter_write(xp, out, mask, src):
    m = xp.broadcast_to(mask, out.shape)
    n = int(m.sum())
    out[m] = src.reshape(-1)[:n]
    return out


def _masked_scatter_fwd(xp, x, mask, src, shape):
    return _masked_scatter_write(xp, xp.broadcast_to(x, shape).copy(), mask, src)


def _masked_scatter_vjp(g, out, x, mask, src, needs, shape):
    gx = g.masked_fill(mask, 0) if needs[0] else None
    gs = None
    if needs[2]:
        sel = masked_select(g, mask)
        k = src._data.size - sel._data.size
        if k:
            sel = _F("cat")([sel, sel.new_zeros((k,))])
        gs = sel.reshape(src.shape)
    return gx, None, gs


_MASKED_SCATTER = defop("masked_scatter", "raw", _masked_scatter_fwd, _masked_scatter_vjp, nodiff=(1,), save_out=False,
                        needs=True, save_in=(None, True, None), shape=lambda xs, ms, ss, shape: shape)


def _masked_scatter_args(self, mask, source, inplace):
    mask = _mask_arg(self, mask, "masked_scatter")
    if mask.dtype is not D.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{_type_name(mask.dtype)}")
    if not isinstance(source, Tensor):
        raise TypeError(f"masked_scatter(): argument 'source' (position 2) must be Tensor, not "
                        f"{type(source).__name__}")
    if source.dtype is not self.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{_type_name(self.dtype)} and {_type_name(source.dtype)}")
    shape = _bcast_or_raise(mask._data.shape, self._data.shape)
    if inplace and shape != self._data.shape:
        raise _expand_error(mask, self._data.shape)
    if mask._device is not self._device:
        mask = _make(_arr(mask, self._device), self._device)
    if self._device.type != "meta":
        n = int(mask._device.backend.xp.broadcast_to(mask._data, shape).sum())
        if n > source._data.size:
            raise RuntimeError("Number of elements of source < number of ones in mask")
    return mask, shape


def _expand_error(t, sizes):
    """torch's error for expanding ``t`` (the mask) to ``sizes``."""
    nd = t._data.ndim
    kind = f"{'CUDA' if t._device.type == 'cuda' else 'CPU'}{_type_name(t.dtype)}Type"
    if len(sizes) < nd:
        return RuntimeError(f"expand({kind}{{{_shape_str(t.shape)}}}, size={_shape_str(sizes)}): the number of sizes "
                            f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in the "
                            f"tensor ({nd})")
    lead = len(sizes) - nd
    for d in range(nd):
        if t._data.shape[d] != 1 and t._data.shape[d] != sizes[lead + d]:
            return RuntimeError(f"The expanded size of the tensor ({sizes[lead + d]}) must match the existing size "
                                f"({t._data.shape[d]}) at non-singleton dimension {lead + d}.  Target sizes: "
                                f"{_shape_str(sizes)}.  Tensor sizes: {_shape_str(t.shape)}")
    return RuntimeError("masked_scatter_: mask does not broadcast to self")


def masked_scatter(input, mask, source):
    """A copy of ``input`` with consecutive elements of ``source`` written where ``mask`` is True."""
    mask, shape = _masked_scatter_args(input, mask, source, False)
    return apply(_MASKED_SCATTER, (input, mask, source), {"shape": shape})


def masked_scatter_(self, mask, source):
    """In-place ``masked_scatter``."""
    mask, shape = _masked_scatter_args(self, mask, source, True)
    return _inplace_op(_MASKED_SCATTER, self, (mask, source), {"shape": shape},
                       lambda xp, o, m, s, shape: _masked_scatter_write(xp, o, m, s))


# ---------------------------------------------------------------- take / put / take_along_dim
def _take_vjp(g, out, x, idx, shape):
    return apply(_PUT, (g.new_zeros(shape), idx, g), {"accumulate": True}), None


_TAKE = defop("take", "raw", lambda xp, x, idx, shape: x.reshape(-1)[idx], _take_vjp, nodiff=(1,), save_out=False,
              shape=lambda xs, ish, shape: ish)


def _put_write(xp, out, idx, src, accumulate):
    contig = out.flags.c_contiguous
    flat = out.reshape(-1)
    i = idx.reshape(-1)
    s = src.reshape(-1)
    if accumulate:
        _at(xp, "add", flat, i, s)
    else:
        flat[i] = s
    if not contig:  # reshape copied a non-contiguous out: write the result back
        out[...] = flat.reshape(out.shape)
    return out


def _put_vjp(g, out, x, idx, src, needs, accumulate):
    gx = gs = None
    if needs[0]:
        gx = g if accumulate else apply(_PUT, (g, idx, g.new_zeros(src.shape)), {"accumulate": False})
    if needs[2]:
        gs = take(g, idx).reshape(src.shape)
    return gx, None, gs


_PUT = defop("put", "raw", lambda xp, x, idx, src, accumulate: _put_write(xp, x.copy(), idx, src, accumulate),
             _put_vjp, nodiff=(1,), save_out=False, needs=True, save_in=(None, True, 2),
             shape=lambda xs, i, s, accumulate: xs)


def _check_flat_index(self, index, name):
    if index.dtype is not D.int64:
        raise RuntimeError(f"{name}(): Expected a long tensor for index, but got {_type_name(index.dtype)}")
    if self._device.type == "meta":
        return index
    n = self._data.size
    if n == 0 and index._data.size:
        raise IndexError(f"{name}(): tried to take from an empty tensor" if name == "take" else
                         f"put_(): Tried to put elements into an empty tensor")
    bad = _first_oob(_host(index), -n, n)
    if bad is not None:
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    if index._device is not self._device:
        index = _make(_arr(index, self._device), self._device)
    return index


def take(input, index, *, out=None):
    """Elements of ``input`` seen as 1-D, at ``index`` (output shaped like ``index``)."""
    index = _check_flat_index(input, index, "take")
    r = apply(_TAKE, (input, index), {"shape": tuple(input._data.shape)})
    return r if out is None else write_out(out, r)


def _put_args(self, index, source):
    if not isinstance(source, Tensor):
        raise TypeError(f"put_(): argument 'source' (position 2) must be Tensor, not {type(source).__name__}")
    if source.dtype is not self.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{_type_name(self.dtype)} and source.dtype = {_type_name(source.dtype)}")
    if index.dtype is not D.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {_type_name(index.dtype)}")
    if source._data.size != index._data.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source._data.size}, index.numel() = {index._data.size}")
    return _check_flat_index(self, index, "put_")


def put(input, index, source, accumulate=False):
    """A copy of ``input`` (seen as 1-D) with ``source`` written (or added) at ``index``."""
    index = _put_args(input, index, source)
    return apply(_PUT, (input, index, source), {"accumulate": bool(accumulate)})


def put_(self, index, source, accumulate=False):
    """In-place ``put``."""
    index = _put_args(self, index, source)
    return _inplace_op(_PUT, self, (index, source), {"accumulate": bool(accumulate)}, _put_write)


def take_along_dim(input, indices, dim=None, *, out=None):
    """``gather`` with ``input`` and ``indices`` broadcast against each other (or flattened if dim is None)."""
    if indices.dtype is not D.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{_type_name(indices.dtype)}")
    if dim is None:
        r = gather(input.reshape(-1), 0, indices.reshape(-1))
    else:
        nd = input._data.ndim
        if nd != indices._data.ndim:
            raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of "
                               f"dimensions, but got {nd} dimensions for input, and {indices._data.ndim} dimensions "
                               f"for indices")
        dim = wrap_dim(dim, nd)
        ish = list(input._data.shape)
        jsh = list(indices._data.shape)
        if nd:
            ish[dim] = jsh[dim] = 1
        b = list(_bcast_or_raise(tuple(ish), tuple(jsh)))
        xs, js = list(b), list(b)
        if nd:
            xs[dim] = input._data.shape[dim]
            js[dim] = indices._data.shape[dim]
        x = input.expand(xs)  # always, as torch's broadcast_to: its graph has the ExpandBackward0 node
        j = indices if tuple(js) == indices._data.shape else indices.expand(js)
        r = gather(x, dim, j.clone())  # torch gathers with a copy of the indices: changing them later is fine
    return r if out is None else write_out(out, r)


# ---------------------------------------------------------------- nonzero / argwhere
def _nonzero_fwd(xp, x):
    if x.ndim == 0:
        return xp.zeros((1 if x != 0 else 0, 0), dtype=np.int64)
    return xp.argwhere(x).astype(np.int64, copy=False)


_NONZERO = defop("nonzero", "raw", _nonzero_fwd)


def nonzero(input, *, out=None, as_tuple=False):
    """Indices of the non-zero elements: an (n, ndim) tensor, or one 1-D tensor per dim if ``as_tuple``."""
    if input._device.type == "meta":
        raise NotImplementedError("nonzero needs data and is not supported on meta tensors")
    r = apply(_NONZERO, (input,), {})
    if as_tuple:
        if input._data.ndim == 0:  # a 0-d input counts as 1-D here
            return (_make(input._device.backend.xp.zeros(r._data.shape[0], dtype=np.int64), input._device),)
        return tuple(_make(input._device.backend.xp.ascontiguousarray(r._data[:, d]), input._device)
                     for d in range(input._data.ndim))
    return r if out is None else write_out(out, r)


def argwhere(input):
    """Indices of the non-zero elements as an (n, ndim) tensor."""
    return nonzero(input)


# ---------------------------------------------------------------- methods
_T = Tensor
_T.__getitem__ = _getitem
_T.__setitem__ = _setitem
for _f in (index_select, gather, scatter, scatter_add, scatter_reduce, index_add, index_copy, index_fill,
           take_along_dim, scatter_, scatter_add_, scatter_reduce_, index_add_, index_copy_, index_fill_):
    globals()[_f.__name__] = axis_alias(_f)
for _n, _f in dict(index_select=index_select, gather=gather, scatter=scatter, scatter_add=scatter_add,
                   scatter_reduce=scatter_reduce, index_add=index_add, index_copy=index_copy,
                   index_fill=index_fill, masked_fill=masked_fill, masked_select=masked_select,
                   masked_scatter=masked_scatter, take=take, take_along_dim=take_along_dim, put=put,
                   index_put=index_put, nonzero=nonzero, argwhere=argwhere, scatter_=scatter_,
                   scatter_add_=scatter_add_, scatter_reduce_=scatter_reduce_, index_add_=index_add_,
                   index_copy_=index_copy_, index_fill_=index_fill_, masked_fill_=masked_fill_,
                   masked_scatter_=masked_scatter_, put_=put_, index_put_=index_put_, fill_=fill_, zero_=zero_,
                   copy_=copy_).items():
    setattr(_T, _n, _f)

FUNCS = dict(index_select=index_select, gather=gather, scatter=scatter, scatter_add=scatter_add,
             scatter_reduce=scatter_reduce, index_add=index_add, index_copy=index_copy, index_fill=index_fill,
             masked_fill=masked_fill, masked_select=masked_select, masked_scatter=masked_scatter, take=take,
             take_along_dim=take_along_dim, put=put, index_put=index_put, index_put_=index_put_, fill=fill,
             fill_=fill_, zero_=zero_, nonzero=nonzero, argwhere=argwhere)
