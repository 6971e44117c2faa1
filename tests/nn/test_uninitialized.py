"""UninitializedParameter / UninitializedBuffer (lazy modules) against torch: which attributes and methods work
on a placeholder, the errors the rest raise (type and message), conversions, copies, pickling and
materialization through lazy modules."""
import copy
import pickle
import re

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _outcome(fn, M):
    try:
        r = fn(M)
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return ("err", type(e).__name__, re.sub(" at 0x[0-9a-f]+", "", str(e)))
    if M.nn.parameter.is_lazy(r):
        return ("lazy", type(r).__name__, str(r.dtype).split(".")[-1], r.requires_grad)
    if isinstance(r, M.Tensor):
        return ("T", type(r).__name__, str(r.dtype).split(".")[-1], tuple(r.shape), r.requires_grad)
    if isinstance(r, M.Size):
        return ("S", tuple(r))
    if isinstance(r, M.dtype):
        return ("D", str(r).split(".")[-1])
    if isinstance(r, (list, tuple)):
        return ("L", [_outcome(lambda M, x=x: x, M) for x in r])
    if isinstance(r, type):
        return ("C", r.__name__)
    return ("V", r)


def check(fn):
    t, e = _outcome(fn, torch), _outcome(fn, ember)
    assert t == e, f"\ntorch: {t}\nember: {e}"


def UP(M, **kw):
    return M.nn.parameter.UninitializedParameter(**kw)


def UB(M, **kw):
    return M.nn.parameter.UninitializedBuffer(**kw)


REFUSED = [  # torch raises ValueError naming the function; the message must match exactly
    ("numel", lambda M, p: p.numel()),
    ("nelement", lambda M, p: p.nelement()),
    ("dim", lambda M, p: p.dim()),
    ("stride", lambda M, p: p.stride()),
    ("add", lambda M, p: p + 1),
    ("radd", lambda M, p: 1 + p),
    ("mul", lambda M, p: p * p),
    ("sum", lambda M, p: p.sum()),
    ("detach", lambda M, p: p.detach()),
    ("clone", lambda M, p: p.clone()),
    ("zero_", lambda M, p: p.zero_()),
    ("fill_", lambda M, p: p.fill_(1)),
    ("uniform_", lambda M, p: p.uniform_()),
    ("item", lambda M, p: p.item()),
    ("tolist", lambda M, p: p.tolist()),
    ("element_size", lambda M, p: p.element_size()),
    ("data_ptr", lambda M, p: p.data_ptr()),
    ("storage_offset", lambda M, p: p.storage_offset()),
    ("is_contiguous", lambda M, p: p.is_contiguous()),
    ("requires_grad_", lambda M, p: p.requires_grad_(False)),
    ("retain_grad", lambda M, p: p.retain_grad()),
    ("type", lambda M, p: p.type()),
    ("untyped_storage", lambda M, p: p.untyped_storage()),
    ("torch.numel", lambda M, p: M.numel(p)),
]


@pytest.mark.parametrize("kind", ["param", "buffer"])
@pytest.mark.parametrize("fn", [f for _, f in REFUSED], ids=[n for n, _ in REFUSED])
def test_refused(fn, kind):
    make = UP if kind == "param" else UB
    t, e = _outcome(lambda M: fn(M, make(M)), torch), _outcome(lambda M: fn(M, make(M)), ember)
    assert t[:2] == e[:2] == ("err", "ValueError")
    head = "Attempted to use an uninitialized parameter in "
    assert t[2].startswith(head) and e[2].startswith(head)
    # the part after the function description is the same
    assert t[2].split(">", 1)[1] == e[2].split(">", 1)[1]
    if "method '" in t[2]:  # Tensor methods are named like torch names them
        assert t[2].split(">", 1)[0] == e[2].split(">", 1)[0]


def test_refused_functions_name_the_function():
    for fn in (lambda M: M.add(UP(M), 1), lambda M: M.nn.functional.linear(M.ones(2, 3), UP(M)),
               lambda M: M.numel(UP(M))):
        t, e = _outcome(fn, torch), _outcome(fn, ember)
        assert t[:2] == e[:2] == ("err", "ValueError")
        name = t[2].split("method ")[1].split(" ")[0] if "method " in t[2] else t[2].split("function ")[1][:-1]
        assert name.split(">")[0] in e[2]


