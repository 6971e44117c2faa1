"""Joining, repeating and rearranging: cat/stack and friends, tile/repeat/repeat_interleave, flip/roll/rot90,
tril/triu, diag/diag_embed/diagflat/block_diag, cartesian_prod and meshgrid.

Every forward returns a new array (``flip`` and ``rot90`` copy: torch has no negative strides). Ops that
join several inputs promote their dtypes like torch and hand each input its slice of the gradient.
"""
import warnings

import numpy as np

from .._tensor import Tensor, wrap_dim
from ._registry import OPS, _type_name, apply, apply_inplace, defop, write_out
from .index import axis_alias
from .view import embed


def _F(name):
    from .. import ops
    return getattr(ops, name)


def _shape_str(s):
    return str(list(s))


def _tensor_list(tensors, name, argname="tensors"):
    """Validate a sequence-of-tensors argument the way torch's argument parser does."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument '{argname}' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    return list(tensors)


def _ints(v, name="dims"):
    if isinstance(v, (list, tuple)):
        return tuple(int(d) for d in v)
    if hasattr(v, "__index__"):
        return (int(v),)
    raise TypeError(f"{name} must be an int or a sequence of ints")


# ---------------------------------------------------------------- cat / stack
def _cat_fwd(xp, *arrs, dim, keep, sizes):
    kept = [a for a, k in zip(arrs, keep) if k]
    if len(kept) == 1:
        return kept[0].copy()
    return xp.concatenate(kept, axis=dim)


def _cat_vjp(g, out, *inputs, needs, dim, keep, sizes):
    res = []
    off = 0
    for k, n, need in zip(keep, sizes, needs):
        if not k:
            res.append(g.new_zeros((0,)) if need else None)
            continue
        res.append(g.narrow(dim, off, n) if need else None)
        off += n
    return tuple(res)


def _cat_shape(*shapes, dim, keep, sizes):
    kept = [s for s, k in zip(shapes, keep) if k]
    s = list(kept[0])
    if s:
        s[dim] = sum(t[dim] for t in kept)
    return tuple(s)


_CAT = defop("cat", "promote", _cat_fwd, _cat_vjp, save_in=False, save_out=False, needs=True, shape=_cat_shape)


def cat(tensors, dim=0, *, out=None):
    """Concatenate tensors along ``dim`` (1-D empty tensors are skipped, as torch's legacy rule says)."""
    ts = _tensor_list(tensors, "cat")
    if not ts:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(ts):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    keep = [not (t._data.ndim == 1 and t._data.shape[0] == 0) for t in ts]
    if not any(keep):
        keep = [True] * len(ts)
    ref = next(i for i, k in enumerate(keep) if k)
    rs = ts[ref]._data.shape
    nd = len(rs)
    dim = wrap_dim(dim, nd)
    sizes = []
    for i, (t, k) in enumerate(zip(ts, keep)):
        s = t._data.shape
        if not k:
            sizes.append(0)
            continue
        if len(s) != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and {len(s)}")
        for d in range(nd):
            if d != dim and s[d] != rs[d]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {dim}. Expected size {rs[d]} "
                                   f"but got size {s[d]} for tensor number {i} in the list.")
        sizes.append(s[dim])
    r = apply(_CAT, tuple(ts), {"dim": dim, "keep": tuple(keep), "sizes": tuple(sizes)})
    return r if out is None else write_out(out, r)


def concat(tensors, dim=0, *, out=None):
    """Alias of ``cat``."""
    return cat(tensors, dim, out=out)


def concatenate(tensors, axis=0, out=None, *, dim=None):
    """Alias of ``cat`` (NumPy's ``axis`` spelling; ``dim`` also accepted)."""
    return cat(tensors, axis if dim is None else dim, out=out)


def _stack_vjp(g, out, *inputs, needs, dim):
    return tuple(g.select(dim, i) if n else None for i, n in enumerate(needs))


_STACK = defop("stack", "promote", lambda xp, *arrs, dim: xp.stack(arrs, axis=dim), _stack_vjp, save_in=False,
               save_out=False, needs=True,
               shape=lambda *shapes, dim: tuple(shapes[0][:dim]) + (len(shapes),) + tuple(shapes[0][dim:]))


def stack(tensors, dim=0, *, out=None):
    """Join equally shaped tensors along a new dimension ``dim``."""
    ts = _tensor_list(tensors, "stack")
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    s0 = ts[0]._data.shape
    for i, t in enumerate(ts[1:], 1):
        if t._data.shape != s0:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {_shape_str(s0)} at entry 0 and "
                               f"{_shape_str(t.shape)} at entry {i}")
    dim = wrap_dim(dim, len(s0) + 1)
    r = apply(_STACK, tuple(ts), {"dim": dim})
    return r if out is None else write_out(out, r)


