import json
from pathlib import Path

from studio.core.settings import CURRENT_VERSION, Settings, SettingsStore, WalletAccount


def store(paths) -> SettingsStore:
    return SettingsStore(paths.settings_file)


def test_defaults_when_missing(paths) -> None:
    result = store(paths).load()
    assert result.settings == Settings()
    assert result.notices == []


def test_round_trip_with_nested_lists(paths) -> None:
    s = Settings()
    s.ui.theme = "dark"
    s.generation.default_steps = 40
    s.wallet.accounts.append(WalletAccount(address="0xabc", label="main", source="key"))
    store(paths).save(s)
    loaded = store(paths).load()
    assert loaded.settings == s
    assert isinstance(loaded.settings.wallet.accounts[0], WalletAccount)
    on_disk = json.loads(paths.settings_file.read_text())
    assert on_disk["version"] == CURRENT_VERSION


def test_save_is_atomic_and_leaves_no_temp_files(paths) -> None:
    store(paths).save(Settings())
    assert [p.name for p in paths.config_dir.iterdir()] == ["settings.json"]


def test_corrupt_file_is_kept_as_bak_and_defaults_loaded(paths) -> None:
    paths.settings_file.write_text("{ not json")
    result = store(paths).load()
    assert result.settings == Settings()
    assert len(result.notices) == 1 and "could not be read" in result.notices[0]
    bak = paths.settings_file.with_name("settings.json.bak")
    assert bak.read_text() == "{ not json"
    assert not paths.settings_file.exists()


def test_second_corruption_does_not_overwrite_first_backup(paths) -> None:
    for text in ("first", "second"):
        paths.settings_file.write_text(text)
        store(paths).load()
    backups = sorted(p.read_text() for p in paths.config_dir.glob("*.bak"))
    assert backups == ["first", "second"]


def test_top_level_not_an_object_is_corrupt(paths) -> None:
    paths.settings_file.write_text("[1, 2]")
    result = store(paths).load()
    assert result.notices and (paths.config_dir / "settings.json.bak").exists()


def test_ill_typed_values_fall_back_to_defaults_and_are_reported(paths) -> None:
    paths.settings_file.write_text(json.dumps({
        "version": 1,
        "ui": {"theme": 5, "last_section": "library"},
        "generation": {"default_steps": "many", "default_guidance": 6},
        "wallet": {"accounts": [{"address": "0x1"}, "junk"]},
        "unknown_section": {"x": 1},
    }))
    result = store(paths).load()
    s = result.settings
    assert s.ui.theme == "system" and s.ui.last_section == "library"
    assert s.generation.default_steps == 25
    assert s.generation.default_guidance == 6.0  # an int is accepted for a float
    assert [a.address for a in s.wallet.accounts] == ["0x1"]
    assert any("ui.theme" in n for n in result.notices)


def test_unversioned_file_is_migrated(paths) -> None:
    paths.settings_file.write_text(json.dumps({"theme": "dark"}))
    s = store(paths).load().settings
    assert s.ui.theme == "dark"
    assert s.version == CURRENT_VERSION


def test_newer_version_loads_known_fields_with_notice(paths) -> None:
    paths.settings_file.write_text(json.dumps({"version": 99, "ui": {"theme": "light"}}))
    result = store(paths).load()
    assert result.settings.ui.theme == "light"
    assert any("newer version" in n for n in result.notices)


def test_reset_keeps_backup(paths) -> None:
    s = Settings()
    s.ui.theme = "dark"
    store(paths).save(s)
    backup = store(paths).reset()
    assert isinstance(backup, Path) and json.loads(backup.read_text())["ui"]["theme"] == "dark"
    assert store(paths).load().settings == Settings()
