"""The fused fast paths behind the model steps (bench/nn.py) against torch: GELU's float32 kernel (accuracy against
math.erf on a dense grid), the one-node attention (scaled_dot_product_attention, MultiheadAttention's packed
self-attention), the whole-layer LSTM, the stride-1 convolution input gradients, the grouped embedding gradient,
non-overlapping max pooling and the one-gemm linear: values, layouts, node names, float64 gradients and second
derivatives."""
import math
import warnings

import numpy as np
import pytest

import ember
from ember.ops import nn_ops as N

torch = pytest.importorskip("torch")


def _both(fn):
    return fn(torch), fn(ember)


def _close(a, b, rtol=1e-6, atol=1e-7):
    for x, y in zip(a, b):
        np.testing.assert_allclose(np.asarray(y, np.float64), np.asarray(x, np.float64), rtol=rtol, atol=atol)


# ---------------------------------------------------------------- GELU
def test_gelu_float32_accuracy():
    """The float32 kernel (normal tail in float32 with an exactly split exponent) stays within 12 ulp of
    x * Phi(x) everywhere the result is a normal float32 -- torch's erf-based kernel loses far more than that
    to cancellation for x < -3 (millions of ulp in the far tail)."""
    x = np.concatenate([np.linspace(-14, 14, 280001), np.geomspace(1e-30, 1, 2001), -np.geomspace(1e-30, 1, 2001)])
    x = x.astype(np.float32)
    got = ember.nn.functional.gelu(ember.tensor(x)).numpy().astype(np.float64)
    x64 = x.astype(np.float64)
    exact = 0.5 * x64 * np.array([math.erfc(-v / math.sqrt(2)) for v in x64])
    normal = np.abs(exact) > np.finfo(np.float32).tiny
    ulp = np.spacing(np.abs(exact[normal]).astype(np.float32)).astype(np.float64)
    assert (np.abs(got[normal] - exact[normal]) / ulp).max() <= 12.0
    # against torch: its own error bound (a few 1e-7 relative, ~1e-6 absolute in the tail it approximates)
    ref = torch.nn.functional.gelu(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, ref, rtol=2e-6, atol=2e-6)


def test_gelu_normal_tail_relative_error():
    from ember.ops import _special as S
    x = np.linspace(-14.5, 14.5, 20001)
    q = S.normal_tail(np, x)
    ref = np.array([0.5 * math.erfc(abs(v) / math.sqrt(2)) for v in x])
    assert np.abs(q / ref - 1).max() < 2e-8
    # the float32 form, while Phi(-|x|) is a normal float32 (|x| < 13), and its special values
    x32 = np.linspace(-13, 13, 20001).astype(np.float32)
    ref32 = np.array([0.5 * math.erfc(abs(float(v)) / math.sqrt(2)) for v in x32])
    assert np.abs(S.normal_tail32(np, x32) / ref32 - 1).max() < 1e-6
    sp = S.normal_tail32(np, np.array([np.inf, -np.inf, np.nan, 0.0, 40.0], np.float32))
    assert sp[0] == sp[1] == sp[4] == 0 and np.isnan(sp[2]) and abs(sp[3] - 0.5) < 1e-7


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16"])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_values_and_grads(dtype, approximate):
    xs = np.concatenate([np.linspace(-9, 9, 301), [0.0, -0.0, 1e-30, -1e-30, -50.0, 50.0]])
    tol = {"float32": (2e-6, 2e-6), "float64": (1e-12, 1e-14), "bfloat16": (1e-2, 1e-2), "float16": (2e-3, 2e-3)}[dtype]

    def run(lib):
        x = lib.tensor(xs, dtype=getattr(lib, dtype), requires_grad=True)
        y = lib.nn.functional.gelu(x, approximate=approximate)
        up = lib.tensor(np.cos(np.arange(len(xs))), dtype=getattr(lib, dtype))
        y.backward(up)
        return y.detach().float().numpy(), x.grad.float().numpy(), type(y.grad_fn).__name__
    (ty, tg, tn), (ey, eg, en) = _both(run)
    _close([ty, tg], [ey, eg], *tol)
    assert tn == en == "GeluBackward0"
    assert np.array_equal(np.signbit(ty[-6:]), np.signbit(ey[-6:]))  # -0.0 for -0.0 and -50, as torch


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_special_values(approximate):
    x = [float("nan"), float("-inf"), -0.0, 0.0, float("inf")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy warnings leak out
        got = ember.nn.functional.gelu(ember.tensor(x, dtype=ember.float64), approximate=approximate).tolist()
        ember.nn.functional.gelu(ember.tensor(x * 8), approximate=approximate)
    ref = torch.nn.functional.gelu(torch.tensor(x, dtype=torch.float64), approximate=approximate).tolist()
    assert str(got) == str(ref)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_double_backward(dtype, approximate):
    xs = np.random.RandomState(0).randn(40) * 3

    def run(lib):
        x = lib.tensor(xs, dtype=getattr(lib, dtype), requires_grad=True)
        y = lib.nn.functional.gelu(x, approximate=approximate)
        (g,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g * g).sum(), x)
        return y.detach().numpy(), g.detach().numpy(), gg.numpy(), type(g.grad_fn).__name__
    t, e = _both(run)
    rtol = 1e-12 if dtype == "float64" else 1e-4
    _close(t[:3], e[:3], rtol, rtol)
    assert t[3] == e[3] == "GeluBackwardBackward0"
    x = ember.randn(6, dtype=ember.float64, requires_grad=True)
    f = lambda v: ember.nn.functional.gelu(v, approximate=approximate)  # noqa: E731
    assert ember.autograd.gradcheck(f, (x,)) and ember.autograd.gradgradcheck(f, (x,))


