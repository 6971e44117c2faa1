"""ember.utils.hdf5: nested dicts of tensors as HDF5 files, through h5py (imported only when used).

Each tensor is one dataset with its shape and dtype; a nested dict is a group. bool is h5py's bool (an
HDF5 enum that plain h5py reads back as NumPy bool), complex is h5py's complex, and bfloat16, which HDF5
has no type for, is stored as its bits in uint16 with the attribute ``ember_dtype = "bfloat16"``. Files
stay readable by plain h5py. Groups keep insertion order (``track_order``), so ``load`` returns the keys
in the order they were saved. Saving is atomic: a temporary file beside the target, fsynced, renamed.
"""
import os
import tempfile
from collections.abc import Mapping

import numpy as np

from .. import _dtype as D
from .._device import device as Device
from .._tensor import Tensor

__all__ = ["save", "load"]

DTYPE_ATTR = "ember_dtype"
_FROM_NP = {d.np: d for d in D.ALL}


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("ember.utils.hdf5 needs the 'h5py' package: pip install h5py (or ember[hdf5])") from None
    return h5py


def _check_tree(tree, where):
    if not isinstance(tree, Mapping):
        raise TypeError(f"ember.utils.hdf5.save expects a dict of tensors (nested dicts allowed), got "
                        f"{type(tree).__name__}")
    for k, v in tree.items():
        if not isinstance(k, str):
            raise TypeError(f"HDF5 names must be str, got {type(k).__name__} {k!r} in '{where or '/'}'")
        if not k or k == "." or "/" in k:
            # '/' would silently create intermediate groups and '.' names the group itself
            raise ValueError(f"invalid HDF5 name {k!r} in '{where or '/'}': names must be non-empty, not '.', and "
                             f"without '/' (use nested dicts for groups)")
        path = f"{where}/{k}"
        if isinstance(v, Mapping):
            _check_tree(v, path)
        elif not isinstance(v, Tensor):
            raise TypeError(f"ember.utils.hdf5.save: '{path}' is a {type(v).__name__}; only tensors and dicts of "
                            f"them can be saved")
        elif v.device.type == "meta":
            raise RuntimeError(f"Cannot save a meta tensor ('{path}'): it has no data")


def _write(group, tree):
    for k, v in tree.items():
        if isinstance(v, Mapping):
            _write(group.create_group(k, track_order=True), v)
            continue
        arr = np.asarray(v.device.backend.to_host(v._data), order="C")  # (ascontiguousarray turns 0-d into 1-d)
        if v.dtype is D.bfloat16:
            ds = group.create_dataset(k, data=arr.view(np.uint16))
            ds.attrs[DTYPE_ATTR] = "bfloat16"
        else:
            group.create_dataset(k, data=arr)


def save(tensors, path):
    """Save a (nested) dict of tensors to an HDF5 file at ``path``, atomically."""
    _check_tree(tensors, "")
    h5py = _h5py()
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Parent directory {folder} does not exist.")
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        with h5py.File(tmp, "w", track_order=True) as f:
            _write(f, tensors)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def _read(group, dev, h5py):
    out = {}
    for k, obj in group.items():
        if isinstance(obj, h5py.Group):
            out[k] = _read(obj, dev, h5py)
            continue
        arr = np.asarray(obj[()])
        if arr.dtype.kind == "b":
            arr = arr.astype(np.bool_, copy=False)  # h5py's bool enum comes back as NumPy bool already
        if not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        tag = obj.attrs.get(DTYPE_ATTR)
        if isinstance(tag, bytes):
            tag = tag.decode()
        if tag == "bfloat16":
            if arr.dtype != np.uint16:
                raise RuntimeError(f"HDF5 dataset '{obj.name}' is marked bfloat16 but holds {arr.dtype}, not the "
                                   f"uint16 bits of bfloat16")
            dt = D.bfloat16
        else:
            dt = _FROM_NP.get(arr.dtype)
            if dt is None:
                raise TypeError(f"HDF5 dataset '{obj.name}' has dtype {obj.dtype}, which has no ember dtype")
        arr = arr.view(dt.np)
        if not arr.flags.writeable or not arr.flags.c_contiguous:
            arr = np.array(arr, order="C")
        t = Tensor._make(arr)
        out[k] = t if dev.type == "cpu" else t.to(dev)
    return out


def load(path, device="cpu"):
    """Load an HDF5 file as a dict of tensors (groups become nested dicts) on ``device``."""
    h5py = _h5py()
    dev = Device(device)
    with h5py.File(path, "r") as f:
        return _read(f, dev, h5py)
