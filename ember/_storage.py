"""UntypedStorage: the flat memory block that tensors view.

A storage wraps the array that owns its memory (the *root*). A tensor's array is a view of the
root, so offset and strides are read off the arrays rather than kept twice. The version counter
lives here too: every view of the same memory sees the same count, as in torch.
"""


def root_of(arr):
    """The array that owns ``arr``'s memory (NumPy/CuPy keep .base pointing at the owner)."""
    base = arr.base
    # (an array of the same type is an array: the hasattr checks are for other owners, e.g. a bytes buffer)
    while base is not None and (type(base) is type(arr) or hasattr(base, "base") and hasattr(base, "dtype")):
        arr, base = base, base.base
    return arr


def _ptr(a):
    ai = getattr(a, "__array_interface__", None)
    if ai is not None:
        return ai["data"][0]
    if hasattr(a, "data") and hasattr(a.data, "ptr"):  # cupy
        return a.data.ptr
    return 0


class UntypedStorage:
    """Raw bytes shared by a tensor and its views; ``nbytes()``, ``data_ptr()``, ``device``."""
    __slots__ = ("_root", "device", "_version", "__weakref__")

    def __init__(self, root, device):
        self._root, self.device, self._version = root, device, 0

    def nbytes(self):
        r = self._root
        return r.size * r.dtype.itemsize

    size = nbytes

    def data_ptr(self):
        # torch allocates nothing for an empty storage, so its pointer is null
        return 0 if self.device.type == "meta" or not self._root.size else _ptr(self._root)

    def element_offset(self, arr):
        """Offset of ``arr``'s first element from the start of this storage, in elements of arr."""
        return (_ptr(arr) - _ptr(self._root)) // arr.dtype.itemsize

    def __len__(self):
        return self.nbytes()

    def __repr__(self):
        return f"<UntypedStorage nbytes={self.nbytes()} device={self.device}>"