def test_gelu_retained_graph_and_shapes():
    x = ember.randn(3, 5, requires_grad=True)
    y = ember.nn.functional.gelu(x).sum()
    y.backward(retain_graph=True)
    g1 = x.grad.clone()
    y.backward()  # the kept Phi(x) was used up: the second run recomputes it
    assert ember.allclose(x.grad, 2 * g1)
    assert ember.nn.functional.gelu(ember.tensor(0.5, requires_grad=True)).shape == ()
    assert ember.nn.functional.gelu(ember.empty(0, 3)).shape == (0, 3)
    m = ember.nn.functional.gelu(ember.empty(3, 4, device="meta", requires_grad=True))
    assert m.shape == (3, 4) and m.device.type == "meta"


# ---------------------------------------------------------------- attention
_R = np.random.RandomState(0)
_L, _S = 5, 7
_MASKS = {"none": None, "causal": "causal", "bool2": _R.rand(_L, _S) > 0.4, "float2": _R.randn(_L, _S),
          "float4": _R.randn(2, 1, _L, _S), "dead": np.zeros((_L, _S), bool), "bool4": _R.rand(2, 3, _L, _S) > 0.5}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mask", list(_MASKS))
@pytest.mark.parametrize("layout", ["contiguous", "seq_major"])
def test_sdpa_fused(dtype, mask, layout):
    r = np.random.RandomState(1)
    perm = layout == "seq_major"
    q0, k0, v0 = (r.randn(*((n, 2, 3, 4) if perm else (2, 3, n, 4))) for n in (_L, _S, _S))
    m0 = _MASKS[mask]

    def run(lib):
        d = getattr(lib, dtype)
        q, k, v = (lib.tensor(a, dtype=d, requires_grad=True) for a in (q0, k0, v0))
        qq, kk, vv = (t.permute(1, 2, 0, 3) if perm else t for t in (q, k, v))
        kw = {"is_causal": True} if mask == "causal" else {}
        if m0 is not None and mask != "causal":
            kw["attn_mask"] = lib.tensor(m0) if m0.dtype == bool else lib.tensor(m0, dtype=d)
        o = lib.nn.functional.scaled_dot_product_attention(qq, kk, vv, **kw)
        o.backward(lib.tensor(np.cos(np.arange(o.numel())).reshape(tuple(o.shape)), dtype=d))
        grads = [o.detach().numpy(), q.grad.numpy(), k.grad.numpy(), v.grad.numpy()]
        return grads, o.stride(), type(o.grad_fn).__name__
    (ta, ts, tn), (ea, es, en) = _both(run)
    tol = 1e-12 if dtype == "float64" else 2e-6
    _close(ta, ea, tol, tol)
    assert ts == es and tn == en == "ScaledDotProductFlashAttentionForCpuBackward0"


