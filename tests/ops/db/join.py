"""Op-table rows for ember/ops/join.py: cat/stack and the h/v/d/column/row stacks, tile/repeat/
repeat_interleave, flip/fliplr/flipud/roll/rot90, tril/triu, diag/diag_embed/diagflat/block_diag,
cartesian_prod and meshgrid."""
import numpy as np

from ..opinfo import ALL, FLOATS, OpInfo, Sample, arr, noncontig

I = np.int64


# ---------------------------------------------------------------- cat / stack family
def _cat_ref(ts, dim=0):
    kept = [t for t in ts if not (t.ndim == 1 and t.shape[0] == 0)] or ts
    return np.concatenate(kept, axis=dim)


def _cat_samples(dtype):
    yield Sample(([arr((3, 4), dtype, seed=1), arr((2, 4), dtype, seed=2)],), name="dim0")
    yield Sample(([arr((3, 4), dtype, seed=1), arr((3, 1), dtype, seed=2), arr((3, 2), dtype, seed=3)], -1),
                 name="dim-neg")
    yield Sample(([arr((2, 3, 4), dtype, seed=4), arr((2, 1, 4), dtype, seed=5)], 1), name="3d")
    yield Sample(([arr((3, 4), dtype, seed=6), arr((0,), dtype)], 1), name="skip-empty")
    yield Sample(([noncontig(arr((3, 4), dtype, seed=7)), arr((3, 4), dtype, seed=8)],), name="noncontig")
    yield Sample(([arr((3,), dtype, seed=9)],), name="single")
    yield Sample(([arr((0, 2), dtype), arr((1, 2), dtype, seed=10)],), name="empty")
    yield Sample(([arr((3, 4), dtype), arr((3, 3), dtype)],), name="size-mismatch", error=RuntimeError)
    yield Sample(([arr((), dtype)],), name="0d", error=RuntimeError)


def _cat_mixed_samples(dtype):
    yield Sample(([arr((2, 2), dtype, seed=1), arr((1, 2), "int64", seed=2), arr((1, 2), "bool", seed=3)],),
                 name="promote")


def _stack_samples(dtype):
    yield Sample(([arr((3, 4), dtype, seed=1), arr((3, 4), dtype, seed=2)],), name="dim0")
    yield Sample(([arr((3, 4), dtype, seed=1), arr((3, 4), dtype, seed=2), arr((3, 4), dtype, seed=3)], -1),
                 name="dim-neg")
    yield Sample(([arr((), dtype, seed=4), arr((), dtype, seed=5)],), name="0d")
    yield Sample(([noncontig(arr((3, 4), dtype, seed=6)), arr((3, 4), dtype, seed=7)], 1), name="noncontig")
    yield Sample(([arr((0, 2), dtype), arr((0, 2), dtype)], 2), name="empty")
    yield Sample(([arr((3, 4), dtype), arr((4, 3), dtype)],), name="shape-mismatch", error=RuntimeError)


def _seq_samples(dtype):
    yield Sample(([arr((3,), dtype, seed=1), arr((3,), dtype, seed=2)],), name="1d")
    yield Sample(([arr((3, 4), dtype, seed=3), arr((3, 4), dtype, seed=4)],), name="2d")
    yield Sample(([arr((), dtype, seed=5), arr((), dtype, seed=6)],), name="0d")
    yield Sample(([arr((2, 3, 4), dtype, seed=7), arr((2, 3, 4), dtype, seed=8)],), name="3d")
    yield Sample(([noncontig(arr((3, 4), dtype, seed=9)), arr((3, 4), dtype, seed=10)],), name="noncontig")


def _at1(t):
    return t.reshape(1) if t.ndim == 0 else t


def _at2(t):
    return t.reshape(1, 1) if t.ndim == 0 else t[None] if t.ndim == 1 else t


def _at3(t):
    if t.ndim == 0:
        return t.reshape(1, 1, 1)
    if t.ndim == 1:
        return t[None, :, None]
    return t[..., None] if t.ndim == 2 else t


def _hstack_ref(ts):
    ts = [_at1(t) for t in ts]
    return np.concatenate(ts, 0 if ts[0].ndim == 1 else 1)


