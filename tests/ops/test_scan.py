"""Focused tests for ember/ops/scan.py (scans and the remaining reductions), against torch.

Each expression is evaluated with ``torch`` bound to the real torch and then to ember; results must
agree in type, dtype, shape and values (named tuples included), or both must raise the same exception
type (and, for the ``MSG`` table, the same message). ``norm`` is called as ``scan.norm`` on the ember
side (``N(...)``) so these tests pin down this module's implementation.
"""
import math
import warnings

import numpy as np
import pytest

import ember
from ember.ops import scan

torch = pytest.importorskip("torch")

INF, NAN = math.inf, math.nan


# ---------------------------------------------------------------- harness
def _conv(r):
    if isinstance(r, (torch.Tensor, ember.Tensor)):
        d = r.detach()
        return ("T", str(d.dtype).split(".")[-1], tuple(d.shape), np.array(d.numpy()))
    if isinstance(r, tuple):
        return (type(r).__name__,) + tuple(_conv(x) for x in r)
    return r


def _same(a, b, rtol, atol):
    if isinstance(a, tuple) and a and a[0] == "T":
        assert isinstance(b, tuple) and b and b[0] == "T", f"expected a tensor, got {b!r}"
        assert a[1] == b[1], f"dtype {b[1]} != torch's {a[1]}"
        assert a[2] == b[2], f"shape {b[2]} != torch's {a[2]}"
        x, y = a[3], b[3]
        if x.dtype.kind in "fc":
            np.testing.assert_allclose(y, x, rtol=rtol, atol=atol, equal_nan=True)
        else:
            np.testing.assert_array_equal(y, x)
    elif isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b) and a[0] == b[0], f"{b!r} != torch's {a!r}"
        for x, y in zip(a[1:], b[1:]):
            _same(x, y, rtol, atol)
    else:
        assert type(a) is type(b) and a == b, f"{b!r} != torch's {a!r}"


def _eval(mod, src):
    ns = {"torch": mod, "np": np, "inf": INF, "nan": NAN,
          "N": scan.norm if mod is ember else torch.norm}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _conv(eval(src, ns)), None
        except Exception as e:  # noqa: BLE001 - the exception is the result being compared
            return None, e


def check(src, rtol=1e-6, atol=1e-7, message=False):
    want, terr = _eval(torch, src)
    got, err = _eval(ember, src)
    if terr is not None:
        assert err is not None, f"torch raises {terr!r}; ember returned {got!r}"
        assert type(err) is type(terr), f"torch raises {terr!r}; ember raises {err!r}"
        if message:
            assert str(err) == str(terr)
        return
    if err is not None:
        raise err
    _same(want, got, rtol, atol)


def _lines(text):
    return [s.strip() for s in text.strip().splitlines() if s.strip() and not s.strip().startswith("#")]


X = "torch.tensor([[3.,1,2,5],[4,4,1,2]])"
M = "torch.tensor([[3.,-4,0],[1,2,-2]])"
Y = "torch.tensor([[1.,2,4],[3,5,9]])"
C = "torch.tensor([[3.,1,2,5],[4,4,1,2],[0,1,0,1]])"

