"""Download-then-register: the one call the CLI and the GUI make for a hub download."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from studio.core.generation.errors import ModelError
from studio.core.generation.lora import LoraEntry, LoraRegistry, read_header
from studio.core.generation.registry import ModelEntry, ModelRegistry
from studio.core.library import Library
from studio.core.models.download import DownloadError, DownloadPlan, Progress, run_download


def is_lora_file(path: Path) -> bool:
    if path.suffix.lower() != ".safetensors":
        return False
    try:
        shapes, _meta, _n = read_header(path)
    except ModelError:
        return False
    keys = list(shapes)
    return any(m in k for k in keys for m in ("lora_A", "lora_B", "lora_down", "lora_up")) \
        and not any(k.startswith("model.diffusion_model.") and "lora" not in k for k in keys)


def cache_verified_hash(library: Library, path: Path, sha256: str) -> None:
    """The download already hashed this file: let the registry reuse it (no second read)."""
    st = path.stat()
    with library.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO generation_file_hashes VALUES (?,?,?,?)",
                     (str(path), st.st_size, st.st_mtime_ns, sha256))


def register(library: Library, local: Path, *, source: str,
             name: str = "") -> ModelEntry | LoraEntry:
    """Register a downloaded file or folder as a model or, for a LoRA file, a LoRA."""
    try:
        if local.is_file() and is_lora_file(local):
            return LoraRegistry(library).add(local, name=name, source=source)
        return ModelRegistry(library).add(local, name=name, source=source)
    except ModelError as exc:
        raise DownloadError(f"The download finished but is not a model the studio runs: "
                            f"{exc}") from exc


def download_and_register(library: Library, plan: DownloadPlan, *, token: str | None = None,
                          progress: Callable[[Progress], None] | None = None,
                          cancel: threading.Event | None = None,
                          name: str = "") -> ModelEntry | LoraEntry:
    local = run_download(plan, token=token, progress=progress, cancel=cancel,
                         verified=lambda p, sha: cache_verified_hash(library, p, sha))
    return register(library, local, source=plan.source, name=name)
