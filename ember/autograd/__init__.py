"""Define-by-run autograd: backward, grad, grad modes, graph nodes, custom Functions, gradcheck,
and the functional API (jacobian, hessian, vjp, jvp, hvp, vhp)."""
from .grad_mode import no_grad, enable_grad, set_grad_enabled, inference_mode  # noqa: F401
from .anomaly_mode import detect_anomaly, set_detect_anomaly  # noqa: F401
from . import graph  # noqa: F401
from .engine import backward, grad  # noqa: F401
from . import function  # noqa: F401
from .function import Function  # noqa: F401
from .gradcheck import gradcheck, gradgradcheck, GradcheckError  # noqa: F401
from . import functional  # noqa: F401
