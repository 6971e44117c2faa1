"""CPU backend: NumPy arrays."""
import numpy as xp

name, is_meta = "cpu", False


def asarray(obj, npdtype=None):
    return xp.array(obj, dtype=npdtype, copy=True)


def empty(shape, npdtype):
    return xp.empty(shape, dtype=npdtype)


def to_host(a):
    return a


def from_host(a):
    return a


def synchronize():
    pass


def index_add(dst, index, src):
    """dst[index] += src with repeated indices accumulating."""
    xp.add.at(dst, index, src)
