"""Autocast (torch.autocast / torch.amp.autocast): regions where chosen ops run in lower precision.

Inside an enabled region each listed op casts its floating-point inputs first, by the op's policy:
``lower`` (to the region's dtype: matmul, linear, conv...), ``fp32`` (to float32: losses, reductions,
linear algebra) or ``promote`` (to the widest input type: cat, stack...). float64 and non-float
tensors are never cast, and only tensors on the region's device type are. The casts go through
``Tensor.to`` so they are recorded by autograd (``ToCopyBackward0``) like torch's.

Two places apply the policies, and both are installed only while some region is enabled, so code
outside autocast pays nothing:
  * the op runner's hook (``ember.ops._registry.autocast_hook``), keyed by op name;
  * wrappers swapped in for public functions whose work starts before their op runs (dtype checks such
    as matmul's, ``dtype=`` handling of ``prod``, composites like the losses). A wrapper casts, then
    runs the original with autocast suspended, as torch runs an autocast op's kernel.
"""
import functools
import warnings

from .. import _dtype as D
from .._device import _parse as _parse_device
from .._tensor import Tensor
from ..autograd import grad_mode

__all__ = ["autocast", "custom_fwd", "custom_bwd", "is_autocast_available", "get_autocast_dtype",
           "set_autocast_dtype", "is_autocast_enabled", "set_autocast_enabled", "is_autocast_cache_enabled",
           "set_autocast_cache_enabled", "clear_autocast_cache", "autocast_increment_nesting",
           "autocast_decrement_nesting"]

# ---------------------------------------------------------------- per-device state
# torch's default lower-precision dtype per device type that has autocast; other device types raise
_DEFAULT_DTYPES = {"cpu": D.bfloat16, "cuda": D.float16, "xpu": D.float16, "ipu": D.float16,
                   "hpu": D.bfloat16, "xla": D.bfloat16, "mps": D.float16, "mtia": D.float16,
                   "maia": D.float16, "privateuseone": D.float16}


class _DeviceState:
    __slots__ = ("enabled", "dtype")

    def __init__(self, dtype):
        self.enabled, self.dtype = False, dtype


_STATE = {k: _DeviceState(v) for k, v in _DEFAULT_DTYPES.items()}
_cache = {}  # (id(tensor), dtype) -> (tensor, its cast): parameters cast once per outermost region
_misc = {"cache_enabled": True, "nesting": 0, "installed": False, "suspended": 0, "rnn_lower": 0}


def _state(device_type):
    """The state of ``device_type`` ('cpu', 'cuda:0', ...) with torch's errors for other types."""
    if not isinstance(device_type, str):
        raise TypeError(f"expected a device type string, got {type(device_type).__name__}")
    t = _parse_device(device_type)[0]
    st = _STATE.get(t)
    if st is None:
        raise RuntimeError("unsupported scalarType")
    return st


def is_autocast_available(device_type):
    """Whether autocast can run on ``device_type`` (torch.amp.is_autocast_available)."""
    return _parse_device(device_type)[0] in _STATE


def get_autocast_dtype(device_type):
    """The lower-precision dtype autocast uses on ``device_type`` (cpu: bfloat16, cuda: float16)."""
    return _state(device_type).dtype


def set_autocast_dtype(device_type, dtype):
    """Set the dtype autocast regions on ``device_type`` cast to."""
    _state(device_type).dtype = dtype


def is_any_autocast_enabled():
    """Whether autocast is on for any device type (torch._C._is_any_autocast_enabled)."""
    return any(st.enabled for st in _STATE.values())


def is_autocast_enabled(device_type=None):
    """Whether autocast is on for ``device_type`` (no argument: CUDA, torch's legacy meaning)."""
    return _state("cuda" if device_type is None else device_type).enabled


