"""DLPack imports as storages (what tests/test_interop.py leaves out): a strided import owns the dense span
its strides reach, as in torch, so saving it (ember.save, safetensors) writes the right bytes; chains of
zero-copy hand-offs keep one memory; DLPack 1.0 (versioned) capsules work both ways."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _np_views():
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    return {"narrow": base[:, 1:4], "row": base[2], "step": base[::2, ::3], "T": base.T,
            "broadcast": np.broadcast_to(base[1], (3, 6)), "scalar": base[1, 2:3].reshape(()),
            "tail": base.reshape(-1)[20:]}


@pytest.mark.parametrize("name", list(_np_views()))
def test_import_storage_matches_torch(name):
    v = _np_views()[name]
    e, t = ember.from_dlpack(v), torch.from_dlpack(v)
    assert e.data_ptr() == t.data_ptr() == v.ctypes.data
    assert e.stride() == t.stride() and tuple(e.shape) == tuple(t.shape)
    assert e.storage_offset() == t.storage_offset()
    assert e.untyped_storage().nbytes() == t.untyped_storage().nbytes()
    assert e.untyped_storage().data_ptr() == t.untyped_storage().data_ptr()
    # a view of the import stays inside the same storage
    if e.dim():
        s = e.narrow(e.dim() - 1, e.shape[-1] - 1, 1)
        assert s.untyped_storage() is e.untyped_storage()


@pytest.mark.parametrize("name", list(_np_views()))
def test_saving_an_import_writes_its_values(tmp_path, name):
    v = _np_views()[name]
    tv = torch.from_dlpack(v)
    for src in (ember.from_dlpack(v), ember.from_dlpack(tv)):
        ember.save({"x": src}, tmp_path / "x.pt")
        back = torch.load(tmp_path / "x.pt", weights_only=True)["x"]
        assert torch.equal(back, tv) and back.stride() == tv.stride()
        assert ember.load(tmp_path / "x.pt")["x"].tolist() == tv.tolist()


def test_safetensors_of_imports(tmp_path):
    es = pytest.importorskip("ember.safetensors")
    stt = pytest.importorskip("safetensors.torch")
    t = torch.arange(12.0).reshape(3, 4)
    d = {"rows": ember.from_dlpack(t[1:3]), "bf16": ember.from_dlpack(t.to(torch.bfloat16)[0])}
    out = stt.load(es.save(d))
    assert torch.equal(out["rows"], t[1:3]) and torch.equal(out["bf16"], t.to(torch.bfloat16)[0])


def test_zero_copy_chains_keep_one_memory():
    t = torch.arange(12.0).reshape(3, 4)[:, 1:3]
    e = ember.from_dlpack(t)
    back = torch.from_dlpack(e)
    assert back.data_ptr() == t.data_ptr() and back.stride() == t.stride() and back.shape == t.shape
    full = np.arange(10, dtype=np.int16)
    a = full[2:8:2]
    t2 = torch.from_dlpack(ember.from_dlpack(a))
    assert t2.data_ptr() == a.ctypes.data and t2.stride() == (2,)
    t2.add_(100)
    assert full.tolist() == [0, 1, 102, 3, 104, 5, 106, 7, 8, 9]
    n = np.from_dlpack(ember.from_dlpack(t2))
    assert n.ctypes.data == a.ctypes.data and n.strides == (4,)


def test_versioned_capsules_both_ways():
    e = ember.arange(6.0).reshape(2, 3)
    cap = e.__dlpack__(max_version=(1, 0))
    assert "dltensor_versioned" in repr(cap)
    t = torch.utils.dlpack.from_dlpack(cap)
    assert t.tolist() == e.tolist() and t.data_ptr() == e.data_ptr()
    src = torch.arange(6.0).reshape(2, 3).t()
    cap2 = src.__dlpack__(max_version=(1, 0))
    assert "dltensor_versioned" in repr(cap2)
    e2 = ember.from_dlpack(cap2)
    assert e2.tolist() == src.tolist() and e2.stride() == src.stride() and e2.data_ptr() == src.data_ptr()


def test_conjugate_views_refused_like_torch():
    c = torch.ones(2, dtype=torch.complex64).conj()
    errs = []
    for fn in (torch.from_dlpack, ember.from_dlpack):
        with pytest.raises(BufferError) as ei:
            fn(c)
        errs.append(str(ei.value))
    assert errs[0] == errs[1]
    assert ember.from_dlpack(c.resolve_conj()).tolist() == [(1 - 0j), (1 - 0j)]
