"""The backward engine against torch: backward/grad, graph structure, hooks, grad modes, in-place and
version counters, anomaly detection, memory."""
import gc
import warnings
import weakref

import numpy as np
import pytest

import ember
from ._twin import T, same, torch  # noqa: F401  (skips the module without torch)

X3 = [0.5, -1.25, 2.0]
M23 = [[1.0, -2.0, 0.5], [3.0, 0.25, -1.5]]


# ---------------------------------------------------------------- backward
def test_scalar_backward():
    def prog(lib):
        x = T(lib, X3, True)
        y = (x * x + x * 3).sum()
        y.backward()
        return x.grad, y
    same(prog)


def test_backward_gradient_argument():
    def prog(lib):
        x = T(lib, M23, True)
        y = x.exp() * 2
        y.backward(T(lib, [[1.0, 0.0, 2.0], [0.5, -1.0, 3.0]]))
        return x.grad
    same(prog, rtol=1e-5)


@pytest.mark.parametrize("case", ["nonscalar", "no_grad_fn", "int_out", "shape", "complex", "not_tensor",
                                  "list_grad", "fewer_grads", "inputs_empty"])
def test_backward_errors(case):
    def prog(lib):
        x = T(lib, X3, True)
        if case == "nonscalar":
            (x * 2).backward()
        elif case == "no_grad_fn":
            T(lib, X3).sum().backward()
        elif case == "int_out":
            lib.tensor([1, 2]).sum().backward()
        elif case == "shape":
            (x * 2).backward(T(lib, [1.0, 2.0]))
        elif case == "complex":
            (x * 2).backward(T(lib, [1.0, 2.0, 3.0], dtype="complex64"))
        elif case == "not_tensor":
            lib.autograd.backward([x * 2], [[1.0, 1.0, 1.0]])
        elif case == "list_grad":
            (x * 2).backward([1.0, 1.0, 1.0])
        elif case == "fewer_grads":
            lib.autograd.backward([x * 2, x * 3], [T(lib, [1.0, 1.0, 1.0])])
        elif case == "inputs_empty":
            (x * 2).sum().backward(inputs=[])
        return "no error"
    same(prog)


def test_second_element_without_grad_fn():
    same(lambda lib: lib.autograd.backward([(T(lib, X3, True) * 2).sum(), T(lib, X3).sum()]))


def test_gradient_dtype_is_cast_to_leaf_dtype():
    def prog(lib):
        x = T(lib, X3, True)
        (x * 2).backward(T(lib, [1.0, 2.0, 3.0], dtype="float64"))
        g1 = x.grad
        x.grad = None
        (x * 2).backward(lib.tensor([1, 2, 3]))
        return g1, x.grad
    same(prog)


def test_accumulates_across_calls_and_broadcasts():
    def prog(lib):
        x = T(lib, [[1.0], [2.0]], True)           # (2, 1) broadcast against (2, 3)
        y = T(lib, M23, True)
        (x * y).sum().backward()
        (x + y).sum().backward()
        return x.grad, y.grad
    same(prog)


def test_backward_on_several_roots():
    def prog(lib):
        a = T(lib, [1.0, 2.0], True)
        b = a * 3
        c = (b * b).sum()
        lib.autograd.backward([b, c], [T(lib, [1.0, -1.0]), None])
        g1 = a.grad.clone()
        a.grad = None
        lib.autograd.backward([(a * 2).sum(), (a * 3).sum()])
        return g1, a.grad
    same(prog)


def test_backward_on_leaf_and_empty_and_0d():
    def prog(lib):
        x = T(lib, X3, True)
        x.backward(T(lib, [1.0, 2.0, 3.0]))
        e = lib.zeros(0, 3, requires_grad=True)
        (e * 2).sum().backward()
        s = T(lib, 2.5, True)
        (s * s * s).backward()
        return x.grad, e.grad, s.grad
    same(prog)


def test_retain_graph_and_second_backward_error():
    def prog(lib):
        x = T(lib, X3, True)
        y = x.exp().sum()
        y.backward(retain_graph=True)
        y.backward()
        g = x.grad.clone()
        try:
            y.backward()
        except RuntimeError as e:
            return g, str(e)
    same(prog, rtol=1e-5)


def test_backward_twice_through_graph_without_saved_tensors():
    def prog(lib):
        x = T(lib, X3, True)
        y = (x + 1).sum()
        y.backward()
        y.backward()  # AddBackward0/SumBackward0 saved nothing: allowed, as in torch
        return x.grad
    same(prog)


def test_create_graph_third_derivative_of_cube():
    def prog(lib):
        x = T(lib, X3, True, "float64")
        y = x ** 3
        g1, = lib.autograd.grad(y.sum(), x, create_graph=True)
        g2, = lib.autograd.grad(g1.sum(), x, create_graph=True)
        g3, = lib.autograd.grad(g2.sum(), x)
        return g1, g2, g3
    same(prog)


