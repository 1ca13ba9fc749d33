"""``studio verify FILE`` and ``studio attest ASSET_OR_FILE``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

EXIT_FOR_STATE = {"trusted": 0, "valid": 0, "invalid": 1, "none": 2, "unreadable": 3,
                  "remote": 4, "inaccessible": 4, "expired": 5}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check a file's content credentials (C2PA)",
                       description="Exit status: 0 valid or trusted, 1 invalid, 2 no "
                       "credentials (a studio watermark may still lead to the original: see "
                       "'recovery' in --json), 3 unreadable file, 4 credentials stored remotely "
                       "and not fetched (or not fetchable), 5 certificate expired with no trusted "
                       "time stamp.")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true", help="machine-readable report, with the "
                   "C2PA validation status codes of every manifest (crJSON-style)")
    p.add_argument("--fetch-remote", action="store_true",
                   help="fetch credentials stored remotely (contacts the server the file "
                   "names, and only that one); off by default")
    p.add_argument("--chain", metavar="PROFILE",
                   help="also find the token holding this exact file on this chain; for a "
                   "stripped copy, the token whose mint recorded its watermark")
    p.add_argument("--fetch-metadata", action="store_true",
                   help="with --chain, when the original is not in this library: fetch the "
                   "token's metadata and the minted file (network; off by default) to recover "
                   "its credentials")
    p.add_argument("--ipfs-gateway", metavar="URL",
                   help="gateway for ipfs:// URIs (default: the chain settings' "
                   "ipfs_gateway); its bytes are checked against the CID")
    p.set_defaults(func=_verify)

    a = sub.add_parser("attest", help="write a signed copy of an imported file; the original "
                       "stays as it is")
    a.add_argument("target", metavar="ASSET_OR_FILE", help="a library asset id or a file path")
    a.add_argument("--out", type=Path, help="where to write the copy of a file (default: "
                   "beside it, named NAME.attested.EXT)")
    a.set_defaults(func=_attest)


def _settings(ctx):
    return ctx.settings.load().settings


def _verify(args: argparse.Namespace, ctx) -> int:
    from studio.core.provenance.reader import read_report
    from studio.core.provenance.trust import anchors_for

    if (getattr(args, "fetch_metadata", False) or getattr(args, "ipfs_gateway", None)) \
            and not getattr(args, "chain", None):
        from studio.cli import CliError

        raise CliError("--fetch-metadata and --ipfs-gateway need --chain PROFILE (the token's "
                       "metadata is what they fetch)", 2)
    settings = _settings(ctx)
    anchors = anchors_for(settings.provenance, ctx.paths)
    report = read_report(args.file, anchors, fetch_remote=getattr(args, "fetch_remote", False))
    recovery = None
    if report.state.value == "none":  # stripped? its watermark may lead to the original
        from studio.core.provenance.recovery import recover

        recovery = recover(args.file, ctx.paths, anchors)
    token = None
    # Not in this library but watermarked: the watermark's own record on chain.
    by_watermark = bool(recovery is not None and recovery.source != "library"
                        and recovery.payload)
    if getattr(args, "chain", None):
        if by_watermark:
            token = _watermark_lookup(args, ctx, settings, recovery, anchors)
        else:
            # A recovered copy's token is the original's: look that file up on chain.
            held = Path(recovery.original_path) if recovery and recovery.found else args.file
            token = _chain_lookup(args, ctx, settings, held)
    if args.json:
        data = report.to_json()
        data["recovery"] = recovery.to_json() if recovery else None
        if args.chain:
            data["token"] = token.to_json() if token else None
        print(json.dumps(data, indent=2, default=str))
    else:
        print(format_report(report))
        if recovery is not None:
            print("  " + recovery.summary(token.token_id if token else None))
            from studio.core.chain.durable import NOT_FETCHED

            if token is not None and recovery.reason == NOT_FETCHED:
                print("  Run again with --fetch-metadata to fetch the token's metadata and the "
                      "minted file, and check their credentials.")
        if args.chain:
            from studio.commands.mint_cmd import format_token

            what = "its watermark" if by_watermark else "this exact file"
            print(format_token(token, args.chain, what=what))
    return EXIT_FOR_STATE[report.state.value]


def _watermark_lookup(args: argparse.Namespace, ctx, settings, recovery, anchors):
    from studio.cli import CliError
    from studio.commands.mint_cmd import lookup_watermark

    try:
        copy = args.file.read_bytes()
    except OSError as exc:
        raise CliError(f"{args.file} cannot be read: {exc}") from exc
    return lookup_watermark(ctx, settings, args.chain, recovery, copy,
                            fetch=args.fetch_metadata, gateway=args.ipfs_gateway or "",
                            trust_anchors=anchors)


def _chain_lookup(args: argparse.Namespace, ctx, settings, file: Path):
    from studio.commands.mint_cmd import lookup_token

    return lookup_token(ctx, settings, args.chain, file)


def format_report(report) -> str:
    lines = [f"{report.path}: {report.state_text}"]
    if report.error:
        lines.append(f"  {report.error}")
    if report.state.value == "remote":
        lines.append("  Run again with --fetch-remote to fetch and check them.")
    if report.has_credentials:
        lines.append(f"  Badge:      {report.badge}")
        for key, value in (("Signed by", report.signer), ("Issued by", report.issuer),
                           ("Signed", report.signed_at_text()),
                           ("Cert until", report.cert_not_after),
                           ("App", report.claim_generator),
                           ("Source", report.digital_source_type), ("Manifest",
                                                                     report.manifest_label)):
            if value:
                lines.append(f"  {key + ':':<11} {value}")
        for a in report.actions:
            lines.append(f"  Action:     {a.get('action')}")
        for ing in report.ingredients:
            lines.append(f"  Ingredient: {ing.relationship} {ing.title}")
        if report.attestation:
            from studio.core.provenance.verdict import wallet_text

            att = report.attestation
            lines.append(f"  Wallet:     {wallet_text(report, str(att['address']))} "
                         f"({att['reason']})")
        if report.generation:
            req = report.generation.get("request") or {}
            lines.append(f"  Generation: seed {report.generation.get('seed')}, "
                         f"prompt {str(req.get('prompt', ''))[:60]!r}")
    for text in report.failures:
        lines.append(f"  Problem:    {text}")
    for text in report.ingredient_failures:
        lines.append(f"  Source:     {text}")
    return "\n".join(lines)


def _attest(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.library import Library
    from studio.core.provenance.attest import active_account, attest_asset, attest_file
    from studio.core.provenance.attestation import AttestationError
    from studio.core.provenance.identity import IdentityError
    from studio.core.provenance.signing import SigningError

    settings = _settings(ctx)
    try:
        account = active_account(ctx.paths, settings)
        with Library.open(ctx.paths) as lib:
            if args.target.isdigit() and not Path(args.target).exists():
                asset = lib.get(int(args.target))
                if asset is None:
                    raise CliError(f"there is no asset {args.target} in the library", 2)
                new = attest_asset(ctx.paths, settings, lib, asset, account)
                print(f"attested asset {asset.id} as new asset {new.id} ({new.sha256[:12]})")
                return 0
            src = Path(args.target)
            if not src.is_file():
                raise CliError(f"{src} is not a file or a library asset id", 2)
            dest = args.out or src.with_name(f"{src.stem}.attested{src.suffix}")
            attest_file(src, dest, ctx.paths, settings, account)
            from studio.core.library.models import AssetOrigin
            from studio.core.provenance.reader import read_report

            rep = read_report(dest)
            new, _ = lib.add_file(dest, origin=AssetOrigin.ATTESTED,
                                  media_type=rep.format or "application/octet-stream",
                                  manifest_label=rep.manifest_label)
            print(f"wrote {dest} (library asset {new.id}); {src} is unchanged")
            return 0
    except (AttestationError, IdentityError, SigningError, ValueError, OSError) as exc:
        raise CliError(str(exc)) from exc
