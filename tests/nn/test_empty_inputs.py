"""Layers, losses and functional ops on empty inputs (a batch of 0, and other zero-size dims where torch takes
them) against torch: output shapes, dtypes and values (nan for a mean over nothing), input and parameter gradients
(zeros), running statistics, and the same errors where torch rejects an empty dim."""
import numpy as np
import pytest

import ember
from tests.nn.modules._harness import _flat, _to, assert_close, check, same_error, torch

rng = np.random.default_rng(11)


def x(*shape):
    return rng.standard_normal(shape)


def ints(*shape, high=3):
    return rng.integers(0, high, shape)


def mha_call(**kw):
    return lambda m, xs, k: m(*xs, **kw)


# ---------------------------------------------------------------- layers on a batch of 0 (and other empty dims)
# (id, constructor, inputs, options for check)
MODULES = [
    ("Identity", lambda lib: lib.nn.Identity(), [x(0, 3)], {}),
    ("Linear", lambda lib: lib.nn.Linear(3, 4), [x(0, 3)], {}),
    ("Linear 3d", lambda lib: lib.nn.Linear(3, 4, bias=False), [x(2, 0, 3)], {}),
    ("Linear no in features", lambda lib: lib.nn.Linear(0, 4), [x(2, 0)], {}),
    ("Linear no out features", lambda lib: lib.nn.Linear(3, 0), [x(2, 5, 3)], {}),
    ("Bilinear", lambda lib: lib.nn.Bilinear(3, 2, 4), [x(0, 3), x(0, 2)], {}),
    ("Conv1d", lambda lib: lib.nn.Conv1d(3, 4, 3), [x(0, 3, 7)], {}),
    ("Conv1d groups", lambda lib: lib.nn.Conv1d(4, 4, 3, padding=1, groups=2), [x(0, 4, 7)], {}),
    ("Conv2d", lambda lib: lib.nn.Conv2d(3, 4, 3), [x(0, 3, 5, 5)], {}),
    ("Conv2d strided", lambda lib: lib.nn.Conv2d(3, 4, 3, stride=2, dilation=2, padding=2), [x(0, 3, 6, 6)], {}),
    ("Conv2d depthwise", lambda lib: lib.nn.Conv2d(3, 3, 3, groups=3, padding=1), [x(0, 3, 5, 5)], {}),
    ("Conv2d same", lambda lib: lib.nn.Conv2d(3, 4, 3, padding="same"), [x(0, 3, 5, 5)], {}),
    ("Conv2d reflect", lambda lib: lib.nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), [x(0, 3, 5, 5)], {}),
    ("Conv2d circular", lambda lib: lib.nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular"), [x(0, 3, 5, 5)],
     {}),
    ("Conv3d", lambda lib: lib.nn.Conv3d(2, 3, 2), [x(0, 2, 4, 4, 4)], {}),
    ("ConvTranspose1d", lambda lib: lib.nn.ConvTranspose1d(3, 4, 3, stride=2), [x(0, 3, 5)], {}),
    ("ConvTranspose2d", lambda lib: lib.nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=1), [x(0, 3, 5, 5)],
     {}),
    ("ConvTranspose2d groups", lambda lib: lib.nn.ConvTranspose2d(4, 4, 3, groups=2), [x(0, 4, 5, 5)], {}),
    ("ConvTranspose3d", lambda lib: lib.nn.ConvTranspose3d(2, 3, 2), [x(0, 2, 3, 3, 3)], {}),
    ("MaxPool1d", lambda lib: lib.nn.MaxPool1d(2), [x(0, 3, 6)], {}),
    ("MaxPool1d indices", lambda lib: lib.nn.MaxPool1d(2, return_indices=True), [x(0, 3, 6)], {}),
    ("MaxPool2d indices", lambda lib: lib.nn.MaxPool2d(3, 2, 1, return_indices=True), [x(0, 3, 6, 6)], {}),
    ("MaxPool2d ceil", lambda lib: lib.nn.MaxPool2d(3, 2, ceil_mode=True), [x(0, 3, 7, 7)], {}),
    ("MaxPool3d indices", lambda lib: lib.nn.MaxPool3d(2, return_indices=True), [x(0, 2, 4, 4, 4)], {}),
    ("AvgPool1d", lambda lib: lib.nn.AvgPool1d(2), [x(0, 3, 6)], {}),
    ("AvgPool2d", lambda lib: lib.nn.AvgPool2d(3, 2, 1, count_include_pad=False), [x(0, 3, 6, 6)], {}),
    ("AvgPool2d divisor", lambda lib: lib.nn.AvgPool2d(2, divisor_override=3), [x(0, 3, 6, 6)], {}),
    ("AvgPool3d", lambda lib: lib.nn.AvgPool3d(2), [x(0, 2, 4, 4, 4)], {}),
    ("LPPool2d", lambda lib: lib.nn.LPPool2d(2, 2), [x(0, 3, 6, 6)], {}),
    ("AdaptiveAvgPool1d", lambda lib: lib.nn.AdaptiveAvgPool1d(3), [x(0, 3, 7)], {}),
    ("AdaptiveAvgPool2d", lambda lib: lib.nn.AdaptiveAvgPool2d((2, 3)), [x(0, 3, 7, 6)], {}),
    ("AdaptiveAvgPool3d", lambda lib: lib.nn.AdaptiveAvgPool3d(2), [x(0, 2, 4, 4, 4)], {}),
    ("AdaptiveMaxPool1d", lambda lib: lib.nn.AdaptiveMaxPool1d(3, return_indices=True), [x(0, 3, 7)], {}),
    ("AdaptiveMaxPool2d", lambda lib: lib.nn.AdaptiveMaxPool2d(2, return_indices=True), [x(0, 3, 7, 6)], {}),
    ("AdaptiveMaxPool3d", lambda lib: lib.nn.AdaptiveMaxPool3d(2), [x(0, 2, 4, 4, 4)], {}),
    ("FractionalMaxPool2d", lambda lib: lib.nn.FractionalMaxPool2d(2, output_size=2), [x(0, 3, 5, 5)], {}),
    ("BatchNorm1d", lambda lib: lib.nn.BatchNorm1d(3), [x(0, 3)], {}),
    ("BatchNorm1d 3d", lambda lib: lib.nn.BatchNorm1d(3), [x(0, 3, 4)], {}),
    ("BatchNorm1d no length", lambda lib: lib.nn.BatchNorm1d(3), [x(2, 3, 0)], {}),
    ("BatchNorm1d momentum None", lambda lib: lib.nn.BatchNorm1d(3, momentum=None), [x(0, 3)], {}),
    ("BatchNorm2d", lambda lib: lib.nn.BatchNorm2d(3), [x(0, 3, 4, 4)], {}),
    ("BatchNorm2d no affine", lambda lib: lib.nn.BatchNorm2d(3, affine=False), [x(0, 3, 4, 4)], {}),
    ("BatchNorm2d no stats", lambda lib: lib.nn.BatchNorm2d(3, track_running_stats=False), [x(0, 3, 4, 4)], {}),
    ("BatchNorm2d eval", lambda lib: lib.nn.BatchNorm2d(3), [x(0, 3, 4, 4)], dict(train=False)),
    ("BatchNorm3d", lambda lib: lib.nn.BatchNorm3d(2), [x(0, 2, 2, 2, 2)], {}),
    ("BatchNorm1d no channels", lambda lib: lib.nn.BatchNorm1d(0, affine=False), [x(2, 0)], {}),
    ("LayerNorm", lambda lib: lib.nn.LayerNorm(4), [x(0, 4)], {}),
    ("LayerNorm 2d shape", lambda lib: lib.nn.LayerNorm((3, 4)), [x(0, 3, 4)], {}),
    ("LayerNorm no sequence", lambda lib: lib.nn.LayerNorm(4, bias=False), [x(2, 0, 4)], {}),
    ("GroupNorm", lambda lib: lib.nn.GroupNorm(2, 4), [x(0, 4, 5)], {}),
    ("GroupNorm 4d", lambda lib: lib.nn.GroupNorm(2, 4, affine=False), [x(0, 4, 3, 3)], {}),
    ("InstanceNorm1d", lambda lib: lib.nn.InstanceNorm1d(3), [x(0, 3, 5)], {}),
    ("InstanceNorm1d no length", lambda lib: lib.nn.InstanceNorm1d(3, affine=True, track_running_stats=True),
     [x(2, 3, 0)], {}),
    # torch averages the running stats over the batch's copies: nan for a batch of 0
    ("InstanceNorm2d stats", lambda lib: lib.nn.InstanceNorm2d(3, track_running_stats=True), [x(0, 3, 4, 4)], {}),
    ("InstanceNorm2d stats eval", lambda lib: lib.nn.InstanceNorm2d(3, track_running_stats=True), [x(0, 3, 4, 4)],
     dict(train=False)),
    ("RMSNorm", lambda lib: lib.nn.RMSNorm(4), [x(0, 4)], {}),
    ("RMSNorm 2d shape", lambda lib: lib.nn.RMSNorm([3, 4]), [x(0, 3, 4)], {}),
    ("LocalResponseNorm", lambda lib: lib.nn.LocalResponseNorm(2), [x(0, 3, 4, 4)], {}),
    ("LocalResponseNorm 3d", lambda lib: lib.nn.LocalResponseNorm(2), [x(0, 3, 4)], {}),
    ("CrossMapLRN2d", lambda lib: lib.nn.CrossMapLRN2d(3), [x(0, 3, 4, 4)], {}),
    ("Dropout", lambda lib: lib.nn.Dropout(0.5), [x(0, 4)], {}),
    ("Dropout1d", lambda lib: lib.nn.Dropout1d(0.5), [x(0, 3, 4)], {}),
    ("Dropout2d", lambda lib: lib.nn.Dropout2d(0.5), [x(0, 3, 4, 4)], {}),
    ("Dropout3d", lambda lib: lib.nn.Dropout3d(0.5), [x(0, 3, 2, 2, 2)], {}),
    ("AlphaDropout", lambda lib: lib.nn.AlphaDropout(0.5), [x(0, 4)], {}),
    ("FeatureAlphaDropout", lambda lib: lib.nn.FeatureAlphaDropout(0.5), [x(0, 3, 4)], {}),
    ("Embedding", lambda lib: lib.nn.Embedding(5, 3), [ints(0, 4)], {}),
    ("Embedding padding", lambda lib: lib.nn.Embedding(5, 3, padding_idx=0, scale_grad_by_freq=True),
     [ints(2, 0)], {}),
    ("Embedding max_norm", lambda lib: lib.nn.Embedding(5, 3, max_norm=1.0), [ints(0)], {}),
    ("Embedding no features", lambda lib: lib.nn.Embedding(5, 0), [ints(2, 3)], {}),
    ("EmbeddingBag mean", lambda lib: lib.nn.EmbeddingBag(5, 3), [ints(0, 4)], {}),
    ("EmbeddingBag max", lambda lib: lib.nn.EmbeddingBag(5, 3, mode="max"), [ints(0, 4)], {}),
    ("EmbeddingBag empty bags", lambda lib: lib.nn.EmbeddingBag(5, 3), [ints(0), np.array([0, 0, 0])], {}),
    ("EmbeddingBag some empty", lambda lib: lib.nn.EmbeddingBag(5, 3, mode="max"),
     [np.array([1, 2, 3]), np.array([0, 0, 2])], {}),
    ("EmbeddingBag last offset", lambda lib: lib.nn.EmbeddingBag(5, 3, include_last_offset=True),
     [ints(0), np.array([0, 0, 0])], {}),
    ("EmbeddingBag weights", lambda lib: lib.nn.EmbeddingBag(5, 3, mode="sum"), [ints(0, 4)],
     dict(kwargs={"per_sample_weights": x(0, 4)})),
    ("MultiheadAttention", lambda lib: lib.nn.MultiheadAttention(4, 2), [x(3, 0, 4)] * 3, {}),
    ("MultiheadAttention batch_first", lambda lib: lib.nn.MultiheadAttention(4, 2, batch_first=True),
     [x(0, 3, 4)] * 3, {}),
    ("MultiheadAttention no query", lambda lib: lib.nn.MultiheadAttention(4, 2, batch_first=True),
     [x(2, 0, 4), x(2, 3, 4), x(2, 3, 4)], {}),
    ("MultiheadAttention no keys", lambda lib: lib.nn.MultiheadAttention(4, 2, batch_first=True),
     [x(2, 3, 4), x(2, 0, 4), x(2, 0, 4)], {}),
    ("MultiheadAttention kdim vdim", lambda lib: lib.nn.MultiheadAttention(4, 2, kdim=3, vdim=5),
     [x(3, 0, 4), x(2, 0, 3), x(2, 0, 5)], {}),
    ("MultiheadAttention bias_kv zero_attn",
     lambda lib: lib.nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True), [x(3, 0, 4)] * 3, {}),
    ("MultiheadAttention per-head weights", lambda lib: lib.nn.MultiheadAttention(4, 2, batch_first=True),
     [x(0, 3, 4)] * 3, dict(call=mha_call(average_attn_weights=False))),
    ("MultiheadAttention padding mask", lambda lib: lib.nn.MultiheadAttention(4, 2, batch_first=True),
     [x(0, 3, 4)] * 3, dict(kwargs={"key_padding_mask": np.zeros((0, 3), dtype=bool)})),
    ("MultiheadAttention self no weights", lambda lib: lib.nn.MultiheadAttention(4, 2, batch_first=True),
     [x(0, 3, 4)], dict(call=lambda m, xs, k: m(xs[0], xs[0], xs[0], need_weights=False))),
    ("MultiheadAttention self no weights eval", lambda lib: lib.nn.MultiheadAttention(4, 2, batch_first=True),
     [x(0, 3, 4)], dict(train=False, call=lambda m, xs, k: m(xs[0], xs[0], xs[0], need_weights=False))),
    ("TransformerEncoderLayer", lambda lib: lib.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0), [x(3, 0, 4)], {}),
    ("TransformerEncoderLayer batch_first",
     lambda lib: lib.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True), [x(0, 3, 4)], {}),
    ("TransformerEncoderLayer norm_first",
     lambda lib: lib.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True, norm_first=True),
     [x(0, 3, 4)], {}),
    ("TransformerEncoderLayer no sequence",
     lambda lib: lib.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True), [x(2, 0, 4)], {}),
    ("TransformerEncoder eval",
     lambda lib: lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True),
                                           2), [x(0, 3, 4)], dict(train=False)),
    ("TransformerDecoderLayer",
     lambda lib: lib.nn.TransformerDecoderLayer(4, 2, 8, dropout=0.0, batch_first=True), [x(0, 3, 4), x(0, 2, 4)],
     {}),
    ("Transformer", lambda lib: lib.nn.Transformer(4, 2, 1, 1, 8, dropout=0.0, batch_first=True),
     [x(0, 3, 4), x(0, 2, 4)], {}),
    ("Flatten", lambda lib: lib.nn.Flatten(), [x(0, 3, 4)], {}),
    ("Flatten all", lambda lib: lib.nn.Flatten(0), [x(0, 3, 4)], {}),
    ("Unflatten", lambda lib: lib.nn.Unflatten(1, (2, 3)), [x(0, 6)], {}),
    ("ChannelShuffle", lambda lib: lib.nn.ChannelShuffle(2), [x(0, 4, 3, 3)], {}),
    ("Upsample nearest", lambda lib: lib.nn.Upsample(scale_factor=2), [x(0, 3, 4, 4)], {}),
    ("Upsample nearest-exact", lambda lib: lib.nn.Upsample(size=5, mode="nearest-exact"), [x(0, 3, 4, 4)], {}),
    ("Upsample linear", lambda lib: lib.nn.Upsample(scale_factor=2, mode="linear"), [x(0, 3, 4)], {}),
    ("Upsample bilinear", lambda lib: lib.nn.Upsample(size=(5, 7), mode="bilinear", align_corners=True),
     [x(0, 3, 4, 4)], {}),
    ("Upsample bicubic", lambda lib: lib.nn.Upsample(scale_factor=2, mode="bicubic"), [x(0, 3, 4, 4)], {}),
    ("Upsample trilinear", lambda lib: lib.nn.Upsample(scale_factor=2, mode="trilinear"), [x(0, 2, 2, 2, 2)], {}),
    ("Fold", lambda lib: lib.nn.Fold((4, 4), 2), [x(0, 12, 9)], {}),
    ("Unfold", lambda lib: lib.nn.Unfold(3, padding=1, stride=2), [x(0, 3, 5, 5)], {}),
    ("ZeroPad2d", lambda lib: lib.nn.ZeroPad2d(1), [x(0, 3, 4, 4)], {}),
    ("ReflectionPad2d", lambda lib: lib.nn.ReflectionPad2d(1), [x(0, 3, 4, 4)], {}),
    ("ReplicationPad3d", lambda lib: lib.nn.ReplicationPad3d(1), [x(0, 2, 2, 2, 2)], {}),
    ("CircularPad2d", lambda lib: lib.nn.CircularPad2d(1), [x(0, 3, 4, 4)], {}),
    ("CircularPad1d no channels", lambda lib: lib.nn.CircularPad1d(1), [x(2, 0, 4)], {}),
    ("PReLU", lambda lib: lib.nn.PReLU(3), [x(0, 3, 4)], {}),
    ("Softmax2d", lambda lib: lib.nn.Softmax2d(), [x(0, 3, 4, 4)], {}),
    ("PairwiseDistance", lambda lib: lib.nn.PairwiseDistance(), [x(0, 4), x(0, 4)], {}),
    ("CosineSimilarity", lambda lib: lib.nn.CosineSimilarity(), [x(0, 4), x(0, 4)], {}),
    ("Sequential", lambda lib: lib.nn.Sequential(lib.nn.Conv2d(3, 4, 3), lib.nn.ReLU(), lib.nn.Flatten(),
                                                 lib.nn.Linear(36, 2)), [x(0, 3, 5, 5)], {}),
]

