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
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, Protocol

from app import __version__
from app.cli.args import known_server
from app.cli.backup import register as register_backup
from app.cli.demo import register as register_demo
from app.cli.health import record_cli_error
from app.cli.health import register as register_health
from app.cli.library import register as register_library
from app.cli.people import register as register_people
from app.cli.render import (
    print_json,
    term,
)
from app.cli.servers import register as register_servers
from app.cli.settings import register as register_settings
from app.cli.sync import register as register_sync
from app.core.errors import ValidationError, ZondarrError, new_correlation_id
from app.core.ports import Clock
from app.process import freeze_long_lived
from app.services.context import AppContext
from app.storage.paths import default_data_dir
from app.wiring import build_context

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


class OpenWindow(Protocol):
    """Opens the window and runs until it quits; returns the exit code (``app.entry`` passes ``app.main.run_gui``)."""

    def __call__(self, data_dir: Path, *, demo: bool, self_test: bool, hidden: bool) -> int: ...


log = logging.getLogger(__name__)


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
    register_servers(sub)  # server add|list|test|remove|discover|api-key
    register_sync(sub)  # sync
    register_library(sub)  # tracks, users (the listing; people.py adds the account actions under it)
    register_settings(sub)  # settings list|set|unset
    register_demo(sub)  # demo, demo-server
    register_health(sub)  # health, diagnose, errors
    register_people(sub)  # invite, users enable|disable|delete|…, identity, tasks
    register_backup(sub)  # backup create|list|restore
    return p


def main(
    argv: Sequence[str] | None = None, open_window: OpenWindow | None = None, *, clock: Clock = time.time
) -> int:
    """Runs one command line; returns the exit code. Without a subcommand it opens the window through
    ``open_window`` (the entry point's, so that the CLI never imports the desktop app); without one, the usage
    is printed and the exit code is 2. ``clock``: the time the services and stores see (tests move it)."""
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
            return _run(args, clock)
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


def _run(args: argparse.Namespace, clock: Clock = time.time) -> int:
    data_dir = args.data_dir or default_data_dir()
    ctx = build_context(data_dir, clock=clock)
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
