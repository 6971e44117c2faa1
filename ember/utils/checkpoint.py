"""Activation checkpointing (torch.utils.checkpoint): trade compute for memory.

``checkpoint(fn, *args, use_reentrant=False)`` runs ``fn`` and keeps its graph, but drops every value
its backward functions saved (the activations inside ``fn``). The first time backward reaches one of
those functions, ``fn`` is run again -- same RNG state, same autocast state -- and the recomputed
values are handed to the old graph nodes, which then run as usual and free them as they go.

``use_reentrant=True`` is torch's older variant: ``fn`` runs without a graph, and the backward of a
single custom node reruns it with grad enabled and backpropagates through the fresh graph.
"""
import contextlib
import warnings

from .._tensor import Tensor
from ..autograd import graph as _graph
from ..autograd import grad_mode
from ..autograd.function import BackwardCFunction, Function

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction", "noop_context_fn",
           "detach_variable", "check_backward_validity", "set_checkpoint_debug_enabled"]


class CheckpointError(RuntimeError):
    """Raised when the recomputation does not match the original forward."""


def noop_context_fn():
    """The default ``context_fn``: no extra context around the forward or the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs):
    """Detached copies of a tuple of tensors that keep their ``requires_grad``."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    out = []
    for inp in inputs:
        if not isinstance(inp, Tensor):
            out.append(inp)
            continue
        x = inp.detach()
        x.requires_grad = inp.requires_grad
        out.append(x)
    return tuple(out)