def test_create_graph_sin_derivatives_cycle():
    def prog(lib):
        x = T(lib, X3, True, "float64")
        out = []
        g = x.sin()
        for _ in range(4):
            g, = lib.autograd.grad(g.sum(), x, create_graph=True)
            out.append(g)
        return out
    same(prog, rtol=1e-12)


def test_create_graph_mixed_partials():
    def prog(lib):
        x = T(lib, [1.5], True, "float64")
        y = T(lib, [-0.5], True, "float64")
        f = (x * x * y + y.exp() * x).sum()
        gx, gy = lib.autograd.grad(f, (x, y), create_graph=True)
        gxy, = lib.autograd.grad(gx.sum(), y, retain_graph=True)
        gyx, = lib.autograd.grad(gy.sum(), x)
        return gx, gy, gxy, gyx
    same(prog, rtol=1e-12)


def test_backward_create_graph_grad_has_history_and_warns():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.grad_fn is not None
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])

    from ember.autograd import engine
    engine._warned_create_graph.clear()          # torch warns once per process
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        (x ** 2).sum().backward(create_graph=True)
        (x ** 2).sum().backward(create_graph=True)
    msgs = [str(m.message) for m in w if "reference cycle" in str(m.message)]
    assert len(msgs) == 1 and msgs[0].startswith("Using backward() with create_graph=True will create a reference "
                                                 "cycle between the parameter and its gradient")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("rows", [0, 1, 7, 64])
def test_broadcast_gradients_are_summed_back(dtype, rows):
    # a bias's gradient is its output gradient's column sums (a BLAS product with ones on the engine's array
    # path); a mean's is one value spread over the input (a read-only stride-0 view); x ** 2 gives 2 x g
    def prog(lib):
        rng = np.random.default_rng(rows)
        x = T(lib, rng.standard_normal((rows, 5)), True, dtype)
        b = T(lib, rng.standard_normal(5), True, dtype)
        s = T(lib, rng.standard_normal(()), True, dtype)
        y = ((x * 3 + b) ** 2 + s).mean() if rows else (x + b + s).sum()
        y.backward()
        z = T(lib, rng.standard_normal((3, 4)), True, dtype)
        w = T(lib, rng.standard_normal((3, 4)), False, dtype)
        (z * w).t().contiguous().sum(0).mean().backward()  # a column sum of a transposed (strided) gradient
        return x.grad, b.grad, s.grad, z.grad
    same(prog, rtol=1e-5 if dtype == "float32" else 1e-12)


def test_one_fresh_gradient_for_two_inputs_is_one_tensor():
    # a vjp returning the same array for two inputs: both get the same values, and neither leaf's .grad is
    # the other's array (the first accumulation may steal it, the second must not)
    def prog(lib):
        x = T(lib, X3, True)
        y = T(lib, X3, True)
        (x * 2 + y * 2).sum().backward()
        (x + x + y).sum().backward()
        x.grad.add_(1)
        return x.grad, y.grad
    same(prog)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", ["linear", "linear_3d", "cross_entropy", "softmax", "select", "slice", "narrow"])
def test_array_vjps_match_the_tensor_path(case, dtype):
    # these nodes' vjps run on the raw arrays in a plain backward and on tensors under create_graph: the same
    # gemms and kernels, so the gradients are equal bit for bit, and both match torch's
    def prog(lib):
        rng = np.random.default_rng(5)
        x = T(lib, rng.standard_normal((2, 6, 8) if case == "linear_3d" else (6, 8)), True, dtype)
        w = T(lib, rng.standard_normal((10, 8)), True, dtype)
        b = T(lib, rng.standard_normal(10), True, dtype)
        F = lib.nn.functional
        if case.startswith("linear"):
            y = (F.linear(x, w, b) ** 2).sum()
        elif case == "cross_entropy":
            y = F.cross_entropy(F.linear(x, w, b), lib.tensor([1, 0, 9, 9, 3, 4]))
        elif case == "softmax":
            y = (F.softmax(x, 1) * F.log_softmax(x, -1)).sum()
        else:
            v = x[-1] if case == "select" else x[1:5:2] if case == "slice" else x.narrow(1, 2, 3)
            y = (v * v).sum()
        plain = lib.autograd.grad(y, (x, w, b), allow_unused=True, retain_graph=True)
        graph = lib.autograd.grad(y, (x, w, b), allow_unused=True, create_graph=True)
        for p, g in zip(plain, graph):
            assert (p is None) == (g is None)
            if p is not None:
                np.testing.assert_array_equal(p.detach().numpy(), g.detach().numpy())
        return plain
    same(prog, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-5 if dtype == "float32" else 1e-12)


