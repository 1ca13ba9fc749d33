"""The engine with a real tiny diffusers pipeline on CPU."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from PIL import Image

from studio.core.generation.engine import (
    DeviceKnown,
    GenerationEngine,
    JobFinished,
    JobPreview,
    JobProgress,
    JobState,
)
from studio.core.generation.output import generation_record
from studio.core.library.models import AssetOrigin
from tests.generation.conftest import make_request


def _pixels(library, asset) -> np.ndarray:
    with Image.open(library.path_of(asset)) as img:
        return np.asarray(img.convert("RGB"))


def test_same_seed_same_pixels_on_folder_and_single_file(engine, library, tiny_model,
                                                         tiny_single_file) -> None:
    folder = engine.registry.add(tiny_model)
    single = engine.registry.add(tiny_single_file)
    a = engine.wait(engine.enqueue(make_request(folder)), 120)
    b = engine.wait(engine.enqueue(make_request(folder)), 120)
    c = engine.wait(engine.enqueue(make_request(single)), 120)  # switches the loaded model
    assert [j.state for j in (a, b, c)] == [JobState.DONE] * 3, (a.error, b.error, c.error)
    first = _pixels(library, a.assets[0])
    assert first.shape == (64, 64, 3) and first.std() > 0
    assert np.array_equal(first, _pixels(library, b.assets[0]))
    # The single-file checkpoint holds the same weights: the same request gives the same image.
    assert np.array_equal(first, _pixels(library, c.assets[0]))


def test_batch_uses_consecutive_seeds_and_records_generations(engine, library,
                                                              tiny_model) -> None:
    entry = engine.registry.add(tiny_model)
    job = engine.wait(engine.enqueue(make_request(entry, batch_size=2, seed=40)), 120)
    assert job.state is JobState.DONE and len(job.assets) == 2
    imgs = [_pixels(library, a) for a in job.assets]
    assert not np.array_equal(imgs[0], imgs[1])
    records = [generation_record(library, a.id) for a in job.assets]
    assert [r["seed"] for r in records] == [40, 41]
    assert all(r["model_sha256"] == entry.sha256 for r in records)
    assert all(a.origin is AssetOrigin.GENERATED for a in job.assets)
    # Item 1 alone (seed 41) reproduces the second image of the batch.
    alone = engine.wait(engine.enqueue(records[1]["request"]), 120)
    assert np.array_equal(_pixels(library, alone.assets[0]), imgs[1])


def test_cancel_stops_within_a_step_and_queue_order_holds(engine, library, tiny_model) -> None:
    entry = engine.registry.add(tiny_model)
    steps_after_cancel: list[int] = []
    order: list[int] = []
    cancelled = threading.Event()
    threads: set[threading.Thread] = set()

    def listen(ev) -> None:
        if isinstance(ev, JobProgress | JobPreview):
            threads.add(threading.current_thread())
        if isinstance(ev, JobProgress) and ev.job_id == long_id:
            if cancelled.is_set():
                steps_after_cancel.append(ev.step)
            elif ev.step == 2:
                engine.cancel(long_id)
                cancelled.set()
        if isinstance(ev, JobFinished) and ev.state is JobState.DONE:
            order.append(ev.job_id)

    engine.add_listener(listen)
    long_id = engine.enqueue(make_request(entry, steps=40))
    second = engine.enqueue(make_request(entry, seed=2))
    third = engine.enqueue(make_request(entry, seed=3))
    fourth = engine.enqueue(make_request(entry, seed=4))
    assert engine.move(fourth, 0)  # reorder the waiting jobs: fourth runs before second
    assert engine.remove(third)
    engine.wait(long_id, 120)
    for jid in (second, fourth):
        engine.wait(jid, 120)
    assert engine.job(long_id).state is JobState.CANCELLED and not engine.job(long_id).assets
    assert len(steps_after_cancel) <= 1  # at most the step already running
    assert engine.job(third).state is JobState.CANCELLED
    assert order == [fourth, second]
    assert threads == {engine.thread}  # the pipeline's callbacks ran on the worker thread


def test_progress_preview_device_and_img2img(engine, library, tiny_model) -> None:
    entry = engine.registry.add(tiny_model)
    events: list = []
    engine.add_listener(events.append)
    job = engine.wait(engine.enqueue(make_request(entry, steps=4)), 120)
    assert job.state is JobState.DONE
    progress = [e for e in events if isinstance(e, JobProgress)]
    assert [p.step for p in progress] == [1, 2, 3, 4] and progress[-1].done == 4
    previews = [e for e in events if isinstance(e, JobPreview)]
    assert previews and previews[0].image.size[0] >= 64
    assert any(isinstance(e, DeviceKnown) and e.kind == "cpu" for e in events)
    src = job.assets[0]
    img2img = make_request(entry, steps=4, init_asset_id=src.id, init_sha256=src.sha256,
                           strength=0.5)
    out = engine.wait(engine.enqueue(img2img), 120)
    assert out.state is JobState.DONE, out.error
    assert generation_record(library, out.assets[0].id)["request"].init_asset_id == src.id
    bad = make_request(entry, init_asset_id=src.id, init_sha256="0" * 64)
    failed = engine.wait(engine.enqueue(bad), 120)
    assert failed.state is JobState.FAILED and "hash does not match" in failed.error


class FakeOOMPipeline:
    """A fake: a real out-of-memory error cannot be produced on this CPU-only machine."""

    def __call__(self, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")


def test_out_of_memory_fails_the_job_and_the_queue_carries_on(library, tiny_model) -> None:
    from studio.core.generation.devices import MemoryPlan
    from studio.core.generation.pipeline import load_model

    def loader(entry, device):
        model = load_model(entry, device)
        if entry.name == "oom":
            model.pipe = FakeOOMPipeline()
            model.plan = MemoryPlan(False, False, False)  # what CPU gets: nothing to move
        return model

    engine = GenerationEngine(library, loader=loader)
    try:
        good = engine.registry.add(tiny_model)
        oom = engine.registry.add(tiny_model.parent / "tiny-sd.safetensors", name="oom")
        bad = engine.wait(engine.enqueue(make_request(oom, width=512, height=512)), 120)
        assert bad.state is JobState.FAILED
        assert "Out of memory" in bad.error and "512x512" in bad.error
        assert "attention slicing" in bad.error
        ok = engine.wait(engine.enqueue(make_request(good)), 120)
        assert ok.state is JobState.DONE
    finally:
        engine.shutdown()


def test_missing_model_files_fail_with_a_clear_message(engine, tiny_model, tmp_path) -> None:
    import shutil

    copy = tmp_path / "moved"
    shutil.copytree(tiny_model, copy)
    entry = engine.registry.add(copy)
    shutil.rmtree(copy)
    job = engine.wait(engine.enqueue(make_request(entry)), 60)
    assert job.state is JobState.FAILED and "no longer at" in job.error


@pytest.mark.gpu
def test_cuda_generation_is_deterministic(engine, library, tiny_model) -> None:
    entry = engine.registry.add(tiny_model)
    a = engine.wait(engine.enqueue(make_request(entry)), 120)
    b = engine.wait(engine.enqueue(make_request(entry)), 120)
    assert engine.device.kind == "cuda" and engine.device.dtype_name == "float16"
    assert np.array_equal(_pixels(library, a.assets[0]), _pixels(library, b.assets[0]))
