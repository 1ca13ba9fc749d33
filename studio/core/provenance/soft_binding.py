"""Durable credentials: mark an output before it is signed and declare the mark in the
manifest as a ``c2pa.soft-binding`` assertion (C2PA 2.x, "soft bindings").

:class:`Marker` allocates a fresh watermark id, records it in the library database, embeds it,
and after signing links the id to the signed file's hash; recovery (recovery.py) follows that
link back from a stripped copy.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from studio.core.paths import StudioPaths
from studio.core.provenance import watermark as wm

log = logging.getLogger(__name__)

SOFT_BINDING_LABEL = "c2pa.soft-binding"
# C2PA 2.2: "an invisible watermark was inserted ... and bound to this manifest".
WATERMARKED_ACTION = "c2pa.watermarked.bound"


def soft_binding_assertion(algorithm: str, payload: bytes) -> dict[str, Any]:
    """The assertion as the C2PA 2.x soft-binding map shapes it: ``alg`` and one block whose
    ``value`` is the base64 of the payload the watermark carries, covering the whole image."""
    return {"label": SOFT_BINDING_LABEL, "created": True,  # made by the claim generator
            "data": {"alg": wm.ALG_NAMES[algorithm],
                     "blocks": [{"scope": {},
                                 "value": base64.b64encode(payload).decode("ascii")}],
                     "pad": [],
                     "name": "Provenance Studio invisible watermark (blind-watermark "
                             "DWT-DCT-SVD, 32-bit id + CRC-32)"}}


def read_soft_bindings(manifest_store: dict[str, Any]) -> list[dict[str, Any]]:
    """The soft-binding assertions of the active manifest in a c2pa ``Reader.json()`` store."""
    active = (manifest_store.get("manifests") or {}).get(manifest_store.get("active_manifest"))
    return [a.get("data") or {} for a in (active or {}).get("assertions") or []
            if a.get("label") == SOFT_BINDING_LABEL]


def soft_bindings_of(data: bytes) -> list[dict[str, Any]]:
    """Soft bindings declared in a signed file (empty when it has no manifest)."""
    import io

    import c2pa

    from studio.core.provenance.formats import sniff_mime

    mime = sniff_mime(data[:64])
    if mime is None:
        return []
    try:
        reader = c2pa.Reader.try_create(mime, io.BytesIO(data))
    except c2pa.C2paError:
        return []
    if reader is None:
        return []
    with reader:
        return read_soft_bindings(json.loads(reader.json()))


def _add_to_manifest(manifest: dict[str, Any], assertion: dict[str, Any]) -> dict[str, Any]:
    from studio.core.provenance.signing import software_agent

    assertions = [dict(a) for a in manifest.get("assertions") or []]
    action = {"action": WATERMARKED_ACTION, "softwareAgent": software_agent(),
              "description": "Invisible watermark carrying this file's soft-binding id"}
    for a in assertions:
        if a.get("label") in ("c2pa.actions", "c2pa.actions.v2"):
            data = dict(a.get("data") or {})
            data["actions"] = [*(data.get("actions") or []), action]
            a["data"] = data
            break
    assertions.append(assertion)
    return {**manifest, "assertions": assertions}


# ---- the id registry (library database, provenance component) ----------------------------


def _connect(paths: StudioPaths) -> sqlite3.Connection:
    from studio.core.library.schema import migrate_component
    from studio.core.provenance import schema

    paths.library_db.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(paths.library_db, isolation_level=None, timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")
    migrate_component(conn, schema.COMPONENT, schema.MIGRATIONS)
    return conn


def allocate_id(paths: StudioPaths, algorithm: str) -> int:
    """A fresh random id (random, so two studios rarely share one on a public chain)."""
    conn = _connect(paths)
    try:
        for _ in range(64):
            wm_id = secrets.randbelow(wm.MAX_ID) + 1
            try:
                conn.execute("INSERT INTO watermarks(wm_id, algorithm, created_at) "
                             "VALUES (?, ?, ?)", (wm_id, algorithm, time.time()))
                return wm_id
            except sqlite3.IntegrityError:
                continue
        raise wm.WatermarkError("no free watermark id could be allocated")
    finally:
        conn.close()


def link_id(paths: StudioPaths, wm_id: int, sha256: str) -> None:
    conn = _connect(paths)
    try:
        conn.execute("UPDATE watermarks SET sha256 = ? WHERE wm_id = ?", (sha256, wm_id))
    finally:
        conn.close()


def sha256_for_id(paths: StudioPaths, wm_id: int) -> str | None:
    """The signed file an id was embedded in, or None when this library never issued it."""
    if not paths.library_db.exists():
        return None
    conn = _connect(paths)
    try:
        row = conn.execute("SELECT sha256 FROM watermarks WHERE wm_id = ?", (wm_id,)).fetchone()
    finally:
        conn.close()
    return row[0] if row else None


# ---- the hook in the signing path --------------------------------------------------------


@dataclass
class Marked:
    data: bytes
    manifest: dict[str, Any]
    wm_id: int | None  # None: the image was left unmarked (too small, library missing)


class Marker:
    """Marks an image and its manifest before signing; links the id once it is signed."""

    def __init__(self, paths: StudioPaths, algorithm: str) -> None:
        self.paths, self.algorithm = paths, algorithm

    def apply(self, data: bytes, manifest: dict[str, Any], keep: bytes | None = None) -> Marked:
        """``keep``: an edit's mask (PNG, L; 0 = a pixel the edit promised to leave exactly as
        the source had it): those pixels are put back after marking, so an inpaint or outpaint
        never changes what the user did not paint, watermark included."""
        try:
            bgr, alpha, fmt = wm.load_bgr(data)
        except (OSError, ValueError) as exc:
            log.warning("not watermarking an image that cannot be decoded: %s", exc)
            return Marked(data, manifest, None)
        h, w = bgr.shape[:2]
        if min(h, w) < wm.MIN_EDGE:
            log.info("not watermarking a %dx%d image (too small)", w, h)
            return Marked(data, manifest, None)
        wm_id = allocate_id(self.paths, self.algorithm)
        marked_bgr = wm.embed_array(bgr, wm_id, self.algorithm)
        if keep is not None:
            marked_bgr = _restore_kept(bgr, marked_bgr, keep)
        marked = wm.encode_bgr(marked_bgr, alpha, fmt)
        assertion = soft_binding_assertion(self.algorithm, wm.payload_for(wm_id, self.algorithm))
        return Marked(marked, _add_to_manifest(manifest, assertion), wm_id)

    def signed(self, marked: Marked, signed: bytes) -> None:
        if marked.wm_id is not None:
            link_id(self.paths, marked.wm_id, hashlib.sha256(signed).hexdigest())


def _restore_kept(original, marked, keep: bytes):
    """``marked`` with every pixel where the ``keep`` mask is 0 taken back from ``original``."""
    import numpy as np
    from PIL import Image

    h, w = original.shape[:2]
    with Image.open(io.BytesIO(keep)) as im:
        mask = im.convert("L")
        if mask.size != (w, h):
            mask = mask.resize((w, h), Image.Resampling.NEAREST)
        untouched = np.asarray(mask) == 0
    out = marked.copy()
    out[untouched] = original[untouched]
    return out


def marker_for(paths: StudioPaths, settings: Any) -> Marker | None:
    """The marker the settings ask for: None when watermarking is off, or (logged) when no
    watermarking library is installed."""
    prov = getattr(settings, "provenance", settings)
    if not getattr(prov, "watermark", True):
        return None
    algorithm = wm.default_algorithm()
    if algorithm is None:
        log.warning("watermarking is on but blind-watermark is not installed; outputs are "
                    "signed without a watermark")
        return None
    return Marker(paths, algorithm)
