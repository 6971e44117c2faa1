"""Grad-mode switches: no_grad, enable_grad, set_grad_enabled, inference_mode.

The op runner reads ``state.enabled`` on every call, so it is one attribute on one object.
"""
import functools


class _State:
    __slots__ = ("enabled", "inference")

    def __init__(self):
        self.enabled, self.inference = True, False


state = _State()


def is_grad_enabled():
    return state.enabled


def is_inference_mode_enabled():
    return state.inference


class _Mode:
    """Base for grad-mode context managers that also work as decorators."""
    _target = True

    def __new__(cls, orig_func=None):
        # bare decorator use (@no_grad without parentheses) hands us the function itself
        if orig_func is not None and callable(orig_func) and cls in (no_grad, enable_grad):
            return cls()(orig_func)
        return super().__new__(cls)

    def __init__(self, orig_func=None):
        pass

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = self._target

    def __exit__(self, *exc):
        state.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_Mode):
    """Ops inside build no graph: ``with ember.no_grad(): y = model(x)``."""
    _target = False


class enable_grad(_Mode):
    """Turn graph building back on inside a ``no_grad`` block."""
    _target = True


class set_grad_enabled(_Mode):
    """Set grad mode now (a function call) or for a block (a context manager)."""

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode):
        if callable(mode):
            raise TypeError(f"set_grad_enabled(): argument 'enabled' (position 1) must be bool, not "
                            f"{'function' if hasattr(mode, '__code__') else type(mode).__name__}")
        self._prev = state.enabled
        self._target = bool(mode)
        state.enabled = self._target

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        state.enabled = self._prev
        return False

    def __call__(self, fn):
        mode = self._target
        state.enabled = self._prev

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class inference_mode(_Mode):
    """Like no_grad; tensors made inside are inference tensors in torch (here: plain tensors)."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):
            return cls()(mode)  # bare @inference_mode
        return object.__new__(cls)

    def __init__(self, mode=True):
        self.mode = mode

    def __enter__(self):
        self._prev, self._prev_inf = state.enabled, state.inference
        if self.mode:
            state.enabled, state.inference = False, True

    def __exit__(self, *exc):
        state.enabled, state.inference = self._prev, self._prev_inf
        return False

    def __call__(self, fn):
        if not callable(fn) or isinstance(fn, bool):
            return inference_mode(fn)
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return inference_mode(self.mode)
