"""Read any file c2pa understands into a :class:`ProvenanceReport`.

Safe to call from any thread (each call builds its own c2pa Context and Reader); the GUI
calls it off the GUI thread, the importer calls it while importing.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

from studio.core.provenance.formats import sniff_mime
from studio.core.provenance.report import Ingredient, ProvenanceReport, ProvenanceState

log = logging.getLogger(__name__)

GENERATION_LABEL = "org.provenance-studio.generation"
BINDING_LABEL = "org.provenance-studio.wallet-binding"
TRAINING_MINING_LABEL = "cawg.training-mining"
ACTIONS_LABELS = ("c2pa.actions", "c2pa.actions.v2")
# Codes that do not make a manifest invalid; "untrusted" is what VALID (vs TRUSTED) means.
_NOT_FAILURES = {"signingCredential.untrusted", "signingCredential.ocsp.skipped",
                 "signingCredential.ocsp.unknown", "timeStamp.untrusted"}

# Validation codes (C2PA spec, section 15) in words a user understands.
PLAIN_WORDS = {
    "assertion.dataHash.mismatch": "The image data was changed after it was signed.",
    "assertion.boxesHash.mismatch": "The file's content was changed after it was signed.",
    "assertion.bmffHash.mismatch": "The media data was changed after it was signed.",
    "assertion.collectionHash.mismatch": "A file in the signed collection was changed.",
    "assertion.hashedURI.mismatch": "Part of the credentials was altered after signing.",
    "assertion.missing": "Part of the credentials is missing.",
    "assertion.multipleHardBindings": "The credentials bind to the content more than once.",
    "assertion.undeclared": "The credentials contain a part the signer never declared.",
    "assertion.cbor.invalid": "Part of the credentials is malformed.",
    "assertion.json.invalid": "Part of the credentials is malformed.",
    "assertion.action.ingredientMismatch": "An edit refers to a source that is not listed.",
    "claim.missing": "The credentials' claim is missing.",
    "claim.multiple": "The credentials hold more than one claim.",
    "claim.hardBindings.missing": "The credentials do not bind to the content.",
    "claim.cbor.invalid": "The credentials' claim is malformed.",
    "claimSignature.mismatch": "The signature does not match the credentials.",
    "claimSignature.missing": "The credentials are not signed.",
    "claimSignature.outsideValidity": "The file was signed outside the certificate's validity.",
    "signingCredential.invalid": "The signing certificate is not valid for content "
                                 "credentials.",
    "signingCredential.expired": "The signing certificate had expired when the file was signed.",
    "signingCredential.revoked": "The signing certificate has been revoked.",
    "signingCredential.untrusted": "The signer is not on your trust list.",
    "algorithm.unsupported": "The signature uses an algorithm that is not allowed.",
    "timeStamp.mismatch": "The signing time stamp does not match the signature.",
    "timeStamp.outsideValidity": "The time stamp falls outside its certificate's validity.",
    "ingredient.hashedURI.mismatch": "A source file's credentials were altered.",
    "ingredient.manifest.missing": "A source file's credentials are missing.",
    "ingredient.claimSignature.mismatch": "A source file's signature does not match.",
    "manifest.inaccessible": "The credentials are stored elsewhere and could not be fetched.",
    "manifest.multipleParents": "The credentials name more than one parent file.",
    "general.error": "The credentials could not be validated.",
}


def plain_words(status: dict[str, Any]) -> str:
    code = status.get("code", "")
    text = PLAIN_WORDS.get(code)
    if text is None:
        text = (status.get("explanation") or code or "unknown problem").rstrip(".") + "."
        text = text[:1].upper() + text[1:]
    return text


def read_report(path: Path, trust_anchors_pem: str | None = None) -> ProvenanceReport:
    """Verify ``path`` and describe its provenance. Never raises for a bad file: an unreadable
    one gives state UNREADABLE with ``error`` saying why."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ProvenanceReport(str(path), ProvenanceState.UNREADABLE,
                                error=f"cannot open the file: {exc.strerror or exc}")
    return read_report_bytes(data, trust_anchors_pem, name=str(path))


def read_report_bytes(data: bytes, trust_anchors_pem: str | None = None,
                      name: str = "") -> ProvenanceReport:
    import c2pa

    from studio.core.provenance.trust import make_context

    mime = sniff_mime(data[:512])
    if mime is None:
        return ProvenanceReport(name, ProvenanceState.UNREADABLE,
                                error="the file is not a media format the studio knows")
    try:
        ctx = make_context(trust_anchors_pem)
        reader = c2pa.Reader.try_create(mime, io.BytesIO(data), None, ctx)
    except c2pa.C2paError as exc:
        msg = str(exc)
        if "NotSupported" in type(exc).__name__ or "type is unsupported" in msg:
            # A format c2pa cannot carry credentials in: readable, just no manifest.
            return ProvenanceReport(name, ProvenanceState.NONE, format=mime)
        log.info("c2pa could not read %s: %s", name, msg)
        if "asset could not be parsed" in msg and b"c2pa" not in data:
            # Broken media (truncated, corrupt) with no C2PA data in it: there are no
            # credentials to judge, so the file is unreadable, not "invalid". Where C2PA boxes
            # are present, broken credentials stay INVALID below.
            return ProvenanceReport(name, ProvenanceState.UNREADABLE, format=mime,
                                    error=f"the {mime} file is truncated or corrupt ({msg})")
        return ProvenanceReport(name, ProvenanceState.INVALID, format=mime,
                                failures=[f"The credentials could not be read ({msg})."])
    if reader is None:
        return ProvenanceReport(name, ProvenanceState.NONE, format=mime)
    with reader:
        return _build(reader, name, mime)


