"""`studio models download URL`: a direct download link (served by the FAKE hub's /dl/ route),
its sha256 checked when given, the result registered with the URL as its source."""

from __future__ import annotations

import hashlib
import json

from tests.models.conftest import studio


def test_direct_url_with_sha256_is_registered(hub, tiny_single_file, paths) -> None:
    data = tiny_single_file.read_bytes()
    hub.plain["tiny-civitai-style.safetensors"] = data
    url = f"{hub.url}/dl/tiny-civitai-style.safetensors"
    done = studio("models", "download", url, "--sha256", hashlib.sha256(data).hexdigest(),
                  "--yes", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["kind"] == "model" and out["source"] == url and out["family"] == "sd15"
    assert out["sha256"] == hashlib.sha256(data).hexdigest()
    assert out["path"].startswith(str(paths.data_dir))


def test_direct_url_with_a_wrong_sha256_is_refused(hub, tiny_single_file, paths) -> None:
    hub.plain["bad.safetensors"] = tiny_single_file.read_bytes()
    bad = studio("models", "download", f"{hub.url}/dl/bad.safetensors", "--sha256", "0" * 64,
                 "--yes")
    assert bad.returncode == 1 and "corrupted" in bad.stderr
    assert json.loads(studio("models", "list", "--json").stdout) == []
    assert not list(paths.data_dir.rglob("bad.safetensors*"))
