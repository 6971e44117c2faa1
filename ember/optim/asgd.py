"""ASGD: averaged stochastic gradient descent (torch's single-tensor update, step for step)."""
from .. import ops
from .optimizer import Optimizer
from ._helpers import (_as_real, _call_closure, _check_capturable, _check_lr, _check_nonneg,
                       _differentiable_grad_mode, _no_sparse, _restore_defaults, _scalar_dtype, _value)


class ASGD(Optimizer):
    """ASGD (Polyak & Juditsky): SGD with decaying step ``eta`` and a running average ``ax`` after ``t0`` steps."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_nonneg(weight_decay=weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        _restore_defaults(self, state, dict(foreach=None, maximize=False, differentiable=False, capturable=False),
                          ("step", "eta", "mu"), on_device=True)

    @_differentiable_grad_mode
    def step(self, closure=None):
        """One ASGD update; ``closure`` re-evaluates the loss when given."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = _value(group["lr"]), group["lambd"], group["alpha"], group["t0"]
            wd, maximize, capturable = group["weight_decay"], group["maximize"], group["capturable"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                _no_sparse(p.grad, "ASGD")
                state = self.state[p]
                if len(state) == 0:
                    sd = _scalar_dtype()
                    state["step"] = ops.zeros((), dtype=sd, device=p.device)
                    state["eta"] = ops.tensor(lr, dtype=sd, device=p.device)
                    state["mu"] = ops.ones((), dtype=sd, device=p.device)
                    state["ax"] = ops.zeros_like(p)
                step_t, eta, mu = state["step"], state["eta"], state["mu"]
                grad = -p.grad if maximize else p.grad
                _check_capturable(capturable, p, "params, mus, etas, and state_steps")
                param, grad, ax = _as_real(p), _as_real(grad), _as_real(state["ax"])
                step_t += 1
                if wd != 0:
                    grad = grad.add(param, alpha=wd)
                # eta is stored in the counter's precision, so the update uses that rounded value
                eta_value = eta.item()
                param.mul_(1 - lambd * eta_value)
                param.add_(grad, alpha=-eta_value)
                if mu.item() != 1:
                    ax.add_(param.sub(ax).mul_(mu))
                else:
                    ax.copy_(param)
                t = step_t.item()
                eta.copy_(ops.as_tensor(lr / ((1 + lambd * lr * t) ** alpha)))
                mu.copy_(ops.as_tensor(1 / max(1, t - t0)))
        return loss
