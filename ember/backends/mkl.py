"""ember.backends.mkl: whether NumPy's BLAS is Intel MKL."""

__all__ = ["is_available"]


def _blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [i for i in threadpool_info() if i.get("user_api") == "blas"]


def is_available():
    """True when the BLAS behind NumPy (ember's CPU matmuls) is MKL."""
    return any(i.get("internal_api") == "mkl" for i in _blas_info())
