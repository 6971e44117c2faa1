"""Linear algebra beyond matmul: fused products (addmm, baddbmm, ...), einsum, tensordot, kron, cross, cdist,
and the decompositions behind ``ember.linalg`` (inv, det, solve, cholesky, eigh, svd, qr, lstsq, lu, ...).

Decompositions with several outputs run as ONE graph node (``_MultiOp``): its vjp receives one gradient per
output (None where none flowed), so e.g. ``U, S, Vh = svd(A)`` share a ``LinalgSvdBackward0`` like torch.
Forwards use the backend's ``xp.linalg``; what LAPACK reports (the index of a zero pivot, the order of a
non positive-definite minor) is recovered with small batched routines here, only on the error path.
"""
import math
import weakref
from collections import namedtuple

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, wrap_dim
from .. import _memory_format as MF
from ..backend import c_strides
from ..autograd import grad_mode
from ..autograd.anomaly_mode import record_stack, state as _anomaly
from ..autograd.graph import Node, edge_of
from ._registry import OPS, apply, apply_inplace, defop, renamed, write_out, _type_name

_gm = grad_mode.state


def _tn(dt):
    return _type_name(dt)


def _ops():
    from .. import ops
    return ops


class LinAlgError(RuntimeError):
    """A linear-algebra routine failed on its input: singular or not positive-definite (torch.linalg.LinAlgError)."""


LinAlgError.__module__ = "ember.linalg"


def _rt(name, fields):
    """A named result tuple printed like ``torch.return_types.<name>``."""
    nt = namedtuple(name, fields)
    nt.__module__ = "torch.return_types"
    nt.__repr__ = lambda self: (f"torch.return_types.{name}(\n" +
                                ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self)) + ")")
    return nt


slogdet_rt = _rt("slogdet", ("sign", "logabsdet"))
linalg_slogdet_rt = _rt("linalg_slogdet", ("sign", "logabsdet"))
linalg_inv_ex_rt = _rt("linalg_inv_ex", ("inverse", "info"))
linalg_cholesky_ex_rt = _rt("linalg_cholesky_ex", ("L", "info"))
linalg_solve_ex_rt = _rt("linalg_solve_ex", ("result", "info"))
linalg_eigh_rt = _rt("linalg_eigh", ("eigenvalues", "eigenvectors"))
linalg_eig_rt = _rt("linalg_eig", ("eigenvalues", "eigenvectors"))
linalg_svd_rt = _rt("linalg_svd", ("U", "S", "Vh"))
svd_rt = _rt("svd", ("U", "S", "V"))
linalg_qr_rt = _rt("linalg_qr", ("Q", "R"))
qr_rt = _rt("qr", ("Q", "R"))
linalg_lstsq_rt = _rt("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))
linalg_lu_factor_rt = _rt("linalg_lu_factor", ("LU", "pivots"))
linalg_lu_factor_ex_rt = _rt("linalg_lu_factor_ex", ("LU", "pivots", "info"))
linalg_lu_rt = _rt("linalg_lu", ("P", "L", "U"))
lu_unpack_rt = _rt("lu_unpack", ("P", "L", "U"))
triangular_solve_rt = _rt("triangular_solve", ("solution", "cloned_coefficient"))


# ================================================================ small helpers in ember ops (differentiable)
# torch's x.conj() is lazy (a ConjBackward0 view); where a torch composite conjugates, ember copies under that name
_CONJ = renamed(OPS["conj_physical"], "ConjBackward0", False)


def _cj(t):
    """conj for complex tensors, identity for real ones (ember has conj_physical)."""
    return t.conj_physical() if t.dtype.category == 3 else t


def _mH(t):
    return _cj(t.mT)


def _eye(n, like, m=None):
    return _ops().eye(n, n if m is None else m, dtype=like.dtype, device=like.device)


def _diag_embed(v):
    """(..., n) -> (..., n, n) with ``v`` on the diagonal."""
    n = v.shape[-1]
    return v.unsqueeze(-1) * _eye(n, v if v.dtype.category >= 2 else v.to(D.get_default_dtype()))


def _tri_mask(xp, n, m, k, lower):
    i = xp.arange(n).reshape(n, 1)
    j = xp.arange(m).reshape(1, m)
    return (j - i <= k) if lower else (j - i >= k)


def _tri_fwd(xp, x, k, lower):
    return xp.where(_tri_mask(xp, x.shape[-2], x.shape[-1], k, lower), x, xp.zeros((), x.dtype))


_TRI = defop("_linalg_tri", "raw", _tri_fwd,
             lambda g, out, x, k, lower: apply(_TRI, (g,), {"k": k, "lower": lower}),
             save_in=False, save_out=False, node="TrilBackward0")


def _tril(t, k=0):
    return apply(_TRI, (t,), {"k": k, "lower": True})


def _triu(t, k=0):
    return apply(_TRI, (t,), {"k": k, "lower": False})


def _where_vjp(g, out, c, a, b, needs):
    return (None, g * c if needs[1] else None, g * c.logical_not() if needs[2] else None)


_WHERE = defop("_linalg_where", "raw", lambda xp, c, a, b: xp.where(c, a, b), _where_vjp, needs=True,
               save_out=False, node="WhereBackward0")


def _where(c, a, b):
    """where(c, a, b) for a bool tensor ``c`` and tensors/scalars ``a``, ``b`` of one dtype."""
    return apply(_WHERE, (c, a, b), {})


def _real_part(t):
    return t.real if t.dtype.category == 3 else t




# ================================================================ checks with torch's messages
def _need_tensor(name, x, arg="A"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position 1) must be Tensor, not {type(x).__name__}")


def _check_float(name, A):
    if A.dtype.category < 2:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {_tn(A.dtype)}")
    if A.dtype is D.bfloat16 or A.dtype is D.float16:
        _check_low(name, A)


# torch's CPU build has no float16/bfloat16 LAPACK kernels: the kernel named in each op's error, and whether an
# empty input (which never reaches the kernel) gets through
_LOW_KERNEL = {"linalg.det": ("lu_cpu", True), "linalg.solve": ("lu_cpu", True), "lu": ("lu_cpu", True),
               "linalg.lu_solve": ("linalg.lu_solve_cpu", True), "linalg.cholesky": ("cholesky_cpu", True),
               "linalg.eigh": ("linalg_eigh_cpu", True), "linalg.svd": ("linalg_svd_cpu", True),
               "cdist": ("cdist", True), "linalg.solve_triangular": ("triangular_solve_cpu", False),
               "linalg.eig": ("linalg_eig_out_cpu", False), "linalg.qr": ("geqrf_cpu", False),
               "cholesky_solve": ("cholesky_solve_cpu", False), "cholesky_inverse": ("cholesky_inverse_out_cpu", False),
               "torch.linalg.householder_product": ("orgqr_cpu", False), "linalg.lstsq": ("linalg_lstsq_cpu", False)}
_LOW_ALIAS = {"linalg.eigvalsh": "linalg.eigh", "linalg.svdvals": "linalg.svd", "torch.linalg.lu_factor_ex": "lu",
              "torch.linalg.lu_factor": "lu", "linalg.lu": "lu"}
_LOW_PRECISION = ("linalg.inv", "linalg.slogdet", "logdet", "linalg.matrix_norm:svd")  # matrix_norm: 2, -2, nuc


def _check_low(name, A):
    """torch's error for a float16/bfloat16 input to a LAPACK-backed op (nothing for ops that take them)."""
    name = _LOW_ALIAS.get(name, name)
    if name in _LOW_PRECISION:
        raise RuntimeError(f"{name.split(':')[0]}: Low precision dtypes not supported. Got {_tn(A.dtype)}")
    if name in ("torch.linalg.matrix_rank", "torch.linalg.lstsq"):
        raise RuntimeError("This function doesn't handle types other than float and double")
    hit = _LOW_KERNEL.get(name)
    if hit is not None and not (hit[1] and A.numel() == 0):
        raise NotImplementedError(f"\"{hit[0]}\" not implemented for '{_tn(A.dtype)}'")


def _check_matrix(name, A, what="A"):
    if A.dim() < 2:
        raise RuntimeError(f"{name}: The input tensor {what} must have at least 2 dimensions.")


def _check_square(name, A, what="A"):
    _check_matrix(name, A, what)
    m, n = A.shape[-2], A.shape[-1]
    if m != n:
        raise RuntimeError(f"{name}: {what} must be batches of square matrices, but they are {m} by {n} matrices")


def _batch_prefix(info_arr, batched):
    """The first failing batch element (flat index) and torch's '(Batch element k): ' prefix."""
    flat = np.asarray(info_arr).reshape(-1)
    k = int(np.nonzero(flat)[0][0])
    return int(flat[k]), (f"(Batch element {k}): " if batched else "")


def _host(a):
    return a if isinstance(a, np.ndarray) else a.get()


# ================================================================ torch's LAPACK layout
# torch hands LAPACK's results back as it wrote them: every matrix column-major ("Fortran" order) and the batch
# outside, so a (..., m, n) result has strides (..., m*n, 1, m) and is not contiguous (a .view(-1) of it fails).
def _f_strides(shape):
    """Element strides of the batched column-major layout of ``shape`` (size-0 dims count as 1, as torch's)."""
    st = list(c_strides(tuple(shape[:-2]) + (shape[-1], shape[-2])))
    st[-2], st[-1] = st[-1], st[-2]
    return tuple(st)


def _colmajor(xp, x):
    """``x`` copied into torch's LAPACK layout (an O(n^2) copy beside the O(n^3) factorisation)."""
    if x.ndim < 2:
        return x
    out = MF.alloc_xp(xp, x.shape, x.dtype, _f_strides(x.shape))  # also an empty one gets torch's strides
    out[...] = x
    return out


def _set_layout(t, colmajor=True):
    """Give a fresh result (no view) with no data to move, on the meta device or empty, torch's layout for it:
    column-major, or C order. The registry's shape rules make C-ordered meta arrays."""
    if t.dim() < 2 or not (t._device.type == "meta" or t._data.size == 0):
        return t
    shape = t._data.shape
    return MF.restride_(t, _f_strides(shape) if colmajor else c_strides(shape))


# ================================================================ multi-output ops
class _MultiOp:
    """An op with several outputs sharing one graph node (the engine's ``nout`` protocol)."""
    nout = -1
    check = True
    needs = True
    save_out = False
    ufunc = None

    def __init__(self, name, fwd, vjp=None, node=None, save_in=True):
        self.name, self.fwd, self.vjp, self.save_in = name, fwd, vjp, save_in
        self.node_name = node or ("".join(p[:1].upper() + p[1:] for p in name.split("_")) + "Backward0")

    def __repr__(self):
        return f"<ember op {self.name}>"


def _standin(t):
    """Values for running a forward on a meta tensor: identity matrices (never singular)."""
    shp, dt = t._data.shape, t.dtype.np
    if len(shp) >= 2:
        return np.ascontiguousarray(np.broadcast_to(np.eye(shp[-2], shp[-1], dtype=dt), shp))
    return np.zeros(shp, dt)


def run_multi(op, args, kw, diff=None):
    """Run multi-output ``op`` on ``args``; outputs flagged in ``diff`` (default: all floating) get the node."""
    dev = None
    for a in args:
        if isinstance(a, Tensor):
            if dev is None:
                dev = a._device
            elif a._device is not dev:
                raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two "
                                   f"devices, {dev} and {a._device}!")
    be = dev.backend
    if be.is_meta:
        arrs = [_standin(a) if isinstance(a, Tensor) else a for a in args]
        with np.errstate(all="ignore"):
            res = op.fwd(np, *arrs, **kw)
        # keep each result's layout (torch's LAPACK outputs are column-major on the meta device too)
        res = [be.empty_strided(r.shape, r.dtype, MF.array_strides(r)) for r in res]
    else:
        arrs = [a._data if isinstance(a, Tensor) else a for a in args]
        res = [r if type(r) is np.ndarray else be.xp.asarray(r) for r in op.fwd(be.xp, *arrs, **kw)]
    outs = [Tensor._make(r, dev) for r in res]
    if _gm.enabled and any(isinstance(a, Tensor) and a._rg for a in args):
        flags = [o.dtype.category >= 2 and (diff is None or diff[k]) for k, o in enumerate(outs)]
        if any(flags):
            if op.vjp is None:
                raise RuntimeError(f"the derivative for '{op.name}' is not implemented.")
            _attach_multi(op, args, kw, outs, res, flags, dev)
    return outs


def _attach_multi(op, args, kw, outs, res, flags, dev):
    edges, metas, versions = [], [], []
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            edges.append(edge_of(a))
            metas.append((a._data.shape, a.dtype, a._device, i))
            versions.append(a._storage._version)
    kw2 = dict(kw)
    kw2.update(n=len(outs), outs=tuple(res), dev=dev)
    saved = tuple(args) if op.save_in else (None,) * len(args)
    node = Node(op, saved, kw2, None, edges, metas, (versions, None, 0))
    kw2["node"] = weakref.ref(node)
    for k, (o, f) in enumerate(zip(outs, flags)):
        if f:
            o.grad_fn, o._rg = node, True
            if k:
                o._output_nr = k
    if _anomaly.enabled:
        record_stack(node)


def _saved_outs(kw):
    """The outputs of a multi-output node as tensors (part of the graph again under create_graph)."""
    node = kw["node"]()
    res = []
    for k, arr in enumerate(kw["outs"]):
        t = Tensor._make(arr, kw["dev"])
        if _gm.enabled and node is not None and t.dtype.category >= 2:
            t.grad_fn, t._rg = node, True
            if k:
                t._output_nr = k
        res.append(t)
    return res


# ================================================================ batched LAPACK-like kernels (any xp)
def _cabs1(xp, x):
    return xp.abs(x.real) + xp.abs(x.imag) if x.dtype.kind == "c" else xp.abs(x)


def _lu_kernel(xp, a):
    """LU with partial pivoting as LAPACK's getrf: (LU, pivots 0-based, info) over a batch."""
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    nb = _prod(batch)
    lu = xp.array(a, copy=True).reshape((nb, m, n))
    piv = xp.zeros((nb, k), dtype=np.int64)
    info = xp.zeros((nb,), dtype=np.int64)
    rows = xp.arange(nb)
    with np.errstate(all="ignore"):
        for j in range(k):
            p = xp.argmax(_cabs1(xp, lu[:, j:, j]), axis=1) + j
            piv[:, j] = p
            rj = lu[rows, j, :].copy()
            lu[rows, j, :] = lu[rows, p, :]
            lu[rows, p, :] = rj
            pivot = lu[:, j, j]
            zero = pivot == 0
            info = xp.where((info == 0) & zero, j + 1, info)
            if j + 1 < m:
                safe = xp.where(zero, xp.ones((), lu.dtype), pivot)
                lu[:, j + 1:, j] = xp.where(zero[:, None], lu[:, j + 1:, j], lu[:, j + 1:, j] / safe[:, None])
                if j + 1 < n:
                    lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return lu.reshape(batch + (m, n)), piv.reshape(batch + (k,)), info.reshape(batch)


def _apply_pivots(xp, b, piv, reverse=False):
    """Row interchanges of getrf (0-based ``piv``) applied to ``b`` (..., n, k), in order: P^T b
    (``reverse``: in reverse order, which undoes them: P b)."""
    b = xp.array(b, copy=True)
    shp = b.shape
    bb = b.reshape((-1,) + shp[-2:])
    pp = xp.broadcast_to(piv, shp[:-2] + piv.shape[-1:]).reshape(-1, piv.shape[-1])
    rows = xp.arange(bb.shape[0])
    for j in (range(pp.shape[1] - 1, -1, -1) if reverse else range(pp.shape[1])):
        p = pp[:, j]
        rj = bb[rows, j, :].copy()
        bb[rows, j, :] = bb[rows, p, :]
        bb[rows, p, :] = rj
    return bb.reshape(shp)


def _perm_from_pivots(xp, piv, m):
    """The row permutation (as indices) that getrf's pivots describe: P^T A = rows of A in this order."""
    k = piv.shape[-1]
    batch = piv.shape[:-1]
    perm = xp.broadcast_to(xp.arange(m), batch + (m,)).reshape(-1, m).copy()
    pp = piv.reshape(perm.shape[0], k)
    rows = xp.arange(perm.shape[0])
    for j in range(k):
        p = pp[:, j]
        a = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = a
    return perm.reshape(batch + (m,))


