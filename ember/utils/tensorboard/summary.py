"""Summary protobufs (tensorboard's own message classes) built from ember tensors and NumPy arrays."""
import json

import numpy as np
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto

from ..._tensor import Tensor
from ._convert import convert_to_HWC, draw_boxes, encode_gif, encode_png, encode_wav, make_np, \
    prepare_video, to_uint8

__all__ = ["scalar", "tensor_proto", "histogram", "histogram_raw", "make_histogram", "image",
           "image_boxes", "video", "audio", "text", "custom_scalars", "pr_curve", "pr_curve_raw",
           "compute_curve", "hparams", "mesh", "default_bins"]


def _plugin(name, content=b""):
    return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=name, content=content))


def _shape(shape):
    return TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(s)) for s in shape])


# ---------------------------------------------------------------- scalars and raw tensors
def scalar(name, value, collections=None, new_style=False, double_precision=False):
    """A scalar summary: ``simple_value`` (classic) or a scalars-plugin tensor (``new_style``)."""
    t = type(value)
    if t is float or t is int:  # the common cases (a number, a loss tensor) skip the NumPy round trip
        v = float(value)
    elif t is Tensor and value.numel() == 1:
        v = float(value.item())
    else:
        arr = make_np(value).squeeze()
        if arr.ndim != 0:
            raise AssertionError(f"Tensor should contain one element (0 dimensions).             "
                                 f"Was given size: {arr.size} and {arr.ndim} dimensions.")
        v = float(arr)
    if not new_style:
        return Summary(value=[Summary.Value(tag=name, simple_value=v)])
    if double_precision:
        t = TensorProto(double_val=[v], dtype="DT_DOUBLE")
    else:
        t = TensorProto(float_val=[v], dtype="DT_FLOAT")
    return Summary(value=[Summary.Value(tag=name, tensor=t, metadata=_plugin("scalars"))])


# NumPy kind/size -> (TensorProto dtype, repeated field, Python conversion)
def _tensor_fields(arr):
    k, n = arr.dtype.kind, arr.dtype.itemsize
    if k == "b":
        return "DT_BOOL", "bool_val", arr.astype(bool)
    if k == "f":
        if n == 2:  # half_val carries the raw IEEE-754 bits
            return "DT_HALF", "half_val", arr.astype(np.float16).view(np.uint16).astype(np.int64)
        if n == 8:
            return "DT_DOUBLE", "double_val", arr
        return "DT_FLOAT", "float_val", arr.astype(np.float32)
    if k == "c":
        ri = np.stack([arr.real, arr.imag], axis=-1)
        return ("DT_COMPLEX128", "dcomplex_val", ri) if n == 16 else ("DT_COMPLEX64", "scomplex_val", ri)
    if k in "iu":
        if n == 8 and k == "i":
            return "DT_INT64", "int64_val", arr
        if n == 8:
            return "DT_UINT64", "uint64_val", arr
        if n == 4 and k == "u":
            return "DT_UINT32", "uint32_val", arr
        return {("i", 1): "DT_INT8", ("u", 1): "DT_UINT8", ("i", 2): "DT_INT16", ("u", 2): "DT_UINT16",
                ("i", 4): "DT_INT32"}[(k, n)], "int_val", arr.astype(np.int64)
    raise TypeError(f"tensor of dtype {arr.dtype} can not be logged")


def tensor_proto(tag, tensor):
    """A raw tensor summary (the "tensor" plugin): dtype and shape kept, values in the typed field."""
    arr = make_np(tensor) if not isinstance(tensor, np.ndarray) else tensor
    dt, field, vals = _tensor_fields(np.asarray(arr))
    t = TensorProto(dtype=dt, tensor_shape=_shape(arr.shape))
    getattr(t, field).extend(np.asarray(vals).reshape(-1).tolist())
    return Summary(value=[Summary.Value(tag=tag, tensor=t, metadata=_plugin("tensor"))])


# ---------------------------------------------------------------- histograms
def default_bins():
    """TensorFlow's default histogram edges: +-1e-12 growing by 1.1 up to 1e20, and 0 between."""
    pos = []
    v = 1e-12
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    return [-x for x in reversed(pos)] + [0.0] + pos


