"""Focused tests of ember/ops/sort.py against torch: values, indices (ties included), dtypes, shapes,
errors (type and message), out=, gradients."""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

NAN = float("nan")


def _np(t):
    t = t.detach()
    if str(t.dtype).endswith("bfloat16"):
        t = t.float()
    return np.asarray(t.cpu().numpy() if hasattr(t, "cpu") else t.numpy())


def same(e, t, what="result", exact=True):
    """ember result ``e`` equals torch result ``t``: structure, type names, dtypes, shapes, values."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{what}: {type(e)}"
        assert str(e.dtype) == str(t.dtype), f"{what}: dtype {e.dtype} != {t.dtype}"
        assert tuple(e.shape) == tuple(t.shape), f"{what}: shape {tuple(e.shape)} != {tuple(t.shape)}"
        a, b = _np(e), _np(t)
        if exact:
            np.testing.assert_array_equal(a, b, err_msg=what)
            if a.dtype.kind == "f":  # -0.0 vs 0.0 too (a NaN's sign comes from dtype conversions: not checked)
                np.testing.assert_array_equal(np.signbit(a) & ~np.isnan(a), np.signbit(b) & ~np.isnan(b),
                                              err_msg=what + " (sign)")
        else:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, equal_nan=True, err_msg=what)
    elif isinstance(t, tuple):
        assert isinstance(e, tuple) and len(e) == len(t), f"{what}: {type(e)} vs {type(t)}"
        if hasattr(t, "_fields"):
            assert type(e).__name__ == type(t).__name__ and e._fields == t._fields, f"{what}: {type(e)}"
        for i, (x, y) in enumerate(zip(e, t)):
            same(x, y, f"{what}[{i}]", exact)
    else:
        assert e == t, f"{what}: {e!r} != {t!r}"


def both(fn, *arrays, **kw):
    """Run ``fn(module, *tensors)`` in ember and torch on the same arrays; compare results or errors."""
    res = []
    for mod in (ember, torch):
        ts = [mod.from_numpy(np.array(a)) if isinstance(a, np.ndarray) else a for a in arrays]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res.append((fn(mod, *ts), None))
        except Exception as exc:  # noqa: BLE001
            res.append((None, exc))
    (e, ee), (t, te) = res
    if te is not None:
        assert ee is not None, f"torch raises {te!r}, ember returns {e!r}"
        assert type(ee) is type(te), f"torch raises {te!r}, ember {ee!r}"
        assert str(ee) == str(te), f"message: ember {str(ee)!r} != torch {str(te)!r}"
        return None
    if ee is not None:
        raise ee
    same(e, t, exact=kw.get("exact", True))
    return e


def rng(seed=0):
    return np.random.default_rng(seed)


def ties(shape, high=4, dtype=np.int64, seed=0):
    return rng(seed).integers(0, high, shape).astype(dtype)


# ---------------------------------------------------------------- sort / argsort / msort
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8",
                                   "uint8", "bool"])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("stable", [False, True])
def test_sort_ties_all_dtypes(dtype, descending, stable):
    a = ties((3, 40), 5, np.int64, seed=len(dtype))
    a = (a > 2) if dtype == "bool" else a.astype(np.float32)
    if dtype.startswith(("float", "bfloat")):
        a[a == 4] = NAN
    for dim in (0, 1, -1):
        both(lambda m, x: m.sort(x.to(getattr(m, dtype)), dim=dim, descending=descending, stable=stable), a)
        both(lambda m, x: m.argsort(x.to(getattr(m, dtype)), dim=dim, descending=descending, stable=stable), a)


@pytest.mark.parametrize("n", [17, 100, 300, 1000])
def test_sort_unstable_matches_torch_on_ties(n):
    # stable=False is std::sort in torch: equal elements come out in its order, not input order
    for seed, kind in enumerate(["int", "float-nan", "zeros", "sorted", "reversed"]):
        if kind == "int":
            a = ties((2, n), 3, seed=seed)
        elif kind == "float-nan":
            a = ties((2, n), 6, seed=seed).astype(np.float64)
            a[a == 5] = NAN
        elif kind == "zeros":
            a = rng(seed).choice([-0.0, 0.0, 1.0], (2, n)).astype(np.float32)
        elif kind == "sorted":
            a = np.sort(ties((2, n), 50, seed=seed), axis=1)
        else:
            a = np.sort(ties((2, n), 50, seed=seed), axis=1)[:, ::-1].copy()
        for desc in (False, True):
            both(lambda m, x: m.sort(x, descending=desc), a)
            both(lambda m, x: m.sort(x.t(), 0, desc), a)  # non-contiguous along the sorted dim


def test_sort_radix_path_and_expanded():
    a = ties((40000,), 7)
    both(lambda m, x: m.sort(x), a)            # big 1-D integer: stable radix sort in torch
    both(lambda m, x: m.sort(x, descending=True), a)
    both(lambda m, x: m.sort(x[:30].float().expand(3, 30).t(), 0), a)
    both(lambda m, x: m.sort(x[:1].expand(50)), a)  # zero stride: left in place


def test_sort_nan_and_signed_zero():
    a = np.array([3.0, NAN, 1.0, -np.inf, NAN, 2.0, np.inf, -0.0, 0.0, -0.0], np.float32)
    for desc in (False, True):
        for st in (False, True):
            both(lambda m, x: m.sort(x, descending=desc, stable=st), a)
            both(lambda m, x: m.argsort(x, descending=desc, stable=st), a)


def test_sort_shapes_and_forms():
    x = rng().standard_normal((2, 3, 4)).astype(np.float32)
    both(lambda m, t: m.sort(t), x)
    both(lambda m, t: m.sort(t, 1, True), x)
    both(lambda m, t: m.sort(t, dim=-3), x)
    both(lambda m, t: t.sort(0), x)
    both(lambda m, t: t.sort(stable=True, dim=1, descending=True), x)
    both(lambda m, t: t.argsort(1, True), x)
    both(lambda m, t: m.msort(t), x)
    both(lambda m, t: t.msort(), x)
    both(lambda m, t: m.sort(t.transpose(0, 2), 1), x)
    both(lambda m, t: m.sort(t), np.array(5.0, np.float32))
    both(lambda m, t: m.sort(t, 0), np.array(5, np.int64))
    both(lambda m, t: m.sort(t, -1, True), np.zeros((0,), np.float32))
    both(lambda m, t: m.sort(t, 0), np.zeros((3, 0), np.float32))
    both(lambda m, t: m.argsort(t), np.array(5.0, np.float32))
    both(lambda m, t: m.msort(t), np.array(5.0, np.float32))
    both(lambda m, t: m.msort(t), np.zeros((0, 2), np.int32))


def test_sort_errors():
    x = np.ones((2, 3), np.float32)
    both(lambda m, t: m.sort(t, 2), x)
    both(lambda m, t: m.sort(t, -3), x)
    both(lambda m, t: m.sort(t, 1), np.array(1.0))
    both(lambda m, t: m.argsort(t, 5), x)
    both(lambda m, t: m.sort(t.to(m.complex64)), x)
    both(lambda m, t: m.argsort(t.to(m.complex64)), x)
    with pytest.raises(TypeError):
        ember.sort([1, 2])
    with pytest.raises(TypeError):
        ember.sort(ember.ones(2), dim=None)
    with pytest.raises(TypeError):
        ember.sort(ember.ones(2), 0, True, True)  # stable is keyword-only


def test_sort_out():
    x = rng().standard_normal((3, 5)).astype(np.float32)

    def run(m, t):
        v, i = m.empty(0), m.empty(0, dtype=m.int64)
        r = m.sort(t, 1, out=(v, i))
        assert r[0] is v and r[1] is i
        return r
    both(run, x)
    both(lambda m, t: m.sort(t, out=(m.empty(3, 5, dtype=m.int64), m.empty(0, dtype=m.int64))), x)
    both(lambda m, t: m.sort(t, out=(m.empty(0), m.empty(0))), x)
    both(lambda m, t: m.sort(t, out=(m.empty(0, dtype=m.float64), m.empty(0, dtype=m.int64))), x)
    both(lambda m, t: m.sort(t, out=(m.empty(0),)), x)
    both(lambda m, t: m.sort(t.requires_grad_(), out=(m.empty(0), m.empty(0, dtype=m.int64))), x)
    both(lambda m, t: m.msort(t, out=m.empty(0)), x)
    both(lambda m, t: m.msort(t, out=m.empty(0, dtype=m.int64)), x)
    both(lambda m, t: m.argsort(t, stable=True, out=m.empty(0, dtype=m.int64)), x)
    both(lambda m, t: m.argsort(t, stable=True, out=m.empty(0, dtype=m.int32)), x)


def _grad(mod, fn, a, w):
    x = mod.from_numpy(a.copy()).requires_grad_()
    out = fn(mod, x)
    out.backward(mod.from_numpy(w))
    return x.grad, out.grad_fn


@pytest.mark.parametrize("case", ["sort", "sort-desc-dim0", "msort", "topk", "topk-small-dim0", "topk-unsorted",
                                  "kthvalue", "kthvalue-keepdim", "sort-0d", "topk-0d", "kthvalue-0d"])
def test_value_gradients(case):
    a = rng(3).standard_normal((4, 6))
    fns = {
        "sort": lambda m, x: m.sort(x).values,
        "sort-desc-dim0": lambda m, x: m.sort(x, 0, True).values,
        "msort": lambda m, x: m.msort(x),
        "topk": lambda m, x: m.topk(x, 3).values,
        "topk-small-dim0": lambda m, x: m.topk(x, 2, 0, False).values,
        "topk-unsorted": lambda m, x: m.topk(x, 4, sorted=False).values,
        "kthvalue": lambda m, x: m.kthvalue(x, 2).values,
        "kthvalue-keepdim": lambda m, x: m.kthvalue(x, 3, 0, True).values,
        "sort-0d": lambda m, x: m.sort(x[0, 0]).values,
        "topk-0d": lambda m, x: m.topk(x[0, 0], 1).values,
        "kthvalue-0d": lambda m, x: m.kthvalue(x[0, 0], 1).values,
    }
    fn = fns[case]
    with torch.no_grad():
        shape = tuple(fn(torch, torch.from_numpy(a)).shape)
    w = rng(4).standard_normal(shape)
    ge, fe = _grad(ember, fn, a, w)
    gt, ft = _grad(torch, fn, a, w)
    assert type(fe).__name__ == type(ft).__name__ or fe.name() == type(ft).__name__
    np.testing.assert_allclose(_np(ge), _np(gt), rtol=1e-12, atol=1e-12)


def test_gradient_names_and_double_backward():
    a = rng(5).standard_normal((3, 5))
    for mod in (ember, torch):
        x = mod.from_numpy(a.copy()).requires_grad_()
        names = [mod.sort(x).values.grad_fn.name(), mod.topk(x, 2).values.grad_fn.name(),
                 mod.kthvalue(x, 2).values.grad_fn.name(), mod.msort(x).grad_fn.name()]
        assert names == ["SortBackward0", "TopkBackward0", "KthvalueBackward0", "SortBackward0"]
        assert not mod.sort(x).indices.requires_grad
    # second order: d/dx of sum(grad * x) where grad is the scattered upstream gradient
    res = []
    for mod in (ember, torch):
        x = mod.from_numpy(a.copy()).requires_grad_()
        v = mod.topk(x, 3).values
        (g,) = mod.autograd.grad((v * v).sum(), x, create_graph=True)
        (g2,) = mod.autograd.grad((g * g).sum(), x)
        res.append(_np(g2))
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)


def test_sort_gradient_ignores_later_inplace_on_input():
    # the vjp needs only the indices and the input's shape, like torch's
    for mod in (ember, torch):
        x = mod.tensor([3.0, 1.0, 2.0], requires_grad=True)
        y = x * 1
        v = mod.sort(y).values
        y.add_(1)
        v.backward(mod.tensor([1.0, 10.0, 100.0]))
        assert x.grad.tolist() == [100.0, 1.0, 10.0]


def test_meta_shapes():
    m = ember.empty(3, 5, device="meta")
    r = ember.sort(m, 0)
    assert r.values.device.type == "meta" and tuple(r.indices.shape) == (3, 5) and r.indices.dtype is ember.int64
    r = ember.topk(m, 2)
    assert tuple(r.values.shape) == (3, 2) and r.indices.dtype is ember.int64
    r = ember.kthvalue(m, 2, 0, True)
    assert tuple(r.values.shape) == (1, 5) and tuple(r.indices.shape) == (1, 5)
    assert tuple(ember.histc(m, 7).shape) == (7,)
    assert tuple(ember.searchsorted(ember.empty(4, device="meta"), m).shape) == (3, 5)
    assert ember.argsort(m).dtype is ember.int64
    for fn in (lambda: ember.unique(m), lambda: ember.unique_consecutive(m),
               lambda: ember.bincount(ember.empty(3, dtype=ember.int64, device="meta")),
               lambda: ember.histogram(m, 3)):
        with pytest.raises(NotImplementedError, match="Meta tensors"):
            fn()


# ---------------------------------------------------------------- topk
def test_topk_ties_match_torch():
    # torch uses std::partial_sort (k * 64 <= n) or std::nth_element (+ std::sort); with ties (and with
    # sorted=False) the order is that of those algorithms
    for seed, (n, hi) in enumerate([(10, 3), (40, 4), (200, 5), (700, 6), (3000, 10)]):
        a = ties((2, n), hi, seed=seed)
        f = a.astype(np.float32)
        f[f == hi - 1] = NAN
        for k in sorted({1, 2, 3, n // 64, n // 2, n - 1, n}):
            for largest in (True, False):
                for srt in (True, False):
                    both(lambda m, x: m.topk(x, k, largest=largest, sorted=srt), a)
                    both(lambda m, x: m.topk(x, k, 0 if k <= 2 else 1, largest, srt), f)


def test_topk_distinct_values_unsorted_order():
    a = rng(7).permutation(500).astype(np.float64).reshape(2, 250)
    for k in (2, 5, 40, 250):
        both(lambda m, x: m.topk(x, k, sorted=False), a)
        both(lambda m, x: m.topk(x, k, largest=False, sorted=False), a)


def test_topk_forms_and_errors():
    x = rng(1).standard_normal((3, 4)).astype(np.float32)
    both(lambda m, t: m.topk(t, 2), x)
    both(lambda m, t: m.topk(t, 2, 0), x)
    both(lambda m, t: m.topk(t, k=3, dim=-1, largest=False), x)
    both(lambda m, t: t.topk(2, 0, False, False), x)
    both(lambda m, t: m.topk(t, m.tensor(2)), x)
    both(lambda m, t: m.topk(t, 0), x)
    both(lambda m, t: m.topk(t, 5), x)
    both(lambda m, t: m.topk(t, -1), x)
    both(lambda m, t: m.topk(t, 2, 2), x)
    both(lambda m, t: m.topk(t, 1), np.array(2.0, np.float32))
    both(lambda m, t: m.topk(t, 0), np.array(2.0, np.float32))
    both(lambda m, t: m.topk(t, 2), np.array(2.0, np.float32))
    both(lambda m, t: m.topk(t, 0), np.zeros((0,), np.float32))
    both(lambda m, t: m.topk(t, 1), np.zeros((0,), np.float32))
    both(lambda m, t: m.topk(t, 0, 0), np.zeros((2, 0), np.float32))
    both(lambda m, t: m.topk(t, 2), np.array([True, False, True]))
    both(lambda m, t: m.topk(t.to(m.complex64), 1), x)
    both(lambda m, t: m.topk(t.to(m.uint8), 2), x * 10)
    with pytest.raises(TypeError, match="must be int, not float"):
        ember.topk(ember.ones(3), 2.0)
    both(lambda m, t: m.topk(t, 2, out=(m.empty(0), m.empty(0, dtype=m.int64))), x)
    both(lambda m, t: m.topk(t, 2, out=(m.empty(0, dtype=m.float64), m.empty(0, dtype=m.int64))), x)
    both(lambda m, t: m.topk(t, 2, out=(m.empty(0), m.empty(0, dtype=m.int32))), x)
    both(lambda m, t: m.topk(t.requires_grad_(), 2, out=(m.empty(0), m.empty(0, dtype=m.int64))), x)


# ---------------------------------------------------------------- kthvalue
def test_kthvalue_ties_match_torch():
    # torch's CPU kthvalue runs a median-of-three quickselect; which tied index it returns follows it
    for seed in range(12):
        n = int(rng(seed).integers(2, 60))
        a = ties((3, n), 4, seed=seed)
        f = a.astype(np.float64)
        f[f == 3] = NAN
        z = rng(seed).choice([-0.0, 0.0], (3, n))
        for k in sorted({1, 2, n // 2 or 1, n}):
            both(lambda m, x: m.kthvalue(x, k), a)
            both(lambda m, x: m.kthvalue(x, k, 1, True), f)
            both(lambda m, x: m.kthvalue(x.t(), k, 0), z)


def test_kthvalue_forms_and_errors():
    x = rng(2).standard_normal((3, 4)).astype(np.float32)
    both(lambda m, t: m.kthvalue(t, 2), x)
    both(lambda m, t: m.kthvalue(t, 3, 0, True), x)
    both(lambda m, t: m.kthvalue(t, 1, -2), x)
    both(lambda m, t: t.kthvalue(4), x)
    both(lambda m, t: m.kthvalue(t, 0), x)
    both(lambda m, t: m.kthvalue(t, 5), x)
    both(lambda m, t: m.kthvalue(t, 1, 2), x)
    both(lambda m, t: m.kthvalue(t, 1), np.array(3.0, np.float32))
    both(lambda m, t: m.kthvalue(t, 1, 0, True), np.array(3.0, np.float32))
    both(lambda m, t: m.kthvalue(t, 2), np.array(3.0, np.float32))
    both(lambda m, t: m.kthvalue(t, 1, 0), np.zeros((0, 3), np.float32))
    both(lambda m, t: m.kthvalue(t, 1, 0), np.zeros((3, 0), np.float32))
    both(lambda m, t: m.kthvalue(t, 1), np.array([True]))
    both(lambda m, t: m.kthvalue(t.to(m.complex64), 1), x)
    both(lambda m, t: m.kthvalue(t, 2, out=(m.empty(0), m.empty(0, dtype=m.int64))), x)
    both(lambda m, t: m.kthvalue(t, 2, out=(m.empty(0, dtype=m.float64), m.empty(0, dtype=m.int64))), x)
    both(lambda m, t: m.kthvalue(t, 2, out=(m.empty(0), m.empty(0, dtype=m.int32))), x)


# ---------------------------------------------------------------- unique / unique_consecutive
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "uint8", "int8", "bool"])
def test_unique_all_forms(dtype):
    a = ties((4, 5), 4, seed=1).astype(np.float64)
    a[0, 0] = a[2, 3] = NAN
    a[1, 1], a[3, 4] = -0.0, 0.0
    if not dtype.startswith("float"):
        a = np.nan_to_num(a, nan=2.0)
    a = (a > 1) if dtype == "bool" else a.astype(dtype)
    for inv in (False, True):
        for cnt in (False, True):
            for srt in (True, False):
                both(lambda m, x: m.unique(x, sorted=srt, return_inverse=inv, return_counts=cnt), a)
            both(lambda m, x: m.unique_consecutive(x, return_inverse=inv, return_counts=cnt), a)
            for dim in (0, 1, -1):
                both(lambda m, x: m.unique(x, return_inverse=inv, return_counts=cnt, dim=dim), a)
                both(lambda m, x: m.unique_consecutive(x, return_inverse=inv, return_counts=cnt, dim=dim), a)


def test_unique_dim_duplicates_and_edges():
    m0 = np.array([[1, 2], [0, 1], [1, 2], [0, 0], [0, 1]])
    both(lambda m, x: m.unique(x, dim=0, return_inverse=True, return_counts=True), m0)
    both(lambda m, x: m.unique(x, dim=1, return_inverse=True, return_counts=True), m0)
    both(lambda m, x: m.unique_consecutive(x[[0, 2, 2, 1]], dim=0, return_inverse=True, return_counts=True), m0)
    both(lambda m, x: x.unique(True, True, True, 0), m0)
    both(lambda m, x: x.unique_consecutive(True, True, 0), m0)
    both(lambda m, x: m.unique(x, dim=0, return_inverse=True, return_counts=True), np.zeros((0, 3)))
    both(lambda m, x: m.unique(x, dim=2, return_inverse=True, return_counts=True), np.zeros((2, 3, 0)))
    both(lambda m, x: m.unique(x, dim=0), np.zeros((3, 0)))
    both(lambda m, x: m.unique(x, dim=1), np.zeros((0, 0)))
    both(lambda m, x: m.unique_consecutive(x, dim=0), np.zeros((3, 0)))
    both(lambda m, x: m.unique(x, dim=0), np.array(5.0))
    both(lambda m, x: m.unique(x, dim=-1), np.array(5.0))
    both(lambda m, x: m.unique(x, dim=2), np.zeros((2, 3)))
    both(lambda m, x: m.unique(x, return_inverse=True, return_counts=True), np.array(5.0))
    both(lambda m, x: m.unique_consecutive(x, return_inverse=True, return_counts=True), np.array(5))
    both(lambda m, x: m.unique(x, return_inverse=True, return_counts=True), np.zeros((2, 0)))
    both(lambda m, x: m.unique(x.to(m.complex64)), np.ones(3))
    both(lambda m, x: m.unique(x.to(m.complex64), dim=0), np.ones((3, 2)))
    both(lambda m, x: m.unique_consecutive(x.to(m.complex64)), np.ones(3))
    big = ties((20000,), 3000, seed=9)
    both(lambda m, x: m.unique(x, return_inverse=True, return_counts=True), big)


def test_unique_autograd_like_torch():
    for mod, errs in ((ember, []), (torch, [])):
        for fn in (lambda x: mod.unique(x), lambda x: mod.unique(x, dim=0),
                   lambda x: mod.unique_consecutive(x)):
            x = mod.tensor([1.0, 2.0, 1.0], requires_grad=True)
            y = fn(x)
            assert y.requires_grad
            try:
                y.sum().backward()
            except Exception as exc:  # noqa: BLE001
                errs.append((type(exc).__name__, str(exc), y.grad_fn.name()))
        if mod is ember:
            e_errs = errs
        else:
            assert e_errs == errs


# ---------------------------------------------------------------- searchsorted / bucketize
def test_searchsorted_values_and_sides():
    s = np.array([1, 3, 5, 7, 9])
    v = np.array([[3, 6, 9], [0, 10, 5]])
    for kw in ({}, {"right": True}, {"side": "right"}, {"side": "left"}, {"out_int32": True},
               {"side": "right", "right": True}, {"right": False, "side": "right"}):
        both(lambda m, a, b: m.searchsorted(a, b, **kw), s, v)
        both(lambda m, a, b: m.searchsorted(a, b.float(), **kw), s, v)
        both(lambda m, a, b: m.bucketize(b, a, **{k: x for k, x in kw.items() if k != "side"}), s, v)
    both(lambda m, a: m.searchsorted(a, 5), s)
    both(lambda m, a: m.searchsorted(a, 5.5), s)
    both(lambda m, a: m.searchsorted(a, m.tensor(5)), s)
    both(lambda m, a: m.bucketize(4, a, right=True), s)
    both(lambda m, a: m.bucketize(m.tensor(4), a), s)


def test_searchsorted_nd_sorter_nan_promotion():
    seq = np.array([[1.0, 3, 5], [2, 4, 6]])
    both(lambda m, a, b: m.searchsorted(a, b), seq, np.array([[3.0, 6], [1, 7]]))
    both(lambda m, a, b: m.searchsorted(a, b, right=True), seq, np.array([[3.0, 6, 3], [1, 7, 4]]))
    un = np.array([[5, 1, 3], [6, 2, 4]])
    srt = np.argsort(un, axis=1)
    both(lambda m, a, b, c: m.searchsorted(a, b, sorter=c), un, np.array([[2, 6], [4, 1]]), srt)
    both(lambda m, a, b, c: m.searchsorted(a, b, side="right", sorter=c), un, np.array([[3, 6], [4, 1]]), srt)
    both(lambda m, a, b, c: m.searchsorted(a[0], b, sorter=c[0]), un, np.array([2, 4]), srt)
    nan_seq = np.array([1.0, 2, NAN])
    both(lambda m, a, b: m.searchsorted(a, b), nan_seq, np.array([NAN, 2, 5]))
    both(lambda m, a, b: m.searchsorted(a, b, right=True), nan_seq, np.array([NAN, 2, 5]))
    # comparisons happen in the promoted dtype (0-d tensors and numbers don't promote a category)
    f32 = np.array([0.1], np.float32)
    both(lambda m, a: m.searchsorted(a, 0.1, right=True), f32)
    both(lambda m, a: m.searchsorted(a, m.tensor(0.1, dtype=m.float64), right=True), f32)
    both(lambda m, a: m.searchsorted(a, m.tensor([0.1], dtype=m.float64), right=True), f32)
    both(lambda m, a: m.searchsorted(a, m.tensor([16777216.0]), right=True), np.array([16777217]))
    both(lambda m, a, b: m.searchsorted(a, b), np.array([1, 2], np.uint8), np.array([True, False]))
    both(lambda m, a, b: m.searchsorted(a, b), np.array([1.0, 2.0]), np.zeros((0,)))
    both(lambda m, a, b: m.searchsorted(a, b), np.zeros((0,)), np.array([1.0, 2.0]))
    both(lambda m, a, b: m.searchsorted(a, b), np.zeros((2, 0)), np.zeros((2, 3)))
    both(lambda m, a, b: m.searchsorted(a, b), np.array([1.0, 2.0]), np.array(1.5))


def test_searchsorted_errors():
    s = np.array([1, 3, 5])
    v = np.array([2, 4])
    both(lambda m, a, b: m.searchsorted(a, b, side="middle"), s, v)
    both(lambda m, a, b: m.searchsorted(a, b, side="left", right=True), s, v)
    both(lambda m, a, b: m.searchsorted(a, b, sorter=m.tensor([0, 1])), s, v)
    both(lambda m, a, b: m.searchsorted(a, b, sorter=m.tensor([0.0, 1, 2])), s, v)
    both(lambda m, a, b: m.searchsorted(a, b, sorter=m.tensor([0, 5, 1])), s, v)
    both(lambda m, a, b: m.searchsorted(a, b, sorter=m.tensor([-1, 0, 1])), s, v)
    both(lambda m, a, b: m.searchsorted(a[0], b), s, v)
    both(lambda m, a, b: m.searchsorted(a.reshape(1, 3), b), s, v)
    both(lambda m, a, b: m.searchsorted(a.reshape(1, 3), b.reshape(2, 1)), s, v)
    both(lambda m, a: m.searchsorted(a.reshape(1, 3), 3), s)
    both(lambda m, a, b: m.searchsorted(a > 2, b > 2), s, v)
    both(lambda m, a, b: m.searchsorted(a.to(m.complex64), b), s, v)
    both(lambda m, a, b: m.searchsorted(a, b, out=m.empty(0, dtype=m.int32)), s, v)
    both(lambda m, a, b: m.searchsorted(a, b, out_int32=True, out=m.empty(0, dtype=m.int64)), s, v)
    both(lambda m, a, b: m.bucketize(b, a.reshape(1, 3)), s, v)
    both(lambda m, a, b: m.bucketize(b, a[0]), s, v)
    both(lambda m, a, b: m.bucketize(b > 2, a > 2), s, v)
    both(lambda m, a, b: m.bucketize(b, a, out=m.empty(0)), s, v)
    with pytest.raises(TypeError):
        ember.searchsorted([1, 2], ember.tensor([1]))

    def run(m, a, b):
        o = m.empty(0, dtype=m.int64)
        r = m.searchsorted(a, b, out=o)
        assert r is o
        return r
    both(run, s, v)


# ---------------------------------------------------------------- bincount
def test_bincount():
    a = np.array([1, 1, 3, 0, 7, 3])
    w = np.array([0.5, 0.5, 1.0, 2.0, -1.0, 0.25], np.float32)
    both(lambda m, x: m.bincount(x), a)
    both(lambda m, x: m.bincount(x, minlength=10), a)
    both(lambda m, x: x.bincount(None, 3), a)
    both(lambda m, x, y: m.bincount(x, y), a, w)
    both(lambda m, x, y: m.bincount(x, y.double(), 9), a, w)
    both(lambda m, x, y: m.bincount(x, y.int()), a, w * 4)
    both(lambda m, x, y: m.bincount(x, y.half()), a, w)
    both(lambda m, x, y: m.bincount(x, y > 0), a, w)
    for dt in ("int32", "int16", "int8", "uint8"):
        both(lambda m, x: m.bincount(x.to(getattr(m, dt))), a)
    both(lambda m, x: m.bincount(x[:0]), a)
    both(lambda m, x: m.bincount(x[:0], minlength=3), a)
    both(lambda m, x, y: m.bincount(x[:0], y[:0], 2), a, w)
    both(lambda m, x, y: m.bincount(x[:0], y[:3]), a, w)
    # errors
    both(lambda m, x: m.bincount(x, minlength=-1), a)
    both(lambda m, x: m.bincount(x - 2), a)
    both(lambda m, x: m.bincount(x.reshape(2, 3)), a)
    both(lambda m, x: m.bincount(x[0]), a)
    both(lambda m, x: m.bincount(x.float()), a)
    both(lambda m, x: m.bincount(x > 1), a)
    both(lambda m, x, y: m.bincount(x, y[:3]), a, w)
    both(lambda m, x, y: m.bincount(x, y.reshape(2, 3)), a, w)
    for mod in (ember, torch):  # weights' gradient is not implemented in torch either
        y = mod.bincount(mod.tensor([1, 2]), weights=mod.tensor([1.0, 2.0], requires_grad=True))
        assert y.requires_grad
        with pytest.raises(RuntimeError, match="derivative for aten::bincount is not implemented"):
            y.sum().backward()


# ---------------------------------------------------------------- histc / histogram
def test_histc_edges_and_rounding():
    x = np.array([1.0, 2, 1, 3, 0, -1, 4], np.float32)
    both(lambda m, t: m.histc(t), x)
    both(lambda m, t: m.histc(t, bins=3), x)
    both(lambda m, t: m.histc(t, 4, 0, 3), x)
    both(lambda m, t: t.histc(4, 0, 3), x)
    both(lambda m, t: m.histc(t, 4, min=2, max=2), x)
    both(lambda m, t: m.histc(t, bins=3), np.ones(3, np.float32))
    both(lambda m, t: m.histc(t, bins=3), np.zeros(0, np.float32))
    both(lambda m, t: m.histc(t, bins=3), np.array(2.0, np.float32))
    both(lambda m, t: m.histc(t, 10, 0, 1), np.array([0.1, 0.2, 0.3, 0.7, 0.9, 1.0], np.float32))
    both(lambda m, t: m.histc(t, 4, 0, 3), np.array([1.0, 2, NAN, np.inf, -np.inf]))
    both(lambda m, t: m.histc(t.half(), 4), x)
    both(lambda m, t: m.histc(t.bfloat16(), 4), x)
    r = rng(11)
    for i in range(40):  # borderline values: torch computes (x - min) * bins / (max - min) in the dtype
        nb = int(r.integers(1, 40))
        dt = np.float32 if i % 2 else np.float64
        v = (np.round(r.uniform(-1, 1, 100) * nb) / nb).astype(dt)
        lo, hi = sorted(np.round(r.uniform(-1.2, 1.2, 2) * 10) / 10)
        if lo < hi:
            both(lambda m, t: m.histc(t, nb, float(lo), float(hi)), v)


def test_histc_errors():
    x = np.array([1.0, 2, 1], np.float32)
    both(lambda m, t: m.histc(t, bins=0), x)
    both(lambda m, t: m.histc(t, bins=-1), x)
    both(lambda m, t: m.histc(t, 4, 3, 0), x)
    both(lambda m, t: m.histc(t, 4), np.array([1.0, NAN], np.float32))
    both(lambda m, t: m.histc(t, 4), np.array([1.0, np.inf], np.float32))
    both(lambda m, t: m.histc(t, 4, 0, np.inf), x)
    both(lambda m, t: m.histc(t, 4, NAN, 3), x)
    both(lambda m, t: m.histc(t, 4, 3, np.inf), x)
    both(lambda m, t: m.histc(t.long(), 4, 0, 3), x)
    both(lambda m, t: m.histc(t > 1, 4), x)
    both(lambda m, t: m.histc(t.to(m.complex64), 4), x)
    both(lambda m, t: m.histc(t, 4, out=m.empty(0, dtype=m.float64)), x)
    both(lambda m, t: m.histc(t, 4, out=m.empty(2)), x)
    with pytest.raises(TypeError, match="must be int, not float"):
        ember.histc(ember.ones(3), bins=4.5)
    for mod in (ember, torch):
        assert not mod.histc(mod.tensor([1.0, 2.0], requires_grad=True)).requires_grad


def test_histogram():
    x = np.array([1.0, 2, 1, 2.5, -0.5, 3], np.float32)
    w = np.array([1.0, 2, 4, 0.5, 1, 1], np.float32)
    both(lambda m, t: m.histogram(t), x)
    both(lambda m, t: m.histogram(t, 4), x)
    both(lambda m, t: t.histogram(4, range=(0.0, 3.0)), x)
    both(lambda m, t, u: m.histogram(t, 4, range=(0.0, 3.0), weight=u), x, w)
    both(lambda m, t, u: m.histogram(t, 4, weight=u, density=True), x, w, exact=False)
    both(lambda m, t: m.histogram(t, 5, density=True), x, exact=False)
    both(lambda m, t: m.histogram(t, m.tensor([0.0, 1, 2.5, 3])), x)
    both(lambda m, t: m.histogram(t, m.tensor([0.0, 1, 2.5, 3]), density=True), x, exact=False)
    both(lambda m, t: m.histogram(t, m.tensor([0.0, 2, 2, 3])), x)
    both(lambda m, t: m.histogram(t, m.tensor([0.0, NAN, 3])), x)
    both(lambda m, t: m.histogram(t, m.tensor([3.0, 2])), x)
    both(lambda m, t: m.histogram(t.reshape(2, 3).double(), 3), x)
    both(lambda m, t: m.histogram(t[:0], 3), x)
    both(lambda m, t: m.histogram(t[:0], 2, range=(0.0, 0.0)), x)
    both(lambda m, t: m.histogram(t[:2] * 0 + 1, 3), x)
    both(lambda m, t: m.histogram(t, 3, range=(2.0, 2.0)), x)
    both(lambda m, t: m.histogram(t[0], 2), x)
    both(lambda m, t: m.histogram(t, 3, density=True, range=(5.0, 6.0)), x, exact=False)
    both(lambda m, t: m.histogram(t, 2, range=(0, 1)), x)
    r = rng(12)
    for i in range(30):  # borderline values: bins found by interpolation, then checked against the edges
        nb = int(r.integers(1, 30))
        dt = np.float32 if i % 2 else np.float64
        v = (np.round(r.uniform(-1, 1, 80) * nb) / nb).astype(dt)
        lo, hi = sorted(np.round(r.uniform(-1.2, 1.2, 2) * 10) / 10)
        if lo < hi:
            both(lambda m, t: m.histogram(t, nb, range=(float(lo), float(hi))).hist, v)


def test_histogram_errors_and_out():
    x = np.array([1.0, 2], np.float32)
    both(lambda m, t: m.histogram(t, 0), x)
    both(lambda m, t: m.histogram(t, m.tensor([1.0])), x)
    both(lambda m, t: m.histogram(t, m.tensor([])), x)
    both(lambda m, t: m.histogram(t, m.tensor([[1.0, 2.0]])), x)
    both(lambda m, t: m.histogram(t, m.tensor([1.0, 2.0], dtype=m.float64)), x)
    both(lambda m, t: m.histogram(t.long(), m.tensor([1.0, 2.0])), x)
    both(lambda m, t: m.histogram(t.long(), 2), x)
    both(lambda m, t: m.histogram(t.half(), 2), x)
    both(lambda m, t: m.histogram(t, 2, weight=t.double()), x)
    both(lambda m, t: m.histogram(t, 2, weight=m.ones(3)), x)
    both(lambda m, t: m.histogram(t, 2, range=(0.0, 1.0, 2.0)), x)
    both(lambda m, t: m.histogram(t, 2, range=(3.0, 2.0)), x)
    both(lambda m, t: m.histogram(t, 2, range=(0.0, np.inf)), x)
    both(lambda m, t: m.histogram(t, 2, range=(np.inf, 2.0)), x)
    both(lambda m, t: m.histogram(t * NAN, 2), x)
    both(lambda m, t: m.histogram(t, 2, out=(m.empty(0), m.empty(0))), x)
    both(lambda m, t: m.histogram(t, 2, out=(m.empty(0, dtype=m.float64), m.empty(0))), x)
    with pytest.raises(TypeError):
        ember.histogram(ember.ones(2), ember.tensor([0.0, 1.0]), range=(0.0, 1.0))
    for mod in (ember, torch):
        h = mod.histogram(mod.tensor([1.0, 2.0], requires_grad=True), 2)
        assert h.hist.requires_grad and h.bin_edges.requires_grad
        with pytest.raises(RuntimeError, match="derivative for aten::histogram is not implemented"):
            h.hist.sum().backward()


def test_return_type_repr():
    r = ember.sort(ember.tensor([2.0, 1.0]))
    t = torch.sort(torch.tensor([2.0, 1.0]))
    assert repr(r).replace("ember", "torch") == repr(t)
    assert repr(ember.histogram(ember.tensor([1.0, 2.0]), 2)) == repr(torch.histogram(torch.tensor([1.0, 2.0]), 2))


def test_argument_type_errors():
    x = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]], np.float32)
    both(lambda m, t: m.topk(t, 2, dim=None), x)
    both(lambda m, t: m.kthvalue(t, 2, dim=None), x)
    both(lambda m, t: m.topk(t, True), x)
    both(lambda m, t: m.kthvalue(t, 1, True), x)
    both(lambda m, t: m.bincount(t[0].long(), None, 2.0), x)
    both(lambda m, t: m.histc(t, 3, "0", 1), x)
    both(lambda m, t: m.unique(t, dim=1.0), x)
    for mod in (ember, torch):
        with pytest.raises(TypeError):
            mod.sort(mod.from_numpy(x), dim=True)


def test_keyword_names():
    x = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]], np.float32)
    both(lambda m, t: m.sort(input=t, dim=0, descending=True), x)
    both(lambda m, t: m.argsort(input=t, dim=0), x)
    both(lambda m, t: m.msort(input=t), x)
    both(lambda m, t: m.topk(input=t, k=1, dim=0, largest=True, sorted=True), x)
    both(lambda m, t: m.kthvalue(input=t, k=1, dim=0, keepdim=True), x)
    both(lambda m, t: m.unique(input=t, sorted=True, return_inverse=True, return_counts=True, dim=0), x)
    both(lambda m, t: m.unique_consecutive(input=t, return_inverse=True, return_counts=True, dim=1), x)
    both(lambda m, t: m.searchsorted(sorted_sequence=t[0].sort().values, input=t), x)
    both(lambda m, t: m.bucketize(input=t, boundaries=t[0].sort().values, right=True), x)
    both(lambda m, t: m.bincount(input=t[0].long(), weights=None, minlength=2), x)
    both(lambda m, t: m.histc(input=t, bins=3, min=0, max=5), x)
    both(lambda m, t: m.histogram(input=t, bins=3, range=(0.0, 5.0), weight=t, density=False), x)
