"""ember.vision.transforms against torch (torchvision itself is not installable here): resampling against
torch.nn.functional.interpolate / grid_sample, random parameters against torch's RNG stream, colour maths
against the documented formulas and Python's colorsys, PIL paths against Pillow."""
import colorsys
import math

import numpy as np
import pytest

import ember
from ember.vision import transforms as T
from ember.vision.transforms import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def img(shape=(3, 7, 9), seed=0, dtype=np.float32):
    return np.random.default_rng(seed).random(shape).astype(dtype)


def E(a):
    return ember.from_numpy(np.ascontiguousarray(a))


# ---------------------------------------------------------------- conversion
def test_to_tensor_ndarray():
    a = np.random.default_rng(1).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    t = T.ToTensor()(a)
    ref = torch.from_numpy(a.transpose(2, 0, 1).copy()).float().div(255)
    assert t.dtype == ember.float32 and t.shape == (3, 5, 4) and t.is_contiguous()
    np.testing.assert_array_equal(t.numpy(), ref.numpy())
    g = T.ToTensor()(a[:, :, 0])
    assert g.shape == (1, 5, 4)
    f = T.ToTensor()(np.ones((2, 2, 1), np.float64))  # non-uint8: not scaled, dtype kept
    assert f.dtype == ember.float64 and f.sum().item() == 4
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray. Got <class 'list'>"):
        T.ToTensor()([1])
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional. Got 1 dimensions."):
        T.ToTensor()(np.ones(3))


def test_pil_conversions():
    Image = pytest.importorskip("PIL.Image")
    a = np.random.default_rng(2).integers(0, 256, (4, 6, 3), dtype=np.uint8)
    pil = Image.fromarray(a)
    t = T.PILToTensor()(pil)
    assert t.dtype == ember.uint8 and t.shape == (3, 4, 6)
    np.testing.assert_array_equal(t.numpy(), a.transpose(2, 0, 1))
    np.testing.assert_allclose(T.ToTensor()(pil).numpy(), a.transpose(2, 0, 1) / 255, rtol=1e-6)
    gray = Image.fromarray(a[:, :, 0])
    assert T.ToTensor()(gray).shape == (1, 4, 6)
    bw = Image.fromarray(a[:, :, 0] > 128)
    np.testing.assert_array_equal(T.PILToTensor()(bw).numpy()[0], a[:, :, 0] > 128)
    assert T.ToTensor()(bw).max().item() == 1.0
    with pytest.raises(TypeError, match="pic should be PIL Image"):
        T.PILToTensor()(a)
    back = T.ToPILImage()(T.ToTensor()(pil))
    np.testing.assert_array_equal(np.asarray(back), a)


@pytest.mark.parametrize("src,dst", [("uint8", "float32"), ("float32", "uint8"), ("uint8", "int16"),
                                     ("int16", "uint8"), ("float64", "float32"), ("int32", "float64"),
                                     ("uint8", "uint8")])
