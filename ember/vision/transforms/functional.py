"""Image transforms as functions (torchvision.transforms.functional): on tensors (..., C, H, W) and PIL images.

Tensor images are ember tensors whose last two dims are height and width; uint8 images hold 0..255,
float images 0..1. PIL images (Pillow is optional: ``pip install ember[vision]``) are handled with
Pillow's own operations, as torchvision does. Resampling of tensors follows torch's ``interpolate``:
the antialiased bilinear/bicubic filters when shrinking, plain bilinear/bicubic/nearest otherwise.
"""
import math
import numbers
import sys
from enum import Enum

import numpy as np

import ember
from ember._tensor import Tensor


class InterpolationMode(Enum):
    """Resampling filters; the values are torch's ``interpolate`` mode names."""
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_PIL_FILTER_NAMES = {InterpolationMode.NEAREST: "NEAREST", InterpolationMode.NEAREST_EXACT: "NEAREST",
                     InterpolationMode.BILINEAR: "BILINEAR", InterpolationMode.BICUBIC: "BICUBIC",
                     InterpolationMode.BOX: "BOX", InterpolationMode.HAMMING: "HAMMING",
                     InterpolationMode.LANCZOS: "LANCZOS"}
_INT_TO_MODE = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
                4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}


def _interpolation_mode(interpolation):
    if isinstance(interpolation, int) and not isinstance(interpolation, bool):
        return _INT_TO_MODE[interpolation]  # Pillow's integer filter constants
    if not isinstance(interpolation, InterpolationMode):
        raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding Pillow integer "
                        "constant")
    return interpolation


# ---------------------------------------------------------------- image kinds
def _is_pil_image(img):
    pil = sys.modules.get("PIL.Image")  # not imported means it cannot be a PIL image
    return pil is not None and isinstance(img, pil.Image)


def _pil():
    try:
        from PIL import Image
    except ImportError as e:  # pragma: no cover - exercised only without Pillow
        raise ImportError("this operation needs Pillow: pip install 'ember[vision]'") from e
    return Image


def _assert_image_tensor(img):
    if not isinstance(img, Tensor) or img.ndim < 2:
        raise TypeError("Tensor is not a torch image.")


def _check_img(img):
    if not (isinstance(img, Tensor) or _is_pil_image(img)):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")


def get_image_num_channels(img):
    return get_dimensions(img)[0]


def get_dimensions(img):
    """[channels, height, width] of a tensor or PIL image."""
    if isinstance(img, Tensor):
        _assert_image_tensor(img)
        c = 1 if img.ndim == 2 else img.shape[-3]
        return [c, img.shape[-2], img.shape[-1]]
    if _is_pil_image(img):
        w, h = img.size
        return [len(img.getbands()), h, w]
    raise TypeError(f"Unexpected type {type(img)}")


def get_image_size(img):
    """[width, height]."""
    _, h, w = get_dimensions(img)
    return [w, h]


def _max_value(dtype):
    return {ember.uint8: 255, ember.int8: 127, ember.int16: 32767, ember.uint16: 65535, ember.int32: 2147483647,
            ember.int64: 9223372036854775807}.get(dtype, 1)


# ---------------------------------------------------------------- conversion
def to_tensor(pic):
    """PIL image or HxW(xC) ndarray -> CxHxW tensor; uint8 data is scaled to float in [0, 1]."""
    if not (_is_pil_image(pic) or isinstance(pic, np.ndarray)):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if isinstance(pic, np.ndarray) and pic.ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    default_float = ember.get_default_dtype()
    if isinstance(pic, np.ndarray):
        if pic.ndim == 2:
            pic = pic[:, :, None]
        img = ember.from_numpy(np.ascontiguousarray(pic.transpose((2, 0, 1))))
    else:
        types = {"I": np.int32, "I;16" if sys.byteorder == "little" else "I;16B": np.int16, "F": np.float32}
        arr = np.array(pic, types.get(pic.mode, np.uint8), copy=True)
        if pic.mode == "1":
            arr = arr * np.uint8(255)
        arr = arr.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
        img = ember.from_numpy(np.ascontiguousarray(arr.transpose((2, 0, 1))))
    if img.dtype == ember.uint8:
        return img.to(dtype=default_float).div(255)
    return img


def pil_to_tensor(pic):
    """PIL image -> CxHxW tensor of its own dtype (no scaling)."""
    if not _is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    arr = np.array(pic, copy=True)
    img = ember.as_tensor(arr).view(pic.size[1], pic.size[0], len(pic.getbands()))
    return img.permute((2, 0, 1))


