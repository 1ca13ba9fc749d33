"""Registered models: diffusers folders and single-file ``.safetensors`` checkpoints.

Adding a model validates it, detects its family and computes its sha256 once; file hashes are
cached by (size, mtime) so re-adding or re-checking a multi-GB checkpoint is instant. A folder's
hash is the sha256 of its weight/config files' hashes (sorted by relative path).
"""

from __future__ import annotations

# hashlib is imported where a hash is made: it loads OpenSSL (~3.6 MiB resident), and the
# window lists models and opens the library at start without hashing anything.
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from studio.core.generation.errors import ModelError
from studio.core.generation.families import (
    FAMILIES,
    Family,
    denoiser_folder,
    family_from_folder,
    family_from_keys,
)
from studio.core.library import Library

log = logging.getLogger(__name__)

HASHED_SUFFIXES = {".safetensors", ".bin", ".json", ".txt", ".model", ".ckpt", ".pt"}
CHUNK = 4 * 1024 * 1024


class ModelKind(StrEnum):
    FOLDER = "folder"
    SINGLE_FILE = "single_file"


@dataclass(frozen=True)
class ModelEntry:
    id: str
    name: str
    path: str
    kind: ModelKind
    family: Family
    sha256: str
    size: int
    config_dir: str | None
    added_at: float
    source: str = ""  # hub "repo@revision[:file]" or a URL, when downloaded
    last_used: float | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({FAMILIES[self.family].label})"

    @property
    def short_hash(self) -> str:
        return self.sha256[:10]  # what A1111 shows as "Model hash"


