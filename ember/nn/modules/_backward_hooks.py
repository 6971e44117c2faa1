"""Full backward hooks for Modules: identity nodes around a module's inputs and outputs.

One multi-output identity node wraps all tensor inputs (so a hook sees every grad_input at once and may
replace them) and one wraps the outputs (its pre-hook sees grad_output and runs backward pre-hooks).
"""
import itertools

from ..._tensor import Tensor
from ...autograd import grad_mode
from ...autograd.graph import Node, edge_of


class _IdentityOp:
    """The op of a hook node: passes each gradient through unchanged (its hooks may replace them)."""
    name = "backward_hook"
    node_name = "BackwardHookFunctionBackward"
    save_in = save_out = check = needs = False
    nout = -1

    @staticmethod
    def vjp(g, out, *inputs, n, **kw):
        return tuple(g)


_OP = _IdentityOp()


def _wrap(tensors):
    """Route ``tensors`` (those requiring grad) through one identity node; returns (new tensors, node)."""
    idx = [i for i, t in enumerate(tensors) if isinstance(t, Tensor) and t.requires_grad]
    if not idx or not grad_mode.state.enabled:
        return list(tensors), None
    ins = [tensors[i] for i in idx]
    edges = [edge_of(t) for t in ins]
    metas = [(t._data.shape, t.dtype, t._device, k) for k, t in enumerate(ins)]
    node = Node(_OP, (None,) * len(ins), {"n": len(ins)}, None, edges, metas, ((), None, 0))
    out = list(tensors)
    for k, i in enumerate(idx):
        t = ins[k]
        a = Tensor._make(t._data, t._device, t._storage)
        a.grad_fn, a._rg = node, True
        if k:
            a._output_nr = k
        out[i] = a
    node.kw["positions"] = idx
    return out, node


class BackwardHook:
    """Set up by Module.__call__ when the module has backward hooks."""

    def __init__(self, module):
        self.module = module
        self.n_inputs = 0
        self.grad_outputs = None
        self.input_node = None

    def _hooks(self):
        from .module import _global_backward_hooks
        return list(itertools.chain(_global_backward_hooks.values(), self.module._backward_hooks.values()))

    def _pre_hooks(self):
        from .module import _global_backward_pre_hooks
        return list(itertools.chain(_global_backward_pre_hooks.values(), self.module._backward_pre_hooks.values()))

    def setup_input_hook(self, args):
        self.n_inputs = len(args)
        new, node = _wrap(list(args))
        self.input_node = node
        if node is not None:
            positions = node.kw["positions"]

            def hook(grad_inputs, _grad_outputs):
                full = [None] * self.n_inputs
                for p, g in zip(positions, grad_inputs):
                    full[p] = g
                full = tuple(full)
                for h in self._hooks():
                    r = h(self.module, full, self.grad_outputs)
                    if r is not None:
                        r = tuple(r) if isinstance(r, (tuple, list)) else (r,)
                        if len(r) != len(full):
                            raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got "
                                               f"{len(r)}, but expected {len(full)}")
                        full = r
                return tuple(full[p] for p in positions)
            node.register_hook(hook)
        return tuple(new)

    def setup_output_hook(self, result):
        single = isinstance(result, Tensor)
        outs = [result] if single else list(result) if isinstance(result, (tuple, list)) else None
        if outs is None:
            return result
        new, node = _wrap(outs)
        if node is None:
            return result
        positions = node.kw["positions"]

        def prehook(grad_outputs):
            full = [None] * len(outs)
            for p, g in zip(positions, grad_outputs):
                full[p] = g
            full = tuple(full)
            for h in self._pre_hooks():
                r = h(self.module, full)
                if r is not None:
                    full = tuple(r) if isinstance(r, (tuple, list)) else (r,)
            self.grad_outputs = full
            if self.input_node is None and self._hooks():
                # no input needs a gradient: torch still calls the hooks, with grad_input all None
                for h in self._hooks():
                    h(self.module, (None,) * self.n_inputs, full)
            return tuple(full[p] for p in positions)
        node.register_prehook(prehook)
        if single:
            return new[0]
        return type(result)(new) if isinstance(result, tuple) and type(result) is tuple else \
            (list(new) if isinstance(result, list) else type(result)(*new))
