"""Fixtures for tests against a real local chain (anvil from contracts/node_modules)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from studio.core.chain.anvil_binary import ENV_VAR, AnvilProcess, find_anvil, start_anvil
from studio.core.library import Library
from tests.chain.mint_support import ONE_ETH, add_local_profile, make_wallet


@pytest.fixture(scope="module")
def anvil() -> Iterator[AnvilProcess]:
    """A fresh anvil on a free loopback port for the module; killed afterwards."""
    binary = find_anvil()
    if binary is None:
        pytest.skip(
            f"anvil binary not found: run `npm ci` in contracts/ "
            f"(scripts/contracts-test.sh does) or set {ENV_VAR}"
        )
    node = start_anvil(binary)
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """The tiny random-weight SD pipeline, built once for every chain test that generates."""
    from studio.core.generation.demo import build_demo_pipeline

    folder = tmp_path_factory.mktemp("tiny") / "tiny-sd"
    build_demo_pipeline(folder)
    return folder


@pytest.fixture
def library(paths):
    with Library.open(paths) as lib:
        yield lib


@pytest.fixture
async def ready(anvil, paths, library):
    """A funded wallet, a profile on the test anvil and the factories deployed."""
    from studio.core.chain.deploy import ensure_factories
    from studio.core.chain.sandbox import fund_account
    from studio.core.chain.txmanager import TransactionManager

    me = make_wallet(paths)
    await fund_account(anvil.url, me.address, 10 * ONE_ETH)
    profile = add_local_profile(paths, anvil.url)
    async with TransactionManager(library, profile, anvil.url) as tm:
        await ensure_factories(tm, me, library)
    return me, profile
