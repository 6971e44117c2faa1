"""Op-table rows for ember/ops/linalg_ext.py (ember.linalg) and ember/ops/spectral.py (ember.fft).

Inputs are well conditioned (square matrices get a multiple of the identity added, Hermitian ones are
A A^H + n I) so float32 results agree with torch's MKL/LAPACK. Decompositions whose outputs are only
defined up to a sign/phase (eigh, svd) are compared through gauge-invariant functions of them
(eigenvalues, |Q|^2, S, |U|^2, |Vh|^2); complex-valued results (eig, the FFTs) as (real, imag) so
the generic float64 gradient checks apply.
"""
import numpy as np

from ..opinfo import COMPLEX, DT, FLOATS, OpInfo, Sample, arr, noncontig

INTS = ("int64", "int32")
F_C = FLOATS + COMPLEX


def _sq(n, dtype, batch=(), seed=0):
    """A well-conditioned square matrix (or batch): random + n * I."""
    a = arr(batch + (n, n), dtype, -1, 1, seed)
    return (a + n * np.eye(n, dtype=a.dtype)).astype(dtype)


def _spd(n, dtype, batch=(), seed=0):
    a = arr(batch + (n, n), dtype, -1, 1, seed)
    return (a @ np.conj(np.swapaxes(a, -1, -2)) + n * np.eye(n)).astype(dtype)


def _mH(a):
    return np.conj(np.swapaxes(a, -1, -2))


# ---------------------------------------------------------------- fused products
def _addmm_samples(dtype):
    yield Sample((arr((2, 4), dtype, seed=1), arr((2, 3), dtype, seed=2), arr((3, 4), dtype, seed=3)), name="2d")
    yield Sample((arr((4,), dtype, seed=4), arr((2, 3), dtype, seed=5), arr((3, 4), dtype, seed=6)),
                 {"beta": 2, "alpha": 3}, name="broadcast-beta-alpha")
    yield Sample((arr((), dtype, seed=7), arr((2, 3), dtype, seed=8), arr((3, 4), dtype, seed=9)), name="0d-input")
    yield Sample((arr((2, 4), dtype, seed=10), arr((2, 0), dtype), arr((0, 4), dtype)), name="empty-k")
    yield Sample((arr((2, 4), dtype, seed=11), noncontig(arr((2, 3), dtype, seed=12)), arr((3, 4), dtype, seed=13)),
                 {"beta": 0}, name="noncontig-beta0")
    yield Sample((arr((2, 4), dtype, seed=14), arr((2, 3), dtype), arr((2, 4), dtype)), name="bad-shape",
                 error=RuntimeError)
    other = "float64" if dtype != "float64" else "float32"
    yield Sample((arr((2, 4), dtype), arr((2, 3), dtype), arr((3, 4), other)), name="mixed-dtype",
                 error=RuntimeError)


def _axpby_ref(i, a, b, beta=1, alpha=1, prod=np.matmul):
    p = prod(a, b)
    r = alpha * p if beta == 0 else beta * i + alpha * p
    return np.asarray(r).astype(p.dtype)


def _addmv_samples(dtype):
    yield Sample((arr((2,), dtype, seed=1), arr((2, 3), dtype, seed=2), arr((3,), dtype, seed=3)), name="1d")
    yield Sample((arr((), dtype, seed=4), arr((2, 3), dtype, seed=5), arr((3,), dtype, seed=6)),
                 {"beta": 2, "alpha": 3}, name="0d-input-beta-alpha")
    yield Sample((arr((2,), dtype, seed=7), noncontig(arr((2, 3), dtype, seed=8)), arr((3,), dtype, seed=9)),
                 name="noncontig")
    yield Sample((arr((2,), dtype), arr((2, 3), dtype), arr((4,), dtype)), name="bad-shape", error=RuntimeError)


def _baddbmm_samples(dtype):
    yield Sample((arr((5, 2, 4), dtype, seed=1), arr((5, 2, 3), dtype, seed=2), arr((5, 3, 4), dtype, seed=3)),
                 name="3d")
    yield Sample((arr((2, 4), dtype, seed=4), arr((5, 2, 3), dtype, seed=5), arr((5, 3, 4), dtype, seed=6)),
                 {"beta": 2, "alpha": 3}, name="broadcast-beta-alpha")
    yield Sample((arr((5, 2, 4), dtype), arr((5, 2, 3), dtype), arr((4, 3, 4), dtype)), name="bad-batch",
                 error=RuntimeError)


def _addbmm_samples(dtype):
    yield Sample((arr((2, 4), dtype, seed=1), arr((5, 2, 3), dtype, seed=2), arr((5, 3, 4), dtype, seed=3)),
                 name="2d")
    yield Sample((arr((4,), dtype, seed=4), arr((5, 2, 3), dtype, seed=5), arr((5, 3, 4), dtype, seed=6)),
                 {"beta": 2, "alpha": 3}, name="broadcast-beta-alpha")
    yield Sample((arr((2, 4), dtype), arr((5, 2, 3), dtype), arr((4, 3, 4), dtype)), name="bad-batch",
                 error=RuntimeError)


