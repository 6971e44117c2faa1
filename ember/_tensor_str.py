"""Printing tensors the way torch does: ``tensor([1., 2.], requires_grad=True)``.

All values are formatted on the host from a NumPy copy. One formatter per tensor (two for complex:
real and imaginary parts) decides the number style once from every value that will be printed, so
all elements share one width: integer style ``1.``, fixed ``1.2500`` or scientific ``1.2500e+10``.
"""
import math

import numpy as np

from . import _dtype as D

_DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80}
_PROFILES = {
    "default": dict(_DEFAULTS),
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}
_opts = dict(_DEFAULTS, sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    """Set how tensors print: digits, summarisation threshold, edge items, line width, style."""
    if profile in _PROFILES:  # torch ignores an unknown profile name
        _opts.update(_PROFILES[profile])
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                 ("linewidth", linewidth)):
        if v is not None:
            _opts[k] = v
    # torch always assigns sci_mode, so leaving it out goes back to automatic
    _opts["sci_mode"] = sci_mode


def get_printoptions():
    """The current print options as a dict (precision, threshold, edgeitems, linewidth, sci_mode)."""
    return dict(_opts)


class _Formatter:
    """Chooses one style and width from the values that will be shown, then formats each of them."""

    def __init__(self, a, floating):
        self.floating = floating
        self.int_mode, self.sci_mode, self.width = True, False, 1
        flat = a.reshape(-1)
        prec = _opts["precision"]
        if not floating:
            for v in flat.tolist():
                self.width = max(self.width, len(str(v)))
            return
        vals = flat[np.isfinite(flat) & (flat != 0)]
        if vals.size:
            absv = np.abs(vals)
            mx, mn = float(absv.max()), float(absv.min())
            self.int_mode = bool(np.all(vals == np.ceil(vals)))
            forced = _opts["sci_mode"]
            # a forced style also decides the width, so a forced fixed style pads to the fixed width
            self.sci_mode = (mx / mn > 1000.0 or mx > 1.0e8 or mn < 1.0e-4) if forced is None else forced
            vl = vals.tolist()
            if self.sci_mode:
                self.width = max(len(f"{v:.{prec}e}") for v in vl)
            elif self.int_mode:
                self.width = max(len(f"{v:.0f}") for v in vl) + 1  # room for the trailing '.'
            else:
                self.width = max(len(f"{v:.{prec}f}") for v in vl)

    def format(self, v):
        if self.floating:
            prec = _opts["precision"]
            if self.sci_mode:
                s = f"{v:{self.width}.{prec}e}"
            elif self.int_mode:
                s = f"{v:.0f}"
                if not (math.isinf(v) or math.isnan(v)):
                    s += "."
            else:
                s = f"{v:.{prec}f}"
        else:
            s = str(v)
        return " " * (self.width - len(s)) + s


def _summarized(a, edge):
    """The values a summarised print shows (edge rows of every dim), for choosing the style."""
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        # with edge == 0, a[-0:] is the whole vector, exactly as torch's slicing gives
        return np.concatenate((a[:edge], a[-edge:])) if a.shape[0] > 2 * edge else a
    if not edge:
        return np.empty((0,) * a.ndim, a.dtype)
    n = a.shape[0]
    rows = list(range(edge)) + list(range(n - edge, n)) if n > 2 * edge else range(n)
    return np.stack([_summarized(a[i], edge) for i in rows])


def _join_complex(re_s, im_s):
    im_s = (im_s + "j").lstrip()
    return re_s + im_s if im_s[0] in "+-" else re_s + "+" + im_s


def _scalar_str(a, f1, f2):
    if f2 is not None:
        return _join_complex(f1.format(a.real.item()), f2.format(a.imag.item()))
    return f1.format(a.item())


