"""View ops: results share the input's storage (no copy); writes through either are seen by both.

Each forward returns a NumPy/CuPy view of the input array. Gradients: reshape-like views reshape
``g`` back, transposes permute it back, selecting views embed ``g`` into zeros of the input's shape.
"""
import numpy as np

from .._size import Size
from .._tensor import Tensor, contiguous_strides, wrap_dim
from ..autograd.anomaly_mode import record_stack, state as _anomaly
from ..autograd.graph import Node, edge_of
from . import _registry as _R
from ._registry import MULTI_VIEW_OPS, OPS, apply, check_multi_view, defop, renamed, replay_views_raw


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def infer_size(shape, numel):
    """Resolve one -1 in ``shape`` like torch, with torch's RuntimeError messages."""
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if neg:
        if known == 0 or numel % known != 0:
            if known == 0 and numel == 0:
                raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                                   f"unspecified dimension size -1 can be any value and is ambiguous")
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _view_strides(x, shape):
    """Strides for viewing ``x`` as ``shape`` without a copy, or None if impossible (torch's rule)."""
    old_shape = x.shape
    isz = x.itemsize
    old_st = [s // isz for s in x.strides]
    if x.size == 0 or len(old_shape) == 0:
        return contiguous_strides(shape)
    new_st = [0] * len(shape)
    view_d = len(shape) - 1
    chunk_base_stride = old_st[-1]
    tensor_numel, view_numel = 1, 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (old_shape[tensor_d - 1] != 1 and
                             old_st[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or shape[view_d] == 1):
                new_st[view_d] = view_numel * chunk_base_stride
                view_numel *= shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_st[tensor_d - 1]
                tensor_numel, view_numel = 1, 1
    if view_d != -1:
        return None
    return tuple(new_st)


def _as_view(xp, x, shape):
    st = _view_strides(x, shape)
    if st is None:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                           "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
    if x.flags.c_contiguous:
        return x.reshape(shape)
    return xp.lib.stride_tricks.as_strided(x, shape, [s * x.itemsize for s in st])


def _reshape_back(g, out, x, **kw):
    return g.reshape(x.shape)


def embed(g, shape, chain):
    """``g`` placed where the views ``chain`` of a ``shape`` tensor look, zeros elsewhere: a selecting view's
    gradient (differentiable, for double backward)."""
    return apply(_VIEW_EMBED, (g,), {"shape": tuple(shape), "chain": chain})


def _embed_vjp(op):
    """vjp for a selecting view: put g where the view looks, zeros elsewhere."""
    def vjp(g, out, x, **kw):
        return embed(g, x.shape, [(op, kw)])
    return vjp


def _defview(name, fwd, vjp=None, node=None, embed=False, arrays=False):
    op = defop(name, "raw", fwd, vjp, view=True, save_out=False, node=node, arrays=arrays)
    if embed:
        op.vjp = _embed_vjp(op)
    return op


_VIEW = _defview("view", lambda xp, x, shape: _as_view(xp, x, shape), _reshape_back, arrays=True)
_RESHAPE_VIEW = _defview("_reshape_alias", lambda xp, x, shape: _as_view(xp, x, shape), _reshape_back, arrays=True,
                         node="ViewBackward0")
_RESHAPE_ALIAS = renamed(_RESHAPE_VIEW, "ReshapeAliasBackward0", False)


def _unsafe_view_fwd(xp, x, shape):
    r = x.reshape(shape)
    # a fresh copy never overlaps x, so the bounds-only test is exact here (and cheap on the GPU)
    return r.copy() if xp.may_share_memory(r, x) else r


_UNSAFE_VIEW = defop("_unsafe_view", "raw", _unsafe_view_fwd, _reshape_back,
                     save_out=False, node="UnsafeViewBackward0", check=False)
# the same node over a tensor nothing else can see (a fresh copy or product): its memory is the result's
_UNSAFE_VIEW_FRESH = defop("_unsafe_view_fresh", "raw", lambda xp, x, shape: x.reshape(shape), _reshape_back,
                           save_out=False, node="UnsafeViewBackward0", check=False, alias=True)
_PERMUTE = _defview("permute", lambda xp, x, dims: xp.transpose(x, dims),
                    lambda g, out, x, dims: g.permute(tuple(np.argsort(dims))))
_TRANSPOSE = _defview("transpose", lambda xp, x, dim0, dim1: x.swapaxes(dim0, dim1),
                      lambda g, out, x, dim0, dim1: g.swapaxes(dim0, dim1), arrays=True)
def _expand_fwd(xp, x, shape):
    # torch keeps the stride of dims that are not expanded (NumPy's broadcast_to zeroes size-1 ones)
    lead = len(shape) - x.ndim
    strides = tuple(0 if i < lead or (x.shape[i - lead] == 1 and n != 1) else x.strides[i - lead]
                    for i, n in enumerate(shape))
    return xp.lib.stride_tricks.as_strided(x, shape, strides)


_EXPAND = _defview("expand", _expand_fwd, lambda g, out, x, shape: g, arrays=True)
_SQUEEZE = _defview("squeeze", lambda xp, x, dims: xp.squeeze(x, axis=dims) if dims else x[...],
                    _reshape_back)
_UNSQUEEZE = _defview("unsqueeze", lambda xp, x, dim: xp.expand_dims(x, dim), _reshape_back, arrays=True)
_ALIAS = _defview("alias", lambda xp, x: x[...], lambda g, out, x: g)
_GETITEM = _defview("getitem", lambda xp, x, key: x[key], node="SliceBackward0", embed=True)
_SELECT = _defview("select", lambda xp, x, dim, index: x[(slice(None),) * dim + (index, Ellipsis)], embed=True)
_NARROW = _defview("narrow", lambda xp, x, dim, start, length:
                   x[(slice(None),) * dim + (slice(start, start + length),)], node="SliceBackward0", embed=True)
_DIAGONAL = _defview("diagonal", lambda xp, x, offset, dim1, dim2: _diag_view(xp, x, offset, dim1, dim2),
                     embed=True)
_AS_STRIDED = _defview("as_strided", lambda xp, x, size, stride, offset: _as_strided_fwd(xp, x, size, stride,
                                                                                        offset), embed=True)
_UNFOLD = _defview("unfold", lambda xp, x, dim, size, step: _unfold_fwd(xp, x, dim, size, step), embed=True)
_REAL = _defview("real", lambda xp, x: x.real if x.dtype.kind == "c" else x[...], lambda g, out, x: g)
_IMAG = _defview("imag", lambda xp, x: x.imag, lambda g, out, x: g * 1j)
def _as_real_fwd(xp, x):
    r = x.real  # a view of the real parts, same strides; the imaginary part is one real element further
    return xp.lib.stride_tricks.as_strided(r, x.shape + (2,), r.strides + (r.itemsize,))


def _as_complex_fwd(xp, x):
    cdt = np.complex64 if x.dtype == np.float32 else np.complex128
    # the last dim has stride 1, so each pair is one complex number; keep the outer strides as they are
    first = x[(0,) * (x.ndim - 1)] if x.size else x.reshape(-1)[:2]
    base = first.view(cdt)  # a 1-element complex view of the first pair
    return xp.lib.stride_tricks.as_strided(base, x.shape[:-1], x.strides[:-1])


_VIEW_AS_REAL = _defview("view_as_real", _as_real_fwd, lambda g, out, x: view_as_complex(g.contiguous()))
_VIEW_AS_COMPLEX = _defview("view_as_complex", _as_complex_fwd, lambda g, out, x: view_as_real(g))
_VIEW_DTYPE = _defview("view_dtype", lambda xp, x, npdt: x.view(npdt), None)


def _diag_view(xp, x, offset, dim1, dim2):
    d = xp.diagonal(x, offset, dim1, dim2)
    if not getattr(d.flags, "writeable", True) and x.flags.writeable:
        d.flags.writeable = True  # NumPy hands out diagonals read-only; torch's diagonal is a writable view
    return d


def _as_strided_fwd(xp, x, size, stride, offset):
    from .._storage import root_of
    root = root_of(x)
    isz = x.itemsize
    flat = root.reshape(-1) if root.flags.c_contiguous or root.flags.f_contiguous else root
    if flat.dtype != x.dtype:
        flat = flat.view(x.dtype)
    flat = flat.reshape(-1, order="A")
    need = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1 if all(size) else 0
    if need > flat.size:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
                           f"and itemsize {isz} requiring a storage size of {need * isz} are out of bounds for "
                           f"storage of size {flat.size * isz}")
    return xp.lib.stride_tricks.as_strided(flat[offset:], tuple(size), tuple(s * isz for s in stride))


def _unfold_fwd(xp, x, dim, size, step):
    n = x.shape[dim] if x.ndim else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {dim} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if x.ndim == 0:
        return x.reshape(1)
    count = (n - size) // step + 1
    shape = x.shape[:dim] + (count,) + x.shape[dim + 1:] + (size,)
    st = x.strides[:dim] + (x.strides[dim] * step,) + x.strides[dim + 1:] + (x.strides[dim],)
    return xp.lib.stride_tricks.as_strided(x, shape, st)


# the op that puts a view's values back into a whole tensor: used for view gradients and in-place on views
def _view_scatter_fwd(xp, base, src, chain):
    return _write_view(xp, base.copy(), src, chain)


def _write_view(xp, out, src, chain):
    """``out`` with ``src`` written into its view ``chain`` (summed where the view's elements overlap)."""
    v = replay_views_raw(xp, out, chain)
    if _overlapping(chain):
        idx = replay_views_raw(xp, xp.arange(out.size).reshape(out.shape), chain)
        xp.add.at(out.reshape(-1), idx.reshape(-1), xp.broadcast_to(src, idx.shape).reshape(-1))
        return out
    v[...] = src
    return out


def _overlapping(chain):
    return any(op.name in ("unfold", "as_strided", "expand") for op, _ in chain)


def _view_scatter_vjp(g, out, base, src, needs, chain):
    gb = OPS["_view_scatter"](g, g.new_zeros(()).expand(_chain_shape(g, chain)), chain=chain) \
        if needs[0] else None
    gs = _replay(g, chain) if needs[1] else None
    return gb, gs


def _chain_shape(t, chain):
    return _replay(t, chain).shape


def _replay(t, chain):
    for op, kw in chain:
        t = apply(op, (t,), kw)
    return t


_VIEW_SCATTER = defop("_view_scatter", "raw", _view_scatter_fwd, _view_scatter_vjp, needs=True,
                      save_in=False, save_out=False, node="torch::autograd::CopySlices")
# a selecting view's gradient: ``src`` in zeros of ``shape`` (a _view_scatter into fresh zeros, without copying them)
_VIEW_EMBED = defop("_view_embed", "raw", lambda xp, src, shape, chain: _write_view(xp, xp.zeros(shape, src.dtype),
                                                                                    src, chain),
                    lambda g, out, src, shape, chain: _replay(g, chain), save_in=False, save_out=False,
                    node="torch::autograd::CopySlices", shape=lambda ss, shape, chain: tuple(shape))


def _copy_slices_vjp(g, out, *inputs, needs, chain, fn):
    """torch's CopySlices around an in-place op on a view: the op's node ``fn`` runs on the view's region of
    ``g``; what it gives its self goes back into that region of the base's gradient, the rest to the op's
    other inputs (the node's edges after the base's)."""
    from ..autograd.engine import call_directly
    r = call_directly(fn, (_replay(g, chain),))
    r = r if isinstance(r, tuple) else (r,)
    gb = None
    if needs[0]:
        gs = r[0] if r[0] is not None else g.new_zeros(()).expand(_chain_shape(g, chain))
        gb = OPS["_view_scatter"](g, gs, chain=chain)
    return (gb,) + tuple(r[1:])


_COPY_SLICES = renamed(_VIEW_SCATTER, "torch::autograd::CopySlices", False)
_COPY_SLICES.vjp = _copy_slices_vjp
OPS["_copy_slices"] = _COPY_SLICES


# ---------------------------------------------------------------- public functions and methods
def view(self, *shape):
    """A view with a new shape (no copy); RuntimeError if the strides do not allow it."""
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, Size, int)) and shape[0] is not None:
        from .. import _dtype as D
        return view_dtype(self, D.to_dtype(shape[0]))
    shape = infer_size(_shape_arg(shape), self._data.size)
    return apply(_VIEW, (self,), {"shape": shape})


