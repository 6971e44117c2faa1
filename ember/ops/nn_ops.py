"""Neural-network ops registered with fused forward/backward (``ember.nn.functional`` holds the public forms).

Each op is one graph node whose forward runs on raw arrays and whose gradient is another registered op (or a
few ember ops), so double backward works where torch supports it:

* linear, softmax, log_softmax, nll_loss;
* convolution through im2col (``as_strided`` windows) and one batched ``matmul`` per call -- at stride 1 on
  "shifted planes" (zero-banded flat grids whose window taps are plain shifts, copied in long runs); its input
  gradient (= transposed convolution) and weight gradient are ops too, each the adjoint of the others;
* pooling: max (separable argmax, then a gather whose gradient is a scatter-add), average (separable strided
  sums), adaptive pools, interpolation and index-map paddings as separable "tap" maps;
* normalisation (batch/layer/group/instance share one op), embedding, activations, a few losses, CTC,
  grid sampling.
"""
import itertools
import math
import warnings

import numpy as np

from .. import _dtype as _D
from .._tensor import Tensor as _T
from ..backend import cpu_kernels as _K
from ..backend import parallel
from ..backend.parallel import parallel_for
from ..autograd import grad_mode
from . import conv_winograd as WG
from ._registry import _type_name, apply, backward_op, defop
from .linalg import _mm2d

_gm = grad_mode.state


def _prod(seq):
    r = 1
    for v in seq:
        r *= int(v)
    return r


def _F():
    from .. import ops
    return ops


def _const(arr, like):
    """A constant (no-grad) tensor on ``like``'s device from a NumPy array."""
    be = like._device.backend
    if not be.is_meta:
        arr = be.xp.asarray(arr)
    else:
        arr = be.empty(np.shape(arr), np.asarray(arr).dtype)
    return _T._make(arr, like._device)


def _wrap(arr, like):
    return _T._make(arr, like._device)


def _xp(t):
    return t._device.backend.xp


def _bincount(xp, flat, weights, n):
    """Sum ``weights`` into ``n`` bins at ``flat`` (a vectorised scatter-add; complex split in two)."""
    flat = flat.reshape(-1)
    weights = weights.reshape(-1)
    if weights.dtype.kind == "c":
        return _bincount(xp, flat, weights.real, n) + 1j * _bincount(xp, flat, weights.imag, n)
    if flat.size == 0:
        return xp.zeros(n, dtype=np.float64)
    return xp.bincount(flat, weights=weights.astype(np.float64, copy=False), minlength=n)


def _nodev(kind):
    # kernels NumPy cannot run for a dtype raise torch's NotImplementedError
    def rule(c):
        if c.category < 2 or c.category == 3:
            raise NotImplementedError(f"\"{kind}\" not implemented for '{_type_name(c)}'")
        return c, c
    return rule


def _no_bool(kind):
    def rule(c):
        if c.category == 0 or c.category == 3:
            raise NotImplementedError(f"\"{kind}\" not implemented for '{_type_name(c)}'")
        return c, c
    return rule


# ================================================================ linear: x @ W.T + b
def _linear_fwd(xp, x, w, b=None):
    if x.shape[-1] != w.shape[-1]:
        lead = int(np.prod(x.shape[:-1])) if x.ndim > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({lead}x{x.shape[-1]} and "
                           f"{w.shape[1] if w.ndim == 2 else w.shape[0]}x{w.shape[0] if w.ndim == 2 else 1})")
    if x.ndim > 2 and w.ndim == 2:
        # one (rows x K) @ (K x O) gemm: NumPy would run one small gemm per leading index otherwise
        lead = x.shape[:-1]
        out = _mm2d(xp, _as_rows(x), w.T).reshape(lead + (w.shape[0],))
    elif x.ndim == 2 and w.ndim == 2:
        out = _mm2d(xp, x, w.T)
    else:
        out = xp.matmul(x, w.T)
    if b is not None and (type(out) is not np.ndarray or out.size < _K.BINARY_MIN or
                          _K.binary(out, b, "add", inplace=True) is None):
        out += b  # (a large float32 output: on the compiled pool)
    return out


def _as_rows(a):
    """``a`` (array or tensor) as (rows, last dim); the row count is explicit, since reshape(-1, 0) is ambiguous."""
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


def _linear_vjp(g, out, x, w, b=None, needs=(True, True, True)):
    # on tensors, or on the CPU arrays (x at least 2-D, w 2-D: see LINEAR's arrays=), where _mm runs the same
    # gemm as the matmul op and the bias sum is NumPy's, as the sum op's: both paths give the same values
    if w.ndim == 1:  # x @ w: one value per row of x (torch takes no bias with a 1-D weight)
        gx = g.unsqueeze(-1) * w if needs[0] else None
        gw = (g * x if x.dim() == 1 else _as_rows(x).mT @ g.reshape(-1)) if needs[1] else None
        return gx, gw, None
    gx = None
    if needs[0]:
        if g.ndim > 2:  # one gemm over all leading dims (see _linear_fwd)
            gx = _mm(_as_rows(g), w).reshape(tuple(g.shape[:-1]) + (w.shape[1],))
        else:
            gx = _mm(g, w)
    gw = gb = None
    if needs[1]:
        g2 = g if g.ndim == 2 else _as_rows(g)
        x2 = x if x.ndim == 2 else _as_rows(x)
        gw = _mm(g2.mT, x2) if g.ndim > 1 else g.unsqueeze(1) * x.unsqueeze(0)
    if len(needs) > 2 and needs[2]:
        gb = _as_rows(g).sum(0) if g.ndim > 1 else g
    return gx, gw, gb


def _mm(a, b):
    """``a @ b`` of two tensors, or of two CPU arrays by the gemm the matmul op runs on them."""
    return _K.matmul(a, b) if type(a) is np.ndarray else a @ b


LINEAR = defop("linear", "promote", _linear_fwd, _linear_vjp, needs=True, save_out=False, node="AddmmBackward0",
               shape=lambda sx, sw, sb=None: tuple(sx[:-1]) + tuple(sw[:-1]),
               arrays=lambda x, w, b=None: x.ndim >= 2 and w.ndim == 2)


