"""The layout of LAPACK-backed results against torch: strides, is_contiguous and values.

torch returns the matrices its LAPACK calls wrote in batched column-major ("Fortran") order: a (..., m, n) result
has strides (..., m*n, 1, m), so it is not contiguous and ``.view(-1)`` fails on it. ember must give the same
layout on the CPU, with inputs that require grad, and on the meta device (where torch's meta kernels have quirks
of their own: svd's Vh and eig's eigenvectors are C-ordered there).
"""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)


def _rand(shape, dt):
    x = RNG.standard_normal(shape)
    if dt.startswith("complex"):
        x = x + 1j * RNG.standard_normal(shape)
    return x.astype(dt)


def _spd(shape, dt):
    """Hermitian positive-definite when square (so every square program has a valid input), else random."""
    x = _rand(shape, dt)
    if shape[-1] == shape[-2]:
        x = x @ np.conj(np.swapaxes(x, -1, -2)) + shape[-1] * np.eye(shape[-1])
    return x.astype(dt)


def _inv_1(lib, a):
    return (lib.linalg.matrix_power(a, -1),)


def _lu_solve(lib, a, b, **kw):
    LU, piv = lib.linalg.lu_factor(a)
    return (lib.linalg.lu_solve(LU, piv, b, **kw),)


def _chol_solve(lib, a, b, upper=False):
    return (lib.cholesky_solve(b, lib.linalg.cholesky(a, upper=upper), upper=upper),)


def _triangular_solve(lib, a, b):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tuple(lib.triangular_solve(b, a))


# program, input shapes, input kinds ("s": positive-definite when square, "a": random), values comparable
# (False where a decomposition is unique only up to signs / phases: then A is rebuilt from it instead)
PROGRAMS = {
    "inv": (lambda l, a: (l.linalg.inv(a),), "s", True),
    "inv_ex": (lambda l, a: tuple(l.linalg.inv_ex(a)), "s", True),
    "inverse": (lambda l, a: (l.inverse(a),), "s", True),
    "matrix_power-1": (_inv_1, "s", True),
    "solve": (lambda l, a, b: (l.linalg.solve(a, b),), "sa", True),
    "solve_ex": (lambda l, a, b: tuple(l.linalg.solve_ex(a, b)), "sa", True),
    "solve_right": (lambda l, a, b: (l.linalg.solve(a, b, left=False),), "sa", True),
    "cholesky": (lambda l, a: (l.linalg.cholesky(a),), "s", True),
    "cholesky_upper": (lambda l, a: (l.linalg.cholesky(a, upper=True),), "s", True),
    "cholesky_ex": (lambda l, a: tuple(l.linalg.cholesky_ex(a)), "s", True),
    "torch.cholesky": (lambda l, a: (l.cholesky(a),), "s", True),
    "qr": (lambda l, a: tuple(l.linalg.qr(a)), "a", False),
    "qr_complete": (lambda l, a: tuple(l.linalg.qr(a, mode="complete")), "a", False),
    "qr_r": (lambda l, a: tuple(l.linalg.qr(a, mode="r")), "a", False),
    "eigh": (lambda l, a: tuple(l.linalg.eigh(a)), "s", False),
    "eig": (lambda l, a: tuple(l.linalg.eig(a)), "s", False),
    "svd": (lambda l, a: tuple(l.linalg.svd(a)), "a", False),
    "svd_reduced": (lambda l, a: tuple(l.linalg.svd(a, full_matrices=False)), "a", False),
    "torch.svd": (lambda l, a: tuple(l.svd(a)), "a", False),
    "lu_factor": (lambda l, a: tuple(l.linalg.lu_factor(a)), "a", True),
    "lu_factor_ex": (lambda l, a: tuple(l.linalg.lu_factor_ex(a)), "a", True),
    "lu": (lambda l, a: tuple(l.linalg.lu(a)), "a", True),
    "lu_solve": (_lu_solve, "sa", True),
    "lu_solve_adjoint": (lambda l, a, b: _lu_solve(l, a, b, adjoint=True), "sa", True),
    "lu_solve_right": (lambda l, a, b: _lu_solve(l, a, b, left=False), "sa", True),
    "cholesky_solve": (_chol_solve, "sa", True),
    "cholesky_solve_upper": (lambda l, a, b: _chol_solve(l, a, b, True), "sa", True),
    "cholesky_inverse": (lambda l, a: (l.cholesky_inverse(l.linalg.cholesky(a)),), "s", True),
    "lstsq": (lambda l, a, b: tuple(l.linalg.lstsq(a, b))[:1], "aa", True),
    "lstsq_gelsd": (lambda l, a, b: tuple(l.linalg.lstsq(a, b, driver="gelsd")), "aa", True),
    "solve_triangular": (lambda l, a, b: (l.linalg.solve_triangular(a, b, upper=True),), "sa", True),
    "solve_triangular_lower_right": (
        lambda l, a, b: (l.linalg.solve_triangular(a, b, upper=False, left=False),), "sa", True),
    "triangular_solve": (_triangular_solve, "sa", True),
    "householder_product": (lambda l, a, t: (l.linalg.householder_product(a, t),), "aa", True),
    "tensorinv": (lambda l, a: (l.linalg.tensorinv(a.reshape(2, 2, 4)),), "s", True),
    "pinv": (lambda l, a: (l.linalg.pinv(a),), "a", True),
    "matrix_exp": (lambda l, a: (l.linalg.matrix_exp(a),), "s", True),
}

