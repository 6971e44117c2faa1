"""ember.linalg and the linear-algebra products against torch: values, dtypes, errors (type and message),
named results, LAPACK-style ``info``, and float64 / complex128 gradients of the same program.

The op table rows live in tests/ops/db/linalg.py; here are the checks the generic runner cannot make:
complex gradients, gauge-invariant losses for eigen/singular vectors, exception messages, LinAlgError.
"""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(1234)


def R(*shape, dt="float64"):
    if dt.startswith("complex"):
        return np.asarray(RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(dt)
    return np.asarray(RNG.standard_normal(shape)).astype(dt)


def SQ(n, batch=(), dt="float64"):
    return (R(*batch, n, n, dt=dt) + n * np.eye(n)).astype(dt)


def SPD(n, batch=(), dt="float64"):
    a = R(*batch, n, n, dt=dt)
    return (a @ np.conj(np.swapaxes(a, -1, -2)) + n * np.eye(n)).astype(dt)


def _np(t):
    t = t.detach()
    if isinstance(t, torch.Tensor):
        return t.resolve_conj().resolve_neg().numpy()
    return np.asarray(t.numpy())


def _flat(r):
    if isinstance(r, (tuple, list)):
        return [x for y in r for x in _flat(y)]
    return [r] if hasattr(r, "dtype") else []


def _default_loss(m, out):
    loss = 0
    for k, o in enumerate(_flat(out)):
        if o.dtype.is_complex:
            loss = loss + (o.real * (k + 1)).sum() + (o.imag ** 2).sum()
        elif o.dtype.is_floating_point:
            loss = loss + (o * o).sum() * (k + 1)
    return loss


def check(fn, *arrays, loss=_default_loss, grad=True, nout=None, atol=1e-7, **kw):
    """Run ``fn(module, *tensors, **kw)`` in torch and ember; compare outputs and the inputs' .grad."""
    res = {}
    for mod in (torch, ember):
        ins = []
        for a in arrays:
            if isinstance(a, np.ndarray):
                t = mod.tensor(a)
                if grad and a.dtype.kind in "fc":
                    t.requires_grad_()
                ins.append(t)
            else:
                ins.append(a)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(mod, *ins, **kw)
        if grad:
            loss(mod, out).backward()
        res[mod] = (_flat(out), [t.grad for t in ins if hasattr(t, "grad")])
    (to, tg), (eo, eg) = res[torch], res[ember]
    assert len(to) == len(eo)
    for i, (a, b) in enumerate(list(zip(to, eo))[:nout]):
        assert str(a.dtype) == str(b.dtype), f"output {i}: dtype {b.dtype} != {a.dtype}"
        assert tuple(a.shape) == tuple(b.shape), f"output {i}: shape {tuple(b.shape)} != {tuple(a.shape)}"
        np.testing.assert_allclose(_np(b), _np(a), rtol=1e-6, atol=atol, equal_nan=True, err_msg=f"output {i}")
    if grad:
        for i, (a, b) in enumerate(zip(tg, eg)):
            assert (a is None) == (b is None), f"grad {i}: torch {a is None}, ember {b is None}"
            if a is not None:
                assert str(a.dtype) == str(b.dtype)
                np.testing.assert_allclose(_np(b), _np(a), rtol=1e-6, atol=atol * 10, err_msg=f"grad {i}")


def _err(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - the exception is the result
            return e
    return None


# ---------------------------------------------------------------- errors: same type, same message
f32 = lambda *s: np.ones(s, np.float32)  # noqa: E731
f64 = lambda *s: np.ones(s, np.float64)  # noqa: E731
i64 = lambda *s: np.ones(s, np.int64)  # noqa: E731
SING = np.array([[1., 2.], [2., 4.]], np.float32)

ERRORS = [
    ("m.linalg.inv(a)", [SING]), ("m.linalg.inv(a)", [np.stack([np.eye(2, dtype=np.float32), SING])]),
    ("m.linalg.inv(a)", [i64(2, 2)]), ("m.linalg.inv(a)", [f32(2, 3)]), ("m.linalg.inv(a)", [f32(3)]),
    ("m.inverse(a)", [SING]), ("m.linalg.inv_ex(a, check_errors=True)", [SING]),
    ("m.linalg.det(a)", [i64(2, 2)]), ("m.linalg.det(a)", [f32(2, 3)]), ("m.linalg.slogdet(a)", [f32(3)]),
    ("m.logdet(a)", [i64(2, 2)]),
    ("m.linalg.solve(a, b)", [SING, f32(2)]), ("m.linalg.solve(a, b)", [np.stack([np.eye(2, dtype=np.float32), SING]),
                                                                       f32(2)]),
    ("m.linalg.solve(a, b)", [f32(2, 2), f32(3)]), ("m.linalg.solve(a, b)", [f32(2, 2), i64(2, 2)]),
    ("m.linalg.solve(a, b)", [f64(2, 2), f32(2)]), ("m.linalg.solve(a, b, left=False)", [f32(2, 2), f32(2)]),
    ("m.linalg.solve(a, b)", [f32(2, 2, 2), f32(3, 2, 1)]),
    ("m.linalg.solve_ex(a, b, check_errors=True)", [SING, f32(2)]),
    ("m.linalg.cholesky(a)", [SING]), ("m.linalg.cholesky(a)", [-np.eye(3)]),
    ("m.linalg.cholesky(a)", [np.stack([np.eye(2), -np.eye(2)])]), ("m.linalg.cholesky(a)", [f32(2, 3)]),
    ("m.linalg.cholesky(a, upper=True)", [np.array([[4., 100.], [2., 3.]])]),
    ("m.linalg.cholesky_ex(a, check_errors=True)", [-np.eye(2)]),
    ("m.linalg.eigh(a)", [f32(2, 3)]), ("m.linalg.eigh(a, UPLO='X')", [f32(2, 2)]), ("m.linalg.eig(a)", [i64(2, 2)]),
    ("m.linalg.eigvals(a)", [f32(2, 3)]), ("m.linalg.svd(a)", [i64(2, 3)]),
    ("m.linalg.svd(a, driver='gesvd')", [f32(2, 2)]),
    ("m.linalg.qr(a, mode='x')", [f32(3, 2)]), ("m.linalg.pinv(a)", [i64(2, 2)]), ("m.linalg.matrix_rank(a)", [f32(3)]),
    ("m.linalg.matrix_power(a, 2)", [f32(2, 3)]), ("m.linalg.matrix_power(a, -1)", [i64(2, 2)]),
    ("m.linalg.matrix_power(a, -1)", [SING]), ("m.linalg.matrix_exp(a)", [f32(2, 3)]),
    ("m.linalg.matrix_exp(a)", [i64(2, 2)]),
    ("m.linalg.lstsq(a, b, driver='x')", [f32(4, 3), f32(4, 2)]), ("m.linalg.lstsq(a, b)", [f64(4, 3), f32(4, 2)]),
    ("m.linalg.lstsq(a, b)", [f32(4, 3), f32(3, 2)]), ("m.linalg.lstsq(a, b)", [f32(3), f32(3)]),
    ("m.linalg.lu_factor(a)", [SING]), ("m.linalg.lu_factor_ex(a, check_errors=True)", [SING]),
    ("m.linalg.solve_triangular(a, b, upper=True)", [f32(2, 2), f32(2)]),
    ("m.linalg.solve_triangular(a, b, upper=True)", [f32(2, 2), f32(3, 1)]),
    ("m.linalg.tensorinv(a, 0)", [f32(2, 3, 4)]), ("m.linalg.tensorinv(a, 1)", [f32(2, 3, 4)]),
    ("m.linalg.tensorsolve(a, b)", [f32(2, 3, 4), f32(2, 3)]),
    ("m.linalg.vecdot(a, b)", [f32(2), i64(2)]), ("m.linalg.vecdot(a, b)", [i64(2), i64(2)]),
    ("m.addmm(a, b, c)", [f64(2, 2), f32(2, 2), f32(2, 2)]), ("m.addmm(a, b, c)", [f32(2, 2), f64(2, 2), f32(2, 2)]),
    ("m.addmm(a, b, c)", [f32(2, 2), f32(2, 2), f64(2, 2)]), ("m.addmm(a, b, c)", [f32(3), f32(2, 2), f32(2, 2)]),
    ("m.addmm(a, b, c)", [f32(2, 2), f32(2, 2), f32(3, 2)]), ("m.addmm(a, b, c)", [f32(2, 2), f32(2), f32(2, 2)]),
    ("m.addmv(a, b, c)", [f32(2), f32(2, 2), f32(3)]), ("m.addmv(a, b, c)", [f64(2), f32(2, 2), f32(2)]),
    ("m.addmv(a, b, c)", [f32(3), f32(2, 2), f32(2)]), ("m.addmv(a, b, c)", [f32(2), f32(2), f32(2)]),
    ("m.addbmm(a, b, c)", [f32(2, 2), f32(3, 2, 4), f32(2, 4, 2)]),
    ("m.addbmm(a, b, c)", [f32(2, 2), f32(3, 2, 4), f32(3, 3, 2)]),
    ("m.addbmm(a, b, c)", [f32(3, 3), f32(3, 2, 4), f32(3, 4, 2)]),
    ("m.addbmm(a, b, c)", [f32(2, 2), f32(2, 4), f32(3, 4, 2)]),
    ("m.baddbmm(a, b, c)", [f32(2, 2), f32(3, 2, 4), f32(3, 3, 2)]),
    ("m.baddbmm(a, b, c)", [f32(2, 2), f32(2, 4), f32(3, 4, 2)]),
    ("m.baddbmm(a, b, c)", [f32(3, 3), f32(3, 2, 4), f32(3, 4, 2)]),
    ("m.outer(a, b)", [f32(2), f32(2, 2)]), ("m.outer(a, b)", [f32(), f32(2)]), ("m.vdot(a, b)", [f32(2), i64(2)]),
    ("m.vdot(a, b)", [f32(2), f32(2, 1)]), ("m.vdot(a, b)", [f32(2), f32(3)]), ("m.inner(a, b)", [i64(2), f32(2)]),
    ("m.inner(a, b)", [f32(2, 2), f32(3)]), ("m.trace(a)", [f32(2)]), ("m.trace(a)", [np.ones((2, 2), bool)]),
    ("m.trace(a)", [f32(2, 2, 2)]),
    ("m.tensordot(a, b, dims=3)", [f32(2, 2), f32(2, 2)]), ("m.tensordot(a, b, dims=-1)", [f32(2, 2), f32(2, 2)]),
    ("m.tensordot(a, b, dims=([0,1],[1]))", [f32(2, 2), f32(2, 2)]),
    ("m.tensordot(a, b, dims=([0],[0]))", [f32(2, 2), f32(3, 2)]),
    ("m.tensordot(a, b, dims=(0, 1))", [f32(2, 2), f32(2, 2)]), ("m.tensordot(a, b, dims=1)", [f32(2, 2), i64(2, 2)]),
    ("m.linalg.multi_dot([a])", [f32(2, 2)]), ("m.linalg.multi_dot([a, b])", [f32(2, 2, 2), f32(2, 2)]),
    ("m.linalg.multi_dot([a, b, a])", [f32(2, 2), f32(2)]), ("m.linalg.multi_dot([a, b])", [f32(2, 2), f32(3, 2)]),
    ("m.linalg.multi_dot([a, b])", [f32(2, 2), i64(2, 2)]), ("m.linalg.multi_dot([a, b])", [f32(2, 2), f32(2, 2, 2)]),
    ("m.chain_matmul(a, b)", [f32(2), f32(2, 2)]), ("m.chain_matmul(a, b)", [f32(2, 2), f32(3, 3)]),
    ("m.cdist(a, b)", [f64(3, 2), f32(4, 2)]), ("m.cdist(a, b)", [i64(3, 2), i64(4, 2)]),
    ("m.cdist(a, b)", [f32(3), f32(4)]),
    ("m.cdist(a, b)", [f32(3, 2), f32(4, 3)]), ("m.cdist(a, b, p=-1)", [f32(3, 2), f32(4, 2)]),
    ("m.einsum('ij,jk->ik', a, b)", [f32(2, 2), i64(2, 2)]), ("m.einsum('ij,jk->ik', a)", [f32(2, 2)]),
    ("m.einsum('ij,jk->ik', a, b, a)", [f32(2, 2), f32(2, 2)]), ("m.einsum('i,i', a, b)", [f32(2), f32(3)]),
    ("m.einsum('ij', a)", [f32(2)]), ("m.einsum('i1', a)", [f32(2)]), ("m.einsum('i->ii', a)", [f32(2)]),
    ("m.einsum('i->j', a)", [f32(2)]), ("m.einsum('ii->i', a)", [f32(2, 3)]),
    ("m.einsum('ij,jk->ik', a, b)", [np.ones((2, 2), bool), np.ones((2, 2), bool)]),
    ("m.linalg.cross(a, b)", [f32(3, 4), f32(3, 4)]), ("m.cross(a, b, dim=0)", [f32(4, 3), f32(4, 3)]),
    ("m.linalg.cross(a, b)", [i64(3), f32(3)]), ("m.cross(a, b)", [f32(2, 4), f32(2, 4)]),
    ("m.linalg.cross(a, b)", [f32(3), f32(2, 3)]), ("m.linalg.cross(a, b)", [f32(2, 3), f32(3, 3)]),
    ("m.linalg.vector_norm(a)", [i64(3)]), ("m.linalg.vector_norm(a, dtype=m.int64)", [f32(3)]),
    ("m.linalg.vector_norm(a, dtype=m.float32)", [f64(3)]), ("m.linalg.vector_norm(a, float('inf'))", [f32(0)]),
    ("m.linalg.vector_norm(a, -1)", [f32(0)]), ("m.linalg.vector_norm(a, float('inf'), dim=1)", [f32(2, 0)]),
    ("m.linalg.vector_norm(a, 'fro')", [f32(2)]), ("m.linalg.matrix_norm(a)", [f32(2)]),
    ("m.linalg.matrix_norm(a, 3)", [f32(2, 2)]), ("m.linalg.matrix_norm(a, 'abc')", [f32(2, 2)]),
    ("m.linalg.matrix_norm(a, dim=(0,0))", [f32(2, 2)]), ("m.linalg.matrix_norm(a, dim=(0,))", [f32(2, 2)]),
    ("m.linalg.matrix_norm(a)", [i64(2, 2)]), ("m.linalg.norm(a, 2)", [f32(2, 2, 2)]),
    ("m.linalg.norm(a, 'fro')", [f32(2)]),
    ("m.linalg.norm(a, dim=(0,1,1))", [f32(2, 2)]), ("m.linalg.norm(a, 'fro', dim=1)", [f32(2, 2)]),
    ("m.norm(a, 'nuc')", [f32(2, 2, 2)]), ("m.norm(a, 'nuc')", [f32(2)]), ("m.norm(a)", [i64(2)]),
    ("m.norm(a, 'abc')", [f32(2, 2)]), ("m.linalg.cond(a, 1)", [f32(2, 3)]), ("m.linalg.cond(a, 3)", [f32(2, 2)]),
]


@pytest.mark.parametrize("expr,arrays", ERRORS, ids=[f"{e}-{i}" for i, (e, _) in enumerate(ERRORS)])
def test_errors_match_torch(expr, arrays):
    te = _err(lambda: eval(expr, {"m": torch, **dict(zip("abc", [torch.tensor(x) for x in arrays]))}))
    ee = _err(lambda: eval(expr, {"m": ember, **dict(zip("abc", [ember.tensor(x) for x in arrays]))}))
    assert te is not None, "torch raises here"
    assert ee is not None, f"ember does not raise; torch raises {te!r}"
    tname = type(te).__name__.lstrip("_")
    assert type(ee).__name__ == tname, f"{type(ee).__name__} != {tname}"
    assert str(ee).split("\n")[0] == str(te).split("\n")[0]


def test_linalg_error_class():
    assert issubclass(ember.linalg.LinAlgError, RuntimeError)
    with pytest.raises(ember.linalg.LinAlgError):
        ember.linalg.inv(ember.tensor(SING))
    with pytest.raises(RuntimeError):
        ember.linalg.cholesky(ember.tensor(-np.eye(2)))
    import ember.linalg as L  # the namespace is a real module
    assert L.inv is ember.linalg.inv


# ---------------------------------------------------------------- values and gradients (real and complex)
DTS = ["float64", "complex128"]


@pytest.mark.parametrize("dt", DTS)
def test_inverse_det_slogdet(dt):
    check(lambda m, a: m.linalg.inv(a), SQ(3, dt=dt))
    check(lambda m, a: m.linalg.inv(a), SQ(3, (2,), dt=dt))
    check(lambda m, a: m.linalg.det(a), SQ(3, (2,), dt=dt))
    check(lambda m, a: m.linalg.slogdet(a), SQ(3, (2,), dt=dt))
    check(lambda m, a: m.logdet(a), SPD(3, dt=dt))


def test_det_singular_gradient():
    # the gradient of det at a singular matrix is the adjugate (nonzero for rank n - 1)
    check(lambda m, a: m.linalg.det(a), np.array([[1., 2.], [2., 4.]]))
    check(lambda m, a: m.linalg.det(a), np.array([[1., 2., 3.], [4., 5., 6.], [7., 8., 9.]]))


@pytest.mark.parametrize("dt", DTS)
def test_solve(dt):
    check(lambda m, a, b: m.linalg.solve(a, b), SQ(3, dt=dt), R(3, 2, dt=dt))
    check(lambda m, a, b: m.linalg.solve(a, b), SQ(3, (2,), dt=dt), R(3, dt=dt))
    check(lambda m, a, b: m.linalg.solve(a, b), SQ(3, (2,), dt=dt), R(2, 3, dt=dt))
    check(lambda m, a, b: m.linalg.solve(a, b, left=False), SQ(3, dt=dt), R(4, 3, dt=dt))
    check(lambda m, a, b: m.linalg.solve(a, b), SQ(3, (1,), dt=dt), R(2, 3, 2, dt=dt))


@pytest.mark.parametrize("dt", DTS)
def test_cholesky(dt):
    check(lambda m, a: m.linalg.cholesky(a), SPD(3, dt=dt))
    check(lambda m, a: m.linalg.cholesky(a, upper=True), SPD(3, (2,), dt=dt))
    # only the lower triangle is read; the gradient is symmetrised like torch's
    check(lambda m, a: m.linalg.cholesky(a), SPD(3) + np.triu(R(3, 3), 1))


def _loss_vectors(m, out):
    """Gauge-invariant: eigen/singular values and |first row of the vectors|^2, weighted."""
    vals, vecs = out[0], out[1]
    w = m.arange(1, vecs.shape[-1] + 1, dtype=vals.real.dtype if vals.dtype.is_complex else vals.dtype)
    first = vecs.select(-2, 0).abs() ** 2
    v = vals.abs() ** 2 if vals.dtype.is_complex else vals * vals
    return v.sum() + (first * w).sum()


@pytest.mark.parametrize("dt", DTS)
def test_eigh(dt):
    check(lambda m, a: m.linalg.eigh(a), SPD(4, dt=dt), loss=_loss_vectors, nout=1)
    check(lambda m, a: m.linalg.eigh(a, "U"), SPD(3, (2,), dt=dt), loss=_loss_vectors, nout=1)
    check(lambda m, a: m.linalg.eigvalsh(a), SPD(4, dt=dt))


def test_eigh_vectors_only_gradient():
    check(lambda m, a: m.linalg.eigh(a)[1].abs(), SPD(3), loss=lambda m, o: (o * o * o).sum(), nout=0)


def _svd_loss(m, out):
    U, S, Vh = out
    k = S.shape[-1]
    Uk, Vk = U.narrow(-1, 0, k), Vh.narrow(-2, 0, k)
    W = m.tensor(np.diag(np.arange(1.0, k + 1)).astype(np.complex128 if U.dtype.is_complex else np.float64))
    M = Uk @ W @ Vk
    return (M.abs() ** 2).sum() + (S ** 3).sum()


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 4, 3)])
def test_svd(dt, shape):
    check(lambda m, a: m.linalg.svd(a, full_matrices=False), R(*shape, dt=dt), loss=_svd_loss, nout=0)
    check(lambda m, a: m.linalg.svd(a), R(*shape, dt=dt), loss=_svd_loss, nout=0)
    check(lambda m, a: m.linalg.svdvals(a), R(*shape, dt=dt))


