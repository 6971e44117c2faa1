"""ember.safetensors: files interchangeable with safetensors.torch (both ways), its checks, atomic writes."""
import os

import numpy as np
import pytest

import ember

safetensors = pytest.importorskip("safetensors")
import ember.safetensors as es  # noqa: E402


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(scope="module")
def stt(torch):
    return pytest.importorskip("safetensors.torch")


DTYPES = ["bool", "uint8", "int8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float16", "bfloat16",
          "float32", "float64", "complex64"]


def _sample(lib, dtype, shape=(2, 3)):
    n = int(np.prod(shape))
    base = lib.arange(n).reshape(shape)
    if dtype == "bool":
        return base % 3 == 0
    v = base.to(getattr(lib, dtype))
    if dtype.startswith(("float", "bfloat", "complex")):
        v = v / 3 - 0.5  # values that are not integers, so rounding in a conversion would show
    return v


def _np(t):
    """Exact values as NumPy (bfloat16 through float32, which holds every bfloat16 exactly)."""
    t = t.detach()
    if str(t.dtype).endswith("bfloat16"):
        t = t.float()
    return t.numpy()


def _same(e, t):
    assert str(e.dtype) == str(t.dtype)
    assert tuple(e.shape) == tuple(t.shape) and e.stride() == t.stride()
    np.testing.assert_array_equal(_np(e), _np(t))


def _tensors(lib):
    d = {dt: _sample(lib, dt) for dt in DTYPES}
    d["scalar"] = lib.tensor(2.5, dtype=lib.float64)
    d["empty"] = lib.zeros(0, 3, dtype=lib.int16)
    d["row"] = _sample(lib, "float32", (4, 5))[1:3]  # a contiguous view with a storage offset
    return d


# ----------------------------------------------------------------------------- interchange
def test_bytes_identical_to_safetensors_torch(torch, stt):
    e, t = _tensors(ember), _tensors(torch)
    meta = {"format": "pt"}  # one key: the writer orders several metadata keys as a hash map does
    assert es.save(e, metadata=meta) == stt.save(t, metadata=meta)
    assert es.save(e) == stt.save(t)


def test_ember_file_loads_in_torch(torch, stt, tmp_path):
    e = _tensors(ember)
    es.save_file(e, tmp_path / "e.safetensors", metadata={"who": "ember"})
    t = stt.load_file(tmp_path / "e.safetensors")
    assert set(t) == set(e)
    for k in e:
        _same(e[k], t[k])
    with safetensors.safe_open(str(tmp_path / "e.safetensors"), framework="pt") as f:
        assert f.metadata() == {"who": "ember"}


def test_torch_file_loads_in_ember(torch, stt, tmp_path):
    t = _tensors(torch)
    stt.save_file(t, tmp_path / "t.safetensors")
    e = es.load_file(tmp_path / "t.safetensors")
    assert list(e) == list(stt.load_file(tmp_path / "t.safetensors"))  # file order, like safetensors.torch
    for k in t:
        assert isinstance(e[k], ember.Tensor)
        _same(e[k], t[k])
    e2 = es.load_file(str(tmp_path / "t.safetensors"), device=ember.device("cpu"))
    _same(e2["bfloat16"], t["bfloat16"])


def test_load_bytes_both_ways(torch, stt):
    t = _tensors(torch)
    e = es.load(stt.save(t))
    for k in t:
        _same(e[k], t[k])
    back = stt.load(es.save(e))
    for k in t:
        _same(e[k], back[k])


def test_load_order_is_file_order(stt, torch):
    t = {k: torch.ones(2, dtype=dt) for k, dt in zip("qwertyuiop", [torch.float32, torch.int8, torch.float64] * 4)}
    data = stt.save(t)
    import json
    import struct
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    by_offset = sorted((v["data_offsets"], k) for k, v in header.items() if k != "__metadata__")
    assert list(es.load(data)) == [k for _, k in by_offset]


def test_loaded_tensors_are_writable_and_independent(tmp_path):
    es.save_file({"a": ember.arange(4.0)}, tmp_path / "a.safetensors")
    a = es.load_file(tmp_path / "a.safetensors")["a"]
    a.add_(1)
    assert a.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert es.load_file(tmp_path / "a.safetensors")["a"].tolist() == [0.0, 1.0, 2.0, 3.0]
    data = es.save({"b": ember.ones(3, dtype=ember.int32)})
    b = es.load(data)["b"]
    b.mul_(7)
    assert b.tolist() == [7, 7, 7] and es.load(data)["b"].tolist() == [1, 1, 1]


def test_parameters_and_grad_tensors_save_their_data(torch, stt):
    p = ember.nn.Parameter(ember.ones(2, 2))
    r = ember.tensor([1.0, 2.0], requires_grad=True)
    out = stt.load(es.save({"p": p, "r": r}))
    assert type(out["p"]) is torch.Tensor and not out["p"].requires_grad
    assert out["p"].tolist() == [[1.0, 1.0], [1.0, 1.0]] and out["r"].tolist() == [1.0, 2.0]
    back = es.load(es.save({"p": p}))["p"]
    assert type(back) is ember.Tensor and not back.requires_grad


