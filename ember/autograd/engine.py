"""The backward engine: walk the graph in dependency order, call each node's vjp, route gradients.

Broadcast inputs get their gradient summed back to the input's shape here, once (``sum_to``), so
individual vjps never do it. Gradients are cast to the input's dtype, as torch does.
"""
from heapq import heappop, heappush

from .. import _dtype as D
from .._tensor import Tensor
from . import anomaly_mode, grad_mode
from .graph import AccumulateGrad

_FREED_MSG = ("Trying to backward through the graph a second time (or directly access saved tensors after "
              "they have already been freed). Saved intermediate values of the graph are freed when you call "
              ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
              "graph a second time or if you need to access saved tensors after calling backward.")


def _ops():
    from .. import ops
    return ops


def _make_grads(outputs, grad_outputs):
    ops = _ops()
    res = []
    for out, g in zip(outputs, grad_outputs):
        if g is None:
            if out._rg:
                if out._data.size != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                if out.dtype.category < 2:
                    raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but "
                                       f"got {out.dtype}")
                g = ops.ones_like(out)
        else:
            if not isinstance(g, Tensor):
                g = ops.tensor(g, dtype=out.dtype, device=out.device)
            if g.shape != out.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {g.shape} and output[0] "
                                   f"has a shape of {out.shape}.")
            if g.dtype.category != out.dtype.category and not (g.dtype.category >= 2 and out.dtype.category >= 2):
                raise RuntimeError(f"For complex Tensors, both grad_output and output are required to have the "
                                   f"same dtype. Mismatch in dtype: grad_output[0] has a dtype of {g.dtype} and "
                                   f"output[0] has a dtype of {out.dtype}.")
        res.append(g)
    return res


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Compute and accumulate gradients of ``tensors`` w.r.t. graph leaves (``tensor.backward()``)."""
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
        grad_tensors = (grad_tensors,)
    else:
        tensors = tuple(tensors)
        if grad_tensors is None:
            grad_tensors = (None,) * len(tensors)
        elif isinstance(grad_tensors, Tensor):
            grad_tensors = (grad_tensors,)
    for t in tensors:
        if not t._rg:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(tensors, grad_tensors)
    input_set = None
    if inputs is not None:
        if isinstance(inputs, Tensor):
            inputs = (inputs,)
        if len(inputs) == 0:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        input_set = list(inputs)
    run(tensors, grads, retain_graph, create_graph, accumulate=True, inputs=input_set)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) without touching ``.grad`` (``ember.autograd.grad``)."""
    single = isinstance(outputs, Tensor)
    outputs = (outputs,) if single else tuple(outputs)
    inputs_t = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    if allow_unused is None:
        allow_unused = materialize_grads
    for i, t in enumerate(inputs_t):
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    for t in outputs:
        if not t._rg:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(outputs, grad_outputs)
    captured = run(outputs, grads, retain_graph, create_graph, accumulate=False, inputs=list(inputs_t))
    res = []
    ops = _ops()
    for t, g in zip(inputs_t, captured):
        if g is None:
            if materialize_grads:
                g = ops.zeros_like(t)
            elif not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
        res.append(g)
    return tuple(res)


def _sum_to(g, shape):
    if g._data.shape == shape:
        return g
    return _ops().sum_to(g, shape)


def _node_of(t):
    """The (node, output_nr) whose incoming gradient equals d/d t."""
    from .graph import edge_of
    return edge_of(t)


