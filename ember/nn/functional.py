"""ember.nn.functional: the functional forms of layers and losses (``import ember.nn.functional as F``)."""
import warnings

from ..ops import nn_ops as _N
from ..ops._registry import apply

# ---------------------------------------------------------------- linear and activations


def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` (torch.nn.functional.linear)."""
    return _N.linear(input, weight, bias)


def relu(input, inplace=False):
    """max(input, 0)."""
    return input.relu_() if inplace else input.relu()


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim`` (computed stably)."""
    return _N.softmax_like(_N.SOFTMAX, "softmax", input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim``, without forming softmax (stable for large logits)."""
    return _N.softmax_like(_N.LOG_SOFTMAX, "log_softmax", input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return softmax(-input, dim, dtype=dtype)


# ---------------------------------------------------------------- losses
def _reduction(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='mean' instead."
                  if size_average is not False else
                  "size_average and reduce args will be deprecated, please use reduction='sum' instead.")
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _check_reduction(reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


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


def _pointwise_loss(diff_fn, input, target, reduction):
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      f"This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                      f"same size.", UserWarning, stacklevel=3)
    _check_reduction(reduction)
    out = diff_fn(input, target)
    if reduction == "mean":
        return out.mean()
    if reduction == "sum":
        return out.sum()
    return out


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error."""
    return _pointwise_loss(lambda a, b: (a - b) ** 2 if weight is None else weight * (a - b) ** 2, input, target,
                           _reduction(size_average, reduce, reduction))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error."""
    return _pointwise_loss(lambda a, b: (a - b).abs() if weight is None else weight * (a - b).abs(), input, target,
                           _reduction(size_average, reduce, reduction))



def bilinear(input1, input2, weight, bias=None):
    """``y[..., k] = input1 @ weight[k] @ input2 (+ bias[k])``."""
    from .. import ops
    y = ops.einsum("...i,kij,...j->...k", input1, weight, input2)
    return y + bias if bias is not None else y