def set_autocast_enabled(device_type, enabled=None):
    """Turn autocast on/off for a device type; the one-argument legacy form means CUDA."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    _state(device_type).enabled = bool(enabled)
    _refresh()


def is_autocast_cache_enabled():
    return _misc["cache_enabled"]


def set_autocast_cache_enabled(enabled):
    _misc["cache_enabled"] = bool(enabled)


def clear_autocast_cache():
    """Forget the cached lower-precision copies of parameters."""
    _cache.clear()


def autocast_increment_nesting():
    _misc["nesting"] += 1
    return _misc["nesting"]


def autocast_decrement_nesting():
    _misc["nesting"] -= 1
    return _misc["nesting"]


# torch's deprecated per-device spellings
def _deprecated(old, new):
    warnings.warn(f"torch.{old}() is deprecated. Please use torch.{new} instead.", DeprecationWarning, stacklevel=3)


def is_autocast_cpu_enabled():
    _deprecated("is_autocast_cpu_enabled", "is_autocast_enabled('cpu')")
    return _STATE["cpu"].enabled


def set_autocast_cpu_enabled(enabled):
    _deprecated("set_autocast_cpu_enabled", "set_autocast_enabled('cpu', enabled)")
    set_autocast_enabled("cpu", enabled)


def get_autocast_cpu_dtype():
    _deprecated("get_autocast_cpu_dtype", "get_autocast_dtype('cpu')")
    return _STATE["cpu"].dtype


def set_autocast_cpu_dtype(dtype):
    _deprecated("set_autocast_cpu_dtype", "set_autocast_dtype('cpu', dtype)")
    _STATE["cpu"].dtype = dtype


def get_autocast_gpu_dtype():
    _deprecated("get_autocast_gpu_dtype", "get_autocast_dtype('cuda')")
    return _STATE["cuda"].dtype


def set_autocast_gpu_dtype(dtype):
    _deprecated("set_autocast_gpu_dtype", "set_autocast_dtype('cuda', dtype)")
    _STATE["cuda"].dtype = dtype


# ---------------------------------------------------------------- the autocast context manager
_SUPPORTED = {"cpu": (D.bfloat16, D.float16), "cuda": (D.float16, D.bfloat16)}


class autocast:
    """Run the ops of a region in mixed precision: ``with ember.autocast("cpu"): y = model(x)``.

    Also a decorator (``@ember.autocast("cuda")``). ``dtype`` defaults to ``get_autocast_dtype(device_type)``;
    ``enabled=False`` turns autocast off inside an enclosing region; ``cache_enabled`` keeps the cast copies
    of parameters for the region (default: ``is_autocast_cache_enabled()``).
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self.device = device_type
        self.custom_backend_name = "privateuseone"
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        dev = _parse_device(device_type)[0]
        if dev == "privateuseone":
            raise AssertionError("Tried to use AMP with the `privateuseone` backend, but the backend has not "
                                 "registered a module or  the module miss some necessary funcs. The backend should "
                                 "register a module by `torch._register_device_module`, and the module must have "
                                 "these funcs: \n`get_amp_supported_dtype() -> List[torch.dtype]`. \n")
        if device_type == "cuda" and enabled:
            from .. import cuda
            if not cuda.is_available():
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", stacklevel=2)
                enabled = False
            elif self.fast_dtype is D.bfloat16 and not cuda.is_bf16_supported():
                raise RuntimeError("Current CUDA Device does not support bfloat16. Please switch dtype to float16.")
        supported = _SUPPORTED.get(dev)
        if enabled and supported is not None and self.fast_dtype not in supported:
            name = self.device.upper()
            warnings.warn(f"In {name} autocast, but the target dtype is not supported. Disabling autocast.\n"
                          f"{name} Autocast only supports dtypes of "
                          f"{', '.join(repr(d) for d in supported)} currently.", stacklevel=2)
            enabled = False
        self._enabled = bool(enabled)

    def __enter__(self):
        st = _state(self.device)
        self.prev = st.enabled
        self.prev_fastdtype = st.dtype
        self.prev_cache_enabled = _misc["cache_enabled"]
        st.enabled = self._enabled
        st.dtype = self.fast_dtype
        autocast_increment_nesting()
        _misc["cache_enabled"] = bool(self._cache_enabled)
        _refresh()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        st = _state(self.device)
        st.enabled = self.prev
        st.dtype = self.prev_fastdtype
        _misc["cache_enabled"] = self.prev_cache_enabled
        _refresh()
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorate_autocast


# ---------------------------------------------------------------- casting
def _eligible(t, dev):
    # torch casts floating tensors of the region's device type, never float64
    return isinstance(t, Tensor) and t._device.type == dev and t.dtype.category == 2 and t.dtype is not D.float64


