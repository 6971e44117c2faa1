"""The op registry and the runner: every op is an ``Op`` (forward on raw arrays + vjp in ember ops).

``apply`` is the only hot path: promote dtypes, run the forward on the device's arrays, wrap the
result, and build a graph node only when some input requires grad and grad mode is on.
"""
from weakref import ref as _weakref

import numpy as np

from .. import _dtype as D
from ..backend import cpu_kernels as _K
from .._memory_format import array_is_dense
from .._storage import UntypedStorage, _ptr, root_of
from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd.anomaly_mode import record_stack, state as _anomaly
from ..autograd.graph import AccumulateGrad, Node, edge_of, node_class, _seq

_gm = grad_mode.state
_ndarray = np.ndarray
_NP2DT = D.NP2DT
_result_type_of = D.result_type_of
_make = Tensor._make
_new = object.__new__
_next_seq = _seq.__next__

# ---------------------------------------------------------------- dtype rules
# A rule maps the promoted dtype of the inputs to (compute dtype, output dtype); None = leave as is.


def _same(c):
    return c, c


def _float(c):
    c = c if c.category >= 2 else D.get_default_dtype()
    return c, c


def _compare(c):
    return c, D.bool_


def _bool_out(c):
    return None, D.bool_


def _integral(c):
    return c, c


def _real(c):  # complex in, real out (abs, angle of complex)
    return c, c.to_real()


def _float_real(c):
    c = c if c.category >= 2 else D.get_default_dtype()
    return c, c.to_real()


def _raw(c):
    return None, None


RULES = {"same": _same, "promote": _same, "float": _float, "compare": _compare, "bool": _bool_out,
         "integral": _integral, "real": _real, "float_real": _float_real, "raw": _raw}


class Op:
    """One op: ``fwd(xp, *arrays, **kw)`` and ``vjp(g, out, *inputs, **kw)`` side by side.

    ``save_in`` says which tensor inputs the vjp reads (they are kept, and a later in-place change to
    them fails backward, as in torch): True (all), False (none: inputs arrive as None), or one entry
    per positional input: True, False, None (passed for its shape only, never checked: torch keeps just
    its sizes), or ``k`` / a tuple of ks -- checked only when input k (any of them) requires grad, i.e.
    read only by the gradient formula of input k (torch saves those conditionally), or a callable
    ``f(args) -> bool``. Non-tensor inputs (Python scalars) are always passed when ``save_in`` is not False.
    ``save_out``: True, False, ``k`` / a tuple of ks or a callable in the same sense, for the output.
    ``pointwise=True`` marks an elementwise op whose shape rule is not ``elementwise_shape``: on the meta
    device its result takes the inputs' layout; a tuple of input positions gives the order in which their
    layouts count (torch's computing order, where it differs from the node's edge order).
    ``arrays=True`` says the vjp uses only operators and methods that NumPy arrays share with Tensors
    (``g * out``, ``g @ b.swapaxes(-1, -2)``, ``g.reshape(s)``), so when no graph of the backward is being
    built the engine may run it on the raw arrays and skip the op dispatch for each step of the formula;
    a callable ``arrays(*inputs)`` decides per node (e.g. matmul: only for 2-D operands).
    ``nodiff``: positions (any container) of tensor inputs that get no edge, as torch's nodes have none for
    index tensors and masks: absent from next_functions and from what a direct ``grad_fn(...)`` call returns;
    their versions are still checked where saved.
    ``scalar_edges``: a Python number operand still has an edge, None, as torch's node has for the number it
    wraps in a tensor (``(x + 2).grad_fn.next_functions`` is ``((AccumulateGrad, 0), (None, 0))``).
    ``alias``: the result may share its input's memory without being a view (torch's ``_unsafe_view`` of a
    tensor nothing else can see: a fresh product or copy). Other ops copy a result that shares an input's memory.
    """
    __slots__ = ("name", "fwd", "vjp", "rule", "shape", "view", "save_in", "save_out", "needs",
                 "node_name", "node_cls", "ufunc", "int_ok", "check", "holo", "pointwise", "arrays", "nodiff",
                 "scalar_edges", "alias", "_rc", "_pair", "__weakref__")
    nout = 1  # outputs per node; the multi-output ops (nout = -1) are subclasses

    def __init__(self, name, rule, fwd, vjp=None, shape=None, view=False, save_in=True, save_out=True,
                 needs=False, node=None, ufunc=None, int_ok=True, check=None, holo=False, pointwise=None,
                 arrays=False, nodiff=(), scalar_edges=False, alias=False):
        self.name, self.fwd, self.vjp = name, fwd, vjp
        self.rule = RULES[rule] if isinstance(rule, str) else rule
        self.shape, self.view = shape, view
        self.save_in, self.save_out, self.needs = save_in, save_out, needs
        self.node_name = node or (_camel(name) + "Backward0")
        self.node_cls = None  # the grad_fn class (named node_name), made on first use
        self.ufunc, self.int_ok = ufunc, int_ok
        # views keep their input only for its shape: a later in-place write must not invalidate them
        self.check = (not view) if check is None else check
        # holomorphic ops write their vjp as g * f'(z); for complex tensors torch's convention is
        # g * conj(f'(z)), which the engine gets as conj(vjp(conj(g))) -- nothing changes for real ones
        self.holo = holo
        # elementwise: on the meta device the result takes the inputs' layout (elementwise_shape implies it)
        self.pointwise = (shape is elementwise_shape) if pointwise is None else pointwise
        self.arrays = arrays
        # positional tensor inputs torch's node has no edge for (an index): no next_functions entry
        self.nodiff = nodiff
        self.scalar_edges = scalar_edges
        self.alias = alias
        self._rc = {}
        self._pair = _pair_plan(save_in, save_out, self.check, nodiff)

    def __call__(self, *args, **kw):
        return apply(self, args, kw)

    def defvjp(self, fn):
        """Decorator: attach the vjp ``fn(g, out, *inputs, **kw)`` to this op."""
        self.vjp = fn
        return fn

    def __repr__(self):
        return f"<ember op {self.name}>"


