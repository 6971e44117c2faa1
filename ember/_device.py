"""ember.device: 'cpu', 'cuda[:N]' or 'meta' (any torch device type parses; only these three have backends)."""
import re

from .backend import get_backend

_cache = {}
# torch's device type names, in the order its error message lists them
_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
          "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
_PATTERN = re.compile(r"([a-zA-Z_]+)(?::(0|[1-9][0-9]*))?")
_MISSING = object()


def _bad_args(args, invalid):
    got = ", ".join(type(a).__name__ for a in args)
    lines = [f"device() received an invalid combination of arguments - got ({got}), but expected one of:",
             " * (torch.device device)"]
    if invalid:
        lines.append("      didn't match because some of the arguments have invalid types: (" +
                     ", ".join(f"!{type(a).__name__}!" for a in args) + ")")
    lines.append(" * (str type, int index = -1)")
    return TypeError("\n".join(lines) + "\n")


def _parse(s):
    """(type, index or None) from 'cuda', 'cuda:1', ... with torch's errors."""
    if not s:
        raise RuntimeError("Device string must not be empty")
    m = _PATTERN.fullmatch(s)
    if m is None:
        raise RuntimeError(f"Invalid device string: '{s}'")
    t, i = m.group(1), m.group(2)
    idx = None
    if i is not None:
        idx = int(i)
        if idx > 127:  # torch keeps device indices in an int8
            raise RuntimeError(f"Could not parse device index '{i}' in device string '{s}'")
    if t not in _TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of device string: {t}")
    return t, idx


class device:
    """A device, parsed like torch.device('cuda:0') or torch.device('cuda', 0)."""
    __slots__ = ("type", "index", "_be")

    def __new__(cls, *args, **kwargs):
        type, index = _unpack(args, kwargs)  # noqa: A001 - torch's keyword names
        if isinstance(type, device) and index is None:
            return type
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
            raise TypeError(f"device(): argument 'index' (position 2) must be int, not {_tname(index)}")
        key = (type, index)
        d = _cache.get(key) if isinstance(type, str) else None
        if d is not None:
            return d
        if isinstance(type, int) and not isinstance(type, bool):
            if index is not None:
                raise _bad_args((type, index), True)
            if type < 0:
                raise RuntimeError("Device index must not be negative")
            from . import cuda
            if not cuda.is_available():
                raise RuntimeError("Cannot access accelerator device when none is available.")
            t, idx = "cuda", type  # a bare index names the current accelerator
        elif isinstance(type, str):
            t, idx = _parse(type)
            if idx is not None and index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed "
                                   f"explicitly: {type}")
            if idx is None:
                idx = index
        else:
            raise _bad_args((type,) if index is None else (type, index), True)
        if idx is not None and idx < 0:
            raise RuntimeError("Device index must not be negative")
        d = object.__new__(cls)
        d.type, d.index, d._be = t, idx, None
        if isinstance(type, str):  # ints depend on CUDA being present, so only strings are cached
            _cache[key] = d
        return d

    @property
    def backend(self):
        be = self._be
        if be is None:
            be = self._be = get_backend(self.type)
        return be

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        # like torch, a device never equals a string: compare with ember.device('cuda:0')
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))

    def __enter__(self):  # `with ember.device('meta'):` makes factories default to it
        _stack.append(_default[0])
        _default[0] = self
        return self

    def __exit__(self, *exc):
        _default[0] = _stack.pop()


def _tname(x):
    return type(x).__name__


def _unpack(args, kwargs):
    """(type, index) from torch.device's (type, index=None) arguments, with its errors."""
    for k in kwargs:
        if k not in ("type", "index"):
            raise TypeError(f"device() got an unexpected keyword argument '{k}'")
    if len(args) > 2 or (not args and "type" not in kwargs):
        raise _bad_args(args, False)
    names = ("type", "index")[:len(args)]
    for k in names:
        if k in kwargs:
            raise TypeError(f"device() got multiple values for argument '{k}'")
    vals = dict(zip(names, args), **kwargs)
    return vals["type"], vals.get("index")


CPU = device("cpu")
_default = [CPU]
_stack = []
_cuda_current = [0]  # the index bare 'cuda' means; set by ember.cuda.set_device


def to_device(d):
    """Normalise None/str/int/device to the device a tensor is placed on.

    Bare 'cuda' means the current CUDA device; cpu and meta tensors carry no index (``cpu:1`` is ``cpu``).
    """
    if d is None:
        d = _default[0]
    elif type(d) is not device:
        d = device(d)
    idx = d.index
    if d.type == "cuda":
        if idx is None:
            return device("cuda", _cuda_current[0])
    elif idx is not None and d.type in ("cpu", "meta"):
        return device(d.type)
    return d