def test_svd_reconstructs_and_torch_svd():
    a = R(4, 3)
    U, S, Vh = ember.linalg.svd(ember.tensor(a), full_matrices=False)
    np.testing.assert_allclose((U.numpy() * S.numpy()) @ Vh.numpy(), a, atol=1e-12)
    U, S, V = ember.svd(ember.tensor(a))
    np.testing.assert_allclose((U.numpy() * S.numpy()) @ V.numpy().T, a, atol=1e-12)
    r = ember.svd(ember.tensor(a), compute_uv=False)
    assert tuple(r.U.shape) == (4, 4) and tuple(r.V.shape) == (3, 3) and not r.U.numpy().any()
    assert tuple(ember.svd(ember.tensor(a), some=False).U.shape) == (4, 4)


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 4, 3)])
def test_qr(dt, shape):
    check(lambda m, a: m.linalg.qr(a), R(*shape, dt=dt))
    if shape[-2] <= shape[-1]:
        check(lambda m, a: m.linalg.qr(a, "complete"), R(*shape, dt=dt))


def test_qr_modes_and_errors():
    check(lambda m, a: m.linalg.qr(a, "r"), R(4, 3), grad=False)
    check(lambda m, a: m.linalg.qr(a, "complete"), R(4, 3), grad=False)
    a = ember.tensor(R(4, 3), requires_grad=True)
    with pytest.raises(RuntimeError, match="mode='r'"):
        ember.linalg.qr(a, "r").R.sum().backward()
    with pytest.raises(RuntimeError, match="complete"):
        ember.linalg.qr(a, "complete").Q.sum().backward()


