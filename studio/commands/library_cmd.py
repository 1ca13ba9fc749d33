"""``studio library list [--json]`` and ``studio library check [--repair] [--json]``."""

from __future__ import annotations

import argparse
import json
import time

from studio.core.library.models import AssetOrigin

# An import in another process copies a batch, syncs it, then records it, within seconds; a
# file without a record younger than this may be one of those, so --repair keeps it.
REPAIR_GRACE_S = 600


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("library", help="show what is in the library")
    lib_sub = p.add_subparsers(dest="library_command", metavar="ACTION", required=True)
    ls = lib_sub.add_parser("list", help="list assets, newest first")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.add_argument("--origin", choices=[o.value for o in AssetOrigin])
    ls.set_defaults(func=_list)
    chk = lib_sub.add_parser(
        "check", help="find stored files without a record, records without a file, and temp "
                      "files left by a crash; --repair removes the leftovers")
    chk.add_argument("--repair", action="store_true",
                     help=f"remove files without a record (older than {REPAIR_GRACE_S // 60} "
                          "minutes: younger ones may be an import in progress) and temp files "
                          "of crashed writers; records are never deleted")
    chk.add_argument("--json", action="store_true", help="machine-readable output")
    chk.set_defaults(func=_check)


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


def _check(args: argparse.Namespace, ctx) -> int:
    """Exit 0 when the library is consistent (after --repair: when nothing is left to fix
    but records whose file is gone, which are reported), 1 otherwise."""
    from studio.core.library import Library

    with Library.open(ctx.paths) as lib:
        report = lib.repair(min_age_s=REPAIR_GRACE_S) if args.repair else lib.check_consistency()
    removed = ([] if not args.repair else
               [r for r in report.orphan_files if r not in report.kept_recent]
               + report.stale_temp_files)
    if args.json:
        print(json.dumps({"missing_files": report.missing_files,
                          "orphan_files": report.orphan_files,
                          "stale_temp_files": report.stale_temp_files,
                          "kept_recent": report.kept_recent, "removed": removed}, indent=2))
    else:
        if report.missing_files:
            print(f"{len(report.missing_files)} record(s) whose file is gone (asset ids "
                  f"{', '.join(map(str, report.missing_files))}): kept, as mints may refer "
                  "to them.")
        if args.repair:
            print(f"Removed {len(removed)} leftover file(s).")
            if report.kept_recent:
                print(f"Kept {len(report.kept_recent)} file(s) without a record made in the "
                      f"last {REPAIR_GRACE_S // 60} minutes (an import may be running); run "
                      "again later.")
        else:
            if report.orphan_files:
                print(f"{len(report.orphan_files)} stored file(s) without a record (an "
                      "interrupted import or delete).")
            if report.stale_temp_files:
                print(f"{len(report.stale_temp_files)} temp file(s) left by a crashed copy.")
            if report.orphan_files or report.stale_temp_files:
                print("Run `studio library check --repair` to remove them.")
        if report.ok and not report.stale_temp_files:
            print("The library is consistent.")
    leftover = (report.kept_recent if args.repair
                else report.orphan_files + report.stale_temp_files)
    return 0 if not report.missing_files and not leftover else 1
