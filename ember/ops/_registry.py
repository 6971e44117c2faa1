"""The op registry and the runner: every op is an ``Op`` (forward on raw arrays + vjp in ember ops).

``apply`` is the only hot path: promote dtypes, run the forward on the device's arrays, wrap the
result, and build a graph node only when some input requires grad and grad mode is on.
"""
import numpy as np

from .. import _dtype as D
from .._storage import UntypedStorage, root_of
from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd.anomaly_mode import record_stack, state as _anomaly
from ..autograd.graph import Node, accumulate_node, edge_of

_gm = grad_mode.state
_ndarray = np.ndarray
_NP2DT = D.NP2DT
_result_type_of = D.result_type_of
_make = Tensor._make

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
    """One op: ``fwd(xp, *arrays, **kw)`` and ``vjp(g, out, *inputs, **kw)`` side by side."""
    __slots__ = ("name", "fwd", "vjp", "rule", "shape", "view", "save_in", "save_out", "needs",
                 "node_name", "ufunc", "int_ok", "check", "holo", "_rc", "__weakref__")

    def __init__(self, name, rule, fwd, vjp=None, shape=None, view=False, save_in=True, save_out=True,
                 needs=False, node=None, ufunc=None, int_ok=True, check=None, holo=False):
        self.name, self.fwd, self.vjp = name, fwd, vjp
        self.rule = RULES[rule] if isinstance(rule, str) else rule
        self.shape, self.view = shape, view
        self.save_in, self.save_out, self.needs = save_in, save_out, needs
        self.node_name = node or (_camel(name) + "Backward0")
        self.ufunc, self.int_ok = ufunc, int_ok
        # views keep their input only for its shape: a later in-place write must not invalidate them
        self.check = (not view) if check is None else check
        # holomorphic ops write their vjp as g * f'(z); for complex tensors torch's convention is
        # g * conj(f'(z)), which the engine gets as conj(vjp(conj(g))) -- nothing changes for real ones
        self.holo = holo
        self._rc = {}

    def __call__(self, *args, **kw):
        return apply(self, args, kw)

    def defvjp(self, fn):
        """Decorator: attach the vjp ``fn(g, out, *inputs, **kw)`` to this op."""
        self.vjp = fn
        return fn

    def __repr__(self):
        return f"<ember op {self.name}>"


def _camel(name):
    return "".join(p[:1].upper() + p[1:] for p in name.strip("_").split("_"))


OPS = {}


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
    shapes = [a._data.shape for a in args if isinstance(a, Tensor)]
    for i in range(len(shapes)):
        for j in range(i + 1, len(shapes)):
            a, b = shapes[i], shapes[j]
            for k in range(1, min(len(a), len(b)) + 1):
                if a[-k] != b[-k] and a[-k] != 1 and b[-k] != 1:
                    nd = max(len(a), len(b))
                    raise RuntimeError(f"The size of tensor a ({a[-k]}) must match the size of tensor b ({b[-k]}) "
                                       f"at non-singleton dimension {nd - k}")


def elementwise_shape(*shapes, **kw):
    """Shape rule of elementwise ops: the broadcast of the tensor inputs' shapes (scalars have none)."""
    return np.broadcast_shapes(*[s for s in shapes if isinstance(s, tuple)])


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
    fixed = [np.array(a).astype(compute.np) if type(a) is int else a for a in arrs]
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
    if len(args) == 1:
        common = first.dtype
    else:
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
    be = dev.backend
    if be.is_meta:
        out_arr = _meta_forward(op, args, kw, compute, outdt, be)
    else:
        cnp = compute.np if compute is not None else None
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
            out_arr = op.fwd(be.xp, *arrs, **kw)
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
        if out_arr.base is not None and not be.is_meta:
            r = root_of(out_arr)
            for a in args:
                if isinstance(a, Tensor) and a._storage._root is r:
                    out_arr = out_arr.copy()
                    break
        out = _make(out_arr, dev, None, outdt)
    if rg and _gm.enabled and out.dtype.category >= 2:
        if op.vjp is None:
            raise RuntimeError(f"the derivative for '{op.name}' is not implemented.")
        _attach(op, args, kw, out, out_arr)
    return out


_NONES = [(None,) * n for n in range(16)]


def _attach(op, args, kw, out, out_arr):
    edges, metas = [], []
    check = op.save_in and op.check
    versions = [] if check else ()
    i = 0
    for a in args:
        if isinstance(a, Tensor):
            if a._rg:
                fn = a.grad_fn
                if fn is None:
                    ref = a.__dict__.get("_accum")
                    fn = ref() if ref is not None else None
                    if fn is None:
                        fn = accumulate_node(a)
                    edges.append((fn, 0))
                else:
                    b = a._base
                    if b is not None and a._base_fn is not b.grad_fn:
                        fn = refresh_view(a)
                    edges.append((fn, a._output_nr))
            else:
                edges.append(None)
            metas.append((a._data.shape, a.dtype, a._device, i))
            if check:
                versions.append(a._storage._version)
        i += 1
    if op.save_in:
        saved = args
    else:
        saved = _NONES[i] if i < 16 else (None,) * i
    if op.save_out:
        st = out._storage
        node = Node(op, saved, kw, out_arr, edges, metas, (versions, st, st._version))
    else:
        node = Node(op, saved, kw, None, edges, metas, (versions, None, 0))
    out.grad_fn = node
    out._rg = True
    if _anomaly.enabled:
        record_stack(node)


