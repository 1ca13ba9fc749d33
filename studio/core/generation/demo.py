"""A tiny random-weight Stable Diffusion pipeline built on disk, with no download.

It has the SD 1.5 architecture (UNet with cross-attention, an 8x VAE, a CLIP text encoder) at
toy sizes, so the whole app and the tests can run a real diffusers pipeline in well under a
second. It produces noise. ``write_single_file`` also exports it as an original-layout (LDM)
``.safetensors`` checkpoint, so the single-file loading path is exercised too.
"""

from __future__ import annotations

import json
from pathlib import Path

DEMO_README = """\
---
tags: [provenance-studio, demo, random-weights]
---
# Provenance Studio demo model (produces noise)

A tiny Stable Diffusion 1.5-architecture pipeline with **random weights**, written by
`studio demo-model`. It exists so the studio can be tried end to end without downloading a
multi-gigabyte model. **Every image it makes is noise.** Add a real model (a diffusers folder or
a `.safetensors` checkpoint) to make real pictures.

- UNet: 2 blocks (32, 64 channels), cross-attention dim 32
- VAE: 4 blocks of 16 channels (8x downscale, like SD)
- Text encoder: CLIP, 2 layers, width 32, with the real CLIP tokenizer the studio ships
- Scheduler: Euler, SD 1.5 noise schedule
"""

DEMO_NAME = "Demo model (tiny, random weights: produces noise)"


def bytes_to_unicode() -> dict[int, str]:
    """The byte-to-printable map byte-level BPE (GPT-2, CLIP) uses for its vocabulary."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs], strict=True))


def write_tokenizer(folder: Path) -> int:
    """A CLIP tokenizer over single bytes (no merges). Returns the vocabulary size."""
    folder.mkdir(parents=True, exist_ok=True)
    chars = list(bytes_to_unicode().values())
    vocab: dict[str, int] = {}
    for c in chars:
        vocab[c] = len(vocab)
    for c in chars:
        vocab[c + "</w>"] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    from transformers import CLIPTokenizer

    tok = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"),
                        model_max_length=77)
    tok.save_pretrained(str(folder))
    return len(vocab)


def build_demo_pipeline(folder: Path, seed: int = 0):
    """Write the tiny pipeline as a diffusers folder at ``folder`` and return it."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        layers_per_block=2,
        block_out_channels=(32, 64),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=32,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(16, 16, 16, 16),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=64,
    )
    # The real CLIP tokenizer (shipped in resources/model_configs), so the single-file export
    # loads with the studio's SD 1.5 configs exactly as the folder does.
    from studio.core.generation.single_file import CLIP_VOCAB, write_clip_tokenizer

    write_clip_tokenizer(folder / "tokenizer")
    tokenizer = CLIPTokenizer.from_pretrained(str(folder / "tokenizer"))
    text_encoder = CLIPTextModel(CLIPTextConfig(
        hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
        vocab_size=CLIP_VOCAB, max_position_embeddings=77, projection_dim=32,
        bos_token_id=CLIP_VOCAB - 2, eos_token_id=CLIP_VOCAB - 1, pad_token_id=CLIP_VOCAB - 1,
    ))
    scheduler = EulerDiscreteScheduler(
        num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
        beta_schedule="scaled_linear", steps_offset=1, timestep_spacing="leading",
    )
    pipe = StableDiffusionPipeline(
        unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
        scheduler=scheduler, safety_checker=None, feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(str(folder), safe_serialization=True)
    (folder / "README.md").write_text(DEMO_README, encoding="utf-8")
    return pipe


def write_single_file(pipe, path: Path) -> Path:
    """Export ``pipe`` (SD 1.x, SDXL or SD 3.x) as one original-layout ``.safetensors``."""
    from safetensors.torch import save_file

    from studio.core.generation.ldm_export import to_ldm_state_dict

    state = {k: v.contiguous() for k, v in to_ldm_state_dict(pipe).items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path))
    return path