def _cast(t, dtype):
    if t.dtype is dtype:
        return t
    if (dtype is _lower_of(t._device.type) and t.dtype is D.float32 and t._rg and t.grad_fn is None
            and t._base is None and _misc["cache_enabled"] and grad_mode.state.enabled
            and not grad_mode.state.inference):
        key = (id(t), dtype)
        hit = _cache.get(key)
        if hit is not None and hit[0] is t:
            return hit[1]
        c = t.to(dtype)
        _cache[key] = (t, c)
        return c
    return t.to(dtype)


def _lower_of(dev):
    return _STATE[dev].dtype


def _widest(tensors, dev):
    """torch's choice for "promote" ops: float32 if any eligible input is float32, else the lower dtype;
    an eligible input of another lower-precision type is an error (float64 ones are ignored)."""
    low = _STATE[dev].dtype
    cur = low
    for t in tensors:
        if not _eligible(t, dev):
            continue
        nxt = t.dtype
        if cur is D.float32 or nxt is D.float32:
            cur = D.float32
        elif not (cur is low and nxt is low):
            raise RuntimeError("Unexpected floating ScalarType in at::autocast::prioritize")
    return cur


def _target(policy, tensors, dev):
    if policy == LOWER:
        return _STATE[dev].dtype
    if policy == FP32:
        return D.float32
    return _widest(tensors, dev)


LOWER, FP32, PROMOTE = "lower", "fp32", "promote"
OFF = "off"  # an ember composite whose torch counterpart runs its inner ops without autocast

# ---------------------------------------------------------------- op lists (torch's Autocast Op Reference)
# keyed by ember op name (the op runner's hook)
_CPU_OPS = {
    **dict.fromkeys(["mm", "matmul", "bmm", "baddbmm", "addmm", "addbmm", "linear", "convolution",
                     "convolution_transpose", "prelu", "linalg_vecdot"], LOWER),
    **dict.fromkeys(["binary_cross_entropy", "binary_cross_entropy_with_logits", "nll_loss", "ctc_loss", "cdist",
                     "trace", "cholesky_solve", "linalg_matrix_rank", "linalg_svdvals", "fft_c2c", "fft_r2c",
                     "fft_c2r", "grid_sampler_2d", "grid_sampler_3d"], FP32),
    **dict.fromkeys(["cat", "stack", "index_copy"], PROMOTE),
}
_CUDA_OPS = {
    **dict.fromkeys(["mm", "matmul", "bmm", "baddbmm", "addmm", "addbmm", "addmv", "mv", "linear", "convolution",
                     "convolution_transpose", "prelu"], LOWER),
    **dict.fromkeys(["acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p",
                     "reciprocal", "rsqrt", "sinh", "tan", "pow", "softplus", "binary_cross_entropy_with_logits",
                     "nll_loss", "cdist", "cumprod", "cumsum", "softmax", "log_softmax", "sum_all", "sum_nd",
                     "native_layer_norm", "native_group_norm", "linalg_vector_norm"], FP32),
    **dict.fromkeys(["addcdiv", "addcmul", "atan2", "index_put", "scatter_add", "cat", "stack", "index_copy"],
                    PROMOTE),
}
_OPS = {"cpu": _CPU_OPS, "cuda": _CUDA_OPS}
_ANY_OP = frozenset(_CPU_OPS) | frozenset(_CUDA_OPS)

# public functions wrapped while autocast is on: (namespace, names, cpu policy, cuda policy)
_LOSSES = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div", "soft_margin_loss", "multi_margin_loss",
           "multilabel_margin_loss", "hinge_embedding_loss", "cosine_embedding_loss", "margin_ranking_loss",
           "poisson_nll_loss", "triplet_margin_loss", "ctc_loss", "nll_loss", "cross_entropy",
           "binary_cross_entropy_with_logits"]
_CPU_POOLS = ["avg_pool3d", "max_pool3d", "max_pool3d_with_indices", "adaptive_avg_pool3d", "adaptive_max_pool3d",
              "adaptive_max_pool3d_with_indices", "fractional_max_pool2d", "fractional_max_pool2d_with_indices",
              "fractional_max_pool3d", "fractional_max_pool3d_with_indices", "max_unpool2d", "max_unpool3d",
              "grid_sample"]
