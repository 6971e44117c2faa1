"""functional_call: run a module with some parameters/buffers temporarily replaced by given tensors."""
import contextlib
import warnings

from ..._tensor import Tensor

__all__ = ["functional_call"]


def _untie_named_tensors_map(module, parameters_and_buffers):
    """Extend the given names to every name tied to the same tensor (so tied weights stay tied)."""
    all_named = {}
    all_named.update(module.named_parameters(remove_duplicate=False))
    all_named.update(module.named_buffers(remove_duplicate=False))
    by_tensor = {}
    for name, t in all_named.items():
        by_tensor.setdefault(id(t), set()).add(name)
    tied_names_map = {}
    for names in by_tensor.values():
        if len(names) > 1:
            for n in names:
                tied_names_map[n] = names
    given = set(parameters_and_buffers.keys())
    given_tied = {n for n in given if n in tied_names_map}
    for name in given_tied:
        tied = tied_names_map[name]
        if len(tied & given_tied) > 1 and len({id(parameters_and_buffers[t]) for t in tied if t in
                                               parameters_and_buffers}) != 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(tied)}, which are tied. Consider "
                             "using tie_weights=False")
    untied = dict(parameters_and_buffers)
    for name in given_tied:
        for tied in tied_names_map[name]:
            untied[tied] = parameters_and_buffers[name]
    return untied


def _owner(module, name):
    *path, attr = name.split(".")
    for p in path:
        module = getattr(module, p)
    return module, attr


def _swap(module, name, value):
    """Put ``value`` at dotted ``name``; returns what was there (a missing attribute gives a deletion marker)."""
    mod, attr = _owner(module, name)
    if attr in mod._parameters:
        old = mod._parameters[attr]
        mod._parameters[attr] = value
    elif attr in mod._buffers:
        old = mod._buffers[attr]
        mod._buffers[attr] = value
    else:
        old = getattr(mod, attr, _MISSING)
        if value is _MISSING:
            delattr(mod, attr)
        else:
            setattr(mod, attr, value)
    return old


_MISSING = object()


@contextlib.contextmanager
def _reparametrize_module(module, parameters_and_buffers, tie_weights=False, strict=False, stack_weights=False):
    untied = _untie_named_tensors_map(module, parameters_and_buffers) if tie_weights else parameters_and_buffers
    if strict:
        names = set(dict(module.named_parameters(remove_duplicate=False))) | \
            set(dict(module.named_buffers(remove_duplicate=False)))
        missing = sorted(names - set(untied))
        unexpected = sorted(set(untied) - names)
        errs = []
        if unexpected:
            errs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            errs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if errs:
            raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(module._get_name(), "\n\t".join(errs)))
    orig = {}
    try:
        for name, value in untied.items():
            orig[name] = _swap(module, name, value)
        yield
    finally:
        items = list(orig.items())
        if stack_weights:
            items.reverse()
        new = {}
        for name, value in items:
            new[name] = _swap(module, name, value)
        parameters_and_buffers.update({k: new[k] for k in parameters_and_buffers if k in new})


def _functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize_module(module, parameters_and_buffers, tie_weights=tie_weights, strict=strict):
        return module(*args, **kwargs)


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """Call ``module(*args, **kwargs)`` with its parameters/buffers replaced by ``parameters_and_buffers``."""
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be removed in "
                  "a future version of PyTorch. Please use `torch.func.functional_call` instead which is a drop-in "
                  "replacement.", FutureWarning, stacklevel=2)
    for k, v in parameters_and_buffers.items():
        if not isinstance(v, Tensor):
            raise TypeError(f"functional_call: expected a Tensor for '{k}', got {type(v).__name__}")
    return _functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)
