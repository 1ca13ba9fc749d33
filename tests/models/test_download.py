"""`studio models download` against a FAKE Hugging Face hub (tests/models/fake_hub.py, through
HF_ENDPOINT): the real huggingface_hub client, the real cache, real files, the real keyring."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.models.conftest import start_studio, studio
from tests.models.fake_hub import FakeRepo

README = b"---\nlicense: creativeml-openrail-m\n---\n# Stable Diffusion v1-5 (tiny fake)\n"


def _sd15_like_repo(hub, tiny_model: Path, tiny_single_file: Path) -> FakeRepo:
    """The real stable-diffusion-v1-5 repo's layout: a diffusers folder plus root single-file
    checkpoints, .bin duplicates and fp16 variants that a folder download must skip."""
    repo = hub.add_folder("fake-org/stable-diffusion-v1-5", tiny_model,
                          licence="creativeml-openrail-m")
    unet = repo.files["unet/diffusion_pytorch_model.safetensors"]
    repo.files.update({
        "README.md": README,
        "v1-5-pruned-emaonly.safetensors": tiny_single_file.read_bytes(),
        "v1-5-pruned.ckpt": b"pickle" * 300,
        "unet/diffusion_pytorch_model.bin": b"pickle" * 300,
        "unet/diffusion_pytorch_model.fp16.safetensors": unet,
        ".gitattributes": b"*.safetensors filter=lfs\n",
    })
    return repo


def _fetched(hub) -> set[str]:
    return {p.split("/resolve/", 1)[1].split("/", 1)[1] for m, p, _r in hub.requests
            if m == "GET" and "/resolve/" in p}


def test_diffusers_repo_downloads_the_folder_only_and_registers(hub, tiny_model,
                                                                tiny_single_file) -> None:
    repo = _sd15_like_repo(hub, tiny_model, tiny_single_file)
    refused = studio("models", "download", repo.repo_id)  # no terminal, no --yes
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert not _fetched(hub)  # the plan was shown; nothing was written
    assert "creativeml-openrail-m" in refused.stderr and "unet/" in refused.stderr
    done = studio("models", "download", repo.repo_id, "--yes", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["kind"] == "model" and out["family"] == "sd15"
    assert out["source"] == f"{repo.repo_id}@{repo.commit}"
    fetched = _fetched(hub)
    assert "unet/diffusion_pytorch_model.safetensors" in fetched
    assert not fetched & {"v1-5-pruned-emaonly.safetensors", "v1-5-pruned.ckpt",
                          "unet/diffusion_pytorch_model.bin",
                          "unet/diffusion_pytorch_model.fp16.safetensors"}
    assert "ETA" in done.stderr or out["path"]
    listing = studio("models", "list", "--json")
    [model] = json.loads(listing.stdout)
    assert model["source"] == out["source"] and Path(model["path"]).is_dir()
    # Offline (no hub at all) the registered folder still loads: it is all local.
    hub.stop()
    ran = studio("generate", "--model", out["id"], "--prompt", "x", "--steps", "1",
                 "--size", "64x64", "--json")
    assert ran.returncode == 0, ran.stderr


def test_single_file_with_its_published_sha256(hub, tiny_model, tiny_single_file) -> None:
    repo = _sd15_like_repo(hub, tiny_model, tiny_single_file)
    done = studio("models", "download", repo.repo_id, "--file",
                  "v1-5-pruned-emaonly.safetensors", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    published = repo.sibling("v1-5-pruned-emaonly.safetensors")["lfs"]["sha256"]
    assert out["sha256"] == published and out["path"].endswith("v1-5-pruned-emaonly.safetensors")
    assert out["source"].endswith(":v1-5-pruned-emaonly.safetensors")
    assert _fetched(hub) == {"v1-5-pruned-emaonly.safetensors"}
    bad = studio("models", "download", repo.repo_id, "--file", "v1-5-pruned.ckpt", "--yes")
    assert bad.returncode == 1 and ".ckpt" in bad.stderr


def _padded_checkpoint(tiny_single_file: Path, out: Path) -> bytes:
    """The tiny checkpoint plus 24 MB of extra tensor data: huggingface_hub writes in 10 MiB
    chunks, so a kill at half the file leaves a partial file on disk (as with a real 4 GB one)."""
    import torch
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(tiny_single_file))
    tensors["padding_for_the_resume_test"] = torch.arange(6 * 1024 * 1024, dtype=torch.float32)
    save_file(tensors, str(out))
    return out.read_bytes()


def test_resume_after_the_process_is_killed_mid_download(hub, tiny_model, tiny_single_file,
                                                         tmp_path) -> None:
    name = "v1-5-pruned-emaonly.safetensors"
    repo = hub.add(FakeRepo("fake-org/big-checkpoint", {
        name: _padded_checkpoint(tiny_single_file, tmp_path / "big.safetensors")}))
    size = len(repo.files[name])
    hub.stall_after = size // 2  # the server stops halfway through the file
    proc = start_studio("models", "download", repo.repo_id, "--file", name, "--yes")
    try:
        assert hub.stalled.wait(60), proc.stderr.read() if proc.poll() is not None else ""
        # The named point: halfway through the checkpoint, its first 10 MiB on disk.
        deadline = time.monotonic() + 30
        while _partial_bytes() < 10 * 1024 * 1024 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    hub.stall_after = None
    hub.requests.clear()
    done = studio("models", "download", repo.repo_id, "--file", name, "--yes", "--json")
    assert done.returncode == 0, done.stderr
    ranges = [r for m, p, r in hub.requests if m == "GET" and p.endswith(name)]
    assert ranges and ranges[0].startswith("bytes=")
    resumed_from = int(ranges[0][6:].split("-")[0])
    assert 10 * 1024 * 1024 <= resumed_from <= size // 2  # no restart from zero
    assert json.loads(done.stdout)["sha256"] == repo.sibling(name)["lfs"]["sha256"]


def test_cancel_keeps_the_partial_file_and_the_next_run_resumes(hub, tiny_single_file,
                                                                paths, tmp_path) -> None:
    from studio.core.library import Library
    from studio.core.models.download import Cancelled, plan_hub
    from studio.core.models.manager import download_and_register

    name = "v1-5-pruned-emaonly.safetensors"
    repo = hub.add(FakeRepo("fake-org/big-checkpoint", {
        name: _padded_checkpoint(tiny_single_file, tmp_path / "big.safetensors")}))
    cancel = threading.Event()
    seen: list = []

    def progress(p) -> None:
        seen.append(p)
        cancel.set()  # the user presses Cancel once the first 10 MiB have arrived

    plan = plan_hub(repo.repo_id, file=name)
    assert plan.total_bytes == len(repo.files[name]) and plan.enough_space
    with Library.open(paths) as lib:
        with pytest.raises(Cancelled, match="resume"):
            download_and_register(lib, plan, progress=progress, cancel=cancel)
        assert seen[-1].speed > 0 and seen[-1].eta_s is not None
        assert plan_hub(repo.repo_id, file=name).present_bytes > 0  # the partial file stays
        hub.requests.clear()
        entry = download_and_register(lib, plan_hub(repo.repo_id, file=name))
        assert entry.sha256 == repo.sibling(name)["lfs"]["sha256"]
    [rng] = [r for m, p, r in hub.requests if m == "GET" and p.endswith(name)]
    assert rng.startswith("bytes=") and int(rng[6:].split("-")[0]) > 0


def test_gated_repo_says_which_licence_and_where_then_works_with_a_keyring_token(
        hub, tiny_single_file, keyring_ok, monkeypatch) -> None:
    monkeypatch.setenv("STUDIO_KEYRING_SERVICE", "provenance-studio-test-hf")
    repo = hub.add(FakeRepo("fake-org/gated-model", {
        "model.safetensors": tiny_single_file.read_bytes()}, licence="other",
        gated=True, token="hf_secret_fake_token"))
    studio("models", "token", "--delete")
    denied = studio("models", "download", repo.repo_id, "--yes")
    assert denied.returncode == 1
    assert "gated" in denied.stderr and f"{hub.url}/{repo.repo_id}" in denied.stderr
    assert "accept its licence" in denied.stderr and "Traceback" not in denied.stderr
    stored = studio("models", "token", stdin="hf_secret_fake_token\n")
    assert stored.returncode == 0 and "hf_secret" not in stored.stdout + stored.stderr
    done = studio("models", "download", repo.repo_id, "--yes", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["kind"] == "model"
    studio("models", "token", "--delete")


def test_corrupted_file_is_refused_deleted_and_not_registered(hub, tiny_single_file) -> None:
    repo = hub.add(FakeRepo("fake-org/broken", {
        "model.safetensors": tiny_single_file.read_bytes()}, corrupt={"model.safetensors"}))
    bad = studio("models", "download", repo.repo_id, "--yes")
    assert bad.returncode == 1 and "corrupted" in bad.stderr, bad.stderr
    assert "nothing was registered" in bad.stderr
    assert json.loads(studio("models", "list", "--json").stdout) == []
    blobs = list((Path(hub_cache()) / "models--fake-org--broken" / "blobs").glob("*"))
    assert not [b for b in blobs if not b.name.endswith(".incomplete")]


def test_not_enough_disk_space_writes_nothing(hub, tiny_single_file) -> None:
    repo = hub.add(FakeRepo("fake-org/huge", {"model.safetensors": tiny_single_file.read_bytes()},
                            claimed_sizes={"model.safetensors": 10**18}))
    out = studio("models", "download", repo.repo_id, "--yes")
    assert out.returncode == 1 and "not enough disk space" in out.stderr
    assert not _fetched(hub)
    assert not (Path(hub_cache()) / "models--fake-org--huge").exists()


def test_starter_list_is_complete() -> None:
    from studio.core.models.starter import STARTERS

    names = {s.key for s in STARTERS}
    assert names == {"sd15", "sdxl", "sdxl-turbo", "sd35-medium", "flux-schnell"}
    for s in STARTERS:
        assert s.size_bytes > 10**9 and s.licence and s.vram_gib >= s.min_vram_gib > 0
    out = studio("models", "starters")
    assert out.returncode == 0 and "black-forest-labs/FLUX.1-schnell" in out.stdout


def hub_cache() -> str:
    import os

    return os.environ["HF_HUB_CACHE"]


def _partial_bytes() -> int:
    return sum(p.stat().st_size for p in Path(hub_cache()).rglob("*.studio-partial"))