def histogram_raw(name, min, max, num, sum, sum_squares, bucket_limits, bucket_counts):
    """A histogram summary from precomputed statistics and buckets."""
    h = HistogramProto(min=min, max=max, num=num, sum=sum, sum_squares=sum_squares,
                       bucket_limit=bucket_limits, bucket=bucket_counts)
    return Summary(value=[Summary.Value(tag=name, histo=h)])


def make_histogram(values, bins, max_bins=None):
    """HistogramProto of ``values`` over ``bins`` (edges, a count or a NumPy rule name).

    TensorBoard stores only right edges, so the kept range gets one empty bucket on its left; empty
    buckets before the first and after the last non-empty one are dropped."""
    values = values.reshape(-1)
    counts, edges = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        k = len(counts) // max_bins  # merge runs of k buckets
        pad = (-len(counts)) % k
        counts = np.concatenate([counts, np.zeros(pad, counts.dtype)]).reshape(-1, k).sum(axis=1)
        edges = np.concatenate([edges[:-1:k], edges[-1:]])
    nz = np.flatnonzero(counts)
    if nz.size == 0:
        raise ValueError("The histogram is empty, please file a bug report.")
    first, last = int(nz[0]), int(nz[-1])
    lead = counts[first - 1:first] if first > 0 else np.zeros(1, counts.dtype)
    counts = np.concatenate([lead, counts[first:last + 1]])
    limits = edges[first:last + 2]
    return HistogramProto(min=values.min(), max=values.max(), num=len(values), sum=values.sum(),
                          sum_squares=values.dot(values), bucket_limit=limits.tolist(),
                          bucket=counts.tolist())


def histogram(name, values, bins, max_bins=None):
    """A histogram summary of ``values``."""
    values = make_np(values)
    if values.size == 0:
        raise ValueError("The input has no element.")
    # statistics and rule-based edges in float64 whatever the input dtype (bool and int included)
    return Summary(value=[Summary.Value(tag=name, histo=make_histogram(values.astype(float), bins, max_bins))])


# ---------------------------------------------------------------- images, video, audio
def _image_proto(img_hwc, rescale=1):
    h, w, c = img_hwc.shape
    return Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=encode_png(img_hwc, rescale))


def image(tag, tensor, rescale=1, dataformats="NCHW"):
    """An image summary (PNG) of one image or an NCHW/NHWC batch laid out as a grid."""
    img = to_uint8(convert_to_HWC(make_np(tensor), dataformats))
    return Summary(value=[Summary.Value(tag=tag, image=_image_proto(img, rescale))])


def image_boxes(tag, tensor_image, tensor_boxes, rescale=1, dataformats="CHW", labels=None):
    """An image summary with boxes (N x 4: xmin, ymin, xmax, ymax in pixels) drawn on it."""
    img = to_uint8(convert_to_HWC(make_np(tensor_image), dataformats))
    boxes = make_np(tensor_boxes)
    if boxes.ndim == 1 and boxes.size == 4:
        boxes = boxes.reshape(1, 4)
    if labels is not None:
        if isinstance(labels, str):
            labels = [labels]
        if len(labels) != boxes.shape[0]:
            labels = None  # a mismatched label list is dropped, the boxes are still drawn
    img = draw_boxes(img[:, :, :3], boxes, labels)
    return Summary(value=[Summary.Value(tag=tag, image=_image_proto(img, rescale))])


def video(tag, tensor, fps=4):
    """A video summary: (N, T, C, H, W) clips as one animated GIF."""
    v = make_np(tensor)
    if v.ndim != 5:
        raise AssertionError(f"video should be 5D (N, T, C, H, W), got shape {v.shape}")
    frames = to_uint8(prepare_video(v))
    t, h, w, c = frames.shape
    return Summary(value=[Summary.Value(tag=tag, image=Summary.Image(
        height=h, width=w, colorspace=c, encoded_image_string=encode_gif(frames, fps)))])


def audio(tag, tensor, sample_rate=44100):
    """An audio summary: 1-D samples in [-1, 1] as 16-bit mono WAV."""
    a = make_np(tensor).squeeze()
    if np.abs(a).max(initial=0) > 1:
        print("warning: audio amplitude out of range, auto clipped.")
        a = a.clip(-1, 1)
    if a.ndim != 1:
        raise AssertionError("input tensor should be 1 dimensional.")
    wav = encode_wav(a, sample_rate)
    return Summary(value=[Summary.Value(tag=tag, audio=Summary.Audio(
        sample_rate=sample_rate, num_channels=1, length_frames=a.shape[0], encoded_audio_string=wav,
        content_type="audio/wav"))])


