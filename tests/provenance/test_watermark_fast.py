"""The vectorised watermark (studio.core.provenance.bwm_vec + the working-size pipeline in
watermark.py) against blind-watermark itself, the reference implementation: the library
decodes the studio's marks and the studio decodes the library's, both read the same soft bits,
large images are marked at the working size, and marks of the first release (the library at
full size) still decode. Real library, real OpenCV; nothing is mocked. No timings asserted:
bench/watermark.py measures speed."""

from __future__ import annotations

import importlib.util
import io

import numpy as np
import pytest

from studio.core.provenance import bwm_vec
from studio.core.provenance import watermark as wm

pytestmark = pytest.mark.skipif(not wm.available(), reason="OpenCV not installed")

WM_ID = 0x5EED1234


def photo_like(w: int, h: int, seed: int) -> np.ndarray:
    """BGR uint8: a smooth random field with grain, closer to a photograph than noise."""
    import cv2

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    base = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    base += rng.normal(0, 4, base.shape)
    return np.clip(base, 0, 255).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0 ** 2 / mse)


def jpeg(bgr: np.ndarray, quality: int = 75, scale: float = 1.0) -> np.ndarray:
    from PIL import Image

    im = Image.fromarray(bgr[..., ::-1].copy())
    if scale != 1.0:
        im = im.resize((round(im.width * scale), round(im.height * scale)), Image.BICUBIC)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return np.ascontiguousarray(np.asarray(Image.open(buf).convert("RGB"))[..., ::-1])


@pytest.fixture(scope="module")
def library():
    # Not importorskip: importing the package runs its pool module's
    # set_start_method('fork'), which raises once anything set a start method;
    # wm.reference_core imports it with that side effect held off.
    if importlib.util.find_spec("blind_watermark") is None:
        pytest.skip("blind-watermark (the reference implementation) not installed")
    return wm.reference_core


def library_embed(reference_core, bgr: np.ndarray, wm_id: int) -> np.ndarray:
    core = reference_core()
    core.read_img_arr(img=bgr)
    core.read_wm(wm._bits(wm_id, wm.BWM) > 0)
    with np.errstate(all="ignore"):
        return np.clip(np.rint(core.embed()), 0, 255).astype(np.uint8)


def library_bits(reference_core, bgr: np.ndarray) -> np.ndarray:
    return np.asarray(reference_core().extract(img=bgr, wm_shape=wm.PAYLOAD_BITS))


def payload_bits(wm_id: int) -> np.ndarray:
    return wm._bits(wm_id, wm.BWM) > 0


# ---- the same algorithm as the library ---------------------------------------------------


@pytest.mark.parametrize("size", [(256, 256), (301, 257)])  # odd sizes pad like the library
@pytest.mark.parametrize("nearest", [True, False])
def test_the_library_decodes_the_studios_marks(library, size, nearest) -> None:
    img = photo_like(*size, seed=1)
    residual = bwm_vec.embed_residual(img, payload_bits(WM_ID), wm._SEED, wm._D1, wm._D2,
                                      nearest=nearest)
    marked = np.clip(np.rint(img + residual), 0, 255).astype(np.uint8)
    soft = library_bits(library, marked)
    assert np.array_equal(soft > 0.5, payload_bits(WM_ID))
    assert soft[payload_bits(WM_ID)].min() > 0.9 and soft[~payload_bits(WM_ID)].max() < 0.1


def test_the_studio_decodes_the_librarys_marks_reading_the_same_soft_bits(library) -> None:
    img = photo_like(320, 256, seed=2)
    marked = library_embed(library, img, WM_ID)
    found = wm.decode_array(marked)
    assert found is not None and found.wm_id == WM_ID
    ours = bwm_vec.soft_bits(marked, wm.PAYLOAD_BITS, wm._SEED, wm._D1, wm._D2)
    np.testing.assert_allclose(ours, library_bits(library, marked), atol=1e-9)


