"""Render backends: where a batch's pixels are made. Signing and storing always stay local.

A backend takes (key, request) pairs and yields one :class:`ItemResult` per pair, as the items
finish. It pulls the next pair only when it has room (at most ``max_in_flight`` items in
flight), so a caller that writes "running" while handing an item over gets backpressure and a
durable record for free. Two backends exist: :class:`LocalBackend` (the embedded engine's
worker thread) and ``studio.core.generation.ray_backend.RayBackend`` (actors on a Ray cluster).
"""

from __future__ import annotations

import socket
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from studio.core.generation.engine import GenerationEngine, JobState
from studio.core.generation.errors import GenerationError
from studio.core.generation.request import GenerationRequest

StopFn = Callable[[], bool]


@dataclass(frozen=True)
class ItemResult:
    """One finished item: unsigned PNG bytes, or a user-facing error."""

    key: int
    request: GenerationRequest
    png: bytes | None = None
    error: str = ""
    backend: str = "local"
    device: str = ""  # e.g. "CPU, float32" or "NVIDIA L4 (22 GiB free), float16"
    node: str = ""  # host name of the machine that rendered it
    load_s: float = 0.0
    run_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.png is not None

    def producer(self) -> dict[str, str]:
        """What the manifest records about where the pixels were made."""
        return {"backend": self.backend, "device": self.device, "node": self.node}


class RenderBackend(Protocol):
    name: str

    def render(self, items: Iterable[tuple[int, GenerationRequest]], *,
               max_in_flight: int | None = None,
               stop: StopFn | None = None) -> Iterator[ItemResult]: ...

    def describe(self) -> str: ...

    def close(self) -> None: ...


class LocalBackend:
    """The embedded engine: one worker thread, items one after another."""

    name = "local"

    def __init__(self, engine: GenerationEngine) -> None:
        self.engine = engine
        self.owns_engine = False  # the app's shared engine is not shut down with the backend
        self.node = socket.gethostname()

    def describe(self) -> str:
        return "local engine"

    def render(self, items: Iterable[tuple[int, GenerationRequest]], *,
               max_in_flight: int | None = None,
               stop: StopFn | None = None) -> Iterator[ItemResult]:
        limit = max(1, max_in_flight or 2)
        source = iter(items)
        waiting: deque[tuple[int, GenerationRequest, int]] = deque()
        exhausted = False
        while True:
            while not exhausted and len(waiting) < limit and not (stop and stop()):
                nxt = next(source, None)
                if nxt is None:
                    exhausted = True
                    break
                key, req = nxt
                try:
                    waiting.append((key, req, self.engine.enqueue(req, render_only=True)))
                except GenerationError as exc:
                    yield ItemResult(key, req, error=str(exc), backend=self.name, node=self.node)
            if not waiting:
                return
            key, req, job_id = waiting.popleft()
            job = self.engine.wait(job_id)
            if job.state is JobState.DONE and job.rendered:
                r = job.rendered[0]
                yield ItemResult(key, r.request, r.png, backend=self.name, device=r.device,
                                 node=self.node, load_s=r.load_s, run_s=r.run_s)
            else:
                yield ItemResult(key, req, error=job.error or f"generation {job.state}",
                                 backend=self.name, node=self.node)

    def close(self) -> None:
        pass  # the engine belongs to whoever passed it in
