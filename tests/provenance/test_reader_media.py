"""Third-party media from ../shared/fixtures/media, and files that are not media at all."""

from __future__ import annotations

from pathlib import Path

from studio.core.provenance.reader import read_report
from studio.core.provenance.report import Badge, ProvenanceState


def test_third_party_manifest_is_valid(shared_media: Path):
    report = read_report(shared_media / "C.jpg")
    assert report.state is ProvenanceState.VALID
    assert report.signer == "C2PA Signer"
    assert report.manifest_label and report.manifest_label.startswith("contentauth:urn:uuid:")
    assert report.actions[0]["action"] == "c2pa.created"
    assert report.thumbnail
    assert report.attestation is None and report.generation is None


def test_cawg_file_is_valid(shared_media: Path):
    report = read_report(shared_media / "C_with_CAWG_data.jpg")
    assert report.state is ProvenanceState.VALID
    assert report.badge is Badge.CAMERA
    assert report.failures == []


def test_file_without_manifest(shared_media: Path):
    report = read_report(shared_media / "A.jpg")
    assert report.state is ProvenanceState.NONE
    assert report.badge is Badge.NONE and not report.has_credentials


def test_wrong_extension_is_read_by_content(shared_media: Path):
    report = read_report(shared_media / "file_with_wrong_extension.xyz.jpg")
    assert report.format == "image/jpeg"
    assert report.state is ProvenanceState.VALID


def test_formats_without_credentials(shared_media: Path):
    for name, mime in (("sample1.gif", "image/gif"), ("sample1.mp3", "audio/mpeg"),
                       ("mars.webp", "image/webp")):
        report = read_report(shared_media / name)
        assert (report.state, report.format) == (ProvenanceState.NONE, mime), name


def test_missing_and_non_media_files_are_unreadable(tmp_path: Path):
    missing = read_report(tmp_path / "nope.png")
    assert missing.state is ProvenanceState.UNREADABLE and "cannot open" in missing.error
    junk = tmp_path / "notes.png"
    junk.write_bytes(b"just some text, not a picture\n" * 20)
    report = read_report(junk)
    assert report.state is ProvenanceState.UNREADABLE
    assert "not a media format" in report.error
    assert junk.read_bytes().startswith(b"just some text")  # untouched


def test_truncated_signed_jpeg_is_not_valid(sign, tmp_path: Path):
    from tests.provenance.conftest import REQUEST, image_bytes

    signed = sign(image_bytes("JPEG"), REQUEST, 1)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(signed[: len(signed) // 2])
    report = read_report(cut)
    assert report.state in (ProvenanceState.INVALID, ProvenanceState.NONE)
    assert not report.is_valid


def test_truncated_plain_jpeg_is_unreadable_not_invalid(tmp_path: Path, capsys):
    """Broken media with no credentials must not be reported as failed credentials."""
    from studio.cli import main
    from tests.provenance.conftest import image_bytes

    cut = tmp_path / "cut.jpg"
    cut.write_bytes(image_bytes("JPEG", (256, 256))[:600])
    report = read_report(cut)
    assert report.state is ProvenanceState.UNREADABLE
    assert "truncated or corrupt" in report.error
    assert main(["verify", str(cut)]) == 3  # the CLI's code for an unreadable file
    capsys.readouterr()
