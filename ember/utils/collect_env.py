"""``python -m ember.utils.collect_env``: the environment facts a bug report needs (torch.utils.collect_env).

Every probe is best-effort: anything that cannot be read is reported as "Could not collect" rather than
failing, since this runs on the broken setups people report bugs from.
"""
import importlib
import os
import platform
import re
import subprocess
import sys
from collections import namedtuple

__all__ = ["SystemEnv", "get_env_info", "get_pretty_env_info", "main"]

NA = "Could not collect"

SystemEnv = namedtuple("SystemEnv", [
    "ember_version", "ember_path", "ember_git", "os", "libc_version", "python_version", "python_platform",
    "cpu_model", "cpu_count", "usable_cpus", "numpy_version", "numpy_blas", "threadpools", "thread_env",
    "ember_num_threads", "ember_num_interop_threads", "cupy_version", "cuda_available", "cuda_runtime_version",
    "gpu_models", "nvidia_driver_version", "default_dtype", "packages",
])

_PACKAGES = ["ember", "numpy", "ml_dtypes", "threadpoolctl", "cupy", "cupy-cuda12x", "cupy-cuda11x",
             "cupy-cuda13x", "tensorboard", "protobuf", "tqdm", "pillow", "matplotlib", "scipy", "torch"]


def run(cmd, timeout=10):
    """(returncode, stdout, stderr) of a command; (127, "", reason) when it cannot start."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError) as e:
        return 127, "", str(e)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


def _safe(fn, default=NA):
    try:
        v = fn()
    except Exception:  # a probe must never take the report down
        return default
    return default if v is None or v == "" else v


# ---------------------------------------------------------------- probes
def get_os():
    """Distribution name (from /etc/os-release) or platform, with the machine architecture."""
    machine = platform.machine()
    if sys.platform.startswith("linux"):
        try:
            with open("/etc/os-release") as f:
                m = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', f.read(), re.M)
            if m:
                return f"{m.group(1)} ({machine})"
        except OSError:
            pass
        return f"Linux {platform.release()} ({machine})"
    if sys.platform == "darwin":
        return f"macOS {platform.mac_ver()[0]} ({machine})"
    if sys.platform == "win32":
        return f"{platform.system()} {platform.release()} ({machine})"
    return f"{platform.system()} ({machine})"


def get_libc_version():
    lib, ver = platform.libc_ver()
    return f"{lib}-{ver}" if lib else "N/A"


def get_python_version():
    return f"{sys.version.replace(chr(10), ' ')} ({sys.maxsize.bit_length() + 1}-bit runtime)"


def get_cpu_model():
    if sys.platform.startswith("linux"):
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    if sys.platform == "darwin":
        rc, out, _ = run(["sysctl", "-n", "machdep.cpu.brand_string"])
        if rc == 0:
            return out
    return platform.processor() or None


def get_usable_cpus():
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def get_numpy_blas():
    """NumPy's build-time BLAS/LAPACK (name and version) from its build config."""
    import numpy as np
    try:
        cfg = np.show_config(mode="dicts")
    except TypeError:  # NumPy < 1.26 has no dict mode
        return None
    deps = cfg.get("Build Dependencies", {})
    parts = []
    for k in ("blas", "lapack"):
        d = deps.get(k) or {}
        if d.get("name"):
            parts.append(f"{k}: {d['name']} {d.get('version', '')}".strip())
    return ", ".join(parts) or None


def get_threadpools():
    """The native thread pools loaded now (BLAS, OpenMP) as threadpoolctl sees them."""
    from threadpoolctl import threadpool_info
    import numpy  # noqa: F401  (loads its BLAS so it shows up)
    rows = []
    for p in threadpool_info():
        arch = f", {p['architecture']}" if p.get("architecture") else ""
        rows.append(f"{p.get('user_api')}: {p.get('internal_api')} {p.get('version') or ''}".rstrip() +
                    f" ({p.get('num_threads')} threads{arch}) {p.get('filepath', '')}")
    return rows or None


def get_thread_env():
    keys = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
            "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
    return ", ".join(f"{k}={os.environ[k]}" for k in keys if k in os.environ) or "none set"


def get_cupy_info():
    """(CuPy version, CUDA available, CUDA runtime version, [GPU names]) -- CuPy only if installed."""
    try:
        import cupy
    except Exception:  # not installed, or broken for this CUDA: report it as absent
        return None, False, None, []
    ver = cupy.__version__
    rt = _safe(lambda: _cuda_version_str(cupy.cuda.runtime.runtimeGetVersion()), None)
    names = []
    try:
        n = cupy.cuda.runtime.getDeviceCount()
        for i in range(n):
            props = cupy.cuda.runtime.getDeviceProperties(i)
            name = props["name"]
            names.append(f"GPU {i}: {name.decode() if isinstance(name, bytes) else name}")
    except Exception:  # no driver / no device
        n = 0
    return ver, n > 0, rt, names


