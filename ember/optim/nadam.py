"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule (torch's single-tensor update)."""
from .. import ops
from .optimizer import Optimizer
from ._helpers import (_as_real, _call_closure, _check_betas, _check_capturable, _check_lr, _check_nonneg, _counter,
                       _differentiable_grad_mode, _no_sparse, _restore_defaults, _value)


class NAdam(Optimizer):
    """NAdam (Dozat): momentum ``mu_t = beta1 (1 - 0.5 * 0.96^(t * momentum_decay))``; optional AdamW-style decay."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_lr(lr)
        _check_nonneg(eps=eps)
        _check_betas(betas)
        _check_nonneg(weight_decay=weight_decay, momentum_decay=momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        _restore_defaults(self, state, dict(maximize=False, foreach=None, capturable=False, differentiable=False,
                                            decoupled_weight_decay=False),
                          ("step", "mu_product"))

    @_differentiable_grad_mode
    def step(self, closure=None):
        """One NAdam update; ``closure`` re-evaluates the loss when given."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, wd, mdecay = _value(group["lr"]), group["eps"], group["weight_decay"], group["momentum_decay"]
            decoupled, maximize = group["decoupled_weight_decay"], group["maximize"]
            tensor_path = group["differentiable"] or group["capturable"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                _no_sparse(p.grad, "NAdam")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _counter(0, p, group["capturable"])
                    state["mu_product"] = _counter(1, p, group["capturable"])
                    state["exp_avg"] = ops.zeros_like(p)
                    state["exp_avg_sq"] = ops.zeros_like(p)
                step_t, mu_product = state["step"], state["mu_product"]
                grad = -p.grad if maximize else p.grad
                param, grad = _as_real(p), _as_real(grad)
                exp_avg, exp_avg_sq = _as_real(state["exp_avg"]), _as_real(state["exp_avg_sq"])
                _check_capturable(group["capturable"], p, "params, mu_products and state_steps")
                step_t += 1
                t = step_t.item()
                bias_correction2 = 1 - beta2 ** t
                if wd != 0:
                    if decoupled:
                        param.mul_(1 - lr * wd)
                    else:
                        grad = grad.add(param, alpha=wd)
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * mdecay))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * mdecay))
                mu_product *= mu  # kept in the counter's precision, as torch does
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = exp_avg_sq.div(bias_correction2).sqrt()
                if tensor_path:
                    # the 0-d counter stays a tensor so the step factors can carry gradients
                    denom = denom.add(eps)
                    mu_product_next = mu_product * mu_next
                    param.addcdiv_(grad * (-lr * (1.0 - mu) / (1.0 - mu_product)), denom)
                    param.addcdiv_(exp_avg * (-lr * mu_next / (1.0 - mu_product_next)), denom)
                else:
                    mp = mu_product.item()
                    denom.add_(eps)
                    param.addcdiv_(grad, denom, value=-lr * (1.0 - mu) / (1.0 - mp))
                    param.addcdiv_(exp_avg, denom, value=(-lr * mu_next) / (1.0 - mp * mu_next))
        return loss