# ---------------------------------------------------------------- autograd.grad
def test_grad_basic_does_not_touch_dot_grad():
    def prog(lib):
        x = T(lib, X3, True)
        g, = lib.autograd.grad((x * x).sum(), x)
        return g, x.grad
    same(prog)


@pytest.mark.parametrize("mode", ["error", "allow_unused", "materialize"])
def test_grad_unused_inputs(mode):
    def prog(lib):
        x = T(lib, X3, True)
        u = T(lib, [1.0, 2.0], True)
        y = (x * 2).sum()
        if mode == "error":
            return lib.autograd.grad(y, [x, u])
        if mode == "allow_unused":
            return lib.autograd.grad(y, [x, u], allow_unused=True)
        return lib.autograd.grad(y, [x, u], materialize_grads=True)
    same(prog)


@pytest.mark.parametrize("case", ["go_tensor", "go_none_nonscalar", "go_none_scalar", "no_rg_input",
                                  "empty_inputs", "not_tensor_input", "allow_unused_false", "nonleaf",
                                  "nonleaf_and_leaf", "leaf_output", "same_twice", "dict", "extra_go",
                                  "fewer_go", "go_bool", "complex_out", "two_outputs"])
def test_grad_arguments(case):
    def prog(lib):
        x = T(lib, X3, True)
        if case == "go_tensor":
            return lib.autograd.grad(x * x, x, grad_outputs=T(lib, [1.0, 0.0, -2.0]))
        if case == "go_none_nonscalar":
            return lib.autograd.grad([x * 2], [x], [None])
        if case == "go_none_scalar":
            return lib.autograd.grad([(x * 2).sum()], [x], [None])
        if case == "no_rg_input":
            return lib.autograd.grad((x * 2).sum(), T(lib, [1.0]))
        if case == "empty_inputs":
            return lib.autograd.grad((x * 2).sum(), [])
        if case == "not_tensor_input":
            return lib.autograd.grad((x * 2).sum(), [1.0])
        if case == "allow_unused_false":
            return lib.autograd.grad((x * 2).sum(), [x], allow_unused=False, materialize_grads=True)
        if case == "nonleaf":
            p = x * 2
            return lib.autograd.grad((p * p).sum(), p)
        if case == "nonleaf_and_leaf":
            p = x * 2
            first = lib.autograd.grad((p * p).sum(), p)
            return first, lib.autograd.grad((p * p).sum(), [p, x])
        if case == "leaf_output":
            return lib.autograd.grad(x, x, T(lib, [1.0, 2.0, 3.0]))
        if case == "same_twice":
            return lib.autograd.grad((x * 2).sum(), [x, x])
        if case == "dict":
            return lib.autograd.grad((x * 2).sum(), {"a": x})
        if case == "extra_go":
            return lib.autograd.grad([x * 2], [x], [T(lib, [1.0, 1.0, 1.0]), T(lib, [1.0, 1.0, 1.0])])
        if case == "fewer_go":
            return lib.autograd.grad([x * 2, x * 3], [x], [T(lib, [1.0, 1.0, 1.0])])
        if case == "go_bool":
            return lib.autograd.grad(x * 2, x, lib.ones(3, dtype=lib.bool))
        if case == "complex_out":
            return lib.autograd.grad((x * 1j).sum(), x)
        if case == "two_outputs":
            return lib.autograd.grad([(x * 2).sum(), (x * x).sum()], x)
    same(prog)


