"""Graph nodes: one ``Node`` per differentiable op call, ``AccumulateGrad`` per leaf.

A node keeps the op, the inputs its vjp reads, the output array (not the output tensor, so no
reference cycle forms), the version of each saved tensor, and an edge per tensor input.
"""
import itertools
import weakref
from collections import namedtuple

_seq = itertools.count()


class RemovableHandle:
    """Returned by ``register_*hook``; ``handle.remove()`` unregisters the hook."""
    _ids = itertools.count()

    def __init__(self, hooks_dict, *extra):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(RemovableHandle._ids)
        self.extra_dicts = [weakref.ref(d) for d in extra]

    def remove(self):
        d = self.hooks_dict_ref()
        if d is not None:
            d.pop(self.id, None)
        for r in self.extra_dicts:
            e = r()
            if e is not None:
                e.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _HookDict(dict):
    """A dict that can be weak-referenced (handles point at it weakly)."""
    __slots__ = ("__weakref__",)


def add_hook(hooks, hook, *extra):
    """Store ``hook`` in ``hooks`` under a fresh handle id and return the RemovableHandle.

    ``extra`` dicts (e.g. a module's with_kwargs flags) are cleared of the id when the handle is removed.
    """
    h = RemovableHandle(hooks, *extra)
    hooks[h.id] = hook
    return h


class Node:
    """A backward function in the graph (``grad_fn``); its name is torch's, e.g. ``MulBackward0``."""
    __slots__ = ("op", "inputs", "kw", "out", "versions", "edges", "metas", "seq", "__weakref__", "__dict__")
    # rarely set: class defaults, overridden in the instance dict when a hook or metadata is added
    _pre_hooks = _hooks = _tensor_hooks = None
    _custom = False  # True for autograd.Function nodes: the engine calls their _run_backward

    def __init__(self, op, inputs, kw, out, edges, metas, versions):
        self.op, self.inputs, self.kw, self.out = op, inputs, kw, out
        self.edges, self.metas, self.versions = edges, metas, versions
        self.seq = next(_seq)

    @property
    def metadata(self):
        d = self.__dict__.get("_metadata")
        if d is None:
            d = self.__dict__["_metadata"] = {}
        return d

    def name(self):
        return self.op.node_name

    @property
    def next_functions(self):
        return tuple((e[0], e[1]) if e is not None else (None, 0) for e in self.edges)

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` after this node runs; may return new grad_inputs."""
        if self._hooks is None:
            self._hooks = _HookDict()
        h = RemovableHandle(self._hooks)
        self._hooks[h.id] = fn
        return h

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` before this node runs; may return new grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = _HookDict()
        h = RemovableHandle(self._pre_hooks)
        self._pre_hooks[h.id] = fn
        return h

    def _add_tensor_hook(self, output_nr, fn):
        if self._tensor_hooks is None:
            self._tensor_hooks = {}
        d = self._tensor_hooks.setdefault(output_nr, _HookDict())
        h = RemovableHandle(d)
        d[h.id] = fn
        return h

    def __repr__(self):
        # torch prints the class name: the C++ namespace of names like torch::autograd::CopySlices is dropped
        return f"<{self.name().rsplit('::', 1)[-1]} object at {hex(id(self))}>"

    def __call__(self, *grads):
        """Apply this backward function to ``grads`` (one per output): the gradients for its inputs."""
        from .engine import call_directly
        return call_directly(self, grads)


class AccumulateGrad(Node):
    """The edge target for a leaf that requires grad: adds incoming gradients into ``variable.grad``."""
    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable
        self.edges = ()
        self.seq = -1

    def name(self):
        return "torch::autograd::AccumulateGrad"

    @property
    def next_functions(self):
        return ()

    def __call__(self, *grads):
        """Accumulate ``grads[0]`` into ``variable.grad`` (what backward does at this leaf)."""
        if len(grads) != 1:
            raise TypeError(f"expected 1 arguments, got {len(grads)} instead")
        from . import grad_mode
        from .engine import _accumulate
        if grads[0] is not None:
            g = grads[0]
            _accumulate(self, g, grad_mode.state.enabled)
        return ()


