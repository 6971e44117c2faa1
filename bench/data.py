"""DataLoader throughput, ember vs torch (each side in its own process): batches per second.

    python bench/data.py [--threads 2]

The dataset is map-style and CPU-heavy in plain NumPy (a 48x48 image blurred and normalised a few
times per item, about a millisecond each), so worker processes have real work to share. One epoch is
32 batches of 16 items; each case is the best of 3 epochs. Cases: 0 workers, 2 workers (started anew
each epoch, start-up included) and 2 persistent workers. Higher is better; the ratio is ember/torch.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H  # noqa: E402

N_ITEMS, BATCH = 512, 16


class HeavyDataset:
    """Item i: a seeded 3x48x48 image put through a few blur/normalise passes, and its label."""

    def __init__(self, lib):
        self.lib = lib

    def __len__(self):
        return N_ITEMS

    def __getitem__(self, i):
        import numpy as np
        img = np.random.default_rng(i).random((3, 48, 48), dtype=np.float32)
        for _ in range(6):
            img = (img + np.roll(img, 1, -1) + np.roll(img, -1, -1) + np.roll(img, 1, -2) + np.roll(img, -1, -2)) / 5
            img = (img - img.mean()) / (img.std() + 1e-6)
        return self.lib.from_numpy(np.ascontiguousarray(img)), i % 10


def measure(side):
    if side == "torch":
        import torch as T
        from torch.utils.data import DataLoader
    else:
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        import ember as T
        from ember.utils.data import DataLoader
    ds = HeavyDataset(T)
    n_batches = N_ITEMS // BATCH
    r = {}

    def epoch_rate(loader):
        t0 = time.perf_counter()
        n = sum(1 for _ in loader)
        assert n == n_batches
        return n / (time.perf_counter() - t0)

    for name, kw in [("0 workers", {}), ("2 workers", {"num_workers": 2}),
                     ("2 persistent workers", {"num_workers": 2, "persistent_workers": True})]:
        loader = DataLoader(ds, batch_size=BATCH, shuffle=True, **kw)
        r[name] = max(epoch_rate(loader) for _ in range(3))
    return r


if __name__ == "__main__":
    res, args = H.main(__doc__, measure, __file__)
    if res is not None:
        print(f"bench/data.py: DataLoader batches/s, {N_ITEMS // BATCH} batches of {BATCH}  (threads: {args.threads}, "
              f"cores on machine: {os.cpu_count()})")
        print(f"{'case':28s} {'ember b/s':>12s} {'torch b/s':>12s} {'ember/torch':>12s}")
        for k in res["ember"]:
            e, t = res["ember"][k], res["torch"][k]
            print(f"{k:28s} {e:12.1f} {t:12.1f} {e / t:11.2f}x")
