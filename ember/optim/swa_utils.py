"""Stochastic weight averaging and EMA of model weights: AveragedModel, SWALR, update_bn (like torch's)."""
import itertools
import math
import warnings
from copy import deepcopy

from .. import _dtype as D
from .. import ops
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..nn.modules.module import Module
from .lr_scheduler import LRScheduler, _per_group

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn",
           "get_ema_avg_fn", "get_swa_avg_fn"]


def _is_float_or_complex(t):
    return t.is_floating_point() or t.is_complex()


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay=0.999):
    """In-place EMA over lists of tensors: ``ema = decay * ema + (1 - decay) * current``."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param_list, current_param_list, _):
        if _is_float_or_complex(ema_param_list[0]):
            for e, c in zip(ema_param_list, current_param_list):
                e.lerp_(c, 1 - decay)
        else:
            for e, c in zip(ema_param_list, current_param_list):
                e.copy_(e * decay + c * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """In-place running mean over lists of tensors: ``avg += (current - avg) / (n + 1)``."""

    @no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        if _is_float_or_complex(averaged_param_list[0]):
            w = 1 / (num_averaged + 1)
            for a, c in zip(averaged_param_list, current_param_list):
                a.lerp_(c, w)
        else:
            diffs = [c - a for a, c in zip(averaged_param_list, current_param_list)]
            if isinstance(num_averaged, Tensor):
                for a, d in zip(averaged_param_list, diffs):
                    a.addcdiv_(d, num_averaged + 1)
            else:
                for a, d in zip(averaged_param_list, diffs):
                    a.add_(d, alpha=1.0 / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """EMA of one tensor, returned: ``decay * ema + (1 - decay) * current``."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """Running mean of one tensor, returned: ``avg + (current - avg) / (n + 1)``."""

    @no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _group_by_device_and_dtype(avg, cur):
    """Pairs of lists keyed by the averaged tensor's (device, dtype), in first-seen order."""
    groups = {}
    for a, c in zip(avg, cur):
        key = (a.device, a.dtype)
        groups.setdefault(key, ([], []))
        groups[key][0].append(a)
        groups[key][1].append(c)
    return groups


class AveragedModel(Module):
    """A copy of ``model`` whose parameters (and buffers with ``use_buffers``) track an average of the
    model's values over ``update_parameters`` calls: equal-weight SWA by default, or ``avg_fn``/``multi_avg_fn``
    (e.g. ``get_ema_multi_avg_fn(0.999)``)."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", ops.tensor(0, dtype=D.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        """Fold ``model``'s current parameters into the average (the first call copies them)."""
        if self.use_buffers:
            mine = itertools.chain(self.module.parameters(), self.module.buffers())
            theirs = itertools.chain(model.parameters(), model.buffers())
        else:
            mine, theirs = self.parameters(), model.parameters()
        avg_list, cur_list = [], []
        first = bool(self.n_averaged == 0)
        for p_avg, p_model in zip(mine, theirs):
            cur = p_model.detach().to(p_avg.device)
            avg_list.append(p_avg.detach())
            cur_list.append(cur)
            if first:
                p_avg.detach().copy_(cur)
        if self.n_averaged > 0:
            if self.multi_avg_fn is not None or self.avg_fn is None:
                for (device, _), (avgs, curs) in _group_by_device_and_dtype(avg_list, cur_list).items():
                    n = self.n_averaged.to(device)
                    if self.multi_avg_fn:
                        self.multi_avg_fn(avgs, curs, n)
                    elif device.type == "cuda":
                        # torch takes the multi-tensor (lerp) path on accelerators
                        get_swa_multi_avg_fn()(avgs, curs, n)
                    else:
                        fn = get_swa_avg_fn()
                        for a, c in zip(avgs, curs):
                            a.copy_(fn(a, c, n))
            else:
                for a, c in zip(avg_list, cur_list):
                    a.detach().copy_(self.avg_fn(a.detach(), c, self.n_averaged.to(a.device)))
        if not self.use_buffers:
            # buffers (e.g. BatchNorm running stats) are not averaged: keep the model's current ones
            for b_avg, b_model in zip(self.module.buffers(), model.buffers()):
                b_avg.detach().copy_(b_model.detach().to(b_avg.device))
        self.n_averaged += 1


@no_grad()
def update_bn(loader, model, device=None):
    """Recompute BatchNorm running statistics with one pass over ``loader`` (cumulative averages)."""
    from ..nn.modules.batchnorm import _BatchNorm
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None  # momentum=None: equal-weight average over all batches
    for inp in loader:
        if isinstance(inp, (list, tuple)):
            inp = inp[0]
        if device is not None:
            inp = inp.to(device)
        model(inp)
    for module, m in momenta.items():
        module.momentum = m
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to ``swa_lr`` over ``anneal_epochs`` (cos or linear), then hold it."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        swa_lrs = _per_group("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        # invert lr = alpha * swa_lr + (1 - alpha) * lr0 for lr0
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                          UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        span = max(1, self.anneal_epochs)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / span)))
        starts = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / span)))
        return [g["swa_lr"] * alpha + lr0 * (1 - alpha) for g, lr0 in zip(self.optimizer.param_groups, starts)]

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
