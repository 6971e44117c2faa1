"""gradcheck / gradgradcheck: compare analytical gradients with central finite differences.

Jacobians are laid out like torch's: one matrix per (differentiable input, differentiable output) pair,
with a row per input element and a column per output element. For a complex input the entry is
ds/dx + i ds/dy (torch's convention for the gradient of a real quantity s w.r.t. z = x + iy); complex
outputs are checked twice, through their imaginary and then their real part.
"""
import warnings

import numpy as np

from .._tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised by gradcheck and gradgradcheck when a check fails."""


def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _host(t):
    return np.asarray(t._device.backend.to_host(t._data))


def _differentiable_outputs(outputs):
    return tuple(o for o in outputs if o.requires_grad)


def _check_inputs(inputs):
    any_rg = False
    for idx, t in enumerate(inputs):
        if isinstance(t, Tensor) and t._rg:
            if t.dtype.name not in ("float64", "complex128"):
                warnings.warn(f"Input #{idx} requires gradient and is not a double precision floating point or "
                              f"complex. This check will likely fail if all the inputs are not of double precision "
                              f"floating point or complex. ", stacklevel=3)
            if t._data.size > 1 and any(s == 0 and n > 1 for s, n in zip(t._data.strides, t._data.shape)):
                raise RuntimeError(f"The {idx}th input has a dimension with stride 0. gradcheck only supports "
                                   f"inputs that are non-overlapping to be able to compute the numerical gradients "
                                   f"correctly. You should call .contiguous on the input before passing it to "
                                   f"gradcheck.")
            any_rg = True
    if not any_rg:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have "
                         "requires_grad=True.")


# ---------------------------------------------------------------- numerical Jacobians
def _eval(func, inputs, part):
    """Run func; its tensor outputs as host arrays (complex ones reduced to ``part``). Grad mode stays as it
    is: gradgradcheck's function itself calls autograd.grad."""
    outs = _as_tuple(func(*inputs))
    res = []
    for o in outs:
        if not isinstance(o, Tensor):
            res.append(None)
            continue
        a = _host(o).copy()
        if a.dtype.kind == "c" and part is not None:
            a = a.imag.copy() if part == "imag" else a.real.copy()
        res.append(a)
    return res


def _numerical(func, inputs, diff_in, out_idx, eps, part):
    """jac[j][i]: (numel of input j) x (numel of output i) central-difference Jacobians, perturbing the
    inputs' memory in place (and restoring it) one element at a time."""
    jac = []
    for j in diff_in:
        data = inputs[j]._data
        steps = [1.0] if data.dtype.kind != "c" else [1.0, 1j]
        rows = []
        for idx in np.ndindex(*data.shape):
            orig = data[idx].item()
            row = None
            for step in steps:
                data[idx] = orig - eps * step
                outa = _eval(func, inputs, part)
                data[idx] = orig + eps * step
                outb = _eval(func, inputs, part)
                data[idx] = orig
                d = [(b - a) / (2 * eps) if a is not None else None for a, b in zip(outa, outb)]
                # complex input: the entry is ds/dx + i ds/dy
                row = d if row is None else [x + 1j * y if x is not None else None for x, y in zip(row, d)]
            rows.append(row)
        if rows:
            jac.append([np.stack([r[i].reshape(-1) for r in rows]) for i in out_idx])
        else:  # an empty input: 0 x numel(output) matrices
            outs = _eval(func, inputs, part)
            jac.append([np.zeros((0, outs[i].size), dtype=outs[i].dtype) for i in out_idx])
    return jac


# ---------------------------------------------------------------- analytical Jacobians
def _analytical(outputs, inputs, diff_in, part):
    """jac[j][i] from one backward per output element (twice, to check the backward is reentrant)."""
    from .. import ops
    from .engine import grad as _grad
    diff_inputs = [inputs[j] for j in diff_in]
    jacs, jacs2 = [], []
    for o in outputs:
        unit = 1j if (part == "imag" and o.dtype.category == 3) else 1.0
        n_out = o._data.size
        per_in = [np.zeros((inputs[j]._data.size, n_out), dtype=inputs[j].dtype.np) for j in diff_in]
        per_in2 = [np.zeros_like(m) for m in per_in]
        for k in range(n_out):
            go = ops.zeros(tuple(o.shape), dtype=o.dtype, device=o.device)
            go._data.reshape(-1)[k] = unit
            for target in (per_in, per_in2):
                gs = _grad(o, diff_inputs, go, retain_graph=True, allow_unused=True)
                for m, g in zip(target, gs):
                    if g is not None:
                        m[:, k] = _host(g).reshape(-1)
        jacs.append(per_in)
        jacs2.append(per_in2)
    # transpose to [input][output]
    return ([[jacs[i][j] for i in range(len(outputs))] for j in range(len(diff_in))],
            [[jacs2[i][j] for i in range(len(outputs))] for j in range(len(diff_in))])


