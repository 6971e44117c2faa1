"""``SummaryWriter``: torch.utils.tensorboard's writer on tensorboard's own event-file writer and protos."""
import os
import socket
import time
from datetime import datetime

import numpy as np
from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from . import summary as S
from ._convert import make_np
from ._embedding import embedding_info, encode_tag, write_matrix, write_pbtxt, write_sprite, write_tsv

__all__ = ["FileWriter", "SummaryWriter"]


class FileWriter:
    """Writes Event protobufs to one event file in ``log_dir`` (asynchronously, flushed every ``flush_secs``)."""

    def __init__(self, log_dir, max_queue=10, flush_secs=120, filename_suffix=""):
        log_dir = str(log_dir)
        self.event_writer = EventFileWriter(log_dir, max_queue, flush_secs, filename_suffix)

    def get_logdir(self):
        """The directory this writer's event file lives in."""
        return self.event_writer.get_logdir()

    def add_event(self, event, step=None, walltime=None):
        """Stamp ``event`` with the wall time (now unless given) and ``step``, and queue it."""
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            # numpy and tensor steps are common (a loop over an arange): the proto wants a Python int
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary, global_step=None, walltime=None):
        """Queue a ``Summary`` proto as an event."""
        self.add_event(Event(summary=summary), global_step, walltime)

    def add_graph(self, graph_profile, walltime=None):
        """Queue a ``(GraphDef, RunMetadata)`` pair as graph and run-metadata events."""
        from tensorboard.compat.proto.event_pb2 import TaggedRunMetadata
        graph, stepstats = graph_profile
        self.add_event(Event(graph_def=graph.SerializeToString()), None, walltime)
        trm = TaggedRunMetadata(tag="step1", run_metadata=stepstats.SerializeToString())
        self.add_event(Event(tagged_run_metadata=trm), None, walltime)

    def flush(self):
        """Write everything queued to disk."""
        self.event_writer.flush()

    def close(self):
        """Flush and close the event file."""
        self.event_writer.close()


