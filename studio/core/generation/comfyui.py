"""Settings from a ComfyUI-made PNG: its ``prompt`` chunk (the API-format graph) turned into
A1111-style ``parameters`` text, so one mapping (a1111.py) restores both and lists what it
could not use. Only what a plain text-to-image graph says is taken: the sampler node, the two
text encoders it points at, the empty latent's size and the checkpoint behind any LoRA loaders;
everything else the graph holds is named as not mapped."""

from __future__ import annotations

import json
from typing import Any

MAX_NODES = 2000
_SAMPLERS = ("KSampler", "KSamplerAdvanced")
# ComfyUI sampler names -> the studio's (A1111) names; a Karras schedule is added separately.
_SAMPLER_NAMES = {"euler": "Euler", "euler_ancestral": "Euler a", "dpmpp_2m": "DPM++ 2M",
                  "ddim": "DDIM", "uni_pc": "UniPC", "uni_pc_bh2": "UniPC", "lcm": "LCM"}


def _quoted(value: Any) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _node(graph: dict[str, Any], link: Any) -> dict[str, Any] | None:
    """The node a ``[node_id, output]`` input points at, or None for a literal or a bad link."""
    if isinstance(link, list) and link and isinstance(graph.get(str(link[0])), dict):
        return graph[str(link[0])]
    return None


def _text(graph: dict[str, Any], link: Any) -> str | None:
    node = _node(graph, link)
    if node is None or "CLIPTextEncode" not in str(node.get("class_type", "")):
        return None
    inputs = node.get("inputs") or {}
    text = inputs.get("text", inputs.get("text_g"))
    return text if isinstance(text, str) else None


def parameters_from_graph(prompt_json: str) -> str | None:
    """A1111-style text for a ComfyUI API graph, or None when it holds no sampler node."""
    try:
        graph = json.loads(prompt_json)
    except (ValueError, RecursionError):
        return None
    if not isinstance(graph, dict) or len(graph) > MAX_NODES:
        return None
    samplers = [n for n in graph.values()
                if isinstance(n, dict) and n.get("class_type") in _SAMPLERS]
    if not samplers:
        return None
    inputs = samplers[0].get("inputs") or {}
    pairs: list[tuple[str, Any]] = []
    extra: list[tuple[str, Any]] = []
    if len(samplers) > 1:
        extra.append(("ComfyUI", f"{len(samplers)} sampler nodes; the first one was used"))
    seed = inputs.get("seed", inputs.get("noise_seed"))
    for key, value in (("Steps", inputs.get("steps")), ("CFG scale", inputs.get("cfg")),
                       ("Seed", seed)):
        if isinstance(value, int | float) and not isinstance(value, bool):
            pairs.append((key, value))
    name = inputs.get("sampler_name")
    if isinstance(name, str):
        pairs.append(("Sampler", _SAMPLER_NAMES.get(name, name)))
        schedule = inputs.get("scheduler")
        if isinstance(schedule, str) and schedule != "normal":
            pairs.append(("Schedule type", schedule.capitalize()))
    denoise = inputs.get("denoise")
    if isinstance(denoise, int | float) and denoise < 1.0:
        pairs.append(("Denoising strength", denoise))
    latent = _node(graph, inputs.get("latent_image"))
    if latent is not None:
        size = latent.get("inputs") or {}
        if latent.get("class_type") == "EmptyLatentImage":
            w, h = size.get("width"), size.get("height")
            if isinstance(w, int) and isinstance(h, int):
                pairs.append(("Size", f"{w}x{h}"))
        else:
            extra.append(("ComfyUI latent", latent.get("class_type", "?")))
    model = _node(graph, inputs.get("model"))
    for _ in range(64):  # follow LoRA loaders (and the like) down to the checkpoint
        if model is None:
            break
        model_inputs = model.get("inputs") or {}
        if "ckpt_name" in model_inputs:
            pairs.append(("Model", _model_name(str(model_inputs["ckpt_name"]))))
            break
        if "lora_name" in model_inputs:
            extra.append(("ComfyUI LoRA", f"{model_inputs['lora_name']} "
                                          f"(weight {model_inputs.get('strength_model', '?')})"))
        model = _node(graph, model_inputs.get("model"))
    prompt = _text(graph, inputs.get("positive")) or ""
    negative = _text(graph, inputs.get("negative"))
    if not pairs:
        return None  # nothing literal to restore: the graph's values all come from other nodes
    lines = [prompt]
    if negative:
        lines.append(f"Negative prompt: {negative}")
    # pairs first: the settings line must start like A1111's for the parser to take it.
    lines.append(", ".join(f"{k}: {_quoted(v)}" for k, v in pairs + extra))
    return "\n".join(lines)


def _model_name(ckpt_name: str) -> str:
    """``sd15/v1-5-pruned-emaonly.safetensors`` -> ``v1-5-pruned-emaonly`` (a registered name)."""
    base = ckpt_name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = base.rpartition(".")
    return stem if dot and ext.lower() in ("safetensors", "ckpt", "pt", "pth", "bin") else base
