"""Legacy constructors: ember.Tensor(2, 3), FloatTensor([1, 2]), LongTensor(...)."""
from . import _dtype as D


def legacy_new(cls, dtype, *args, device=None, **kwargs):
    """``Tensor(*sizes)`` is uninitialised; ``Tensor(sequence)`` copies data, cast to ``dtype``."""
    from . import ops
    if kwargs:
        raise TypeError(f"new() received an invalid combination of arguments - got {list(kwargs)}")
    if len(args) == 0:
        t = ops.empty(0, dtype=dtype, device=device)
    elif all(isinstance(a, int) and not isinstance(a, bool) for a in args):
        t = ops.empty(*args, dtype=dtype, device=device)
    elif len(args) == 1 and type(args[0]).__name__ == "Size":
        t = ops.empty(tuple(args[0]), dtype=dtype, device=device)
    elif len(args) == 1:
        from ._tensor import Tensor
        if isinstance(args[0], Tensor):
            if args[0].dtype is not dtype and cls.__name__ != "Tensor":
                raise TypeError(f"expected {dtype} but got {args[0].dtype}")
            return args[0].detach() if cls is Tensor else args[0]
        t = ops.tensor(args[0], dtype=dtype, device=device)
    else:
        raise TypeError(f"new() received an invalid combination of arguments - got {tuple(type(a).__name__ for a in args)}")
    if cls is not Tensor_cls():
        t.__class__ = cls
    return t


def Tensor_cls():
    from ._tensor import Tensor
    return Tensor


def _legacy_type(name, dtype):
    class _Meta(type):
        def __instancecheck__(cls, obj):
            from ._tensor import Tensor
            return isinstance(obj, Tensor) and obj.dtype is dtype and obj.device.type == "cpu"

    def new(cls, *args, **kwargs):
        from ._tensor import Tensor
        return legacy_new(Tensor, dtype, *args, **kwargs)

    return _Meta(name, (), {"__new__": new, "dtype": dtype, "__doc__": f"Legacy constructor for {dtype} tensors."})


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
