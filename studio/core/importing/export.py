"""Copy assets out of the library under their original names, never overwriting a file."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from studio.core.library import Asset, Library


def _free_name(folder: Path, name: str) -> Path:
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 2
    while candidate.exists():
        candidate = folder / f"{stem} ({n}){suffix}"
        n += 1
    return candidate


def export_name(asset: Asset) -> str:
    """The original file name, with the stored (content-sniffed) suffix when they differ."""
    stored_suffix = Path(asset.store_path).suffix
    name = Path(asset.original_name or asset.title or f"asset-{asset.id}").name
    if stored_suffix and Path(name).suffix.lower() != stored_suffix:
        name = Path(name).stem + stored_suffix
    return name


def export_assets(library: Library, assets: Iterable[Asset], folder: Path) -> list[Path]:
    """Copy each asset's bytes into ``folder``; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for asset in assets:
        dest = _free_name(folder, export_name(asset))
        shutil.copyfile(library.path_of(asset), dest)
        written.append(dest)
    return written
