"""DataLoader with worker processes: same batches as 0 workers and as torch, seeding, shared memory,
error propagation, killed workers, timeouts, shutdown (no orphans), IterableDataset sharding."""
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import ember
from ember.utils import data as E
from ember.utils.data import _shared

from ._util import to_py

torch = pytest.importorskip("torch")
T = torch.utils.data

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork-based worker tests")


def _gone(pid, within=5.0):
    """True once no process ``pid`` exists (reaped or never our child any more)."""
    end = time.monotonic() + within
    while time.monotonic() < end:
        if not os.path.exists(f"/proc/{pid}"):
            return True
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    return True  # a zombie has exited; only its exit status is left
        except OSError:
            return True
        time.sleep(0.05)
    return False


def _leftovers():
    return [f for f in os.listdir(_shared._DIR) if f.startswith(f"ember-dl-{os.getpid()}-")]


class Items:
    def __init__(self, lib, n=12):
        self.lib, self.n = lib, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": self.lib.arange(3.) * i, "y": i, "z": np.full((2,), i, np.int32)}


def batches(D, lib, **kw):
    return [to_py(b) for b in D.DataLoader(Items(lib), **kw)]


@pytest.mark.parametrize("kw", [{"batch_size": 5}, {"batch_size": 4, "shuffle": True}, {"batch_size": None},
                                {"batch_size": 5, "drop_last": True}])
def test_workers_give_same_batches_as_main_process_and_torch(kw):
    runs = []
    for nw in (0, 1, 2):
        ember.manual_seed(0)
        runs.append(batches(E, ember, num_workers=nw, **kw))
    assert runs[0] == runs[1] == runs[2]
    torch.manual_seed(0)
    assert runs[2] == batches(T, torch, num_workers=2, **kw)
    assert not _leftovers()


class Seeds:
    """Reports each worker's RNG state as seen from inside (the same program on both sides)."""

    def __init__(self, lib, D):
        self.lib, self.D = lib, D

    def __len__(self):
        return 4

    def __getitem__(self, i):
        w = self.D.get_worker_info()
        return (i, w.id, w.num_workers, w.seed, self.lib.initial_seed(), random.randint(0, 1 << 30),
                int(np.random.randint(0, 1 << 30)), self.lib.rand(2).tolist())


def test_worker_seeding_matches_torch():
    out = {}
    for lib, D in ((ember, E), (torch, T)):
        lib.manual_seed(123)
        out[lib.__name__] = [to_py(b) for b in D.DataLoader(Seeds(lib, D), batch_size=None, num_workers=2)]
    assert out["ember"] == out["torch"]
    ids = [b[1] for b in out["ember"]]
    assert ids == [0, 1, 0, 1] and out["ember"][0][3] + 1 == out["ember"][1][3]
    # a loader generator fixes the base seed instead of the global stream
    g = [[b[3] for b in E.DataLoader(Seeds(ember, E), batch_size=None, num_workers=2,
                                     generator=ember.Generator().manual_seed(9))] for _ in range(2)]
    assert g[0] == g[1]