def _pair_plan(save_in, save_out, check, nodiff):
    """How ``_attach_pair`` records a call on two tensors: (what to save, the guards of the saved versions,
    save_out); None when the op needs the general ``_attach`` (index inputs, save rules that are callables)."""
    if nodiff or save_out not in (True, False):
        return None
    if save_in is False or (save_in is True and not check):
        return (save_in, None, save_out)
    if save_in is True:
        return (True, (None, None), save_out)  # both versions checked, whoever requires grad
    if type(save_in) is tuple and len(save_in) == 2 and all(type(s) is int and 0 <= s < 2 for s in save_in):
        return (True, save_in if check else None, save_out)
    return None


def _camel(name):
    return "".join(p[:1].upper() + p[1:] for p in name.strip("_").split("_"))


OPS = {}


def renamed(op, node, saved=True):
    """``op`` under another grad_fn name: torch names some overloads apart (PowBackward0 / PowBackward1,
    SqueezeBackward0 / 1 / 2, ...) although forward and derivative are the same. Not registered in OPS.

    ``saved=False``: torch's node of that name keeps other things than ``op`` does (a composite's last
    node), so ``op``'s saved inputs are not added as ``_saved_*`` attributes to the shared node class."""
    r = Op.__new__(Op)
    for k in Op.__slots__:
        if k != "__weakref__":
            setattr(r, k, getattr(op, k))
    # another overload: a number there is torch's Scalar argument, which gets no edge
    r.node_name, r.node_cls, r._rc, r.scalar_edges = node, None, {}, False
    if not saved:
        from types import SimpleNamespace
        r.node_cls = node_class(SimpleNamespace(node_name=node, save_in=False, save_out=False, vjp=None))
    return r


def defop(name, rule="same", fwd=None, vjp=None, **kw):
    """Register an op. Used directly (``defop("exp", "float", f, vjp=...)``) or as a decorator on fwd."""
    if fwd is None:
        def deco(f):
            op = Op(name, rule, f, vjp, **kw)
            OPS[name] = op
            return op
        return deco
    op = Op(name, rule, fwd, vjp, **kw)
    OPS[name] = op
    return op


def _broadcast_error(args):
    """torch's RuntimeError for shapes that do not broadcast, naming the first bad dimension."""
    _shapes_error([a._data.shape for a in args if isinstance(a, Tensor)])


def _shapes_error(shapes):
    for i in range(len(shapes)):
        for j in range(i + 1, len(shapes)):
            a, b = shapes[i], shapes[j]
            for k in range(1, min(len(a), len(b)) + 1):
                if a[-k] != b[-k] and a[-k] != 1 and b[-k] != 1:
                    nd = max(len(a), len(b))
                    raise RuntimeError(f"The size of tensor a ({a[-k]}) must match the size of tensor b ({b[-k]}) "
                                       f"at non-singleton dimension {nd - k}")


def elementwise_shape(*shapes, **kw):
    """Shape rule of elementwise ops: the broadcast of the tensor inputs' shapes (scalars have none).
    On the meta device their results also take the inputs' layout (strides), as torch's do."""
    shapes = [s for s in shapes if isinstance(s, tuple)]
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        _shapes_error(shapes)
        raise


