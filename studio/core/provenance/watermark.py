"""Invisible watermarks carrying a studio id: blind-watermark's DWT-DCT-SVD, vectorised.

The algorithm was chosen by measurement (bench/watermark.py, docs/benchmarks.md):
``blind-watermark``'s DWT-DCT-SVD embedding survives JPEG q75 and resizing at > 40 dB PSNR.
invisible-watermark's RivaGAN decoded only 40-90 % of the bits of some unmodified photographs
and its DWT-DCT lost JPEG q75, so neither is used. The library itself works block by block in
Python (~1 s per 1024² image), so the studio runs the same algorithm vectorised
(:mod:`bwm_vec`) at a working size of at most 512² and keeps the library as the reference its
tests decode against (tests/provenance/test_watermark_fast.py).

The payload is 64 bits: a 32-bit id and a CRC-32 over an algorithm tag and the id. A random
image (or one marked by someone else) yields a valid id with probability 2^-32 per try; with
the 8 low-confidence bit flips and the up to ~8 candidate sizes a decode tries, about 1 in
10^7 images. Nothing here imports torch or Qt; numpy and OpenCV load on first use.
"""

from __future__ import annotations

import binascii
import importlib.util
import io
import logging
import threading
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

BWM = "bwm"  # blind-watermark, DWT-DCT-SVD
ALGORITHMS = (BWM,)
# The soft binding's "alg" (reverse-domain, as entries of the C2PA algorithm list are named).
# Still v1 although larger images are now marked at a working size (the first release marked
# them at full size): both are the same at or below WORK_EDGE, decode_array reads both, and
# files already signed declare v1 (chain/durable.py knows our bindings by these names).
ALG_NAMES = {BWM: "org.provenance-studio.bwm-dwtdctsvd.v1"}
_TAG = {BWM: b"PSbw"}  # mixed into the CRC so another scheme's bits do not validate here
PAYLOAD_BITS = 64
MAX_ID = 0xFFFFFFFF
MIN_EDGE = 128  # below this the 64 bits repeat too few times to survive re-encoding
# Decoding cost grows with the pixels: a copy is decoded as it is up to 4096 px (a 4x upscale
# of a 1024 output), and scaled back only to sizes the studio renders (up to 2048 px).
MAX_DECODE_EDGE = 4096
MAX_UPSCALED_EDGE = 2048
# Strength of the embedding (the library's d1/d2 quantisation steps). 24/12 recovers every
# test image after JPEG q75 and a 75 % resize at > 40 dB PSNR (docs/benchmarks.md); the
# library's defaults 36/20 cost ~4 dB more. Changing them would orphan every mark made so far.
_D1, _D2 = 24, 12
_SEED = 0x50533230  # block permutation seed ("PS20"); a layout, not a secret
WORK_EDGE = 512  # the largest working copy (see "the algorithm" below)


class WatermarkError(Exception):
    """The watermark could not be embedded; the message is meant for the user."""


@dataclass(frozen=True)
class Detection:
    algorithm: str
    wm_id: int
    payload: bytes  # the 8 bytes decoded (id + CRC), as recorded in the soft binding
    size: tuple[int, int]  # (width, height) the image was decoded at


# ---- payload: 32-bit id + CRC-32 --------------------------------------------------------


def payload_for(wm_id: int, algorithm: str = BWM) -> bytes:
    if not 1 <= wm_id <= MAX_ID:
        raise ValueError(f"watermark id {wm_id} is outside 1..{MAX_ID}")
    body = wm_id.to_bytes(4, "big")
    return body + binascii.crc32(_TAG[algorithm] + body).to_bytes(4, "big")


def parse_payload(payload: bytes, algorithm: str = BWM) -> int | None:
    """The id in a decoded payload, or None when its CRC does not match (no watermark)."""
    if len(payload) != PAYLOAD_BITS // 8:
        return None
    wm_id = int.from_bytes(payload[:4], "big")
    if wm_id == 0 or payload_for(wm_id, algorithm) != payload:
        return None
    return wm_id


