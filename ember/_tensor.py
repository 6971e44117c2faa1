"""Tensor: an array view of a storage, plus dtype, device, autograd fields and a version counter.

The tensor's ``_data`` is a NumPy/CuPy array viewing its storage's memory; sizes, strides and the
storage offset are read off it. Methods here are the tensor's own attributes; the op library
(``ember.ops``) adds the math methods and operators onto this class.
"""
import numpy as np

from . import _dtype as D
from ._memory_format import contiguous_format as _C_FORMAT, check as _check_format, is_contiguous_as
from ._device import CPU, device as _device_cls, to_device
from ._size import Size
from .backend import c_strides
from ._storage import UntypedStorage, root_of

_ndarray = np.ndarray
_NP2DT = D.NP2DT
_new = object.__new__
_ENGINE = []


def _engine():
    """ember.autograd.engine (it imports this module: imported on first use, then kept)."""
    if not _ENGINE:
        from .autograd import engine
        _ENGINE.append(engine)
    return _ENGINE[0]


class Tensor:
    """A multi-dimensional array with autograd; behaves like ``torch.Tensor``."""
    # Only what every op result needs is a slot (five writes per new tensor). The rest are class
    # defaults that an instance overrides in its __dict__ when set: most tensors never set them.
    __slots__ = ("_data", "dtype", "_device", "_rg", "grad_fn", "__weakref__", "__dict__")
    _grad = None
    _base = None         # the tensor this one is a view of
    _view_fn = None      # (parent view fn, view op, kw): replays the view on the base
    _base_fn = None      # the base's grad_fn when this view's grad_fn was made (stale if it changed)
    _output_nr = 0
    _stor = None         # UntypedStorage, created on first use

    @property
    def _storage(self):
        s = self._stor
        if s is None:
            s = self._stor = UntypedStorage(root_of(self._data), self._device)
        return s

    @_storage.setter
    def _storage(self, s):
        self._stor = s

    # ---------------------------------------------------------------- construction
    def __new__(cls, *args, **kwargs):
        """Legacy constructor: ``Tensor(2, 3)`` is uninitialised float, ``Tensor([1, 2])`` copies data."""
        from ._creation_legacy import legacy_new
        return legacy_new(cls, D.get_default_dtype(), *args, **kwargs)

    @staticmethod
    def _make(arr, dev=CPU, storage=None, dtype=None):
        """Wrap an array that owns its memory (or views ``storage``) as a new tensor; no copy."""
        t = _new(Tensor)
        t._data = arr
        t.dtype = dtype or _NP2DT[arr.dtype]
        t._device = dev
        t._rg = False
        t.grad_fn = None
        if storage is not None:
            t._stor = storage
        return t

    # ---------------------------------------------------------------- metadata
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape as ``ember.Size``, or one dimension's length when ``dim`` is given."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    def stride(self, dim=None):
        """Strides in elements (torch's convention), as a tuple or for one dimension."""
        a = self._data  # meta arrays carry real strides too (see backend/meta_backend.py)
        isz = a.itemsize
        st = tuple(s // isz for s in a.strides)
        if not a.size and not any(st):  # NumPy zeroes the strides of a new empty array; torch's are C-order
            st = c_strides(a.shape)
        if dim is None:
            return st
        return st[_wrap_dim(dim, self._data.ndim)]

    def storage_offset(self):
        return self._storage.element_offset(self._data)

    def untyped_storage(self):
        return self._storage

    def dim(self):
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self.dtype.itemsize

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self._data.size * self.dtype.itemsize

    def data_ptr(self):
        if not self._data.size and not self._storage.nbytes():
            return 0  # torch allocates nothing for an empty storage
        return self._storage.data_ptr() + self.storage_offset() * self.dtype.itemsize

    @property
    def device(self):
        return self._device

    @property
    def is_cuda(self):
        return self._device.type == "cuda"

    @property
    def is_cpu(self):
        return self._device.type == "cpu"

    @property
    def is_meta(self):
        return self._device.type == "meta"

    @property
    def layout(self):
        from . import strided
        return strided

    @property
    def is_sparse(self):
        return False

    @property
    def is_quantized(self):
        return False

    def is_floating_point(self):
        return self.dtype.category == 2

    def is_complex(self):
        return self.dtype.category == 3

    def is_signed(self):
        return self.dtype.is_signed

    def get_device(self):
        return (self._device.index or 0) if self._device.type == "cuda" else -1

    def is_contiguous(self, *args, memory_format=_C_FORMAT):
        """True when the strides are C-ordered (size-1 dimensions may have any stride, as in torch),
        or those of ``memory_format`` (e.g. ``channels_last``) when given."""
        if args:
            raise TypeError(f"is_contiguous() takes 0 positional arguments but {len(args)} "
                            f"{'was' if len(args) == 1 else 'were'} given")
        if memory_format is not _C_FORMAT:
            return is_contiguous_as(self._data.shape, self.stride(),
                                    _check_format(memory_format, "is_contiguous", False))
        a = self._data
        if a.flags.c_contiguous or not a.size:  # an empty tensor is contiguous whatever its strides
            return True
        # NumPy marks size-1 dims with odd strides as non-contiguous in a few cases; torch ignores them
        expected = a.itemsize
        for n, s in zip(reversed(a.shape), reversed(a.strides)):
            if n != 1 and s != expected:
                return False
            expected *= n
        return True

    def is_set_to(self, other):
        return self._storage._root is other._storage._root and self._data.shape == other._data.shape and \
            self.stride() == other.stride() and self.storage_offset() == other.storage_offset()

    @property
    def _version(self):
        return self._storage._version

    # ---------------------------------------------------------------- autograd fields
    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, g):
        if g is not None:
            if not isinstance(g, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(g).__name__}")
            if g.shape != self.shape:
                raise RuntimeError(f"attempting to assign a gradient of size '{list(g.shape)}' to a tensor of size "
                                   f"'{list(self.shape)}'. Please ensure that the gradient and the tensor are the same "
                                   f"size")
            if g.dtype is not self.dtype:
                from .ops._registry import _type_name
                cpp = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
                       "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}
                raise RuntimeError(f"attempting to assign a gradient with dtype '{cpp.get(g.dtype.name, g.dtype.name)}' "
                                   f"to a tensor with grad_dtype '{_type_name(self.dtype)}'. The gradient must match "
                                   f"the tensor's grad_dtype (defaults to the tensor's dtype). You can set the "
                                   f"tensor's grad_dtype attribute with a specific dtype, or None to allow any dtype. "
                                   f"Set grad_dtype with caution. Diverging the dtypes of a tensor and its gradient "
                                   f"may break downstream systems that assume they match.")
            if g._device != self._device:
                raise RuntimeError("assigned grad has data located on a different device")
        self._grad = g

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def output_nr(self):
        return self._output_nr if self.grad_fn is not None else 0

    @property
    def _is_view(self):
        return self._base is not None

    def is_view(self):
        return self._base is not None

    @property
    def requires_grad(self):
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place on a leaf; only floating and complex tensors can require grad."""
        if requires_grad and self.dtype.category < 2:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to "
                               "use a computed variable in a subgraph that doesn't require differentiation "
                               "use var_no_grad = var.detach().")
        self._rg = bool(requires_grad)
        return self

    def detach(self):
        """A new tensor sharing storage (and version counter) with no autograd history."""
        t = Tensor._make(self._data, self._device, self._storage)
        return t

    def detach_(self):
        if self._base is not None and self.grad_fn is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead. If you are using "
                               "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as "
                               "True, gradients are views of DDP buckets, and hence detach_() cannot be called on these "
                               "gradients. To fix this error, please refer to the Optimizer.zero_grad() function in "
                               "torch/optim/optimizer.py as the solution.")
        self.grad_fn = None
        self._rg = False
        return self

    @property
    def data(self):
        """The same memory without autograd history (torch's ``.data``).

        Unlike ``detach()`` it gets its own version counter, so in-place changes made through it are
        invisible to autograd's saved-tensor checks, as in torch.
        """
        return Tensor._make(self._data, self._device, UntypedStorage(self._storage._root, self._device))

    @data.setter
    def data(self, other):
        self._data, self._storage = other._data, other._storage
        self.dtype, self._device = other.dtype, other._device

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        from .autograd.graph import retain_grad
        retain_grad(self)

    @property
    def retains_grad(self):
        return self.__dict__.get("_retains_grad", False)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a replacement."""
        from .autograd.graph import register_tensor_hook
        return register_tensor_hook(self, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after ``.grad`` of this leaf has been accumulated."""
        from .autograd.graph import register_post_accumulate_hook
        return register_post_accumulate_hook(self, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see ``ember.autograd.backward``)."""
        _engine().backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # ---------------------------------------------------------------- Python protocol
    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self):
        return id(self)

    def __bool__(self):
        if self._data.size != 1:
            what = "no values" if self._data.size == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {what} is ambiguous")
        return bool(self.item())

    def __float__(self):
        return float(self._scalar("float"))

    def __int__(self):
        return int(self._scalar("int"))

    def __complex__(self):
        return complex(self._scalar("complex"))

    def __index__(self):
        if self.dtype.category > 1 or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def _scalar(self, what):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def item(self):
        """The single value as a Python number."""
        n = self._data.size
        if n != 1:
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to Scalar")
        self._check_data("item")
        v = self._device.backend.to_host(self._data).reshape(()).item()
        if self.dtype is D.bfloat16:
            v = float(v)
        return v

    def tolist(self):
        """Nested Python lists of Python numbers (a number for a 0-d tensor)."""
        self._check_data("tolist")
        a = self._device.backend.to_host(self._data)
        if self.dtype is D.bfloat16:
            a = a.astype(np.float32)
        return a.tolist()

    # numpy(), __array__, __array_wrap__, __dlpack__ and __dlpack_device__ live in ember/_interop.py

    def _check_data(self, what):
        if self._device.type == "meta":
            if what == "item":
                raise RuntimeError("Tensor.item() cannot be called on meta tensors")
            raise NotImplementedError("Cannot copy out of meta tensor; no data!")

    def __repr__(self, *, tensor_contents=None):
        from ._tensor_str import tensor_repr
        return tensor_repr(self, tensor_contents)

    def __format__(self, spec):
        if self._data.ndim == 0 and self._device.type != "meta":
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, proto):
        from ._tensor_pickle import reduce_tensor
        return reduce_tensor(self)

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the "
                               "deepcopy protocol at the moment.  If you were attempting to deepcopy a module, "
                               "this may be because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        t = object.__new__(type(self))
        t._data = _copy_storage_view(self)
        t.dtype, t._device = self.dtype, self._device
        t._rg, t.grad_fn = self._rg, None
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        import copy as _copy
        for k, v in self.__dict__.items():
            if not k.startswith("_"):  # user attributes only; storage/autograd fields are rebuilt
                t.__dict__[k] = _copy.deepcopy(v, memo)
        memo[id(self)] = t
        return t

    __array_priority__ = 1000  # so ndarray + Tensor defers to Tensor.__radd__


def _wrap_dim(dim, ndim):
    """Map a possibly negative ``dim`` into range, with torch's IndexError otherwise."""
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim


def _copy_storage_view(t):
    """The same view of a copy of ``t``'s storage (torch's deepcopy keeps strides and offset)."""
    a = t._data
    root = t._storage._root
    if type(a) is _ndarray and type(root) is _ndarray and root.flags.c_contiguous and a.size:
        off = int(a.__array_interface__["data"][0] - root.__array_interface__["data"][0])
        return _ndarray(a.shape, a.dtype, buffer=root.copy(), offset=off, strides=a.strides)
    from ._memory_format import alloc, preserve_strides
    out = alloc(t._device.backend, a.shape, a.dtype, preserve_strides(a.shape, t.stride()))
    if not t._device.backend.is_meta and a.size:
        out[...] = a
    return out


def wrap_dim(dim, ndim):
    return _wrap_dim(dim, ndim)


def contiguous_strides(shape):
    return c_strides(shape)


__all__ = ["Tensor", "wrap_dim", "contiguous_strides", "_device_cls", "to_device"]
