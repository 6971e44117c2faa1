"""The op table on device='cuda' (CuPy): every row's result on the GPU equals its CPU result.

Skipped where ember sees no GPU (CI has none); run on a GPU machine with
``python -m pytest tests/cuda``. Checks per case: the result lives on cuda with the CPU result's
dtype, shape and values (float32 to 1e-5, float64 to 1e-10); float64 gradients equal the CPU's.
Random ops (rows with ``values=False``) compare shape and dtype only: the GPU has its own streams.
"""
import warnings

import numpy as np
import pytest

import ember

from ..ops.test_ops import CASES, _BrokenRow, _call, _convert, _diff_outputs, _flat_tensors, _loss_weights, \
    _outcome, _differentiable, _float_arrays

if not ember.cuda.is_available():
    pytest.skip("needs a GPU (CuPy and a CUDA device)", allow_module_level=True)


def _to(v, device, grad=False):
    """Sample value -> value on ``device`` (arrays become tensors there)."""
    if isinstance(v, np.ndarray):
        t = ember.from_numpy(np.ascontiguousarray(v)).to(device)
        if grad and v.dtype.kind in "fc":
            t.requires_grad_(True)
        return t
    if isinstance(v, list):
        return [_to(x, device, grad) for x in v]
    if type(v) is tuple:
        return tuple(_to(x, device, grad) for x in v)
    return _convert(ember, v)


def _args(sample, device, grad=False):
    return [_to(a, device, grad) for a in sample.args], {k: _to(v, device, grad) for k, v in sample.kwargs.items()}


def _host(t):
    return np.asarray(t.detach().cpu().numpy())


def _same(g, c, what, values, tol, on_cuda=True):
    fg, fc = _flat_tensors(g), _flat_tensors(c)
    assert len(fg) == len(fc), f"{what}: {len(fg)} tensors on cuda, {len(fc)} on cpu"
    for i, (x, y) in enumerate(zip(fg, fc)):
        if on_cuda:
            assert x.device.type == "cuda", f"{what}[{i}] is on {x.device}"
        assert x.dtype is y.dtype, f"{what}[{i}]: dtype {x.dtype} != cpu's {y.dtype}"
        assert tuple(x.shape) == tuple(y.shape), f"{what}[{i}]: shape {tuple(x.shape)} != cpu's {tuple(y.shape)}"
        if values:
            a, b = _host(x), _host(y)
            if a.dtype.kind in "biu":
                np.testing.assert_array_equal(a, b, err_msg=f"{what}[{i}]")
            else:
                np.testing.assert_allclose(a.astype(np.complex128 if a.dtype.kind == "c" else np.float64), b,
                                           rtol=tol, atol=tol, equal_nan=True, err_msg=f"{what}[{i}]")
    if not fc:  # Python values (e.g. equal, is_nonzero, type names)
        if isinstance(g, str):
            g = g.replace(".cuda.", ".")
        assert g == c or (g != g and c != c), f"{what}: {g!r} on cuda, {c!r} on cpu"


def _tol(dtype):
    return {"float64": 1e-10, "complex128": 1e-10, "float16": 2e-3, "bfloat16": 2e-2}.get(dtype, 1e-5)


def _cases():
    out = []
    for op, dt, s, i in CASES:
        if isinstance(op, _BrokenRow) or dt in ("float16", "bfloat16") and "half" in op.skip:
            continue
        out.append(pytest.param(op, dt, s, id=i))
    return out


@pytest.mark.parametrize("op,dtype,sample", _cases())
def test_cuda_matches_cpu(op, dtype, sample):
    cargs, ckw = _args(sample, "cpu")
    want, werr = _outcome(lambda: _call(op, ember, cargs, ckw))
    gargs, gkw = _args(sample, "cuda")
    got, gerr = _outcome(lambda: _call(op, ember, gargs, gkw))
    if werr is not None:
        assert gerr is not None and isinstance(gerr, type(werr)), \
            f"cpu raises {type(werr).__name__}({werr}); cuda gives {gerr!r}"
        return
    if gerr is not None:
        raise gerr
    # factories without tensor inputs create on the CPU; from_numpy and to(...) say where themselves
    on_cuda = any(isinstance(a, np.ndarray) for a in sample.args) and op.name not in ("from_numpy", "to")
    _same(got, want, "result", op.values, _tol(dtype), on_cuda)
    if _differentiable(op, dtype, sample):
        _check_grads(op, sample)


def _backward(op, sample, device):
    args, kw = _args(sample, device, grad=True)
    outs = [o for o in _diff_outputs(_call(op, ember, args, kw)) if o.requires_grad]
    if not outs:
        return args, None
    loss = sum((o * ember.from_numpy(w).to(o.device)).sum() for o, w in zip(outs, _loss_weights(outs)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, err = _outcome(loss.backward)
    return args, err


def _check_grads(op, sample):
    cargs, cerr = _backward(op, sample, "cpu")
    gargs, gerr = _backward(op, sample, "cuda")
    if cerr is not None or gerr is not None:
        assert cerr is not None and gerr is not None and isinstance(gerr, type(cerr)), \
            f"backward: cpu raises {cerr!r}, cuda {gerr!r}"
        return
    for i in _float_arrays(sample):
        cg, gg = cargs[i].grad, gargs[i].grad
        assert (cg is None) == (gg is None), f"input {i}: grad on cpu {cg!r}, on cuda {gg!r}"
        if cg is not None:
            assert gg.device.type == "cuda"
            np.testing.assert_allclose(_host(gg), _host(cg), rtol=1e-9, atol=1e-9, err_msg=f"grad of input {i}")
