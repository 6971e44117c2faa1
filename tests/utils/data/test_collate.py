"""default_collate / default_convert against torch on every kind of sample they accept."""
import collections

import numpy as np
import pytest

import ember
from ember.utils import data as E
from ember.utils.data import _collate

from ._util import to_py

torch = pytest.importorskip("torch")
T = torch.utils.data

Point = collections.namedtuple("Point", "x y")


def samples(lib):
    """Batches (lists of samples) built the same way on each side."""
    return [
        [lib.tensor([1., 2.]), lib.tensor([3., 4.])],
        [lib.tensor(1), lib.tensor(2), lib.tensor(3)],
        [lib.zeros(0, 2), lib.zeros(0, 2)],
        [lib.arange(6).reshape(2, 3).t(), lib.arange(6).reshape(2, 3).t()],   # non-contiguous
        [lib.tensor([True]), lib.tensor([False])],
        [np.array([1, 2], np.int16), np.array([3, 4], np.int16)],
        [np.float32(1.5), np.float32(2.5)],
        [np.int64(3), np.int64(4)],
        [np.bool_(True), np.bool_(False)],
        [np.array(2.0), np.array(3.0)],
        [1, 2, 3],
        [1.5, 2.0],
        [True, False],
        ["a", "b"],
        [b"x", b"y"],
        [{"a": 1, "b": lib.tensor([1.])}, {"a": 2, "b": lib.tensor([2.])}],
        [(1, "s", 2.0), (3, "t", 4.0)],
        [[1, 2], [3, 4]],
        [Point(1, lib.tensor(2.)), Point(3, lib.tensor(4.))],
        [{"p": [Point(1, 2.)], "q": (np.ones(2, np.float32), 1)}, {"p": [Point(3, 4.)], "q": (np.zeros(2, np.float32), 2)}],
        [collections.OrderedDict(a=1), collections.OrderedDict(a=2)],
    ]


N_SAMPLES = len(samples(ember))


@pytest.mark.parametrize("i", range(N_SAMPLES))
def test_default_collate_matches_torch(i):
    e, t = E.default_collate(samples(ember)[i]), T.default_collate(samples(torch)[i])
    assert to_py(e) == to_py(t)
    assert type(e) is type(t) or (type(e).__module__.startswith("ember") and type(t).__module__.startswith("torch"))


@pytest.mark.parametrize("i", range(N_SAMPLES))
def test_default_convert_matches_torch(i):
    for s_e, s_t in zip(samples(ember)[i], samples(torch)[i]):
        assert to_py(E.default_convert(s_e)) == to_py(T.default_convert(s_t))


def test_collate_stacks_views_into_fresh_contiguous_batch():
    x = ember.arange(12.).reshape(3, 4)
    b = E.default_collate([x[:, 1], x[:, 2]])
    assert b.is_contiguous() and b.tolist() == [[1., 5., 9.], [2., 6., 10.]]


@pytest.mark.parametrize("bad", [
    lambda: [object(), object()],
    lambda: [np.array(["a", "b"]), np.array(["c", "d"])],
    lambda: [np.array([object()]), np.array([object()])],
    lambda: [[1, 2], [3]],
    lambda: [None, None],
])
def test_default_collate_errors(bad):
    with pytest.raises(Exception) as ee:
        E.default_collate(bad())
    with pytest.raises(Exception) as et:
        T.default_collate(bad())
    assert ee.type is et.type
    assert str(ee.value).replace("ember", "torch") == str(et.value)


def test_default_convert_keeps_string_arrays():
    a = np.array(["x"])
    assert E.default_convert(a) is a
    assert to_py(E.default_convert((np.int32(3), "s"))) == to_py(T.default_convert((np.int32(3), "s")))


def test_collate_fn_map_extension():
    class Box:
        def __init__(self, v):
            self.v = v

    def box_fn(batch, *, collate_fn_map=None):
        return sum(b.v for b in batch)

    m = dict(_collate.default_collate_fn_map)
    m[Box] = box_fn
    out = _collate.collate([(Box(1), 1.0), (Box(2), 2.0)], collate_fn_map=m)
    assert out[0] == 3 and out[1].dtype == ember.float64