@pytest.mark.parametrize("dt", DTS)
def test_eig(dt):
    check(lambda m, a: m.linalg.eig(a), R(3, 3, dt=dt), loss=_loss_vectors)
    check(lambda m, a: m.linalg.eigvals(a), R(2, 4, 4, dt=dt))
    w = ember.linalg.eigvals(ember.tensor(np.array([[0., 1.], [-1., 0.]])))
    assert w.dtype is ember.complex128


def test_pinv_lstsq():
    check(lambda m, a: m.linalg.pinv(a), R(4, 3))
    check(lambda m, a: m.linalg.pinv(a), R(2, 3, 5, dt="complex128"))
    check(lambda m, a: m.linalg.pinv(a, hermitian=True), SPD(3))
    check(lambda m, a: m.linalg.pinv(a, atol=0.5), R(3, 3), grad=False)
    check(lambda m, a: m.linalg.pinv(a, rtol=0.3), R(3, 4), grad=False)
    check(lambda m, a: m.pinverse(a), R(4, 3))
    for driver in (None, "gelsy", "gelsd", "gelss", "gels"):
        check(lambda m, a, b: m.linalg.lstsq(a, b, driver=driver), R(5, 3), R(5, 2))
    check(lambda m, a, b: m.linalg.lstsq(a, b), R(3, 5), R(3, 2))
    check(lambda m, a, b: m.linalg.lstsq(a, b, driver="gelsd"), R(2, 5, 3), R(2, 5))
    r = ember.linalg.lstsq(ember.tensor(R(5, 3)), ember.tensor(R(5, 2)))
    assert type(r).__name__ == "linalg_lstsq" and r.rank.dtype is ember.int64 and r.residuals.numel() == 0


