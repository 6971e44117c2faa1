"""Legacy constructors: ember.Tensor(2, 3), FloatTensor([1, 2]), LongTensor(...)."""
from . import _dtype as D

_SIGNATURES = (" * (*, torch.device device = None)", " * (torch.Storage storage)", " * (Tensor other)",
               " * (tuple of ints size, *, torch.device device = None)",
               " * (object data, *, torch.device device = None)")

# the C++ type names torch's TensorOptions messages use
_CNAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
           "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
           "uint8": "unsigned char", "uint16": "unsigned short", "uint32": "unsigned int",
           "uint64": "unsigned long", "bool": "bool", "complex64": "c10::complex<float>",
           "complex128": "c10::complex<double>"}


def _arg_name(a):
    from ._tensor import Tensor
    if isinstance(a, Tensor):
        return "Tensor"
    if isinstance(a, D.dtype):
        return "torch.dtype"
    if isinstance(a, (list, tuple)) and a:
        inner = []
        for x in a:
            n = type(x).__name__
            if n not in inner:
                inner.append(n)
        return f"{type(a).__name__} of [{', '.join(inner)}]"
    return type(a).__name__


def _bad_combination(args, kwargs):
    got = ", ".join([type(a).__name__ if not isinstance(a, D.dtype) else "torch.dtype" for a in args] +
                    [f"{k}={_arg_name(v) if not isinstance(v, (list, tuple)) else type(v).__name__}"
                     for k, v in kwargs.items()])
    if kwargs:
        why = "didn't match because some of the keywords were incorrect: " + ", ".join(kwargs)
    else:
        why = "didn't match because some of the arguments have invalid types: (" + \
              ", ".join(f"!{_arg_name(a)}!" for a in args) + ")"
    lines = [f"new() received an invalid combination of arguments - got ({got}), but expected one of:",
             _SIGNATURES[0], "      " + why] + list(_SIGNATURES[1:])
    return TypeError("\n".join(lines) + "\n")


def _options(dtype, dev):
    return (f"TensorOptions(dtype={_CNAMES.get(dtype.name, dtype.name)}, device={dev}, layout=Strided, "
            f"requires_grad=false (default), pinned_memory=false (default), memory_format=(nullopt))")


def _is_int(a):
    return isinstance(a, int) and not isinstance(a, bool)


def legacy_new(cls, dtype, /, *args, device=None, typed=False, **kwargs):
    """``Tensor(*sizes)`` is uninitialised; ``Tensor(sequence)`` copies data, cast to ``dtype``.

    ``typed`` is set for FloatTensor & co., which also insist that a tensor argument has their dtype.
    """
    from . import ops
    from ._device import to_device
    from ._tensor import Tensor
    if kwargs:
        raise _bad_combination(args, dict(kwargs, **({"device": device} if device is not None else {})))
    if device is not None:
        dev = to_device(device)
        if dev.type != "cpu":
            raise RuntimeError(f"legacy constructor expects device type: cpu but device type: {dev.type} was "
                               f"passed")
    if len(args) == 0:
        t = ops.empty(0, dtype=dtype)
    elif all(_is_int(a) for a in args):
        t = ops.empty(*args, dtype=dtype)
    elif len(args) == 1 and type(args[0]).__name__ == "Size":
        t = ops.empty(tuple(args[0]), dtype=dtype)
    elif len(args) == 1:
        a = args[0]
        if isinstance(a, Tensor):
            if typed and (a.dtype is not dtype or a._device.type != "cpu"):
                raise TypeError(f"expected {_options(dtype, 'cpu')} (got {_options(a.dtype, a._device)})")
            return ops.OPS["alias"](a)  # torch returns an alias sharing memory and autograd history
        if not isinstance(a, (str, bytes)) and not hasattr(a, "__len__") and not hasattr(a, "__array__"):
            raise TypeError(f"new(): data must be a sequence (got {type(a).__name__})")
        t = ops.tensor(a, dtype=dtype)
    elif _is_int(args[0]):
        pos = next(i for i, a in enumerate(args) if not _is_int(a))
        raise TypeError(f"new(): argument 'size' failed to unpack the object at pos {pos + 1} with error "
                        f"\"type must be tuple of ints,but got {type(args[pos]).__name__}\"")
    else:
        raise _bad_combination(args, {})
    if cls is not Tensor and isinstance(cls, type) and issubclass(cls, Tensor):
        t.__class__ = cls
    return t


def _legacy_type(name, dtype):
    class _Meta(type):
        def __instancecheck__(cls, obj):
            from ._tensor import Tensor
            return isinstance(obj, Tensor) and obj.dtype is dtype and obj.device.type == "cpu"

        def __repr__(cls):
            return f"<class 'torch.{cls.__name__}'>"

    def new(cls, *args, **kwargs):
        from ._tensor import Tensor
        return legacy_new(Tensor, dtype, *args, typed=True, **kwargs)

    return _Meta(name, (), {"__new__": new, "dtype": dtype, "__module__": "ember",
                            "__doc__": f"Legacy constructor for {dtype} tensors."})


FloatTensor = _legacy_type("FloatTensor", D.float32)
DoubleTensor = _legacy_type("DoubleTensor", D.float64)
HalfTensor = _legacy_type("HalfTensor", D.float16)
BFloat16Tensor = _legacy_type("BFloat16Tensor", D.bfloat16)
LongTensor = _legacy_type("LongTensor", D.int64)
IntTensor = _legacy_type("IntTensor", D.int32)
ShortTensor = _legacy_type("ShortTensor", D.int16)
CharTensor = _legacy_type("CharTensor", D.int8)
ByteTensor = _legacy_type("ByteTensor", D.uint8)
BoolTensor = _legacy_type("BoolTensor", D.bool_)
