"""Edits with the real tiny pipeline, real c2pa and the real keyring: inpaint keeps every
unmasked pixel, outpaint keeps the source region, upscale (spandrel ESRGAN made here, and
Lanczos) gives the asked size, reuse reproduces pixels, and every step is signed with its
parent, its actions and its mask."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from studio.core.generation.edit import store_mask
from studio.core.generation.engine import GenerationEngine, JobState
from studio.core.generation.errors import ModelError, RequestError
from studio.core.generation.reuse import request_from_credentials, reuse_request
from studio.core.generation.upscale import UpscalerRegistry, upscale_asset
from studio.core.library import Library
from studio.core.provenance.reader import read_report
from studio.core.provenance.report import COMPOSITE_TRAINED, ENHANCED, TRAINED, ProvenanceState
from tests.generation.conftest import make_request


class Studio:
    """One library, signer and engine shared by this module's tests (pipeline loads once)."""

    def __init__(self, home: Path, tiny_model: Path) -> None:
        from studio.core.paths import resolve_paths
        from studio.core.provenance.studio_signer import studio_signer
        from studio.core.settings import Settings

        self.paths = resolve_paths({"STUDIO_HOME": str(home)}).ensure()
        self.library = Library.open(self.paths)
        self.signer = studio_signer(self.paths, Settings(), self.library)
        self.engine = GenerationEngine(self.library, sign=self.signer)
        self.entry = self.engine.registry.add(tiny_model)
        self.source = self.run(make_request(self.entry, steps=2, seed=77))

    def run(self, req):
        job = self.engine.wait(self.engine.enqueue(req), 120)
        assert job.state is JobState.DONE, job.error
        return job.assets[0]

    def pixels(self, asset) -> np.ndarray:
        with Image.open(self.library.path_of(asset)) as img:
            return np.asarray(img.convert("RGB"))

    def report(self, asset):
        report = read_report(self.library.path_of(asset))
        assert report.state is ProvenanceState.VALID, report.failures
        return report

    def edit(self, source, **kw):
        kw = {"steps": 2, "seed": 5, **kw}
        return make_request(self.entry, init_asset_id=source.id, init_sha256=source.sha256,
                            **kw)


@pytest.fixture(scope="module")
def studio(tmp_path_factory, tiny_model):
    import keyring

    from studio.core.wallet.vault import backend_problem

    problem = backend_problem(keyring.get_keyring())
    if problem:
        pytest.skip(f"no usable OS keyring ({problem}); run through scripts/with-keyring.sh")
    s = Studio(tmp_path_factory.mktemp("edits-home"), tiny_model)
    yield s
    s.engine.shutdown()
    s.library.close()


def _mask(size=(64, 64), feather: float = 0.0) -> Image.Image:
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).ellipse((14, 10, 46, 40), fill=255)
    return mask.filter(ImageFilter.GaussianBlur(feather)) if feather else mask


def test_inpaint_keeps_every_unmasked_pixel_and_records_parent_and_mask(studio) -> None:
    mask = _mask(feather=2.0)  # a feathered brush: the soft edge blends, zero stays the source
    req = studio.edit(studio.source, mask_sha256=store_mask(studio.library, mask),
                      strength=0.9)
    assert req.mode == "inpaint"
    out = studio.run(req)
    before, after = studio.pixels(studio.source), studio.pixels(out)
    assert after.shape == before.shape
    keep = np.asarray(mask) == 0
    assert np.array_equal(after[keep], before[keep])
    assert (after[~keep] != before[~keep]).any(axis=-1).mean() > 0.5

    report = studio.report(out)
    assert [a["action"] for a in report.actions] == ["c2pa.opened", "c2pa.edited"]
    edited = report.actions[1]
    assert edited["digitalSourceType"] == COMPOSITE_TRAINED
    assert report.digital_source_type == COMPOSITE_TRAINED
    # The checkpoint is an input too (pinned by its sha256); the rest are the edit's own.
    assert [i.sha256 for i in report.ingredients if i.sha256] == [req.model_sha256]
    rel = {i.relationship: i for i in report.ingredients if not i.sha256}
    assert set(rel) == {"parentOf", "inputTo"}
    assert rel["parentOf"].digital_source_type == TRAINED  # the first generation's manifest
    assert rel["parentOf"].manifest_label == studio.report(studio.source).manifest_label
    assert "mask" in rel["inputTo"].title
    assert report.generation["request"]["mask_sha256"] == req.mask_sha256


