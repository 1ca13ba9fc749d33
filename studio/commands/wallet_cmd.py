"""``studio wallet``: list, create, import, export, remove, use and rename accounts.

Secrets (keys, recovery phrases, keystore passwords) come from stdin or a hidden prompt, never
from the command line, where other users could read them in the process list.
"""

from __future__ import annotations

import argparse
import getpass
import json
import secrets
import sys
from pathlib import Path

from studio.cli import CliError

CONFIRM_WORDS = 3


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("wallet", help="accounts kept in your OS keyring")
    w = p.add_subparsers(dest="wallet_command", metavar="ACTION", required=True)

    ls = w.add_parser("list", help="list accounts (the active one is marked *)")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=_list)

    create = w.add_parser("create", help="create a new account")
    create.add_argument("--mnemonic", action="store_true",
                        help="make a 12-word recovery phrase (shown once, then confirmed)")
    create.add_argument("--label", default="", help="a name for the account")
    create.set_defaults(func=_create)

    imp = w.add_parser("import", help="import a private key, recovery phrase or keystore")
    src = imp.add_mutually_exclusive_group(required=True)
    src.add_argument("--key-stdin", action="store_true", help="read a hex private key from stdin")
    src.add_argument("--mnemonic-stdin", action="store_true",
                     help="read a BIP-39 recovery phrase from stdin")
    src.add_argument("--keystore", type=Path, metavar="FILE", help="a keystore v3 JSON file")
    imp.add_argument("--index", type=int, default=0,
                     help="first account index on m/44'/60'/0'/0/i (default 0)")
    imp.add_argument("--count", type=int, default=1, help="how many accounts to derive")
    imp.add_argument("--password-stdin", action="store_true",
                     help="read the keystore password from stdin instead of prompting")
    imp.add_argument("--label", default="", help="a name for the account")
    imp.set_defaults(func=_import)

    exp = w.add_parser("export", help="write an account as a keystore v3 file (scrypt)")
    exp.add_argument("address")
    exp.add_argument("--out", type=Path, required=True, metavar="FILE")
    exp.add_argument("--password-stdin", action="store_true",
                     help="read the new keystore password from stdin instead of prompting")
    exp.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    exp.set_defaults(func=_export)

    rm = w.add_parser("remove", help="delete an account and its key from the keyring")
    rm.add_argument("address")
    rm.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    rm.set_defaults(func=_remove)

    use = w.add_parser("use", help="make an account the active one")
    use.add_argument("address")
    use.set_defaults(func=_use)

    ren = w.add_parser("rename", help="change an account's label")
    ren.add_argument("address")
    ren.add_argument("label")
    ren.set_defaults(func=_rename)


def _service(ctx):
    from studio.core.wallet.service import WalletService

    return WalletService(ctx.settings)


def _run(fn):
    from studio.core.wallet.errors import WalletError

    try:
        return fn()
    except WalletError as exc:
        raise CliError(str(exc)) from None