def _outer_samples(dtype):
    yield Sample((arr((3,), dtype, seed=1), arr((4,), dtype, seed=2)), name="1d")
    yield Sample((arr((0,), dtype), arr((4,), dtype, seed=3)), name="empty")
    yield Sample((arr((3,), dtype), arr((2, 2), dtype)), name="2d-arg", error=RuntimeError)


def _vdot_samples(dtype):
    yield Sample((arr((5,), dtype, seed=1), arr((5,), dtype, seed=2)), name="1d")
    yield Sample((arr((0,), dtype), arr((0,), dtype)), name="empty")
    yield Sample((arr((3,), dtype), arr((4,), dtype)), name="bad-size", error=RuntimeError)


def _inner_samples(dtype):
    yield Sample((arr((5,), dtype, seed=1), arr((5,), dtype, seed=2)), name="1d")
    yield Sample((arr((2, 3), dtype, seed=3), arr((4, 3), dtype, seed=4)), name="2d")
    yield Sample((arr((), dtype, seed=5), arr((4, 3), dtype, seed=6)), name="0d")
    yield Sample((arr((2, 5, 3), dtype, seed=7), noncontig(arr((4, 3), dtype, seed=8))), name="3d-noncontig")
    yield Sample((arr((2, 3), dtype), arr((4,), dtype)), name="bad-last", error=RuntimeError)


def _trace_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1),), name="2d")
    yield Sample((arr((4, 3), dtype, seed=2),), name="tall")
    yield Sample((arr((0, 3), dtype),), name="empty")
    yield Sample((noncontig(arr((3, 3), dtype, seed=3)),), name="noncontig")
    yield Sample((arr((3,), dtype),), name="1d", error=RuntimeError)


def _trace_ref(x):
    r = np.trace(x)
    return np.asarray(r, dtype=np.int64 if x.dtype.kind in "iu" else x.dtype)


def _kron_samples(dtype):
    yield Sample((arr((2, 3), dtype, seed=1), arr((3, 2), dtype, seed=2)), name="2d")
    yield Sample((arr((3,), dtype, seed=3), arr((2, 2), dtype, seed=4)), name="1d-2d")
    yield Sample((arr((), dtype, seed=5), arr((3,), dtype, seed=6)), name="0d")
    yield Sample((arr((2, 2), dtype, seed=7), arr((2, 1, 2), dtype, seed=8)), name="3d")


def _cross_samples(dtype):
    yield Sample((arr((4, 3), dtype, seed=1), arr((4, 3), dtype, seed=2)), name="2d")
    yield Sample((arr((1, 3), dtype, seed=3), arr((4, 3), dtype, seed=4)), name="broadcast")
    yield Sample((arr((3, 4), dtype, seed=5), arr((3, 4), dtype, seed=6)), {"dim": 0}, name="dim0")
    yield Sample((noncontig(arr((3, 3), dtype, seed=7)), arr((3, 3), dtype, seed=8)), {"dim": -2},
                 name="noncontig")
    yield Sample((arr((4, 2), dtype), arr((4, 2), dtype)), name="not-3", error=RuntimeError)


def _cross_ref(a, b, dim=-1):
    return np.cross(a, b, axis=dim)


def _tensordot_samples(dtype):
    yield Sample((arr((2, 3, 4), dtype, seed=1), arr((3, 4, 5), dtype, seed=2)), name="default")
    yield Sample((arr((2, 3, 4), dtype, seed=3), arr((4, 5, 2), dtype, seed=4), ([0, 2], [2, 0])), name="lists")
    yield Sample((arr((2,), dtype, seed=5), arr((3,), dtype, seed=6), 0), name="outer")
    yield Sample((noncontig(arr((3, 4), dtype, seed=7)), arr((4, 2), dtype, seed=8), 1), name="noncontig")
    yield Sample((arr((2, 2), dtype), arr((2, 2), dtype), 3), name="too-many", error=RuntimeError)


def _einsum_samples(dtype):
    cases = [("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ii->i", [(3, 3)]),
             ("ij->", [(2, 3)]), ("i,j", [(3,), (4,)]), ("...ij,...jk", [(2, 3, 4), (4, 5)]),
             ("ijk,ikl,lm->jm", [(2, 3, 4), (2, 4, 5), (5, 6)]), ("iij,j->i", [(3, 3, 2), (2,)]),
             ("...,...->...", [(2, 1), (3,)]), ("ba", [(2, 3)])]
    for k, (eq, shapes) in enumerate(cases):
        yield Sample((eq,) + tuple(arr(s, dtype, seed=k * 7 + j) for j, s in enumerate(shapes)),
                     name=eq.replace(",", "_").replace("->", "-to-").replace("...", "E"))
    yield Sample(("i,i", arr((2,), dtype), arr((3,), dtype)), name="bad-size", error=RuntimeError)


