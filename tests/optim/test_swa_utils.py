"""swa_utils against torch: AveragedModel (SWA, EMA, custom averages, buffers), SWALR, update_bn."""
import copy
import warnings

import numpy as np
import pytest

import ember

from ._util import to_numpy

torch = pytest.importorskip("torch")


def _batchnorm1d(lib):
    nn = lib.nn
    if hasattr(nn, "BatchNorm1d"):
        return nn.BatchNorm1d
    from ember.nn.modules.batchnorm import BatchNorm1d
    return BatchNorm1d


def _models():
    """The same small net (Linear -> BatchNorm1d -> ReLU -> Linear) in both libraries, float64."""
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5), torch.nn.ReLU(),
                             torch.nn.Linear(5, 2)).double()
    em = ember.nn.Sequential(ember.nn.Linear(4, 5), _batchnorm1d(ember)(5), ember.nn.ReLU(),
                             ember.nn.Linear(5, 2)).double()
    em.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})
    return em, tm


def _perturb(lib, model, i):
    """Move every parameter (and, by a forward pass in training mode, the BN buffers) deterministically."""
    with lib.no_grad():
        for j, p in enumerate(model.parameters()):
            p.add_(lib.tensor(np.sin(np.arange(p.numel()) + i + j).reshape(tuple(p.shape)) * 0.1))
    model.train()
    model(lib.tensor(np.cos(np.arange(24) * (i + 1)).reshape(6, 4)))


def _compare_modules(a, b, tol=1e-12):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert str(sa[k].dtype) == str(sb[k].dtype), k
        np.testing.assert_allclose(to_numpy(sa[k]), to_numpy(sb[k]), rtol=tol, atol=tol, err_msg=k)


AVG = {
    "swa": dict(),
    "swa-buffers": dict(use_buffers=True),
    "ema-multi": dict(multi_avg_fn="ema_multi"),
    "ema-multi-buffers": dict(multi_avg_fn="ema_multi", use_buffers=True),
    "ema": dict(avg_fn="ema"),
    "swa-multi": dict(multi_avg_fn="swa_multi"),
    "swa-fn": dict(avg_fn="swa"),
    "custom": dict(avg_fn="custom"),
}


def _resolve(lib, kw):
    su = lib.optim.swa_utils
    fns = {"ema_multi": lambda: su.get_ema_multi_avg_fn(0.8), "ema": lambda: su.get_ema_avg_fn(0.7),
           "swa_multi": su.get_swa_multi_avg_fn, "swa": su.get_swa_avg_fn,
           "custom": lambda: (lambda avg, cur, n: 0.5 * avg + 0.5 * cur)}
    return {k: (fns[v]() if isinstance(v, str) else v) for k, v in kw.items()}


@pytest.mark.parametrize("name", list(AVG))
def test_averaged_model(name):
    em, tm = _models()
    ea = ember.optim.swa_utils.AveragedModel(em, **_resolve(ember, AVG[name]))
    ta = torch.optim.swa_utils.AveragedModel(tm, **_resolve(torch, AVG[name]))
    _compare_modules(ea, ta)
    for i in range(6):
        _perturb(ember, em, i)
        _perturb(torch, tm, i)
        ea.update_parameters(em)
        ta.update_parameters(tm)
        _compare_modules(ea, ta)
    assert ea.n_averaged.item() == 6 and ea.n_averaged.dtype == ember.int64
    # the average is a usable model; forward goes to the wrapped module
    ea.eval()
    ta.eval()
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    np.testing.assert_allclose(to_numpy(ea(ember.tensor(x))), to_numpy(ta(torch.tensor(x))), rtol=1e-12)
    assert repr(ea) == repr(ta)


def test_averaged_model_is_a_copy_and_validates():
    em, _ = _models()
    ea = ember.optim.swa_utils.AveragedModel(em)
    assert all(a is not b for a, b in zip(ea.module.parameters(), em.parameters()))
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn should be provided"):
        ember.optim.swa_utils.AveragedModel(em, avg_fn=ember.optim.swa_utils.get_swa_avg_fn(),
                                            multi_avg_fn=ember.optim.swa_utils.get_swa_multi_avg_fn())
    for lib in (ember, torch):
        for fn in (lib.optim.swa_utils.get_ema_avg_fn, lib.optim.swa_utils.get_ema_multi_avg_fn):
            with pytest.raises(ValueError, match=r"Invalid decay value 1.5 provided. Please provide a value in "
                                                 r"\[0,1\] range."):
                fn(1.5)


def test_integer_tensors_in_multi_avg():
    res = []
    for lib in (ember, torch):
        su = lib.optim.swa_utils
        a, c = [lib.tensor([10, 20, 31])], [lib.tensor([0, 5, 7])]
        su.get_ema_multi_avg_fn(0.5)(a, c, None)
        b = [lib.tensor([10, 20, 31])]
        with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer supported"):
            su.get_swa_multi_avg_fn()(b, c, lib.tensor(3))  # torch's own integer paths fail like this
        with pytest.raises(RuntimeError, match="For integral input tensors, argument alpha must not be a floating"):
            su.get_swa_multi_avg_fn()(b, c, 3)
        d = [lib.tensor([10.0, 20.0])]
        su.get_swa_multi_avg_fn()(d, [lib.tensor([0.0, 4.0])], 1)
        res.append((to_numpy(a[0]).tolist(), str(a[0].dtype), to_numpy(b[0]).tolist(), to_numpy(d[0]).tolist()))
    assert res[0] == res[1]