def _atleast(t, n):
    nd = t._data.ndim
    if nd >= n:
        return t
    if n == 1:
        return t.reshape(1)
    if n == 2:
        return t.reshape(1, 1) if nd == 0 else t.unsqueeze(0)
    if nd == 0:
        return t.reshape(1, 1, 1)
    if nd == 1:
        return t.unsqueeze(0).unsqueeze(-1)
    return t.unsqueeze(-1)


def _stack_family(name, tensors):
    ts = _tensor_list(tensors, name)
    if not ts:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return ts


def hstack(tensors, *, out=None):
    """Concatenate horizontally: along dim 0 for 1-D inputs, dim 1 otherwise."""
    ts = [_atleast(t, 1) for t in _stack_family("hstack", tensors)]
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    """Concatenate vertically (inputs made at least 2-D)."""
    ts = [_atleast(t, 2) for t in _stack_family("vstack", tensors)]
    return cat(ts, 0, out=out)


def row_stack(tensors, *, out=None):
    """Alias of ``vstack``."""
    ts = [_atleast(t, 2) for t in _stack_family("vstack", tensors)]
    return cat(ts, 0, out=out)


def dstack(tensors, *, out=None):
    """Concatenate depth-wise along dim 2 (inputs made at least 3-D)."""
    ts = [_atleast(t, 3) for t in _stack_family("dstack", tensors)]
    return cat(ts, 2, out=out)


def column_stack(tensors, *, out=None):
    """Stack as columns: 0-D and 1-D inputs become (n, 1) columns, then ``hstack``."""
    ts = _stack_family("column_stack", tensors)
    ts = [t.reshape(t._data.size, 1) if t._data.ndim <= 1 else t for t in ts]
    return cat(ts, 1, out=out)


# ---------------------------------------------------------------- repeat / tile / repeat_interleave
def _repeat_fwd(xp, x, reps):
    lead = len(reps) - x.ndim
    return xp.tile(x.reshape((1,) * lead + x.shape), reps)


def _repeat_vjp(g, out, x, reps, shape):
    lead = len(reps) - len(shape)
    full = (1,) * lead + tuple(shape)
    inter = []
    for r, s in zip(reps, full):
        inter += [r, s]
    return g.reshape(inter).sum(tuple(range(0, 2 * len(reps), 2))).reshape(shape)


_REPEAT = defop("repeat", "raw", lambda xp, x, reps, shape: _repeat_fwd(xp, x, reps), _repeat_vjp, save_in=False,
                save_out=False, shape=lambda xs, reps, shape: tuple(
                    r * s for r, s in zip(reps, (1,) * (len(reps) - len(xs)) + tuple(xs))))


def _repeat_sizes(sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)) or (len(sizes) == 1 and hasattr(sizes[0], "tolist")
                                                                    and not isinstance(sizes[0], int)):
        sizes = sizes[0]
    return tuple(int(s) for s in sizes)


def repeat(self, *sizes, repeats=None):
    """Tile ``self`` ``sizes[i]`` times along each dimension (extra leading dims allowed)."""
    if repeats is not None:
        sizes = (repeats,)
    if not sizes:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    reps = _repeat_sizes(sizes)
    nd = self._data.ndim
    if len(reps) < nd:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    full = (1,) * (len(reps) - nd) + self._data.shape
    res = [r * s for r, s in zip(reps, full)]
    neg = [v for v in res if v < 0]
    if neg:
        raise RuntimeError(f"Trying to create tensor with negative dimension {neg[0]}: {_shape_str(res)}")
    return apply(_REPEAT, (self,), {"reps": reps, "shape": tuple(self._data.shape)})


def tile(input, dims):
    """Repeat ``input`` by ``dims`` (padded with leading 1s to ``input.dim()``)."""
    dims = _ints(dims)
    nd = input._data.ndim
    if len(dims) < nd:
        dims = (1,) * (nd - len(dims)) + dims
    return repeat(input, dims)