def to_pil_image(pic, mode=None):
    """CxHxW tensor or HxWxC ndarray -> PIL image (floats are scaled by 255 first)."""
    Image = _pil()
    if isinstance(pic, Tensor):
        if pic.ndim == 2:
            pic = pic.unsqueeze(0)
        if pic.is_floating_point() and mode != "F":
            pic = pic.mul(255).byte()
        npimg = np.transpose(pic.detach().numpy(), (1, 2, 0))
    elif isinstance(pic, np.ndarray):
        npimg = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if npimg.shape[2] == 1:
        npimg = npimg[:, :, 0]
        if mode is None:
            mode = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16", np.dtype(np.int32): "I",
                    np.dtype(np.float32): "F"}.get(npimg.dtype)
    return Image.fromarray(np.ascontiguousarray(npimg), mode=mode)


def convert_image_dtype(image, dtype=ember.float32):
    """Change an image tensor's dtype, rescaling values to the new type's range (ints: 0..max, floats: 0..1)."""
    if not isinstance(image, Tensor):
        raise TypeError("Input img should be Tensor Image")
    if image.dtype == dtype:
        return image
    if image.is_floating_point():
        if dtype.is_floating_point:
            return image.to(dtype)
        if (image.dtype == ember.float32 and dtype in (ember.int32, ember.int64)) or \
                (image.dtype == ember.float64 and dtype == ember.int64):
            raise RuntimeError(f"The cast from {image.dtype} to {dtype} cannot be performed safely.")
        # scale by max+1-eps so 1.0 maps to max and the bins below it are equally wide
        eps = 1e-3
        return image.mul(float(_max_value(dtype)) + 1.0 - eps).to(dtype)
    input_max = float(_max_value(image.dtype))
    if dtype.is_floating_point:
        return image.to(dtype) / input_max
    output_max = float(_max_value(dtype))
    if input_max > output_max:
        factor = int((input_max + 1) // (output_max + 1))
        return ember.div(image, factor, rounding_mode="floor").to(dtype)
    factor = int((output_max + 1) // (input_max + 1))
    return image.to(dtype) * factor


# ---------------------------------------------------------------- normalize
def normalize(tensor, mean, std, inplace=False):
    """(tensor - mean) / std per channel of a float (..., C, H, W) tensor."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                         f"{tensor.size()}")
    if not inplace:
        tensor = tensor.clone()
    dtype = tensor.dtype
    mean = ember.as_tensor(mean, dtype=dtype, device=tensor.device)
    std = ember.as_tensor(std, dtype=dtype, device=tensor.device)
    if (std == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {dtype}, leading to division by zero.")
    if mean.ndim == 1:
        mean = mean.view(-1, 1, 1)
    if std.ndim == 1:
        std = std.view(-1, 1, 1)
    return tensor.sub_(mean).div_(std)


# ---------------------------------------------------------------- resampling (tensors)
def _aa_filter(mode):
    if mode == "bilinear":
        return 1.0, lambda x: np.maximum(0.0, 1.0 - np.abs(x))
    a = -0.5  # the antialiased bicubic uses Pillow's coefficient

    def cubic(x):
        x = np.abs(x)
        return np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                        np.where(x < 2, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0.0))
    return 2.0, cubic


def _aa_weights(in_size, out_size, mode):
    """The (out, in) matrix of torch's antialiased resampling along one axis (support widened by the scale)."""
    half, filt = _aa_filter(mode)
    scale = in_size / out_size
    support = half * scale if scale >= 1.0 else half
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    w = np.zeros((out_size, in_size))
    for i in range(out_size):
        center = scale * (i + 0.5)
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size)
        j = np.arange(xmin, xmax)
        k = filt((j - center + 0.5) * invscale)
        total = k.sum()
        w[i, xmin:xmax] = k / total if total != 0 else 0.0
    return w


def _cubic_weights(t, a=-0.75):
    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]


