"""Adamax: Adam with an infinity-norm second moment (torch's single-tensor update, step for step)."""
from .. import ops
from .optimizer import Optimizer
from ._helpers import (_as_real, _call_closure, _check_betas, _check_capturable, _check_lr, _check_nonneg, _counter,
                       _differentiable_grad_mode, _no_sparse, _restore_defaults, _value)


class Adamax(Optimizer):
    """Adamax (Kingma & Ba): ``u = max(beta2 * u, |g| + eps)``, ``p -= lr / (1 - beta1^t) * m / u``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_nonneg(eps=eps)
        _check_betas(betas)
        _check_nonneg(weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        _restore_defaults(self, state, dict(foreach=None, maximize=False, differentiable=False, capturable=False),
                          ("step",))

    @_differentiable_grad_mode
    def step(self, closure=None):
        """One Adamax update; ``closure`` re-evaluates the loss when given."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, wd = _value(group["lr"]), group["eps"], group["weight_decay"]
            maximize, differentiable, capturable = group["maximize"], group["differentiable"], group["capturable"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                _no_sparse(p.grad, "Adamax")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _counter(0, p, capturable)
                    state["exp_avg"] = ops.zeros_like(p)
                    state["exp_inf"] = ops.zeros_like(p)
                step_t = state["step"]
                _check_capturable(capturable, p)
                grad = -p.grad if maximize else p.grad
                step_t += 1
                if wd != 0:
                    grad = grad.add(p, alpha=wd)
                param, grad = _as_real(p), _as_real(grad)
                exp_avg, exp_inf = _as_real(state["exp_avg"]), _as_real(state["exp_inf"])
                exp_avg.lerp_(grad, 1 - beta1)
                if differentiable:
                    # out= has no gradient formula; stack and reduce instead, so that the op whose output is
                    # copied back does not save exp_inf itself (the copy would invalidate it)
                    both = ops.cat([exp_inf.mul_(beta2).unsqueeze(0), grad.abs().add_(eps).unsqueeze_(0)], 0)
                    exp_inf.copy_(ops.amax(both, 0, keepdim=False))
                else:
                    ops.maximum(exp_inf.mul_(beta2), grad.abs().add_(eps), out=exp_inf)
                clr = lr / (1 - beta1 ** step_t.item())
                param.addcdiv_(exp_avg, exp_inf, value=-clr)
        return loss
