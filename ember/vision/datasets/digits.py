"""Digits: the UCI handwritten digits bundled with ember (1,797 8x8 images, CC BY 4.0), no download."""
import numpy as np

from ..._data import load_digits
from .vision import VisionDataset

#: Size of the training split; the test split is the remaining 360 images.
N_TRAIN = 1437
#: The split is a fixed permutation of the 1,797 images: ``np.random.default_rng(SPLIT_SEED).permutation``.
SPLIT_SEED = 0


class Digits(VisionDataset):
    """The bundled UCI digits as ``(image, target)``: image a uint8 8x8 NumPy array, target an int 0-9.

    The original pixels are 0..16; they are rescaled to 0..255 (``(v * 255 + 8) // 16``) so that
    ``transforms.ToTensor()`` gives a float 1x8x8 tensor in [0, 1]. The split is deterministic: the images
    are permuted with ``np.random.default_rng(0).permutation(1797)``, the first 1,437 form the training set
    (``train=True``) and the other 360 the test set. ``root`` is accepted for torchvision compatibility
    and not used (nothing is downloaded). ``data`` (uint8 [N, 8, 8]) and ``targets`` (int64 [N]) are tensors.
    """
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root=None, train=True, transform=None, target_transform=None):
        super().__init__(root, transform=transform, target_transform=target_transform)
        import ember
        self.train = train
        images, targets = load_digits()
        order = np.random.default_rng(SPLIT_SEED).permutation(len(targets))
        order = order[:N_TRAIN] if train else order[N_TRAIN:]
        pixels = (images[order].astype(np.uint16) * 255 + 8) // 16
        self._images = np.ascontiguousarray(pixels.astype(np.uint8))
        self.data = ember.from_numpy(self._images)
        self.targets = ember.from_numpy(targets[order].astype(np.int64))

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def __getitem__(self, index):
        img, target = self._images[index].copy(), int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self._images)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"
