"""ember.save / ember.load in PyTorch's own checkpoint format, safe by construction.

The file is torch's zip archive: ``<name>/data.pkl`` (pickle protocol 2) names storages by persistent id
``('storage', torch.<Type>Storage, key, location, numel)``, whose bytes live in ``<name>/data/<key>``
records aligned to 64 bytes, plus ``version``, ``byteorder``, ``.format_version``, ``.storage_alignment``.
ember writes the global names torch uses (``torch._utils._rebuild_tensor_v2``, ``torch.FloatStorage``,
``collections.OrderedDict``, ...) without importing torch, so ``torch.load(..., weights_only=True)`` reads
ember's files, and ember reads torch's.

Loading is safe by default (``weights_only=True``): a restricted unpickler maps an explicit allowlist of
global names to ember's own objects, never imports a module named in the file, accepts only 'storage'
persistent ids, and validates every storage (dtype, record length, offset/size/stride bounds) before use.
Saving is atomic: a temporary file in the same folder, flushed and fsynced, then ``os.replace``.
"""
import _compat_pickle
import collections
import contextlib
import io
import os
import pickle
import struct
import sys
import tempfile
import zipfile

import numpy as np

from . import _dtype as D
from ._device import device as Device
from ._size import Size
from ._storage import UntypedStorage, root_of
from ._tensor import Tensor

DEFAULT_PROTOCOL = 2
_ALIGN = 64
_MAX_PKL_BYTES = 1 << 30  # data.pkl larger than this is refused (a zip bomb or a hostile file)

# storage class name in torch <-> ember dtype (uint16/32/64 use untyped storages and _rebuild_tensor_v3)
_STORAGE_NAMES = {
    "FloatStorage": D.float32, "DoubleStorage": D.float64, "HalfStorage": D.float16,
    "BFloat16Storage": D.bfloat16, "LongStorage": D.int64, "IntStorage": D.int32, "ShortStorage": D.int16,
    "CharStorage": D.int8, "ByteStorage": D.uint8, "BoolStorage": D.bool_, "ComplexFloatStorage": D.complex64,
    "ComplexDoubleStorage": D.complex128,
}
_DTYPE_TO_STORAGE = {v: k for k, v in _STORAGE_NAMES.items()}


# ============================================================================ saving
class _Global:
    """A global name written into the pickle as-is (GLOBAL opcode), without importing its module."""
    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle requires reduce functions to be callable; this one is never called
        raise TypeError(f"{self.module}.{self.name} is a name written into a checkpoint, not a function")


_GLOBALS = {}


def _g(module, name):
    k = (module, name)
    if k not in _GLOBALS:
        _GLOBALS[k] = _Global(module, name)
    return _GLOBALS[k]


class _StorageRef:
    """Stands for one storage in the pickle; ``persistent_id`` turns it into torch's tuple."""
    __slots__ = ("key", "storage", "dtype", "numel")

    def __init__(self, key, storage, dtype, numel):
        self.key, self.storage, self.dtype, self.numel = key, storage, dtype, numel


