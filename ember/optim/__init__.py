"""ember.optim: optimizers and learning-rate schedulers, step for step identical to torch's."""
from .optimizer import Optimizer  # noqa: F401
from .sgd import SGD  # noqa: F401
from .adam import Adam, AdamW  # noqa: F401
