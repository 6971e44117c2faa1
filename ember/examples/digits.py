"""Train a small network on the bundled UCI digits with ember, showing progress; save and resume.

    python -m ember.examples.digits [--epochs 15] [--lr 0.05] [--seed 0] [--checkpoint digits.pt] [--resume]

A learner's first training run, written exactly as it would be with PyTorch: 8x8 handwritten digits
(1,797 images shipped with ember, nothing downloaded), an ``nn.Module``, ``optim.SGD`` with momentum,
a progress bar per epoch, the test accuracy at the end, and a checkpoint (model + optimizer + epoch +
RNG state) written atomically with ``ember.save`` that ``--resume`` continues from.
"""
import argparse
import math
import os
import sys
import time

import numpy as np

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember._data import load_digits


class DigitNet(nn.Module):
    """A small MLP on the 8x8 images, flattened."""

    def __init__(self, hidden=128):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))

    def forward(self, x):
        return self.net(x)


def split(seed=0, test_fraction=0.2):
    """Shuffle once with a fixed seed; pixels scaled to [0, 1], images as (N, 1, 8, 8)."""
    images, targets = load_digits()
    order = np.random.default_rng(seed).permutation(len(targets))
    x = torch.from_numpy(images.astype(np.float32)[:, None] / 16.0)
    y = torch.from_numpy(targets.astype(np.int64))
    n_test = int(len(order) * test_fraction)
    test_idx, train_idx = torch.from_numpy(order[:n_test]), torch.from_numpy(order[n_test:])
    return x[train_idx], y[train_idx], x[test_idx], y[test_idx]


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        acc = (model(x).argmax(dim=1) == y).float().mean().item()
    model.train()
    return acc


def _bar(iterable, desc, total):
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is optional (pip install "ember[progress]"); plain loop without it
        return iterable
    return tqdm(iterable, desc=desc, total=total, leave=False, file=sys.stdout, dynamic_ncols=True)


def train(epochs=15, lr=0.05, momentum=0.9, batch_size=64, seed=0, checkpoint=None, resume=False, log=print):
    """Train (or resume) and return (model, test accuracy). Deterministic for a given seed."""
    torch.manual_seed(seed)
    x_train, y_train, x_test, y_test = split(seed)
    model = DigitNet()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    start_epoch = 1
    if resume and checkpoint and os.path.exists(checkpoint):
        ck = torch.load(checkpoint)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        torch.set_rng_state(ck["rng"])
        start_epoch = ck["epoch"] + 1
        log(f"resumed from {checkpoint} after epoch {ck['epoch']} (test acc {ck['test_acc']:.3f})")
    n = len(y_train)
    steps = math.ceil(n / batch_size)
    t0 = time.perf_counter()
    acc = evaluate(model, x_test, y_test)
    for epoch in range(start_epoch, epochs + 1):
        order = torch.randperm(n)
        total, correct = 0.0, 0
        bar = _bar(range(steps), f"epoch {epoch:2d}/{epochs}", steps)
        for i in bar:
            idx = order[i * batch_size:(i + 1) * batch_size]
            xb, yb = x_train[idx], y_train[idx]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            correct += (logits.argmax(dim=1) == yb).sum().item()
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{loss.item():.4f}")
        acc = evaluate(model, x_test, y_test)
        log(f"epoch {epoch:2d}/{epochs}  loss {total / n:.4f}  train acc {correct / n:.3f}  test acc {acc:.3f}")
        if checkpoint:
            torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
                        "rng": torch.get_rng_state(), "test_acc": acc}, checkpoint)
    log(f"done in {time.perf_counter() - t0:.1f}s: test accuracy {acc:.3f} on {len(y_test)} held-out digits"
        + (f"; checkpoint: {checkpoint}" if checkpoint else ""))
    return model, acc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint", default="digits.pt", help="where to save (empty string: don't save)")
    ap.add_argument("--resume", action="store_true", help="continue from --checkpoint if it exists")
    a = ap.parse_args(argv)
    _, acc = train(a.epochs, a.lr, batch_size=a.batch_size, seed=a.seed, checkpoint=a.checkpoint or None,
                   resume=a.resume)
    return 0 if acc >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
