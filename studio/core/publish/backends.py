"""Send a file to a user-configured IPFS node (Kubo RPC) or a pinning service (IPFS Pinning
Service API), and check that the CID the remote reports is the one computed here.

The local CID (studio.core.publish.unixfs) is what token URIs point at, so a remote that
reports another CID (other chunking, CIDv0, a proxy that rewrites the upload) is refused: the
token would otherwise name content nobody pins. Access tokens live in the OS keyring
(service ``provenance-studio``), never in settings or logs.

HTTP runs on aiohttp (already a web3 dependency): the upload is streamed from disk.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from studio.core.chain.profiles import redact_url
from studio.core.publish.unixfs import file_cid

KEYRING_SERVICE = "provenance-studio"
SERVICE_ENV = "STUDIO_KEYRING_SERVICE"  # tests use their own service name
CONNECT_TIMEOUT_S = 10.0


class PublishError(Exception):
    """Publishing failed; the message is meant for the user. Nothing local was changed."""


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class CidMismatch(PublishError):
    def __init__(self, where: str, expected: str, reported: str) -> None:
        super().__init__(
            f"{_cap(where)} reports CID {reported}, but this file's CID is {expected}. The studio "
            "refuses it: a token must point at the CID computed here (the node may use other "
            "chunking or CID settings).")
        self.expected, self.reported = expected, reported


@dataclass(frozen=True)
class PublishResult:
    cid: str
    where: str  # the remote, its URL redacted
    status: str  # "added" (Kubo) or the pin status ("pinned")


class Backend(Protocol):
    async def publish(self, path: Path, name: str = "") -> PublishResult: ...


# -- tokens in the OS keyring --------------------------------------------------------------


def _service() -> str:
    from studio.core.secrets import service_name

    return service_name()


def _token_key(url: str) -> str:
    return f"publish-token:{url.strip().rstrip('/')}"


def store_token(url: str, token: str) -> None:
    from studio.core.secrets import SecretStore, SecretStoreError

    if not token.strip():
        raise PublishError("The access token is empty")
    try:
        SecretStore().set(_token_key(url), token.strip())
    except SecretStoreError as exc:
        raise PublishError(f"The OS keyring is not available ({exc}); the token is never "
                           "written to a plain file, so it was not saved.") from exc


def load_token(url: str) -> str | None:
    from studio.core.secrets import SecretStore, SecretStoreError

    try:
        return SecretStore().get(_token_key(url))
    except SecretStoreError as exc:
        raise PublishError(f"The OS keyring cannot be read: {exc}") from exc


def delete_token(url: str) -> None:
    from studio.core.secrets import SecretStore, SecretStoreError

    try:
        SecretStore().delete(_token_key(url))
    except SecretStoreError as exc:
        raise PublishError(f"The OS keyring cannot be changed: {exc}") from exc


# -- HTTP helpers --------------------------------------------------------------------------


def _base(url: str, suffix: str = "") -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise PublishError(f"{redact_url(url) or 'The URL'} is not an http(s) URL")
    if suffix and url.endswith(suffix):
        url = url[: -len(suffix)]
    return url


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _remote_message(body: str) -> str:
    """The error text a Kubo node ({"Message"}) or a pinning service ({"error"}) sends."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:200]
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            return " ".join(str(err.get(k, "")) for k in ("reason", "details")).strip()
        if "Message" in data:
            return str(data["Message"])
    return body.strip()[:200]


def _http_error(where: str, status: int, body: str) -> PublishError:
    detail = _remote_message(body)
    if status in (401, 403):
        return PublishError(f"{_cap(where)} refused the access token (HTTP {status}): "
                            "check the token" + (f" ({detail})" if detail else ""))
    if status in (404, 405):
        return PublishError(f"{_cap(where)} has no such API (HTTP {status}): check the URL")
    return PublishError(f"{_cap(where)} answered HTTP {status}" + (f": {detail}" if detail else ""))


class _Http:
    """One aiohttp session with the studio's timeouts and error wording."""

    def __init__(self, where: str, timeout: float) -> None:
        self.where, self.timeout = where, timeout

    async def __aenter__(self) -> _Http:
        import aiohttp

        self._aiohttp = aiohttp
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(
            total=None, connect=CONNECT_TIMEOUT_S, sock_read=self.timeout))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()

    async def request(self, method: str, url: str, **kwargs: Any) -> str:
        try:
            async with self.session.request(method, url, **kwargs) as resp:
                body = await resp.text()
                if resp.status >= 400:
                    raise _http_error(self.where, resp.status, body)
                return body
        except TimeoutError as exc:  # aiohttp's timeouts subclass it
            raise PublishError(f"{_cap(self.where)} did not answer within {self.timeout:.0f} s"
                               ) from exc
        except self._aiohttp.ClientError as exc:
            raise PublishError(f"Cannot reach {self.where}: {type(exc).__name__}"
                               + (f" ({exc})" if str(exc) else "")) from exc


