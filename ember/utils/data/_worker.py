"""What runs inside a DataLoader worker process, and what both sides of the pipes share.

A worker reads ``(task index, sampler indices)`` messages from its index pipe, fetches and collates the
samples, and writes ``(task index, batch)`` to its result pipe, tensors by shared memory (``_shared``).
It stops on ``None``, when the main process closes the pipes, or when its parent disappears.
"""
import os
import random
import sys
import traceback

import numpy as np

from . import _shared

# How often (seconds) an idle worker checks that its parent is still alive.
MP_STATUS_CHECK_INTERVAL = 1.0


class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: ``id``, ``num_workers``, ``seed``, ``dataset``."""
    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs.keys())
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")
        return super().__setattr__(key, val)

    def __repr__(self):
        items = ", ".join(f"{k}={getattr(self, k)}" for k in self.__keys)
        return f"{self.__class__.__name__}({items})"


_worker_info = None


def get_worker_info():
    """Inside a DataLoader worker: its ``WorkerInfo`` (id, num_workers, seed, dataset copy); else None."""
    return _worker_info


class KeyErrorMessage(str):
    """A str whose repr is itself, so a multi-line KeyError message prints as lines, not one escaped string."""

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception caught in one process, carried (type and formatted traceback) to be re-raised in another."""

    def __init__(self, exc_info=None, where="in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_name = exc_info[0].__name__
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_name} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            # exceptions whose constructor takes ``message=`` only (e.g. some library errors)
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            # the type cannot be built from one string: keep the text, change the type
            raise RuntimeError(msg) from None
        raise exception


class _IterableDatasetStopIteration:
    """Sent by a worker whose IterableDataset copy is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class _ResumeIteration:
    """Sent to persistent workers at the start of a new epoch; they answer with the same object."""


class _DatasetKind:
    Map = 0
    Iterable = 1


class _MapFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto_collation, self.collate_fn, self.drop_last = \
            dataset, auto_collation, collate_fn, drop_last

    def fetch(self, index):
        if self.auto_collation:
            getitems = getattr(self.dataset, "__getitems__", None)
            if getitems:
                data = getitems(index)
            else:
                data = [self.dataset[i] for i in index]
        else:
            data = self.dataset[index]
        return self.collate_fn(data)


class _IterableFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto_collation, self.collate_fn, self.drop_last = \
            dataset, auto_collation, collate_fn, drop_last
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if not data or (self.drop_last and len(data) < len(index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
    cls = _MapFetcher if kind == _DatasetKind.Map else _IterableFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)


def numpy_seed(base_seed, worker_id):
    """The 4-word NumPy seed of a worker: a SeedSequence hash of (worker_id, base_seed), as torch seeds it."""
    entropy = [worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32, 0]
    return np.random.SeedSequence(entropy).generate_state(4)


def _seed_worker(base_seed, worker_id):
    import ember
    seed = base_seed + worker_id
    random.seed(seed)
    ember.manual_seed(seed)
    np.random.seed(numpy_seed(base_seed, worker_id))
    return seed


def _send(conn, obj, worker_id):
    try:
        payload = _shared.dumps(obj)
    except Exception:
        data = obj[1]
        if isinstance(data, ExceptionWrapper):
            # the exception's class cannot be pickled (e.g. defined in a function): send its text as RuntimeError
            data.exc_type = RuntimeError
        else:  # the batch itself cannot cross: report why, as an error of this task
            data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        payload = _shared.dumps((obj[0], data))
    conn.send_bytes(payload)


def _worker_loop(setup, index_conn, result_conn, done_flag, close_fds):
    """Entry point of a worker process. ``setup`` is a dict, or bytes of one (spawn/forkserver)."""
    global _worker_info
    for c in close_fds:  # the parent's ends of every pipe, inherited through fork
        c.close()
    try:
        if isinstance(setup, bytes):
            setup = _shared.loads(setup)
        worker_id = setup["worker_id"]
        kind, dataset = setup["kind"], setup["dataset"]
        auto_collation, collate_fn, drop_last = setup["auto_collation"], setup["collate_fn"], setup["drop_last"]
        parent = setup["parent_pid"]
        try:
            import ember
            ember.set_num_threads(1)  # workers run in parallel already; nested BLAS threads only fight
        except Exception:
            pass
        seed = _seed_worker(setup["base_seed"], worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=setup["num_workers"], seed=seed, dataset=dataset)
        _shared.set_prefix(setup["prefix"])
        where = f"in DataLoader worker process {worker_id}"

        init_exception = None
        fetcher = None
        try:
            if setup["init_fn"] is not None:
                setup["init_fn"](worker_id)
            fetcher = create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=where)

        iteration_end = False
        while True:
            if not index_conn.poll(MP_STATUS_CHECK_INTERVAL):
                if os.getppid() != parent:  # the main process died without telling us
                    break
                continue
            try:
                r = index_conn.recv()
            except (EOFError, OSError):
                break
            if r is None:
                break
            if isinstance(r, _ResumeIteration):
                result_conn.send_bytes(_shared.dumps((r, None)))
                iteration_end = False
                if kind == _DatasetKind.Iterable and init_exception is None:
                    fetcher = create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last)
                continue
            if done_flag.value or iteration_end:
                continue  # shutting down, or this worker's iterable is exhausted: drop the task
            idx, index = r
            if init_exception is not None:
                data, init_exception = init_exception, None
            else:
                try:
                    data = fetcher.fetch(index)
                except Exception as e:
                    if isinstance(e, StopIteration) and kind == _DatasetKind.Iterable:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(where=where)
            _send(result_conn, (idx, data), worker_id)
            del data
    except KeyboardInterrupt:
        pass  # the main process handles Ctrl-C and shuts the workers down
    except (BrokenPipeError, ConnectionResetError):
        pass  # the main process closed the pipes: it is shutting down
    finally:
        for c in (index_conn, result_conn):
            try:
                c.close()
            except OSError:
                pass
