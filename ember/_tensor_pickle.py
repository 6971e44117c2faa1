"""Plain pickling of tensors (``pickle.dumps(t)``, multiprocessing, ``copy.copy``).

ember.save uses torch's checkpoint format instead (ember/serialization.py); this is the Python-object
route: the data travels as a NumPy array, with dtype, device and requires_grad.
"""
import numpy as np


def reduce_tensor(t):
    from ._dtype import bfloat16
    if t.device.type == "meta":
        return (_rebuild_meta, (tuple(t.shape), t.dtype.name))
    if t.grad_fn is not None:
        raise RuntimeError("Can't pickle a tensor that requires grad and is not a leaf (it has a graph); "
                           "pickle tensor.detach() instead")
    host = t.device.backend.to_host(t._data)
    # keep the dimension order in memory (channels_last, transposed ...) as torch's pickle keeps strides:
    # the payload is C-ordered in that order, and ``perm`` undoes it on load
    perm = tuple(sorted(range(host.ndim), key=lambda d: -abs(host.strides[d]))) if host.ndim > 1 else None
    if perm == tuple(range(host.ndim)):
        perm = None
    host = np.ascontiguousarray(host if perm is None else host.transpose(perm)).reshape(
        host.shape if perm is None else tuple(host.shape[d] for d in perm))  # (ascontiguousarray makes 0-d 1-d)
    if t.dtype is bfloat16:  # ml_dtypes arrays pickle, but keep the payload plain NumPy
        host = host.view(np.uint16)
    return (_rebuild, (host, t.dtype.name, str(t.device), t.requires_grad) + ((perm,) if perm else ()))


def _rebuild(arr, dtype_name, device, requires_grad, perm=None):
    from . import _dtype as D
    from ._tensor import Tensor
    from ._device import device as Device
    dt = D._dtype_by_name(dtype_name)
    arr = np.array(arr, copy=True)
    if dt is D.bfloat16:
        arr = arr.view(dt.np)
    if perm is not None:
        arr = arr.transpose(np.argsort(perm))
    dev = Device(device)
    if dev.type != "cpu":
        arr = dev.backend.from_host(arr)
    t = Tensor._make(arr, dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_meta(shape, dtype_name):
    from . import _dtype as D
    from . import ops
    return ops.empty(shape, dtype=D._dtype_by_name(dtype_name), device="meta")
