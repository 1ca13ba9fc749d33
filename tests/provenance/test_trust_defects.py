"""The defects of issue 13, each tried as an attacker or a careful user would, with real parts:
a second real CA, a real RFC 3161 TSA (``openssl ts -reply``), a real HTTP server counting
requests, the real keyring."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.provenance.reader import read_report, read_report_bytes
from studio.core.provenance.report import Badge, ProvenanceState
from tests.provenance.conftest import REQUEST, _require_keyring, image_bytes
from tests.provenance.pki import CA, CountingServer, LocalTSA, key_pem, pem, sign_with


def _manifest(binding=None):
    from studio.core.provenance.signing import generation_manifest

    return generation_manifest(REQUEST, 1, binding=binding, policy="notAllowed", img2img=False)


# -- 1. wallet-binding forgery ---------------------------------------------------------------


def test_binding_copied_to_a_cert_with_the_same_serial_from_another_ca_is_refused(
        paths, settings, account):
    """Mallory's own CA issues her a certificate reusing the victim's serial number; she copies
    the victim's wallet binding into her file. The key and issuer differ: no match."""
    _require_keyring()
    from cryptography import x509

    from studio.core.provenance.attestation import BINDING_LABEL
    from studio.core.provenance.signing import make_generation_signer

    victim_file = make_generation_signer(paths, settings, account)(image_bytes("PNG"),
                                                                   REQUEST, 1)
    victim = read_report_bytes(victim_file)
    assert victim.attestation["matches"] is True
    import c2pa

    with c2pa.Reader.try_create("image/png", io.BytesIO(victim_file)) as reader:
        store = json.loads(reader.json())
    active = store["manifests"][store["active_manifest"]]
    binding = next(a["data"] for a in active["assertions"] if a["label"] == BINDING_LABEL)
    serial = int(active["signature_info"]["cert_serial_number"])

    mallory_ca = CA.make("Mallory CA")
    key, cert = mallory_ca.issue("Ada Lovelace", serial=serial)
    assert cert.serial_number == serial
    forged = sign_with(image_bytes("PNG"), _manifest(binding), key, cert, mallory_ca)
    report = read_report_bytes(forged)
    assert report.is_valid  # the C2PA signature itself is fine: Mallory really signed it
    assert report.signer == "Ada Lovelace"
    att = report.attestation
    assert att["matches"] is False  # was "Wallet 0x… (matches)"
    assert att["status"] == "mismatch"
    assert "different signing key" in att["reason"]
    assert x509.load_pem_x509_certificate(pem(cert).encode()).serial_number == serial


def test_a_planted_second_manifest_store_cannot_lend_its_certificate(paths, settings, account):
    """Mallory plants the victim's whole manifest store as an extra PNG chunk beside her own:
    which store the SDK validated is then ambiguous, so the binding is unverifiable, never a
    match."""
    _require_keyring()
    import struct
    import zlib

    from studio.core.provenance.attestation import BINDING_LABEL, UNVERIFIABLE
    from studio.core.provenance.cose import find_jumbf
    from studio.core.provenance.signing import make_generation_signer

    victim_file = make_generation_signer(paths, settings, account)(image_bytes("PNG"),
                                                                   REQUEST, 1)
    import c2pa

    with c2pa.Reader.try_create("image/png", io.BytesIO(victim_file)) as reader:
        store = json.loads(reader.json())
    active = store["manifests"][store["active_manifest"]]
    binding = next(a["data"] for a in active["assertions"] if a["label"] == BINDING_LABEL)
    mallory_ca = CA.make("Mallory CA")
    key, cert = mallory_ca.issue("Ada Lovelace",
                                 serial=int(active["signature_info"]["cert_serial_number"]))
    forged = sign_with(image_bytes("PNG"), _manifest(binding), key, cert, mallory_ca)
    planted = find_jumbf(victim_file, "image/png")
    chunk = struct.pack(">I4s", len(planted), b"caBX") + planted + struct.pack(
        ">I", zlib.crc32(b"caBX" + planted))
    two_stores = forged[:33] + chunk + forged[33:]  # right after IHDR
    report = read_report_bytes(two_stores)
    # c2pa itself refuses a file with two stores; the studio's own certificate extraction
    # refuses too (defence in depth, should an SDK ever pick one of them).
    assert report.state is ProvenanceState.INVALID
    assert report.attestation is None or report.attestation["status"] == UNVERIFIABLE
    from studio.core.provenance.cose import CoseError, signing_chain

    with pytest.raises(CoseError, match="more than one"):
        signing_chain(two_stores, "image/png", store["active_manifest"])


