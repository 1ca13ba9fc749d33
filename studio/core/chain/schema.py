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
    # 1 -> 2: the mint workflow (studio.core.chain.mint, mintstore): the factories' address book per
    # chain, collections and splits the studio knows, and one row per mint (its state machine)
    """
    CREATE TABLE chain_contracts (
        chain_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        address TEXT,
        method TEXT NOT NULL,
        tx_id INTEGER REFERENCES transactions(id),
        created_at REAL NOT NULL,
        PRIMARY KEY (chain_id, name)
    );
    CREATE TABLE chain_splits (
        chain_id INTEGER NOT NULL,
        address TEXT NOT NULL,
        recipients_json TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (chain_id, address)
    );
    CREATE TABLE mints (
        id INTEGER PRIMARY KEY,
        asset_id INTEGER NOT NULL REFERENCES assets(id),
        sha256 TEXT NOT NULL,
        profile TEXT NOT NULL,
        chain_id INTEGER NOT NULL,
        account TEXT NOT NULL,
        state TEXT NOT NULL,
        title TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        royalty_bps INTEGER NOT NULL,
        collection TEXT,
        new_collection_name TEXT,
        new_collection_symbol TEXT,
        split_json TEXT NOT NULL,
        split_address TEXT,
        metadata_json TEXT,
        metadata_cid TEXT,
        image_cid TEXT,
        token_uri TEXT,
        token_id TEXT,
        collection_tx INTEGER REFERENCES transactions(id),
        split_tx INTEGER REFERENCES transactions(id),
        mint_tx INTEGER REFERENCES transactions(id),
        confirmations INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX mints_asset ON mints(asset_id, chain_id);
    CREATE INDEX mints_state ON mints(state);
    """,
    # 2 -> 3: the watermark soft-binding id a mint records on-chain (hex; NULL = none)
    """
    ALTER TABLE mints ADD COLUMN soft_binding_id TEXT;
    """,
]