def test_sdpa_fused_second_order_and_large_scores():
    q = ember.randn(2, 3, 4, 5, dtype=ember.float64, requires_grad=True)
    k = ember.randn(2, 3, 6, 5, dtype=ember.float64, requires_grad=True)
    v = ember.randn(2, 3, 6, 2, dtype=ember.float64, requires_grad=True)
    m = ember.randn(2, 1, 4, 6, dtype=ember.float64, requires_grad=True)
    f = lambda *a: N.sdpa_fused(*a, 0.7, False)  # noqa: E731
    assert ember.autograd.gradcheck(f, (q, k, v, m)) and ember.autograd.gradgradcheck(f, (q, k, v, m))
    mb = ember.tensor(np.random.RandomState(2).rand(4, 6) > 0.5)
    g = lambda *a: N.sdpa_fused(*a, mb, 0.7, True)  # noqa: E731
    assert ember.autograd.gradcheck(g, (q, k, v)) and ember.autograd.gradgradcheck(g, (q, k, v))
    r = np.random.RandomState(3)
    for mult in (30.0, 300.0):  # scores past exp's range take the max-shifted route
        a = [r.randn(2, 2, 5, 4) * mult, r.randn(2, 2, 6, 4) * mult, r.randn(2, 2, 6, 3)]
        t = torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(x).float() for x in a), is_causal=True)
        e = ember.nn.functional.scaled_dot_product_attention(*(ember.tensor(x).float() for x in a), is_causal=True)
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-5, atol=1e-6)


_MHA = {"plain": {}, "batch_first": {"bf": True}, "causal": {"mask": "causal"}, "float_mask": {"mask": "float"},
        "bool_mask": {"mask": "bool"}, "no_bias": {"bias": False}}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cfg", list(_MHA))
def test_mha_packed_self_attention(dtype, cfg):
    c = _MHA[cfg]
    r = np.random.RandomState(4)
    L, Nb, E = 5, 3, 8
    xa = r.randn(Nb, L, E) if c.get("bf") else r.randn(L, Nb, E)
    causal = np.triu(np.full((L, L), -np.inf), 1)
    ma = {"causal": causal, "float": r.randn(L, L), "bool": r.rand(L, L) > 0.3}.get(c.get("mask"))

    def run(lib):
        lib.manual_seed(0)
        d = getattr(lib, dtype)
        m = lib.nn.MultiheadAttention(E, 2, bias=c.get("bias", True), batch_first=c.get("bf", False)).to(d)
        with lib.no_grad():
            for p in m.parameters():
                p.copy_(lib.tensor(np.sin(np.arange(p.numel()) * 0.7).reshape(tuple(p.shape))))
        x = lib.tensor(xa, dtype=d, requires_grad=True)
        mask = None if ma is None else lib.tensor(ma) if ma.dtype == bool else lib.tensor(ma, dtype=d)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            o, w = m(x, x, x, need_weights=False, attn_mask=mask, is_causal=c.get("mask") == "causal")
        assert w is None
        params = [x] + list(m.parameters())
        gs = lib.autograd.grad(o, params, lib.tensor(np.cos(np.arange(o.numel())).reshape(tuple(o.shape)), dtype=d))
        return [o.detach().numpy()] + [g.numpy() for g in gs], type(o.grad_fn).__name__, o.stride()
    (ta, tn, ts), (ea, en, es) = _both(run)
    if dtype == "float64":
        _close(ta, ea, 1e-12, 1e-12)
    else:  # sharp softmaxes: float32 rounding (either side's) shows at ~1e-5 of the largest gradient
        for a, b in zip(ta, ea):
            assert np.abs(a - b).max() <= 1e-4 * np.abs(a).max()
    assert tn == en and ts == es


