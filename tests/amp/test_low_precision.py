"""bfloat16/float16 kernels outside autocast, against torch: the fused products (addmm family) and einsum keep
the inputs' dtype, the norms take float32 parameters with a low-precision input (torch's CPU "mixed dtype"
rule) and raise torch's errors otherwise, the LAPACK-backed ops raise torch's low-precision errors, and mixed
operand dtypes get torch's messages. Values and gradients are compared within the lower precision."""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

LOW = ("bfloat16", "float16")


def _arr(shape, seed, kind=None):
    r = np.random.default_rng(seed)
    a = r.standard_normal(shape).astype(np.float32)
    if kind == "spd":
        a = a @ a.T + shape[0] * np.eye(shape[0], dtype=np.float32)
    return a


def _outcome(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(), None
        except Exception as e:  # noqa: BLE001 - the error is compared
            return None, e


def _same_error(te, ee):
    assert ee is not None, f"torch raised {te!r}, ember did not"
    assert type(ee).__name__ == type(te).__name__, (te, ee)
    assert str(ee).split("\n")[0] == str(te).split("\n")[0], (te, ee)


def _close(e, t, tol=3e-2):
    assert str(e.dtype) == str(t.dtype), (e.dtype, t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.detach().double().numpy(), t.detach().double().numpy(), rtol=tol, atol=tol)


# ---------------------------------------------------------------- fused products and einsum keep the dtype
PRODUCTS = {
    "addmm": (lambda L, a: L.addmm(a[0], a[1], a[2]), [(3, 5), (3, 4), (4, 5)]),
    "addmm_beta_alpha": (lambda L, a: L.addmm(a[0], a[1], a[2], beta=0.5, alpha=2), [(5,), (3, 4), (4, 5)]),
    "addmv": (lambda L, a: L.addmv(a[0], a[1], a[2], beta=2), [(3,), (3, 4), (4,)]),
    "baddbmm": (lambda L, a: L.baddbmm(a[0], a[1], a[2], alpha=0.5), [(2, 3, 5), (2, 3, 4), (2, 4, 5)]),
    "addbmm": (lambda L, a: L.addbmm(a[0], a[1], a[2]), [(3, 5), (2, 3, 4), (2, 4, 5)]),
    "addr": (lambda L, a: L.addr(a[0], a[1], a[2]), [(3, 4), (3,), (4,)]),
    "method_addmm": (lambda L, a: a[0].addmm(a[1], a[2]), [(3, 5), (3, 4), (4, 5)]),
    "einsum_mm": (lambda L, a: L.einsum("ij,jk->ik", a[0], a[1]), [(3, 4), (4, 5)]),
    "einsum_batch": (lambda L, a: L.einsum("bij,bjk->bik", a[0], a[1]), [(2, 3, 4), (2, 4, 5)]),
    "einsum_three": (lambda L, a: L.einsum("ij,jk,kl->il", a[0], a[1], a[2]), [(2, 3), (3, 4), (4, 2)]),
    "einsum_trace": (lambda L, a: L.einsum("ii", a[0]), [(3, 3)]),
    "einsum_outer": (lambda L, a: L.einsum("i,j->ij", a[0], a[1]), [(3,), (4,)]),
    "bilinear": (lambda L, a: L.nn.functional.bilinear(a[0], a[1], a[2]), [(3, 4), (3, 2), (5, 4, 2)]),
}


@pytest.mark.parametrize("dt", LOW)
@pytest.mark.parametrize("name", list(PRODUCTS))
def test_products_keep_low_precision(name, dt):
    """Result and gradients in the inputs' dtype; values close to torch's (both accumulate in float32)."""
    prog, shapes = PRODUCTS[name]
    res = {}
    for lib in (torch, ember):
        xs = [lib.tensor(_arr(s, i)).to(getattr(lib, dt)).requires_grad_() for i, s in enumerate(shapes)]
        y = prog(lib, xs)
        y.float().square().sum().backward()
        res[lib.__name__] = (y, [x.grad for x in xs])
    (ty, tg), (ey, eg) = res["torch"], res["ember"]
    _close(ey, ty)
    for a, b in zip(eg, tg):
        _close(a, b, 6e-2)


def test_inplace_addmm_family_low_precision():
    for dt in LOW:
        out = []
        for lib in (torch, ember):
            d = getattr(lib, dt)
            a = lib.tensor(_arr((3, 5), 0)).to(d)
            a.addmm_(lib.tensor(_arr((3, 4), 1)).to(d), lib.tensor(_arr((4, 5), 2)).to(d))
            b = lib.tensor(_arr((2, 3, 5), 3)).to(d)
            b.baddbmm_(lib.tensor(_arr((2, 3, 4), 4)).to(d), lib.tensor(_arr((2, 4, 5), 5)).to(d))
            out.append((a, b))
        for e, t in zip(out[1], out[0]):
            _close(e, t)


# ---------------------------------------------------------------- mixed operand dtypes: torch's messages
def _mixed_programs(L):
    f, d, b = L.float32, L.float64, L.bfloat16
    F = L.nn.functional
    o = L.ones
    return {
        "mm": lambda: L.mm(o(2, 2, dtype=f), o(2, 2, dtype=d)),
        "mm_bf16": lambda: L.mm(o(2, 2, dtype=b), o(2, 2, dtype=f)),
        "mm_int": lambda: L.mm(o(2, 2, dtype=L.int64), o(2, 2, dtype=f)),
        "matmul_1d_2d": lambda: L.matmul(o(2, dtype=f), o(2, 2, dtype=d)),
        "matmul_1d_3d": lambda: L.matmul(o(2, dtype=f), o(2, 2, 2, dtype=d)),
        "matmul_3d_1d": lambda: L.matmul(o(2, 2, 2, dtype=f), o(2, dtype=d)),
        "matmul_3d_2d": lambda: L.matmul(o(2, 2, 2, dtype=f), o(2, 2, dtype=d)),
        "matmul_2d_3d": lambda: L.matmul(o(2, 2, dtype=f), o(2, 2, 2, dtype=d)),
        "matmul_1d_1d": lambda: L.matmul(o(2, dtype=d), o(2, dtype=f)),
        "matmul_2d_1d": lambda: L.matmul(o(2, 2, dtype=f), o(2, dtype=d)),
        "mv": lambda: L.mv(o(2, 2, dtype=f), o(2, dtype=d)),
        "bmm": lambda: L.bmm(o(2, 2, 2, dtype=f), o(2, 2, 2, dtype=d)),
        "linear": lambda: F.linear(o(3, 4, dtype=d), o(5, 4, dtype=f)),
        "linear_bf16": lambda: F.linear(o(2, 3, 4, dtype=b), o(5, 4, dtype=f)),
        "linear_bias_self": lambda: F.linear(o(3, 4, dtype=f), o(5, 4, dtype=f), o(5, dtype=d)),
        "linear_bias_mat1": lambda: F.linear(o(3, 4, dtype=d), o(5, 4, dtype=f), o(5, dtype=f)),
        "linear_1d_bias": lambda: F.linear(o(4, dtype=b), o(5, 4, dtype=f), o(5, dtype=b)),
        "baddbmm_input": lambda: L.baddbmm(o(2, 3, 3, dtype=d), o(2, 3, 3, dtype=f), o(2, 3, 3, dtype=f)),
        "baddbmm_batch1": lambda: L.baddbmm(o(2, 3, 3, dtype=f), o(2, 3, 3, dtype=d), o(2, 3, 3, dtype=f)),
        "baddbmm_batch2": lambda: L.baddbmm(o(2, 3, 3, dtype=f), o(2, 3, 3, dtype=f), o(2, 3, 3, dtype=d)),
        "baddbmm_bf16": lambda: L.baddbmm(o(2, 3, 3, dtype=b), o(2, 3, 3, dtype=f), o(2, 3, 3, dtype=f)),
        "baddbmm_inplace": lambda: o(2, 3, 3, dtype=f).baddbmm_(o(2, 3, 3, dtype=f), o(2, 3, 3, dtype=d)),
        "addbmm_self": lambda: L.addbmm(o(3, 3, dtype=d), o(2, 3, 3, dtype=f), o(2, 3, 3, dtype=f)),
        "addbmm_mat1": lambda: L.addbmm(o(3, 3, dtype=f), o(2, 3, 3, dtype=d), o(2, 3, 3, dtype=f)),
        "addbmm_inplace": lambda: o(3, 3, dtype=f).addbmm_(o(2, 3, 3, dtype=f), o(2, 3, 3, dtype=d)),
        "mha_float64_mask": lambda: L.nn.MultiheadAttention(8, 2)(o(4, 2, 8), o(4, 2, 8), o(4, 2, 8),
                                                                  attn_mask=L.zeros(4, 4, dtype=d)),
    }


@pytest.mark.parametrize("name", list(_mixed_programs(ember)))
def test_mixed_operand_dtypes_raise_torchs_error(name):
    _, te = _outcome(_mixed_programs(torch)[name])
    _, ee = _outcome(_mixed_programs(ember)[name])
    assert te is not None
    _same_error(te, ee)


# ---------------------------------------------------------------- norms: dtype rules, values, gradients
def _norm_call(L, fn, x, w, b):
    F = L.nn.functional
    if fn == "layer_norm":
        return F.layer_norm(x, (4,), w, b)
    if fn == "group_norm":
        return F.group_norm(x.reshape(3, 4, -1), 2, w, b)
    if fn == "instance_norm":
        return F.instance_norm(x.reshape(3, 4, -1), weight=w, bias=b)
    if fn == "rms_norm":
        return F.rms_norm(x, (4,), w)
    stats_dt = w.dtype if w is not None else x.dtype
    rm, rv = L.zeros(4, dtype=stats_dt) + 0.1, L.ones(4, dtype=stats_dt) * 2
    return F.batch_norm(x, rm, rv, w, b, training=fn == "batch_norm_train")


NORMS = ["layer_norm", "group_norm", "instance_norm", "batch_norm_train", "batch_norm_eval", "rms_norm"]
_DT = {"f": "float32", "d": "float64", "b": "bfloat16", "h": "float16"}
COMBOS = [(x, w, b) for x in "fdbh" for w in "-fdbh"
          for b in (["-"] if w == "-" else [w] + [c for c in "fb" if c != w])]


@pytest.mark.parametrize("fn", NORMS)
def test_norm_dtype_rules(fn):
    """Every (input, weight, bias) dtype combination: torch's result dtype or torch's error."""
    r = np.random.default_rng(0)
    X = r.standard_normal((3, 20 if fn in ("group_norm", "instance_norm") else 4)).astype(np.float32)
    W, B = r.standard_normal(4).astype(np.float32), r.standard_normal(4).astype(np.float32)
    for xd, wd, bd in COMBOS:
        res = []
        for L in (torch, ember):
            x = L.tensor(X).to(getattr(L, _DT[xd]))
            w = None if wd == "-" else L.tensor(W).to(getattr(L, _DT[wd]))
            b = None if bd == "-" else L.tensor(B).to(getattr(L, _DT[bd]))
            res.append(_outcome(lambda: _norm_call(L, fn, x, w, b)))
        (t, te), (e, ee) = res
        what = f"{fn} x={_DT[xd]} w={wd} b={bd}"
        if te is not None:
            _same_error(te, ee)
            continue
        assert ee is None, f"{what}: ember raised {ee!r}"
        assert str(e.dtype) == str(t.dtype), f"{what}: {e.dtype} vs {t.dtype}"
        np.testing.assert_allclose(e.double().numpy(), t.double().numpy(), rtol=3e-2, atol=3e-2, err_msg=what)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("fn", NORMS)
@pytest.mark.parametrize("xd,wd", [("bfloat16", "float32"), ("bfloat16", "bfloat16"), ("float16", "float32")])
def test_norm_low_precision_gradients(fn, xd, wd, create_graph):
    r = np.random.default_rng(1)
    X = r.standard_normal((3, 20 if fn in ("group_norm", "instance_norm") else 4)).astype(np.float32)
    W, B = r.standard_normal(4).astype(np.float32), r.standard_normal(4).astype(np.float32)
    G = r.standard_normal(X.shape).astype(np.float32)
    res = []
    for L in (torch, ember):
        x = L.tensor(X).to(getattr(L, xd)).requires_grad_()
        w = L.tensor(W).to(getattr(L, wd)).requires_grad_()
        b = L.tensor(B).to(getattr(L, wd)).requires_grad_()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = _norm_call(L, fn, x, w, b)
        g = L.tensor(G).reshape(y.shape).to(y.dtype)
        gx, gw = L.autograd.grad((y * g).sum(), (x, w), create_graph=create_graph)
        res.append((y, gx, gw))
    for e, t in zip(res[1], res[0]):
        _close(e, t, 6e-2)


def test_norm_modules_under_autocast_keep_lowered_activations():
    """Conv -> BatchNorm2d -> ReLU and Linear -> LayerNorm under autocast: bfloat16 through the norms."""
    r = np.random.default_rng(2)
    x = r.standard_normal((2, 3, 6, 6)).astype(np.float32)
    res = []
    for L in (torch, ember):
        L.manual_seed(0)
        m = L.nn.Sequential(L.nn.Conv2d(3, 4, 3), L.nn.BatchNorm2d(4), L.nn.ReLU(), L.nn.Flatten(),
                            L.nn.Linear(64, 8), L.nn.LayerNorm(8), L.nn.GroupNorm(2, 8))
        if L is ember:
            m.load_state_dict({k: ember.tensor(v.numpy()) for k, v in res[0][1].items()})
        sd = {k: v.detach().clone() for k, v in m.state_dict().items()}
        with L.autocast("cpu"):
            y = m(L.tensor(x))
        y.float().sum().backward()
        res.append((y, sd, m[1].running_mean.detach().clone(), m[0].weight.grad))
    (ty, _, trm, tg), (ey, _, erm, eg) = res
    _close(ey, ty, 6e-2)
    _close(erm, trm, 1e-2)
    _close(eg, tg, 1e-1)


# ---------------------------------------------------------------- LAPACK-backed ops refuse low precision
def _lapack_programs(L, d):
    A = L.tensor(_arr((3, 3), 0, "spd")).to(d)
    B = L.tensor(_arr((3, 2), 1)).to(d)
    R = L.tensor(_arr((4, 3), 2)).to(d)
    Z = L.zeros(0, 0, dtype=d)
    la = L.linalg
    return {
        "inv": lambda: la.inv(A), "inv_ex": lambda: la.inv_ex(A), "inverse": lambda: L.inverse(A),
        "inv_empty": lambda: la.inv(Z), "det": lambda: la.det(A), "det_empty": lambda: la.det(Z),
        "slogdet": lambda: la.slogdet(A), "logdet": lambda: L.logdet(A), "solve": lambda: la.solve(A, B),
        "solve_ex": lambda: la.solve_ex(A, B), "solve_triangular": lambda: la.solve_triangular(A, B, upper=True),
        "solve_triangular_empty": lambda: la.solve_triangular(Z, L.zeros(0, 2, dtype=d), upper=True),
        "triangular_solve": lambda: L.triangular_solve(B, A), "cholesky": lambda: la.cholesky(A),
        "cholesky_ex": lambda: la.cholesky_ex(A), "cholesky_empty": lambda: la.cholesky(Z),
        "cholesky_solve": lambda: L.cholesky_solve(B, A), "cholesky_inverse": lambda: L.cholesky_inverse(A),
        "eigh": lambda: la.eigh(A), "eigvalsh": lambda: la.eigvalsh(A), "eig": lambda: la.eig(A),
        "eig_empty": lambda: la.eig(Z), "eigvals": lambda: la.eigvals(A), "svd": lambda: la.svd(R),
        "svdvals": lambda: la.svdvals(R), "svd_empty": lambda: la.svd(Z), "qr": lambda: la.qr(R),
        "qr_empty": lambda: la.qr(Z), "householder_product": lambda: la.householder_product(R, R[0, :2]),
        "lu_factor": lambda: la.lu_factor(A), "lu": lambda: la.lu(A),
        "lu_solve": lambda: la.lu_solve(la.lu_factor(A.float())[0].to(d), la.lu_factor(A.float())[1], B),
        "lstsq": lambda: la.lstsq(R, R[:, :2]), "lstsq_rcond": lambda: la.lstsq(R, R[:, :2], rcond=0.1),
        "matrix_rank": lambda: la.matrix_rank(R), "matrix_rank_rtol": lambda: la.matrix_rank(R, rtol=0.1),
        "matrix_rank_herm_rtol": lambda: la.matrix_rank(A, hermitian=True, rtol=0.1),
        "pinv": lambda: la.pinv(R), "pinverse": lambda: L.pinverse(R),
        "matrix_power_neg": lambda: la.matrix_power(A, -1),
        "matrix_norm_fro": lambda: la.matrix_norm(A), "matrix_norm_1": lambda: la.matrix_norm(A, 1),
        "matrix_norm_2": lambda: la.matrix_norm(A, 2), "matrix_norm_nuc": lambda: la.matrix_norm(A, "nuc"),
        "matrix_norm_nuc_empty": lambda: la.matrix_norm(Z, "nuc"), "linalg_norm_2": lambda: la.norm(A, 2),
        "cond": lambda: la.cond(A), "cond_fro": lambda: la.cond(A, "fro"), "cond_nuc": lambda: la.cond(A, "nuc"),
        "tensorinv": lambda: la.tensorinv(A, 1), "tensorsolve": lambda: la.tensorsolve(A, B[:, 0]),
        "cdist": lambda: L.cdist(R, R), "cdist_empty": lambda: L.cdist(L.zeros(0, 3, dtype=d), R),
        "vander": lambda: la.vander(A[0]), "vector_norm": lambda: la.vector_norm(A),
        "multi_dot": lambda: la.multi_dot([A, A, B]), "vecdot": lambda: la.vecdot(A, A),
        "lu_unpack": lambda: L.lu_unpack(la.lu_factor(A.float())[0].to(d), la.lu_factor(A.float())[1]),
    }


@pytest.mark.parametrize("dt", LOW)
@pytest.mark.parametrize("name", list(_lapack_programs(ember, ember.float16)))
def test_lapack_ops_low_precision(name, dt):
    """torch's CPU build has no float16/bfloat16 LAPACK: ember raises torch's error (type and message), and the
    ops that do take low precision give torch's dtypes."""
    t, te = _outcome(_lapack_programs(torch, getattr(torch, dt))[name])
    e, ee = _outcome(_lapack_programs(ember, getattr(ember, dt))[name])
    if te is not None:
        _same_error(te, ee)
        return
    assert ee is None, f"ember raised {ee!r}"
    ts, es = (t, e) if isinstance(t, (tuple, list)) else ((t,), (e,))
    assert [str(x.dtype) for x in es] == [str(x.dtype) for x in ts]


def test_vander_integer_inputs_are_int64():
    for dt in ("uint8", "int8", "int16", "int32", "int64"):
        t = torch.linalg.vander(torch.tensor([1, 2, 3], dtype=getattr(torch, dt)), N=4)
        e = ember.linalg.vander(ember.tensor([1, 2, 3], dtype=getattr(ember, dt)), N=4)
        assert str(e.dtype) == str(t.dtype) == "torch.int64"
        assert e.tolist() == t.tolist()


@pytest.mark.parametrize("dt", LOW)
def test_rounding_and_reductions_on_bfloat16(dt):
    """floor/ceil/trunc/sign, argmax with NaN and the 0-d variance on low-precision tensors."""
    vals = [1.5, -1.5, 2.75, -0.25, float("nan"), 3.0]
    for prog in (lambda L, x: x.floor(), lambda L, x: x.ceil(), lambda L, x: x.trunc(), lambda L, x: x.sign(),
                 lambda L, x: x.argmax(), lambda L, x: x.argmin(), lambda L, x: x[0].var(),
                 lambda L, x: x[:2].std()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = prog(torch, torch.tensor(vals).to(getattr(torch, dt)))
            e = prog(ember, ember.tensor(vals).to(getattr(ember, dt)))
        assert str(e.dtype) == str(t.dtype)
        np.testing.assert_allclose(e.double().numpy(), t.double().numpy(), equal_nan=True)


def test_rms_norm_mixed_dtypes_keep_input_dtype():
    """rms_norm returns the input's dtype whatever the weight's (computed in float32 for low precision)."""
    r = np.random.default_rng(3)
    X, W = r.standard_normal((3, 4)).astype(np.float32), r.standard_normal(4).astype(np.float32)
    for xd, wd in (("bfloat16", "float32"), ("bfloat16", "float64"), ("float16", "bfloat16"), ("float32", "float64")):
        res = []
        for L in (torch, ember):
            x = L.tensor(X).to(getattr(L, xd)).requires_grad_()
            w = L.tensor(W).to(getattr(L, wd)).requires_grad_()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                y = L.nn.functional.rms_norm(x, (4,), w)
            y.float().sum().backward()
            res.append((y, x.grad, w.grad))
        for e, t in zip(res[1], res[0]):
            _close(e, t, 6e-2)
