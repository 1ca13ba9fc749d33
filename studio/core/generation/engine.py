"""The generation engine: one worker thread owns the pipeline; a job queue sits in front of it.

Listeners are called from the worker thread (``QueueChanged`` also from the thread that changed
the queue, ``JobFinished`` from the output thread; the GUI marshals them onto its own thread with
Qt signals; the CLI just prints). Cancel sets the pipeline's interrupt flag from
``callback_on_step_end``, so a running job stops within one step.

The worker only runs the GPU: the fast path (``fastpath.py``) is applied when a model loads,
a batch is made by as few pipeline calls as memory allows, and PNG encode, signing and the
library store run on the output stage (``output_stage.py``) while the next job denoises, so a
job's ``JobFinished`` may come after the next job's ``JobStarted``.
"""

from __future__ import annotations

import gc
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.core.generation import edit
from studio.core.generation.errors import GenerationError, ModelError
from studio.core.generation.events import (  # re-exported: listeners import them from here
    DeviceKnown,
    JobFinished,
    JobPreview,
    JobProgress,
    JobStarted,
    JobState,
    JobStatus,
    Listener,
    QueueChanged,
)
from studio.core.generation.families import FAMILIES, Family
from studio.core.generation.fastpath import FastPath
from studio.core.generation.lora import LoraRegistry
from studio.core.generation.output import SignFn, png_bytes, store_output
from studio.core.generation.output_stage import OutputStage
from studio.core.generation.registry import ModelEntry, ModelRegistry
from studio.core.generation.request import GenerationRequest
from studio.core.library import Library
from studio.core.library.models import Asset
from studio.core.settings import GenerationSettings

log = logging.getLogger(__name__)


@dataclass
class Job:
    id: int
    request: GenerationRequest
    state: JobState = JobState.QUEUED
    error: str = ""
    assets: list[Asset] = field(default_factory=list)
    cancel_requested: bool = False
    started: float = 0.0  # time.monotonic() when the worker took it
    # Render-only jobs (the batch backends' seam): unsigned PNGs are kept here instead of
    # being signed and stored, so the caller signs and records them itself.
    render_only: bool = False
    rendered: list[Rendered] = field(default_factory=list)


@dataclass(frozen=True)
class Rendered:
    """One unsigned output of a render-only job: the PNG bytes and what made them."""

    request: GenerationRequest  # the item's own request (batch_size 1, its seed)
    png: bytes  # PNG with the ``parameters`` chunk, not signed
    device: str  # device label, e.g. "CPU, float32"
    load_s: float
    run_s: float


# Loads a registry entry for a device; tests may pass a fake for what cannot run here (OOM).
Loader = Callable[[ModelEntry, Any], Any]


def oom_message(request: GenerationRequest) -> str:
    return (f"Out of memory while generating {request.width}x{request.height}, batch "
            f"{request.batch_size}. Try a smaller size or batch, or turn on attention slicing, "
            "VAE tiling or model CPU offload in Settings > Generation; closing other programs "
            "that use the GPU also helps.")


