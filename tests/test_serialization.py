"""ember.save / ember.load: torch's format both ways, safety against hostile files, atomic saves."""
import io
import os
import pickle
import random
import signal
import struct
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

import ember
from ember.serialization import UnpicklingError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _np(t):
    return t.detach().cpu().numpy()


# ----------------------------------------------------------------------------- round trips
DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool",
          "complex64", "complex128"]


def _sample(lib, dtype):
    d = getattr(lib, dtype)
    base = lib.arange(12).reshape(3, 4)
    if dtype == "bool":
        return (base % 2 == 0).to(d)
    return base.to(d)


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_to_ember_every_dtype(torch, tmp_path, dtype):
    t = _sample(torch, dtype)
    obj = {"full": t, "view": t[:, 1:3], "t": t.t(), "scalar": t[1, 2].clone(), "empty": t[:0]}
    torch.save(obj, tmp_path / "a.pt")
    e = ember.load(tmp_path / "a.pt")
    for k in obj:
        assert e[k].dtype == getattr(ember, dtype)
        assert tuple(e[k].shape) == tuple(obj[k].shape)
        assert e[k].stride() == obj[k].stride(), k
        assert e[k].storage_offset() == obj[k].storage_offset(), k
        ref = obj[k].float().numpy() if dtype == "bfloat16" else obj[k].numpy()
        got = e[k].float().numpy() if dtype == "bfloat16" else e[k].numpy()
        np.testing.assert_array_equal(got, ref)
    # views of one storage stay one storage, as in torch
    assert e["view"].untyped_storage() is e["full"].untyped_storage()
    e["full"][0, 1] = 0 if dtype != "bool" else False
    assert e["view"][0, 0].item() == e["full"][0, 1].item()


@pytest.mark.parametrize("dtype", DTYPES + ["uint16", "uint32", "uint64"])
def test_ember_to_torch_every_dtype(torch, tmp_path, dtype):
    e = ember.ones(3, 4, dtype=getattr(ember, dtype)) if dtype.startswith("uint") and dtype != "uint8" else \
        _sample(ember, dtype)
    obj = {"full": e, "view": e.narrow(1, 1, 2), "t": e.t(), "empty": e.narrow(0, 0, 0)}
    ember.save(obj, tmp_path / "b.pt")
    t = torch.load(tmp_path / "b.pt", weights_only=True)
    for k in obj:
        assert str(t[k].dtype) == "torch." + dtype
        assert t[k].stride() == obj[k].stride()
        assert t[k].storage_offset() == obj[k].storage_offset()
        ref = obj[k].float().numpy() if dtype in ("bfloat16",) else obj[k].numpy()
        got = t[k].float().numpy() if dtype in ("bfloat16",) else t[k].numpy()
        np.testing.assert_array_equal(got, ref)
    assert t["view"].untyped_storage().data_ptr() == t["full"].untyped_storage().data_ptr()


def test_python_values_round_trip_both_ways(torch, tmp_path):
    e = {"ints": [1, -2, 3], "f": 2.5, "s": "text", "b": b"\x00\xff", "none": None, "t": (True, False),
         "size": ember.Size([2, 3]), "dtype": ember.float16, "dev": ember.device("cpu"), "set": {1, 2},
         "nested": {"a": {"b": [ember.tensor([1.5])]}}}
    ember.save(e, tmp_path / "c.pt")
    t = torch.load(tmp_path / "c.pt", weights_only=True)
    assert t["size"] == torch.Size([2, 3]) and t["dtype"] is torch.float16 and t["dev"] == torch.device("cpu")
    assert t["b"] == b"\x00\xff" and t["set"] == {1, 2} and t["nested"]["a"]["b"][0].item() == 1.5
    torch.save(t, tmp_path / "d.pt")
    back = ember.load(tmp_path / "d.pt")
    assert back["size"] == ember.Size([2, 3]) and back["dtype"] is ember.float16
    assert back["ints"] == [1, -2, 3] and back["t"] == (True, False) and back["s"] == "text"


def test_parameter_and_requires_grad(torch, tmp_path):
    p = ember.nn.Parameter(ember.ones(2, 2))
    r = ember.tensor([1.0, 2.0], requires_grad=True)
    ember.save({"p": p, "r": r}, tmp_path / "p.pt")
    t = torch.load(tmp_path / "p.pt")
    assert isinstance(t["p"], torch.nn.Parameter) and t["r"].requires_grad
    back = ember.load(tmp_path / "p.pt")
    assert isinstance(back["p"], ember.nn.Parameter) and back["r"].requires_grad