_MATMULS = ["mm", "bmm", "matmul", "addmm", "baddbmm", "addbmm", "chain_matmul"]
_CPU_FP32_FUNCS = ["prod", "cdist", "trace", "cholesky_solve", "pinverse", "quantile", "nanquantile", "polar",
                   "stft", "view_as_complex", "cholesky", "cholesky_inverse", "inverse", "lu_solve", "orgqr",
                   "ormqr", "geqrf", "qr", "svd", "triangular_solve"]
_LINALG_FP32 = ["cond", "matrix_rank", "solve", "cholesky", "svdvals", "eigvals", "eigvalsh", "inv",
                "householder_product", "tensorinv", "tensorsolve", "qr", "cholesky_ex", "svd", "eig", "eigh",
                "lstsq", "inv_ex"]
_FFTS = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn",
         "hfft", "ihfft"]
_CONVS = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]

_FUNC_SPECS = [
    ("F", _LOSSES, FP32, FP32),
    ("F", ["binary_cross_entropy"], FP32, "banned"),
    ("F", _CPU_POOLS, FP32, None),
    ("F", ["pad"], "pad", None),
    ("F", ["linear", "prelu", "scaled_dot_product_attention"] + _CONVS, LOWER, LOWER),
    ("F", ["bilinear"], OFF, PROMOTE),
    ("F", ["layer_norm", "group_norm", "normalize", "pdist", "cosine_similarity", "softmax", "log_softmax",
           "softmin", "softplus"], None, FP32),
    ("ember", _MATMULS, LOWER, LOWER),
    ("ember", _CONVS + ["prelu"], LOWER, LOWER),
    ("ember", ["einsum"], "einsum", "einsum"),
    ("ember", ["tensordot"], "tensordot", PROMOTE),
    ("ember", ["inner"], "inner", "inner"),
    ("Tensor", ["inner"], "inner", "inner"),
    ("ember", _CPU_FP32_FUNCS, FP32, None),
    ("ember", ["cat", "concat", "concatenate", "stack", "index_copy"], PROMOTE, PROMOTE),
    ("ember", ["mv", "addmv", "addr"], None, LOWER),
    ("ember", ["dot", "vdot", "cross", "addcdiv", "addcmul", "atan2"], None, PROMOTE),
    ("ember", ["prod", "cdist", "dist", "norm", "renorm", "cumsum", "cumprod", "sum", "pow", "exp", "log",
               "log10", "log2", "log1p", "reciprocal", "rsqrt", "sinh", "cosh", "tan", "acos", "asin", "erfinv",
               "expm1", "layer_norm", "group_norm", "softmax", "log_softmax"], None, FP32),
    ("linalg", ["matmul", "vecdot", "multi_dot"], LOWER, LOWER),
    ("linalg", _LINALG_FP32, FP32, None),
    ("linalg", ["pinv"], "pinv", None),
    # ember composites of lowered ops whose torch counterparts are single ops off the lists
    ("linalg", ["lu_solve"], OFF, OFF),
    ("fft", _FFTS, FP32, None),
    ("Tensor", _MATMULS[:6] + ["__matmul__", "__rmatmul__"], LOWER, LOWER),
    ("Tensor", ["prod", "cholesky_solve", "trace", "pinverse", "stft", "quantile", "nanquantile", "cholesky",
                "cholesky_inverse", "inverse", "lu_solve", "orgqr", "ormqr", "geqrf", "qr", "svd",
                "triangular_solve"], FP32, None),
    ("Tensor", ["index_copy"], PROMOTE, PROMOTE),
    ("Tensor", ["mv", "addmv", "addr"], None, LOWER),
    ("Tensor", ["prod", "cumsum", "cumprod", "sum", "pow", "__pow__", "__rpow__", "__rtruediv__", "exp", "log",
                "log10", "log2", "log1p", "reciprocal", "rsqrt", "sinh", "cosh", "tan", "acos", "asin", "erfinv",
                "expm1", "norm", "renorm", "softmax", "log_softmax", "dist"], None, FP32),
    ("Tensor", ["dot", "vdot", "cross", "addcdiv", "addcmul", "atan2"], None, PROMOTE),
    # recurrent layers: on the CPU torch's cells are composites (linear in lower precision, the state update
    # by type promotion with the previous state) while a whole LSTM is one lower-precision oneDNN op; on CUDA
    # the cells are listed ops and cuDNN runs whole layers in lower precision
    ("R", ["rnn_cell"], LOWER, LOWER),
    ("R", ["gru_cell"], "gru_step", LOWER),
    ("R", ["lstm_cell"], "lstm_cell", LOWER),
    ("RNN", ["forward"], "rnn_module", None),
]

