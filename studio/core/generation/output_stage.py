"""The output stage: PNG encode, signing and the library store, off the GPU worker.

The worker hands each pipeline call's images over (as a host copy still in flight) and goes on
to the next batch or job; one output thread turns them into signed, stored assets in the order
they were handed over, then finishes the job. The queue is bounded, so a slow disk or signer
holds the worker back instead of piling images up in memory.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.core.generation.transfer import HostCopy, uint8_to_pil

log = logging.getLogger(__name__)

# store(job, image, index, seed, timings) -> asset; finish(job, error or None)
StoreFn = Callable[[Any, Any, int, int, dict[str, Any]], Any]
FinishFn = Callable[[Any, str | None], None]


@dataclass
class _Images:
    job: Any
    images: HostCopy  # (n, H, W, 3) uint8
    first_index: int
    seeds: list[int]
    timings: dict[str, Any]
    finish: Callable[[Any], Any] | None = None  # PIL -> PIL before storing (edit.py)


@dataclass
class _Finish:
    job: Any
    error: str | None  # what the worker already knows went wrong


class OutputStage:
    def __init__(self, store: StoreFn, finish: FinishFn, maxsize: int = 2) -> None:
        self._store = store
        self._finish = finish
        self._queue: queue.Queue[_Images | _Finish | None] = queue.Queue(maxsize=maxsize)
        self._failed: dict[int, str] = {}  # id(job) -> first store error
        self.busy_s = 0.0  # time spent encoding, signing and storing (for the bench)
        self.thread = threading.Thread(target=self._run, name="generation-output", daemon=True)
        self.thread.start()

    def put_images(self, job: Any, images: HostCopy, first_index: int, seeds: list[int],
                   timings: dict[str, Any], *, finish: Callable[[Any], Any] | None = None,
                   ) -> None:
        """Hand over one call's images (blocks while the queue is full)."""
        self._queue.put(_Images(job, images, first_index, seeds, timings, finish))

    def finish(self, job: Any, error: str | None = None) -> None:
        """After the job's last images: report it done (or failed) once they are stored."""
        self._queue.put(_Finish(job, error))

    def close(self, timeout: float = 30.0) -> None:
        """Store what was handed over, then stop."""
        self._queue.put(None)
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if isinstance(item, _Finish):
                error = self._failed.pop(id(item.job), None) or item.error
                self._call_finish(item.job, error)
                continue
            if id(item.job) in self._failed:
                continue  # this job already failed to store an image: skip the rest
            t0 = time.perf_counter()
            try:
                images = uint8_to_pil(item.images.wait())
                for k, (image, seed) in enumerate(zip(images, item.seeds, strict=True)):
                    if item.finish is not None:
                        image = item.finish(image)
                    self._store(item.job, image, item.first_index + k, seed, item.timings)
            except Exception as exc:
                log.exception("storing a generated image failed")
                self._failed[id(item.job)] = f"The image could not be saved: {exc}"
            self.busy_s += time.perf_counter() - t0

    def _call_finish(self, job: Any, error: str | None) -> None:
        try:
            self._finish(job, error)
        except Exception:
            log.exception("finishing a generation job failed")
