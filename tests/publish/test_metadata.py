from __future__ import annotations

import json

import pytest

from studio.core.publish.metadata import MetadataError, TokenMetadata
from studio.core.publish.unixfs import bytes_cid

SHA = "ab" * 32
IMAGE = "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"


def sample(**over) -> TokenMetadata:
    values = dict(name="Dawn", image=IMAGE, sha256=SHA, description="A study in light",
                  model="sd-turbo", seed=42, manifest_label="urn:c2pa:1234",
                  media_type="image/png")
    values.update(over)
    return TokenMetadata(**values)


def test_opensea_shape_with_provenance() -> None:
    doc = json.loads(sample().to_bytes())
    assert doc["name"] == "Dawn" and doc["image"] == IMAGE
    assert doc["description"] == "A study in light"
    traits = {a["trait_type"]: a["value"] for a in doc["attributes"]}
    assert traits == {"Model": "sd-turbo", "Seed": 42, "SHA-256": SHA,
                      "C2PA manifest": "urn:c2pa:1234"}
    assert doc["properties"] == {"sha256": SHA, "c2pa_manifest": "urn:c2pa:1234",
                                 "media_type": "image/png"}


def test_bytes_are_canonical_and_the_uri_is_their_cid() -> None:
    a, b = sample(), sample()
    assert a.to_bytes() == b.to_bytes()
    assert a.token_uri() == "ipfs://" + bytes_cid(a.to_bytes())
    assert a.token_uri() != sample(seed=43).token_uri()
    assert "é" in sample(name="Été").to_bytes().decode("utf-8")


@pytest.mark.parametrize(("over", "message"), [
    ({"name": "  "}, "title"),
    ({"image": "file:///etc/passwd"}, "ipfs://"),
    ({"sha256": "xyz"}, "sha256"),
    ({"seed": -1}, "seed"),
])
def test_bad_values_are_refused(over, message) -> None:
    with pytest.raises(MetadataError, match=message):
        sample(**over).to_bytes()
