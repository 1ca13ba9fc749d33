"""What the generation engine tells its listeners (on its worker thread), apart from the
engine so a view can know the event types without loading the engine, the library and PIL
(the Generate section is built right after the window's first paint; the engine on the first
job). :mod:`studio.core.generation.engine` re-exports every name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from studio.core.library.models import Asset


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


# -- events (delivered to listeners on the worker thread) -----------------------------------

@dataclass(frozen=True)
class DeviceKnown:
    label: str
    kind: str


@dataclass(frozen=True)
class QueueChanged:
    jobs: tuple[tuple[int, str, str], ...]  # (job id, state, prompt) in queue order


@dataclass(frozen=True)
class JobStarted:
    job_id: int


@dataclass(frozen=True)
class JobProgress:
    job_id: int
    item: int  # batch item
    step: int  # 1-based step within the item
    steps: int
    done: int  # steps done over the whole job
    total: int


@dataclass(frozen=True)
class JobStatus:
    job_id: int
    text: str  # e.g. "Preparing the fast path… (first time only)"


@dataclass(frozen=True)
class JobPreview:
    job_id: int
    image: Any  # PIL.Image


@dataclass(frozen=True)
class JobFinished:
    job_id: int
    state: JobState
    assets: tuple[Asset, ...] = ()
    error: str = ""
    seconds: float = 0.0


Listener = Callable[[Any], None]