def _is_oom(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


class GenerationEngine:
    def __init__(self, library: Library, settings: GenerationSettings | None = None, *,
                 sign: SignFn | None = None, loader: Loader | None = None,
                 preview_every: int = 2, cache_dir: Path | None = None) -> None:
        self.library = library
        self.registry = ModelRegistry(library)
        self.loras = LoraRegistry(library)
        self.settings = settings or GenerationSettings()
        self.sign = sign
        self.preview_every = max(1, preview_every)
        self._loader = loader
        self._listeners: list[Listener] = []
        self._queue: list[Job] = []
        self._jobs: dict[int, Job] = {}
        self._current: Job | None = None
        self._ids = itertools.count(1)
        self._cv = threading.Condition()
        self._stopping = False
        self._model: Any = None
        self._preview_decoders: dict[str, Any] = {}  # folder -> AutoencoderTiny or None
        self.device: Any = None
        # Compiled kernels live next to the library unless the caller says where.
        self.fast = FastPath(self.settings.fast_path,
                             cache_dir or Path(library.db_path).parent / "compile-cache")
        self._output = OutputStage(self._store_item, self._job_done)
        self.thread = threading.Thread(target=self._run, name="generation-worker", daemon=True)
        self.thread.start()

    # -- listeners --------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _emit(self, event: Any) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("generation listener failed on %r", type(event).__name__)

    def queue_snapshot(self) -> tuple[tuple[int, str, str], ...]:
        """(job id, state, prompt) for the running job, then the waiting ones in order."""
        with self._cv:
            shown = ([self._current] if self._current else []) + self._queue
            return tuple((j.id, str(j.state), j.request.prompt) for j in shown)

    def _emit_queue(self) -> None:
        # Receivers on another thread may get this late: they should re-read queue_snapshot().
        self._emit(QueueChanged(self.queue_snapshot()))

    # -- queue ------------------------------------------------------------------------------

    def enqueue(self, request: GenerationRequest, *, render_only: bool = False) -> int:
        """Queue a job; ``render_only`` keeps unsigned PNGs in ``job.rendered`` (not stored)."""
        from studio.core.generation.history import PromptHistory

        request.validate()
        PromptHistory(self.library).record(request.prompt, request.negative_prompt,
                                           request.model_id)
        with self._cv:
            if self._stopping:
                raise GenerationError("The generation engine has been shut down.")
            job = Job(next(self._ids), request, render_only=render_only)
            self._jobs[job.id] = job
            self._queue.append(job)
            self._cv.notify_all()
        self._emit_queue()
        return job.id

    def job(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    def queued_ids(self) -> list[int]:
        with self._cv:
            return [j.id for j in self._queue]

    def remove(self, job_id: int) -> bool:
        """Drop a queued job (a running one is cancelled instead)."""
        with self._cv:
            job = self._jobs.get(job_id)
            if job is None:
                return False
            if job is self._current:
                job.cancel_requested = True
                return True
            if job not in self._queue:
                return False
            self._queue.remove(job)
            job.state = JobState.CANCELLED
            self._cv.notify_all()
        self._emit(JobFinished(job_id, JobState.CANCELLED))
        self._emit_queue()
        return True

    def move(self, job_id: int, index: int) -> bool:
        """Reorder: put queued job ``job_id`` at position ``index`` of the waiting jobs."""
        with self._cv:
            job = next((j for j in self._queue if j.id == job_id), None)
            if job is None:
                return False
            self._queue.remove(job)
            self._queue.insert(max(0, min(index, len(self._queue))), job)
        self._emit_queue()
        return True

    def cancel(self, job_id: int | None = None) -> bool:
        """Cancel ``job_id``, or the running job when None."""
        with self._cv:
            target = self._current if job_id is None else self._jobs.get(job_id)
            if target is None:
                return False
            if target is self._current:
                target.cancel_requested = True
                return True
        return self.remove(target.id)

    def cancel_all(self) -> None:
        for job_id in self.queued_ids():
            self.remove(job_id)
        self.cancel()

    def wait(self, job_id: int, timeout: float | None = None) -> Job:
        """Block until the job has finished (CLI and tests)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cv:
            job = self._jobs[job_id]
            while job.state in (JobState.QUEUED, JobState.RUNNING):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"job {job_id} still {job.state}")
                self._cv.wait(left)
            return job

    def shutdown(self, timeout: float = 10.0) -> None:
        with self._cv:
            self._stopping = True
            for job in self._queue:
                job.state = JobState.CANCELLED
            self._queue.clear()
            if self._current:
                self._current.cancel_requested = True
            self._cv.notify_all()
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout)
        self._output.close(timeout)  # images already made are still stored

    # -- worker -----------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._stopping:
                    self._cv.wait()
                if self._stopping:
                    break
                job = self._queue.pop(0)
                job.state = JobState.RUNNING
                self._current = job
            self._emit(JobStarted(job.id))
            self._emit_queue()
            job.started = time.monotonic()
            error: str | None = None
            try:
                self._execute(job)
            except GenerationError as exc:
                error = str(exc)
            except Exception as exc:
                if _is_oom(exc):
                    error = oom_message(job.request)
                    self._free_cuda_cache()
                else:
                    log.exception("generation job %s failed", job.id)
                    error = f"Generation failed: {exc}"
            with self._cv:
                self._current = None
            self._output.finish(job, error)  # reported once its images are stored
        self._unload()

    def _store_item(self, job: Job, image: Any, index: int, seed: int,
                    timings: dict[str, Any]) -> None:  # output thread
        if job.render_only:
            item = job.request.for_item(index)
            job.rendered.append(Rendered(item, png_bytes(image, item), self.device.label,
                                         timings.get("load_s") or 0.0,
                                         timings.get("run_s") or 0.0))
            return
        job.assets.append(store_output(self.library, image, job.request, index, seed,
                                       sign=self.sign, timings=timings))

    def _job_done(self, job: Job, error: str | None) -> None:  # output thread
        with self._cv:
            if error:
                job.state, job.error = JobState.FAILED, error
            else:
                job.state = JobState.CANCELLED if job.cancel_requested else JobState.DONE
            self._cv.notify_all()
        self._emit(JobFinished(job.id, job.state, tuple(job.assets), job.error,
                               time.monotonic() - job.started))
        self._emit_queue()

    def _ensure_model(self, request: GenerationRequest) -> tuple[Any, float]:
        from studio.core.generation.devices import probe_device

        if self.device is None:
            self.device = probe_device(self.settings.device)
            self._emit(DeviceKnown(self.device.label, self.device.kind))
        entry = self.registry.get(request.model_id)
        if entry is None:
            raise ModelError(f"The model {request.model_name or request.model_id} is not "
                             "registered any more. Add it again.")
        if entry.sha256 != request.model_sha256:
            raise ModelError(f"The model {entry.name} has changed since this request was made "
                             "(its hash differs); the image would not be reproducible.")
        if self._model is not None and self._model.entry.id == entry.id:
            return self._model, 0.0
        self._unload()  # one model at a time: free the old one before loading the next
        t0 = time.monotonic()
        if self._loader is not None:
            self._model = self._loader(entry, self.device)
        else:
            from studio.core.generation.pipeline import load_model

            self._model = load_model(entry, self.device, self.registry.list())
        return self._model, time.monotonic() - t0

    def _unload(self) -> None:
        if self._model is None:
            return
        self._model = None
        self.fast.release()
        gc.collect()
        self._free_cuda_cache()

    @staticmethod
    def _free_cuda_cache() -> None:
        import sys

        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _execute(self, job: Job) -> None:
        import torch

        from studio.core.generation.devices import plan_memory
        from studio.core.generation.pipeline import apply_memory_plan
        from studio.core.generation.preview import PreviewPump
        from studio.core.generation.schedulers import make_scheduler
        from studio.core.generation.transfer import images_to_uint8, start_copy

        req = job.request
        model, load_s = self._ensure_model(req)
        if self.fast.needs_reload(model, self.device, str(model.entry.family)):
            self._unload()  # the fast-path settings changed: start from the saved weights
            model, load_s = self._ensure_model(req)
        if req.loras and getattr(self.fast, "_model", None) is model and self.fast.plan.active:
            # The fast path fused and/or compiled this model without adapters; LoRA layers go
            # onto the plain weights, so start again from the saved model.
            self._unload()
            model, load_s = self._ensure_model(req)
        info = FAMILIES[Family(model.entry.family)]
        s = self.settings
        if hasattr(model, "native_scheduler_config"):
            apply_memory_plan(model, plan_memory(
                self.device, info.xl, req.width * req.height,
                attention_slicing=s.attention_slicing, vae_tiling=s.vae_tiling,
                cpu_offload=s.cpu_offload, need_gib=info.need_gib,
                denoiser_gib=info.denoiser_gib))
        if hasattr(model, "adapters"):
            from studio.core.generation.lora import apply_loras

            apply_loras(model.pipe, model.adapters, req.loras, self.loras,
                        Family(model.entry.family))
        elif req.loras:
            raise GenerationError("This model loader does not support LoRAs.")
        self.registry.touch(model.entry.id)
        offloaded = bool(model.plan and model.plan.cpu_offload)
        adapters = getattr(model, "adapters", None)
        # No fast path (fused QKV, compile) over LoRA layers: adapters change per job.
        if hasattr(model, "native_scheduler_config") and not offloaded \
                and not (adapters and adapters.loaded):
            self.fast.prepare(model, self.device, str(model.entry.family))
        # img2img / inpaint / outpaint start from a source (edit.py); the inpaint pipeline
        # shares the loaded weights.
        plan = edit.prepare(self.library, req) if req.is_img2img else None
        pipe = (model.inpaint() if plan is not None and plan.mask is not None
                else model.img2img() if plan is not None else model.pipe)
        pipe.scheduler = make_scheduler(req.scheduler, model.native_scheduler_config,
                                        turbo=info.turbo, flow=info.flow,
                                        native_class=model.native_scheduler_class)
        per_item = max(1, int(req.steps * req.strength)) if req.is_img2img else req.steps
        total = per_item * req.batch_size
        gen_device = "cpu" if self.device.kind == "mps" else self.device.kind

        # A batch is made by calls of up to ``chunk`` images: the prompt is encoded once per
        # call and the denoiser runs batched. Per-item generators keep item i's image equal to
        # a single run with seed + i.
        low_memory = model.plan is not None and (model.plan.cpu_offload
                                                 or model.plan.attention_slicing)
        auto_chunk = 4 if self.device.kind == "cuda" else 1
        chunk = 1 if low_memory else max(1, s.batch_per_call or auto_chunk)
        # TAESD decoders exist for SD/SDXL latents; other families use the linear/fallback map.
        decoder = self._preview_decoder(info.xl, model) if info.rgb_factors else None
        pump = PreviewPump(info, decoder=decoder, size=(req.width, req.height))
        status = lambda text: self._emit(JobStatus(job.id, text))  # noqa: E731
        for start in range(0, req.batch_size, chunk):
            if job.cancel_requested:
                return
            n = min(chunk, req.batch_size - start)
            seeds = [req.seed + start + k for k in range(n)]

            def on_step(p: Any, i: int, t: Any, kw: dict, start: int = start, n: int = n) -> dict:
                steps = getattr(p, "num_timesteps", per_item) or per_item
                self._emit(JobProgress(job.id, start, i + 1, steps,
                                       start * per_item + (i + 1) * n, total))
                image = pump.poll()
                if image is None and (i + 1) % self.preview_every == 0 and i + 1 < steps:
                    image = pump.offer(kw["latents"])
                if image is not None:
                    self._emit(JobPreview(job.id, image))
                if job.cancel_requested:
                    p._interrupt = True  # diffusers skips the remaining steps
                return kw

            kwargs: dict[str, Any] = dict(
                prompt=req.prompt, num_inference_steps=req.steps, guidance_scale=req.guidance,
                num_images_per_prompt=n, output_type="pt",
                generator=[torch.Generator(gen_device).manual_seed(seed) for seed in seeds],
                callback_on_step_end=on_step, callback_on_step_end_tensor_inputs=["latents"],
                **dict(info.call_kwargs))
            if req.negative_prompt:
                kwargs["negative_prompt"] = req.negative_prompt
            if plan is not None:
                kwargs.update(plan.pipe_kwargs(req))
            else:
                kwargs.update(width=req.width, height=req.height)
            t0 = time.monotonic()
            with self.fast.call((req.width, req.height, n, req.guidance > 1), status):
                images = pipe(**kwargs).images
            if job.cancel_requested:
                return  # an interrupted run still decodes; those images are not kept
            # Queue the copy to the host and hand it to the output stage without waiting
            # (an edit's unmasked pixels go back there too, off the GPU thread).
            self._output.put_images(job, start_copy(images_to_uint8(images)), start, seeds,
                                    {"load_s": load_s if start == 0 else 0.0,
                                     "run_s": (time.monotonic() - t0) / n},
                                    finish=plan.finish if plan is not None else None)

    def _preview_decoder(self, xl: bool, model: Any) -> Any:
        """The TAESD-family decoder set for this kind of latents, loaded once per folder."""
        from studio.core.generation.preview_decoder import decoder_path, load_preview_decoder

        folder = decoder_path(self.settings, xl)
        if not folder:
            return None
        if folder not in self._preview_decoders:
            pipe = getattr(model, "pipe", None)
            dtype = getattr(getattr(pipe, "vae", None), "dtype", None)
            self._preview_decoders[folder] = load_preview_decoder(folder, self.device.kind, dtype)
        return self._preview_decoders[folder]
