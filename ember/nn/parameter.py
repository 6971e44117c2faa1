"""Parameter, Buffer and UninitializedParameter (lazy modules)."""
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


class UninitializedParameter(Parameter):
    """A parameter whose shape is known only after the first forward (lazy modules)."""

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        t = Parameter.__new__(cls, ops.empty(0, device=device, dtype=dtype), requires_grad)
        return t

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def materialize(self, shape, device=None, dtype=None):
        """Give the parameter its shape (uninitialised memory) and turn it into a plain Parameter."""
        data = ops.empty(*shape, device=device or self.device, dtype=dtype or self.dtype)
        self._data, self.dtype, self._device = data._data, data.dtype, data._device
        self._stor = data._storage
        self.__class__ = Parameter

    def __repr__(self):
        return "<UninitializedParameter>"


class UninitializedBuffer(Tensor):
    """A buffer whose shape is set by a lazy module's first forward."""

    def __new__(cls, requires_grad=False, device=None, dtype=None):
        t = ops.empty(0, device=device, dtype=dtype)
        t.__class__ = cls
        return t

    def __init__(self, requires_grad=False, device=None, dtype=None):
        pass

    def materialize(self, shape, device=None, dtype=None):
        data = ops.empty(*shape, device=device or self.device, dtype=dtype or self.dtype)
        self._data, self.dtype, self._device = data._data, data.dtype, data._device
        self._stor = data._storage
        self.__class__ = Tensor


def is_lazy(param):
    return isinstance(param, (UninitializedParameter, UninitializedBuffer))
