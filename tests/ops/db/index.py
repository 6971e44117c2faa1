"""Op-table rows for ember/ops/index.py: indexing (``t[key]``, ``t[key] = v``), gather/scatter,
index_select/add/copy/fill, masked_fill/select/scatter, take/put, index_put, take_along_dim, nonzero.

Index arrays are int64 NumPy arrays (they become index tensors); scatter-like samples that overwrite
avoid duplicate targets (torch leaves their order unspecified); samples with data-dependent output
shapes (masks, nonzero) skip the meta check.
"""
import numpy as np

from ..opinfo import ALL, FLOATS, OpInfo, Sample, arr, noncontig

I = np.int64


def ix(v):
    return np.array(v, dtype=I)


def _coords(idx, dim):
    nd = idx.ndim
    out = []
    for d in range(nd):
        if d == dim:
            out.append(idx)
        else:
            shp = [1] * nd
            shp[d] = idx.shape[d]
            out.append(np.arange(idx.shape[d]).reshape(shp))
    return tuple(out)


def _one(a):
    return a.reshape(1) if a.ndim == 0 else a


def _block(src, ishape):
    return _one(src)[tuple(slice(0, n) for n in (ishape or (1,)))]


# ---------------------------------------------------------------- gather / scatter
def _gather_ref(x, dim, idx):
    return _one(x)[_coords(_one(idx), dim % max(x.ndim, 1))].reshape(idx.shape)


def _gather_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), 0, ix([[0, 1, 2, 0], [2, 2, 1, 1]])), name="2d")
    yield Sample((arr((3, 4), dtype, seed=2), 1, ix([[3, 0], [1, 1], [2, 0]])), name="dim1")
    yield Sample((arr((2, 3, 4), dtype, seed=3), -1, ix(np.arange(12).reshape(2, 3, 2) % 4)), name="3d-neg")
    yield Sample((arr((3, 4), dtype, seed=4), 0, ix([[0, 2, 1], [1, 1, 0]])), name="smaller")
    yield Sample((arr((), dtype, seed=5), 0, ix(0)), name="0d")
    yield Sample((arr((3, 4), dtype, seed=6), 1, np.zeros((3, 0), I)), name="empty")
    yield Sample((noncontig(arr((3, 4), dtype, seed=7)), 1, ix([[0], [3], [2]])), name="noncontig")
    yield Sample((arr((3, 4), dtype), 0, ix([[3]])), name="oob", error=RuntimeError)
    yield Sample((arr((3, 4), dtype), 0, np.zeros((1, 1), np.float32)), name="float-index", error=RuntimeError)
    yield Sample((arr((3, 4), dtype), 0, ix([0])), name="ndim-mismatch", error=RuntimeError)
    yield Sample((arr((3, 4), dtype), 2, ix([[0]])), name="bad-dim", error=IndexError)


def _scatter_ref(x, dim, idx, src):
    out = x.copy()
    o = _one(out)
    d = dim % max(x.ndim, 1)
    o[_coords(_one(idx), d)] = _block(src, idx.shape) if isinstance(src, np.ndarray) else src
    return out


def _scatter_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), 0, ix([[0, 1, 2, 0], [2, 2, 1, 1]]), arr((2, 4), dtype, seed=8)),
                 name="2d")
    yield Sample((arr((3, 4), dtype, seed=2), 1, ix([[3, 0], [1, 2]]), arr((2, 2), dtype, seed=9)), name="dim1")
    yield Sample((arr((2, 3, 4), dtype, seed=3), -1, ix([[[0, 2]], [[3, 1]]]), arr((2, 1, 2), dtype, seed=10)),
                 name="3d-neg")
    yield Sample((arr((), dtype, seed=5), 0, ix(0), arr((), dtype, seed=11)), name="0d")
    yield Sample((arr((3, 4), dtype, seed=6), 1, np.zeros((3, 0), I), arr((3, 0), dtype)), name="empty")
    yield Sample((noncontig(arr((3, 4), dtype, seed=7)), 1, ix([[0], [3], [2]]), noncontig(arr((3, 1), dtype, seed=12))),
                 name="noncontig")
    yield Sample((arr((3, 4), dtype), 0, ix([[5]]), arr((1, 1), dtype)), name="oob", error=RuntimeError)


