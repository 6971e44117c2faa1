"""Shared bench plumbing: run each side's timing in its own process, print both and the ratio.

Each side runs in a fresh interpreter so torch's and OpenBLAS's thread pools never spin against each
other. Threads are pinned to the same count on both sides (default 2, override with --threads).
"""
import argparse
import json
import os
import subprocess
import sys


def parse(desc):
    ap = argparse.ArgumentParser(description=desc)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3,
                    help="processes per side, alternating ember/torch; each case keeps its best (the VM is noisy)")
    ap.add_argument("--side", choices=["ember", "torch"], default=None, help=argparse.SUPPRESS)
    return ap.parse_args()


def set_threads(n, side):
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[v] = str(n)
    if side == "torch":
        import torch
        torch.set_num_threads(n)


def library(side):
    """The module a side times: torch, or the ember of this checkout (not an installed one)."""
    import importlib
    if side == "ember":
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return importlib.import_module(side)


def best_of(fn, number, repeat=5):
    """Best mean time per call in seconds over ``repeat`` runs of ``number`` calls."""
    import time
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def main(doc, measure, script):
    """A bench script's entry. Run as ``--side X`` (by ``run_sides``): time that side with ``measure(X)``, print
    the JSON and return (None, args). Run plainly: run both sides in their own processes and return
    ({side: results}, args) for the script to report."""
    args = parse(doc)
    if args.side:
        set_threads(args.threads, args.side)
        print(json.dumps(measure(args.side)))
        return None, args
    return run_sides(os.path.abspath(script), args.threads, args.rounds), args


def run_sides(script, threads, rounds=1):
    """Run ``script --side X`` for both sides, ``rounds`` times alternating, and keep each case's best time
    from the JSON each run prints on its last line."""
    out = {}
    for _ in range(max(1, rounds)):
        for side, res in _one_round(script, threads).items():
            best = out.setdefault(side, res)
            for k, v in res.items():
                best[k] = min(best[k], v) if isinstance(v, (int, float)) else v
    return out


def _one_round(script, threads):
    out = {}
    for side in ("ember", "torch"):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
                   MKL_NUM_THREADS=str(threads))
        p = subprocess.run([sys.executable, script, "--side", side, "--threads", str(threads)],
                           capture_output=True, text=True, env=env)
        if p.returncode != 0:
            print(p.stderr, file=sys.stderr)
            raise SystemExit(f"{side} side failed")
        out[side] = json.loads(p.stdout.strip().splitlines()[-1])
    return out


def report(title, results, threads):
    """Print both sides' times (microseconds per call) and their ratio."""
    print(f"{title}  (threads: {threads}, cores on machine: {os.cpu_count()})")
    print(f"{'case':44s} {'ember us':>12s} {'torch us':>12s} {'ember/torch':>12s}")
    for k in results["ember"]:
        e, t = results["ember"][k] * 1e6, results["torch"][k] * 1e6
        print(f"{k:44s} {e:12.2f} {t:12.2f} {e / t:11.2f}x")