def _einsum_ref(eq, *xs):
    r = np.einsum(eq, *xs)
    if len(xs) == 1 and xs[0].dtype.kind in "iub" and np.asarray(r).ndim < xs[0].ndim:
        return np.asarray(r).astype(np.int64)
    return r


def _cdist_samples(dtype):
    yield Sample((arr((3, 2), dtype, seed=1), arr((4, 2), dtype, seed=2)), name="p2")
    yield Sample((arr((2, 3, 2), dtype, seed=3), arr((1, 4, 2), dtype, seed=4), 1.0), name="p1-batch")
    yield Sample((arr((3, 2), dtype, seed=5), arr((4, 2), dtype, seed=6), 3.0), name="p3")
    yield Sample((arr((3, 2), dtype, seed=7), arr((4, 2), dtype, seed=8), float("inf")), name="pinf")
    yield Sample((arr((3, 2), dtype), arr((4, 3), dtype)), name="bad-cols", error=RuntimeError)


def _cdist_ref(a, b, p=2.0):
    d = np.abs(a[..., :, None, :] - b[..., None, :, :])
    if p == float("inf"):
        return d.max(-1)
    return (d ** p).sum(-1) ** (1 / p)


def _multi_dot_samples(dtype):
    yield Sample(([arr((3,), dtype, seed=1), arr((3, 4), dtype, seed=2), arr((4, 2), dtype, seed=3)],),
                 name="vec-first")
    yield Sample(([arr((5, 2), dtype, seed=4), arr((2, 6), dtype, seed=5), arr((6, 3), dtype, seed=6),
                   arr((3,), dtype, seed=7)],), name="vec-last")
    yield Sample(([arr((2, 2), dtype)],), name="one", error=RuntimeError)


def _chain_ref(ts):
    r = ts[0]
    for t in ts[1:]:
        r = r @ t
    return r


# ---------------------------------------------------------------- inverse / determinants / solvers
def _square_samples(dtype, n=3):
    yield Sample((_sq(n, dtype, seed=1),), name="2d")
    yield Sample((_sq(n, dtype, (2,), seed=2),), name="batch")
    yield Sample((noncontig(_sq(n, dtype, seed=3)),), name="noncontig")
    yield Sample((arr((0, 0), dtype),), name="empty")
    yield Sample((arr((2, 3), dtype),), name="not-square", error=RuntimeError)




def _det_samples(dtype):
    yield from _square_samples(dtype)
    yield Sample((np.array([[1., 2.], [2., 4.]], dtype),), name="singular", grad=False)


def _spd_samples(dtype):
    yield Sample((_spd(3, dtype, seed=1),), name="2d")
    yield Sample((_spd(3, dtype, (2,), seed=2),), name="batch")
    yield Sample((noncontig(_spd(4, dtype, seed=3)),), name="noncontig")
    yield Sample((arr((0, 0), dtype),), name="empty")


def _chol_samples(dtype):
    yield from _spd_samples(dtype)
    yield Sample((_spd(3, dtype, seed=4),), {"upper": True}, name="upper")


def _chol_ref(a, upper=False):
    L = np.linalg.cholesky(a) if a.size else a.copy()
    return _mH(L) if upper else L


def _solve_samples(dtype):
    yield Sample((_sq(3, dtype, seed=1), arr((3, 2), dtype, seed=2)), name="matrix")
    yield Sample((_sq(3, dtype, (2,), seed=3), arr((3,), dtype, seed=4)), name="vector-broadcast")
    yield Sample((_sq(3, dtype, (2,), seed=5), arr((2, 3), dtype, seed=6)), name="batched-vector")
    yield Sample((_sq(3, dtype, (1,), seed=7), arr((2, 3, 2), dtype, seed=8)), name="batch-broadcast")
    yield Sample((_sq(3, dtype, seed=9), arr((4, 3), dtype, seed=10)), {"left": False}, name="right")
    yield Sample((noncontig(_sq(3, dtype, seed=11)), noncontig(arr((3, 3), dtype, seed=12))), name="noncontig")
    yield Sample((_sq(2, dtype), arr((3,), dtype)), name="bad-shape", error=RuntimeError)


def _solve_ref(a, b, left=True):
    vec = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    if not left:
        return np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)
    if vec:
        bb = np.broadcast_to(b[..., None], np.broadcast_shapes(a.shape[:-2], b.shape[:-1]) + (b.shape[-1], 1))
        return np.linalg.solve(a, bb)[..., 0]
    return np.linalg.solve(a, b)


def _tri_samples(dtype):
    yield Sample((_sq(3, dtype, seed=1), arr((3, 2), dtype, seed=2)), {"upper": True}, name="upper")
    yield Sample((_sq(3, dtype, (2,), seed=3), arr((3, 2), dtype, seed=4)), {"upper": False}, name="lower-batch")
    yield Sample((_sq(3, dtype, seed=5), arr((4, 3), dtype, seed=6)), {"upper": True, "left": False},
                 name="right")
    yield Sample((noncontig(_sq(3, dtype, seed=7)), arr((3, 1), dtype, seed=8)),
                 {"upper": False, "unitriangular": True}, name="unit-noncontig")
    yield Sample((_sq(2, dtype), arr((2,), dtype)), {"upper": True}, name="vector-B", error=RuntimeError)


