"""ember.nn.functional: the functional forms of layers and losses (``import ember.nn.functional as F``).

Signatures, defaults, dtypes and error messages follow torch.nn.functional. Heavy ops (convolution,
pooling, normalisation, interpolation, embedding, CTC, grid sampling) are single fused ops from
``ember.ops.nn_ops``; the rest are short compositions of ember ops, so autograd covers them.
"""
import math
import numbers
import warnings

import numpy as np

from .. import _dtype as D
from .. import _memory_format as _MF
from .._tensor import Tensor
from ..autograd import grad_mode
from ..ops import loss_ops as _L, nn_ops as _N
from ..ops._registry import _type_name, apply, apply_inplace


def _ops():
    from .. import ops
    return ops


def _linalg():
    from .. import linalg
    return linalg


def _bshape(a, b):
    """torch's broadcast of two shapes (its error message on mismatch)."""
    a, b = tuple(a), tuple(b)
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for i, (p, q) in enumerate(zip(a, b)):
        if p != q and p != 1 and q != 1:
            raise RuntimeError(f"The size of tensor a ({p}) must match the size of tensor b ({q}) at non-singleton "
                               f"dimension {i}")
        out.append(q if p == 1 else p)
    return tuple(out)


def _no_grad_arg(fname, arg, t):
    if isinstance(t, Tensor) and t._rg and grad_mode.state.enabled:
        raise RuntimeError(f"The function '{fname}' is not differentiable with respect to argument '{arg}'. This input "
                           f"cannot have requires_grad True.")


def _is_tensor(x):
    return isinstance(x, Tensor)