def _trsm(xp, t, b, lower, unit):
    """Triangular solve by substitution (inf/nan on a zero diagonal, like LAPACK's trsm)."""
    n = t.shape[-1]
    batch = np.broadcast_shapes(t.shape[:-2], b.shape[:-2])
    t = xp.broadcast_to(t, batch + t.shape[-2:])
    x = xp.array(xp.broadcast_to(b, batch + b.shape[-2:]), copy=True)
    order = range(n) if lower else range(n - 1, -1, -1)
    with np.errstate(all="ignore"):
        for i in order:
            if lower:
                s = x[..., i, :] - xp.einsum("...j,...jk->...k", t[..., i, :i], x[..., :i, :]) if i else x[..., i, :]
            else:
                s = x[..., i, :] - xp.einsum("...j,...jk->...k", t[..., i, i + 1:], x[..., i + 1:, :]) \
                    if i + 1 < n else x[..., i, :]
            x[..., i, :] = s if unit else s / t[..., i, i][..., None]
    return x


def _solve_tri(xp, t, b, lower, unit):
    """Solve T X = B for triangular T (masked), falling back to substitution when T is singular."""
    n = t.shape[-1]
    tm = xp.where(_tri_mask(xp, n, n, 0, lower), t, xp.zeros((), t.dtype))
    if unit:
        eye = xp.eye(n, dtype=bool)
        tm = xp.where(eye, xp.ones((), t.dtype), tm)
    if n == 0 or b.shape[-1] == 0:
        batch = np.broadcast_shapes(t.shape[:-2], b.shape[:-2])
        return xp.zeros(batch + b.shape[-2:], np.result_type(t.dtype, b.dtype))
    if not bool(xp.all(xp.diagonal(tm, 0, -2, -1) != 0)):
        return _trsm(xp, tm, b, lower, unit)
    batch = np.broadcast_shapes(t.shape[:-2], b.shape[:-2])
    return xp.linalg.solve(xp.broadcast_to(tm, batch + tm.shape[-2:]), xp.broadcast_to(b, batch + b.shape[-2:]))


def _chol_kernel(xp, a):
    """Unblocked Cholesky as LAPACK's potf2, batched: (L, info) with the partial factor where it fails."""
    n = a.shape[-1]
    batch = a.shape[:-2]
    L = xp.array(xp.where(_tri_mask(xp, n, n, 0, True), a, xp.zeros((), a.dtype)), copy=True).reshape((-1, n, n))
    info = xp.zeros((L.shape[0],), dtype=np.int64)
    with np.errstate(all="ignore"):
        for j in range(n):
            active = info == 0
            r = L[:, j, :j]
            ajj = (L[:, j, j] - xp.sum(r * xp.conj(r), axis=-1)).real
            bad = active & ((ajj <= 0) | xp.isnan(ajj))
            info = xp.where(bad, j + 1, info)
            good = active & ~bad
            root = xp.sqrt(xp.where(good, ajj, 1.0))
            L[:, j, j] = xp.where(good, root, xp.where(bad, ajj, L[:, j, j].real)).astype(L.dtype) \
                if L.dtype.kind == "c" else xp.where(good, root, xp.where(bad, ajj, L[:, j, j]))
            if j + 1 < n:
                upd = (L[:, j + 1:, j] - xp.einsum("bik,bk->bi", L[:, j + 1:, :j], xp.conj(r))) / root[:, None]
                L[:, j + 1:, j] = xp.where(good[:, None], upd, L[:, j + 1:, j])
    return L.reshape(batch + (n, n)), info.reshape(batch)


def _finite_all(xp, r):
    return bool(xp.all(xp.isfinite(r)))


def _broadcast(sa, sb):
    """np.broadcast_shapes with torch's error message."""
    sa, sb = tuple(sa), tuple(sb)
    try:
        return tuple(np.broadcast_shapes(sa, sb))
    except ValueError:
        n = max(len(sa), len(sb))
        pa, pb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
        for i in reversed(range(n)):
            if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
                raise RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                                   f"non-singleton dimension {i}") from None
        raise


# ================================================================ fused products: addmm, addmv, addbmm, baddbmm
def _scal(v, dt):
    """beta/alpha as the tensor's dtype sees them (ints truncate, like torch)."""
    if dt.kind in "iub":
        return int(v)
    return v


def _expand_check(inp, shape):
    try:
        return np.broadcast_shapes(inp, shape) == tuple(shape)
    except ValueError:
        return False


def _expand_err(inp_shape, shape):
    nd, lead = len(inp_shape), len(shape) - len(inp_shape)
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(shape)}) must be greater or equal to the "
                           f"number of dimensions in the tensor ({nd})")
    for i in reversed(range(nd)):
        cur, s = inp_shape[i], shape[lead + i]
        if cur != s and cur != 1:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                               f"non-singleton dimension {lead + i}.  Target sizes: {list(shape)}.  Tensor sizes: "
                               f"{list(inp_shape)}")


# float16/bfloat16 products are computed in float32 and rounded once at the end: torch's CPU kernels accumulate
# in float32, and NumPy (ml_dtypes) has no bfloat16 matmul/einsum of its own
_LOW = (D.float16.np, D.bfloat16.np)


def _wide(*arrs):
    """(arrays in float32 if the first is float16/bfloat16, the dtype to round the result to or None)."""
    dt = arrs[0].dtype
    if dt not in _LOW:
        return arrs, None
    return tuple(a.astype(np.float32) for a in arrs), dt


def _narrow(r, dt):
    return r if dt is None else r.astype(dt)


def _axpby(xp, inp, prod, beta, alpha):
    dt = prod.dtype
    beta, alpha = _scal(beta, dt), _scal(alpha, dt)
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        return xp.asarray(prod, dtype=dt)
    r = prod + (inp if beta == 1 else inp * beta)
    return r.astype(dt, copy=False)


def _addmm_fwd(xp, inp, m1, m2, beta, alpha):
    if m1.shape[1] != m2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({m1.shape[0]}x{m1.shape[1]} and "
                           f"{m2.shape[0]}x{m2.shape[1]})")
    shape = (m1.shape[0], m2.shape[1])
    if not _expand_check(inp.shape, shape):
        _expand_err(inp.shape, shape)
    (inp, m1, m2), low = _wide(inp, m1, m2)
    return _narrow(_axpby(xp, inp, xp.matmul(m1, m2), beta, alpha), low)


def _conj_s(v):
    return v.conjugate() if isinstance(v, complex) else v


def _addmm_vjp(g, out, inp, m1, m2, needs, beta, alpha):
    a = _conj_s(alpha)
    gi = (g if beta == 1 else g * _conj_s(beta)) if needs[0] else None
    g1 = g @ _mH(m2) if needs[1] else None
    g2 = _mH(m1) @ g if needs[2] else None
    if a != 1:
        g1 = g1 * a if g1 is not None else None
        g2 = g2 * a if g2 is not None else None
    return gi, g1, g2


_ADDMM = defop("addmm", "raw", _addmm_fwd, _addmm_vjp, needs=True, save_in=(False, 2, 1), save_out=False,
               shape=lambda si, s1, s2, beta, alpha: (s1[0], s2[1]))


def _same_dtype3(a, b, c, names=("self", "mat1", "mat2")):
    if b.dtype is not c.dtype or a.dtype is not c.dtype:
        if a.dtype is not c.dtype:
            raise RuntimeError(f"{names[0]} and {names[2]} must have the same dtype, but got {_tn(a.dtype)} and "
                               f"{_tn(c.dtype)}")
        raise RuntimeError(f"{names[1]} and {names[2]} must have the same dtype, but got {_tn(b.dtype)} and "
                           f"{_tn(c.dtype)}")


def _check_addmm(input, mat1, mat2):
    for x, nm in ((input, "input"), (mat1, "mat1"), (mat2, "mat2")):
        _need_tensor("addmm", x, nm)
    if mat1.dim() != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {mat1.dim()}-D tensor")
    if mat2.dim() != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {mat2.dim()}-D tensor")
    _same_dtype3(input, mat1, mat2)


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat1 @ mat2) for 2-D matrices (input broadcasts)."""
    _check_addmm(input, mat1, mat2)
    r = apply(_ADDMM, (input, mat1, mat2), {"beta": beta, "alpha": alpha})
    return r if out is None else write_out(out, r)


def _addmv_fwd(xp, inp, mat, vec, beta, alpha):
    if mat.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({mat.shape[0]}), mat ({mat.shape[0]}x{mat.shape[1]}), "
                           f"vec ({vec.shape[0]})")
    if not _expand_check(inp.shape, (mat.shape[0],)):
        raise RuntimeError(f"size mismatch, got input ({inp.shape[0] if inp.ndim else 1}), mat "
                           f"({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")
    (inp, mat, vec), low = _wide(inp, mat, vec)
    return _narrow(_axpby(xp, inp, xp.matmul(mat, vec), beta, alpha), low)


def _addmv_vjp(g, out, inp, mat, vec, needs, beta, alpha):
    a = _conj_s(alpha)
    gi = (g if beta == 1 else g * _conj_s(beta)) if needs[0] else None
    gm = g.unsqueeze(-1) * _cj(vec).unsqueeze(-2) if needs[1] else None
    gv = _mH(mat) @ g if needs[2] else None
    if a != 1:
        gm = gm * a if gm is not None else None
        gv = gv * a if gv is not None else None
    return gi, gm, gv


_ADDMV = defop("addmv", "raw", _addmv_fwd, _addmv_vjp, needs=True, save_in=(False, 2, 1), save_out=False,
               shape=lambda si, sm, sv, beta, alpha: (sm[0],))


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat @ vec)."""
    if input.dtype is not mat.dtype or mat.dtype is not vec.dtype:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {_tn(input.dtype)}, "
                           f"{_tn(mat.dtype)}, and {_tn(vec.dtype)}")
    if mat.dim() != 2 or vec.dim() != 1 or input.dim() > 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.dim()}, {mat.dim()}, {vec.dim()}")
    r = apply(_ADDMV, (input, mat, vec), {"beta": beta, "alpha": alpha})
    return r if out is None else write_out(out, r)


def _bmm_checks(b1, b2, name):
    if b1.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if b1.shape[0] != b2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {b1.shape[0]} and "
                           f"{b2.shape[0]}")
    if b1.shape[2] != b2.shape[1]:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({b1.shape[1]}x{b1.shape[2]} and "
                           f"{b2.shape[1]}x{b2.shape[2]})")


def _baddbmm_fwd(xp, inp, b1, b2, beta, alpha, reduce):
    if not reduce and b1.ndim >= 2 and b2.ndim >= 3:
        # torch sizes the result (and broadcasts input to it) before checking the operands
        shape = (b1.shape[0], b1.shape[1], b2.shape[2])
        if not _expand_check(inp.shape, shape):
            _expand_err(inp.shape, shape)
    if reduce and b1.ndim >= 2 and b2.ndim >= 3:
        shape = (b1.shape[1], b2.shape[2])
        if not _expand_check(inp.shape, shape):
            _expand_err(inp.shape, shape)
    if reduce:
        _bmm_checks(b1, b2, "addbmm")
    else:
        if b1.ndim != 3:
            raise RuntimeError("batch1 must be a 3D tensor")
        if b2.ndim != 3:
            raise RuntimeError("batch2 must be a 3D tensor")
        if b1.shape[0] != b2.shape[0] or b1.shape[2] != b2.shape[1]:
            raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{b1.shape[0]}, "
                               f"{b1.shape[2]}] but got: [{b2.shape[0]}, {b2.shape[1]}].")
    (inp, b1, b2), low = _wide(inp, b1, b2)
    prod = xp.matmul(b1, b2)
    if reduce:
        prod = prod.sum(axis=0, dtype=prod.dtype)
    if not _expand_check(inp.shape, prod.shape):
        _expand_err(inp.shape, prod.shape)
    return _narrow(_axpby(xp, inp, prod, beta, alpha), low)


def _baddbmm_vjp(g, out, inp, b1, b2, needs, beta, alpha, reduce):
    a = _conj_s(alpha)
    gi = (g if beta == 1 else g * _conj_s(beta)) if needs[0] else None
    gb = g.unsqueeze(0) if reduce else g
    g1 = gb @ _mH(b2) if needs[1] else None
    g2 = _mH(b1) @ gb if needs[2] else None
    if a != 1:
        g1 = g1 * a if g1 is not None else None
        g2 = g2 * a if g2 is not None else None
    return gi, g1, g2


_BADDBMM = defop("baddbmm", "raw", _baddbmm_fwd, _baddbmm_vjp, needs=True, save_in=(False, 2, 1), save_out=False,
                 shape=lambda si, s1, s2, beta, alpha, reduce: ((s1[1], s2[2]) if reduce else (s1[0], s1[1], s2[2])))
_ADDBMM = defop("addbmm", "raw", _baddbmm_fwd, _baddbmm_vjp, needs=True, save_in=(False, 2, 1), save_out=False,
                shape=lambda si, s1, s2, beta, alpha, reduce: ((s1[1], s2[2]) if reduce else (s1[0], s1[1], s2[2])))


def _bdt_check(input, b1, b2, inplace=False):
    """baddbmm's dtype errors, as torch words them."""
    if input.dtype is not b1.dtype or input.dtype is not b2.dtype:
        ct = lambda t: _CTYPE.get(t.dtype.name, t.dtype.name)  # noqa: E731
        if input.dtype is not b1.dtype:
            raise RuntimeError(f"Input dtypes must be the same, got: input {ct(input)}, batch1: {ct(b1)}, "
                               f"batch2: {ct(b2)}")
        if inplace:
            raise RuntimeError(f"Bad in-place call: input tensor dtype {ct(input)} and output tensor dtype {ct(b2)} "
                               f"should match")
        raise RuntimeError(f"expected scalar type {_tn(b1.dtype)} but found {_tn(b2.dtype)}")


def _addbmm_check(input, b1, b2):
    _same_dtype3(input, b1, b2)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (batch1 @ batch2) for batches of matrices."""
    _bdt_check(input, batch1, batch2)
    r = apply(_BADDBMM, (input, batch1, batch2), {"beta": beta, "alpha": alpha, "reduce": False})
    return r if out is None else write_out(out, r)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * sum_b(batch1[b] @ batch2[b])."""
    _addbmm_check(input, batch1, batch2)
    r = apply(_ADDBMM, (input, batch1, batch2), {"beta": beta, "alpha": alpha, "reduce": True})
    return r if out is None else write_out(out, r)


# ================================================================ outer, vdot, inner, trace, kron, cross
def outer(input, vec2, *, out=None):
    """Outer product of two 1-D tensors (type promotion as for ``mul``)."""
    if input.dim() != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input.dim()}-D")
    if vec2.dim() != 1:
        raise RuntimeError(f"outer: Expected 1-D argument vec2, but got {vec2.dim()}-D")
    r = input.reshape(-1, 1) * vec2
    return r if out is None else write_out(out, r)


def _vdot_fwd(xp, a, b):
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to "
                           f"have the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements "
                           f"respectively")
    return xp.asarray(xp.vdot(a, b))


_VDOT = defop("vdot", "raw", _vdot_fwd,
              lambda g, out, a, b, needs: (_cj(g) * b if needs[0] else None, g * a if needs[1] else None),
              needs=True, save_in=(1, 0), save_out=False, shape=lambda sa, sb: ())


def vdot(input, other, *, out=None):
    """sum(conj(input) * other) for 1-D tensors of one dtype."""
    if input.dtype is not other.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {_tn(input.dtype)} and "
                           f"{_tn(other.dtype)}")
    r = apply(_VDOT, (input, other), {})
    return r if out is None else write_out(out, r)


def inner(input, other, *, out=None):
    """Sum over the last dims of both (a product when either is 0-d)."""
    if input.dim() == 0 or other.dim() == 0:
        r = input * other
        return r if out is None else write_out(out, r)
    if input.dtype is not other.dtype:
        raise RuntimeError("both inputs should have same dtype")
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    r = tensordot(input, other, ([-1], [-1]))
    return r if out is None else write_out(out, r)


def _trace_fwd(xp, x):
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    dt = np.int64 if x.dtype.kind in "iu" else x.dtype
    return xp.asarray(xp.trace(x, dtype=dt))


_TRACE = defop("trace", "raw", _trace_fwd,
               lambda g, out, x: g * _eye(x.shape[0], g, x.shape[1]), save_in=(None,), save_out=False,
               shape=lambda s: ())


def trace(input):
    """Sum of the main diagonal of a 2-D tensor (integers sum to int64)."""
    if input.dtype is D.bool_:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return apply(_TRACE, (input,), {})


def kron(input, other, *, out=None):
    """Kronecker product (blocks ``input[i] * other``), with type promotion."""
    nd = max(input.dim(), other.dim())
    sa = (1,) * (nd - input.dim()) + tuple(input.shape)
    sb = (1,) * (nd - other.dim()) + tuple(other.shape)
    shape = tuple(x * y for x, y in zip(sa, sb))
    if not (_gm.enabled and (input._rg or other._rg)):
        # no graph: the product is fresh, so its reshape is a new tensor (not a view), as torch's
        r = input.reshape(sum(((s, 1) for s in sa), ())) * other.reshape(sum(((1, s) for s in sb), ()))
        r = Tensor._make(r._data.reshape(shape), r._device) if r._device.type != "meta" else r.reshape(shape)
        return r if out is None else write_out(out, r)
    from .view import _UNSAFE_VIEW, _UNSAFE_VIEW_FRESH  # torch reshapes with _unsafe_view here (UnsafeViewBackward0)

    def uv(t, shape):
        return apply(_UNSAFE_VIEW, (t.contiguous(),), {"shape": shape})
    a = uv(input, sum(((s, 1) for s in sa), ()))
    b = uv(other, sum(((1, s) for s in sb), ()))
    r = apply(_UNSAFE_VIEW_FRESH, (a * b,), {"shape": shape})  # the product is fresh: no copy
    return r if out is None else write_out(out, r)


