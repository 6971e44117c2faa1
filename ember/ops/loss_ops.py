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


# ---------------------------------------------------------------- multi-class / multi-label hinge losses
# torch computes each as one kernel (MultiMarginLossBackward0 / MultilabelMarginLossBackward0); here the
# forward runs on arrays and the gradient is written in ember ops, so it can itself be differentiated.
def _rows(shape):
    """(N, C) of a margin loss input: a 0-d/1-d input is one sample."""
    if len(shape) < 2:
        return 1, (shape[0] if shape else 1)
    return shape[0], shape[1]


def _reduce_rows(xp, loss, nd, reduction):
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":  # an empty batch averages to nan, silently
        return loss.mean() if loss.size else xp.full((), np.nan, dtype=loss.dtype)
    return loss.reshape(()) if nd < 2 else loss


def _grad_rows(g, N, nd, reduction):
    """The output gradient as an (N, 1) per-sample column."""
    if reduction == "none":
        return g.reshape(N, 1)
    if reduction == "mean":
        g = g / N
    return g.reshape(1, 1).expand(N, 1)


def _multi_margin_fwd(xp, x, t, w, p, margin, reduction):
    N, C = _rows(x.shape)
    X, T = x.reshape(N, C), t.reshape(N)
    rows = xp.arange(N)
    z = margin - X[rows, T][:, None] + X
    h = xp.where(z > 0, z if p == 1 else z * z, 0)
    if w is not None:
        h = h * w[T][:, None]
    h[rows, T] = 0  # the target class itself is not a margin term
    loss = (h.sum(1) / C).astype(x.dtype, copy=False)
    return xp.asarray(_reduce_rows(xp, loss, x.ndim, reduction)).astype(x.dtype, copy=False)


def _multi_margin_vjp(g, out, x, t, w, needs, p, margin, reduction):
    if not needs[0]:
        return None, None, None
    N, C = _rows(tuple(x.shape))
    X, T = x.reshape(N, C), t.reshape(N, 1)
    z = margin - X.gather(1, T) + X
    other = X.new_ones((N, C)).scatter_(1, T, 0.0)
    d = (z > 0).to(X.dtype) * other
    if p == 2:
        d = d * (2 * z)
    if w is not None:
        d = d * w.index_select(0, T.reshape(N)).reshape(N, 1)
    d = d * (_grad_rows(g, N, x.dim(), reduction) / C)
    # each margin term raises x[j] and lowers x[target] by the same amount
    gx = d - (1 - other) * d.sum(1, keepdim=True)
    return gx.reshape(x.shape), None, None


def _margin_out_shape(xs, reduction):
    return (_rows(xs)[0],) if reduction == "none" and len(xs) >= 2 else ()


MULTI_MARGIN = defop("multi_margin_loss", "raw", _multi_margin_fwd, _multi_margin_vjp, needs=True,
                     save_out=False, node="MultiMarginLossBackward0",
                     shape=lambda xs, ts, ws, p, margin, reduction: _margin_out_shape(xs, reduction))


def _multilabel_terms(xp, X, T):
    """cnt[n, k]: how often class k is listed before the first -1 of row n; free[n, j]: j is not listed."""
    N, C = X.shape
    valid = xp.cumprod(T != -1, axis=1).astype(bool)
    hit = (T[:, :, None] == xp.arange(C)[None, None, :]) & valid[:, :, None]
    cnt = hit.sum(1).astype(X.dtype)
    return cnt, cnt == 0


def _multilabel_fwd(xp, x, t, reduction):
    N, C = _rows(x.shape)
    X, T = x.reshape(N, C), t.reshape(N, C)
    cnt, free = _multilabel_terms(xp, X, T)
    z = 1 - X[:, :, None] + X[:, None, :]  # z[n, k, j]: listed class k against class j
    h = xp.where(z > 0, z, 0) * cnt[:, :, None] * free[:, None, :]
    loss = (h.sum((1, 2)) / C).astype(x.dtype, copy=False)
    return xp.asarray(_reduce_rows(xp, loss, x.ndim, reduction)).astype(x.dtype, copy=False)


def _multilabel_vjp(g, out, x, t, needs, reduction):
    if not needs[0]:
        return None, None
    N, C = _rows(tuple(x.shape))
    X = x.detach().reshape(N, C)
    T = t.reshape(N, C)
    xp = X._device.backend.xp
    cnt, free = _multilabel_terms(xp, X._data, T._data)
    z = 1 - X._data[:, :, None] + X._data[:, None, :]
    a = (z > 0) * cnt[:, :, None] * free[:, None, :]
    # piecewise linear: the gradient is a constant pattern (+1 for class j, -1 for listed k) times g
    pat = Tensor._make(xp.asarray(a.sum(1) - a.sum(2)).astype(x.dtype.np), x._device)
    return (pat * (_grad_rows(g, N, x.dim(), reduction) / C)).reshape(x.shape), None


MULTILABEL_MARGIN = defop("multilabel_margin_loss", "raw", _multilabel_fwd, _multilabel_vjp, needs=True,
                          save_out=False, node="MultilabelMarginLossBackward0",
                          shape=lambda xs, ts, reduction: _margin_out_shape(xs, reduction))