VALUES = _lines(f"""
torch.cumsum(torch.tensor([[1,2,3],[4,5,6]]), 1)
torch.cumsum(torch.tensor([[1,2,3],[4,5,6]]).to(torch.int8), 1)
torch.cumsum(torch.tensor([[1,2,3],[4,5,6]]).bool(), 1)
torch.cumsum(torch.tensor([[1,2,3],[4,5,6]]), 1, dtype=torch.float64)
torch.cumsum(torch.tensor([[1.,2,3],[4,5,6]]), dim=-1, dtype=torch.int32)
torch.cumsum(torch.tensor(3.), 0)
torch.cumsum(torch.tensor(3.), -1)
torch.cumsum(torch.tensor(3.), 1)
torch.cumsum(torch.ones(0,3), 0)
torch.cumsum(torch.tensor([1,2]), 0, dtype=torch.bool)
torch.cumsum(torch.tensor([1,2]), 0, out=torch.empty(2))
torch.cumsum(torch.tensor([1.,2]), 0, out=torch.empty(2, dtype=torch.int64))
torch.cumsum(torch.full((1000,), 0.1), 0)
torch.cumsum(torch.tensor([1e8, 1., -1e8, 1.]), 0)
torch.tensor([[1,2,3],[4,5,6]]).cumsum(0)
torch.tensor([[1,2,3],[4,5,6]]).cumsum_(0)
torch.tensor([[1.,2,3],[4,5,6]]).cumsum_(0, dtype=torch.float64)
torch.tensor([[1.,2,3],[4,5,6]]).cumsum_(-1, dtype=torch.float32)
torch.cumsum(torch.tensor([True, True]), 0, dtype=torch.int8)
torch.cumprod(torch.tensor([1e30, 1e30]), 0)
torch.median(torch.tensor([[5,3],[1,2]],dtype=torch.uint8), 0)
torch.aminmax(torch.tensor([[5,3],[1,2]],dtype=torch.uint8), dim=0)
torch.count_nonzero(torch.tensor([[5,3],[0,2]]), -1)
torch.diff(torch.tensor([1.,2.]), append=torch.tensor([5]))
torch.diff(torch.tensor([1,2],dtype=torch.uint8))
torch.cumulative_trapezoid(torch.tensor([[1,2,4]]), dx=2)
torch.quantile(torch.tensor([1.,2,3,4]), torch.tensor([]))
torch.nanquantile(torch.tensor([[1.,nan],[nan,nan]]), 0.5, dim=1, interpolation='nearest')
torch.cumprod(torch.tensor([[1,2,3],[4,5,6]]), 1)
torch.cumprod(torch.tensor([[1,2,3],[4,5,6]]).to(torch.uint8)*50, 1)
torch.cumprod(torch.tensor([[1.,2,3],[4,5,6]]), 0, dtype=torch.float64)
torch.tensor([[1.,2,3],[4,5,6]]).cumprod_(1)
torch.cummax(torch.tensor([1.,3,2,3,nan,5,nan]), 0)
torch.cummin(torch.tensor([3.,1,2,1,0]), 0)
torch.cummin(torch.tensor([3.,1,nan,1,0]), 0)
torch.cummax(torch.tensor([True,False,True]), 0)
torch.cummax(torch.tensor(3), 0)
torch.cummax(torch.ones(0), 0)
torch.cummax(torch.tensor([1j]), 0)
torch.cummax(torch.tensor([[1,5,2],[7,0,9]]), 0)
torch.cummin(torch.tensor([[1,5,2],[7,0,9]]), -1)
torch.cummax(torch.tensor([0., -0., 0.]), 0)
torch.tensor([[1,5,2],[7,0,9]]).cummax(1)
torch.tensor([[1,5,2],[7,0,9]]).cummin(0)
torch.logcumsumexp(torch.tensor([1.,2,3]), 0)
torch.logcumsumexp(torch.tensor([1,2,3]), 0)
torch.logcumsumexp(torch.tensor([True]), 0)
torch.logcumsumexp(torch.tensor([-inf,-inf,3, inf, 1]), 0)
torch.logcumsumexp(torch.tensor([1.+1j,2]), 0)
torch.logcumsumexp(torch.tensor([[-1000.,0,1000],[1,2,3]]), 1)
torch.logcumsumexp(torch.tensor(2.), 0)
torch.tensor([[1.,2],[3,4]]).logcumsumexp(0)
torch.diff(torch.tensor([[1,3,6,10],[2,2,5,1]]))
torch.diff(torch.tensor([[1,3,6,10],[2,2,5,1]]), n=2)
torch.diff(torch.tensor([[1,3,6,10],[2,2,5,1]]), n=5)
torch.diff(torch.tensor([[1,3,6,10],[2,2,5,1]]), n=0)
torch.diff(torch.tensor([[1,3,6,10],[2,2,5,1]]), n=-1)
torch.diff(torch.tensor([[1,3,6,10],[2,2,5,1]]), dim=0)
torch.diff(torch.tensor([[1,3,6,10],[2,2,5,1]]), prepend=torch.tensor([[0],[0]]))
torch.diff(torch.tensor([[1,3,6,10],[2,2,5,1]]), append=torch.tensor([[0.5],[0]]))
torch.diff(torch.tensor([[1,3,6,10],[2,2,5,1]]), prepend=torch.tensor([0]))
torch.diff(torch.tensor([[1,3,6,10],[2,2,5,1]]).bool())
torch.diff(torch.tensor([True,False,False,True]), n=2)
torch.diff(torch.tensor(3))
torch.diff(torch.tensor([1,2]), prepend=0)
torch.tensor([[1,3,6,10],[2,2,5,1]]).diff(1, 0, torch.tensor([[1,1,1,1]]))
torch.diff(torch.tensor([[1,3,6,10],[2,2,5,1]]), prepend=torch.tensor([[1,2,3]]), dim=0)
torch.diff(torch.tensor([[1,3,6,10]]), prepend=torch.tensor([[1,2,3,4]]), append=torch.tensor([[1.5,2,3,4]]), dim=0)
torch.median({X})
torch.median({X}, 1)
torch.median({X}, 1, keepdim=True)
torch.median({X}, dim=0)
torch.median(torch.tensor([1,5,2,2]))
torch.median(torch.tensor([1.,nan,2,nan]))
torch.median(torch.tensor([[1.,nan,2,nan],[1,2,3,4]]),1)
torch.nanmedian(torch.tensor([[1.,nan,2,nan],[1,2,3,4]]),1)
torch.nanmedian(torch.tensor([1.,nan,2,nan]))
torch.nanmedian(torch.tensor([nan]))
torch.nanmedian(torch.tensor([1,2,3]))
torch.median(torch.tensor([]))
torch.median(torch.ones(0,3),1)
torch.median(torch.ones(0,3),0)
torch.median(torch.tensor(5.),0)
torch.median(torch.tensor(5.))
torch.median(torch.tensor([True,False,True]))
torch.median(torch.tensor([1+1j]))
torch.median(torch.tensor([2,2,2,1,1,3]),0)
torch.median(torch.tensor([2,1,2,3,2]),0)
{X}.median(-1)
torch.median(torch.tensor([[1.,2]]), 1, out=(torch.empty(1), torch.empty(1, dtype=torch.long)))
torch.mode(torch.tensor([1,2,2,3,3,1,1,3]))
torch.mode(torch.tensor([3,3,2,2]))
torch.mode(torch.tensor([[1.,2,2],[5,4,5]]),1)
torch.mode(torch.tensor([[1.,2,2],[5,4,5]]),0, keepdim=True)
torch.mode(torch.tensor(4.))
torch.mode(torch.tensor([]))
torch.mode(torch.ones(2,0))
torch.mode(torch.ones(0,2),1)
torch.mode(torch.tensor([True,False,True]))
torch.mode(torch.tensor([1+1j]))
torch.mode(torch.tensor([[[1,2,2,1],[3,3,0,0]],[[5,5,5,1],[0,1,2,3]]]), 2)
torch.mode(torch.tensor([[[1,2,2,1],[3,3,0,0]],[[5,5,5,1],[0,1,2,3]]]), 1)
torch.tensor([[1.,2,2],[5,4,5]]).mode()
N({M}, 'fro')
N({M}, 'nuc')
N({M}, inf)
N({M}, -inf)
N({M}, 0)
N({M}, 1)
N({M}, 3)
N({M}, -1)
N({M}, 0.5)
N({M}, None)
N({M}, dim=1)
N({M}, p=1, dim=(0,1))
N({M}, p='fro', dim=(0,1), keepdim=True)
N({M}, p='nuc', dim=(0,1), keepdim=True)
N({M}, p='nuc', dim=(1,0))
N({M}, p='nuc', dim=1)
N(torch.ones(2,3,4), p='nuc')
N(torch.ones(2,3,4), p='fro', dim=(0,1,2))
N(torch.arange(24.).reshape(2,3,4), p='nuc', dim=(0,2))
N(torch.arange(24.).reshape(2,3,4), p='nuc', dim=(-1,0), keepdim=True)
N(torch.ones(2,3,4), p='abc')
N(torch.tensor([1,2]))
N(torch.tensor([1.,2]), dtype=torch.float64)
N(torch.tensor([1.,2]), dtype=torch.int64)
N(torch.tensor([1.,2],dtype=torch.float64), dtype=torch.float32)
N(torch.ones(3), 2, dtype=torch.complex64)
N(torch.ones(3,dtype=torch.complex64), 2, dtype=torch.float32)
N(torch.ones(3,dtype=torch.complex64), 2, dtype=torch.complex128)
N(torch.tensor([3+4j,1]))
N(torch.tensor([3+4j,1]), 1)
N(torch.tensor([[3+4j,1],[2,1j]]), p='nuc')
N(torch.tensor([3+4j,1]), p='nuc')
N(torch.ones(0), inf)
N(torch.ones(0), -1)
N(torch.ones(0), 0)
N(torch.ones(0,3), inf, dim=1)
N(torch.ones(0,3), inf, dim=0)
N(torch.ones(0,2), 0.5, dim=0)
N(torch.zeros(0,0), p='nuc')
N(torch.tensor(3.))
N(torch.tensor(-3.), p=inf, dim=0)
N({M}, p=2, dim=[])
N(torch.ones(3,dtype=torch.float16), 2)
N(torch.tensor([1e200, 1e200], dtype=torch.float64))
N({M}, 2, out=torch.empty(0))
torch.count_nonzero(torch.tensor([[0,1,2],[0,0,3]]))
torch.count_nonzero(torch.tensor([[0,1,2],[0,0,3]]), dim=0)
torch.count_nonzero(torch.tensor([[0,1,2],[0,0,3]]), dim=(0,1))
torch.count_nonzero(torch.tensor([[0,1,2],[0,0,3]]), dim=(0,0))
torch.count_nonzero(torch.tensor([[0,1,2],[0,0,3]]), dim=[])
torch.count_nonzero(torch.tensor([[0.,nan,2]]), 1)
torch.count_nonzero(torch.tensor(5), 0)
torch.count_nonzero(torch.tensor([1+1j, 0]))
torch.tensor([[0,1,2],[0,0,3]]).count_nonzero(1)
torch.aminmax({X})
torch.aminmax({X}, keepdim=True)
torch.aminmax({X}, dim=1)
torch.aminmax({X}, dim=-1, keepdim=True)
torch.aminmax(torch.tensor([1,5,2]))
torch.aminmax(torch.tensor([True,False]))
torch.aminmax(torch.tensor([]))
torch.aminmax(torch.ones(0,3), dim=1)
torch.aminmax(torch.ones(0,3), dim=0)
torch.aminmax(torch.tensor(3.), dim=0)
torch.aminmax(torch.tensor([1., nan]))
torch.aminmax(torch.tensor([1+1j]))
torch.aminmax({X}, 1)
{X}.aminmax(dim=0)
torch.nanmean(torch.tensor([[1.,nan,3],[nan,nan,nan]]))
torch.nanmean(torch.tensor([[1.,nan,3],[nan,nan,nan]]), 1)
torch.nanmean(torch.tensor([[1.,nan,3],[nan,nan,nan]]), 1, keepdim=True, dtype=torch.float64)
torch.nanmean(torch.tensor([[1.,nan,3],[nan,nan,nan]]), keepdim=True)
torch.nanmean(torch.tensor([1,2]))
torch.nanmean(torch.tensor([]))
torch.tensor([[1.,nan,3],[2,2,nan]]).nanmean(0)
torch.quantile({X}, 0.4)
torch.quantile({X}, torch.tensor([0.25,0.5,0.9]), dim=1, interpolation='lower')
torch.quantile({X}, torch.tensor([0.25,0.5,0.9]), dim=1, interpolation='higher')
torch.quantile({X}, torch.tensor([0.25,0.5,0.9]), dim=1, interpolation='midpoint')
torch.quantile({X}, torch.tensor([0.25,0.5,0.9]), dim=1, interpolation='nearest')
torch.quantile(torch.arange(6.), torch.tensor([0.1,0.3,0.5,0.7,0.9]), interpolation='nearest')
torch.quantile(torch.arange(5.), torch.tensor([0.125,0.375,0.625,0.875]), interpolation='nearest')
torch.quantile({X}, torch.tensor(0.5), dim=0, keepdim=True)
torch.quantile({X}, torch.tensor([0.5]), dim=0, keepdim=True)
torch.quantile({X}, torch.tensor([0.5]), keepdim=True)
torch.quantile({X}, 0.5, keepdim=True)
torch.quantile({X}, 1.5)
torch.quantile({X}, -0.1)
torch.quantile({X}, torch.tensor([0.5],dtype=torch.float64))
torch.quantile({X}.long(), 0.5)
torch.quantile(torch.ones(3,dtype=torch.float16), 0.5)
torch.quantile({X}, 0.5, interpolation='foo')
torch.quantile({X}, torch.tensor([[0.5]]))
torch.quantile(torch.ones(3), torch.tensor([0.5, 2.]))
torch.quantile(torch.tensor([]), 0.5)
torch.quantile(torch.tensor(3.), 0.5, dim=0)
torch.quantile(torch.tensor(3.), torch.tensor([0.5, 0.7]), dim=0, keepdim=True)
torch.quantile(torch.tensor([1.,nan,3]), 0.5)
torch.nanquantile(torch.tensor([1.,nan,3]), 0.5)
torch.nanquantile(torch.tensor([[1.,nan,3],[nan,nan,nan]]), torch.tensor([0.2,0.5]), dim=1)
torch.quantile(torch.tensor([[1.,nan,3],[1,2,3]]), torch.tensor([0.2,0.5]), dim=1)
torch.quantile(torch.arange(24.).reshape(2,3,4), torch.tensor([0.2,0.5]), dim=1, keepdim=True)
{X}.quantile(0.3, dim=1)
{X}.nanquantile(0.3, dim=1, interpolation='higher')
torch.cov({C})
torch.cov({C}, correction=0)
torch.cov(torch.tensor([3.,1,2,5]))
torch.cov({C}.long())
torch.cov({C}.bool())
torch.cov(torch.tensor(3.))
torch.cov(torch.ones(2,2,2))
torch.cov({C}, fweights=torch.tensor([1,2,1,3]))
torch.cov({C}, aweights=torch.tensor([1.,.5,1,3]))
torch.cov({C}, fweights=torch.tensor([1,2,1,3]), aweights=torch.tensor([1.,.5,1,3]))
torch.cov({C}, fweights=torch.tensor([1,2,1,3]), aweights=torch.tensor([1.,.5,1,3]), correction=0)
torch.cov({C}, fweights=torch.tensor([1.,2,1,3]))
torch.cov({C}, fweights=torch.tensor([1,-2,1,3]))
torch.cov({C}, aweights=torch.tensor([1.,-2,1,3]))
torch.cov({C}, aweights=torch.tensor([1.,2,1]))
torch.cov({C}, aweights=torch.tensor([[1.,2,1,1]]))
torch.cov({C}, aweights=torch.tensor([1,2,1,1]))
torch.cov({C}[:, :1])
torch.cov(torch.ones(3,0))
torch.cov(torch.ones(0,3))
torch.cov(torch.tensor([[1+1j,2],[3,4j]]))
{C}.cov(correction=2)
torch.corrcoef({C})
torch.corrcoef(torch.tensor([3.,1,2,5]))
torch.corrcoef(torch.tensor([[1.,1,1],[1,2,3]]))
torch.corrcoef({C}.long())
torch.corrcoef(torch.tensor([[1+1j,2,3],[3,4j,1]]))
{X}.corrcoef()
torch.trapezoid({Y})
torch.trapezoid({Y}, dx=2)
torch.trapezoid({Y}, dim=0)
torch.trapezoid({Y}, torch.tensor([0.,1,3]))
torch.trapezoid({Y}, torch.tensor([[0.,1,3],[1,2,3]]))
torch.trapezoid({Y}, torch.tensor([0.,1]))
torch.trapezoid({Y}.long())
torch.trapezoid({Y}.long(), dx=0.5)
torch.trapezoid({Y}.long(), torch.tensor([0,1,3]))
torch.trapezoid({Y}, x=torch.tensor([0,1,3]))
torch.trapezoid(torch.tensor(3.))
torch.trapezoid(torch.ones(0))
torch.trapezoid(torch.ones(3,0))
torch.trapezoid(torch.ones(3,0,dtype=torch.int64))
torch.trapezoid(torch.ones(3,0), dim=0)
torch.trapezoid({Y}, 2.)
torch.trapezoid({Y}, torch.tensor([[[0.,1,3]]]))
torch.trapz({Y}, dx=3)
torch.trapz({Y}, torch.tensor([0.,1,3]))
torch.cumulative_trapezoid({Y})
torch.cumulative_trapezoid({Y}, dx=2, dim=0)
torch.cumulative_trapezoid({Y}, torch.tensor([0.,1,3]))
torch.cumulative_trapezoid({Y}, torch.tensor([[0.,1,3],[0,2,3]]))
torch.cumulative_trapezoid({Y}.long())
torch.cumulative_trapezoid(torch.ones(0))
torch.cumulative_trapezoid(torch.ones(1))
torch.cumulative_trapezoid(torch.tensor(2.))
torch.cumulative_trapezoid({Y}, 2.)
""")


