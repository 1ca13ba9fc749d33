"""The provenance component's tables: the watermark ids the studio allocated, each pointing at
the signed file (by hash) that carries it, so a stripped copy finds its original again."""

from __future__ import annotations

COMPONENT = "provenance"

MIGRATIONS: list[str] = [
    # 0 -> 1: watermark ids. sha256 stays NULL until the marked file is signed (a signing
    # failure leaves an unused id behind, never a wrong link).
    """
    CREATE TABLE watermarks (
        wm_id INTEGER PRIMARY KEY,
        algorithm TEXT NOT NULL,
        sha256 TEXT,
        created_at REAL NOT NULL
    );
    CREATE INDEX watermarks_sha256 ON watermarks(sha256);
    """,
]
