"""``studio chain list|add|test|use|remove|txs``: chain profiles and transactions headless."""

from __future__ import annotations

import argparse
import asyncio
import json


def register(sub: argparse._SubParsersAction) -> None:
    from studio.core.chain.profiles import PRESETS

    p = sub.add_parser("chain", help="chain profiles (Sandbox, public chains, your own)")
    chain_sub = p.add_subparsers(dest="chain_command", metavar="ACTION", required=True)

    ls = chain_sub.add_parser("list", help="list profiles; * marks the active one")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=_list)

    add = chain_sub.add_parser(
        "add", help="add a profile (RPC URLs with an API key go to the OS keyring)")
    add.add_argument("--preset", choices=[x.key for x in PRESETS],
                     help="fill chain id, currency and explorer for a known chain")
    add.add_argument("--name", help="display name (default: the preset's)")
    add.add_argument("--rpc-url", metavar="URL",
                     help="only for a URL with nothing after the host (e.g. a local node); "
                     "otherwise leave it out and paste the URL at the prompt or pipe it on "
                     "stdin: a key in the command line lands in shell history and the "
                     "process list")
    add.add_argument("--chain-id", type=int, help="expected chain id (required without preset)")
    add.add_argument("--confirmations", type=int, help="blocks to wait before final")
    add.add_argument("--explorer", default="", help="block explorer base URL")
    add.add_argument("--currency", default="ETH", help="native currency symbol")
    add.add_argument("--use", action="store_true", help="make it the active profile")
    add.set_defaults(func=_add)

    test = chain_sub.add_parser("test", help="connect: chain id, latest block, latency")
    test.add_argument("profile", nargs="?", help="profile id (default: the active one)")
    test.add_argument("--json", action="store_true", help="machine-readable output")
    test.set_defaults(func=_test)

    use = chain_sub.add_parser("use", help="make a profile the active one")
    use.add_argument("profile", help="profile id")
    use.set_defaults(func=_use)

    rm = chain_sub.add_parser("remove", help="delete a profile (and its keyring entry)")
    rm.add_argument("profile", help="profile id")
    rm.set_defaults(func=_remove)

    txs = chain_sub.add_parser("txs", help="list recorded transactions, newest first")
    txs.add_argument("--json", action="store_true", help="machine-readable output")
    txs.set_defaults(func=_txs)


def _profiles(ctx):
    studio = ctx.studio  # the composition root: settings as they are on disk now
    return studio.settings, studio.profiles


def _fail(exc: Exception):
    from studio.cli import CliError

    return CliError(str(exc))


def _list(args: argparse.Namespace, ctx) -> int:
    from dataclasses import asdict

    _, profiles = _profiles(ctx)
    active = profiles.active().id
    rows = profiles.all()
    if args.json:
        print(json.dumps([{**asdict(p), "active": p.id == active} for p in rows], indent=2))
        return 0
    for p in rows:
        url = p.rpc_url or "(local anvil, started on demand)"
        secret = " [key in keyring]" if p.rpc_in_keyring else ""
        print(f"{'*' if p.id == active else ' '} {p.id:<16} {p.name:<16} chain {p.chain_id:<9} "
              f"{p.confirmations} conf  {url}{secret}")
    return 0


def _read_rpc_url(args) -> str:
    """The RPC URL from --rpc-url (no secret allowed there), a hidden prompt or stdin."""
    import getpass
    import sys

    from studio.core.chain.profiles import ProfileError
    from studio.core.redact import redact_url, url_has_secret

    if args.rpc_url is not None:
        if url_has_secret(args.rpc_url):
            raise ProfileError(
                f"{redact_url(args.rpc_url)}: an RPC URL with anything after the host (an API "
                "key) is never taken from the command line, where shell history and the "
                "process list keep it. Leave out --rpc-url and paste the URL at the prompt, "
                "or pipe it: `studio chain add ... < url.txt`.")
        return args.rpc_url
    tty = sys.stdin.isatty()
    url = getpass.getpass("RPC URL (not shown): ") if tty else sys.stdin.readline()
    if not url.strip():
        raise ProfileError("No RPC URL given: paste it at the prompt or pipe it on stdin")
    return url.strip()


