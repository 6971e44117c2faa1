"""Sorting and selection: sort/argsort/msort, topk, kthvalue, unique/unique_consecutive,
searchsorted/bucketize, bincount, histc, histogram.

Orders come from stable argsorts with NaN as the largest value, which is what torch's CPU sort
gives (even with ``stable=False``). The values of sort/topk/kthvalue are gathered by ops whose vjp
scatters the gradient back to the selected positions (and whose own vjp gathers again).
"""
import math
import operator
import warnings
from fractions import Fraction

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, wrap_dim
from ..autograd import grad_mode
from ._registry import apply, defop, renamed, write_out
from .reduce import return_type

_gm = grad_mode.state
_BF16 = D.bfloat16.np

sort_rt, topk_rt, kthvalue_rt = return_type("sort"), return_type("topk"), return_type("kthvalue")
sort_out_rt, topk_out_rt, kthvalue_out_rt = (return_type("sort_out"), return_type("topk_out"),
                                             return_type("kthvalue_out"))
histogram_rt = return_type("histogram", ("hist", "bin_edges"))
histogram_out_rt = return_type("histogram_out", ("hist", "bin_edges"))

# ---------------------------------------------------------------- argument and error helpers
# C++ type names, as torch's out= dtype errors print them
_CT = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
       "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
       "uint16": "short unsigned int", "uint32": "unsigned int", "uint64": "long unsigned int", "bool": "bool",
       "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}
# ScalarType names, as torch's "not implemented for" errors print them
_TN = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
       "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "uint16": "UInt16", "uint32": "UInt32",
       "uint64": "UInt64", "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}

_META_MSG = ("attempted to run this operator with Meta tensors, but there was no fake impl or Meta kernel "
             "registered. You may have run into this message while using an operator with PT2 compilation APIs "
             "(torch.compile/torch.export); in order to use this operator with those APIs you'll need to add a fake "
             "impl. Please see the following for next steps:  "
             "https://pytorch.org/tutorials/advanced/custom_ops_landing_page.html")


def _ct(dt):
    return _CT.get(dt.name, dt.name)


def _not_impl(kernel, dt):
    raise NotImplementedError(f"\"{kernel}\" not implemented for '{_TN.get(dt.name, dt.name)}'")


def _no_meta(t, aten_name):
    if t._device.type == "meta":
        raise NotImplementedError(f"aten::{aten_name}: {_META_MSG}")


def _check_tensor(name, x, arg="input", pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")


def _int_arg(name, v, arg, pos):
    if v is None:
        raise TypeError(f"{name}(): argument '{arg}' must be int, not NoneType")
    if isinstance(v, (bool, float, complex, str)):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be int, not {type(v).__name__}")
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be int, not {type(v).__name__}") from None


def _dim_arg(name, dim, t, pos=2):
    return wrap_dim(_int_arg(name, dim, "dim", pos), t._data.ndim)


def _grad_on(*ts):
    return _gm.enabled and any(isinstance(t, Tensor) and t._rg for t in ts)


def _resize_warn(out, shape):
    if out._data.size and tuple(out._data.shape) != tuple(shape):
        warnings.warn(f"An output with one or more elements was resized since it had shape {list(out.shape)}, "
                      f"which does not match the required output shape {list(shape)}. This behavior is "
                      f"deprecated, and in a future PyTorch release outputs will not be resized unless they have "
                      f"zero elements. You can explicitly reuse an out tensor t by resizing it, inplace, to zero "
                      f"elements with t.resize_(0).", UserWarning, stacklevel=4)


def _write(out, res):
    _resize_warn(out, res._data.shape)
    return write_out(out, res)


def _out_pair(name, out):
    if not isinstance(out, (tuple, list)):
        raise TypeError(f"{name}(): argument 'out' must be tuple of Tensors, not {type(out).__name__}")
    if len(out) != 2:
        raise TypeError(f"expected tuple of 2 elements but got {len(out)}")
    for i, o in enumerate(out):
        if not isinstance(o, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 'out', but got {type(o).__name__}")
    return out


def _no_grad_out(name, *ts):
    if _grad_on(*ts):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                           f"but one of the arguments requires grad.")


def _expect_dtype(o, dt):
    if o.dtype is not dt:
        raise RuntimeError(f"Expected out tensor to have dtype {_ct(dt)}, but got {_ct(o.dtype)} instead")


def bin_range(xp, x, rng, dim):
    """The (lo, hi) that equal-width bins of dimension ``dim`` span: the pair ``rng`` if given, else the data's
    own range (0..1 for no data), checked and widened by 0.5 each way when empty, as torch's histogramdd does."""
    if rng is not None:
        lo, hi = float(rng[0]), float(rng[1])
    elif x.size:
        lo, hi = float(xp.min(x)), float(xp.max(x))
    else:
        lo, hi = 0.0, 1.0
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histogramdd: dimension {dim}'s range [{_fmt(lo)}, {_fmt(hi)}] is not finite")
    if lo > hi:
        raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {_fmt(lo)} max {_fmt(hi)} "
                           f"for dimension {dim}")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def _fmt(v, from_data=False):
    """A double as C++'s ostream prints it (6 significant digits); data-derived NaN prints as -nan."""
    if math.isnan(v):
        return "-nan" if from_data or math.copysign(1.0, v) < 0 else "nan"
    return "%g" % v


# ---------------------------------------------------------------- the sorting kernel
def _sortable(x):
    # NumPy orders NaN last for float32/64; the 2-byte floats are widened (exactly) to get the same order
    if x.dtype == np.float16 or x.dtype == _BF16:
        return x.astype(np.float32)
    return x


def _argsort_arr(xp, x, axis, descending):
    """Stable argsort along ``axis``; NaN sorts as the largest value (last ascending, first descending)."""
    x = _sortable(x)
    kw = {"kind": "stable"} if xp is np else {}
    if not descending:
        return xp.argsort(x, axis=axis, **kw).astype(np.int64, copy=False)
    # stable descending: sort the reversed rows ascending and reverse back, so equal keys keep their
    # original order (what torch's CPU sort does) and NaN comes first
    n = x.shape[axis]
    r = xp.argsort(xp.flip(x, axis), axis=axis, **kw)
    return ((n - 1) - xp.flip(r, axis)).astype(np.int64, copy=False)


# ---------------------------------------------------------------- replaying libstdc++ on tied rows
# torch's CPU sort with stable=False calls std::sort, and topk calls std::partial_sort or
# std::nth_element (+ std::sort). Which of several equal elements lands where follows those
# algorithms' exact steps, so rows with ties are replayed here step by step as GNU libstdc++ (torch's
# Linux builds) runs them. Values are replaced by dense ranks under torch's comparator (NaN largest,
# all NaNs equivalent; negated for descending order), so every comparison is a plain ``<`` on ints.
# Long partitions run in NumPy, short ones on Python lists.
_S_THRESHOLD = 16   # libstdc++'s insertion-sort threshold
_VEC_MIN = 128      # segments at least this long are partitioned with NumPy


def _swap(a, b, i, j):
    a[i], a[j] = a[j], a[i]
    b[i], b[j] = b[j], b[i]


def _median_to_first(a, b, res, x, y, z):
    if a[x] < a[y]:
        if a[y] < a[z]:
            _swap(a, b, res, y)
        elif a[x] < a[z]:
            _swap(a, b, res, z)
        else:
            _swap(a, b, res, x)
    elif a[x] < a[z]:
        _swap(a, b, res, x)
    elif a[y] < a[z]:
        _swap(a, b, res, z)
    else:
        _swap(a, b, res, y)


