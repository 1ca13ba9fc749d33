import os
import sqlite3
import stat
import time
import tracemalloc
from pathlib import Path

import pytest

from studio.core.library import AssetOrigin, Library, LibraryError
from studio.core.library.schema import SchemaTooNewError, component_version, migrate_component
from studio.core.library.store import sha256_file


@pytest.fixture
def lib(paths):
    with Library.open(paths) as library:
        yield library


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_add_stores_read_only_copy_named_by_hash(lib, tmp_path) -> None:
    src = write(tmp_path, "photo.PNG", b"png-bytes")
    asset, created = lib.add_file(src, origin=AssetOrigin.IMPORTED, media_type="image/png")
    stored = lib.path_of(asset)
    assert created
    assert stored.read_bytes() == b"png-bytes"
    assert stored.name == f"{asset.sha256}.png"
    assert sha256_file(stored) == asset.sha256
    assert not stored.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert src.read_bytes() == b"png-bytes"  # the original is untouched
    assert asset.original_name == "photo.PNG"


def test_same_bytes_are_added_once(lib, tmp_path) -> None:
    a, _ = lib.add_file(write(tmp_path, "a.jpg", b"same"), origin=AssetOrigin.IMPORTED,
                        media_type="image/jpeg")
    b, created = lib.add_file(write(tmp_path, "b.jpeg", b"same"), origin=AssetOrigin.IMPORTED,
                              media_type="image/jpeg")
    assert not created and b.id == a.id
    assert lib.count() == 1
    assert lib.check_consistency().ok


def test_list_filters_and_orders_newest_first(lib) -> None:
    first, _ = lib.add_bytes(b"1", suffix=".png", origin=AssetOrigin.GENERATED,
                             media_type="image/png")
    second, _ = lib.add_bytes(b"2", suffix=".png", origin=AssetOrigin.IMPORTED,
                              media_type="image/png")
    assert [a.id for a in lib.list_assets()] == [second.id, first.id]
    assert [a.id for a in lib.list_assets(AssetOrigin.GENERATED)] == [first.id]


def test_remove_deletes_row_and_file(lib) -> None:
    asset, _ = lib.add_bytes(b"x", suffix=".png", origin=AssetOrigin.IMPORTED,
                             media_type="image/png")
    path = lib.path_of(asset)
    assert lib.remove(asset.id)
    assert not path.exists() and lib.get(asset.id) is None
    assert lib.check_consistency().ok
    assert not lib.remove(asset.id)


def test_consistency_finds_orphans_and_missing_files(lib) -> None:
    kept, _ = lib.add_bytes(b"kept", suffix=".png", origin=AssetOrigin.IMPORTED,
                            media_type="image/png")
    lib.store.put_bytes(b"orphan", ".png")  # as if a delete was interrupted after the row went
    os.chmod(lib.path_of(kept), 0o600)
    lib.path_of(kept).unlink()
    report = lib.check_consistency()
    assert report.missing_files == [kept.id]
    assert len(report.orphan_files) == 1
    lib.repair()
    assert lib.check_consistency().orphan_files == []


def test_repair_removes_temp_files_of_dead_writers_only(lib, dead_pid: int) -> None:
    """A kill during a copy leaves ``.incoming-<pid>-<n>`` behind: repair removes those of
    dead processes, never a live writer's (another studio process may be importing)."""
    dead = dead_pid
    shard = lib.store.root / "ab"
    shard.mkdir(parents=True, exist_ok=True)
    dead_tmp = shard / f".incoming-{dead}-0"
    live_tmp = shard / f".incoming-{os.getpid()}-99"
    old_style = lib.store.root / ".incoming-x7q2ab"  # an earlier version's mkstemp name
    for path in (dead_tmp, live_tmp, old_style):
        path.write_bytes(b"half a file")
    hour_ago = time.time() - 7200
    os.utime(old_style, (hour_ago, hour_ago))

    report = lib.check_consistency()
    assert set(report.stale_temp_files) == {"ab/" + dead_tmp.name, old_style.name}
    assert report.orphan_files == []  # temp files are not library files
    lib.repair()
    assert not dead_tmp.exists() and not old_style.exists()
    assert live_tmp.exists()
    assert lib.check_consistency().stale_temp_files == []


def test_wal_mode_and_schema_versions(lib, paths) -> None:
    conn = sqlite3.connect(paths.library_db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert component_version(conn, "library") >= 1


def test_reopen_keeps_data(paths) -> None:
    with Library.open(paths) as lib:
        lib.add_bytes(b"persist", suffix=".png", origin=AssetOrigin.IMPORTED,
                      media_type="image/png")
    with Library.open(paths) as lib:
        assert lib.count() == 1


def test_failed_migration_step_rolls_back(tmp_path) -> None:
    conn = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    steps = ["CREATE TABLE a(x)", "CREATE TABLE b(y); CREATE TABLE a(z)"]  # step 2 fails
    with pytest.raises(sqlite3.OperationalError):
        migrate_component(conn, "demo", steps)
    assert component_version(conn, "demo") == 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "b" not in tables  # the half-done step left nothing behind


def test_newer_schema_is_refused(tmp_path) -> None:
    conn = sqlite3.connect(tmp_path / "n.db", isolation_level=None)
    migrate_component(conn, "demo", ["CREATE TABLE a(x)", "CREATE TABLE b(x)"])
    with pytest.raises(SchemaTooNewError, match="newer version"):
        migrate_component(conn, "demo", ["CREATE TABLE a(x)"])


def test_corrupt_database_gives_clear_error(paths) -> None:
    paths.library_db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LibraryError, match="cannot be opened"):
        Library.open(paths)


def test_large_file_is_hashed_by_streaming(lib, tmp_path) -> None:
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:
        for _ in range(64):
            fh.write(os.urandom(1 << 20))
    tracemalloc.start()
    asset, _ = lib.add_file(big, origin=AssetOrigin.IMPORTED, media_type="video/mp4")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert asset.size == 64 << 20
    assert peak < 16 << 20  # a 64 MiB file never sits in memory whole
    assert sha256_file(big) == asset.sha256