def check_backward_validity(inputs):
    if not any(inp.requires_grad for inp in inputs if isinstance(inp, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=3)


_debug = {"enabled": None}


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    """Context manager setting whether checkpoint's errors carry debug detail (accepted; recorded only)."""
    prev = _debug["enabled"]
    _debug["enabled"] = enabled
    try:
        yield
    finally:
        _debug["enabled"] = prev


# ---------------------------------------------------------------- RNG and autocast state
def _rng_snapshot():
    from .. import _generator as G
    return G.default_generator.get_state(), {k: g.get_state() for k, g in G._device_generators.items()}


def _rng_restore(snap):
    from .. import _generator as G
    cpu, devs = snap
    G.default_generator.set_state(cpu)
    for k, s in devs.items():
        g = G._device_generators.get(k)
        if g is not None:
            g.set_state(s)


@contextlib.contextmanager
def _forked_rng(snap):
    """Run a block from RNG state ``snap``; the generators are back where they were afterwards."""
    if snap is None:
        yield
        return
    now = _rng_snapshot()
    _rng_restore(snap)
    try:
        yield
    finally:
        _rng_restore(now)


def _autocast_snapshot():
    from ..amp import autocast_mode as A
    return {k: (s.enabled, s.dtype) for k, s in A._STATE.items()}, A._misc["cache_enabled"]


@contextlib.contextmanager
def _autocast_as(snap):
    """Run a block with the autocast state ``snap`` had (recomputation must cast as the forward did)."""
    from ..amp import autocast_mode as A
    now = _autocast_snapshot()

    def put(s):
        states, cache = s
        for k, (en, dt) in states.items():
            A._STATE[k].enabled, A._STATE[k].dtype = en, dt
        A._misc["cache_enabled"] = cache
        A._refresh()
    put(snap)
    A.autocast_increment_nesting()  # like entering a region: casts cached during the block are dropped after it
    try:
        yield
    finally:
        if A.autocast_decrement_nesting() == 0:
            A.clear_autocast_cache()
        put(now)


def _tensors_in(obj, out):
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _tensors_in(v, out)
    elif isinstance(obj, dict):
        for v in obj.values():
            _tensors_in(v, out)
    return out


# ---------------------------------------------------------------- the reentrant variant
class CheckpointFunction(Function):
    """The reentrant checkpoint: forward without a graph, backward reruns and backpropagates."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        ctx.rng = _rng_snapshot() if preserve_rng_state else None
        ctx.autocast = _autocast_snapshot()
        ctx.inputs = []
        ctx.tensor_indices = []
        tensors = []
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                tensors.append(a)
                ctx.tensor_indices.append(i)
                ctx.inputs.append(None)
            else:
                ctx.inputs.append(a)
        ctx.save_for_backward(*tensors)
        return run_function(*args)

    @staticmethod
    def backward(ctx, *args):
        from .. import autograd
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        detached = detach_variable(tuple(inputs))
        with _forked_rng(ctx.rng), _autocast_as(ctx.autocast), grad_mode.enable_grad():
            outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        outs, grads = [], []
        for o, g in zip(outputs, args):
            if isinstance(o, Tensor) and o.requires_grad:
                outs.append(o)
                grads.append(g)
        if not outs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        autograd.backward(outs, grads)
        return (None, None) + tuple(x.grad if isinstance(x, Tensor) else None for x in detached)


# ---------------------------------------------------------------- the non-reentrant variant
_TIP = ("\n\nTip: To see a more detailed error message, either pass `debug=True` to\n"
        "`torch.utils.checkpoint.checkpoint(...)` or wrap the code block\n"
        "with `with torch.utils.checkpoint.set_checkpoint_debug_enabled(True):` to\n"
        "enable checkpoint-debug mode globally.\n")


def _region_nodes(outputs, start):
    """The graph nodes made after sequence number ``start`` that ``outputs`` depend on, oldest first;
    nodes owned by a nested checkpoint are left to it."""
    found, stack = {}, []
    for t in _tensors_in(outputs, []):
        fn = t.grad_fn
        if fn is not None and fn.seq > start and id(fn) not in found:
            found[id(fn)] = fn
            stack.append(fn)
    while stack:
        n = stack.pop()
        for e in n.edges:
            if e is None:
                continue
            m = e[0]
            if m.seq > start and id(m) not in found:
                found[id(m)] = m
                stack.append(m)
    nodes = [n for n in found.values() if n.__dict__.get("_ckpt_frame") is None]
    nodes.sort(key=lambda n: n.seq)
    return nodes


def _saved_of(node):
    """(what the node saved, a list of (shape, dtype, device) of the saved tensors)."""
    if isinstance(node, BackwardCFunction):
        recs = node._saved or []
        meta = []
        for r in recs:
            if r is not None:
                meta.append((tuple(r[1].shape), getattr(r[1], "dtype", None), None) if r[0] == 0 else
                            (tuple(r[1].shape), str(r[1].dtype), None))
        return recs, meta
    meta = [(tuple(a._data.shape), a.dtype, a._device) for a in (node.inputs or ()) if isinstance(a, Tensor)]
    if node.out is not None:
        meta.append((tuple(node.out.shape), str(node.out.dtype), None))
    return node.inputs, meta


def _strip(node):
    if isinstance(node, BackwardCFunction):
        if node._saved is not None:
            node._saved = [None] * len(node._saved)
        return
    if node.inputs is not None:
        node.inputs = tuple(None if isinstance(a, Tensor) else a for a in node.inputs)
    node.out = None
    node.versions = ((), None, 0)


def _take(old, new):
    """Give ``old`` what ``new`` (its recomputed twin) saved, detached so the recomputed graph can go."""
    if isinstance(old, BackwardCFunction):
        recs = new._saved
        if recs is not None:
            recs = [(0, r[1].detach(), r[2]) if r is not None and r[0] == 0 else r for r in recs]
        old._saved = recs
        return
    old.inputs = tuple(a.detach() if isinstance(a, Tensor) else a for a in new.inputs)
    old.out = new.out
    vers, st, ver = new.versions
    old.versions = (list(vers), st, ver)


class _Frame:
    """One checkpointed call: what is needed to recompute it, and the stripped nodes to refill."""

    def __init__(self, function, args, kwargs, rng, autocast, recompute_ctx, check, nodes):
        self.function, self.args, self.kwargs = function, args, kwargs
        self.rng, self.autocast, self.recompute_ctx, self.check = rng, autocast, recompute_ctx, check
        self.nodes = nodes
        self.metas = []
        self.handles = []
        self.done = False

    def strip(self):
        for n in self.nodes:
            self.metas.append(_saved_of(n)[1])
            _strip(n)
            n.__dict__["_ckpt_frame"] = self
            self.handles.append(n.register_prehook(self._pre_hook))

    def _pre_hook(self, grads):
        if not self.done:
            self.recompute()
        return None

    def recompute(self):
        with _forked_rng(self.rng), _autocast_as(self.autocast), grad_mode.enable_grad(), self.recompute_ctx:
            start = next(_graph._seq)
            out = self.function(*self.args, **self.kwargs)
            fresh = _region_nodes(out, start)
        old_n = sum(len(m) for m in self.metas)
        new_metas = [_saved_of(n)[1] for n in fresh]
        new_n = sum(len(m) for m in new_metas)
        if len(fresh) != len(self.nodes) or old_n != new_n:
            raise CheckpointError("torch.utils.checkpoint: A different number of tensors was saved during the "
                                  "original forward and recomputation.\n"
                                  f"Number of tensors saved during forward: {old_n}\n"
                                  f"Number of tensors saved during recomputation: {new_n}." + _TIP)
        if self.check == "default":
            bad = []
            k = 0
            for old, new in zip(self.metas, new_metas):
                for a, b in zip(old, new):
                    if a != b:
                        bad.append(f"tensor at position {k}:\nsaved metadata: {_meta_str(a)}\n"
                                   f"recomputed metadata: {_meta_str(b)}\n")
                    k += 1
            if bad:
                raise CheckpointError("torch.utils.checkpoint: Recomputed values for the following tensors have "
                                      "different metadata than during the forward pass.\n" + "".join(bad) + _TIP)
        for old, new in zip(self.nodes, fresh):
            _take(old, new)
        self.done = True
        for h in self.handles:
            h.remove()
        self.handles = []
        # the frame may keep the inputs for a later recompute, not the recomputed values
        for n in self.nodes:
            n.__dict__.pop("_ckpt_frame", None)


def _meta_str(m):
    shape, dtype, device = m
    return f"{{'shape': torch.Size({list(shape)}), 'dtype': {dtype}, 'device': {device}}}"


def _checkpoint_without_reentrant(function, preserve_rng_state, context_fn, determinism_check, *args, **kwargs):
    forward_ctx, recompute_ctx = context_fn()
    if not grad_mode.state.enabled:
        with forward_ctx:
            return function(*args, **kwargs)  # no graph: nothing to drop or recompute
    rng = _rng_snapshot() if preserve_rng_state else None
    ac = _autocast_snapshot()
    start = next(_graph._seq)
    with forward_ctx:
        out = function(*args, **kwargs)
    nodes = _region_nodes(out, start)
    if nodes:
        _Frame(function, args, kwargs, rng, ac, recompute_ctx, determinism_check, nodes).strip()
    return out


_REENTRANT_WARN = ("torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in "
                   "PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
                   "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
                   "you can pass use_reentrant=True. Refer to docs for more details on the differences between "
                   "the two variants.")


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn, determinism_check="default",
               debug=False, early_stop=True, **kwargs):
    """Run ``function(*args, **kwargs)`` without keeping its activations; backward recomputes them."""
    if use_reentrant is None:
        warnings.warn(_REENTRANT_WARN, stacklevel=2)
        use_reentrant = True
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got {determinism_check}")
    preserve = kwargs.pop("preserve_rng_state", True)
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
        return CheckpointFunction.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check, *args, **kwargs)


_SEQ_WARN = ("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed "
             "explicitly. In version 2.9 we will raise an exception if use_reentrant is not passed. "
             "use_reentrant=False is recommended, but if you need to preserve the current default behavior, you "
             "can pass use_reentrant=True. Refer to docs for more details on the differences between the two "
             "variants.")


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run a sequence of modules/functions in ``segments`` chunks, checkpointing all but the last chunk."""
    if use_reentrant is None:
        warnings.warn(_SEQ_WARN, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    from ..nn import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())

    def run_function(start, end, functions):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
