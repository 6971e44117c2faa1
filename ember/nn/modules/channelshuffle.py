"""ChannelShuffle: interleave the channels of ``groups`` groups."""
from .. import functional as F
from .module import Module


class ChannelShuffle(Module):
    """(N, g * c, *) viewed as (N, g, c, *), transposed to (N, c, g, *) and flattened back."""

    __constants__ = ["groups"]

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
