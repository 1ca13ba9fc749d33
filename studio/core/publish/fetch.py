"""Fetching what a token points at (its metadata, the minted file), only when the user allows
network: ``ipfs://`` through a gateway (the bytes are checked against the CID, so a gateway
cannot substitute a file), ``http(s)://`` and ``file://``. Sizes and time are bounded."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

DEFAULT_GATEWAY = "https://ipfs.io"
MAX_BYTES = 64 * 1024 * 1024  # an image the studio renders is far smaller
TIMEOUT_S = 20.0


class FetchError(Exception):
    """The URI could not be fetched; the message is meant for the user."""


def gateway_url(uri: str, gateway: str = DEFAULT_GATEWAY) -> str:
    """``ipfs://CID[/path]`` as a path-style gateway URL (``GATEWAY/ipfs/CID[/path]``)."""
    rest = uri.removeprefix("ipfs://").removeprefix("ipfs/").lstrip("/")
    base = (gateway or DEFAULT_GATEWAY).rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise FetchError(f"The IPFS gateway {gateway!r} is not an http(s) URL")
    if not base.endswith("/ipfs"):
        base += "/ipfs"
    return f"{base}/{rest}"


def _read(url: str, max_bytes: int, timeout: float) -> bytes:
    req = urllib.request.Request(url, headers={"Accept": "*/*",
                                               "User-Agent": "provenance-studio"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            data = resp.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url} answered {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise FetchError(f"{url} could not be fetched ({reason})") from exc
    if len(data) > max_bytes:
        raise FetchError(f"{url} is larger than {max_bytes // (1024 * 1024)} MiB")
    return data


def _check_cid(uri: str, data: bytes) -> None:
    from studio.core.publish.unixfs import bytes_cid

    rest = uri.removeprefix("ipfs://").split("?", 1)[0].rstrip("/")
    if "/" in rest:
        return  # a path inside a directory: its own CID is not in the URI
    cid = rest
    if not cid.startswith("b"):
        return  # CIDv0 or another base: not recomputed here (our mints write CIDv1 base32)
    if bytes_cid(data) != cid:
        raise FetchError(f"The gateway's bytes for {uri} do not match the CID (refused)")


def fetch_uri(uri: str, *, gateway: str = DEFAULT_GATEWAY, max_bytes: int = MAX_BYTES,
              timeout: float = TIMEOUT_S) -> bytes:
    """The bytes ``uri`` names. Raises FetchError for an unsupported scheme, an unreachable
    host, a file over ``max_bytes`` or IPFS bytes that do not hash to their CID."""
    scheme = urllib.parse.urlsplit(uri).scheme.lower()
    if scheme == "ipfs":
        data = _read(gateway_url(uri, gateway), max_bytes, timeout)
        _check_cid(uri, data)
        return data
    if scheme in ("http", "https"):
        return _read(uri, max_bytes, timeout)
    if scheme == "file":
        path = Path(urllib.request.url2pathname(urllib.parse.urlsplit(uri).path))
        try:
            if path.stat().st_size > max_bytes:
                raise FetchError(f"{path} is larger than {max_bytes // (1024 * 1024)} MiB")
            return path.read_bytes()
        except OSError as exc:
            raise FetchError(f"{path} cannot be read ({exc.strerror or exc})") from exc
    raise FetchError(f"Cannot fetch {uri!r}: only ipfs://, http(s):// and file:// are supported")
