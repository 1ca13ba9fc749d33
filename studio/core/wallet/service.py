"""WalletService: accounts whose secrets live only in the OS keyring.

The account list (checksummed address, label, source, derivation path) is plain settings; the
secret is a keyring entry keyed by the address (see :mod:`studio.core.wallet.vault`). A
mnemonic account keeps its recovery phrase and path in the keyring, so more accounts can be
derived from it later. Secret-bearing calls may block on an unlock prompt: GUI code runs them
off the GUI thread. No method logs a secret or puts one in an exception message.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.core.paths import StudioPaths
from studio.core.settings import Settings, SettingsStore, WalletAccount, WalletSettings
from studio.core.wallet import validation
from studio.core.wallet.errors import (
    AccountNotFoundError,
    InvalidSecretError,
    WalletError,
)
from studio.core.wallet.vault import KeyringVault, StoredSecret

if TYPE_CHECKING:
    from eth_account.datastructures import SignedMessage, SignedTransaction
    from eth_account.signers.local import LocalAccount

log = logging.getLogger(__name__)

SOURCES = ("created", "key", "mnemonic", "keystore")
MAX_LABEL = 64

SettingsSource = Settings | Callable[[], Settings] | None


def _account_from_key(key: bytes) -> LocalAccount:
    from eth_account import Account

    return Account.from_key(key)


def _derive_keys(phrase: str, indexes: list[int]) -> list[tuple[int, bytes]]:
    from eth_account.hdaccount import key_from_seed, seed_from_mnemonic

    seed = seed_from_mnemonic(phrase, "")  # phrase already validated: no secret in errors
    return [(i, key_from_seed(seed, validation.derivation_path(i))) for i in indexes]


class WalletService:
    """Create, import, export, remove and use wallet accounts.

    ``settings_store`` is the :class:`SettingsStore` (or the :class:`StudioPaths` to find it).
    ``settings`` is the live :class:`Settings` the caller also edits (or a callable returning
    it, as the GUI's context does); when omitted each operation reads the file afresh (CLI).
    ``backend`` overrides the keyring backend (``keyring.get_keyring()`` by default).
    """

    def __init__(self, settings_store: SettingsStore | StudioPaths,
                 settings: SettingsSource = None, *, backend: Any = None,
                 service: str | None = None) -> None:
        if isinstance(settings_store, StudioPaths):
            settings_store = SettingsStore(settings_store.settings_file)
        self.store = settings_store
        self._source = settings
        self.vault = KeyringVault(backend, service)
        self._lock = threading.RLock()

    # -- the account list (settings only: never blocks on the keyring) ------------------------

    def _settings(self) -> Settings:
        if callable(self._source):
            return self._source()
        if self._source is not None:
            return self._source
        return self.store.load().settings

    def list_accounts(self) -> list[WalletAccount]:
        with self._lock:
            return [replace(a) for a in self._settings().wallet.accounts]

    def active_account(self) -> WalletAccount | None:
        with self._lock:
            wallet = self._settings().wallet
            found = _find(wallet, wallet.active_account)
            return replace(found) if found else None

    def get_account(self, address: str) -> WalletAccount:
        """The account whose address (any case) or exact label is ``address``."""
        with self._lock:
            wallet = self._settings().wallet
            found = _find(wallet, address) or next(
                (a for a in wallet.accounts if a.label == address.strip()), None)
            if found is None:
                raise AccountNotFoundError(f"No account {address!r} in the wallet. "
                                           "`studio wallet list` shows the accounts.")
            return replace(found)

    def rename(self, address: str, label: str) -> WalletAccount:
        label = _clean_label(label)
        with self._lock:
            settings = self._settings()
            before = copy.deepcopy(settings.wallet)
            account = _find(settings.wallet, self.get_account(address).address)
            assert account is not None
            account.label = label
            self._save(settings, before)
            return replace(account)

    def set_active(self, address: str) -> WalletAccount:
        with self._lock:
            settings = self._settings()
            before = copy.deepcopy(settings.wallet)
            account = self.get_account(address)
            settings.wallet.active_account = account.address
            self._save(settings, before)
            return account

    def _save(self, settings: Settings, before: WalletSettings) -> None:
        try:
            self.store.save(settings)
        except OSError as exc:
            settings.wallet = before
            raise WalletError(f"The account list could not be saved ({exc}); "
                              "nothing was changed.") from exc

    # -- adding accounts ------------------------------------------------------------------------

    def check_keyring(self) -> None:
        """Raise KeyringUnavailableError when no usable OS keyring is present."""
        self.vault.check()

    @staticmethod
    def new_mnemonic(words: int = 12) -> str:
        """A fresh English BIP-39 phrase; nothing is stored until create_from_mnemonic."""
        from eth_account.hdaccount.mnemonic import Mnemonic

        if words not in validation.WORD_COUNTS:
            raise InvalidSecretError("A recovery phrase has 12, 15, 18, 21 or 24 words.")
        return Mnemonic().generate(words)

    def create_account(self, label: str = "") -> WalletAccount:
        """A new random private key."""
        self.vault.check()
        key = os.urandom(32)
        return self._add([(key, StoredSecret(key="0x" + key.hex()), "created", "")], label)[0]

    def create_from_mnemonic(self, phrase: str, label: str = "") -> WalletAccount:
        """Store account #0 of a phrase from :meth:`new_mnemonic` the user has confirmed."""
        return self._import_phrase(phrase, 0, 1, label, "created")[0]

    def import_private_key(self, key_text: str, label: str = "") -> WalletAccount:
        key = validation.parse_private_key(key_text)
        self.vault.check()
        return self._add([(key, StoredSecret(key="0x" + key.hex()), "key", "")], label)[0]

    def import_mnemonic(self, phrase: str, index: int = 0, count: int = 1,
                        label: str = "") -> list[WalletAccount]:
        """Accounts ``index`` .. ``index+count-1`` on path m/44'/60'/0'/0/i."""
        return self._import_phrase(phrase, index, count, label, "mnemonic")

    def derive_next(self, address: str, label: str = "") -> WalletAccount:
        """The next unused index of the recovery phrase that ``address`` came from."""
        account = self.get_account(address)
        secret = self._secret(account.address)
        if not secret.mnemonic:
            raise WalletError(f"{account.label} was not made from a recovery phrase, so no "
                              "further accounts can be derived from it.")
        used = {_index(a.derivation_path) for a in self._siblings(secret.mnemonic)}
        index = max(used | {-1}) + 1
        return self._import_phrase(secret.mnemonic, index, 1, label, account.source)[0]

    def import_keystore(self, source: str | Path | dict[str, Any], password: str,
                        label: str = "") -> WalletAccount:
        """A keystore v3 (file path, JSON text or dict) opened with ``password``."""
        keystore = validation.load_keystore(source)
        self.vault.check()  # before the slow KDF: fail fast when nothing could be stored
        key = validation.decrypt_keystore(keystore, password)
        return self._add([(key, StoredSecret(key="0x" + key.hex()), "keystore", "")], label)[0]

    def _import_phrase(self, phrase: str, index: int, count: int, label: str,
                       source: str) -> list[WalletAccount]:
        phrase = validation.parse_mnemonic(phrase)
        validation.check_derivation(index, count)
        self.vault.check()
        entries = [
            (key, StoredSecret(mnemonic=phrase, path=validation.derivation_path(i)), source,
             validation.derivation_path(i))
            for i, key in _derive_keys(phrase, list(range(index, index + count)))
        ]
        if count > 1:
            known = {a.address for a in self.list_accounts()}
            fresh = [e for e in entries if _account_from_key(e[0]).address not in known]
            if not fresh:
                raise WalletError("All of these accounts are already in the wallet.")
            entries = fresh
        return self._add(entries, label, numbered=count > 1)

    def _add(self, entries: list[tuple[bytes, StoredSecret, str, str]], label: str,
             numbered: bool = False) -> list[WalletAccount]:
        label = _clean_label(label) if label.strip() else ""
        with self._lock:
            wallet = self._settings().wallet
            new: list[WalletAccount] = []
            for key, _, source, path in entries:
                address = _account_from_key(key).address
                existing = _find(wallet, address)
                if existing is not None:
                    raise WalletError(f"{address} is already in the wallet as "
                                      f"“{existing.label}”.")
                name = label or _default_label(wallet, len(new))
                if numbered and label:
                    name = f"{label} #{_index(path)}"
                new.append(WalletAccount(address, name, source, path))
        # The keyring may block on an unlock prompt: never hold the lock around it.
        stored: list[str] = []
        try:
            for account, (_, secret, _, _) in zip(new, entries, strict=True):
                self.vault.put(account.address, secret)
                stored.append(account.address)
            with self._lock:
                settings = self._settings()
                before = copy.deepcopy(settings.wallet)
                known = {a.address for a in settings.wallet.accounts}
                settings.wallet.accounts.extend(a for a in new if a.address not in known)
                if not settings.wallet.active_account:
                    settings.wallet.active_account = new[0].address
                self._save(settings, before)
        except BaseException:
            for address in stored:  # nothing half-done: the list and the keyring agree
                try:
                    self.vault.delete(address)
                except WalletError:
                    log.warning("could not roll back the keyring entry for %s", address)
            raise
        log.info("wallet: added %s", ", ".join(a.address for a in new))
        return [replace(a) for a in new]

    # -- removing and exporting ------------------------------------------------------------------

    def remove(self, address: str) -> WalletAccount:
        """Delete the account's keyring entry and drop it from the list. Irreversible."""
        account = self.get_account(address)
        secret = self.vault.get(account.address)  # kept to restore if the save fails
        self.vault.delete(account.address)
        with self._lock:
            settings = self._settings()
            before = copy.deepcopy(settings.wallet)
            wallet = settings.wallet
            wallet.accounts = [a for a in wallet.accounts if a.address != account.address]
            if wallet.active_account == account.address:
                wallet.active_account = wallet.accounts[0].address if wallet.accounts else ""
            try:
                self._save(settings, before)
            except WalletError:
                if secret is not None:
                    self.vault.put(account.address, secret)
                raise
        log.info("wallet: removed %s", account.address)
        return account

    def export_keystore(self, address: str, password: str) -> dict[str, Any]:
        """A keystore v3 (scrypt) of the account's key, encrypted with ``password``."""
        from eth_account import Account

        if not password:
            raise InvalidSecretError("Choose a password for the keystore; it cannot be empty.")
        if problem := validation.keystore_password_problem(password):
            raise InvalidSecretError(problem)
        local = self.local_account(address)
        return Account.encrypt(local.key, password, kdf="scrypt")

    def write_keystore(self, address: str, password: str, path: Path,
                       overwrite: bool = False) -> Path:
        """Export to ``path`` (mode 0600), never leaving a partial file behind."""
        path = Path(path)
        if path.exists() and not overwrite:
            raise WalletError(f"{path} already exists; choose another file name.")
        if not path.parent.is_dir():
            raise WalletError(f"The folder {path.parent} does not exist.")
        data = json.dumps(self.export_keystore(address, password))
        tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise WalletError(f"The keystore could not be written to {path}: {exc}") from exc
        log.info("wallet: exported keystore for %s", self.get_account(address).address)
        return path

    # -- using keys ----------------------------------------------------------------------------

    def _secret(self, address: str) -> StoredSecret:
        secret = self.vault.get(address)
        if secret is None:
            raise WalletError(f"The keyring has no key for {address}: it was removed outside "
                              "the studio or this keyring is not the one it was stored in. "
                              "Import the account again.")
        return secret

    def local_account(self, address: str) -> LocalAccount:
        """The signing account for ``address``, its key loaded from the keyring."""
        account = self.get_account(address)
        secret = self._secret(account.address)
        if secret.mnemonic:
            ((_, key),) = _derive_keys(secret.mnemonic, [_index(secret.path)])
        else:
            key = bytes.fromhex(secret.key.removeprefix("0x"))
        local = _account_from_key(key)
        if local.address != account.address:
            raise WalletError(f"The keyring entry for {account.address} holds a different key; "
                              "it was changed outside the studio.")
        return local

    def sign_message(self, address: str, message: str | bytes) -> SignedMessage:
        """EIP-191 (personal_sign) signature of ``message``."""
        from eth_account.messages import encode_defunct

        signable = (encode_defunct(text=message) if isinstance(message, str)
                    else encode_defunct(primitive=message))
        return self.local_account(address).sign_message(signable)

    def sign_typed_data(self, address: str, full_message: dict[str, Any]) -> SignedMessage:
        """EIP-712 signature of a full typed-data message (types, primaryType, domain, message)."""
        try:
            return self.local_account(address).sign_typed_data(full_message=full_message)
        except (KeyError, TypeError, ValueError) as exc:
            raise WalletError(f"The typed data is not valid EIP-712: {exc}") from exc

    def sign_transaction(self, address: str, tx: dict[str, Any]) -> SignedTransaction:
        try:
            return self.local_account(address).sign_transaction(tx)
        except (KeyError, TypeError, ValueError) as exc:
            raise WalletError(f"The transaction cannot be signed: {exc}") from exc

    def _siblings(self, phrase: str) -> list[WalletAccount]:
        out = []
        for a in self.list_accounts():
            if a.derivation_path:
                s = self.vault.get(a.address)
                if s is not None and s.mnemonic == phrase:
                    out.append(a)
        return out


def _find(wallet: WalletSettings, address: str) -> WalletAccount | None:
    wanted = address.strip().lower()
    if not wanted:
        return None
    if not wanted.startswith("0x"):
        wanted = "0x" + wanted
    return next((a for a in wallet.accounts if a.address.lower() == wanted), None)


def _clean_label(label: str) -> str:
    label = " ".join(label.split())
    if not label:
        raise WalletError("The label cannot be empty.")
    if len(label) > MAX_LABEL:
        raise WalletError(f"Keep the label under {MAX_LABEL} characters.")
    return label


def _default_label(wallet: WalletSettings, offset: int) -> str:
    taken = {a.label for a in wallet.accounts}
    n = len(wallet.accounts) + offset + 1
    while f"Account {n}" in taken:
        n += 1
    return f"Account {n}"


def _index(path: str) -> int:
    try:
        return int(path.rsplit("/", 1)[-1])
    except ValueError:
        return 0
