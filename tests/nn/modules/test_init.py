"""Seeded initialisation matches torch value for value (same draws, same order, same distributions)."""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

CASES = [
    "nn.Linear(3, 4)", "nn.Bilinear(2, 3, 4)", "nn.Conv1d(2, 3, 3)", "nn.Conv2d(3, 4, 3)", "nn.Conv3d(2, 3, 2)",
    "nn.ConvTranspose1d(2, 3, 3)", "nn.ConvTranspose2d(2, 4, 3, groups=2)", "nn.RNN(3, 4, 2, bidirectional=True)",
    "nn.LSTM(3, 5, proj_size=2)", "nn.GRU(3, 4)", "nn.LSTMCell(3, 4)", "nn.RNNCell(3, 4)", "nn.GRUCell(3, 4)",
    "nn.Embedding(5, 3, padding_idx=1)", "nn.EmbeddingBag(5, 3)", "nn.PReLU(3)",
    "nn.MultiheadAttention(8, 2, add_bias_kv=True, kdim=3, vdim=5)", "nn.TransformerEncoderLayer(8, 2, 16)",
    "nn.TransformerDecoderLayer(8, 2, 16)", "nn.Transformer(8, 2, 1, 1, 16)", "nn.BatchNorm2d(3)",
    "nn.LayerNorm(4)", "nn.GroupNorm(2, 4)", "nn.RMSNorm(3)", "nn.AdaptiveLogSoftmaxWithLoss(8, 15, [4, 10])",
]


@pytest.mark.parametrize("expr", CASES)
def test_seeded_init_matches_torch(expr):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ember.manual_seed(0)
        e = eval(expr, {"nn": ember.nn})
        torch.manual_seed(0)
        t = eval(expr, {"nn": torch.nn})
    es, ts = e.state_dict(), t.state_dict()
    assert list(es) == list(ts)
    for k in ts:
        np.testing.assert_array_equal(es[k].numpy(), ts[k].numpy(), err_msg=k)


@pytest.mark.parametrize("fn", ["spectral_norm", "orthogonal", "weight_norm"])
def test_seeded_parametrizations_match_torch(fn):
    ember.manual_seed(0)
    e = getattr(ember.nn.utils.parametrizations, fn)(ember.nn.Linear(4, 4))
    torch.manual_seed(0)
    t = getattr(torch.nn.utils.parametrizations, fn)(torch.nn.Linear(4, 4))
    for k, v in t.state_dict().items():
        np.testing.assert_allclose(e.state_dict()[k].numpy(), v.numpy(), rtol=1e-6, atol=1e-7, err_msg=k)
    np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_reset_parameters_redraws():
    m = ember.nn.Conv2d(2, 3, 3)
    before = m.weight.detach().numpy().copy()
    m.reset_parameters()
    assert not np.array_equal(before, m.weight.detach().numpy())
    bn = ember.nn.BatchNorm1d(3)
    bn.running_mean.fill_(2.0)
    bn.num_batches_tracked.fill_(5)
    bn.reset_parameters()
    assert bn.running_mean.abs().sum().item() == 0 and bn.num_batches_tracked.item() == 0


@pytest.mark.parametrize("expr,shape", [
    ("nn.LSTM(3, 5, num_layers=3, dropout=0.5)", (4, 2, 3)),
    ("nn.GRU(3, 5, num_layers=2, dropout=0.4, bidirectional=True)", (4, 2, 3)),
    ("nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3)", (5, 2, 8)),
    ("nn.TransformerDecoderLayer(8, 2, 16, dropout=0.3)", (5, 2, 8)),
])
def test_seeded_training_dropout_matches_torch(expr, shape):
    a = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    outs = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        m = eval(expr, {"nn": lib.nn})
        lib.manual_seed(1)
        inp = lib.tensor(a)
        o = m(inp, inp) if "Decoder" in expr else m(inp)
        outs.append((o[0] if isinstance(o, tuple) else o).detach().numpy())
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-6)
