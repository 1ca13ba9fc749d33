"""Read any file c2pa understands into a :class:`ProvenanceReport`.

Safe to call from any thread (each call builds its own c2pa Context and Reader); the GUI
calls it off the GUI thread, the importer calls it while importing. Remote manifests are never
fetched unless the caller asks (``fetch_remote``): a dropped file must not make the app call a
stranger's server.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

from studio.core.provenance.formats import sniff_mime
from studio.core.provenance.report import Ingredient, ProvenanceReport, ProvenanceState
from studio.core.provenance.verdict import (
    _NOT_FAILURES,
    EXPIRY_CODES,
    PLAIN_WORDS,
    error_results,
    plain_words,
    sdk_error_state,
)

log = logging.getLogger(__name__)

GENERATION_LABEL = "org.provenance-studio.generation"
BINDING_LABEL = "org.provenance-studio.wallet-binding"
TRAINING_MINING_LABEL = "cawg.training-mining"
ACTIONS_LABELS = ("c2pa.actions", "c2pa.actions.v2")
def read_report(path: Path, trust_anchors_pem: str | None = None, *,
                fetch_remote: bool = False) -> ProvenanceReport:
    """Verify ``path`` and describe its provenance. Never raises for a bad file: an unreadable
    one gives state UNREADABLE with ``error`` saying why."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ProvenanceReport(str(path), ProvenanceState.UNREADABLE,
                                error=f"cannot open the file: {exc.strerror or exc}")
    return read_report_bytes(data, trust_anchors_pem, name=str(path), fetch_remote=fetch_remote)


def read_report_bytes(data: bytes, trust_anchors_pem: str | None = None, name: str = "", *,
                      fetch_remote: bool = False) -> ProvenanceReport:
    """``fetch_remote``: fetch a remote manifest named in the file, from that one host only."""
    import c2pa

    from studio.core.provenance.trust import make_context

    mime = sniff_mime(data[:512])
    if mime is None:
        return ProvenanceReport(name, ProvenanceState.UNREADABLE,
                                error="the file is not a media format the studio knows")
    remote_url: str | None = None
    for attempt in range(2):
        try:
            ctx = make_context(trust_anchors_pem, remote_url=remote_url)
            reader = c2pa.Reader.try_create(mime, io.BytesIO(data), None, ctx)
            break
        except c2pa.C2paError as exc:
            msg = str(exc)
            if "NotSupported" in type(exc).__name__ or "type is unsupported" in msg:
                # A format c2pa cannot carry credentials in: readable, just no manifest.
                return ProvenanceReport(name, ProvenanceState.NONE, format=mime)
            log.info("c2pa could not read %s: %s", name, msg)
            if "asset could not be parsed" in msg and b"c2pa" not in data:
                # Broken media (truncated, corrupt) with no C2PA data in it: there are no
                # credentials to judge, so the file is unreadable, not "invalid". Where C2PA
                # boxes are present, broken credentials stay INVALID below.
                return ProvenanceReport(name, ProvenanceState.UNREADABLE, format=mime,
                                        error=f"the {mime} file is truncated or corrupt ({msg})")
            state, url, code = sdk_error_state(msg)
            if state == "remote" and fetch_remote and url and attempt == 0:
                remote_url = url  # the user asked: allow exactly this host, once
                continue
            results = error_results(code, msg, url or remote_url)
            if state in ("remote", "inaccessible"):
                return ProvenanceReport(name, ProvenanceState(state), format=mime,
                                        remote_url=url or remote_url,
                                        failures=[] if state == "remote" else [
                                            PLAIN_WORDS["manifest.inaccessible"]],
                                        error=None if state == "remote" else msg,
                                        validation_results=results)
            return ProvenanceReport(name, ProvenanceState.INVALID, format=mime,
                                    failures=[f"The credentials could not be read ({msg})."],
                                    validation_results=results)
    if reader is None:
        return ProvenanceReport(name, ProvenanceState.NONE, format=mime)
    with reader:
        report = _build(reader, name, mime, data, _allowed_hashes(trust_anchors_pem))
        if remote_url:
            report.remote_url = remote_url
        return report


def _allowed_hashes(trust) -> set[str]:
    """SHA-256 of each signer certificate the user trusted one by one."""
    import hashlib

    from cryptography import x509

    allowed = getattr(trust, "allowed", None)
    if not allowed:
        return set()
    try:
        certs = x509.load_pem_x509_certificates(allowed.encode("ascii"))
    except ValueError:
        return set()
    from cryptography.hazmat.primitives.serialization import Encoding

    return {hashlib.sha256(c.public_bytes(Encoding.DER)).hexdigest() for c in certs}


