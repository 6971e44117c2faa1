"""How tensors cross from DataLoader workers to the main process: named shared-memory files, not copies.

A worker writes each tensor's bytes into a file under ``/dev/shm`` (the system temp dir where there is
none), maps it, and sends only the file's name, shape, strides and dtype through the pipe. The main
process maps the same file and unlinks it at once: the pages stay alive exactly as long as some process
still maps them, and no name is left behind. A batch that ``default_collate`` stacked inside a worker was
allocated in such a file to begin with (``empty``), so it is sent without a single extra copy.

Files are named ``<prefix><n>`` with a prefix unique to one DataLoader iterator, so the main process can
remove whatever a killed worker left half-written (``cleanup``).
"""
import glob
import io
import itertools
import mmap
import os
import pickle
import tempfile

import numpy as np

from ..._storage import root_of
from ..._tensor import Tensor

_DIR = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()

_prefix = None            # set in each worker process (``set_prefix``); None means: do not use shared memory
_counter = itertools.count()
_maps = None              # name -> mapped block while ``loads`` runs (several views of one block share it)


class _Block(mmap.mmap):
    """A mapping of one shared-memory file. ``name`` is None for a block received (its file is unlinked)."""


def set_prefix(prefix):
    global _prefix
    _prefix = prefix


def enabled():
    return _prefix is not None


def _create(nbytes):
    name = f"{_prefix}{next(_counter)}"
    fd = os.open(os.path.join(_DIR, name), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.ftruncate(fd, nbytes)
        blk = _Block(fd, nbytes)
    finally:
        os.close(fd)
    blk.name, blk.sent = name, False
    return blk


def empty(shape, np_dtype):
    """A C-contiguous NumPy array living in a fresh shared-memory block (None when not in a worker)."""
    n = int(np.prod(shape, dtype=np.int64)) * np.dtype(np_dtype).itemsize
    if _prefix is None or n == 0:
        return None
    return np.ndarray(shape, np_dtype, buffer=_create(n))


def _attach(name, nbytes):
    if _maps is not None and name in _maps:
        return _maps[name]
    path = os.path.join(_DIR, name)
    fd = os.open(path, os.O_RDWR)
    try:
        blk = _Block(fd, nbytes)
    finally:
        os.close(fd)
        os.unlink(path)  # the mapping keeps the pages; nothing is left in /dev/shm
    blk.name = None
    if _maps is not None:
        _maps[name] = blk
    return blk


def _rebuild(name, nbytes, offset, shape, strides, np_dtype, dtype, requires_grad):
    arr = np.ndarray(shape, np_dtype, buffer=_attach(name, nbytes), offset=offset, strides=strides)
    t = Tensor._make(arr, dtype=dtype)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_inline(arr, dtype, requires_grad):
    t = Tensor._make(arr, dtype=dtype)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _check_sendable(t):
    if t._rg and t.grad_fn is not None:
        raise RuntimeError("Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd "
                           "does not support crossing process boundaries.  If you just want to transfer the "
                           "data, call detach() on the tensor before serializing (e.g., putting it on the queue).")


def _dense_strides(arr):
    """True if ``arr`` covers exactly its own bytes in some axis order (so a same-strided copy fits)."""
    if any(s < 0 for s in arr.strides):
        return False
    span = sum((n - 1) * s for n, s in zip(arr.shape, arr.strides)) + arr.itemsize
    return span == arr.nbytes


class _Pickler(pickle.Pickler):
    """Pickles CPU tensors as shared-memory handles (``shared=True``) or as inline arrays."""

    def __init__(self, f, shared):
        super().__init__(f, protocol=pickle.HIGHEST_PROTOCOL)
        self._shared = shared
        self._sent = set()  # names handed out in this message (views of one block may appear twice)

    def reducer_override(self, obj):
        if type(obj) is not Tensor or obj._device.type != "cpu":
            return NotImplemented
        _check_sendable(obj)
        arr = obj._data
        rg = obj._rg
        if not self._shared or arr.size == 0:
            return _rebuild_inline, (np.array(arr), obj.dtype, rg)
        root = root_of(arr)
        blk = root.base
        if not (isinstance(blk, _Block) and blk.name is not None and (not blk.sent or blk.name in self._sent)):
            # copy into a fresh block, keeping the strides when the layout is dense (e.g. a transpose)
            blk = _create(arr.nbytes)
            strides = arr.strides if _dense_strides(arr) else None
            dst = np.ndarray(arr.shape, arr.dtype, buffer=blk, strides=strides)
            dst[...] = arr
            arr = root = dst
        blk.sent = True
        self._sent.add(blk.name)
        offset = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        return _rebuild, (blk.name, len(blk), offset, arr.shape, arr.strides, arr.dtype, obj.dtype, rg)


def dumps(obj, shared=True):
    """Pickle ``obj``; CPU tensors go through shared memory when ``shared`` (workers) else inline."""
    buf = io.BytesIO()
    _Pickler(buf, shared and _prefix is not None).dump(obj)
    return buf.getvalue()


def loads(data):
    global _maps
    outer, _maps = _maps, {}
    try:
        return pickle.loads(data)
    finally:
        _maps = outer


def cleanup(prefix):
    """Remove the files a worker with this prefix created but nobody received (e.g. it was killed)."""
    for path in glob.glob(os.path.join(_DIR, glob.escape(prefix) + "*")):
        try:
            os.unlink(path)
        except OSError:
            pass
