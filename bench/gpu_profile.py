"""Where ember's time goes on CUDA: cProfile of the GPT and MLP steps from bench/gpu.py (ember side only).

    python bench/gpu_profile.py [gpt|mlp]
"""
import cProfile
import os
import pstats
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import ember as T  # noqa: E402

nn, F = T.nn, T.nn.functional
dev = "cuda"
T.manual_seed(0)
which = sys.argv[1] if len(sys.argv) > 1 else "gpt"
if which == "mlp":
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)).to(dev)
    opt = T.optim.SGD(model.parameters(), lr=0.01)
    x, y = T.randn(256, 784, device=dev), T.randint(0, 10, (256,), device=dev)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
else:
    d, heads, seq, batch, vocab = 256, 8, 128, 32, 512
    emb, pos = nn.Embedding(vocab, d).to(dev), nn.Embedding(seq, d).to(dev)
    layer = nn.TransformerEncoderLayer(d, heads, 4 * d, dropout=0.0, batch_first=True, norm_first=True,
                                       activation="gelu")
    gpt = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).to(dev)
    head = nn.Linear(d, vocab).to(dev)
    params = list(emb.parameters()) + list(pos.parameters()) + list(gpt.parameters()) + list(head.parameters())
    opt = T.optim.AdamW(params, lr=3e-4)
    tok = T.randint(0, vocab, (batch, seq + 1), device=dev)
    mask = nn.Transformer.generate_square_subsequent_mask(seq, device=dev)
    ar = T.arange(seq, device=dev)

    def step():
        opt.zero_grad()
        h = emb(tok[:, :-1]) + pos(ar)
        logits = head(gpt(h, mask=mask, is_causal=True))
        F.cross_entropy(logits.reshape(-1, vocab), tok[:, 1:].reshape(-1)).backward()
        opt.step()
for _ in range(3):
    step()
T.cuda.synchronize()
pr = cProfile.Profile()
pr.enable()
for _ in range(5):
    step()
T.cuda.synchronize()
pr.disable()
st = pstats.Stats(pr)
st.sort_stats("tottime").print_stats(30)
st.sort_stats("cumulative").print_stats(45)
