"""The persisted mint: one ``mints`` row per mint (its state machine) and the splits the
studio knows, as plain records."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from studio.core.chain.plan import MintError
from studio.core.library import Library


class MintState(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    SPLIT_READY = "split_ready"
    MINTING = "minting"
    MINTED = "minted"
    FAILED = "failed"


STATE_TEXT = {
    MintState.DRAFT: "Draft",
    MintState.PUBLISHED: "Published (metadata and CIDs ready)",
    MintState.SPLIT_READY: "Collection and split ready",
    MintState.MINTING: "Minting",
    MintState.MINTED: "Minted",
    MintState.FAILED: "Failed",
}


@dataclass(frozen=True)
class MintRecord:
    id: int
    asset_id: int
    sha256: str
    profile: str
    chain_id: int
    account: str
    state: MintState
    title: str
    description: str
    royalty_bps: int
    collection: str | None
    new_collection_name: str | None
    new_collection_symbol: str | None
    split: list[dict[str, Any]]  # [{address, allocation, label}], sorted as on-chain
    split_address: str | None
    metadata_json: str | None
    metadata_cid: str | None
    image_cid: str | None
    token_uri: str | None
    token_id: int | None
    collection_tx: int | None
    split_tx: int | None
    mint_tx: int | None
    confirmations: int
    error: str | None
    created_at: float
    updated_at: float
    soft_binding_id: str | None = None  # hex, up to 32 bytes

    @property
    def soft_binding(self) -> bytes:
        """The bytes32 the contract records (zero when the mint has no soft binding)."""
        raw = bytes.fromhex(self.soft_binding_id) if self.soft_binding_id else b""
        return raw.ljust(32, b"\x00")

    @classmethod
    def from_row(cls, row) -> MintRecord:
        d = dict(row)
        d["state"] = MintState(d["state"])
        d["split"] = json.loads(d.pop("split_json"))
        d["token_id"] = int(d["token_id"]) if d["token_id"] is not None else None
        return cls(**d)

    @property
    def royalty_receiver(self) -> str | None:
        if len(self.split) == 1:
            return self.split[0]["address"]
        return self.split_address

    def to_json(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "metadata_json"}
        d["state"] = str(self.state)
        d["token_id"] = str(self.token_id) if self.token_id is not None else None
        d["royalty_percent"] = str(Decimal(self.royalty_bps) / 100)
        return d


class MintStore:
    def __init__(self, library: Library) -> None:
        self.library = library

    def insert(self, **fields: Any) -> MintRecord:
        now = time.time()
        fields.setdefault("created_at", now)
        fields.setdefault("updated_at", now)
        cols, marks = ", ".join(fields), ", ".join("?" for _ in fields)
        with self.library.transaction() as conn:
            mint_id = conn.execute(f"INSERT INTO mints({cols}) VALUES ({marks})",
                                   tuple(fields.values())).lastrowid
        return self.get(mint_id)

    _UNSET = object()

    def update(self, mint_id: int, *, minted_at: Any = _UNSET, **fields: Any) -> MintRecord:
        """Write ``fields``; with ``minted_at`` (a time, or None) the asset's minted flag in
        the library changes in the same transaction."""
        if "state" in fields:
            fields["state"] = str(fields["state"])
        if fields.get("token_id") is not None:
            fields["token_id"] = str(fields["token_id"])
        fields["updated_at"] = time.time()
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self.library.transaction() as conn:
            conn.execute(f"UPDATE mints SET {sets} WHERE id = ?", (*fields.values(), mint_id))
            if minted_at is not self._UNSET:
                conn.execute("UPDATE assets SET minted_at = ? WHERE id ="
                             " (SELECT asset_id FROM mints WHERE id = ?)", (minted_at, mint_id))
        return self.get(mint_id)

    def minted_on(self, chain_id: int) -> list[MintRecord]:
        rows = self.library.query("SELECT * FROM mints WHERE chain_id = ? AND state = 'minted'"
                                  " ORDER BY id", (chain_id,))
        return [MintRecord.from_row(r) for r in rows]

    def get(self, mint_id: int) -> MintRecord:
        rows = self.library.query("SELECT * FROM mints WHERE id = ?", (mint_id,))
        if not rows:
            raise MintError(f"No mint #{mint_id} in the library")
        return MintRecord.from_row(rows[0])

    def for_asset(self, asset_id: int, chain_id: int | None = None) -> list[MintRecord]:
        sql, params = "SELECT * FROM mints WHERE asset_id = ?", [asset_id]
        if chain_id is not None:
            sql += " AND chain_id = ?"
            params.append(chain_id)
        rows = self.library.query(sql + " ORDER BY id DESC", tuple(params))
        return [MintRecord.from_row(r) for r in rows]

    def open_mints(self, chain_id: int | None = None) -> list[MintRecord]:
        """Mints not yet minted or failed (to resume)."""
        sql = "SELECT * FROM mints WHERE state NOT IN ('minted', 'failed')"
        params: tuple = ()
        if chain_id is not None:
            sql += " AND chain_id = ?"
            params = (chain_id,)
        return [MintRecord.from_row(r) for r in self.library.query(sql + " ORDER BY id", params)]

    def list(self, limit: int = 500) -> list[MintRecord]:
        rows = self.library.query("SELECT * FROM mints ORDER BY id DESC LIMIT ?", (limit,))
        return [MintRecord.from_row(r) for r in rows]

    def minted_for_asset(self, asset_id: int) -> MintRecord | None:
        rows = self.library.query("SELECT * FROM mints WHERE asset_id = ? AND state = 'minted'"
                                  " ORDER BY id DESC LIMIT 1", (asset_id,))
        return MintRecord.from_row(rows[0]) if rows else None

    def record_split(self, chain_id: int, address: str, split: list[dict[str, Any]]) -> None:
        with self.library.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO chain_splits(chain_id, address, recipients_json,"
                         " created_at) VALUES (?,?,?,?)",
                         (chain_id, address, json.dumps(split), time.time()))

    def splits(self, chain_id: int) -> list[tuple[str, list[dict[str, Any]]]]:
        rows = self.library.query("SELECT address, recipients_json FROM chain_splits"
                                  " WHERE chain_id = ? ORDER BY created_at", (chain_id,))
        return [(r[0], json.loads(r[1])) for r in rows]

