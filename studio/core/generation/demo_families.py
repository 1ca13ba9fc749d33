"""Tiny random-weight pipelines of every family, built on disk with no download.

The sizes follow diffusers' own fast tests (``tests/pipelines/*``: one or two transformer
layers, 32-wide text encoders) so each family's real pipeline class runs end to end on a CPU in
about a second. Tokenizers are never fetched: the real CLIP tokenizer the studio ships
(resources/model_configs/clip; a byte-level one for the 1024-wide SD 2.x encoder) and a
character-level T5 vocabulary written locally. Every image these models make is noise.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

from studio.core.generation.families import FAMILIES, Family

DEMO_FAMILY_README = """\
---
tags: [provenance-studio, demo, random-weights]
---
# Provenance Studio tiny {label} model (random weights: produces noise)

Written by `studio demo-model --family {family}`. It has the {label} pipeline's architecture at
toy sizes so the studio's flow can be tried and tested without a download. **Every image it makes
is noise.**
"""


def _vae(latent_channels: int = 4, **kw: Any) -> Any:
    from diffusers import AutoencoderKL

    # 4 blocks: the 8x down-scale every real family has, so sizes behave as in real models.
    return AutoencoderKL(
        in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=(16, 16, 16, 16),
        layers_per_block=1, latent_channels=latent_channels, norm_num_groups=8,
        sample_size=64, **kw)


def _clip(folder: Path, name: str, *, hidden: int = 32, projection: bool = False,
          layers: int = 2, heads: int = 4, act: str = "gelu", pad: str = "<|endoftext|>") -> tuple:
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        CLIPTextModelWithProjection,
        CLIPTokenizer,
    )

    from studio.core.generation.demo import write_tokenizer
    from studio.core.generation.single_file import CLIP_VOCAB, write_clip_tokenizer

    if hidden < 256:
        # The real CLIP tokenizer the studio ships: single-file exports load with the shipped
        # family configs. (Too big an embedding for the 1024-wide SD 2.x encoder.)
        write_clip_tokenizer(folder / name, pad)
        vocab = CLIP_VOCAB
    else:
        vocab = write_tokenizer(folder / name)
    tok = CLIPTokenizer.from_pretrained(str(folder / name))
    config = CLIPTextConfig(
        hidden_size=hidden, intermediate_size=37, num_hidden_layers=layers,
        num_attention_heads=heads, vocab_size=vocab, max_position_embeddings=77,
        projection_dim=32, bos_token_id=vocab - 2, eos_token_id=vocab - 1,
        pad_token_id=vocab - 1, hidden_act=act)
    model = (CLIPTextModelWithProjection if projection else CLIPTextModel)(config)
    return model, tok


def _t5(folder: Path, name: str) -> tuple:
    """A 2-layer, 32-wide T5 encoder and a character-level T5 (Unigram) tokenizer."""
    from transformers import T5Config, T5EncoderModel, T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    pieces += [(c, -3.0) for c in string.ascii_letters + string.digits + string.punctuation]
    pieces += [("\u2581" + c, -2.5) for c in string.ascii_lowercase]
    tok = T5Tokenizer(vocab=pieces, extra_ids=0)
    tok.save_pretrained(str(folder / name))
    tok = T5Tokenizer.from_pretrained(str(folder / name))
    model = T5EncoderModel(T5Config(
        vocab_size=len(pieces), d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
        relative_attention_num_buckets=8, decoder_start_token_id=0, pad_token_id=0,
        eos_token_id=1))
    return model, tok


def _unet(**kw: Any) -> Any:
    from diffusers import UNet2DConditionModel

    base: dict[str, Any] = dict(
        sample_size=8, in_channels=4, out_channels=4, layers_per_block=1,
        block_out_channels=(32, 64), down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=32,
        attention_head_dim=8, norm_num_groups=32)
    base.update(kw)
    return UNet2DConditionModel(**base)


def _sd_scheduler(**kw: Any) -> Any:
    from diffusers import EulerDiscreteScheduler

    config: dict[str, Any] = dict(num_train_timesteps=1000, beta_start=0.00085,
                                  beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1,
                                  timestep_spacing="leading")
    config.update(kw)
    return EulerDiscreteScheduler(**config)


def _build_sd(folder: Path, family: Family) -> Any:
    from diffusers import StableDiffusionPipeline

    sd2 = family is Family.SD2
    # SD 2.x is told apart from 1.5 by its 1024-wide text conditioning.
    hidden = 1024 if sd2 else 32
    text_encoder, tokenizer = _clip(folder, "tokenizer", hidden=hidden, layers=1 if sd2 else 2)
    unet = _unet(cross_attention_dim=hidden, use_linear_projection=sd2)
    return StableDiffusionPipeline(
        unet=unet, vae=_vae(), text_encoder=text_encoder, tokenizer=tokenizer,
        scheduler=_sd_scheduler(), safety_checker=None, feature_extractor=None,
        requires_safety_checker=False)


def _build_sdxl(folder: Path, family: Family) -> Any:
    from diffusers import StableDiffusionXLPipeline

    # As in SDXL (CLIP-L 768 + OpenCLIP bigG 1280), the two encoders differ in width, which is
    # how a single-file loader tells their tensors apart; heads follow the single-file loader's
    # conventions (64-wide, or 8-wide below that) so the export loads back identically.
    te1, tok1 = _clip(folder, "tokenizer", act="quick_gelu")
    te2, tok2 = _clip(folder, "tokenizer_2", hidden=64, heads=1, projection=True, pad="!")
    # diffusers' SDXL fast-test UNet: text_time conditioning, 96 = 32 + 64 text width,
    # 80 = 6 time ids x 8 + the 32-wide pooled text embedding.
    unet = _unet(block_out_channels=(32, 64), layers_per_block=1,
                 down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                 up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
                 attention_head_dim=(4, 8), use_linear_projection=True,
                 addition_embed_type="text_time", addition_time_embed_dim=8,
                 transformer_layers_per_block=(1, 2), projection_class_embeddings_input_dim=80,
                 cross_attention_dim=96)
    sched = _sd_scheduler(timestep_spacing="trailing") if FAMILIES[family].turbo \
        else _sd_scheduler()
    return StableDiffusionXLPipeline(
        unet=unet, vae=_vae(scaling_factor=0.13025), text_encoder=te1, tokenizer=tok1,
        text_encoder_2=te2, tokenizer_2=tok2, scheduler=sched)


def _build_sd3(folder: Path, family: Family) -> Any:
    from diffusers import (
        FlowMatchEulerDiscreteScheduler,
        SD3Transformer2DModel,
        StableDiffusion3Pipeline,
    )

    te1, tok1 = _clip(folder, "tokenizer", projection=True)
    te2, tok2 = _clip(folder, "tokenizer_2", projection=True)
    te3, tok3 = _t5(folder, "tokenizer_3")
    transformer = SD3Transformer2DModel(
        sample_size=8, patch_size=1, in_channels=4, num_layers=1, attention_head_dim=8,
        num_attention_heads=4, caption_projection_dim=32, joint_attention_dim=32,
        pooled_projection_dim=64, out_channels=4)
    return StableDiffusion3Pipeline(
        transformer=transformer, vae=_vae(shift_factor=0.0609, scaling_factor=1.5305),
        text_encoder=te1, tokenizer=tok1, text_encoder_2=te2, tokenizer_2=tok2,
        text_encoder_3=te3, tokenizer_3=tok3, scheduler=FlowMatchEulerDiscreteScheduler(
            shift=3.0))


def _build_flux(folder: Path, family: Family) -> Any:
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel

    te1, tok1 = _clip(folder, "tokenizer")
    te2, tok2 = _t5(folder, "tokenizer_2")
    transformer = FluxTransformer2DModel(
        patch_size=1, in_channels=16, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=32,
        axes_dims_rope=[4, 4, 8], guidance_embeds=family is Family.FLUX_DEV)
    return FluxPipeline(
        transformer=transformer, vae=_vae(shift_factor=0.1159, scaling_factor=0.3611,
                                          use_quant_conv=False, use_post_quant_conv=False),
        text_encoder=te1, tokenizer=tok1, text_encoder_2=te2, tokenizer_2=tok2,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=1.0, use_dynamic_shifting=False),
        image_encoder=None, feature_extractor=None)


def _build_pixart(folder: Path, family: Family) -> Any:
    from diffusers import DPMSolverMultistepScheduler, PixArtSigmaPipeline, PixArtTransformer2DModel

    te, tok = _t5(folder, "tokenizer")
    transformer = PixArtTransformer2DModel(
        sample_size=8, num_layers=2, patch_size=2, attention_head_dim=8, num_attention_heads=3,
        caption_channels=32, in_channels=4, cross_attention_dim=24, out_channels=8,
        attention_bias=True, activation_fn="gelu-approximate", num_embeds_ada_norm=1000,
        norm_type="ada_norm_single", norm_elementwise_affine=False, norm_eps=1e-6)
    return PixArtSigmaPipeline(transformer=transformer, vae=_vae(), text_encoder=te,
                               tokenizer=tok, scheduler=DPMSolverMultistepScheduler())


_BUILDERS = {
    Family.SD15: _build_sd, Family.SD2: _build_sd, Family.SD_TURBO: _build_sd,
    Family.SDXL: _build_sdxl, Family.SDXL_TURBO: _build_sdxl,
    Family.SD3: _build_sd3, Family.SD3_TURBO: _build_sd3,
    Family.FLUX_DEV: _build_flux, Family.FLUX_SCHNELL: _build_flux,
    Family.PIXART_SIGMA: _build_pixart,
}


def build_tiny_pipeline(folder: Path, family: Family | str, seed: int = 0) -> Any:
    """Write a tiny random-weight pipeline of ``family`` as a diffusers folder at ``folder``.

    The folder name ends in ``-turbo`` for Turbo families: their weights look like the base
    family's, and the name is what tells them apart (as for real Turbo checkpoints).
    """
    import torch

    family = Family(family)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    pipe = _BUILDERS[family](folder, family)
    pipe.save_pretrained(str(folder), safe_serialization=True)
    index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    index["_name_or_path"] = f"provenance-studio/tiny-{family.value}"
    (folder / "model_index.json").write_text(json.dumps(index, indent=2), encoding="utf-8")
    (folder / "README.md").write_text(DEMO_FAMILY_README.format(
        label=FAMILIES[family].label, family=family.value), encoding="utf-8")
    return pipe
