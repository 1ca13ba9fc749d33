"""Shared pieces of the mint tests (tests/chain/test_mint_*.py): a real wallet in the real OS
keyring, a chain profile pointing at the test's anvil, and a small RPC helper."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from studio.core.chain.plan import MintPlan, SplitEntry
from studio.core.library.models import AssetOrigin
from studio.core.settings import SettingsStore

ONE_ETH = 10**18


@pytest.fixture(autouse=True)
def keyring_service(monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh keyring service name per test: nothing touches a user's real entries."""
    name = f"provenance-studio-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("STUDIO_KEYRING_SERVICE", name)
    return name


def require_keyring() -> None:
    import keyring

    from studio.core.wallet.vault import backend_problem

    problem = backend_problem(keyring.get_keyring())
    if problem:
        pytest.skip(f"no usable OS keyring ({problem}); run through scripts/with-keyring.sh")


def make_wallet(paths, label: str = "creator"):
    """A new account in the real keyring (the wallet service); returns its LocalAccount."""
    from studio.core.wallet.service import WalletService

    require_keyring()
    svc = WalletService(paths)
    acct = svc.create_account(label)
    svc.set_active(acct.address)
    return svc.local_account(acct.address)


def add_local_profile(paths, url: str, name: str = "Local anvil", chain_id: int = 31337):
    from studio.core.chain.profiles import ChainProfiles

    store = SettingsStore(paths.settings_file)
    settings = store.load().settings
    profile = ChainProfiles(settings).add(name=name, rpc_url=url, chain_id=chain_id)
    store.save(settings)
    return profile


def add_asset(library, data: bytes, title: str = "a work"):
    asset, _ = library.add_bytes(data, suffix=".png", origin=AssetOrigin.IMPORTED,
                                 media_type="image/png", title=title,
                                 original_name=f"{title}.png")
    return asset


def three_way(me: str, a: str, b: str, *, asset_id: int, royalty: str = "7.5",
              collection=("Studio Works", "WORK")) -> MintPlan:
    return MintPlan(asset_id=asset_id, title="Dawn", description="A test work",
                    new_collection=collection, royalty_percent=Decimal(royalty),
                    split=(SplitEntry(me, Decimal("50"), "me"),
                           SplitEntry(a, Decimal("30"), "collaborator"),
                           SplitEntry(b, Decimal("20"), "studio")))


async def rpc(w3, method: str, *params: Any) -> Any:
    response = await w3.provider.make_request(method, list(params))
    assert "error" not in response, response
    return response["result"]


def mint_as_stranger(url: str, factory: str, *, account: int, name: str, token_uri: str,
                     content_hash: bytes, soft_binding: bytes = b"") -> tuple[str, int]:
    """Another anvil dev account creates its own collection and mints into it straight
    through the contracts (not the studio): a copier or a forger. Returns (collection, id)."""
    import os

    from web3 import Web3

    from studio.core.chain.artifacts import load_artifact

    w3 = Web3(Web3.HTTPProvider(url))
    who = w3.eth.accounts[account]
    f = w3.eth.contract(address=factory, abi=load_artifact("CollectionFactory")["abi"])
    salt = os.urandom(32)
    address = f.functions.predictCollection(who, salt).call()
    w3.eth.wait_for_transaction_receipt(f.functions.createCollection(
        salt, name, name[:3].upper(), "", "0x" + "00" * 20, 0).transact({"from": who}))
    c = w3.eth.contract(address=address, abi=load_artifact("StudioCollection")["abi"])
    w3.eth.wait_for_transaction_receipt(c.functions.mint(
        who, token_uri, content_hash, soft_binding.ljust(32, b"\0"), who, 0,
    ).transact({"from": who}))
    return address, int(c.functions.tokenIdOf(content_hash).call())
