"""ember.utils.tensorboard.SummaryWriter: real event files, read back with tensorboard's own readers and
compared event by event with torch.utils.tensorboard writing the same calls."""
import glob
import io
import os
import re
import socket

import numpy as np
import pytest

import ember

tensorboard = pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing import event_accumulator as EA  # noqa: E402
from tensorboard.backend.event_processing import plugin_event_multiplexer as PEM  # noqa: E402
from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader  # noqa: E402

from ember.utils.tensorboard import SummaryWriter  # noqa: E402
from ember.utils.tensorboard import _convert  # noqa: E402

PIL = pytest.importorskip("PIL.Image")


def _decode_png(b):
    return np.asarray(PIL.open(io.BytesIO(b)))


def _events(d):
    """{run dir relative to d: [Event, ...]} with wall times zeroed and PNGs replaced by their pixels."""
    out = {}
    for f in sorted(glob.glob(os.path.join(d, "**", "events.out.tfevents.*"), recursive=True)):
        rel = os.path.relpath(os.path.dirname(f), d)
        evs = []
        for ev in LegacyEventFileLoader(f).Load():
            ev.wall_time = 0
            for v in ev.summary.value:
                if v.HasField("image") and v.image.encoded_image_string.startswith(b"\x89PNG"):
                    v.image.encoded_image_string = _decode_png(v.image.encoded_image_string).tobytes()
            evs.append(ev)
        out.setdefault(rel, []).extend(evs)
    return out


def _files(d):
    out = {}
    for f in sorted(glob.glob(os.path.join(d, "**", "*"), recursive=True)):
        if os.path.isfile(f) and "tfevents" not in f:
            rel = os.path.relpath(f, d)
            out[rel] = _decode_png(open(f, "rb").read()).tobytes() if f.endswith(".png") else open(f, "rb").read()
    return out


def _both(tmp_path, program):
    """Run ``program(lib, SummaryWriterClass, logdir)`` with torch and with ember; return both results."""
    torch = pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter
    dt, de = str(tmp_path / "torch"), str(tmp_path / "ember")
    program(torch, TorchWriter, dt)
    program(ember, SummaryWriter, de)
    return (_events(dt), _files(dt)), (_events(de), _files(de))


def _assert_same(tmp_path, program):
    (et, ft), (ee, fe) = _both(tmp_path, program)
    assert sorted(et) == sorted(ee)
    for run in et:
        assert len(et[run]) == len(ee[run]), run
        for a, b in zip(et[run], ee[run]):
            assert a == b, f"run {run!r}:\ntorch:\n{a}\nember:\n{b}"
    assert sorted(ft) == sorted(fe)
    for k in ft:
        assert ft[k] == fe[k], k


# ---------------------------------------------------------------- same events as torch
def test_scalars_match_torch(tmp_path):
    def program(T, W, d):
        with W(d) as w:
            w.add_scalar("loss", 1.5, 3)
            w.add_scalar("loss", T.tensor(2.5), 4, walltime=1.0)
            w.add_scalar("loss", T.tensor([0.25]), np.int64(5))
            w.add_scalar("np", np.float32(7.0), 6)
            w.add_scalar("int", 3)
            w.add_scalar("new", T.tensor(3.25), 5, new_style=True)
            w.add_scalar("dbl", 2, 5, new_style=True, double_precision=True)
            w.add_scalar("dbl_old", 2.5, double_precision=True)
            w.add_scalars("run", {"a": 1.0, "b": T.tensor(2.0)}, 7)
            w.add_scalars("run/x", {"a": 3.0}, 8)
    _assert_same(tmp_path, program)


def test_histograms_match_torch(tmp_path):
    def program(T, W, d):
        g = np.random.default_rng(0)
        x = g.standard_normal(500).astype(np.float32)
        with W(d) as w:
            w.add_histogram("tf", T.tensor(x), 1)
            w.add_histogram("tf64", x.astype(np.float64), 1)
            w.add_histogram("auto", T.tensor(x), 1, bins="auto")
            w.add_histogram("seven", T.tensor(x), 1, bins=7)
            w.add_histogram("maxbins", T.tensor(x), 1, bins=50, max_bins=7)
            w.add_histogram("ints", T.tensor([1, 5, 5, 9]), 2)
            w.add_histogram("one", T.tensor([3.0]), 2)
            w.add_histogram("nonc", T.tensor(x[:20].reshape(4, 5)).t(), 2)
            w.add_histogram("bool", T.tensor([True, False, True]), 2, bins=2)
            w.add_histogram_raw("raw", 0, 10, 3, 12, 50, [1, 5, 10], [1, 1, 1], 1)
    _assert_same(tmp_path, program)