def view_dtype(self, dtype):
    old, new = self.dtype.itemsize, dtype.itemsize
    if old != new:
        from ._registry import _type_name
        what = f"to view {_type_name(self.dtype)} as {_type_name(dtype)} (different element sizes)"
        if self._data.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        if self.stride()[-1] != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {self.stride()[-1]}")
        if (self.shape[-1] * old) % new != 0:
            raise RuntimeError(f"self.size(-1) must be divisible by {new // old} {what}, but got {self.shape[-1]}")
    return apply(_VIEW_DTYPE, (self,), {"npdt": dtype.np})


def reshape(self, *shape):
    """A view when strides allow it, otherwise a copy (torch.reshape)."""
    a = self._data
    shape = infer_size(_shape_arg(shape), a.size)
    if shape == a.shape or _view_strides(a, shape) is not None:
        # torch views a contiguous tensor (ViewBackward0) and aliases any other (ReshapeAliasBackward0)
        op = _RESHAPE_VIEW if a.flags.c_contiguous or self.is_contiguous() else _RESHAPE_ALIAS
        return apply(op, (self,), {"shape": shape})
    # not viewable, so not contiguous: contiguous() is a fresh copy, which the result may keep
    return apply(_UNSAFE_VIEW_FRESH, (self.contiguous(),), {"shape": shape})