def _scatter_value_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), 0, ix([[0, 1, 2, 0]]), 1), name="2d")
    yield Sample((arr((2, 3, 4), dtype, seed=3), 2, ix([[[1, 3]]]), 0), {}, name="3d")
    yield Sample((arr((), dtype, seed=5), 0, ix([0]), 1), name="0d")


def _scatter_add_ref(x, dim, idx, src):
    out = x.copy()
    o = _one(out)
    np.add.at(o, _coords(_one(idx), dim % max(x.ndim, 1)), _block(src, idx.shape))
    return out


def _scatter_add_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), 0, ix([[0, 1, 2, 0], [0, 0, 0, 0]]), arr((2, 4), dtype, seed=8)),
                 name="2d-dups")
    yield Sample((arr((3, 4), dtype, seed=2), 1, ix([[3, 3], [1, 1]]), arr((2, 2), dtype, seed=9)), name="dim1")
    yield Sample((arr((), dtype, seed=5), 0, ix(0), arr((), dtype, seed=11)), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=7)), 1, ix([[0], [3], [2]]), arr((3, 1), dtype, seed=12)),
                 name="noncontig")
    yield Sample((arr((3, 4), dtype), 0, ix([[-1]]), arr((1, 1), dtype)), name="neg-index", error=RuntimeError)


def _scatter_reduce_ref(reduce):
    uf = {"sum": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}

    def ref(x, dim, idx, src, include_self=True):
        out = x.copy()
        o = _one(out)
        key = _coords(_one(idx), dim % max(x.ndim, 1))
        s = _block(src, idx.shape)
        if reduce == "mean":
            cnt = np.ones(o.shape, I) if include_self else np.zeros(o.shape, I)
            acc = o.astype(np.float64) if o.dtype.kind != "f" else o.copy()
            if not include_self:
                acc[key] = 0
            np.add.at(acc, key, s)
            np.add.at(cnt, key, 1)
            c = np.maximum(cnt, 1)
            o[...] = np.floor(acc / c) if o.dtype.kind in "iub" else acc / c
            return out
        if not include_self:
            o[key] = s
            if reduce == "sum":
                o[key] = 0
            elif reduce == "prod":
                o[key] = 1
        uf[reduce].at(o, key, s)
        return out
    return ref


def _scatter_reduce_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), 0, ix([[0, 1, 2, 0], [0, 0, 0, 0]]), arr((2, 4), dtype, seed=8)),
                 name="2d")
    yield Sample((arr((3, 4), dtype, seed=2), 1, ix([[3, 3], [1, 1]]), arr((2, 2), dtype, seed=9)),
                 {"include_self": False}, name="exclude-self")
    yield Sample((arr((), dtype, seed=5), 0, ix(0), arr((), dtype, seed=11)), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=7)), 1, ix([[0], [3], [3]]), arr((3, 1), dtype, seed=12)),
                 name="noncontig")


def _scatter_reduce_row(reduce, dtypes=ALL):
    def fn(mod, x, dim, idx, src, **kw):
        return mod.scatter_reduce(x, dim, idx, src, reduce, **kw)

    def samples(dtype):
        for s in _scatter_reduce_samples(dtype):
            yield Sample(s.args, s.kwargs, name=s.name)

    def ref(x, dim, idx, src, **kw):
        return _scatter_reduce_ref(reduce)(x, dim, idx, src, **kw)
    return OpInfo("scatter_reduce", samples, ref=ref, dtypes=dtypes, fn=fn, variant=reduce, method=False)


# ---------------------------------------------------------------- index_* family
def _index_select_ref(x, dim, idx):
    if x.ndim == 0:
        return x.copy()
    return np.take(x, idx.reshape(-1), axis=dim)


def _index_select_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), 0, ix([2, 0, 2])), name="2d")
    yield Sample((arr((2, 3, 4), dtype, seed=2), -1, ix([3, 1])), name="3d-neg")
    yield Sample((arr((3, 4), dtype, seed=3), 1, ix(2)), name="0d-index")
    yield Sample((arr((), dtype, seed=4), 0, ix([0])), name="0d")
    yield Sample((arr((3, 4), dtype, seed=5), 0, np.zeros(0, I)), name="empty")
    yield Sample((noncontig(arr((3, 4), dtype, seed=6)), 1, ix([0, 0, 3])), name="noncontig")
    yield Sample((arr((3, 4), dtype), 0, ix([3])), name="oob", error=IndexError)
    yield Sample((arr((3, 4), dtype), 0, ix([[0]])), name="2d-index", error=IndexError)


