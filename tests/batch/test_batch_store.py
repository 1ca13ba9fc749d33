"""Batch planning (matrix, files, seeds) and the persisted item state machine on real SQLite."""

from __future__ import annotations

import hashlib
import json

import pytest

from studio.core.batch import plan
from studio.core.batch.store import BatchError, BatchState, BatchStore, ItemState
from studio.core.library.models import AssetOrigin
from tests.batch.conftest import requests_for


def test_parse_seeds() -> None:
    assert plan.parse_seeds("1-4") == [1, 2, 3, 4]
    assert plan.parse_seeds("7, 1-2,7") == [7, 1, 2]
    for bad, msg in (("4-1", "backwards"), ("a-b", "must look like"), ("-3", "out of range"),
                     ("", "no seeds")):
        with pytest.raises(BatchError, match=msg):
            plan.parse_seeds(bad)


def test_matrix_is_models_x_prompts_x_seeds(entry, settings) -> None:
    reqs = requests_for(entry, settings, prompts=("a", "b", "c"), seeds=range(5, 9))
    assert len(reqs) == 12
    assert [(r.prompt, r.seed) for r in reqs[:5]] == [("a", 5), ("a", 6), ("a", 7), ("a", 8),
                                                      ("b", 5)]
    assert {(r.width, r.height, r.steps, r.batch_size) for r in reqs} == {(64, 64, 2, 1)}


def test_files_jsonl_and_csv_and_their_errors(entry, settings, tmp_path) -> None:
    def resolve(spec: str):
        if spec in (entry.id, "tiny"):
            return entry
        raise BatchError(f"no model {spec!r}")

    jsonl = tmp_path / "b.jsonl"
    jsonl.write_text('# a comment\n{"prompt": "fox", "seeds": "1-3", "size": "64x64"}\n\n'
                     f'{{"prompt": "boat", "model": "{entry.id}", "seed": 9, "steps": 4}}\n')
    reqs = plan.load_file(jsonl, resolve, settings.generation, default_model="tiny")
    assert [(r.prompt, r.seed) for r in reqs] == [("fox", 1), ("fox", 2), ("fox", 3),
                                                  ("boat", 9)]
    assert reqs[0].width == 64 and reqs[3].steps == 4
    csv_file = tmp_path / "b.csv"
    csv_file.write_text("prompt,seed,model,width,height\nred,1,tiny,64,96\nblue,2,tiny,,\n")
    reqs = plan.load_file(csv_file, resolve, settings.generation)
    assert [(r.prompt, r.seed, r.width, r.height) for r in reqs] == [
        ("red", 1, 64, 96), ("blue", 2, 512, 512)]

    cases = [('{"prompt": "x"}\n{"prompt": "y", "seed": "many"}\n', "line 2: seed must be"),
             ('{"prompt": "x"}\nnot json\n', "line 2: not valid JSON"),
             ('{"prompt": ""}\n', "line 1: a 'prompt' is required"),
             ('{"prompt": "x", "model": "other"}\n', "line 1: no model 'other'"),
             ('{"prompt": "x", "size": "65x64"}\n', "line 1: Cannot generate: width must"),
             ("", "has no requests")]
    for text, msg in cases:
        jsonl.write_text(text)
        with pytest.raises(BatchError, match=msg):
            plan.load_file(jsonl, resolve, settings.generation, default_model="tiny")


def test_recover_settles_what_a_crash_left_in_the_air(library, entry, settings) -> None:
    store = BatchStore(library)
    batch = store.create(requests_for(entry, settings, prompts=("x",), seeds=range(4)))
    a, b, c, _d = store.items(batch.id)
    # a: signed and stored, then the process died before "done" (and before its record)
    data = b"\x89PNG stored before the crash"
    asset, _ = library.add_bytes(data, suffix=".png", origin=AssetOrigin.GENERATED,
                                 media_type="image/png")
    store.mark_running(a.id, "local")
    store.mark_storing(a.id, hashlib.sha256(data).hexdigest(), device="CPU", node="n")
    # b: signed, its hash written, never reached the library
    store.mark_running(b.id, "local")
    store.mark_storing(b.id, "ab" * 32, device="CPU", node="n")
    # c: handed to a backend, never came back; d: still pending
    store.mark_running(c.id, "ray")
    assert store.recover(batch.id) == 2
    a2, b2, c2, d2 = store.items(batch.id)
    assert (a2.state, a2.asset_id) == (ItemState.DONE, asset.id)
    assert [b2.state, c2.state, d2.state] == [ItemState.PENDING] * 3
    assert b2.result_sha256 is None and c2.attempts == 1
    (rec,) = library.query("SELECT request_json FROM generations WHERE asset_id = ?",
                           (asset.id,))
    assert json.loads(rec[0])["seed"] == a.request.seed  # the missing record was written
    assert store.recover(batch.id) == 0  # settling twice changes nothing
    assert library.query("SELECT count(*) FROM generations")[0][0] == 1


def test_claim_cancel_and_retry(library, entry, settings) -> None:
    store = BatchStore(library)
    with pytest.raises(BatchError, match="empty"):
        store.create([])
    batch = store.create(requests_for(entry, settings, prompts=("x",), seeds=(1, 2)))
    assert store.claim(batch.id).state is BatchState.RUNNING
    assert store.claim(batch.id).state is BatchState.RUNNING  # the same process may re-claim
    assert store.cancel(batch.id).state is BatchState.CANCELLED
    first = store.items(batch.id)[0]
    store.mark_failed(first.id, "boom")
    assert store.get(batch.id).failed == 1
    assert store.retry_failed(batch.id) == 1 and store.get(batch.id).failed == 0
    with pytest.raises(BatchError, match="no batch 99"):
        store.get(99)