def test_grad_only_inputs_false_warns():
    def prog(lib):
        x = T(lib, X3, True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            g = lib.autograd.grad((x * 2).sum(), x, only_inputs=False)
        return g, [type(m.message).__name__ for m in w]
    same(prog)


def test_grad_is_grads_batched():
    if not hasattr(ember, "stack"):
        pytest.skip("ember.stack not available yet")

    def prog(lib):
        x = T(lib, X3, True)
        return lib.autograd.grad(x * x, x, lib.eye(3), is_grads_batched=True)
    same(prog)


def test_grad_through_gradient_edge():
    def prog(lib):
        a = T(lib, [1.0, 2.0], True)
        y = a * 2
        e = lib.autograd.graph.get_gradient_edge(y)
        return lib.autograd.grad((y * y).sum(), e), e.output_nr
    same(prog)
    same(lambda lib: lib.autograd.graph.get_gradient_edge(T(lib, [1.0])))


# ---------------------------------------------------------------- backward(inputs=...)
def test_backward_inputs_leaf_subset():
    def prog(lib):
        x = T(lib, X3, True)
        u = T(lib, [1.0, 2.0], True)
        (x.sum() * u).sum().backward(inputs=[u])
        return x.grad, u.grad
    same(prog)


def test_backward_inputs_nonleaf_gets_grad():
    def prog(lib):
        x = T(lib, X3, True)
        p = x * 2
        (p * p).sum().backward(inputs=[p])
        return p.grad, x.grad, p.retains_grad
    same(prog)


def test_backward_inputs_single_tensor():
    def prog(lib):
        x = T(lib, X3, True)
        y = T(lib, X3, True)
        (x * y).sum().backward(inputs=x)
        return x.grad, y.grad
    same(prog)


# ---------------------------------------------------------------- grad modes
def test_grad_modes_as_context_managers():
    def prog(lib):
        x = T(lib, X3, True)
        out = []
        with lib.no_grad():
            out.append((x * 2).requires_grad)
            out.append(lib.is_grad_enabled())
            with lib.enable_grad():
                out.append((x * 2).requires_grad)
            out.append((x * 2).requires_grad)
        with lib.set_grad_enabled(False):
            out.append((x * 2).requires_grad)
        out.append(lib.is_grad_enabled())
        lib.set_grad_enabled(False)
        out.append((x * 2).requires_grad)
        lib.set_grad_enabled(True)
        out.append((x * 2).requires_grad)
        with lib.inference_mode():
            out.append(((x * 2).requires_grad, lib.is_inference_mode_enabled()))
        with lib.inference_mode(False):
            out.append(((x * 2).requires_grad, lib.is_inference_mode_enabled()))
        with lib.autograd.no_grad():
            out.append((x * 2).requires_grad)
        return out
    same(prog)


def test_grad_modes_as_decorators():
    def prog(lib):
        x = T(lib, X3, True)

        @lib.no_grad()
        def f(a):
            return a * 2

        @lib.enable_grad()
        def g(a):
            return a * 2

        @lib.set_grad_enabled(False)
        def h(a):
            return a * 2

        @lib.inference_mode()
        def i(a):
            return a * 2, lib.is_inference_mode_enabled()

        @lib.inference_mode
        def j(a):
            return a * 2

        with lib.no_grad():
            gg = g(x).requires_grad
        return f(x).requires_grad, gg, h(x).requires_grad, lib.is_grad_enabled(), i(x)[0].requires_grad, i(x)[1], \
            j(x).requires_grad, f.__name__
    same(prog)


def test_grad_mode_restored_after_exception():
    def prog(lib):
        try:
            with lib.no_grad():
                raise ValueError("boom")
        except ValueError:
            pass
        return lib.is_grad_enabled()
    same(prog)


def test_no_grad_inside_backward_of_leaf_ops():
    def prog(lib):
        x = T(lib, X3, True)
        with lib.no_grad():
            y = x * 2
        z = x * 3
        return y.requires_grad, y.grad_fn is None, z.requires_grad
    same(prog)


# ---------------------------------------------------------------- detach, requires_grad
def test_detach_shares_memory_and_version():
    def prog(lib):
        x = T(lib, X3, True)
        y = x * 2
        d = y.detach()
        v0 = y._version
        d.mul_(10)
        return d.requires_grad, d.grad_fn is None, y._version - v0, d.is_leaf, y
    same(prog)


def test_detach_in_place():
    def prog(lib):
        x = T(lib, X3, True)
        y = x * 2
        y.detach_()
        v = (x * 2).view(3)
        try:
            v.detach_()
            err = None
        except RuntimeError as e:
            err = str(e)
        return y.requires_grad, y.grad_fn is None, y.is_leaf, err
    same(prog)


@pytest.mark.parametrize("case", ["int", "bool", "nonleaf_false", "setter", "complex", "leaf_false"])
def test_requires_grad_flags(case):
    def prog(lib):
        if case == "int":
            return lib.tensor([1, 2]).requires_grad_()
        if case == "bool":
            return lib.tensor([True]).requires_grad_(True)
        if case == "nonleaf_false":
            return (T(lib, X3, True) * 2).requires_grad_(False)
        if case == "setter":
            t = T(lib, X3)
            t.requires_grad = True
            return t.requires_grad, t.is_leaf
        if case == "complex":
            return T(lib, [1.0], dtype="complex64").requires_grad_().requires_grad
        t = T(lib, X3, True)
        t.requires_grad_(False)
        return t.requires_grad, lib.tensor([1, 2]).requires_grad_(False).requires_grad
    same(prog)


def test_is_leaf_and_grad_fn_of_leaf():
    same(lambda lib: (T(lib, X3, True).is_leaf, (T(lib, X3, True) * 2).is_leaf, T(lib, X3).is_leaf,
                      T(lib, X3, True).grad_fn is None))


# ---------------------------------------------------------------- retain_grad
def test_retain_grad():
    def prog(lib):
        x = T(lib, X3, True)
        h = x * 2
        h.retain_grad()
        h.retain_grad()  # twice is fine
        x.retain_grad()  # a leaf: no-op
        s = (h * h).sum()
        s.backward(retain_graph=True)
        g1 = h.grad.clone()
        s.backward()
        return g1, h.grad, h.retains_grad, x.retains_grad, x.grad
    same(prog)


def test_retain_grad_errors_and_independence():
    same(lambda lib: T(lib, [1.0]).retain_grad())

    def prog(lib):
        x = T(lib, X3, True)
        y = x.clone()
        y.retain_grad()
        y.sum().backward()
        y.grad.mul_(5)  # the retained grad is its own copy
        return x.grad, y.grad
    same(prog)


# ---------------------------------------------------------------- tensor hooks
def test_leaf_hook_replaces_gradient_and_remove():
    def prog(lib):
        x = T(lib, X3, True)
        seen = []
        h = x.register_hook(lambda g: g * 10)
        x.register_hook(lambda g: seen.append(g.clone()))
        (x * 2).sum().backward()
        g1 = x.grad.clone()
        h.remove()
        x.grad = None
        (x * 2).sum().backward()
        return g1, x.grad, seen
    same(prog)


def test_nonleaf_hook_replaces_gradient_once_for_two_uses():
    def prog(lib):
        x = T(lib, X3, True)
        m = x * 2
        calls = []

        def hook(g):
            calls.append(g.clone())
            return g + 1
        m.register_hook(hook)
        (m * 3 + m).sum().backward()
        return x.grad, calls
    same(prog)


def test_hook_in_autograd_grad_applies_to_captured_gradient():
    def prog(lib):
        x = T(lib, X3, True)
        x.register_hook(lambda g: g * 10)
        leaf = lib.autograd.grad((x * 2).sum(), x)
        x2 = T(lib, X3, True)
        p = x2 * 2
        p.register_hook(lambda g: g * 10)
        p.retain_grad()
        nonleaf = lib.autograd.grad((p * 1).sum(), p)
        return leaf, nonleaf, p.grad
    same(prog)


def test_hook_errors():
    same(lambda lib: T(lib, X3).register_hook(lambda g: g))
    same(lambda lib: (T(lib, X3, True) * 2).register_post_accumulate_grad_hook(lambda t: None))
    same(lambda lib: T(lib, X3).register_post_accumulate_grad_hook(lambda t: None))


def test_post_accumulate_grad_hook():
    def prog(lib):
        x = T(lib, X3, True)
        seen = []
        h = x.register_post_accumulate_grad_hook(lambda t: seen.append((t is x, t.grad.clone())))
        (x * 3).sum().backward()
        (x * 1).sum().backward()
        h.remove()
        (x * 1).sum().backward()
        return seen, x.grad
    same(prog)


# ---------------------------------------------------------------- node hooks and graph structure
def test_node_prehook_and_hook():
    def prog(lib):
        x = T(lib, X3, True)
        y = x.exp()
        seen = []
        y.grad_fn.register_prehook(lambda go: seen.append(("pre", go[0].clone())))
        y.grad_fn.register_hook(lambda gi, go: seen.append(("post", gi[0].clone(), go[0].clone())))
        y.sum().backward()
        return seen
    same(prog, rtol=1e-6)


def test_node_hooks_replace_gradients_and_remove():
    def prog(lib):
        x = T(lib, X3, True)
        y = x.sin()
        h = y.grad_fn.register_prehook(lambda go: (go[0] * 3,))
        y.sum().backward(retain_graph=True)
        g1 = x.grad.clone()
        h.remove()
        x.grad = None
        y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0 + 7,))
        y.sum().backward()
        return g1, x.grad
    same(prog, rtol=1e-6)


