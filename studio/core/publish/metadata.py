"""Token metadata JSON in the OpenSea / ERC-721 shape, plus what ties it to the file: the
media's sha256 and its C2PA manifest label."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from studio.core.publish.unixfs import bytes_cid

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class MetadataError(ValueError):
    """The metadata cannot be built from these values; the message is meant for the user."""


@dataclass(frozen=True)
class TokenMetadata:
    name: str
    image: str  # ipfs://<cid> of the media
    sha256: str  # of the media bytes, hex
    description: str = ""
    model: str = ""
    seed: int | None = None
    manifest_label: str | None = None  # the active C2PA manifest
    media_type: str = ""
    external_url: str = ""
    # The C2PA soft binding (watermark) of the media: {"alg": ..., "value": base64}, so a
    # stripped copy's decoded watermark can be matched against the token.
    soft_binding: dict[str, str] | None = None
    extra_attributes: dict[str, str | int | float] = field(default_factory=dict)

    def validate(self) -> None:
        if not self.name.strip():
            raise MetadataError("A token needs a title")
        if not self.image.startswith(("ipfs://", "https://")):
            raise MetadataError(f"The image URI {self.image!r} must be ipfs:// or https://")
        if not _SHA256.match(self.sha256):
            raise MetadataError("The media sha256 must be 64 lower-case hex digits")
        if self.seed is not None and self.seed < 0:
            raise MetadataError("The seed must not be negative")

    def to_json(self) -> dict[str, Any]:
        self.validate()
        attributes: list[dict[str, Any]] = []
        if self.model:
            attributes.append({"trait_type": "Model", "value": self.model})
        if self.seed is not None:
            attributes.append({"trait_type": "Seed", "value": self.seed,
                               "display_type": "number"})
        attributes.append({"trait_type": "SHA-256", "value": self.sha256})
        if self.manifest_label:
            attributes.append({"trait_type": "C2PA manifest", "value": self.manifest_label})
        if self.soft_binding:
            attributes.append({"trait_type": "C2PA soft binding",
                               "value": self.soft_binding.get("value", "")})
        attributes += [{"trait_type": k, "value": v} for k, v in self.extra_attributes.items()]
        doc: dict[str, Any] = {
            "name": self.name.strip(),
            "description": self.description,
            "image": self.image,
            "attributes": attributes,
            # Machine-readable copies for `studio verify` and other tools.
            "properties": {"sha256": self.sha256, "c2pa_manifest": self.manifest_label,
                           "media_type": self.media_type or None},
        }
        if self.soft_binding:
            doc["properties"]["c2pa_soft_binding"] = dict(self.soft_binding)
        if self.external_url:
            doc["external_url"] = self.external_url
        return doc

    def to_bytes(self) -> bytes:
        """Canonical bytes (sorted keys, no whitespace, UTF-8): the same input always gives
        the same CID."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")

    def cid(self) -> str:
        return bytes_cid(self.to_bytes())

    def token_uri(self) -> str:
        return f"ipfs://{self.cid()}"