def _column_stack_ref(ts):
    return np.concatenate([t.reshape(t.size, 1) if t.ndim <= 1 else t for t in ts], 1)


# ---------------------------------------------------------------- repeat family
def _repeat_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), (2, 3)), name="2d")
    yield Sample((arr((3,), dtype, seed=2), (2, 1, 2)), name="lead")
    yield Sample((arr((), dtype, seed=3), (3,)), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=4)), (1, 2)), name="noncontig")
    yield Sample((arr((3, 4), dtype, seed=5), (0, 2)), name="zero")
    yield Sample((arr((3, 4), dtype), (2,)), name="too-few", error=RuntimeError)


def _repeat(mod, x, reps):
    return x.repeat(*reps)


def _repeat_ref(x, reps):
    return np.tile(x.reshape((1,) * (len(reps) - x.ndim) + x.shape), reps)


def _tile_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), (2,)), name="short")
    yield Sample((arr((3, 4), dtype, seed=2), (2, 1, 3)), name="long")
    yield Sample((arr((), dtype, seed=3), (2,)), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=4)), (2, 2)), name="noncontig")


def _tile_ref(x, dims):
    dims = (1,) * (x.ndim - len(dims)) + tuple(dims)
    return _repeat_ref(x, dims)


def _ri_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), 2), name="flat")
    yield Sample((arr((3, 4), dtype, seed=2), 3, 1), name="dim1")
    yield Sample((arr((2, 3, 4), dtype, seed=3), 2, -2), name="3d")
    yield Sample((arr((), dtype, seed=4), 3), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=5)), 2, 0), name="noncontig")
    yield Sample((arr((3, 4), dtype), -1), name="negative", error=RuntimeError)


def _ri_ref(x, repeats, dim=None):
    if dim is None:
        return np.repeat(x.reshape(-1), repeats)
    return np.repeat(x, repeats, axis=dim)


def _ri_tensor_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), np.array([1, 0, 2], I), 0), name="dim0")
    yield Sample((arr((3, 4), dtype, seed=2), np.array([2, 2, 0, 1], I), 1), name="dim1")
    yield Sample((arr((4,), dtype, seed=3), np.array([3, 1, 0, 2], I)), name="flat")


# ---------------------------------------------------------------- flip / roll / rot90
def _flip_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), (0,)), name="dim0")
    yield Sample((arr((2, 3, 4), dtype, seed=2), (0, -1)), name="two")
    yield Sample((arr((), dtype, seed=3), ()), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=4)), (1,)), name="noncontig")
    yield Sample((arr((3, 4), dtype, seed=5), (0, 0)), name="dup", error=RuntimeError)


def _lr_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1),), name="2d")
    yield Sample((arr((2, 3, 4), dtype, seed=2),), name="3d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=3)),), name="noncontig")


def _roll_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1), 5), name="flat")
    yield Sample((arr((3, 4), dtype, seed=2), -1, 0), name="dim0")
    yield Sample((arr((2, 3, 4), dtype, seed=3), (1, -2), (2, 0)), name="multi")
    yield Sample((arr((), dtype, seed=4), 1), name="0d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=5)), 2, 1), name="noncontig")
    yield Sample((arr((0, 3), dtype), 1, 1), name="empty")
    yield Sample((arr((3, 4), dtype), (1, 2), 0), name="mismatch", error=RuntimeError)


def _roll_ref(x, shifts, dims=None):
    return np.roll(x, shifts, axis=dims)


def _rot90_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1),), name="default")
    yield Sample((arr((3, 4), dtype, seed=2), 3), name="k3")
    yield Sample((arr((2, 3, 4), dtype, seed=3), -1, (2, 0)), name="3d")
    yield Sample((arr((3, 4), dtype, seed=4), 2), name="k2")
    yield Sample((noncontig(arr((3, 4), dtype, seed=5)), 1, (1, 0)), name="noncontig")
    yield Sample((arr((4,), dtype), 1), name="1d", error=RuntimeError)


def _rot90_ref(x, k=1, dims=(0, 1)):
    return np.rot90(x, k, axes=dims)


