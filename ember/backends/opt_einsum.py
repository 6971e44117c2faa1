"""ember.backends.opt_einsum: einsum contraction-order flags (ember lets NumPy order contractions)."""

__all__ = ["is_available", "get_opt_einsum", "enabled", "strategy"]


def is_available():
    """Whether the opt_einsum package is installed."""
    try:
        import opt_einsum  # noqa: F401
    except ImportError:
        return False
    return True


def get_opt_einsum():
    try:
        import opt_einsum
    except ImportError:
        return None
    return opt_einsum


enabled = is_available()
strategy = "auto" if enabled else None
