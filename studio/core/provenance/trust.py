"""Trust anchors and the c2pa ``Context`` that carries them.

By default the official C2PA Trust List (claim-signing CAs) and C2PA TSA Trust List (time-stamp
authorities) shipped in ``resources/trust`` (CC BY 4.0, C2PA conformance-public) are anchors; a
copy the user refreshed from a file (``studio identity trust-lists``) replaces the shipped one.
Users add their own roots (``trust_anchors``) and single signers ("Trust this signer…":
``trusted_signers``, end-entity certificates c2pa accepts through its ``allowed_list``). The
report says Trusted only for a signer that chains to an anchor or is allowed; any other valid
manifest reads as "Valid (signer not on your trust list)".
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PEM_BEGIN = "-----BEGIN CERTIFICATE-----"
CLAIM_LIST, TSA_LIST = "C2PA-TRUST-LIST.pem", "C2PA-TSA-TRUST-LIST.pem"


@dataclass(frozen=True)
class TrustMaterial:
    """PEM text for c2pa: ``anchors`` (roots, TSA roots) and ``allowed`` (single signers)."""

    anchors: str | None = None
    allowed: str | None = None


class TrustError(Exception):
    """A trust anchor cannot be used; the message is meant for the user."""


def check_pem(text: str, where: str = "the file") -> str:
    """Return ``text`` if it holds at least one parseable certificate, else raise TrustError."""
    from cryptography import x509

    if PEM_BEGIN not in text:
        raise TrustError(f"{where} holds no PEM certificate (expected {PEM_BEGIN!r}).")
    try:
        x509.load_pem_x509_certificates(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise TrustError(f"{where} holds a certificate that cannot be parsed: {exc}") from exc
    return text


def load_anchor_files(paths: Iterable[str | Path]) -> str | None:
    """Concatenate the PEM files in ``paths``; unreadable ones are skipped with a warning."""
    parts: list[str] = []
    for p in paths:
        try:
            parts.append(check_pem(Path(p).read_text(encoding="ascii"), str(p)).strip())
        except (OSError, UnicodeDecodeError, TrustError) as exc:
            log.warning("trust anchor %s ignored: %s", p, exc)
    return "\n".join(parts) + "\n" if parts else None


def allowed_host(url: str) -> str:
    """``host[:port]`` of ``url``, the form c2pa's ``core.allowed_network_hosts`` matches."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1]


def official_list(name: str, paths: Any = None) -> Path:
    """The user's refreshed copy of an official list if there is one, else the shipped one."""
    from studio.resources import resource

    if paths is not None:
        mine = trust_dir(paths) / "lists" / name
        if mine.is_file():
            return mine
    return resource("trust", name)


def trust_dir(paths: Any) -> Path:
    return paths.data_dir / "provenance" / "trust"


def anchors_for(prov_settings: Any, paths: Any = None) -> TrustMaterial:
    """Everything the user trusts, as c2pa wants it: official lists (unless switched off),
    their own anchors, and the signers they trusted one by one."""
    files = [str(p) for p in getattr(prov_settings, "trust_anchors", [])]
    if getattr(prov_settings, "official_trust_lists", True):
        files += [str(official_list(CLAIM_LIST, paths)), str(official_list(TSA_LIST, paths))]
    return TrustMaterial(load_anchor_files(files),
                         load_anchor_files(getattr(prov_settings, "trusted_signers", [])))


def refresh_list(paths: Any, src: Path, *, tsa: bool = False) -> tuple[Path, int]:
    """Replace the C2PA (or TSA) trust list with ``src``, a PEM file the user got themselves
    (no network is used). Returns where it was stored and how many certificates it holds."""
    from cryptography import x509

    try:
        text = Path(src).read_text(encoding="ascii")
    except UnicodeDecodeError as exc:
        raise TrustError(f"{src} is not a PEM text file.") from exc
    check_pem(text, str(src))
    count = len(x509.load_pem_x509_certificates(text.encode("ascii")))
    dest = trust_dir(paths) / "lists" / (TSA_LIST if tsa else CLAIM_LIST)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    tmp.write_text(text, encoding="ascii")
    tmp.replace(dest)
    return dest, count