class SummaryWriter:
    """Writes TensorBoard event files to ``log_dir`` (default ``runs/<date>_<host><comment>``)."""

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120,
                 filename_suffix=""):
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", stamp + "_" + socket.gethostname() + comment)
        self.log_dir = log_dir
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer = self.all_writers = None
        self._get_file_writer()
        self.default_bins = S.default_bins()

    def _get_file_writer(self):
        """The main FileWriter, (re)opened after ``close()``; writes the purge marker once if asked."""
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                # TensorBoard drops events of steps >= purge_step written before this restart marker
                step = self.purge_step
                self.file_writer.add_event(Event(step=step, file_version="brain.Event:2"))
                self.file_writer.add_event(Event(step=step, session_log=SessionLog(status=SessionLog.START)))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self):
        """The directory event files are written to."""
        return self.log_dir

    # ------------------------------------------------------------ scalars
    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        """Log one number (tensor with one element, NumPy or Python scalar) under ``tag``."""
        s = S.scalar(tag, scalar_value, new_style=new_style, double_precision=double_precision)
        self._get_file_writer().add_summary(s, global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Log several numbers on one chart: each key goes to its own run ``<logdir>/<main_tag>_<key>``."""
        walltime = time.time() if walltime is None else walltime
        base = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            path = base + "/" + main_tag.replace("/", "_") + "_" + tag
            fw = self.all_writers.get(path)
            if fw is None:
                fw = self.all_writers[path] = FileWriter(path, self.max_queue, self.flush_secs, self.filename_suffix)
            fw.add_summary(S.scalar(main_tag, value), global_step, walltime)

    def add_tensor(self, tag, tensor, global_step=None, walltime=None):
        """Log a whole tensor (the "tensor" plugin keeps dtype, shape and values)."""
        self._get_file_writer().add_summary(S.tensor_proto(tag, make_np(tensor)), global_step, walltime)

    # ------------------------------------------------------------ histograms
    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None):
        """Log a histogram of ``values``; ``bins`` is "tensorflow" (TF's default edges), a count or a NumPy rule."""
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        self._get_file_writer().add_summary(S.histogram(tag, values, bins, max_bins=max_bins), global_step,
                                            walltime)

    def add_histogram_raw(self, tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts,
                          global_step=None, walltime=None):
        """Log a histogram from precomputed statistics; ``bucket_limits`` are the right edges."""
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        s = S.histogram_raw(tag, min, max, num, sum, sum_squares, list(bucket_limits), list(bucket_counts))
        self._get_file_writer().add_summary(s, global_step, walltime)

    # ------------------------------------------------------------ images and media
    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """Log an image; floats are taken in [0, 1], uint8 in [0, 255]."""
        s = S.image(tag, img_tensor, dataformats=dataformats)
        self._get_file_writer().add_summary(s, global_step, walltime)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        """Log a batch of images, shown as one grid (8 per row)."""
        s = S.image(tag, img_tensor, dataformats=dataformats)
        self._get_file_writer().add_summary(s, global_step, walltime)

    def add_image_with_boxes(self, tag, img_tensor, box_tensor, global_step=None, walltime=None, rescale=1,
                             dataformats="CHW", labels=None):
        """Log an image with boxes (N x 4, xmin ymin xmax ymax in pixels) drawn in red."""
        s = S.image_boxes(tag, img_tensor, box_tensor, rescale=rescale, dataformats=dataformats, labels=labels)
        self._get_file_writer().add_summary(s, global_step, walltime)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """Log a matplotlib figure (or a list of them, as one grid) rendered to an image."""
        if isinstance(figure, list):
            imgs = np.stack([_render_figure(f, close) for f in figure])
            self.add_image(tag, imgs, global_step, walltime, dataformats="NCHW")
        else:
            self.add_image(tag, _render_figure(figure, close), global_step, walltime, dataformats="CHW")

    def add_video(self, tag, vid_tensor, global_step=None, fps=4, walltime=None):
        """Log (N, T, C, H, W) clips as an animated GIF (needs Pillow)."""
        self._get_file_writer().add_summary(S.video(tag, vid_tensor, fps), global_step, walltime)

    def add_audio(self, tag, snd_tensor, global_step=None, sample_rate=44100, walltime=None):
        """Log 1-D audio samples in [-1, 1]."""
        self._get_file_writer().add_summary(S.audio(tag, snd_tensor, sample_rate=sample_rate), global_step,
                                            walltime)

    # ------------------------------------------------------------ text, hparams, curves
    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """Log a (markdown) string."""
        self._get_file_writer().add_summary(S.text(tag, text_string), global_step, walltime)

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None,
                    global_step=None):
        """Log one hyperparameter set and its metrics, as a run under ``<logdir>/<run_name>``."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        exp, ssi, sei = S.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        if not run_name:
            run_name = str(time.time())
        logdir = os.path.join(self._get_file_writer().get_logdir(), run_name)
        with SummaryWriter(log_dir=logdir) as w:
            w.file_writer.add_summary(exp, global_step)
            w.file_writer.add_summary(ssi, global_step)
            w.file_writer.add_summary(sei, global_step)
            for k, v in metric_dict.items():
                w.add_scalar(k, v, global_step)

    def add_pr_curve(self, tag, labels, predictions, global_step=None, num_thresholds=127, weights=None,
                     walltime=None):
        """Log a precision-recall curve of ``predictions`` (in [0, 1]) against 0/1 ``labels``."""
        labels, predictions = make_np(labels), make_np(predictions)
        s = S.pr_curve(tag, labels, predictions, num_thresholds, None if weights is None else make_np(weights))
        self._get_file_writer().add_summary(s, global_step, walltime)

    def add_pr_curve_raw(self, tag, true_positive_counts, false_positive_counts, true_negative_counts,
                         false_negative_counts, precision, recall, global_step=None, num_thresholds=127,
                         weights=None, walltime=None):
        """Log a precision-recall curve from precomputed counts, precision and recall."""
        parts = [true_positive_counts, false_positive_counts, true_negative_counts, false_negative_counts,
                 precision, recall]
        parts = [np.asarray(p) if isinstance(p, (list, tuple)) else make_np(p) for p in parts]
        s = S.pr_curve_raw(tag, *parts, num_thresholds=num_thresholds, weights=weights)
        self._get_file_writer().add_summary(s, global_step, walltime)

    def add_custom_scalars(self, layout):
        """Set the custom-scalars dashboard: {category: {title: ["Multiline"|"Margin", tags]}}."""
        self._get_file_writer().add_summary(S.custom_scalars(layout))

    def add_custom_scalars_multilinechart(self, tags, category="default", title="untitled"):
        """A custom-scalars chart drawing several tags as lines."""
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(self, tags, category="default", title="untitled"):
        """A custom-scalars chart of [value, lower, upper] tags."""
        if len(tags) != 3:
            raise AssertionError(f"tags should have exactly 3 elements (value, lower, upper), got {tags}")
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    def add_mesh(self, tag, vertices, colors=None, faces=None, config_dict=None, global_step=None,
                 walltime=None):
        """Log a 3D mesh or point cloud (vertices B x N x 3, faces B x F x 3, colors B x N x 3)."""
        s = S.mesh(tag, vertices, colors, faces, config_dict)
        self._get_file_writer().add_summary(s, global_step, walltime)

    # ------------------------------------------------------------ embeddings and graphs
    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None, tag="default",
                      metadata_header=None):
        """Write projector files for ``mat`` (N x D) with optional labels and thumbnail images."""
        mat = make_np(mat)
        if global_step is None:
            global_step = 0
        subdir = f"{str(global_step).zfill(5)}/{encode_tag(tag)}"
        logdir = self._get_file_writer().get_logdir()
        save_path = os.path.join(logdir, subdir)
        if os.path.exists(save_path):
            print("warning: Embedding dir exists, did you set global_step for add_embedding()?")
        else:
            os.makedirs(save_path)
        if metadata is not None:
            if mat.shape[0] != len(metadata):
                raise AssertionError("#labels should equal with #data points")
            write_tsv(metadata, save_path, metadata_header)
        if label_img is not None:
            if mat.shape[0] != label_img.shape[0]:
                raise AssertionError("#images should equal with #data points")
            write_sprite(label_img, save_path)
        if mat.ndim != 2:
            raise AssertionError("mat should be 2D, where mat.size(0) is the number of data points")
        write_matrix(mat, save_path)
        cfg = getattr(self, "_projector_config", None)
        if cfg is None:
            from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
            cfg = self._projector_config = ProjectorConfig()
        cfg.embeddings.append(embedding_info(metadata, label_img, subdir, global_step, tag))
        write_pbtxt(logdir, cfg)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """Not available: drawing a model graph needs a tracer."""
        raise RuntimeError("add_graph needs ember's tracer, which is not available yet")

    # ------------------------------------------------------------ lifecycle
    def flush(self):
        """Write everything pending in every event file to disk."""
        if self.all_writers is None:
            return
        for w in self.all_writers.values():
            w.flush()

    def close(self):
        """Flush and close all event files (a later add_* opens a new one)."""
        if self.all_writers is None:
            return
        for w in self.all_writers.values():
            w.flush()
            w.close()
        self.file_writer = self.all_writers = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()


def _render_figure(figure, close=True):
    """A matplotlib figure drawn with the Agg canvas, as a CHW uint8 RGB array."""
    import matplotlib.pyplot as plt
    from matplotlib.backends import backend_agg
    canvas = backend_agg.FigureCanvasAgg(figure)
    canvas.draw()
    w, h = figure.canvas.get_width_height()
    rgba = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8).reshape(h, w, 4)
    img = rgba[:, :, :3].transpose(2, 0, 1).copy()
    if close:
        plt.close(figure)
    return img
