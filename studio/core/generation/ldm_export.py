"""Diffusers-layout SD 1.x, SDXL and SD 3.x weights to the original single-file layouts.

Adapted from diffusers' ``scripts/convert_diffusers_to_original_stable_diffusion.py``
(Apache-2.0), generalised from its hard-coded 4 blocks to any block count, and updated for the
current attention naming (``to_q``/``to_out.0`` in the VAE). diffusers ships the reverse
direction (``from_single_file``), which is what reads these files back.
"""

from __future__ import annotations

from typing import Any

_UNET_TOP = [
    ("time_embed.0.", "time_embedding.linear_1."),
    ("time_embed.2.", "time_embedding.linear_2."),
    ("input_blocks.0.0.", "conv_in."),
    ("out.0.", "conv_norm_out."),
    ("out.2.", "conv_out."),
    ("label_emb.0.0.", "add_embedding.linear_1."),  # SDXL's size/crop + pooled-text embedding
    ("label_emb.0.2.", "add_embedding.linear_2."),
]
_UNET_RESNET = [
    ("in_layers.0", "norm1"), ("in_layers.2", "conv1"), ("out_layers.0", "norm2"),
    ("out_layers.3", "conv2"), ("emb_layers.1", "time_emb_proj"),
    ("skip_connection", "conv_shortcut"),
]
_VAE_ATTN = [("norm.", "group_norm."), ("q.", "to_q."), ("k.", "to_k."), ("v.", "to_v."),
             ("proj_out.", "to_out.0.")]


def _unet_prefixes(config: Any) -> list[tuple[str, str]]:
    n = len(config.block_out_channels)
    per = config.layers_per_block
    down_attn = ["CrossAttn" in t for t in config.down_block_types]
    up_attn = ["CrossAttn" in t for t in config.up_block_types]
    out: list[tuple[str, str]] = []
    for i in range(n):
        for j in range(per):
            out.append((f"input_blocks.{(per + 1) * i + j + 1}.0.",
                        f"down_blocks.{i}.resnets.{j}."))
            if down_attn[i]:
                out.append((f"input_blocks.{(per + 1) * i + j + 1}.1.",
                            f"down_blocks.{i}.attentions.{j}."))
        if i < n - 1:
            out.append((f"input_blocks.{(per + 1) * (i + 1)}.0.op.",
                        f"down_blocks.{i}.downsamplers.0.conv."))
        for j in range(per + 1):
            out.append((f"output_blocks.{(per + 1) * i + j}.0.", f"up_blocks.{i}.resnets.{j}."))
            if up_attn[i]:
                out.append((f"output_blocks.{(per + 1) * i + j}.1.",
                            f"up_blocks.{i}.attentions.{j}."))
        if i < n - 1:
            out.append((f"output_blocks.{(per + 1) * i + per}.{2 if up_attn[i] else 1}.",
                        f"up_blocks.{i}.upsamplers.0."))
    out.append(("middle_block.1.", "mid_block.attentions.0."))
    out += [(f"middle_block.{2 * j}.", f"mid_block.resnets.{j}.") for j in range(2)]
    return out


def _rename(key: str, pairs: list[tuple[str, str]]) -> str:
    for ldm, hf in pairs:
        if key.startswith(hf):
            return ldm + key[len(hf):]
    return key


def unet_to_ldm(state: dict, config: Any) -> dict:
    prefixes = _unet_prefixes(config)
    out = {}
    for key, value in state.items():
        new = _rename(key, _UNET_TOP)
        if "resnets" in key:
            for ldm, hf in _UNET_RESNET:
                new = new.replace(hf, ldm)
        out["model.diffusion_model." + _rename(new, prefixes)] = value
    return out