def test_images_match_torch(tmp_path):
    def program(T, W, d):
        g = np.random.default_rng(1)
        im = g.random((3, 6, 5)).astype(np.float32)
        with W(d) as w:
            w.add_image("chw", T.tensor(im), 0)
            w.add_image("hwc", T.tensor(im.transpose(1, 2, 0).copy()), 0, dataformats="HWC")
            w.add_image("hw", T.tensor(im[0]), 0, dataformats="HW")
            w.add_image("wh", T.tensor(im[0]), 0, dataformats="WH")
            w.add_image("u8", T.tensor((im * 255).astype(np.uint8)), 0)
            w.add_image("gray", T.tensor(im[:1]), 0)
            w.add_image("rgba", T.tensor(g.random((4, 6, 5)).astype(np.float32)), 0)
            w.add_image("clip", T.tensor(im * 3 - 1), 0)
            w.add_image("np", im, 0)
            w.add_images("grid", T.tensor(g.random((10, 3, 4, 5)).astype(np.float32)), 0)
            w.add_images("nhwc", T.tensor(g.random((3, 4, 5, 1)).astype(np.float32)), 0, dataformats="NHWC")
            boxes = T.tensor([[2., 3, 10, 12], [5, 5, 25, 18]])
            big = T.tensor(g.random((3, 20, 30)).astype(np.float32))
            w.add_image_with_boxes("boxes", big, boxes, 0)
            w.add_image_with_boxes("labels", big, boxes, 0, labels=["cat", "dog"])
            w.add_image_with_boxes("rescale", big, boxes[:1], 0, rescale=2)
    _assert_same(tmp_path, program)


def test_text_pr_custom_tensor_audio_mesh_match_torch(tmp_path):
    def program(T, W, d):
        g = np.random.default_rng(2)
        with W(d) as w:
            w.add_text("note", "hello *world* ü", 1)
            w.add_pr_curve("pr", T.tensor(g.integers(0, 2, 50)), T.tensor(g.random(50)), 0)
            w.add_pr_curve("pr5", np.array([1, 0, 1, 1]), np.array([0.9, 0.2, 0.6, 0.4]), 0, num_thresholds=5,
                           weights=np.array([1., 2, 3, 4]))
            w.add_pr_curve("pr500", T.tensor([1, 0]), T.tensor([0.7, 0.1]), 0, num_thresholds=500)
            w.add_pr_curve_raw("prr", [3, 2], [1, 0], [0, 1], [0, 1], [0.75, 1.0], [1.0, 0.66], 2, num_thresholds=2)
            w.add_custom_scalars({"Taiwan": {"twse": ["Multiline", ["twse/0050", "twse/2330"]]},
                                  "USA": {"dow": ["Margin", ["dow/aaa", "dow/bbb", "dow/ccc"]]}})
            w.add_custom_scalars_multilinechart(["a", "b"])
            w.add_custom_scalars_marginchart(["a", "b", "c"], category="c", title="t")
            w.add_tensor("float", T.tensor(np.arange(6.).reshape(2, 3), dtype=T.float32), 1)
            w.add_tensor("double", T.tensor([1.5, 2.5], dtype=T.float64), 1)
            w.add_tensor("long", T.tensor([1, 2, 3]), 1)
            w.add_tensor("int", T.tensor([1, 2], dtype=T.int32), 1)
            w.add_tensor("bool", T.tensor([True, False]), 1)
            w.add_tensor("zero_d", T.tensor(4.0), 1)
            w.add_audio("audio", T.tensor([0.0, 0.5, -0.5, 1.0]), 2, sample_rate=8000)
            w.add_mesh("mesh", vertices=T.tensor([[[1., 1, 1], [-1, -1, 1], [1, -1, -1]]]),
                       colors=T.tensor([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], dtype=T.int32),
                       faces=T.tensor([[[0, 1, 2]]], dtype=T.int32),
                       config_dict={"camera": {"cls": "PerspectiveCamera", "fov": 75}}, global_step=1)
            w.add_mesh("cloud", vertices=T.tensor([[[1., 2, 3]]]))
    _assert_same(tmp_path, program)


