"""RPC endpoints as a user meets them: a URL that is not a JSON-RPC endpoint says so, and an
RPC URL's key never reaches a log file, settings.json or `studio chain list`.

The servers are real: Python's own http.server (which answers POST with HTTP 501), an aiohttp
server serving an HTML page, and anvil behind RpcProxy (a FAKE pass-through that accepts a
key-like path, which anvil itself refuses)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest
from aiohttp import web

from studio.core.chain.anvil_binary import find_anvil, free_port
from studio.core.chain.rpc import NotJsonRpc, test_connection
from tests.chain.mint_support import keyring_service  # noqa: F401  (fixture)
from tests.chain.rpc_proxy import RpcProxy

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECRET = "SECRETKEY123"  # short: the old key-shaped-segment rule missed it


@pytest.fixture
def plain_http_server():
    """`python -m http.server`: a real web server that answers POST with 501."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                             "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import time
        import urllib.request

        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=0.2)
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


async def test_a_plain_web_server_is_not_a_json_rpc_endpoint(plain_http_server) -> None:
    with pytest.raises(NotJsonRpc) as caught:
        await test_connection(plain_http_server + "/rpc", 1)
    message = str(caught.value)
    assert "is not a JSON-RPC endpoint" in message and "HTTP 501" in message
    assert "Cannot reach" not in message and "/rpc" not in message  # the path is redacted


async def test_an_html_page_is_not_a_json_rpc_endpoint() -> None:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", lambda r: web.Response(
        text="<html><body>Welcome</body></html>", content_type="text/html"))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(NotJsonRpc) as caught:
            await test_connection(f"http://127.0.0.1:{port}", 1)
    finally:
        await runner.cleanup()
    message = str(caught.value)
    assert "is not a JSON-RPC endpoint" in message and "not JSON" in message
    assert "line 1 column 1" not in message and "Cannot reach" not in message


@pytest.mark.skipif(find_anvil() is None, reason="anvil not installed (npm ci in contracts/)")
async def test_web3s_own_debug_logs_never_hold_the_key(anvil, tmp_path) -> None:
    """The studio's logging at DEBUG, web3 talking to a URL with a key in its path and query:
    web3 logs the URL ("Making request HTTP. URI: ...", "Successfully disconnected from: ...")
    and the file shows only scheme://host/***."""
    from studio.core.chain.profiles import sandbox_profile
    from studio.core.chain.txmanager import TransactionManager
    from studio.core.library import Library
    from studio.core.logging_setup import setup_logging
    from studio.core.paths import resolve_paths

    root = logging.getLogger()
    saved = (root.level, list(root.handlers), list(root.filters))
    log_file = setup_logging(tmp_path / "logs", verbose=True)
    try:
        async with RpcProxy(anvil.url) as base:
            url = f"{base}/v3/{SECRET}?apikey={SECRET}"
            with Library.open(resolve_paths().ensure()) as library:
                async with TransactionManager(library, sandbox_profile(), url) as tm:
                    await tm.check_chain()
                    await tm.fee_quote()
                logging.getLogger("studio.test").warning("failed at %s", url)
                try:
                    raise RuntimeError(f"boom at {url}")
                except RuntimeError:
                    logging.getLogger("studio.test").exception("with a traceback")
        for handler in root.handlers:
            handler.flush()
        text = log_file.read_text()
    finally:
        for handler in list(root.handlers):
            if getattr(handler, "_studio", False):
                root.removeHandler(handler)
                handler.close()
        root.setLevel(saved[0])
        for flt in list(root.filters):
            if flt not in saved[2]:
                root.removeFilter(flt)
    assert "web3.providers" in text and "Making request HTTP" in text  # web3's own lines
    assert "Successfully disconnected from" in text
    assert SECRET not in text
    assert "127.0.0.1" in text and "/***" in text


def test_a_short_key_never_reaches_settings_or_chain_list(paths) -> None:
    def studio(*args: str, stdin: str = ""):
        return subprocess.run([sys.executable, "-m", "studio", "chain", *args], input=stdin,
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": REPO})

    url = f"https://rpc.example.org/v3/{SECRET}"
    added = studio("add", "--name", "Keyed", "--chain-id", "11155111", stdin=url + "\n")
    assert added.returncode == 0, added.stderr
    listed = studio("list")
    as_json = studio("list", "--json")
    for out in (added.stdout, added.stderr, listed.stdout, as_json.stdout):
        assert SECRET not in out
    assert SECRET not in paths.settings_file.read_text()
    (keyed,) = [p for p in json.loads(as_json.stdout) if p["id"] == "keyed"]
    assert keyed["rpc_url"] == "https://rpc.example.org/***" and keyed["rpc_in_keyring"]
