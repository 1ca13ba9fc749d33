"""Persisted transactions (the ``transactions`` table) as plain records."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from studio.core.library import Library


class TxStatus(StrEnum):
    SIGNED = "signed"  # persisted; no node has accepted it yet (retryable)
    PENDING = "pending"  # a node accepted it; not mined yet
    INCLUDED = "included"  # mined; fewer confirmations than the profile wants
    CONFIRMED = "confirmed"  # mined and successful, deep enough
    REVERTED = "reverted"  # mined and failed, deep enough
    REPLACED = "replaced"  # another transaction with this nonce was mined
    FAILED = "failed"  # the node rejected it for good (e.g. insufficient funds)


FINAL = frozenset({TxStatus.CONFIRMED, TxStatus.REVERTED, TxStatus.REPLACED, TxStatus.FAILED})


@dataclass(frozen=True)
class TxRecord:
    id: int
    profile: str
    chain_id: int
    from_addr: str
    to_addr: str | None
    nonce: int
    value: int
    data: str
    gas: int
    max_fee: int
    max_priority_fee: int
    hash: str
    raw: str
    status: TxStatus
    purpose: str
    replaces: int | None
    created_at: float
    updated_at: float
    error: str | None
    block_number: int | None
    block_hash: str | None
    confirmations: int
    reorgs: int

    @property
    def is_final(self) -> bool:
        return self.status in FINAL

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> TxRecord:
        d = dict(row)
        for k in ("value", "max_fee", "max_priority_fee"):
            d[k] = int(d[k])
        d["status"] = TxStatus(d["status"])
        return cls(**d)

    def to_json(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "raw"}
        d["status"] = str(self.status)
        for k in ("value", "max_fee", "max_priority_fee"):
            d[k] = str(d[k])  # wei values overflow JSON numbers in some readers
        return d


_INTS_AS_TEXT = {"value", "max_fee", "max_priority_fee"}


class TxStore:
    def __init__(self, library: Library) -> None:
        self.library = library

    def insert(self, **fields: Any) -> TxRecord:
        now = time.time()
        fields = {k: str(v) if k in _INTS_AS_TEXT else v for k, v in fields.items()}
        fields.setdefault("created_at", now)
        fields.setdefault("updated_at", now)
        cols = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        with self.library.transaction() as conn:
            cur = conn.execute(f"INSERT INTO transactions({cols}) VALUES ({marks})",
                               tuple(fields.values()))
            tx_id = cur.lastrowid
        rec = self.get(tx_id)
        assert rec is not None
        return rec

    def update(self, tx_id: int, **fields: Any) -> TxRecord:
        fields = {k: str(v) if k in _INTS_AS_TEXT else v for k, v in fields.items()}
        fields["updated_at"] = time.time()
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self.library.transaction() as conn:
            conn.execute(f"UPDATE transactions SET {sets} WHERE id = ?",
                         (*fields.values(), tx_id))
        rec = self.get(tx_id)
        assert rec is not None
        return rec

    def get(self, tx_id: int) -> TxRecord | None:
        rows = self.library.query("SELECT * FROM transactions WHERE id = ?", (tx_id,))
        return TxRecord.from_row(rows[0]) if rows else None

    def by_hash(self, tx_hash: str) -> TxRecord | None:
        rows = self.library.query("SELECT * FROM transactions WHERE hash = ?",
                                  (tx_hash.lower(),))
        return TxRecord.from_row(rows[0]) if rows else None

    def list(self, profile: str | None = None, limit: int = 500) -> list[TxRecord]:
        if profile is None:
            rows = self.library.query(
                "SELECT * FROM transactions ORDER BY created_at DESC, id DESC LIMIT ?", (limit,))
        else:
            rows = self.library.query(
                "SELECT * FROM transactions WHERE profile = ?"
                " ORDER BY created_at DESC, id DESC LIMIT ?", (profile, limit))
        return [TxRecord.from_row(r) for r in rows]

    def non_final(self, chain_id: int) -> list[TxRecord]:
        marks = ", ".join("?" for _ in FINAL)
        rows = self.library.query(
            f"SELECT * FROM transactions WHERE chain_id = ? AND status NOT IN ({marks})"
            " ORDER BY nonce, id", (chain_id, *map(str, FINAL)))
        return [TxRecord.from_row(r) for r in rows]

    def highest_open_nonce(self, chain_id: int, from_addr: str) -> int | None:
        marks = ", ".join("?" for _ in FINAL)
        rows = self.library.query(
            f"SELECT MAX(nonce) FROM transactions WHERE chain_id = ? AND from_addr = ?"
            f" AND status NOT IN ({marks})", (chain_id, from_addr, *map(str, FINAL)))
        return rows[0][0]

    def open_from(self, chain_id: int, from_addr: str) -> list[TxRecord]:
        """Non-final transactions of one sender, by nonce."""
        marks = ", ".join("?" for _ in FINAL)
        rows = self.library.query(
            f"SELECT * FROM transactions WHERE chain_id = ? AND from_addr = ?"
            f" AND status NOT IN ({marks}) ORDER BY nonce, id",
            (chain_id, from_addr, *map(str, FINAL)))
        return [TxRecord.from_row(r) for r in rows]

    def unsent(self, chain_id: int, from_addr: str) -> list[TxRecord]:
        """Signed and saved, never accepted by a node, by nonce."""
        rows = self.library.query(
            "SELECT * FROM transactions WHERE chain_id = ? AND from_addr = ? AND status = ?"
            " ORDER BY nonce, id", (chain_id, from_addr, str(TxStatus.SIGNED)))
        return [TxRecord.from_row(r) for r in rows]

    def open_nonces_between(self, chain_id: int, from_addr: str, low: int,
                            high: int) -> bool:
        """Whether an open transaction of ours holds a nonce in [low, high)."""
        marks = ", ".join("?" for _ in FINAL)
        rows = self.library.query(
            f"SELECT 1 FROM transactions WHERE chain_id = ? AND from_addr = ? AND nonce >= ?"
            f" AND nonce < ? AND status NOT IN ({marks}) LIMIT 1",
            (chain_id, from_addr, low, high, *map(str, FINAL)))
        return bool(rows)
