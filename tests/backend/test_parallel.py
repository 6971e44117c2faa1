"""ember.backend.parallel: pieces cover the range once, errors come back, nested calls run inline, forks work."""
import os

import numpy as np
import pytest

from ember.backend import parallel as P


@pytest.fixture
def two_threads():
    old = P._state["n"]
    P.set_threads(2)
    yield
    P._state["n"] = old


def test_pieces_cover_the_range_once(two_threads):
    n = 5 * P.GRAIN + 7
    hits = np.zeros(n, np.int64)
    P.parallel_for(n, lambda i, j: hits.__setitem__(slice(i, j), hits[i:j] + 1))
    assert (hits == 1).all()
    assert P.pieces(n) == 2 and P.pieces(P.GRAIN) == 1


def test_errors_propagate_and_nested_calls_run_inline(two_threads):
    def bad(i, j):
        raise ValueError("piece failed")
    with pytest.raises(ValueError, match="piece failed"):
        P.parallel_for(4 * P.GRAIN, bad)
    inner = []
    P.parallel_for(4 * P.GRAIN, lambda i, j: inner.append(P.pieces(4 * P.GRAIN)))
    assert inner == [1, 1]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_pool_works_in_a_forked_child(two_threads):
    P.parallel_for(4 * P.GRAIN, lambda i, j: None)  # the parent's pool exists
    pid = os.fork()
    if pid == 0:
        try:
            out = np.zeros(4 * P.GRAIN)
            P.parallel_for(out.size, lambda i, j: out.__setitem__(slice(i, j), 1.0))
            os._exit(0 if out.sum() == out.size else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


def test_set_num_threads_sets_the_pieces():
    import ember
    old = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        assert P.threads() == 1 and P.pieces(10 * P.GRAIN) == 1
    finally:
        ember.set_num_threads(old)