def test_convert_image_dtype(src, dst):
    rng = np.random.default_rng(3)
    a = rng.random((2, 3, 3)).astype(src) if src.startswith("float") else \
        rng.integers(0, np.iinfo(src).max, (2, 3, 3)).astype(src)
    out = T.ConvertImageDtype(getattr(ember, dst))(E(a))
    assert out.dtype == getattr(ember, dst)
    if src.startswith("float") and dst.startswith("float"):
        ref = a.astype(dst)
    elif src.startswith("float"):
        ref = (a.astype(np.float64) * (np.iinfo(dst).max + 1 - 1e-3)).astype(np.float32).astype(dst)
    elif dst.startswith("float"):
        ref = a.astype(dst) / np.iinfo(src).max
    elif np.iinfo(src).max > np.iinfo(dst).max:
        ref = (a // ((np.iinfo(src).max + 1) // (np.iinfo(dst).max + 1))).astype(dst)
    else:
        ref = a.astype(dst) * ((np.iinfo(dst).max + 1) // (np.iinfo(src).max + 1))
    np.testing.assert_allclose(out.numpy().astype(np.float64), ref.astype(np.float64), rtol=1e-6)
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(ember.ones(1, 1, 1), ember.int64)


def test_normalize_matches_torch_ops():
    a = img((3, 4, 5))
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    out = T.Normalize(mean, std)(E(a))
    ref = (torch.from_numpy(a) - torch.tensor(mean).view(-1, 1, 1)) / torch.tensor(std).view(-1, 1, 1)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    x = E(a.copy())
    assert T.Normalize(mean, std, inplace=True)(x) is x
    np.testing.assert_array_equal(x.numpy(), out.numpy())
    batch = T.Normalize(mean, std)(E(np.stack([a, a])))
    np.testing.assert_array_equal(batch.numpy()[1], out.numpy())
    with pytest.raises(TypeError, match="Input tensor should be a float tensor. Got torch.uint8."):
        T.Normalize(mean, std)(ember.zeros(3, 2, 2, dtype=ember.uint8))
    with pytest.raises(ValueError, match="Expected tensor to be a tensor image of size"):
        T.Normalize(mean, std)(ember.zeros(2, 2))
    with pytest.raises(ValueError, match="std evaluated to zero after conversion to torch.float32"):
        T.Normalize(0.0, 0.0)(ember.zeros(1, 2, 2))
    assert repr(T.Normalize(mean, std)) == "Normalize(mean=(0.1, 0.2, 0.3), std=(0.5, 0.25, 2.0))"


# ---------------------------------------------------------------- resize
@pytest.mark.parametrize("size", [(4, 5), (3, 3), (14, 20), (7, 4), (1, 1), (20, 2)])
@pytest.mark.parametrize("mode,aa", [("bilinear", True), ("bilinear", False), ("bicubic", True),
                                     ("bicubic", False), ("nearest", False), ("nearest-exact", False)])
def test_resize_float_matches_interpolate(size, mode, aa):
    a = img((2, 3, 7, 9), seed=4)
    out = F.resize(E(a), list(size), F.InterpolationMode(mode), antialias=aa)
    kw = {} if mode.startswith("nearest") else {"align_corners": False, "antialias": aa}
    ref = TF.interpolate(torch.from_numpy(a), size=size, mode=mode, **kw)
    assert out.shape == tuple(ref.shape) and out.dtype == ember.float32
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)


def test_resize_uint8_and_sizes():
    a = np.random.default_rng(5).integers(0, 256, (3, 10, 16), dtype=np.uint8)
    out = T.Resize((5, 6))(E(a))
    ref = TF.interpolate(torch.from_numpy(a)[None].float(), size=(5, 6), mode="bilinear", align_corners=False,
                         antialias=True)[0].round().to(torch.uint8)
    assert out.dtype == ember.uint8
    assert np.abs(out.numpy().astype(int) - ref.numpy().astype(int)).max() <= 1
    # an int resizes the smaller edge, keeping the aspect ratio (int() of the long side)
    assert T.Resize(4)(E(a)).shape == (3, 4, 6)
    assert T.Resize([4])(ember.zeros(1, 16, 10)).shape == (1, 6, 4)
    assert T.Resize(4, max_size=5)(E(a)).shape == (3, 3, 5)
    x = E(a)
    assert T.Resize(10)(x) is x  # already that size
    with pytest.raises(ValueError, match="must be strictly greater than the requested size"):
        T.Resize(4, max_size=4)(x)
    with pytest.raises(TypeError, match="Size should be int or sequence"):
        T.Resize(2.5)
    with pytest.raises(ValueError, match="If size is a sequence, it should have 1 or 2 values"):
        T.Resize([1, 2, 3])
    assert repr(T.Resize(4)) == "Resize(size=4, interpolation=bilinear, max_size=None, antialias=True)"


def test_resize_pil():
    Image = pytest.importorskip("PIL.Image")
    a = np.random.default_rng(6).integers(0, 256, (10, 16, 3), dtype=np.uint8)
    p = Image.fromarray(a)
    out = T.Resize(5)(p)
    assert out.size == (8, 5)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(p.resize((8, 5), Image.Resampling.BILINEAR)))


# ---------------------------------------------------------------- crops and flips
def test_center_crop():
    a = E(np.arange(2 * 5 * 6, dtype=np.float32).reshape(2, 5, 6))
    out = T.CenterCrop((3, 2))(a)
    # top = round((5-3)/2) = 1, left = round((6-2)/2) = 2
    np.testing.assert_array_equal(out.numpy(), a.numpy()[:, 1:4, 2:4])
    out = T.CenterCrop(3)(a)  # left = round(1.5) = 2 (halves to even)
    np.testing.assert_array_equal(out.numpy(), a.numpy()[:, 1:4, 2:5])
    big = T.CenterCrop((7, 9))(a)  # padded with zeros, image centred (extra on the right/bottom)
    assert big.shape == (2, 7, 9)
    np.testing.assert_array_equal(big.numpy()[:, 1:6, 1:7], a.numpy())
    assert big.numpy()[:, 0].sum() == 0 and big.numpy()[:, :, 8].sum() == 0


