"""Accelerator detection and the PyTorch build chosen for it. No GPU here: tests *tell* the
chooser which driver the machine has (an Accelerator value, or the FAKE driver variable)."""

from __future__ import annotations

import queue
import re
import subprocess
import sys
from pathlib import Path

import pytest

from studio.core import accelerator as acc_mod
from studio.core.accelerator import (
    FAKE_DRIVER_ENV,
    Accelerator,
    TorchBuild,
    choose_wheel,
    detect,
    explain_device,
    installed_torch_build,
)


def nvidia(driver: str) -> Accelerator:
    return Accelerator("nvidia", f"NVIDIA driver {driver}", driver)


@pytest.mark.parametrize(("driver", "system", "variant", "cuda"), [
    ("580.82.07", "linux", "cu130", "13.0"),
    ("575.57.08", "linux", "cu128", "12.8"),
    ("535.183.01", "linux", "cu128", "12.8"),
    ("525.60.13", "linux", "cu128", "12.8"),  # exactly the minimum
    ("525.60.12", "linux", "cu118", "11.8"),  # one below it
    ("470.256.02", "linux", "cu118", "11.8"),
    ("581.15", "win32", "cu130", "13.0"),
    ("528.33", "win32", "cu128", "12.8"),
    ("528.24", "win32", "cu118", "11.8"),
])
def test_driver_version_picks_the_cuda_wheel(driver, system, variant, cuda) -> None:
    choice = choose_wheel(nvidia(driver), system)
    assert (choice.variant, choice.runtime_version, choice.accelerator) == (variant, cuda, "cuda")
    # The real PyTorch index for that variant (https://pytorch.org/get-started/locally/).
    assert choice.index_url == f"https://download.pytorch.org/whl/{variant}"
    assert choice.pip_args == ["--index-url", choice.index_url]
    assert driver in choice.reason


def test_too_old_driver_gets_cpu_with_a_reason() -> None:
    choice = choose_wheel(nvidia("418.39"), "linux")
    assert choice.variant == "cpu" and choice.index_url == "https://download.pytorch.org/whl/cpu"
    assert "older than 450.80.02" in choice.reason and "update the driver" in choice.reason


def test_rocm_apple_and_none() -> None:
    rocm = Accelerator("rocm", "AMD ROCm 6.4.1", "6.4.1")
    assert choose_wheel(rocm, "linux").index_url == "https://download.pytorch.org/whl/rocm6.4"
    assert choose_wheel(rocm, "win32").variant == "cpu"
    apple = choose_wheel(Accelerator("apple", "Apple silicon GPU (Metal)"), "darwin")
    assert (apple.variant, apple.accelerator) == ("default", "mps")
    none = choose_wheel(Accelerator("none", "no NVIDIA driver or ROCm found"), "linux")
    assert none.variant == "cpu" and none.reason == "CPU: no NVIDIA driver or ROCm found"


def test_fake_driver_variable_and_proc_file(tmp_path: Path) -> None:
    found = detect({FAKE_DRIVER_ENV: "550.54.14"})
    assert found.kind == "nvidia" and found.driver == "550.54.14" and found.fake
    assert "FAKE" in found.detail
    proc = tmp_path / "version"
    proc.write_text("NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 "
                    "01:44:30 UTC 2024\nGCC version:  gcc version 12.2.0\n")
    assert acc_mod._proc_driver(proc) == "550.54.14"
    proc.write_text("garbage")
    assert acc_mod._proc_driver(proc) is None
    assert acc_mod._proc_driver(tmp_path / "missing") is None


def test_this_machine_is_detected_without_a_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FAKE_DRIVER_ENV, raising=False)
    found = detect()
    if found.kind == "nvidia":  # a CI runner with a GPU: the driver was read
        assert acc_mod.version_tuple(found.driver)
    else:
        assert choose_wheel(found).variant in ("cpu", "default", "rocm6.4")


def test_installed_build_is_read_without_importing_torch() -> None:
    code = ("import sys; from studio.core.accelerator import installed_torch_build as f; "
            "b = f(); print(b.version, b.cuda, b.hip, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    import torch

    assert out == [torch.__version__, str(torch.version.cuda),
                   str(getattr(torch.version, "hip", None)), "False"]
    assert installed_torch_build().version == torch.__version__


def test_explanations() -> None:
    cpu_build = TorchBuild("2.13.0+cpu", None, None, False, False)
    line, act = explain_device(nvidia("575.57.08"), cpu_build)
    assert act and line.startswith("CPU: CPU build of PyTorch installed on a machine with an "
                                   "NVIDIA GPU") and "reinstall the CUDA variant" in line
    line, act = explain_device(Accelerator("none", "no NVIDIA driver or ROCm found"), cpu_build)
    assert (line, act) == ("CPU: no NVIDIA driver or ROCm found", False)
    cuda_build = TorchBuild("2.13.0+cu128", "12.8", None, None, None)
    line, act = explain_device(nvidia("575.57.08"), cuda_build)
    assert not act and line.startswith("GPU expected") and "CUDA 12.8" in line
    on_gpu = TorchBuild("2.13.0+cu128", "12.8", None, True, False, "NVIDIA H200")
    assert explain_device(nvidia("575.57.08"), on_gpu) == (
        "GPU: CUDA (NVIDIA H200), PyTorch 2.13.0+cu128", False)
    broken = TorchBuild("2.13.0+cu130", "13.0", None, False, False)
    line, act = explain_device(nvidia("575.57.08"), broken)
    assert act and "cannot use the GPU" in line
    assert explain_device(nvidia("575.57.08"), None)[1]  # no torch at all: act


def test_generation_view_model_says_which_device_and_why(
        paths, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from studio.core.settings import SettingsStore
    from studio.services.studio import Studio
    from studio.viewmodels import ViewModels

    monkeypatch.setenv(FAKE_DRIVER_ENV, "575.57.08")  # FAKE: this machine has no NVIDIA GPU
    posted: queue.Queue = queue.Queue()
    studio = Studio(paths.ensure(), SettingsStore(paths.settings_file), post=posted.put)
    vm = ViewModels.of(studio).generation
    seen: list[tuple[str, bool]] = []
    vm.device_status.connect(lambda line, act: seen.append((line, act)))
    vm.check_device().start()
    while not seen:
        posted.get(timeout=20)()
    line, act = seen[-1]
    if torch.version.cuda is None and torch.version.hip is None:  # this venv's CPU build
        assert act and "reinstall the CUDA variant" in line
    else:
        assert line.startswith("GPU") and not act
    assert vm.device_line == line
    studio.close()


def test_selftest_reports_the_build_or_that_torch_is_still_to_install(
        paths, monkeypatch: pytest.MonkeyPatch) -> None:
    from studio.core import selftest

    report = selftest.run_selftest(paths)
    build = next(c for c in report.checks if c.name == "torch build")
    assert build.ok and re.search(r": (CPU|CUDA [\d.]+|ROCm \S+) build$", build.detail)
    # A cuda/rocm installer before its first launch: no torch at all, said plainly.
    monkeypatch.setattr(acc_mod, "installed_torch_build", lambda: None)
    report = selftest.run_selftest(paths)
    torch_check = next(c for c in report.checks if c.name == "torch")
    assert not torch_check.ok and "first launch installs" in torch_check.detail
    assert not any(c.name == "torch build" for c in report.checks)
