"""ember.backends.mkldnn: oneDNN (ember's CPU ops are NumPy's, so it is never used)."""
import contextlib

__all__ = ["is_available", "enabled", "deterministic", "flags"]

enabled = True
deterministic = False


def is_available():
    """False: ember has no oneDNN backend."""
    return False


@contextlib.contextmanager
def flags(enabled=False, deterministic=False):
    g = globals()
    prev = g["enabled"], g["deterministic"]
    g["enabled"], g["deterministic"] = enabled, deterministic
    try:
        yield
    finally:
        g["enabled"], g["deterministic"] = prev
