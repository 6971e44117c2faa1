"""ember on CUDA (CuPy) vs torch on CUDA, each side in its own process. Needs a GPU and both libraries.

    python bench/gpu.py

- per-op overhead: `a + b` on 1-element GPU tensors (launch + Python cost)
- 4096x4096 float32 matmul (cuBLAS on both sides)
- 16M-element pointwise chain `(a * b + c).relu()`
- MLP 784-256-128-10 batch 256: forward + backward + SGD step
- 2-layer GPT (d 256, 8 heads, seq 128, batch 32, vocab 512): forward + backward + AdamW step
Every timed call ends with a device synchronize, so times are wall-clock per step.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H  # noqa: E402


def steps(T, dev):
    """(mlp_step, gpt_step): one training step of each model on ``dev`` (shared with gpu_profile.py)."""
    nn, F = T.nn, T.nn.functional
    T.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)).to(dev)
    sgd = T.optim.SGD(mlp.parameters(), lr=0.01)
    xm, ym = T.randn(256, 784, device=dev), T.randint(0, 10, (256,), device=dev)

    def mlp_step():
        sgd.zero_grad()
        F.cross_entropy(mlp(xm), ym).backward()
        sgd.step()

    d, heads, seq, batch, vocab = 256, 8, 128, 32, 512
    emb, pos = nn.Embedding(vocab, d).to(dev), nn.Embedding(seq, d).to(dev)
    layer = nn.TransformerEncoderLayer(d, heads, 4 * d, dropout=0.0, batch_first=True, norm_first=True,
                                       activation="gelu")
    gpt = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).to(dev)
    head = nn.Linear(d, vocab).to(dev)
    params = list(emb.parameters()) + list(pos.parameters()) + list(gpt.parameters()) + list(head.parameters())
    adamw = T.optim.AdamW(params, lr=3e-4)
    tok = T.randint(0, vocab, (batch, seq + 1), device=dev)
    mask = nn.Transformer.generate_square_subsequent_mask(seq, device=dev)
    ar = T.arange(seq, device=dev)

    def gpt_step():
        adamw.zero_grad()
        h = emb(tok[:, :-1]) + pos(ar)
        logits = head(gpt(h, mask=mask, is_causal=True))
        F.cross_entropy(logits.reshape(-1, vocab), tok[:, 1:].reshape(-1)).backward()
        adamw.step()
    return mlp_step, gpt_step


def measure(side):
    T = H.library(side)
    dev = "cuda"
    sync = T.cuda.synchronize
    T.manual_seed(0)
    r = {}

    def timed(fn, number, repeat=5):
        def step():
            fn()
            sync()
        return H.best_of(step, number, repeat)

    a, b = T.ones(1, device=dev), T.ones(1, device=dev)
    r["a + b, 1 element"] = timed(lambda: a + b, 2000)
    m = T.randn(4096, 4096, device=dev)
    r["matmul 4096x4096 float32"] = timed(lambda: m @ m, 10)
    x, y, z = (T.randn(16 * 1024 * 1024, device=dev) for _ in range(3))
    r["(a*b+c).relu() 16M"] = timed(lambda: (x * y + z).relu(), 50)

    mlp_step, gpt_step = steps(T, dev)
    r["MLP 784-256-128-10 b256 step"] = timed(mlp_step, 20)
    r["GPT 2 layers d256 h8 seq128 b32 step"] = timed(gpt_step, 5)
    return r


if __name__ == "__main__":
    res, args = H.main(__doc__, measure, __file__)
    if res is not None:
        H.report("bench/gpu.py (CUDA)", res, args.threads)
