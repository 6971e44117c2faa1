"""``ember.profiler``: torch.profiler's API over ember's op runner.

While a profile collects, the runner global ``ember.ops._registry._run`` is swapped for a wrapper that
times each op as ``aten::<op name>`` (ember's op names follow ATen's: add, mul, matmul, sum_all, ...),
and in-place calls report ``aten::<name>_``. Nothing is swapped while no profile is collecting, so the
op path then costs exactly what it costs without the profiler.
"""
import enum
import functools
import os
import socket
import threading
import time
import traceback
import warnings

from .._tensor import Tensor as _Tensor
from ._events import EventList, FunctionEvent

__all__ = ["ProfilerActivity", "ProfilerAction", "profile", "record_function", "schedule",
           "tensorboard_trace_handler", "supported_activities"]


class ProfilerActivity(enum.Enum):
    """What to profile: host-side ops (CPU) or device kernels."""
    CPU = 0
    XPU = 1
    CUDA = 2
    HPU = 3
    MTIA = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    """What the profiler does at a step, as decided by a ``schedule``."""
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def _cuda_available():
    try:
        from .. import cuda
        return bool(cuda.is_available())
    except Exception:  # no CuPy / no driver: only the CPU can be profiled
        return False


def supported_activities():
    """The activities this build can profile: always CPU, CUDA when a GPU is usable."""
    acts = {ProfilerActivity.CPU}
    if _cuda_available():
        acts.add(ProfilerActivity.CUDA)
    return acts


# ---------------------------------------------------------------- the recording session
_ember_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class _Session:
    """One collection window. While recording, each range is a plain list (cheap to build on the op
    path); ``finish`` turns them into ``FunctionEvent`` trees."""

    def __init__(self, record_shapes, profile_memory, with_stack, with_flops, device_timing):
        self.record_shapes, self.profile_memory = record_shapes, profile_memory
        self.with_stack, self.with_flops = with_stack, with_flops
        self.device_timing = device_timing
        self.plain = not (record_shapes or with_stack)  # ops need nothing but name and times
        self.records = []   # list.append is atomic: threads share it without a lock
        self.events = []
        self.tls = threading.local()
        self.perf0 = time.perf_counter_ns()
        self.epoch0 = time.time_ns()
        self.stopped_ns = None

    def stack(self):
        try:
            return self.tls.stack
        except AttributeError:
            st = self.tls.stack = []
            return st

    def begin(self, name, cat, args=None):
        st = self.stack()
        rec = [name, cat, _get_ident(), 0, None, st[-1] if st else None, None, None, 0, 0, None, None, None]
        if args is not None and self.record_shapes:
            rec[_SHAPES] = [list(a._data.shape) if isinstance(a, _Tensor) else [] for a in args]
            rec[_DTYPES] = [_dtype_name(a) for a in args]
        if self.with_stack:
            rec[_STACK] = _user_stack()
        st.append(rec)
        self.records.append(rec)
        rec[_START] = _perf_ns()
        return rec

    def end(self, rec):
        rec[_END] = _perf_ns()
        st = self.stack()
        if st and st[-1] is rec:
            st.pop()
        elif rec in st:  # ranges closed out of order (a record_function left open): unwind to this one
            while st and st.pop() is not rec:
                pass

    def finish(self):
        now = _perf_ns()
        recs = sorted(self.records, key=lambda r: (r[_START], -(r[_END] if r[_END] is not None else now)))
        made = {}
        events = []
        for i, r in enumerate(recs, 1):
            ev = FunctionEvent(i, r[_NAME], r[_CAT], r[_TID] & 0x7FFFFFFF, r[_START], r[_SHAPES], r[_STACK])
            ev.end_ns = r[_END] if r[_END] is not None else now  # still open at stop: ends with the profile
            if r[_DTYPES] is not None:
                ev.input_dtypes = r[_DTYPES]
            ev._mem, ev.flops = r[_MEM], r[_FLOPS]
            if r[_DEV] is not None:
                ev.device_time_total = ev.self_device_time_total = _device_elapsed_us(r[_DEV])
            parent = made.get(id(r[_PARENT])) if r[_PARENT] is not None else None
            if parent is not None:
                ev.cpu_parent = parent
                parent.cpu_children.append(ev)
            made[id(r)] = ev
            events.append(ev)
        self.events = events
        self.records = []
        self.stopped_ns = now