# ---- the algorithm ----------------------------------------------------------------------
#
# blind-watermark's DWT-DCT-SVD, vectorised (bwm_vec), at a working resolution: an image
# larger than WORK_EDGE on a side is marked on a copy scaled down to at most WORK_EDGE x
# WORK_EDGE (the aspect is not kept, so a resized copy maps back to the same grid), and the
# mark's residual (marked - unmarked) is scaled up and added to the full image, as TrustMark
# does. Embedding then costs the same at any size, and a downscaled copy decodes without
# guessing its original size. At or below WORK_EDGE the image is its own working copy, so
# the marks are blind-watermark's own and the library decodes them (and vice versa).

_import_lock = threading.Lock()
_core_cls: Any = None


def reference_core():
    """blind-watermark's WaterMarkCore set up as the studio marks (the reference the vectorised
    code is tested against), imported without its side effect on multiprocessing.

    Its ``pool`` module calls ``multiprocessing.set_start_method('fork')`` at import, which
    raises once a start method is set and would pin one for the whole process otherwise
    (Ray and the engine choose their own). The default context's choice is restored after.
    """
    global _core_cls
    with _import_lock:
        if _core_cls is None:
            import multiprocessing.context as mpc

            default = mpc._default_context
            saved = default._actual_context
            default._actual_context = None
            try:
                from blind_watermark.bwm_core import WaterMarkCore
            finally:
                default._actual_context = saved
            _core_cls = WaterMarkCore
    core = _core_cls(password_img=_SEED, mode="common")
    core.d1, core.d2 = _D1, _D2
    return core


def available() -> list[str]:
    """The algorithms this install can run, best first."""
    return [BWM] if importlib.util.find_spec("cv2") else []


def default_algorithm() -> str | None:
    algs = available()
    return algs[0] if algs else None


def working_size(w: int, h: int) -> tuple[int, int]:
    """The (width, height) an image of w x h is marked and decoded at."""
    return min(w, WORK_EDGE), min(h, WORK_EDGE)


def _resized(img, size: tuple[int, int]):
    import cv2

    if img.shape[1::-1] == size:
        return img
    shrink = size[0] * size[1] < img.shape[0] * img.shape[1]
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


# ---- arrays (H x W x 3 uint8, BGR as OpenCV orders them) --------------------------------


def _bits(wm_id: int, algorithm: str):
    import numpy as np

    return np.unpackbits(np.frombuffer(payload_for(wm_id, algorithm), dtype=np.uint8))


def embed_array(bgr, wm_id: int, algorithm: str = BWM):
    """A copy of ``bgr`` carrying ``wm_id``."""
    import cv2
    import numpy as np

    from studio.core.provenance import bwm_vec

    h, w = bgr.shape[:2]
    if min(h, w) < MIN_EDGE:
        raise WatermarkError(f"the image ({w}x{h}) is too small to carry a watermark "
                             f"(at least {MIN_EDGE} pixels on each side)")
    bgr = np.ascontiguousarray(bgr[..., :3])
    work = _resized(bgr, working_size(w, h))
    residual = bwm_vec.embed_residual(work, _bits(wm_id, algorithm), _SEED, _D1, _D2)
    if work is not bgr:
        # Bilinear measured ~0.4 dB better PSNR than bicubic or nearest, equally robust.
        residual = cv2.resize(residual, (w, h), interpolation=cv2.INTER_LINEAR)
    # uint8 + float32 -> rounded and saturated uint8, without a full-size float64 copy
    return cv2.add(bgr, residual, dtype=cv2.CV_8U)


