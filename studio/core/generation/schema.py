"""The generation component's tables: registered models, a file-hash cache, and one record per
generated asset (the request that made it, the model hash, timings); inpaint masks by hash,
upscaler models, the prompt history, and registered LoRAs."""

from __future__ import annotations

COMPONENT = "generation"

MIGRATIONS: list[str] = [
    # 0 -> 1
    """
    CREATE TABLE generation_models (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        path TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        family TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        config_dir TEXT,
        added_at REAL NOT NULL
    );
    CREATE TABLE generation_file_hashes (
        path TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sha256 TEXT NOT NULL
    );
    CREATE TABLE generations (
        id INTEGER PRIMARY KEY,
        asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
        request_json TEXT NOT NULL,
        model_sha256 TEXT NOT NULL,
        prompt TEXT NOT NULL,
        seed INTEGER NOT NULL,
        item_index INTEGER NOT NULL,
        load_s REAL,
        run_s REAL,
        created_at REAL NOT NULL
    );
    CREATE INDEX generations_asset ON generations(asset_id);
    """,
    # 1 -> 2: edits and history
    """
    CREATE TABLE generation_masks (
        sha256 TEXT PRIMARY KEY,
        png BLOB NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        added_at REAL NOT NULL
    );
    CREATE TABLE upscale_models (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        path TEXT NOT NULL UNIQUE,
        architecture TEXT NOT NULL,
        scale INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        added_at REAL NOT NULL
    );
    CREATE TABLE prompt_history (
        id INTEGER PRIMARY KEY,
        prompt TEXT NOT NULL,
        negative_prompt TEXT NOT NULL DEFAULT '',
        model_id TEXT NOT NULL DEFAULT '',
        uses INTEGER NOT NULL DEFAULT 1,
        last_used REAL NOT NULL,
        UNIQUE (prompt, negative_prompt, model_id)
    );
    CREATE INDEX prompt_history_recent ON prompt_history(model_id, last_used);
    """,
    # 2 -> 3: where a model came from and when it was last used; registered LoRAs.
    """
    ALTER TABLE generation_models ADD COLUMN source TEXT NOT NULL DEFAULT '';
    ALTER TABLE generation_models ADD COLUMN last_used REAL;
    CREATE TABLE generation_loras (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        path TEXT NOT NULL UNIQUE,
        family TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        autov3 TEXT NOT NULL,
        size INTEGER NOT NULL,
        trigger_words TEXT NOT NULL DEFAULT '[]',
        source TEXT NOT NULL DEFAULT '',
        added_at REAL NOT NULL,
        last_used REAL
    );
    """,
]
