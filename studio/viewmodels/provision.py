"""First-run PyTorch setup, seen from the GUI: what was detected, what will be downloaded (and
how big), progress, cancel, and the verified result. The work runs through the operation
runner (:mod:`studio.core.provision` does it); progress arrives on the main thread."""

from __future__ import annotations

import threading
from typing import Any

from psygnal import Signal

from studio.services.studio import Studio


class ProvisionModel:
    changed = Signal()  # state, texts
    progress = Signal(str, int, int)  # (phase, done, total); total 0 = unknown

    def __init__(self, studio: Studio, index_url: str | None = None) -> None:
        self.studio = studio
        self.index_url = index_url  # None: the variant's real PyTorch index
        self.state = "idle"  # idle | planning | ready | running | done | failed | cancelled
        self.detected = ""
        self.choice = ""  # the build and why
        self.download = ""  # file, size, index
        self.message = ""
        self.plan: Any = None
        self._cancel = threading.Event()
        self._op: Any = None
        self._last_pct = -1

    def _set(self, state: str, message: str = "") -> None:
        self.state, self.message = state, message
        self.changed.emit()

    def load_plan(self):
        """Detect the accelerator and read the index (network): an operation."""
        from studio.core.provision import plan

        self._set("planning", "Detecting the accelerator and reading the package index…")

        def ok(p: Any) -> None:
            self.plan = p
            self.detected = p.accelerator.detail
            self.choice = f"PyTorch {p.choice.variant} build ({p.choice.accelerator}): " \
                          f"{p.choice.reason}"
            size = f"{p.wheel.size / 2**20:,.0f} MiB" if p.wheel.size else "size unknown"
            self.download = f"{p.wheel.filename} — {size}, plus its dependencies, from " \
                            f"{p.choice.index_url}"
            self._set("ready", "Ready to install into your user folder (no admin rights).")

        return self.studio.runner.run(lambda: plan(index_url=self.index_url),
                                      label="Reading the PyTorch index").success(ok).failure(
            lambda exc: self._set("failed", str(exc)))

    def install(self):
        """Download (resumable), install, verify: an operation."""
        from studio.core.provision import ProvisionCancelled, Provisioner

        assert self.plan is not None, "load_plan first"
        self._cancel.clear()
        self._last_pct = -1
        worker = Provisioner(self.studio.paths.data_dir, self.plan, self._report,
                             _StopWhen(self._cancel, self.studio))
        self._set("running", "Downloading…")

        def ok(build: dict) -> None:
            from studio.core.runtime import activate

            activate(self.studio.paths.data_dir)
            gpu = (f"; GPU: {build['device']}" if build.get("cuda_available") else
                   "; GPU not checked (no real GPU)" if not build.get("gpu_checked") else "")
            flavour = (f"CUDA {build['cuda']}" if build.get("cuda") else
                       f"ROCm {build['hip']}" if build.get("hip") else "CPU")
            self._set("done", f"Installed and verified PyTorch {build['version']} "
                              f"({flavour} build){gpu}. Restart the studio to use it.")

        def failed(exc: Exception) -> None:
            from studio.services.runner import OperationCancelled

            if isinstance(exc, ProvisionCancelled | OperationCancelled):
                self._set("cancelled", str(exc))
            else:
                self._set("failed", str(exc))

        self._op = self.studio.runner.run(worker.run, label="Installing PyTorch").success(
            ok).failure(failed)
        return self._op

    def cancel(self) -> None:
        self._cancel.set()

    def _report(self, phase: str, done: int, total: int) -> None:  # worker thread
        pct = int(done * 100 / total) if total else -1
        if phase == "download" and pct == self._last_pct:
            return  # one event per percent, not per chunk
        self._last_pct = pct
        self.studio.emit(self.progress, phase, done, total)


class _StopWhen:
    """Cancel on the user's request or when the studio closes (the pool's thread would
    otherwise keep the process alive until the download ends)."""

    def __init__(self, event: threading.Event, studio: Studio) -> None:
        self.event, self.studio = event, studio

    def is_set(self) -> bool:
        return self.event.is_set() or self.studio.closed

    def wait(self, timeout: float) -> bool:
        self.event.wait(timeout)
        return self.is_set()