def _along(dim, idx):
    return (slice(None),) * dim + (idx,)


def _index_add_ref(x, dim, idx, src, alpha=1):
    out = x.copy()
    o = _one(out)
    s = _one(src) * alpha if alpha != 1 else _one(src)
    np.add.at(o, _along(dim % max(x.ndim, 1), _one(idx)), s.astype(o.dtype))
    return out


def _index_add_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), 0, ix([0, 0, 2]), arr((3, 4), dtype, seed=8)), name="dups")
    yield Sample((arr((3, 4), dtype, seed=2), -1, ix([3, 1]), arr((3, 2), dtype, seed=9)), {"alpha": 2}, name="alpha")
    yield Sample((arr((), dtype, seed=3), 0, ix(0), arr((), dtype, seed=10)), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=4)), 1, ix([1]), arr((3, 1), dtype, seed=11)), name="noncontig")
    yield Sample((arr((3, 4), dtype), 0, ix([0, 0]), arr((3, 4), dtype)), name="count-mismatch", error=RuntimeError)


def _index_copy_ref(x, dim, idx, src):
    out = x.copy()
    _one(out)[_along(dim % max(x.ndim, 1), _one(idx))] = _one(src)
    return out


def _index_copy_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), 0, ix([2, 0]), arr((2, 4), dtype, seed=8)), name="2d")
    yield Sample((arr((2, 3, 4), dtype, seed=2), -1, ix([3, 1]), arr((2, 3, 2), dtype, seed=9)), name="3d-neg")
    yield Sample((arr((), dtype, seed=3), 0, ix(0), arr((), dtype, seed=10)), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=4)), 1, ix([1]), noncontig(arr((3, 1), dtype, seed=11))),
                 name="noncontig")
    yield Sample((arr((3, 4), dtype), 0, ix([3]), arr((1, 4), dtype)), name="oob", error=IndexError)


def _index_fill_ref(x, dim, idx, value):
    out = x.copy()
    _one(out)[_along(dim % max(x.ndim, 1), _one(idx))] = value
    return out


def _index_fill_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), 0, ix([2, 0]), 1), name="2d")
    yield Sample((arr((2, 3, 4), dtype, seed=2), -1, ix([3, -1]), 0), name="3d-neg")
    yield Sample((arr((), dtype, seed=3), 0, ix(0), 1), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=4)), 1, ix([1]), 1), name="noncontig")
    yield Sample((arr((3, 4), dtype), 0, ix([3]), 1), name="oob", error=IndexError)


def _index_fill_tensor_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), 1, ix([2, 0]), arr((), dtype, seed=5)), name="2d")


# ---------------------------------------------------------------- masked_* family
def _masked_fill_ref(x, mask, value):
    return np.where(mask, np.asarray(value).astype(x.dtype), x)


def _masked_fill_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), arr((3, 4), "bool", seed=2), 1), name="2d")
    yield Sample((arr((3, 4), dtype, seed=3), arr((4,), "bool", seed=4), 0), name="broadcast-mask")
    yield Sample((arr((), dtype, seed=5), np.array(True), 1), name="0d")
    yield Sample((arr((0, 3), dtype), arr((0, 3), "bool"), 1), name="empty")
    yield Sample((noncontig(arr((3, 4), dtype, seed=6)), noncontig(arr((3, 4), "bool", seed=7)), 1), name="noncontig")
    yield Sample((arr((3, 4), dtype, seed=1), arr((3, 4), "int64", seed=2), 1), name="int-mask", error=RuntimeError)


def _masked_fill_tensor_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), arr((3, 4), "bool", seed=2), arr((), dtype, seed=3)), name="2d")
    yield Sample((arr((4,), dtype, seed=1), arr((3, 4), "bool", seed=2), arr((), dtype, seed=3)), name="grow")


def _masked_select_ref(x, mask):
    s = np.broadcast_shapes(x.shape, mask.shape)
    return np.broadcast_to(x, s)[np.broadcast_to(mask, s)]