def run(roots, root_grads, retain_graph, create_graph, accumulate, inputs=None):
    """The engine. Returns captured gradients for ``inputs`` when ``accumulate`` is False."""
    ops = _ops()
    # capture points: for each requested input, the node/slot whose gradient is that input's gradient
    capture = {}
    if inputs is not None:
        for i, t in enumerate(inputs):
            e = _node_of(t)
            if e is not None:
                capture.setdefault((id(e[0]), e[1]), []).append(i)
    captured = [None] * (len(inputs) if inputs is not None else 0)

    # dependency counts over the reachable graph
    root_edges = []
    for t, g in zip(roots, root_grads):
        e = _node_of(t)
        if e is not None:
            root_edges.append((e, g))
    deps = {}
    nodes = {}
    stack = [e[0] for e, _ in root_edges]
    for n in stack:
        nodes[id(n)] = n
    seen = set()
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if type(n) is AccumulateGrad:
            continue
        for e in n.edges:
            if e is not None:
                nxt = e[0]
                deps[id(nxt)] = deps.get(id(nxt), 0) + 1
                if id(nxt) not in nodes:
                    nodes[id(nxt)] = nxt
                stack.append(nxt)

    # when only some inputs are wanted (autograd.grad / backward(inputs=)), run only nodes leading there
    needed = None
    if inputs is not None:
        targets = {k[0] for k in capture}
        needed = _nodes_reaching(nodes, targets)

    buffers = {}  # id(node) -> list of grads per output slot

    def add_grad(node, nr, g):
        b = buffers.get(id(node))
        if b is None:
            b = buffers[id(node)] = {}
        prev = b.get(nr)
        b[nr] = g if prev is None else prev + g

    for (node, nr), g in root_edges:
        add_grad(node, nr, g)

    # ready nodes in a heap keyed by -seq: the most recently created node runs first, like torch
    ready_ids = set()
    queue = []
    for (n, _), _g in root_edges:
        if deps.get(id(n), 0) == 0 and id(n) not in ready_ids:
            ready_ids.add(id(n))
            heappush(queue, (-n.seq, id(n), n))

    prev_mode = grad_mode.state.enabled
    grad_mode.state.enabled = bool(create_graph)
    handed = set(id(g._data) for g in root_grads if g is not None)
    try:
        while queue:
            node = heappop(queue)[2]
            gs = buffers.pop(id(node), {})
            if capture:
                for nr, g in gs.items():
                    for i in capture.get((id(node), nr), ()):
                        captured[i] = g
            if type(node) is AccumulateGrad:
                if needed is None or accumulate:
                    g = gs.get(0)
                    if g is not None and (accumulate and (inputs is None or id(node) in needed)):
                        _accumulate(node, g, create_graph, handed)
                continue
            if needed is not None and id(node) not in needed:
                continue
            grads_in = _call_node(node, gs, retain_graph, create_graph)
            for e, gi, meta in zip(node.edges, grads_in, node.metas):
                if e is None or gi is None:
                    continue
                shape, dt = meta[0], meta[1]
                if gi._data.shape != shape:
                    gi = _sum_to(gi, shape)
                if gi.dtype is not dt:
                    gi = gi.to(dt) if not (dt.category < 3 and gi.dtype.category == 3) else gi.real.to(dt)
                nxt, nr = e
                add_grad(nxt, nr, gi)
            for e in node.edges:
                if e is None:
                    continue
                k = id(e[0])
                deps[k] -= 1
                if deps[k] == 0 and k not in ready_ids:
                    ready_ids.add(k)
                    heappush(queue, (-e[0].seq, k, e[0]))
    finally:
        grad_mode.state.enabled = prev_mode
    return captured


def _nodes_reaching(nodes, targets):
    """ids of nodes from which some target node is reachable (targets included)."""
    memo = {}

    def reach(n):
        k = id(n)
        if k in memo:
            return memo[k]
        memo[k] = False
        r = k in targets
        if type(n) is not AccumulateGrad:
            for e in n.edges:
                if e is not None and reach(e[0]):
                    r = True
        memo[k] = r
        return r

    import sys
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 10 * len(nodes) + 1000))
    try:
        for n in nodes.values():
            reach(n)
    finally:
        sys.setrecursionlimit(old)
    return {k for k, v in memo.items() if v}


def _wrap_out(node, create_graph):
    from .._tensor import Tensor as T
    arr = node.out
    if arr is None:
        return None
    dev = node.versions[1].device
    t = T._make(arr, dev, node.versions[1])
    if create_graph:
        t.grad_fn, t._rg = node, True
    return t


def _check_versions(node):
    vers, out_storage, out_ver = node.versions
    op = node.op
    if op.save_in and op.check:
        i = 0
        for a in node.inputs:
            if isinstance(a, Tensor):
                if a._storage._version != vers[i]:
                    _raise_modified(a, node, vers[i], a._storage._version)
                i += 1
    if out_storage is not None and out_storage._version != out_ver:
        arr = node.out
        fake = Tensor._make(arr, out_storage.device, out_storage)
        _raise_modified(fake, node, out_ver, out_storage._version, output=True)


def _raise_modified(t, node, expected, actual, output=False):
    from ..ops._registry import _type_name
    kind = f"torch.{_type_name(t.dtype)}Tensor" if t.device.type == "cpu" else \
        f"torch.cuda.{_type_name(t.dtype)}Tensor"
    where = f", which is output 0 of {node.name()}," if output else ""
    raise RuntimeError(f"one of the variables needed for gradient computation has been modified by an inplace "
                       f"operation: [{kind} {list(t.shape)}]{where} is at version {actual}; expected version "
                       f"{expected} instead. Hint: enable anomaly detection to find the operation that failed "
                       f"to compute its gradient, with torch.autograd.set_detect_anomaly(True).")


