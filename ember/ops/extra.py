"""Top-level torch functions outside the core families.

The in-place function forms (``ember.exp_(t)``) and plain aliases (``arccos``, ``fix``, ``ravel``), torch's
positional spellings of nn ops (``torch.dropout(x, p, train)``, ``torch.batch_norm(x, w, b, rm, rv, ...)``),
broadcasting helpers, small numeric ops (gcd, lcm, frexp, ldexp, nextafter, complex, polar, renorm, ...),
the ``*_scatter`` and ``*_copy`` forms of the view ops, a few factories and the global switches
(default device, warn-always, anomaly mode).
"""
import math
import warnings

import numpy as np

from .. import _device as _devmod
from .._device import to_device
from .. import _dtype as D
from .._size import Size
from .._storage import UntypedStorage
from .._tensor import Tensor, contiguous_strides, wrap_dim
from ..autograd import anomaly_mode as _anomaly
from ..autograd import grad_mode
from ..autograd.graph import edge_of, node_class
from . import view as _V
from .binary import _kernel as _bkernel
from ._registry import (Op, _broadcast_error, _type_name, apply, apply_inplace, defop, elementwise_shape,
                        renamed, write_out)
from .reduce import return_type
from .scan import _DIV_SCALAR, _MUL_SCALAR
from .sort import _bin_positions, _linspace, bin_range

_T = Tensor
FUNCS = {}


def _ops():
    from .. import ops
    return ops


def _F():
    from ..nn import functional
    return functional