def _masked_select_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), arr((3, 4), "bool", seed=2)), name="2d")
    yield Sample((arr((4,), dtype, seed=3), arr((3, 4), "bool", seed=4)), name="broadcast")
    yield Sample((arr((), dtype, seed=5), np.array(True)), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=6)), noncontig(arr((3, 4), "bool", seed=7))), name="noncontig")
    yield Sample((arr((3, 4), dtype), arr((2, 4), "bool")), name="bad-shape", error=RuntimeError)


def _masked_scatter_ref(x, mask, src):
    s = np.broadcast_shapes(x.shape, mask.shape)
    out = np.broadcast_to(x, s).copy()
    m = np.broadcast_to(mask, s)
    out[m] = src.reshape(-1)[:int(m.sum())]
    return out


def _masked_scatter_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), arr((3, 4), "bool", seed=2), arr((12,), dtype, seed=3)), name="2d")
    yield Sample((arr((3, 4), dtype, seed=4), arr((4,), "bool", seed=5), arr((4, 4), dtype, seed=6)), name="broadcast")
    yield Sample((arr((), dtype, seed=5), np.array(True), arr((2,), dtype, seed=7)), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=6)), noncontig(arr((3, 4), "bool", seed=7)),
                  noncontig(arr((4, 3), dtype, seed=8))), name="noncontig")
    yield Sample((arr((3, 4), dtype), np.ones((3, 4), bool), arr((5,), dtype)), name="short-source", error=RuntimeError)


# ---------------------------------------------------------------- take / put / index_put / take_along_dim
def _take_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), ix([[0, 11], [-1, 5]])), name="2d")
    yield Sample((arr((), dtype, seed=2), ix(0)), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=3)), ix([1, 2, 3, 4])), name="noncontig")
    yield Sample((arr((3, 4), dtype, seed=4), np.zeros((0,), I)), name="empty")
    yield Sample((arr((3, 4), dtype), ix([12])), name="oob", error=IndexError)


def _put_ref(x, idx, src, accumulate=False):
    out = x.copy()
    flat = out.reshape(-1)
    if accumulate:
        np.add.at(flat, idx.reshape(-1), src.reshape(-1))
    else:
        flat[idx.reshape(-1)] = src.reshape(-1)
    return out


def _put_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), ix([[0, 11], [-2, 5]]), arr((2, 2), dtype, seed=2)), name="2d")
    yield Sample((arr((3, 4), dtype, seed=3), ix([1, 1, 2]), arr((3,), dtype, seed=4)), {"accumulate": True},
                 name="accumulate")
    yield Sample((arr((), dtype, seed=5), ix(0), arr((), dtype, seed=6)), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=7)), ix([1, 4]), arr((2,), dtype, seed=8)), name="noncontig")
    yield Sample((arr((3, 4), dtype), ix([0, 1]), arr((3,), dtype)), name="numel-mismatch", error=IndexError)


def _index_put_ref(x, indices, values, accumulate=False):
    out = x.copy()
    key = tuple(indices)
    if accumulate:
        np.add.at(out, key, values)
    else:
        out[key] = values
    return out


def _index_put_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), (ix([0, 2]), ix([1, 3])), arr((2,), dtype, seed=2)), name="2d")
    yield Sample((arr((3, 4), dtype, seed=3), (ix([0, 0, 2]),), arr((4,), dtype, seed=4), True), name="accumulate")
    yield Sample((arr((2, 3, 4), dtype, seed=5), (ix([[1], [0]]), ix([2, 0, 1])), arr((), dtype, seed=6)),
                 name="broadcast")
    yield Sample((noncontig(arr((3, 4), dtype, seed=7)), (ix([1]),), arr((1, 4), dtype, seed=8)), name="noncontig")
    yield Sample((arr((3, 4), dtype), (ix([3]),), arr((), dtype)), name="oob", error=IndexError)


def _index_put_mask_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), (arr((3, 4), "bool", seed=2),), arr((), dtype, seed=3)), name="mask")


def _take_along_dim_ref(x, idx, dim=None):
    if dim is None:
        return x.reshape(-1)[idx.reshape(-1)]
    d = dim % max(x.ndim, 1)
    ish = list(x.shape)
    jsh = list(idx.shape)
    ish[d] = jsh[d] = 1
    b = list(np.broadcast_shapes(tuple(ish), tuple(jsh)))
    xs, js = list(b), list(b)
    xs[d], js[d] = x.shape[d], idx.shape[d]
    return np.take_along_axis(np.broadcast_to(x, xs), np.broadcast_to(idx, js), d)


