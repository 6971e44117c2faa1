"""Train a small CNN on the bundled UCI digits with ember, showing progress; save and resume.

    python -m ember.examples.digits [--epochs 12] [--lr 0.05] [--workers 0] [--checkpoint digits.pt] [--resume]
                                    [--device cpu|cuda]

A learner's first training run, written exactly as it would be with PyTorch: 8x8 handwritten digits
(1,797 images shipped with ember, nothing downloaded) through ``ember.vision.datasets.Digits`` and a
``DataLoader``, a small CNN (``nn.Conv2d``/``nn.MaxPool2d``/``nn.Linear``), ``optim.SGD`` with momentum,
a tqdm progress bar per epoch, the test accuracy at the end, and a checkpoint (model + optimizer + epoch
+ RNG state) written atomically with ``ember.save`` that ``--resume`` continues from.
"""
import argparse
import os
import sys
import time

import ember as torch
import ember.nn as nn
import ember.nn.functional as F


class DigitNet(nn.Module):
    """conv(1->16) -> pool -> conv(16->32) -> pool -> linear(128->10) on 1x8x8 images."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16x4x4
            nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32x2x2
        )
        self.classifier = nn.Linear(32 * 2 * 2, 10)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def loaders(batch_size=64, workers=0):
    """Train/test DataLoaders over the bundled digits (ToTensor gives 1x8x8 floats in [0, 1])."""
    from ember.utils.data import DataLoader
    from ember.vision import datasets, transforms
    tf = transforms.ToTensor()
    train_set = datasets.Digits(train=True, transform=tf)
    test_set = datasets.Digits(train=False, transform=tf)
    return (DataLoader(train_set, batch_size=batch_size, shuffle=True, num_workers=workers),
            DataLoader(test_set, batch_size=512, num_workers=0))


def evaluate(model, loader, device="cpu"):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            correct += (model(x).argmax(dim=1) == y).sum().item()
            total += len(y)
    model.train()
    return correct / total


def _bar(iterable, desc, total):
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is optional (pip install "ember[progress]"); plain loop without it
        return iterable
    return tqdm(iterable, desc=desc, total=total, leave=False, file=sys.stdout, dynamic_ncols=True)


def train(epochs=12, lr=0.05, momentum=0.9, batch_size=64, seed=0, checkpoint=None, resume=False, workers=0,
          log=print, device="cpu"):
    """Train (or resume) and return (model, test accuracy). Deterministic for a given seed."""
    torch.manual_seed(seed)
    train_loader, test_loader = loaders(batch_size, workers)
    model = DigitNet().to(device)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    start_epoch = 1
    if resume and checkpoint and os.path.exists(checkpoint):
        ck = torch.load(checkpoint, map_location=device)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        torch.set_rng_state(ck["rng"])
        start_epoch = ck["epoch"] + 1
        log(f"resumed from {checkpoint} after epoch {ck['epoch']} (test acc {ck['test_acc']:.3f})")
    n = len(train_loader.dataset)
    t0 = time.perf_counter()
    # every DataLoader iteration draws a seed from the global RNG, so evaluating here would shift a
    # resumed run's random stream: only evaluate up front when there is nothing left to train
    acc = evaluate(model, test_loader, device) if start_epoch > epochs else None
    for epoch in range(start_epoch, epochs + 1):
        total, correct = 0.0, 0
        bar = _bar(train_loader, f"epoch {epoch:2d}/{epochs}", len(train_loader))
        for xb, yb in bar:
            xb, yb = xb.to(device), yb.to(device)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            correct += (logits.argmax(dim=1) == yb).sum().item()
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{loss.item():.4f}")
        acc = evaluate(model, test_loader, device)
        log(f"epoch {epoch:2d}/{epochs}  loss {total / n:.4f}  train acc {correct / n:.3f}  test acc {acc:.3f}")
        if checkpoint:
            torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
                        "rng": torch.get_rng_state(), "test_acc": acc}, checkpoint)
    log(f"done in {time.perf_counter() - t0:.1f}s: test accuracy {acc:.3f} on {len(test_loader.dataset)} held-out "
        f"digits"
        + (f"; checkpoint: {checkpoint}" if checkpoint else ""))
    return model, acc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    ap.add_argument("--checkpoint", default="digits.pt", help="where to save (empty string: don't save)")
    ap.add_argument("--resume", action="store_true", help="continue from --checkpoint if it exists")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                    help="cpu or cuda (default: cuda when a GPU is available)")
    a = ap.parse_args(argv)
    _, acc = train(a.epochs, a.lr, batch_size=a.batch_size, seed=a.seed, checkpoint=a.checkpoint or None,
                   resume=a.resume, workers=a.workers, device=a.device)
    return 0 if acc >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
