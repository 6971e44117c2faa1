"""ember.Size: the tuple subclass that ``tensor.shape`` returns."""


class Size(tuple):
    """A tuple of ints that prints as ``torch.Size([2, 3])``."""
    __slots__ = ()

    def __new__(cls, seq=()):
        return tuple.__new__(cls, seq)

    def __repr__(self):
        return f"torch.Size({list(self)!r})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __reduce__(self):
        return (Size, (tuple(self),))