def read_safetensors_keys(path: Path) -> list[str]:
    """Tensor names of a ``.safetensors`` file; a truncated or corrupt file is a ModelError."""
    from safetensors import SafetensorError, safe_open

    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise ModelError(f"{path.name} is too short to be a .safetensors file.")
            header_len = int.from_bytes(head, "little")
            if header_len <= 0 or 8 + header_len > size:
                raise ModelError(f"{path.name} is truncated or not a .safetensors file.")
            header = json.loads(fh.read(header_len))
        end = max((int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"),
                  default=0)
        if 8 + header_len + end > size:
            raise ModelError(f"{path.name} is truncated: it is {size} bytes, its header needs "
                             f"{8 + header_len + end}. Download or copy it again.")
        with safe_open(str(path), framework="numpy") as f:
            return list(f.keys())
    except ModelError:
        raise
    except (OSError, ValueError, KeyError, TypeError, SafetensorError) as exc:
        raise ModelError(f"{path.name} cannot be read as a .safetensors checkpoint: {exc}") from exc


def stable_path(path: Path) -> Path:
    """An absolute path with its folders resolved but not the file itself: a hub-cache file is
    a symlink to a blob without a suffix, and the registry keeps the name users know."""
    path = Path(path).expanduser().absolute()
    return path.parent.resolve() / path.name if path.is_symlink() else path.resolve()


class ModelRegistry:
    """Models known to the studio, stored in the library database."""

    def __init__(self, library: Library) -> None:
        self.library = library

    # -- hashing ----------------------------------------------------------------------------

    def file_sha256(self, path: Path, progress: Callable[[int], None] | None = None) -> str:
        st = path.stat()
        rows = self.library.query(
            "SELECT sha256 FROM generation_file_hashes WHERE path=? AND size=? AND mtime_ns=?",
            (str(path), st.st_size, st.st_mtime_ns))
        if rows:
            return rows[0][0]
        import hashlib

        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                if progress:
                    progress(len(chunk))
        sha = digest.hexdigest()
        with self.library.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO generation_file_hashes VALUES (?,?,?,?)",
                         (str(path), st.st_size, st.st_mtime_ns, sha))
        return sha

    def model_sha256(self, path: Path, kind: ModelKind,
                     progress: Callable[[int], None] | None = None) -> tuple[str, int]:
        """(sha256, total bytes hashed) for a checkpoint file or a diffusers folder."""
        if kind is ModelKind.SINGLE_FILE:
            return self.file_sha256(path, progress), path.stat().st_size
        files = sorted(p for p in path.rglob("*") if p.is_file()
                       and p.suffix in HASHED_SUFFIXES and ".cache" not in p.parts)
        import hashlib

        listing = hashlib.sha256()
        total = 0
        for p in files:
            rel = p.relative_to(path).as_posix()
            listing.update(f"{rel}\0{self.file_sha256(p, progress)}\n".encode())
            total += p.stat().st_size
        return listing.hexdigest(), total

    # -- inspect, add, list, remove ---------------------------------------------------------

    @staticmethod
    def inspect(path: Path) -> tuple[ModelKind, Family]:
        """Validate ``path`` and detect its family, without hashing. Raises ModelError."""
        path = Path(path)
        if not path.exists():
            raise ModelError(f"{path} does not exist.")
        if path.is_dir():
            if not (path / "model_index.json").is_file():
                raise ModelError(f"{path} is not a diffusers model folder (no model_index.json).")
            family = family_from_folder(path)
            index = json.loads((path / "model_index.json").read_text(encoding="utf-8"))
            # Every component the index names (not null) must be there, weights included.
            needed = [k for k, v in index.items() if not k.startswith("_")
                      and isinstance(v, list) and len(v) == 2 and v[0] is not None]
            for sub in needed:
                if not (path / sub).is_dir():
                    raise ModelError(f"The model folder {path} has no '{sub}' folder; it is "
                                     "incomplete. Copy or download it again.")
            for sub in (denoiser_folder(family), "vae"):
                weights = list((path / sub).glob("*.safetensors")) + list(
                    (path / sub).glob("*.bin"))
                if not weights:
                    raise ModelError(f"The model folder {path} has no {sub} weights.")
                for w in weights:
                    if w.suffix == ".safetensors":
                        read_safetensors_keys(w)
            return ModelKind.FOLDER, family
        if path.suffix.lower() != ".safetensors":
            raise ModelError(f"{path.name}: only .safetensors checkpoints are supported "
                             "(.ckpt files can run code when loaded).")
        return ModelKind.SINGLE_FILE, family_from_keys(read_safetensors_keys(path), path.name)

    def add(self, path: Path, *, name: str = "", config_dir: Path | None = None,
            progress: Callable[[int], None] | None = None, source: str = "") -> ModelEntry:
        """Register a model (or return the existing entry for the same path or hash)."""
        path = stable_path(path)
        kind, family = self.inspect(path)
        for existing in self.list():
            if existing.path == str(path):
                return existing
        if kind is ModelKind.SINGLE_FILE and config_dir is None:
            config_dir = self._config_folder_for(family)
        if config_dir is not None:
            config_dir = Path(config_dir).expanduser().resolve()
            if not (config_dir / "model_index.json").is_file():
                raise ModelError(f"{config_dir} is not a diffusers folder to take configs from.")
        sha, size = self.model_sha256(path, kind, progress)
        for existing in self.list():
            if existing.sha256 == sha:
                return existing
        entry = ModelEntry(
            id=sha[:12], name=name or (path.stem if kind is ModelKind.SINGLE_FILE else path.name),
            path=str(path), kind=kind, family=family, sha256=sha, size=size,
            config_dir=str(config_dir) if config_dir else None, added_at=time.time(),
            source=source)
        with self.library.transaction() as conn:
            conn.execute("INSERT INTO generation_models(id, name, path, kind, family, sha256,"
                         " size, config_dir, added_at, source) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         (entry.id, entry.name, entry.path, str(entry.kind), str(entry.family),
                          entry.sha256, entry.size, entry.config_dir, entry.added_at,
                          entry.source))
        log.info("model added: %s %s (%s)", entry.id, entry.path, entry.family)
        return entry

    def _config_folder_for(self, family: Family) -> Path | None:
        # SD 1.5 / 2.x / SDXL single files load from the configs the studio ships
        # (single_file.py). SD 3.5 / FLUX.1 files lack their text encoders: remember a
        # registered folder of the family to take them from (else one is looked up at load).
        from studio.core.generation.single_file import NEEDS_TEXT_ENCODERS, text_encoder_group

        if family not in NEEDS_TEXT_ENCODERS:
            return None
        for e in self.list():
            if e.kind is ModelKind.FOLDER and e.family in text_encoder_group(family):
                return Path(e.path)
        return None

    def list(self) -> list[ModelEntry]:
        rows = self.library.query("SELECT * FROM generation_models ORDER BY added_at, id")
        return [ModelEntry(r["id"], r["name"], r["path"], ModelKind(r["kind"]),
                           Family(r["family"]), r["sha256"], r["size"], r["config_dir"],
                           r["added_at"], r["source"], r["last_used"]) for r in rows]

    def search(self, text: str = "", family: Family | str | None = None) -> list[ModelEntry]:
        """Registered models whose name, path or source contains ``text`` (any case), of
        ``family`` when given; most recently used first."""
        needle = text.lower()
        out = [e for e in self.list()
               if (family is None or e.family == Family(family))
               and (not needle or needle in f"{e.name} {e.path} {e.source}".lower())]
        return sorted(out, key=lambda e: -(e.last_used or 0.0))

    def touch(self, model_id: str) -> None:
        """Record that the model was just used (the list's "last use")."""
        with self.library.transaction() as conn:
            conn.execute("UPDATE generation_models SET last_used = ? WHERE id = ?",
                         (time.time(), model_id))

    def get(self, id_or_path: str) -> ModelEntry | None:
        """By id (or a unique id prefix), by path, or by name."""
        entries = self.list()
        for e in entries:
            if id_or_path in (e.id, e.path, e.name):
                return e
        resolved = str(stable_path(Path(id_or_path)))
        for e in entries:
            if e.path == resolved:
                return e
        matches = [e for e in entries if e.id.startswith(id_or_path)]
        return matches[0] if len(matches) == 1 else None

    def remove(self, model_id: str) -> bool:
        """Forget a model (its files are left where they are)."""
        with self.library.transaction() as conn:
            return conn.execute("DELETE FROM generation_models WHERE id = ?",
                                (model_id,)).rowcount > 0
