"""Talking to an RPC endpoint: connecting, the chain-id check, and the connection test.

Errors carry the redacted URL only: an RPC URL may hold an API key.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from studio.core.chain.profiles import redact_url

if TYPE_CHECKING:
    from web3 import AsyncWeb3

DEFAULT_TIMEOUT_S = 15.0


class ChainError(Exception):
    """A chain operation failed; the message is meant for the user."""


class EndpointUnavailable(ChainError):
    """The RPC endpoint could not be reached (retry later; nothing was lost)."""


class NotJsonRpc(ChainError):
    """Something answers at the URL, but not JSON-RPC (a web page, an HTTP error status)."""


class ChainIdMismatch(ChainError):
    def __init__(self, expected: int, actual: int, url: str) -> None:
        super().__init__(
            f"The endpoint {redact_url(url)} is on chain {actual}, but this profile expects "
            f"chain {expected}. Nothing was sent; check the profile's RPC URL.")
        self.expected = expected
        self.actual = actual


def connection_error(url: str, exc: BaseException) -> EndpointUnavailable:
    reason = type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        reason = exc.strerror
    elif str(exc):
        # aiohttp puts the host (never the query) in its messages; redact anyway.
        reason = str(exc).replace(url, redact_url(url))[:200]
    return EndpointUnavailable(f"Cannot reach the RPC endpoint {redact_url(url)}: {reason}")


# Statuses that say "try again" (overload, a gateway without its node) rather than "wrong URL".
_TRANSIENT_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})


def not_json_rpc(url: str, exc: BaseException) -> NotJsonRpc | None:
    """The error for an HTTP server that is not a JSON-RPC endpoint, or None. An HTTP status
    (501 from a plain web server, 404, 403) or a body that is not JSON (an HTML page) means
    the server was reached: saying "Cannot reach" would send the user the wrong way."""
    import json

    import aiohttp

    where = redact_url(url)
    if isinstance(exc, aiohttp.ClientResponseError) and exc.status in _TRANSIENT_HTTP:
        return None  # a gateway whose node is down, or rate limiting: retry later
    if isinstance(exc, aiohttp.ClientResponseError):
        return NotJsonRpc(f"{where} is not a JSON-RPC endpoint: it answered HTTP {exc.status}"
                          f"{f' ({exc.message})' if exc.message else ''}. Check the RPC URL.")
    if isinstance(exc, json.JSONDecodeError):
        return NotJsonRpc(f"{where} is not a JSON-RPC endpoint: its answer is not JSON "
                          "(a web page?). Check the RPC URL.")
    return None


def is_connection_failure(exc: BaseException) -> bool:
    import aiohttp

    return isinstance(exc, aiohttp.ClientError | OSError | TimeoutError)


def endpoint_error(url: str, exc: BaseException) -> ChainError | None:
    """What an RPC transport failure means for the user, or None for other errors."""
    wrong = not_json_rpc(url, exc)
    if wrong is not None:
        return wrong
    if is_connection_failure(exc):
        return connection_error(url, exc)
    return None


def connect(url: str, timeout: float = DEFAULT_TIMEOUT_S) -> AsyncWeb3:
    from web3 import AsyncHTTPProvider, AsyncWeb3

    w3 = AsyncWeb3(AsyncHTTPProvider(url, request_kwargs={"timeout": timeout}))
    # web3's validation middleware asks eth_chainId twice for every eth_call, estimateGas
    # and send (23 of a mint's 51 requests). Transactions here are signed with the profile's
    # chain id, and the TransactionManager checks the endpoint's chain id itself before
    # every broadcast, so the middleware only repeated that check.
    w3.middleware_onion.remove("validation")
    return w3


async def fetch_chain_id(w3: AsyncWeb3, url: str) -> int:
    try:
        return int(await w3.eth.chain_id)
    except Exception as exc:
        if (err := endpoint_error(url, exc)) is not None:
            raise err from exc
        raise ChainError(f"{redact_url(url)} did not answer eth_chainId: {exc}") from exc


async def check_chain_id(w3: AsyncWeb3, expected: int, url: str) -> int:
    """Refuse (ChainIdMismatch) unless the endpoint is on ``expected``."""
    actual = await fetch_chain_id(w3, url)
    if actual != expected:
        raise ChainIdMismatch(expected, actual, url)
    return actual


@dataclass(frozen=True)
class ConnectionReport:
    url: str  # redacted
    chain_id: int
    expected_chain_id: int
    block_number: int
    latency_ms: float  # one eth_blockNumber round trip
    client: str

    @property
    def matches(self) -> bool:
        return self.chain_id == self.expected_chain_id


async def test_connection(url: str, expected_chain_id: int,
                          timeout: float = DEFAULT_TIMEOUT_S) -> ConnectionReport:
    """Chain id, latest block and round-trip latency of ``url``."""
    w3 = connect(url, timeout)
    try:
        chain_id = await fetch_chain_id(w3, url)
        try:
            start = time.perf_counter()
            block = int(await w3.eth.block_number)
            latency = (time.perf_counter() - start) * 1000
            client = str(await w3.client_version)
        except Exception as exc:
            if (err := endpoint_error(url, exc)) is not None:
                raise err from exc
            raise ChainError(f"{redact_url(url)} answered badly: {exc}") from exc
        return ConnectionReport(redact_url(url), chain_id, expected_chain_id, block,
                                round(latency, 1), client)
    finally:
        await w3.provider.disconnect()


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
