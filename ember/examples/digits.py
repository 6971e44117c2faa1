"""Train a small classifier on the bundled UCI digits with ember's autograd, showing progress.

    python -m ember.examples.digits [--epochs 20] [--lr 0.1] [--seed 0]

A learner's first training run: 8x8 handwritten digits (1,797 images, shipped with ember), a two-layer
network written with plain tensors and ``requires_grad``, minibatch SGD with momentum, and the test
accuracy at the end. Nothing is downloaded.
"""
import argparse
import math
import sys
import time

import numpy as np

import ember
from ember._data import load_digits


def split(seed=0, test_fraction=0.2):
    """Shuffle once with a fixed seed and split into train/test tensors (pixels scaled to [0, 1])."""
    images, targets = load_digits()
    order = np.random.default_rng(seed).permutation(len(targets))
    x = ember.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 16.0)
    y = ember.from_numpy(targets.astype(np.int64))
    n_test = int(len(order) * test_fraction)
    idx_test, idx_train = ember.from_numpy(order[:n_test]), ember.from_numpy(order[n_test:])
    return x[idx_train], y[idx_train], x[idx_test], y[idx_test]


def init_params(sizes, seed):
    """Weights uniform in ±1/sqrt(fan_in) (torch.nn.Linear's default), as leaf tensors."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / math.sqrt(fan_in)
        w = ember.tensor(rng.uniform(-bound, bound, (fan_out, fan_in)), dtype=ember.float32, requires_grad=True)
        b = ember.tensor(rng.uniform(-bound, bound, (fan_out,)), dtype=ember.float32, requires_grad=True)
        params += [w, b]
    return params


def forward(params, x):
    w1, b1, w2, b2 = params
    h = (x @ w1.t() + b1).relu()
    return h @ w2.t() + b2


def cross_entropy(logits, y):
    """Mean negative log-likelihood of the true class under softmax(logits)."""
    logp = logits - logits.logsumexp(dim=1, keepdim=True)
    onehot = ember.zeros_like(logp)
    onehot[ember.arange(len(y)), y] = 1.0
    return -(logp * onehot).sum(dim=1).mean()


def accuracy(params, x, y):
    with ember.no_grad():
        return (forward(params, x).argmax(dim=1) == y).float().mean().item()


def _progress(iterable, desc, total):
    try:
        from tqdm import tqdm
        return tqdm(iterable, desc=desc, total=total, leave=False, file=sys.stdout)
    except ImportError:  # tqdm is optional: fall back to the plain loop
        return iterable


def train(epochs=20, lr=0.1, momentum=0.9, batch_size=64, hidden=128, seed=0, log=print):
    """Train and return (params, test accuracy). Deterministic for a given seed."""
    x_train, y_train, x_test, y_test = split(seed)
    params = init_params([64, hidden, 10], seed)
    velocity = [ember.zeros_like(p) for p in params]
    rng = np.random.default_rng(seed + 1)
    n = len(y_train)
    steps = math.ceil(n / batch_size)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = ember.from_numpy(rng.permutation(n))
        total, correct = 0.0, 0
        bar = _progress(range(steps), f"epoch {epoch:2d}/{epochs}", steps)
        for i in bar:
            idx = order[i * batch_size:(i + 1) * batch_size]
            xb, yb = x_train[idx], y_train[idx]
            logits = forward(params, xb)
            loss = cross_entropy(logits, yb)
            for p in params:
                p.grad = None
            loss.backward()
            with ember.no_grad():
                for p, v in zip(params, velocity):
                    v.mul_(momentum).add_(p.grad)
                    p.sub_(v, alpha=lr)
            total += loss.item() * len(yb)
            correct += (logits.argmax(dim=1) == yb).sum().item()
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{loss.item():.4f}")
        log(f"epoch {epoch:2d}/{epochs}  loss {total / n:.4f}  train acc {correct / n:.3f}  "
            f"test acc {accuracy(params, x_test, y_test):.3f}")
    acc = accuracy(params, x_test, y_test)
    log(f"done in {time.perf_counter() - start:.1f}s: test accuracy {acc:.3f} on {len(y_test)} held-out digits")
    return params, acc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    _, acc = train(a.epochs, a.lr, batch_size=a.batch_size, seed=a.seed)
    return 0 if acc > 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
