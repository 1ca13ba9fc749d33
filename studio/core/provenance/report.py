"""The verification report: one plain record for the inspector, the CLI and the importer."""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

# IPTC digital source types (the C2PA spec uses these URIs).
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED = IPTC + "trainedAlgorithmicMedia"
COMPOSITE_TRAINED = IPTC + "compositeWithTrainedAlgorithmicMedia"
_AI_GENERATED = {"trainedAlgorithmicMedia", "algorithmicMedia", "trainedAlgorithmicData"}
_AI_EDITED = {"compositeWithTrainedAlgorithmicMedia", "algorithmicallyEnhanced",
              "compositeSynthetic"}
_CAPTURED = {"digitalCapture", "computationalCapture", "compositeCapture"}


class ProvenanceState(StrEnum):
    TRUSTED = "trusted"  # valid, and the signer chains to a trust anchor
    VALID = "valid"  # valid, but the signer is on no trust list
    INVALID = "invalid"  # a manifest is present but fails validation
    NONE = "none"  # no manifest
    UNREADABLE = "unreadable"  # the file could not be read at all


class Badge(StrEnum):
    """The C2PA UX level-1 badge."""

    AI_GENERATED = "AI-generated"
    AI_EDITED = "AI-edited"
    CAMERA = "Camera-captured"
    CREDENTIALS = "Content credentials"  # valid, but no source type we name
    NONE = "No credentials"
    INVALID = "Invalid credentials"


@dataclass
class Ingredient:
    title: str
    relationship: str  # parentOf | componentOf | inputTo
    format: str = ""
    manifest_label: str | None = None
    signer: str | None = None
    digital_source_type: str | None = None
    children: list[Ingredient] = field(default_factory=list)


@dataclass
class ProvenanceReport:
    path: str
    state: ProvenanceState
    format: str | None = None
    manifest_label: str | None = None
    title: str | None = None
    signer: str | None = None  # the signing certificate's subject (common name / org)
    issuer: str | None = None
    signed_at: str | None = None  # ISO 8601, from the signature's time stamp or claim
    claim_generator: str | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)
    digital_source_type: str | None = None
    ingredients: list[Ingredient] = field(default_factory=list)
    generation: dict[str, Any] | None = None
    # {"address", "matches", "reason", "spki_sha256", "issued_at"} or None
    attestation: dict[str, Any] | None = None
    training_mining: dict[str, Any] | None = None
    failures: list[str] = field(default_factory=list)  # plain words
    thumbnail: bytes | None = None
    thumbnail_format: str | None = None
    error: str | None = None  # why the file is unreadable

    @property
    def has_credentials(self) -> bool:
        return self.state in (ProvenanceState.TRUSTED, ProvenanceState.VALID,
                              ProvenanceState.INVALID)

    @property
    def is_valid(self) -> bool:
        return self.state in (ProvenanceState.TRUSTED, ProvenanceState.VALID)

    @property
    def badge(self) -> Badge:
        if self.state is ProvenanceState.INVALID:
            return Badge.INVALID
        if not self.is_valid:
            return Badge.NONE
        short = (self.digital_source_type or "").rsplit("/", 1)[-1]
        if short in _AI_GENERATED:
            return Badge.AI_GENERATED
        if short in _AI_EDITED:
            return Badge.AI_EDITED
        if short in _CAPTURED:
            return Badge.CAMERA
        return Badge.CREDENTIALS

    @property
    def state_text(self) -> str:
        return {
            ProvenanceState.TRUSTED: "Trusted: valid, signed by a trusted signer",
            ProvenanceState.VALID: "Valid (signer not on your trust list)",
            ProvenanceState.INVALID: "Invalid: the credentials do not match this file",
            ProvenanceState.NONE: "No content credentials",
            ProvenanceState.UNREADABLE: "The file could not be read",
        }[self.state]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = str(self.state)
        data["badge"] = str(self.badge)
        data["thumbnail"] = (base64.b64encode(self.thumbnail).decode("ascii")
                             if self.thumbnail else None)
        return data