def _take_along_dim_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), ix([[0, 3], [1, 1], [2, 0]]), 1), name="2d")
    yield Sample((arr((3, 4), dtype, seed=2), ix([[0, 1, 2, 2]]), 0), name="broadcast")
    yield Sample((arr((3, 4), dtype, seed=3), ix([[0], [5]])), name="flat")
    yield Sample((noncontig(arr((3, 4), dtype, seed=4)), ix([[3], [2], [1]]), -1), name="noncontig")
    yield Sample((arr((3, 4), dtype), ix([0, 1]), 1), name="ndim-mismatch", error=RuntimeError)


def _nonzero_samples(dtype):
    yield Sample((arr((3, 4), dtype, -1, 1, seed=1),), name="2d")
    yield Sample((arr((), dtype, -1, 1, seed=2),), name="0d")
    yield Sample((arr((0, 3), dtype),), name="empty")
    yield Sample((noncontig(arr((3, 4), dtype, -1, 1, seed=3)),), name="noncontig")
    yield Sample((arr((2, 3, 4), dtype, -1, 1, seed=4),), name="3d")


def _nonzero_ref(x):
    if x.ndim == 0:
        return np.zeros((1 if x != 0 else 0, 0), I)
    return np.argwhere(x)


def _fill_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), 1), name="2d")
    yield Sample((arr((), dtype, seed=2), 0), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=3)), 1), name="noncontig")


# ---------------------------------------------------------------- t[key] and t[key] = v
def _getitem_samples(dtype):
    x = arr((3, 4), dtype, seed=1)
    a = arr((2, 3, 4), dtype, seed=2)
    for name, t, key in [("int", x, 1), ("neg-int", x, -1), ("slice", x, slice(1, None)),
                         ("step", a, (slice(None), slice(None, None, 2))), ("none", x, (None, 1)),
                         ("ellipsis", a, (Ellipsis, 2)), ("mixed", a, (1, None, slice(0, 2), Ellipsis)),
                         ("0d-ellipsis", np.asarray(arr((), dtype, seed=3)), Ellipsis),
                         ("index", x, ix([2, 0, 2])), ("index-2d", a, (ix([[0], [1]]), slice(None), ix([3, 0]))),
                         ("split-adv", a, (ix([0, 1]), slice(1, 3), ix([1, 2]))), ("int-adv", a, (0, slice(None), ix([0, 1]))),
                         ("noncontig", noncontig(x), (slice(None), 1)), ("noncontig-adv", noncontig(x), ix([1, 1]))]:
        yield Sample((t,), {"key": key}, name=name)
    yield Sample((x,), {"key": 3}, name="oob", error=IndexError)


def _getitem_mask_samples(dtype):
    x = arr((3, 4), dtype, seed=1)
    yield Sample((x,), {"key": arr((3, 4), "bool", seed=4)}, name="mask")
    yield Sample((x,), {"key": (slice(None), arr((4,), "bool", seed=5))}, name="mask-dim1")
    yield Sample((arr((), dtype, seed=3),), {"key": np.array(True)}, name="0d-true")


def _getitem(mod, x, key):
    return x[key]


def _getitem_ref(x, key):
    if isinstance(key, np.ndarray) and key.dtype == bool and key.ndim == 0:
        return x[None][np.array([0] if key else [], I)]
    if isinstance(key, tuple) and any(isinstance(k, int) for k in key) and \
            any(isinstance(k, np.ndarray) for k in key):
        # torch applies integers first (as select), then the tensors; NumPy treats both as advanced
        v = x[tuple(k if isinstance(k, int) else slice(None) for k in key)]
        return v[tuple(k for k in key if not isinstance(k, int))]
    return x[key]


def _setitem_samples(dtype):
    x = arr((3, 4), dtype, seed=1)
    yield Sample((x, 1, arr((4,), dtype, seed=2)), name="row")
    yield Sample((x, (slice(None), slice(1, 3)), arr((3, 1), dtype, seed=3)), name="broadcast")
    yield Sample((x, ix([0, 2]), arr((2, 4), dtype, seed=4)), name="index")
    yield Sample((x, (ix([0, 2]), ix([1, 1])), arr((), dtype, seed=5)), name="index-0d-value")
    yield Sample((noncontig(x), (slice(None), 2), arr((3,), dtype, seed=6)), name="noncontig")
    yield Sample((x, (0, slice(None)), arr((5,), dtype)), name="bad-shape", error=RuntimeError)


