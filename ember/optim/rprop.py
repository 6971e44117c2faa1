"""Rprop: resilient backpropagation, sign-based steps with adaptive sizes (torch's single-tensor update)."""
from .. import ops
from .optimizer import Optimizer
from ._helpers import (_as_real, _call_closure, _check_capturable, _check_lr, _counter, _differentiable_grad_mode,
                       _no_sparse, _restore_defaults, _value)


class Rprop(Optimizer):
    """Rprop (Riedmiller & Braun): grow a coordinate's step by ``etas[1]`` while the gradient keeps its sign,
    shrink it by ``etas[0]`` (and skip that update) when the sign flips; steps stay within ``step_sizes``."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        _restore_defaults(self, state, dict(foreach=None, maximize=False, differentiable=False, capturable=False),
                          ("step",))

    @_differentiable_grad_mode
    def step(self, closure=None):
        """One Rprop update; ``closure`` re-evaluates the loss when given."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            maximize, differentiable = group["maximize"], group["differentiable"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                _no_sparse(p.grad, "Rprop")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _counter(0, p, group["capturable"])
                    state["prev"] = ops.zeros_like(p)
                    lr = _value(group["lr"])
                    state["step_size"] = ops.full_like(p.grad, complex(lr, lr) if p.is_complex() else lr)
                grad = -p.grad if maximize else p.grad
                _check_capturable(group["capturable"], p)
                state["step"] += 1
                param, grad = _as_real(p), _as_real(grad)
                prev, step_size = _as_real(state["prev"]), _as_real(state["step_size"])
                sign = grad.mul(prev.clone() if differentiable else prev).sign()
                # same sign: grow; flipped: shrink; a zero on either side: keep
                sign.masked_fill_(sign.gt(0), etaplus)
                sign.masked_fill_(sign.lt(0), etaminus)
                sign.masked_fill_(sign.eq(0), 1)
                step_size.mul_(sign).clamp_(step_size_min, step_size_max)
                # after a sign flip the coordinate does not move, and its stored gradient is forgotten
                grad = grad.masked_fill(sign.eq(etaminus), 0)
                param.addcmul_(grad.sign(), step_size, value=-1)
                prev.copy_(grad)
        return loss
