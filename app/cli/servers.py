"""``zondarr server add --sign-in | --quick-connect`` and ``zondarr server discover``: adding servers the way
admins do (Sign in with Plex and the account's servers; Jellyfin servers found on the network).

Links and codes go to stderr (stdout stays the result: a line, or JSON with ``--json``); the command waits until
the sign-in is approved, expires, or Ctrl+C cancels it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from app.cli.render import print_json, server_json, term
from app.core.errors import ConfigurationError, ServerUnreachable, ValidationError
from app.core.models import ServerKind
from app.core.signin import ChosenConnection, PlexResource
from app.services.context import AppContext
from app.services.plex_signin import PlexSignInService


def add_arguments(add: argparse.ArgumentParser) -> None:
    """The sign-in options of ``server add`` (its --name/--url stay optional for them)."""
    add.add_argument(
        "--sign-in", action="store_true", help="Plex: sign in with plex.tv in the browser (link on stderr)"
    )
    add.add_argument(
        "--pick", metavar="NAME|ID", help="with --sign-in: which of the account's servers to add"
    )


def register(ssub: Any, with_json: Callable[[argparse.ArgumentParser], argparse.ArgumentParser]) -> None:
    """Adds ``server discover`` to the ``server`` sub-commands."""
    disc = with_json(
        ssub.add_parser(
            "discover", help="list the Plex account's servers (plex.tv) or Jellyfin servers on the LAN"
        )
    )
    disc.add_argument("--kind", choices=[k.value for k in ServerKind], default="plex")
    disc.add_argument("--token-stdin", action="store_true", help="Plex: read an account token from stdin")
    disc.set_defaults(handler=cmd_server_discover)


def _signin(ctx: AppContext) -> PlexSignInService:
    if ctx.plex_signin is None:
        raise ConfigurationError("This build cannot sign in with Plex.")
    return ctx.plex_signin


async def plex_token_by_sign_in(ctx: AppContext) -> str:
    """The PIN flow on the command line: the link on stderr, then wait (Ctrl+C cancels)."""
    svc = _signin(ctx)
    pin = await svc.start()
    print(
        f"Sign in with Plex: open this link in a browser (on any device) and approve Zondarr:\n  {pin.auth_url}\n"
        "Waiting for the sign-in (press Ctrl+C to cancel)…",
        file=sys.stderr,
        flush=True,
    )
    token = await svc.wait_for_token(pin)
    print("Signed in to plex.tv.", file=sys.stderr)
    return token


async def cmd_server_add_sign_in(ctx: AppContext, args: argparse.Namespace) -> int:
    if args.kind != ServerKind.PLEX.value:
        raise ValidationError("--sign-in is for Plex servers.", remedy="Use --quick-connect for Jellyfin.")
    svc = _signin(ctx)
    token = await plex_token_by_sign_in(ctx)
    resource = await svc.find(token, args.pick)
    chosen = await svc.choose_connection(resource)
    print(term(f"{resource.name}: {chosen.why} ({chosen.connection.uri})."), file=sys.stderr)
    server = await ctx.servers.add_from_plex(chosen, args.name)
    if args.json:
        print_json(server_json(server, 0))
    else:
        print(term(f"Added {server.name} ({server.kind.value} {server.version or ''}) at {server.url}."))
    return 0


async def _choices(svc: PlexSignInService, found: list[PlexResource]) -> list[ChosenConnection | None]:
    async def one(resource: PlexResource) -> ChosenConnection | None:
        try:
            return await svc.choose_connection(resource)
        except ServerUnreachable:
            return None

    return list(await asyncio.gather(*(one(r) for r in found)))


async def cmd_server_discover(ctx: AppContext, args: argparse.Namespace) -> int:
    if args.kind == ServerKind.JELLYFIN.value:
        return await cmd_discover_jellyfin(ctx, args)
    svc = _signin(ctx)
    if args.token_stdin:
        token = sys.stdin.readline().strip()
        if not token:
            raise ValidationError(
                "The token on stdin was empty.", remedy="Pipe a Plex account token on stdin."
            )
    else:
        token = await plex_token_by_sign_in(ctx)
    found = await svc.servers(token)
    chosen = await _choices(svc, found)
    added = {s.machine_id: s.name for s in ctx.server_store.list() if s.machine_id}
    rows = [
        {
            "name": r.name,
            "machine_id": r.machine_id,
            "owned": r.owned,
            "connections": [{"uri": c.uri, "where": c.where, "protocol": c.protocol} for c in r.connections],
            "chosen": c.connection.uri if c else None,
            "why": c.why if c else "no address answered",
            "added_as": added.get(r.machine_id),
        }
        for r, c in zip(found, chosen, strict=True)
    ]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("The Plex account has no servers.")
    for row in rows:
        mark = f"  (already added as {row['added_as']})" if row["added_as"] else ""
        owner = "owned" if row["owned"] else "shared"
        print(term(f"{row['name']}  [{owner}]  {row['chosen'] or '-'}  — {row['why']}{mark}"))
    return 0


async def cmd_discover_jellyfin(ctx: AppContext, args: argparse.Namespace) -> int:
    raise ConfigurationError("Jellyfin discovery is not available in this build.")