def _cross_fwd(xp, a, b, dim):
    return xp.cross(a, b, axis=dim)


_CROSS = defop("linalg_cross", "raw", _cross_fwd,
               lambda g, out, a, b, needs, dim: (apply(_CROSS, (_cj(b), g), {"dim": dim}) if needs[0] else None,
                                                 apply(_CROSS, (g, _cj(a)), {"dim": dim}) if needs[1] else None),
               needs=True, save_in=(1, 0), save_out=False)


def _cross(name, input, other, dim):
    if input.dtype is not other.dtype:
        raise RuntimeError(f"expected scalar type {_tn(input.dtype)} but found {_tn(other.dtype)}")
    if input.dim() != other.dim():
        raise RuntimeError(f"{name}: inputs must have the same number of dimensions.")
    shape = _broadcast(input.shape, other.shape)
    d = wrap_dim(dim, len(shape))
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"{name}: inputs dimension {dim} must have length 3. Got {input.shape[d]} and "
                           f"{other.shape[d]}")
    # the op broadcasts (torch's node has edges to the inputs themselves, not to expanded views)
    return apply(_CROSS, (input, other), {"dim": d})


_cross_warned = [False]


def cross(input, other, dim=None, *, out=None):
    """3-D cross product along ``dim`` (default: the first dim of size 3, with torch's deprecation warning)."""
    if dim is None:
        if not _cross_warned[0]:
            import warnings
            warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the "
                          "dim explicitly or simply use torch.linalg.cross.\nThe default value of dim will change "
                          "to agree with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
            _cross_warned[0] = True
        shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
        dims = [i for i, s in enumerate(shape) if s == 3]
        if not dims:
            raise RuntimeError("no dimension of size 3 in input")
        dim = dims[0]
    r = _cross("linalg.cross", input, other, dim)
    return r if out is None else write_out(out, r)


def linalg_cross(input, other, *, dim=-1, out=None):
    """3-D cross product along ``dim`` with broadcasting (torch.linalg.cross)."""
    r = _cross("linalg.cross", input, other, dim)
    return r if out is None else write_out(out, r)


# ================================================================ tensordot, multi_dot, chain_matmul
def _tensordot_dims(a, b, dims):
    if isinstance(dims, Tensor):
        dims = dims.item() if dims.dim() == 0 else dims.tolist()
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        n = int(dims)
        if n < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={n}")
        if n > a.dim() or n > b.dim():
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={n}")
        return list(range(a.dim() - n, a.dim())), list(range(n))
    if isinstance(dims, (list, tuple)) and len(dims) == 2:
        da, db = dims
        for nm, d in (("dims_self", da), ("dims_other", db)):
            if isinstance(d, (int, np.integer)):
                raise TypeError(f"tensordot(): argument '{nm}' (position 3) must be tuple of ints, not int")
        da, db = [int(x) for x in da], [int(x) for x in db]
        if len(da) != len(db):
            raise RuntimeError("both dimension lists should have same length")
        return da, db
    raise RuntimeError(f"tensordot expects dims to be an int or a pair of lists, but got {dims!r}")




def tensordot(a, b, dims=2, out=None):
    """Contract dims of ``a`` with dims of ``b`` (an int n: last n of a with first n of b)."""
    da, db = _tensordot_dims(a, b, dims)
    if a.dtype is not b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    da = [wrap_dim(d, a.dim()) for d in da]
    db = [wrap_dim(d, b.dim()) for d in db]
    sa, sb = list(a.shape), list(b.shape)
    for x, y in zip(da, db):
        if sa[x] != sb[y]:
            if sa[x] == 1:
                sa[x] = sb[y]
            elif sb[y] == 1:
                sb[y] = sa[x]
            else:
                raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[x]} in dim "
                                   f"{x} and second has size {b.shape[y]} in dim {y}")
    if sa != list(a.shape):
        a = a.expand(sa)
    if sb != list(b.shape):
        b = b.expand(sb)
    fa = [i for i in range(a.dim()) if i not in da]
    fb = [i for i in range(b.dim()) if i not in db]
    k = 1
    for d in da:
        k *= sa[d]
    if not fa and not fb and a.dim() and b.dim():
        # nothing left free: a dot product of the flattened operands, as torch's
        pa, pb = a.permute(da), b.permute(db)
        r = _ops().dot(pa if pa.dim() == 1 else pa.reshape(k), pb if pb.dim() == 1 else pb.reshape(k)).reshape(())
        return r if out is None else write_out(out, r)
    pa = a.permute(fa + da).reshape(_prod(sa[i] for i in fa), k) if a.dim() else a.reshape(1, 1)
    pb = b.permute(db + fb).reshape(k, _prod(sb[i] for i in fb)) if b.dim() else b.reshape(1, 1)
    r = (pa @ pb).reshape([sa[i] for i in fa] + [sb[i] for i in fb])
    return r if out is None else write_out(out, r)


_CTYPE = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int", "int16": "short int",
          "int8": "signed char", "uint8": "unsigned char", "bool": "bool", "float16": "c10::Half",
          "bfloat16": "c10::BFloat16", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _chain_order(dims):
    """Optimal parenthesisation of a matrix chain (classic O(n^3) dynamic programme)."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _multiply_chain(ts, split, i, j):
    if i == j:
        return ts[i]
    k = split[i][j]
    return _multiply_chain(ts, split, i, k) @ _multiply_chain(ts, split, k + 1, j)


def multi_dot(tensors, *, out=None):
    """Product of a chain of matrices in the cheapest order (first/last may be 1-D)."""
    ts = list(tensors)
    n = len(ts)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    if ts[0].dim() not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {ts[0].dim()}D")
    if ts[-1].dim() not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {ts[-1].dim()}D")
    for i in range(1, n - 1):
        if ts[i].dim() != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {ts[i].dim()}D")
    dt = ts[0].dtype
    for i, t in enumerate(ts):
        if t.dtype is not dt:
            a, b = _CTYPE.get(dt.name, dt.name), _CTYPE.get(t.dtype.name, t.dtype.name)
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is {a} and "
                               f"tensor {i} {b}")
    first_vec, last_vec = ts[0].dim() == 1, ts[-1].dim() == 1
    mats = list(ts)
    if first_vec:
        mats[0] = mats[0].unsqueeze(0)
    if last_vec:
        mats[-1] = mats[-1].unsqueeze(-1)
    for i in range(n - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(ts[i].shape)} and "
                               f"{list(ts[i + 1].shape)} cannot be multiplied")
    dims = [mats[0].shape[0]] + [m.shape[1] for m in mats]
    r = _multiply_chain(mats, _chain_order(dims), 0, n - 1)
    # torch always views the product back to the result's shape (dropping the vectors' unit dims)
    r = r.view(tuple(r.shape[1:] if first_vec else r.shape)[:len(r.shape) - first_vec - last_vec])
    return r if out is None else write_out(out, r)


_chain_warned = [False]


def chain_matmul(*matrices, out=None):
    """Deprecated product of 2-D matrices (use linalg.multi_dot)."""
    if not _chain_warned[0]:
        import warnings
        warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                      "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than "
                      "multiple parameters.", UserWarning, stacklevel=2)
        _chain_warned[0] = True
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    for m in matrices:
        if m.dim() != 2:
            raise RuntimeError(f"Tensor dimension is {m.dim()}, expected 2 instead.")
    if len(matrices) == 1:
        r = matrices[0].clone()
    else:
        r = multi_dot(matrices)
    return r if out is None else write_out(out, r)


# ================================================================ cdist
def _cdist_fwd(xp, x1, x2, p):
    diff = xp.abs(x1[..., :, None, :] - x2[..., None, :, :])
    if p == 0:
        return (diff != 0).sum(-1).astype(x1.dtype)
    if p == math.inf:
        return diff.max(-1) if diff.shape[-1] else xp.zeros(diff.shape[:-1], x1.dtype)
    if p == 1:
        return diff.sum(-1)
    if p == 2:
        return xp.sqrt((diff * diff).sum(-1))
    return ((diff ** p).sum(-1)) ** (1.0 / p)


def _cdist_vjp(g, out, x1, x2, needs, p):
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    gg = g.unsqueeze(-1)
    if p == 0:
        gd = diff * 0
    elif p == 1:
        gd = gg * diff.sign()
    elif p == math.inf:
        gd = gg * diff.sign() * (diff.abs() == out.unsqueeze(-1))
    else:
        dist = out.unsqueeze(-1)
        zero = dist == 0
        safe = _where(zero, 1.0, dist)
        if p == 2:
            gd = gg * diff / safe
        else:
            gd = gg * diff.sign() * diff.abs() ** (p - 1) / safe ** (p - 1)
        gd = _where(zero, 0.0, gd)
    return (gd.sum(-2) if needs[0] else None, -gd.sum(-3) if needs[1] else None)


_CDIST = defop("cdist", "raw", _cdist_fwd, _cdist_vjp, needs=True,
               shape=lambda s1, s2, p: tuple(np.broadcast_shapes(s1[:-2], s2[:-2])) + (s1[-2], s2[-2]))


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """p-norm distances between each pair of rows of ``x1`` and ``x2`` (batched, broadcasting)."""
    if x1.dim() < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.dim()}D")
    if x2.dim() < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X2 got: {x2.dim()}D")
    if x1.dtype.category != 2:
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {_tn(x1.dtype)}")
    if x2.dtype.category != 2:
        raise RuntimeError(f"cdist only supports floating-point dtypes, X2 got: {_tn(x2.dtype)}")
    if x1.dtype is not x2.dtype:
        raise RuntimeError(f"expected scalar type {_tn(x1.dtype)} but found {_tn(x2.dtype)}")
    if x1.dtype is D.bfloat16 or x1.dtype is D.float16:
        _check_low("cdist", x1 if x1.numel() == 0 else x2)
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if compute_mode not in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist", None):
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    return apply(_CDIST, (x1, x2), {"p": float(p)})


# ================================================================ einsum
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _sublist_eq(args):
    """einsum(op0, sub0, op1, sub1, ..., [out]) -> (equation, operands)."""
    ops, terms = [], []
    args = list(args)
    out = None
    if len(args) % 2 == 1:
        out = args.pop()
    for i in range(0, len(args), 2):
        ops.append(args[i])
        terms.append(args[i + 1])

    def conv(sub):
        s = ""
        for v in sub:
            if v is Ellipsis:
                s += "..."
            else:
                v = int(v)
                if not 0 <= v < 52:
                    raise RuntimeError("einsum(): subscript in subscript list is not within the valid range "
                                       "[0, 52)")
                s += _LETTERS[v]
        return s
    eq = ",".join(conv(t) for t in terms)
    if out is not None:
        eq += "->" + conv(out)
    return eq, ops


def _einsum_label_err(eq):
    for i, ch in enumerate(eq):
        if ch in " ,.->" or ch.isalpha() and ch.isascii():
            continue
        raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the equation string, subscripts "
                           f"must be in [a-zA-Z]")


def einsum(*args):
    """Einstein summation: ``einsum('ij,jk->ik', a, b)`` (ellipsis, broadcasting, sublist form)."""
    if not args:
        raise RuntimeError("einsum(): must specify the equation string and at least one operand, or at least one "
                           "operand and its subscripts list")
    if isinstance(args[0], str):
        eq, ops = args[0], list(args[1:])
        if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
            ops = list(ops[0])
    else:
        eq, ops = _sublist_eq(args)
    _einsum_label_err(eq)
    eq = eq.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->", 1)
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) > len(ops):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(ops):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    for x in ops:
        if not isinstance(x, Tensor):
            raise TypeError(f"einsum(): operands must be Tensors, not {type(x).__name__}")
    dt = ops[0].dtype
    for x in ops[1:]:
        if x.dtype is not dt:
            raise RuntimeError(f"expected scalar type {_tn(dt)} but found {_tn(x.dtype)}")
    # per operand: its labels (None marks one ellipsis dim)
    parsed, ell = [], 0
    for k, (t, x) in enumerate(zip(terms, ops)):
        has_ell = "..." in t
        letters = t.replace("...", "")
        if "." in letters:
            raise RuntimeError("einsum(): found '.' for operand {k} that is not part of any ellipsis")
        nd = x.dim()
        if not has_ell and len(letters) != nd:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(letters)}) does not match "
                               f"the number of dimensions ({nd}) for operand {k} and no ellipsis was given")
        if has_ell and len(letters) > nd:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(letters)}) is more than "
                               f"the number of dimensions ({nd}) for operand {k}")
        e = nd - len(letters)
        ell = max(ell, e) if has_ell else ell
        parsed.append((t, has_ell, e))
    used = set(c for c in lhs + (rhs or "") if c.isalpha())
    fresh = [c for c in _LETTERS if c not in used]
    if ell > len(fresh):
        raise RuntimeError("einsum(): too many dimensions in the ellipsis")
    ell_labels = fresh[:ell]
    labels = []
    for t, has_ell, e in parsed:
        lab = []
        for part_i, part in enumerate(t.split("...")):
            if part_i == 1:
                lab.extend(ell_labels[ell - e:])
            lab.extend(part)
        labels.append(lab)
    counts = {}
    for lab in labels:
        for c in lab:
            counts[c] = counts.get(c, 0) + 1
    if rhs is None:
        out = list(ell_labels) + sorted(c for c in counts if counts[c] == 1 and c not in ell_labels)
    else:
        if "." in rhs.replace("...", ""):
            raise RuntimeError("einsum(): found '.' for output but it is not part of any ellipsis")
        out = []
        for part_i, part in enumerate(rhs.split("...")):
            if part_i == 1:
                out.extend(ell_labels)
            for c in part:
                if c in out:
                    raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
                if c not in counts:
                    raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any "
                                       f"input operand")
                out.append(c)
    # sizes: a label repeated within an operand must match itself; across operands, sizes equal or 1
    size = {}
    for k, (lab, x) in enumerate(zip(labels, ops)):
        mine = {}
        for c, s in zip(lab, x.shape):
            if c in mine and mine[c] != s:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {k} but the sizes don't match, "
                                   f"{s} != {mine[c]}")
            mine[c] = s
        for c, s in mine.items():
            prev = size.get(c)
            if prev is None or prev == 1:
                size[c] = s
            elif s != 1 and s != prev:
                if c in ell_labels:
                    raise RuntimeError("einsum(): operands do not broadcast with remapped shapes (original->remapped)")
                raise RuntimeError(f"einsum(): subscript {c} has size {s} for operand {k} which does not broadcast "
                                   f"with previously seen size {prev}")
    if len(ops) > 1 and dt is D.bool_:
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    from .einsum_steps import contract
    return contract(ops, labels, out)


# ================================================================ inverse, det, slogdet, logdet
def _inv_ex_fwd(xp, a):
    batch = a.shape[:-2]
    info = xp.zeros(batch, dtype=np.int32)
    if a.size == 0:
        return _colmajor(xp, a), info
    try:
        r = xp.linalg.inv(a)
        if xp is np or _finite_all(xp, r):
            return _colmajor(xp, r), info
    except np.linalg.LinAlgError:
        pass
    lu, piv, inf = _lu_kernel(xp, a)
    eye = xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.dtype), a.shape)
    with np.errstate(all="ignore"):
        y = _trsm(xp, lu, _apply_pivots(xp, eye, piv), True, True)
        r = _trsm(xp, lu, y, False, False)
    return _colmajor(xp, r), inf.astype(np.int32)


def _inv_ex_vjp(gs, _, A, **kw):
    g = gs[0]
    if g is None:
        return (None,)
    X = _saved_outs(kw)[0]
    Xh = _mH(X)
    return (-(Xh @ g @ Xh),)


_INV_EX = _MultiOp("linalg_inv_ex", _inv_ex_fwd, _inv_ex_vjp, save_in=False)


def _inv_error(name, info, batched):
    i, pre = _batch_prefix(info, batched)
    raise LinAlgError(f"{name}: {pre}The diagonal element {i} is zero, the inversion could not be completed "
                      f"because the input matrix is singular.")


def inv_ex(A, *, check_errors=False, out=None):
    """Inverse and LAPACK's info (0, or the 1-based index of a zero pivot) without raising."""
    _need_tensor("linalg.inv_ex", A)
    _check_square("linalg.inv", A)
    _check_float("linalg.inv", A)
    X, info = run_multi(_INV_EX, (A,), {}, diff=(True, False))
    if check_errors and info._data.size and bool((info._data != 0).any()):
        _inv_error("linalg.inv_ex", _host(info._data), A.dim() > 2)
    res = linalg_inv_ex_rt(X, info)
    return res if out is None else _write_tuple(out, res)


