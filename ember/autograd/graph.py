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


class _NodeMeta(type):
    """``Node(op, ...)`` builds an instance of ``op``'s own node class (``MulBackward0``, ...), as every
    torch grad_fn is an instance of a class named after its backward function."""

    def __call__(cls, *args, **kw):
        if cls is Node and args:
            cls = node_class(args[0])
        return type.__call__(cls, *args, **kw)


class _NodeClass(_NodeMeta):
    """The metaclass of concrete node classes: a plain (C-level) call, so making a node costs nothing extra."""
    __call__ = type.__call__


class Node(metaclass=_NodeMeta):
    """A backward function in the graph (``grad_fn``); its class is named like torch's, e.g. ``MulBackward0``."""
    __slots__ = ("op", "inputs", "kw", "out", "versions", "edges", "metas", "seq", "__weakref__", "__dict__")
    # rarely set: class defaults, overridden in the instance dict when a hook or metadata is added
    _pre_hooks = _hooks = _tensor_hooks = None
    _custom = False  # True for autograd.Function nodes: the engine calls their _run_backward
    _frees = False  # True: a backward always releases this node (torch's CopySlices), saved tensors or not

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


# torch's names for the saved inputs of some backward functions (``grad_fn._saved_<name>``); others call
# input 0 ``self`` and, for two-input pointwise ops, input 1 ``other``
_SAVED_NAMES = {
    "PowBackward0": ("self", "exponent"), "PowBackward1": ("self", "exponent"), "PowBackward2": ("self", "exponent"),
    "MmBackward0": ("self", "mat2"), "BmmBackward0": ("self", "mat2"), "DotBackward0": ("self", "tensor"),
    "MvBackward0": ("self", "vec"), "AddmmBackward0": ("self", "mat1", "mat2"),
    "AddcmulBackward0": ("self", "tensor1", "tensor2"), "AddcdivBackward0": ("self", "tensor1", "tensor2"),
    "LerpBackward0": ("self", "end"), "LerpBackward1": ("self", "end", "weight"),
}
_FREED_MSG = ("Trying to backward through the graph a second time (or directly access saved tensors after "
              "they have already been freed). Saved intermediate values of the graph are freed when you call "
              ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
              "graph a second time or if you need to access saved tensors after calling backward.")
_CLASSES = {}  # node name -> class


def _saved_input(i, wrap):
    """``_saved_<name>`` of input ``i``; ``wrap``: a Python number shows as a tensor (torch's wrapped scalar
    operands, e.g. ``other`` in ``a * 2``), else as the number itself (``exponent`` in ``a.pow(2)``)."""
    def get(self):
        ins = self.inputs
        if ins is None:
            raise RuntimeError(_FREED_MSG)
        v = ins[i] if i < len(ins) else None
        if v is None:
            return None
        if hasattr(v, "_data"):
            # kept only for its shape this call (its guard was off): torch did not save it
            j = sum(1 for a in ins[:i] if hasattr(a, "_data"))
            vers = self.versions[0]
            return v if j < len(vers) and vers[j] is not None else None
        if wrap and isinstance(v, (bool, int, float, complex)):
            from .. import ops
            return ops.tensor(v)
        return v
    return property(get)


def _saved_result(self):
    if self.inputs is None:
        raise RuntimeError(_FREED_MSG)
    from .engine import _wrap_out
    return _wrap_out(self, True)


def _saved_flags(spec, n):
    """Which of ``n`` positional inputs a save spec (True/False/per-input tuple) can keep."""
    if spec is True or spec is False:
        return (spec,) * n
    return tuple(s is not False and s is not None for s in spec)


def node_class(op):
    """The node class for ``op`` (one per torch node name, created on first use and cached on the op)."""
    cls = getattr(op, "node_cls", None)
    if cls is not None:
        return cls
    name = op.node_name
    cls = _CLASSES.get(name)
    if cls is None:
        short = name.rsplit("::", 1)[-1]
        # torch's node classes are built-ins: their repr is <class 'MulBackward0'>
        cls = _CLASSES[name] = _NodeClass(short, (Node,), {"__slots__": (), "__qualname__": short,
                                                           "__module__": "builtins"})
    _add_saved_attrs(cls, op)
    try:
        op.node_cls = cls
    except AttributeError:  # op classes without the slot: looked up by name each time
        pass
    return cls


def _add_saved_attrs(cls, op):
    spec = getattr(op, "save_in", False)
    names = _SAVED_NAMES.get(op.node_name)
    n = len(spec) if isinstance(spec, tuple) else _arity(op, 1)
    if names is None:
        names = ("self", "other") if n == 2 and getattr(op, "pointwise", False) else ("self",)
    for i, (flag, nm) in enumerate(zip(_saved_flags(spec, n), names)):
        if flag and getattr(op, "check", True) and not hasattr(cls, "_saved_" + nm):
            setattr(cls, "_saved_" + nm, _saved_input(i, nm == "other"))
    if getattr(op, "save_out", False) is not False and not hasattr(cls, "_saved_result"):
        cls._saved_result = property(_saved_result)


def _arity(op, default):
    """How many positional inputs ``op``'s vjp ``(g, out, *inputs, needs=..., **kw)`` takes."""
    code = getattr(getattr(op, "vjp", None), "__code__", None)
    if code is None or code.co_flags & 0x04:  # no code, or *inputs
        return default
    names = code.co_varnames[2:code.co_argcount]
    n = len(names) - len(getattr(op.vjp, "__defaults__", None) or ())
    return max(0, n - ("needs" in names[:n]))


class AccumulateGrad(Node, metaclass=_NodeClass):
    """The edge target for a leaf that requires grad: adds incoming gradients into ``variable.grad``."""
    __slots__ = ("variable",)
    edges = ()  # class defaults (the slots of the same names are never set): making one sets one field
    seq = -1

    def __init__(self, variable):
        self.variable = variable

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
