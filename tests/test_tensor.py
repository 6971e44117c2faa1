"""The tensor/storage contract compared with torch: sizes, strides, storage sharing, views, versions,
dtypes and promotion, legacy constructors, ``tensor()`` inference, and the Python protocol."""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _norm(x):
    """Make torch and ember results comparable (dtypes, sizes, devices and tensors by value)."""
    if isinstance(x, (torch.Tensor, ember.Tensor)):
        return ("tensor", repr(x))
    if isinstance(x, (torch.dtype, ember.dtype, torch.device, ember.device, torch.layout, ember.layout)):
        return repr(x)
    if isinstance(x, (torch.Size, ember.Size)):
        return ("size", tuple(x))
    if isinstance(x, (list, tuple)):
        return type(x).__name__, [_norm(v) for v in x]
    return x


def _run(fn, mod):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return "ok", _norm(fn(mod))
    except Exception as e:  # noqa: BLE001 - comparing exception types with torch's
        return "error", (type(e).__name__, str(e))


def same(fn, message=True):
    """``fn(torch)`` and ``fn(ember)`` give the same value, or raise the same exception (and message)."""
    t, e = _run(fn, torch), _run(fn, ember)
    if t[0] == "error" and not message:
        assert e[0] == "error" and e[1][0] == t[1][0], (t, e)
        return
    assert e == t


# ---------------------------------------------------------------- sizes and strides
SIZE_CASES = [
    lambda M: M.ones(2, 3).shape,
    lambda M: repr(M.ones(2, 3).shape),
    lambda M: repr(M.Size([2, 3])),
    lambda M: repr(M.Size([])),
    lambda M: M.Size([2, 3])[1:],
    lambda M: repr(M.Size([2, 3])[1:]),
    lambda M: M.Size([2, 3]).numel(),
    lambda M: M.Size([2, 3]) + (4,),
    lambda M: M.ones(2, 3).size(),
    lambda M: M.ones(2, 3).size(-1),
    lambda M: M.ones(2, 3).size(2),
    lambda M: M.ones(()).size(),
    lambda M: M.ones(2, 3).dim(),
    lambda M: M.ones(2, 3).ndimension(),
    lambda M: M.ones(2, 3).ndim,
    lambda M: M.ones(2, 3).numel(),
    lambda M: M.ones(2, 3).nelement(),
    lambda M: M.numel(M.ones(2, 3)),
    lambda M: M.ones(2, 3).element_size(),
    lambda M: M.ones(2, 3, dtype=M.int16).itemsize,
    lambda M: M.ones(2, 3, dtype=M.complex128).nbytes,
    lambda M: len(M.ones(3, 2)),
    lambda M: len(M.tensor(1)),
]


@pytest.mark.parametrize("i", range(len(SIZE_CASES)))
def test_sizes(i):
    same(SIZE_CASES[i])


STRIDE_CASES = [
    lambda M: M.ones(2, 3).stride(),
    lambda M: M.ones(2, 3).stride(0),
    lambda M: M.ones(2, 3).stride(-1),
    lambda M: M.ones(2, 3).stride(2),
    lambda M: M.empty(()).stride(),
    lambda M: M.empty(0, 3).stride(),
    lambda M: M.empty(3, 0).stride(),
    lambda M: M.empty(2, 0, 4).stride(),
    lambda M: M.ones(2, 3).t().stride(),
    lambda M: M.ones(2, 3, 4).permute(2, 0, 1).stride(),
    lambda M: M.ones(2, 3, 4).movedim(0, -1).stride(),
    lambda M: M.ones(2, 3).narrow(1, 1, 2).stride(),
    lambda M: M.ones(4, 3).unfold(0, 2, 1).stride(),
    lambda M: M.ones(4, 3).diagonal().stride(),
    lambda M: M.ones(2, 3, 4).diagonal(0, -1, 0).stride(),
    lambda M: M.ones(4, 3).expand(2, 4, 3).stride(),
    lambda M: M.ones(4, 1).expand(4, 3).stride(),
    lambda M: M.ones(1, 4).squeeze().stride(),
    lambda M: M.ones(2, 3).unsqueeze(1).stride(),
    lambda M: M.ones(2, 3).unsqueeze(-1).stride(),
    lambda M: M.ones(6).unflatten(0, (2, 3)).stride(),
    lambda M: M.ones(2, 3).select(1, -1).stride(),
    lambda M: M.ones(2, 3).unbind(1)[2].stride(),
    lambda M: M.ones(2, 3).view(3, 2).stride(),
    lambda M: M.ones(2, 3).flatten().stride(),
    lambda M: M.ones(2, 3).T.stride(),
    lambda M: M.arange(6).as_strided((2, 2), (1, 2), 1).stride(),
    lambda M: M.ones(2, 3).t().contiguous().stride(),
    lambda M: M.ones(2, 3).clone().stride(),
    lambda M: M.ones(2, 3).t().clone().stride(),
    lambda M: M.ones(3, 1).expand(3, 4).clone().stride(),
    lambda M: M.ones(2, 3, 4).permute(2, 0, 1).clone().stride(),
]


