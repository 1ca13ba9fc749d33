"""LoRAs: registering ``.safetensors`` LoRA files (family from tensor names, trigger words from
metadata) and applying several, with weights, to a loaded pipeline through diffusers' peft
integration. Each job sets exactly its own adapters: a job without LoRAs runs the base weights.
"""

from __future__ import annotations

# hashlib is imported where a hash is made: it loads OpenSSL (~3.6 MiB resident), and the
# window lists models and opens the library at start without hashing anything.
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.core.generation.errors import GenerationError, ModelError
from studio.core.generation.families import Family
from studio.core.generation.registry import CHUNK, ModelRegistry, stable_path
from studio.core.generation.request import LoraRef
from studio.core.library import Library

log = logging.getLogger(__name__)

# LoRA families are architectures: Turbo variants share their base model's layers.
ARCH_OF: dict[Family, str] = {
    Family.SD15: "sd15", Family.SD2: "sd2", Family.SD_TURBO: "sd2", Family.SDXL: "sdxl",
    Family.SDXL_TURBO: "sdxl", Family.SD3: "sd3", Family.SD3_TURBO: "sd3",
    Family.FLUX_DEV: "flux", Family.FLUX_SCHNELL: "flux", Family.PIXART_SIGMA: "pixart",
}
ARCH_LABELS = {"sd15": "SD 1.5", "sd2": "SD 2.x / SD-Turbo", "sdxl": "SDXL / SDXL-Turbo",
               "sd3": "SD 3.5", "flux": "FLUX.1", "pixart": "PixArt-Σ"}
_LORA_MARKERS = ("lora_A", "lora_B", "lora_down", "lora_up", "lora.down", "lora.up")


@dataclass(frozen=True)
class LoraEntry:
    id: str
    name: str
    path: str
    family: str  # an ARCH_OF value
    sha256: str
    autov3: str
    size: int
    trigger_words: tuple[str, ...] = ()
    source: str = ""
    added_at: float = 0.0
    last_used: float | None = None

    def ref(self, weight: float = 1.0) -> LoraRef:
        return LoraRef(id=self.id, sha256=self.sha256, weight=weight, name=self.name,
                       autov3=self.autov3, source=self.source)