# raw record fields
_NAME, _CAT, _TID, _START, _END, _PARENT, _SHAPES, _DTYPES, _MEM, _FLOPS, _STACK, _ABSORB, _DEV = range(13)
_perf_ns = time.perf_counter_ns
_get_ident = threading.get_ident


def _device_elapsed_us(pair):
    e0, e1 = pair
    try:
        e1.synchronize()
        from cupy.cuda import get_elapsed_time
        return get_elapsed_time(e0, e1) * 1e3
    except Exception:  # a device error leaves the device time at 0 rather than losing the profile
        return 0.0


def _dtype_name(a):
    if isinstance(a, _Tensor):
        return str(a.dtype).split(".")[-1]
    return "Scalar" if isinstance(a, (int, float, complex, bool)) else ""


def _user_stack():
    """The caller's frames outside ember, innermost first, as "file(line): function"."""
    out = []
    for fr in reversed(traceback.extract_stack()[:-1]):
        if fr.filename.startswith(_ember_dir):
            continue
        out.append(f"{fr.filename}({fr.lineno}): {fr.name}")
    return out


_session = None          # the collecting session, or None
_orig_run = None         # the runner that was in place before the swap
_orig_inplace_hook = None
_install_lock = threading.Lock()


def _prod(xs):
    n = 1
    for x in xs:
        n *= int(x)
    return n


_MATMUL_OPERANDS = {"matmul": (0, 1), "mm": (0, 1), "bmm": (0, 1), "mv": (0, 1), "dot": (0, 1), "vdot": (0, 1),
                    "addmm": (1, 2), "addmv": (1, 2), "baddbmm": (1, 2), "addbmm": (1, 2), "linear": (0, 1)}


def _flops(name, args, out):
    """Multiply-add count x2 for matrix products and convolutions, element count for add/mul."""
    try:
        if name in _MATMUL_OPERANDS:
            i, _ = _MATMUL_OPERANDS[name]
            k = args[i]._data.shape[-1]
            n_out = out._data.size if name not in ("addbmm",) else \
                args[i]._data.shape[0] * out._data.size
            return 2 * n_out * k
        if name == "convolution":
            w = args[1]._data.shape
            return 2 * out._data.size * _prod(w[1:])
        if name in ("add", "mul"):
            return int(out._data.size)
    except (AttributeError, IndexError, TypeError):
        return 0
    return 0


def _recording_run(op, args, kw, dev, common, rg):
    s = _session
    if s is None:
        return _orig_run(op, args, kw, dev, common, rg)
    try:
        st = s.tls.stack
    except AttributeError:
        st = s.stack()
    if st:
        top = st[-1]
        if top[_ABSORB] is op:
            # the computing call inside an in-place op: its time is the in-place event's own
            top[_ABSORB] = None
            return _orig_run(op, args, kw, dev, common, rg)
    else:
        top = None
    if s.plain:
        rec = ["aten::" + op.name, "cpu_op", _get_ident(), 0, None, top, None, None, 0, 0, None, None, None]
        st.append(rec)
        s.records.append(rec)
        rec[_START] = _perf_ns()
    else:
        rec = s.begin("aten::" + op.name, "cpu_op", args)
    if s.device_timing and dev.type == "cuda":
        dev_ev = _device_events_begin()
        try:
            out = _orig_run(op, args, kw, dev, common, rg)
        finally:
            rec[_DEV] = _device_events_end(dev_ev)
            s.end(rec)
    else:
        try:
            out = _orig_run(op, args, kw, dev, common, rg)
        finally:
            rec[_END] = _perf_ns()
            if st and st[-1] is rec:
                st.pop()
            else:
                s.end(rec)
    if s.profile_memory and not op.view:  # non-view results are always fresh memory (the runner copies)
        rec[_MEM] = int(out._data.nbytes)
    if s.with_flops:
        rec[_FLOPS] = _flops(op.name, args, out)
    return out


