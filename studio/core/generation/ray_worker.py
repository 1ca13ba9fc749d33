"""The Ray actor that renders on a cluster node: a private, throw-away library and the same
``GenerationEngine`` the desktop runs, in render-only mode. Running the very same code path is
what makes a Ray output pixel-identical to a local one on the same kind of device.

Models are found by hash: in ``models_dir/<sha256>`` (a folder) or ``models_dir/<sha256>
.safetensors`` when the cluster has a shared model store, else at the path the desktop
registered (which must then be a path every node sees). The files are hashed on the node and
must match the request's hash. No key, wallet or signer ever reaches a worker.
"""

from __future__ import annotations

import os
import socket
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from studio.core.generation.errors import GenerationError, ModelError


class RenderWorker:
    def __init__(self, settings: Any, models_dir: str | None = None) -> None:
        from studio.core.generation.engine import GenerationEngine
        from studio.core.library import Library
        from studio.core.settings import GenerationSettings

        self.node = socket.gethostname()
        self.models_dir = models_dir
        self._tmp = tempfile.TemporaryDirectory(prefix="studio-ray-worker-")
        root = Path(self._tmp.name)
        self.library = Library(root / "worker.sqlite3", root / "store")
        if not isinstance(settings, GenerationSettings):
            raise TypeError(f"RenderWorker needs GenerationSettings, not {type(settings)}")
        self.engine = GenerationEngine(self.library, settings,
                                       preview_every=1 << 30)  # no previews on a worker
        self._entries: dict[str, Any] = {}  # sha256 -> this node's registry entry

    def info(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "node": self.node}

    def _model_path(self, model: dict[str, Any]) -> Path:
        sha = model["sha256"]
        if self.models_dir:
            for candidate in (Path(self.models_dir) / sha,
                              Path(self.models_dir) / f"{sha}.safetensors"):
                if candidate.exists():
                    return candidate
            raise ModelError(
                f"The model {model['name']} (sha256 {sha[:12]}) is not in the workers' model "
                f"store {self.models_dir} on node {self.node} (looked for {sha} and "
                f"{sha}.safetensors). Copy it there under its hash.")
        path = Path(model["path"])
        if not path.exists():
            raise ModelError(
                f"The model {model['name']} (sha256 {sha[:12]}) is missing on worker node "
                f"{self.node}: {path} does not exist there. Put it at the same path on every "
                "node (shared storage), or give the workers a model store by hash "
                "(--worker-models DIR).")
        return path

    def _entry(self, model: dict[str, Any]) -> Any:
        sha = model["sha256"]
        if sha in self._entries:
            return self._entries[sha]
        from studio.core.generation.registry import ModelRegistry

        path = self._model_path(model)
        config = model.get("config_dir")
        try:
            entry = ModelRegistry(self.library).add(
                path, name=model["name"], config_dir=Path(config) if config else None)
        except ModelError as exc:
            raise ModelError(f"On worker node {self.node}: {exc}") from exc
        if entry.sha256 != sha:
            raise ModelError(
                f"The files at {path} on worker node {self.node} are not the model "
                f"{model['name']}: their hash is {entry.sha256[:12]}, the request needs "
                f"{sha[:12]}. The image would not be reproducible, so it was not made.")
        self._entries[sha] = entry
        return entry

    def render(self, model: dict[str, Any], request_json: str) -> dict[str, Any]:
        from studio.core.generation.engine import JobState
        from studio.core.generation.request import GenerationRequest

        req = GenerationRequest.from_json(request_json)
        entry = self._entry(model)
        job = self.engine.wait(self.engine.enqueue(replace(req, model_id=entry.id),
                                                   render_only=True))
        if job.state is not JobState.DONE or not job.rendered:
            raise GenerationError(job.error or f"generation {job.state} on node {self.node}")
        r = job.rendered[0]
        return {"png": r.png, "device": r.device, "node": self.node, "pid": os.getpid(),
                "load_s": r.load_s, "run_s": r.run_s}