def _tile_method(self, *dims, **kw):
    if "dims" in kw:
        dims = (kw.pop("dims"),)
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = dims[0]
    return tile(self, tuple(dims))


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element (or slice along ``dim``) ``repeats`` times; ``repeats`` may be a tensor."""
    if repeats is None:  # torch.repeat_interleave(repeats): indices repeated by their counts
        reps = input
        if reps._data.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        idx = _interleave_index(reps, reps._data.shape[0], output_size)
        return idx.to(reps.dtype)
    x = input
    if dim is None:
        x = input.flatten()  # as torch: a 1-D input itself, no view node
        dim = 0
    else:
        dim = wrap_dim(dim, x._data.ndim)
        if x._data.ndim == 0:
            x = x.reshape(1)
    n = x._data.shape[dim]
    if isinstance(repeats, Tensor):
        if repeats._data.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if repeats.dtype.category != 1:
            raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for '{_type_name(repeats.dtype)}'")
        if repeats._data.size == 1:
            repeats = int(repeats.item())
            if repeats < 0:
                raise RuntimeError("repeats can not be negative")
        else:
            if repeats._data.shape[0] != n:
                raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                                   f"{repeats._data.shape[0]} and input.size(0) = {n}")
            idx = _interleave_index(repeats, n, output_size)
            return x.index_select(dim, idx)
    r = int(repeats)
    if r < 0:
        raise RuntimeError("Repeats must be non-negative")
    if output_size is not None and output_size != n * r:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {n * r} but got {output_size}")
    shp = x._data.shape
    y = x.unsqueeze(dim + 1)
    y = y.expand(shp[:dim + 1] + (r,) + shp[dim + 1:]).contiguous()  # clone() would keep a transposed layout
    return y.view(shp[:dim] + (n * r,) + shp[dim + 1:])


def _interleave_index(reps, n, output_size):
    h = reps._device.backend.to_host(reps._data).reshape(-1).astype(np.int64)
    if h.size and h.min() < 0:
        raise RuntimeError("repeats can not be negative")
    total = int(h.sum())
    if output_size is not None and output_size != total:
        raise RuntimeError("allocated size does not match required size")
    idx = np.repeat(np.arange(n, dtype=np.int64), h) if h.size == n else np.zeros(0, np.int64)
    return Tensor._make(reps._device.backend.from_host(idx), reps._device)


# ---------------------------------------------------------------- flip / roll / rot90
def _flip_fwd(xp, x, dims):
    # the result keeps the input's memory layout (torch has no negative strides, so it copies)
    out = xp.empty_like(x, order="K") if x.ndim else x.copy()
    if x.ndim:
        out[...] = xp.flip(x, dims) if dims else x
    return out


def _rot90_fwd(xp, x, k, dims):
    d0, d1 = dims
    if k == 1:
        return xp.swapaxes(_flip_fwd(xp, x, (d1,)), d0, d1)
    if k == 2:
        return _flip_fwd(xp, x, (d0, d1))
    if k == 3:
        return xp.swapaxes(_flip_fwd(xp, x, (d0,)), d0, d1)
    return _flip_fwd(xp, x, ())


_FLIP = defop("flip", "raw", _flip_fwd,
              lambda g, out, x, dims: apply(_FLIP, (g,), {"dims": dims}), save_in=False, save_out=False,
              shape=lambda xs, dims: xs)


def flip(input, *dims):
    """Reverse the order of elements along ``dims`` (a copy)."""
    if len(dims) == 1:
        dims = dims[0]
    elif not dims:
        raise TypeError("flip() missing 1 required positional arguments: \"dims\"")
    dims = _ints(dims)
    nd = input._data.ndim
    wrapped = []
    for d in dims:
        w = wrap_dim(d, nd)
        if w in wrapped:
            raise RuntimeError(f"dim {w} appears multiple times in the list of dims")
        wrapped.append(w)
    if nd == 0:
        wrapped = []
    return apply(_FLIP, (input,), {"dims": tuple(wrapped)})


def fliplr(input):
    """Flip a tensor of at least 2 dims left-right (dim 1)."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    """Flip a tensor of at least 1 dim up-down (dim 0)."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def _roll_fwd(xp, x, shifts, dims):
    if x.size == 0:
        return x.copy()
    if dims is None:
        return xp.roll(x, shifts[0])
    return xp.roll(x, shifts, axis=dims)


_ROLL = defop("roll", "raw", _roll_fwd,
              lambda g, out, x, shifts, dims: apply(_ROLL, (g,), {"shifts": tuple(-s for s in shifts), "dims": dims}),
              save_in=False, save_out=False, shape=lambda xs, shifts, dims: xs)


def roll(input, shifts, dims=None):
    """Shift elements circularly by ``shifts`` along ``dims`` (the flattened tensor if ``dims`` is None)."""
    shifts = _ints(shifts, "shifts")
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return apply(_ROLL, (input,), {"shifts": shifts, "dims": None})
    dims = _ints(dims)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    nd = input._data.ndim
    if nd == 0:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    dims = tuple(wrap_dim(d, nd) for d in dims)
    return apply(_ROLL, (input,), {"shifts": shifts, "dims": dims})


