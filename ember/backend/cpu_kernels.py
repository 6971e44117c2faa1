"""Compiled float32 kernels for the CPU backend: GELU, layer norm, softmax and the LSTM step, forward and
backward.

NumPy runs each of these in many passes over memory (GELU's exact form took 35), so they are the ops that
kept ember's transformer steps well behind torch's. ``cpu_kernels.c`` does each in one or two passes. It is
plain C with no Python headers: on first use it is compiled with the machine's C compiler (``$CC`` or
``cc``, tuned for this CPU) into a per-user cache and loaded with ctypes, which releases the GIL, so the
pieces run on the intra-op threads of ``ember.backend.parallel``.

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

_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cpu_kernels.c")
_BASE_FLAGS = ["-O3", "-shared", "-fPIC", "-fno-math-errno", "-fno-trapping-math", "-fopenmp-simd"]
_TUNED = ["-march=native"]  # this machine's vector units; the CPU's flags are part of the cache key
ELEMS_PER_PIECE = 131072  # measured: below this a thread hand-off (~30-60 us) costs more than it saves

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
    "lstm_step_f32": [_P] * 7 + [_I64] * 2,
    "lstm_step_bwd_f32": [_P] * 9 + [_I64] * 3,
    "wino_in_f32": [_P, _P] + [_I64] * 10,
    "wino_out_f32": [_P, _P, _P] + [_I64] * 8,
    "wino_out_t_f32": [_P, _P] + [_I64] * 8,
    "conv_direct_f32": [_P, _I64, _P, _I64, _P, _I64, _P, _I64, _I64, _I64, _I64],
}
_RESTYPES = {"wino_in_f32": _I64}

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
        with open(_SRC, "rb") as f:
            src = f.read()
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
            return lib, f"compiled with {os.path.basename(cc)} {' '.join(flags)} ({path})"
        except (OSError, subprocess.SubprocessError, AttributeError) as e:
            why = str(e)
    return None, f"build failed, using the NumPy kernels: {why}"


def _lib():
    if not _state["tried"]:
        with _lock:
            if not _state["tried"]:
                _state["lib"], _state["why"] = _build()
                _state["tried"] = True
    return _state["lib"]


def available():
    """Whether the compiled kernels can be used (builds them on the first call)."""
    return _lib() is not None


def status():
    """A line saying whether the compiled kernels are in use, and why not if they are not."""
    _lib()
    return _state["why"]


def _ptr(a):
    return None if a is None else a.ctypes.data


def _over(total, per_unit, fn, piece=ELEMS_PER_PIECE):
    """``fn(lo, hi)`` over [0, total) units of ``per_unit`` elements, in pieces of at least ``piece`` elements
    on the intra-op threads."""
    if total == 0:
        return
    units = max(1, piece // max(per_unit, 1))
    parallel.parallel_for(total, fn, min_size=units)


def gelu(x, approximate, keep_cdf=False):
    """GELU of a float32 array: ``(y, cdf)``, cdf = Phi(x) (exact form, when ``keep_cdf``) or None."""
    lib = _lib()
    y = np.empty_like(x)
    cdf = np.empty_like(x) if keep_cdf and approximate == "none" else None
    px, py, pc = _ptr(x), _ptr(y), _ptr(cdf)
    if approximate == "tanh":
        _over(x.size, 1, lambda lo, hi: lib.gelu_tanh_f32(px, py, lo, hi))
    elif cdf is None:
        _over(x.size, 1, lambda lo, hi: lib.gelu_f32(px, py, lo, hi))
    else:
        _over(x.size, 1, lambda lo, hi: lib.gelu_cdf_f32(px, py, pc, lo, hi))
    return y, cdf


def gelu_backward(g, x, approximate, cdf=None):
    """g * gelu'(x) for float32 arrays of one shape (cdf: the forward's Phi(x), exact form only)."""
    lib = _lib()
    gx = np.empty_like(x)
    pg, px, pc, po = _ptr(g), _ptr(x), _ptr(cdf), _ptr(gx)
    if approximate == "tanh":
        _over(x.size, 1, lambda lo, hi: lib.gelu_tanh_bwd_f32(pg, px, po, lo, hi))
    elif cdf is None:
        _over(x.size, 1, lambda lo, hi: lib.gelu_bwd_f32(pg, px, po, lo, hi))
    else:
        _over(x.size, 1, lambda lo, hi: lib.gelu_cdf_bwd_f32(pg, px, pc, po, lo, hi))
    return gx


def layer_norm(x, w, b, eps):
    """Layer norm of the rows of 2-D float32 ``x`` with optional weight and bias of its row length."""
    lib = _lib()
    rows, n = x.shape
    y = np.empty_like(x)
    w = np.ones(n, np.float32) if w is None else w
    b = np.zeros(n, np.float32) if b is None else b
    px, pw, pb, py = _ptr(x), _ptr(w), _ptr(b), _ptr(y)
    _over(rows, n, lambda lo, hi: lib.layer_norm_f32(px, pw, pb, py, n, float(eps), lo, hi))
    return y


def layer_norm_backward(g, x, w, eps):
    """(gx, dw, db) of layer norm over the rows of 2-D float32 ``x`` (weight ``w`` may be None)."""
    lib = _lib()
    rows, n = x.shape
    gx = np.empty_like(x)
    w = np.ones(n, np.float32) if w is None else w
    parts = {}  # accumulators per piece (pieces never write the same memory), summed in row order

    def piece(lo, hi):
        dw, db = np.zeros(n, np.float32), np.zeros(n, np.float32)
        parts[lo] = (dw, db)
        lib.layer_norm_bwd_f32(pg, px, pw, po, _ptr(dw), _ptr(db), n, float(eps), lo, hi)
    pg, px, pw, po = _ptr(g), _ptr(x), _ptr(w), _ptr(gx)
    _over(rows, n, piece)
    order = [parts[k] for k in sorted(parts)]
    dw, db = order[0]
    for pw_, pb_ in order[1:]:
        dw += pw_
        db += pb_
    return gx, dw, db


# softmax runs at ~0.2-0.6 ns per element: a piece must be this big to outweigh a thread hand-off (measured:
# 1024 x 256 log_softmax, 147 us on one thread, 150 us in two pieces)
_SOFTMAX_PIECE = 4 * ELEMS_PER_PIECE


def softmax(x, log, dead_zero=False):
    """softmax (or log_softmax) over the last dim of 2-D float32 ``x``; with ``dead_zero`` a softmax row of
    only -inf gives zeros (attention's fully masked rows), not NaN."""
    lib = _lib()
    rows, n = x.shape
    y = np.empty_like(x)
    px, py, lg, dz = _ptr(x), _ptr(y), int(bool(log)), int(bool(dead_zero))
    _over(rows, n, lambda lo, hi: lib.softmax_f32(px, py, n, lg, dz, lo, hi), _SOFTMAX_PIECE)
    return y


def softmax_backward(g, y, log):
    """Gradient of softmax (or log_softmax) over the last dim given its output ``y`` (2-D float32)."""
    lib = _lib()
    rows, n = y.shape
    gx = np.empty_like(y)
    pg, py, po, lg = _ptr(g), _ptr(y), _ptr(gx), int(bool(log))
    _over(rows, n, lambda lo, hi: lib.softmax_bwd_f32(pg, py, po, n, lg, lo, hi), _SOFTMAX_PIECE)
    return gx


def winograd_input(x, ph, pw, th, tw, out=None):
    """Winograd F(2x2, 3x3) input transform of float32 ``x`` (N, C, H, W), padded by ``ph``/``pw`` at the
    top/left, into ``th`` x ``tw`` tiles: ``(V, finite)`` with V (16, C, N * th * tw) (written into ``out``
    when given); ``finite`` is False when ``x`` held inf or NaN (V is then not to be used)."""
    lib = _lib()
    N, C, H, W = x.shape
    T = N * th * tw
    V = np.empty((16, C, T), np.float32) if out is None else out
    flags = []
    px, pv = _ptr(x), _ptr(V)
    _over(N * C, 16 * th * tw, lambda lo, hi: flags.append(lib.wino_in_f32(px, pv, C, H, W, ph, pw, th, tw, T,
                                                                            lo, hi)))
    if any(f < 0 for f in flags):
        raise MemoryError("winograd_input: out of memory for a tile row")
    return V, not any(flags)


def winograd_output(M, bias, oh, ow, th, tw, out):
    """Winograd F(2x2, 3x3) output transform into ``out`` (N, O, oh, ow) from the products M (16, O,
    N * th * tw), plus ``bias`` (O,) when given."""
    lib = _lib()
    N, O = out.shape[:2]
    T = M.shape[2]
    pm, pb, py = _ptr(M), _ptr(bias), _ptr(out)
    _over(N * O, 4 * th * tw, lambda lo, hi: lib.wino_out_f32(pm, pb, py, O, oh, ow, th, tw, T, lo, hi))
    return out


def winograd_output_t(g, th, tw, out=None):
    """Adjoint of ``winograd_output`` (no bias): dM (16, O, N * th * tw) from float32 g (N, O, oh, ow)."""
    lib = _lib()
    N, O, oh, ow = g.shape
    T = N * th * tw
    dM = np.empty((16, O, T), np.float32) if out is None else out
    pg, pd = _ptr(g), _ptr(dM)
    _over(N * O, 4 * th * tw, lambda lo, hi: lib.wino_out_t_f32(pg, pd, O, oh, ow, th, tw, T, lo, hi))
    return dM


def _samples(N, work, fn):
    """``fn(lo, hi)`` over N samples of ``work`` multiply-adds each, in pieces when the whole pays for them
    (see parallel.per_thread: BLAS's spinning workers slow small split kernels down)."""
    if N * work < parallel.PER_THREAD_WORK:
        fn(0, N)
    else:
        parallel.parallel_for(N, fn, min_size=max(1, (1 << 20) // max(work, 1)))


def conv_direct(buf, sample_stride, toff, wt, N, L):
    """Stride-1 convolution on a shifted-planes buffer (float32): y (N, O, L) with y[n, o, p] =
    sum_t wt[t, o] * buf[n * sample_stride + toff[t] + p] (``toff``: int64 tap offsets, ``wt``: (taps, O)).
    ``buf`` must be readable 16 values past the last tap of the last sample (the kernel computes whole
    blocks of 4 channels x 16 positions; the extra ones are dropped)."""
    lib = _lib()
    ntaps, O = wt.shape
    O4, L16 = -(-O // 4) * 4, -(-L // 16) * 16
    if O4 != O:
        wt = np.concatenate([wt, np.zeros((ntaps, O4 - O), np.float32)], 1)
    y = np.empty((N, O4, L16), np.float32)
    pb, pt, pw, py = _ptr(buf), _ptr(toff), _ptr(wt), _ptr(y)
    _samples(N, O4 * L16 * ntaps, lambda lo, hi: lib.conv_direct_f32(pb, sample_stride, pt, ntaps, pw, O4, py,
                                                                      O4 * L16, L16, lo, hi))
    return y[:, :O, :L]


def lib():
    """The loaded library itself, for loops that call a kernel many times with pointers they compute (a
    ``.ctypes.data`` costs ~1 us; an LSTM step's whole gate math ~3 us). None when unavailable."""
    return _lib()