@pytest.mark.parametrize("src", VALUES)
def test_against_torch(src):
    check(src)


MSG = _lines(f"""
torch.cumsum(torch.tensor([1,2]), 0, dtype=torch.bool)
torch.tensor([[1.,2,3],[4,5,6]]).cumsum_(0, dtype=torch.float64)
torch.cummax(torch.tensor([1j]), 0)
torch.logcumsumexp(torch.tensor([1,2,3]), 0)
torch.diff(torch.tensor([[1,3,6,10],[2,2,5,1]]), n=-1)
torch.diff(torch.tensor(3))
torch.diff(torch.tensor([[1,3,6,10],[2,2,5,1]]), prepend=torch.tensor([0]))
torch.diff(torch.tensor([[1,3,6,10],[2,2,5,1]]), prepend=torch.tensor([[1,2,3]]), dim=0)
torch.diff(torch.tensor([1,2]), prepend=0)
torch.median(torch.ones(0,3),0)
torch.median(torch.tensor([True,False,True]))
torch.mode(torch.ones(2,0))
torch.mode(torch.tensor([1+1j]))
N(torch.ones(2,3,4), p='nuc')
N({M}, p='nuc', dim=1)
N(torch.tensor([1,2]))
N(torch.tensor([1.,2]), dtype=torch.int64)
N(torch.tensor([1.,2],dtype=torch.float64), dtype=torch.float32)
N(torch.ones(0), inf)
N(torch.ones(0), -1)
N(torch.ones(0,3), inf, dim=0)
N(torch.tensor([3+4j,1]), p='nuc')
torch.count_nonzero(torch.tensor([[0,1,2],[0,0,3]]), dim=(0,0))
torch.aminmax(torch.tensor([]))
torch.aminmax(torch.ones(0,3), dim=0)
torch.aminmax(torch.tensor([1+1j]))
torch.nanmean(torch.tensor([1,2]))
torch.quantile({X}, 1.5)
torch.quantile({X}, torch.tensor([0.5],dtype=torch.float64))
torch.quantile({X}.long(), 0.5)
torch.quantile({X}, 0.5, interpolation='foo')
torch.quantile({X}, torch.tensor([[0.5]]))
torch.quantile(torch.ones(3), torch.tensor([0.5, 2.]))
torch.quantile(torch.tensor([]), 0.5)
torch.cov({C}.bool())
torch.cov(torch.ones(2,2,2))
torch.cov({C}, fweights=torch.tensor([1.,2,1,3]))
torch.cov({C}, fweights=torch.tensor([1,-2,1,3]))
torch.cov({C}, aweights=torch.tensor([1.,2,1]))
torch.cov({C}, aweights=torch.tensor([[1.,2,1,1]]))
torch.cov({C}, aweights=torch.tensor([1,2,1,1]))
torch.trapezoid({Y}, torch.tensor([0.,1]))
torch.trapezoid(torch.tensor(3.))
torch.cumulative_trapezoid(torch.tensor(2.))
""")