def inv(A, *, out=None):
    """Inverse of a square matrix (batched); LinAlgError when singular."""
    _need_tensor("linalg.inv", A)
    _check_square("linalg.inv", A)
    _check_float("linalg.inv", A)
    X, info = run_multi(_INV_EX, (A,), {}, diff=(True, False))
    if info._data.size and A._device.type != "meta" and bool((info._data != 0).any()):
        _inv_error("linalg.inv", _host(info._data), A.dim() > 2)
    return X if out is None else write_out(out, X)


def _write_tuple(out, res):
    if not isinstance(out, (tuple, list)) or len(out) != len(res):
        raise TypeError(f"out must be a tuple of {len(res)} tensors")
    for o, r in zip(out, res):
        write_out(o, r)
    return type(res)(*out)


def _det_fwd(xp, a):
    if a.shape[-1] == 0:
        return xp.ones(a.shape[:-2], a.dtype)
    return xp.asarray(xp.linalg.det(a), dtype=a.dtype)


def _adjugate(A):
    """adj(A) through the SVD (valid for singular A): det(U Vh) * V diag(prod_{j!=i} s_j) U^H."""
    U, S, Vh = svd(A)
    n = S.shape[-1]
    eye = _eye(n, S)
    M = S.unsqueeze(-2) * (1 - eye) + eye
    P = M.prod(-1) if hasattr(M, "prod") else M
    phase = det(U) * det(Vh)
    return (phase.unsqueeze(-1).unsqueeze(-1) * (_mH(Vh) * P.unsqueeze(-2).to(U.dtype)) @ _mH(U))


def _det_vjp(g, out, A):
    if A.shape[-1] == 0:
        return g.unsqueeze(-1).unsqueeze(-1).expand(A.shape) * 0
    singular = bool((out._data == 0).any()) if out._device.type != "meta" else False
    if singular:
        return g.unsqueeze(-1).unsqueeze(-1) * _mH(_adjugate(A))
    return (g * _cj(out)).unsqueeze(-1).unsqueeze(-1) * _mH(inv(A))


_DET = defop("linalg_det", "raw", _det_fwd, _det_vjp, shape=lambda s: tuple(s[:-2]))


def det(A, *, out=None):
    """Determinant of a square matrix (batched)."""
    _need_tensor("linalg.det", A)
    _check_square("linalg.det", A)
    _check_float("linalg.det", A)
    r = apply(_DET, (A,), {})
    return r if out is None else write_out(out, r)


def _slogdet_fwd(xp, a):
    if a.shape[-1] == 0:
        return xp.ones(a.shape[:-2], a.dtype), xp.zeros(a.shape[:-2], a.real.dtype)
    s, l = xp.linalg.slogdet(a)
    return xp.asarray(s, dtype=a.dtype), xp.asarray(l, dtype=a.real.dtype)


def _slogdet_vjp(gs, _, A, **kw):
    gsign, glog = gs[0], gs[1]
    sign = _saved_outs(kw)[0]
    if glog is None and (gsign is None or A.dtype.category != 3):
        return (_ops().zeros_like(A),)
    gl = glog if glog is not None else None
    if A.dtype.category == 3 and gsign is not None:
        im = (_cj(sign) * gsign).imag * 1j
        gl = im if gl is None else gl.to(A.dtype) + im
    gl = gl.to(A.dtype) if gl.dtype is not A.dtype else gl
    # a singular A gives inf/nan here, as torch's, not an error
    return (gl.unsqueeze(-1).unsqueeze(-1) * _mH(inv_ex(A)[0]),)


_SLOGDET = _MultiOp("linalg_slogdet", _slogdet_fwd, _slogdet_vjp)


def slogdet(A, *, out=None):
    """(sign, log|det|) of a square matrix, computed stably."""
    _need_tensor("linalg.slogdet", A)
    _check_square("linalg.slogdet", A)
    _check_float("linalg.slogdet", A)
    s, l = run_multi(_SLOGDET, (A,), {})
    res = linalg_slogdet_rt(s, l)
    return res if out is None else _write_tuple(out, res)


def _torch_slogdet(input):
    s, l = slogdet(input)
    return slogdet_rt(s, l)


def logdet(input):
    """log(det(input)): nan for a negative determinant, -inf for a singular matrix."""
    _check_square("logdet", input)
    _check_float("logdet", input)
    # torch builds it from slogdet: where(sign == -1, nan, logabsdet), or log(sign) + logabsdet if complex;
    # so a negative determinant gets a zero gradient, as there
    sign, logabs = slogdet(input)
    if input.dtype.category == 3:
        return sign.log() + logabs
    return _ops().where(sign == -1, math.nan, logabs)


# ================================================================ solve, solve_triangular
def _solve_ex_fwd(xp, a, b, left, vec):
    if vec:
        b = b[..., None]
    if not left:
        a, b = xp.swapaxes(a, -1, -2), xp.swapaxes(b, -1, -2)
    abatch = a.shape[:-2]
    batch = tuple(np.broadcast_shapes(abatch, b.shape[:-2]))
    a = xp.broadcast_to(a, batch + a.shape[-2:])
    b = xp.broadcast_to(b, batch + b.shape[-2:])
    info = xp.zeros(batch, dtype=np.int32)
    x = None
    if a.size == 0 or b.size == 0:
        x = xp.zeros(b.shape, np.result_type(a.dtype, b.dtype))
    else:
        try:
            x = xp.linalg.solve(a, b)
            if xp is not np and not _finite_all(xp, x):
                x = None
        except np.linalg.LinAlgError:
            x = None
        if x is None:
            lu, piv, inf = _lu_kernel(xp, a)
            info = inf.astype(np.int32)
            y = _trsm(xp, lu, _apply_pivots(xp, b, piv), True, True)
            x = _trsm(xp, lu, y, False, False)
    # info is A's (its factorisation's), not broadcast over B's batch
    lead = len(batch) - len(abatch)
    info = info[(0,) * lead + tuple(slice(0, 1) if n == 1 else slice(None) for n in abatch) + (Ellipsis,)]
    # torch's layout: column-major X for A X = B (a vector result counts as a matrix when batched); for
    # X A = B it solves A^T X^T = B^T, so its X is the transpose of a column-major one
    if not left:
        return xp.swapaxes(_colmajor(xp, x), -1, -2), info.copy()
    return _colmajor(xp, x[..., 0] if vec else x), info.copy()


def _solve_mat(A, B, left):
    X, info = run_multi(_SOLVE_EX, (A, B), {"left": left, "vec": False}, diff=(True, False))
    _raise_solve(info, A)
    return X


def _solve_ex_vjp(gs, _, A, B, needs, left, vec, **kw):
    g = gs[0]
    if g is None:
        return None, None
    X = _saved_outs(kw)[0]
    if vec:
        g, X = g.unsqueeze(-1), X.unsqueeze(-1)
    Ah = _mH(A)
    gB = _solve_mat(Ah, g, left)
    gA = None
    if needs[0]:
        gA = -(gB @ _mH(X)) if left else -(_mH(X) @ gB)
    if vec:
        gB = gB.squeeze(-1)
    return gA, (gB if needs[1] else None)


_SOLVE_EX = _MultiOp("linalg_solve_ex", _solve_ex_fwd, _solve_ex_vjp)


def _raise_solve(info, A, name="torch.linalg.solve"):
    if info._data.size and info._device.type != "meta" and bool((info._data != 0).any()):
        _, pre = _batch_prefix(_host(info._data), info.dim() > 0)
        raise LinAlgError(f"{name}: {pre}The solver failed because the input matrix is singular.")


def _solve_prep(A, B, left):
    _need_tensor("linalg.solve", A)
    _need_tensor("linalg.solve", B, "B")
    _check_square("linalg.solve", A)
    _check_float("linalg.solve", A)
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{_tn(A.dtype)} and B of type {_tn(B.dtype)} instead")
    vec = B.dim() == 1 or (A.dim() - 1 == B.dim() and tuple(B.shape) == tuple(A.shape[:-1]))
    n = A.shape[-1]
    if vec:
        rows, cols = B.shape[-1], 1
    else:
        if B.dim() < 2:
            raise RuntimeError("linalg.solve: The input tensor B must have at least 2 dimensions.")
        rows, cols = B.shape[-2], B.shape[-1]
    if (rows if left else cols) != n or (vec and not left):
        eqn = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation {eqn} ({n}x{n} and "
                           f"{rows}x{cols})")
    _broadcast(B.shape[:-1] if vec else B.shape[:-2], A.shape[:-2])
    return vec


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """Solution of A X = B (or X A = B) and LAPACK's info, without raising on singular A."""
    vec = _solve_prep(A, B, left)
    X, info = run_multi(_SOLVE_EX, (A, B), {"left": left, "vec": vec}, diff=(True, False))
    if check_errors:
        _raise_solve(info, A, "torch.linalg.solve_ex")
    res = linalg_solve_ex_rt(X, info)
    return res if out is None else _write_tuple(out, res)


def solve(A, B, *, left=True, out=None):
    """Solve A X = B (left=True) or X A = B for square A, batched with broadcasting; B may be a vector."""
    vec = _solve_prep(A, B, left)
    X, info = run_multi(_SOLVE_EX, (A, B), {"left": left, "vec": vec}, diff=(True, False))
    _raise_solve(info, A)
    return X if out is None else write_out(out, X)


def _st_fwd(xp, a, b, upper, left, unit):
    if not left:
        # X A = B  <=>  A^T X^T = B^T with the other triangle
        x = _solve_tri(xp, xp.swapaxes(a, -1, -2), xp.swapaxes(b, -1, -2), upper, unit)
        return _colmajor(xp, xp.swapaxes(x, -1, -2))  # column-major either side, as torch's
    return _colmajor(xp, _solve_tri(xp, a, b, not upper, unit))


def _st_vjp(g, out, A, B, needs, upper, left, unit):
    Ah = _mH(A)
    gB = solve_triangular(Ah, g, upper=not upper, left=left, unitriangular=unit)
    gA = None
    if needs[0]:
        gA = -(gB @ _mH(out)) if left else -(_mH(out) @ gB)
        gA = _triu(gA, 1 if unit else 0) if upper else _tril(gA, -1 if unit else 0)
    return gA, (gB if needs[1] else None)


_SOLVE_TRI = defop("linalg_solve_triangular", "raw", _st_fwd, _st_vjp, needs=True, save_in=(True, False),
                   shape=lambda sa, sb, upper, left, unit: (tuple(np.broadcast_shapes(sa[:-2], sb[:-2])) +
                                                            tuple(sb[-2:])))


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """Solve a triangular system (only the ``upper`` or lower triangle of A is read; no vector B)."""
    _check_matrix("linalg.solve_triangular", A)
    _check_matrix("linalg.solve_triangular", B, "B")
    _check_square("linalg.solve_triangular", A)
    _check_float("linalg.solve_triangular", A)
    n = A.shape[-1]
    rows, cols = B.shape[-2], B.shape[-1]
    if (rows if left else cols) != n:
        eqn = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation {eqn} "
                           f"({n}x{n} and {rows}x{cols})")
    if B.dtype is not A.dtype:
        B = B.to(A.dtype)
    r = apply(_SOLVE_TRI, (A, B), {"upper": bool(upper), "left": bool(left), "unit": bool(unitriangular)})
    r = _set_layout(r)
    return r if out is None else write_out(out, r)


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """Deprecated (solution, cloned_coefficient) form of solve_triangular."""
    At = A.mT if transpose else A
    x = solve_triangular(At, b, upper=(not upper) if transpose else upper, unitriangular=unitriangular)
    # torch's copy of A is the column-major matrix its LAPACK call read, broadcast to the batch of x
    shape = tuple(x.shape[:-2]) + tuple(A.shape[-2:])
    C = _ops().empty_strided(shape, _f_strides(shape), dtype=A.dtype, device=A.device).copy_(A.expand(shape))
    res = triangular_solve_rt(x, C)
    return res if out is None else _write_tuple(out, res)


# ================================================================ cholesky
def _chol_fwd(xp, a, upper):
    if upper:
        a = xp.conj(xp.swapaxes(a, -1, -2))
    info = xp.zeros(a.shape[:-2], dtype=np.int32)
    L = None
    if a.size == 0:
        L = xp.array(a, copy=True)
    else:
        try:
            L = xp.linalg.cholesky(a)
            if xp is not np and not _finite_all(xp, L):
                L = None
        except np.linalg.LinAlgError:
            L = None
        if L is None:
            L, inf = _chol_kernel(xp, a)
            info = inf.astype(np.int32)
    if upper:
        L = xp.conj(xp.swapaxes(L, -1, -2))
    return _colmajor(xp, L), info


def _chol_vjp(gs, _, A, upper, **kw):
    gL = gs[0]
    if gL is None:
        return (None,)
    L = _saved_outs(kw)[0]
    if upper:
        L, gL = _mH(L), _mH(gL)
    # dL = L Phi(L^-1 dA L^-H), Phi = lower triangle with the diagonal halved; the adjoint, mirrored to
    # the strictly upper triangle (real diagonal parts as they come, like torch), is sandwiched by L^-H, L^-1
    P = _tril(_mH(L) @ gL)
    S = 0.5 * (P + _mH(_tril(P, -1)))
    Lh = _mH(L)
    X = solve_triangular(Lh, S, upper=True)                       # L^-H S
    return (solve_triangular(L, X, upper=False, left=False),)     # L^-H S L^-1


_CHOL = _MultiOp("linalg_cholesky_ex", _chol_fwd, _chol_vjp, save_in=False)


def _chol_error(name, info, batched):
    i, pre = _batch_prefix(info, batched)
    raise LinAlgError(f"{name}: {pre}The factorization could not be completed because the input is not "
                      f"positive-definite (the leading minor of order {i} is not positive-definite).")


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """Cholesky factor and LAPACK's info (order of the first non positive-definite minor) without raising."""
    _check_square("linalg.cholesky", A)
    _check_float("linalg.cholesky", A)
    L, info = run_multi(_CHOL, (A,), {"upper": bool(upper)}, diff=(True, False))
    if check_errors and info._data.size and bool((info._data != 0).any()):
        _chol_error("linalg.cholesky_ex", _host(info._data), A.dim() > 2)
    res = linalg_cholesky_ex_rt(L, info)
    return res if out is None else _write_tuple(out, res)


def cholesky(A, *, upper=False, out=None):
    """Cholesky factor L (A = L L^H), or U with upper=True; LinAlgError when not positive-definite."""
    _check_square("linalg.cholesky", A)
    _check_float("linalg.cholesky", A)
    L, info = run_multi(_CHOL, (A,), {"upper": bool(upper)}, diff=(True, False))
    if info._data.size and A._device.type != "meta" and bool((info._data != 0).any()):
        _chol_error("linalg.cholesky", _host(info._data), A.dim() > 2)
    return L if out is None else write_out(out, L)


def _torch_cholesky(input, upper=False, *, out=None):
    L = cholesky(input, upper=upper)
    if input.numel() == 0:
        L = _set_layout(L, False)  # torch.cholesky answers an empty input with a C-ordered empty_like
    return L if out is None else write_out(out, L)


def _chol_solve_fwd(xp, b, l, upper):
    L = xp.conj(xp.swapaxes(l, -1, -2)) if upper else l
    y = _solve_tri(xp, L, b, True, False)
    return _colmajor(xp, _solve_tri(xp, xp.conj(xp.swapaxes(L, -1, -2)), y, False, False))


def _chol_solve_vjp(g, X, B, L, needs, upper):
    # X = A^-1 B with A = L L^H (or U^H U): gA = -gB X^H, and A's factor gets (gA + gA^H) L
    gB = apply(_CHOL_SOLVE, (g, L), {"upper": upper})
    gL = None
    if needs[1]:
        common = gB @ _mH(X)
        common = common + _mH(common)
        gL = -(L @ common) if upper else -(common @ L)
    return (gB if needs[0] else None), gL


_CHOL_SOLVE = defop("cholesky_solve", "raw", _chol_solve_fwd, _chol_solve_vjp, needs=True,
                    shape=lambda sb, sl, upper: tuple(np.broadcast_shapes(sb[:-2], sl[:-2])) + tuple(sb[-2:]))


