"""Wallet fixtures: the real OS keyring (gnome-keyring via scripts/with-keyring.sh), a fresh
keyring service name per test so nothing touches a user's real entries, and an in-memory FAKE
backend for unit tests of error paths that a real keyring cannot be made to produce on demand."""

from __future__ import annotations

import uuid

import keyring
import pytest

from .helpers import FakeMemoryKeyring


@pytest.fixture(autouse=True)
def keyring_service(monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"provenance-studio-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("STUDIO_KEYRING_SERVICE", name)
    return name


@pytest.fixture(autouse=True)
def _restore_keyring():
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


@pytest.fixture
def real_keyring(keyring_service: str):
    """The real OS keyring, or a skip saying how to get one."""
    from studio.core.wallet.vault import backend_problem

    backend = keyring.get_keyring()
    problem = backend_problem(backend)
    if problem:
        pytest.skip(f"no usable OS keyring ({problem}); run the tests through "
                    "scripts/with-keyring.sh, which starts gnome-keyring")
    return backend


@pytest.fixture
def svc(paths, real_keyring):
    from studio.core.wallet.service import WalletService

    return WalletService(paths)


@pytest.fixture
def fake_keyring() -> FakeMemoryKeyring:
    return FakeMemoryKeyring()
