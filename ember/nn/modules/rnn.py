"""Recurrent layers: RNN (tanh/relu), LSTM (with projections), GRU and their single-step cells.

Each layer and direction projects the whole input sequence at once, then runs one fused step op per time
step (ember/ops/rnn_ops.py). Packed sequences run the same steps on the shrinking batch of sequences still
running at each step.
"""
import math
import numbers
import warnings
import weakref

from ... import _dtype as D, ops
from ...ops import rnn_ops as R
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _apply_permutation(tensor, permutation, dim=1):
    return tensor.index_select(dim, permutation)


def apply_permutation(tensor, permutation, dim=1):
    """Deprecated: ``tensor.index_select(dim, permutation)``."""
    warnings.warn("`apply_permutation` is deprecated, please use `tensor.index_select(dim, permutation)` instead",
                  FutureWarning, stacklevel=2)
    return _apply_permutation(tensor, permutation, dim)


def _run_direction(mode, steps, h0, c0, w_hh, b_hh, w_hr, reverse, batch_sizes):
    """Run one layer in one direction over the per-step projected inputs; returns (outputs, h_T, c_T)."""
    T = len(steps)
    outs = [None] * T
    h, c = h0, c0
    if reverse and batch_sizes is not None and T and batch_sizes[-1] < h0.shape[0]:
        # the reverse pass starts at the last step, where only the longest sequences are running
        b = batch_sizes[-1]
        h, c = h0[:b], (c0[:b] if c0 is not None else None)
    relu = mode == "RNN_RELU"
    order = range(T - 1, -1, -1) if reverse else range(T)
    finished = []  # (h, c) rows of sequences that ended, latest first at the end
    for t in order:
        if batch_sizes is not None:
            b = batch_sizes[t]
            n = h.shape[0]
            if b < n:  # forward direction: the shortest sequences stop here
                finished.append((h[b:], c[b:] if c is not None else None))
                h = h[:b]
                c = c[:b] if c is not None else None
            elif b > n:  # reverse direction: longer sequences join with their initial state
                h = ops.cat([h, h0[n:b]])
                c = ops.cat([c, c0[n:b]]) if c is not None else None
        x = steps[t]
        if mode == "LSTM":
            h, c = R.lstm_cell(x, h, c, w_hh, b_hh)
            if w_hr is not None:
                h = F.linear(h, w_hr)
        elif mode == "GRU":
            h = R.gru_cell(x, h, w_hh, b_hh)
        else:
            h = R.rnn_cell(x, h, w_hh, b_hh, relu)
        outs[t] = h
    if finished:
        h = ops.cat([h] + [f[0] for f in reversed(finished)])
        if c is not None:
            c = ops.cat([c] + [f[1] for f in reversed(finished)])
    return outs, h, c


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU: parameters per layer and direction, checks, the layer loop."""

    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                     "bidirectional", "proj_size"]
    __jit_unused_properties__ = ["all_weights"]

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        fk = {"device": device, "dtype": dtype}
        super().__init__()
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout = float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        self._flat_weight_refs = []
        num_directions = 2 if bidirectional else 1
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                             "being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          stacklevel=2)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                real_hidden = proj_size if proj_size > 0 else hidden_size
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                params = [Parameter(ops.empty((gate_size, layer_input), **fk)),
                          Parameter(ops.empty((gate_size, real_hidden), **fk))]
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    params += [Parameter(ops.empty(gate_size, **fk)), Parameter(ops.empty(gate_size, **fk))]
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    params.append(Parameter(ops.empty((proj_size, hidden_size), **fk)))
                    names.append("weight_hr_l{}{}")
                suffix = "_reverse" if direction == 1 else ""
                names = [x.format(layer, suffix) for x in names]
                for name, p in zip(names, params):
                    setattr(self, name, p)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self._init_flat_weights()
        self.reset_parameters()

    def _init_flat_weights(self):
        self._flat_weights = [getattr(self, wn) if hasattr(self, wn) else None for wn in self._flat_weights_names]
        self._flat_weight_refs = [weakref.ref(w) if w is not None else None for w in self._flat_weights]
        self.flatten_parameters()

    def __setattr__(self, attr, value):
        if hasattr(self, "_flat_weights_names") and attr in self._flat_weights_names:
            self._flat_weights[self._flat_weights_names.index(attr)] = value
        super().__setattr__(attr, value)

    def flatten_parameters(self):
        """A no-op: ember keeps each weight as its own tensor (torch packs them for cuDNN)."""

    def _apply(self, fn, recurse=True):
        self._flat_weight_refs = []
        ret = super()._apply(fn, recurse)
        self._init_flat_weights()
        return ret

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def check_input(self, input, batch_sizes):
        w0 = self._flat_weights[0]
        if input.dtype != w0.dtype and not _any_autocast():
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype ({w0.dtype}). Convert "
                             f"input: input.to({w0.dtype}), or convert model: model.to({input.dtype})")
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * num_directions, mini_batch, size)

    def check_hidden_size(self, hx, expected_hidden_size, msg="Expected hidden size {}, got {}"):
        if hx.size() != expected_hidden_size:
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def _weights_have_changed(self):
        params = self._parameters
        for ref, name in zip(self._flat_weight_refs, self._flat_weights_names):
            # (a registered weight is in _parameters: looking there first skips Module.__getattr__'s search)
            weight = params[name] if name in params else getattr(self, name, None)
            if weight is not None and ref is not None and ref() is not weight:
                return True
        return False

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return _apply_permutation(hx, permutation)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def _update_flat_weights(self):
        if self._weights_have_changed():
            self._init_flat_weights()

    def __getstate__(self):
        self._update_flat_weights()
        state = self.__dict__.copy()
        del state["_flat_weight_refs"]
        return state

    def __setstate__(self, d):
        super().__setstate__(d)
        if "all_weights" in d:
            self._all_weights = d["all_weights"]
        if "proj_size" not in d:
            self.proj_size = 0
        self._flat_weights = [getattr(self, wn) if hasattr(self, wn) else None for wn in self._flat_weights_names]
        self._flat_weight_refs = [weakref.ref(w) if w is not None else None for w in self._flat_weights]

    @property
    def all_weights(self):
        """The parameters per layer and direction, in torch's order."""
        return [[getattr(self, w) for w in ws] for ws in self._all_weights]

    # ------------------------------------------------------------ the computation
    def _layer_weights(self, idx):
        names = self._all_weights[idx]
        ws = [getattr(self, n) for n in names]
        w_ih, w_hh = ws[0], ws[1]
        b_ih = b_hh = w_hr = None
        k = 2
        if self.bias:
            b_ih, b_hh = ws[2], ws[3]
            k = 4
        if self.proj_size > 0:
            w_hr = ws[k]
        return w_ih, w_hh, b_ih, b_hh, w_hr

    def _run(self, x, h0, c0, batch_sizes):
        """x: (T, B, I) or packed data (N, I); h0/c0: (L * D, B, H), or both None for zeros (an LSTM's fused
        layers then start from zeros without forming them). Returns (output, h_n, c_n)."""
        D = 2 if self.bidirectional else 1
        lstm = self.mode == "LSTM"
        bs = None if batch_sizes is None else [int(b) for b in batch_sizes.tolist()]
        if (x.shape[0] if bs is None else len(bs)) == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        hs, cs = [], []
        layer_input = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                idx = layer * D + d
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_weights(idx)
                if lstm and w_hr is None and bs is None and _layer_kernel(layer_input, w_ih):
                    o, h, c = R.lstm_layer(layer_input, w_ih, w_hh, b_ih, b_hh, None if h0 is None else h0[idx],
                                           None if c0 is None else c0[idx], d == 1)
                    outs.append(o)
                    hs.append(h)
                    cs.append(c)
                    continue
                xw = F.linear(layer_input, w_ih, b_ih)
                steps = R.split_steps(xw, bs)
                if h0 is None:
                    h0, c0 = self._zero_states(x.shape[1] if bs is None else bs[0], x)
                o, h, c = _run_direction(self.mode, steps, h0[idx], c0[idx] if lstm else None, w_hh,
                                         b_hh, w_hr, d == 1, bs)
                outs.append(ops.stack(o) if bs is None else ops.cat(o))
                hs.append(h)
                cs.append(c)
            out = outs[0] if D == 1 else ops.cat(outs, -1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                out = F.dropout(out, self.dropout, True)
            layer_input = out
        if len(hs) == 1:  # (a view instead of a one-tensor stack's copy)
            return layer_input, hs[0].unsqueeze(0), (cs[0].unsqueeze(0) if lstm else None)
        return layer_input, ops.stack(hs), (ops.stack(cs) if lstm else None)

    def _zero_states(self, B, like):
        """Zero initial states for a batch of B sequences, in the dtype and on the device of ``like``: (h0, c0),
        c0 None for RNN and GRU."""
        n = self.num_layers * (2 if self.bidirectional else 1)
        h0 = ops.zeros(n, B, self.proj_size or self.hidden_size, dtype=like.dtype, device=like.device)
        if self.mode != "LSTM":
            return h0, None
        return h0, ops.zeros(n, B, self.hidden_size, dtype=like.dtype, device=like.device)

    def _check_hidden_dtype(self, input, *hs):
        if _any_autocast():
            return  # torch's autocast lowers the steps' matmuls whatever the states' dtype
        for h in hs:
            if h.dtype != input.dtype:
                from ...ops._registry import _type_name
                raise RuntimeError(f"Input and hidden tensors are not the same dtype, found input tensor with "
                                   f"{_type_name(input.dtype)} and hidden tensor with {_type_name(h.dtype)}")

    def _forward_single_state(self, input, hx, name):
        """RNN and GRU: one state tensor."""
        self._update_flat_weights()
        orig_input = input
        if isinstance(orig_input, PackedSequence):
            input, batch_sizes, sorted_indices, unsorted_indices = input
            if hx is None:
                hx = self._zero_states(int(batch_sizes[0]), input)[0]
            else:
                hx = self.permute_hidden(hx, sorted_indices)
        else:
            batch_sizes = None
            if input.dim() not in (2, 3):
                what = "RNN: Expected input to be 2D or 3D, got {}D tensor instead" if name == "RNN" else \
                    name + ": Expected input to be 2D or 3D, got {}D instead"
                raise ValueError(what.format(input.dim()))
            is_batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            if not is_batched:
                input = input.unsqueeze(batch_dim)
                if hx is not None:
                    if hx.dim() != 2:
                        raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D "
                                           "tensor")
                    hx = hx.unsqueeze(1)
            elif hx is not None and hx.dim() != 3:
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
            max_batch_size = input.size(0) if self.batch_first else input.size(1)
            sorted_indices = unsorted_indices = None
            if hx is None:
                hx = self._zero_states(max_batch_size, input)[0]
        self.check_forward_args(input, hx, batch_sizes)
        x = input.transpose(0, 1) if batch_sizes is None and self.batch_first else input
        output, hidden, _ = self._run(x, hx, None, batch_sizes)
        if isinstance(orig_input, PackedSequence):
            return PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices), \
                self.permute_hidden(hidden, unsorted_indices)
        if self.batch_first:
            output = output.transpose(0, 1)
        if not is_batched:
            output = output.squeeze(batch_dim)
            hidden = hidden.squeeze(1)
        return output, self.permute_hidden(hidden, unsorted_indices)