def test_accumulate_grad_node_hooks():
    def prog(lib):
        x = T(lib, X3, True)
        x.register_hook(lambda g: g * 10)
        y = x * 2
        acc = y.grad_fn.next_functions[0][0]
        seen = []
        acc.register_prehook(lambda go: seen.append(("pre", go[0].clone())))
        acc.register_hook(lambda gi, go: seen.append(("post", gi, go[0].clone())))
        y.sum().backward()
        return seen, acc.variable is x, acc.name(), type(acc).__name__, acc.metadata
    same(prog)


def test_next_functions_names_and_structure():
    def prog(lib):
        x = T(lib, X3, True)
        c = T(lib, X3)
        y = x * x
        z = (y + x).exp()
        w = x * c
        fn = z.grad_fn
        add = fn.next_functions[0][0]
        mul, acc0 = add.next_functions[0][0], add.next_functions[1][0]
        names = [fn.name(), add.name(), mul.name()]
        same_acc = mul.next_functions[0][0] is mul.next_functions[1][0] is acc0
        return names, same_acc, acc0.name(), len(mul.next_functions), [n[1] for n in add.next_functions], \
            w.grad_fn.next_functions[1], acc0.next_functions, repr(acc0).split(" ")[0]
    same(prog)


def test_grad_fn_metadata_and_call():
    def prog(lib):
        x = T(lib, X3, True)
        y = x.sin()
        y.grad_fn.metadata["tag"] = 1
        single = y.grad_fn(T(lib, [1.0, 1.0, 1.0]))
        pair = (x * x).grad_fn(T(lib, [1.0, 2.0, 3.0]))
        return y.grad_fn.metadata, single, pair
    same(prog, rtol=1e-6)


