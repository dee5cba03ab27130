"""The headless command line (DESIGN §6): parses, builds the context (``app.wiring``) and dispatches.

Exit codes: 0 success, 1 failure, 2 usage error, 3 partial success. Secrets are read from stdin only.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from app import __version__
from app.cli.args import LIMIT, int_in, known_server, name_of, number_in
from app.cli.backup import register as register_backup
from app.cli.health import describe_failure, main_stderr, record_cli_error
from app.cli.health import register as register_health
from app.cli.people import register as register_people
from app.cli.render import (
    ProgressPrinter,
    format_users,
    print_json,
    server_json,
    term,
    with_json,
    write_tracks_json,
    write_tracks_text,
)
from app.cli.servers import add_arguments as add_sign_in_arguments
from app.cli.servers import cmd_server_add_quick_connect, cmd_server_add_sign_in
from app.cli.servers import register as register_server_signin
from app.core.errors import ValidationError, ZondarrError, new_correlation_id, register_secret
from app.core.filters import TrackFilter, TrackSort
from app.core.models import AuthMethod, Credentials, NewServer, ServerKind, Track
from app.core.settings import Settings
from app.core.validate import MAX_DAYS
from app.process import freeze_long_lived
from app.services.context import AppContext
from app.services.export import iter_tracks_by_id, write_tracks_csv
from app.services.users import inactive_for
from app.storage.paths import default_data_dir
from app.wiring import build_context

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


class OpenWindow(Protocol):
    """Opens the window and runs until it quits; returns the exit code (``app.entry`` passes ``app.main.run_gui``)."""

    def __call__(self, data_dir: Path, *, demo: bool, self_test: bool, hidden: bool) -> int: ...


log = logging.getLogger(__name__)


# ---------------------------------------------------------------- commands


async def cmd_server_add(ctx: AppContext, args: argparse.Namespace) -> int:
    if args.sign_in:
        return await cmd_server_add_sign_in(ctx, args)
    if args.quick_connect:
        return await cmd_server_add_quick_connect(ctx, args)
    if not args.name or not args.url:
        raise ValidationError(
            "server add needs --name and --url.", remedy="Give both, or use --sign-in to pick a Plex server."
        )
    if args.kind is None:
        found = await ctx.servers.detect(args.url)
        print(f"{found.kind.value.capitalize()} server: {found.message}.", file=sys.stderr)
        args.kind, args.url = found.kind.value, found.url
    kind = ServerKind(args.kind)
    if args.username:
        method = AuthMethod.PASSWORD
        creds = Credentials(username=args.username, password=_read_secret(args.password_stdin, "password"))
    else:
        method = AuthMethod.TOKEN if kind is ServerKind.PLEX else AuthMethod.API_KEY
        creds = Credentials(token=_read_secret(args.token_stdin, "token"))
    server = await ctx.servers.add(NewServer(args.name, kind, args.url, method), creds)
    if getattr(ctx.secrets, "fallback_in_use", False):
        print(
            "zondarr: no system keychain is available, so the token is kept in secrets.json (mode 0600) in "
            f"{ctx.data_dir}.",
            file=sys.stderr,
        )
    if args.json:
        print_json(server_json(server, 0))
    else:
        print(term(f"Added {server.name} ({server.kind.value} {server.version or ''}) at {server.url}."))
    return EXIT_OK


async def cmd_server_list(ctx: AppContext, args: argparse.Namespace) -> int:
    servers = ctx.server_store.list()
    counts = {s.id: sum(ctx.tracks.library_track_counts(s.id).values()) for s in servers}
    if args.json:
        print_json([server_json(s, counts[s.id]) for s in servers])
        return EXIT_OK
    if not servers:
        print("No servers yet. Add one with `zondarr server add`.")
    for s in servers:
        print(term(f"{s.name:<20} {s.kind.value:<9} {s.url:<32} {counts[s.id]:>9,} tracks"))
    return EXIT_OK


async def cmd_server_test(ctx: AppContext, args: argparse.Namespace) -> int:
    try:
        identity = await ctx.servers.test(args.name)
    except ZondarrError as err:  # the failure class says why and what to do; main reports and records it
        if not args.json:
            main_stderr(f"{args.name}: test failed.\n{describe_failure(err)}")
        raise
    if args.json:
        print_json(
            {
                "server": args.name,
                "ok": True,
                "name": identity.name,
                "version": identity.version,
                "machine_id": identity.machine_id,
            }
        )
    else:
        print(term(f"{args.name}: OK — {identity.name}, {identity.kind.value} {identity.version}"))
    return EXIT_OK


async def cmd_server_remove(ctx: AppContext, args: argparse.Namespace) -> int:
    server = await ctx.servers.remove(args.name)
    if args.json:
        print_json({"removed": server.name})
    else:
        print(f"Removed {server.name} and its cached data.")
    return EXIT_OK


async def cmd_sync(ctx: AppContext, args: argparse.Namespace) -> int:
    printer = ProgressPrinter()
    try:
        result = await ctx.sync.sync(
            args.names, trigger="cli", progress=printer, allow_removals=args.allow_removals
        )
    finally:
        printer.close()
    if args.json:
        print_json(result.to_json())
    else:
        print("\n".join(term(line) for line in result.summary.splitlines()))
    return result.exit_code


def _track_filter(args: argparse.Namespace) -> TrackFilter:
    return TrackFilter(
        server=args.server,
        genre=args.genre,
        decade=args.decade,
        min_rating=args.min_rating,
        exclude_live=args.exclude_live,
        search=args.search,
    )


def iter_tracks(ctx: AppContext, flt: TrackFilter, sort: TrackSort, limit: int | None) -> Iterator[Track]:
    """Streams a view by id snapshot + pages by primary key (never one huge result set)."""
    ids = ctx.tracks.ids(flt, sort)
    yield from iter_tracks_by_id(ctx.tracks, ids if limit is None else ids[:limit])


async def cmd_tracks(ctx: AppContext, args: argparse.Namespace) -> int:
    flt = _track_filter(args)
    sort = TrackSort.parse(args.sort)
    tracks = iter_tracks(ctx, flt, sort, args.limit)
    writer: Callable[..., int] = (
        write_tracks_json if args.json else write_tracks_csv if args.csv else write_tracks_text
    )
    writer(tracks, sys.stdout)
    return EXIT_OK


async def cmd_users(ctx: AppContext, args: argparse.Namespace) -> int:
    users = ctx.users.list(server=args.server, search=args.search)
    if args.inactive_days is not None:
        users = inactive_for(users, ctx.clock(), args.inactive_days)
    if args.json:
        print_json([u.to_json() for u in users])
    else:
        print(format_users(users))
    return EXIT_OK


async def cmd_settings(ctx: AppContext, args: argparse.Namespace) -> int:
    """`settings [list]`, `settings set NAME VALUE` (validated before it is stored), `settings unset NAME`."""
    stored = ctx.settings_store.load_raw()
    if args.settings_command == "set":
        if args.name not in Settings.__dataclass_fields__:
            raise ValidationError(
                f"There is no setting named {args.name!r}.", remedy="See `zondarr settings list`."
            )
        Settings.load({**stored, args.name: args.value}, {})  # refuses a bad value, naming it
        await ctx.runner.db(ctx.settings_store.save_raw, {**stored, args.name: args.value})
    elif args.settings_command == "unset":
        stored.pop(args.name, None)
        await ctx.runner.db(ctx.settings_store.save_raw, stored)
    effective = Settings.load(ctx.settings_store.load_raw()).to_raw()
    if args.json:
        print_json(effective)
    else:
        for name, value in effective.items():
            print(f"{name:<26} {value}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from app.cli.demo import run_headless_demo  # demo servers are wired only for this command

    data_dir = args.data_dir or default_data_dir() / "demo"
    return asyncio.run(run_headless_demo(data_dir, tracks=args.tracks, as_json=args.json))


def cmd_demo_server(args: argparse.Namespace) -> int:
    from app.cli.demo import serve_demo_server

    return serve_demo_server(args, _read_secret(True, "token") if args.token_stdin else None)


def _read_secret(from_stdin: bool, what: str) -> str:
    if not from_stdin:
        raise ValidationError(
            f"No {what} was given.", remedy=f"Pipe the {what} on stdin with --{what}-stdin."
        )
    value = sys.stdin.readline().strip()
    if not value:
        raise ValidationError(f"The {what} on stdin was empty.", remedy=f"Pipe the {what} on stdin.")
    register_secret(value)
    return value


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="zondarr", description="Zondarr: one place for your Plex and Jellyfin servers."
    )
    p.add_argument("--version", action="version", version=f"zondarr {__version__}")
    p.add_argument("--data-dir", type=Path, help="cache and settings folder (env ZONDARR_DATA_DIR)")
    p.add_argument(
        "--demo",
        action="store_true",
        help="open the window on demo Plex + Jellyfin servers started in-process (data dir: <data dir>/demo-gui)",
    )
    p.add_argument(
        "--self-test",
        action="store_true",
        help="open the window, wait for the first painted rows, print one JSON line and exit",
    )
    p.add_argument(
        "--hidden",
        action="store_true",
        help="start in the tray without showing the window (how start at login opens Zondarr)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    server = sub.add_parser("server", help="add, list, test or remove servers")
    ssub = server.add_subparsers(dest="server_command", metavar="ACTION", required=True)
    add = with_json(ssub.add_parser("add", help="test a server and add it"))
    add.add_argument(
        "--kind",
        choices=[k.value for k in ServerKind],
        help="plex or jellyfin (detected from --url when left out)",
    )
    add.add_argument(
        "--name",
        type=name_of("The server name"),
        help="the server's name in Zondarr (with --sign-in: the server's own name)",
    )
    add.add_argument("--url", help="the server's address (not needed with --sign-in)")
    add.add_argument(
        "--token-stdin", action="store_true", help="read the Plex token / Jellyfin API key from stdin"
    )
    add.add_argument("--username", help="Jellyfin user (with --password-stdin)")
    add.add_argument("--password-stdin", action="store_true", help="read the Jellyfin password from stdin")
    add_sign_in_arguments(add)
    add.set_defaults(in_context=cmd_server_add)
    with_json(ssub.add_parser("list", help="list servers")).set_defaults(in_context=cmd_server_list)
    test = with_json(ssub.add_parser("test", help="test a server's connection"))
    test.add_argument("name")
    test.set_defaults(in_context=cmd_server_test)
    rm = with_json(ssub.add_parser("remove", help="remove a server and its cached data"))
    rm.add_argument("name")
    rm.set_defaults(in_context=cmd_server_remove)
    register_server_signin(ssub)

    sync = with_json(sub.add_parser("sync", help="refresh the cache from servers (progress on stderr)"))
    sync.add_argument("names", nargs="*", metavar="NAME")
    sync.add_argument(
        "--allow-removals",
        action="store_true",
        help="apply a listing even when it removes more than max_removal_pct of a library or of the users",
    )
    sync.set_defaults(in_context=cmd_sync)

    tracks = sub.add_parser("tracks", help="query cached tracks")
    tracks.add_argument("--server")
    tracks.add_argument("--genre")
    tracks.add_argument("--decade", type=int_in(1000, 2990, "--decade"), help="e.g. 1990")
    tracks.add_argument("--min-rating", type=number_in(0, 10, "--min-rating"))
    tracks.add_argument("--exclude-live", action="store_true")
    tracks.add_argument("--search")
    tracks.add_argument(
        "--sort",
        default="title",
        help="title, artist, album, genre, year, rating, duration, server, added; prefix - for descending",
    )
    tracks.add_argument("--limit", type=LIMIT, help="at most N tracks (N >= 1)")
    fmt = tracks.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true")
    tracks.set_defaults(in_context=cmd_tracks)

    users = with_json(sub.add_parser("users", help="list cached users"))
    users.add_argument("--server")
    users.add_argument("--search")
    users.add_argument(
        "--inactive-days",
        type=int_in(0, MAX_DAYS, "--inactive-days"),
        metavar="N",
        help="only accounts whose last activity is older than N days (unknown activity is left out)",
    )
    users.set_defaults(in_context=cmd_users)

    st = with_json(sub.add_parser("settings", help="show or change settings stored in the cache"))
    stsub = st.add_subparsers(dest="settings_command", metavar="ACTION")
    stsub.add_parser("list", help="effective settings (ZONDARR_* variables win)")
    st_set = stsub.add_parser("set", help="store a setting")
    st_set.add_argument("name")
    st_set.add_argument("value")
    st_unset = stsub.add_parser("unset", help="forget a stored setting")
    st_unset.add_argument("name")
    st.set_defaults(in_context=cmd_settings)

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
    register_health(sub)  # health, diagnose, errors (app/cli_health.py)
    register_people(sub)  # invite, users enable|disable|delete, identity, tasks (app/cli_people.py)
    register_backup(sub)  # backup create|list|restore (app/cli/backup.py)
    return p


def main(argv: Sequence[str] | None = None, open_window: OpenWindow | None = None) -> int:
    """Runs one command line; returns the exit code. Without a subcommand it opens the window through
    ``open_window`` (the entry point's, so that the CLI never imports the desktop app); without one, the usage
    is printed and the exit code is 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if open_window is None:
            parser.print_usage(sys.stderr)
            return EXIT_USAGE
        data_dir = args.data_dir or default_data_dir()
        return open_window(data_dir, demo=args.demo, self_test=args.self_test, hidden=args.hidden)
    try:
        try:
            if hasattr(args, "standalone"):  # runs on its own: no cache is opened for it
                return int(args.standalone(args))
            return _run(args)
        except ValidationError as err:
            _report(err, args)
            return EXIT_USAGE
        except ZondarrError as err:
            _report(err, args)
            return EXIT_FAILURE
        except KeyboardInterrupt:
            print("Interrupted.", file=sys.stderr)
            return EXIT_FAILURE
    except BrokenPipeError:  # the reader went away (`tracks --json | head`): stop quietly, like other tools
        _detach_stdout()
        return EXIT_OK
    except Exception as exc:  # a defect: one line with a reference here, the traceback in the log
        cid = new_correlation_id()
        log.error("unexpected error in %r (ref %s)", args.command, cid, exc_info=True)
        print(
            f"zondarr: the command stopped on an unexpected error ({type(exc).__name__}). Please report it with "
            f"the reference; the log in the data folder has the detail. (ref {cid})",
            file=sys.stderr,
        )
        return EXIT_FAILURE


def _detach_stdout() -> None:
    """Points stdout at the null device so that flushing it at exit does not raise (and print) again."""
    try:
        sys.stdout.flush()
    except OSError:
        pass
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (
        OSError,
        ValueError,
        io.UnsupportedOperation,
    ):  # a stdout without a file (tests): nothing to flush
        pass


def _run(args: argparse.Namespace) -> int:
    data_dir = args.data_dir or default_data_dir()
    ctx = build_context(data_dir)
    freeze_long_lived()  # start-up is done: full collections during a sync skip it (app/process.py)
    try:
        command: Callable[[AppContext, argparse.Namespace], Coroutine[Any, Any, int]] = args.in_context
        try:
            for name in _named_servers(args):  # every --server/SERVER argument names a server, or exit 2
                known_server(ctx, name)
            return asyncio.run(command(ctx, args))
        except ZondarrError as err:
            record_cli_error(ctx, err)  # the error event behind the reference main() prints
            raise
    finally:
        ctx.close()


def _named_servers(args: argparse.Namespace) -> list[str]:
    value = getattr(args, "server", None)
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _report(err: ZondarrError, args: argparse.Namespace) -> None:
    print(f"zondarr: {term(err.display())}", file=sys.stderr)
    if getattr(args, "json", False):
        print_json(err.to_dict())
