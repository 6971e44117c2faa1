"""Pieces the optimizers share: step counters, hyper-parameter values, grad mode, real views of complex state."""
import functools

from .. import _dtype as D
from .. import ops
from .._tensor import Tensor
from ..autograd import grad_mode

# devices where torch accepts ``capturable=True`` (ember has only cpu and cuda, so cpu is the one refused)
_CAPTURABLE = ["cuda", "xpu", "hpu", "privateuseone", "xla"]


def _scalar_dtype(fused=None):
    """torch keeps step counters in float32, or float64 when that is the default dtype (fused: float32)."""
    if fused:
        return D.float32
    return D.float64 if D.get_default_dtype() is D.float64 else D.float32


def _counter(value, p=None, on_device=False):
    """A 0-d counter tensor (on the param's device only for capturable/fused state, like torch)."""
    dev = p.device if (on_device and p is not None) else None
    return ops.tensor(float(value), dtype=_scalar_dtype(), device=dev)


def _value(x):
    """A hyper-parameter or 0-d state as a Python number (tensors give their item)."""
    return x.item() if isinstance(x, Tensor) else x


def _check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_capturable(cond, p, what="params and state_steps", devices=_CAPTURABLE):
    if cond and p.device.type not in devices:
        raise AssertionError(f"If capturable=True, {what} must be on supported devices: {devices}.")


def _differentiable_grad_mode(step):
    """Run ``step`` with grad mode on only when the optimizer was built with ``differentiable=True``."""
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        prev = grad_mode.state.enabled
        grad_mode.state.enabled = bool(self.defaults.get("differentiable", False))
        try:
            return step(self, *args, **kwargs)
        finally:
            grad_mode.state.enabled = prev
    return wrapper


def _call_closure(closure):
    if closure is None:
        return None
    with grad_mode.enable_grad():
        return closure()


def _as_real(t):
    """The real view (..., 2) of a complex tensor, so updates treat real and imaginary parts separately."""
    if t is not None and t.is_complex():
        return ops.view_as_real(t)
    return t


def _no_sparse(grad, name):
    if getattr(grad, "is_sparse", False):
        raise RuntimeError(f"{name} does not support sparse gradients")


def _tensor_states(opt, keys, on_device=False):
    """After loading an old-style state dict: turn Python-number counters back into 0-d tensors."""
    for group in opt.param_groups:
        for p in group["params"]:
            st = opt.state.get(p, {})
            if len(st) == 0:
                continue
            for k in keys:
                if k in st and not isinstance(st[k], Tensor):
                    dev = p.device if (on_device or group.get("capturable", False)) else None
                    st[k] = ops.tensor(float(st[k]), dtype=_scalar_dtype(), device=dev)


def _check_nonneg(**values):
    """torch's ``Invalid <name> value`` error for the first negative hyper-parameter (checked in call order)."""
    for name, v in values.items():
        if not 0.0 <= v:
            raise ValueError(f"Invalid {'epsilon' if name == 'eps' else name} value: {v}")


def _check_betas(betas):
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")


def _restore_defaults(opt, state, defaults, tensor_keys=("step",), on_device=False):
    """``__setstate__``: options that older pickles lack get their defaults; counters become tensors again."""
    from .optimizer import Optimizer
    Optimizer.__setstate__(opt, state)
    for group in opt.param_groups:
        for k, v in defaults.items():
            group.setdefault(k, v)
    _tensor_states(opt, tensor_keys, on_device)
