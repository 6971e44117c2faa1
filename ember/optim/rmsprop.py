"""RMSprop with centering, momentum, weight decay and maximize (torch's single-tensor update)."""
from .. import ops
from .optimizer import Optimizer
from ._helpers import (_as_real, _call_closure, _check_capturable, _check_lr, _check_nonneg, _counter,
                       _differentiable_grad_mode, _no_sparse, _restore_defaults, _value)


class RMSprop(Optimizer):
    """RMSprop (Hinton): divide the gradient by a running RMS of recent gradients (centered: minus their mean)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        _check_nonneg(eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        _restore_defaults(self, state, dict(momentum=0, centered=False, foreach=None, maximize=False,
                                            differentiable=False, capturable=False),
                          ("step",))

    @_differentiable_grad_mode
    def step(self, closure=None):
        """One RMSprop update; ``closure`` re-evaluates the loss when given."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            lr, alpha, eps, wd = _value(group["lr"]), group["alpha"], group["eps"], group["weight_decay"]
            momentum, centered, maximize = group["momentum"], group["centered"], group["maximize"]
            differentiable = group["differentiable"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                _no_sparse(p.grad, "RMSprop")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _counter(0, p, group["capturable"])
                    state["square_avg"] = ops.zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = ops.zeros_like(p)
                    if centered:
                        state["grad_avg"] = ops.zeros_like(p)
                _check_capturable(group["capturable"], p)
                grad = -p.grad if maximize else p.grad
                state["step"] += 1
                if wd != 0:
                    grad = grad.add(p, alpha=wd)
                param, grad, square_avg = _as_real(p), _as_real(grad), _as_real(state["square_avg"])
                square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
                if centered:
                    grad_avg = _as_real(state["grad_avg"])
                    grad_avg.lerp_(grad, 1 - alpha)
                    avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
                else:
                    avg = square_avg.sqrt()
                avg = avg.add(eps) if differentiable else avg.add_(eps)
                if momentum > 0:
                    buf = _as_real(state["momentum_buffer"])
                    buf.mul_(momentum).addcdiv_(grad, avg)
                    param.add_(buf, alpha=-lr)
                else:
                    param.addcdiv_(grad, avg, value=-lr)
        return loss
