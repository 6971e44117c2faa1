"""Build a layer in torch and in ember, give ember torch's parameters and buffers, run both on the same
inputs and compare outputs, input gradients, parameter gradients, state_dict layout and repr."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

TOL = {"float32": dict(rtol=2e-4, atol=2e-5), "float64": dict(rtol=1e-7, atol=1e-9)}


def lib_dtype(lib, name):
    return getattr(lib, name)


def sd_layout(sd):
    return [(k, tuple(v.shape), str(v.dtype)) for k, v in sd.items()]


def copy_state(tm, em):
    """Load torch module ``tm``'s state_dict into ember module ``em`` (through NumPy)."""
    sd = {k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()}
    em.load_state_dict(sd)


def _to(lib, x, dtype, rg):
    if isinstance(x, np.ndarray):
        if x.dtype.kind == "f":
            return lib.tensor(x, dtype=lib_dtype(lib, dtype), requires_grad=rg)
        return lib.tensor(x)
    if isinstance(x, (list, tuple)) and x and isinstance(x[0], np.ndarray):
        return type(x)(_to(lib, a, dtype, rg) for a in x)
    return x


def _flat(out):
    """The tensors of a (possibly nested / PackedSequence) result, in order."""
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(_flat(o))
        return res
    if out is None:
        return []
    return [out]


def assert_close(e, t, dtype="float64", what="", tol=None):
    tol = tol or TOL[dtype]
    assert isinstance(e, ember.Tensor), f"{what}: ember gave {type(e).__name__}"
    assert tuple(e.shape) == tuple(t.shape), f"{what}: shape {tuple(e.shape)} vs {tuple(t.shape)}"
    assert str(e.dtype) == str(t.dtype), f"{what}: dtype {e.dtype} vs {t.dtype}"
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), err_msg=what, equal_nan=True, **tol)


def check(ctor, inputs, dtype="float64", grad=True, train=True, kwargs=None, tol=None, check_repr=True,
          seed=0, grad_inputs=True, call=None):
    """Compare ``ctor(lib)`` in torch and ember on ``inputs`` (NumPy arrays; floats become ``dtype`` and require
    grad). Returns (ember module, torch module)."""
    torch.manual_seed(seed)
    tm = ctor(torch)
    em = ctor(ember)
    if dtype == "float64":
        tm, em = tm.double(), em.double()
    else:
        tm, em = tm.float(), em.float()
    assert sd_layout(em.state_dict()) == sd_layout(tm.state_dict())
    if check_repr:
        assert repr(em) == repr(tm)
    copy_state(tm, em)
    tm.train(train)
    em.train(train)
    t_in = [_to(torch, x, dtype, grad and grad_inputs) for x in inputs]
    e_in = [_to(ember, x, dtype, grad and grad_inputs) for x in inputs]
    kwargs = kwargs or {}
    call = call or (lambda m, xs, kw: m(*xs, **kw))
    t_out = call(tm, t_in, {k: _to(torch, v, dtype, False) for k, v in kwargs.items()})
    e_out = call(em, e_in, {k: _to(ember, v, dtype, False) for k, v in kwargs.items()})
    t_flat, e_flat = _flat(t_out), _flat(e_out)
    assert len(t_flat) == len(e_flat)
    for i, (e, t) in enumerate(zip(e_flat, t_flat)):
        if isinstance(t, torch.Tensor):
            assert_close(e, t, dtype, f"output {i}", tol)
        else:
            assert e == t, f"output {i}: {e!r} vs {t!r}"
    # buffers after the forward (running statistics)
    for (k, tb), (k2, eb) in zip(tm.state_dict().items(), em.state_dict().items()):
        assert k == k2
        assert_close(eb, tb, dtype, f"state {k} after forward", tol)
    if not grad:
        return em, tm
    rng = np.random.default_rng(seed)
    t_loss, e_loss = 0, 0
    for e, t in zip(e_flat, t_flat):
        if isinstance(t, torch.Tensor) and t.requires_grad and t.dtype.is_floating_point:
            w = rng.standard_normal(tuple(t.shape))
            t_loss = t_loss + (t * torch.tensor(w, dtype=t.dtype)).sum()
            e_loss = e_loss + (e * ember.tensor(w, dtype=e.dtype)).sum()
    if isinstance(t_loss, int):
        return em, tm
    t_loss.backward()
    e_loss.backward()
    for i, (e, t) in enumerate(zip(_flat(e_in), _flat(t_in))):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            assert (e.grad is None) == (t.grad is None), f"input {i} grad presence"
            if t.grad is not None:
                assert_close(e.grad, t.grad, dtype, f"input {i} grad", tol)
    for (n, tp), (n2, ep) in zip(tm.named_parameters(), em.named_parameters()):
        assert n == n2
        assert (ep.grad is None) == (tp.grad is None), f"param {n} grad presence"
        if tp.grad is not None:
            assert_close(ep.grad, tp.grad, dtype, f"param {n} grad", tol)
    return em, tm


def _sets_sorted(msg):
    import re
    return re.sub(r"\{([^{}]*)\}", lambda m: "{" + ", ".join(sorted(x.strip() for x in m.group(1).split(","))) + "}",
                  msg)


def same_error(fn_t, fn_e, match_msg=True):
    """Both callables raise the same exception type (and message)."""
    with pytest.raises(Exception) as et:
        fn_t()
    with pytest.raises(Exception) as ee:
        fn_e()
    assert type(ee.value).__name__ == type(et.value).__name__, f"{ee.value!r} vs {et.value!r}"
    if match_msg:
        # messages that print a Python set ({'a', 'b'}) vary in order with the hash seed: compare sets
        assert _sets_sorted(str(ee.value)) == _sets_sorted(str(et.value)), f"{ee.value!r} vs {et.value!r}"
