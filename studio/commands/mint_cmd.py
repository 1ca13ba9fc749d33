"""``studio mint``, ``studio royalties list|release`` and ``studio chain fund``.

Every handler imports web3 and friends lazily; chain I/O runs in one ``asyncio.run``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from contextlib import asynccontextmanager
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    m = sub.add_parser(
        "mint", help="mint a file or library asset as an NFT with a royalty split",
        description="Publishes the metadata (CIDs computed locally), creates the collection "
        "and the split if needed, and mints. An interrupted mint resumes when run again.")
    m.add_argument("target", metavar="FILE_OR_ASSET", nargs="?",
                   help="a library asset id or a file (imported first)")
    m.add_argument("--title", help="the token's title (default: the asset's)")
    m.add_argument("--description", default="", help="the token's description")
    grp = m.add_mutually_exclusive_group()
    grp.add_argument("--collection", metavar="ADDR", help="an existing collection you own")
    grp.add_argument("--new-collection", metavar="NAME:SYMBOL",
                     help="create (or reuse) your collection with this name and symbol")
    m.add_argument("--royalty", default="0", metavar="PERCENT",
                   help="royalty on resales, in percent (default 0; at most 10 unless "
                   "--allow-high-royalty)")
    m.add_argument("--allow-high-royalty", action="store_true",
                   help="deliberately allow a royalty above 10 %%")
    m.add_argument("--split", action="append", default=[], metavar="ADDR=PERCENT[:LABEL]",
                   help="a royalty recipient (repeat); your account gets what is left")
    m.add_argument("--chain", metavar="PROFILE", help="chain profile (default: the active one)")
    m.add_argument("--account", help="wallet account address or label (default: active)")
    m.add_argument("--resume", action="store_true",
                   help="resume every unfinished mint on the chain instead")
    m.add_argument("--max-fee", metavar="AMOUNT",
                   help="the most all its transactions may cost together, in the chain's "
                   "currency (e.g. 0.01); accepts the fees without asking when they fit")
    m.add_argument("--yes", action="store_true",
                   help="accept the fees shown without asking")
    m.add_argument("--soft-binding", metavar="HEX",
                   help="a watermark's soft-binding id (up to 32 bytes, hex) to record "
                   "on-chain with the token (default: the one the file's credentials declare; "
                   "a different one is refused)")
    m.add_argument("--json", action="store_true", help="machine-readable result")
    m.set_defaults(func=_mint)

    r = sub.add_parser("royalties", help="royalty splits: balances and releasing payments")
    rsub = r.add_subparsers(dest="royalties_command", metavar="ACTION", required=True)
    ls = rsub.add_parser("list", help="each split's balance and what each recipient is due")
    ls.add_argument("--chain", metavar="PROFILE")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_royalties_list)
    rel = rsub.add_parser("release", help="pay recipients what is due (one tx each)")
    rel.add_argument("split", nargs="?", help="the split address (default: every split)")
    rel.add_argument("--to", action="append", metavar="ADDR", help="only these recipients")
    rel.add_argument("--chain", metavar="PROFILE")
    rel.add_argument("--account", help="who pays the gas (default: the active account)")
    rel.set_defaults(func=_royalties_release)

    # `studio chain fund` joins the chain command (chain_cmd registers `chain` first).
    chain = sub.choices.get("chain")
    actions = [a for a in getattr(chain, "_actions", [])
               if isinstance(a, argparse._SubParsersAction)]
    if actions:
        fund = actions[0].add_parser("fund", help="give an account test ETH (Sandbox only)")
        fund.add_argument("address", nargs="?", help="default: the active wallet account")
        fund.add_argument("--eth", default="10", help="the balance to set, in ETH (default 10)")
        fund.add_argument("--chain", metavar="PROFILE", help="default: the active profile")
        fund.set_defaults(func=_fund)


def _fail(message: str):
    from studio.cli import CliError

    return CliError(message)


def _profile(ctx, name: str | None):
    studio = ctx.studio
    return studio.settings, studio.profile(name)


def _account(ctx, settings, who: str | None):
    if not who and ctx.studio.wallet.active_account() is None:
        raise _fail("No wallet account: create one with `studio wallet create`")
    return ctx.studio.local_account(who)


@asynccontextmanager
async def _connected(ctx, library, settings, profile):
    """A chain session of the composition root (its library is ``library``)."""
    try:
        async with ctx.studio.chain_session(profile, account=None) as session:
            yield session.tm
    finally:
        ctx.studio.stop_sandbox()


def _errors():
    from studio.core.chain.profiles import ProfileError
    from studio.core.chain.rpc import ChainError
    from studio.core.chain.sandbox import SandboxError
    from studio.core.wallet.errors import WalletError

    return (ProfileError, ChainError, SandboxError, WalletError)


def _resolve_asset(library, target: str):
    from studio.core.library.models import AssetOrigin

    if target.isdigit() and not Path(target).exists():
        asset = library.get(int(target))
        if asset is None:
            raise _fail(f"No asset #{target} in the library (`studio library list` shows them)")
        return asset
    path = Path(target)
    if not path.is_file():
        raise _fail(f"{target} is neither a library asset id nor a file")
    from studio.core.provenance.formats import sniff_file

    media_type = sniff_file(path) or "application/octet-stream"
    asset, new = library.add_file(path, origin=AssetOrigin.IMPORTED, media_type=media_type,
                                  title=path.stem)
    if new:
        print(f"imported {path} as asset #{asset.id}", file=sys.stderr)
    return asset


def _plan(args, asset, me: str):
    from decimal import Decimal

    from studio.core.chain.plan import (
        MintError,
        MintPlan,
        SplitEntry,
        parse_percent,
        parse_split_arg,
    )

    others = [parse_split_arg(s) for s in args.split]
    rest = Decimal(100) - sum((e.percent for e in others), Decimal(0))
    if rest < 0:
        raise MintError(f"The --split shares add up to {100 - rest} %, more than 100 %")
    split = ([SplitEntry(me, rest, "me")] if rest > 0 else []) + others
    new = None
    if args.new_collection:
        name, sep, symbol = args.new_collection.rpartition(":")
        if not sep:
            raise MintError("--new-collection takes NAME:SYMBOL, e.g. 'My Works:WORK'")
        new = (name, symbol)
    elif not args.collection:
        new = ("Provenance Studio", "STUDIO")  # the creator's default collection
    binding = None
    if args.soft_binding:
        try:
            binding = bytes.fromhex(args.soft_binding.removeprefix("0x"))
        except ValueError as exc:
            raise MintError(f"--soft-binding {args.soft_binding!r} is not hex") from exc
    return MintPlan(asset_id=asset.id, title=args.title or asset.title or asset.original_name,
                    description=args.description, collection=args.collection,
                    new_collection=new, royalty_percent=parse_percent(args.royalty, "royalty"),
                    allow_high_royalty=args.allow_high_royalty, split=tuple(split),
                    soft_binding_id=binding)


def _max_fee_wei(args) -> int | None:
    from decimal import Decimal, InvalidOperation

    if args.max_fee is None:
        return None
    try:
        amount = Decimal(args.max_fee)
    except InvalidOperation as exc:
        raise _fail(f"--max-fee {args.max_fee!r} is not a number") from exc
    if not amount.is_finite() or amount <= 0:
        raise _fail("--max-fee must be a positive amount")
    return int(amount * 10**18)


def _confirm(args, fee_plan, max_fee_wei: int | None):
    """Print the plan (stderr) and return the FeeGuard the user accepted, or raise."""
    from studio.core.chain.fees import ether

    print("\n".join(fee_plan.lines()), file=sys.stderr, flush=True)
    if max_fee_wei is not None:
        if fee_plan.max_total_wei > max_fee_wei:
            raise _fail(f"The fees could reach {ether(fee_plan.max_total_wei)} "
                        f"{fee_plan.currency}, above --max-fee {args.max_fee}. Nothing was "
                        "sent.")
        return fee_plan.guard(max_fee_wei)
    if args.yes:
        return fee_plan.guard()
    try:
        answer = input(f"Send {len(fee_plan.txs)} transaction(s) for at most "
                       f"{ether(fee_plan.max_total_wei)} {fee_plan.currency}? [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise _fail("Not confirmed: nothing was sent. (Pass --yes or --max-fee AMOUNT to "
                    "confirm without a prompt.)")
    return fee_plan.guard()


def _mint(args: argparse.Namespace, ctx) -> int:

    if not args.target and not args.resume:
        raise _fail("give FILE_OR_ASSET to mint, or --resume")
    args.max_fee_wei = _max_fee_wei(args)
    try:
        settings, profile = _profile(ctx, args.chain)
        account = _account(ctx, settings, args.account)
        with ctx.library() as library:
            results = asyncio.run(_mint_async(args, ctx, library, settings, profile, account))
    except _errors() as exc:
        raise _fail(str(exc)) from exc
    if args.json:
        print(json.dumps([r.to_json() for r in results] if args.resume
                         else results[0].to_json(), indent=2))
        return 0
    for rec in results:
        print(f"minted: token {rec.token_id}\n  collection {rec.collection}\n"
              f"  token URI  {rec.token_uri}\n  royalty    {rec.royalty_bps / 100:g}% to "
              f"{rec.royalty_receiver or '(none)'}\n  chain      {profile.name}")
        if rec.soft_binding_id:
            print(f"  watermark  {rec.soft_binding_id} (soft binding, recorded on chain)")
    return 0


async def _mint_async(args, ctx, library, settings, profile, account):
    from studio.core.chain.mint import MintWorkflow

    def progress(rec, message: str) -> None:
        if not args.json:
            print(f"mint #{rec.id}: {message}", file=sys.stderr, flush=True)

    async with _connected(ctx, library, settings, profile) as tm:
        from studio.core.chain.reconcile import reconcile

        flow = MintWorkflow(library, tm, account, progress=progress)
        await tm.resume_pending()
        # The library against the chain first: a token that is gone is reported (progress)
        # and its mint stepped back, so it can be minted again.
        lost = await reconcile(flow)
        if args.json:  # (progress lines are off): still say it, on stderr
            for gone in lost:
                print(f"mint #{gone.id}: {gone.error}", file=sys.stderr, flush=True)
        if args.resume:
            records = flow.open_records()
            if not records:
                return []
            guard = _confirm(args, await flow.estimate_resume(records), args.max_fee_wei)
            return await flow.resume_all(guard)
        asset = _resolve_asset(library, args.target)
        # The draft (local, refused when the file is minted on this chain) before the fees:
        # nobody is asked to accept fees for a mint that cannot happen.
        rec = await flow.begin(_plan(args, asset, account.address))
        if lost and rec.id in {r.id for r in lost}:
            print(f"mint #{rec.id}: minting again (the token was gone)", file=sys.stderr)
        guard = _confirm(args, await flow.estimate_resume([rec]), args.max_fee_wei)
        return [await flow.run(rec.id, guard)]


def _royalties_list(args: argparse.Namespace, ctx) -> int:
    from studio.core.chain.royalties import list_splits

    async def go(library, settings, profile):
        async with _connected(ctx, library, settings, profile) as tm:
            return await list_splits(tm, library)

    try:
        settings, profile = _profile(ctx, args.chain)
        with ctx.library() as library:
            splits = asyncio.run(go(library, settings, profile))
    except _errors() as exc:
        raise _fail(str(exc)) from exc
    if args.json:
        print(json.dumps([s.to_json() for s in splits], indent=2))
        return 0
    if not splits:
        print(f"No royalty splits on {profile.name} yet.")
    for s in splits:
        print(f"{s.address}  balance {s.balance / 1e18:.6f} {profile.currency}, "
              f"received {s.total_received / 1e18:.6f}")
        for share in s.shares:
            print(f"  {share.address} {share.label or '':<14} {share.percent:>7}%  due "
                  f"{share.releasable} wei, paid {share.released} wei")
    return 0


def _royalties_release(args: argparse.Namespace, ctx) -> int:
    from studio.core.chain.royalties import list_splits, release

    async def go(library, settings, profile, account):
        async with _connected(ctx, library, settings, profile) as tm:
            targets = [args.split] if args.split else [s.address for s in
                                                       await list_splits(tm, library)]
            done = []
            for split in targets:
                done += await release(tm, account, split, args.to)
            return done

    try:
        settings, profile = _profile(ctx, args.chain)
        account = _account(ctx, settings, args.account)
        with ctx.library() as library:
            done = asyncio.run(go(library, settings, profile, account))
    except _errors() as exc:
        raise _fail(str(exc)) from exc
    if not done:
        print("Nothing is due to anyone right now.")
    for rec in done:
        print(f"released: {rec.purpose} ({rec.hash})")
    return 0


def _fund(args: argparse.Namespace, ctx) -> int:
    from decimal import Decimal, InvalidOperation

    from studio.core.chain.sandbox import fund_account

    try:
        amount = int(Decimal(args.eth) * 10**18)
    except InvalidOperation as exc:
        raise _fail(f"--eth {args.eth!r} is not a number") from exc
    try:
        _settings, profile = _profile(ctx, args.chain)
        address = args.address
        if not address:
            active = ctx.studio.wallet.active_account()
            if active is None:
                raise _fail("No wallet account to fund: give an ADDRESS")
            address = active.address
        try:
            url = ctx.studio.endpoint_url(profile)
            balance = asyncio.run(fund_account(url, address, amount))
        finally:
            ctx.studio.stop_sandbox()
    except _errors() as exc:
        raise _fail(str(exc)) from exc
    print(f"{address} now holds {Decimal(balance) / 10**18} {profile.currency} on "
          f"{profile.name}")
    return 0


def bound_wallet(file: Path) -> str | None:
    """The wallet the file's credentials bind (a valid binding only), or None."""
    from studio.core.provenance.reader import read_report

    try:
        attestation = read_report(file).attestation or {}
    except Exception:  # unreadable credentials: no creator to prefer
        return None
    return attestation.get("address") if attestation.get("matches") else None


