"""The packaged contract artifacts and the anvil locator (no node needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.core.chain import anvil_binary
from studio.core.chain.artifacts import available_artifacts, load_artifact

SHIPPED = ["CollectionFactory", "RoyaltySplitter", "SplitFactory", "StudioCollection"]


def test_every_contract_ships_abi_and_bytecode() -> None:
    assert available_artifacts() == SHIPPED
    for name in SHIPPED:
        artifact = load_artifact(name)
        assert artifact["contractName"] == name
        assert isinstance(artifact["abi"], list) and artifact["abi"]
        assert artifact["bytecode"].startswith("0x") and len(artifact["bytecode"]) > 100
        int(artifact["bytecode"], 16)  # plain hex: no unlinked library placeholders


def test_abi_has_the_entry_points_the_app_calls() -> None:
    def names(contract: str) -> set[str]:
        return {e.get("name") for e in load_artifact(contract)["abi"]}

    assert {"createCollection", "predictCollection", "CollectionCreated"} <= names(
        "CollectionFactory"
    )
    assert {"mint", "tokenIdOf", "contentHashOf", "royaltyInfo", "ContentMinted",
            "acceptOwnership", "pendingOwner"} <= names(
        "StudioCollection"
    )
    assert {"create", "predict", "SplitCreated"} <= names("SplitFactory")
    assert {"release", "releasable", "recipients", "ReceiveETH"} <= names("RoyaltySplitter")


def test_each_load_is_a_fresh_copy() -> None:
    load_artifact("SplitFactory")["abi"].clear()
    assert load_artifact("SplitFactory")["abi"]


@pytest.mark.parametrize("name", ["../pyproject", "Nope", "", "a/b"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises((ValueError, FileNotFoundError)):
        load_artifact(name)


def test_loading_artifacts_does_not_import_web3() -> None:
    code = (
        "import sys; from studio.core.chain.artifacts import load_artifact;"
        "load_artifact('StudioCollection'); assert 'web3' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_find_anvil_prefers_the_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "anvil"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv(anvil_binary.ENV_VAR, str(fake))
    assert anvil_binary.find_anvil() == fake


def test_find_anvil_skips_a_broken_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(anvil_binary.ENV_VAR, "/nonexistent/anvil")
    found = anvil_binary.find_anvil()
    assert found is None or (found.is_file() and os.access(found, os.X_OK))
