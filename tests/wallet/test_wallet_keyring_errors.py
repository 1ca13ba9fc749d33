"""No keyring, a locked keyring, a denied prompt, a failed save: clear errors, nothing lost."""

from __future__ import annotations

import json
from typing import ClassVar

import keyring
import pytest
from keyring.backends import chainer, fail
from keyring.errors import InitError, KeyringLocked

from studio.core.settings import SettingsStore, WalletAccount
from studio.core.wallet import KeyringLockedError, KeyringUnavailableError, WalletError
from studio.core.wallet.service import WalletService
from studio.core.wallet.vault import backend_problem

from .helpers import ANVIL, ANVIL_MNEMONIC, FakeMemoryKeyring


def _seed_settings(paths) -> bytes:
    store = SettingsStore(paths.settings_file)
    settings = store.load().settings
    settings.wallet.accounts.append(WalletAccount(ANVIL[0][0], "kept", "key", ""))
    settings.wallet.active_account = ANVIL[0][0]
    store.save(settings)
    return paths.settings_file.read_bytes()


def test_fail_backend_refuses_every_secret_operation(paths, tmp_path) -> None:
    keyring.set_keyring(fail.Keyring())
    before = _seed_settings(paths)
    svc = WalletService(paths)
    ks = tmp_path / "ks.json"
    ks.write_text(json.dumps({"version": 3, "crypto": {
        "cipher": "aes-128-ctr", "ciphertext": "00", "cipherparams": {"iv": "00"},
        "kdf": "scrypt", "kdfparams": {}, "mac": "00"}}))
    operations = [
        svc.check_keyring,
        svc.create_account,
        lambda: svc.create_from_mnemonic(ANVIL_MNEMONIC),
        lambda: svc.import_private_key(ANVIL[1][1]),
        lambda: svc.import_mnemonic(ANVIL_MNEMONIC, count=2),
        lambda: svc.import_keystore(ks, "pw"),
        lambda: svc.export_keystore(ANVIL[0][0], "password"),
        lambda: svc.write_keystore(ANVIL[0][0], "password", tmp_path / "out.json"),
        lambda: svc.remove(ANVIL[0][0]),
        lambda: svc.local_account(ANVIL[0][0]),
        lambda: svc.sign_message(ANVIL[0][0], "hi"),
        lambda: svc.derive_next(ANVIL[0][0]),
    ]
    for op in operations:
        with pytest.raises(KeyringUnavailableError) as info:
            op()
        text = str(info.value)
        assert "No usable OS keyring" in text and "nothing was stored" in text
        assert "gnome-keyring" in text  # how to enable one on this OS
    assert paths.settings_file.read_bytes() == before
    assert not (tmp_path / "out.json").exists()
    # The list itself needs no keyring.
    assert [a.label for a in svc.list_accounts()] == ["kept"]


def test_backend_problems() -> None:
    class EmptyChainer(chainer.ChainerBackend):
        backends: ClassVar[list] = []

    assert backend_problem(fail.Keyring())
    assert "no keyring backend" in backend_problem(EmptyChainer())

    class PlaintextKeyring(FakeMemoryKeyring):  # FAKE: named like keyrings.alt's
        pass

    assert "plain text" in backend_problem(PlaintextKeyring())


def test_locked_keyring_error_then_retry(paths, fake_keyring) -> None:
    svc = WalletService(paths, backend=fake_keyring)
    fake_keyring.fail_with = KeyringLocked("Failed to unlock the collection!")
    with pytest.raises(KeyringLockedError, match=r"locked or access was denied.*try again"):
        svc.import_private_key(ANVIL[0][1])
    assert not paths.settings_file.exists()
    fake_keyring.fail_with = None  # the user unlocked it
    assert svc.import_private_key(ANVIL[0][1]).address == ANVIL[0][0]


def test_init_error_and_dismissed_prompt(paths, fake_keyring) -> None:
    svc = WalletService(paths, backend=fake_keyring)
    fake_keyring.fail_with = InitError("Failed to create the collection: Prompt dismissed.")
    with pytest.raises(KeyringLockedError, match="could not be opened"):
        svc.create_account()

    # SecretStorage's own exception (not wrapped by keyring); FAKE stand-in, same module/name.
    dismissed = type("PromptDismissedException", (Exception,),
                     {"__module__": "secretstorage.exceptions"})
    fake_keyring.fail_with = dismissed("Prompt dismissed.")
    with pytest.raises(KeyringLockedError, match="dismissed"):
        svc.create_account()
    assert not paths.settings_file.exists()


def test_failed_settings_save_rolls_back_keyring(tmp_path, fake_keyring) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the config folder should be")
    svc = WalletService(SettingsStore(blocker / "settings.json"), backend=fake_keyring)
    with pytest.raises(WalletError, match="could not be saved"):
        svc.import_mnemonic(ANVIL_MNEMONIC, count=2)
    assert fake_keyring.entries == {}  # no orphaned secret left behind


def test_damaged_keyring_entry(paths, fake_keyring, keyring_service) -> None:
    svc = WalletService(paths, backend=fake_keyring)
    a = svc.import_private_key(ANVIL[0][1])
    fake_keyring.entries[(keyring_service, a.address)] = "not json"
    with pytest.raises(WalletError, match="damaged"):
        svc.local_account(a.address)
    fake_keyring.entries[(keyring_service, a.address)] = json.dumps({"v": 1, "key": ANVIL[1][1]})
    with pytest.raises(WalletError, match="holds a different key"):
        svc.local_account(a.address)


def test_secret_repr_hides_value() -> None:
    from studio.core.wallet.vault import StoredSecret

    s = StoredSecret(key=ANVIL[0][1])
    assert ANVIL[0][1][2:] not in repr(s) and ANVIL[0][1][2:] not in str(s)
    m = StoredSecret(mnemonic=ANVIL_MNEMONIC, path="m/44'/60'/0'/0/0")
    assert "junk" not in repr(m)
