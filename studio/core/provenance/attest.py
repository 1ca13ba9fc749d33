""""Attest…": a signed copy of an imported file whose manifest names the original as its
``parentOf`` ingredient. The original keeps its bytes; the copy becomes a new library asset."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from studio.core.library.models import Asset, AssetOrigin
from studio.core.paths import StudioPaths
from studio.core.provenance.attestation import AttestationError, SigningAccount, make_binding
from studio.core.provenance.formats import SUFFIX_FOR, sniff_mime
from studio.core.provenance.identity import IdentityManager
from studio.core.provenance.signing import Parent, attest_manifest, sign_bytes, tsa_url
from studio.core.provenance.soft_binding import marker_for

log = logging.getLogger(__name__)


def active_account(paths: StudioPaths, settings: Any) -> SigningAccount | None:
    """The active wallet's signing account, or None when there is no wallet (yet).

    Raises AttestationError (a sentence for the user) when the wallet exists but its key
    cannot be had: missing from the keyring, keyring locked or unavailable.
    """
    address = getattr(getattr(settings, "wallet", None), "active_account", "")
    if not address:
        return None
    try:
        from studio.core.wallet.service import WalletService
    except ImportError:
        log.info("wallet service not available; attesting without a wallet binding")
        return None
    from studio.core.wallet.errors import WalletError

    try:
        try:
            service = WalletService(paths, settings)
        except TypeError:
            service = WalletService(paths)
        return service.local_account(address)
    except WalletError as exc:
        raise AttestationError(
            f"The active wallet {address} cannot vouch for this file: {exc} Nothing was "
            "signed. Import the account again, or pick another active wallet "
            "(`studio wallet use`).") from exc


def attest_bytes(data: bytes, title: str, paths: StudioPaths, settings: Any,
                 account: SigningAccount | None) -> bytes:
    prov = getattr(settings, "provenance", settings)
    identity = IdentityManager(paths).ensure(prov.creator_name,
                                             account.address if account else None)
    binding = make_binding(account, identity.cert_pem) if account is not None else None
    manifest = attest_manifest(f"Attested copy of {title}", binding, prov.training_mining)
    return sign_bytes(data, manifest, identity, Parent(data, title), tsa_url=tsa_url(prov),
                      marker=marker_for(paths, settings))


def attest_file(src: Path, dest: Path, paths: StudioPaths, settings: Any,
                account: SigningAccount | None) -> Path:
    """Write the attested copy of ``src`` to ``dest`` (never over ``src``)."""
    if dest.resolve() == src.resolve():
        raise ValueError("The attested copy must not replace the original file.")
    signed = attest_bytes(src.read_bytes(), src.name, paths, settings, account)
    tmp = dest.with_name(dest.name + ".partial")
    tmp.write_bytes(signed)
    tmp.replace(dest)
    return dest


def attest_asset(paths: StudioPaths, settings: Any, library, asset: Asset,
                 account: SigningAccount | None = None) -> Asset:
    """Attest a library asset; the copy is added with origin ATTESTED and returned."""
    from studio.core.provenance.reader import read_report_bytes

    if account is None:
        account = active_account(paths, settings)
    src = library.path_of(asset)
    data = src.read_bytes()
    title = asset.original_name or asset.title or src.name
    signed = attest_bytes(data, title, paths, settings, account)
    report = read_report_bytes(signed)
    mime = sniff_mime(signed[:64]) or asset.media_type
    new, _ = library.add_bytes(
        signed, suffix=SUFFIX_FOR.get(mime, src.suffix), origin=AssetOrigin.ATTESTED,
        media_type=mime, title=asset.title, original_name=f"attested-{title}",
        width=asset.width, height=asset.height, manifest_label=report.manifest_label)
    return new