def test_tensor_repr_shows_grad_fn():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward0>)"
    assert repr((x * 2).grad_fn).startswith("<MulBackward0 object at 0x")


# ---------------------------------------------------------------- in-place and version counters
def test_version_counter_error_saved_input():
    def prog(lib):
        x = T(lib, X3, True)
        a = x * 1
        y = a.sin()
        a.mul_(2)
        y.sum().backward()
    same(prog)


def test_version_counter_error_saved_output():
    def prog(lib):
        x = T(lib, X3, True)
        y = x.exp()
        y.add_(1)
        y.sum().backward()
    same(prog)


def test_version_counter_error_leaf_modified_under_no_grad():
    def prog(lib):
        x = T(lib, M23, True, "float64")
        y = x.sin()
        with lib.no_grad():
            x.mul_(2)
        y.sum().backward()
    same(prog)


def test_version_counter_bumps():
    def prog(lib):
        x = T(lib, X3)
        v = [x._version]
        x.add_(1)
        v.append(x._version)
        x.mul_(2)
        v.append(x._version)
        x.view(3, 1).mul_(2)
        v.append(x._version)
        return v
    same(prog)


@pytest.mark.parametrize("case", ["leaf", "leaf_view", "leaf_no_grad_ok"])
def test_leaf_in_place_errors(case):
    def prog(lib):
        x = T(lib, X3, True)
        if case == "leaf":
            x.mul_(2)
        elif case == "leaf_view":
            x.view(3).mul_(2)
        else:
            with lib.no_grad():
                x.mul_(2)
            return x
    same(prog)


def test_in_place_on_view_of_nonleaf_select_zero():
    def prog(lib):
        x = T(lib, X3, True)
        y = x * 1
        y.select(0, 0).mul_(0)        # y[0] = 0
        y.sum().backward()
        return x.grad, y, y.grad_fn.name()
    same(prog)


def test_in_place_on_column_view():
    def prog(lib):
        m = T(lib, M23, True)
        y = m * 1
        y.select(1, 1).mul_(2)        # y[:, 1].mul_(2)
        (y * y).sum().backward()
        return m.grad, y
    same(prog)


def test_in_place_chain_on_views_and_base():
    def prog(lib):
        m = T(lib, M23, True, "float64")
        y = m * 1
        y.select(1, 1).mul_(2)
        y.t().narrow(0, 0, 1).mul_(10)
        y.view(6).narrow(0, 4, 2).exp_()
        (y * y).sum().backward()
        return m.grad, y
    same(prog, rtol=1e-12)


def test_setitem_on_nonleaf():
    if not hasattr(ember.Tensor, "__setitem__"):
        pytest.skip("Tensor.__setitem__ not available yet")

    def prog(lib):
        x = T(lib, X3, True)
        y = x * 1
        y[0] = 0
        y.sum().backward()
        return x.grad
    same(prog)


def test_exp_in_place_gradient():
    def prog(lib):
        x = T(lib, X3, True, "float64")
        y = x * 1
        y.exp_()
        (y * 2).sum().backward()
        z = x * 1
        z.exp_()
        z.sin_()                  # exp_ saved its output: modifying it again breaks the backward
        try:
            z.sum().backward()
        except RuntimeError as e:
            return x.grad, y.grad_fn.name(), str(e)
    same(prog, rtol=1e-12)


def test_in_place_with_other_requiring_grad():
    def prog(lib):
        x = T(lib, X3, True)
        w = T(lib, [2.0, 3.0, 4.0], True)
        y = x * 1
        y.mul_(w)
        y.add_(w)
        y.sum().backward()
        return x.grad, w.grad
    same(prog)


def test_in_place_makes_non_requiring_tensor_require_grad():
    def prog(lib):
        w = T(lib, [2.0, 3.0, 4.0], True)
        y = T(lib, X3)
        y.mul_(w)
        rg = y.requires_grad, y.is_leaf
        y.sum().backward()
        return rg, w.grad
    same(prog)


