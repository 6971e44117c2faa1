"""``python -m ember.utils.collect_env``: a complete report, even where probes fail."""
import os
import platform
import subprocess
import sys

import numpy as np

import ember
from ember.utils import collect_env as C

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_module_runs_and_reports_versions():
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OMP_NUM_THREADS="2")
    p = subprocess.run([sys.executable, "-m", "ember.utils.collect_env"], capture_output=True, text=True,
                       env=env, cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert out.startswith("Collecting environment information...\n")
    assert f"ember version: {ember.__version__}\n" in out
    assert f"NumPy version: {np.__version__}\n" in out
    assert f"Python version: {sys.version.split()[0]}" in out
    assert f"Python platform: {platform.platform()}\n" in out
    assert "Thread environment variables: OMP_NUM_THREADS=2" in out
    assert "Is CUDA available: " in out and "GPU models and configuration:" in out
    assert f"[pip3] numpy=={np.__version__}" in out
    assert "RuntimeWarning" not in p.stderr


def test_env_info_fields():
    info = C.get_env_info()
    assert info.ember_version == ember.__version__
    assert info.numpy_version == np.__version__
    assert info.cpu_count == os.cpu_count()
    assert info.ember_num_threads == ember.get_num_threads()
    assert info.ember_num_interop_threads == ember.get_num_interop_threads()
    assert isinstance(info.cuda_available, bool)
    assert info.cuda_available == ember.cuda.is_available()
    # threadpoolctl sees NumPy's BLAS: its pool is listed with its thread count
    assert any(row.startswith("blas: ") and "threads" in row for row in info.threadpools)
    text = C.pretty_str(info)
    pools = text.split("Native thread pools (threadpoolctl):\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert any(p.startswith("  blas: ") for p in pools)  # other pools (torch's OpenMP) may come first
    assert C.get_pretty_env_info().startswith(f"ember version: {ember.__version__}\n")


def test_failing_probes_say_could_not_collect(monkeypatch):
    def boom(*a, **k):
        raise OSError("no such tool")

    monkeypatch.setattr(C, "get_cpu_model", boom)
    monkeypatch.setattr(C, "get_threadpools", boom)
    monkeypatch.setattr(C, "get_numpy_blas", boom)
    monkeypatch.setattr(C, "run", lambda *a, **k: (127, "", "missing"))
    info = C.get_env_info()
    assert info.cpu_model == C.NA and info.numpy_blas == C.NA and info.threadpools == []
    assert info.nvidia_driver_version == C.NA
    text = C.pretty_str(info)
    assert "CPU: Could not collect" in text
    assert "Native thread pools (threadpoolctl):\n  Could not collect" in text


def test_run_reports_missing_commands():
    rc, out, err = C.run(["definitely-not-a-command-ember"])
    assert rc == 127 and out == "" and err
