"""Shared test setup: an optional torch oracle and isolation of ember's global state between tests."""
import pytest

import ember


@pytest.fixture(scope="session")
def torch_oracle():
    """PyTorch as a test-time oracle; tests that take this fixture are skipped where torch is missing."""
    return pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _restore_ember_state():
    """A test that changes the default dtype or grad mode (and fails before undoing it) must not leak the
    change into the tests after it."""
    yield
    if ember.get_default_dtype() is not ember.float32:
        ember.set_default_dtype(ember.float32)
    if not ember.is_grad_enabled():
        ember.set_grad_enabled(True)
