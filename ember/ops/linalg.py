"""Matrix products: matmul/@, mm, bmm, mv, dot. BLAS does the work (NumPy's matmul)."""
import numpy as np

from .._tensor import Tensor
from ..backend import cpu_kernels as _K
from ._registry import apply, defop, renamed, write_out
from .pointwise import broadcast_shapes
from .reduce import sum_to
from .view import _UNSAFE_VIEW_FRESH


def _transposed(t):
    """Whether a 2-D tensor is a transposed C-contiguous block (``w.t()``): its gradient should be too."""
    d = getattr(t, "_data", t)  # a Tensor, or its array when the engine runs the vjp on arrays
    return d.ndim == 2 and d.strides[0] == d.itemsize and d.shape[0] > 1 and d.shape[1] > 1 and \
        d.strides[1] == d.shape[0] * d.itemsize


def _gemm_ahead(g, k):
    """Free the cores for BLAS before a gradient gemm of ``g`` with a contraction of ``k`` (arrays only: a Tensor
    product goes through matmul, which does the same)."""
    if type(g) is np.ndarray:
        _K.rest(g.size * k)


def _grad_a(g, a, b):
    # like torch, a transposed operand gets its gradient in its own layout: (b @ g^T)^T is C-contiguous
    # after the transpose back, and the caller's t() makes it match a's base without a (slow) transposing copy
    _gemm_ahead(g, b.shape[-2])
    return (b @ g.swapaxes(-1, -2)).swapaxes(-1, -2) if _transposed(a) and g.ndim == 2 else g @ b.swapaxes(-1, -2)


def _grad_b(g, a, b):
    _gemm_ahead(g, a.shape[-1])
    return (g.swapaxes(-1, -2) @ a).swapaxes(-1, -2) if _transposed(b) and g.ndim == 2 else a.swapaxes(-1, -2) @ g


def _mm_vjp(g, out, a, b, needs):
    return (_grad_a(g, a, b) if needs[0] else None, _grad_b(g, a, b) if needs[1] else None)


def _matmul_vjp(g, out, a, b, needs):
    if a.ndim == 2 and b.ndim == 2:
        return _mm_vjp(g, out, a, b, needs)
    # 1-D operands are promoted to matrices for the product, then the added dim is removed again
    a2 = a.unsqueeze(0) if a.dim() == 1 else a
    b2 = b.unsqueeze(-1) if b.dim() == 1 else b
    g2 = g
    if a.dim() == 1 and b.dim() == 1:
        g2 = g.reshape(1, 1)
    elif a.dim() == 1:
        g2 = g.unsqueeze(-2)
    elif b.dim() == 1:
        g2 = g.unsqueeze(-1)
    ga = gb = None
    if needs[0]:
        ga = _grad_a(g2, a2, b2) if a2.dim() == 2 and b2.dim() == 2 else g2 @ b2.mT
        if a.dim() == 1:
            ga = ga.reshape(ga.shape[:-2] + (ga.shape[-1],)) if ga.dim() > 1 else ga
            ga = ga.sum_to_size(a.shape) if ga.shape != a.shape else ga
    if needs[1]:
        gb = _grad_b(g2, a2, b2) if a2.dim() == 2 and b2.dim() == 2 else a2.mT @ g2
        if b.dim() == 1:
            gb = gb.squeeze(-1)
            gb = gb.sum_to_size(b.shape) if gb.shape != b.shape else gb
    return ga, gb


def _shape_err(a, b):
    raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
                       f"{b.shape[0]}x{b.shape[1]})")


def _no_bool(kernel, a):
    if a.dtype.kind == "b":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _matmul_kernel(a, b):
    # the kernel torch dispatches matmul to (named in its dtype errors)
    if a.ndim == 1 and b.ndim == 1:
        return "dot"
    if b.ndim == 1:
        return "addmv_impl_cpu"
    if a.ndim >= 3 and b.ndim >= 3:
        return "bmm"
    return "addmm_impl_cpu_"


def _mm2d(xp, a, b):
    return _K.matmul(a, b) if xp is np else xp.matmul(a, b)


