"""Printing tensors the way torch does: ``tensor([1., 2.], requires_grad=True)``."""
import numpy as np

from . import _dtype as D

_opts = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    """Set how tensors print (torch.set_printoptions)."""
    if profile == "default":
        _opts.update(precision=4, threshold=1000, edgeitems=3, linewidth=80)
    elif profile == "short":
        _opts.update(precision=2, threshold=1000, edgeitems=2, linewidth=80)
    elif profile == "full":
        _opts.update(precision=4, threshold=float("inf"), edgeitems=3, linewidth=80)
    for k, v in dict(precision=precision, threshold=threshold, edgeitems=edgeitems, linewidth=linewidth).items():
        if v is not None:
            _opts[k] = v
    _opts["sci_mode"] = sci_mode


def get_printoptions():
    return dict(_opts)


def _fmt_float_array(a):
    """Format finite floats with torch's rules: common width, int mode / fixed / scientific."""
    finite = a[np.isfinite(a)]
    prec = _opts["precision"]
    if finite.size == 0:
        int_mode, sci = False, False
    else:
        absf = np.abs(finite.astype(np.float64))
        int_mode = bool(np.all(finite == np.round(finite)))
        nz = absf[absf != 0]
        mx, mn = (nz.max(), nz.min()) if nz.size else (0.0, 0.0)
        sci = bool(nz.size and (mx / mn > 1000.0 or mx > 1e8 or mn < 1e-4)) if not int_mode else bool(
            nz.size and mx > 1e8)
    if _opts["sci_mode"] is not None:
        sci = _opts["sci_mode"]

    def one(v):
        if np.isnan(v):
            return "nan"
        if np.isinf(v):
            return "inf" if v > 0 else "-inf"
        if sci:
            return f"{v:.{prec}e}"
        if int_mode:
            return f"{v:.0f}."
        return f"{v:.{prec}f}"
    return one


def _formatter(a, dt):
    if dt is D.bool_:
        return lambda v: "True" if v else "False"
    if dt.category == 1:
        return lambda v: str(int(v))
    if dt.category == 3:
        fr = _fmt_float_array(a.real.astype(np.float64).ravel())
        fi = _fmt_float_array(a.imag.astype(np.float64).ravel())
        return lambda v: f"{fr(v.real)}{'+' if not (v.imag < 0 or np.signbit(v.imag)) else '-'}" \
                         f"{fi(abs(v.imag))}j"
    return _fmt_float_array(a.astype(np.float64).ravel())


def _summarize(a, edge):
    """Indices kept when printing a summarised tensor (edgeitems from each end of every dim)."""
    return a


def _to_str(a, dt, indent, summarize):
    fmt = _formatter(a if not summarize else _edges(a), dt)
    items = [fmt(v) for v in (_edges(a).ravel() if summarize else a.ravel())]
    width = max((len(s) for s in items), default=0)
    edge = _opts["edgeitems"]

    def rec(x, ind):
        if x.ndim == 0:
            return fmt(x.item() if dt is not D.bfloat16 else float(x)).rjust(width)
        if x.ndim == 1:
            n = x.shape[0]
            if summarize and n > 2 * edge:
                parts = [fmt(v).rjust(width) for v in x[:edge]] + ["..."] + [fmt(v).rjust(width) for v in x[-edge:]]
            else:
                parts = [fmt(v).rjust(width) for v in x]
            per_line = max(1, (_opts["linewidth"] - ind) // (width + 2))
            lines = [", ".join(parts[i:i + per_line]) for i in range(0, len(parts), per_line)]
            return "[" + (",\n" + " " * (ind + 1)).join(lines) + "]"
        n = x.shape[0]
        if summarize and n > 2 * edge:
            rows = [rec(x[i], ind + 1) for i in range(edge)] + ["..."] + [rec(x[i], ind + 1) for i in range(n - edge, n)]
        else:
            rows = [rec(x[i], ind + 1) for i in range(n)]
        sep = "," + "\n" * (x.ndim - 1) + " " * (ind + 1)
        return "[" + sep.join(rows) + "]"
    return rec(a, indent)


def _edges(a):
    edge = _opts["edgeitems"]
    for d in range(a.ndim):
        if a.shape[d] > 2 * edge:
            a = np.concatenate([np.take(a, range(edge), axis=d), np.take(a, range(a.shape[d] - edge, a.shape[d]),
                                                                          axis=d)], axis=d)
    return a


def tensor_repr(t):
    prefix = "tensor("
    suffixes = []
    dt = t.dtype
    dev = t.device
    if dev.type != "cpu":
        suffixes.append(f"device='{dev}'")
    if dev.type == "meta":
        body = "..."
        suffixes.insert(0, f"size={tuple(t.shape)}")
    else:
        a = dev.backend.to_host(t._data)
        if dt is D.bfloat16 or dt is D.float16:
            a = a.astype(np.float32)
        if a.size == 0:
            body = "[]"
            if a.ndim != 1:
                suffixes.append(f"size={tuple(t.shape)}")
        else:
            summarize = a.size > _opts["threshold"]
            body = _to_str(a, dt, len(prefix), summarize)
    default_dt = D.get_default_dtype()
    show_dtype = not (dt is default_dt or dt is D.int64 or dt is D.bool_ or
                      (dt is D.complex64 and default_dt is D.float32) or
                      (dt is D.complex128 and default_dt is D.float64))
    if t.device.type != "meta" and t._data.size == 0 and dt is not default_dt:
        show_dtype = True if dt is not D.int64 or True else show_dtype
        if dt is D.int64:
            show_dtype = True
    if show_dtype:
        suffixes.append(f"dtype={dt}")
    fn = t.grad_fn
    if fn is not None:
        suffixes.append(f"grad_fn=<{fn.name()}>")
    elif t._rg:
        suffixes.append("requires_grad=True")
    s = prefix + body
    for suf in suffixes:
        s += ", " + suf
    return s + ")"
