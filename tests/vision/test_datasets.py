"""ember.vision.datasets: the bundled digits, FakeData (pixels equal to torch's randn stream) and
ImageFolder/DatasetFolder over a few generated PNGs."""
import numpy as np
import pytest

import ember
from ember._data import load_digits
from ember.utils.data import DataLoader
from ember.vision import datasets, transforms as T

torch = pytest.importorskip("torch")


def test_digits_split_is_fixed_and_complete():
    train, test = datasets.Digits(), datasets.Digits(train=False)
    assert len(train) == 1437 and len(test) == 360
    images, targets = load_digits()
    order = np.random.default_rng(0).permutation(len(targets))
    img, y = train[0]
    assert img.dtype == np.uint8 and img.shape == (8, 8) and isinstance(y, int)
    assert y == int(targets[order[0]])
    np.testing.assert_array_equal(img, (images[order[0]].astype(np.uint16) * 255 + 8) // 16)
    img_t, y_t = test[5]
    assert y_t == int(targets[order[1437 + 5]])
    assert train.data.dtype == ember.uint8 and train.data.shape == (1437, 8, 8)
    assert train.targets.dtype == ember.int64 and sorted(set(train.targets.tolist())) == list(range(10))
    assert train.data.max().item() == 255 and train.data.min().item() == 0
    np.testing.assert_array_equal(datasets.Digits()[0][0], img)  # deterministic
    img[...] = 0  # items are copies: changing one leaves the dataset as it was
    assert train[0][0].sum() > 0


def test_digits_with_transforms_and_loader():
    ds = datasets.Digits(transform=T.ToTensor(), target_transform=lambda t: t * 10)
    x, y = ds[3]
    assert x.shape == (1, 8, 8) and x.dtype == ember.float32 and 0.0 <= x.min().item() <= x.max().item() <= 1.0
    assert y % 10 == 0
    batches = list(DataLoader(ds, batch_size=500, num_workers=2))
    assert [b[0].shape[0] for b in batches] == [500, 500, 437]
    assert batches[0][1].dtype == ember.int64
    ref = next(iter(DataLoader(ds, batch_size=500)))
    np.testing.assert_array_equal(batches[0][0].numpy(), ref[0].numpy())
    assert repr(ds).splitlines()[:3] == ["Dataset Digits", "    Number of datapoints: 1437", "    Split: Train"]
    assert ds.class_to_idx["3 - three"] == 3


def test_fakedata_pixels_match_torch_stream():
    ds = datasets.FakeData(size=4, image_size=(3, 5, 6), num_classes=7, random_offset=2)
    ember.manual_seed(123)
    state = ember.get_rng_state()
    for i in range(4):
        img, target = ds[i]
        torch.manual_seed(i + 2)
        ref = torch.randn(3, 5, 6).mul(255).byte().permute(1, 2, 0).numpy()
        assert target == torch.randint(0, 7, size=(1,), dtype=torch.long)[0].item()
        np.testing.assert_array_equal(np.asarray(img), ref)
    assert ember.equal(ember.get_rng_state(), state)  # the global stream is left as it was
    with pytest.raises(IndexError, match="FakeData index out of range"):
        ds[4]
    gray, _ = datasets.FakeData(size=1, image_size=(1, 4, 4), transform=T.ToTensor())[0]
    assert gray.shape == (1, 4, 4) and gray.dtype == ember.float32


def _make_tree(root, Image):
    rng = np.random.default_rng(0)
    files = {"cat": ["b.png", "a.png"], "dog": ["x.png"], "emu": ["z.PNG", "notes.txt"]}
    for cls, names in files.items():
        (root / cls).mkdir()
        for name in names:
            if name.endswith(".txt"):
                (root / cls / name).write_text("not an image")
            else:
                Image.fromarray(rng.integers(0, 256, (3, 4, 3), dtype=np.uint8)).save(root / cls / name)
    return files


def test_image_folder(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    _make_tree(tmp_path, Image)
    ds = datasets.ImageFolder(str(tmp_path))
    assert ds.classes == ["cat", "dog", "emu"] and ds.class_to_idx == {"cat": 0, "dog": 1, "emu": 2}
    assert [p.split("/")[-2:] for p, _ in ds.samples] == [["cat", "a.png"], ["cat", "b.png"], ["dog", "x.png"],
                                                         ["emu", "z.PNG"]]
    assert ds.targets == [0, 0, 1, 2] and ds.imgs == ds.samples
    img, y = ds[1]
    assert img.mode == "RGB" and img.size == (4, 3) and y == 0
    tds = datasets.ImageFolder(str(tmp_path), transform=T.Compose([T.ToTensor(), T.Resize((6, 8))]))
    x, _ = tds[0]
    assert x.shape == (3, 6, 8)
    batch = next(iter(DataLoader(tds, batch_size=4, num_workers=2)))
    assert batch[0].shape == (4, 3, 6, 8) and batch[1].tolist() == [0, 0, 1, 2]
    assert "Root location: " + str(tmp_path) in repr(ds)


def test_dataset_folder_and_errors(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "1.txt").write_text("one")
    (tmp_path / "a" / "sub").mkdir()
    (tmp_path / "a" / "sub" / "2.txt").write_text("two")
    (tmp_path / "b" / "3.csv").write_text("x")
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes b. Supported extensions are: .txt"):
        datasets.DatasetFolder(str(tmp_path), loader=lambda p: open(p).read(), extensions=(".txt",))
    ds = datasets.DatasetFolder(str(tmp_path), loader=lambda p: open(p).read(), extensions=(".txt",),
                                allow_empty=True)
    assert [ds[i] for i in range(len(ds))] == [("one", 0), ("two", 0)]
    ds = datasets.DatasetFolder(str(tmp_path), loader=lambda p: p[-5:], is_valid_file=lambda p: "3" in p[-6:],
                                allow_empty=True)
    assert [ds[i] for i in range(len(ds))] == [("3.csv", 1)]
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None or not None"):
        datasets.DatasetFolder(str(tmp_path), loader=str)
    empty = tmp_path / "a" / "sub"
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder in"):
        datasets.DatasetFolder(str(empty), loader=str, extensions=".txt")
    with pytest.raises(ValueError, match="Only transforms or transform/target_transform can be passed as argument"):
        datasets.VisionDataset(None, transforms=lambda a, b: (a, b), transform=str)
