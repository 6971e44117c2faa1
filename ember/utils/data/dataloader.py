"""DataLoader: batches from a dataset, in this process or in worker processes (torch's semantics).

With ``num_workers > 0`` each worker is a real process with a pipe for task indices and one for
results. Tasks go out round-robin, at most ``prefetch_factor`` per worker ahead, and batches come back
in task order, so 0, 1 or N workers give the same batches. Tensors come back through shared memory
(see ``_shared``). The main process waits on the result pipes and on the workers' process sentinels
together, so a worker that dies is noticed at once rather than by polling; an exception inside a
worker is re-raised here with the worker's traceback.
"""
import atexit
import itertools
import math
import multiprocessing
import multiprocessing.connection as mpc
import os
import signal
import time
import warnings
import weakref

from . import _shared
from ._collate import default_collate, default_convert
from ._worker import (ExceptionWrapper, _DatasetKind, _IterableDatasetStopIteration, _ResumeIteration,
                      _worker_loop, create_fetcher, get_worker_info)
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info", "default_collate", "default_convert"]

# How long shutdown waits for a worker to exit by itself before terminating it.
_JOIN_TIMEOUT = 2.0
_iter_counter = itertools.count()
_live_iterators = weakref.WeakSet()  # iterators with workers, shut down at exit if still alive


@atexit.register
def _shutdown_live_iterators():
    # runs before multiprocessing's own exit handler (registered earlier), so files get removed too
    for it in list(_live_iterators):
        try:
            it._shutdown_workers()
        except Exception:
            pass


class _InfiniteConstantSampler(Sampler):
    """The 'indices' of an IterableDataset: None, forever (the worker just calls next())."""

    def __iter__(self):
        while True:
            yield None


def _max_workers_suggested():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


class DataLoader:
    """Iterate a dataset in batches: sampling, collation, worker processes, prefetching.

    ``num_workers=0`` loads in this process; otherwise that many worker processes load batches ahead
    (``prefetch_factor`` each) and ``persistent_workers`` keeps them between epochs. Workers are seeded
    ``base_seed + worker_id`` (ember's and Python's RNGs; NumPy's from a hash of both), the base seed
    drawn from ``generator`` (or the global generator) once per iterator.
    """
    __initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None,
                 persistent_workers=False, pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        elif num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in {False, None}:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but "
                                 f"got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.__initialized = True
        self._IterableDataset_len_called = None
        self._iterator = None
        self.check_worker_number_rationality()

    # ---------------------------------------------------------------- configuration
    @property
    def multiprocessing_context(self):
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, ctx):
        if ctx is not None:
            if self.num_workers > 0:
                if isinstance(ctx, str):
                    valid = multiprocessing.get_all_start_methods()
                    if ctx not in valid:
                        raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                                         f"{valid!r}, but got multiprocessing_context={ctx!r}")
                    ctx = multiprocessing.get_context(ctx)
                if not isinstance(ctx, multiprocessing.context.BaseContext):
                    raise TypeError(f"multiprocessing_context option should be a valid context object or a string "
                                    f"specifying the start method, but got multiprocessing_context={ctx}")
            else:
                raise ValueError(f"multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={self.num_workers}")
        self.__multiprocessing_context = ctx

    def __setattr__(self, attr, val):
        if self.__initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                                           "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after {self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def check_worker_number_rationality(self):
        """Warn when more workers are asked for than this process may run on CPUs."""
        if self.num_workers == 0:
            return
        suggested = _max_workers_suggested()
        if suggested is None:
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in total. Cpuset is "
                          f"not taken into account and the total number of CPUs could not be determined, so "
                          f"there is no suggestion.", stacklevel=2)
        elif self.num_workers > suggested:
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in total. Our suggested "
                          f"max number of worker in current system is {suggested}, which is smaller than what this "
                          f"DataLoader is going to create. Please be aware that excessive worker creation might get "
                          f"DataLoader running slow or even freeze, lower the worker number to avoid potential "
                          f"slowness/freeze if necessary.", stacklevel=2)

    # ---------------------------------------------------------------- iteration
    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self):
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def __len__(self):
        if self._dataset_kind == _DatasetKind.Iterable:
            # the dataset's own length (TypeError if it has none), turned into a number of batches
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                if self.drop_last:
                    length = length // self.batch_size
                else:
                    length = math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)


def _accelerator_available():
    try:
        from ... import cuda
        return bool(cuda.is_available())
    except Exception:
        return False


def _pin(data, device):
    """Pin every tensor in ``data`` (where ember tensors support it); structure kept."""
    from ..._tensor import Tensor
    if isinstance(data, Tensor):
        pin = getattr(data, "pin_memory", None)
        return pin() if pin is not None else data
    if isinstance(data, dict):
        return {k: _pin(v, device) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(_pin(d, device) for d in data))
    if isinstance(data, tuple):
        return [_pin(d, device) for d in data]
    if isinstance(data, list):
        return [_pin(d, device) for d in data]
    return data