@pytest.mark.parametrize("i", range(len(STRIDE_CASES)))
def test_strides(i):
    same(STRIDE_CASES[i])


CONTIG_CASES = [
    lambda M: M.ones(2, 3).is_contiguous(),
    lambda M: M.ones(2, 3).t().is_contiguous(),
    lambda M: M.ones(4, 1).expand(4, 3).is_contiguous(),
    lambda M: M.ones(2, 3).expand(3, 2, 3).is_contiguous(),
    lambda M: M.ones(2, 1, 3).transpose(0, 1).is_contiguous(),
    lambda M: M.ones(1, 3).t().is_contiguous(),
    lambda M: M.ones(0, 3).t().is_contiguous(),
    lambda M: M.ones(2, 3).narrow(1, 0, 2).is_contiguous(),
    lambda M: M.ones(2, 3).narrow(0, 1, 1).is_contiguous(),
    lambda M: M.ones(2, 3).t().contiguous().is_contiguous(),
    lambda M: M.ones(2, 3).t().clone().is_contiguous(),
    lambda M: M.ones(2, 3, 4).is_contiguous(memory_format=M.channels_last),
    lambda M: M.ones(2, 3, 4, 5).permute(0, 2, 3, 1).is_contiguous(memory_format=M.channels_last),
    lambda M: M.ones(2, 3, 4, 5).is_contiguous(memory_format=M.channels_last),
]


@pytest.mark.parametrize("i", range(len(CONTIG_CASES)))
def test_is_contiguous(i):
    same(CONTIG_CASES[i])


def test_contiguous_returns_self_when_contiguous():
    x = ember.ones(2, 3)
    assert x.contiguous() is x
    y = x.t().contiguous()
    assert y is not x and y.data_ptr() != x.data_ptr()


# ---------------------------------------------------------------- storage and data_ptr
OFFSET_CASES = [
    lambda M: M.ones(2, 3).storage_offset(),
    lambda M: M.ones(2, 3).narrow(1, 1, 2).storage_offset(),
    lambda M: M.ones(2, 3).narrow(1, -1, 1).storage_offset(),
    lambda M: M.ones(4, 3).diagonal(1).storage_offset(),
    lambda M: M.ones(4, 3).diagonal(-2).storage_offset(),
    lambda M: M.ones(2, 3).split(2, 1)[1].storage_offset(),
    lambda M: M.ones(5, 3).chunk(2)[1].storage_offset(),
    lambda M: M.ones(2, 3).unbind(1)[2].storage_offset(),
    lambda M: M.ones(2, 3).select(0, 1).storage_offset(),
    lambda M: M.arange(6).as_strided((2, 2), (1, 2), 1).storage_offset(),
    lambda M: M.ones(2, 3).narrow(1, 1, 2).clone().storage_offset(),
]


@pytest.mark.parametrize("i", range(len(OFFSET_CASES)))
def test_storage_offset(i):
    same(OFFSET_CASES[i])


def _ptr_deltas(M):
    x = M.zeros(4, 6, dtype=M.float64)
    return [x.narrow(1, 2, 3).data_ptr() - x.data_ptr(),
            x.select(0, 3).data_ptr() - x.data_ptr(),
            x.t().data_ptr() - x.data_ptr(),
            x.diagonal(2).data_ptr() - x.data_ptr(),
            x.view(M.int8).narrow(1, 3, 2).data_ptr() - x.data_ptr(),
            x.untyped_storage().data_ptr() == x.narrow(0, 1, 1).untyped_storage().data_ptr(),
            x.untyped_storage().nbytes(), x.narrow(0, 1, 1).untyped_storage().nbytes(),
            len(x.t().untyped_storage()), x.untyped_storage().size(),
            M.empty(0).data_ptr(), M.empty(0, 3).data_ptr(), M.empty(0).untyped_storage().data_ptr(),
            M.empty(0).untyped_storage().nbytes()]


def test_data_ptr_arithmetic_and_storage():
    same(_ptr_deltas)


def test_untyped_storage_is_shared():
    x = ember.arange(6.0)
    v = x.view(2, 3).t()
    assert v.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    assert x.clone().untyped_storage().data_ptr() != x.untyped_storage().data_ptr()
    assert v.is_set_to(v) and not v.is_set_to(x)
    assert x.is_set_to(x.detach()) and x.is_set_to(x.data)


# ---------------------------------------------------------------- views share memory both ways
def _fill(t, value):
    return t.mul_(0).add_(value)


