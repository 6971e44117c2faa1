"""NumPy and DLPack interop (zero-copy both ways, with torch as the other side) and the thread controls."""
import gc
import warnings

import numpy as np
import pytest

import ember
import ember.utils.dlpack

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float64", "float16", "bfloat16", "int8", "uint8", "int16", "int32", "int64", "bool",
          "complex64", "complex128"]


def _err(fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e)
    return None


def same_error(fn):
    t, e = _err(lambda: fn(torch)), _err(lambda: fn(ember))
    assert t is not None and e == t


# ---------------------------------------------------------------- numpy()
def test_numpy_shares_memory():
    x = ember.arange(6.0).reshape(2, 3)
    a = x.numpy()
    assert a.ctypes.data == x.data_ptr() and a.dtype == np.float32
    a[0, 0] = 100
    assert x[0, 0].item() == 100 if hasattr(ember.Tensor, "__getitem__") else x.tolist()[0][0] == 100
    x.add_(1)
    assert a[1, 2] == 6
    t = x.t().numpy()
    assert t.strides == (4, 12)  # strides kept, not copied
    assert np.shares_memory(t, a)


@pytest.mark.parametrize("dtype", [d for d in DTYPES if d != "bfloat16"])
def test_numpy_dtypes(dtype):
    x = ember.ones(3, dtype=getattr(ember, dtype))
    tx = torch.ones(3, dtype=getattr(torch, dtype))
    assert x.numpy().dtype == tx.numpy().dtype
    assert np.asarray(x).dtype == np.asarray(tx).dtype


NUMPY_ERRORS = [
    lambda M: M.ones(2, requires_grad=True).numpy(),
    lambda M: np.asarray(M.ones(2, requires_grad=True)),
    lambda M: M.empty(2, device="meta").numpy(),
    lambda M: M.ones(2, dtype=M.bfloat16).numpy(),
    lambda M: np.asarray(M.ones(2, dtype=M.bfloat16)),
    lambda M: M.from_numpy(np.array(["a"])),
    lambda M: M.from_numpy(np.ones(3)[::-1]),
    lambda M: M.from_numpy(np.float64(3)),
    lambda M: M.from_numpy([1, 2]),
    lambda M: M.from_numpy(np.ones(2, dtype=np.longdouble)),
    lambda M: M.from_numpy(np.array([1, 2]).astype(">i4")),
    lambda M: M.empty(2, device="meta").__dlpack__(),
    lambda M: M.empty(2, device="meta").__dlpack_device__(),
    lambda M: M.ones(2, requires_grad=True).__dlpack__(),
    lambda M: M.from_dlpack([1, 2]),
]


@pytest.mark.parametrize("i", range(len(NUMPY_ERRORS)))
def test_numpy_and_dlpack_errors(i):
    same_error(NUMPY_ERRORS[i])


def test_numpy_force_and_array_protocol():
    x = ember.ones(2, requires_grad=True)
    f = x.numpy(force=True)
    assert f.tolist() == [1.0, 1.0] and f.ctypes.data == x.data_ptr()
    y = ember.arange(3.0)
    assert np.asarray(y).ctypes.data == y.data_ptr()
    assert np.asarray(y, dtype=np.float64).dtype == np.float64
    assert y.__array__(np.int32).tolist() == [0, 1, 2]
    c = np.array(y, copy=True)
    c[0] = 5
    assert y.tolist()[0] == 0.0
    with pytest.raises(ValueError):
        np.asarray(y, dtype=np.float64, copy=False)


def test_numpy_ufuncs_give_tensors():
    for M in (torch, ember):
        r = np.sin(M.ones(2))
        assert isinstance(r, M.Tensor) and r.dtype is M.float32
        assert abs(r.tolist()[0] - 0.8414709848) < 1e-6
        b = np.greater(M.ones(2), 0)
        assert isinstance(b, M.Tensor) and b.dtype is M.uint8 and b.tolist() == [1, 1]
        s = np.sin(M.tensor(1.0))
        assert isinstance(s, M.Tensor) and s.shape == ()


def test_from_numpy_shares_memory_and_strides():
    a = np.arange(12.0).reshape(3, 4)
    for M in (torch, ember):
        v = a[:, 1::2]
        t = M.from_numpy(v)
        assert t.stride() == (4, 2) and t.data_ptr() == v.ctypes.data
        t.mul_(2)
    assert a[0].tolist() == [0.0, 4.0, 2.0, 12.0]
    z = ember.from_numpy(np.array(5))
    assert z.shape == () and z.item() == 5
    r = np.ones(3)
    r.flags.writeable = False
    with pytest.warns(UserWarning, match="not writable"):
        ember.from_numpy(r)


def test_as_tensor_shares_numpy_memory():
    a = np.arange(3.0)
    assert ember.as_tensor(a).data_ptr() == a.ctypes.data
    assert ember.as_tensor(a, dtype=ember.float32).data_ptr() != a.ctypes.data
    assert ember.as_tensor([1, 2]).dtype is ember.int64


# ---------------------------------------------------------------- DLPack
def _views(M, dt):
    t = M.arange(12).reshape(3, 4).to(getattr(M, dt))
    return [t, t.t(), t.narrow(1, 1, 2), t.select(0, 1), t.narrow(0, 0, 1).expand(5, 4),
            t.reshape(12).as_strided((4,), (3,))]