def _build(reader, name: str, mime: str, data: bytes,
           allowed: set[str] | None = None) -> ProvenanceReport:
    store = json.loads(reader.json())
    manifests: dict[str, Any] = store.get("manifests") or {}
    label = store.get("active_manifest")
    active = manifests.get(label) or {}
    results = reader.get_validation_results() or {}
    sdk_state = reader.get_validation_state() or ""
    crjson = _crjson(reader)

    # The SDK's verdict decides the state; an untrusted signer is what VALID means. A file whose
    # only failure is an expired certificate is EXPIRED, not tampered with.
    codes = _active_failure_codes(results, store)
    failures = _words(codes)
    if sdk_state.lower() == "trusted":
        state = ProvenanceState.TRUSTED
    elif sdk_state.lower() == "valid":
        state = ProvenanceState.VALID
    elif codes and set(codes) <= EXPIRY_CODES:
        state = ProvenanceState.EXPIRED
    else:
        state = ProvenanceState.INVALID

    sig = active.get("signature_info") or {}
    assertions = {a.get("label"): a.get("data") for a in active.get("assertions") or []}
    actions: list[dict[str, Any]] = []
    for key in ACTIONS_LABELS:
        actions.extend((assertions.get(key) or {}).get("actions") or [])
    ingredients = [_ingredient(i, manifests, 0) for i in active.get("ingredients") or []]
    ingredient_failures = _ingredient_failures(results, active, ingredients,
                                               intact=not failures)
    if state is ProvenanceState.INVALID and not failures and not ingredient_failures:
        failures = ["The credentials did not validate."]
    cr_active = next((m for m in crjson if m.get("label") == label), {})
    signature = cr_active.get("signature") or {}
    report = ProvenanceReport(
        path=name,
        state=state,
        format=mime,
        manifest_label=label,
        title=active.get("title"),
        # c2pa's signature_info "issuer" is the signer's organisation; the certificate's
        # real issuer comes from crJSON.
        signer=sig.get("common_name") or sig.get("issuer"),
        issuer=_issuer_name(signature) or sig.get("issuer"),
        signed_at=sig.get("time") or next((a["when"] for a in actions if a.get("when")), None),
        time_stamp=_time_stamp(signature, results),
        cert_not_after=((signature.get("certificateInfo") or {}).get("validity") or {})
        .get("notAfter"),
        claim_generator=_claim_generator(active),
        actions=actions,
        digital_source_type=_source_type(actions),
        ingredients=ingredients,
        generation=assertions.get(GENERATION_LABEL),
        training_mining=assertions.get(TRAINING_MINING_LABEL),
        failures=failures,
        ingredient_failures=ingredient_failures,
        manifests=[{"label": m.get("label"),
                    "validation_results": m.get("validationResults") or {}} for m in crjson],
        validation_state=sdk_state or None,
        validation_results=results,
    )
    signer_der = _signer_der(data, mime, label, sig, signature.get("certificateInfo")) if (
        allowed or BINDING_LABEL in assertions) else None
    if allowed and state is ProvenanceState.VALID and signer_der is not None:
        import hashlib

        # "Trust this signer…": the SDK verified the signature with exactly this
        # certificate, and the user trusts exactly this certificate (c2pa's own allowed_list
        # is not applied by every SDK build, so the check is made here).
        if hashlib.sha256(signer_der).hexdigest() in allowed:
            report.state = ProvenanceState.TRUSTED
            report.trusted_signer = True
    binding = assertions.get(BINDING_LABEL)
    if binding is not None:
        from studio.core.provenance.attestation import verify_binding

        report.attestation = verify_binding(binding, signer_der)
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


def _issuer_name(signature: dict[str, Any]) -> str | None:
    issuer = (signature.get("certificateInfo") or {}).get("issuer") or {}
    parts = [issuer.get("CN"), issuer.get("O")]
    names = [p for p in parts if p]
    if len(names) == 2 and names[0] != names[1]:
        return f"{names[0]} ({names[1]})"
    return names[0] if names else None


def _crjson(reader) -> list[dict[str, Any]]:
    try:
        return list(json.loads(reader.crjson()).get("manifests") or [])
    except Exception as exc:  # older SDKs: the report simply carries no per-manifest codes
        log.info("crJSON not available: %s", exc)
        return []


def _signer_der(data: bytes, mime: str, label: str | None, sig: dict[str, Any],
                info: dict[str, Any] | None = None) -> bytes | None:
    """The certificate that signed the active manifest, from its own COSE signature; None
    when it cannot be read or is not the one the SDK validated (serial differs)."""
    from cryptography import x509

    from studio.core.provenance.cose import CoseError, signing_chain

    if not label:
        return None
    try:
        der = signing_chain(data, mime, label)[0]
        cert = x509.load_der_x509_certificate(der)
    except (CoseError, ValueError, ImportError) as exc:
        log.info("signing certificate not extracted: %s", exc)
        return None
    if sig.get("cert_serial_number") and str(cert.serial_number) != str(
            sig["cert_serial_number"]):
        return None
    if info and not _same_certificate(cert, info):
        return None
    return der


