"""MultiheadAttention against torch: projections, masks, bias_kv, zero attention, kdim/vdim, batch_first."""
import warnings

import numpy as np
import pytest

import ember
from tests.nn.modules._harness import check, same_error, torch

rng = np.random.default_rng(1)


def x(*shape):
    return rng.standard_normal(shape)


def mha(**kw):
    return lambda lib: lib.nn.MultiheadAttention(8, 2, **kw)


def call_with(**fixed):
    def call(m, xs, kw):
        kw = dict(kw, **fixed)
        return m(*xs, **kw)
    return call


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kw", [{}, dict(bias=False), dict(add_bias_kv=True), dict(add_zero_attn=True),
                                dict(kdim=5, vdim=3), dict(add_bias_kv=True, add_zero_attn=True, kdim=6)])
def test_cross_attention(kw, dtype):
    kd, vd = kw.get("kdim", 8), kw.get("vdim", 8)
    check(mha(**kw), [x(4, 2, 8), x(6, 2, kd), x(6, 2, vd)], dtype)


@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_self_attention_and_weights(need_weights, average):
    q = x(5, 3, 8)

    def call(m, xs, kw):
        return m(xs[0], xs[0], xs[0], need_weights=need_weights, average_attn_weights=average)
    check(mha(), [q], call=call)


def test_shared_key_value():
    def call(m, xs, kw):
        return m(xs[0], xs[1], xs[1])
    check(mha(), [x(4, 2, 8), x(7, 2, 8)], call=call)


@pytest.mark.parametrize("batch_first", [False, True])
def test_masks(batch_first):
    q, k = (x(2, 4, 8), x(2, 6, 8)) if batch_first else (x(4, 2, 8), x(6, 2, 8))
    kpm = np.array([[False] * 5 + [True], [False] * 3 + [True] * 3])
    am = np.triu(np.ones((4, 6), bool), 3)
    check(mha(batch_first=batch_first), [q, k, k], kwargs=dict(key_padding_mask=kpm, attn_mask=am))
    check(mha(batch_first=batch_first), [q, k, k], kwargs=dict(attn_mask=np.where(am, -1e9, 0.0)))
    am3 = x(4, 4, 6)  # (N * num_heads, L, S) float mask
    check(mha(batch_first=batch_first, add_bias_kv=True), [q, k, k], kwargs=dict(attn_mask=am3))
    check(mha(batch_first=batch_first, add_zero_attn=True), [q, k, k], kwargs=dict(key_padding_mask=kpm))


def test_unbatched():
    check(mha(), [x(4, 8), x(6, 8), x(6, 8)])
    check(mha(), [x(4, 8), x(6, 8), x(6, 8)], kwargs=dict(key_padding_mask=np.array([False] * 4 + [True] * 2)))
    check(mha(), [x(4, 8), x(6, 8), x(6, 8)], kwargs=dict(attn_mask=x(2, 4, 6)))


def test_is_causal_without_weights():
    mask = np.triu(np.full((5, 5), -np.inf), 1)

    def call(m, xs, kw):
        return m(xs[0], xs[0], xs[0], attn_mask=kw["attn_mask"], is_causal=True, need_weights=False)
    check(mha(), [x(5, 2, 8)], kwargs=dict(attn_mask=mask), call=call)


def test_eval_mode_and_dropout():
    check(mha(dropout=0.3), [x(4, 2, 8), x(6, 2, 8), x(6, 2, 8)], train=False, grad=False)
    m = ember.nn.MultiheadAttention(8, 2, dropout=0.5)
    q = ember.randn(4, 2, 8)
    m.eval()
    a = m(q, q, q)[0]
    assert np.array_equal(a.detach().numpy(), m(q, q, q)[0].detach().numpy())


def test_parameters_and_init():
    m = ember.nn.MultiheadAttention(8, 2, add_bias_kv=True)
    t = torch.nn.MultiheadAttention(8, 2, add_bias_kv=True)
    assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    assert float(m.in_proj_bias.abs().sum()) == 0 and float(m.out_proj.bias.abs().sum()) == 0
    bound = np.sqrt(6 / (8 + 24))
    w = m.in_proj_weight.detach().numpy()
    assert w.min() >= -bound and w.max() <= bound
    m2 = ember.nn.MultiheadAttention(8, 2, kdim=4, vdim=3, bias=False)
    assert m2.in_proj_weight is None and m2.in_proj_bias is None and m2.out_proj.bias is None
    assert tuple(m2.k_proj_weight.shape) == (8, 4) and tuple(m2.v_proj_weight.shape) == (8, 3)
    assert repr(m2) == repr(torch.nn.MultiheadAttention(8, 2, kdim=4, vdim=3, bias=False))


