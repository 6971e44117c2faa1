"""nn layers, one file per family (torch's layout)."""
from .module import Module  # noqa: F401
from .container import Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict  # noqa: F401
from .linear import Identity, Linear, Bilinear, LazyLinear  # noqa: F401
from .activation import ReLU, Sigmoid, Tanh, Softmax, LogSoftmax, Softmin  # noqa: F401
from .flatten import Flatten, Unflatten  # noqa: F401
from .loss import L1Loss, MSELoss, NLLLoss, CrossEntropyLoss  # noqa: F401