SQUARE = [(3, 3), (2, 3, 3), (2, 1, 3, 3), (0, 3, 3), (1, 1)]
ANY = SQUARE + [(4, 3), (2, 3, 4), (3, 0), (0, 3)]
RHS = [((3, 3), (3, 1)), ((2, 3, 3), (2, 3, 2)), ((2, 3, 3), (3, 2)), ((3, 3), (2, 3, 2)), ((0, 3, 3), (0, 3, 2)),
       ((2, 0, 0), (2, 0, 3)), ((3, 3), (3, 0))]
RHS_RIGHT = [((3, 3), (1, 3)), ((2, 3, 3), (2, 2, 3)), ((2, 3, 3), (4, 3)), ((3, 3), (0, 3))]
SHAPES = {
    "inv": SQUARE, "inv_ex": SQUARE, "inverse": SQUARE, "matrix_power-1": SQUARE,
    "solve": RHS + [((2, 3, 3), (2, 3)), ((3, 3), (3,)), ((2, 1, 3, 3), (2, 1, 3))],
    "solve_ex": RHS + [((2, 1, 3, 3), (4, 3, 2))], "solve_right": RHS_RIGHT,
    "cholesky": SQUARE, "cholesky_upper": SQUARE, "cholesky_ex": SQUARE, "torch.cholesky": SQUARE,
    "qr": ANY, "qr_complete": ANY, "qr_r": ANY, "eigh": SQUARE, "eig": SQUARE,
    "svd": ANY, "svd_reduced": ANY, "torch.svd": ANY,
    "lu_factor": ANY, "lu_factor_ex": ANY, "lu": ANY,
    "lu_solve": RHS, "lu_solve_adjoint": RHS, "lu_solve_right": RHS_RIGHT,
    "cholesky_solve": RHS, "cholesky_solve_upper": RHS, "cholesky_inverse": SQUARE,
    "lstsq": [((3, 3), (3, 1)), ((4, 3), (4, 2)), ((3, 4), (3, 2)), ((2, 3, 3), (2, 3, 2)), ((4, 3), (4,)),
              ((2, 4, 3), (2, 4)), ((0, 3, 3), (0, 3, 2)), ((3, 0), (3, 2))],
    "lstsq_gelsd": [((4, 3), (4, 2)), ((2, 3, 3), (2, 3, 2))],
    "solve_triangular": RHS[:5], "solve_triangular_lower_right": RHS_RIGHT,
    "triangular_solve": RHS[:6],
    "householder_product": [((3, 3), (3,)), ((4, 3), (2,)), ((2, 4, 3), (2, 3)), ((0, 3, 3), (0, 3)), ((4, 0), (0,))],
    "tensorinv": [(4, 4)], "pinv": ANY[:4], "matrix_exp": SQUARE[:3],
}
# torch has no meta kernel for lstsq (ember's runs). The meta table is float64 only: torch.svd's V of an empty
# complex matrix is a lazily conjugated view of Vh there, where ember's conj is a copy (C-ordered when empty)
NO_META = {"lstsq", "lstsq_gelsd"}