def _matmul_fwd(xp, a, b):
    if a.ndim == 2 and b.ndim == 2 and a.shape[1] == b.shape[0] and a.dtype.kind != "b":
        return _mm2d(xp, a, b)  # the common case, before the checks that find torch's error for the others
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    _no_bool(_matmul_kernel(a, b), a)
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        if a.ndim == 2 and b.ndim == 2:
            _shape_err(a, b)
        if a.ndim == 1 and b.ndim == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to "
                               f"have the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements "
                               f"respectively")
        if b.ndim == 1:
            raise RuntimeError(f"size mismatch, got input ({a.shape[-2]}), mat ({a.shape[-2]}x{ka}), vec ({kb})")
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b.shape[0] if b.ndim == 3 else 'N'}, {ka}] but got: "
                           f"[{b.shape[0]}, {kb}].")
    if a.ndim > 2 and b.ndim == 2 and a.size and a.flags.c_contiguous:
        # (..., n, k) @ (k, m) as one (N, k) @ (k, m) gemm: NumPy would loop a gemm per leading index
        return xp.matmul(a.reshape(-1, ka), b).reshape(a.shape[:-1] + (b.shape[1],))
    return xp.matmul(a, b)


def _matmul_shape(sa, sb):
    import numpy as np
    if len(sa) == 0 or len(sb) == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {len(sa)}D and "
                           f"{len(sb)}D")
    ka, kb = sa[-1], (sb[0] if len(sb) == 1 else sb[-2])
    if ka != kb:  # the forward's own checks give torch's message for each case
        _matmul_fwd(np, np.empty(sa if len(sa) <= 2 else sa[-2:], np.float32),
                    np.empty(sb if len(sb) <= 2 else sb[-2:], np.float32))
    if len(sa) == 1 and len(sb) == 1:
        return ()
    if len(sa) == 1:
        return tuple(sb[:-2]) + (sb[-1],)
    if len(sb) == 1:
        return tuple(sa[:-1])
    return tuple(np.broadcast_shapes(sa[:-2], sb[:-2])) + (sa[-2], sb[-1])


_MATMUL = defop("matmul", "promote", _matmul_fwd, _matmul_vjp, needs=True, save_in=(1, 0), save_out=False, holo=True,
                arrays=lambda a, b: a.ndim == 2 and b.ndim == 2,
                shape=_matmul_shape,
                node="MmBackward0")


def _mm_fwd(xp, a, b):
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        _shape_err(a, b)
    _no_bool("addmm_impl_cpu_", a)
    return _mm2d(xp, a, b)


_MM = defop("mm", "promote", _mm_fwd, _mm_vjp, needs=True, save_in=(1, 0), save_out=False, holo=True, arrays=True,
            shape=lambda sa, sb: (sa[0], sb[1]))


def _bmm_fwd(xp, a, b):
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, "
                           f"{a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
    _no_bool("bmm", a)
    return xp.matmul(a, b)


_BMM = defop("bmm", "promote", _bmm_fwd, _mm_vjp, needs=True, save_in=(1, 0), save_out=False, holo=True, arrays=True,
             shape=lambda sa, sb: (sa[0], sa[1], sb[2]))


def _mv_fwd(xp, a, v):
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {a.ndim}, {v.ndim}")
    if a.shape[1] != v.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x{a.shape[1]}), "
                           f"vec ({v.shape[0]})")
    _no_bool("addmv_impl_cpu", a)
    return xp.matmul(a, v)


_MV = defop("mv", "promote", _mv_fwd,
            lambda g, out, a, v, needs: (g.unsqueeze(1) * v if needs[0] else None,
                                         a.mT @ g if needs[1] else None),
            needs=True, save_in=(1, 0), save_out=False, shape=lambda sa, sv: (sa[0],), holo=True)


def _dot_fwd(xp, a, b):
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have "
                           f"the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively")
    if a.dtype != b.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {_tn(a.dtype)} and "
                           f"{_tn(b.dtype)}")
    _no_bool("dot", a)
    return xp.dot(a, b)


def _tn(npdt):
    from .. import _dtype as D
    from ._registry import _type_name
    return _type_name(D.NP2DT[npdt])


