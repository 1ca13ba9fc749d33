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
# algorithmicMedia is "created purely by an algorithm not based on any sampled training data"
# (IPTC): computer-made, but not AI.
_AI_GENERATED = {"trainedAlgorithmicMedia", "trainedAlgorithmicData"}
ENHANCED = IPTC + "algorithmicallyEnhanced"  # e.g. upscaled by a trained model
_AI_EDITED = {"compositeWithTrainedAlgorithmicMedia", "algorithmicallyEnhanced",
              "compositeSynthetic"}
_ALGORITHMIC = {"algorithmicMedia", "compositeWithAlgorithmicMedia"}
_CAPTURED = {"digitalCapture", "computationalCapture", "compositeCapture"}


class ProvenanceState(StrEnum):
    TRUSTED = "trusted"  # valid, and the signer chains to a trust anchor
    VALID = "valid"  # valid, but the signer is on no trust list
    INVALID = "invalid"  # a manifest is present but fails validation
    # Intact credentials whose certificate has expired, with no trusted time stamp proving it
    # was valid when the file was signed: not tampering, but not fully checkable either.
    EXPIRED = "expired"
    REMOTE = "remote"  # the credentials live at a URL that was not fetched
    INACCESSIBLE = "inaccessible"  # manifest.inaccessible: could not be fetched or read
    NONE = "none"  # no manifest
    UNREADABLE = "unreadable"  # the file could not be read at all


class Badge(StrEnum):
    """The C2PA UX level-1 badge."""

    AI_GENERATED = "AI-generated"
    AI_EDITED = "Edited with AI"
    ALGORITHMIC = "Computer-generated (not AI)"
    CAMERA = "Camera-captured"
    CREDENTIALS = "Content credentials"  # valid, but no source type we name
    NONE = "No credentials"
    INVALID = "Invalid credentials"
    UNCHECKED = "Credentials not checked"


@dataclass
class Ingredient:
    title: str
    relationship: str  # parentOf | componentOf | inputTo
    format: str = ""
    manifest_label: str | None = None
    signer: str | None = None
    digital_source_type: str | None = None
    failures: list[str] = field(default_factory=list)  # this ingredient's own problems
    children: list[Ingredient] = field(default_factory=list)
    sha256: str | None = None  # model inputs (checkpoint, LoRA) are named by hash
    source: str | None = None


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
    # {"authority": TSA name, "time": ISO 8601, "trusted": bool} when the signature carries an
    # RFC 3161 time stamp; without one, signed_at is only what the claim says.
    time_stamp: dict[str, Any] | None = None
    cert_not_after: str | None = None  # the signing certificate's expiry, ISO 8601
    claim_generator: str | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)
    digital_source_type: str | None = None
    ingredients: list[Ingredient] = field(default_factory=list)
    generation: dict[str, Any] | None = None
    # {"address", "matches", "reason", "spki_sha256", "issued_at"} or None
    attestation: dict[str, Any] | None = None
    training_mining: dict[str, Any] | None = None
    failures: list[str] = field(default_factory=list)  # plain words
    # Problems of ingredients (source files), named; they do not make this file's own
    # credentials invalid.
    ingredient_failures: list[str] = field(default_factory=list)
    remote_url: str | None = None  # where remote credentials live (REMOTE / INACCESSIBLE)
    # crJSON-style per-manifest results: [{"label", "validation_results": {"success",
    # "informational", "failure"}}], the C2PA status codes behind the words above.
    manifests: list[dict[str, Any]] = field(default_factory=list)
    validation_state: str | None = None  # the SDK's own word: Invalid | Valid | Trusted
    # The SDK's validation results as C2PA defines them: activeManifest {success,
    # informational, failure} and ingredientDeltas.
    validation_results: dict[str, Any] = field(default_factory=dict)
    trusted_signer: bool = False  # TRUSTED because the user trusted this very certificate
    thumbnail: bytes | None = None
    thumbnail_format: str | None = None
    error: str | None = None  # why the file is unreadable

    @property
    def has_credentials(self) -> bool:
        return self.state in (ProvenanceState.TRUSTED, ProvenanceState.VALID,
                              ProvenanceState.INVALID, ProvenanceState.EXPIRED)

    @property
    def is_valid(self) -> bool:
        return self.state in (ProvenanceState.TRUSTED, ProvenanceState.VALID)

    @property
    def effective_source_type(self) -> str | None:
        """The active manifest's source type, else its parent's (an attested or opened copy
        of a generated image is still generated), followed down the parentOf chain."""
        if self.digital_source_type:
            return self.digital_source_type
        nodes = self.ingredients
        for _ in range(16):
            parent = next((i for i in nodes if i.relationship == "parentOf"), None)
            if parent is None:
                return None
            if parent.digital_source_type:
                return parent.digital_source_type
            nodes = parent.children
        return None

    @property
    def badge(self) -> Badge:
        if self.state is ProvenanceState.INVALID:
            return Badge.INVALID
        if self.state in (ProvenanceState.REMOTE, ProvenanceState.INACCESSIBLE):
            return Badge.UNCHECKED
        if not self.is_valid and self.state is not ProvenanceState.EXPIRED:
            return Badge.NONE
        short = (self.effective_source_type or "").rsplit("/", 1)[-1]
        if short in _AI_GENERATED:
            return Badge.AI_GENERATED
        if short in _AI_EDITED:
            return Badge.AI_EDITED
        if short in _ALGORITHMIC:
            return Badge.ALGORITHMIC
        if short in _CAPTURED:
            return Badge.CAMERA
        return Badge.CREDENTIALS

    @property
    def state_text(self) -> str:
        from studio.core.provenance.verdict import state_text

        return state_text(self)

    def signed_at_text(self) -> str | None:
        from studio.core.provenance.verdict import signed_at_text

        return signed_at_text(self)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = str(self.state)
        data["badge"] = str(self.badge)
        data["thumbnail"] = (base64.b64encode(self.thumbnail).decode("ascii")
                             if self.thumbnail else None)
        return data
