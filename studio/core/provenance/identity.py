"""The signing identity: a per-install studio root CA (P-256) and the creator's certificate.

The certificates are public and live in ``<data>/provenance/``; both private keys live only in
the OS keyring (service ``provenance-studio``), PEM-encoded, under a name derived from the
key's public half so several installs sharing one keyring never collide. Without a working
keyring, nothing is created and signing fails with a clear error: there is no plaintext
fallback.

The creator certificate follows the C2PA claim-signing leaf profile (conformance program,
``claimSigningLeaf.al1``) as far as a self-issued certificate can: v3, P-256, not a CA
(critical), key usage digitalSignature + nonRepudiation (critical), EKU c2pa-kp-claimSigning
plus emailProtection and documentSigning, AKI and SKI, C/O/CN attributes, validity of at most
366 days and within the issuer's. It is renewed automatically ``RENEW_BEFORE`` its expiry (the
wallet then binds the new key). What only a CA on the C2PA Trust List can give (certificate
policy, OCSP responder, assurance level, CPL record) is left out: "bring your own certificate"
(``byo.py``) is for that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from studio.core.paths import StudioPaths

log = logging.getLogger(__name__)

KEYRING_SERVICE = "provenance-studio"  # the default; see studio.core.secrets
ORG = "Provenance Studio"
DEFAULT_CREATOR = "Provenance Studio creator"
DOCUMENT_SIGNING_OID = "1.3.6.1.5.5.7.3.36"
C2PA_CLAIM_SIGNING_OID = "1.3.6.1.4.1.62558.2.1"  # c2pa-kp-claimSigning
# ISO 3166 "XX": user-assigned, i.e. no country claimed (the profile requires a C attribute).
COUNTRY = "XX"
ROOT_YEARS = 10
LEAF_DAYS = 365  # the profile allows at most 366
RENEW_BEFORE = dt.timedelta(days=30)


class IdentityError(Exception):
    """The signing identity cannot be used; the message is meant for the user."""


@dataclass(frozen=True)
class SigningIdentity:
    cert_pem: str  # the creator's end-entity certificate
    root_pem: str  # the rest of the chain (the studio root, or an imported CA chain)
    key_pem: str  # PKCS#8; held in memory only while signing
    alg: str = "es256"  # C2PA signing algorithm for the key
    own: bool = True  # the studio's self-issued identity (False: an imported certificate)

    @property
    def chain_pem(self) -> str:
        """End-entity first, then the rest of the chain, as C2PA signers expect."""
        rest = self.root_pem.strip()
        return self.cert_pem.strip() + "\n" + (rest + "\n" if rest else "")

    def not_after(self) -> dt.datetime:
        from cryptography import x509

        return x509.load_pem_x509_certificate(self.cert_pem.encode("ascii")).not_valid_after_utc

    def needs_renewal(self, now: dt.datetime | None = None) -> bool:
        # Only the self-issued certificate renews itself; an imported one is the CA's.
        return self.own and self.not_after() - (now or dt.datetime.now(dt.UTC)) < RENEW_BEFORE

    def describe(self) -> dict[str, str]:
        from cryptography import x509

        cert = x509.load_pem_x509_certificate(self.cert_pem.encode("ascii"))
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            dids = san.get_values_for_type(x509.UniformResourceIdentifier)
        except x509.ExtensionNotFound:
            dids = []
        return {
            "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string(),
            "serial": str(cert.serial_number),
            "not_after": cert.not_valid_after_utc.isoformat(),
            "did": ", ".join(dids) or "(no wallet)",
        }


def identity_dir(paths: StudioPaths) -> Path:
    return paths.data_dir / "provenance"


def _secrets():
    from studio.core.secrets import SecretStore

    return SecretStore()


def _refused(exc: Exception) -> IdentityError:
    from studio.core.secrets import SecretsUnavailableError

    if isinstance(exc, SecretsUnavailableError):
        return IdentityError(
            f"No OS keyring is available ({exc.detail}): Secret Service, macOS Keychain or "
            "Windows Credential Locker. The signing key is kept only there, so nothing was "
            "signed. Start your desktop's keyring and try again.")
    return IdentityError(f"The keyring refused the signing key: {exc}")


def _key_name(kind: str, public_key) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    spki = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return f"signing-{kind}:{hashlib.sha256(spki).hexdigest()[:32]}"


def _store_key(kind: str, key) -> None:
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode("ascii")
    from studio.core.secrets import SecretStoreError

    try:
        _secrets().set(_key_name(kind, key.public_key()), pem)
    except SecretStoreError as exc:
        raise _refused(exc) from exc


def _load_key(kind: str, cert):
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from studio.core.secrets import SecretStoreError

    name = _key_name(kind, cert.public_key())
    store = _secrets()
    try:
        pem = store.get(name)
    except SecretStoreError as exc:
        raise _refused(exc) from exc
    if pem is None:
        raise IdentityError(
            f"The private key for the {kind} certificate is not in the keyring (entry {name!r}"
            f" of service {store.service!r}). Run `studio identity new` to make a new signing "
            "identity (others will need to trust its new root).")
    return load_pem_private_key(pem.encode("ascii"), password=None)


def _delete_key(kind: str, cert) -> None:
    from studio.core.secrets import SecretStoreError

    try:
        _secrets().delete(_key_name(kind, cert.public_key()))
    except SecretStoreError as exc:  # already gone: nothing to clean
        log.info("old %s key not deleted: %s", kind, exc)


def _name(cn: str, country: bool = False):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, COUNTRY)] if country else []
    return x509.Name([*attrs, x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORG),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn[:64])])


def _make_root(creator: str):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = _name(f"{ORG} Root CA ({creator})"[:64])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=365 * ROOT_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _make_leaf(root_key, root_cert, creator: str, address: str | None):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    not_after = min(now + dt.timedelta(days=LEAF_DAYS), root_cert.not_valid_after_utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(creator, country=True)).issuer_name(root_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([
            ObjectIdentifier(C2PA_CLAIM_SIGNING_OID), ExtendedKeyUsageOID.EMAIL_PROTECTION,
            ObjectIdentifier(DOCUMENT_SIGNING_OID)]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            root_key.public_key()), critical=False)
    )
    if address:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.UniformResourceIdentifier(f"did:pkh:eip155:1:{address}")]), critical=False)
    return key, builder.sign(root_key, hashes.SHA256())


def _meets_profile(cert) -> bool:
    from cryptography import x509

    try:
        ekus = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    return days <= 366 and any(e.dotted_string == C2PA_CLAIM_SIGNING_OID for e in ekus)


def _pem(cert) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.PEM).decode("ascii")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="ascii")
    tmp.replace(path)


def _load_cert(path: Path):
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except ValueError as exc:
        raise IdentityError(f"The certificate {path} is damaged: {exc}") from exc


class IdentityManager:
    """Creates, loads, rotates and exports the signing identity of one install."""

    def __init__(self, paths: StudioPaths) -> None:
        self.dir = identity_dir(paths)
        self.root_file = self.dir / "studio-root-ca.pem"
        self.cert_file = self.dir / "signing-cert.pem"

    def byo_active(self) -> bool:
        return (self.dir / "byo-chain.pem").is_file()

    def exists(self) -> bool:
        return self.root_file.is_file() and self.cert_file.is_file()

    def root_pem(self) -> str:
        if not self.root_file.is_file():
            raise IdentityError("No signing identity exists yet: sign something, or run "
                                "`studio identity create`, to make one.")
        return self.root_file.read_text(encoding="ascii")

    def ensure(self, creator: str, address: str | None) -> SigningIdentity:
        """The current identity, creating the root and/or a certificate as needed. A
        certificate naming another wallet, creator, or close to expiry is reissued."""
        from cryptography import x509

        if self.byo_active():
            from studio.core.provenance import byo

            return byo.load(self)
        creator = creator.strip() or DEFAULT_CREATOR
        if not self.root_file.is_file():
            root_key, root_cert = _make_root(creator)
            _store_key("root", root_key)  # keyring first: no orphan certificate without key
            _write(self.root_file, _pem(root_cert))
            self.cert_file.unlink(missing_ok=True)
        if self.cert_file.is_file():
            cert = _load_cert(self.cert_file)
            try:
                san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
                uris = san.value.get_values_for_type(x509.UniformResourceIdentifier)
            except x509.ExtensionNotFound:
                uris = []
            want = [f"did:pkh:eip155:1:{address}"] if address else []
            cn = cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
            # Renewed well before expiry, and any older certificate that does not meet the
            # current profile (2-year validity, no claim-signing EKU) is replaced.
            fresh = (cert.not_valid_after_utc - dt.datetime.now(dt.UTC) >= RENEW_BEFORE
                     and _meets_profile(cert))
            if uris == want and cn and cn[0].value == creator[:64] and fresh:
                return self._load(cert)
        return self.rotate(creator, address)

    def rotate(self, creator: str, address: str | None) -> SigningIdentity:
        """Issue a new creator certificate and key (the root stays); the old key is deleted."""
        creator = creator.strip() or DEFAULT_CREATOR
        root_cert = _load_cert(self.root_file)
        root_key = _load_key("root", root_cert)
        old = _load_cert(self.cert_file) if self.cert_file.is_file() else None
        key, cert = _make_leaf(root_key, root_cert, creator, address)
        _store_key("leaf", key)
        _write(self.cert_file, _pem(cert))
        if old is not None:
            _delete_key("leaf", old)
        log.info("provenance: issued signing certificate serial %s", cert.serial_number)
        return self._load(cert)

    def recreate(self, creator: str, address: str | None) -> SigningIdentity:
        """Start over with a new root and certificate (when the old keys are lost)."""
        for f in (self.cert_file, self.root_file):
            if f.is_file():
                f.replace(f.with_name(f.name + ".old"))
        return self.ensure(creator, address)

    def current(self) -> SigningIdentity:
        if self.byo_active():
            from studio.core.provenance import byo

            return byo.load(self)
        if not self.exists():
            raise IdentityError("No signing identity exists yet.")
        return self._load(_load_cert(self.cert_file))

    def export_root(self, dest: Path) -> Path:
        _write(dest, self.root_pem())
        return dest

    def _load(self, cert) -> SigningIdentity:
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
        )

        key = _load_key("leaf", cert)
        key_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                    NoEncryption()).decode("ascii")
        return SigningIdentity(_pem(cert), self.root_pem(), key_pem)