ZERO = None  # vjp=ZERO marks an op whose gradient is zero everywhere (floor, sign, ...)


def _zero_vjp(g, out, *inputs, **kw):
    # a defined zero gradient, as torch gives (x.grad is zeros, not None, after floor(x).sum().backward())
    z = g.new_zeros(g.shape)
    return tuple(z for _ in inputs)


# ---------------------------------------------------------------- the runner
def _device_mismatch(a, b):
    raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                       f"{a} and {b}!")


def _overflow_retry(op, xp, arrs, kw, compute):
    # NumPy refuses Python ints out of range for the array dtype; torch wraps them
    # (wrapped to a Python int again: CuPy takes no NumPy scalars in place of Python numbers)
    fixed = [np.array(a).astype(compute.np).item() if type(a) is int else a for a in arrs]
    return op.fwd(xp, *fixed, **kw)


def _promotion_key(args):
    key = []
    for a in args:
        if isinstance(a, Tensor):
            key.append((a.dtype, 0 if a._data.ndim else 1))
        elif a is not None and type(a) in _PY_SCALARS:
            key.append((D.scalar_dtype(a), 2))
        elif isinstance(a, (np.number, np.bool_)):
            key.append((D.from_numpy_dtype(np.asarray(a).dtype), 2))
    return tuple(key)


_PY_SCALARS = (int, float, bool, complex)


# ember.amp sets this to its cast step while an autocast region is enabled; None costs apply one check
autocast_hook = None


def apply(op, args, kw):
    """Run ``op`` on ``args`` (tensors and Python scalars) with static params ``kw``."""
    if autocast_hook is not None:
        args = autocast_hook(op, args, kw)
    n = len(args)
    if n == 1 and isinstance(args[0], Tensor):  # the common cases first: one tensor (a unary op, a view) ...
        a = args[0]
        return _run(op, args, kw, a._device, a.dtype, a._rg)
    if n == 2 and isinstance(args[0], Tensor) and isinstance(args[1], Tensor):  # ... or two alike
        a, b = args
        if a._device is b._device and a.dtype is b.dtype:
            return _run(op, args, kw, a._device, a.dtype, a._rg or b._rg)
    dev = first = None
    rg = False
    for a in args:
        if isinstance(a, Tensor):
            d = a._device
            if dev is None:
                dev, first = d, a
            elif d is not dev:
                if d.type == "cpu" and a._data.ndim == 0:
                    pass  # 0-d CPU tensors mix with any device, as in torch
                elif dev.type == "cpu" and first._data.ndim == 0:
                    dev, first = d, a
                else:
                    _device_mismatch(dev, d)
            if a._rg:
                rg = True
    if dev is None:
        a = args[0] if args else None
        raise TypeError(f"{op.name}(): argument 'input' (position 1) must be Tensor, not {type(a).__name__}")
    common = _result_type_of(_promotion_key(args))
    return _run(op, args, kw, dev, common, rg)


def apply2(op, a, b):
    """``apply`` for the operators (``a`` is a Tensor, ``b`` a Tensor or Python number): fewer checks."""
    tb = type(b)
    if tb is Tensor:
        if a._device is not b._device:
            return apply(op, (a, b), {})
        common = a.dtype if a.dtype is b.dtype else \
            _result_type_of(((a.dtype, 0 if a._data.ndim else 1), (b.dtype, 0 if b._data.ndim else 1)))
        return _run(op, (a, b), _EMPTY, a._device, common, a._rg or b._rg)
    if tb is float or tb is int or tb is bool:
        common = _SCALAR_PROMO.get((a.dtype, tb))
        if common is None:
            common = _SCALAR_PROMO[(a.dtype, tb)] = _result_type_of(
                ((a.dtype, 0 if a._data.ndim else 1), (D.scalar_dtype(b), 2)))
        return _run(op, (a, b), _EMPTY, a._device, common, a._rg)
    return apply(op, (a, b), {})


def rapply2(op, b, a):
    """Reflected operators (``2 - t``): ``a`` is the Tensor, ``b`` the left operand."""
    if type(b) in _PY_SCALARS:
        return _run(op, (b, a), _EMPTY, a._device, _result_type_of(_promotion_key((b, a))), a._rg)
    return apply(op, (b, a), {})


_EMPTY = {}
_BIG = _K.BINARY_MIN  # in-place float32 arithmetic from this size runs on the compiled pool
_SCALAR_PROMO = D._scalar_cache  # (dtype, Python type) -> result dtype; cleared by set_default_dtype


