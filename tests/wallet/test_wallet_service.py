"""WalletService against the real OS keyring (gnome-keyring Secret Service)."""

from __future__ import annotations

import json

import keyring
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from studio.core.settings import SettingsStore
from studio.core.wallet import (
    AccountNotFoundError,
    InvalidSecretError,
    WalletError,
    WrongPasswordError,
)
from studio.core.wallet.service import WalletService

from .helpers import ANVIL, ANVIL_MNEMONIC

TYPED = {
    "types": {
        "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId",
                                                             "type": "uint256"}],
        "Binding": [{"name": "wallet", "type": "address"}, {"name": "note", "type": "string"}],
    },
    "primaryType": "Binding",
    "domain": {"name": "Studio test", "chainId": 31337},
    "message": {"wallet": ANVIL[0][0], "note": "hello"},
}


def test_mnemonic_gives_anvil_accounts(svc, paths, keyring_service) -> None:
    added = svc.import_mnemonic(ANVIL_MNEMONIC, index=0, count=3, label="Anvil")
    assert [a.address for a in added] == [a for a, _ in ANVIL]
    assert [a.derivation_path for a in added] == [f"m/44'/60'/0'/0/{i}" for i in range(3)]
    assert [a.label for a in added] == ["Anvil #0", "Anvil #1", "Anvil #2"]
    assert svc.active_account().address == ANVIL[0][0]
    for address, key in ANVIL:
        assert svc.local_account(address).key.hex() == key.removeprefix("0x")
    # The keyring holds it under the checksummed address; settings hold no secret.
    stored = json.loads(keyring.get_password(keyring_service, ANVIL[1][0]))
    assert stored == {"v": 1, "mnemonic": ANVIL_MNEMONIC, "path": "m/44'/60'/0'/0/1"}
    on_disk = json.loads(paths.settings_file.read_text())["wallet"]
    assert [a["address"] for a in on_disk["accounts"]] == [a for a, _ in ANVIL]
    assert "junk" not in paths.settings_file.read_text()


def test_single_index_and_derive_next(svc) -> None:
    (one,) = svc.import_mnemonic(" Test TEST test test test test test test test test test\njunk ",
                                 index=2)
    assert one.address == ANVIL[2][0]
    nxt = svc.derive_next(one.address)
    assert nxt.derivation_path == "m/44'/60'/0'/0/3"
    assert nxt.address == "0x90F79bf6EB2c4f870365E785982E1f101E93b906"  # anvil #3
    key = svc.import_private_key("0x" + "11" * 32)
    with pytest.raises(WalletError, match="not made from a recovery phrase"):
        svc.derive_next(key.address)


def test_sign_message_typed_data_and_transaction(svc) -> None:
    address, _ = ANVIL[0]
    svc.import_private_key(ANVIL[0][1].removeprefix("0x").upper(), label="main")
    signed = svc.sign_message(address, "I made this")
    assert Account.recover_message(encode_defunct(text="I made this"),
                                   signature=signed.signature) == address
    typed = svc.sign_typed_data(address, TYPED)
    from eth_account.messages import encode_typed_data

    assert Account.recover_message(encode_typed_data(full_message=TYPED),
                                   signature=typed.signature) == address
    tx = {"to": ANVIL[1][0], "value": 1, "gas": 21000, "maxFeePerGas": 2_000_000_000,
          "maxPriorityFeePerGas": 1_000_000_000, "nonce": 0, "chainId": 31337, "type": 2}
    raw = svc.sign_transaction(address, tx)
    assert Account.recover_transaction(raw.raw_transaction) == address
    with pytest.raises(WalletError, match="typed data"):
        svc.sign_typed_data(address, {"types": {}})


def test_create_key_and_from_mnemonic(svc) -> None:
    a = svc.create_account("fresh")
    assert a.source == "created" and a.label == "fresh"
    assert svc.local_account(a.address).address == a.address
    phrase = svc.new_mnemonic()
    assert len(phrase.split()) == 12
    b = svc.create_from_mnemonic(phrase)
    assert b.derivation_path == "m/44'/60'/0'/0/0" and b.label == "Account 2"
    Account.enable_unaudited_hdwallet_features()
    assert Account.from_mnemonic(phrase).address == b.address


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"),
    ("0x1234", "64 hexadecimal digits (32 bytes); this one has 4 digits (2 bytes)"),
    ("ab" * 33, "this one has 66 digits (33 bytes)"),
    ("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "looks like an address"),
    ("0x" + "g" + "1" * 63, "Character 1 of the private key is not a hexadecimal digit"),
    ("0" * 64, "not a valid secp256k1 private key"),
    ("f" * 64, "not a valid secp256k1 private key"),
])
def test_bad_keys_are_refused_and_nothing_is_written(svc, paths, text, message) -> None:
    with pytest.raises(InvalidSecretError, match=message.replace("(", r"\(").replace(")", r"\)")):
        svc.import_private_key(text)
    assert not paths.settings_file.exists()


