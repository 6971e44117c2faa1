"""Parameter, Buffer and UninitializedParameter (lazy modules)."""
import sys

from .._storage import UntypedStorage, root_of
from .._tensor import Tensor
from .. import ops


class Parameter(Tensor):
    """A tensor that a Module registers as a learnable parameter (requires grad by default)."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = ops.empty(0)
        t = object.__new__(cls)
        t._data, t.dtype, t._device = data._data, data.dtype, data._device
        t._stor = data._storage  # shares memory with ``data``, as torch's Parameter does
        t._rg, t.grad_fn = False, None
        if requires_grad:
            t.requires_grad_(True)
        return t

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (self.detach(), self.requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        r = type(self)(self.detach().clone(), self.requires_grad)
        if self._grad is not None:
            r._grad = self._grad.clone()
        memo[id(self)] = r
        return r


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = ops.empty(0)
        t = data.detach()
        t.__class__ = cls
        t.persistent = persistent
        return t

    def __init__(self, data=None, *, persistent=True):
        pass


_DATA = Tensor.__dict__["_data"]  # the slot itself, for the few uses torch allows


def _public(name):
    return not name.startswith("_") and name not in ("<lambda>", "f", "g")


_CALLERS = ("ember.nn.modules", "ember.nn.utils", "ember.optim", "ember.utils")
# Tensor methods torch writes in Python: its message shows them as functions, not C methods
_PY_LEVEL = frozenset(("__array__", "__contains__", "__deepcopy__", "__floordiv__", "__format__", "__ipow__",
                       "__iter__", "__len__", "__pow__", "__rdiv__", "__reduce_ex__", "__reversed__", "__rfloordiv__",
                       "__rlshift__", "__rmatmul__", "__rmod__", "__rpow__", "__rrshift__", "__rsub__",
                       "__rtruediv__", "backward", "dim_order", "is_shared", "istft", "lu", "norm", "register_hook",
                       "register_post_accumulate_grad_hook", "share_memory_", "split", "stft", "storage", "unflatten",
                       "unique", "unique_consecutive"))


def _what(t, depth=2, method=None):
    """torch's error for using an uninitialized parameter, naming the function that was called on it: the
    outermost ember frame that got ``t`` as its first argument (else the outermost ember frame)."""
    frames = []  # ember frames, innermost first
    f = sys._getframe(depth)
    while f is not None:
        mod = f.f_globals.get("__name__", "")
        if mod != "ember" and not mod.startswith("ember."):
            break
        frames.append(f)
        f = f.f_back
    k = len(frames) - 1
    for i in range(len(frames) - 1, -1, -1):
        code = frames[i].f_code
        if frames[i].f_globals.get("__name__", "").startswith(_CALLERS):
            continue  # layers and optimizers call torch functions on parameters; name the function
        if code.co_argcount and frames[i].f_locals.get(code.co_varnames[0]) is t:
            k = i
            break
    name, is_method = "a torch function", False
    if method is not None:
        name, is_method = method, True
    elif frames:
        code = frames[k].f_code
        name, is_method = code.co_name, code.co_argcount > 0 and code.co_varnames[0] == "self"
        if name in _PY_LEVEL:
            pass
        elif name.startswith("__") and name.endswith("__"):
            name = name.strip("_")
        elif not _public(name):
            # operators and lambdas have no useful name of their own: the op they ran, or a public caller
            ops_run = [fr.f_locals.get("op") for fr in frames[:k + 1]]
            ops_run = [op.name for op in ops_run if isinstance(getattr(op, "name", None), str)]
            public = [fr.f_code.co_name for fr in frames[:k + 1] if _public(fr.f_code.co_name)]
            name = ops_run[0] if ops_run else public[-1] if public else name
    if name in _PY_LEVEL:
        where = f"<function Tensor.{name} at {hex(id(getattr(Tensor, name, None)))}>"
    elif is_method:
        where = f"<method '{name}' of 'torch._C.TensorBase' objects>"
    else:
        where = f"<built-in method {name}>"
    return ValueError(f"Attempted to use an uninitialized parameter in {where}. This error happens when you are using "
                      f"a `LazyModule` or explicitly manipulating `torch.nn.parameter.{type(t).__name__}` objects. "
                      f"When using LazyModules Call `forward` with a dummy batch to initialize the parameters before "
                      f"calling torch functions")


def _allowed(name):
    """A Tensor method torch lets an uninitialized tensor use (conversions, copy_, size, ...)."""
    def f(self, *args, **kwargs):
        cls = type(self)
        self.__class__ = cls.cls_to_become  # run the plain method on the placeholder data
        try:
            r = getattr(Tensor, name)(self, *args, **kwargs)
        finally:
            self.__class__ = cls
        if type(r) is Tensor and cls.cls_to_become is Tensor:
            r.__class__ = cls  # a buffer's conversions stay placeholders (Module.double() on a lazy module)
        return r
    f.__name__ = f.__qualname__ = name
    return f


def _refused(name):
    def f(self, *args, **kwargs):
        raise _what(self, 1, name)
    f.__name__ = f.__qualname__ = name
    return f


class UninitializedTensorMixin:
    """Lazy-module placeholders: only metadata and conversions work until ``materialize`` gives a shape.

    Every op reads a tensor's ``_data``, so hiding it behind a raising property refuses them all.
    """

    @property
    def _data(self):
        raise _what(self)

    @_data.setter
    def _data(self, arr):
        _DATA.__set__(self, arr)

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually happens "
                           "in `load_state_dict` when trying to load an uninitialized parameter into an initialized "
                           "one. Call `forward` to initialize the parameters before accessing their attributes.")

    @property
    def ndim(self):
        return _DATA.__get__(self).ndim

    @property
    def nbytes(self):
        return 0

    @property
    def data(self):
        arr = _DATA.__get__(self)
        t = Tensor._make(arr, self._device, UntypedStorage(root_of(arr), self._device))
        if self.cls_to_become is Tensor:
            t.__class__ = type(self)  # a buffer's .data stays a placeholder, as in torch
        return t

    @data.setter
    def data(self, other):
        Tensor.data.fset(self, other)

    def materialize(self, shape, device=None, dtype=None):
        """Give the tensor its shape (uninitialised memory) and turn it into ``cls_to_become``."""
        if isinstance(shape, int):
            shape = (shape,)
        data = ops.empty(*shape, device=device or self.device, dtype=dtype or self.dtype)
        _DATA.__set__(self, data._data)
        self.dtype, self._device = data.dtype, data._device
        self._stor = data._storage
        self.__class__ = self.cls_to_become

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call `forward` to initialize "
                           "the parameters before calling `module.share_memory()`.")

    def __repr__(self):
        return f"<{self.__class__.__name__}>"

    def __reduce_ex__(self, proto):
        return (self.__class__, (self.requires_grad,))

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, self.device, self.dtype)
        return memo[id(self)]


for _n in ("size", "copy_", "is_complex", "is_floating_point", "half", "float", "double", "char", "short", "int",
           "long", "cuda", "cpu", "to", "get_device"):
    setattr(UninitializedTensorMixin, _n, _allowed(_n))
# in-place methods check autograd before they read data; torch refuses them first
_INPLACE = [n for n in dir(Tensor) if n.endswith("_") and not n.startswith("_") and n not in ("copy_", "share_memory_")]
for _n in _INPLACE + \
        ["retain_grad", "register_hook", "register_post_accumulate_grad_hook", "type", "untyped_storage",
         "backward", "__format__", "element_size", "is_signed"]:
    setattr(UninitializedTensorMixin, _n, _refused(_n))


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter whose shape is known only after the first forward (lazy modules)."""
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        t = Parameter.__new__(Parameter, ops.empty(0, device=device, dtype=dtype), requires_grad)
        t.__class__ = cls
        return t

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is set by a lazy module's first forward."""
    cls_to_become = Tensor
    __deepcopy__ = _refused("__deepcopy__")

    def __new__(cls, requires_grad=False, device=None, dtype=None):
        t = ops.empty(0, device=device, dtype=dtype, requires_grad=requires_grad)
        t.__class__ = cls
        return t

    def __init__(self, requires_grad=False, device=None, dtype=None):
        pass


def is_lazy(param):
    return isinstance(param, (UninitializedParameter, UninitializedBuffer))
