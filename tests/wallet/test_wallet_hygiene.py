"""Secrets never touch disk or logs: after create, import, sign and export, no file under
STUDIO_HOME holds a key or a recovery phrase in any form."""

from __future__ import annotations

import logging
from pathlib import Path

from studio.core.logging_setup import setup_logging
from studio.core.wallet.service import WalletService

from .helpers import ANVIL, ANVIL_MNEMONIC


def _forms(key_hex: str) -> list[bytes]:
    raw = bytes.fromhex(key_hex)
    out = [raw]
    for h in (key_hex.lower(), key_hex.upper()):
        out += [h.encode(), ("0x" + h).encode()]
    return out


def _scan(root: Path, needles: list[bytes]) -> list[str]:
    hits = []
    for f in root.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            hits += [f"{f}: {n[:6]!r}…" for n in needles if n in data or n.lower() in
                     data.lower()]
    return hits


def test_no_secret_on_disk_or_in_logs(paths, studio_home, real_keyring, tmp_path) -> None:
    setup_logging(paths.log_dir, verbose=True)
    logging.getLogger().setLevel(logging.DEBUG)  # keyring, dbus and eth libs log everything
    svc = WalletService(paths)
    created = svc.create_account("new")
    phrase = svc.new_mnemonic()
    from_phrase = svc.create_from_mnemonic(phrase)
    svc.import_private_key(ANVIL[0][1])
    svc.import_mnemonic(ANVIL_MNEMONIC, index=1, count=2)
    keys = [svc.local_account(a.address).key.hex() for a in svc.list_accounts()]
    for a in svc.list_accounts():
        svc.sign_message(a.address, "hello")
    export_dir = tmp_path / "outside-home"  # the exported keystore lives outside STUDIO_HOME
    export_dir.mkdir()
    svc.write_keystore(created.address, "a good password", export_dir / "ks.json")
    svc.rename(from_phrase.address, "renamed")
    for h in logging.getLogger().handlers:
        h.flush()

    assert len(keys) == 5 and (paths.log_dir / "studio.log").stat().st_size > 0
    needles = [n for k in keys for n in _forms(k)]
    for words in (phrase, ANVIL_MNEMONIC):
        needles += [words.encode(), words.upper().encode(), "\n".join(words.split()).encode()]
    assert list(studio_home.rglob("*.json")), "settings were written"
    assert _scan(studio_home, needles) == []
    canary = tmp_path / "canary"  # the scan itself finds a planted secret
    canary.mkdir()
    (canary / "x.log").write_text(f"oops {keys[0].upper()} and {phrase}")
    assert len(_scan(canary, needles)) >= 3
