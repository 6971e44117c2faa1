"""Custom differentiable functions: subclass ``Function`` with static ``forward`` and ``backward``.

``MyFn.apply(*args)`` runs ``forward`` with grad mode off; when an input requires grad, the context
object (an instance of ``MyFnBackward``, created per class) becomes the outputs' ``grad_fn``: a graph
node whose backward calls ``MyFn.backward(ctx, *grads)``.

Saved outputs are kept as their array and storage, not as the output tensor, so the output -> node ->
saved output reference cycle never forms; they are rewrapped (with this node as grad_fn) on access.
"""
import functools
import inspect
import warnings

from .._tensor import Tensor
from . import grad_mode
from .graph import Node, accumulate_node

_FREED_MSG = ("Trying to backward through the graph a second time (or directly access saved tensors after "
              "they have already been freed). Saved intermediate values of the graph are freed when you call "
              ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
              "graph a second time or if you need to access saved tensors after calling backward.")


class FunctionCtx:
    """The methods ``forward``/``setup_context`` use on ``ctx`` to prepare for backward."""
    __slots__ = ()

    def save_for_backward(self, *tensors):
        """Keep tensors (or None) for backward; read them back with ``ctx.saved_tensors``."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(t).__name__}")
        self.to_save = tensors

    def save_for_forward(self, *tensors):
        """Keep tensors for a forward-mode ``jvp`` (accepted for compatibility)."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_forward expects all arguments to be tensors; but got {i}th argument "
                                f"of type {type(t).__name__}")
        self.saved_for_forward = tensors

    def mark_dirty(self, *args):
        """Declare inputs that forward modified in place (they must also be returned as outputs)."""
        self.dirty_tensors = args

    def mark_shared_storage(self, *pairs):
        warnings.warn("mark_shared_storage is deprecated. Tensors with shared storages are automatically "
                      "tracked. Note that calls to `set_()` are not tracked", DeprecationWarning, stacklevel=2)

    def mark_non_differentiable(self, *args):
        """Declare outputs that are not differentiable: they will not require grad."""
        self.non_differentiable = args

    def set_materialize_grads(self, value):
        """Whether backward gets zero tensors (True, the default) or None for outputs with no gradient."""
        self.materialize_grads = bool(value)


