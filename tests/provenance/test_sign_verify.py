"""Sign with the real c2pa SDK and a real keyring-held identity, then verify."""

from __future__ import annotations

import struct
import zlib

import pytest

from studio.core.provenance.reader import read_report_bytes
from studio.core.provenance.report import Badge, ProvenanceState
from tests.provenance.conftest import REQUEST, image_bytes


@pytest.mark.parametrize("fmt,mime", [("PNG", "image/png"), ("JPEG", "image/jpeg"),
                                      ("WEBP", "image/webp")])
def test_sign_then_verify(sign, account, fmt, mime):
    original = image_bytes(fmt, (320, 200))
    signed = sign(original, REQUEST, 1234)
    report = read_report_bytes(signed)
    assert report.state is ProvenanceState.VALID, report.failures
    assert report.format == mime
    assert report.badge is Badge.AI_GENERATED
    assert report.signer == "Ada Lovelace"
    # The certificate's issuer (the studio root), not the signer's organisation.
    assert report.issuer.startswith("Provenance Studio Root CA (Ada Lovelace)")
    assert report.claim_generator.startswith("Provenance Studio")
    assert report.signed_at  # the claimed time: no TSA is configured
    assert report.time_stamp is None
    assert report.signed_at_text().startswith("signed at (claimed) ")
    # 320x200 is large enough for the durable-credentials watermark (issue 20).
    assert [a["action"] for a in report.actions] == ["c2pa.created", "c2pa.watermarked.bound"]
    assert report.actions[0]["softwareAgent"]["name"] == "Provenance Studio"
    assert report.digital_source_type.endswith("/trainedAlgorithmicMedia")
    assert report.generation["request"] == REQUEST
    assert report.generation["seed"] == 1234
    assert report.generation["model_sha256"] == "ab" * 32
    assert report.training_mining["entries"]["cawg.ai_training"]["use"] == "notAllowed"
    assert report.attestation["matches"] is True
    assert report.attestation["address"] == account.address
    assert report.thumbnail_format == "image/jpeg"
    import io

    from PIL import Image
    with Image.open(io.BytesIO(report.thumbnail)) as thumb:
        # At most half the image's long edge, and within its byte budget (noise compresses
        # badly, so small files get smaller thumbnails).
        assert thumb.format == "JPEG" and 64 <= max(thumb.size) <= 160
    from studio.core.provenance.signing import thumbnail_budget

    assert len(report.thumbnail) <= thumbnail_budget(len(original))
    assert report.to_json()["state"] == "valid"


def test_request_object_with_to_json(sign):
    class Request:  # the generation engineer's GenerationRequest shape
        def to_json(self):
            return dict(REQUEST, prompt="from an object")

    report = read_report_bytes(sign(image_bytes("PNG"), Request(), 7))
    assert report.generation["request"]["prompt"] == "from an object"


def _flip_pixel_byte(png: bytes) -> bytes:
    """Change one pixel byte inside IDAT and re-fix the chunk CRC, so the PNG stays
    well-formed and only the content differs."""
    pos = 8
    while pos < len(png):
        length, ctype = struct.unpack(">I4s", png[pos:pos + 8])
        if ctype == b"IDAT":
            data = bytearray(zlib.decompress(png[pos + 8:pos + 8 + length]))
            data[len(data) // 2] ^= 0x01
            new = zlib.compress(bytes(data))
            chunk = struct.pack(">I4s", len(new), b"IDAT") + new + struct.pack(
                ">I", zlib.crc32(b"IDAT" + new))
            return png[:pos] + chunk + png[pos + 12 + length:]
        pos += 12 + length
    raise AssertionError("no IDAT chunk")


def test_changed_pixel_is_invalid_with_reason(sign):
    from studio.core.provenance.verdict import wallet_text

    signed = sign(image_bytes("PNG"), REQUEST, 1)
    report = read_report_bytes(_flip_pixel_byte(signed))
    assert report.state is ProvenanceState.INVALID
    assert report.badge is Badge.INVALID
    assert "The image data was changed after it was signed." in report.failures
    # The key still matches, but a binding on broken credentials vouches for nothing.
    assert wallet_text(report, "0xabc") == "0xabc: not vouched (the credentials are invalid)"
    assert wallet_text(read_report_bytes(signed), "0xabc").startswith("✔ 0xabc vouches")


def test_changed_jpeg_byte_is_invalid(sign):
    signed = bytearray(sign(image_bytes("JPEG"), REQUEST, 1))
    signed[-20] ^= 0xFF  # inside the entropy-coded scan, just before EOI
    report = read_report_bytes(bytes(signed))
    assert report.state is ProvenanceState.INVALID
    assert report.failures


def test_root_as_trust_anchor_makes_it_trusted(sign, paths):
    from studio.core.provenance.identity import IdentityManager

    signed = sign(image_bytes("PNG"), REQUEST, 1)
    root = IdentityManager(paths).root_pem()
    assert read_report_bytes(signed).state is ProvenanceState.VALID
    assert read_report_bytes(signed, root).state is ProvenanceState.TRUSTED


def test_unrelated_anchor_keeps_it_valid(sign, tmp_path):
    from studio.core.paths import StudioPaths
    from studio.core.provenance.identity import IdentityManager

    signed = sign(image_bytes("PNG"), REQUEST, 1)
    other = StudioPaths(*(tmp_path / "other" / d for d in ("c", "d", "k", "l"))).ensure()
    other_root = IdentityManager(other).ensure("Someone else", None).root_pem
    assert read_report_bytes(signed, other_root).state is ProvenanceState.VALID


def test_img2img_records_parent_and_is_ai_edited(sign, tmp_path):
    parent = tmp_path / "source.png"
    parent.write_bytes(image_bytes("PNG"))
    signed = sign(image_bytes("PNG"), dict(REQUEST, init_image=str(parent)), 5)
    report = read_report_bytes(signed)
    assert report.state is ProvenanceState.VALID, report.failures
    assert report.badge is Badge.AI_EDITED
    assert [(i.relationship, i.title) for i in report.ingredients
            if i.relationship == "parentOf"] == [("parentOf", "source.png")]
    # The checkpoint the request names is an input, pinned by its hash (issue 15).
    assert [i.relationship for i in report.ingredients if i.sha256] == ["inputTo"]


def test_unsignable_inputs_fail_clearly(sign):
    from studio.core.provenance.signing import SigningError

    gif = image_bytes("GIF")
    with pytest.raises(SigningError, match="Only PNG, JPEG and WebP"):
        sign(gif, REQUEST, 1)
    with pytest.raises(SigningError, match="unknown type"):
        sign(b"not an image at all" * 10, REQUEST, 1)
    with pytest.raises(SigningError, match="not a JSON object"):
        sign(image_bytes("PNG"), ["not", "a", "dict"], 1)


def test_corrupt_png_body_fails_to_sign(sign):
    from studio.core.provenance.signing import SigningError

    broken = image_bytes("PNG")[:40]  # a PNG header and no image
    with pytest.raises(SigningError):
        sign(broken, REQUEST, 1)
