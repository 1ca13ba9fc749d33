"""A1111 / ComfyUI ``parameters`` chunks mapped to requests (with what could not be mapped),
and the prompt history in the real library database."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image, PngImagePlugin

from studio.core.generation.a1111 import (
    parameters_from_png,
    parse_parameters,
    request_from_parameters,
)
from studio.core.generation.errors import RequestError
from studio.core.generation.families import Family
from studio.core.generation.history import PromptHistory
from studio.core.generation.output import a1111_parameters, png_bytes
from studio.core.generation.registry import ModelEntry, ModelKind
from studio.core.generation.request import GenerationRequest

SHA = "6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa"
ENTRY = ModelEntry("6ce0161689b3", "v1-5-pruned-emaonly", "/models/sd15.safetensors",
                   ModelKind.SINGLE_FILE, Family.SD15, SHA, 1, None, 0.0)
OTHER = ModelEntry("0123456789ab", "other", "/models/other", ModelKind.FOLDER, Family.SD15,
                   "0123456789ab" + "0" * 52, 1, None, 0.0)

A1111 = """masterpiece, a castle on a hill, (golden hour:1.2)
<lora:detail:0.6>
Negative prompt: blurry, lowres,
 watermark
Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 3141592653, \
Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.4, \
Clip skip: 2, Hires upscale: 2, Lora hashes: "detail: 1a2b3c4d5e6f, other: 9f8e7d", \
Version: v1.10.1"""


def test_a1111_chunk_maps_to_a_request_and_lists_the_rest() -> None:
    req, unmapped = request_from_parameters(A1111, [OTHER, ENTRY])
    assert req.model_id == ENTRY.id and req.model_sha256 == SHA
    assert req.prompt == "masterpiece, a castle on a hill, (golden hour:1.2)\n<lora:detail:0.6>"
    assert req.negative_prompt == "blurry, lowres,\n watermark"
    assert (req.steps, req.guidance, req.seed) == (28, 6.5, 3141592653)
    assert (req.width, req.height, req.scheduler) == (512, 768, "DPM++ 2M Karras")
    assert req.strength == 0.4 and req.init_asset_id is None and req.validate()
    assert "Clip skip: 2" in unmapped and "Hires upscale: 2" in unmapped
    # A quoted value keeps its commas and is one entry.
    assert 'Lora hashes: detail: 1a2b3c4d5e6f, other: 9f8e7d' in unmapped
    assert any(u.startswith("Denoising strength") for u in unmapped)
    assert not any(u.startswith(("Steps", "Seed", "Size", "Version", "Sampler")) for u in unmapped)


def test_unknown_model_and_sampler_are_reported_not_guessed() -> None:
    text = "a cat\nSteps: 20, Sampler: Heun, CFG scale: 7, Seed: 1, Size: 1001x600, " \
           "Model hash: deadbeef00, Model: mystery"
    base = GenerationRequest(model_id=OTHER.id, model_sha256=OTHER.sha256, prompt="old",
                             scheduler="Euler", width=512, height=512)
    req, unmapped = request_from_parameters(text, [ENTRY], base)
    assert req.model_id == OTHER.id  # kept the current model
    assert unmapped[0].startswith("Model: mystery (hash deadbeef00) is not registered")
    assert "Sampler: Heun" in unmapped and req.scheduler == "Euler"
    assert "Size: 1001x600" in unmapped and (req.width, req.height) == (512, 512)
    assert req.prompt == "a cat" and req.seed == 1
    with pytest.raises(RequestError, match="mystery"):
        request_from_parameters(text, [ENTRY])  # no current model to fall back to


def test_the_studios_own_png_round_trips() -> None:
    original = GenerationRequest(model_id=ENTRY.id, model_sha256=SHA, model_name=ENTRY.name,
                                 prompt="a lighthouse, at dusk", negative_prompt="fog",
                                 seed=42, steps=12, guidance=4.5, width=640, height=448,
                                 scheduler="DDIM")
    data = png_bytes(Image.new("RGB", (8, 8)), original)
    text = parameters_from_png(data)
    assert text == a1111_parameters(original)
    req, unmapped = request_from_parameters(text, [ENTRY])
    assert req == GenerationRequest.from_dict({**original.to_dict(), "family": "sd15"})
    assert unmapped == []


def test_pngs_without_parameters_and_garbage_are_refused() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, format="PNG")
    with pytest.raises(RequestError, match="no A1111 'parameters'"):
        parameters_from_png(buf.getvalue())
    with pytest.raises(RequestError, match="cannot be read"):
        parameters_from_png(b"not an image at all")
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "x" * 70000)
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, format="PNG", pnginfo=info)
    with pytest.raises(RequestError, match="too long"):
        parse_parameters(parameters_from_png(buf.getvalue()))
    # Nonsense values are reported, never crash or leak into the request.
    parsed = parse_parameters("p\nSteps: many, Seed: -4, CFG scale: 99, Size: big")
    assert parsed.fields == {"prompt": "p"}
    assert sorted(parsed.unmapped) == ["CFG scale: 99", "Seed: -4", "Size: big", "Steps: many"]


def test_prompt_history_is_searchable_per_model(paths) -> None:
    from studio.core.library import Library

    with Library.open(paths) as lib:
        history = PromptHistory(lib)
        history.record("a red boat", "", "m1")
        time.sleep(0.01)
        history.record("100% cotton_shirt", "blurry", "m1")
        time.sleep(0.01)
        history.record("a red boat", "", "m2")
        time.sleep(0.01)
        history.record("a red boat", "", "m1")  # used again: moves to the top, counted
        history.record("   ", "", "m1")  # blank prompts are not history
        m1 = history.search(model_id="m1")
        assert [(e.prompt, e.uses) for e in m1] == [("a red boat", 2),
                                                      ("100% cotton_shirt", 1)]
        assert [e.model_id for e in history.search("RED")] == ["m1", "m2"]
        # LIKE wildcards in the search text are literal.
        assert [e.prompt for e in history.search("0% c")] == ["100% cotton_shirt"]
        assert history.search("a_red") == [] and history.search("%") != []
        assert [e.prompt for e in history.search("blur")] == ["100% cotton_shirt"]
        assert history.remove(m1[1].id) and history.search("cotton") == []


# A ComfyUI API graph as ComfyUI's SaveImage writes it into the PNG's "prompt" chunk (the
# default text-to-image workflow, with a LoRA loader between checkpoint and sampler).
COMFY_GRAPH = {
    "3": {"class_type": "KSampler", "inputs": {
        "seed": 156680208700286, "steps": 20, "cfg": 8.0, "sampler_name": "euler_ancestral",
        "scheduler": "normal", "denoise": 1.0, "model": ["10", 0], "positive": ["6", 0],
        "negative": ["7", 0], "latent_image": ["5", 0]}},
    "4": {"class_type": "CheckpointLoaderSimple",
          "inputs": {"ckpt_name": "sd15/v1-5-pruned-emaonly.safetensors"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 768,
                                                       "batch_size": 1}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {
        "text": 'beautiful scenery, "glass bottle", purple galaxy', "clip": ["10", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "text, watermark",
                                                     "clip": ["10", 1]}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI",
                                                "images": ["8", 0]}},
    "10": {"class_type": "LoraLoader", "inputs": {
        "lora_name": "ink-style.safetensors", "strength_model": 0.8, "strength_clip": 0.8,
        "model": ["4", 0], "clip": ["4", 1]}},
}


def _comfy_png(graph: dict) -> bytes:
    import json

    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", json.dumps(graph))
    info.add_text("workflow", json.dumps({"nodes": [], "links": []}))  # the UI graph: unused
    buf = io.BytesIO()
    Image.new("RGB", (64, 96), (10, 20, 30)).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def test_a_comfyui_png_maps_its_graph_to_a_request_and_lists_the_rest() -> None:
    text = parameters_from_png(_comfy_png(COMFY_GRAPH))
    req, unmapped = request_from_parameters(text, [OTHER, ENTRY])
    assert req.model_sha256 == SHA  # the checkpoint behind the LoRA loader, found by name
    assert req.prompt == 'beautiful scenery, "glass bottle", purple galaxy'
    assert req.negative_prompt == "text, watermark"
    assert (req.steps, req.guidance, req.seed) == (20, 8.0, 156680208700286)
    assert (req.width, req.height, req.scheduler) == (512, 768, "Euler a")
    assert unmapped == ["ComfyUI LoRA: ink-style.safetensors (weight 0.8)"]


def test_a_comfyui_graph_with_nothing_to_restore_is_refused_clearly() -> None:
    no_sampler = {k: v for k, v in COMFY_GRAPH.items() if v["class_type"] != "KSampler"}
    for data in (_comfy_png(no_sampler), _comfy_png({"1": "not a node"})):
        with pytest.raises(RequestError, match="no A1111 'parameters' text"):
            parameters_from_png(data)
    unknown = {**COMFY_GRAPH, "3": {**COMFY_GRAPH["3"], "inputs": {
        **COMFY_GRAPH["3"]["inputs"], "sampler_name": "dpmpp_3m_sde", "scheduler": "karras"}}}
    _req, unmapped = request_from_parameters(parameters_from_png(_comfy_png(unknown)), [ENTRY])
    assert "Sampler: dpmpp_3m_sde (Karras)" in unmapped