_BCE_BANNED = ("torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
               "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
               "In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\n"
               "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
               "safe to autocast.")


# ---------------------------------------------------------------- the op runner's hook
def _first_device_type(args):
    for a in args:
        if isinstance(a, Tensor):
            return a._device.type
        if isinstance(a, (list, tuple)):
            for b in a:
                if isinstance(b, Tensor):
                    return b._device.type
    return None


def _op_hook(op, args, kw):
    """Cast step of the op runner: returns ``args`` with the op's policy applied."""
    name = op.name
    if name not in _ANY_OP:
        return args
    dev = _first_device_type(args)
    st = _STATE.get(dev)
    if st is None or not st.enabled:
        return args
    policy = _OPS[dev].get(name)
    if policy is None or kw.get("dtype") is not None:
        return args
    dtype = _target(policy, args, dev)
    return tuple(_cast(a, dtype) if _eligible(a, dev) else a for a in args)


def _suspended(fn, args, kw):
    """Run ``fn`` with autocast off for ember's machinery (the region's flags stay as they are)."""
    from ..ops import _registry
    _misc["suspended"] += 1
    _registry.autocast_hook = None
    try:
        return fn(*args, **kw)
    finally:
        _misc["suspended"] -= 1
        if not _misc["suspended"] and _misc["installed"]:
            _registry.autocast_hook = _op_hook


def suspend_autocast(fn, *args, **kw):
    """``fn(*args, **kw)`` without autocast's casts (the op runner's in-place path uses it)."""
    return _suspended(fn, args, kw)


# ---------------------------------------------------------------- function wrappers
def _map_tensors(x, f):
    if isinstance(x, Tensor):
        return f(x)
    if isinstance(x, (list, tuple)) and any(isinstance(v, Tensor) for v in x):
        items = [f(v) if isinstance(v, Tensor) else v for v in x]
        return type(x)(*items) if hasattr(x, "_fields") else type(x)(items)
    return x


def _all_tensors(args, kw):
    out = []
    for a in list(args) + list(kw.values()):
        if isinstance(a, Tensor):
            out.append(a)
        elif isinstance(a, (list, tuple)):
            out.extend(v for v in a if isinstance(v, Tensor))
    return out


def _cast_all(args, kw, dtype, dev):
    f = (lambda t: _cast(t, dtype) if _eligible(t, dev) else t)
    return tuple(_map_tensors(a, f) for a in args), {k: _map_tensors(v, f) for k, v in kw.items()}


_PAD_FP32 = {"reflect": (3, 4), "replicate": (3, 4, 5)}  # input ranks of torch's float32-listed pad kernels


def _einsum_steps(eq, ops):
    """torch's einsum contracts operands left to right; for each later operand: does that step contract
    (torch runs it as bmm, an autocast op) or only multiply?"""
    eq = eq.replace(" ", "")
    lhs, rhs = (eq.split("->", 1) + [None])[:2]
    terms = [t.replace("...", "") for t in lhs.split(",")]
    if rhs is None:
        letters = "".join(terms)
        rhs = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    keep = set(rhs.replace("...", ""))
    steps = []
    cur = set(terms[0])
    for k in range(1, len(terms)):
        later = set("".join(terms[k + 1:])) | keep
        nxt = set(terms[k]) - (set(terms[k]) - cur - later)  # labels only here and unused later are summed away
        cur = cur - (cur - later - nxt)
        contracted = (cur & nxt) - later
        steps.append(bool(contracted))
        cur = (cur | nxt) - contracted
    return steps


def _einsum_call(fn, dev, args, kw):
    if not args or not isinstance(args[0], str):
        return fn(*args, **kw)
    ops = list(args[1][0] if len(args) == 2 and isinstance(args[1], (list, tuple)) else args[1:])
    if len(ops) < 2 or not all(isinstance(o, Tensor) for o in ops):
        return fn(*args, **kw)
    try:
        steps = _einsum_steps(args[0], ops)
    except Exception:  # a malformed equation: let einsum raise its own error
        return fn(*args, **kw)
    if not any(steps):
        return fn(*args, **kw)
    low = _STATE[dev].dtype
    final = ops[0].dtype
    for o, contracts in zip(ops[1:], steps):
        final = (low if _eligible(o, dev) or o.dtype is low else o.dtype) if contracts else D.promote_types(final,
                                                                                                           o.dtype)
    a2, k2 = _cast_all(args, kw, low, dev)
    r = _suspended(fn, a2, k2)
    return r if r.dtype is final else r.to(final)


