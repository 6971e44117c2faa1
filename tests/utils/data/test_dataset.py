"""Datasets and random_split against torch.utils.data."""
import warnings

import pytest

import ember
from ember.utils import data as E

from ._util import to_py

torch = pytest.importorskip("torch")
T = torch.utils.data


def _err(fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except Exception as ex:  # noqa: BLE001
        return type(ex).__name__, str(ex)
    return None


class Squares(E.Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return i * i


class Count(E.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_tensor_dataset():
    x, y = ember.arange(12.).reshape(4, 3), ember.tensor([1, 0, 1, 1])
    ds = E.TensorDataset(x, y)
    tds = T.TensorDataset(torch.arange(12.).reshape(4, 3), torch.tensor([1, 0, 1, 1]))
    assert len(ds) == 4
    for i in (0, 3, -1):
        assert to_py(ds[i]) == to_py(tds[i])
    assert to_py(ds[1:3]) == to_py(tds[1:3])
    assert to_py(ds[[0, 2]]) == to_py(tds[[0, 2]])
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        E.TensorDataset(ember.ones(2), ember.ones(3))


def test_stack_dataset():
    a, b = list(range(4)), ["a", "b", "c", "d"]
    assert E.StackDataset(a, b)[2] == T.StackDataset(a, b)[2] == (2, "c")
    assert E.StackDataset(x=a, y=b)[1] == T.StackDataset(x=a, y=b)[1] == {"x": 1, "y": "b"}
    assert E.StackDataset(a, b).__getitems__([0, 3]) == T.StackDataset(a, b).__getitems__([0, 3])
    assert E.StackDataset(x=a, y=b).__getitems__([1, 2]) == T.StackDataset(x=a, y=b).__getitems__([1, 2])
    assert len(E.StackDataset(a, b)) == 4
    for args, kw in [((a, b[:2]), {}), ((a,), {"y": b}), ((), {}), ((), {"x": a, "y": b[:1]})]:
        assert _err(lambda: E.StackDataset(*args, **kw)) == _err(lambda: T.StackDataset(*args, **kw))


def test_concat_dataset():
    e = E.ConcatDataset([range(3), range(10, 14), range(20, 21)])
    t = T.ConcatDataset([range(3), range(10, 14), range(20, 21)])
    assert len(e) == len(t) == 8
    assert [e[i] for i in range(-8, 8)] == [t[i] for i in range(-8, 8)]
    assert e.cumulative_sizes == t.cumulative_sizes == [3, 7, 8]
    with pytest.warns(FutureWarning, match="renamed to `cumulative_sizes`"):
        assert e.cummulative_sizes == [3, 7, 8]
    for idx in (-9, 8):
        assert _err(lambda: e[idx]) == _err(lambda: t[idx])
    assert _err(lambda: E.ConcatDataset([])) == _err(lambda: T.ConcatDataset([]))
    assert _err(lambda: E.ConcatDataset([Count(2)])) == ("AssertionError",
                                                         "ConcatDataset does not support IterableDataset")
    both = Squares() + Squares()
    assert isinstance(both, E.ConcatDataset) and len(both) == 10 and both[7] == 4


def test_chain_and_iterable_add():
    c = Count(3) + Count(2)
    assert isinstance(c, E.ChainDataset)
    assert list(c) == [0, 1, 2, 0, 1] and len(c) == 5
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(E.ChainDataset([range(3)]))
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        len(E.ChainDataset([range(3)]))


def test_base_classes():
    with pytest.raises(NotImplementedError, match="Subclasses of Dataset should implement __getitem__."):
        E.Dataset()[0]
    with pytest.raises(TypeError, match="abstract"):
        E.IterableDataset()
    assert isinstance(Count(1), E.Dataset)


def test_subset():
    base = list(range(100, 110))
    s = E.Subset(base, [4, 1, 7])
    assert len(s) == 3 and s[0] == 104 and s[-1] == 107
    assert s.__getitems__([2, 0]) == [107, 104]
    st = E.Subset(E.StackDataset(base, base), [3, 5])
    assert st.__getitems__([1, 0]) == [(105, 105), (103, 103)]


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.5, 0.5], [0.33, 0.33, 0.34], [0.1] * 10,
                                     [1 / 3] * 3, [0.25, 0.25, 0.25, 0.25], [10, 0]])
def test_random_split_matches_torch(lengths):
    ember.manual_seed(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = [list(s) for s in E.random_split(range(10), lengths)]
        torch.manual_seed(3)
        t = [list(s) for s in T.random_split(range(10), lengths)]
    assert e == t
    e2 = [list(s) for s in E.random_split(range(10), lengths, generator=ember.Generator().manual_seed(42))]
    t2 = [list(s) for s in T.random_split(range(10), lengths, generator=torch.Generator().manual_seed(42))]
    assert e2 == t2


def test_random_split_remainder_and_errors():
    # 7 * 0.3 = 2.1 -> floor 2 each, remainder 1 goes to the first split
    assert [len(s) for s in E.random_split(range(7), [0.3, 0.3, 0.4])] == \
        [len(s) for s in T.random_split(range(7), [0.3, 0.3, 0.4])]
    with pytest.warns(UserWarning, match="Length of split at index 0 is 0"):
        E.random_split(range(3), [0.0, 1.0])
    for lengths in ([3, 3], [0.5, 1.5], [-0.5, 1.5], [0.2, 0.2]):
        assert _err(lambda: E.random_split(range(10), lengths)) == _err(lambda: T.random_split(range(10), lengths))
    # the subsets view the dataset (indices only, no copy)
    s = E.random_split(list("abcdef"), [2, 4], generator=ember.Generator().manual_seed(0))
    assert sorted(s[0].indices + s[1].indices) == list(range(6))