_DOT = defop("dot", "raw", _dot_fwd,
             lambda g, out, a, b, needs: (g * b if needs[0] else None, g * a if needs[1] else None),
             needs=True, save_in=(1, 0), save_out=False, shape=lambda sa, sb: (), holo=True)


# C++ type names, as torch's mm prints them in its dtype-mismatch error
_CTYPE = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
          "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
          "bool": "bool", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _check_same_dtype(name, a, b):
    """torch's error for operands of different dtypes; ``name`` is the kernel the call reaches (for matmul it
    depends on the operands' ranks, as torch dispatches it to dot, mv, mm or bmm)."""
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)) or a.dtype is b.dtype:
        return
    from ._registry import _type_name
    if name == "matmul":
        if a.dim() == 0 or b.dim() == 0:
            return  # the forward's rank error comes first
        name = "bmm" if b.dim() >= 3 else "mm" if b.dim() == 2 else "dot" if a.dim() == 1 else "mv"
    da, db = a.dtype, b.dtype
    if name == "mm":
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_CTYPE.get(da.name, da.name)} != "
                           f"{_CTYPE.get(db.name, db.name)}")
    if name == "dot":
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {_type_name(da)} and "
                           f"{_type_name(db)}")
    if name == "mv":
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {_type_name(db)}, "
                           f"{_type_name(da)}, and {_type_name(db)}")
    raise RuntimeError(f"expected scalar type {_type_name(da)} but found {_type_name(db)}")


def check_linear_dtypes(input, weight, bias=None):
    """torch's error for F.linear on operands of different dtypes: with a bias it is addmm's (bias, input,
    weight.T), without one mm's."""
    if bias is None:
        _check_same_dtype("mm", input, weight)
        return
    from ._registry import _type_name
    for a, b, names in ((bias, weight, "self and mat2"), (input, weight, "mat1 and mat2")):
        if isinstance(a, Tensor) and isinstance(b, Tensor) and a.dtype is not b.dtype:
            raise RuntimeError(f"{names} must have the same dtype, but got {_type_name(a.dtype)} and "
                               f"{_type_name(b.dtype)}")


# torch's matmul dispatches on the operands' dims: 2-D @ 2-D is one mm (MmBackward0), the hot case
_MATMUL_NODES = {(1, 1): renamed(_MATMUL, "DotBackward0"), (2, 1): renamed(_MATMUL, "MvBackward0"),
                 (2, 2): _MATMUL}
_EMPTY = {}


def matmul(input, other, *, out=None):
    """Matrix product with NumPy/torch broadcasting over batch dims (1-D operands are vectors)."""
    if type(input) is Tensor and type(other) is Tensor and input._data.ndim == 2 and other._data.ndim == 2 and \
            input.dtype is other.dtype and out is None:
        return apply(_MATMUL, (input, other), _EMPTY)  # the hot case (a Linear's product): mm, nothing to check
    op = _MATMUL_NODES.get((input.dim(), other.dim())) if isinstance(input, Tensor) and \
        isinstance(other, Tensor) else _MATMUL
    if op is not None:
        _check_same_dtype("matmul", input, other)
        r = apply(op, (input, other), _EMPTY)
    else:
        r = _matmul_composite(input, other)
    return r if out is None else write_out(out, r)