def _recording_inplace(op, self, args, kw):
    from ..ops import _registry as R
    s = _session
    if s is None:
        return R.apply_inplace(op, self, args, kw, True)
    rec = s.begin("aten::" + op.name + "_", "cpu_op", (self,) + tuple(args))
    rec[_ABSORB] = op
    try:
        out = R.apply_inplace(op, self, args, kw, True)
    finally:
        rec[_ABSORB] = None
        s.end(rec)
    if s.with_flops:
        rec[_FLOPS] = _flops(op.name, (self,) + tuple(args), self)
    return out


def _device_events_begin():
    import cupy
    e0 = cupy.cuda.Event()
    e0.record()
    return e0


def _device_events_end(e0):
    import cupy
    e1 = cupy.cuda.Event()
    e1.record()
    return (e0, e1)


def _install(session):
    """Route the op runner through the recorder (one session at a time, as torch allows one profiler)."""
    global _session, _orig_run, _orig_inplace_hook
    from ..ops import _registry as R
    with _install_lock:
        if _session is not None:
            raise RuntimeError("Can't profile: another profiler is already running (ember records one profile "
                               "at a time)")
        _orig_run = R._run
        _orig_inplace_hook = R._inplace_hook
        _session = session
        R._run = _recording_run
        R._inplace_hook = _recording_inplace


def _uninstall(session):
    global _session
    from ..ops import _registry as R
    with _install_lock:
        if _session is not session:
            return
        R._run = _orig_run
        R._inplace_hook = _orig_inplace_hook
        _session = None
    session.finish()


# ---------------------------------------------------------------- record_function
class record_function:
    """Label a block of code (``with record_function("name"):`` or as a decorator) in the profile."""

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self._ev = None
        self._sess = None

    def __enter__(self):
        s = _session
        if s is not None:
            self._sess = s
            self._ev = s.begin(self.name, "user_annotation")
        return self

    def __exit__(self, exc_type, exc_value, tb):
        if self._ev is not None:
            self._sess.end(self._ev)
            self._ev = self._sess = None
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*a, **k):
            with record_function(self.name, self.args):
                return fn(*a, **k)
        return wrapped


# ---------------------------------------------------------------- schedules and handlers
def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """Step -> action: skip ``skip_first`` steps, then cycles of wait/warmup/active (``repeat`` times; 0 = forever).

    The last active step of each cycle is RECORD_AND_SAVE: the trace is handed to ``on_trace_ready`` then."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError("Invalid profiler schedule arguments")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results")

    def fn(step):
        if step < 0:
            raise AssertionError("step must be non-negative")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            # the first cycle starts right away; later ones wait as usual
            if step < warmup + active:
                return _in_cycle(step + wait)
            step -= warmup + active
            cycle = 1
        else:
            cycle = 0
        span = wait + warmup + active
        if repeat > 0 and step // span + cycle >= repeat:
            return ProfilerAction.NONE
        return _in_cycle(step % span)

    def _in_cycle(pos):
        if pos < wait:
            return ProfilerAction.NONE
        if pos < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if pos < wait + warmup + active - 1 else ProfilerAction.RECORD_AND_SAVE

    return fn


def _always_record(_step):
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An ``on_trace_ready`` that writes ``<worker>.<time_ns>.pt.trace.json[.gz]`` into ``dir_name``."""

    def handler_fn(prof):
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker}.{time.time_ns()}.pt.trace.json"
        if use_gzip:
            name += ".gz"
        prof.export_chrome_trace(os.path.join(dir_name, name))

    return handler_fn


