"""``studio publish ASSET_OR_FILE... (--kubo URL | --pinning URL) [--token-stdin] [--car OUT]``.

Prints one ``CID  source`` line per item. A token given on stdin is kept in the OS keyring
for that URL and used again on later runs; it is never printed or logged.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("publish", help="send media to an IPFS node or pinning service, or "
                                       "export it as a CAR file")
    p.add_argument("items", nargs="+", metavar="ASSET_OR_FILE",
                   help="a library asset id (see `studio library list`) or a file path")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--kubo", metavar="URL",
                       help="an IPFS node's RPC API, e.g. http://127.0.0.1:5001")
    where.add_argument("--pinning", metavar="URL",
                       help="a Pinning Service API endpoint, e.g. https://pins.example/api")
    p.add_argument("--token-stdin", action="store_true",
                   help="read an access token from stdin and keep it in the OS keyring")
    p.add_argument("--car", metavar="OUT", type=Path,
                   help="also write the item as a CARv1 file (one item only)")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="seconds to wait for the remote to answer (default 120)")
    p.set_defaults(func=_publish)


def _resolve(items: list[str], ctx) -> list[tuple[Path, str]]:
    """(file, name) per item: an existing path, else a library asset id."""
    from studio.cli import CliError

    out: list[tuple[Path, str]] = []
    library = None
    try:
        for item in items:
            path = Path(item)
            if path.is_file():
                out.append((path, path.name))
                continue
            if not item.isdigit():
                raise CliError(f"{item}: no such file, and not an asset id")
            if library is None:
                from studio.core.library import Library

                library = Library.open(ctx.paths)
            asset = library.get(int(item))
            if asset is None:
                raise CliError(f"no asset #{item} in the library (see `studio library list`)")
            out.append((library.path_of(asset), asset.original_name or asset.sha256))
    finally:
        if library is not None:
            library.close()
    return out


def _publish(args: argparse.Namespace, ctx) -> int:
    import asyncio

    from studio.cli import CliError
    from studio.core.publish.backends import (
        KuboBackend,
        PinningServiceBackend,
        PublishError,
        load_token,
        store_token,
    )
    from studio.core.publish.car import export_car

    url = args.kubo or args.pinning
    if url is None and args.car is None:
        raise CliError("say where to publish: --kubo URL, --pinning URL, or --car OUT")
    if args.car is not None and len(args.items) != 1:
        raise CliError("--car writes one item; give exactly one ASSET_OR_FILE")
    if args.token_stdin and url is None:
        raise CliError("--token-stdin needs --kubo or --pinning")
    items = _resolve(args.items, ctx)

    try:
        if args.car is not None:
            path, _name = items[0]
            cid = export_car(path, args.car)
            print(f"wrote {args.car} (root {cid})", file=sys.stderr)
        if url is None:
            print(f"{cid}  {args.items[0]}")
            return 0
        token = sys.stdin.readline().strip() if args.token_stdin else None
        if token:
            store_token(url, token)
        elif args.token_stdin:
            raise CliError("--token-stdin: no token on stdin")
        else:
            token = load_token(url)
        backend = (KuboBackend(url, token, timeout=args.timeout) if args.kubo
                   else PinningServiceBackend(url, token or "", timeout=args.timeout))

        async def go() -> None:
            for (path, name), item in zip(items, args.items, strict=True):
                result = await backend.publish(path, name)
                print(f"{result.cid}  {item}", flush=True)

        asyncio.run(go())
    except (PublishError, OSError) as exc:
        raise CliError(str(exc)) from exc
    return 0