def vae_to_ldm(state: dict, config: Any) -> dict:
    n = len(config.block_out_channels)
    per = config.layers_per_block
    pairs = [("nin_shortcut", "conv_shortcut"), ("norm_out", "conv_norm_out"),
             ("mid.attn_1.", "mid_block.attentions.0.")]
    for i in range(n):
        pairs += [(f"encoder.down.{i}.block.{j}.", f"encoder.down_blocks.{i}.resnets.{j}.")
                  for j in range(per)]
        pairs += [(f"decoder.up.{n - 1 - i}.block.{j}.", f"decoder.up_blocks.{i}.resnets.{j}.")
                  for j in range(per + 1)]
        if i < n - 1:
            pairs.append((f"down.{i}.downsample.", f"down_blocks.{i}.downsamplers.0."))
            pairs.append((f"up.{n - 1 - i}.upsample.", f"up_blocks.{i}.upsamplers.0."))
    pairs += [(f"mid.block_{i + 1}.", f"mid_block.resnets.{i}.") for i in range(2)]
    out = {}
    for key, value in state.items():
        new = key
        for ldm, hf in pairs:
            new = new.replace(hf, ldm)
        if "mid.attn_1." in new:
            head, _, tail = new.partition("mid.attn_1.")
            tail = _rename(tail, _VAE_ATTN)
            new = head + "mid.attn_1." + tail
            if tail.split(".")[0] in {"q", "k", "v", "proj_out"} and tail.endswith("weight"):
                value = value.reshape(*value.shape, 1, 1)  # LDM uses 1x1 convs here
        out["first_stage_model." + new] = value
    return out


def text_encoder_to_ldm(state: dict, prefix: str = "cond_stage_model.transformer.") -> dict:
    # Transformers >= 5.6 drops the ``text_model.`` level from CLIPTextModel's keys.
    return {prefix + (k if k.startswith("text_model.") else "text_model." + k): v
            for k, v in state.items() if not k.endswith("position_ids")}


_OPEN_CLIP_LAYER = [("layer_norm1.", "ln_1."), ("layer_norm2.", "ln_2."),
                    ("mlp.fc1.", "mlp.c_fc."), ("mlp.fc2.", "mlp.c_proj."),
                    ("self_attn.out_proj.", "attn.out_proj.")]


def open_clip_to_ldm(state: dict, prefix: str) -> dict:
    """A CLIPTextModelWithProjection in OpenCLIP's layout (SDXL's second encoder): packed
    q/k/v ``in_proj``, ``resblocks``, and ``text_projection`` stored transposed."""
    state = {k.removeprefix("text_model."): v for k, v in state.items()}
    out = {prefix + "token_embedding.weight": state["embeddings.token_embedding.weight"],
           prefix + "positional_embedding": state["embeddings.position_embedding.weight"],
           prefix + "ln_final.weight": state["final_layer_norm.weight"],
           prefix + "ln_final.bias": state["final_layer_norm.bias"],
           prefix + "text_projection": state["text_projection.weight"].T}
    import torch

    n = 1 + max(int(k.split(".")[2]) for k in state if k.startswith("encoder.layers."))
    for i in range(n):
        src, dst = f"encoder.layers.{i}.", f"{prefix}transformer.resblocks.{i}."
        for kind in ("weight", "bias"):
            out[f"{dst}attn.in_proj_{kind}"] = torch.cat(
                [state[f"{src}self_attn.{q}_proj.{kind}"] for q in ("q", "k", "v")])
            for hf, ldm in _OPEN_CLIP_LAYER:
                out[f"{dst}{ldm}{kind}"] = state[f"{src}{hf}{kind}"]
    return out


def to_ldm_state_dict(pipe: Any) -> dict:
    """One original-layout state dict, as the original repos and Civitai checkpoints store
    them: an SD 1.x or SDXL pipeline's UNet, VAE and text encoder(s); an SD 3.x pipeline's
    transformer and VAE (its text encoders stay in the diffusers folder, as in SAI's files)."""
    if getattr(pipe, "transformer", None) is not None:
        return {**sd3_transformer_to_original(pipe.transformer.state_dict(),
                                              pipe.transformer.config),
                **vae_to_ldm(pipe.vae.state_dict(), pipe.vae.config)}
    out = {**unet_to_ldm(pipe.unet.state_dict(), pipe.unet.config),
           **vae_to_ldm(pipe.vae.state_dict(), pipe.vae.config)}
    if getattr(pipe, "text_encoder_2", None) is not None:
        out.update(text_encoder_to_ldm(pipe.text_encoder.state_dict(),
                                       "conditioner.embedders.0.transformer."))
        out.update(open_clip_to_ldm(pipe.text_encoder_2.state_dict(),
                                    "conditioner.embedders.1.model."))
    else:
        out.update(text_encoder_to_ldm(pipe.text_encoder.state_dict()))
    return out


