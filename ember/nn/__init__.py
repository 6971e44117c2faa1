"""ember.nn: Module, Parameter, layers, losses, functional and init (``import ember.nn as nn``)."""
from .parameter import Parameter, Buffer, UninitializedParameter, UninitializedBuffer  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules.module import Module  # noqa: F401
from . import functional, init  # noqa: F401
from . import utils  # noqa: F401,E402
