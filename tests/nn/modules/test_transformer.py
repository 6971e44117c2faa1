"""Transformer layers against torch: post/pre-norm, activations, masks, batch_first, stacks, the full model."""
import warnings

import numpy as np
import pytest

import ember
from tests.nn.modules._harness import check, same_error, torch

rng = np.random.default_rng(7)


def x(*shape):
    return rng.standard_normal(shape)


D, H, FF = 8, 2, 16


def enc_layer(**kw):
    return lambda lib: lib.nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, **kw)


def dec_layer(**kw):
    return lambda lib: lib.nn.TransformerDecoderLayer(D, H, FF, dropout=0.0, **kw)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kw", [{}, dict(norm_first=True), dict(activation="gelu"), dict(batch_first=True),
                                dict(bias=False, layer_norm_eps=1e-3), dict(activation="relu", norm_first=True,
                                                                            batch_first=True)])
def test_encoder_layer(kw, dtype):
    check(enc_layer(**kw), [x(5, 3, D)], dtype)


def test_encoder_layer_callable_activation_and_masks():
    check(lambda lib: lib.nn.TransformerEncoderLayer(D, H, FF, 0.0, activation=lib.nn.GELU(approximate="tanh")),
          [x(5, 3, D)])
    mask = np.triu(np.full((5, 5), -np.inf), 1)
    kpm = np.zeros((3, 5), bool)
    kpm[1, 3:] = True
    check(enc_layer(), [x(5, 3, D)], kwargs=dict(src_mask=mask, src_key_padding_mask=kpm))
    check(enc_layer(), [x(5, 3, D)], kwargs=dict(src_mask=mask), call=lambda m, xs, kw: m(*xs, is_causal=True, **kw))
    check(enc_layer(), [x(5, D)])  # unbatched


@pytest.mark.parametrize("kw", [{}, dict(norm_first=True), dict(batch_first=True, activation="gelu")])
def test_decoder_layer(kw):
    bf = kw.get("batch_first", False)
    tgt, mem = (x(3, 4, D), x(3, 6, D)) if bf else (x(4, 3, D), x(6, 3, D))
    tmask = np.triu(np.full((4, 4), -np.inf), 1)
    mkpm = np.zeros((3, 6), bool)
    mkpm[0, 4:] = True
    check(dec_layer(**kw), [tgt, mem])
    check(dec_layer(**kw), [tgt, mem], kwargs=dict(tgt_mask=tmask, memory_key_padding_mask=mkpm))


def test_encoder_decoder_stacks():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda lib: lib.nn.TransformerEncoder(enc_layer()(lib), 2, norm=lib.nn.LayerNorm(D)), [x(5, 2, D)])
        check(lambda lib: lib.nn.TransformerEncoder(enc_layer(batch_first=True)(lib), 2,
                                                    enable_nested_tensor=False), [x(2, 5, D)])
        check(lambda lib: lib.nn.TransformerDecoder(dec_layer()(lib), 2, norm=lib.nn.LayerNorm(D)),
              [x(4, 2, D), x(5, 2, D)])
        mask = np.triu(np.full((4, 4), -np.inf), 1)
        check(lambda lib: lib.nn.TransformerDecoder(dec_layer()(lib), 2), [x(4, 2, D), x(5, 2, D)],
              kwargs=dict(tgt_mask=mask))


def test_encoder_nested_tensor_path_zeroes_padding():
    """torch's inference path drops padded tokens and pads the output with zeros; ember gives the same."""
    kpm = np.zeros((2, 5), bool)
    kpm[1, 3:] = True
    res = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        layer = lib.nn.TransformerEncoderLayer(D, H, FF, 0.0, batch_first=True)
        enc = lib.nn.TransformerEncoder(layer, 2).eval()
        res.append(enc)
    from tests.nn.modules._harness import copy_state
    copy_state(res[0], res[1])
    src = x(2, 5, D).astype(np.float32)
    with torch.no_grad():
        t = res[0](torch.tensor(src), src_key_padding_mask=torch.tensor(kpm))
    with ember.no_grad():
        e = res[1](ember.tensor(src), src_key_padding_mask=ember.tensor(kpm))
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-4, atol=1e-5)
    assert (e.numpy()[1, 3:] == 0).all()


@pytest.mark.parametrize("kw", [{}, dict(norm_first=True, activation="gelu", batch_first=True)])
def test_transformer(kw):
    bf = kw.get("batch_first", False)
    src, tgt = (x(2, 5, D), x(2, 4, D)) if bf else (x(5, 2, D), x(4, 2, D))

    def ctor(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lib.nn.Transformer(D, H, 2, 1, FF, dropout=0.0, **kw)
    mask = np.triu(np.full((4, 4), -np.inf), 1)
    check(ctor, [src, tgt], kwargs=dict(tgt_mask=mask))


def test_generate_square_subsequent_mask():
    m = ember.nn.Transformer.generate_square_subsequent_mask(4)
    t = torch.nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(m.numpy(), t.numpy())
    assert m.dtype is ember.float32
    assert ember.nn.Transformer.generate_square_subsequent_mask(3, dtype=ember.float64).dtype is ember.float64


def test_transformer_errors_and_init():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mt = torch.nn.Transformer(D, H, 1, 1, FF)
        me = ember.nn.Transformer(D, H, 1, 1, FF)
    assert [(n, tuple(p.shape)) for n, p in me.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in mt.named_parameters()]
    assert repr(me) == repr(mt)
    same_error(lambda: mt(torch.randn(5, 2, D), torch.randn(4, 3, D)),
               lambda: me(ember.randn(5, 2, D), ember.randn(4, 3, D)))
    same_error(lambda: mt(torch.randn(5, 2, D + 1), torch.randn(4, 2, D)),
               lambda: me(ember.randn(5, 2, D + 1), ember.randn(4, 2, D)))
    same_error(lambda: torch.nn.TransformerEncoderLayer(D, H, activation="tanh"),
               lambda: ember.nn.TransformerEncoderLayer(D, H, activation="tanh"))
    # xavier init of every matrix: |w| <= sqrt(6 / (fan_in + fan_out))
    w = me.encoder.layers[0].linear1.weight.detach().numpy()
    assert np.abs(w).max() <= np.sqrt(6 / (D + FF)) + 1e-7


def test_enable_nested_tensor_warning():
    with pytest.warns(UserWarning, match="enable_nested_tensor is True, but self.use_nested_tensor is False because "
                                         r"encoder_layer.self_attn.batch_first was not True"):
        ember.nn.TransformerEncoder(ember.nn.TransformerEncoderLayer(D, H), 1)
    enc = ember.nn.TransformerEncoder(ember.nn.TransformerEncoderLayer(D, H, batch_first=True), 1)
    assert enc.use_nested_tensor is True


def test_dropout_in_training_is_random():
    layer = ember.nn.TransformerEncoderLayer(D, H, FF, dropout=0.5)
    src = ember.randn(5, 2, D)
    a, b = layer(src), layer(src)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(src).detach().numpy(), layer(src).detach().numpy())
