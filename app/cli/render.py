"""Text, JSON and CSV rendering for the command line, and the stderr progress line. Depends on core only.

JSON is strict (no NaN or Infinity: a non-finite number is written as null). Text meant for a terminal passes
every value that may come from a server (titles, usernames, messages) through ``term``: control and bidi
characters are printed as escapes, so a name cannot move the cursor, recolour the terminal or spoof a row.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Iterable
from datetime import datetime
from typing import IO, Any

from app.core import jsontext
from app.core.models import Server, Track, User
from app.core.progress import JobProgress
from app.core.validate import escape

term = escape  # for text output: control and bidi characters of a value written as escapes


def json_text(value: Any) -> str:
    """Strict JSON text of ``value`` (a non-finite number is null)."""
    return jsontext.dumps(value)


def print_json(value: Any, out: IO[str] | None = None) -> None:
    out = out or sys.stdout
    out.write(json_text(value))
    out.write("\n")


def format_time(value: float | None, never: str = "never", *, seconds: bool = False) -> str:
    """Local "YYYY-MM-DD HH:MM" of an epoch time; ``never`` for None or ±Infinity; a value no calendar holds
    (stored by an older version, say 1e300) as "after 9999" rather than an exception."""
    if value is None or not math.isfinite(value):
        return never
    try:
        return datetime.fromtimestamp(value).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    except (OverflowError, OSError, ValueError):
        return "after 9999" if value > 0 else "before 1970"


def server_json(server: Server, track_count: int | None = None) -> dict[str, object]:
    return {
        "name": server.name,
        "kind": server.kind.value,
        "url": server.url,
        "auth_method": server.auth_method.value,
        "enabled": server.enabled,
        "status": server.status,
        "machine_id": server.machine_id,
        "version": server.version,
        "last_synced_at": server.last_synced_at,
        "tracks": track_count,
    }


def write_tracks_json(tracks: Iterable[Track], out: IO[str]) -> int:
    """Streams a JSON array, one track object per line; returns how many were written."""
    n = 0
    out.write("[")
    for t in tracks:
        out.write(",\n" if n else "\n")
        out.write(json_text(t.to_json()))
        n += 1
    out.write("\n]\n")
    return n


def write_tracks_text(tracks: Iterable[Track], out: IO[str]) -> int:
    n = 0
    for t in tracks:
        year = f" ({t.year})" if t.year else ""
        out.write(term(f"{t.title} — {t.artist or '?'} — {t.album or '?'}{year} [{t.server}]") + "\n")
        n += 1
    return n


def format_users(users: list[User]) -> str:
    lines = [f"{'server':<20} {'username':<24} {'email':<30} {'expires':<10} {'last seen':<10} flags"]
    for u in users:
        flags = ",".join(f for f, on in (("admin", u.is_admin), ("disabled", u.is_disabled)) if on)
        expires, seen = (
            "" if when is None else datetime.fromtimestamp(when).strftime("%Y-%m-%d")
            for when in (u.expires_at, u.last_active_at)
        )
        line = f"{u.server:<20} {u.username:<24} {u.email or '':<30} {expires:<10} {seen or '?':<10} {flags}"
        lines.append(term(line))
    return "\n".join(lines)


class ProgressPrinter:
    """Writes sync progress to stderr: a rewritten line on a terminal, a line every 10 % (or 5 s) otherwise."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._out = stream or sys.stderr
        self._tty = self._out.isatty()
        self._last_percent = -10
        self._last_time = 0.0
        self._last_stage = ""

    def __call__(self, p: JobProgress) -> None:
        text = f"Syncing… {p.done:,} / {p.total:,} ({p.percent} %) {p.stage.value}"
        if p.server:
            text += f" [{p.server}]"
        now = time.monotonic()
        if self._tty:
            if now - self._last_time >= 0.1 or p.done >= p.total:
                self._out.write("\r" + text.ljust(78))
                self._out.flush()
                self._last_time = now
            return
        if (
            p.percent >= self._last_percent + 10
            or now - self._last_time >= 5
            or p.stage.value != self._last_stage
        ):
            self._out.write(text + "\n")
            self._out.flush()
            self._last_percent = p.percent
            self._last_time = now
            self._last_stage = p.stage.value

    def close(self) -> None:
        if self._tty:
            self._out.write("\n")
            self._out.flush()


def with_json(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Adds ``--json`` (stable JSON output on stdout, see docs/CLI.md) to a command's parser; returns the parser."""
    parser.add_argument("--json", action="store_true", help="stable JSON output (see docs/CLI.md)")
    return parser