def _cases():
    for name, shapes in SHAPES.items():
        for shp in shapes:
            shp = shp if isinstance(shp[0], tuple) else (shp,)
            for dt in ("float64", "complex128"):
                yield pytest.param(name, shp, dt, id=f"{name}-{'x'.join(map(str, shp))}-{dt}")


def _inputs(name, shapes, dt):
    kinds = PROGRAMS[name][1]
    return [_spd(s, dt) if k == "s" else _rand(s, dt) for s, k in zip(shapes, kinds)]


def _run(lib, name, arrs, device="cpu", rg=False):
    ts = []
    for a in arrs:
        if device == "meta":
            t = lib.empty(a.shape, dtype=getattr(lib, str(a.dtype)), device="meta")
        else:
            t = lib.tensor(a)
        if rg:
            t.requires_grad_(True)
        ts.append(t)
    return PROGRAMS[name][0](lib, *ts)


def _layout(outs):
    return [(tuple(o.shape), tuple(o.stride()), o.is_contiguous()) for o in outs]


def _np(t):
    t = t.detach()
    if isinstance(t, torch.Tensor):
        return t.resolve_conj().resolve_neg().numpy()
    return np.asarray(t.numpy())


@pytest.mark.parametrize("name,shapes,dt", list(_cases()))
def test_layout_and_values(name, shapes, dt):
    arrs = _inputs(name, shapes, dt)
    t_out = _run(torch, name, arrs)
    e_out = _run(ember, name, arrs)
    assert _layout(e_out) == _layout(t_out)
    if PROGRAMS[name][2]:
        for e, t in zip(e_out, t_out):
            np.testing.assert_allclose(_np(e), _np(t), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name,shapes", [("inv", ((2, 3, 3),)), ("solve", ((2, 3, 3), (2, 3, 2))),
                                          ("cholesky", ((2, 3, 3),)), ("qr", ((2, 3, 4),)), ("svd", ((4, 3),)),
                                          ("eigh", ((2, 3, 3),)), ("lu_factor", ((2, 3, 4),)),
                                          ("lu_solve", ((2, 3, 3), (3, 2))), ("lstsq", ((4, 3), (4, 2))),
                                          ("solve_triangular_lower_right", ((2, 3, 3), (2, 2, 3))),
                                          ("householder_product", ((2, 4, 3), (2, 3))),
                                          ("cholesky_solve", ((2, 3, 3), (2, 3, 2)))])
def test_layout_does_not_depend_on_autograd(name, shapes):
    arrs = _inputs(name, shapes, "float64")
    assert _layout(_run(ember, name, arrs, rg=True)) == _layout(_run(torch, name, arrs, rg=True))
    assert _layout(_run(ember, name, arrs, rg=True)) == _layout(_run(ember, name, arrs))


def _meta_cases():
    for name, shapes in SHAPES.items():
        if name in NO_META:
            continue
        for shp in shapes:
            shp = shp if isinstance(shp[0], tuple) else (shp,)
            yield pytest.param(name, shp, id=f"{name}-{'x'.join(map(str, shp))}")


@pytest.mark.parametrize("name,shapes", list(_meta_cases()))
def test_meta_layout(name, shapes):
    arrs = _inputs(name, shapes, "float64")
    e_out = _run(ember, name, arrs, "meta")
    assert all(o.device.type == "meta" for o in e_out)
    assert _layout(e_out) == _layout(_run(torch, name, arrs, "meta"))