@pytest.mark.parametrize("src", MSG)
def test_error_messages(src):
    check(src, message=True)


def test_named_tuples():
    r = ember.cummax(ember.tensor([1.0, 3.0, 2.0]), 0)
    assert type(r).__name__ == "cummax" and type(r).__module__ == "torch.return_types"
    assert r.values.tolist() == [1.0, 3.0, 3.0] and r.indices.tolist() == [0, 1, 1]
    assert repr(r).startswith("torch.return_types.cummax(\nvalues=tensor(")
    m = ember.aminmax(ember.tensor([2, 7, 1]))
    assert (m.min.item(), m.max.item()) == (1, 7) and type(m).__name__ == "aminmax"
    for fn in (ember.median, ember.nanmedian, ember.mode):
        r = fn(ember.tensor([[1.0, 2.0, 2.0]]), 1)
        assert type(r).__name__ == fn.__name__ and r.indices.dtype is ember.int64


def test_cov_warns_on_nonpositive_dof():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        ember.cov(ember.ones(3, 1))


# ---------------------------------------------------------------- random agreement of selection rules
@pytest.mark.parametrize("seed", range(4))
def test_mode_rules_random(seed):
    """Smallest of the most frequent values, index of its last occurrence, as in torch."""
    a = np.random.default_rng(seed).integers(0, 4, size=(6, 9))
    for dim in (0, 1):
        e = ember.mode(ember.from_numpy(a), dim)
        t = torch.mode(torch.from_numpy(a), dim)
        assert e.values.tolist() == t.values.tolist() and e.indices.tolist() == t.indices.tolist()


