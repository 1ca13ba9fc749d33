"""The Sandbox chain: one local ``anvil`` node per data folder, whose state survives restarts.

Whoever needs the node first starts it; every other studio process (the GUI, each CLI command)
attaches to it. ``<data dir>/sandbox/node.json`` holds the running node's pid, port and URL, and
an exclusive ``flock`` on ``node.lock`` serialises starting, attaching and stopping, so two
nodes never run on one state file (a second node, loading the first one's last dump and then
overwritten by it, lost whole mints). The node runs in a session of its own and outlives the
client that started it: a client's crash loses no block, the next client attaches to the
same node. Each client registers a file under ``clients/``; the last live client to stop
stops the node with SIGINT, on which anvil writes a complete dump.

State lives in ``anvil-state.json`` through anvil's ``--state`` (load at start, dump on exit)
plus a periodic dump, which only the one node writes. When the node itself died (killed, a
power cut), its last dump is checked before a new node loads it, and the last dump known to
load (``anvil-state.good.json``) is put back if it is unreadable.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from studio.core.chain.profiles import SANDBOX_CHAIN_ID

log = logging.getLogger(__name__)

STATE_DUMP_INTERVAL_S = 5


class SandboxError(Exception):
    """The sandbox node cannot be started or used; the message is meant for the user."""


def _alive_windows(pid: int) -> bool:
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def _alive(pid: int) -> bool:
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate it there
        return _alive_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, ValueError):  # a zombie is dead (Linux)
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    return True


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return not _alive(pid)


class Sandbox:
    """This data dir's Sandbox node, started or attached to. ``start()`` blocks until the
    node answers RPC: call it off the GUI thread (``await sandbox.astart()`` on the loop)."""

    def __init__(self, data_dir: Path, anvil: Path | None = None) -> None:
        self.dir = data_dir / "sandbox"
        self.state_file = self.dir / "anvil-state.json"
        self.good_state = self.dir / "anvil-state.good.json"
        self.node_file = self.dir / "node.json"
        self.clients_dir = self.dir / "clients"
        self._anvil = anvil
        self._node = None  # the AnvilProcess when this object started the node
        self._info: dict | None = None  # node.json of the node this client uses
        self._client: Path | None = None
        self._lock = threading.Lock()

    # -- state ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._info is not None and _alive(self._info["pid"])

    @property
    def url(self) -> str:
        if not self.running:
            raise SandboxError("The sandbox node is not running")
        assert self._info is not None
        return self._info["url"]

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """This data dir's node lock, across processes."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "node.lock", "a+") as handle:
            if sys.platform == "win32":
                import msvcrt

                msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                try:
                    yield
                finally:
                    msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
                return
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read_node(self) -> dict | None:
        try:
            info = json.loads(self.node_file.read_text())
            return info if isinstance(info.get("pid"), int) and info.get("url") else None
        except (OSError, ValueError):
            return None

    def _write_node(self, info: dict) -> None:
        tmp = self.node_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(info))
        os.replace(tmp, self.node_file)

    def _live_clients(self) -> list[Path]:
        live = []
        for entry in self.clients_dir.glob("*"):
            pid = entry.name.split(".", 1)[0]
            if pid.isdigit() and _alive(int(pid)):
                live.append(entry)
            else:  # a client that crashed: forget it
                entry.unlink(missing_ok=True)
        return live

    # -- start / attach ------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> str:
        """Attach to this data dir's node, or start it; returns its RPC URL."""
        from studio.core.chain.anvil_binary import rpc_ready

        with self._lock:
            if self.running:
                return self._info["url"]  # type: ignore[index]
            with self._exclusive():
                info = self._read_node()
                if info and _alive(info["pid"]) and rpc_ready(info["url"], timeout=2.0):
                    log.info("sandbox: attaching to the node at %s (pid %d)", info["url"],
                             info["pid"])
                elif info and _alive(info["pid"]):
                    # Alive but deaf (hung): end it, with a chance to dump, then start anew.
                    log.warning("sandbox: node pid %d does not answer; stopping it",
                                info["pid"])
                    self._signal_stop(info["pid"], timeout=10.0)
                    info = None
                else:
                    info = None
                if info is None:
                    info = self._start_node(timeout)
                self._info = info
                self._register()
            atexit.register(self.stop)
            return info["url"]

    def _start_node(self, timeout: float) -> dict:
        from studio.core.chain.anvil_binary import find_anvil, start_anvil

        binary = self._anvil or find_anvil()
        if binary is None or not Path(binary).is_file():
            raise SandboxError(
                "The sandbox needs Foundry's `anvil`, which was not found. Install it with "
                "`npm ci` in the contracts/ folder, or point STUDIO_ANVIL at the binary.")
        self._recover_state()
        args = ["--chain-id", str(SANDBOX_CHAIN_ID), "--state", str(self.state_file),
                "--state-interval", str(STATE_DUMP_INTERVAL_S)]
        try:
            self._node = start_anvil(Path(binary), args=args, timeout=timeout, detached=True)
        except (OSError, RuntimeError) as exc:
            raise SandboxError(f"The sandbox node did not start: {exc}") from exc
        if self.state_file.is_file():  # it loaded: this dump is known good
            shutil.copyfile(self.state_file, self.good_state)
        info = {"pid": self._node.process.pid, "port": self._node.port, "url": self._node.url,
                "state": str(self.state_file), "started_at": time.time()}
        self._write_node(info)
        log.info("sandbox: anvil %s at %s, pid %d (state %s)", binary, info["url"],
                 info["pid"], self.state_file)
        return info

    def _recover_state(self) -> None:
        """A node that died left its last periodic dump; put back the last good one if that
        dump cannot be read (killed in the middle of writing it)."""
        if not self.state_file.is_file():
            return
        try:
            with open(self.state_file, "rb") as f:
                json.load(f)
        except ValueError:
            if self.good_state.is_file():
                log.warning("sandbox: %s is unreadable; restoring the last good state",
                            self.state_file)
                shutil.copyfile(self.good_state, self.state_file)
            else:
                broken = self.state_file.with_suffix(".broken.json")
                os.replace(self.state_file, broken)
                log.warning("sandbox: %s is unreadable and no good copy exists; kept as %s",
                            self.state_file, broken)

    def _register(self) -> None:
        self.clients_dir.mkdir(parents=True, exist_ok=True)
        self._client = self.clients_dir / f"{os.getpid()}.{uuid.uuid4().hex[:8]}"
        self._client.touch()

    async def astart(self, timeout: float = 30.0) -> str:
        import asyncio

        return await asyncio.to_thread(self.start, timeout)

    # -- stop / detach -------------------------------------------------------------------

    def stop(self, timeout: float = 10.0) -> None:
        """Detach; the last client stops the node (SIGINT: anvil dumps its state)."""
        with self._lock:
            info, self._info = self._info, None
            if info is None:
                return
            atexit.unregister(self.stop)
            with self._exclusive():
                if self._client is not None:
                    self._client.unlink(missing_ok=True)
                    self._client = None
                others = self._live_clients()
                current = self._read_node()
                if others or current is None or current["pid"] != info["pid"]:
                    log.info("sandbox: detached (%d other client(s) keep the node)",
                             len(others))
                else:
                    self._signal_stop(info["pid"], timeout)
                    self.node_file.unlink(missing_ok=True)
            if self._node is not None:
                self._node.process.poll()  # reap our child if it has ended
                self._node = None

    def _signal_stop(self, pid: int, timeout: float) -> None:
        """SIGINT (anvil dumps its state), then SIGTERM, then SIGKILL."""
        own = self._node.process if self._node and self._node.process.pid == pid else None
        if sys.platform == "win32":  # no SIGINT for another console's process: terminate
            steps: tuple = ((signal.SIGTERM, 5.0),)
        else:
            steps = ((signal.SIGINT, timeout), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0))
        for sig, wait in steps:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            if own is not None:  # our child: wait() also reaps it
                with contextlib.suppress(subprocess.TimeoutExpired):
                    own.wait(timeout=wait)
            if (own is not None and own.poll() is not None) or _wait_gone(
                    pid, 0.1 if own is not None else wait):
                if sig != signal.SIGINT:
                    log.warning("sandbox: anvil ignored SIGINT; ended with %s", sig.name)
                log.info("sandbox: node pid %d stopped", pid)
                return

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
    import asyncio

    return asyncio.run(fund_account(url, address, amount_wei))