# ---------------------------------------------------------------- triangles and diagonals
def _tri_samples(dtype):
    yield Sample((arr((3, 4), dtype, seed=1),), name="2d")
    yield Sample((arr((4, 3), dtype, seed=2), -1), name="neg")
    yield Sample((arr((2, 3, 4), dtype, seed=3), 2), name="batch")
    yield Sample((noncontig(arr((3, 4), dtype, seed=4)), 1), name="noncontig")
    yield Sample((arr((0, 3), dtype),), name="empty")
    yield Sample((arr((4,), dtype),), name="1d", error=RuntimeError)


def _diag_samples(dtype):
    yield Sample((arr((4,), dtype, seed=1),), name="1d")
    yield Sample((arr((3,), dtype, seed=2), -2), name="1d-offset")
    yield Sample((arr((3, 4), dtype, seed=3),), name="2d")
    yield Sample((arr((3, 4), dtype, seed=4), 2), name="2d-offset")
    yield Sample((noncontig(arr((4, 3), dtype, seed=5)), -1), name="noncontig")
    yield Sample((arr((2, 2, 2), dtype),), name="3d", error=RuntimeError)


def _diag_ref(x, k=0):
    return np.diag(x, k)


def _diag_embed_samples(dtype):
    yield Sample((arr((2, 3), dtype, seed=1),), name="default")
    yield Sample((arr((2, 3), dtype, seed=2), 1, 0, 2), name="dims")
    yield Sample((arr((4,), dtype, seed=3), -2), name="1d")
    yield Sample((noncontig(arr((3, 4), dtype, seed=4)), 0, -1, 0), name="noncontig")


def _diag_embed_ref(x, offset=0, dim1=-2, dim2=-1):
    n = x.shape[-1]
    m = n + abs(offset)
    z = np.zeros(x.shape[:-1] + (m, m), x.dtype)
    z[..., np.arange(n) + max(-offset, 0), np.arange(n) + max(offset, 0)] = x
    nd = x.ndim + 1
    return np.moveaxis(z, (nd - 2, nd - 1), (dim1 % nd, dim2 % nd))


def _diagflat_samples(dtype):
    yield Sample((arr((2, 3), dtype, seed=1),), name="2d")
    yield Sample((arr((), dtype, seed=2), 1), name="0d")
    yield Sample((noncontig(arr((3, 2), dtype, seed=3)), -1), name="noncontig")


def _block_diag_samples(dtype):
    yield Sample((arr((2, 3), dtype, seed=1), arr((3,), dtype, seed=2), arr((), dtype, seed=3)), name="mixed")
    yield Sample((arr((1, 2), dtype, seed=4), arr((0, 2), dtype), arr((2, 0), dtype)), name="empty")
    yield Sample((noncontig(arr((3, 3), dtype, seed=5)),), name="single")


def _block_diag_ref(*ts):
    ms = [t.reshape(1, 1) if t.ndim == 0 else t.reshape(1, -1) if t.ndim == 1 else t for t in ts]
    out = np.zeros((sum(m.shape[0] for m in ms), sum(m.shape[1] for m in ms)), ms[0].dtype)
    r = c = 0
    for m in ms:
        out[r:r + m.shape[0], c:c + m.shape[1]] = m
        r, c = r + m.shape[0], c + m.shape[1]
    return out


# ---------------------------------------------------------------- meshgrid / cartesian_prod
def _grid_samples(dtype):
    yield Sample((arr((2,), dtype, seed=1), arr((3,), dtype, seed=2)), name="two")
    yield Sample((arr((2,), dtype, seed=3), arr((), dtype, seed=4), arr((4,), dtype, seed=5)), name="three")
    yield Sample((arr((3,), dtype, seed=6),), name="one")


def _meshgrid(indexing):
    def fn(mod, *ts):
        return mod.meshgrid(*ts, indexing=indexing)
    return fn


def _meshgrid_ref(indexing):
    def ref(*ts):
        return tuple(np.meshgrid(*[t.reshape(-1) for t in ts], indexing=indexing))
    return ref


def _cart_samples(dtype):
    yield Sample((arr((2,), dtype, seed=1), arr((3,), dtype, seed=2)), name="two")
    yield Sample((arr((2,), dtype, seed=3), arr((1,), dtype, seed=4), arr((2,), dtype, seed=5)), name="three")
    yield Sample((arr((3,), dtype, seed=6),), name="one")


