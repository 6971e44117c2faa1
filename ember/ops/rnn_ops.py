"""Fused recurrent-cell steps (LSTM, GRU, Elman RNN), a whole LSTM layer, and the time-step split, as graph ops.

A recurrent layer runs its input projection for every time step at once (one matmul), then one fused
step op per time step: the gate matmul, the nonlinearities and the state update are a single graph node,
so the per-step Python overhead stays a few microseconds. The ops use the engine's multi-output protocol
(``nout = -1``): the LSTM step returns (h, c) from one node. A float32/bfloat16 LSTM layer on the CPU is a
single node over all steps (torch's MkldnnRnnLayerBackward0), whose backward runs the recurrence on arrays
and forms each weight gradient with one gemm over all steps.

Backward: without ``create_graph`` each step's gradient is computed directly on the arrays from values
stashed by the forward; under ``create_graph`` the same formulas run in ember ops on the recomputed
activations, so higher-order gradients are exact.
"""
import numpy as np

from .._tensor import Tensor
from ..backend import cpu_kernels as _K
from ..autograd import grad_mode
from ..autograd.anomaly_mode import record_stack, state as _anomaly
from ..autograd.graph import Node, edge_of

_gm = grad_mode.state
_make = Tensor._make


class StepOp:
    """A multi-output op (the engine's ``nout`` protocol); ``fwd`` returns (outputs, stash)."""
    nout = -1
    check = True
    needs = True
    save_in = True
    save_out = False
    ufunc = None
    holo = False
    view = False

    def __init__(self, name, fwd, vjp, node, shapes):
        self.name, self.fwd, self.vjp, self.node_name, self.shapes = name, fwd, vjp, node, shapes

    def __repr__(self):
        return f"<ember op {self.name}>"


def run_step(op, args, kw):
    """Run ``op`` on ``args`` (tensors, or None for absent optional inputs); returns its output tensors."""
    dev = dt = None
    rg = False
    for a in args:
        if isinstance(a, Tensor):
            if dev is None:
                dev, dt = a._device, a.dtype
            elif a._device is not dev:
                raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two "
                                   f"devices, {dev} and {a._device}!")
            elif a.dtype is not dt:
                # the step's matmul is where torch notices (hidden state against weight)
                raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_tn(a.dtype)} and {_tn(dt)}")
            rg = rg or a._rg
    be = dev.backend
    if be.is_meta:
        shapes = op.shapes(*[a._data.shape if isinstance(a, Tensor) else None for a in args], **kw)
        res, stash = [be.empty(s, dt.np) for s in shapes], {}
    else:
        arrs = [a._data if isinstance(a, Tensor) else a for a in args]
        with np.errstate(over="ignore"):
            res, stash = op.fwd(be.xp, *arrs, **kw)
        # NumPy's matmul of bfloat16 (ml_dtypes) returns float32: round the step's outputs to its dtype
        res = [r if r.dtype == dt.np else r.astype(dt.np) for r in res]
    outs = [_make(r, dev) for r in res]
    if rg and _gm.enabled and dt.category >= 2:
        edges, metas, versions = [], [], []
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                edges.append(edge_of(a))
                metas.append((a._data.shape, a.dtype, a._device, i))
                versions.append(a._storage._version)
        kw2 = dict(kw)
        kw2.update(stash)
        kw2.update(n=len(outs), dev=dev)
        node = Node(op, tuple(args), kw2, None, edges, metas, (versions, None, 0))
        for k, o in enumerate(outs):
            o.grad_fn, o._rg = node, True
            if k:
                o._output_nr = k
        if _anomaly.enabled:
            record_stack(node)
    return outs


def _tn(d):
    from ._registry import _type_name
    return _type_name(d)


def _sig(xp, x):
    return 1.0 / (1.0 + xp.exp(-x))


def _wrap(arr, dev):
    return _make(arr, dev) if arr is not None else None


def _arr(g):
    return g._data if g is not None else 0


