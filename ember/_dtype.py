"""dtype objects and torch's type-promotion rules (result_type, promote_types, can_cast)."""
import numpy as np

try:  # bfloat16 has no NumPy dtype of its own; ml_dtypes provides one
    import ml_dtypes as _mld
    _BF16 = np.dtype(_mld.bfloat16)
except ImportError:  # pragma: no cover - ml_dtypes is a core dependency
    _BF16 = None

# category: 0 bool, 1 integer, 2 floating, 3 complex
class dtype:
    """A tensor element type, printed as ``torch.float32`` would be (``ember.float32``)."""
    __slots__ = ("name", "np", "itemsize", "category", "is_signed", "_rank", "__weakref__")

    def __init__(self, name, npdt, category, signed, rank):
        self.name, self.np, self.category, self.is_signed, self._rank = name, npdt, category, signed, rank
        self.itemsize = npdt.itemsize if npdt is not None else 2

    @property
    def is_floating_point(self):
        return self.category == 2

    @property
    def is_complex(self):
        return self.category == 3

    def to_real(self):
        return {complex64: float32, complex128: float64}.get(self, self)

    def to_complex(self):
        return {float64: complex128, complex128: complex128}.get(self, complex64)

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):  # pickles as a reference to the module attribute
        return (_dtype_by_name, (self.name,))


def _dtype_by_name(name):
    return _BY_NAME[name]


bool_ = dtype("bool", np.dtype(np.bool_), 0, False, 0)
uint8 = dtype("uint8", np.dtype(np.uint8), 1, False, 1)
int8 = dtype("int8", np.dtype(np.int8), 1, True, 1)
int16 = dtype("int16", np.dtype(np.int16), 1, True, 2)
int32 = dtype("int32", np.dtype(np.int32), 1, True, 3)
int64 = dtype("int64", np.dtype(np.int64), 1, True, 4)
uint16 = dtype("uint16", np.dtype(np.uint16), 1, False, 2)
uint32 = dtype("uint32", np.dtype(np.uint32), 1, False, 3)
uint64 = dtype("uint64", np.dtype(np.uint64), 1, False, 4)
float16 = dtype("float16", np.dtype(np.float16), 2, True, 1)
bfloat16 = dtype("bfloat16", _BF16, 2, True, 1)
float32 = dtype("float32", np.dtype(np.float32), 2, True, 2)
float64 = dtype("float64", np.dtype(np.float64), 2, True, 3)
complex64 = dtype("complex64", np.dtype(np.complex64), 3, True, 2)
complex128 = dtype("complex128", np.dtype(np.complex128), 3, True, 3)

ALL = [bool_, uint8, int8, int16, int32, int64, uint16, uint32, uint64,
       float16, bfloat16, float32, float64, complex64, complex128]
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME["bool"] = bool_
# torch's aliases: torch.float is float32, torch.long is int64, ...
ALIASES = {"float": float32, "double": float64, "half": float16, "long": int64, "int": int32,
           "short": int16, "cfloat": complex64, "cdouble": complex128}
_BY_NAME.update(ALIASES)
NP2DT = {d.np: d for d in ALL if d.np is not None}

_state = {"default": float32}


def get_default_dtype():
    """The dtype a Python float becomes (float32 unless changed)."""
    return _state["default"]


def set_default_dtype(d):
    """Set the default floating dtype; only float16/bfloat16/float32/float64 are allowed, as in torch."""
    if not isinstance(d, dtype):
        raise TypeError("invalid dtype object: only floating-point types are supported as the default type")
    if not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _state["default"] = d
    _cache.clear()
    _scalar_cache.clear()


def from_numpy_dtype(npdt):
    """Map a NumPy dtype to ember's; raises TypeError for dtypes torch has no counterpart for."""
    d = NP2DT.get(np.dtype(npdt))
    if d is None:
        raise TypeError(f"can't convert np.ndarray of type numpy.{np.dtype(npdt).type.__name__}. The only "
                        "supported types are: float64, float32, float16, complex64, complex128, int64, int32, "
                        "int16, int8, "
                        "uint64, uint32, uint16, uint8, and bool.")
    return d


def to_dtype(d):
    """Accept an ember dtype, a NumPy dtype/type or a Python type (float/int/bool/complex)."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return float64
    if d is int:
        return int64
    if d is bool:
        return bool_
    if d is complex:
        return complex128
    if isinstance(d, str):
        if d.startswith("torch."):
            d = d[6:]
        if d in _BY_NAME:
            return _BY_NAME[d]
    return from_numpy_dtype(d)


_UNSIGNED_BIG = (uint16, uint32, uint64)


def promote_types(a, b):
    """torch.promote_types: the smallest dtype both ``a`` and ``b`` convert to safely."""
    if a is b:
        return a
    if a.category != b.category:
        hi, lo = (a, b) if a.category > b.category else (b, a)
        if hi.category == 3 and lo.category == 2 and lo is float64:
            return complex128
        if hi in _UNSIGNED_BIG or (lo in _UNSIGNED_BIG and hi.category == 1):
            raise RuntimeError(f"Promotion for uint16, uint32, uint64 types is not supported, attempted "
                               f"to promote {_cap(a)} and {_cap(b)}")
        return hi
    if a.category == 2:
        if a._rank == b._rank:  # float16 with bfloat16
            return float32
        return a if a._rank > b._rank else b
    if a.category == 1:
        if a in _UNSIGNED_BIG or b in _UNSIGNED_BIG:
            raise RuntimeError(f"Promotion for uint16, uint32, uint64 types is not supported, attempted "
                               f"to promote {_cap(a)} and {_cap(b)}")
        return NP2DT[np.promote_types(a.np, b.np)]
    return a if a._rank >= b._rank else b


def _cap(d):
    return {"uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long", "uint16": "UInt16",
            "uint32": "UInt32", "uint64": "UInt64"}.get(
        d.name, d.name.capitalize())


def _combine(higher, lower):
    """Combine two priority tiers (torch: dimensioned > zero-dim > Python scalar)."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.category == 3:
        return higher
    if lower.category == 3:
        return higher.to_complex() if higher.category == 2 else lower
    if higher.category == 2:
        return higher
    if higher is bool_ or lower.category == 2:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(x):
    """dtype a Python number takes when it stands alone (torch.tensor(x))."""
    if isinstance(x, bool):
        return bool_
    if isinstance(x, int):
        return int64
    if isinstance(x, float):
        return _state["default"]
    if isinstance(x, complex):
        return complex128 if _state["default"] is float64 else complex64
    raise TypeError(f"unsupported scalar type {type(x).__name__}")


_cache = {}
_scalar_cache = {}


def result_type_of(key):
    """Promotion over a key of (dtype, tier) pairs; tier 0 = dimensioned, 1 = 0-d, 2 = scalar."""
    r = _cache.get(key)
    if r is None:
        tiers = [None, None, None]
        for d, tier in key:
            tiers[tier] = d if tiers[tier] is None else promote_types(tiers[tier], d)
        r = _combine(tiers[0], _combine(tiers[1], tiers[2]))
        _cache[key] = r
    return r


def can_cast(from_, to):
    """torch.can_cast: casting allowed under torch's same-kind rules."""
    if from_.category > to.category:
        return False
    return True