def test_hparams_and_embedding_match_torch(tmp_path):
    def program(T, W, d):
        g = np.random.default_rng(3)
        with W(d) as w:
            w.add_hparams({"lr": 0.1, "bs": 4, "opt": "sgd", "flag": True, "skip": None, "t": T.tensor([0.5])},
                          {"hp/acc": 0.5, "hp/loss": T.tensor(1.25)},
                          hparam_domain_discrete={"opt": ["sgd", "adam"], "bs": [4, 8]}, run_name="hp",
                          global_step=2)
            w.add_embedding(T.tensor(g.standard_normal((4, 3)).astype(np.float32)), metadata=["a", "b", "c", "d"],
                            label_img=T.tensor(g.random((4, 3, 2, 2)).astype(np.float32)), global_step=2,
                            tag="e m/b\\c%")
            w.add_embedding(g.standard_normal((3, 2)), metadata=[[1, "x"], [2, "y"], [3, "z"]],
                            metadata_header=["num", "let"])
            w.add_embedding(T.tensor([[1, 2], [3, 4]]), metadata=T.tensor([7, 8]), global_step=5,
                            label_img=T.tensor(g.random((2, 1, 3, 2)).astype(np.float32)))
    _assert_same(tmp_path, program)


def test_purge_step_and_suffix_match_torch(tmp_path):
    def program(T, W, d):
        w = W(d, purge_step=5, filename_suffix=".sfx", comment="ignored")
        w.add_scalar("x", 1, 6)
        w.close()
    _assert_same(tmp_path, program)
    f = glob.glob(str(tmp_path / "ember" / "*"))
    assert len(f) == 1 and f[0].endswith(".sfx") and os.path.basename(f[0]).startswith("events.out.tfevents.")


# ---------------------------------------------------------------- read back as TensorBoard does
def _acc(path):
    acc = EA.EventAccumulator(path, size_guidance={EA.SCALARS: 0, EA.HISTOGRAMS: 0, EA.IMAGES: 0,
                                                   EA.TENSORS: 0, EA.AUDIO: 0})
    acc.Reload()
    return acc


def test_event_accumulator_reads_everything(tmp_path):
    d = str(tmp_path / "run1")
    w = SummaryWriter(d)
    for step in range(5):
        w.add_scalar("train/loss", ember.tensor(1.0 / (step + 1)), step)
    w.add_scalar("acc", np.float64(0.875), 10)
    vals = ember.tensor([1.0, 2.0, 2.0, 3.0, 10.0])
    w.add_histogram("weights", vals, 0, bins=4)
    w.add_image("img", ember.ones(3, 7, 9) * 0.5, 0)
    w.add_images("imgs", np.zeros((3, 1, 4, 5), np.float32), 1)
    w.add_text("notes", "some **markdown**", 2)
    w.add_audio("snd", ember.zeros(100), 0, sample_rate=16000)
    w.flush()
    acc = _acc(d)
    tags = acc.Tags()
    assert tags["scalars"] == ["train/loss", "acc"]
    got = acc.Scalars("train/loss")
    assert [e.step for e in got] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose([e.value for e in got], [1.0, 0.5, 1 / 3, 0.25, 0.2], rtol=1e-6)
    assert acc.Scalars("acc")[0].value == 0.875 and acc.Scalars("acc")[0].step == 10
    h = acc.Histograms("weights")[0].histogram_value
    assert (h.min, h.max, h.num, h.sum, h.sum_squares) == (1.0, 10.0, 5, 18.0, 118.0)
    assert list(h.bucket_limit) == [1.0, 3.25, 5.5, 7.75, 10.0]
    assert list(h.bucket) == [0, 4, 0, 0, 1]
    im = acc.Images("img")[0]
    assert (im.width, im.height) == (9, 7)
    assert (_decode_png(im.encoded_image_string) == 127).all()
    grid = acc.Images("imgs")[0]
    assert (grid.width, grid.height) == (15, 4)
    txt = acc.Tensors("notes/text_summary")[0]
    assert txt.step == 2 and txt.tensor_proto.string_val == [b"some **markdown**"]
    snd = acc.Audio("snd")[0]
    assert snd.sample_rate == 16000 and snd.length_frames == 100 and snd.content_type == "audio/wav"
    w.close()


