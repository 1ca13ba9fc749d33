"""The Ray backend on a real local Ray (started once for this module, 2 CPUs) with the tiny real
pipeline; outputs are signed here with the real keyring and c2pa."""

from __future__ import annotations

import os
import shutil
import signal
import threading
from io import BytesIO
from pathlib import Path

import pytest

from studio.core.batch.runner import ItemEvent
from studio.core.batch.service import run_batch
from studio.core.batch.store import BatchState, BatchStore, ItemState
from studio.core.generation.engine import GenerationEngine
from studio.core.generation.ray_backend import RayBackend
from studio.core.generation.registry import ModelRegistry
from studio.core.provenance.reader import read_report
from studio.core.provenance.report import ProvenanceState
from tests.batch.conftest import pixels, requests_for

REPO = Path(__file__).resolve().parents[2]
ray = pytest.importorskip("ray")
torch = pytest.importorskip("torch")


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    # Workers import `studio` from this checkout (a user's cluster has it installed).
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), old) if p)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
    if old is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old


def backend_for(library, settings, **kw) -> RayBackend:
    registry = ModelRegistry(library)
    return RayBackend("auto", lambda req: registry.get(req.model_id), workers=2,
                      settings=settings.generation, **kw)


def test_ray_batch_is_signed_locally_and_pixel_identical_to_local(paths, library, settings,
                                                                  entry, keyring_ok) -> None:
    requests = requests_for(entry, settings)
    batch = BatchStore(library).create(requests, backend="ray:auto")
    backend = backend_for(library, settings)
    try:
        result = run_batch(paths, settings, library, batch.id, backend)
    finally:
        backend.close()
    assert result.state is BatchState.DONE and (result.done, result.failed) == (12, 0)
    items = BatchStore(library).items(batch.id)
    assert len({it.result_sha256 for it in items}) == 12
    assert {it.backend for it in items} == {"ray"} and all(it.device for it in items)

    # The same requests on the local engine give the same pixels, item by item. On CPU, float
    # sums depend on the thread count, so the local run uses the workers' one thread each
    # (num_cpus=1 actors); on GPUs the device is what must match.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    local = GenerationEngine(library, settings.generation)
    try:
        for it in items:
            job = local.wait(local.enqueue(it.request, render_only=True), timeout=120)
            assert job.rendered, job.error
            ray_pixels = pixels(library.path_of(library.get(it.asset_id)))
            assert pixels(BytesIO(job.rendered[0].png)) == ray_pixels, it.idx
    finally:
        local.shutdown()
        torch.set_num_threads(threads)
    report = read_report(library.path_of(library.get(items[0].asset_id)))
    assert report.state == ProvenanceState.VALID, report.failures
    producer = report.generation["producer"]
    assert producer["backend"] == "ray" and producer["device"] == items[0].device
    assert report.generation["request"]["seed"] == items[0].request.seed


def test_a_killed_worker_loses_no_item(paths, library, settings, entry, keyring_ok) -> None:
    requests = requests_for(entry, settings, steps=6)
    batch = BatchStore(library).create(requests, backend="ray:auto")
    backend = backend_for(library, settings)
    victim = backend.worker_info()[0]["pid"]
    killed = threading.Event()

    def on_event(ev) -> None:
        if isinstance(ev, ItemEvent) and ev.state is ItemState.DONE and not killed.is_set():
            os.kill(victim, signal.SIGKILL)  # its running and queued items are in flight
            killed.set()

    try:
        result = run_batch(paths, settings, library, batch.id, backend, listener=on_event)
        pids = {w["pid"] for w in backend.worker_info()}
    finally:
        backend.close()
    assert killed.is_set(), (result, {it.error for it in BatchStore(library).items(batch.id)})
    assert victim not in pids  # Ray restarted that actor
    assert result.state is BatchState.DONE and (result.done, result.failed) == (12, 0)
    items = BatchStore(library).items(batch.id)
    assert all(it.state is ItemState.DONE for it in items)
    assert len({it.asset_id for it in items}) == 12
    assert library.query("SELECT count(*) FROM generations")[0][0] == 12


def test_a_model_missing_on_the_workers_is_a_clear_item_error(paths, library, settings, entry,
                                                              tmp_path, keyring_ok) -> None:
    store_dir = tmp_path / "worker-models"  # the workers' model store, without the model
    store_dir.mkdir()
    requests = requests_for(entry, settings, prompts=("x",), seeds=(1, 2))
    batch = BatchStore(library).create(requests, backend="ray:auto")
    backend = backend_for(library, settings, models_dir=str(store_dir))
    try:
        result = run_batch(paths, settings, library, batch.id, backend)
        assert result.state is BatchState.FAILED and result.failed == 2
        for it in BatchStore(library).items(batch.id):
            assert it.state is ItemState.FAILED
            assert f"(sha256 {entry.sha256[:12]}) is not in the workers' model store" in it.error
            assert str(store_dir) in it.error
        assert library.query("SELECT count(*) FROM generations")[0][0] == 0

        shutil.copytree(Path(entry.path), store_dir / entry.sha256)  # now the nodes have it
        again = run_batch(paths, settings, library, batch.id, backend, retry_failed=True)
    finally:
        backend.close()
    assert again.state is BatchState.DONE and again.done == 2