_ROT90 = defop("rot90", "raw", _rot90_fwd,
               lambda g, out, x, k, dims: apply(_ROT90, (g,), {"k": (4 - k) % 4, "dims": dims}), save_in=False,
               save_out=False, node="Rot90Backward0",
               shape=lambda xs, k, dims: xs if k % 2 == 0 else tuple(
                   xs[dims[1]] if i == dims[0] else xs[dims[0]] if i == dims[1] else s for i, s in enumerate(xs)))


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first towards the second)."""
    dims = _ints(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    nd = input._data.ndim
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    d = (wrap_dim(dims[0], nd), wrap_dim(dims[1], nd))
    if d[0] == d[1]:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    return apply(_ROT90, (input,), {"k": int(k) % 4, "dims": d})


# ---------------------------------------------------------------- tril / triu
_TRIL = defop("tril", "raw", lambda xp, x, k: xp.tril(x, k) if x.size else x.copy(),
              lambda g, out, x, k: apply(_TRIL, (g,), {"k": k}), save_in=False, save_out=False,
              shape=lambda xs, k: xs)
_TRIU = defop("triu", "raw", lambda xp, x, k: xp.triu(x, k) if x.size else x.copy(),
              lambda g, out, x, k: apply(_TRIU, (g,), {"k": k}), save_in=False, save_out=False,
              shape=lambda xs, k: xs)


def _tri(op, name, input, diagonal):
    if input._data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    return op, {"k": int(diagonal)}


def tril(input, diagonal=0, *, out=None):
    """The lower triangle (on and below ``diagonal``) of the last two dims; the rest zeroed."""
    op, kw = _tri(_TRIL, "tril", input, diagonal)
    r = apply(op, (input,), kw)
    return r if out is None else write_out(out, r)


def triu(input, diagonal=0, *, out=None):
    """The upper triangle (on and above ``diagonal``) of the last two dims; the rest zeroed."""
    op, kw = _tri(_TRIU, "triu", input, diagonal)
    r = apply(op, (input,), kw)
    return r if out is None else write_out(out, r)


def tril_(self, diagonal=0):
    """In-place ``tril``."""
    op, kw = _tri(_TRIL, "tril", self, diagonal)
    return apply_inplace(op, self, (), kw)


def triu_(self, diagonal=0):
    """In-place ``triu``."""
    op, kw = _tri(_TRIU, "triu", self, diagonal)
    return apply_inplace(op, self, (), kw)


# ---------------------------------------------------------------- diagonals and block_diag
def _diag_embed_fwd(xp, x, offset, dim1, dim2):
    n = x.shape[-1] if x.ndim else 1
    m = n + abs(offset)
    batch = x.shape[:-1]
    z = xp.zeros(batch + (m, m), dtype=x.dtype)
    r = xp.arange(n) + max(-offset, 0)
    c = xp.arange(n) + max(offset, 0)
    z[..., r, c] = x
    nd = len(batch) + 2
    return xp.ascontiguousarray(xp.moveaxis(z, (nd - 2, nd - 1), (dim1, dim2)))


def _diag_embed_shape(xs, offset, dim1, dim2):
    m = xs[-1] + abs(offset)
    out = list(xs[:-1])
    for d in sorted((dim1, dim2)):
        out.insert(d, m)
    return tuple(out)


_DIAG_EMBED = defop("diag_embed", "raw", _diag_embed_fwd,
                    lambda g, out, x, offset, dim1, dim2: g.diagonal(offset, dim1, dim2), save_in=False,
                    save_out=False, shape=_diag_embed_shape)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor whose (dim1, dim2) diagonals (at ``offset``) hold the last dim of ``input``."""
    nd = input._data.ndim + 1
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply(_DIAG_EMBED, (input,), {"offset": int(offset), "dim1": d1, "dim2": d2})


def _diag_copy_vjp(g, out, x, offset, shape):
    return embed(g, shape, [(OPS["diagonal"], {"offset": offset, "dim1": 0, "dim2": 1})])


_DIAG_COPY = defop("diagonal_copy", "raw", lambda xp, x, offset, shape: xp.diagonal(x, offset).copy(),
                   _diag_copy_vjp, save_in=False, save_out=False, node="DiagonalBackward0_copy",
                   shape=lambda xs, offset, shape: (max(0, min(xs[0] + min(offset, 0), xs[1] - max(offset, 0))),))