# ---------------------------------------------------------------- LSTM: (gx, h, c, w_hh[, b_hh]) -> (h', c')
# gx is x @ w_ih.T + b_ih for this step; gates are ordered i, f, g, o as in torch.
def _lstm_fwd(xp, gx, h, c, w, b=None):
    gates = gx + xp.matmul(h, w.T)
    if b is not None:
        gates += b
    H = c.shape[-1]
    acts = _sig(xp, gates)  # i, f, o
    acts[:, 2 * H:3 * H] = xp.tanh(gates[:, 2 * H:3 * H])
    i, f, g, o = acts[:, :H], acts[:, H:2 * H], acts[:, 2 * H:3 * H], acts[:, 3 * H:]
    c2 = f * c + i * g
    tc = xp.tanh(c2)
    return [o * tc, c2], {"acts": acts, "tc": tc}


def _lstm_grads(lib, cat, dh, dcn, c, i, f, g, o, tc):
    """d(pre-activation gates) and d(c) from the output gradients (arrays or tensors alike)."""
    do = dh * tc
    dc = dcn + dh * o * (1 - tc * tc)
    dgates = cat([dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g), do * o * (1 - o)])
    return dgates, dc * f


def _lstm_vjp(grads, out, gx, h, c, w, b=None, *, needs, acts, tc, dev, n):
    gh, gc = grads
    H = c.shape[-1]
    if not _gm.enabled:
        xp = dev.backend.xp
        i, f, g, o = acts[:, :H], acts[:, H:2 * H], acts[:, 2 * H:3 * H], acts[:, 3 * H:]
        dgates, dcp = _lstm_grads(xp, lambda xs: xp.concatenate(xs, 1), _arr(gh), _arr(gc), c._data, i, f, g, o,
                                  tc)
        return (_wrap(dgates, dev) if needs[0] else None,
                _wrap(xp.matmul(dgates, w._data), dev) if needs[1] else None,
                _wrap(dcp, dev) if needs[2] else None,
                _wrap(xp.matmul(dgates.T, h._data), dev) if needs[3] else None,
                _wrap(dgates.sum(0), dev) if len(needs) > 4 and needs[4] else None)
    from .. import ops
    gates = gx + h.matmul(w.t())
    if b is not None:
        gates = gates + b
    i, f, g, o = gates.chunk(4, 1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    tc_t = (f * c + i * g).tanh()
    dgates, dcp = _lstm_grads(ops, lambda xs: ops.cat(xs, 1), gh if gh is not None else 0,
                              gc if gc is not None else 0, c, i, f, g, o, tc_t)
    return (dgates if needs[0] else None, dgates.matmul(w) if needs[1] else None, dcp if needs[2] else None,
            dgates.t().matmul(h) if needs[3] else None, dgates.sum(0) if len(needs) > 4 and needs[4] else None)


LSTM_CELL = StepOp("lstm_cell", _lstm_fwd, _lstm_vjp, "LstmCellBackward0",
                   lambda sgx, sh, sc, sw, sb=None: [(sgx[0], sc[-1]), (sgx[0], sc[-1])])


# ---------------------------------------------------------------- GRU: (gx, h, w_hh[, b_hh]) -> (h',)
# gx = x @ w_ih.T + b_ih; gates r, z, n; n = tanh(gx_n + r * (h @ w_hn.T + b_hn)); h' = (1 - z) n + z h
def _gru_fwd(xp, gx, h, w, b=None):
    gh = xp.matmul(h, w.T)
    if b is not None:
        gh += b
    H = h.shape[-1]
    rz = _sig(xp, gx[:, :2 * H] + gh[:, :2 * H])
    r, z = rz[:, :H], rz[:, H:]
    ghn = gh[:, 2 * H:]
    nn = xp.tanh(gx[:, 2 * H:] + r * ghn)
    return [nn + z * (h - nn)], {"rz": rz, "nn": nn, "ghn": ghn}


def _gru_grads(cat, dh2, h, r, z, nn, ghn):
    dn = dh2 * (1 - z) * (1 - nn * nn)
    dz = dh2 * (h - nn) * z * (1 - z)
    dr = dn * ghn * r * (1 - r)
    return cat([dr, dz, dn]), cat([dr, dz, dn * r]), dh2 * z


def _gru_vjp(grads, out, gx, h, w, b=None, *, needs, rz, nn, ghn, dev, n):
    dh2 = grads[0]
    H = h.shape[-1]
    if not _gm.enabled:
        xp = dev.backend.xp
        dgx, dgh, dhd = _gru_grads(lambda xs: xp.concatenate(xs, 1), dh2._data, h._data, rz[:, :H], rz[:, H:],
                                   nn, ghn)
        return (_wrap(dgx, dev) if needs[0] else None,
                _wrap(dhd + xp.matmul(dgh, w._data), dev) if needs[1] else None,
                _wrap(xp.matmul(dgh.T, h._data), dev) if needs[2] else None,
                _wrap(dgh.sum(0), dev) if len(needs) > 3 and needs[3] else None)
    from .. import ops
    gh = h.matmul(w.t())
    if b is not None:
        gh = gh + b
    r = (gx[:, :H] + gh[:, :H]).sigmoid()
    z = (gx[:, H:2 * H] + gh[:, H:2 * H]).sigmoid()
    ghn_t = gh[:, 2 * H:]
    nn_t = (gx[:, 2 * H:] + r * ghn_t).tanh()
    dgx, dgh, dhd = _gru_grads(lambda xs: ops.cat(xs, 1), dh2, h, r, z, nn_t, ghn_t)
    return (dgx if needs[0] else None, dhd + dgh.matmul(w) if needs[1] else None,
            dgh.t().matmul(h) if needs[2] else None, dgh.sum(0) if len(needs) > 3 and needs[3] else None)


GRU_CELL = StepOp("gru_cell", _gru_fwd, _gru_vjp, "GruCellBackward0",
                  lambda sgx, sh, sw, sb=None: [tuple(sh)])


# ---------------------------------------------------------------- Elman RNN: h' = act(gx + h @ w_hh.T + b_hh)
def _rnn_fwd(xp, gx, h, w, b=None, relu=False):
    pre = gx + xp.matmul(h, w.T)
    if b is not None:
        pre += b
    return [xp.maximum(pre, 0) if relu else xp.tanh(pre)], {}


def _rnn_vjp(grads, out, gx, h, w, b=None, *, needs, relu, dev, n):
    dh2 = grads[0]
    if not _gm.enabled:
        xp = dev.backend.xp
        pre = gx._data + xp.matmul(h._data, w._data.T)
        if b is not None:
            pre += b._data
        dpre = dh2._data * (pre > 0) if relu else dh2._data * (1 - xp.tanh(pre) ** 2)
        return (_wrap(dpre, dev) if needs[0] else None,
                _wrap(xp.matmul(dpre, w._data), dev) if needs[1] else None,
                _wrap(xp.matmul(dpre.T, h._data), dev) if needs[2] else None,
                _wrap(dpre.sum(0), dev) if len(needs) > 3 and needs[3] else None)
    pre = gx + h.matmul(w.t())
    if b is not None:
        pre = pre + b
    dpre = dh2 * (pre > 0) if relu else dh2 * (1 - pre.tanh() ** 2)
    return (dpre if needs[0] else None, dpre.matmul(w) if needs[1] else None,
            dpre.t().matmul(h) if needs[2] else None, dpre.sum(0) if len(needs) > 3 and needs[3] else None)


RNN_CELL = StepOp("rnn_cell", _rnn_fwd, _rnn_vjp, "RnnCellBackward0",
                  lambda sgx, sh, sw, sb=None, relu=False: [tuple(sh)])


# ---------------------------------------------------------------- a whole LSTM layer (one direction) as one node
# (x, w_ih, w_hh, b_ih, b_hh, h0, c0) -> (output, h_T, c_T): torch's CPU kernel for float32/bfloat16 layers
# without projections (MkldnnRnnLayerBackward0). Forward: one gemm per step, [w_hh | w_ih | b_ih + b_hh] @
# [h; x_t; 1], then in-place gate math; backward runs the recurrence on arrays (one gemm per step) and forms the
# weight gradients with one gemm each over all steps.
# The states run feature-major, (features, batch): the weight is the big left operand of the small per-step
# gemm (packed once per layer by the compiled recurrence), and each gate is a contiguous block of rows. Folding
# the input projection and the biases into the step's gemm (K = H + I + 1) costs about what the separate
# projection gemm did, and saves the per-step add of a strided slice of it and the bias broadcast.
def _lstm_layer_fwd(xp, x, w_ih, w_hh, b_ih, b_hh, h0=None, c0=None, *, reverse=False):
    cd = np.dtype(np.float32) if x.dtype.itemsize < 4 else x.dtype  # bfloat16 computes in float32
    T, B, I = x.shape
    H = w_hh.shape[1]
    K = H + I + (b_ih is not None)
    # z[k] = [h; x_t; 1], the gemm's right operand for the step reading slot k: step t reads slot t and writes its
    # h into slot t + 1 (reverse: reads t + 1, writes t); cs holds the cell states alike
    z = xp.empty((T + 1, K, B), cd)
    cs = xp.empty((T + 1, H, B), cd)
    acts = xp.empty((T, 4 * H, B), cd)
    tcs = xp.empty((T, H, B), cd)
    igs = xp.empty((T, H, B), cd)  # i * g, kept for the backward
    stash = {"acts": acts, "cs": cs, "tcs": tcs, "igs": igs, "z": z}
    if xp is np and cd == np.float32 and _K.available():
        out, hT, cT = xp.empty((T, B, H), cd), xp.empty((B, H), cd), xp.empty((B, H), cd)
        f32 = [None if a is None else np.ascontiguousarray(a, dtype=cd) for a in (w_hh, w_ih, b_ih, b_hh, x, h0, c0)]
        _K.lstm_forward(*f32, z, acts, cs, tcs, igs, out, hT, cT, reverse)
        return [out, hT, cT], stash
    # the step's gate rows in the order i, f, o, g: sigmoid(a) = tanh(a / 2) / 2 + 1 / 2, so halving the first
    # three blocks (exact: a power of two) lets one tanh do all four gates and one affine pass the three sigmoids
    W = xp.empty((4 * H, K), cd)
    for dst, src in ((slice(0, 2 * H), slice(0, 2 * H)), (slice(2 * H, 3 * H), slice(3 * H, None)),
                     (slice(3 * H, None), slice(2 * H, 3 * H))):
        W[dst, :H] = w_hh[src]
        W[dst, H:H + I] = w_ih[src]
        if b_ih is not None:
            W[dst, H + I] = b_ih[src]
            W[dst, H + I] += b_hh[src]
    W[:3 * H] *= 0.5
    zin, zout = (z[1:], z[:T, :H]) if reverse else (z[:T], z[1:, :H])
    zin[:, H:H + I] = x.transpose(0, 2, 1)
    if b_ih is not None:
        z[:, H + I] = 1
    first, last = (T, 0) if reverse else (0, T)
    z[first, :H] = 0 if h0 is None else h0.T
    cs[first] = 0 if c0 is None else c0.T
    a4 = acts.reshape(T, 4, H, B)
    # the per-step views, made by iterating the arrays (cheaper than slicing inside the loop)
    seq = (acts, acts[:, :3 * H], a4[:, 0], a4[:, 1], a4[:, 2], a4[:, 3], zin, zout,
           cs[1:] if reverse else cs[:T], cs[:T] if reverse else cs[1:], tcs, igs)
    for a, sg, i, f, o, g, zi, ho, ci, co, tc, ig in zip(*(v[::-1] for v in seq) if reverse else seq):
        xp.matmul(W, zi, out=a)
        xp.tanh(a, out=a)
        sg *= 0.5
        sg += 0.5
        xp.multiply(f, ci, out=co)
        xp.multiply(i, g, out=ig)
        co += ig
        xp.tanh(co, out=tc)
        xp.multiply(o, tc, out=ho)
    return [zout.transpose(0, 2, 1).copy(), z[last, :H].T.copy(), cs[last].T.copy()], stash


def _lstm_back_compiled(gout, dh, dc, w_hh, acts, cs, tcs, igs, reverse):
    """The float32 backward recurrence in one compiled call (lstm_bwd_steps: each step's elementwise part forms
    the gate factors from the saved activations on the fly, then the gemm dh = w_hh^T d); dh and dc are updated
    in place. Returns the gate gradients as a (4H, T*B) view, step t in columns t*B...: the kernel writes them
    there directly, so no transposing copy precedes the weight gradients' gemms."""
    T, H4, B = acts.shape
    TB = T * B
    D = np.empty((H4, TB + 16), np.float32)  # a row stride off multiples of 4 KiB: rows would share cache sets
    go = np.ascontiguousarray(gout._data, dtype=np.float32) if gout is not None else None  # (T, B, H)
    gt = np.empty(H4 // 4 * B, np.float32)
    w = np.ascontiguousarray(w_hh._data, dtype=np.float32)  # (4H, H): the kernel packs W_hh^T from it
    _K.lstm_backward(acts, igs, cs, tcs, go, gt, dh, dc, D, w, reverse)
    return D[:, :TB]


def _lstm_back_steps(xp, gout, dh, dc, w_hh, acts, cs, tcs, igs, z, reverse):
    """The backward recurrence in array ops (any backend and dtype); dh and dc are updated in place. Returns
    the gate gradients as (4H, T*B), step t in columns t*B..."""
    cd = acts.dtype
    T, H4, B = acts.shape
    H = H4 // 4
    A = acts.reshape(T, 4, H, B)  # i, f, o, g (the forward's order)
    hout = z[:T, :H] if reverse else z[1:, :H]
    # each step's gate gradients (torch's order i, f, g, o) per unit of s = dL/dc (i, f, g) or of dL/dh (o), for
    # all steps at once: i(1-i) g = ig - ig i, f(1-f) c_prev, i (1-g^2) = i - ig g, o(1-o) tanh(c) = h - h o; and
    # so = o (1 - tanh(c)^2) = o - h tanh(c), the path h -> c
    i, f, o, g = A[:, 0], A[:, 1], A[:, 2], A[:, 3]
    k = xp.empty((T, 4, H, B), cd)
    ki, kf, kg, ko = k[:, 0], k[:, 1], k[:, 2], k[:, 3]
    xp.multiply(igs, i, out=ki)
    xp.subtract(igs, ki, out=ki)
    xp.subtract(1, f, out=kf)
    kf *= f
    kf *= cs[1:] if reverse else cs[:T]
    xp.multiply(igs, g, out=kg)
    xp.subtract(i, kg, out=kg)
    xp.multiply(hout, o, out=ko)
    xp.subtract(hout, ko, out=ko)
    so = hout * tcs
    xp.subtract(o, so, out=so)
    wt = xp.ascontiguousarray(w_hh._data.astype(cd, copy=False).T)  # (H, 4H)
    D = xp.empty((T, 4, H, B), cd)
    s = xp.empty((H, B), cd)
    seq = (so, k[:, :3], ko, D[:, :3], D[:, 3], f, D.reshape(T, H4, B))
    if gout is not None:
        seq += (xp.ascontiguousarray(gout._data.transpose(0, 2, 1), dtype=cd),)
    for so_t, k3, ko_t, d3, do, f_t, d, *g_t in zip(*seq if reverse else (v[::-1] for v in seq)):
        if g_t:
            dh += g_t[0]
        xp.multiply(dh, so_t, out=s)
        s += dc
        xp.multiply(k3, s, out=d3)
        xp.multiply(ko_t, dh, out=do)
        xp.multiply(s, f_t, out=dc)
        xp.matmul(wt, d, out=dh)
    return D.reshape(T, H4, B).transpose(1, 0, 2).reshape(H4, T * B)  # a copy


def _lstm_layer_vjp(grads, out, x, w_ih, w_hh, b_ih, b_hh, h0, c0, *, needs, acts, cs, tcs, igs, z,
                    reverse=False, dev, n):
    gout, gh, gc = grads
    if _gm.enabled:
        return _lstm_layer_vjp_graph(gout, gh, gc, x, w_ih, w_hh, b_ih, b_hh, h0, c0, needs, reverse)
    xp = dev.backend.xp
    cd = acts.dtype
    T, H4, B = acts.shape
    H, TB = H4 // 4, T * B
    dh = xp.array(gh._data.T, dtype=cd, order="C") if gh is not None else xp.zeros((H, B), cd)
    dc = xp.array(gc._data.T, dtype=cd, order="C") if gc is not None else xp.zeros((H, B), cd)
    if xp is np and cd == np.float32 and _K.available():
        Dm = _lstm_back_compiled(gout, dh, dc, w_hh, acts, cs, tcs, igs, reverse)
    else:
        Dm = _lstm_back_steps(xp, gout, dh, dc, w_hh, acts, cs, tcs, igs, z, reverse)
    odt = x._data.dtype

    def wrap(a):
        return _wrap(a.astype(odt, copy=False), dev)
    # the step inputs h_{t-1} as (H, T*B) like Dm's columns: moving whole B-runs, a cheap copy
    hin = z[1:, :H] if reverse else z[:T, :H]
    dx = wrap(xp.matmul(Dm.T, w_ih._data.astype(cd, copy=False)).reshape(x.shape)) if needs[0] else None
    dwi = wrap(xp.matmul(Dm, x._data.astype(cd, copy=False).reshape(TB, x.shape[-1]))) if needs[1] else None
    dwh = wrap(xp.matmul(Dm, xp.ascontiguousarray(hin.transpose(1, 0, 2)).reshape(H, TB).T)) if needs[2] else None
    db = wrap(xp.matmul(Dm, xp.ones(TB, cd))) if needs[3] or needs[4] else None
    return (dx, dwi, dwh, db if needs[3] else None, db if needs[4] else None,
            wrap(xp.ascontiguousarray(dh.T)) if needs[5] else None,
            wrap(xp.ascontiguousarray(dc.T)) if needs[6] else None)


def _lstm_layer_vjp_graph(gout, gh, gc, x, w_ih, w_hh, b_ih, b_hh, h0, c0, needs, reverse):
    """The layer's gradient in ember ops (create_graph): recompute the steps, then run the recurrence backwards."""
    from .. import ops
    T = x.shape[0]
    if h0 is None or c0 is None:
        zero = ops.zeros(x.shape[1], w_hh.shape[1], dtype=x.dtype, device=x.device)
        h0, c0 = zero if h0 is None else h0, zero if c0 is None else c0
    gx = x.matmul(w_ih.t())
    if b_ih is not None:
        gx = gx + b_ih + b_hh
    order = range(T - 1, -1, -1) if reverse else range(T)
    h, c, rec = h0, c0, {}
    for t in order:
        i, f, g, o = (gx[t] + h.matmul(w_hh.t())).chunk(4, 1)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c2 = f * c + i * g
        tc = c2.tanh()
        rec[t] = (i, f, g, o, c, tc, h)
        h, c = o * tc, c2
    dh = gh if gh is not None else ops.zeros_like(h0)
    dc = gc if gc is not None else ops.zeros_like(c0)
    dgs = [None] * T
    for t in reversed(order):
        i, f, g, o, cp, tc, _ = rec[t]
        if gout is not None:
            dh = dh + gout[t]
        dgs[t], dc = _lstm_grads(ops, lambda xs: ops.cat(xs, 1), dh, dc, cp, i, f, g, o, tc)
        dh = dgs[t].matmul(w_hh)
    Dg = ops.stack(dgs)
    Dm = Dg.reshape(-1, Dg.shape[-1])
    hp = ops.stack([rec[t][6] for t in range(T)])
    db = Dm.sum(0) if needs[3] or needs[4] else None
    return (Dg.matmul(w_ih) if needs[0] else None,
            Dm.t().matmul(x.reshape(-1, x.shape[-1])) if needs[1] else None,
            Dm.t().matmul(hp.reshape(-1, hp.shape[-1])) if needs[2] else None,
            db if needs[3] else None, db if needs[4] else None, dh if needs[5] else None, dc if needs[6] else None)


LSTM_LAYER = StepOp("lstm_layer", _lstm_layer_fwd, _lstm_layer_vjp, "MkldnnRnnLayerBackward0",
                    lambda sx, swi, swh, sbi, sbh, sh, sc, reverse=False: [tuple(sx[:2]) + (swh[1],),
                                                                             (sx[1], swh[1]), (sx[1], swh[1])])


def lstm_layer(x, w_ih, w_hh, b_ih, b_hh, h0=None, c0=None, reverse=False):
    """One LSTM layer in one direction over a (T, B, I) sequence from the states h0 and c0 ((B, H), or None for
    zeros): returns (output, h_T, c_T)."""
    return run_step(LSTM_LAYER, (x, w_ih, w_hh, b_ih, b_hh, h0, c0), {"reverse": reverse})


# ---------------------------------------------------------------- time-step split (one node for all steps)
def _steps_fwd(xp, x, sizes=None):
    if sizes is None:
        return [x[t] for t in range(x.shape[0])], {}
    res, i = [], 0
    for s in sizes:
        res.append(x[i:i + s])
        i += s
    return res, {}


def _steps_vjp(grads, out, x, *, needs, sizes=None, dev, n):
    from .. import ops
    if sizes is None:
        shape = tuple(x.shape[1:])
        return ops.stack([g if g is not None else ops.zeros(shape, dtype=x.dtype, device=x.device)
                          for g in grads])
    rest = tuple(x.shape[1:])
    return ops.cat([g if g is not None else ops.zeros((s,) + rest, dtype=x.dtype, device=x.device)
                    for g, s in zip(grads, sizes)])


STEPS = StepOp("unbind_steps", _steps_fwd, _steps_vjp, "UnbindBackward0",
               lambda sx, sizes=None: [tuple(sx[1:])] * sx[0] if sizes is None else
               [(s,) + tuple(sx[1:]) for s in sizes])


def lstm_cell(gx, h, c, w_hh, b_hh=None):
    """One LSTM step from the projected input ``gx``: returns (h', c')."""
    args = (gx, h, c, w_hh) if b_hh is None else (gx, h, c, w_hh, b_hh)
    return run_step(LSTM_CELL, args, {})


def gru_cell(gx, h, w_hh, b_hh=None):
    """One GRU step from the projected input ``gx``: returns h'."""
    args = (gx, h, w_hh) if b_hh is None else (gx, h, w_hh, b_hh)
    return run_step(GRU_CELL, args, {})[0]


def rnn_cell(gx, h, w_hh, b_hh=None, relu=False):
    """One Elman RNN step (tanh, or relu) from the projected input ``gx``: returns h'."""
    args = (gx, h, w_hh) if b_hh is None else (gx, h, w_hh, b_hh)
    return run_step(RNN_CELL, args, {"relu": relu})[0]


def split_steps(x, sizes=None):
    """``x.unbind(0)`` (or ``x.split(sizes)``) as one graph node, whatever the number of steps."""
    return run_step(STEPS, (x,), {} if sizes is None else {"sizes": tuple(sizes)})


FUNCS = {}  # used by ember.nn's recurrent layers; no public torch.* names
