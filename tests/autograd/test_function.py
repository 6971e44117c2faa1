"""Custom autograd.Function against torch: ctx API, saved tensors, dirty / non-differentiable outputs,
materialized grads, once_differentiable, errors."""
import gc
import warnings
import weakref

import numpy as np
import pytest

import ember
from ._twin import T, same, torch  # noqa: F401  (skips the module without torch)

X3 = [0.5, -1.25, 2.0]


def fn_classes(lib):
    """The same custom Functions defined against ``lib`` (ember or torch)."""
    F = lib.autograd.Function
    ns = {}

    class Scale(F):
        @staticmethod
        def forward(ctx, x, k):
            ns["fwd_grad_enabled"] = lib.is_grad_enabled()
            ns["needs"] = ctx.needs_input_grad
            ctx.save_for_backward(x)
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            ns["bwd_grad_enabled"] = lib.is_grad_enabled()
            return g * ctx.k, None

    class Cube(F):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * g

    class ExpF(F):  # saves its output
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            y, = ctx.saved_tensors
            ns["saved_out_grad_fn"] = type(y.grad_fn).__name__
            return g * y

    class Split(F):  # several outputs, some not tensors
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3, "tag", 5

        @staticmethod
        def backward(ctx, g1, g2, g3, g4):
            ns["split_grads"] = (g1, g2, g3, g4)
            return g1 * 2 + g2 * 3

    class NoMat(F):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            ns["nomat"] = (g1, g2)
            return (g1 * 2 if g1 is not None else 0) + (g2 * 3 if g2 is not None else 0)

    class SortLike(F):  # an integer output marked non-differentiable
        @staticmethod
        def forward(ctx, x):
            idx = lib.tensor([2, 0, 1])
            ctx.mark_non_differentiable(idx)
            return x * 1, idx

        @staticmethod
        def backward(ctx, gv, gi):
            ns["nondiff_grad"] = gi
            return gv * 4

    class AddOne(F):  # in place
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5

    class Ident(F):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 7

    class WithSetup(F):
        @staticmethod
        def forward(x, k=2.0):
            ns["setup_fwd_grad"] = lib.is_grad_enabled()
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, k = inputs
            ctx.k = k
            ctx.save_for_backward(x, output)

        @staticmethod
        def backward(ctx, g):
            x, out = ctx.saved_tensors
            return g * ctx.k, None

    ns.update(Scale=Scale, Cube=Cube, ExpF=ExpF, Split=Split, NoMat=NoMat, SortLike=SortLike, AddOne=AddOne,
              Ident=Ident, WithSetup=WithSetup)
    return ns


def test_basic_function_and_ctx():
    def prog(lib):
        ns = fn_classes(lib)
        x = T(lib, X3, True)
        y = ns["Scale"].apply(x, 2.5)
        fn = y.grad_fn
        info = (fn.name(), type(fn).__name__, repr(fn).split(" ")[0], len(fn.next_functions),
                fn.next_functions[0][0].name(), fn.needs_input_grad, fn.k, fn.saved_tensors[0] is x, y.is_leaf)
        y.sum().backward()
        return y, x.grad, info, ns["fwd_grad_enabled"], ns["bwd_grad_enabled"], ns["needs"]
    same(prog)


def test_function_without_inputs_requiring_grad():
    def prog(lib):
        ns = fn_classes(lib)
        y = ns["Scale"].apply(T(lib, X3), 2.0)
        with lib.no_grad():
            z = ns["Scale"].apply(T(lib, X3, True), 2.0)
        return y.requires_grad, y.grad_fn is None, z.requires_grad, z.grad_fn is None, ns["needs"]
    same(prog)


def test_needs_input_grad_mixed():
    def prog(lib):
        seen = {}

        class F(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b, k, c):
                seen["needs"] = ctx.needs_input_grad
                return a * b * c

            @staticmethod
            def backward(ctx, g):
                return g, None, None, g
        F.apply(T(lib, X3, True), T(lib, X3), 3, T(lib, X3, True)).sum().backward()
        return seen["needs"]
    same(prog)


def test_saved_output_rewrapped_with_grad_fn():
    def prog(lib):
        ns = fn_classes(lib)
        x = T(lib, X3, True)
        y = ns["ExpF"].apply(x)
        y.sum().backward()
        return x.grad, ns["saved_out_grad_fn"]
    same(prog, rtol=1e-6)


def test_setup_context_style():
    def prog(lib):
        ns = fn_classes(lib)
        x = T(lib, X3, True)
        y1 = ns["WithSetup"].apply(x)
        y2 = ns["WithSetup"].apply(x, k=3.0)
        (y1 + y2).sum().backward()
        return y1, y2, x.grad, ns["setup_fwd_grad"], y1.grad_fn.name()
    same(prog)
    same(lambda lib: fn_classes(lib)["WithSetup"].apply(T(lib, X3, True), z=3.0), msg=False)


