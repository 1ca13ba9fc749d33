"""Batches as a persisted state machine in the library's SQLite.

Item states, each written *before* the side effect it announces::

    pending -> running    (before the item is handed to a backend)
    running -> storing    (the signed file's sha256, before it is added to the library)
    storing -> done       (asset id, after the asset and its generation record exist)
    running -> failed     (the backend's or the signer's message)

After a crash :meth:`BatchStore.recover` settles what was in the air: a ``storing`` item whose
file reached the library is ``done`` (its generation record is written if the crash came
before it); any other ``running`` or ``storing`` item goes back to ``pending``. Its pixels are
made again, but nothing was stored for it, so an output is never duplicated.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from enum import StrEnum

from studio.core.generation.output import record_generation
from studio.core.generation.request import GenerationRequest
from studio.core.library import Library


class ItemState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    STORING = "storing"
    DONE = "done"
    FAILED = "failed"


class BatchState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"  # every item done
    FAILED = "failed"  # finished, some items failed (retry them)
    CANCELLED = "cancelled"  # stopped; resume picks up the pending items


class BatchError(Exception):
    """A batch cannot be created, found or run; the message is meant for the user."""


@dataclass(frozen=True)
class BatchItem:
    id: int
    batch_id: int
    idx: int
    request: GenerationRequest
    state: ItemState
    attempts: int
    result_sha256: str | None
    asset_id: int | None
    error: str
    backend: str
    device: str
    node: str
    seconds: float | None


@dataclass(frozen=True)
class Batch:
    id: int
    name: str
    state: BatchState
    backend: str
    out_dir: str | None
    total: int
    runner_pid: int | None
    created_at: float
    updated_at: float
    counts: dict[str, int]

    @property
    def done(self) -> int:
        return self.counts.get(ItemState.DONE, 0)

    @property
    def failed(self) -> int:
        return self.counts.get(ItemState.FAILED, 0)


def _pid_alive(pid: int | None) -> bool:
    if not pid or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class BatchStore:
    def __init__(self, library: Library) -> None:
        self.library = library

    # -- batches ----------------------------------------------------------------------------

    def create(self, requests: list[GenerationRequest], *, name: str = "",
               backend: str = "local", out_dir: str | None = None) -> Batch:
        if not requests:
            raise BatchError("The batch is empty: no requests to run.")
        items = [r.validate().for_item(0) if r.batch_size != 1 else r.validate()
                 for r in requests]
        now = time.time()
        with self.library.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO batches(name, state, backend, out_dir, total, created_at,"
                " updated_at) VALUES (?,?,?,?,?,?,?)",
                (name or f"{len(items)} × {items[0].prompt[:40]}", str(BatchState.PENDING),
                 backend, out_dir, len(items), now, now))
            batch_id = cur.lastrowid
            conn.executemany(
                "INSERT INTO batch_items(batch_id, idx, request_json, state, updated_at)"
                " VALUES (?,?,?,?,?)",
                [(batch_id, i, r.to_json(), str(ItemState.PENDING), now)
                 for i, r in enumerate(items)])
        return self.get(batch_id)

    def get(self, batch_id: int) -> Batch:
        rows = self.library.query("SELECT * FROM batches WHERE id = ?", (batch_id,))
        if not rows:
            raise BatchError(f"There is no batch {batch_id} (`studio batch list` shows them).")
        return self._batch(rows[0])

    def list(self) -> list[Batch]:
        return [self._batch(r) for r in
                self.library.query("SELECT * FROM batches ORDER BY id DESC")]

    def _batch(self, r) -> Batch:
        counts = {row[0]: row[1] for row in self.library.query(
            "SELECT state, count(*) FROM batch_items WHERE batch_id = ? GROUP BY state",
            (r["id"],))}
        return Batch(r["id"], r["name"], BatchState(r["state"]), r["backend"], r["out_dir"],
                     r["total"], r["runner_pid"], r["created_at"], r["updated_at"], counts)

    def state(self, batch_id: int) -> BatchState:
        rows = self.library.query("SELECT state FROM batches WHERE id = ?", (batch_id,))
        return BatchState(rows[0][0]) if rows else BatchState.CANCELLED

    def set_state(self, batch_id: int, state: BatchState, *, pid: int | None = None) -> None:
        with self.library.transaction() as conn:
            conn.execute("UPDATE batches SET state = ?, runner_pid = ?, updated_at = ?"
                         " WHERE id = ?", (str(state), pid, time.time(), batch_id))

    def set_backend(self, batch_id: int, backend: str) -> None:
        with self.library.transaction() as conn:
            conn.execute("UPDATE batches SET backend = ? WHERE id = ?", (backend, batch_id))

    def claim(self, batch_id: int) -> Batch:
        """Mark the batch running in this process; refuse if another live process runs it."""
        with self.library.transaction() as conn:
            row = conn.execute("SELECT state, runner_pid FROM batches WHERE id = ?",
                               (batch_id,)).fetchone()
            if row is None:
                raise BatchError(f"There is no batch {batch_id}.")
            if row[0] == BatchState.RUNNING and _pid_alive(row[1]):
                raise BatchError(f"Batch {batch_id} is being run by process {row[1]}; "
                                 "cancel it there, or wait for it to finish.")
            conn.execute("UPDATE batches SET state = ?, runner_pid = ?, updated_at = ?"
                         " WHERE id = ?",
                         (str(BatchState.RUNNING), os.getpid(), time.time(), batch_id))
        return self.get(batch_id)

    def cancel(self, batch_id: int) -> Batch:
        """Ask the runner (in this or another process) to stop; pending items stay pending."""
        batch = self.get(batch_id)
        if batch.state in (BatchState.DONE, BatchState.CANCELLED):
            return batch
        self.set_state(batch_id, BatchState.CANCELLED, pid=batch.runner_pid)
        return self.get(batch_id)

    # -- items ------------------------------------------------------------------------------

    def items(self, batch_id: int, state: ItemState | None = None) -> list[BatchItem]:
        sql = "SELECT * FROM batch_items WHERE batch_id = ?"
        params: tuple = (batch_id,)
        if state is not None:
            sql, params = sql + " AND state = ?", (batch_id, str(state))
        rows = self.library.query(sql + " ORDER BY idx", params)
        return [BatchItem(r["id"], r["batch_id"], r["idx"],
                          GenerationRequest.from_json(r["request_json"]), ItemState(r["state"]),
                          r["attempts"], r["result_sha256"], r["asset_id"], r["error"],
                          r["backend"], r["device"], r["node"], r["seconds"]) for r in rows]

    def _update(self, item_id: int, sql: str, params: tuple) -> None:
        with self.library.transaction() as conn:
            conn.execute(f"UPDATE batch_items SET {sql}, updated_at = ? WHERE id = ?",
                         (*params, time.time(), item_id))

    def mark_running(self, item_id: int, backend: str) -> None:
        self._update(item_id, "state = ?, attempts = attempts + 1, backend = ?, error = ''",
                     (str(ItemState.RUNNING), backend))

    def mark_storing(self, item_id: int, sha256: str, *, device: str, node: str) -> None:
        self._update(item_id, "state = ?, result_sha256 = ?, device = ?, node = ?",
                     (str(ItemState.STORING), sha256, device, node))

    def mark_done(self, item_id: int, asset_id: int, sha256: str, *, device: str, node: str,
                  seconds: float | None) -> None:
        self._update(item_id, "state = ?, asset_id = ?, result_sha256 = ?, device = ?,"
                     " node = ?, seconds = ?, error = ''",
                     (str(ItemState.DONE), asset_id, sha256, device, node, seconds))

    def mark_failed(self, item_id: int, error: str) -> None:
        self._update(item_id, "state = ?, error = ?", (str(ItemState.FAILED), error))

    def mark_pending(self, item_id: int) -> None:
        self._update(item_id, "state = ?, result_sha256 = NULL", (str(ItemState.PENDING),))

    def retry_failed(self, batch_id: int) -> int:
        """Failed items back to pending; returns how many."""
        with self.library.transaction() as conn:
            return conn.execute(
                "UPDATE batch_items SET state = ?, updated_at = ? WHERE batch_id = ?"
                " AND state = ?", (str(ItemState.PENDING), time.time(), batch_id,
                                   str(ItemState.FAILED))).rowcount

    def recover(self, batch_id: int) -> int:
        """Settle items a crashed run left in the air (see the module doc). Returns how many
        went back to pending."""
        back = 0
        for item in self.items(batch_id):
            if item.state is ItemState.STORING and item.result_sha256:
                asset = self.library.get_by_sha256(item.result_sha256)
                if asset is not None:
                    if not self.library.query("SELECT 1 FROM generations WHERE asset_id = ?",
                                              (asset.id,)):
                        record_generation(self.library, asset.id, item.request, 0)
                    self.mark_done(item.id, asset.id, item.result_sha256, device=item.device,
                                   node=item.node, seconds=item.seconds)
                    continue
            if item.state in (ItemState.RUNNING, ItemState.STORING):
                self.mark_pending(item.id)
                back += 1
        return back
