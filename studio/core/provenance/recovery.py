"""Recovery of stripped files: file -> watermark -> library -> the original's manifest.

A copy re-encoded by a social site has lost its C2PA boxes but keeps the watermark the studio
embedded before signing (soft_binding.py). Its id leads to the signed original in the local
library; the original's credentials are read from there. When this library did not issue the
id, the chain layer (core/chain/durable.py; provenance does not depend on a chain) looks the
id up in the tokens' ContentMinted events and, with the user's leave, fetches the minted
original through the token's metadata; :meth:`Recovery.adopt` fills the same fields from it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.core.paths import StudioPaths
from studio.core.provenance import watermark as wm
from studio.core.provenance.report import ProvenanceReport

log = logging.getLogger(__name__)


@dataclass
class PixelDifference:
    psnr_db: float | None  # None when the pixels are identical
    mean_abs: float  # mean absolute difference per channel, in levels of 255
    resized_from: tuple[int, int] | None  # the original's size when the copy was resized
    copy_size: tuple[int, int]

    @property
    def words(self) -> str:
        if self.psnr_db is None:
            return "nothing (identical pixels)"
        how = "re-encoded"
        if self.resized_from is not None:
            ow, oh = self.resized_from
            cw, ch = self.copy_size
            how = f"resized from {ow}x{oh} to {cw}x{ch} and re-encoded"
        return (f"{self.mean_abs:.1f} levels of 255 on average, PSNR {self.psnr_db:.1f} dB "
                f"({how})")


@dataclass
class Recovery:
    """What a file's watermark leads to. ``found`` is False when there is no watermark or the
    id is not in this library (``reason`` says which)."""

    path: str
    watermark_id: int | None = None
    algorithm: str | None = None
    payload: bytes | None = None  # the decoded soft-binding value (what the mint records)
    source: str | None = None  # where the original was found: "library" or "chain"
    asset_id: int | None = None
    original_path: str | None = None
    original_title: str | None = None
    original_sha256: str | None = None
    minted: bool = False  # the library marks the original as minted
    original_report: ProvenanceReport | None = None
    difference: PixelDifference | None = None
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return self.original_report is not None

    @property
    def signer(self) -> str | None:
        return self.original_report.signer if self.original_report else None

    def summary(self, token_id: Any = None) -> str:
        """The one sentence the CLI and the inspector show."""
        if self.watermark_id is None:
            return "No credentials in this file, and no studio watermark either."
        if not self.found:
            if token_id is not None:
                return (f"No credentials in this file; its watermark {self.watermark_id:08x} "
                        f"leads to token {token_id}" + (f", but {self.reason}" if self.reason
                                                        else "."))
            return (f"No credentials in this file; it carries studio watermark "
                    f"{self.watermark_id:08x}, but {self.reason}")
        text = (f"No credentials in this file; its watermark leads to "
                f"{self.original_title or self.original_path} signed by "
                f"{self.signer or 'an unknown signer'}")
        if token_id is not None:
            text += f", minted as token {token_id}"
        elif self.minted:
            text += ", minted (use --chain PROFILE for the token)"
        if self.difference is not None:
            text += f"; the pixels differ from the original by {self.difference.words}"
        return text + "."

    def to_json(self) -> dict[str, Any]:
        diff = self.difference
        return {
            "watermark": ({"id": self.watermark_id, "algorithm": wm.ALG_NAMES.get(
                self.algorithm or "", self.algorithm)} if self.watermark_id is not None
                else None),
            "found": self.found, "source": self.source, "reason": self.reason or None,
            "asset_id": self.asset_id, "original_path": self.original_path,
            "original_title": self.original_title, "original_sha256": self.original_sha256,
            "signer": self.signer, "minted": self.minted,
            "original": self.original_report.to_json() if self.original_report else None,
            "difference": None if diff is None else {
                "psnr_db": diff.psnr_db, "mean_abs": diff.mean_abs,
                "resized_from": list(diff.resized_from) if diff.resized_from else None,
                "copy_size": list(diff.copy_size)},
            **self.extra,
        }

    def adopt(self, copy: bytes, original: bytes, *, where: str, title: str | None,
              source: str, trust_anchors: Any = None) -> None:
        """Take ``original`` (the signed file the watermark leads to, found at ``where``) as
        this copy's original: its credentials and how far the copy's pixels are from it."""
        import hashlib

        from studio.core.provenance.reader import read_report_bytes

        self.source, self.original_path, self.original_title = source, where, title
        self.original_sha256 = hashlib.sha256(original).hexdigest()
        self.original_report = read_report_bytes(original, trust_anchors, name=where)
        self.difference = pixel_difference(copy, original)
        self.reason = ""


def pixel_difference(copy: bytes, original: bytes) -> PixelDifference | None:
    """How far ``copy``'s pixels are from ``original``'s (the copy scaled to the original's
    size first when it was resized); None when either cannot be decoded."""
    import cv2
    import numpy as np

    try:
        a, _, _ = wm.load_bgr(copy)
        b, _, _ = wm.load_bgr(original)
    except (OSError, ValueError):
        return None
    ch, cw = a.shape[:2]
    oh, ow = b.shape[:2]
    resized = (cw, ch) != (ow, oh)
    if resized:
        a = cv2.resize(a, (ow, oh), interpolation=cv2.INTER_CUBIC)
    delta = a.astype(np.float64) - b.astype(np.float64)
    mse = float(np.mean(delta ** 2))
    psnr = None if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))
    return PixelDifference(psnr, float(np.mean(np.abs(delta))),
                           (ow, oh) if resized else None, (cw, ch))


def recover(path: Path, paths: StudioPaths, trust_anchors: Any = None) -> Recovery:
    """Decode ``path``'s watermark and follow it into the local library. Never raises for a
    bad file; the caller decides whether to call it (only for files without a manifest)."""
    from studio.core.library import Library
    from studio.core.provenance.reader import read_report
    from studio.core.provenance.soft_binding import sha256_for_id

    path = Path(path)
    rec = Recovery(str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        rec.reason = f"the file cannot be read ({exc.strerror or exc})"
        return rec
    if not wm.available():
        rec.reason = "no watermark decoder is available (it needs OpenCV: opencv-python-headless)"
        return rec
    det = wm.decode_bytes(data)
    if det is None:
        rec.reason = "no studio watermark found"
        return rec
    rec.watermark_id, rec.algorithm, rec.payload = det.wm_id, det.algorithm, det.payload
    sha = sha256_for_id(paths, det.wm_id)
    if sha is None:
        rec.reason = "this library did not issue that id (the original is elsewhere)."
        return rec
    with Library.open(paths) as lib:
        asset = lib.get_by_sha256(sha)
        if asset is None:
            rec.reason = "the original was removed from this library."
            return rec
        original = lib.path_of(asset)
        rec.minted = asset.id in lib.minted_ids()
    rec.asset_id, rec.original_sha256, rec.source = asset.id, sha, "library"
    rec.original_path = str(original)
    rec.original_title = asset.title or asset.original_name or original.name
    try:
        original_bytes = original.read_bytes()
    except OSError as exc:
        rec.reason = f"the original {original} cannot be read ({exc.strerror or exc})."
        return rec
    rec.original_report = read_report(original, trust_anchors)
    rec.difference = pixel_difference(data, original_bytes)
    return rec
