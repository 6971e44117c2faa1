"""nn functional ops, ember vs torch (each side in its own process).

    python bench/nn_ops.py [--threads 2]

Cases: conv2d forward and forward+backward (16x64x32x32, 3x3, 64->64, padding 1), a depthwise 3x3 conv,
LeNet-5's two convolutions (64x1x28x28 5x5 padding 2 with a weight-only gradient; 64x6x14x14 5x5) and its
2x2 max pooling, max_pool2d and avg_pool2d (3x3 stride 2) forward+backward, batch_norm training
forward+backward, bilinear upsampling x2, layer_norm, gelu, causal scaled_dot_product_attention, cross_entropy
and embedding forward+backward. Times are per call, best of 5; the ratio is what matters.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H  # noqa: E402


def measure(side):
    if side == "torch":
        import torch as T
        import torch.nn.functional as F
    else:
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        import ember as T
        import ember.nn.functional as F
    import numpy as np
    rng = np.random.default_rng(0)

    def t(*shape, rg=False):
        return T.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=rg)

    r = {}
    x, w, b = t(16, 64, 32, 32, rg=True), t(64, 64, 3, 3, rg=True), t(64, rg=True)
    r["conv2d 16x64x32x32 3x3 64->64 fwd"] = H.best_of(lambda: F.conv2d(x, w, b, padding=1), 5)

    def conv_step():
        x.grad = w.grad = b.grad = None
        F.conv2d(x, w, b, padding=1).sum().backward()
    r["conv2d 16x64x32x32 3x3 64->64 fwd+bwd"] = H.best_of(conv_step, 3)
    wd = t(64, 1, 3, 3, rg=True)

    def dw_step():
        x.grad = wd.grad = None
        F.conv2d(x, wd, padding=1, groups=64).sum().backward()
    r["depthwise conv2d 3x3 fwd+bwd"] = H.best_of(dw_step, 3)
    x1, w1, b1 = t(64, 1, 28, 28), t(6, 1, 5, 5, rg=True), t(6, rg=True)
    x2, w2, b2 = t(64, 6, 14, 14, rg=True), t(16, 6, 5, 5, rg=True), t(16, rg=True)

    def lenet_c1_step():
        w1.grad = b1.grad = None
        F.conv2d(x1, w1, b1, padding=2).sum().backward()

    def lenet_c2_step():
        x2.grad = w2.grad = b2.grad = None
        F.conv2d(x2, w2, b2).sum().backward()
    r["LeNet conv1 64x1x28x28 5x5 p2 fwd"] = H.best_of(lambda: F.conv2d(x1, w1, b1, padding=2), 10)
    r["LeNet conv1 fwd+bwd (weight, bias)"] = H.best_of(lenet_c1_step, 10)
    r["LeNet conv2 64x6x14x14 5x5 fwd"] = H.best_of(lambda: F.conv2d(x2, w2, b2), 10)
    r["LeNet conv2 fwd+bwd"] = H.best_of(lenet_c2_step, 10)
    xp1 = t(64, 6, 28, 28, rg=True)

    def lenet_pool_step():
        xp1.grad = None
        F.max_pool2d(xp1, 2).sum().backward()
    r["max_pool2d 2x2 64x6x28x28 fwd+bwd"] = H.best_of(lenet_pool_step, 10)

    def pool_step(fn):
        def step():
            x.grad = None
            fn(x, 3, 2, 1).sum().backward()
        return step
    r["max_pool2d 3x3/2 fwd+bwd"] = H.best_of(pool_step(F.max_pool2d), 5)
    r["avg_pool2d 3x3/2 fwd+bwd"] = H.best_of(pool_step(F.avg_pool2d), 5)
    g, bb = t(64, rg=True), t(64, rg=True)

    def bn_step():
        x.grad = g.grad = bb.grad = None
        F.batch_norm(x, None, None, g, bb, training=True).sum().backward()
    r["batch_norm train fwd+bwd"] = H.best_of(bn_step, 5)
    r["interpolate bilinear x2 fwd"] = H.best_of(lambda: F.interpolate(x, scale_factor=2, mode="bilinear"), 5)
    h = t(64, 128, 512, rg=True)
    lw, lb = t(512, rg=True), t(512, rg=True)

    def ln_step():
        h.grad = lw.grad = lb.grad = None
        F.layer_norm(h, (512,), lw, lb).sum().backward()
    r["layer_norm 64x128x512 fwd+bwd"] = H.best_of(ln_step, 5)
    a = t(16, 64, 512, rg=True)

    def gelu_step():
        a.grad = None
        F.gelu(a).sum().backward()
    r["gelu 16x64x512 fwd+bwd"] = H.best_of(gelu_step, 5)
    q, k, v = t(16, 4, 64, 32, rg=True), t(16, 4, 64, 32, rg=True), t(16, 4, 64, 32, rg=True)

    def sdpa_step():
        q.grad = k.grad = v.grad = None
        F.scaled_dot_product_attention(q, k, v, is_causal=True).sum().backward()
    r["sdpa causal 16x4x64x32 fwd+bwd"] = H.best_of(sdpa_step, 5)
    logits, tgt = t(1024, 256, rg=True), T.tensor(rng.integers(0, 256, 1024))

    def ce_step():
        logits.grad = None
        F.cross_entropy(logits, tgt).backward()
    r["cross_entropy 1024x256 fwd+bwd"] = H.best_of(ce_step, 5)
    ew, ei = t(256, 128, rg=True), T.tensor(rng.integers(0, 256, (16, 64)))

    def emb_step():
        ew.grad = None
        F.embedding(ei, ew).sum().backward()
    r["embedding 256x128, 16x64 ids fwd+bwd"] = H.best_of(emb_step, 5)
    return r


if __name__ == "__main__":
    res, args = H.main(__doc__, measure, __file__)
    if res is not None:
        H.report("bench/nn_ops.py", res, args.threads)
