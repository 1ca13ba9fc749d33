"""Chain profiles: presets, custom ones, the settings round trip, and secret RPC URLs kept in
the real OS keyring (gnome-keyring under scripts/with-keyring.sh)."""

from __future__ import annotations

import json
import subprocess
import sys

import keyring
import pytest

from studio.core.chain.anvil_binary import find_anvil, start_anvil
from studio.core.chain.profiles import (
    KEYRING_SERVICE,
    PRESETS,
    SANDBOX_ID,
    ChainProfiles,
    ProfileError,
    redact_url,
    url_has_secret,
)
from studio.core.settings import SettingsStore

INFURA = "https://sepolia.infura.io/v3/0123456789abcdef0123456789abcdef"


def test_presets_cover_the_issue() -> None:
    ids = {p.key: p.chain_id for p in PRESETS}
    assert ids == {
        "ethereum": 1,
        "sepolia": 11155111,
        "base": 8453,
        "base-sepolia": 84532,
        "optimism": 10,
        "arbitrum": 42161,
        "polygon": 137,
    }
    assert all(p.explorer_url.startswith("https://") and p.currency for p in PRESETS)


@pytest.mark.parametrize(
    ("url", "secret", "shown"),
    [
        ("https://rpc.example.org", False, "https://rpc.example.org"),
        ("http://127.0.0.1:8545/", False, "http://127.0.0.1:8545/"),
        (INFURA, True, "https://sepolia.infura.io/***"),
        ("https://node.example/rpc?apikey=hunter2", True, "https://node.example/***"),
        ("https://user:pw@node.example:8443/", True, "https://***@node.example:8443/"),
        (
            "https://base-mainnet.g.alchemy.com/v2/aB3dE6gH9jK2mN5pQ8",
            True,
            "https://base-mainnet.g.alchemy.com/***",
        ),
        # Short keys too: everything after the host is treated as secret.
        ("https://rpc.example/v3/SECRETKEY123", True, "https://rpc.example/***"),
        ("https://rpc.example/k", True, "https://rpc.example/***"),
    ],
)
def test_secret_detection_and_redaction(url: str, secret: bool, shown: str) -> None:
    assert url_has_secret(url) is secret
    assert redact_url(url) == shown


def test_profiles_round_trip_through_settings(paths) -> None:
    store = SettingsStore(paths.settings_file)
    settings = store.load().settings
    profiles = ChainProfiles(settings)
    assert [p.id for p in profiles.all()] == [SANDBOX_ID]
    assert profiles.active().chain_id == 31337
    base = profiles.add_preset("base", "https://mainnet.base.org")
    custom = profiles.add(
        name="My L2",
        rpc_url="http://10.0.0.5:8545",
        chain_id=424242,
        confirmations=4,
        explorer_url="https://scan.example/",
    )
    profiles.use(custom.id)
    store.save(settings)

    again = ChainProfiles(store.load().settings)
    assert [p.id for p in again.all()] == [SANDBOX_ID, "base", "my-l2"]
    assert again.active() == custom
    assert again.get("base") == base and base.chain_id == 8453 and base.confirmations == 2
    assert custom.explorer_url == "https://scan.example"
    assert again.rpc_url(again.get("my-l2")) == "http://10.0.0.5:8545"