def test_matrix_functions():
    check(lambda m, a: m.linalg.matrix_exp(a), R(3, 3))
    check(lambda m, a: m.linalg.matrix_exp(a), 5 * R(2, 4, 4))
    check(lambda m, a: m.matrix_exp(a), R(3, 3, dt="complex128"))
    check(lambda m, a: m.linalg.matrix_exp(a), R(3, 3, dt="float32"), grad=False, atol=1e-5)
    for n in (3, -2, 1, 0):
        check(lambda m, a: m.linalg.matrix_power(a, n), SQ(3, (2,)), grad=n != 0)
    check(lambda m, a: m.linalg.matrix_power(a, 0), np.arange(4).reshape(2, 2), grad=False)
    check(lambda m, a: a.matrix_power(2), SQ(3))


@pytest.mark.parametrize("ord", [2, 1, 3.5, 0.5, 0, float("inf"), -float("inf"), -1])
def test_vector_norm(ord):
    check(lambda m, a: m.linalg.vector_norm(a, ord), R(3, 4))
    check(lambda m, a: m.linalg.vector_norm(a, ord, dim=1, keepdim=True), R(3, 4))
    check(lambda m, a: m.linalg.vector_norm(a, ord, dim=(0, 2)), R(3, 4, 2, dt="complex128"))


