"""``GenerationRequest``: everything one job needs, serialisable. The same JSON is what the
provenance manifest records, so replaying it reproduces the image (same device and versions)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from studio.core.generation.errors import RequestError
from studio.core.generation.schedulers import SCHEDULERS

# 2: ``model_source`` and ``loras`` (format-1 requests load unchanged: no LoRAs).
REQUEST_FORMAT = 2
MAX_SEED = 2**63 - 1
MAX_LORAS = 16


@dataclass(frozen=True)
class LoraRef:
    """One LoRA applied to a job, pinned by its file hash."""

    id: str
    sha256: str
    weight: float = 1.0
    name: str = ""
    autov3: str = ""  # A1111/Civitai's hash of the tensors (what "Lora hashes" shows)
    source: str = ""

    @classmethod
    def from_dict(cls, data: Any) -> LoraRef:
        if not isinstance(data, dict):
            raise RequestError("Each LoRA in a request must be a JSON object.")
        try:
            ref = cls(**{k: v for k, v in data.items() if k in _LORA_FIELDS})
        except TypeError as exc:
            raise RequestError(f"A LoRA in the request is incomplete: {exc}") from exc
        if not all(isinstance(getattr(ref, k), str) for k in ("id", "sha256", "name",
                                                                "autov3", "source")) or \
                isinstance(ref.weight, bool) or not isinstance(ref.weight, int | float):
            raise RequestError(f"A LoRA in the request has a field of the wrong type: {data!r}")
        return replace(ref, weight=float(ref.weight))


@dataclass(frozen=True)
class GenerationRequest:
    model_id: str
    model_sha256: str
    prompt: str
    model_name: str = ""
    family: str = ""
    negative_prompt: str = ""
    seed: int = 0
    steps: int = 25
    guidance: float = 7.0
    width: int = 512
    height: int = 512
    scheduler: str = "Euler a"
    batch_size: int = 1
    # img2img: the source is a library asset, pinned by its hash.
    init_asset_id: int | None = None
    init_sha256: str | None = None
    strength: float = 0.75
    # inpaint: the mask (white = regenerate), kept in the library by its hash (edit.py).
    mask_sha256: str | None = None
    # outpaint: pixels added on each side of the source before the new area is filled.
    outpaint_left: int = 0
    outpaint_top: int = 0
    outpaint_right: int = 0
    outpaint_bottom: int = 0
    model_source: str = ""  # hub "repo@revision[:file]" or URL the checkpoint came from
    loras: tuple[LoraRef, ...] = ()
    format: int = REQUEST_FORMAT

    @property
    def is_img2img(self) -> bool:
        """Any job that starts from a source image (img2img, inpaint, outpaint)."""
        return self.init_asset_id is not None

    @property
    def outpaint(self) -> tuple[int, int, int, int]:
        return (self.outpaint_left, self.outpaint_top, self.outpaint_right,
                self.outpaint_bottom)

    @property
    def mode(self) -> str:
        """txt2img | img2img | inpaint | outpaint: what the provenance records as the edit."""
        if not self.is_img2img:
            return "txt2img"
        if any(self.outpaint):
            return "outpaint"
        return "inpaint" if self.mask_sha256 else "img2img"

    def validate(self) -> GenerationRequest:
        problems = []
        if not self.model_id or not self.model_sha256:
            problems.append("no model is chosen")
        if not self.prompt.strip():
            problems.append("the prompt is empty")
        if not 0 <= self.seed <= MAX_SEED:
            problems.append(f"the seed must be between 0 and {MAX_SEED}")
        if not 1 <= self.steps <= 500:
            problems.append("steps must be between 1 and 500")
        if not 0.0 <= self.guidance <= 50.0:
            problems.append("guidance must be between 0 and 50")
        for name, v in (("width", self.width), ("height", self.height)):
            if not 64 <= v <= 4096 or v % 8:
                problems.append(f"{name} must be a multiple of 8 between 64 and 4096")
        if self.scheduler not in SCHEDULERS:
            problems.append(f"unknown scheduler {self.scheduler!r} (one of: "
                            + ", ".join(SCHEDULERS) + ")")
        if not 1 <= self.batch_size <= 64:
            problems.append("batch size must be between 1 and 64")
        if self.is_img2img and not self.init_sha256:
            problems.append("an img2img source needs its sha256")
        if not 0.0 < self.strength <= 1.0:
            problems.append("strength must be above 0 and at most 1")
        if (self.mask_sha256 or any(self.outpaint)) and not self.is_img2img:
            problems.append("inpainting and outpainting need a source image")
        if self.mask_sha256 and any(self.outpaint):
            problems.append("a job either inpaints a mask or outpaints, not both")
        if not all(isinstance(v, int) and 0 <= v <= 2048 for v in self.outpaint):
            problems.append("outpaint margins must be between 0 and 2048 pixels")
        if len(self.loras) > MAX_LORAS:
            problems.append(f"at most {MAX_LORAS} LoRAs per job")
        for lora in self.loras:
            if not lora.id or not lora.sha256:
                problems.append("a LoRA needs its id and sha256")
            elif not -5.0 <= lora.weight <= 5.0:
                problems.append(f"the LoRA {lora.name or lora.id}'s weight must be between "
                                "-5 and 5")
        if len({lora.id for lora in self.loras}) != len(self.loras):
            problems.append("the same LoRA is listed twice")
        if problems:
            raise RequestError("Cannot generate: " + "; ".join(problems) + ".")
        return self

    def for_item(self, index: int) -> GenerationRequest:
        """The request that reproduces item ``index`` of this batch alone (seed + index)."""
        return replace(self, seed=self.seed + index, batch_size=1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationRequest:
        if not isinstance(data, dict):
            raise RequestError("A generation request must be a JSON object.")
        if int(data.get("format", REQUEST_FORMAT)) > REQUEST_FORMAT:
            raise RequestError("This request was written by a newer version of the studio.")
        known = {f.name: f for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        loras = kwargs.get("loras", ())
        if not isinstance(loras, list | tuple):
            raise RequestError("The request's LoRAs must be a list.")
        kwargs["loras"] = tuple(LoraRef.from_dict(item) for item in loras)
        try:
            req = cls(**kwargs)
        except TypeError as exc:
            raise RequestError(f"The generation request is incomplete: {exc}") from exc
        for f in fields(cls):
            value = getattr(req, f.name)
            want = {"int": int, "float": (int, float), "str": str}.get(str(f.type))
            if want and (not isinstance(value, want) or isinstance(value, bool)):
                raise RequestError(f"The request field {f.name!r} has a wrong type: {value!r}")
        return replace(req, guidance=float(req.guidance), strength=float(req.strength))

    @classmethod
    def from_json(cls, text: str) -> GenerationRequest:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RequestError(f"The generation request is not valid JSON: {exc}") from exc
        return cls.from_dict(data)


_LORA_FIELDS = {f.name for f in fields(LoraRef)}
