"""ember.device: 'cpu', 'cuda[:N]' or 'meta'."""
from .backend import get_backend

_cache = {}


class device:
    """A device, parsed like torch.device('cuda:0') or torch.device('cuda', 0)."""
    __slots__ = ("type", "index", "_be")

    def __new__(cls, type_or_str, index=None):
        if isinstance(type_or_str, device):
            return type_or_str
        key = (type_or_str, index)
        d = _cache.get(key)
        if d is not None:
            return d
        if isinstance(type_or_str, int):
            t, idx = "cuda", type_or_str
        else:
            s = str(type_or_str)
            t, _, i = s.partition(":")
            if i:
                if index is not None:
                    raise RuntimeError(f"type (string) must not include an index because index was "
                                       f"passed explicitly: {s}")
                if not i.isdigit():
                    raise RuntimeError(f"Invalid device string: '{s}'")
                idx = int(i)
            else:
                idx = index
        if t not in ("cpu", "cuda", "meta"):
            raise RuntimeError(f"Expected one of cpu, cuda, meta device type at start of device string: {t}")
        if idx is not None and idx < 0:
            raise RuntimeError(f"Device index must not be negative")
        d = object.__new__(cls)
        d.type, d.index, d._be = t, idx, None
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
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

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


CPU = device("cpu")
_default = [CPU]
_stack = []


def to_device(d):
    """Normalise None/str/int/device to a device; bare 'cuda' means the current CUDA device."""
    if d is None:
        return _default[0]
    if type(d) is device:
        return d
    return device(d)