def _meta_forward(op, args, kw, compute, outdt, be):
    """Shape/dtype only: use the op's shape rule, or run the forward on zero-strided stand-ins."""
    if op.view:
        return op.fwd(be.xp, args[0]._data, **kw)
    if op.shape is not None:
        shapes = [a._data.shape if isinstance(a, Tensor) else a for a in args]
        shp = op.shape(*shapes, **kw)
        dt = outdt.np if outdt is not None else _meta_raw_dtype(op, args, kw)
        return be.empty(shp, dt)
    # meta arrays' values must never be read: run the forward on same-shaped zero-stride stand-ins
    arrs = [be.standin(a._data.astype(compute.np) if compute is not None and a._data.dtype != compute.np
                       else a._data) if isinstance(a, Tensor) else a for a in args]
    with np.errstate(all="ignore"):
        r = np.asarray(op.fwd(np, *arrs, **kw))
    if outdt is not None and r.dtype != outdt.np:
        r = r.astype(outdt.np)
    return be.empty(r.shape, r.dtype)


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
def check_inplace(t):
    """torch's errors for in-place ops on leaves that require grad (and their views)."""
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


def apply_inplace(op, self, args, kw, _hooked=False):
    """``self.op_(*args)``: compute, write into self, and rewrite autograd history like torch."""
    if _inplace_hook is not None and not _hooked:
        return _inplace_hook(op, self, args, kw)
    if autocast_hook is not None:  # torch never autocasts in-place ops
        from ..amp.autocast_mode import suspend_autocast
        return suspend_autocast(apply_inplace, op, self, args, kw, _hooked=True)
    check_inplace(self)
    track = _gm.enabled and (self._rg or any(isinstance(a, Tensor) and a._rg for a in args))
    if not track:
        uf = op.ufunc
        if uf is not None and not kw and self._device.type == "cpu" and len(args) == 1 and \
                (op.int_ok or self.dtype.category >= 2):
            o = args[0]
            if isinstance(o, Tensor):
                if o.dtype is self.dtype and o._device is self._device and \
                        np.broadcast_shapes(o._data.shape, self._data.shape) == self._data.shape:
                    if self._data.size and getattr(self._data.flags, "writeable", True):
                        uf(self._data, o._data, out=self._data)
                        self._storage._version += 1
                        return self
            elif type(o) in (int, float) and self.dtype.category == 2 and getattr(self._data.flags, "writeable", True):
                uf(self._data, o, out=self._data)
                self._storage._version += 1
                return self
        res = apply(op, (self,) + tuple(args), kw)
        write_into(self, res)
        return self
    src = self
    if op.save_in and op.check:  # also when only another input requires grad: its vjp reads self's old value
        src = clone_for_inplace(self)  # the vjp must see the value before it is overwritten
    res = apply(op, (src,) + tuple(args), kw)
    write_into(self, res)
    fn = res.grad_fn
    if fn is not None and fn.out is not None and res.dtype is self.dtype:
        # the saved output now lives in self: a later in-place write to self must fail its backward, as in torch
        st = self._storage
        fn.out, fn.versions = self._data, (fn.versions[0], st, st._version)
    rebase_history(self, res)
    return self


def clone_for_inplace(t):
    """A copy of ``t`` (with graph) that an in-place op's vjp can read after ``t`` is overwritten."""
    return OPS["clone"](t)


def rebase_history(self, res):
    """After an in-place op wrote ``res`` into ``self``, make ``res``'s graph ``self``'s history."""
    if res.grad_fn is None:
        return
    if self._base is None:
        self.grad_fn = res.grad_fn
        self._rg = True
        if res._output_nr:
            self._output_nr = res._output_nr
        return
    # self is a view: the base's history becomes "base with the view region replaced by res"
    base = self._base
    old = _make(base._data, base._device, base._storage)
    old.grad_fn, old._rg = base.grad_fn, base._rg
    if base._output_nr:
        old._output_nr = base._output_nr
    chain = view_chain(self)
    edges = (edge_of(old), edge_of(res))
    metas = [(old._data.shape, old.dtype, old._device, 0), (res._data.shape, res.dtype, res._device, 1)]
    node = Node(OPS["_view_scatter"], (None, None), {"chain": chain}, None, edges, metas,
                ((), None, 0))
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

