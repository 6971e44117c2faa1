"""Normalisation, dropout, embedding, padding, pixel shuffle, upsampling, fold, distance and channel shuffle layers
against torch."""
import numpy as np
import pytest

import ember
from tests.nn.modules._harness import check, copy_state, same_error, torch

rng = np.random.default_rng(5)


def x(*shape):
    return rng.standard_normal(shape)


NORM = [
    ("BatchNorm1d 2d", lambda lib: lib.nn.BatchNorm1d(4), (6, 4)),
    ("BatchNorm1d 3d", lambda lib: lib.nn.BatchNorm1d(4, momentum=0.3), (3, 4, 5)),
    ("BatchNorm1d momentum None", lambda lib: lib.nn.BatchNorm1d(4, momentum=None), (3, 4, 5)),
    ("BatchNorm2d", lambda lib: lib.nn.BatchNorm2d(3), (2, 3, 4, 5)),
    ("BatchNorm2d no affine", lambda lib: lib.nn.BatchNorm2d(3, affine=False), (2, 3, 4, 5)),
    ("BatchNorm2d no stats", lambda lib: lib.nn.BatchNorm2d(3, track_running_stats=False), (2, 3, 4, 5)),
    ("BatchNorm2d no bias", lambda lib: lib.nn.BatchNorm2d(3, bias=False, eps=1e-3), (2, 3, 4, 5)),
    ("BatchNorm3d", lambda lib: lib.nn.BatchNorm3d(2), (2, 2, 3, 2, 3)),
    ("InstanceNorm1d", lambda lib: lib.nn.InstanceNorm1d(4), (3, 4, 5)),
    ("InstanceNorm1d affine stats", lambda lib: lib.nn.InstanceNorm1d(4, affine=True, track_running_stats=True),
     (3, 4, 5)),
    ("InstanceNorm1d unbatched", lambda lib: lib.nn.InstanceNorm1d(4, affine=True), (4, 5)),
    ("InstanceNorm2d", lambda lib: lib.nn.InstanceNorm2d(3, affine=True), (2, 3, 4, 5)),
    ("InstanceNorm3d", lambda lib: lib.nn.InstanceNorm3d(2, track_running_stats=True), (2, 2, 3, 2, 3)),
    ("LayerNorm", lambda lib: lib.nn.LayerNorm(5), (3, 4, 5)),
    ("LayerNorm 2d shape", lambda lib: lib.nn.LayerNorm([4, 5], eps=1e-3), (3, 4, 5)),
    ("LayerNorm no affine", lambda lib: lib.nn.LayerNorm(5, elementwise_affine=False), (3, 4, 5)),
    ("LayerNorm no bias", lambda lib: lib.nn.LayerNorm(5, bias=False), (3, 4, 5)),
    ("GroupNorm", lambda lib: lib.nn.GroupNorm(2, 4), (3, 4, 5)),
    ("GroupNorm 4d no affine", lambda lib: lib.nn.GroupNorm(3, 6, affine=False), (2, 6, 2, 3)),
    ("RMSNorm", lambda lib: lib.nn.RMSNorm(5), (3, 4, 5)),
    ("RMSNorm eps shape", lambda lib: lib.nn.RMSNorm([4, 5], eps=1e-4), (3, 4, 5)),
    ("RMSNorm no affine", lambda lib: lib.nn.RMSNorm(5, elementwise_affine=False), (3, 4, 5)),
    ("LocalResponseNorm", lambda lib: lib.nn.LocalResponseNorm(3), (2, 5, 4)),
    ("LocalResponseNorm 4d", lambda lib: lib.nn.LocalResponseNorm(2, 1e-2, 0.5, 2.0), (2, 5, 3, 3)),
    ("CrossMapLRN2d", lambda lib: lib.nn.CrossMapLRN2d(3, 1e-2, 0.75, 1.0), (2, 5, 3, 3)),
    ("CrossMapLRN2d even", lambda lib: lib.nn.CrossMapLRN2d(4, 0.5, 0.6, 2), (2, 6, 3, 2)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,ctor,shape", NORM, ids=[c[0] for c in NORM])
def test_norm_train(name, ctor, shape, dtype):
    check(ctor, [x(*shape)], dtype)


@pytest.mark.parametrize("name,ctor,shape", NORM, ids=[c[0] for c in NORM])
def test_norm_eval(name, ctor, shape):
    check(ctor, [x(*shape)], train=False)


def test_batchnorm_running_stats_over_steps():
    """Several training steps (cumulative average with momentum=None), then eval."""
    for momentum in (0.1, None):
        tm, em = torch.nn.BatchNorm1d(3, momentum=momentum).double(), ember.nn.BatchNorm1d(3, momentum=momentum)
        em.double()
        for _ in range(3):
            a = x(5, 3)
            tm(torch.tensor(a))
            em(ember.tensor(a))
        for k, v in tm.state_dict().items():
            np.testing.assert_allclose(em.state_dict()[k].numpy(), v.numpy(), rtol=1e-10)
        assert em.num_batches_tracked.item() == 3 and em.num_batches_tracked.dtype is ember.int64
        tm.eval()
        em.eval()
        a = x(4, 3)
        np.testing.assert_allclose(em(ember.tensor(a)).detach().numpy(), tm(torch.tensor(a)).detach().numpy(),
                                   rtol=1e-10)


@pytest.mark.parametrize("expr", [
    "nn.BatchNorm1d(4)", "nn.BatchNorm2d(4, eps=1e-3, momentum=None, affine=False)",
    "nn.BatchNorm3d(4, track_running_stats=False, bias=False)", "nn.InstanceNorm1d(3)",
    "nn.InstanceNorm2d(3, affine=True, track_running_stats=True)", "nn.LayerNorm(4)",
    "nn.LayerNorm([3, 4], 1e-6, False)", "nn.GroupNorm(2, 4)", "nn.GroupNorm(2, 4, affine=False)", "nn.RMSNorm(3)",
    "nn.RMSNorm([2, 3], eps=1e-5, elementwise_affine=False)", "nn.LocalResponseNorm(2)", "nn.CrossMapLRN2d(3)",
    "nn.LazyBatchNorm1d()", "nn.LazyInstanceNorm2d(affine=True)",
])
def test_norm_repr_layout(expr):
    e, t = eval(expr, {"nn": ember.nn}), eval(expr, {"nn": torch.nn})
    assert repr(e) == repr(t)
    if "Lazy" in expr:
        assert list(e.state_dict()) == list(t.state_dict())
        return
    assert [(k, tuple(v.shape), str(v.dtype)) for k, v in e.state_dict().items()] == \
        [(k, tuple(v.shape), str(v.dtype)) for k, v in t.state_dict().items()]


@pytest.mark.parametrize("make,shape", [
    (lambda lib: lib.nn.BatchNorm1d(4), (2, 4, 3, 3)),
    (lambda lib: lib.nn.BatchNorm2d(4), (2, 4, 3)),
    (lambda lib: lib.nn.BatchNorm3d(4), (2, 4, 3)),
    (lambda lib: lib.nn.InstanceNorm1d(4), (2, 4, 3, 3)),
    (lambda lib: lib.nn.InstanceNorm2d(4, affine=True), (2, 5, 3, 3)),
    (lambda lib: lib.nn.GroupNorm(3, 4), None),
])
def test_norm_errors(make, shape):
    if shape is None:
        same_error(lambda: make(torch), lambda: make(ember))
        return
    mt, me = make(torch), make(ember)
    same_error(lambda: mt(torch.randn(*shape)), lambda: me(ember.randn(*shape)))


def test_instance_norm_num_features_warning():
    with pytest.warns(UserWarning, match="does not match num_features"):
        ember.nn.InstanceNorm1d(3)(ember.randn(2, 4, 5))


@pytest.mark.parametrize("lazy,shape", [("LazyBatchNorm1d", (4, 3)), ("LazyBatchNorm2d", (2, 3, 4, 4)),
                                        ("LazyBatchNorm3d", (2, 3, 2, 2, 2)), ("LazyInstanceNorm1d", (2, 3, 4)),
                                        ("LazyInstanceNorm2d", (2, 3, 4, 4)), ("LazyInstanceNorm3d", (2, 3, 2, 2, 2))])
def test_lazy_norm(lazy, shape):
    e = getattr(ember.nn, lazy)()
    t = getattr(torch.nn, lazy)()
    a = x(*shape).astype(np.float32)
    ye, yt = e(ember.tensor(a)), t(torch.tensor(a))
    assert type(e).__name__ == type(t).__name__ and repr(e) == repr(t)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert [(k, tuple(v.shape)) for k, v in e.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]


def test_batchnorm_load_old_checkpoint_without_num_batches_tracked():
    t = torch.nn.BatchNorm1d(3)
    e = ember.nn.BatchNorm1d(3)
    sd = {k: ember.tensor(v.numpy()) for k, v in t.state_dict().items() if k != "num_batches_tracked"}
    e.load_state_dict(sd)
    assert e.num_batches_tracked.item() == 0


# ---------------------------------------------------------------- dropout
@pytest.mark.parametrize("name,shape", [("Dropout", (20, 30)), ("Dropout1d", (4, 30, 5)),
                                        ("Dropout2d", (4, 30, 3, 3)), ("Dropout3d", (2, 30, 2, 2, 2)),
                                        ("AlphaDropout", (20, 30)), ("FeatureAlphaDropout", (4, 30, 3, 3))])
def test_dropout(name, shape):
    m = getattr(ember.nn, name)(0.4)
    assert repr(m) == repr(getattr(torch.nn, name)(0.4))
    a = ember.tensor(x(*shape), dtype=ember.float32)
    m.eval()
    np.testing.assert_array_equal(m(a).numpy(), a.numpy())
    m.train()
    y = m(a).numpy()
    if name == "Dropout":
        kept = y != 0
        np.testing.assert_allclose(y[kept], a.numpy()[kept] / 0.6, rtol=1e-6)
        assert 0.4 < kept.mean() < 0.8
    elif name in ("Dropout1d", "Dropout2d", "Dropout3d"):
        flat = y.reshape(shape[0], shape[1], -1)
        zero_ch = (flat == 0).all(-1)
        assert zero_ch.any() and (~zero_ch).any()
    else:
        assert not np.allclose(y, a.numpy())
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        getattr(ember.nn, name)(1.5)


def test_dropout_inplace_repr():
    assert repr(ember.nn.Dropout(0.2, inplace=True)) == "Dropout(p=0.2, inplace=True)"


# ---------------------------------------------------------------- embedding
def test_embedding():
    idx = np.array([[1, 2, 4], [4, 3, 0]])
    check(lambda lib: lib.nn.Embedding(6, 3), [idx], grad_inputs=False)
    check(lambda lib: lib.nn.Embedding(6, 3, padding_idx=-2), [idx], grad_inputs=False)
    check(lambda lib: lib.nn.Embedding(6, 3, scale_grad_by_freq=True), [idx], grad_inputs=False)
    check(lambda lib: lib.nn.Embedding(6, 3, max_norm=0.5), [idx], grad_inputs=False)


def test_embedding_init_and_from_pretrained():
    m = ember.nn.Embedding(10, 4, padding_idx=3)
    w = m.weight.detach().numpy()
    assert (w[3] == 0).all() and abs(w.std() - 1) < 0.5
    assert m.padding_idx == 3
    pre = ember.randn(5, 2)
    e = ember.nn.Embedding.from_pretrained(pre)
    assert not e.weight.requires_grad and e.weight.shape == (5, 2)
    e2 = ember.nn.Embedding.from_pretrained(pre, freeze=False, padding_idx=1)
    assert e2.weight.requires_grad and repr(e2) == "Embedding(5, 2, padding_idx=1)"
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        ember.nn.Embedding(4, 2, padding_idx=4)
    with pytest.raises(AssertionError, match="Embeddings parameter is expected to be 2-dimensional"):
        ember.nn.Embedding.from_pretrained(ember.randn(3))


@pytest.mark.parametrize("expr", ["nn.Embedding(5, 3)", "nn.Embedding(5, 3, padding_idx=-1, max_norm=1.0, "
                                  "norm_type=1.0, scale_grad_by_freq=True, sparse=True)",
                                  "nn.EmbeddingBag(5, 3)", "nn.EmbeddingBag(5, 3, max_norm=2.0, mode='sum', "
                                  "padding_idx=0)"])
def test_embedding_repr(expr):
    assert repr(eval(expr, {"nn": ember.nn})) == repr(eval(expr, {"nn": torch.nn}))


@pytest.mark.parametrize("mode", ["mean", "sum", "max"])
def test_embedding_bag(mode):
    idx = np.array([1, 2, 4, 4, 3, 0, 5])
    offsets = np.array([0, 2, 5])
    check(lambda lib: lib.nn.EmbeddingBag(6, 3, mode=mode), [idx, offsets], grad_inputs=False)
    check(lambda lib: lib.nn.EmbeddingBag(6, 3, mode=mode), [idx.reshape(1, 7)], grad_inputs=False)
    if mode != "max":
        w = rng.random(7)
        check(lambda lib: lib.nn.EmbeddingBag(6, 3, mode="sum", padding_idx=4), [idx, offsets, w],
              grad_inputs=False)


# ---------------------------------------------------------------- padding and shape layers
PAD = [
    ("ZeroPad1d", lambda lib: lib.nn.ZeroPad1d((1, 2)), (2, 3, 4)),
    ("ZeroPad2d", lambda lib: lib.nn.ZeroPad2d(2), (2, 3, 4)),
    ("ZeroPad3d", lambda lib: lib.nn.ZeroPad3d((1, 0, 2, 1, 0, 1)), (1, 2, 3, 2, 2)),
    ("ConstantPad1d", lambda lib: lib.nn.ConstantPad1d(2, 3.5), (2, 4)),
    ("ConstantPad2d", lambda lib: lib.nn.ConstantPad2d((1, 2, 0, 1), -1.0), (2, 3, 4)),
    ("ConstantPad3d", lambda lib: lib.nn.ConstantPad3d(1, 0.5), (2, 2, 2, 2)),
    ("ReflectionPad1d", lambda lib: lib.nn.ReflectionPad1d((2, 1)), (2, 3, 4)),
    ("ReflectionPad2d", lambda lib: lib.nn.ReflectionPad2d(1), (2, 3, 4)),
    ("ReflectionPad3d", lambda lib: lib.nn.ReflectionPad3d((1, 1, 0, 1, 1, 0)), (1, 2, 3, 3, 2)),
    ("ReplicationPad1d", lambda lib: lib.nn.ReplicationPad1d(3), (2, 3, 4)),
    ("ReplicationPad2d", lambda lib: lib.nn.ReplicationPad2d((1, 0, 2, 1)), (2, 3, 4)),
    ("ReplicationPad3d", lambda lib: lib.nn.ReplicationPad3d(1), (1, 2, 3, 3, 2)),
    ("CircularPad1d", lambda lib: lib.nn.CircularPad1d(2), (2, 3, 4)),
    ("CircularPad2d", lambda lib: lib.nn.CircularPad2d((1, 2, 0, 1)), (2, 3, 4)),
    ("CircularPad3d", lambda lib: lib.nn.CircularPad3d(1), (1, 2, 3, 3, 2)),
    ("PixelShuffle", lambda lib: lib.nn.PixelShuffle(2), (2, 8, 3, 2)),
    ("PixelUnshuffle", lambda lib: lib.nn.PixelUnshuffle(2), (2, 2, 4, 6)),
    ("Upsample nearest", lambda lib: lib.nn.Upsample(scale_factor=2), (2, 3, 4)),
    ("Upsample size", lambda lib: lib.nn.Upsample(size=(5, 7), mode="bilinear"), (2, 3, 4, 3)),
    ("Upsample align", lambda lib: lib.nn.Upsample(scale_factor=(1.5, 2), mode="bicubic", align_corners=True),
     (1, 2, 4, 3)),
    ("Upsample trilinear", lambda lib: lib.nn.Upsample(scale_factor=2, mode="trilinear"), (1, 2, 2, 3, 2)),
    ("UpsamplingNearest2d", lambda lib: lib.nn.UpsamplingNearest2d(scale_factor=3), (1, 2, 3, 2)),
    ("UpsamplingBilinear2d", lambda lib: lib.nn.UpsamplingBilinear2d(size=(5, 4)), (1, 2, 3, 2)),
    ("Unfold", lambda lib: lib.nn.Unfold(2, padding=1, stride=(1, 2)), (2, 3, 4, 5)),
    ("Fold", lambda lib: lib.nn.Fold((4, 5), 2), (2, 12, 12)),
    ("ChannelShuffle", lambda lib: lib.nn.ChannelShuffle(2), (2, 6, 3)),
    ("Flatten", lambda lib: lib.nn.Flatten(), (2, 3, 4)),
    ("Unflatten", lambda lib: lib.nn.Unflatten(1, (2, 2)), (3, 4)),
]


@pytest.mark.parametrize("name,ctor,shape", PAD, ids=[c[0] for c in PAD])
def test_shape_layers(name, ctor, shape):
    check(ctor, [x(*shape)])


def test_padding_dim_errors():
    same_error(lambda: torch.nn.CircularPad2d(1)(torch.randn(3)), lambda: ember.nn.CircularPad2d(1)(ember.randn(3)))


@pytest.mark.parametrize("expr", [
    "nn.ZeroPad2d(2)", "nn.ZeroPad1d((1, 2))", "nn.ConstantPad3d(1, 2.5)", "nn.ReflectionPad2d((1, 0, 2, 3))",
    "nn.ReplicationPad1d(2)", "nn.CircularPad3d(1)", "nn.PixelShuffle(3)", "nn.PixelUnshuffle(2)",
    "nn.Upsample(scale_factor=2)", "nn.Upsample(size=(3, 4), mode='bilinear')", "nn.UpsamplingNearest2d(size=4)",
    "nn.UpsamplingBilinear2d(scale_factor=2)", "nn.Fold((4, 5), 2)", "nn.Unfold(3, 2, 1, 2)", "nn.ChannelShuffle(3)",
    "nn.PairwiseDistance()", "nn.CosineSimilarity(0, 1e-6)",
])
def test_misc_repr(expr):
    assert repr(eval(expr, {"nn": ember.nn})) == repr(eval(expr, {"nn": torch.nn}))


@pytest.mark.parametrize("ctor", [lambda lib: lib.nn.PairwiseDistance(), lambda lib: lib.nn.PairwiseDistance(1, 0.1,
                                                                                                             True),
                                  lambda lib: lib.nn.CosineSimilarity(), lambda lib: lib.nn.CosineSimilarity(-1)])
def test_distance(ctor):
    check(ctor, [x(4, 5), x(4, 5)])


def test_identity_linear_bilinear_lazy_linear():
    check(lambda lib: lib.nn.Identity(3, unused=True), [x(2, 3)])
    check(lambda lib: lib.nn.Linear(3, 4), [x(2, 5, 3)])
    check(lambda lib: lib.nn.Linear(3, 4, bias=False), [x(3)])
    check(lambda lib: lib.nn.Bilinear(3, 2, 4), [x(5, 3), x(5, 2)])
    e, t = ember.nn.LazyLinear(4), torch.nn.LazyLinear(4)
    assert repr(e) == repr(t)
    a = x(2, 3).astype(np.float32)
    e(ember.tensor(a))
    t(torch.tensor(a))
    assert repr(e) == repr(t) and type(e) is ember.nn.Linear
    copy_state(t, e)


@pytest.mark.parametrize("make", [lambda lib: lib.nn.Unflatten(1, 3), lambda lib: lib.nn.Unflatten(1, (2, "a"))])
def test_unflatten_errors(make):
    same_error(lambda: make(torch), lambda: make(ember))


def test_flatten_repr():
    assert repr(ember.nn.Flatten(0, 2)) == repr(torch.nn.Flatten(0, 2))
    assert repr(ember.nn.Unflatten(1, [2, 2])) == repr(torch.nn.Unflatten(1, [2, 2]))


def test_sync_batchnorm_single_process():
    check(lambda lib: lib.nn.SyncBatchNorm(3), [x(2, 3, 4, 2)])
    check(lambda lib: lib.nn.SyncBatchNorm(3, momentum=None), [x(4, 3)], train=False)
    same_error(lambda: torch.nn.SyncBatchNorm(3)(torch.randn(3)), lambda: ember.nn.SyncBatchNorm(3)(ember.randn(3)))
    seq = ember.nn.Sequential(ember.nn.Conv2d(2, 3, 1), ember.nn.BatchNorm2d(3))
    conv = ember.nn.SyncBatchNorm.convert_sync_batchnorm(seq)
    assert type(conv[1]) is ember.nn.SyncBatchNorm and conv[1].weight is seq[1].weight
    assert repr(conv) == repr(torch.nn.SyncBatchNorm.convert_sync_batchnorm(
        torch.nn.Sequential(torch.nn.Conv2d(2, 3, 1), torch.nn.BatchNorm2d(3))))