def _plain_weights(in_size, out_size, mode):
    """The (out, in) matrix of torch's non-antialiased bilinear/bicubic (align_corners=False)."""
    scale = in_size / out_size
    w = np.zeros((out_size, in_size))
    for i in range(out_size):
        src = scale * (i + 0.5) - 0.5
        if mode == "bilinear":
            src = max(src, 0.0)
            i0 = int(src)
            i1 = i0 + 1 if i0 < in_size - 1 else i0
            l1 = src - i0
            w[i, i0] += 1.0 - l1
            w[i, i1] += l1
        else:
            i0 = math.floor(src)
            t = src - i0
            for k, c in zip(range(i0 - 1, i0 + 3), _cubic_weights(t)):
                w[i, min(max(k, 0), in_size - 1)] += c
    return w


def _nearest_index(in_size, out_size, exact):
    if out_size == in_size:
        return np.arange(out_size)
    scale = np.float32(in_size) / np.float32(out_size)  # torch computes this in float
    pos = np.arange(out_size, dtype=np.float32)
    if exact:
        pos = pos + np.float32(0.5)
    return np.minimum(np.floor(pos * scale).astype(np.int64), in_size - 1)


def _resize_tensor(img, size, mode, antialias):
    h, w = img.shape[-2], img.shape[-1]
    oh, ow = size
    out_dtype = img.dtype
    if mode in ("nearest", "nearest-exact"):
        rows = _nearest_index(h, oh, mode == "nearest-exact")
        cols = _nearest_index(w, ow, mode == "nearest-exact")
        return ember.from_numpy(np.ascontiguousarray(img.detach().numpy()[..., rows[:, None], cols]))
    if mode not in ("bilinear", "bicubic"):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got 4D) for the modes: "
                                  f"nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
                                  f"(got {mode})")
    x = img.detach().numpy()
    if img.dtype not in (ember.float32, ember.float64):
        x = x.astype(np.float32)  # ints and half precision are resampled in float32, as torchvision does
    make = _aa_weights if antialias else _plain_weights
    wh = make(h, oh, mode).astype(x.dtype)
    ww = make(w, ow, mode).astype(x.dtype)
    y = np.matmul(np.matmul(wh, x), ww.T)
    if mode == "bicubic" and out_dtype == ember.uint8:
        y = np.clip(y, 0, 255)
    if not out_dtype.is_floating_point:
        return ember.from_numpy(np.round(y)).to(out_dtype)
    return ember.from_numpy(np.ascontiguousarray(y)).to(out_dtype)


def _compute_resized_output_size(image_size, size, max_size=None):
    h, w = image_size
    if len(size) == 2:
        return [size[0], size[1]]
    short, long = (w, h) if w <= h else (h, w)
    requested = size[0]
    new_short, new_long = requested, int(requested * long / short)
    if max_size is not None:
        if max_size <= requested:
            raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for the smaller "
                             f"edge size = {size}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    return [new_h, new_w]


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to ``size`` ([h, w]) or so the smaller edge is ``size`` (int / [n]), keeping the aspect ratio."""
    interpolation = _interpolation_mode(interpolation)
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError(f"Size must be an int or a 1 or 2 element tuple/list, not a {len(size)} element "
                             f"tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError("max_size should only be passed if size specifies the length of the smaller edge, i.e. "
                             "size should be an int or a sequence of length 1 in torchscript mode.")
    elif isinstance(size, int):
        size = [size]
    else:
        raise TypeError(f"Size should be int or sequence. Got {type(size)}")
    _, h, w = get_dimensions(img)
    out = _compute_resized_output_size((h, w), list(size), max_size)
    if [h, w] == out:
        return img
    if _is_pil_image(img):
        Image = _pil()
        return img.resize((out[1], out[0]), getattr(Image.Resampling, _PIL_FILTER_NAMES[interpolation]))
    _assert_image_tensor(img)
    if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT, InterpolationMode.BILINEAR,
                             InterpolationMode.BICUBIC):
        raise ValueError("Tensor images only support nearest, nearest-exact, bilinear and bicubic interpolation")
    aa = bool(antialias) and interpolation in (InterpolationMode.BILINEAR, InterpolationMode.BICUBIC)
    return _resize_tensor(img, out, interpolation.value, aa)


# ---------------------------------------------------------------- geometry
def _parse_pad(padding):
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if isinstance(padding, (tuple, list)):
        if len(padding) not in (1, 2, 4):
            raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element "
                             f"tuple")
        padding = list(padding)
        if len(padding) == 1:
            padding = padding * 4
        elif len(padding) == 2:
            padding = [padding[0], padding[1], padding[0], padding[1]]
        return [int(p) for p in padding]
    p = int(padding)
    return [p, p, p, p]


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad the borders: ``padding`` is one int, [left/right, top/bottom] or [left, top, right, bottom]."""
    _check_img(img)
    if not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    left, top, right, bottom = _parse_pad(padding)
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    if _is_pil_image(img):
        if padding_mode == "constant":
            from PIL import ImageOps
            return ImageOps.expand(img, border=(left, top, right, bottom), fill=_pil_fill(fill, img))
        Image = _pil()
        arr = np.asarray(img)
        widths = [(top, bottom), (left, right)] + [(0, 0)] * (arr.ndim - 2)
        res = Image.fromarray(np.pad(arr, widths, mode=padding_mode))
        if img.mode == "P":
            res.putpalette(img.getpalette())
        return res
    x = img.detach().numpy()
    # negative padding crops
    h, w = x.shape[-2], x.shape[-1]
    x = x[..., max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
    widths = [(0, 0)] * (x.ndim - 2) + [(max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0))]
    if padding_mode == "constant":
        if isinstance(fill, (tuple, list)):
            if len(fill) == 1:
                fill = fill[0]
            else:
                raise ValueError("Tensor images only support a single fill value with constant padding")
        out = np.pad(x, widths, mode="constant", constant_values=np.array(fill).astype(x.dtype))
    else:
        out = np.pad(x, widths, mode=padding_mode)
    return ember.from_numpy(np.ascontiguousarray(out))


