"""PNG encode, signing and the library store run off the GPU worker and overlap the next job,
with per-job errors, the same order and results, and a working cancel."""

from __future__ import annotations

import threading
import time

from studio.core.generation.engine import (
    GenerationEngine,
    JobFinished,
    JobStarted,
    JobState,
)
from studio.core.generation.output import generation_record
from tests.generation.conftest import make_request


class SlowSigner:
    """Stands in for a slow signer/disk (a real SignFn: returns the bytes unchanged, after a
    pause); fails for the prompt it is told to, like a signer whose key is unusable."""

    def __init__(self, pause: float, fail_prompt: str = "") -> None:
        self.pause = pause
        self.fail_prompt = fail_prompt
        self.threads: set[threading.Thread] = set()

    def __call__(self, data: bytes, request, seed: int) -> bytes:
        self.threads.add(threading.current_thread())
        time.sleep(self.pause)
        if request.prompt == self.fail_prompt:
            raise RuntimeError("the signing key is locked")
        return data


def test_storing_overlaps_the_next_job_and_errors_stay_with_their_job(library,
                                                                     tiny_model) -> None:
    signer = SlowSigner(pause=1.0, fail_prompt="this one cannot be signed")
    engine = GenerationEngine(library, sign=signer)
    events: list = []
    engine.add_listener(lambda ev: events.append(ev)
                        if isinstance(ev, JobStarted | JobFinished) else None)
    try:
        entry = engine.registry.add(tiny_model)
        first = engine.enqueue(make_request(entry, batch_size=2, seed=10, steps=2))
        bad = engine.enqueue(make_request(entry, prompt="this one cannot be signed", steps=2))
        last = engine.enqueue(make_request(entry, seed=30, steps=2))
        jobs = [engine.wait(j, 300) for j in (first, bad, last)]
    finally:
        engine.shutdown()
    assert [j.state for j in jobs] == [JobState.DONE, JobState.FAILED, JobState.DONE]
    assert "could not be saved" in jobs[1].error and "key is locked" in jobs[1].error
    assert not jobs[1].assets
    # Results and their order are unchanged: seeds 10, 11, then 30.
    seeds = [generation_record(library, a.id)["seed"] for j in jobs for a in j.assets]
    assert seeds == [10, 11, 30]
    assert signer.threads and engine.thread not in signer.threads  # signing is off the worker
    finished = [ev.job_id for ev in events if isinstance(ev, JobFinished)]
    assert finished == [first, bad, last]
    # The worker started the next job while the previous one was still being signed.
    order = [(type(ev).__name__, ev.job_id) for ev in events]
    assert order.index(("JobStarted", bad)) < order.index(("JobFinished", first))


def test_shutdown_still_stores_what_was_made_and_cancels_the_running_job(library,
                                                                          tiny_model) -> None:
    signer = SlowSigner(pause=2.0)
    engine = GenerationEngine(library, sign=signer)
    entry = engine.registry.add(tiny_model)
    made = engine.enqueue(make_request(entry, steps=2, seed=5))
    running = engine.enqueue(make_request(entry, steps=40, seed=6))
    started = threading.Event()
    engine.add_listener(lambda ev: isinstance(ev, JobStarted) and ev.job_id == running
                        and started.set())
    assert started.wait(120)
    # ``made`` is still being signed (2 s) when the app quits: it must not be lost.
    assert engine.job(made).state is JobState.RUNNING
    engine.shutdown(timeout=60)
    job = engine.job(made)
    assert job.state is JobState.DONE and len(job.assets) == 1
    assert library.get(job.assets[0].id) is not None
    assert engine.job(running).state is JobState.CANCELLED and not engine.job(running).assets