def _lstsq_samples(dtype):
    yield Sample((arr((5, 3), dtype, seed=1), arr((5, 2), dtype, seed=2)), name="tall")
    yield Sample((arr((3, 5), dtype, seed=3), arr((3, 2), dtype, seed=4)), name="wide")
    yield Sample((arr((2, 5, 3), dtype, seed=5), arr((2, 5), dtype, seed=6)), name="batched-vector")
    yield Sample((arr((5, 3), dtype, seed=7), arr((5, 2), dtype, seed=8)), {"driver": "gelsd"}, name="gelsd")


def _lstsq_call(m, a, b, **kw):
    r = m.linalg.lstsq(a, b, **kw)
    return (r.solution, r.residuals) + ((r.singular_values, r.rank) if kw.get("driver") == "gelsd" else (r.rank,))


# ---------------------------------------------------------------- decompositions (gauge-invariant views)
def _sym(a):
    """The Hermitian part: eigh/cholesky read one triangle, so finite differences need symmetric inputs."""
    if isinstance(a, np.ndarray):
        return (a + _mH(a)) / 2
    h = a.mT.conj_physical() if a.dtype.is_complex else a.mT
    return (a + h) / 2


def _eigh_call(m, a, **kw):
    L, Q = m.linalg.eigh(_sym(a), **kw)
    return L, Q * Q


def _svd_call(m, a, **kw):
    U, S, Vh = m.linalg.svd(a, **kw)
    k = S.shape[-1]
    Uk, Vk = U.narrow(-1, 0, k), Vh.narrow(-2, 0, k)
    return S, Uk * Uk, Vk * Vk


def _svd_samples(dtype):
    yield Sample((arr((4, 3), dtype, seed=1),), {"full_matrices": False}, name="tall")
    yield Sample((arr((3, 5), dtype, seed=2),), {"full_matrices": False}, name="wide")
    yield Sample((arr((2, 3, 3), dtype, seed=3),), name="batch-full")
    yield Sample((noncontig(arr((4, 4), dtype, seed=4)),), name="noncontig")


def _qr_samples(dtype):
    yield Sample((arr((4, 3), dtype, seed=1),), name="tall")
    yield Sample((arr((3, 5), dtype, seed=2),), name="wide")
    yield Sample((arr((2, 3, 3), dtype, seed=3),), {"mode": "complete"}, name="batch-complete")
    yield Sample((arr((4, 3), dtype, seed=4),), {"mode": "r"}, name="r-only", grad=False)
    yield Sample((noncontig(arr((3, 3), dtype, seed=5)),), name="noncontig")


def _eig_call(m, a):
    L, V = m.linalg.eig(a)
    return L.real, L.imag, V.abs() ** 2


def _pinv_samples(dtype):
    yield Sample((arr((4, 3), dtype, seed=1),), name="tall")
    yield Sample((arr((2, 3, 5), dtype, seed=2),), name="batch-wide")
    yield Sample((_spd(3, dtype, seed=3),), {"hermitian": True}, name="hermitian")
    yield Sample((np.array([[1., 2.], [2., 4.]], dtype),), name="rank-deficient", grad=False)


def _rank_samples(dtype):
    yield Sample((arr((4, 3), dtype, seed=1),), name="full")
    yield Sample((np.array([[1., 2.], [2., 4.]], dtype),), name="deficient")
    yield Sample((arr((2, 3, 3), dtype, seed=2),), {"atol": 0.5, "rtol": 0.0}, name="atol")
    yield Sample((_spd(3, dtype, seed=3),), {"hermitian": True}, name="hermitian")


def _lu_factor_call(m, a):
    LU, piv = m.linalg.lu_factor(a)
    return LU, piv


def _lu_solve_call(m, a, b, **kw):
    LU, piv = m.linalg.lu_factor(a)
    return m.linalg.lu_solve(LU, piv, b, **kw)


def _lu_solve_samples(dtype):
    yield Sample((_sq(3, dtype, seed=1), arr((3, 2), dtype, seed=2)), name="left")
    yield Sample((_sq(3, dtype, seed=3), arr((2, 3), dtype, seed=4)), {"left": False}, name="right")
    yield Sample((_sq(3, dtype, seed=5), arr((3, 2), dtype, seed=6)), {"adjoint": True}, name="adjoint")


def _lu_samples(dtype):
    yield Sample((_sq(3, dtype, seed=1),), name="2d")
    yield Sample((_sq(3, dtype, (2,), seed=2),), name="batch")
    yield Sample((arr((3, 5), dtype, seed=3),), name="wide", grad=False)
    yield Sample((arr((5, 3), dtype, seed=4),), name="tall", grad=False)
    yield Sample((arr((0, 0), dtype),), name="empty")


