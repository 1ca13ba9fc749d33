"""Find and run ``anvil``, Foundry's local dev node (npm package ``@foundry-rs/anvil``).

The npm package ships the native binary inside a per-platform package
(``@foundry-rs/anvil-<os>-<arch>/bin/anvil``); the wrapper script in ``.bin`` needs node, so
we go to the binary directly.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ENV_VAR = "STUDIO_ANVIL"
_REPO = Path(__file__).resolve().parents[3]
_FOUNDRY_MODULES = _REPO / "contracts" / "node_modules" / "@foundry-rs"
_OS = {"linux": "linux", "darwin": "darwin", "win32": "win32"}
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _npm_candidates() -> list[Path]:
    exe = "anvil.exe" if sys.platform == "win32" else "anvil"
    found = []
    os_name, arch = _OS.get(sys.platform), _ARCH.get(platform.machine().lower())
    if os_name and arch:
        found.append(_FOUNDRY_MODULES / f"anvil-{os_name}-{arch}" / "bin" / exe)
    # Where the package's postinstall puts a binary it had to download itself.
    found.append(_FOUNDRY_MODULES / "anvil" / exe)
    return found


def find_anvil() -> Path | None:
    """The anvil binary: $STUDIO_ANVIL, else the repo's contracts/node_modules, else PATH."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        path = Path(configured).expanduser()
        if _is_executable(path):
            return path
        log.warning("%s=%s is not an executable file; looking elsewhere", ENV_VAR, configured)
    for candidate in _npm_candidates():
        if _is_executable(candidate):
            return candidate
    on_path = shutil.which("anvil")
    return Path(on_path) if on_path else None


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the caller retries if it is taken in between)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def rpc_ready(url: str, timeout: float = 1.0) -> bool:
    """Whether a JSON-RPC node answers ``eth_chainId`` at ``url``."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return "result" in json.loads(response.read())
    except (OSError, urllib.error.URLError, ValueError):
        return False


@dataclass
class AnvilProcess:
    """A running anvil; ``stop()`` (or ``with``) ends it."""

    process: subprocess.Popen[bytes]
    url: str
    port: int

    def stop(self, timeout: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> AnvilProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_anvil(
    binary: Path | None = None,
    *,
    args: Sequence[str] = (),
    host: str = "127.0.0.1",
    timeout: float = 30.0,
    attempts: int = 3,
    detached: bool = False,
) -> AnvilProcess:
    """Start anvil on a free loopback port and wait until it answers RPC. ``detached``: in a
    session of its own, so a terminal's Ctrl+C or the starter's death does not end it (the
    Sandbox node outlives the client that happened to start it)."""
    binary = binary or find_anvil()
    if binary is None:
        raise FileNotFoundError(f"anvil not found (set {ENV_VAR} or run npm ci in contracts/)")
    last_error = "no attempt made"
    for _ in range(attempts):
        port = free_port(host)
        # Never PIPE: an unread pipe would stall the node. A temp file keeps the error text.
        with tempfile.TemporaryFile() as errors:
            process = subprocess.Popen(
                [str(binary), "--host", host, "--port", str(port), "--quiet", *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                start_new_session=detached,
            )
            node = AnvilProcess(process, f"http://{host}:{port}", port)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and process.poll() is None:
                if rpc_ready(node.url):
                    return node
                time.sleep(0.05)
            node.stop()
            errors.seek(0)
            detail = errors.read().decode(errors="replace").strip()[-500:]
            last_error = f"exit code {process.returncode}: {detail or 'timed out'}"
    raise RuntimeError(f"anvil did not start on {host} ({last_error})")
