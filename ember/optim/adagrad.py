"""Adagrad with lr decay, an initial accumulator value and weight decay (torch's single-tensor update)."""
from .. import ops
from .optimizer import Optimizer
from ._helpers import (_as_real, _call_closure, _check_lr, _check_nonneg, _differentiable_grad_mode,
                       _restore_defaults, _scalar_dtype, _value)


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.): per-coordinate steps ``lr / (1 + (t-1) lr_decay) / (sqrt(sum g^2) + eps)``."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_lr(lr)
        _check_nonneg(lr_decay=lr_decay, weight_decay=weight_decay,
                      initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        # unlike the other optimizers, Adagrad creates its state for every parameter up front
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        fused = group["fused"]
        if fused and not (p.is_floating_point() and p.device.type in ("cpu", "cuda")):
            raise RuntimeError("`fused=True` requires all the params to be floating point Tensors of supported "
                               f"devices: ['mps', 'cuda', 'xpu', 'hpu', 'cpu', 'mtia', 'privateuseone'] but "
                               f"{p.dtype} and {p.device.type}")
        state["step"] = ops.tensor(0.0, dtype=_scalar_dtype(fused), device=p.device if fused else None)
        init = self.defaults["initial_accumulator_value"]
        state["sum"] = ops.full_like(p, complex(init, init) if p.is_complex() else init)

    def __setstate__(self, state):
        _restore_defaults(self, state, dict(foreach=None, maximize=False, differentiable=False, fused=None), ("step",))

    def share_memory(self):
        """Move the accumulators to shared memory (a no-op for ember's in-process storage)."""
        for group in self.param_groups:
            for p in group["params"]:
                s = self.state[p]["sum"]
                if hasattr(s, "share_memory_"):
                    s.share_memory_()

    @_differentiable_grad_mode
    def step(self, closure=None):
        """One Adagrad update; ``closure`` re-evaluates the loss when given."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            lr, lr_decay, eps, wd = _value(group["lr"]), group["lr_decay"], group["eps"], group["weight_decay"]
            maximize, differentiable = group["maximize"], group["differentiable"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    self._init_state(p, group)
                step_t = state["step"]
                step_t += 1
                t = step_t.item()
                grad = -p.grad if maximize else p.grad
                if wd != 0:
                    if getattr(grad, "is_sparse", False):
                        raise RuntimeError("weight_decay option is not compatible with sparse gradients")
                    grad = grad.add(p, alpha=wd)
                clr = lr / (1 + (t - 1) * lr_decay)
                param, grad, state_sum = _as_real(p), _as_real(grad), _as_real(state["sum"])
                state_sum.addcmul_(grad, grad, value=1)
                std = state_sum.sqrt() + eps if differentiable else state_sum.sqrt().add_(eps)
                param.addcdiv_(grad, std, value=-clr)
        return loss