def _soft_bits(bgr):
    """Per-bit averages over the blocks (0..1) as blind-watermark's ``extract`` computes them,
    the k-means classes its ``extract_with_kmeans`` takes as bits, and the threshold between
    the classes. ``bgr`` is taken at the size it has."""
    import numpy as np

    from studio.core.provenance import bwm_vec

    avg = bwm_vec.soft_bits(np.ascontiguousarray(bgr[..., :3]), PAYLOAD_BITS, _SEED, _D1, _D2)
    bits = one_dim_kmeans(avg)
    lo, hi = avg[~bits], avg[bits]
    threshold = (lo.mean() + hi.mean()) / 2 if lo.size and hi.size else 0.5
    return avg, bits, threshold


def one_dim_kmeans(inputs):
    """blind-watermark's two-class 1-D k-means (``bwm_core.one_dim_kmeans``), without its
    warnings on a one-class input."""
    import numpy as np

    lo, hi = float(inputs.min()), float(inputs.max())
    threshold = (lo + hi) / 2
    for _ in range(300):
        ones = inputs > threshold
        if ones.all() or not ones.any():
            break
        lo, hi = float(inputs[~ones].mean()), float(inputs[ones].mean())
        new = (lo + hi) / 2
        if abs(new - threshold) < 1e-6:
            threshold = new
            break
        threshold = new
    return np.asarray(inputs > threshold)


def _decode_once(bgr) -> bytes:
    """The 64 bits read from ``bgr`` at the size it has, no checks."""
    import numpy as np

    _, bits, _ = _soft_bits(bgr)
    return np.packbits(bits.astype(np.uint8)).tobytes()


# Bits flipped, least confident first, before a payload is given up: 2^3 candidates raise the
# odds of a false match only from 2^-32 to 2^-29 per decoded size.
_CHASE_BITS = 3


def _decode_ids(bgr, algorithm: str) -> tuple[int, bytes] | None:
    import itertools

    import numpy as np

    avg, bits, threshold = _soft_bits(bgr)
    weakest = np.argsort(np.abs(avg - threshold))[:_CHASE_BITS]
    for n in range(_CHASE_BITS + 1):
        for flip in itertools.combinations(weakest, n):
            trial = bits.copy()
            trial[list(flip)] ^= True
            payload = np.packbits(trial.astype(np.uint8)).tobytes()
            wm_id = parse_payload(payload, algorithm)
            if wm_id is not None:
                return wm_id, payload
    return None


def _scaled_back(w: int, h: int) -> list[tuple[int, int]]:
    """Undoing the usual downscales (75 %, 50 %, 90 %) to a multiple of 8, as the studio's
    outputs are."""
    return [(round(w * s / 8) * 8, round(h * s / 8) * 8) for s in (4 / 3, 2.0, 10 / 9)]


def candidate_sizes(w: int, h: int) -> list[tuple[int, int]]:
    """Sizes to decode a w x h copy at, likeliest first: the working size of the copy as it is
    and of the sizes it may have had before a downscale (the embedding lives on a 4x4 block
    grid of the working copy, so that size must be met), then (``legacy``) the full sizes the
    first release of this watermark marked images larger than WORK_EDGE at."""
    out: list[tuple[int, int]] = []
    for cw, ch in [(w, h), *_scaled_back(w, h)]:
        if max(cw, ch) <= MAX_UPSCALED_EDGE or (cw, ch) == (w, h):
            cand = working_size(cw, ch)
            if cand not in out:
                out.append(cand)
    return out + [c for c in legacy_sizes(w, h) if c not in out]


def legacy_sizes(w: int, h: int) -> list[tuple[int, int]]:
    """Where a mark of the first release (embedded at full size) can be on a w x h copy: the
    copy as it is up to 4096 px, then scaled back to sizes the studio renders (up to 2048)."""
    out = [(w, h)] if max(w, h) <= MAX_DECODE_EDGE else []
    for cand in _scaled_back(w, h):
        if cand not in out and max(cand) <= MAX_UPSCALED_EDGE:
            out.append(cand)
    return [c for c in out if max(c) > WORK_EDGE]  # at or below, both releases agree