def cholesky_solve(B, L, upper=False, *, out=None):
    """Solve A X = B given the Cholesky factor of A (only its triangle is read)."""
    if B.dim() < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {B.dim()} dimensions instead")
    if L.dim() < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {L.dim()} dimensions instead")
    if B.dtype is not L.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {_tn(B.dtype)} and A of "
                           f"type {_tn(L.dtype)} instead.")
    _check_float("cholesky_solve", L)
    x = _set_layout(apply(_CHOL_SOLVE, (B, L), {"upper": bool(upper)}))
    return x if out is None else write_out(out, x)


# cholesky_solve with B = I, L its only input (torch's node has one edge)
_CHOL_INV = defop("cholesky_inverse", "raw",
                  lambda xp, l, upper: _chol_solve_fwd(xp, xp.eye(l.shape[-1], dtype=l.dtype), l, upper),
                  lambda g, X, L, upper: _chol_solve_vjp(g, X, None, L, (False, True), upper)[1],
                  shape=lambda sl, upper: tuple(sl))


def cholesky_inverse(L, upper=False, *, out=None):
    """Inverse of A from its Cholesky factor."""
    _check_float("cholesky_inverse", L)
    if L.dim() >= 2:
        r = _set_layout(apply(_CHOL_INV, (L,), {"upper": bool(upper)}))
    else:
        r = cholesky_solve(_eye(L.shape[-1], L).expand(L.shape), L, upper)
    return r if out is None else write_out(out, r)


# ================================================================ eigh / eigvalsh / eig / eigvals
def _eigh_fwd(xp, a, uplo):
    if a.shape[-1] == 0:
        return xp.zeros(a.shape[:-1], a.real.dtype), _colmajor(xp, a)
    w, v = xp.linalg.eigh(a, UPLO=uplo)
    return w, _colmajor(xp, v)


def _eigh_vjp(gs, _, A, uplo, **kw):
    gL, gV = gs[0], gs[1]
    L, V = _saved_outs(kw)
    Vh = _mH(V)
    inner = None
    if gV is not None:
        E = L.unsqueeze(-2) - L.unsqueeze(-1)            # E[i, j] = L[j] - L[i]
        n = L.shape[-1]
        eye = _eye(n, E)
        F = (E + eye).reciprocal() * (1 - eye)
        inner = (Vh @ gV) * F.to(V.dtype)
    if gL is not None:
        d = _diag_embed(gL).to(V.dtype)
        inner = d if inner is None else inner + d
    if inner is None:
        return (None,)
    gA = V @ inner @ Vh
    return (0.5 * (gA + _mH(gA)),)


_EIGH = _MultiOp("linalg_eigh", _eigh_fwd, _eigh_vjp, save_in=False)


def _check_uplo(uplo):
    if uplo not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {uplo}")
    return uplo.upper()


def eigh(A, UPLO="L", *, out=None):
    """Eigenvalues (ascending, real) and orthonormal eigenvectors of a Hermitian matrix."""
    _check_square("linalg.eigh", A)
    _check_float("linalg.eigh", A)
    w, v = run_multi(_EIGH, (A,), {"uplo": _check_uplo(UPLO)})
    res = linalg_eigh_rt(w, v)
    return res if out is None else _write_tuple(out, res)


def eigvalsh(A, UPLO="L", *, out=None):
    """Eigenvalues of a Hermitian matrix, ascending."""
    _check_square("linalg.eigvalsh", A)
    _check_float("linalg.eigvalsh", A)
    w = run_multi(_EIGH, (A,), {"uplo": _check_uplo(UPLO)})[0]
    return w if out is None else write_out(out, w)


def _eig_np(a):
    w, v = np.linalg.eig(a)
    c = np.result_type(a.dtype, np.complex64)
    return w.astype(c), v.astype(c)


def _eig_fwd(xp, a):
    c = np.result_type(a.dtype, np.complex64)
    if a.shape[-1] == 0:
        return xp.zeros(a.shape[:-1], c), _colmajor(xp, xp.zeros(a.shape, c))
    if xp is np:
        w, v = _eig_np(a)
    elif hasattr(xp.linalg, "eig"):
        w, v = xp.linalg.eig(a)
        w, v = w.astype(c), v.astype(c)
    else:
        w, v = _eig_np(xp.asnumpy(a))
        w, v = xp.asarray(w), xp.asarray(v)
    return w, _colmajor(xp, v)


def _eig_vjp(gs, _, A, **kw):
    gL, gV = gs[0], gs[1]
    L, V = _saved_outs(kw)
    Vh = _mH(V)
    n = L.shape[-1]
    inner = None
    if gV is not None:
        VhgV = Vh @ gV
        # eigenvectors have unit norm: remove the component along the normalisation direction
        VhgV = VhgV - (Vh @ V) * _real_part(VhgV.diagonal(0, -2, -1)).unsqueeze(-2).to(V.dtype)
        E = _cj(L.unsqueeze(-2) - L.unsqueeze(-1))
        eye = _eye(n, E)
        inner = VhgV * ((E + eye).reciprocal() * (1 - eye))
    if gL is not None:
        d = _diag_embed(gL)
        inner = d if inner is None else inner + d
    if inner is None:
        return (None,)
    return (_solve_mat(Vh, inner @ Vh, True),)


_EIG = _MultiOp("linalg_eig", _eig_fwd, _eig_vjp, save_in=False)


def _check_eig_dtype(A):
    if A.dtype.category < 2:
        raise RuntimeError(f"Unknown Complex ScalarType for {_tn(A.dtype)}")
    if A.dtype is D.bfloat16 or A.dtype is D.float16:
        _check_low("linalg.eig", A)


def eig(A, *, out=None):
    """Complex eigenvalues and unit-norm eigenvectors of a square matrix."""
    _check_square("linalg.eig", A)
    _check_eig_dtype(A)
    w, v = run_multi(_EIG, (A,), {})
    if A._device.type == "meta":
        v = _set_layout(v, False)  # torch's meta kernel makes them C-ordered
    res = linalg_eig_rt(w, v)
    return res if out is None else _write_tuple(out, res)


def eigvals(A, *, out=None):
    """Complex eigenvalues of a square matrix."""
    _check_square("linalg.eigvals", A)
    _check_eig_dtype(A)
    w = run_multi(_EIG, (A,), {})[0]
    return w if out is None else write_out(out, w)


# ================================================================ svd / svdvals
def _svd_fwd(xp, a, full):
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    if a.size == 0:
        um = m if full else k
        vn = n if full else k
        eye = lambda r, c: _colmajor(xp, xp.broadcast_to(xp.eye(r, c, dtype=a.dtype), batch + (r, c)))
        return eye(m, um), xp.zeros(batch + (k,), a.real.dtype), eye(vn, n)
    u, s, vh = xp.linalg.svd(a, full_matrices=full)
    return _colmajor(xp, u), s, _colmajor(xp, vh)


def _svd_vjp(gs, _, A, full, **kw):
    gU, gS, gVh = gs
    U, S, Vh = _saved_outs(kw)
    m, n = U.shape[-2], Vh.shape[-1]
    k = S.shape[-1]
    cdt = U.dtype
    if full:
        U, Vh = U.narrow(-1, 0, k), Vh.narrow(-2, 0, k)
        gU = gU.narrow(-1, 0, k) if gU is not None else None
        gVh = gVh.narrow(-2, 0, k) if gVh is not None else None
    cplx = cdt.category == 3
    if gU is None and gVh is None:
        if gS is None:
            return (None,)
        return (U @ (gS.unsqueeze(-1).to(U.dtype) * Vh),)
    V = _mH(Vh)
    gV = _mH(gVh) if gVh is not None else None
    Uh = _mH(U)
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)               # E[i, j] = s_j^2 - s_i^2
    eye = _eye(k, E)
    F = (E + eye).reciprocal() * (1 - eye)
    Sd = S.to(cdt)
    inner = _diag_embed(gS).to(cdt) if gS is not None else None

    def add(x):
        nonlocal inner
        inner = x if inner is None else inner + x
    # only the difference of the phases of U and V is determined: split it evenly between the two
    if gU is not None:
        J = Uh @ gU
        add((F.to(cdt) * (J - _mH(J))) * Sd.unsqueeze(-2))
        if cplx:
            add(_diag_embed((J.diagonal(0, -2, -1).imag * 1j) / (2 * S).to(cdt)))
    if gV is not None:
        K = Vh @ gV
        add(Sd.unsqueeze(-1) * (F.to(cdt) * (K - _mH(K))))
        if cplx:
            add(_diag_embed((K.diagonal(0, -2, -1).imag * -1j) / (2 * S).to(cdt)))
    gA = U @ inner @ Vh
    Sinv = Sd.reciprocal()
    if gU is not None and m > k:
        gA = gA + ((gU - U @ (Uh @ gU)) * Sinv.unsqueeze(-2)) @ Vh
    if gV is not None and n > k:
        gA = gA + U @ (Sinv.unsqueeze(-1) * _mH(gV - V @ (Vh @ gV)))
    return (gA,)


_SVD = _MultiOp("linalg_svd", _svd_fwd, _svd_vjp, save_in=False)


def _check_driver(driver):
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs with "
                           "cuSOLVER backend.")


def svd(A, full_matrices=True, *, driver=None, out=None):
    """A = U diag(S) Vh with S descending (full or reduced U, Vh)."""
    _check_matrix("linalg.svd", A)
    _check_float("linalg.svd", A)
    _check_driver(driver)
    U, S, Vh = run_multi(_SVD, (A,), {"full": bool(full_matrices)})
    if A._device.type == "meta":
        Vh = _set_layout(Vh, False)  # torch's meta kernel makes Vh C-ordered
    res = linalg_svd_rt(U, S, Vh)
    return res if out is None else _write_tuple(out, res)


def svdvals(A, *, driver=None, out=None):
    """Singular values, descending."""
    _check_matrix("linalg.svdvals", A)
    _check_float("linalg.svdvals", A)
    _check_driver(driver)
    S = run_multi(_SVD, (A,), {"full": False})[1]
    return S if out is None else write_out(out, S)


def _torch_svd(input, some=True, compute_uv=True, *, out=None):
    if not compute_uv:
        S = svdvals(input)
        m, n = input.shape[-2], input.shape[-1]
        zeros = _ops().zeros
        res = svd_rt(zeros(tuple(input.shape[:-2]) + (m, m), dtype=input.dtype, device=input.device), S,
                     zeros(tuple(input.shape[:-2]) + (n, n), dtype=input.dtype, device=input.device))
    else:
        U, S, Vh = svd(input, full_matrices=not some)
        res = svd_rt(U, S, _mH(Vh))
    return res if out is None else _write_tuple(out, res)


# ================================================================ qr
def _qr_fwd(xp, a, mode):
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    if a.size == 0:
        qc = m if mode == "complete" else k
        q = _colmajor(xp, xp.broadcast_to(xp.eye(m, qc, dtype=a.dtype), batch + (m, qc)))
        r = _colmajor(xp, xp.zeros(batch + ((m if mode == "complete" else k), n), a.dtype))
        if mode == "r":
            q = xp.zeros((0,), a.dtype)
        return q, r
    if mode == "r":
        r = xp.linalg.qr(a, mode="r")
        return xp.zeros((0,), a.dtype), _colmajor(xp, r)
    q, r = xp.linalg.qr(a, mode=mode)
    return _colmajor(xp, q), _colmajor(xp, r)


def _qr_vjp(gs, _, A, mode, **kw):
    gQ, gR = gs
    Q, R = _saved_outs(kw)
    m, n = A.shape[-2], A.shape[-1]
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please "
                           "use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
    if gQ is None:
        gQ = Q * 0
    if gR is None:
        gR = R * 0
    if m >= n:
        return (_qr_back_tall(gQ, gR, Q, R),)
    # wide: A = Q [X | Y] with X square; Y = Q R2 adds a term through Q
    X_R = R.narrow(-1, 0, m)
    gR1, gR2 = gR.narrow(-1, 0, m), gR.narrow(-1, m, n - m)
    Y = A.narrow(-1, m, n - m)
    gQ2 = gQ + Y @ _mH(gR2)
    gX = _qr_back_tall(gQ2, gR1, Q, X_R)
    gY = Q @ gR2
    return (gX @ _eye(m, gX, n) + gY @ _col_shift(n - m, n, m, gX),)


def _col_shift(r, c, off, like):
    import numpy as _np
    be = like._device.backend
    arr = _np.zeros((r, c), like.dtype.np)
    arr[_np.arange(r), _np.arange(r) + off] = 1
    return Tensor._make(be.from_host(arr) if be.xp is not _np else arr, like._device)


def _qr_back_tall(gQ, gR, Q, R):
    # M = R gR^H - gQ^H Q; gA = (gQ + Q copyltu(M)) R^-H, copyltu mirrors the lower triangle (Hermitian)
    M = R @ _mH(gR) - _mH(gQ) @ Q
    low = _tril(M, -1)
    d = M.diagonal(0, -2, -1)
    sym = low + _mH(low) + _diag_embed(_real_part(d)).to(M.dtype)
    B = gQ + Q @ sym
    # B R^-H: solve X R^H = B with R^H lower triangular
    return solve_triangular(_mH(R), B, upper=False, left=False)


_QR = _MultiOp("linalg_qr", _qr_fwd, _qr_vjp)


def qr(A, mode="reduced", *, out=None):
    """QR decomposition: mode 'reduced' (default), 'complete', or 'r' (R only, Q empty)."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           f"or 'complete'")
    _check_matrix("linalg.qr", A)
    _check_float("linalg.qr", A)
    Q, R = run_multi(_QR, (A,), {"mode": mode})
    res = linalg_qr_rt(Q, R)
    return res if out is None else _write_tuple(out, res)


_qr_warned = [False]


def _torch_qr(input, some=True, *, out=None):
    if not _qr_warned[0]:
        import warnings
        warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch "
                      "release.\nThe boolean parameter 'some' has been replaced with a string parameter 'mode'.\n"
                      "Q, R = torch.qr(A, some)\nshould be replaced with\nQ, R = torch.linalg.qr(A, 'reduced' if some "
                      "else 'complete')", UserWarning, stacklevel=2)
        _qr_warned[0] = True
    Q, R = qr(input, "reduced" if some else "complete")
    res = qr_rt(Q, R)
    return res if out is None else _write_tuple(out, res)


# ================================================================ pinv, matrix_rank, lstsq
def _tol_arrays(xp, atol, rtol, a, smax):
    """torch's cut-off max(atol, rtol * smax), with rtol = eps * max(m, n) when neither is given."""
    m, n = a.shape[-2:]
    eps = float(np.finfo(a.real.dtype).eps)
    if rtol is None:
        rtol = eps * max(m, n) if (atol is None or _is_zero(atol)) else 0.0
    if atol is None:
        atol = 0.0
    atol = xp.asarray(atol)
    rtol = xp.asarray(rtol)
    return xp.maximum(atol[..., None] if atol.ndim else atol, (rtol[..., None] if rtol.ndim else rtol) * smax)


def _is_zero(v):
    try:
        return float(v) == 0.0
    except TypeError:
        return False


def _tol_arg(v):
    if isinstance(v, Tensor):
        return v._data
    return v


def _pinv_fwd(xp, a, atol, rtol, herm):
    m, n = a.shape[-2:]
    batch = a.shape[:-2]
    if a.size == 0:
        return xp.zeros(batch + (n, m), a.dtype)
    if herm:
        w, v = xp.linalg.eigh(a)
        sabs = xp.abs(w)
        smax = sabs.max(-1, keepdims=True)
        cut = _tol_arrays(xp, atol, rtol, a, smax)
        with np.errstate(all="ignore"):
            inv_w = xp.where(sabs > cut, 1 / xp.where(sabs > cut, w, 1), 0).astype(w.dtype)
        return xp.ascontiguousarray((v * inv_w[..., None, :]) @ xp.conj(xp.swapaxes(v, -1, -2))).astype(a.dtype)
    u, s, vh = xp.linalg.svd(a, full_matrices=False)
    smax = s[..., :1]
    cut = _tol_arrays(xp, atol, rtol, a, smax)
    with np.errstate(all="ignore"):
        sinv = xp.where(s > cut, 1 / xp.where(s > cut, s, 1), 0).astype(s.dtype)
    return xp.ascontiguousarray(xp.conj(xp.swapaxes(vh, -1, -2)) * sinv[..., None, :]) @ xp.conj(
        xp.swapaxes(u, -1, -2))


def _pinv_grad(G, P, A):
    """Gradient of A -> pinv(A) = P for incoming G (constant-rank perturbation theory, Golub & Pereyra)."""
    Ph, Gh = _mH(P), _mH(G)
    t1 = -(Ph @ G @ Ph)
    AP = A @ P                       # m x m projector
    PA = P @ A                       # n x n projector
    t2 = (Gh - AP @ Gh) @ (P @ Ph)   # (I - A P) G^H P P^H
    t3 = (Ph @ P) @ (Gh - Gh @ PA)   # P^H P G^H (I - P A)
    return t1 + t2 + t3


