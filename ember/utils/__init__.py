"""ember.utils (torch.utils): ``data`` (datasets, samplers, DataLoader) and ``dlpack``."""
from . import dlpack  # noqa: F401
from . import data  # noqa: F401
