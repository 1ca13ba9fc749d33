"""Single-file checkpoints load from the configs and CLIP tokenizer the studio ships
(resources/model_configs): no registered folder, HF_HUB_OFFLINE=1 and an empty Hugging Face
cache. The checkpoints are the tiny real pipelines exported to the original (LDM) layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.core.generation.families import Family
from studio.core.provenance.reader import read_report
from studio.core.provenance.report import ProvenanceState
from tests.generation.conftest import make_request
from tests.models.conftest import studio


@pytest.fixture(scope="module")
def tiny_sdxl(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from studio.core.generation.demo import write_single_file
    from studio.core.generation.demo_families import build_tiny_pipeline

    root = tmp_path_factory.mktemp("tiny-sdxl")
    pipe = build_tiny_pipeline(root / "tiny-sdxl", Family.SDXL)
    return root / "tiny-sdxl", write_single_file(pipe, root / "tiny-sdxl.safetensors")


@pytest.fixture
def offline_empty_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "hf-home"
    home.mkdir()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    return home


def test_shipped_clip_tokenizer_gives_the_well_known_ids(tmp_path) -> None:
    from transformers import CLIPTokenizer

    from studio.core.generation.single_file import write_clip_tokenizer

    write_clip_tokenizer(tmp_path / "clip-l")
    write_clip_tokenizer(tmp_path / "open-clip", pad_token="!")
    clip_l = CLIPTokenizer.from_pretrained(str(tmp_path / "clip-l"))
    open_clip = CLIPTokenizer.from_pretrained(str(tmp_path / "open-clip"))
    for tok in (clip_l, open_clip):
        assert tok("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]
        assert len(tok) == 49408 and tok.model_max_length == 77
    assert clip_l.pad_token_id == 49407 and open_clip.pad_token_id == 0  # "!" pads SD 2 / bigG


def _pixels(path: str) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def test_sd15_and_sdxl_single_files_generate_offline_with_no_folder_and_an_empty_hub_cache(
        tiny_single_file, tiny_sdxl, offline_empty_hub, keyring_ok) -> None:
    # One `studio batch run` process (the local engine) renders one image from each file.
    out = studio("batch", "run", "--model", str(tiny_single_file), "--model", str(tiny_sdxl[1]),
                 "--prompt", "a lighthouse at dusk", "--seeds", "3", "--steps", "2",
                 "--size", "64x64", "--json")
    assert out.returncode == 0, out.stderr
    items = json.loads(out.stdout)["items"]
    assert [i["state"] for i in items] == ["done", "done"], [i["error"] for i in items]
    families = []
    for item in items:
        pixels = _pixels(item["path"])
        assert pixels.shape == (64, 64, 3) and pixels.std() > 0
        report = read_report(item["path"])  # signed, and the credentials name the model
        assert report.state == ProvenanceState.VALID, report.failures
        assert report.generation["model_sha256"] == item["model_sha256"]
        families.append(report.generation["request"]["family"])
    assert families == ["sd15", "sdxl"]
    # Nothing was fetched or cached: the configs came from the studio's own resources.
    assert [p for p in offline_empty_hub.rglob("*") if p.is_file()] == []


def test_sdxl_single_file_matches_its_folder_pixel_for_pixel(engine, library, tiny_sdxl) -> None:
    from studio.core.generation.engine import JobState

    folder, checkpoint = tiny_sdxl
    single = engine.registry.add(checkpoint)  # first, so no folder is registered yet
    assert single.family is Family.SDXL and single.config_dir is None
    a = engine.wait(engine.enqueue(make_request(single, steps=2)), 120)
    entry = engine.registry.add(folder)
    b = engine.wait(engine.enqueue(make_request(entry, steps=2)), 120)
    assert [j.state for j in (a, b)] == [JobState.DONE] * 2, (a.error, b.error)
    # The shapes-inferred architecture (two text encoders, text_time embedding, per-level
    # transformer depth) and the shipped scheduler/tokenizers reproduce the folder exactly.
    first, second = (np.asarray(Image.open(library.path_of(j.assets[0])).convert("RGB"))
                     for j in (a, b))
    assert first.std() > 0 and np.array_equal(first, second)


def test_inferred_configs_follow_the_checkpoint_and_keep_the_reference_conventions(
        tiny_sdxl, tmp_path) -> None:
    from studio.core.generation.single_file import assemble_config_dir

    folder, checkpoint = tiny_sdxl
    assert assemble_config_dir(checkpoint, Family.SDXL, tmp_path / "cfg")
    unet = json.loads((tmp_path / "cfg" / "unet" / "config.json").read_text())
    theirs = json.loads((folder / "unet" / "config.json").read_text())
    for key in ("block_out_channels", "layers_per_block", "down_block_types", "up_block_types",
                "cross_attention_dim", "transformer_layers_per_block", "attention_head_dim",
                "addition_time_embed_dim", "projection_class_embeddings_input_dim",
                "use_linear_projection"):
        assert unet[key] == theirs[key], key
    assert unet["addition_embed_type"] == "text_time"  # from the SDXL reference
    te2 = json.loads((tmp_path / "cfg" / "text_encoder_2" / "config.json").read_text())
    assert (te2["hidden_size"], te2["num_hidden_layers"], te2["hidden_act"]) == (64, 2, "gelu")
    assert (tmp_path / "cfg" / "tokenizer_2" / "vocab.json").is_file()


def test_full_size_reference_configs_have_the_real_models_sizes() -> None:
    from accelerate import init_empty_weights
    from diffusers import FluxTransformer2DModel, SD3Transformer2DModel, UNet2DConditionModel

    from studio.core.generation.single_file import configs_root

    def params(cls, name: str, sub: str) -> float:
        cfg = json.loads((configs_root() / name / sub / "config.json").read_text())
        with init_empty_weights():
            model = cls.from_config(cfg)
        return sum(p.numel() for p in model.parameters()) / 1e9

    # Published sizes: SD 1.5 UNet 0.86 B, SDXL UNet 2.57 B, SD 3.5 Large 8.1 B, FLUX.1 11.9 B.
    assert params(UNet2DConditionModel, "sd15", "unet") == pytest.approx(0.8595, abs=1e-3)
    assert params(UNet2DConditionModel, "sdxl", "unet") == pytest.approx(2.5675, abs=1e-3)
    assert params(SD3Transformer2DModel, "sd3", "transformer") == pytest.approx(8.06, abs=0.01)
    assert params(FluxTransformer2DModel, "flux-dev", "transformer") == pytest.approx(11.90,
                                                                                      abs=0.01)


def test_flux_single_file_without_a_flux_folder_names_what_is_needed(engine, tmp_path) -> None:
    import torch
    from safetensors.torch import save_file

    from studio.core.generation.errors import ModelError
    from studio.core.generation.pipeline import load_model

    # A FLUX.1-layout transformer file (BFL names), no text encoders, no VAE.
    path = tmp_path / "flux1-schnell-tiny.safetensors"
    save_file({"img_in.weight": torch.zeros(256, 64), "txt_in.weight": torch.zeros(256, 32),
               "vector_in.in_layer.weight": torch.zeros(256, 32),
               "double_blocks.0.img_attn.norm.key_norm.scale": torch.zeros(128),
               "single_blocks.0.linear1.weight": torch.zeros(8, 256)}, str(path))
    entry = engine.registry.add(path)
    assert entry.family is Family.FLUX_SCHNELL
    from studio.core.generation.devices import probe_device

    with pytest.raises(ModelError) as err:
        load_model(entry, probe_device("cpu"), engine.registry.list())
    assert "text encoders" in str(err.value)
    assert "studio models download black-forest-labs/FLUX.1-schnell" in str(err.value)


def test_sd3_single_file_takes_text_encoders_from_a_registered_sd3_folder(engine, library,
                                                                          tmp_path) -> None:
    from studio.core.generation.demo import write_single_file
    from studio.core.generation.demo_families import build_tiny_pipeline
    from studio.core.generation.engine import JobState

    folder = tmp_path / "tiny-sd3"
    # Transformer + VAE in Stability's MMDiT layout, as SAI's sd3.5 files hold them.
    checkpoint = write_single_file(build_tiny_pipeline(folder, Family.SD3),
                                   tmp_path / "tiny-sd3.safetensors")
    single = engine.registry.add(checkpoint)
    assert single.family is Family.SD3 and single.config_dir is None
    failed = engine.wait(engine.enqueue(make_request(single, steps=2)), 120)
    assert failed.state is JobState.FAILED
    assert "studio models download stabilityai/stable-diffusion-3.5-medium" in failed.error
    # Once a folder of the family is registered, the single file borrows its text encoders.
    entry = engine.registry.add(folder)
    a = engine.wait(engine.enqueue(make_request(single, steps=2, guidance=4.5)), 120)
    b = engine.wait(engine.enqueue(make_request(entry, steps=2, guidance=4.5)), 120)
    assert [j.state for j in (a, b)] == [JobState.DONE] * 2, (a.error, b.error)
    first, second = (np.asarray(Image.open(library.path_of(j.assets[0])).convert("RGB"))
                     for j in (a, b))
    assert first.std() > 0 and np.array_equal(first, second)


STRUCTURE = ("in_channels", "out_channels", "block_out_channels", "layers_per_block",
             "down_block_types", "up_block_types", "cross_attention_dim", "attention_head_dim",
             "use_linear_projection", "transformer_layers_per_block", "addition_time_embed_dim",
             "projection_class_embeddings_input_dim", "latent_channels", "norm_num_groups",
             "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
             "vocab_size", "max_position_embeddings", "projection_dim")


@pytest.mark.parametrize("name", ["sd15", "sd2", "sdxl"])
def test_full_size_checkpoint_shapes_give_back_the_reference_configs(name, tmp_path) -> None:
    """The real models' tensor shapes (their reference configs built on the meta device,
    written out in the original layout, as the real checkpoints are) infer exactly the
    reference architecture: SDXL's 2816-wide text_time input and 256-wide time ids, its
    [1, 2, 10] transformer depths and 64-wide heads, SD 2's penultimate-layer encoder."""
    from types import SimpleNamespace

    from accelerate import init_empty_weights
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    from studio.core.generation.ldm_export import open_clip_to_ldm, to_ldm_state_dict
    from studio.core.generation.single_file import assemble_from_shapes, configs_root

    ref = configs_root() / name

    def cfg(sub: str) -> dict:
        return json.loads((ref / sub / "config.json").read_text())

    def clip(sub: str, cls, extra_layers: int = 0):
        c = {k: v for k, v in cfg(sub).items() if k not in ("architectures", "model_type")}
        c["num_hidden_layers"] += extra_layers
        return cls(CLIPTextConfig(**c))

    with init_empty_weights():
        pipe = SimpleNamespace(unet=UNet2DConditionModel.from_config(cfg("unet")),
                               vae=AutoencoderKL.from_config(cfg("vae")),
                               text_encoder=clip("text_encoder", CLIPTextModel),
                               text_encoder_2=None)
        if name == "sdxl":
            pipe.text_encoder_2 = clip("text_encoder_2", CLIPTextModelWithProjection)
        state = to_ldm_state_dict(pipe)
        if name == "sd2":  # OpenCLIP-H in its own layout, all 24 layers (diffusers keeps 23)
            state = {k: v for k, v in state.items() if not k.startswith("cond_stage_model.")}
            state.update(open_clip_to_ldm(
                clip("text_encoder", CLIPTextModelWithProjection, 1).state_dict(),
                "cond_stage_model.model."))
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    family = {"sd15": Family.SD15, "sd2": Family.SD2, "sdxl": Family.SDXL}[name]
    assemble_from_shapes(shapes, family, tmp_path / "cfg", f"{name}.safetensors")
    subs = ["unet", "vae", "text_encoder"] + (["text_encoder_2"] if name == "sdxl" else [])
    for sub in subs:
        got = json.loads((tmp_path / "cfg" / sub / "config.json").read_text())
        want = cfg(sub)
        for key in STRUCTURE:
            if key in want and not (sub.startswith("text") and key == "projection_dim"
                                    and name == "sd2"):
                assert got[key] == want[key], (sub, key)