_PINV = defop("linalg_pinv", "raw", _pinv_fwd,
              lambda g, out, A, atol, rtol, herm: _pinv_grad(g, out, A),
              shape=lambda s, atol, rtol, herm: tuple(s[:-2]) + (s[-1], s[-2]))


def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None, out=None):
    """Moore-Penrose pseudo-inverse via the SVD (or eigh when ``hermitian``)."""
    if A.dim() < 2 or A.dtype.category < 2 or A.dtype is D.bfloat16 or A.dtype is D.float16:
        raise RuntimeError(f"linalg.pinv({_tn(A.dtype)}{{{list(A.shape)}}}): expected a tensor with 2 or more "
                           f"dimensions of float, double, cfloat or cdouble types")
    if rcond is not None:
        if rtol is not None:
            raise RuntimeError("linalg.pinv: rcond and rtol cannot be specified at the same time")
        rtol = rcond
    r = apply(_PINV, (A,), {"atol": _tol_arg(atol), "rtol": _tol_arg(rtol), "herm": bool(hermitian)})
    return r if out is None else write_out(out, r)


def pinverse(input, rcond=1e-15):
    """Pseudo-inverse with a relative cut-off ``rcond`` (torch.pinverse)."""
    return pinv(input, rtol=rcond)


def _rank_fwd(xp, a, atol, rtol, herm):
    m, n = a.shape[-2:]
    if a.size == 0:
        return xp.zeros(a.shape[:-2], np.int64)
    s = xp.abs(xp.linalg.eigvalsh(a)) if herm else xp.linalg.svd(a, compute_uv=False)
    smax = s.max(-1, keepdims=True)
    cut = _tol_arrays(xp, atol, rtol, a, smax)
    return (s > cut).sum(-1).astype(np.int64)


_RANK = defop("linalg_matrix_rank", "raw", _rank_fwd, shape=lambda s, atol, rtol, herm: tuple(s[:-2]))


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None, out=None):
    """Number of singular values above max(atol, rtol * largest)."""
    _check_matrix("torch.linalg.matrix_rank", A, "input")
    if tol is not None:
        atol, rtol = tol, 0.0
    if A.dtype.category < 2 or A.dtype is D.bfloat16 or A.dtype is D.float16:
        if rtol is None:  # torch's default rtol reads the eps of float or double only
            raise RuntimeError("This function doesn't handle types other than float and double")
        if hermitian or A.dtype.category == 2:
            _check_low("linalg.eigh" if hermitian else "linalg.svd", A)
        _check_float("linalg.svd", A)
    r = apply(_RANK, (A,), {"atol": _tol_arg(atol), "rtol": _tol_arg(rtol), "herm": bool(hermitian)})
    return r if out is None else write_out(out, r)


def _lstsq_fwd(xp, a, b, rcond, driver, vec):
    if vec:
        b = b[..., None]
    m, n = a.shape[-2:]
    k = b.shape[-1]
    batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    a = xp.broadcast_to(a, batch + (m, n))
    b = xp.broadcast_to(b, batch + (m, k))
    rdt = a.real.dtype
    if a.size == 0 or b.size == 0:
        x = xp.zeros(batch + (n, k), a.dtype)
        s = xp.zeros(batch + (min(m, n),), rdt)
        rank = xp.zeros(batch, np.int64)
    else:
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        eps = float(np.finfo(rdt).eps)
        rc = eps * max(m, n) if rcond is None or rcond < 0 else rcond
        cut = rc * s[..., :1]
        keep = s > cut
        with np.errstate(all="ignore"):
            sinv = xp.where(keep, 1 / xp.where(keep, s, 1), 0).astype(rdt)
        uhb = xp.conj(xp.swapaxes(u, -1, -2)) @ b
        x = xp.conj(xp.swapaxes(vh, -1, -2)) @ (sinv[..., :, None] * uhb)
        rank = keep.sum(-1).astype(np.int64)
    empty_r = xp.zeros((0,), rdt)
    if driver in ("gelsd", "gelss", "gels") and m > n and a.size and b.size and bool(xp.all(rank == n)):
        resid = xp.abs(b - a @ x) ** 2
        residuals = resid.sum(-2).astype(rdt)
    else:
        residuals = empty_r
    if driver == "gels":
        rank_out = xp.zeros((0,), np.int64)
    else:
        rank_out = rank
    sv = s if driver in ("gelsd", "gelss") else empty_r
    # torch's LAPACK solves in place in a column-major (max(m, n), k) copy of B: X is its first n rows
    buf = _colmajor(xp, xp.zeros(batch + (max(m, n), k), x.dtype))
    buf[..., :n, :] = x
    x = buf[..., :n, :]
    if vec:
        x = x[..., 0]
    return x, residuals, rank_out, xp.ascontiguousarray(sv)


def _lstsq_vjp(gs, _, A, B, needs, rcond, driver, vec, **kw):
    gX, gres = gs[0], gs[1]
    X = _saved_outs(kw)[0]
    if vec:
        gX = gX.unsqueeze(-1) if gX is not None else None
        B, X = B.unsqueeze(-1), X.unsqueeze(-1)
    gA = gB = None
    if gX is not None:
        P = pinv(A, rtol=rcond)
        gB = _mH(P) @ gX if needs[1] else None
        gA = _pinv_grad(gX @ _mH(B), P, A) if needs[0] else None
    if gres is not None and gres.numel():
        # residuals |B - A X|^2 per column: X is optimal, so only the explicit dependence counts
        res = (B - A @ X) * gres.unsqueeze(-2).to(A.dtype)
        if needs[1]:
            gB = 2 * res if gB is None else gB + 2 * res
        if needs[0]:
            ga = -2 * (res @ _mH(X))
            gA = ga if gA is None else gA + ga
    if vec and gB is not None:
        gB = gB.squeeze(-1)
    return gA, gB


_LSTSQ = _MultiOp("linalg_lstsq", _lstsq_fwd, _lstsq_vjp)


def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of A X = B: (solution, residuals, rank, singular_values) as torch on CPU."""
    if A.dim() < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if A.dtype.category < 2 or A.dtype is D.bfloat16 or A.dtype is D.float16:
        if rcond is None:  # torch's default rcond reads the eps of float or double only
            raise RuntimeError("This function doesn't handle types other than float and double")
        _check_low("linalg.lstsq", A)
    _check_float("torch.linalg.lstsq", A)
    if A.dtype is not B.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's "
                           f"dtype {_tn(A.dtype)} and other's dtype {_tn(B.dtype)}")
    if driver is None:
        driver = "gelsy"
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    vec = B.dim() == A.dim() - 1
    if B.dim() < 1 or (not vec and B.dim() < 2):
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    rows = B.shape[-1] if vec else B.shape[-2]
    if rows != A.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-{1 if vec else 2})")
    _broadcast(A.shape[:-2], tuple(B.shape[:-1]) if vec else tuple(B.shape[:-2]))
    rc = None if rcond is None else float(rcond)
    X, res, rank, sv = run_multi(_LSTSQ, (A, B), {"rcond": rc, "driver": driver, "vec": vec},
                                 diff=(True, True, False, False))
    return linalg_lstsq_rt(X, res, rank, sv)


# ================================================================ matrix_power, matrix_exp
def matrix_power(A, n, *, out=None):
    """A @ A @ ... (n times); n = 0 gives the identity, n < 0 powers the inverse."""
    _check_square("linalg.matrix_power", A)
    n = int(n)
    if n == 0:
        m = A.shape[-1]
        # as torch: a copy of A overwritten with the identity (CopyBackwards: A's gradient is zeros)
        r = A.clone().copy_(_ops().eye(m, dtype=A.dtype, device=A.device).expand(A.shape))
        return r if out is None else write_out(out, r)
    if n < 0:
        A = inv(A)
        n = -n
    if n == 1:
        r = A.clone()
        return r if out is None else write_out(out, r)
    if n == 3:
        r = (A @ A) @ A  # torch's order for 3 (its graph, and its rounding)
        return r if out is None else write_out(out, r)
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result if out is None else write_out(out, result)


_PADE13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800., 129060195264000.,
           10559470521600., 670442572800., 33522128640., 1323241920., 40840800., 960960., 16380., 182., 1.)
_THETA13 = 5.371920351148152


def _expm_fwd(xp, a):
    """Scaling and squaring with the [13/13] Pade approximant (Higham 2005), batched."""
    n = a.shape[-1]
    if a.size == 0:
        return xp.array(a, copy=True)
    work = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
    norm1 = xp.abs(work).sum(-2).max(-1)                   # 1-norm per matrix
    with np.errstate(divide="ignore"):
        s = xp.maximum(0, xp.ceil(xp.log2(norm1 / _THETA13)))
    s = xp.where(xp.isfinite(s), s, 0).astype(np.int64)
    A = work / (2.0 ** s)[..., None, None]
    b = _PADE13
    eye = xp.eye(n, dtype=work.dtype)
    A2 = A @ A
    A4 = A2 @ A2
    A6 = A4 @ A2
    U = A @ (A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * eye)
    V = A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * eye
    R = xp.linalg.solve(V - U, V + U)
    smax = int(s.max()) if s.size else 0
    for j in range(smax):
        R2 = R @ R
        R = xp.where((s > j)[..., None, None], R2, R)
    return R.astype(a.dtype)


def _expm_vjp(g, out, A):
    # d/dA <G, exp(A)> = upper-right block of exp([[A^H, G], [0, A^H]])
    n = A.shape[-1]
    Ah = _mH(A)
    E1 = _eye(2 * n, g, n)                                 # [I; 0]   (2n x n)
    E2 = _col_shift(n, 2 * n, n, g).mT                     # [0; I]   (2n x n)
    M = E1 @ Ah @ E1.mT + E1 @ g @ E2.mT + E2 @ Ah @ E2.mT
    big = apply(_EXPM, (M,), {})
    return E1.mT @ big @ E2


_EXPM = defop("linalg_matrix_exp", "raw", _expm_fwd, _expm_vjp, save_out=False, shape=lambda s: tuple(s))


def matrix_exp(A):
    """Matrix exponential (batched)."""
    _check_square("linalg.matrix_exp", A)
    _check_float("linalg.matrix_exp", A)
    return apply(_EXPM, (A,), {})


# ================================================================ norms
def _vnorm_fwd(xp, x, ord, dims, keepdim, npdt):
    if npdt is not None and x.dtype != npdt:
        x = x.astype(npdt)
    a = xp.abs(x)
    rdt = a.dtype
    if x.size == 0 or any(x.shape[d] == 0 for d in (dims or ())):
        if ord < 0 or ord == math.inf:
            o = "inf" if ord == math.inf else ("-inf" if ord == -math.inf else _fmt_ord(ord))
            if dims is None or x.size == 0 and dims is None:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {o} norm on an empty tensor because the "
                                   f"operation does not have an identity")
            for d in dims:
                if x.shape[d] == 0:
                    raise RuntimeError(f"linalg.vector_norm cannot compute the {o} norm on the dimension {d}"
                                       f"because this dimension is empty and the operation does not have an "
                                       f"identity")
    with np.errstate(all="ignore"):
        if ord == 2:
            r = xp.sqrt(xp.sum(a * a, axis=dims, keepdims=keepdim))
        elif ord == 1:
            r = xp.sum(a, axis=dims, keepdims=keepdim)
        elif ord == math.inf:
            r = xp.max(a, axis=dims, keepdims=keepdim)
        elif ord == -math.inf:
            r = xp.min(a, axis=dims, keepdims=keepdim)
        elif ord == 0:
            r = xp.sum(a != 0, axis=dims, keepdims=keepdim).astype(rdt)
        else:
            r = xp.sum(a ** ord, axis=dims, keepdims=keepdim) ** (1.0 / ord)
    return xp.asarray(r, dtype=rdt)


def _fmt_ord(o):
    return str(int(o)) if float(o).is_integer() else str(o)


def _vnorm_vjp(g, out, x, ord, dims, keepdim, npdt):
    from .reduce import _keep
    if npdt is not None and x.dtype.np != npdt:
        x = x.to(D.NP2DT[npdt])
    nd = x.dim()
    g = _keep(g, nd, dims, keepdim)
    n = _keep(out, nd, dims, keepdim)
    if ord == 0:
        return None
    if ord == 1:
        return x.sgn() * g if x.dtype.category == 3 else x.sign() * g
    if ord == 2:
        zero = n == 0
        return x * _where(zero, 0.0, g / _where(zero, 1.0, n)).to(x.dtype)
    if ord in (math.inf, -math.inf):
        a = x.abs()
        mask = (a == n) | a.isnan()
        cnt = mask.sum(dims, keepdim=True) if dims is not None else mask.sum().reshape((1,) * nd)
        return _sgn(x) * (g / cnt * mask).to(x.dtype)
    a = x.abs()
    zero = n == 0
    scale = _where(zero, 0.0, g / _where(zero, 1.0, n) ** (ord - 1))
    return _sgn(x) * (a ** (ord - 1) * scale).to(x.dtype)


def _sgn(x):
    return x.sgn() if x.dtype.category == 3 else x.sign()


_VNORM = defop("linalg_vector_norm", "raw", _vnorm_fwd, _vnorm_vjp,
               shape=lambda s, ord, dims, keepdim, npdt: _reduced(s, dims, keepdim))


def _reduced(shape, dims, keepdim):
    from .reduce import _reduced_shape
    return _reduced_shape(shape, dims, keepdim)


def _norm_dtype(name, x, dtype):
    if dtype is None:
        return None
    dt = D.to_dtype(dtype)
    if dt.category < 2:
        raise RuntimeError(f"{name}: dtype should be floating point or complex, but got {_tn(dt)}")
    if (x.dtype.category == 3) != (dt.category == 3) or dt.itemsize < x.dtype.itemsize:
        raise RuntimeError(f"{name}: the dtype of the input ({_tn(x.dtype)}) should be convertible without "
                           f"narrowing to the specified dtype ({_tn(dt)})")
    return dt


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """sum(|x|^ord)^(1/ord) over ``dim`` (all elements by default); inf/-inf/0 as in torch."""
    if isinstance(ord, str):
        raise TypeError("linalg_vector_norm(): argument 'ord' (position 2) must be Number, not str")
    _check_float("linalg.vector_norm", x)
    dt = _norm_dtype("linalg.vector_norm", x, dtype)
    from .reduce import _dims
    dims = _dims(dim, x.dim()) if dim is not None and not (isinstance(dim, (list, tuple)) and len(dim) == 0) \
        else None
    if x.dim() == 0 and dims is not None:
        dims = None
    r = apply(_VNORM, (x,), {"ord": float(ord), "dims": dims, "keepdim": bool(keepdim) and x.dim() > 0,
                             "npdt": dt.np if dt is not None else None})
    return r if out is None else write_out(out, r)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """'fro', 'nuc', inf, -inf, 1, -1, 2, -2 norms of matrices over ``dim``."""
    _check_matrix("linalg.matrix_norm", A)
    _check_float("linalg.matrix_norm", A)
    if not isinstance(dim, (list, tuple)) or len(dim) != 2:
        shown = " ".join(str(d) for d in (dim if isinstance(dim, (list, tuple)) else [dim]))
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {shown}")
    d0, d1 = wrap_dim(dim[0], A.dim()), wrap_dim(dim[1], A.dim())
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if dtype is not None:
        dt = _norm_dtype("linalg.matrix_norm", A, dtype)
        A = A.to(dt)
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
        if ord == "fro":
            r = vector_norm(A, 2, (d0, d1), keepdim)
            return r if out is None else write_out(out, r)
        r = _svd_norm(A, d0, d1, keepdim, "sum")
        return r if out is None else write_out(out, r)
    o = float(ord)
    if o not in (2.0, -2.0, 1.0, -1.0, math.inf, -math.inf):
        shown = _fmt_ord(ord) if not isinstance(ord, float) or math.isfinite(ord) else ord
        raise RuntimeError(f"linalg.matrix_norm: Order {shown} not supported.")
    if abs(o) == 2:
        r = _svd_norm(A, d0, d1, keepdim, "amax" if o > 0 else "amin")
    else:
        sum_dim, max_dim = (d0, d1) if abs(o) == 1 else (d1, d0)
        # as torch: the 1-norms along sum_dim, then amax/amin over the other dim (its index shifted when
        # sum_dim went before it)
        s = vector_norm(A, 1, sum_dim, keepdim=keepdim)
        md = max_dim - 1 if not keepdim and max_dim > sum_dim else max_dim
        r = s.amax(md, keepdim=keepdim) if o > 0 else s.amin(md, keepdim=keepdim)
    return r if out is None else write_out(out, r)


def _svd_norm(A, d0, d1, keepdim, how):
    if A.dtype is D.bfloat16 or A.dtype is D.float16:
        _check_low("linalg.matrix_norm:svd", A)
    nd = A.dim()
    B = A.movedim((d0, d1), (nd - 2, nd - 1))
    if B.numel() == 0:
        S = svdvals(B)
        r = _ops().zeros(tuple(B.shape[:-2]), dtype=S.dtype, device=A.device)
    else:
        S = svdvals(B)
        if keepdim:
            # as torch: reduce with keepdim, add the second unit dim, permute both back into place
            r = S.sum(-1, True) if how == "sum" else (S.amax(-1, True) if how == "amax" else S.amin(-1, True))
            perm = [i for i in range(nd) if i not in (d0, d1)] + [d0, d1]
            return r.unsqueeze(-1).permute([perm.index(i) for i in range(nd)])
        r = S.sum(-1) if how == "sum" else (S.amax(-1) if how == "amax" else S.amin(-1))
    if keepdim:
        for d in sorted((d0, d1)):
            r = r.unsqueeze(d)
    return r


def norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):
    """Vector or matrix norm, chosen from ``ord`` and ``dim`` like torch.linalg.norm."""
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if isinstance(ord, str):
            r = matrix_norm(A, ord, dim, keepdim, dtype=dtype)
        elif len(dims) == 1:
            r = vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        elif len(dims) == 2:
            r = matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        else:
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dims)}")
    elif ord is None:
        r = vector_norm(A, 2, None, keepdim, dtype=dtype)
    else:
        if A.dim() not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                               f"Got {A.dim()}D.")
        if A.dim() == 1:
            if isinstance(ord, str):
                raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
            r = vector_norm(A, ord, None, keepdim, dtype=dtype)
        else:
            r = matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    return r if out is None else write_out(out, r)


def cond(A, p=None, *, out=None):
    """Condition number: sigma_max / sigma_min (p None/2/-2) or norm(A, p) * norm(inv(A), p)."""
    _check_matrix("linalg.cond", A)
    _check_float("linalg.cond", A)
    if p is None or (not isinstance(p, str) and abs(float(p)) == 2):
        if A.numel() == 0:
            r = _ops().zeros(tuple(A.shape[:-2]), dtype=A.dtype.to_real(), device=A.device)
            return r if out is None else write_out(out, r)
        S = svdvals(A)
        if p is None or float(p) == 2:
            r = (S.narrow(-1, 0, 1) / S.narrow(-1, S.shape[-1] - 1, 1)).squeeze(-1)
        else:
            r = (S.narrow(-1, S.shape[-1] - 1, 1) / S.narrow(-1, 0, 1)).squeeze(-1)
        return r if out is None else write_out(out, r)
    if isinstance(p, str):
        if p not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    elif float(p) not in (1.0, -1.0, math.inf, -math.inf):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {_fmt_ord(p)}")
    if A.numel() == 0 and (not isinstance(p, str) or A.shape[-2] == A.shape[-1]):
        # torch's 0 for empty matrices (or batches); numeric ords check squareness only after this
        return _ops().zeros(tuple(A.shape[:-2]), dtype=A.dtype.to_real(), device=A.device) if out is None else \
            write_out(out, _ops().zeros(tuple(A.shape[:-2]), dtype=A.dtype.to_real(), device=A.device))
    m, n = A.shape[-2], A.shape[-1]
    if m != n:
        raise RuntimeError(f"linalg.cond(ord={p}): A must be batches of square matrices, but they are {m} by {n} "
                           f"matrices")
    if p == "nuc" and (A.dtype is D.bfloat16 or A.dtype is D.float16):
        _check_low("linalg.svd", A)  # torch's nuclear-norm condition number starts from an SVD
    if p == "nuc":
        # as torch: from the singular values, sum(S) * sum(1 / S)
        S = svdvals(A)
        r = S.sum(-1) * S.reciprocal().sum(-1)
    else:
        Ai, info = inv_ex(A)
        # as torch: a singular A's inverse counts as all inf, and 0 * inf (a zero A) is inf
        Ai = Ai.masked_fill((info > 0).unsqueeze(-1).unsqueeze(-1), math.inf)
        r = (matrix_norm(A, p) * matrix_norm(Ai, p)).nan_to_num(math.inf, math.inf, -math.inf)
    return r if out is None else write_out(out, r)


# ================================================================ diagonal, vecdot, tensorinv, tensorsolve
def linalg_diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonal over the last two dims (a view)."""
    return A.diagonal(offset, dim1, dim2)


