"""Settings from an A1111 / Forge / ComfyUI-made PNG: its ``parameters`` text chunk mapped to
the studio's request fields, with a list of everything that could not be mapped."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field, replace
from typing import Any

from studio.core.generation.errors import RequestError
from studio.core.generation.request import MAX_SEED, GenerationRequest
from studio.core.generation.schedulers import SCHEDULERS

MAX_TEXT = 64 * 1024
# "Key: value" pairs; a value is a quoted string (may hold commas) or runs to the next comma.
_PAIR = re.compile(r'\s*([\w \-/+().]+?):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')
_SCHEDULE_TYPES = {"karras": " Karras"}
# The last line holds the settings when it starts like A1111 writes them.
_SETTINGS_LINE = re.compile(r"^\s*(Steps|Sampler|CFG scale|Seed|Size|Model hash)\s*:")


@dataclass
class ImportedSettings:
    """What a ``parameters`` chunk says, in request terms."""

    fields: dict[str, Any] = field(default_factory=dict)  # GenerationRequest field -> value
    model_hash: str = ""  # A1111's short hash (first 10 hex of the sha256, or legacy 8)
    model_name: str = ""
    unmapped: list[str] = field(default_factory=list)  # "Key: value" the studio cannot use

    def apply(self, base: GenerationRequest) -> GenerationRequest:
        return replace(base, **self.fields)


def parameters_from_png(data: bytes) -> str:
    """The ``parameters`` text of a PNG (tEXt/iTXt), or a RequestError saying why not."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            info = img.info if isinstance(img.info, dict) else {}
    except (OSError, UnidentifiedImageError) as exc:
        raise RequestError(f"The file cannot be read as an image: {exc}") from exc
    text = info.get("parameters")
    graph = info.get("prompt")
    if (not isinstance(text, str) or not text.strip()) and isinstance(graph, str):
        from studio.core.generation.comfyui import parameters_from_graph

        if len(graph) <= 16 * MAX_TEXT:
            text = parameters_from_graph(graph)
    if not isinstance(text, str) or not text.strip():
        raise RequestError("This image has no A1111 'parameters' text and no ComfyUI graph "
                           "with a sampler: it was not made by A1111, Forge or ComfyUI, or "
                           "its settings were stripped.")
    return text


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def parse_parameters(text: str) -> ImportedSettings:
    if len(text) > MAX_TEXT:
        raise RequestError("The parameters text is too long to be settings.")
    lines = text.replace("\r\n", "\n").strip().split("\n")
    out = ImportedSettings()
    settings_line = ""
    if lines and _SETTINGS_LINE.match(lines[-1]):
        settings_line = lines.pop()
    prompt, negative, in_negative = [], [], False
    for line in lines:
        if line.startswith("Negative prompt:"):
            in_negative = True
            line = line[len("Negative prompt:"):].lstrip()
        (negative if in_negative else prompt).append(line)
    if "\n".join(prompt).strip():
        out.fields["prompt"] = "\n".join(prompt).strip()
    if "\n".join(negative).strip():
        out.fields["negative_prompt"] = "\n".join(negative).strip()

    pairs = {k.strip(): _unquote(v) for k, v in _PAIR.findall(settings_line) if k.strip()}
    sampler = pairs.pop("Sampler", "")
    schedule = pairs.pop("Schedule type", "")
    for key, value in pairs.items():
        if not _map(out, key, value):
            out.unmapped.append(f"{key}: {value}")
    if sampler:
        name = sampler + _SCHEDULE_TYPES.get(schedule.lower(), "")
        if name in SCHEDULERS:
            out.fields["scheduler"] = name
        elif sampler in SCHEDULERS:
            out.fields["scheduler"] = sampler
            out.unmapped.append(f"Schedule type: {schedule}")
        else:
            out.unmapped.append(f"Sampler: {sampler}"
                                + (f" ({schedule})" if schedule else ""))
    elif schedule:
        out.unmapped.append(f"Schedule type: {schedule}")
    return out


def _map(out: ImportedSettings, key: str, value: str) -> bool:
    """Put one "Key: value" into ``out``; False when the studio has no such setting."""
    try:
        if key == "Steps":
            steps = int(value)
            if not 1 <= steps <= 500:
                return False
            out.fields["steps"] = steps
        elif key == "CFG scale":
            cfg = float(value)
            if not 0.0 <= cfg <= 50.0:
                return False
            out.fields["guidance"] = cfg
        elif key == "Seed":
            seed = int(value)
            if not 0 <= seed <= MAX_SEED:
                return False
            out.fields["seed"] = seed
        elif key == "Size":
            w, h = (int(v) for v in value.lower().split("x"))
            if not all(64 <= v <= 4096 and v % 8 == 0 for v in (w, h)):
                return False
            out.fields.update(width=w, height=h)
        elif key == "Denoising strength":
            strength = float(value)
            if not 0.0 < strength <= 1.0:
                return False
            out.fields["strength"] = strength
        elif key == "Model hash":
            out.model_hash = value.lower()
        elif key == "Model":
            out.model_name = value
        else:
            return key == "Version"  # who wrote it: nothing to restore, nothing lost
    except ValueError:
        return False
    return True


def match_model(settings: ImportedSettings, entries: list[Any]) -> Any | None:
    """The registered model the chunk names: by hash prefix first, then by name."""
    if settings.model_hash:
        for e in entries:
            if e.sha256.startswith(settings.model_hash):
                return e
    if settings.model_name:
        wanted = settings.model_name.lower()
        for e in entries:
            if wanted in (e.name.lower(), e.name.lower().replace(",", " ")):
                return e
    return None


def request_from_parameters(text: str, entries: list[Any], base: GenerationRequest | None = None
                            ) -> tuple[GenerationRequest, list[str]]:
    """A request from ``parameters`` text plus what could not be mapped. The model comes from
    ``entries`` (registered models); without a match, ``base``'s model is kept and that is
    reported as not mapped."""
    settings = parse_parameters(text)
    unmapped = list(settings.unmapped)
    entry = match_model(settings, entries)
    if entry is not None:
        model = dict(model_id=entry.id, model_sha256=entry.sha256, model_name=entry.name,
                     family=str(entry.family))
    elif base is not None:
        model = dict(model_id=base.model_id, model_sha256=base.model_sha256,
                     model_name=base.model_name, family=base.family)
    else:
        named = settings.model_name or (f"hash {settings.model_hash}"
                                        if settings.model_hash else "none")
        raise RequestError(f"The model the image names ({named}) is not registered; add it "
                           "first, or choose a model to use instead.")
    if entry is None and (settings.model_hash or settings.model_name):
        unmapped.insert(0, "Model: " + " ".join(
            v for v in (settings.model_name, f"(hash {settings.model_hash})"
                        if settings.model_hash else "") if v)
            + " is not registered; the current model is used")
    start = base if base is not None else GenerationRequest(prompt="", **model)
    req = replace(settings.apply(replace(start, **model)), batch_size=1,
                  init_asset_id=None, init_sha256=None, mask_sha256=None,
                  outpaint_left=0, outpaint_top=0, outpaint_right=0, outpaint_bottom=0)
    if "strength" in settings.fields:
        unmapped.append("Denoising strength: applies to img2img; choose a source image to use "
                        "it")
    return req, unmapped