@pytest.mark.parametrize("seed", range(4))
def test_cummax_cummin_ties_random(seed):
    a = np.random.default_rng(seed).integers(0, 4, size=(5, 8)).astype(np.float64)
    a[a == 3] = np.nan if seed % 2 else 3
    for fn in ("cummax", "cummin"):
        for dim in (0, 1):
            e = getattr(ember, fn)(ember.from_numpy(a), dim)
            t = getattr(torch, fn)(torch.from_numpy(a), dim)
            np.testing.assert_array_equal(e.values.numpy(), t.values.numpy())
            assert e.indices.tolist() == t.indices.tolist()


def test_quantile_random_against_torch():
    r = np.random.default_rng(7)
    x = r.standard_normal((4, 7, 5))
    q = np.sort(r.uniform(0, 1, 6))
    for mode in ("linear", "lower", "higher", "midpoint", "nearest"):
        for dim in (None, 0, 1, -1):
            for keep in (False, True):
                e = ember.quantile(ember.from_numpy(x), ember.from_numpy(q), dim, keep, interpolation=mode)
                t = torch.quantile(torch.from_numpy(x), torch.from_numpy(q), dim, keep, interpolation=mode)
                assert tuple(e.shape) == tuple(t.shape)
                np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-12)


def test_cumsum_float32_accumulates_in_double():
    x = np.random.default_rng(0).standard_normal(20000).astype(np.float32)
    e = ember.cumsum(ember.from_numpy(x), 0).numpy()
    t = torch.cumsum(torch.from_numpy(x), 0).numpy()
    np.testing.assert_array_equal(e, t)


