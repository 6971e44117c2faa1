"""Every row of the op table (tests/ops/op_db.py) with float32 samples, run by ember and by torch:

* under ``autocast("cpu", bfloat16/float16)`` with the float32 samples: the same result dtypes (which ops are
  lowered, which stay float32, which promote), the same errors, values within the lower precision;
* outside autocast with every float32 input converted to bfloat16/float16: ember's low-precision kernels give
  torch's dtypes and values (computed in float32 where NumPy has no bfloat16 kernel) or torch's errors (the
  LAPACK-backed ops torch's CPU build refuses).
"""
import warnings

import numpy as np
import pytest

import ember

from tests.ops.op_db import OP_DB
from tests.ops.test_ops import _args

torch = pytest.importorskip("torch")

# (input dtype, row id) -> {sample name: why ember differs from torch} (or why for the whole row), for the
# low-precision-inputs mode
_KNOWN = {
    # torch's low-precision matrix_exp overflows to inf/NaN where ember's (computed in float64) does not
    ("float16", "linalg.matrix_exp"): dict.fromkeys(["2d", "batch-large-norm", "noncontig"], "torch overflows"),
    ("bfloat16", "linalg.matrix_exp"): dict.fromkeys(["2d", "batch-large-norm", "noncontig"], "torch overflows"),
    # ember refuses low-precision histograms (torch bins them)
    ("bfloat16", "histogram"): dict.fromkeys(["range", "edges"], "ember refuses bfloat16"),
    ("float16", "histogram"): dict.fromkeys(["range", "edges"], "ember refuses float16"),
    # median's NaN handling misses bfloat16 (ml_dtypes sorts NaN first)
    ("bfloat16", "median"): dict.fromkeys(["nan-dim", "nan-all"], "bfloat16 NaN median"),
    ("bfloat16", "nanmedian"): dict.fromkeys(["nan-dim", "nan-all"], "bfloat16 NaN median"),
    # torch.norm(p='nuc') runs in scan.py, outside linalg's low-precision checks
    ("bfloat16", "norm"): dict.fromkeys(["nuc", "nuc-2d"], "no low-precision error"),
    ("float16", "norm"): dict.fromkeys(["nuc", "nuc-2d"], "NumPy's TypeError, not torch's RuntimeError"),
    # float16 pairs make complex32 (ComplexHalf) tensors, a dtype ember does not have
    ("float16", "complex"): "no complex32", ("float16", "view_as_complex_copy"): "no complex32",
    # torch's float32 -> bfloat16 cast sets the sign bit of NaN (NumPy's keeps it clear)
    ("bfloat16", "signbit"): {"special": "NaN's sign bit after the cast"},
}
_SKIP_ROWS = {"from_numpy"}  # takes NumPy arrays, which have no torch bfloat16 counterpart


def _rows():
    rows = []
    for op in OP_DB:
        if "float32" in op.dtypes and op.name not in _SKIP_ROWS:
            rows.append(op)
    return rows


ROWS = _rows()


def _low(lib, v, dt):
    if isinstance(v, (ember.Tensor, torch.Tensor)):
        return v.to(dt) if v.dtype == lib.float32 else v
    if isinstance(v, list):
        return [_low(lib, x, dt) for x in v]
    if type(v) is tuple:
        return tuple(_low(lib, x, dt) for x in v)
    return v


def _run(op, lib, sample, mode, dt_name):
    args, kw = _args(lib, sample)
    dt = getattr(lib, dt_name)
    if mode == "inputs":
        args, kw = [_low(lib, a, dt) for a in args], {k: _low(lib, v, dt) for k, v in kw.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if mode == "autocast":
                with lib.autocast("cpu", dtype=dt):
                    return op.call(lib, *args, **kw), None
            return op.call(lib, *args, **kw), None
        except Exception as e:  # noqa: BLE001 - the error is part of the behaviour compared
            return None, e


def _np(t):
    lib = torch if isinstance(t, torch.Tensor) else ember
    t = t.detach()
    if t.is_complex():
        t = t.to(lib.complex128)
    elif t.dtype.is_floating_point:
        t = t.double()
    if lib is torch:
        if t._is_zerotensor():
            t = t.new_zeros(t.shape)
        t = t.resolve_conj().resolve_neg()
    return t.numpy()


def _compare(e, t, what, values):
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{what}: got {type(e).__name__}"
        assert str(e.dtype) == str(t.dtype), f"{what}: dtype {e.dtype} != torch's {t.dtype}"
        assert tuple(e.shape) == tuple(t.shape), f"{what}: shape {tuple(e.shape)} != torch's {tuple(t.shape)}"
        if values:
            np.testing.assert_allclose(_np(e), _np(t), rtol=6e-2, atol=6e-2, equal_nan=True, err_msg=what)
    elif isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)) and len(e) == len(t), f"{what}: structure differs"
        for i, (x, y) in enumerate(zip(e, t)):
            _compare(x, y, f"{what}[{i}]", values)
    elif isinstance(t, torch.dtype):
        assert str(e) == str(t), what
    else:
        assert e == t or (e != e and t != t), f"{what}: {e!r} != torch's {t!r}"


MODES = [("autocast", "bfloat16"), ("autocast", "float16"), ("inputs", "bfloat16"), ("inputs", "float16")]


@pytest.mark.parametrize("mode,dt", MODES, ids=[f"{m}-{d}" for m, d in MODES])
@pytest.mark.parametrize("op", ROWS, ids=[op.id for op in ROWS])
def test_row(op, mode, dt):
    """Each float32 sample of the row: same dtypes/shapes/values (loosely) or the same error type as torch."""
    known = _KNOWN.get((dt, op.id), {}) if mode == "inputs" else {}
    if isinstance(known, str):
        pytest.xfail(known)
    samples = [s for s in op.samples("float32") if s.error is None and s.name not in known]
    for s in samples:
        what = f"{op.id}-{s.name} ({mode} {dt})"
        t, te = _run(op, torch, s, mode, dt)
        e, ee = _run(op, ember, s, mode, dt)
        if te is not None or ee is not None:
            assert te is not None and ee is not None, f"{what}: torch {te!r}, ember {ee!r}"
            assert type(ee).__name__ == type(te).__name__, f"{what}: torch {te!r}, ember {ee!r}"
            continue
        _compare(e, t, what, op.values)