def view_as(self, other):
    return view(self, other.shape)


def reshape_as(self, other):
    return reshape(self, other.shape)


def flatten(self, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one (a view when possible)."""
    nd = self._data.ndim
    if nd == 0:
        return reshape(self, (1,))
    s, e = wrap_dim(start_dim, nd), wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return self
    shp = self._data.shape
    n = 1
    for d in shp[s:e + 1]:
        n *= d
    return reshape(self, shp[:s] + (n,) + shp[e + 1:])


def unflatten(self, dim, sizes):
    """Split dimension ``dim`` into ``sizes`` (one entry may be -1)."""
    dim = wrap_dim(dim, self._data.ndim)
    sizes = tuple(sizes)
    if len(sizes) == 0:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = self._data.shape[dim]
    try:
        sizes = infer_size(sizes, n)
    except RuntimeError:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim "
                           f"{dim} ({n}) in the input tensor") from None
    return view(self, self._data.shape[:dim] + sizes + self._data.shape[dim + 1:])


def permute(self, *dims):
    """Reorder dimensions (a view)."""
    dims = _shape_arg(dims)
    nd = self._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal to "
                           f"len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return apply(_PERMUTE, (self,), {"dims": dims})


def transpose(self, dim0, dim1):
    """Swap two dimensions (a view)."""
    return _transpose(self, dim0, dim1, _T0_ALIAS, _TRANSPOSE)


def _transpose(self, dim0, dim1, alias_op, op):
    nd = self._data.ndim
    d0, d1 = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    if nd == 0:
        return apply(alias_op, (self,), {})
    return apply(op, (self,), {"dim0": d0, "dim1": d1})


# torch names overloads apart: t() is TBackward0, squeeze(dim) SqueezeBackward1, squeeze(dims) SqueezeBackward2
_T_OP = renamed(_TRANSPOSE, "TBackward0")
_SQUEEZE_DIM, _SQUEEZE_DIMS = renamed(_SQUEEZE, "SqueezeBackward1"), renamed(_SQUEEZE, "SqueezeBackward2")


_T_ALIAS = renamed(_ALIAS, "TBackward0")
_T0_ALIAS = renamed(_ALIAS, "TransposeBackward0")  # transpose of a 0-d tensor


def t(self):
    """Transpose a tensor of at most 2 dims."""
    return _t(self, _T_ALIAS, _T_OP)


def _t(self, alias_op, op):
    if self._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self._data.ndim}D")
    if self._data.ndim < 2:
        return apply(alias_op, (self,), {})
    return apply(op, (self,), _T_KW)


_T_KW = {"dim0": 0, "dim1": 1}


def _zero_d(name, hint):
    import warnings
    warnings.warn(f"{name} is deprecated on 0-D tensors. {hint}", UserWarning, stacklevel=3)


def adjoint(self):
    """Conjugate transpose of the last two dims."""
    nd = self._data.ndim
    if nd == 0:
        _zero_d("adjoint()", "Consider using x.conj().")
        return self.conj()
    if nd == 1:
        raise RuntimeError("tensor.adjoint() is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return transpose(self, -2, -1).conj()


def movedim(self, source, destination):
    """Move dims from ``source`` to ``destination`` positions (a view)."""
    nd = self._data.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain "
                           f"the same number of dims as destination ({dst} dims)")
    src = [wrap_dim(d, nd) for d in src]
    dst = [wrap_dim(d, nd) for d in dst]
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(self, order)


def expand(self, *sizes):
    """Broadcast size-1 dims to ``sizes`` without copying (-1 keeps a dim)."""
    sizes = _shape_arg(sizes)
    nd = self._data.ndim
    if len(sizes) < nd:
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(self.shape)}}}, size={list(sizes)}): the number of "
                           f"sizes provided ({len(sizes)}) must be greater or equal to the number of dimensions "
                           f"in the tensor ({nd})")
    shp = self._data.shape
    out = []
    lead = len(sizes) - nd
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                                   f"non-existing dimension {i}")
            out.append(s)
        else:
            cur = shp[i - lead]
            if s == -1:
                s = cur
            elif cur != s and cur != 1:
                raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({cur}) "
                                   f"at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor "
                                   f"sizes: {list(shp)}")
            out.append(s)
    return apply(_EXPAND, (self,), {"shape": tuple(out)})


def expand_as(self, other):
    return expand(self, other.shape)


def squeeze(self, dim=None):
    """Drop size-1 dims (all, or those named in ``dim``)."""
    return _squeeze(self, dim, _SQUEEZE, _SQUEEZE_DIM, _SQUEEZE_DIMS)


def _squeeze(self, dim, op_all, op_dim, op_dims):
    nd = self._data.ndim
    shp = self._data.shape
    if dim is None:
        dims = tuple(i for i, s in enumerate(shp) if s == 1)
    else:
        ds = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = tuple(sorted({wrap_dim(d, nd) for d in ds if nd > 0}))
        dims = tuple(d for d in dims if shp[d] == 1)
    op = op_all if dim is None else op_dim if isinstance(dim, int) else op_dims
    return apply(op, (self,), {"dims": dims})


def unsqueeze(self, dim):
    """Insert a size-1 dim at ``dim`` (a view)."""
    dim = wrap_dim(dim, self._data.ndim + 1)
    return apply(_UNSQUEEZE, (self,), {"dim": dim})


def select(self, dim, index):
    """Index one position along ``dim``, removing it (a view)."""
    nd = self._data.ndim
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, nd)
    n = self._data.shape[dim]
    index = int(index)
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(self.shape)} at "
                         f"dimension {dim}")
    return apply(_SELECT, (self,), {"dim": dim, "index": index % n if n else index})


def narrow(self, dim, start, length):
    """Elements start..start+length along ``dim`` (a view)."""
    return _narrow(self, dim, start, length, _NARROW)


def _narrow(self, dim, start, length, op):
    nd = self._data.ndim
    if nd == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, nd)
    n = self._data.shape[dim]
    start = int(start)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return apply(op, (self,), {"dim": dim, "start": start, "length": int(length)})


# split / chunk / unbind: the same views as narrow / select (their view chains replay them), but, as in
# torch, one graph node for all the outputs, each output at its own output_nr
_SPLIT, _SPLIT_SIZES = renamed(_NARROW, "SplitBackward0"), renamed(_NARROW, "SplitWithSizesBackward0")
_UNBIND = renamed(_SELECT, "UnbindBackward0")
MULTI_VIEW_OPS.update((_SPLIT, _SPLIT_SIZES, _UNBIND))


def _multi_view_vjp(gs, out, x, dim, sizes, shape, n, stack):
    """The input's gradient from its pieces' gradients: cat / stack when all arrived, else the arrived ones
    written into zeros (one op, itself differentiable)."""
    idx = tuple(k for k in range(n) if gs[k] is not None)
    if len(idx) == n:
        from .join import cat, stack as stack_
        return (stack_(list(gs), dim) if stack else cat(list(gs), dim),)
    kw = {"dim": dim, "starts": _starts(sizes, idx, stack), "sizes": tuple(sizes[k] for k in idx), "shape": shape}
    return (apply(_PIECES_INTO_ZEROS, tuple(gs[k] for k in idx), kw),)


def _starts(sizes, idx, stack):
    if stack:
        return idx
    at, s = [], 0
    for k, m in enumerate(sizes):
        at.append(s)
        s += m
    return tuple(at[k] for k in idx)


def _pieces_key(dim, start, size):
    return (slice(None),) * dim + ((start,) if size is None else (slice(start, start + size),))


def _pieces_into_zeros_fwd(xp, *gs, dim, starts, sizes, shape):
    r = xp.zeros(shape, gs[0].dtype)
    for g, a, m in zip(gs, starts, sizes):
        r[_pieces_key(dim, a, m)] = g
    return r


def _pieces_into_zeros_vjp(g, out, *gs, dim, starts, sizes, shape):
    return tuple(g.select(dim, a) if m is None else g.narrow(dim, a, m) for a, m in zip(starts, sizes))


_PIECES_INTO_ZEROS = defop("_split_backward", "same", _pieces_into_zeros_fwd, _pieces_into_zeros_vjp,
                           save_in=False, save_out=False, shape=lambda *s, dim, starts, sizes, shape: shape)


class _MultiViewOp:
    """The shared node of split / split_with_sizes / unbind (the engine's multi-output protocol, ``nout``)."""
    nout = -1
    check = needs = save_in = save_out = holo = view = arrays = False
    ufunc = None
    vjp = staticmethod(_multi_view_vjp)

    def __init__(self, name, node):
        self.name, self.node_name = name, node

    def __repr__(self):
        return f"<ember op {self.name}>"


_MULTI_NODE = {op: _MultiViewOp(op.name, op.node_name) for op in (_SPLIT, _SPLIT_SIZES, _UNBIND)}
_MULTI_NODE["unsafe_split"] = _MultiViewOp("unsafe_split", "UnsafeSplitBackward0")
_MULTI_NODE["unsafe_split_with_sizes"] = _MultiViewOp("unsafe_split_with_sizes", "UnsafeSplitWithSizesBackward0")


def _multi_views(self, op, kws, dim, sizes):
    """The views ``op(self, **kw)`` for each kw, sharing one graph node when ``self`` requires grad."""
    run = _R._run  # looked up at each call: the profiler swaps it
    dev, dt = self._device, self.dtype
    outs = tuple(run(op, (self,), kw, dev, dt, False) for kw in kws)
    if self._rg and _R._gm.enabled and outs and dt.category >= 2:
        split_node(self, outs, op if op in _MULTI_NODE else op.name, dim, sizes)
    return outs


def split_node(self, outs, key, dim, sizes):
    """Give ``outs`` (the pieces of ``self`` along ``dim``, of ``sizes``; None: unbound) one shared node."""
    shape, dt, dev = self._data.shape, self.dtype, self._device
    kw = {"dim": dim, "sizes": sizes, "shape": shape, "n": len(outs), "stack": key is _UNBIND}
    node = Node(_MULTI_NODE[key], (None,), kw, None, [edge_of(self)], [(shape, dt, dev, 0)], ((), None, 0))
    k = 0
    for o in outs:
        o.grad_fn, o._rg = node, True
        if k:
            o._output_nr = k
        k += 1
    if _anomaly.enabled:
        record_stack(node)


def diagonal(self, offset=0, dim1=0, dim2=1):
    """The diagonal w.r.t. dims dim1, dim2 as a view, moved to the last dim."""
    nd = self._data.ndim
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply(_DIAGONAL, (self,), {"offset": offset, "dim1": d1, "dim2": d2})


def as_strided(self, size, stride, storage_offset=None):
    """A view with explicit sizes, strides (in elements) and storage offset."""
    off = self.storage_offset() if storage_offset is None else storage_offset
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, got strides: "
                           f"{list(stride)}")
    return apply(_AS_STRIDED, (self,), {"size": tuple(size), "stride": tuple(stride), "offset": off})


def unfold(self, dimension, size, step):
    """All windows of ``size`` with ``step`` along ``dimension``, as a new last dim (a view)."""
    dim = wrap_dim(dimension, max(self._data.ndim, 1))
    return apply(_UNFOLD, (self,), {"dim": dim, "size": size, "step": step})


def split(self, split_size_or_sections, dim=0):
    """Views of consecutive chunks along ``dim`` (a size, or a list of sizes)."""
    dim = wrap_dim(dim, self._data.ndim)
    n = self._data.shape[dim]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s <= 0 and not (s == 0 and n == 0):
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        if n == 0:
            return _multi_views(self, _SPLIT, [{"dim": dim, "start": 0, "length": 0}], dim, (0,))
        sizes = tuple(min(s, n - i) for i in range(0, n, s))
        return _multi_views(self, _SPLIT, [{"dim": dim, "start": i, "length": m}
                                           for i, m in zip(range(0, n, s), sizes)], dim, sizes)
    sizes = list(split_size_or_sections)
    if sum(sizes) != n:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                           f"dimension {dim}), but got split_sizes={sizes}")
    if any(s < 0 for s in sizes):
        return tuple(_narrow(self, dim, 0, s, _SPLIT_SIZES) for s in sizes)  # narrow's error for the size
    kws, i = [], 0
    for s in sizes:
        kws.append({"dim": dim, "start": i, "length": s})
        i += s
    return _multi_views(self, _SPLIT_SIZES, kws, dim, tuple(sizes))


