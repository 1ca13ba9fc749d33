"""``studio --selftest``: what is installed, what works, and what is broken."""

from __future__ import annotations

import importlib
import importlib.metadata
import platform
from dataclasses import dataclass, field

from studio import __version__
from studio.core.paths import StudioPaths


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class SelftestReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))

    def as_text(self) -> str:
        width = max(len(c.name) for c in self.checks)
        lines = [f"{'ok ' if c.ok else 'BAD'} {c.name:<{width}}  {c.detail}" for c in self.checks]
        lines.append("selftest: " + ("all checks passed" if self.ok else "FAILED"))
        return "\n".join(lines)


def _dist_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _module_check(report: SelftestReport, label: str, module: str, dist: str) -> object | None:
    try:
        mod = importlib.import_module(module)
    except Exception as exc:
        report.add(label, False, f"cannot import {module}: {exc.__class__.__name__}: {exc}")
        return None
    report.add(label, True, getattr(mod, "__version__", None) or _dist_version(dist))
    return mod


def compute_device() -> str:
    import torch

    if torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def _torch_build_checks(report: SelftestReport) -> None:
    """The PyTorch build's CUDA/ROCm version (known without a GPU), the accelerator found,
    and the device generation will use, with the reason."""
    from studio.core.accelerator import detect, explain_device, torch_build

    try:
        build = torch_build()
        report.add("torch build", True, f"{build.version}: {build.flavour}")
        acc = detect()
        report.add("accelerator", True, acc.detail)
        line, _act = explain_device(acc, build)
        report.add("device", True, f"{compute_device()}: {line}")
    except Exception as exc:
        report.add("device", False, f"device probe failed: {exc}")


def keyring_backend() -> tuple[bool, str]:
    """Whether the secret store would accept this keyring (the one policy), and its name."""
    from studio.core.secrets import SecretStore

    store = SecretStore()
    backend = store.backend
    return store.problem() is None, f"{backend.__class__.__module__}.{backend.__class__.__name__}"


def run_selftest(paths: StudioPaths) -> SelftestReport:
    report = SelftestReport()
    report.add("studio", True, f"{__version__} on Python {platform.python_version()}")
    try:
        # Probing the installation only (core never uses Qt): loaded by name.
        QtCore = importlib.import_module("PySide6.QtCore")
        pyside = _dist_version("PySide6-Essentials")
        report.add("Qt", True, f"{QtCore.qVersion()} (PySide6 {pyside})")
    except Exception as exc:
        report.add("Qt", False, f"cannot import PySide6: {exc}")
    from studio.core.accelerator import installed_torch_build

    if installed_torch_build() is None:  # a cuda/rocm installer before its first launch
        report.add("torch", False, "not installed yet: the first launch installs the build for "
                   "this machine's GPU (or run `studio --internal-provision install`)")
        torch = None
    else:
        torch = _module_check(report, "torch", "torch", "torch")
    _module_check(report, "diffusers", "diffusers", "diffusers")
    _module_check(report, "transformers", "transformers", "transformers")
    c2pa = _module_check(report, "c2pa", "c2pa", "c2pa-python")
    if c2pa is not None:
        try:
            report.add("c2pa native", True, str(c2pa.sdk_version()))
        except Exception as exc:
            report.add("c2pa native", False, f"native library failed: {exc}")
    _module_check(report, "web3", "web3", "web3")
    _module_check(report, "eth-account", "eth_account", "eth-account")
    if torch is not None:
        _torch_build_checks(report)
    try:
        usable, name = keyring_backend()
        report.add("keyring", usable, name if usable else
                   f"{name}: no usable OS keyring; wallets cannot be stored until one is enabled")
    except Exception as exc:
        report.add("keyring", False, f"keyring failed: {exc}")
    for label, path in paths.as_dict().items():
        try:
            path_obj = type(paths.config_dir)(path)
            path_obj.mkdir(parents=True, exist_ok=True)
            probe = path_obj / ".selftest"
            probe.write_text("ok")
            probe.unlink()
            report.add(f"{label} dir", True, path)
        except OSError as exc:
            report.add(f"{label} dir", False, f"{path}: not writable ({exc})")
    return report
