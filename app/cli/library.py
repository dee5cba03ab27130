"""``zondarr tracks`` and ``zondarr users``: what the cache holds, streamed as text, CSV or JSON."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator

from app.cli.args import LIMIT, int_in, number_in
from app.cli.render import (
    format_users,
    print_json,
    with_json,
    write_tracks_json,
    write_tracks_text,
)
from app.core.filters import TrackFilter, TrackSort
from app.core.models import Track
from app.core.validate import MAX_DAYS
from app.services.context import AppContext
from app.services.export import iter_tracks_by_id, write_tracks_csv
from app.services.users import inactive_for

EXIT_OK = 0


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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``tracks`` and ``users`` (the listing; ``app.cli.people`` adds the account actions under it)."""
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
