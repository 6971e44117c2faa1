"""nn layers, one file per family (torch's layout)."""
from .module import Module  # noqa: F401