def test_version_1_binding_is_unverifiable_not_matching(paths, identity, account):
    from cryptography import x509

    from studio.core.provenance.attestation import STATEMENT, spki_sha256
    from studio.core.provenance.signing import sign_bytes

    cert = x509.load_pem_x509_certificate(identity.cert_pem.encode())
    data = {  # exactly what version 1 signed: key hash and serial, no issuer
        "types": {"EIP712Domain": [{"name": "name", "type": "string"},
                                   {"name": "version", "type": "string"}],
                  "WalletBinding": [{"name": "statement", "type": "string"},
                                    {"name": "wallet", "type": "address"},
                                    {"name": "spkiSha256", "type": "bytes32"},
                                    {"name": "certSerial", "type": "string"},
                                    {"name": "issuedAt", "type": "uint256"}]},
        "primaryType": "WalletBinding",
        "domain": {"name": "Provenance Studio wallet binding", "version": "1"},
        "message": {"statement": STATEMENT, "wallet": account.address,
                    "spkiSha256": "0x" + spki_sha256(identity.cert_pem),
                    "certSerial": str(cert.serial_number), "issuedAt": 1_700_000_000}}
    binding = {"scheme": "eip712", "typed_data": data, "certificate": identity.cert_pem,
               "signature": "0x" + bytes(account.sign_typed_data(full_message=data)
                                         .signature).hex()}
    report = read_report_bytes(sign_bytes(image_bytes("PNG"), _manifest(binding), identity))
    assert report.attestation["matches"] is False
    assert report.attestation["status"] == "unverifiable"
    assert "older" in report.attestation["reason"]


@pytest.fixture
def identity(paths, account):
    _require_keyring()
    from studio.core.provenance.identity import IdentityManager

    return IdentityManager(paths).ensure("Ada Lovelace", account.address)


# -- 2. time stamps and expired certificates -------------------------------------------------


@pytest.fixture(scope="module")
def tsa():
    server = LocalTSA()
    yield server
    server.close()


def _short_lived(ca: CA, seconds: int = 5):
    # Long enough that signing (and the TSA round trip) lands inside the validity even on a
    # loaded machine; the tests then wait for it to pass.
    return ca.issue("Short-lived", not_after=dt.datetime.now(dt.UTC)
                    + dt.timedelta(seconds=seconds))


def test_expired_cert_with_trusted_time_stamp_is_valid_and_shows_it(tsa, tmp_path, capsys):
    ca = CA.make("Signer CA")
    key, cert = _short_lived(ca)
    before = len(tsa.counter.requests)
    signed = sign_with(image_bytes("PNG"), _manifest(), key, cert, ca, tsa_url=tsa.url)
    assert len(tsa.counter.requests) == before + 1  # the TSA was really asked
    stamped_untrusted = read_report_bytes(signed)
    assert stamped_untrusted.time_stamp["authority"] == "Test Time Stamping"
    time.sleep(max(0.0, (cert.not_valid_after_utc - dt.datetime.now(dt.UTC))
                   .total_seconds()) + 1.5)
    # The user trusts this TSA (the app ships the C2PA TSA Trust List for real ones).
    report = read_report_bytes(signed, pem(tsa.ca.cert))
    assert report.state is ProvenanceState.VALID, report.failures
    assert report.time_stamp["trusted"] is True
    assert report.signed_at_text().startswith("time-stamped by Test Time Stamping at ")
    assert report.failures == []


def test_expired_cert_without_time_stamp_reads_as_expiry_not_tampering(tmp_path, capsys):
    ca = CA.make("Signer CA")
    key, cert = _short_lived(ca)
    signed = sign_with(image_bytes("PNG"), _manifest(), key, cert, ca)
    time.sleep(max(0.0, (cert.not_valid_after_utc - dt.datetime.now(dt.UTC))
                   .total_seconds()) + 1.5)
    report = read_report_bytes(signed)
    assert report.state is ProvenanceState.EXPIRED
    assert "certificate expired" in report.state_text
    assert "do not match" not in report.state_text
    assert report.badge is Badge.AI_GENERATED  # the content claims are intact
    assert report.signed_at_text().startswith("signed at (claimed) ")
    assert "validation_results" in report.manifests[0]
    codes = [s["code"] for s in report.manifests[0]["validation_results"]["failure"]]
    assert "signingCredential.expired" in codes
    path = tmp_path / "expired.png"
    path.write_bytes(signed)
    assert main(["verify", str(path)]) == 5
    out = capsys.readouterr().out
    assert "certificate expired" in out and "Signed:" in out and "(claimed)" in out
    # An expired certificate AND changed content is still plain invalid.
    from tests.provenance.test_sign_verify import _flip_pixel_byte

    assert read_report_bytes(_flip_pixel_byte(signed)).state is ProvenanceState.INVALID