def lookup_token(ctx, settings, profile_id: str, file: Path, creator: str | None = None):
    """The token holding ``file`` on chain ``profile_id`` (for ``studio verify --chain``),
    preferring the collection of the wallet bound in the file's credentials."""
    import hashlib

    from studio.core.chain.lookup import find_token
    from studio.core.chain.profiles import ChainProfiles

    async def go(library, profile):
        async with _connected(ctx, library, settings, profile) as tm:
            await tm.check_chain()
            return await find_token(tm, library, sha, creator=creator)

    try:
        sha = hashlib.sha256(file.read_bytes()).hexdigest()
        creator = creator or bound_wallet(file)
        profile = ChainProfiles(settings).get(profile_id)
        with ctx.library() as library:
            return asyncio.run(go(library, profile))
    except OSError as exc:
        raise _fail(f"{file} cannot be read: {exc}") from exc
    except _errors() as exc:
        raise _fail(str(exc)) from exc


def lookup_watermark(ctx, settings, profile_id: str, recovery, copy: bytes, *,
                     fetch: bool = False, gateway: str = "", trust_anchors=None):
    """The token whose mint recorded ``recovery``'s watermark on chain ``profile_id`` (an
    indexed event lookup); with ``fetch``, its metadata and minted file complete
    ``recovery`` when the library had no original (core/chain/durable.py)."""
    from studio.core.chain.durable import recover_on_chain
    from studio.core.chain.profiles import ChainProfiles

    async def go(library, profile):
        async with _connected(ctx, library, settings, profile) as tm:
            await tm.check_chain()
            return await recover_on_chain(tm, library, recovery, copy, fetch=fetch,
                                          gateway=gateway or settings.chain.ipfs_gateway,
                                          trust_anchors=trust_anchors)

    try:
        profile = ChainProfiles(settings).get(profile_id)
        with ctx.library() as library:
            return asyncio.run(go(library, profile))
    except _errors() as exc:
        raise _fail(str(exc)) from exc


def format_token(token, profile_id: str, *, what: str = "this exact file") -> str:
    if token is None:
        return f"\nOn chain {profile_id}: no token holds {what}."
    whose = ("the creator's collection (the wallet bound in the credentials)"
             if token.by_creator else "the earliest collection holding it")
    lines = [f"\nOn chain {profile_id}: minted, in {whose}",
             f"  collection   {token.collection} ({token.collection_name})",
             f"  owned by     {token.collection_owner} (since block {token.first_block})",
             f"  token id     {token.token_id}",
             f"  owner        {token.owner}",
             f"  token URI    {token.token_uri}",
             f"  royalty      {token.royalty_percent:g}% to {token.royalty_receiver}"]
    for address, percent in token.split:
        lines.append(f"    split      {address}  {percent:g}%")
    for copy in token.copies:
        lines.append(f"  copy         {copy.collection} owned by {copy.collection_owner}, "
                     f"since block {copy.first_block}")
    return "\n".join(lines)
