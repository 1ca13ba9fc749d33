"""Shared fixtures. Every test gets its own STUDIO_HOME: nothing touches the real home."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent
SHARED_MEDIA = REPO.parent / "shared" / "fixtures" / "media"


@pytest.fixture(autouse=True)
def studio_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "studio-home"
    monkeypatch.setenv("STUDIO_HOME", str(home))
    return home


@pytest.fixture
def paths(studio_home: Path):
    from studio.core.paths import resolve_paths

    return resolve_paths().ensure()


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has exited (what a killed writer's temp file names)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


@pytest.fixture
def shared_media() -> Path:
    """Third-party media from ../shared/fixtures/media (absent in a user's clone)."""
    if not SHARED_MEDIA.is_dir():
        pytest.skip(f"third-party fixtures not found at {SHARED_MEDIA} (only in the dev checkout)")
    return SHARED_MEDIA


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gpu_items = [i for i in items if "gpu" in i.keywords]
    if gpu_items and not _cuda_available():
        skip = pytest.mark.skip(reason="needs a CUDA GPU; none found")
        for item in gpu_items:
            item.add_marker(skip)


@pytest.fixture
def studio_window(qtbot, paths):
    """The real main window on this test's STUDIO_HOME; background work stopped afterwards."""
    from studio.app import create_context, create_window

    win = create_window(create_context(paths))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()