def test_vector_norm_special():
    check(lambda m, a: m.linalg.vector_norm(a), np.zeros((2, 3)))                      # zero norm: zero grad
    check(lambda m, a: m.linalg.vector_norm(a, float("inf")), np.array([1., -3., 3., 2.]))  # ties share
    check(lambda m, a: m.linalg.vector_norm(a, dtype=m.float64), R(3, dt="float32"), grad=False)
    check(lambda m, a: m.linalg.vector_norm(a, 0), np.zeros(0), grad=False)


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, float("inf"), -float("inf")])
def test_matrix_norm(ord):
    check(lambda m, a: m.linalg.matrix_norm(a, ord), R(3, 4))
    check(lambda m, a: m.linalg.matrix_norm(a, ord, dim=(0, 2), keepdim=True), R(3, 2, 4))
    check(lambda m, a: m.linalg.matrix_norm(a, ord), R(2, 3, 3, dt="complex128"))


def test_norm_dispatch():
    check(lambda m, a: m.linalg.norm(a), R(2, 3, 4))
    check(lambda m, a: m.linalg.norm(a, 2), R(3, 4))
    check(lambda m, a: m.linalg.norm(a, 3), R(4))
    check(lambda m, a: m.linalg.norm(a, dim=1), R(3, 4))
    check(lambda m, a: m.linalg.norm(a, "nuc", dim=(0, 1)), R(3, 4, 2))
    check(lambda m, a: m.linalg.norm(a, keepdim=True), R(2, 3))
    check(lambda m, a: m.norm(a), R(2, 3, 4))
    check(lambda m, a: m.norm(a, "nuc"), R(3, 4))
    check(lambda m, a: m.norm(a, 3), R(3, 4))
    check(lambda m, a: m.norm(a, p=1, dim=1, keepdim=True), R(3, 4))
    check(lambda m, a: m.norm(a, "fro", dim=(0, 1)), R(3, 4, 2))
    check(lambda m, a: a.norm(1, 0), R(3, 2))
    check(lambda m, a: m.norm(a, dtype=m.float64), R(3, 2, dt="float32"))


def test_cond():
    check(lambda m, a: m.linalg.cond(a), R(3, 3))
    check(lambda m, a: m.linalg.cond(a, -2), R(3, 4))
    for p in ("fro", "nuc", 1, -1, float("inf")):
        check(lambda m, a: m.linalg.cond(a, p), R(2, 3, 3), grad=False)
    assert ember.linalg.cond(ember.tensor(SING), 1).item() == float("inf")


