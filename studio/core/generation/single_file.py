"""Single-file checkpoints loaded offline from the configs the studio ships.

``resources/model_configs/<name>/`` holds, per family, the diffusers config tree of the
reference model (model_index.json, scheduler, unet|transformer, vae, text encoders, tokenizer
settings), written from the real repos; ``resources/model_configs/clip/`` holds the one CLIP
BPE vocabulary every family's CLIP tokenizers share (see scripts/make_clip_tokenizer.py).

A checkpoint may be a fine-tune with other dimensions (or a tiny test model), so the
architecture is read from its tensor shapes, as ComfyUI's model detection does (block widths
from conv weights, cross-attention width from ``attn2.to_k``, layer counts by counting), and
overrides the reference config; what shapes cannot tell (heads, norm groups, schedules, VAE
scaling) keeps the family's conventions. The result is assembled in a temporary folder that
``from_single_file(config=...)`` reads once: no hub, no cache, no registered folder.

SD 3.5 and FLUX.1 single files usually hold only the transformer (and sometimes the VAE); their
text encoders (CLIP + T5) then come from a registered diffusers folder of the same family.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from studio.core.generation.errors import ModelError
from studio.core.generation.families import FAMILIES, Family
from studio.resources import resource

log = logging.getLogger(__name__)

CLIP_VOCAB = 49408  # every SD-family CLIP tokenizer: 256 bytes x 2, 48,894 merges, 2 specials
UNET = "model.diffusion_model."

# Family -> shipped reference config folder (SD 2.x picks 2.1-base for 512-px checkpoints).
_CONFIG_NAMES = {
    Family.SD15: "sd15", Family.SD2: "sd2", Family.SD_TURBO: "sd-turbo", Family.SDXL: "sdxl",
    Family.SDXL_TURBO: "sdxl-turbo", Family.SD3: "sd3", Family.SD3_TURBO: "sd3",
    Family.FLUX_DEV: "flux-dev", Family.FLUX_SCHNELL: "flux-schnell",
}
# Families whose text encoders a single file may lack (and whose T5 tokenizer is not shipped).
NEEDS_TEXT_ENCODERS = {Family.SD3, Family.SD3_TURBO, Family.FLUX_DEV, Family.FLUX_SCHNELL}
_TEXT_ENCODER_REPOS = {Family.SD3: "stabilityai/stable-diffusion-3.5-medium",
                       Family.SD3_TURBO: "stabilityai/stable-diffusion-3.5-large-turbo",
                       Family.FLUX_DEV: "black-forest-labs/FLUX.1-dev",
                       Family.FLUX_SCHNELL: "black-forest-labs/FLUX.1-schnell"}


def configs_root() -> Path:
    return resource("model_configs")


def config_name(family: Family, name_hint: str = "") -> str:
    if family not in _CONFIG_NAMES:
        raise ModelError(f"{FAMILIES[family].label} models cannot be loaded from a single "
                         "file; add a diffusers folder instead.")
    if family is Family.SD2 and re.search(r"base|512", name_hint.lower()):
        return "sd2-base"  # SD 2.x 512-px (epsilon); the 768-px 2.1 predicts v
    return _CONFIG_NAMES[family]


def text_encoder_group(family: Family) -> set[Family]:
    """Families whose diffusers folders can lend their text encoders to ``family``."""
    if family in (Family.SD3, Family.SD3_TURBO):
        return {Family.SD3, Family.SD3_TURBO}
    if family in (Family.FLUX_DEV, Family.FLUX_SCHNELL):
        return {Family.FLUX_DEV, Family.FLUX_SCHNELL}
    return {family}


# -- tensor shapes --------------------------------------------------------------------------

def read_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape, from the safetensors header alone (no weights read)."""
    with open(path, "rb") as fh:
        header = json.loads(fh.read(int.from_bytes(fh.read(8), "little")))
    return {k: tuple(v["shape"]) for k, v in header.items() if k != "__metadata__"}


