"""The backward engine: walk the graph in dependency order, call each node's vjp, route gradients.

Broadcast inputs get their gradient summed back to the input's shape here, once (``sum_to``), so
individual vjps never do it. Gradients are cast to the input's dtype, as torch does.
"""
import re
import sys
import warnings

from .. import _dtype as D
from .._device import CPU
from .._memory_format import array_is_dense
from .._storage import root_of
from .._tensor import Tensor
from . import anomaly_mode, grad_mode
from .graph import AccumulateGrad, GradientEdge, edge_of

_FREED_MSG = ("Trying to backward through the graph a second time (or directly access saved tensors after "
              "they have already been freed). Saved intermediate values of the graph are freed when you call "
              ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
              "graph a second time or if you need to access saved tensors after calling backward.")


_OPS = None


def _ops():
    global _OPS
    if _OPS is None:
        from .. import ops
        _OPS = ops
    return _OPS


# ---------------------------------------------------------------- argument handling
def _as_tuple(x):
    if isinstance(x, (Tensor, GradientEdge)):
        return (x,)
    return tuple(x)


def _grads_tuple(grads, n):
    if grads is None:
        return (None,) * n
    if isinstance(grads, Tensor):
        return (grads,)
    return tuple(grads)


def _make_grads(outputs, grads, is_grads_batched=False):
    """Check user-given output gradients; make ones for scalar outputs given none (torch's rules)."""
    ops = _ops()
    res = []
    for i, (out, g) in enumerate(zip(outputs, grads)):
        if isinstance(out, GradientEdge):
            if g is None:
                raise RuntimeError("grad_outputs must be provided for GradientEdge outputs")
            res.append(g)
            continue
        if isinstance(g, Tensor):
            gshape = tuple(g.shape)[1:] if is_grads_batched else tuple(g.shape)
            if gshape != tuple(out.shape):
                if is_grads_batched:
                    raise RuntimeError(
                        f"If `is_grads_batched=True`, we interpret the first dimension of each grad_output as "
                        f"the batch dimension. The sizes of the remaining dimensions are expected to match the "
                        f"shape of corresponding output, but a mismatch was detected: grad_output[{i}] has a "
                        f"shape of {g.shape} and output[{i}] has a shape of {out.shape}. If you only want some "
                        f"tensors in `grad_output` to be considered batched, consider using vmap.")
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                                   f"has a shape of {out.shape}.")
            if (g.dtype.category == 3) != (out.dtype.category == 3):
                raise RuntimeError(f"For complex Tensors, both grad_output and output are required to have the "
                                   f"same dtype. Mismatch in dtype: grad_output[{i}] has a dtype of {g.dtype} and "
                                   f"output[{i}] has a dtype of {out.dtype}.")
        elif g is None:
            if out._rg:
                if out._data.size != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                if out.dtype.category != 2:
                    raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but "
                                       f"got {out.dtype}")
                d = out._data
                if d.ndim == 0 and out._device is _CPU:  # the usual loss.backward(): a 0-d one, made directly
                    g = Tensor._make(type(d)((), d.dtype), _CPU)
                    g._data.fill(1)
                else:
                    g = ops.ones_like(out)
        else:
            raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__}")
        res.append(g)
    if len(res) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(res)} gradients")
    return res


def _root_edges(outputs):
    edges = []
    for i, t in enumerate(outputs):
        if isinstance(t, GradientEdge):
            edges.append((t.node, t.output_nr))
            continue
        if not t._rg:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        edges.append(edge_of(t))
    return edges


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None,
             inputs=None):
    """Compute and accumulate gradients of ``tensors`` w.r.t. graph leaves (``tensor.backward()``)."""
    if grad_variables is not None:
        warnings.warn("`grad_variables` is deprecated. Use `grad_tensors` instead.", FutureWarning, stacklevel=2)
        if grad_tensors is not None:
            raise RuntimeError("`grad_tensors` and `grad_variables` (deprecated) arguments both passed to "
                               "`backward()`. Please only use `grad_tensors`.")
        grad_tensors = grad_variables
    if inputs is not None:
        inputs = list(inputs.values()) if isinstance(inputs, dict) else _as_tuple(inputs)
        if len(inputs) == 0:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    tensors = _as_tuple(tensors)
    grads = _make_grads(tensors, _grads_tuple(grad_tensors, len(tensors)))
    if retain_graph is None:
        retain_graph = create_graph
    roots = _root_edges(tensors)
    if inputs is not None:
        for t in inputs:
            if isinstance(t, Tensor) and t.grad_fn is not None:
                t.retain_grad()  # a non-leaf in inputs= gets its .grad like a retained gradient
    if create_graph:
        _warn_create_graph_once()
    run(roots, grads, retain_graph, create_graph, accumulate=True, inputs=inputs)