_NONDET_MSG = ("Backward is not reentrant, i.e., running backward with same input and grad_output multiple times "
               "gives different values, although analytical gradient matches numerical gradient.The tolerance for "
               "nondeterminism was {}.\n\n"
               "NOTE: If your op relies on non-deterministic operations i.e., it is listed here:\n"
               "https://pytorch.org/docs/stable/generated/torch.use_deterministic_algorithms.html\n"
               "this failure might be expected.\n\n"
               "If you are adding a new operator, please file an issue and then use one of the\n"
               "workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck.\n"
               "If the test\n"
               "- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck\n"
               "  with `nondet_tol=<tol>` as a keyword argument.\n"
               "- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test\n"
               "  to have `gradcheck_nondet_tol=<tol>`.\n"
               "- is a Module test (e.g., in common_nn.py), then modify the corresponding\n"
               "  module_test entry to have `gradcheck_nondet_tol=<tol>`\n")


def _fmt(m, dtype):
    from .. import ops
    return repr(ops.tensor(m, dtype=dtype))


def _mismatch_msg(a, n, i, j, a_dtype, n_dtype, prefix):
    return (f"{prefix}Jacobian mismatch for output {i} with respect to input {j},\n"
            f"numerical:{_fmt(n, n_dtype)}\nanalytical:{_fmt(a, a_dtype)}\n")


def _check_pass(func, inputs, outputs_all, diff_in, eps, atol, rtol, nondet_tol, part, prefix, check_grad_dtypes):
    from .. import _dtype as D
    tensor_outs = [k for k, o in enumerate(outputs_all) if isinstance(o, Tensor)]
    diff_out = [k for k in tensor_outs if outputs_all[k].requires_grad]
    outputs = [outputs_all[k] for k in diff_out]
    numerical = _numerical(func, inputs, diff_in, diff_out, eps, part)
    analytical, analytical2 = _analytical(outputs, inputs, diff_in, part)
    for i, o in enumerate(outputs):
        out_dt = o.dtype if part is None or o.dtype.category != 3 else o.dtype.to_real()
        for j, jin in enumerate(diff_in):
            t = inputs[jin]
            a, n = analytical[j][i], numerical[j][i]
            n_dtype = t.dtype if t.dtype.category == 3 else out_dt
            if n.dtype.kind == "c" and n_dtype.category != 3:
                n_dtype = D.complex128
            a_cmp = a.astype(np.result_type(a.dtype, n.dtype))
            if a.size and not np.allclose(a_cmp, n, rtol=rtol, atol=atol):
                raise GradcheckError(_mismatch_msg(a, n, i, j, t.dtype, n_dtype, prefix))
    for j in range(len(diff_in)):
        for i in range(len(outputs)):
            a1, a2 = analytical[j][i], analytical2[j][i]
            if a1.size and np.max(np.abs(a1 - a2)) > nondet_tol:
                raise GradcheckError(_NONDET_MSG.format(nondet_tol))


def _check_no_differentiable_outputs(func, inputs, diff_in, eps):
    outs = _as_tuple(func(*inputs))
    idx = [k for k, o in enumerate(outs) if isinstance(o, Tensor)]
    numerical = _numerical(func, inputs, diff_in, idx, eps, None)
    for per_in in numerical:
        for m in per_in:
            if m.size and np.any(m != 0):
                raise GradcheckError("Numerical gradient for function expected to be zero")
    return True


def _check_mul_by_grad_output(outputs, inputs, diff_in):
    """A backward given all-zero grad_outputs must return zero gradients."""
    from .. import ops
    from .engine import grad as _grad
    diff_inputs = [inputs[j] for j in diff_in]
    gos = [ops.zeros_like(o) for o in outputs]
    gs = _grad(outputs, diff_inputs, gos, retain_graph=True, allow_unused=True)
    for t, g in zip(diff_inputs, gs):
        if g is None:
            continue
        if tuple(g.shape) != tuple(t.shape):
            raise GradcheckError("grad is incorrect size")
        if np.any(_host(g) != 0):
            raise GradcheckError("backward not multiplied by grad_output")
    return True