def read_header(path: Path) -> tuple[dict[str, list[int]], dict[str, str], int]:
    """(tensor name -> shape, ``__metadata__``, header length) of a ``.safetensors`` file."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
            n = int.from_bytes(head, "little") if len(head) == 8 else 0
            if n <= 0 or n > 100 * 1024 * 1024 or 8 + n > path.stat().st_size:
                raise ModelError(f"{path.name} is not a .safetensors file (or is truncated).")
            header = json.loads(fh.read(n))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path.name} cannot be read as a .safetensors file: {exc}") from exc
    meta = header.pop("__metadata__", None) or {}
    shapes = {k: list(v.get("shape", [])) for k, v in header.items() if isinstance(v, dict)}
    return shapes, {str(k): str(v) for k, v in meta.items()}, n


def lora_family(shapes: dict[str, list[int]]) -> str:
    """The architecture a LoRA was trained for, from its tensor names (diffusers/peft, kohya
    and the original BFL/SAI layouts). Raises ModelError when it is not a LoRA."""
    keys = list(shapes)
    if not any(m in k for k in keys for m in _LORA_MARKERS):
        raise ModelError("This file holds no LoRA weights (no lora_A/lora_B or "
                         "lora_down/lora_up tensors).")
    text = "\n".join(keys)
    if "single_transformer_blocks" in text or "double_blocks" in text or "single_blocks" in text:
        return "flux"
    if "joint_blocks" in text or "context_block" in text or ".add_q_proj" in text:
        return "sd3"
    if "adaln_single" in text or ("transformer_blocks" in text and "attn2" in text
                                  and "unet" not in text and "down_blocks" not in text):
        return "pixart"
    if any(m in text for m in ("lora_te2_", "text_encoder_2", "lora_unet_input_blocks",
                               "lora_unet_output_blocks", "conditioner")):
        return "sdxl"
    # UNet LoRAs: the cross-attention input width names the text encoder (SDXL 2048, SD 2.x
    # 1024, SD 1.5 768 and anything else).
    for k, shape in shapes.items():
        if ("attn2.to_k" in k or "attn2_to_k" in k) and ("lora_A" in k or "lora_down" in k) \
                and len(shape) >= 2:
            return {2048: "sdxl", 1024: "sd2"}.get(int(shape[1]), "sd15")
    return "sd15"


def trigger_words(meta: dict[str, str], limit: int = 8) -> tuple[str, ...]:
    """Trigger words from the file's metadata: the model-spec trigger phrase, then the most
    frequent training tags (kohya's ``ss_tag_frequency``)."""
    words: list[str] = []
    for key in ("modelspec.trigger_phrase", "trigger_words", "ss_trigger_words"):
        if meta.get(key):
            words += [w.strip() for w in meta[key].split(",") if w.strip()]
    try:
        freq = json.loads(meta.get("ss_tag_frequency", "{}"))
    except json.JSONDecodeError:
        freq = {}
    counts: dict[str, int] = {}
    for tags in freq.values() if isinstance(freq, dict) else ():
        if isinstance(tags, dict):
            for tag, n in tags.items():
                counts[tag.strip()] = counts.get(tag.strip(), 0) + int(n or 0)
    words += [t for t, _ in sorted(counts.items(), key=lambda kv: -kv[1]) if t]
    seen: list[str] = []
    for w in words:
        if w not in seen:
            seen.append(w)
    return tuple(seen[:limit])


def autov3_hash(path: Path, header_len: int) -> str:
    """sha256 of the tensor data after the header: A1111's and Civitai's LoRA hash (AutoV3),
    which stays the same when only the metadata is edited."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        fh.seek(8 + header_len)
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class LoraRegistry:
    def __init__(self, library: Library) -> None:
        self.library = library
        self._models = ModelRegistry(library)

    def add(self, path: Path, *, name: str = "", source: str = "") -> LoraEntry:
        path = stable_path(path)
        if not path.is_file():
            raise ModelError(f"{path} does not exist.")
        if path.suffix.lower() != ".safetensors":
            raise ModelError(f"{path.name}: only .safetensors LoRAs are supported.")
        shapes, meta, header_len = read_header(path)
        family = lora_family(shapes)
        for e in self.list():
            if e.path == str(path):
                return e
        sha = self._models.file_sha256(path)
        for e in self.list():
            if e.sha256 == sha:
                return e
        entry = LoraEntry(
            id="lora-" + sha[:10], name=name or meta.get("ss_output_name") or path.stem,
            path=str(path), family=family, sha256=sha, autov3=autov3_hash(path, header_len),
            size=path.stat().st_size, trigger_words=trigger_words(meta), source=source,
            added_at=time.time())
        with self.library.transaction() as conn:
            conn.execute("INSERT INTO generation_loras(id, name, path, family, sha256, autov3,"
                         " size, trigger_words, source, added_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         (entry.id, entry.name, entry.path, entry.family, entry.sha256,
                          entry.autov3, entry.size, json.dumps(list(entry.trigger_words)),
                          entry.source, entry.added_at))
        log.info("LoRA added: %s %s (%s)", entry.id, entry.path, entry.family)
        return entry

    def list(self, family: Family | str | None = None) -> list[LoraEntry]:
        rows = self.library.query("SELECT * FROM generation_loras ORDER BY added_at, id")
        out = [LoraEntry(r["id"], r["name"], r["path"], r["family"], r["sha256"], r["autov3"],
                         r["size"], tuple(json.loads(r["trigger_words"] or "[]")), r["source"],
                         r["added_at"], r["last_used"]) for r in rows]
        if family is not None:
            arch = ARCH_OF[Family(family)]
            out = [e for e in out if e.family == arch]
        return out

    def get(self, key: str) -> LoraEntry | None:
        entries = self.list()
        resolved = str(stable_path(Path(key))) if key else ""
        for e in entries:
            if key in (e.id, e.name, e.path) or e.path == resolved:
                return e
        matches = [e for e in entries if e.id.startswith(key) or e.sha256.startswith(key)]
        return matches[0] if len(matches) == 1 else None

    def remove(self, lora_id: str) -> bool:
        with self.library.transaction() as conn:
            return conn.execute("DELETE FROM generation_loras WHERE id = ?",
                                (lora_id,)).rowcount > 0

    def touch(self, ids: list[str]) -> None:
        with self.library.transaction() as conn:
            conn.executemany("UPDATE generation_loras SET last_used = ? WHERE id = ?",
                             [(time.time(), i) for i in ids])


def check_family(entry: LoraEntry, family: Family) -> None:
    if entry.family != ARCH_OF[family]:
        raise ModelError(
            f"The LoRA {entry.name} was made for {ARCH_LABELS.get(entry.family, entry.family)} "
            f"models; the chosen model is {ARCH_LABELS[ARCH_OF[family]]}. Pick a LoRA of the "
            "model's family (or a model of the LoRA's).")


@dataclass
class AdapterState:
    """Which LoRA files are loaded into a pipeline (adapter name = the file's hash)."""

    loaded: dict[str, str] = field(default_factory=dict)  # adapter name -> sha256


def apply_loras(pipe: Any, state: AdapterState, refs: tuple[LoraRef, ...],
                registry: LoraRegistry, family: Family) -> None:
    """Make ``pipe`` run with exactly ``refs`` at their weights (none: the base weights).

    Files are loaded once per pipeline and kept while the model stays loaded; a job that
    uses fewer or none disables the others, so adapters never leak from one job to the next.
    """
    if not refs:
        if state.loaded:
            pipe.unload_lora_weights()  # back to the exact base weights
            state.loaded.clear()
        return
    names, weights = [], []
    for ref in refs:
        entry = registry.get(ref.id)
        if entry is None:
            raise ModelError(f"The LoRA {ref.name or ref.id} is not registered any more.")
        if entry.sha256 != ref.sha256:
            raise ModelError(f"The LoRA {entry.name} has changed since this request was made "
                             "(its hash differs); the image would not be reproducible.")
        check_family(entry, family)
        if not Path(entry.path).is_file():
            raise ModelError(f"The LoRA {entry.name} is no longer at {entry.path}.")
        adapter = "lora_" + entry.sha256[:16]
        if adapter not in state.loaded:
            try:
                pipe.load_lora_weights(entry.path, adapter_name=adapter)
            except Exception as exc:  # diffusers/peft raise ValueError, RuntimeError, KeyError
                log.exception("loading LoRA %s failed", entry.path)
                raise ModelError(f"The LoRA {entry.name} does not fit this model: {exc}") \
                    from exc
            state.loaded[adapter] = entry.sha256
        names.append(adapter)
        weights.append(ref.weight)
    try:
        pipe.set_adapters(names, adapter_weights=weights)
    except Exception as exc:
        raise GenerationError(f"The LoRAs could not be applied: {exc}") from exc
    registry.touch([r.id for r in refs])