def test_multiple_outputs_and_materialized_zeros():
    def prog(lib):
        ns = fn_classes(lib)
        x = T(lib, X3, True)
        a, b, s, n = ns["Split"].apply(x)
        info = (a.grad_fn is b.grad_fn, a.output_nr, b.output_nr, s, n)
        a.sum().backward()
        return info, x.grad, ns["split_grads"]
    same(prog)


def test_set_materialize_grads_false():
    def prog(lib):
        ns = fn_classes(lib)
        x = T(lib, X3, True)
        a, b = ns["NoMat"].apply(x)
        b.sum().backward()
        return x.grad, ns["nomat"]
    same(prog)


def test_mark_non_differentiable():
    def prog(lib):
        ns = fn_classes(lib)
        x = T(lib, X3, True)
        v, i = ns["SortLike"].apply(x)
        info = (v.requires_grad, i.requires_grad, i.grad_fn is None)
        v.sum().backward()
        return info, x.grad, ns["nondiff_grad"]
    same(prog)


def test_mark_dirty_in_place_function():
    def prog(lib):
        ns = fn_classes(lib)
        x = T(lib, X3, True)
        x2 = x * 1
        v0 = x2._version
        y = ns["AddOne"].apply(x2)
        info = (y is x2, y.grad_fn is x2.grad_fn, x2.grad_fn.name(), x2._version - v0)
        y.sum().backward()
        return info, y, x.grad
    same(prog)


def test_mark_dirty_leaf_error():
    same(lambda lib: fn_classes(lib)["AddOne"].apply(T(lib, X3, True)))


def test_mark_dirty_on_view_of_nonleaf():
    def prog(lib):
        ns = fn_classes(lib)
        x = T(lib, X3, True)
        base = x * 1
        v = base.narrow(0, 1, 2)
        y = ns["AddOne"].apply(v)
        info = (y is v, base.grad_fn.name().rsplit("::", 1)[-1])
        base.sum().backward()
        return info, base, x.grad
    same(prog)


