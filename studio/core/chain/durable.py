"""Durable credentials on chain: the mint records the asset's watermark (its C2PA soft binding)
and a stripped copy's watermark finds the token again.

The source of truth for an asset's soft-binding id is the ``c2pa.soft-binding`` assertion in
its own signed manifest (the payload the watermark carries, base64 in the assertion): it is
what a decoder reads back from the pixels, so the same bytes go into the ``ContentMinted``
event (indexed, ``find_tokens_by_soft_binding``) and the token's metadata.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.core.chain.plan import MintError, MintPlan
from studio.core.library import Library
from studio.core.library.models import Asset

if TYPE_CHECKING:
    from studio.core.chain.lookup import TokenInfo
    from studio.core.chain.txmanager import TransactionManager
    from studio.core.provenance.recovery import Recovery

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SoftBinding:
    algorithm: str  # the assertion's "alg", e.g. org.provenance-studio.bwm-dwtdctsvd.v1
    value: bytes  # the watermark payload, as the contract's bytes32 records it (left-aligned)

    def to_json(self) -> dict[str, str]:
        return {"alg": self.algorithm, "value": base64.b64encode(self.value).decode("ascii"),
                "hex": self.value.hex()}


def studio_soft_binding(assertions: list[dict]) -> SoftBinding | None:
    """The first soft binding our decoder can read back (a studio algorithm), from the data of
    a manifest's soft-binding assertions; other schemes' marks cannot lead a copy here."""
    from studio.core.provenance import watermark as wm

    ours = set(wm.ALG_NAMES.values())
    for data in assertions:
        if data.get("alg") not in ours:
            continue
        for block in data.get("blocks") or []:
            try:
                value = base64.b64decode(str(block.get("value", "")), validate=True)
            except (binascii.Error, ValueError):
                continue
            if 0 < len(value) <= 32:
                return SoftBinding(str(data["alg"]), value)
    return None


def asset_soft_binding(library: Library, asset: Asset) -> SoftBinding | None:
    """The soft binding the asset's own manifest declares, or None (unsigned, imported from
    elsewhere, or signed with watermarking off)."""
    from studio.core.provenance.soft_binding import soft_bindings_of

    if not asset.media_type.startswith("image/"):
        return None
    try:
        data = library.path_of(asset).read_bytes()
    except OSError as exc:
        log.warning("cannot read asset %s for its soft binding: %s", asset.id, exc)
        return None
    return studio_soft_binding(soft_bindings_of(data))


def with_soft_binding(plan: MintPlan, own: SoftBinding | None) -> MintPlan:
    """``plan`` recording the asset's own soft binding. An explicit id (``--soft-binding``)
    is kept only when the asset declares none or the same one: recording another file's
    watermark would lead its stripped copies to this token."""
    if plan.soft_binding_id is None:
        return plan if own is None else dataclasses.replace(plan, soft_binding_id=own.value)
    if own is not None and plan.soft_binding_id.rstrip(b"\0") != own.value.rstrip(b"\0"):
        raise MintError(f"The soft-binding id {plan.soft_binding_id.hex()} is not this file's: "
                        f"its credentials declare {own.value.hex()} ({own.algorithm}). Leave "
                        "the id out to record the file's own.")
    return plan


# ---- recovery through the chain -----------------------------------------------------------

NOT_FETCHED = "its credentials were not fetched (that needs network)."


async def recover_on_chain(tm: TransactionManager, library: Library, rec: Recovery,
                           copy: bytes, *, fetch: bool = False, gateway: str = "",
                           trust_anchors: Any = None) -> TokenInfo | None:
    """The token whose mint recorded ``rec``'s watermark (an indexed event lookup), or None.
    When the local library had no original and ``fetch`` allows network, the token's metadata
    and the minted file are fetched and, once they check out, become ``rec``'s original."""
    from studio.core.chain.lookup import choose_token, find_tokens_by_soft_binding, token_for

    if rec.payload is None:
        return None
    refs = await find_tokens_by_soft_binding(tm, library, rec.payload)
    token = await choose_token(tm, refs)
    if token is None:
        if not rec.found:
            rec.reason = (f"neither this library nor a token on {tm.profile.name} "
                          "recorded it.")
        return None
    rec.minted = True
    if rec.found:
        return token  # the library's original comes first; the token is added
    if not fetch:
        rec.reason = NOT_FETCHED
        return token
    import asyncio

    # Earliest first; a token whose file does not check out (anyone may record any id) does
    # not hide a later one that does.
    for n, ref in enumerate(refs):
        candidate = token if n == 0 else await token_for(tm, ref)
        await asyncio.to_thread(adopt_minted_original, rec, copy, candidate, gateway=gateway,
                                trust_anchors=trust_anchors)
        if rec.found:
            return candidate
    return token


def adopt_minted_original(rec: Recovery, copy: bytes, token: TokenInfo, *, gateway: str = "",
                          trust_anchors: Any = None) -> None:
    """Fetch ``token``'s metadata and the file it names; adopt that file as ``rec``'s
    original when it is the file the token was minted for (its sha256) and its own signed
    credentials declare the watermark. Anyone can record any id in a mint, so both checks
    stand between a lead and "signed by". Failures are written to ``rec.reason``."""
    import hashlib
    import json

    from studio.core.provenance.soft_binding import soft_bindings_of
    from studio.core.publish.fetch import DEFAULT_GATEWAY, FetchError, fetch_uri

    gateway = gateway or DEFAULT_GATEWAY
    try:
        metadata = json.loads(fetch_uri(token.token_uri, gateway=gateway, max_bytes=1 << 20))
    except FetchError as exc:
        rec.reason = f"its metadata could not be fetched: {exc}"
        return
    except ValueError:
        rec.reason = f"its metadata at {token.token_uri} is not JSON."
        return
    if not isinstance(metadata, dict):
        rec.reason = f"its metadata at {token.token_uri} is not a JSON object."
        return
    rec.extra["token_metadata"] = metadata
    image = metadata.get("image")
    if not isinstance(image, str) or not image:
        rec.reason = "the token's metadata names no file."
        return
    try:
        original = fetch_uri(image, gateway=gateway)
    except FetchError as exc:
        rec.reason = f"the minted file could not be fetched: {exc}"
        return
    if token.content_hash and hashlib.sha256(original).hexdigest() != token.content_hash:
        rec.reason = (f"the file its metadata names ({image}) is not the file the token was "
                      "minted for (its sha256 differs).")
        return
    declared = studio_soft_binding(soft_bindings_of(original))
    if declared is None or declared.value.rstrip(b"\0") != rec.payload.rstrip(b"\0"):
        rec.reason = ("the minted file's credentials do not declare this watermark (the token "
                      "records an id that is not its file's).")
        return
    title = metadata.get("name") if isinstance(metadata.get("name"), str) else None
    rec.adopt(copy, original, where=image, title=title, source="chain",
              trust_anchors=trust_anchors)
