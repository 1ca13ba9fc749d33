"""Which accelerator this machine has, and which PyTorch build it should run.

Qt-free and torch-free: detection reads the NVIDIA driver version (``nvidia-smi``, or
``/proc/driver/nvidia/version`` on Linux), ROCm (``/opt/rocm`` / ``/dev/kfd``) and Apple
silicon, and :func:`choose_wheel` maps what was found to a PyTorch package index, the way
InvokeAI's launcher and ``uv --torch-backend=auto`` do. Every choice carries its reason, so the
first-run dialog and the Generate section can say *why* a device was picked.

Tests feed :func:`choose_wheel` a given :class:`Accelerator` (e.g. a driver version) instead of
probing; ``STUDIO_FAKE_NVIDIA_DRIVER=<version>`` makes :func:`detect` report that driver, for
the first-run flow on machines without a GPU (named a fake wherever it is used).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

FAKE_DRIVER_ENV = "STUDIO_FAKE_NVIDIA_DRIVER"
PYTORCH_INDEX = "https://download.pytorch.org/whl"

# CUDA variants PyTorch publishes, newest first, with the oldest driver each runs on. PyTorch's
# wheels carry their own CUDA runtime, so the minimum is the driver of CUDA's minor-version
# compatibility for that major (NVIDIA CUDA Toolkit release notes, table 2/3), except for 13.0,
# which needs the 580 branch. (linux, windows) minimum driver versions.
CUDA_VARIANTS: tuple[tuple[str, str, tuple[str, str]], ...] = (
    ("cu130", "13.0", ("580.65.06", "580.88")),
    ("cu128", "12.8", ("525.60.13", "528.33")),
    ("cu126", "12.6", ("525.60.13", "528.33")),
    ("cu118", "11.8", ("450.80.02", "452.39")),
)
ROCM_VARIANT = ("rocm6.4", "6.4")


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version))


@dataclass(frozen=True)
class Accelerator:
    kind: str  # nvidia | rocm | apple | none
    detail: str  # e.g. "NVIDIA driver 575.57.08 (NVIDIA GeForce RTX 4090)"
    driver: str = ""  # NVIDIA driver or ROCm version, when known
    fake: bool = False  # reported by STUDIO_FAKE_NVIDIA_DRIVER, not probed


@dataclass(frozen=True)
class WheelChoice:
    variant: str  # cu128 | rocm6.4 | cpu | default (PyPI's build for macOS)
    index_url: str  # the PEP 503 index pip installs torch from
    accelerator: str  # what the build runs on: cuda | rocm | mps | cpu
    reason: str
    runtime_version: str = ""  # the CUDA or ROCm version of the build

    @property
    def pip_args(self) -> list[str]:
        return ["--index-url", self.index_url]


# -- detection ---------------------------------------------------------------------------------


def _nvidia_smi() -> tuple[str, str] | None:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    import subprocess  # here: 1.5 MiB of modules an idle window without NVIDIA never needs

    try:
        out = subprocess.run([exe, "--query-gpu=driver_version,name", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    first = out.strip().splitlines()[0] if out.strip() else ""
    driver, _, name = first.partition(",")
    return (driver.strip(), name.strip()) if driver.strip() else None


def _proc_driver(path: Path = Path("/proc/driver/nvidia/version")) -> str | None:
    try:
        text = path.read_text()
    except OSError:
        return None
    m = re.search(r"Kernel Module\s+(?:for \S+\s+)?(\d+\.\d+(?:\.\d+)?)", text)
    return m.group(1) if m else None


def _rocm_version(root: Path = Path("/opt/rocm")) -> str | None:
    for name in (".info/version", ".info/version-dev"):
        try:
            return (root / name).read_text().strip().split("-")[0]
        except OSError:
            continue
    return "unknown" if Path("/dev/kfd").exists() and root.exists() else None


def detect(env: dict[str, str] | None = None) -> Accelerator:
    """Probe this machine (subprocess and file reads only; a few ms, up to 10 s if
    nvidia-smi hangs: call it off the GUI thread)."""
    env = os.environ if env is None else env
    fake = env.get(FAKE_DRIVER_ENV)
    if fake:
        return Accelerator("nvidia", f"NVIDIA driver {fake} (FAKE: {FAKE_DRIVER_ENV})", fake,
                           fake=True)
    if sys.platform == "darwin":
        import platform

        if platform.machine() == "arm64":
            return Accelerator("apple", "Apple silicon GPU (Metal)")
        return Accelerator("none", "Intel Mac: no GPU PyTorch can use")
    smi = _nvidia_smi()
    if smi is not None:
        driver, name = smi
        return Accelerator("nvidia", f"NVIDIA driver {driver}" + (f" ({name})" if name else ""),
                           driver)
    driver = _proc_driver() if sys.platform.startswith("linux") else None
    if driver:
        return Accelerator("nvidia", f"NVIDIA driver {driver}", driver)
    rocm = _rocm_version() if sys.platform.startswith("linux") else None
    if rocm:
        return Accelerator("rocm", f"AMD ROCm {rocm}", rocm)
    return Accelerator("none", "no NVIDIA driver or ROCm found")


# -- choice ------------------------------------------------------------------------------------


def cpu_choice(reason: str) -> WheelChoice:
    return WheelChoice("cpu", f"{PYTORCH_INDEX}/cpu", "cpu", reason)


def choose_wheel(acc: Accelerator, system: str | None = None) -> WheelChoice:
    """The PyTorch build for ``acc`` on ``system`` (sys.platform; default: this one)."""
    system = system or sys.platform
    if system == "darwin":
        # PyPI's macOS wheel is the only one and includes MPS.
        return WheelChoice("default", "https://pypi.org/simple", "mps" if acc.kind == "apple"
                           else "cpu", "macOS: PyPI's PyTorch (Metal on Apple silicon)")
    if acc.kind == "nvidia":
        have = version_tuple(acc.driver)
        col = 1 if system == "win32" else 0
        for variant, cuda, mins in CUDA_VARIANTS:
            if have >= version_tuple(mins[col]):
                return WheelChoice(variant, f"{PYTORCH_INDEX}/{variant}", "cuda",
                                   f"{acc.detail}: CUDA {cuda} needs driver {mins[col]} or "
                                   "newer", cuda)
        oldest = CUDA_VARIANTS[-1][2][col]
        return cpu_choice(f"CPU: NVIDIA driver {acc.driver} is older than {oldest}, the oldest "
                          "any PyTorch CUDA build supports; update the driver")
    if acc.kind == "rocm":
        if system.startswith("linux"):
            variant, rocm = ROCM_VARIANT
            return WheelChoice(variant, f"{PYTORCH_INDEX}/{variant}", "rocm",
                               f"{acc.detail}: PyTorch's ROCm {rocm} build", rocm)
        return cpu_choice("CPU: PyTorch's ROCm builds are Linux-only")
    return cpu_choice(f"CPU: {acc.detail}")


# -- what is installed -------------------------------------------------------------------------


@dataclass(frozen=True)
class TorchBuild:
    version: str
    cuda: str | None  # torch.version.cuda: the CUDA the build was compiled for
    hip: str | None  # torch.version.hip
    cuda_available: bool | None  # None: not probed (torch not imported yet)
    mps_available: bool | None
    device_name: str = ""

    @property
    def flavour(self) -> str:
        if self.cuda:
            return f"CUDA {self.cuda} build"
        if self.hip:
            return f"ROCm {self.hip} build"
        return "CPU build"


def torch_build() -> TorchBuild:
    """What the importable torch was built for and what it can use (imports torch)."""
    import torch

    cuda_ok = bool(torch.cuda.is_available())
    mps = getattr(torch.backends, "mps", None)
    return TorchBuild(torch.__version__, torch.version.cuda, getattr(torch.version, "hip", None),
                      cuda_ok, bool(mps is not None and mps.is_available()),
                      torch.cuda.get_device_name(0) if cuda_ok else "")


def installed_torch_build() -> TorchBuild | None:
    """The importable torch's build, read from its ``torch/version.py`` without importing torch
    (instant; safe at start). None when no torch is installed."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return None
    values: dict[str, object] = {}
    for folder in spec.submodule_search_locations:
        try:
            text = (Path(folder) / "version.py").read_text()
        except OSError:
            continue
        for m in re.finditer(r"^(__version__|cuda|hip)\b[^=\n]*=\s*(.+)$", text, re.M):
            try:
                values[m.group(1)] = ast.literal_eval(m.group(2).strip())
            except (ValueError, SyntaxError):
                values[m.group(1)] = None
        break
    if "__version__" not in values:
        return TorchBuild("?", None, None, None, None)
    return TorchBuild(str(values["__version__"]), _str_or_none(values.get("cuda")),
                      _str_or_none(values.get("hip")), None, None)


