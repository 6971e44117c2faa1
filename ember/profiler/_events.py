"""Profiler results: ``FunctionEvent`` (one timed range), ``FunctionEventAvg`` (a group of them) and
``EventList`` with torch's ``table()``, ``key_averages()`` and Chrome-trace export."""
import gzip
import json
import math
import os

__all__ = ["DeviceType", "Interval", "FunctionEvent", "FunctionEventAvg", "EventList"]


class DeviceType:
    """Where an event ran (only the CPU is timed by ember's profiler)."""
    CPU = "DeviceType.CPU"
    CUDA = "DeviceType.CUDA"


class Interval:
    """A [start, end] time range in microseconds."""
    __slots__ = ("start", "end")

    def __init__(self, start, end):
        self.start, self.end = start, end

    def elapsed_us(self):
        return self.end - self.start

    def __repr__(self):
        return f"Interval(start={self.start:.3f}, end={self.end:.3f})"


def _fmt_time(us):
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _fmt_mem(n):
    kb, mb, gb = 1024, 1024 ** 2, 1024 ** 3
    if abs(n) >= gb:
        return f"{n / gb:.2f} GB"
    if abs(n) >= mb:
        return f"{n / mb:.2f} MB"
    if abs(n) >= kb:
        return f"{n / kb:.2f} KB"
    return f"{n} B"


class _TimesMixin:
    """Derived time fields shared by single events and their averages (all in microseconds)."""

    @property
    def cpu_time(self):
        return self.cpu_time_total / self.count if self.count else 0.0

    @property
    def device_time(self):
        return self.device_time_total / self.count if self.count else 0.0

    cuda_time = device_time

    @property
    def cuda_time_total(self):
        return self.device_time_total

    @property
    def self_cuda_time_total(self):
        return self.self_device_time_total

    @property
    def self_cuda_memory_usage(self):
        return self.self_device_memory_usage

    @property
    def cuda_memory_usage(self):
        return self.device_memory_usage

    @property
    def cpu_time_str(self):
        return _fmt_time(self.cpu_time)

    @property
    def cpu_time_total_str(self):
        return _fmt_time(self.cpu_time_total)

    @property
    def self_cpu_time_total_str(self):
        return _fmt_time(self.self_cpu_time_total)

    @property
    def device_time_str(self):
        return _fmt_time(self.device_time)

    @property
    def device_time_total_str(self):
        return _fmt_time(self.device_time_total)

    @property
    def self_device_time_total_str(self):
        return _fmt_time(self.self_device_time_total)


class FunctionEvent(_TimesMixin):
    """One recorded range: an op (``aten::<name>``) or a ``record_function`` block, with its children.

    Times are kept in integer nanoseconds while recording; the public fields are microseconds."""
    __slots__ = ("id", "name", "cat", "thread", "start_ns", "end_ns", "input_shapes", "input_dtypes",
                 "_mem", "stack", "flops", "cpu_children", "cpu_parent", "sequence_nr",
                 "device_time_total", "self_device_time_total", "trace_name")
    count = 1
    device_type = DeviceType.CPU
    node_id = -1
    is_async = False
    is_remote = False
    is_legacy = False
    overload_name = ""
    device_memory_usage = 0
    self_device_memory_usage = 0
    use_device = None
    scope = 0

    def __init__(self, id, name, cat, thread, start_ns, input_shapes=None, stack=None):
        # step ranges keep their number in the trace but group as one name everywhere else, as in torch
        self.trace_name = name
        if name.startswith("ProfilerStep#"):
            name = "ProfilerStep*"
        self.id, self.name, self.cat, self.thread = id, name, cat, thread
        self.start_ns, self.end_ns = start_ns, None
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.input_dtypes = []
        self._mem = 0
        self.stack = stack if stack is not None else []
        self.flops = 0
        self.cpu_children = []
        self.cpu_parent = None
        self.sequence_nr = -1
        self.device_time_total = self.self_device_time_total = 0.0

    @property
    def key(self):
        return self.name

    @property
    def is_user_annotation(self):
        return self.cat == "user_annotation"

    @property
    def time_range(self):
        return Interval(self.start_ns / 1e3, self.end_ns / 1e3)

    @property
    def cpu_time_total(self):
        return (self.end_ns - self.start_ns) / 1e3

    @property
    def self_cpu_time_total(self):
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def cpu_memory_usage(self):
        return self._mem + sum(c.cpu_memory_usage for c in self.cpu_children)

    @property
    def self_cpu_memory_usage(self):
        return self._mem

    def append_cpu_child(self, child):
        self.cpu_children.append(child)

    def set_cpu_parent(self, parent):
        self.cpu_parent = parent

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} device_type={self.device_type} "
                f"cpu_time={_fmt_time(self.cpu_time_total)} start_us={self.start_ns / 1e3:.3f} "
                f"end_us={self.end_ns / 1e3:.3f} cpu_children={[c.id for c in self.cpu_children]} "
                f"thread={self.thread} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage} flops={self.flops}>")


