"""Memory formats (``contiguous_format``, ``channels_last``, ...) and the stride rules that go with them.

A tensor's layout is only its strides: ``channels_last`` is an NCHW tensor whose memory is ordered
N, H, W, C. The rules here decide which strides a new tensor gets: a named format's strides, or
``preserve_format`` (keep a dense input's strides exactly, else the same dimension order made dense).
Arrays with chosen strides are views of a flat buffer, so the storage stays one plain 1-D array.
"""
import numpy as np

from .backend import c_strides  # noqa: F401  (re-exported: MF.c_strides)


class memory_format:
    """The layout a tensor's memory is in (``ember.contiguous_format``, ``ember.channels_last``, ...)."""
    __slots__ = ("_name", "_rank")

    def __new__(cls, *args, **kwargs):
        raise TypeError("cannot create 'torch.memory_format' instances")

    def __repr__(self):
        return "torch." + self._name

    def __reduce__(self):
        return (_by_name, (self._name,))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


memory_format.__module__ = "ember"


def _make(name, rank):
    f = object.__new__(memory_format)
    f._name, f._rank = name, rank
    return f


contiguous_format = _make("contiguous_format", None)
channels_last = _make("channels_last", 4)
channels_last_3d = _make("channels_last_3d", 5)
preserve_format = _make("preserve_format", None)
legacy_contiguous_format = contiguous_format  # torch keeps the old name as the same object

_BY_NAME = {f._name: f for f in (contiguous_format, channels_last, channels_last_3d, preserve_format)}
# the order of dimensions from fastest- to slowest-varying in each channels-last format
_ORDER = {4: (1, 3, 2, 0), 5: (1, 4, 3, 2, 0)}


def _by_name(name):
    return _BY_NAME[name]


def check(fmt, fname, allow_none=True):
    """``fmt`` itself, or torch's TypeError when it is not a memory format."""
    if fmt is None and allow_none:
        return fmt
    if not isinstance(fmt, memory_format):
        raise TypeError(f"{fname}(): argument 'memory_format' must be torch.memory_format, not "
                        f"{type(fmt).__name__}")
    return fmt


def check_rank(fmt, ndim):
    if fmt._rank is not None and fmt._rank != ndim:
        raise RuntimeError(f"required rank {fmt._rank} tensor to use {fmt._name} format")


def format_strides(shape, fmt):
    """The strides of a new tensor of ``shape`` in format ``fmt`` (not preserve_format)."""
    if fmt._rank is None:
        if fmt is preserve_format:
            raise RuntimeError("unsupported memory format Preserve")
        return c_strides(shape)
    check_rank(fmt, len(shape))
    # unlike C order, a zero-size dimension zeroes the strides of the slower dimensions (as in torch)
    st, acc = [0] * len(shape), 1
    for d in _ORDER[fmt._rank]:
        st[d] = acc
        acc *= shape[d]
    return tuple(st)


def is_c_contiguous(shape, strides):
    if 0 in shape:  # an empty tensor is contiguous whatever its strides
        return True
    expected = 1
    for n, s in zip(reversed(shape), reversed(strides)):
        if n != 1 and s != expected:
            return False
        expected *= n
    return True


def is_contiguous_as(shape, strides, fmt):
    """``Tensor.is_contiguous(memory_format=fmt)``: strict strides of that format (size-1 dims aside)."""
    if fmt is None or fmt._rank is None:  # preserve_format asks the default question, as torch does
        return is_c_contiguous(shape, strides)
    if len(shape) != fmt._rank:
        return False
    expected = 1
    for d in _ORDER[fmt._rank]:
        if shape[d] != 1:
            if strides[d] != expected:
                return False
            expected *= shape[d]
    return True


def is_dense(shape, strides):
    """True when the elements fill their memory exactly once in some dimension order."""
    if is_c_contiguous(shape, strides):
        return True
    if len(shape) == 1:
        return shape[0] < 2 or strides[0] == 1
    # size-0/1 dimensions do not matter; the rest, fastest first, must tile memory without gaps
    dims = sorted((d for d in range(len(shape)) if shape[d] >= 2), key=lambda d: strides[d])
    need = 1
    for d in dims:
        if strides[d] != need:
            return False
        need *= shape[d]
    return True


