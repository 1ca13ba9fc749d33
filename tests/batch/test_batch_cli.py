"""`studio batch` as a user runs it (local engine), including a SIGKILLed run resumed."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from studio.cli import main
from studio.core.provenance.reader import read_report
from studio.core.provenance.report import ProvenanceState
from tests.batch.conftest import pixels

REPO = Path(__file__).resolve().parents[2]


def batch_json(capsys, *argv: str) -> tuple[int, dict]:
    rc = main(["batch", *argv, "--json"])
    return rc, json.loads(capsys.readouterr().out)


def test_run_a_matrix_then_list_show_and_out_dir(tiny_model, tmp_path, capsys,
                                                 keyring_ok) -> None:
    out = tmp_path / "out"
    rc, data = batch_json(capsys, "run", "--model", str(tiny_model), "--prompt", "a fox",
                          "--prompt", "a boat", "--seeds", "1-2", "--steps", "2",
                          "--size", "64x64", "--out", str(out))
    assert rc == 0 and data["state"] == "done" and data["total"] == 4
    assert [(i["prompt"], i["seed"]) for i in data["items"]] == [
        ("a fox", 1), ("a fox", 2), ("a boat", 1), ("a boat", 2)]
    assert len({i["sha256"] for i in data["items"]}) == 4
    first = data["items"][0]
    assert first["backend"] == "local" and first["device"]
    report = read_report(first["path"])
    assert report.state == ProvenanceState.VALID, report.failures
    assert report.generation["producer"]["backend"] == "local"
    assert sorted(p.name[:9] for p in out.iterdir()) == [
        "0001-0000", "0001-0001", "0001-0002", "0001-0003"]
    # Same seed and prompt -> same pixels as `studio generate` makes locally.
    assert main(["generate", "--model", str(tiny_model), "--prompt", "a fox", "--seed", "1",
                 "--steps", "2", "--size", "64x64", "--json"]) == 0
    [gen] = json.loads(capsys.readouterr().out)["outputs"]
    assert pixels(gen["path"]) == pixels(first["path"])

    assert main(["batch", "list"]) == 0
    assert "done" in capsys.readouterr().out
    rc, again = batch_json(capsys, "resume", "1")  # nothing left: nothing redone
    assert rc == 0 and [i["sha256"] for i in again["items"]] == [
        i["sha256"] for i in data["items"]]


def test_bad_input_is_a_clear_error_and_creates_nothing(tiny_model, tmp_path, capsys) -> None:
    assert main(["batch", "run", "--model", str(tiny_model), "--prompt", "x",
                 "--seeds", "9-1"]) == 2
    assert "runs backwards" in capsys.readouterr().err
    assert main(["batch", "run", "--model", "nope", "--prompt", "x"]) == 2
    assert "no model 'nope'" in capsys.readouterr().err
    bad = tmp_path / "b.jsonl"
    bad.write_text('{"prompt": "x", "steps": 0}\n')
    assert main(["batch", "run", str(bad), "--model", str(tiny_model)]) == 2
    assert "b.jsonl line 1: Cannot generate: steps must be" in capsys.readouterr().err
    assert main(["batch", "resume", "7"]) == 1
    assert "no batch 7" in capsys.readouterr().err
    assert main(["batch", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_sigkilled_mid_batch_resumes_without_duplicates(tiny_model, paths, keyring_ok) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "studio", "batch", "run", "--model", str(tiny_model),
           "--prompt", "a killed fox", "--seeds", "1-12", "--steps", "4", "--size", "64x64"]
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    done_at_kill = -1
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            if paths.library_db.exists():
                try:
                    with sqlite3.connect(paths.library_db, timeout=5) as conn:
                        n = conn.execute("SELECT count(*) FROM batch_items WHERE state = 'done'"
                                         ).fetchone()[0]
                except sqlite3.OperationalError:  # tables not made yet
                    n = 0
                if n >= 3:
                    proc.send_signal(signal.SIGKILL)
                    done_at_kill = n
                    break
            time.sleep(0.02)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert 3 <= done_at_kill < 12, proc.stderr.read().decode()
    assert proc.returncode == -signal.SIGKILL

    out = subprocess.run([*cmd[:4], "resume", "1", "--json"], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["state"] == "done" and data["done"] == 12
    with sqlite3.connect(paths.library_db) as conn:
        assets = conn.execute("SELECT count(*) FROM assets").fetchone()[0]
        records = conn.execute("SELECT count(*), count(DISTINCT asset_id) FROM generations"
                               ).fetchone()
    assert assets == 12 and tuple(records) == (12, 12)  # no output twice, none lost
    assert len({i["asset_id"] for i in data["items"]}) == 12
    assert sorted(i["seed"] for i in data["items"]) == list(range(1, 13))


def test_cancel_from_another_process_stops_the_run_and_resume_finishes(
        tiny_model, paths, library, settings, capsys, keyring_ok) -> None:
    import threading

    from studio.core.batch.runner import ItemEvent
    from studio.core.batch.service import close_backend, make_backend, run_batch
    from studio.core.batch.store import BatchState, BatchStore, ItemState
    from studio.core.generation.registry import ModelRegistry
    from tests.batch.conftest import requests_for

    entry = ModelRegistry(library).add(tiny_model, name="tiny")
    batch = BatchStore(library).create(requests_for(entry, settings, prompts=("c",),
                                                    seeds=range(8)))
    cancelled = threading.Event()

    def on_event(ev) -> None:
        if isinstance(ev, ItemEvent) and ev.state is ItemState.DONE and not cancelled.is_set():
            cancelled.set()  # `studio batch cancel` runs with its own connection
            assert main(["batch", "cancel", str(batch.id)]) == 0

    backend = make_backend("local", library, settings)
    try:
        result = run_batch(paths, settings, library, batch.id, backend, listener=on_event)
    finally:
        close_backend(backend)
    assert result.state is BatchState.CANCELLED and 0 < result.done < 8
    assert "batch resume 1" in capsys.readouterr().out
    left = BatchStore(library).items(batch.id, ItemState.PENDING)
    assert len(left) == 8 - result.done  # nothing lost in flight, nothing failed
    rc, data = batch_json(capsys, "resume", str(batch.id))
    assert rc == 0 and data["state"] == "done" and data["done"] == 8
    assert library.query("SELECT count(*) FROM generations")[0][0] == 8