@pytest.mark.parametrize(("phrase", "message"), [
    ("test test tset test test test test test test test test junk",
     'Word #3 "tset" is not in the BIP-39 English word list (did you mean'),
    ("test test test test test test test test test test test jumk zzzz",
     'not in the BIP-39 English word list: #12 "jumk" (did you mean junk or jump?), '
     '#13 "zzzz".'),
    ("test test test test test test test test test test test test",
     "checksum does not match"),
    ("test test test test test test test test test test junk", "this one has 11"),
    ("   ", "empty"),
])
def test_bad_mnemonics_say_what_is_wrong(svc, paths, phrase, message) -> None:
    with pytest.raises(InvalidSecretError) as info:
        svc.import_mnemonic(phrase)
    assert message in str(info.value)
    assert not paths.settings_file.exists()


def test_derivation_limits(svc) -> None:
    with pytest.raises(InvalidSecretError, match="between 1 and 100"):
        svc.import_mnemonic(ANVIL_MNEMONIC, count=101)
    with pytest.raises(InvalidSecretError, match="index must be between"):
        svc.import_mnemonic(ANVIL_MNEMONIC, index=-1)


def test_duplicates_are_refused(svc) -> None:
    svc.import_private_key(ANVIL[0][1], label="first")
    with pytest.raises(WalletError, match="already in the wallet as “first”"):
        svc.import_mnemonic(ANVIL_MNEMONIC)
    # Deriving several skips the ones already present.
    added = svc.import_mnemonic(ANVIL_MNEMONIC, count=2)
    assert [a.address for a in added] == [ANVIL[1][0]]


def test_keystore_round_trip_and_errors(svc, tmp_path, keyring_service) -> None:
    address, key = ANVIL[1]
    svc.import_private_key(key)
    out = svc.write_keystore(address, "correct horse", tmp_path / "ks.json")
    data = json.loads(out.read_text())
    assert data["version"] == 3 and data["crypto"]["kdf"] == "scrypt"
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert bytes(Account.decrypt(data, "correct horse")).hex() == key.removeprefix("0x")
    with pytest.raises(WalletError, match="already exists"):
        svc.write_keystore(address, "correct horse", out)

    svc.remove(address)
    assert keyring.get_password(keyring_service, address) is None
    with pytest.raises(WrongPasswordError, match="Wrong keystore password"):
        svc.import_keystore(out, "wrong horse")
    assert svc.list_accounts() == []
    imported = svc.import_keystore(out, "correct horse", label="from file")
    assert (imported.address, imported.source) == (address, "keystore")
    assert svc.local_account(address).key.hex() == key.removeprefix("0x")

    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InvalidSecretError, match=r"not valid JSON \(line 1, column 2"):
        svc.import_keystore(bad, "x")
    bad.write_text(json.dumps({"version": 1}))
    with pytest.raises(InvalidSecretError, match="Only keystore version 3"):
        svc.import_keystore(bad, "x")
    tampered = dict(data, address="00" * 20)
    with pytest.raises(InvalidSecretError, match="does not match the key"):
        svc.import_keystore(tampered, "correct horse")
    with pytest.raises(InvalidSecretError, match="does not exist"):
        svc.import_keystore(tmp_path / "missing.json", "x")
    with pytest.raises(InvalidSecretError, match="cannot be empty"):
        svc.export_keystore(address, "")


def test_remove_rename_use_persist(svc, paths, keyring_service) -> None:
    svc.import_mnemonic(ANVIL_MNEMONIC, count=3)
    svc.set_active(ANVIL[1][0].lower())
    svc.rename(ANVIL[1][0], "  Payout   wallet ")
    again = WalletService(SettingsStore(paths.settings_file))
    assert again.active_account().label == "Payout wallet"
    assert again.get_account("Payout wallet").address == ANVIL[1][0]
    removed = again.remove(ANVIL[1][0])
    assert removed.address == ANVIL[1][0]
    assert keyring.get_password(keyring_service, ANVIL[1][0]) is None
    assert again.active_account().address == ANVIL[0][0]  # the active one moved on
    assert [a.address for a in svc.list_accounts()] == [ANVIL[0][0], ANVIL[2][0]]
    with pytest.raises(AccountNotFoundError):
        svc.remove(ANVIL[1][0])
    with pytest.raises(WalletError, match="cannot be empty"):
        svc.rename(ANVIL[0][0], "   ")


def test_missing_keyring_entry_is_explained(svc, keyring_service) -> None:
    a = svc.import_private_key(ANVIL[2][1])
    keyring.delete_password(keyring_service, a.address)  # removed outside the studio
    with pytest.raises(WalletError, match="has no key for"):
        svc.local_account(a.address)


def test_live_settings_object_is_shared(paths, real_keyring) -> None:
    # The GUI passes its live Settings: the service edits that object, and saves it.
    store = SettingsStore(paths.settings_file)
    live = store.load().settings
    live.ui.theme = "dark"
    svc = WalletService(store, lambda: live)
    svc.import_private_key(ANVIL[0][1])
    assert live.wallet.accounts[0].address == ANVIL[0][0]
    saved = json.loads(paths.settings_file.read_text())
    assert saved["ui"]["theme"] == "dark" and saved["wallet"]["active_account"] == ANVIL[0][0]
