"""Bring your own certificate: sign with a claim-signing certificate issued by a CA.

A creator with a certificate from a CA on the C2PA Trust List gets "Trusted" in every
validator, which a self-issued studio identity never can. The chain (public) is kept in the
data dir as ``byo-chain.pem``; the private key goes to the OS keyring only, never to disk. While
the file exists it is the signing identity; ``remove`` returns to the studio's own.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from studio.core.provenance.identity import (
    IdentityError,
    IdentityManager,
    SigningIdentity,
    _key_name,
    _refused,
    _secrets,
    _write,
)

_ALG = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}


def chain_file(mgr: IdentityManager) -> Path:
    return mgr.dir / "byo-chain.pem"


def signing_alg(key) -> str:
    """The C2PA signing algorithm for ``key`` (a private key)."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _ALG:
        return _ALG[key.curve.name]
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size >= 2048:
        return "ps256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise IdentityError("The key type is not allowed for C2PA signing (use ECDSA P-256/384/"
                        "521, RSA of 2048 bits or more, or Ed25519).")


def _load_input(cert_file: Path, key_file: Path | None, password: bytes | None):
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12

    raw = Path(cert_file).read_bytes()
    if key_file is None:  # PKCS#12: key and chain in one password-protected file
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(raw, password)
        except ValueError as exc:
            raise IdentityError(f"{cert_file} is not a PKCS#12 file this password opens "
                                f"({exc}).") from exc
        if key is None or cert is None:
            raise IdentityError(f"{cert_file} holds no private key and certificate.")
        return key, [cert, *extra]
    try:
        chain = x509.load_pem_x509_certificates(raw)
    except ValueError as exc:
        raise IdentityError(f"{cert_file} holds no PEM certificate chain ({exc}).") from exc
    try:
        key = load_pem_private_key(Path(key_file).read_bytes(), password)
    except (ValueError, TypeError) as exc:
        raise IdentityError(f"{key_file} is not a PEM private key this password opens "
                            f"({exc}).") from exc
    return key, chain


def _check(key, chain) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    leaf = chain[0]
    spki = PublicFormat.SubjectPublicKeyInfo
    if leaf.public_key().public_bytes(Encoding.DER, spki) != \
            key.public_key().public_bytes(Encoding.DER, spki):
        raise IdentityError("The private key does not belong to the first certificate.")
    now = dt.datetime.now(dt.UTC)
    if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
        raise IdentityError(f"The certificate is not valid now (valid "
                            f"{leaf.not_valid_before_utc:%Y-%m-%d} to "
                            f"{leaf.not_valid_after_utc:%Y-%m-%d}).")
    try:
        if leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            raise IdentityError("That is a CA certificate; import the signing (leaf) "
                                "certificate issued to you.")
    except x509.ExtensionNotFound:
        pass
    return signing_alg(key)


def import_certificate(mgr: IdentityManager, cert_file: Path, key_file: Path | None = None,
                       password: bytes | None = None) -> SigningIdentity:
    """Import a PKCS#12 file (``key_file`` None) or a PEM chain + PEM key. The key goes to
    the keyring first, then the chain is written: never a chain without its key."""
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    key, chain = _load_input(cert_file, key_file, password)
    _check(key, chain)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode("ascii")
    from studio.core.secrets import SecretStoreError

    try:
        _secrets().set(_key_name("byo", key.public_key()), pem)
    except SecretStoreError as exc:
        raise _refused(exc) from exc
    _write(chain_file(mgr), "".join(c.public_bytes(Encoding.PEM).decode("ascii")
                                    for c in chain))
    return load(mgr)


def load(mgr: IdentityManager) -> SigningIdentity:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key

    chain = x509.load_pem_x509_certificates(chain_file(mgr).read_bytes())
    from studio.core.secrets import SecretStoreError

    name = _key_name("byo", chain[0].public_key())
    try:
        pem = _secrets().get(name)
    except SecretStoreError as exc:
        raise _refused(exc) from exc
    if pem is None:
        raise IdentityError(
            f"The key of your imported certificate is not in the keyring (entry {name!r}). "
            "Import the certificate again, or `studio identity use-studio` to sign with the "
            "studio's own identity.")
    key = load_pem_private_key(pem.encode("ascii"), None)
    leaf = chain[0]
    if leaf.not_valid_after_utc < dt.datetime.now(dt.UTC):
        raise IdentityError(f"Your imported certificate expired on "
                            f"{leaf.not_valid_after_utc:%Y-%m-%d}; import its renewal, or "
                            "`studio identity use-studio`.")
    rest = "".join(c.public_bytes(Encoding.PEM).decode("ascii") for c in chain[1:])
    return SigningIdentity(leaf.public_bytes(Encoding.PEM).decode("ascii"), rest, pem,
                           alg=signing_alg(key), own=False)


def remove(mgr: IdentityManager) -> bool:
    """Go back to the studio identity; the imported key leaves the keyring."""
    from cryptography import x509

    path = chain_file(mgr)
    if not path.is_file():
        return False
    try:
        cert = x509.load_pem_x509_certificates(path.read_bytes())[0]
        _secrets().delete(_key_name("byo", cert.public_key()))
    except Exception:  # already gone: nothing to clean
        pass
    path.unlink()
    return True


def describe_any(identity: SigningIdentity) -> dict[str, Any]:
    info = identity.describe()
    info["kind"] = "studio (self-issued)" if identity.own else "imported (your CA)"
    return info
