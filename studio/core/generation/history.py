"""Prompt history in the library database: every prompt sent to the engine, per model,
searchable, most recent first."""

from __future__ import annotations

import time
from dataclasses import dataclass

from studio.core.library import Library

MAX_ENTRIES = 5000  # oldest entries beyond this are dropped


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    prompt: str
    negative_prompt: str
    model_id: str
    uses: int
    last_used: float


class PromptHistory:
    def __init__(self, library: Library) -> None:
        self.library = library

    def record(self, prompt: str, negative_prompt: str = "", model_id: str = "") -> None:
        prompt = prompt.strip()
        if not prompt:
            return
        with self.library.transaction() as conn:
            conn.execute(
                "INSERT INTO prompt_history(prompt, negative_prompt, model_id, uses, last_used)"
                " VALUES (?,?,?,1,?) ON CONFLICT(prompt, negative_prompt, model_id)"
                " DO UPDATE SET uses = uses + 1, last_used = excluded.last_used",
                (prompt, negative_prompt.strip(), model_id, time.time()))
            conn.execute("DELETE FROM prompt_history WHERE id NOT IN (SELECT id FROM"
                         " prompt_history ORDER BY last_used DESC LIMIT ?)", (MAX_ENTRIES,))

    def search(self, text: str = "", model_id: str | None = None,
               limit: int = 50) -> list[HistoryEntry]:
        """Entries whose prompt or negative prompt contains ``text`` (case-insensitive), for
        one model when ``model_id`` is given, most recent first."""
        where, params = ["1"], []
        if text.strip():
            like = "%" + text.strip().replace("\\", "\\\\").replace("%", "\\%")\
                .replace("_", "\\_") + "%"
            where.append("(prompt LIKE ? ESCAPE '\\' OR negative_prompt LIKE ? ESCAPE '\\')")
            params += [like, like]
        if model_id is not None:
            where.append("model_id = ?")
            params.append(model_id)
        rows = self.library.query(
            f"SELECT * FROM prompt_history WHERE {' AND '.join(where)}"
            " ORDER BY last_used DESC, id DESC LIMIT ?", (*params, limit))
        return [HistoryEntry(r["id"], r["prompt"], r["negative_prompt"], r["model_id"],
                             r["uses"], r["last_used"]) for r in rows]

    def remove(self, entry_id: int) -> bool:
        with self.library.transaction() as conn:
            return conn.execute("DELETE FROM prompt_history WHERE id = ?",
                                (entry_id,)).rowcount > 0
