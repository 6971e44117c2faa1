"""Scans and the remaining reductions: cumsum/cumprod/cummax/cummin/logcumsumexp, diff, median,
nanmedian, mode, norm, count_nonzero, aminmax, nanmean, quantile/nanquantile, cov, corrcoef,
trapezoid, cumulative_trapezoid.

Ops that pick elements (cummax, median, mode, quantile) compute int64 indices without autograd, then
gather the values with a differentiable "take along dim" op whose gradient scatters back.
"""
import math
import warnings

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, wrap_dim
from ..autograd import grad_mode
from ._registry import OPS, _type_name, apply, apply_inplace, defop, renamed, write_out
from .reduce import _amax_vjp, _dims, _keep, _reduced_shape, return_type

cummax_rt = return_type("cummax")
cummin_rt = return_type("cummin")
median_rt = return_type("median")
nanmedian_rt = return_type("nanmedian")
mode_rt = return_type("mode")
aminmax_rt = return_type("aminmax", ("min", "max"))

_CTYPE = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
          "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
          "uint8": "unsigned char", "bool": "bool", "complex64": "c10::complex<float>",
          "complex128": "c10::complex<double>"}


def _ops():
    from .. import ops
    return ops


def _grad_enabled():
    from ..autograd import grad_mode
    return grad_mode.state.enabled


def _rdims(dim, nd):
    """Reduction dims like reduce._dims; a 0-d tensor accepts dim 0/-1 and reduces over nothing."""
    dims = _dims(dim, nd)
    return None if nd == 0 else dims


def _not_impl(kernel, dt):
    raise NotImplementedError(f"\"{kernel}\" not implemented for '{_type_name(dt)}'")


def _wrap(arr, like):
    return Tensor._make(arr, like._device)


def _xp(t):
    return t._device.backend.xp


def _argsort(xp, x, axis=-1):
    if xp is np:
        return np.argsort(x, axis=axis, kind="stable")
    return xp.argsort(x, axis=axis)  # CuPy's sort is stable


def _ar(xp, n, axis, nd):
    shape = [1] * nd
    shape[axis] = n
    return xp.arange(n).reshape(shape)


def _accumulate(xp, name, x, axis):
    """``xp.<name>.accumulate`` along ``axis`` (a log-step scan where the backend lacks it)."""
    uf = getattr(xp, name)
    try:
        return uf.accumulate(x, axis=axis)
    except (AttributeError, NotImplementedError, TypeError):
        pass
    r = x.copy()
    n, k = x.shape[axis], 1
    while k < n:
        hi = (slice(None),) * axis + (slice(k, None),)
        lo = (slice(None),) * axis + (slice(0, n - k),)
        r[hi] = uf(r[hi], r[lo])
        k *= 2
    return r


def _scatter_add(xp, shape, dim, idx, vals):
    """zeros(shape) with ``vals`` added at ``idx`` along ``dim`` (repeated indices accumulate)."""
    out = xp.zeros(shape, vals.dtype)
    nd = len(shape)
    if out.size == 0 or idx.size == 0:
        return out
    st = [1] * nd
    for i in range(nd - 2, -1, -1):
        st[i] = st[i + 1] * shape[i + 1]
    lin = idx.astype(np.int64) * st[dim]
    for k in range(nd):
        if k != dim:
            lin = lin + _ar(xp, idx.shape[k], k, nd) * st[k]
    flat = out.reshape(-1)
    v = xp.broadcast_to(vals, idx.shape).reshape(-1)
    if hasattr(xp.add, "at"):
        xp.add.at(flat, lin.reshape(-1), v)
    else:  # pragma: no cover - older CuPy
        import cupyx
        cupyx.scatter_add(flat, lin.reshape(-1), v)
    return out


def _kind(npdt):
    """NumPy's dtype kind, with ml_dtypes' bfloat16 (kind 'V') counted as floating."""
    return "f" if npdt.name == "bfloat16" else npdt.kind


# ---------------------------------------------------------------- gather along a dim, and its transpose
def _take_fwd(xp, x, idx, dim, keepdim=True):
    if x.ndim == 0:  # a 0-d input's only element (cummax, median, mode of a scalar)
        return x.copy()
    r = xp.take_along_axis(x, idx, axis=dim)
    return r if keepdim else xp.squeeze(r, axis=dim)


def _put_fwd(xp, g, idx, dim, shape):
    return _scatter_add(xp, shape, dim, idx, g)


_PUT = defop("_put_along", "raw", _put_fwd,
             lambda g, out, gin, idx, dim, shape: (apply(_TAKE, (g, idx), {"dim": dim}), None),
             save_out=False, shape=lambda g, idx, dim, shape: shape, nodiff=(1,))


def _take_vjp(g, out, x, idx, dim, keepdim=True):
    if x.dim() == 0:
        return g, None
    if not keepdim:
        g = g.unsqueeze(dim)
    return apply(_PUT, (g, idx), {"dim": dim, "shape": tuple(x.shape)}), None


def _take_shape(x, idx, dim, keepdim=True):
    return idx if keepdim else idx[:dim] + idx[dim + 1:]


def _selector(name, node):
    # the index gets no edge (torch's nodes have none for it)
    return defop(name, "raw", _take_fwd, _take_vjp, node=node, shape=_take_shape, save_out=False, nodiff=(1,),
                 save_in=(None, True) if node[:-9] in ("Median", "Nanmedian", "Mode") else True)


_TAKE = _selector("_take_along", "GatherBackward0")
_SEL = {n: _selector("_select_" + n.lower(), n + "Backward" + k) for n, k in
        [("Cummax", "0"), ("Cummin", "0"), ("Median", "1"), ("Nanmedian", "1"), ("Mode", "0")]}


