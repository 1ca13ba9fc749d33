"""The ``studio`` command: no arguments opens the window; subcommands run headless.

Each subcommand lives in a module of :mod:`studio.commands` exposing ``register(subparsers)``;
it is imported only to build the parser, so every heavy import stays inside its handler.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from studio import APP_NAME, __version__
from studio.core.paths import StudioPaths, resolve_paths
from studio.core.settings import SettingsStore

COMMAND_MODULES: list[str] = [
    "studio.commands.library_cmd",
    "studio.commands.verify_cmd",
    "studio.commands.identity_cmd",
    "studio.commands.import_cmd",
    "studio.commands.wallet_cmd",
    "studio.commands.chain_cmd",
    "studio.commands.generate_cmd",
    "studio.commands.batch_cmd",
    "studio.commands.mint_cmd",
    "studio.commands.publish_cmd",
]

log = logging.getLogger(__name__)


class CliError(Exception):
    """A user-facing failure: printed without a traceback, exit code ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class CliContext:
    paths: StudioPaths
    settings: SettingsStore
    _studio: Any = field(default=None, repr=False)

    @property
    def studio(self):
        """The composition root the window uses too (built on first use: settings as they
        are on disk now, the library opened lazily)."""
        if self._studio is None:
            from studio.services.studio import Studio

            self.paths.ensure()
            self._studio = Studio(self.paths, self.settings)
        return self._studio

    @contextmanager
    def library(self) -> Iterator[Any]:
        """The composition root's library (closed when the command ends)."""
        yield self.studio.library

    def close(self) -> None:
        if self._studio is not None:
            self._studio.stop_sandbox()
            self._studio.close()
            self._studio = None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio",
        description=f"{APP_NAME}: generate images locally, sign their provenance, mint them "
        "with royalty splits. Run without arguments to open the window.",
    )
    parser.add_argument("--version", action="version", version=f"studio {__version__}")
    parser.add_argument("--selftest", action="store_true",
                        help="check the installation and exit (non-zero if broken)")
    parser.add_argument("--reset-settings", action="store_true",
                        help="back up the settings file and restore defaults, then exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    paths = resolve_paths()
    from studio.core.runtime import activate

    activate(paths.data_dir)  # a first-run-provisioned PyTorch, if any (sys.path only)
    ctx = CliContext(paths, SettingsStore(paths.settings_file))

    if args.reset_settings:
        backup = ctx.settings.reset()
        print(f"settings reset to defaults in {paths.settings_file}"
              + (f" (previous file kept as {backup})" if backup else ""))
        return 0
    if args.selftest:
        from studio.core.selftest import run_selftest

        report = run_selftest(paths)
        print(report.as_text())
        return 0 if report.ok else 1
    if args.command is None:
        from studio.app import run_app

        return run_app(paths)

    from studio.core.logging_setup import setup_logging

    setup_logging(paths.log_dir, verbose=args.verbose, console=True)
    try:
        return int(args.func(args, ctx) or 0)
    except CliError as exc:
        print(f"studio {args.command}: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        ctx.close()
