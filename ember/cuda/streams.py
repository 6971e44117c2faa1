"""CUDA streams and events (torch.cuda.Stream / Event / stream()), backed by CuPy's.

ember's GPU ops are CuPy calls, which run on CuPy's current stream: making a Stream current (``with
ember.cuda.stream(s):`` or ``set_stream``) is making its CuPy stream current. Events time GPU work the way
tutorials do with torch (``start.record(); ...; end.record(); end.synchronize(); start.elapsed_time(end)``).
Without a GPU backend these raise torch's errors for a CPU-only build.
"""
from . import _index, _lazy_init, _probe, is_available, NOT_COMPILED


def _cupy():
    return _lazy_init()


class Stream:
    """A CUDA stream on a device (``priority``: lower numbers run first, as in CUDA)."""

    def __init__(self, device=None, priority=0, **kwargs):
        if _probe() is None or not is_available():
            raise RuntimeError("torch.cuda.Stream requires CUDA support")
        cp = _cupy()
        self.device_index = _index(device)
        with cp.cuda.Device(self.device_index):
            self._cp = kwargs.pop("_cupy_stream", None) or cp.cuda.Stream(non_blocking=False, priority=priority)
        self.priority = priority

    @property
    def device(self):
        from .. import _device
        return _device.device("cuda", self.device_index)

    @property
    def cuda_stream(self):
        """The raw cudaStream_t handle, as an int."""
        return int(self._cp.ptr)

    def query(self):
        """True when all work queued on the stream has finished."""
        return bool(self._cp.done)

    def synchronize(self):
        """Wait for all work queued on the stream."""
        self._cp.synchronize()

    def wait_event(self, event):
        """Make later work on this stream wait for ``event``."""
        self._cp.wait_event(event._cp)

    def wait_stream(self, stream):
        """Make later work on this stream wait for the work queued so far on ``stream``."""
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        """Record ``event`` (a new one if None) on this stream and return it."""
        event = Event() if event is None else event
        event.record(self)
        return event

    def __eq__(self, other):
        return isinstance(other, Stream) and self.cuda_stream == other.cuda_stream and \
            self.device_index == other.device_index

    def __hash__(self):
        return hash((self.cuda_stream, self.device_index))

    def __repr__(self):
        return f"<torch.cuda.Stream device=cuda:{self.device_index} cuda_stream={hex(self.cuda_stream)}>"


class ExternalStream(Stream):
    """A stream made elsewhere, wrapped from its raw cudaStream_t handle."""

    def __init__(self, stream_ptr, device=None, **kwargs):
        cp = _cupy()
        super().__init__(device, _cupy_stream=cp.cuda.ExternalStream(int(stream_ptr)))


class Event:
    """A CUDA event: a marker in a stream to wait on or to time GPU work between two of them."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False, external=False):
        if _probe() is None or not is_available():
            raise RuntimeError("Tried to instantiate dummy base class Event")
        cp = _cupy()
        self.enable_timing = enable_timing
        self._cp = cp.cuda.Event(block=blocking, disable_timing=not enable_timing, interprocess=interprocess)
        self._recorded = False

    def record(self, stream=None):
        """Record the event on ``stream`` (the current stream if None)."""
        self._cp.record(stream._cp if stream is not None else None)
        self._recorded = True

    def wait(self, stream=None):
        """Make later work on ``stream`` (the current one if None) wait for this event."""
        (stream or current_stream()).wait_event(self)

    def query(self):
        """True when the work before the event has finished."""
        return bool(self._cp.done)

    def synchronize(self):
        """Wait until the work before the event has finished."""
        self._cp.synchronize()

    def elapsed_time(self, end_event):
        """Milliseconds between this event and ``end_event`` (both recorded, with enable_timing=True)."""
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument 'enable_timing=True'.")
        if not (self._recorded and end_event._recorded):
            raise RuntimeError("Both events must be recorded before calculating elapsed time.")
        return float(_cupy().cuda.get_elapsed_time(self._cp, end_event._cp))

    def __repr__(self):
        return f"<torch.cuda.Event {hex(int(self._cp.ptr))}>" if self._recorded else "<torch.cuda.Event uninitialized>"


def current_stream(device=None):
    """The stream ember's GPU ops are queued on now."""
    if _probe() is None:
        raise AssertionError(NOT_COMPILED)
    cp = _cupy()
    idx = _index(device)
    with cp.cuda.Device(idx):
        return Stream(idx, _cupy_stream=cp.cuda.get_current_stream())


def default_stream(device=None):
    """The device's default (null) stream."""
    if _probe() is None:
        raise AssertionError(NOT_COMPILED)
    cp = _cupy()
    return Stream(_index(device), _cupy_stream=cp.cuda.Stream.null)


def set_stream(stream):
    """Make ``stream`` current (None: leave as is)."""
    if stream is not None:
        stream._cp.use()


class StreamContext:
    """Makes a stream current for a block, restoring the previous one after (None: does nothing)."""

    def __init__(self, stream):
        self.stream = stream
        self._prev = None

    def __enter__(self):
        if self.stream is not None:
            self._prev = _cupy().cuda.get_current_stream()
            self.stream._cp.use()
        return self.stream

    def __exit__(self, *exc):
        if self._prev is not None:
            self._prev.use()
        return False


def stream(stream):
    """``with ember.cuda.stream(s):`` queues the block's GPU work on ``s``."""
    return StreamContext(stream)


def mem_get_info(device=None):
    """(free, total) bytes of GPU memory as the driver reports them."""
    if _probe() is None:
        raise AssertionError(NOT_COMPILED)
    cp = _cupy()
    with cp.cuda.Device(_index(device)):
        free, total = cp.cuda.runtime.memGetInfo()
    return int(free), int(total)


class device_of:
    """Makes the device of a tensor current for a block (a CPU tensor: does nothing)."""

    def __init__(self, obj):
        from . import device
        self._ctx = device(obj.get_device() if obj.is_cuda else -1)

    def __enter__(self):
        return self._ctx.__enter__()

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)