# ---------------------------------------------------------------- argument checks (torch's binding errors)
def _need_tensor(name, x, arg="input", pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")


def _need_bool(name, v, arg, pos):
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be bool, not {type(v).__name__}")
    return bool(v)


def _need_float(name, v, arg, pos):
    if not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be float, not {type(v).__name__}")
    return float(v)


def _need_int(name, v, arg, pos):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be int, not {type(v).__name__}")
    return int(v)


def _reduction(name, r, pos):
    # ATen's reduction enum: 1 mean, 2 sum; any other int reduces nothing. torch's bindings document a default
    # of 1 (mean) but reduce nothing when the argument is left out, so the defaults below are 0.
    return {1: "mean", 2: "sum"}.get(_need_int(name, r, "reduction", pos), "none")


def _g(v):
    return "%g" % v


# ---------------------------------------------------------------- in-place function forms and aliases
for _alias, _name in (("arccos", "acos"), ("arcsin", "asin"), ("arctan", "atan"), ("arccosh", "acosh"),
                      ("arcsinh", "asinh"), ("arctanh", "atanh"), ("absolute", "abs"), ("fix", "trunc")):
    setattr(_T, _alias, getattr(_T, _name))
    setattr(_T, _alias + "_", getattr(_T, _name + "_"))
_T.negative_ = _T.neg_

# torch.<name>_(t, *args) is t.<name>_(*args) for these
_INPLACE = ("abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_",
            "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_",
            "conj_physical_", "cos_", "cosh_", "deg2rad_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fix_", "floor_",
            "frac_", "i0_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_",
            "rad2deg_", "reciprocal_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_",
            "tan_", "tanh_", "trunc_", "xlogy_", "gcd_", "lcm_", "ldexp_", "detach_", "as_strided_")


def _function_form(name):
    def f(input, *args, **kwargs):
        _need_tensor(name, input)
        return getattr(input, name)(*args, **kwargs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``input.{name}(...)`` as a function (torch.{name})."
    return f


def _alias_fn(name, target):
    def f(input, *args, **kwargs):
        _need_tensor(name, input)
        return target(input, *args, **kwargs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Alias of torch.{target.__name__} (torch.{name})."
    return f


def detach(input):
    """A tensor sharing ``input``'s memory, without autograd history."""
    _need_tensor("detach", input)
    return input.detach()


def is_neg(input):
    """False: ember has no lazily negated tensors."""
    _need_tensor("is_neg", input)
    return False


def is_inference(input):
    """False: ember's inference_mode makes ordinary tensors (there are no inference tensors)."""
    _need_tensor("is_inference", input)
    return False


def is_same_size(input, other):
    """True when both tensors have the same shape."""
    _need_tensor("is_same_size", input)
    _need_tensor("is_same_size", other, "other", 2)
    return tuple(input.shape) == tuple(other.shape)


def is_signed(input):
    """True for signed dtypes (floating, complex and signed integers)."""
    _need_tensor("is_signed", input)
    return input.dtype.is_signed


def get_device(input):
    """The CUDA device index of ``input``, or -1 for CPU tensors."""
    _need_tensor("get_device", input)
    return input.get_device()


def ravel(input):
    """The elements as a 1-D tensor: a view when the layout allows it, else a copy."""
    _need_tensor("ravel", input)
    # torch: contiguous().view(-1), so a copied ravel is a view of the copy (View over CloneBackward0)
    return input.contiguous().view(-1)


def split_with_sizes(input, split_sizes, dim=0):
    """Views of consecutive pieces of the given sizes along ``dim``."""
    _need_tensor("split_with_sizes", input)
    if not isinstance(split_sizes, (list, tuple, Size)):
        raise TypeError(f"split_with_sizes(): argument 'split_sizes' (position 2) must be tuple of ints, not "
                        f"{type(split_sizes).__name__}")
    return _V.split(input, [int(s) for s in split_sizes], dim)


# unsafe_split and friends: torch hands back pieces that autograd does not track as views; here they are
# copies (the same values; torch forbids relying on the shared memory), from one multi-output node as in torch
def _unsafe_pieces(input, pieces, key, dim):
    with grad_mode.no_grad():
        ps = pieces()  # also torch's argument errors
    outs = tuple(Tensor._make(p._data.copy(), p._device) for p in ps)
    if input._rg and grad_mode.is_grad_enabled() and outs and input.dtype.category >= 2:
        dim = wrap_dim(dim, input.dim())
        _V.split_node(input, outs, key, dim, tuple(p.shape[dim] for p in ps))
    return outs


def unsafe_split(input, split_size, dim=0):
    """split() whose pieces are not tracked as views (here: copies)."""
    _need_tensor("unsafe_split", input)
    return _unsafe_pieces(input, lambda: _V.split(input, split_size, dim), "unsafe_split", dim)


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    """split_with_sizes() whose pieces are not tracked as views (here: copies)."""
    _need_tensor("unsafe_split_with_sizes", input)
    return _unsafe_pieces(input, lambda: split_with_sizes(input, split_sizes, dim), "unsafe_split_with_sizes", dim)


def unsafe_chunk(input, chunks, dim=0):
    """chunk() whose pieces are not tracked as views (here: copies)."""
    _need_tensor("unsafe_chunk", input)
    return _unsafe_pieces(input, lambda: _V.chunk(input, chunks, dim), "unsafe_split", dim)


def typename(obj, /):
    """The type name torch prints for ``obj`` ('torch.FloatTensor' for tensors)."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    if module in ("", "builtins"):
        return qualname
    if module == "ember" or module.startswith("ember."):
        import ember
        if getattr(ember, qualname, None) is (obj if isinstance(obj, type) else type(obj)):
            return "torch." + qualname  # a top-level class: torch.dtype, torch.Size
        module = "torch" + module[5:]
    return f"{module}.{qualname}"


def is_storage(obj, /):
    """True for storage objects."""
    return isinstance(obj, UntypedStorage)


def isreal(input):
    """Elementwise: True where the imaginary part is zero (always for real dtypes)."""
    _need_tensor("isreal", input)
    if input.dtype.category != 3:
        return _ops().ones_like(input, dtype=D.bool_)
    return input.imag == 0


def nonzero_static(input, *, size, fill_value=-1):
    """The first ``size`` rows of ``nonzero(input)``, padded with ``fill_value`` rows to exactly ``size``."""
    _need_tensor("nonzero_static", input)
    size = _need_int("nonzero_static", size, "size", 2)
    if size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    nz = input.nonzero()
    n = nz.shape[0]
    if n >= size:
        return nz[:size].clone()
    pad = _ops().full((size - n, nz.shape[1]), fill_value, dtype=D.int64, device=input.device)
    return _ops().cat([nz, pad])


def is_distributed(input):
    """False: ember tensors are never distributed."""
    _need_tensor("is_distributed", input)
    return False


def conv_tbc(input, weight, bias, pad=0):
    """1-D convolution of a (time, batch, channels) input with a (kernel, in, out) weight."""
    _need_tensor("conv_tbc", input)
    return _F().conv_tbc(input, weight, bias, pad)


_T.isreal = isreal
_T.nonzero_static = nonzero_static
_T.is_distributed = is_distributed
_T.is_inference = is_inference
_T.is_same_size = is_same_size
_T.ravel = ravel
_T.split_with_sizes = split_with_sizes
_T.unsafe_split = unsafe_split
_T.unsafe_split_with_sizes = unsafe_split_with_sizes
_T.unsafe_chunk = unsafe_chunk
_T.as_strided_ = _V._inplace_view(_V.as_strided)


# ---------------------------------------------------------------- nn ops in torch's positional spelling
def _softmax(name, input, dim, dtype):
    _need_tensor(name, input)
    d = wrap_dim(_need_int(name, dim, "dim", 2), input.dim())
    x = input if dtype is None else input.to(D.to_dtype(dtype))
    return getattr(_F(), name)(x, d)  # (which refuses non-floating input with torch's error)


def softmax(input, dim, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim`` (computed in ``dtype`` when given)."""
    return _softmax("softmax", input, dim, dtype)


def log_softmax(input, dim, dtype=None):
    """log(softmax(x)) along ``dim``, computed stably (in ``dtype`` when given)."""
    return _softmax("log_softmax", input, dim, dtype)


def _dropout_form(name, feature=False, alpha=False, inplace=False):
    def f(input, p, train):
        _need_tensor(name, input)
        p = _need_float(name, p, "p", 2)
        train = _need_bool(name, train, "train", 3)
        if not 0 <= p <= 1:
            raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {_g(p)}")
        return _F()._dropout_impl(input, p, train, inplace, feature=feature, alpha=alpha)
    f.__name__ = f.__qualname__ = name
    kind = ("feature " if feature else "") + ("alpha " if alpha else "")
    f.__doc__ = f"{kind.capitalize() or ''}dropout with torch's positional ``(input, p, train)``" + \
        (" in place." if inplace else ".")
    return f


for _name, _feat, _alpha in (("dropout", False, False), ("alpha_dropout", False, True),
                             ("feature_dropout", True, False), ("feature_alpha_dropout", True, True)):
    FUNCS[_name] = _dropout_form(_name, _feat, _alpha)
    FUNCS[_name + "_"] = _dropout_form(_name + "_", _feat, _alpha, inplace=True)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    """Batch normalisation in ATen's argument order (weight and bias before the running stats)."""
    _need_tensor("batch_norm", input)
    return _F().batch_norm(input, running_mean, running_var, weight, bias, _need_bool("batch_norm", training,
                           "training", 6), momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled):
    """Instance normalisation in ATen's argument order."""
    _need_tensor("instance_norm", input)
    return _F().instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` at ``indices`` (weight first; padding_idx < 0 means none)."""
    _need_tensor("embedding", weight, "weight", 1)
    _need_tensor("embedding", indices, "indices", 2)
    pad = int(padding_idx)
    pad = pad if 0 <= pad < weight.shape[0] else None  # an index no row has never receives a gradient anyway
    return _F().embedding(indices, weight, padding_idx=pad, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


_EB_MODES = ("sum", "mean", "max")


def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """ATen's embedding_bag: (output, offset2bag, bag_size, max_indices) for bags of 1-D ``indices``."""
    _need_tensor("embedding_bag", weight, "weight", 1)
    _need_tensor("embedding_bag", indices, "indices", 2)
    _need_tensor("embedding_bag", offsets, "offsets", 3)
    mode = _need_int("embedding_bag", mode, "mode", 5)
    if indices.dim() != 1:
        # ATen's kernel silently reads only the first indices.size(0) of the elements here
        raise RuntimeError(f"embedding_bag: expected 1-D indices with offsets, got {indices.dim()}-D indices (use "
                           f"nn.functional.embedding_bag for a 2-D batch of fixed-length bags)")
    if mode not in (0, 1, 2):
        raise RuntimeError(f"embedding_bag: mode must be 0 (sum), 1 (mean) or 2 (max), got {mode}")
    num = weight.shape[0]
    pad = None if padding_idx is None else int(padding_idx) + num if padding_idx < 0 else int(padding_idx)
    flat = indices
    out = _F().embedding_bag(flat, weight, offsets, scale_grad_by_freq=scale_grad_by_freq, mode=_EB_MODES[mode],
                             sparse=sparse, per_sample_weights=per_sample_weights,
                             include_last_offset=include_last_offset, padding_idx=pad)
    # the bookkeeping tensors ATen's kernel returns for its backward, computed the same way
    dev = weight.device
    idx = flat.detach().cpu().numpy().astype(np.int64)
    starts = offsets.detach().cpu().numpy().astype(np.int64).reshape(-1)
    if include_last_offset:
        starts = starts[:-1]
    nb, n = starts.size, idx.size
    ends = np.append(starts[1:], n) if nb else starts
    pos = np.arange(n)
    bag_of = np.clip(np.searchsorted(starts, pos, side="right") - 1, 0, None) if nb else np.zeros(n, np.int64)
    valid = idx != pad if pad is not None else np.ones(n, bool)
    sizes = np.array([int(valid[s:e].sum()) for s, e in zip(starts, ends)], np.int64)
    i64 = dict(dtype=D.int64, device=dev)
    T = _ops().tensor
    if mode == 0:  # sum needs no bookkeeping: zeros, one per offset
        offset2bag = T(bag_of if pad is not None else np.zeros(0, np.int64), **i64)
        no = offsets.numel()
        return out, offset2bag, T(np.zeros(no, np.int64), **i64), T(np.zeros(no, np.int64), **i64)
    if mode == 1:
        return out, T(bag_of, **i64), T(sizes, **i64), T(sizes.copy(), **i64)
    w = weight.detach().cpu().numpy()
    maxi = np.zeros((nb, w.shape[1]), np.int64)
    for b, (s, e) in enumerate(zip(starts, ends)):
        rows = idx[s:e][valid[s:e]]
        if rows.size:
            maxi[b] = rows[np.argmax(w[rows], axis=0)]
    return out, T(bag_of, **i64), T(sizes, **i64), T(maxi, **i64)


def bilinear(input1, input2, weight, bias=None):
    """x1^T A x2 + b for each output feature."""
    _need_tensor("bilinear", input1, "input1", 1)
    return _F().bilinear(input1, input2, weight, bias)


def kl_div(input, target, reduction=0, *, log_target=False):
    """Pointwise KL divergence; reduction 1 is the mean over all elements (not batchmean), 2 the sum."""
    _need_tensor("kl_div", input)
    red = _reduction("kl_div", reduction, 3)
    loss = _F().kl_div(input, target, reduction="none", log_target=log_target)
    return loss.mean() if red == "mean" else loss.sum() if red == "sum" else loss


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    """1 - cos(x1, x2) for target 1, max(0, cos - margin) for -1 (ATen's int reduction)."""
    _need_tensor("cosine_embedding_loss", input1, "input1", 1)
    return _F().cosine_embedding_loss(input1, input2, target, margin=margin,
                                      reduction=_reduction("cosine_embedding_loss", reduction, 5))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    """x for target 1, max(0, margin - x) for -1 (ATen's int reduction)."""
    _need_tensor("hinge_embedding_loss", input)
    return _F().hinge_embedding_loss(input, target, margin=margin,
                                     reduction=_reduction("hinge_embedding_loss", reduction, 4))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    """max(0, -y * (x1 - x2) + margin) (ATen's int reduction)."""
    _need_tensor("margin_ranking_loss", input1, "input1", 1)
    return _F().margin_ranking_loss(input1, input2, target, margin=margin,
                                    reduction=_reduction("margin_ranking_loss", reduction, 5))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """Poisson negative log likelihood, every argument positional (ATen's spelling)."""
    _need_tensor("poisson_nll_loss", input)
    return _F().poisson_nll_loss(input, target, log_input=_need_bool("poisson_nll_loss", log_input, "log_input", 3),
                                 full=_need_bool("poisson_nll_loss", full, "full", 4), eps=eps,
                                 reduction=_reduction("poisson_nll_loss", reduction, 6))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction=0):
    """max(d(a, p) - d(a, n) + margin, 0) with p-norm distances (ATen's int reduction)."""
    _need_tensor("triplet_margin_loss", anchor, "anchor", 1)
    return _F().triplet_margin_loss(anchor, positive, negative, margin=margin, p=p, eps=eps, swap=swap,
                                    reduction=_reduction("triplet_margin_loss", reduction, 8))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0, zero_infinity=False):
    """CTC loss in ATen's spelling (reduction: 0 none, 1 mean over target lengths, 2 sum)."""
    _need_tensor("ctc_loss", log_probs, "log_probs", 1)
    return _F().ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=blank,
                         reduction=_reduction("ctc_loss", reduction, 6), zero_infinity=zero_infinity)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    """Binary cross entropy on logits, stable (ATen's int reduction)."""
    _need_tensor("binary_cross_entropy_with_logits", input)
    return _F().binary_cross_entropy_with_logits(
        input, target, weight=weight, pos_weight=pos_weight,
        reduction=_reduction("binary_cross_entropy_with_logits", reduction, 5))


def constant_pad_nd(input, pad, value=0):
    """Pad the last len(pad) // 2 dims with ``value`` (negative pads crop)."""
    _need_tensor("constant_pad_nd", input)
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError(f"Length of pad must be even but instead it equals {len(pad)}")
    if len(pad) > 2 * input.dim():
        raise RuntimeError(f"Length of pad should be no more than twice the number of dimensions of the input. Pad "
                           f"length is {len(pad)}while the input has {input.dim()}dimensions.")
    return _F().pad(input, pad, "constant", value)


_GS_MODES = ("bilinear", "nearest", "bicubic")
_GS_PADDING = ("zeros", "border", "reflection")


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    """grid_sample with ATen's enum arguments (0/1/2: bilinear/nearest/bicubic, zeros/border/reflection)."""
    _need_tensor("grid_sampler", input)
    _need_tensor("grid_sampler", grid, "grid", 2)
    m = _need_int("grid_sampler", interpolation_mode, "interpolation_mode", 3)
    p = _need_int("grid_sampler", padding_mode, "padding_mode", 4)
    ac = _need_bool("grid_sampler", align_corners, "align_corners", 5)
    if not 0 <= m < 3:
        raise RuntimeError(f"grid_sampler(): expected interpolation_mode to be 0 (bilinear), 1 (nearest) or "
                           f"2 (bicubic), but got {m}")
    if not 0 <= p < 3:
        raise RuntimeError(f"grid_sampler(): expected padding_mode to be 0 (zeros), 1 (border) or 2 (reflection), "
                           f"but got {p}")
    return _F().grid_sample(input, grid, mode=_GS_MODES[m], padding_mode=_GS_PADDING[p], align_corners=ac)


def adaptive_max_pool1d(input, output_size):
    """(values, indices) of adaptive max pooling over the last dim."""
    _need_tensor("adaptive_max_pool1d", input)
    return tuple(_F().adaptive_max_pool1d(input, output_size, return_indices=True))


def embedding_renorm_(input, indices, max_norm, norm_type):
    """Rescale, in place, the rows of ``input`` used by ``indices`` whose norm exceeds ``max_norm``."""
    _need_tensor("embedding_renorm_", input)
    _need_tensor("embedding_renorm_", indices, "indices", 2)
    from ._registry import check_inplace
    check_inplace(input)
    with grad_mode.no_grad():
        _F()._renorm_rows(input, indices, float(max_norm), float(norm_type))
    input._storage._version += 1
    return input


# ---------------------------------------------------------------- broadcasting helpers
def broadcast_shapes(*shapes):
    """The shape tensors of these shapes broadcast to (without making any tensor)."""
    norm = []
    for s in shapes:
        if isinstance(s, (int, np.integer)) and not isinstance(s, bool):
            norm.append((int(s),))
        elif isinstance(s, (tuple, list, Size)):
            norm.append(tuple(s))
        else:
            raise RuntimeError(f"Input shapes should be of type ints, a tuple of ints, or a list of ints, got {s}")
    result = [1] * max((len(s) for s in norm), default=0)
    for i, s in enumerate(norm):
        for j in range(-1, -1 - len(s), -1):
            if s[j] < 0:
                raise ValueError("Attempting to broadcast a dimension with negative length!")
            if s[j] == 1 or s[j] == result[j]:
                continue
            if result[j] != 1:
                shown = (int(shapes[i]),) if isinstance(shapes[i], (int, np.integer)) else shapes[i]
                raise RuntimeError(f"Attempting to broadcast a dimension of length {s[j]} at {j}! Mismatching argument "
                                   f"at index {i} had {shown}; but expected shape should be broadcastable to "
                                   f"{result}")
            result[j] = s[j]
    return Size(result)


def broadcast_tensors(*tensors):
    """Views of the tensors expanded to their common broadcast shape."""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    try:
        shape = np.broadcast_shapes(*(t._data.shape for t in tensors))
    except ValueError:
        _broadcast_error(tensors)
        raise
    return tuple(t if t._data.shape == shape else t.expand(shape) for t in tensors)  # torch: as is, if it fits


def broadcast_to(input, size):
    """``input`` expanded to ``size`` (a view; -1 keeps a dim)."""
    _need_tensor("broadcast_to", input)
    if not isinstance(size, (tuple, list, Size)):
        raise TypeError(f"broadcast_to(): argument 'size' (position 2) must be tuple of ints, not "
                        f"{type(size).__name__}")
    return input.expand(tuple(size))


_T.broadcast_to = broadcast_to


def _atleast(name, fix):
    def f(*tensors):
        seq = tensors
        if len(tensors) == 1:
            if isinstance(tensors[0], Tensor):
                return fix(tensors[0])
            if isinstance(tensors[0], (list, tuple)):
                seq = tensors[0]
        for i, t in enumerate(seq):
            if not isinstance(t, Tensor):
                got = type(t).__name__
                if len(tensors) != 1 or seq is not tensors:
                    raise TypeError(f"expected Tensor as element {i} in argument 0, but got {got}")
                raise TypeError(f"{name}() received an invalid combination of arguments - got ({got}), but expected "
                                f"one of:\n * (Tensor input)\n      didn't match because some of the arguments have "
                                f"invalid types: (!{got}!)\n * (tuple of Tensors tensors)\n      didn't match because "
                                f"some of the arguments have invalid types: (!{got}!)\n")
        return tuple(fix(t) for t in seq)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Each input viewed with at least {name[-2]} dimensions (torch.{name})."
    return f


def _fix1(t):
    return t.reshape(1) if t.dim() == 0 else t


def _fix2(t):
    nd = t.dim()
    return t.reshape(1, 1) if nd == 0 else t.unsqueeze(0) if nd == 1 else t


def _fix3(t):
    nd = t.dim()
    if nd == 0:
        return t.reshape(1, 1, 1)
    if nd == 1:
        return t.unsqueeze(0).unsqueeze(-1)
    return t.unsqueeze(-1) if nd == 2 else t


atleast_1d = _atleast("atleast_1d", _fix1)
atleast_2d = _atleast("atleast_2d", _fix2)
atleast_3d = _atleast("atleast_3d", _fix3)


# ---------------------------------------------------------------- elementwise numeric ops
def _binary_forms(op, name, inplace=True):
    """``f(input, other, *, out=None)`` and the methods; torch has no Python-number ``other`` for these."""
    def fn(input, other, *, out=None):
        _need_tensor(name, input)
        _need_tensor(name, other, "other", 2)
        r = apply(op, (input, other), {})
        return r if out is None else write_out(out, r)

    def method(self, other):
        _need_tensor(name, other, "other", 1)
        return apply(op, (self, other), {})

    fn.__name__ = fn.__qualname__ = name
    setattr(_T, name, method)
    if inplace:
        def method_(self, other):
            _need_tensor(name + "_", other, "other", 1)
            return apply_inplace(op, self, (other,), {})
        setattr(_T, name + "_", method_)
    return fn


def _lcm_fwd(xp, a, b):
    return xp.lcm(a, b)


_GCD = defop("gcd", "promote", _bkernel("gcd_cpu", "fcb")(lambda xp, a, b: xp.gcd(a, b)), shape=elementwise_shape)
_LCM = defop("lcm", "promote", _bkernel("lcm_cpu", "fcb")(_lcm_fwd), shape=elementwise_shape)
gcd = _binary_forms(_GCD, "gcd")
gcd.__doc__ = "Elementwise greatest common divisor (non-negative) of integer tensors."
lcm = _binary_forms(_LCM, "lcm")
lcm.__doc__ = "Elementwise least common multiple (non-negative) of integer tensors."


def _ldexp_fwd(xp, a, b):
    if a.dtype.itemsize < 4:  # half precision: 2**b alone may overflow where the product does not
        a, b = a.astype(np.float32), b.astype(np.float32)
    return a * xp.exp2(b)


_LN2 = math.log(2.0)
_LDEXP = defop("ldexp", "float", _ldexp_fwd,
               lambda g, out, a, b, needs: (g * b.exp2() if needs[0] else None, g * out * _LN2 if needs[1] else None),
               needs=True, save_in=(False, True), shape=elementwise_shape)
ldexp = _binary_forms(_LDEXP, "ldexp", inplace=False)
ldexp.__doc__ = "input * 2 ** other, in floating point."


def _ldexp_(self, other):
    _need_tensor("ldexp_", other, "other", 1)
    if self.dtype.category < 2:
        raise RuntimeError(f"ldexp can't be cast to the desired output type {_type_name(self.dtype)}")
    return apply_inplace(_LDEXP, self, (other,), {})


_T.ldexp_ = _ldexp_


def _nextafter_fwd(xp, a, b):
    if a.dtype == D.bfloat16.np:  # step in bfloat16's own spacing: ml_dtypes implements its nextafter
        return np.nextafter(a, b) if xp is np else xp.asarray(np.nextafter(xp.asnumpy(a), xp.asnumpy(b)))
    return xp.nextafter(a, b)


_NEXTAFTER = defop("nextafter", "promote", _bkernel("nextafter_cpu", "biuc")(_nextafter_fwd),
                   lambda g, out, a, b, needs: (g if needs[0] else None, g * 0 if needs[1] else None),
                   needs=True, save_in=(0, 0), save_out=False, shape=elementwise_shape)
nextafter = _binary_forms(_NEXTAFTER, "nextafter")
nextafter.__doc__ = "The next floating-point value after ``input`` towards ``other``."


def _frexp_fwd(xp, x, part):
    if x.dtype == D.bfloat16.np:
        m, e = xp.frexp(x.astype(np.float32))
        m = m.astype(x.dtype)
    else:
        m, e = xp.frexp(x)
    return m if part == 0 else e.astype(np.int32)


_FREXP = defop("frexp", "raw", _frexp_fwd, lambda g, out, x, part: g / _frexp_exponent(x).to(g.dtype).exp2(),
               save_out=False, shape=lambda s, part: s)
frexp_rt = return_type("frexp", ("mantissa", "exponent"))


def _frexp_exponent(x):
    return apply(_FREXP, (x.detach(),), {"part": 1})


def frexp(input, *, out=None):
    """(mantissa, exponent) with input = mantissa * 2 ** exponent and 0.5 <= |mantissa| < 1 (exponent int32)."""
    _need_tensor("frexp", input)
    if input.dtype.category != 2:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    m = apply(_FREXP, (input,), {"part": 0})
    e = _frexp_exponent(input)
    if out is not None:
        return frexp_rt(write_out(out[0], m), write_out(out[1], e))
    return frexp_rt(m, e)


_T.frexp = frexp


def _same_float_pair(name, a, b, half_ok=True):
    _need_tensor(name, a, "abs" if name == "polar" else "real", 1)
    _need_tensor(name, b, "angle" if name == "polar" else "imag", 2)
    ok = (D.float16, D.float32, D.float64)
    if a.dtype not in ok or b.dtype not in ok:
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got {_type_name(a.dtype)} "
                           f"and {_type_name(b.dtype)}")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"Expected object of scalar type {_type_name(a.dtype)} but got scalar type "
                           f"{_type_name(b.dtype)} for second argument")
    if a.dtype is D.float16:
        if name == "polar":
            raise NotImplementedError("\"polar_cpu\" not implemented for 'Half'")
        raise RuntimeError("complex(): ComplexHalf (complex32) tensors are not supported by ember")


def _complex_from(xp, re, im):
    cdt = np.complex64 if re.dtype == np.float32 else np.complex128
    out = xp.empty(np.broadcast_shapes(re.shape, im.shape), cdt)
    out.real[...] = re
    out.imag[...] = im
    return out


_COMPLEX = defop("complex", "raw", _complex_from,
                 lambda g, out, re, im, needs: (g.real if needs[0] else None, g.imag if needs[1] else None),
                 needs=True, save_in=(0, 1), save_out=False, shape=elementwise_shape)


def _polar_vjp(g, out, r, theta, needs):
    # z = r e^{i theta} from real inputs: grad_x = Re(g * conj(dz/dx)) (torch's convention)
    rot = g * _ops().complex(theta.cos(), -theta.sin())
    return (rot.real if needs[0] else None, (rot.imag * r) if needs[1] else None)


_POLAR = defop("polar", "raw", lambda xp, r, theta: _complex_from(xp, r * xp.cos(theta), r * xp.sin(theta)),
               _polar_vjp, needs=True, save_out=False, shape=elementwise_shape)


def complex(real, imag, *, out=None):
    """real + i * imag from two float tensors of the same dtype (broadcast)."""
    _same_float_pair("complex", real, imag)
    r = apply(_COMPLEX, (real, imag), {})
    return r if out is None else write_out(out, r)


def polar(abs, angle, *, out=None):
    """abs * (cos(angle) + i sin(angle)) from two float tensors of the same dtype."""
    _same_float_pair("polar", abs, angle)
    r = apply(_POLAR, (abs, angle), {})
    return r if out is None else write_out(out, r)


def _isin_fwd(xp, a, b, invert):
    return xp.isin(xp.asarray(a), xp.asarray(b), invert=invert)


_ISIN = defop("isin", "compare", _isin_fwd, shape=lambda a, b, invert: a if isinstance(a, tuple) else ())


def isin(elements, test_elements, *, assume_unique=False, invert=False, out=None):
    """Elementwise: is each of ``elements`` in ``test_elements`` (shape of ``elements``; bool)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError(f"isin() received an invalid combination of arguments - got ({type(elements).__name__}, "
                        f"{type(test_elements).__name__}), but expected one of:\n"
                        " * (Tensor elements, Tensor test_elements, *, bool assume_unique = False, bool invert = "
                        "False, Tensor out = None)\n")
    from .._dtype import result_type_of
    from ._registry import _promotion_key
    dt = result_type_of(_promotion_key((elements, test_elements)))
    if dt.category in (0, 3):
        raise RuntimeError(f"Unsupported input type encountered for isin(): {_type_name(dt)}")
    # duplicates give the right answer whatever assume_unique says, as in torch's own kernels
    r = apply(_ISIN, (elements, test_elements), {"invert": bool(invert)})
    return r if out is None else write_out(out, r)


# ---------------------------------------------------------------- splitting, indexing, combinatorics
def _dir_split(name, min_dim, dim_of):
    def f(input, indices_or_sections):
        _need_tensor(name, input)
        nd = input.dim()
        if nd < min_dim:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dim} dimension, but got a tensor "
                               f"with {nd} dimensions!")
        dim = dim_of(nd)
        s = indices_or_sections
        if isinstance(s, (int, np.integer)) and not isinstance(s, bool):
            n = input.shape[dim]
            if s == 0 or n % s:
                raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                                   f"dimension {n} is not divisible by the split_size {s}!")
            return _V.tensor_split(input, int(s), dim)
        if isinstance(s, (list, tuple, Size)):
            return _V.tensor_split(input, [int(i) for i in s], dim)
        raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, {type(s).__name__}), "
                        f"but expected one of:\n * (Tensor input, int sections)\n * (Tensor input, tuple of ints "
                        f"indices)\n")
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Split along dimension {'0 (1-D) or 1' if name == 'hsplit' else dim_of(3)} (torch.{name}; views)."
    setattr(_T, name, f)
    return f


hsplit = _dir_split("hsplit", 1, lambda nd: 0 if nd == 1 else 1)
vsplit = _dir_split("vsplit", 2, lambda nd: 0)
dsplit = _dir_split("dsplit", 3, lambda nd: 2)


def unravel_index(indices, shape):
    """Coordinate tensors (int64) for flat ``indices`` into an array of ``shape`` (row-major)."""
    if not isinstance(indices, Tensor):
        raise TypeError(f"expected 'indices' to be a Tensor, but got {type(indices)}")
    if indices.dtype.category != 1:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    elif isinstance(shape, (list, tuple, Size)):
        for s in shape:
            if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
                raise TypeError(f"expected 'shape' sequence to only contain ints, but got {type(s)}")
        shape = tuple(int(s) for s in shape)
    else:
        raise TypeError(f"expected 'shape' to be int or sequence of ints, but got {type(shape)}")
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {tuple(shape)}")
    idx = indices.to(D.int64)
    coefs = contiguous_strides(shape) if shape else ()
    # ints floor-divide and wrap like Python's // and %: out-of-range indices wrap around
    return tuple((idx // c) % n for c, n in zip(coefs, shape))


def combinations(input, r=2, with_replacement=False):
    """All length-``r`` combinations of the elements of a 1-D tensor, one per row (itertools order)."""
    _need_tensor("combinations", input)
    r = _need_int("combinations", r, "r", 2)
    if input.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    ops = _ops()
    if r == 0:
        return ops.empty((0,), dtype=input.dtype, device=input.device)
    # torch's steps: an r-dim meshgrid of the input, masked to the index tuples i0 < i1 < ... (<= with
    # replacement), whose row-major order is itertools' order; one column per grid
    idx = np.indices((input.shape[0],) * r)
    keep = np.ones(idx.shape[1:], dtype=bool)
    for k in range(r - 1):
        keep &= idx[k] <= idx[k + 1] if with_replacement else idx[k] < idx[k + 1]
    if input.device.type == "meta":  # a mask's count is data (torch has no meta masked_select): pick by index
        return ops.stack([input.index_select(0, ops.tensor(i[keep], device=input.device)) for i in idx], 1)
    grids = ops.meshgrid(*([input] * r), indexing="ij")
    mask = ops.tensor(keep, device=input.device)
    return ops.stack([g.masked_select(mask) for g in grids], 1)


def vander(x, N=None, increasing=False):
    """Powers of ``x`` as columns: x^(N-1) ... x^0 (or increasing); integer inputs give int64.

    Its graph differs from torch's on purpose: torch 2.13 writes the running product into its result in place,
    which makes its backward fail (a saved slice was modified by an inplace operation); ember's has one."""
    _need_tensor("vander", x, "x", 1)
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0]
    if N is None:
        N = n
    elif N < 0:
        raise RuntimeError("N must be non-negative.")
    if x.dtype.category < 2:
        x = x.to(D.int64)
    ops = _ops()
    if N == 0:
        return x.new_empty((n, 0))
    ones = ops.ones((n, 1), dtype=x.dtype, device=x.device)
    r = ones if N == 1 else ops.cat([ones, x.unsqueeze(1).expand(n, N - 1)], 1).cumprod(1)
    return r if increasing else r.flip(1)


def renorm(input, p, dim, maxnorm, *, out=None):
    """Each slice along ``dim`` whose p-norm exceeds ``maxnorm`` is scaled down to norm ``maxnorm``."""
    _need_tensor("renorm", input)
    p, maxnorm = _need_float("renorm", p, "p", 2), _need_float("renorm", maxnorm, "maxnorm", 4)
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {_g(maxnorm)}")
    nd = input.dim()
    if nd <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {nd} dimensions")
    d = wrap_dim(dim, nd)
    if input.dtype.category < 2:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_type_name(input.dtype)}")
    # half precision accumulates its norms in float32, as torch does
    acc = np.dtype(np.float32) if input.dtype.itemsize < 4 and input.dtype.category == 2 else None
    r = apply(_RENORM, (input,), {"p": p, "dim": d, "maxnorm": maxnorm, "acc": acc})
    return r if out is None else write_out(out, r)


def _renorm_fwd(xp, x, p, dim, maxnorm, acc):
    from .linalg_ext import _vnorm_fwd
    rest = tuple(i for i in range(x.ndim) if i != dim)
    norm = _vnorm_fwd(xp, x, p, rest, True, acc)
    with np.errstate(all="ignore"):
        factor = xp.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0).astype(norm.dtype)
    return x * factor.astype(x.real.dtype)


def _renorm_vjp(g, out, x, p, dim, maxnorm, acc):
    # slices not scaled pass g through; scaled ones: factor * (g - d|x|_p/dx * sum(x g) / (norm + 1e-7))
    from .linalg_ext import _VNORM, _vnorm_vjp
    rest = tuple(i for i in range(x.dim()) if i != dim)
    norm = apply(_VNORM, (x,), {"ord": p, "dims": rest, "keepdim": True, "npdt": acc})
    s = x.conj() * g
    if s.dtype.category == 3:
        s = s.real
    s = s.sum(rest, keepdim=True, dtype=norm.dtype)
    nb = _vnorm_vjp(s, norm, x, p, rest, True, acc)
    inv = (norm + 1e-7).reciprocal()
    return _ops().where(norm > maxnorm, inv * maxnorm * (g - inv * nb), g)


_RENORM = defop("renorm", "same", _renorm_fwd, _renorm_vjp, save_out=False, shape=lambda s, **kw: s)


def _renorm_(self, p, dim, maxnorm):
    return self.copy_(renorm(self, p, dim, maxnorm))


_T.renorm = renorm
_T.renorm_ = _renorm_


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Central differences of ``input`` along each dim (one-sided at the edges, order ``edge_order``)."""
    _need_tensor("gradient", input)
    nd = input.dim()
    if dim is None:
        dims, dim_given = list(range(nd)), False
    else:
        dims = [dim] if isinstance(dim, (int, np.integer)) else list(dim)
        dims, dim_given = [wrap_dim(int(d), nd) for d in dims], True
        seen = set()
        for d in dims:
            if d in seen:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
            seen.add(d)
    if isinstance(spacing, Tensor) and spacing.dim() == 0:
        spacing = spacing.item()
    if isinstance(spacing, (int, float, np.number)) and not isinstance(spacing, bool):
        spacings = [spacing] * len(dims)
    elif isinstance(spacing, (list, tuple)):
        spacings = list(spacing)
        if len(spacings) != len(dims):
            if dim_given:
                raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and "
                                   f"dim arguments to have the same length, but got a spacing argument of length "
                                   f"{len(spacings)} and a dim argument of length {len(dims)}.")
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar, or a list of length "
                               f"equal to 'self.dim() = {nd}', since dim argument was not given, but got a list of "
                               f"length {len(spacings)}")
        if any(isinstance(s, Tensor) for s in spacings):
            for i, s in enumerate(spacings):
                if not isinstance(s, Tensor):
                    raise TypeError(f"expected Tensor as element {i} in argument 1, but got {type(s).__name__}")
                if s.dim() != 1:
                    raise RuntimeError(f"torch.gradient expected each element of spacing to have one dimension, but "
                                       f"got an element with {s.dim()} dimensions!")
    else:
        raise TypeError(f"gradient() received an invalid combination of arguments - got (Tensor, spacing="
                        f"{type(spacing).__name__}), but expected one of:\n * (Tensor input, *, Number spacing = None, "
                        f"int dim = None, int edge_order = 1)\n * (Tensor input, *, tuple of Tensors spacing, int dim "
                        f"= None, int edge_order = 1)\n")
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    return tuple(_gradient_along(input, d, h, edge_order) for d, h in zip(dims, spacings))


def _gradient_along(x, d, h, edge_order):
    ops = _ops()
    n = x.shape[d]

    def sl(start, length):
        return x.narrow(d, start, length)

    if isinstance(h, Tensor):
        shape = [1] * x.dim()
        shape[d] = -1
        c = h.reshape(shape)

        def cs(start, length):
            return c.narrow(d, start, length)
        dx1, dx2 = cs(1, c.shape[d] - 2) - cs(0, c.shape[d] - 2), cs(2, c.shape[d] - 2) - cs(1, c.shape[d] - 2)
        a = -dx2 / (dx1 * (dx1 + dx2))
        b = (dx2 - dx1) / (dx1 * dx2)
        cc = dx1 / (dx2 * (dx1 + dx2))
        center = a * sl(0, n - 2) + b * sl(1, n - 2) + cc * sl(2, n - 2)
        m = c.shape[d]
        if edge_order == 1:
            first = (sl(1, 1) - sl(0, 1)) / (cs(1, 1) - cs(0, 1))
            last = (sl(n - 1, 1) - sl(n - 2, 1)) / (cs(m - 1, 1) - cs(m - 2, 1))
        else:
            d1, d2 = cs(1, 1) - cs(0, 1), cs(2, 1) - cs(1, 1)
            first = (-(2 * d1 + d2) / (d1 * (d1 + d2))) * sl(0, 1) + ((d1 + d2) / (d1 * d2)) * sl(1, 1) + \
                (-d1 / (d2 * (d1 + d2))) * sl(2, 1)
            d1, d2 = cs(m - 2, 1) - cs(m - 3, 1), cs(m - 1, 1) - cs(m - 2, 1)
            last = (d2 / (d1 * (d1 + d2))) * sl(n - 3, 1) + (-(d2 + d1) / (d1 * d2)) * sl(n - 2, 1) + \
                ((2 * d2 + d1) / (d2 * (d1 + d2))) * sl(n - 1, 1)
    else:
        # torch's steps, each by a Scalar (MulBackward1 / DivBackward1: no edge for the number)
        def mul(c, t):
            return apply(_MUL_SCALAR, (t, c), {})

        def div(t, c):
            return apply(_DIV_SCALAR, (t, c), {})
        center = div(div(sl(2, n - 2) - sl(0, n - 2), h), 2)
        if edge_order == 1:
            first = div(sl(1, 1) - sl(0, 1), h)
            last = div(sl(n - 1, 1) - sl(n - 2, 1), h)
        else:
            first = div(mul(-1.5, sl(0, 1)) + mul(2, sl(1, 1)) - mul(0.5, sl(2, 1)), h)
            last = div(mul(0.5, sl(n - 3, 1)) - mul(2, sl(n - 2, 1)) + mul(1.5, sl(n - 1, 1)), h)
    return ops.cat([first, center, last], d)


histogramdd_rt = return_type("histogramdd", ("hist", "bin_edges"))


def histogramdd(input, bins, *, range=None, weight=None, density=False):
    """A D-dimensional histogram of the points in the rows of ``input`` (last dim = D): (hist, bin_edges)."""
    from .sort import _HISTOGRAM_NODE, _wrap
    _need_tensor("histogramdd", input)
    nd = input.dim()
    if nd < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    dt = input.dtype
    if dt not in (D.float32, D.float64):
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{_type_name(dt)}'")
    k = input.shape[-1]
    if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
        bins = [int(bins)] * k
    bins = list(bins)
    if len(bins) != k:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost dimension of the input.")
    if weight is not None:
        if weight.dtype is not dt:
            raise RuntimeError(f"torch.histogramdd: if weight tensor is provided, input tensor and weight tensor "
                               f"should have the same dtype, but got input({_CT.get(dt.name)}), and weight("
                               f"{_CT.get(weight.dtype.name, weight.dtype.name)})")
        if tuple(weight.shape) != tuple(input.shape[:-1]):
            raise RuntimeError(f"torch.histogramdd: if weight tensor is provided it should have the same shape as the "
                               f"input tensor excluding its innermost dimension, but got input with shape "
                               f"{list(input.shape)} and weight with shape {list(weight.shape)}")
    if range is not None and len(range) != 2 * k:
        raise RuntimeError(f"torch.histogramdd: for a {k}-dimensional histogram range should have {2 * k} elements, "
                           f"but got {len(range)}")
    be = input.device.backend
    if be.is_meta:
        raise NotImplementedError("aten::histogramdd: could not run on the 'meta' device (the bin edges depend on "
                                  "the data)")
    xp = be.xp
    pts = input._data.reshape(-1, k)
    edges, flat, keep = [], None, xp.ones((pts.shape[0],), dtype=bool)
    for j, b in enumerate(bins):
        col = pts[:, j]
        if isinstance(b, Tensor):
            e = b._data.astype(dt.np)
            nb = e.size - 1
            linear = False
        else:
            nb = int(b)
            if nb <= 0:
                raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {nb} for dimension {j}")
            lo, hi = bin_range(xp, col, range[2 * j:2 * j + 2] if range is not None else None, j)
            e = _linspace(xp, lo, hi, nb + 1, dt.np)
            linear = "local"
        edges.append(e)
        pos, kj = _bin_positions(xp, col, e, nb, linear)
        full = xp.zeros((col.size,), np.int64)
        full[kj] = pos
        keep &= kj
        flat = full if flat is None else flat * nb + full
    nbins = [e.size - 1 for e in edges]
    total = int(np.prod(nbins))
    sel = flat[keep]
    if weight is None:
        hist = xp.bincount(sel, minlength=total).astype(dt.np)
    else:
        hist = xp.zeros((total,), dt.np)
        be.index_add(hist, sel, weight._data.reshape(-1)[keep])
    hist = hist.reshape(nbins)
    if density:
        s = dt.np.type(float(hist.astype(np.float64).sum()))
        with np.errstate(all="ignore"):
            hist = hist / s
            for j, e in enumerate(edges):
                shape = [1] * k
                shape[j] = -1
                hist = hist / xp.diff(e).reshape(shape)
        hist = hist.astype(dt.np)
    srcs = (input, weight) if weight is not None else (input,)
    return histogramdd_rt(_wrap(hist, input, _HISTOGRAM_NODE, srcs),
                          tuple(_wrap(e, input, _HISTOGRAM_NODE, srcs) for e in edges))


_CT = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int", "int16": "short int",
       "int8": "signed char", "uint8": "unsigned char", "bool": "bool", "float16": "c10::Half"}


_INDEX_REDUCE_WARNED = []


def _index_reduce_args(name, self, dim, index, source, reduce):
    if not _INDEX_REDUCE_WARNED:
        _INDEX_REDUCE_WARNED.append(True)
        warnings.warn("index_reduce() is in beta and the API may change at any time.", UserWarning, stacklevel=3)
    _need_tensor(name, index, "index", 3)
    _need_tensor(name, source, "source", 4)
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    nd = self.dim()
    d = wrap_dim(dim, nd)
    if index.dtype not in (D.int32, D.int64):
        raise RuntimeError(f"index_reduce_(): Expected dtype int32/int64 for index but got: {_type_name(index.dtype)}")
    if index.dim() > 1:
        raise IndexError(f"index_reduce_(): Index is supposed to be a vector, but got dim: {index.dim()} with type: "
                         f"{_type_name(index.dtype)} and size: {list(index.shape)}")
    if self.dtype is not source.dtype:
        raise RuntimeError(f"index_reduce_(): self ({_type_name(self.dtype)}) and source ({_type_name(source.dtype)}) "
                           f"must have the same scalar type")
    ss, xs = tuple(source.shape), tuple(self.shape)
    if len(ss) != len(xs) or any(a != b for i, (a, b) in enumerate(zip(ss, xs)) if i != d):
        if not (nd == 0 and len(ss) == 0):
            raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified dimension. "
                               f"Got self.shape = {list(xs)} source.shape = {list(ss)}")
    m = source.shape[d] if source.dim() else 1
    if index.numel() != m:
        raise RuntimeError(f"index_reduce_(): Number of indices ({index.numel()}) should be equal to source.size(dim): "
                           f"({m}), for dim: {d}")
    n = xs[d] if nd else 1
    if index.numel() and index.device.type != "meta":
        ih = index.detach().cpu().numpy()
        if ih.min() < 0 or ih.max() >= n:
            raise IndexError("index out of range in self")
    return d


def _index_reduce_expand(self, d, index, source):
    """index_reduce is scatter_reduce with the index repeated along every other dim."""
    if self.dim() == 0:
        return self.reshape(1), index.reshape(1).to(D.int64), source.reshape(1)
    shape = [1] * source.dim()
    shape[d] = -1
    return self, index.to(D.int64).reshape(shape).expand(source.shape), source


def index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None):
    """Reduce (prod/mean/amax/amin) slices of ``source`` into a copy of ``input`` at ``index`` along ``dim``."""
    _need_tensor("index_reduce", input)
    d = _index_reduce_args("index_reduce", input, dim, index, source, reduce)
    x, idx, src = _index_reduce_expand(input, d, index, source)
    if input.dim() == 0:
        r = x.scatter_reduce(d, idx, src, reduce, include_self=include_self).reshape(())
    else:
        r = apply(_INDEX_REDUCE, (x, idx, src),
                  {"dim": d, "reduce": reduce, "include_self": bool(include_self)})
    return r if out is None else write_out(out, r)


def _index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    d = _index_reduce_args("index_reduce_", self, dim, index, source, reduce)
    if self.dim() == 0:
        return self.copy_(index_reduce(self, dim, index, source, reduce, include_self=include_self))
    _, idx, src = _index_reduce_expand(self, d, index, source)
    from . import index as _I
    return _I._inplace_op(_INDEX_REDUCE, self, (idx, src), {"dim": d, "reduce": reduce,
                                                            "include_self": bool(include_self)},
                          _I._scatter_reduce_write)


def _index_reduce_op():
    """scatter_reduce (the index is expanded first) under torch's node name."""
    from . import index as _I
    from ._registry import renamed
    return renamed(_I._SCATTER_REDUCE, "IndexReduceBackward0")


_INDEX_REDUCE = _index_reduce_op()


_T.index_reduce = index_reduce
_T.index_reduce_ = _index_reduce_


# ---------------------------------------------------------------- *_scatter: a copy with a view region replaced
def _scatter_op(name, node):
    return defop(name, "raw", _V._view_scatter_fwd, _V._view_scatter_vjp, needs=True, save_in=False,
                 save_out=False, node=node)


_SELECT_SCATTER = _scatter_op("select_scatter", "SelectScatterBackward0")
_SLICE_SCATTER = _scatter_op("slice_scatter", "SliceScatterBackward0")
_DIAGONAL_SCATTER = _scatter_op("diagonal_scatter", "DiagonalScatterBackward0")


def _scatter_into(op, name, input, src, view_op, kw, out):
    _need_tensor(name, input)
    _need_tensor(name, src, "src", 2)
    vshape = tuple(apply(view_op, (input.detach(),), kw).shape)
    if tuple(src.shape) != vshape:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                           f"slice size = {list(vshape)}")
    r = apply(op, (input, src), {"chain": [(view_op, kw)]})
    return r if out is None else write_out(out, r)


def _select_kw(input, dim, index):
    nd = input.dim()
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, nd)
    n = input.shape[d]
    i = int(index)
    if not -n <= i < n:
        raise IndexError(f"select(): index {i} out of range for tensor of size {list(input.shape)} at dimension {d}")
    return {"dim": d, "index": i % n}


def _slice_kw(input, dim, start, end, step):
    d = wrap_dim(dim, input.dim())
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    return {"key": (slice(None),) * d + (slice(start, end, step),)}


def _diagonal_kw(input, offset, dim1, dim2):
    nd = input.dim()
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return {"offset": offset, "dim1": d1, "dim2": d2}


def select_scatter(input, src, dim, index, *, out=None):
    """A copy of ``input`` with ``input.select(dim, index)`` replaced by ``src``."""
    _need_tensor("select_scatter", input)
    return _scatter_into(_SELECT_SCATTER, "select_scatter", input, src, _V._SELECT, _select_kw(input, dim, index), out)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1, *, out=None):
    """A copy of ``input`` with the slice start:end:step along ``dim`` replaced by ``src``."""
    _need_tensor("slice_scatter", input)
    return _scatter_into(_SLICE_SCATTER, "slice_scatter", input, src, _V._GETITEM,
                         _slice_kw(input, dim, start, end, step), out)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1, *, out=None):
    """A copy of ``input`` with its diagonal (offset, dim1, dim2) replaced by ``src``."""
    _need_tensor("diagonal_scatter", input)
    return _scatter_into(_DIAGONAL_SCATTER, "diagonal_scatter", input, src, _V._DIAGONAL,
                         _diagonal_kw(input, offset, dim1, dim2), out)


def _positions(xp, size, stride, offset):
    """Storage positions (elements) of a strided view, in row-major order."""
    pos = xp.full((), offset, dtype=np.int64)
    for i, (n, s) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[i] = n
        pos = pos + xp.arange(n, dtype=np.int64).reshape(shape) * s
    return xp.broadcast_to(pos, tuple(size)).reshape(-1)


def _ass_fwd(xp, x, src, size, stride, offset, geom):
    # as torch: the view is laid over the input's storage, so positions are relative to x's own geometry
    in_off, in_stride, length = geom
    buf = xp.zeros((length,), x.dtype)
    px = _positions(xp, x.shape, in_stride, in_off)
    buf[px] = x.reshape(-1)
    buf[_positions(xp, size, stride, offset)] = src.reshape(-1).astype(x.dtype)
    return buf[px].reshape(x.shape)


def _ass_maps(g, size, stride, offset, geom):
    """(mask of input elements the scatter overwrote, input element each src element reads its gradient from
    (-1: none, or a later src element won the overlap))."""
    in_off, in_stride, length = geom
    px = _positions(np, tuple(g.shape), in_stride, in_off)
    pv = _positions(np, size, stride, offset)
    where_x = np.full((length,), -1, np.int64)
    where_x[px] = np.arange(px.size)
    written = np.zeros((length,), bool)
    written[pv] = True
    last = np.full((length,), -1, np.int64)
    last[pv] = np.arange(pv.size)  # the last writer of a position wins, as in the forward
    src_from = np.where(last[pv] == np.arange(pv.size), where_x[pv], -1)
    return written[px], src_from


def _ass_vjp(g, out, x, src, needs, size, stride, offset, geom):
    ops = _ops()
    overwritten, src_from = _ass_maps(g, size, stride, offset, geom)
    dev = g.device
    gx = gs = None
    if needs[0]:
        gx = g * ops.tensor(~overwritten, device=dev).reshape(g.shape)
    if needs[1]:
        pick = ops.tensor(np.maximum(src_from, 0), device=dev)
        gs = (g.reshape(-1).index_select(0, pick) * ops.tensor(src_from >= 0, device=dev)).reshape(size)
    return gx, gs


_AS_STRIDED_SCATTER = defop("as_strided_scatter", "raw", _ass_fwd, _ass_vjp, needs=True, save_in=False,
                            save_out=False, node="AsStridedScatterBackward0")


def as_strided_scatter(input, src, size, stride, storage_offset=None, *, out=None):
    """A copy of ``input`` with ``input.as_strided(size, stride, storage_offset)`` replaced by ``src``."""
    _need_tensor("as_strided_scatter", input)
    _need_tensor("as_strided_scatter", src, "src", 2)
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    off = input.storage_offset() if storage_offset is None else int(storage_offset)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    isz = input.dtype.itemsize
    have = input.untyped_storage().nbytes() // isz
    need = off + sum((n - 1) * s for n, s in zip(size, stride)) + 1 if all(size) else 0
    if need > have:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {off}, and "
                           f"itemsize {isz} requiring a storage size of {need * isz} are out of bounds for storage of "
                           f"size {have * isz}")
    if tuple(src.shape) != size:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                           f"slice size = {list(size)}")
    in_off, in_stride = input.storage_offset(), tuple(input.stride())
    length = max(have, need, in_off + sum((n - 1) * s for n, s in zip(input.shape, in_stride)) + 1)
    kw = {"size": size, "stride": stride, "offset": off, "geom": (in_off, in_stride, length)}
    r = apply(_AS_STRIDED_SCATTER, (input, src), kw)
    return r if out is None else write_out(out, r)


for _n, _f in (("select_scatter", select_scatter), ("slice_scatter", slice_scatter),
               ("diagonal_scatter", diagonal_scatter), ("as_strided_scatter", as_strided_scatter)):
    setattr(_T, _n, _f)


# ---------------------------------------------------------------- *_copy: the view ops' results in new memory
_COPY_OPS = {}


def _materialize(v, node, src, memo=None):
    """The values of view ``v`` of ``src`` in fresh contiguous memory, with torch's one-node graph: the grad_fn
    is the view's own backward under the *_copy name (``ViewBackward0_copy``), its edges straight to ``src``'s.
    ``memo`` shares one node among the pieces of a multi-output view (split_copy, unbind_copy)."""
    op = _COPY_OPS.get(node)
    if op is None:
        op = _COPY_OPS[node] = defop("copy:" + node, "raw", lambda xp, x: x.copy(), lambda g, out, x: g,
                                     save_in=False, save_out=False, shape=lambda s: s, node=node)
    r = apply(op, (v,), {})
    fn = v.grad_fn
    if r.grad_fn is not None and _edge_to(fn, src):
        c = memo.get(fn) if memo is not None else None
        if c is None:
            c = _node_renamed(fn, node)
            if memo is not None:
                memo[fn] = c
        r.grad_fn, r._output_nr = c, v._output_nr
    return r


def _edge_to(fn, src):
    """Whether node ``fn`` has a single edge and it leads to ``src`` (``fn`` is one view op applied to it)."""
    if fn is None or fn is src.grad_fn or len(fn.edges) != 1 or fn.edges[0] is None:
        return False
    e = edge_of(src)
    return e is not None and fn.edges[0][0] is e[0] and fn.edges[0][1] == e[1]


_RENAMED_VIEWS = {}  # (view op, *_copy node name) -> the op under that name


def _node_renamed(fn, node):
    """A copy of node ``fn`` (same op, saved state and edges) whose class and name are ``node``."""
    key = (fn.op, node)
    op = _RENAMED_VIEWS.get(key)
    if op is None:
        # split/unbind share a multi-output node whose op is not an Op
        op = _RENAMED_VIEWS[key] = renamed(fn.op, node, saved=False) if isinstance(fn.op, Op) else \
            type(fn.op)(fn.op.name, node)
    c = object.__new__(node_class(op))
    c.op, c.inputs, c.kw, c.out, c.versions = op, fn.inputs, fn.kw, fn.out, fn.versions
    c.edges, c.metas, c.seq = fn.edges, fn.metas, fn.seq
    return c


def _out(r, out):
    return r if out is None else write_out(out, r)


def _outs(rs, out):
    if out is None:
        return rs
    for o, r in zip(out, rs):
        write_out(o, r)
    return None


def view_copy(input, size, *, out=None):
    """``input.view(size)`` (or ``.view(dtype)``) copied into new memory."""
    _need_tensor("view_copy", input)
    if isinstance(size, D.dtype):
        return _out(_materialize(_V.view_dtype(input, size), "ViewBackward0_copy", input), out)
    # torch's view_copy reshapes: it also takes layouts a view could not, still as one node
    shape = _V.infer_size(_V._shape_arg((size,)), input._data.size)
    return _out(apply(_VIEW_COPY, (input,), {"shape": shape}), out)


_VIEW_COPY = defop("view_copy", "raw", lambda xp, x, shape: xp.reshape(x, shape).copy(),
                   lambda g, out, x, shape: g.reshape(x.shape), save_in=(None,), save_out=False, arrays=True,
                   shape=lambda s, shape: shape, node="ViewBackward0_copy")


def expand_copy(input, size, *, implicit=False, out=None):
    """``input.expand(size)`` in new memory."""
    _need_tensor("expand_copy", input)
    return _out(_materialize(_V.expand(input, size), "ExpandBackward0_copy", input), out)


def permute_copy(input, dims, *, out=None):
    """``input.permute(dims)`` in new memory."""
    _need_tensor("permute_copy", input)
    return _out(_materialize(_V.permute(input, dims), "PermuteBackward0_copy", input), out)


def t_copy(input, *, out=None):
    """``input.t()`` in new memory."""
    _need_tensor("t_copy", input)
    return _out(_materialize(_V.t(input), "TBackward0_copy", input), out)


def transpose_copy(input, dim0, dim1, *, out=None):
    """``input.transpose(dim0, dim1)`` in new memory."""
    _need_tensor("transpose_copy", input)
    return _out(_materialize(_V.transpose(input, dim0, dim1), "TransposeBackward0_copy", input), out)


def squeeze_copy(input, dim=None, *, out=None):
    """``input.squeeze(dim)`` in new memory."""
    _need_tensor("squeeze_copy", input)
    # torch numbers the overloads: all dims 0, one dim 1, a tuple of dims 2
    node = "SqueezeBackward0_copy" if dim is None else \
        "SqueezeBackward2_copy" if isinstance(dim, (tuple, list)) else "SqueezeBackward1_copy"
    return _out(_materialize(_V.squeeze(input, dim), node, input), out)


def unsqueeze_copy(input, dim, *, out=None):
    """``input.unsqueeze(dim)`` in new memory."""
    _need_tensor("unsqueeze_copy", input)
    return _out(_materialize(_V.unsqueeze(input, dim), "UnsqueezeBackward0_copy", input), out)


def select_copy(input, dim, index, *, out=None):
    """``input.select(dim, index)`` in new memory."""
    _need_tensor("select_copy", input)
    return _out(_materialize(_V.select(input, dim, index), "SelectBackward0_copy", input), out)


def slice_copy(input, dim=0, start=None, end=None, step=1, *, out=None):
    """``input[start:end:step]`` along ``dim``, in new memory."""
    _need_tensor("slice_copy", input)
    v = apply(_V._GETITEM, (input,), _slice_kw(input, dim, start, end, step))
    return _out(_materialize(v, "SliceBackward0_copy", input), out)


def diagonal_copy(input, offset=0, dim1=0, dim2=1, *, out=None):
    """``input.diagonal(offset, dim1, dim2)`` in new memory."""
    _need_tensor("diagonal_copy", input)
    return _out(_materialize(_V.diagonal(input, offset, dim1, dim2), "DiagonalBackward0_copy", input), out)


def _no_derivative(name):
    def vjp(g, out, x):
        raise RuntimeError(f"derivative for aten::{name} is not implemented")
    return vjp


_DETACH_COPY = defop("detach_copy", "raw", lambda xp, x: x.copy(), _no_derivative("detach_copy"), save_in=False,
                     save_out=False, shape=lambda s: s, node="torch::autograd::NotImplemented")


def detach_copy(input, *, out=None):
    """A copy of ``input`` (torch keeps requires_grad on it but cannot differentiate it)."""
    _need_tensor("detach_copy", input)
    return _out(apply(_DETACH_COPY, (input,), {}), out)


def unfold_copy(input, dimension, size, step, *, out=None):
    """``input.unfold(dimension, size, step)`` in new memory."""
    _need_tensor("unfold_copy", input)
    return _out(_materialize(_V.unfold(input, dimension, size, step), "UnfoldBackward0_copy", input), out)


def alias_copy(input, *, out=None):
    """A copy of ``input`` (the *_copy form of an alias)."""
    _need_tensor("alias_copy", input)
    return _out(_materialize(apply(_V._ALIAS, (input,), {}), "AliasBackward0_copy", input), out)


def split_copy(input, split_size, dim=0, *, out=None):
    """``input.split(split_size, dim)``, each piece in new memory."""
    _need_tensor("split_copy", input)
    memo = {}
    return _outs(tuple(_materialize(p, "SplitBackward0_copy", input, memo)
                       for p in _V.split(input, split_size, dim)), out)


def split_with_sizes_copy(input, split_sizes, dim=0, *, out=None):
    """``input.split(split_sizes, dim)``, each piece in new memory."""
    _need_tensor("split_with_sizes_copy", input)
    memo = {}
    return _outs(tuple(_materialize(p, "SplitWithSizesBackward0_copy", input, memo)
                       for p in split_with_sizes(input, split_sizes, dim)), out)


def unbind_copy(input, dim=0, *, out=None):
    """``input.unbind(dim)``, each slice in new memory."""
    _need_tensor("unbind_copy", input)
    memo = {}
    return _outs(tuple(_materialize(p, "UnbindBackward0_copy", input, memo) for p in _V.unbind(input, dim)), out)


def view_as_real_copy(input, *, out=None):
    """``view_as_real(input)`` in new memory."""
    _need_tensor("view_as_real_copy", input)
    return _out(_materialize(_V.view_as_real(input), "ViewAsRealBackward0_copy", input), out)


def view_as_complex_copy(input, *, out=None):
    """``view_as_complex(input)`` in new memory."""
    _need_tensor("view_as_complex_copy", input)
    if input.requires_grad and grad_mode.state.enabled:
        raise RuntimeError("view_as_complex_copy does not support automatic differentiation for outputs with complex "
                           "dtype.")
    return _out(_materialize(_V.view_as_complex(input), "ViewAsComplexBackward0_copy", input), out)


def as_strided_copy(input, size, stride, storage_offset=None, *, out=None):
    """``input.as_strided(size, stride, storage_offset)`` in new memory."""
    _need_tensor("as_strided_copy", input)
    v = _V.as_strided(input, size, stride, storage_offset)
    return _out(_materialize(v, "AsStridedBackward0_copy", input), out)


def narrow_copy(input, dim, start, length, *, out=None):
    """``input.narrow(dim, start, length)`` in new memory."""
    _need_tensor("narrow_copy", input)
    return _out(_materialize(_V.narrow(input, dim, start, length), "NarrowCopyBackward0", input), out)


_T.narrow_copy = lambda self, dim, start, length: narrow_copy(self, dim, start, length)


# ---------------------------------------------------------------- factories
def _size_tuple(name, v, arg, pos):
    if not isinstance(v, (tuple, list, Size)):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be tuple of ints, not {type(v).__name__}")
    out = []
    for s in v:
        if isinstance(s, Tensor):
            s = s.item()
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be tuple of ints, but found element of "
                            f"type {type(s).__name__} at pos {len(out)}")
        out.append(int(s))
    return tuple(out)


def _new_tensor(arr, dev, requires_grad, storage=None):
    t = Tensor._make(arr, dev, storage)
    if requires_grad:
        if t.dtype.category < 2:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t.requires_grad_(True)
    return t


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """An uninitialised tensor with the given sizes and strides (in elements)."""
    size = _size_tuple("empty_strided", size, "size", 1)
    stride = _size_tuple("empty_strided", stride, "stride", 2)
    if len(size) != len(stride):
        raise RuntimeError(f"dimensionality of sizes ({len(size)}) must match dimensionality of strides "
                           f"({len(stride)})")
    for s in size:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and strides={list(stride)}")
    dt = D.to_dtype(dtype) if dtype is not None else D.get_default_dtype()
    dev = to_device(device)
    be = dev.backend
    n = 1 + sum((a - 1) * s for a, s in zip(size, stride)) if all(size) else 0
    buf = be.empty((n,), dt.np)
    st = tuple(s * dt.itemsize for s in stride)
    if be.is_meta:
        arr = np.lib.stride_tricks.as_strided(buf, size, st, writeable=False)
    else:
        arr = be.xp.lib.stride_tricks.as_strided(buf, size, st)
    # as_strided hides ``buf`` from .base chains: name the storage explicitly so its size is the allocation's
    return _new_tensor(arr, dev, requires_grad, UntypedStorage(buf, dev))


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad=False,
                   pin_memory=False):
    """An uninitialised tensor whose memory holds its dims in the order ``physical_layout``."""
    size = _size_tuple("empty_permuted", size, "size", 1)
    perm = _size_tuple("empty_permuted", physical_layout, "physical_layout", 2)
    n = len(size)
    if len(perm) != n:
        raise RuntimeError(f"Number of dimensions in size does not match the length of the physical_layout; i.e. "
                           f"len(size) = {n} is not equal to len(physical_layout) = {len(perm)}")
    seen = set()
    for i, d in enumerate(perm):
        if not 0 <= d < n:
            raise RuntimeError(f"Dimension out of range (expected to be between 0 and {n - 1}, but got {d} at index "
                               f"{i}).  NB: negative dims not currently supported; file an issue if you want it.")
        if d in seen:
            raise RuntimeError("Duplicate dim not allowed")
        seen.add(d)
    for s in size:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    dt = D.to_dtype(dtype) if dtype is not None else D.get_default_dtype()
    dev = to_device(device)
    phys = dev.backend.empty(tuple(size[d] for d in perm), dt.np)
    arr = phys.transpose(tuple(int(i) for i in np.argsort(perm)))
    return _new_tensor(arr, dev, requires_grad)


_T.new_empty_strided = lambda self, size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, \
    pin_memory=False: empty_strided(size, stride, dtype=dtype or self.dtype,
                                    device=device if device is not None else self.device, requires_grad=requires_grad)


_FROMBUFFER_WARNED = []


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D CPU tensor sharing the memory of a Python buffer (bytes, bytearray, array, memoryview, ...)."""
    try:
        mv = memoryview(buffer)
    except TypeError:
        raise ValueError("object does not implement Python buffer protocol.") from None
    dt = D.to_dtype(dtype)
    length, isz = mv.nbytes, dt.itemsize
    if length <= 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if offset < 0 or offset >= length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than buffer length ({length} "
                         f"bytes) minus 1")
    if count < 0:
        if (length - offset) % isz:
            raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} bytes) must be a "
                             f"multiple of element size ({isz})")
        count = (length - offset) // isz
    elif offset + count * isz > length:
        raise ValueError(f"requested buffer length ({count} * {isz} bytes) after offset ({offset} bytes) must not be "
                         f"greater than actual buffer length ({length} bytes)")
    if mv.readonly and not _FROMBUFFER_WARNED:
        _FROMBUFFER_WARNED.append(True)
        warnings.warn("The given buffer is not writable, and PyTorch does not support non-writable tensors. This "
                      "means you can write to the underlying (supposedly non-writable) buffer using the tensor. You "
                      "may want to copy the buffer to protect its data or make it writable before converting it to a "
                      "tensor. This type of warning will be suppressed for the rest of this program.", UserWarning,
                      stacklevel=2)
    arr = np.frombuffer(mv.cast("B") if mv.ndim != 1 or mv.format != "B" else mv, dtype=dt.np, count=count,
                        offset=offset)
    return _new_tensor(arr, _devmod.CPU, requires_grad)


# ---------------------------------------------------------------- global switches
def set_default_device(device):
    """Make factories (zeros, tensor, arange, randn, ...) allocate on ``device`` by default (None: CPU)."""
    if device is None:
        d = _devmod.CPU
    elif isinstance(device, _devmod.device):
        d = device
    else:
        d = _devmod.device(device)
    _devmod._default[0] = d


def get_default_device():
    """The device factories allocate on by default (set by set_default_device or ``with ember.device(...)``)."""
    d = _devmod._default[0]
    if d.type == "cuda" and d.index is None:
        return to_device(d)
    return d


_WARN_ALWAYS = [False]


def set_warn_always(b, /):
    """Ask warnings that torch gives once per process to be given every time (a flag read by such warnings)."""
    if not isinstance(b, bool):
        raise RuntimeError(f"setWarnOnlyOnce expects a bool, but got {type(b).__name__}")
    _WARN_ALWAYS[0] = b


def is_warn_always_enabled():
    """Whether set_warn_always(True) is in effect."""
    return _WARN_ALWAYS[0]


def set_anomaly_enabled(enabled, check_nan=True):
    """Turn autograd anomaly detection on or off (as ``ember.autograd.set_detect_anomaly``)."""
    _need_bool("set_anomaly_enabled", enabled, "enabled", 1)
    _need_bool("set_anomaly_enabled", check_nan, "check_nan", 2)
    _anomaly.state.enabled, _anomaly.state.check_nan = bool(enabled), bool(check_nan)


def is_anomaly_enabled():
    """Whether autograd anomaly detection is on."""
    return _anomaly.state.enabled


def is_anomaly_check_nan_enabled():
    """Whether anomaly detection also checks backward results for NaN."""
    return _anomaly.state.check_nan


# ---------------------------------------------------------------- exports
_ALIASES = dict(absolute="abs", arccos="acos", arcsin="asin", arctan="atan", arccosh="acosh", arcsinh="asinh",
                arctanh="atanh", negative="neg", fix="trunc")


def _exports():
    ops = _ops()
    out = {}
    for alias, name in _ALIASES.items():
        out[alias] = _alias_fn(alias, getattr(ops, name))
    for name in _INPLACE:
        out[name] = _function_form(name)
    return out


FUNCS.update(_exports())
FUNCS.update(
    detach=detach, is_neg=is_neg, is_inference=is_inference, is_same_size=is_same_size, is_signed=is_signed,
    get_device=get_device, ravel=ravel, split_with_sizes=split_with_sizes, unsafe_split=unsafe_split,
    unsafe_split_with_sizes=unsafe_split_with_sizes, unsafe_chunk=unsafe_chunk, typename=typename,
    is_storage=is_storage, isreal=isreal, nonzero_static=nonzero_static, is_distributed=is_distributed,
    conv_tbc=conv_tbc, softmax=softmax, log_softmax=log_softmax, batch_norm=batch_norm,
    instance_norm=instance_norm, embedding=embedding, embedding_bag=embedding_bag, bilinear=bilinear, kl_div=kl_div,
    cosine_embedding_loss=cosine_embedding_loss, hinge_embedding_loss=hinge_embedding_loss,
    margin_ranking_loss=margin_ranking_loss, poisson_nll_loss=poisson_nll_loss,
    triplet_margin_loss=triplet_margin_loss, ctc_loss=ctc_loss,
    binary_cross_entropy_with_logits=binary_cross_entropy_with_logits, constant_pad_nd=constant_pad_nd,
    grid_sampler=grid_sampler, adaptive_max_pool1d=adaptive_max_pool1d, embedding_renorm_=embedding_renorm_,
    broadcast_shapes=broadcast_shapes, broadcast_tensors=broadcast_tensors, broadcast_to=broadcast_to,
    atleast_1d=atleast_1d, atleast_2d=atleast_2d, atleast_3d=atleast_3d, gcd=gcd, lcm=lcm, ldexp=ldexp,
    nextafter=nextafter, frexp=frexp, complex=complex, polar=polar, isin=isin, hsplit=hsplit, vsplit=vsplit,
    dsplit=dsplit, unravel_index=unravel_index, combinations=combinations, vander=vander, renorm=renorm,
    gradient=gradient, histogramdd=histogramdd, index_reduce=index_reduce, select_scatter=select_scatter,
    slice_scatter=slice_scatter, diagonal_scatter=diagonal_scatter, as_strided_scatter=as_strided_scatter,
    view_copy=view_copy, expand_copy=expand_copy, permute_copy=permute_copy, t_copy=t_copy,
    transpose_copy=transpose_copy, squeeze_copy=squeeze_copy, unsqueeze_copy=unsqueeze_copy, select_copy=select_copy,
    slice_copy=slice_copy, diagonal_copy=diagonal_copy, detach_copy=detach_copy, unfold_copy=unfold_copy,
    alias_copy=alias_copy, split_copy=split_copy, unbind_copy=unbind_copy, view_as_real_copy=view_as_real_copy,
    view_as_complex_copy=view_as_complex_copy, as_strided_copy=as_strided_copy, narrow_copy=narrow_copy,
    split_with_sizes_copy=split_with_sizes_copy, empty_strided=empty_strided, empty_permuted=empty_permuted,
    frombuffer=frombuffer, set_default_device=set_default_device, get_default_device=get_default_device,
    set_warn_always=set_warn_always, is_warn_always_enabled=is_warn_always_enabled,
    set_anomaly_enabled=set_anomaly_enabled, is_anomaly_enabled=is_anomaly_enabled,
    is_anomaly_check_nan_enabled=is_anomaly_check_nan_enabled)
