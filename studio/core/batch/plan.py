"""Turning what a user asks for into a batch's requests: a prompts × seeds × models matrix, or a
CSV / JSONL file with one request per row. Every problem names its row and field."""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.batch.store import BatchError
from studio.core.generation.errors import GenerationError
from studio.core.generation.families import FAMILIES
from studio.core.generation.registry import ModelEntry
from studio.core.generation.request import MAX_SEED, GenerationRequest
from studio.core.generation.schedulers import default_scheduler_for
from studio.core.settings import GenerationSettings

MAX_ITEMS = 100_000
ModelResolver = Callable[[str], ModelEntry]  # raises BatchError for an unknown model


@dataclass(frozen=True)
class Options:
    """Per-request settings; None takes the model family's / the settings' default."""

    steps: int | None = None
    size: tuple[int, int] | None = None
    negative: str = ""
    guidance: float | None = None
    scheduler: str | None = None


def parse_seeds(text: str) -> list[int]:
    """``1-12``, ``5``, ``1,2,10-12`` -> seeds, in order, duplicates kept out."""
    seeds: list[int] = []
    for part in (p.strip() for p in str(text).split(",")):
        if not part:
            continue
        try:
            if "-" in part[1:]:
                lo, hi = (int(v) for v in part.split("-", 1))
                if hi < lo:
                    raise BatchError(f"seed range {part!r} runs backwards")
                if hi - lo >= MAX_ITEMS:
                    raise BatchError(f"seed range {part!r} is too long")
                seeds.extend(range(lo, hi + 1))
            else:
                seeds.append(int(part))
        except ValueError as exc:
            raise BatchError(f"seeds must look like 1-12 or 1,5,9, not {text!r}") from exc
    bad = [s for s in seeds if not 0 <= s <= MAX_SEED]
    if bad:
        raise BatchError(f"seed {bad[0]} is out of range (0 to {MAX_SEED})")
    if not seeds:
        raise BatchError("no seeds given")
    return list(dict.fromkeys(seeds))


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in str(text).lower().split("x"))
    except ValueError as exc:
        raise BatchError(f"size must look like 512x768, not {text!r}") from exc
    return w, h


def make_request(entry: ModelEntry, prompt: str, seed: int, opts: Options,
                 settings: GenerationSettings) -> GenerationRequest:
    """The same defaults ``studio generate`` uses, per model family."""
    info = FAMILIES[entry.family]
    w, h = opts.size or (info.default_size, info.default_size)
    req = GenerationRequest(
        model_id=entry.id, model_sha256=entry.sha256, model_name=entry.name,
        family=str(entry.family), prompt=prompt, negative_prompt=opts.negative, seed=seed,
        steps=opts.steps if opts.steps is not None else (
            4 if info.turbo else settings.default_steps),
        guidance=opts.guidance if opts.guidance is not None else (
            0.0 if info.turbo else settings.default_guidance),
        width=w, height=h,
        scheduler=opts.scheduler or (default_scheduler_for(True) if info.turbo
                                     else settings.default_scheduler))
    try:
        return req.validate()
    except GenerationError as exc:
        raise BatchError(str(exc)) from exc


def matrix(models: list[ModelEntry], prompts: list[str], seeds: list[int], opts: Options,
           settings: GenerationSettings) -> list[GenerationRequest]:
    """Every model × prompt × seed, in that nesting order."""
    if not models or not prompts:
        raise BatchError("a batch needs at least one --model and one --prompt")
    if len(models) * len(prompts) * len(seeds) > MAX_ITEMS:
        raise BatchError(f"the batch would have more than {MAX_ITEMS} items")
    return [make_request(m, p, s, opts, settings)
            for m, p, s in itertools.product(models, prompts, seeds)]


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchError(f"cannot read {path}: {exc}") from exc
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or "prompt" not in reader.fieldnames:
            raise BatchError(f"{path.name}: the CSV needs a header row with a 'prompt' column")
        return [(n + 2, {k: v for k, v in row.items() if k and v not in (None, "")})
                for n, row in enumerate(reader)]
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BatchError(f"{path.name} line {n}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise BatchError(f"{path.name} line {n}: each line must be a JSON object")
        rows.append((n, row))
    return rows


def _field(row: dict[str, Any], name: str, kind: type, where: str) -> Any:
    value = row.get(name)
    if value is None:
        return None
    try:
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise BatchError(f"{where}: {name} must be a{'n' if kind is int else ''} "
                         f"{kind.__name__}, not {value!r}") from exc


def load_file(path: Path, resolve: ModelResolver, settings: GenerationSettings, *,
              default_model: str | None = None, defaults: Options = Options()
              ) -> list[GenerationRequest]:
    """Requests from a ``.jsonl`` (one JSON object a line) or ``.csv`` (header row) file.

    Fields: prompt (required), model (id, name or path; else ``default_model``), seed or
    seeds (``1-4``), steps, size (``WxH``) or width/height, negative, guidance, scheduler.
    """
    path = Path(path)
    out: list[GenerationRequest] = []
    for line, row in _rows(path):
        where = f"{path.name} line {line}"
        prompt = row.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise BatchError(f"{where}: a 'prompt' is required")
        model_spec = row.get("model") or default_model
        if not model_spec:
            raise BatchError(f"{where}: no 'model' (and no --model default)")
        try:
            entry = resolve(str(model_spec))
        except BatchError as exc:
            raise BatchError(f"{where}: {exc}") from exc
        seeds = (parse_seeds(str(row["seeds"])) if "seeds" in row
                 else [_field(row, "seed", int, where) or 0])  # no seed: seed 0
        size = defaults.size
        if "size" in row:
            size = parse_size(row["size"])
        elif "width" in row or "height" in row:
            w, h = _field(row, "width", int, where), _field(row, "height", int, where)
            size = (512 if w is None else w, 512 if h is None else h)
        steps = _field(row, "steps", int, where)
        opts = Options(steps=defaults.steps if steps is None else steps, size=size,
                       negative=str(row.get("negative", defaults.negative)),
                       guidance=(_field(row, "guidance", float, where)
                                 if "guidance" in row else defaults.guidance),
                       scheduler=row.get("scheduler") or defaults.scheduler)
        for seed in seeds:
            try:
                out.append(make_request(entry, prompt, seed, opts, settings))
            except BatchError as exc:
                raise BatchError(f"{where}: {exc}") from exc
        if len(out) > MAX_ITEMS:
            raise BatchError(f"{path.name}: more than {MAX_ITEMS} items")
    if not out:
        raise BatchError(f"{path.name} has no requests")
    return out
