"""A real ``studio import`` process SIGKILLed at named points (``STUDIO_CRASH_AT``, see
studio/core/crashpoints.py) leaves a library with no row missing its file; orphan copies
are removed by ``Library.repair`` and importing again completes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio.core.importing.service import BATCH
from studio.core.library import Library
from studio.core.library.store import sha256_file

from .media import image


def run_import(folder: Path, crash_at: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("STUDIO_CRASH_AT", None)
    if crash_at:
        env["STUDIO_CRASH_AT"] = crash_at
    return subprocess.run([sys.executable, "-m", "studio", "import", str(folder), "--json"],
                          env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("crash_at", "rows_after_kill"),
                         [("import:copied", 0), ("import:recorded", BATCH)])
def test_kill_mid_import_keeps_library_consistent(paths, tmp_path: Path, crash_at: str,
                                                  rows_after_kill: int) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    count = BATCH + 5  # two batches: the kill lands in the first
    for i in range(count):
        image(folder / f"{i:03}.{'png' if i % 2 else 'jpg'}", "PNG" if i % 2 else "JPEG",
              size=(40 + i, 30))
    killed = run_import(folder, crash_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    with Library.open(paths) as lib:
        assert lib.count() == rows_after_kill
        report = lib.check_consistency()
        assert report.missing_files == []  # never a row without its file
        for asset in lib.list_assets():  # and every recorded file holds its bytes
            assert sha256_file(lib.path_of(asset)) == asset.sha256
        if crash_at == "import:copied":
            assert report.orphan_files  # the unrecorded copies: repair removes them
        lib.repair()
        assert lib.check_consistency().ok

    done = run_import(folder, None)
    assert done.returncode == 0, done.stderr
    with Library.open(paths) as lib:
        assert lib.count() == count and lib.check_consistency().ok


def test_library_check_finds_and_repairs_what_a_kill_left(paths, tmp_path: Path,
                                                          dead_pid: int) -> None:
    """`studio library check` reports the copies a kill between copy and commit left; the
    repair keeps them while they are recent (an import in another process looks the same)
    and removes them once old, with a dead writer's temp file; records are never touched."""
    folder = tmp_path / "drop"
    folder.mkdir()
    for i in range(3):
        image(folder / f"{i}.png", "PNG", size=(40 + i, 30))
    assert run_import(folder, "import:copied").returncode == -signal.SIGKILL

    def check(*flags: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "studio", "library", "check", *flags],
                              capture_output=True, text=True, timeout=120)

    found = check("--json")
    assert found.returncode == 1, found.stderr
    report = json.loads(found.stdout)
    assert len(report["orphan_files"]) == 3 and report["missing_files"] == []

    kept = check("--repair")  # just made: may be another process's import in flight
    assert kept.returncode == 1 and "Kept 3 file(s)" in kept.stdout, kept.stdout

    with Library.open(paths) as lib:
        old = time.time() - 3600
        for rel in lib.check_consistency().orphan_files:
            os.utime(lib.store.path_of(rel), (old, old))
        dead_tmp = lib.store.root / f".incoming-{dead_pid}-0"
        dead_tmp.write_bytes(b"half a copy")
    repaired = check("--repair")
    assert repaired.returncode == 0 and "Removed 4 leftover file(s)" in repaired.stdout
    clean = check()
    assert clean.returncode == 0 and "consistent" in clean.stdout, clean.stdout
    assert not dead_tmp.exists()

    done = run_import(folder, None)  # importing again completes
    assert done.returncode == 0, done.stderr
    with Library.open(paths) as lib:
        assert lib.count() == 3 and lib.check_consistency().ok