def _local_cid(path: Path) -> str:
    if not path.is_file():
        raise PublishError(f"{path} is not a readable file")
    return file_cid(path)


# -- Kubo ----------------------------------------------------------------------------------


class KuboBackend:
    """An IPFS node's RPC API (Kubo, ``/api/v0``): the file is added and pinned there."""

    def __init__(self, api_url: str, token: str | None = None, *,
                 timeout: float = 120.0) -> None:
        self.base = _base(api_url, "/api/v0")
        self.token = token
        self.timeout = timeout
        self.where = f"the IPFS node at {redact_url(self.base)}"

    async def publish(self, path: Path, name: str = "") -> PublishResult:
        import aiohttp

        expected = await asyncio.to_thread(_local_cid, path)
        # The same DAG as the local CID: CIDv1, raw leaves, Kubo's default 256 KiB chunks.
        params = {"cid-version": "1", "raw-leaves": "true", "pin": "true"}
        async with _Http(self.where, self.timeout) as http:
            with open(path, "rb") as fh:  # aiohttp streams the open file in chunks
                form = aiohttp.FormData()
                form.add_field("file", fh, filename=name or path.name,
                               content_type="application/octet-stream")
                body = await http.request("POST", f"{self.base}/api/v0/add", params=params,
                                          data=form, headers=_headers(self.token))
        reported = _kubo_hash(body, self.where)
        if reported != expected:
            raise CidMismatch(self.where, expected, reported)
        return PublishResult(expected, self.where, "added")


def _kubo_hash(body: str, where: str) -> str:
    """The root's Hash from ``add``'s newline-delimited JSON (the last entry names it)."""
    hashes = []
    for line in body.splitlines():
        try:
            entry = json.loads(line) if line.strip() else {}
        except ValueError:
            entry = {}
        if isinstance(entry, dict) and entry.get("Hash"):
            hashes.append(str(entry["Hash"]))
    if not hashes:
        raise PublishError(f"{_cap(where)} answered without a CID; is this a Kubo RPC API URL?")
    return hashes[-1]


# -- Pinning Service API -------------------------------------------------------------------

PIN_DONE = "pinned"
PIN_FAILED = "failed"


class PinningServiceBackend:
    """A remote pinning service (IPFS Pinning Service API): asks it to pin the CID, then
    polls until it is pinned. The service fetches the content from the IPFS network, so it
    must be reachable there (for example added to an IPFS node first)."""

    def __init__(self, endpoint: str, token: str, *, timeout: float = 30.0,
                 poll_interval: float = 2.0, pin_timeout: float = 600.0) -> None:
        self.base = _base(endpoint)
        if not token:
            raise PublishError("A pinning service needs an access token (--token-stdin)")
        self.token = token
        self.timeout, self.poll_interval, self.pin_timeout = timeout, poll_interval, pin_timeout
        self.where = f"the pinning service at {redact_url(self.base)}"

    def _status(self, body: str, expected: str) -> tuple[str, str]:
        try:
            data = json.loads(body)
            requestid, status = str(data["requestid"]), str(data["status"])
            reported = str(data["pin"]["cid"])
        except (ValueError, KeyError, TypeError) as exc:
            raise PublishError(f"{_cap(self.where)} sent an answer that is not a pin status; is "
                               "this a Pinning Service API endpoint?") from exc
        if reported != expected:
            raise CidMismatch(self.where, expected, reported)
        return requestid, status

    async def publish(self, path: Path, name: str = "") -> PublishResult:
        expected = await asyncio.to_thread(_local_cid, path)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.pin_timeout
        async with _Http(self.where, self.timeout) as http:
            body = await http.request("POST", f"{self.base}/pins", headers=_headers(self.token),
                                      json={"cid": expected, "name": name or path.name})
            requestid, status = self._status(body, expected)
            while status not in (PIN_DONE, PIN_FAILED):
                if loop.time() >= deadline:
                    raise PublishError(
                        f"{_cap(self.where)} is still '{status}' for {expected} after "
                        f"{self.pin_timeout:.0f} s (request {requestid}); it keeps trying, "
                        "check again later")
                await asyncio.sleep(self.poll_interval)
                body = await http.request("GET", f"{self.base}/pins/{quote(requestid)}",
                                          headers=_headers(self.token))
                requestid, status = self._status(body, expected)
        if status == PIN_FAILED:
            raise PublishError(f"{_cap(self.where)} could not pin {expected}: it must be able to "
                               "fetch the content from the IPFS network (add it to an IPFS "
                               "node first)")
        return PublishResult(expected, self.where, status)