def trust_signer(paths: Any, prov_settings: Any, cert_der: bytes) -> Path:
    """Trust one signer's certificate ("Trust this signer…"): files it signs read Trusted
    while the certificate is valid; no other certificate from its issuer is trusted. The
    caller saves the settings."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    cert = x509.load_der_x509_certificate(cert_der)
    text = cert.public_bytes(Encoding.PEM).decode("ascii")
    dest = trust_dir(paths) / "signers" / f"{hashlib.sha256(cert_der).hexdigest()[:16]}.pem"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text, encoding="ascii")
    signers = prov_settings.trusted_signers
    if str(dest) not in signers:
        signers.append(str(dest))
    return dest


TRUST_SIGNER_MEANING = (
    "Trusting this signer means files signed with this exact certificate will read "
    "\"Trusted\" on this computer, as if a certificate authority you rely on had vouched for "
    "them. Only do this if you know who holds the key (for example, you checked its "
    "fingerprint with them). It trusts no other certificate from the same issuer, and you can "
    "remove it again in Settings.")


def signer_of_file(path: Path) -> tuple[bytes, str]:
    """The DER certificate that signed ``path``'s active manifest and a one-line description
    of it, for "Trust this signer…". Only intact credentials qualify."""
    from cryptography import x509

    from studio.core.provenance.cose import CoseError, signing_chain
    from studio.core.provenance.formats import sniff_mime
    from studio.core.provenance.reader import read_report_bytes

    data = Path(path).read_bytes()
    report = read_report_bytes(data, name=str(path))
    if not (report.is_valid or report.state.value == "expired") or not report.manifest_label:
        raise TrustError(f"{path} has no intact content credentials, so its signer cannot be "
                         "trusted from it.")
    try:
        der = signing_chain(data, sniff_mime(data[:64]) or "", report.manifest_label)[0]
    except CoseError as exc:
        raise TrustError(f"The signing certificate could not be read from {path}: {exc}") \
            from exc
    cert = x509.load_der_x509_certificate(der)
    fingerprint = hashlib.sha256(der).hexdigest()
    return der, (f"{cert.subject.rfc4514_string()} (issued by {cert.issuer.rfc4514_string()},"
                 f" SHA-256 {fingerprint[:16]}…)")


def make_context(trust: str | TrustMaterial | None, *, remote_url: str | None = None):
    """A c2pa Context that checks signers against ``trust`` (PEM anchors, or TrustMaterial).

    Remote manifests are not fetched; with ``remote_url`` (the user asked to fetch it) the
    reader may reach that URL's host and no other. OCSP stays off: no network by default.
    """
    import c2pa

    config: dict = {"verify": {"verify_trust": True, "remote_manifest_fetch": False,
                               "ocsp_fetch": False},
                    "core": {"allowed_network_hosts": []}}
    if remote_url:
        config["verify"]["remote_manifest_fetch"] = True
        config["core"]["allowed_network_hosts"] = [allowed_host(remote_url)]
    material = trust if isinstance(trust, TrustMaterial) else TrustMaterial(trust)
    if material.anchors or material.allowed:
        config["trust"] = {}
        if material.anchors:
            config["trust"]["user_anchors"] = material.anchors
        if material.allowed:
            config["trust"]["allowed_list"] = material.allowed
    return c2pa.Context(c2pa.Settings.from_dict(config))


def add_trust_anchor(paths, prov_settings, pem_file: Path) -> Path:
    """Copy ``pem_file`` into the data dir and list it in ``prov_settings.trust_anchors``.

    The copy keeps trust stable if the original moves; the caller saves the settings.
    """
    try:
        text = Path(pem_file).read_text(encoding="ascii")
    except UnicodeDecodeError as exc:
        raise TrustError(f"{pem_file} is not a PEM text file.") from exc
    check_pem(text, str(pem_file))
    dest_dir = paths.data_dir / "provenance" / "trust"
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / f"{hashlib.sha256(text.encode()).hexdigest()[:16]}.pem"
    dest.write_text(text, encoding="ascii")
    if str(dest) not in prov_settings.trust_anchors:
        prov_settings.trust_anchors.append(str(dest))
    return dest