def _need_tensor(fname, x, arg="input", pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")


def _size_str(shape):
    return f"torch.Size({list(shape)})"


def _tname(t):
    return _type_name(t.dtype)


def _finfo_eps(dt):
    return float(np.finfo(dt.np).eps) if dt.category == 2 and dt.name != "bfloat16" else 0.0078125


# ---------------------------------------------------------------- linear and softmax
def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` (torch.nn.functional.linear)."""
    return _N.linear(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    """``y[..., k] = input1 @ weight[k] @ input2 (+ bias[k])``."""
    y = _ops().einsum("...i,kij,...j->...k", input1, weight, input2)
    return y + bias if bias is not None else y


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim`` (computed stably)."""
    return _N.softmax_like(_N.SOFTMAX, "softmax", input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim``, without forming softmax (stable for large logits)."""
    return _N.softmax_like(_N.LOG_SOFTMAX, "log_softmax", input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    return softmax(-input, dim, dtype=dtype)


# ---------------------------------------------------------------- activations
def _act(op, input, kw, inplace=False):
    if inplace:
        return apply_inplace(op, input, (), kw)
    return apply(op, (input,), kw)


def relu(input, inplace=False):
    """max(input, 0)."""
    return input.relu_() if inplace else input.relu()


def relu_(input):
    """In-place ``relu``."""
    return input.relu_()


def sigmoid(input):
    """1 / (1 + exp(-x))."""
    return input.sigmoid()


def tanh(input):
    """Hyperbolic tangent."""
    return input.tanh()


def gelu(input, approximate="none"):
    """x * Phi(x) (exact, or the tanh approximation)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _N.gelu(input, approximate)


def silu(input, inplace=False):
    """x * sigmoid(x)."""
    return _act(_N.SILU, input, {}, inplace)


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    return _act(_N.MISH, input, {}, inplace)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold."""
    return apply(_N.SOFTPLUS, (input,), {"beta": beta, "threshold": threshold})


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0 else alpha (exp(x) - 1)."""
    return _act(_N.ELU, input, {"alpha": alpha, "scale": 1.0, "input_scale": 1.0}, inplace)


def elu_(input, alpha=1.0):
    """In-place ``elu``."""
    return elu(input, alpha, True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants."""
    return _act(_N.ELU, input, {"alpha": _SELU_ALPHA, "scale": _SELU_SCALE, "input_scale": 1.0}, inplace)


def selu_(input):
    """In-place ``selu``."""
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _act(_N.CELU, input, {"alpha": alpha, "scale": 1.0, "input_scale": 1.0 / alpha}, inplace)


def celu_(input, alpha=1.0):
    """In-place ``celu``."""
    return celu(input, alpha, True)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0 else negative_slope * x."""
    return _act(_N.LEAKY_RELU, input, {"slope": negative_slope}, inplace)


def leaky_relu_(input, negative_slope=0.01):
    """In-place ``leaky_relu``."""
    return leaky_relu(input, negative_slope, True)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """Clamp to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _act(_N.HARDTANH, input, {"lo": min_val, "hi": max_val}, inplace)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place ``hardtanh``."""
    return hardtanh(input, min_val, max_val, True)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6."""
    return _act(_N.HARDSIGMOID, input, {}, inplace)


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    return _act(_N.HARDSWISH, input, {}, inplace)


def logsigmoid(input):
    """log(sigmoid(x)), stable for large |x|."""
    return apply(_N.LOGSIGMOID, (input,), {})


def softsign(input):
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def tanhshrink(input):
    """x - tanh(x)."""
    return input - input.tanh()


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    return apply(_N.HARDSHRINK, (input,), {"lambd": lambd})


def softshrink(input, lambd=0.5):
    """x - lambd, x + lambd or 0 (shrinks toward 0 by lambd)."""
    if lambd < 0 and input.dtype.category == 2:
        mx = float(np.finfo(input.dtype.np).max) if input.dtype.name != "bfloat16" else 3.38953e+38
        raise RuntimeError(f"lambda must be in range [0, {mx:g}] for input dtype {_tname(input)}, but found "
                           f"{lambd:g}")
    return apply(_N.SOFTSHRINK, (input,), {"lambd": lambd})


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value."""
    return _act(_N.THRESHOLD, input, {"threshold": threshold, "value": value}, inplace)


def threshold_(input, threshold, value):
    """In-place ``threshold``."""
    return _act(_N.THRESHOLD, input, {"threshold": threshold, "value": value}, True)


def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the two halves of ``input`` along ``dim``."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim + input.dim() if dim < 0 else dim
    if not 0 <= d < input.dim():
        raise IndexError(f"Dimension out of range (expected to be in range of [{-input.dim()}, {input.dim() - 1}], "
                         f"but got {dim})")
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {input.shape[d]}")
    return apply(_N.GLU, (input,), {"dim": d})


def prelu(input, weight):
    """x for x > 0 else weight * x, with one weight per channel (dim 1) or a single shared one."""
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    nw = weight.numel()
    nd = input.dim()
    if nw != 1:
        ch = input.shape[1] if nd >= 2 else 1
        if nw != ch:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{nw} and channel size = {ch}.")
    wshape = tuple(nw if (i == 1 and nw != 1) else 1 for i in range(nd))
    return apply(_N.PRELU, (input, weight), {"wshape": wshape})


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky relu with a random slope in [lower, upper] per element when training ((lower+upper)/2 otherwise)."""
    if input.dtype.category != 2:
        raise NotImplementedError(f"\"leaky_relu_cpu\" not implemented for '{_tname(input)}'")
    ops = _ops()
    with grad_mode.no_grad():
        neg = input <= 0
        if training:
            noise = ops.ones_like(input)
            k = int(neg.sum().item()) if input.device.type != "meta" else 0
            if k:
                r = ops.empty(k, dtype=D.float64, device=input.device).uniform_(lower, upper).to(input.dtype)
                noise[neg] = r
        else:
            noise = ops.where(neg, ops.full((), (lower + upper) / 2, dtype=input.dtype, device=input.device),
                              ops.ones((), dtype=input.dtype, device=input.device))
    if inplace:
        return apply_inplace(_N.RRELU, input, (noise,), {})
    return apply(_N.RRELU, (input, noise), {})


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """In-place ``rrelu``."""
    return rrelu(input, lower, upper, training, True)


# ---------------------------------------------------------------- dropout family (ember's RNG, as torch draws it)
_ALPHA = 1.7580993408473766


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_impl(input, p, train, inplace, feature=False, alpha=False):
    if p == 0 or not train or input.numel() == 0:
        return input
    if feature and input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    ops = _ops()
    if p == 1:
        z = ops.zeros((), dtype=input.dtype, device=input.device)
        return input.mul_(z) if inplace else input * z
    with grad_mode.no_grad():
        if feature:
            shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
            noise = ops.empty(shape, dtype=input.dtype, device=input.device)
        else:
            noise = ops.empty_like(input)
        noise.bernoulli_(1 - p)
        if alpha:
            a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
            b = noise.add(-1).mul_(_ALPHA * a).add_(_ALPHA * a * p)
            noise.mul_(a)
        else:
            noise.div_(1 - p)
    if alpha:
        return input.mul_(noise).add_(b) if inplace else input * noise + b
    return input.mul_(noise) if inplace else input * noise


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p) (when training)."""
    _check_p(p)
    return _dropout_impl(input, p, training, inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps the mean and variance of SELU activations."""
    _check_p(p)
    return _dropout_impl(input, p, training, inplace, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels."""
    _check_p(p)
    return _dropout_impl(input, p, training, inplace, feature=True, alpha=True)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) inputs."""
    _check_p(p)
    nd = input.dim()
    if nd not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that dropout1d "
                           f"exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel "
                           f"dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    if nd == 2:
        r = _dropout_impl(input.unsqueeze(0), p, training, inplace, feature=True)
        return r.squeeze(0) if not inplace else input
    return _dropout_impl(input, p, training, inplace, feature=True)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) or (C, H, W) inputs."""
    _check_p(p)
    nd = input.dim()
    if nd not in (3, 4):
        warnings.warn(f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will result in an "
                      f"error in a future release. To retain the behavior and silence this warning, please use "
                      f"dropout instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      f"spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D "
                      f"inputs).", stacklevel=2)
    if nd == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please "
                      "switch to using dropout1d instead.", stacklevel=2)
    return _dropout_impl(input, p, training, inplace, feature=True)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs."""
    _check_p(p)
    nd = input.dim()
    if nd not in (4, 5):
        warnings.warn(f"dropout3d: Received a {nd}-D input to dropout3d, which is deprecated and will result in an "
                      f"error in a future release. To retain the behavior and silence this warning, please use "
                      f"dropout instead. Note that dropout3d exists to provide channel-wise dropout on inputs with 3 "
                      f"spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or 5D "
                      f"inputs).", stacklevel=2)
    if nd != 5:
        r = _dropout_impl(input.unsqueeze(0), p, training, inplace, feature=True)
        return r.squeeze(0) if not inplace else input
    return _dropout_impl(input, p, training, inplace, feature=True)


# ---------------------------------------------------------------- argument helpers
_WORD = {1: "one", 2: "two", 3: "three"}


def _expand(v, n):
    if isinstance(v, Tensor):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        v = tuple(int(a) for a in v)
        return v * n if len(v) == 1 else v
    return (int(v),) * n


def _pair(v):
    return _expand(v, 2)


def _ctype(dt):
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
            "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
            "uint8": "unsigned char", "bool": "bool", "complex64": "c10::complex<float>",
            "complex128": "c10::complex<double>"}.get(dt.name, dt.name)


def _legacy_type(dt):
    return f"torch.{_type_name(dt)}Tensor"


# ---------------------------------------------------------------- convolution
def _conv_common(fname, n, input, weight, stride, dilation, transposed):
    _need_tensor(fname, input)
    _need_tensor(fname, weight, "weight", 2)
    nd = input.dim()
    if nd not in (n + 1, n + 2):
        raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to {fname}, but got input of "
                           f"size: {list(input.shape)}")
    nw = weight.dim() - 2
    st, dl = _expand(stride, n), _expand(dilation, n)
    for name, v in (("stride", st), ("dilation", dl)):
        if len(v) != nw:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {nw} values to match the "
                               f"convolution dimensions, but got {name}={list(v)}")
    return st, dl


def _no_bool_conv(n, x):
    if x.dtype.category == 0:
        raise NotImplementedError(f"\"slow_conv{3 if n == 3 else 2}d_cpu\" not implemented for 'Bool'")


def _conv_checks(st, pd, dl, groups):
    if any(s <= 0 for s in st):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for p in pd):
        raise RuntimeError("negative padding is not supported")
    if any(d <= 0 for d in dl):
        raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")


def _dtype_checks(input, weight, bias, groups):
    if input.dtype is not weight.dtype:
        # torch's message depends on the kernel it picks: its oneDNN path (batches, groups) words it differently
        if input.dtype is D.float32 and (input.shape[0] > 1 or groups > 1):
            raise RuntimeError(f"Input type ({_legacy_type(input.dtype)}) and weight type "
                               f"({_legacy_type(weight.dtype)}) should be the same or input should be a MKLDNN "
                               f"tensor and weight is a dense tensor")
        raise RuntimeError(f"expected scalar type {_type_name(input.dtype)} but found {_type_name(weight.dtype)}")
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(f"Input type ({_ctype(input.dtype)}) and bias type ({_ctype(bias.dtype)}) should be the "
                           f"same")


_WARNED_SAME = []


def _conv_weight_groups_check(weight, groups):
    if weight.shape[0] < groups:  # a weight with no output (input, transposed) channels
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got "
                           f"weight of size {list(weight.shape)} instead")


def _conv_empty_check(n, x):
    # torch's kernels take an empty batch or no channels; any other empty dim is an error (shape as its 2-D view)
    if x.numel() == 0 and x.shape[0] and x.shape[1]:
        shape = list(x.shape[:2]) + [1] + list(x.shape[2:]) if n == 1 else list(x.shape)
        raise RuntimeError(f"Only zero batch or zero channel inputs are supported, but got input shape: {shape}")


def _conv_nd(fname, n, input, weight, bias, stride, padding, dilation, groups):
    st, dl = _conv_common(fname, n, input, weight, stride, dilation, False)
    batched = input.dim() == n + 2
    x = input if batched else input.unsqueeze(0)
    k = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * n
        elif padding == "same":
            if any(s != 1 for s in st):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            tot = [dl[i] * (k[i] - 1) for i in range(n)]
            if any(t % 2 for t in tot) and not _WARNED_SAME:
                _WARNED_SAME.append(True)  # torch warns once per process
                warnings.warn("Using padding='same' with even kernel lengths and odd dilation may require a "
                              "zero-padded copy of the input be created", UserWarning, stacklevel=3)
            pads = tuple((t // 2, t - t // 2) for t in tot)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        _conv_checks(st, (0,), dl, groups)
    else:
        pd = _expand(padding, n)
        if len(pd) != n:
            raise RuntimeError(f"expected padding to be a single integer value or a list of {n} values to match the "
                               f"convolution dimensions, but got padding={list(pd)}")
        _conv_checks(st, pd, dl, groups)
        pads = tuple((p, p) for p in pd)
    O = weight.shape[0]
    _conv_weight_groups_check(weight, groups)
    if O % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size [{list(weight.shape)}] instead")
    if x.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
                           f"{list(x.shape)} to have {weight.shape[1] * groups} channels, but got {x.shape[1]} "
                           f"channels instead")
    if bias is not None and (bias.dim() != 1 or bias.numel() != O):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with {O} "
                           f"elements, but got bias of size {list(bias.shape)} instead")
    _dtype_checks(x, weight, bias, groups)
    _no_bool_conv(n, x)
    padded = [x.shape[2 + i] + pads[i][0] + pads[i][1] for i in range(n)]
    eff = [dl[i] * (k[i] - 1) + 1 for i in range(n)]
    if any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel "
                           f"size: ({' x '.join(map(str, eff))}). Kernel size can't be greater than actual input size")
    _conv_empty_check(n, x)
    kw = {"stride": st, "pads": pads, "dil": dl, "groups": int(groups)}
    args = (x, weight) if bias is None else (x, weight, bias)
    y = apply(_N.CONV, args, kw)
    if batched and y._device.type != "meta":
        _MF.layout_like_(y, x, weight)  # channels-last out when the input or weight is, as in torch
    return y if batched else y.squeeze(0)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) over (N, C, L) or (C, L) inputs."""
    return _conv_nd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over (N, C, H, W) or (C, H, W) inputs; im2col + one batched matmul."""
    return _conv_nd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution over (N, C, D, H, W) or (C, D, H, W) inputs."""
    return _conv_nd("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


_DIM_NAMES = {1: ("height", "width"), 2: ("height", "width"), 3: ("depth", "height", "width")}


def _conv_t_nd(fname, n, input, weight, bias, stride, padding, output_padding, groups, dilation):
    if isinstance(padding, str):
        raise TypeError(f"{fname}(): argument 'padding' must be tuple of ints, not str")
    st, dl = _conv_common(fname, n, input, weight, stride, dilation, True)
    pd, op = _expand(padding, n), _expand(output_padding, n)
    for name, v in (("padding", pd), ("output_padding", op)):
        if len(v) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match the "
                               f"convolution dimensions, but got {name}={list(v)}")
    _conv_checks(st, pd, dl, groups)
    if any(o < 0 for o in op):
        raise RuntimeError("negative output_padding is not supported")
    batched = input.dim() == n + 2
    x = input if batched else input.unsqueeze(0)
    k = tuple(weight.shape[2:])
    Cin = weight.shape[0]
    _conv_weight_groups_check(weight, groups)
    if Cin % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size [{list(weight.shape)}] instead")
    if x.shape[1] != Cin:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected input{list(x.shape)} "
                           f"to have {Cin} channels, but got {x.shape[1]} channels instead")
    O = weight.shape[1] * groups
    if bias is not None and (bias.dim() != 1 or bias.numel() != O):
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected bias to be "
                           f"1-dimensional with {O} elements, but got bias of size {list(bias.shape)} instead")
    if any(op[i] >= st[i] and op[i] >= dl[i] for i in range(n)):
        names = _DIM_NAMES[n]
        o2, s2, d2 = (((0,) + op), ((1,) + st), ((1,) + dl)) if n == 1 else (op, st, dl)
        parts = [f"output_padding_{nm}: {v}" for nm, v in zip(names, o2)] + \
            [f"stride_{nm}: {v}" for nm, v in zip(names, s2)] + [f"dilation_{nm}: {v}" for nm, v in zip(names, d2)]
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got " + " ".join(parts))
    _dtype_checks(x, weight, bias, groups)
    _no_bool_conv(n, x)
    _conv_empty_check(n, x)
    out = tuple((x.shape[2 + i] - 1) * st[i] - 2 * pd[i] + dl[i] * (k[i] - 1) + op[i] + 1 for i in range(n))
    if any(o <= 0 for o in out):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(str(s) for s in x.shape[2:])}). Calculated "
                           f"output size per channel: ({' x '.join(map(str, out))}). Output size is too small")
    kw = {"out_sp": out, "stride": st, "pads": tuple((p, p) for p in pd), "dil": dl, "groups": int(groups)}
    args = (x, weight) if bias is None else (x, weight, bias)
    y = apply(_N.CONV_T, args, kw)
    if batched and y._device.type != "meta":
        _MF.layout_like_(y, x, weight)
    return y if batched else y.squeeze(0)


def conv_tbc(input, weight, bias, pad=0):
    """1-D convolution over (time, batch, channel) inputs with a (kernel, in, out) weight."""
    if input.dim() != 3:
        raise RuntimeError("Input must have 3 dims: time, batch, in_channel")
    if weight.dim() != 3:
        raise RuntimeError("Weight tensor must have 3 dims: kernel_width, in_channels, out_channels.")
    if bias.dim() != 1:
        raise RuntimeError("Bias must be 1-D")
    if input.shape[2] != weight.shape[1]:
        raise RuntimeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    if weight.shape[2] != bias.shape[0]:
        raise RuntimeError("Bias size must equal dim 2 in the weight tensor (output channels).")
    y = conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)
    return y.permute(2, 0, 1).contiguous()


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution (the gradient of conv1d with respect to its input)."""
    return _conv_t_nd("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution."""
    return _conv_t_nd("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution."""
    return _conv_t_nd("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups, dilation)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks: (N, C, H, W) -> (N, C * kh * kw, L) (im2col)."""
    _need_tensor("unfold", input)
    nd = input.dim()
    args = {}
    for name, v in (("kernel_size", kernel_size), ("dilation", dilation), ("padding", padding), ("stride", stride)):
        t = _pair(v)
        if len(t) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(t)}")
        args[name] = t
    k, dl, pd, st = args["kernel_size"], args["dilation"], args["padding"], args["stride"]
    if k[0] <= 0 or k[1] <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {k[0]} kernel_width: "
                           f"{k[1]}")
    if dl[0] <= 0 or dl[1] <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: {dl[0]} dilation_width: "
                           f"{dl[1]}")
    if pd[0] < 0 or pd[1] < 0:
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {pd[0]} pad_width: {pd[1]}")
    if st[0] <= 0 or st[1] <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {st[0]} stride_width: "
                           f"{st[1]}")
    if nd not in (3, 4) or any(s == 0 for s in input.shape[nd - 3:]):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
                           f"dimensions for input, but got: {list(input.shape)}")
    if input.dtype.category < 2:
        raise NotImplementedError(f"\"im2col_out_cpu\" not implemented for '{_tname(input)}'")
    x = input if nd == 4 else input.unsqueeze(0)
    pads = ((pd[0], pd[0]), (pd[1], pd[1]))
    out = _N._conv_out(tuple(x.shape[2:]), k, st, pads, dl)
    if out[0] < 1 or out[1] < 1:
        raise RuntimeError(f"Given input with spatial size ({x.shape[2]}, {x.shape[3]}), kernel_size=({k[0]}, "
                           f"{k[1]}), dilation=({dl[0]}, {dl[1]}), padding=({pd[0]}, {pd[1]}), calculated shape of "
                           f"the array of sliding blocks as ({out[0]}, {out[1]}), but its components must be at least "
                           f"one.")
    y = apply(_N.IM2COL, (x,), {"k": k, "stride": st, "pads": pads, "dil": dl})
    return y if nd == 4 else y.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding local blocks into a tensor, summing overlaps (col2im; the adjoint of ``unfold``)."""
    _need_tensor("fold", input)
    args = {}
    for name, v in (("output_size", output_size), ("kernel_size", kernel_size), ("dilation", dilation),
                    ("padding", padding), ("stride", stride)):
        t = _pair(v)
        if len(t) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(t)}")
        args[name] = t
    os_, k, dl, pd, st = (args[n] for n in ("output_size", "kernel_size", "dilation", "padding", "stride"))
    if os_[0] <= 0 or os_[1] <= 0:
        raise RuntimeError(f"Expected output spatial size to be positive, but got: output_size=({os_[0]}, {os_[1]})")
    if k[0] <= 0 or k[1] <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {k[0]} kernel_width: "
                           f"{k[1]}")
    if dl[0] <= 0 or dl[1] <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: {dl[0]} dilation_width: "
                           f"{dl[1]}")
    if pd[0] < 0 or pd[1] < 0:
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {pd[0]} pad_width: {pd[1]}")
    if st[0] <= 0 or st[1] <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {st[0]} stride_width: "
                           f"{st[1]}")
    nd = input.dim()
    if nd not in (2, 3) or any(s == 0 for s in input.shape[nd - 2:]):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
                           f"dimensions for input, but got: {list(input.shape)}")
    x = input if nd == 3 else input.unsqueeze(0)
    K = k[0] * k[1]
    if x.shape[1] % K:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={x.shape[1]} and kernel_size=({k[0]}, {k[1]}).")
    pads = ((pd[0], pd[0]), (pd[1], pd[1]))
    out = _N._conv_out(os_, k, st, pads, dl)
    if x.shape[2] != out[0] * out[1]:
        raise RuntimeError(f"Given output_size=({os_[0]}, {os_[1]}), kernel_size=({k[0]}, {k[1]}), dilation=({dl[0]}, "
                           f"{dl[1]}), padding=({pd[0]}, {pd[1]}), stride=({st[0]}, {st[1]}), expected size of input's "
                           f"dimension 2 to match the calculated number of sliding blocks {out[0]} * {out[1]} = "
                           f"{out[0] * out[1]}, but got input.size(2)={x.shape[2]}.")
    if input.dtype.category < 2:
        raise NotImplementedError(f"\"col2im_out_cpu\" not implemented for '{_tname(input)}'")
    y = apply(_N.COL2IM, (x,), {"out_sp": os_, "k": k, "stride": st, "pads": pads, "dil": dl})
    return y if nd == 3 else y.squeeze(0)


# ---------------------------------------------------------------- pooling
def _pool_out(n_in, k, s, p, d, ceil):
    num = n_in + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)
    out = num // s + 1
    if ceil and (out - 1) * s >= n_in + p:
        out -= 1
    return out


def _pool_arg(fname, n, what, v, default=None):
    if v is None or (isinstance(v, (list, tuple)) and len(v) == 0 and what == "stride"):
        return default
    t = _expand(v, n)
    if len(t) != n:
        w = _WORD[n]
        if fname == "max_pool1d":
            extra = {"kernel_size": "an int, list of ints or", "stride": "None, an int, list of ints, or",
                     "padding": "an int, list of ints, or", "dilation": "an int, list of ints or"}[what]
            raise RuntimeError(f"max_pool1d() {what} must be {extra} tuple of ints of size 1 but got size {len(t)}")
        if fname == "avg_pool1d":
            raise RuntimeError(f"avg_pool1d() argument '{what}' should contain one int (got {len(t)})")
        if fname == "avg_pool3d":
            form = {"kernel_size": "be a single int", "stride": "be omitted, a single int",
                    "padding": "be a single int"}[what]
            raise RuntimeError(f"avg_pool3d: {what} must {form}, or a tuple of three ints")
        form = {"kernel_size": "either be a single int", "stride": "either be omitted, a single int",
                "padding": "either be a single int", "dilation": "be either a single int"}[what]
        raise RuntimeError(f"{fname}: {what} must {form}, or a tuple of {w} ints")
    return t


_KNAMES = {1: ("",), 2: ("H", "W"), 3: ("T", "H", "W")}


def _pool_checks(fname, n, k, st, pd, dl):
    if fname == "max_pool1d":
        if st[0] <= 0:
            raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {st[0]}")
        if k[0] <= 0:
            raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {k[0]}")
        if pd[0] < 0:
            raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {pd[0]}")
        if pd[0] > k[0] // 2:
            raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got padding={pd[0]} "
                               f"and kernel_size={k[0]}")
        if dl[0] <= 0:
            raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {dl[0]}")
        return
    names = _KNAMES[max(n, 2)] if n != 1 else ("H", "W")
    kk = k if n != 1 else (1,) + k
    if any(s == 0 for s in st):
        raise RuntimeError("stride should not be zero")
    if any(v <= 0 for v in kk):
        raise RuntimeError("kernel size should be greater than zero, but got " +
                           " ".join(f"k{nm}: {v}" for nm, v in zip(names, kk)))
    if any(v < 0 for v in pd):
        raise RuntimeError(f"pad must be non-negative, but got pad: {min(pd)}")
    if any(v <= 0 for v in dl):
        raise RuntimeError("dilation should be greater than zero, but got " +
                           " ".join(f"dilation{nm}: {v}" for nm, v in zip(names, dl)))
    for i in range(n):
        if pd[i] > ((k[i] - 1) * dl[i] + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={pd[i]}, "
                               f"kernel_size={k[i]} and dilation={dl[i]}")


def _pool_input(fname, n, input, kind, indices=False):
    _need_tensor(fname, input)
    nd = input.dim()
    if kind == "avg1":
        if nd not in (2, 3):
            raise RuntimeError(f"Expected 2 to 3 dimensions, but got {nd}-dimensional tensor for argument #1 'self' "
                               f"(while checking arguments for {fname})")
    elif kind == "max1":
        if nd not in (2, 3):
            raise RuntimeError(f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for "
                               f"input, but got:{list(input.shape)}")
    else:
        lo, hi = n + 1, n + 2
        if nd not in (lo, hi):
            if kind == "avg" and nd < lo and n == 2:
                raise IndexError(f"Dimension out of range (expected to be in range of [{-max(nd, 1)}, "
                                 f"{max(nd, 1) - 1}], but got {-lo})")
            if kind == "max" or n == 3:
                raise RuntimeError(f"non-empty {lo}D or {hi}D (batch mode) tensor expected for input")
            raise RuntimeError(f"Expected {lo}D or {hi}D (batch mode) tensor with optional 0 dim batch size for "
                               f"input, but got:{list(input.shape)}")
    sp_start = nd - n - 1
    if any(s == 0 for s in input.shape[sp_start:]):  # only the batch may be empty; torch's kernels word it so:
        shape = list(input.shape)
        if n == 3:  # (the "dimension" printed is the empty dim's size)
            where = "max_pool3d_with_indices_out_cpu_template()" if kind == "max" else "avg_pool3d()"
            raise RuntimeError(f"{where}: Expected input's non-batch dimensions to have positive length, but input "
                               f"has a shape of {shape} and non-batch dimension 0 has length zero!")
        if kind == "max1" and not indices:
            raise RuntimeError(f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size "
                               f"for input, but got:{shape}")
        if n == 1:  # avg_pool1d and max_pool1d with indices: the 2-d kernels on an (N, C, 1, L) view
            shape = shape[:-1] + [1] + shape[-1:]
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but "
                           f"got:{shape}")
    batched = nd == n + 2
    return (input if batched else input.unsqueeze(0)), batched


def _too_small(x, out, n):
    C = x.shape[1]
    sp = [str(s) for s in x.shape[2:]]
    return RuntimeError(f"Given input size: ({'x'.join([str(C)] + sp)}). Calculated output size: "
                        f"({'x'.join([str(C)] + [str(o) for o in out])}). Output size is too small")


def _max_pool(fname, n, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, batched = _pool_input(fname, n, input, "max1" if n == 1 else "max", return_indices)
    k = _pool_arg(fname, n, "kernel_size", kernel_size)
    st = _pool_arg(fname, n, "stride", stride, k)
    pd = _pool_arg(fname, n, "padding", padding)
    dl = _pool_arg(fname, n, "dilation", dilation)
    _pool_checks(fname, n, k, st, pd, dl)
    if input.dtype.category == 0 or input.dtype.category == 3 or (n == 1 and not return_indices and
                                                                   input.dtype.category == 1):
        kern = "max_pool1d_impl" if n == 1 and not return_indices else (
            "max_pool2d" if n <= 2 else "max_pool3d_cpu")
        raise NotImplementedError(f"\"{kern}\" not implemented for '{_tname(input)}'")
    out = tuple(_pool_out(x.shape[2 + i], k[i], st[i], pd[i], dl[i], ceil_mode) for i in range(n))
    if any(o < 1 for o in out):
        if n == 1:
            raise RuntimeError(f"max_pool1d() Invalid computed output size: {out[0]}")
        raise _too_small(x, out, n)
    idx = apply(_N.MAXPOOL_IDX, (x,), {"k": k, "stride": st, "pad": pd, "dil": dl, "osz": out})
    empty = _N.empty_windows(x.shape[2:], k, st, pd, dl, out)
    vals = apply(_N.gather_op(f"MaxPool{n}DWithIndicesBackward0"), (x, idx), {} if empty is None else
                 {"empty": empty})
    if batched:  # torch lays both out like a channels-last input
        _MF.layout_like_(vals, x)
        _MF.layout_like_(idx, x)
    if not batched:
        vals, idx = vals.squeeze(0), idx.squeeze(0)
    return (vals, idx) if return_indices else vals


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over sliding windows of the last dim; ``return_indices`` also gives the argmax positions."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over sliding 2-D windows (indices are flat positions within each H x W plane)."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over sliding 3-D windows."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """max_pool1d returning (values, indices)."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """max_pool2d returning (values, indices)."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """max_pool3d returning (values, indices)."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def _avg_pool(fname, n, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x, batched = _pool_input(fname, n, input, "avg1" if n == 1 else "avg")
    k = _pool_arg(fname, n, "kernel_size", kernel_size)
    st = _pool_arg(fname, n, "stride", stride, k)
    pd = _pool_arg(fname, n, "padding", padding)
    dl = (1,) * n
    _pool_checks(fname, n, k, st, pd, dl)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if input.dtype.category == 0 or input.dtype.category == 3:
        raise NotImplementedError(f"\"avg_pool{'3d_out_frame' if n == 3 else '2d'}\" not implemented for '{_tname(input)}'")
    sp = tuple(x.shape[2:])
    out = tuple(_pool_out(sp[i], k[i], st[i], pd[i], 1, ceil_mode) for i in range(n))
    if any(o < 1 for o in out):
        if n == 3:
            raise RuntimeError(f"input image (T: {sp[0]} H: {sp[1]} W: {sp[2]}) smaller than kernel size (kT: {k[0]} "
                               f"kH: {k[1]} kW: {k[2]})")
        if n == 1:
            C = x.shape[1]
            raise RuntimeError(f"Given input size: ({C}x1x{sp[0]}). Calculated output size: ({C}x1x{out[0]}). "
                               f"Output size is too small")
        raise _too_small(x, out, n)
    pads = tuple((pd[i], max(0, (out[i] - 1) * st[i] + k[i] - sp[i] - pd[i])) for i in range(n))
    div = _N.avg_divisor(sp, k, st, pd, out, count_include_pad, divisor_override)
    y = apply(_N.avgpool_op(n), (x,), {"k": k, "stride": st, "pads": pads, "osz": out, "div": div})
    if batched:  # torch keeps channels_last here, not channels_last_3d
        _MF.layout_like_(y, x, fmt=_MF.contiguous_format if n == 3 else None)
    return y if batched else y.squeeze(0)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Average over sliding windows of the last dim."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Average over sliding 2-D windows."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Average over sliding 3-D windows."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _lp_pool(n, input, norm_type, kernel_size, stride, ceil_mode):
    k = _expand(kernel_size, n)
    pool = {1: avg_pool1d, 2: avg_pool2d, 3: avg_pool3d}[n]
    if stride is not None:
        out = pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    else:
        out = pool(input.pow(norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
    K = 1
    for v in k:
        K *= v
    return (out.sign() * relu(out.abs())).mul(K).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: (sum over the window of x^p)^(1/p)."""
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-D power-average pooling."""
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-D power-average pooling."""
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


def _adaptive_input(fname, n, input, max_kind):
    _need_tensor(fname, input)
    nd = input.dim()
    if n == 1:
        if nd not in (2, 3):
            raise RuntimeError(f"Expected 2 to 3 dimensions, but got {nd}-dimensional tensor for argument #1 'self' "
                               f"(while checking arguments for {fname})")
    elif nd not in (n + 1, n + 2):
        raise RuntimeError(f"{fname}(): Expected {n + 1}D or {n + 2}D tensor, but got{':' if max_kind else ''} "
                           f"{list(input.shape)}")
    # torch checks every dim but the first; adaptive_avg_pool1d/2d only the pooled ones (1d through its 2d kernel,
    # whose name and (N, C, 1, L) view the message shows)
    shape, name = list(input.shape), fname
    if not max_kind and n == 1:
        shape, name = shape[:-1] + [1] + shape[-1:], "adaptive_avg_pool2d"
    for i in range(len(shape) - 2, len(shape)) if not max_kind and n < 3 else range(1, len(shape)):
        if shape[i] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input "
                               f"has sizes {shape} with dimension {i} being empty")
    batched = nd == n + 2
    return (input if batched else input.unsqueeze(0)), batched


def _adaptive_empty_grad(fname, n, y, batched):
    """torch's adaptive pooling backward rejects an output gradient with an empty dim past the first (no channels,
    or an output size of 0): raise the same when the gradient reaches ``y``."""
    if not y.requires_grad:
        return
    shape = list(y.shape) if batched else list(y.shape[1:])
    if n == 1:  # the 1d forms run torch's 2d kernels on an (N, C, 1, L) view
        shape, fname = shape[:-1] + [1] + shape[-1:], fname.replace("1d", "2d")
    bad = next((i for i in range(1, len(shape)) if shape[i] == 0), None)
    if bad is not None:
        msg = (f"{fname}_backward(): Expected grad_output to have non-zero size for non-batch dimensions, but "
               f"grad_output has sizes {shape} with dimension {bad} being empty")

        def hook(grad):
            raise RuntimeError(msg)
        y.register_hook(hook)


def _adaptive_size(fname, n, output_size, sp):
    if isinstance(output_size, (list, tuple)):
        os_ = list(output_size)
        if len(os_) != n:
            if n == 1:
                raise RuntimeError(f"{fname}() argument 'output_size' should contain one int (got {len(os_)})")
            raise RuntimeError(f"{fname}: output_size must be {n}")
    else:
        os_ = [output_size] * n
    os_ = [sp[i] if v is None else int(v) for i, v in enumerate(os_)]
    if any(v < 0 for v in os_):
        raise RuntimeError(f"{fname}: elements of output_size must be greater than or equal to 0 but received "
                           f"{{{', '.join(map(str, os_))}}}")
    return tuple(os_)


def _adaptive_avg(fname, n, input, output_size):
    x, batched = _adaptive_input(fname, n, input, False)
    if input.dtype.category < 2 or input.dtype.category == 3:
        raise NotImplementedError(f"\"{fname}\" not implemented for '{_tname(input)}'")
    sp = tuple(x.shape[2:])
    os_ = _adaptive_size(fname, n, output_size, sp)
    maps = []
    for i in range(n):
        if os_[i] != sp[i]:
            idx, w = _N.adaptive_taps(sp[i], os_[i])
            maps.append((2 + i, idx, w, sp[i]))
    op = _N.sep_op(f"adaptive_avg_pool{n}d", f"AdaptiveAvgPool{n}DBackward0")
    y = apply(op, (x,), {"maps": tuple(maps)})
    _adaptive_empty_grad(fname, n, y, batched)
    if batched:  # torch keeps channels_last; channels_last_3d only when it pools to one value (a mean)
        _MF.layout_like_(y, x, fmt=_MF.contiguous_format if n == 3 and any(o != 1 for o in os_) else None)
    return y if batched else y.squeeze(0)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed output length (windows [floor(i*L/n), ceil((i+1)*L/n)))."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (None keeps that dim)."""
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """3-D adaptive average pooling."""
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def _adaptive_max(fname, n, input, output_size, return_indices):
    x, batched = _adaptive_input(fname, n, input, True)
    if input.dtype.category < 2 or input.dtype.category == 3:
        raise NotImplementedError(f"\"{fname}\" not implemented for '{_tname(input)}'")
    sp = tuple(x.shape[2:])
    os_ = _adaptive_size(fname, n, output_size, sp)
    maps = tuple(_N.adaptive_taps(sp[i], os_[i])[0] for i in range(n))
    idx = apply(_N.ADAMAX_IDX, (x,), {"maps": maps})
    vals = apply(_N.gather_op(f"AdaptiveMaxPool{n}DBackward0"), (x, idx), {})
    _adaptive_empty_grad(fname, n, vals, batched)
    if batched:  # channels_last is kept, channels_last_3d is not (as in torch)
        fmt = _MF.contiguous_format if n == 3 else None
        _MF.layout_like_(vals, x, fmt=fmt)
        _MF.layout_like_(idx, x, fmt=fmt)
    if not batched:
        vals, idx = vals.squeeze(0), idx.squeeze(0)
    return (vals, idx) if return_indices else vals


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a fixed output length."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """3-D adaptive max pooling."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """adaptive_max_pool1d returning (values, indices)."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """adaptive_max_pool2d returning (values, indices)."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """adaptive_max_pool3d returning (values, indices)."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, True)


def _frac_seq(samples, n_in, n_out, k, dt):
    """Window starts of fractional max pooling for one dim: samples (N, C) in [0, 1)."""
    if n_out <= 0:
        return np.zeros(samples.shape + (0,), np.int64)
    out = np.empty(samples.shape + (n_out,), np.int64)
    if n_out > 1:
        alpha = dt(n_in - k) / dt(n_out - 1)
        s = samples.astype(dt)
        base = np.floor(s * alpha).astype(np.int64)
        for j in range(n_out - 1):
            out[..., j] = np.floor((dt(j) + s).astype(dt) * alpha).astype(np.int64) - base
    out[..., n_out - 1] = n_in - k
    return out


def _fractional_max_pool(n, input, kernel_size, output_size, output_ratio, return_indices, _random_samples):
    fname = f"fractional_max_pool{n}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{fname} requires specifying either an output_size or an output_ratio")
    k = _expand(kernel_size, n)
    nd = input.dim()
    if output_size is None:
        ratio = output_ratio if n > 0 else None
        if len(ratio) == 1:
            ratio = tuple(ratio) * n
        output_size = [int(input.shape[nd - n + i] * ratio[i]) for i in range(n)]
    os_ = _expand(output_size, n)
    if len(os_) != n or len(k) != n:
        what = "output_size" if len(os_) != n else "kernel_size"
        raise RuntimeError(f"{fname}: {what} must either be a single Int or tuple of Ints")
    if nd not in (n + 1, n + 2):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got "
                         f"{-(n + 1)})")
    where = f"{fname}()" if n == 2 else f"{fname}_out()"
    for i in range(1, nd):  # every dim but the first (the batch, or an unbatched input's channels) must be non-empty
        if input.shape[i] == 0:
            raise RuntimeError(f"{where}: Expected input to have non-zero size for non-batch dimensions, but got"
                               f"{list(input.shape)} with dimension {i} being empty.")
    batched = nd == n + 2
    x = input if batched else input.unsqueeze(0)
    if any(o < 0 for o in os_):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(os_)}: "
                           f"{list(x.shape[:2]) + list(os_)}")
    names = ("height", "width") if n == 2 else ("time", "height", "width")
    sp = tuple(x.shape[2:])
    for i in range(n):
        # torch's 3-d check is strict (one row fewer allowed than in 2-d)
        if os_[i] + k[i] - 1 > sp[i] or (n == 3 and os_[i] + k[i] - 1 == sp[i]):
            raise RuntimeError(f"{where}: pool {names[i]} {k[i]} too large relative to input {names[i]} {sp[i]}")
    if input.dtype.category != 2:
        raise NotImplementedError(f"\"check_uniform_bounds\" not implemented for '{_tname(input)}'")
    N, C = x.shape[:2]
    if _random_samples is None:
        _random_samples = _ops().rand(N, C, n, dtype=input.dtype, device=input.device)
    smp = _random_samples
    if smp.dim() != 3:
        raise RuntimeError(f"Expect _random_samples to be 3D tensor, got: {smp.dim()}D")
    if smp.shape[2] != n:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {n}; got {smp.shape[2]}.")
    if smp.shape[1] != C:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if smp.dtype is not input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if input.device.type == "meta":
        starts = tuple(np.zeros((N, C, os_[i]), np.int64) for i in range(n))
    else:
        sh = _host(smp)[:N]
        if sh.shape[0] < N:
            sh = np.concatenate([sh, np.zeros((N - sh.shape[0],) + sh.shape[1:], sh.dtype)])
        dt = np.float64 if input.dtype is D.float64 else np.float32
        # torch pairs the samples with the dims as (w, h) in 2-D but (t, h, w) in 3-D
        order = [1, 0] if n == 2 else [0, 1, 2]
        starts = tuple(_frac_seq(sh[:, :, order[i]], sp[i], os_[i], k[i], dt) for i in range(n))
    idx = apply(_N.FRACMAX_IDX, (x,), {"starts": starts, "k": k})
    vals = apply(_N.gather_op(f"FractionalMaxPool{n}DBackward0"), (x, idx), {})
    if not batched:
        vals, idx = vals.squeeze(0), idx.squeeze(0)
    return (vals, idx) if return_indices else vals


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """Max pooling over pseudo-random, overlapping windows that shrink the input to ``output_size``."""
    return _fractional_max_pool(2, input, kernel_size, output_size, output_ratio, return_indices, _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """3-D fractional max pooling."""
    return _fractional_max_pool(3, input, kernel_size, output_size, output_ratio, return_indices, _random_samples)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """fractional_max_pool2d returning (values, indices)."""
    return _fractional_max_pool(2, input, kernel_size, output_size, output_ratio, True, _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """fractional_max_pool3d returning (values, indices)."""
    return _fractional_max_pool(3, input, kernel_size, output_size, output_ratio, True, _random_samples)


def _max_unpool(n, input, indices, kernel_size, stride, padding, output_size):
    nd = input.dim()
    if nd not in (n + 1, n + 2):
        k2 = max(n, 2)
        raise RuntimeError(f"Input to max_unpooling{k2}d should be a {k2 + 1}d or {k2 + 2}d Tensor, but got a tensor "
                           f"with {nd} dimensions.")
    k = _expand(kernel_size, n)
    st = k if stride is None else _expand(stride, n)
    pd = _expand(padding, n)
    if indices.dtype is not D.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: {_tname(indices)}")
    sp = tuple(input.shape[nd - n:])
    default = [(sp[i] - 1) * st[i] + k[i] - 2 * pd[i] for i in range(n)]
    if output_size is None:
        os_ = default
    else:
        os_ = list(output_size.tolist() if isinstance(output_size, Tensor) else output_size)
        if len(os_) == n + 2:
            os_ = os_[2:]
        if len(os_) != n:
            raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} elements, but it has a "
                             f"length of '{len(os_)}'")
        for d in range(n):
            lo, hi = default[d] - st[d], default[d] + st[d]
            if not lo < os_[d] < hi:
                raise ValueError(f"invalid output_size \"{output_size}\" (dim {d} must be between {lo} and {hi})")
    os_ = tuple(int(v) for v in os_)
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor ({list(input.shape)}) "
                           f"but got indices tensor with shape: {list(indices.shape)}")
    total = 1
    for v in os_:
        total *= v
    if indices.numel() and input.device.type != "meta":
        bad = (indices < 0) | (indices >= total)
        if bool(bad.any()):
            v = int(indices[bad].reshape(-1)[0].item())
            size = "x".join(map(str, os_ if n > 1 else os_ + (1,)))
            raise RuntimeError(f"Found an invalid max index: {v} (output volumes are of size {size})")
    batched = nd == n + 2
    x = input if batched else input.unsqueeze(0)
    idx = indices if batched else indices.unsqueeze(0)
    y = apply(_N.unpool_op(n), (x, idx), {"sp": os_})
    return y if batched else y.squeeze(0)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool1d: put each value back at its index, zeros elsewhere."""
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool2d."""
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool3d."""
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)


# ---------------------------------------------------------------- normalisation
def _host(t):
    return t._device.backend.to_host(t._data)


def _update_running(rt, new):
    """running <- new, in place (no autograd), as torch's fused kernel does."""
    be = rt._device.backend
    arr = new.astype(rt.dtype.np).reshape(rt._data.shape)
    rt._data[...] = arr if be.is_meta else be.xp.asarray(arr)
    rt._storage._version += 1


def _verify_batch(input):
    size = input.shape
    n = size[0]
    for s in size[2:]:
        n *= s
    if n == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {_size_str(size)}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise over (N, *spatial) per channel; running stats are updated in place when training."""
    _need_tensor("batch_norm", input)
    if momentum is None or not isinstance(momentum, numbers.Number):
        raise TypeError(f"batch_norm(): argument 'momentum' (position 7) must be float, not {type(momentum).__name__}")
    if (running_mean is None) != (running_var is None) and training:
        raise ValueError("running_mean and running_var must either both be None or neither be None")
    if training:
        _verify_batch(input)
    C = input.shape[1] if input.dim() > 1 else 0
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.numel() != C:
            raise RuntimeError(f"{name} should contain {C} elements not {t.numel()}")
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError(f"{'running_mean' if running_mean is None else 'running_var'} must be defined in "
                           f"evaluation mode")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != C:
            raise RuntimeError(f"{name} should contain {C} elements not {t.numel()}")
    if input.dtype.category < 2 or input.dtype.category == 3:
        raise NotImplementedError(f"\"batch_norm\" not implemented for '{_tname(input)}'")
    _N.check_norm_dtypes(input, weight, bias, running_mean, running_var)
    empty = input.numel() == 0
    if empty:
        # torch's shortcut for an empty input, input * weight[0] + bias[0]: no channels is an index error there, and
        # the running statistics are left as they are
        _empty_norm_check(C, weight, bias)
    nd = input.dim()
    axes = (0,) + tuple(range(2, nd))
    wshape = (1, C) + (1,) * (nd - 2)
    meta = input.device.type == "meta"
    stats, fixed = None, False
    if training:
        if not meta:
            stats = _N.norm_stats(input, None, axes, eps)
            mean, var = stats[0], stats[2]
            n = input.numel() // max(C, 1)
            if running_mean is not None and not empty:
                rm = _host(running_mean).astype(np.float64)
                _update_running(running_mean, (1 - momentum) * rm + momentum *
                                np.asarray(_arr_host(mean), dtype=np.float64).reshape(-1))
            if running_var is not None and not empty:
                rv = _host(running_var).astype(np.float64)
                unb = np.asarray(_arr_host(var), dtype=np.float64).reshape(-1) * (n / max(n - 1, 1))
                _update_running(running_var, (1 - momentum) * rv + momentum * unb)
    else:
        fixed = True
        if not meta:
            xp = input._device.backend.xp
            rm = running_mean._data.astype(_N.norm_compute_np(input.dtype)).reshape(wshape)
            rv = running_var._data.astype(_N.norm_compute_np(input.dtype)).reshape(wshape)
            stats = (rm, 1 / xp.sqrt(rv + eps))
    kw = {"gshape": None, "axes": axes, "wshape": wshape, "eps": eps, "stats": stats, "fixed": fixed}
    return _MF.layout_like_(apply(_N.BATCH_NORM, (input, weight, bias), kw), input)


def _empty_norm_check(C, weight, bias):
    if C == 0 and (weight is not None or bias is not None):
        raise IndexError("select(): index 0 out of range for tensor of size [0] at dimension 0")


def _arr_host(a):
    """A raw (NumPy or CuPy) array as a NumPy array."""
    return a if isinstance(a, np.ndarray) else a.get()


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each (sample, channel) over its spatial positions."""
    _need_tensor("instance_norm", input)
    if use_input_stats:
        size = input.shape
        n = 1
        for s in size[2:]:
            n *= s
        if n == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                             f"{_size_str(size)}")
    if input.dtype.category < 2 or input.dtype.category == 3:
        raise NotImplementedError(f"\"batch_norm\" not implemented for '{_tname(input)}'")
    _N.check_norm_dtypes(input, weight, bias, running_mean, running_var)
    nd = input.dim()
    N, C = input.shape[0], input.shape[1]
    axes = tuple(range(2, nd))
    wshape = (1, C) + (1,) * (nd - 2)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != C:
            raise RuntimeError(f"{name} should contain {C} elements not {t.numel()}")
    meta = input.device.type == "meta"
    empty = input.numel() == 0
    if empty:
        # torch runs batch_norm on a (1, N * C, ...) view with weight, bias and running stats repeated N times: its
        # empty-input shortcut indexes weight[0], and (training) the stats come back as the mean of their N untouched
        # copies: the same, or nan for N == 0
        _empty_norm_check(N * C, weight, bias)
        for t in (running_mean, running_var):
            if t is not None and not meta and N == 0 and use_input_stats:
                _update_running(t, np.full(C, np.nan))
    stats, fixed = None, False
    if use_input_stats:
        if not meta:
            stats = _N.norm_stats(input, None, axes, eps)
        if not meta and not empty and (running_mean is not None or running_var is not None):
            mean, var = stats[0], stats[2]
            n = 1
            for s in input.shape[2:]:
                n *= s
            if running_mean is not None:
                rm = _host(running_mean).astype(np.float64)
                bm = np.asarray(_arr_host(mean), dtype=np.float64).reshape(N, C).mean(0)
                _update_running(running_mean, (1 - momentum) * rm + momentum * bm)
            if running_var is not None:
                rv = _host(running_var).astype(np.float64)
                bv = (np.asarray(_arr_host(var), dtype=np.float64).reshape(N, C) * (n / max(n - 1, 1))).mean(0)
                _update_running(running_var, (1 - momentum) * rv + momentum * bv)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
        fixed = True
        if not meta:
            xp = input._device.backend.xp
            rm = running_mean._data.astype(_N.norm_compute_np(input.dtype)).reshape(wshape)
            rv = running_var._data.astype(_N.norm_compute_np(input.dtype)).reshape(wshape)
            stats = (rm, 1 / xp.sqrt(rv + eps))
    kw = {"gshape": None, "axes": axes, "wshape": wshape, "eps": eps, "stats": stats, "fixed": fixed}
    return _MF.layout_like_(apply(_N.INSTANCE_NORM, (input, weight, bias), kw), fmt=_MF.contiguous_format)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` dims, then scale and shift elementwise."""
    _need_tensor("layer_norm", input)
    if isinstance(normalized_shape, int):
        raise TypeError("layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not int")
    ns = tuple(int(v) for v in ((normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape))
    k = len(ns)
    if k == 0:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(t.shape)} and normalized_shape = {list(ns)}")
    if input.dim() < k or tuple(input.shape[input.dim() - k:]) != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape [*, "
                           f"{', '.join(map(str, ns))}], but got input of size{list(input.shape)}")
    if input.dtype.category < 2 or input.dtype.category == 3:
        raise NotImplementedError(f"\"LayerNormKernelImpl\" not implemented for '{_tname(input)}'")
    _N.check_norm_dtypes(input, weight, bias)
    nd = input.dim()
    axes = tuple(range(nd - k, nd))
    kw = {"gshape": None, "axes": axes, "wshape": (1,) * (nd - k) + ns, "eps": eps,
          "stats": _N.layer_norm_stats(input, axes, eps, weight, bias), "fixed": False}
    return _MF.layout_like_(apply(_N.LAYER_NORM, (input, weight, bias), kw), fmt=_MF.contiguous_format)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise over groups of channels (and all spatial positions) per sample."""
    _need_tensor("group_norm", input)
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    N, C = input.shape[0], input.shape[1]
    if num_groups <= 0 or C % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input.shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dim() != 1 or t.numel() != C):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, but "
                               f"got {name} of shape {list(t.shape)} and input of shape {list(input.shape)}")
    if input.dtype.category < 2 or input.dtype.category == 3:
        raise NotImplementedError(f"\"GroupNormKernelImpl\" not implemented for '{_tname(input)}'")
    _N.check_norm_dtypes(input, weight, bias)
    nd = input.dim()
    rest = input.numel() // max(N * num_groups, 1) if N * num_groups else 0
    gshape = (N, num_groups, rest)
    kw = {"gshape": gshape, "axes": (2,), "wshape": (1, C) + (1,) * (nd - 2), "eps": eps,
          "stats": _N.norm_stats(input, gshape, (2,), eps), "fixed": False}
    return _MF.layout_like_(apply(_N.GROUP_NORM, (input, weight, bias), kw), input)