def chunk(self, chunks, dim=0):
    """Split into ``chunks`` views of ceil(n / chunks) along ``dim`` (the last may be smaller)."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    dim = wrap_dim(dim, self._data.ndim)
    n = self._data.shape[dim]
    size = -(-n // chunks) if n else 0
    if size == 0:
        return split(self, [0] * chunks, dim)  # size is 0 only when the dim is empty
    return split(self, size, dim)


def tensor_split(self, indices_or_sections, dim=0):
    """Views split into ``k`` near-equal parts (the first ``n % k`` one longer), or at the given indices."""
    dim = wrap_dim(dim, self._data.ndim)
    n = self._data.shape[dim]
    if isinstance(indices_or_sections, int):
        base, extra = divmod(n, indices_or_sections)
        cuts = [i * base + min(i, extra) for i in range(1, indices_or_sections)]
    else:
        cuts = [min(max(int(i) + n if int(i) < 0 else int(i), 0), n) for i in indices_or_sections]
    bounds = [0] + cuts + [n]
    return tuple(narrow(self, dim, a, max(b - a, 0)) for a, b in zip(bounds[:-1], bounds[1:]))


def unbind(self, dim=0):
    """All slices along ``dim`` as a tuple of views."""
    nd = self._data.ndim
    if nd == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    dim = wrap_dim(dim, nd)
    n = self._data.shape[dim]
    return _multi_views(self, _UNBIND, [{"dim": dim, "index": i} for i in range(n)], dim, (None,) * n)


def mT(self):
    if self._data.ndim == 0:
        _zero_d("Tensor.mT", "This function is the identity in these cases.")
        return self
    if self._data.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                           f"{self._data.ndim}-D tensor.")
    return transpose(self, -2, -1)


def _T_prop(self):
    nd = self._data.ndim
    if nd <= 2:
        return permute(self, tuple(range(nd - 1, -1, -1)))
    import warnings
    warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated "
                  "and it will throw an error in a future release. Consider `x.mT` to transpose batches of "
                  "matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a "
                  "tensor.", UserWarning, stacklevel=2)
    return permute(self, tuple(range(nd - 1, -1, -1)))


def view_as_real(input):
    """A complex tensor's memory as real pairs: shape (..., 2), sharing storage."""
    if input.dtype.category != 3:
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return apply(_VIEW_AS_REAL, (input,), {})