SWALR = [dict(swa_lr=0.05), dict(swa_lr=[0.05, 0.01], anneal_epochs=4, anneal_strategy="linear"),
         dict(swa_lr=0.5, anneal_epochs=0), dict(swa_lr=0.02, anneal_epochs=7, anneal_strategy="cos")]


@pytest.mark.parametrize("kw", SWALR)
def test_swalr(kw):
    rows = []
    for lib in (ember, torch):
        ps = [lib.zeros(2, requires_grad=True) for _ in range(2)]
        opt = lib.optim.SGD([{"params": [ps[0]], "lr": 0.1}, {"params": [ps[1]], "lr": 0.3}], momentum=0.9)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            s = lib.optim.swa_utils.SWALR(opt, **kw)
            r = [[g["lr"] for g in opt.param_groups]]
            for _ in range(15):
                opt.step()
                s.step()
                r.append([g["lr"] for g in opt.param_groups] + s.get_last_lr())
        rows.append((r, [str(x.message) for x in w], s.state_dict()))
    assert rows[0] == rows[1]
    assert "anneal_func" not in rows[0][2]


def test_swalr_errors_and_state():
    for lib in (ember, torch):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear', instead got exp"):
            lib.optim.swa_utils.SWALR(opt, 0.1, anneal_strategy="exp")
        with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0, got -1"):
            lib.optim.swa_utils.SWALR(opt, 0.1, anneal_epochs=-1)
        with pytest.raises(ValueError, match="swa_lr must have the same length as optimizer.param_groups"):
            lib.optim.swa_utils.SWALR(opt, [0.1, 0.2])
    opt = ember.optim.SGD([ember.zeros(1, requires_grad=True)], lr=0.1)
    s = ember.optim.swa_utils.SWALR(opt, 0.01, anneal_strategy="linear")
    s2 = ember.optim.swa_utils.SWALR(opt, 0.01)
    s2.load_state_dict(copy.deepcopy(s.state_dict()))
    assert s2.anneal_func is ember.optim.swa_utils.SWALR._linear_anneal


def test_update_bn():
    em, tm = _models()
    for lib, m in ((ember, em), (torch, tm)):
        _perturb(lib, m, 0)
        m.eval()
    loader_np = [np.sin(np.arange(32) * (k + 1)).reshape(8, 4) * (k + 1) for k in range(4)]
    ember.optim.swa_utils.update_bn([(ember.tensor(x), 0) for x in loader_np[:2]] +
                                    [ember.tensor(x) for x in loader_np[2:]], em)
    torch.optim.swa_utils.update_bn([(torch.tensor(x), 0) for x in loader_np[:2]] +
                                    [torch.tensor(x) for x in loader_np[2:]], tm)
    _compare_modules(em, tm)
    bn = em[1]
    assert bn.momentum == 0.1 and not em.training and bn.num_batches_tracked.item() == 4
    # the running mean is the plain average of the four batch means
    h = [np.asarray(to_numpy(em[0](ember.tensor(x)))).mean(0) for x in loader_np]
    np.testing.assert_allclose(to_numpy(bn.running_mean), np.mean(h, 0), rtol=1e-12)
    # a model without BatchNorm is left alone
    lin = ember.nn.Linear(2, 2)
    before = to_numpy(lin.weight).copy()
    ember.optim.swa_utils.update_bn([ember.ones(3, 2)], lin)
    np.testing.assert_array_equal(to_numpy(lin.weight), before)


def test_swa_training_loop():
    """SWA recipe end to end: SGD, SWALR after a warm-up, AveragedModel, update_bn; same as torch."""
    out = []
    for lib, m in zip((ember, torch), _models()):
        su = lib.optim.swa_utils
        opt = lib.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
        swa_model = su.AveragedModel(m)
        sched = su.SWALR(opt, swa_lr=0.02, anneal_epochs=3)
        rng = np.random.default_rng(0)
        data = [(rng.standard_normal((8, 4)), rng.standard_normal((8, 2))) for _ in range(5)]
        for epoch in range(8):
            m.train()
            for x, y in data:
                opt.zero_grad()
                loss = ((m(lib.tensor(x)) - lib.tensor(y)) ** 2).mean()
                loss.backward()
                opt.step()
            if epoch >= 3:
                swa_model.update_parameters(m)
                sched.step()
        su.update_bn([lib.tensor(x) for x, _ in data], swa_model)
        swa_model.eval()
        out.append((swa_model, to_numpy(swa_model(lib.tensor(data[0][0]))).copy()))
    _compare_modules(out[0][0], out[1][0], tol=1e-9)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-9, atol=1e-12)