def _free_size(t, contracted):
    n = 1
    for i, s in enumerate(t.shape):
        if i not in contracted:
            n *= s
    return n


def _tensordot_call(fn, dev, args, kw, inner=False):
    """tensordot (and inner, built on it) run one matrix product, lowered -- except when both free sides are
    single rows, where torch takes a dot product, which the CPU list leaves alone; 0-d inner is a product."""
    a = args[0] if args else kw.get("input", kw.get("a"))
    b = args[1] if len(args) > 1 else kw.get("other", kw.get("b"))
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        return fn(*args, **kw)
    if inner and (a.dim() == 0 or b.dim() == 0):
        return fn(*args, **kw)
    try:
        if inner:
            ca, cb = {a.dim() - 1}, {b.dim() - 1}
        else:
            from ..ops.linalg_ext import _tensordot_dims
            da, db = _tensordot_dims(a, b, args[2] if len(args) > 2 else kw.get("dims", 2))
            ca, cb = {d % max(a.dim(), 1) for d in da}, {d % max(b.dim(), 1) for d in db}
        single = _free_size(a, ca) == 1 and _free_size(b, cb) == 1
    except Exception:  # bad dims: let the function raise its own error
        return _suspended(fn, args, kw)
    if single and dev == "cpu":
        return _suspended(fn, args, kw)
    a2, k2 = _cast_all(args, kw, _target(PROMOTE if dev == "cuda" else LOWER, [a, b], dev), dev)
    return _suspended(fn, a2, k2)


def _pinv_call(fn, dev, args, kw):
    # torch's linalg.pinv is a composite: an SVD in float32, then a matmul that autocast lowers
    if any(_eligible(t, dev) and t.dtype is not D.float32 for t in _all_tensors(args, kw)):
        return _suspended(fn, args, kw)
    r = _suspended(fn, args, kw)
    return r.to(_STATE[dev].dtype) if _eligible(r, dev) else r


def _step_dtype(policy, args):
    """torch's GRU/LSTM cells are composites: the gate matmuls run in lower precision, then the state update
    mixes the gates with the previous state (h for a GRU, c for an LSTM) by ordinary type promotion."""
    gx, state = args[0], args[1] if policy == "gru_step" else args[2]
    return D.promote_types(gx.dtype, state.dtype)


def _rnn_call(fn, dev, args, kw):
    """A recurrent layer's forward: a plain LSTM's steps run in lower precision, as torch's single oneDNN op
    does on the CPU (packed input and projections take torch's composite path, where only the matmuls are
    lowered). The layer's own input/hidden dtype checks are off under autocast, as in torch."""
    mod = args[0]
    x = args[1] if len(args) > 1 else kw.get("input")
    lower = type(mod).__name__ == "LSTM" and not getattr(mod, "proj_size", 0) and isinstance(x, Tensor) \
        and x.numel() != 0  # an empty input takes torch's composite path
    if not lower:
        return fn(*args, **kw)
    _misc["rnn_lower"] += 1
    try:
        return fn(*args, **kw)
    finally:
        _misc["rnn_lower"] -= 1


