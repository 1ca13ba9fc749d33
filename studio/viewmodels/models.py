"""The model manager and the LoRA choices, seen from the GUI (Qt-free, psygnal).

Slow work (asking the hub, downloading, hashing) goes through the studio's one operation
runner; download progress, sent from the runner's thread, arrives on the main thread as
``progress``."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from psygnal import Signal

from studio.services.studio import Studio


@dataclass(frozen=True)
class ModelRow:
    """One registered model, LoRA or upscaler as the manager lists it."""

    id: str
    name: str
    kind: str  # folder | single_file | lora | upscaler
    family: str  # a diffusion family, the LoRA's architecture, or "upscaler"
    size: int
    sha256: str
    source: str
    last_used: float | None
    detail: str = ""  # an upscaler's architecture and scale, e.g. "ESRGAN 4×"


class ModelManagerModel:
    progress = Signal(object)  # studio.core.models.download.Progress
    models_changed = Signal()

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self._cancel: threading.Event | None = None

    @property
    def starters(self) -> tuple[Any, ...]:
        from studio.core.models.starter import STARTERS

        return STARTERS

    def rows(self, family: str | None = None, text: str = "") -> list[ModelRow]:
        """Registered models, LoRAs and upscalers of ``family`` ("upscaler" for those) whose
        name, path or source has ``text`` (reads SQLite: small and quick)."""
        from studio.core.generation.lora import ARCH_OF, LoraRegistry
        from studio.core.generation.registry import ModelRegistry
        from studio.core.generation.upscale import UPSCALER_FAMILY, UpscalerRegistry

        lib = self.studio.library
        out: list[ModelRow] = []
        if family != UPSCALER_FAMILY:
            out += [ModelRow(e.id, e.name, str(e.kind), str(e.family), e.size, e.sha256,
                             e.source, e.last_used)
                    for e in ModelRegistry(lib).search(text, family or None)]
            needle = text.lower()
            arch = ARCH_OF.get(family) if family else None  # type: ignore[call-overload]
            out += [ModelRow(lo.id, lo.name, "lora", lo.family, lo.size, lo.sha256, lo.source,
                             lo.last_used)
                    for lo in LoraRegistry(lib).list()
                    if (arch is None or lo.family == arch)
                    and needle in f"{lo.name} {lo.path} {lo.source}".lower()]
        if family in (None, UPSCALER_FAMILY):
            out += [ModelRow(u.id, u.name, "upscaler", UPSCALER_FAMILY, u.size, u.sha256, "",
                             None, f"{u.architecture} {u.scale}×")
                    for u in UpscalerRegistry(lib).search(text)]
        return out

    def plan(self, repo_id: str, *, revision: str | None = None, file: str | None = None):
        """An operation asking the hub what the download would fetch (writes nothing)."""
        from studio.core.models.download import hub_endpoint, plan_hub
        from studio.core.models.token import load_token

        def work():
            return plan_hub(repo_id.strip(), revision=revision or None, file=file or None,
                            token=load_token(hub_endpoint()))

        return self.studio.runner.run(work, label=f"Asking the hub about {repo_id}")

    def plan_starter(self, key: str):
        from studio.core.models.starter import starter

        pick = starter(key)
        if pick is None:
            raise KeyError(key)
        return self.plan(pick.repo_id, file=pick.file)

    def download(self, plan: Any):
        """An operation downloading ``plan`` and registering the result; :meth:`cancel` stops
        it (the partial file stays, and the next download of it resumes)."""
        from studio.core.models.download import hub_endpoint
        from studio.core.models.manager import download_and_register
        from studio.core.models.token import load_token

        cancel = self._cancel = threading.Event()
        lib = self.studio.library

        def work():
            entry = download_and_register(
                lib, plan, token=load_token(hub_endpoint()), cancel=cancel,
                progress=lambda p: self.studio.emit(self.progress, p))
            self.studio.emit(self.models_changed)
            return entry

        return self.studio.runner.run(work, label=f"Downloading {plan.repo_id}")

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def store_token(self, token: str) -> None:
        from studio.core.models.download import hub_endpoint
        from studio.core.models.token import store_token

        store_token(hub_endpoint(), token)


class LoraChoices:
    """The LoRAs offered for the chosen model's family and the weights picked for the next job."""

    changed = Signal()

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self.available: list[Any] = []  # LoraEntry of the current family
        self.weights: dict[str, float] = {}  # chosen LoRA id -> weight

    def set_family(self, family: str | None) -> None:
        from studio.core.generation.lora import LoraRegistry

        self.available = LoraRegistry(self.studio.library).list(family) if family else []
        keep = {lo.id for lo in self.available}
        self.weights = {k: v for k, v in self.weights.items() if k in keep}
        self.changed.emit()

    def choose(self, lora_id: str, weight: float | None) -> None:
        """Use ``lora_id`` at ``weight`` (None: not used)."""
        if weight is None:
            self.weights.pop(lora_id, None)
        else:
            self.weights[lora_id] = round(float(weight), 2)

    def refs(self) -> tuple[Any, ...]:
        by_id = {lo.id: lo for lo in self.available}
        return tuple(by_id[i].ref(w) for i, w in self.weights.items() if i in by_id)

    def add(self, path: Any):
        from studio.core.generation.lora import LoraRegistry

        lib = self.studio.library
        return self.studio.runner.run(lambda: LoraRegistry(lib).add(path),
                                      label=f"Adding the LoRA {getattr(path, 'name', path)}")
