"""ember.vision.datasets: the bundled UCI digits, FakeData, and ImageFolder/DatasetFolder over a directory tree."""
from .digits import Digits  # noqa: F401
from .fakedata import FakeData  # noqa: F401
from .folder import DatasetFolder, ImageFolder  # noqa: F401
from .vision import StandardTransform, VisionDataset  # noqa: F401

__all__ = ["Digits", "FakeData", "DatasetFolder", "ImageFolder", "VisionDataset", "StandardTransform"]
