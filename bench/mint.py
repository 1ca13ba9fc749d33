"""Mint benchmark on a local anvil: RPC round trips (a counting wrapper around the provider),
wall time per mint, and gas per end-to-end mint with and without a new split. Prints JSON.

    .venv/bin/python bench/mint.py [--mints 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # anvil's #0


def count_requests(w3) -> dict[str, int]:
    """Add a web3 middleware counting every JSON-RPC round trip by method."""
    from web3.middleware import Web3Middleware

    counts: dict[str, int] = {}

    class Counting(Web3Middleware):
        async def async_wrap_make_request(self, make_request):
            async def middleware(method, params):
                counts[method] = counts.get(method, 0) + 1
                return await make_request(method, params)

            return middleware

    w3.middleware_onion.add(Counting, name="count")
    return counts


async def one_mint(lib, tm, account, flow_cls, plan) -> dict:
    counts = count_requests(tm.w3)
    flow = flow_cls(lib, tm, account, poll_interval=0.05)
    start = time.perf_counter()
    rec = await flow.run(flow.create(plan).id)
    wall = time.perf_counter() - start
    tm.w3.middleware_onion.remove("count")
    gas = 0
    for tx_id in (rec.collection_tx, rec.split_tx, rec.mint_tx):
        if tx_id is not None:
            receipt = await tm.w3.eth.get_transaction_receipt(tm.store.get(tx_id).hash)
            gas += receipt["gasUsed"]
    return {"wall_s": wall, "rpc": sum(counts.values()), "gas": gas, "by_method": counts}


async def main(n: int) -> dict:
    from eth_account import Account

    from studio.core.chain.anvil_binary import start_anvil
    from studio.core.chain.deploy import ensure_factories
    from studio.core.chain.mint import MintWorkflow
    from studio.core.chain.plan import MintPlan, SplitEntry
    from studio.core.chain.profiles import sandbox_profile
    from studio.core.chain.txmanager import TransactionManager
    from studio.core.library import Library
    from studio.core.library.models import AssetOrigin

    me = Account.from_key(DEV_KEY)
    node = start_anvil()
    try:
        with tempfile.TemporaryDirectory() as tmp, \
                Library(Path(tmp) / "lib.db", Path(tmp) / "store") as lib:
            async with TransactionManager(lib, sandbox_profile(), node.url) as tm:
                await ensure_factories(tm, me, lib)
                runs = {"new_split": [], "reused_split": []}
                others: list[str] = []
                for i in range(n * 2):
                    new_split = i % 2 == 0  # odd runs reuse the split of the run before
                    if new_split:
                        others = [Account.create().address for _ in range(2)]
                    asset, _ = lib.add_bytes(os.urandom(256), suffix=".png",
                                             origin=AssetOrigin.IMPORTED,
                                             media_type="image/png", title=f"bench {i}")
                    plan = MintPlan(asset_id=asset.id, title=f"Bench {i}",
                                    new_collection=("Bench", "BENCH"),
                                    royalty_percent=Decimal("7.5"),
                                    split=(SplitEntry(me.address, Decimal(50)),
                                           SplitEntry(others[0], Decimal(30)),
                                           SplitEntry(others[1], Decimal(20))))
                    result = await one_mint(lib, tm, me, MintWorkflow, plan)
                    runs["new_split" if new_split else "reused_split"].append(result)
    finally:
        node.stop()

    def summary(rows: list[dict]) -> dict:
        return {"mints": len(rows),
                "wall_s_median": round(statistics.median(r["wall_s"] for r in rows), 3),
                "rpc_round_trips_median": statistics.median(r["rpc"] for r in rows),
                "gas_median": statistics.median(r["gas"] for r in rows),
                "rpc_by_method_first": rows[0]["by_method"]}

    return {"chain": "anvil (automine)", "collection": "existing after the first mint",
            "with_new_split": summary(runs["new_split"]),
            "with_existing_split": summary(runs["reused_split"])}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mints", type=int, default=3, help="mints of each kind")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.mints)), indent=2))