VIEWS = {
    "view": lambda x: x.view(4, 3),
    "view_-1": lambda x: x.view(-1),
    "reshape": lambda x: x.reshape(2, 6),
    "narrow": lambda x: x.narrow(1, 1, 2),
    "transpose": lambda x: x.transpose(0, 1),
    "t": lambda x: x.t(),
    "T": lambda x: x.T,
    "mT": lambda x: x.mT,
    "permute": lambda x: x.permute(1, 0),
    "unsqueeze": lambda x: x.unsqueeze(1),
    "squeeze": lambda x: x.unsqueeze(0).squeeze(0),
    "unflatten": lambda x: x.unflatten(1, (2, 2)),
    "flatten": lambda x: x.flatten(),
    "diagonal": lambda x: x.diagonal(),
    "diagonal_offset": lambda x: x.diagonal(1),
    "unfold": lambda x: x.unfold(1, 2, 2),
    "split": lambda x: x.split(2, 1)[1],
    "split_sizes": lambda x: x.split([1, 3], 1)[1],
    "chunk": lambda x: x.chunk(2, 1)[0],
    "tensor_split": lambda x: x.tensor_split(3, 1)[2],
    "unbind": lambda x: x.unbind(0)[1],
    "as_strided": lambda x: x.as_strided((2, 2), (1, 4), 1),
    "movedim": lambda x: x.movedim(0, 1),
    "swapaxes": lambda x: x.swapaxes(0, 1),
    "select": lambda x: x.select(1, 2),
    "detach": lambda x: x.detach(),
    "alias_data": lambda x: x.data,
    "view_as": lambda x: x.view_as(x.new_empty(12)),
    "view_dtype": lambda x: x.view(x.dtype),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_views_share_memory_both_ways(name):
    results = []
    for M in (torch, ember):
        x = M.arange(12, dtype=M.float64).reshape(3, 4)
        v = VIEWS[name](x)
        assert v.data_ptr() >= x.data_ptr()
        _fill(v, 7)  # write through the view ...
        after_view = x.tolist()
        x.add_(1)  # ... and through the base
        results.append((tuple(v.shape), v.stride(), v.storage_offset(), after_view, v.tolist(),
                        x._version, v._version))
    assert results[1] == results[0]


def test_expand_view_sees_base_writes():
    for M in (torch, ember):
        x = M.zeros(3, 1)
        e = x.expand(3, 4)
        x.add_(M.tensor([[1.0], [2.0], [3.0]]))
        assert e.tolist() == [[1.0] * 4, [2.0] * 4, [3.0] * 4]
        assert e.stride() == (1, 0)


def test_views_of_views():
    for M in (torch, ember):
        x = M.zeros(4, 6)
        v = x.narrow(0, 1, 2).t().narrow(0, 2, 3)
        _fill(v, 5)
        assert x.sum().item() == 30
        assert v._base is x


def test_reshape_view_or_copy():
    def prog(M):
        x = M.arange(6.0).reshape(2, 3)
        a = x.reshape(3, 2)        # view
        b = x.t().reshape(6)       # copy: strides do not allow a view
        c = x.t().reshape(3, 2)    # same shape as the transposed input: a view
        d = x.narrow(1, 0, 2).reshape(4)  # copy
        e = x.unsqueeze(0).reshape(2, 3)  # view
        return [t.data_ptr() == x.data_ptr() for t in (a, b, c, d, e)] + \
               [b.is_contiguous(), b._base is None, a._base is x, c.stride()]
    same(prog)


VIEW_ERRORS = [
    lambda M: M.ones(2, 3).t().view(6),
    lambda M: M.ones(2, 3).t().view(2, 3),
    lambda M: M.ones(2, 3).view(4),
    lambda M: M.ones(2, 3).view(-1, -1),
    lambda M: M.ones(2, 3).view(-1, 4),
    lambda M: M.ones(0, 3).view(-1, 0),
    lambda M: M.ones(2, 3).view(M.float64),
    lambda M: M.ones(()).view(M.int8),
    lambda M: M.ones(2, 3).t().view(M.int8),
    lambda M: M.ones(2, 3, dtype=M.int8).view(M.float32),
    lambda M: M.ones(2, 3).expand(2, 2),
    lambda M: M.ones(2, 3).expand(3),
    lambda M: M.ones(2, 3).permute(0),
    lambda M: M.ones(2, 3).permute(0, 0),
    lambda M: M.ones(2, 3).permute(0, 2),
    lambda M: M.ones(2, 3).transpose(0, 2),
    lambda M: M.ones(2, 3).squeeze(5),
    lambda M: M.ones(2, 3).unsqueeze(3),
    lambda M: M.ones(2, 3).diagonal(0, 0, 0),
    lambda M: M.ones(2, 3).unfold(1, 4, 1),
    lambda M: M.ones(2, 3).unfold(1, 2, 0),
    lambda M: M.ones(2, 3).as_strided((2, 2), (1,)),
    lambda M: M.ones(2, 3).as_strided((10,), (1,)),
    lambda M: M.ones(2, 3).split([1, 1], 1),
    lambda M: M.ones(2, 3).split(0, 1),
    lambda M: M.ones(2, 3).chunk(0),
    lambda M: M.ones(2, 3).narrow(0, 0, 3),
    lambda M: M.ones(2, 3).narrow(0, 3, 0),
    lambda M: M.ones(2, 3).select(1, 3),
    lambda M: M.ones(2, 3).select(2, 0),
    lambda M: M.ones(2, 3).movedim((0, 1), (1,)),
    lambda M: M.ones(2, 3).movedim(0, 2),
    lambda M: M.ones(2, 3).unflatten(1, ()),
    lambda M: M.ones(2, 3).unflatten(1, (2, 2)),
    lambda M: M.ones(2, 3).unbind(2),
    lambda M: M.ones(()).unbind(),
    lambda M: M.ones(()).select(0, 0),
    lambda M: M.ones(()).narrow(0, 0, 1),
    lambda M: M.ones(2, 3, 4).t(),
]


@pytest.mark.parametrize("i", range(len(VIEW_ERRORS)))
def test_view_errors(i):
    same(VIEW_ERRORS[i])


def test_view_error_suggests_reshape():
    with pytest.raises(RuntimeError, match=r"Use \.reshape\(\.\.\.\) instead"):
        ember.ones(2, 3).t().view(6)


VIEW_SHAPES = [
    lambda M: M.ones(5, 3).chunk(2)[1].shape,
    lambda M: M.ones(2, 3).chunk(5, 1),
    lambda M: M.ones(0, 3).chunk(2),
    lambda M: M.ones(2, 3).narrow(0, 2, 0).shape,
    lambda M: M.ones(6).unflatten(0, (2, -1)).shape,
    lambda M: M.ones(6).unflatten(0, (4, -1)).shape,
    lambda M: M.ones(2, 3).unsqueeze(-3).shape,
    lambda M: M.ones(2, 3).diagonal(0, 1, 0).shape,
    lambda M: M.ones(()).unfold(0, 1, 1).shape,
    lambda M: M.ones(()).view(1, 1).shape,
    lambda M: M.ones(()).reshape(-1).shape,
    lambda M: M.ones(()).flatten().shape,
    lambda M: M.ones(()).t().shape,
    lambda M: M.ones(3).T.shape,
    lambda M: M.ones(2, 3, 4).mT.shape,
    lambda M: M.ones(2, 3).expand(-1, 2, 3) if False else M.ones(2, 3).expand(4, -1, -1).shape,
    lambda M: M.ones(2, 4).view(M.float64).shape,
    lambda M: M.ones(2, 3).view(M.int16).shape,
    lambda M: M.ones(2, 3).view(M.int32).dtype,
]


@pytest.mark.parametrize("i", range(len(VIEW_SHAPES)))
def test_view_shapes(i):
    same(VIEW_SHAPES[i])


# ---------------------------------------------------------------- version counter
def test_version_counter():
    def prog(M):
        out = []
        a = M.arange(12.0).reshape(3, 4)
        out.append(a._version)
        v = a.view(4, 3)
        v.add_(1)
        out += [a._version, v._version]
        t = a.t()
        t.mul_(2)
        out += [a._version, t._version, v._version]
        c = a.clone()
        c.add_(1)
        out += [a._version, c._version]
        d = a.detach()
        d.add_(1)  # detach() shares the version counter
        out += [a._version, d._version]
        a.data.add_(1)  # .data does not
        out += [a._version, a.data._version]
        s = a.select(0, 1)
        s += 1
        out += [a._version, s._version]
        a.add_(1, alpha=2) if M is torch else a.add_(2)
        out.append(a._version)
        return out
    same(prog)


# ---------------------------------------------------------------- dtypes
DTYPE_CASES = [
    lambda M: M.ones(2).float().dtype, lambda M: M.ones(2).double().dtype, lambda M: M.ones(2).half().dtype,
    lambda M: M.ones(2).bfloat16().dtype, lambda M: M.ones(2).long(), lambda M: M.ones(2).int(),
    lambda M: M.ones(2).short().dtype, lambda M: M.ones(2).char().dtype, lambda M: M.ones(2).byte().dtype,
    lambda M: M.ones(2).bool(), lambda M: M.ones(2).cfloat(), lambda M: M.ones(2).cdouble(),
    lambda M: M.ones(2).to(M.float64), lambda M: M.ones(2).to("cpu", M.float64),
    lambda M: M.ones(2).to(dtype=M.int8), lambda M: M.ones(2).to(M.ones(1, dtype=M.int16)),
    lambda M: M.tensor([1.5, -2.5]).to(M.int64), lambda M: M.tensor([300.0]).to(M.uint8),
    lambda M: M.tensor([1 + 2j]).to(M.float32),
    lambda M: M.ones(2).to(M.float32) is not None,
    lambda M: M.ones(2).type(), lambda M: M.ones(2, dtype=M.int64).type(),
    lambda M: M.ones(2, dtype=M.bool).type(), lambda M: M.ones(2, dtype=M.complex64).type(),
    lambda M: M.ones(2).type(M.int32), lambda M: M.ones(2).type("torch.DoubleTensor"),
    lambda M: M.ones(2).type("torch.Foo"),
    lambda M: M.ones(2).type_as(M.ones(1, dtype=M.int8)),
    lambda M: M.ones(2).is_floating_point(), lambda M: M.ones(2, dtype=M.int8).is_signed(),
    lambda M: M.ones(2, dtype=M.uint8).is_signed(), lambda M: M.ones(2).is_complex(),
    lambda M: M.float32.is_floating_point, lambda M: M.complex64.is_complex, lambda M: M.int8.is_signed,
    lambda M: M.uint8.is_signed, lambda M: M.bool.is_signed, lambda M: M.float16.itemsize,
    lambda M: M.bfloat16.itemsize, lambda M: M.complex128.itemsize, lambda M: M.float32.to_complex(),
    lambda M: M.complex64.to_real(), lambda M: M.float32 == M.float, lambda M: M.int64 is M.long,
    lambda M: str(M.float32), lambda M: repr(M.cdouble), lambda M: M.is_floating_point(M.ones(1)),
    lambda M: M.is_complex(M.ones(1)), lambda M: M.is_tensor(M.ones(1)), lambda M: M.is_tensor([1]),
]


@pytest.mark.parametrize("i", range(len(DTYPE_CASES)))
def test_dtypes_and_casts(i):
    same(DTYPE_CASES[i])


def test_to_returns_self_when_nothing_changes():
    x = ember.ones(2)
    assert x.to(ember.float32) is x and x.to("cpu") is x and x.float() is x
    assert x.to(ember.float32, copy=True) is not x


PROMOTION = [
    lambda M: M.result_type(M.tensor([1]), 1.0),
    lambda M: M.result_type(M.tensor([1], dtype=M.int8), M.tensor(1000)),
    lambda M: M.result_type(M.tensor([1], dtype=M.uint8), -1),
    lambda M: M.result_type(M.tensor([1.0], dtype=M.float16), M.tensor(1.0, dtype=M.float64)),
    lambda M: M.result_type(M.tensor([True]), 1),
    lambda M: M.result_type(M.tensor([True]), True),
    lambda M: M.result_type(M.tensor(1, dtype=M.int32), M.tensor(1.0, dtype=M.float16)),
    lambda M: M.result_type(M.tensor([1], dtype=M.int32), M.tensor(1.0, dtype=M.float64)),
    lambda M: M.result_type(M.tensor([1.0]), 1j),
    lambda M: M.result_type(M.tensor([1.0], dtype=M.float64), 1j),
    lambda M: M.result_type(1, 1.0),
    lambda M: M.result_type(1, True),
    lambda M: M.result_type(M.tensor([1.0], dtype=M.bfloat16), M.tensor([1.0], dtype=M.float16)),
    lambda M: M.result_type(M.tensor([1], dtype=M.uint8), M.tensor([1], dtype=M.int8)),
    lambda M: M.promote_types(M.uint8, M.int8),
    lambda M: M.promote_types(M.int64, M.float16),
    lambda M: M.promote_types(M.bool, M.int8),
    lambda M: M.promote_types(M.float32, M.complex64),
    lambda M: M.promote_types(M.float64, M.complex64),
    lambda M: M.promote_types(M.bfloat16, M.float16),
    lambda M: M.promote_types(M.uint16, M.int32),
    lambda M: M.promote_types(M.uint16, M.uint32),
    lambda M: M.promote_types(M.uint8, M.uint16),
    lambda M: M.promote_types(M.bool, M.uint16),
    lambda M: M.promote_types(M.uint64, M.uint64),
    lambda M: M.can_cast(M.float32, M.int32),
    lambda M: M.can_cast(M.int32, M.float32),
    lambda M: M.can_cast(M.float64, M.float16),
    lambda M: M.can_cast(M.complex64, M.float64),
    lambda M: M.can_cast(M.bool, M.uint8),
    lambda M: M.can_cast(M.int8, M.bool),
    lambda M: M.can_cast(M.uint8, M.int8),
]


@pytest.mark.parametrize("i", range(len(PROMOTION)))
def test_promotion(i):
    same(PROMOTION[i])


def test_set_default_dtype():
    try:
        for M in (torch, ember):
            M.set_default_dtype(M.float64)
        same(lambda M: [M.get_default_dtype(), M.tensor([1.5]).dtype, M.tensor(1j).dtype, M.ones(2).dtype,
                        M.arange(3.0).dtype, M.tensor([1, 2]).dtype, M.Tensor(2).dtype,
                        M.result_type(M.tensor([1]), 1.0), M.zeros(2, dtype=M.float32).dtype])
        same(lambda M: M.set_default_dtype(M.int32))
        same(lambda M: M.set_default_dtype(M.complex64))
        for M in (torch, ember):
            M.set_default_dtype(M.float16)
        # (torch's complex32, the default complex for float16, has no ember counterpart)
        same(lambda M: [M.tensor([1.5]).dtype, M.ones(1).dtype, M.Tensor(1).dtype])
    finally:
        torch.set_default_dtype(torch.float32)
        ember.set_default_dtype(ember.float32)
    assert ember.get_default_dtype() is ember.float32


# ---------------------------------------------------------------- legacy constructors
LEGACY = [
    lambda M: M.FloatTensor([1, 2]), lambda M: M.FloatTensor(2, 3).shape, lambda M: M.LongTensor([1.5, 2.7]),
    lambda M: M.LongTensor(2).dtype, lambda M: M.DoubleTensor([1]).dtype, lambda M: M.BoolTensor([1, 0]),
    lambda M: M.ByteTensor([1, 2]), lambda M: M.IntTensor(M.Size([2, 1])).shape, lambda M: M.Tensor(2, 3).shape,
    lambda M: M.Tensor([1, 2]), lambda M: M.Tensor([[1, 2]]).dtype, lambda M: M.Tensor().shape,
    lambda M: M.Tensor(M.Size([2])).shape, lambda M: M.Tensor((2, 3)), lambda M: M.Tensor(np.array([1, 2])),
    lambda M: M.Tensor(M.tensor([1, 2])), lambda M: M.Tensor(M.tensor([1.0, 2.0]).double()),
    lambda M: M.DoubleTensor(M.tensor([1.0, 2.0]).double()), lambda M: M.FloatTensor(M.tensor([1, 2])),
    lambda M: M.LongTensor(M.tensor([1.5])), lambda M: M.Tensor(2.5), lambda M: M.FloatTensor(2.5),
    lambda M: M.Tensor(True), lambda M: M.Tensor(None), lambda M: M.Tensor("abc"), lambda M: M.Tensor(2, 3.0),
    lambda M: M.Tensor(2.0, 3), lambda M: M.Tensor([1], 2), lambda M: M.Tensor(-1), lambda M: M.Tensor(2, -1),
    lambda M: M.Tensor([1, 2], dtype=M.float64), lambda M: M.Tensor(2, foo=3),
    lambda M: M.Tensor([1, 2], device="cpu"), lambda M: M.Tensor(2, device="meta"),
    lambda M: M.FloatTensor(2, device="meta"), lambda M: M.LongTensor([[1, 2], [3]]),
    lambda M: isinstance(M.ones(2), M.FloatTensor), lambda M: isinstance(M.ones(2), M.LongTensor),
    lambda M: isinstance(M.ones(2, dtype=M.int64), M.LongTensor), lambda M: M.FloatTensor.dtype,
    lambda M: M.LongTensor.__name__,
]


@pytest.mark.parametrize("i", range(len(LEGACY)))
def test_legacy_constructors(i):
    same(LEGACY[i])


def test_legacy_tensor_of_tensor_is_alias():
    for M in (torch, ember):
        x = M.ones(2, requires_grad=True)
        y = M.Tensor(x)
        assert y is not x and y.data_ptr() == x.data_ptr() and y.requires_grad
        assert y.grad_fn.name() == "AliasBackward0"
        z = M.zeros(3)
        M.Tensor(z).add_(1)
        assert z.tolist() == [1.0, 1.0, 1.0] and z._version == 1


# ---------------------------------------------------------------- tensor() inference
TENSOR_DATA = [
    3, 2.5, True, 1 + 2j, [1, 2.5], [1, True], [True, False], [1, 2j], [1.5, 2j], [True, 2.5], [True, 2j],
    [], [[]], [[], []], (), [[[]]], ((1, 2), (3, 4)), [[1, 2], (3, 4)], range(3), [[1, 2], [3]], [[1, 2], [3, 4, 5]],
    [[[1, 2]], [[3]]], [[1, 2], []], [[], [1]], [[1], []], [1, [2]], [1.5, [2]], [True, [2]], [[1], 2], [[1], 2.5],
    [1j, [2]], None, [1, None], [[1], None], [None], "abc", ["a"], [["a"]], [1, "a"], b"ab", [1, b"a"], {1: 2},
    {1, 2}, [2 ** 63], 2 ** 64, [-1, 2 ** 63], [1.5, 2 ** 63], [1.5, 2 ** 70], [1j, 2 ** 63], 2 ** 63 - 1,
    -2 ** 63, [1e400], 10 ** 400, [float("nan"), float("inf")],
]


@pytest.mark.parametrize("i", range(len(TENSOR_DATA)))
def test_tensor_inference(i):
    data = TENSOR_DATA[i]
    same(lambda M: M.tensor(data))


TENSOR_WITH_DTYPE = [
    (300, "uint8"), ([300], "uint8"), ([-1], "uint8"), (-1, "uint8"), ([-255], "uint8"), ([-256], "uint8"),
    ([-1.0], "uint8"), ([-0.5], "uint8"), ([255.5], "uint8"), ([256.0], "uint8"), ([-(2 ** 32 - 1), 5], "uint32"),
    ([-(2 ** 32), 5], "uint32"), ([-129], "int8"), ([127.7], "int8"), ([-128.7], "int8"), ([2 ** 40], "int32"),
    (2 ** 40, "int32"), ([float("inf")], "int32"), ([2.0 ** 31], "int32"), ([1.5, float("nan")], "int64"),
    ([2.0 ** 63], "int64"), ([-2.0 ** 63], "int64"), ([2 ** 63], "int8"), ([2 ** 63], "uint64"),
    ([2 ** 64], "uint64"), ([2 ** 64 - 1], "uint64"), ([-1], "uint64"), ([2 ** 70], "float32"),
    ([1, 2 ** 63], "float32"), ([2 ** 63, -1], "float64"), ([10 ** 400], "float64"), (1e40, "float32"),
    ([1e10], "float16"), ([1e10], "bfloat16"), ([1 + 1j], "float32"), (1 + 1j, "float32"),
    ([1 + 1j], "int32"), ([1 + 1j], "bool"), ([1.5, float("nan")], "bool"), ([[1], [2]], "bool"),
    ([1, [2]], "bool"), ([1, [2]], "complex64"), ([1, [2]], "float16"), (1.5, "bool"), (5, "bool"),
    (3.7, "int64"), (-3.7, "int64"), ([1.7, -1.7], "int32"), ([[1.5, 2], [3, 4]], "int16"),
    ([[True, False]], "float64"), ([1, 2], "bfloat16"), ([[1 + 2j, 3]], "complex64"),
    ([[1 + 2j, 3]], "float64"), (3, "float64"), ([0.1, 0.2], "float64"), ([[], []], "int32"),
]


@pytest.mark.parametrize("i", range(len(TENSOR_WITH_DTYPE)))
def test_tensor_with_dtype(i):
    data, dt = TENSOR_WITH_DTYPE[i]
    same(lambda M: M.tensor(data, dtype=getattr(M, dt)))


TENSOR_MIXED = [
    lambda M: M.tensor(np.float64(1.5)), lambda M: M.tensor([np.float64(1.5)]),
    lambda M: M.tensor([np.float64(1.5), np.float32(1)]), lambda M: M.tensor(np.int64(3)),
    lambda M: M.tensor(np.complex128(1j)), lambda M: M.tensor(np.uint16(3)),
    lambda M: M.tensor(np.float32(1.5)), lambda M: M.tensor(np.int16(3)),
    lambda M: M.tensor([np.int64(2 ** 62), 3.5]), lambda M: M.tensor([np.float32(1.5), 2]),
    lambda M: M.tensor([np.int8(1), 2]), lambda M: M.tensor([np.int8(1), np.int16(2)]),
    lambda M: M.tensor([np.int64(300)], dtype=M.uint8), lambda M: M.tensor(np.array([300]), dtype=M.uint8),
    lambda M: M.tensor(np.float64(1e10), dtype=M.int32), lambda M: M.tensor([np.float64(1e10)], dtype=M.int32),
    lambda M: M.tensor(np.array([1.5, 2]), dtype=M.int8), lambda M: M.tensor(np.array(1e10), dtype=M.int8),
    lambda M: M.tensor([np.array([1, 2], dtype=np.int8), [3, 4]]),
    lambda M: M.tensor([np.array([1.5, 2]), [3, 4]]),
    lambda M: M.tensor([M.tensor(1.5, dtype=M.float64), 2.0]), lambda M: M.tensor([M.tensor(1.5), M.tensor(2)]),
    lambda M: M.tensor([M.tensor(1), M.tensor(2)]), lambda M: M.tensor([M.tensor([1.5]), M.tensor([2])]),
    lambda M: M.tensor([M.tensor([1]), M.tensor([2], dtype=M.int8)]),
    lambda M: M.tensor([M.tensor([1, 2]), M.tensor([3])]), lambda M: M.tensor([M.tensor([1, 2]), [3]]),
    lambda M: M.tensor([[1, 2], M.tensor([3])]), lambda M: M.tensor([M.ones(2, 2), M.ones(2, 2)]),
    lambda M: M.tensor([M.tensor(1.0), M.ones(1)]), lambda M: M.tensor([M.ones(0)]),
    lambda M: M.tensor([[1], M.tensor([2.5])]), lambda M: M.tensor([M.tensor(300)], dtype=M.uint8),
    lambda M: M.tensor([M.tensor([300])], dtype=M.uint8), lambda M: M.tensor(M.tensor([1, 2]), dtype=M.float64),
    lambda M: M.tensor(x for x in range(3)), lambda M: M.tensor([object()]),
    lambda M: M.tensor([1, 2], requires_grad=True), lambda M: M.tensor([1.0, 2], requires_grad=True),
]


@pytest.mark.parametrize("i", range(len(TENSOR_MIXED)))
def test_tensor_mixed_inputs(i):
    same(TENSOR_MIXED[i])


def test_tensor_copies_its_input():
    a = np.arange(3.0)
    t = ember.tensor(a)
    a[0] = 100
    assert t.tolist() == [0.0, 1.0, 2.0]
    src = ember.ones(2)
    with pytest.warns(UserWarning, match="sourceTensor.detach"):
        c = ember.tensor(src)
    assert c.data_ptr() != src.data_ptr()


# ---------------------------------------------------------------- Python protocol
PROTOCOL = [
    lambda M: M.tensor(3).item(), lambda M: M.tensor([3]).item(), lambda M: M.tensor([3, 4]).item(),
    lambda M: M.tensor([]).item(), lambda M: M.tensor(2.5).item(), lambda M: M.tensor(True).item(),
    lambda M: M.tensor(1 + 2j).item(), lambda M: M.tensor([1.5], dtype=M.float16).item(),
    lambda M: M.tensor([1.5], dtype=M.bfloat16).item(), lambda M: M.tensor(0.1, dtype=M.float32).item(),
    lambda M: M.tensor([[1, 2], [3, 4]]).tolist(), lambda M: M.tensor(2.5).tolist(),
    lambda M: M.tensor([1.5], dtype=M.float16).tolist(), lambda M: M.tensor([1.5], dtype=M.bfloat16).tolist(),
    lambda M: M.tensor([True]).tolist(), lambda M: M.tensor([1 + 2j]).tolist(), lambda M: M.zeros(2, 0).tolist(),
    lambda M: bool(M.tensor([1, 2])), lambda M: bool(M.tensor([])), lambda M: bool(M.tensor([0.0])),
    lambda M: bool(M.tensor(3)), lambda M: bool(M.tensor([[0.5]])),
    lambda M: int(M.tensor([1, 2])), lambda M: int(M.tensor([])), lambda M: int(M.tensor([2.7])),
    lambda M: int(M.tensor(-2.7)), lambda M: float(M.tensor([1, 2])), lambda M: float(M.tensor(3)),
    lambda M: complex(M.tensor(3)), lambda M: M.tensor([1.5]).__index__(), lambda M: M.tensor([1, 2]).__index__(),
    lambda M: M.tensor(3).__index__(), lambda M: M.tensor(True).__index__(), lambda M: [1, 2, 3][M.tensor(1)],
    lambda M: [1, 2, 3][M.tensor(1.0)], lambda M: M.is_nonzero(M.tensor([0])),
    lambda M: M.is_nonzero(M.tensor([1, 2])), lambda M: M.is_nonzero(M.tensor([])),
    lambda M: M.is_nonzero(M.tensor(0.5)), lambda M: [float(v) for v in M.arange(3.0)],
    lambda M: [v.shape for v in M.ones(2, 3)], lambda M: list(M.tensor(1)),
    lambda M: f"{M.tensor(2.5):.3f}", lambda M: f"{M.tensor([2.5])}",
    lambda M: M.ones(2).get_device(), lambda M: M.ones(2).is_cuda, lambda M: M.ones(2).is_cpu,
    lambda M: M.ones(2).is_leaf, lambda M: M.ones(2).layout, lambda M: M.strided,
    lambda M: M.ones(2).is_sparse, lambda M: M.ones(2).is_quantized,
]


@pytest.mark.parametrize("i", range(len(PROTOCOL)))
def test_python_protocol(i):
    same(PROTOCOL[i])


def test_hash_is_identity():
    a, b = ember.ones(1), ember.ones(1)
    assert hash(a) != hash(b) and len({a, b, a}) == 2


NEW_FACTORIES = [
    lambda M: M.ones(1).new_zeros(2, 3), lambda M: M.ones(1, dtype=M.int8).new_ones((2,)),
    lambda M: M.ones(1, dtype=M.int8).new_tensor([1.5]), lambda M: M.ones(1, dtype=M.int8).new_empty(2).shape,
    lambda M: M.ones(1, dtype=M.int8).new_full((2,), 3), lambda M: M.ones(1).new_zeros(2, dtype=M.int64),
]


@pytest.mark.parametrize("i", range(len(NEW_FACTORIES)))
def test_new_factories(i):
    same(NEW_FACTORIES[i])


def test_tensor_split_and_chunk_match_torch():
    torch = pytest.importorskip("torch")
    for n, k in [(7, 3), (6, 3), (0, 3), (2, 5), (5, 1)]:
        for fn in ("tensor_split", "chunk"):
            want = [t.tolist() for t in getattr(torch.arange(n), fn)(k)]
            assert [t.tolist() for t in getattr(ember.arange(n), fn)(k)] == want, (fn, n, k)
    for idx in ([1, 4], [4, 1], [-1, 9], [0, 0, 3], [], [-9, 2], [-3, -1]):  # negative indices count from the end
        want = [t.tolist() for t in torch.arange(7).tensor_split(idx)]
        assert [t.tolist() for t in ember.arange(7).tensor_split(idx)] == want, idx


def test_pickle_keeps_strides_like_torch(torch_oracle):
    """pickle.dumps/loads (and so multiprocessing) keeps a dense tensor's dimension order, as torch does."""
    import pickle
    for M in (ember, torch_oracle):
        M.manual_seed(0)
        x = M.randn(2, 3, 4, 5).contiguous(memory_format=M.channels_last)
        y = M.randn(3, 4).t()
        for a in (x, y, M.tensor(3.0), M.randn(4).bfloat16()):
            b = pickle.loads(pickle.dumps(a))
            assert b.stride() == a.stride() and M.equal(b, a)