# ember.profiler records ops by swapping the module global ``_run`` (looked up at each call by apply,
# apply2 and rapply2) for a recording wrapper while it collects, so an idle profiler costs nothing there.
# In-place calls have a fast path that skips ``_run``: they check this one global instead.
_inplace_hook = None


def _run(op, args, kw, dev, common, rg):
    rc = op._rc.get(common)
    if rc is None:
        rc = op._rc[common] = op.rule(common)
    compute, outdt = rc
    be = dev._be or dev.backend
    if be.is_meta:
        out_arr = _meta_forward(op, args, kw, compute, outdt, be)
    else:
        cnp = compute.np if compute is not None else None
        if len(args) == 2 and type(args[0]) is Tensor and type(args[1]) is Tensor and args[0]._device is dev and \
                args[1]._device is dev and args[0]._data.dtype is cnp and args[1]._data.dtype is cnp:
            arrs = (args[0]._data, args[1]._data)  # the common binary case: nothing to move or cast
        else:
            arrs = []
            for a in args:
                if isinstance(a, Tensor):
                    x = a._data
                    if a._device is not dev:
                        x = be.from_host(x)
                    if cnp is not None and x.dtype is not cnp and x.dtype != cnp:
                        x = x.astype(cnp)
                    arrs.append(x)
                else:
                    arrs.append(a)
        try:
            out_arr = op.fwd(be.xp, *arrs, **kw) if kw else op.fwd(be.xp, *arrs)
        except OverflowError:
            out_arr = _overflow_retry(op, be.xp, arrs, kw, compute)
        except ValueError:
            if op.shape is elementwise_shape:
                _broadcast_error(args)
            raise
        if type(out_arr) is not _ndarray:
            out_arr = be.xp.asarray(out_arr)
        if outdt is not None:
            o = outdt.np
            if out_arr.dtype is not o and out_arr.dtype != o:
                out_arr = out_arr.astype(o)
    if op.view:
        src = args[0]
        out = _make(out_arr, dev, src._storage)
        if src._base is not None:
            out._base, out._view_fn = src._base, (src._view_fn, op, kw)
        else:
            out._base, out._view_fn = src, (None, op, kw)
        out._base_fn = out._base.grad_fn  # the base history this view's grad_fn was made from
    else:
        if out_arr.base is not None and not be.is_meta and not op.alias:
            r = root_of(out_arr)
            for a in args:
                if isinstance(a, Tensor) and a._storage._root is r:
                    out_arr = out_arr.copy()
                    break
        out = _new(Tensor)  # Tensor._make, inlined: this is the hot path
        out._data = out_arr
        out.dtype = outdt = outdt or _NP2DT[out_arr.dtype]
        out._device = dev
        out._rg = False
        out.grad_fn = None
    if rg and _gm.enabled and (outdt or out.dtype).category >= 2:
        if op.vjp is None:
            raise RuntimeError(f"the derivative for '{op.name}' is not implemented.")
        pair = op._pair
        if pair is not None and len(args) == 2 and isinstance(args[0], Tensor) and isinstance(args[1], Tensor):
            _attach_pair(op, args, kw, out, out_arr, pair)
        else:
            _attach(op, args, kw, out, out_arr)
    return out


_NONES = [(None,) * n for n in range(16)]


def _guard(k, args):
    """Whether positional input ``k`` (an int, or any of a tuple of ints) requires grad; a callable
    ``k(args)`` decides for itself (e.g. "input 1 is a tensor": pow keeps its result only then)."""
    if type(k) is int:
        a = args[k] if k < len(args) else None
        return isinstance(a, Tensor) and a._rg
    if type(k) is tuple:
        return any(_guard(j, args) for j in k)
    return k(args)


def _select_saved(spec, args, check):
    """What a per-input ``save_in`` spec keeps for this call, and the versions to check (None: unchecked).

    An input whose guard is off this call stays available to the vjp (for its shape, or when the vjp
    is not split per input) but is not checked: torch does not save it, so changing it is allowed."""
    saved = args
    versions = [] if check else ()
    n = len(spec)
    k = 0
    for a in args:
        if isinstance(a, Tensor):
            s = spec[k] if k < n else True
            if s is False:
                if saved is args:
                    saved = list(args)
                saved[k] = None
            elif check:
                if s is True:
                    keep = True
                elif type(s) is int:
                    g = args[s] if s < len(args) else None
                    keep = isinstance(g, Tensor) and g._rg
                else:
                    keep = s is not None and _guard(s, args)
                if keep:
                    st = a._stor
                    versions.append((st if st is not None else a._storage)._version)
                else:
                    versions.append(None)
        k += 1
    return saved, versions


