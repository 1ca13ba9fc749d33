"""Wiring a batch run: the backend named by a spec string, the engine behind the local one, and
the desktop's signer. Shared by ``studio batch`` and the GUI's Batch view-model.

A backend spec is ``local`` (the embedded engine) or ``ray:ADDRESS`` where ADDRESS is what
``ray.init`` takes, or ``local`` to start a private Ray on this machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.core.batch.runner import BatchFinished, BatchRunner, Listener
from studio.core.batch.store import BatchError
from studio.core.generation.backends import LocalBackend, RenderBackend
from studio.core.generation.registry import ModelRegistry
from studio.core.library import Library
from studio.core.paths import StudioPaths

if TYPE_CHECKING:
    from studio.core.generation.engine import GenerationEngine


@dataclass(frozen=True)
class RayOptions:
    workers: int | None = None  # default: one per GPU, else 2
    gpus_per_worker: float | None = None  # default: 1 when the cluster has GPUs, else 0
    models_dir: str | None = None  # a model store by hash every node sees


def backend_spec(ray_address: str | None) -> str:
    return f"ray:{ray_address}" if ray_address else "local"


def make_backend(spec: str, library: Library, settings: Any, *,
                 ray: RayOptions = RayOptions(),
                 engine: GenerationEngine | None = None) -> RenderBackend:
    """``settings`` is the app Settings. ``local`` renders on ``engine`` (the app's one engine,
    so a GPU holds one pipeline), or on an engine made here and shut down by
    :func:`close_backend`."""
    gen_settings = settings.generation
    if spec == "local":
        if engine is not None:
            return LocalBackend(engine)
        from studio.core.generation.engine import GenerationEngine

        backend = LocalBackend(GenerationEngine(library, gen_settings, preview_every=1 << 30))
        backend.owns_engine = True
        return backend
    if spec.startswith("ray:") and spec[4:]:
        from studio.core.generation.ray_backend import RayBackend

        registry = ModelRegistry(library)
        return RayBackend(spec[4:], lambda req: registry.get(req.model_id), workers=ray.workers,
                          gpus_per_worker=ray.gpus_per_worker, models_dir=ray.models_dir,
                          settings=gen_settings)
    raise BatchError(f"unknown backend {spec!r}: use 'local' or 'ray:ADDRESS'")


def close_backend(backend: RenderBackend) -> None:
    backend.close()
    if isinstance(backend, LocalBackend) and backend.owns_engine:
        backend.engine.shutdown()


def run_batch(paths: StudioPaths, settings: Any, library: Library, batch_id: int,
              backend: RenderBackend, *, listener: Listener | None = None,
              retry_failed: bool = False, max_in_flight: int | None = None,
              runner_ready: Any = None) -> BatchFinished:
    """Run (or resume) ``batch_id`` on ``backend`` and sign every output with this install's
    signer. ``runner_ready(runner)`` receives the runner so a caller can stop it."""
    from studio.core.provenance.studio_signer import studio_signer

    runner = BatchRunner(library, backend, sign=studio_signer(paths, settings, library),
                         listener=listener)
    if runner_ready is not None:
        runner_ready(runner)
    return runner.run(batch_id, retry_failed=retry_failed, max_in_flight=max_in_flight)