def test_file_like_and_map_location(tmp_path):
    buf = io.BytesIO()
    ember.save({"x": ember.arange(5)}, buf)
    buf.seek(0)
    assert ember.load(buf, map_location="cpu")["x"].tolist() == [0, 1, 2, 3, 4]
    buf.seek(0)
    assert ember.load(buf, map_location={"cpu": "cpu"})["x"].sum().item() == 10
    buf.seek(0)
    assert ember.load(buf, map_location=lambda storage, loc: None)["x"].numel() == 5


def test_mmap_load_shares_file(tmp_path):
    ember.save({"w": ember.arange(1000.0)}, tmp_path / "m.pt")
    w = ember.load(tmp_path / "m.pt", mmap=True)["w"]
    assert w[999].item() == 999.0
    with pytest.raises(ValueError):
        ember.load(io.BytesIO(b""), mmap=True)


def test_records_are_aligned(tmp_path):
    ember.save({"a": ember.ones(3), "b": ember.zeros(7, dtype=ember.int8)}, tmp_path / "al.pt")
    raw = (tmp_path / "al.pt").read_bytes()
    z = zipfile.ZipFile(tmp_path / "al.pt")
    names = z.namelist()
    assert names[0] == "al/data.pkl" and "al/version" in names and "al/byteorder" in names
    for info in z.infolist():
        off = info.header_offset
        n, m = struct.unpack("<HH", raw[off + 26: off + 30])
        assert (off + 30 + n + m) % 64 == 0, info.filename


# ----------------------------------------------------------------------------- hostile files
def _archive(pkl, records=None, name="archive", version=True, compress=False, extra_names=()):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        if pkl is not None:
            z.writestr(f"{name}/data.pkl", pkl)
        if version:
            z.writestr(f"{name}/version", b"3\n")
        for k, v in (records or {}).items():
            z.writestr(f"{name}/data/{k}", v)
        for n in extra_names:
            z.writestr(n, b"x")
    return buf.getvalue()


class _Reduce:
    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


def _sentinel_cases(sentinel):
    import builtins
    import runpy
    import subprocess as sp
    import webbrowser
    code = f"open({str(sentinel)!r}, 'w').write('ran')"
    touch = f"touch {sentinel}"
    cases = {
        "os.system": (os.system, (touch,)),
        "posix.system": (__import__("posix").system, (touch,)),
        "subprocess.Popen": (sp.Popen, (["touch", str(sentinel)],)),
        "subprocess.call": (sp.call, (["touch", str(sentinel)],)),
        "builtins.eval": (builtins.eval, (code,)),
        "builtins.exec": (builtins.exec, (code,)),
        "builtins.getattr": (builtins.getattr, (os, "system")),
        "builtins.__import__": (builtins.__import__, ("os",)),
        "builtins.compile": (builtins.compile, (code, "x", "exec")),
        "builtins.open": (builtins.open, (str(sentinel), "w")),
        "runpy._run_code": (runpy._run_code, (code, {})),
        "webbrowser.open": (webbrowser.open, ("file://" + str(sentinel),)),
        "os.remove": (os.remove, (str(sentinel) + ".nope",)),
        "shutil.rmtree": (__import__("shutil").rmtree, (str(sentinel) + ".nope",)),
        "pickle.loads": (pickle.loads, (pickle.dumps(_Reduce(builtins.exec, (code,))),)),
    }
    return cases


def _pickles(sentinel):
    """(name, data.pkl bytes) for every payload, in GLOBAL (protocol 2) and STACK_GLOBAL (protocol 4) form."""
    out = []
    for name, (fn, args) in _sentinel_cases(sentinel).items():
        for proto in (2, 4):
            try:
                out.append((f"{name}-p{proto}", pickle.dumps({"w": _Reduce(fn, args)}, protocol=proto)))
            except Exception:  # some callables cannot be pickled by reference on this platform
                pass
    code = f"open({str(sentinel)!r}, 'w').write('ran')".encode()
    # hand-written opcodes: INST, OBJ, NEWOBJ and BUILD on arbitrary classes
    out.append(("INST", b"\x80\x02(X" + struct.pack("<I", len(code)) + code + b"ibuiltins\nexec\n."))
    out.append(("OBJ", b"\x80\x02(cbuiltins\nexec\nX" + struct.pack("<I", len(code)) + code + b"o."))
    out.append(("NEWOBJ", b"\x80\x02csubprocess\nPopen\n(]X\x05\x00\x00\x00touchX" +
                struct.pack("<I", len(str(sentinel))) + str(sentinel).encode() + b"\x87\x85\x81."))
    out.append(("BUILD-on-class", b"\x80\x02cos\n_wrap_close\n)\x81}X\x04\x00\x00\x00testK\x01sb."))
    out.append(("GLOBAL-torch-lookalike", b"\x80\x02ctorch._utils\nsystem\n."))
    out.append(("GLOBAL-os-in-list", b"\x80\x02]cos\nsystem\na."))
    return out


