"""``studio verify FILE``, ``studio attest ASSET_OR_FILE`` and ``studio identity ...``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

EXIT_FOR_STATE = {"trusted": 0, "valid": 0, "invalid": 1, "none": 2, "unreadable": 3,
                  "remote": 4, "inaccessible": 4, "expired": 5}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check a file's content credentials (C2PA)",
                       description="Exit status: 0 valid or trusted, 1 invalid, 2 no "
                       "credentials, 3 unreadable file, 4 credentials stored remotely and not "
                       "fetched (or not fetchable), 5 certificate expired with no trusted time "
                       "stamp.")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true", help="machine-readable report, with the "
                   "C2PA validation status codes of every manifest (crJSON-style)")
    p.add_argument("--fetch-remote", action="store_true",
                   help="fetch credentials stored remotely (contacts the server the file "
                   "names, and only that one); off by default")
    p.add_argument("--chain", metavar="PROFILE",
                   help="also find the token holding this exact file on this chain")
    p.set_defaults(func=_verify)

    a = sub.add_parser("attest", help="write a signed copy of an imported file; the original "
                       "stays as it is")
    a.add_argument("target", metavar="ASSET_OR_FILE", help="a library asset id or a file path")
    a.add_argument("--out", type=Path, help="where to write the copy of a file (default: "
                   "beside it, named NAME.attested.EXT)")
    a.set_defaults(func=_attest)

    i = sub.add_parser("identity", help="the signing identity (studio root CA + certificate)")
    isub = i.add_subparsers(dest="identity_command", metavar="ACTION", required=True)
    isub.add_parser("show", help="describe the current certificate").set_defaults(func=_show)
    isub.add_parser("rotate", help="issue a new signing certificate and key").set_defaults(
        func=_rotate)
    isub.add_parser("new", help="start over with a new root CA and certificate (when the "
                    "old keys are lost)").set_defaults(func=_new)
    ex = isub.add_parser("export-root", help="write the studio root certificate (PEM) so "
                         "others can trust it")
    ex.add_argument("dest", type=Path)
    ex.set_defaults(func=_export)
    tr = isub.add_parser("trust", help="add a PEM root certificate to your trust anchors")
    tr.add_argument("pem", type=Path)
    tr.set_defaults(func=_trust)
    ts = isub.add_parser("trust-signer", help="trust the certificate that signed FILE (that "
                         "one certificate only)")
    ts.add_argument("file", type=Path)
    ts.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    ts.set_defaults(func=_trust_signer)
    tl = isub.add_parser("trust-lists", help="replace the C2PA Trust List (or, with --tsa, "
                         "the TSA Trust List) with a PEM file you downloaded yourself; no "
                         "network is used")
    tl.add_argument("pem", type=Path)
    tl.add_argument("--tsa", action="store_true", help="the file is the TSA Trust List")
    tl.set_defaults(func=_trust_lists)
    tsa = isub.add_parser("tsa", help="show or set the RFC 3161 time-stamp authority used for "
                          "every signature (none by default: nothing is contacted)")
    tsa.add_argument("url", nargs="?", help="e.g. http://timestamp.digicert.com; 'none' to "
                     "stop time-stamping")
    tsa.set_defaults(func=_tsa)
    imp = isub.add_parser("import-cert", help="sign with your own certificate from a CA: a "
                          "PKCS#12 file, or a PEM chain with --key; the key goes to the "
                          "keyring, never to disk")
    imp.add_argument("cert", type=Path, help="PKCS#12 (.p12/.pfx) or PEM chain (leaf first)")
    imp.add_argument("--key", type=Path, help="PEM private key (with a PEM chain)")
    imp.add_argument("--password-stdin", action="store_true",
                     help="read the PKCS#12/key password from standard input")
    imp.set_defaults(func=_import_cert)
    isub.add_parser("use-studio", help="stop using an imported certificate; sign with the "
                    "studio's own identity again").set_defaults(func=_use_studio)


def _settings(ctx):
    return ctx.settings.load().settings


def _verify(args: argparse.Namespace, ctx) -> int:
    from studio.core.provenance.reader import read_report
    from studio.core.provenance.trust import anchors_for

    settings = _settings(ctx)
    report = read_report(args.file, anchors_for(settings.provenance, ctx.paths),
                         fetch_remote=getattr(args, "fetch_remote", False))
    token = _chain_lookup(args, ctx, settings) if getattr(args, "chain", None) else None
    if args.json:
        data = report.to_json()
        if args.chain:
            data["token"] = token.to_json() if token else None
        print(json.dumps(data, indent=2, default=str))
    else:
        print(format_report(report))
        if args.chain:
            from studio.commands.mint_cmd import format_token

            print(format_token(token, args.chain))
    return EXIT_FOR_STATE[report.state.value]


def _chain_lookup(args: argparse.Namespace, ctx, settings):
    from studio.commands.mint_cmd import lookup_token

    return lookup_token(ctx, settings, args.chain, args.file)


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


def _show(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.provenance.byo import describe_any
    from studio.core.provenance.identity import IdentityError, IdentityManager

    try:
        info = describe_any(IdentityManager(ctx.paths).current())
    except IdentityError as exc:
        raise CliError(str(exc)) from exc
    info["tsa"] = _settings(ctx).provenance.tsa_url or "(none)"
    for key, value in info.items():
        print(f"{key:<10} {value}")
    return 0


def _rotate(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.provenance.identity import IdentityError, IdentityManager

    settings = _settings(ctx)
    address = settings.wallet.active_account or None
    mgr = IdentityManager(ctx.paths)
    try:
        ident = (mgr.rotate(settings.provenance.creator_name, address) if mgr.exists()
                 else mgr.ensure(settings.provenance.creator_name, address))
    except IdentityError as exc:
        raise CliError(str(exc)) from exc
    print(f"new signing certificate, serial {ident.describe()['serial']}")
    return 0


def _new(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.provenance.identity import IdentityError, IdentityManager

    settings = _settings(ctx)
    try:
        ident = IdentityManager(ctx.paths).recreate(settings.provenance.creator_name,
                                                     settings.wallet.active_account or None)
    except IdentityError as exc:
        raise CliError(str(exc)) from exc
    print(f"new studio root and signing certificate, serial {ident.describe()['serial']}")
    return 0


def _export(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.provenance.identity import IdentityError, IdentityManager

    try:
        IdentityManager(ctx.paths).export_root(args.dest)
    except (IdentityError, OSError) as exc:
        raise CliError(str(exc)) from exc
    print(f"studio root certificate written to {args.dest}")
    return 0


def _trust(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.provenance.trust import TrustError, add_trust_anchor

    loaded = ctx.settings.load().settings
    try:
        stored = add_trust_anchor(ctx.paths, loaded.provenance, args.pem)
    except (TrustError, OSError) as exc:
        raise CliError(str(exc)) from exc
    ctx.settings.save(loaded)
    print(f"trusting {args.pem} (copied to {stored})")
    return 0


def _trust_signer(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.provenance.trust import (
        TRUST_SIGNER_MEANING,
        TrustError,
        signer_of_file,
        trust_signer,
    )

    try:
        der, described = signer_of_file(args.file)
    except (TrustError, OSError) as exc:
        raise CliError(str(exc)) from exc
    print(f"Signer: {described}\n{TRUST_SIGNER_MEANING}")
    if not args.yes and input("Trust this signer? [y/N] ").strip().lower() not in ("y", "yes"):
        print("not trusted")
        return 1
    loaded = ctx.settings.load().settings
    stored = trust_signer(ctx.paths, loaded.provenance, der)
    ctx.settings.save(loaded)
    print(f"trusting this signer (certificate stored at {stored})")
    return 0


def _trust_lists(args: argparse.Namespace, ctx) -> int:
    from studio.cli import CliError
    from studio.core.provenance.trust import TrustError, refresh_list

    try:
        dest, count = refresh_list(ctx.paths, args.pem, tsa=args.tsa)
    except (TrustError, OSError) as exc:
        raise CliError(str(exc)) from exc
    kind = "TSA Trust List" if args.tsa else "C2PA Trust List"
    print(f"{kind} replaced: {count} certificates from {args.pem} (stored at {dest})")
    return 0


def _tsa(args: argparse.Namespace, ctx) -> int:
    from urllib.parse import urlsplit

    from studio.cli import CliError

    loaded = ctx.settings.load().settings
    if args.url is None:
        print(loaded.provenance.tsa_url or "(none: signatures carry no trusted time)")
        return 0
    url = "" if args.url.lower() == "none" else args.url.strip()
    if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
        raise CliError(f"{args.url!r} is not an http(s) URL of a time-stamp authority", 2)
    loaded.provenance.tsa_url = url
    ctx.settings.save(loaded)
    print(f"time-stamp authority: {url or '(none)'}")
    return 0


def _import_cert(args: argparse.Namespace, ctx) -> int:
    import sys

    from studio.cli import CliError
    from studio.core.provenance import byo
    from studio.core.provenance.identity import IdentityError, IdentityManager

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n").encode("utf-8") or None
    try:
        ident = byo.import_certificate(IdentityManager(ctx.paths), args.cert, args.key,
                                       password)
    except (IdentityError, OSError) as exc:
        raise CliError(str(exc)) from exc
    info = ident.describe()
    print(f"signing with {info['subject']} (issued by {info['issuer']}, until "
          f"{info['not_after']}); the key is in the keyring")
    return 0


def _use_studio(args: argparse.Namespace, ctx) -> int:
    from studio.core.provenance import byo
    from studio.core.provenance.identity import IdentityManager

    removed = byo.remove(IdentityManager(ctx.paths))
    print("signing with the studio's own identity" + ("" if removed else " (already)"))
    return 0
