"""Checkpoint I/O, ember vs torch: save and load of a 100M-parameter state_dict (25 x 4M float32, 400 MB).

    python bench/io.py [--threads 2] [--tensors 25] [--numel 4194304] [--repeat 3] [--dir /dev/shm]

Every (side, phase) runs in its own fresh process, because peak RSS (resource.getrusage's ru_maxrss) only
ever grows: a process that saved cannot tell how much its load needed. Each phase reports its best time
and how far its peak RSS rose above the process's RSS just before the phase started:
  save: the state_dict is built first (that is the baseline), then saved ``--repeat`` times to one path.
        Streaming storages straight from the tensors' memory adds ~0 MB; an extra full copy adds ~400 MB.
  load: the file the save phase wrote is loaded ``--repeat`` times (weights_only=True, no mmap); each
        result is dropped before the next. The result itself must be ~400 MB; more is extra copying.
ember's save is atomic (temp file, fsync, rename) while torch.save writes in place without fsync, so
ember's save time includes a flush to disk that torch's does not; the fsync-free time is shown as well.
Times on a real disk swing with write-back; ``--dir /dev/shm`` (tmpfs) isolates the CPU cost of the formats.
"""
import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness as H  # noqa: E402

MB = 1 << 20


def _rss_now():
    """Current resident set size in bytes (Linux /proc; 0 where it is not available)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def measure(side, phase, path, n_tensors, numel, repeat):
    T = H.library(side)
    import numpy as np
    r = {}
    if phase == "save":
        rng = np.random.default_rng(0)
        sd = {f"layer{i}.weight": T.from_numpy(rng.standard_normal(numel, dtype=np.float32).reshape(-1, 1024))
              for i in range(n_tensors)}
        gc.collect()
        base = _rss_now()
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            T.save(sd, path)
            times.append(time.perf_counter() - t0)
        r["save s"] = min(times)
        r["save peak extra MB"] = (_peak() - base) / MB
        if side == "ember":  # the same write without the fsync, for a like-for-like time with torch.save
            real = os.fsync
            os.fsync = lambda fd: None
            try:
                times = []
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    T.save(sd, path + ".nosync")
                    times.append(time.perf_counter() - t0)
            finally:
                os.fsync = real
                os.unlink(path + ".nosync")
            r["save s (no fsync)"] = min(times)
    else:
        gc.collect()
        base = _rss_now()
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            sd = T.load(path, weights_only=True)
            times.append(time.perf_counter() - t0)
            assert len(sd) == n_tensors and sum(v.numel() for v in sd.values()) == n_tensors * numel
            del sd
            gc.collect()
        r["load s"] = min(times)
        r["load peak extra MB"] = (_peak() - base) / MB
    return r


def _run(side, phase, args, path):
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads),
               MKL_NUM_THREADS=str(args.threads))
    cmd = [sys.executable, os.path.abspath(__file__), "--side", side, "--phase", phase, "--path", path,
           "--threads", str(args.threads), "--tensors", str(args.tensors), "--numel", str(args.numel),
           "--repeat", str(args.repeat)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        print(p.stderr, file=sys.stderr)
        raise SystemExit(f"{side} {phase} failed")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tensors", type=int, default=25)
    ap.add_argument("--numel", type=int, default=4 << 20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", default=None, help="folder for the checkpoint files (default: the system temp dir)")
    ap.add_argument("--side", choices=["ember", "torch"], default=None, help=argparse.SUPPRESS)
    ap.add_argument("--phase", choices=["save", "load"], default=None, help=argparse.SUPPRESS)
    ap.add_argument("--path", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.side:
        H.set_threads(args.threads, args.side)
        print(json.dumps(measure(args.side, args.phase, args.path, args.tensors, args.numel, args.repeat)))
        return
    data_mb = args.tensors * args.numel * 4 / MB
    with tempfile.TemporaryDirectory(prefix="ember-bench-io-", dir=args.dir) as d:
        res = {}
        for side in ("ember", "torch"):
            path = os.path.join(d, f"{side}.pt")
            res[side] = _run(side, "save", args, path)
            res[side].update(_run(side, "load", args, path))
            res[side]["file MB"] = os.path.getsize(path) / MB
    print(f"bench/io.py: state_dict of {args.tensors} x {args.numel} float32 = "
          f"{args.tensors * args.numel / 1e6:.0f}M parameters, {data_mb:.0f} MB  (threads: {args.threads}, "
          f"best of {args.repeat}, cores on machine: {os.cpu_count()})")
    print(f"files written under {args.dir or tempfile.gettempdir()}")
    print(f"{'':24s} {'ember':>10s} {'torch':>10s} {'ember/torch':>12s}")
    e, t = res["ember"], res["torch"]
    print(f"{'save s':24s} {e['save s']:10.3f} {t['save s']:10.3f} {e['save s'] / t['save s']:11.2f}x")
    print(f"{'save s (ember no fsync)':24s} {e['save s (no fsync)']:10.3f} {t['save s']:10.3f} "
          f"{e['save s (no fsync)'] / t['save s']:11.2f}x")
    print(f"{'load s':24s} {e['load s']:10.3f} {t['load s']:10.3f} {e['load s'] / t['load s']:11.2f}x")
    for k in ("save peak extra MB", "load peak extra MB", "file MB"):
        print(f"{k:24s} {e[k]:10.0f} {t[k]:10.0f}")
    print(f"(peak extra = peak RSS minus RSS before the phase; data is {data_mb:.0f} MB: save should add ~0, "
          f"load ~{data_mb:.0f})")


if __name__ == "__main__":
    main()
