"""ember.utils.hdf5: nested dicts of tensors in HDF5 via h5py; dtypes and shapes kept, plain-h5py readable."""
import os

import numpy as np
import pytest

import ember
from ember.utils import hdf5

h5py = pytest.importorskip("h5py")

DTYPES = ["bool", "uint8", "int8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float16", "bfloat16",
          "float32", "float64", "complex64", "complex128"]


def _sample(dtype, shape=(2, 3)):
    n = int(np.prod(shape))
    base = ember.arange(n).reshape(shape)
    if dtype == "bool":
        return base % 3 == 0
    v = base.to(getattr(ember, dtype))
    if dtype.startswith(("float", "bfloat", "complex")):
        v = v / 3 - 0.5
    return v


def _exact(t):
    return (t.float() if t.dtype is ember.bfloat16 else t).numpy()


def _same(a, b):
    assert a.dtype is b.dtype and tuple(a.shape) == tuple(b.shape)
    np.testing.assert_array_equal(_exact(a), _exact(b))


def _compare(a, b):
    assert list(a) == list(b)  # same keys in the same order
    for k in a:
        if isinstance(a[k], dict):
            _compare(a[k], b[k])
        else:
            _same(a[k], b[k])


def test_round_trip_every_dtype_and_nesting(tmp_path):
    tree = {dt: _sample(dt) for dt in DTYPES}
    tree["nested"] = {"scalar": ember.tensor(2.5, dtype=ember.float64), "empty": ember.zeros(0, 3, dtype=ember.int16),
                      "deeper": {"z": ember.tensor(True), "b16": ember.tensor(-1.5, dtype=ember.bfloat16)}}
    tree["a_last"] = ember.ones(1)  # insertion order, not alphabetical, comes back
    hdf5.save(tree, tmp_path / "t.h5")
    back = hdf5.load(tmp_path / "t.h5")
    _compare(tree, back)
    assert back["nested"]["scalar"].shape == () and back["nested"]["deeper"]["z"].shape == ()
    for t in (back["float32"], back["nested"]["empty"]):
        assert t.is_contiguous() and t.stride() == ember.empty(t.shape).stride()


def test_plain_h5py_reads_the_file(tmp_path):
    tree = {"w": _sample("float32", (3, 4)), "mask": _sample("bool"), "half": _sample("bfloat16"),
            "g": {"c": _sample("complex128"), "s": ember.tensor(7, dtype=ember.int64)}}
    hdf5.save(tree, str(tmp_path / "p.h5"))
    with h5py.File(tmp_path / "p.h5", "r") as f:
        assert list(f) == ["w", "mask", "half", "g"] and isinstance(f["g"], h5py.Group)
        np.testing.assert_array_equal(f["w"][()], tree["w"].numpy())
        assert f["w"].dtype == np.float32 and f["w"].shape == (3, 4)
        assert f["mask"].dtype == np.bool_ and f["mask"][()].tolist() == tree["mask"].tolist()
        assert f["half"].dtype == np.uint16 and f["half"].attrs["ember_dtype"] == "bfloat16"
        np.testing.assert_array_equal(f["half"][()], tree["half"].view(ember.int16).numpy().view(np.uint16))
        assert f["g/c"].dtype == np.complex128 and f["g/c"][()].tolist() == tree["g"]["c"].tolist()
        assert f["g/s"].shape == () and f["g/s"][()] == 7
        assert not any(len(f[k].attrs) for k in ("w", "mask", "g/c"))  # only bfloat16 needs a note


def test_bfloat16_bits_are_exact(tmp_path):
    bits = np.array([0, 1, 0x7F80, 0xFF80, 0x7FC0, 0x3F80, 0x8000, 0x0001], np.uint16)  # 0, tiny, inf, -inf, nan
    t = ember.from_numpy(bits.view(np.int16)).view(ember.bfloat16)
    hdf5.save({"b": t}, tmp_path / "b.h5")
    back = hdf5.load(tmp_path / "b.h5")["b"]
    assert back.dtype is ember.bfloat16
    np.testing.assert_array_equal(back.view(ember.int16).numpy().view(np.uint16), bits)


def test_views_and_grad_tensors_save_their_values(tmp_path):
    a = ember.arange(24.0).reshape(2, 3, 4)
    p = ember.nn.Parameter(ember.ones(2))
    tree = {"t": a.transpose(0, 2), "step": a[:, ::2, 1], "exp": ember.ones(1, 3).expand(4, 3), "p": p,
            "g": ember.tensor([1.0, 2.0], requires_grad=True) * 2}
    hdf5.save(tree, tmp_path / "v.h5")
    back = hdf5.load(tmp_path / "v.h5")
    for k in tree:
        np.testing.assert_array_equal(back[k].numpy(), tree[k].detach().numpy())
        assert back[k].is_contiguous() and not back[k].requires_grad and type(back[k]) is ember.Tensor