@pytest.mark.parametrize("make,run", [
    (lambda lib: lib.nn.MultiheadAttention(8, 3), None),
    (lambda lib: lib.nn.MultiheadAttention(0, 2), None),
    (mha(), lambda lib, m: m(lib.randn(4, 2, 8), lib.randn(6, 8), lib.randn(6, 8))),
    (mha(), lambda lib, m: m(lib.randn(4, 2, 2, 8), lib.randn(6, 8), lib.randn(6, 8))),
    (mha(), lambda lib, m: m(lib.randn(4, 2, 8), lib.randn(6, 2, 8), lib.randn(5, 2, 8))),
    (mha(), lambda lib, m: m(lib.randn(4, 2, 8), lib.randn(6, 2, 8), lib.randn(6, 2, 8),
                             attn_mask=lib.ones(4, 5, dtype=lib.bool))),
    (mha(), lambda lib, m: m(lib.randn(4, 2, 8), lib.randn(6, 2, 8), lib.randn(6, 2, 8),
                             attn_mask=lib.ones(4, 6, dtype=lib.int64))),
    (mha(), lambda lib, m: m(lib.randn(4, 2, 8), lib.randn(6, 2, 8), lib.randn(6, 2, 8),
                             key_padding_mask=lib.zeros(2, 5, dtype=lib.bool))),
    (mha(), lambda lib, m: m(lib.randn(4, 2, 8), lib.randn(6, 2, 8), lib.randn(6, 2, 8), is_causal=True)),
    (mha(), lambda lib, m: m(lib.randn(4, 2, 7), lib.randn(6, 2, 7), lib.randn(6, 2, 7))),
])
def test_errors(make, run):
    if run is None:
        same_error(lambda: make(torch), lambda: make(ember))
    else:
        mt, me = make(torch), make(ember)
        same_error(lambda: run(torch, mt), lambda: run(ember, me), match_msg=False)


def test_mismatched_mask_types_warn():
    m = ember.nn.MultiheadAttention(8, 2)
    q = ember.randn(4, 2, 8)
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
        m(q, q, q, key_padding_mask=ember.zeros(2, 4, dtype=ember.bool), attn_mask=ember.zeros(4, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m(q, q, q, key_padding_mask=ember.zeros(2, 4, dtype=ember.bool), attn_mask=ember.zeros(4, 4, dtype=ember.bool))


def test_functional_form_matches():
    from ember.nn.modules.activation import multi_head_attention_forward as mhf
    m = ember.nn.MultiheadAttention(8, 2)
    q = ember.randn(3, 2, 8)
    out, w = mhf(q, q, q, 8, 2, m.in_proj_weight, m.in_proj_bias, None, None, False, 0.0, m.out_proj.weight,
                 m.out_proj.bias)
    out2, w2 = m(q, q, q)
    np.testing.assert_allclose(out.detach().numpy(), out2.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(w.detach().numpy(), w2.detach().numpy(), rtol=1e-6)


def test_functional_static_kv_and_separate_weights_against_torch():
    from ember.nn.modules.activation import multi_head_attention_forward as mhf
    E, nh, L, S, N = 6, 2, 3, 4, 2
    arrs = dict(q=x(L, N, E), k=x(S, N, E), v=x(S, N, E), wq=x(E, E), wk=x(E, E), wv=x(E, E), b=x(3 * E),
                ow=x(E, E), ob=x(E), sk=x(N * nh, 5, E // nh), sv=x(N * nh, 5, E // nh))
    res = []
    for lib, fn in ((torch, torch.nn.functional.multi_head_attention_forward), (ember, mhf)):
        t = {k: lib.tensor(v, requires_grad=True) for k, v in arrs.items()}
        out, w = fn(t["q"], t["k"], t["v"], E, nh, None, t["b"], None, None, False, 0.0, t["ow"], t["ob"],
                    use_separate_proj_weight=True, q_proj_weight=t["wq"], k_proj_weight=t["wk"],
                    v_proj_weight=t["wv"], static_k=t["sk"], static_v=t["sv"], average_attn_weights=False)
        (out.sum() + (w * w).sum()).backward()
        res.append([out, w] + [t[k].grad for k in ("q", "wq", "b", "sk", "sv", "ow")])
    for a, b in zip(res[1], res[0]):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-7, atol=1e-9)
