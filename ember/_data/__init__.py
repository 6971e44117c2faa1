"""Small real datasets shipped inside the package (see the *_LICENSE.txt files beside them)."""
import os

import numpy as np

_HERE = os.path.dirname(__file__)


def load_digits():
    """The UCI handwritten digits (CC BY 4.0): ``(images uint8 [1797, 8, 8], targets uint8 [1797])``."""
    with np.load(os.path.join(_HERE, "digits.npz")) as f:
        return f["images"], f["targets"]
