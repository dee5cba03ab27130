"""``zondarr sync``: refresh the cache from servers, progress on stderr, the summary (or JSON) on stdout."""

from __future__ import annotations

import argparse

from app.cli.render import (
    ProgressPrinter,
    print_json,
    term,
    with_json,
)
from app.services.context import AppContext

EXIT_OK = 0


async def cmd_sync(ctx: AppContext, args: argparse.Namespace) -> int:
    printer = ProgressPrinter()
    try:
        result = await ctx.sync.sync(
            args.names,
            trigger="cli",
            progress=printer,
            allow_removals=args.allow_removals,
            full=args.full,
        )
    finally:
        printer.close()
    if args.json:
        print_json(result.to_json())
    else:
        print("\n".join(term(line) for line in result.summary.splitlines()))
    return result.exit_code


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``sync``."""
    sync = with_json(sub.add_parser("sync", help="refresh the cache from servers (progress on stderr)"))
    sync.add_argument("names", nargs="*", metavar="NAME")
    sync.add_argument(
        "--allow-removals",
        action="store_true",
        help="apply a listing even when it removes more than max_removal_pct of a library or of the users",
    )
    sync.add_argument(
        "--full", action="store_true", help="list every item, not only what changed since the last sync"
    )
    sync.set_defaults(in_context=cmd_sync)
