"""Logging for the app and the CLI: a rotating file in the data dir's ``logs/``, every record redacted.

Secrets must never reach the log: the filter runs ``core.errors.redact`` over the final message text.
A log file that cannot be opened is a FileWriteError at start; one that fills the disk later drops records
quietly (one line on stderr) instead of printing a traceback for every record.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from app.core.errors import redact
from app.core.files import write_failed

LOG_FILE = "zondarr.log"


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with tokens, keys and passwords replaced by ``***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        # Tracebacks hold exception texts (URLs with tokens): format them here, redacted, so the formatter
        # uses this cached text instead of formatting the raw exception.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class _QuietRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Drops a record it cannot write (full disk) with one line on stderr, not a traceback per record."""

    _told = False

    def handleError(self, record: logging.LogRecord) -> None:
        if not self._told:
            self._told = True
            sys.stderr.write(
                "zondarr: the log file could not be written (disk full?); log lines are dropped.\n"
            )


def configure_logging(log_dir: Path, level: int = logging.INFO) -> Path:
    """Attaches (once per process) a rotating, redacting file handler to the root logger. Returns the file.
    Raises FileWriteError when the log folder or file cannot be created."""
    path = log_dir / LOG_FILE
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "zondarr_file", None) == str(path):
            return path
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(log_dir, 0o700)
        handler = _QuietRotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError as exc:
        raise write_failed("The log file", LOG_FILE, exc, where="the data folder") from None
    handler.zondarr_file = str(path)  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("urllib3", "JELLYFIN", "Jellyfin", "plexapi"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