# ---------------------------------------------------------------- gradients vs torch
def _grad_pair(fn, *arrays):
    res = []
    for mod in (torch, ember):
        ts = [mod.tensor(a, dtype=mod.float64, requires_grad=True) for a in arrays]
        out = fn(mod, *ts)
        if isinstance(out, tuple):
            out = out[0]
        w = mod.tensor(np.linspace(0.5, 1.5, max(out.numel(), 1)).reshape(tuple(out.shape)), dtype=out.dtype)
        with np.errstate(all="ignore"):  # all-NaN slices divide by zero in backward, silently in torch
            (out * w).sum().backward()
        res.append([None if t.grad is None else np.array(t.grad.numpy()) for t in ts])
    return res


def _norm(m):
    return scan.norm if m is ember else torch.norm


_R = np.random.default_rng(0)
_A = _R.uniform(-2, 2, (3, 4))
_P = _R.uniform(0.5, 2, (4,))
_Z = np.array([[1.0, 0, 3, 2], [0, 0, 2, 5], [2, 3, 0.5, 0], [1, 2, 3, 4]])
_NANS = np.array([[1.0, NAN, 3], [2, 5, NAN], [0, 1, NAN]])

GRADS = {
    "cumsum": (lambda m, a: m.cumsum(a, 1), _A),
    "cumprod": (lambda m, a: m.cumprod(a, 1), _A),
    "cumprod-zeros": (lambda m, a: m.cumprod(a, 1), _Z),
    "cumprod-zeros-dim0": (lambda m, a: m.cumprod(a, 0), _Z),
    "cumprod-0d": (lambda m, a: m.cumprod(a, 0), np.array(2.5)),
    "cummax": (lambda m, a: m.cummax(a, 1), _A),
    "cummin-ties": (lambda m, a: m.cummin(a, 0), np.array([[1.0, 2], [1, 3], [0, 3]])),
    "logcumsumexp": (lambda m, a: m.logcumsumexp(a, 1), _A),
    "logcumsumexp-wide": (lambda m, a: m.logcumsumexp(a, 0), _A * 300),
    "diff": (lambda m, a: m.diff(a, n=2, dim=1), _A),
    "diff-prepend": (lambda m, a, b: m.diff(a, dim=1, prepend=b[:, :2], append=b[:, 1:]), _A, _A),
    "median": (lambda m, a: m.median(a), _A),
    "median-ties": (lambda m, a: m.median(a), np.array([[3.0, 2, 2, 5], [4, 2, 1, 2]])),
    "median-dim": (lambda m, a: m.median(a, 1), _A),
    "nanmedian-dim": (lambda m, a: m.nanmedian(a, 0), _NANS),
    "nanmedian": (lambda m, a: m.nanmedian(a), _NANS[:2]),
    "mode": (lambda m, a: m.mode(a, 1), np.array([[1.0, 2, 2], [5, 4, 5]])),
    "aminmax": (lambda m, a: m.aminmax(a)[0] + m.aminmax(a)[1], np.array([[3.0, 1, 2, 5], [4, 4, 1, 2]])),
    "aminmax-dim": (lambda m, a: m.aminmax(a, dim=1)[1], np.array([[3.0, 1, 5, 5], [4, 4, 1, 2]])),
    "nanmean": (lambda m, a: m.nanmean(a, 1), np.array([[1.0, NAN, 3], [NAN] * 3])),
    "quantile-ties": (lambda m, a: m.quantile(a, 0.4), np.array([1.0, 2, 2, 3])),
    "quantile-q-grad": (lambda m, a, q: m.quantile(a, q, dim=1), _A, np.array([0.2, 0.7])),
    "nanquantile": (lambda m, a: m.nanquantile(a, 0.3, dim=1), _NANS),
    "cov-weights": (lambda m, a, w: m.cov(a, fweights=m.tensor([1, 2, 1, 3]), aweights=w), _A, _P),
    "corrcoef": (lambda m, a: m.corrcoef(a), _A),
    "trapezoid-x": (lambda m, a, x: m.trapezoid(a, x), _A, np.array([0.0, 1, 3, 4])),
    "cumulative_trapezoid": (lambda m, a, x: m.cumulative_trapezoid(a, x, dim=0), _A, np.array([0.0, 1, 3])),
}
for _p in (2, 1, 3, 0.5, -1, INF, -INF, "fro", "nuc", 0):
    GRADS[f"norm-{_p}"] = ((lambda p: lambda m, a: _norm(m)(a, p))(_p), np.array([[3.0, -4, 0], [1, 4, -2]]))
