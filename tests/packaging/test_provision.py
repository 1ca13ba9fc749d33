"""First-run provisioning against a FAKE local package index (tests/fake_index.py)
serving a tiny stand-in wheel named like torch: plan, download killed halfway (SIGKILL at a
named crash point, in a real child process) and resumed with HTTP Range, pip install into the
runtime folder, verify in a child process, and the app putting that folder on sys.path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fake_index import FakeIndex, build_wheel

from studio.core import provision
from studio.core.accelerator import FAKE_DRIVER_ENV, Accelerator
from studio.core.paths import resolve_paths

REPO = Path(__file__).resolve().parents[2]
DRIVER = "575.57.08"  # FAKE: the machine is told it has this NVIDIA driver


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def child_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), FAKE_DRIVER_ENV: DRIVER, **extra}
    env.pop("STUDIO_CRASH_AT", None)
    env.update(extra)
    return env


def install(index: FakeIndex, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studio.core.provision", "install",
                           "--index-url", index.url], env=child_env(**extra),
                          capture_output=True, text=True, timeout=300, check=False)


def test_killed_download_resumes_then_installs_and_verifies(wheel: Path) -> None:
    data_dir = resolve_paths().data_dir
    root = provision.runtime_dir(data_dir)
    with FakeIndex(wheel) as index:
        killed = install(index, STUDIO_CRASH_AT="provision.download.halfway")
        assert killed.returncode == -9, killed.stdout + killed.stderr
        part = root / "downloads" / (wheel.name + ".part")
        kept = part.stat().st_size
        size = wheel.stat().st_size
        assert size // 2 <= kept < size  # half the wheel survived the kill
        assert not (root / "site").exists()

        done = install(index)
        assert done.returncode == 0, done.stdout + done.stderr
        ranges = [r for m, p, r in index.requests if m == "GET" and p.startswith("/files/")]
        assert ranges[-1] == f"bytes={kept}-"  # resumed where the kill left it
        assert index.sent[f"bytes={kept}-"] == size - kept  # only the rest was sent
    assert "installing torch-2.13.0+cu128-py3-none-any.whl" in done.stdout
    assert "cu128" in done.stdout and DRIVER in done.stdout  # the choice and its reason
    build = json.loads(done.stdout.strip().splitlines()[-1])
    assert build["version"] == "2.13.0+cu128" and build["cuda"] == "12.8"
    assert build["cuda_available"] is False and build["gpu_checked"] is False  # FAKE driver
    site = provision.site_dir(data_dir)
    # Verified where pip put it (site.new, swapped in as site after), not the venv's torch.
    assert Path(build["file"]).is_relative_to(root.resolve())
    assert (site / "torch" / "version.py").is_file()
    assert (root / "downloads" / wheel.name).read_bytes() == wheel.read_bytes()
    assert not part.exists() and not (root / "site.new").exists()
    record = json.loads((root / "provisioned.json").read_text())
    assert record["plan"]["variant"] == "cu128" and record["build"]["cuda"] == "12.8"

    # The app puts the runtime on sys.path at start, without importing torch.
    code = ("import sys; from studio.core.runtime import activate; from pathlib import Path;"
            f"print(activate(Path({str(data_dir)!r})), 'torch' in sys.modules);"
            "import torch; print(torch.version.cuda)")
    out = subprocess.run([sys.executable, "-c", code], env=child_env(), capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["True", "False", "12.8"]
    # ...and `studio --selftest` reports the provisioned build's CUDA version with no GPU.
    selftest = subprocess.run([sys.executable, "-m", "studio", "--selftest"], env=child_env(),
                              capture_output=True, text=True, timeout=300, check=False).stdout
    assert "torch build   2.13.0+cu128: CUDA 12.8 build" in selftest, selftest


def test_kill_before_swap_keeps_the_previous_runtime(wheel: Path, tmp_path: Path) -> None:
    data_dir = resolve_paths().data_dir
    site = provision.site_dir(data_dir)
    (site / "torch").mkdir(parents=True)
    (site / "torch" / "__init__.py").write_text("previous = True\n")
    with FakeIndex(wheel) as index:
        killed = install(index, STUDIO_CRASH_AT="provision.before_swap")
        assert killed.returncode == -9, killed.stdout + killed.stderr
        assert (site / "torch" / "__init__.py").read_text() == "previous = True\n"
        assert install(index).returncode == 0
    assert "FAKE torch" in (site / "torch" / "__init__.py").read_text()
    assert not (provision.runtime_dir(data_dir) / "site.new").exists()


def test_cancel_and_bad_hash_lose_nothing(wheel: Path) -> None:
    data_dir = resolve_paths().data_dir
    with FakeIndex(wheel, chunk_delay=0.02) as index:
        the_plan = provision.plan(Accelerator("nvidia", "NVIDIA driver 575", DRIVER, fake=True),
                                  index_url=index.url)
        assert the_plan.wheel.size == wheel.stat().st_size and the_plan.wheel.sha256
        cancel = threading.Event()
        seen: list[tuple[str, int, int]] = []

        def progress(phase: str, done: int, total: int) -> None:
            seen.append((phase, done, total))
            if done > 300_000:
                cancel.set()

        with pytest.raises(provision.ProvisionCancelled):
            provision.Provisioner(data_dir, the_plan, progress, cancel).run()
        part = provision.runtime_dir(data_dir) / "downloads" / (wheel.name + ".part")
        assert 300_000 < part.stat().st_size < wheel.stat().st_size
        assert seen[-1][2] == wheel.stat().st_size

        # A wheel that does not match the index's hash is refused and its part removed.
        bad = provision.Plan(the_plan.choice, the_plan.accelerator,
                             provision.WheelFile(the_plan.wheel.filename, the_plan.wheel.url,
                                                 "0" * 64, the_plan.wheel.size))
        with pytest.raises(provision.ProvisionError, match="does not match"):
            provision.Provisioner(data_dir, bad).run()
        assert not part.exists() and not provision.site_dir(data_dir).exists()


def test_picks_the_real_torch_wheel_for_this_interpreter() -> None:
    """The index page of https://download.pytorch.org/whl/cu128/torch/ lists files like
    these (names as PyTorch publishes them); the pick follows this Python's tags."""
    from packaging.tags import sys_tags

    base = "https://download.pytorch.org/whl/cu128"
    py = f"cp{sys.version_info.major}{sys.version_info.minor}"
    names = [f"torch-2.13.0%2Bcu128-{py}-{py}-manylinux_2_28_x86_64.whl",
             f"torch-2.13.0%2Bcu128-{py}-{py}-manylinux_2_28_aarch64.whl",
             f"torch-2.13.0%2Bcu128-{py}-{py}-win_amd64.whl",
             "torch-2.13.0%2Bcu128-cp39-cp39-manylinux_2_28_x86_64.whl",
             f"torch-2.12.0%2Bcu128-{py}-{py}-manylinux_2_28_x86_64.whl"]
    urls = [f"{base}/{n}#sha256={'ab' * 32}" for n in names]
    linux_x86 = [t for t in (str(t) for t in sys_tags()) if t.endswith("x86_64")] or \
        [f"{py}-{py}-manylinux_2_28_x86_64"]
    assert provision.pick_wheel(urls, "2.13.0", linux_x86) == (f"{base}/{names[0]}", "ab" * 32)
    windows = [f"{py}-{py}-win_amd64"]
    assert provision.pick_wheel(urls, "2.13.0", windows)[0].endswith("win_amd64.whl")
    assert provision.pick_wheel(urls, "2.11.0", windows) is None
