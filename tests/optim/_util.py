"""Shared pieces of the optim tests: one deterministic problem built by either library, and converters
between torch and ember values (through NumPy)."""
import numpy as np

import ember


def to_numpy(t):
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def convert(value, lib):
    """Deep-copy ``value`` (a state_dict piece) turning every tensor of either library into one of ``lib``."""
    if hasattr(value, "detach") and hasattr(value, "dtype"):
        arr = to_numpy(value)
        dt = getattr(lib, str(value.dtype).replace("torch.", ""))
        return lib.tensor(arr.copy(), dtype=dt)
    if isinstance(value, dict):
        return {k: convert(v, lib) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(convert(v, lib) for v in value)
    return value


def same_structure(a, b, exact=True, tol=0.0):
    """Assert two state_dict-like values are equal: same keys/types/order, tensors equal in dtype, shape, values."""
    if hasattr(a, "detach") and hasattr(a, "dtype"):
        assert hasattr(b, "detach"), (a, b)
        assert str(a.dtype) == str(b.dtype), (a.dtype, b.dtype)
        assert tuple(a.shape) == tuple(b.shape)
        x, y = to_numpy(a), to_numpy(b)
        if exact:
            np.testing.assert_array_equal(x, y)
        else:
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol)
        return
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a.keys()) == list(b.keys()), (list(a.keys()), list(b.keys()))
        for k in a:
            same_structure(a[k], b[k], exact, tol)
        return
    if isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            same_structure(x, y, exact, tol)
        return
    if isinstance(a, float) and isinstance(b, float) and not exact:
        assert abs(a - b) <= tol * (1 + abs(a)), (a, b)
        return
    assert a == b or (a != a and b != b), (a, b)


SHAPES = [(3, 4), (5,), ()]


def make_problem(lib, dtype="float64", seed=0, transposed=True, shapes=SHAPES, complex_part=False):
    """Parameters (the first one non-contiguous when ``transposed``) and targets of a fixed smooth loss."""
    rng = np.random.default_rng(seed)
    dt = getattr(lib, dtype)
    params, targets = [], []
    for i, shape in enumerate(shapes):
        a = rng.standard_normal(shape)
        if complex_part:
            a = a + 1j * rng.standard_normal(shape)
        if i == 0 and transposed and len(shape) == 2:
            p = lib.tensor(np.ascontiguousarray(a.T), dtype=dt).t()
        else:
            p = lib.tensor(a, dtype=dt)
        params.append(p.requires_grad_(True))
        c = rng.standard_normal(shape)
        targets.append(lib.tensor(c + 1j * rng.standard_normal(shape) if complex_part else c, dtype=dt))
    return params, targets


def loss_of(params, targets, sign=1.0):
    """sum |p - c|^2 + 0.1 sum |p|^4: smooth, with curvature that changes along the path."""
    total = 0
    for p, c in zip(params, targets):
        d = p - c
        if p.is_complex():
            total = total + (d.abs() ** 2).sum() + 0.1 * (p.abs() ** 4).sum()
        else:
            total = total + (d ** 2).sum() + 0.1 * (p ** 4).sum()
    return total * sign


def closure_for(opt, params, targets, sign=1.0):
    def closure():
        opt.zero_grad()
        loss = loss_of(params, targets, sign)
        loss.backward()
        return loss
    return closure


def run_steps(opt, params, targets, steps, sign=1.0):
    """Take ``steps`` optimizer steps; return the parameters after each as NumPy arrays."""
    out = []
    closure = closure_for(opt, params, targets, sign)
    for _ in range(steps):
        opt.step(closure)
        out.append([to_numpy(p).copy() for p in params])
    return out


def libs():
    import torch
    return {"ember": ember, "torch": torch}