class FunctionEventAvg(_TimesMixin):
    """Totals over a group of events with the same key (name, and input shapes / stack if grouped)."""

    def __init__(self):
        self.key = None
        self.count = 0
        self.node_id = 0
        self.is_async = False
        self.is_remote = False
        self.use_device = None
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.device_time_total = 0.0
        self.self_device_time_total = 0.0
        self.input_shapes = None
        self.overload_name = None
        self.stack = None
        self.scope = None
        self.cpu_memory_usage = 0
        self.device_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.self_device_memory_usage = 0
        self.cpu_children = None
        self.cpu_parent = None
        self.device_type = DeviceType.CPU
        self.is_legacy = False
        self.is_user_annotation = False
        self.flops = 0

    def add(self, other):
        """Fold one more event (or average) into this group."""
        if self.key is None:
            # the group takes its identifying fields from the first event in it
            self.key = other.key
            self.node_id = other.node_id
            self.input_shapes = other.input_shapes
            self.stack = other.stack
            self.cpu_children = other.cpu_children
            self.cpu_parent = other.cpu_parent
            self.is_user_annotation = other.is_user_annotation
            self.overload_name = other.overload_name
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.device_time_total += other.device_time_total
        self.self_device_time_total += other.self_device_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        self.count += other.count
        self.flops += other.flops or 0
        return self

    __iadd__ = add

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={_fmt_time(self.self_cpu_time_total)} "
                f"cpu_time={_fmt_time(self.cpu_time_total)} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage} count={self.count}>")


_SORT_ALIASES = (("cuda", "device"), ("gpu", "device"))


class EventList(list):
    """A list of events (or averages) that prints as torch's profiler table."""

    def __init__(self, *args, profile_memory=False, with_flops=False, with_stack=False, group_by_shapes=False,
                 stack_n=0, base_ns=0, pid=0, trace_meta=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._profile_memory = profile_memory
        self._with_flops = with_flops
        self._with_stack = with_stack
        self._group_by_shapes = group_by_shapes
        self._stack_n = stack_n
        self._base_ns = base_ns
        self._pid = pid
        self._trace_meta = trace_meta or {}

    def _like(self, items, **kw):
        opts = dict(profile_memory=self._profile_memory, with_flops=self._with_flops,
                    with_stack=self._with_stack, group_by_shapes=self._group_by_shapes, stack_n=self._stack_n,
                    base_ns=self._base_ns, pid=self._pid, trace_meta=self._trace_meta)
        opts.update(kw)
        return EventList(items, **opts)

    @property
    def self_cpu_time_total(self):
        """Sum of every event's self CPU time (the whole profiled CPU time), in microseconds."""
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        """One ``FunctionEventAvg`` per op name (and input shapes / top stack frames if asked), first call first."""
        groups = {}
        for e in self:
            name = e.key
            key = [name]
            if group_by_input_shape:
                key.append(str(e.input_shapes))
            if group_by_stack_n > 0:
                key.append(tuple(e.stack[:group_by_stack_n]))
            if group_by_overload_name:
                key.append(e.overload_name)
            key = tuple(key)
            g = groups.get(key)
            if g is None:
                g = groups[key] = FunctionEventAvg()
            g.add(e)
            g.key = name
        return self._like(groups.values(), group_by_shapes=group_by_input_shape, stack_n=group_by_stack_n)

    def total_average(self):
        """All events folded into one ``FunctionEventAvg`` keyed "Total"."""
        t = FunctionEventAvg()
        for e in self:
            t.add(e)
        t.key = "Total"
        return t

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False, time_unit=None):
        """The profiler table: self/total CPU time and their share, average, memory, calls (torch's layout)."""
        return _build_table(self, sort_by, row_limit, max_src_column_width, max_name_column_width,
                            max_shapes_column_width, header, top_level_events_only)

    def __str__(self):
        return self.table()

    def export_chrome_trace(self, path):
        """Write the events as Chrome trace JSON (chrome://tracing, Perfetto); gzip if ``path`` ends in .gz."""
        export_chrome_trace(self, path)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        """Write "frame;frame;...;op value" lines (flame-graph input) for events that carry a stack."""
        attr = metric.replace("cuda", "device")
        with open(path, "w") as f:
            for e in self:
                if e.stack:
                    v = int(getattr(e, attr))
                    f.write(";".join(reversed(e.stack)) + ";" + e.name.replace(" ", "_") + " " + str(v) + "\n")


# ---------------------------------------------------------------- table
def _flops_unit(max_flops):
    units = ["", "K", "M", "G", "T", "P"]
    if max_flops <= 0:
        return 0, ""
    i = int(max(0, min(math.log10(max_flops) / 3, len(units) - 1)))
    return i, units[i]


