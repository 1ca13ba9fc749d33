"""LoRAs made in the test with peft on the tiny real SD 1.5 pipeline (non-zero weights),
applied through the engine and recorded in the A1111 parameters and the C2PA manifest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from studio.cli import main
from studio.core.generation.engine import JobState
from studio.core.generation.errors import ModelError
from studio.core.generation.families import Family
from studio.core.generation.lora import LoraRegistry, lora_family
from studio.core.generation.request import GenerationRequest
from studio.core.provenance.reader import read_report
from studio.core.provenance.report import ProvenanceState
from tests.generation.conftest import make_request


def _make_lora(model_dir: Path, out: Path, seed: int, metadata: dict | None = None) -> Path:
    from diffusers import StableDiffusionPipeline
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import load_file, save_file

    pipe = StableDiffusionPipeline.from_pretrained(str(model_dir), local_files_only=True)
    torch.manual_seed(seed)
    # init_lora_weights=False: random A and B, so the LoRA changes the output from the start.
    pipe.unet.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights=False,
                                     target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    layers = get_peft_model_state_dict(pipe.unet)
    out.parent.mkdir(parents=True, exist_ok=True)
    StableDiffusionPipeline.save_lora_weights(str(out.parent), unet_lora_layers=layers,
                                              weight_name=out.name)
    if metadata:
        save_file(load_file(str(out)), str(out), metadata=metadata)
    return out


@pytest.fixture(scope="module")
def loras(tiny_model: Path, tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("loras")
    style = _make_lora(tiny_model, root / "ink-style.safetensors", 1, {
        "ss_output_name": "ink style", "modelspec.trigger_phrase": "inkdrawing",
        "ss_tag_frequency": json.dumps({"1_ink": {"sketch": 12, "monochrome": 30}})})
    return style, _make_lora(tiny_model, root / "second.safetensors", 2)


def _pixels(library, asset) -> np.ndarray:
    with Image.open(library.path_of(asset)) as img:
        return np.asarray(img.convert("RGB")).astype(np.int16)


def _run(engine, req) -> np.ndarray:
    job = engine.wait(engine.enqueue(req), 120)
    assert job.state is JobState.DONE, job.error
    return _pixels(engine.library, job.assets[0])


def test_lora_weights_change_the_output_and_reset_between_jobs(engine, tiny_model,
                                                               loras) -> None:
    entry = engine.registry.add(tiny_model)
    style = engine.loras.add(loras[0])
    second = engine.loras.add(loras[1])
    assert style.family == "sd15" and style.name == "ink style"
    assert style.trigger_words[:3] == ("inkdrawing", "monochrome", "sketch")
    base = _run(engine, make_request(entry))
    with_lora = _run(engine, make_request(entry, loras=(style.ref(1.0),)))
    assert np.abs(with_lora - base).max() > 0  # the LoRA changes the image
    assert np.array_equal(_run(engine, make_request(entry, loras=(style.ref(0.0),))), base)
    both = _run(engine, make_request(entry, loras=(style.ref(1.0), second.ref(0.7))))
    assert not np.array_equal(both, with_lora)
    # The next job without LoRAs runs the base weights again (adapters do not leak).
    assert np.array_equal(_run(engine, make_request(entry)), base)
    assert np.array_equal(_run(engine, make_request(entry, loras=(style.ref(1.0),))),
                          with_lora)


def test_family_mismatch_and_non_lora_files_are_clear_errors(engine, tiny_model, tiny_single_file,
                                                             tmp_path) -> None:
    from safetensors.torch import save_file

    flux_lora = tmp_path / "flux-lora.safetensors"
    save_file({"transformer.single_transformer_blocks.0.attn.to_q.lora_A.weight":
               torch.ones(4, 16),
               "transformer.single_transformer_blocks.0.attn.to_q.lora_B.weight":
               torch.ones(16, 4)}, str(flux_lora))
    entry = engine.registry.add(tiny_model)
    flux = engine.loras.add(flux_lora)
    assert flux.family == "flux"
    job = engine.wait(engine.enqueue(make_request(entry, loras=(flux.ref(),))), 60)
    assert job.state is JobState.FAILED
    assert "made for FLUX.1" in job.error and "SD 1.5" in job.error
    with pytest.raises(ModelError, match="no LoRA weights"):
        engine.loras.add(tiny_single_file)  # a checkpoint is not a LoRA
    assert lora_family({"lora_unet_input_blocks_4_1_proj_in.lora_down.weight": [4, 320]}) \
        == "sdxl"
    assert lora_family({"unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k"
                        ".lora_A.weight": [4, 1024]}) == "sd2"


def test_changed_lora_file_is_refused(engine, tiny_model, loras, tmp_path) -> None:
    import shutil

    copy = tmp_path / "copy.safetensors"
    shutil.copyfile(loras[1], copy)
    entry = engine.registry.add(tiny_model)
    lora = LoraRegistry(engine.library).add(copy)
    ref = lora.ref()
    stale = GenerationRequest.from_dict({**make_request(entry).to_dict(),
                                         "loras": [{**ref.__dict__, "sha256": "0" * 64}]})
    job = engine.wait(engine.enqueue(stale), 60)
    assert job.state is JobState.FAILED and "has changed" in job.error


def test_cli_lora_is_in_parameters_and_manifest(tiny_model, loras, capsys, keyring_ok) -> None:
    rc = main(["generate", "--model", str(tiny_model), "--prompt", "a harbour", "--seed", "4",
               "--steps", "2", "--size", "64x64", "--lora", f"{loras[0]}:0.8",
               "--lora", str(loras[1]), "--json"])
    assert rc == 0, capsys.readouterr().err
    captured = capsys.readouterr()
    assert "trigger words: inkdrawing" in captured.err
    result = json.loads(captured.out)
    refs = result["request"]["loras"]
    assert [(r["name"], r["weight"]) for r in refs] == [("ink style", 0.8), ("second", 1.0)]
    path = result["outputs"][0]["path"]
    with Image.open(path) as img:
        params = img.text["parameters"]
    assert f"Model hash: {result['request']['model_sha256'][:10]}" in params
    assert f'Lora hashes: "ink style: {refs[0]["autov3"][:12]}, second: ' in params
    report = read_report(path)
    assert report.state == ProvenanceState.VALID, report.failures
    inputs = {i.sha256: i for i in report.ingredients if i.relationship == "inputTo"}
    assert set(inputs) == {result["request"]["model_sha256"], refs[0]["sha256"],
                           refs[1]["sha256"]}
    assert inputs[refs[0]["sha256"]].title == "ink style"
    # A registered id works too, and `models list` shows the LoRA with its trigger words.
    assert main(["models", "list", "--family", "sd15"]) == 0
    listing = capsys.readouterr().out
    assert refs[0]["id"] in listing and "trigger: inkdrawing" in listing


def test_format_1_requests_still_load() -> None:
    old = {"model_id": "abc", "model_sha256": "f" * 64, "prompt": "a cat", "format": 1,
           "seed": 3, "steps": 20, "guidance": 7, "width": 512, "height": 512,
           "scheduler": "Euler a", "batch_size": 1, "strength": 0.75}
    req = GenerationRequest.from_dict(old)
    assert req.loras == () and req.model_source == "" and req.guidance == 7.0
    assert GenerationRequest.from_json(req.to_json()) == req
    with pytest.raises(Exception, match="LoRA"):
        GenerationRequest.from_dict({**old, "loras": ["not an object"]})
    assert Family.SD15.value == "sd15"
