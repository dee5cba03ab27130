"""Command line for signing in someone's device: ``users quick-connect --server NAME USER CODE`` approves the
6-digit Quick Connect code their Jellyfin app shows, as their account (no password typed or sent).

``register(users_subparsers)`` is called by ``app.cli.people`` while it builds the ``users`` group.
Main thread; exit 0 when the device is signed in, 1 otherwise (the message says why and what to do).
"""

from __future__ import annotations

import argparse

from app.cli.render import print_json, term, with_json
from app.services.context import AppContext


async def cmd_users_quick_connect(ctx: AppContext, args: argparse.Namespace) -> int:
    outcome = await ctx.people.devices.authorize(args.server, args.user, args.code)
    if args.json:
        print_json({"ok": outcome.ok, "results": [outcome.to_json()]})
    else:
        print(f"{'OK  ' if outcome.ok else 'FAIL'} {term(outcome.message)}")
    return 0 if outcome.ok else 1


def register(usub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    qc = with_json(
        usub.add_parser(
            "quick-connect", help="sign in someone's device: approve its Quick Connect code (Jellyfin)"
        )
    )
    qc.add_argument("--server", required=True, metavar="NAME")
    qc.add_argument("user", metavar="USER", help="username or id of the account to sign in as")
    qc.add_argument("code", metavar="CODE", help="the 6 digits their Jellyfin app shows")
    qc.set_defaults(in_context=cmd_users_quick_connect)
