"""A short curated list for a first model: one click in the GUI, one command on the CLI.

Sizes are what the download writes (the files the studio picks from the repo), rounded; VRAM
is what the family's memory plan needs to run at the native size without offloading, and the
least it runs with (see docs/architecture.md, "Model families and memory").
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.core.generation.families import Family

GB = 1000**3


@dataclass(frozen=True)
class StarterModel:
    key: str
    name: str
    repo_id: str
    file: str | None  # one checkpoint file in the repo; None: the diffusers folder
    family: Family
    size_bytes: int
    licence: str
    gated: bool
    vram_gib: float  # comfortable, everything on the GPU
    min_vram_gib: float  # with the memory plan's offloading / FP8 storage
    note: str = ""

    @property
    def spec(self) -> str:
        return f"{self.repo_id}:{self.file}" if self.file else self.repo_id

    @property
    def licence_url(self) -> str:
        return f"https://huggingface.co/{self.repo_id}"


STARTERS: tuple[StarterModel, ...] = (
    StarterModel("sd15", "Stable Diffusion 1.5", "stable-diffusion-v1-5/stable-diffusion-v1-5",
                 "v1-5-pruned-emaonly.safetensors", Family.SD15, int(4.27 * GB),
                 "CreativeML OpenRAIL-M", False, 4, 2,
                 "The classic; the largest choice of fine-tunes and LoRAs."),
    StarterModel("sdxl", "Stable Diffusion XL base 1.0", "stabilityai/stable-diffusion-xl-base-1.0",
                 "sd_xl_base_1.0.safetensors", Family.SDXL, int(6.94 * GB),
                 "CreativeML Open RAIL++-M", False, 8, 4,
                 "1024 px; most 2025-26 fine-tunes and LoRAs are SDXL."),
    StarterModel("sdxl-turbo", "SDXL-Turbo", "stabilityai/sdxl-turbo",
                 "sd_xl_turbo_1.0_fp16.safetensors", Family.SDXL_TURBO, int(6.94 * GB),
                 "Stability AI Community License", False, 8, 4,
                 "One to four steps at 512 px: near-instant drafts."),
    StarterModel("sd35-medium", "Stable Diffusion 3.5 Medium",
                 "stabilityai/stable-diffusion-3.5-medium", None, Family.SD3,
                 int(16.2 * GB), "Stability AI Community License", True, 12, 8,
                 "Gated: accept the licence on its Hugging Face page first."),
    StarterModel("flux-schnell", "FLUX.1 [schnell]", "black-forest-labs/FLUX.1-schnell", None,
                 Family.FLUX_SCHNELL, int(33.7 * GB), "Apache-2.0", False, 34, 8,
                 "Four steps, strong prompt following; 16 GB cards run it with FP8 storage."),
)


def starter(key: str) -> StarterModel | None:
    return next((s for s in STARTERS if s.key == key), None)
