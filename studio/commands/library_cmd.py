"""``studio library list [--json]``."""

from __future__ import annotations

import argparse
import json
import time

from studio.core.library.models import AssetOrigin


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("library", help="show what is in the library")
    lib_sub = p.add_subparsers(dest="library_command", metavar="ACTION", required=True)
    ls = lib_sub.add_parser("list", help="list assets, newest first")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.add_argument("--origin", choices=[o.value for o in AssetOrigin])
    ls.set_defaults(func=_list)


def _list(args: argparse.Namespace, ctx) -> int:
    from studio.core.library import Library

    with Library.open(ctx.paths) as lib:
        assets = lib.list_assets(AssetOrigin(args.origin) if args.origin else None)
        if args.json:
            print(json.dumps([a.to_json() for a in assets], indent=2))
            return 0
        if not assets:
            print("The library is empty. Generate an image or import media to add one.")
            return 0
        for a in assets:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(a.created_at))
            size = f"{a.width}x{a.height}" if a.width and a.height else "-"
            name = a.title or a.original_name or "(untitled)"
            print(f"{a.id:>5}  {when}  {a.origin.value:<9} {a.media_type:<12} {size:>9}  "
                  f"{a.sha256[:12]}  {name}")
        print(f"{len(assets)} asset(s)")
    return 0