def test_triangular_lu_tensor_solvers():
    check(lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True), R(3, 3), R(3, 2))
    check(lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False, left=False), SQ(3), R(4, 3))
    check(lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False, unitriangular=True), R(2, 3, 3), R(3, 2))
    check(lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True), SQ(3, dt="complex128"), R(3, 2, dt="complex128"))
    check(lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True), np.zeros((2, 2)), np.ones((2, 1)), grad=False)
    check(lambda m, a: m.linalg.lu_factor(a), SQ(4))
    check(lambda m, a: m.linalg.lu(a), SQ(4))
    check(lambda m, a: m.linalg.lu(a), R(3, 5), grad=False)
    check(lambda m, a: m.linalg.lu_factor(a), R(2, 5, 3), grad=False)
    check(lambda m, a: m.linalg.lu_factor_ex(a), np.array([[1., 2.], [2., 4.]]), grad=False)

    def lus(m, a, b, **kw):
        LU, p = m.linalg.lu_factor(a)
        return m.linalg.lu_solve(LU, p, b, **kw)
    for kw, bshape in (({}, (3, 2)), ({"left": False}, (2, 3)), ({"adjoint": True}, (3, 2)),
                       ({"left": False, "adjoint": True}, (2, 3))):
        check(lus, SQ(3), R(*bshape), **kw)
    check(lambda m, a: m.linalg.tensorinv(a, 1), SQ(6).reshape(6, 2, 3))
    check(lambda m, a, b: m.linalg.tensorsolve(a, b), SQ(6).reshape(2, 3, 6), R(2, 3))
    check(lambda m, a, b: m.linalg.tensorsolve(a, b, dims=(0,)), SQ(6).reshape(6, 2, 3), R(2, 3))
    L = np.linalg.cholesky(SPD(3))
    check(lambda m, b, l: m.cholesky_solve(b, l), R(3, 2), L)
    check(lambda m, b, l: m.cholesky_solve(b, l, upper=True), R(3, 2), L.T.copy())
    check(lambda m, l: m.cholesky_inverse(l), L)
    check(lambda m, a, t: m.linalg.householder_product(a, t), R(5, 3), R(3))
    check(lambda m, x: m.linalg.vander(x), np.array([0., 2., 3.]))
    check(lambda m, x: m.linalg.vander(x, N=4), np.array([1, 2]), grad=False)
    check(lambda m, x: m.linalg.vander(x), R(2, 3))


# ---------------------------------------------------------------- products
@pytest.mark.parametrize("dt", ["float64", "complex128"])
def test_fused_products(dt):
    check(lambda m, i, a, b: m.addmm(i, a, b, beta=0.5, alpha=2), R(4, dt=dt), R(2, 3, dt=dt), R(3, 4, dt=dt))
    check(lambda m, i, a, b: m.addmv(i, a, b, beta=2, alpha=0.5), R(dt=dt), R(2, 3, dt=dt), R(3, dt=dt))
    check(lambda m, i, a, b: m.baddbmm(i, a, b, beta=0.5, alpha=2), R(2, 4, dt=dt), R(5, 2, 3, dt=dt),
          R(5, 3, 4, dt=dt))
    check(lambda m, i, a, b: m.addbmm(i, a, b), R(2, 4, dt=dt), R(5, 2, 3, dt=dt), R(5, 3, 4, dt=dt))
    check(lambda m, i, a, b: m.addmm(i, a, b, alpha=1j if dt.startswith("c") else 3), R(2, 4, dt=dt),
          R(2, 3, dt=dt), R(3, 4, dt=dt))


def test_fused_products_int_and_inplace():
    i, a, b = np.arange(8).reshape(2, 4), np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    check(lambda m, i, a, b: m.addmm(i, a, b, beta=0.5, alpha=3), i, a, b, grad=False)   # beta truncates
    check(lambda m, i, a, b: m.addmm(i, a, b, beta=0), np.full((2, 4), np.nan), R(2, 3), R(3, 4), grad=False)
    check(lambda m, i, a, b: i.clone().addmm_(a, b, beta=2), R(2, 4), R(2, 3), R(3, 4))
    check(lambda m, i, a, b: i.clone().addmv_(a, b), R(2), R(2, 3), R(3))
    check(lambda m, i, a, b: i.clone().baddbmm_(a, b), R(5, 2, 4), R(5, 2, 3), R(5, 3, 4))
    check(lambda m, i, a, b: i.clone().addbmm_(a, b, alpha=2), R(2, 4), R(5, 2, 3), R(5, 3, 4))
    with pytest.raises(RuntimeError):
        ember.tensor(R(4)).addmm_(ember.tensor(R(2, 3)), ember.tensor(R(3, 4)))


@pytest.mark.parametrize("dt", ["float64", "complex128"])
def test_small_products(dt):
    check(lambda m, a, b: m.outer(a, b), R(3, dt=dt), R(4, dt=dt))
    check(lambda m, a, b: a.ger(b), R(3, dt=dt), R(2, dt=dt))
    check(lambda m, a, b: m.vdot(a, b), R(3, dt=dt), R(3, dt=dt))
    check(lambda m, a, b: m.inner(a, b), R(2, 5, 3, dt=dt), R(4, 3, dt=dt))
    check(lambda m, a, b: m.inner(a, b), R(dt=dt), R(4, 3, dt=dt))
    check(lambda m, a: m.trace(a), R(3, 4, dt=dt))
    check(lambda m, a, b: m.kron(a, b), R(2, 3, dt=dt), R(3, 2, dt=dt))
    check(lambda m, a, b: m.linalg.cross(a, b), R(1, 3, dt=dt), R(4, 3, dt=dt))
    check(lambda m, a, b: m.linalg.vecdot(a, b, dim=0), R(3, 4, dt=dt), R(3, 1, dt=dt))
    check(lambda m, a, b: m.tensordot(a, b, dims=([0, 2], [2, 0])), R(2, 3, 4, dt=dt), R(4, 5, 2, dt=dt))
    check(lambda m, a, b, c, d: m.linalg.multi_dot([a, b, c, d]), R(10, 2, dt=dt), R(2, 30, dt=dt),
          R(30, 5, dt=dt), R(5, dt=dt))


