"""The demo runner: ``zondarr demo`` (the headless main job on the demo servers), ``zondarr demo-server``, and
the demo servers of ``zondarr --demo`` (``app/gui_session.py``).

``zondarr demo`` starts a demo Plex (with its plex.tv endpoints) and a demo Jellyfin server on loopback, adds both
to a separate demo data dir (Plex by token, Jellyfin by user/password), syncs them with progress on stderr and
prints a summary. The demo shares no code with the app, so its errors become the app's here, at the edge.
``app.demo`` is imported by the functions that start demo servers: the other commands do not load it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.args import int_in, read_secret
from app.cli.render import ProgressPrinter, print_json, with_json
from app.core.errors import ConfigurationError, NotFoundError, ValidationError
from app.core.filters import TrackFilter
from app.core.models import AuthMethod, Credentials, NewServer, ServerKind
from app.process import freeze_long_lived
from app.services.context import AppContext
from app.storage.paths import default_data_dir
from app.wiring import build_context

if TYPE_CHECKING:
    from app.demo import DemoServer


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


@contextmanager
def app_errors() -> Iterator[None]:
    """Turns a demo server's error into the app's: a bad config or fault spec is a ``ValidationError`` (a usage
    error), an address that cannot be bound a ``ConfigurationError``; message and remedy are kept."""
    from app.demo import DemoConfigError, DemoError

    try:
        yield
    except DemoConfigError as err:
        raise ValidationError(err.user_message, remedy=err.remedy, detail=err.detail) from err
    except DemoError as err:
        raise ConfigurationError(err.user_message, remedy=err.remedy, detail=err.detail) from err


def demo_overrides(plex: DemoServer, jellyfin: DemoServer) -> dict[str, str]:
    """The settings that point Zondarr at the demo servers for this process: plex.tv and its sign-in page (the
    demo Plex serves both) and the Jellyfin LAN discovery (the demo Jellyfin's own UDP port on loopback)."""
    return {
        "plex_tv_url": plex.url,
        "plex_auth_url": plex.url + "/auth",
        "discovery_address": f"127.0.0.1:{jellyfin.discovery_port}",
    }


def start_demo_servers(tracks: int) -> tuple[DemoServer, DemoServer]:
    """Starts a demo Plex and a demo Jellyfin server with ``tracks`` tracks each; both run or neither does.
    Raises ValidationError (a bad size), ConfigurationError (no address to listen on)."""
    from app.demo import DemoConfig, start_demo_server

    with app_errors():
        # the demo plex.tv approves a "Sign in with Plex" by itself after 3 polls (no real account needed)
        plex = start_demo_server(DemoConfig(kind="plex", tracks=tracks, pin_approve_after_polls=3))
        try:
            jellyfin = start_demo_server(
                DemoConfig(kind="jellyfin", tracks=tracks, quick_connect_approve_after_polls=3)
            )
        except BaseException:
            plex.stop()
            raise
    return plex, jellyfin


async def add_demo_servers(ctx: AppContext, plex: DemoServer, jellyfin: DemoServer) -> None:
    """Replaces last run's "Demo Plex"/"Demo Jellyfin" (their ports change per run) with these two: Plex by token,
    Jellyfin by user/password (exchanged for a token). Raises ZondarrError when one cannot be added."""
    from app.demo import DEFAULT_JELLYFIN_PASSWORD, DEFAULT_JELLYFIN_USER, DEFAULT_PLEX_TOKEN

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
    """Returns the sync's exit code. Raises ZondarrError when a demo server cannot be started or added."""
    plex, jellyfin = start_demo_servers(tracks)
    try:
        ctx = build_context(data_dir, overrides=demo_overrides(plex, jellyfin))
    except BaseException:
        plex.stop()
        jellyfin.stop()
        raise
    freeze_long_lived()  # start-up is done: full collections during the sync skip it (app/process.py)
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


def serve_demo_server(args: argparse.Namespace, token: str | None) -> int:
    """``zondarr demo-server``: one demo server in the foreground until SIGINT/SIGTERM; returns 0. Raises
    ValidationError (a bad option or fault spec), ConfigurationError (the address cannot be bound)."""
    from app.demo import DemoConfig, serve_forever

    config = DemoConfig(
        kind=args.kind,
        host=args.host,
        port=args.port,
        tracks=args.tracks,
        users=args.users,
        token=token,
        seed=args.seed,
        faults=args.faults,
        libraries=args.libraries,
    )
    with app_errors():
        return serve_forever(config)


def cmd_demo(args: argparse.Namespace) -> int:
    data_dir = args.data_dir or default_data_dir() / "demo"
    return asyncio.run(run_headless_demo(data_dir, tracks=args.tracks, as_json=args.json))


def cmd_demo_server(args: argparse.Namespace) -> int:
    return serve_demo_server(args, read_secret(True, "token") if args.token_stdin else None)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``demo`` and ``demo-server``."""
    demo = with_json(
        sub.add_parser("demo", help="headless demo: start demo servers, add them, sync, summarise")
    )
    demo.add_argument(
        "--tracks", type=int_in(1, 1_000_000, "--tracks"), default=20_000, help="tracks per demo server"
    )
    demo.set_defaults(standalone=cmd_demo)

    ds = sub.add_parser("demo-server", help="run a demo Plex or Jellyfin server on loopback")
    ds.add_argument("--kind", choices=["plex", "jellyfin"], required=True)
    ds.add_argument("--host", default="127.0.0.1")
    ds.add_argument("--port", type=int_in(0, 65535, "--port"), default=0)
    ds.add_argument("--tracks", type=int_in(0, 1_000_000, "--tracks"), default=1000)
    ds.add_argument("--users", type=int_in(0, 100_000, "--users"), default=5)
    ds.add_argument("--libraries", type=int_in(1, 100, "--libraries"), default=2)
    ds.add_argument("--token-stdin", action="store_true", help="read the token / API key from stdin")
    ds.add_argument("--seed", type=int_in(0, 2**63 - 1, "--seed"), default=1)
    ds.add_argument("--faults", default="", help="fault spec, e.g. 'tracks:500@7;any:latency=0.05'")
    ds.set_defaults(standalone=cmd_demo_server)