def _vector_str(a, indent, summarize, f1, f2):
    elem_len = f1.width + 2
    if f2 is not None:
        elem_len += f2.width + 1  # the imaginary part and its 'j'
    per_line = max(1, int(math.floor((_opts["linewidth"] - indent) / elem_len)))

    if f2 is not None:
        def fmt(vals):
            return [_join_complex(f1.format(v.real), f2.format(v.imag)) for v in vals.tolist()]
    else:
        def fmt(vals):
            return [f1.format(v) for v in vals.tolist()]

    edge = _opts["edgeitems"]
    if summarize and not edge:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * edge:
        data = fmt(a[:edge]) + [" ..."] + fmt(a[-edge:])
    else:
        data = fmt(a)
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _str_with_formatter(a, indent, summarize, f1, f2=None):
    nd = a.ndim
    if nd == 0:
        return _scalar_str(a, f1, f2)
    if nd == 1:
        return _vector_str(a, indent, summarize, f1, f2)
    edge = _opts["edgeitems"]
    n = a.shape[0]
    if summarize and n > 2 * edge:
        slices = [_str_with_formatter(a[i], indent + 1, summarize, f1, f2) for i in range(edge)] + ["..."] + \
                 [_str_with_formatter(a[i], indent + 1, summarize, f1, f2) for i in range(n - edge, n)]
    else:
        slices = [_str_with_formatter(a[i], indent + 1, summarize, f1, f2) for i in range(n)]
    return "[" + ("," + "\n" * (nd - 1) + " " * (indent + 1)).join(slices) + "]"


def _host_values(t):
    """The tensor's values as a host NumPy array in a dtype Python can format (half types -> float32)."""
    a = t._device.backend.to_host(t._data)
    dt = t.dtype
    if dt is D.bfloat16 or dt is D.float16:
        a = a.astype(np.float32)
    return a


def _tensor_str(t, indent):
    if t._data.size == 0:
        return "[]"
    summarize = t._data.size > _opts["threshold"]
    a = _host_values(t)
    edge = _opts["edgeitems"]
    if t.dtype.category == 3:
        re, im = a.real.astype(np.float64), a.imag.astype(np.float64)
        f1 = _Formatter(_summarized(re, edge) if summarize else re, True)
        f2 = _Formatter(_summarized(im, edge) if summarize else im, True)
        return _str_with_formatter(a.astype(np.complex128), indent, summarize, f1, f2)
    floating = t.dtype.category == 2
    if floating:
        a = a.astype(np.float64)
    f = _Formatter(_summarized(a, edge) if summarize else a, floating)
    return _str_with_formatter(a, indent, summarize, f)


def _add_suffixes(body, suffixes, indent):
    """Append ``, suffix`` items, starting a new line (indented) when one would pass the line width."""
    parts = [body]
    # torch's measure of the last line (one more than its length when there is no newline at all)
    last = len(body) - body.rfind("\n") + 1
    width = _opts["linewidth"]
    for suf in suffixes:
        if last + len(suf) + 2 > width:
            parts.append(",\n" + " " * indent + suf)
            last = indent + len(suf)
        else:
            parts.append(", " + suf)
            last += len(suf) + 2
    parts.append(")")
    return "".join(parts)


def _prefix(t):
    cls = type(t)
    # ember's own subclasses (Parameter, Buffer, ...) print as plain tensors, user subclasses by name
    if cls.__module__.split(".")[0] == "ember":
        return "tensor("
    return cls.__name__ + "("


def tensor_repr(t, tensor_contents=None):
    """torch's ``repr(tensor)``: values, then device / size / dtype / grad suffixes."""
    prefix = _prefix(t)
    indent = len(prefix)
    suffixes = []
    dev = t._device
    dt = t.dtype
    default = D.get_default_dtype()
    if dev.type != "cpu":
        suffixes.append(f"device='{dev}'")
    default_complex = D.complex128 if default is D.float64 else D.complex64
    has_default_dtype = dt is default or dt is default_complex or dt is D.int64 or dt is D.bool_
    body = tensor_contents
    if dev.type == "meta":
        suffixes.append(f"size={tuple(t._data.shape)}")
        if dt is not default:
            suffixes.append(f"dtype={dt}")
        if body is None:
            body = "..."
    elif t._data.size == 0:
        if t._data.ndim != 1:
            suffixes.append(f"size={tuple(t._data.shape)}")
        # no values to tell int64 from other dtypes, so anything but the default float is named
        if dt is not default:
            suffixes.append(f"dtype={dt}")
        if body is None:
            body = "[]"
    else:
        if not _opts["edgeitems"]:
            suffixes.append(f"size={tuple(t._data.shape)}")
        if not has_default_dtype:
            suffixes.append(f"dtype={dt}")
        if body is None:
            body = _tensor_str(t, indent)
    fn = t.grad_fn
    if fn is not None:
        suffixes.append(f"grad_fn=<{fn.name().rsplit('::', 1)[-1]}>")
    elif t._rg:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
