"""gradcheck / gradgradcheck against torch: pass/fail, error types and messages."""
import warnings

import numpy as np
import pytest

import ember
from ._twin import T, same, torch  # noqa: F401  (skips the module without torch)

X2 = [1.0, 2.0]


def wrong_fns(lib):
    F = lib.autograd.Function

    class Wrong(F):        # d(x*x)/dx claimed as 3x
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * x * 3

    class Scale3(F):       # forward 2x, backward 3g
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    class NotMulByGrad(F):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2 + 1

    class NonDet(F):
        calls = [0]

        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            NonDet.calls[0] += 1
            return g * 2 + NonDet.calls[0] * 1e-9

    class OnceGood(F):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 3 * x * x.detach()   # right first derivative, wrong second

    class Undef(F):        # two outputs, backward cannot handle a missing gradient
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3

    return dict(Wrong=Wrong, Scale3=Scale3, NotMulByGrad=NotMulByGrad, NonDet=NonDet, OnceGood=OnceGood,
                Undef=Undef)


def gc_(lib):
    return lib.autograd.gradcheck


def test_passes_on_correct_gradients():
    def prog(lib):
        x = T(lib, X2, True, "float64")
        y = T(lib, [3.0, -4.0], True, "float64")
        m = lib.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), dtype=lib.float64).t().requires_grad_()
        return (gc_(lib)(lambda a, b: (a * b, a + b, (a * b).exp()), (x, y)),
                gc_(lib)(lambda a: a.sum(), x),
                gc_(lib)(lambda a, k: a * k, (x, 3.0)),
                gc_(lib)(lambda a: (a * 2, a.argmax()), (x,)),
                gc_(lib)(lambda a: a.exp().sum(0), (m,)),
                gc_(lib)(lambda a: a.sum(), (lib.zeros(0, dtype=lib.float64, requires_grad=True),)),
                gc_(lib)(lambda a: a * 2, (lib.tensor(3.0, dtype=lib.float64, requires_grad=True),)),
                gc_(lib)(lambda a: a.sin(), (x,), fast_mode=True))
    same(prog)


def test_mismatch_message_and_raise_exception_false():
    def prog(lib):
        W = wrong_fns(lib)["Wrong"]
        x = T(lib, X2, True, "float64")
        try:
            gc_(lib)(W.apply, (x,))
        except RuntimeError as e:
            err = (type(e).__name__, isinstance(e, RuntimeError), str(e))
        return err, gc_(lib)(W.apply, (x,), raise_exception=False)
    same(prog)


def test_mismatch_indices_count_differentiable_outputs_and_inputs():
    def prog(lib):
        S = wrong_fns(lib)["Scale3"]
        x = T(lib, X2, True, "float64")
        c = T(lib, X2, dtype="float64")
        gc_(lib)(lambda a, b: (a.detach(), b * 2, S.apply(b)), (c, x))
    same(prog)


def test_mismatch_rows_are_input_elements():
    def prog(lib):
        W = wrong_fns(lib)["Wrong"]
        xm = lib.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), dtype=lib.float64, requires_grad=True)
        gc_(lib)(lambda a: W.apply(a).sum(0), (xm,))
    same(prog)


def test_float32_inputs_warn_and_fail_numerically():
    def prog(lib):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                gc_(lib)(lambda a: a * 2, (T(lib, X2, True),))
                err = None
            except RuntimeError as e:
                err = str(e)
        return err, [str(m.message) for m in w]
    same(prog)


@pytest.mark.parametrize("case", ["no_rg", "stride0", "no_diff_outputs", "nonzero_numerical", "not_mul",
                                  "nondet", "nondet_tol", "non_tensor_output"])
