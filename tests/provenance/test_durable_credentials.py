"""Durable credentials (issue 20): every signed output carries an invisible watermark declared
as a c2pa.soft-binding assertion, and a copy stripped of its metadata is led back to its
original by ``studio verify``. Real blind-watermark, real c2pa, the real keyring, the tiny real
diffusers pipeline; nothing is mocked."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys

import pytest

from studio.cli import main
from studio.core.provenance import watermark as wm
from studio.core.provenance.soft_binding import (
    SOFT_BINDING_LABEL,
    WATERMARKED_ACTION,
    sha256_for_id,
    soft_bindings_of,
)
from tests.provenance.conftest import _require_keyring

pytestmark = pytest.mark.skipif(not wm.available(), reason="blind-watermark not installed")


def photo_like(size: int, seed: int) -> bytes:
    """A smooth random field with a little grain: closer to a photograph than pure noise."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8))
    base = np.asarray(small.resize((size, size), Image.BICUBIC), dtype=np.float32)
    base += rng.normal(0, 4, base.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def reencode(data: bytes, *, quality: int = 75, scale: float = 1.0) -> bytes:
    """What a social site does: decode, maybe downscale, JPEG, no metadata kept."""
    from PIL import Image

    im = Image.open(io.BytesIO(data)).convert("RGB")
    if scale != 1.0:
        im = im.resize((round(im.width * scale), round(im.height * scale)), Image.BICUBIC)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)  # no exif=, icc_profile=: nothing carried over
    return buf.getvalue()


# ---- the watermark itself ----------------------------------------------------------------


def test_payload_crc_rejects_every_single_bit_flip() -> None:
    payload = wm.payload_for(0x1234ABCD)
    assert wm.parse_payload(payload) == 0x1234ABCD
    for bit in range(wm.PAYLOAD_BITS):
        flipped = bytearray(payload)
        flipped[bit // 8] ^= 0x80 >> (bit % 8)
        assert wm.parse_payload(bytes(flipped)) is None, bit
    with pytest.raises(ValueError):
        wm.payload_for(0)


def test_watermark_survives_jpeg_q75_and_a_75_percent_resize() -> None:
    marked = wm.embed_bytes(photo_like(512, 1), 0xC0FFEE01)
    for copy in (reencode(marked), reencode(marked, scale=0.75)):
        found = wm.decode_bytes(copy)
        assert found is not None and found.wm_id == 0xC0FFEE01
    assert wm.decode_bytes(reencode(marked, scale=0.75)).size == (512, 512)


def test_images_that_were_never_marked_decode_to_nothing() -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    images = [photo_like(256, s) for s in range(4)]
    for kind in ("noise", "gradient", "flat"):
        if kind == "noise":
            arr = rng.integers(0, 256, (256, 320, 3), dtype=np.uint8)
        elif kind == "gradient":
            arr = np.repeat(np.linspace(0, 255, 320, dtype=np.uint8)[None, :, None], 256, 0)
            arr = np.repeat(arr, 3, 2)
        else:
            arr = np.full((256, 320, 3), 128, np.uint8)
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, "PNG")
        images.append(buf.getvalue())
    assert [wm.decode_bytes(d) for d in images] == [None] * len(images)
    assert wm.decode_bytes(b"not an image at all") is None


