"""Settings → Chains against a real anvil and the real OS keyring: add a chain whose RPC URL
holds an API key (the key goes to the keyring, never the settings file), test it, remove it
(its keyring entry goes too); the add dialog's presets fill what they know."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studio.core.chain.anvil_binary import find_anvil
from studio.core.secrets import SecretStore
from studio.ui.chains_settings import AddChainDialog
from tests.chain.mint_support import keyring_service, require_keyring  # noqa: F401

pytestmark = pytest.mark.skipif(find_anvil() is None,
                                reason="anvil not installed (npm ci in contracts/)")


def _ids(chains) -> list[str]:
    return [chains.list.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(chains.list.count())]


def test_add_test_remove_a_keyed_chain(studio_window, qtbot, anvil, paths) -> None:
    require_keyring()
    studio_window.show_section("settings")
    chains = studio_window.page("settings").chains
    url = f"{anvil.url}/?apikey=SECRETKEY123"
    chains.add({"name": "Keyed anvil", "rpc_url": url, "chain_id": 31337,
                "confirmations": 1})
    qtbot.waitUntil(lambda: "keyed-anvil" in _ids(chains), timeout=5_000)
    assert "kept in the OS keyring" in chains.status.text()
    assert "SECRETKEY123" not in paths.settings_file.read_text()
    assert SecretStore().get("chain-rpc:keyed-anvil") == url

    chains.list.setCurrentRow(_ids(chains).index("keyed-anvil"))
    with qtbot.waitSignal(chains.tested, timeout=30_000) as tested:
        chains.test_button.click()
    report = tested.args[0]
    assert report.matches and report.chain_id == 31337
    assert "Connected" in chains.status.text() and "SECRETKEY123" not in chains.status.text()

    chains.remove(confirm=False)
    qtbot.waitUntil(lambda: "keyed-anvil" not in _ids(chains), timeout=5_000)
    assert SecretStore().get("chain-rpc:keyed-anvil") is None


def test_bad_url_is_explained_and_nothing_is_added(studio_window, qtbot) -> None:
    studio_window.show_section("settings")
    chains = studio_window.page("settings").chains
    chains.add({"name": "Broken", "rpc_url": "ftp://nowhere", "chain_id": 5,
                "confirmations": 1})
    assert "not an http(s) URL" in chains.status.text()
    assert _ids(chains) == ["sandbox"]
    assert not chains.remove_button.isEnabled()  # the Sandbox is built in


def test_add_dialog_presets(qtbot) -> None:
    from studio.core.chain.profiles import PRESETS

    dialog = AddChainDialog(PRESETS)
    qtbot.addWidget(dialog)
    dialog.preset.setCurrentIndex(dialog.preset.findData("sepolia"))
    assert dialog.name.text() == "Sepolia" and dialog.chain_id.value() == 11155111
    assert not dialog.chain_id.isEnabled()
    dialog.rpc_url.setText("https://sepolia.example/v3/KEY")
    assert dialog.fields()["preset"] == "sepolia"