def saves_input(op, k, args):
    """Whether a node of ``op`` built on ``args`` keeps (and version-checks) tensor input ``k``."""
    s = op.save_in
    if s is True or s is False:
        return s and op.check
    s = s[k] if k < len(s) else True
    return op.check and (s is True or (s is not False and s is not None and _guard(s, args)))


def _attach(op, args, kw, out, out_arr):
    edges, metas = [], []
    i = 0
    nd = op.nodiff
    for a in args:
        if isinstance(a, Tensor):
            if nd and i in nd:
                i += 1
                continue
            edges.append(_edge(a) if a._rg else None)
            metas.append((a._data.shape, a.dtype, a._device, i))
        elif op.scalar_edges and type(a) in _PY_SCALARS:  # (read here only: off the all-tensor hot path)
            edges.append(None)
            metas.append(((), None, None, i))  # dtype None: a number's slot, never given a gradient
        i += 1
    sv = op.save_in
    if sv is False:
        saved, versions = _NONES[i] if i < 16 else (None,) * i, ()
    elif sv is True:
        saved, versions = args, ()
        if op.check:
            versions = []
            for a in args:
                if isinstance(a, Tensor):
                    st = a._stor
                    versions.append((st if st is not None else a._storage)._version)
    else:
        saved, versions = _select_saved(sv, args, op.check)
    so = op.save_out
    _node(op, saved, kw, edges, metas, versions, out, out_arr, so is True or (so is not False and _guard(so, args)))


def _attach_pair(op, args, kw, out, out_arr, pair):
    """``_attach`` for the most common call, an op on two tensors: the same node, built without the general
    loops over inputs and save specs (this is most of what ``a * b`` costs beyond NumPy when grad is on)."""
    a, b = args
    edges = [_edge(a) if a._rg else None, _edge(b) if b._rg else None]
    metas = [(a._data.shape, a.dtype, a._device, 0), (b._data.shape, b.dtype, b._device, 1)]
    keep, guards, so = pair
    if keep is False:
        saved, versions = _NONES[2], ()
    else:
        saved, versions = args, ()
        if guards is not None:
            g0, g1 = guards
            st, su = a._stor, b._stor
            versions = [(st if st is not None else a._storage)._version if g0 is None or args[g0]._rg else None,
                        (su if su is not None else b._storage)._version if g1 is None or args[g1]._rg else None]
    _node(op, saved, kw, edges, metas, versions, out, out_arr, so)


def _node(op, saved, kw, edges, metas, versions, out, out_arr, keep_out):
    """Make ``out``'s grad_fn (Node.__init__, inlined: this is the hot path); ``keep_out``: the vjp reads the
    output, which is then saved and version-checked."""
    node = _new(op.node_cls or node_class(op))
    node.op, node.inputs, node.kw, node.edges, node.metas, node.seq = op, saved, kw, edges, metas, _next_seq()
    if keep_out:
        st = out._storage
        node.out, node.versions = out_arr, (versions, st, st._version)
    else:
        node.out, node.versions = None, (versions, None, 0)
    out.grad_fn = node
    out._rg = True
    if _anomaly.enabled:
        record_stack(node)


def _edge(a):
    """The edge to a tensor that requires grad: its grad_fn, or its leaf's AccumulateGrad (made once, held
    weakly by the tensor so that no cycle forms)."""
    fn = a.grad_fn
    if fn is None:
        d = a.__dict__
        ref = d.get("_accum")
        fn = ref() if ref is not None else None
        if fn is None:  # AccumulateGrad(a), without the call overhead
            fn = _new(AccumulateGrad)
            fn.variable = a
            d["_accum"] = _weakref(fn)
        return (fn, 0)
    b = a._base
    if b is not None and a._base_fn is not b.grad_fn:
        fn = refresh_view(a)
    return (fn, a._output_nr)


def backward_op(op, args, kw):
    """Run ``op`` (a backward op such as log_softmax_backward_data) inside a vjp: on the CPU arrays of a vjp run
    on arrays, its forward directly; on tensors, through ``apply`` (which records it when a graph of the
    backward is wanted). The same forward computes both, so both give the same values."""
    if type(args[0]) is _ndarray:
        return op.fwd(np, *args, **kw)
    return apply(op, args, kw)