def vecdot(x, y, *, dim=-1, out=None):
    """sum(conj(x) * y) over ``dim`` with broadcasting."""
    if x.dtype is not y.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
                           f"{_tn(x.dtype)} and y of type {_tn(y.dtype)} instead")
    _check_float("linalg.vecdot", x)
    shape = tuple(np.broadcast_shapes(tuple(x.shape), tuple(y.shape)))
    d = wrap_dim(dim, len(shape))
    # torch's graph: SumBackward1 over MulBackward0 (over ConjBackward0 for complex x)
    r = ((apply(_CONJ, (x,), {}) if x.dtype.category == 3 else x) * y).sum(d)
    return r if out is None else write_out(out, r)


def _prod(shape):
    p = 1
    for s in shape:
        p *= s
    return p


def _reshape_alias(t, shape):
    """A view reshape under torch's name for it inside its C++ composites (ReshapeAliasBackward0)."""
    from .view import _RESHAPE_ALIAS  # view imports this module
    return apply(_RESHAPE_ALIAS, (t,), {"shape": shape})


def tensorinv(A, ind=2, *, out=None):
    """The tensor X with tensordot(A, X, ind) = identity."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    a, b = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    if _prod(a) != _prod(b):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {_prod(b)} != {_prod(a)}")
    r = _reshape_alias(inv(A.reshape(_prod(a), _prod(b))), tuple(b + a))
    return r if out is None else write_out(out, r)


def tensorsolve(A, B, dims=None, *, out=None):
    """The X with tensordot(A, X, X.ndim) = B."""
    if dims is not None:
        dims = [wrap_dim(d, A.dim()) for d in dims]
        A = A.movedim(dims, list(range(A.dim() - len(dims), A.dim())))
    rest = tuple(A.shape[B.dim():])
    lead = tuple(A.shape[:B.dim()])
    if _prod(rest) != _prod(lead):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {_prod(rest)} != {_prod(lead)}")
    r = solve(A.reshape(_prod(lead), _prod(rest)), B.reshape(-1)).reshape(rest)
    return r if out is None else write_out(out, r)


def _hh_fwd(xp, a, tau):
    m, n = a.shape[-2:]
    k = tau.shape[-1]
    batch = tuple(np.broadcast_shapes(a.shape[:-2], tau.shape[:-1]))
    V = xp.tril(a[..., :k], -1) + xp.eye(m, k, dtype=a.dtype)
    X = xp.array(xp.broadcast_to(xp.eye(m, n, dtype=a.dtype), batch + (m, n)))
    for i in range(k - 1, -1, -1):
        v = V[..., i:i + 1]
        X -= (v * tau[..., i, None, None]) @ (xp.conj(xp.swapaxes(v, -1, -2)) @ X)
    return _colmajor(xp, X)


def _hh_vjp(g, _, A, tau, needs):
    # Q = X_0 with X_k = I (m x n) and X_i = H_i X_{i+1}, H_i = I - tau_i v_i v_i^H. Going back through
    # step i with G the gradient of X_i: G_{i+1} = H_i^H G, the gradient of tau_i is -v^H G X^H v and the
    # one of v_i is -(conj(tau_i) G X^H v + tau_i X G^H v), of which A keeps the part below the diagonal.
    m, n = A.shape[-2], A.shape[-1]
    k = tau.shape[-1]
    if k == 0:
        return None, None  # no reflectors: torch leaves both gradients undefined
    V = _tril(A, -1).narrow(-1, 0, k) + _eye(m, A, k)
    Xs = [_eye(m, A, n).expand(tuple(g.shape))]
    for i in range(k - 1, 0, -1):
        v = V.narrow(-1, i, 1)
        Xs.append(Xs[-1] - (v * tau.narrow(-1, i, 1).unsqueeze(-1)) @ (_mH(v) @ Xs[-1]))
    gv, gt = [], []
    for i in range(k):
        v, t = V.narrow(-1, i, 1), tau.narrow(-1, i, 1).unsqueeze(-1)
        X = Xs[k - 1 - i]
        GXv = g @ (_mH(X) @ v)
        gt.append(-(_mH(v) @ GXv))
        gv.append(-(_cj(t) * GXv + t * (X @ (_mH(g) @ v))))
        if i + 1 < k:
            g = g - (_cj(t) * v) @ (_mH(v) @ g)
    ops = _ops()
    gA = gtau = None
    if needs[0]:
        gA = _tril(ops.cat(gv, -1), -1)
        if k < n:
            gA = ops.cat([gA, ops.zeros(tuple(gA.shape[:-1]) + (n - k,), dtype=A.dtype, device=A.device)], -1)
    if needs[1]:
        gtau = ops.cat(gt, -1).squeeze(-2)
    return gA, gtau


_HOUSEHOLDER = defop("linalg_householder_product", "raw", _hh_fwd, _hh_vjp, needs=True,
                     shape=lambda sa, st: tuple(np.broadcast_shapes(sa[:-2], st[:-1])) + tuple(sa[-2:]))


def householder_product(A, tau, *, out=None):
    """First n columns of the product of Householder reflectors H_i = I - tau_i v_i v_i^H stored in A."""
    name = "torch.linalg.householder_product"
    if A.dim() < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    m, n = A.shape[-2], A.shape[-1]
    if m < n:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    if tau.dim() != A.dim() - 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got tau.ndim equal to "
                           f"{tau.dim()} and input.ndim is equal to {A.dim()}")
    k = tau.shape[-1]
    if n < k:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if A.dtype is not tau.dtype:
        raise RuntimeError(f"{name}: tau dtype {tau.dtype} does not match input dtype {A.dtype}")
    _check_float(name, A)
    X = _set_layout(apply(_HOUSEHOLDER, (A, tau), {}))
    return X if out is None else write_out(out, X)


def vander(x, *, N=None):
    """Vandermonde matrix: columns x^0, x^1, ..., x^(N-1) (N defaults to x.shape[-1])."""
    if x.dtype is D.bool_ or x.dtype is D.bfloat16 or x.dtype is D.float16:
        raise RuntimeError(f"linalg.vander supports floating point, complex, and integer tensors, but got "
                           f"{_tn(x.dtype)}")
    n = N if N is not None else (x.shape[-1] if x.dim() else 1)
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    if x.dtype.category == 1:
        x = x.to(D.int64)  # torch's integer Vandermonde matrices are int64
    return x.unsqueeze(-1) ** _ops().arange(n, dtype=x.dtype, device=x.device)


# ================================================================ lu_factor, lu, lu_solve, lu_unpack
def _lu_fwd(xp, a):
    lu, piv, info = _lu_kernel(xp, a)
    return _colmajor(xp, lu), (piv + 1).astype(np.int32), info.astype(np.int32)


def _lu_factor_vjp(gs, _, A, **kw):
    gLU = gs[0]
    if gLU is None:
        return (None,)
    LU, piv = _saved_outs(kw)[:2]
    m, n = LU.shape[-2], LU.shape[-1]
    if m != n:
        raise RuntimeError("linalg.lu_factor: the derivative is only implemented for square matrices")
    if n == 0:
        return (gLU * 0,)
    L = _tril(LU, -1) + _eye(n, LU)
    U = _triu(LU)
    return (_lu_grad(_tril(gLU, -1), _triu(gLU), L, U, piv),)


def _lu_grad(gL, gU, L, U, piv):
    """A = P L U (square): gA = P L^-H (tril(L^H gL, -1) + triu(gU U^H)) U^-H."""
    phi = _tril(_mH(L) @ gL, -1) + _triu(gU @ _mH(U))
    X = solve_triangular(_mH(L), phi, upper=True, unitriangular=True)
    Y = solve_triangular(_mH(U), X, upper=False, left=False)
    P = _perm_matrix(piv, L)
    return P @ Y


def _perm_matrix(piv, like):
    m = like.shape[-2]
    if like._device.type == "meta" or m == 0:
        return _ops().zeros(tuple(like.shape[:-2]) + (m, m), dtype=like.dtype, device=like.device)
    xp = like._device.backend.xp
    perm = _perm_from_pivots(xp, (piv._data if isinstance(piv, Tensor) else piv).astype(np.int64) - 1, m)
    eye = xp.eye(m, dtype=like.dtype.np)
    # P = rows of I taken in ``perm`` order, transposed: A = P L U
    Pt = eye[perm]
    return Tensor._make(xp.ascontiguousarray(xp.swapaxes(Pt, -1, -2)), like._device)


_LU_FACTOR = _MultiOp("linalg_lu_factor_ex", _lu_fwd, _lu_factor_vjp, save_in=False)


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    """LU factorisation with partial pivoting: (LU, pivots (1-based, int32), info)."""
    _check_matrix("torch.linalg.lu_factor_ex", A)
    _check_float("torch.linalg.lu_factor_ex", A)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    LU, piv, info = run_multi(_LU_FACTOR, (A,), {}, diff=(True, False, False))
    if check_errors and info.numel() and bool((info._data != 0).any()):
        i, pre = _batch_prefix(_host(info._data), A.dim() > 2)
        raise RuntimeError(f"torch.linalg.lu_factor_ex: {pre}U[{i},{i}] is zero and using it on lu_solve would "
                          f"result in a division by zero. If you still want to perform the factorization, consider "
                          f"calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    res = linalg_lu_factor_ex_rt(LU, piv, info)
    return res if out is None else _write_tuple(out, res)


def lu_factor(A, *, pivot=True, out=None):
    """LU factorisation (LU, pivots); raises when U has a zero on its diagonal."""
    _check_matrix("torch.linalg.lu_factor", A)
    _check_float("torch.linalg.lu_factor", A)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    LU, piv, info = run_multi(_LU_FACTOR, (A,), {}, diff=(True, False, False))
    if info.numel() and A._device.type != "meta" and bool((info._data != 0).any()):
        i, pre = _batch_prefix(_host(info._data), A.dim() > 2)
        raise RuntimeError(f"torch.linalg.lu_factor: {pre}U[{i},{i}] is zero and using it on lu_solve would result "
                           f"in a division by zero. If you still want to perform the factorization, consider calling "
                           f"linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    res = linalg_lu_factor_rt(LU, piv)
    return res if out is None else _write_tuple(out, res)


def _unpack(LU, piv, m, n):
    k = min(m, n)
    L = _tril(LU.narrow(-1, 0, k), -1) + _eye(m, LU, k)
    U = _triu(LU.narrow(-2, 0, k))
    P = _perm_matrix(piv, LU) if m else _ops().zeros(tuple(LU.shape[:-2]) + (0, 0), dtype=LU.dtype,
                                                       device=LU.device)
    return P, L, U


def lu(A, *, pivot=True, out=None):
    """A = P L U with P a permutation, L unit lower triangular, U upper triangular."""
    _check_matrix("linalg.lu", A)
    _check_float("linalg.lu", A)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    LU, piv, info = run_multi(_LU_FACTOR, (A,), {}, diff=(True, False, False))
    P, L, U = _unpack(LU, piv, A.shape[-2], A.shape[-1])
    res = linalg_lu_rt(P, L, U)
    return res if out is None else _write_tuple(out, res)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """(P, L, U) from the packed result of lu_factor."""
    m, n = LU_data.shape[-2], LU_data.shape[-1]
    P, L, U = _unpack(LU_data, LU_pivots, m, n)
    empty = _ops().zeros((0,), dtype=LU_data.dtype, device=LU_data.device)
    res = lu_unpack_rt(P if unpack_pivots else empty, L if unpack_data else empty, U if unpack_data else empty)
    return res if out is None else _write_tuple(out, res)


def _lu_solve_fwd(xp, lu, b, piv, left, adjoint):
    if not left:
        # X A = B  <=>  A^H X^H = B^H, and X A^H = B  <=>  A X^H = B^H
        # (the transpose of a column-major X^H: C-ordered, as torch's)
        x = _lu_solve_fwd(xp, lu, xp.conj(xp.swapaxes(b, -1, -2)), piv, True, not adjoint)
        return xp.swapaxes(xp.conj(x, out=x) if x.dtype.kind == "c" else x, -1, -2)
    return _colmajor(xp, _lu_solve_left(xp, lu, b, piv, adjoint))


def _lu_solve_left(xp, lu, b, piv, adjoint):
    batch = tuple(np.broadcast_shapes(lu.shape[:-2], b.shape[:-2]))
    n = lu.shape[-1]
    if n == 0 or b.shape[-1] == 0:
        return xp.zeros(batch + b.shape[-2:], np.result_type(lu.dtype, b.dtype))
    lu = xp.broadcast_to(lu, batch + lu.shape[-2:])
    b = xp.broadcast_to(b, batch + b.shape[-2:])
    p0 = xp.broadcast_to(piv.astype(np.int64) - 1, batch + piv.shape[-1:])
    if not adjoint:
        # A = P L U: X = U^-1 L^-1 P^T B
        y = _solve_tri(xp, lu, _apply_pivots(xp, b, p0), True, True)
        return _solve_tri(xp, lu, y, False, False)
    # A^H X = B: X = P L^-H U^-H B (the lower triangle of LU^H holds U^H, its strict upper one L^H)
    luh = xp.conj(xp.swapaxes(lu, -1, -2))
    y = _solve_tri(xp, luh, b, True, False)
    return _apply_pivots(xp, _solve_tri(xp, luh, y, False, True), p0, reverse=True)


def _lu_solve_vjp(g, X, LU, B, needs, piv, left, adjoint):
    # gB solves the adjoint system; gA is -gB X^H (or its left/adjoint variants), carried to L and U
    # through A = P L U: gL = tril(P^T gA U^H, -1), gU = triu(L^H P^T gA)
    gB = _lu_solve_op(LU, piv, g, left, not adjoint)
    gLU = None
    if needs[0]:
        if left:
            gA = -(X @ _mH(gB)) if adjoint else -(gB @ _mH(X))
        else:
            gA = -(_mH(gB) @ X) if adjoint else -(_mH(X) @ gB)
        n = LU.shape[-1]
        PtgA = _perm_matrix(piv, LU).mT @ gA
        gLU = _tril(PtgA @ _mH(_triu(LU)), -1) + _triu(_mH(_tril(LU, -1) + _eye(n, LU)) @ PtgA)
    return gLU, (gB if needs[1] else None)


_LU_SOLVE = defop("linalg_lu_solve", "raw", _lu_solve_fwd, _lu_solve_vjp, needs=True, save_in=(True, False),
                  shape=lambda sl, sb, piv, left, adjoint: (tuple(np.broadcast_shapes(sl[:-2], sb[:-2]))
                                                                       + tuple(sb[-2:])))


def _lu_solve_op(LU, piv, B, left, adjoint):
    # the pivots travel as a static argument: torch's node has no edge for them
    return apply(_LU_SOLVE, (LU, B), {"piv": piv, "left": bool(left), "adjoint": bool(adjoint)})


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """Solve A X = B (or X A = B, or with A^H) from A's LU factorisation."""
    n = LU.shape[-1]
    _check_square("linalg.lu_solve", LU, "LU")
    if B.dim() < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    rows, cols = B.shape[-2], B.shape[-1]
    if (rows if left else cols) != n:
        eqn = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation {eqn} ({n}x{n} and "
                           f"{rows}x{cols})")
    if LU.dtype is D.bfloat16 or LU.dtype is D.float16:
        _check_low("linalg.lu_solve", LU)
    if B.dtype is not LU.dtype:
        raise RuntimeError(f"linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type "
                           f"{_tn(LU.dtype)} and B of type {_tn(B.dtype)} instead")
    x = _lu_solve_op(LU, pivots._data, B, left, adjoint)
    if left:
        x = _set_layout(x)
    return x if out is None else write_out(out, x)