def test_unreachable_tsa_fails_signing_clearly_and_keeps_input():
    from studio.core.provenance.signing import SigningError

    ca = CA.make("Signer CA")
    key, cert = ca.issue("Someone")
    dead = CountingServer()
    url = dead.base + "/tsa"
    dead.close()  # nothing listens there any more
    data = image_bytes("PNG")
    original = bytes(data)
    with pytest.raises(SigningError, match="time-stamp authority"):
        sign_with(data, _manifest(), key, cert, ca, tsa_url=url)
    assert data == original


def test_generation_signer_uses_the_tsa_setting(paths, settings, account, tsa):
    _require_keyring()
    from studio.core.provenance.signing import make_generation_signer

    settings.provenance.tsa_url = tsa.url
    before = len(tsa.counter.requests)
    signed = make_generation_signer(paths, settings, account)(image_bytes("JPEG"), REQUEST, 2)
    assert len(tsa.counter.requests) == before + 1
    report = read_report_bytes(signed, pem(tsa.ca.cert))
    assert report.time_stamp and report.time_stamp["trusted"] is True
    assert report.attestation["matches"] is True


# -- 3/4. remote manifests: never fetched unless asked; inaccessible is not invalid ----------


def _remote_file(tmp_path: Path, url: str) -> tuple[Path, bytes]:
    """A JPEG whose manifest lives at ``url`` (XMP dcterms:provenance), as c2pa writes one."""
    import c2pa

    ca = CA.make("Remote CA")
    key, cert = ca.issue("Remote signer")
    builder = c2pa.Builder(json.dumps(_manifest()))
    builder.set_no_embed()
    builder.set_remote_url(url)
    out = io.BytesIO()
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, (pem(cert) + pem(ca.cert)).encode(),
                               key_pem(key).encode(), None)
    with c2pa.Signer.from_info(info) as signer, builder:
        manifest = builder.sign(signer, "image/jpeg", io.BytesIO(image_bytes("JPEG")), out)
    path = tmp_path / "cloud.jpg"
    path.write_bytes(out.getvalue())
    return path, manifest


def test_remote_manifest_is_not_fetched_by_verify_or_import(tmp_path, capsys, paths):
    server = CountingServer()
    try:
        url = server.base + "/manifests/cloud.c2pa"
        path, server.body = _remote_file(tmp_path, url)
        report = read_report(path)
        assert report.state is ProvenanceState.REMOTE
        assert report.remote_url == url
        assert f"stored remotely at {url}; not fetched" in report.state_text
        assert report.badge is Badge.UNCHECKED
        (status,) = report.validation_results["activeManifest"]["failure"]
        assert status["code"] == "manifest.inaccessible" and status["url"] == url
        assert main(["verify", str(path)]) == 4
        assert "--fetch-remote" in capsys.readouterr().out
        assert main(["import", str(path)]) == 0
        capsys.readouterr()
        assert server.counter.requests == []  # nothing reached the stranger's server
        # Asked explicitly, the reader fetches that URL (and may reach that host only).
        assert main(["verify", "--json", "--fetch-remote", str(path)]) == 0
        fetched = json.loads(capsys.readouterr().out)
        assert fetched["state"] == "valid" and fetched["remote_url"] == url
        assert server.counter.requests == ["/manifests/cloud.c2pa"]
    finally:
        server.close()


def test_unfetchable_remote_manifest_is_inaccessible_not_invalid(tmp_path):
    server = CountingServer()
    url = server.base + "/gone.c2pa"
    path, _ = _remote_file(tmp_path, url)
    server.close()
    report = read_report(path, fetch_remote=True)
    assert report.state is ProvenanceState.INACCESSIBLE
    assert report.state is not ProvenanceState.INVALID
    assert "does not suggest they are invalid" in report.state_text
    codes = [s["code"] for s in report.validation_results["activeManifest"]["failure"]]
    assert codes == ["manifest.inaccessible"]


# -- 5. ingredient failures are the ingredient's, named ---------------------------------------


def test_failing_ingredient_is_named_and_the_file_itself_is_intact(identity):
    from studio.core.provenance.signing import Parent, attest_manifest, sign_bytes
    from tests.provenance.test_sign_verify import _flip_pixel_byte

    broken = _flip_pixel_byte(sign_bytes(image_bytes("PNG"), _manifest(), identity))
    out = sign_bytes(broken, attest_manifest("copy", None, "notAllowed"), identity,
                     Parent(broken, "sunset.png"))
    report = read_report_bytes(out)
    assert report.failures == []  # the active manifest is fine
    assert report.is_valid
    assert len(report.ingredient_failures) == 1
    text = report.ingredient_failures[0]
    assert "'sunset.png'" in text and "changed after it was signed" in text
    assert "own credentials are intact" in text
    assert report.ingredients[0].failures


