"""Parse what a user typed or picked (hex key, recovery phrase, keystore) with exact errors.

Messages say what is wrong and where (the position of an unknown word, the number of hex digits
found) and never repeat a valid secret. eth-account is imported inside the functions.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Any

from studio.core.wallet.errors import InvalidSecretError, WrongPasswordError

WORD_COUNTS = (12, 15, 18, 21, 24)
MAX_INDEX = 2**31 - 1  # non-hardened BIP-32 child index
MAX_DERIVE = 100
# The least a keystore export password may be, for the CLI and the GUI alike: the keystore
# file leaves the keyring's protection, and scrypt only slows guessing down.
MIN_KEYSTORE_PASSWORD = 8


def keystore_password_problem(password: str) -> str | None:
    """Why ``password`` may not protect an exported keystore, or None."""
    if len(password) < MIN_KEYSTORE_PASSWORD:
        return f"Use a password of at least {MIN_KEYSTORE_PASSWORD} characters."
    return None
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HEX = re.compile(r"[0-9a-fA-F]*")


def derivation_path(index: int) -> str:
    return f"m/44'/60'/0'/0/{index}"


def parse_private_key(text: str) -> bytes:
    """A 32-byte secp256k1 private key from hex, with or without ``0x``."""
    s = "".join(text.split())
    if s[:2].lower() == "0x":
        s = s[2:]
    if not s:
        raise InvalidSecretError("The private key is empty.")
    bad = _HEX.match(s)
    if bad is not None and bad.end() < len(s):
        raise InvalidSecretError(f"Character {bad.end() + 1} of the private key is not a "
                                 "hexadecimal digit (0-9, a-f).")
    if len(s) != 64:
        hint = {40: " That looks like an address, not a private key.",
                128: " That looks like a public key.", 130: " That looks like a public key."}
        raise InvalidSecretError(
            f"A private key is 64 hexadecimal digits (32 bytes); this one has {len(s)} digits"
            f"{_bytes_note(len(s))}.{hint.get(len(s), '')}")
    value = int(s, 16)
    if not 0 < value < _SECP256K1_N:
        raise InvalidSecretError("This value is not a valid secp256k1 private key "
                                 "(it is zero or not below the curve order).")
    return bytes.fromhex(s)


def _bytes_note(digits: int) -> str:
    if digits % 2:
        return " (an odd number of digits)"
    return f" ({digits // 2} byte{'s' if digits != 2 else ''})"


def normalize_mnemonic(text: str) -> str:
    return " ".join(text.lower().split())


def mnemonic_problem(text: str) -> str | None:
    """Why ``text`` is not a valid English BIP-39 phrase, or None when it is."""
    from eth_account.hdaccount.mnemonic import Mnemonic, get_wordlist

    words = normalize_mnemonic(text).split()
    if not words:
        return "The recovery phrase is empty."
    wordlist = get_wordlist("english")
    known = set(wordlist)
    unknown = [(i, w) for i, w in enumerate(words, 1) if w not in known]
    if unknown:
        def guess(w: str) -> str:
            close = difflib.get_close_matches(w, wordlist, n=3, cutoff=0.7)
            return f" (did you mean {' or '.join(close)}?)" if close else ""

        if len(unknown) == 1:
            i, w = unknown[0]
            return f'Word #{i} "{w}" is not in the BIP-39 English word list{guess(w)}.'
        listed = ", ".join(f'#{i} "{w}"{guess(w)}' for i, w in unknown[:4])
        more = f" and {len(unknown) - 4} more" if len(unknown) > 4 else ""
        return f"These words are not in the BIP-39 English word list: {listed}{more}."
    if len(words) not in WORD_COUNTS:
        return (f"A recovery phrase has 12, 15, 18, 21 or 24 words; this one has {len(words)}.")
    if not Mnemonic().is_mnemonic_valid(" ".join(words)):
        return ("The recovery phrase's checksum does not match: one of the words is wrong or "
                "the words are out of order.")
    return None


def parse_mnemonic(text: str) -> str:
    problem = mnemonic_problem(text)
    if problem:
        raise InvalidSecretError(problem)
    return normalize_mnemonic(text)


def check_derivation(index: int, count: int) -> None:
    if not 0 <= index <= MAX_INDEX:
        raise InvalidSecretError(f"The account index must be between 0 and {MAX_INDEX}.")
    if not 1 <= count <= MAX_DERIVE:
        raise InvalidSecretError(f"Derive between 1 and {MAX_DERIVE} accounts at a time.")
    if index + count - 1 > MAX_INDEX:
        raise InvalidSecretError(f"The last index would pass {MAX_INDEX}.")


def load_keystore(source: str | Path | dict[str, Any]) -> dict[str, Any]:
    """A keystore v3 object from a file path, JSON text or dict, checked for shape only."""
    if isinstance(source, Path):
        try:
            text = source.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise InvalidSecretError(f"The keystore file {source} does not exist.") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidSecretError(f"The keystore file {source} cannot be read: {exc}") from exc
        source = text
    if isinstance(source, str):
        try:
            source = json.loads(source)
        except json.JSONDecodeError as exc:
            raise InvalidSecretError(f"The keystore is not valid JSON (line {exc.lineno}, "
                                     f"column {exc.colno}: {exc.msg}).") from exc
    if not isinstance(source, dict):
        raise InvalidSecretError("The keystore is not a JSON object.")
    if source.get("version") != 3:
        raise InvalidSecretError(f"Only keystore version 3 is supported; this file says "
                                 f"version {source.get('version')!r}.")
    crypto = source.get("crypto", source.get("Crypto"))
    if not isinstance(crypto, dict):
        raise InvalidSecretError("The keystore has no 'crypto' section.")
    missing = [k for k in ("cipher", "ciphertext", "cipherparams", "kdf", "kdfparams", "mac")
               if k not in crypto]
    if missing:
        raise InvalidSecretError(f"The keystore's crypto section lacks {', '.join(missing)}.")
    if crypto["kdf"] not in ("scrypt", "pbkdf2"):
        raise InvalidSecretError(f"Unsupported keystore KDF {crypto['kdf']!r} "
                                 "(scrypt and pbkdf2 are supported).")
    return source


def decrypt_keystore(keystore: dict[str, Any], password: str) -> bytes:
    """The private key inside ``keystore``; a wrong password raises WrongPasswordError."""
    from eth_account import Account

    try:
        key = bytes(Account.decrypt(keystore, password))
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise WrongPasswordError("Wrong keystore password: the keystore's integrity check "
                                     "(MAC) failed with it.") from exc
        raise InvalidSecretError(f"The keystore cannot be decrypted: {exc}") from exc
    except (KeyError, TypeError, NotImplementedError) as exc:
        raise InvalidSecretError(f"The keystore is malformed ({type(exc).__name__}: {exc}).") \
            from exc
    stated = keystore.get("address")
    if isinstance(stated, str) and stated:
        actual = Account.from_key(key).address
        if stated.lower().removeprefix("0x") != actual[2:].lower():
            raise InvalidSecretError("The keystore's 'address' field does not match the key "
                                     "inside it; the file may have been tampered with.")
    return key
