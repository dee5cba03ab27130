"""Command line for people over time: ``users access|expire|history``, ``identity access|expire|history``.
``register(users_sub, identity_sub)`` is called by ``app.cli.people.register``. Exit codes as for the
other user actions: 0 every account done, 1 none, 3 some (per-account results in ``--json``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date

from app.cli.args import int_in
from app.cli.people_outcomes import _exit_for, _print_outcomes
from app.cli.render import format_time, print_json, term, with_json
from app.core.errors import ValidationError
from app.core.models import AccountEvent, AccountRef, Restrictions
from app.core.validate import MAX_DAYS
from app.services.context import AppContext
from app.services.expiry import ExpiryChange


def _change(args: argparse.Namespace) -> ExpiryChange:
    on = None
    if args.on is not None:
        try:
            on = date.fromisoformat(args.on)
        except ValueError:
            raise ValidationError(f"{args.on!r} is not a day.", remedy="Write it like 2030-06-01.") from None
    return ExpiryChange(on=on, in_days=args.in_days, extend_days=args.extend, never=args.never)


def _print_events(events: Sequence[AccountEvent], as_json: bool) -> None:
    if as_json:
        print_json([e.to_json() for e in events])
        return
    if not events:
        print("Nothing recorded yet.")
    for e in events:
        when = format_time(e.at)
        print(
            term(
                f"{when}  {'OK  ' if e.ok else 'FAIL'} {e.action:<16} {e.trigger:<10} {e.server}:{e.username}  {e.message}"
            )
        )


async def cmd_users_access(ctx: AppContext, args: argparse.Namespace) -> int:
    libraries = None if args.all_libraries else ([] if args.no_libraries else args.library)
    outcomes = await ctx.people.users.access(args.server, args.names, libraries)
    _print_outcomes(outcomes, args.json)
    return _exit_for(outcomes)


async def cmd_users_expire(ctx: AppContext, args: argparse.Namespace) -> int:
    outcomes = await ctx.people.expiry.change(args.server, args.names, _change(args))
    _print_outcomes(outcomes, args.json)
    return _exit_for(outcomes)


async def cmd_users_history(ctx: AppContext, args: argparse.Namespace) -> int:
    service = ctx.people.users
    if args.name and not args.server:
        raise ValidationError("A user needs its server.", remedy="Add --server NAME.")
    _print_events(await service.history(args.server, args.name, args.limit), args.json)
    return 0


async def cmd_users_expired(ctx: AppContext, args: argparse.Namespace) -> int:
    """Expired accounts past their grace period (``disable-then-delete``); with ``--delete`` the admin confirms
    their deletion (what the window's "Expired: N to delete…" does)."""
    expiry = ctx.people.expiry
    pending = await ctx.runner.read(expiry.pending_deletions)
    refs = [AccountRef(p.server_id, p.remote_id) for p in pending]
    if args.delete:
        outcomes = await expiry.confirm_deletions(refs)
        _print_outcomes(outcomes, args.json)
        return _exit_for(outcomes)
    rows: list[dict[str, object]] = []
    lines = []
    for p in pending:
        user = await ctx.runner.read(ctx.people.users.find_cached, p.server_id, p.remote_id)
        rows.append({
            "server": user.server if user else str(p.server_id), "id": p.remote_id,
            "username": user.username if user else p.remote_id, "expires_at": p.expires_at,
            "disabled_at": p.disabled_at,
        })  # fmt: skip
        lines.append(term(f"{rows[-1]['server']}:{rows[-1]['username']} expired {format_time(p.expires_at)}"))
    if args.json:
        print_json(rows)
    elif not rows:
        print("No expired account waits for deletion.")
    else:
        print("\n".join(lines))
    return 0


def restrictions_of(args: argparse.Namespace) -> Restrictions:
    return Restrictions(args.max_sessions, args.downloads, args.remote)


def restriction_options(sp: argparse.ArgumentParser) -> None:
    """``--max-sessions N``, ``--downloads/--no-downloads``, ``--remote/--no-remote`` (unset = unchanged)."""
    sp.add_argument(
        "--max-sessions",
        type=int_in(0, 100, "--max-sessions"),
        metavar="N",
        help="Jellyfin: at most N active sessions (0 = no limit)",
    )
    sp.add_argument(
        "--downloads",
        action=argparse.BooleanOptionalAction,
        help="allow downloads (Jellyfin; Plex: allow sync)",
    )
    sp.add_argument("--remote", action=argparse.BooleanOptionalAction, help="Jellyfin: allow remote access")


async def cmd_users_restrict(ctx: AppContext, args: argparse.Namespace) -> int:
    outcomes = await ctx.people.users.restrict(args.server, args.names, restrictions_of(args))
    _print_outcomes(outcomes, args.json)
    return _exit_for(outcomes)


async def cmd_identity_access(ctx: AppContext, args: argparse.Namespace) -> int:
    outcomes = await ctx.people.identities.access(args.name, args.libraries)
    _print_outcomes(outcomes, args.json)
    return _exit_for(outcomes)


async def cmd_identity_expire(ctx: AppContext, args: argparse.Namespace) -> int:
    refs = ctx.people.identities.refs(args.name)
    outcomes = await ctx.people.expiry.apply(refs, _change(args))
    _print_outcomes(outcomes, args.json)
    return _exit_for(outcomes)


async def cmd_identity_history(ctx: AppContext, args: argparse.Namespace) -> int:
    _print_events(ctx.people.identities.history(args.name, args.limit), args.json)
    return 0


def _expiry_options(sp: argparse.ArgumentParser) -> None:
    when = sp.add_mutually_exclusive_group(required=True)
    when.add_argument(
        "--on", metavar="DATE", help="ends at the start of this day (local time), e.g. 2030-06-01"
    )
    when.add_argument(
        "--in",
        dest="in_days",
        type=int_in(1, MAX_DAYS, "--in"),
        metavar="DAYS",
        help="ends DAYS days from now",
    )
    when.add_argument(
        "--extend",
        type=int_in(1, MAX_DAYS, "--extend"),
        metavar="DAYS",
        help="DAYS more, from the current expiry (or from today)",
    )
    when.add_argument("--never", action="store_true", help="clear the expiry")


def _limit(sp: argparse.ArgumentParser) -> None:
    sp.add_argument(
        "--limit",
        type=int_in(1, 10_000, "--limit"),
        default=500,
        metavar="N",
        help="newest N rows (1-10000, default 500)",
    )


def register(
    usub: argparse._SubParsersAction[argparse.ArgumentParser],
    idsub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    ua = with_json(usub.add_parser("access", help="set the libraries of accounts on one server"))
    ua.add_argument("--server", required=True, metavar="NAME")
    ua.add_argument("names", nargs="+", metavar="USER", help="username or id")
    which = ua.add_mutually_exclusive_group(required=True)
    which.add_argument("--library", action="append", metavar="LIB", help="library title or key (repeat)")
    which.add_argument("--all-libraries", action="store_true", help="every library, present and future")
    which.add_argument("--no-libraries", action="store_true", help="no library at all")
    ua.set_defaults(in_context=cmd_users_access)

    ue = with_json(usub.add_parser("expire", help="set, extend or clear the expiry of accounts"))
    ue.add_argument("--server", required=True, metavar="NAME")
    ue.add_argument("names", nargs="+", metavar="USER", help="username or id")
    _expiry_options(ue)
    ue.set_defaults(in_context=cmd_users_expire)

    ur = with_json(usub.add_parser("restrict", help="sessions, downloads and remote access of accounts"))
    ur.add_argument("--server", required=True, metavar="NAME")
    ur.add_argument("names", nargs="+", metavar="USER", help="username or id")
    restriction_options(ur)
    ur.set_defaults(in_context=cmd_users_restrict)

    ux = with_json(
        usub.add_parser("expired", help="expired accounts past their grace period, waiting for deletion")
    )
    ux.add_argument("--delete", action="store_true", help="delete them on their servers (your confirmation)")
    ux.set_defaults(in_context=cmd_users_expired)

    uh = with_json(usub.add_parser("history", help="what Zondarr did to accounts, newest first"))
    uh.add_argument("--server", metavar="NAME")
    uh.add_argument("name", nargs="?", metavar="USER")
    _limit(uh)
    uh.set_defaults(in_context=cmd_users_history)

    ia = with_json(idsub.add_parser("access", help="set a person's libraries per server"))
    ia.add_argument("name")
    ia.add_argument(
        "libraries", nargs="+", metavar="SERVER:LIB", help="LIB = title or key; SERVER:* every, SERVER:- none"
    )
    ia.set_defaults(in_context=cmd_identity_access)

    ie = with_json(idsub.add_parser("expire", help="set, extend or clear the expiry of a person's accounts"))
    ie.add_argument("name")
    _expiry_options(ie)
    ie.set_defaults(in_context=cmd_identity_expire)

    ih = with_json(idsub.add_parser("history", help="a person's timeline, newest first"))
    ih.add_argument("name")
    _limit(ih)
    ih.set_defaults(in_context=cmd_identity_history)