def _power_samples(dtype):
    yield Sample((_sq(3, dtype, seed=1), 3), name="3")
    yield Sample((_sq(3, dtype, (2,), seed=2), -2), name="neg-batch")
    yield Sample((_sq(3, dtype, seed=3), 0), name="0", grad=False)
    yield Sample((_sq(2, dtype, seed=4), 1), name="1")
    yield Sample((arr((2, 3), dtype), 2), name="not-square", error=RuntimeError)


def _expm_samples(dtype):
    yield Sample((arr((3, 3), dtype, seed=1),), name="2d")
    yield Sample((3 * arr((2, 3, 3), dtype, seed=2),), name="batch-large-norm")
    yield Sample((arr((0, 0), dtype),), name="empty")
    yield Sample((noncontig(arr((4, 4), dtype, seed=3)),), name="noncontig")


def _expm_ref(a):
    from numpy.linalg import eig
    if a.size == 0:
        return a.copy()
    w, v = eig(a.astype(np.complex128))
    r = (v * np.exp(w)[..., None, :]) @ np.linalg.inv(v)
    return r.real.astype(a.dtype) if a.dtype.kind == "f" else r.astype(a.dtype)


# ---------------------------------------------------------------- norms
def _vnorm_samples(dtype):
    x = arr((3, 4), dtype, seed=1)
    for o in (2, 1, 3.5, float("inf"), -float("inf"), 0, -1):
        yield Sample((x, o), name=f"ord{o}")
    yield Sample((arr((2, 3, 4), dtype, seed=2), 2, (0, 2), True), name="dims-keepdim")
    yield Sample((arr((2, 3), dtype, seed=3), 1, -1), name="dim-neg")
    yield Sample((arr((), dtype, seed=4),), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=5)), 2, 0), name="noncontig")
    yield Sample((arr((0, 3), dtype),), name="empty")
    yield Sample((arr((0, 3), dtype), float("inf")), name="empty-inf", error=RuntimeError)


def _vnorm_ref(x, ord=2, dim=None, keepdim=False):
    a = np.abs(x)
    ax = dim if dim is None or isinstance(dim, tuple) else (dim,)
    if ord == float("inf"):
        r = a.max(axis=ax, keepdims=keepdim)
    elif ord == -float("inf"):
        r = a.min(axis=ax, keepdims=keepdim)
    elif ord == 0:
        r = (a != 0).sum(axis=ax, keepdims=keepdim).astype(a.dtype)
    else:
        with np.errstate(divide="ignore"):
            r = (a ** ord).sum(axis=ax, keepdims=keepdim) ** (1.0 / ord)
    return np.asarray(r, dtype=a.dtype)


def _mnorm_samples(dtype):
    for o in ("fro", "nuc", 1, -1, 2, -2, float("inf"), -float("inf")):
        yield Sample((arr((3, 4), dtype, seed=1), o), name=f"ord{o}")
    yield Sample((arr((3, 2, 4), dtype, seed=2), "nuc", (0, 2), True), name="dims-keepdim")
    yield Sample((arr((2, 3, 3), dtype, seed=3), 2), name="batch")
    yield Sample((arr((3, 3), dtype), 3), name="bad-ord", error=RuntimeError)


def _mnorm_ref(a, ord="fro", dim=(-2, -1), keepdim=False):
    r = np.linalg.norm(a, ord=ord, axis=dim, keepdims=keepdim)
    return np.asarray(r, dtype=np.abs(a).dtype)


def _norm_samples(dtype):
    yield Sample((arr((2, 3, 4), dtype, seed=1),), name="default")
    yield Sample((arr((3, 4), dtype, seed=2), 2), name="matrix-2")
    yield Sample((arr((4,), dtype, seed=3), 3), name="vector-3")
    yield Sample((arr((3, 4), dtype, seed=4), None, 1), name="dim1")
    yield Sample((arr((3, 4, 2), dtype, seed=5), "nuc", (0, 1)), name="nuc-dims")
    yield Sample((arr((2, 3), dtype, seed=6),), {"keepdim": True}, name="keepdim")
    yield Sample((arr((2, 2, 2), dtype), 2), name="3d-ord", error=RuntimeError)


def _cond_samples(dtype):
    yield Sample((_sq(3, dtype, seed=1),), name="2")
    yield Sample((arr((3, 4), dtype, seed=2), -2), name="-2-rect")
    yield Sample((_sq(3, dtype, seed=3), "fro"), name="fro", grad=False)
    yield Sample((_sq(3, dtype, seed=4), 1), name="1", grad=False)
    yield Sample((arr((3, 3), dtype), 3), name="bad-ord", error=RuntimeError)


def _cond_ref(a, p=None):
    return np.asarray(np.linalg.cond(a, p), dtype=np.abs(a).dtype)


def _vecdot_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), arr((4,), dtype, seed=2)), name="broadcast")
    yield Sample((arr((3, 4), dtype, seed=3), arr((3, 1), dtype, seed=4)), {"dim": 0}, name="dim0")
    yield Sample((noncontig(arr((3, 4), dtype, seed=5)), arr((3, 4), dtype, seed=6)), name="noncontig")