def _check_undefined_grad(func, inputs, diff_in):
    """Backward must cope with outputs that receive no gradient at all (torch's undefined gradients):
    backpropagate from each differentiable output, and from all of them, with no gradient flowing in;
    every resulting input gradient must be None or zero."""
    from .engine import run
    from .graph import edge_of
    outputs = _differentiable_outputs(tuple(o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor)))
    diff_inputs = [inputs[j] for j in diff_in]
    msg = ("Expected backward function to handle undefined output grads. Please look at \"Notes about undefined "
           "output gradients\" in \"tools/autograd/derivatives.yaml\"")
    groups = [[o] for o in outputs] + ([list(outputs)] if len(outputs) > 1 else [])
    for group in groups:
        try:
            gs = run([edge_of(o) for o in group], [None] * len(group), True, False, accumulate=False,
                     inputs=diff_inputs)
        except RuntimeError as exc:
            _warn_undefined()
            raise GradcheckError(msg) from exc
        for g in gs:
            if g is not None and np.any(_host(g) != 0):
                _warn_undefined()
                raise GradcheckError(msg)
    return True


def _warn_undefined():
    warnings.warn("Backwards compatibility: New undefined gradient support checking feature is enabled by default, "
                  "but it may break existing callers of this function. If this is true for you, you can call this "
                  "function with \"check_undefined_grad=False\" to disable the feature", stacklevel=4)


def _fast_pass(func, inputs, outputs_all, diff_in, eps, atol, rtol, part, prefix):
    """Fast mode: compare v^T J u (random u, v) from finite differences and from one backward."""
    from .. import ops
    from .engine import grad as _grad
    rng = np.random.default_rng(0)
    diff_out = [k for k, o in enumerate(outputs_all) if isinstance(o, Tensor) and o.requires_grad]
    outputs = [outputs_all[k] for k in diff_out]
    for j, jin in enumerate(diff_in):
        t = inputs[jin]
        u = rng.uniform(-1, 1, t._data.shape)
        if t.dtype.category == 3:
            u = u + 1j * rng.uniform(-1, 1, t._data.shape)
        u = u / max(np.linalg.norm(u), 1e-12)
        data = t._data
        orig = data.copy()
        data[...] = orig - eps * u
        outa = _eval(func, inputs, part)
        data[...] = orig + eps * u
        outb = _eval(func, inputs, part)
        data[...] = orig
        for i, o in enumerate(outputs):
            k = diff_out[i]
            v = rng.uniform(-1, 1, o._data.shape)
            unit = 1j if (part == "imag" and o.dtype.category == 3) else 1.0
            d = (outb[k] - outa[k]) / (2 * eps)
            # along u, s changes at the rate Re(sum(conj(g) * u)) for g = ds/dx + i ds/dy (g real: g . u)
            numerical = float(np.sum(v * d))
            go = ops.tensor(v * unit, dtype=o.dtype)
            g = _grad(o, [t], go, retain_graph=True, allow_unused=True)[0]
            ga = _host(g) if g is not None else np.zeros(t._data.shape)
            analytical = float(np.sum((np.conj(ga) * u).real)) if t.dtype.category == 3 else float(np.sum(ga * u))
            if not np.isclose(analytical, numerical, rtol=rtol, atol=atol):
                return (i, j, numerical, analytical)
    return None


