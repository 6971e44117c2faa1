"""Array plumbing for the summaries: tensors to NumPy, image layouts, grids, PNG/GIF/WAV encoding."""
import io
import math
import struct
import wave
import zlib

import numpy as np

from ..._tensor import Tensor


def make_np(x):
    """An ember tensor, NumPy array or Python/NumPy scalar as a NumPy array (scalars become 1-element)."""
    if isinstance(x, np.ndarray):
        arr = x
    elif isinstance(x, Tensor):
        arr = x.detach().cpu().numpy()
    elif isinstance(x, str) or np.isscalar(x):
        return np.array([x])
    else:
        raise NotImplementedError(f"Got {type(x)}, but numpy array or torch tensor are expected.")
    if arr.dtype.kind == "V":  # ml_dtypes (bfloat16, float8): NumPy's own routines need a real float
        arr = arr.astype(np.float32)
    return arr


# ---------------------------------------------------------------- images
def make_grid(imgs, ncols=8):
    """(N, C, H, W) -> (C, rows*H, ncols*W): images laid out row-major, unused cells black."""
    if imgs.ndim != 4 or imgs.shape[1] not in (1, 3, 4):
        raise AssertionError("make_grid expects images of shape (N, C, H, W) with C in {1, 3, 4}")
    if imgs.shape[1] == 1:
        imgs = np.concatenate([imgs, imgs, imgs], axis=1)
    n, c, h, w = imgs.shape
    ncols = min(n, ncols)
    nrows = int(math.ceil(n / ncols)) if n else 0
    canvas = np.zeros((c, h * nrows, w * ncols), dtype=imgs.dtype)
    for i in range(n):
        r, q = divmod(i, ncols)
        canvas[:, r * h:(r + 1) * h, q * w:(q + 1) * w] = imgs[i]
    return canvas


def _axes_of(fmt, letters):
    return [fmt.find(ch) for ch in letters]


def convert_to_HWC(arr, input_format):
    """Reorder an image array given as ``input_format`` (NCHW/NHWC/CHW/HWC/HW, any order) to HWC RGB(A)."""
    fmt = input_format.upper()
    if len(set(fmt)) != len(fmt):
        raise AssertionError(f"You can not use the same dimension shordhand twice.         "
                             f"input_format: {input_format}")
    if arr.ndim != len(fmt):
        raise AssertionError(f"size of input tensor and input format are different.         "
                             f"tensor shape: {arr.shape}, input_format: {input_format}")
    want = {4: "NCHW", 3: "HWC", 2: "HW"}.get(len(fmt))
    if want is None:
        raise ValueError(f"dataformats must have 2, 3 or 4 letters, got {input_format!r}")
    axes = _axes_of(fmt, want)
    if -1 in axes:
        raise ValueError(f"dataformats {input_format!r} must name the dimensions {want!r}")
    arr = arr.transpose(axes)
    if len(fmt) == 4:
        return make_grid(arr).transpose(1, 2, 0)
    if len(fmt) == 3:
        if arr.shape[2] == 1:
            arr = np.concatenate([arr, arr, arr], axis=2)
        return arr
    return np.stack([arr, arr, arr], axis=2)


def to_uint8(arr):
    """uint8 images pass through; anything else is taken as [0, 1] floats and scaled by 255."""
    scale = 1 if arr.dtype == np.uint8 else 255
    return (arr.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)


def _pil():
    try:
        from PIL import Image
        return Image
    except ImportError:  # Pillow is optional: the stdlib PNG writer below does the same job
        return None


def _png_chunk(kind, data):
    # the CRC here is PNG's own chunk checksum (part of the image format), computed by zlib
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


_PNG_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> gray, gray+alpha, RGB, RGBA


def encode_png_stdlib(img):
    """PNG bytes for an (H, W, C) uint8 image with only the standard library (zlib + struct)."""
    h, w, c = img.shape
    raw = np.zeros((h, 1 + w * c), np.uint8)  # each scanline starts with filter type 0 (none)
    raw[:, 1:] = np.ascontiguousarray(img).reshape(h, w * c)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, _PNG_COLOR_TYPE[c], 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) +
            _png_chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + _png_chunk(b"IEND", b""))