_RMS_WARNED = []


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the trailing dims, times ``weight``."""
    _need_tensor("rms_norm", input)
    ns = tuple(int(v) for v in ((normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape))
    k = len(ns)
    if input.dim() < k or tuple(input.shape[input.dim() - k:]) != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape [*"
                           f"{', '.join(map(str, ns))}], but got input of size{list(input.shape)}")
    if weight is not None and tuple(weight.shape) != ns:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got weight of shape "
                           f"{list(weight.shape)} and normalized_shape = {list(ns)}")
    if eps is None:
        eps = _finfo_eps(input.dtype) if input.dtype.category == 2 else _finfo_eps(D.get_default_dtype())
    dims = list(range(input.dim() - k, input.dim()))
    x = input.float() if input.dtype in (D.float16, D.bfloat16) else input  # torch accumulates in float32
    y = x * (x.pow(2).mean(dims, keepdim=True) + eps).rsqrt() if dims else x * (x.pow(2) + eps).rsqrt()
    if weight is not None:
        if weight.dtype is not input.dtype and not _RMS_WARNED:
            from ..ops.linalg import _CTYPE
            _RMS_WARNED.append(True)  # torch warns once per process
            warnings.warn(f"Mismatch dtype between input and weight: input dtype = "
                          f"{_CTYPE.get(input.dtype.name)}, weight dtype = {_CTYPE.get(weight.dtype.name)}, Cannot "
                          f"dispatch to fused implementation.", UserWarning, stacklevel=2)
        y = y * weight
    return y if y.dtype is input.dtype else y.to(input.dtype)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Divide each channel by (k + alpha * mean of squares over ``size`` neighbouring channels)^beta."""
    nd = input.dim()
    if nd < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {nd} dimensions)")
    if input.numel() == 0:
        return input
    N, C = input.shape[0], input.shape[1]
    sq = (input * input).reshape(N, 1, C, -1)
    lo, hi = size // 2, (size - 1) // 2
    sqp = apply(_N.PAD_CONST, (sq,), {"pads": ((0, 0), (0, 0), (lo, hi), (0, 0)), "value": 0})
    R = sq.shape[3]
    out = (C, R)
    div = _N.avg_divisor((C + lo + hi, R), (size, 1), (1, 1), (0, 0), out, True, None)
    avg = apply(_N.avgpool_op(2), (sqp,), {"k": (size, 1), "stride": (1, 1), "pads": ((0, 0), (0, 0)),
                                           "osz": out, "div": div})
    den = avg.reshape(input.shape).mul(alpha).add(k).pow(beta)
    return input / den


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p along dim, eps)."""
    den = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is None:
        return input / den
    return _ops().div(input, den, out=out)


# ---------------------------------------------------------------- embeddings
def _check_indices(fname, idx):
    if idx.dtype not in (D.int64, D.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {_legacy_type(idx.dtype)} instead (while checking arguments for "
                           f"{fname})")


def _renorm_rows(weight, idx, max_norm, norm_type):
    """torch's embedding_renorm_: rows used by ``idx`` with norm > max_norm are rescaled in place."""
    if weight.device.type == "meta" or idx.numel() == 0:
        return
    xp = weight._device.backend.xp
    rows = xp.unique(idx._data.reshape(-1).astype(np.int64))
    W = weight._data
    sel = W[rows]
    if norm_type == math.inf:
        nrm = xp.abs(sel).max(axis=1)
    elif norm_type == 0:
        nrm = (sel != 0).sum(axis=1).astype(W.dtype)
    else:
        nrm = (xp.abs(sel) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    big = nrm > max_norm
    if bool(big.any()):
        scale = (max_norm / (nrm + 1e-7)).astype(W.dtype)
        W[rows[big]] = sel[big] * scale[big][:, None]
        weight._storage._version += 1


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of ``weight`` at ``input``'s indices; the padding row gets no gradient."""
    _need_tensor("embedding", input)
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    num = weight.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= num:
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -num:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = num + padding_idx
    _check_indices("embedding", input)
    # sparse=True: ember has no sparse tensors; the gradient is the same values, stored dense
    if input.numel() and input.device.type != "meta":
        mn, mx = int(input.min().item()), int(input.max().item())
        if mn < 0 or mx >= num:
            raise IndexError("index out of range in self")
    if max_norm is not None:
        with grad_mode.no_grad():
            _renorm_rows(weight, input, max_norm, norm_type)
    return apply(_N.EMBED, (weight, input), {"padding_idx": padding_idx, "scale": bool(scale_grad_by_freq)})


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embeddings (bags given by ``offsets`` or the rows of a 2-D input)."""
    _need_tensor("embedding_bag", input)
    ops = _ops()
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({_size_str(per_sample_weights.shape)}) is not None, "
                         f"then it must have the same shape as the input ({_size_str(input.shape)})")
    num, dim = weight.shape
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {_type_repr(offsets)}")
        B, L = input.shape
        if L == 0:  # torch builds the offsets as arange(0, numel, L): empty bags of a 2-D input are an error
            raise RuntimeError("step must be nonzero")
        flat = input.reshape(-1)
        starts = np.arange(B) * L
        psw = per_sample_weights.reshape(-1) if per_sample_weights is not None else None
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        flat = input
        psw = per_sample_weights
        starts = None
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if max_norm is not None:
        with grad_mode.no_grad():
            _renorm_rows(weight, input, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  f"GitHub.")
    _check_indices("embedding_bag", flat)
    if offsets is not None:
        _check_indices("embedding_bag", offsets)
    if padding_idx is not None:
        if padding_idx >= num or padding_idx < -num:
            raise AssertionError("padding_idx must be within the number of embeddings")
        if padding_idx < 0:
            padding_idx += num
    n_idx = flat.numel()
    if starts is None:
        starts = _host(offsets).astype(np.int64)
        if starts.size and starts[0] != 0:
            raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                               f"position 0. However, got {int(starts[0])}\n[ torch.LongTensor{{}} ]")
        if starts.size and starts[-1] > n_idx:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length {n_idx} but got offsets[-1] of "
                               f"{int(starts[-1])}")
        if include_last_offset:
            ends = starts[1:]
            starts = starts[:-1]
        else:
            ends = np.append(starts[1:], n_idx)
        if np.any(ends < starts):
            raise RuntimeError("Expected i < index_size to be true, but got false.  (Could this error message be "
                               "improved?  If so, please report an enhancement request to PyTorch.)")
    else:
        ends = starts + (input.shape[1] if input.dim() == 2 else 0)
    B = len(starts)
    idx_h = _host(flat).astype(np.int64).reshape(-1)
    if idx_h.size and (idx_h.min() < 0 or idx_h.max() >= num):
        raise RuntimeError("Expected i < index_size to be true, but got false.  (Could this error message be "
                           "improved?  If so, please report an enhancement request to PyTorch.)")
    bag = np.repeat(np.arange(B), np.maximum(ends - starts, 0)) if B else np.zeros(0, np.int64)
    pos = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends)]) if B else np.zeros(0, np.int64)
    keep = idx_h[pos] != padding_idx if padding_idx is not None else np.ones(len(pos), bool)
    pos, bag = pos[keep], bag[keep]
    dev = weight.device
    sel = _N._const(idx_h[pos], weight)
    if mode == "max":
        counts = np.bincount(bag, minlength=B) if B else np.zeros(0, np.int64)
        Lm = int(counts.max()) if B and counts.size else 0
        if B == 0 or Lm == 0:
            return ops.zeros((B, dim), dtype=weight.dtype, device=dev) + weight.sum() * 0
        W = weight._data
        xp = weight._device.backend.xp
        slot = np.arange(len(bag)) - np.concatenate([[0], np.cumsum(counts)[:-1]])[bag]
        tbl = np.full((B, Lm), -1, np.int64)
        tbl[bag, slot] = idx_h[pos]
        vals = W[xp.asarray(np.maximum(tbl, 0))]
        vals = xp.where(xp.asarray(tbl >= 0)[:, :, None], vals, -np.inf)
        am = xp.argmax(vals, axis=1)
        rowsel = xp.take_along_axis(xp.asarray(np.maximum(tbl, 0)), am, axis=1)
        rows_t = _N._const(rowsel, weight)
        out = ops.gather(weight, 0, rows_t)
        empty = _N._const((counts == 0)[:, None], weight)
        return out.masked_fill(empty, 0.0)
    rows = apply(_N.EMBED, (weight, sel), {"padding_idx": None, "scale": bool(scale_grad_by_freq)})
    if psw is not None:
        pw = psw.reshape(-1).index_select(0, _N._const(pos, weight))
        rows = rows * pw.unsqueeze(1)
    out = apply(_N.EMBED_BWD, (rows, _N._const(bag, weight)), {"num": B, "padding_idx": None, "scale": False})
    if mode == "mean":
        counts = np.bincount(bag, minlength=B).astype(np.float64) if B else np.zeros(0)
        out = out / _N._const(np.maximum(counts, 1)[:, None].astype(weight.dtype.np), weight)
    return out


def _type_repr(x):
    return "<class 'torch.Tensor'>" if isinstance(x, Tensor) else str(type(x))


def one_hot(tensor, num_classes=-1):
    """Class indices (int64) -> one-hot int64 tensor with a trailing dim of ``num_classes``."""
    _need_tensor("one_hot", tensor, "tensor")
    if tensor.dtype is not D.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    ops = _ops()
    meta = tensor.device.type == "meta"
    if tensor.numel() == 0 and num_classes <= 0:  # torch: any non-positive count is "inferred" from the values
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if num_classes == -1:
        if meta:
            raise RuntimeError("Can not infer total number of classes from meta tensor.")
        num_classes = int(tensor.max().item()) + 1
    if tensor.numel() and not meta:
        if int(tensor.min().item()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(tensor.max().item()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    elif num_classes < -1 and tensor.numel():
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = ops.zeros(tuple(tensor.shape) + (num_classes,), dtype=D.int64, device=tensor.device)
    if tensor.numel() and not meta:
        out.scatter_(-1, tensor.unsqueeze(-1), 1)
    return out


# ---------------------------------------------------------------- padding
_PAD_COMBOS = ("Supported combinations for non-constant padding:\n  - 2D or 3D input: padding size = 2 (pads last "
               "dimension)\n  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n  - 4D or 5D input: "
               "padding size = 6 (pads last 3 dimensions)")


def pad(input, pad, mode="constant", value=None):
    """Pad (or crop, with negative amounts) the last len(pad) // 2 dims: constant, reflect, replicate, circular."""
    _need_tensor("pad", input)
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    nd = input.dim()
    k = len(pad) // 2
    if k > nd:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {nd}")
    if mode == "constant":
        pads = [(0, 0)] * nd
        for i in range(k):
            d = nd - 1 - i
            lo, hi = pad[2 * i], pad[2 * i + 1]
            if input.shape[d] + lo + hi < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
            pads[d] = (lo, hi)
        return _MF.layout_like_(apply(_N.PAD_CONST, (input,), {"pads": tuple(pads), "value": 0 if value is None
                                                                else value}), input)  # torch's channels-last rule
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    if not (k in (1, 2, 3) and nd in (k + 1, k + 2)):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {nd}D input tensor.\n" + _PAD_COMBOS)
    nonbatch = input.shape[1:] if nd == k + 2 else input.shape
    if mode != "circular" and any(s == 0 for s in nonbatch):  # torch's circular pad takes empty dims (no wrap)
        raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and other "
                           f"non-zero dimensions for input, but got: {list(input.shape)}")
    maps = []
    for i in range(k):
        d = nd - 1 - i
        n_in = input.shape[d]
        lo, hi = pad[2 * i], pad[2 * i + 1]
        if mode == "reflect" and (lo >= n_in or hi >= n_in):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, but "
                               f"got: padding ({lo}, {hi}) at dimension {d} of input {list(input.shape)}")
        if mode == "circular" and (lo > n_in or hi > n_in):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        n_out = n_in + lo + hi
        if n_out < 0:
            raise RuntimeError(f"The input size {n_in}, plus negative padding {lo} and {hi} resulted in a negative "
                               f"output size, which is invalid. Check dimension {d} of your input.")
        src = np.arange(n_out) - lo
        if mode == "reflect":
            src = np.abs(src)
            src = np.where(src > n_in - 1, 2 * (n_in - 1) - src, src)
        elif mode == "replicate":
            src = np.clip(src, 0, n_in - 1)
        else:
            a, b = max(-lo, 0), n_in - max(-hi, 0)
            src = a + np.mod(np.arange(n_out) - max(lo, 0), max(b - a, 1))
        maps.append((d, src.reshape(-1, 1).astype(np.int64), None, n_in))
    name = {"reflect": "Reflection", "replicate": "Replication", "circular": "CircularPad"}[mode]
    op = _N.sep_op(f"{mode}_pad{k}d", f"{name}{'' if mode == 'circular' else 'Pad'}{k}DBackward0")
    return _MF.layout_like_(apply(op, (input,), {"maps": tuple(maps[::-1])}),  # channels-last but for circular
                            input, fmt=_MF.contiguous_format if mode == "circular" else None)