def test_mark_dirty_not_returned_error():
    def prog(lib):
        class F(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g
        F.apply(T(lib, X3, True) * 1)
    same(prog)


def test_input_returned_as_is():
    def prog(lib):
        ns = fn_classes(lib)
        x = T(lib, X3, True)
        y = ns["Ident"].apply(x)
        z = T(lib, X3)
        w = ns["Ident"].apply(z)
        info = (y is x, y.requires_grad, y.grad_fn.name(), w is z, w.requires_grad, y.data_ptr() == x.data_ptr())
        y.sum().backward()
        return info, x.grad
    same(prog)


def test_saved_tensor_version_errors():
    def prog(lib, which):
        ns = fn_classes(lib)
        x = T(lib, X3, True)
        if which == "input":
            a = x * 1
            y = ns["Cube"].apply(a)
            a.mul_(2)
        else:
            y = ns["ExpF"].apply(x * 1)
            y.mul_(2)
        y.sum().backward()
    same(lambda lib: prog(lib, "input"))
    same(lambda lib: prog(lib, "output"))


def test_saved_tensors_freed_after_backward():
    def prog(lib):
        ns = fn_classes(lib)
        x = T(lib, X3, True)
        y = ns["Cube"].apply(x)
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        g = x.grad
        errs = []
        for f in (lambda: y.grad_fn.saved_tensors, lambda: y.sum().backward()):
            try:
                f()
            except RuntimeError as e:
                errs.append(str(e))
        return g, errs
    same(prog, rtol=1e-6)


def test_function_without_saved_tensors_can_backward_twice():
    def prog(lib):
        ns = fn_classes(lib)
        x = T(lib, X3, True)
        y = ns["Split"].apply(x)[0]
        y.sum().backward()
        y.sum().backward()
        return x.grad
    same(prog)


def test_save_for_backward_checks():
    def prog(lib):
        class F(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, 3)
                return x * 1
        F.apply(T(lib, X3, True))
    same(prog)

    def prog2(lib):
        seen = {}

        class F(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(None, x)
                return x * 1

            @staticmethod
            def backward(ctx, g):
                seen["saved"] = ctx.saved_tensors
                return g
        F.apply(T(lib, X3, True)).sum().backward()
        return seen["saved"][0], len(seen["saved"])
    same(prog2)


@pytest.mark.parametrize("case", ["too_few", "extra_none", "too_many", "grad_for_nontensor", "bad_shape",
                                  "broadcast", "dtype", "none_grad"])
def test_backward_return_validation(case):
    def prog(lib):
        class F(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y, k):
                return x * y * k

            @staticmethod
            def backward(ctx, g):
                if case == "too_few":
                    return g, g
                if case == "extra_none":
                    return g, g, None, None, None
                if case == "too_many":
                    return g, g, None, g
                if case == "grad_for_nontensor":
                    return g, g, g
                if case == "bad_shape":
                    return lib.ones(2), g, None
                if case == "broadcast":
                    return lib.ones(4, 3), g, None
                if case == "dtype":
                    return g.double(), g, None
                return None, g, None
        x = T(lib, X3, True)
        y = T(lib, X3, True)
        F.apply(x, y, 2.0).sum().backward()
        return x.grad, y.grad
    same(prog)


def test_once_differentiable():
    from ember.autograd.function import once_differentiable as e_once
    from torch.autograd.function import once_differentiable as t_once

    def prog(lib):
        once = e_once if lib is ember else t_once

        class Sq(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 2

            @staticmethod
            @once
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 2 * x * g
        x = T(lib, X3, True, "float64")
        plain, = lib.autograd.grad(Sq.apply(x).sum(), x)
        v = lib.ones(3, dtype=lib.float64, requires_grad=True)
        g, = lib.autograd.grad(Sq.apply(x), x, v, create_graph=True)
        info = (g.requires_grad, g.grad_fn.name(), repr(g.grad_fn).split(" ")[0], len(g.grad_fn.next_functions))
        try:
            g.sum().backward()
            err = None
        except RuntimeError as e:
            err = str(e)
        return plain, g, info, err
    same(prog)


def test_double_backward_through_custom_function():
    def prog(lib):
        ns = fn_classes(lib)
        x = T(lib, X3, True, "float64")
        y = ns["Cube"].apply(x).sum()
        g, = lib.autograd.grad(y, x, create_graph=True)
        g2, = lib.autograd.grad(g.sum(), x)
        e = ns["ExpF"].apply(x).sum()
        ge, = lib.autograd.grad(e, x, create_graph=True)
        ge2, = lib.autograd.grad(ge.sum(), x)
        return g, g2, ge2
    same(prog, rtol=1e-12)


def test_legacy_and_not_implemented_errors():
    def prog(lib, case):
        ns = fn_classes(lib)
        if case == "call":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ns["Cube"]()(T(lib, X3, True))
        if case == "instantiate":
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                ns["Cube"]()
            return [type(m.message).__name__ for m in w]

        class NoFwd(lib.autograd.Function):
            pass

        class NoBwd(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2
        if case == "no_forward":
            return NoFwd.apply(T(lib, X3, True))
        return NoBwd.apply(T(lib, X3, True)).sum().backward()
    for case in ("call", "instantiate", "no_forward", "no_backward"):
        same(lambda lib: prog(lib, case))


def test_vjp_alias_and_both_defined_error():
    def prog(lib, both):
        class V(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def vjp(ctx, g):
                return g * 2

        class B(V):
            @staticmethod
            def backward(ctx, g):
                return g * 2
        x = T(lib, X3, True)
        (B if both else V).apply(x).sum().backward()
        return x.grad
    same(lambda lib: prog(lib, False))
    same(lambda lib: prog(lib, True))


def test_hooks_on_custom_node():
    def prog(lib):
        ns = fn_classes(lib)
        x = T(lib, X3, True)
        y = ns["Cube"].apply(x)
        seen = []
        y.grad_fn.register_prehook(lambda go: seen.append(go[0].clone()))
        y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0 + 1,))
        y.register_hook(lambda g: g * 2)
        y.sum().backward()
        return seen, x.grad
    same(prog)


def test_anomaly_names_custom_function():
    def prog(lib):
        class Nan(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1

            @staticmethod
            def backward(ctx, g):
                return g * float("nan")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.autograd.detect_anomaly():
                Nan.apply(T(lib, X3, True)).sum().backward()
    same(prog)


def test_custom_function_inside_graph_and_nested():
    def prog(lib):
        ns = fn_classes(lib)

        class Outer(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return ns["Cube"].apply(x) + 1   # another Function inside forward: no graph is recorded

            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return g * 3 * x * x
        x = T(lib, X3, True)
        y = (Outer.apply(x.sin()) * 2).exp().sum()
        y.backward()
        return x.grad
    same(prog, rtol=1e-5)


def test_no_cycle_through_saved_output():
    class ExpF(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(x, y)
            return y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * y

    x = ember.tensor([1.0, 2.0], requires_grad=True)
    ExpF.apply(x).sum().backward()   # warm-up
    gc.collect()
    gc.disable()
    try:
        y = ExpF.apply(x)
        ry, rn = weakref.ref(y), weakref.ref(y.grad_fn)
        del y
        alive = (ry(), rn())
        found = gc.collect()
    finally:
        gc.enable()
    assert alive == (None, None) and found == 0


def test_gradcheck_custom_functions():
    ns = fn_classes(ember)
    x = ember.tensor(np.array(X3), dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(ns["Cube"].apply, (x,))
    assert ember.autograd.gradcheck(lambda a: ns["Scale"].apply(a, 3.0), (x,))
    assert ember.autograd.gradgradcheck(ns["Cube"].apply, (x,))
