"""ember.vision.transforms (torchvision.transforms): image transforms on tensors and PIL images."""
from . import functional  # noqa: F401
from .transforms import *  # noqa: F401,F403
from .transforms import __all__  # noqa: F401
