"""Text, JSON and CSV rendering for the command line, and the stderr progress line. Depends on core only."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from typing import IO, Any

from app.core.models import Server, Track, User
from app.core.progress import JobProgress


def print_json(value: Any, out: IO[str] | None = None) -> None:
    out = out or sys.stdout
    json.dump(value, out, ensure_ascii=False, indent=None)
    out.write("\n")


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
        out.write(json.dumps(t.to_json(), ensure_ascii=False))
        n += 1
    out.write("\n]\n")
    return n


def write_tracks_text(tracks: Iterable[Track], out: IO[str]) -> int:
    n = 0
    for t in tracks:
        year = f" ({t.year})" if t.year else ""
        out.write(f"{t.title} — {t.artist or '?'} — {t.album or '?'}{year} [{t.server}]\n")
        n += 1
    return n


def format_users(users: list[User]) -> str:
    lines = [f"{'server':<20} {'username':<24} {'email':<30} flags"]
    for u in users:
        flags = ",".join(f for f, on in (("admin", u.is_admin), ("disabled", u.is_disabled)) if on)
        lines.append(f"{u.server:<20} {u.username:<24} {u.email or '':<30} {flags}")
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
