"""Fetching a token's metadata and file (studio/core/publish/fetch.py): ipfs:// through a
gateway with the bytes checked against the CID, http(s) and file URIs, bounded sizes. The
gateway here is a FAKE (a loopback HTTP server), since remote IPFS cannot be reached."""

from __future__ import annotations

import pytest

from studio.core.publish.fetch import FetchError, fetch_uri, gateway_url
from studio.core.publish.unixfs import bytes_cid
from tests.publish.fake_gateway import FakeIpfsGateway


def test_gateway_urls_are_path_style() -> None:
    assert gateway_url("ipfs://bafkx", "https://gw.example/") == "https://gw.example/ipfs/bafkx"
    assert gateway_url("ipfs://bafkx/a.json", "https://gw.example/ipfs") == \
        "https://gw.example/ipfs/bafkx/a.json"
    with pytest.raises(FetchError, match="not an http"):
        gateway_url("ipfs://bafkx", "ftp://gw.example")


def test_ipfs_bytes_must_hash_to_their_cid() -> None:
    with FakeIpfsGateway() as gw:
        cid = gw.add(b'{"name": "a work"}')
        assert fetch_uri(f"ipfs://{cid}", gateway=gw.url) == b'{"name": "a work"}'
        gw.tamper[cid] = b'{"name": "another work"}'
        with pytest.raises(FetchError, match="do not match the CID"):
            fetch_uri(f"ipfs://{cid}", gateway=gw.url)
        with pytest.raises(FetchError, match="404"):
            fetch_uri(f"ipfs://{bytes_cid(b'never added')}", gateway=gw.url)
        big = gw.add(b"x" * 2048)
        with pytest.raises(FetchError, match="larger than"):
            fetch_uri(f"ipfs://{big}", gateway=gw.url, max_bytes=1024)


def test_file_and_unsupported_uris(tmp_path) -> None:
    f = tmp_path / "meta.json"
    f.write_bytes(b"{}")
    assert fetch_uri(f.as_uri()) == b"{}"
    with pytest.raises(FetchError, match="cannot be read"):
        fetch_uri((tmp_path / "missing.json").as_uri())
    with pytest.raises(FetchError, match="only ipfs://"):
        fetch_uri("ar://someid")
    with pytest.raises(FetchError, match="could not be fetched"):
        fetch_uri("http://127.0.0.1:9/nothing-listens-here", timeout=2)