# ---------------------------------------------------------------- text, layouts, curves
def text(tag, text):
    """A text summary (markdown), tagged ``<tag>/text_summary`` like torch."""
    from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData
    content = TextPluginData(version=0).SerializeToString()
    t = TensorProto(dtype="DT_STRING", string_val=[text.encode("utf_8")], tensor_shape=_shape([1]))
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=_plugin("text", content), tensor=t)])


def custom_scalars(layout):
    """The custom-scalars layout: {category: {chart title: ["Multiline"|"Margin", tags]}}."""
    from tensorboard.plugins.custom_scalar import layout_pb2
    categories = []
    for title, charts in layout.items():
        cs = []
        for chart_title, (kind, tags) in charts.items():
            if kind == "Margin":
                if len(tags) != 3:
                    raise AssertionError("a Margin chart takes 3 tags: value, lower, upper")
                series = layout_pb2.MarginChartContent.Series(value=tags[0], lower=tags[1], upper=tags[2])
                cs.append(layout_pb2.Chart(title=chart_title,
                                           margin=layout_pb2.MarginChartContent(series=[series])))
            else:
                cs.append(layout_pb2.Chart(title=chart_title,
                                           multiline=layout_pb2.MultilineChartContent(tag=tags)))
        categories.append(layout_pb2.Category(title=title, chart=cs))
    lay = layout_pb2.Layout(category=categories)
    t = TensorProto(dtype="DT_STRING", string_val=[lay.SerializeToString()], tensor_shape=TensorShapeProto())
    return Summary(value=[Summary.Value(tag="custom_scalars__config__", tensor=t,
                                        metadata=_plugin("custom_scalars"))])


_MIN_COUNT = 1e-7  # keeps precision/recall finite where nothing is predicted positive


def compute_curve(labels, predictions, num_thresholds=None, weights=None):
    """TP, FP, TN, FN, precision and recall at ``num_thresholds`` evenly spaced thresholds in [0, 1]."""
    w = 1.0 if weights is None else weights
    bucket = np.floor(predictions * (num_thresholds - 1)).astype(np.int32)
    lab = labels.astype(np.float64)
    rng = (0, num_thresholds - 1)
    tp_b, _ = np.histogram(bucket, bins=num_thresholds, range=rng, weights=lab * w)
    fp_b, _ = np.histogram(bucket, bins=num_thresholds, range=rng, weights=(1.0 - lab) * w)
    tp = np.cumsum(tp_b[::-1])[::-1]  # predicted positive at threshold i: bucket >= i
    fp = np.cumsum(fp_b[::-1])[::-1]
    tn, fn = fp[0] - fp, tp[0] - tp
    precision = tp / np.maximum(_MIN_COUNT, tp + fp)
    recall = tp / np.maximum(_MIN_COUNT, tp + fn)
    return np.stack((tp, fp, tn, fn, precision, recall))


def _pr_summary(tag, data, num_thresholds):
    from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData
    content = PrCurvePluginData(version=0, num_thresholds=num_thresholds).SerializeToString()
    t = TensorProto(dtype="DT_FLOAT", float_val=np.asarray(data, np.float32).reshape(-1).tolist(),
                    tensor_shape=_shape(np.shape(data)))
    return Summary(value=[Summary.Value(tag=tag, metadata=_plugin("pr_curves", content), tensor=t)])


def pr_curve(tag, labels, predictions, num_thresholds=127, weights=None):
    """A precision-recall curve summary (at most 127 thresholds, as TensorBoard draws)."""
    num_thresholds = min(num_thresholds, 127)
    return _pr_summary(tag, compute_curve(labels, predictions, num_thresholds, weights), num_thresholds)


def pr_curve_raw(tag, tp, fp, tn, fn, precision, recall, num_thresholds=127, weights=None):
    """A precision-recall curve summary from precomputed counts."""
    num_thresholds = min(num_thresholds, 127)
    return _pr_summary(tag, np.stack((tp, fp, tn, fn, precision, recall)), num_thresholds)


