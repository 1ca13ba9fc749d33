"""The batch component's tables: one row per batch, one per item (its request and state)."""

from __future__ import annotations

COMPONENT = "batch"

MIGRATIONS: list[str] = [
    # 0 -> 1
    """
    CREATE TABLE batches (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        state TEXT NOT NULL,
        backend TEXT NOT NULL,
        out_dir TEXT,
        total INTEGER NOT NULL,
        runner_pid INTEGER,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE batch_items (
        id INTEGER PRIMARY KEY,
        batch_id INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        request_json TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        result_sha256 TEXT,
        asset_id INTEGER REFERENCES assets(id) ON DELETE SET NULL,
        error TEXT NOT NULL DEFAULT '',
        backend TEXT NOT NULL DEFAULT '',
        device TEXT NOT NULL DEFAULT '',
        node TEXT NOT NULL DEFAULT '',
        seconds REAL,
        updated_at REAL NOT NULL,
        UNIQUE (batch_id, idx)
    );
    CREATE INDEX batch_items_state ON batch_items(batch_id, state);
    """,
]
