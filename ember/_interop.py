"""Interop: NumPy (``numpy()``, ``__array__``), DLPack (zero-copy exchange with torch, NumPy, CuPy, JAX...),
and the CPU thread controls (``set_num_threads`` & co., through threadpoolctl).

DLPack capsules are read and written with ctypes against the DLPack C structs, so every dtype ember has
(bfloat16 and bool included) crosses without a copy and with its strides kept.
"""
import ctypes
import enum
import os

import numpy as np

from . import _dtype as D
from ._device import device as Device, to_device
from ._tensor import Tensor
from .backend import parallel as _parallel


# ---------------------------------------------------------------- NumPy
def numpy(self, *, force=False):
    """The tensor's memory as a NumPy array (shared, not copied); ``force=True`` detaches and copies to CPU."""
    t = self
    if force:
        t = self.detach()
        if t._device.type != "cpu":
            t = t.cpu()
    else:
        if self._rg:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead.")
        dev = self._device
        if dev.type != "cpu":
            name = f"{dev.type}:{dev.index or 0}" if dev.type == "cuda" else dev.type
            raise TypeError(f"can't convert {name} device type tensor to numpy. Use Tensor.cpu() to copy the "
                            f"tensor to host memory first.")
    if t.dtype is D.bfloat16:  # NumPy has no bfloat16 of its own, so torch refuses
        raise TypeError("Got unsupported ScalarType BFloat16")
    return t._data


def __array__(self, dtype=None, copy=None):
    a = numpy(self)
    if dtype is not None and np.dtype(dtype) != a.dtype:
        if copy is False:
            raise ValueError("Unable to avoid copy while creating an array as requested.")
        return a.astype(dtype)
    return a.copy() if copy else a


def __array_wrap__(self, array, context=None, return_scalar=False):
    """NumPy ufuncs on tensors give tensors back (bool results become uint8, as torch does)."""
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    from .ops import from_numpy
    return from_numpy(np.ascontiguousarray(array) if any(s < 0 for s in array.strides) else array)


# ---------------------------------------------------------------- DLPack structs
class DLDeviceType(enum.IntEnum):
    """DLPack's device codes (``tensor.__dlpack_device__()[0]``)."""
    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", _DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


_DELETER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class _DLManaged(ctypes.Structure):  # DLPack 0.x, capsule name "dltensor"
    _fields_ = [("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", _DELETER)]


class _DLVersion(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32)]


class _DLManagedVersioned(ctypes.Structure):  # DLPack 1.x, capsule name "dltensor_versioned"
    _fields_ = [("version", _DLVersion), ("manager_ctx", ctypes.c_void_p), ("deleter", _DELETER),
                ("flags", ctypes.c_uint64), ("dl_tensor", _DLTensor)]


_READ_ONLY = 1  # DLPACK_FLAG_BITMASK_READ_ONLY

_api = ctypes.pythonapi
_api.PyCapsule_IsValid.restype = ctypes.c_int
_api.PyCapsule_IsValid.argtypes = [ctypes.py_object, ctypes.c_char_p]
_api.PyCapsule_GetPointer.restype = ctypes.c_void_p
_api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
_api.PyCapsule_SetName.restype = ctypes.c_int
_api.PyCapsule_SetName.argtypes = [ctypes.py_object, ctypes.c_char_p]

# (type code, bits) <-> NumPy dtype; codes: 0 int, 1 uint, 2 float, 4 bfloat, 5 complex, 6 bool
_CODE2NP = {(0, 8): np.int8, (0, 16): np.int16, (0, 32): np.int32, (0, 64): np.int64,
            (1, 8): np.uint8, (1, 16): np.uint16, (1, 32): np.uint32, (1, 64): np.uint64,
            (2, 16): np.float16, (2, 32): np.float32, (2, 64): np.float64,
            (5, 64): np.complex64, (5, 128): np.complex128, (6, 8): np.bool_}
_KDLBFLOAT = 4
# PyCapsule_SetName keeps the pointer, not a copy: these names must live as long as the module
_USED_NAME = {b"dltensor": b"used_dltensor", b"dltensor_versioned": b"used_dltensor_versioned"}


_CAPSULE_KINDS = ((b"dltensor_versioned", _DLManagedVersioned), (b"dltensor", _DLManaged))


def _capsule_struct(cap):
    """(managed struct, is_versioned, name) of a DLPack capsule not consumed yet."""
    for name, struct in _CAPSULE_KINDS:
        if _api.PyCapsule_IsValid(cap, name):
            ptr = _api.PyCapsule_GetPointer(cap, name)
            return ctypes.cast(ptr, ctypes.POINTER(struct)).contents, struct is _DLManagedVersioned, name
    raise RuntimeError("from_dlpack received an invalid capsule. Note that DLTensor capsules can be consumed "
                       "only once, so you might have already constructed a tensor from it once.")


