"""``studio import PATH... [--json]``: the same import the window's drop runs."""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="copy media files or folders into the library")
    p.add_argument("paths", nargs="+", metavar="PATH", type=Path,
                   help="files or folders (folders are searched recursively)")
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    p.set_defaults(func=_import)


def _import(args: argparse.Namespace, ctx) -> int:
    from studio.core.importing import ImportService, Progress
    from studio.core.library import Library

    cancel = threading.Event()

    def show(p: Progress) -> None:
        if not args.json and p.current:
            print(f"[{p.done + 1}/{p.total}] {p.current}", flush=True)

    ctx.paths.ensure()
    with Library.open(ctx.paths) as lib:
        service = ImportService.for_paths(lib, ctx.paths.cache_dir)
        try:
            summary = service.import_paths(args.paths, progress=show, cancel=cancel)
        except KeyboardInterrupt:
            cancel.set()
            raise
    if args.json:
        print(json.dumps(summary.to_json(), indent=2))
    else:
        print(summary.as_text())
    # Non-zero only when nothing could be imported at all and something was rejected.
    return 1 if summary.rejected and not (summary.imported or summary.already) else 0
