"""Run one program with ember and with torch and compare what comes out (values, dtypes, shapes,
requires_grad, exception types and messages)."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


class Exc:
    """An exception a program raised: its type name and message."""

    def __init__(self, exc):
        self.type = type(exc).__name__
        self.msg = str(exc)

    def __repr__(self):
        return f"Exc({self.type}: {self.msg})"


def run(prog, lib):
    try:
        return prog(lib)
    except Exception as exc:  # the program's error is part of its result
        return Exc(exc)


def T(lib, values, rg=False, dtype="float32"):
    """A tensor of ``values`` in library ``lib`` (ember or torch)."""
    return lib.tensor(np.asarray(values), dtype=getattr(lib, dtype), requires_grad=rg)


def compare(e, t, rtol=1e-6, atol=1e-7, msg=True, path="result"):
    if isinstance(t, Exc) or isinstance(e, Exc):
        assert isinstance(e, Exc) and isinstance(t, Exc), f"{path}: ember gave {e!r}, torch gave {t!r}"
        assert e.type == t.type, f"{path}: ember raised {e!r}, torch raised {t!r}"
        if msg:
            assert e.msg == t.msg, f"{path}: message\n ember: {e.msg}\n torch: {t.msg}"
        return
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{path}: ember gave {type(e).__name__}, torch a Tensor"
        assert str(e.dtype) == str(t.dtype), f"{path}: dtype {e.dtype} vs {t.dtype}"
        assert tuple(e.shape) == tuple(t.shape), f"{path}: shape {tuple(e.shape)} vs {tuple(t.shape)}"
        assert e.requires_grad == t.requires_grad, f"{path}: requires_grad {e.requires_grad} vs {t.requires_grad}"
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=path)
        return
    if isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)) and type(e) is type(t), f"{path}: {type(e).__name__} vs {type(t).__name__}"
        assert len(e) == len(t), f"{path}: length {len(e)} vs {len(t)}"
        for i, (a, b) in enumerate(zip(e, t)):
            compare(a, b, rtol, atol, msg, f"{path}[{i}]")
        return
    if isinstance(t, dict):
        assert isinstance(e, dict) and list(e) == list(t), f"{path}: keys {list(e)} vs {list(t)}"
        for k in t:
            compare(e[k], t[k], rtol, atol, msg, f"{path}[{k!r}]")
        return
    if isinstance(t, float):
        assert e == pytest.approx(t, rel=rtol, abs=atol), f"{path}: {e} vs {t}"
        return
    assert e == t, f"{path}: {e!r} vs {t!r}"


def same(prog, rtol=1e-6, atol=1e-7, msg=True):
    """Run ``prog(lib)`` with both libraries; assert the results match; return ember's."""
    e = run(prog, ember)
    t = run(prog, torch)
    compare(e, t, rtol, atol, msg)
    return e
