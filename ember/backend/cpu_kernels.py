"""Compiled float32 kernels for the CPU backend: GELU, layer norm, softmax, the LSTM step, Winograd and direct
convolutions, and max pooling, forward and backward.

NumPy runs each of these in many passes over memory (GELU's exact form took 35), so they are the ops that
kept ember's transformer steps well behind torch's. ``cpu_kernels.c`` does each in one or two passes. It is
plain C with no Python headers: on first use it is compiled with the machine's C compiler (``$CC`` or
``cc``, tuned for this CPU) into a per-user cache and loaded with ctypes. Kernels that split their work run
it on the library's own thread pool (``cpu_pool.h``, entered through ``run_f32``), with as many threads as
``ember.backend.parallel.threads()`` allows.

Nothing depends on it: without a compiler, or with ``EMBER_CPU_KERNELS=0``, ``available()`` is False and
the ops keep their NumPy code. ``status()`` says which, and why. The cache is
``$EMBER_CACHE_DIR`` (default ``~/.cache/ember``); a build is written to a temporary name and renamed into
place, so processes that build at the same time never load a half-written library.
"""
import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading

import numpy as np

from . import parallel

_HERE = os.path.dirname(os.path.abspath(__file__))
_SRC = os.path.join(_HERE, "cpu_kernels.c")
_HEADERS = [os.path.join(_HERE, "cpu_pool.h")]  # included by _SRC: part of the cache key
_BASE_FLAGS = ["-O3", "-shared", "-fPIC", "-pthread", "-fno-math-errno", "-fno-trapping-math", "-fopenmp-simd"]
_TUNED = ["-march=native"]  # this machine's vector units; the CPU's flags are part of the cache key
ELEMS_PER_PIECE = 131072  # elements per piece: tuned for Python's pool (30-60 us a hand-off), not yet re-tuned
# for the compiled pool's ~1 us

_P, _I64, _F, _INT = ctypes.c_void_p, ctypes.c_int64, ctypes.c_float, ctypes.c_int
_SIGNATURES = {
    "gelu_f32": [_P, _P, _I64, _I64],
    "gelu_cdf_f32": [_P, _P, _P, _I64, _I64],
    "gelu_bwd_f32": [_P, _P, _P, _I64, _I64],
    "gelu_cdf_bwd_f32": [_P, _P, _P, _P, _I64, _I64],
    "gelu_tanh_f32": [_P, _P, _I64, _I64],
    "gelu_tanh_bwd_f32": [_P, _P, _P, _I64, _I64],
    "layer_norm_f32": [_P, _P, _P, _P, _I64, _F, _I64, _I64],
    "layer_norm_bwd_f32": [_P, _P, _P, _P, _P, _P, _I64, _F, _I64, _I64],
    "softmax_f32": [_P, _P, _I64, _INT, _INT, _I64, _I64],
    "softmax_bwd_f32": [_P, _P, _P, _I64, _INT, _I64, _I64],
    "wino_in_f32": [_P, _P] + [_I64] * 10,
    "wino_out_f32": [_P, _P, _P] + [_I64] * 8,
    "wino_out_t_f32": [_P, _P] + [_I64] * 8,
    "conv_direct_f32": [_P, _I64, _P, _I64, _P, _I64, _P, _I64, _I64, _I64, _I64],
    "run_f32": [_P],
    "attn_scratch": [_I64] * 5,
    "set_array_data_offset": [_I64],
    "pool_rest": [],
}
_RESTYPES = {"wino_in_f32": _I64, "attn_scratch": _I64}
# the kernels ``run_f32`` runs on the compiled pool, by number: the order of the enum in cpu_kernels.c
KERNELS = {name: i for i, name in enumerate((
    "gelu", "gelu_cdf", "gelu_bwd", "gelu_cdf_bwd", "gelu_tanh", "gelu_tanh_bwd", "layer_norm", "layer_norm_bwd",
    "softmax", "softmax_bwd", "wino_in", "wino_out", "wino_out_t", "conv_direct", "maxpool2d_idx", "pool_gather",
    "pool_scatter", "relu", "transpose", "relu_bwd", "relu_bwd_one", "bn_bwd", "conv_wgrad", "attn_fwd",
    "attn_bwd", "binary", "lstm_fwd", "lstm_bwd", "gemm", "conv_lanes"))}

_state = {"lib": None, "tried": False, "why": "not built yet"}
_lock = threading.Lock()


def _cache_dir():
    d = os.environ.get("EMBER_CACHE_DIR")
    if not d:
        d = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
                         "ember")
    return d