# ----------------------------------------------------------------------------- the checks, as safetensors.torch
def _errors(fn, torch, stt):
    res = []
    for mod, lib in ((stt, torch), (es, ember)):
        try:
            fn(mod, lib)
        except Exception as e:  # noqa: BLE001
            res.append((type(e), str(e)))
        else:
            res.append(None)
    return res


CASES = {
    "not a dict": lambda m, L: m.save([L.ones(2)]),
    "not a tensor": lambda m, L: m.save({"a": L.ones(2), "b": 3}),
    "transposed": lambda m, L: m.save({"t": L.ones(2, 3).t()}),
    "column": lambda m, L: m.save({"c": L.ones(3, 4)[:, 1]}),
    "expanded": lambda m, L: m.save({"e": L.ones(1).expand(3)}),
    "complex128": lambda m, L: m.save({"c": L.ones(2, dtype=L.complex128)}),
    "meta": lambda m, L: m.save({"m": L.empty(2, device="meta")}),
    "metadata not str": lambda m, L: m.save({"a": L.ones(2)}, metadata={"k": 1}),
    "metadata not dict": lambda m, L: m.save({"a": L.ones(2)}, metadata=[("k", "v")]),
    "key not str": lambda m, L: m.save({1: L.ones(2)}),
    "bytes not safetensors": lambda m, L: m.load(b"not a safetensors file"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_errors_match_safetensors_torch(case, torch, stt):
    t, e = _errors(CASES[case], torch, stt)
    assert t is not None and e is not None
    assert e[0] is t[0], (e, t)
    if case == "complex128":
        assert e[1] == t[1] == "torch.complex128"
    else:
        assert e[1] == t[1]


@pytest.mark.parametrize("make", [
    lambda L, a: {"a": a, "b": a[0]},
    lambda L, a: {"a": a, "b": a},
    lambda L, a: {"x": a.reshape(-1)[0:4], "y": a.reshape(-1)[3:6], "z": L.ones(2)},
    lambda L, a: {"p": a.reshape(-1)[1:2], "q": a[1], "r": a},
])
def test_shared_memory_refused_naming_the_keys(make, torch, stt):
    import ast
    groups = []
    for mod, lib in ((stt, torch), (es, ember)):
        d = make(lib, lib.arange(6.0).reshape(2, 3))
        with pytest.raises(RuntimeError, match="Some tensors share memory") as ei:
            mod.save(d)
        msg = str(ei.value)
        assert "save_model" in msg
        groups.append(ast.literal_eval(msg[msg.index("[{"): msg.index("}]") + 2]))
    t, e = groups
    # safetensors.torch stops one overlap run early when a short tensor sits inside a long one ({'p','q','r'}:
    # it names only {'p','r'}); ember names every overlapping key, so torch's keys are a subset
    assert len(e) == len(t) and all(tg <= eg for tg, eg in zip(sorted(t, key=min), sorted(e, key=min)))


def test_views_that_do_not_overlap_are_saved(torch, stt):
    a = ember.arange(6.0).reshape(2, 3)
    for d in ({"a": a[0], "b": a[1]}, {"a": a[:0], "b": a[:0]}, {"x": ember.empty(0), "y": ember.empty(0)}):
        out = stt.load(es.save(d))
        for k in d:
            assert out[k].tolist() == d[k].tolist() and out[k].shape == d[k].shape
    with pytest.raises(RuntimeError, match=r"Some tensors share memory.*\{'a', 't'\}|\{'t', 'a'\}"):
        es.save({"a": a, "t": a.t()})  # safetensors.torch fails here with a view() error instead


def test_sharing_is_found_through_dlpack_imports(torch):
    t = torch.arange(12.0).reshape(3, 4)
    a, b = ember.from_dlpack(t[0:2]), ember.from_dlpack(t[1:3])  # separate imports of overlapping memory
    # each import is its own storage (as in torch), so only sharing within one storage is refused
    out = es.load(es.save({"a": a, "b": b}))
    assert out["a"].tolist() == t[0:2].tolist() and out["b"].tolist() == t[1:3].tolist()
    with pytest.raises(RuntimeError, match="share memory"):
        es.save({"a": a, "a0": a[0]})


def test_contiguous_copies_save(stt):
    a = ember.arange(6.0).reshape(2, 3)
    out = stt.load(es.save({"a": a, "t": a.t().contiguous()}))
    assert out["t"].tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]] and out["t"].stride() == (2, 1)