class _Owner:
    """Keeps a consumed DLPack tensor alive and calls its producer's deleter when NumPy lets go of it."""

    def __init__(self, managed, iface):
        self._managed = managed
        self.__array_interface__ = iface

    def __del__(self):
        m = self._managed
        if m is not None and m.deleter:
            self._managed = None
            m.deleter(ctypes.addressof(m))


class _Alias:
    """An ``__array_interface__`` over existing memory; holds the array that owns it."""

    def __init__(self, keep, iface):
        self._keep = keep
        self.__array_interface__ = iface


def _iface(ptr, shape, strides_bytes, npdt, read_only):
    return {"version": 3, "shape": tuple(shape), "typestr": np.dtype(npdt).str, "data": (ptr, read_only),
            "strides": tuple(strides_bytes)}


def _consume(cap):
    """A NumPy array viewing a CPU DLPack capsule's memory (the capsule is marked used)."""
    m, versioned, name = _capsule_struct(cap)
    dl = m.dl_tensor
    if dl.device.device_type not in (DLDeviceType.kDLCPU, DLDeviceType.kDLCUDAHost,
                                     DLDeviceType.kDLCUDAManaged):
        raise RuntimeError(f"Unsupported device_type: {dl.device.device_type}")
    code, bits, lanes = dl.dtype.code, dl.dtype.bits, dl.dtype.lanes
    if lanes != 1:
        raise RuntimeError("Unsupported lanes in DLTensor. lanes must be 1.")
    bf16 = code == _KDLBFLOAT and bits == 16
    npdt = np.uint16 if bf16 else _CODE2NP.get((code, bits))
    if npdt is None:
        raise RuntimeError("Unsupported dtype in DLTensor.")
    shape = [dl.shape[i] for i in range(dl.ndim)]
    isz = np.dtype(npdt).itemsize
    if dl.strides:
        strides = [dl.strides[i] * isz for i in range(dl.ndim)]
    else:
        strides, acc = [], isz
        for n in reversed(shape):
            strides.insert(0, acc)
            acc *= max(n, 1)
    read_only = bool(versioned and m.flags & _READ_ONLY)
    # from here on ember owns the tensor: renaming stops the capsule's destructor from freeing it
    _api.PyCapsule_SetName(cap, _USED_NAME[name])
    owner = _Owner(m, None)
    n = int(np.prod(shape)) if shape else 1
    if n == 0 or not dl.data:
        owner.__del__()
        arr = np.empty(shape, npdt)
    else:
        # the storage is the dense span the strides reach (as torch sizes it), so that storage-level code
        # (ember.save, safetensors' sharing checks) sees real bytes rather than a strided view as the root
        lo = sum((d - 1) * s for d, s in zip(shape, strides) if s < 0)
        hi = sum((d - 1) * s for d, s in zip(shape, strides) if s > 0)
        ptr = (dl.data or 0) + dl.byte_offset
        owner.__array_interface__ = _iface(ptr + lo, [(hi - lo) // isz + 1], [isz], npdt, read_only)
        buf = np.asarray(owner)
        arr = np.ndarray(shape, npdt, buffer=buf, offset=-lo, strides=strides)
    return arr.view(D.bfloat16.np) if bf16 else arr


def _cuda_from_dlpack(obj):
    from .backend import get_backend
    be = get_backend("cuda")  # raises ember's "no CUDA backend" error without CuPy
    return be.xp.from_dlpack(obj)


def from_dlpack(ext_tensor, *, device=None, copy=None):
    """A tensor sharing memory with any DLPack producer (a NumPy array, a torch tensor, a capsule, ...)."""
    if isinstance(ext_tensor, Tensor):
        t = ext_tensor
    else:
        dev = None
        if hasattr(ext_tensor, "__dlpack__"):
            dev_type, dev_id = ext_tensor.__dlpack_device__()
            if dev_type in (DLDeviceType.kDLCUDA, DLDeviceType.kDLROCM):
                arr = _cuda_from_dlpack(ext_tensor)
                dev = Device("cuda", int(dev_id))
            else:
                try:
                    cap = ext_tensor.__dlpack__(max_version=(1, 0))
                except TypeError:  # a producer that predates DLPack 1.0
                    cap = ext_tensor.__dlpack__()
                arr = _consume(cap)
        else:
            m, _, _ = _capsule_struct(ext_tensor)  # a capsule (legacy API); anything else is refused
            if m.dl_tensor.device.device_type in (DLDeviceType.kDLCUDA, DLDeviceType.kDLROCM):
                arr = _cuda_from_dlpack(ext_tensor)
                dev = Device("cuda", int(m.dl_tensor.device.device_id))
            else:
                arr = _consume(ext_tensor)
        t = Tensor._make(arr, dev or to_device("cpu"))
    if device is not None and to_device(device) != t._device:
        if copy is False:
            raise BufferError(f"from_dlpack: moving to {to_device(device)} needs a copy but copy=False was given")
        return t.to(device)
    return t.clone() if copy else t


def _exportable(t):
    """An array over ``t``'s memory that NumPy/CuPy will export: writable where the storage is."""
    a = t._data
    if t._device.type != "cpu" or a.flags.writeable or not t._storage._root.flags.writeable:
        return a
    # expand() views are marked read-only by NumPy; the storage itself is writable, as torch's is
    iface = dict(a.__array_interface__)
    iface["data"] = (iface["data"][0], False)
    iface["strides"] = a.strides
    return np.asarray(_Alias(a, iface))


def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    """Export as a DLPack capsule (zero-copy; strides kept)."""
    if self._rg:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    if self._device.type == "meta":
        raise BufferError("Cannot pack tensors on meta")
    a = _exportable(self)
    bf16 = self.dtype is D.bfloat16
    if bf16:
        a = a.view(np.uint16)  # NumPy cannot export ml_dtypes' bfloat16; the type code is fixed below
    kw = {}
    if max_version is not None:
        kw["max_version"] = max_version
    if dl_device is not None:
        kw["dl_device"] = dl_device
    if copy is not None:
        kw["copy"] = copy
    if self._device.type == "cuda":
        if stream is not None and stream != -1:
            kw["stream"] = stream
    try:
        cap = a.__dlpack__(**kw)
    except TypeError:  # an array library that predates the DLPack 1.0 keywords
        cap = a.__dlpack__(**({"stream": kw["stream"]} if "stream" in kw else {}))
    if bf16:
        m, _, _ = _capsule_struct(cap)
        m.dl_tensor.dtype.code = _KDLBFLOAT
    return cap


def __dlpack_device__(self):
    dev = self._device
    if dev.type == "cpu":
        return (DLDeviceType.kDLCPU, 0)
    if dev.type == "cuda":
        return (DLDeviceType.kDLCUDA, dev.index or 0)
    raise ValueError(f"Unknown device type {dev.type} for Dlpack")


def to_dlpack(tensor):
    """A DLPack capsule for ``tensor`` (the legacy ``torch.utils.dlpack.to_dlpack``)."""
    return __dlpack__(tensor)


# ---------------------------------------------------------------- threads
_threads = {"intra": None, "interop": None, "interop_set": False, "controller": None, "limit": None}


def _controller():
    ctl = _threads["controller"]
    if ctl is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # threadpoolctl is a core dependency; without it only the env vars can be set
            ctl = False
        else:
            ctl = ThreadpoolController()
        _threads["controller"] = ctl
    return ctl


def _check_threads(name, n):
    if not isinstance(n, int) or isinstance(n, bool):
        raise RuntimeError(f"{name} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{name} expects a positive integer")


def set_num_threads(int):  # noqa: A002 - torch's parameter name
    """Set how many threads the BLAS/OpenMP pools behind CPU ops use."""
    n = int
    _check_threads("set_num_threads", n)
    _threads["intra"] = n
    _parallel.set_threads(n)  # the elementwise kernels' pieces
    ctl = _controller()
    if ctl:
        _threads["limit"] = ctl.limit(limits=n)  # applied at once, kept until changed again
    else:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(n)


def get_num_threads():
    """The number of threads CPU ops use (the BLAS pool's size unless set)."""
    if _threads["intra"] is not None:
        return _threads["intra"]
    ctl = _controller()
    if ctl:
        counts = [lib.num_threads for lib in ctl.lib_controllers if lib.user_api == "blas"]
        if counts:
            return max(counts)
    return _parallel.default_threads()




def set_num_interop_threads(int):  # noqa: A002
    """Set the inter-op thread count (only once, as in torch; ember runs ops one at a time)."""
    n = int
    _check_threads("set_num_interop_threads", n)
    if _threads["interop_set"]:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work has started or "
                           "set_num_interop_threads called")
    _threads["interop"], _threads["interop_set"] = n, True


def get_num_interop_threads():
    """The inter-op thread count (defaults to the number of usable cores)."""
    n = _threads["interop"]
    return _parallel.default_threads() if n is None else n


# ---------------------------------------------------------------- bind
Tensor.numpy = numpy
Tensor.__array__ = __array__
Tensor.__array_wrap__ = __array_wrap__
Tensor.__dlpack__ = __dlpack__
Tensor.__dlpack_device__ = __dlpack_device__

FUNCS = dict(from_dlpack=from_dlpack, set_num_threads=set_num_threads, get_num_threads=get_num_threads,
             set_num_interop_threads=set_num_interop_threads, get_num_interop_threads=get_num_interop_threads)