def array_is_dense(a):
    """``is_dense`` of a NumPy/CuPy array (strides in bytes; one that is not a whole number of elements is not)."""
    isz = a.itemsize
    return all(s % isz == 0 for s in a.strides) and is_dense(a.shape, tuple(s // isz for s in a.strides))


def dense_strides(shape, strides):
    """Strides of a dense tensor that keeps the input's dimension order (fastest dimension first).

    Dimensions are ordered by stride; a zero stride (broadcast) gives no preference, so such a
    dimension keeps its C-order place; equal strides put the larger dimension outside.
    """
    nd = len(shape)
    perm = list(range(nd - 1, -1, -1))  # fastest first, C order to start with

    def after(d0, d1):  # 1: d0 must go outside d1; -1: must stay inside; 0: no preference
        s0, s1 = strides[d0], strides[d1]
        if s0 == 0 or s1 == 0:
            return 0
        if s0 != s1:
            return 1 if s0 > s1 else -1
        return 1 if shape[d0] > shape[d1] else 0

    for i in range(1, nd):  # stable insertion sort that may hop over no-preference dimensions
        j = i
        for k in range(i - 1, -1, -1):
            c = after(perm[k], perm[j])
            if c > 0:
                perm[k], perm[j] = perm[j], perm[k]
                j = k
            elif c < 0:
                break
    out, acc = [0] * nd, 1
    for d in perm:
        out[d] = acc
        if shape[d] > 1:
            acc *= shape[d]
    return tuple(out)


def preserve_strides(shape, strides):
    """torch's ``preserve_format``: a dense input's strides as they are, else a dense same-order layout."""
    return tuple(strides) if is_dense(shape, strides) else dense_strides(shape, strides)


def _is_channels_last_like(shape, strides, order):
    # Strides non-decreasing along the channels-last order. A tensor whose strides fit both C order
    # and channels-last equally (N,1,1,1 shapes) counts as C order, as in torch.
    if strides[1] == 0:
        return False
    lo = 0
    for d in order:
        if shape[d] == 0 or strides[d] < lo:
            return False
        if d == 0 and lo == strides[1]:
            return False
        lo = strides[d] * (shape[d] if shape[d] > 1 else 1)
    return True


def suggest(shape, strides):
    """The format a tensor's strides look like (torch's ``suggest_memory_format``)."""
    nd = len(shape)
    if nd in _ORDER and _is_channels_last_like(shape, strides, _ORDER[nd]):
        return channels_last if nd == 4 else channels_last_3d
    return contiguous_format


def storage_extent(shape, strides):
    """Elements of memory a tensor with these sizes and strides spans (0 when it is empty)."""
    if any(n == 0 for n in shape):
        return 0
    return 1 + sum((n - 1) * s for n, s in zip(shape, strides))


def alloc_xp(xp, shape, npdt, strides):
    """A new uninitialised NumPy/CuPy array with the given element strides, viewing a flat buffer."""
    shape, strides = tuple(shape), tuple(strides)
    npdt = np.dtype(npdt)
    if strides == c_strides(shape):
        return xp.empty(shape, npdt)
    flat = xp.empty((storage_extent(shape, strides),), npdt)
    bst = tuple(s * npdt.itemsize for s in strides)
    if xp is np:
        return np.ndarray(shape, npdt, buffer=flat, strides=bst)
    return xp.lib.stride_tricks.as_strided(flat, shape, bst)


def alloc(backend, shape, npdt, strides):
    """``alloc_xp`` on a device backend (meta arrays carry the strides but no memory)."""
    if not backend.is_meta:
        return alloc_xp(backend.xp, shape, npdt, strides)
    shape, strides = tuple(shape), tuple(strides)
    if strides == c_strides(shape):
        return backend.empty(shape, npdt)
    npdt = np.dtype(npdt)
    flat = backend.empty((storage_extent(shape, strides),), npdt)
    return np.lib.stride_tricks.as_strided(flat, shape, tuple(s * npdt.itemsize for s in strides),
                                           writeable=False)


def plainly_c(a):
    """True when a NumPy/CuPy array's strides are exactly C order's (cheap; False may still be C)."""
    return a.flags.c_contiguous and a.size > 0 and 1 not in a.shape


def array_strides(a):
    """Element strides of an array, with torch's C strides for a new empty one (NumPy zeroes them)."""
    isz = a.itemsize
    st = tuple(s // isz for s in a.strides)
    if not a.size and not any(st):
        st = c_strides(a.shape)
    return st


def relayout(backend, a, strides):
    """``a``'s values in a new array with ``strides`` (``a`` itself when it already has them)."""
    if array_strides(a) == tuple(strides):
        return a
    out = alloc(backend, a.shape, a.dtype, strides)
    if not backend.is_meta and a.size:
        out[...] = a
    return out


def target_strides(shape, strides, fmt):
    """Strides for a copy of a tensor in ``fmt`` (None and preserve_format keep the layout)."""
    if fmt is None or fmt is preserve_format:
        return preserve_strides(shape, strides)
    return format_strides(shape, fmt)


# ---------------------------------------------------------------- layouts of op results
def restride_(t, strides):
    """Give a freshly made op result ``t`` new strides in place (same values, same tensor object).

    Only for results nothing else views yet: the storage object (and its version counter, which
    autograd may have recorded) is kept and pointed at the new memory.
    """
    strides = tuple(strides)
    if t.stride() == strides:
        return t
    from ._storage import root_of
    t._data = relayout(t._device.backend, t._data, strides)
    st = t.__dict__.get("_stor")
    if st is not None:
        st._root = root_of(t._data)
    return t


def suggested_format(*tensors):
    """channels_last(_3d) when one of ``tensors`` (4-D or 5-D) is laid out that way, else contiguous_format."""
    for x in tensors:
        if x is not None and x._data.ndim in _ORDER:
            f = suggest(x._data.shape, x.stride())
            if f is not contiguous_format:
                return f
    return contiguous_format


def layout_like_(out, *inputs, fmt=None):
    """torch's rule for conv/pool/norm results: ``fmt`` (default: the first input's channels-last
    format, if any), else C order. ``out`` must be a fresh result of the same rank."""
    if fmt is None:
        fmt = suggested_format(*inputs)
    if fmt._rank is not None and fmt._rank != out._data.ndim:
        fmt = contiguous_format
    return restride_(out, format_strides(out._data.shape, fmt))