# ---------------------------------------------------------------- fft (complex outputs as real, imag)
def _ri(r):
    return (r.real, r.imag) if r.dtype.is_complex else r


def _fft_call(name):
    def f(m, x, *a, **kw):
        return _ri(getattr(m.fft, name)(x, *a, **kw))
    return f


def _fft1_samples(dtype):
    yield Sample((arr((6,), dtype, seed=1),), name="1d")
    yield Sample((arr((3, 5), dtype, seed=2), 8, 0), name="pad-dim0")
    yield Sample((arr((3, 5), dtype, seed=3), 3), {"norm": "ortho"}, name="trim-ortho")
    yield Sample((noncontig(arr((4, 4), dtype, seed=4)),), {"norm": "forward"}, name="noncontig-forward")
    yield Sample((arr((4,), dtype), 0), name="n0", error=RuntimeError)


def _fftn_samples(dtype):
    yield Sample((arr((3, 4, 5), dtype, seed=1),), name="all")
    yield Sample((arr((3, 4, 5), dtype, seed=2), (5, 6)), name="s")
    yield Sample((arr((3, 4, 5), dtype, seed=3), (5, 4), (0, 2)), {"norm": "ortho"}, name="s-dim-ortho")


def _np_fft(name):
    def f(x, *a, **kw):
        fn = getattr(np.fft, name)
        if name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft"):
            n = a[0] if len(a) > 0 else kw.get("n")
            dim = a[1] if len(a) > 1 else kw.get("dim", -1)
            r = fn(x, n=n, axis=dim, norm=kw.get("norm"))
        else:
            s = a[0] if len(a) > 0 else kw.get("s")
            dim = a[1] if len(a) > 1 else kw.get("dim")
            if dim is None and s is not None:
                dim = tuple(range(x.ndim - len(s), x.ndim))
            r = fn(x, s=s, axes=dim, norm=kw.get("norm"))
        cdt = np.complex64 if x.dtype in (np.float32, np.complex64) else np.complex128
        r = r.astype(cdt if r.dtype.kind == "c" else (np.float32 if cdt is np.complex64 else np.float64))
        return (r.real, r.imag) if r.dtype.kind == "c" else r
    return f


def _window_samples(dtype):
    for n in (0, 1, 5, 8):
        yield Sample((n,), {"dtype": DT(dtype)}, name=f"n{n}")
        yield Sample((n, False), {"dtype": DT(dtype)}, name=f"n{n}-symmetric")


_GR = dict(method=False, grad_rtol=1e-4)