_warned_create_graph = []


def _warn_create_graph_once():
    if not _warned_create_graph:
        _warned_create_graph.append(True)
        warnings.warn("Using backward() with create_graph=True will create a reference cycle between the parameter "
                      "and its gradient which can cause a memory leak. We recommend using autograd.grad when creating "
                      "the graph to avoid this. If you have to use this function, make sure to reset the .grad fields "
                      "of your parameters to None after use to break the cycle and avoid the leak.", UserWarning,
                      stacklevel=3)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) without touching ``.grad`` (``ember.autograd.grad``)."""
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
                         "allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    keys = None
    if isinstance(inputs, dict):
        keys, inputs = list(inputs.keys()), list(inputs.values())
    t_outputs = _as_tuple(outputs)
    t_inputs = _as_tuple(inputs)
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate "
                      "gradient for other parts of the graph, please use torch.autograd.backward.", FutureWarning,
                      stacklevel=2)
    for t in t_inputs:
        if not isinstance(t, (Tensor, GradientEdge)):
            raise RuntimeError(f"all inputs have to be Tensors or GradientEdges, but got {type(t).__name__}")
    if not t_inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    grads = _make_grads(t_outputs, _grads_tuple(grad_outputs, len(t_outputs)), is_grads_batched)
    if retain_graph is None:
        retain_graph = create_graph
    for t in t_inputs:
        if isinstance(t, Tensor) and not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    roots = _root_edges(t_outputs)
    if is_grads_batched:
        res = _batched_grad(roots, grads, t_inputs, retain_graph, create_graph)
    else:
        res = run(roots, grads, retain_graph, create_graph, accumulate=False, inputs=t_inputs)
    for i, g in enumerate(res):
        if g is None and not allow_unused:
            raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used in the "
                               f"graph. Set allow_unused=True if this is the desired behavior.")
    if materialize_grads:
        ops = _ops()
        res = [ops.zeros_like(t) if g is None and isinstance(t, Tensor) else g for t, g in zip(t_inputs, res)]
    res = tuple(res)
    if keys is not None:
        return dict(zip(keys, res))
    return res


def _batched_grad(roots, grads, inputs, retain_graph, create_graph):
    """One backward per row of the batched grad_outputs, results stacked (what vmap would compute)."""
    ops = _ops()
    n = None
    for g in grads:
        if isinstance(g, Tensor):
            n = g.shape[0]
    if n is None:
        return run(roots, grads, retain_graph, create_graph, accumulate=False, inputs=inputs)
    rows = []
    for b in range(n):
        gb = [g.select(0, b) if isinstance(g, Tensor) else g for g in grads]
        rows.append(run(roots, gb, retain_graph or b < n - 1, create_graph, accumulate=False, inputs=inputs))
    out = []
    for i, t in enumerate(inputs):
        col = [r[i] for r in rows]
        if all(c is None for c in col):
            out.append(None)
            continue
        col = [c if c is not None else ops.zeros_like(t) for c in col]
        out.append(ops.stack(col))
    return out


def call_directly(node, grads):
    """``grad_fn(*grads)``: run one node outside a backward pass (the graph is kept)."""
    n = len(node._out_metas) if node._custom else getattr(node.op, "nout", 1) == -1 and len(grads) or 1
    if len(grads) != n:
        raise TypeError(f"expected {n} arguments, got {len(grads)} instead")
    gs = {i: g for i, g in enumerate(grads) if g is not None}
    res = _call_node(node, gs, True, grad_mode.state.enabled)
    fixed = []
    for gi, meta in zip(res, node.metas):
        if gi is not None:
            if gi._data.shape != meta[0]:
                gi = _sum_to(gi, meta[0])
            if gi.dtype is not meta[1]:
                gi = _cast(gi, meta[1])
        fixed.append(gi)
    return fixed[0] if len(fixed) == 1 else tuple(fixed)


def _by_seq(n):
    return n.seq


def _sum_to(g, shape):
    if g._data.shape == shape:
        return g
    return _ops().sum_to(g, shape)


def _sum_to_on_arrays(g, shape):
    """``_sum_to`` with no graph to build: a CPU gradient is reduced (a broadcast input's) or broadcast
    (a reduction's, as a read-only view sharing g's storage) straight on its array."""
    d = g._data
    if g._device is not _CPU:
        return _sum_to(g, shape)
    red = _ops().reduce
    r = red.sum_to_array(d, shape)
    if r is None:
        return _sum_to(g, shape)  # shapes that do not match: the op gives torch's error
    shares = r.base is not None and root_of(r) is root_of(d)  # the broadcast view of g
    return Tensor._make(r, _CPU, g._storage if shares else None)


def _cast(g, dt):
    if dt.category < 3 and g.dtype.category == 3:
        g = g.real
    return g.to(dt)


# ---------------------------------------------------------------- the engine
def run(roots, root_grads, retain_graph, create_graph, accumulate, inputs=None):
    """Run backward from the ``roots`` edges. Returns the gradients captured for ``inputs`` (tensors or
    GradientEdges): with ``accumulate`` only leaves among them get ``.grad``; without, nothing is accumulated."""
    # graph discovery. Every node runs after all nodes that feed it a gradient: those were created after
    # it (a node's inputs exist before it does), so decreasing creation order (seq) is a valid order, and it
    # is the order a ready-queue keyed on seq would give. AccumulateGrad nodes (seq -1) run last.
    seen = set()
    stack = []
    nodes, leaves = [], []
    for n, _ in roots:
        if id(n) not in seen:
            seen.add(id(n))
            stack.append(n)
    parents = {} if inputs is not None else None
    while stack:
        n = stack.pop()
        (leaves if type(n) is AccumulateGrad else nodes).append(n)
        for e in n.edges:
            if e is not None:
                nxt = e[0]
                k = id(nxt)
                if parents is not None:
                    parents.setdefault(k, []).append(n)
                if k not in seen:
                    seen.add(k)
                    stack.append(nxt)
    nodes.sort(key=_by_seq, reverse=True)
    if len(leaves) > 1:
        leaves.sort(key=id)
    nodes += leaves

    # with explicit inputs, only nodes that have a path to one of them run; the others just pass by
    capture = needed = targets = None
    captured = None
    if inputs is not None:
        capture, targets = {}, {}
        for i, t in enumerate(inputs):
            e = (t.node, t.output_nr) if isinstance(t, GradientEdge) else edge_of(t)
            if e is None:
                continue
            capture.setdefault(id(e[0]), []).append((e[1], i))
            targets[id(e[0])] = e[0]
        needed = set()
        frontier = list(targets.values())
        while frontier:
            n = frontier.pop()
            for p in parents.get(id(n), ()):
                if id(p) not in needed:
                    needed.add(id(p))
                    frontier.append(p)
        captured = [None] * len(inputs)

    buffers = {}  # id(node) -> {output slot: gradient}
    for (n, nr), g in zip(roots, root_grads):
        k = id(n)
        b = buffers.get(k)
        if b is None:
            b = buffers[k] = {}
        if g is not None:  # None: an undefined gradient (the root still runs, with nothing flowing in)
            prev = b.get(nr)
            b[nr] = g if prev is None else prev + g

    # vjps may run on raw arrays unless a graph of the backward is wanted, or the profiler records each op
    on_arrays = not create_graph and _ops()._registry._inplace_hook is None
    plain = on_arrays and needed is None  # nodes may take _plain_node's shortcut
    prev_mode = grad_mode.state.enabled
    grad_mode.state.enabled = bool(create_graph)
    try:
        for node in nodes:
            k = id(node)
            gs = buffers.pop(k, None) or {}
            if needed is not None:
                run_it = k in needed
                cap = capture.get(k)
                if not run_it:
                    # torch still applies the tensor hooks of a node it does not run (before capturing)
                    gs = _leaf_hooks(node, gs) if type(node) is AccumulateGrad else \
                        _tensor_pre_hooks(node, gs, create_graph)
                if cap is not None and not accumulate:
                    for nr, i in cap:
                        captured[i] = gs.get(nr)
                if type(node) is AccumulateGrad:
                    if accumulate and k in targets:
                        g = gs.pop(0, None)
                        if g is not None:
                            _accumulate(node, g, create_graph, hooked=True)
                    continue
                if not run_it:
                    continue
            elif type(node) is AccumulateGrad:
                g = gs.pop(0, None)  # hand the only engine reference to _accumulate (it may steal g)
                if g is not None:
                    _accumulate(node, g, create_graph)
                continue
            grads_in = None
            if plain and len(gs) == 1 and not (node._custom or node._pre_hooks or node._hooks or
                                               node._tensor_hooks or anomaly_mode.state.enabled):
                grads_in = _plain_node(node, gs.get(0), retain_graph)
            if grads_in is None:
                grads_in = _call_node(node, gs, retain_graph, create_graph, on_arrays)
            for e, gi, meta in zip(node.edges, grads_in, node.metas):
                if e is None or gi is None:
                    continue
                nxt, nr = e
                kn = id(nxt)
                if gi._data.shape != meta[0]:
                    gi = _sum_to_on_arrays(gi, meta[0]) if on_arrays else _sum_to(gi, meta[0])
                if gi.dtype is not meta[1]:
                    gi = _cast(gi, meta[1])
                b = buffers.get(kn)
                if b is None:
                    buffers[kn] = {nr: gi}
                else:
                    prev = b.get(nr)
                    b[nr] = gi if prev is None else prev + gi
            grads_in = gi = None  # the buffers own the gradients now (AccumulateGrad counts references)
    finally:
        grad_mode.state.enabled = prev_mode
    return captured


# ---------------------------------------------------------------- running one node
def _strip(name):
    return re.sub(r"Backward\d*$", "", name.rsplit("::", 1)[-1])


def check_version(t, expected, producer=None, output_nr=0):
    """torch's error when a tensor saved for backward was modified in place since it was saved.
    ``producer`` is the node ``t`` is an output of (None for a leaf)."""
    actual = t._storage._version
    if actual == expected:
        return
    from ..ops._registry import _type_name
    kind = f"torch.{_type_name(t.dtype)}Tensor" if t.device.type == "cpu" else \
        f"torch.cuda.{_type_name(t.dtype)}Tensor"
    where = f", which is output {output_nr} of {_strip(producer.name())}," if producer is not None else ""
    raise RuntimeError(f"one of the variables needed for gradient computation has been modified by an inplace "
                       f"operation: [{kind} {list(t.shape)}]{where} is at version {actual}; expected version "
                       f"{expected} instead. Hint: enable anomaly detection to find the operation that failed "
                       f"to compute its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")


def _check_versions(node):
    vers, out_storage, out_ver = node.versions
    op = node.op
    if op.save_in and op.check:
        i = 0
        for a in node.inputs:
            if isinstance(a, Tensor):
                v = vers[i]
                if v is not None and a._storage._version != v:  # None: kept for its shape, not saved
                    check_version(a, v, a.grad_fn, a.output_nr)
                i += 1
    if out_storage is not None and out_storage._version != out_ver:
        fake = Tensor._make(node.out, out_storage.device, out_storage)
        check_version(fake, out_ver, node, 0)


def _wrap_out(node, create_graph):
    arr = node.out
    if arr is None:
        return None
    t = Tensor._make(arr, node.versions[1].device, node.versions[1])
    if create_graph:
        t.grad_fn, t._rg = node, True
    return t


def _tensor_pre_hooks(node, gs, create_graph):
    """Hooks registered on this node's output tensors (``t.register_hook``), then retained grads."""
    th = node._tensor_hooks
    if not th:
        return gs
    gs = dict(gs)
    for key, hooks in list(th.items()):
        if isinstance(key, tuple):
            continue
        g = gs.get(key)
        if g is None:
            continue
        for h in list(hooks.values()):
            r = h(g)
            if r is not None:
                g = r
        gs[key] = g
    for key, ref in th.items():
        if isinstance(key, tuple):
            t = ref()
            g = gs.get(key[1])
            if t is not None and g is not None:
                _retain(t, g, create_graph)
    return gs


def _retain(t, g, create_graph):
    old = t._grad
    if old is None:
        t._grad = g.clone() if create_graph else g.detach().clone()
    elif create_graph:
        t._grad = old + g
    else:
        t._grad = old + g.detach()


def _leaf_hooks(node, gs):
    hooks = node.variable.__dict__.get("_hooks")
    g = gs.get(0)
    if not hooks or g is None:
        return gs
    for h in list(hooks.values()):
        r = h(g)
        if r is not None:
            g = r
    return {0: g}


def _call_node(node, gs, retain_graph, create_graph, on_arrays=False):
    if node.inputs is None:
        raise RuntimeError(_FREED_MSG)
    if node._tensor_hooks:
        gs = _tensor_pre_hooks(node, gs, create_graph)
    if node._pre_hooks:
        n = len(node._out_metas) if node._custom else max(gs, default=0) + 1
        gtuple = tuple(gs.get(i) for i in range(n))
        for h in list(node._pre_hooks.values()):
            r = h(gtuple)
            if r is not None:
                gtuple = tuple(r)
        gs = {i: g for i, g in enumerate(gtuple) if g is not None}
    if node._custom:
        try:
            grads = node._run_backward(gs)
        except Exception as exc:
            if anomaly_mode.state.enabled:
                anomaly_mode.report(node, exc)
            raise
        gout = tuple(gs.get(i) for i in range(len(node._out_metas)))
    else:
        op = node.op
        multi = op.nout == -1
        g = gs.get(0)
        if multi:
            g = tuple(gs.get(i) for i in range(node.kw.get("n") or (max(gs, default=0) + 1)))
        gout = g if multi else (g,)
        if not gs:
            # no gradient reached this node (an undefined gradient): nothing flows on either
            grads = [None] * len(node.edges)
        else:
            _check_versions(node)
            kw = node.kw
            if op.needs:
                kw = dict(kw, needs=_expand_needs(node))
            res = None
            if on_arrays and not multi and getattr(op, "arrays", False):
                res = _vjp_on_arrays(node, op, g, kw)
            if res is None:
                out = _wrap_out(node, create_graph)
                conj = getattr(op, "holo", False) and not multi and g is not None and g.dtype.category == 3
                try:
                    res = op.vjp(g.conj_physical() if conj else g, out, *node.inputs, **kw)
                except Exception as exc:
                    if anomaly_mode.state.enabled:
                        anomaly_mode.report(node, exc)
                    raise
                if not isinstance(res, (tuple, list)):
                    res = (res,)
                if conj:
                    res = [r.conj_physical() if r is not None and r.dtype.category == 3 else r for r in res]
            # one result per positional input; keep those of tensor inputs (meta[3] is the position)
            grads = [res[m[3]] if m[3] < len(res) and m[1] is not None else None for m in node.metas]  # m[1] None: a number
    if anomaly_mode.state.enabled:
        anomaly_mode.check(node, grads)
    if node._hooks:
        gin = tuple(grads)
        for h in list(node._hooks.values()):
            r = h(gin, gout)
            if r is not None:
                gin = tuple(r)
        grads = list(gin)
    if not retain_graph:
        _free(node)
    return grads


_F32, _F64, _BOOL, _CPU = D.float32, D.float64, D.bool_, CPU


def _vjp_on_arrays(node, op, g, kw):
    """Run an ``arrays`` op's vjp on the raw CPU arrays and wrap what it returns; None when the node does
    not qualify (then the Tensor path runs). Qualifying: a real float32/float64 gradient, tensor inputs of
    the same dtype (or bool; or integer, an index, where the op's ``arrays`` is a predicate that vets them) on
    the CPU. Same formula, same NumPy kernels as the Tensor path: what is skipped is one dispatch (promotion,
    wrapping) per step of the formula."""
    dt = g.dtype
    if (dt is not _F32 and dt is not _F64) or g._device is not _CPU:
        return None
    gd = g._data
    arrs = []
    ok = op.arrays
    for a in node.inputs:
        if isinstance(a, Tensor):
            if (a.dtype is not dt and a.dtype is not _BOOL and (ok is True or a.dtype.category != 1)) or \
                    a._device is not _CPU:
                return None
            a = a._data
        arrs.append(a)
    if ok is not True and not ok(*arrs):
        return None
    try:
        res = op.vjp(gd, node.out, *arrs, **kw)
    except Exception as exc:
        if anomaly_mode.state.enabled:
            anomaly_mode.report(node, exc)
        raise
    if type(res) is not tuple and type(res) is not list:
        res = (res,)
    wrapped = []
    for i, r in enumerate(res):
        if r is None or r is gd:
            wrapped.append(None if r is None else g)
            continue
        for j in range(i):  # the same array twice is one tensor twice (two leaves must not both own it)
            if res[j] is r:
                wrapped.append(wrapped[j])
                break
        else:
            wrapped.append(_wrap_grad(r, g, node, arrs))
    return wrapped


def _plain_node(node, g, retain_graph):
    """``_call_node`` for the common node: a built-in op with one output, no hooks and gradient ``g`` (not None),
    its vjp run on the arrays (``_vjp_on_arrays``); the caller has ruled out the rest (custom Functions, hooks,
    anomaly mode). ~0.5 us less per node. Returns one gradient per edge, or None when the node does not qualify
    (then nothing ran but the version check, which the general path repeats)."""
    op = node.op
    if op.nout != 1 or not op.arrays or node.inputs is None or g is None:
        return None
    _check_versions(node)
    res = _vjp_on_arrays(node, op, g, dict(node.kw, needs=_expand_needs(node)) if op.needs else node.kw)
    if res is None:
        return None
    grads = [res[m[3]] if m[3] < len(res) and m[1] is not None else None for m in node.metas]
    if not retain_graph:
        _free(node)
    return grads


def _wrap_grad(r, g, node, arrs):
    """A vjp's array result as a Tensor. A view of the incoming gradient shares its storage, as the Tensor
    op would; a saved input or output (or a view of one) must not leak out as a gradient: it is copied.
    Anything else (a fresh result, or a view of one: the transpose of a matmul output) is the gradient's own."""
    if type(r) is not type(g._data):  # a NumPy scalar from a 0-d formula
        return Tensor._make(g._device.backend.xp.asarray(r), g._device)
    if r.base is None:  # owns its memory (the common case: a fresh result), unless it is a saved array itself
        if r is node.out or any(r is a for a in arrs):
            r = r.copy()
        return Tensor._make(r, g._device)
    root = root_of(r)
    if root is root_of(g._data):
        return Tensor._make(r, g._device, g._storage)
    for a in (node.out, *arrs):
        if a is not None and hasattr(a, "base") and root is root_of(a):
            r = r.copy()
            break
    return Tensor._make(r, g._device)


def _expand_needs(node):
    # one flag per tensor input (does its edge exist); vjps index it by positional argument
    edges = node.edges
    if len(edges) == len(node.inputs):  # every positional input is a tensor: positions are edge indices
        return tuple(e is not None for e in edges)
    out = [False] * len(node.inputs)
    for m, e in zip(node.metas, node.edges):
        out[m[3]] = e is not None
    return tuple(out)


_NO_VERSIONS = ((), None, 0)


def _free(node):
    """Drop what the node saved for backward; a later backward through it raises torch's error."""
    if node._custom:
        node._release()
        return
    op = node.op
    if node._frees or ((op.save_in or op.save_out) and _has_saved(node)):
        node.inputs = None
        node.out = None
        node.versions = _NO_VERSIONS


def _has_saved(node):
    """Whether the node saved a tensor as torch would (then a second backward through it fails): its output,
    a checked input, or a Python-number operand torch wraps as a saved tensor. Inputs kept only for their
    shape (views, unchecked inputs) are not saved: backward can run through the node again."""
    vers, out_st, _ = node.versions
    if out_st is not None or vers.count(None) != len(vers):
        return True
    spec = node.op.save_in
    if not isinstance(spec, tuple) or not node.inputs:
        return False
    needs = [False] * len(node.inputs)
    for m, e in zip(node.metas, node.edges):
        if m[3] < len(needs):
            needs[m[3]] = e is not None
    for k, a in enumerate(node.inputs):
        if isinstance(a, (bool, int, float, complex)) and k < len(spec):
            s = spec[k]
            if s is True or (type(s) is int and s < len(needs) and needs[s]) or \
                    (type(s) is tuple and any(j < len(needs) and needs[j] for j in s)):
                return True
    return False


def _accumulate(node, g, create_graph, hooked=False):
    """AccumulateGrad: leaf hooks (unless already ``hooked``), then add ``g`` into ``variable.grad``.

    Like torch, the first gradient is stolen (no copy) only when nothing else can see it: the caller's
    variable and our parameter are the only references to the tensor, and the tensor is the only owner
    of its memory. Anything else (a user's gradient, a tensor a hook kept) is copied."""
    v = node.variable
    own = 3  # references to an untouched g: the caller's variable, this parameter, getrefcount's argument
    if not hooked:
        hooks = v.__dict__.get("_hooks")
        if hooks:
            for h in list(hooks.values()):
                r = h(g)
                if r is not None:
                    g, own = r, 2
    if node._pre_hooks:
        for h in list(node._pre_hooks.values()):
            r = h((g,))
            if r is not None:
                g, own = r[0], 2
    if g._data.shape != v._data.shape:
        g, own = _sum_to(g, v._data.shape), 2
    if g.dtype is not v.dtype:
        g, own = _cast(g, v.dtype), 2
    if g._device is not v._device:
        g, own = g.to(v._device), 2
    old = v._grad
    if old is None:
        if create_graph:
            v._grad = g.clone()
        elif _sole_owner(g, own) and g._data.strides == v._data.strides:
            v._grad = Tensor._make(g._data, g._device)
        else:
            v._grad = _clone_like(g, v)
    elif create_graph or grad_mode.state.enabled:
        v._grad = old + g
    else:
        od = old._data
        if getattr(od.flags, "writeable", True) and od.shape == g._data.shape and od.dtype == g._data.dtype:
            od += g._data
            old._storage._version += 1
        else:
            v._grad = old + g
    post = v.__dict__.get("_post_acc_hooks")
    if post:
        for h in list(post.values()):
            h(v)
    if node._hooks:
        for h in list(node._hooks.values()):
            h((), (g,))


def _sole_owner(g, own):
    """Whether tensor ``g`` is referenced ``own`` times at most (counted by the caller, plus one for this
    call) and nothing else holds its memory. As in torch, tensors sharing g's memory (g.detach()) do not
    count: only holders of ``g`` itself do. A view whose base array is held only by g (the transpose of a
    fresh matmul result, the ``w.t()`` gradient) owns its memory too."""
    if sys.getrefcount(g) > own + 1:
        return False
    d = g._data
    root = d.base
    if root is None:
        return True
    if type(root) is not type(d) or d.size != root.size:
        return False
    # holders of root we know of: d.base, this frame's local, getrefcount's argument, g's storage, and
    # the base tensor (held by g alone) of a view made by a Tensor op
    known = 3 if g._stor is None else 4
    b = g._base
    if b is not None:
        if b._data is not root or b._base is not None or sys.getrefcount(b) > 3:
            return False
        known += 1
    return sys.getrefcount(root) <= known


def _clone_like(g, v):
    """A detached copy of ``g`` with ``v``'s strides when ``v`` is dense (torch's gradient layout contract)."""
    vd = v._data
    if v._device.type == "meta":
        return g.detach().clone()
    if vd.ndim > 1 and not vd.flags.c_contiguous and array_is_dense(vd):
        arr = v._device.backend.xp.empty_like(vd)
        arr[...] = g._data
    else:  # C order otherwise, with v's strides for size-1 dims too (torch: contiguous)
        arr = g._data.copy()
    return Tensor._make(arr, v._device)
