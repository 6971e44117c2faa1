"""pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence, unpack/unpad_sequence, PackedSequence."""
import numpy as np
import pytest

import ember
from tests.nn.modules._harness import same_error

torch = pytest.importorskip("torch")

rng = np.random.default_rng(8)
SEQS = [rng.standard_normal((5, 3)), rng.standard_normal((2, 3)), rng.standard_normal((4, 3))]


def _both(fn):
    return fn(torch), fn(ember)


def _eq(t, e):
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor) and str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-12)
    elif isinstance(t, (tuple, list)):
        assert len(t) == len(e)
        for a, b in zip(t, e):
            _eq(a, b)
    else:
        assert t == e


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("value", [0.0, -1.5])
def test_pad_sequence(batch_first, side, value):
    t, e = _both(lambda lib: lib.nn.utils.rnn.pad_sequence([lib.tensor(s) for s in SEQS], batch_first, value, side))
    _eq(t, e)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_pack_pad_roundtrip_with_gradients(batch_first, enforce_sorted):
    order = [0, 2, 1] if enforce_sorted else [0, 1, 2]
    seqs = [SEQS[i] for i in order]
    lengths = [len(s) for s in seqs]
    res = []
    for lib in (torch, ember):
        ins = [lib.tensor(s, requires_grad=True) for s in seqs]
        padded = lib.nn.utils.rnn.pad_sequence(ins, batch_first=batch_first)
        packed = lib.nn.utils.rnn.pack_padded_sequence(padded, lengths, batch_first=batch_first,
                                                       enforce_sorted=enforce_sorted)
        out, lens = lib.nn.utils.rnn.pad_packed_sequence(packed, batch_first=batch_first, padding_value=2.0,
                                                         total_length=6)
        (out * lib.arange(out.numel(), dtype=out.dtype).reshape(out.shape)).sum().backward()
        res.append((packed.data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices, out, lens,
                    [i.grad for i in ins]))
    for a, b in zip(*res):
        if a is None:
            assert b is None
        else:
            _eq(a, b)


def test_pack_sequence_and_unpack():
    t, e = _both(lambda lib: lib.nn.utils.rnn.pack_sequence([lib.tensor(s) for s in SEQS], enforce_sorted=False))
    _eq(tuple(t), tuple(e))
    assert type(e).__name__ == "PackedSequence" and e.batch_sizes.dtype is ember.int64
    ut = torch.nn.utils.rnn.unpack_sequence(t)
    ue = ember.nn.utils.rnn.unpack_sequence(e)
    _eq(ut, ue)


def test_unpad_sequence():
    res = []
    for lib in (torch, ember):
        padded = lib.nn.utils.rnn.pad_sequence([lib.tensor(s) for s in SEQS])
        res.append(lib.nn.utils.rnn.unpad_sequence(padded, lib.tensor([5, 2, 4])))
    _eq(*res)


def test_packed_sequence_methods():
    p = ember.nn.utils.rnn.pack_sequence([ember.tensor(s) for s in SEQS], enforce_sorted=False)
    q = p.float()
    assert q.data.dtype is ember.float32 and q.batch_sizes is p.batch_sizes
    assert q.to(ember.float32) is q
    assert p.double().data.dtype is ember.float64 and not p.is_cuda
    assert p.cpu() is p
    np.testing.assert_array_equal(p.unsorted_indices.numpy(), [0, 2, 1])
    with pytest.raises(AssertionError, match="Expected data to be a list or tuple of length 2"):
        ember.nn.utils.rnn.PackedSequence(ember.ones(3))
    q2 = ember.nn.utils.rnn.PackedSequence((p.data, p.batch_sizes))
    assert q2.sorted_indices is None


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.utils.rnn.pad_sequence([]),
    lambda lib: lib.nn.utils.rnn.pad_sequence([lib.ones(2, 3), lib.ones(2, 4)]),
    lambda lib: lib.nn.utils.rnn.pad_sequence([lib.ones(2)], padding_side="middle"),
    lambda lib: lib.nn.utils.rnn.pack_sequence([lib.ones(2, 1), lib.ones(3, 1)]),
    lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(3, 2, 1), [3, 0]),
    lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(3, 2, 1), [3, 2, 1]),
    lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(3, 2, 1), lib.tensor([[3, 2]])),
    lambda lib: lib.nn.utils.rnn.pad_packed_sequence(
        lib.nn.utils.rnn.pack_sequence([lib.ones(3, 1)]), total_length=2),
])
def test_errors(call):
    same_error(lambda: call(torch), lambda: call(ember))


def test_invert_permutation():
    p = ember.tensor([2, 0, 3, 1])
    np.testing.assert_array_equal(ember.nn.utils.rnn.invert_permutation(p).numpy(), [1, 3, 0, 2])
    assert ember.nn.utils.rnn.invert_permutation(None) is None
