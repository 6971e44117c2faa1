"""Generic tests over the op table (tests/ops/op_db.OP_DB): every row x dtype x sample.

Ids read ``<op>-<dtype>-<sample>`` (e.g. ``exp-float32-2d``). Checks: values vs the NumPy ``ref``;
conformance with torch (values, dtype, shape, exception type; skipped without torch); float64
gradients vs central finite differences and vs torch's ``.grad``; meta-device shape/dtype;
non-contiguous inputs; the method and in-place forms.
"""
import functools
import warnings

import numpy as np
import pytest

import ember

from .op_db import OP_DB
from .opinfo import DT, Sample, copy_layout, noncontig

EPS = 1e-6


# ---------------------------------------------------------------- helpers
@functools.lru_cache(maxsize=None)
def _torch_module():
    try:
        import torch
    except ImportError:
        return None
    return torch


@pytest.fixture
def torch():
    t = _torch_module()
    if t is None:
        pytest.skip("torch is not installed")
    return t


def _is_tensor(x):
    return isinstance(x, ember.Tensor) or (_torch_module() is not None and isinstance(x, _torch_module().Tensor))


def _convert(mod, v, grad=False, layout=copy_layout):
    """Sample value -> value for ``mod`` (ember or torch): arrays become tensors, DT becomes a dtype."""
    if isinstance(v, np.ndarray):
        t = mod.from_numpy(layout(v))
        if grad and v.dtype.kind in "fc":
            t.requires_grad_(True)
        return t
    if isinstance(v, DT):
        return getattr(mod, v.name)
    if isinstance(v, list):
        return [_convert(mod, x, grad, layout) for x in v]
    if type(v) is tuple:
        return tuple(_convert(mod, x, grad, layout) for x in v)
    return v


def _args(mod, sample, grad=False, layout=copy_layout):
    args = [_convert(mod, a, grad, layout) for a in sample.args]
    kw = {k: _convert(mod, v, grad, layout) for k, v in sample.kwargs.items()}
    return args, kw


def _np_args(sample):
    def conv(v):
        if isinstance(v, np.ndarray):
            return v.copy()
        if isinstance(v, DT):
            return np.dtype(v.name)
        if isinstance(v, list):
            return [conv(x) for x in v]
        if type(v) is tuple:
            return tuple(conv(x) for x in v)
        return v
    return [conv(a) for a in sample.args], {k: conv(v) for k, v in sample.kwargs.items()}


def _numpy_of(t):
    if isinstance(t, ember.Tensor):
        return np.asarray(t.detach().numpy()) if t.device.type != "meta" else None
    t = t.detach()
    if t._is_zerotensor():
        t = t.new_zeros(t.shape)
    if t.is_conj():
        t = t.resolve_conj()
    if t.is_neg():
        t = t.resolve_neg()
    if str(t.dtype) == "torch.bfloat16":
        t = t.float()
    return t.numpy()


def _tols(op, dtype):
    if dtype in ("float32", "complex64"):
        return max(op.rtol, 1e-5), max(op.atol, 1e-5)
    if dtype in ("float16", "bfloat16"):
        return max(op.rtol, 1e-2), max(op.atol, 1e-2)
    return op.rtol, op.atol


def _close(a, b, rtol, atol, what):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    if a.dtype.kind in "biu" and b.dtype.kind in "biu":
        np.testing.assert_array_equal(a, b, err_msg=what)
    else:
        np.testing.assert_allclose(a.astype(np.complex128 if "c" in (a.dtype.kind, b.dtype.kind) else np.float64),
                                   b, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def _compare(e, t, rtol, atol, what="result", values=True, strides=False):
    """ember result ``e`` against torch result ``t`` (tensors, tuples/lists of them, or Python values)."""
    torch = _torch_module()
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{what}: expected a Tensor, got {type(e).__name__}"
        assert str(e.dtype) == str(t.dtype), f"{what}: dtype {e.dtype} != torch's {t.dtype}"
        assert tuple(e.shape) == tuple(t.shape), f"{what}: shape {tuple(e.shape)} != torch's {tuple(t.shape)}"
        assert e.requires_grad == t.requires_grad, f"{what}: requires_grad {e.requires_grad} != torch's"
        if strides and t.numel() > 1:
            assert e.stride() == t.stride(), f"{what}: strides {e.stride()} != torch's {t.stride()}"
        if values:
            _close(_numpy_of(e), _numpy_of(t), rtol, atol, what)
    elif isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)), f"{what}: expected a sequence, got {type(e).__name__}"
        assert len(e) == len(t), f"{what}: {len(e)} results != torch's {len(t)}"
        for i, (x, y) in enumerate(zip(e, t)):
            _compare(x, y, rtol, atol, f"{what}[{i}]", values, strides)
    elif isinstance(t, torch.dtype):
        assert str(e) == str(t), f"{what}: {e} != {t}"
    elif isinstance(t, torch.Size):
        assert tuple(e) == tuple(t), f"{what}: {e} != {t}"
    else:
        assert type(e) is type(t) and (e == t or (e != e and t != t)), f"{what}: {e!r} != torch's {t!r}"