# ---------------------------------------------------------------- hparams and meshes
def hparams(hparam_dict=None, metric_dict=None, hparam_domain_discrete=None):
    """The three hparams-plugin summaries: experiment, session start (values) and session end."""
    from google.protobuf import struct_pb2
    from tensorboard.plugins.hparams import api_pb2
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData, SessionEndInfo, SessionStartInfo
    from ..._tensor import Tensor
    if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
        raise TypeError("parameter: hparam_dict and metric_dict should be dictionary.")
    hparam_domain_discrete = hparam_domain_discrete or {}
    if not isinstance(hparam_domain_discrete, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, "
                        f"{hparam_domain_discrete} is not a dictionary.")
    for k, vals in hparam_domain_discrete.items():
        if k not in hparam_dict or not isinstance(vals, list) or \
                not all(isinstance(d, type(hparam_dict[k])) for d in vals):
            raise TypeError(f"parameter: hparam_domain_discrete[{k}] should be a list of same type as "
                            f"hparam_dict[{k}].")
    infos = []
    ssi = SessionStartInfo()
    for k, v in hparam_dict.items():
        if v is None:
            continue
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, Tensor) or (isinstance(v, np.ndarray) and v.size == 1):
            v = float(make_np(v).reshape(-1)[0])
        if isinstance(v, (int, float)):  # bools too: TensorBoard shows them as 0/1 numbers, as torch does
            ssi.hparams[k].number_value = v
            dom = None
            if k in hparam_domain_discrete:
                dom = struct_pb2.ListValue(values=[struct_pb2.Value(number_value=d)
                                                   for d in hparam_domain_discrete[k]])
            infos.append(api_pb2.HParamInfo(name=k, type=api_pb2.DataType.Value("DATA_TYPE_FLOAT64"),
                                            domain_discrete=dom))
        elif isinstance(v, str):
            ssi.hparams[k].string_value = v
            dom = None
            if k in hparam_domain_discrete:
                dom = struct_pb2.ListValue(values=[struct_pb2.Value(string_value=d)
                                                   for d in hparam_domain_discrete[k]])
            infos.append(api_pb2.HParamInfo(name=k, type=api_pb2.DataType.Value("DATA_TYPE_STRING"),
                                            domain_discrete=dom))
        else:
            raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")

    def wrap(tag, plugin_data):
        return Summary(value=[Summary.Value(tag=tag, metadata=_plugin("hparams", plugin_data.SerializeToString()))])

    ssi_s = wrap("_hparams_/session_start_info", HParamsPluginData(session_start_info=ssi, version=0))
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=k)) for k in metric_dict]
    exp = api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics)
    exp_s = wrap("_hparams_/experiment", HParamsPluginData(experiment=exp, version=0))
    sei = SessionEndInfo(status=api_pb2.Status.Value("STATUS_SUCCESS"))
    sei_s = wrap("_hparams_/session_end_info", HParamsPluginData(session_end_info=sei, version=0))
    return exp_s, ssi_s, sei_s


def mesh(tag, vertices, colors, faces, config_dict, display_name=None, description=None):
    """A mesh-plugin summary: vertices (B, N, 3), optional faces (B, F, 3) and colors (B, N, 3)."""
    from tensorboard.plugins.mesh import metadata
    from tensorboard.plugins.mesh.plugin_data_pb2 import MeshPluginData
    json_config = json.dumps(config_dict or {}, sort_keys=True)
    parts = [(vertices, MeshPluginData.VERTEX), (faces, MeshPluginData.FACE), (colors, MeshPluginData.COLOR)]
    parts = [(make_np(t), ct) for t, ct in parts if t is not None]
    components = metadata.get_components_bitmask([ct for _, ct in parts])
    values = []
    for arr, ct in parts:
        md = metadata.create_summary_metadata(tag, display_name, ct, components, arr.shape,
                                              description, json_config=json_config)
        t = TensorProto(dtype="DT_FLOAT", float_val=arr.astype(np.float32).reshape(-1).tolist(),
                        tensor_shape=_shape(arr.shape))
        values.append(Summary.Value(tag=metadata.get_instance_name(tag, ct), tensor=t, metadata=md))
    return Summary(value=values)
