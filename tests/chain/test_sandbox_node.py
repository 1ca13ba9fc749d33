"""One Sandbox node per data folder, across real processes: a client killed with SIGKILL leaves
the node running and the next client attaches to it (no second node overwriting the first's
state), the last client stops it with a full dump, and a node that died mid-dump has its last
good state put back."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from studio.core.chain.anvil_binary import find_anvil
from studio.core.chain.sandbox import Sandbox, _alive, fund_account

pytestmark = pytest.mark.skipif(find_anvil() is None,
                                reason="anvil not installed (npm ci in contracts/)")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ALICE = "0x000000000000000000000000000000000000a11c"
BOB = "0x0000000000000000000000000000000000000b0b"

# A studio client: starts (or attaches to) the data dir's node, funds ALICE, prints the node,
# then dies at once, as a crashed GUI or CLI would (SIGKILL: no atexit, no cleanup).
CLIENT = textwrap.dedent("""
    import asyncio, json, os, signal, sys
    from pathlib import Path
    from studio.core.chain.sandbox import fund_account, shared_sandbox
    box = shared_sandbox(Path(sys.argv[1]))
    url = box.start()
    asyncio.run(fund_account(url, sys.argv[2], 7 * 10**18))
    print(json.dumps({"url": url, "pid": box._info["pid"]}), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
""")


def balance(url: str, address: str) -> int:
    from web3 import Web3

    return Web3(Web3.HTTPProvider(url)).eth.get_balance(Web3.to_checksum_address(address))


def test_a_killed_client_leaves_the_node_to_the_next_one(paths) -> None:
    out = subprocess.run([sys.executable, "-c", CLIENT, str(paths.data_dir), ALICE],
                         env={**os.environ, "PYTHONPATH": REPO}, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == -signal.SIGKILL, out.stderr
    first = json.loads(out.stdout)
    box = Sandbox(paths.data_dir)
    try:
        url = box.start()
        # Attached to the very node the dead client started: one node, one state file.
        assert url == first["url"] and box._info["pid"] == first["pid"]
        assert box._node is None  # this client did not start a node
        assert balance(url, ALICE) == 7 * 10**18
        assert asyncio.run(fund_account(url, BOB, 3 * 10**18)) == 3 * 10**18
        # A second client in the same process attaches too; one stop does not end the node.
        other = Sandbox(paths.data_dir)
        assert other.start() == url
        other.stop()
        assert balance(url, BOB) == 3 * 10**18
    finally:
        box.stop()  # the last live client: the node dumps its state and ends
    assert not (paths.data_dir / "sandbox" / "node.json").exists()
    assert not _alive(first["pid"]), "the node outlived its last client"

    again = Sandbox(paths.data_dir)
    try:
        url = again.start()
        assert url != first["url"] or again._info["pid"] != first["pid"]  # a new node
        assert balance(url, ALICE) == 7 * 10**18 and balance(url, BOB) == 3 * 10**18
    finally:
        again.stop()


def test_a_dead_nodes_broken_dump_is_recovered(paths) -> None:
    box = Sandbox(paths.data_dir)
    url = box.start()
    asyncio.run(fund_account(url, ALICE, 5 * 10**18))
    box.stop()  # a full dump with ALICE's balance
    box2 = Sandbox(paths.data_dir)
    url = box2.start()  # loads it: now the known-good copy
    pid = box2._info["pid"]
    os.kill(pid, signal.SIGKILL)  # the node itself dies ...
    box2._node.process.wait(10)
    text = box2.state_file.read_text()
    box2.state_file.write_text(text[: len(text) // 2])  # ... in the middle of a dump
    box2._info = None  # this client notices nothing until it asks again

    box3 = Sandbox(paths.data_dir)
    try:
        url = box3.start()
        assert box3._info["pid"] != pid
        assert balance(url, ALICE) == 5 * 10**18  # the last good state, not an empty chain
    finally:
        box3.stop()
        box2.stop()
