"""A fake hub per test (see fake_hub.py), the tiny real model's files to serve from it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.generation.conftest import keyring_ok, tiny_model, tiny_single_file  # noqa: F401
from tests.models.fake_hub import FakeHub

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fake = FakeHub().start()
    monkeypatch.setenv("HF_ENDPOINT", fake.url)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    yield fake
    fake.stop()


def studio(*args: str, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m studio ...`` in a subprocess with this test's environment."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "studio", *args], input=stdin, text=True,
                          capture_output=True, env=env, timeout=timeout, cwd=REPO)


def start_studio(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "studio", *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
