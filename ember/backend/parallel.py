"""Intra-op parallelism for compute-heavy CPU kernels (what torch's at::parallel_for does).

NumPy runs one ufunc loop on one core, but it releases the GIL inside the loop, so two threads working on
two halves of an array do run at the same time. Kernels split their work into contiguous pieces of at
least ``GRAIN`` elements (torch's grain size) and hand all pieces but one to a small thread pool. The pool
has ``threads() - 1`` workers: the calling thread takes a piece too. ``ember.set_num_threads`` sets the
count (it defaults to the CPUs this process may run on, like torch's intra-op pool).

Worth it only for kernels of many passes over cache-sized blocks (GELU's normal tail: 2.7 -> 1.9 ms for
512K floats at 2 threads). A single memory-bound ufunc gains nothing (measured: 1M-float multiply 166 us
serial, 208 us split in two), and a hand-off costs ~60 us, so plain elementwise ops stay serial.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

GRAIN = 32768

_state = {"n": None, "pool": None, "pool_n": 0}
_lock = threading.Lock()


def threads():
    """How many threads a kernel may use."""
    n = _state["n"]
    if n is None:
        env = os.environ.get("OMP_NUM_THREADS", "")
        n = _state["n"] = int(env) if env.isdigit() and int(env) > 0 else default_threads()
    return n


def default_threads():
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def set_threads(n):
    """Set the thread count (``ember.set_num_threads``); the pool is rebuilt on next use."""
    _state["n"] = max(1, int(n))


def _pool(k):
    p = _state["pool"]
    if p is None or _state["pool_n"] != k:
        with _lock:
            p = _state["pool"]
            if p is None or _state["pool_n"] != k:
                if p is not None:
                    p.shutdown(wait=False)
                p = _state["pool"] = ThreadPoolExecutor(max_workers=k, thread_name_prefix="ember-intraop")
                _state["pool_n"] = k
    return p


def _forget_pool():
    # a forked child (a DataLoader worker) inherits the pool object but not its threads
    _state["pool"], _state["pool_n"] = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)

_in_worker = threading.local()


def pieces(n, min_size=GRAIN):
    """How many pieces to cut ``n`` elements into: 1 (run inline) unless each piece gets ``min_size``."""
    if n < 2 * min_size or getattr(_in_worker, "busy", False):
        return 1
    return max(1, min(threads(), n // min_size))


def _run_piece(fn, i, j):
    _in_worker.busy = True  # a kernel called from a piece runs inline (no nested pools, no deadlock)
    try:
        return fn(i, j)
    finally:
        _in_worker.busy = False


def parallel_for(n, fn, min_size=GRAIN):
    """Call ``fn(i, j)`` over [0, n) cut into contiguous pieces, in parallel when ``n`` is large enough.
    ``fn`` must write only its own piece; the pieces are done when this returns (errors re-raised)."""
    k = pieces(n, min_size)
    if k == 1:
        fn(0, n)
        return
    bounds = [n * p // k for p in range(k + 1)]
    futs = [_pool(k - 1).submit(_run_piece, fn, bounds[p], bounds[p + 1]) for p in range(1, k)]
    try:
        _run_piece(fn, bounds[0], bounds[1])
    finally:
        for f in futs:
            f.result()


_blas = {"libs": None}


def _blas_libs():
    if _blas["libs"] is None:
        try:
            from threadpoolctl import ThreadpoolController
            _blas["libs"] = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
        except Exception:  # noqa: BLE001 - no controller: BLAS keeps its own threads
            _blas["libs"] = []
    return _blas["libs"]


class blas_serial:
    """Within the block, BLAS calls run on the calling thread only (for kernels that run their own pieces in
    parallel, each with its own gemms: one BLAS pool spinning beside them would fight for the cores)."""

    __slots__ = ("old",)

    def __enter__(self):
        libs = _blas_libs()
        self.old = [c.get_num_threads() for c in libs]
        for c in libs:
            c.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        for c, n in zip(_blas_libs(), self.old):
            c.set_num_threads(n)
        return False


PER_THREAD_WORK = 1 << 26  # multiply-adds: below, BLAS's spinning workers (left from any threaded gemm) cost
# pieces on our threads more than they gain (LeNet's convolutions, 8-21M, ran slower split)


def per_thread(n, fn, work):
    """``fn(lo, hi)`` over [0, n) in one piece per thread, each running its own gemms single-threaded (for
    kernels made of copies and thin gemms over independent samples: one piece per core does every stage on
    its own samples, with no hand-off between them), when ``work`` (multiply-adds) pays for it; else inline."""
    if n > 1 and threads() > 1 and work >= PER_THREAD_WORK:
        from . import cpu_kernels
        cpu_kernels.rest()  # the compiled pool's spinning workers would take cores from these threads
        with blas_serial():
            parallel_for(n, fn, min_size=1)
    else:
        fn(0, n)