def _layer_kernel(x, w):
    """Whether torch runs this LSTM layer as one fused CPU kernel (float32/bfloat16, same dtype as the weights;
    under autocast the per-step route applies the casts)."""
    return x.device.type == "cpu" and x.dtype is w.dtype and x.dtype in (D.float32, D.bfloat16) and \
        not _any_autocast()


def _any_autocast():
    global _autocast_on
    if _autocast_on is None:  # (amp sits above nn: imported on first use)
        from ...amp.autocast_mode import is_any_autocast_enabled as _autocast_on
    return _autocast_on()


_autocast_on = None


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input, hx=None):
        """(output, h_n) for input (L, N, H_in) / (N, L, H_in) / (L, H_in) or a PackedSequence."""
        return self._forward_single_state(input, hx, "RNN")


class LSTM(RNNBase):
    """Long short-term memory; ``proj_size`` > 0 projects h_t with weight_hr."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return _apply_permutation(hx[0], permutation), _apply_permutation(hx[1], permutation)

    def forward(self, input, hx=None):
        """(output, (h_n, c_n)) for input (L, N, H_in) / (N, L, H_in) / (L, H_in) or a PackedSequence."""
        self._update_flat_weights()
        orig_input = input
        batch_sizes = None
        if isinstance(orig_input, PackedSequence):
            input, batch_sizes, sorted_indices, unsorted_indices = input
            if hx is None:
                hx = self._zero_states(int(batch_sizes[0]), input)
            else:
                hx = self.permute_hidden(hx, sorted_indices)
            self.check_forward_args(input, hx, batch_sizes)
        else:
            if input.dim() not in (2, 3):
                raise ValueError(f"LSTM: Expected input to be 2D or 3D, got {input.dim()}D instead")
            is_batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            if not is_batched:
                input = input.unsqueeze(batch_dim)
            sorted_indices = unsorted_indices = None
            if hx is None:
                self.check_input(input, batch_sizes)  # (zero states: _run forms them where it needs them)
            else:
                if is_batched:
                    if hx[0].dim() != 3 or hx[1].dim() != 3:
                        raise RuntimeError(f"For batched 3-D input, hx and cx should also be 3-D but got "
                                           f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
                else:
                    if hx[0].dim() != 2 or hx[1].dim() != 2:
                        raise RuntimeError(f"For unbatched 2-D input, hx and cx should also be 2-D but got "
                                           f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
                    hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
                self.check_forward_args(input, hx, batch_sizes)
        if hx is not None:
            self._check_hidden_dtype(input, hx[0], hx[1])
        x = input.transpose(0, 1) if batch_sizes is None and self.batch_first else input
        output, h_n, c_n = self._run(x, *(hx if hx is not None else (None, None)), batch_sizes)
        hidden = (h_n, c_n)
        if isinstance(orig_input, PackedSequence):
            return PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices), \
                self.permute_hidden(hidden, unsorted_indices)
        if self.batch_first:
            output = output.transpose(0, 1)
        if not is_batched:
            output = output.squeeze(batch_dim)
            hidden = (hidden[0].squeeze(1), hidden[1].squeeze(1))
        return output, self.permute_hidden(hidden, unsorted_indices)


class GRU(RNNBase):
    """Gated recurrent unit (gates r, z, n in torch's layout)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        """(output, h_n) for input (L, N, H_in) / (N, L, H_in) / (L, H_in) or a PackedSequence."""
        return self._forward_single_state(input, hx, "GRU")


# ---------------------------------------------------------------- cells
class RNNCellBase(Module):
    """Shared parameters of the single-step cells (weight_ih, weight_hh, bias_ih, bias_hh)."""

    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        fk = {"device": device, "dtype": dtype}
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(ops.empty((num_chunks * hidden_size, input_size), **fk))
        self.weight_hh = Parameter(ops.empty((num_chunks * hidden_size, hidden_size), **fk))
        if bias:
            self.bias_ih = Parameter(ops.empty(num_chunks * hidden_size, **fk))
            self.bias_hh = Parameter(ops.empty(num_chunks * hidden_size, **fk))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += f", bias={self.bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _check_cell(self, input, hx):
        # torch's cell kernels check sizes against the parameters
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected {self.input_size}")
        for i, h in enumerate(hx):
            if h.size(0) != input.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{i} batch size "
                                   f"{h.size(0)}")
            if h.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {h.size(1)}, expected "
                                   f"{self.hidden_size}")


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)."""

    __constants__ = ["input_size", "hidden_size", "bias", "nonlinearity"]

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if input.dim() not in (1, 2):
            raise ValueError(f"RNNCell: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"RNNCell: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if hx is None:
            hx = ops.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
        elif not is_batched:
            hx = hx.unsqueeze(0)
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        self._check_cell(input, (hx,))
        ret = R.rnn_cell(F.linear(input, self.weight_ih, self.bias_ih), hx, self.weight_hh, self.bias_hh,
                         self.nonlinearity == "relu")
        return ret if is_batched else ret.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if input.dim() not in (1, 2):
            raise ValueError(f"LSTMCell: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None:
            for idx, value in enumerate(hx):
                if value.dim() not in (1, 2):
                    raise ValueError(f"LSTMCell: Expected hx[{idx}] to be 1D or 2D, got {value.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if hx is None:
            zeros = ops.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
            hx = (zeros, zeros)
        elif not is_batched:
            hx = (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
        self._check_cell(input, hx)
        h, c = R.lstm_cell(F.linear(input, self.weight_ih, self.bias_ih), hx[0], hx[1], self.weight_hh,
                           self.bias_hh)
        return (h, c) if is_batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if input.dim() not in (1, 2):
            raise ValueError(f"GRUCell: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"GRUCell: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if hx is None:
            hx = ops.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
        elif not is_batched:
            hx = hx.unsqueeze(0)
        self._check_cell(input, (hx,))
        ret = R.gru_cell(F.linear(input, self.weight_ih, self.bias_ih), hx, self.weight_hh, self.bias_hh)
        return ret if is_batched else ret.squeeze(0)
