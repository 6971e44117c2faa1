"""Meta backend: shapes, strides and dtypes only.

A meta array is a NumPy array with the strides a real one would have, laid over a zero-strided
buffer of one element: views (slicing, transpose, reshape, expand) compute real strides and offsets
for free, and no memory is spent on data. Its values must never be read (they lie outside the
one-element buffer): the runner computes only shape rules, or runs forwards on ``standin`` arrays.
"""
import numpy as xp

from . import c_strides

name, is_meta = "meta", True


def empty(shape, npdtype):
    shape = tuple(shape)
    n = 1
    for s in shape:
        n *= s
    npdtype = xp.dtype(npdtype)
    # the root is an n-element zero-stride array, so storage sizes come out right
    root = xp.broadcast_to(xp.empty((), dtype=npdtype), (max(n, 1),))
    strides, acc = [], npdtype.itemsize
    for s in reversed(shape):
        strides.append(acc)
        acc *= max(s, 1)
    return xp.lib.stride_tricks.as_strided(root, shape, tuple(reversed(strides)), writeable=False)


def empty_strided(shape, npdtype, strides):
    """An empty meta array of ``shape`` with ``strides`` given in elements."""
    shape = tuple(shape)
    npdtype = xp.dtype(npdtype)
    n = 1
    for s in shape:
        n *= s
    root = xp.broadcast_to(xp.empty((), dtype=npdtype), (max(n, 1),))
    return xp.lib.stride_tricks.as_strided(root, shape, tuple(st * npdtype.itemsize for st in strides),
                                           writeable=False)


def _contiguous(shape, strides):
    """torch's is_contiguous: C order, ignoring size-1 dims (and any layout when empty)."""
    if 0 in shape:
        return True
    acc = 1
    for n, st in zip(reversed(shape), reversed(strides)):
        if n != 1:
            if st != acc:
                return False
            acc *= n
    return True


def _dense(shape, strides):
    """torch's is_non_overlapping_and_dense: some order of the dims is contiguous."""
    if 0 in shape:
        return True
    acc = 1
    for st, n in sorted((st, n) for n, st in zip(shape, strides) if n != 1):
        if st != acc:
            return False
        acc *= n
    return True


def _channels_last(shape, strides):
    if len(shape) != 4:
        return False
    n, c, h, w = shape
    return _contiguous((n, h, w, c), (strides[0], strides[2], strides[3], strides[1]))


def elementwise_strides(shape, operands):
    """Strides (in elements) torch gives the result of an elementwise op of ``shape`` whose tensor operands
    have (shape, strides) ``operands``: the inputs' common layout, as TensorIterator computes it."""
    shape = tuple(shape)
    nd = len(shape)
    c_order = c_strides(shape)
    if nd == 0 or not operands:
        return c_order
    # fast path: all operands the same shape, and contiguous, channels-last, or sharing one dense layout
    if all(tuple(s) == shape for s, _ in operands):
        if all(_contiguous(s, st) for s, st in operands):
            return c_order
        if all(_channels_last(s, st) for s, st in operands):
            n, c, h, w = shape
            return (h * w * c, 1, w * c, c)
        if all(_dense(s, st) for s, st in operands):
            last = tuple(operands[-1][1])
            if all(tuple(st) == last for _, st in operands):
                return last
    # otherwise order the dims by the operands' strides (broadcast dims, stride 0, abstain): the first
    # operand with an opinion decides, equal strides put the smaller dim inside
    full = []
    for s, st in operands:
        k = nd - len(s)
        full.append([0] * k + [0 if s[i] == 1 and shape[k + i] != 1 else st[i] for i in range(len(s))])

    def should_swap(d0, d1):
        for st in full:
            s0, s1 = st[d0], st[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 < s1:
                return -1
            if s0 > s1:
                return 1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    perm = list(range(nd - 1, -1, -1))  # perm[0] is the innermost dim
    for i in range(1, nd):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = should_swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    if perm == list(range(nd - 1, -1, -1)):
        return c_order
    strides = [0] * nd
    acc = 1
    for d in perm:
        strides[d] = acc
        acc *= shape[d]
    return tuple(strides)


def standin(a):
    """A safe array to run a forward on: the same shape and dtype, every element the same memory."""
    return xp.broadcast_to(xp.zeros((), dtype=a.dtype), a.shape)


def asarray(obj, npdtype=None):
    a = xp.asarray(obj, dtype=npdtype)
    return empty(a.shape, a.dtype)


def to_host(a):
    raise NotImplementedError("Cannot copy out of meta tensor; no data!")


def from_host(a):
    return empty(a.shape, a.dtype)


def synchronize():
    pass


def index_add(dst, index, src):
    pass