class _BaseDataLoaderIter:
    def __init__(self, loader):
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._pin_memory = loader.pin_memory and _accelerator_available()
        if loader.pin_memory and not self._pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                          "memory won't be used.", stacklevel=3)
        self._pin_memory_device = loader.pin_memory_device
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        import ember
        self._base_seed = int(ember.empty((), dtype=ember.int64).random_(generator=loader.generator).item())
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0
        self._profile_name = f"enumerate(DataLoader)#{self.__class__.__name__}.__next__"

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter=False):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)

    def _next_data(self):
        raise NotImplementedError

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        if (self._dataset_kind == _DatasetKind.Iterable and self._IterableDataset_len_called is not None
                and self._num_yielded > self._IterableDataset_len_called):
            msg = (f"Length of IterableDataset {self._dataset} was reported to be {self._IterableDataset_len_called}"
                   f"(when accessing len(dataloader)), but {self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                msg += ("For multiprocessing data-loading, this could be caused by not properly configuring the "
                        "IterableDataset replica at each worker. Please see "
                        "https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset for examples.")
            warnings.warn(msg, stacklevel=2)
        return data

    def __len__(self):
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError("{} cannot be pickled", self.__class__.__name__)


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader):
        super().__init__(loader)
        assert self._timeout == 0
        assert self._num_workers == 0
        self._dataset_fetcher = create_fetcher(self._dataset_kind, self._dataset, self._auto_collation,
                                               self._collate_fn, self._drop_last)

    def _next_data(self):
        index = self._next_index()  # StopIteration ends the loop
        data = self._dataset_fetcher.fetch(index)
        if self._pin_memory:
            data = _pin(data, self._pin_memory_device)
        return data


