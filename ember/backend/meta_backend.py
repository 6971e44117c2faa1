"""Meta backend: shapes, strides and dtypes only.

A meta array is a NumPy array with the strides a real one would have, laid over a zero-strided
buffer of one element: views (slicing, transpose, reshape, expand) compute real strides and offsets
for free, and no memory is spent on data. Its values must never be read (they lie outside the
one-element buffer): the runner computes only shape rules, or runs forwards on ``standin`` arrays.
"""
import numpy as xp

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
