"""Activation checkpointing against torch: the same gradients with and without it (both variants),
intermediate activations are not kept after the forward, RNG/autocast replay, errors and warnings."""
import gc
import warnings
import weakref

import numpy as np
import pytest

import ember
import ember.utils.checkpoint as ECK

torch = pytest.importorskip("torch")
import torch.utils.checkpoint as TCK  # noqa: E402

R = np.random.default_rng(0)
X = R.standard_normal((4, 3)).astype(np.float32)
W1 = R.standard_normal((3, 6)).astype(np.float32)
W2 = R.standard_normal((6, 2)).astype(np.float32)


def _block(lib):
    def f(x, w1, w2, scale=1.0):
        h = (x @ w1).tanh()
        g = lib.nn.functional.gelu(h * scale) * h
        return (g @ w2).sin()
    return f


def _grads(lib, ck, **ckkw):
    x = lib.tensor(X, requires_grad=True)
    w1 = lib.tensor(W1, requires_grad=True)
    w2 = lib.tensor(W2, requires_grad=True)
    f = _block(lib)
    y = ck(f, x, w1, w2, **ckkw) if ck is not None else f(x, w1, w2)
    (y ** 2).sum().backward()
    return [t.grad.numpy() for t in (x, w1, w2)] + [y.detach().numpy()]


@pytest.mark.parametrize("reentrant", [False, True])
def test_gradients_match_torch_and_plain_backward(reentrant):
    plain = _grads(ember, None)
    got = _grads(ember, ECK.checkpoint, use_reentrant=reentrant)
    want = _grads(torch, TCK.checkpoint, use_reentrant=reentrant)
    for g, p, t in zip(got, plain, want):
        np.testing.assert_array_equal(g, p)
        np.testing.assert_allclose(g, t, rtol=1e-5, atol=1e-6)


def test_graph_structure_like_torch():
    for lib, ck in ((torch, TCK.checkpoint), (ember, ECK.checkpoint)):
        x = lib.ones(3, requires_grad=True)
        y = ck(lambda a: a.sin().cos(), x, use_reentrant=False)
        assert y.grad_fn.name() == "CosBackward0"
        assert y.grad_fn.next_functions[0][0].name() == "SinBackward0"
        z = ck(lambda a: a.sin().cos(), x, use_reentrant=True)
        assert type(z.grad_fn).__name__ == "CheckpointFunctionBackward"


def test_activations_are_not_kept():
    refs = []

    def f(x, w):
        h = (x @ w).sin()
        g = h.cos() * h
        refs.extend([weakref.ref(h), weakref.ref(g)])
        return g.sin()  # sin saves its input: g stays alive in a plain graph

    x = ember.randn(8, 8, requires_grad=True)
    w = ember.randn(8, 8, requires_grad=True)
    y = f(x, w)  # without checkpointing the graph keeps h and g alive
    gc.collect()
    assert all(r() is not None for r in refs)
    del y
    refs.clear()
    y = ECK.checkpoint(f, x, w, use_reentrant=False)
    gc.collect()
    assert all(r() is None for r in refs[:2])
    y.sum().backward()  # recomputes (two more refs), then frees what it recomputed
    gc.collect()
    assert len(refs) == 4 and all(r() is None for r in refs)
    refs.clear()
    y = ECK.checkpoint(f, x, w, use_reentrant=True)
    gc.collect()
    assert all(r() is None for r in refs)


def test_saved_arrays_dropped_from_nodes():
    x = ember.randn(5, requires_grad=True)
    y = ECK.checkpoint(lambda a: a.exp().sin(), x, use_reentrant=False)
    sin = y.grad_fn
    exp = sin.next_functions[0][0]
    assert exp.out is None and all(i is None for i in sin.inputs)  # exp saved its output, sin its input
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (x.exp().cos() * x.exp()).detach().numpy(), rtol=1e-6)