class _Pickler(pickle._Pickler):
    """Pure-Python pickler (so GLOBAL names can be written for modules that are not importable)."""

    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file, protocol, storages):
        super().__init__(file, protocol)
        self.storages = storages  # id(UntypedStorage) -> _StorageRef, in first-seen order

    def save_marker(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
        self.memoize(obj)

    dispatch[_Global] = save_marker

    def save_dtype(self, obj):
        self.save(_g("torch", obj.name))  # through save(): the marker may already be memoized

    dispatch[D.dtype] = save_dtype

    def persistent_id(self, obj):
        if isinstance(obj, _StorageRef):
            dt = obj.dtype
            name = _DTYPE_TO_STORAGE.get(dt)
            loc = str(obj.storage.device) if obj.storage.device.type != "cuda" else \
                f"cuda:{obj.storage.device.index or 0}"
            if name is None:  # uint16/32/64: untyped storage counted in bytes
                return ("storage", _g("torch.storage", "UntypedStorage"), obj.key, loc, obj.numel * dt.itemsize)
            return ("storage", _g("torch", name), obj.key, loc, obj.numel)
        return None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        if type(obj) is Size:
            return (_g("torch", "Size"), (tuple(obj),))
        if type(obj) is Device:
            return (_g("torch", "device"), (str(obj),))
        if isinstance(obj, D.dtype):
            return NotImplemented
        return NotImplemented

    def _storage_ref(self, t):
        st = t._storage
        ref = self.storages.get(id(st))
        if ref is None:
            root = st._root
            numel = root.size * root.dtype.itemsize // t.dtype.itemsize if t.device.type != "meta" else 0
            ref = self.storages[id(st)] = _StorageRef(str(len(self.storages)), st, t.dtype, numel)
        return ref

    def _reduce_tensor(self, t):
        from .nn.parameter import Parameter
        if t.device.type == "meta":
            raise RuntimeError("Cannot save a meta tensor: it has no data (save its shape and dtype instead)")
        if isinstance(t, Parameter):
            return (_g("torch._utils", "_rebuild_parameter"),
                    (t.detach(), t.requires_grad, collections.OrderedDict()))
        if type(t) is not Tensor and not isinstance(t, Parameter):
            t = t.as_subclass(Tensor) if hasattr(t, "as_subclass") else t
        ref = self._storage_ref(t)
        args = (ref, t.storage_offset(), tuple(t.shape), tuple(t.stride()), t.requires_grad,
                collections.OrderedDict())
        if t.dtype not in _DTYPE_TO_STORAGE:
            return (_g("torch._utils", "_rebuild_tensor_v3"), args + (t.dtype,))
        return (_g("torch._utils", "_rebuild_tensor_v2"), args)


def _storage_bytes(storage):
    """The whole storage as a zero-copy uint8 view (host side)."""
    root = storage._root
    host = storage.device.backend.to_host(root)
    if host.flags.c_contiguous or host.flags.f_contiguous:
        return host.reshape(-1, order="A").view(np.uint8) if host.size else np.empty(0, np.uint8)
    # an owner array with permuted dims is still one dense block: view it in memory order (no copy)
    order = np.argsort(host.strides)[::-1]
    return host.transpose(order).reshape(-1).view(np.uint8)


class _ZipWriter:
    """Writes torch's zip layout: stored (uncompressed) records whose data start on 64-byte boundaries."""

    def __init__(self, fileobj, name):
        self.zf = zipfile.ZipFile(fileobj, "w", zipfile.ZIP_STORED, allowZip64=True)
        self.fp = fileobj
        self.prefix = name + "/"

    def write(self, name, data):
        full = self.prefix + name
        info = zipfile.ZipInfo(full, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        info.external_attr = 0o600 << 16
        mv = memoryview(data).cast("B") if not isinstance(data, bytes) else memoryview(data)
        size = mv.nbytes
        zip64 = size > 0x7FFFFFFF
        offset = self.fp.tell()
        base = offset + 30 + len(full.encode("utf-8")) + 4 + (20 if zip64 else 0)
        pad = (-base) % _ALIGN
        info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
        info.file_size = size
        with self.zf.open(info, "w", force_zip64=zip64) as w:
            w.write(mv)

    def close(self):
        self.zf.close()


def _archive_name(f):
    if isinstance(f, (str, os.PathLike)):
        base = os.path.basename(os.fspath(f))
        stem = os.path.splitext(base)[0]
        return stem or "archive"
    return "archive"


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save ``obj`` in PyTorch's checkpoint format; paths are written atomically (temp file + rename)."""
    if not _use_new_zipfile_serialization:
        raise RuntimeError("ember only writes the zip-based format (_use_new_zipfile_serialization=True)")
    if pickle_protocol != 2:
        # torch also writes protocol 2 by default; other protocols would not load in older torch versions
        pass
    buf = io.BytesIO()
    storages = {}
    p = _Pickler(buf, pickle_protocol, storages)
    p.dump(obj)
    name = _archive_name(f)

    def write_all(fp):
        zw = _ZipWriter(fp, name)
        zw.write("data.pkl", buf.getvalue())
        zw.write(".format_version", b"1")
        zw.write(".storage_alignment", str(_ALIGN).encode())
        if not _disable_byteorder_record:
            zw.write("byteorder", sys.byteorder.encode())
        for ref in storages.values():
            zw.write(f"data/{ref.key}", _storage_bytes(ref.storage))
        zw.write("version", b"3\n")
        zw.write(".data/serialization_id", _serialization_id(buf.getvalue()))
        zw.close()

    if isinstance(f, (str, os.PathLike)):
        _atomic_write(os.fspath(f), write_all)
    else:
        if not hasattr(f, "write"):
            raise AttributeError("expected 'f' to be string, path, or a file-like object with a 'write' attribute")
        seekable = hasattr(f, "seek") and hasattr(f, "tell") and (not hasattr(f, "seekable") or f.seekable())
        write_all(f if seekable else _SeekableWriter(f))


def _serialization_id(payload):
    import hashlib
    return str(int(hashlib.sha1(payload).hexdigest(), 16) % (10 ** 40)).zfill(40).encode()


class _SeekableWriter:
    """Adds ``tell`` to write-only streams (zipfile needs the current offset)."""

    def __init__(self, f):
        self.f = f
        try:
            self.pos = f.tell()
        except (AttributeError, OSError, io.UnsupportedOperation):
            self.pos = 0

    def write(self, b):
        n = self.f.write(b)
        self.pos += len(b) if n is None else n
        return n

    def tell(self):
        return self.pos

    def flush(self):
        if hasattr(self.f, "flush"):
            self.f.flush()

    def seekable(self):
        return False


def _atomic_write(path, write_fn):
    """Write through ``write_fn(fileobj)`` to a temp file beside ``path``, fsync, then rename over it."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise RuntimeError(f"Parent directory {folder} does not exist.")
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fp:
            write_fn(fp)
            fp.flush()
            os.fsync(fp.fileno())
        os.replace(tmp, path)
        try:  # make the rename itself durable
            dfd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# ============================================================================ loading
class UnpicklingError(pickle.UnpicklingError):
    pass


_safe_globals = {}


def add_safe_globals(safe_globals):
    """Allow these classes/functions (or (obj, 'module.name') pairs) in ``weights_only`` loads."""
    for g in safe_globals:
        if isinstance(g, tuple):
            obj, name = g
        else:
            obj, name = g, f"{g.__module__}.{g.__qualname__}"
        _safe_globals[name] = obj


def get_safe_globals():
    return list(_safe_globals.values())


def clear_safe_globals():
    _safe_globals.clear()


@contextlib.contextmanager
def safe_globals(globals_list):
    """Context manager: ``add_safe_globals`` for the duration of the block."""
    saved = dict(_safe_globals)
    add_safe_globals(globals_list)
    try:
        yield
    finally:
        _safe_globals.clear()
        _safe_globals.update(saved)


class _StorageType:
    """The value a torch ``<Type>Storage`` global resolves to: just its dtype (None = untyped)."""
    __slots__ = ("dtype", "name")

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype


def _validate_view(numel, offset, size, stride, what="tensor"):
    if not isinstance(offset, int) or offset < 0:
        raise RuntimeError(f"invalid checkpoint: {what} has a negative or non-integer storage offset {offset!r}")
    if not isinstance(size, (tuple, list)) or not isinstance(stride, (tuple, list)) or len(size) != len(stride):
        raise RuntimeError(f"invalid checkpoint: {what} sizes {size!r} and strides {stride!r} do not match")
    for v in tuple(size) + tuple(stride):
        if not isinstance(v, int) or v < 0:
            raise RuntimeError(f"invalid checkpoint: {what} has a negative or non-integer size/stride {v!r}")
    if all(s > 0 for s in size):
        last = offset + sum((s - 1) * st for s, st in zip(size, stride))
        if last >= numel:
            raise RuntimeError(f"invalid checkpoint: {what} with sizes {list(size)}, strides {list(stride)} and "
                               f"storage offset {offset} reads element {last}, past the end of its storage of "
                               f"{numel} elements")


class _Loaded:
    """A loaded storage: a 1-D host array (typed) plus where it should live."""
    __slots__ = ("array", "storage", "location")

    def __init__(self, array, location):
        self.array, self.location = array, location
        self.storage = None


def _rebuild_tensor(loaded, offset, size, stride, requires_grad, hooks=None, metadata=None, dtype=None):
    if not isinstance(loaded, _Loaded):
        raise RuntimeError("invalid checkpoint: a tensor's storage is not a storage record")
    arr = loaded.array
    if dtype is not None:  # v3: untyped storage of bytes, typed here
        if not isinstance(dtype, D.dtype):
            raise RuntimeError("invalid checkpoint: _rebuild_tensor_v3 dtype is not a dtype")
        if arr.dtype != np.uint8:
            arr = arr.view(np.uint8)
        if arr.size % dtype.itemsize:
            raise RuntimeError("invalid checkpoint: storage size is not a multiple of the element size")
        arr = arr.view(dtype.np)
    size, stride = tuple(size), tuple(stride)
    _validate_view(arr.size, offset, size, stride)
    isz = arr.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(arr[offset:] if arr.size else arr, size, [s * isz for s in stride])
    if loaded.storage is None:  # tensors that share a storage record share one ember storage
        loaded.storage = UntypedStorage(root_of(view), Device(loaded.location))
    t = Tensor._make(view, loaded.storage.device, loaded.storage)
    if loaded.storage.device.type != "cpu":
        t = Tensor._make(loaded.storage.device.backend.from_host(np.ascontiguousarray(view)), loaded.storage.device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor_v3(loaded, offset, size, stride, requires_grad, hooks, dtype, metadata=None):
    return _rebuild_tensor(loaded, offset, size, stride, requires_grad, hooks, metadata, dtype)


def _rebuild_tensor_v1(loaded, offset, size, stride):
    return _rebuild_tensor(loaded, offset, size, stride, False)


def _rebuild_parameter(data, requires_grad, backward_hooks=None):
    from .nn.parameter import Parameter
    if not isinstance(data, Tensor):
        raise RuntimeError("invalid checkpoint: a Parameter's data is not a tensor")
    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    p = _rebuild_parameter(data, requires_grad)
    if state:
        for k, v in dict(state).items():
            if not isinstance(k, str) or k.startswith("_"):
                raise RuntimeError("invalid checkpoint: bad Parameter state")
            p.__dict__[k] = v
    return p


def _make_device(*args):
    return Device(*args)


def _encode(s, encoding="latin1"):  # protocol-2 pickles encode bytes as _codecs.encode(str, 'latin1')
    if not isinstance(s, str) or encoding not in ("latin1", "latin-1"):
        raise RuntimeError("invalid checkpoint: unexpected _codecs.encode call")
    return s.encode(encoding)


def _allowlist():
    from .nn.parameter import Parameter
    allowed = {
        "collections.OrderedDict": collections.OrderedDict,
        "collections.defaultdict": collections.defaultdict,
        "builtins.set": set, "builtins.frozenset": frozenset, "builtins.slice": slice,
        "builtins.complex": complex, "builtins.bytearray": bytearray, "builtins.range": range,
        "_codecs.encode": _encode,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor,
        "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
        "torch._utils._rebuild_tensor": _rebuild_tensor_v1,
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
        "torch.Size": Size, "torch.device": _make_device,
        "torch.nn.parameter.Parameter": Parameter,
        "torch.storage.UntypedStorage": _StorageType("UntypedStorage", None),
    }
    for n, dt in _STORAGE_NAMES.items():
        allowed["torch." + n] = _StorageType(n, dt)
    for d in D.ALL:
        allowed["torch." + d.name] = d
    for alias, d in D.ALIASES.items():
        allowed["torch." + alias] = d
    return allowed


class _ArchiveReader:
    """Reads records of a torch zip checkpoint, checking names and refusing compressed entries."""

    def __init__(self, f, mmap_path=None):
        try:
            self.zf = zipfile.ZipFile(f)
        except zipfile.BadZipFile as e:
            raise RuntimeError(f"PytorchStreamReader failed reading zip archive: not a valid zip file ({e})") from None
        names = self.zf.namelist()
        pkls = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if not pkls:
            raise RuntimeError("PytorchStreamReader failed locating file data.pkl: file not found")
        self.prefix = pkls[0][: -len("data.pkl")]
        for n in names:
            if ".." in n.split("/") or n.startswith("/") or "\\" in n:
                raise RuntimeError(f"invalid checkpoint: archive entry with an unsafe name {n!r}")
        if self.prefix + "version" not in names and self.prefix + ".data/version" not in names:
            raise RuntimeError("PytorchStreamReader failed locating file version: file not found")
        self.mmap_path = mmap_path
        self._mm = None

    def info(self, name):
        try:
            info = self.zf.getinfo(self.prefix + name)
        except KeyError:
            raise RuntimeError(f"PytorchStreamReader failed locating file {name}: file not found") from None
        if info.compress_type != zipfile.ZIP_STORED:
            raise RuntimeError(f"invalid checkpoint: record {name} is compressed; torch checkpoints store records "
                               f"uncompressed")
        return info

    def read(self, name, limit=None):
        info = self.info(name)
        if limit is not None and info.file_size > limit:
            raise RuntimeError(f"invalid checkpoint: record {name} is {info.file_size} bytes, more than the "
                               f"{limit} allowed")
        with self.zf.open(info) as fp:
            data = fp.read(info.file_size + 1)
        if len(data) != info.file_size:
            raise RuntimeError(f"invalid checkpoint: record {name} is truncated or longer than its header says")
        return data

    def array(self, name, dtype, expected_bytes):
        info = self.info(name)
        if info.file_size != expected_bytes:
            raise RuntimeError(f"invalid checkpoint: storage record {name} holds {info.file_size} bytes but the "
                               f"pickle claims {expected_bytes}")
        if self.mmap_path is not None:
            if self._mm is None:
                self._mm = np.memmap(self.mmap_path, dtype=np.uint8, mode="r")
            off = _data_offset(self._mm, info)
            raw = self._mm[off: off + expected_bytes]
            return np.asarray(raw).view(dtype)
        # records are stored uncompressed: read the bytes straight into the array (no bytes object, no
        # bytearray copy of it, no CRC pass; torch's reader does not check record CRCs either)
        fp = self.zf.fp
        fp.seek(info.header_offset)
        head = fp.read(30)
        if len(head) != 30 or head[:4] != b"PK\x03\x04":
            raise RuntimeError("invalid checkpoint: bad local header")
        fp.seek(info.header_offset + 30 + int.from_bytes(head[26:28], "little") +
                int.from_bytes(head[28:30], "little"))
        arr = np.empty(expected_bytes // np.dtype(dtype).itemsize, dtype)
        if hasattr(fp, "readinto"):
            got = fp.readinto(memoryview(arr.view(np.uint8)))
        else:  # a minimal file-like object (read/seek/tell only)
            data = fp.read(expected_bytes)
            got = len(data)
            arr.view(np.uint8)[:got] = np.frombuffer(data, np.uint8)
        if got != expected_bytes:
            raise RuntimeError(f"invalid checkpoint: record {name} is truncated or longer than its header says")
        return arr


def _data_offset(mm, info):
    off = info.header_offset
    if bytes(mm[off: off + 4]) != b"PK\x03\x04":
        raise RuntimeError("invalid checkpoint: bad local header")
    n = int.from_bytes(bytes(mm[off + 26: off + 28]), "little")
    m = int.from_bytes(bytes(mm[off + 28: off + 30]), "little")
    return off + 30 + n + m


class _Unpickler(pickle.Unpickler):
    """Restricted (weights_only) or full unpickler with torch-name mapping and storage validation."""

    def __init__(self, file, reader, map_location, weights_only, **kw):
        super().__init__(file, **kw)
        self.reader, self.map_location, self.weights_only = reader, map_location, weights_only
        self.loaded = {}
        self.allowed = _allowlist()

    def find_class(self, module, name):
        # protocol-2 pickles use Python 2 names (__builtin__.set): normalise like pickle's fix_imports
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        full = f"{module}.{name}"
        obj = self.allowed.get(full)
        if obj is not None:
            return obj
        if full in _safe_globals:
            return _safe_globals[full]
        if self.weights_only:
            raise UnpicklingError(
                f"Weights only load failed. The file refers to the global '{full}', which is not an allowed "
                f"global for weights_only loading. Nothing from the file was executed.\n"
                f"If you trust the source of this file, load it with weights_only=False (this can run code from "
                f"the file), or allow this global with ember.serialization.add_safe_globals([{name}]).")
        if module.startswith("torch"):
            # a full-module checkpoint written by torch: map its classes onto ember's where they exist
            mapped = _map_torch_name(module, name)
            if mapped is not None:
                return mapped
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or len(pid) != 5 or pid[0] != "storage":
            raise UnpicklingError(f"invalid checkpoint: unsupported persistent id {pid!r} (only 'storage' records "
                                  f"are allowed)")
        _, stype, key, location, numel = pid
        if not isinstance(stype, _StorageType):
            raise UnpicklingError(f"invalid checkpoint: unknown storage type {stype!r}")
        if not isinstance(key, str) or not key or not all(c.isalnum() or c in "_-" for c in key):
            raise UnpicklingError(f"invalid checkpoint: bad storage key {key!r}")
        if not isinstance(numel, int) or numel < 0:
            raise UnpicklingError(f"invalid checkpoint: bad storage size {numel!r}")
        if not isinstance(location, str):
            raise UnpicklingError(f"invalid checkpoint: bad storage location {location!r}")
        got = self.loaded.get(key)
        if got is not None:
            return got
        npdt = np.uint8 if stype.dtype is None else stype.dtype.np
        itemsize = 1 if stype.dtype is None else stype.dtype.itemsize
        arr = self.reader.array(f"data/{key}", npdt, numel * itemsize)
        loc = _map_location(location, self.map_location)
        ld = self.loaded[key] = _Loaded(arr, loc)
        return ld


_MAX_DEPTH = 1000


def _check_depth(obj):
    """Refuse containers nested deeper than any checkpoint needs (they break recursive code later)."""
    stack, seen = [(obj, 0)], set()
    while stack:
        o, d = stack.pop()
        if d > _MAX_DEPTH:
            raise UnpicklingError(f"invalid checkpoint: containers nested more than {_MAX_DEPTH} levels deep")
        if isinstance(o, (dict, list, tuple, set, frozenset)) and id(o) not in seen:
            seen.add(id(o))
            items = o.values() if isinstance(o, dict) else o
            stack.extend((x, d + 1) for x in items)


def _map_torch_name(module, name):
    import importlib
    mod = "ember" + module[len("torch"):]
    try:
        m = importlib.import_module(mod)
    except ImportError:
        return None
    return getattr(m, name, None)


def _map_location(location, map_location):
    if map_location is None:
        loc = location
    elif isinstance(map_location, (str, Device)):
        loc = str(map_location)
    elif isinstance(map_location, dict):
        loc = map_location.get(location, location)
    elif callable(map_location):
        r = map_location(None, location)
        loc = location if r is None else str(r.device if hasattr(r, "device") else r)
    else:
        raise ValueError(f"map_location should be a str, torch.device, dict or callable, got "
                         f"{type(map_location).__name__}")
    loc = str(loc)
    if loc.startswith("cuda"):
        from . import cuda
        if not cuda.is_available():
            raise RuntimeError("Attempting to deserialize object on a CUDA device but torch.cuda.is_available() "
                               "is False. If you are running on a CPU-only machine, please use torch.load with "
                               "map_location=torch.device('cpu') to map your storages to the CPU.")
    return loc if loc in ("cpu", "meta") or loc.startswith("cuda") else "cpu"


def _weights_only_default(weights_only):
    force_no = os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0") not in ("0", "")
    force_yes = os.environ.get("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "0") not in ("0", "")
    if force_yes:
        return True
    if weights_only is None:
        return not force_no
    return bool(weights_only)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load an object saved by ``ember.save`` or ``torch.save`` (weights_only=True by default: safe)."""
    weights_only = _weights_only_default(weights_only)
    if pickle_module is not None and weights_only:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    mmap_path = None
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        if mmap:
            mmap_path = path
        with open(path, "rb") as fp:
            return _load_from(fp, map_location, weights_only, mmap_path, pickle_load_args)
    if mmap:
        raise ValueError("f must be a file path in order to use the mmap argument")
    if not hasattr(f, "read"):
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a 'read' attribute")
    return _load_from(f, map_location, weights_only, None, pickle_load_args)


def _load_from(fp, map_location, weights_only, mmap_path, kw):
    start = fp.read(4)
    fp.seek(-len(start), 1)
    if start != b"PK\x03\x04":
        if start[:1] == b"\x80" and not weights_only:
            return pickle.load(fp, **kw)  # legacy non-zip pickle, only when the caller accepts code execution
        raise RuntimeError("Invalid checkpoint: not a zip archive in PyTorch's format (a legacy or foreign "
                           "pickle file?). Only zip checkpoints can be loaded safely; files from a trusted source "
                           "in the legacy format can be loaded with weights_only=False.")
    reader = _ArchiveReader(fp, mmap_path)
    payload = reader.read("data.pkl", limit=_MAX_PKL_BYTES)
    bo = reader.zf.namelist()
    if reader.prefix + "byteorder" in bo:
        order = reader.read("byteorder", limit=16).decode("ascii", "replace")
        if order != sys.byteorder:
            raise RuntimeError(f"checkpoint byte order '{order}' differs from this machine's '{sys.byteorder}'")
    up = _Unpickler(io.BytesIO(payload), reader, map_location, weights_only, **kw)
    try:
        obj = up.load()
        _check_depth(obj)
        return obj
    except (UnpicklingError, RuntimeError):
        raise
    except RecursionError:
        raise UnpicklingError("invalid checkpoint: structure nested too deeply") from None
    except Exception as e:
        if weights_only:
            raise UnpicklingError(f"Weights only load failed: {type(e).__name__}: {e}. Nothing from the file was "
                                  f"executed.") from None
        raise