GRADS["norm-zero-vector"] = (lambda m, a: _norm(m)(a), np.zeros(3))
GRADS["norm-nuc-3d"] = (lambda m, a: _norm(m)(a, "nuc", dim=(0, 2)), _R.uniform(-1, 1, (3, 2, 4)))
GRADS["norm-complex"] = (lambda m, a: _norm(m)(a * (1 + 2j), 3), _A)


@pytest.mark.parametrize("name", list(GRADS))
def test_grad_matches_torch(name):
    fn, *arrays = GRADS[name]
    want, got = _grad_pair(fn, *arrays)
    for w, g in zip(want, got):
        if w is None:
            assert g is None
        else:
            np.testing.assert_allclose(g, w, rtol=1e-7, atol=1e-10, equal_nan=True)


@pytest.mark.parametrize("p", [1, 2, 3, INF, "fro"])
def test_norm_grad_complex_leaf(p):
    z = (_A + 1j * _A[::-1]).astype(np.complex128)
    res = []
    for mod in (torch, ember):
        x = mod.tensor(z, requires_grad=True)
        _norm(mod)(x, p).backward()
        res.append(np.array(x.grad.numpy()))
    np.testing.assert_allclose(res[1], res[0], rtol=1e-10)


@pytest.mark.parametrize("which", ["cumprod", "logcumsumexp", "cummax", "median", "norm3"])
def test_double_backward(which):
    fns = {"cumprod": lambda m, x: m.cumprod(x, 1), "logcumsumexp": lambda m, x: m.logcumsumexp(x, 1),
           "cummax": lambda m, x: m.cummax(x * x, 1)[0], "median": lambda m, x: m.median(x * x, 1)[0],
           "norm3": lambda m, x: _norm(m)(x, 3, dim=1)}
    w = np.array([[1.0, -2, 3, 4], [1, 1, 1, 1]])
    res = []
    for mod in (torch, ember):
        x = mod.tensor([[1.0, 0, 3, 2], [0.5, 2, 0, 0.25]], dtype=mod.float64, requires_grad=True)
        out = fns[which](mod, x)
        ww = mod.tensor(w[:, :out.shape[1]] if out.dim() == 2 else w[:, 0], dtype=mod.float64)
        g, = mod.autograd.grad((out * ww).sum(), x, create_graph=True)
        g2, = mod.autograd.grad((g * g).sum(), x)
        res.append(np.array(g2.tolist()))
    np.testing.assert_allclose(res[1], res[0], rtol=1e-7, atol=1e-10)