def _make_wrapper(orig, policies):
    cpu_pol, cuda_pol = policies

    @functools.wraps(orig)
    def autocast_wrapper(*args, **kw):
        if _misc["suspended"]:
            return orig(*args, **kw)
        ts = _all_tensors(args, kw)
        dev = ts[0]._device.type if ts else None
        st = _STATE.get(dev)
        if st is None or not st.enabled:
            return orig(*args, **kw)
        policy = cpu_pol if dev == "cpu" else cuda_pol if dev == "cuda" else None
        if policy is None:
            return orig(*args, **kw)
        if kw.get("out") is not None or kw.get("dtype") is not None:
            return _suspended(orig, args, kw)  # out= and explicit dtype= calls are not autocast
        if policy == OFF:
            return _suspended(orig, args, kw)
        if policy == "banned":
            raise RuntimeError(_BCE_BANNED)
        if policy == "einsum":
            return _einsum_call(orig, dev, args, kw)
        if policy == "pinv":
            return _pinv_call(orig, dev, args, kw)
        if policy in ("tensordot", "inner"):
            return _tensordot_call(orig, dev, args, kw, policy == "inner")
        if policy == "rnn_module":
            return _rnn_call(orig, dev, args, kw)
        if policy == "lstm_cell":
            policy = LOWER if _misc["rnn_lower"] else "lstm_step"
        if policy in ("gru_step", "lstm_step"):
            a2, k2 = _cast_all(args, kw, _step_dtype(policy, args), dev)
            return _suspended(orig, a2, k2)
        if policy == "pad":
            mode = kw.get("mode", args[2] if len(args) > 2 else "constant")
            x = args[0] if args else kw.get("input")
            if not (isinstance(x, Tensor) and x.dim() in _PAD_FP32.get(mode, ())):
                return orig(*args, **kw)
            policy = FP32
        a2, k2 = _cast_all(args, kw, _target(policy, ts, dev), dev)
        return _suspended(orig, a2, k2)

    autocast_wrapper._autocast_orig = orig
    return autocast_wrapper


_installed = []  # (owner, name, original) while wrappers are in place


def _owners():
    import ember
    from .. import fft, linalg, ops
    from ..nn import functional as F
    from ..nn import GRU, LSTM, RNN
    from ..ops import rnn_ops
    return {"F": [F], "ember": [ember, ops], "linalg": [linalg], "fft": [fft], "Tensor": [Tensor], "R": [rnn_ops],
            "RNN": [RNN, GRU, LSTM]}


_wrappers = {}  # (id(owner), name) -> wrapper, built once


def _collect_specs():
    specs = {}
    for owner, names, cpu_pol, cuda_pol in _FUNC_SPECS:
        for n in names:
            old = specs.get((owner, n), (None, None))
            specs[(owner, n)] = (cpu_pol if cpu_pol is not None else old[0],
                                 cuda_pol if cuda_pol is not None else old[1])
    return specs


_SPECS = _collect_specs()


def _install():
    from ..ops import _registry
    owners = _owners()
    for (owner_key, name), pols in _SPECS.items():
        for owner in owners[owner_key]:
            orig = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name, None)
            if orig is None or getattr(orig, "_autocast_orig", None) is not None:
                continue
            key = (id(owner), name)
            hit = _wrappers.get(key)
            if hit is None or hit[0] is not orig:
                hit = _wrappers[key] = (orig, _make_wrapper(orig, pols))
            setattr(owner, name, hit[1])
            _installed.append((owner, name, orig))
    _misc["installed"] = True
    if not _misc["suspended"]:
        _registry.autocast_hook = _op_hook


def _uninstall():
    from ..ops import _registry
    _registry.autocast_hook = None
    while _installed:
        owner, name, orig = _installed.pop()
        setattr(owner, name, orig)
    _misc["installed"] = False


def _refresh():
    on = any(st.enabled for st in _STATE.values())
    if on and not _misc["installed"]:
        _install()
    elif not on and _misc["installed"]:
        _uninstall()


# ---------------------------------------------------------------- custom_fwd / custom_bwd
def _cast_value(value, device_type, dtype):
    if isinstance(value, Tensor):
        ok = value.dtype.category == 2 and value._device.type == device_type and value.dtype is not D.float64
        return value.to(dtype) if ok else value
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, dict):
        return {_cast_value(k, device_type, dtype): _cast_value(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return type(value)(_cast_value(v, device_type, dtype) for v in value)
    return value


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorator for a custom Function's ``forward``: with ``cast_inputs``, run it outside autocast with
    floating inputs cast to that dtype; without, remember whether autocast was on for ``custom_bwd``."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            args[0]._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        on = is_autocast_enabled(device_type)
        args[0]._fwd_used_autocast = False
        if on:
            with autocast(device_type=device_type, enabled=False):
                return fwd(*_cast_value(args, device_type, cast_inputs),
                           **_cast_value(kwargs, device_type, cast_inputs))
        return fwd(*args, **kwargs)
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """Decorator for a custom Function's ``backward``: run it with the autocast state its forward had."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(device_type=device_type, enabled=args[0]._fwd_used_autocast, dtype=args[0]._dtype):
            return bwd(*args, **kwargs)
    return decorate_bwd