def _read_line(prompt: str) -> str:
    """One secret line: a hidden prompt on a terminal, else the next line of stdin."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline()
    if not line:
        raise CliError(f"expected input on stdin ({prompt.strip().rstrip(':')})")
    return line.rstrip("\r\n")


def _read_all_stdin(what: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(f"{what}: ")
    text = sys.stdin.read()
    if not text.strip():
        raise CliError(f"no {what} on stdin")
    return text


def _describe(a, active: str) -> str:
    mark = "*" if a.address == active else " "
    path = f"  {a.derivation_path}" if a.derivation_path else ""
    return f"{mark} {a.address}  {a.label:<20} {a.source}{path}"


def _list(args: argparse.Namespace, ctx) -> int:
    svc = _service(ctx)
    accounts = svc.list_accounts()
    active = svc.active_account()
    active_addr = active.address if active else ""
    if args.json:
        print(json.dumps([{"address": a.address, "label": a.label, "source": a.source,
                           "derivation_path": a.derivation_path,
                           "active": a.address == active_addr} for a in accounts], indent=2))
        return 0
    if not accounts:
        print("No accounts yet. `studio wallet create` makes one; `studio wallet import` "
              "brings one in.")
        return 0
    for a in accounts:
        print(_describe(a, active_addr))
    return 0


def _create(args: argparse.Namespace, ctx) -> int:
    svc = _service(ctx)
    _run(svc.check_keyring)  # before showing words the user would write down for nothing
    if not args.mnemonic:
        account = _run(lambda: svc.create_account(args.label))
        print(f"created {account.address} ({account.label}); its key is in your OS keyring. "
              "Export a keystore (`studio wallet export`) to keep a backup.")
        return 0
    phrase = svc.new_mnemonic()
    words = phrase.split()
    print("Your recovery phrase. Write these words down, in order, and keep them offline.\n"
          "Anyone with them controls the account. They are shown only this once.\n")
    for i in range(0, len(words), 4):
        print("   ".join(f"{n + 1:>2}. {words[n]:<10}" for n in range(i, i + 4)))
    print()
    picks = sorted(secrets.SystemRandom().sample(range(len(words)), CONFIRM_WORDS))
    for n in picks:
        typed = _read_line(f"Re-type word #{n + 1}: ").strip().lower()
        if typed != words[n]:
            raise CliError(f"word #{n + 1} does not match; nothing was stored. Run the command "
                           "again and write the words down carefully.")
    account = _run(lambda: svc.create_from_mnemonic(phrase, args.label))
    print(f"created {account.address} ({account.label}) from the recovery phrase; "
          "it is stored in your OS keyring.")
    return 0


def _import(args: argparse.Namespace, ctx) -> int:
    svc = _service(ctx)
    if (args.index or args.count != 1) and not args.mnemonic_stdin:
        raise CliError("--index and --count apply to --mnemonic-stdin only")
    if args.password_stdin and not args.keystore:
        raise CliError("--password-stdin applies to --keystore only")
    _run(svc.check_keyring)
    if args.key_stdin:
        key = _read_all_stdin("private key")
        added = [_run(lambda: svc.import_private_key(key, args.label))]
    elif args.mnemonic_stdin:
        phrase = _read_all_stdin("recovery phrase")
        added = _run(lambda: svc.import_mnemonic(phrase, args.index, args.count, args.label))
    else:
        from studio.core.wallet import validation

        keystore = _run(lambda: validation.load_keystore(args.keystore))
        password = _read_line("Keystore password: ")
        added = [_run(lambda: svc.import_keystore(keystore, password, args.label))]
    for a in added:
        path = f" {a.derivation_path}" if a.derivation_path else ""
        print(f"imported {a.address} ({a.label}){path}")
    return 0


def _export(args: argparse.Namespace, ctx) -> int:
    svc = _service(ctx)
    account = _run(lambda: svc.get_account(args.address))
    if args.password_stdin:
        password = _read_line("Keystore password: ")
    else:
        password = _read_line("New keystore password: ")
    # The same rule as the GUI's export dialog, before anything is asked again or written.
    from studio.core.wallet.validation import keystore_password_problem

    if problem := keystore_password_problem(password):
        raise CliError(f"{problem} Nothing was written.")
    if not args.password_stdin and sys.stdin.isatty() and \
            getpass.getpass("Repeat the password: ") != password:
        raise CliError("the passwords do not match; nothing was written")
    path = _run(lambda: svc.write_keystore(account.address, password, args.out, args.force))
    print(f"exported {account.address} to {path} (keystore v3, scrypt). Keep the password: "
          "the file cannot be opened without it.")
    return 0


def _remove(args: argparse.Namespace, ctx) -> int:
    svc = _service(ctx)
    account = _run(lambda: svc.get_account(args.address))
    if not args.yes:
        print(f"Remove {account.label} ({account.address})? Its key is deleted from your OS "
              "keyring. Without an exported keystore or its recovery phrase the account and "
              "anything it holds are lost for good.", file=sys.stderr)
        answer = input("Remove it? [y/N] ") if sys.stdin.isatty() else sys.stdin.readline()
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing removed")
            return 1
    _run(lambda: svc.remove(account.address))
    print(f"removed {account.address} ({account.label})")
    return 0


def _use(args: argparse.Namespace, ctx) -> int:
    account = _run(lambda: _service(ctx).set_active(args.address))
    print(f"active account: {account.address} ({account.label})")
    return 0


def _rename(args: argparse.Namespace, ctx) -> int:
    account = _run(lambda: _service(ctx).rename(args.address, args.label))
    print(f"{account.address} is now “{account.label}”")
    return 0