def test_other_failures(case):
    def prog(lib):
        fns = wrong_fns(lib)
        x = T(lib, X2, True, "float64")
        if case == "no_rg":
            return gc_(lib)(lambda a: a * 2, (T(lib, X2, dtype="float64"),))
        if case == "stride0":
            return gc_(lib)(lambda a: a * 2, (T(lib, X2, True, "float64").expand(3, 2),))
        if case == "no_diff_outputs":
            return gc_(lib)(lambda a: a.detach() * 0, (x,))
        if case == "nonzero_numerical":
            return gc_(lib)(lambda a: a.detach() * 2, (x,))
        if case == "not_mul":
            return gc_(lib)(fns["NotMulByGrad"].apply, (x,))
        if case == "nondet":
            return gc_(lib)(fns["NonDet"].apply, (x,))
        if case == "nondet_tol":
            return gc_(lib)(fns["NonDet"].apply, (x,), nondet_tol=1e-6)
        return gc_(lib)(lambda a: (a * 2, 3), (x,))
    same(prog)


def test_undefined_grad_check():
    def prog(lib):
        U = wrong_fns(lib)["Undef"]
        x = T(lib, X2, True, "float64")
        ok = gc_(lib)(U.apply, (x,), check_undefined_grad=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                gc_(lib)(U.apply, (x,))
                err = None
            except RuntimeError as e:
                err = str(e)
        return ok, err
    same(prog)


def test_complex_inputs_and_outputs():
    def prog(lib):
        z = lib.tensor(np.array([1 + 2j, 3 - 1j]), dtype=lib.complex128, requires_grad=True)
        x = T(lib, X2, True, "float64")
        S = wrong_fns(lib)["Scale3"]
        ok = (gc_(lib)(lambda a: a * 2, (z,)), gc_(lib)(lambda a: (a * 2).abs(), (z,)),
              gc_(lib)(lambda a: (a * 3).sum(), (z,)))
        try:
            gc_(lib)(S.apply, (z,))
        except RuntimeError as e:
            err = str(e)
        return ok, err, gc_(lib)(lambda a: a.exp() * 2, (x,))
    same(prog)


def test_fast_mode_failure_message_shape():
    W = wrong_fns(ember)["Wrong"]
    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    with pytest.raises(ember.autograd.GradcheckError) as info:
        ember.autograd.gradcheck(W.apply, (x,), fast_mode=True)
    msg = str(info.value)
    assert msg.startswith("Jacobian mismatch for output 0 with respect to input 0,\nnumerical:")
    assert "in fast mode. See: https://github.com/pytorch/pytorch/issues/53876" in msg
    assert ("Numerical:\n tensor([[2.0000, 0.0000],\n        [0.0000, 4.0000]], dtype=torch.float64)\n"
            "Analytical:\ntensor([[3., 0.],\n        [0., 6.]], dtype=torch.float64)\n\n"
            "The max per-element difference (slow mode) is: ") in msg


def test_gradgradcheck():
    def prog(lib):
        x = T(lib, [0.5, -1.5, 2.0], True, "float64")
        y = lib.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), dtype=lib.float64).t().requires_grad_()
        go = lib.ones(2, 2, dtype=lib.float64)
        return (lib.autograd.gradgradcheck(lambda a: a ** 3, (x,)),
                lib.autograd.gradgradcheck(lambda a, b: (a.sin() * b.sum()), (x, x)),
                lib.autograd.gradgradcheck(lambda a: a.exp(), (y,)),
                lib.autograd.gradgradcheck(lambda a: a.exp(), (y,), go),
                lib.autograd.gradgradcheck(lambda a: a * 2, (y,)),
                lib.autograd.gradgradcheck(lambda a: a.tanh(), (x,), gen_non_contig_grad_outputs=True))
    same(prog)
    same(lambda lib: lib.autograd.gradgradcheck(lambda a: a.exp(), (T(lib, X2, True, "float64"),), lib.ones(3)))


def test_gradgradcheck_detects_wrong_second_derivative():
    O = wrong_fns(ember)["OnceGood"]
    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(O.apply, (x,))
    with pytest.raises(ember.autograd.GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0"):
        ember.autograd.gradgradcheck(O.apply, (x,))
    assert ember.autograd.gradgradcheck(O.apply, (x,), raise_exception=False) is False


def test_gradcheck_error_is_exported():
    from ember.autograd.gradcheck import GradcheckError
    assert GradcheckError is ember.autograd.GradcheckError
    assert issubclass(GradcheckError, RuntimeError)
    assert callable(ember.autograd.gradcheck)
