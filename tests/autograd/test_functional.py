"""ember.autograd.functional against torch.autograd.functional: values, output structure, errors."""
import pytest

import ember
import ember.autograd.functional  # noqa: F401
from ._twin import T, same, torch  # noqa: F401  (skips the module without torch)

import torch.autograd.functional  # noqa: F401,E402

X3 = [1.0, 2.0, 3.0]
Y2 = [0.5, -1.0]


def F(lib):
    return lib.autograd.functional


def d(lib, v):
    return T(lib, v, dtype="float64")


def ones(lib, n):
    return lib.ones(n, dtype=lib.float64)


CASES = {
    "jac1": lambda lib: F(lib).jacobian(lambda a: a.exp(), d(lib, X3)),
    "jac_scalar_out": lambda lib: F(lib).jacobian(lambda a: (a ** 2).sum(), d(lib, X3)),
    "jac_tuple_in": lambda lib: F(lib).jacobian(lambda a, b: a.sum() * b, (d(lib, X3), d(lib, Y2))),
    "jac_tuple_out": lambda lib: F(lib).jacobian(lambda a: (a * 2, a.sum()), d(lib, X3)),
    "jac_tuple_both": lambda lib: F(lib).jacobian(lambda a, b: (a * 2, b.sum() * a.sum()), (d(lib, X3), d(lib, Y2))),
    "jac_matrix": lambda lib: F(lib).jacobian(lambda a: a.t().exp(), d(lib, [[1.0, 2.0, 0.5], [0.0, -1.0, 2.0]])),
    "jac_indep": lambda lib: F(lib).jacobian(lambda a, b: a * 2, (d(lib, X3), d(lib, Y2))),
    "jac_indep_strict": lambda lib: F(lib).jacobian(lambda a, b: a * 2, (d(lib, X3), d(lib, Y2)), strict=True),
    "jac_const": lambda lib: F(lib).jacobian(lambda a: ones(lib, 2), d(lib, X3)),
    "jac_const_strict": lambda lib: F(lib).jacobian(lambda a: ones(lib, 2), d(lib, X3), strict=True),
    "jac_bad_out": lambda lib: F(lib).jacobian(lambda a: 3, d(lib, X3)),
    "jac_bad_in": lambda lib: F(lib).jacobian(lambda a: a, 3.0),
    "jac_bad_in2": lambda lib: F(lib).jacobian(lambda a, b: a, (d(lib, X3), 3.0)),
    "jac_list_in": lambda lib: F(lib).jacobian(lambda a, b: a * b, [d(lib, X3), d(lib, X3)]),
    "jac_vec": lambda lib: F(lib).jacobian(lambda a: a.exp(), d(lib, X3), vectorize=True),
    "jac_fwd": lambda lib: F(lib).jacobian(lambda a: a.exp(), d(lib, X3), strategy="forward-mode"),
    "jac_fwd_vec": lambda lib: F(lib).jacobian(lambda a: a.exp(), d(lib, X3), strategy="forward-mode",
                                               vectorize=True),
    "jac_strict_vec": lambda lib: F(lib).jacobian(lambda a: a.exp(), d(lib, X3), strict=True, vectorize=True),
    "jac_badstrat": lambda lib: F(lib).jacobian(lambda a: a.exp(), d(lib, X3), strategy="foo"),
    "jac_0d": lambda lib: F(lib).jacobian(lambda a: a * 3, lib.tensor(2.0, dtype=lib.float64)),
    "jac_empty_out": lambda lib: F(lib).jacobian(lambda a: a * 3, lib.zeros(0, dtype=lib.float64)),
    "jac_float32": lambda lib: F(lib).jacobian(lambda a: a.sin(), T(lib, X3)),
    "hess": lambda lib: F(lib).hessian(lambda a: (a ** 3).sum(), d(lib, X3)),
    "hess_tuple": lambda lib: F(lib).hessian(lambda a, b: (a ** 2).sum() * b.sum(), (d(lib, X3), d(lib, Y2))),
    "hess_nonscalar": lambda lib: F(lib).hessian(lambda a: a ** 3, d(lib, X3)),
    "hess_tuple_out": lambda lib: F(lib).hessian(lambda a: ((a ** 3).sum(),), d(lib, X3)),
    "hess_linear": lambda lib: F(lib).hessian(lambda a: a.sum(), d(lib, X3)),
    "hess_linear_strict": lambda lib: F(lib).hessian(lambda a: a.sum(), d(lib, X3), strict=True),
    "hess_mixed": lambda lib: F(lib).hessian(lambda a: (a.sin() * a.exp()).sum(), d(lib, X3)),
    "vjp": lambda lib: F(lib).vjp(lambda a: a ** 2, d(lib, X3), ones(lib, 3)),
    "vjp_none": lambda lib: F(lib).vjp(lambda a: (a ** 2).sum(), d(lib, X3)),
    "vjp_none_bad": lambda lib: F(lib).vjp(lambda a: a ** 2, d(lib, X3)),
    "vjp_shape": lambda lib: F(lib).vjp(lambda a: a ** 2, d(lib, X3), ones(lib, 2)),
    "vjp_tuple": lambda lib: F(lib).vjp(lambda a, b: (a * b.sum(), b * 2), (d(lib, X3), d(lib, Y2)),
                                        (ones(lib, 3), ones(lib, 2))),
    "vjp_tuple_len": lambda lib: F(lib).vjp(lambda a, b: (a * b.sum(), b * 2), (d(lib, X3), d(lib, Y2)),
                                            (ones(lib, 3),)),
    "vjp_tuple_shape": lambda lib: F(lib).vjp(lambda a, b: (a * b.sum(), b * 2), (d(lib, X3), d(lib, Y2)),
                                              (ones(lib, 3), ones(lib, 3))),
    "vjp_v_tuple_bad": lambda lib: F(lib).vjp(lambda a: a * 2, d(lib, X3), (ones(lib, 3), ones(lib, 3))),
    "vjp_indep": lambda lib: F(lib).vjp(lambda a, b: a * 2, (d(lib, X3), d(lib, Y2)), ones(lib, 3)),
    "vjp_indep_strict": lambda lib: F(lib).vjp(lambda a, b: a * 2, (d(lib, X3), d(lib, Y2)), ones(lib, 3),
                                               strict=True),
    "vjp_out_int": lambda lib: F(lib).vjp(lambda a: 3, d(lib, X3)),
    "jvp": lambda lib: F(lib).jvp(lambda a: a ** 2, d(lib, X3), ones(lib, 3)),
    "jvp_none": lambda lib: F(lib).jvp(lambda a: a ** 2, d(lib, X3)),
    "jvp_none_ok": lambda lib: F(lib).jvp(lambda a: a ** 2, d(lib, [2.0])),
    "jvp_tuple": lambda lib: F(lib).jvp(lambda a, b: (a * b.sum(), b * 2), (d(lib, X3), d(lib, Y2)),
                                        (ones(lib, 3), ones(lib, 2))),
    "jvp_indep": lambda lib: F(lib).jvp(lambda a, b: a * 2, (d(lib, X3), d(lib, Y2)), (ones(lib, 3), ones(lib, 2))),
    "jvp_const_strict": lambda lib: F(lib).jvp(lambda a: ones(lib, 2), d(lib, X3), ones(lib, 3), strict=True),
    "jvp_linear_strict": lambda lib: F(lib).jvp(lambda a: a * 2, d(lib, X3), ones(lib, 3), strict=True),
    "jvp_nonlinear": lambda lib: F(lib).jvp(lambda a: (a.sin() * a, a.exp().sum()), d(lib, X3),
                                            d(lib, [0.5, -1.0, 2.0])),
    "hvp": lambda lib: F(lib).hvp(lambda a: (a ** 3).sum(), d(lib, X3), ones(lib, 3)),
    "vhp": lambda lib: F(lib).vhp(lambda a: (a ** 3).sum(), d(lib, X3), ones(lib, 3)),
    "hvp_tuple": lambda lib: F(lib).hvp(lambda a, b: (a ** 2).sum() * (b ** 2).sum(), (d(lib, X3), d(lib, Y2)),
                                        (ones(lib, 3), ones(lib, 2))),
    "vhp_tuple": lambda lib: F(lib).vhp(lambda a, b: (a ** 2).sum() * (b ** 2).sum(), (d(lib, X3), d(lib, Y2)),
                                        (ones(lib, 3), d(lib, [2.0, -1.0]))),
    "vhp_nonscalar": lambda lib: F(lib).vhp(lambda a: a ** 3, d(lib, X3), ones(lib, 3)),
    "hvp_nonscalar": lambda lib: F(lib).hvp(lambda a: a ** 3, d(lib, X3), ones(lib, 3)),
    "hvp_none": lambda lib: F(lib).hvp(lambda a: (a ** 3).sum(), d(lib, X3)),
    "hvp_lin_strict": lambda lib: F(lib).hvp(lambda a: a.sum(), d(lib, X3), ones(lib, 3), strict=True),
    "vhp_lin_strict": lambda lib: F(lib).vhp(lambda a: a.sum(), d(lib, X3), ones(lib, 3), strict=True),
    "vhp_lin": lambda lib: F(lib).vhp(lambda a: a.sum(), d(lib, X3), ones(lib, 3)),
    "hvp_lin": lambda lib: F(lib).hvp(lambda a: a.sum(), d(lib, X3), ones(lib, 3)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_functional(name):
    tol = 1e-6 if name.endswith("float32") else 1e-12
    same(CASES[name], rtol=tol, atol=tol)


def test_create_graph_results_are_differentiable():
    def prog(lib):
        x = T(lib, X3, True, "float64")
        J = F(lib).jacobian(lambda a: a ** 3, x, create_graph=True)
        info = (J.requires_grad, J.grad_fn is not None, F(lib).jacobian(lambda a: a ** 3, x).requires_grad)
        J.sum().backward()
        out, v = F(lib).vjp(lambda a: a ** 2, x, ones(lib, 3))
        out2, v2 = F(lib).vjp(lambda a: a ** 2, x, ones(lib, 3), create_graph=True)
        _, jv = F(lib).jvp(lambda a: a ** 3, x, ones(lib, 3), create_graph=True)
        gjv, = lib.autograd.grad(jv.sum(), x)
        _, hv = F(lib).hvp(lambda a: (a ** 4).sum(), x, ones(lib, 3), create_graph=True)
        ghv, = lib.autograd.grad(hv.sum(), x)
        H = F(lib).hessian(lambda a: (a ** 4).sum(), x, create_graph=True)
        gH, = lib.autograd.grad(H.sum(), x)
        return info, x.grad, (out.requires_grad, v.requires_grad, out2.requires_grad, v2.requires_grad), gjv, ghv, gH
    same(prog, rtol=1e-12)


def test_functional_works_under_no_grad_and_leaves_inputs_alone():
    def prog(lib):
        x = T(lib, X3, True, "float64")
        with lib.no_grad():
            J = F(lib).jacobian(lambda a: a.sin(), x)
            _, hv = F(lib).hvp(lambda a: (a ** 3).sum(), x, ones(lib, 3))
        return J, hv, x.grad, lib.is_grad_enabled()
    same(prog, rtol=1e-12)


def test_custom_function_inside_jacobian():
    def prog(lib):
        class Sq(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 2 * x * g
        x = d(lib, X3)
        return F(lib).jacobian(Sq.apply, x), F(lib).hessian(lambda a: Sq.apply(a).sum(), x)
    same(prog, rtol=1e-12)
