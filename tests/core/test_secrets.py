"""The one secret store: the real OS keyring (gnome-keyring via scripts/with-keyring.sh) for
the round trip and the service-name override; one refusal policy shared by every kind of
secret (wallet keys, signing-identity keys, RPC URLs with keys, publish tokens)."""

from __future__ import annotations

import uuid

import keyring
import pytest
from keyring.backend import KeyringBackend

from studio.core.secrets import (
    SERVICE,
    SecretStore,
    SecretsUnavailableError,
    backend_problem,
    service_name,
)


@pytest.fixture
def service(monkeypatch) -> str:
    name = f"provenance-studio-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("STUDIO_KEYRING_SERVICE", name)
    problem = backend_problem(keyring.get_keyring())
    if problem:
        pytest.skip(f"no usable OS keyring ({problem}); run through scripts/with-keyring.sh")
    return name


def test_round_trip_in_the_real_keyring_under_the_override(service) -> None:
    store = SecretStore()
    assert store.service == service == service_name()
    assert store.get("k") is None
    store.set("k", "s3cret")
    assert keyring.get_password(service, "k") == "s3cret"  # the real backend holds it
    assert keyring.get_password(SERVICE, "k") is None  # never under the default name
    assert store.get("k") == "s3cret"
    assert store.delete("k") is True
    assert store.delete("k") is False
    assert store.get("k") is None


class PlaintextKeyring(KeyringBackend):
    """FAKE backend named like keyrings.alt's plain-file one: the policy must refuse it before
    anything is written to it."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def get_password(self, service, username):
        return None

    def set_password(self, service, username, password):
        self.writes += 1

    def delete_password(self, service, username):
        self.writes += 1


def test_every_kind_of_secret_refuses_a_plaintext_backend(service, paths, monkeypatch) -> None:
    from studio.core.chain.profiles import ChainProfiles, ProfileError
    from studio.core.provenance.identity import IdentityError, IdentityManager
    from studio.core.publish.backends import PublishError, store_token
    from studio.core.settings import Settings
    from studio.core.wallet.errors import KeyringUnavailableError
    from studio.core.wallet.service import WalletService

    fake = PlaintextKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: fake)
    with pytest.raises(SecretsUnavailableError, match="plain text"):
        SecretStore().set("x", "y")
    with pytest.raises(KeyringUnavailableError, match="plain text"):
        WalletService(paths).create_account("w")
    with pytest.raises(IdentityError, match="plain text"):
        IdentityManager(paths).ensure("Ada", None)
    with pytest.raises(ProfileError, match="never written to a plain file"):
        ChainProfiles(Settings()).add(name="Infura", chain_id=11155111,
                                      rpc_url="https://sepolia.infura.io/v3/abcdef0123456789")
    with pytest.raises(PublishError, match="never written to a plain file"):
        store_token("https://pin.example", "tok")
    assert fake.writes == 0
    assert WalletService(paths).list_accounts() == []  # nothing half-saved


def test_missing_backend_is_refused_with_advice(monkeypatch) -> None:
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    store = SecretStore()
    assert store.problem() == "keyring reports no backend"
    with pytest.raises(SecretsUnavailableError, match="never in a plain file"):
        store.get("x")
