"""The chain component's tables: every transaction the studio signs, persisted before it is
broadcast so a crash or a dropped endpoint can be resumed by hash."""

from __future__ import annotations

COMPONENT = "chain"

MIGRATIONS: list[str] = [
    # 0 -> 1: transactions
    """
    CREATE TABLE transactions (
        id INTEGER PRIMARY KEY,
        profile TEXT NOT NULL,
        chain_id INTEGER NOT NULL,
        from_addr TEXT NOT NULL,
        to_addr TEXT,
        nonce INTEGER NOT NULL,
        value TEXT NOT NULL DEFAULT '0',
        data TEXT NOT NULL DEFAULT '0x',
        gas INTEGER NOT NULL,
        max_fee TEXT NOT NULL,
        max_priority_fee TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        raw TEXT NOT NULL,
        status TEXT NOT NULL,
        purpose TEXT NOT NULL DEFAULT '',
        replaces INTEGER REFERENCES transactions(id),
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        error TEXT,
        block_number INTEGER,
        block_hash TEXT,
        confirmations INTEGER NOT NULL DEFAULT 0,
        reorgs INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX transactions_status ON transactions(status);
    CREATE INDEX transactions_sender ON transactions(chain_id, from_addr, nonce);
    """,
]
