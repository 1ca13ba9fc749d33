"""Trust anchors and the c2pa ``Context`` that carries them.

Users add PEM files (the studio root, or any root); the report says Trusted only for a signer
that chains to one of them; any other valid manifest reads as "Valid (signer not on your
trust list)".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

PEM_BEGIN = "-----BEGIN CERTIFICATE-----"


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


def make_context(trust_anchors_pem: str | None):
    """A c2pa Context that checks signers against ``trust_anchors_pem`` (may be None)."""
    import c2pa

    config: dict = {"verify": {"verify_trust": True}}
    if trust_anchors_pem:
        config["trust"] = {"user_anchors": trust_anchors_pem}
    return c2pa.Context(c2pa.Settings.from_dict(config))


def add_trust_anchor(paths, prov_settings, pem_file: Path) -> Path:
    """Copy ``pem_file`` into the data dir and list it in ``prov_settings.trust_anchors``.

    The copy keeps trust stable if the original moves; the caller saves the settings.
    """
    import hashlib

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
