"""Neural-network ops registered with fused forward/backward: linear, softmax, log_softmax, nll_loss.

Fused so one node (and one BLAS call per gradient) replaces a chain of small ops, and so a compiled kernel
can replace each later. Public wrappers with torch's signatures live in ``ember.nn.functional``.
"""
import warnings

import numpy as np

from .._tensor import Tensor as _T
from ._registry import apply, defop


# ---------------------------------------------------------------- linear: x @ W.T + b
def _linear_fwd(xp, x, w, b=None):
    if x.shape[-1] != w.shape[-1]:
        lead = int(np.prod(x.shape[:-1])) if x.ndim > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({lead}x{x.shape[-1]} and "
                           f"{w.shape[1] if w.ndim == 2 else w.shape[0]}x{w.shape[0] if w.ndim == 2 else 1})")
    out = xp.matmul(x, w.T)
    if b is not None:
        out += b
    return out


def _linear_vjp(g, out, x, w, b=None, needs=(True, True, True)):
    gx = g @ w if needs[0] else None
    gw = gb = None
    if needs[1]:
        g2 = g.reshape(-1, g.shape[-1]) if g.dim() != 2 else g
        x2 = x.reshape(-1, x.shape[-1]) if x.dim() != 2 else x
        gw = g2.mT @ x2 if g.dim() > 1 else g.unsqueeze(1) * x.unsqueeze(0)
    if len(needs) > 2 and needs[2]:
        gb = g.reshape(-1, g.shape[-1]).sum(0) if g.dim() > 1 else g
    return gx, gw, gb


LINEAR = defop("linear", "promote", _linear_fwd, _linear_vjp, needs=True, save_out=False, node="AddmmBackward0",
               shape=lambda sx, sw, sb=None: tuple(sx[:-1]) + (sw[0],))


