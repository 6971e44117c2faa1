"""detect_anomaly / set_detect_anomaly: name the forward op whose backward produced NaN."""
import traceback
import warnings


class _State:
    __slots__ = ("enabled", "check_nan")

    def __init__(self):
        self.enabled, self.check_nan = False, True


state = _State()


def is_anomaly_enabled():
    return state.enabled


def is_anomaly_check_nan_enabled():
    return state.check_nan


class detect_anomaly:
    """Context manager: while on, a backward that yields NaN raises, naming the node that made it."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should "
                      "only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        self._prev = (state.enabled, state.check_nan)
        state.enabled, state.check_nan = True, self.check_nan

    def __exit__(self, *exc):
        state.enabled, state.check_nan = self._prev
        return False


class set_detect_anomaly:
    """Turn anomaly detection on or off (call, or use as a context manager)."""

    def __init__(self, mode, check_nan=True):
        self._prev = (state.enabled, state.check_nan)
        state.enabled, state.check_nan = bool(mode), check_nan

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        state.enabled, state.check_nan = self._prev
        return False


def record_stack(node):
    """Keep the forward's traceback on the node so errors in backward can point to it."""
    node.metadata["traceback_"] = "".join(traceback.format_stack()[:-3])


def report(node, exc):
    tb = node.metadata.get("traceback_")
    if tb:
        warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n{tb}",
                      stacklevel=2)


def check(node, grads):
    if not state.check_nan:
        return
    for i, g in enumerate(grads):
        if g is None or g.device.type == "meta":
            continue
        if g.dtype.category >= 2 and bool(g.isnan().any()):
            report(node, None)
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