def test_mha_packed_second_order():
    qkv = ember.randn(4, 2, 12, dtype=ember.float64, requires_grad=True)
    mask = ember.randn(4, 4, dtype=ember.float64, requires_grad=True)
    f = lambda a, m: N.mha_packed(a, m, 2, 0.4, False)  # noqa: E731
    assert ember.autograd.gradcheck(f, (qkv, mask)) and ember.autograd.gradgradcheck(f, (qkv, mask))
    g = lambda a: N.mha_packed(a, None, 4, 0.5, True)  # noqa: E731
    assert ember.autograd.gradcheck(g, (qkv,)) and ember.autograd.gradgradcheck(g, (qkv,))
    m = N.mha_packed(ember.empty(4, 2, 12, device="meta", requires_grad=True), None, 4, 0.5, True)
    assert m.shape == (4, 2, 4) and m.device.type == "meta"


# ---------------------------------------------------------------- LSTM layer
_LSTM = {"plain": {}, "bidirectional": {"bidirectional": True}, "two_layers": {"num_layers": 2},
         "batch_first": {"batch_first": True}, "no_bias": {"bias": False},
         "deep_bidirectional": {"num_layers": 2, "bidirectional": True}}


def _lstm_run(lib, kw, xa, hc, use, dtype="float32", double=False):
    lib.manual_seed(0)
    m = lib.nn.LSTM(4, 5, **kw).to(getattr(lib, dtype))
    with lib.no_grad():
        for p in m.parameters():
            p.copy_(lib.tensor(np.sin(np.arange(p.numel()) * 0.37).reshape(tuple(p.shape)) * 0.5))
    x = lib.tensor(xa, dtype=getattr(lib, dtype), requires_grad=True)
    h = None if hc is None else tuple(lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True) for a in hc)
    o, (hn, cn) = m(x, h)
    loss = {"out": lambda: (o * o).sum(), "state": lambda: hn.sum() + (cn * cn).sum(),
            "all": lambda: o.sum() + hn.sum() * 2 + cn.sum() * 3}[use]()
    params = [x] + list(m.parameters()) + (list(h) if h else [])
    gs = lib.autograd.grad(loss, params, create_graph=double)
    res = [t.detach().float().numpy() for t in (o, hn, cn) + tuple(gs)]
    if double:
        res += [g.float().numpy() for g in lib.autograd.grad(sum((g * g).sum() for g in gs), params)]
    return res, type(o.grad_fn).__name__


@pytest.mark.parametrize("cfg", list(_LSTM))
@pytest.mark.parametrize("use", ["out", "state", "all"])
@pytest.mark.parametrize("give_state", [False, True])
def test_lstm_layer_kernel(cfg, use, give_state):
    kw = _LSTM[cfg]
    r = np.random.RandomState(5)
    D = 2 if kw.get("bidirectional") else 1
    xa = r.randn(3, 6, 4) if kw.get("batch_first") else r.randn(6, 3, 4)
    n_state = D * kw.get("num_layers", 1)
    hc = (r.randn(n_state, 3, 5), r.randn(n_state, 3, 5)) if give_state else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (ta, tn), (ea, en) = _both(lambda lib: _lstm_run(lib, kw, xa, hc, use))
    _close(ta, ea, 2e-5, 2e-5)
    assert tn == en


def test_lstm_layer_kernel_second_order_and_bfloat16():
    r = np.random.RandomState(6)
    xa = r.randn(6, 3, 4)
    (ta, tn), (ea, en) = _both(lambda lib: _lstm_run(lib, {"bidirectional": True}, xa, None, "all", double=True))
    assert len(ta) == len(ea)
    for a, b in zip(ta, ea):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5 * (np.abs(a).max() + 1))
    (ta, tn), (ea, en) = _both(lambda lib: _lstm_run(lib, {}, xa, None, "all", "bfloat16"))
    assert tn == en == "MkldnnRnnLayerBackward0"
    for a, b in zip(ta, ea):
        assert np.abs(a - b).max() <= 2e-2 * (np.abs(a).max() + 1e-3)


