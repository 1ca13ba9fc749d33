"""The Sandbox chain: a local ``anvil`` node whose state survives restarts.

State is kept in ``<data dir>/sandbox/anvil-state.json`` through anvil's ``--state`` (load at
start, dump on exit) plus a periodic dump, so a crash loses at most a few seconds. anvil only
writes a complete dump (blocks and receipts included) on SIGINT, so stopping sends SIGINT
first, then terminates, then kills.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import signal
import subprocess
import sys
import threading
from pathlib import Path

from studio.core.chain.profiles import SANDBOX_CHAIN_ID

log = logging.getLogger(__name__)

STATE_DUMP_INTERVAL_S = 5


class SandboxError(Exception):
    """The sandbox node cannot be started or used; the message is meant for the user."""


class Sandbox:
    """One anvil process for this data dir. ``start()`` blocks until the node answers RPC:
    call it off the GUI thread (``await sandbox.astart()`` on the qasync loop)."""

    def __init__(self, data_dir: Path, anvil: Path | None = None) -> None:
        self.dir = data_dir / "sandbox"
        self.state_file = self.dir / "anvil-state.json"
        self._anvil = anvil
        self._node = None  # AnvilProcess while running
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._node is not None and self._node.process.poll() is None

    @property
    def url(self) -> str:
        if not self.running:
            raise SandboxError("The sandbox node is not running")
        return self._node.url

    def start(self, timeout: float = 30.0) -> str:
        """Start anvil if it is not running; returns its RPC URL."""
        from studio.core.chain.anvil_binary import find_anvil, start_anvil

        with self._lock:
            if self.running:
                return self._node.url
            binary = self._anvil or find_anvil()
            if binary is None or not Path(binary).is_file():
                raise SandboxError(
                    "The sandbox needs Foundry's `anvil`, which was not found. Install it with "
                    "`npm ci` in the contracts/ folder, or point STUDIO_ANVIL at the binary.")
            self.dir.mkdir(parents=True, exist_ok=True)
            args = ["--chain-id", str(SANDBOX_CHAIN_ID), "--state", str(self.state_file),
                    "--state-interval", str(STATE_DUMP_INTERVAL_S)]
            try:
                self._node = start_anvil(Path(binary), args=args, timeout=timeout)
            except (OSError, RuntimeError) as exc:
                raise SandboxError(f"The sandbox node did not start: {exc}") from exc
            atexit.register(self.stop)
            log.info("sandbox: anvil %s at %s (state %s)", binary, self._node.url,
                     self.state_file)
            return self._node.url

    async def astart(self, timeout: float = 30.0) -> str:
        return await asyncio.to_thread(self.start, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGINT (anvil dumps its state), then terminate, then kill."""
        with self._lock:
            node, self._node = self._node, None
            if node is None:
                return
            atexit.unregister(self.stop)
            proc: subprocess.Popen = node.process
            if proc.poll() is None and sys.platform != "win32":
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    log.warning("sandbox: anvil ignored SIGINT; terminating it")
            node.stop(timeout=5.0)  # terminate, then kill
            log.info("sandbox: stopped (exit code %s)", proc.returncode)

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def fund_account(url: str, address: str, amount_wei: int) -> int:
    """Set ``address``'s balance on the sandbox (anvil only). Returns the new balance."""
    from web3 import AsyncHTTPProvider, AsyncWeb3

    from studio.core.chain.rpc import ChainError, connection_error

    if amount_wei < 0:
        raise ChainError("The amount to fund must not be negative")
    w3 = AsyncWeb3(AsyncHTTPProvider(url, request_kwargs={"timeout": 10}))
    try:
        if not AsyncWeb3.is_address(address):
            raise ChainError(f"{address!r} is not an Ethereum address")
        checksum = AsyncWeb3.to_checksum_address(address)
        try:
            chain_id = await w3.eth.chain_id
            client = await w3.client_version
        except Exception as exc:
            raise connection_error(url, exc) from exc
        if chain_id != SANDBOX_CHAIN_ID or not client.lower().startswith("anvil"):
            raise ChainError("Funding an account works only on the Sandbox chain, not on "
                             f"chain {chain_id} ({client})")
        await w3.provider.make_request("anvil_setBalance", [checksum, hex(amount_wei)])
        return int(await w3.eth.get_balance(checksum))
    finally:
        await w3.provider.disconnect()


SANDBOX_FUNDING_WEI = 100 * 10**18


_SANDBOXES: dict[str, Sandbox] = {}


def shared_sandbox(data_dir: Path) -> Sandbox:
    """One Sandbox per data dir for this process (the window and its dialogs share it)."""
    key = str(data_dir)
    if key not in _SANDBOXES:
        _SANDBOXES[key] = Sandbox(data_dir)
    return _SANDBOXES[key]


def stop_shared_sandboxes() -> None:
    for box in list(_SANDBOXES.values()):
        box.stop()


def fund_in_sandbox(data_dir: Path, address: str,
                    amount_wei: int = SANDBOX_FUNDING_WEI) -> int:
    """Start this data dir's Sandbox if needed and give ``address`` ``amount_wei`` of test
    ETH; returns the new balance. Blocking: call it off the GUI thread."""
    url = shared_sandbox(data_dir).start()
    return asyncio.run(fund_account(url, address, amount_wei))