@pytest.mark.parametrize("preset", ["spawn", None])
def test_loading_the_library_leaves_the_multiprocessing_start_method_alone(preset) -> None:
    # blind-watermark sets the start method to 'fork' when imported; we undo that.
    code = ("import multiprocessing as mp\n"
            f"preset = {preset!r}\n"
            "if preset: mp.set_start_method(preset)\n"
            "from studio.core.provenance import watermark as wm\n"
            "wm.reference_core()\n"
            "print(mp.get_start_method(allow_none=True))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == str(preset)


# ---- generated outputs, signing and recovery ----------------------------------------------


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from studio.core.generation.demo import build_demo_pipeline

    folder = tmp_path_factory.mktemp("tiny") / "tiny-sd"
    build_demo_pipeline(folder)
    return folder


def generate(paths, model, size: int = 256):
    """One image through the engine with the signer the CLI and the GUI use."""
    from studio.core.generation.engine import GenerationEngine
    from studio.core.generation.request import GenerationRequest
    from studio.core.library import Library
    from studio.core.provenance.studio_signer import studio_signer
    from studio.core.settings import SettingsStore

    _require_keyring()
    settings = SettingsStore(paths.settings_file).load().settings
    with Library.open(paths) as library:
        engine = GenerationEngine(library, sign=studio_signer(paths, settings, library))
        try:
            entry = engine.registry.add(model)
            req = GenerationRequest(model_id=entry.id, model_sha256=entry.sha256,
                                    model_name=entry.name, family=str(entry.family),
                                    prompt="a lighthouse at dusk", steps=2, width=size,
                                    height=size, seed=11, guidance=5.0, scheduler="Euler")
            job = engine.wait(engine.enqueue(req), 300)
            assert job.assets, job.error
            asset = job.assets[0]
            return asset, library.path_of(asset)
        finally:
            engine.shutdown()


def verify_json(capsys, path) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["verify", str(path), "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_generated_output_is_marked_declared_and_recoverable_once_stripped(
        paths, tiny_model, tmp_path, capsys) -> None:
    from studio.core.provenance.reader import read_report

    asset, path = generate(paths, tiny_model)
    data = path.read_bytes()
    report = read_report(path)
    assert report.is_valid, report.failures
    assert WATERMARKED_ACTION in [a.get("action") for a in report.actions]

    # The soft binding declares exactly the payload the pixels carry.
    [binding] = soft_bindings_of(data)
    assert binding["alg"] == wm.ALG_NAMES[wm.BWM]
    payload = base64.b64decode(binding["blocks"][0]["value"])
    found = wm.decode_bytes(data)
    assert found is not None and found.payload == payload
    assert sha256_for_id(paths, found.wm_id) == asset.sha256  # the library knows the id

    # A copy re-encoded as JPEG q75 with every metadata box gone.
    stripped = tmp_path / "from-a-social-site.jpg"
    stripped.write_bytes(reencode(data))
    assert b"c2pa" not in stripped.read_bytes()
    code, out = verify_json(capsys, stripped)
    assert code == 2 and out["state"] == "none"  # the copy itself has no credentials
    rec = out["recovery"]
    assert rec["found"] and rec["asset_id"] == asset.id
    assert rec["watermark"]["id"] == found.wm_id
    assert rec["original_sha256"] == asset.sha256
    assert rec["signer"] == report.signer and rec["original"]["state"] == "valid"
    assert rec["difference"]["mean_abs"] > 0 and rec["difference"]["resized_from"] is None

    capsys.readouterr()
    assert main(["verify", str(stripped)]) == 2
    text = capsys.readouterr().out
    assert "No credentials in this file; its watermark leads to a lighthouse at dusk" in text
    assert f"signed by {report.signer}" in text and "(re-encoded)" in text


def test_a_file_that_never_came_from_the_studio_reports_no_watermark(
        paths, tmp_path, capsys) -> None:
    foreign = tmp_path / "camera.jpg"
    foreign.write_bytes(reencode(photo_like(512, 3), quality=90))
    code, out = verify_json(capsys, foreign)
    assert code == 2 and out["recovery"]["watermark"] is None
    assert not out["recovery"]["found"] and out["recovery"]["asset_id"] is None


def test_another_librarys_watermark_is_not_taken_for_one_of_ours(
        paths, tmp_path, capsys) -> None:
    elsewhere = tmp_path / "elsewhere.png"
    elsewhere.write_bytes(wm.embed_bytes(photo_like(384, 4), 0x0BADF00D))
    code, out = verify_json(capsys, elsewhere)
    assert code == 2
    rec = out["recovery"]
    assert rec["watermark"]["id"] == 0x0BADF00D and not rec["found"]
    assert "did not issue" in rec["reason"]


def test_turning_the_setting_off_signs_without_a_watermark(paths, tiny_model) -> None:
    from studio.core.settings import SettingsStore

    store = SettingsStore(paths.settings_file)
    settings = store.load().settings
    settings.provenance.watermark = False
    store.save(settings)
    _, path = generate(paths, tiny_model)
    data = path.read_bytes()
    assert soft_bindings_of(data) == []
    assert wm.decode_bytes(data) is None


def test_an_attested_copy_is_marked_too(paths, settings) -> None:
    from studio.core.library import Library
    from studio.core.library.models import AssetOrigin
    from studio.core.provenance.attest import attest_asset

    _require_keyring()
    with Library.open(paths) as lib:
        original, _ = lib.add_bytes(photo_like(320, 5), suffix=".png",
                                    origin=AssetOrigin.IMPORTED, media_type="image/png",
                                    original_name="holiday.png")
        copy = attest_asset(paths, settings, lib, original, account=None)
        data = lib.path_of(copy).read_bytes()
    [binding] = soft_bindings_of(data)
    found = wm.decode_bytes(data)
    assert found is not None and sha256_for_id(paths, found.wm_id) == copy.sha256
    assert base64.b64decode(binding["blocks"][0]["value"]) == found.payload


def test_an_edit_mask_keeps_the_watermark_off_the_pixels_the_edit_left_alone(tmp_path) -> None:
    """Inpaint/outpaint promise every unmasked pixel exactly as the source had it; the mark
    must not break that promise at sizes where it is applied (issue 16 x issue 20)."""
    import numpy as np
    from PIL import Image, ImageDraw

    from studio.core.paths import StudioPaths
    from studio.core.provenance.soft_binding import Marker

    paths = StudioPaths(*(tmp_path / d for d in "cdkl")).ensure()
    data = photo_like(256, 3)
    mask = Image.new("L", (256, 256), 0)
    ImageDraw.Draw(mask).ellipse((40, 40, 200, 200), fill=255)
    buf = io.BytesIO()
    mask.save(buf, "PNG")

    marked = Marker(paths, wm.default_algorithm()).apply(data, {"assertions": []},
                                                         keep=buf.getvalue())
    assert marked.wm_id is not None
    before = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    after = np.asarray(Image.open(io.BytesIO(marked.data)).convert("RGB"))
    untouched = np.asarray(mask) == 0
    assert np.array_equal(after[untouched], before[untouched])
    assert (after[~untouched] != before[~untouched]).any()  # the painted area is marked
    assert [a["label"] for a in marked.manifest["assertions"]] == [SOFT_BINDING_LABEL]
