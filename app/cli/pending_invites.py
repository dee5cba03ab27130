"""Command line for Plex invitations pending on plex.tv: ``users pending [--server NAME] [--older-than DAYS]``,
``users resend --server NAME USER...`` and ``users cancel --server NAME USER...``.

``register(users_subparsers, with_json)`` is called by ``app.cli.people`` while it builds the ``users`` group.
Main thread; exit 0 when every account succeeded, 3 when some failed, 1 when all failed (DESIGN §6).
"""

from __future__ import annotations

import argparse
import time

from app.cli.args import days_up_to
from app.cli.render import print_json, term, with_json
from app.services.context import AppContext
from app.services.pending_invites import PendingInviteService


def _service(ctx: AppContext) -> PendingInviteService:
    return ctx.people.pending_invites


def _date(epoch: float | None) -> str:
    return "-" if epoch is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch))


async def cmd_users_pending(ctx: AppContext, args: argparse.Namespace) -> int:
    users = await _service(ctx).pending(args.server, args.older_than)
    if args.json:
        print_json([u.to_json() for u in users])
        return 0
    if not users:
        print("No invitation is pending on plex.tv.")
    for u in users:
        print(f"{term(u.server)}\t{term(u.username)}\tpending on plex.tv since {_date(u.pending_since)}")
    return 0


async def cmd_users_invite_action(ctx: AppContext, args: argparse.Namespace) -> int:
    service = _service(ctx)
    act = service.resend if args.users_command == "resend" else service.cancel
    outcomes = await act(args.server, args.names)
    if args.json:
        print_json({"ok": all(o.ok for o in outcomes), "results": [o.to_json() for o in outcomes]})
    else:
        for o in outcomes:
            print(f"{'OK  ' if o.ok else 'FAIL'} {term(o.message)}")
    failed = sum(not o.ok for o in outcomes)
    return 0 if failed == 0 else (1 if failed == len(outcomes) else 3)


def register(usub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pending = with_json(usub.add_parser("pending", help="Plex invitations not accepted yet on plex.tv"))
    pending.add_argument("--server", metavar="NAME")
    pending.add_argument(
        "--older-than", type=days_up_to(what="--older-than"), metavar="DAYS", help="only those pending longer"
    )
    pending.set_defaults(in_context=cmd_users_pending)
    for action, text in (
        ("resend", "send pending Plex invitations again"),
        ("cancel", "cancel pending Plex invitations"),
    ):
        sp = with_json(usub.add_parser(action, help=text))
        sp.add_argument("--server", required=True, metavar="NAME")
        sp.add_argument("names", nargs="+", metavar="USER", help="username, e-mail or id")
        sp.set_defaults(in_context=cmd_users_invite_action)
