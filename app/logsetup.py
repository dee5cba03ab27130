"""Logging for the app and the CLI: a rotating file in the data dir's ``logs/``, every record redacted.

Secrets must never reach the log: the filter runs ``core.errors.redact`` over the final message text.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from app.core.errors import redact

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


def configure_logging(log_dir: Path, level: int = logging.INFO) -> Path:
    """Attaches (once per process) a rotating, redacting file handler to the root logger. Returns the file."""
    log_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(log_dir, 0o700)
    path = log_dir / LOG_FILE
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "zondarr_file", None) == str(path):
            return path
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.zondarr_file = str(path)  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("urllib3", "JELLYFIN", "Jellyfin", "plexapi"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