def _partition_list(a, b, f, l):
    """Median-of-three pivot moved to ``f``, then an unguarded Hoare partition of (f, l); returns the cut."""
    _median_to_first(a, b, f, f + 1, f + (l - f) // 2, l - 1)
    p = a[f]
    first, last = f + 1, l
    while True:
        while a[first] < p:
            first += 1
        last -= 1
        while p < a[last]:
            last -= 1
        if first >= last:
            return first
        a[first], a[last] = a[last], a[first]
        b[first], b[last] = b[last], b[first]
        first += 1


def _push_heap(a, b, first, hole, top, val, vi):
    parent = (hole - 1) // 2
    while hole > top and a[first + parent] < val:
        a[first + hole], b[first + hole] = a[first + parent], b[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    a[first + hole], b[first + hole] = val, vi


def _adjust_heap(a, b, first, hole, length, val, vi):
    top = child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if a[first + child] < a[first + child - 1]:
            child -= 1
        a[first + hole], b[first + hole] = a[first + child], b[first + child]
        hole = child
    if length & 1 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        a[first + hole], b[first + hole] = a[first + child - 1], b[first + child - 1]
        hole = child - 1
    _push_heap(a, b, first, hole, top, val, vi)


def _make_heap(a, b, first, last):
    n = last - first
    if n < 2:
        return
    parent = (n - 2) // 2
    while True:
        _adjust_heap(a, b, first, parent, n, a[first + parent], b[first + parent])
        if parent == 0:
            return
        parent -= 1


def _pop_heap(a, b, first, last, res):
    val, vi = a[res], b[res]
    a[res], b[res] = a[first], b[first]
    _adjust_heap(a, b, first, 0, last - first, val, vi)


def _sort_heap(a, b, first, last):
    while last - first > 1:
        last -= 1
        _pop_heap(a, b, first, last, last)


def _heap_select_list(a, b, first, middle, last):
    _make_heap(a, b, first, middle)
    for i in range(middle, last):
        if a[i] < a[first]:
            _pop_heap(a, b, first, middle, i)


def _insertion_sort(a, b, first, last):
    for i in range(first + 1, last):
        val, vi = a[i], b[i]
        if val < a[first]:
            a[first + 1:i + 1], b[first + 1:i + 1] = a[first:i], b[first:i]
            a[first], b[first] = val, vi
        else:
            j = i
            while val < a[j - 1]:
                a[j], b[j] = a[j - 1], b[j - 1]
                j -= 1
            a[j], b[j] = val, vi


def _introsort_list(a, b, f, l, depth):
    while l - f > _S_THRESHOLD:
        if depth == 0:  # heapsort the rest (std::__partial_sort(f, l, l))
            _heap_select_list(a, b, f, l, l)
            _sort_heap(a, b, f, l)
            return
        depth -= 1
        cut = _partition_list(a, b, f, l)
        _introsort_list(a, b, cut, l, depth)
        l = cut


def _introselect_list(a, b, f, nth, l, depth):
    while l - f > 3:
        if depth == 0:
            _heap_select_list(a, b, f, nth + 1, l)
            _swap(a, b, f, nth)
            return
        depth -= 1
        cut = _partition_list(a, b, f, l)
        if cut <= nth:
            f = cut
        else:
            l = cut
    _insertion_sort(a, b, f, l)


class _Replay:
    """One row as (rank keys, original indices), rearranged exactly as libstdc++'s algorithms would."""

    def __init__(self, vals, desc):
        v = np.asarray(vals)
        if v.dtype == np.bool_:
            v = v.astype(np.int8)
        # np.unique orders NaN last and treats NaNs (and -0.0/0.0) as equal: the comparator's classes
        _, key, counts = np.unique(v, return_inverse=True, return_counts=True)
        key = key.reshape(-1).astype(np.int64)
        self.v = -key if desc else key
        self.sign = -1 if desc else 1
        self.dup = counts > 1  # per rank: the value occurs more than once in the row
        self.ix = np.arange(v.shape[0], dtype=np.int64)

    def _lists(self, f, l):
        return self.v[f:l].tolist(), self.ix[f:l].tolist()

    def _store(self, f, a, b):
        self.v[f:f + len(a)] = a
        self.ix[f:f + len(b)] = b

    def partition(self, f, l):
        """The vectorised form of ``_partition_list``: the Hoare scans pair the i-th element from the
        left that is not below the pivot with the i-th from the right that is not above it, and swap
        pairs until the two sequences cross."""
        v, ix = self.v, self.ix
        mid = f + (l - f) // 2
        a, b = [v[f].item(), v[f + 1].item(), v[mid].item(), v[l - 1].item()], [f, f + 1, mid, l - 1]
        _median_to_first(a, b, 0, 1, 2, 3)
        m = b[0]  # where the pivot came from
        v[f], v[m] = v[m], v[f]
        ix[f], ix[m] = ix[m], ix[f]
        p = v[f]
        seg = v[f + 1:l]
        L = np.flatnonzero(seg >= p) + (f + 1)
        R = (np.flatnonzero(seg <= p) + (f + 1))[::-1]
        k = min(L.size, R.size)
        n = int(np.count_nonzero(L[:k] < R[:k]))
        if n:
            Lm, Rm = L[:n], R[:n]
            v[Lm], v[Rm] = v[Rm], v[Lm]
            ix[Lm], ix[Rm] = ix[Rm], ix[Lm]
        cut = int(L[n]) if n < L.size else l
        if n and int(R[n - 1]) < cut:
            cut = int(R[n - 1])
        return cut

    def has_ties(self, f, l):
        """Whether [f, l) may hold two equal values (conservatively: a value that occurs twice in the row)."""
        return bool(self.dup[self.v[f:l] * self.sign].any())

    def stable(self, f, l):
        perm = np.argsort(self.v[f:l], kind="stable")
        self.v[f:l], self.ix[f:l] = self.v[f:l][perm], self.ix[f:l][perm]

    def sort(self, f, l):
        """std::sort on [f, l)."""
        n = l - f
        if n < 2:
            return
        stack = [(f, l, 2 * (n.bit_length() - 1))]
        while stack:
            f0, l0, d = stack.pop()
            # the stable pass at the end orders a segment without ties inside it the same way whatever
            # its arrangement (equal values in different segments never swap): such segments are skipped
            while l0 - f0 >= _VEC_MIN and d and self.has_ties(f0, l0):
                d -= 1
                cut = self.partition(f0, l0)
                stack.append((cut, l0, d))
                l0 = cut
            if l0 - f0 > _S_THRESHOLD and self.has_ties(f0, l0):
                a, b = self._lists(f0, l0)
                _introsort_list(a, b, 0, l0 - f0, d)
                self._store(f0, a, b)
        # the final insertion sort moves elements only past strictly greater ones: a stable sort
        self.stable(f, l)

    def nth_element(self, f, nth, l):
        if f == l or nth == l:
            return
        depth = 2 * ((l - f).bit_length() - 1)
        while l - f >= _VEC_MIN and depth:
            depth -= 1
            cut = self.partition(f, l)
            if cut <= nth:
                f = cut
            else:
                l = cut
        a, b = self._lists(f, l)
        _introselect_list(a, b, 0, nth - f, l - f, depth)
        self._store(f, a, b)

    def partial_sort(self, first, middle, last):
        """std::partial_sort: a heap of the first elements, fed every later element that beats its top."""
        a, b = self._lists(first, middle)
        _make_heap(a, b, 0, len(a))
        i, chunk = middle, 64
        while i < last:
            seg = self.v[i:min(last, i + chunk)]
            hit = np.flatnonzero(seg < a[0])
            if hit.size == 0:
                i += seg.size
                chunk = min(chunk * 2, 1 << 16)
                continue
            j = i + int(hit[0])
            val, vi = int(self.v[j]), int(self.ix[j])
            self.v[j], self.ix[j] = a[0], b[0]
            _adjust_heap(a, b, 0, 0, len(a), val, vi)
            i = j + 1
        _sort_heap(a, b, 0, len(a))
        self._store(first, a, b)


def _rows_last(x, dim):
    """``x`` with ``dim`` moved last, as (rows, n)."""
    return np.moveaxis(x, dim, -1).reshape(-1, x.shape[dim])


def _tied(s, upto=None):
    """Rows of sorted ``s`` (rows, n) with two equal neighbours among the first ``upto`` + 1 (NaN == NaN)."""
    m = s.shape[1] - 1 if upto is None else min(upto, s.shape[1] - 1)
    if m <= 0:
        return np.zeros(s.shape[0], bool)
    return np.any(_same(s[:, 1:m + 1], s[:, :m]), axis=1)


def _replay_rows(x, dim, idx, rows, fn):
    """Replace ``idx`` (indices along ``dim``) in the given rows by ``fn(row values) -> indices``."""
    vals = _rows_last(_sortable(x), dim)
    moved = np.moveaxis(idx, dim, -1)
    flat = moved.reshape(-1, moved.shape[-1]).copy()
    for r in rows.tolist():
        flat[r] = fn(vals[r])
    return np.ascontiguousarray(np.moveaxis(flat.reshape(moved.shape), -1, dim))


def _host(xp, a):
    return a if xp is np else xp.asnumpy(a)


def _argsort_fwd(xp, x, dim, descending, stable=True, radix=False):
    if x.ndim == 0:
        return xp.zeros((), np.int64)
    idx = _argsort_arr(xp, x, dim, descending)
    n = x.shape[dim]
    # std::sort is an insertion sort up to 16 elements; a zero stride (expanded) dim is left unsorted;
    # big 1-D integer tensors go through a (stable) radix sort
    if stable or radix or n <= _S_THRESHOLD or x.size == 0 or x.strides[dim] == 0:
        return idx
    h, hi = _host(xp, x), _host(xp, idx)
    rows = np.flatnonzero(_tied(_rows_last(np.take_along_axis(_sortable(h), hi, axis=dim), dim)))
    if rows.size == 0:  # no ties: every correct sort gives the same order
        return idx
    return xp.asarray(_replay_rows(h, dim, hi, rows, lambda vals: _sort_row(vals, descending)))


def _sort_row(vals, descending):
    r = _Replay(vals, descending)
    r.sort(0, vals.shape[0])
    return r.ix


def _topk_row(vals, k, largest, sorted_):
    n = vals.shape[0]
    r = _Replay(vals, largest)
    if k * 64 <= n:
        r.partial_sort(0, k, n)
    else:
        r.nth_element(0, k - 1, n)
        if sorted_:
            r.sort(0, k - 1)
    return r.ix[:k]


def _topk_fwd(xp, x, dim, k, largest, sorted):
    if x.ndim == 0:
        return xp.zeros((), np.int64)
    full = _argsort_arr(xp, x, dim, largest)
    sl = [slice(None)] * x.ndim
    sl[dim] = slice(0, k)
    idx = xp.ascontiguousarray(full[tuple(sl)])
    n = x.shape[dim]
    if k == 0 or x.size == 0:
        return idx
    h = _host(xp, x)
    if k >= 2 and not sorted and k * 64 > n:
        # std::nth_element leaves the top k in an order of its own: replay every row
        rows = np.arange(x.size // n)
    else:  # the result is the sorted top k: only ties among those (or at the k-th place) can differ
        s = np.take_along_axis(_sortable(h), _host(xp, full), axis=dim)
        rows = np.flatnonzero(_tied(_rows_last(s, dim), k))
    if rows.size == 0:
        return idx
    return xp.asarray(_replay_rows(h, dim, _host(xp, idx), rows, lambda vals: _topk_row(vals, k, largest, sorted)))


_ARGSORT = defop("argsort", "raw", _argsort_fwd)
_TOPK_IDX = defop("topk_indices", "raw", _topk_fwd)


# ---------------------------------------------------------------- value selection with gradients
def _index_grid(xp, idx, axis):
    """The full index tuple that addresses ``idx`` positions along ``axis`` (others: their own index)."""
    ix = []
    for a, n in enumerate(idx.shape):
        if a == axis:
            ix.append(idx)
        else:
            sh = [1] * idx.ndim
            sh[a] = n
            ix.append(xp.arange(n).reshape(sh))
    return tuple(ix)


def _take_fwd(xp, x, idx, dim, oshape, ishape):
    if x.ndim == 0:
        x = x.reshape(1)
    return x[_index_grid(xp, idx, dim)].reshape(oshape)


def _take_vjp(g, out, x, idx, dim, oshape, ishape):
    return apply(_PUT, (g,), {"idx": idx, "dim": dim, "ishape": ishape, "oshape": oshape})


def _put_fwd(xp, g, idx, dim, ishape, oshape):
    r = xp.zeros(ishape if ishape else (1,), g.dtype)
    r[_index_grid(xp, idx, dim)] = g.reshape(idx.shape)
    return r.reshape(ishape)


def _put_vjp(gg, out, g, idx, dim, ishape, oshape):
    return apply(_TAKE, (gg,), {"idx": idx, "dim": dim, "oshape": oshape, "ishape": ishape})


def _take_shape(s, idx, dim, oshape, ishape):
    return oshape


_TAKE_OPTS = dict(save_in=False, save_out=False, shape=_take_shape)
_SORT_VALUES = defop("sort_values", "raw", _take_fwd, _take_vjp, node="SortBackward0", **_TAKE_OPTS)
_SORT_STABLE = renamed(_SORT_VALUES, "SortBackward1")
_TOPK_VALUES = defop("topk_values", "raw", _take_fwd, _take_vjp, node="TopkBackward0", **_TAKE_OPTS)
_KTH_VALUES = defop("kthvalue_values", "raw", _take_fwd, _take_vjp, node="KthvalueBackward0", **_TAKE_OPTS)
_TAKE = defop("_take_along", "raw", _take_fwd, _take_vjp, node="GatherBackward0", **_TAKE_OPTS)
# max(dim) / min(dim) values (reduce.py): the same selection under torch's node names
_MAX_VALUES = defop("max_values", "raw", _take_fwd, _take_vjp, node="MaxBackward0", **_TAKE_OPTS)
_MIN_VALUES = defop("min_values", "raw", _take_fwd, _take_vjp, node="MinBackward0", **_TAKE_OPTS)
_PUT = defop("_put_along", "raw", _put_fwd, _put_vjp, node="ValueSelectingReductionBackward0", save_in=False,
             save_out=False, shape=lambda s, idx, dim, ishape, oshape: ishape)


def _indices(op, input, kw, shape):
    """Run an index-producing op; on the meta device only the shape is known."""
    be = input._device.backend
    if be.is_meta:
        return Tensor._make(be.empty(tuple(shape), np.int64), input._device)
    return apply(op, (input,), kw)


def _select(op, x, idx, dim, oshape):
    """``x``'s values at ``idx`` along ``dim`` (idx in keepdim/1-d form), shaped ``oshape``."""
    ia = idx._data
    if ia.ndim == 0:
        ia = ia.reshape(1)
    if _grad_on(x):
        ia = ia.copy()  # the graph's own copy: an in-place edit of the returned indices can't change the grad
    return apply(op, (x,), {"idx": ia, "dim": dim, "oshape": tuple(oshape), "ishape": tuple(x._data.shape)})


# ---------------------------------------------------------------- sort / argsort / msort
def _no_complex_sort(t):
    if t.dtype.category == 3:
        raise RuntimeError(" Sort does not support complex dtypes on CPU")


def _sort_kw(t, d, descending, stable):
    radix = (t._data.ndim == 1 and t.dtype.category == 1 and not descending and t._data.size >= 32768)
    return {"dim": d, "descending": bool(descending), "stable": bool(stable), "radix": radix}


_SORT_SIGS = {False: " * (Tensor input, *, bool stable, int dim = -1, bool descending = False, tuple of Tensors out "
                     "= None)\n * (Tensor input, int dim = -1, bool descending = False, *, tuple of Tensors out = None)"
                     "\n",
              True: " * (*, bool stable, int dim = -1, bool descending = False)\n * (int dim = -1, bool descending = "
                    "False)\n      didn't match because some of the keywords were incorrect: stable\n"}


def _sort_args(args, kw, method):
    """(dim, descending, stable) from torch's two overloads: ``(dim=-1, descending=False)``, or, once
    ``stable=`` is given (even None), ``(*, stable, dim=-1, descending=False)``: all keyword-only."""
    n = len(args)
    if n > 2 or ("stable" in kw and n) or (n and "dim" in kw) or (n == 2 and "descending" in kw) or \
            set(kw) - {"dim", "descending", "stable"}:
        got = [type(a).__name__ if not isinstance(a, Tensor) else "Tensor" for a in args]
        got += [f"{k}={type(v).__name__}" for k, v in reversed(kw.items())]
        if not method:
            got.insert(0, "Tensor")
        raise TypeError(f"sort() received an invalid combination of arguments - got ({', '.join(got)}), but expected "
                        f"one of:\n{_SORT_SIGS[method]}")
    return (args[0] if n else kw.get("dim", -1), args[1] if n > 1 else kw.get("descending", False),
            kw.get("stable"), "stable" in kw)


def sort(input, *args, out=None, **kw):
    """Sort along ``dim``: (values, indices); stable, NaN treated as the largest value.

    ``sort(input, dim=-1, descending=False, *, stable=None, out=None)``, with torch's overload rule: when
    ``stable=`` is given, ``dim`` and ``descending`` must be keywords.
    """
    _check_tensor("sort", input)
    dim, descending, stable, given = _sort_args(args, kw, False)
    return _sort(input, dim, descending, stable, given, out)


def _sort(input, dim, descending, stable, given, out):
    d = _dim_arg("sort", dim, input)
    _no_complex_sort(input)
    if out is not None:
        _out_pair("sort", out)
        _no_grad_out("sort", input)
        _expect_dtype(out[0], input.dtype)
        _expect_dtype(out[1], D.int64)
    idx = _indices(_ARGSORT, input, _sort_kw(input, d, descending, stable), input._data.shape)
    # torch names the node by overload: sort(stable=...) is SortBackward1
    values = _select(_SORT_STABLE if given else _SORT_VALUES, input, idx, d, input._data.shape)
    if out is None:
        return sort_rt(values, idx)
    return sort_out_rt(_write(out[0], values), _write(out[1], idx))


def argsort(input, dim=-1, descending=False, *, stable=False, out=None):
    """Indices that sort ``input`` along ``dim`` (stable; int64)."""
    _check_tensor("argsort", input)
    d = _dim_arg("argsort", dim, input)
    _no_complex_sort(input)
    if out is not None:
        _expect_dtype(out, D.int64)
    r = _indices(_ARGSORT, input, _sort_kw(input, d, descending, stable), input._data.shape)
    return r if out is None else _write(out, r)


def msort(input, *, out=None):
    """Sort along the first dimension (values only)."""
    _check_tensor("msort", input)
    if out is not None:
        _no_grad_out("sort", input)
        _expect_dtype(out, input.dtype)
    r = sort(input, 0).values
    return r if out is None else _write(out, r)


# ---------------------------------------------------------------- topk / kthvalue
def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """The ``k`` largest (or smallest) elements along ``dim``: (values, indices); NaN counts as largest."""
    _check_tensor("topk", input)
    k = _int_arg("topk", k, "k", 2)
    d = _dim_arg("topk", dim, input, 3)
    n = input._data.shape[d] if input._data.ndim else 1
    if k < 0 or k > n:
        raise RuntimeError("selected index k out of range")
    if input.dtype is D.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    if input.dtype.category == 3:
        raise RuntimeError(" topk does not support complex dtypes on CPU")
    if out is not None:
        _out_pair("topk", out)
        _no_grad_out("topk", input)
        _expect_dtype(out[0], input.dtype)
        _expect_dtype(out[1], D.int64)
    oshape = list(input._data.shape)
    if oshape:
        oshape[d] = k
    idx = _indices(_TOPK_IDX, input, {"dim": d, "k": k, "largest": bool(largest), "sorted": bool(sorted)},
                   oshape)
    values = _select(_TOPK_VALUES, input, idx, d, oshape)
    if out is None:
        return topk_rt(values, idx)
    return topk_out_rt(_write(out[0], values), _write(out[1], idx))


def _gt_or_nan(a, b):
    return (a != a and b == b) or a > b


def _quickselect(vals, k):
    """Index (into ``vals``) that torch's CPU kthvalue picks: median-of-three quickselect, NaN largest.

    Only called for rows where several elements tie with the k-th value; the pick among them depends on
    the partitioning steps, which this reproduces.
    """
    a = list(vals)
    ind = list(range(len(a)))

    def swap(i, j):
        a[i], a[j] = a[j], a[i]
        ind[i], ind[j] = ind[j], ind[i]

    lo, hi = 0, len(a) - 1
    while hi > lo:
        if hi == lo + 1:
            if _gt_or_nan(a[lo], a[hi]):
                swap(lo, hi)
            break
        swap(lo + (hi - lo) // 2, lo + 1)
        if _gt_or_nan(a[lo + 1], a[hi]):
            swap(lo + 1, hi)
        if _gt_or_nan(a[lo], a[hi]):
            swap(lo, hi)
        if _gt_or_nan(a[lo + 1], a[lo]):
            swap(lo + 1, lo)
        i, j, piv = lo + 1, hi, a[lo]
        while True:
            i += 1
            while _gt_or_nan(piv, a[i]):
                i += 1
            j -= 1
            while _gt_or_nan(a[j], piv):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(lo, j)
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1
    return ind[k]


def _same(a, b):
    return (a == b) | ((a != a) & (b != b))


def _kth_fwd(xp, x, dim, k):
    if x.ndim == 0:
        return xp.zeros((1,), np.int64)
    order = _argsort_arr(xp, x, dim, False)
    sl = [slice(None)] * x.ndim
    sl[dim] = slice(k - 1, k)
    idx = xp.ascontiguousarray(order[tuple(sl)])
    n = x.shape[dim]
    if n <= 1 or x.size == 0:
        return idx
    # rows where another element equals the k-th value: pick among the ties the way torch does
    s = xp.moveaxis(xp.take_along_axis(_sortable(x), order, axis=dim), dim, -1).reshape(-1, n)
    tie = xp.zeros(s.shape[0], bool)
    if k >= 2:
        tie |= _same(s[:, k - 1], s[:, k - 2])
    if k < n:
        tie |= _same(s[:, k - 1], s[:, k])
    rows = np.nonzero(tie if xp is np else xp.asnumpy(tie))[0]
    if rows.size:
        host = x if xp is np else xp.asnumpy(x)
        rowvals = np.moveaxis(_sortable(host), dim, -1).reshape(-1, n)
        flat = np.moveaxis(idx if xp is np else xp.asnumpy(idx), dim, -1).reshape(-1).copy()
        for r in rows.tolist():
            flat[r] = _quickselect(rowvals[r].tolist(), k - 1)
        shp = list(x.shape)
        shp[dim] = 1
        moved = flat.reshape(shp[:dim] + shp[dim + 1:] + [1])
        idx = xp.asarray(np.ascontiguousarray(np.moveaxis(moved, -1, dim)))
    return idx


_KTH_IDX = defop("kthvalue_indices", "raw", _kth_fwd)


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The ``k``-th smallest element along ``dim``: (values, indices)."""
    _check_tensor("kthvalue", input)
    k = _int_arg("kthvalue", k, "k", 2)
    d = _dim_arg("kthvalue", dim, input, 3)
    shape = input._data.shape
    n = shape[d] if shape else 1
    if n == 0 and input._data.ndim:
        raise IndexError(f"kthvalue(): Expected reduction dim {d} to have non-zero size.")
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if input.dtype is D.bool_ or input.dtype.category == 3:
        _not_impl("kthvalue_cpu", input.dtype)
    if out is not None:
        _out_pair("kthvalue", out)
        _no_grad_out("kthvalue", input)
        if out[0].dtype is not input.dtype:
            raise RuntimeError("output values must be of same type as input")
        if out[1].dtype is not D.int64:
            raise RuntimeError("output indices must be of scalar type Long")
    kshape = tuple(1 if i == d else s for i, s in enumerate(shape)) if shape else (1,)
    idx = _indices(_KTH_IDX, input, {"dim": d, "k": k}, kshape)  # keepdim shape (1-d for a 0-d input)
    if not shape:
        oshape = ()
    elif keepdim:
        oshape = tuple(1 if i == d else s for i, s in enumerate(shape))
    else:
        oshape = tuple(s for i, s in enumerate(shape) if i != d)
    values = _select(_KTH_VALUES, input, idx, d, oshape)
    idx = idx.reshape(oshape)
    if out is None:
        return kthvalue_rt(values, idx)
    return kthvalue_out_rt(_write(out[0], values), _write(out[1], idx))


# ---------------------------------------------------------------- unique / unique_consecutive
def _unique_flat(xp, a, consecutive):
    flat = a.reshape(-1)
    n = flat.shape[0]
    if n == 0:
        e = xp.zeros((0,), np.int64)
        return flat.copy(), xp.zeros(a.shape, np.int64), e
    if consecutive:
        order, s = None, flat
    else:
        # torch sorts the flattened input with its default (unstable: std::sort) sort; the order of equal
        # elements shows only in which NaN group comes first and which of -0.0/0.0 represents a group
        order = _argsort_fwd(xp, flat, 0, False, stable=not _order_visible(xp, flat))
        s = flat[order]
    # NaN != NaN: every NaN is its own group, as in torch; -0.0 == 0.0 keeps the first one seen
    flag = xp.concatenate([xp.ones((1,), bool), s[1:] != s[:-1]])
    return _groups(xp, s, flag, order, n, a.shape)


def _order_visible(xp, flat):
    if flat.dtype.kind in "biu":
        return False
    f = _sortable(flat)
    if int(xp.count_nonzero(xp.isnan(f))) > 1:
        return True
    z = f == 0
    return bool(xp.any(z & xp.signbit(f))) and bool(xp.any(z & ~xp.signbit(f)))


def _groups(xp, s, flag, order, n, inv_shape):
    vals = s[flag]
    gid = xp.cumsum(flag).astype(np.int64) - 1
    if order is None:
        inv = gid
    else:
        inv = xp.empty((n,), np.int64)
        inv[order] = gid
    starts = xp.nonzero(flag)[0].astype(np.int64)
    counts = xp.diff(xp.concatenate([starts, xp.asarray([n], dtype=np.int64)]))
    return vals, inv.reshape(inv_shape), counts


class _Cmp:
    """A list element whose ``<`` is an arbitrary comparator, so the list algorithms above run on it."""
    __slots__ = ("i", "lt")

    def __init__(self, i, lt):
        self.i, self.lt = i, lt

    def __lt__(self, other):
        return self.lt(self.i, other.i)


def _std_sort_perm(n, lt):
    """0..n-1 in the order std::sort leaves them under ``lt(i, j)`` (which need not be a strict weak
    order: the final insertion pass is replayed literally rather than assumed stable)."""
    a = [_Cmp(i, lt) for i in range(n)]
    b = list(range(n))
    if n > 1:
        _introsort_list(a, b, 0, n, 2 * (n.bit_length() - 1))
    if n > _S_THRESHOLD:
        _insertion_sort(a, b, 0, _S_THRESHOLD)
        for i in range(_S_THRESHOLD, n):
            val, vi, j = a[i], b[i], i
            while j > 0 and val < a[j - 1]:
                a[j], b[j] = a[j - 1], b[j - 1]
                j -= 1
            a[j], b[j] = val, vi
    else:
        _insertion_sort(a, b, 0, n)
    return b


def _row_lt(rows):
    """torch's unique(dim) comparator: the first column where one row is below/above the other decides
    (a NaN is neither, so that column is passed over)."""
    def lt(i, j):
        for x, y in zip(rows[i], rows[j]):
            if x < y:
                return True
            if x > y:
                return False
        return False
    return lt


def _unique_dim(xp, a, dim, consecutive):
    if a.size == 0:
        if sum(1 for s in a.shape if s == 0) > 1:
            raise RuntimeError("Number of zero sized dimensions is more than one, so unique cannot be applied ")
        if a.shape[dim] != 0:
            raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")
        e = xp.zeros((0,), np.int64)
        return a.copy(), e, e.copy()
    m = xp.moveaxis(a, dim, 0)
    n = m.shape[0]
    rows = m.reshape(n, -1)
    if consecutive:
        order, s = None, rows
    else:
        keys = _sortable(rows).T[::-1]  # lexsort's last key is the primary one: column 0
        order = xp.lexsort(keys).astype(np.int64)
        s = rows[order]
        if _needs_std_sort(xp, rows, s, n):
            h = _sortable(_host(xp, rows)).tolist()
            order = xp.asarray(np.array(_std_sort_perm(n, _row_lt(h)), np.int64))
            s = rows[order]
    flag = xp.concatenate([xp.ones((1,), bool), xp.any(s[1:] != s[:-1], axis=1)])
    _, inv, counts = _groups(xp, s[:, :1], flag, order, n, (n,))
    picked = m if order is None else m[order]
    vals = xp.ascontiguousarray(xp.moveaxis(picked[flag], 0, dim))
    return vals, inv, counts


def _needs_std_sort(xp, rows, s, n):
    """Whether torch's std::sort order can differ from the stable lexicographic one in what unique returns:
    with NaNs (not a strict weak order), or beyond 16 rows when equal rows differ in a zero's sign."""
    if rows.dtype.kind not in "fV" or rows.dtype == np.bool_:
        return False
    f = _sortable(s)
    if bool(xp.isnan(f).any()):
        return True
    if n <= _S_THRESHOLD:
        return False
    eq = xp.all(f[1:] == f[:-1], axis=1)
    bits = xp.any(xp.signbit(f[1:]) != xp.signbit(f[:-1]), axis=1)
    return bool((eq & bits).any())


def _nodiff_vjp(name):
    def vjp(g, out, *inputs, **kw):
        raise NotImplementedError(f"the derivative for '{name}' is not implemented.")
    return vjp


def _not_implemented_vjp(name):
    def vjp(g, out, *inputs, **kw):
        raise RuntimeError(f"derivative for aten::{name} is not implemented")
    return vjp


def _result_fwd(xp, *inputs, res):
    return res


_NODE_OPTS = dict(save_in=False, save_out=False)
_UNIQUE2 = defop("_unique2", "raw", _result_fwd, _nodiff_vjp("_unique2"), node="Unique2Backward0", **_NODE_OPTS)
_UNIQUE_DIM = defop("unique_dim", "raw", _result_fwd, _nodiff_vjp("unique_dim"), node="UniqueDimBackward0",
                    **_NODE_OPTS)
_UNIQUE_CONSEC = defop("unique_consecutive", "raw", _result_fwd, _nodiff_vjp("unique_consecutive"),
                       node="UniqueConsecutiveBackward0", **_NODE_OPTS)
_BINCOUNT_NODE = defop("bincount", "raw", _result_fwd, _not_implemented_vjp("bincount"), node="NotImplemented",
                       **_NODE_OPTS)
_HISTOGRAM_NODE = defop("histogram", "raw", _result_fwd, _not_implemented_vjp("histogram"), node="NotImplemented",
                        **_NODE_OPTS)


def _wrap(arr, like, node=None, inputs=()):
    """A result array as a tensor on ``like``'s device; with ``node``, a grad_fn whose backward raises."""
    if node is not None and _grad_on(*inputs) and D.NP2DT[arr.dtype].category >= 2:
        return apply(node, tuple(inputs), {"res": arr})
    return Tensor._make(arr, like._device)


def _unique_impl(name, input, consecutive, return_inverse, return_counts, dim):
    _check_tensor(name, input)
    xp = input._device.backend.xp
    if dim is None:
        _no_meta(input, "unique_consecutive" if consecutive else "_unique2")
        if input.dtype.category == 3:
            _not_impl("unique", input.dtype)
        vals, inv, counts = _unique_flat(xp, input._data, consecutive)
        node = _UNIQUE_CONSEC if consecutive else _UNIQUE2
    else:
        dim = _int_arg("unique_dim" if name == "unique" else name, dim, "dim", 2 if name == "unique" else 4)
        if input._data.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        d = wrap_dim(dim, input._data.ndim)
        _no_meta(input, "unique_consecutive" if consecutive else "unique_dim")
        if input.dtype.category == 3:
            _not_impl("unique_dim", input.dtype)
        vals, inv, counts = _unique_dim(xp, input._data, d, consecutive)
        node = _UNIQUE_CONSEC if consecutive else _UNIQUE_DIM
    values = _wrap(vals, input, node, (input,))
    res = (values,)
    if return_inverse:
        res += (Tensor._make(inv, input._device),)
    if return_counts:
        res += (Tensor._make(counts, input._device),)
    return res[0] if len(res) == 1 else res


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Unique elements (or slices along ``dim``), sorted; optionally inverse indices and counts."""
    # torch's CPU kernel sorts whether or not ``sorted`` is set
    return _unique_impl("unique", input, False, return_inverse, return_counts, dim)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (or slices along ``dim``)."""
    return _unique_impl("unique_consecutive", input, True, return_inverse, return_counts, dim)


# ---------------------------------------------------------------- searchsorted / bucketize
def _is_number(v):
    return isinstance(v, (int, float, bool)) or isinstance(v, (np.number, np.bool_))


def _search(xp, bd, vals, right, sorter):
    """torch's binary search: ``bd`` (R, n) rows, ``vals`` (R, m); NaN handling follows its comparisons."""
    R, n = bd.shape
    m = vals.shape[1]
    start = xp.zeros((R, m), np.int64)
    end = xp.full((R, m), n, np.int64)
    if n == 0 or m == 0:
        return start
    rows = xp.arange(R).reshape(R, 1)
    while True:
        active = start < end
        if not bool(active.any()):
            return start
        mid = start + ((end - start) >> 1)
        mc = xp.minimum(mid, n - 1)
        pos = sorter[rows, mc] if sorter is not None else mc
        mv = bd[rows, pos]
        # lower bound moves right while !(mid >= val), upper bound while !(mid > val)
        go = ~(mv > vals) if right else ~(mv >= vals)
        start = xp.where(active & go, mid + 1, start)
        end = xp.where(active & ~go, mid, end)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, out=None, sorter=None):
    """Indices where ``input`` values would be inserted into the innermost dim of ``sorted_sequence``."""
    scalar = _is_number(input)
    if not isinstance(sorted_sequence, Tensor) or not (scalar or isinstance(input, Tensor)):
        raise TypeError(f"searchsorted() received an invalid combination of arguments - got "
                        f"({type(sorted_sequence).__name__}, {type(input).__name__}), but expected one of:\n"
                        f" * (Tensor sorted_sequence, Tensor input, *, bool out_int32 = False, bool right = False, "
                        f"str side = None, Tensor sorter = None, Tensor out = None)\n"
                        f" * (Tensor sorted_sequence, Number self, *, bool out_int32 = False, bool right = False, "
                        f"str side = None, Tensor sorter = None, Tensor out = None)\n")
    bd = sorted_sequence
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    if sorter is not None:
        if tuple(sorter.shape) != tuple(bd.shape):
            raise RuntimeError(f"torch.searchsorted(): boundary and sorter must have the same size, but got "
                               f"boundary tensor {list(bd.shape)}and got sorter tensor {list(sorter.shape)}")
        if sorter.dtype is not D.int64:
            raise RuntimeError(f"torch.searchsorted(): sorter must be a tensor of long dtype but got dtype "
                               f"{_TN.get(sorter.dtype.name)}")
    if bd._data.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
                           "dimension")
    odt = D.int32 if out_int32 else D.int64
    if out is not None and out.dtype is not odt:
        raise RuntimeError(f"torch.searchsorted(): output tensor's dtype is wrong, it can only be Int(int32) or "
                           f"Long(int64) depending on whether out_int32 flag is True, but we got output tensor's "
                           f"dtype {_TN.get(out.dtype.name)} and out_int32 flag is {bool(out_int32)}")
    vshape = () if scalar else tuple(input._data.shape)
    if bd._data.ndim > 1:
        if not vshape:
            raise RuntimeError(f"torch.searchsorted(): input value can be a scalar only when boundaries tensor "
                               f"dimension is 1, but we got boundaries tensor dim({bd._data.ndim}) and input "
                               f"value's dim(0) numel(1)")
        if len(vshape) != bd._data.ndim or vshape[:-1] != tuple(bd._data.shape[:-1]):
            raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                               f"dimensions of boundaries tensor and input value tensor must match, but we got "
                               f"boundaries tensor {list(bd.shape)} and input value tensor {list(vshape)}")
    if scalar:
        common = D.result_type_of(((bd.dtype, 0), (D.scalar_dtype(input), 2)))
    else:
        common = D.result_type_of(((bd.dtype, 0), (input.dtype, 0 if input._data.ndim else 1)))
    if common is D.bool_ or common.category == 3:
        _not_impl("searchsorted_out_cpu", common)
    dev = bd._device
    be = dev.backend
    if be.is_meta:
        r = Tensor._make(be.empty(vshape, odt.np), dev)
        return r if out is None else _write(out, r)
    xp = be.xp
    b = bd._data.astype(common.np, copy=False)
    v = xp.asarray(input, dtype=common.np) if scalar else input._data.astype(common.np, copy=False)
    n = b.shape[-1]
    s = None
    if sorter is not None:
        s = sorter._data
        if s.size and bool(((s < 0) | (s >= n)).any()):
            raise RuntimeError("torch.searchsorted(): sorter index out of range")
    if b.ndim == 1:
        b2, v2 = b.reshape(1, n), v.reshape(1, -1)
        s2 = None if s is None else s.reshape(1, n)
    else:
        rows = int(np.prod(b.shape[:-1]))
        b2, v2 = b.reshape(rows, n), v.reshape(rows, vshape[-1])
        s2 = None if s is None else s.reshape(rows, n)
    res = _search(xp, _sortable(b2), _sortable(v2), bool(right), s2).reshape(vshape).astype(odt.np)
    r = Tensor._make(res, dev)
    return r if out is None else _write(out, r)


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket index of each value of ``input`` given 1-D sorted ``boundaries``."""
    if not (_is_number(input) or isinstance(input, Tensor)) or not isinstance(boundaries, Tensor):
        raise TypeError(f"bucketize() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(boundaries).__name__})")
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


# ---------------------------------------------------------------- bincount
def bincount(input, weights=None, minlength=0):
    """Count occurrences of each non-negative int in a 1-D tensor (optionally summing ``weights``)."""
    _check_tensor("bincount", input)
    minlength = _int_arg("bincount", minlength, "minlength", 3)
    if input.dtype.category != 1:
        _not_impl("bincount_cpu", input.dtype)
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    dev = input._device
    be = dev.backend
    if input._data.ndim == 1 and input._data.size == 0:
        # torch returns int64 zeros here, weights or not
        return Tensor._make(be.xp.zeros((minlength,), np.int64), dev) if not be.is_meta else \
            Tensor._make(be.empty((minlength,), np.int64), dev)
    _no_meta(input, "bincount")
    xp = be.xp
    a = input._data
    if a.ndim != 1 or bool((a < 0).any()):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None:
        _check_tensor("bincount", weights, "weights", 2)
        if weights._data.ndim != 1 or weights._data.shape[0] != a.shape[0]:
            raise RuntimeError("weights should be 1-d and have the same length as input")
    size = max(int(a.max()) + 1, minlength)
    if weights is None:
        return Tensor._make(xp.bincount(a.astype(np.int64), minlength=size).astype(np.int64), dev)
    w = weights._data
    odt = np.float32 if weights.dtype is D.float32 else np.float64
    if weights.dtype.category == 3:
        warnings.warn("Casting complex values to real discards the imaginary part", UserWarning, stacklevel=2)
        w = w.real
    r = xp.zeros((size,), odt)
    be.index_add(r, a.astype(np.int64), w.astype(odt))
    return _wrap(r, input, _BINCOUNT_NODE, (weights,))


# ---------------------------------------------------------------- histc / histogram
def _fma_round(a, b, c, npdt):
    """``a * b + c`` rounded once to ``npdt`` (a fused multiply-add)."""
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    d = float(exact)
    if npdt == np.float64:
        return d
    f = npdt.type(d)
    if float(f) != d:  # d may sit exactly between two float32s while the exact value does not
        other = np.nextafter(f, npdt.type(np.inf) if d > float(f) else npdt.type(-np.inf))
        if (float(f) + float(other)) / 2 == d and Fraction(d) != exact:
            f = max(f, other) if exact > Fraction(d) else min(f, other)
    return float(f)


def _linspace(xp, lo, hi, steps, npdt):
    """torch's CPU linspace in the tensor's dtype: the first half is fma(i, step, start), the rest
    fma(-step, steps - 1 - i, end), with step = (end - start) / (steps - 1) in the dtype."""
    t = npdt.type
    start, end = t(lo), t(hi)
    if steps == 1:
        return xp.asarray(np.array([start], dtype=npdt))
    step = float(t(t(end - start) / t(steps - 1)))
    st, en, h = float(start), float(end), steps // 2
    vals = [_fma_round(i, step, st, npdt) if i < h else _fma_round(-step, steps - 1 - i, en, npdt)
            for i in range(steps)]
    return xp.asarray(np.array(vals, dtype=np.float64).astype(npdt))


def _upper_bound(xp, edges, x, lo=None, hi=None):
    """std::upper_bound of each ``x`` in ``edges[lo:hi]`` (whole array by default), vectorised."""
    n = edges.shape[0]
    first = xp.zeros(x.shape, np.int64) if lo is None else lo.copy()
    length = xp.full(x.shape, n, np.int64) if hi is None else hi - first
    while True:
        active = length > 0
        if not bool(active.any()):
            return first
        half = length >> 1
        mid = first + half
        mv = edges[xp.minimum(mid, n - 1)]
        less = x < mv
        first = xp.where(active & ~less, mid + 1, first)
        length = xp.where(active, xp.where(less, half, length - half - 1), length)


def _bin_positions(xp, x, edges, nb, linear, lo=None, hi=None):
    """Bin index of each in-range element of ``x`` (NaN and out-of-range dropped), and the mask kept."""
    left, right = edges[0], edges[-1]
    keep = (x >= left) & (x <= right)
    v = x[keep]
    if linear:
        t = x.dtype.type
        pos = ((v - left) * t(nb) / (right - left)).astype(np.int64)
        if linear == "local":  # refine against the actual edges, one bin either side
            pmin = xp.maximum(pos - 1, 0)
            pmax = xp.minimum(pos + 2, nb + 1)
            pos = _upper_bound(xp, edges, v, pmin, pmax) - 1
    else:
        pos = _upper_bound(xp, edges, v) - 1
    pos = xp.where(pos == nb, nb - 1, pos)  # the last bin includes its right edge
    return xp.clip(pos, 0, nb - 1), keep


def histc(input, bins=100, min=0, max=0, *, out=None):
    """Histogram with ``bins`` equal bins over [min, max] (data range if min == max); outside values ignored."""
    _check_tensor("histc", input)
    bins = _int_arg("histc", bins, "bins", 2)
    dt = input.dtype
    for arg, pos, v in (("min", 3, min), ("max", 4, max)):
        if not _is_number(v) or isinstance(v, complex):
            raise TypeError(f"histc(): argument '{arg}' (position {pos}) must be Number, not {type(v).__name__}")
    lo, hi = float(min), float(max)
    if dt is D.bool_:
        _not_impl("linspace_cpu", dt)
    if dt.category == 3:
        _not_impl("aminmax_cpu" if lo == hi else "histogram_cpu", dt)
    if dt.category != 2:
        _not_impl("histogram_cpu", dt)
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if out is not None and out.dtype is not dt:
        raise RuntimeError(f"torch.histogram: input tensor and hist tensor should have the same dtype, but got "
                           f"input {_ct(dt)} and hist {_ct(out.dtype)}")
    dev = input._device
    be = dev.backend
    xp = be.xp
    from_data = False
    if lo == hi and input._data.size > 0 and not be.is_meta:
        a = input._data
        lo, hi = float(xp.min(a).astype(np.float64)), float(xp.max(a).astype(np.float64))
        from_data = True
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{_fmt(lo, from_data)}, {_fmt(hi, from_data)}] is not finite")
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if be.is_meta:
        r = Tensor._make(be.empty((bins,), dt.np), dev)
    else:
        x = input._data.reshape(-1)
        t = dt.np.type
        edges = xp.asarray([t(lo), t(hi)], dtype=dt.np)
        pos, _ = _bin_positions(xp, x, edges, bins, True)
        r = Tensor._make(xp.bincount(pos, minlength=bins).astype(dt.np), dev)
    return r if out is None else _write(out, r)


def _histogram_args(input, bins, range, weight):
    _check_tensor("histogram", input)
    dt = input.dtype
    if isinstance(bins, Tensor):
        if range is not None:
            raise TypeError("histogram() received an invalid combination of arguments - got (Tensor, Tensor, "
                            "range=tuple), but expected one of:\n * (Tensor input, Tensor bins, *, Tensor weight = "
                            "None, bool density = False, tuple of Tensors out = None)\n * (Tensor input, int bins = "
                            "100, *, tuple of floats range = None, Tensor weight = None, bool density = False, "
                            "tuple of Tensors out = None)\n")
        if bins.dtype is not dt:
            raise RuntimeError(f"torch.histogramdd: input tensor and bins tensors should have the same dtype, but got "
                               f"input with dtype {_ct(dt)} and bins for dimension 0 with dtype {_ct(bins.dtype)}")
        if bins._data.ndim != 1:
            raise RuntimeError(f"torch.histogramdd: bins tensor should have one dimension, but got "
                               f"{bins._data.ndim} dimensions in the bins tensor for dimension 0")
        if bins._data.size == 0:
            raise RuntimeError("torch.histogramdd: bins tensor should have at least 1 element, but got 0 elements in "
                               "the bins tensor for dimension 0")
        nb = bins._data.size - 1
    else:
        nb = _int_arg("histogram", bins, "bins", 2)
    if dt not in (D.float32, D.float64):
        _no_meta(input, "histogram")
        _not_impl("histogramdd", dt)
    if weight is not None:
        _check_tensor("histogram", weight, "weight", 3)
        if weight.dtype is not dt:
            raise RuntimeError(f"torch.histogramdd: if weight tensor is provided, input tensor and weight tensor "
                               f"should have the same dtype, but got input({_ct(dt)}), and weight({_ct(weight.dtype)})")
        if weight._data.size != input._data.size:
            raise RuntimeError(f"torch.histogramdd: if weight tensor is provided it should have the same shape as the "
                               f"input tensor excluding its innermost dimension, but got input with shape "
                               f"[{input._data.size}, 1] and weight with shape {list(weight.shape)}")
    if nb <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {nb} for dimension 0")
    return nb


def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):
    """(hist, bin_edges): ``bins`` equal bins over ``range`` (data range by default) or explicit edges."""
    nb = _histogram_args(input, bins, range, weight)
    dt = input.dtype
    dev = input._device
    _no_meta(input, "histogram.bins_tensor" if isinstance(bins, Tensor) else "histogram.bin_ct")
    if out is not None:
        _out_pair("histogram", out)
        if out[0].dtype is not dt:
            raise RuntimeError(f"torch.histogram: input tensor and hist tensor should have the same dtype, but got "
                               f"input {_ct(dt)} and hist {_ct(out[0].dtype)}")
        if out[1].dtype is not dt:
            raise RuntimeError(f"torch.histogram: input tensor and bin_edges tensor should have the same dtype, but "
                               f"got input {_ct(dt)} and bin_edges {_ct(out[1].dtype)}")
    be = dev.backend
    xp = be.xp
    x = input._data.reshape(-1)
    if isinstance(bins, Tensor):
        edges = bins._data.copy()
        linear = False
    else:
        if range is not None:
            rng = list(range)
            if len(rng) != 2:
                raise RuntimeError(f"torch.histogramdd: for a 1-dimensional histogram range should have 2 elements, "
                                   f"but got {len(rng)}")
        lo, hi = bin_range(xp, x, rng if range is not None else None, 0)
        edges = _linspace(xp, lo, hi, nb + 1, dt.np)
        linear = "local"
    pos, keep = _bin_positions(xp, x, edges, nb, linear)
    if weight is None:
        hist = xp.bincount(pos, minlength=nb).astype(dt.np)
    else:
        hist = xp.zeros((nb,), dt.np)
        be.index_add(hist, pos, weight._data.reshape(-1)[keep])
    if density:
        total = dt.np.type(float(hist.astype(np.float64).sum()))
        with np.errstate(all="ignore"):
            hist = ((hist / total) / xp.diff(edges)).astype(dt.np)
    h = _wrap(hist, input, _HISTOGRAM_NODE, (input, weight) if weight is not None else (input,))
    e = _wrap(edges, input, _HISTOGRAM_NODE, (input, weight) if weight is not None else (input,))
    if out is None:
        return histogram_rt(h, e)
    return histogram_out_rt(_write(out[0], h.detach()), _write(out[1], e.detach()))


# ---------------------------------------------------------------- Tensor methods
def _sort_m(self, *args, **kw):
    dim, descending, stable, given = _sort_args(args, kw, True)
    return _sort(self, dim, descending, stable, given, None)


def _argsort_m(self, dim=-1, descending=False, *, stable=False):
    return argsort(self, dim, descending, stable=stable)


def _topk_m(self, k, dim=-1, largest=True, sorted=True):
    return topk(self, k, dim, largest, sorted)


def _kthvalue_m(self, k, dim=-1, keepdim=False):
    return kthvalue(self, k, dim, keepdim)


def _unique_m(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
    return unique(self, sorted, return_inverse, return_counts, dim)


def _unique_consecutive_m(self, return_inverse=False, return_counts=False, dim=None):
    return unique_consecutive(self, return_inverse, return_counts, dim)


def _bincount_m(self, weights=None, minlength=0):
    return bincount(self, weights, minlength)


def _histc_m(self, bins=100, min=0, max=0):
    return histc(self, bins, min, max)


def _histogram_m(self, bins=100, *, range=None, weight=None, density=False):
    return histogram(self, bins, range=range, weight=weight, density=density)


Tensor.sort = _sort_m
Tensor.argsort = _argsort_m
Tensor.msort = lambda self: msort(self)
Tensor.topk = _topk_m
Tensor.kthvalue = _kthvalue_m
Tensor.unique = _unique_m
Tensor.unique_consecutive = _unique_consecutive_m
Tensor.bincount = _bincount_m
Tensor.histc = _histc_m
Tensor.histogram = _histogram_m

FUNCS = dict(sort=sort, argsort=argsort, msort=msort, topk=topk, kthvalue=kthvalue, unique=unique,
             unique_consecutive=unique_consecutive, searchsorted=searchsorted, bucketize=bucketize,
             bincount=bincount, histc=histc, histogram=histogram)
