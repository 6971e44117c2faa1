"""Recurrent layers and cells against torch: outputs, states, gradients, packed sequences, errors."""
import numpy as np
import pytest

import ember
from tests.nn.modules._harness import check, copy_state, same_error, torch

rng = np.random.default_rng(0)


def x(*shape):
    return rng.standard_normal(shape)


LAYER_CASES = [
    ("RNN", dict()),
    ("RNN", dict(nonlinearity="relu", num_layers=2)),
    ("RNN", dict(bias=False, bidirectional=True)),
    ("LSTM", dict()),
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(proj_size=2)),
    ("LSTM", dict(proj_size=3, num_layers=2, bidirectional=True, batch_first=True)),
    ("LSTM", dict(bias=False, batch_first=True)),
    ("GRU", dict()),
    ("GRU", dict(num_layers=3, bidirectional=True)),
    ("GRU", dict(bias=False, batch_first=True)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kw", LAYER_CASES)
def test_layer_matches_torch(name, kw, dtype):
    bf = kw.get("batch_first", False)
    inp = x(2, 5, 3) if bf else x(5, 2, 3)
    check(lambda lib: getattr(lib.nn, name)(3, 4, **kw), [inp], dtype)


@pytest.mark.parametrize("name,kw", LAYER_CASES)
def test_layer_with_initial_state(name, kw):
    D = 2 if kw.get("bidirectional") else 1
    L = kw.get("num_layers", 1)
    H = kw.get("proj_size") or 4
    h0 = x(L * D, 2, H)
    bf = kw.get("batch_first", False)
    inp = x(2, 5, 3) if bf else x(5, 2, 3)
    if name == "LSTM":
        c0 = x(L * D, 2, 4)
        check(lambda lib: getattr(lib.nn, name)(3, 4, **kw), [inp, (h0, c0)])
    else:
        check(lambda lib: getattr(lib.nn, name)(3, 4, **kw), [inp, h0])


@pytest.mark.parametrize("dtype", ["float64", "float32"])  # float32 LSTMs take the compiled recurrences
@pytest.mark.parametrize("name,kw", [c for c in LAYER_CASES if "proj_size" not in c[1]])
def test_empty_batch(name, kw, dtype):
    # a batch of 0 sequences: empty outputs and states, zero parameter gradients, as torch
    inp = x(0, 5, 3) if kw.get("batch_first", False) else x(5, 0, 3)
    check(lambda lib: getattr(lib.nn, name)(3, 4, **kw), [inp], dtype)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_unbatched(name):
    kw = dict(num_layers=2, bidirectional=True)
    check(lambda lib: getattr(lib.nn, name)(3, 4, **kw), [x(6, 3)])
    h0 = x(4, 4)
    check(lambda lib: getattr(lib.nn, name)(3, 4, **kw), [x(6, 3), (h0, x(4, 4)) if name == "LSTM" else h0])


def _packed_call(enforce_sorted):
    def call(m, xs, kw):
        lib = torch if isinstance(m, torch.nn.Module) else ember
        seqs = xs
        packed = lib.nn.utils.rnn.pack_sequence(seqs, enforce_sorted=enforce_sorted)
        out, h = m(packed)
        padded, lengths = lib.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
        return out.data, padded, lengths, h
    return call


@pytest.mark.parametrize("name,kw", [("LSTM", dict(num_layers=2, bidirectional=True)),
                                     ("GRU", dict(bidirectional=True)), ("RNN", dict(num_layers=2)),
                                     ("LSTM", dict(proj_size=2, bidirectional=True))])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_sequence(name, kw, enforce_sorted):
    seqs = [x(5, 3), x(3, 3), x(3, 3), x(1, 3)]
    if not enforce_sorted:
        seqs = [seqs[2], seqs[0], seqs[3], seqs[1]]
    check(lambda lib: getattr(lib.nn, name)(3, 4, **kw), seqs, call=_packed_call(enforce_sorted))


@pytest.mark.parametrize("name,args", [("RNNCell", {}), ("RNNCell", dict(nonlinearity="relu", bias=False)),
                                       ("LSTMCell", {}), ("LSTMCell", dict(bias=False)), ("GRUCell", {}),
                                       ("GRUCell", dict(bias=False))])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cells(name, args, dtype):
    check(lambda lib: getattr(lib.nn, name)(3, 5, **args), [x(4, 3)], dtype)
    h = x(4, 5)
    check(lambda lib: getattr(lib.nn, name)(3, 5, **args), [x(4, 3), (h, x(4, 5)) if name == "LSTMCell" else h],
          dtype)
    check(lambda lib: getattr(lib.nn, name)(3, 5, **args), [x(3)], dtype)  # unbatched


def test_cell_loop_gradients():
    """A hand-written loop of LSTMCell steps (state fed back), as in seq2seq decoders."""
    def call(m, xs, kw):
        h = c = None
        outs = []
        for t in range(xs[0].shape[0]):
            h, c = m(xs[0][t], None if h is None else (h, c))
            outs.append(h)
        return outs
    check(lambda lib: lib.nn.LSTMCell(3, 4), [x(6, 2, 3)], call=call)


def test_parameter_names_shapes_and_init():
    torch.manual_seed(0)
    m = ember.nn.LSTM(3, 8, num_layers=2, bidirectional=True, proj_size=2)
    t = torch.nn.LSTM(3, 8, num_layers=2, bidirectional=True, proj_size=2)
    assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    bound = 1 / np.sqrt(8)
    for p in m.parameters():
        a = p.detach().numpy()
        assert a.min() >= -bound and a.max() <= bound and a.std() > bound / 4
    assert [[n for n in ws] for ws in m._all_weights] == t._all_weights
    assert len(m.all_weights) == 4 and m.all_weights[1][0] is m.weight_ih_l0_reverse
    m.flatten_parameters()  # no-op


@pytest.mark.parametrize("ctor", [
    lambda lib: lib.nn.LSTM(3, 4, 2, True, True, 0.5, True, 2),
    lambda lib: lib.nn.RNN(3, 4, 2, "relu", False),
    lambda lib: lib.nn.GRU(3, 4, num_layers=3, dropout=0.25),
    lambda lib: lib.nn.RNNCell(3, 4, False, "relu"),
    lambda lib: lib.nn.LSTMCell(3, 4, bias=False),
    lambda lib: lib.nn.GRUCell(3, 4),
])
def test_repr(ctor):
    assert repr(ctor(ember)) == repr(ctor(torch))


def test_dropout_between_layers():
    m = ember.nn.LSTM(3, 50, num_layers=2, dropout=0.5)
    inp = ember.tensor(x(4, 2, 3), dtype=ember.float32)
    m.eval()
    a, _ = m(inp)
    b, _ = m(inp)
    assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    m.train()
    c, _ = m(inp)
    assert not np.allclose(a.detach().numpy(), c.detach().numpy())
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        ember.nn.GRU(3, 4, dropout=0.2)


@pytest.mark.parametrize("make,run", [
    (lambda lib: lib.nn.LSTM(3, 4), lambda lib, m: m(lib.randn(5, 2, 4))),
    (lambda lib: lib.nn.LSTM(3, 4), lambda lib, m: m(lib.randn(5, 2, 3, 1))),
    (lambda lib: lib.nn.GRU(3, 4), lambda lib, m: m(lib.randn(5, 2, 3, 1))),
    (lambda lib: lib.nn.RNN(3, 4), lambda lib, m: m(lib.randn(5))),
    (lambda lib: lib.nn.GRU(3, 4), lambda lib, m: m(lib.randn(5, 2, 3), lib.randn(1, 3, 4))),
    (lambda lib: lib.nn.GRU(3, 4), lambda lib, m: m(lib.randn(5, 2, 3), lib.randn(2, 4))),
    (lambda lib: lib.nn.LSTM(3, 4), lambda lib, m: m(lib.randn(5, 2, 3), (lib.randn(1, 2, 4), lib.randn(1, 2, 5)))),
    (lambda lib: lib.nn.LSTM(3, 4), lambda lib, m: m(lib.randn(5, 3), (lib.randn(1, 2, 4), lib.randn(1, 2, 4)))),
    (lambda lib: lib.nn.LSTM(3, 4), lambda lib, m: m(lib.randn(5, 2, 3, dtype=lib.float64))),
    (lambda lib: lib.nn.GRUCell(3, 4), lambda lib, m: m(lib.randn(2, 2, 3))),
    (lambda lib: lib.nn.LSTMCell(3, 4), lambda lib, m: m(lib.randn(2, 3), (lib.randn(2, 4, 1), lib.randn(2, 4)))),
    (lambda lib: lib.nn.RNN(3, 4, nonlinearity="sigmoid"), None),
    (lambda lib: lib.nn.GRU(3, 4, proj_size=2), None),
    (lambda lib: lib.nn.LSTM(3, 4, proj_size=4), None),
    (lambda lib: lib.nn.LSTM(3, 4, dropout=1.5), None),
    (lambda lib: lib.nn.LSTM(0, 4), None),
    (lambda lib: lib.nn.LSTM(3, 4, bias=1), None),
])
def test_errors(make, run):
    if run is None:
        same_error(lambda: make(torch), lambda: make(ember))
    else:
        mt, me = make(torch), make(ember)
        same_error(lambda: run(torch, mt), lambda: run(ember, me))


def test_double_backward_through_lstm():
    """create_graph=True: the step ops' gradients are differentiable again (gradient penalty)."""
    def prog(lib):
        lib.manual_seed(0)
        m = lib.nn.LSTM(2, 3, bidirectional=True).double()
        return m
    tm = prog(torch)
    em = ember.nn.LSTM(2, 3, bidirectional=True).double()
    copy_state(tm, em)
    xi = x(4, 2, 2)
    res = []
    for lib, m in ((torch, tm), (ember, em)):
        inp = lib.tensor(xi, requires_grad=True)
        out, (h, c) = m(inp)
        loss = (out ** 2).sum() + c.sum()
        (g,) = lib.autograd.grad(loss, inp, create_graph=True)
        (g ** 2).sum().backward()
        res.append((g.detach().numpy(), inp.grad.numpy(), m.weight_hh_l0.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_double_backward_through_lstm_layer_kernel_from_zero_states():
    """A float32 layer runs as one fused node started from implicit zero states (no h0/c0 given): its
    create_graph gradient recomputes the steps from zeros it forms itself."""
    tm = torch.nn.LSTM(3, 5, bidirectional=True)
    em = ember.nn.LSTM(3, 5, bidirectional=True)
    copy_state(tm, em)
    xi = x(4, 2, 3)
    res = []
    for lib, m in ((torch, tm), (ember, em)):
        inp = lib.tensor(xi, dtype=lib.float32, requires_grad=True)
        out, (h, c) = m(inp)
        (g,) = lib.autograd.grad((out ** 2).sum() + c.sum(), inp, create_graph=True)
        (g ** 2).sum().backward()
        res.append((out.detach().numpy(), h.detach().numpy(), g.detach().numpy(), inp.grad.numpy(),
                    m.weight_hh_l0.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=2e-5)


def test_gru_rnn_double_backward():
    for name in ("GRU", "RNN"):
        tm = getattr(torch.nn, name)(2, 3).double()
        em = getattr(ember.nn, name)(2, 3).double()
        copy_state(tm, em)
        xi = x(3, 2, 2)
        res = []
        for lib, m in ((torch, tm), (ember, em)):
            inp = lib.tensor(xi, requires_grad=True)
            out, h = m(inp)
            (g,) = lib.autograd.grad((out ** 3).sum(), inp, create_graph=True)
            g.sum().backward()
            res.append((g.detach().numpy(), inp.grad.numpy(), m.bias_hh_l0.grad.numpy()))
        for a, b in zip(*res):
            np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_module_to_keeps_flat_weights():
    m = ember.nn.GRU(3, 4)
    m.double()
    assert m._flat_weights[0] is m.weight_ih_l0 and m._flat_weights[0].dtype is ember.float64
    out, h = m(ember.randn(2, 1, 3, dtype=ember.float64))
    assert out.dtype is ember.float64
    m.weight_hh_l0 = ember.nn.Parameter(ember.zeros(12, 4, dtype=ember.float64))
    assert m._flat_weights[1] is m.weight_hh_l0


def test_meta_device_shapes():
    m = ember.nn.LSTM(3, 4, bidirectional=True, device="meta")
    out, (h, c) = m(ember.empty(5, 2, 3, device="meta"))
    assert out.shape == (5, 2, 8) and h.shape == (2, 2, 4) and out.device.type == "meta"


@pytest.mark.parametrize("make,run", [
    (lambda lib: lib.nn.GRU(3, 4), lambda lib, m: m(lib.randn(5, 2, 3), lib.randn(1, 2, 4, dtype=lib.float64))),
    (lambda lib: lib.nn.RNN(3, 4), lambda lib, m: m(lib.randn(5, 2, 3), lib.randn(1, 2, 4, dtype=lib.float64))),
    (lambda lib: lib.nn.GRUCell(3, 4), lambda lib, m: m(lib.randn(2, 3), lib.randn(2, 4, dtype=lib.float64))),
    (lambda lib: lib.nn.LSTMCell(3, 4), lambda lib, m: m(lib.randn(2, 3), (lib.randn(2, 4, dtype=lib.float64),
                                                                           lib.randn(2, 4)))),
    (lambda lib: lib.nn.LSTMCell(3, 4), lambda lib, m: m(lib.randn(2, 5))),
    (lambda lib: lib.nn.RNNCell(3, 4), lambda lib, m: m(lib.randn(2, 3), lib.randn(3, 4))),
])
def test_hidden_errors(make, run):
    mt, me = make(torch), make(ember)
    same_error(lambda: run(torch, mt), lambda: run(ember, me))


def test_lstm_hidden_dtype_error_type():
    m = ember.nn.LSTM(3, 4)
    with pytest.raises(RuntimeError, match="Input and hidden tensors are not the same dtype"):
        m(ember.randn(5, 2, 3), (ember.randn(1, 2, 4, dtype=ember.float64), ember.randn(1, 2, 4)))


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_packed_unsorted_with_initial_state(name):
    seqs = [x(2, 3), x(5, 3), x(3, 3)]
    h0 = x(2, 3, 4)
    c0 = x(2, 3, 4)

    def call(m, xs, kw):
        lib = torch if isinstance(m, torch.nn.Module) else ember
        packed = lib.nn.utils.rnn.pack_sequence(xs[:3], enforce_sorted=False)
        hx = (xs[3], xs[4]) if name == "LSTM" else xs[3]
        out, h = m(packed, hx)
        return out.data, h
    check(lambda lib: getattr(lib.nn, name)(3, 4, bidirectional=True), seqs + [h0, c0], call=call)


def test_deepcopy_and_state_dict_roundtrip():
    import copy
    m = ember.nn.LSTM(3, 4, num_layers=2)
    m2 = copy.deepcopy(m)
    inp = ember.randn(5, 2, 3)
    np.testing.assert_array_equal(m(inp)[0].detach().numpy(), m2(inp)[0].detach().numpy())
    assert m2._flat_weights[0] is m2.weight_ih_l0 and m2.weight_ih_l0 is not m.weight_ih_l0
    m3 = ember.nn.LSTM(3, 4, num_layers=2)
    m3.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(m(inp)[0].detach().numpy(), m3(inp)[0].detach().numpy())


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_empty_sequence_and_empty_batch(name):
    mt, me = getattr(torch.nn, name)(3, 4), getattr(ember.nn, name)(3, 4)
    same_error(lambda: mt(torch.randn(0, 2, 3)), lambda: me(ember.randn(0, 2, 3)))
    check(lambda lib: getattr(lib.nn, name)(3, 4), [x(5, 0, 3)])


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_gradient_from_final_state_only(name):
    def call(m, xs, kw):
        out, h = m(xs[0])
        return h[0] if name == "LSTM" else h
    check(lambda lib: getattr(lib.nn, name)(3, 4, num_layers=2, bidirectional=True), [x(6, 2, 3)], call=call)

    def call_c(m, xs, kw):
        out, (h, c) = m(xs[0])
        return out[-1], c
    if name == "LSTM":
        check(lambda lib: lib.nn.LSTM(3, 4, proj_size=2), [x(6, 2, 3)], call=call_c)


# ---------------------------------------------------------------- the whole-layer LSTM kernel at working sizes
# (float32, no projection: one graph node per layer and direction, feature-major states, the input projection
# and biases folded into each step's gemm, the backward's weight gradients as one gemm each over all steps)
KERNEL_CASES = [
    dict(),
    dict(bidirectional=True),
    dict(bias=False),
    dict(num_layers=2, batch_first=True),
    dict(num_layers=2, bidirectional=True, bias=False),
]


@pytest.mark.parametrize("kw", KERNEL_CASES)
@pytest.mark.parametrize("T,B", [(9, 7), (1, 1), (4, 32)])
@pytest.mark.parametrize("state", [False, True])
def test_lstm_layer_kernel_sizes(kw, T, B, state):
    I, H = 11, 24
    D = 2 if kw.get("bidirectional") else 1
    n = D * kw.get("num_layers", 1)
    inp = x(B, T, I) if kw.get("batch_first") else x(T, B, I)
    args = [inp, (x(n, B, H), x(n, B, H))] if state else [inp]
    em, tm = check(lambda lib: lib.nn.LSTM(I, H, **kw), args, "float32", tol=dict(rtol=1e-4, atol=2e-5))
    out = em(ember.tensor(inp, dtype=ember.float32, requires_grad=True))[0]
    seen, todo = {}, [out.grad_fn]
    while todo:
        fn = todo.pop()
        if fn is not None and id(fn) not in seen:
            seen[id(fn)] = type(fn).__name__
            todo += [f for f, _ in fn.next_functions]
    names = set(seen.values())
    assert "MkldnnRnnLayerBackward0" in names and "LstmCellBackward0" not in names


@pytest.mark.parametrize("loss", ["last_output", "states", "output_sum"])
def test_lstm_layer_kernel_gradient_sources(loss):
    """Gradients reaching the layer from part of the output (zeros elsewhere), from the final states only, and from
    an expanded (stride-0) gradient, with values and all gradients against torch."""
    xi, h0, c0 = x(6, 5, 8), x(2, 5, 16), x(2, 5, 16)
    tm = torch.nn.LSTM(8, 16, bidirectional=True)
    em = ember.nn.LSTM(8, 16, bidirectional=True)
    copy_state(tm, em)
    res = []
    for lib, m in ((torch, tm), (ember, em)):
        m.zero_grad()
        ins = [lib.tensor(a, dtype=lib.float32, requires_grad=True) for a in (xi, h0, c0)]
        out, (h, c) = m(ins[0], (ins[1], ins[2]))
        {"last_output": lambda: (out[-1] * lib.tensor(np.cos(np.arange(160.0)).reshape(5, 32),
                                                      dtype=lib.float32)).sum(),
         "states": lambda: (h * h).sum() + c.sum(),
         "output_sum": lambda: out.sum()}[loss]().backward()
        res.append([out.detach().numpy(), h.detach().numpy(), c.detach().numpy()] + [t.grad.numpy() for t in ins]
                   + [p.grad.numpy() for p in m.parameters()])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=2e-5)