def test_worker_init_fn_and_worker_info():
    def init(wid):
        info = E.get_worker_info()
        assert info.id == wid
        with pytest.raises(RuntimeError, match="Cannot assign attributes to WorkerInfo objects"):
            info.id = 5
        os.environ["EMBER_TEST_WORKER"] = f"w{wid}"

    class DS(E.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = E.get_worker_info()
            return os.environ["EMBER_TEST_WORKER"], info.num_workers, info.dataset is not self or True, os.getpid()

    out = list(E.DataLoader(DS(), batch_size=None, num_workers=2, worker_init_fn=init))
    assert [o[0] for o in out] == ["w0", "w1", "w0", "w1"]
    assert out[0][3] != os.getpid() and out[0][3] != out[1][3]
    assert "EMBER_TEST_WORKER" not in os.environ


def test_tensors_arrive_through_shared_memory():
    class Big(E.Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return ember.full((64, 32), float(i)).t()  # a transposed (non-contiguous) view

    got = list(E.DataLoader(Big(), batch_size=None, num_workers=2))
    for i, t in enumerate(got):
        assert t.shape == (32, 64) and t.stride() == (1, 32)  # strides kept
        assert isinstance(t._storage._root.base, _shared._Block)  # backed by a shared mapping, not a pickle
        assert float(t.sum()) == i * 64 * 32
    stacked = list(E.DataLoader(Big(), batch_size=3, num_workers=2))
    assert stacked[1].shape == (3, 32, 64) and stacked[1].is_contiguous()
    assert isinstance(stacked[1]._storage._root.base, _shared._Block)
    assert stacked[1][:, 0, 0].tolist() == [3., 4., 5.]
    stacked[0].add_(1)  # the received memory is private to this process and writable
    assert not _leftovers()


def test_requires_grad_leaf_crosses_and_non_leaf_is_refused():
    class G(E.Dataset):
        def __init__(self, leaf):
            self.leaf = leaf

        def __len__(self):
            return 2

        def __getitem__(self, i):
            t = ember.ones(2, requires_grad=True)
            return t if self.leaf else t * 2

    out = list(E.DataLoader(G(True), batch_size=None, num_workers=1))
    assert out[0].requires_grad and out[0].is_leaf
    with pytest.raises(RuntimeError, match="Cowardly refusing to serialize non-leaf tensor which requires_grad"):
        list(E.DataLoader(G(False), batch_size=None, num_workers=1))


class TwoArgs(Exception):
    def __init__(self, a, b):
        super().__init__(a, b)


class Fails:
    def __init__(self, exc):
        self.exc = exc

    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 3:
            raise self.exc
        return i


def test_worker_exception_reraised_with_traceback():
    it = iter(E.DataLoader(Fails(ValueError("bad sample 3")), num_workers=2))
    assert [next(it).item() for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError) as ei:
        next(it)
    msg = str(ei.value)
    assert msg.startswith("Caught ValueError in DataLoader worker process 1.\nOriginal Traceback (most recent call last):")
    assert "raise self.exc" in msg and msg.rstrip().endswith("ValueError: bad sample 3")
    assert [b.item() for b in it] == [4, 5]  # the loader goes on after a failed batch, like torch's


def test_worker_exception_types_like_torch():
    for exc in (KeyError("k"), IndexError("i")):
        for D in (E, T):
            with pytest.raises(type(exc), match="Caught .* in DataLoader worker process 1"):
                list(D.DataLoader(Fails(exc), num_workers=2))

    with pytest.raises(RuntimeError, match="Caught TwoArgs in DataLoader worker process 1"):
        list(E.DataLoader(Fails(TwoArgs(1, 2)), num_workers=2))

    class Local(Exception):  # cannot be pickled: arrives as RuntimeError with the same text
        pass

    with pytest.raises(RuntimeError, match="(?s)Caught Local in DataLoader worker process 1.*Local: x"):
        list(E.DataLoader(Fails(Local("x")), num_workers=2))


def test_worker_init_fn_exception():
    def init(wid):
        raise OSError(f"init failed in {wid}")

    with pytest.raises(OSError, match="(?s)Caught OSError in DataLoader worker process 0.*init failed in 0"):
        list(E.DataLoader(range(4), num_workers=2, worker_init_fn=init))


class Killer:
    def __init__(self, sig):
        self.sig = sig

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 3:
            os.kill(os.getpid(), self.sig)
            time.sleep(10)
        return i


@pytest.mark.parametrize("sig,text", [(signal.SIGKILL, "Killed"), (signal.SIGTERM, "Terminated")])
def test_killed_worker_raises_naming_pid(sig, text):
    before = set(_leftovers())  # only files this test's loader leaves count (earlier tests share the pid prefix)
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly") as ei:
        list(E.DataLoader(Killer(sig), num_workers=2))
    assert isinstance(ei.value.__cause__, RuntimeError)
    assert f"is killed by signal: {text}." in str(ei.value.__cause__)
    assert not set(_leftovers()) - before


def test_worker_exit_code():
    class Exits(E.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            if i == 1:
                os._exit(3)
            return i

    with pytest.raises(RuntimeError, match="exited unexpectedly") as ei:
        list(E.DataLoader(Exits(), num_workers=1))
    assert "exited unexpectedly with exit code 3" in str(ei.value.__cause__)


def test_timeout():
    class Slow(E.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            time.sleep(2.5 if i == 1 else 0)
            return i

    it = iter(E.DataLoader(Slow(), num_workers=1, timeout=1.0))
    assert next(it).item() == 0
    with pytest.raises(RuntimeError, match=r"^DataLoader timed out after 1.0 seconds$"):
        next(it)  # raising at all (instead of returning item 1 after 2.5 s) is the timeout working
    del it


def test_timeout_with_no_workers_is_refused_at_iteration_like_torch():
    with pytest.raises(AssertionError):
        iter(E.DataLoader(range(2), timeout=1))


class Pids(E.Dataset):
    def __init__(self, delay=0.0):
        self.delay = delay

    def __len__(self):
        return 100

    def __getitem__(self, i):
        time.sleep(self.delay)
        return os.getpid()


@pytest.mark.parametrize("delay", [0.0, 0.3])
def test_break_shuts_workers_down(delay):
    pids = set()
    for b in E.DataLoader(Pids(delay), batch_size=None, num_workers=2):
        pids.add(b)
        if len(pids) == 2:
            break
    assert len(pids) == 2
    assert all(_gone(p) for p in pids)
    assert not _leftovers()


def test_deleting_iterator_shuts_workers_down():
    it = iter(E.DataLoader(Pids(), batch_size=None, num_workers=2))
    pids = {next(it), next(it)}
    workers = [w.pid for w in it._workers]
    assert pids == set(workers)
    del it
    assert all(_gone(p) for p in workers)


def test_workers_exit_when_main_process_dies(tmp_path):
    script = textwrap.dedent("""
        import os, sys, time
        sys.path.insert(0, %r)
        from ember.utils import data as E
        class DS(E.Dataset):
            def __len__(self): return 1000
            def __getitem__(self, i): return os.getpid()
        it = iter(E.DataLoader(DS(), batch_size=None, num_workers=2))
        print(" ".join(str(w.pid) for w in it._workers), flush=True)
        next(it)
        os.kill(os.getpid(), 9)
    """ % os.getcwd())
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    pids = [int(x) for x in p.stdout.split()]
    assert len(pids) == 2
    assert all(_gone(pid, within=8) for pid in pids)


def _shard_dataset(D):
    class Shards(D.IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            info = D.get_worker_info()
            if info is None:
                return iter(range(self.n))
            return iter(range(info.id, self.n, info.num_workers))
    return Shards


@pytest.mark.parametrize("nw,bs", [(0, 2), (1, 2), (2, 2), (2, None), (2, 3), (3, 1)])
def test_iterable_sharding_with_get_worker_info(nw, bs):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 3 workers on a 2-core machine
        e = [to_py(b) for b in E.DataLoader(_shard_dataset(E)(9), batch_size=bs, num_workers=nw)]
        t = [to_py(b) for b in T.DataLoader(_shard_dataset(T)(9), batch_size=bs, num_workers=nw)]
    assert e == t
    flat = [x for b in e for x in (b[3] if isinstance(b, tuple) else [b])]
    assert sorted(flat) == list(range(9))


def test_iterable_drop_last_per_worker():
    e = [b.tolist() for b in E.DataLoader(_shard_dataset(E)(9), batch_size=2, num_workers=2, drop_last=True)]
    t = [b.tolist() for b in T.DataLoader(_shard_dataset(T)(9), batch_size=2, num_workers=2, drop_last=True)]
    assert e == t


def test_unsharded_iterable_duplicates_and_warns_like_torch():
    class Dup(E.IterableDataset):
        def __iter__(self):
            return iter(range(4))

        def __len__(self):
            return 3  # each worker yields the whole range, so 4 batches come: the 4th warns

    dl = E.DataLoader(Dup(), batch_size=2, num_workers=2)
    assert len(dl) == 2
    with pytest.warns(UserWarning, match="For multiprocessing data-loading, this could be caused"):
        out = [b.tolist() for b in dl]
    assert out == [[0, 1], [0, 1], [2, 3], [2, 3]]


def test_persistent_workers_across_epochs():
    def epochs(lib, D):
        dl = D.DataLoader(Items(lib), batch_size=3, shuffle=True, num_workers=2, persistent_workers=True,
                          generator=lib.Generator().manual_seed(2))
        first = [to_py(b) for b in dl]
        pids = [w.pid for w in dl._iterator._workers]
        for i, b in enumerate(dl):  # break in the middle: the next epoch must start clean
            if i == 1:
                break
        third = [to_py(b) for b in dl]
        assert [w.pid for w in dl._iterator._workers] == pids and all(w.is_alive() for w in dl._iterator._workers)
        return first, third, dl

    e1, e3, dl = epochs(ember, E)
    t1, t3, _ = epochs(torch, T)
    assert e1 == t1 and e3 == t3  # the base seed is drawn once, each epoch draws a fresh permutation
    pids = [w.pid for w in dl._iterator._workers]
    it = dl._iterator
    del dl
    it._shutdown_workers()
    assert all(_gone(p) for p in pids)


def test_persistent_iterable_workers():
    dl = E.DataLoader(_shard_dataset(E)(5), batch_size=2, num_workers=2, persistent_workers=True)
    assert [b.tolist() for b in dl] == [[0, 2], [1, 3], [4]]
    assert [b.tolist() for b in dl] == [[0, 2], [1, 3], [4]]


def test_in_order_false_and_prefetch_factor(tmp_path):
    marker = tmp_path / "item1-done"

    class Uneven(E.Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            if i == 1:
                marker.touch()
            if i == 0:  # finish only after item 1 (another worker) is done, so it can be delivered first
                end = time.monotonic() + 10
                while not marker.exists() and time.monotonic() < end:
                    time.sleep(0.01)
                time.sleep(0.3)
            return i

    out = [b.item() for b in E.DataLoader(Uneven(), num_workers=2, in_order=False)]
    assert sorted(out) == list(range(6)) and out[0] != 0
    marker.unlink()
    assert [b.item() for b in E.DataLoader(Uneven(), num_workers=2, prefetch_factor=1)] == list(range(6))


def test_spawn_context():
    ds = E.TensorDataset(ember.arange(10.).reshape(5, 2), ember.arange(5))
    out = [to_py(b) for b in E.DataLoader(ds, batch_size=2, num_workers=1, multiprocessing_context="spawn")]
    assert out == [to_py(b) for b in E.DataLoader(ds, batch_size=2)]