def _rcumsum_fwd(xp, x, dim):
    return xp.flip(xp.cumsum(xp.flip(x, axis=dim), axis=dim), axis=dim)


_RCUMSUM = defop("_reverse_cumsum", "same", _rcumsum_fwd,
                 lambda g, out, x, dim: apply(_CUMSUM, (g,), {"dim": dim, "npdt": g.dtype.np}),
                 save_in=False, save_out=False)


def _rcumsum(t, dim):
    return apply(_RCUMSUM, (t,), {"dim": dim})


# ---------------------------------------------------------------- cumsum / cumprod
def _acc_np(npdt):
    # torch accumulates float32 scans in double (and half in float) before rounding each partial result
    if npdt == np.float32:
        return np.float64
    if _kind(npdt) == "f" and npdt.itemsize == 2:
        return np.float32
    return npdt


def _cum_fwd(kind):
    def f(xp, x, dim, npdt):
        if x.dtype != npdt:
            x = x.astype(npdt)
        if x.ndim == 0:
            return x.copy()
        acc = _acc_np(np.dtype(npdt))
        fn = xp.cumsum if kind == "sum" else xp.cumprod
        return fn(x, axis=dim, dtype=acc).astype(npdt, copy=False)
    return f


def _cumsum_vjp(g, out, x, dim, npdt):
    return g if g.dim() == 0 else _rcumsum(g, dim)


def _cumprod_vjp(g, out, x, dim, npdt):
    if x.dim() == 0 or x.numel() == 0:
        return g
    ops = _ops()
    where = ops.where
    if x.dtype != out.dtype:
        x = x.to(out.dtype)
    cx = x.conj_physical() if x.dtype.category == 3 else x
    co = out.conj_physical() if out.dtype.category == 3 else out
    # before the first zero of a slice, d out_j / d x_i = out_j / x_i; at the first zero the product
    # of the other factors is the cumprod with that zero replaced by one; after it, zero
    is0 = x == 0
    nz = is0.cumsum(dim)
    before = nz == 0
    res = where(before, _rcumsum(g * co, dim) / where(before, cx, 1), 0.0)
    first = is0 & (nz == 1)
    if bool(first.any()):
        x1 = where(first, 1, cx)
        y1 = apply(_CUMPROD, (x1,), {"dim": dim, "npdt": x1.dtype.np})
        res = res + where(first, _rcumsum(g * y1, dim), 0.0)
    return res


# (no meta shape rules for ops whose output dtype differs from the input's: meta runs the forward)
_CUMSUM = defop("cumsum", "raw", _cum_fwd("sum"), _cumsum_vjp, save_in=False, save_out=False)
_CUMPROD = defop("cumprod", "raw", _cum_fwd("prod"), _cumprod_vjp)


def _cum_dtype(kernel, input, dtype, out):
    if dtype is not None:
        dt = D.to_dtype(dtype)
    elif out is not None:
        dt = out.dtype
    else:
        dt = D.int64 if input.dtype.category <= 1 else input.dtype
    if dt is D.bool_:
        _not_impl(kernel, dt)
    return dt


def _cum(op, kernel, input, dim, dtype, out):
    d = wrap_dim(dim, input._data.ndim)
    dt = _cum_dtype(kernel, input, dtype, out)
    r = apply(op, (input,), {"dim": d, "npdt": dt.np})
    return r if out is None else write_out(out, r)


def cumsum(input, dim, *, dtype=None, out=None):
    """Cumulative sum along ``dim``; bool/integer inputs accumulate in int64 unless ``dtype`` is given."""
    return _cum(_CUMSUM, "cumsum_out_cpu", input, dim, dtype, out)


def cumprod(input, dim, *, dtype=None, out=None):
    """Cumulative product along ``dim`` (gradient exact when the input has zeros)."""
    return _cum(_CUMPROD, "cumprod_out_cpu", input, dim, dtype, out)


def _cum_inplace(op):
    def f(self, dim, *, dtype=None):
        d = wrap_dim(dim, self._data.ndim)
        if dtype is not None and D.to_dtype(dtype) is not self.dtype:
            raise RuntimeError(f"Bad in-place call: input tensor dtype {_CTYPE[self.dtype.name]} and output "
                               f"tensor dtype {_CTYPE[D.to_dtype(dtype).name]} should match")
        return apply_inplace(op, self, (), {"dim": d, "npdt": self.dtype.np})
    return f


# ---------------------------------------------------------------- cummax / cummin
def _cumext_idx_fwd(xp, x, dim, which):
    if x.ndim == 0:
        return xp.zeros((), np.int64)
    vals = _accumulate(xp, "maximum" if which == "max" else "minimum", x, dim)
    chosen = x == vals
    if _kind(x.dtype) == "f":
        chosen = chosen | xp.isnan(x)  # a NaN becomes (and stays) the running extreme
    n = x.shape[dim]
    cand = xp.where(chosen, _ar(xp, n, dim, x.ndim), 0)
    # ties pick the latest index, as torch does
    return _accumulate(xp, "maximum", cand, dim).astype(np.int64)


_CUMEXT_IDX = defop("_cumext_indices", "raw", _cumext_idx_fwd)


def _cumext(which, input, dim, out):
    name = "cum" + which
    if input.dtype.category == 3:
        _not_impl(f"{name}_cpu", input.dtype)
    d = wrap_dim(dim, input._data.ndim)
    idx = apply(_CUMEXT_IDX, (input,), {"dim": d, "which": which})
    sel = _SEL["Cummax" if which == "max" else "Cummin"]
    vals = apply(sel, (input, idx), {"dim": d})  # (a 0-d input: its element, still torch's node)
    r = (cummax_rt if which == "max" else cummin_rt)(vals, idx)
    return _write_pair(out, r)


