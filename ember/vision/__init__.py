"""ember.vision: datasets and transforms for images (a small torchvision). Pillow is optional: ``ember[vision]``."""
from . import datasets, transforms  # noqa: F401