def test_retain_graph_and_second_backward_error():
    x = ember.randn(3, requires_grad=True)
    y = ECK.checkpoint(lambda a: a.sin().cos(), x, use_reentrant=False)
    y.sum().backward(retain_graph=True)
    g1 = x.grad.clone()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1.numpy(), rtol=1e-6)
    y = ECK.checkpoint(lambda a: a.sin().cos(), x, use_reentrant=False)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.sum().backward()


def test_autograd_grad_and_closure_parameters():
    w = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = ember.tensor([0.5, -1.0, 2.0])
    y = ECK.checkpoint(lambda a: (a * w).sin(), x, use_reentrant=False)  # no input requires grad
    assert y.requires_grad
    (g,) = ember.autograd.grad(y.sum(), [w])
    np.testing.assert_allclose(g.numpy(), (x * (x * w).cos()).detach().numpy(), rtol=1e-6)
    for lib, ck in ((torch, TCK.checkpoint), (ember, ECK.checkpoint)):
        w = lib.ones(3, requires_grad=True)
        with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True. Gradients will be None"):
            z = ck(lambda a: a * w, lib.ones(3), use_reentrant=True)
        assert not z.requires_grad


def test_non_tensor_inputs_outputs_and_kwargs():
    res = []
    for lib, ck in ((torch, TCK.checkpoint), (ember, ECK.checkpoint)):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a, n, s = ck(lambda t, k: (t * k, k, "s"), x, 3, use_reentrant=False)
        b = ck(lambda t, k: t * k, x, k=2, use_reentrant=False)
        c, m = ck(lambda t, k: (t ** k, k), x, 3, use_reentrant=True)
        (a.sum() + b.sum() + c.sum()).backward()
        res.append((n, s, m, x.grad.tolist()))
    assert res[0] == res[1]


def test_no_grad_runs_plainly():
    for lib, ck in ((torch, TCK.checkpoint), (ember, ECK.checkpoint)):
        x = lib.ones(2, requires_grad=True)
        with lib.no_grad():
            assert not ck(lambda a: a.sin(), x, use_reentrant=False).requires_grad
            assert not ck(lambda a: a.sin(), x, use_reentrant=True).requires_grad


def test_rng_state_is_replayed():
    def f(a):
        return ember.nn.functional.dropout(a, 0.5, training=True) * a

    x = ember.randn(64, requires_grad=True)
    ember.manual_seed(7)
    ECK.checkpoint(f, x, use_reentrant=False).sum().backward()
    g_ck = x.grad.clone()
    after = ember.rand(3)
    x.grad = None
    ember.manual_seed(7)
    f(x).sum().backward()
    assert ember.equal(g_ck, x.grad)
    assert ember.equal(after, ember.rand(3))  # recomputation does not advance the generator
    for reentrant in (False, True):
        x.grad = None
        ember.manual_seed(7)
        ECK.checkpoint(f, x, use_reentrant=reentrant, preserve_rng_state=False).sum().backward()
        assert not ember.equal(g_ck, x.grad)  # without the replay another mask is drawn


def test_autocast_state_is_replayed():
    w = ember.tensor(W1, requires_grad=True)
    x = ember.tensor(X)
    with ember.autocast("cpu"):
        y = ECK.checkpoint(lambda a: a @ w, x, use_reentrant=False)
    assert y.dtype is ember.bfloat16
    y.float().sum().backward()  # backward outside the region: the recomputation still casts
    g = w.grad.clone()
    w.grad = None
    with ember.autocast("cpu"):
        z = x @ w
    z.float().sum().backward()
    assert ember.equal(g, w.grad)


def test_nested_checkpoints():
    x = ember.tensor(X, requires_grad=True)

    def inner(a):
        return a.sin() * a

    def outer(a):
        return ECK.checkpoint(inner, a.cos(), use_reentrant=False).exp()

    ECK.checkpoint(outer, x, use_reentrant=False).sum().backward()
    g = x.grad.clone()
    x.grad = None
    outer_plain = (x.cos().sin() * x.cos()).exp()
    outer_plain.sum().backward()
    np.testing.assert_allclose(g.numpy(), x.grad.numpy(), rtol=1e-6)


