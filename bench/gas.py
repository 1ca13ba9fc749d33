"""Gas used by the studio contracts on a real anvil, beside a plain OpenZeppelin baseline.

    .venv/bin/python bench/gas.py            # prints JSON

Compiles the contracts, bench-only ones included (BaselineNFT, StudioCollectionDirect,
BenchToken), with the pinned solc-js into a temp dir, so it needs node and
`npm ci` in contracts/. Targets from the issue are reported beside the figures (never asserted).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3
from web3.contract import Contract

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from studio.core.chain.anvil_binary import start_anvil  # noqa: E402

URI_59 = "ipfs://" + "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55f"[:52]
# What the publisher really produces: ipfs:// + a CIDv1 (base32, sha256) = 66 characters.
URI_CIDV1 = "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
CONTRACT_URI = "ipfs://bafkreie7ohywtosou76tasm7j63yigtzxe7d5zqus4zu3j6oltvgtibeom"
ROYALTY_BPS = 750


def compile_all(out: Path) -> None:
    script = REPO / "contracts" / "scripts" / "build-artifacts.mjs"
    subprocess.run(["node", str(script), "--bench", "--out", str(out)], check=True)


class Bench:
    def __init__(self, w3: Web3, artifacts: Path) -> None:
        self.w3 = w3
        self.artifacts = artifacts
        self.accounts = w3.eth.accounts

    def artifact(self, name: str) -> dict[str, Any]:
        return json.loads((self.artifacts / f"{name}.json").read_text())

    def send(self, fn: Any, sender: str) -> Any:
        receipt = self.w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender}))
        assert receipt["status"] == 1, receipt
        return receipt

    def deploy(self, name: str, sender: str, *args: Any) -> tuple[Contract, int]:
        art = self.artifact(name)
        factory = self.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
        receipt = self.send(factory.constructor(*args), sender)
        contract = self.w3.eth.contract(address=receipt["contractAddress"], abi=art["abi"])
        return contract, receipt["gasUsed"]

    def at(self, name: str, address: str) -> Contract:
        return self.w3.eth.contract(address=address, abi=self.artifact(name)["abi"])


def recipients(n: int) -> tuple[list[str], list[int]]:
    people = sorted((Account.create().address for _ in range(n)), key=lambda a: int(a, 16))
    allocations = [1_000_000 // n] * n
    allocations[-1] += 1_000_000 - sum(allocations)
    return people, allocations


def run(bench: Bench) -> dict[str, Any]:
    creator, buyer = bench.accounts[0], bench.accounts[1]
    gas: dict[str, int] = {}
    royalty_receiver = bench.accounts[2]

    collections, gas["deploy_collection_factory"] = bench.deploy("CollectionFactory", creator)
    splits, gas["deploy_split_factory"] = bench.deploy("SplitFactory", creator)

    params = ("Studio Collection", "STUDIO", CONTRACT_URI, royalty_receiver, 500)
    receipt = bench.send(collections.functions.createCollection(b"\x00" * 32, *params), creator)
    gas["create_collection_via_factory"] = receipt["gasUsed"]
    collection = bench.at(
        "StudioCollection", collections.functions.predictCollection(creator, b"\x00" * 32).call()
    )
    _, gas["deploy_collection_directly"] = bench.deploy("StudioCollectionDirect", creator, *params)

    for n in (2, 3, 5, 20):
        people, allocations = recipients(n)
        receipt = bench.send(splits.functions.create(people, allocations), creator)
        gas[f"create_split_{n}_recipients"] = receipt["gasUsed"]
    receipt = bench.send(splits.functions.create(people, allocations), creator)
    gas["create_split_existing_20"] = receipt["gasUsed"]

    people, allocations = recipients(3)
    bench.send(splits.functions.create(people, allocations), creator)
    split_address = splits.functions.predict(people, allocations).call()
    split = bench.at("RoyaltySplitter", split_address)

    baseline, gas["deploy_baseline_nft"] = bench.deploy("BaselineNFT", creator, creator)

    def mint(key: str, uri: str, seed: str) -> None:
        content_hash = hashlib.sha256(seed.encode()).digest()
        studio_fn = collection.functions.mint(
            creator, uri, content_hash, b"\x00" * 32, split_address, ROYALTY_BPS
        )
        base_fn = baseline.functions.safeMint(creator, uri, split_address, ROYALTY_BPS)
        gas[f"{key}_studio"] = bench.send(studio_fn, creator)["gasUsed"]
        gas[f"{key}_baseline"] = bench.send(base_fn, creator)["gasUsed"]

    # The first mint also sets the holder's balance and the supply counter from zero.
    mint("mint_uri59_first_in_collection", URI_59, "a")
    mint("mint_uri59", URI_59, "b")
    mint("mint_uri66_cidv1", URI_CIDV1, "c")

    # A sale's royalty arrives, then recipients are paid out (ETH, then an ERC-20).
    tx = bench.w3.eth.send_transaction({"from": buyer, "to": split_address, "value": 10**18})
    gas["royalty_payment_to_split"] = bench.w3.eth.wait_for_transaction_receipt(tx)["gasUsed"]
    gas["release_eth_first"] = bench.send(split.functions.release(people[0]), buyer)["gasUsed"]
    gas["release_eth_next"] = bench.send(split.functions.release(people[1]), buyer)["gasUsed"]
    # The two above pay never-used addresses (25,000 of it is EIP-161 account creation); most
    # real recipients already exist, so also pay one that does.
    funded = bench.w3.eth.send_transaction({"from": buyer, "to": people[2], "value": 1})
    bench.w3.eth.wait_for_transaction_receipt(funded)
    release = split.functions.release(people[2])
    gas["release_eth_existing_account"] = bench.send(release, buyer)["gasUsed"]
    token, _ = bench.deploy("BenchToken", creator)
    bench.send(token.functions.mint(split_address, 10**18), creator)
    release_token = split.functions.release(token.address, people[0])
    gas["release_erc20_first"] = bench.send(release_token, buyer)["gasUsed"]

    targets = {
        "create_collection_via_factory < 250000": gas["create_collection_via_factory"] < 250_000,
        "mint <= baseline (all three cases)": all(
            gas[f"{key}_studio"] <= gas[f"{key}_baseline"]
            for key in ("mint_uri59_first_in_collection", "mint_uri59", "mint_uri66_cidv1")
        ),
        "create_split_3_recipients < 200000": gas["create_split_3_recipients"] < 200_000,
    }
    lengths = {"uri59": len(URI_59), "uri66_cidv1": len(URI_CIDV1)}
    return {"uri_lengths": lengths, "gas": gas, "targets_met": targets}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        compile_all(Path(tmp))
        with start_anvil() as node:
            w3 = Web3(Web3.HTTPProvider(node.url))
            report = run(Bench(w3, Path(tmp)))
            report["node"] = w3.client_version
    print(json.dumps(report, indent=2))
    return 0 if all(report["targets_met"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
