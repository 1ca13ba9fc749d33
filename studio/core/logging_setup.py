"""Rotating log files in the log dir, and native crash dumps via faulthandler."""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
import sys
from pathlib import Path
from typing import TextIO

_crash_file: TextIO | None = None


def setup_logging(log_dir: Path, *, verbose: bool = False, console: bool = False) -> Path:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / "studio.log"
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_studio", False):
            root.removeHandler(h)
            h.close()
    handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    )
    handler._studio = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        stream.setLevel(logging.DEBUG if verbose else logging.WARNING)
        stream._studio = True  # type: ignore[attr-defined]
        root.addHandler(stream)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    return log_file


def enable_crash_dumps(log_dir: Path) -> Path:
    """Write native crashes (segfaults in Qt, torch, c2pa) with every thread's stack."""
    global _crash_file
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "crash.log"
    if _crash_file is None:
        _crash_file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open on purpose
        faulthandler.enable(_crash_file, all_threads=True)
    return path