_OUT_RT = {}


def _write_pair(out, r):
    """Return ``r``, or copy it into the ``out=(a, b)`` tensors and return them as ``<name>_out``."""
    if out is None:
        return r
    write_out(out[0], r[0])
    write_out(out[1], r[1])
    name = type(r).__name__
    rt = _OUT_RT.get(name)
    if rt is None:
        rt = _OUT_RT[name] = return_type(name + "_out", type(r)._fields)
    return rt(out[0], out[1])


def cummax(input, dim, *, out=None):
    """Running maximum along ``dim`` and the index where it was attained (latest on ties)."""
    return _cumext("max", input, dim, out)


def cummin(input, dim, *, out=None):
    """Running minimum along ``dim`` and the index where it was attained (latest on ties)."""
    return _cumext("min", input, dim, out)


# ---------------------------------------------------------------- logcumsumexp
def _lcse_fwd(xp, x, dim, reverse):
    if x.ndim == 0:
        return x.copy()
    if reverse:
        x = xp.flip(x, axis=dim)
    if _kind(x.dtype) == "c":
        m = xp.max(x.real, axis=dim, keepdims=True) if x.shape[dim] else xp.zeros((), x.real.dtype)
        m = xp.where(xp.isfinite(m), m, 0)
        with np.errstate(all="ignore"):
            r = xp.log(xp.cumsum(xp.exp(x - m), axis=dim)) + m
    else:
        with np.errstate(all="ignore"):
            r = _accumulate(xp, "logaddexp", x, dim)
    r = r.astype(x.dtype, copy=False)
    return xp.flip(r, axis=dim) if reverse else r


def _lcse_vjp(g, out, x, dim, reverse):
    if x.dim() == 0:
        return g
    ops = _ops()
    where = ops.where
    if x.dtype.category == 3:
        # grad_i = conj(exp(x_i)) * sum_{j >= i} g_j conj(exp(-out_j))
        gf = g * (-out).exp().conj_physical()
        s = apply(_CUMSUM, (gf,), {"dim": dim, "npdt": gf.dtype.np}) if reverse else _rcumsum(gf, dim)
        return x.exp().conj_physical() * s
    # grad_i = sum_{j >= i} g_j exp(x_i - out_j): split g by sign and sum the logs with the reverse scan
    a = g.abs()
    la = where(a == 0, 1.0, a).log()
    # a huge finite stand-in for log(0): -inf would make 0 * inf = NaN in double backward
    ninf = -float(np.finfo(np.float64 if x.dtype is D.float64 else np.float32).max) / 4
    lpos = where(g > 0, la, ninf)
    lneg = where(g < 0, la, ninf)
    rev = {"dim": dim, "reverse": not reverse}
    pos = (apply(_LCSE, (lpos - out,), rev) + x).exp()
    neg = (apply(_LCSE, (lneg - out,), rev) + x).exp()
    return pos - neg


_LCSE = defop("logcumsumexp", "same", _lcse_fwd, _lcse_vjp, shape=lambda s, dim, reverse: s)


def logcumsumexp(input, dim, *, out=None):
    """log(cumsum(exp(input))) along ``dim``, computed without overflow."""
    if input.dtype.category <= 1:
        _not_impl("logcumsumexp_out_cpu", input.dtype)
    d = wrap_dim(dim, input._data.ndim)
    r = apply(_LCSE, (input,), {"dim": d, "reverse": False})
    return r if out is None else write_out(out, r)


# ---------------------------------------------------------------- diff (with a private concatenation)
def _concat_fwd(xp, *arrs, dim, npdt, sizes):
    return xp.concatenate([a.astype(npdt, copy=False) for a in arrs], axis=dim)


def _concat_vjp(g, out, *inputs, needs, dim, npdt, sizes):
    res, start = [], 0
    for n, need in zip(sizes, needs):
        res.append(g.narrow(dim, start, n) if need else None)
        start += n
    return tuple(res)


_CONCAT = defop("_concat", "raw", _concat_fwd, _concat_vjp, needs=True, save_in=False, save_out=False,
                node="CatBackward0")