def _pil_fill(fill, img):
    if isinstance(fill, (tuple, list)):
        return fill[0] if len(fill) == 1 else fill
    return fill


def crop(img, top, left, height, width):
    """The region [top, top + height) x [left, left + width); parts outside the image are zero-padded."""
    _check_img(img)
    if _is_pil_image(img):
        return img.crop((left, top, left + width, top + height))
    _, h, w = get_dimensions(img)
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        pads = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0), max(right - max(w, left), 0),
                max(bottom - max(h, top), 0)]
        return pad(img[..., max(top, 0):bottom, max(left, 0):right], pads, fill=0)
    return img[..., top:bottom, left:right]


def center_crop(img, output_size):
    """The central ``output_size`` region, zero-padding first if the image is smaller."""
    if isinstance(output_size, numbers.Number):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    _, h, w = get_dimensions(img)
    ch, cw = output_size
    if cw > w or ch > h:
        pads = [(cw - w) // 2 if cw > w else 0, (ch - h) // 2 if ch > h else 0,
                (cw - w + 1) // 2 if cw > w else 0, (ch - h + 1) // 2 if ch > h else 0]
        img = pad(img, pads, fill=0)
        _, h, w = get_dimensions(img)
        if cw == w and ch == h:
            return img
    top = int(round((h - ch) / 2.0))  # Python's round: halves go to even, as torchvision's
    left = int(round((w - cw) / 2.0))
    return crop(img, top, left, ch, cw)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def hflip(img):
    """Mirror left-right."""
    _check_img(img)
    if _is_pil_image(img):
        return img.transpose(_pil().Transpose.FLIP_LEFT_RIGHT)
    return img.flip(-1)


def vflip(img):
    """Mirror top-bottom."""
    _check_img(img)
    if _is_pil_image(img):
        return img.transpose(_pil().Transpose.FLIP_TOP_BOTTOM)
    return img.flip(-2)


# ---------------------------------------------------------------- rotation
def _inverse_rotation_matrix(center, angle):
    """The inverse of a rotation by ``angle`` about ``center``, as a 2x3 matrix (y axis pointing down)."""
    rad = math.radians(angle)
    cos, sin = math.cos(rad), math.sin(rad)
    cx, cy = center
    m = [cos, sin, 0.0, -sin, cos, 0.0]
    m[2] = m[0] * -cx + m[1] * -cy + cx
    m[5] = m[3] * -cx + m[4] * -cy + cy
    return m


def _rotated_size(matrix, w, h):
    """Bounding box of the rotated image (float32 maths and a 1e-4 tolerance, as torchvision)."""
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0], [0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, -0.5 * h, 1.0]], np.float32)
    theta = np.array(matrix, np.float32).reshape(2, 3)
    new = pts @ theta.T
    lo = new.min(0) + np.array([w * 0.5, h * 0.5], np.float32)
    hi = new.max(0) + np.array([w * 0.5, h * 0.5], np.float32)
    tol = np.float32(1e-4)
    cmax = np.ceil(np.trunc(hi / tol) * tol)
    cmin = np.floor(np.trunc(lo / tol) * tol)
    size = cmax - cmin
    return int(size[0]), int(size[1])