def test_load_file_errors(torch, stt, tmp_path):
    with pytest.raises(FileNotFoundError):
        es.load_file(tmp_path / "missing.safetensors")
    es.save_file({"a": ember.ones(2)}, tmp_path / "a.safetensors")
    with pytest.raises(safetensors.SafetensorError, match="device meta is invalid"):
        es.load_file(tmp_path / "a.safetensors", device="meta")
    stt.save_file({"f8": torch.ones(2, dtype=torch.float8_e4m3fn)}, tmp_path / "f8.safetensors")
    with pytest.raises(TypeError, match="F8_E4M3"):
        es.load_file(tmp_path / "f8.safetensors")
    with pytest.raises(TypeError, match="F8_E4M3"):
        es.load(stt.save({"f8": torch.ones(2, dtype=torch.float8_e4m3fn)}))


def test_empty_dict_both_ways(stt):
    assert es.save({}) == stt.save({})
    assert es.load(stt.save({})) == {}


# ----------------------------------------------------------------------------- atomic writes
def test_save_file_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    es.save_file({"a": ember.arange(3.0)}, path)
    before = path.read_bytes()
    with pytest.raises(ValueError):  # refused before anything is written
        es.save_file({"t": ember.ones(2, 3).t()}, path)
    assert path.read_bytes() == before

    real = safetensors.numpy.save_file

    def crash(arrays, filename, metadata=None):
        real(arrays, filename, metadata=metadata)  # the temp file is complete ...
        raise KeyboardInterrupt  # ... but the process dies before the rename

    monkeypatch.setattr(safetensors.numpy, "save_file", crash)
    with pytest.raises(KeyboardInterrupt):
        es.save_file({"a": ember.arange(100.0)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["w.safetensors"]  # no temp file left behind
    es.save_file({"a": ember.arange(5.0)}, path)
    assert es.load_file(path)["a"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert sorted(os.listdir(tmp_path)) == ["w.safetensors"]


def test_save_file_missing_folder_like_torch(torch, stt, tmp_path):
    errs = []
    for mod, lib in ((stt, torch), (es, ember)):
        with pytest.raises(Exception) as ei:
            mod.save_file({"a": lib.ones(2)}, str(tmp_path / "no" / "such.safetensors"))
        errs.append(type(ei.value))
    assert errs[0] is errs[1] is safetensors.SafetensorError


# ----------------------------------------------------------------------------- whole models (tied weights)
def _tied(lib):
    m = lib.nn.Sequential(lib.nn.Embedding(5, 3), lib.nn.Linear(3, 5, bias=False))
    m[1].weight = m[0].weight
    with lib.no_grad():
        m[0].weight.copy_(lib.arange(15.0).reshape(5, 3) / 7)
    return m


def test_save_model_drops_tied_names_like_torch(torch, stt, tmp_path):
    e, t = _tied(ember), _tied(torch)
    with pytest.raises(RuntimeError, match="share memory"):
        es.save_file(e.state_dict(), tmp_path / "x.safetensors")
    es.save_model(e, tmp_path / "e.safetensors")
    stt.save_model(t, tmp_path / "t.safetensors")
    assert (tmp_path / "e.safetensors").read_bytes() == (tmp_path / "t.safetensors").read_bytes()
    with safetensors.safe_open(str(tmp_path / "e.safetensors"), framework="np") as f:
        assert list(f.keys()) == ["0.weight"] and f.metadata() == {"1.weight": "0.weight"}

    fresh_t = _tied(torch)
    with torch.no_grad():
        fresh_t[0].weight.zero_()
    assert stt.load_model(fresh_t, tmp_path / "e.safetensors") == (set(), [])
    assert torch.equal(fresh_t[1].weight, t[0].weight)

    fresh_e = _tied(ember)
    with ember.no_grad():
        fresh_e[0].weight.zero_()
    assert es.load_model(fresh_e, tmp_path / "t.safetensors") == (set(), [])
    _same(fresh_e[1].weight, t[0].weight)
    assert fresh_e[1].weight is fresh_e[0].weight


def test_load_model_strict_errors(tmp_path):
    es.save_model(ember.nn.Linear(2, 2), tmp_path / "lin.safetensors")
    m = ember.nn.Linear(2, 2, bias=False)
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "bias"'):
        es.load_model(m, tmp_path / "lin.safetensors")
    assert es.load_model(m, tmp_path / "lin.safetensors", strict=False) == (set(), ["bias"])
    es.save_model(ember.nn.Linear(2, 2, bias=False), tmp_path / "nob.safetensors")
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "bias"'):
        es.load_model(ember.nn.Linear(2, 2), tmp_path / "nob.safetensors")


def test_save_model_force_contiguous(torch, stt, tmp_path):
    m = ember.nn.Linear(3, 2)
    m.weight = ember.nn.Parameter(ember.ones(3, 2).t())  # a transposed (non-contiguous) parameter
    with pytest.raises(ValueError, match=r"non contiguous.*force_contiguous=True"):
        es.save_model(m, tmp_path / "nc.safetensors", force_contiguous=False)
    es.save_model(m, tmp_path / "nc.safetensors")
    assert stt.load_file(tmp_path / "nc.safetensors")["weight"].stride() == (3, 1)