def decode_array(bgr, algorithms: list[str] | None = None) -> Detection | None:
    """The watermark in ``bgr``, or None. Only a payload whose CRC matches counts."""
    h, w = bgr.shape[:2]
    if min(h, w) < MIN_EDGE // 2:
        return None
    for alg in algorithms if algorithms is not None else available():
        for size in candidate_sizes(w, h):
            found = _decode_ids(_resized(bgr, size), alg)
            if found is not None:
                return Detection(alg, found[0], found[1], size)
    return None


# ---- encoded files ----------------------------------------------------------------------


def load_bgr(data: bytes):
    """Decode image bytes to (BGR array, alpha or None, how to encode it back)."""
    import numpy as np
    from PIL import Image, ImageOps, JpegImagePlugin

    with Image.open(io.BytesIO(data)) as im:
        fmt = im.format or "PNG"
        im.load()
        how: dict[str, Any] = {"format": fmt}
        if fmt == "JPEG":
            # Re-encode as the input was (its quantisation tables and chroma subsampling), so
            # the file neither grows nor loses more than the watermark costs.
            how.update(qtables=im.quantization,
                       subsampling=JpegImagePlugin.get_sampling(im))
            im = ImageOps.exif_transpose(im)
        elif fmt == "WEBP":
            head = data[:4096]
            how["lossless"] = b"VP8L" in head and b"VP8 " not in head
            how["size"] = len(data)
        alpha = im.getchannel("A") if im.mode in ("RGBA", "LA", "PA") else None
        rgb = np.asarray(im.convert("RGB"))
    return np.ascontiguousarray(rgb[..., ::-1]), alpha, how


def encode_bgr(bgr, alpha, how: dict[str, Any] | str) -> bytes:
    """Encode like the input: PNG lossless, JPEG with the input's tables, WebP as it was."""
    from PIL import Image

    how = {"format": how} if isinstance(how, str) else how
    im = Image.fromarray(bgr[..., ::-1].copy(), "RGB")
    if alpha is not None:
        im.putalpha(alpha)
    buf = io.BytesIO()
    fmt = how.get("format")
    if fmt == "JPEG":
        if how.get("qtables"):
            sub = how.get("subsampling")
            im.save(buf, "JPEG", qtables=how["qtables"],
                    subsampling=sub if sub is not None and sub >= 0 else 0)
        else:
            im.save(buf, "JPEG", quality=95, subsampling=0)
    elif fmt == "WEBP":
        if how.get("lossless", False):
            im.save(buf, "WEBP", lossless=True)
        else:
            _save_lossy_webp(im, buf, how.get("size"))
    else:
        im.save(buf, "PNG")
    return buf.getvalue()


def _save_lossy_webp(im, buf: io.BytesIO, input_size: int | None) -> None:
    """WebP does not record its quality: take the highest that keeps the file within 10 % of
    the input's size (a heavily compressed input stays small, and so may lose the mark)."""
    best = b""
    for quality in (90, 80, 70, 60, 50, 40, 30, 20):
        trial = io.BytesIO()
        im.save(trial, "WEBP", quality=quality)
        best = trial.getvalue()
        if input_size is None or len(best) <= input_size * 1.1:
            break
    buf.write(best)


def embed_bytes(data: bytes, wm_id: int, algorithm: str = BWM) -> bytes:
    bgr, alpha, fmt = load_bgr(data)
    return encode_bgr(embed_array(bgr, wm_id, algorithm), alpha, fmt)


def decode_bytes(data: bytes) -> Detection | None:
    """The watermark in an encoded image, or None (also for data that is no image)."""
    from PIL import UnidentifiedImageError

    try:
        bgr, _, _ = load_bgr(data)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        log.info("no image to decode a watermark from: %s", exc)
        return None
    return decode_array(bgr)
