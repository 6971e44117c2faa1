"""Core overheads and kernels, ember vs torch (each side in its own process).

    python bench/core.py [--threads 2]

Cases: per-op overhead of ``a + b`` on 1-element tensors (with and without grad; ``a * b`` with grad), a 1M-element
pointwise chain ``(a * b + c).relu()``, a 1024x1024 float32 matmul (also vs plain NumPy), and an MLP
784-256-128-10 forward+backward at batch 64. Times are per call, best of 5; the ratio is what matters.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H  # noqa: E402


def measure(side):
    T = H.library(side)
    import numpy as np
    r = {}
    a, b = T.ones(1), T.ones(1)
    r["a + b, 1 element"] = H.best_of(lambda: a + b, 20000)
    ag = T.ones(1, requires_grad=True)
    r["a + b, 1 element, requires_grad"] = H.best_of(lambda: ag + b, 20000)
    # a product keeps (and version-checks) the operand the other's gradient reads
    r["a * b, 1 element, requires_grad"] = H.best_of(lambda: ag * b, 20000)
    x, y, z = (T.tensor(np.random.default_rng(i).standard_normal(1 << 20).astype(np.float32)) for i in range(3))
    r["(a * b + c).relu(), 1M float32"] = H.best_of(lambda: (x * y + z).relu(), 50)
    m1 = T.tensor(np.random.default_rng(0).standard_normal((1024, 1024)).astype(np.float32))
    m2 = T.tensor(np.random.default_rng(1).standard_normal((1024, 1024)).astype(np.float32))
    r["matmul 1024x1024 float32"] = H.best_of(lambda: m1 @ m2, 10)
    rng = np.random.default_rng(0)
    ws = []
    for fi, fo in [(784, 256), (256, 128), (128, 10)]:
        ws.append(T.tensor((rng.standard_normal((fo, fi)) / np.sqrt(fi)).astype(np.float32), requires_grad=True))
        ws.append(T.tensor(np.zeros(fo, np.float32), requires_grad=True))
    xb = T.tensor(rng.standard_normal((64, 784)).astype(np.float32))
    yb = T.tensor(np.eye(10, dtype=np.float32)[rng.integers(0, 10, 64)])

    def step():
        h = xb
        for i in range(0, 6, 2):
            h = h @ ws[i].t() + ws[i + 1]
            if i < 4:
                h = h.relu()
        loss = ((h - yb) ** 2).mean()
        for w in ws:
            w.grad = None
        loss.backward()
    r["MLP 784-256-128-10 b64 fwd+bwd"] = H.best_of(step, 50)
    return r


if __name__ == "__main__":
    res, args = H.main(__doc__, measure, __file__)
    if res is not None:
        H.report("bench/core.py", res, args.threads)
        import numpy as np
        a = np.random.default_rng(0).standard_normal((1024, 1024)).astype(np.float32)
        b = np.random.default_rng(1).standard_normal((1024, 1024)).astype(np.float32)
        t = H.best_of(lambda: a @ b, 10)
        print(f"{'plain NumPy matmul 1024x1024 float32':44s} {t * 1e6:12.2f}   (ember matmul / NumPy: "
              f"{res['ember']['matmul 1024x1024 float32'] / t:.2f}x)")
