"""ember.safetensors: the safetensors format, interchangeable with ``safetensors.torch``.

Built on the ``safetensors`` package's NumPy API (imported lazily, so ``import ember`` never needs it);
bfloat16 travels as ml_dtypes' bfloat16. The checks mirror ``safetensors.torch``: tensors that share
memory are refused (the error names the keys and points to ``save_model``), non-contiguous tensors are
refused (call ``.contiguous()``), and complex128 is not a safetensors dtype. Files are written atomically:
a temporary file in the same folder, fsynced, then ``os.replace``.
"""
import json
import os
import struct
import tempfile
from collections import defaultdict

import numpy as np

from . import _dtype as D
from ._device import device as Device
from ._tensor import Tensor

__all__ = ["save", "save_file", "load", "load_file", "save_model", "load_model"]

# safetensors' dtype tags; F8_* exist in the format but have no ember dtype
_TAGS = {
    "BOOL": D.bool_, "U8": D.uint8, "I8": D.int8, "I16": D.int16, "U16": D.uint16, "I32": D.int32,
    "U32": D.uint32, "I64": D.int64, "U64": D.uint64, "F16": D.float16, "BF16": D.bfloat16, "F32": D.float32,
    "F64": D.float64, "C64": D.complex64,
}
_SAVABLE = set(_TAGS.values())
_DOCS = "https://huggingface.co/docs/safetensors/torch_shared_tensors"


def _lib():
    try:
        import safetensors
        import safetensors.numpy  # noqa: F401
    except ImportError:
        raise ImportError("ember.safetensors needs the 'safetensors' package: pip install safetensors "
                          "(or ember[safetensors])") from None
    return safetensors


# ---------------------------------------------------------------------------- shared-memory checks
def _byte_range(t):
    """[start, stop) of the bytes ``t`` reads."""
    p, isz = t.data_ptr(), t.element_size()
    if not t.numel():
        return p, p
    reach = [(n - 1) * s for n, s in zip(t.shape, t.stride())]
    return p + sum(r for r in reach if r < 0) * isz, p + (sum(r for r in reach if r > 0) + 1) * isz


def _find_shared(tensors):
    """Groups of names whose tensors overlap in memory (single names for the others), as safetensors.torch
    finds them: grouped by storage, then split into runs of overlapping byte ranges."""
    by_storage = defaultdict(set)
    for k, v in tensors.items():
        st = v.untyped_storage()
        if v.device.type != "meta" and st.data_ptr() != 0 and st.nbytes() != 0:
            by_storage[(str(v.device), st.data_ptr(), st.nbytes())].add(k)
    groups = []
    for names in sorted(by_storage.values(), key=lambda g: sorted(map(str, g))):
        if len(names) < 2:
            groups.append(names)
            continue
        areas = sorted((*_byte_range(tensors[n]), str(n), n) for n in names)
        groups.append({areas[0][3]})
        stop = areas[0][1]
        for a_start, a_stop, _, n in areas[1:]:
            if a_start >= stop:
                groups.append({n})
            else:
                groups[-1].add(n)
            stop = max(stop, a_stop)  # a short tensor inside a long one must not hide later overlaps
    return groups


def _check(tensors):
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, torch.Tensor] but received {type(tensors)}")
    from . import strided
    sparse = []
    for k, v in tensors.items():
        if not isinstance(v, Tensor):
            raise ValueError(f"Key `{k}` is invalid, expected torch.Tensor but received {type(v)}")
        if v.layout is not strided:
            sparse.append(k)
    if sparse:
        raise ValueError(f"You are trying to save a sparse tensors: `{sparse}` which this library does not support. "
                         f"You can make it a dense tensor before saving with `.to_dense()` but be aware this might "
                         f"make a much larger file than needed.")
    failing = [names for names in _find_shared(tensors) if len(names) > 1]
    if failing:
        raise RuntimeError(
            f"\nSome tensors share memory, this will lead to duplicate memory on disk and potential differences when "
            f"loading them again: {failing}.\nA potential way to correctly save your model is to use `save_model`, or "
            f"to save a `.clone()` of the tensors that should be stored separately.\nMore information at {_DOCS}\n")


def _host_arrays(tensors):
    """Validated, C-contiguous host NumPy arrays over the tensors' memory (no copy on CPU)."""
    _check(tensors)
    out = {}
    for k, v in tensors.items():
        if not v.is_contiguous():
            raise ValueError(
                f"You are trying to save a non contiguous tensor: `{k}` which is not allowed. It either means you are "
                f"trying to save tensors which are reference of each other in which case it's recommended to save only "
                f"the full tensors, and reslice at load time, or simply call `.contiguous()` on your tensor to pack it "
                f"before saving.")
        if v.device.type == "meta":
            raise NotImplementedError("Cannot copy out of meta tensor; no data!")
        if v.dtype not in _SAVABLE:
            raise KeyError(v.dtype)
        a = v.device.backend.to_host(v._data)
        if not a.flags.c_contiguous:
            # contiguous for torch (size-1 dims may have any stride) but not flagged so by NumPy: the memory
            # is still one dense block, so give it C strides without copying
            a = np.lib.stride_tricks.as_strided(a, a.shape, _c_strides(a.shape, a.itemsize))
        out[k] = a
    return out


def _c_strides(shape, itemsize):
    st, acc = [], itemsize
    for n in reversed(shape):
        st.insert(0, acc)
        acc *= max(n, 1)
    return tuple(st)


