"""Files the studio signs, checked by a second C2PA reader and by exiftool.

The independent reader is ``@contentauth/c2pa-wasm`` (c2pa-rs compiled to WebAssembly, run by
Node through ``WasmReader.fromBytes``), installed by ``scripts/bootstrap.sh`` from
``tests/provenance/node/package-lock.json``. Every output format must validate there with the
same C2PA status codes c2pa-python reports. exiftool (Debian ``libimage-exiftool-perl``, from
``scripts/system-deps.sh``) must read a PNG output's A1111 ``parameters`` and its C2PA data.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from studio.core.provenance.reader import read_report_bytes
from tests.provenance.conftest import REQUEST, image_bytes

NODE_DIR = Path(__file__).parent / "node"
PACKAGE = NODE_DIR / "node_modules" / "@contentauth" / "c2pa-wasm"


@pytest.fixture(scope="module")
def wasm_reader() -> Path:
    if shutil.which("node") is None:
        pytest.skip("node is not installed (scripts/system-deps.sh installs it)")
    if not PACKAGE.is_dir():  # a checkout that skipped bootstrap: install from the lock
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                              cwd=NODE_DIR, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.fail("@contentauth/c2pa-wasm is not installed and `npm ci` failed in "
                        f"{NODE_DIR} (run scripts/bootstrap.sh): {done.stderr[-400:]}")
    return NODE_DIR / "verify.mjs"


def _wasm(script: Path, path: Path, mime: str, anchors: Path | None = None) -> dict:
    args = ["node", str(script), str(path), mime] + ([str(anchors)] if anchors else [])
    out = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=NODE_DIR)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _python_codes(report) -> dict[str, Counter]:
    (manifest,) = [m for m in report.manifests if m["label"] == report.manifest_label]
    results = manifest["validation_results"]
    return {k: Counter(s["code"] for s in results.get(k) or [])
            for k in ("success", "informational", "failure")}


def _wasm_codes(result: dict) -> dict[str, Counter]:
    return {k: Counter(v) for k, v in result["codes"].items()}


@pytest.mark.parametrize("fmt,mime", [("PNG", "image/png"), ("JPEG", "image/jpeg"),
                                      ("WEBP", "image/webp")])
def test_c2pa_wasm_agrees_on_every_output_format(sign, wasm_reader, tmp_path, paths, fmt,
                                                 mime):
    from studio.core.provenance.identity import IdentityManager

    path = tmp_path / f"out.{fmt.lower()}"
    path.write_bytes(sign(image_bytes(fmt, (320, 200)), REQUEST, 3))
    ours = read_report_bytes(path.read_bytes())
    theirs = _wasm(wasm_reader, path, mime)
    assert theirs["state"] == "Valid" == ours.validation_state, theirs
    assert theirs["active_manifest"] == ours.manifest_label
    assert theirs["signer"] == "Ada Lovelace"
    assert _wasm_codes(theirs) == _python_codes(ours)
    assert "claimSignature.validated" in theirs["codes"]["success"]
    # With the studio root as an anchor both readers say Trusted.
    root = tmp_path / "root.pem"
    IdentityManager(paths).export_root(root)
    from studio.core.provenance.trust import load_anchor_files

    trusted = read_report_bytes(path.read_bytes(), load_anchor_files([root]))
    theirs = _wasm(wasm_reader, path, mime, root)
    assert theirs["state"] == "Trusted" == trusted.validation_state
    assert _wasm_codes(theirs) == _python_codes(trusted)


def test_c2pa_wasm_agrees_on_a_tampered_file(sign, wasm_reader, tmp_path):
    from tests.provenance.test_sign_verify import _flip_pixel_byte

    path = tmp_path / "bad.png"
    path.write_bytes(_flip_pixel_byte(sign(image_bytes("PNG"), REQUEST, 3)))
    ours = read_report_bytes(path.read_bytes())
    theirs = _wasm(wasm_reader, path, "image/png")
    assert theirs["state"] == "Invalid" == ours.validation_state
    assert "assertion.dataHash.mismatch" in theirs["codes"]["failure"]
    assert _wasm_codes(theirs) == _python_codes(ours)


def test_exiftool_reads_parameters_and_c2pa_of_a_png_output(tmp_path, paths, settings,
                                                            account):
    if shutil.which("exiftool") is None:
        pytest.fail("exiftool is missing: scripts/system-deps.sh installs "
                    "libimage-exiftool-perl")
    from tests.provenance.conftest import _require_keyring

    _require_keyring()
    from PIL import Image

    from studio.core.generation.output import png_bytes
    from studio.core.generation.request import GenerationRequest
    from studio.core.provenance.signing import make_generation_signer

    # The output step's own PNG (A1111 parameters chunk), then the generation signer.
    request = GenerationRequest(model_id="tiny", model_sha256="ab" * 32,
                                prompt="a lighthouse at dusk", steps=4, seed=3)
    png = png_bytes(Image.effect_noise((96, 64), 40).convert("RGB"), request)
    path = tmp_path / "out.png"
    path.write_bytes(make_generation_signer(paths, settings, account)(png, request, 3))
    out = subprocess.run(["exiftool", "-j", "-G1", "-a", "-u", str(path)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    (tags,) = json.loads(out.stdout)
    assert tags.get("PNG:Parameters", "").startswith("a lighthouse at dusk")
    assert tags["PNG:Parameters"].splitlines()[1].startswith("Steps: 4")
    # The C2PA manifest store (JUMBF) and its CBOR assertions and claim.
    assert tags["JUMBF:JUMDLabel"] == "c2pa"
    assert tags["CBOR:ActionsAction"] == "c2pa.created"
    assert tags["CBOR:ActionsDigitalSourceType"].endswith("/trainedAlgorithmicMedia")
    assert tags["CBOR:Claim_Generator_InfoName"] == "Provenance Studio"
    assert str(tags["CBOR:Claim_Generator_InfoSpecVersion"]) == "2.2"


def test_c2pa_wasm_agrees_on_a_time_stamped_file(wasm_reader, tmp_path):
    from tests.provenance.pki import CA, LocalTSA, pem, sign_with
    from tests.provenance.test_trust_defects import _manifest

    tsa = LocalTSA()
    try:
        ca = CA.make("Signer CA")
        key, cert = ca.issue("Stamped signer")
        path = tmp_path / "stamped.jpg"
        path.write_bytes(sign_with(image_bytes("JPEG"), _manifest(), key, cert, ca,
                                   tsa_url=tsa.url))
    finally:
        tsa.close()
    anchors = tmp_path / "anchors.pem"
    anchors.write_text(pem(ca.cert) + pem(tsa.ca.cert))
    ours = read_report_bytes(path.read_bytes(), anchors.read_text())
    theirs = _wasm(wasm_reader, path, "image/jpeg", anchors)
    assert theirs["state"] == "Trusted" == ours.validation_state
    assert "timeStamp.validated" in theirs["codes"]["success"]
    assert ours.time_stamp["trusted"] is True
    # Known divergence (c2pa-wasm 0.15.0 vs c2pa-python 0.38.1): with the TSA root among the
    # user anchors the native reader reports timeStamp.trusted, the wasm one
    # timeStamp.untrusted (informational; it changes no verdict here). Every other code agrees.
    tsa_trust = {"timeStamp.trusted", "timeStamp.untrusted"}

    def without(codes: dict[str, Counter]) -> dict[str, Counter]:
        return {k: Counter({c: n for c, n in v.items() if c not in tsa_trust})
                for k, v in codes.items()}

    assert without(_wasm_codes(theirs)) == without(_python_codes(ours))
