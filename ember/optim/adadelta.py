"""Adadelta (torch's single-tensor update, step for step)."""
from .. import ops
from .optimizer import Optimizer
from ._helpers import (_as_real, _call_closure, _check_capturable, _check_lr, _check_nonneg, _counter,
                       _differentiable_grad_mode, _no_sparse, _restore_defaults, _value)


class Adadelta(Optimizer):
    """Adadelta (Zeiler): steps scaled by RMS of past updates over RMS of past gradients, times ``lr``."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_nonneg(eps=eps, weight_decay=weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        _restore_defaults(self, state, dict(foreach=None, maximize=False, differentiable=False, capturable=False),
                          ("step",))

    @_differentiable_grad_mode
    def step(self, closure=None):
        """One Adadelta update; ``closure`` re-evaluates the loss when given."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            lr, rho, eps, wd = _value(group["lr"]), group["rho"], group["eps"], group["weight_decay"]
            maximize, differentiable = group["maximize"], group["differentiable"]
            live = [p for p in group["params"] if p.grad is not None]
            for p in live:
                _no_sparse(p.grad, "Adadelta")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _counter(0, p, group["capturable"])
                    state["square_avg"] = ops.zeros_like(p)
                    state["acc_delta"] = ops.zeros_like(p)
            for p in live:
                _check_capturable(group["capturable"], p,
                                  devices=["cuda", "xpu", "hpu", "privateuseone"])
            for p in live:
                state = self.state[p]
                state["step"] += 1
                grad = -p.grad if maximize else p.grad
                if wd != 0:
                    grad = grad.add(p, alpha=wd)
                square_avg, acc_delta, grad = _as_real(state["square_avg"]), _as_real(state["acc_delta"]), \
                    _as_real(grad)
                square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
                std = square_avg.add(eps).sqrt_()
                delta = acc_delta.add(eps).sqrt_()
                if differentiable:
                    delta = delta.clone()
                delta.div_(std).mul_(grad)
                acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
                _as_real(p).add_(delta, alpha=-lr)
        return loss
