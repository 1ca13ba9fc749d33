"""SQLite schema, versioned per component.

Each domain (library, generation, chain...) owns its tables and an append-only list of
migrations in its own ``schema.py``; ``MIGRATIONS[i]`` takes that component from version i to
i+1. Append, never edit: a user's database may be at any earlier version. Versions are kept in
the ``schema_versions`` table so domains evolve independently.
"""

from __future__ import annotations

import importlib
import sqlite3

COMPONENT = "library"

MIGRATIONS: list[str] = [
    # 0 -> 1: assets
    """
    CREATE TABLE assets (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        origin TEXT NOT NULL,
        media_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        original_name TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        width INTEGER,
        height INTEGER,
        manifest_label TEXT,
        store_path TEXT NOT NULL
    );
    CREATE INDEX assets_origin ON assets(origin);
    CREATE INDEX assets_created ON assets(created_at);
    """,
    # 1 -> 2: a minted flag the gallery filters on (the chain workflow sets it)
    """
    ALTER TABLE assets ADD COLUMN minted_at REAL;
    CREATE INDEX assets_minted ON assets(minted_at);
    """,
]

# Modules exporting COMPONENT and MIGRATIONS, applied in this order (later ones may reference
# earlier tables). Add a domain's schema module here.
SCHEMA_MODULES: list[str] = [
    "studio.core.library.schema",
    "studio.core.chain.schema",
    "studio.core.generation.schema",
    "studio.core.provenance.schema",
    "studio.core.batch.schema",
]


class SchemaTooNewError(Exception):
    pass


def _ensure_versions_table(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_versions ("
        "component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )


def component_version(conn: sqlite3.Connection, component: str) -> int:
    _ensure_versions_table(conn)
    row = conn.execute(
        "SELECT version FROM schema_versions WHERE component = ?", (component,)
    ).fetchone()
    return row[0] if row else 0


def migrate_component(conn: sqlite3.Connection, component: str, migrations: list[str]) -> int:
    """Bring one component up to date, one transaction per step. Returns its version."""
    version = component_version(conn, component)
    if version > len(migrations):
        raise SchemaTooNewError(
            f"The library was written by a newer version of the studio ({component} schema "
            f"{version}, this version knows {len(migrations)}). Update the studio to open it."
        )
    for target in range(version + 1, len(migrations) + 1):
        # Statements and the version bump commit together, or not at all.
        with conn:
            conn.execute("BEGIN")
            for statement in _split(migrations[target - 1]):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_versions(component, version) VALUES (?, ?) "
                "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                (component, target),
            )
    return len(migrations)


def migrate_all(conn: sqlite3.Connection, modules: list[str] | None = None) -> dict[str, int]:
    out = {}
    for name in SCHEMA_MODULES if modules is None else modules:
        mod = importlib.import_module(name)
        out[mod.COMPONENT] = migrate_component(conn, mod.COMPONENT, mod.MIGRATIONS)
    return out


def _split(script: str) -> list[str]:
    # Migrations are plain DDL/DML without semicolons inside literals or triggers.
    return [s.strip() for s in script.split(";") if s.strip()]