def _meta_forward(op, args, kw, compute, outdt, be):
    """Shape/dtype only: use the op's shape rule, or run the forward on zero-strided stand-ins."""
    if op.view:
        return op.fwd(be.xp, args[0]._data, **kw)
    if op.shape is not None:
        shapes = [a._data.shape if isinstance(a, Tensor) else a for a in args]
        shp = op.shape(*shapes, **kw)
        dt = outdt.np if outdt is not None else _meta_raw_dtype(op, args, kw)
        if op.pointwise:
            return _meta_pointwise(be, shp, dt, args, op.pointwise)
        return be.empty(shp, dt)
    # meta arrays' values must never be read: run the forward on same-shaped zero-stride stand-ins
    arrs = [be.standin(a._data.astype(compute.np) if compute is not None and a._data.dtype != compute.np
                       else a._data) if isinstance(a, Tensor) else a for a in args]
    with np.errstate(all="ignore"):
        r = np.asarray(op.fwd(np, *arrs, **kw))
    if outdt is not None and r.dtype != outdt.np:
        r = r.astype(outdt.np)
    if op.pointwise:
        return _meta_pointwise(be, r.shape, r.dtype, args, op.pointwise)
    return be.empty(r.shape, r.dtype)


def _meta_pointwise(be, shape, dt, args, order=True):
    """An elementwise result takes its inputs' layout, as torch's TensorIterator gives it."""
    if type(order) is tuple:
        args = [args[i] for i in order]
    layouts = [(a._data.shape, a.stride()) for a in args if isinstance(a, Tensor)]
    return be.empty_strided(shape, dt, be.elementwise_strides(shape, layouts))


def _meta_raw_dtype(op, args, kw):
    """A "raw" op picks its own output dtype (sum of ints is int64, argmax int64): learn it from the forward
    run on one-element stand-ins of the same ranks, since the shape rule gives only the shape."""
    small = [np.zeros((1,) * a._data.ndim, a._data.dtype) if isinstance(a, Tensor) else a for a in args]
    try:
        with np.errstate(all="ignore"):
            return np.asarray(op.fwd(np, *small, **kw)).dtype
    except Exception:  # the forward needs real sizes: keep the input's dtype
        return args[0]._data.dtype


# ---------------------------------------------------------------- in-place and out=
# view ops whose outputs share one multi-output node (split, unbind): torch forbids writing into those
# views (or views of them) in place, since one node cannot be rebased for a single output
MULTI_VIEW_OPS = set()
_MULTI_TAIL = ("This view is the output of a function that returns multiple views. Such functions do not allow "
               "the output views to be modified inplace. You should replace the inplace operation by an "
               "out-of-place one.")


def check_multi_view(t, base_changed=False):
    """torch's RuntimeError when ``t`` (a view from a multi-output view op, or a view of one) is written in
    place, or (``base_changed``) is used after its base was."""
    fn = t._view_fn
    while fn is not None and fn[1] not in MULTI_VIEW_OPS:
        fn = fn[0]
    if fn is None:
        return
    what = ("its base or another view of its base has been modified inplace" if base_changed
            else "is being modified inplace")
    node = t.grad_fn
    if node is not None:
        name = node.name()
        name = name[:name.rfind("Backward")] if "Backward" in name else name
        raise RuntimeError(f"Output {t._output_nr} of {name} is a view and {what}. {_MULTI_TAIL}")
    raise RuntimeError(f"A view was created in no_grad mode and {what} with grad mode enabled. {_MULTI_TAIL}")


def check_inplace(t):
    """torch's errors for in-place ops on leaves that require grad (and their views)."""
    if _gm.enabled and t._rg and t._base is not None and MULTI_VIEW_OPS:
        check_multi_view(t)
    if _gm.enabled and t._rg and t.grad_fn is None:
        if t._base is not None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if _gm.enabled and t._rg:
        b = t._base  # views carry a grad_fn of their own; their base tells whether it is a leaf's view
        if b is not None and b._rg and b.grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                               "operation.")


