"""Wallet attestation: the creator's wallet vouches for the signing certificate.

C2PA cannot sign with secp256k1, so the wallet signs (EIP-712) a statement binding the signing
certificate's public key (SHA-256 of its SubjectPublicKeyInfo), its issuer and serial number to
the wallet address, with a date. Every manifest carries the statement and the signature as the
custom assertion ``org.provenance-studio.wallet-binding``. A verifier recovers the address from
the signature and recomputes key hash, issuer and serial from the certificate that actually
signed the manifest (``cose.signing_chain``), never from anything the binding itself carries:
a serial number alone is chosen by whichever CA issues a certificate, so another CA can reuse
it. Version-1 bindings (no issuer, and checked by serial only) are "unverifiable".
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Protocol

BINDING_LABEL = "org.provenance-studio.wallet-binding"
STATEMENT = ("I, the holder of this wallet, attest that the certificate with this public key "
             "signs content credentials on my behalf.")
_TYPES = {
    "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"}],
    "WalletBinding": [
        {"name": "statement", "type": "string"},
        {"name": "wallet", "type": "address"},
        {"name": "spkiSha256", "type": "bytes32"},
        {"name": "certIssuer", "type": "string"},
        {"name": "certSerial", "type": "string"},
        {"name": "issuedAt", "type": "uint256"},
    ],
}
BINDING_VERSION = "2"
_DOMAIN = {"name": "Provenance Studio wallet binding", "version": BINDING_VERSION}

MATCHES, MISMATCH, UNVERIFIABLE = "matches", "mismatch", "unverifiable"


class SigningAccount(Protocol):
    """What attestation needs from a wallet: eth_account's LocalAccount fits."""

    address: str

    def sign_typed_data(self, domain_data: Any = None, message_types: Any = None,
                        message_data: Any = None, full_message: Any = None) -> Any: ...


class AttestationError(Exception):
    """The wallet could not attest; the message is meant for the user."""


def spki_sha256(cert_pem: str) -> str:
    """Hex SHA-256 of the first certificate's SubjectPublicKeyInfo (DER)."""
    from cryptography import x509

    return _cert_spki_sha256(x509.load_pem_x509_certificates(cert_pem.encode("ascii"))[0])


def _cert_spki_sha256(cert) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def typed_data(wallet: str, spki_hex: str, cert_issuer: str, cert_serial: int,
               issued_at: int) -> dict[str, Any]:
    return {
        "types": _TYPES,
        "primaryType": "WalletBinding",
        "domain": dict(_DOMAIN),
        "message": {
            "statement": STATEMENT,
            "wallet": wallet,
            "spkiSha256": "0x" + spki_hex,
            "certIssuer": cert_issuer,  # RFC 4514 form of the issuer's distinguished name
            # Decimal, as C2PA readers print the signing certificate's serial number.
            "certSerial": str(cert_serial),
            "issuedAt": issued_at,
        },
    }


def make_binding(account: SigningAccount, cert_pem: str,
                 issued_at: int | None = None) -> dict[str, Any]:
    """Have ``account`` sign the binding for the end-entity certificate in ``cert_pem``."""
    from cryptography import x509

    cert = x509.load_pem_x509_certificates(cert_pem.encode("ascii"))[0]
    data = typed_data(account.address, _cert_spki_sha256(cert), cert.issuer.rfc4514_string(),
                      cert.serial_number, int(time.time()) if issued_at is None else issued_at)
    try:
        signed = account.sign_typed_data(full_message=data)
    except Exception as exc:
        raise AttestationError(f"The wallet could not sign the attestation: {exc}") from exc
    # No copy of the certificate: the manifest's own signature carries it, and a copy is
    # exactly what a forger would swap.
    return {
        "scheme": "eip712",
        "typed_data": data,
        "signature": "0x" + bytes(signed.signature).hex(),
    }

def verify_binding(binding: dict[str, Any], signer_cert_der: bytes | None) -> dict[str, Any]:
    """Check a binding assertion against the certificate that signed the manifest.

    ``signer_cert_der`` is that certificate as read from the manifest's own COSE signature
    (None when it could not be read). Returns {"status": matches | mismatch | unverifiable,
    "matches", "address", "recovered", "reason", "spki_sha256", "issued_at"}; never raises for
    bad input: a malformed binding simply does not match.
    """
    out: dict[str, Any] = {"status": MISMATCH, "address": None, "recovered": None,
                           "matches": False, "reason": "", "spki_sha256": None,
                           "issued_at": None}
    try:
        data = binding["typed_data"]
        msg = data["message"]
        out["address"] = msg["wallet"]
        out["spki_sha256"] = str(msg["spkiSha256"]).removeprefix("0x")
        out["issued_at"] = time.strftime("%Y-%m-%d %H:%M UTC",
                                         time.gmtime(int(msg["issuedAt"])))
        recovered = _recover(data, binding["signature"])
    except Exception as exc:  # malformed data: report it, never crash a read
        out["reason"] = f"The wallet binding is malformed ({type(exc).__name__}: {exc})."
        return out
    out["recovered"] = recovered
    if recovered.lower() != str(msg["wallet"]).lower():
        out["reason"] = (f"The binding names wallet {msg['wallet']} but was signed by "
                         f"{recovered}.")
        return out
    if str((data.get("domain") or {}).get("version")) != BINDING_VERSION \
            or "certIssuer" not in msg:
        out["status"] = UNVERIFIABLE
        out["reason"] = ("This binding was made by an older Provenance Studio and does not "
                         "cover the signing certificate's issuer, so it cannot be checked. "
                         "Attest the file again to bind it.")
        return out
    if signer_cert_der is None:
        out["status"] = UNVERIFIABLE
        out["reason"] = ("The certificate that signed this file could not be read, so the "
                         "binding cannot be checked.")
        return out
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(signer_cert_der)
    except ValueError as exc:
        out["status"] = UNVERIFIABLE
        out["reason"] = f"The signing certificate could not be parsed ({exc})."
        return out
    if _cert_spki_sha256(cert) != out["spki_sha256"]:
        out["reason"] = "The wallet vouched for a different signing key."
    elif (cert.issuer.rfc4514_string() != str(msg["certIssuer"])
          or str(cert.serial_number) != str(msg["certSerial"])):
        out["reason"] = "The wallet vouched for a different signing certificate."
    else:
        out["status"], out["matches"] = MATCHES, True
        out["reason"] = "The wallet's signature covers the key that signed this file."
    return out


def _recover(data: dict[str, Any], signature: str) -> str:
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    return Account.recover_message(encode_typed_data(full_message=data), signature=signature)
