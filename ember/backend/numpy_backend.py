"""CPU backend: NumPy arrays."""
import os

import numpy as xp

name, is_meta = "cpu", False


def _keep_freed_memory():
    """Ask glibc to keep freed MB-sized buffers instead of returning them to the kernel.

    Every op allocates its result; with glibc's defaults each large buffer is a fresh mmap that pays a
    page fault per 4 KiB on first touch. Keeping freed memory in the heap lets the next op reuse it
    (a 1M-element pointwise chain ran 0.90 -> 0.75 ms here). Set EMBER_NO_MALLOPT=1 to opt out.
    """
    if os.environ.get("EMBER_NO_MALLOPT") or not os.uname().sysname == "Linux":
        return
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD: serve blocks up to 1 GiB from the heap
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD: only trim the heap when 1 GiB is free at the top
    except (OSError, AttributeError):
        pass


_keep_freed_memory()


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
