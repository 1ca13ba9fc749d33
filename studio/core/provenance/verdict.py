"""What a verdict means, in words: C2PA status codes and SDK errors mapped to plain language.

Qt-free, so the CLI, the importer and the inspector all say the same thing; widgets only
display these strings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from studio.core.provenance.report import ProvenanceReport

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
    "signingCredential.expired": "The signing certificate has expired, and no trusted time "
                                 "stamp shows it was valid when the file was signed.",
    "signingCredential.revoked": "The signing certificate has been revoked.",
    "signingCredential.untrusted": "The signer is not on your trust list.",
    "algorithm.unsupported": "The signature uses an algorithm that is not allowed.",
    "timeStamp.mismatch": "The signing time stamp does not match the signature.",
    "timeStamp.outsideValidity": "The time stamp falls outside its certificate's validity.",
    "ingredient.hashedURI.mismatch": "A source file's credentials were altered.",
    "ingredient.manifest.missing": "A source file's credentials are missing.",
    "ingredient.claimSignature.mismatch": "A source file's signature does not match.",
    "manifest.inaccessible": "The credentials are stored elsewhere and could not be fetched "
                             "or read; this does not suggest they are invalid.",
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



# Failures that mean "the certificate expired", not "the content was changed".
EXPIRY_CODES = {"signingCredential.expired"}


def sdk_error_state(message: str) -> tuple[str, str | None, str]:
    """Map a c2pa SDK error to (state value, remote URL or None, C2PA status code).

    Remote-manifest errors are not invalidity: the credentials were simply not fetched (by
    choice) or could not be; both are ``manifest.inaccessible``, which the C2PA UX guidance
    says "does not suggest invalidity".
    """
    import re

    url = None
    found = re.search(r"(https?://[^\s\"']+)", message)
    if found:
        url = found.group(1).rstrip(".,;)")
    low = message.lower()
    if "must fetch remote manifests" in low:
        return "remote", url, "manifest.inaccessible"
    if message.startswith("Remote") or "remote manifest" in low or "RemoteManifest" in message:
        return "inaccessible", url, "manifest.inaccessible"
    for needle, code in (("claim missing", "claim.missing"), ("claimmissing", "claim.missing"),
                         ("more than one manifest store", "claim.multiple"),
                         ("hard binding", "claim.hardBindings.missing"),
                         ("cbor", "claim.cbor.invalid")):
        if needle in low:
            return "invalid", None, code
    return "invalid", None, "general.error"


def error_results(code: str, explanation: str, url: str | None = None) -> dict[str, Any]:
    """Validation results in the SDK's shape for a file the SDK refused to read."""
    entry = {"code": code, "explanation": explanation}
    if url:
        entry["url"] = url
    return {"activeManifest": {"success": [], "informational": [], "failure": [entry]}}


def state_text(report: ProvenanceReport) -> str:
    state = report.state.value
    if state == "remote":
        return (f"Content Credentials are stored remotely at {report.remote_url}; not fetched "
                "(fetching would contact that server)")
    if state == "inaccessible":
        where = f" at {report.remote_url}" if report.remote_url else ""
        return (f"Content Credentials are stored remotely{where} and could not be fetched; "
                "this does not suggest they are invalid")
    if state == "expired":
        return ("Valid at signing time unknown / certificate expired: the credentials match "
                "this file, but the signing certificate has expired and no trusted time stamp "
                "shows when it was signed")
    if state == "invalid" and report.ingredient_failures and not report.failures:
        return "Invalid: a source file's credentials failed (see below)"
    if state == "trusted" and report.trusted_signer:
        return "Trusted: valid, signed by a signer you chose to trust"
    return {
        "trusted": "Trusted: valid, signed by a trusted signer",
        "valid": "Valid (signer not on your trust list)",
        "invalid": "Invalid: the credentials do not match this file",
        "none": "No content credentials",
        "unreadable": "The file could not be read",
    }[state]


def signed_at_text(report: ProvenanceReport) -> str | None:
    """"time-stamped by X at T" (trusted RFC 3161 time), or "signed at (claimed) T"."""
    ts = report.time_stamp
    if ts and ts.get("time"):
        note = "" if ts.get("trusted") else " (time-stamp authority not on your trust list)"
        return f"time-stamped by {ts.get('authority') or 'an unnamed authority'} at " \
               f"{ts['time']}{note}"
    if report.signed_at:
        return f"signed at (claimed) {report.signed_at}"
    return None


def wallet_text(report: ProvenanceReport, address: str) -> str | None:
    """One line on the wallet binding; a binding on broken credentials vouches for nothing."""
    att = report.attestation
    if not att:
        return None
    if report.state.value == "invalid":
        return f"{address}: not vouched (the credentials are invalid)"
    return {"matches": f"✔ {address} vouches for the signer",
            "unverifiable": f"? {address}: the binding cannot be checked"}.get(
        att.get("status", ""), f"✘ {address} does not match the signer")