# ---------------------------------------------------------------- profile
class profile:
    """Profile the ops run inside ``with profile(...) as prof:``; read ``prof.key_averages().table()``."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False, use_cuda=None,
                 custom_trace_id_callback=None):
        if use_cuda is not None:
            warnings.warn("`use_cuda` is deprecated, use `activities` argument instead", FutureWarning)
        acts = set(activities) if activities is not None else supported_activities()
        if use_cuda:
            acts.add(ProfilerActivity.CUDA)
        if ProfilerActivity.CUDA in acts and not _cuda_available():
            warnings.warn("CUDA is not available, disabling CUDA profiling")
            acts.discard(ProfilerActivity.CUDA)
        acts &= {ProfilerActivity.CPU, ProfilerActivity.CUDA}
        if not acts:
            raise AssertionError("No valid profiler activities found")
        self.activities = acts
        self.record_steps = schedule is not None
        self.schedule = schedule if schedule is not None else _always_record
        self.on_trace_ready = on_trace_ready
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.with_modules = with_modules
        self.acc_events = acc_events
        self.custom_trace_id_callback = custom_trace_id_callback
        self.step_num = 0
        self.current_action = None
        self.step_rec_fn = None
        self.profiler = None     # the last finished session's results
        self._session = None     # the collecting session
        self._metadata = {}
        self._acc = []

    # -------------------------------------------------------- lifecycle
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.stop()
        return False

    def start(self):
        """Begin profiling at step 0 of the schedule."""
        self.current_action = self.schedule(self.step_num)
        if self.current_action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE):
            self._start_collecting()
        self._enter_step()

    def stop(self):
        """End profiling; a trace being recorded is finished and handed to ``on_trace_ready``."""
        self._exit_step()
        if self._session is not None:
            self._stop_collecting()
            self._trace_ready()
        elif self.current_action == ProfilerAction.WARMUP:
            # stopping mid-warmup ends an (empty) trace, which replaces the last one without being handed on
            self._start_collecting()
            self._stop_collecting()
        self.current_action = None

    def step(self):
        """Mark the end of a training step: advances the schedule (and names the next ``ProfilerStep#N``)."""
        self._exit_step()
        prev = self.current_action
        self.step_num += 1
        cur = self.current_action = self.schedule(self.step_num)
        recording = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
        if prev == ProfilerAction.RECORD_AND_SAVE or (prev == ProfilerAction.RECORD and cur not in recording):
            if prev == ProfilerAction.RECORD and cur is not None:
                warnings.warn(f"Incorrect schedule: RECORD followed by {cur.name}")
            if self._session is not None:
                self._stop_collecting()
                self._trace_ready()
        if cur in recording and self._session is None:
            self._start_collecting()
        self._enter_step()

    def _enter_step(self):
        if self.record_steps and self._session is not None:
            self.step_rec_fn = record_function("ProfilerStep#" + str(self.step_num))
            self.step_rec_fn.__enter__()

    def _exit_step(self):
        if self.step_rec_fn is not None:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None

    def _start_collecting(self):
        sess = _Session(self.record_shapes, self.profile_memory, self.with_stack, self.with_flops,
                        ProfilerActivity.CUDA in self.activities)
        _install(sess)
        self._session = sess

    def _stop_collecting(self):
        sess, self._session = self._session, None
        _uninstall(sess)
        if self.acc_events and self.profiler is not None:
            sess.events = self.profiler.events + sess.events
        self.profiler = sess

    def _trace_ready(self):
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    # -------------------------------------------------------- results
    def events(self):
        """Every recorded range of the last finished trace, in start order."""
        if self.profiler is None:
            raise AssertionError("no profiling results: the profiler has not recorded a trace yet")
        s = self.profiler
        perf_of_base = s.perf0 - (s.epoch0 % 1_000_000_000)  # perf_counter value at the whole second
        meta = {"baseTimeNanoseconds": s.epoch0 - s.epoch0 % 1_000_000_000, "host_name": socket.gethostname(),
                "record_shapes": int(self.record_shapes), "profile_memory": int(self.profile_memory)}
        meta.update(self._metadata)
        return EventList(s.events, profile_memory=self.profile_memory, with_flops=self.with_flops,
                         with_stack=self.with_stack, base_ns=perf_of_base, pid=os.getpid(), trace_meta=meta)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        """Per-op totals (``FunctionEventAvg``), grouped by name (and input shapes / stack if asked)."""
        return self.events().key_averages(group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def export_chrome_trace(self, path):
        """Write the trace as Chrome/Perfetto JSON (gzip when ``path`` ends in .gz)."""
        self.events().export_chrome_trace(path)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        """Write flame-graph stacks (needs ``with_stack=True``)."""
        if not self.with_stack:
            raise AssertionError("export_stacks() requires with_stack=True")
        self.events().export_stacks(path, metric)

    def add_metadata(self, key, value):
        """Add a string key/value to the exported trace."""
        self._metadata[key] = str(value)

    def add_metadata_json(self, key, value):
        """Add a JSON-encoded value to the exported trace."""
        import json
        self._metadata[key] = json.loads(value)