class BackwardCFunction(Node, FunctionCtx):
    """The graph node of a custom Function call (also the ``ctx`` its forward and backward receive)."""
    _custom = True
    _forward_cls = None
    materialize_grads = True
    to_save = None
    dirty_tensors = ()
    non_differentiable = ()

    def _init(self, args, record):
        self.op, self.kw, self.out = None, None, None
        self.inputs = ()
        self.versions = None
        self.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        edges, metas = [], []
        i = 0
        for a in args:
            if isinstance(a, Tensor):
                if a._rg and record:
                    fn = a.grad_fn
                    edges.append((accumulate_node(a), 0) if fn is None else (fn, a._output_nr))
                else:
                    edges.append(None)
                metas.append((a._data.shape, a.dtype, a._device, i))
            i += 1
        self.edges, self.metas = edges, metas
        self._n_args = len(args)
        self._saved = None
        self._out_metas = ()

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<torch.autograd.function.{type(self).__name__} object at {hex(id(self))}>"

    def apply(self, *args):
        """Run the user's backward (or vjp) on ``args``."""
        fwd = self._forward_cls
        backward_fn, vjp_fn = fwd.backward, fwd.vjp
        if backward_fn is not Function.backward and vjp_fn is not Function.vjp:
            raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function is not allowed. "
                               "You should only implement one of them.")
        user_fn = vjp_fn if vjp_fn is not Function.vjp else backward_fn
        return user_fn(self, *args)

    # ------------------------------------------------------------ saved tensors
    def _save(self, outputs):
        """Turn ``to_save`` into records: (kind, ...) with kind 0 = the tensor itself, 1 = one of our outputs."""
        to_save = self.__dict__.pop("to_save", None)
        if to_save is None:
            self._saved = None
            return
        out_nr = {id(t): i for i, t in enumerate(outputs) if isinstance(t, Tensor)}
        recs = []
        for t in to_save:
            if t is None:
                recs.append(None)
            elif id(t) in out_nr and t.grad_fn is self:
                # our own output: keep its memory, not the tensor (the tensor points back at us)
                recs.append((1, t._data, t._storage, out_nr[id(t)], t._storage._version))
            elif id(t) in out_nr and t._rg and t._base is not None and id(t) in self._dirty_ids:
                recs.append((1, t._data, t._storage, out_nr[id(t)], t._storage._version))
            else:
                recs.append((0, t, t._storage._version))
        self._saved = recs

    @property
    def saved_tensors(self):
        """The tensors given to ``save_for_backward``, checked against in-place changes since."""
        recs = self._saved
        if recs is None:
            if self.inputs is None:
                raise RuntimeError(_FREED_MSG)
            pending = self.__dict__.get("to_save")
            return tuple(pending) if pending is not None else ()
        from .engine import check_version
        res = []
        for r in recs:
            if r is None:
                res.append(None)
            elif r[0] == 0:
                t = r[1]
                if t._storage._version != r[2]:
                    check_version(t, r[2], t.grad_fn, t.output_nr)
                res.append(t)
            else:
                _, arr, storage, nr, ver = r
                t = Tensor._make(arr, storage.device, storage)
                if storage._version != ver:
                    check_version(t, ver, self, nr)
                t.grad_fn, t._rg = self, True
                if nr:
                    t._output_nr = nr
                res.append(t)
        return tuple(res)

    @property
    def saved_variables(self):
        warnings.warn("'saved_variables' is deprecated; use 'saved_tensors'", DeprecationWarning, stacklevel=2)
        return self.saved_tensors

    def _release(self):
        if self._saved:
            self._saved = None
            self.inputs = None  # marks the node freed: another backward through it raises

    # ------------------------------------------------------------ the engine's entry point
    def _run_backward(self, gs):
        ops = None
        grads = []
        for i, meta in enumerate(self._out_metas):
            g = gs.get(i)
            if g is None and meta is not None and self.materialize_grads:
                if ops is None:
                    from .. import ops
                g = ops.zeros(meta[0], dtype=meta[1], device=meta[2])
            grads.append(g)
        res = self.apply(*grads)
        if not isinstance(res, tuple):
            res = (res,)
        n = self._n_args
        name = self.name()
        if len(res) != n:
            if len(res) > n and all(r is None for r in res[n:]):
                res = res[:n]
            else:
                raise RuntimeError(f"function {name} returned an incorrect number of gradients (expected {n}, "
                                   f"got {len(res)})")
        tensor_pos = {m[3] for m in self.metas}
        for i, g in enumerate(res):
            if g is not None and i not in tensor_pos:
                raise RuntimeError(f"function {name} returned a gradient different than None at position {i + 1}, "
                                   f"but the corresponding forward input was not a Variable")
        out = []
        for j, meta in enumerate(self.metas):
            g = res[meta[3]]
            if g is not None:
                if not isinstance(g, Tensor):
                    raise TypeError(f"expected Tensor or None as gradient {meta[3]} of {name}, but got "
                                    f"{type(g).__name__}")
                shape = meta[0]
                if g._data.shape != shape and not _expandable(shape, g._data.shape):
                    raise RuntimeError(f"Function {name} returned an invalid gradient at index {j} - got "
                                       f"{list(g.shape)} but expected shape compatible with {list(shape)}")
            out.append(g)
        return out


def _expandable(shape, to):
    """Whether a tensor of ``shape`` broadcasts to ``to`` (then its gradient ``to`` can be summed back)."""
    if len(shape) > len(to):
        return False
    for a, b in zip(reversed(shape), reversed(to)):
        if a != b and a != 1:
            return False
    return True


class FunctionMeta(type):
    """Gives every Function subclass its backward node class, ``<Name>Backward``."""

    def __init__(cls, name, bases, attrs):
        backward_fn = type(name + "Backward", (BackwardCFunction,), {"_forward_cls": cls})
        backward_fn.__module__ = __name__
        backward_fn._compiled_autograd_should_lift = attrs.get("_compiled_autograd_should_lift", True)
        cls._backward_cls = backward_fn
        super().__init__(name, bases, attrs)


def _setup_context_defined(fn):
    return fn is not _SingleLevelFunction.setup_context


class _SingleLevelFunction(FunctionCtx, metaclass=FunctionMeta):
    @staticmethod
    def forward(*args, **kwargs):
        """Compute the outputs (runs with grad mode off). Override this."""
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Optional: fill ``ctx`` from (inputs, output) when ``forward`` takes no ctx."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Gradients w.r.t. each forward input (None for non-tensors) from gradients of each output."""
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it "
                                  "with forward mode AD.")