def _type_name(d):
    return {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
            "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}.get(d.name, d.name)


def write_into(dst, res):
    """Copy result ``res`` into ``dst``'s memory with torch's cast and shape checks; bumps the version."""
    if res.dtype is not dst.dtype and not D.can_cast(res.dtype, dst.dtype):
        raise RuntimeError(f"result type {_type_name(res.dtype)} can't be cast to the desired output type "
                           f"{_type_name(dst.dtype)}")
    if res._data.shape != dst._data.shape:
        try:
            bshape = np.broadcast_shapes(res._data.shape, dst._data.shape)
        except ValueError:
            bshape = None
        if bshape != dst._data.shape:
            raise RuntimeError(f"output with shape {list(dst.shape)} doesn't match the broadcast shape "
                               f"{list(bshape) if bshape is not None else list(res.shape)}")
    if dst._device.type != "meta":
        d = dst._data
        if not getattr(d.flags, "writeable", True):  # CuPy arrays have no such flag
            raise RuntimeError("unsupported operation: the tensor's memory is read-only (a broadcast view "
                               "from expand?); clone() it first")
        src = res._data
        if res._device is not dst._device:
            src = dst._device.backend.from_host(res._device.backend.to_host(src))
        d[...] = src
    dst._storage._version += 1


_OVERLAP_MSG = ("unsupported operation: more than one element of the written-to tensor refers to a single memory "
                "location. Please clone() the tensor before performing the operation.")
# in-place ops that torch lets write into an expanded tensor (a scalar fill, masked/index fills, index_put_,
# tril_/triu_): the others refuse, as their result would depend on the order elements are written in
_OVERLAP_OK = frozenset(("fill", "zero_", "index_put", "masked_fill", "masked_fill_tensor", "index_fill",
                         "index_fill_tensor", "tril", "triu"))


def _check_no_overlap(op, t):
    d = t._data
    if 0 in d.strides and op.name not in _OVERLAP_OK and d.size > 1 and t._device.type != "meta":
        for n, st in zip(d.shape, d.strides):
            if st == 0 and n > 1:
                raise RuntimeError(_OVERLAP_MSG)


_PARTIAL_MSG = ("unsupported operation: some elements of the input tensor and the written-to tensor refer to a "
                "single memory location. Please clone() the tensor before performing the operation.")


def check_partial_overlap(dst, src):
    """torch's error when an input of an in-place elementwise op shares some, but not exactly all, of the
    memory being written (``x.add_(x.t())``, ``x[1:].add_(x[:-1])``): the result would depend on the order the
    elements are visited. The same tensor, or a view with the same layout, is fine; so is an input torch
    cannot cheaply judge (one with gaps or repeats, like ``x[:, ::2]``)."""
    a, b = dst._data, src._data
    if src is dst or a.size == 0 or b.size == 0 or dst._device.type == "meta" or root_of(a) is not root_of(b):
        return
    if not (array_is_dense(a) and array_is_dense(b)) or min(a.strides + b.strides, default=0) < 0:
        return
    pa, pb = _ptr(a), _ptr(b)
    ea, eb = pa + a.nbytes, pb + b.nbytes
    if (pa, ea) == (pb, eb):
        if a.strides == b.strides:
            return
        raise RuntimeError(_PARTIAL_MSG)
    if pa < eb and pb < ea:
        raise RuntimeError(_PARTIAL_MSG)


def apply_inplace(op, self, args, kw, _hooked=False):
    """``self.op_(*args)``: compute, write into self, and rewrite autograd history like torch."""
    if _inplace_hook is not None and not _hooked:
        return _inplace_hook(op, self, args, kw)
    _check_no_overlap(op, self)
    if op.pointwise:
        for o in args:
            if type(o) is Tensor:
                check_partial_overlap(self, o)
    if autocast_hook is not None:  # torch never autocasts in-place ops
        from ..amp.autocast_mode import suspend_autocast
        return suspend_autocast(apply_inplace, op, self, args, kw, _hooked=True)
    check_inplace(self)
    track = _gm.enabled and (self._rg or any(isinstance(a, Tensor) and a._rg for a in args))
    if track and not self._rg and self._base is not None:
        check_multi_view(self)
    if not track:
        uf = op.ufunc
        if uf is not None and not kw and self._device.type == "cpu" and len(args) == 1 and \
                (op.int_ok or self.dtype.category >= 2):
            o = args[0]
            if isinstance(o, Tensor):
                if o.dtype is self.dtype and o._device is self._device and \
                        np.broadcast_shapes(o._data.shape, self._data.shape) == self._data.shape:
                    if self._data.size and getattr(self._data.flags, "writeable", True):
                        if self._data.size < _BIG or _K.binary(self._data, o._data, op.name, True) is None:
                            uf(self._data, o._data, out=self._data)
                        self._storage._version += 1
                        return self
            elif type(o) in (int, float) and self.dtype.category == 2 and getattr(self._data.flags, "writeable", True):
                if self._data.size < _BIG or _K.binary(self._data, o, op.name, True) is None:
                    uf(self._data, o, out=self._data)
                self._storage._version += 1
                return self
        res = apply(op, (self,) + tuple(args), kw)
        write_into(self, res)
        return self
    src = self
    args = (self,) + tuple(args)
    if saves_input(op, 0, args):  # also when only another input requires grad: its vjp reads self's old value
        src = clone_for_inplace(self)  # the vjp must see the value before it is overwritten
        args = (src,) + args[1:]
    res = apply(op, args, kw)
    write_into(self, res)
    fn = res.grad_fn
    if fn is not None and src is self and fn.inputs and fn.inputs[0] is self:
        # kept for its shape only: an alias without history, or self -> node -> self would be a cycle
        ins = list(fn.inputs)
        ins[0] = _make(self._data, self._device, self._storage)
        fn.inputs = ins
    if fn is not None and fn.out is not None and res.dtype is self.dtype:
        # the saved output now lives in self: a later in-place write to self must fail its backward, as in torch
        st = self._storage
        fn.out, fn.versions = self._data, (fn.versions[0], st, st._version)
    rebase_history(self, res)
    return self


def clone_for_inplace(t):
    """A copy of ``t`` (with graph) that an in-place op's vjp can read after ``t`` is overwritten."""
    return OPS["clone"](t)


def rebase_history(self, res, wraps_self=True):
    """After an in-place op wrote ``res`` into ``self``, make ``res``'s graph ``self``'s history.
    ``wraps_self``: input 0 of res's node is self (or a clone of it), as for every built-in in-place op."""
    if res.grad_fn is None:
        return
    if self._base is None:
        self.grad_fn = res.grad_fn
        self._rg = True
        if res._output_nr or self._output_nr:  # e.g. output 1 of svd, now output 0 of MulBackward0
            self._output_nr = res._output_nr
        return
    # self is a view: the base's history becomes "base with the view region replaced by res"
    check_multi_view(self)  # for in-place paths that skip check_inplace (custom Functions' mark_dirty)
    base = self._base
    old = _make(base._data, base._device, base._storage)
    old.grad_fn, old._rg = base.grad_fn, base._rg
    if base._output_nr:
        old._output_nr = base._output_nr
    chain = view_chain(self)
    fn = res.grad_fn
    base_meta = (old._data.shape, old.dtype, old._device, 0)
    if wraps_self and not fn._custom and fn.metas and fn.metas[0][3] == 0 and fn.op.nout != -1:
        # torch's CopySlices wraps the op's node: its edges are the base's, then those of the op's other inputs
        edges = (edge_of(old),) + tuple(fn.edges[1:])
        metas = [base_meta] + [m[:3] + (k,) for k, m in enumerate(fn.metas[1:], 1)]
        node = Node(OPS["_copy_slices"], (None,) * len(edges), {"chain": chain, "fn": fn}, None, edges, metas,
                    ((), None, 0))
    else:  # a custom Function's dirty output: CopySlices over its node
        edges = (edge_of(old), edge_of(res))
        metas = [base_meta, (res._data.shape, res.dtype, res._device, 1)]
        node = Node(OPS["_view_scatter"], (None, None), {"chain": chain}, None, edges, metas,
                    ((), None, 0))
    node._frees = True  # torch's CopySlices releases its wrapped function after a backward
    base.grad_fn, base._rg = node, True
    base.__dict__.pop("_output_nr", None)
    # the view's own history is now "this view of the new base"
    v = replay_views(base, chain)
    self.grad_fn, self._rg, self._base_fn = v.grad_fn, True, base.grad_fn


def refresh_view(v):
    """``v``'s base was given a new history by an in-place op (on it or through another view) after ``v``
    was made: v's grad_fn becomes "this view of the base's current history", as in torch."""
    base = v._base
    if base.grad_fn is None:
        return v.grad_fn
    check_multi_view(v, base_changed=True)
    prev = _gm.enabled
    _gm.enabled = True
    try:
        r = replay_views(base, view_chain(v))
    finally:
        _gm.enabled = prev
    v.grad_fn, v._rg, v._base_fn = r.grad_fn, True, base.grad_fn
    v.__dict__.pop("_output_nr", None)
    return v.grad_fn


def view_chain(t):
    """The list of (view op, kw) that produces ``t`` from its base."""
    chain, fn = [], t._view_fn
    while fn is not None:
        parent, op, kw = fn
        chain.append((op, kw))
        fn = parent
    chain.reverse()
    return chain


def replay_views(base, chain):
    t = base
    for op, kw in chain:
        t = apply(op, (t,), kw)
    return t


def replay_views_raw(xp, arr, chain):
    for op, kw in chain:
        arr = op.fwd(xp, arr, **kw)
    return arr


def write_out(out, res):
    """Implement ``out=``: resize an empty/mismatched ``out`` like torch, then copy ``res`` into it."""
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if _gm.enabled and out._rg and (res._rg or out._rg):
        raise RuntimeError(f"{'op'}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if res.dtype is not out.dtype and not D.can_cast(res.dtype, out.dtype):
        raise RuntimeError(f"result type {_type_name(res.dtype)} can't be cast to the desired output type "
                           f"{_type_name(out.dtype)}")
    if out._data.shape != res._data.shape:
        arr = out._device.backend.empty(res._data.shape, out.dtype.np)
        out._data, out._storage = arr, UntypedStorage(arr, out._device)
    out._data[...] = res._data
    out._storage._version += 1
    return out