def _torch_lu_solve(b, LU_data, LU_pivots, *, out=None):
    return lu_solve(LU_data, LU_pivots, b, out=out)


# ================================================================ addr, dist, legacy norms, torch.lu, removed functions
def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * outer(vec1, vec2)."""
    if vec1.dim() != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {vec1.dim()}-D")
    if vec2.dim() != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec2, but got {vec2.dim()}-D")
    shape = (vec1.shape[0], vec2.shape[0])
    if not _expand_check(tuple(input.shape), shape):
        _expand_err(tuple(input.shape), shape)
    if grad_mode.state.enabled and (input._rg or vec1._rg or vec2._rg) and type(beta) in (int, float) and \
            type(alpha) in (int, float) and min(t.dtype.category for t in (input, vec1, vec2)) >= 2:
        # one AddrBackward0 node, as torch; the same arithmetic as below
        r = apply(_ADDR, (input, vec1, vec2), {"beta": beta, "alpha": alpha})
        return r if out is None else write_out(out, r)
    prod = vec1.reshape(-1, 1) * vec2
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        # input is ignored (even nan/inf), but still takes part in type promotion
        r = _ops().zeros(shape, dtype=input.dtype, device=input.device) + prod
    else:
        r = (input if beta == 1 else input * beta) + prod
    return r if out is None else write_out(out, r)


def _addr_fwd(xp, input, vec1, vec2, beta, alpha):
    prod = vec1.reshape(-1, 1) * vec2
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:  # input is ignored (even nan/inf)
        return xp.zeros(prod.shape, prod.dtype) + prod
    return (input if beta == 1 else input * beta) + prod


def _addr_vjp(g, out, input, vec1, vec2, needs, beta, alpha):
    gv1 = g @ vec2.conj() if needs[1] else None
    gv2 = g.mT @ vec1.conj() if needs[2] else None
    if alpha != 1:
        gv1 = gv1 * alpha if gv1 is not None else None
        gv2 = gv2 * alpha if gv2 is not None else None
    return (g if beta == 1 else g * beta) if needs[0] else None, gv1, gv2


_ADDR = defop("addr", "promote", _addr_fwd, _addr_vjp, needs=True, save_in=(False, 2, 1), save_out=False,
              shape=lambda i, a, b, beta, alpha: (a[0], b[0]))


def _dist_fwd(xp, a, b, p):
    return _vnorm_fwd(xp, a - b, p, None, False, None)


def _dist_vjp(g, out, a, b, needs, p):
    gd = _vnorm_vjp(g, out, a - b, p, None, False, None)
    if gd is None:  # p = 0: torch's dist_backward hands an undefined tensor to its next step
        raise RuntimeError("Expected a proper Tensor but got None (or an undefined Tensor in C++) for argument #0 "
                           "'self'")
    return gd if needs[0] else None, -gd if needs[1] else None


_DIST = defop("dist", "raw", _dist_fwd, _dist_vjp, needs=True, shape=lambda a, b, p: ())


def dist(input, other, p=2):
    """The p-norm of input - other (broadcasting)."""
    if input.dtype.category < 2:
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. Got "
                           f"{_tn(input.dtype)} instead.")
    if isinstance(other, Tensor) and type(p) in (int, float) and other.dtype.category >= 2:
        from ._registry import _shapes_error
        try:
            np.broadcast_shapes(input._data.shape, other._data.shape)
        except ValueError:
            _shapes_error([input._data.shape, other._data.shape])
        return apply(_DIST, (input, other), {"p": float(p)})  # one DistBackward0 node, as torch
    return vector_norm(input - other, p)


def _warn_once(key, msg):
    if key not in _WARNED:
        import warnings
        warnings.warn(msg, UserWarning, stacklevel=3)
        _WARNED.add(key)


_WARNED = set()


def frobenius_norm(input, dim, keepdim=False, *, out=None):
    """Deprecated: linalg.vector_norm(input, 2, dim, keepdim)."""
    _warn_once("fro", "at::frobenius_norm is deprecated and it is just left for JIT compatibility. It will be "
                      "removed in a future PyTorch release. Please use `linalg.vector_norm(A, 2., dim, keepdim)` "
                      "instead")
    r = vector_norm(input, 2, dim, keepdim)
    return r if out is None else write_out(out, r)


def nuclear_norm(input, dim=None, keepdim=False, *, out=None):
    """Deprecated: linalg.matrix_norm(input, 'nuc', dim, keepdim)."""
    _warn_once("nuc", "at::nuclear_norm is deprecated and it is just left for JIT compatibility. It will be "
                      "removed in a future PyTorch release. Please use `linalg.matrix_norm(A, 'nuc', dim, keepdim)` "
                      "instead")
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    r = matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)
    return r if out is None else write_out(out, r)


_lu_with_info_rt = _rt("_lu_with_info", ("LU", "pivots", "info"))


def _torch_lu(A, pivot=True, get_infos=False, out=None):
    _warn_once("lu", "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and "
                     "will be removed in a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\n"
                     "should be replaced with\nLU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\n"
                     "LU, pivots, info = torch.lu(A, compute_pivots, get_infos=True)\nshould be replaced with\n"
                     "LU, pivots, info = torch.linalg.lu_factor_ex(A, compute_pivots)")
    LU, piv, info = lu_factor_ex(A, pivot=pivot)
    res = _lu_with_info_rt(LU, piv, info) if get_infos else (LU, piv)
    return res if out is None else _write_tuple(out, res)


_REMOVED = {
    "matrix_rank": "This function was deprecated since version 1.9 and is now removed.\nPlease use the "
                   "`torch.linalg.matrix_rank` function instead. The parameter 'symmetric' was renamed in "
                   "`torch.linalg.matrix_rank()` to 'hermitian'.",
    "lstsq": "This function was deprecated since version 1.9 and is now removed. `torch.lstsq` is deprecated in "
             "favor of `torch.linalg.lstsq`.\n`torch.linalg.lstsq` has reversed arguments and does not return the "
             "QR decomposition in the returned tuple (although it returns other information about the problem).\n\n"
             "To get the QR decomposition consider using `torch.linalg.qr`.\n\nThe returned solution in "
             "`torch.lstsq` stored the residuals of the solution in the last m - n columns of the returned value "
             "whenever m > n. In torch.linalg.lstsq, the residuals are in the field 'residuals' of the returned "
             "named tuple.\n\nThe unpacking of the solution, as in\nX, _ = torch.lstsq(B, A).solution[:A.size(1)]"
             "\nshould be replaced with:\nX = torch.linalg.lstsq(A, B).solution",
    "symeig": "This function was deprecated since version 1.9 and is now removed. The default behavior has changed "
              "from using the upper triangular portion of the matrix by default to using the lower triangular "
              "portion.\n\nL, _ = torch.symeig(A, upper=upper) should be replaced with:\nL = "
              "torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\nand\n\nL, V = torch.symeig(A, "
              "eigenvectors=True) should be replaced with:\nL, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')",
    "eig": "This function was deprecated since version 1.9 and is now removed. `torch.linalg.eig` returns complex "
           "tensors of dtype `cfloat` or `cdouble` rather than real tensors mimicking complex tensors.\n\nL, _ = "
           "torch.eig(A) should be replaced with:\nL_complex = torch.linalg.eigvals(A)\n\nand\n\nL, V = "
           "torch.eig(A, eigenvectors=True) should be replaced with:\nL_complex, V_complex = torch.linalg.eig(A)",
}


def _removed(name):
    def f(*args, **kwargs):
        raise RuntimeError(_REMOVED[name])
    f.__name__ = name
    f.__doc__ = "Removed from torch (1.9); raises torch's RuntimeError pointing at torch.linalg."
    return f


# ================================================================ public tables and Tensor methods
def _inplace(op, checker=None):
    def f(self, a, b, *, beta=1, alpha=1):
        if checker is not None:
            checker(self, a, b)
        kw = {"beta": beta, "alpha": alpha}
        if op is _BADDBMM or op is _ADDBMM:
            kw["reduce"] = op is _ADDBMM
        return apply_inplace(op, self, (a, b), kw)
    return f


def _check_addmv(input, mat, vec):
    if input.dtype is not mat.dtype or mat.dtype is not vec.dtype:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {_tn(input.dtype)}, "
                           f"{_tn(mat.dtype)}, and {_tn(vec.dtype)}")


def inverse(input, *, out=None):
    """Inverse of a square matrix (torch.inverse)."""
    return inv(input, out=out)


def _install():
    T = Tensor
    T.addmm = lambda self, mat1, mat2, *, beta=1, alpha=1: addmm(self, mat1, mat2, beta=beta, alpha=alpha)
    T.addmm_ = _inplace(_ADDMM, _check_addmm)
    T.addmv = lambda self, mat, vec, *, beta=1, alpha=1: addmv(self, mat, vec, beta=beta, alpha=alpha)
    T.addmv_ = _inplace(_ADDMV, _check_addmv)
    T.baddbmm = lambda self, b1, b2, *, beta=1, alpha=1: baddbmm(self, b1, b2, beta=beta, alpha=alpha)
    T.baddbmm_ = _inplace(_BADDBMM, lambda a, b, c: _bdt_check(a, b, c, True))
    T.addbmm = lambda self, b1, b2, *, beta=1, alpha=1: addbmm(self, b1, b2, beta=beta, alpha=alpha)
    T.addbmm_ = _inplace(_ADDBMM, _addbmm_check)
    T.outer = lambda self, vec2: outer(self, vec2)
    T.ger = lambda self, vec2: outer(self, vec2)
    T.vdot = lambda self, other: vdot(self, other)
    T.inner = lambda self, other: inner(self, other)
    T.trace = lambda self: trace(self)
    T.kron = lambda self, other: kron(self, other)
    T.cross = lambda self, other, dim=None: cross(self, other, dim)
    T.det = lambda self: det(self)
    T.logdet = lambda self: logdet(self)
    T.slogdet = lambda self: _torch_slogdet(self)
    T.inverse = lambda self: inv(self)
    T.cholesky = lambda self, upper=False: cholesky(self, upper=upper)
    T.cholesky_solve = lambda self, input2, upper=False: cholesky_solve(self, input2, upper)
    T.cholesky_inverse = lambda self, upper=False: cholesky_inverse(self, upper)
    T.pinverse = lambda self, rcond=1e-15: pinverse(self, rcond)
    T.svd = lambda self, some=True, compute_uv=True: _torch_svd(self, some, compute_uv)
    T.qr = lambda self, some=True: _torch_qr(self, some)
    T.matrix_power = lambda self, n: matrix_power(self, n)
    T.matrix_exp = lambda self: matrix_exp(self)
    T.lu_solve = lambda self, LU_data, LU_pivots: _torch_lu_solve(self, LU_data, LU_pivots)
    T.triangular_solve = lambda self, A, upper=True, transpose=False, unitriangular=False: triangular_solve(
        self, A, upper, transpose, unitriangular)
    T.addr = lambda self, vec1, vec2, *, beta=1, alpha=1: addr(self, vec1, vec2, beta=beta, alpha=alpha)
    T.addr_ = _addr_
    T.dist = lambda self, other, p=2: dist(self, other, p)
    T.lu = lambda self, pivot=True, get_infos=False: _torch_lu(self, pivot, get_infos)
    T.orgqr = lambda self, input2: householder_product(self, input2)
    for name in ("lstsq", "symeig", "eig"):
        setattr(T, name, _removed(name))


def _addr_(self, vec1, vec2, *, beta=1, alpha=1):
    from ._registry import check_inplace, rebase_history, write_into
    check_inplace(self)
    r = addr(self, vec1, vec2, beta=beta, alpha=alpha)
    write_into(self, r)
    if r.grad_fn is not None:
        rebase_history(self, r)
    return self


_install()

FUNCS = dict(addmm=addmm, addmv=addmv, addbmm=addbmm, baddbmm=baddbmm, outer=outer, ger=outer, einsum=einsum,
             tensordot=tensordot, kron=kron, cross=cross, trace=trace, vdot=vdot, inner=inner,
             chain_matmul=chain_matmul, cdist=cdist, det=det, logdet=logdet, slogdet=_torch_slogdet,
             inverse=inverse, cholesky=_torch_cholesky, cholesky_solve=cholesky_solve,
             cholesky_inverse=cholesky_inverse, pinverse=pinverse, svd=_torch_svd, qr=_torch_qr,
             matrix_power=matrix_power, matrix_exp=matrix_exp, lu_unpack=lu_unpack,
             lu_solve=_torch_lu_solve, triangular_solve=triangular_solve, orgqr=householder_product, addr=addr,
             dist=dist, frobenius_norm=frobenius_norm, nuclear_norm=nuclear_norm, lu=_torch_lu,
             matrix_rank=_removed("matrix_rank"), lstsq=_removed("lstsq"), symeig=_removed("symeig"),
             eig=_removed("eig"))

# the torch.linalg namespace (ember/linalg.py re-exports these)
LINALG = dict(cross=linalg_cross, det=det, slogdet=slogdet, inv=inv, inv_ex=inv_ex, solve=solve, solve_ex=solve_ex,
              solve_triangular=solve_triangular, cholesky=cholesky, cholesky_ex=cholesky_ex, eigh=eigh,
              eigvalsh=eigvalsh, eig=eig, eigvals=eigvals, svd=svd, svdvals=svdvals, qr=qr, lstsq=lstsq, pinv=pinv,
              matrix_rank=matrix_rank, matrix_power=matrix_power, matrix_exp=matrix_exp, norm=norm,
              vector_norm=vector_norm, matrix_norm=matrix_norm, cond=cond, diagonal=linalg_diagonal, vecdot=vecdot,
              tensorinv=tensorinv, tensorsolve=tensorsolve, multi_dot=multi_dot, lu_factor=lu_factor,
              lu_factor_ex=lu_factor_ex, lu=lu, lu_solve=lu_solve, householder_product=householder_product,
              vander=vander, LinAlgError=LinAlgError)