ALLOWED = [
    ("size", lambda M, p: p.size()),
    ("size0", lambda M, p: p.size(0)),
    ("size-1", lambda M, p: p.size(-1)),
    ("size1", lambda M, p: p.size(1)),
    ("ndim", lambda M, p: p.ndim),
    ("dtype", lambda M, p: p.dtype),
    ("device", lambda M, p: str(p.device)),
    ("requires_grad", lambda M, p: p.requires_grad),
    ("is_leaf", lambda M, p: p.is_leaf),
    ("grad", lambda M, p: p.grad),
    ("data", lambda M, p: p.data),
    ("nbytes", lambda M, p: p.nbytes),
    ("itemsize", lambda M, p: p.itemsize),
    ("is_floating_point", lambda M, p: p.is_floating_point()),
    ("is_complex", lambda M, p: p.is_complex()),
    ("get_device", lambda M, p: p.get_device()),
    ("to", lambda M, p: p.to(M.float64)),
    ("to_same", lambda M, p: p.to(M.float32) is p),
    ("float", lambda M, p: p.float()),
    ("double", lambda M, p: p.double()),
    ("half", lambda M, p: p.half()),
    ("cpu", lambda M, p: p.cpu() is p),
    ("long", lambda M, p: p.long()),
    ("shape", lambda M, p: p.shape),
    ("repr", lambda M, p: repr(p)),
    ("str", lambda M, p: str(p)),
    ("hash", lambda M, p: isinstance(hash(p), int)),
    ("share_memory_", lambda M, p: p.share_memory_()),
    ("is_lazy", lambda M, p: M.nn.parameter.is_lazy(p)),
    ("cls_to_become", lambda M, p: p.cls_to_become),
    ("grad_fn", lambda M, p: p.grad_fn),
]


@pytest.mark.parametrize("kind", ["param", "buffer"])
@pytest.mark.parametrize("fn", [f for _, f in ALLOWED], ids=[n for n, _ in ALLOWED])
def test_allowed(fn, kind):
    make = UP if kind == "param" else UB
    check(lambda M: fn(M, make(M)))
    check(lambda M: fn(M, make(M, dtype=M.float64)))


def test_construction_and_copies():
    check(lambda M: (lambda p: (p.dtype, p.requires_grad, isinstance(p, M.nn.Parameter)))(UP(M)))
    check(lambda M: UP(M, requires_grad=False).requires_grad)
    check(lambda M: UB(M, requires_grad=True).requires_grad)
    check(lambda M: (lambda q: (type(q), q.dtype, q.requires_grad))(copy.deepcopy(UP(M, dtype=M.float64))))
    check(lambda M: copy.deepcopy(UB(M)))
    check(lambda M: (lambda q: (type(q), q.dtype, q.requires_grad))(
        pickle.loads(pickle.dumps(UP(M, dtype=M.float64, requires_grad=False)))))
    check(lambda M: UP(M).__reduce_ex__(2)[1])
    # copy_ is allowed (the usual in-place checks still apply)
    check(lambda M: UP(M).copy_(M.zeros(0)))
    check(lambda M: UP(M, requires_grad=False).copy_(M.zeros(0)))
    check(lambda M: UP(M, requires_grad=False).copy_(M.zeros(2)))


def test_materialize():
    def f(M):
        p = UP(M, dtype=M.float64)
        p.materialize((2, 3))
        b = UB(M)
        b.materialize(4, dtype=M.float64)
        return type(p), p.shape, p.dtype, p.requires_grad, type(b), b.shape, b.dtype, p.numel()
    check(f)


def test_lazy_modules():
    def f(M):
        M.manual_seed(0)
        m = M.nn.Sequential(M.nn.LazyConv2d(4, 3), M.nn.LazyBatchNorm2d(), M.nn.ReLU(), M.nn.Flatten(),
                            M.nn.LazyLinear(2))
        opt = M.optim.SGD(m.parameters(), lr=0.1)
        r = [repr(m[4]), [n for n, _ in m.named_parameters()], type(copy.deepcopy(m[0]).weight)]
        m.double()
        r += [m[0].weight.dtype, type(m[0].weight), m[1].running_mean.dtype, type(m[1].running_mean)]
        m.float()
        x = M.tensor(np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32))
        y = m(x)
        y.sum().backward()
        opt.step()
        r += [y.shape, type(m[0].weight), m[0].weight.shape, type(m[1].running_mean), m[4].weight.shape,
              m[0].weight.grad.shape]
        sd = m.state_dict()
        m3 = M.nn.Sequential(M.nn.LazyConv2d(4, 3), M.nn.LazyBatchNorm2d(), M.nn.ReLU(), M.nn.Flatten(),
                             M.nn.LazyLinear(2))
        r += [type(M.nn.LazyLinear(3).state_dict()["weight"])]
        m3.load_state_dict(sd)
        r += [type(m3[0].weight), m3[0].weight.shape, type(m3[1].running_mean)]
        return r
    check(f)
    check(lambda M: sum(p.numel() for p in M.nn.LazyLinear(3).parameters()))
    check(lambda M: M.nn.LazyConv2d(3, 2).to(memory_format=M.channels_last))
    check(lambda M: M.nn.LazyLinear(3).to(M.float64).weight.dtype)
    check(lambda M: M.nn.utils.parameters_to_vector(M.nn.LazyLinear(3).parameters())
          if False else type(M.nn.LazyLinear(3).half().bias))
    check(lambda M: copy.deepcopy(M.nn.LazyBatchNorm1d()))
