"""ember.utils.tensorboard (torch.utils.tensorboard): SummaryWriter writing real TensorBoard event files."""
try:
    import tensorboard  # noqa: F401
except ImportError:
    raise ImportError("TensorBoard logging requires TensorBoard version 1.15 or above "
                      "(pip install tensorboard, or pip install \"ember[tensorboard]\")") from None

from .writer import FileWriter, SummaryWriter  # noqa: E402

__all__ = ["FileWriter", "SummaryWriter"]
