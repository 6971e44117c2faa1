"""Adam and AdamW (torch's single-tensor update, step for step; float32 0-d ``step`` state)."""
import numpy as np

from .. import _dtype as D, ops
from ..ops import pointwise as P
from ._helpers import (_as_real, _call_closure, _check_betas, _check_capturable, _check_lr, _check_nonneg, _counter,
                       _restore_defaults)
from .optimizer import Optimizer, _use_grad


def _corrections(lr, beta1, beta2, step):
    """Adam's bias corrections at ``step``: (step size lr / (1 - beta1^t), sqrt(1 - beta2^t))."""
    return lr / (1 - beta1 ** step), (1 - beta2 ** step) ** 0.5


def _step_on_arrays(p, grad, step_t, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, wd, decoupled):
    """The same update, op for op and kernel for kernel, on the raw arrays of real float32/float64 CPU
    tensors of one dtype (skipping ~10 op dispatches per parameter); False when the tensors do not qualify
    (the Tensor path runs). Version counters move as the in-place ops would move them."""
    dt = p.dtype
    if (dt is not D.float32 and dt is not D.float64) or p._device.type != "cpu" or p.is_sparse:
        return False
    for t in (grad, exp_avg, exp_avg_sq):
        if t.dtype is not dt or t._device is not p._device or t._data.shape != p._data.shape or t.is_sparse:
            return False
    pa, g, ea, es = p._data, grad._data, exp_avg._data, exp_avg_sq._data
    if not (pa.flags.writeable and ea.flags.writeable and es.flags.writeable and step_t._data.flags.writeable):
        return False
    step_t._data += 1
    step_t._storage._version += 1
    if wd != 0:
        if decoupled:
            np.multiply(pa, 1 - lr * wd, out=pa)
            p._storage._version += 1
        else:
            g = g + wd * pa if wd != 1 else g + pa  # grad.add(p, alpha=wd)
    ea[...] = P._lerp_fwd(np, ea, g, 1 - beta1)
    np.multiply(es, beta2, out=es)
    es[...] = P._addcmul_fwd(np, es, g, g, 1 - beta2)
    exp_avg._storage._version += 1
    exp_avg_sq._storage._version += 2
    step_size, bias_correction2_sqrt = _corrections(lr, beta1, beta2, float(step_t._data))
    denom = np.true_divide(np.sqrt(es), bias_correction2_sqrt)
    denom = np.add(denom, eps, out=denom) if denom.ndim else denom + eps  # 0-d: NumPy gave a scalar
    pa[...] = P._addcdiv_fwd(np, pa, ea, denom, -step_size)
    p._storage._version += 1
    return True


class Adam(Optimizer):
    """Adam: bias-corrected first/second moment estimates; ``decoupled_weight_decay=True`` is AdamW."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _check_lr(lr)
        _check_nonneg(eps=eps)
        _check_betas(betas)
        _check_nonneg(weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        _restore_defaults(self, state, dict(amsgrad=False, maximize=False, foreach=None, capturable=False,
                                            differentiable=False, fused=None, decoupled_weight_decay=False))

    @_use_grad
    def step(self, closure=None):
        """One Adam(W) update; ``closure`` re-evaluates the loss when given."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            amsgrad, maximize, decoupled = group["amsgrad"], group["maximize"], group["decoupled_weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad if not maximize else -p.grad
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _counter(0)
                    state["exp_avg"] = ops.zeros_like(p)
                    state["exp_avg_sq"] = ops.zeros_like(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = ops.zeros_like(p)
                step_t, exp_avg, exp_avg_sq = state["step"], state["exp_avg"], state["exp_avg_sq"]
                _check_capturable(group["capturable"], p)
                if not amsgrad and not group["differentiable"] and \
                        _step_on_arrays(p, grad, step_t, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, wd, decoupled):
                    continue
                step_t += 1
                if wd != 0:
                    if decoupled:
                        p.mul_(1 - lr * wd)
                    else:
                        grad = grad.add(p, alpha=wd)
                param = p
                if p.is_complex():  # torch updates real and imaginary parts as separate reals
                    param, grad, exp_avg, exp_avg_sq = (_as_real(t) for t in (p, grad, exp_avg, exp_avg_sq))
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad.conj() if grad.is_complex() else grad, value=1 - beta2)
                step_size, bias_correction2_sqrt = _corrections(lr, beta1, beta2, step_t.item())
                if amsgrad:
                    mx = _as_real(state["max_exp_avg_sq"])
                    ops.maximum(mx, exp_avg_sq, out=mx)
                    denom = (mx.sqrt() / bias_correction2_sqrt).add_(eps)
                else:
                    denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
                param.addcdiv_(exp_avg, denom, value=-step_size)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (``p *= 1 - lr * weight_decay`` before the update)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