# ---------------------------------------------------------------- anomaly detection
def test_detect_anomaly_names_nan_producer():
    def prog(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.autograd.detect_anomaly():
                a = T(lib, [0.0, 1.0], True)
                (a.sqrt() * 0).sum().backward()
    same(prog)


def test_set_detect_anomaly_and_warning():
    def prog(lib):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with lib.autograd.set_detect_anomaly(True):
                a = T(lib, [-1.0, 1.0], True)
                try:
                    a.sqrt().sum().backward()
                except RuntimeError as e:
                    err = str(e)
        return err, any("Error detected in SqrtBackward0" in str(m.message) for m in w)
    same(prog)
    with ember.autograd.set_detect_anomaly(False):
        a = ember.tensor([-1.0], requires_grad=True)
        a.sqrt().sum().backward()    # no check: NaN gradient passes through
        assert np.isnan(a.grad.numpy()[0])


def test_detect_anomaly_no_check_nan():
    def prog(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.autograd.detect_anomaly(check_nan=False):
                a = T(lib, [-1.0, 1.0], True)
                a.sqrt().sum().backward()
        return a.grad
    same(prog)


# ---------------------------------------------------------------- memory
def _build_loss(x):
    a = x * 2
    b = a.sin()                 # saves a
    c = b * b                   # saves b
    return c.sum(), weakref.ref(a), weakref.ref(b)


def test_saved_intermediates_freed_after_backward():
    x = ember.tensor(np.linspace(-1, 1, 50), requires_grad=True)
    loss, ra, rb = _build_loss(x)
    assert ra() is not None and rb() is not None   # held by the graph (saved for backward)
    loss.backward()
    assert ra() is None and rb() is None           # freed by refcounting alone: no cycle held them


def test_retain_graph_keeps_saved_until_graph_dropped():
    x = ember.tensor(np.linspace(-1, 1, 50), requires_grad=True)
    loss, ra, rb = _build_loss(x)
    loss.backward(retain_graph=True)
    assert ra() is not None
    del loss
    assert ra() is None and rb() is None


def _graph_workout(x):
    for create in (False, True):
        y = (x * 2).sin()
        z = y.exp() * y
        if not create:
            # (a retained grad with create_graph is a deliberate cycle: z -> z.grad -> graph -> z, as in torch)
            z.retain_grad()
        h = z.register_hook(lambda g: g * 1)
        loss = (z * z).sum()
        g, = ember.autograd.grad(loss, x, create_graph=create)
        h.remove()
    r = (x.exp() * 3).sum()
    r.backward()


def test_no_reference_cycles():
    x = ember.tensor(np.linspace(-1, 1, 20), requires_grad=True)
    _graph_workout(x)            # warm-up: lazy imports and caches may create cycles once
    gc.collect()
    gc.disable()
    try:
        _graph_workout(x)
        found = gc.collect()
    finally:
        gc.enable()
    assert found == 0


def test_node_does_not_keep_output_alive():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()                 # ExpBackward0 saves its output's memory, not the tensor
    node = y.grad_fn
    ry = weakref.ref(y)
    del y
    assert ry() is None
    assert node.name() == "ExpBackward0"


# ---------------------------------------------------------------- to_dot, leaf grads
def test_to_dot():
    from ember.autograd.graph import to_dot
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sin().sum()
    dot = to_dot(y)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    for name in ("SumBackward", "SinBackward0", "MulBackward0", "AccumulateGrad"):
        assert name in dot
    assert dot.count("->") >= 4
    assert "digraph" in to_dot(ember.tensor([1.0]))


def test_leaf_grad_layout_and_no_aliasing():
    def prog(lib):
        x = lib.tensor(np.array(M23), requires_grad=True)
        xt = x.detach().t().requires_grad_()          # a non-contiguous leaf
        (xt * 2).sum().backward()
        a = T(lib, [1.0, 2.0], True)
        b = T(lib, [1.0, 2.0], True)
        (a + b).sum().backward()
        a.grad.mul_(3)                                  # b.grad must not change
        g = T(lib, [1.0, 1.0])
        c = T(lib, [1.0, 2.0], True)
        c.backward(g)
        g.mul_(5)                                       # c.grad must not change
        return xt.grad.stride(), xt.grad, b.grad, c.grad
    same(prog)


def test_grad_setter_checks():
    same(lambda lib: setattr(T(lib, X3, True), "grad", T(lib, [1.0])))
    same(lambda lib: setattr(T(lib, X3, True), "grad", [1.0, 2.0, 3.0]))
    same(lambda lib: setattr(T(lib, X3, True), "grad", T(lib, X3, dtype="float64")))
    same(lambda lib: setattr(T(lib, X3, True), "grad", lib.tensor([1, 2, 3])))

    def prog(lib):
        x = T(lib, X3, True)
        x.grad = T(lib, [1.0, 1.0, 1.0])
        (x * 2).sum().backward()
        return x.grad
    same(prog)


def test_gradient_kept_by_a_hook_is_not_accumulated_into():
    def prog(lib):
        x = T(lib, [1.0, 2.0], True)
        saved = []
        x.register_hook(lambda g: saved.append(g))
        (x * 2).sum().backward()
        (x * 2).sum().backward()
        a = T(lib, [1.0, 2.0], True)
        w = T(lib, [1.0, 2.0], True) + 0
        kept = []
        w.register_hook(lambda g: kept.append(g))
        (a + w).sum().backward(retain_graph=True)
        (a + w).sum().backward()
        b = T(lib, [1.0, 2.0], True)
        alias = []
        b.register_hook(lambda g: alias.append(g.detach()))  # shares memory only: torch steals anyway
        (b * 3).sum().backward()
        (b * 3).sum().backward()
        return saved[0], x.grad, kept[0], a.grad, alias[0], b.grad
    same(prog)


def test_view_taken_before_in_place_on_base_follows_new_history():
    def prog(lib):
        x = T(lib, X3, True)
        a = x * 1
        b = a.narrow(0, 1, 2)
        a.mul_(2)                        # b was made before: its gradient must flow through mul_
        b.sum().backward()
        g1 = x.grad.clone()
        x.grad = None
        m = T(lib, [[1.0, 2.0], [3.0, 4.0]], True)
        base = m * 1
        row0, col1 = base.select(0, 0), base.select(1, 1)
        row0.mul_(10)                    # written through one view, read through the other
        (col1 * col1).sum().backward()
        x.grad = None
        c = x * 1
        v = c.view(3)
        c.exp_()
        v.backward(T(lib, [1.0, 1.0, 1.0]))   # a stale view as the root
        return g1, m.grad, x.grad
    same(prog, rtol=1e-6)


def test_calling_nodes_directly():
    def prog(lib):
        x = T(lib, X3, True)
        acc = (x * 2).grad_fn.next_functions[0][0]
        g = T(lib, [1.0, 1.0, 1.0])
        r1 = acc(g)
        acc(g)
        g.mul_(100)                     # x.grad is a copy, not g
        y = x.sin()
        errs = []
        for args in ((), (g, g)):
            try:
                y.grad_fn(*args)
            except TypeError as e:
                errs.append(str(e))
        return r1, x.grad, errs
    same(prog)


@pytest.mark.parametrize("fn", ["sgn", "angle", "abs"])
def test_complex_non_holomorphic_grads_match_torch(fn, torch_oracle):
    """sgn, angle and abs of complex inputs: torch's conjugate-Wirtinger gradients (0 at z = 0)."""
    vals = [1 + 1j, -2 + 0.5j, 0j, 3 - 4j]
    g = [0.3 - 0.2j, 1 + 1j, 1 + 1j, -0.5 + 2j]
    grads = []
    for M in (ember, torch_oracle):
        z = M.tensor(vals, dtype=M.complex128, requires_grad=True)
        out = getattr(z, fn)()
        out.backward(M.tensor(g, dtype=M.complex128) if out.is_complex() else M.tensor(g, dtype=M.complex128).real)
        grads.append(z.grad.detach().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-12)
    assert np.abs(grads[0]).sum() > 0


def test_real_angle_and_sgn_have_zero_grads():
    x = ember.tensor([1.0, -2.0, 0.0], dtype=ember.float64, requires_grad=True)
    (x.angle().sum() + x.sgn().sum()).backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


_NODE_CASES = ["x ** 2", "x ** y", "2 ** x", "M.pow(x, y)", "x.pow(y)", "x.float_power(y)", "m.t()", "x.t()",
               "m.T", "x.T", "m[:1].squeeze(0)", "m[:1].squeeze((0,))", "m[:1].squeeze()", "x.prod(0)", "x.prod()",
               "x.max()", "x.min()", "x.square()", "x.log1p()", "x.sum()", "x.mean()", "x * y", "x @ y"]


@pytest.mark.parametrize("expr", _NODE_CASES)
def test_grad_fn_class_names_like_torch(expr, torch_oracle):
    """The grad_fn printed in a tensor's repr names the same torch overload (PowBackward1, TBackward0, ...)."""
    names = []
    for M in (ember, torch_oracle):
        x = M.tensor([0.5, 1.5, 2.0], dtype=M.float64, requires_grad=True)  # noqa: F841 (used by eval)
        y = M.tensor([1.0, 2.0, 0.5], dtype=M.float64)  # noqa: F841
        m = M.ones(2, 3, dtype=M.float64, requires_grad=True)  # noqa: F841
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            names.append(type(eval(expr).grad_fn).__name__)
    assert names[0] == names[1]