# ---------------------------------------------------------------- convolution gradients (stride 1 fast paths)
_CONV = [(2, 3, 1, 1, 4, 4, 1), (2, 3, 1, 2, 4, 4, 1), (2, 3, 2, 1, 2, 6, 1), (2, 3, 2, 1, 4, 4, 2),
         (2, 5, 2, 1, 2, 4, 1), (2, 3, 3, 2, 4, 2, 2), (1, 3, 1, 1, 4, 4, 1), (3, 3, 1, 1, 2, 2, 1),
         (2, 3, 0, 1, 3, 5, 1), (2, 1, 0, 1, 3, 5, 1),
         # 16+ channels, one group: the weight gradient by shifted views (no im2col)
         (2, 3, 1, 1, 16, 4, 1), (2, 3, 0, 2, 16, 3, 1), (2, 2, 1, 1, 17, 2, 1), (2, 3, 3, 1, 16, 2, 1)]


@pytest.mark.parametrize("nd,k,pad,dil,C,O,G", _CONV)
def test_conv_stride1_input_gradient(nd, k, pad, dil, C, O, G):
    """Both stride-1 routes for the input gradient (the flipped-kernel convolution, and the shifted col2im on the
    flattened padded plane) against torch, with second derivatives."""
    r = np.random.RandomState(7)
    xa = r.randn(2, C, *(7,) * nd)
    wa = r.randn(O, C // G, *(k,) * nd)

    def run(lib):
        x, w = lib.tensor(xa, requires_grad=True), lib.tensor(wa, requires_grad=True)
        y = getattr(lib.nn.functional, f"conv{nd}d")(x, w, padding=pad, dilation=dil, groups=G)
        gx, gw = lib.autograd.grad(y, (x, w), lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape))),
                                   create_graph=True)
        h = lib.autograd.grad((gx * gx).sum() + (gw * gw).sum(), (x, w))
        return [y.detach().numpy(), gx.detach().numpy(), gw.detach().numpy()] + [a.numpy() for a in h]
    t, e = _both(run)
    _close(t, e, 1e-10, 1e-10)


def test_conv_transpose_stride1_and_same_padding():
    r = np.random.RandomState(8)
    for k, C in ((2, 3), (3, 3), (4, 3), (2, 16), (3, 16)):
        xa, wa = r.randn(2, C, 8, 9), r.randn(4, C, k, k + 1)

        def run(lib):
            x, w = lib.tensor(xa, requires_grad=True), lib.tensor(wa, requires_grad=True)
            y = lib.nn.functional.conv2d(x, w, padding="same", dilation=2)
            y.backward(lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape))))
            return [y.detach().numpy(), x.grad.numpy(), w.grad.numpy()]
        _close(*_both(run), 1e-10, 1e-10)
        wt = r.randn(C, 2, k, k)

        def run_t(lib):
            x, w = lib.tensor(xa, requires_grad=True), lib.tensor(wt, requires_grad=True)
            y = lib.nn.functional.conv_transpose2d(x, w, padding=k // 2)
            y.backward(lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape))))
            return [y.detach().numpy(), x.grad.numpy(), w.grad.numpy()]
        _close(*_both(run_t), 1e-10, 1e-10)