def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` as one op."""
    if bias is None:
        return apply(LINEAR, (input, weight), {})
    return apply(LINEAR, (input, weight, bias), {})


# ---------------------------------------------------------------- softmax family
def _softmax_fwd(xp, x, dim):
    m = xp.max(x, axis=dim, keepdims=True) if x.size else x
    e = xp.exp(x - m)
    e /= xp.sum(e, axis=dim, keepdims=True)
    return e


def _log_softmax_fwd(xp, x, dim):
    if x.size == 0:
        return x.copy()
    m = xp.max(x, axis=dim, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    s = x - m
    with np.errstate(divide="ignore"):
        s -= xp.log(xp.sum(xp.exp(s), axis=dim, keepdims=True))
    return s


SOFTMAX = defop("softmax", "float", _softmax_fwd,
                lambda g, out, x, dim: out * (g - (g * out).sum(dim, keepdim=True)), save_in=False)
LOG_SOFTMAX = defop("log_softmax", "float", _log_softmax_fwd,
                    lambda g, out, x, dim: g - out.exp() * g.sum(dim, keepdim=True), save_in=False)


def _legacy_softmax_dim(name, ndim):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as "
                  f"an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax_like(op, name, input, dim, dtype):
    """softmax/log_softmax with torch's argument handling (implicit dim warning, dtype, 0-d input)."""
    if dim is None:
        dim = _legacy_softmax_dim(name, input.dim())
    if dtype is not None:
        input = input.to(dtype)
    nd = input.dim()
    d = dim + max(nd, 1) if dim < 0 else dim
    if not 0 <= d < max(nd, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(nd, 1)}, {max(nd, 1) - 1}], "
                         f"but got {dim})")
    if nd == 0:
        return apply(op, (input.reshape(1),), {"dim": 0}).reshape(())
    return apply(op, (input,), {"dim": d})


_T.softmax = lambda self, dim=None, dtype=None: softmax_like(SOFTMAX, "softmax", self, dim, dtype)
_T.log_softmax = lambda self, dim=None, dtype=None: softmax_like(LOG_SOFTMAX, "log_softmax", self, dim, dtype)


# ---------------------------------------------------------------- nll_loss
def _nll_check(logp, target, weight):
    if logp.ndim < 1 or logp.ndim > 1 and target.shape != (logp.shape[0],) + logp.shape[2:]:
        if logp.ndim >= 2 and target.ndim >= 1 and target.shape[0] != logp.shape[0]:
            raise ValueError(f"Expected input batch_size ({logp.shape[0]}) to match target batch_size "
                             f"({target.shape[0]}).")
        raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got targets of size: : "
                           f"{list(target.shape)}" if logp.ndim == 4 else
                           f"Expected target size {list((logp.shape[0],) + logp.shape[2:])}, got "
                           f"{list(target.shape)}")


def _picked(xp, logp, target, ignore_index):
    """-logp at each target class (0 where ignored), and the validity mask."""
    c = logp.shape[1] if logp.ndim > 1 else logp.shape[0]
    valid = target != ignore_index
    bad = valid & ((target < 0) | (target >= c))
    if bool(bad.any()):
        t = int(target[bad].reshape(-1)[0])
        raise IndexError(f"Target {t} is out of bounds.")
    safe = xp.where(valid, target, 0)
    if logp.ndim == 1:
        vals = logp[safe]
    else:
        vals = xp.take_along_axis(logp, xp.expand_dims(safe, 1), axis=1).squeeze(1)
    return vals, valid, safe


def _nll_fwd(xp, logp, target, weight, ignore_index, reduction):
    if target.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {target.dtype}")
    vals, valid, safe = _picked(xp, logp, target, ignore_index)
    w = weight[safe] if weight is not None else xp.ones(safe.shape, logp.dtype)
    w = xp.where(valid, w, 0).astype(logp.dtype)
    losses = -vals * w
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / w.sum()


def _nll_vjp(g, out, logp, target, weight, needs, ignore_index, reduction):
    return (apply(NLL_BACKWARD, (g, logp, target) + ((weight,) if weight is not None else ()),
                  {"ignore_index": ignore_index, "reduction": reduction}) if needs[0] else None,
            None, None)


def _nll_bwd_fwd(xp, g, logp, target, weight=None, ignore_index=-100, reduction="mean"):
    _, valid, safe = _picked(xp, logp, target, ignore_index)
    w = weight[safe] if weight is not None else xp.ones(safe.shape, logp.dtype)
    w = xp.where(valid, w, 0).astype(logp.dtype)
    if reduction == "mean":
        coef = -g / w.sum()
    elif reduction == "sum":
        coef = -g * xp.ones(1, logp.dtype)[0]
    else:
        coef = -g
    gw = w * coef
    out = xp.zeros(logp.shape, logp.dtype)
    if logp.ndim == 1:
        out[safe] = gw
    else:
        xp.put_along_axis(out, xp.expand_dims(safe, 1), xp.expand_dims(gw, 1), axis=1)
    return out


def _nll_bwd_vjp(gg, out, g, logp, target, weight=None, needs=None, ignore_index=-100, reduction="mean"):
    # linear in g: d/dg of <gg, nll_backward(g)> is nll-forward-shaped
    gvals = apply(NLL, (gg, target, weight), {"ignore_index": ignore_index, "reduction": reduction}) \
        if needs[0] else None
    return gvals, None, None, None


NLL = defop("nll_loss", "raw", _nll_fwd, _nll_vjp, needs=True, save_out=False,
            shape=lambda s, st, sw, ignore_index, reduction: tuple(st) if reduction == "none" else ())
NLL_BACKWARD = defop("nll_loss_backward", "raw", _nll_bwd_fwd, _nll_bwd_vjp, needs=True, save_out=False)


def nll_loss_op(logp, target, weight, ignore_index, reduction):
    _nll_check(logp._data, target._data, weight)
    return apply(NLL, (logp, target, weight), {"ignore_index": ignore_index, "reduction": reduction})


FUNCS = {}  # public forms live in ember.nn.functional