# ---------------------------------------------------------------- resampling
def _np_dt(input):
    return np.float64 if input.dtype is D.float64 else np.float32


def _nearest_map(n_in, n_out, scale, exact):
    o = np.arange(n_out)
    if n_out == n_in and not exact:
        return o
    if n_out == 2 * n_in and not exact:
        return o >> 1
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(n_in) / np.float32(n_out)
    of = o.astype(np.float32)
    src = np.floor((of + np.float32(0.5)) * s) if exact else np.floor(of * s)
    return np.minimum(src.astype(np.int64), n_in - 1)


def _area_scale(n_in, n_out, align, scale, dt):
    if align:
        return dt(n_in - 1) / dt(n_out - 1) if n_out > 1 else dt(0)
    if scale is not None and scale > 0:
        return dt(1.0 / scale)
    return dt(n_in) / dt(n_out)


def _linear_map(n_in, n_out, align, scale, dt):
    s = _area_scale(n_in, n_out, align, scale, dt)
    o = np.arange(n_out).astype(dt)
    src = s * o if align else np.maximum(s * (o + dt(0.5)) - dt(0.5), dt(0))
    i0 = np.minimum(src.astype(np.int64), n_in - 1)
    i1 = i0 + (i0 < n_in - 1)
    l1 = (src - i0.astype(dt)).astype(dt)
    l0 = (dt(1) - l1).astype(dt)
    return np.stack([i0, i1], 1), np.stack([l0, l1], 1).astype(np.float64)