def _count(shapes: Iterable[str], prefix: str) -> int:
    """How many numbered children ``prefix<N>.`` there are."""
    pat = re.compile(re.escape(prefix) + r"(\d+)\.")
    found = {int(m.group(1)) for k in shapes if (m := pat.match(k))}
    return max(found) + 1 if found else 0


def _heads(width: int, head_dim: int) -> int:
    # Real models use the family's head width; toy models narrower than one such head (the
    # demo and diffusers' fast-test sizes) use 8-wide heads.
    return width // head_dim if width % head_dim == 0 else max(1, width // 8)


def infer_unet(shapes: dict[str, tuple[int, ...]], ref: dict[str, Any],
               pooled_dim: int | None) -> dict[str, Any]:
    cfg = dict(ref)
    c0, cin = shapes[UNET + "input_blocks.0.0.weight"][:2]
    levels: list[dict[str, Any]] = [{"ch": c0, "res": 0, "attn": False, "depth": 1}]
    i = 1
    while any(k.startswith(f"{UNET}input_blocks.{i}.") for k in shapes):
        if f"{UNET}input_blocks.{i}.0.op.weight" in shapes:
            levels.append({"ch": levels[-1]["ch"], "res": 0, "attn": False, "depth": 1})
        else:
            lvl = levels[-1]
            lvl["ch"] = shapes[f"{UNET}input_blocks.{i}.0.out_layers.3.weight"][0]
            lvl["res"] += 1
            if f"{UNET}input_blocks.{i}.1.proj_in.weight" in shapes:
                lvl["attn"] = True
                lvl["depth"] = _count(shapes, f"{UNET}input_blocks.{i}.1.transformer_blocks.")
        i += 1
    channels = [lvl["ch"] for lvl in levels]
    n = len(levels)
    per = levels[0]["res"]
    up_attn = [any(f"{UNET}output_blocks.{(per + 1) * j + r}.1.proj_in.weight" in shapes
                   for r in range(per + 1)) for j in range(n)]
    depths = [lvl["depth"] for lvl in levels]
    cfg.update(
        in_channels=cin, out_channels=shapes[UNET + "out.2.weight"][0],
        block_out_channels=channels, layers_per_block=per,
        down_block_types=["CrossAttnDownBlock2D" if lvl["attn"] else "DownBlock2D"
                          for lvl in levels],
        up_block_types=["CrossAttnUpBlock2D" if a else "UpBlock2D" for a in up_attn],
        cross_attention_dim=next(s[1] for k, s in shapes.items()
                                 if k.startswith(UNET) and k.endswith("attn2.to_k.weight")),
        use_linear_projection=len(next(s for k, s in shapes.items() if k.startswith(UNET)
                                       and k.endswith(".proj_in.weight"))) == 2)
    if "transformer_layers_per_block" in ref:
        cfg["transformer_layers_per_block"] = depths if len(set(depths)) > 1 else depths[0]
    if isinstance(ref.get("attention_head_dim"), list):
        # SD 2.x / SDXL: 64-wide heads, so the head count grows with the block width.
        wide = all(c % 64 == 0 for c in channels)
        cfg["attention_head_dim"] = [c // 64 if wide else max(1, c // 8) for c in channels]
    adm = shapes.get(UNET + "label_emb.0.0.weight")
    if adm is not None and ref.get("addition_embed_type") == "text_time":
        cfg["projection_class_embeddings_input_dim"] = adm[1]
        if pooled_dim and (adm[1] - pooled_dim) % 6 == 0:  # 6 size/crop ids + pooled text
            cfg["addition_time_embed_dim"] = (adm[1] - pooled_dim) // 6
    return cfg


def _vae_prefix(shapes: dict[str, tuple[int, ...]]) -> str | None:
    for prefix in ("first_stage_model.", "vae."):
        if prefix + "encoder.conv_in.weight" in shapes:
            return prefix
    return None


def infer_vae(shapes: dict[str, tuple[int, ...]], ref: dict[str, Any], p: str) -> dict[str, Any]:
    cfg = dict(ref)
    n = _count(shapes, p + "encoder.down.")
    channels = [shapes[f"{p}encoder.down.{i}.block.0.conv1.weight"][0] for i in range(n)]
    cfg.update(
        in_channels=shapes[p + "encoder.conv_in.weight"][1],
        out_channels=shapes[p + "decoder.conv_out.weight"][0],
        block_out_channels=channels, layers_per_block=_count(shapes, p + "encoder.down.0.block."),
        down_block_types=["DownEncoderBlock2D"] * n, up_block_types=["UpDecoderBlock2D"] * n,
        latent_channels=shapes[p + "encoder.conv_out.weight"][0] // 2,
        use_quant_conv=p + "quant_conv.weight" in shapes,
        use_post_quant_conv=p + "post_quant_conv.weight" in shapes,
        # Real VAEs use 32 groups; toy ones narrower than that, half their narrowest width.
        norm_num_groups=32 if all(c % 32 == 0 for c in channels) else max(1, min(channels) // 2))
    return cfg


def infer_clip(shapes: dict[str, tuple[int, ...]], ref: dict[str, Any], p: str) -> dict[str, Any]:
    """A CLIP text encoder stored in Hugging Face layout under ``p`` (SD 1.5, SDXL's first)."""
    if p + "text_model.embeddings.token_embedding.weight" in shapes:
        p += "text_model."
    vocab, hidden = shapes[p + "embeddings.token_embedding.weight"]
    cfg = dict(ref)
    cfg.update(vocab_size=vocab, hidden_size=hidden,
               max_position_embeddings=shapes[p + "embeddings.position_embedding.weight"][0],
               num_hidden_layers=_count(shapes, p + "encoder.layers."),
               intermediate_size=shapes[p + "encoder.layers.0.mlp.fc1.weight"][0],
               num_attention_heads=_heads(hidden, 64))
    return cfg


def infer_open_clip(shapes: dict[str, tuple[int, ...]], ref: dict[str, Any], p: str, *,
                    penultimate: bool) -> dict[str, Any]:
    """An OpenCLIP text encoder (SD 2.x, SDXL's second) stored in its own layout under ``p``."""
    vocab, hidden = shapes[p + "token_embedding.weight"]
    layers = _count(shapes, p + "transformer.resblocks.")
    cfg = dict(ref)
    cfg.update(vocab_size=vocab, hidden_size=hidden,
               max_position_embeddings=shapes[p + "positional_embedding"][0],
               # SD 2.x conditions on the penultimate layer; diffusers drops the last one.
               num_hidden_layers=layers - 1 if penultimate and layers > 1 else layers,
               intermediate_size=shapes[p + "transformer.resblocks.0.mlp.c_fc.weight"][0],
               num_attention_heads=_heads(hidden, 64))
    if p + "text_projection" in shapes:
        cfg["projection_dim"] = shapes[p + "text_projection"][1]
    return cfg


def _transformer_prefix(shapes: dict[str, tuple[int, ...]], probe: str) -> str:
    return UNET if UNET + probe in shapes else ""


def infer_sd3(shapes: dict[str, tuple[int, ...]], ref: dict[str, Any]) -> dict[str, Any]:
    p = _transformer_prefix(shapes, "x_embedder.proj.weight")
    hidden, cin, patch, _ = shapes[p + "x_embedder.proj.weight"]
    heads = _heads(hidden, ref["attention_head_dim"])
    layers = _count(shapes, p + "joint_blocks.")
    cfg = dict(ref)
    cfg.update(
        in_channels=cin, patch_size=patch, num_layers=layers, num_attention_heads=heads,
        attention_head_dim=hidden // heads,
        caption_projection_dim=shapes[p + "context_embedder.weight"][0],
        joint_attention_dim=shapes[p + "context_embedder.weight"][1],
        pooled_projection_dim=shapes[p + "y_embedder.mlp.0.weight"][1],
        pos_embed_max_size=math.isqrt(shapes[p + "pos_embed"][1]),
        out_channels=shapes[p + "final_layer.linear.weight"][0] // (patch * patch),
        # SD 3.5 Medium (MMDiT-X) adds a second self-attention to its first blocks.
        dual_attention_layers=[i for i in range(layers)
                               if f"{p}joint_blocks.{i}.x_block.attn2.qkv.weight" in shapes],
        qk_norm="rms_norm" if f"{p}joint_blocks.0.x_block.attn.ln_q.weight" in shapes else None)
    return cfg


def infer_flux(shapes: dict[str, tuple[int, ...]], ref: dict[str, Any]) -> dict[str, Any]:
    p = _transformer_prefix(shapes, "img_in.weight")
    hidden, cin = shapes[p + "img_in.weight"]
    head_dim = ref["attention_head_dim"]
    if hidden % head_dim:
        raise ModelError(f"This FLUX checkpoint is {hidden} wide, not a multiple of FLUX's "
                         f"{head_dim}-wide attention heads; it is not a FLUX.1 model.")
    cfg = dict(ref)
    cfg.update(in_channels=cin, num_attention_heads=hidden // head_dim,
               num_layers=_count(shapes, p + "double_blocks."),
               num_single_layers=_count(shapes, p + "single_blocks."),
               joint_attention_dim=shapes[p + "txt_in.weight"][1],
               pooled_projection_dim=shapes[p + "vector_in.in_layer.weight"][1],
               guidance_embeds=any(k.startswith(p + "guidance_in.") for k in shapes))
    return cfg


# -- assembling a config folder ------------------------------------------------------------

def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)  # the 1.5 MB vocabulary once on disk, wherever possible
    except OSError:
        shutil.copyfile(src, dst)


def write_clip_tokenizer(folder: Path, pad_token: str = "<|endoftext|>") -> None:
    """The shipped CLIP tokenizer as a Hugging Face tokenizer folder. SD 1.5 / CLIP-L pads
    with <|endoftext|>; the OpenCLIP encoders (SD 2.x, SDXL's second) pad with "!"."""
    src = configs_root() / "sd2" / "tokenizer" if pad_token == "!" \
        else configs_root() / "sd15" / "tokenizer"
    shutil.copytree(src, folder, dirs_exist_ok=True)
    for name in ("vocab.json", "merges.txt"):
        _link_or_copy(configs_root() / "clip" / name, folder / name)


def _check_vocab(cfg: dict[str, Any], what: str) -> None:
    if cfg["vocab_size"] != CLIP_VOCAB:
        raise ModelError(f"The checkpoint's {what} has a vocabulary of {cfg['vocab_size']} "
                         f"tokens, not CLIP's {CLIP_VOCAB}; the studio's CLIP tokenizer cannot "
                         "drive it. Add it with a diffusers folder that has its own tokenizer "
                         "(`--config DIR`).")


def _unet_family(shapes: dict[str, tuple[int, ...]], dest: Path, xl: bool) -> None:
    pooled = None
    if xl:
        te1 = infer_clip(shapes, _read(dest / "text_encoder" / "config.json"),
                         "conditioner.embedders.0.transformer.")
        te2 = infer_open_clip(shapes, _read(dest / "text_encoder_2" / "config.json"),
                              "conditioner.embedders.1.model.", penultimate=False)
        _check_vocab(te1, "first text encoder")
        _check_vocab(te2, "second text encoder")
        _write(dest / "text_encoder" / "config.json", te1)
        _write(dest / "text_encoder_2" / "config.json", te2)
        pooled = te2["projection_dim"]
    else:
        ref = _read(dest / "text_encoder" / "config.json")
        te = infer_open_clip(shapes, ref, "cond_stage_model.model.", penultimate=True) \
            if "cond_stage_model.model.token_embedding.weight" in shapes \
            else infer_clip(shapes, ref, "cond_stage_model.transformer.")
        _check_vocab(te, "text encoder")
        _write(dest / "text_encoder" / "config.json", te)
    _write(dest / "unet" / "config.json",
           infer_unet(shapes, _read(dest / "unet" / "config.json"), pooled))
    prefix = _vae_prefix(shapes)
    if prefix is None:
        raise ModelError("The checkpoint has no VAE (no 'first_stage_model.*' tensors); "
                         "only complete Stable Diffusion checkpoints load from one file.")
    _write(dest / "vae" / "config.json", infer_vae(shapes, _read(dest / "vae" / "config.json"),
                                                   prefix))
    for tok in dest.glob("tokenizer*"):
        pad = _read(tok / "special_tokens_map.json")["pad_token"]
        write_clip_tokenizer(tok, pad)


def assemble_config_dir(checkpoint: Path, family: Family, dest: Path,
                        text_encoders: Path | None = None) -> bool:
    """Write the diffusers config tree for ``checkpoint`` into ``dest`` (an empty folder).

    For SD 3.5 / FLUX.1, ``text_encoders`` is a registered diffusers folder of the family whose
    text encoders and tokenizers the pipeline takes. Returns whether the checkpoint holds its
    own VAE (SD 3.5 / FLUX.1 files often do not; the folder's is used then).
    """
    return assemble_from_shapes(read_shapes(checkpoint), family, dest, checkpoint.name,
                                text_encoders)


def assemble_from_shapes(shapes: dict[str, tuple[int, ...]], family: Family, dest: Path,
                         name: str, text_encoders: Path | None = None) -> bool:
    """:func:`assemble_config_dir` for a checkpoint's tensor shapes (``name``: its file name,
    which tells SD 2.x 512 from 768 and names it in errors)."""
    ref = configs_root() / config_name(family, name)
    shutil.copytree(ref, dest, dirs_exist_ok=True)
    info = FAMILIES[family]
    if family not in NEEDS_TEXT_ENCODERS:
        _unet_family(shapes, dest, info.xl)
        return True
    if text_encoders is None:
        repo = _TEXT_ENCODER_REPOS[family]
        raise ModelError(
            f"{name} is a {info.label} single-file checkpoint: it holds the "
            "transformer (and maybe the VAE) but the text encoders (CLIP and T5) and the T5 "
            f"tokenizer come from a {info.label} diffusers folder, and none is registered. "
            f"Download one (`studio models download {repo}`) or add a local one, then "
            "generate again.")
    infer = infer_sd3 if family in (Family.SD3, Family.SD3_TURBO) else infer_flux
    _write(dest / "transformer" / "config.json",
           infer(shapes, _read(dest / "transformer" / "config.json")))
    prefix = _vae_prefix(shapes)
    if prefix is not None:
        _write(dest / "vae" / "config.json",
               infer_vae(shapes, _read(dest / "vae" / "config.json"), prefix))
    # The components the folder lends are loaded with the folder's own classes.
    index = _read(dest / "model_index.json")
    theirs = _read(Path(text_encoders) / "model_index.json")
    for name in [k for k in index if k.startswith(("text_encoder", "tokenizer"))]:
        index[name] = theirs.get(name, index[name])
    _write(dest / "model_index.json", index)
    return prefix is not None


def borrowed_components(folder: Path, family: Family, own_vae: bool,
                        dtype: Any, diffusers_dtype_kwarg: str) -> dict[str, Any]:
    """Text encoders, tokenizers (and the VAE when the checkpoint has none) from ``folder``,
    loaded once and passed to ``from_single_file``."""
    import importlib

    index = _read(folder / "model_index.json")
    names = [k for k in index if k.startswith(("text_encoder", "tokenizer"))]
    if not own_vae:
        names.append("vae")
    out: dict[str, Any] = {}
    for name in names:
        lib, cls_name = index.get(name) or (None, None)
        if lib is None:
            continue
        cls = getattr(importlib.import_module(lib), cls_name)
        kwargs: dict[str, Any] = {"local_files_only": True}
        if not name.startswith("tokenizer"):
            kwargs[diffusers_dtype_kwarg if lib == "diffusers" else "dtype"] = dtype
        log.info("single file (%s): %s from %s", family, name, folder)
        out[name] = cls.from_pretrained(str(folder / name), **kwargs)
    return out
