"""Registry, requests, family detection and PNG output, without running the pipeline."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from studio.core.generation.errors import ModelError, RequestError
from studio.core.generation.families import Family, family_from_folder, family_from_keys
from studio.core.generation.output import a1111_parameters, generation_record, store_output
from studio.core.generation.registry import ModelKind, ModelRegistry
from studio.core.generation.request import GenerationRequest
from studio.core.library.models import AssetOrigin
from tests.generation.conftest import make_request


def test_family_detection_from_keys() -> None:
    unet = "model.diffusion_model.input_blocks.0.0.weight"
    assert family_from_keys([unet, "cond_stage_model.transformer.text_model.x"]) is Family.SD15
    assert family_from_keys([unet, "cond_stage_model.model.transformer.resblocks.0.x"]) \
        is Family.SD2
    xl = [unet, "conditioner.embedders.1.model.transformer.resblocks.0.x"]
    assert family_from_keys(xl) is Family.SDXL
    assert family_from_keys(xl, "sd_xl_turbo_1.0_fp16.safetensors") is Family.SDXL_TURBO
    assert family_from_keys([unet, "cond_stage_model.model.transformer.resblocks.0.x"],
                            "sd_turbo.safetensors") is Family.SD_TURBO
    with pytest.raises(ModelError, match="no Stable Diffusion UNet"):
        family_from_keys(["lora_unet_down.weight"])


def test_family_detection_from_folder(tiny_model: Path, tmp_path: Path) -> None:
    assert family_from_folder(tiny_model) is Family.SD15
    copy = tmp_path / "sdxl-turbo"
    copy.mkdir()
    (copy / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionXLPipeline"}))
    assert family_from_folder(copy) is Family.SDXL_TURBO
    (copy / "model_index.json").write_text(json.dumps({"_class_name": "KandinskyPipeline"}))
    with pytest.raises(ModelError, match="KandinskyPipeline"):
        family_from_folder(copy)
    sd2 = tmp_path / "sd2"
    (sd2 / "unet").mkdir(parents=True)
    (sd2 / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    (sd2 / "unet" / "config.json").write_text(json.dumps({"cross_attention_dim": 1024}))
    assert family_from_folder(sd2) is Family.SD2


def test_registry_add_list_remove_and_hash_cache(library, tiny_model, tiny_single_file) -> None:
    reg = ModelRegistry(library)
    hashed: list[int] = []
    folder = reg.add(tiny_model, progress=hashed.append)
    assert folder.kind is ModelKind.FOLDER and folder.family is Family.SD15
    assert len(folder.sha256) == 64 and sum(hashed) > 0
    single = reg.add(tiny_single_file)
    # SD 1.5 single files load from the configs the studio ships, not a registered folder's.
    assert single.kind is ModelKind.SINGLE_FILE and single.config_dir is None
    assert [e.id for e in reg.list()] == [folder.id, single.id]
    assert reg.get(folder.id[:6]) == folder and reg.get(str(tiny_single_file)) == single
    hashed.clear()
    assert reg.file_sha256(tiny_single_file, hashed.append) == single.sha256
    assert hashed == []  # cached by size and mtime: not read again
    assert reg.add(tiny_model) == folder  # same path: the existing entry
    assert reg.remove(single.id) and not reg.remove(single.id)
    assert [e.id for e in reg.list()] == [folder.id]


def test_broken_folder_and_truncated_file_give_clear_errors(library, tiny_model, tmp_path,
                                                             tiny_single_file) -> None:
    reg = ModelRegistry(library)
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    shutil.rmtree(broken / "vae")
    with pytest.raises(ModelError, match="no 'vae' folder"):
        reg.add(broken)
    with pytest.raises(ModelError, match="not a diffusers model folder"):
        reg.add(tmp_path)
    truncated = tmp_path / "cut.safetensors"
    data = tiny_single_file.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="truncated"):
        reg.add(truncated)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x05")
    with pytest.raises(ModelError, match="too short"):
        reg.add(garbage)
    with pytest.raises(ModelError, match=r"only \.safetensors"):
        (tmp_path / "x.ckpt").write_bytes(b"0" * 10)
        reg.add(tmp_path / "x.ckpt")
    assert reg.list() == []  # nothing half-registered


def test_request_json_roundtrip_and_validation() -> None:
    req = GenerationRequest(model_id="abc", model_sha256="f" * 64, prompt="château, ünïcode",
                            seed=7, batch_size=3, init_asset_id=4, init_sha256="a" * 64,
                            strength=0.5)
    again = GenerationRequest.from_json(req.to_json())
    assert again == req and again.is_img2img
    assert req.for_item(2).seed == 9 and req.for_item(2).batch_size == 1
    with pytest.raises(RequestError, match="prompt is empty"):
        GenerationRequest(model_id="a", model_sha256="b", prompt=" ").validate()
    with pytest.raises(RequestError, match="multiple of 8"):
        GenerationRequest(model_id="a", model_sha256="b", prompt="x", width=100).validate()
    with pytest.raises(RequestError, match="unknown scheduler"):
        GenerationRequest(model_id="a", model_sha256="b", prompt="x", scheduler="Foo").validate()
    with pytest.raises(RequestError, match="not valid JSON"):
        GenerationRequest.from_json("{nope")
    with pytest.raises(RequestError, match="wrong type"):
        GenerationRequest.from_json(json.dumps({**req.to_dict(), "steps": "many"}))
    with pytest.raises(RequestError, match="newer version"):
        GenerationRequest.from_json(json.dumps({**req.to_dict(), "format": 99}))


def test_store_output_writes_parameters_signs_last_and_records(library) -> None:
    req = GenerationRequest(model_id="m1", model_sha256="ab" * 32, model_name="Tiny",
                            prompt="red fox", negative_prompt="blurry", seed=10, batch_size=2)
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    seen: list[tuple[bytes, GenerationRequest, int]] = []

    def sign(data: bytes, item: GenerationRequest, seed: int) -> bytes:
        seen.append((data, item, seed))
        return data + b"SIGNED"  # stands in for provenance; the stored bytes must be these

    asset = store_output(library, image, req, 1, 11, sign=sign, timings={"run_s": 0.5})
    data, item, seed = seen[0]
    assert seed == 11 and item.seed == 11 and item.batch_size == 1
    stored = library.path_of(asset).read_bytes()
    assert stored == data + b"SIGNED"  # nothing touched the bytes after sign
    assert asset.origin is AssetOrigin.GENERATED and (asset.width, asset.height) == (64, 48)
    params = Image.open(io.BytesIO(data)).text["parameters"]
    assert params == a1111_parameters(item)
    assert params.startswith("red fox\nNegative prompt: blurry\nSteps: 25, Sampler: Euler a")
    assert "Seed: 11" in params and f"Model hash: {'ab' * 5}" in params
    record = generation_record(library, asset.id)
    assert record is not None and record["request"] == item and record["run_s"] == 0.5
    assert record["model_sha256"] == "ab" * 32
    assert [a.id for a in library.find_assets("fox")] == [asset.id]  # prompt search works


def test_make_request_helper_is_valid(library, tiny_model) -> None:
    entry = ModelRegistry(library).add(tiny_model)
    assert make_request(entry).validate().model_sha256 == entry.sha256