def _matmul_composite(a, b):
    """matmul for a vector on the left of a matrix, or a batch: torch's steps, each a node of its graph.

    - vector @ matrix: ``a.unsqueeze(0).mm(b).squeeze_(0)``;
    - a batch against a matrix or vector (or the reverse, transposed) folds the batch into the rows of
      one mm / mv, when that needs no copy of the batch or the matrix side requires grad (its gradient
      then is one matrix, not a batch of them to sum);
    - otherwise both sides are expanded to the broadcast batch, flattened to 3-D, and multiplied by bmm.
    A 3-D operand of batch 1 that requires grad, against a 3-D one of another batch, drops its batch dim
    first (torch does, so that its gradient is not expanded and summed)."""
    na, nb = a.dim(), b.dim()
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D")
    if na == 1 and nb == 2:
        return mm(a.unsqueeze(0), b).squeeze_(0)
    # whether the operands require grad, also under no_grad (where a squeezed one would not): torch asks this
    # of the tensors it was given
    rg_a, rg_b = a.requires_grad, b.requires_grad
    if na == 3 and nb == 3:
        if a.shape[0] == 1 and b.shape[0] != 1 and rg_a:
            a, na = a.squeeze(0), 2
        elif b.shape[0] == 1 and a.shape[0] != 1 and rg_b:
            b, nb = b.squeeze(0), 2
    if _folds(a, b, rg_b if na >= nb else rg_a):
        flip = nb > na  # the batch is on the right: fold (b^T) against a^T and transpose the result back
        t1 = b.mT if flip else a
        t2 = (a.t() if na == 2 else a) if flip else b
        lead = tuple(t1.shape[:-1])
        rows = t1.reshape(int(np.prod(lead)), t1.shape[-1])
        if t2.dim() == 1:
            return _fresh_view(mv(rows, t2), lead)
        r = _fresh_view(mm(rows, t2), lead + (t2.shape[1],))
        return r.mT.contiguous() if flip else r
    n, k = (a.shape[-2] if na > 1 else 1), a.shape[-1]
    kb, p = (b.shape[-2], b.shape[-1]) if nb > 1 else (b.shape[0], 1)
    batch = broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
    count = int(np.prod(batch))
    a3 = a.expand(batch + (n, k)).reshape(count, n, k)
    if nb == 1:
        b3 = b.expand(batch + (kb,)).reshape(count, kb).unsqueeze(2)
    else:
        b3 = b.expand(batch + (kb, p)).reshape(count, kb, p)
    r = bmm(a3, b3)
    if nb == 1:
        r = r.squeeze(-1)
    return _fresh_view(r, batch + ((n,) if na > 1 else ()) + ((p,) if nb > 1 else ()))


def _folds(a, b, small_rg):
    """Whether torch folds this batched product into one mm / mv (see ``_matmul_composite``); ``small_rg``:
    whether the operand of fewer dims requires grad."""
    big_left = a.dim() >= b.dim()
    t1 = a if big_left else b.mT
    small = b if big_left else a
    if t1.dim() < 3 or small.dim() > 2:
        return False
    if small_rg:
        return True
    if a.dim() == 2:  # folding a matrix on the left would need the result transposed and copied
        return False
    if t1.numel() == 0:
        return True
    shape, st = t1.shape, t1.stride()
    return all(st[i] == st[i + 1] * shape[i + 1] for i in range(t1.dim() - 2))


def _fresh_view(t, shape):
    # torch's _unsafe_view of a product nobody else holds: the result keeps its memory, no copy
    return apply(_UNSAFE_VIEW_FRESH, (t,), {"shape": tuple(shape)})


def mm(input, mat2, *, out=None):
    """2-D matrix product only (no broadcasting)."""
    _check_same_dtype("mm", input, mat2)
    r = apply(_MM, (input, mat2), {})
    return r if out is None else write_out(out, r)


def bmm(input, mat2, *, out=None):
    """Batched 3-D matrix product (b, n, m) @ (b, m, p)."""
    _check_same_dtype("bmm", input, mat2)
    r = apply(_BMM, (input, mat2), {})
    return r if out is None else write_out(out, r)


def mv(input, vec, *, out=None):
    _check_same_dtype("mv", input, vec)
    r = apply(_MV, (input, vec), {})
    return r if out is None else write_out(out, r)


def dot(input, other, *, out=None):
    """Inner product of two 1-D tensors of the same dtype."""
    r = apply(_DOT, (input, other), {})
    return r if out is None else write_out(out, r)


Tensor.matmul = lambda self, other: matmul(self, other)
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)
Tensor.mm = lambda self, mat2: mm(self, mat2)
Tensor.bmm = lambda self, mat2: bmm(self, mat2)
Tensor.mv = lambda self, vec: mv(self, vec)
Tensor.dot = lambda self, other: dot(self, other)
Tensor.sum_to_size = lambda self, *size: sum_to(self, size[0] if len(size) == 1 and isinstance(size[0], (tuple, list))
                                                else size)

FUNCS = dict(matmul=matmul, mm=mm, bmm=bmm, mv=mv, dot=dot)
