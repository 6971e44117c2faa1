"""ember: a small deep-learning framework that behaves like PyTorch. ``import ember as torch``."""
__version__ = "0.1.0"

from . import _dtype
from ._dtype import (bool_ as bool, uint8, int8, int16, int32, int64, uint16, uint32, uint64, float16, bfloat16,  # noqa
                     float32, float64, complex64, complex128, dtype, get_default_dtype, set_default_dtype,
                     promote_types, can_cast)
from ._dtype import float32 as float, float64 as double, float16 as half, int64 as long, int32 as int  # noqa
from ._dtype import int16 as short, complex64 as cfloat, complex128 as cdouble  # noqa
from ._device import device  # noqa
from ._size import Size  # noqa
from ._dtype_info import finfo, iinfo  # noqa
from ._tensor import Tensor  # noqa
from ._storage import UntypedStorage  # noqa
from ._tensor_str import set_printoptions, get_printoptions  # noqa
from . import ops  # noqa: registers every op and Tensor method
from .ops import *  # noqa: F401,F403
from ._interop import (from_dlpack, set_num_threads, get_num_threads, set_num_interop_threads,  # noqa
                       get_num_interop_threads)
from ._creation_legacy import (FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, LongTensor, IntTensor,  # noqa
                               ShortTensor, CharTensor, ByteTensor, BoolTensor)
from .autograd.grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode,  # noqa
                                 is_grad_enabled, is_inference_mode_enabled)
from . import autograd  # noqa
from . import linalg, fft  # noqa: E402  (torch.linalg, torch.fft namespaces)
from . import cuda  # noqa: E402
from . import nn  # noqa: E402  (needs ops and autograd)
from . import optim  # noqa: E402
from .serialization import save, load  # noqa: E402
from . import serialization  # noqa: E402
from . import utils  # noqa: E402  (torch.utils: data, dlpack)
from . import profiler  # noqa: E402  (torch.profiler)
from . import amp, backends, accelerator  # noqa: E402  (mixed precision, backend flags, accelerator queries)
from .amp.grad_scaler import GradScaler  # noqa: E402
from .amp.autocast_mode import (autocast, get_autocast_dtype, set_autocast_dtype, is_autocast_enabled,  # noqa: E402
                                set_autocast_enabled, is_autocast_cache_enabled, set_autocast_cache_enabled,
                                clear_autocast_cache, autocast_increment_nesting, autocast_decrement_nesting,
                                is_autocast_cpu_enabled, set_autocast_cpu_enabled, get_autocast_cpu_dtype,
                                set_autocast_cpu_dtype, get_autocast_gpu_dtype, set_autocast_gpu_dtype)
from .backends import (use_deterministic_algorithms, are_deterministic_algorithms_enabled,  # noqa: E402
                       is_deterministic_algorithms_warn_only_enabled, set_float32_matmul_precision,
                       get_float32_matmul_precision, set_deterministic_debug_mode, get_deterministic_debug_mode)


class layout:
    """Tensor memory layout (only ``strided`` is supported)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "torch." + self.name


strided = layout("strided")


from ._memory_format import (memory_format, contiguous_format, channels_last, channels_last_3d,  # noqa: E402
                             preserve_format, legacy_contiguous_format)


def is_tensor(obj):
    """True if ``obj`` is an ember Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.dtype.is_floating_point


def is_complex(input):
    return input.dtype.is_complex


def is_nonzero(input):
    """The truth value of a one-element tensor (torch's errors otherwise)."""
    n = input.numel()
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return input.__bool__()  # the builtin ``bool`` is shadowed here by the dtype


def numel(input):
    return input.numel()


def result_type(tensor1, tensor2):
    """The dtype torch's promotion gives for an op on these two tensors/scalars."""
    from .ops._registry import _promotion_key
    return _dtype.result_type_of(_promotion_key((tensor1, tensor2)))