def test_an_unmarked_image_reads_the_same_soft_bits_as_the_library(library) -> None:
    # No mark: singular values sit anywhere in their steps, so a value within float error of
    # a decision boundary may round the other way in LAPACK than in the vectorised Jacobi.
    img = photo_like(256, 256, seed=3)
    ours = bwm_vec.soft_bits(img, wm.PAYLOAD_BITS, wm._SEED, wm._D1, wm._D2)
    theirs = library_bits(library, img)
    assert np.abs(ours - theirs).max() <= 0.02
    assert np.abs(ours - theirs).mean() <= 0.002


def test_quantising_to_the_nearest_level_costs_less_than_the_librarys_choice() -> None:
    img = photo_like(384, 384, seed=4)
    bits = payload_bits(WM_ID)
    near = bwm_vec.embed_residual(img, bits, wm._SEED, wm._D1, wm._D2, nearest=True)
    same = bwm_vec.embed_residual(img, bits, wm._SEED, wm._D1, wm._D2, nearest=False)
    assert float(np.mean(near ** 2)) < 0.8 * float(np.mean(same ** 2))


# ---- the working size --------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1024, 768), (1023, 769)])
def test_a_large_image_is_marked_at_the_working_size_and_survives_resize_and_jpeg(size) -> None:
    img = photo_like(*size, seed=5)
    marked = wm.embed_array(img, WM_ID)
    assert marked.shape == img.shape and marked.dtype == np.uint8
    assert psnr(img, marked) >= 40
    found = wm.decode_array(marked)
    assert found is not None and found.wm_id == WM_ID
    assert found.size == wm.working_size(*size) == (wm.WORK_EDGE, wm.WORK_EDGE)
    for copy in (jpeg(marked), jpeg(marked, scale=0.75), jpeg(marked, scale=0.5)):
        found = wm.decode_array(copy)
        assert found is not None and found.wm_id == WM_ID, copy.shape


def test_a_wide_image_with_one_short_side_keeps_that_side() -> None:
    img = photo_like(1200, 384, seed=6)
    marked = wm.embed_array(img, WM_ID)
    assert wm.working_size(1200, 384) == (wm.WORK_EDGE, 384)
    for copy in (marked, jpeg(marked, scale=0.75)):
        found = wm.decode_array(copy)
        assert found is not None and found.wm_id == WM_ID


@pytest.mark.parametrize("value", [0, 128, 255])
def test_flat_images_carry_the_mark_too(value) -> None:
    """Flat blocks have no second singular direction; the embedder must invent one."""
    img = np.full((256, 256, 3), value, np.uint8)
    marked = wm.embed_array(img, WM_ID)
    assert marked.dtype == np.uint8 and (marked != img).any()
    # Even black and white, where clipping takes half of every change away, still decode.
    found = wm.decode_array(marked)
    assert found is not None and found.wm_id == WM_ID


def test_a_mark_of_the_first_release_at_full_size_still_decodes(library) -> None:
    """The first release marked every image at its full size with the library; a file from
    then, larger than the working size, is found by the legacy sizes after the new ones."""
    img = photo_like(640, 576, seed=7)
    old = library_embed(library, img, WM_ID)
    assert (640, 576) in wm.legacy_sizes(640, 576)
    found = wm.decode_array(old)
    assert found is not None and found.wm_id == WM_ID and found.size == (640, 576)


def test_the_decode_sizes_try_the_working_sizes_before_the_legacy_ones() -> None:
    sizes = wm.candidate_sizes(768, 768)  # a 1024 output downscaled to 75 %
    assert sizes[0] == (wm.WORK_EDGE, wm.WORK_EDGE)
    assert all(max(s) <= wm.WORK_EDGE for s in sizes[:1])
    legacy = [s for s in sizes if max(s) > wm.WORK_EDGE]
    assert legacy and sizes.index(legacy[0]) > 0 and (1024, 1024) in legacy
    assert wm.candidate_sizes(384, 384)[:2] == [(384, 384), (512, 512)]