def view_as_complex(input):
    """A (..., 2) float32/float64 tensor as complex numbers (a view; the last dim must have stride 1)."""
    if input.dtype.name not in ("float32", "float64"):
        raise RuntimeError("view_as_complex is only supported for float and double tensors, but got a tensor of "
                           f"scalar type: {'Half' if input.dtype.name == 'float16' else input.dtype.name.capitalize()}")
    if input.dim() == 0 or input.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    st = input.stride()
    if st[-1] != 1:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % 2 for s in st[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if input.storage_offset() % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    return apply(_VIEW_AS_COMPLEX, (input,), {})


def real(self):
    """The real part (a view) of a complex tensor; a real tensor is returned as is."""
    if self.dtype.category != 3:
        return self
    if self._rg and _R._gm.enabled:
        return select(view_as_real(self), -1, 0)  # torch's graph: SelectBackward0 over ViewAsRealBackward0
    return apply(_REAL, (self,), {})


def imag(self):
    if self.dtype.category != 3:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    if self._rg and _R._gm.enabled:
        return select(view_as_real(self), -1, 1)
    return apply(_IMAG, (self,), {})


def swapaxes(self, axis0, axis1):
    return transpose(self, axis0, axis1)


def _inplace_view(fn):
    """``squeeze_``/``unsqueeze_``/``t_``/``transpose_``: rebind self to the view's metadata."""
    def f(self, *args, **kw):
        if self._base is not None and self._rg and _R._gm.enabled:
            check_multi_view(self)  # torch forbids it on split / unbind outputs like any in-place op
        old = self._data
        v = fn(self, *args, **kw)
        node = v.grad_fn
        if node is not None and getattr(node, "inputs", None) and node.inputs[0] is self:
            # the node keeps self for its shape, which is about to change: keep an alias of the old one
            ins = list(node.inputs)
            ins[0] = Tensor._make(old, self._device, self._storage)
            node.inputs = type(node.inputs)(ins)
        self._data = v._data
        if v.grad_fn is not None:
            self.grad_fn = v.grad_fn
        if self._base is not None:
            # a view stays a view of the same base, now through this op too: a later in-place write must
            # replay the whole chain (the old one would reshape the base's gradient the wrong way)
            self._view_fn, self._base_fn = v._view_fn, v._base_fn
        return self
    return f


_T = Tensor
for _n, _f in dict(view=view, reshape=reshape, view_as=view_as, reshape_as=reshape_as, flatten=flatten,
                   unflatten=unflatten, permute=permute, transpose=transpose, t=t, adjoint=adjoint,
                   movedim=movedim, moveaxis=movedim, expand=expand, expand_as=expand_as, squeeze=squeeze,
                   unsqueeze=unsqueeze, select=select, narrow=narrow, diagonal=diagonal, as_strided=as_strided,
                   unfold=unfold, split=split, chunk=chunk, tensor_split=tensor_split, unbind=unbind,
                   swapaxes=swapaxes, swapdims=swapaxes).items():
    setattr(_T, _n, _f)
_T.mT = property(mT)
_T.T = property(_T_prop)
def mH(self):
    if self._data.ndim == 0:
        _zero_d("Tensor.mH", "Consider using x.conj().")
        return self.conj()
    if self._data.ndim < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got "
                           f"{self._data.ndim}-D tensor.")
    return transpose(self, -2, -1).conj()


