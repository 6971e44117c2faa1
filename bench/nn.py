"""Model steps, ember vs torch (each side in its own process): the four cases of the nn issue.

    python bench/nn.py [--threads 2]

- LeNet-5 on 1x28x28, batch 64: forward + backward + Adam step
- ResNet basic block (64 ch, input 16x64x32x32): forward + backward
- LSTM(64 -> 128), seq 32, batch 32: forward + backward + SGD step
- 2-layer GPT (d 128, 4 heads, seq 64, batch 16, vocab 256): forward + backward + AdamW step
Times are per step, best of 5 repeats; the ratio is what matters.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H  # noqa: E402


def measure(side):
    T = H.library(side)
    nn, F = T.nn, T.nn.functional
    T.manual_seed(0)
    r = {}

    lenet = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    opt = T.optim.Adam(lenet.parameters(), lr=1e-3)
    x, y = T.randn(64, 1, 28, 28), T.randint(0, 10, (64,))

    def lenet_step():
        opt.zero_grad()
        F.cross_entropy(lenet(x), y).backward()
        opt.step()
    r["LeNet-5 b64 train step (Adam)"] = H.best_of(lenet_step, 5)

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.c1, self.b1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
            self.c2, self.b2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)

        def forward(self, x):
            return F.relu(self.b2(self.c2(F.relu(self.b1(self.c1(x))))) + x)
    block = Block(64)
    xb = T.randn(16, 64, 32, 32, requires_grad=True)

    def block_step():
        block.zero_grad()
        xb.grad = None
        block(xb).sum().backward()
    r["ResNet basic block 16x64x32x32 fwd+bwd"] = H.best_of(block_step, 2, repeat=3)

    lstm = nn.LSTM(64, 128)
    head = nn.Linear(128, 10)
    sgd = T.optim.SGD(list(lstm.parameters()) + list(head.parameters()), lr=0.01)
    xs, ys = T.randn(32, 32, 64), T.randint(0, 10, (32,))

    def lstm_step():
        sgd.zero_grad()
        out, _ = lstm(xs)
        F.cross_entropy(head(out[-1]), ys).backward()
        sgd.step()
    r["LSTM(64->128) seq32 b32 train step"] = H.best_of(lstm_step, 5)

    d, heads, seq, batch, vocab = 128, 4, 64, 16, 256
    emb, pos = nn.Embedding(vocab, d), nn.Embedding(seq, d)
    layer = nn.TransformerEncoderLayer(d, heads, 4 * d, dropout=0.0, batch_first=True, norm_first=True,
                                       activation="gelu")
    gpt = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    lm_head = nn.Linear(d, vocab)
    params = list(emb.parameters()) + list(pos.parameters()) + list(gpt.parameters()) + list(lm_head.parameters())
    adamw = T.optim.AdamW(params, lr=3e-4)
    tok = T.randint(0, vocab, (batch, seq + 1))
    mask = nn.Transformer.generate_square_subsequent_mask(seq)

    def gpt_step():
        adamw.zero_grad()
        h = emb(tok[:, :-1]) + pos(T.arange(seq))
        logits = lm_head(gpt(h, mask=mask, is_causal=True))
        F.cross_entropy(logits.reshape(-1, vocab), tok[:, 1:].reshape(-1)).backward()
        adamw.step()
    r["GPT 2 layers d128 h4 seq64 b16 train step"] = H.best_of(gpt_step, 3)
    return r


if __name__ == "__main__":
    res, args = H.main(__doc__, measure, __file__)
    if res is not None:
        H.report("bench/nn.py", res, args.threads)