ACTIVATIONS = ["ReLU", "RReLU", "Hardtanh", "ReLU6", "Sigmoid", "Hardsigmoid", "Tanh", "SiLU", "Mish", "Hardswish",
               "ELU", "CELU", "SELU", "GELU", "Hardshrink", "LeakyReLU", "LogSigmoid", "Softplus", "Softshrink",
               "Softsign", "Tanhshrink", "Softmin", "Softmax", "LogSoftmax", "GLU", "Threshold"]


def _activation(name):
    args = {"Softmin": (1,), "Softmax": (1,), "LogSoftmax": (1,), "Threshold": (0.1, 2.0)}.get(name, ())
    return lambda lib: getattr(lib.nn, name)(*args)


@pytest.mark.parametrize("name,ctor,inputs,opts", MODULES, ids=[c[0] for c in MODULES])
def test_module(name, ctor, inputs, opts):
    check(ctor, inputs, **opts)


# the compiled float32 kernels (conv, attention, norms) take other routes than float64
FLOAT32 = ["Linear", "Conv2d", "Conv2d depthwise", "ConvTranspose2d", "MaxPool2d indices", "BatchNorm2d",
           "LayerNorm", "GroupNorm", "MultiheadAttention batch_first", "MultiheadAttention self no weights",
           "TransformerEncoderLayer no sequence", "Upsample bilinear"]