def test_product_dtypes():
    check(lambda m, a, b: m.outer(a, b), R(3), np.arange(4), grad=False)          # promotes like mul
    check(lambda m, a, b: m.kron(a, b), np.arange(4).reshape(2, 2), R(2, dt="float32"), grad=False)
    check(lambda m, a: m.trace(a), np.arange(6, dtype=np.int32).reshape(2, 3), grad=False)   # int -> int64
    check(lambda m, a: m.trace(a), np.arange(6, dtype=np.uint8).reshape(2, 3), grad=False)
    check(lambda m, a, b: m.vdot(a, b), np.arange(3), np.arange(3), grad=False)
    check(lambda m, a, b: m.tensordot(a, b, 1), np.arange(6).reshape(2, 3), np.arange(6).reshape(3, 2), grad=False)
    check(lambda m, a, b: m.tensordot(a, b, dims=([0], [0])), R(2, 2), R(1, 2))   # size-1 contracted dim
    check(lambda m, a, b: m.tensordot(a, b, dims=m.tensor([[0], [1]])), R(2, 2), R(2, 2))


def test_cross_default_dim_warns_once():
    import ember.ops.linalg_ext as lx
    lx._cross_warned[0] = False
    a, b = ember.tensor(R(2, 3, 3)), ember.tensor(R(2, 3, 3))
    with pytest.warns(UserWarning, match="without specifying the dim"):
        r = ember.cross(a, b)
    np.testing.assert_allclose(r.numpy(), np.cross(a.numpy(), b.numpy(), axis=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.cross(a, b)


def test_cdist():
    for p in (2.0, 1.0, 3.0, float("inf"), 0.0):
        check(lambda m, a, b: m.cdist(a, b, p=p), R(3, 2), R(4, 2))
    check(lambda m, a, b: m.cdist(a, b), R(2, 3, 2), R(1, 4, 2))
    check(lambda m, a: m.cdist(a, a), R(3, 2))           # zero distances: zero gradient


EQUATIONS = [("ij,jk->ik", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("ij->", [(2, 3)]),
             ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
             ("i,j->ij", [(3,), (4,)]), ("ijk,ikl,lm->jm", [(2, 3, 4), (2, 4, 5), (5, 6)]), ("i...i", [(2, 3, 2)]),
             ("ab...,b...->...a", [(2, 3, 4), (3, 4)]), ("...,...->...", [(2, 1), (3,)]), ("i,i->i", [(2,), (1,)]),
             ("iij,j->i", [(3, 3, 2), (2,)]), ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]), ("ba", [(2, 3)]),
             ("i,->i", [(3,), ()]), ("ij,kl->", [(2, 2), (3, 3)]), (" i j , j k -> i k ", [(2, 3), (3, 4)])]


@pytest.mark.parametrize("eq,shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
@pytest.mark.parametrize("dt", ["float64", "complex128"])
def test_einsum(eq, shapes, dt):
    check(lambda m, *xs: m.einsum(eq, *xs), *[R(*s, dt=dt) for s in shapes])


def test_einsum_forms_views_and_dtypes():
    check(lambda m, a, b: m.einsum(a, [0, 1], b, [1, 2], [0, 2]), R(2, 3), R(3, 4))
    check(lambda m, a, b: m.einsum(a, [Ellipsis, 0], b, [Ellipsis, 0]), R(2, 3), R(2, 3))
    check(lambda m, a, b: m.einsum("ij,jk", [a, b]), R(2, 3), R(3, 4))
    check(lambda m, a, b: m.einsum("ij,jk", a, b), np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4), grad=False)
    check(lambda m, a: m.einsum("ij->", a), np.arange(6, dtype=np.int32).reshape(2, 3), grad=False)  # sums to int64
    check(lambda m, a: m.einsum("ij->j", a), np.ones((2, 3), bool), grad=False)
    x = ember.tensor(R(2, 3))
    t = ember.einsum("ij->ji", x)
    assert t._base is x and not t.is_contiguous()        # a pure permutation is a view, as in torch


# ---------------------------------------------------------------- results, info, graph
def test_named_results_and_info():
    a = ember.tensor(SPD(3))
    assert repr(ember.linalg.slogdet(a)).startswith("torch.return_types.linalg_slogdet(")
    assert type(ember.slogdet(a)).__name__ == "slogdet"
    assert ember.linalg.eigh(a)._fields == ("eigenvalues", "eigenvectors")
    assert ember.linalg.svd(a)._fields == ("U", "S", "Vh")
    assert ember.linalg.qr(a)._fields == ("Q", "R")
    assert ember.linalg.cholesky_ex(a)._fields == ("L", "info")
    assert ember.linalg.lu(a)._fields == ("P", "L", "U")
    for fn, arg in [(lambda m, x: m.linalg.inv_ex(x), np.stack([np.eye(2), [[1., 2.], [2., 4.]]])),
                    (lambda m, x: m.linalg.cholesky_ex(x), np.stack([np.eye(2), -np.eye(2)])),
                    (lambda m, x: m.linalg.cholesky_ex(x), -np.eye(3)),
                    (lambda m, x: m.linalg.lu_factor_ex(x), np.array([[1., 2.], [2., 4.]]))]:
        t, e = fn(torch, torch.tensor(arg)), fn(ember, ember.tensor(arg))
        assert str(e.info.dtype) == str(t.info.dtype) == "torch.int32"
        np.testing.assert_array_equal(e.info.numpy(), t.info.numpy())
    r = ember.linalg.solve_ex(ember.tensor(np.array([[1., 2.], [2., 4.]])), ember.tensor(np.ones(2)))
    assert r.info.item() == 2


def test_grad_fn_names_and_multi_output_node():
    a = ember.tensor(SQ(3), requires_grad=True)
    names = {
        "LinalgInvExBackward0": ember.linalg.inv(a), "LinalgDetBackward0": ember.linalg.det(a),
        "LinalgSolveExBackward0": ember.linalg.solve(a, a), "LinalgSvdBackward0": ember.linalg.svdvals(a),
        "LinalgQrBackward0": ember.linalg.qr(a).R, "AddmmBackward0": ember.addmm(a, a, a),
        "TraceBackward0": ember.trace(a), "LinalgCrossBackward0": ember.linalg.cross(a, a),
        "LinalgVectorNormBackward0": ember.linalg.vector_norm(a), "LinalgPinvBackward0": ember.linalg.pinv(a),
    }
    for name, t in names.items():
        assert t.grad_fn.name() == name
    U, S, Vh = ember.linalg.svd(a)
    assert U.grad_fn is S.grad_fn is Vh.grad_fn and (U.output_nr, S.output_nr, Vh.output_nr) == (0, 1, 2)
    L, info = ember.linalg.cholesky_ex(ember.tensor(SPD(3), requires_grad=True))
    assert L.requires_grad and not info.requires_grad and info.dtype is ember.int32


def test_inv_double_backward():
    x = R(3, 3) + 3 * np.eye(3)
    grads = []
    for m in (torch, ember):
        a = m.tensor(x, requires_grad=True)
        (g,) = m.autograd.grad(m.linalg.inv(a).sum(), a, create_graph=True)
        (g * g).sum().backward()
        grads.append(a.grad)
    np.testing.assert_allclose(grads[1].numpy(), grads[0].numpy(), atol=1e-8)


def test_meta_and_out():
    a = ember.empty((2, 4, 3), device="meta")
    U, S, Vh = ember.linalg.svd(a, full_matrices=False)
    assert U.shape == (2, 4, 3) and S.shape == (2, 3) and Vh.shape == (2, 3, 3) and S.device.type == "meta"
    sq = ember.empty((2, 3, 3), device="meta")
    assert ember.linalg.inv(sq).shape == (2, 3, 3) and ember.linalg.det(sq).shape == (2,)
    assert ember.linalg.solve(sq, ember.empty((2, 3), device="meta")).shape == (2, 3)
    assert ember.linalg.cholesky(sq).device.type == "meta"
    x = SQ(3)
    out = ember.empty(0, dtype=ember.float64)
    r = ember.linalg.inv(ember.tensor(x), out=out)
    assert r is out and out.shape == (3, 3)
    np.testing.assert_allclose(out.numpy(), np.linalg.inv(x), atol=1e-12)


def test_addr_dist_legacy_norms():
    check(lambda m, i, a, b: m.addr(i, a, b), R(3, 2), R(3), R(2))
    check(lambda m, i, a, b: m.addr(i, a, b, beta=2, alpha=3), R(2), R(3), R(2))
    check(lambda m, i, a, b: m.addr(i, a, b, beta=0), np.full((3, 2), np.nan), R(3), R(2), grad=False)
    check(lambda m, i, a, b: m.addr(i, a, b), np.ones((3, 2), bool), np.ones(3, bool), np.zeros(2, bool), grad=False)
    check(lambda m, i, a, b: m.addr(i, a, b), R(3, 2, dt="float32"), np.arange(3, dtype=np.int32), R(2, dt="float32"),
          grad=False)
    check(lambda m, i, a, b: i.clone().addr_(a, b, alpha=2), R(3, 2), R(3), R(2))
    check(lambda m, i, a, b: m.addr(i, a, b), R(3, 2, dt="complex128"), R(3, dt="complex128"), R(2, dt="complex128"))
    check(lambda m, a, b: m.dist(a, b), R(3, 3), R(3))
    check(lambda m, a, b: a.dist(b, float("inf")), R(3, 3), R(3))
    check(lambda m, a: m.frobenius_norm(a, (0, 1)), R(3, 3))
    check(lambda m, a: m.nuclear_norm(a, keepdim=True), R(3, 3))
    check(lambda m, a: m.nuclear_norm(a, (0, 1)), R(3, 3, 2))
    check(lambda m, a: m.lu(a), R(3, 3))
    check(lambda m, a: a.lu(get_infos=True), R(2, 3, 3))
    assert type(ember.lu(ember.tensor(R(3, 3)))) is tuple
    assert type(ember.lu(ember.tensor(R(3, 3)), get_infos=True)).__name__ == "_lu_with_info"


REMOVED = [("m.matrix_rank(a)", [f32(3, 3)]), ("m.lstsq(a, a)", [f32(3, 3)]), ("m.symeig(a)", [f32(3, 3)]),
           ("m.eig(a)", [f32(3, 3)]), ("a.lstsq(a)", [f32(3, 3)]), ("a.eig()", [f32(3, 3)]),
           ("m.addr(a, b, a)", [f32(3, 2), f32(3, 2)]), ("m.dist(a, a)", [i64(3)]),
           ("m.lu(a, pivot=False)", [f32(3, 3)]),
           ("m.linalg.vander(a, N=1)", [f32(3)])]


@pytest.mark.parametrize("expr,arrays", REMOVED, ids=[e for e, _ in REMOVED])
def test_removed_and_legacy_errors(expr, arrays):
    te = _err(lambda: eval(expr, {"m": torch, **dict(zip("abc", [torch.tensor(x) for x in arrays]))}))
    ee = _err(lambda: eval(expr, {"m": ember, **dict(zip("abc", [ember.tensor(x) for x in arrays]))}))
    assert te is not None and ee is not None and type(ee) is type(te)
    assert str(ee) == str(te)