def _run_load(data, sentinel):
    try:
        obj = ember.load(io.BytesIO(data))
    except (UnpicklingError, RuntimeError) as e:
        assert str(e), "errors must say what was wrong"
        obj = e
    time.sleep(0.01)
    assert not os.path.exists(sentinel), "code from the file ran"
    return obj


def test_hostile_pickles_execute_nothing(tmp_path):
    sentinel = tmp_path / "SENTINEL"
    cases = _pickles(sentinel)
    assert len(cases) >= 30
    for name, pkl in cases:
        res = _run_load(_archive(pkl), sentinel)
        assert isinstance(res, Exception), f"{name}: a hostile pickle loaded"


def test_nested_pickle_inside_bytes_stays_bytes(tmp_path):
    sentinel = tmp_path / "SENTINEL"
    inner = pickle.dumps(_Reduce(os.system, (f"touch {sentinel}",)))
    res = _run_load(_archive(pickle.dumps({"blob": inner}, protocol=2)), sentinel)
    assert res == {"blob": inner}


def test_fickling_injected_checkpoints(torch, tmp_path):
    fickle = pytest.importorskip("fickling.fickle")
    sentinel = tmp_path / "SENTINEL"
    model = torch.nn.Linear(3, 2)
    torch.save(model.state_dict(), tmp_path / "real.pt")
    z = zipfile.ZipFile(tmp_path / "real.pt")
    prefix = z.namelist()[0].split("/")[0]
    for i, (mode, call) in enumerate([("exec", "insert_python_exec"), ("eval", "insert_python_eval")]):
        for run_first in (True, False):
            p = fickle.Pickled.load(z.read(f"{prefix}/data.pkl"))
            getattr(p, call)(f"open({str(sentinel)!r}, 'w').write('ran')" if mode == "exec" else
                             f"__import__('os').system('touch {sentinel}')", run_first=run_first)
            out = tmp_path / f"evil{i}{run_first}.pt"
            with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as w:
                for n in z.namelist():
                    w.writestr(n, p.dumps() if n.endswith("data.pkl") else z.read(n))
            with pytest.raises(UnpicklingError):
                ember.load(out)
            assert not sentinel.exists()
    # the untouched checkpoint still loads
    sd = ember.load(tmp_path / "real.pt")
    np.testing.assert_array_equal(sd["weight"].numpy(), model.weight.detach().numpy())


