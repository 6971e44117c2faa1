"""Meta-device results keep torch's layout: an elementwise op's result takes its inputs' strides (a transposed
or channels-last input gives a transposed or channels-last result), over the op table's non-contiguous
samples, compared with torch's meta tensors."""
import warnings

import numpy as np
import pytest

import ember
from ember.backend import meta_backend as M

from ..ops.op_db import OP_DB
from ..ops.opinfo import DT

torch = pytest.importorskip("torch")

_NOT_ELEMENTWISE = "not an elementwise op: its meta result is C-contiguous; torch's keeps the input's layout"
# rows whose meta strides still differ from torch's (strict: they fail loudly once fixed)
KNOWN = {
    # torch's own meta kernels of these give C order, while its CPU kernels (and ember's meta) keep the layout
    **{k: "torch's meta kernel gives C order (its CPU kernel keeps the layout, as ember's meta does)"
       for k in ("div.floor", "floor_divide", "__floordiv__", "__rfloordiv__", "copysign", "xlogy")},
    **{k: _NOT_ELEMENTWISE for k in (
        "frexp", "isin", "select_scatter", "slice_scatter", "diagonal_scatter", "index_fill", "put",
        "index_put", "fill", "flip", "fliplr", "flipud", "sort", "argsort", "msort")},
}


def _meta(mod, v):
    if isinstance(v, np.ndarray):
        dt = getattr(mod, str(v.dtype))
        st = tuple(s // v.itemsize for s in v.strides)
        if not v.size or any(s < 0 for s in st):
            return mod.empty(v.shape, dtype=dt, device="meta")
        return mod.empty_strided(v.shape, st, dtype=dt, device="meta")
    if isinstance(v, DT):
        return getattr(mod, v.name)
    if isinstance(v, list):
        return [_meta(mod, x) for x in v]
    if type(v) is tuple:
        return tuple(_meta(mod, x) for x in v)
    return v


def _layout(t):
    """Strides of the dims longer than 1: what the memory layout depends on (torch's own CPU and meta
    kernels give size-1 dims different strides at times)."""
    return tuple(st for n, st in zip(t.shape, t.stride()) if n != 1)


def _flat(r, mod):
    if isinstance(r, (tuple, list)):
        return [t for x in r for t in _flat(x, mod)]
    return [r] if isinstance(r, mod.Tensor) else []


def _noncontig(s):
    return s.error is None and any(isinstance(a, np.ndarray) and a.ndim and a.size > 1 and not a.flags.c_contiguous
                                   for a in s.args)


ROWS = [op for op in OP_DB if any(_noncontig(s) for s in op.samples(op.dtypes[0]))]


@pytest.mark.parametrize("op", [pytest.param(op, id=op.id, marks=[pytest.mark.xfail(reason=KNOWN[op.id], strict=True)]
                                             if op.id in KNOWN else []) for op in ROWS])
def test_meta_strides(op):
    bad = []
    for s in op.samples(op.dtypes[0]):
        if not _noncontig(s):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                want = op.call(torch, *[_meta(torch, a) for a in s.args],
                               **{k: _meta(torch, v) for k, v in s.kwargs.items()})
            except Exception:  # noqa: BLE001 - torch has no meta kernel for it: nothing to compare
                continue
            got = op.call(ember, *[_meta(ember, a) for a in s.args],
                          **{k: _meta(ember, v) for k, v in s.kwargs.items()})
        for i, (t, e) in enumerate(zip(_flat(want, torch), _flat(got, ember))):
            assert e.device.type == "meta"
            if t.numel() > 1 and _layout(t) != _layout(e):
                bad.append(f"{s.name} result[{i}] {tuple(t.shape)}: torch {t.stride()}, ember {e.stride()}")
    assert not bad, "\n".join(bad)


LAYOUTS = [((3, 4), (1, 3)), ((2, 3, 4, 5), (60, 1, 15, 3)), ((4, 6), (12, 2)), ((2, 3, 4), (1, 2, 6)),
           ((3, 1, 4), (4, 4, 1)), ((3, 1, 4), (4, 1, 1)), ((2, 2), (1, 2))]


@pytest.mark.parametrize("shape,strides", LAYOUTS)
def test_unary_and_binary_layouts(shape, strides):
    """Unary, binary with a contiguous or broadcast partner, and a scalar operand, as torch lays them out."""
    def progs(m, x):
        c = m.empty(shape, device="meta")
        row = m.empty(shape[-1:], device="meta")
        return [x.exp(), x + c, c + x, x * 2, x + row, row + x, m.where(x > 0, x, c), x.clamp(0, 1),
                m.lerp(x, c, 0.5), m.addcmul(x, c, c)]
    for t, e in zip(progs(torch, torch.empty_strided(shape, strides, device="meta")),
                    progs(ember, ember.empty_strided(shape, strides, device="meta"))):
        assert _layout(e) == _layout(t), (t.stride(), e.stride())


def test_strides_rule():
    """The layout rule on its own: contiguous and channels-last fast paths, the first input breaking ties."""
    assert M.elementwise_strides((3, 4), [((3, 4), (4, 1))]) == (4, 1)
    assert M.elementwise_strides((3, 4), [((3, 4), (1, 3)), ((3, 4), (4, 1))]) == (1, 3)
    assert M.elementwise_strides((3, 4), [((3, 4), (4, 1)), ((3, 4), (1, 3))]) == (4, 1)
    assert M.elementwise_strides((2, 3, 4, 5), [((2, 3, 4, 5), (60, 1, 15, 3))]) == (60, 1, 15, 3)
    assert M.elementwise_strides((), []) == ()
    assert M.elementwise_strides((3, 4), [((4,), (1,))]) == (4, 1)
