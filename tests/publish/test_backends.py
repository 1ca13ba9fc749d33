"""Publishing backends against local fake remotes (tests/publish/fake_ipfs.py: no IPFS node
or pinning service can run here), the real OS keyring for tokens, and the real CLI."""

from __future__ import annotations

import io
import logging
import os
import socket
import uuid
from pathlib import Path

import keyring
import pytest

from studio.cli import main
from studio.core.library.models import AssetOrigin
from studio.core.publish.backends import (
    CidMismatch,
    KuboBackend,
    PinningServiceBackend,
    PublishError,
    delete_token,
    load_token,
    store_token,
)
from studio.core.publish.unixfs import CHUNK_SIZE, file_cid
from tests.publish.fake_ipfs import WRONG_CID, FakeKuboNode, FakePinningService

TOKEN = "s3cret-token-" + "x" * 20


@pytest.fixture(autouse=True)
def keyring_service(monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh keyring service per test: a user's real entries are never touched."""
    name = f"provenance-studio-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("STUDIO_KEYRING_SERVICE", name)
    return name


@pytest.fixture
def real_keyring() -> None:
    from studio.core.wallet.vault import backend_problem

    problem = backend_problem(keyring.get_keyring())
    if problem:
        pytest.skip(f"no usable OS keyring ({problem}); run through scripts/with-keyring.sh")


@pytest.fixture
def media(tmp_path: Path) -> Path:
    path = tmp_path / "work.png"
    path.write_bytes(os.urandom(2 * CHUNK_SIZE + 777))  # several chunks: a real DAG root
    return path


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# -- Kubo --------------------------------------------------------------------------------


async def test_kubo_add_streams_file_and_checks_cid(media: Path) -> None:
    with FakeKuboNode(TOKEN) as node:
        result = await KuboBackend(node.url + "/api/v0/", TOKEN).publish(media, "dawn.png")
    assert result.cid == file_cid(media) and result.cid.startswith("bafy")
    (req,) = node.requests
    assert req["data"] == media.read_bytes() and req["name"] == "dawn.png"
    assert req["params"]["cid-version"] == "1" and req["params"]["raw-leaves"] == "true"


async def test_kubo_cid_mismatch_is_refused(media: Path) -> None:
    with FakeKuboNode(None) as node:
        node.wrong_cid = True
        with pytest.raises(CidMismatch, match="refuses it") as err:
            await KuboBackend(node.url).publish(media)
    assert err.value.reported == WRONG_CID and err.value.expected == file_cid(media)


async def test_kubo_errors_are_clear(media: Path, tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeKuboNode(TOKEN) as node:
        with pytest.raises(PublishError, match=r"refused the access token \(HTTP 401\)"):
            await KuboBackend(node.url, "wrong-token").publish(media)
        with pytest.raises(PublishError, match=r"no such API \(HTTP 404\)"):
            await KuboBackend(node.url + "/not-kubo", TOKEN).publish(media)
        node.delay = 3
        with pytest.raises(PublishError, match="did not answer within 1 s"):
            await KuboBackend(node.url, TOKEN, timeout=1).publish(media)
        with pytest.raises(PublishError, match="not a readable file"):
            await KuboBackend(node.url, TOKEN).publish(tmp_path / "missing.png")
    with pytest.raises(PublishError, match="Cannot reach the IPFS node at http"):
        await KuboBackend(closed_port_url()).publish(media)
    with pytest.raises(PublishError, match="not an http"):
        KuboBackend("ftp://example.org")
    assert "wrong-token" not in caplog.text and TOKEN not in caplog.text


# -- pinning service ---------------------------------------------------------------------


async def test_pinning_service_pins_and_polls(media: Path) -> None:
    with FakePinningService(TOKEN) as service:
        backend = PinningServiceBackend(service.url, TOKEN, poll_interval=0.01)
        result = await backend.publish(media, "dawn.png")
    assert result.cid == file_cid(media) and result.status == "pinned"
    assert service.requests == [{"cid": result.cid, "name": "dawn.png"}]
    assert service.pins["req-1"]["polls"] == 2  # queued -> pinning -> pinned


async def test_pinning_service_mismatch_failure_and_auth(media: Path) -> None:
    with FakePinningService(TOKEN) as service:
        service.wrong_cid = True
        with pytest.raises(CidMismatch, match=WRONG_CID):
            await PinningServiceBackend(service.url, TOKEN, poll_interval=0.01).publish(media)
        service.wrong_cid = False
        with pytest.raises(PublishError, match=r"refused the access token \(HTTP 401\).*"
                                               "bad access token"):
            await PinningServiceBackend(service.url, "nope").publish(media)
    with (FakePinningService(TOKEN, final="failed") as service,
          pytest.raises(PublishError, match=r"could not pin .* fetch the content")):
        await PinningServiceBackend(service.url, TOKEN, poll_interval=0.01).publish(media)
    with FakePinningService(TOKEN, final="pinning") as service:
        backend = PinningServiceBackend(service.url, TOKEN, poll_interval=0.05, pin_timeout=0.2)
        with pytest.raises(PublishError, match=r"still 'pinning'.*request req-1"):
            await backend.publish(media)
    with pytest.raises(PublishError, match="needs an access token"):
        PinningServiceBackend("http://127.0.0.1:1", "")


# -- tokens ------------------------------------------------------------------------------


def test_token_lives_in_keyring_only(real_keyring, keyring_service, paths) -> None:
    url = "https://pins.example/api/"
    assert load_token(url) is None
    store_token(url, f"  {TOKEN}\n")
    assert load_token("https://pins.example/api") == TOKEN  # trailing slash ignored
    assert keyring.get_password(keyring_service, "publish-token:https://pins.example/api")
    with pytest.raises(PublishError, match="empty"):
        store_token(url, "  ")
    delete_token(url)
    delete_token(url)  # already gone: no error
    assert load_token(url) is None


# -- CLI ---------------------------------------------------------------------------------


def test_cli_publish_kubo_with_token_and_car(real_keyring, paths, media, tmp_path, capsys,
                                             monkeypatch) -> None:
    car = tmp_path / "out.car"
    with FakeKuboNode(TOKEN) as node:
        monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN + "\n"))
        assert main(["publish", str(media), "--kubo", node.url, "--token-stdin",
                     "--car", str(car)]) == 0
        out = capsys.readouterr()
        assert out.out == f"{file_cid(media)}  {media}\n" and car.stat().st_size > 0
        assert TOKEN not in out.out + out.err

        # Next run: the token comes from the keyring; an asset id works too.
        from studio.core.library import Library

        with Library.open(paths) as lib:
            asset, _ = lib.add_bytes(b"tiny work", suffix=".png", origin=AssetOrigin.IMPORTED,
                                     media_type="image/png", title="t",
                                     original_name="t.png")
        assert main(["publish", str(asset.id), str(media), "--kubo", node.url]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0].split()[1] == str(asset.id) and lines[1].split()[1] == str(media)
        assert node.requests[-2]["data"] == b"tiny work"

        node.wrong_cid = True
        assert main(["publish", str(media), "--kubo", node.url]) == 1
        assert "refuses it" in capsys.readouterr().err
    for settings_file in paths.config_dir.rglob("*"):
        if settings_file.is_file():
            assert TOKEN not in settings_file.read_text(errors="replace")


def test_cli_publish_bad_input(paths, media, tmp_path, capsys) -> None:
    car = tmp_path / "only.car"
    assert main(["publish", str(media), "--car", str(car)]) == 0  # CAR only, no remote
    assert capsys.readouterr().out.split()[0] == file_cid(media) and car.is_file()
    assert main(["publish", str(media)]) == 1
    assert "--kubo URL, --pinning URL, or --car OUT" in capsys.readouterr().err
    assert main(["publish", "no-such-file.png", "--car", str(car)]) == 1
    assert "no such file, and not an asset id" in capsys.readouterr().err
    assert main(["publish", "999", "--car", str(car)]) == 1
    assert "no asset #999" in capsys.readouterr().err
    assert main(["publish", str(media), str(media), "--car", str(car)]) == 1
    assert main(["publish", str(media), "--pinning", closed_port_url()]) == 1
    assert "needs an access token" in capsys.readouterr().err