# -- 6. badges -------------------------------------------------------------------------------


def test_algorithmic_media_is_not_ai(shared_media):
    report = read_report(shared_media / "C.jpg")  # digitalSourceType algorithmicMedia
    assert report.digital_source_type.endswith("/algorithmicMedia")
    assert report.badge is Badge.ALGORITHMIC
    assert "AI" not in str(report.badge).replace("not AI", "")


def test_attested_generated_image_keeps_its_ai_badge(paths, settings, account):
    _require_keyring()
    from studio.core.provenance.attest import attest_bytes
    from studio.core.provenance.signing import make_generation_signer

    generated = make_generation_signer(paths, settings, account)(image_bytes("PNG"), REQUEST, 3)
    attested = read_report_bytes(attest_bytes(generated, "gen.png", paths, settings, account))
    assert attested.digital_source_type is None  # only c2pa.opened in the active manifest
    assert attested.badge is Badge.AI_GENERATED


def test_composite_with_trained_media_reads_edited_with_ai():
    from studio.core.provenance.report import COMPOSITE_TRAINED, ProvenanceReport

    report = ProvenanceReport("x", ProvenanceState.VALID, digital_source_type=COMPOSITE_TRAINED)
    assert str(report.badge) == "Edited with AI"


# -- 7. attest with the wallet key missing from the keyring ---------------------------------


def test_attest_with_wallet_key_missing_is_a_clear_error(paths, account, tmp_path, capsys):
    _require_keyring()
    from studio.core.settings import SettingsStore
    from studio.core.wallet.service import WalletService

    store = SettingsStore(paths.settings_file)
    wallet = WalletService(store)
    wallet.import_private_key(account.key.hex(), "Main")
    wallet.set_active(account.address)
    assert wallet.vault.delete(account.address)  # removed outside the studio
    src = tmp_path / "in.png"
    src.write_bytes(image_bytes("PNG"))
    assert main(["attest", str(src)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert account.address in err and "keyring has no key" in err
    assert not (tmp_path / "in.attested.png").exists()


# -- 8. thumbnails ---------------------------------------------------------------------------


def test_tiny_output_gets_no_thumbnail_and_little_overhead(sign):
    small = image_bytes("PNG", (64, 64))
    signed = sign(small, REQUEST, 1)
    report = read_report_bytes(signed)
    assert report.thumbnail is None
    assert len(signed) - len(small) < 12 * 1024  # was a 256x256 thumbnail: 68 % of the file


def test_small_webp_does_not_balloon(sign):
    from PIL import Image

    buf = io.BytesIO()
    Image.effect_noise((160, 120), 20).convert("RGB").save(buf, "WEBP", quality=60)
    webp = buf.getvalue()
    signed = sign(webp, REQUEST, 1)
    report = read_report_bytes(signed)
    assert report.thumbnail_format == "image/jpeg"
    with Image.open(io.BytesIO(report.thumbnail)) as thumb:
        assert max(thumb.size) == 80  # half the image's long edge
    assert len(signed) - len(webp) < 20 * 1024  # was ~100 KB


@pytest.mark.parametrize("fmt,size", [("JPEG", (1400, 700)), ("PNG", (1600, 1200))])
def test_large_image_thumbnail_is_capped(sign, fmt, size):
    from PIL import Image

    from studio.core.provenance.signing import THUMBNAIL_CAP

    signed = sign(image_bytes(fmt, size), REQUEST, 1)  # the PNG's is made by c2pa itself
    with Image.open(io.BytesIO(read_report_bytes(signed).thumbnail)) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == THUMBNAIL_CAP


def test_highly_compressed_webp_grows_by_a_bounded_thumbnail(sign):
    """The reported case: a few-KB 512x512 WebP must not grow many times over."""
    from PIL import Image, ImageDraw

    from studio.core.provenance.signing import thumbnail_budget

    img = Image.linear_gradient("L").resize((512, 512)).convert("RGB")
    ImageDraw.Draw(img).ellipse((300, 60, 420, 180), fill=(250, 210, 90))
    buf = io.BytesIO()
    img.save(buf, "WEBP", quality=40)
    webp = buf.getvalue()
    assert len(webp) < 8 * 1024
    signed = sign(webp, REQUEST, 1)
    report = read_report_bytes(signed)
    assert len(report.thumbnail) <= thumbnail_budget(len(webp))  # 4 KB for a file this small
    assert len(signed) - len(webp) < 12 * 1024  # manifest + certificates + a bounded thumbnail