def H(self):
    nd = self._data.ndim
    if nd == 0:
        _zero_d("Tensor.H", "Consider using x.conj().")
        return self.conj()
    if nd != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {nd}-D tensor." +
                           (" For batches of matrices, consider using tensor.mH" if nd > 2 else ""))
    return transpose(self, 0, 1).conj()


_T.mH = property(mH)
_T.H = property(H)
_T.real = property(real)
_T.imag = property(imag)
# the in-place overloads have nodes of their own names in torch (squeeze_(dim) is SqueezeBackward4, ...)
_SQUEEZE_I = tuple(renamed(_SQUEEZE, f"SqueezeBackward{k}") for k in (3, 4, 5))
_UNSQUEEZE_I = renamed(_UNSQUEEZE, "UnsqueezeBackward1")
_T_I = (renamed(_ALIAS, "TBackward1"), renamed(_TRANSPOSE, "TBackward1"))
_TRANSPOSE_I = (renamed(_ALIAS, "TransposeBackward1"), renamed(_TRANSPOSE, "TransposeBackward1"))


def _squeeze_(self, dim=None):
    return _squeeze(self, dim, *_SQUEEZE_I)


def _unsqueeze_(self, dim):
    return apply(_UNSQUEEZE_I, (self,), {"dim": wrap_dim(dim, self._data.ndim + 1)})


def _t_(self):
    return _t(self, *_T_I)


def _transpose_(self, dim0, dim1):
    return _transpose(self, dim0, dim1, *_TRANSPOSE_I)


_T.squeeze_ = _inplace_view(_squeeze_)
_T.unsqueeze_ = _inplace_view(_unsqueeze_)
_T.t_ = _inplace_view(_t_)
_T.transpose_ = _inplace_view(_transpose_)
_T.swapaxes_ = _inplace_view(_transpose_)
_T.swapdims_ = _inplace_view(_transpose_)

FUNCS = dict(view_as_real=view_as_real, view_as_complex=view_as_complex, reshape=reshape, flatten=flatten, unflatten=unflatten, permute=permute, transpose=transpose,
             t=t, adjoint=adjoint, movedim=movedim, moveaxis=movedim, squeeze=squeeze, unsqueeze=unsqueeze,
             select=select, narrow=narrow, diagonal=diagonal, as_strided=as_strided, split=split, chunk=chunk,
             tensor_split=tensor_split, unbind=unbind, swapaxes=swapaxes, swapdims=swapaxes, real=real, imag=imag)
