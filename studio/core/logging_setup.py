"""Rotating log files in the log dir, native crash dumps via faulthandler, and URL redaction
for every log record (web3 and aiohttp log full RPC URLs, API keys included)."""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
import sys
from pathlib import Path
from typing import TextIO

_crash_file: TextIO | None = None


class RedactUrls(logging.Filter):
    """Rewrites a record so no URL in it shows more than ``scheme://host/***``.

    Python consults a logger's filters only for records logged on that very logger, not for
    records propagating up from ``web3.providers...``; a handler's filters see every record
    it emits. So this sits on the root logger *and* on each of its handlers."""

    def filter(self, record: logging.LogRecord) -> bool:
        from studio.core.redact import redact_urls

        message = record.getMessage()
        cleaned = redact_urls(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_urls(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_urls(record.stack_info)
        return True


def install_redaction(logger: logging.Logger | None = None) -> RedactUrls:
    """Put one RedactUrls on ``logger`` (default: root) and on each of its handlers."""
    logger = logger or logging.getLogger()
    existing = [f for f in logger.filters if isinstance(f, RedactUrls)]
    flt = existing[0] if existing else RedactUrls()
    if not existing:
        logger.addFilter(flt)
    for handler in logger.handlers:
        if not any(isinstance(f, RedactUrls) for f in handler.filters):
            handler.addFilter(flt)
    return flt


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
    install_redaction(root)
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
