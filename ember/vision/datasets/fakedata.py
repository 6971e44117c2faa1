"""FakeData: random images, the same for a given index every time (torchvision's FakeData)."""
import sys

import numpy as np

from .vision import VisionDataset


class FakeData(VisionDataset):
    """``size`` random images of ``image_size`` (C, H, W) with random targets in [0, num_classes).

    Image ``i`` is ``randn(*image_size)`` drawn after ``manual_seed(i + random_offset)`` (the global RNG
    state is restored afterwards), scaled by 255 and cast to uint8 like ``ToPILImage`` does; so the pixels
    equal torchvision's. It is returned as a PIL image when Pillow is installed (as torchvision does),
    else as the same pixels in a uint8 HxWxC NumPy array (HxW for one channel).
    """

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None, target_transform=None,
                 random_offset=0):
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __getitem__(self, index):
        import ember
        if index >= len(self):
            raise IndexError(f"{self.__class__.__name__} index out of range")
        state = ember.get_rng_state()
        ember.manual_seed(index + self.random_offset)
        img = ember.randn(*self.image_size)
        target = ember.randint(0, self.num_classes, size=(1,), dtype=ember.long)[0]
        ember.set_rng_state(state)
        arr = np.transpose(img.mul(255).byte().numpy(), (1, 2, 0))
        if arr.shape[2] == 1:
            arr = arr[:, :, 0]
        img = np.ascontiguousarray(arr)
        if _have_pil():
            from PIL import Image
            img = Image.fromarray(img)
        if self.transform is not None:
            img = self.transform(img)
        target = target.item()
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return self.size


def _have_pil():
    if "PIL.Image" in sys.modules:
        return True
    try:
        import PIL.Image  # noqa: F401
        return True
    except ImportError:
        return False
