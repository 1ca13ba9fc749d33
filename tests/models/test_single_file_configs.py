"""A single-file checkpoint with no diffusers folder registered: the family's small config
files come once from the (FAKE, tests/models/fake_hub.py) hub into huggingface_hub's cache, then
the checkpoint loads with the hub switched off (HF_HUB_OFFLINE=1)."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from tests.models.conftest import studio


def test_single_file_loads_with_cached_hub_configs_then_offline(hub, tiny_model,
                                                                tiny_single_file,
                                                                monkeypatch) -> None:
    # The reference repo diffusers names for SD 1.x checkpoints, holding configs only here.
    configs = hub.add_folder("stable-diffusion-v1-5/stable-diffusion-v1-5", tiny_model)
    for name in [n for n in configs.files if n.endswith(".safetensors")]:
        del configs.files[name]
    first = studio("generate", "--model", str(tiny_single_file), "--prompt", "a quay",
                   "--steps", "1", "--size", "64x64", "--seed", "2", "--json")
    assert first.returncode == 0, first.stderr
    fetched = {p.rsplit("/", 1)[-1] for m, p, _r in hub.requests if m == "GET"}
    assert "model_index.json" in fetched and "config.json" in fetched
    assert not any(p.endswith(".safetensors") for _m, p, _r in hub.requests)
    model_id = json.loads(first.stdout)["request"]["model_id"]
    hub.stop()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    again = studio("generate", "--model", model_id, "--prompt", "a quay", "--steps", "1",
                   "--size", "64x64", "--seed", "2", "--json")
    assert again.returncode == 0, again.stderr
    # Same request, same weights, same configs: the same pixels (signed files differ).
    p1, p2 = (json.loads(r.stdout)["outputs"][0]["path"] for r in (first, again))
    with Image.open(p1) as i1, Image.open(p2) as i2:
        assert np.array_equal(np.asarray(i1.convert("RGB")), np.asarray(i2.convert("RGB")))


def test_single_file_offline_without_cached_configs_is_a_clear_error(tiny_single_file,
                                                                     monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    out = studio("generate", "--model", str(tiny_single_file), "--prompt", "x", "--steps", "1",
                 "--size", "64x64")
    assert out.returncode == 1
    assert "HF_HUB_OFFLINE is set" in out.stderr and "Traceback" not in out.stderr
