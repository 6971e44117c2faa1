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
_ember_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _Session:
    """One collection window: the events recorded between start and stop, per thread."""

    def __init__(self, record_shapes, profile_memory, with_stack, with_flops, device_timing):
        self.record_shapes, self.profile_memory = record_shapes, profile_memory
        self.with_stack, self.with_flops = with_stack, with_flops
        self.device_timing = device_timing
        self.events = []
        self.lock = threading.Lock()
        self.tls = threading.local()
        self.next_id = 0
        self.perf0 = time.perf_counter_ns()
        self.epoch0 = time.time_ns()
        self.stopped_ns = None

    def stack(self):
        st = getattr(self.tls, "stack", None)
        if st is None:
            st = self.tls.stack = []
        return st

    def begin(self, name, cat, args=None):
        st = self.stack()
        with self.lock:
            self.next_id += 1
            eid = self.next_id
        shapes = None
        if args is not None and self.record_shapes:
            shapes = [list(a.shape) if hasattr(a, "_data") else [] for a in args]
        frames = _user_stack() if self.with_stack else None
        ev = FunctionEvent(eid, name, cat, threading.get_ident() & 0x7FFFFFFF, 0, shapes, frames)
        if args is not None and self.record_shapes:
            ev.input_dtypes = [_dtype_name(a) for a in args]
        if st:
            parent = st[-1]
            ev.cpu_parent = parent
            parent.cpu_children.append(ev)
        st.append(ev)
        with self.lock:
            self.events.append(ev)
        ev.start_ns = time.perf_counter_ns()
        return ev

    def end(self, ev):
        ev.end_ns = time.perf_counter_ns()
        st = self.stack()
        if st and st[-1] is ev:
            st.pop()
        elif ev in st:  # ranges closed out of order (a record_function left open): unwind to this one
            while st and st.pop() is not ev:
                pass

    def finish(self):
        now = time.perf_counter_ns()
        for e in self.events:
            if e.end_ns is None:  # still open at stop: the range ends with the profile
                e.end_ns = now
            if e._dev_events is not None:
                e0, e1 = e._dev_events
                try:
                    e1.synchronize()
                    from cupy.cuda import get_elapsed_time
                    e.device_time_total = e.self_device_time_total = get_elapsed_time(e0, e1) * 1e3
                except Exception:  # a device error leaves the device time at 0 rather than losing the profile
                    pass
                e._dev_events = None
        self.events.sort(key=lambda e: (e.start_ns, -e.end_ns))
        self.stopped_ns = now


def _dtype_name(a):
    d = getattr(a, "dtype", None)
    if d is not None and hasattr(a, "_data"):
        return str(d).replace("ember.", "")
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
    st = s.stack()
    if st and st[-1]._absorb is op:
        # the computing call inside an in-place op: its time is the in-place event's own
        st[-1]._absorb = None
        return _orig_run(op, args, kw, dev, common, rg)
    ev = s.begin("aten::" + op.name, "cpu_op", args)
    dev_ev = None
    if s.device_timing and dev.type == "cuda":
        dev_ev = _device_events_begin()
    try:
        out = _orig_run(op, args, kw, dev, common, rg)
    finally:
        if dev_ev is not None:
            ev._dev_events = _device_events_end(dev_ev)
        s.end(ev)
    if s.profile_memory and not op.view and hasattr(out, "_data") and out._data.base is None:
        ev._mem = int(out._data.nbytes)
    if s.with_flops:
        ev.flops = _flops(op.name, args, out)
    return out


def _recording_inplace(op, self, args, kw):
    from ..ops import _registry as R
    s = _session
    if s is None:
        return R.apply_inplace(op, self, args, kw, True)
    ev = s.begin("aten::" + op.name + "_", "cpu_op", (self,) + tuple(args))
    ev._absorb = op
    try:
        return R.apply_inplace(op, self, args, kw, True)
    finally:
        ev._absorb = None
        s.end(ev)


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
        first_wait = 0 if skip_first_wait else wait
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