def test_secret_rpc_url_lives_in_the_keyring_only(paths) -> None:
    store = SettingsStore(paths.settings_file)
    settings = store.load().settings
    profiles = ChainProfiles(settings)
    p = profiles.add_preset("sepolia", INFURA)
    store.save(settings)
    text = paths.settings_file.read_text()
    assert "0123456789abcdef" not in text
    assert "https://sepolia.infura.io/***" in text and p.rpc_in_keyring
    assert keyring.get_password(KEYRING_SERVICE, f"chain-rpc:{p.id}") == INFURA
    reloaded = ChainProfiles(store.load().settings)
    assert reloaded.rpc_url(reloaded.get(p.id)) == INFURA

    reloaded.remove(p.id)
    assert keyring.get_password(KEYRING_SERVICE, f"chain-rpc:{p.id}") is None
    assert [x.id for x in reloaded.all()] == [SANDBOX_ID]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "", "rpc_url": "https://x.example", "chain_id": 5}, "needs a name"),
        ({"name": "X", "rpc_url": "ftp://x.example", "chain_id": 5}, "not an http"),
        ({"name": "X", "rpc_url": "https://x.example", "chain_id": 0}, "positive integer"),
        (
            {"name": "X", "rpc_url": "https://x.example", "chain_id": 5, "confirmations": 0},
            "at least 1",
        ),
        (
            {"name": "X", "rpc_url": "https://x.example", "chain_id": 5, "explorer_url": "nope"},
            "explorer URL",
        ),
    ],
)
def test_bad_profiles_are_refused_and_nothing_changes(paths, kwargs, message) -> None:
    settings = SettingsStore(paths.settings_file).load().settings
    profiles = ChainProfiles(settings)
    with pytest.raises(ProfileError, match=message):
        profiles.add(**kwargs)
    assert settings.chain.profiles == []


def test_sandbox_is_built_in_and_names_are_unique(paths) -> None:
    settings = SettingsStore(paths.settings_file).load().settings
    profiles = ChainProfiles(settings)
    with pytest.raises(ProfileError, match="built in"):
        profiles.remove(SANDBOX_ID)
    with pytest.raises(ProfileError, match="No chain profile"):
        profiles.use("nope")
    a = profiles.add(name="Dev", rpc_url="http://127.0.0.1:1", chain_id=9)
    b = profiles.add(name="Dev", rpc_url="http://127.0.0.1:2", chain_id=9)
    assert (a.id, b.id) == ("dev", "dev-2")
    with pytest.raises(ProfileError, match="Unknown preset"):
        profiles.add_preset("dogechain", "https://x.example")


def studio(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studio", "chain", *args], capture_output=True,
                          text=True, timeout=120, check=False, input=stdin)


@pytest.mark.skipif(find_anvil() is None, reason="anvil not installed (npm ci in contracts/)")
def test_cli_add_list_use_test_and_mismatch(paths) -> None:
    # A URL with a key never comes through argv: refused there, read from stdin instead.
    refused = studio("add", "--preset", "sepolia", "--rpc-url", INFURA, "--use")
    assert refused.returncode == 1 and "never taken from the command line" in refused.stderr
    assert "0123456789abcdef" not in refused.stderr + refused.stdout
    added = studio("add", "--preset", "sepolia", "--use", stdin=INFURA + "\n")
    assert added.returncode == 0, added.stderr
    assert "keyring" in added.stdout and "0123456789abcdef" not in added.stdout
    assert "0123456789abcdef" not in paths.settings_file.read_text()
    listed = json.loads(studio("list", "--json").stdout)
    assert [(p["id"], p["active"]) for p in listed] == [("sandbox", False), ("sepolia", True)]
    assert studio("use", "sandbox").returncode == 0
    bad = studio("use", "nope")
    assert bad.returncode == 1 and "No chain profile 'nope'" in bad.stderr

    with start_anvil(args=["--chain-id", "31337"]) as node:
        ok = studio("add", "--name", "Local", "--rpc-url", node.url, "--chain-id", "31337")
        assert ok.returncode == 0, ok.stderr
        report = json.loads(studio("test", "local", "--json").stdout)
        assert report["chain_id"] == 31337 and report["matches"] and report["block"] == 0
        assert studio("add", "--name", "Wrong", "--rpc-url", node.url,
                      "--chain-id", "5").returncode == 0
        mismatch = studio("test", "wrong")
    assert mismatch.returncode == 1 and "chain id mismatch" in mismatch.stderr
    assert "chain id  31337" in mismatch.stdout
    missing = studio("add", "--name", "X", stdin="https://x.example\n")
    assert missing.returncode == 1 and "--chain-id" in missing.stderr
