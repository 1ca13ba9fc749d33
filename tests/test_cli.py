"""The `studio` command as a user runs it: real subprocesses, each with its own STUDIO_HOME."""

import json
import os
import subprocess
import sys

import pytest

from studio import __version__


def studio(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studio", *args], capture_output=True,
                          text=True, timeout=180, env={**os.environ, **(env or {})}, check=False)


def test_version_and_help() -> None:
    out = studio("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"studio {__version__}"
    helped = studio("--help")
    assert helped.returncode == 0 and "library" in helped.stdout


def test_library_list_json_on_empty_and_filled_library(paths) -> None:
    out = studio("library", "list", "--json")
    assert out.returncode == 0 and json.loads(out.stdout) == []
    from studio.core.library import AssetOrigin, Library

    with Library.open(paths) as lib:
        asset, _ = lib.add_bytes(b"img", suffix=".png", origin=AssetOrigin.IMPORTED,
                                 media_type="image/png", title="Dawn")
    listed = json.loads(studio("library", "list", "--json").stdout)
    assert [a["sha256"] for a in listed] == [asset.sha256]
    assert "Dawn" in studio("library", "list").stdout


def test_reset_settings_keeps_backup(paths) -> None:
    paths.settings_file.write_text('{"version": 1, "ui": {"theme": "dark"}}')
    out = studio("--reset-settings")
    assert out.returncode == 0, out.stderr
    assert json.loads(paths.settings_file.read_text())["ui"]["theme"] == "system"
    assert "dark" in (paths.config_dir / "settings.json.bak").read_text()


def test_selftest_reports_versions_and_dirs() -> None:
    out = studio("--selftest")
    for name in ("Qt", "torch", "diffusers", "c2pa", "web3", "device", "keyring", "data dir"):
        assert name in out.stdout
    if "BAD keyring" not in out.stdout:  # gnome-keyring is up under the test command
        assert out.returncode == 0, out.stdout


def test_selftest_fails_and_says_why_without_keyring() -> None:
    out = studio("--selftest", env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert out.returncode == 1
    assert "BAD keyring" in out.stdout and "FAILED" in out.stdout


@pytest.mark.parametrize("broken", ["diffusers", "c2pa"])
def test_selftest_fails_on_a_broken_install(tmp_path, broken: str) -> None:
    # A module that raises on import shadows the real one, as a half-installed package would.
    (tmp_path / broken).mkdir()
    (tmp_path / broken / "__init__.py").write_text("raise ImportError('simulated broken install')")
    out = studio("--selftest", env={"PYTHONPATH": str(tmp_path)})
    assert out.returncode == 1
    assert f"BAD {broken}" in out.stdout and "simulated broken install" in out.stdout