# ---------------------------------------------------------------- embedding, pooling, linear
def test_embedding_gradient_grouped_sum():
    r = np.random.RandomState(9)
    idx = r.randint(0, 20, (6, 7))
    for dtype in ("float32", "float64"):
        for kw in ({}, {"padding_idx": 3}, {"scale_grad_by_freq": True}):
            def run(lib):
                w = lib.tensor(np.sin(np.arange(80.0)).reshape(20, 4), dtype=getattr(lib, dtype), requires_grad=True)
                y = lib.nn.functional.embedding(lib.tensor(idx), w, **kw)
                y.backward(lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)), dtype=getattr(lib, dtype)))
                return [w.grad.numpy()]
            _close(*_both(run), 1e-6 if dtype == "float32" else 1e-13, 1e-6 if dtype == "float32" else 1e-13)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_max_pool_non_overlapping_windows(nd, dtype):
    r = np.random.RandomState(10)
    for k in (1, 2, 3):
        for size in (6, 7):
            x = np.round(r.randn(2, 3, *(size,) * nd) * 2)  # many ties: the first in row-major order wins
            x[0, 0].flat[0] = -np.inf if dtype != "int64" else 0
            if dtype == "int64" and nd == 1:
                continue
            for ceil in (False, True):
                def run(lib):
                    v, i = getattr(lib.nn.functional, f"max_pool{nd}d")(
                        lib.tensor(x, dtype=getattr(lib, dtype)), k, return_indices=True, ceil_mode=ceil)
                    return v.numpy(), i.numpy()
                (tv, ti), (ev, ei) = _both(run)
                assert np.array_equal(tv, ev) and np.array_equal(ti, ei)


def test_linear_folds_leading_dims_into_one_gemm():
    r = np.random.RandomState(11)
    xa, wa, ba = r.randn(4, 3, 5), r.randn(6, 5), r.randn(6)

    def run(lib):
        x = lib.tensor(xa, requires_grad=True).transpose(0, 1)  # non-contiguous 3-D input
        w, b = lib.tensor(wa, requires_grad=True), lib.tensor(ba, requires_grad=True)
        y = lib.nn.functional.linear(x, w, b)
        gs = lib.autograd.grad(y, (x, w, b), lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape))),
                               create_graph=True)
        h = lib.autograd.grad(sum((g * g).sum() for g in gs), (w,))
        return [y.detach().numpy()] + [g.detach().numpy() for g in gs] + [h[0].numpy()], y.stride()
    (t, ts), (e, es) = _both(run)
    _close(t, e, 1e-12, 1e-12)
    assert ts == es


# ---------------------------------------------------------------- softmax / log_softmax backward as one op
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_backward_data_ops(fn, dim, dtype):
    xa = np.random.RandomState(12).randn(3, 4, 5)
    up = np.cos(np.arange(60)).reshape(3, 4, 5)

    def run(lib):
        d = getattr(lib, dtype)
        x = lib.tensor(xa, dtype=d, requires_grad=True)
        y = getattr(lib, fn)(x, dim)
        (g,) = lib.autograd.grad((y * y * lib.tensor(up, dtype=d)).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g * g).sum(), x)
        names = [type(g.grad_fn).__name__] + [type(n[0]).__name__ for n in g.grad_fn.next_functions]
        return [y.detach().numpy(), g.detach().numpy(), gg.numpy()], names
    (ta, tn), (ea, en) = _both(run)
    tol = 1e-13 if dtype == "float64" else 1e-5
    _close(ta, ea, tol, tol)
    assert tn == en
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    f = lambda t: getattr(ember, fn)(t, dim % 2)  # noqa: E731
    assert ember.autograd.gradcheck(f, (x,)) and ember.autograd.gradgradcheck(f, (x,))


def test_gelu_large_blocks_threads_match_torch_and_each_other():
    """Large float32 GELU runs in cache-sized blocks over the intra-op threads: the result and gradient
    match torch and do not depend on the thread count (elementwise work, no reductions)."""
    x = np.random.default_rng(3).standard_normal((300, 700)).astype(np.float32) * 3
    g = np.random.default_rng(4).standard_normal((300, 700)).astype(np.float32)
    res = []
    for n in (1, 2):
        old = ember.get_num_threads()
        ember.set_num_threads(n)
        try:
            xe = ember.tensor(x, requires_grad=True)
            y = ember.nn.functional.gelu(xe)
            y.backward(ember.tensor(g))
            res.append((y.detach().numpy(), xe.grad.numpy()))
        finally:
            ember.set_num_threads(old)
    np.testing.assert_array_equal(res[0][0], res[1][0])
    np.testing.assert_array_equal(res[0][1], res[1][1])
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.gelu(xt)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(res[1][0], yt.detach().numpy(), rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(res[1][1], xt.grad.numpy(), rtol=2e-5, atol=2e-5)