def test_grad_fn_names():
    names = []
    for mod in (torch, ember):
        x = mod.tensor([[1.0, 0, 3, 2], [0.5, 2, 0, 0]], dtype=mod.float64, requires_grad=True)
        fs = [mod.cumsum(x, 1), mod.cumprod(x, 1), mod.cummax(x, 1)[0], mod.cummin(x, 1)[0],
              mod.logcumsumexp(x, 1), mod.median(x), mod.median(x, 1)[0], mod.nanmedian(x), mod.nanmedian(x, 1)[0],
              mod.mode(x, 1)[0], mod.aminmax(x)[0], _norm(mod)(x), mod.diff(x)]
        names.append([type(f.grad_fn).__name__ if mod is torch else f.grad_fn.name() for f in fs])
    assert names[1] == names[0]


def test_inplace_cumsum_history():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y.cumsum_(0)
    assert y.tolist() == [2.0, 6.0, 12.0] and y.grad_fn.name() == "CumsumBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 4.0, 2.0]


# ---------------------------------------------------------------- meta device and the scan fallback
META = {
    "cumsum-int": lambda t, m, mi: t.cumsum(mi, 1),
    "cumprod": lambda t, m, mi: t.cumprod(m, 0),
    "cummax": lambda t, m, mi: t.cummax(m, 1),
    "logcumsumexp": lambda t, m, mi: t.logcumsumexp(m, 1),
    "diff": lambda t, m, mi: t.diff(m, prepend=m),
    "median": lambda t, m, mi: t.median(m, 1),
    "median-all": lambda t, m, mi: t.median(m),
    "mode": lambda t, m, mi: t.mode(mi, 0, keepdim=True),
    "count_nonzero": lambda t, m, mi: t.count_nonzero(m, 1),
    "aminmax": lambda t, m, mi: t.aminmax(m, dim=0),
    "nanmean": lambda t, m, mi: t.nanmean(m, 1),
    "quantile": lambda t, m, mi: t.quantile(m, t.tensor([0.2, 0.9], device=m.device), dim=1, keepdim=True),
    "trapezoid": lambda t, m, mi: t.trapezoid(m),
    "cumulative_trapezoid": lambda t, m, mi: t.cumulative_trapezoid(m),
    "norm-complex": lambda t, m, mi: (scan.norm if t is ember else torch.norm)(m.to(t.complex64), dim=1),
    "norm-nuc": lambda t, m, mi: (scan.norm if t is ember else torch.norm)(m, "nuc"),
}


@pytest.mark.parametrize("name", list(META))
def test_meta_shapes_and_dtypes(name):
    outs = []
    for t in (torch, ember):
        m = t.ones(2, 3, device="meta")
        mi = t.ones(2, 3, device="meta", dtype=t.int32)
        r = META[name](t, m, mi)
        r = r if isinstance(r, tuple) else (r,)
        outs.append([(tuple(x.shape), str(x.dtype).split(".")[-1], x.device.type) for x in r])
    assert outs[1] == outs[0]


class _NoAccumulate:
    """A NumPy stand-in whose ufuncs lack ``accumulate`` (like some array backends)."""

    def __getattr__(self, name):
        f = getattr(np, name)
        if isinstance(f, np.ufunc):
            return lambda *a, **k: f(*a, **k)
        return f


@pytest.mark.parametrize("name", ["maximum", "minimum", "logaddexp"])
def test_accumulate_fallback_matches_numpy(name):
    x = np.random.default_rng(1).standard_normal((3, 11))
    x[1, 4] = np.nan
    for axis in (0, 1):
        with np.errstate(invalid="ignore"):
            want = getattr(np, name).accumulate(x, axis=axis)
            got = scan._accumulate(_NoAccumulate(), name, x, axis)
        np.testing.assert_allclose(got, want, rtol=1e-15, equal_nan=True)


def test_scatter_add_accumulates_repeats():
    idx = np.array([[0, 0, 2], [1, 1, 1]])
    out = scan._scatter_add(np, (2, 3), 1, idx, np.array([[1.0, 2, 3], [4, 5, 6]]))
    np.testing.assert_array_equal(out, [[3.0, 0, 3], [0, 15, 0]])
