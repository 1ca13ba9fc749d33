"""The Batch view's state, Qt-free and observable (psygnal): the current batch's items, its
throughput and ETA, and the actions (start, cancel, retry failed) a widget binds to.

A run happens on one background thread owned by this model; every signal is emitted from that
thread, so a widget must hop to its own thread before touching widgets (a queued Qt signal).
Thumbnails of finished items are made here, on that thread, as small PNG bytes.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from psygnal import Signal

from studio.core.batch.plan import Options, matrix, parse_seeds, parse_size
from studio.core.batch.runner import BatchFinished, BatchProgress, BatchRunner, ItemEvent
from studio.core.batch.service import RayOptions, close_backend, make_backend
from studio.core.batch.store import BatchError, BatchState, BatchStore, ItemState
from studio.core.generation.registry import ModelRegistry
from studio.core.library import Library
from studio.core.paths import StudioPaths

log = logging.getLogger(__name__)
THUMB_EDGE = 128
DEFAULT_RAY = RayOptions()


@dataclass(frozen=True)
class ItemRow:
    idx: int
    prompt: str
    seed: int
    state: ItemState
    error: str = ""
    asset_id: int | None = None
    thumbnail: bytes | None = None  # PNG, THUMB_EDGE long edge


class BatchViewModel:
    changed = Signal()  # the batch was (re)loaded: rows, totals
    item_changed = Signal(int)  # one row (its idx) changed state
    progress = Signal(int, int, int, float, object)  # done, failed, total, items/s, ETA s
    running_changed = Signal(bool)
    failed = Signal(str)  # a user-facing error (bad input, cluster unreachable, signing)

    def __init__(self, paths: StudioPaths, settings: Any, library: Library, *,
                 engine: Callable[[], Any] | None = None,
                 on_asset: Callable[[int], None] | None = None) -> None:
        # ``engine`` gives the app's one engine for local batches (one pipeline in memory);
        # ``on_asset(id)`` announces each stored output (the Library view listens).
        self.paths, self.settings, self.library = paths, settings, library
        self._engine, self._on_asset = engine, on_asset
        self.store = BatchStore(library)
        self.batch_id: int | None = None
        self.rows: list[ItemRow] = []
        self.rate = 0.0
        self.eta: float | None = None
        self._thread: threading.Thread | None = None
        self._runner: BatchRunner | None = None
        self._lock = threading.Lock()

    # -- queries ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def models(self) -> list[tuple[str, str]]:
        """(id, label) of the registered models."""
        return [(e.id, e.label) for e in ModelRegistry(self.library).list()]

    def counts(self) -> tuple[int, int, int]:
        done = sum(r.state is ItemState.DONE for r in self.rows)
        failed = sum(r.state is ItemState.FAILED for r in self.rows)
        return done, failed, len(self.rows)

    # -- actions ----------------------------------------------------------------------------

    def start(self, *, model_id: str, prompts: list[str], seeds: str, steps: int | None,
              size: str | None, ray_address: str | None = None,
              ray: RayOptions = DEFAULT_RAY) -> None:
        """Create a batch from a prompts × seeds matrix and run it (off the caller's thread)."""
        def create() -> int:
            entry = ModelRegistry(self.library).get(model_id)
            if entry is None:
                raise BatchError("Choose a model first (add one in Generate).")
            lines = [p.strip() for p in prompts if p.strip()]
            if not lines:
                raise BatchError("Write at least one prompt (one per line).")
            opts = Options(steps=steps, size=parse_size(size) if size else None)
            requests = matrix([entry], lines, parse_seeds(seeds), opts,
                              self.settings.generation)
            backend = f"ray:{ray_address}" if ray_address else "local"
            return self.store.create(requests, backend=backend).id

        self._spawn(create, retry_failed=False, ray=ray)

    def resume(self, batch_id: int, *, retry_failed: bool = False,
               ray: RayOptions = DEFAULT_RAY) -> None:
        self._spawn(lambda: batch_id, retry_failed=retry_failed, ray=ray)

    def retry_failed(self) -> None:
        if self.batch_id is not None:
            self.resume(self.batch_id, retry_failed=True)

    def cancel(self) -> None:
        runner = self._runner
        if runner is not None:
            runner.stop()

    def shutdown(self, timeout: float = 10.0) -> None:
        self.cancel()
        if self._thread is not None:
            self._thread.join(timeout)

    def _spawn(self, which: Any, *, retry_failed: bool, ray: RayOptions) -> None:
        if self.running:
            self.failed.emit("A batch is running; cancel it or wait for it to finish.")
            return
        self._thread = threading.Thread(target=self._run, args=(which, retry_failed, ray),
                                        name="batch-run", daemon=True)
        self.running_changed.emit(True)
        self._thread.start()

    def _load(self, batch_id: int) -> None:
        rows = [ItemRow(it.idx, it.request.prompt, it.request.seed, it.state, it.error,
                        it.asset_id, self._thumb(it.asset_id))
                for it in self.store.items(batch_id)]
        with self._lock:
            self.batch_id, self.rows = batch_id, rows
        self.changed.emit()

    # -- the run (background thread) --------------------------------------------------------

    def _run(self, which: Any, retry_failed: bool, ray: RayOptions) -> None:
        from studio.core.provenance.studio_signer import studio_signer

        backend = None
        batch_id: int | None = None
        try:
            batch_id = which()
            self._load(batch_id)
            batch = self.store.get(batch_id)
            engine = self._engine() if self._engine and batch.backend == "local" else None
            backend = make_backend(batch.backend, self.library, self.settings, ray=ray,
                                   engine=engine)
            self._runner = BatchRunner(self.library, backend, listener=self._on_event,
                                       sign=studio_signer(self.paths, self.settings,
                                                          self.library))
            if retry_failed:
                self._set_rows(ItemState.FAILED, ItemState.PENDING)
            self._runner.run(batch_id, retry_failed=retry_failed)
        except Exception as exc:  # BatchError, RayBackendError, signing: shown to the user
            log.warning("batch %s stopped: %s", batch_id, exc)
            self.failed.emit(str(exc))
        finally:
            self._runner = None
            if backend is not None:
                close_backend(backend)
            if batch_id is not None:
                self._load(batch_id)  # the stored truth, after the last item
            self.running_changed.emit(False)

    def _set_rows(self, old: ItemState, new: ItemState) -> None:
        with self._lock:
            self.rows = [replace(r, state=new, error="") if r.state is old else r
                         for r in self.rows]
        self.changed.emit()

    def _on_event(self, ev: Any) -> None:
        if isinstance(ev, ItemEvent) and ev.batch_id == self.batch_id:
            with self._lock:
                if ev.idx >= len(self.rows):
                    return
                self.rows[ev.idx] = replace(self.rows[ev.idx], state=ev.state, error=ev.error,
                                            asset_id=ev.asset_id,
                                            thumbnail=self._thumb(ev.asset_id))
            self.item_changed.emit(ev.idx)
            if ev.asset_id is not None and self._on_asset is not None:
                self._on_asset(ev.asset_id)
        elif isinstance(ev, BatchProgress):
            self.rate, self.eta = ev.items_per_s, ev.eta_s
            self.progress.emit(ev.done, ev.failed, ev.total, ev.items_per_s, ev.eta_s)
        elif isinstance(ev, BatchFinished) and ev.state is BatchState.FAILED:
            self.failed.emit(f"{ev.failed} of {ev.total} items failed; see their errors, "
                             "then Retry failed.")

    def _thumb(self, asset_id: int | None) -> bytes | None:
        if asset_id is None:
            return None
        asset = self.library.get(asset_id)
        if asset is None:
            return None
        from PIL import Image

        try:
            with Image.open(self.library.path_of(asset)) as img:
                img.thumbnail((THUMB_EDGE, THUMB_EDGE))
                buf = io.BytesIO()
                img.convert("RGB").save(buf, format="PNG")
                return buf.getvalue()
        except OSError:
            return None
