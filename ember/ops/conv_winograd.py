"""3x3 stride-1 convolutions by Winograd's minimal filtering, F(2x2, 3x3) (Lavin & Gray, 2015).

A direct (im2col + gemm) 3x3 convolution spends 9 multiply-adds per output and channel pair; on 4x4 input
tiles that give 2x2 outputs, Winograd's transforms bring that to 16 / 4 = 4: the 16 transformed positions
are 16 independent (out x in) @ (in x tiles) gemms, which BLAS does, and the transforms are compiled passes
over memory (``ember/backend/cpu_kernels.c``). torch's CPU convolutions (oneDNN) run ~1.5x faster than
OpenBLAS's gemm on the im2col columns, so ResNet-style 3x3 layers need the lower flop count to keep up.

The forward, the input gradient (a 3x3 stride-1 convolution of the output gradient with the flipped
weights, routed here by the caller) and the weight gradient (the adjoint of the same chain) all use it.
The transforms add and subtract values that a direct sum keeps apart, so an inf or NaN in the data would
spread over a whole tile: non-finite inputs take the direct path (the caller's fallback, on ``None``).
Errors stay within a few float32 ulp of the direct sum's (F(2x2, 3x3) uses only 0, +-1 and 1/2).
"""
import numpy as np

from ..backend import cpu_kernels as K
from ..backend import parallel

# G (4 x 3): the weight transform U = G w G^T; its transpose maps the transformed weight gradient back
_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]], np.float32)
_MIN_CHANNELS = 16  # below this the gemms are too thin for the saved products to pay for the transforms
_CHUNK = 2 << 20  # bytes of transformed tiles (input and products) per step of samples


def applies(x, other, out_channels, k, stride, dil, groups):
    """Whether the Winograd path can take a convolution of ``x`` to ``out_channels`` with kernel size ``k``:
    CPU float32 NumPy arrays (``other``: the weight or the output gradient), the compiled kernels, a 3x3
    kernel, stride 1, no dilation, one group and channels enough on both sides."""
    if type(x) is not np.ndarray or x.dtype != np.float32 or other.dtype != np.float32 or x.ndim != 4:
        return False
    if groups != 1 or tuple(k) != (3, 3) or any(s != 1 for s in stride) or any(d != 1 for d in dil):
        return False
    if min(x.shape[1], out_channels) < _MIN_CHANNELS or x.size == 0 or other.size == 0:
        return False
    return K.available()


def _tiles(oh, ow):
    return (oh + 1) // 2, (ow + 1) // 2


def _step(C, O, th, tw):
    """Samples per step: the transformed tiles of a step (input and products) stay in a core's L2 cache
    between the transform, the gemms and the output transform (measured: 1.5x faster than whole batches)."""
    return max(1, _CHUNK // (16 * (C + O) * th * tw * 4))


def _steps(lo, hi, step, C, O, T1):
    """(first sample, count, V, M) for each step of samples [lo, hi), with buffers reused across steps."""
    V = M = None
    for n0 in range(lo, hi, step):
        m = min(step, hi - n0)
        if V is None or V.shape[2] != m * T1:
            V, M = np.empty((16, C, m * T1), np.float32), np.empty((16, O, m * T1), np.float32)
        yield n0, m, V, M


def conv2d(x, w, b, pads):
    """y = conv2d(x, w) + b for a 3x3 stride-1 kernel with ``pads`` ((top, bottom), (left, right)); None if
    ``x`` or ``w`` holds a non-finite value (the caller then convolves directly)."""
    N, C, H, W = x.shape
    O = w.shape[0]
    oh, ow = H + sum(pads[0]) - 2, W + sum(pads[1]) - 2
    if oh <= 0 or ow <= 0 or not np.isfinite(w).all():
        return None
    th, tw = _tiles(oh, ow)
    x = np.ascontiguousarray(x)
    # U = G w G^T as two plain gemms over the 3-vectors, laid out (16, O, C)
    t = (w.reshape(-1, 3) @ _G.T).reshape(O, C, 3, 4).swapaxes(2, 3)  # (w is float32: applies() says so)
    U = np.ascontiguousarray((t.reshape(-1, 3) @ _G.T).reshape(O, C, 4, 4).transpose(3, 2, 0, 1)).reshape(16, O, C)
    bias = None if b is None else np.ascontiguousarray(b, np.float32)
    y = np.empty((N, O, oh, ow), np.float32)
    bad = []

    def piece(lo, hi):
        for n0, m, V, M in _steps(lo, hi, _step(C, O, th, tw), C, O, th * tw):
            if bad or not K.winograd_input(x[n0:n0 + m], pads[0][0], pads[1][0], th, tw, out=V)[1]:
                bad.append(n0)
                return
            np.matmul(U, V, out=M)
            K.winograd_output(M, bias, oh, ow, th, tw, out=y[n0:n0 + m])
    parallel.per_thread(N, piece, N * O * C * th * tw * 16)
    return None if bad else y


def conv2d_weight_grad(g, x, pads):
    """The weight gradient (O, C, 3, 3) of ``conv2d`` for output gradient ``g`` (N, O, oh, ow); None if ``x``
    or ``g`` holds a non-finite value."""
    N, C, H, W = x.shape
    O, oh, ow = g.shape[1:]
    th, tw = _tiles(oh, ow)
    if oh != H + sum(pads[0]) - 2 or ow != W + sum(pads[1]) - 2 or not np.isfinite(g.sum()):
        return None
    x, g = np.ascontiguousarray(x), np.ascontiguousarray(g, np.float32)
    parts, bad = {}, []

    def piece(lo, hi):
        acc = np.zeros((16, O, C), np.float32)
        for n0, m, V, M in _steps(lo, hi, _step(C, O, th, tw), C, O, th * tw):
            if bad or not K.winograd_input(x[n0:n0 + m], pads[0][0], pads[1][0], th, tw, out=V)[1]:
                bad.append(n0)
                return
            K.winograd_output_t(g[n0:n0 + m], th, tw, out=M)
            acc += np.matmul(M, V.swapaxes(1, 2))
        parts[lo] = acc
    parallel.per_thread(N, piece, N * O * C * th * tw * 16)
    if bad:
        return None
    dU = sum(parts[k] for k in sorted(parts))  # in sample order: the same sum for the same thread count
    # G^T dU G as two plain gemms over the 4-vectors (a broadcast matmul of 4 x 4 blocks costs ~0.5 ms)
    t = (np.ascontiguousarray(dU.reshape(4, 4, O, C).transpose(2, 3, 0, 1)).reshape(-1, 4) @ _G)
    t = t.reshape(O, C, 4, 3).swapaxes(2, 3).reshape(-1, 4) @ _G
    return np.ascontiguousarray(t.reshape(O, C, 3, 3).swapaxes(2, 3))