def _cart_ref(*ts):
    if len(ts) == 1:
        return ts[0]
    return np.stack([g.reshape(-1) for g in np.meshgrid(*ts, indexing="ij")], 1)


OPS = [
    OpInfo("cat", _cat_samples, ref=_cat_ref, dtypes=ALL, method=False),
    OpInfo("cat", _cat_mixed_samples, ref=lambda ts: np.concatenate([t.astype(ts[0].dtype) for t in ts]),
           dtypes=FLOATS, method=False, variant="promote"),
    OpInfo("concatenate", _cat_samples, ref=_cat_ref, dtypes=FLOATS, method=False),
    OpInfo("concat", _cat_samples, ref=_cat_ref, dtypes=FLOATS, method=False),
    OpInfo("stack", _stack_samples, ref=lambda ts, dim=0: np.stack(ts, dim), dtypes=ALL, method=False),
    OpInfo("hstack", _seq_samples, ref=_hstack_ref, dtypes=ALL, method=False),
    OpInfo("vstack", _seq_samples, ref=lambda ts: np.concatenate([_at2(t) for t in ts], 0), dtypes=ALL,
           method=False),
    OpInfo("row_stack", _seq_samples, ref=lambda ts: np.concatenate([_at2(t) for t in ts], 0), dtypes=FLOATS,
           method=False),
    OpInfo("dstack", _seq_samples, ref=lambda ts: np.concatenate([_at3(t) for t in ts], 2), dtypes=ALL,
           method=False),
    OpInfo("column_stack", _seq_samples, ref=_column_stack_ref, dtypes=ALL, method=False),
    OpInfo("repeat", _repeat_samples, ref=_repeat_ref, dtypes=ALL, fn=_repeat),
    OpInfo("tile", _tile_samples, ref=_tile_ref, dtypes=ALL),
    OpInfo("repeat_interleave", _ri_samples, ref=_ri_ref, dtypes=ALL),
    OpInfo("repeat_interleave", _ri_tensor_samples, ref=_ri_ref, dtypes=FLOATS + ("int64", "bool"), variant="tensor",
           skip=("meta",)),
    OpInfo("flip", _flip_samples, ref=lambda x, dims: np.flip(x, dims) if dims else x, dtypes=ALL, strides=True),
    OpInfo("fliplr", _lr_samples, ref=lambda x: np.flip(x, 1), dtypes=ALL),
    OpInfo("flipud", _lr_samples, ref=lambda x: np.flip(x, 0), dtypes=ALL),
    OpInfo("roll", _roll_samples, ref=_roll_ref, dtypes=ALL),
    OpInfo("rot90", _rot90_samples, ref=_rot90_ref, dtypes=ALL, strides=True),
    OpInfo("tril", _tri_samples, ref=lambda x, k=0: np.tril(x, k) if x.size else x, dtypes=ALL, inplace=True),
    OpInfo("triu", _tri_samples, ref=lambda x, k=0: np.triu(x, k) if x.size else x, dtypes=ALL, inplace=True),
    OpInfo("diag", _diag_samples, ref=_diag_ref, dtypes=ALL),
    OpInfo("diag_embed", _diag_embed_samples, ref=_diag_embed_ref, dtypes=ALL),
    OpInfo("diagflat", _diagflat_samples, ref=lambda x, k=0: np.diagflat(x, k), dtypes=ALL),
    OpInfo("block_diag", _block_diag_samples, ref=_block_diag_ref, dtypes=ALL, method=False),
    OpInfo("meshgrid", _grid_samples, ref=_meshgrid_ref("ij"), dtypes=ALL, method=False, fn=_meshgrid("ij"),
           variant="ij"),
    OpInfo("meshgrid", _grid_samples, ref=_meshgrid_ref("xy"), dtypes=FLOATS + ("int64",), method=False,
           fn=_meshgrid("xy"), variant="xy"),
    OpInfo("cartesian_prod", _cart_samples, ref=_cart_ref, dtypes=ALL, method=False),
]
