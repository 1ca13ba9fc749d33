"""The Generate area: the app's one engine seen from the GUI. Engine events (sent from its
worker thread) arrive as ``event`` on the main thread; the model list is cached here, so engine
events never make the registry re-list and resolve paths on the GUI thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from psygnal import Signal

from studio.services.studio import Studio


class GenerationModel:
    event = Signal(object)  # JobStarted / JobProgress / JobPreview / JobFinished / QueueChanged…
    device_status = Signal(str, bool)  # (which device will run and why, whether to act)

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self.entries: dict[str, Any] = {}  # model id -> ModelEntry
        self._attached = False
        self.device_line = ""
        self.device_needs_action = False

    @property
    def engine(self) -> Any:
        """The app's engine, built now if it was not yet (first job, first edit)."""
        self.attach()
        return self.studio.engine

    def warm(self):
        """An operation building the engine off the GUI thread (nothing once it is built)."""
        studio = self.studio
        return studio.runner.run(lambda: None if studio.closed else studio.engine,
                                 label="Loading the generator")

    def attach(self) -> None:
        """Relay the engine's events from now on, without building the engine (it may be built
        later, by a job from here or from the batch area)."""
        if not self._attached:
            self.studio.add_engine_listener(self._relay)
            self._attached = True

    def _relay(self, ev: object) -> None:  # on the engine's worker thread
        self.studio.emit(self.event, ev)
        if type(ev).__name__ == "DeviceKnown":  # torch is loaded now: the device for certain
            from studio.core.accelerator import detect, explain_device, torch_build

            try:
                line, act = explain_device(detect(), torch_build())
            except Exception as exc:  # a probe failure must not break the job's events
                line, act = f"Device: {getattr(ev, 'label', '?')} ({exc})", False
            studio = self.studio
            studio.runner.post(lambda: None if studio.closed else self._set_device(line, act))

    def detach(self) -> None:
        if self._attached:
            self.studio.remove_engine_listener(self._relay)
        self._attached = False

    def shutdown_engine(self, timeout: float = 10.0) -> None:
        """Stop the engine's worker if it was ever built."""
        if "engine" in self.studio.__dict__:
            self.studio.engine.shutdown(timeout=timeout)

    @property
    def registry(self) -> Any:
        """The registered models (SQLite only: listing them needs no engine)."""
        from studio.core.generation.registry import ModelRegistry

        return ModelRegistry(self.studio.library)

    # -- device -----------------------------------------------------------------------------

    def check_device(self):
        """An operation saying which device will generate and why (accelerator probe and the
        installed PyTorch's build, read without importing torch); ends in ``device_status``."""
        def probe() -> tuple[str, bool]:  # the import too runs on the pool thread (~40 ms)
            from studio.core.accelerator import detect, explain_device, installed_torch_build

            return explain_device(detect(), installed_torch_build())

        return self.studio.runner.run(probe, label="Checking the GPU").success(
            lambda r: self._set_device(*r))

    def _set_device(self, line: str, needs_action: bool) -> None:
        self.device_line, self.device_needs_action = line, needs_action
        self.device_status.emit(line, needs_action)

    # -- models -----------------------------------------------------------------------------

    def reload_models(self) -> list[Any]:
        entries = self.registry.list()
        self.entries = {e.id: e for e in entries}
        return entries

    def model(self, model_id: str | None) -> Any:
        return self.entries.get(model_id) if model_id else None

    def add_model(self, path: Path, name: str = ""):
        """An operation adding (and hashing, once) a model file or folder."""
        registry = self.registry
        return self.studio.runner.run(lambda: registry.add(path, name=name) if name
                                      else registry.add(path), label=f"Adding {path.name}")

    # -- the queue --------------------------------------------------------------------------

    def enqueue(self, request: Any) -> int:
        return self.engine.enqueue(request)

    def cancel(self, job_id: int) -> bool:
        return bool(self.engine.cancel(job_id))

    def remove(self, job_id: int) -> bool:
        return bool(self.engine.remove(job_id))

    def queue(self) -> list[tuple[int, str, str]]:
        """(job id, state, prompt) in queue order, read afresh (events can arrive late)."""
        return list(self.engine.queue_snapshot())