def encode_png(img, rescale=1):
    """PNG bytes of an (H, W, C) uint8 image, optionally resized by ``rescale``."""
    Image = _pil()
    h, w, c = img.shape
    if Image is None:
        if rescale != 1:
            ys = (np.arange(int(h * rescale)) / rescale).astype(np.int64).clip(0, h - 1)
            xs = (np.arange(int(w * rescale)) / rescale).astype(np.int64).clip(0, w - 1)
            img = img[ys][:, xs]
        return encode_png_stdlib(img)
    im = Image.fromarray(img[:, :, 0] if c == 1 else img)
    if rescale != 1:
        im = im.resize((int(w * rescale), int(h * rescale)), Image.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def draw_boxes(img, boxes, labels=None):
    """Red 2-pixel box outlines (labels on a red tab at each box's bottom) drawn onto an (H, W, 3) uint8 copy."""
    Image = _pil()
    if Image is None:
        return _draw_boxes_numpy(np.array(img, copy=True), boxes)
    from PIL import ImageDraw, ImageFont
    im = Image.fromarray(np.ascontiguousarray(img))
    draw = ImageDraw.Draw(im)
    font = ImageFont.load_default() if labels is not None else None
    for i, (x0, y0, x1, y1) in enumerate(np.asarray(boxes, np.float64).tolist()):
        draw.line([(x0, y0), (x0, y1), (x1, y1), (x1, y0), (x0, y0)], width=2, fill="red")
        if labels is not None:
            label = str(labels[i])
            l, t, r, b = draw.textbbox((0, 0), label, font=font)
            tw, th = r - l, b - t
            m = int(np.ceil(0.05 * th))
            # the tab sits inside the box, on its bottom edge (torch's placement)
            draw.rectangle([(x0, y1 - th - 2 * m), (x0 + tw, y1)], fill="red")
            draw.text((x0 + m, y1 - th - m), label, fill="black", font=font)
    return np.asarray(im)


def _draw_boxes_numpy(img, boxes):
    h, w = img.shape[:2]
    red = np.array([255, 0, 0], np.uint8)
    for x0, y0, x1, y1 in np.asarray(boxes, np.float64).tolist():
        xa, xb = sorted((int(round(x0)), int(round(x1))))
        ya, yb = sorted((int(round(y0)), int(round(y1))))
        # a 2-pixel line centred on each edge, clipped to the image
        for lo, hi, c0, c1, horiz in ((ya - 1, ya + 1, xa - 1, xb + 1, True), (yb - 1, yb + 1, xa - 1, xb + 1, True),
                                      (xa - 1, xa + 1, ya - 1, yb + 1, False), (xb - 1, xb + 1, ya - 1, yb + 1, False)):
            lo, hi = max(lo, 0), min(hi, (h if horiz else w))
            c0, c1 = max(c0, 0), min(c1, (w if horiz else h))
            if horiz:
                img[lo:hi, c0:c1] = red
            else:
                img[c0:c1, lo:hi] = red
    return img


# ---------------------------------------------------------------- video and audio
def prepare_video(v):
    """(N, T, C, H, W) -> (T, H', W', C): the N clips tiled in a near-square grid per frame."""
    b, t, c, h, w = v.shape
    if v.dtype == np.uint8:
        v = v.astype(np.float32) / 255.0
    n = 1 << (b - 1).bit_length() if b else 1  # pad the batch to a power of two
    if n != b:
        v = np.concatenate([v, np.zeros((n - b, t, c, h, w), v.dtype)], axis=0)
    rows = 1 << ((n.bit_length() - 1) // 2)
    cols = n // rows
    v = v.reshape(rows, cols, t, c, h, w).transpose(2, 0, 4, 1, 5, 3)
    return v.reshape(t, rows * h, cols * w, c)


def encode_gif(frames, fps):
    """Animated GIF bytes for (T, H, W, C) uint8 frames (needs Pillow)."""
    Image = _pil()
    if Image is None:
        raise ImportError("add_video needs Pillow to encode the GIF (pip install pillow)")
    ims = [Image.fromarray(f[:, :, 0] if f.shape[2] == 1 else f[:, :, :3]) for f in frames]
    buf = io.BytesIO()
    ims[0].save(buf, format="GIF", save_all=True, append_images=ims[1:], duration=int(1000 / fps), loop=0)
    return buf.getvalue()


def encode_wav(samples, sample_rate):
    """16-bit mono PCM WAV bytes for samples in [-1, 1]."""
    pcm = (np.asarray(samples, np.float64) * 32767.0).astype(np.int16)  # truncation toward zero
    buf = io.BytesIO()
    with wave.open(buf, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(sample_rate)
        f.writeframes(pcm.astype("<i2").tobytes())
    return buf.getvalue()
