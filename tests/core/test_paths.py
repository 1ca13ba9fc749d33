from pathlib import Path

from studio.core.paths import resolve_paths


def test_studio_home_holds_every_dir(tmp_path: Path) -> None:
    paths = resolve_paths({"STUDIO_HOME": str(tmp_path / "h")}).ensure()
    for d in (paths.config_dir, paths.data_dir, paths.cache_dir, paths.log_dir):
        assert d.is_dir()
        assert d.is_relative_to(tmp_path / "h")
    assert paths.library_db.parent == paths.data_dir


def test_platformdirs_without_studio_home(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    paths = resolve_paths({})
    assert paths.config_dir == tmp_path / "xdg-config" / "provenance-studio"
    assert paths.data_dir == tmp_path / "xdg-data" / "provenance-studio"


def test_fixture_keeps_tests_out_of_real_home(paths, studio_home: Path) -> None:
    assert paths.config_dir.is_relative_to(studio_home)
    assert not str(paths.data_dir).startswith(str(Path.home() / ".local"))