def test_outpaint_extends_the_canvas_and_keeps_the_source_region(studio) -> None:
    req = studio.edit(studio.source, outpaint_left=8, outpaint_top=16, outpaint_right=24,
                      width=96, height=80, strength=1.0)
    assert req.mode == "outpaint"
    out = studio.run(req)
    after = studio.pixels(out)
    assert after.shape == (64 + 16, 64 + 8 + 24, 3) and (out.width, out.height) == (96, 80)
    assert np.array_equal(after[16:80, 8:72], studio.pixels(studio.source))
    assert after[:16].std() > 0  # the new band was filled, not left flat
    report = studio.report(out)
    assert report.actions[-1]["action"] == "c2pa.edited"
    assert report.actions[-1]["digitalSourceType"] == COMPOSITE_TRAINED
    assert sorted(i.relationship for i in report.ingredients if not i.sha256) == [
        "inputTo", "parentOf"]


def test_edit_errors_are_clear(studio) -> None:
    with pytest.raises(RequestError, match="either inpaints a mask or outpaints"):
        studio.edit(studio.source, mask_sha256="a" * 64, outpaint_left=8).validate()
    with pytest.raises(RequestError, match="need a source image"):
        make_request(studio.entry, outpaint_right=8).validate()
    empty = store_mask(studio.library, Image.new("L", (64, 64), 0))
    job = studio.engine.wait(studio.engine.enqueue(studio.edit(studio.source,
                                                               mask_sha256=empty)), 120)
    assert job.state is JobState.FAILED and "mask is empty" in job.error
    missing = studio.engine.wait(studio.engine.enqueue(
        studio.edit(studio.source, mask_sha256="b" * 64)), 120)
    assert missing.state is JobState.FAILED and "not in the library" in missing.error


def _tiny_esrgan(path: Path, scale: int) -> Path:
    """A tiny ESRGAN (RRDB) state dict, random weights: spandrel detects it from its keys."""
    import torch
    from safetensors.torch import save_file

    from studio.core.generation.upscale import import_spandrel

    import_spandrel()
    from spandrel.architectures.ESRGAN import ESRGAN

    torch.manual_seed(scale)
    net = ESRGAN(in_nc=3, out_nc=3, num_filters=8, num_blocks=1, scale=scale)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    return path