def _add(args: argparse.Namespace, ctx) -> int:
    from studio.core.chain.profiles import ProfileError

    settings, profiles = _profiles(ctx)
    try:
        args.rpc_url = _read_rpc_url(args)
        if args.preset:
            if args.chain_id is not None:
                from studio.core.chain.profiles import preset

                if args.chain_id != preset(args.preset).chain_id:
                    raise ProfileError(f"--chain-id {args.chain_id} contradicts the "
                                       f"{args.preset} preset")
            profile = profiles.add_preset(args.preset, args.rpc_url, name=args.name or "",
                                          confirmations=args.confirmations)
        else:
            if args.chain_id is None or not args.name:
                raise ProfileError("Give --name and --chain-id (or --preset)")
            profile = profiles.add(name=args.name, rpc_url=args.rpc_url,
                                   chain_id=args.chain_id,
                                   confirmations=args.confirmations or 1,
                                   explorer_url=args.explorer, currency=args.currency)
        if args.use:
            profiles.use(profile.id)
    except ProfileError as exc:
        raise _fail(exc) from exc
    ctx.settings.save(settings)
    where = " (full URL kept in the OS keyring)" if profile.rpc_in_keyring else ""
    print(f"added {profile.id}: {profile.name}, chain {profile.chain_id}, "
          f"{profile.rpc_url}{where}")
    return 0


def _use(args: argparse.Namespace, ctx) -> int:
    from studio.core.chain.profiles import ProfileError

    settings, profiles = _profiles(ctx)
    try:
        profile = profiles.use(args.profile)
    except ProfileError as exc:
        raise _fail(exc) from exc
    ctx.settings.save(settings)
    print(f"active chain profile: {profile.id} ({profile.name}, chain {profile.chain_id})")
    return 0


def _remove(args: argparse.Namespace, ctx) -> int:
    from studio.core.chain.profiles import ProfileError

    settings, profiles = _profiles(ctx)
    try:
        profiles.remove(args.profile)
    except ProfileError as exc:
        raise _fail(exc) from exc
    ctx.settings.save(settings)
    print(f"removed {args.profile}")
    return 0


def _test(args: argparse.Namespace, ctx) -> int:
    from studio.core.chain.profiles import ProfileError
    from studio.core.chain.rpc import ChainError
    from studio.core.chain.sandbox import SandboxError

    studio = ctx.studio
    try:
        profile = studio.profile(args.profile)
        report = asyncio.run(studio.test_chain(profile))
    except (ProfileError, ChainError, SandboxError) as exc:
        raise _fail(exc) from exc
    finally:
        studio.stop_sandbox()
    if args.json:
        print(json.dumps({"profile": profile.id, "url": report.url,
                          "chain_id": report.chain_id, "expected_chain_id": profile.chain_id,
                          "block": report.block_number, "latency_ms": report.latency_ms,
                          "client": report.client, "matches": report.matches}, indent=2))
    else:
        print(f"{profile.name}: {report.url}\n  chain id  {report.chain_id}\n"
              f"  block     {report.block_number}\n  latency   {report.latency_ms} ms\n"
              f"  client    {report.client}")
    if not report.matches:
        from studio.cli import CliError

        raise CliError(f"chain id mismatch: the endpoint is on chain {report.chain_id}, the "
                       f"profile {profile.id!r} expects {profile.chain_id}. Nothing will be "
                       "sent through it until this is fixed.")
    return 0


def _txs(args: argparse.Namespace, ctx) -> int:
    import time

    from studio.core.chain.txstore import TxStore

    with ctx.library() as lib:
        records = TxStore(lib).list()
    if args.json:
        print(json.dumps([r.to_json() for r in records], indent=2))
        return 0
    if not records:
        print("No transactions yet.")
        return 0
    for r in records:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created_at))
        print(f"{r.id:>5}  {when}  {r.profile:<12} {r.status.value:<10} nonce {r.nonce:<4} "
              f"{r.hash[:18]}…  {r.purpose}")
    return 0