def _compare_ember(a, b, what="result", rtol=0, atol=0):
    """Two ember results (same structure, dtypes, shapes and values)."""
    if isinstance(b, ember.Tensor):
        assert isinstance(a, ember.Tensor), f"{what}: expected a Tensor"
        assert a.dtype is b.dtype, f"{what}: dtype {a.dtype} != {b.dtype}"
        assert tuple(a.shape) == tuple(b.shape), f"{what}: shape {tuple(a.shape)} != {tuple(b.shape)}"
        _close(_numpy_of(a), _numpy_of(b), rtol, atol, what)
    elif isinstance(b, (tuple, list)):
        assert isinstance(a, (tuple, list)) and len(a) == len(b), f"{what}: structure differs"
        for i, (x, y) in enumerate(zip(a, b)):
            _compare_ember(x, y, f"{what}[{i}]", rtol, atol)
    else:
        assert a == b or (a != a and b != b), f"{what}: {a!r} != {b!r}"


def _call(op, mod, args, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return op.call(mod, *args, **kw)


def _outcome(fn):
    """(result, None) or (None, exception)."""
    try:
        return fn(), None
    except Exception as exc:  # noqa: BLE001 - any exception type is a result to compare
        return None, exc


def _flat_tensors(r):
    if isinstance(r, (tuple, list)):
        out = []
        for x in r:
            out.extend(_flat_tensors(x))
        return out
    return [r] if _is_tensor(r) else []


def _has_array(sample):
    return any(isinstance(a, np.ndarray) for a in sample.args)


def _float_arrays(sample):
    return [i for i, a in enumerate(sample.args) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]


# ---------------------------------------------------------------- the cases
def _samples(op, dt):
    if dt in op.errors:
        # one representative sample that must raise for this dtype
        ss = [s for s in op.samples(dt) if s.error is None]
        pick = next((s for n in ("2d", "1d", "broadcast") for s in ss if s.name == n), ss[0])
        return [Sample(pick.args, pick.kwargs, name=pick.name, error=op.errors[dt])]
    return list(op.samples(dt))


class _BrokenRow:
    """Stands in for a row whose samples could not be generated: its test fails, the others still run."""
    def __init__(self, op, exc):
        self.op, self.exc = op, exc
        self.skip, self.fn, self.inplace, self.method, self.grad, self.view = (), None, False, False, False, False

    def call(self, *a, **k):
        raise AssertionError(f"sample generation for {self.op.id} failed: {self.exc!r}")


CASES = []
_seen = set()
for _op in OP_DB:
    for _dt in tuple(_op.dtypes) + tuple(d for d in _op.errors if d not in _op.dtypes):
        try:
            _ss = _samples(_op, _dt)
        except Exception as _e:  # noqa: BLE001 - reported by the case below
            CASES.append((_BrokenRow(_op, _e), _dt, Sample((), name="broken"), f"{_op.id}-{_dt}-broken"))
            continue
        for _s in _ss:
            _id = f"{_op.id}-{_dt}-{_s.name}"
            if _id in _seen:
                _id += f"-{len(_seen)}"  # duplicate names in a row: keep both cases, under distinct ids
            _seen.add(_id)
            CASES.append((_op, _dt, _s, _id))


def _params(pred=lambda op, dt, s: True):
    return [pytest.param(op, dt, s, id=i) for op, dt, s, i in CASES if pred(op, dt, s)]


def _differentiable(op, dt, s):
    return dt == "float64" and op.grad and s.error is None and s.grad and bool(_float_arrays(s))


# ---------------------------------------------------------------- ember alone: ref, meta, layouts, variants
@pytest.mark.parametrize("op,dtype,sample", _params())
def test_op(op, dtype, sample):
    """Values vs the NumPy ref; meta shapes; non-contiguous inputs; method and in-place forms."""
    args, kw = _args(ember, sample)
    if sample.error is not None:
        with pytest.raises(sample.error):
            _call(op, ember, args, kw)
        return
    got = _call(op, ember, args, kw)
    if op.ref is not None and "ref" not in op.skip:
        _check_ref(op, dtype, sample, got)
    if "meta" not in op.skip and _has_array(sample):
        _check_meta(op, sample, got)
    if "noncontig" not in op.skip and any(isinstance(a, np.ndarray) and a.ndim and a.size > 1 for a in sample.args):
        _check_noncontig(op, dtype, sample, got)
    first_array = bool(sample.args) and isinstance(sample.args[0], np.ndarray)
    if op.method and "method" not in op.skip and first_array and (op.fn is None or op.method_name is not None):
        _check_method(op, sample, got)
    if op.inplace and "inplace" not in op.skip and first_array and (op.fn is None or op.method_name is not None):
        _check_inplace(op, dtype, sample, got)


def _check_ref(op, dtype, sample, got):
    nargs, nkw = _np_args(sample)
    with np.errstate(all="ignore"):
        want = op.ref(*nargs, **nkw)
    rtol, atol = _tols(op, dtype)

    def cmp(g, w, what):
        if isinstance(w, (tuple, list)):
            assert isinstance(g, (tuple, list)) and len(g) == len(w), f"{what}: structure differs from the ref"
            for i, (x, y) in enumerate(zip(g, w)):
                cmp(x, y, f"{what}[{i}]")
            return
        assert isinstance(g, ember.Tensor), f"{what}: expected a Tensor, got {type(g).__name__}"
        w = np.asarray(w)
        if op.ref_dtype:
            assert g.dtype.np == w.dtype, f"{what}: dtype {g.dtype} != ref's {w.dtype}"
        assert tuple(g.shape) == w.shape, f"{what}: shape {tuple(g.shape)} != ref's {w.shape}"
        if op.values:
            _close(_numpy_of(g), w, rtol, atol, what + " vs ref")
    cmp(got, want, "result")


def _meta_convert(v):
    if isinstance(v, np.ndarray):
        return ember.empty(v.shape, dtype=getattr(ember, str(v.dtype)), device="meta")
    if isinstance(v, list):
        return [_meta_convert(x) for x in v]
    if type(v) is tuple:
        return tuple(_meta_convert(x) for x in v)
    return _convert(ember, v)


def _check_meta(op, sample, cpu):
    """On device='meta' the result has the CPU result's shapes and dtypes (and lives on meta)."""
    margs = [_meta_convert(a) for a in sample.args]
    mkw = {k: _meta_convert(v) for k, v in sample.kwargs.items()}
    meta = _call(op, ember, margs, mkw)
    c, m = _flat_tensors(cpu), _flat_tensors(meta)
    assert len(c) == len(m), "meta: number of results differs"
    for i, (x, y) in enumerate(zip(c, m)):
        assert y.device.type == "meta", f"meta: result[{i}] is on {y.device}"
        assert tuple(y.shape) == tuple(x.shape), f"meta: result[{i}] shape {tuple(y.shape)} != {tuple(x.shape)}"
        assert y.dtype is x.dtype, f"meta: result[{i}] dtype {y.dtype} != {x.dtype}"


def _check_noncontig(op, dtype, sample, got):
    """Non-contiguous inputs give the same result as contiguous ones."""
    a1, k1 = _args(ember, sample, layout=lambda v: np.array(v, order="C"))
    a2, k2 = _args(ember, sample, layout=lambda v: noncontig(np.array(v, order="C")))
    r1 = _call(op, ember, a1, k1)
    r2 = _call(op, ember, a2, k2)
    if op.values:
        tol = 1e-6 if dtype in ("float32", "complex64") else 1e-12
        _compare_ember(r2, r1, "non-contiguous input", rtol=tol, atol=tol)


def _check_method(op, sample, got):
    """``t.<name>(*rest)`` equals ``ember.<name>(t, *rest)``."""
    args, kw = _args(ember, sample)
    r = getattr(args[0], op.method_name or op.name)(*args[1:], **kw)
    if op.values:
        _compare_ember(r, got, "method")
    else:
        _compare_meta(r, got, "method")


def _compare_meta(a, b, what):
    fa, fb = _flat_tensors(a), _flat_tensors(b)
    assert len(fa) == len(fb), f"{what}: number of results differs"
    for x, y in zip(fa, fb):
        assert tuple(x.shape) == tuple(y.shape) and x.dtype is y.dtype, f"{what}: shape/dtype differ"


def _inplace(mod, op, sample):
    args, kw = _args(mod, sample)
    self = args[0]
    v0 = self._version
    name = (op.method_name or op.name) + "_"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r, err = _outcome(lambda: getattr(self, name)(*args[1:], **kw))
    return self, v0, r, err


def _check_inplace(op, dtype, sample, want):
    """``t.<name>_(*rest)`` writes the function's result into t (same object, version bumped), or raises
    RuntimeError where the result cannot be cast to t's dtype or broadcasts beyond t's shape (as torch)."""
    self, v0, r, err = _inplace(ember, op, sample)
    bad = tuple(want.shape) != tuple(self.shape) or (want.dtype is not self.dtype and
                                                     not ember.can_cast(want.dtype, self.dtype))
    if bad:
        assert isinstance(err, RuntimeError), f"in-place: expected RuntimeError, got {err!r}"
        return
    if err is not None:
        raise err
    assert r is self, "in-place op must return self"
    assert self._version > v0, "in-place op must bump the version counter"
    _close(_numpy_of(self), _numpy_of(want).astype(self.dtype.np), *_tols(op, dtype), what="in-place result")


# ---------------------------------------------------------------- conformance with torch
@pytest.mark.parametrize("op,dtype,sample", _params(lambda op, dt, s: "torch" not in op.skip))
def test_torch(op, dtype, sample, torch):
    """Same values, dtype, shape (and view-ness) as torch, or the same exception type; same in-place
    behaviour; for float64 the same ``.grad`` for the same program."""
    if isinstance(op, _BrokenRow):
        op.call()
    targs, tkw = _args(torch, sample)
    want, terr = _outcome(lambda: _call(op, torch, targs, tkw))
    args, kw = _args(ember, sample)
    got, err = _outcome(lambda: _call(op, ember, args, kw))
    if terr is not None:
        assert err is not None, f"torch raises {type(terr).__name__}({terr}); ember returned {got!r}"
        assert isinstance(err, type(terr)), \
            f"torch raises {type(terr).__name__}({terr}); ember raises {type(err).__name__}({err})"
        if sample.error is not None:
            assert isinstance(terr, sample.error), f"the row expects {sample.error.__name__}, torch raises {terr!r}"
        return
    assert sample.error is None, f"the row expects {sample.error.__name__} but torch returns"
    if err is not None:
        raise err
    rtol, atol = _tols(op, dtype)
    _compare(got, want, rtol, atol, values=op.values, strides=op.strides)
    if op.view:
        _check_views(args, got, want)
    if op.inplace and "inplace" not in op.skip and sample.args and isinstance(sample.args[0], np.ndarray) and \
            (op.fn is None or op.method_name is not None):
        self, _, _, e1 = _inplace(ember, op, sample)
        tself, _, _, e2 = _inplace(torch, op, sample)
        if e2 is not None:
            assert e1 is not None and isinstance(e1, type(e2)), f"in-place: torch raises {e2!r}, ember {e1!r}"
        else:
            assert e1 is None, f"in-place: ember raises {e1!r}, torch does not"
            _compare(self, tself, rtol, atol, what="in-place result")
    if _differentiable(op, dtype, sample) and "torch_grad" not in op.skip:
        _check_torch_grad(op, sample, torch)


def _check_views(args, got, want):
    e0 = args[0]
    for i, (e, t) in enumerate(zip(_flat_tensors(got), _flat_tensors(want))):
        assert (e._base is not None) == t._is_view(), f"result[{i}]: torch's is a view: {t._is_view()}"
        if t._is_view() and t.numel():
            assert e.storage_offset() == t.storage_offset(), "storage offset differs from torch's"
            assert e.untyped_storage().data_ptr() == e0.untyped_storage().data_ptr(), \
                "the view does not share the input's storage"


def _loss_weights(outs, seed=0):
    r = np.random.default_rng(seed)
    return [r.standard_normal(tuple(o.shape)) for o in outs]


def _diff_outputs(res):
    return [o for o in _flat_tensors(res) if o.dtype.is_floating_point or o.dtype.is_complex]


def _backward(mod, op, sample):
    """Run sum_i <out_i, w_i>.backward(); returns (args, number of differentiable outputs, error)."""
    args, kw = _args(mod, sample, grad=True)
    res = _call(op, mod, args, kw)
    outs = [o for o in _diff_outputs(res) if o.requires_grad]
    if not outs:
        return args, 0, None, []
    ws = _loss_weights(outs)
    loss = None
    for o, w in zip(outs, ws):
        term = (o * mod.from_numpy(w)).sum()
        loss = term if loss is None else loss + term
    _, err = _outcome(loss.backward)
    return args, len(outs), err, ws


def _check_torch_grad(op, sample, torch):
    """The same program's ``.grad`` in ember and torch (None where torch has None)."""
    eargs, en, eerr, _ = _backward(ember, op, sample)
    targs, tn, terr, _ = _backward(torch, op, sample)
    assert en == tn, f"differentiable outputs: ember {en}, torch {tn}"
    if terr is not None or eerr is not None:
        assert terr is not None and eerr is not None and isinstance(eerr, type(terr)), \
            f"backward: torch raises {terr!r}, ember raises {eerr!r}"
        return
    for i in _float_arrays(sample):
        eg, tg = eargs[i].grad, targs[i].grad
        if tg is None:
            assert eg is None, f"input {i}: torch's grad is None, ember's is {eg!r}"
            continue
        assert eg is not None, f"input {i}: ember's grad is None, torch's is {tg!r}"
        _compare(eg, tg, 1e-7, op.grad_atol * 1e-2, what=f"grad of input {i}")


# ---------------------------------------------------------------- gradients vs finite differences
def _ember_value(op, sample, arrays, n_out, ws):
    """sum_i <out_i, w_i> with some inputs replaced (no graph)."""
    s_args = list(sample.args)
    for i, a in arrays.items():
        s_args[i] = a
    args = [_convert(ember, a) for a in s_args]
    kw = {k: _convert(ember, v) for k, v in sample.kwargs.items()}
    with ember.no_grad():
        outs = _diff_outputs(_call(op, ember, args, kw))[:n_out]
    return sum(float(np.sum(_numpy_of(v) * w)) for v, w in zip(outs, ws))


@pytest.mark.parametrize("op,dtype,sample", _params(lambda op, dt, s: _differentiable(op, dt, s) and
                                                    "grad" not in op.skip))
def test_grad(op, dtype, sample):
    """ember's backward against central finite differences (eps 1e-6) of sum(out * w)."""
    args, n_out, err, ws = _backward(ember, op, sample)
    if n_out == 0:
        pytest.skip("no output requires grad")
    if err is not None:
        raise err
    outs = _diff_outputs(_call(op, ember, *_args(ember, sample)))[:n_out]
    if any(o.dtype not in (ember.float64, ember.complex128) for o in outs):
        pytest.skip("finite differences need float64 outputs (the torch test compares these gradients)")
    idx = _float_arrays(sample)
    base = {i: np.array(sample.args[i], order="C") for i in idx}
    for i in idx:
        g = args[i].grad
        x = base[i]
        num = np.zeros(x.shape)
        for j in range(x.size):
            xp, xm = x.copy(), x.copy()
            xp.flat[j] += EPS
            xm.flat[j] -= EPS
            num.flat[j] = (_ember_value(op, sample, {**base, i: xp}, n_out, ws) -
                           _ember_value(op, sample, {**base, i: xm}, n_out, ws)) / (2 * EPS)
        if g is None:
            np.testing.assert_allclose(num, 0, atol=op.grad_atol, err_msg=f"input {i}: no grad, but FD is nonzero")
            continue
        assert tuple(g.shape) == x.shape, f"input {i}: grad shape {tuple(g.shape)} != {x.shape}"
        assert g.dtype is ember.float64
        np.testing.assert_allclose(_numpy_of(g), num, rtol=max(op.grad_rtol, 1e-3), atol=op.grad_atol,
                                   err_msg=f"input {i}: analytic vs finite-difference gradient")