GradientEdge = namedtuple("GradientEdge", ["node", "output_nr", "ownership_token"], defaults=(None,))
GradientEdge.__doc__ = "An edge of the graph: the node and which of its outputs a gradient flows into."


def get_gradient_edge(tensor):
    """The GradientEdge where ``tensor``'s gradient enters the graph (usable as an input or output of grad)."""
    if not tensor._rg:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does not require "
                           "gradients")
    e = edge_of(tensor)
    return GradientEdge(e[0], e[1])


def increment_version(tensor):
    """Bump the version counter of ``tensor`` (or each tensor of an iterable), as an in-place write would."""
    from .._tensor import Tensor
    for t in ((tensor,) if isinstance(tensor, Tensor) else tensor):
        t._storage._version += 1


def accumulate_node(t):
    """The (cached) AccumulateGrad of leaf ``t``; the tensor holds it weakly so no cycle forms."""
    d = t.__dict__
    ref = d.get("_accum")
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(t)
        d["_accum"] = weakref.ref(node)
    return node


def edge_of(t):
    """Where gradient for tensor ``t`` flows: (grad_fn, output_nr), (AccumulateGrad, 0) or None."""
    if not t._rg:
        return None
    fn = t.grad_fn
    if fn is None:
        return (accumulate_node(t), 0)
    b = t._base
    if b is not None and t._base_fn is not b.grad_fn:
        from ..ops._registry import refresh_view
        fn = refresh_view(t)
    return (fn, t._output_nr)


def register_tensor_hook(t, hook):
    if not t._rg:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t.grad_fn is None:
        d = t.__dict__.get("_hooks")
        if d is None:
            d = t.__dict__["_hooks"] = _HookDict()
        h = RemovableHandle(d)
        d[h.id] = hook
        return h
    return t.grad_fn._add_tensor_hook(t._output_nr, hook)


def register_post_accumulate_hook(t, hook):
    if not t._rg:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    d = t.__dict__.get("_post_acc_hooks")
    if d is None:
        d = t.__dict__["_post_acc_hooks"] = _HookDict()
    h = RemovableHandle(d)
    d[h.id] = hook
    return h


def retain_grad(t):
    if not t._rg:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if t.grad_fn is None or t.__dict__.get("_retains_grad"):
        return
    t.__dict__["_retains_grad"] = True
    ref = weakref.ref(t)
    node, nr = t.grad_fn, t._output_nr
    if node._tensor_hooks is None:
        node._tensor_hooks = {}
    # kept apart from user hooks: torch runs the retains_grad hook after them
    node._tensor_hooks.setdefault(("retain", nr), ref)


def to_dot(tensor, name="output"):
    """Graphviz DOT text of the graph behind ``tensor`` (paste into any DOT viewer)."""
    lines = ["digraph autograd {", '  node [shape=box, fontname="monospace"];']
    ids = {}

    def nid(obj):
        if id(obj) not in ids:
            ids[id(obj)] = f"n{len(ids)}"
        return ids[id(obj)]

    root = tensor.grad_fn
    lines.append(f'  {nid(tensor)} [label="{name}\\n{tuple(tensor.shape)}", shape=oval];')
    if root is None:
        lines.append("}")
        return "\n".join(lines)
    lines.append(f"  {nid(root)} -> {nid(tensor)};")
    seen, stack = set(), [root]
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        if isinstance(fn, AccumulateGrad):
            v = fn.variable
            lines.append(f'  {nid(fn)} [label="AccumulateGrad\\n{tuple(v.shape)}", style=filled, '
                         f'fillcolor=lightblue];')
            continue
        lines.append(f'  {nid(fn)} [label="{fn.name()}"];')
        for nxt, _ in fn.next_functions:
            if nxt is not None:
                lines.append(f"  {nid(nxt)} -> {nid(fn)};")
                stack.append(nxt)
    lines.append("}")
    return "\n".join(lines)
