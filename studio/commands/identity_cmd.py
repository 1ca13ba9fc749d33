"""``studio identity ...``: the signing identity (studio root CA + certificate, or an imported
CA-issued one), trust anchors, trusted signers, the official trust lists and the TSA."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
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
    from studio.cli import CliError
    from studio.core.provenance.tsa import check_tsa_url

    loaded = ctx.settings.load().settings
    if args.url is None:
        print(loaded.provenance.tsa_url or "(none: signatures carry no trusted time)")
        return 0
    try:
        url = check_tsa_url(args.url)
    except ValueError as exc:
        raise CliError(str(exc), 2) from exc
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
