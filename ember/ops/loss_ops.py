"""Pointwise losses with their reduction inside the op, as torch's mse_loss, binary_cross_entropy & co. are:
one graph node (``MseLossBackward0``, ``BinaryCrossEntropyBackward0``, ...) whatever the reduction, and one
pass less than an elementwise loss followed by a separate mean.

Each loss is an elementwise forward ``f(xp, *arrays, **kw)`` and its vjp ``v(g, out, *inputs, needs, **kw)``
for a gradient ``g`` of the elementwise loss's shape; ``reduced`` wraps the pair with the reduction.
"""
import numpy as np

from .._tensor import Tensor
from ._registry import defop
from .nn_ops import BCE, BCE_LOGITS
from .pointwise import where
from .reduce import _mean_fwd, _sum_fwd


def _loss_shape(*shapes, **kw):
    return np.broadcast_shapes(*[s for s in shapes if isinstance(s, tuple)])


def reduced(name, node, fwd, vjp):
    """The loss op ``name`` (graph node ``node``) with ``reduction`` in 'none' / 'mean' / 'sum'."""
    def f(xp, *arrs, reduction, **kw):
        loss = fwd(xp, *arrs, **kw)
        if reduction == "none":
            return loss
        loss = xp.asarray(loss)
        if reduction == "sum":
            return _sum_fwd(xp, loss, None, False, loss.dtype)
        return _mean_fwd(xp, loss, None, False, loss.ndim, loss.size)

    def v(g, out, *ins, needs=(), reduction, **kw):
        if reduction != "none":
            shape = _loss_shape(*[tuple(t.shape) for t in ins if isinstance(t, Tensor)])
            if reduction == "mean":
                n = 1
                for s in shape:
                    n *= s
                g = g / n
            g = g.expand(shape)
        return vjp(g, None, *ins, needs=needs, **kw)

    return defop(name, "promote", f, v, needs=True, save_out=False, node=node,
                 shape=lambda *shapes, reduction, **kw: _loss_shape(*shapes) if reduction == "none" else ())


def _mse_fwd(xp, a, b):
    d = a - b
    d *= d
    return d


def _mse_vjp(g, out, a, b, needs=()):
    d = (a - b) * g * 2
    return (d if needs[0] else None, -d if needs[1] else None)


def _smooth_l1_fwd(xp, a, b, beta):
    d = xp.abs(a - b)
    return xp.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta).astype(d.dtype, copy=False)


def _smooth_l1_vjp(g, out, a, b, needs=(), beta=1.0):
    d = a - b
    s = where(d.abs() < beta, d / beta, d.sign()) * g
    return (s if needs[0] else None, -s if needs[1] else None)


def _huber_fwd(xp, a, b, delta):
    d = xp.abs(a - b)
    return xp.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)).astype(d.dtype, copy=False)


def _huber_vjp(g, out, a, b, needs=(), delta=1.0):
    d = a - b
    s = where(d.abs() < delta, d, d.sign() * delta) * g
    return (s if needs[0] else None, -s if needs[1] else None)


def _soft_margin_fwd(xp, x, y):
    with np.errstate(over="ignore"):
        return xp.log1p(xp.exp(-(x * y)))


def _soft_margin_vjp(g, out, x, y, needs=()):
    # d/dx log(1 + exp(-y x)) = -y sigmoid(-y x)
    return ((-y) * (-(x * y)).sigmoid() * g if needs[0] else None, None)


MSE = reduced("mse_loss", "MseLossBackward0", _mse_fwd, _mse_vjp)
SMOOTH_L1 = reduced("smooth_l1_loss", "SmoothL1LossBackward0", _smooth_l1_fwd, _smooth_l1_vjp)
HUBER = reduced("huber_loss", "HuberLossBackward0", _huber_fwd, _huber_vjp)
SOFT_MARGIN = reduced("soft_margin_loss", "SoftMarginLossBackward0", _soft_margin_fwd, _soft_margin_vjp)
BCE_REDUCED = reduced("binary_cross_entropy_reduced", "BinaryCrossEntropyBackward0", BCE.fwd, BCE.vjp)
BCE_LOGITS_REDUCED = reduced("binary_cross_entropy_with_logits_reduced", "BinaryCrossEntropyWithLogitsBackward0",
                             BCE_LOGITS.fwd, BCE_LOGITS.vjp)