@pytest.mark.parametrize("name", FLOAT32)
def test_module_float32(name):
    _, ctor, inputs, opts = next(c for c in MODULES if c[0] == name)
    check(ctor, inputs, "float32", **opts)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("shape", [(0, 4), (0, 0)], ids=["batch0", "all0"])
def test_activation(name, shape):
    if name == "GLU" and shape == (0, 0):
        shape = (0, 2, 0)
    check(_activation(name), [x(*shape)])


# ---------------------------------------------------------------- functional forms
def _run(lib, fn, inputs, dtype, grad):
    xs = [_to(lib, a, dtype, grad) for a in inputs]
    return xs, fn(lib, *xs)


def check_fn(fn, inputs, dtype="float64", grad=True):
    """``fn(lib, *tensors)`` in torch and ember: the same outputs, then the same input gradients of a weighted sum
    of the floating outputs."""
    t_in, t_out = _run(torch, fn, inputs, dtype, grad)
    e_in, e_out = _run(ember, fn, inputs, dtype, grad)
    t_flat, e_flat = _flat(t_out), _flat(e_out)
    assert len(t_flat) == len(e_flat)
    for i, (e, t) in enumerate(zip(e_flat, t_flat)):
        assert_close(e, t, dtype, f"output {i}")
    if not grad:
        return
    t_loss = e_loss = None
    for e, t in zip(e_flat, t_flat):
        if t.requires_grad and t.dtype.is_floating_point:
            w = rng.standard_normal(tuple(t.shape))
            tl, el = (t * torch.tensor(w, dtype=t.dtype)).sum(), (e * ember.tensor(w, dtype=e.dtype)).sum()
            t_loss, e_loss = (tl, el) if t_loss is None else (t_loss + tl, e_loss + el)
    if t_loss is None:
        return
    t_loss.backward()
    e_loss.backward()
    for i, (e, t) in enumerate(zip(e_in, t_in)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            assert (e.grad is None) == (t.grad is None), f"input {i} grad presence"
            if t.grad is not None:
                assert_close(e.grad, t.grad, dtype, f"input {i} grad")


def F(name, *args, **kw):
    return lambda lib, *xs: getattr(lib.nn.functional, name)(*xs, *args, **kw)


FUNCTIONS = [
    ("softmax", F("softmax", dim=1), [x(0, 3)]),
    ("softmax empty dim", F("softmax", dim=-1), [x(3, 0)]),
    ("log_softmax empty dim", F("log_softmax", dim=-1), [x(3, 0)]),
    ("softmin", F("softmin", dim=0), [x(0, 3)]),
    ("softmax dtype", lambda lib, a: lib.nn.functional.softmax(a, 1, dtype=lib.float32), [x(0, 3)]),
    ("gumbel_softmax hard", F("gumbel_softmax", hard=True), [x(0, 3)]),
    ("pad constant", F("pad", (1, 2, 0, 1), value=3.0), [x(0, 3, 4, 4)]),
    ("pad reflect", F("pad", (1, 2), mode="reflect"), [x(0, 3, 4)]),
    ("pad replicate", F("pad", (1, 1, 1, 1), mode="replicate"), [x(0, 3, 4, 4)]),
    ("pad circular", F("pad", (1, 1, 1, 1), mode="circular"), [x(0, 3, 4, 4)]),
    # circular padding takes empty dims that it does not wrap around (reflect / replicate reject them)
    ("pad circular no channels", F("pad", (1, 1), mode="circular"), [x(2, 0, 4)]),
    ("pad circular no channels 2d", F("pad", (1, 1, 1, 1), mode="circular"), [x(2, 0, 4, 4)]),
    ("pad circular unbatched", F("pad", (-1, 2), mode="circular"), [x(0, 4)]),
    ("pad circular empty unpadded dim", F("pad", (1, 1, 0, 0), mode="circular"), [x(2, 3, 0, 4)]),
    ("pad crop", F("pad", (-1, -1)), [x(0, 3, 4)]),
    ("unfold", F("unfold", 2), [x(0, 3, 4, 4)]),
    ("fold", F("fold", (3, 3), 2), [x(0, 8, 4)]),
    ("normalize", F("normalize"), [x(0, 3)]),
    ("normalize inf", F("normalize", p=float("inf")), [x(0, 3)]),
    ("normalize empty dim", F("normalize"), [x(3, 0)]),
    ("cosine_similarity", F("cosine_similarity"), [x(0, 3), x(0, 3)]),
    ("cosine_similarity broadcast", F("cosine_similarity"), [x(0, 3), x(1, 3)]),
    ("cosine_similarity empty dim", F("cosine_similarity"), [x(3, 0), x(3, 0)]),
    ("pairwise_distance", F("pairwise_distance", keepdim=True), [x(0, 3), x(0, 3)]),
    ("pairwise_distance p1", F("pairwise_distance", p=1.0), [x(0, 3), x(0, 3)]),
    ("pairwise_distance inf", F("pairwise_distance", p=float("inf")), [x(0, 3), x(0, 3)]),
    ("pairwise_distance empty dim", F("pairwise_distance"), [x(3, 0), x(3, 0)]),
    ("one_hot", lambda lib, t: lib.nn.functional.one_hot(t, 4), [ints(0, 3)]),
    ("sdpa", F("scaled_dot_product_attention"), [x(0, 2, 3, 4)] * 3),
    ("sdpa 3d", F("scaled_dot_product_attention"), [x(0, 3, 4)] * 3),
    ("sdpa no queries", F("scaled_dot_product_attention"), [x(2, 2, 0, 4), x(2, 2, 3, 4), x(2, 2, 3, 4)]),
    ("sdpa no keys", F("scaled_dot_product_attention"), [x(2, 2, 3, 4), x(2, 2, 0, 4), x(2, 2, 0, 4)]),
    ("sdpa no features", F("scaled_dot_product_attention"), [x(2, 2, 3, 0), x(2, 2, 3, 0), x(2, 2, 3, 0)]),
    # no features: every score is 0, so each query takes the mean of the values
    ("sdpa no qk features", F("scaled_dot_product_attention"), [x(2, 2, 3, 0), x(2, 2, 4, 0), x(2, 2, 4, 5)]),
    ("sdpa no qk features causal", F("scaled_dot_product_attention", is_causal=True),
     [x(2, 3, 0), x(2, 4, 0), x(2, 4, 5)]),
    ("sdpa causal", F("scaled_dot_product_attention", is_causal=True), [x(0, 2, 3, 4)] * 3),
    ("sdpa causal no sequence", F("scaled_dot_product_attention", is_causal=True), [x(2, 2, 0, 4)] * 3),
    ("sdpa bool mask", lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(
        q, k, v, lib.tensor(np.tril(np.ones((3, 3), dtype=bool)))), [x(0, 2, 3, 4)] * 3),
    ("sdpa bool mask no keys", lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(
        q, k, v, lib.ones(3, 0, dtype=lib.bool)), [x(2, 2, 3, 4), x(2, 2, 0, 4), x(2, 2, 0, 4)]),
    ("sdpa gqa", F("scaled_dot_product_attention", enable_gqa=True), [x(0, 4, 3, 4), x(0, 2, 3, 4), x(0, 2, 3, 4)]),
    ("interpolate area", F("interpolate", size=(2, 2), mode="area"), [x(0, 3, 4, 4)]),
    ("interpolate bilinear antialias", F("interpolate", size=(2, 2), mode="bilinear", antialias=True),
     [x(0, 3, 4, 4)]),
    ("grid_sample", F("grid_sample", align_corners=False), [x(0, 3, 4, 4), x(0, 2, 2, 2)]),
    ("linear 1d no features", F("linear"), [x(0), x(4, 0), x(4)]),
    ("linear 3d no features", F("linear"), [x(2, 3, 0), x(4, 0), x(4)]),
    ("linear no outputs", F("linear"), [x(2, 3, 3), x(0, 3), x(0)]),
    ("linear vector weight", F("linear"), [x(0, 3), x(3)]),
    ("linear vector weight 3d", F("linear"), [x(2, 3, 0), x(0)]),
    ("linear vector weight nonempty", F("linear"), [x(2, 2, 3), x(3)]),
    ("linear vectors", F("linear"), [x(3), x(3)]),
    ("embedding no features", lambda lib, w: lib.nn.functional.embedding(lib.tensor([[1, 2]]), w), [x(5, 0)]),
    ("embedding_bag offsets", lambda lib, w: lib.nn.functional.embedding_bag(
        lib.tensor(ints(0)), w, lib.tensor(ints(0))), [x(5, 3)]),
    ("batch_norm train", lambda lib, a: lib.nn.functional.batch_norm(a, None, None, training=True), [x(0, 3, 3)]),
    ("instance_norm", F("instance_norm"), [x(0, 3, 3)]),
    ("local_response_norm 5d", F("local_response_norm", 2), [x(0, 3, 2, 2, 2)]),
    ("layer_norm", lambda lib, a, w, b: lib.nn.functional.layer_norm(a, (3,), w, b), [x(0, 3), x(3), x(3)]),
    ("group_norm", F("group_norm", 1), [x(0, 3, 2)]),
    ("rms_norm", F("rms_norm", (3,)), [x(0, 3)]),
    ("prelu", F("prelu"), [x(0, 3, 2), x(3)]),
    ("glu", F("glu", 0), [x(0, 4)]),
    ("dropout2d no channels", F("dropout2d", 0.5), [x(2, 0, 4, 4)]),
    ("alpha_dropout", F("alpha_dropout", 0.5, True), [x(0, 3)]),
    ("rrelu", F("rrelu", training=True), [x(0, 3)]),
    ("conv2d", F("conv2d"), [x(0, 3, 4, 4), x(4, 3, 2, 2), x(4)]),
    ("conv_transpose2d", F("conv_transpose2d", stride=2), [x(0, 3, 4, 4), x(3, 2, 2, 2)]),
    ("adaptive_avg_pool2d unbatched", F("adaptive_avg_pool2d", 2), [x(0, 4, 4)]),
    ("adaptive_max_pool2d unbatched", F("adaptive_max_pool2d", 2), [x(0, 4, 4)]),
    ("pixel_shuffle", F("pixel_shuffle", 2), [x(0, 8, 3, 3)]),
]


@pytest.mark.parametrize("name,fn,inputs", FUNCTIONS, ids=[c[0] for c in FUNCTIONS])
def test_functional(name, fn, inputs):
    # torch's pixel_shuffle backward fails on an empty input (see test_pixel_shuffle_backward)
    check_fn(fn, inputs, grad=name != "pixel_shuffle")


@pytest.mark.parametrize("name", ["sdpa", "sdpa no keys", "sdpa no qk features", "sdpa causal no sequence",
                                  "linear no outputs", "conv2d", "softmax empty dim"])
def test_functional_float32(name):
    _, fn, inputs = next(c for c in FUNCTIONS if c[0] == name)
    check_fn(fn, inputs, "float32")


def test_pdist():
    # forward only: torch's pdist backward crashes the process on an empty input
    check_fn(F("pdist"), [x(0, 3)], grad=False)
    a = ember.tensor(x(0, 3), requires_grad=True)
    ember.nn.functional.pdist(a).sum().backward()
    assert a.grad.shape == (0, 3)


# ---------------------------------------------------------------- errors: where torch rejects an empty dim
def T(lib, *shape, rg=False):
    return lib.tensor(x(*shape), dtype=lib.float64, requires_grad=rg)


def T32(lib, *shape):
    """A float32 input, for layers (float32 parameters)."""
    return lib.tensor(x(*shape), dtype=lib.float32)


def backward(fn):
    """``fn``'s output (or first output) summed and differentiated: for torch's errors raised in backward."""
    def run(lib):
        a = T(lib, *fn.shape, rg=True)
        out = fn(lib, a)
        (out[0] if isinstance(out, tuple) else out).sum().backward()
    return run


def fwd(shape, body):
    body.shape = shape
    return body


def _mha_masked(lib):
    m = lib.nn.MultiheadAttention(4, 2, batch_first=True)
    q = T(lib, 0, 3, 4)
    return m(q, q, q, key_padding_mask=lib.zeros(0, 3, dtype=lib.bool), need_weights=False)


def _ctc(T_, N, C, **kw):
    def run(lib):
        lp = T(lib, T_, N, C).log_softmax(-1)
        return lib.nn.functional.ctc_loss(lp, lib.zeros(N, 2, dtype=lib.int64), lib.full((N,), T_, dtype=lib.int64),
                                          lib.ones(N, dtype=lib.int64), **kw)
    return run


ERRORS = [
    # conv: an empty batch or no channels, but no other empty dim; and at least `groups` filters
    ("conv2d no rows", lambda lib: lib.nn.functional.conv2d(T(lib, 2, 3, 0, 4), T(lib, 4, 3, 1, 1), padding=1)),
    ("conv2d unbatched no rows",
     lambda lib: lib.nn.functional.conv2d(T(lib, 3, 0, 4), T(lib, 4, 3, 1, 1), padding=1)),
    ("conv1d no length", lambda lib: lib.nn.functional.conv1d(T(lib, 2, 3, 0), T(lib, 4, 3, 1), padding=1)),
    ("conv1d no length kernel", lambda lib: lib.nn.functional.conv1d(T(lib, 2, 3, 0), T(lib, 4, 3, 1))),
    ("conv3d no depth", lambda lib: lib.nn.functional.conv3d(T(lib, 2, 3, 0, 2, 2), T(lib, 4, 3, 1, 1, 1),
                                                              padding=1)),
    ("conv_transpose1d no length", lambda lib: lib.nn.functional.conv_transpose1d(T(lib, 2, 3, 0), T(lib, 3, 4, 2))),
    ("conv_transpose2d no rows", lambda lib: lib.nn.functional.conv_transpose2d(T(lib, 2, 3, 0, 2),
                                                                                T(lib, 3, 4, 2, 2))),
    ("conv2d no filters", lambda lib: lib.nn.functional.conv2d(T(lib, 0, 3, 4, 4), T(lib, 0, 3, 2, 2))),
    ("conv1d no filters", lambda lib: lib.nn.functional.conv1d(T(lib, 2, 3, 4), T(lib, 0, 3, 2))),
    ("conv2d fewer filters than groups",
     lambda lib: lib.nn.functional.conv2d(T(lib, 2, 3, 4, 4), T(lib, 1, 3, 2, 2), groups=3)),
    ("Conv2d no out channels", lambda lib: lib.nn.Conv2d(3, 0, 2)(T32(lib, 2, 3, 4, 4))),
    ("conv_transpose2d no in channels",
     lambda lib: lib.nn.functional.conv_transpose2d(T(lib, 2, 0, 4, 4), T(lib, 0, 3, 2, 2))),
    # interpolation: no channels is rejected, an empty batch is not
    ("interpolate nearest no channels", lambda lib: lib.nn.functional.interpolate(T(lib, 2, 0, 4), scale_factor=2)),
    ("interpolate nearest-exact no channels",
     lambda lib: lib.nn.functional.interpolate(T(lib, 0, 0, 4, 4), size=3, mode="nearest-exact")),
    ("interpolate linear no channels",
     lambda lib: lib.nn.functional.interpolate(T(lib, 2, 0, 4), scale_factor=2, mode="linear")),
    ("interpolate bilinear no channels",
     lambda lib: lib.nn.functional.interpolate(T(lib, 2, 0, 4, 4), scale_factor=2, mode="bilinear")),
    ("interpolate bilinear antialias no channels", lambda lib: lib.nn.functional.interpolate(
        T(lib, 2, 0, 4, 4), size=3, mode="bilinear", antialias=True)),
    ("interpolate bicubic no channels",
     lambda lib: lib.nn.functional.interpolate(T(lib, 2, 0, 4, 4), scale_factor=2, mode="bicubic")),
    ("interpolate trilinear no channels",
     lambda lib: lib.nn.functional.interpolate(T(lib, 2, 0, 2, 2, 2), scale_factor=2, mode="trilinear")),
    ("Upsample bilinear no channels",
     lambda lib: lib.nn.Upsample(scale_factor=2, mode="bilinear")(T(lib, 2, 0, 4, 4))),
    ("interpolate linear no length", lambda lib: lib.nn.functional.interpolate(T(lib, 0, 3, 0), size=3,
                                                                               mode="linear")),
    ("interpolate bilinear no rows", lambda lib: lib.nn.functional.interpolate(T(lib, 2, 3, 0, 4), size=3,
                                                                               mode="bilinear")),
    ("interpolate area no rows", lambda lib: lib.nn.functional.interpolate(T(lib, 2, 3, 0, 4), size=3, mode="area")),
    ("interpolate area no channels backward",
     backward(fwd((2, 0, 4, 4), lambda lib, a: lib.nn.functional.interpolate(a, size=2, mode="area")))),
    # adaptive pooling: max (and avg 3d) reject no channels; avg 1d/2d only empty pooled dims, but their gradient
    # rejects no channels and an output size of 0
    ("adaptive_max_pool1d no channels", lambda lib: lib.nn.functional.adaptive_max_pool1d(T(lib, 2, 0, 3), 2)),
    ("AdaptiveMaxPool2d no channels", lambda lib: lib.nn.AdaptiveMaxPool2d(2)(T(lib, 0, 0, 3, 3))),
    ("adaptive_max_pool3d no channels", lambda lib: lib.nn.functional.adaptive_max_pool3d(T(lib, 2, 0, 3, 3, 0), 2)),
    ("adaptive_avg_pool3d no channels", lambda lib: lib.nn.AdaptiveAvgPool3d(2)(T(lib, 2, 0, 3, 3, 3))),
    ("adaptive_avg_pool1d no length", lambda lib: lib.nn.functional.adaptive_avg_pool1d(T(lib, 2, 0, 0), 2)),
    ("adaptive_avg_pool2d no rows", lambda lib: lib.nn.functional.adaptive_avg_pool2d(T(lib, 2, 3, 0, 3), 2)),
    ("adaptive_avg_pool1d no channels backward",
     backward(fwd((2, 0, 3), lambda lib, a: lib.nn.functional.adaptive_avg_pool1d(a, 2)))),
    ("adaptive_avg_pool1d unbatched size 0 backward",
     backward(fwd((0, 3), lambda lib, a: lib.nn.functional.adaptive_avg_pool1d(a, 0)))),
    ("AdaptiveAvgPool2d no channels backward",
     backward(fwd((2, 0, 4, 4), lambda lib, a: lib.nn.AdaptiveAvgPool2d(2)(a)))),
    ("adaptive_avg_pool2d size 0 backward",
     backward(fwd((0, 2, 3, 3), lambda lib, a: lib.nn.functional.adaptive_avg_pool2d(a, 0)))),
    ("adaptive_avg_pool3d unbatched size 0 backward",
     backward(fwd((0, 3, 3, 3), lambda lib, a: lib.nn.functional.adaptive_avg_pool3d(a, 0)))),
    ("adaptive_max_pool1d size 0 backward",
     backward(fwd((0, 2, 3), lambda lib, a: lib.nn.functional.adaptive_max_pool1d(a, 0)))),
    ("adaptive_max_pool2d size 0 backward",
     backward(fwd((2, 3, 3), lambda lib, a: lib.nn.functional.adaptive_max_pool2d(a, 0, return_indices=True)))),
    ("adaptive_max_pool3d size 0 backward",
     backward(fwd((0, 2, 3, 3, 3), lambda lib, a: lib.nn.functional.adaptive_max_pool3d(a, 0)))),
    # fractional max pooling: every dim but the first must be non-empty
    ("fractional_max_pool2d no channels",
     lambda lib: lib.nn.functional.fractional_max_pool2d(T(lib, 2, 0, 5, 5), 2, output_size=2)),
    ("fractional_max_pool2d unbatched no rows",
     lambda lib: lib.nn.functional.fractional_max_pool2d(T(lib, 0, 0, 5), 2, output_size=2)),
    ("fractional_max_pool3d no channels",
     lambda lib: lib.nn.FractionalMaxPool3d(2, output_size=2)(T(lib, 0, 0, 5, 5, 5))),
    ("fractional_max_pool3d no depth",
     lambda lib: lib.nn.functional.fractional_max_pool3d(T(lib, 2, 3, 0, 5, 5), 2, output_size=2)),
    # pooling takes an empty batch only
    ("MaxPool2d no channels", lambda lib: lib.nn.MaxPool2d(2)(T(lib, 2, 0, 6, 6))),
    ("max_pool1d no channels", lambda lib: lib.nn.functional.max_pool1d(T(lib, 2, 0, 4), 2)),
    ("max_pool1d unbatched no length", lambda lib: lib.nn.functional.max_pool1d(T(lib, 3, 0), 1)),
    ("max_pool1d indices no channels",
     lambda lib: lib.nn.functional.max_pool1d(T(lib, 2, 0, 4), 2, return_indices=True)),
    ("max_pool3d no depth", lambda lib: lib.nn.MaxPool3d(1)(T(lib, 2, 2, 0, 2, 2))),
    ("max_pool3d unbatched no channels", lambda lib: lib.nn.functional.max_pool3d(T(lib, 0, 2, 2, 2), 2)),
    ("avg_pool1d no channels", lambda lib: lib.nn.functional.avg_pool1d(T(lib, 2, 0, 4), 2)),
    ("avg_pool2d no rows", lambda lib: lib.nn.functional.avg_pool2d(T(lib, 2, 3, 0, 4), 1)),
    ("avg_pool3d no channels", lambda lib: lib.nn.functional.avg_pool3d(T(lib, 2, 0, 2, 2, 2), 2)),
    ("lp_pool1d no length", lambda lib: lib.nn.functional.lp_pool1d(T(lib, 2, 3, 0), 2, 1)),
    ("affine_grid empty batch", lambda lib: lib.nn.functional.affine_grid(T(lib, 0, 2, 3), [0, 3, 4, 4],
                                                                          align_corners=False)),
    # padding modes that read the input need it non-empty (but the batch)
    ("pad reflect no channels", lambda lib: lib.nn.functional.pad(T(lib, 2, 0, 4), (1, 2), mode="reflect")),
    ("pad replicate no channels", lambda lib: lib.nn.functional.pad(T(lib, 2, 0, 4), (1, 1), mode="replicate")),
    ("pad circular wrapping an empty dim", lambda lib: lib.nn.functional.pad(T(lib, 2, 3, 0), (1, 1),
                                                                             mode="circular")),
    # norms: torch's empty-input path indexes weight[0] (of the weights repeated per sample, for instance norm)
    ("BatchNorm1d no channels", lambda lib: lib.nn.BatchNorm1d(0)(T32(lib, 2, 0))),
    ("batch_norm no channels bias", lambda lib: lib.nn.functional.batch_norm(
        T32(lib, 2, 0, 3), lib.zeros(0), lib.ones(0), bias=lib.zeros(0))),
    ("InstanceNorm2d affine", lambda lib: lib.nn.InstanceNorm2d(3, affine=True)(T32(lib, 0, 3, 4, 4))),
    ("InstanceNorm1d affine stats eval",
     lambda lib: lib.nn.InstanceNorm1d(3, affine=True, track_running_stats=True).eval()(T32(lib, 0, 3, 4))),
    ("InstanceNorm1d no channels affine", lambda lib: lib.nn.InstanceNorm1d(0, affine=True)(T32(lib, 2, 0, 4))),
    # the rest
    ("one_hot empty no classes", lambda lib: lib.nn.functional.one_hot(lib.zeros(0, dtype=lib.int64), 0)),
    ("one_hot empty inferred", lambda lib: lib.nn.functional.one_hot(lib.zeros(2, 0, dtype=lib.int64))),
    ("one_hot empty negative", lambda lib: lib.nn.functional.one_hot(lib.zeros(0, dtype=lib.int64), -2)),
    ("EmbeddingBag empty bags 2d", lambda lib: lib.nn.EmbeddingBag(5, 3)(lib.zeros(3, 0, dtype=lib.int64))),
    ("EmbeddingBag empty 2d", lambda lib: lib.nn.EmbeddingBag(5, 3, mode="max")(lib.zeros(0, 0, dtype=lib.int64))),
    ("MultiheadAttention padding mask no weights", _mha_masked),
    ("ctc_loss no batch", _ctc(5, 0, 4)),
    ("ctc_loss no time", _ctc(0, 2, 4, blank=7)),
    ("ctc_loss no classes", _ctc(5, 2, 0)),
    ("CTCLoss no batch", lambda lib: lib.nn.CTCLoss(reduction="sum")(
        T(lib, 5, 0, 4), lib.zeros(0, 3, dtype=lib.int64), lib.zeros(0, dtype=lib.int64),
        lib.zeros(0, dtype=lib.int64))),
    ("multi_margin_loss empty vector",
     lambda lib: lib.nn.functional.multi_margin_loss(T(lib, 0), lib.zeros(0, dtype=lib.int64))),
    ("multi_margin_loss no classes",
     lambda lib: lib.nn.functional.multi_margin_loss(T(lib, 2, 0), lib.zeros(2, dtype=lib.int64))),
    ("multi_margin_loss 3d",
     lambda lib: lib.nn.functional.multi_margin_loss(T(lib, 2, 3, 4), lib.zeros(2, dtype=lib.int64))),
    ("multilabel_margin_loss empty vector",
     lambda lib: lib.nn.functional.multilabel_margin_loss(T(lib, 0), lib.zeros(0, dtype=lib.int64))),
    ("multilabel_margin_loss no classes",
     lambda lib: lib.nn.MultiLabelMarginLoss(reduction="none")(T(lib, 0, 0), lib.zeros(0, 0, dtype=lib.int64))),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[c[0] for c in ERRORS])
def test_error(name, fn):
    same_error(lambda: fn(torch), lambda: fn(ember))


# ---------------------------------------------------------------- losses on a batch of 0, every reduction
W3 = np.array([0.5, 1.0, 2.0])

LOSSES = [
    ("L1Loss", lambda lib, r: lib.nn.L1Loss(reduction=r), [x(0, 3), x(0, 3)]),
    ("L1Loss 1d", lambda lib, r: lib.nn.L1Loss(reduction=r), [x(0), x(0)]),
    ("MSELoss", lambda lib, r: lib.nn.MSELoss(reduction=r), [x(0, 3), x(0, 3)]),
    ("SmoothL1Loss", lambda lib, r: lib.nn.SmoothL1Loss(reduction=r, beta=0.5), [x(0, 3), x(0, 3)]),
    ("SmoothL1Loss beta 0", lambda lib, r: lib.nn.SmoothL1Loss(reduction=r, beta=0.0), [x(0, 3), x(0, 3)]),
    ("HuberLoss", lambda lib, r: lib.nn.HuberLoss(reduction=r, delta=0.7), [x(0, 3), x(0, 3)]),
    ("CrossEntropyLoss", lambda lib, r: lib.nn.CrossEntropyLoss(reduction=r), [x(0, 3), ints(0)]),
    ("CrossEntropyLoss weight", lambda lib, r: lib.nn.CrossEntropyLoss(lib.tensor(W3), reduction=r),
     [x(0, 3), ints(0)]),
    ("CrossEntropyLoss smoothing", lambda lib, r: lib.nn.CrossEntropyLoss(lib.tensor(W3), reduction=r,
                                                                         label_smoothing=0.1), [x(0, 3), ints(0)]),
    ("CrossEntropyLoss ignore_index", lambda lib, r: lib.nn.CrossEntropyLoss(reduction=r, ignore_index=1),
     [x(0, 3), ints(0)]),
    ("CrossEntropyLoss probabilities", lambda lib, r: lib.nn.CrossEntropyLoss(reduction=r), [x(0, 3), x(0, 3)]),
    ("CrossEntropyLoss probabilities weight smoothing",
     lambda lib, r: lib.nn.CrossEntropyLoss(lib.tensor(W3), reduction=r, label_smoothing=0.2), [x(0, 3), x(0, 3)]),
    ("CrossEntropyLoss 4d", lambda lib, r: lib.nn.CrossEntropyLoss(reduction=r), [x(0, 3, 2, 2), ints(0, 2, 2)]),
    ("CrossEntropyLoss no positions", lambda lib, r: lib.nn.CrossEntropyLoss(lib.tensor(W3), reduction=r),
     [x(2, 3, 0), ints(2, 0)]),
    ("CrossEntropyLoss probabilities no positions", lambda lib, r: lib.nn.CrossEntropyLoss(reduction=r),
     [x(2, 3, 0), x(2, 3, 0)]),
    ("NLLLoss", lambda lib, r: lib.nn.NLLLoss(reduction=r), [x(0, 3), ints(0)]),
    ("NLLLoss weight", lambda lib, r: lib.nn.NLLLoss(lib.tensor(W3), reduction=r), [x(0, 3), ints(0)]),
    ("NLLLoss 4d weight", lambda lib, r: lib.nn.NLLLoss(lib.tensor(W3), reduction=r),
     [x(0, 3, 2, 2), ints(0, 2, 2)]),
    ("NLLLoss no positions", lambda lib, r: lib.nn.NLLLoss(reduction=r), [x(2, 3, 0), ints(2, 0)]),
    ("BCELoss", lambda lib, r: lib.nn.BCELoss(reduction=r), [np.full((0, 3), 0.5), x(0, 3)]),
    ("BCELoss weight", lambda lib, r: lib.nn.BCELoss(lib.ones(1, 3, dtype=lib.float64), reduction=r),
     [np.full((0, 3), 0.5), x(0, 3)]),
    ("BCEWithLogitsLoss", lambda lib, r: lib.nn.BCEWithLogitsLoss(reduction=r), [x(0, 3), x(0, 3)]),
    ("BCEWithLogitsLoss pos_weight", lambda lib, r: lib.nn.BCEWithLogitsLoss(reduction=r, pos_weight=lib.tensor(W3)),
     [x(0, 3), x(0, 3)]),
    ("KLDivLoss", lambda lib, r: lib.nn.KLDivLoss(reduction=r), [x(0, 3), x(0, 3)]),
    ("KLDivLoss log_target", lambda lib, r: lib.nn.KLDivLoss(reduction=r, log_target=True), [x(0, 3), x(0, 3)]),
    ("PoissonNLLLoss", lambda lib, r: lib.nn.PoissonNLLLoss(reduction=r), [x(0, 3), np.abs(x(0, 3))]),
    ("PoissonNLLLoss full", lambda lib, r: lib.nn.PoissonNLLLoss(log_input=False, full=True, reduction=r),
     [np.abs(x(0, 3)), np.abs(x(0, 3))]),
    ("GaussianNLLLoss", lambda lib, r: lib.nn.GaussianNLLLoss(reduction=r), [x(0, 3), x(0, 3), np.ones((0, 3))]),
    ("GaussianNLLLoss var per sample", lambda lib, r: lib.nn.GaussianNLLLoss(full=True, reduction=r),
     [x(0, 3), x(0, 3), np.ones((0, 1))]),
    ("CosineEmbeddingLoss", lambda lib, r: lib.nn.CosineEmbeddingLoss(reduction=r),
     [x(0, 3), x(0, 3), np.ones(0)]),
    ("CosineEmbeddingLoss no features", lambda lib, r: lib.nn.CosineEmbeddingLoss(reduction=r),
     [x(2, 0), x(2, 0), np.array([1.0, -1.0])]),
    ("MarginRankingLoss", lambda lib, r: lib.nn.MarginRankingLoss(reduction=r), [x(0), x(0), np.ones(0)]),
    ("HingeEmbeddingLoss", lambda lib, r: lib.nn.HingeEmbeddingLoss(reduction=r), [x(0, 3), np.ones((0, 3))]),
    ("TripletMarginLoss", lambda lib, r: lib.nn.TripletMarginLoss(reduction=r), [x(0, 3)] * 3),
    ("TripletMarginLoss swap", lambda lib, r: lib.nn.TripletMarginLoss(reduction=r, swap=True, p=1.0),
     [x(0, 3)] * 3),
    ("TripletMarginWithDistanceLoss", lambda lib, r: lib.nn.TripletMarginWithDistanceLoss(reduction=r),
     [x(0, 3)] * 3),
    ("MultiLabelSoftMarginLoss", lambda lib, r: lib.nn.MultiLabelSoftMarginLoss(lib.tensor(W3), reduction=r),
     [x(0, 3), np.ones((0, 3))]),
    ("MultiLabelSoftMarginLoss no classes", lambda lib, r: lib.nn.MultiLabelSoftMarginLoss(reduction=r),
     [x(2, 0), np.ones((2, 0))]),
]

# torch's multi-class margin losses average an empty batch into uninitialised memory: compared for 'none' and
# 'sum' only (ember gives nan for 'mean', see test_margin_loss_mean_of_nothing)
MARGIN = [
    ("MultiMarginLoss", lambda lib, r: lib.nn.MultiMarginLoss(reduction=r), [x(0, 3), ints(0)]),
    ("MultiMarginLoss p2 weight", lambda lib, r: lib.nn.MultiMarginLoss(p=2, weight=lib.tensor(W3), reduction=r),
     [x(0, 3), ints(0)]),
    ("MultiLabelMarginLoss", lambda lib, r: lib.nn.MultiLabelMarginLoss(reduction=r), [x(0, 3), ints(0, 3)]),
]


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name,ctor,inputs", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss(name, ctor, inputs, reduction):
    check(lambda lib: ctor(lib, reduction), inputs)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_soft_margin_loss(reduction):
    # torch's soft_margin_loss takes no gradient for its target
    check(lambda lib: lib.nn.SoftMarginLoss(reduction=reduction), [x(0, 3), x(0, 3)],
          call=lambda m, xs, kw: m(xs[0], xs[1].detach()))


def test_kl_div_batchmean():
    check(lambda lib: lib.nn.KLDivLoss(reduction="batchmean"), [x(0, 3), x(0, 3)])
    check(lambda lib: lib.nn.KLDivLoss(reduction="batchmean"), [x(0), x(0)])


@pytest.mark.parametrize("reduction", ["none", "sum"])
@pytest.mark.parametrize("name,ctor,inputs", MARGIN, ids=[c[0] for c in MARGIN])
def test_margin_loss(name, ctor, inputs, reduction):
    check(lambda lib: ctor(lib, reduction), inputs)


@pytest.mark.parametrize("name,ctor,inputs", MARGIN, ids=[c[0] for c in MARGIN])
def test_margin_loss_mean_of_nothing(name, ctor, inputs):
    a = ember.tensor(inputs[0], requires_grad=True)
    out = ctor(ember, "mean")(a, ember.tensor(inputs[1]))
    assert out.shape == () and out.dtype is ember.float64 and np.isnan(out.item())
    out.backward()
    assert a.grad.shape == a.shape


# ---------------------------------------------------------------- where ember deliberately differs from torch
def test_pixel_shuffle_backward():
    # torch's backward of pixel_(un)shuffle on an empty input rejects its own gradient, and its pixel_unshuffle of an
    # empty batch keeps the input's shape: ember gives the shapes of the non-empty case
    a = ember.tensor(x(0, 8, 3, 3), requires_grad=True)
    out = ember.nn.functional.pixel_shuffle(a, 2)
    assert out.shape == (0, 2, 6, 6)
    out.sum().backward()
    assert a.grad.shape == (0, 8, 3, 3)
    b = ember.tensor(x(0, 2, 4, 4), requires_grad=True)
    out = ember.nn.PixelUnshuffle(2)(b)
    assert out.shape == (0, 8, 2, 2)
    out.sum().backward()
    assert b.grad.shape == (0, 2, 4, 4)


def test_group_norm_no_positions_weight_grad():
    # torch's weight gradient is nan here (0 * the nan mean of no values); the sum over no positions is 0
    m = ember.nn.GroupNorm(2, 4)
    out = m(ember.tensor(x(2, 4, 0), dtype=ember.float32, requires_grad=True))
    assert out.shape == (2, 4, 0)
    out.sum().backward()
    np.testing.assert_array_equal(m.weight.grad.numpy(), np.zeros(4))
    np.testing.assert_array_equal(m.bias.grad.numpy(), np.zeros(4))


def test_conv_no_input_channels():
    # torch returns an (N, 0, ...) result here; a convolution over no channels is its bias, on every filter
    w, b = ember.tensor(x(3, 0, 2, 2)), ember.tensor([1.0, 2.0, 3.0], dtype=ember.float64)
    out = ember.nn.functional.conv2d(ember.tensor(x(2, 0, 4, 4)), w, b)
    assert out.shape == (2, 3, 3, 3)
    np.testing.assert_array_equal(out.numpy(), np.broadcast_to(np.array([1.0, 2.0, 3.0])[:, None, None],
                                                               (2, 3, 3, 3)))


def test_batchnorm_empty_batch_keeps_running_stats():
    """An empty training batch counts as a step but leaves the running statistics (torch's empty-input path)."""
    for lib in (torch, ember):
        m = lib.nn.BatchNorm1d(3)
        m(lib.tensor(x(4, 3), dtype=lib.float32))
        mean, var = m.running_mean.clone(), m.running_var.clone()
        m(lib.zeros(0, 3))
        assert int(m.num_batches_tracked) == 2
        np.testing.assert_array_equal(m.running_mean.numpy(), mean.numpy())
        np.testing.assert_array_equal(m.running_var.numpy(), var.numpy())