def test_runs_listed_like_tensorboard_logdir(tmp_path):
    """The multiplexer that ``tensorboard --logdir`` uses finds the main run and each add_scalars run."""
    logdir = str(tmp_path)
    with SummaryWriter(os.path.join(logdir, "exp1")) as w:
        w.add_scalar("loss", 1.0, 0)
        w.add_scalars("cmp", {"train": 1.0, "val": 2.0}, 0)
        w.add_hparams({"lr": 0.1}, {"hp/m": 1.0}, run_name="hp")
    with SummaryWriter(os.path.join(logdir, "exp2")) as w:
        w.add_scalar("loss", 2.0, 0)
    mux = PEM.EventMultiplexer()
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    assert sorted(mux.Runs()) == ["exp1", "exp1/cmp_train", "exp1/cmp_val", "exp1/hp", "exp2"]
    assert mux.Tensors("exp1/cmp_val", "cmp")[0].tensor_proto.float_val == [2.0]
    md = mux.SummaryMetadata("exp1/hp", "_hparams_/experiment")
    assert md.plugin_data.plugin_name == "hparams"
    from tensorboard.plugins.hparams import plugin_data_pb2
    data = plugin_data_pb2.HParamsPluginData.FromString(md.plugin_data.content)
    assert [h.name for h in data.experiment.hparam_infos] == ["lr"]
    assert [m.name.tag for m in data.experiment.metric_infos] == ["hp/m"]


def test_embedding_projector_files(tmp_path):
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
    w = SummaryWriter(str(tmp_path))
    w.add_embedding(ember.tensor([[1.0, 2.0], [3.0, 4.5], [5.0, 6.0]]), metadata=["x", "y", "z"],
                    label_img=ember.ones(3, 3, 4, 4), global_step=7, tag="feat")
    w.close()
    cfg = text_format.Parse((tmp_path / "projector_config.pbtxt").read_text(), ProjectorConfig())
    (e,) = cfg.embeddings
    assert e.tensor_name == "feat:00007"
    assert e.tensor_path == "00007/feat/tensors.tsv" and e.metadata_path == "00007/feat/metadata.tsv"
    assert list(e.sprite.single_image_dim) == [4, 4]
    assert (tmp_path / e.tensor_path).read_text() == "1.0\t2.0\n3.0\t4.5\n5.0\t6.0\n"
    assert (tmp_path / e.metadata_path).read_text() == "x\ny\nz\n"
    sprite = _decode_png((tmp_path / e.sprite.image_path).read_bytes())
    assert sprite.shape == (8, 8, 3)           # 2 x 2 cells of 4 x 4, the 4th cell empty
    assert (sprite[:4] == 255).all() and (sprite[4:, :4] == 255).all() and (sprite[4:, 4:] == 0).all()