def gradcheck(func, inputs, *, eps=1e-06, atol=1e-05, rtol=0.001, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None):
    """Check analytical gradients of ``func`` at ``inputs`` against central finite differences.

    Returns True, or raises ``GradcheckError`` (returns False when ``raise_exception=False``).
    """
    try:
        return _gradcheck(func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad, check_grad_dtypes,
                          check_backward_ad, check_forward_ad, fast_mode)
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _gradcheck(func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad, check_grad_dtypes,
               check_backward_ad, check_forward_ad, fast_mode):
    inputs = _as_tuple(inputs)
    _check_inputs(inputs)
    diff_in = [k for k, t in enumerate(inputs) if isinstance(t, Tensor) and t._rg]
    outputs_all = _as_tuple(func(*inputs))
    for o in outputs_all:
        if not isinstance(o, Tensor):
            raise AttributeError(f"'{type(o).__name__}' object has no attribute 'requires_grad'")
    outputs = _differentiable_outputs(outputs_all)
    if not outputs:
        return _check_no_differentiable_outputs(func, inputs, diff_in, eps)
    if not (check_backward_ad or check_forward_ad):
        return True
    any_complex = any(o.dtype.category == 3 for o in outputs)
    passes = [("imag", "While considering the imaginary part of complex outputs only, "),
              ("real", "While considering the real part of complex outputs only, ")] if any_complex else \
        [(None, "")]
    for part, prefix in passes:
        if fast_mode:
            bad = _fast_pass(func, inputs, outputs_all, diff_in, eps, atol, rtol, part, prefix)
            if bad is not None:
                raise GradcheckError(_fast_msg(func, inputs, outputs_all, diff_in, eps, part, prefix, *bad))
        else:
            _check_pass(func, inputs, outputs_all, diff_in, eps, atol, rtol, nondet_tol, part, prefix,
                        check_grad_dtypes)
    _check_mul_by_grad_output(outputs, inputs, diff_in)
    if check_undefined_grad:
        _check_undefined_grad(func, inputs, diff_in)
    return True


def _fast_msg(func, inputs, outputs_all, diff_in, eps, part, prefix, i, j, numerical, analytical):
    from .. import _dtype as D
    diff_out = [k for k, o in enumerate(outputs_all) if isinstance(o, Tensor) and o.requires_grad]
    o = outputs_all[diff_out[i]]
    t = inputs[diff_in[j]]
    n = _numerical(func, inputs, [diff_in[j]], [diff_out[i]], eps, part)[0][0]
    a = _analytical([o], inputs, [diff_in[j]], part)[0][0][0]
    out_dt = o.dtype if part is None or o.dtype.category != 3 else o.dtype.to_real()
    n_dtype = t.dtype if t.dtype.category == 3 else (D.complex128 if n.dtype.kind == "c" else out_dt)
    diff = float(np.max(np.abs(a - n))) if a.size else 0.0
    return (f"{prefix}Jacobian mismatch for output {i} with respect to input {j},\n"
            f"numerical:{numerical}\nanalytical:{analytical}\n\n"
            f"The above quantities relating the numerical and analytical jacobians are computed \n"
            f"in fast mode. See: https://github.com/pytorch/pytorch/issues/53876 for more background \n"
            f"about fast mode. Below, we recompute numerical and analytical jacobians in slow mode:\n\n"
            f"Numerical:\n {_fmt(n, n_dtype)}\nAnalytical:\n{_fmt(a, t.dtype)}\n\n"
            f"The max per-element difference (slow mode) is: {diff}.\n")


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-06, atol=1e-05, rtol=0.001,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0, check_undefined_grad=True,
                  check_grad_dtypes=False, check_batched_grad=False, check_fwd_over_rev=False,
                  check_rev_over_rev=True, fast_mode=False, masked=False):
    """Check second derivatives: gradcheck of the function (inputs, grad_outputs) -> d(func)/d(inputs)."""
    from .. import ops
    from .engine import grad as _grad
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outs = _differentiable_outputs(tuple(o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor)))
        rng = np.random.default_rng(0)
        gos = []
        for o in outs:
            shape = tuple(o.shape) + ((2,) if gen_non_contig_grad_outputs and o.dim() else ())
            a = rng.uniform(-1, 1, shape)
            if o.dtype.category == 3:
                a = a + 1j * rng.uniform(-1, 1, shape)
            g = ops.tensor(a, dtype=o.dtype)
            if len(shape) != o.dim():
                g = g.select(-1, 0)  # a non-contiguous view of the values
            gos.append(g.requires_grad_())
        grad_outputs = tuple(gos)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_out = len(grad_outputs)
    diff_in_idx = {k for k, t in enumerate(inputs) if isinstance(t, Tensor) and t._rg}

    def new_func(*args):
        ins = args[:len(args) - n_out]
        gos = args[len(args) - n_out:]
        outs = _differentiable_outputs(tuple(o for o in _as_tuple(func(*ins)) if isinstance(o, Tensor)))
        diff_ins = tuple(t for k, t in enumerate(ins) if k in diff_in_idx)
        grads = _grad(outs, diff_ins, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(new_func, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol, check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, check_batched_grad=check_batched_grad, fast_mode=fast_mode,
                     check_forward_ad=check_fwd_over_rev, check_backward_ad=check_rev_over_rev, masked=masked)
