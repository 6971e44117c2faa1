"""Samplers against torch.utils.data: the same index sequences for the same seeds, and torch's errors."""
import pytest

import ember
from ember.utils import data as E

torch = pytest.importorskip("torch")
T = torch.utils.data


def both(make, seed=0):
    """Run ``make(lib, data_module)`` on each side after seeding its global generator; return both results."""
    ember.manual_seed(seed)
    e = make(ember, E)
    torch.manual_seed(seed)
    t = make(torch, T)
    return e, t


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("kw", [{}, {"replacement": True}, {"num_samples": 5}, {"num_samples": 23},
                                {"replacement": True, "num_samples": 70}, {"replacement": True, "num_samples": 3}])
def test_random_sampler_global_generator(seed, kw):
    e, t = both(lambda lib, D: [list(D.RandomSampler(range(10), **kw)) for _ in range(2)], seed)
    assert e == t
    assert len(E.RandomSampler(range(10), **kw)) == len(T.RandomSampler(range(10), **kw))


@pytest.mark.parametrize("kw", [{}, {"replacement": True, "num_samples": 40}, {"num_samples": 25}])
def test_random_sampler_own_generator(kw):
    ge, gt = ember.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    se, st = E.RandomSampler(range(12), generator=ge, **kw), T.RandomSampler(range(12), generator=gt, **kw)
    assert [list(se) for _ in range(3)] == [list(st) for _ in range(3)]


def test_sequential_sampler():
    assert list(E.SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    assert len(E.SequentialSampler([])) == 0


def test_subset_random_sampler():
    e, t = both(lambda lib, D: [list(D.SubsetRandomSampler([3, 5, 8, 13, 21])) for _ in range(2)], 5)
    assert e == t
    ge, gt = ember.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    assert list(E.SubsetRandomSampler(range(9), ge)) == list(T.SubsetRandomSampler(range(9), gt))
    assert len(E.SubsetRandomSampler([1, 2])) == 2


@pytest.mark.parametrize("replacement", [True, False])
def test_weighted_random_sampler(replacement):
    w = [0.1, 0.9, 0.4, 0.7, 3.0, 0.0, 1.5]
    e, t = both(lambda lib, D: [list(D.WeightedRandomSampler(w, 5, replacement)) for _ in range(3)], 11)
    assert e == t
    s = E.WeightedRandomSampler(w, 5, replacement)
    assert s.weights.dtype == ember.float64 and len(s) == 5


def test_batch_sampler():
    for bs in (1, 3, 4, 10, 11):
        for drop in (False, True):
            e = E.BatchSampler(E.SequentialSampler(range(10)), bs, drop)
            t = T.BatchSampler(T.SequentialSampler(range(10)), bs, drop)
            assert list(e) == list(t)
            assert len(e) == len(t)


@pytest.mark.parametrize("n,replicas,shuffle,drop", [(10, 3, True, False), (10, 3, True, True), (10, 3, False, False),
                                                     (10, 4, False, True), (2, 5, False, False), (12, 4, True, False),
                                                     (3, 7, True, False)])
def test_distributed_sampler(n, replicas, shuffle, drop):
    for rank in range(replicas):
        e = E.DistributedSampler(range(n), replicas, rank, shuffle=shuffle, seed=4, drop_last=drop)
        t = T.DistributedSampler(range(n), replicas, rank, shuffle=shuffle, seed=4, drop_last=drop)
        for epoch in range(3):
            e.set_epoch(epoch)
            t.set_epoch(epoch)
            assert list(e) == list(t)
        assert len(e) == len(t) and e.total_size == t.total_size


def test_distributed_sampler_in_dataloader():
    e = E.DataLoader(range(11), batch_size=2, sampler=E.DistributedSampler(range(11), 2, 1, seed=9))
    t = T.DataLoader(range(11), batch_size=2, sampler=T.DistributedSampler(range(11), 2, 1, seed=9))
    assert [b.tolist() for b in e] == [b.tolist() for b in t]


def _err(fn):
    try:
        fn()
    except Exception as ex:  # noqa: BLE001 - the type and text are what is compared
        return type(ex).__name__, str(ex)
    return None


@pytest.mark.parametrize("make", [
    lambda D: D.RandomSampler(range(3), replacement=1),
    lambda D: D.RandomSampler(range(3), num_samples=0),
    lambda D: D.RandomSampler([]),
    lambda D: D.RandomSampler(range(3), num_samples=2.0),
    lambda D: D.WeightedRandomSampler([1, 2], 0),
    lambda D: D.WeightedRandomSampler([1, 2], True),
    lambda D: D.WeightedRandomSampler([1, 2], 3, replacement=0),
    lambda D: D.WeightedRandomSampler([[1, 2]], 3),
    lambda D: D.BatchSampler(range(3), 0, False),
    lambda D: D.BatchSampler(range(3), True, False),
    lambda D: D.BatchSampler(range(3), 2, 1),
    lambda D: D.DistributedSampler(range(3), 2, 2),
    lambda D: D.DistributedSampler(range(3), 2, -1),
    lambda D: D.DistributedSampler(range(3)),
    lambda D: iter(D.Sampler()),
    lambda D: len(D.Sampler()),
])
def test_sampler_errors(make):
    e, t = _err(lambda: make(E)), _err(lambda: make(T))
    assert e is not None and e[0] == t[0]
    if e[0] != "TypeError":  # TypeError texts name the class's module
        assert e == t


def test_weighted_without_replacement_too_many():
    with pytest.raises(RuntimeError, match="cannot sample n_sample > prob_dist"):
        list(E.WeightedRandomSampler([1, 2], 3, replacement=False))


def test_sampler_generic():
    assert E.Sampler[int] is not None and E.Dataset[int] is not None