def test_custom_function_inside():
    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return 2 * a * g

    x = ember.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = ECK.checkpoint(lambda a: Square.apply(a.sin()), x, use_reentrant=False)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (2 * x.sin() * x.cos()).detach().numpy(), rtol=1e-6)


def test_nondeterministic_forward_raises_checkpoint_error():
    calls = []

    def f(a):
        calls.append(1)
        out = a
        for _ in range(len(calls)):
            out = out.sin()
        return out

    x = ember.ones(3, requires_grad=True)
    y = ECK.checkpoint(f, x, use_reentrant=False)
    with pytest.raises(ECK.CheckpointError, match="A different number of tensors was saved during the original "
                                                  "forward and recomputation"):
        y.sum().backward()
    assert issubclass(ECK.CheckpointError, RuntimeError)


def test_argument_errors_and_warnings():
    for lib, ck in ((torch, TCK.checkpoint), (ember, ECK.checkpoint)):
        x = lib.ones(2, requires_grad=True)
        with pytest.raises(ValueError, match="Unexpected keyword arguments: b"):
            ck(lambda a, b: a, x, b=1, use_reentrant=True)
        with pytest.raises(ValueError, match="Passing `context_fn` or `debug` is only supported when "
                                             "use_reentrant=False."):
            ck(lambda a: a, x, use_reentrant=True, debug=True)
        with pytest.raises(ValueError, match=r"determinism_check should be one of \['default', 'none'\], but got "
                                             "foo"):
            ck(lambda a: a, x, use_reentrant=False, determinism_check="foo")
        with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed explicitly. Starting "
                                             "in PyTorch 2.9"):
            y = ck(lambda a: a.sin(), x)
        assert type(y.grad_fn).__name__ == "CheckpointFunctionBackward"  # the default is still reentrant


def test_context_fn():
    seen = []

    class Ctx:
        def __init__(self, tag):
            self.tag = tag

        def __enter__(self):
            seen.append(self.tag)

        def __exit__(self, *a):
            return False

    x = ember.ones(2, requires_grad=True)
    y = ECK.checkpoint(lambda a: a.sin(), x, use_reentrant=False, context_fn=lambda: (Ctx("fwd"), Ctx("re")))
    assert seen == ["fwd"]
    y.sum().backward()
    assert seen == ["fwd", "re"]


@pytest.mark.parametrize("reentrant", [False, True])
def test_checkpoint_sequential_matches_torch(reentrant):
    res = []
    for lib, mod in ((torch, TCK), (ember, ECK)):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Linear(3, 5), lib.nn.Tanh(), lib.nn.Linear(5, 5), lib.nn.ReLU(),
                                lib.nn.Linear(5, 2))
        res.append(net)
    with ember.no_grad():
        for (_, tp), (_, ep) in zip(res[0].named_parameters(), res[1].named_parameters()):
            ep.copy_(ember.tensor(tp.detach().numpy()))
    grads = []
    for lib, mod, net in ((torch, TCK, res[0]), (ember, ECK, res[1])):
        x = lib.tensor(X, requires_grad=True)
        y = mod.checkpoint_sequential(net, 2, x, use_reentrant=reentrant)
        (y ** 2).sum().backward()
        grads.append([x.grad.numpy()] + [p.grad.numpy() for p in net.parameters()])
    for e, t in zip(grads[1], grads[0]):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)
    with pytest.warns(UserWarning, match="checkpoint_sequential: the use_reentrant parameter should be passed "
                                         "explicitly"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ECK.checkpoint_sequential([ember.nn.Identity()], 1, ember.ones(1, requires_grad=True))