def test_upscale_sizes_with_a_spandrel_model_and_lanczos(studio, tmp_path) -> None:
    reg = UpscalerRegistry(studio.library)
    x4 = reg.add(_tiny_esrgan(tmp_path / "tiny-x4.safetensors", 4))
    x2 = reg.add(_tiny_esrgan(tmp_path / "tiny-x2.safetensors", 2))
    assert (x4.architecture, x4.scale, x2.scale) == ("ESRGAN", 4, 2)
    assert reg.add(tmp_path / "tiny-x4.safetensors") == x4  # registering twice: same entry
    tiles: list[tuple[int, int]] = []
    big = upscale_asset(studio.library, studio.source, 4, model=x4, tile=32,
                        sign=studio.signer.upscale, progress=lambda d, t: tiles.append((d, t)))
    assert (big.asset.width, big.asset.height) == (256, 256) and tiles[-1] == (4, 4)
    assert studio.pixels(big.asset).shape == (256, 256, 3)
    half = upscale_asset(studio.library, studio.source, 2, model=x4, tile=48,
                         sign=studio.signer.upscale)  # a 4x model asked for 2x
    assert (half.asset.width, half.asset.height) == (128, 128)
    two = upscale_asset(studio.library, studio.source, 2, model=x2, sign=studio.signer.upscale)
    assert studio.pixels(two.asset).shape == (128, 128, 3)
    plain = upscale_asset(studio.library, studio.source, 4, sign=studio.signer.upscale)
    assert (plain.asset.width, plain.asset.height) == (256, 256)
    assert plain.info["method"] == "lanczos"

    report = studio.report(big.asset)
    # 256x256 is large enough to carry the durable-credentials watermark (issue 20).
    assert [a["action"] for a in report.actions] == ["c2pa.opened", "c2pa.resized",
                                                      "c2pa.watermarked.bound"]
    resized = report.actions[1]
    assert resized["parameters"]["model_sha256"] == x4.sha256
    assert resized["digitalSourceType"] == ENHANCED
    assert [i.relationship for i in report.ingredients] == ["parentOf"]
    lanczos_report = studio.report(plain.asset)
    assert lanczos_report.actions[1]["parameters"]["method"] == "lanczos"
    assert "digitalSourceType" not in lanczos_report.actions[1]


def test_upscaler_errors_are_clear(studio, tiny_single_file, tmp_path) -> None:
    reg = UpscalerRegistry(studio.library)
    before = reg.list()
    with pytest.raises(ModelError, match="not an upscaler"):
        reg.add(tiny_single_file)  # a Stable Diffusion checkpoint, not an upscaler
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    with pytest.raises(ModelError):
        reg.add(junk)
    with pytest.raises(ModelError, match=r"\.safetensors or \.pth"):
        reg.add(tmp_path / "model.ckpt")
    from studio.core.generation.errors import GenerationError

    with pytest.raises(GenerationError, match="one of"):
        upscale_asset(studio.library, studio.source, 3)
    assert reg.list() == before  # nothing half-registered by the failures


def test_three_step_chain_and_reuse_reproduces_pixels(studio, tmp_path) -> None:
    inpainted = studio.run(studio.edit(studio.source, mask_sha256=store_mask(
        studio.library, _mask()), seed=11))
    outpainted = studio.run(studio.edit(inpainted, outpaint_right=16, width=80, height=64))
    final = upscale_asset(studio.library, outpainted, 2, sign=studio.signer.upscale).asset
    chain, node = [], studio.report(final).ingredients
    while node:
        parent = next((i for i in node if i.relationship == "parentOf"), None)
        if parent is None:  # the first generation: its only ingredient is the model it used
            assert [i.relationship for i in node] == ["inputTo"] and node[0].sha256
            break
        chain.append(parent.digital_source_type.rsplit("/", 1)[-1])
        node = parent.children
    assert chain == ["compositeWithTrainedAlgorithmicMedia",
                     "compositeWithTrainedAlgorithmicMedia", "trainedAlgorithmicMedia"]

    # Reuse from a copy of the file outside the library: same request, same pixels.
    copy = tmp_path / "shared.png"
    shutil.copyfile(studio.library.path_of(inpainted), copy)
    again = studio.run(reuse_request(studio.library, str(copy)))
    assert np.array_equal(studio.pixels(again), studio.pixels(inpainted))
    assert reuse_request(studio.library, str(inpainted.id)).mask_sha256 is not None

    with pytest.raises(RequestError, match="upscaled copy"):
        reuse_request(studio.library, str(final.id))
    data = bytearray(copy.read_bytes())
    data[-200] ^= 0xFF  # tamper with the image data after signing
    with pytest.raises(RequestError):
        request_from_credentials(bytes(data), "tampered.png")
    plain = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(plain)
    with pytest.raises(RequestError, match="no content credentials"):
        reuse_request(studio.library, str(plain))