class Function(_SingleLevelFunction):
    """Base class for custom differentiable operations (``torch.autograd.Function``).

    Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` (or ``forward(*args)``
    plus ``setup_context(ctx, inputs, output)``) and call ``MyFn.apply(*args)``.
    """

    def __init__(self, *args, **kwargs):
        warnings.warn(f"{self.__class__} should not be instantiated. Methods on autograd functions are all static, "
                      f"so you should invoke them on the class itself. Instantiating an autograd function will "
                      f"raise an error in a future version of PyTorch.", DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. Please use "
                           "new-style autograd function with static forward method. (Example: "
                           "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    generate_vmap_rule = False

    @staticmethod
    def vmap(info, in_dims, *args):
        raise NotImplementedError("To use autograd.Function with vmap, you must either override the vmap "
                                  "staticmethod or set generate_vmap_rule=True.")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` and, if an input requires grad, record this call in the graph."""
        setup_ctx = _setup_context_defined(cls.setup_context)
        if setup_ctx:
            bound = inspect.signature(cls.forward).bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = bound.args, {}
        record = grad_mode.state.enabled and any(isinstance(a, Tensor) and a._rg for a in args)
        ctx = object.__new__(cls._backward_cls)
        Node.__init__(ctx, None, (), None, None, [], [], None)
        ctx._init(args, record)
        prev = grad_mode.state.enabled
        grad_mode.state.enabled = False
        try:
            if setup_ctx:
                outputs = cls.forward(*args)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            grad_mode.state.enabled = prev
        return _wrap_outputs(ctx, args, outputs, record)


def _wrap_outputs(ctx, args, outputs, record):
    is_tuple = isinstance(outputs, tuple)
    outs = list(outputs) if is_tuple else [outputs]
    input_ids = {id(a) for a in args if isinstance(a, Tensor)}
    dirty = {id(t) for t in ctx.dirty_tensors}
    ctx._dirty_ids = dirty
    non_diff = {id(t) for t in ctx.non_differentiable}
    out_ids = {id(o) for o in outs if isinstance(o, Tensor)}
    if dirty - out_ids:
        raise RuntimeError("Some elements marked as dirty during the forward method were not returned as output. "
                           "The inputs that are modified inplace must all be outputs of the Function.")
    metas = []
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            metas.append(None)
            continue
        metas.append((o._data.shape, o.dtype, o._device))
        oid = id(o)
        if oid in dirty:
            if record:
                _check_dirty(o)
            o._storage._version += 1
        elif oid in input_ids:
            # an input returned as-is: the output is a new tensor sharing its memory
            o = outs[i] = Tensor._make(o._data, o._device, o._storage)
        elif o._base is not None and o.grad_fn is None:
            # a view made inside forward: the custom backward, not the view, is its history
            o.__dict__.pop("_base", None)
            o.__dict__.pop("_view_fn", None)
        if not record or oid in non_diff or o.dtype.category < 2:
            continue
        if oid in dirty and o._base is not None:
            from ..ops._registry import rebase_history
            tmp = Tensor._make(o._data, o._device, o._storage)
            tmp.grad_fn, tmp._rg = ctx, True
            if i:
                tmp._output_nr = i
            rebase_history(o, tmp, wraps_self=False)
            continue
        o.grad_fn, o._rg = ctx, True
        if i:
            o._output_nr = i
        else:
            o.__dict__.pop("_output_nr", None)
    ctx._out_metas = metas
    if record:
        ctx._save(outs)
    else:
        ctx.__dict__.pop("to_save", None)
    return tuple(outs) if is_tuple else outs[0]


def _check_dirty(t):
    if t._rg and t.grad_fn is None:
        if t._base is not None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")


class InplaceFunction(Function):
    """A Function that may modify its input in place when ``inplace=True`` (legacy helper)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


# ---------------------------------------------------------------- once_differentiable
class _ErrorOp:
    """The op of the node put on the results of a once_differentiable backward run under create_graph."""
    name = "error"
    node_name = "torch::autograd::Error"
    save_in = save_out = check = needs = False
    nout = -1

    def __init__(self, msg):
        self.msg = msg

    def vjp(self, g, out, *inputs, **kw):
        raise RuntimeError(self.msg)


_ONCE_MSG = "trying to differentiate twice a function that was marked with @once_differentiable"


def once_differentiable(fn):
    """Decorator for a Function's backward that is not itself differentiable: it runs without building a
    graph, and differentiating its results again raises an error."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with grad_mode.no_grad():
            outputs = fn(ctx, *args)
        if not grad_mode.state.enabled:
            return outputs
        if not any(isinstance(a, Tensor) and a._rg for a in args):
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        op = _ErrorOp(_ONCE_MSG)
        edges, metas, wrapped = [], [], []
        for k, o in enumerate(outs):
            if isinstance(o, Tensor):
                leaf = Tensor._make(o._data, o._device, o._storage)
                leaf._rg = True
                edges.append((accumulate_node(leaf), 0))
                metas.append((o._data.shape, o.dtype, o._device, k))
            else:
                edges.append(None)
                metas.append(((), None, None, k))
        node = Node(op, (None,) * len(outs), {"n": len(outs)}, None, edges, metas, ((), None, 0))
        for k, o in enumerate(outs):
            if isinstance(o, Tensor):
                a = Tensor._make(o._data, o._device, o._storage)
                a.grad_fn, a._rg = node, True
                if k:
                    a._output_nr = k
                wrapped.append(a)
            else:
                wrapped.append(o)
        return wrapped[0] if single else tuple(wrapped)

    return wrapper