def test_loaded_tensors_are_writable(tmp_path):
    hdf5.save({"a": ember.arange(3.0), "s": ember.tensor(1.0)}, tmp_path / "w.h5")
    back = hdf5.load(tmp_path / "w.h5")
    back["a"].add_(1)
    back["s"].mul_(3)
    assert back["a"].tolist() == [1.0, 2.0, 3.0] and back["s"].item() == 3.0


def test_files_from_plain_h5py(tmp_path):
    with h5py.File(tmp_path / "ext.h5", "w") as f:  # no track_order: h5py lists names alphabetically
        f["z"] = np.arange(6, dtype=np.int32).reshape(2, 3)
        f["a"] = np.array([True, False])
        f["big_endian"] = np.arange(3, dtype=">f8")
        g = f.create_group("grp")
        g["c"] = np.array([1 + 2j], np.complex64)
        g["s"] = np.float16(0.5)
    back = hdf5.load(tmp_path / "ext.h5")
    assert list(back) == ["a", "big_endian", "grp", "z"]
    assert back["z"].dtype is ember.int32 and back["z"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert back["a"].dtype is ember.bool and back["a"].tolist() == [True, False]
    assert back["big_endian"].dtype is ember.float64 and back["big_endian"].tolist() == [0.0, 1.0, 2.0]
    assert back["grp"]["c"].dtype is ember.complex64 and back["grp"]["c"].tolist() == [1 + 2j]
    assert back["grp"]["s"].dtype is ember.float16 and back["grp"]["s"].shape == () and back["grp"]["s"].item() == 0.5

    with h5py.File(tmp_path / "str.h5", "w") as f:
        f["name"] = "text"
    with pytest.raises(TypeError, match="'/name'.*no ember dtype"):
        hdf5.load(tmp_path / "str.h5")
    with h5py.File(tmp_path / "bad.h5", "w") as f:
        f["x"] = np.ones(2, np.float32)
        f["x"].attrs["ember_dtype"] = "bfloat16"
    with pytest.raises(RuntimeError, match="marked bfloat16"):
        hdf5.load(tmp_path / "bad.h5")


@pytest.mark.parametrize("tree, exc, match", [
    ([ember.ones(2)], TypeError, "expects a dict"),
    ({"a": 1.0}, TypeError, "'/a' is a float"),
    ({"g": {"x": np.ones(2)}}, TypeError, "'/g/x' is a ndarray"),
    ({1: ember.ones(2)}, TypeError, "names must be str"),
    ({"a/b": ember.ones(2)}, ValueError, "invalid HDF5 name 'a/b'"),
    ({"g": {"": ember.ones(2)}}, ValueError, "invalid HDF5 name '' in '/g'"),
    ({".": ember.ones(2)}, ValueError, "invalid HDF5 name '.'"),
    ({"m": ember.empty(2, device="meta")}, RuntimeError, "meta tensor"),
])
def test_save_errors_leave_no_file(tmp_path, tree, exc, match):
    with pytest.raises(exc, match=match):
        hdf5.save(tree, tmp_path / "e.h5")
    assert os.listdir(tmp_path) == []


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ck.h5"
    hdf5.save({"a": ember.arange(3.0)}, path)
    before = path.read_bytes()
    real = hdf5._write
    calls = []

    def crash(group, tree):
        real(group, {k: v for k, v in list(tree.items())[:1]})  # half of the file is written ...
        calls.append(1)
        raise KeyboardInterrupt  # ... then the process is interrupted

    monkeypatch.setattr(hdf5, "_write", crash)
    with pytest.raises(KeyboardInterrupt):
        hdf5.save({"a": ember.zeros(3), "b": ember.ones(2)}, path)
    monkeypatch.undo()
    assert calls and path.read_bytes() == before and os.listdir(tmp_path) == ["ck.h5"]
    hdf5.save({"b": ember.ones(2)}, path)
    assert list(hdf5.load(path)) == ["b"] and os.listdir(tmp_path) == ["ck.h5"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        hdf5.save({"a": ember.ones(1)}, tmp_path / "no" / "x.h5")


def test_load_onto_device(tmp_path):
    hdf5.save({"a": ember.arange(3.0)}, tmp_path / "d.h5")
    a = hdf5.load(tmp_path / "d.h5", device="meta")["a"]
    assert a.device.type == "meta" and a.shape == (3,) and a.dtype is ember.float32


def test_hdf5_and_torch_agree(tmp_path):
    torch = pytest.importorskip("torch")
    t = torch.arange(12, dtype=torch.float64).reshape(3, 4).t()
    hdf5.save({"t": ember.from_dlpack(t)}, tmp_path / "x.h5")
    with h5py.File(tmp_path / "x.h5", "r") as f:
        assert torch.equal(torch.from_numpy(f["t"][()]), t)
