"""Turn registered ops into the public forms: function, Tensor method, in-place method, ``out=``."""
from .._tensor import Tensor
from ._registry import apply, apply2, apply_inplace, write_out


def method(name, fn):
    """Bind ``fn`` as ``Tensor.<name>``."""
    setattr(Tensor, name, fn)
    return fn


def unary_forms(op, name=None, inplace=True, method_name=None):
    """``f(input, *, out=None)``, ``Tensor.f()`` and ``Tensor.f_()`` for a one-input op."""
    name = name or op.name

    def fn(input, *, out=None):
        r = apply(op, (input,), {})
        return r if out is None else write_out(out, r)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}`` (torch.{name}); gradient defined in ember.ops."
    setattr(Tensor, method_name or name, lambda self: apply(op, (self,), {}))
    if inplace:
        def fn_(self):
            return apply_inplace(op, self, (), {})
        setattr(Tensor, name + "_", fn_)
    return fn


def binary_forms(op, name=None, inplace=True):
    """``f(input, other, *, out=None)``, ``Tensor.f(other)`` and ``Tensor.f_(other)``."""
    name = name or op.name

    def fn(input, other, *, out=None):
        r = apply(op, (input, other), {})
        return r if out is None else write_out(out, r)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}`` with broadcasting and torch's type promotion (torch.{name})."
    setattr(Tensor, name, lambda self, other: apply2(op, self, other))
    if inplace:
        setattr(Tensor, name + "_", lambda self, other: apply_inplace(op, self, (other,), {}))
    return fn