# ---------------------------------------------------------------- writer behaviour
def test_default_logdir_comment_and_reopen(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_lr0.1")
    logdir = w.get_logdir()
    assert re.fullmatch(r"runs/[A-Z][a-z]{2}\d\d_\d\d-\d\d-\d\d_" + re.escape(socket.gethostname()) + "_lr0.1",
                        logdir)
    w.add_scalar("a", 1.0, 0)
    w.close()
    w.close()  # closing twice is fine
    w.add_scalar("a", 2.0, 1)  # a closed writer reopens a new event file, as torch's does
    w.flush()
    w.close()
    files = glob.glob(os.path.join(logdir, "events.out.tfevents.*"))
    assert len(files) == 2
    acc = _acc(logdir)
    assert [(e.step, e.value) for e in acc.Scalars("a")] == [(0, 1.0), (1, 2.0)]


def test_context_manager_flushes_and_closes(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        w.add_scalar("x", 3.0, 1)
    assert w.all_writers is None and w.file_writer is None
    assert _acc(str(tmp_path)).Scalars("x")[0].value == 3.0


def test_accepts_non_contiguous_and_grad_tensors(tmp_path):
    x = ember.arange(12.0).reshape(3, 4).t()
    y = ember.ones(2, requires_grad=True) * 2
    with SummaryWriter(str(tmp_path)) as w:
        w.add_histogram("h", x, 0, bins=3)
        w.add_scalar("s", y.sum(), 0)
        w.add_image("i", x / 11, 0, dataformats="HW")
    acc = _acc(str(tmp_path))
    assert acc.Histograms("h")[0].histogram_value.num == 12
    assert acc.Scalars("s")[0].value == 4.0
    assert _decode_png(acc.Images("i")[0].encoded_image_string).shape == (4, 3, 3)


def test_errors(tmp_path):
    w = SummaryWriter(str(tmp_path))
    with pytest.raises(AssertionError, match="Tensor should contain one element"):
        w.add_scalar("a", ember.ones(3))
    with pytest.raises(ValueError, match="could not convert string to float"):
        w.add_scalar("a", "x")
    with pytest.raises(NotImplementedError, match="numpy array or torch tensor are expected"):
        w.add_image("i", [[1.0]], dataformats="HW")
    with pytest.raises(AssertionError, match="size of input tensor and input format are different"):
        w.add_image("i", np.ones((4, 5)), dataformats="CHW")
    with pytest.raises(ValueError):
        w.add_image("i", np.ones((3, 4, 5)), dataformats="XYZ")
    with pytest.raises(ValueError, match="The input has no element"):
        w.add_histogram("h", ember.tensor([]))
    with pytest.raises(TypeError, match="hparam_dict and metric_dict should be dictionary"):
        w.add_hparams([1], {})
    with pytest.raises(ValueError, match="value should be one of int, float, str, bool, or torch.Tensor"):
        w.add_hparams({"a": [1]}, {"m": 1})
    with pytest.raises(AssertionError, match="#labels should equal with #data points"):
        w.add_embedding(np.ones((3, 2)), metadata=["a"])
    with pytest.raises(AssertionError, match="input tensor should be 1 dimensional"):
        w.add_audio("a", ember.rand(2, 100) * 0.5)
    with pytest.raises(RuntimeError, match="add_graph needs ember's tracer, which is not available yet"):
        w.add_graph(ember.nn.Linear(2, 2), ember.ones(1, 2))
    w.close()


def test_stdlib_png_matches_pillow(tmp_path, monkeypatch):
    g = np.random.default_rng(4)
    for c in (1, 2, 3, 4):
        img = (g.random((7, 5, c)) * 255).astype(np.uint8)
        png = _convert.encode_png_stdlib(img)
        back = _decode_png(png)
        assert np.array_equal(back.reshape(img.shape), img)
    # and the writer falls back to it when Pillow is missing
    monkeypatch.setattr(_convert, "_pil", lambda: None)
    img = g.random((3, 6, 5)).astype(np.float32)
    with SummaryWriter(str(tmp_path)) as w:
        w.add_image("i", ember.tensor(img), 0)
        w.add_image("r", ember.tensor(img), 0)
        w.add_image_with_boxes("b", ember.tensor(img), ember.tensor([[1.0, 1.0, 3.0, 4.0]]), 0)
    acc = _acc(str(tmp_path))
    got = _decode_png(acc.Images("i")[0].encoded_image_string)
    assert np.array_equal(got, (img.transpose(1, 2, 0) * 255).clip(0, 255).astype(np.uint8))
    boxed = _decode_png(acc.Images("b")[0].encoded_image_string)
    assert (boxed[1, 1] == [255, 0, 0]).all() and (boxed[4, 3] == [255, 0, 0]).all()


def test_video_is_an_animated_gif(tmp_path):
    vid = np.random.default_rng(5).random((3, 4, 3, 8, 6)).astype(np.float32)  # N T C H W
    with SummaryWriter(str(tmp_path)) as w:
        w.add_video("v", ember.tensor(vid), 0, fps=5)
    img = _acc(str(tmp_path)).Images("v")[0]
    # 3 clips padded to 4 and tiled 2 x 2
    assert (img.height, img.width) == (16, 12)
    gif = PIL.open(io.BytesIO(img.encoded_image_string))
    assert gif.format == "GIF" and gif.n_frames == 4


def test_add_figure(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figs = []
    for _ in range(2):
        fig = plt.figure(figsize=(2, 1), dpi=50)
        plt.plot([0, 1], [1, 0])
        figs.append(fig)
    with SummaryWriter(str(tmp_path)) as w:
        w.add_figure("one", figs[0], 0, close=False)
        w.add_figure("two", figs, 1)
    acc = _acc(str(tmp_path))
    assert (acc.Images("one")[0].width, acc.Images("one")[0].height) == (100, 50)
    assert (acc.Images("two")[0].width, acc.Images("two")[0].height) == (200, 50)
    assert not plt.get_fignums()


# ---------------------------------------------------------------- tqdm works with ember objects
def test_tqdm_over_tensors_and_loaders():
    tqdm = pytest.importorskip("tqdm")
    out = io.StringIO()
    t = ember.arange(6.0).reshape(3, 2)
    rows = list(tqdm.tqdm(t, file=out))
    assert len(rows) == 3 and rows[1].tolist() == [2.0, 3.0]
    loader = ember.utils.data.DataLoader(ember.utils.data.TensorDataset(ember.arange(10.0)), batch_size=4)
    bar = tqdm.tqdm(loader, file=out)
    assert bar.total == 3
    seen = 0
    for (xb,) in bar:
        seen += xb.shape[0]
        bar.set_postfix(loss=xb.sum().item(), t=xb.mean())
    assert seen == 10
    assert "loss=" in out.getvalue() and "loss=17, t=tensor(8.5000)]" in out.getvalue()