def _grid_sample(x, gx, gy, mode):
    """Sample x (N, C, H, W) at normalised coords (align_corners=False), zeros outside."""
    n, c, h, w = x.shape
    ix = ((gx + 1) * w - 1) / 2
    iy = ((gy + 1) * h - 1) / 2
    out = np.zeros((n, c) + gx.shape, x.dtype)
    if mode == "nearest":
        xi, yi = np.rint(ix).astype(np.int64), np.rint(iy).astype(np.int64)  # half to even, as torch
        ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        out[..., ok] = x[..., yi[ok], xi[ok]]
        return out
    x0, y0 = np.floor(ix).astype(np.int64), np.floor(iy).astype(np.int64)
    for dx in (0, 1):
        for dy in (0, 1):
            xs, ys = x0 + dx, y0 + dy
            wgt = (1 - np.abs(ix - xs)) * (1 - np.abs(iy - ys))
            ok = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
            out[..., ok] += x[..., ys[ok], xs[ok]] * wgt[ok].astype(x.dtype)
    return out


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotate counter-clockwise by ``angle`` degrees about ``center`` (default: the image centre)."""
    interpolation = _interpolation_mode(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    if _is_pil_image(img):
        Image = _pil()
        return img.rotate(angle, getattr(Image.Resampling, _PIL_FILTER_NAMES[interpolation]), expand, center,
                          fillcolor=_pil_fill(fill, img) if fill is not None else None)
    _assert_image_tensor(img)
    if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
        raise ValueError(f"Interpolation mode '{interpolation.value}' is unsupported with Tensor input")
    c, h, w = get_dimensions(img)
    cf = [0.0, 0.0] if center is None else [1.0 * (p - s * 0.5) for p, s in zip(center, [w, h])]
    # the sampling matrix is the inverse rotation: output pixels look up where they came from
    matrix = _inverse_rotation_matrix(cf, -angle)
    ow, oh = _rotated_size(matrix, w, h) if expand else (w, h)
    dt = np.dtype(img.dtype.np if img.is_floating_point() else np.float32)
    x = img.detach().numpy().astype(dt, copy=False)
    lead = x.shape[:-3] if x.ndim > 3 else ()
    x4 = x.reshape((-1, c, h, w)) if x.ndim >= 3 else x.reshape((1, 1, h, w))
    theta = np.array(matrix, dt).reshape(2, 3)
    xs = np.linspace(-ow * 0.5 + 0.5, ow * 0.5 - 0.5, ow, dtype=dt)
    ys = np.linspace(-oh * 0.5 + 0.5, oh * 0.5 - 0.5, oh, dtype=dt)
    px, py = np.meshgrid(xs, ys)
    gx = (theta[0, 0] * px + theta[0, 1] * py + theta[0, 2]) / dt.type(0.5 * w)
    gy = (theta[1, 0] * px + theta[1, 1] * py + theta[1, 2]) / dt.type(0.5 * h)
    if fill is not None:  # a ones channel marks where real pixels landed, to paint the rest with ``fill``
        x4 = np.concatenate([x4, np.ones(x4.shape[:1] + (1,) + x4.shape[2:], dt)], axis=1)
    out = _grid_sample(x4, gx, gy, interpolation.value)
    if fill is not None:
        mask, out = out[:, -1:], out[:, :-1]
        fills = list(fill) if isinstance(fill, (list, tuple)) else [float(fill)]
        fill_img = np.broadcast_to(np.array(fills, dt).reshape(1, -1, 1, 1), out.shape)
        mask = np.broadcast_to(mask, out.shape)
        if interpolation == InterpolationMode.NEAREST:
            out = np.where(mask < 0.5, fill_img, out)
        else:
            out = out * mask + (1.0 - mask) * fill_img
    out = out.reshape(lead + ((c,) if img.ndim >= 3 else ()) + (oh, ow))
    if not img.is_floating_point():
        out = np.round(out)
    return ember.from_numpy(np.ascontiguousarray(out)).to(img.dtype)


# ---------------------------------------------------------------- color
def _assert_channels(img, permitted):
    c = get_dimensions(img)[0]
    if c not in permitted:
        raise TypeError(f"Input image tensor permitted channel values are {permitted}, but found {c}")


def _blend(img1, img2, ratio):
    ratio = float(ratio)
    bound = 1.0 if img1.is_floating_point() else 255.0
    return (ratio * img1 + (1.0 - ratio) * img2).clamp(0, bound).to(img1.dtype)


def rgb_to_grayscale(img, num_output_channels=1):
    """ITU-R 601 luma (0.2989 R + 0.587 G + 0.114 B), with 1 or 3 output channels."""
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if _is_pil_image(img):
        g = img.convert("L")
        return g if num_output_channels == 1 else _pil().merge("RGB", [g, g, g])
    _assert_channels(img, [1, 3])
    if img.shape[-3] == 3:
        r, g, b = img.unbind(dim=-3)
        gray = (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(dim=-3)
    else:
        gray = img.clone()
    return gray.expand(img.shape) if num_output_channels == 3 else gray


def adjust_brightness(img, brightness_factor):
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    if _is_pil_image(img):
        from PIL import ImageEnhance
        return ImageEnhance.Brightness(img).enhance(brightness_factor)
    _assert_channels(img, [1, 3])
    return _blend(img, ember.zeros_like(img), brightness_factor)


def adjust_contrast(img, contrast_factor):
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    if _is_pil_image(img):
        from PIL import ImageEnhance
        return ImageEnhance.Contrast(img).enhance(contrast_factor)
    _assert_channels(img, [3, 1])
    dtype = img.dtype if img.is_floating_point() else ember.float32
    base = rgb_to_grayscale(img) if img.shape[-3] == 3 else img
    mean = ember.mean(base.to(dtype), dim=(-3, -2, -1), keepdim=True)
    return _blend(img, mean, contrast_factor)


def adjust_saturation(img, saturation_factor):
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    if _is_pil_image(img):
        from PIL import ImageEnhance
        return ImageEnhance.Color(img).enhance(saturation_factor)
    _assert_channels(img, [1, 3])
    if img.shape[-3] == 1:
        return img
    return _blend(img, rgb_to_grayscale(img), saturation_factor)


def _rgb_to_hsv(img):
    r, g, b = img.unbind(dim=-3)
    maxc = ember.max(img, dim=-3).values
    minc = ember.min(img, dim=-3).values
    flat = maxc == minc  # grey pixels: hue and saturation are 0
    span = maxc - minc
    ones = ember.ones_like(maxc)
    s = span / ember.where(flat, ones, maxc)
    span_safe = ember.where(flat, ones, span)
    rc, gc, bc = (maxc - r) / span_safe, (maxc - g) / span_safe, (maxc - b) / span_safe
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = ember.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return ember.stack((h, s, maxc), dim=-3)


def _hsv_to_rgb(img):
    h, s, v = img.unbind(dim=-3)
    i = ember.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.to(dtype=ember.int32)
    p = ember.clamp(v * (1.0 - s), 0.0, 1.0)
    q = ember.clamp(v * (1.0 - s * f), 0.0, 1.0)
    t = ember.clamp(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    i = i % 6
    # the sector i picks which of v, q, p, t goes to each of r, g, b
    table = ((v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q))
    out = []
    for ch in range(3):
        val = ember.zeros_like(v)
        for sector in range(6):
            val = ember.where(i == sector, table[sector][ch], val)
        out.append(val)
    return ember.stack(out, dim=-3)


def adjust_hue(img, hue_factor):
    """Shift the hue by ``hue_factor`` turns (in [-0.5, 0.5]) through HSV space."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if _is_pil_image(img):
        Image = _pil()
        mode = img.mode
        if mode in ("L", "1", "I", "F"):
            return img
        h, s, v = img.convert("HSV").split()
        hh = np.array(h, dtype=np.uint8)
        shift = np.uint8(int(hue_factor * 255) % 256)  # wraps around, as uint8 addition does
        hh = (hh + shift).astype(np.uint8)
        h = Image.fromarray(hh, "L")
        return Image.merge("HSV", (h, s, v)).convert(mode)
    if not isinstance(img, Tensor):
        raise TypeError("Input img should be Tensor image")
    _assert_channels(img, [1, 3])
    if img.shape[-3] == 1:
        return img
    orig = img.dtype
    x = convert_image_dtype(img, ember.float32)
    hsv = _rgb_to_hsv(x)
    h, s, v = hsv.unbind(dim=-3)
    h = (h + hue_factor) % 1.0
    out = _hsv_to_rgb(ember.stack((h, s, v), dim=-3))
    return convert_image_dtype(out, orig)