def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` as one op."""
    if isinstance(input, _T) and isinstance(weight, _T) and (
            input.dtype is not weight.dtype or (isinstance(bias, _T) and bias.dtype is not weight.dtype)):
        from .linalg import check_linear_dtypes
        check_linear_dtypes(input, weight, bias)
    if bias is None:
        return apply(LINEAR, (input, weight), {})
    return apply(LINEAR, (input, weight, bias), {})


# ================================================================ softmax family
def _last_dim_rows(xp, dim, *arrays):
    """The row length when a softmax over ``dim`` of these float32 CPU arrays (one shape) can go to the compiled
    kernels: ``dim`` is the last dim, else None."""
    a = arrays[0]
    if xp is not np or a.ndim == 0 or a.size == 0 or dim not in (-1, a.ndim - 1) or \
            any(b.dtype != np.float32 or b.shape != a.shape for b in arrays) or not _K.available():
        return None
    return a.shape[-1]


def _softmax_fwd(xp, x, dim):
    n = _last_dim_rows(xp, dim, x)
    if n is not None:
        return _K.softmax(_rows(x, n), False).reshape(x.shape)
    m = xp.max(x, axis=dim, keepdims=True) if x.size else x
    with np.errstate(invalid="ignore"):
        e = xp.exp(x - m)
        e /= xp.sum(e, axis=dim, keepdims=True)
    return e


def _log_softmax_fwd(xp, x, dim):
    n = _last_dim_rows(xp, dim, x)
    if n is not None:
        return _K.softmax(_rows(x, n), True).reshape(x.shape)
    if x.size == 0:
        return x.copy()
    m = xp.max(x, axis=dim, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    s = x - m
    with np.errstate(divide="ignore"):
        s -= xp.log(xp.sum(xp.exp(s), axis=dim, keepdims=True))
    return s


def _softmax_bwd_fwd(xp, g, out, *, dim):
    """out * (g - sum(g * out)): the softmax gradient in three passes."""
    n = _last_dim_rows(xp, dim, g, out)
    if n is not None:
        return _K.softmax_backward(_rows(g, n), _rows(out, n), False).reshape(out.shape)
    r = g * out
    s = r.sum(dim, keepdims=True)
    xp.subtract(g, s, out=r)
    r *= out
    return r


def _softmax_bwd_vjp(u, res, g, out, needs=(), *, dim):
    # y = o (g - sum(g o)): linear in g with the same form; d/do = u (g - sum(g o)) - g sum(u o)
    dg = apply(SOFTMAX_BWD, (u, out), {"dim": dim}) if needs[0] else None
    do = u * (g - (g * out).sum(dim, keepdim=True)) - g * (u * out).sum(dim, keepdim=True) if needs[1] else None
    return dg, do


def _log_softmax_bwd_fwd(xp, g, out, *, dim):
    """g - exp(out) * sum(g)."""
    n = _last_dim_rows(xp, dim, g, out)
    if n is not None:
        return _K.softmax_backward(_rows(g, n), _rows(out, n), True).reshape(out.shape)
    r = xp.exp(out)
    r *= g.sum(dim, keepdims=True)
    xp.subtract(g, r, out=r)
    return r


def _log_softmax_bwd_vjp(u, res, g, out, needs=(), *, dim):
    e = out.exp() if needs[0] or needs[1] else None
    dg = u - (u * e).sum(dim, keepdim=True) if needs[0] else None
    do = -(u * e) * g.sum(dim, keepdim=True) if needs[1] else None
    return dg, do


SOFTMAX_BWD = defop("softmax_backward_data", "promote", _softmax_bwd_fwd, _softmax_bwd_vjp, needs=True,
                    save_out=False, node="SoftmaxBackwardDataBackward0", shape=lambda sg, so, **kw: tuple(sg))
LOG_SOFTMAX_BWD = defop("log_softmax_backward_data", "promote", _log_softmax_bwd_fwd, _log_softmax_bwd_vjp,
                        needs=True, save_out=False, node="LogSoftmaxBackwardDataBackward0",
                        shape=lambda sg, so, **kw: tuple(sg))
SOFTMAX = defop("softmax", "float", _softmax_fwd,
                lambda g, out, x, dim: backward_op(SOFTMAX_BWD, (g, out), {"dim": dim}), save_in=False, arrays=True)
LOG_SOFTMAX = defop("log_softmax", "float", _log_softmax_fwd,
                    lambda g, out, x, dim: backward_op(LOG_SOFTMAX_BWD, (g, out), {"dim": dim}), save_in=False,
                    arrays=True)


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
    if input.dtype.category != 2:  # torch has no integer/bool/complex softmax kernel
        from ._registry import _type_name
        kernel = "lastdim_kernel_impl" if d == max(nd - 1, 0) else "kernel_impl"
        raise NotImplementedError(f"\"{name}_{kernel}\" not implemented for '{_type_name(input.dtype)}'")
    if nd == 0:
        return apply(op, (input.reshape(1),), {"dim": 0}).reshape(())
    return apply(op, (input,), {"dim": d})


_T.softmax = lambda self, dim=None, dtype=None: softmax_like(SOFTMAX, "softmax", self, dim, dtype)
_T.log_softmax = lambda self, dim=None, dtype=None: softmax_like(LOG_SOFTMAX, "log_softmax", self, dim, dtype)


# ================================================================ nll_loss
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
    elif logp.ndim == 2:  # the common case, by plain fancy indexing (take_along_axis costs ~10 us more)
        vals = logp[xp.arange(logp.shape[0]), safe]
    else:
        vals = xp.take_along_axis(logp, xp.expand_dims(safe, 1), axis=1).squeeze(1)
    return vals, valid, safe


def _all_classes(xp, logp, target, weight, ignore_index):
    """The common case, a 2-D ``logp`` with no class weights whose targets are all class indices in [0, C) (none
    ignored): one pass checks it, as negative targets read as unsigned are out of range too. Then the loss needs
    no mask and no weights, and an out-of-range target goes to ``_picked`` for its error."""
    if weight is not None or logp.ndim != 2 or not logp.shape[0] or 0 <= ignore_index < logp.shape[1]:
        return False
    u = target.view(_UNSIGNED[target.dtype.itemsize]) if target.dtype.kind == "i" else target
    return int(u.max()) < logp.shape[1]


_UNSIGNED = {k: np.dtype(f"u{k}") for k in (1, 2, 4, 8)}  # itemsize -> the unsigned dtype a target is read as


_ROW_INDEX = {}  # n -> np.arange(n), the row index of a 2-D pick (made once per batch size)


def _row_index(xp, n):
    if xp is not np:
        return xp.arange(n)
    r = _ROW_INDEX.get(n)
    if r is None:
        if len(_ROW_INDEX) > 64:
            _ROW_INDEX.clear()
        r = _ROW_INDEX[n] = np.arange(n)
        r.flags.writeable = False
    return r


def _nll_weights(xp, logp, weight, valid, safe):
    """Each target's class weight in logp's dtype, 0 where ignored."""
    if weight is None:
        return valid.astype(logp.dtype)
    return xp.where(valid, weight[safe], 0).astype(logp.dtype)


def _nll_fwd(xp, logp, target, weight, ignore_index, reduction):
    if target.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {target.dtype}")
    if _all_classes(xp, logp, target, weight, ignore_index):
        losses = -logp[_row_index(xp, logp.shape[0]), target]
        if reduction == "none":
            return losses
        total = losses.sum()
        return total if reduction == "sum" else total / logp.dtype.type(logp.shape[0])
    vals, valid, safe = _picked(xp, logp, target, ignore_index)
    w = _nll_weights(xp, logp, weight, valid, safe)
    losses = -vals * w
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    with np.errstate(invalid="ignore", divide="ignore"):  # every target ignored: NaN, as torch, without a warning
        return losses.sum() / w.sum()


def _nll_vjp(g, out, logp, target, weight, needs, ignore_index, reduction):
    return (backward_op(NLL_BACKWARD, (g, logp, target) + ((weight,) if weight is not None else ()),
                        {"ignore_index": ignore_index, "reduction": reduction}) if needs[0] else None,
            None, None)


def _nll_bwd_fwd(xp, g, logp, target, weight=None, ignore_index=-100, reduction="mean"):
    if _all_classes(xp, logp, target, weight, ignore_index):
        n = logp.shape[0]
        out = xp.zeros(logp.shape, logp.dtype)
        out[_row_index(xp, n), target] = -g / logp.dtype.type(n) if reduction == "mean" else -g
        return out
    _, valid, safe = _picked(xp, logp, target, ignore_index)
    w = _nll_weights(xp, logp, weight, valid, safe)
    with np.errstate(invalid="ignore", divide="ignore"):
        if reduction == "mean":
            coef = -g / w.sum()
        elif reduction == "sum":
            coef = -g * xp.ones(1, logp.dtype)[0]
        else:
            coef = -g
        gw = xp.where(valid, w * coef, 0)  # ignored targets get no gradient (0, even when all are ignored)
    out = xp.zeros(logp.shape, logp.dtype)
    if logp.ndim == 1:
        out[safe] = gw
    elif logp.ndim == 2:
        out[xp.arange(logp.shape[0]), safe] = gw
    else:
        xp.put_along_axis(out, xp.expand_dims(safe, 1), xp.expand_dims(gw, 1), axis=1)
    return out


def _nll_bwd_vjp(gg, out, g, logp, target, weight=None, needs=None, ignore_index=-100, reduction="mean"):
    # linear in g: d/dg of <gg, nll_backward(g)> is nll-forward-shaped
    gvals = apply(NLL, (gg, target, weight), {"ignore_index": ignore_index, "reduction": reduction}) \
        if needs[0] else None
    return gvals, None, None, None


NLL = defop("nll_loss", "raw", _nll_fwd, _nll_vjp, needs=True, save_out=False,
            shape=lambda s, st, sw, ignore_index, reduction: tuple(st) if reduction == "none" else (),
            arrays=lambda logp, target, weight=None: True)  # (the vjp may run on the arrays, the target an index)
NLL_BACKWARD = defop("nll_loss_backward", "raw", _nll_bwd_fwd, _nll_bwd_vjp, needs=True, save_out=False)


def nll_loss_op(logp, target, weight, ignore_index, reduction):
    _nll_check(logp._data, target._data, weight)
    return apply(NLL, (logp, target, weight), {"ignore_index": ignore_index, "reduction": reduction})


# ================================================================ sliding windows (shared by conv, unfold, pools)
def _padded(xp, x, pads, value=0):
    """``x`` with its trailing ``len(pads)`` dims padded by (lo, hi) >= 0 entries of ``value``."""
    if not any(lo or hi for lo, hi in pads):
        return x
    n = len(pads)
    lead = x.shape[:x.ndim - n]
    sp = x.shape[x.ndim - n:]
    out = xp.empty(lead + tuple(s + lo + hi for s, (lo, hi) in zip(sp, pads)), dtype=x.dtype)
    out[...] = value
    out[(Ellipsis,) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(sp, pads))] = x
    return out


def _crop(xp, buf, pads, sizes):
    if not any(lo or hi for lo, hi in pads):
        return buf
    return xp.ascontiguousarray(buf[(Ellipsis,) + tuple(slice(lo, lo + s) for (lo, _), s in zip(pads, sizes))])


def _windows(xp, x, out, k, stride, dil):
    """A strided view (..., *out, *k) of every window of the trailing dims (no copy)."""
    n = len(k)
    st = x.strides
    shape = x.shape[:x.ndim - n] + tuple(out) + tuple(k)
    strides = st[:x.ndim - n] + tuple(st[x.ndim - n + i] * stride[i] for i in range(n)) + \
        tuple(st[x.ndim - n + i] * dil[i] for i in range(n))
    return xp.lib.stride_tricks.as_strided(x, shape, strides)


def _im2col(xp, xpd, out, k, stride, dil):
    """(N, C, *padded) -> contiguous columns (N, C, *k, *out)."""
    n = len(k)
    if all(v == 1 for v in k) and all(s == 1 for s in stride) and tuple(xpd.shape[2:]) == tuple(out):
        return xpd.reshape(xpd.shape[:2] + (1,) * n + xpd.shape[2:])
    win = _windows(xp, xpd, out, k, stride, dil)
    perm = (0, 1) + tuple(range(2 + n, 2 + 2 * n)) + tuple(range(2, 2 + n))
    return xp.ascontiguousarray(win.transpose(perm))


def _col2im(xp, cols, padded, out, k, stride, dil):
    """Adjoint of ``_im2col``: add columns (N, C, *k, *out) back into (N, C, *padded); a loop over the
    kernel offsets only, each adding one strided slab."""
    n = len(k)
    buf = xp.zeros(cols.shape[:2] + tuple(padded), dtype=cols.dtype)
    if buf.size == 0 or cols.size == 0:
        return buf
    for kk in itertools.product(*[range(v) for v in k]):
        sl = tuple(slice(kk[i] * dil[i], kk[i] * dil[i] + stride[i] * (out[i] - 1) + 1, stride[i])
                   for i in range(n))
        buf[(slice(None), slice(None)) + sl] += cols[(slice(None), slice(None)) + kk]
    return buf


def _conv_out(sp, k, stride, pads, dil):
    return tuple((sp[i] + pads[i][0] + pads[i][1] - dil[i] * (k[i] - 1) - 1) // stride[i] + 1
                 for i in range(len(k)))


# ================================================================ convolution
# Stride 1 ("shifted planes"): every (sample, channel) plane is stored flattened on a grid of extents
# Q_i = max(s_i + max(pad_lo_i, pad_hi_i), out_i) with zeros off the data. The zero band past a row's end is
# also the next row's left padding (likewise for planes), so the window tap at kernel offset a reads the plane
# at one plain shift, sum_i a_i * dil_i * pitch_i, for every output position at once. One sample's taps are
# then contiguous runs of out_0 * pitch_0 values (full grid rows; the out-of-range columns compute garbage that
# is cropped): the im2col copy moves long runs instead of out_last-sized pieces, and no col2im is needed.
_S1_CHUNK = 1 << 22  # bytes of columns per batched gemm: bounds the buffer (K times the input) at no cost in speed


def _s1_geom(sp, k, pads, dil):
    n = len(k)
    out = tuple(sp[i] + pads[i][0] + pads[i][1] - dil[i] * (k[i] - 1) for i in range(n))
    Q = tuple(max(sp[i] + max(pads[i]), out[i]) for i in range(n))
    pitch = [1] * n
    for i in reversed(range(n - 1)):
        pitch[i] = pitch[i + 1] * Q[i + 1]
    return out, Q, pitch


def _s1_ok(x, k, stride, pads, dil, other, out):
    """Whether the shifted-plane path applies and pays: stride 1, real work (``other``: the weight or the
    gradient), not a plain 1x1 (already a gemm on the input itself), and garbage columns at most half the
    real ones. ``out`` (the output extent wanted) may stop short of the full one (transposed convolutions'
    gradients)."""
    if not x.size or not other.size or any(s != 1 for s in stride) or len(k) == 0:
        return False
    if all(v == 1 for v in k) and not any(lo or hi for lo, hi in pads):
        return False
    full, Q, pitch = _s1_geom(tuple(x.shape[2:]), k, pads, dil)
    return all(0 < o <= f for o, f in zip(out, full)) and out[0] * pitch[0] <= 1.5 * _prod(out)


def _s1_layout(xp, x, k, pads, dil, out, slack=0):
    """The grid of ``x`` for taps ``k`` and output extent ``out``: (extents Q, pitches, plane size, run length
    of one sample's taps, the flat zero-filled buffer, readable ``slack`` values past the last tap)."""
    full, Q, pitch = _s1_geom(tuple(x.shape[2:]), k, pads, dil)
    return Q, pitch, _prod(Q), out[0] * pitch[0], _s1_planes(xp, x, full, Q, pitch, pads, k, dil, slack)


def _s1_planes(xp, x, out, Q, pitch, pads, k, dil, slack=0):
    """(N, C, *sp) -> the flat zero-filled grid buffer the shifted views read."""
    N, C = x.shape[:2]
    P = _prod(Q)
    lead = sum(pads[i][0] * pitch[i] for i in range(len(k)))
    span = sum((k[i] - 1) * dil[i] * pitch[i] for i in range(len(k)))
    buf = xp.zeros(max(lead + N * C * P, (N * C - 1) * P + out[0] * pitch[0] + span) + slack, x.dtype)
    grid = buf[lead:lead + N * C * P].reshape((N, C) + Q)
    grid[(slice(None), slice(None)) + tuple(slice(0, s) for s in x.shape[2:])] = x
    return buf


def _s1_cols(xp, buf, n0, m, C, P, k, dil, pitch, Lr, dst):
    """Copy samples n0 .. n0 + m of the shifted taps, (m, C, *k, Lr), into ``dst``."""
    it = buf.itemsize
    view = xp.lib.stride_tricks.as_strided(
        buf[n0 * C * P:], (m, C) + tuple(k) + (Lr,),
        (C * P * it, P * it) + tuple(d * p * it for d, p in zip(dil, pitch)) + (it,))
    dst.reshape(view.shape)[...] = view
    return dst


def _s1_chunk(N, C, K, Lr, itemsize):
    return max(1, min(N, _S1_CHUNK // max(1, C * K * Lr * itemsize)))


def _per_thread(xp, N, work, fn):
    """``fn(lo, hi)`` over the N samples of a convolution of ``work`` multiply-adds: on the CPU, one piece of
    samples per thread when the work pays for it (see parallel.per_thread); else in one go."""
    if xp is np:
        parallel.per_thread(N, fn, work)
    else:
        fn(0, N)


def _direct_ok(xp, x, w, G):
    """Whether the compiled direct kernel takes a stride-1 convolution: float32 on the CPU, one group, and
    output channels few enough that BLAS's gemms would be thin (measured faster up to 32)."""
    return xp is np and G == 1 and x.dtype == np.float32 and w.dtype == np.float32 and w.shape[0] <= 32 and \
        _K.available()


def _direct_wgrad_ok(xp, x, g, G, taps):
    """Whether the compiled kernel takes a stride-1 weight gradient: float32 on the CPU, one group, and a
    per-sample gemm (taps x positions @ positions x out channels) thin enough that BLAS runs it slowly. Measured
    against the gemm path: faster for LeNet's layers (1 -> 6 and 6 -> 16 channels, 5x5), for up to 12 output
    channels at any tap count, and while out channels x taps <= 3200; slower beyond (16 x 288, 32 x 144)."""
    O = g.shape[1]
    return xp is np and G == 1 and x.dtype == np.float32 and g.dtype == np.float32 and \
        (O <= 12 or O * taps <= 3200) and _K.available()


def _tap_offsets(C, k, dil, pitch, P):
    """Offsets of every tap (channel, kernel position) on the shifted-planes grid, in the weight's order (made
    once per geometry: a training loop asks for the same ones every step)."""
    key = (C, tuple(k), tuple(dil), tuple(pitch), P)
    off = _TAP_OFFSETS.get(key)
    if off is None:
        off = np.arange(C, dtype=np.int64) * P
        for i in range(len(k)):
            off = (off[:, None] + np.arange(k[i], dtype=np.int64) * (dil[i] * pitch[i])).reshape(-1)
        off.flags.writeable = False
        if len(_TAP_OFFSETS) > 256:
            _TAP_OFFSETS.clear()
        _TAP_OFFSETS[key] = off
    return off


_TAP_OFFSETS = {}


def _lanes_pay(O, RW, Lr):
    """Whether conv_lanes (O padded to 16s, RW outputs per channel in blocks of 12) beats conv_direct (O padded to
    4s, Lr grid positions in 16s); conv_lanes measured ~1.2x conv_direct's time per multiply-add (LeNet's 6 -> 16
    layer: 1.04M vs 1.38M in 202 vs 220 us)."""
    return 6 * -(-O // 16) * 16 * -(-RW // 12) * 12 < 5 * -(-O // 4) * 4 * -(-Lr // 16) * 16


def _conv_s1_direct(x, w, b, pads, dil, out):
    """A stride-1 float32 convolution of one group in compiled code, on the shifted-planes grid (the kernels crop
    the grid to the outputs and add the bias). Output channels in the vector lanes (conv_lanes: real outputs only)
    where the grid's garbage columns would cost more than padding the channels to 16; else positions in the
    lanes (conv_direct). conv_lanes reads only taps of real outputs, so an unpadded contiguous input is its own
    grid (no copy)."""
    N, C = x.shape[:2]
    O, k = w.shape[0], tuple(w.shape[2:])
    n = len(k)
    full, Q, pitch = _s1_geom(tuple(x.shape[2:]), k, pads, dil)
    P, Lr = _prod(Q), out[0] * pitch[0]
    rows = _tap_offsets(1, out[:-1], (1,) * (n - 1), pitch, 0)  # where each row of outputs starts on the grid
    toff = _tap_offsets(C, k, dil, pitch, P)
    wt = np.ascontiguousarray(w.reshape(O, C * _prod(k)).T)
    fb = b is None or b.dtype == np.float32
    bias = np.ascontiguousarray(b) if b is not None and fb else None
    if _lanes_pay(O, rows.size * out[-1], Lr):
        own = Q == tuple(x.shape[2:]) and not any(lo or hi for lo, hi in pads) and x.flags.c_contiguous
        buf = x.reshape(-1) if own else _s1_planes(np, x, full, Q, pitch, pads, k, dil)
        y = _K.conv_lanes(buf, C * P, toff, wt, N, rows, out[-1], bias)
    else:
        y = _K.conv_direct(_s1_planes(np, x, full, Q, pitch, pads, k, dil, 16), C * P, toff, wt, N, Lr, rows,
                           out[-1], bias)
    y = y.reshape((N, O) + out)
    if not fb:
        y += b.reshape((O,) + (1,) * n)
    return y


def _conv_s1_fwd(xp, x, w, pads, dil, G, out, b=None):
    N, C = x.shape[:2]
    O, k = w.shape[0], tuple(w.shape[2:])
    Cg, Og, K = C // G, O // G, _prod(k)
    if _direct_ok(xp, x, w, G) and _finite(xp, w):
        # (a non-finite weight takes the gemm route, the one whose inf/NaN pattern is pinned against torch)
        return _conv_s1_direct(x, w, b, pads, dil, out)
    Q, pitch, P, Lr, buf = _s1_layout(xp, x, k, pads, dil, out)
    dt = xp.result_type(x.dtype, w.dtype)
    crop = (slice(None), slice(None), slice(None)) + tuple(slice(0, o) for o in out[1:])
    y = xp.empty((N, O) + out, dt)
    wm = w.reshape(G, Og, Cg * K)
    nc = _s1_chunk(N, C, K, Lr, x.itemsize)

    def run(lo, hi):
        cols = xp.empty((min(nc, hi - lo), G, Cg * K, Lr), x.dtype)
        tmp = xp.empty((min(nc, hi - lo), G, Og, Lr), dt)
        for n0 in range(lo, hi, nc):
            m = min(nc, hi - n0)
            _s1_cols(xp, buf, n0, m, C, P, k, dil, pitch, Lr, cols[:m])
            with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 in a garbage column: silent, as torch
                r = xp.matmul(wm, cols[:m], out=tmp[:m])
            y[n0:n0 + m] = r.reshape((m, O, out[0]) + Q[1:])[crop]
    _per_thread(xp, N, N * O * Cg * K * Lr, run)
    if b is not None:
        y += b.reshape((O,) + (1,) * len(k))
    return y


def _finite(xp, a):
    """No inf/NaN in ``a`` (a finite sum says so; an overflowing one only sends the caller the exact way). The
    shifted-plane gradients multiply garbage positions by zeros, where a non-finite value would give NaN in taps
    torch leaves finite."""
    return a.dtype.kind not in "fc" or bool(xp.isfinite(a.sum()))


def _conv_s1_bwd_w(xp, g, x, k, pads, dil, G):
    """The weight gradient on the shifted planes: per sample (taps x positions) @ (positions x out channels),
    the gradient widened to the grid with zeros in the garbage columns. Small planes with 8+ output channels
    take the gradient channels-last (BLAS runs small gemms on two contiguous operands much faster); otherwise
    its transposed view (the channels-last copy would cost more than the gemm gains)."""
    N, C = x.shape[:2]
    O, out = g.shape[1], tuple(g.shape[2:])
    Cg, Og, K = C // G, O // G, _prod(k)
    n = len(k)
    if _direct_wgrad_ok(xp, x, g, G, C * K):
        # few output channels: the compiled kernel sums tap x gradient products straight off the grid
        Q, pitch, P, Lr, buf = _s1_layout(xp, x, k, pads, dil, out, slack=16)
        rows = _tap_offsets(1, out[:-1], (1,) * (n - 1), pitch, 0)  # where each row of outputs starts on the grid
        gw = _K.conv_direct_wgrad(buf, C * P, _tap_offsets(C, k, dil, pitch, P),
                                  g.reshape(N, O, rows.size, out[-1]), rows, Lr)
        return xp.ascontiguousarray(gw.T).reshape((O, C) + tuple(k))
    Q, pitch, P, Lr, buf = _s1_layout(xp, x, k, pads, dil, out)
    crop = (slice(None), slice(None), slice(None)) + tuple(slice(0, o) for o in out[1:])
    if Og >= 8 and Lr <= 256:
        gt = xp.zeros((N, G, out[0]) + Q[1:] + (Og,), g.dtype)
        gt[crop] = xp.moveaxis(g.reshape((N, G, Og) + out), 2, 2 + n)
        gt = gt.reshape(N, G, Lr, Og)
    else:
        gt = xp.zeros((N, O, out[0]) + Q[1:], g.dtype)
        gt[crop] = g
        gt = gt.reshape(N, G, Og, Lr).swapaxes(2, 3)
    nc = _s1_chunk(N, C, K, Lr, x.itemsize)
    parts = {}

    def run(lo, hi):
        cols = xp.empty((min(nc, hi - lo), G, Cg * K, Lr), x.dtype)
        acc = None
        for n0 in range(lo, hi, nc):
            m = min(nc, hi - n0)
            _s1_cols(xp, buf, n0, m, C, P, k, dil, pitch, Lr, cols[:m])
            r = xp.matmul(cols[:m], gt[n0:n0 + m])
            r = r[0] if m == 1 else r.sum(0)
            acc = r if acc is None else acc + r
        parts[lo] = acc
    _per_thread(xp, N, N * O * Cg * K * Lr, run)
    acc = parts[0]
    for key in sorted(parts)[1:]:  # in sample order: the same sums for the same thread count
        acc = acc + parts[key]
    return xp.ascontiguousarray(acc.swapaxes(1, 2)).reshape((O, Cg) + tuple(k))


def _conv_fwd(xp, x, w, b=None, *, stride, pads, dil, groups, out_sp=None):
    n = x.ndim - 2
    N, C = x.shape[:2]
    O, k = w.shape[0], tuple(w.shape[2:])
    out = _conv_out(x.shape[2:], k, stride, pads, dil) if out_sp is None else tuple(out_sp)
    G = groups
    if WG.applies(x, w, O, k, stride, dil, groups) and out == _conv_out(x.shape[2:], k, stride, pads, dil) and \
            (b is None or b.dtype == np.float32):
        y = WG.conv2d(x, w, b, pads)
        if y is not None:
            return y
    if _s1_ok(x, k, stride, pads, dil, w, out):
        return _conv_s1_fwd(xp, x, w, pads, dil, G, out, b)
    L, K = _prod(out), _prod(k)
    if out_sp is not None:
        # an output extent past the natural one (a transposed convolution's output_padding) reads windows past
        # the padded input: pad its far end with zeros for them (the strided windows read memory beyond it)
        pads = tuple((lo, hi + max(0, o - f) * s) for (lo, hi), o, f, s in
                     zip(pads, out, _conv_out(x.shape[2:], k, stride, pads, dil), stride))
    cols = _im2col(xp, _padded(xp, x, pads), out, k, stride, dil)
    _K.rest()  # (BLAS's threads need the cores: see cpu_kernels.rest)
    y = xp.matmul(w.reshape(G, O // G, (C // G) * K), cols.reshape(N, G, (C // G) * K, L))
    y = y.reshape((N, O) + out)
    if b is not None:
        y += b.reshape((O,) + (1,) * n)
    return y


def _conv_bwd_in_fwd(xp, g, w, *, in_sp, stride, pads, dil, groups):
    N, O = g.shape[:2]
    out, k = tuple(g.shape[2:]), tuple(w.shape[2:])
    G, Cg = groups, w.shape[1]
    L, K = _prod(out), _prod(k)
    # (the stride-1 routes multiply padding or garbage zeros by the weights: a non-finite weight takes the
    # plain col2im below, which never does, as torch's kernel)
    if all(s == 1 for s in stride) and g.size and w.size and _finite(xp, w):
        span = [d * (kk - 1) for d, kk in zip(dil, k)]
        wide = (out[-1] + span[-1]) / out[-1] if out and out[-1] else 1
        # (with few input channels the compiled direct kernel runs that convolution: measured faster than the
        # slab adds below even where the gemm count says otherwise, LeNet's 16 -> 6: 1200 -> 900 us)
        cheap = O * _prod(in_sp) <= G * Cg * L * wide or (G == 1 and _direct_ok(xp, g, w.swapaxes(0, 1), G))
        if cheap and all(lo <= s_ and hi <= s_ for (lo, hi), s_ in zip(pads, span)):
            # stride 1: the input gradient is a plain convolution of g with the flipped kernel (channels swapped
            # per group), padded by (k - 1) * dil - pad: im2col and one batched gemm, no scatter-add
            wf = w.reshape((G, O // G, Cg) + k).swapaxes(1, 2)
            wf = wf[(Ellipsis,) + (slice(None, None, -1),) * len(k)].reshape((G * Cg, O // G) + k)
            fp = tuple((s_ - lo, s_ - hi) for (lo, hi), s_ in zip(pads, span))
            return _conv_fwd(xp, g, xp.ascontiguousarray(wf), stride=stride, pads=fp, dil=dil, groups=G,
                             out_sp=tuple(in_sp))
        if len(k) == 2:
            return _conv_bwd_in_s1(xp, g, w, in_sp, pads, dil, G)
    wm = w.reshape(G, O // G, Cg * K).transpose(0, 2, 1)
    _K.rest()  # (BLAS's threads need the cores: see cpu_kernels.rest)
    cols = xp.matmul(wm, g.reshape(N, G, O // G, L)).reshape((N, G * Cg) + k + out)
    padded = tuple(in_sp[i] + pads[i][0] + pads[i][1] for i in range(len(k)))
    return _crop(xp, _col2im(xp, cols, padded, out, k, stride, dil), pads, in_sp)


def _conv_bwd_in_s1(xp, g, w, in_sp, pads, dil, G):
    """2-D, stride 1: col2im where each kernel offset adds one contiguous slab. The gradient is laid on the
    padded planes' grid (Hp x Wp per sample, zeros off the data), so on the flattened (C, n * plane) buffer
    offset (a, b) is one plain shift by a * dil * Wp + b * dil for all samples of a step at once (the zeros
    carry nothing into a neighbour). Channels lead, offsets outermost in the columns: one gemm per group, then
    kh * kw adds of whole slabs; one piece of samples per thread."""
    N, O, oh, ow = g.shape
    Cg, kh, kw = w.shape[1:]
    Og = O // G
    Hp, Wp = in_sp[0] + pads[0][0] + pads[0][1], in_sp[1] + pads[1][0] + pads[1][1]
    P = Hp * Wp
    wm = w.reshape(G, Og, Cg, kh, kw).transpose(0, 3, 4, 2, 1).reshape(G, kh * kw * Cg, Og)
    r = xp.empty((N, G * Cg) + tuple(in_sp), xp.result_type(g.dtype, w.dtype))
    extra = (kh - 1) * dil[0] * Wp + (kw - 1) * dil[1]

    def run(lo, hi):
        # (one step per piece: smaller steps measured slower, the thin gemm and the slab adds want long rows)
        m = hi - lo
        ge = xp.zeros((O, m, Hp, Wp), g.dtype)
        ge[:, :, :oh, :ow] = g[lo:hi].transpose(1, 0, 2, 3)
        cols = xp.matmul(wm, ge.reshape(G, Og, m * P)).reshape(G, kh * kw, Cg, m * P)
        buf = xp.zeros((G, Cg, m * P + extra), cols.dtype)
        for a in range(kh):
            for b in range(kw):
                off = a * dil[0] * Wp + b * dil[1]
                buf[:, :, off:off + m * P] += cols[:, a * kw + b]
        buf = buf[:, :, :m * P].reshape(G * Cg, m, Hp, Wp)
        r[lo:hi] = buf[:, :, pads[0][0]:pads[0][0] + in_sp[0], pads[1][0]:pads[1][0] + in_sp[1]].transpose(1, 0, 2, 3)
    _per_thread(xp, N, N * O * Cg * kh * kw * P, run)
    return r


def _conv_bwd_w_fwd(xp, g, x, *, k, stride, pads, dil, groups):
    N, O = g.shape[:2]
    out = tuple(g.shape[2:])
    C, G = x.shape[1], groups
    if WG.applies(x, g, O, k, stride, dil, groups):
        gw = WG.conv2d_weight_grad(g, x, pads)
        if gw is not None:
            return gw
    if _s1_ok(x, k, stride, pads, dil, g, out) and _finite(xp, x):
        return _conv_s1_bwd_w(xp, g, x, k, pads, dil, G)
    L, K = _prod(out), _prod(k)
    cols = _im2col(xp, _padded(xp, x, pads), out, k, stride, dil)
    # (C K x L) @ (L x O) per image, then transposed: BLAS runs this orientation ~20% faster than (O x L) @ (L x C K)
    gt = xp.ascontiguousarray(g.reshape(N, G, O // G, L).swapaxes(2, 3))
    cm = cols.reshape(N, G, (C // G) * K, L)
    _K.rest()  # (BLAS's threads need the cores: see cpu_kernels.rest)
    gw = xp.matmul(cm[0], gt[0]) if N == 1 else xp.matmul(cm, gt).sum(0)
    return xp.ascontiguousarray(gw.swapaxes(1, 2)).reshape((O, C // G) + tuple(k))


def _conv_t_fwd(xp, x, w, b=None, *, out_sp, stride, pads, dil, groups):
    y = _conv_bwd_in_fwd(xp, x, w, in_sp=out_sp, stride=stride, pads=pads, dil=dil, groups=groups)
    if b is not None:
        y += b.reshape((-1,) + (1,) * len(out_sp))
    return y


def _sum_bias(g):
    return g.sum([0] + list(range(2, g.dim())))


def _geom(kw):
    return {"stride": kw["stride"], "pads": kw["pads"], "dil": kw["dil"], "groups": kw["groups"]}


def _conv_vjp(g, out, x, w, b=None, needs=(), **kw):
    gm = _geom(kw)
    gx = apply(CONV_BWD_IN, (g, w), dict(gm, in_sp=tuple(x.shape[2:]))) if needs[0] else None
    gw = apply(CONV_BWD_W, (g, x), dict(gm, k=tuple(w.shape[2:]))) if needs[1] else None
    gb = _sum_bias(g) if len(needs) > 2 and needs[2] else None
    return gx, gw, gb


def _conv_bwd_in_vjp(gg, out, g, w, needs=(), **kw):
    gm = _geom(kw)
    dg = apply(CONV, (gg, w), dict(gm, out_sp=tuple(g.shape[2:]))) if needs[0] else None
    dw = apply(CONV_BWD_W, (g, gg), dict(gm, k=tuple(w.shape[2:]))) if needs[1] else None
    return dg, dw


def _conv_bwd_w_vjp(ggw, out, g, x, needs=(), **kw):
    gm = _geom(kw)
    dg = apply(CONV, (x, ggw), dict(gm, out_sp=tuple(g.shape[2:]))) if needs[0] else None
    dx = apply(CONV_BWD_IN, (g, ggw), dict(gm, in_sp=tuple(x.shape[2:]))) if needs[1] else None
    return dg, dx


def _conv_t_vjp(g, out, x, w, b=None, needs=(), **kw):
    gm = _geom(kw)
    gx = apply(CONV, (g, w), dict(gm, out_sp=tuple(x.shape[2:]))) if needs[0] else None
    gw = apply(CONV_BWD_W, (x, g), dict(gm, k=tuple(w.shape[2:]))) if needs[1] else None
    gb = _sum_bias(g) if len(needs) > 2 and needs[2] else None
    return gx, gw, gb


def _conv_shape(sx, sw, sb=None, *, stride, pads, dil, groups, out_sp=None):
    out = _conv_out(sx[2:], sw[2:], stride, pads, dil) if out_sp is None else tuple(out_sp)
    return (sx[0], sw[0]) + out


CONV = defop("convolution", "promote", _conv_fwd, _conv_vjp, needs=True, save_out=False,
             node="ConvolutionBackward0", shape=_conv_shape)
CONV_T = defop("convolution_transpose", "promote", _conv_t_fwd, _conv_t_vjp, needs=True, save_out=False,
               node="ConvolutionBackward0",
               shape=lambda sx, sw, sb=None, *, out_sp, **kw: (sx[0], sw[1] * kw["groups"]) + tuple(out_sp))
CONV_BWD_IN = defop("convolution_backward_input", "promote", _conv_bwd_in_fwd, _conv_bwd_in_vjp, needs=True,
                    save_out=False, node="ConvolutionBackwardBackward0",
                    shape=lambda sg, sw, *, in_sp, **kw: (sg[0], sw[1] * kw["groups"]) + tuple(in_sp))
CONV_BWD_W = defop("convolution_backward_weight", "promote", _conv_bwd_w_fwd, _conv_bwd_w_vjp, needs=True,
                   save_out=False, node="ConvolutionBackwardBackward0",
                   shape=lambda sg, sx, *, k, **kw: (sg[1], sx[1] // kw["groups"]) + tuple(k))


# ================================================================ unfold / fold (im2col / col2im)
def _im2col_fwd(xp, x, *, k, stride, pads, dil):
    out = _conv_out(x.shape[2:], k, stride, pads, dil)
    cols = _im2col(xp, _padded(xp, x, pads), out, k, stride, dil)
    return cols.reshape(x.shape[0], x.shape[1] * _prod(k), _prod(out))


def _col2im_fwd(xp, c, *, out_sp, k, stride, pads, dil):
    N = c.shape[0]
    C = c.shape[1] // _prod(k)
    out = _conv_out(out_sp, k, stride, pads, dil)
    cols = c.reshape((N, C) + tuple(k) + out)
    padded = tuple(out_sp[i] + pads[i][0] + pads[i][1] for i in range(len(k)))
    return _crop(xp, _col2im(xp, cols, padded, out, k, stride, dil), pads, out_sp)


IM2COL = defop("im2col", "same", _im2col_fwd,
               lambda g, out, x, **kw: apply(COL2IM, (g,), dict(kw, out_sp=tuple(x.shape[2:]))),
               save_out=False, node="Im2ColBackward0",
               shape=lambda s, *, k, stride, pads, dil: (s[0], s[1] * _prod(k),
                                                         _prod(_conv_out(s[2:], k, stride, pads, dil))))
COL2IM = defop("col2im", "same", _col2im_fwd,
               lambda g, out, c, *, out_sp, **kw: apply(IM2COL, (g,), kw),
               save_in=False, save_out=False, node="Col2ImBackward0",
               shape=lambda s, *, out_sp, k, **kw: (s[0], s[1] // _prod(k)) + tuple(out_sp))


# ================================================================ max pooling: indices, then a gather
def _lowest(dt):
    if dt.kind == "f":
        return -np.inf
    if dt.kind in "iu":
        return np.iinfo(dt).min
    return False


def _bcast_shape(n_out, ndim, ax):
    return (n_out,) + (1,) * (ndim - ax - 1)


def _maxpool_idx_fwd(xp, x, *, k, stride, pad, dil, osz):
    """Flat (within each plane) index of every window's maximum, found one dim at a time: the row maxima
    along the last dim, then the maximum of those along the next, carrying the chosen offsets. Ties keep
    the first in row-major order, NaN wins (the last NaN), all -inf windows give the first valid position:
    torch's rules."""
    out = osz
    n = len(k)
    sp = x.shape[2:]
    if _compiled_pool(xp, x) and n <= 2:
        if n == 2:
            return _K.maxpool2d_indices(xp.ascontiguousarray(x), k, stride, pad, dil, out)
        x2 = xp.ascontiguousarray(x).reshape(x.shape[:2] + (1,) + sp)  # 1-D: windows of one row
        idx = _K.maxpool2d_indices(x2, (1,) + tuple(k), (1,) + tuple(stride), (0,) + tuple(pad), (1,) + tuple(dil),
                                   (1,) + tuple(out))
        return idx.reshape(x.shape[:2] + tuple(out))
    if tuple(stride) == tuple(k) and not any(pad) and all(d == 1 for d in dil) and \
            all(o * kk <= s_ for o, kk, s_ in zip(out, k, sp)) and x.size and \
            not (x.dtype.kind == "f" and bool(xp.isnan(x).any())):
        return _maxpool_tiled(xp, x, k, out)
    pads = [(pad[i], max(0, (out[i] - 1) * stride[i] + (k[i] - 1) * dil[i] + 1 - sp[i] - pad[i])) for i in range(n)]
    low = _lowest(x.dtype)
    V = _padded(xp, x, pads, low)
    nan = x.dtype.kind == "f" and x.size > 0 and bool(xp.isnan(x).any())
    jdt = np.int16 if max(k) < 32000 else np.int64
    picks = {}  # dim -> chosen window offset along it, shaped like the current partial result
    for i in reversed(range(n)):
        ax = 2 + i
        start = np.arange(out[i]) * stride[i] - pad[i]
        bs = _bcast_shape(out[i], V.ndim, ax)
        sls = []
        for j in range(k[i]):
            sl = [slice(None)] * V.ndim
            sl[ax] = slice(j * dil[i], j * dil[i] + stride[i] * (out[i] - 1) + 1, stride[i])
            sls.append(tuple(sl))
        if nan:
            V, picks = _max_step_nan(xp, V, picks, sls, start, dil[i], k[i], bs, low, jdt, i)
            continue
        # branch-free: the window maximum, then the first valid offset holding it
        best = V[sls[0]].copy()
        for sl in sls[1:]:
            xp.maximum(best, V[sl], out=best)
        found = None
        arg = xp.zeros(best.shape, jdt)
        sel = {d: xp.zeros(best.shape, c.dtype) for d, c in picks.items()}
        for j, sl in enumerate(sls):
            eq = V[sl] == best
            pos = start + j * dil[i]
            ok = (pos >= 0) & (pos < sp[i])
            if not ok.all():
                eq &= xp.asarray(ok.reshape(bs))
            if found is None:
                found = eq
            else:
                eq &= ~found
                found |= eq
            if j:
                arg += eq.astype(jdt) * jdt(j)
            for d, c in picks.items():
                sel[d] += eq.astype(c.dtype) * c[sl]
        if not bool(found.all()):
            # windows with no valid maximum (all -inf, or all the lowest integer): torch keeps the first
            # valid position
            first = np.minimum(np.maximum(0, (-start + dil[i] - 1) // dil[i]), k[i] - 1).astype(jdt)
            miss = ~found
            arg += miss.astype(jdt) * xp.asarray(first.reshape(bs))
            for d, c in picks.items():
                sel[d] += miss.astype(c.dtype) * c[sls[0]]
        V = best
        sel[i] = arg
        picks = sel
    flat = None
    for i in range(n):
        start = (np.arange(out[i]) * stride[i] - pad[i]).reshape(_bcast_shape(out[i], n + 2, 2 + i))
        f = (picks[i].astype(np.int64) * dil[i] + xp.asarray(start)) * _prod(sp[i + 1:])
        flat = f if flat is None else flat + f
    return flat


def _compiled_pool(xp, x):
    """Whether the compiled pooling kernels take ``x``: float32 on the CPU, not empty."""
    return xp is np and x.dtype == np.float32 and x.size > 0 and x.ndim >= 3 and _K.available()


def _maxpool_tiled(xp, x, k, out):
    """``_maxpool_idx_fwd`` for non-overlapping windows (stride = kernel, no padding or dilation, no NaN): the
    input cropped to whole windows and viewed as (N, C, o1, k1, o2, k2, ...); each window offset is one strided
    view, visited in row-major order so ties keep the first."""
    n = len(k)
    sp = x.shape[2:]
    crop = x[(slice(None), slice(None)) + tuple(slice(0, o * kk) for o, kk in zip(out, k))]
    V = crop.reshape(x.shape[:2] + tuple(v for o, kk in zip(out, k) for v in (o, kk)))
    offs = list(itertools.product(*[range(kk) for kk in k]))

    def at(a):
        return V[(slice(None), slice(None)) + tuple(v for ai in a for v in (slice(None), ai))]
    # one sweep: a strictly larger value moves the running maximum and its (small-int) tap number; the taps
    # then map to flat offsets through a table
    best = at(offs[0]).copy()
    tdt = np.int8 if len(offs) < 128 else np.int32
    tap = xp.zeros(best.shape, tdt)
    for j, a in enumerate(offs[1:], 1):
        v = at(a)
        upd = (v > best).view(np.int8).astype(tdt, copy=False)
        xp.maximum(best, v, out=best)
        step = tdt(j) - tap  # tap += upd * (j - tap)
        step *= upd
        tap += step
    table = xp.asarray(np.array([sum(ai * _prod(sp[i + 1:]) for i, ai in enumerate(a)) for a in offs], np.int64))
    arg = xp.take(table, tap)
    for i in range(n):  # each window's top-left corner, flattened within the plane
        arg += xp.asarray((np.arange(out[i], dtype=np.int64) * (k[i] * _prod(sp[i + 1:]))).reshape(
            _bcast_shape(out[i], n + 2, 2 + i)))
    return arg


def _max_step_nan(xp, V, picks, sls, start, d, k, bs, low, jdt, i):
    """One dim of ``_maxpool_idx_fwd`` when NaNs are present: the last NaN wins (masked updates)."""
    first = np.minimum(np.maximum(0, (-start + d - 1) // d), k - 1)
    best = arg = None
    sel = {}
    for j, sl in enumerate(sls):
        cand = V[sl]
        if best is None:
            best = xp.empty(cand.shape, V.dtype)
            best[...] = low
            arg = xp.empty(cand.shape, jdt)
            arg[...] = xp.asarray(first.astype(jdt).reshape(bs))
            sel = {dd: c[sl].copy() for dd, c in picks.items()}
        upd = (cand > best) | xp.isnan(cand)
        best = xp.where(upd, cand, best)
        arg = xp.where(upd, jdt(j), arg).astype(jdt, copy=False)
        sel = {dd: xp.where(upd, c[sl], sel[dd]) for dd, c in picks.items()}
    sel[i] = arg
    return best, sel


def _adamax_idx_fwd(xp, x, *, maps):
    """Adaptive max pooling's indices over variable windows (taps padded with the window's last index)."""
    n = len(maps)
    sp = x.shape[2:]
    V = x
    isf = x.dtype.kind == "f"
    coords = {}
    for i in reversed(range(n)):
        ax = 2 + i
        idx = maps[i]
        bshape = _bcast_shape(idx.shape[0], V.ndim, ax)
        best = arg = None
        sel = {}
        for t in range(idx.shape[1]):
            ii = xp.asarray(idx[:, t])
            cand = xp.take(V, ii, axis=ax)
            taps = {d: xp.take(c, ii, axis=ax) for d, c in coords.items()}
            if best is None:
                best, sel = cand, taps
                arg = xp.empty(cand.shape, np.int64)
                arg[...] = ii.reshape(bshape)
                continue
            upd = cand > best
            if isf:
                upd |= xp.isnan(cand)
            best = xp.where(upd, cand, best)
            arg = xp.where(upd, ii.reshape(bshape), arg)
            sel = {d: xp.where(upd, taps[d], sel[d]) for d in taps}
        V = best
        sel[i] = arg
        coords = sel
    flat = None
    for i in range(n):
        f = coords[i] * _prod(sp[i + 1:])
        flat = f if flat is None else flat + f
    return flat.astype(np.int64, copy=False)


def _fracmax_idx_fwd(xp, x, *, starts, k):
    """Fractional max pooling's indices: per-plane windows [start, start + k) along each dim (separable, with
    the adaptive pool's tie and NaN rules)."""
    n = len(k)
    sp = x.shape[2:]
    V = x
    isf = x.dtype.kind == "f"
    coords = {}
    for i in reversed(range(n)):
        ax = 2 + i
        st = xp.asarray(starts[i]).reshape(starts[i].shape[:2] + (1,) * i + starts[i].shape[2:] +
                                           (1,) * (n - 1 - i))
        oshape = V.shape[:ax] + (starts[i].shape[2],) + V.shape[ax + 1:]
        best = arg = None
        sel = {}
        if k[i] <= 0:
            best = xp.full(oshape, _lowest(x.dtype), dtype=x.dtype)
            arg = xp.broadcast_to(st, oshape).astype(np.int64)
            sel = {d: xp.zeros(oshape, np.int64) + xp.take(c, xp.zeros(1, np.int64), axis=ax) for d, c in
                   coords.items()}
        for j in range(max(k[i], 0)):
            ii = xp.broadcast_to(st + j, oshape)
            cand = xp.take_along_axis(V, ii, axis=ax)
            taps = {d: xp.take_along_axis(c, ii, axis=ax) for d, c in coords.items()}
            if best is None:
                best, sel, arg = cand, taps, ii.astype(np.int64)
                continue
            upd = cand > best
            if isf:
                upd |= xp.isnan(cand)
            best = xp.where(upd, cand, best)
            arg = xp.where(upd, ii, arg)
            sel = {d: xp.where(upd, taps[d], sel[d]) for d in taps}
        V = best
        sel[i] = arg
        coords = sel
    flat = None
    for i in range(n):
        f = coords[i] * _prod(sp[i + 1:])
        flat = f if flat is None else flat + f
    return flat.astype(np.int64, copy=False)


FRACMAX_IDX = defop("fractional_max_pool_indices", "raw", _fracmax_idx_fwd,
                    shape=lambda s, *, starts, k: tuple(s[:2]) + tuple(st.shape[2] for st in starts))
MAXPOOL_IDX = defop("max_pool_indices", "raw", _maxpool_idx_fwd,
                    shape=lambda s, *, k, stride, pad, dil, osz: tuple(s[:2]) + tuple(osz))
ADAMAX_IDX = defop("adaptive_max_pool_indices", "raw", _adamax_idx_fwd,
                   shape=lambda s, *, maps: tuple(s[:2]) + tuple(m.shape[0] for m in maps))


def _flat_rows(xp, idx, S):
    N, C = idx.shape[:2]
    rows = xp.arange(N * C, dtype=np.int64).reshape((N, C) + (1,) * (idx.ndim - 2)) * S
    return idx + rows


def _gather_fwd(xp, x, idx, empty=None):
    """Values at the in-plane indices ``idx``. ``empty``: per pooled dim, which output positions' windows lie
    wholly in the padding (torch gives those -inf, whatever their index)."""
    if idx.size == 0 or x.size == 0:
        return xp.zeros(idx.shape, dtype=x.dtype)
    if _compiled_pool(xp, x) and idx.dtype == np.int64:
        r = _K.pool_gather(xp.ascontiguousarray(x), xp.ascontiguousarray(idx))
    else:
        S = _prod(x.shape[2:])
        # (only an empty window's index can point past its plane: read a valid place, overwritten below)
        r = xp.take(x.reshape(-1), _flat_rows(xp, idx if empty is None else xp.where(idx < S, idx, 0), S))
    if empty is not None:
        n = len(empty)
        mask = np.zeros(tuple(len(e) for e in empty), bool)
        for i, e in enumerate(empty):
            mask |= np.array(e).reshape(_bcast_shape(len(e), n, i))
        r[(Ellipsis, xp.asarray(mask))] = -np.inf
    return r


def empty_windows(sp, k, stride, pad, dil, out):
    """Per dim, which output positions have no tap inside the input (a dilated window wholly in the
    padding), or None when there are none. Without dilation there are none: torch bounds the padding by half
    the window and keeps the last window's start inside the input, so every window holds a tap."""
    if all(d == 1 for d in dil):
        return None
    res = tuple(tuple(not any(0 <= o * s_ - p + a * d < n for a in range(kk)) for o in range(oo))
                for n, kk, s_, p, d, oo in zip(sp, k, stride, pad, dil, out))
    return res if any(any(e) for e in res) else None


def _scatter_fwd(xp, g, idx, *, sp):
    N, C = g.shape[:2]
    S = _prod(sp)
    if _compiled_pool(xp, g) and idx.dtype == np.int64 and S > 0:
        return _K.pool_scatter(xp.ascontiguousarray(g), xp.ascontiguousarray(idx), sp)
    if xp is np and g.dtype in (np.float32, np.float64):
        # NumPy's 1-D add.at loop sums in the gradient's own dtype, as torch does, and beats bincount's float64
        # round trip (~370 vs 650 us for 262K values)
        r = np.zeros(N * C * S, g.dtype)
        np.add.at(r, _flat_rows(xp, idx, S).reshape(-1), g.reshape(-1))
        return r.reshape((N, C) + tuple(sp))
    r = _bincount(xp, _flat_rows(xp, idx, S), g, N * C * S)
    return r.astype(g.dtype, copy=False).reshape((N, C) + tuple(sp))


def _gather_vjp(g, out, x, idx, empty=None):
    return apply(POOL_SCATTER, (g, idx), {"sp": tuple(x.shape[2:])}), None


POOL_SCATTER = defop("max_pool_backward", "raw", _scatter_fwd,
                     lambda gg, out, g, idx, *, sp: (apply(POOL_GATHER, (gg, idx), {}), None),
                     save_out=False, node="MaxPoolBackwardBackward0",
                     shape=lambda sg, si, *, sp: tuple(sg[:2]) + tuple(sp))
_GATHERS = {}


def gather_op(node):
    """The values-at-indices op of one pooling kind (one op per torch node name)."""
    op = _GATHERS.get(node)
    if op is None:
        op = _GATHERS[node] = defop("pool_gather_" + node, "raw", _gather_fwd, _gather_vjp, save_out=False,
                                    node=node, shape=lambda sx, si, empty=None: tuple(si))
    return op


POOL_GATHER = gather_op("MaxPoolGatherBackward0")


def _unpool_fwd(xp, x, idx, *, sp):
    N, C = x.shape[:2]
    S = _prod(sp)
    out = xp.zeros(N * C * S, dtype=x.dtype)
    if x.size:
        out[_flat_rows(xp, idx, S).reshape(-1)] = x.reshape(-1)
    return out.reshape((N, C) + tuple(sp))


_UNPOOLS = {}


def unpool_op(nsp):
    op = _UNPOOLS.get(nsp)
    if op is None:
        op = _UNPOOLS[nsp] = defop(f"max_unpool{nsp}d", "raw", _unpool_fwd,
                                   lambda g, out, x, idx, *, sp: (apply(POOL_GATHER, (g, idx), {}), None),
                                   save_out=False, node=f"MaxUnpool{nsp}DBackward0",
                                   shape=lambda sx, si, *, sp: tuple(sx[:2]) + tuple(sp))
    return op


# ================================================================ average pooling: separable strided sums
def _taps(n_in, k, stride, lo, n_out):
    """Window offsets along one dim that touch the input (unpadded, ``lo`` leading pad): (first output, end
    output, first input index) per offset; padding is never materialised."""
    r = []
    for j in range(k):
        o0 = max(0, -((j - lo) // stride))
        o1 = min(n_out, (n_in - 1 - j + lo) // stride + 1)
        if o1 > o0:
            r.append((o0, o1, o0 * stride + j - lo))
    return r


def _strided_sum(xp, x, k, stride, lo, out):
    """Window sums over the trailing ``len(k)`` dims of the unpadded ``x`` (zero padding ``lo`` before each),
    one dim at a time, leading dims first (rows stay contiguous while the array is large)."""
    n = len(k)
    for i in range(n):
        ax = x.ndim - n + i
        shape = list(x.shape)
        shape[ax] = out[i]
        taps = _taps(x.shape[ax], k[i], stride[i], lo[i], out[i])
        taps.sort(key=lambda t: t[1] - t[0] < out[i])  # a tap covering every output first: copied, not added
        acc = None
        for o0, o1, i0 in taps:
            src = [slice(None)] * x.ndim
            src[ax] = slice(i0, i0 + stride[i] * (o1 - o0 - 1) + 1, stride[i])
            if acc is None:
                if o0 == 0 and o1 == out[i]:
                    acc = x[tuple(src)].copy()  # (a copy even when the slice is all of x)
                    continue
                acc = xp.zeros(tuple(shape), x.dtype)
            dst = [slice(None)] * x.ndim
            dst[ax] = slice(o0, o1)
            acc[tuple(dst)] += x[tuple(src)]
        x = xp.zeros(tuple(shape), x.dtype) if acc is None else acc
    return x


def _strided_sum_t(xp, g, k, stride, lo, sp):
    """Adjoint of ``_strided_sum``: add every window's value back onto the unpadded input extent ``sp``, the
    last dim first (the small array takes the strided adds)."""
    n = len(k)
    for i in reversed(range(n)):
        ax = g.ndim - n + i
        shape = list(g.shape)
        shape[ax] = sp[i]
        buf = xp.zeros(tuple(shape), dtype=g.dtype)
        if g.size:
            for o0, o1, i0 in _taps(sp[i], k[i], stride[i], lo[i], g.shape[ax]):
                src = [slice(None)] * g.ndim
                dst = [slice(None)] * g.ndim
                src[ax] = slice(o0, o1)
                dst[ax] = slice(i0, i0 + stride[i] * (o1 - o0 - 1) + 1, stride[i])
                buf[tuple(dst)] += g[tuple(src)]
        g = buf
    return g


def _divide(xp, s, div):
    if s.dtype.kind in "iub":
        d = xp.asarray(div).astype(np.int64)
        q = xp.abs(s) // d
        return xp.where(s < 0, -q, q).astype(s.dtype)
    return s / xp.asarray(div, dtype=s.dtype)


def _avgpool_fwd(xp, x, *, k, stride, pads, osz, div):
    out = osz
    if x.size == 0 or _prod(out) == 0:
        return xp.zeros(x.shape[:2] + tuple(out), dtype=x.dtype)
    return _divide(xp, _strided_sum(xp, x, k, stride, [lo for lo, _ in pads], out), div)


def _avgpool_bwd_fwd(xp, g, *, k, stride, pads, osz, div, in_sp):
    gd = g / xp.asarray(div, dtype=g.dtype)
    return _strided_sum_t(xp, gd, k, stride, [lo for lo, _ in pads], in_sp)


_AVGPOOLS = {}


def avgpool_op(nsp):
    op = _AVGPOOLS.get(nsp)
    if op is None:
        op = _AVGPOOLS[nsp] = defop(
            f"avg_pool{nsp}d", "same", _avgpool_fwd,
            lambda g, out, x, **kw: apply(AVGPOOL_BWD, (g,), dict(kw, in_sp=tuple(x.shape[2:]))),
            save_out=False, node=f"AvgPool{nsp}DBackward0",
            shape=lambda s, *, osz, **kw: tuple(s[:2]) + tuple(osz))
    return op


AVGPOOL_BWD = defop("avg_pool_backward", "same", _avgpool_bwd_fwd,
                    lambda gg, out, g, *, in_sp, **kw: apply(avgpool_op(len(in_sp)), (gg,), kw),
                    save_in=False, save_out=False, node="AvgPoolBackwardBackward0",
                    shape=lambda s, *, in_sp, **kw: tuple(s[:2]) + tuple(in_sp))


def avg_divisor(sp, k, stride, pad, out, count_include_pad, divisor_override):
    """The per-window divisor (an array over the output's spatial positions, or a number)."""
    if divisor_override is not None:
        return float(divisor_override)
    div = None
    for i in range(len(k)):
        start = np.arange(out[i]) * stride[i] - pad[i]
        end = np.minimum(start + k[i], sp[i] + pad[i])
        size = end - start
        if not count_include_pad:
            size = np.minimum(end, sp[i]) - np.maximum(start, 0)
        size = size.astype(np.float64)
        div = size if div is None else np.multiply.outer(div, size)
    return div


# ================================================================ separable tap maps: out[o] = sum_t w[o, t] x[idx[o, t]]
def _sep_fwd(xp, x, *, maps):
    for ax, idx, w, n_in in maps:
        nout, T = idx.shape
        if w is None and T == 1:
            x = xp.take(x, xp.asarray(idx[:, 0]), axis=ax)
            continue
        acc = None
        bs = _bcast_shape(nout, x.ndim, ax)
        for t in range(T):
            v = xp.take(x, xp.asarray(idx[:, t]), axis=ax)
            v *= xp.asarray(w[:, t].reshape(bs), dtype=x.dtype)
            if acc is None:
                acc = v
            else:
                acc += v
        x = acc
    return x


def _sep_bwd(xp, g, *, maps):
    for ax, idx, w, n_in in reversed(maps):
        nout, T = idx.shape
        gm = xp.moveaxis(g, ax, -1)
        lead = gm.shape[:-1]
        R = _prod(lead)
        contrib = gm[..., None] if w is None else gm[..., None] * xp.asarray(w, dtype=g.dtype)
        if w is None and T > 1:
            contrib = xp.broadcast_to(contrib, lead + (nout, T))
        flat = xp.arange(R, dtype=np.int64)[:, None] * n_in + xp.asarray(idx.reshape(1, -1))
        r = _bincount(xp, flat, xp.ascontiguousarray(contrib).reshape(R, nout * T), R * n_in)
        g = xp.moveaxis(r.astype(g.dtype, copy=False).reshape(lead + (n_in,)), -1, ax)
    return xp.ascontiguousarray(g)


def _sep_shape(s, *, maps):
    s = list(s)
    for ax, idx, w, n_in in maps:
        s[ax] = idx.shape[0]
    return tuple(s)


def _sep_bwd_shape(s, *, maps):
    s = list(s)
    for ax, idx, w, n_in in maps:
        s[ax] = n_in
    return tuple(s)


_SEPS = {}


def sep_op(name, node, rule="same"):
    """A linear separable tap map (interpolation, adaptive average pooling, index paddings)."""
    op = _SEPS.get(name)
    if op is None:
        op = _SEPS[name] = defop(name, rule, _sep_fwd,
                                 lambda g, out, x, *, maps: apply(SEP_BWD, (g,), {"maps": maps}),
                                 save_in=False, save_out=False, node=node, shape=_sep_shape)
    return op


SEP_BWD = defop("separable_map_backward", "same", _sep_bwd,
                lambda gg, out, g, *, maps: apply(sep_op("separable_map", "SeparableMapBackward0"), (gg,),
                                                  {"maps": maps}),
                save_in=False, save_out=False, node="SeparableMapBackwardBackward0", shape=_sep_bwd_shape)


def adaptive_taps(n_in, n_out):
    """Windows [floor(o*n/m), ceil((o+1)*n/m)) as (indices padded with the last one, averaging weights)."""
    o = np.arange(n_out)
    start = (o * n_in) // n_out
    end = ((o + 1) * n_in + n_out - 1) // n_out
    T = int((end - start).max()) if n_out else 1
    idx = start[:, None] + np.arange(T)[None, :]
    valid = idx < end[:, None]
    idx = np.where(valid, idx, (end - 1)[:, None]).astype(np.int64)
    w = valid / (end - start)[:, None]
    return idx, w


# ================================================================ constant padding (negative pads crop)
def _pad_slices(shape, pads):
    src, dst = [], []
    for s, (lo, hi) in zip(shape, pads):
        a, b = max(-lo, 0), s - max(-hi, 0)
        n = max(b - a, 0)
        src.append(slice(a, a + n))
        dst.append(slice(max(lo, 0), max(lo, 0) + n))
    return tuple(src), tuple(dst)


def _pad_const_fwd(xp, x, *, pads, value):
    shape = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape, pads))
    out = xp.empty(shape, dtype=x.dtype)
    out[...] = np.asarray(value).astype(x.dtype).item() if x.dtype.kind != "c" else value
    src, dst = _pad_slices(x.shape, pads)
    if out.size:
        out[dst] = x[src]
    return out


PAD_CONST = defop("constant_pad_nd", "same", _pad_const_fwd,
                  lambda g, out, x, *, pads, value: apply(PAD_CONST, (g,), {
                      "pads": tuple((-lo, -hi) for lo, hi in pads), "value": 0}),
                  save_in=False, save_out=False, node="ConstantPadNdBackward0",
                  shape=lambda s, *, pads, value: tuple(n + lo + hi for n, (lo, hi) in zip(s, pads)))


# ================================================================ normalisation (batch / layer / group / instance)
_LET = "abcdefghijklmnopqrstuvwxyz"


def _sum_prod(xp, a, b, axes, keep):
    """Sum over ``axes`` of a * b without materialising the product."""
    sub = _LET[:a.ndim]
    out = "".join(c for i, c in enumerate(sub) if i not in axes)
    r = xp.einsum(f"{sub},{sub}->{out}", a, b)
    if keep:
        r = r.reshape(tuple(1 if i in axes else n for i, n in enumerate(a.shape)))
    return r


def _moments(xp, xg, axes, eps):
    """(mean, 1 / sqrt(biased variance + eps), biased variance) over ``axes``, dims kept."""
    xg = _wide(xg)
    shp = tuple(1 if i in axes else n for i, n in enumerate(xg.shape))
    if xg.size == 0:
        z = xp.zeros(shp, xg.dtype)
        return z, z + 1, z
    n = _prod(xg.shape[i] for i in axes)
    if xg.flags.c_contiguous and xg.dtype.kind == "f":
        mean = _sum_axes(xp, xg, axes) / xg.dtype.type(n)  # einsum: ~3x faster than mean over (0, 2, 3)
    else:
        mean = xg.mean(axis=axes, keepdims=True)
    d = xg - mean
    var = _sum_prod(xp, d, d, axes, True) / xg.dtype.type(n)
    return mean, 1 / xp.sqrt(var + xg.dtype.type(eps)), var


def norm_stats(x, gshape, axes, eps):
    """Batch statistics (mean, invstd, biased var) of tensor ``x`` for the norm ops (None on meta tensors)."""
    if x._device.backend.is_meta:
        return None
    X = x._data
    return _moments(_xp(x), X.reshape(gshape) if gshape is not None else X, axes, eps)


def _ln_rows(xp, x, w, b, gshape, axes, wshape, stats):
    """The row length when this norm is a float32 CPU layer norm the compiled kernel does (statistics over
    the trailing dims, weight and bias over the same dims), else None."""
    if xp is not np or gshape is not None or stats is not None or x.dtype != np.float32 or not axes or \
            axes != tuple(range(x.ndim - len(axes), x.ndim)) or x.size == 0:
        return None
    n = _prod(x.shape[i] for i in axes)
    for p in (w, b):
        if p is not None and (p.dtype != np.float32 or p.size != n or
                              tuple(wshape[x.ndim - len(axes):]) != x.shape[x.ndim - len(axes):]):
            return None
    return n if _K.available() else None


def layer_norm_stats(x, axes, eps, weight, bias):
    """Statistics for LAYER_NORM's ``stats``: None where the compiled kernel computes them itself."""
    if not x._device.backend.is_meta and _ln_rows(_xp(x), x._data, weight._data if weight is not None else None,
                                                  bias._data if bias is not None else None, None, axes,
                                                  (1,) * (x.dim() - len(axes)) + tuple(x.shape[x.dim() - len(axes):]),
                                                  None) is not None:
        return None
    return norm_stats(x, None, axes, eps)


def _rows(a, n):
    return None if a is None else np.ascontiguousarray(a).reshape(-1, n)


def _norm_fwd(xp, x, w=None, b=None, *, gshape, axes, wshape, eps, stats, fixed):
    n = _ln_rows(xp, x, w, b, gshape, axes, wshape, stats)
    if n is not None:
        return _K.layer_norm(_rows(x, n), *(None if p is None else _rows(p, n)[0] for p in (w, b)),
                             eps).reshape(x.shape)
    odt = x.dtype
    x, w, b = _wide(x), _wide(w), _wide(b)
    xg = x.reshape(gshape) if gshape is not None else x
    if stats is None:
        mean, invstd, _ = _moments(xp, xg, axes, eps)
    else:
        mean, invstd = (xp.asarray(s, dtype=x.dtype) for s in stats[:2])
    if _per_channel(gshape, mean, wshape, x):
        # batch/instance norm: x * a + c with a = invstd * w, c = b - mean * a per channel (torch's CPU kernel
        # form), two passes instead of four
        a = invstd if w is None else invstd * w.reshape(wshape)
        c = -mean * a
        if b is not None:
            c = c + b.reshape(wshape)
        y = x * a
        y += c
        return y.astype(odt, copy=False)
    y = xg - mean
    y *= invstd
    if gshape is not None:
        y = y.reshape(x.shape)
    if w is not None:
        y *= w.reshape(wshape)
    if b is not None:
        y += b.reshape(wshape)
    return y.astype(odt, copy=False)


def _per_channel(gshape, mean, wshape, x):
    """Whether the statistics and the affine parameters share one small shape (batch/instance norm, not
    layer norm), so the normalisation folds into per-channel coefficients."""
    if gshape is not None or x.size == 0:
        return False
    shp = np.broadcast_shapes(mean.shape, tuple(wshape) if wshape is not None else mean.shape)
    return _prod(shp) * 8 <= x.size


def _waxes(wshape, nd):
    return tuple(i for i in range(nd) if wshape is None or wshape[i] == 1)


def _norm_vjp(g, out, x, w=None, b=None, needs=(), *, gshape, axes, wshape, eps, stats, fixed):
    nd = x.dim()
    wax = _waxes(wshape, nd)
    if not _gm.enabled:
        # no graph to build: fused array code, few temporaries
        xp = _xp(x)
        X, G = _wide(x._data), _wide(g._data)
        W = w._data if w is not None else None
        n = _ln_rows(xp, X, W, b._data if b is not None else None, gshape, axes, wshape, stats)
        if n is not None and G.dtype == np.float32 and G.shape == X.shape:
            gx, gw, gb = _K.layer_norm_backward(_rows(G, n), _rows(X, n), None if W is None else _rows(W, n)[0], eps)
            return (_wrap(gx.reshape(X.shape), x) if needs[0] else None,
                    _wrap(gw.reshape(w.shape), x) if len(needs) > 1 and needs[1] else None,
                    _wrap(gb.reshape(b.shape), x) if len(needs) > 2 and needs[2] else None)
        xg = X.reshape(gshape) if gshape is not None else X
        if stats is None:
            mean, invstd, _ = _moments(xp, xg, axes, eps)
        else:
            mean, invstd = (xp.asarray(s, dtype=X.dtype) for s in stats[:2])
        if _per_channel(gshape, mean, wshape, X) and set(axes) <= set(wax) and G.shape == X.shape:
            return _norm_vjp_channels(xp, X, G, x, w, b, needs, mean, invstd, axes, wax, wshape, fixed)
        xhat = xg - mean
        xhat *= invstd
        gx = gw = gb = None
        if needs[0]:
            gxh = G * _wide(w._data).reshape(wshape) if w is not None else G.astype(X.dtype, copy=True)
            gxh = gxh.reshape(xhat.shape)
            if fixed:
                gxh *= invstd
            elif xhat.size:
                n = X.dtype.type(_prod(xhat.shape[i] for i in axes))
                m1 = gxh.mean(axis=axes, keepdims=True)
                t = xhat * (_sum_prod(xp, gxh, xhat, axes, True) / n)
                gxh -= m1
                gxh -= t
                gxh *= invstd
            gx = _wrap(gxh.reshape(X.shape).astype(X.dtype, copy=False), x)
        if len(needs) > 1 and needs[1]:
            gw = _wrap(_sum_prod(xp, G, xhat.reshape(X.shape), wax, False).reshape(w.shape).astype(X.dtype), x)
        if len(needs) > 2 and needs[2]:
            gb = _wrap(G.sum(axis=wax).reshape(b.shape).astype(X.dtype, copy=False), x)
        return gx, gw, gb
    # create_graph: the same formulas in ember ops, so they are differentiable again
    xg = x.reshape(gshape) if gshape is not None else x
    if stats is None or not fixed:
        mean = xg.mean(axes, keepdim=True)
        d = xg - mean
        invstd = ((d * d).mean(axes, keepdim=True) + eps).rsqrt()
    else:
        mean, invstd = _const(stats[0], x).to(x.dtype), _const(stats[1], x).to(x.dtype)
        d = xg - mean
    xhat = d * invstd
    gx = gw = gb = None
    if needs[0]:
        gxh = g * w.reshape(wshape) if w is not None else g
        gxh = gxh.reshape(xhat.shape)
        if fixed:
            gx = gxh * invstd
        else:
            gx = invstd * (gxh - gxh.mean(axes, keepdim=True) - xhat * (gxh * xhat).mean(axes, keepdim=True))
        gx = gx.reshape(x.shape)
    if len(needs) > 1 and needs[1]:
        gw = (g * xhat.reshape(x.shape)).sum(wax).reshape(w.shape) if wax else g * xhat.reshape(x.shape)
    if len(needs) > 2 and needs[2]:
        gb = g.sum(wax).reshape(b.shape) if wax else g
    return gx, gw, gb


def _sum_axes(xp, a, axes):
    """Sum over ``axes``, dims kept (einsum: several times faster than ``sum`` over non-trailing axes)."""
    sub = _LET[:a.ndim]
    r = xp.einsum(f"{sub}->" + "".join(c for i, c in enumerate(sub) if i not in axes), a)
    return r.reshape(tuple(1 if i in axes else n for i, n in enumerate(a.shape)))


def _norm_vjp_channels(xp, X, G, x, w, b, needs, mean, invstd, axes, wax, wshape, fixed):
    """Batch/instance norm gradients (no graph) from per-channel sums, torch's CPU formula: with d = x - mean,
    gx = (g - sum(g) / n - d * sum(g d) / n * invstd^2) * invstd * w (gx = g * invstd * w with fixed
    statistics), gw = sum(g d) * invstd, gb = sum(g); seven passes over the data in NumPy, two per channel
    compiled."""
    n = X.dtype.type(_prod(X.shape[i] for i in axes))
    gx_on = needs[0]
    gw_on = len(needs) > 1 and needs[1]
    gb_on = len(needs) > 2 and needs[2]
    rest = tuple(i for i in wax if i not in axes)  # weight axes the statistics keep (instance norm: the batch)
    if not G.flags.c_contiguous:
        G = xp.ascontiguousarray(G)  # a broadcast gradient (from a sum) makes every pass below several times slower
    a = invstd if w is None else invstd * _wide(w._data).reshape(wshape)
    acl = _channel_block(X, axes) if xp is np and X.dtype == np.float32 and X.flags.c_contiguous and \
        _K.available() else None
    gx = gw = gb = None
    if acl is not None:
        # compiled: both sums in one pass per channel, gx in a second (float32 on the CPU)
        r, sg, sgd = _K.batch_norm_backward(X.reshape(acl), G.reshape(acl), mean, invstd,
                                            np.broadcast_to(a, mean.shape), gx_on, fixed)
        sg, sgd = sg.reshape(mean.shape), sgd.reshape(mean.shape)
        if gx_on:
            gx = _wrap(r.reshape(X.shape), x)
    else:
        d = X - mean if gw_on or (gx_on and not fixed) else None
        sg = _sum_axes(xp, G, axes) if gb_on or (gx_on and not fixed) else None
        sgd = _sum_prod(xp, G, d, axes, True) if d is not None else None
    if gw_on:
        t = sgd * invstd
        gw = _wrap((t.sum(axis=rest) if rest else t).reshape(w.shape).astype(X.dtype, copy=False), x)
    if gb_on:
        gb = _wrap((sg.sum(axis=rest) if rest else sg).reshape(b.shape).astype(X.dtype, copy=False), x)
    if gx_on and acl is None:
        if fixed:
            r = G * a
        else:
            d *= -(sgd * invstd * invstd / n)
            d += G
            d -= sg / n
            d *= a
            r = d
        gx = _wrap(r.astype(X.dtype, copy=False), x)
    return gx, gw, gb


def _channel_block(X, axes):
    """(A, C, L) when the dims ``axes`` leaves are one block (the channels), between leading dims (A) and
    trailing dims (L) that are all in ``axes``; else None."""
    kept = [i for i in range(X.ndim) if i not in axes]
    if not kept or kept != list(range(kept[0], kept[-1] + 1)):
        return None
    return _prod(X.shape[:kept[0]]), _prod(X.shape[kept[0]:kept[-1] + 1]), _prod(X.shape[kept[-1] + 1:])


def _wide(a):
    """float16/bfloat16 arrays in float32: torch's CPU norm kernels accumulate in float32 (and NumPy's einsum
    refuses bfloat16); the forward rounds its result back to the input's dtype."""
    return a.astype(np.float32) if a is not None and a.dtype in _LOW_NP else a


_LOW_NP = (np.dtype(np.float16), _D.bfloat16.np)


def norm_compute_np(dtype):
    """The NumPy dtype a norm computes in for an input of ember ``dtype``."""
    return np.dtype(np.float32) if dtype.np in _LOW_NP else dtype.np


def check_norm_dtypes(input, *params):
    """torch's CPU rule for a norm's parameters (weight, bias[, running_mean, running_var]): all of the input's
    dtype, or all float32 with a float16/bfloat16 input (the result keeps the input's dtype)."""
    ps = [p for p in params if p is not None]
    if not ps or all(p.dtype is input.dtype for p in ps):
        return
    if ps[0].dtype is not input.dtype:
        if any(p.dtype is not _D.float32 for p in ps):
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        if input.dtype.np not in _LOW_NP:
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
        return
    bad = next(p for p in ps if p.dtype is not input.dtype)
    raise RuntimeError(f"expected scalar type {_type_name(input.dtype)} but found {_type_name(bad.dtype)}")


def _norm_op(name, node):
    # "raw": the parameters may be float32 under a float16/bfloat16 input (see check_norm_dtypes); the
    # forward computes in float32 then and returns the input's dtype
    return defop(name, "raw", _norm_fwd, _norm_vjp, needs=True, save_out=False, node=node,
                 shape=lambda sx, sw=None, sb=None, **kw: tuple(sx))


BATCH_NORM = _norm_op("native_batch_norm", "NativeBatchNormBackward0")
LAYER_NORM = _norm_op("native_layer_norm", "NativeLayerNormBackward0")
GROUP_NORM = _norm_op("native_group_norm", "NativeGroupNormBackward0")
INSTANCE_NORM = _norm_op("instance_norm", "NativeBatchNormBackward0")


# ================================================================ embedding
def _embed_fwd(xp, w, idx, padding_idx=None, scale=False):
    return xp.take(w, idx, axis=0)


def _embed_bwd_fwd(xp, g, idx, *, num, padding_idx, scale):
    Dm = g.shape[-1]
    gi = _as_rows(g)
    ii = idx.reshape(-1).astype(np.int64)
    if scale and ii.size:
        cnt = xp.bincount(ii, minlength=num)
        gi = gi / cnt[ii][:, None].astype(g.dtype)
    if xp is np:
        r = np.zeros((num, Dm), dtype=g.dtype)
        if ii.size and g.dtype in (np.float32, np.float64):
            # rows grouped by index (a stable sort keeps each index's rows in order, so the sums are those of
            # np.add.at) and summed per group: ~20x faster than np.add.at's per-row scatter
            order = np.argsort(ii, kind="stable")
            si = ii[order]
            starts = np.flatnonzero(np.concatenate(([True], si[1:] != si[:-1])))
            cnt = np.diff(np.append(starts, si.size))
            m = int(cnt.max())
            if m <= 8 or m * 4096 <= gi.size:
                # few repeats: add the k-th row of every group in one vectorised step per k (reduceat along
                # axis 0 runs far slower than these m row gathers; same summation order)
                r[si[starts]] = gi[order[starts]]
                for k in range(1, m):
                    sel = starts[cnt > k] + k
                    r[si[sel]] += gi[order[sel]]
            else:
                r[si[starts]] = np.add.reduceat(gi[order], starts, axis=0)
        else:
            np.add.at(r, ii, gi)
    else:
        flat = ii[:, None] * Dm + xp.arange(Dm, dtype=np.int64)[None, :]
        r = _bincount(xp, flat, gi, num * Dm).astype(g.dtype, copy=False).reshape(num, Dm)
    if padding_idx is not None:
        r[padding_idx] = 0
    return r


def _embed_vjp(g, out, w, idx, *, padding_idx=None, scale=False):
    return apply(EMBED_BWD, (g, idx), {"num": w.shape[0], "padding_idx": padding_idx, "scale": scale}), None


def _embed_bwd_vjp(gg, out, g, idx, *, num, padding_idx, scale):
    rows = apply(EMBED, (gg, idx), {})
    if padding_idx is not None or scale:
        xp = np if idx._device.backend.is_meta else _xp(idx)
        ii = idx._data.astype(np.int64)
        f = xp.ones(ii.shape, dtype=gg.dtype.np)
        if scale and ii.size:
            f = f / xp.bincount(ii.reshape(-1), minlength=num)[ii]
        if padding_idx is not None:
            f = f * (ii != padding_idx)
        rows = rows * _T._make(f.astype(gg.dtype.np)[..., None], idx._device)
    return rows, None


EMBED = defop("embedding", "raw", _embed_fwd, _embed_vjp, save_out=False, node="EmbeddingBackward0",
              shape=lambda sw, si, **kw: tuple(si) + tuple(sw[1:]))
EMBED_BWD = defop("embedding_backward", "raw", _embed_bwd_fwd, _embed_bwd_vjp, save_out=False,
                  node="EmbeddingBackwardBackward0",
                  shape=lambda sg, si, *, num, **kw: (num, sg[-1]))


# ================================================================ activations
def _act(name, fwd, vjp, kernel=None, node=None, rule=None, **opts):
    return defop(name, rule or (_nodev(kernel) if kernel else "same"), fwd, vjp, node=node, **opts)


def _where(c, a, b):
    return _F().where(c, a, b)


_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_PI = math.sqrt(2 / math.pi)


def _gelu_fwd(xp, x, *, approximate, stash=None):
    with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 at -inf gives NaN silently, as in torch
        return _gelu_fwd_arr(xp, x, approximate, stash)


def _gelu_fwd_arr(xp, x, approximate, stash):
    if xp is np and x.dtype == np.float32 and _K.available():  # one pass in compiled code
        y, cdf = _K.gelu(np.ascontiguousarray(x), approximate, keep_cdf=stash is not None)
        if cdf is not None:
            stash.append(cdf.reshape(x.shape))
        return y.reshape(x.shape)  # (ascontiguousarray makes a 0-d array 1-d)
    if x.ndim == 0:  # NumPy's in-place ufuncs need arrays, not the scalars 0-d arithmetic gives
        return _gelu_fwd_arr(xp, x.reshape(1), approximate, stash).reshape(())
    if approximate == "tanh":
        xw = x.astype(np.float32) if x.dtype.itemsize < 4 else x  # float16/bfloat16: in float32, rounded once
        u = xw * xw
        u *= 0.044715
        u += 1
        u *= xw
        u *= _SQRT_2_PI
        xp.tanh(u, out=u)
        u += 1
        u *= xw
        u *= 0.5
        return u.astype(x.dtype, copy=False)
    from . import _special as S
    if x.dtype == np.float64:
        return 0.5 * x * (1 + S.erf(xp, x * _SQRT1_2))
    # float32 and narrower: x * Phi(x) from the normal tail q = Phi(-|x|), in float32 (within ~10 ulp; torch's
    # own erf-based float32 GELU loses more than that to cancellation for x < 0), in blocks that stay in
    # cache: the pipeline makes ~35 passes over its temporaries
    xf = x.reshape(-1)
    n = xf.size
    out = xp.empty(n, x.dtype)
    keep = xp.empty(n, np.float32) if stash is not None else None

    def block(i, j):
        x32 = xf[i:j].astype(np.float32, copy=False)
        cdf = _gelu_cdf(xp, x32, S.normal_tail32(xp, x32))
        if keep is not None:  # Phi(x) for the backward (float32 at least: a float16 one would spoil the gradient)
            keep[i:j] = cdf
        cdf *= x32
        out[i:j] = cdf
    run_blocks(xp, n, 65536, block)
    if keep is not None:
        stash.append(keep.reshape(x.shape))
    return out.reshape(x.shape)


def run_blocks(xp, n, size, fn):
    """``fn(i, j)`` over [0, n) in blocks of ``size`` elements on the CPU, small enough that a kernel of many
    passes keeps its temporaries in cache, spread over the intra-op threads (one call on other devices)."""
    if xp is not np or n <= size:
        fn(0, n)
        return

    def piece(i0, j0):  # a thread's share of the blocks (see ember.backend.parallel)
        for i in range(i0, j0, size):
            fn(i, min(i + size, j0))
    parallel_for(n, piece, min_size=size)


def _gelu_cdf(xp, x, q):
    """Phi(x) in place of q = Phi(-|x|): q where x <= 0, 1 - q where x > 0 (x * Phi(x) keeps the sign of
    zero and gives inf at inf, NaN at -inf, as x * Phi(x) does)."""
    r = q * -2.0
    r += 1.0
    r *= x > 0
    q += r
    return q


def _gelu_vjp(g, out, x, *, approximate, stash=None):
    cdf = stash.pop() if stash else None  # the backward runs once; a retained graph's next run recomputes it
    return apply(GELU_BWD, (g, x), {"approximate": approximate, "cdf": cdf})


def _gelu_bwd_fwd(xp, g, x, *, approximate, cdf=None):
    """g * gelu'(x) on arrays."""
    with np.errstate(invalid="ignore", over="ignore"):
        return _gelu_bwd_arr(xp, g, x, approximate, cdf)


def _gelu_bwd_arr(xp, g, x, approximate, cdf):
    if xp is np and x.dtype == g.dtype == np.float32 and g.shape == x.shape and _K.available() and \
            (cdf is None or cdf.shape == x.shape and cdf.dtype == np.float32):
        c = np.ascontiguousarray
        return _K.gelu_backward(c(g), c(x), approximate, None if cdf is None else c(cdf)).reshape(x.shape)
    if x.ndim == 0:
        return _gelu_bwd_arr(xp, g.reshape(1) if g.ndim == 0 else g, x.reshape(1), approximate,
                             cdf).reshape(np.broadcast_shapes(g.shape, x.shape))
    wide = x.dtype.itemsize < 4  # float16/bfloat16: torch computes in float32 and rounds once
    xw = x.astype(np.float32) if wide else x
    if approximate == "tanh":
        x2 = xw * xw
        u = x2 * 0.044715
        u += 1
        u *= xw
        u *= _SQRT_2_PI
        t = xp.tanh(u, out=u)
        # 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
        x2 *= 3 * 0.044715
        x2 += 1
        x2 *= xw
        x2 *= 0.5 * _SQRT_2_PI
        d = t * t
        xp.subtract(1, d, out=d)
        d *= x2
        t += 1
        t *= 0.5
        d += t
        d = d * g
        return d.astype(x.dtype) if wide else d
    if cdf is None:
        from . import _special as S
        if x.dtype == np.float64:
            cdf = S.erf(xp, x * _SQRT1_2)
            cdf += 1
            cdf *= 0.5
        else:
            cdf = _gelu_cdf(xp, xw, S.normal_tail32(xp, xw))
    if xp is np and not wide and g.shape == xw.shape and g.dtype == xw.dtype and cdf.shape == xw.shape and \
            xw.size > 65536:
        return _gelu_bwd_blocks(xw, g, cdf)
    d = _gelu_slope(xp, xw, cdf) * g
    return d.astype(x.dtype) if wide else d


def _gelu_slope(xp, x, cdf):
    """gelu'(x) = Phi(x) + x phi(x) with phi(x) = exp(-x^2 / 2) / sqrt(2 pi), given Phi(x) = ``cdf``."""
    d = x * x
    d *= -0.5
    xp.exp(d, out=d)
    d *= x
    d *= _INV_SQRT_2PI
    d += cdf
    return d


def _gelu_bwd_blocks(x, g, cdf):
    """g * gelu'(x), elementwise the same, in cache-sized blocks spread over the intra-op threads."""
    out = np.empty(x.shape, x.dtype)
    xf, gf, cf, of = x.reshape(-1), g.reshape(-1), cdf.reshape(-1), out.reshape(-1)

    def block(i, j):
        np.multiply(_gelu_slope(np, xf[i:j], cf[i:j]), gf[i:j], out=of[i:j])
    run_blocks(np, xf.size, 65536, block)
    return out


def _gelu_bwd_vjp(gg, out, g, x, needs=(), *, approximate, cdf=None):
    dg = apply(GELU_BWD, (gg, x), {"approximate": approximate}) if needs[0] else None
    dx = None
    if needs[1]:
        if approximate == "tanh":
            # u = k (x + c x^3), t = tanh(u): gelu''(x) = (1 - t^2) (u' - x t u'^2 + 3 c k x^2)
            k, c = _SQRT_2_PI, 0.044715
            x2 = x * x
            t = (k * (x + c * x2 * x)).tanh()
            du = k * (1 + 3 * c * x2)
            sec = 1 - t * t
            dx = gg * g * (sec * (du - x * t * du * du + 3 * k * c * x2))
        else:
            dx = gg * g * ((-0.5 * x * x).exp() * (_INV_SQRT_2PI * (2 - x * x)))
    return dg, dx


def _sigmoid(xp, x):
    from . import _special as S
    return S.sigmoid(xp, x)


def _softplus_arr(xp, x):
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


def _silu_vjp(g, out, x):
    s = x.sigmoid()
    return g * (s * (1 + x * (1 - s)))


def _mish_fwd(xp, x):
    return x * xp.tanh(_softplus_arr(xp, x))


def _mish_vjp(g, out, x):
    t = (x.clamp(min=0) + (-x.abs()).exp().log1p()).tanh()
    s = x.sigmoid()
    return g * (t + x * s * (1 - t * t))


def _softplus_fwd(xp, x, *, beta, threshold):
    z = x * beta
    with np.errstate(over="ignore"):
        return xp.where(z > threshold, x, xp.log1p(xp.exp(z)) / beta).astype(x.dtype, copy=False)


def _softplus_vjp(g, out, x, *, beta, threshold):
    z = x * beta
    return _where(z > threshold, g, g * z.sigmoid())


def _elu_fwd(xp, x, *, alpha, scale, input_scale):
    with np.errstate(over="ignore"):
        neg = alpha * scale * xp.expm1(xp.minimum(x, 0) * input_scale)
    return xp.where(x > 0, x * scale, neg).astype(x.dtype, copy=False)


def _elu_vjp(g, out, x, *, alpha, scale, input_scale):
    return _where(x > 0, g * scale, g * ((x.clamp(max=0) * input_scale).exp() * (alpha * scale * input_scale)))


def _leaky_fwd(xp, x, *, slope):
    return xp.where(x > 0, x, x * slope).astype(x.dtype, copy=False)


def _hardtanh_fwd(xp, x, *, lo, hi):
    return xp.minimum(xp.maximum(x, lo), hi).astype(x.dtype, copy=False)


def _hardsigmoid_fwd(xp, x):
    return (xp.minimum(xp.maximum(x + 3, 0), 6) / 6).astype(x.dtype, copy=False)


def _hardswish_fwd(xp, x):
    return (x * xp.minimum(xp.maximum(x + 3, 0), 6) / 6).astype(x.dtype, copy=False)


def _hardswish_vjp(g, out, x):
    return _where(x < -3, g * 0, _where(x <= 3, g * (x / 3 + 0.5), g))


def _logsigmoid_fwd(xp, x):
    return (xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))).astype(x.dtype, copy=False)


def _shrink_fwd(xp, x, *, lambd, soft):
    keep = (x < -lambd) | (x > lambd)
    if soft:
        v = xp.where(x > lambd, x - lambd, x + lambd)
        return xp.where(keep, v, 0).astype(x.dtype, copy=False)
    return xp.where(keep, x, 0).astype(x.dtype, copy=False)


def _threshold_fwd(xp, x, *, threshold, value):
    v = np.asarray(value).astype(x.dtype).item() if x.dtype.kind != "c" else value
    return xp.where(x > threshold, x, v).astype(x.dtype, copy=False)


def _glu_fwd(xp, x, *, dim):
    h = x.shape[dim] // 2
    a = xp.take(x, xp.arange(h), axis=dim)
    b = xp.take(x, xp.arange(h, 2 * h), axis=dim)
    return a * _sigmoid(xp, b)


def _glu_vjp(g, out, x, *, dim):
    h = x.shape[dim] // 2
    a, b = x.narrow(dim, 0, h), x.narrow(dim, h, h)
    s = b.sigmoid()
    return _F().cat([g * s, g * a * s * (1 - s)], dim)


def _prelu_fwd(xp, x, w, *, wshape):
    return xp.where(x > 0, x, w.reshape(wshape) * x).astype(x.dtype, copy=False)


def _prelu_vjp(g, out, x, w, needs=(), *, wshape):
    wb = w.reshape(wshape)
    gx = _where(x > 0, g, g * wb) if needs[0] else None
    gw = None
    if needs[1]:
        gwf = _where(x > 0, g * 0, g * x)
        axes = tuple(i for i in range(x.dim()) if wshape[i] == 1)
        gw = (gwf.sum(axes) if axes else gwf).reshape(w.shape)
    return gx, gw


GELU = _act("gelu", _gelu_fwd, _gelu_vjp, "GeluKernelImpl", save_out=False, shape=lambda s, **kw: tuple(s))
GELU_BWD = defop("gelu_backward", "promote", _gelu_bwd_fwd, _gelu_bwd_vjp, needs=True, save_out=False,
                 node="GeluBackwardBackward0", shape=lambda sg, sx, **kw: tuple(np.broadcast_shapes(sg, sx)))


def gelu(input, approximate):
    """GELU; with a graph to build, the float32 forward keeps Phi(x) for the backward (saves recomputing it)."""
    kw = {"approximate": approximate}
    if approximate == "none" and isinstance(input, _T) and input._rg and _gm.enabled:
        kw["stash"] = []
    return apply(GELU, (input,), kw)


SILU = _act("silu", lambda xp, x: x * _sigmoid(xp, x), _silu_vjp, "silu_cpu", save_out=False)
MISH = _act("mish", _mish_fwd, _mish_vjp, "mish_cpu", save_out=False)
SOFTPLUS = _act("softplus", _softplus_fwd, _softplus_vjp, "softplus_cpu", save_out=False)
ELU = _act("elu", _elu_fwd, _elu_vjp, "elu_cpu", save_out=False)
CELU = _act("celu", _elu_fwd, _elu_vjp, "elu_cpu", save_out=False)
LEAKY_RELU = _act("leaky_relu", _leaky_fwd,
                  lambda g, out, x, *, slope: _where(x > 0, g, g * slope), "leaky_relu_cpu", save_out=False)
HARDTANH = _act("hardtanh", _hardtanh_fwd,
                lambda g, out, x, *, lo, hi: g * ((x > lo) & (x < hi)), rule=_no_bool("hardtanh"),
                save_out=False)
HARDSIGMOID = _act("hardsigmoid", _hardsigmoid_fwd, lambda g, out, x: g * ((x > -3) & (x < 3)) / 6,
                   "hardsigmoid_cpu", save_out=False)
HARDSWISH = _act("hardswish", _hardswish_fwd, _hardswish_vjp, "hardswish_cpu", save_out=False)
LOGSIGMOID = _act("log_sigmoid", _logsigmoid_fwd, lambda g, out, x: g * (-x).sigmoid(), "log_sigmoid_cpu",
                  node="LogSigmoidBackward0", save_out=False)
HARDSHRINK = _act("hardshrink", lambda xp, x, *, lambd: _shrink_fwd(xp, x, lambd=lambd, soft=False),
                  lambda g, out, x, *, lambd: g * ((x < -lambd) | (x > lambd)), "hardshrink_cpu", save_out=False)
SOFTSHRINK = _act("softshrink", lambda xp, x, *, lambd: _shrink_fwd(xp, x, lambd=lambd, soft=True),
                  lambda g, out, x, *, lambd: g * ((x < -lambd) | (x > lambd)), "softshrink_check",
                  save_out=False)
THRESHOLD = _act("threshold", _threshold_fwd, lambda g, out, x, *, threshold, value: g * (x > threshold),
                 rule=_no_bool("threshold_cpu"), save_out=False)
GLU = _act("glu", _glu_fwd, _glu_vjp, "glu_cpu", save_out=False)
PRELU = defop("prelu", "promote", _prelu_fwd, _prelu_vjp, needs=True, save_out=False, node="PreluKernelBackward0",
              shape=lambda sx, sw, **kw: tuple(sx))
RRELU = defop("rrelu_with_noise", "promote", lambda xp, x, noise: x * noise,
              lambda g, out, x, noise, needs=(): (g * noise if needs[0] else None, None),
              needs=True, save_out=False, node="RreluWithNoiseBackward0")


# ================================================================ binary cross-entropy (torch clamps each log at -100)
def _bce_logs(xp, x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return xp.maximum(xp.log(x), -100), xp.maximum(xp.log1p(-x), -100)


def _bce_fwd(xp, x, t, w=None):
    lx, l1x = _bce_logs(xp, x)
    loss = -(t * lx + (1 - t) * l1x)
    if w is not None:
        loss = loss * w
    return loss.astype(x.dtype, copy=False)


def _bce_vjp(g, out, x, t, w=None, needs=()):
    gw_ = g if w is None else g * w
    gx = gt = gwt = None
    if needs[0]:
        gx = gw_ * (x - t) / ((1 - x) * x).clamp(min=1e-12)
    if needs[1] or (len(needs) > 2 and needs[2]):
        with np.errstate(divide="ignore", invalid="ignore"):
            if needs[1]:
                gt = gw_ * ((-x).log1p() - x.log())
            if len(needs) > 2 and needs[2]:
                lx, l1x = x.log().clamp(min=-100), (-x).log1p().clamp(min=-100)
                gwt = -g * (t * lx + (1 - t) * l1x)
    return gx, gt, gwt


BCE = defop("binary_cross_entropy", "promote", _bce_fwd, _bce_vjp, needs=True, save_out=False,
            node="BinaryCrossEntropyBackward0")


def _bcel_fwd(xp, x, t, w=None, pw=None):
    sp = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)
    if pw is None:
        loss = (1 - t) * x + sp
    else:
        loss = (1 - t) * x + (1 + (pw - 1) * t) * sp
    if w is not None:
        loss = loss * w
    return loss


def _bcel_vjp(g, out, x, t, w=None, pw=None, needs=()):
    gw_ = g if w is None else g * w
    res = [None, None, None, None]
    sp = None
    if needs[0]:
        s = x.sigmoid()
        res[0] = gw_ * (s - t) if pw is None else gw_ * (s * (1 + (pw - 1) * t) - pw * t)
    if needs[1] or (len(needs) > 2 and needs[2]) or (len(needs) > 3 and needs[3]):
        sp = (-x.abs()).exp().log1p() + (-x).clamp(min=0)
    if needs[1]:
        res[1] = -gw_ * x if pw is None else gw_ * (-x + (pw - 1) * sp)
    if len(needs) > 2 and needs[2]:
        res[2] = g * ((1 - t) * x + (sp if pw is None else (1 + (pw - 1) * t) * sp))
    if len(needs) > 3 and needs[3]:
        res[3] = gw_ * t * sp
    return tuple(res)


BCE_LOGITS = defop("binary_cross_entropy_with_logits", "promote", _bcel_fwd, _bcel_vjp, needs=True,
                   save_out=False, node="BinaryCrossEntropyWithLogitsBackward0")


# ================================================================ CTC loss (log-space forward-backward, batched)
def _lse3(xp, a, b, c):
    m = xp.maximum(xp.maximum(a, b), c)
    ms = xp.where(xp.isfinite(m), m, 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return xp.log(xp.exp(a - ms) + xp.exp(b - ms) + xp.exp(c - ms)) + ms


def _ctc_setup(xp, lp, targets, tl, blank):
    N = lp.shape[1]
    Smax = targets.shape[1] if targets.ndim == 2 else 0
    S = 2 * Smax + 1
    ext = xp.full((N, S), blank, dtype=np.int64)
    if Smax:
        ext[:, 1::2] = xp.asarray(targets)
    skip = xp.zeros((N, S), dtype=bool)
    if S > 2:
        skip[:, 2:] = ext[:, 2:] != ext[:, :-2]
    valid = xp.arange(S)[None, :] < (2 * xp.asarray(tl) + 1)[:, None]
    lpe = xp.take_along_axis(lp, xp.broadcast_to(ext[None], (lp.shape[0], N, S)), axis=2)
    return ext, skip, valid, lpe


_NEG = -np.inf


def _ctc_alpha(xp, lpe, skip, valid, tl):
    T, N, S = lpe.shape
    alpha = xp.full((T, N, S), _NEG, dtype=lpe.dtype)
    if T == 0:
        return alpha
    alpha[0, :, 0] = lpe[0, :, 0]
    if S > 1:
        alpha[0, :, 1] = xp.where(xp.asarray(tl) > 0, lpe[0, :, 1], _NEG)
    ninf = xp.full((N, 1), _NEG, dtype=lpe.dtype)
    ninf2 = xp.full((N, 2), _NEG, dtype=lpe.dtype)
    for t in range(1, T):
        a = alpha[t - 1]
        a1 = xp.concatenate([ninf, a[:, :-1]], axis=1)
        a2 = xp.where(skip, xp.concatenate([ninf2, a[:, :-2]], axis=1), _NEG) if S > 2 else \
            xp.full(a.shape, _NEG, dtype=a.dtype)
        alpha[t] = xp.where(valid, _lse3(xp, a, a1, a2) + lpe[t], _NEG)
    return alpha


def _ctc_beta(xp, lpe, skip, valid, il, tl):
    T, N, S = lpe.shape
    beta = xp.full((T, N, S), _NEG, dtype=lpe.dtype)
    il = xp.asarray(il)
    tl = xp.asarray(tl)
    rows = xp.arange(N)
    ninf = xp.full((N, 1), _NEG, dtype=lpe.dtype)
    ninf2 = xp.full((N, 2), _NEG, dtype=lpe.dtype)
    skip_next = xp.concatenate([skip[:, 2:], xp.zeros((N, 2), dtype=bool)], axis=1) if S > 2 else \
        xp.zeros((N, S), dtype=bool)
    sl = 2 * tl
    for t in range(T - 1, -1, -1):
        init = xp.full((N, S), _NEG, dtype=lpe.dtype)
        init[rows, sl] = lpe[t, rows, sl]
        has = tl > 0
        if bool(has.any()):
            r = rows[has]
            init[r, sl[has] - 1] = lpe[t, r, sl[has] - 1]
        if t == T - 1:
            cur = init
        else:
            b = beta[t + 1]
            b1 = xp.concatenate([b[:, 1:], ninf], axis=1)
            b2 = xp.where(skip_next, xp.concatenate([b[:, 2:], ninf2], axis=1), _NEG) if S > 2 else \
                xp.full(b.shape, _NEG, dtype=b.dtype)
            cur = xp.where(valid, _lse3(xp, b, b1, b2) + lpe[t], _NEG)
            cur = xp.where((il == t + 1)[:, None], init, cur)
        beta[t] = xp.where((il > t)[:, None], cur, _NEG)
    return beta


def _ctc_nll(xp, alpha, il, tl):
    N = alpha.shape[1]
    rows = xp.arange(N)
    il, tl = xp.asarray(il), xp.asarray(tl)
    last = alpha[xp.maximum(il - 1, 0), rows]
    a = last[rows, 2 * tl]
    b = xp.where(tl > 0, last[rows, xp.maximum(2 * tl - 1, 0)], _NEG)
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = xp.logaddexp(a, b)
    ll = xp.where(il > 0, ll, xp.where(tl == 0, 0.0, _NEG))
    return -ll


def _ctc_fwd(xp, lp, *, targets, il, tl, blank, zero_infinity):
    ext, skip, valid, lpe = _ctc_setup(xp, lp.astype(np.float64), targets, tl, blank)
    nll = _ctc_nll(xp, _ctc_alpha(xp, lpe, skip, valid, tl), il, tl)
    if zero_infinity:
        nll = xp.where(xp.isinf(nll), 0.0, nll)
    return nll.astype(lp.dtype)


def _ctc_bwd_fwd(xp, g, lp, *, targets, il, tl, blank, zero_infinity):
    T, N, C = lp.shape
    lp64 = lp.astype(np.float64)
    ext, skip, valid, lpe = _ctc_setup(xp, lp64, targets, tl, blank)
    alpha = _ctc_alpha(xp, lpe, skip, valid, tl)
    beta = _ctc_beta(xp, lpe, skip, valid, il, tl)
    nll = _ctc_nll(xp, alpha, il, tl)
    S = ext.shape[1]
    ab = alpha + beta
    m = ab.max(axis=2, keepdims=True) if S else xp.zeros((T, N, 1))
    ms = xp.where(xp.isfinite(m), m, 0)
    e = xp.exp(ab - ms)
    flat = (xp.arange(T * N, dtype=np.int64).reshape(T, N, 1) * C + ext[None]).reshape(-1)
    occ = _bincount(xp, flat, e, T * N * C).reshape(T, N, C)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lcab = xp.log(occ) + ms
        grad = xp.exp(lp64) - xp.exp(lcab + nll[None, :, None] - lp64)
    grad = xp.where((xp.arange(T)[:, None] < xp.asarray(il)[None, :])[:, :, None], grad, 0.0)
    if zero_infinity:
        grad = xp.where(xp.isinf(nll)[None, :, None], 0.0, grad)
    return (grad * g.astype(np.float64)[None, :, None]).astype(lp.dtype)


def _no_double(name):
    def vjp(*a, **k):
        raise RuntimeError(f"derivative for aten::{name} is not implemented")
    return vjp


CTC = defop("ctc_loss", _nodev("ctc_loss_cpu"), _ctc_fwd,
            lambda g, out, lp, **kw: apply(CTC_BWD, (g, lp), kw), save_out=False, node="CtcLossBackward0",
            shape=lambda s, **kw: (s[1],))
CTC_BWD = defop("ctc_loss_backward", "promote", _ctc_bwd_fwd, _no_double("_ctc_loss_backward"), save_out=False,
                shape=lambda sg, s, **kw: tuple(s))


# ================================================================ grid_sample
def _gs_unnormalize(c, size, align):
    if align:
        return (c + 1) / 2 * (size - 1), (size - 1) / 2
    return ((c + 1) * size - 1) / 2, size / 2


def _gs_clip(xp, c, size):
    lim = size - 1
    grad = ((c > 0) & (c < lim)).astype(c.dtype)
    return xp.minimum(xp.maximum(c, 0), lim), grad


def _gs_reflect(xp, c, lo2, hi2):
    if lo2 == hi2:
        return xp.zeros_like(c), xp.zeros_like(c)
    mn = lo2 / 2
    span = (hi2 - lo2) / 2
    v = c - mn
    sign = xp.where(v < 0, -1.0, 1.0).astype(c.dtype)
    v = xp.abs(v)
    extra = xp.fmod(v, span)
    flips = xp.floor(v / span)
    even = (flips % 2) == 0
    out = xp.where(even, extra + mn, span - extra + mn)
    return out, xp.where(even, sign, -sign)


def _gs_pad(xp, c, size, padding_mode, align):
    """Apply border/reflection padding to coordinates; returns (coordinate, d coordinate / d input)."""
    if padding_mode == "border":
        return _gs_clip(xp, c, size)
    if padding_mode == "reflection":
        if align:
            r, gr = _gs_reflect(xp, c, 0, 2 * (size - 1))
        else:
            r, gr = _gs_reflect(xp, c, -1, 2 * size - 1)
        r2, gc = _gs_clip(xp, r, size)
        return r2, gr * gc
    return c, xp.ones_like(c)


_CUBIC_A = -0.75


def _cubic_coeffs(xp, t):
    A = _CUBIC_A

    def far(d):  # 1 < |d| < 2
        return ((A * d - 5 * A) * d + 8 * A) * d - 4 * A

    def near(d):  # |d| <= 1
        return ((A + 2) * d - (A + 3)) * d * d + 1

    def dfar(d):
        return (3 * A * d - 10 * A) * d + 8 * A

    def dnear(d):
        return (3 * (A + 2) * d - 2 * (A + 3)) * d

    w = [far(t + 1), near(t), near(1 - t), far(2 - t)]
    dw = [dfar(t + 1), dnear(t), -dnear(1 - t), -dfar(2 - t)]
    return w, dw


def _gs_dim_taps(xp, c, size, mode, padding_mode, align):
    """Per-dim taps: [(index, weight, d weight / d coordinate, in-bounds)], and d coordinate / d grid."""
    u, scale = _gs_unnormalize(c, size, align)
    if mode == "bicubic":
        x0 = xp.floor(u)
        t = u - x0
        w, dw = _cubic_coeffs(xp, t)
        taps = []
        for j in range(4):
            p = x0 + (j - 1)
            if padding_mode != "zeros":
                p, _ = _gs_pad(xp, p, size, padding_mode, align)
            ok = (p >= 0) & (p < size)
            taps.append((xp.where(ok, p, 0).astype(np.int64), w[j], dw[j], ok))
        return taps, xp.full(c.shape, scale, dtype=c.dtype)
    u, gpad = _gs_pad(xp, u, size, padding_mode, align)
    if mode == "nearest":
        p = xp.rint(u)
        ok = (p >= 0) & (p < size)
        one = xp.ones_like(u)
        return [(xp.where(ok, p, 0).astype(np.int64), one, one * 0, ok)], gpad * 0
    x0 = xp.floor(u)
    taps = []
    for j, (w, dw) in enumerate(((x0 + 1 - u, -1.0), (u - x0, 1.0))):
        p = x0 + j
        ok = (p >= 0) & (p < size)
        taps.append((xp.where(ok, p, 0).astype(np.int64), w, xp.full(u.shape, dw, dtype=u.dtype), ok))
    return taps, gpad * scale


def _gs_all(xp, x, grid, mode, padding_mode, align):
    """Every tap of every output point: (flat index, weight, valid, [d weight / d coord per dim]), plus the
    per-dim d coordinate / d grid factors."""
    n = x.ndim - 2
    sp = x.shape[2:]
    N = grid.shape[0]
    P = _prod(grid.shape[1:-1])
    g2 = grid.reshape(N, P, n)
    dims = []
    for d in range(n):
        dims.append(_gs_dim_taps(xp, g2[:, :, n - 1 - d], sp[d], mode, padding_mode, align))
    combos = []
    for choice in itertools.product(*[range(len(t[0])) for t in dims]):
        flat = 0
        w = None
        ok = None
        for d, j in enumerate(choice):
            idx, wd, _, okd = dims[d][0][j]
            flat = flat + idx * _prod(sp[d + 1:])
            w = wd if w is None else w * wd
            ok = okd if ok is None else ok & okd
        dws = []
        for d in range(n):
            v = None
            for e, j in enumerate(choice):
                f = dims[e][0][j][2] if e == d else dims[e][0][j][1]
                v = f if v is None else v * f
            dws.append(v)
        combos.append((flat, w * ok, ok, dws))
    return combos, [t[1] for t in dims], P


def _gs_values(xp, x, flat):
    N, C = x.shape[:2]
    S = _prod(x.shape[2:])
    rows = (xp.arange(N * C, dtype=np.int64) * S).reshape(N, C, 1)
    return xp.take(x.reshape(-1), rows + flat[:, None, :]) if x.size else xp.zeros((N, C, flat.shape[1]), x.dtype)


def _grid_sample_fwd(xp, x, grid, *, mode, padding_mode, align):
    N, C = x.shape[:2]
    combos, _, P = _gs_all(xp, x, grid, mode, padding_mode, align)
    out = xp.zeros((N, C, P), dtype=x.dtype)
    for flat, w, ok, _ in combos:
        out += xp.where(ok[:, None, :], _gs_values(xp, x, flat) * w[:, None, :].astype(x.dtype), 0)
    return out.reshape((N, C) + tuple(grid.shape[1:-1]))


def _grid_bwd_x_fwd(xp, g, x, grid, *, mode, padding_mode, align):
    N, C = x.shape[:2]
    S = _prod(x.shape[2:])
    combos, _, P = _gs_all(xp, x, grid, mode, padding_mode, align)
    gf = g.reshape(N, C, P)
    rows = (xp.arange(N * C, dtype=np.int64) * S).reshape(N, C, 1)
    acc = xp.zeros(N * C * S, dtype=np.float64)
    for flat, w, ok, _ in combos:
        acc += _bincount(xp, rows + flat[:, None, :], gf * w[:, None, :], N * C * S)
    return acc.astype(x.dtype).reshape(x.shape)


def _grid_bwd_grid_fwd(xp, g, x, grid, *, mode, padding_mode, align):
    N, C = x.shape[:2]
    n = x.ndim - 2
    combos, dfac, P = _gs_all(xp, x, grid, mode, padding_mode, align)
    gf = g.reshape(N, C, P)
    out = xp.zeros((N, P, n), dtype=grid.dtype)
    if mode == "nearest":
        return out.reshape(grid.shape)
    for flat, w, ok, dws in combos:
        gv = xp.where(ok, (_gs_values(xp, x, flat) * gf).sum(axis=1), 0)
        for d in range(n):
            out[:, :, n - 1 - d] += gv * dws[d]
    for d in range(n):
        out[:, :, n - 1 - d] *= dfac[d]
    return out.reshape(grid.shape)


def _grid_vjp(g, out, x, grid, needs=(), **kw):
    gx = apply(GRID_BWD_X, (g, x, grid), kw) if needs[0] else None
    gg = apply(GRID_BWD_G, (g, x, grid), kw) if needs[1] else None
    return gx, gg


GRID_SAMPLE_2D = defop("grid_sampler_2d", _nodev("grid_sampler_2d_cpu_kernel_impl"), _grid_sample_fwd, _grid_vjp,
                       needs=True, save_out=False, node="GridSampler2DBackward0",
                       shape=lambda sx, sg, **kw: tuple(sx[:2]) + tuple(sg[1:-1]))
GRID_SAMPLE_3D = defop("grid_sampler_3d", _nodev("grid_sampler_3d_cpu"), _grid_sample_fwd, _grid_vjp,
                       needs=True, save_out=False, node="GridSampler3DBackward0",
                       shape=lambda sx, sg, **kw: tuple(sx[:2]) + tuple(sg[1:-1]))
GRID_BWD_X = defop("grid_sampler_backward_input", "promote", _grid_bwd_x_fwd,
                   _no_double("grid_sampler_2d_backward"), save_out=False,
                   shape=lambda s, sx, sg, **kw: tuple(sx))
GRID_BWD_G = defop("grid_sampler_backward_grid", "promote", _grid_bwd_grid_fwd,
                   _no_double("grid_sampler_2d_backward"), save_out=False,
                   shape=lambda s, sx, sg, **kw: tuple(sg))



# ================================================================ fused attention: softmax(q k^T * scale + mask) v
def _layout_like(xp, ref, shape, dtype):
    """An empty array of ``shape`` whose memory order follows ``ref``'s (torch's empty_like strides)."""
    perm = sorted(range(ref.ndim), key=lambda i: -ref.strides[i])
    buf = xp.empty(tuple(shape[i] for i in perm), dtype)
    return buf.transpose(tuple(np.argsort(perm)))


def _attn_compute_dtype(dt):
    return np.dtype(np.float32) if dt.itemsize < 4 else dt  # float16/bfloat16 accumulate in float32


def _attn_probs(xp, q, k, mask, scale, causal):
    """softmax(q k^T * scale + mask) over the last dim; rows with every key masked out are zeros."""
    s = xp.matmul(q, xp.swapaxes(k, -1, -2))
    s *= scale
    if mask is not None:
        if mask.dtype == np.bool_:
            s = xp.where(mask, s, -np.inf)
        elif np.broadcast_shapes(s.shape, mask.shape) == s.shape:
            s += mask
        else:
            s = s + mask
    if causal:
        L, S = s.shape[-2:]
        s += xp.triu(xp.full((L, S), -np.inf, dtype=s.dtype), 1)
    masked = causal or mask is not None
    if not s.size:  # an empty query or key axis: nothing to normalise (no max over zero keys)
        return s
    if xp is np and s.dtype == np.float32 and _K.available():  # one compiled pass per row
        return _K.softmax(_rows(s, s.shape[-1]), False, dead_zero=True).reshape(s.shape)
    if s.max() <= _EXP_SAFE[s.dtype.itemsize]:
        # no score can overflow exp: skip the per-row max shift (a slow short-axis reduction), unless a row sums
        # to (nearly) nothing -- fully masked, or far below the largest score -- then redo it with the shift
        e = xp.exp(s)
        z = e.sum(-1, keepdims=True)
        if z.min() > _SUM_SAFE[s.dtype.itemsize]:
            e /= z
            return e
    m = s.max(-1, keepdims=True)
    if masked:
        m = xp.where(m == -np.inf, 0, m)
    s -= m
    xp.exp(s, out=s)
    z = s.sum(-1, keepdims=True)
    if masked:
        z = xp.where(z == 0, 1, z)
    s /= z
    return s


# scores up to this exp without the shift, with room for sums over any realistic number of keys (float32: e^60
# times 3e12 keys is still finite), and a row sum above the second bound keeps every term that matters normal
_EXP_SAFE = {2: 10.0, 4: 60.0, 8: 600.0}
_SUM_SAFE = {2: 1e-3, 4: 1e-30, 8: 1e-300}


def _softmax_grad(xp, ds, p):
    """The gradient through the attention softmax, p * (ds - sum(ds * p)), in place of ``ds`` or fused."""
    n = _last_dim_rows(xp, -1, ds, p)
    if n is not None:
        return _K.softmax_backward(_rows(ds, n), _rows(p, n), False).reshape(ds.shape)
    t = (ds * p).sum(-1, keepdims=True)
    ds -= t
    ds *= p
    return ds


def _stashed_probs(xp, q, k, mask, scale, causal, stash, cd):
    """Attention probabilities in compute dtype ``cd`` (a float mask cast to it), kept in ``stash`` for the vjp."""
    if mask is not None and mask.dtype != np.bool_:
        mask = mask.astype(cd, copy=False)
    with np.errstate(invalid="ignore"):
        p = _attn_probs(xp, q, k, mask, scale, causal)
    if stash is not None:
        stash.append(p)
    return p


def _sdpa_fwd(xp, q, k, v, mask=None, *, scale, causal, stash=None):
    cd = _attn_compute_dtype(q.dtype)
    if q.dtype == cd and q.ndim == 4:
        shape = q.shape[:-1] + v.shape[-1:]
        o = _layout_like(xp, q, shape, q.dtype) if not q.flags.c_contiguous else xp.empty(shape, q.dtype)
        if _compiled_attention(xp, q, k, v, o, mask, scale, causal, stash):
            return o
    q_, k_, v_ = q.astype(cd, copy=False), k.astype(cd, copy=False), v.astype(cd, copy=False)
    p = _stashed_probs(xp, q_, k_, mask, scale, causal, stash, cd)
    out = xp.matmul(p, v_)
    if not q.flags.c_contiguous:  # the result takes the query's memory order, as torch's kernel gives it
        o = _layout_like(xp, q, out.shape, q.dtype)
        o[...] = out
        return o
    return out.astype(q.dtype, copy=False)


def _sdpa_vjp(g, out, q, k, v, mask=None, needs=(), *, scale, causal, stash=None):
    p = stash.pop() if stash else None  # the probabilities from the forward (one backward; a rerun recomputes)
    nm = len(needs) > 3 and needs[3]
    if not _gm.enabled:
        # no graph to build: the gradient on arrays, few temporaries
        xp = _xp(q)
        cd = _attn_compute_dtype(q._data.dtype)
        Q, K, V = (t._data.astype(cd, copy=False) for t in (q, k, v))
        G = g._data.astype(cd, copy=False)
        if p is None:
            M = None if mask is None else mask._data if mask._data.dtype == np.bool_ else mask._data.astype(cd)
            with np.errstate(invalid="ignore"):
                p = _attn_probs(xp, Q, K, M, scale, causal)
        if not nm and Q.dtype == q._data.dtype and Q.ndim == 4:
            dq, dk, dv = (xp.empty(a.shape, a.dtype) for a in (Q, K, V))
            if _compiled_attention_grad(xp, Q, K, V, G, p, dq, dk, dv, scale, causal):
                return tuple(_wrap(a, q) if n else None for a, n in zip((dq, dk, dv), needs)) + (None,)
        dv = xp.matmul(xp.swapaxes(p, -1, -2), G) if needs[2] else None
        ds = _softmax_grad(xp, xp.matmul(G, xp.swapaxes(V, -1, -2)), p)
        dm = ds.copy() if nm else None
        ds *= scale
        dq = xp.matmul(ds, K) if needs[0] else None
        dk = xp.matmul(xp.swapaxes(ds, -1, -2), Q) if needs[1] else None
        odt = q._data.dtype
        return tuple(None if a is None else _wrap(a.astype(odt, copy=False), q) for a in (dq, dk, dv)) + (
            None if dm is None else _wrap(dm.astype(mask._data.dtype, copy=False), q),)
    # building a graph (create_graph): the same formulas in ember ops, so they differentiate again
    w = q.matmul(k.transpose(-2, -1)) * scale
    dead = None
    if mask is not None:
        w = w.masked_fill(mask.logical_not(), -math.inf) if mask.dtype.category == 0 else w + mask
    if causal:
        L, S = w.shape[-2:]
        w = w.masked_fill(_const(np.triu(np.ones((L, S), dtype=bool), 1), q), -math.inf)
    pt = w.softmax(-1)
    if mask is not None or causal:
        dead = w.isneginf().all(-1, keepdim=True)
        pt = pt.masked_fill(dead, 0.0)
    dv = pt.transpose(-2, -1).matmul(g) if needs[2] else None
    dp = g.matmul(v.transpose(-2, -1))
    ds = pt * (dp - (dp * pt).sum(-1, keepdim=True))
    dm = ds if nm else None
    dq = ds.matmul(k) * scale if needs[0] else None
    dk = ds.transpose(-2, -1).matmul(q) * scale if needs[1] else None
    return dq, dk, dv, dm


def _sdpa_shape(sq, sk, sv, sm=None, **kw):
    return tuple(sq[:-1]) + (sv[-1],)


SDPA = defop("scaled_dot_product_attention", "raw", _sdpa_fwd, _sdpa_vjp, needs=True, save_out=False,
             node="ScaledDotProductFlashAttentionForCpuBackward0", shape=_sdpa_shape)


def sdpa_fused(query, key, value, mask, scale, causal):
    """The attention as one graph node (4-D inputs, no dropout): forward and gradient without the
    intermediate (batch, heads, L, S) tensors of the composite form; the probabilities are kept for backward."""
    args = (query, key, value) if mask is None else (query, key, value, mask)
    kw = {"scale": scale, "causal": causal}
    if _gm.enabled and any(isinstance(a, _T) and a._rg for a in args):
        kw["stash"] = []
    return apply(SDPA, args, kw)


def _qkv_views(a, heads):
    """(L, N, 3E) packed projections -> q, k, v as (N, heads, L, E / heads) views."""
    L, N, E3 = a.shape
    v5 = a.reshape(L, N, 3, heads, E3 // 3 // heads)
    return tuple(v5[:, :, i].transpose(1, 2, 0, 3) for i in range(3))


def _compiled_attention(xp, q, k, v, o, mask, scale, causal, stash):
    """Run the compiled attention kernel into ``o`` when it takes these arrays (float32 on the CPU, one
    batch/head shape, a float32 mask or none); True if it ran (its probabilities then go to ``stash``)."""
    if xp is not np or (mask is not None and mask.dtype != np.float32) or not _K.attention_ok(q, k, v, o):
        return False
    if mask is not None:
        try:
            np.broadcast_shapes(mask.shape, q.shape[:3] + k.shape[2:3])
        except ValueError:
            return False
    p = _K.attention(q, k, v, o, mask, scale, causal)
    if stash is not None:
        stash.append(p)
    return True


def _compiled_attention_grad(xp, Q, K, V, G, p, dq, dk, dv, scale, causal):
    """The compiled attention gradient into ``dq``, ``dk``, ``dv``; True if it ran."""
    if xp is not np or not _K.attention_ok(Q, K, V, G, dq, dk, dv) or p.dtype != np.float32 or \
            not p.flags.c_contiguous:
        return False
    _K.attention_backward(Q, K, V, G, p, dq, dk, dv, scale, causal)
    return True


def _mha_packed_fwd(xp, qkv, mask=None, *, heads, scale, causal, stash=None):
    cd = _attn_compute_dtype(qkv.dtype)
    q, k, v = _qkv_views(qkv.astype(cd, copy=False), heads)
    L, N, E3 = qkv.shape
    out = xp.empty((L, N, heads, E3 // 3 // heads), qkv.dtype)
    heads_out = out.transpose(1, 2, 0, 3)
    if qkv.dtype != cd or not _compiled_attention(xp, q, k, v, heads_out, mask, scale, causal, stash):
        heads_out[...] = xp.matmul(_stashed_probs(xp, q, k, mask, scale, causal, stash, cd), v)
    return out.reshape(L, N, E3 // 3)


def _mha_packed_vjp(g, out, qkv, mask=None, needs=(), *, heads, scale, causal, stash=None):
    p = stash.pop() if stash else None
    L, N, E3 = qkv.shape
    hd = E3 // 3 // heads
    if not _gm.enabled:
        xp = _xp(qkv)
        A = qkv._data
        cd = _attn_compute_dtype(A.dtype)
        Q, K, V = _qkv_views(A.astype(cd, copy=False), heads)
        G = g._data.astype(cd, copy=False).reshape(L, N, heads, hd).transpose(1, 2, 0, 3)
        if p is None:
            M = None if mask is None else mask._data if mask._data.dtype == np.bool_ else mask._data.astype(cd)
            with np.errstate(invalid="ignore"):
                p = _attn_probs(xp, Q, K, M, scale, causal)
        d = xp.empty((L, N, 3, heads, hd), A.dtype)  # the three gradients written straight into the packed layout
        dq, dk, dv = (d[:, :, i].transpose(1, 2, 0, 3) for i in range(3))
        if not (len(needs) > 1 and needs[1]) and A.dtype == cd and \
                _compiled_attention_grad(xp, Q, K, V, G, p, dq, dk, dv, scale, causal):
            return _wrap(d.reshape(L, N, E3), qkv), None
        dv[...] = xp.matmul(xp.swapaxes(p, -1, -2), G)
        ds = _softmax_grad(xp, xp.matmul(G, xp.swapaxes(V, -1, -2)), p)
        dm = ds.copy() if len(needs) > 1 and needs[1] else None
        ds *= scale
        dq[...] = xp.matmul(ds, K)
        dk[...] = xp.matmul(xp.swapaxes(ds, -1, -2), Q)
        return _wrap(d.reshape(L, N, E3), qkv), (None if dm is None else _wrap(dm.astype(mask._data.dtype), qkv))
    q, k, v = (qkv.reshape(L, N, 3, heads, hd).select(2, i).permute(1, 2, 0, 3) for i in range(3))
    dq, dk, dv, dm = _sdpa_vjp(g.reshape(L, N, heads, hd).permute(1, 2, 0, 3), None, q, k, v, mask,
                               (True, True, True, len(needs) > 1 and needs[1]), scale=scale, causal=causal)
    from .. import ops
    d = ops.stack([t.permute(2, 0, 1, 3) for t in (dq, dk, dv)], 2)
    return d.reshape(L, N, E3), dm


MHA_PACKED = defop("mha_packed_attention", "raw", _mha_packed_fwd, _mha_packed_vjp, needs=True, save_out=False,
                   node="ScaledDotProductFlashAttentionForCpuBackward0",
                   shape=lambda s, sm=None, **kw: tuple(s[:-1]) + (s[-1] // 3,))


def mha_packed(qkv, mask, heads, scale, causal):
    """Self-attention straight from the packed (L, N, 3E) in-projection: softmax(q k^T * scale + mask) v for
    every head, returned as (L, N, E) for the out-projection; its gradient comes back packed the same way."""
    args = (qkv,) if mask is None else (qkv, mask)
    kw = {"heads": heads, "scale": scale, "causal": causal}
    if _gm.enabled and any(isinstance(a, _T) and a._rg for a in args):
        kw["stash"] = []
    return apply(MHA_PACKED, args, kw)


# ================================================================ torch.* aliases of functional forms
def _alias(name):
    def f(*args, **kw):
        from ..nn import functional as F
        return getattr(F, name)(*args, **kw)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"torch.{name}: same as ember.nn.functional.{name}."
    return f


_ALIASES = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "avg_pool1d",
            "adaptive_avg_pool1d", "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
            "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle", "cosine_similarity",
            "pairwise_distance", "pdist", "prelu", "selu", "selu_", "celu", "celu_", "rrelu", "rrelu_", "hardshrink",
            "threshold", "threshold_", "group_norm", "layer_norm", "rms_norm", "relu_")


def _hardshrink_method(self, lambd=0.5):
    from ..nn import functional as F
    return F.hardshrink(self, lambd)


def _prelu_method(self, weight):
    from ..nn import functional as F
    return F.prelu(self, weight)


_T.hardshrink = _hardshrink_method
_T.prelu = _prelu_method


def _taken(name):
    import sys
    m = sys.modules.get("ember.ops")
    return m is not None and name in vars(m)


FUNCS = {n: _alias(n) for n in _ALIASES if not _taken(n)}  # the rest of the public forms: ember.nn.functional