def diag(input, diagonal=0, *, out=None):
    """1-D input: a square matrix with it on a diagonal; 2-D input: the diagonal as a 1-D copy."""
    nd = input._data.ndim
    if nd == 1:
        r = apply(_DIAG_EMBED, (input,), {"offset": int(diagonal), "dim1": 0, "dim2": 1})
    elif nd == 2:
        r = apply(_DIAG_COPY, (input,), {"offset": int(diagonal), "shape": tuple(input._data.shape)})
    else:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")
    return r if out is None else write_out(out, r)


def diagflat(input, offset=0):
    """The flattened ``input`` placed on a diagonal of a square matrix."""
    return diag(input.contiguous().view(-1), offset)


def _block_diag_fwd(xp, *arrs, shapes):
    mats = [a.reshape(1, 1) if a.ndim == 0 else a.reshape(1, -1) if a.ndim == 1 else a for a in arrs]
    R = sum(m.shape[0] for m in mats)
    C = sum(m.shape[1] for m in mats)
    out = xp.zeros((R, C), dtype=arrs[0].dtype)
    r = c = 0
    for m in mats:
        out[r:r + m.shape[0], c:c + m.shape[1]] = m
        r += m.shape[0]
        c += m.shape[1]
    return out


def _block_diag_vjp(g, out, *inputs, needs, shapes):
    res = []
    r = c = 0
    for s, n in zip(shapes, needs):
        h, w = (1, 1) if len(s) == 0 else (1, s[0]) if len(s) == 1 else s
        res.append(g[r:r + h, c:c + w].reshape(s) if n else None)
        r += h
        c += w
    return tuple(res)


_BLOCK_DIAG = defop("block_diag", "promote", _block_diag_fwd, _block_diag_vjp, save_in=False, save_out=False,
                    needs=True)


def block_diag(*tensors):
    """A block-diagonal matrix of the inputs (0-D is 1x1, 1-D is a row)."""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
        if t._data.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t._data.ndim} dimensions")
    if not tensors:
        return _F("empty")(1, 0)
    return apply(_BLOCK_DIAG, tuple(tensors), {"shapes": tuple(t._data.shape for t in tensors)})


# ---------------------------------------------------------------- meshgrid / cartesian_prod
def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 0-D/1-D tensors ('ij': matrix indexing, 'xy': Cartesian), as expanded views."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    ts = _tensor_list(list(tensors), "meshgrid")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if not ts:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in ts[1:]:
        if t.dtype is not ts[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if t._device != ts[0]._device:
            raise RuntimeError("meshgrid expects all tensors to have the same device")
    for t in ts:
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t._data.size for t in ts)
    n = len(ts)
    outs = []
    for i, t in enumerate(ts):
        v = [1] * n
        v[i] = -1
        outs.append(t.view(tuple(v)).expand(shape))
    if swap:
        outs[0], outs[1] = outs[1], outs[0]
    return tuple(outs)


def cartesian_prod(*tensors):
    """All combinations of the elements of 1-D tensors, one per row (like itertools.product)."""
    for t in tensors:
        if isinstance(t, Tensor) and t._data.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {_shape_str(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.flatten() for g in grids], 1)


# ---------------------------------------------------------------- methods
cat, concat, stack, repeat_interleave = (axis_alias(f) for f in (cat, concat, stack, repeat_interleave))
_T = Tensor
for _n, _f in dict(repeat=repeat, tile=_tile_method, repeat_interleave=repeat_interleave, flip=flip,
                   fliplr=fliplr, flipud=flipud, roll=roll, rot90=rot90, tril=tril, triu=triu, tril_=tril_,
                   triu_=triu_, diag=diag, diag_embed=diag_embed, diagflat=diagflat).items():
    setattr(_T, _n, _f)


def _flip_fn(input, dims):
    """Reverse the order of elements along ``dims`` (a copy)."""
    return flip(input, dims)


_flip_fn.__name__ = "flip"

FUNCS = dict(cat=cat, concat=concat, concatenate=concatenate, stack=stack, hstack=hstack, vstack=vstack,
             dstack=dstack, column_stack=column_stack, row_stack=row_stack, tile=tile,
             repeat_interleave=repeat_interleave, flip=_flip_fn, fliplr=fliplr, flipud=flipud, roll=roll,
             rot90=rot90, tril=tril, triu=triu, diag=diag, diag_embed=diag_embed, diagflat=diagflat,
             block_diag=block_diag, cartesian_prod=cartesian_prod, meshgrid=meshgrid)