def test_crop_outside_pads_and_pad_modes():
    a = E(np.arange(12, dtype=np.float32).reshape(1, 3, 4))
    out = F.crop(a, -1, 2, 3, 4)
    ref = np.zeros((1, 3, 4), np.float32)
    ref[:, 1:, :2] = a.numpy()[:, :2, 2:]
    np.testing.assert_array_equal(out.numpy(), ref)
    for mode, np_mode in [("edge", "edge"), ("reflect", "reflect"), ("symmetric", "symmetric")]:
        out = T.Pad([1, 2], padding_mode=mode)(a)
        np.testing.assert_array_equal(out.numpy(), np.pad(a.numpy(), [(0, 0), (2, 2), (1, 1)], mode=np_mode))
    out = F.pad(a, [1, 0, 2, 1], fill=7)
    assert out.shape == (1, 4, 7) and out[0, 3, 0].item() == 7
    ref_t = TF.pad(torch.from_numpy(a.numpy()), (1, 2, 0, 1), value=7.0)
    np.testing.assert_array_equal(out.numpy(), ref_t.numpy())
    with pytest.raises(ValueError, match="Padding must be an int or a 1, 2, or 4 element tuple, not a 3"):
        F.pad(a, [1, 2, 3])
    with pytest.raises(ValueError, match="Padding mode should be either constant, edge, reflect or symmetric"):
        F.pad(a, 1, padding_mode="wrap")


def test_random_crop_draws_like_torchvision():
    a = E(img((3, 10, 12)))
    ember.manual_seed(7)
    outs = [T.RandomCrop((4, 5))(a) for _ in range(5)]
    torch.manual_seed(7)
    for o in outs:
        i = torch.randint(0, 10 - 4 + 1, size=(1,)).item()
        j = torch.randint(0, 12 - 5 + 1, size=(1,)).item()
        np.testing.assert_array_equal(o.numpy(), a.numpy()[:, i:i + 4, j:j + 5])
    assert T.RandomCrop(12, pad_if_needed=True)(a).shape == (3, 12, 12)
    assert T.RandomCrop(4, padding=2)(a).shape == (3, 4, 4)
    with pytest.raises(ValueError, match=r"Required crop size \(11, 11\) is larger than input image size \(10, 12\)"):
        T.RandomCrop(11)(a)
    assert T.RandomCrop.get_params(a, (10, 12)) == (0, 0, 10, 12)


def test_random_resized_crop_draws_like_torchvision():
    a = E(img((3, 20, 30)))

    def torch_params(height, width, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)):
        area = height * width
        log_ratio = torch.log(torch.tensor(ratio))
        for _ in range(10):
            target_area = area * torch.empty(1).uniform_(scale[0], scale[1]).item()
            ar = math.exp(0) * torch.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1])).item()
            w, h = int(round(math.sqrt(target_area * ar))), int(round(math.sqrt(target_area / ar)))
            if 0 < w <= width and 0 < h <= height:
                return (torch.randint(0, height - h + 1, size=(1,)).item(),
                        torch.randint(0, width - w + 1, size=(1,)).item(), h, w)
        return None

    ember.manual_seed(11)
    got = [T.RandomResizedCrop.get_params(a, (0.08, 1.0), (3 / 4, 4 / 3)) for _ in range(20)]
    torch.manual_seed(11)
    assert got == [torch_params(20, 30) for _ in range(20)]
    out = T.RandomResizedCrop((8, 6))(a)
    assert out.shape == (3, 8, 6)
    # impossible scales fall back to the central crop clamped to the ratio range
    assert T.RandomResizedCrop.get_params(a, (5.0, 6.0), (1.0, 1.0)) == (0, 5, 20, 20)


def test_random_flips_draw_like_torch():
    a = E(img((3, 4, 5)))
    ember.manual_seed(3)
    outs = [T.RandomHorizontalFlip()(a) for _ in range(8)] + [T.RandomVerticalFlip(0.3)(a) for _ in range(8)]
    torch.manual_seed(3)
    flips = [bool(torch.rand(1) < 0.5) for _ in range(8)] + [bool(torch.rand(1) < 0.3) for _ in range(8)]
    assert any(flips) and not all(flips)
    for k, (o, f) in enumerate(zip(outs, flips)):
        axis = -1 if k < 8 else -2
        np.testing.assert_array_equal(o.numpy(), np.flip(a.numpy(), axis) if f else a.numpy())
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"