def _same_certificate(cert, info: dict[str, Any]) -> bool:
    """The extracted certificate is the one the SDK reports (serial, issuer, subject)."""
    from cryptography.x509.oid import NameOID

    def names(name) -> dict[str, str]:
        out = {}
        for key, oid in (("CN", NameOID.COMMON_NAME), ("O", NameOID.ORGANIZATION_NAME),
                         ("C", NameOID.COUNTRY_NAME)):
            attrs = name.get_attributes_for_oid(oid)
            if attrs:
                out[key] = str(attrs[0].value)
        return out

    serial = str(info.get("serialNumber") or "").lower().lstrip("0")
    if serial and serial != format(cert.serial_number, "x").lstrip("0"):
        return False
    for field_name, name in (("issuer", cert.issuer), ("subject", cert.subject)):
        reported = info.get(field_name) or {}
        ours = names(name)
        if any(reported.get(k) is not None and reported.get(k) != v for k, v in ours.items()):
            return False
    return True


def _time_stamp(signature: dict[str, Any], results: dict[str, Any]) -> dict[str, Any] | None:
    info = signature.get("timeStampInfo") or {}
    if not info.get("timestamp"):
        return None
    subject = (info.get("certificateInfo") or {}).get("subject") or {}
    active = results.get("activeManifest") or {}
    codes = {s.get("code") for key in ("success", "informational", "failure")
             for s in active.get(key) or []}
    return {"authority": subject.get("CN") or subject.get("O"), "time": info["timestamp"],
            "trusted": "timeStamp.trusted" in codes and "timeStamp.untrusted" not in codes}


def _active_failure_codes(results: dict[str, Any], store: dict[str, Any]) -> list[str]:
    if results:
        statuses = list((results.get("activeManifest") or {}).get("failure") or [])
    else:  # older stores only have the flat list
        statuses = list(store.get("validation_status") or [])
    return [s.get("code") or "" for s in statuses
            if s.get("code") not in _NOT_FAILURES and not str(s.get("code")).endswith(
                ".untrusted")]


def _words(codes: list[str]) -> list[str]:
    out: list[str] = []
    for code in codes:
        text = plain_words({"code": code})
        if text not in out:
            out.append(text)
    return out


def _failures_of(statuses: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for s in statuses:
        code = s.get("code") or ""
        if code in _NOT_FAILURES or code.endswith(".untrusted"):
            continue
        text = plain_words(s)
        if text not in out:
            out.append(text)
    return out


def _ingredient_failures(results: dict[str, Any], active: dict[str, Any],
                         ingredients: list[Ingredient], *, intact: bool) -> list[str]:
    """Each failing ingredient named, with what failed: from the reader's deltas (the
    ingredient's manifest changed inside this file) and from the results recorded when it was
    added (the source was already broken then)."""
    raw = active.get("ingredients") or []
    by_label = {r.get("label"): n for r, n in zip(raw, ingredients, strict=False)}
    problems: dict[int, list[str]] = {}
    for delta in results.get("ingredientDeltas") or []:
        uri = str(delta.get("ingredientAssertionURI") or "")
        node = by_label.get(uri.rsplit("/", 1)[-1])
        texts = _failures_of((delta.get("validationDeltas") or {}).get("failure") or [])
        if texts:
            key = ingredients.index(node) if node in ingredients else -1
            problems.setdefault(key, []).extend(texts)
    for idx, r in enumerate(raw):
        recorded = ((r.get("validation_results") or {}).get("activeManifest") or {})
        texts = _failures_of(recorded.get("failure") or [])
        if not texts:
            texts = _failures_of(r.get("validation_status") or [])
        if texts:
            problems.setdefault(idx, []).extend(t for t in texts
                                                if t not in problems.get(idx, []))
    out: list[str] = []
    for idx, texts in problems.items():
        title = ingredients[idx].title if 0 <= idx < len(ingredients) else "a source file"
        if 0 <= idx < len(ingredients):
            ingredients[idx].failures = list(texts)
        note = " This file's own credentials are intact." if intact else ""
        out.append(f"Ingredient {title!r}: {' '.join(texts)}{note}")
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
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    if isinstance(meta.get("sha256"), str):
        node.sha256 = meta["sha256"]
        node.source = meta.get("source") if isinstance(meta.get("source"), str) else None
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
