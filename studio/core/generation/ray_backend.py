"""The Ray backend: a pool of actors, each holding a loaded pipeline, on a Ray cluster.

``address`` is what ``ray.init`` takes (``ray://head:10001``, ``head:6379``, ``auto``), or
``local`` to start a private Ray on this machine for trying it. ``ray`` is imported here only,
when a batch first uses this backend: never at app start.

Fault tolerance is Ray's: actors restart (``max_restarts``) and the calls in flight on a lost
actor are retried (``max_task_retries``), so a worker that dies mid-batch loses no item. An
error raised by the rendering itself (a missing model) is not retried: it becomes that item's
error message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from studio.core.generation.backends import ItemResult, StopFn
from studio.core.generation.registry import ModelEntry
from studio.core.generation.request import GenerationRequest
from studio.core.settings import GenerationSettings

log = logging.getLogger(__name__)

MAX_RESTARTS = 3  # per actor, over the life of the pool
MAX_TASK_RETRIES = 3  # per call, when its actor died under it
PER_WORKER_IN_FLIGHT = 2  # one running, one queued: the next item is on the node already


class RayBackendError(Exception):
    """The cluster cannot be reached or used; the message is meant for the user."""


class RayBackend:
    name = "ray"

    def __init__(self, address: str, resolve_model: Callable[[GenerationRequest],
                                                            ModelEntry | None], *,
                 workers: int | None = None, gpus_per_worker: float | None = None,
                 models_dir: str | None = None,
                 settings: GenerationSettings | None = None) -> None:
        self.address = address
        self.resolve_model = resolve_model
        self.workers = workers
        self.gpus_per_worker = gpus_per_worker
        self.models_dir = models_dir
        self.settings = settings or GenerationSettings()
        self._actors: list[Any] = []
        self._owns_ray = False
        self._ray: Any = None

    def describe(self) -> str:
        n = len(self._actors) or self.workers or "auto"
        return f"Ray at {self.address} ({n} workers, {self.gpus_per_worker or 0} GPU each)"

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        if self._actors:
            return
        try:
            import ray
        except ImportError as exc:
            raise RayBackendError("Ray is not installed: pip install 'ray>=2.40'") from exc
        self._ray = ray
        if not ray.is_initialized():
            try:
                if self.address == "local":
                    ray.init(num_cpus=self.workers or None, include_dashboard=False,
                             log_to_driver=False)
                else:
                    ray.init(address=self.address)
            except Exception as exc:  # ConnectionError, RuntimeError, ValueError...
                raise RayBackendError(f"Cannot connect to the Ray cluster at {self.address}: "
                                      f"{exc}") from exc
            self._owns_ray = True
        resources = ray.cluster_resources()
        gpus = float(resources.get("GPU", 0))
        if self.gpus_per_worker is None:
            self.gpus_per_worker = 1.0 if gpus >= 1 else 0.0
        if self.workers is None:
            cpus = int(resources.get("CPU", 1))
            self.workers = max(1, int(gpus // self.gpus_per_worker) if self.gpus_per_worker
                               else min(2, cpus))
        from studio.core.generation.ray_worker import RenderWorker

        actor = ray.remote(num_cpus=1, num_gpus=self.gpus_per_worker, max_restarts=MAX_RESTARTS,
                           max_task_retries=MAX_TASK_RETRIES)(RenderWorker)
        # The settings dataclass itself (Ray pickles it): nested sections stay dataclasses.
        self._actors = [actor.remote(self.settings, self.models_dir)
                        for _ in range(self.workers)]
        log.info("ray backend: %s", self.describe())

    def worker_info(self) -> list[dict[str, Any]]:
        """pid and node of each actor (waits until they are up)."""
        self.start()
        return self._ray.get([a.info.remote() for a in self._actors])

    def close(self) -> None:
        ray = self._ray
        if ray is None:
            return
        for a in self._actors:
            try:
                ray.kill(a)
            except Exception:  # already gone
                log.debug("ray actor already gone", exc_info=True)
        self._actors = []
        if self._owns_ray:
            ray.shutdown()
            self._owns_ray = False

    # -- rendering --------------------------------------------------------------------------

    def _model_spec(self, req: GenerationRequest) -> dict[str, Any]:
        entry = self.resolve_model(req)
        if entry is None or entry.sha256 != req.model_sha256:
            raise LookupError(f"The model {req.model_name or req.model_id} (sha256 "
                              f"{req.model_sha256[:12]}) is not registered in this library.")
        return {"sha256": entry.sha256, "name": entry.name, "path": entry.path,
                "config_dir": entry.config_dir}

    def _error_text(self, exc: BaseException) -> str:
        ray = self._ray
        if isinstance(exc, ray.exceptions.RayTaskError):
            cause = getattr(exc, "cause", None)
            if cause is not None:
                return str(cause)
        if isinstance(exc, ray.exceptions.RayActorError):
            return (f"The Ray worker rendering this item was lost and Ray's retries "
                    f"({MAX_RESTARTS} restarts) ran out: {exc}")
        return f"The Ray backend failed on this item: {exc}"

    def render(self, items: Iterable[tuple[int, GenerationRequest]], *,
               max_in_flight: int | None = None,
               stop: StopFn | None = None) -> Iterator[ItemResult]:
        self.start()
        ray = self._ray
        limit = max(1, max_in_flight or PER_WORKER_IN_FLIGHT * len(self._actors))
        load = [0] * len(self._actors)
        flying: dict[Any, tuple[int, GenerationRequest, int]] = {}  # ref -> key, req, actor
        source = iter(items)
        exhausted = False
        while True:
            while not exhausted and len(flying) < limit and not (stop and stop()):
                nxt = next(source, None)
                if nxt is None:
                    exhausted = True
                    break
                key, req = nxt
                try:
                    spec = self._model_spec(req)
                except LookupError as exc:
                    yield ItemResult(key, req, error=str(exc), backend=self.name)
                    continue
                i = min(range(len(load)), key=load.__getitem__)  # least busy actor
                ref = self._actors[i].render.remote(spec, req.to_json())
                flying[ref] = (key, req, i)
                load[i] += 1
            if not flying:
                return
            (ref,), _ = ray.wait(list(flying), num_returns=1)
            key, req, i = flying.pop(ref)
            load[i] -= 1
            try:
                out = ray.get(ref)
            except Exception as exc:
                yield ItemResult(key, req, error=self._error_text(exc), backend=self.name)
                continue
            yield ItemResult(key, req, out["png"], backend=self.name, device=out["device"],
                             node=out["node"], load_s=out["load_s"], run_s=out["run_s"])
