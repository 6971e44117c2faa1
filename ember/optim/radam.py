"""RAdam: Adam with a rectified adaptive learning rate (torch's single-tensor update, step for step)."""
from .. import ops
from .optimizer import Optimizer
from ._helpers import (_as_real, _call_closure, _check_betas, _check_capturable, _check_lr, _check_nonneg, _counter,
                       _differentiable_grad_mode, _no_sparse, _restore_defaults, _value)


class RAdam(Optimizer):
    """RAdam (Liu et al.): plain momentum SGD until the variance rectification term is defined (rho_t > 5)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _check_lr(lr)
        _check_nonneg(eps=eps)
        _check_betas(betas)
        _check_nonneg(weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        _restore_defaults(self, state, dict(foreach=None, maximize=False, differentiable=False,
                                            decoupled_weight_decay=False, capturable=False),
                          ("step",))

    @_differentiable_grad_mode
    def step(self, closure=None):
        """One RAdam update; ``closure`` re-evaluates the loss when given."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, wd = _value(group["lr"]), group["eps"], group["weight_decay"]
            decoupled, maximize, differentiable = group["decoupled_weight_decay"], group["maximize"], \
                group["differentiable"]
            rho_inf = 2 / (1 - beta2) - 1
            for p in group["params"]:
                if p.grad is None:
                    continue
                _no_sparse(p.grad, "RAdam")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _counter(0, p, group["capturable"])
                    state["exp_avg"] = ops.zeros_like(p)
                    state["exp_avg_sq"] = ops.zeros_like(p)
                step_t = state["step"]
                grad = -p.grad if maximize else p.grad
                _check_capturable(group["capturable"], p)
                param, grad = _as_real(p), _as_real(grad)
                exp_avg, exp_avg_sq = _as_real(state["exp_avg"]), _as_real(state["exp_avg_sq"])
                step_t += 1
                t = step_t.item()
                if wd != 0:
                    if decoupled:
                        param.mul_(1 - lr * wd)
                    else:
                        grad = grad.add(param, alpha=wd)
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                bias_correction1 = 1 - beta1 ** t
                bias_correction2 = 1 - beta2 ** t
                corrected = exp_avg / bias_correction1
                rho_t = rho_inf - 2 * t * (beta2 ** t) / bias_correction2
                if rho_t > 5.0:
                    sq = exp_avg_sq.sqrt()
                    sq = sq.add(eps) if differentiable else sq.add_(eps)
                    adaptive = (bias_correction2 ** 0.5) / sq
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    param.add_(corrected * lr * adaptive * rect, alpha=-1.0)
                else:
                    param.add_(corrected * lr, alpha=-1.0)
        return loss
