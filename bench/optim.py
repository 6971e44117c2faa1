"""Optimizer step time, ember vs torch (each side in its own process).

    python bench/optim.py [--threads 2]

A 10M-parameter model (float32: two 2048x2048 weights, one 1024x1024 and a 562,816-element vector;
10,000,000 elements in all) with fixed gradients; cases: Adam and SGD with momentum 0.9 (torch on CPU
uses its single-tensor path for both when foreach is not requested; also timed with foreach=True there,
since that is what torch picks on accelerators). Times are per step, best of 5; the ratio is what matters.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H  # noqa: E402

SHAPES = [(2048, 2048), (2048, 2048), (1024, 1024), (10_000_000 - 2 * 2048 * 2048 - 1024 * 1024,)]


def measure(side):
    T = H.library(side)
    import numpy as np
    assert sum(int(np.prod(s)) for s in SHAPES) == 10_000_000
    rng = np.random.default_rng(0)
    params = []
    for s in SHAPES:
        p = T.tensor(rng.standard_normal(s).astype(np.float32) * 0.01, requires_grad=True)
        p.grad = T.tensor(rng.standard_normal(s).astype(np.float32) * 1e-3)
        params.append(p)
    cases = {"Adam (lr=1e-3)": lambda: T.optim.Adam(params, lr=1e-3),
             "SGD (lr=1e-2, momentum=0.9)": lambda: T.optim.SGD(params, lr=1e-2, momentum=0.9)}
    if side == "torch":
        cases["Adam, torch foreach=True"] = lambda: T.optim.Adam(params, lr=1e-3, foreach=True)
        cases["SGD momentum, torch foreach=True"] = lambda: T.optim.SGD(params, lr=1e-2, momentum=0.9,
                                                                        foreach=True)
    r = {}
    for name, make in cases.items():
        opt = make()
        opt.step()  # state allocation happens on the first step
        r[name] = H.best_of(opt.step, 5)
    return r


if __name__ == "__main__":
    res, args = H.main(__doc__, measure, __file__)
    if res is not None:
        extra = {k: v for k, v in res["torch"].items() if k not in res["ember"]}
        H.report("bench/optim.py: one optimizer step over 10M float32 parameters", res, args.threads)
        for k, v in extra.items():
            print(f"{k:44s} {'':>12s} {v * 1e6:12.2f}")