def _cuda_version_str(v):
    return f"{v // 1000}.{(v % 1000) // 10}"


def get_nvidia_driver_version():
    rc, out, _ = run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"])
    return out.splitlines()[0].strip() if rc == 0 and out else None


def get_gpu_models_smi():
    rc, out, _ = run(["nvidia-smi", "-L"])
    if rc != 0 or not out:
        return []
    # drop the per-GPU UUIDs: they identify hardware and help nobody read a bug report
    return [re.sub(r" \(UUID: .+\)", "", line) for line in out.splitlines()]


def get_packages():
    """Installed versions of the packages that matter to ember (what pip would report)."""
    from importlib import metadata
    out = []
    for name in _PACKAGES:
        try:
            out.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return out


def _git_commit(path):
    root = os.path.dirname(path)
    if not os.path.exists(os.path.join(root, ".git")):
        return None
    rc, out, _ = run(["git", "-C", root, "rev-parse", "--short", "HEAD"])
    return out if rc == 0 else None


def get_env_info():
    """Collect everything into a ``SystemEnv`` (fields that could not be read say so)."""
    ember = importlib.import_module("ember")
    path = os.path.dirname(os.path.abspath(ember.__file__))
    import numpy as np
    cupy_ver, cuda_ok, cuda_rt, gpus = get_cupy_info()
    if not gpus:
        gpus = _safe(get_gpu_models_smi, [])
    return SystemEnv(
        ember_version=getattr(ember, "__version__", NA),
        ember_path=path,
        ember_git=_safe(lambda: _git_commit(path), "N/A"),
        os=_safe(get_os),
        libc_version=_safe(get_libc_version),
        python_version=_safe(get_python_version),
        python_platform=_safe(platform.platform),
        cpu_model=_safe(get_cpu_model),
        cpu_count=_safe(os.cpu_count),
        usable_cpus=_safe(get_usable_cpus),
        numpy_version=np.__version__,
        numpy_blas=_safe(get_numpy_blas),
        threadpools=_safe(get_threadpools, []),
        thread_env=_safe(get_thread_env),
        ember_num_threads=_safe(ember.get_num_threads),
        ember_num_interop_threads=_safe(ember.get_num_interop_threads),
        cupy_version=cupy_ver or "N/A (not installed)",
        cuda_available=cuda_ok,
        cuda_runtime_version=cuda_rt or "N/A",
        gpu_models=gpus,
        nvidia_driver_version=_safe(get_nvidia_driver_version),
        default_dtype=_safe(lambda: str(ember.get_default_dtype())),
        packages=_safe(get_packages, []),
    )


def pretty_str(env):
    """Format a ``SystemEnv`` like torch's report: one "Field: value" line each, lists indented."""
    def block(items, empty=NA):
        return "\n".join(items) if items else empty

    lines = [
        f"ember version: {env.ember_version}",
        f"ember location: {env.ember_path}",
        f"ember git commit: {env.ember_git}",
        f"Default dtype: {env.default_dtype}",
        "",
        f"OS: {env.os}",
        f"Libc version: {env.libc_version}",
        "",
        f"Python version: {env.python_version}",
        f"Python platform: {env.python_platform}",
        "",
        f"CPU: {env.cpu_model}",
        f"CPU count: {env.cpu_count} (usable by this process: {env.usable_cpus})",
        f"ember threads (intra-op / inter-op): {env.ember_num_threads} / {env.ember_num_interop_threads}",
        f"Thread environment variables: {env.thread_env}",
        "",
        f"NumPy version: {env.numpy_version}",
        f"NumPy BLAS/LAPACK (build): {env.numpy_blas}",
        "Native thread pools (threadpoolctl):",
        block(["  " + r for r in env.threadpools], "  " + NA),
        "",
        f"CuPy version: {env.cupy_version}",
        f"Is CUDA available: {env.cuda_available}",
        f"CUDA runtime version: {env.cuda_runtime_version}",
        "GPU models and configuration:",
        block(["  " + g for g in env.gpu_models], "  No GPU found"),
        f"Nvidia driver version: {env.nvidia_driver_version}",
        "",
        "Versions of relevant libraries:",
        block([f"[pip3] {p}" for p in env.packages]),
    ]
    return "\n".join(lines)


def get_pretty_env_info():
    """The whole report as one string (what ``main()`` prints)."""
    return pretty_str(get_env_info())


def main():
    print("Collecting environment information...")
    print(get_pretty_env_info())


if __name__ == "__main__":
    main()
