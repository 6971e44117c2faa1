"""DataLoader in the main process (num_workers=0) against torch: batches, order, len, warnings, errors."""
import warnings

import numpy as np
import pytest

import ember
from ember.utils import data as E

from ._util import to_py

torch = pytest.importorskip("torch")
T = torch.utils.data


def lib_of(D):
    return ember if D is E else torch


class Pairs:
    """A map-style dataset written once, instantiated on each side (``lib`` is ember or torch)."""

    def __init__(self, lib, n=10):
        self.lib, self.n = lib, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.lib.full((2,), float(i)), i


def run(make, seed=0):
    """``make(lib, D)`` -> an iterable; both sides' outputs as plain structures (global RNG seeded)."""
    ember.manual_seed(seed)
    e = [to_py(b) for b in make(ember, E)]
    torch.manual_seed(seed)
    t = [to_py(b) for b in make(torch, T)]
    return e, t


@pytest.mark.parametrize("kw", [
    {}, {"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": 4, "shuffle": True},
    {"batch_size": None}, {"batch_size": None, "shuffle": True}, {"batch_size": 20}, {"batch_size": 20, "drop_last": True},
    {"batch_size": 2, "shuffle": True, "drop_last": True},
])
def test_batches_match_torch(kw):
    e, t = run(lambda lib, D: D.DataLoader(Pairs(lib), **kw))
    assert e == t
    assert len(E.DataLoader(Pairs(ember), **kw)) == len(T.DataLoader(Pairs(torch), **kw))


def test_shuffle_consumes_global_rng_like_torch():
    # the iterator draws a base seed, then the sampler draws its own seed: both from the global generator
    def make(lib, D):
        dl = D.DataLoader(range(9), batch_size=4, shuffle=True)
        return [b.tolist() for b in dl] + [b.tolist() for b in dl] + [lib.rand(2).tolist()]
    ember.manual_seed(1)
    e = make(ember, E)
    torch.manual_seed(1)
    assert e == make(torch, T)


def test_generator_argument():
    e = [b.tolist() for b in E.DataLoader(range(10), batch_size=3, shuffle=True, generator=ember.Generator().manual_seed(5))]
    t = [b.tolist() for b in T.DataLoader(range(10), batch_size=3, shuffle=True, generator=torch.Generator().manual_seed(5))]
    assert e == t


def test_sampler_and_batch_sampler():
    e, t = run(lambda lib, D: D.DataLoader(Pairs(lib), batch_size=2, sampler=[9, 1, 5, 3, 0]))
    assert e == t
    e, t = run(lambda lib, D: D.DataLoader(Pairs(lib), batch_sampler=[[1, 2], [9], [0, 3, 4]]))
    assert e == t
    e, t = run(lambda lib, D: D.DataLoader(Pairs(lib), batch_size=None, sampler=D.RandomSampler(range(10))), seed=4)
    assert e == t


def test_collate_fn_and_getitems():
    class Batched(E.Dataset):
        calls = []

        def __len__(self):
            return 6

        def __getitems__(self, idx):
            self.calls.append(list(idx))
            return [i * 10 for i in idx]

    ds = Batched()
    out = list(E.DataLoader(ds, batch_size=4, collate_fn=lambda b: b))
    assert out == [[0, 10, 20, 30], [40, 50]] and ds.calls == [[0, 1, 2, 3], [4, 5]]


def test_iterable_dataset():
    class Count(E.IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [b.tolist() for b in E.DataLoader(Count(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in E.DataLoader(Count(), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert list(E.DataLoader(Count(), batch_size=None)) == list(range(7))  # default_convert keeps ints
    with pytest.raises(TypeError):
        len(E.DataLoader(Count()))


def test_iterable_len_warning_like_torch():
    def make(D):
        class It(D.IterableDataset):
            def __iter__(self):
                return iter(range(10))

            def __len__(self):
                return 5
        return It()

    for bs in (2, None):
        with warnings.catch_warnings(record=True) as we:
            warnings.simplefilter("always")
            de = E.DataLoader(make(E), batch_size=bs)
            ne = len(de)
            list(de)
        with warnings.catch_warnings(record=True) as wt:
            warnings.simplefilter("always")
            dt = T.DataLoader(make(T), batch_size=bs)
            nt = len(dt)
            list(dt)
        assert ne == nt
        strip = [str(w.message).split(" was reported")[1] for w in we]
        assert strip == [str(w.message).split(" was reported")[1] for w in wt]


def test_numpy_and_dict_samples():
    class D_(E.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"img": np.full((2, 2), i, np.uint8), "label": np.int64(i), "name": f"n{i}"}

    b = next(iter(E.DataLoader(D_(), batch_size=3)))
    assert b["img"].dtype == ember.uint8 and b["img"].shape == (3, 2, 2)
    assert b["label"].tolist() == [0, 1, 2] and b["name"] == ["n0", "n1", "n2"]
    one = next(iter(E.DataLoader(D_(), batch_size=None)))
    assert one["img"].dtype == ember.uint8 and one["label"].dim() == 0  # default_convert


def _err(fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except Exception as ex:  # noqa: BLE001
        return type(ex).__name__, str(ex)
    return None


class It(E.IterableDataset):
    def __iter__(self):
        return iter(range(3))


class TIt(T.IterableDataset):
    def __iter__(self):
        return iter(range(3))


@pytest.mark.parametrize("kw", [
    {"num_workers": -1}, {"timeout": -1}, {"prefetch_factor": 2}, {"num_workers": 1, "prefetch_factor": -1},
    {"persistent_workers": True}, {"sampler": [1], "shuffle": True}, {"batch_sampler": [[1]], "batch_size": 2},
    {"batch_sampler": [[1]], "drop_last": True}, {"batch_sampler": [[1]], "shuffle": True},
    {"batch_size": None, "drop_last": True}, {"multiprocessing_context": "spawn"},
    {"num_workers": 1, "multiprocessing_context": "bogus"}, {"num_workers": 1, "multiprocessing_context": 3},
    {"batch_size": 0}, {"drop_last": 1},
])
def test_constructor_errors(kw):
    e, t = _err(lambda: E.DataLoader(range(5), **kw)), _err(lambda: T.DataLoader(range(5), **kw))
    assert e is not None and e == t


@pytest.mark.parametrize("kw", [{"shuffle": True}, {"sampler": [1]}, {"batch_sampler": [[1]]}])
def test_iterable_constructor_errors(kw):
    e, t = _err(lambda: E.DataLoader(It(), **kw)), _err(lambda: T.DataLoader(TIt(), **kw))
    assert e is not None and e == t


def test_frozen_attributes_and_iterator_pickle():
    dl = E.DataLoader(range(4))
    for attr in ("batch_size", "sampler", "batch_sampler", "drop_last", "dataset", "persistent_workers"):
        with pytest.raises(ValueError, match=f"{attr} attribute should not be set after DataLoader is initialized"):
            setattr(dl, attr, None)
    dl.num_workers = 0  # others may change
    with pytest.raises(NotImplementedError):
        iter(dl).__getstate__()
    assert len(iter(E.DataLoader(range(5), batch_size=2))) == 3


def test_pin_memory_accepted():
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator is found"):
        out = [b.tolist() for b in E.DataLoader(range(3), batch_size=2, pin_memory=True)]
    assert out == [[0, 1], [2]]


def test_worker_count_warning():
    with pytest.warns(UserWarning, match="This DataLoader will create 64 worker processes in total"):
        E.DataLoader(range(3), num_workers=64)


def test_get_worker_info_in_main_process():
    assert E.get_worker_info() is None
