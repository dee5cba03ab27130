"""`zondarr demo`: the headless main job on the demo servers (a composition root beside cli.py).

Starts a demo Plex (with its plex.tv endpoints) and a demo Jellyfin server on loopback, adds both to a separate
demo data dir (Plex by token, Jellyfin by user/password), syncs them with progress on stderr and prints a summary.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import time
from pathlib import Path

from app.cli.render import ProgressPrinter, print_json
from app.core.errors import NotFoundError
from app.core.filters import TrackFilter
from app.core.models import AuthMethod, Credentials, NewServer, ServerKind
from app.demo import (
    DEFAULT_JELLYFIN_PASSWORD,
    DEFAULT_JELLYFIN_USER,
    DEFAULT_PLEX_TOKEN,
    DemoConfig,
    DemoServer,
    start_demo_server,
)
from app.heap import freeze_long_lived
from app.services.context import AppContext


def command_name(argv0: str | None = None, cwd: Path | None = None) -> str:
    """How the admin types this command again: ``zondarr`` when that is what PATH finds, else the script as
    the README's set-up has it (``.venv/bin/zondarr``, relative to the current folder when inside it), else
    ``python -m app``."""
    script = Path(argv0 if argv0 is not None else sys.argv[0]).resolve()
    found = shutil.which("zondarr")
    if found is not None and Path(found).resolve() == script:
        return "zondarr"
    if script.name.startswith("zondarr") and script.exists():
        here = (cwd or Path.cwd()).resolve()
        shown = os.path.relpath(script, here) if script.is_relative_to(here) else str(script)
        return shlex.quote(shown)
    return f"{shlex.quote(sys.executable)} -m app"


DEMO_PLEX = "Demo Plex"
DEMO_JELLYFIN = "Demo Jellyfin"


async def add_demo_servers(ctx: AppContext, plex: DemoServer, jellyfin: DemoServer) -> None:
    """Replaces last run's "Demo Plex"/"Demo Jellyfin" (their ports change per run) with these two: Plex by token,
    Jellyfin by user/password (exchanged for a token). Raises ZondarrError when one cannot be added."""
    for name in (DEMO_PLEX, DEMO_JELLYFIN):
        try:
            await ctx.servers.remove(name)
        except NotFoundError:
            pass
    await ctx.servers.add(
        NewServer(DEMO_PLEX, ServerKind.PLEX, plex.url, AuthMethod.TOKEN),
        Credentials(token=DEFAULT_PLEX_TOKEN),
    )
    await ctx.servers.add(
        NewServer(DEMO_JELLYFIN, ServerKind.JELLYFIN, jellyfin.url, AuthMethod.PASSWORD),
        Credentials(username=DEFAULT_JELLYFIN_USER, password=DEFAULT_JELLYFIN_PASSWORD),
    )


async def run_headless_demo(data_dir: Path, tracks: int, as_json: bool) -> int:
    """Returns the sync's exit code. Raises ZondarrError when a demo server cannot be added."""
    from app.cli.main import build_context  # the CLI owns the wiring; imported late to avoid a cycle

    plex = start_demo_server(DemoConfig(kind="plex", tracks=tracks))
    jellyfin = start_demo_server(DemoConfig(kind="jellyfin", tracks=tracks))
    ctx = build_context(data_dir, overrides={"plex_tv_url": plex.url})
    freeze_long_lived()  # start-up is done: full collections during the sync skip it (app/heap.py)
    try:
        await add_demo_servers(ctx, plex, jellyfin)
        printer = ProgressPrinter()
        started = time.monotonic()
        try:
            result = await ctx.sync.sync(trigger="demo", progress=printer)
        finally:
            printer.close()
        elapsed = time.monotonic() - started
        cached = ctx.tracks.count(TrackFilter())
        if as_json:
            print_json(
                {
                    **result.to_json(),
                    "seconds": round(elapsed, 2),
                    "cached_tracks": cached,
                    "data_dir": str(ctx.data_dir),
                }
            )
        else:
            print(result.summary)
            print(
                f"{cached:,} tracks cached in {elapsed:.1f} s ({cached / max(elapsed, 1e-9):,.0f} tracks/s)."
            )
            for s in ctx.server_store.list():
                n = ctx.tracks.count(TrackFilter(server=s.name))
                users = len(ctx.users.list(server=s.name))
                print(f"  {s.name:<14} {s.kind.value:<9} {n:>9,} tracks {users:>3} users  {s.url}")
            print(f"Cache: {ctx.data_dir}")
            print(f"Query it: {command_name()} --data-dir {ctx.data_dir} tracks --search love --limit 5")
        return result.exit_code
    finally:
        ctx.close()
        plex.stop()
        jellyfin.stop()