def _signal_text(signum):
    try:
        return signal.strsignal(signum) or f"Unknown signal {signum}"
    except (ValueError, AttributeError):
        return f"signal {signum}"


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Worker processes, task bookkeeping, in-order delivery, failure detection and shutdown."""

    def __init__(self, loader):
        super().__init__(loader)
        self._shutdown = True  # until the workers exist, there is nothing to shut down
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        ctx = loader.multiprocessing_context or multiprocessing.get_context()
        forked = ctx.get_start_method() == "fork"
        self._prefix = f"ember-dl-{os.getpid()}-{next(_iter_counter)}-{os.urandom(3).hex()}-"
        self._done_flag = ctx.RawValue("b", 0)  # lock-free: a worker killed mid-read cannot wedge it
        self._workers, self._index_conns, self._result_conns = [], [], []
        setups = []
        for i in range(self._num_workers):
            setups.append({
                "worker_id": i, "num_workers": self._num_workers, "kind": self._dataset_kind,
                "dataset": self._dataset, "auto_collation": self._auto_collation, "collate_fn": self._collate_fn,
                "drop_last": self._drop_last, "base_seed": self._base_seed, "init_fn": loader.worker_init_fn,
                "prefix": f"{self._prefix}w{i}-", "parent_pid": os.getpid()})
        pipes = [(ctx.Pipe(duplex=False), ctx.Pipe(duplex=False)) for _ in range(self._num_workers)]
        every_end = [c for pair in pipes for p in pair for c in p]
        self._shutdown = False
        _live_iterators.add(self)
        try:
            for i, ((idx_r, idx_w), (res_r, res_w)) in enumerate(pipes):
                setup = setups[i] if forked else _shared.dumps(setups[i], shared=False)
                # a forked child inherits every pipe end: it keeps only its own two
                others = [c for c in every_end if c is not idx_r and c is not res_w] if forked else []
                w = ctx.Process(target=_worker_loop, args=(setup, idx_r, res_w, self._done_flag, others),
                                daemon=True)
                w.start()
                self._workers.append(w)
                self._index_conns.append(idx_w)
                self._result_conns.append(res_r)
        finally:
            for (idx_r, _), (_, res_w) in pipes:
                idx_r.close()  # the workers' ends: only the workers keep them open
                res_w.close()
            for (_, idx_w), (res_r, _) in pipes[len(self._workers):]:
                idx_w.close()  # pipes of workers that never started
                res_r.close()
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_info = {}  # task index -> [worker id] or [worker id, data]
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            # persistent workers: wait until each has acknowledged the new epoch; anything still in
            # flight from the previous (unfinished) epoch arrives before the acknowledgement and is dropped
            for conn in self._index_conns:
                try:
                    conn.send(_ResumeIteration())
                except (BrokenPipeError, OSError):
                    pass  # that worker died: waiting for its acknowledgement reports it
            remaining = self._num_workers
            while remaining > 0:
                idx, data = self._get_data()
                if isinstance(idx, _ResumeIteration):
                    remaining -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    # ---------------------------------------------------------------- receiving
    def _worker_failed(self, worker_ids):
        """Raise torch's error for workers that exited while still needed (after shutting the rest down)."""
        failed = [(i, self._workers[i]) for i in worker_ids]
        pids = ", ".join(str(w.pid) for _, w in failed)
        _, w = failed[0]
        code = w.exitcode
        if code is not None and code < 0:
            sig = -code
            detail = f"DataLoader worker (pid {w.pid}) is killed by signal: {_signal_text(sig)}. "
            if sig == getattr(signal, "SIGBUS", None):
                detail += ("It is possible that dataloader's workers are out of shared memory. Please try to raise "
                           "your shared memory limit.")
            cause = RuntimeError(detail)
        elif code:
            cause = RuntimeError(f"DataLoader worker (pid {w.pid}) exited unexpectedly with exit code {code}. Details "
                                 f"are lost due to multiprocessing. Rerunning with num_workers=0 may give better "
                                 f"error trace.")
        else:
            cause = None
        self._shutdown_workers()
        raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly") from cause

    def _get_data(self):
        """The next (task index, data) any worker sends; raises on timeout or when a needed worker died."""
        deadline = None if self._timeout <= 0 else time.monotonic() + self._timeout
        while True:
            watched = [i for i in range(self._num_workers) if self._workers_status[i] or self._persistent_workers]
            conns = {self._result_conns[i]: i for i in watched if not self._result_conns[i].closed}
            sentinels = {self._workers[i].sentinel: i for i in watched if self._workers_status[i]}
            wait_for = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = mpc.wait(list(conns) + list(sentinels), wait_for)
            if not ready:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            for r in ready:
                if r in conns:
                    try:
                        payload = r.recv_bytes()
                    except (EOFError, OSError):
                        continue  # the worker is gone; its sentinel reports it
                    return _shared.loads(payload)
            dead = []
            for r in ready:
                i = sentinels.get(r)
                if i is None:
                    continue
                conn = self._result_conns[i]
                if not conn.closed and conn.poll(0):
                    try:  # it sent something before exiting: deliver that first
                        return _shared.loads(conn.recv_bytes())
                    except (EOFError, OSError):
                        pass
                dead.append(i)
            if dead:
                self._workers[dead[0]].join(0.5)  # so exitcode is known
                self._worker_failed(dead)

    def _next_data(self):
        while True:
            # skip tasks already delivered out of order, and tasks of workers that stopped (iterable end)
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is None:
                    self._rcvd_idx += 1
                    continue
                if len(info) == 2 or self._workers_status[info[0]]:
                    break
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration

            info = self._task_info[self._rcvd_idx]
            if len(info) == 2:
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process_data(info[1])

            assert not self._shutdown and self._tasks_outstanding > 0
            idx, data = self._get_data()
            if isinstance(idx, _ResumeIteration):
                continue
            self._tasks_outstanding -= 1
            if self._dataset_kind == _DatasetKind.Iterable and isinstance(data, _IterableDatasetStopIteration):
                if self._persistent_workers:
                    self._workers_status[data.worker_id] = False
                else:
                    self._mark_worker_as_unavailable(data.worker_id)
                self._try_put_index()
                continue
            if idx == self._rcvd_idx or not self._in_order:
                del self._task_info[idx]
                if idx == self._rcvd_idx:
                    self._rcvd_idx += 1
                return self._process_data(data)
            self._task_info[idx].append(data)

    def _process_data(self, data):
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        if self._pin_memory:
            data = _pin(data, self._pin_memory_device)
        return data

    # ---------------------------------------------------------------- sending
    def _try_put_index(self):
        assert self._tasks_outstanding < self._prefetch_factor * self._num_workers
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):  # the next worker still taking tasks, round-robin
            wid = next(self._worker_queue_idx_cycle)
            if self._workers_status[wid]:
                break
        else:
            return
        try:
            self._index_conns[wid].send((self._send_idx, index))
        except (BrokenPipeError, OSError):
            pass  # that worker is dead: waiting for its result reports it
        self._task_info[self._send_idx] = [wid]
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _mark_worker_as_unavailable(self, worker_id, shutdown=False):
        assert self._workers_status[worker_id] or (self._persistent_workers and shutdown)
        try:
            self._index_conns[worker_id].send(None)
        except (BrokenPipeError, OSError):
            pass
        self._workers_status[worker_id] = False

    # ---------------------------------------------------------------- shutdown
    def _shutdown_workers(self):
        """Stop every worker (asking first, terminating stragglers), close the pipes, remove leftovers."""
        if self._shutdown:
            return
        self._shutdown = True
        try:
            self._done_flag.value = 1
            for conn in self._index_conns:
                try:
                    conn.send(None)
                except (BrokenPipeError, OSError):
                    pass
                conn.close()
            for conn in self._result_conns:
                conn.close()  # a worker blocked writing a result gets EPIPE and exits
            deadline = time.monotonic() + _JOIN_TIMEOUT
            for w in self._workers:
                w.join(max(0.0, deadline - time.monotonic()))
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(_JOIN_TIMEOUT)
                    if w.is_alive():
                        w.kill()
                        w.join()
        finally:
            _shared.cleanup(self._prefix)

    def __del__(self):
        try:
            self._shutdown_workers()
        except Exception:
            pass