def _cubic_map(n_in, n_out, align, scale, dt):
    s = _area_scale(n_in, n_out, align, scale, dt)
    o = np.arange(n_out).astype(dt)
    src = s * o if align else s * (o + dt(0.5)) - dt(0.5)
    i = np.floor(src).astype(np.int64)
    t = (src - i.astype(dt)).astype(dt)
    A = dt(-0.75)

    def far(d):
        return ((A * d - 5 * A) * d + 8 * A) * d - 4 * A

    def near(d):
        return ((A + 2) * d - (A + 3)) * d * d + 1
    w = np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], 1).astype(np.float64)
    idx = np.clip(i[:, None] + np.arange(-1, 3)[None, :], 0, n_in - 1)
    return idx, w


def _aa_filter(mode):
    if mode == "bilinear":
        return 1.0, lambda x: np.maximum(0.0, 1.0 - np.abs(x))

    def cubic(x, a=-0.5):
        x = np.abs(x)
        return np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                        np.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, 0.0))
    if mode == "bicubic":
        return 2.0, cubic

    def lanczos(x, a=3.0):
        return np.where(np.abs(x) < a, np.sinc(x) * np.sinc(x / a), 0.0)
    return 3.0, lanczos


def _aa_map(n_in, n_out, align, scale, mode):
    s = float(_area_scale(n_in, n_out, align, scale, np.float64))
    half, filt = _aa_filter(mode)
    support = half * s if s >= 1.0 else half
    inv = 1.0 / s if s >= 1.0 else 1.0
    rows_i, rows_w = [], []
    for o in range(n_out):
        center = s * (o + 0.5)
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), n_in)
        j = np.arange(xmin, xmax)
        w = filt((j - center + 0.5) * inv)
        tot = w.sum()
        if tot != 0:
            w = w / tot
        rows_i.append(j)
        rows_w.append(w)
    T = max(1, max(len(j) for j in rows_i))
    idx = np.zeros((n_out, T), np.int64)
    wt = np.zeros((n_out, T))
    for o, (j, w) in enumerate(zip(rows_i, rows_w)):
        idx[o, :len(j)] = j
        idx[o, len(j):] = j[-1] if len(j) else 0
        wt[o, :len(j)] = w
    return idx, wt


