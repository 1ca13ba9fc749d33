"""Running a batch: hand pending items to a backend, sign and store what comes back, locally.

The runner is the only place a batch's outputs are signed: whatever backend made the pixels,
the bytes go through ``store_png`` with the desktop's signer, exactly like a local generation,
and the manifest records the backend, device and node. Listeners get :class:`ItemEvent` and
:class:`BatchProgress` on the runner's thread (the CLI prints; the GUI's view-model marshals).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.batch.store import BatchError, BatchItem, BatchState, BatchStore, ItemState
from studio.core.generation.backends import ItemResult, RenderBackend
from studio.core.generation.output import SignFn, store_png
from studio.core.generation.request import GenerationRequest
from studio.core.library import Library

log = logging.getLogger(__name__)

CANCEL_POLL_S = 0.25  # how often another process's `studio batch cancel` is noticed


@dataclass(frozen=True)
class ItemEvent:
    batch_id: int
    idx: int
    state: ItemState
    asset_id: int | None = None
    sha256: str | None = None
    error: str = ""
    seconds: float | None = None
    device: str = ""
    node: str = ""


@dataclass(frozen=True)
class BatchProgress:
    batch_id: int
    done: int
    failed: int
    total: int
    items_per_s: float  # this run's throughput
    eta_s: float | None  # None until the first item of this run finished


@dataclass(frozen=True)
class BatchFinished:
    batch_id: int
    state: BatchState
    done: int
    failed: int
    total: int
    seconds: float


Listener = Callable[[Any], None]


class BatchRunner:
    def __init__(self, library: Library, backend: RenderBackend, *, sign: SignFn | None,
                 listener: Listener | None = None) -> None:
        self.library = library
        self.store = BatchStore(library)
        self.backend = backend
        self.sign = sign
        self.listener = listener
        self._stop = threading.Event()

    def stop(self) -> None:
        """Stop handing out items (in-flight ones still finish and are stored)."""
        self._stop.set()

    def _emit(self, event: Any) -> None:
        if self.listener is not None:
            try:
                self.listener(event)
            except Exception:
                log.exception("batch listener failed on %r", type(event).__name__)

    def run(self, batch_id: int, *, max_in_flight: int | None = None,
            retry_failed: bool = False) -> BatchFinished:
        store = self.store
        store.claim(batch_id)
        store.recover(batch_id)
        if retry_failed:
            store.retry_failed(batch_id)
        batch = store.get(batch_id)
        out_dir = Path(batch.out_dir) if batch.out_dir else None
        pending = {it.idx: it for it in store.items(batch_id, ItemState.PENDING)}
        done, failed = batch.done, batch.failed
        started = time.monotonic()
        finished_here = 0
        last_poll = [0.0, False]

        def cancelled() -> bool:
            if self._stop.is_set():
                return True
            now = time.monotonic()
            if now - last_poll[0] >= CANCEL_POLL_S:  # another process may have cancelled
                last_poll[0] = now
                last_poll[1] = store.state(batch_id) is BatchState.CANCELLED
            return bool(last_poll[1])

        def feed() -> Iterator[tuple[int, GenerationRequest]]:
            for idx, item in pending.items():
                store.mark_running(item.id, self.backend.name)  # before the hand-over
                self._emit(ItemEvent(batch_id, idx, ItemState.RUNNING))
                yield idx, item.request

        try:
            for res in self.backend.render(feed(), max_in_flight=max_in_flight, stop=cancelled):
                item = pending[res.key]
                if self._finish_item(batch_id, item, res, out_dir):
                    done += 1
                else:
                    failed += 1
                finished_here += 1
                rate = finished_here / max(time.monotonic() - started, 1e-9)
                left = batch.total - done - failed
                self._emit(BatchProgress(batch_id, done, failed, batch.total, rate,
                                         left / rate if rate > 0 else None))
        except BaseException:
            # Items in flight are settled by recover() on resume; the batch is marked
            # cancelled so `batch list` does not show a dead run as running.
            for it in store.items(batch_id, ItemState.RUNNING):
                store.mark_pending(it.id)
            store.set_state(batch_id, BatchState.CANCELLED)
            raise
        if cancelled() and done + failed < batch.total:
            for it in store.items(batch_id, ItemState.RUNNING):
                store.mark_pending(it.id)  # never handed out, or handed out and lost
            state = BatchState.CANCELLED
        else:
            state = BatchState.FAILED if failed else BatchState.DONE
        store.set_state(batch_id, state)
        result = BatchFinished(batch_id, state, done, failed, batch.total,
                               time.monotonic() - started)
        self._emit(result)
        return result

    def _finish_item(self, batch_id: int, item: BatchItem, res: ItemResult,
                     out_dir: Path | None) -> bool:
        store = self.store
        if not res.ok:
            store.mark_failed(item.id, res.error)
            self._emit(ItemEvent(batch_id, item.idx, ItemState.FAILED, error=res.error,
                                 node=res.node))
            return False
        try:
            asset = store_png(
                self.library, res.png or b"", item.request, 0, sign=self.sign,
                timings={"load_s": res.load_s, "run_s": res.run_s}, producer=res.producer(),
                before_store=lambda sha: store.mark_storing(item.id, sha, device=res.device,
                                                            node=res.node))
        except Exception as exc:  # signing (no keyring, bad identity) or the store
            # Every later item would fail the same way: stop, and lose nothing (the item goes
            # back to pending; nothing unsigned was stored).
            store.mark_pending(item.id)
            raise BatchError(f"Batch {batch_id} stopped: item {item.idx} could not be signed "
                             f"or stored: {exc} Nothing unsigned was kept; fix this and run "
                             f"`studio batch resume {batch_id}`.") from exc
        store.mark_done(item.id, asset.id, asset.sha256, device=res.device, node=res.node,
                        seconds=res.run_s)
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            target = out_dir / f"{batch_id:04d}-{item.idx:04d}-{asset.sha256[:12]}.png"
            if not target.exists():
                shutil.copyfile(self.library.path_of(asset), target)
        self._emit(ItemEvent(batch_id, item.idx, ItemState.DONE, asset.id, asset.sha256,
                             seconds=res.run_s, device=res.device, node=res.node))
        return True