def _cpu_signature():
    """What -march=native depends on: a library built for another CPU must not be loaded here."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return line
    except OSError:
        pass
    return platform.machine() + platform.processor()


def _compile(cc, flags, dst):
    """Build the library at ``dst`` atomically; the compiler's error text on failure."""
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=os.path.dirname(dst))
    os.close(fd)
    try:
        r = subprocess.run([cc, *flags, _SRC, "-o", tmp, "-lm"], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            return r.stderr.strip()[-500:] or f"{cc} exited with {r.returncode}"
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dst)
        return None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _build():
    if os.environ.get("EMBER_CPU_KERNELS", "1") == "0":
        return None, "disabled by EMBER_CPU_KERNELS=0"
    cc = shutil.which(os.environ.get("CC") or "cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        return None, "no C compiler found (set CC): using the NumPy kernels"
    try:
        src = b""
        for path in [_SRC, *_HEADERS]:
            with open(path, "rb") as f:
                src += f.read()
    except OSError as e:
        return None, f"kernel source missing ({e}): using the NumPy kernels"
    why = None
    # tuned for this CPU first, then generic; in the user's cache, else (read-only home) a temporary folder
    fallback = os.path.join(tempfile.gettempdir(), f"ember-{os.getuid() if hasattr(os, 'getuid') else 0}")
    for flags, folder in [(f, d) for f in (_BASE_FLAGS + _TUNED, _BASE_FLAGS) for d in (_cache_dir(), fallback)]:
        key = hashlib.sha256(src + repr((flags, cc)).encode() + _cpu_signature().encode()).hexdigest()[:16]
        path = os.path.join(folder, f"cpu_kernels-{key}.so")
        try:
            if not os.path.exists(path):
                why = _compile(cc, flags, path)
                if why is not None:
                    continue
            lib = ctypes.CDLL(path)
            for name, args in _SIGNATURES.items():
                fn = getattr(lib, name)
                fn.argtypes, fn.restype = args, _RESTYPES.get(name)
            _check_array_ids(lib)
            return lib, f"compiled with {os.path.basename(cc)} {' '.join(flags)} ({path})"
        except (OSError, subprocess.SubprocessError, AttributeError) as e:
            why = str(e)
    return None, f"build failed, using the NumPy kernels: {why}"


_ids = {"ok": False}  # whether arrays may be passed to run_f32 as their object address (see _run)


def _check_array_ids(lib):
    """Let run_f32 read array data pointers from the array objects, if this interpreter allows it: CPython,
    whose id() is the object's address, with NumPy's data pointer right after the object header (checked on
    a live array; otherwise arrays are passed by ``.ctypes.data``)."""
    _ids["ok"] = False
    if platform.python_implementation() != "CPython":
        return
    probe = np.empty(3, np.float32)
    off = object.__sizeof__(object())  # the object header: reference count and type (16 bytes on 64-bit)
    if ctypes.c_void_p.from_address(id(probe) + off).value == probe.ctypes.data:
        lib.set_array_data_offset(off)
        _ids["ok"] = True


def _lib():
    if not _state["tried"]:
        with _lock:
            if not _state["tried"]:
                _state["lib"], _state["why"] = _build()
                if _state["lib"] is not None:
                    _state["blas_pool"] = _blas_on_pool(_state["lib"])
                _state["tried"] = True
    return _state["lib"]


def _blas_on_pool(lib):
    """Hand the threaded jobs of NumPy's OpenBLAS to the compiled pool (pool_blas_jobs in cpu_pool.h), so that
    one set of threads runs both BLAS and the kernels; True if done. Needs OpenBLAS 0.3.27+ on pthreads
    (openblas_set_threads_callback_function); EMBER_BLAS_POOL=0 leaves OpenBLAS's own threads."""
    if os.environ.get("EMBER_BLAS_POOL", "1") == "0":
        return False
    try:
        from threadpoolctl import threadpool_info
        infos = threadpool_info()
    except Exception:  # noqa: BLE001 - no view of the BLAS: leave it as it is
        return False
    done = False
    for info in infos:
        if info.get("internal_api") != "openblas" or info.get("threading_layer") != "pthreads":
            continue
        try:
            so = ctypes.CDLL(info["filepath"])
        except OSError:
            continue
        # the symbols are renamed by builds with 64-bit integers ("64_") and by NumPy's own build ("scipy_")
        for name in ("scipy_openblas_set_threads_callback_function64_", "openblas_set_threads_callback_function64_",
                     "scipy_openblas_set_threads_callback_function", "openblas_set_threads_callback_function"):
            setter = getattr(so, name, None)
            if setter is not None:
                setter.argtypes, setter.restype = [_P], None
                setter(ctypes.cast(lib.pool_blas_jobs, _P).value)
                done = True
                break
    return done


def blas_on_pool():
    """Whether OpenBLAS runs its threaded jobs on the compiled pool (see ``_blas_on_pool``)."""
    return _lib() is not None and _state.get("blas_pool", False)


def available():
    """Whether the compiled kernels can be used (builds them on the first call)."""
    return _lib() is not None


def status():
    """A line saying whether the compiled kernels are in use, and why not if they are not."""
    _lib()
    return _state["why"]


def _f32_bits(v):
    return int(np.array(v, np.float32).view(np.uint32))


def _over(kernel, args, total, per_unit, piece=ELEMS_PER_PIECE, res=False):
    """Run ``kernel`` (a name in KERNELS) with ``args`` over [0, total) units of ``per_unit`` elements on the
    compiled pool, in pieces of at least ``piece`` elements; returns the number of pieces (and, with ``res``,
    the int64 status each piece returned)."""
    if total == 0:
        return (0, np.zeros(0, np.int64)) if res else 0
    k = _pieces(total, per_unit, piece)
    out = np.zeros(k, np.int64) if res else None
    _run(kernel, args, total, k, out)
    return (k, out) if res else k


def _pieces(total, per_unit, piece=ELEMS_PER_PIECE):
    units = max(1, piece // max(per_unit, 1))
    return 1 if total < 2 * units else parallel.pieces(total, units)  # a small job: no call


_MAX_ARGS = 24  # MAX_ARGS in cpu_kernels.c
_ndarray = np.ndarray
_tls = threading.local()


def _run(kernel, args, total, k, res=None):
    """Call ``kernel`` through run_f32: ``args`` holds arrays (addressed from their data pointer), None (a
    null pointer) and ints."""
    if len(args) > _MAX_ARGS:
        raise ValueError(f"internal: kernel {kernel} takes at most {_MAX_ARGS} arguments")
    vals = [KERNELS[kernel], len(args), 0, 0 if res is None else res.ctypes.data, total, k]
    by_id, arrays, bit = _ids["ok"], 0, 1
    for v in args:
        if v.__class__ is _ndarray and by_id:
            arrays |= bit
            v = id(v)  # the C side reads the data pointer; `args` keeps the array alive meanwhile
        elif v is None:
            v = 0
        elif isinstance(v, _ndarray):  # a subclass has no checked layout: ask NumPy
            v = v.ctypes.data
        vals.append(v)
        bit <<= 1
    vals[2] = arrays
    try:
        buf, addr = _tls.args
    except AttributeError:
        buf = (ctypes.c_int64 * (6 + _MAX_ARGS))()
        buf, addr = _tls.args = buf, ctypes.addressof(buf)
    buf[:len(vals)] = vals  # this thread's own buffer: a fresh ctypes array costs ~0.8 us
    (_state["lib"] or _lib()).run_f32(addr)


def gelu(x, approximate, keep_cdf=False):
    """GELU of a float32 array: ``(y, cdf)``, cdf = Phi(x) (exact form, when ``keep_cdf``) or None."""
    y = np.empty_like(x)
    cdf = np.empty_like(x) if keep_cdf and approximate == "none" else None
    if approximate == "tanh":
        _over("gelu_tanh", (x, y), x.size, 1)
    elif cdf is None:
        _over("gelu", (x, y), x.size, 1)
    else:
        _over("gelu_cdf", (x, y, cdf), x.size, 1)
    return y, cdf


def gelu_backward(g, x, approximate, cdf=None):
    """g * gelu'(x) for float32 arrays of one shape (cdf: the forward's Phi(x), exact form only)."""
    gx = np.empty_like(x)
    if approximate == "tanh":
        _over("gelu_tanh_bwd", (g, x, gx), x.size, 1)
    elif cdf is None:
        _over("gelu_bwd", (g, x, gx), x.size, 1)
    else:
        _over("gelu_cdf_bwd", (g, x, cdf, gx), x.size, 1)
    return gx


ELEMS_PER_PIECE_LN = 32768  # split a GPT's 1024 x 128 rows in two: forward 84 -> 52-63 us, backward 184 -> 140


def layer_norm(x, w, b, eps):
    """Layer norm of the rows of 2-D float32 ``x`` with optional weight and bias of its row length."""
    rows, n = x.shape
    y = np.empty_like(x)
    w = np.ones(n, np.float32) if w is None else w
    b = np.zeros(n, np.float32) if b is None else b
    _over("layer_norm", (x, w, b, y, n, _f32_bits(eps)), rows, n, ELEMS_PER_PIECE_LN)
    return y


def layer_norm_backward(g, x, w, eps):
    """(gx, dw, db) of layer norm over the rows of 2-D float32 ``x`` (weight ``w`` may be None)."""
    rows, n = x.shape
    gx = np.empty_like(x)
    w = np.ones(n, np.float32) if w is None else w
    # one row of accumulators per piece (pieces never write the same memory), summed in piece order
    k = _pieces(rows, n, ELEMS_PER_PIECE_LN)
    dw, db = np.zeros((k, n), np.float32), np.zeros((k, n), np.float32)
    _run("layer_norm_bwd", (g, x, w, gx, dw, db, n, _f32_bits(eps)), rows, k)
    for i in range(1, k):
        dw[0] += dw[i]
        db[0] += db[i]
    return gx, dw[0], db[0]


# softmax runs at ~0.2-0.6 ns per element: a piece must be this big to outweigh a thread hand-off (measured:
# 1024 x 256 log_softmax, 147 us on one thread, 150 us in two pieces)
_SOFTMAX_PIECE = 4 * ELEMS_PER_PIECE


def softmax(x, log, dead_zero=False):
    """softmax (or log_softmax) over the last dim of 2-D float32 ``x``; with ``dead_zero`` a softmax row of
    only -inf gives zeros (attention's fully masked rows), not NaN."""
    rows, n = x.shape
    y = np.empty_like(x)
    _over("softmax", (x, y, n, int(bool(log)), int(bool(dead_zero))), rows, n, _SOFTMAX_PIECE)
    return y


def softmax_backward(g, y, log):
    """Gradient of softmax (or log_softmax) over the last dim given its output ``y`` (2-D float32)."""
    rows, n = y.shape
    gx = np.empty_like(y)
    _over("softmax_bwd", (g, y, gx, n, int(bool(log))), rows, n, _SOFTMAX_PIECE)
    return gx


def winograd_input(x, ph, pw, th, tw, out=None):
    """Winograd F(2x2, 3x3) input transform of float32 ``x`` (N, C, H, W), padded by ``ph``/``pw`` at the
    top/left, into ``th`` x ``tw`` tiles: ``(V, finite)`` with V (16, C, N * th * tw) (written into ``out``
    when given); ``finite`` is False when ``x`` held inf or NaN (V is then not to be used)."""
    N, C, H, W = x.shape
    T = N * th * tw
    V = np.empty((16, C, T), np.float32) if out is None else out
    _, flags = _over("wino_in", (x, V, C, H, W, ph, pw, th, tw, T), N * C, 16 * th * tw, res=True)
    if (flags < 0).any():
        raise MemoryError("winograd_input: out of memory for a tile row")
    return V, not flags.any()


def winograd_output(M, bias, oh, ow, th, tw, out):
    """Winograd F(2x2, 3x3) output transform into ``out`` (N, O, oh, ow) from the products M (16, O,
    N * th * tw), plus ``bias`` (O,) when given."""
    N, O = out.shape[:2]
    _over("wino_out", (M, bias, out, O, oh, ow, th, tw, M.shape[2]), N * O, 4 * th * tw)
    return out


def winograd_output_t(g, th, tw, out=None):
    """Adjoint of ``winograd_output`` (no bias): dM (16, O, N * th * tw) from float32 g (N, O, oh, ow)."""
    N, O, oh, ow = g.shape
    T = N * th * tw
    dM = np.empty((16, O, T), np.float32) if out is None else out
    _over("wino_out_t", (g, dM, O, oh, ow, th, tw, T), N * O, 4 * th * tw)
    return dM


CONV_PIECE_WORK = 1 << 20  # multiply-adds per piece of a direct convolution (~10 us: a hand-off is ~1 us)


def conv_direct(buf, sample_stride, toff, wt, N, L, roff, W, bias=None):
    """Stride-1 convolution on a shifted-planes buffer (float32): y (N, O, R * W) with y[n, o, r * W + c] =
    sum_t wt[t, o] * buf[n * sample_stride + toff[t] + roff[r] + c] (+ bias[o]); ``toff``: int64 tap offsets,
    ``wt``: (taps, O), ``roff``: int64 grid positions of the R output rows, all of them below ``L``. ``buf``
    must be readable 16 values past the last tap of the last sample (the kernel computes whole blocks of 4
    channels x 16 positions on the grid, then copies the outputs out)."""
    ntaps, O = wt.shape
    O4, L16 = -(-O // 4) * 4, -(-L // 16) * 16
    wt = _pad_channels(wt, O4)
    y = np.empty((N, O, roff.size * W), np.float32)
    k = _pieces(N, O4 * L16 * ntaps, CONV_PIECE_WORK)
    scr = np.empty((k, O4, L16), np.float32)
    _run("conv_direct", (buf, sample_stride, toff, ntaps, wt, O4, O, scr, L16, roff, roff.size, W, bias, y), N, k)
    return y


def conv_lanes(buf, sample_stride, toff, wt, N, roff, W, bias=None):
    """``conv_direct``'s convolution with the output channels in the vector lanes: the same y (N, O, R * W),
    computed at the output positions only (none of the grid's garbage columns), 12 positions x 16 channels at a
    time. Pays where the garbage columns outweigh the lanes padding O to a multiple of 16."""
    ntaps, O = wt.shape
    O16 = -(-O // 16) * 16
    wt = _pad_channels(wt, O16)
    RW = roff.size * W
    gp = (roff[:, None] + np.arange(W, dtype=np.int64)).reshape(-1)
    npos = -(-RW // _CV_P) * _CV_P
    if npos != RW:
        gp = np.concatenate([gp, np.full(npos - RW, gp[-1], np.int64)])
    y = np.empty((N, O, RW), np.float32)
    k = _pieces(N, O16 * npos * ntaps, CONV_PIECE_WORK)
    scr = np.empty((k, npos, 16), np.float32)
    _run("conv_lanes", (buf, sample_stride, toff, ntaps, wt, O16, O, gp, npos, scr, RW, bias, y), N, k)
    return y


_CV_P = 12  # output positions per register block (CV_P in cpu_kernels.c)


def _pad_channels(wt, n):
    """A (taps, O) weight widened with zero channels to n columns (the kernels' whole register blocks)."""
    t, O = wt.shape
    return wt if n == O else np.concatenate([wt, np.zeros((t, n - O), np.float32)], 1)


def _elem_strides(arrays, dims):
    """The first ``dims`` strides of each array in float32 elements (an int64 array), or None when an array is
    missing its unit-stride last dim or has a stride that is not a whole number of elements."""
    out = []
    for a in arrays:
        if a.strides[-1] != 4 and a.shape[-1] > 1:
            return None
        if any(x % 4 for x in a.strides[:dims]):
            return None
        out.extend(x // 4 for x in a.strides[:dims])
    return np.array(out, np.int64)


def attention_ok(q, k, v, *rest):
    """Whether ``attention``/``attention_backward`` take these 4-D float32 arrays: q, k, v of one batch and head
    shape, k and v of one length, every array's last dim unit-strided."""
    arrays = (q, k, v) + rest
    return available() and all(type(a) is np.ndarray and a.dtype == np.float32 and a.ndim == 4 for a in arrays) \
        and q.shape[:2] == k.shape[:2] and k.shape[:3] == v.shape[:3] and _elem_strides(arrays, 3) is not None


def attention(q, k, v, o, mask, scale, causal):
    """Scaled dot-product attention of 4-D float32 (B, H, L, D) ``q``, (B, H, S, D) ``k``, (B, H, S, Dv) ``v``
    into ``o`` (B, H, L, Dv, any strides with unit-strided rows): o = softmax(q k^T * scale + mask, causal:
    keys j <= i only) v, a row of only -inf giving zeros. ``mask``: None or float32 broadcastable to
    (B, H, L, S). Returns the probabilities p (B, H, L, S) for ``attention_backward``."""
    B, H, L, D = q.shape
    S, Dv = k.shape[2], v.shape[3]
    p = np.empty((B, H, L, S), np.float32)
    st = _elem_strides((q, k, v, o), 3)
    if mask is None:
        st = np.concatenate([st, np.zeros(4, np.int64)])
    else:
        mask = np.broadcast_to(mask, (B, H, L, S))
        st = np.concatenate([st, np.array(mask.strides, np.int64) // 4])
    if p.size == 0:
        o[...] = 0  # (no keys: every row's sum over them is empty)
        return p
    k_ = _pieces(B * H, L * S * (D + Dv), CONV_PIECE_WORK)
    scr = np.empty((k_, _lib().attn_scratch(L, S, D, Dv, 0)), np.float32)
    _run("attn_fwd", (q, k, v, o, p, mask, st, H, L, S, D, Dv, _f32_bits(scale), int(bool(causal)), scr), B * H, k_)
    return p


def attention_backward(q, k, v, g, p, dq, dk, dv, scale, causal):
    """The gradient of ``attention`` from its probabilities ``p`` and the output gradient ``g`` (B, H, L, Dv),
    written into ``dq``, ``dk``, ``dv`` (the inputs' shapes, any strides with unit-strided rows)."""
    B, H, L, D = q.shape
    S, Dv = k.shape[2], v.shape[3]
    if B * H * L * S == 0:
        for d in (dq, dk, dv):
            d[...] = 0
        return
    st = _elem_strides((q, k, v, g, dq, dk, dv), 3)
    k_ = _pieces(B * H, 2 * L * S * (D + Dv), CONV_PIECE_WORK)
    scr = np.empty((k_, _lib().attn_scratch(L, S, D, Dv, 1)), np.float32)
    _run("attn_bwd", (q, k, v, g, p, dq, dk, dv, st, H, L, S, D, Dv, _f32_bits(scale), int(bool(causal)), scr),
         B * H, k_)


def conv_direct_wgrad(buf, sample_stride, toff, g, roff, L):
    """The weight gradient of ``conv_direct``: dw (taps, O) with dw[t, o] = sum over samples n and output
    positions of buf[n * sample_stride + toff[t] + pos] * g[n, o, pos]. ``g`` (N, O, R, W) float32: R rows of W
    outputs, row r at grid position ``roff[r]`` (int64), all positions below ``L``. ``buf`` must be readable
    16 values past the last tap of the last sample."""
    N, O, R, W = g.shape
    ntaps = toff.size
    T4, O4, L16 = -(-ntaps // 4) * 4, -(-O // 4) * 4, -(-L // 16) * 16
    if T4 != ntaps:
        toff = np.concatenate([toff, np.zeros(T4 - ntaps, np.int64)])
    k = _pieces(N, T4 * O4 * L16, CONV_PIECE_WORK)
    scr = np.zeros((k, O4, L16), np.float32)
    dw = np.zeros((k, T4, O4, 16), np.float32)  # (the kernel's vector lanes, summed here)
    _run("conv_wgrad", (buf, sample_stride, toff, T4, np.ascontiguousarray(g), O, O4, roff, R, W, L16, scr, dw), N, k)
    for i in range(1, k):  # in piece order: the same sums for the same thread count
        dw[0] += dw[i]
    return dw[0, :ntaps, :O].sum(-1)


def relu(x):
    """max(x, 0) of a C-contiguous float32 array, keeping -0 and NaN as torch does."""
    y = np.empty_like(x)
    _over("relu", (x, y), x.size, 1, 4 * ELEMS_PER_PIECE)
    return y


def relu_backward(g, out):
    """torch's threshold_backward(g, out, 0) of float32 arrays of one shape, ``out`` C-contiguous and ``g``
    too or one value broadcast (all strides 0): 0 where out <= 0, else g."""
    gx = np.empty_like(out)
    one = not g.flags.c_contiguous
    _over("relu_bwd_one" if one else "relu_bwd", (g, out, gx), g.size, 1, 4 * ELEMS_PER_PIECE)
    return gx


def batch_norm_backward(x, g, mean, invstd, a, want_gx, fixed):
    """Per-channel norm gradients of C-contiguous float32 ``x`` and ``g`` viewed (A, C, L), the statistics of
    channel c over its A x L values: ``(gx or None, sum(g) per channel, sum(g * (x - mean)) per channel)``
    (the sums in float64). ``mean``, ``invstd``, ``a`` (invstd * weight): C float32 values each."""
    A, C, L = x.shape
    gx = np.empty_like(x) if want_gx else None
    sums = np.empty((C, 2), np.float64)
    mean, invstd, a = (np.ascontiguousarray(v, np.float32).reshape(C) for v in (mean, invstd, a))
    _over("bn_bwd", (x, g, mean, invstd, a, gx, sums, A, C, L, int(fixed)), C, A * L)
    return gx, sums[:, 0], sums[:, 1]


GEMM_REST = 1 << 20  # multiply-adds: from here BLAS runs its gemm on several threads


def rest(macs=GEMM_REST):
    """Before a gemm of ``macs`` multiply-adds (BLAS runs it on several threads from GEMM_REST on): the pool's
    spinning workers go to sleep now (not in 200 us), so that BLAS's threads have the cores (see pool_rest in
    cpu_pool.h). The next kernel wakes them."""
    lib = _state["lib"]
    if lib is not None and macs >= GEMM_REST and not _state.get("blas_pool"):  # (else BLAS runs on the pool)
        lib.pool_rest()


def matmul(a, b):
    """``a @ b`` of 2-D NumPy arrays. Float32 ``x @ W.T`` (a Linear layer's product: b's rows of unit stride)
    runs on ember's own strided gemm (``gemm``) from 2^19 multiply-adds, K >= 128 and 16 rows and columns: at 2
    threads it takes 0.65-0.9x of OpenBLAS's time over batches 16-1024 and widths 64-1024 (64x784 @ 784x256:
    128 against 163 us), while OpenBLAS stays ahead on smaller or thinner products and on the other layouts.
    Below that, for a few rows in x, OpenBLAS is faster on the swapped problem ``W @ x.T``: that one, then a
    transposing copy (8x784 @ 784x256: 80 -> 48 us)."""
    m, k = a.shape
    n = b.shape[1]
    if a.dtype == np.float32 and b.dtype == np.float32 and b.strides[0] == 4 and k >= 128 and m >= 16 and \
            n >= 16 and m * n * k >= 1 << 19 and available():
        return gemm(a, b)
    rest(m * n * k)
    if 8 <= m <= 64 and n >= 4 * m and n * k >= 65536 and a.dtype == np.float32 and b.dtype == np.float32 and \
            b.strides == (4, 4 * k) and a.flags.c_contiguous and available():
        return transpose(np.matmul(b.T, a.T))
    return np.matmul(a, b)


_NR = 16  # the strided gemm's tile width (NR in cpu_kernels.c)
_POOL_MAX = 64  # the most pieces the pool cuts a job into (POOL_MAX in cpu_pool.h)


def gemm(a, b):
    """``a @ b`` of 2-D float32 NumPy arrays with any strides, on the compiled pool (gemm_strided in
    cpu_kernels.c): a new C-contiguous array. The kernel reads B 16 columns at a time and packs them first
    where B's columns are strided, so the product is computed as it is or transposed ((b^T a^T)^T, each tile
    transposed in registers on its way out), whichever costs less: a copy of b, or a copy of a^T plus the
    transposed stores of C."""
    m, K = a.shape
    n = b.shape[1]
    c = np.empty((m, n), np.float32)
    a_s, b_s, c_s = (tuple(s // 4 for s in x.strides) for x in (a, b, c))
    if b_s[1] != 1 and (a_s[0] == 1 or m * (K + n) < n * K):  # transposed: b^T's rows, a^T's columns
        a, b, a_s, b_s, c_s, m, n = b, a, b_s[::-1], a_s[::-1], c_s[::-1], n, m
    if m * n and K:
        panels, cols = (m + _MR - 1) // _MR, (n + _NR - 1) // _NR
        k = parallel.pieces(m * n * K, 50_000)
        by_rows = cols < k
        k = min(k, panels if by_rows else cols, _POOL_MAX)  # (the scratch holds k pieces' columns)
        per_piece = (cols if by_rows else (cols + k - 1) // k) * K * _NR + _MR * K
        Z = np.empty(k * per_piece, np.float32)
        _run("gemm", (a, *a_s, b, *b_s, c, *c_s, m, n, K, int(by_rows), per_piece, Z),
             panels if by_rows else cols, k)
    else:
        c.fill(0)
    return c


BINARY_MIN = 32768  # fewer elements: NumPy's single-threaded loop is as fast as a call here
BINARY_PIECE = 16384  # elements per piece: ~3 us of work, well above a hand-off to the pool
_BINARY = {"add": (0, 0), "sub": (1, 4), "mul": (2, 2), "div": (3, 5)}  # op: (code, code with a and b swapped)
_f32 = np.dtype(np.float32)


def binary(a, b, op, inplace=False):
    """``a op b`` (op: add, sub, mul, div) of float32 NumPy arrays, or an array and a Python number, on the
    compiled pool: a new C-contiguous array (with ``inplace``: written into ``a``, which is returned), or None
    where this kernel does not apply (then use NumPy). It applies when the larger operand is C-contiguous with
    the result's shape and the other is one value or a C-contiguous block of the result's trailing dims (a
    bias row); in place, ``a`` must be that larger operand, writeable, and not overlap ``b``."""
    code, swapped = _BINARY[op]
    if not inplace and (type(a) is not _ndarray or (type(b) is _ndarray and b.size > a.size)):
        a, b, code = b, a, swapped  # the large array walks; the other operand repeats
    if type(a) is not _ndarray or a.dtype != _f32 or not a.flags.c_contiguous or (inplace and not a.flags.writeable):
        return None
    if type(b) is _ndarray:
        if b.dtype != _f32 or not b.flags.c_contiguous or b.ndim > a.ndim:
            return None
        nb = b.ndim
        while nb and b.shape[-nb] == 1:  # leading 1s broadcast away
            nb -= 1
        if b.shape[b.ndim - nb:] != a.shape[a.ndim - nb:]:
            return None
        if inplace and np.may_share_memory(a, b):
            return None
    elif type(b) in (int, float, bool) and abs(b) <= 3.4e38:  # (larger: NumPy's overflow handling)
        b = np.array([b], np.float32)
    else:
        return None
    if not available():
        return None
    y = a if inplace else np.empty(a.shape, np.float32)
    if y.size:
        _over("binary", (a, b, None if inplace else y, max(b.size, 1), code), a.size, 1, BINARY_PIECE)
    return y


def transpose(x, out=None):
    """A C-contiguous copy of the transpose of C-contiguous 2-D float32 ``x`` (into ``out`` if given)."""
    r, c = x.shape
    y = np.empty((c, r), np.float32) if out is None else out
    _over("transpose", (x, y, r, c), c, r, 4 * ELEMS_PER_PIECE)
    return y


POOL_PIECE = 16384  # window taps or values per piece of a pooling kernel


def maxpool2d_indices(x, k, stride, pad, dil, out):
    """Flat in-plane index (int64) of each window's maximum of C-contiguous float32 ``x`` (N, C, H, W), for
    2-D windows ``k`` with ``stride``, ``pad``, ``dil`` and output extent ``out`` (torch's tie and NaN rules)."""
    N, C, H, W = x.shape
    idx = np.empty((N, C) + tuple(out), np.int64)
    _over("maxpool2d_idx", (x, idx, H, W, out[0], out[1], k[0], k[1], stride[0], stride[1], pad[0],
                            pad[1], dil[0], dil[1]), N * C, out[0] * out[1] * k[0] * k[1], POOL_PIECE)
    return idx


def pool_gather(x, idx):
    """y[n, c, ...] = x[n, c].flat[idx[n, c, ...]] for C-contiguous float32 ``x`` and int64 ``idx`` (-inf where
    an index is outside the plane: a window wholly in the padding)."""
    y = np.empty(idx.shape, np.float32)
    S, L = x[0, 0].size, idx[0, 0].size
    _over("pool_gather", (x, idx, y, S, L), x.shape[0] * x.shape[1], L, POOL_PIECE)
    return y


def pool_scatter(g, idx, sp):
    """The adjoint of ``pool_gather``: zeros of (N, C, *sp) with g added at idx in order (float32; an index
    outside the plane adds nothing)."""
    r = np.empty(g.shape[:2] + tuple(sp), np.float32)
    S, L = r[0, 0].size, idx[0, 0].size
    _over("pool_scatter", (g, idx, r, S, L), g.shape[0] * g.shape[1], S + L, POOL_PIECE)
    return r


def lstm_forward(w_hh, w_ih, b_ih, b_hh, x, h0, c0, z, acts, cs, tcs, igs, out, hT, cT, reverse):
    """The whole float32 LSTM forward recurrence in one compiled call (lstm_fwd_steps in cpu_kernels.c): it packs
    the step weight from torch's layout and lays x, h0 and c0 (None: zeros) out in z and cs, then runs each
    step's gemm and gate math split by units over the pool's threads, with no Python between steps; the last
    step's h and c go batch-major into hT and cT. All arrays C-contiguous float32. False (nothing done) where
    the kernels are not available."""
    T, H4, B = acts.shape
    k = _recurrence_pieces(H4 // 4, z.shape[1] * H4 * B)
    P = _packed_scratch(H4, z.shape[1], k)
    return _recurrence("lstm_fwd", (w_hh, w_ih, b_ih, b_hh, x, h0, c0, P, z, acts, cs, tcs, igs, out, hT, cT, T,
                                    H4 // 4, x.shape[2], B, int(reverse), k), acts)


def lstm_backward(acts, igs, cs, tcs, gout, gt, dh, dc, D, w_hh, reverse):
    """The whole float32 LSTM backward recurrence in one compiled call (lstm_bwd_steps in cpu_kernels.c), like
    ``lstm_forward``; False where it cannot run."""
    T, H4, B = acts.shape
    k = _recurrence_pieces(H4 // 4, H4 * H4 // 4 * B)
    P = _packed_scratch(H4 // 4, H4, k)
    return _recurrence("lstm_bwd", (acts, igs, cs, tcs, gout, gt, dh, dc, D, D.shape[1], w_hh, P, T, H4 // 4, B,
                                    int(reverse), k), acts)


_MR = 6  # the packed gemm's panel height (MR in cpu_kernels.c)


def _recurrence_pieces(units, macs):
    """Pieces per step: the pool's threads, unless a step's gemm is too small to be worth a hand-off (~1 us)."""
    return min(parallel.pieces(macs, 50_000), units)


def _packed_scratch(rows, K, k):
    """Room for a (rows, K) weight packed in k pieces (each padded to whole panels) and each piece's tail."""
    return np.empty((rows + _MR * k) * K + 8 * K * k, np.float32)


def _recurrence(kernel, args, acts):
    """Run a recurrence kernel as one piece (it submits its own jobs to the pool, one per step)."""
    if not available():
        return False
    if acts.size:  # (an empty batch: nothing to compute)
        _run(kernel, args, 1, 1)
    return True
