"""ember.backends.openmp: whether ember's CPU thread pool (NumPy's BLAS) runs on OpenMP."""
from .mkl import _blas_info

__all__ = ["is_available"]


def is_available():
    return any(i.get("threading_layer") in ("openmp", "intel") for i in _blas_info())