OPS = [
    # products
    OpInfo("addmm", _addmm_samples, ref=_axpby_ref, dtypes=FLOATS + INTS, inplace=True),
    OpInfo("addmv", _addmv_samples, ref=_axpby_ref, dtypes=FLOATS + INTS, inplace=True),
    OpInfo("baddbmm", _baddbmm_samples, ref=_axpby_ref, dtypes=FLOATS + INTS, inplace=True),
    OpInfo("addbmm", _addbmm_samples, ref=lambda i, a, b, beta=1, alpha=1: _axpby_ref(
        i, a, b, beta, alpha, lambda x, y: (x @ y).sum(0)), dtypes=FLOATS + INTS, inplace=True),
    OpInfo("outer", _outer_samples, ref=np.outer, dtypes=FLOATS + INTS),
    OpInfo("addr", lambda dt: iter([
        Sample((arr((3, 2), dt, seed=1), arr((3,), dt, seed=2), arr((2,), dt, seed=3)), name="2d"),
        Sample((arr((2,), dt, seed=4), arr((3,), dt, seed=5), arr((2,), dt, seed=6)), {"beta": 2, "alpha": 3},
               name="broadcast-beta-alpha")]),
        ref=lambda i, a, b, beta=1, alpha=1: beta * i + alpha * np.outer(a, b), dtypes=FLOATS + INTS, inplace=True),
    OpInfo("dist", lambda dt: iter([Sample((arr((3, 4), dt, seed=1), arr((4,), dt, seed=2)), name="p2"),
                                    Sample((arr((3, 4), dt, seed=3), arr((3, 4), dt, seed=4), 1), name="p1")]),
           ref=lambda a, b, p=2: np.asarray((np.abs(a - b) ** p).sum() ** (1 / p), a.dtype), dtypes=FLOATS),
    OpInfo("ger", _outer_samples, ref=np.outer, dtypes=FLOATS),
    OpInfo("vdot", _vdot_samples, ref=lambda a, b: np.asarray(np.vdot(a, b)), dtypes=F_C + INTS),
    OpInfo("inner", _inner_samples, ref=np.inner, dtypes=FLOATS + INTS),
    OpInfo("trace", _trace_samples, ref=_trace_ref, dtypes=FLOATS + INTS, errors={"bool": NotImplementedError}),
    OpInfo("kron", _kron_samples, ref=np.kron, dtypes=FLOATS + INTS),
    OpInfo("linalg.cross", _cross_samples, ref=_cross_ref, dtypes=FLOATS + INTS, method=False),
    OpInfo("cross", _cross_samples, ref=_cross_ref, dtypes=FLOATS, variant="method",
           fn=lambda m, a, b, dim=-1: m.cross(a, b, dim=dim), method_name="cross"),
    OpInfo("tensordot", _tensordot_samples, ref=lambda a, b, dims=2: np.tensordot(a, b, dims), dtypes=FLOATS + INTS,
           method=False),
    OpInfo("einsum", _einsum_samples, ref=_einsum_ref, dtypes=FLOATS + ("int64",), method=False),
    OpInfo("cdist", _cdist_samples, ref=_cdist_ref, dtypes=FLOATS, method=False),
    OpInfo("linalg.multi_dot", _multi_dot_samples, ref=_chain_ref, dtypes=FLOATS + INTS, method=False),
    OpInfo("linalg.vecdot", _vecdot_samples, ref=lambda x, y, dim=-1: (np.conj(x) * y).sum(dim), dtypes=F_C,
           method=False),
    # inverses, determinants, solvers
    OpInfo("linalg.inv", _square_samples, ref=np.linalg.inv, dtypes=F_C, method=False, atol=1e-4),
    OpInfo("inverse", _square_samples, ref=np.linalg.inv, dtypes=FLOATS, atol=1e-4),
    OpInfo("linalg.det", _det_samples, ref=lambda a: np.asarray(np.linalg.det(a) if a.size else np.ones(
        a.shape[:-2]), a.dtype), dtypes=F_C, method=False, atol=1e-4, rtol=1e-5),
    OpInfo("det", _square_samples, ref=lambda a: np.asarray(np.linalg.det(a) if a.size else np.ones(a.shape[:-2]),
                                                            a.dtype), dtypes=FLOATS, atol=1e-4),
    OpInfo("linalg.slogdet", _square_samples, ref=lambda a: tuple(np.linalg.slogdet(a)) if a.size else (
        np.ones(a.shape[:-2]), np.zeros(a.shape[:-2])), dtypes=FLOATS, method=False, atol=1e-4),
    OpInfo("logdet", _spd_samples, ref=lambda a: np.linalg.slogdet(a)[1] if a.size else np.zeros(a.shape[:-2]),
           dtypes=FLOATS, atol=1e-4),
    OpInfo("linalg.solve", _solve_samples, ref=_solve_ref, dtypes=F_C, method=False, atol=1e-4),
    OpInfo("linalg.solve_triangular", _tri_samples, dtypes=FLOATS, method=False, atol=1e-4),
    OpInfo("linalg.cholesky", _chol_samples, ref=lambda a, upper=False: _chol_ref((a + _mH(a)) / 2, upper),
           fn=lambda m, a, **kw: m.linalg.cholesky(_sym(a), **kw), dtypes=F_C, atol=1e-4, **_GR),
    OpInfo("cholesky_solve", lambda dt: iter([Sample((arr((3, 2), dt, seed=1), np.linalg.cholesky(_spd(3, dt))))]),
           dtypes=FLOATS, atol=1e-4, skip=("grad",)),
    OpInfo("cholesky_inverse", lambda dt: iter([Sample((np.linalg.cholesky(_spd(3, dt)),))]), dtypes=FLOATS,
           atol=1e-4, skip=("grad",)),
    OpInfo("linalg.lstsq", _lstsq_samples, dtypes=FLOATS, fn=_lstsq_call, atol=1e-4, **_GR),
    OpInfo("linalg.pinv", _pinv_samples, ref=lambda a, hermitian=False: np.linalg.pinv(a, hermitian=hermitian),
           fn=lambda m, a, hermitian=False: m.linalg.pinv(_sym(a) if hermitian else a, hermitian=hermitian),
           dtypes=FLOATS, atol=1e-4, **_GR),
    OpInfo("linalg.matrix_rank", _rank_samples, dtypes=FLOATS, method=False, grad=False),
    OpInfo("linalg.matrix_power", _power_samples, ref=lambda a, n: np.linalg.matrix_power(a, n), dtypes=FLOATS,
           method=False, atol=1e-4, rtol=1e-5),
    OpInfo("matrix_power", _power_samples, ref=lambda a, n: np.linalg.matrix_power(a, n), dtypes=("float64",),
           atol=1e-4),
    OpInfo("linalg.matrix_exp", _expm_samples, ref=_expm_ref, dtypes=FLOATS, method=False, atol=1e-4, rtol=1e-5),
    OpInfo("linalg.tensorinv", lambda dt: iter([Sample((_sq(6, dt).reshape(6, 2, 3), 1))]),
           ref=lambda a, ind: np.linalg.tensorinv(a, ind), dtypes=FLOATS, method=False, atol=1e-4),
    OpInfo("linalg.tensorsolve", lambda dt: iter([Sample((_sq(6, dt).reshape(2, 3, 6), arr((2, 3), dt)))]),
           ref=np.linalg.tensorsolve, dtypes=FLOATS, method=False, atol=1e-4),
    OpInfo("linalg.lu_solve", _lu_solve_samples, dtypes=FLOATS, fn=_lu_solve_call, atol=1e-4, **_GR),
    OpInfo("linalg.lu_factor", _lu_samples, dtypes=FLOATS, fn=_lu_factor_call, atol=1e-4, **_GR),
    OpInfo("linalg.householder_product", lambda dt: iter([Sample((arr((4, 3), dt, seed=1), arr((3,), dt, seed=2)))]),
           dtypes=FLOATS, method=False, atol=1e-4),
    # decompositions (through gauge-invariant functions of their results)
    OpInfo("linalg.eigh", _spd_samples, dtypes=FLOATS, fn=_eigh_call, atol=1e-4, variant="invariant", **_GR),
    OpInfo("linalg.eigvalsh", _spd_samples, ref=np.linalg.eigvalsh, fn=lambda m, a: m.linalg.eigvalsh(_sym(a)),
           dtypes=FLOATS, atol=1e-4, **_GR),
    OpInfo("linalg.svd", _svd_samples, dtypes=FLOATS, fn=_svd_call, atol=1e-4, variant="invariant", **_GR),
    OpInfo("linalg.svdvals", lambda dt: (s for s in _svd_samples(dt) if not s.kwargs),
           ref=lambda a: np.linalg.svd(a, compute_uv=False), dtypes=FLOATS, method=False, atol=1e-4),
    OpInfo("linalg.qr", _qr_samples, ref=lambda a, mode="reduced": np.linalg.qr(a, mode) if mode != "r" else (
        np.zeros(0, a.dtype), np.linalg.qr(a, mode)), dtypes=FLOATS, method=False, atol=1e-4),
    OpInfo("linalg.eig", lambda dt: iter([Sample((arr((3, 3), dt, seed=1),), name="2d"),
                                          Sample((arr((2, 4, 4), dt, seed=2),), name="batch")]),
           dtypes=FLOATS, fn=_eig_call, atol=1e-4, variant="invariant", **_GR),
    # norms
    OpInfo("linalg.vector_norm", _vnorm_samples, ref=_vnorm_ref, dtypes=FLOATS, method=False),
    OpInfo("linalg.matrix_norm", _mnorm_samples, ref=_mnorm_ref, dtypes=FLOATS, method=False, atol=1e-4),
    OpInfo("linalg.norm", _norm_samples, dtypes=FLOATS, method=False, atol=1e-4),
    OpInfo("linalg.cond", _cond_samples, ref=_cond_ref, dtypes=FLOATS, method=False, atol=1e-4, rtol=1e-4),
    OpInfo("linalg.diagonal", lambda dt: iter([Sample((arr((2, 3, 4), dt),), {"offset": 1}, name="offset"),
                                              Sample((arr((3, 4), dt),), name="2d")]),
           ref=lambda a, offset=0: np.diagonal(a, offset, -2, -1), dtypes=FLOATS + INTS, method=False, view=True),
    # fft
    *[OpInfo(f"fft.{nm}", _fft1_samples, ref=_np_fft(nm), fn=_fft_call(nm), dtypes=FLOATS, atol=1e-4,
             variant="ri", **_GR) for nm in ("fft", "ifft", "rfft", "ihfft")],
    *[OpInfo(f"fft.{nm}", lambda dt: (s for s in _fft1_samples(dt) if s.error is None), ref=_np_fft(nm),
             fn=_fft_call(nm), dtypes=COMPLEX, atol=1e-4, variant="ri", **_GR) for nm in ("irfft", "hfft")],
    *[OpInfo(f"fft.{nm}", _fftn_samples, ref=_np_fft(nm), fn=_fft_call(nm), dtypes=FLOATS, atol=1e-4,
             variant="ri", **_GR) for nm in ("fftn", "ifftn", "rfftn")],
    OpInfo("fft.irfftn", _fftn_samples, ref=_np_fft("irfftn"), fn=_fft_call("irfftn"), dtypes=COMPLEX, atol=1e-4,
           variant="ri", **_GR),
    OpInfo("fft.fftshift", lambda dt: iter([Sample((arr((3, 5), dt),), name="all"),
                                           Sample((arr((3, 5), dt), (1,)), name="dim")]),
           ref=lambda x, dim=None: np.fft.fftshift(x, dim), dtypes=FLOATS + INTS, method=False),
    OpInfo("fft.ifftshift", lambda dt: iter([Sample((arr((3, 5), dt),), name="all"),
                                            Sample((arr((3, 5), dt), (1,)), name="dim")]),
           ref=lambda x, dim=None: np.fft.ifftshift(x, dim), dtypes=FLOATS + INTS, method=False),
    *[OpInfo(w, _window_samples, dtypes=FLOATS, method=False, grad=False, skip=("meta",))
      for w in ("hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window")],
]