def _sd3_block(state: dict, i: int, last: bool) -> dict:
    import torch

    src, dst = f"transformer_blocks.{i}.", f"joint_blocks.{i}."
    out = {}

    def qkv(names: tuple[str, str, str], kind: str) -> Any:
        return torch.cat([state[f"{src}{n}.{kind}"] for n in names])

    for kind in ("weight", "bias"):
        out[f"{dst}x_block.attn.qkv.{kind}"] = qkv(("attn.to_q", "attn.to_k", "attn.to_v"), kind)
        out[f"{dst}context_block.attn.qkv.{kind}"] = qkv(
            ("attn.add_q_proj", "attn.add_k_proj", "attn.add_v_proj"), kind)
        pairs = [("attn.to_out.0", "x_block.attn.proj"),
                 ("norm1.linear", "x_block.adaLN_modulation.1"),
                 ("ff.net.0.proj", "x_block.mlp.fc1"), ("ff.net.2", "x_block.mlp.fc2")]
        if not last:  # the last block's context stream only feeds the image stream
            pairs += [("attn.to_add_out", "context_block.attn.proj"),
                      ("norm1_context.linear", "context_block.adaLN_modulation.1"),
                      ("ff_context.net.0.proj", "context_block.mlp.fc1"),
                      ("ff_context.net.2", "context_block.mlp.fc2")]
        else:
            out[f"{dst}context_block.adaLN_modulation.1.{kind}"] = _swap_halves(
                state[f"{src}norm1_context.linear.{kind}"])
        if f"{src}attn2.to_q.{kind}" in state:  # SD 3.5 Medium's dual attention
            out[f"{dst}x_block.attn2.qkv.{kind}"] = qkv(
                ("attn2.to_q", "attn2.to_k", "attn2.to_v"), kind)
            pairs.append(("attn2.to_out.0", "x_block.attn2.proj"))
        out.update({f"{dst}{ldm}.{kind}": state[f"{src}{hf}.{kind}"] for hf, ldm in pairs})
    norms = [("attn.norm_q", "x_block.attn.ln_q"), ("attn.norm_k", "x_block.attn.ln_k"),
             ("attn.norm_added_q", "context_block.attn.ln_q"),
             ("attn.norm_added_k", "context_block.attn.ln_k"),
             ("attn2.norm_q", "x_block.attn2.ln_q"), ("attn2.norm_k", "x_block.attn2.ln_k")]
    out.update({f"{dst}{ldm}.weight": state[f"{src}{hf}.weight"] for hf, ldm in norms
                if f"{src}{hf}.weight" in state})
    return out


def _swap_halves(w: Any) -> Any:
    # diffusers' AdaLayerNormContinuous is (scale, shift); SD3's original is (shift, scale).
    import torch

    a, b = w.chunk(2, dim=0)
    return torch.cat([b, a])


def sd3_transformer_to_original(state: dict, config: Any) -> dict:
    """An SD3Transformer2DModel in Stability's MMDiT layout (the inverse of diffusers'
    ``convert_sd3_transformer_checkpoint_to_diffusers``)."""
    pairs = {"x_embedder.proj": "pos_embed.proj",
             "t_embedder.mlp.0": "time_text_embed.timestep_embedder.linear_1",
             "t_embedder.mlp.2": "time_text_embed.timestep_embedder.linear_2",
             "y_embedder.mlp.0": "time_text_embed.text_embedder.linear_1",
             "y_embedder.mlp.2": "time_text_embed.text_embedder.linear_2",
             "context_embedder": "context_embedder", "final_layer.linear": "proj_out"}
    out = {"pos_embed": state["pos_embed.pos_embed"]}
    for ldm, hf in pairs.items():
        for kind in ("weight", "bias"):
            if f"{hf}.{kind}" in state:
                out[f"{ldm}.{kind}"] = state[f"{hf}.{kind}"]
    for kind in ("weight", "bias"):
        out[f"final_layer.adaLN_modulation.1.{kind}"] = _swap_halves(
            state[f"norm_out.linear.{kind}"])
    for i in range(config.num_layers):
        out.update(_sd3_block(state, i, i == config.num_layers - 1))
    return {"model.diffusion_model." + k: v for k, v in out.items()}