def _setitem(mod, x, key, value):
    y = x.clone()
    y[key] = value
    return y


def _setitem_ref(x, key, value):
    y = x.copy()
    y[key] = value
    return y


OPS = [
    OpInfo("gather", _gather_samples, ref=_gather_ref, dtypes=ALL),
    OpInfo("scatter", _scatter_samples, ref=_scatter_ref, dtypes=ALL, inplace=True),
    OpInfo("scatter", _scatter_value_samples, ref=_scatter_ref, dtypes=ALL, inplace=True, variant="value"),
    OpInfo("scatter_add", _scatter_add_samples, ref=_scatter_add_ref, dtypes=FLOATS + ("int64", "int32", "uint8"),
           inplace=True),
    _scatter_reduce_row("sum", FLOATS + ("int64", "int32")), _scatter_reduce_row("prod", FLOATS + ("int64",)),
    _scatter_reduce_row("mean", FLOATS + ("int64", "int32")), _scatter_reduce_row("amax", FLOATS + ("int64", "uint8")),
    _scatter_reduce_row("amin", FLOATS + ("int64", "int8")),
    OpInfo("index_select", _index_select_samples, ref=_index_select_ref, dtypes=ALL),
    OpInfo("index_add", _index_add_samples, ref=_index_add_ref, dtypes=FLOATS + ("int64", "int32", "uint8"),
           inplace=True),
    OpInfo("index_copy", _index_copy_samples, ref=_index_copy_ref, dtypes=ALL, inplace=True),
    OpInfo("index_fill", _index_fill_samples, ref=_index_fill_ref, dtypes=ALL, inplace=True),
    OpInfo("index_fill", _index_fill_tensor_samples, ref=_index_fill_ref, dtypes=FLOATS + ("int64",), inplace=True,
           variant="tensor"),
    OpInfo("masked_fill", _masked_fill_samples, ref=_masked_fill_ref, dtypes=ALL, inplace=True),
    OpInfo("masked_fill", _masked_fill_tensor_samples, ref=_masked_fill_ref, dtypes=FLOATS + ("int64",),
           inplace=True, variant="tensor"),
    OpInfo("masked_select", _masked_select_samples, ref=_masked_select_ref, dtypes=ALL, skip=("meta",)),
    OpInfo("masked_scatter", _masked_scatter_samples, ref=_masked_scatter_ref, dtypes=ALL, inplace=True),
    OpInfo("take", _take_samples, ref=lambda x, idx: x.reshape(-1)[idx], dtypes=ALL),
    OpInfo("put", _put_samples, ref=_put_ref, dtypes=FLOATS + ("int64", "int32", "uint8"), inplace=True),
    OpInfo("index_put", _index_put_samples, ref=_index_put_ref, dtypes=FLOATS + ("int64", "int32", "uint8"),
           inplace=True),
    OpInfo("index_put", _index_put_mask_samples, ref=_index_put_ref, dtypes=FLOATS + ("int64",), inplace=True,
           variant="mask", skip=("meta",)),
    OpInfo("take_along_dim", _take_along_dim_samples, ref=_take_along_dim_ref, dtypes=ALL),
    OpInfo("nonzero", _nonzero_samples, ref=_nonzero_ref, dtypes=ALL, grad=False, skip=("meta",)),
    OpInfo("argwhere", _nonzero_samples, ref=_nonzero_ref, dtypes=FLOATS + ("int64", "bool"), grad=False,
           skip=("meta",)),
    OpInfo("fill", _fill_samples, ref=lambda x, v: np.full_like(x, v), dtypes=ALL, method=False, inplace=True),
    OpInfo("getitem", _getitem_samples, ref=_getitem_ref, dtypes=ALL, fn=_getitem, view=True, strides=True),
    OpInfo("getitem", _getitem_mask_samples, ref=_getitem_ref, dtypes=FLOATS + ("int64", "bool"), fn=_getitem,
           variant="mask", skip=("meta",)),
    OpInfo("setitem", _setitem_samples, ref=_setitem_ref, dtypes=ALL, fn=_setitem),
]