@pytest.mark.parametrize("dtype", DTYPES)
def test_from_dlpack_torch_zero_copy(dtype):
    for view in _views(torch, dtype):
        e = ember.from_dlpack(view)
        assert e.dtype is getattr(ember, dtype)
        assert tuple(e.shape) == tuple(view.shape) and e.stride() == view.stride()
        assert e.data_ptr() == view.data_ptr()
        assert e.to(ember.float64).tolist() == view.to(torch.float64).tolist()


@pytest.mark.parametrize("dtype", DTYPES)
def test_to_torch_zero_copy(dtype):
    for view in _views(ember, dtype):
        t = torch.from_dlpack(view)
        assert t.dtype is getattr(torch, dtype)
        assert tuple(t.shape) == tuple(view.shape) and t.stride() == view.stride()
        assert t.data_ptr() == view.data_ptr()
        assert t.to(torch.float64).tolist() == view.to(ember.float64).tolist()
        if dtype != "bfloat16":
            n = np.from_dlpack(view)
            assert n.ctypes.data == view.data_ptr() and n.strides == view._data.strides


def test_dlpack_writes_both_ways():
    t = torch.zeros(3)
    e = ember.from_dlpack(t)
    e.add_(2)
    assert t.tolist() == [2.0, 2.0, 2.0]
    e2 = ember.zeros(3)
    t2 = torch.from_dlpack(e2)
    t2.add_(5)
    assert e2.tolist() == [5.0, 5.0, 5.0]
    a = np.arange(6.0).reshape(2, 3)
    ember.from_dlpack(a).mul_(10)
    assert a.tolist() == [[0.0, 10.0, 20.0], [30.0, 40.0, 50.0]]


def test_dlpack_keeps_producer_alive():
    t = torch.arange(5.0)
    e = ember.from_dlpack(t)
    del t
    gc.collect()
    assert e.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    e2 = ember.arange(5.0)
    t2 = torch.from_dlpack(e2)
    del e2
    gc.collect()
    assert t2.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_dlpack_capsules_and_module():
    cap = torch.utils.dlpack.to_dlpack(torch.ones(2))
    assert ember.from_dlpack(cap).tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="consumed only once"):
        ember.from_dlpack(cap)
    cap2 = ember.utils.dlpack.to_dlpack(ember.arange(3.0))
    assert torch.utils.dlpack.from_dlpack(cap2).tolist() == [0.0, 1.0, 2.0]
    assert ember.utils.dlpack.from_dlpack(np.ones(2)).dtype is ember.float64
    assert ember.ones(2).__dlpack_device__() == torch.ones(2).__dlpack_device__() == (1, 0)
    assert ember.ones(2).__dlpack_device__()[0] is ember.utils.dlpack.DLDeviceType.kDLCPU


def test_dlpack_edge_shapes():
    assert torch.from_dlpack(ember.empty(0, 3)).shape == (0, 3)
    assert ember.from_dlpack(torch.empty(0, 3)).shape == (0, 3)
    assert ember.from_dlpack(torch.tensor(3.5)).item() == 3.5
    assert torch.from_dlpack(ember.tensor(3.5)).item() == 3.5
    r = np.ones(3)
    r.flags.writeable = False
    er = ember.from_dlpack(r)  # read-only producers stay read-only
    assert er.tolist() == [1.0, 1.0, 1.0] and not er._data.flags.writeable


def test_from_dlpack_copy_and_device():
    a = np.ones(3)
    assert ember.from_dlpack(a, copy=True).data_ptr() != a.ctypes.data
    assert ember.from_dlpack(a, device="cpu").data_ptr() == a.ctypes.data
    m = ember.from_dlpack(a, device="meta")
    assert m.device.type == "meta" and m.shape == (3,)
    x = ember.ones(2)
    assert ember.from_dlpack(x) is x


def test_dlpack_no_leak():
    import resource
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(10):
        t = torch.ones(5_000_000)
        e = ember.from_dlpack(t)
        del t, e
        e = ember.ones(5_000_000)
        t = torch.from_dlpack(e)
        del e, t
    gc.collect()
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 150  # 20 buffers of 20 MB each would be 400 MB if none were freed


# ---------------------------------------------------------------- threads
def test_num_threads():
    old = ember.get_num_threads()
    assert isinstance(old, int) and old >= 1
    try:
        ember.set_num_threads(1)
        assert ember.get_num_threads() == 1
        threadpoolctl = pytest.importorskip("threadpoolctl")
        blas = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
        assert all(n == 1 for n in blas)
    finally:
        ember.set_num_threads(old)
    assert ember.get_num_threads() == old


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_num_threads_errors(bad):
    same_error(lambda M: M.set_num_threads(bad))
    same_error(lambda M: M.set_num_interop_threads(bad))


def test_num_interop_threads_set_once():
    from ember import _interop
    saved = dict(_interop._threads)
    try:
        _interop._threads.update(interop=None, interop_set=False)
        assert ember.get_num_interop_threads() >= 1
        ember.set_num_interop_threads(3)
        assert ember.get_num_interop_threads() == 3
        with pytest.raises(RuntimeError, match="cannot set number of interop threads"):
            ember.set_num_interop_threads(2)
    finally:
        _interop._threads.update(saved)