_MODES = ("nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact")
_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize by nearest / nearest-exact / (bi/tri)linear / bicubic / area (/ lanczos with antialias)."""
    _need_tensor("interpolate", input)
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                             "bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    n = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != n:
                raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input with "
                                 f"spatial dimensions of {list(input.shape[2:])} and output size of {size}. Please "
                                 f"provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, "
                                 f"...,oK) format.")
            out_size = [int(s) for s in size]
        else:
            out_size = [int(size)] * n
        scales = None
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != n:
                raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {list(input.shape[2:])} and scale_factor of shape "
                                 f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                                 f"scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * n
        out_size = None
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and out_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor and scales is not None:
        out_size = [math.floor(float(input.shape[i + 2]) * scales[i]) for i in range(n)]
        scales = None
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D "
                         "tensor as input")
    if mode == "lanczos":
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
    known = ("nearest", "nearest-exact", "area", "linear", "bilinear", "bicubic", "trilinear", "lanczos")
    if mode not in known or n not in (1, 2, 3) or (mode in ("bicubic", "lanczos") and n != 2):
        if mode in _MODE_DIMS and n in (1, 2, 3) and mode != "bicubic":
            need = _MODE_DIMS[mode]
            raise NotImplementedError(f"Got {n + 2}D input, but {mode} mode needs {need + 2}D input")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for "
                                  f"the modes: {_MODES} (got {mode})")
    if mode in _MODE_DIMS and _MODE_DIMS[mode] != n:
        raise NotImplementedError(f"Got {n + 2}D input, but {mode} mode needs {_MODE_DIMS[mode] + 2}D input")
    sp = [int(s) for s in input.shape[2:]]
    if out_size is None:
        out_size = [math.floor(float(sp[i]) * scales[i]) for i in range(n)]
    if mode == "area":  # torch's area mode is adaptive average pooling, with its checks (no size check here)
        return _adaptive_avg(f"adaptive_avg_pool{n}d", n, input, tuple(out_size))
    if any(o <= 0 for o in out_size) or any(s <= 0 for s in sp):
        names = {1: ("W",), 2: ("H", "W"), 3: ("D", "H", "W")}[n]
        ins = ", ".join(f"{nm}: {v}" for nm, v in zip(names, sp))
        outs = ", ".join(f"{nm}: {v}" for nm, v in zip(names, out_size))
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({ins}) "
                           f"{'and ' if n == 1 else ''}output ({outs})")
    if input.numel() == 0 and input.shape[1] == 0:  # an empty batch is fine, no channels is not (torch's kernels)
        raise RuntimeError(f"Non-empty {n + 2}D data tensor expected but got a tensor with sizes {list(input.shape)}")
    kern = {"nearest": "compute_indices_weights_nearest", "nearest-exact": "compute_indices_weights_nearest",
            "linear": "compute_indices_weights_linear", "bilinear": "compute_indices_weights_linear",
            "trilinear": "compute_indices_weights_linear", "bicubic": "compute_indices_weights_cubic",
            "lanczos": "compute_indices_weights_aa"}[mode]
    if input.dtype.category < 2 or input.dtype.category == 3:
        raise NotImplementedError(f"\"{kern}\" not implemented for '{_tname(input)}'")
    dt = _np_dt(input)
    maps = []
    for i in range(n):
        sc = scales[i] if scales is not None else None
        if mode in ("nearest", "nearest-exact"):
            src = _nearest_map(sp[i], out_size[i], sc, mode == "nearest-exact")
            if out_size[i] == sp[i] and np.array_equal(src, np.arange(sp[i])):
                continue
            maps.append((2 + i, src.reshape(-1, 1), None, sp[i]))
        elif antialias:
            idx, w = _aa_map(sp[i], out_size[i], align_corners, sc, mode)
            maps.append((2 + i, idx, w, sp[i]))
        elif mode == "bicubic":
            idx, w = _cubic_map(sp[i], out_size[i], align_corners, sc, dt)
            maps.append((2 + i, idx, w, sp[i]))
        else:
            idx, w = _linear_map(sp[i], out_size[i], align_corners, sc, dt)
            maps.append((2 + i, idx, w, sp[i]))
    label = {"nearest": "UpsampleNearest", "nearest-exact": "UpsampleNearestExact", "linear": "UpsampleLinear",
             "bilinear": "UpsampleBilinear", "trilinear": "UpsampleTrilinear", "bicubic": "UpsampleBicubic",
             "lanczos": "UpsampleLanczos"}[mode]
    node = f"{label}{n}D{'Aa' if antialias else ''}Backward0"
    op = _N.sep_op(f"upsample_{mode}{n}d{'_aa' if antialias else ''}", node)
    return _MF.layout_like_(apply(op, (input,), {"maps": tuple(maps)}), input)  # torch's channels-last rule


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate``."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


_GS_WARN = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please "
            "specify align_corners=True if the old behavior is desired. See the documentation of grid_sample for "
            "details.")


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` at the normalised (x, y[, z]) locations in ``grid``."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_GS_WARN, stacklevel=2)
        align_corners = False
    nd = input.dim()
    if nd in (4, 5) and grid.shape[-1] != nd - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {nd - 2} in last dimension, but got grid with "
                           f"sizes {list(grid.shape)}")
    if nd not in (4, 5) or grid.dim() != nd:
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but got "
                           f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if grid.shape[-1] != nd - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {nd - 2} in last dimension, but got grid with "
                           f"sizes {list(grid.shape)}")
    if mode == "bicubic" and nd != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    for i in range(2, nd):
        if input.shape[i] <= 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but input has "
                               f"sizes {list(input.shape)} with dimension {i} being empty")
    if input.dtype.category < 2 or input.dtype.category == 3:
        kern = "grid_sampler_2d_cpu_kernel_impl" if nd == 4 else "grid_sampler_3d_cpu"
        raise NotImplementedError(f"\"{kern}\" not implemented for '{_tname(input)}'")
    if input.dtype is not grid.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(input.dtype)} but found {_type_name(grid.dtype)}")
    op = _N.GRID_SAMPLE_2D if nd == 4 else _N.GRID_SAMPLE_3D
    return apply(op, (input, grid), {"mode": mode, "padding_mode": padding_mode, "align": bool(align_corners)})


def _base_coords(n, align, dt):
    if n <= 1:
        return np.zeros(max(n, 0), dt) if n == 1 else np.zeros(0, dt)
    v = np.linspace(-1, 1, n, dtype=np.float64)
    if not align:
        v = v * (n - 1) / n
    return v.astype(dt)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, H, W, 2) or (N, D, H, W, 3) of the affine maps ``theta``."""
    if align_corners is None:
        warnings.warn(_GS_WARN, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    given = size
    size = [int(s) for s in size]
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {given}. "
                             f"Got {_size_str(theta.shape)}.")
        spatial = size[2:]
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {given}. "
                             f"Got {_size_str(theta.shape)}.")
        spatial = size[2:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {given}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {given}")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation of "
                      "affine_grid for details.", stacklevel=2)
    dt = theta.dtype.np
    n = len(spatial)
    axes = [_base_coords(s, align_corners, dt) for s in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")
    # coordinate order in the grid is (x, y[, z]): the last spatial dim first
    base = np.stack([mesh[n - 1 - i] for i in range(n)] + [np.ones(mesh[0].shape, dt)], -1)
    P = int(np.prod(spatial))
    b = _N._const(np.ascontiguousarray(base.reshape(1, P, n + 1)), theta)
    grid = b.matmul(theta.transpose(1, 2))
    return grid.reshape([size[0]] + list(spatial) + [n])


def pixel_shuffle(input, upscale_factor):
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r)."""
    nd = input.dim()
    r = int(upscale_factor)
    if nd < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with {nd} "
                           f"dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    C, H, W = input.shape[-3:]
    if C % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={C} is not divisible by {r * r}")
    lead = list(input.shape[:-3])
    k = len(lead)
    x = input.reshape(lead + [C // (r * r), r, r, H, W])
    perm = list(range(k)) + [k, k + 3, k + 1, k + 4, k + 2]
    return x.permute(perm).reshape(lead + [C // (r * r), H * r, W * r])


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W)."""
    nd = input.dim()
    r = int(downscale_factor)
    if nd < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with {nd} "
                           f"dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    C, H, W = input.shape[-3:]
    if H % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but "
                           f"input.size(-2)={H} is not divisible by {r}")
    if W % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, but "
                           f"input.size(-1)={W} is not divisible by {r}")
    lead = list(input.shape[:-3])
    k = len(lead)
    x = input.reshape(lead + [C, H // r, r, W // r, r])
    perm = list(range(k)) + [k, k + 2, k + 4, k + 1, k + 3]
    return x.permute(perm).reshape(lead + [C * r * r, H // r, W // r])


def channel_shuffle(input, groups):
    """Interleave channel groups: (N, g * c, *) -> view as (N, g, c, *), swap g and c."""
    nd = input.dim()
    if nd <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes "
                           f"{list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    N, C = input.shape[0], input.shape[1]
    if C % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {C} channels and {groups} groups.")
    rest = list(input.shape[2:])
    x = input.reshape([N, groups, C // groups] + rest)
    return x.transpose(1, 2).reshape([N, C] + rest)


native_channel_shuffle = channel_shuffle


# ---------------------------------------------------------------- distances and attention
def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim."""
    nd = max(x1.dim(), x2.dim())
    d = x1 - x2 + eps
    if nd == 0:
        return d.abs() if not keepdim else d.abs()
    return _linalg().vector_norm(d, p, nd - 1, keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between x1 and x2 along ``dim`` (each norm clamped below by eps)."""
    if x1.dtype.category < 2:
        x1 = x1.to(D.get_default_dtype())
    if x2.dtype.category < 2:
        x2 = x2.to(D.get_default_dtype())
    shape = _bshape(x1.shape, x2.shape)
    a, b = x1.expand(shape), x2.expand(shape)
    na = _linalg().vector_norm(a, 2, dim, True)
    nb = _linalg().vector_norm(b, 2, dim, True)
    # the clamp changes values only: the gradient still flows through the norms unchanged
    na = na + (na.clamp_min(eps) - na).detach()
    nb = nb + (nb.clamp_min(eps) - nb).detach()
    return ((a / na) * (b / nb)).sum(dim)


def pdist(input, p=2):
    """Distances between all pairs of rows (i < j) of a 2-D input, in row-major pair order."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    if input.dtype.category != 2:
        raise RuntimeError("pdist only supports floating-point dtypes")
    n = input.shape[0]
    i, j = np.triu_indices(n, 1)
    a = input.index_select(0, _N._const(i.astype(np.int64), input))
    b = input.index_select(0, _N._const(j.astype(np.int64), input))
    return _linalg().vector_norm(a - b, p, 1)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(q k^T * scale + mask) v, with causal / boolean / additive masks, dropout and grouped-query heads."""
    ops = _ops()
    if not (query.dtype is key.dtype is value.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{_ctype(query.dtype)} key.dtype: {_ctype(key.dtype)} and value.dtype: "
                           f"{_ctype(value.dtype)} instead.")
    if query.dtype.category != 2:
        raise RuntimeError(f"expected scalar type Float but found {_type_name(query.dtype)}")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    L, S = query.shape[-2], key.shape[-2]
    E = query.shape[-1]
    # no features: every score is 0 (torch scales q and k, not their empty product), so any finite scale does
    sf = (1.0 / math.sqrt(E) if E else 1.0) if scale is None else scale
    if enable_gqa and query.dim() >= 3 and key.dim() >= 3:
        hq, hk = query.shape[-3], key.shape[-3]
        if hk != hq and hk and hq % hk == 0:
            key = key.repeat_interleave(hq // hk, -3)
            value = value.repeat_interleave(hq // hk, -3)
    _bshape(query.shape[:-2], key.shape[:-2])
    if _fused_attention_ok(query, key, value, attn_mask, dropout_p):
        return _N.sdpa_fused(query, key, value, attn_mask, sf, is_causal)
    w = query.matmul(key.transpose(-2, -1)) * sf
    mask = None
    if is_causal:
        mask = ops.ones((L, S), dtype=D.bool_, device=query.device).tril(0)
    elif attn_mask is not None:
        if attn_mask.dtype is D.bool_:
            mask = attn_mask
        else:
            w = w + attn_mask
    if mask is not None:
        w = w.masked_fill(mask.logical_not(), -math.inf)
    p = softmax(w, -1)
    # rows with every key masked out give zeros (not NaN), as torch's kernels do
    dead = w.isneginf().all(-1, keepdim=True) if (mask is not None or attn_mask is not None) else None
    if dead is not None:
        p = p.masked_fill(dead, 0.0)
    if dropout_p > 0.0:
        p = dropout(p, dropout_p, True)
    return p.matmul(value)


def _fused_attention_ok(q, k, v, mask, dropout_p):
    """Where torch's CPU kernel is the fused (flash) one: 4-D q/k/v sharing (batch, heads), no dropout, no mask or
    a 2-D/4-D one (boolean, or of the query's dtype and not requiring grad) that broadcasts to (batch, heads, L, S)."""
    if dropout_p != 0.0 or not q.dim() == k.dim() == v.dim() == 4:
        return False
    if not (q.shape[:2] == k.shape[:2] == v.shape[:2] and q.shape[-1] == k.shape[-1] and k.shape[-2] == v.shape[-2]):
        return False
    if mask is None:
        return True
    full = tuple(q.shape[:-1]) + (k.shape[-2],)
    if mask.dtype is not D.bool_ and mask.dtype is not q.dtype or mask.dim() not in (2, 4) or mask.requires_grad:
        return False
    try:
        return np.broadcast_shapes(tuple(mask.shape), full) == full
    except ValueError:
        return False


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """Sample from the Gumbel-softmax distribution (straight-through one-hot when ``hard``)."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    ops = _ops()
    with grad_mode.no_grad():
        gumbels = -ops.empty_like(logits).exponential_().log()
    y = softmax((logits + gumbels) / tau, dim)
    if hard:
        index = y.max(dim, keepdim=True)[1]
        y_hard = ops.zeros_like(logits).scatter_(dim, index, 1.0)
        return y_hard - y.detach() + y
    return y


# ---------------------------------------------------------------- losses
def _reduction(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='mean' instead."
                  if size_average is not False and reduce is not False else
                  "size_average and reduce args will be deprecated, please use reduction='sum' instead."
                  if reduce is not False else
                  "size_average and reduce args will be deprecated, please use reduction='none' instead.")
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _check_reduction(reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _size_warn(input, target):
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({_size_str(target.shape)}) that is different to the input size "
                      f"({_size_str(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
                      f"Please ensure they have the same size.", UserWarning, stacklevel=3)


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None, reduction="mean",
                         ignore_index=None, label_smoothing=0.0, options=None):
    """cross_entropy(linear(input, linear_weight, linear_bias), target, ...)."""
    logits = linear(input, linear_weight, linear_bias)
    return cross_entropy(logits, target, weight, ignore_index=-100 if ignore_index is None else ignore_index,
                         reduction=reduction, label_smoothing=label_smoothing)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention forward pass (the computation behind nn.MultiheadAttention)."""
    from .modules.activation import multi_head_attention_forward as mha
    return mha(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
               add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training, key_padding_mask, need_weights,
               attn_mask, use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, static_k,
               static_v, average_attn_weights, is_causal)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of class indices ``target`` under log-probabilities ``input``."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if input.dim() >= 2 and target.dim() >= 1 and target.shape[0] != input.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target.shape[0]}).")
    if target.dtype.category != 1:
        raise RuntimeError(f"expected scalar type Long but found {target.dtype.name.capitalize()}")
    _no_grad_arg("nll_loss_forward", "weight", weight)
    if weight is not None and weight.dtype is not input.dtype:  # torch does not promote the class weights
        raise RuntimeError(f"expected scalar type {_type_name(input.dtype)} but found {_type_name(weight.dtype)}")
    return _N.nll_loss_op(input, target, weight, ignore_index, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy from logits; ``target`` holds class indices or class probabilities."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    cdim = 1 if input.dim() >= 2 else 0
    logp = log_softmax(input, cdim)
    if target.dtype.category >= 2:  # class probabilities
        if target.shape != input.shape:
            raise RuntimeError(f"Expected target size {list(input.shape)}, got {list(target.shape)}")
        n_classes = input.shape[cdim]
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / n_classes
        w = 1.0
        if weight is not None:
            shape = [1] * input.dim()
            shape[cdim] = n_classes
            w = weight.reshape(shape)
        losses = -(logp * target * w).sum(cdim)
        if reduction == "none":
            return losses
        if reduction == "sum":
            return losses.sum()
        n = input.numel() // max(n_classes, 1) if input.dim() >= 1 else 1
        return losses.sum() / n
    loss = nll_loss(logp, target, weight, None, ignore_index, None, reduction)
    if label_smoothing > 0:
        n_classes = input.shape[cdim]
        valid = (target != ignore_index)
        if weight is not None:
            shape = [1] * input.dim()
            shape[cdim] = n_classes
            smooth = -(logp * weight.reshape(shape)).sum(cdim)
        else:
            smooth = -logp.sum(cdim)
        smooth = smooth * valid
        if reduction == "mean":
            if weight is not None:
                denom = (weight[target.masked_fill(~valid, 0)] * valid).sum()
            else:
                denom = valid.sum()
            smooth = smooth.sum() / denom
        elif reduction == "sum":
            smooth = smooth.sum()
        loss = loss * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)
    return loss


def _weight_size(input, weight):
    if weight is not None and tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")


def _pointwise_loss(diff_fn, input, target, reduction, weight=None):
    _size_warn(input, target)
    _check_reduction(reduction)
    _weight_size(input, weight)
    loss = diff_fn(input, target)
    if weight is None:
        return _reduce(loss, reduction)
    loss = loss * weight
    # a weighted mean: divided by the total weight, not the element count
    return loss.sum() / weight.sum() if reduction == "mean" else _reduce(loss, reduction)


def _loss_op(op, input, target, reduction, **kw):
    """One loss op (reduction inside, torch's single XLossBackward0 node) for floating inputs; None when
    the inputs are not both floating tensors (the composite path keeps torch's errors for those)."""
    if isinstance(input, Tensor) and isinstance(target, Tensor) and input.dtype.category == 2 and \
            target.dtype.category == 2:
        return apply(op, (input, target), dict(kw, reduction=reduction))
    return None


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (a weighted mean when ``weight`` is given)."""
    reduction = _reduction(size_average, reduce, reduction)
    if weight is None and reduction in ("none", "mean", "sum"):
        _size_warn(input, target)
        r = _loss_op(_L.MSE, input, target, reduction)
        if r is not None:
            return r
    return _pointwise_loss(lambda a, b: (a - b) ** 2, input, target, reduction, weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error (a weighted mean when ``weight`` is given)."""
    return _pointwise_loss(lambda a, b: (a - b).abs(), input, target, _reduction(size_average, reduce, reduction),
                           weight)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(t log x + (1 - t) log(1 - x)), each log clamped at -100 as in torch."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({_size_str(target.shape)}) that is different to the input size "
                         f"({_size_str(input.shape)}) is deprecated. Please ensure they have the same size.")
    _check_reduction(reduction)
    if target.dtype is not input.dtype:
        raise RuntimeError(f"Found dtype {_type_name(target.dtype)} but expected {_type_name(input.dtype)}")
    _no_grad_arg("binary_cross_entropy", "weight", weight)
    if weight is not None:
        if weight.dtype is not input.dtype:  # the weight never promotes the loss (torch multiplies in place)
            weight = weight.to(input.dtype)
        weight = weight.expand(_bshape(target.shape, weight.shape))
    if input.numel() and input.device.type != "meta":
        x = input._data
        if not bool(((x >= 0) & (x <= 1)).all()):
            raise RuntimeError("all elements of input should be between 0 and 1")
    if reduction != "none":
        return apply(_L.BCE_REDUCED, (input, target) if weight is None else (input, target, weight),
                     {"reduction": reduction})
    return apply(_N.BCE, (input, target) if weight is None else (input, target, weight), {})


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable step (log1p(exp(-|x|)) form)."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({_size_str(target.shape)}) must be the same as input size "
                         f"({_size_str(input.shape)})")
    _no_grad_arg("binary_cross_entropy_with_logits", "weight", weight)
    _no_grad_arg("binary_cross_entropy_with_logits", "pos_weight", pos_weight)
    # torch builds the loss in place on a tensor of target's dtype: neither the input nor the weights promote it
    dt = target.dtype
    if dt is D.bool_:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                           "`logical_xor()` operator instead.")
    if dt.category == 1 and input.dtype.category >= 2:
        raise RuntimeError(f"result type {_type_name(D.promote_types(input.dtype, dt))} can't be cast to the "
                           f"desired output type {_type_name(dt)}")
    if dt.category >= 2:
        if input.dtype is not dt and D.promote_types(input.dtype, dt) is not dt:
            input = input.to(dt)
        weight = weight.to(dt) if weight is not None and weight.dtype is not dt else weight
        pos_weight = pos_weight.to(dt) if pos_weight is not None and pos_weight.dtype is not dt else pos_weight
    if reduction != "none":
        return apply(_L.BCE_LOGITS_REDUCED, (input, target, weight, pos_weight), {"reduction": reduction})
    return apply(_N.BCE_LOGITS, (input, target, weight, pos_weight), {})


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise KL divergence target * (log target - input) (input holds log-probabilities)."""
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, reduction)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = _ops().xlogy(target, target) - target * input
    if reduction == "batchmean":
        s = loss.sum()
        return s / input.shape[0] if input.dim() != 0 else s
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Poisson negative log-likelihood (optionally with the Stirling term)."""
    reduction = _reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        with np.errstate(divide="ignore", invalid="ignore"):
            st = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + st.masked_fill(target <= 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log-likelihood 0.5 (log var + (input - target)^2 / var)."""
    ops = _ops()
    if isinstance(var, numbers.Number):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = ops.full_like(input, float(var))
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    if bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    var = var.clone()
    with grad_mode.no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Quadratic for |d| < beta, linear beyond (beta = 0 is the L1 loss)."""
    reduction = _reduction(size_average, reduce, reduction)
    _size_warn(input, target)
    _check_reduction(reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta > 0:
        r = _loss_op(_L.SMOOTH_L1, input, target, reduction, beta=beta)
        if r is not None:
            return r
    d = (input - target).abs()
    if beta == 0:
        return _reduce(d, reduction)
    loss = _ops().where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Quadratic for |d| < delta, delta * (|d| - delta / 2) beyond."""
    _size_warn(input, target)
    _check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _weight_size(input, weight)
    if weight is None and input.dtype is target.dtype:
        r = _loss_op(_L.HUBER, input, target, reduction, delta=delta)
        if r is not None:
            return r
    d = (input - target).abs()
    loss = _ops().where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    if loss.dtype is not input.dtype and input.dtype.category >= 2:
        loss = loss.to(input.dtype)  # torch writes the loss into a tensor like the input
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-y x))."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _no_grad_arg("soft_margin_loss", "target", target)
    if isinstance(target, Tensor) and input.dtype is target.dtype:
        r = _loss_op(_L.SOFT_MARGIN, input, target, reduction)
        if r is not None:
            return r
    z = -input * target
    if z.dtype is not input.dtype and input.dtype.category >= 2:
        z = z.to(input.dtype)  # torch multiplies in place into -input
    with np.errstate(over="ignore"):
        return _reduce(z.exp().log1p(), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Multi-label one-versus-all logistic loss, averaged over classes."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    cdim = input.dim() - 1
    C = input.shape[cdim] if input.dim() else 1
    loss = loss.sum(cdim) / C if input.dim() else loss / C
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """Multi-class hinge loss sum_{i != y} max(0, margin - x[y] + x[i])^p / C."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    _margin_shape_check(input)
    nd = input.dim()
    if nd > 2 or (nd == 2 and target.dim() != 1) or (nd < 2 and target.dim() > 1):
        raise RuntimeError(f"inconsistent target size, expected {input.shape[0] if nd == 2 else ''} but got "
                           f"{list(target.shape)}")
    x = input.reshape(1, -1) if nd < 2 else input
    t = target.reshape(-1)
    N, C = x.shape
    if t.numel() != N:
        raise RuntimeError(f"inconsistent target size, expected {N} but got {list(target.shape)}")
    if weight is not None and weight.numel() != C:
        raise RuntimeError(f"inconsistent weight size, expected {C} but got {list(weight.shape)}")
    if t.numel() and (bool((t < 0).any()) or bool((t >= C).any())):
        raise RuntimeError("target out of range")
    _no_grad_arg("multi_margin_loss", "weight", weight)
    if weight is not None and weight.dtype is not x.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(x.dtype)} but found {_type_name(weight.dtype)}")
    if input.dtype.category == 2 and target.dtype is D.int64:
        # one op, torch's single MultiMarginLossBackward0 node
        return apply(_L.MULTI_MARGIN, (input, target, weight),
                     {"p": p, "margin": margin, "reduction": reduction})
    xy = x.gather(1, t.unsqueeze(1))
    z = (margin - xy + x).clamp(min=0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight.index_select(0, t).unsqueeze(1)
    other = _ops().ones((N, C), dtype=x.dtype, device=x.device).scatter_(1, t.unsqueeze(1), 0.0)
    loss = (z * other).sum(1) / C
    if nd < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def _margin_shape_check(input):
    # torch's multi(label)_margin_loss take a scalar, a vector or a matrix; only the batch (dim 0 of a matrix) may be 0
    nd = input.dim()
    if not (nd == 0 or (nd in (1, 2) and input.shape[-1] != 0)):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Hinge loss between each listed target class and every non-target class (targets end at the first -1)."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _margin_shape_check(input)
    nd = input.dim()
    x = input.reshape(1, -1) if nd < 2 else input
    N, C = x.shape
    th = _host(target).astype(np.int64).reshape(N, C) if target.numel() == N * C else None
    if th is None or target.shape != input.shape:
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)}")
    valid = np.cumprod(th != -1, axis=1).astype(bool)
    if np.any(valid & ((th < -1) | (th >= C))) or np.any(valid & (th < 0)):
        raise RuntimeError("argument #2 'target' is out of range")
    if input.dtype.category == 2 and target.dtype is D.int64:
        # one op, torch's single MultilabelMarginLossBackward0 node
        return apply(_L.MULTILABEL_MARGIN, (input, target), {"reduction": reduction})
    cnt = np.zeros((N, C))
    rows = np.repeat(np.arange(N), C).reshape(N, C)
    np.add.at(cnt, (rows[valid], th[valid]), 1)
    is_t = cnt > 0
    M = cnt[:, :, None] * (~is_t)[:, None, :]
    hinge = (1 - x.unsqueeze(2) + x.unsqueeze(1)).clamp(min=0)
    loss = (hinge * _N._const(M.astype(x.dtype.np), x)).sum((1, 2)) / C
    if nd < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x where y == 1, max(0, margin - x) where y == -1."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    ops = _ops()
    zeros = ops.zeros_like(input)
    margin_clamp = (margin - input).clamp(min=0)
    out = ops.where(target != 1, margin_clamp, zeros) + ops.where(target != -1, input, zeros)
    return _reduce(out, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) for y == 1, max(0, cos(x1, x2) - margin) for y == -1."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    ops = _ops()
    td = target.dim()
    if td == 0 and not (input1.dim() == 1 and input2.dim() == 1):
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    if td == 1 and not (input1.dim() == 2 and input2.dim() == 2):
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    if td > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    dim = 1 if input1.dim() == 2 else 0
    eps = 1e-12
    prod = (input1 * input2).sum(dim)
    m1 = (input1 * input1).sum(dim) + eps
    m2 = (input2 * input2).sum(dim) + eps
    cos = prod / (m1 * m2).sqrt()
    zeros = ops.zeros_like(cos)
    pos = 1 - cos
    neg = (cos - margin).clamp(min=0)
    out = ops.where(target == 1, pos, zeros) + ops.where(target == -1, neg, zeros)
    return _reduce(out, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -y (x1 - x2) + margin)."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not (input1.dim() == input2.dim() == target.dim()):
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: input1: "
                           f"{_size_str(input1.shape)}, input2: {_size_str(input2.shape)}, target: "
                           f"{_size_str(target.shape)} ")
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def _triplet_dims(anchor, positive, negative):
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == p == n):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a}D, positive {p}D, and negative {n}D inputs")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, margin + d(a, p) - d(a, n)) with p-norm distances (``swap`` uses min(d(a, n), d(p, n)))."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _triplet_dims(anchor, positive, negative)
    dp = pairwise_distance(anchor, positive, p, eps)
    dn = pairwise_distance(anchor, negative, p, eps)
    if swap:
        dn = _ops().minimum(dn, pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + dp - dn).clamp(min=0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    """Triplet loss with a custom distance function (pairwise_distance by default)."""
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _triplet_dims(anchor, positive, negative)
    dist = distance_function if distance_function is not None else pairwise_distance
    dp = dist(anchor, positive)
    dn = dist(anchor, negative)
    if swap:
        dn = _ops().minimum(dn, dist(positive, negative))
    return _reduce((margin + dp - dn).clamp(min=0), reduction)


def _lengths(x, name):
    if isinstance(x, Tensor):
        return _host(x).astype(np.int64).reshape(-1)
    return np.asarray(list(x) if not isinstance(x, int) else [x], dtype=np.int64).reshape(-1)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist temporal classification loss (log-space forward-backward, batched over samples)."""
    _check_reduction(reduction)
    unbatched = log_probs.dim() == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    if lp.dim() != 3:
        raise RuntimeError(f"ctc_loss: expected log_probs to be 2-D or 3-D, but got {log_probs.dim()}-D")
    T, N, C = lp.shape
    if lp.dtype.category != 2:
        raise NotImplementedError(f"\"ctc_loss_cpu\" not implemented for '{_tname(lp)}'")
    if lp.numel() == 0:  # torch rejects any empty log_probs (batch, time or classes), before the other checks
        raise RuntimeError("log_probs tensor must not be empty")
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    il = _lengths(input_lengths, "input_lengths")
    tl = _lengths(target_lengths, "target_lengths")
    if len(il) != N:
        raise RuntimeError("input_lengths must be of size batch_size")
    if len(tl) != N:
        raise RuntimeError("target_lengths must be of size batch_size")
    tg = _host(targets).astype(np.int64)
    if unbatched:
        tg = tg.reshape(1, -1) if tg.ndim <= 1 else tg
    if tg.ndim == 1:
        if tg.size < tl.sum():
            raise RuntimeError(f"Expected tensor to have size at least {int(tl.sum())} at dimension 0, but got size "
                               f"{tg.size} for argument #2 'targets' (while checking arguments for "
                               f"ctc_loss_allocate_outputs)")
        Smax = int(tl.max()) if N else 0
        pad_t = np.zeros((N, Smax), np.int64)
        off = 0
        for n in range(N):
            pad_t[n, :tl[n]] = tg[off:off + tl[n]]
            off += tl[n]
    else:
        for n in range(N):
            if tl[n] > tg.shape[1]:
                raise RuntimeError(f"Expected tensor to have size at least {int(tl[n])} at dimension 1, but got size "
                                   f"{tg.shape[1]} for argument #2 'targets' (while checking arguments for "
                                   f"ctc_loss_allocate_outputs)")
        Smax = int(tl.max()) if N else 0
        pad_t = tg[:, :Smax].copy()
        for n in range(N):
            pad_t[n, tl[n]:] = blank
    for n in range(N):
        if il[n] > T:
            raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value {int(il[n])} (while "
                               f"checking arguments for ctc_loss_allocate_outputs)")
        if il[n] < 0:
            raise RuntimeError(f"Expected input_lengths to have value at least 0, but got value {int(il[n])}")
    pad_t = np.clip(pad_t, 0, C - 1)
    kw = {"targets": pad_t, "il": il, "tl": tl, "blank": int(blank), "zero_infinity": bool(zero_infinity)}
    nll = apply(_N.CTC, (lp,), kw)
    if unbatched:
        nll = nll.reshape(())
    if reduction == "mean":
        den = _N._const(np.maximum(tl, 1).astype(lp.dtype.np), lp)
        if unbatched:
            return nll / den.reshape(())
        return (nll / den).mean()
    if reduction == "sum":
        return nll.sum()
    return nll