# ---------------------------------------------------------------------------- saving
def save(tensors, metadata=None):
    """Serialize a dict of tensors to safetensors bytes."""
    arrays = _host_arrays(tensors)
    return _lib().numpy.save(arrays, metadata=metadata)


def save_file(tensors, filename, metadata=None):
    """Save a dict of tensors to a safetensors file (atomically: temp file, fsync, rename)."""
    arrays = _host_arrays(tensors)
    st = _lib()
    path = os.fspath(filename)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        st.numpy.save_file(arrays, path, metadata=metadata)  # raises safetensors' own error for the missing folder
        return
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        st.numpy.save_file(arrays, tmp, metadata=metadata)
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        _fsync(folder)
    except OSError:
        pass


def _fsync(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------- loading
def _to_device(device):
    if isinstance(device, int) and not isinstance(device, bool):
        return Device("cuda", device)
    return Device(device)


def _dtype_of(tag, name):
    dt = _TAGS.get(tag)
    if dt is None:
        raise TypeError(f"tensor '{name}' has safetensors dtype {tag}, which ember has no dtype for")
    return dt


def _wrap(arr, dt, dev):
    if arr.dtype != dt.np:
        arr = arr.view(dt.np)
    if not arr.flags.writeable or not arr.flags.aligned:
        arr = arr.copy()
    t = Tensor._make(arr)
    return t if dev.type == "cpu" else t.to(dev)


def load(data):
    """Load a dict of tensors from safetensors bytes (CPU)."""
    flat = dict(_lib().deserialize(data))
    cpu = Device("cpu")
    out = {}
    for k in _file_order(data, flat):
        v = flat[k]
        dt = _dtype_of(v["dtype"], k)
        # each tensor's bytes arrive as their own bytearray: viewing them needs no further copy
        out[k] = _wrap(np.frombuffer(v["data"], dtype=dt.np).reshape(v["shape"]), dt, cpu)
    return out


def _file_order(data, flat):
    """Names in the order their bytes lie in the file (deserialize's own order is a hash map's)."""
    n = struct.unpack("<Q", bytes(data[:8]))[0]
    header = json.loads(bytes(data[8:8 + n]))
    return sorted(flat, key=lambda k: (tuple(header[k]["data_offsets"]), k))


def load_file(filename, device="cpu"):
    """Load a dict of tensors from a safetensors file onto ``device``."""
    st = _lib()
    dev = _to_device(device)
    if dev.type == "meta":
        raise st.SafetensorError("device meta is invalid")
    out = {}
    with st.safe_open(filename, framework="np") as f:
        dts = {k: _dtype_of(f.get_slice(k).get_dtype(), k) for k in f.keys()}
        for k, arr in f.get_tensors().items():  # in file order, as safetensors.torch returns them
            out[k] = _wrap(arr, dts[k], dev)
    return out


# ---------------------------------------------------------------------------- whole models
def _is_complete(t):
    st = t.untyped_storage()
    return t.data_ptr() == st.data_ptr() and t.numel() * t.element_size() == st.nbytes()


def _duplicates(state_dict, preferred_names=(), discard_names=()):
    """For each group of names sharing memory: the name to keep -> the names to drop."""
    preferred_names, discard_names = set(preferred_names), set(discard_names)
    drop = defaultdict(list)
    for shared in _find_shared(state_dict):
        complete = {n for n in shared if _is_complete(state_dict[n])}
        if not complete:
            raise RuntimeError(
                f"Error while trying to find names to remove to save state dict, but found no suitable name to keep "
                f"for saving amongst: {shared}. None is covering the entire storage. Refusing to save/load the model "
                f"since you could be storing much more memory than needed. Please refer to {_DOCS} for more "
                f"information.")
        keep = min(complete)
        if complete - discard_names:
            keep = min(complete - discard_names)
        if preferred_names & complete:
            keep = min(preferred_names & complete)
        for n in sorted(shared):
            if n != keep:
                drop[keep].append(n)
    return drop


def save_model(model, filename, metadata=None, force_contiguous=True):
    """Save ``model.state_dict()``, keeping one name per group of tied (shared) tensors."""
    state_dict = model.state_dict()
    for kept, names in _duplicates(state_dict).items():
        for n in names:
            metadata = {} if metadata is None else metadata
            metadata.setdefault(n, kept)  # a note of which key to re-tie it to; user entries win
            del state_dict[n]
    if force_contiguous:
        state_dict = {k: v.contiguous() for k, v in state_dict.items()}
    try:
        save_file(state_dict, filename, metadata=metadata)
    except ValueError as e:
        raise ValueError(f"{e} Or use save_model(..., force_contiguous=True), read the docs for potential "
                         f"caveats.") from None


def load_model(model, filename, strict=True, device="cpu"):
    """Load a file written by ``save_model`` into ``model``; returns ``(missing, unexpected)`` names."""
    state_dict = load_file(filename, device=device)
    drop = _duplicates(model.state_dict(), preferred_names=state_dict.keys())
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    missing, unexpected = set(missing), list(unexpected)
    for names in drop.values():
        for n in names:  # tied names are filled through the name that was kept
            if n in missing:
                missing.remove(n)
            else:
                unexpected.append(n)
    if strict and (missing or unexpected):
        msg = f"Error(s) in loading state_dict for {model.__class__.__name__}:"
        if missing:
            msg += "\n    Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in sorted(missing))
        if unexpected:
            msg += "\n    Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in sorted(unexpected))
        raise RuntimeError(msg)
    return missing, unexpected
