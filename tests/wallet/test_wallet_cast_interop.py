"""Keystores interoperate with Foundry's ``cast`` (from contracts/node_modules, npm
@foundry-rs/cast): cast's keystore imports here, ours decrypts in cast to the same key."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from studio.core.wallet.service import WalletService

from .helpers import ANVIL, cast_path

CAST = cast_path()
pytestmark = pytest.mark.skipif(
    CAST is None, reason="Foundry's cast not installed (run `npm ci` in contracts/ to get "
    "contracts/node_modules/.bin/cast from @foundry-rs/cast)")
PASSWORD = "interop password"


def test_cast_keystore_imports(paths, real_keyring, tmp_path) -> None:
    out = subprocess.run([str(CAST), "wallet", "new", str(tmp_path), "castacct",
                          "--unsafe-password", PASSWORD],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    address = re.search(r"0x[0-9a-fA-F]{40}", out).group(0)
    keystore = tmp_path / "castacct"
    assert json.loads(keystore.read_text())["crypto"]["kdf"] == "scrypt"
    svc = WalletService(paths)
    account = svc.import_keystore(keystore, PASSWORD, label="from cast")
    assert account.address == address
    assert svc.local_account(address).address == address


def test_studio_keystore_decrypts_in_cast(paths, real_keyring, tmp_path) -> None:
    svc = WalletService(paths)
    address, key = ANVIL[2]
    svc.import_private_key(key)
    svc.write_keystore(address, PASSWORD, tmp_path / "studio-export")
    out = subprocess.run([str(CAST), "wallet", "decrypt-keystore", "studio-export",
                          "--keystore-dir", str(tmp_path), "--unsafe-password", PASSWORD],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert key.lower() in out.lower()