def _tensor_pkl(offset, size, stride, numel, storage="FloatStorage", key="0", proto_extra=b""):
    """A data.pkl for one tensor with the given geometry, written opcode by opcode."""
    def tup(xs):
        return b"(" + b"".join(b"J" + struct.pack("<i", x) for x in xs) + b"t"
    return (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(" +
            b"(X\x07\x00\x00\x00storagectorch\n" + storage.encode() + b"\nX" + struct.pack("<I", len(key)) +
            key.encode() + b"X\x03\x00\x00\x00cpuJ" + struct.pack("<i", numel) + b"tQ" +
            b"J" + struct.pack("<i", offset) + tup(size) + tup(stride) + b"\x89ccollections\nOrderedDict\n)R" +
            b"tR" + proto_extra + b".")


STRUCTURAL = {
    "offset past end": (_tensor_pkl(10, [2], [1], 4), {"0": b"\0" * 16}),
    "stride reads past end": (_tensor_pkl(0, [2, 2], [4, 1], 4), {"0": b"\0" * 16}),
    "negative offset": (_tensor_pkl(-1, [2], [1], 4), {"0": b"\0" * 16}),
    "negative stride": (_tensor_pkl(0, [2], [-1], 4), {"0": b"\0" * 16}),
    "huge claimed numel": (_tensor_pkl(0, [2], [1], 2 ** 31 - 1), {"0": b"\0" * 16}),
    "record shorter than numel": (_tensor_pkl(0, [4], [1], 4), {"0": b"\0" * 12}),
    "dtype size mismatch": (_tensor_pkl(0, [3], [1], 3, "DoubleStorage"), {"0": b"\0" * 12}),
    "unknown storage type": (_tensor_pkl(0, [1], [1], 1, "EvilStorage"), {"0": b"\0" * 4}),
    "missing storage record": (_tensor_pkl(0, [1], [1], 1, key="7"), {"0": b"\0" * 4}),
    "path in storage key": (_tensor_pkl(0, [1], [1], 1, key="../0"), {"0": b"\0" * 4}),
}


@pytest.mark.parametrize("name", list(STRUCTURAL))
def test_structural_attacks(name, tmp_path):
    pkl, records = STRUCTURAL[name]
    with pytest.raises((UnpicklingError, RuntimeError)) as ei:
        ember.load(io.BytesIO(_archive(pkl, records)))
    assert "checkpoint" in str(ei.value) or "not" in str(ei.value)


def test_geometry_check_accepts_valid_file():
    good = _archive(_tensor_pkl(1, [2, 2], [2, 1], 5), {"0": np.arange(5, dtype=np.float32).tobytes()})
    t = ember.load(io.BytesIO(good))
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def _bad_archives():
    ok = pickle.dumps({"a": 1}, protocol=2)
    buf = io.BytesIO(_archive(ok))
    return {
        "truncated zip": buf.getvalue()[: len(buf.getvalue()) // 2],
        "not a zip": b"\x80\x02}q\x00.",
        "empty file": b"",
        "dot-dot entry": _archive(ok, extra_names=("archive/../../etc/evil",)),
        "missing data.pkl": _archive(None),
        "missing version": _archive(ok, version=False),
        "compressed bomb": _archive(b"\x80\x02]" + b"K\x01a" * 200000 + b".", compress=True),
        "protocol 5 buffers": _archive(b"\x80\x05\x97."),
        "SETITEM on a list": _archive(b"\x80\x02]K\x01K\x02s."),
        "deep recursion": _archive(b"\x80\x02" + b"]" * 100000 + b"a" * 99999 + b"."),
        "persistent id not storage": _archive(b"\x80\x02(X\x03\x00\x00\x00evilK\x01tQ."),
    }


@pytest.mark.parametrize("name", list(_bad_archives()))
def test_malformed_archives(name, tmp_path):
    data = _bad_archives()[name]
    with pytest.raises((UnpicklingError, RuntimeError)) as ei:
        ember.load(io.BytesIO(data))
    assert len(str(ei.value)) > 10


def test_weights_only_false_must_be_asked(tmp_path):
    class Cfg:
        pass
    import builtins
    obj = {"cfg": _Reduce(builtins.dict, ([("lr", 0.1)],))}
    ember.save(obj, tmp_path / "o.pt")
    with pytest.raises(UnpicklingError):
        ember.load(tmp_path / "o.pt")
    assert ember.load(tmp_path / "o.pt", weights_only=False)["cfg"] == {"lr": 0.1}
    with ember.serialization.safe_globals([builtins.dict]):
        assert ember.load(tmp_path / "o.pt")["cfg"] == {"lr": 0.1}
    with pytest.raises(UnpicklingError):
        ember.load(tmp_path / "o.pt")


def test_force_weights_only_env(tmp_path, monkeypatch):
    import builtins
    ember.save({"cfg": _Reduce(builtins.dict, ([("a", 1)],))}, tmp_path / "e.pt")
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    assert ember.load(tmp_path / "e.pt")["cfg"] == {"a": 1}
    monkeypatch.setenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(UnpicklingError):
        ember.load(tmp_path / "e.pt", weights_only=False)


# ----------------------------------------------------------------------------- atomic saves
_CHILD = r"""
import sys, numpy as np
sys.path.insert(0, {repo!r})
import ember
x = ember.from_numpy(np.full(2_000_000, 2.0, dtype=np.float32))
print("ready", flush=True)
while True:
    ember.save({{"v": x, "tag": "new"}}, {path!r})
"""


def test_kill_during_save_keeps_a_whole_checkpoint(tmp_path):
    path = str(tmp_path / "ckpt.pt")
    ember.save({"v": ember.ones(2_000_000), "tag": "old"}, path)
    rng = random.Random(0)
    seen = set()
    for _ in range(20):
        p = subprocess.Popen([sys.executable, "-c", _CHILD.format(repo=REPO, path=path)], stdout=subprocess.PIPE)
        assert p.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.15))
        p.send_signal(signal.SIGKILL)
        p.wait()
        p.stdout.close()
        ck = ember.load(path)
        seen.add(ck["tag"])
        assert ck["v"].shape == (2_000_000,)
        assert ck["v"][-1].item() == (1.0 if ck["tag"] == "old" else 2.0)
        assert ck["v"].sum().item() == (2_000_000.0 if ck["tag"] == "old" else 4_000_000.0)
    leftovers = [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    assert len(leftovers) <= 20  # killed writers may leave temp files, never a torn checkpoint
