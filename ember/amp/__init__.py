"""ember.amp (torch.amp): automatic mixed precision -- ``autocast`` regions and ``GradScaler``."""
from . import autocast_mode, grad_scaler  # noqa: F401  (submodules, as in torch.amp)
from .autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available  # noqa: F401
from .grad_scaler import GradScaler  # noqa: F401

__all__ = ["autocast", "custom_bwd", "custom_fwd", "is_autocast_available", "GradScaler"]
