"""The compiled kernels' thread pool (ember/backend/cpu_pool.h) and the compiled max-pooling kernels.

The pool: results of split kernels equal one-piece results; per-piece accumulators give the same sums each
time; kernels called from several Python threads at once, and in a forked child, stay correct. Max pooling:
indices, values and gradients equal torch's on random windows (padding, dilation, ceil_mode, ties, NaN,
-inf), and the NumPy path's where both apply."""
import os
import sys
import threading

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.backend import cpu_kernels as K
from ember.backend import parallel

pytestmark = pytest.mark.skipif(not K.available(), reason=f"no compiled CPU kernels: {K.status()}")

R = np.random.default_rng(0)


@pytest.fixture
def two_threads():
    old = parallel.threads()
    parallel.set_threads(2)
    yield
    parallel.set_threads(old)


def test_split_equals_one_piece(two_threads, monkeypatch):
    x = R.standard_normal((512, 1024)).astype(np.float32)
    y2, _ = K.gelu(x, "none")
    s2 = K.softmax(x, log=True)
    monkeypatch.setattr(parallel, "threads", lambda: 1)
    y1, _ = K.gelu(x, "none")
    s1 = K.softmax(x, log=True)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(s1, s2)


def test_layer_norm_backward_sums_repeat(two_threads):
    x = R.standard_normal((1024, 256)).astype(np.float32)
    g = R.standard_normal((1024, 256)).astype(np.float32)
    w = R.standard_normal(256).astype(np.float32)
    first = K.layer_norm_backward(g, x, w, 1e-5)
    for _ in range(5):
        again = K.layer_norm_backward(g, x, w, 1e-5)
        for a, b in zip(first, again):
            np.testing.assert_array_equal(a, b)
    ref_db = g.astype(np.float64).sum(0)
    np.testing.assert_allclose(first[2], ref_db, rtol=1e-4, atol=1e-3)


def test_kernels_from_many_python_threads(two_threads):
    """Threads that find the pool busy run their pieces themselves: every result is still right."""
    xs = [R.standard_normal((256, 1024)).astype(np.float32) for _ in range(4)]
    want = [K.softmax(x, log=False) for x in xs]
    errors = []

    def work(i):
        for _ in range(20):
            got = K.softmax(xs[i], log=False)
            if not np.array_equal(got, want[i]):
                errors.append(i)
    ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_pool_in_forked_child(two_threads):
    """A DataLoader worker is a forked child: it has none of the parent's pool threads, and must not wait
    for them."""
    x = R.standard_normal((512, 1024)).astype(np.float32)
    want = K.softmax(x, log=False)  # the parent's pool is started
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        ok = all(np.array_equal(K.softmax(x, log=False), want) for _ in range(3))
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


# ---------------------------------------------------------------- max pooling
def _pool_case(rng):
    n = int(rng.choice([1, 2]))
    sp = tuple(int(v) for v in rng.integers(1, 9, n))
    k = tuple(int(v) for v in rng.integers(1, 4, n))
    st = tuple(int(v) for v in rng.integers(1, 4, n))
    dl = tuple(int(v) for v in rng.integers(1, 3, n))
    pd = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
    x = rng.standard_normal((2, 3) + sp).astype(np.float32)
    kind = int(rng.integers(0, 4))
    if kind == 1:
        x[rng.random(x.shape) < 0.2] = np.nan
    elif kind == 2:
        x[rng.random(x.shape) < 0.5] = -np.inf
    elif kind == 3:
        x = np.round(x)  # ties
    return n, x, k, st, pd, dl, bool(rng.integers(0, 2))


@pytest.mark.parametrize("seed", range(6))
def test_max_pool_like_torch(seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    checked = 0
    while checked < 25:
        n, x, k, st, pd, dl, ceil = _pool_case(rng)
        f = "max_pool1d" if n == 1 else "max_pool2d"
        tx = torch.tensor(x, requires_grad=True)
        try:
            tv, ti = getattr(torch.nn.functional, f)(tx, k, st, pd, dl, ceil, True)
        except RuntimeError:
            continue
        if (ti >= x[0, 0].size).any():
            continue  # a window wholly in the padding: torch's own backward writes out of bounds there
        g = rng.standard_normal(tuple(tv.shape)).astype(np.float32)
        tv.backward(torch.tensor(g))
        ex = ember.tensor(x, requires_grad=True)
        ev, ei = getattr(F, f)(ex, k, st, pd, dl, ceil, True)
        ev.backward(ember.tensor(g))
        np.testing.assert_array_equal(ei.numpy(), ti.numpy())
        np.testing.assert_array_equal(ev.detach().numpy(), tv.detach().numpy())
        np.testing.assert_array_equal(ex.grad.numpy(), tx.grad.numpy())
        checked += 1


def test_max_pool_window_in_padding_gives_minus_inf():
    """torch allows a dilated window to fall wholly in the padding: its value is -inf (its index points past
    the plane, as torch's; the backward adds nothing for it)."""
    x = ember.arange(7.0).reshape(1, 1, 7, 1).requires_grad_()
    v, i = F.max_pool2d(x, (1, 2), (3, 1), (0, 1), (2, 2), False, True)
    assert v.flatten().tolist() == [-np.inf] * 3
    assert i.flatten().tolist() == [1, 4, 7]
    v.sum().backward()
    assert x.grad.flatten().tolist() == [0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0]


@pytest.mark.parametrize("shape,k,s,p", [((4, 6, 28, 28), 2, 2, 0), ((2, 3, 9, 7), 3, 2, 1), ((3, 5, 11), 3, 1, 1)])
def test_max_pool_matches_numpy_path(shape, k, s, p, monkeypatch):
    x = R.standard_normal(shape).astype(np.float32)
    x[0, 0].flat[::5] = np.nan
    f = F.max_pool1d if len(shape) == 3 else F.max_pool2d

    def run():
        t = ember.tensor(x, requires_grad=True)
        v, i = f(t, k, s, p, return_indices=True)
        v.backward(ember.ones_like(v))
        return v.detach().numpy(), i.numpy(), t.grad.numpy()
    a = run()
    with monkeypatch.context() as m:
        m.setattr(K, "available", lambda: False)
        b = run()
    for u, w in zip(a, b):
        np.testing.assert_array_equal(u, w)


def test_max_pool_split_over_threads(two_threads):
    x = R.standard_normal((64, 6, 28, 28)).astype(np.float32)
    idx = K.maxpool2d_indices(x, (2, 2), (2, 2), (0, 0), (1, 1), (14, 14))
    ref = x.reshape(64, 6, 14, 2, 14, 2).max(axis=(3, 5))
    np.testing.assert_array_equal(K.pool_gather(x, idx), ref)
    g = R.standard_normal((64, 6, 14, 14)).astype(np.float32)
    r = K.pool_scatter(g, idx, (28, 28))
    assert r.sum(dtype=np.float64) == pytest.approx(g.sum(dtype=np.float64), rel=1e-5)
    np.testing.assert_array_equal(K.pool_gather(r, idx), g)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