def test_meta_layout_with_grad():
    arrs = _inputs("solve_triangular", ((2, 3, 3), (2, 3, 2)), "float64")
    e = _run(ember, "solve_triangular", arrs, "meta", rg=True)[0]
    t = _run(torch, "solve_triangular", arrs, "meta", rg=True)[0]
    assert e.stride() == t.stride() and e.grad_fn is not None
    e.sum().backward()  # a meta result relaid out keeps a working graph


def test_meta_device_context():
    with ember.device("meta"):
        x = ember.linalg.inv(ember.empty(2, 3, 3, dtype=ember.float64))
    assert x.device.type == "meta" and x.stride() == (9, 1, 3)


@pytest.mark.parametrize("device", ["cpu", "meta"])
@pytest.mark.parametrize("name,shapes", [("inv", ((2, 3, 3),)), ("solve", ((2, 3, 3), (2, 3, 2))),
                                          ("cholesky", ((3, 3),)), ("svd", ((2, 3, 3),))])
def test_view_of_column_major_result_raises(name, shapes, device):
    arrs = _inputs(name, shapes, "float64")
    t = _run(torch, name, arrs, device)[0]
    e = _run(ember, name, arrs, device)[0]
    assert not t.is_contiguous() and not e.is_contiguous()
    with pytest.raises(RuntimeError):
        t.view(-1)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        e.view(-1)
    assert e.reshape(-1).shape == t.reshape(-1).shape
    assert e.contiguous().stride() == t.contiguous().stride()


def test_float32_layout():
    a = _spd((2, 3, 3), "float32")
    b = _rand((2, 3, 2), "float32")
    for f in (lambda l, a, b: l.linalg.inv(a), lambda l, a, b: l.linalg.solve(a, b),
              lambda l, a, b: l.linalg.cholesky(a), lambda l, a, b: l.linalg.qr(a)[0]):
        e, t = f(ember, ember.tensor(a), ember.tensor(b)), f(torch, torch.tensor(a), torch.tensor(b))
        assert e.stride() == t.stride() and e.dtype == ember.float32
        np.testing.assert_allclose(_np(e), _np(t), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dt", ["float64", "complex128"])
def test_gradients_through_column_major_results(dt):
    a, b = _spd((2, 3, 3), dt), _rand((2, 3, 2), dt)
    grads = []
    for lib in (torch, ember):
        A, B = lib.tensor(a).requires_grad_(True), lib.tensor(b).requires_grad_(True)
        X = lib.linalg.solve(A, B)
        L = lib.linalg.cholesky(A)
        Y = lib.linalg.inv(A) @ X + lib.linalg.solve_triangular(L, X, upper=False)
        (Y.real.square().sum() if dt == "float64" else Y.abs().square().sum()).backward()
        grads.append((_np(A.grad), _np(B.grad)))
    for e, t in zip(grads[1], grads[0]):
        np.testing.assert_allclose(e, t, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name,shapes", [("qr", ((4, 3),)), ("qr", ((2, 3, 4),)), ("eigh", ((2, 3, 3),)),
                                          ("svd", ((2, 3, 4),)), ("svd_reduced", ((4, 3),)),
                                          ("eig", ((2, 3, 3),))])
def test_decompositions_rebuild_input(name, shapes):
    """Values of the sign/phase-ambiguous decompositions: they still rebuild A in their new layout."""
    (a,) = _inputs(name, shapes, "complex128")
    outs = _run(ember, name, [a])
    if name.startswith("qr"):
        got = outs[0] @ outs[1]
    elif name == "eigh":
        got = outs[1] @ ember.diag_embed(outs[0].to(ember.complex128)) @ outs[1].mH
    elif name == "eig":
        got = outs[1] @ ember.diag_embed(outs[0]) @ ember.linalg.inv(outs[1])
    else:
        U, S, Vh = outs
        k = S.shape[-1]
        got = U[..., :k] @ ember.diag_embed(S.to(ember.complex128)) @ Vh[..., :k, :]
    np.testing.assert_allclose(_np(got), a, rtol=1e-9, atol=1e-9)
