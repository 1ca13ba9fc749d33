"""The packaged bundle, run as a user would: copied out of the repo, with a clean environment.

Building takes minutes, so this is marked slow. It builds with scripts/package.py unless
STUDIO_BUNDLE points at a bundle folder that was built already.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Building the bundle alone takes several minutes on 2 cores.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def clean_env(home: Path) -> dict[str, str]:
    # No venv on PATH, no PYTHONPATH: only what the bundle carries.
    keep = {k: os.environ[k] for k in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR",
                                        "GNOME_KEYRING_CONTROL", "XDG_DATA_HOME", "LANG")
            if k in os.environ}
    return {**keep, "PATH": "/usr/bin:/bin", "HOME": str(home), "STUDIO_HOME": str(home / "s"),
            "QT_QPA_PLATFORM": "offscreen"}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = os.environ.get("STUDIO_BUNDLE")
    if built:
        src = Path(built)
    else:
        # The real build, archives included; only their compression is light (minutes saved).
        subprocess.run([sys.executable, str(REPO / "scripts" / "package.py"),
                        "--fast-compression"], check=True, cwd=REPO, timeout=3600)
        src = REPO / "dist" / "provenance-studio"
    dest = tmp_path_factory.mktemp("installed") / "provenance-studio"
    shutil.copytree(src, dest, symlinks=True)
    return dest


def run(bundle: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(bundle / "studio"), *args], env=env, capture_output=True,
                          text=True, timeout=600, check=False)


def test_selftest_passes_from_the_bundle(bundle: Path, tmp_path: Path) -> None:
    out = run(bundle, clean_env(tmp_path), "--selftest")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "selftest: all checks passed" in out.stdout


def test_demo_model_generate_and_verify(bundle: Path, tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    model = tmp_path / "demo"
    made = run(bundle, env, "demo-model", str(model))
    assert made.returncode == 0, made.stderr
    gen = run(bundle, env, "generate", "--model", str(model), "--prompt", "a test",
              "--steps", "2", "--size", "64x64", "--seed", "7", "--json")
    assert gen.returncode == 0, gen.stderr
    files = [Path(o["path"]) for o in json.loads(gen.stdout)["outputs"]]
    assert files and all(f.is_file() for f in files)
    verified = run(bundle, env, "verify", str(files[0]), "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["state"] in ("valid", "trusted")


def test_bundle_reports_its_pytorch_build_and_can_provision(bundle: Path, tmp_path: Path) -> None:
    """The cpu bundle carries a CPU build and says so without a GPU; the pip that first-run
    provisioning runs inside the bundle (no separate Python there) works."""
    env = clean_env(tmp_path)
    out = run(bundle, env, "--selftest").stdout
    line = next(x for x in out.splitlines() if " torch build " in x)
    assert "CPU build" in line or "CUDA" in line or "ROCm" in line, out
    pip = subprocess.run([str(bundle / "studio"), "--internal-provision", "pip", "--version"],
                         env=env, capture_output=True, text=True, timeout=300, check=False)
    assert pip.returncode == 0 and pip.stdout.startswith("pip "), pip.stdout + pip.stderr