# ---------------------------------------------------------------- rotation
def _torch_rotate(a, angle, mode, expand=False):
    """torchvision's tensor rotation, rebuilt from torch's affine_grid + grid_sample (same output size)."""
    x = torch.from_numpy(a)[None]
    c, h, w = a.shape
    rad = math.radians(angle)
    # normalised inverse map: output (x, y) samples input (cos x - sin y * h/w, sin x * w/h + cos y)
    theta = torch.tensor([[math.cos(rad), -math.sin(rad) * h / w, 0.0],
                          [math.sin(rad) * w / h, math.cos(rad), 0.0]], dtype=torch.float32)[None]
    grid = TF.affine_grid(theta, [1, c, h, w], align_corners=False)
    xm = torch.cat([x, torch.ones(1, 1, h, w)], 1)
    out = TF.grid_sample(xm, grid, mode=mode, padding_mode="zeros", align_corners=False)
    mask, out = out[:, -1:], out[:, :-1]
    if mode == "nearest":
        out = torch.where(mask < 0.5, torch.zeros(()), out)
    else:
        out = out * mask
    return out[0].numpy()


@pytest.mark.parametrize("angle", [30.0, -47.5, 90.0, 135.0])
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_rotate_matches_grid_sample(angle, mode):
    a = img((2, 9, 11), seed=8)
    out = F.rotate(E(a), angle, F.InterpolationMode(mode), fill=[0.0, 0.0])
    np.testing.assert_allclose(out.numpy(), _torch_rotate(a, angle, mode), atol=1e-5)


def test_rotate_quarter_turns_and_expand():
    a = img((3, 6, 6), seed=9)
    np.testing.assert_allclose(F.rotate(E(a), 90.0).numpy(), np.rot90(a, 1, axes=(1, 2)), atol=1e-6)
    np.testing.assert_allclose(F.rotate(E(a), 180.0).numpy(), a[:, ::-1, ::-1], atol=1e-6)
    r = F.rotate(E(img((1, 4, 8))), 90.0, expand=True)
    assert r.shape == (1, 8, 4)
    # expanded sizes agree with Pillow's (ceil of the rotated corners' bounding box)
    for angle, size in [(45.0, (16, 16)), (30.0, (14, 14)), (10.0, (12, 12))]:
        assert F.rotate(E(img((1, 10, 10))), angle, expand=True).shape == (1,) + size
    assert F.rotate(E(img((1, 4, 8))), 30.0, expand=True).shape == (1, 8, 10)
    u8 = E((a * 255).astype(np.uint8))
    assert F.rotate(u8, 90.0).dtype == ember.uint8


def test_random_rotation_draws_like_torch():
    a = E(img((1, 5, 5)))
    ember.manual_seed(2)
    got = [T.RandomRotation.get_params([-30.0, 30.0]) for _ in range(4)]
    torch.manual_seed(2)
    assert got == [float(torch.empty(1).uniform_(-30.0, 30.0).item()) for _ in range(4)]
    ember.manual_seed(2)
    out = T.RandomRotation(30)(a)
    np.testing.assert_allclose(out.numpy(), F.rotate(a, got[0], fill=[0.0]).numpy())
    with pytest.raises(ValueError, match="If degrees is a single number, it must be positive."):
        T.RandomRotation(-1)
    with pytest.raises(ValueError, match="degrees should be a sequence of length 2."):
        T.RandomRotation([1, 2, 3])


def test_rotate_pil():
    Image = pytest.importorskip("PIL.Image")
    p = Image.fromarray(np.random.default_rng(3).integers(0, 256, (6, 8, 3), dtype=np.uint8))
    np.testing.assert_array_equal(np.asarray(F.rotate(p, 33.0)), np.asarray(p.rotate(33.0, Image.Resampling.NEAREST)))