def _build(reader, name: str, mime: str) -> ProvenanceReport:
    store = json.loads(reader.json())
    manifests: dict[str, Any] = store.get("manifests") or {}
    label = store.get("active_manifest")
    active = manifests.get(label) or {}
    results = reader.get_validation_results() or {}
    state_text = (reader.get_validation_state() or "").lower()

    # The SDK's verdict decides the state; an untrusted signer is what VALID means.
    failures = _failures(results, store)
    if state_text == "trusted":
        state = ProvenanceState.TRUSTED
    elif state_text == "valid":
        state = ProvenanceState.VALID
    else:
        state = ProvenanceState.INVALID
        failures = failures or ["The credentials did not validate."]

    sig = active.get("signature_info") or {}
    assertions = {a.get("label"): a.get("data") for a in active.get("assertions") or []}
    actions: list[dict[str, Any]] = []
    for key in ACTIONS_LABELS:
        actions.extend((assertions.get(key) or {}).get("actions") or [])
    report = ProvenanceReport(
        path=name,
        state=state,
        format=mime,
        manifest_label=label,
        title=active.get("title"),
        signer=sig.get("common_name") or sig.get("issuer"),
        issuer=sig.get("issuer"),
        # Without a time-stamp authority the signature has no time: use the claimed one.
        signed_at=sig.get("time") or next((a["when"] for a in actions if a.get("when")), None),
        claim_generator=_claim_generator(active),
        actions=actions,
        digital_source_type=_source_type(actions),
        ingredients=[_ingredient(i, manifests, 0) for i in active.get("ingredients") or []],
        generation=assertions.get(GENERATION_LABEL),
        training_mining=assertions.get(TRAINING_MINING_LABEL),
        failures=failures,
    )
    binding = assertions.get(BINDING_LABEL)
    if binding is not None:
        from studio.core.provenance.attestation import verify_binding

        report.attestation = verify_binding(binding, sig.get("cert_serial_number"))
    thumb = active.get("thumbnail") or {}
    if thumb.get("identifier"):
        buf = io.BytesIO()
        try:
            reader.resource_to_stream(thumb["identifier"], buf)
            report.thumbnail = buf.getvalue() or None
            report.thumbnail_format = thumb.get("format")
        except Exception as exc:  # a missing thumbnail is cosmetic, never fatal
            log.info("thumbnail of %s not readable: %s", name, exc)
    return report


def _failures(results: dict[str, Any], store: dict[str, Any]) -> list[str]:
    statuses: list[dict[str, Any]] = list((results.get("activeManifest") or {}).get("failure")
                                          or [])
    for delta in results.get("ingredientDeltas") or []:
        statuses.extend((delta.get("validationDeltas") or {}).get("failure") or [])
    if not results:  # older stores only have the flat list
        statuses = list(store.get("validation_status") or [])
    out: list[str] = []
    for s in statuses:
        code = s.get("code") or ""
        if code in _NOT_FAILURES or code.endswith(".untrusted"):
            continue
        text = plain_words(s)
        if text not in out:
            out.append(text)
    return out


def _claim_generator(manifest: dict[str, Any]) -> str | None:
    info = manifest.get("claim_generator_info") or []
    if info and isinstance(info[0], dict) and info[0].get("name"):
        first = info[0]
        return f"{first['name']} {first.get('version', '')}".strip()
    return manifest.get("claim_generator")


def _source_type(actions: list[dict[str, Any]]) -> str | None:
    for wanted in ("c2pa.created", "c2pa.opened", None):
        for a in actions:
            if (wanted is None or a.get("action") == wanted) and a.get("digitalSourceType"):
                return a["digitalSourceType"]
    return None


def _ingredient(data: dict[str, Any], manifests: dict[str, Any], depth: int) -> Ingredient:
    label = data.get("active_manifest")
    node = Ingredient(
        title=data.get("title") or "(untitled)",
        relationship=data.get("relationship") or "componentOf",
        format=data.get("format") or "",
        manifest_label=label,
    )
    sub = manifests.get(label) if label else None
    if sub:
        node.signer = (sub.get("signature_info") or {}).get("common_name")
        sub_actions: list[dict[str, Any]] = []
        for a in sub.get("assertions") or []:
            if a.get("label") in ACTIONS_LABELS:
                sub_actions.extend((a.get("data") or {}).get("actions") or [])
        node.digital_source_type = _source_type(sub_actions)
        if depth < 16:  # manifests may nest deep; a tree view needs a bound
            node.children = [_ingredient(i, manifests, depth + 1)
                             for i in sub.get("ingredients") or []]
    return node