def _check_side(input, t, d, name):
    if not isinstance(t, Tensor):
        raise TypeError(f"diff(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if t._data.ndim != input._data.ndim:
        raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    for i in range(input._data.ndim):
        if i != d and t.shape[i] != input.shape[i]:
            raise RuntimeError(f"diff expects the shape of tensor to prepend or append to match that of input "
                               f"except along the differencing dimension; input.size({i}) = {input.shape[i]}, "
                               f"but got tensor.size({i}) = {t.shape[i]}")


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """n-th forward difference along ``dim``, optionally after concatenating ``prepend``/``append``."""
    if input._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    if n == 0:  # torch: a copy of the input (CopyBackwards), prepend / append ignored
        return _ops().zeros_like(input).copy_(input)
    d = wrap_dim(dim, input._data.ndim)
    parts = []
    for name, side in (("prepend", prepend), ("input", input), ("append", append)):
        if side is None:
            continue
        if side is not input:
            _check_side(input, side, d, name)
        parts.append(side)
    x = input
    if len(parts) > 1:
        dt = parts[0].dtype
        for p in parts[1:]:
            dt = D.promote_types(dt, p.dtype)
        x = apply(_CONCAT, tuple(parts), {"dim": d, "npdt": dt.np, "sizes": tuple(p.shape[d] for p in parts)})
    for _ in range(n):
        L = x.shape[d]
        if L == 0:
            break
        hi, lo = x.narrow(d, 1, L - 1), x.narrow(d, 0, L - 1)
        x = (hi != lo) if x.dtype is D.bool_ else hi - lo
    return x


# ---------------------------------------------------------------- median / nanmedian
def _median_all_fwd(xp, x, ignore_nan):
    f = x.reshape(-1)
    if f.size == 0:
        return xp.full((), np.nan, x.dtype) if _kind(x.dtype) == "f" else xp.zeros((), x.dtype)
    s = xp.sort(f)  # NaN sorts last
    if _kind(x.dtype) != "f":
        return xp.asarray(s[(f.size - 1) // 2]).copy()
    nn = int(xp.isnan(f).sum())
    if nn and not ignore_nan:
        return xp.asarray(s[-1]).copy()
    valid = f.size - nn
    return xp.asarray(s[max(valid - 1, 0) // 2]).copy()


def _median_all_vjp(g, out, x, ignore_nan):
    # the gradient is shared evenly by every element equal to the median, as in torch
    mask = x == out
    return g * mask / mask.sum()


_MEDIAN_ALL = defop("median", "raw", _median_all_fwd, _median_all_vjp, shape=lambda s, ignore_nan: ())
_NANMEDIAN_ALL = defop("nanmedian", "raw", _median_all_fwd, _median_all_vjp, shape=lambda s, ignore_nan: ())


def _median_idx_fwd(xp, x, dim, ignore_nan):
    n = x.shape[dim]
    order = _argsort(xp, x, dim)
    if _kind(x.dtype) == "f":
        nn = xp.isnan(x).sum(axis=dim, keepdims=True)
        if ignore_nan:
            pos = xp.maximum(n - nn - 1, 0) // 2
        else:
            # any NaN: the median is NaN, reported at the first NaN (NaNs sort last, stably)
            pos = xp.where(nn > 0, n - nn, (n - 1) // 2)
    else:
        pos = xp.full(x.shape[:dim] + (1,) + x.shape[dim + 1:], (n - 1) // 2)
    return xp.take_along_axis(order, pos.astype(np.int64), axis=dim).astype(np.int64)


_MEDIAN_IDX = defop("_median_indices", "raw", _median_idx_fwd)


def _median_impl(name, input, dim, keepdim, out, ignore_nan):
    if input.dtype.category == 3 or input.dtype is D.bool_:
        _not_impl(f"{name}_cpu", input.dtype)
    if dim is None:
        r = apply(_NANMEDIAN_ALL if ignore_nan else _MEDIAN_ALL, (input,), {"ignore_nan": ignore_nan})
        return r if out is None else write_out(out, r)
    rt = nanmedian_rt if ignore_nan else median_rt
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    if nd == 0:
        idx = _wrap(_xp(input).zeros((), np.int64), input)
        vals = apply(_SEL["Nanmedian" if ignore_nan else "Median"], (input, idx),
                     {"dim": 0, "keepdim": False})  # torch's node even for a 0-d input
        return _write_pair(out, rt(vals, idx))
    if input.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    idx = apply(_MEDIAN_IDX, (input,), {"dim": d, "ignore_nan": ignore_nan})
    vals = apply(_SEL["Nanmedian" if ignore_nan else "Median"], (input, idx), {"dim": d, "keepdim": keepdim})
    if not keepdim:
        idx = idx.squeeze(d)
    return _write_pair(out, rt(vals, idx))


def median(input, dim=None, keepdim=False, *, out=None):
    """Lower median of all elements, or (values, indices) along ``dim``; NaN if the slice has a NaN."""
    return _median_impl("median", input, dim, keepdim, out, False)


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """Like ``median`` but ignoring NaNs (NaN only when a slice is all NaN)."""
    return _median_impl("nanmedian", input, dim, keepdim, out, True)


# ---------------------------------------------------------------- mode
def _mode_idx_fwd(xp, x, dim):
    xt = xp.moveaxis(x, dim, -1)
    lead = xt.shape[:-1]
    n = xt.shape[-1]
    b = int(np.prod(lead)) if lead else 1
    x2 = xt.reshape(b, n)
    order = _argsort(xp, x2, -1)
    s = xp.take_along_axis(x2, order, axis=-1)
    new = xp.ones((b, n), bool)
    new[:, 1:] = s[:, 1:] != s[:, :-1]
    run = xp.cumsum(new, axis=1) - 1
    flat = (xp.arange(b)[:, None] * n + run).reshape(-1)
    counts = xp.bincount(flat, minlength=b * n).reshape(b, n)
    best = xp.argmax(counts, axis=1)  # first maximal run: the smallest of the most frequent values
    ends = xp.cumsum(counts, axis=1) - 1
    pos = xp.take_along_axis(ends, best[:, None], axis=1)
    # the run's last element in stable order is the value's last occurrence, which torch reports
    idx = xp.take_along_axis(order, pos, axis=1).reshape(lead + (1,))
    return xp.moveaxis(idx, -1, dim).astype(np.int64)


_MODE_IDX = defop("_mode_indices", "raw", _mode_idx_fwd)


def mode(input, dim=-1, keepdim=False, *, out=None):
    """Most frequent value along ``dim`` (smallest on ties) and the index of its last occurrence."""
    if input.dtype.category == 3:
        _not_impl("mode_cpu", input.dtype)
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    if nd == 0:
        idx = _wrap(_xp(input).zeros((), np.int64), input)
        vals = apply(_SEL["Mode"], (input, idx), {"dim": 0, "keepdim": False})
        return _write_pair(out, mode_rt(vals, idx))
    if input.shape[d] == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    if input._data.size == 0:
        shp = _reduced_shape(tuple(input.shape), (d,), keepdim)
        ops = _ops()
        return _write_pair(out, mode_rt(ops.empty(shp, dtype=input.dtype, device=input.device),
                                        ops.empty(shp, dtype=D.int64, device=input.device)))
    idx = apply(_MODE_IDX, (input,), {"dim": d})
    vals = apply(_SEL["Mode"], (input, idx), {"dim": d, "keepdim": keepdim})
    if not keepdim:
        idx = idx.squeeze(d)
    return _write_pair(out, mode_rt(vals, idx))


# ---------------------------------------------------------------- norms
def _fmt_ord(p):
    if isinstance(p, float) and p.is_integer():
        return str(int(p))
    return str(p)


def _vnorm_fwd(xp, x, ord, dims, keepdim):
    a = xp.abs(x)
    rdt = a.dtype
    if x.size == 0 and (ord < 0 or ord == math.inf):
        if dims is None:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {_fmt_ord(ord)} norm on an empty tensor "
                               f"because the operation does not have an identity")
        for d in dims:
            if x.shape[d] == 0:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {_fmt_ord(ord)} norm on the dimension "
                                   f"{d}because this dimension is empty and the operation does not have an "
                                   f"identity")
    with np.errstate(all="ignore"):
        if ord == 0:
            r = xp.sum(a != 0, axis=dims, keepdims=keepdim, dtype=rdt)
        elif ord == math.inf:
            r = xp.max(a, axis=dims, keepdims=keepdim)
        elif ord == -math.inf:
            r = xp.min(a, axis=dims, keepdims=keepdim)
        elif ord == 1:
            r = xp.sum(a, axis=dims, keepdims=keepdim)
        elif ord == 2:
            r = xp.sqrt(xp.sum(a * a, axis=dims, keepdims=keepdim))
        else:
            r = xp.sum(a ** ord, axis=dims, keepdims=keepdim) ** (1.0 / ord)
    return xp.asarray(r).astype(rdt, copy=False)


def _vnorm_vjp(g, out, x, ord, dims, keepdim):
    if ord == 0:
        return None
    where = _ops().where
    nd = x.dim()
    g = _keep(g, nd, dims, keepdim)
    o = _keep(out, nd, dims, keepdim)
    if ord == 1:
        return g * x.sgn()
    if ord == 2:
        return g * where(o == 0, 0.0, x / where(o == 0, 1.0, o))
    a = x.abs()
    if ord in (math.inf, -math.inf):
        mask = a == o
        cnt = mask.sum(dim=dims, keepdim=True) if dims is not None else mask.sum().reshape((1,) * nd)
        return g * x.sgn() * mask / cnt
    # d ||x||_p / dx = x |x|^(p-2) / ||x||^(p-1), taken as 0 where x or the norm is 0
    safe_a = where(a == 0, 1.0, a)
    safe_o = where(o == 0, 1.0, o)
    r = x * safe_a ** (ord - 2) / safe_o ** (ord - 1)
    return g * where((a == 0) | (o == 0), 0.0, r)


_VNORM = defop("linalg_vector_norm", "raw", _vnorm_fwd, _vnorm_vjp)


def vector_norm(input, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector ``ord``-norm over ``dim`` (all elements when None), as torch.linalg.vector_norm."""
    if input.dtype.category < 2:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_type_name(input.dtype)}")
    if dtype is not None:
        dt = D.to_dtype(dtype)
        if dt.category < 2:
            raise RuntimeError(f"linalg.vector_norm: dtype should be floating point or complex, but got "
                               f"{_type_name(dt)}")
        if input.dtype.category == 2 and dt.category == 3:
            raise RuntimeError(f"linalg.vector_norm: dtype should be real for real inputs, but got "
                               f"{_type_name(dt)}")
        if input.dtype.category == 3 and dt.category == 2:
            raise RuntimeError(f"linalg.vector_norm: dtype should be complex for complex inputs, but got "
                               f"{_type_name(dt)}")
        if D.promote_types(input.dtype, dt) is not dt:
            raise RuntimeError(f"linalg.vector_norm: the dtype of the input ({_type_name(input.dtype)}) should be "
                               f"convertible without narrowing to the specified dtype ({_type_name(dt)})")
        if dt is not input.dtype:
            input = input.to(dt)
    dims = _rdims(dim, input._data.ndim)
    return apply(_VNORM, (input,), {"ord": float(ord), "dims": dims, "keepdim": bool(keepdim)})


def _svdvals_fwd(xp, x):
    if x.shape[-1] == 0 or x.shape[-2] == 0:
        return xp.zeros(x.shape[:-2] + (0,), x.real.dtype)
    return xp.linalg.svd(x, compute_uv=False)


# the singular values alone, for a norm that needs no gradient (with one, torch goes through the SVD)
_SVDVALS = defop("linalg_svdvals", "raw", _svdvals_fwd, save_out=False)


def _matrix_norm(input, ord, dim, keepdim, dtype):
    if ord not in ("fro", "nuc"):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if input._data.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    dims = list(range(input._data.ndim)) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    if len(dims) != 2:
        raise RuntimeError("linalg.matrix_norm: dim must be a 2-tuple. Got " + " ".join(str(d) for d in dims))
    nd = input._data.ndim
    d0, d1 = wrap_dim(dims[0], nd), wrap_dim(dims[1], nd)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dims[0]}, {dims[1]})")
    if ord == "fro":
        return vector_norm(input, 2, (d0, d1), keepdim, dtype=dtype)
    if dtype is not None:
        input = input.to(D.to_dtype(dtype))
    if input.dtype.category < 2:
        raise RuntimeError(f"linalg.matrix_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_type_name(input.dtype)}")
    x = input.movedim((d0, d1), (-2, -1))
    if x._rg and grad_mode.state.enabled:
        from .linalg_ext import svdvals  # (linalg_ext imports this module)
        r = svdvals(x).sum(-1)  # torch's node: LinalgSvdBackward0, the S output of the SVD
    else:
        r = apply(_SVDVALS, (x,), {}).sum(-1)
    if keepdim:
        for d in sorted((d0, d1)):
            r = r.unsqueeze(d)
    return r


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """torch.norm: 'fro' and numbers are vector norms over ``dim``; 'nuc' is the nuclear matrix norm."""
    if isinstance(dim, (int, np.integer)):
        dim = (int(dim),)
    if isinstance(p, str):
        if p == "fro" and (dim is None or len(dim) <= 2):
            r = vector_norm(input, 2, dim, keepdim, dtype=dtype)
        else:
            r = _matrix_norm(input, p, dim, keepdim, dtype)
    else:
        r = vector_norm(input, 2.0 if p is None else p, dim, keepdim, dtype=dtype)
    return r if out is None else write_out(out, r)


# ---------------------------------------------------------------- count_nonzero, aminmax, nanmean
_COUNT_NZ = defop("count_nonzero", "raw",
                  lambda xp, x, dims: xp.asarray(xp.count_nonzero(x, axis=dims)).astype(np.int64))


def count_nonzero(input, dim=None):
    """Number of nonzero elements, over ``dim`` (an int or a tuple) or in total."""
    return apply(_COUNT_NZ, (input,), {"dims": _rdims(dim, input._data.ndim)})


def _mm_fwd(which):
    def f(xp, x, dims, keepdim, nd):
        fn = xp.min if which == "min" else xp.max
        return fn(x, axis=dims, keepdims=keepdim)
    return f


_AMM_MIN = defop("aminmax_min", "raw", _mm_fwd("min"), _amax_vjp, node="AminmaxBackward0",
                 shape=lambda s, dims, keepdim, nd: _reduced_shape(s, dims, keepdim))
_AMM_MAX = defop("aminmax_max", "raw", _mm_fwd("max"), _amax_vjp, node="AminmaxBackward0",
                 shape=lambda s, dims, keepdim, nd: _reduced_shape(s, dims, keepdim))


def aminmax(input, *, dim=None, keepdim=False, out=None):
    """(min, max) over all elements or along ``dim``, in one call."""
    if input.dtype.category == 3:
        _not_impl("aminmax_cpu", input.dtype)
    nd = input._data.ndim
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has "
                               "no identity.")
        dims = None
    else:
        d = wrap_dim(dim, nd)
        if nd and input.shape[d] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {d} to have non-zero size.")
        dims = (d,) if nd else None
    kw = {"dims": dims, "keepdim": bool(keepdim), "nd": nd}
    r = aminmax_rt(apply(_AMM_MIN, (input,), kw), apply(_AMM_MAX, (input,), kw))
    return _write_pair(out, r)


_NANSUM = defop("_nansum", "same",
                lambda xp, x, dims, keepdim: xp.sum(xp.where(xp.isnan(x), 0, x), axis=dims, keepdims=keepdim),
                lambda g, out, x, dims, keepdim: _keep(g, x.dim(), dims, keepdim) * x.isnan().logical_not(),
                save_out=False, shape=lambda s, dims, keepdim: _reduced_shape(s, dims, keepdim))


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean over ``dim`` ignoring NaNs (NaN where a slice is all NaN)."""
    if input.dtype.category < 2:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{_type_name(input.dtype)}")
    if dtype is not None:
        input = input.to(D.to_dtype(dtype))
    dims = _rdims(dim, input._data.ndim)
    s = apply(_NANSUM, (input,), {"dims": dims, "keepdim": bool(keepdim)})
    cnt = input.isnan().logical_not().sum(dim=dims, keepdim=keepdim) if dims is not None else \
        input.isnan().logical_not().sum().reshape((1,) * input._data.ndim if keepdim else ())
    with np.errstate(all="ignore"):
        r = s / cnt
    return r if out is None else write_out(out, r)


# ---------------------------------------------------------------- quantile / nanquantile
_INTERP = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, out):
    if not isinstance(input, Tensor):
        raise TypeError(f"quantile(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if input.dtype not in (D.float32, D.float64):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    qt = isinstance(q, Tensor)
    if qt:
        if q._data.ndim > 1:
            raise RuntimeError("quantile() q must be a scalar or 1D tensor")
        if q.dtype is not input.dtype:
            raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
        qh = np.asarray(q.detach().cpu()._data, dtype=np.float64) if q._device.type != "meta" else \
            np.zeros(q.shape)
        if ((qh < 0) | (qh > 1)).any():
            raise RuntimeError("quantile() q values must be in the range [0, 1]")
    else:
        if not 0 <= q <= 1:
            raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {q}")
    if interpolation not in _INTERP:
        raise RuntimeError(f"quantile() interpolation must be one of linear, lower, higher, midpoint or nearest, "
                           f"but got {interpolation}")
    if input._data.size == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    # torch's steps, each a node of its graph: sort the values along the last dim (all of them flattened, or
    # ``dim`` moved last by an unsqueeze and a transpose), view them as (result shape..., n), gather the two
    # neighbouring ranks and lerp between them; the quantiles' dim goes first and the last size-1 dim away
    # with in-place view ops
    nd = input._data.ndim
    if dim is None:
        x = input.flatten()
        kept = (1,) * nd if keepdim else ()
    else:
        d = wrap_dim(dim, nd)
        x = input if d == nd - 1 else input.unsqueeze(-1).transpose(d, -1)
        kept = tuple(1 if i == d else n for i, n in enumerate(input.shape) if keepdim or i != d)
    n = x.shape[-1] if x._data.ndim else 1
    srt = x.sort(dim=-1)[0].view(kept + (n,))
    xp = _xp(input)
    arr = srt._data
    qa = (q._data.reshape(-1) if q._device is input._device else xp.asarray(q.detach().cpu()._data).reshape(-1)) \
        if qt else xp.asarray([q], dtype=arr.dtype)
    qa = qa.astype(arr.dtype)
    if input._device.type == "meta":  # stand-in data: any in-range ranks give the right shapes
        arr, qa = xp.zeros(arr.shape, arr.dtype), xp.zeros(qa.shape, arr.dtype)
    nn = xp.isnan(arr).sum(axis=-1, keepdims=True)  # NaNs sort last
    if ignore_nan:
        last = (n - nn - 1).astype(arr.dtype)
        rank = xp.where(nn == n, 0, qa * last)
    else:
        last = xp.full(nn.shape, n - 1, arr.dtype)
        rank = xp.where(nn > 0, arr.dtype.type(n - 1), qa * last)
    lo = xp.floor(rank)
    hi = xp.ceil(rank)
    if interpolation == "lower":
        hi = lo
    elif interpolation == "higher":
        lo = hi
    elif interpolation == "nearest":
        lo = hi = xp.round(rank)
    v = srt.gather(-1, _wrap(xp.ascontiguousarray(lo.astype(np.int64)), x))
    if interpolation in ("linear", "midpoint"):
        vhi = srt.gather(-1, _wrap(xp.ascontiguousarray(hi.astype(np.int64)), x))
        if interpolation == "midpoint":
            wt = _wrap(xp.full(rank.shape, 0.5, arr.dtype), x)
        elif qt and q._rg and _grad_enabled():
            # the weight depends on q: keep it on the graph so q gets a gradient, as in torch
            if ignore_nan:
                r = q * _wrap(last, x)  # negative only for an all-NaN slice (last == -1)
                r = r.masked_fill(_wrap(r._data < 0, x), 0)
            else:
                r = apply(_MUL_SCALAR, (q, n - 1), {})
                r = (r if tuple(r.shape) == rank.shape else r.expand(rank.shape)).masked_fill(
                    _wrap(xp.broadcast_to(nn > 0, rank.shape), x), n - 1)
            wt = r - _wrap(lo, x)
        else:
            wt = _wrap(xp.ascontiguousarray(rank - lo), x)
        v = _ops().lerp(v, vhi, wt)
    if qt and q._data.ndim == 1:
        v = v.unsqueeze_(0).transpose_(0, -1)
    v = v.squeeze_(-1)
    return v if out is None else write_out(out, v)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """q-th quantiles of ``input`` (over ``dim``, or of all elements), with torch's interpolation modes."""
    return _quantile(input, q, dim, keepdim, interpolation, False, out)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """Like ``quantile`` but ignoring NaNs."""
    return _quantile(input, q, dim, keepdim, interpolation, True, out)


# ---------------------------------------------------------------- cov / corrcoef
def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the rows (variables) of ``input`` over its columns (observations)."""
    if input._data.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input._data.ndim} dimensions")
    if input.dtype is D.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = input if input._data.ndim == 2 else input.reshape(1, -1)
    if x.dtype.category < 2:
        x = x.to(D.get_default_dtype())
    nobs = x.shape[1]
    w = None
    for name, t in (("fweights", fweights), ("aweights", aweights)):
        if t is None:
            continue
        if t._data.ndim > 1:
            raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with "
                               f"{t._data.ndim} dimensions")
        if t._data.size != nobs:
            raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the "
                               f"input but got {t._data.size} != {nobs}")
        if name == "fweights" and t.dtype.category != 1:
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights with "
                               f"{_type_name(t.dtype)} dtype")
        if name == "aweights" and t.dtype.category != 2:
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got aweights with "
                               f"{_type_name(t.dtype)} dtype")
        if t._device.type != "meta" and bool((t < 0).any()):
            raise RuntimeError(f"cov(): {name} cannot be negative")
        w = t if w is None else w * t
    with np.errstate(all="ignore"):
        if w is None:
            wsum = float(nobs)
            avg = x.sum(1) / wsum  # torch's steps (SumBackward1, DivBackward0), not a mean
            nf = wsum - correction
        else:
            wsum = w.sum()
            avg = (x * w).sum(1) / wsum
            if aweights is None or correction == 0:
                nf = wsum - correction
            else:
                nf = wsum - apply(_MUL_SCALAR, ((w * aweights).sum(), correction), {}) / wsum
        nfv = nf if isinstance(nf, float) else (float(nf) if nf._device.type != "meta" else 1.0)
        if nfv <= 0:
            warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number "
                          "of observations.")
            nf = 0.0 if isinstance(nf, float) else nf.clamp(min=0)
        xm = x - avg.unsqueeze(1)
        xw = (xm if w is None else xm * w).t()
        xw = xw.conj_physical() if xw.dtype.category == 3 else xw
        c = (xm @ xw) / nf  # torch's operand order: the weighted side second
    return c.squeeze()  # as torch: also a 1 x 1 covariance of one variable becomes 0-d


def corrcoef(input):
    """Pearson correlation coefficients of the rows of ``input``, clipped to [-1, 1]."""
    c = cov(input)
    with np.errstate(all="ignore"):
        if c._data.ndim == 0:
            return c / c
        d = c.diagonal()
        sd = d.sqrt()
        c = c / sd.view(-1, 1)
        c = c / sd.view(1, -1)
    if c.dtype.category == 3:
        return c.real.clip(-1, 1) + c.imag.clip(-1, 1) * 1j
    return c.clip(-1, 1)


# ---------------------------------------------------------------- trapezoid
def _trap_args(name, y, x, dx, dim):
    if x is not None and not isinstance(x, Tensor) or (x is not None and dx is not None):
        got = ", ".join(["Tensor"] + ([type(x).__name__ if not isinstance(x, Tensor) else "Tensor"]) +
                        ([f"dx={type(dx).__name__}"] if dx is not None else []))
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({got}), but expected one "
                        f"of:\n * (Tensor y, Tensor x, *, int dim = -1)\n * (Tensor y, *, Number dx = 1, int dim "
                        f"= -1)\n")


def _trap_dx(y, x, d):
    if x._data.ndim == 1:
        if x.shape[0] != y.shape[d]:
            raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
        shape = [1] * y._data.ndim
        shape[d] = -1
        x = x.view(shape)  # torch views x along dim first
    lead = (slice(None),) * d
    return x[lead + (slice(1, None),)] - x[lead + (slice(None, -1),)]  # sliced (not diff) also when empty


# torch's Scalar overloads (a number kept as a Scalar, not wrapped as a tensor) have their own node names
_MUL_SCALAR, _DIV_SCALAR = renamed(OPS["mul"], "MulBackward1"), renamed(OPS["div"], "DivBackward1")


def _shape_check(*shapes):
    from .pointwise import broadcast_shapes
    return broadcast_shapes(*shapes)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """Integral of ``y`` along ``dim`` by the trapezoidal rule (spacing ``dx`` or sample points ``x``)."""
    _trap_args("trapezoid", y, x, dx, dim)
    if y._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = wrap_dim(dim, y._data.ndim)
    n = y.shape[d]
    if x is None:
        step = 1 if dx is None else dx
        if n == 0:
            return _ops().zeros(_reduced_shape(tuple(y.shape), (d,), False), dtype=y.dtype, device=y.device)
        ends = apply(_MUL_SCALAR, (y.select(d, 0) + y.select(d, -1), 0.5), {})
        return apply(_MUL_SCALAR, (y.sum(d) - ends, step), {})
    if n == 0:
        return _ops().zeros(_reduced_shape(tuple(y.shape), (d,), False), dtype=y.dtype, device=y.device)
    dxt = _trap_dx(y, x, d)
    mid = y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)
    _shape_check(tuple(mid.shape), tuple(dxt.shape))
    return apply(_DIV_SCALAR, ((mid * dxt).sum(d), 2), {})


def trapz(y, x=None, *, dx=None, dim=-1):
    """Alias of ``trapezoid`` (torch.trapz)."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """Running trapezoidal integral of ``y`` along ``dim`` (one element shorter than ``y``)."""
    _trap_args("cumulative_trapezoid", y, x, dx, dim)
    if y._data.ndim == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, y._data.ndim)
    lead = (slice(None),) * d
    mid = y[lead + (slice(1, None),)] + y[lead + (slice(None, -1),)]  # both empty when y is
    if x is None:
        step = 1 if dx is None else dx
        area = apply(_MUL_SCALAR, (mid, step / 2), {})  # torch's one MulBackward1 by dx / 2
    else:
        dxt = _trap_dx(y, x, d)
        _shape_check(tuple(mid.shape), tuple(dxt.shape))
        return apply(_DIV_SCALAR, (cumsum(mid * dxt, d), 2), {})
    return cumsum(area, d)


# ---------------------------------------------------------------- Tensor methods
_T = Tensor
_T.cumsum = lambda self, dim, *, dtype=None: cumsum(self, dim, dtype=dtype)
_T.cumprod = lambda self, dim, *, dtype=None: cumprod(self, dim, dtype=dtype)
_T.cumsum_ = _cum_inplace(_CUMSUM)
_T.cumprod_ = _cum_inplace(_CUMPROD)
_T.cummax = lambda self, dim: cummax(self, dim)
_T.cummin = lambda self, dim: cummin(self, dim)
_T.logcumsumexp = lambda self, dim: logcumsumexp(self, dim)
_T.diff = lambda self, n=1, dim=-1, prepend=None, append=None: diff(self, n, dim, prepend, append)
_T.median = lambda self, dim=None, keepdim=False: median(self, dim, keepdim)
_T.nanmedian = lambda self, dim=None, keepdim=False: nanmedian(self, dim, keepdim)
_T.mode = lambda self, dim=-1, keepdim=False: mode(self, dim, keepdim)
_T.norm = lambda self, p="fro", dim=None, keepdim=False, dtype=None: norm(self, p, dim, keepdim, dtype=dtype)
_T.count_nonzero = lambda self, dim=None: count_nonzero(self, dim)
_T.aminmax = lambda self, *, dim=None, keepdim=False: aminmax(self, dim=dim, keepdim=keepdim)
_T.nanmean = lambda self, dim=None, keepdim=False, *, dtype=None: nanmean(self, dim, keepdim, dtype=dtype)
_T.quantile = lambda self, q, dim=None, keepdim=False, *, interpolation="linear": quantile(
    self, q, dim, keepdim, interpolation=interpolation)
_T.nanquantile = lambda self, q, dim=None, keepdim=False, *, interpolation="linear": nanquantile(
    self, q, dim, keepdim, interpolation=interpolation)
_T.cov = lambda self, *, correction=1, fweights=None, aweights=None: cov(self, correction=correction,
                                                                        fweights=fweights, aweights=aweights)
_T.corrcoef = corrcoef

FUNCS = dict(cumsum=cumsum, cumprod=cumprod, cummax=cummax, cummin=cummin, logcumsumexp=logcumsumexp, diff=diff,
             median=median, nanmedian=nanmedian, mode=mode, norm=norm, count_nonzero=count_nonzero,
             aminmax=aminmax, nanmean=nanmean, quantile=quantile, nanquantile=nanquantile, cov=cov,
             corrcoef=corrcoef, trapezoid=trapezoid, trapz=trapz, cumulative_trapezoid=cumulative_trapezoid)