def _call_node(node, gs, retain_graph, create_graph):
    op = node.op
    if node.inputs is None:
        raise RuntimeError(_FREED_MSG)
    # tensor hooks registered on this node's outputs (t.register_hook on a non-leaf)
    th = node._tensor_hooks
    if th:
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
                    t._grad = g if create_graph else g.detach()
                    if not create_graph:
                        t._grad = _fresh(t._grad)
    if node._pre_hooks:
        n = node.kw["n"] if getattr(op, "nout", 1) != 1 else max(max(gs.keys(), default=0) + 1, 1)
        gtuple = tuple(gs.get(i) for i in range(n))
        for h in list(node._pre_hooks.values()):
            r = h(gtuple)
            if r is not None:
                gtuple = tuple(r)
        gs = {i: g for i, g in enumerate(gtuple) if g is not None}
    _check_versions(node)
    nout = getattr(op, "nout", 1)
    if nout != 1:  # multi-output node: its vjp takes every output's gradient (None where none flowed)
        g = tuple(gs.get(i) for i in range(node.kw["n"]))
    else:
        g = gs.get(0)
        if g is None:
            g = _zeros_for(node)
    out = _wrap_out(node, create_graph)
    kw = node.kw
    if op.needs:
        needs = tuple(e is not None for e in node.edges)
        kw = dict(kw, needs=_expand_needs(node, needs))
    try:
        res = op.vjp(g, out, *node.inputs, **kw)
    except Exception as exc:
        if anomaly_mode.state.enabled:
            anomaly_mode.report(node, exc)
        raise
    if not isinstance(res, (tuple, list)):
        res = (res,)
    # one result per positional input; keep those of tensor inputs (meta[3] is the position)
    grads = [res[m[3]] if m[3] < len(res) else None for m in node.metas]
    if anomaly_mode.state.enabled:
        anomaly_mode.check(node, grads)
    if node._hooks:
        gin = tuple(grads)
        for h in list(node._hooks.values()):
            r = h(gin, (g,))
            if r is not None:
                gin = tuple(r)
        grads = list(gin)
    if not retain_graph:
        _free(node)
    return grads


def _expand_needs(node, needs):
    # needs is per tensor input; vjps index it by positional argument
    out = [False] * len(node.inputs)
    for m, n in zip(node.metas, needs):
        out[m[3]] = n
    return tuple(out)


def _free(node):
    op = node.op
    if op.save_in:
        node.inputs = tuple(None if isinstance(a, Tensor) else a for a in node.inputs)
        node.op = _FreedOp(op)
    node.out = None


class _FreedOp:
    """Stands in for an op whose saved tensors were freed: a second backward raises torch's error."""
    __slots__ = ("orig",)

    def __init__(self, orig):
        self.orig = orig

    def __getattr__(self, k):
        if k == "vjp":
            def fail(*a, **k):
                raise RuntimeError(_FREED_MSG)
            return fail
        if k == "save_in":
            return False
        return getattr(self.orig, k)


def _zeros_for(node):
    ops = _ops()
    arr = node.out
    if arr is not None:
        return ops.zeros(arr.shape, dtype=D.NP2DT[arr.dtype], device=node.versions[1].device)
    raise RuntimeError("no gradient flowed to an output whose shape was not saved")


def _fresh(g):
    if g._data.base is not None:
        return g.clone()
    return g


def _accumulate(node, g, create_graph, handed):
    v = node.variable
    hooks = v.__dict__.get("_hooks")
    if hooks:
        for h in list(hooks.values()):
            r = h(g)
            if r is not None:
                g = r
    if node._pre_hooks:
        for h in list(node._pre_hooks.values()):
            r = h((g,))
            if r is not None:
                g = r[0]
    if g.shape != v.shape:
        g = _sum_to(g, tuple(v.shape))
    if g.dtype is not v.dtype:
        g = g.to(v.dtype)
    if g._device != v._device:
        g = g.to(v._device)
    if v._grad is None:
        if create_graph:
            v._grad = g
        else:
            g = g.detach()
            if g._data.base is not None or id(g._data) in handed:
                g = g.clone()
            handed.add(id(g._data))
            v._grad = g
    elif create_graph or grad_mode.state.enabled:
        v._grad = v._grad + g
    else:
        old = v._grad
        if old._data.flags.writeable and old._data.shape == g._data.shape:
            old._data += g._data
            old._storage._version += 1
        else:
            v._grad = old + g
    post = v.__dict__.get("_post_acc_hooks")
    if post:
        for h in list(post.values()):
            h(v)
    if node._hooks:
        for h in list(node._hooks.values()):
            h((v._grad,), (g,))