def _str_or_none(v: object) -> str | None:
    return str(v) if v else None


def explain_device(acc: Accelerator, build: TorchBuild | None) -> tuple[str, bool]:
    """One line saying which device generation will run on and why, and whether the user
    should act (a GPU is there but the installed PyTorch cannot use it)."""
    if build is None:
        return "No PyTorch installed: run the first-run setup to install it", True
    if build.cuda_available is None:  # not probed: say what the build and driver promise
        if build.cuda and acc.kind == "nvidia":
            return (f"GPU expected: PyTorch {build.version} (CUDA {build.cuda} build) with "
                    f"{acc.detail}; confirmed when the first model loads"), False
        if build.hip and acc.kind == "rocm":
            return (f"GPU expected: PyTorch {build.version} (ROCm {build.hip} build) with "
                    f"{acc.detail}; confirmed when the first model loads"), False
        if acc.kind == "apple":
            return f"GPU expected: Apple Metal (MPS), PyTorch {build.version}", False
    if build.cuda_available:
        kind = "ROCm" if build.hip else "CUDA"
        name = f" ({build.device_name})" if build.device_name else ""
        return f"GPU: {kind}{name}, PyTorch {build.version}", False
    if build.mps_available:
        return f"GPU: Apple Metal (MPS), PyTorch {build.version}", False
    if acc.kind == "nvidia":
        if not build.cuda and not build.hip:
            return ("CPU: CPU build of PyTorch installed on a machine with an NVIDIA GPU "
                    f"({acc.detail}) — reinstall the CUDA variant"), True
        choice = choose_wheel(acc)
        if choice.accelerator == "cpu":
            return choice.reason, True
        return (f"CPU: PyTorch's CUDA {build.cuda} build cannot use the GPU ({acc.detail}); "
                "check the driver"), True
    if acc.kind == "rocm":
        if not build.hip:
            return ("CPU: CPU build of PyTorch installed on a machine with an AMD ROCm GPU — "
                    "reinstall the ROCm variant"), True
        return f"CPU: PyTorch's ROCm {build.hip} build cannot use the GPU; check ROCm", True
    if acc.kind == "apple":
        return "CPU: this PyTorch has no Metal (MPS) support", True
    return f"CPU: {acc.detail}", False