# ---------------------------------------------------------------- colour
def test_brightness_contrast_saturation_match_formulas():
    a = img((3, 4, 5), seed=10)
    x, t = E(a), torch.from_numpy(a)
    gray_t = (0.2989 * t[0] + 0.587 * t[1] + 0.114 * t[2]).unsqueeze(0)
    np.testing.assert_allclose(F.rgb_to_grayscale(x).numpy(), gray_t.numpy(), rtol=1e-6)
    np.testing.assert_allclose(F.adjust_brightness(x, 1.7).numpy(), (1.7 * t).clamp(0, 1).numpy(), rtol=1e-6)
    m = gray_t.mean()
    np.testing.assert_allclose(F.adjust_contrast(x, 0.4).numpy(), (0.4 * t + 0.6 * m).clamp(0, 1).numpy(), rtol=1e-5)
    np.testing.assert_allclose(F.adjust_saturation(x, 2.5).numpy(), (2.5 * t - 1.5 * gray_t).clamp(0, 1).numpy(),
                               rtol=1e-5, atol=1e-6)
    u = E((a * 255).astype(np.uint8))
    b = F.adjust_brightness(u, 1.5)
    assert b.dtype == ember.uint8
    np.testing.assert_array_equal(b.numpy(), (1.5 * torch.from_numpy(u.numpy()).float()).clamp(0, 255).to(torch.uint8))
    one = E(a[:1])
    assert F.adjust_saturation(one, 3.0) is one
    with pytest.raises(ValueError, match=r"brightness_factor \(-1\) is not non-negative."):
        F.adjust_brightness(x, -1)


@pytest.mark.parametrize("hue", [0.0, 0.1, -0.33, 0.5])
def test_adjust_hue_against_colorsys(hue):
    a = img((3, 3, 4), seed=12)
    a[:, 0, 0] = [0.5, 0.5, 0.5]  # grey: hue undefined, unchanged
    out = F.adjust_hue(E(a), hue).numpy()
    ref = np.empty_like(a)
    for i in range(3):
        for j in range(4):
            h, s, v = colorsys.rgb_to_hsv(*a[:, i, j])
            ref[:, i, j] = colorsys.hsv_to_rgb((h + hue) % 1.0, s, v)
    np.testing.assert_allclose(out, ref, atol=1e-5)
    with pytest.raises(ValueError, match=r"hue_factor \(0.6\) is not in \[-0.5, 0.5\]."):
        F.adjust_hue(E(a), 0.6)


def test_color_jitter_draws_like_torchvision():
    a = E(img((3, 4, 4), seed=13))
    cj = T.ColorJitter(brightness=0.4, contrast=(0.5, 1.5), saturation=0.2, hue=0.1)
    assert cj.brightness == (0.6, 1.4) and cj.hue == (-0.1, 0.1)
    ember.manual_seed(4)
    params = cj.get_params(cj.brightness, cj.contrast, cj.saturation, cj.hue)
    torch.manual_seed(4)
    order = torch.randperm(4).tolist()
    draws = [float(torch.empty(1).uniform_(lo, hi)) for lo, hi in [(0.6, 1.4), (0.5, 1.5), (0.8, 1.2), (-0.1, 0.1)]]
    assert params[0].tolist() == order and list(params[1:]) == draws
    ember.manual_seed(4)
    out = cj(a)
    ref = a
    for k in order:
        ref = [F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue][k](ref, draws[k])
    np.testing.assert_allclose(out.numpy(), ref.numpy())
    assert T.ColorJitter().brightness is None  # nothing to do, nothing drawn
    with pytest.raises(ValueError, match="If brightness is a single number, it must be non negative."):
        T.ColorJitter(brightness=-1)
    with pytest.raises(ValueError, match=r"hue values should be between \(-0.5, 0.5\), but got \[-0.7, 0.7\]."):
        T.ColorJitter(hue=0.7)


def test_color_jitter_pil():
    Image = pytest.importorskip("PIL.Image")
    p = Image.fromarray(np.random.default_rng(3).integers(0, 256, (6, 8, 3), dtype=np.uint8))
    out = T.ColorJitter(0.5, 0.5, 0.5, 0.2)(p)
    assert isinstance(out, Image.Image) and out.size == p.size and out.mode == "RGB"
    assert F.adjust_hue(p, 0.0).tobytes() == p.convert("HSV").convert("RGB").tobytes()


# ---------------------------------------------------------------- composition
def test_compose_lambda_and_repr():
    tf = T.Compose([T.ToTensor(), T.Lambda(lambda t: t * 2), T.CenterCrop(2)])
    out = tf(np.full((4, 4), 255, np.uint8))
    assert out.shape == (1, 2, 2) and out.max().item() == 2.0
    assert repr(T.Compose([T.ToTensor(), T.CenterCrop(2)])) == "Compose(\n    ToTensor()\n    CenterCrop(size=(2, 2))\n)"
    with pytest.raises(TypeError, match="Argument lambd should be callable, got 'int'"):
        T.Lambda(3)
    assert isinstance(T.Normalize((0.5,), (0.5,)), ember.nn.Module)
