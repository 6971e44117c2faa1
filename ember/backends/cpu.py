"""ember.backends.cpu: the SIMD level of this CPU, as torch names it."""
import os
import platform

__all__ = ["get_cpu_capability"]


def _features():
    import numpy as np
    core = getattr(np, "_core", None) or np.core
    return core._multiarray_umath.__cpu_features__


def get_cpu_capability():
    """'AVX512', 'AVX2' or 'DEFAULT' on x86 ('DEFAULT' elsewhere); ATEN_CPU_CAPABILITY can lower it."""
    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686"):
        return "DEFAULT"
    f = _features()
    cap = "DEFAULT"
    if f.get("AVX2") and f.get("FMA3"):
        cap = "AVX2"
    if cap == "AVX2" and all(f.get(k) for k in ("AVX512F", "AVX512BW", "AVX512VL", "AVX512DQ")):
        cap = "AVX512"
    order = ("DEFAULT", "AVX2", "AVX512")
    env = os.environ.get("ATEN_CPU_CAPABILITY", "").upper()
    if env in order and order.index(env) < order.index(cap):
        cap = env
    return cap
