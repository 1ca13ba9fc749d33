"""Full-size SD 1.5, SDXL and FLUX.1-schnell architectures with random weights, built in code.

No hub, no downloads: the configs are the published ones, the weights are seeded random
numbers, and the tokenizers are written locally (byte-level CLIP, a word-level stand-in for
T5). Speed does not depend on the weights' values, so these measure what real models would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CLIP_L = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
              num_attention_heads=12, max_position_embeddings=77, hidden_act="quick_gelu",
              projection_dim=768, vocab_size=49408)
CLIP_BIGG = dict(hidden_size=1280, intermediate_size=5120, num_hidden_layers=32,
                 num_attention_heads=20, max_position_embeddings=77, hidden_act="gelu",
                 projection_dim=1280, vocab_size=49408)
T5_XXL = dict(d_model=4096, d_ff=10240, d_kv=64, num_heads=64, num_layers=24, vocab_size=32128,
              feed_forward_proj="gated-gelu", relative_attention_num_buckets=32,
              is_encoder_decoder=False, use_cache=False)
VAE = dict(block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4,
           down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4)
FLUX_VAE = dict(VAE, latent_channels=16, scaling_factor=0.3611, shift_factor=0.1159,
                use_quant_conv=False, use_post_quant_conv=False, sample_size=1024)
SD15_UNET: dict = {}  # UNet2DConditionModel's defaults are the SD 1.5 UNet
SDXL_UNET = dict(
    sample_size=128, block_out_channels=(320, 640, 1280), layers_per_block=2,
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    transformer_layers_per_block=(1, 2, 10), attention_head_dim=(5, 10, 20),
    cross_attention_dim=2048, addition_embed_type="text_time", addition_time_embed_dim=256,
    projection_class_embeddings_input_dim=2816, use_linear_projection=True)
FLUX_SCHNELL = dict(patch_size=1, in_channels=64, num_layers=19, num_single_layers=38,
                    attention_head_dim=128, num_attention_heads=24, joint_attention_dim=4096,
                    pooled_projection_dim=768, guidance_embeds=False, axes_dims_rope=(16, 56, 56))
SD_SCHEDULER = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
                    beta_schedule="scaled_linear", steps_offset=1, timestep_spacing="leading")

# arch -> (size, steps, guidance, dtype of the plain-diffusers side, the studio family)
CASES: dict[str, tuple[int, int, float, str, str]] = {
    "sd15": (512, 30, 7.0, "float16", "sd15"),
    "sdxl": (1024, 30, 7.0, "float16", "sdxl"),
    "flux-schnell": (1024, 4, 0.0, "bfloat16", "flux"),
}


def _t5_tokenizer(folder: Path) -> Any:
    # A word-level tokenizer over a small vocabulary: T5's ids without its sentencepiece file.
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = ["<pad>", "</s>", "<unk>"] + [chr(c) for c in range(33, 127)]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>",
                                   unk_token="<unk>", model_max_length=512)
    fast.save_pretrained(str(folder))
    return fast


def build(arch: str, work: Path, device: str) -> Any:
    """The random-weight pipeline of ``arch`` in float32 on ``device`` (seeded: every process
    that builds it gets the same weights)."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        FlowMatchEulerDiscreteScheduler,
        FluxPipeline,
        FluxTransformer2DModel,
        StableDiffusionPipeline,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        CLIPTextModelWithProjection,
        CLIPTokenizer,
        T5Config,
        T5EncoderModel,
    )

    from studio.core.generation.demo import write_tokenizer

    write_tokenizer(work / "clip-tok")
    tok = CLIPTokenizer.from_pretrained(str(work / "clip-tok"))
    torch.manual_seed(0)
    with torch.device(device):
        if arch == "sd15":
            return StableDiffusionPipeline(
                unet=UNet2DConditionModel(**SD15_UNET), vae=AutoencoderKL(**VAE, sample_size=512),
                text_encoder=CLIPTextModel(CLIPTextConfig(**CLIP_L)), tokenizer=tok,
                scheduler=EulerDiscreteScheduler(**SD_SCHEDULER), safety_checker=None,
                feature_extractor=None, requires_safety_checker=False)
        if arch == "sdxl":
            return StableDiffusionXLPipeline(
                unet=UNet2DConditionModel(**SDXL_UNET),
                vae=AutoencoderKL(**VAE, sample_size=1024, scaling_factor=0.13025),
                text_encoder=CLIPTextModel(CLIPTextConfig(**CLIP_L)),
                text_encoder_2=CLIPTextModelWithProjection(CLIPTextConfig(**CLIP_BIGG)),
                tokenizer=tok, tokenizer_2=tok, scheduler=EulerDiscreteScheduler(**SD_SCHEDULER))
        if arch == "flux-schnell":
            return FluxPipeline(
                transformer=FluxTransformer2DModel(**FLUX_SCHNELL), vae=AutoencoderKL(**FLUX_VAE),
                text_encoder=CLIPTextModel(CLIPTextConfig(**CLIP_L)), tokenizer=tok,
                text_encoder_2=T5EncoderModel(T5Config(**T5_XXL)),
                tokenizer_2=_t5_tokenizer(work / "t5-tok"),
                scheduler=FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=1.0,
                                                          use_dynamic_shifting=False))
    raise ValueError(f"unknown arch {arch!r}")