def _build_table(meta, sort_by, row_limit, max_src, max_name, max_shapes, header, top_only):
    if not len(meta):
        return ""
    events = list(meta)
    if sort_by is not None:
        attr = sort_by
        for a, b in _SORT_ALIASES:
            attr = attr.replace(a, b)
        events.sort(key=lambda e: getattr(e, attr), reverse=True)
    if top_only:
        events = [e for e in events if e.cpu_parent is None]
    show_shapes = meta._group_by_shapes and any(e.input_shapes for e in meta)
    stack_n = meta._stack_n
    show_mem = meta._profile_memory
    flops_max = max((e.flops or 0) for e in meta) if meta._with_flops else 0
    show_flops = flops_max > 0

    # column widths follow the whole list, not just the rows shown (as torch's do)
    name_w = min(max(len(e.key) for e in meta) + 4, max_name)
    shapes_w = min(max(len(str(e.input_shapes)) for e in meta) + 4, max_shapes) if show_shapes else 0
    src_w = 0
    if stack_n > 0:
        src_w = min(max([len(f) for e in meta for f in (e.stack or [])[:stack_n]] + [15]) + 4, max_src)

    heads = [("Name", name_w), ("Self CPU %", 12), ("Self CPU", 12), ("CPU total %", 12), ("CPU total", 12),
             ("CPU time avg", 12)]
    if show_mem:
        heads += [("CPU Mem", 12), ("Self CPU Mem", 12)]
    heads.append(("# of Calls", 12))
    if show_shapes:
        heads.append(("Input Shapes", shapes_w))
    if stack_n > 0:
        heads.append(("Source Location", src_w))
    fi, funit = _flops_unit(flops_max)
    if show_flops:
        heads.append((f"Total {funit}FLOPs", 12))

    sep = "".join("-" * w + "  " for _, w in heads)
    total_self = sum(e.self_cpu_time_total for e in meta)

    def trunc(s, w):
        return s[:w - 3] + "..." if len(s) >= w else s

    def line(cells):
        return "".join(f"{c:>{w}}  " for c, (_, w) in zip(cells, heads))

    def pct(x):
        return f"{(x / total_self * 100 if total_self else 0.0):.2f}%"

    out = []
    banner = "=" * (len(sep) - 2)
    if header is not None:
        out += [banner, header]
    if top_only:
        out += [banner, "This report only display top-level ops statistics"]
    out += [sep, line([h for h, _ in heads]), sep]
    rows = events if row_limit is None or row_limit < 0 else events[:row_limit]
    for e in rows:
        cells = [trunc(e.key, name_w), pct(e.self_cpu_time_total), _fmt_time(e.self_cpu_time_total),
                 pct(e.cpu_time_total), _fmt_time(e.cpu_time_total), _fmt_time(e.cpu_time)]
        if show_mem:
            cells += [_fmt_mem(e.cpu_memory_usage), _fmt_mem(e.self_cpu_memory_usage)]
        cells.append(str(e.count))
        if show_shapes:
            cells.append(trunc(str(e.input_shapes), shapes_w))
        frames = list(e.stack or [])[:stack_n] if stack_n > 0 else []
        if stack_n > 0:
            cells.append(trunc(frames[0], src_w) if frames else "")
        if show_flops:
            cells.append(f"{e.flops / 10 ** (3 * fi):8.3f}" if e.flops else "--")
        out.append(line(cells))
        for f in frames[1:]:  # further frames of the same row go on lines of their own
            extra = [""] * len(heads)
            extra[[h for h, _ in heads].index("Source Location")] = trunc(f, src_w)
            out.append(line(extra))
    out.append(sep)
    out.append(f"Self CPU time total: {_fmt_time(total_self)}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- chrome trace
def _shape_args(e):
    return {"Input Dims": e.input_shapes, "Input type": e.input_dtypes} if e.input_shapes else {}


def export_chrome_trace(events, path):
    base = events._base_ns
    pid = events._pid
    tevents = [
        {"ph": "M", "name": "process_name", "ts": 0, "pid": pid, "tid": 0, "args": {"name": "python"}},
        {"ph": "M", "name": "process_labels", "ts": 0, "pid": pid, "tid": 0, "args": {"labels": "CPU"}},
    ]
    threads = sorted({e.thread for e in events})
    for t in threads:
        tevents.append({"ph": "M", "name": "thread_name", "ts": 0, "pid": pid, "tid": t,
                        "args": {"name": f"thread {t} (python)"}})
    for i, e in enumerate(events):
        args = {"External id": e.id, "Ev Idx": i}
        args.update(_shape_args(e))
        if e.flops:
            args["flops"] = e.flops
        if e._mem:
            args["Memory allocated (bytes)"] = e._mem
        if e.stack:
            args["Call stack"] = ";".join(e.stack)
        tevents.append({"ph": "X", "cat": e.cat, "name": e.trace_name, "pid": pid, "tid": e.thread,
                        "ts": round((e.start_ns - base) / 1e3, 3), "dur": round((e.end_ns - e.start_ns) / 1e3, 3),
                        "args": args})
    doc = {"schemaVersion": 1, "deviceProperties": [], "displayTimeUnit": "ms", "baseTimeNanoseconds": base,
           "traceEvents": tevents, "traceName": os.fspath(path)}
    doc.update(events._trace_meta)
    data = json.dumps(doc).encode()
    if os.fspath(path).endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)
