"""The ``server`` commands: ``add`` (by URL and token or password, or ``--sign-in`` / ``--quick-connect``: adding
servers the way admins do), ``list``, ``test``, ``remove``, ``discover`` (the Plex account's servers; Jellyfin
servers found on the network) and ``api-key``.

Links and codes go to stderr (stdout stays the result: a line, or JSON with ``--json``); the command waits until
the sign-in is approved, expires, or Ctrl+C cancels it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from app.cli.args import name_of, read_secret
from app.cli.health import describe_failure, main_stderr
from app.cli.render import print_json, server_json, term, with_json
from app.core.errors import ServerUnreachable, ValidationError, ZondarrError, register_secret
from app.core.models import AuthMethod, Credentials, NewServer, ServerKind
from app.core.signin import ChosenConnection, PlexResource, not_admin_note
from app.services.context import AppContext
from app.services.jellyfin_signin import JellyfinSignInService
from app.services.plex_signin import PlexSignInService

EXIT_OK = 0


def add_arguments(add: argparse.ArgumentParser) -> None:
    """The sign-in options of ``server add`` (its --name/--url stay optional for them)."""
    add.add_argument(
        "--sign-in", action="store_true", help="Plex: sign in with plex.tv in the browser (link on stderr)"
    )
    add.add_argument(
        "--pick", metavar="NAME|ID", help="with --sign-in: which of the account's servers to add"
    )
    add.add_argument(
        "--quick-connect", action="store_true", help="Jellyfin: sign in with a Quick Connect code (on stderr)"
    )
    add.add_argument(
        "--create-api-key",
        action="store_true",
        help="Jellyfin, with --quick-connect: then create an API key for Zondarr (administrators)",
    )


def register_discovery(ssub: Any) -> None:
    """Adds ``server discover`` and ``server api-key`` to the ``server`` sub-commands."""
    disc = with_json(
        ssub.add_parser(
            "discover", help="list the Plex account's servers (plex.tv) or Jellyfin servers on the LAN"
        )
    )
    disc.add_argument("--kind", choices=[k.value for k in ServerKind], default="plex")
    disc.add_argument("--token-stdin", action="store_true", help="Plex: read an account token from stdin")
    disc.set_defaults(in_context=cmd_server_discover)
    key = with_json(ssub.add_parser("api-key", help="Jellyfin: create or revoke Zondarr's API key"))
    key.add_argument("action", choices=["create", "revoke"])
    key.add_argument("name")
    key.set_defaults(in_context=cmd_server_api_key)


def _signin(ctx: AppContext) -> PlexSignInService:
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
    if args.kind not in (None, ServerKind.PLEX.value):
        raise ValidationError("--sign-in is for Plex servers.", remedy="Use --quick-connect for Jellyfin.")
    svc = _signin(ctx)
    token = await plex_token_by_sign_in(ctx)
    added = frozenset(s.machine_id for s in ctx.server_store.list() if s.machine_id)
    resource = await svc.find(token, args.pick, added)
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
        register_secret(token)
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


def _jellyfin(ctx: AppContext) -> JellyfinSignInService:
    return ctx.jellyfin_signin


async def cmd_discover_jellyfin(ctx: AppContext, args: argparse.Namespace) -> int:
    found = await _jellyfin(ctx).discover()
    if args.json:
        print_json([{"name": f.name, "url": f.url, "id": f.server_id, "added_as": f.added_as} for f in found])
        return 0
    if not found:
        print("No Jellyfin server answered on the network.")
    for f in found:
        mark = f"  (already added as {f.added_as})" if f.added_as else ""
        print(term(f"{f.name}  {f.url}  {f.server_id}{mark}"))
    return 0


async def cmd_server_add_quick_connect(ctx: AppContext, args: argparse.Namespace) -> int:
    if args.kind not in (None, ServerKind.JELLYFIN.value):
        raise ValidationError("--quick-connect is for Jellyfin servers.", remedy="Use --sign-in for Plex.")
    if not args.url:
        raise ValidationError(
            "--quick-connect needs --url.", remedy="Find it with `zondarr server discover --kind jellyfin`."
        )
    svc = _jellyfin(ctx)
    code, notes = await svc.start_quick_connect(args.url)
    if notes:
        print(f"Using {code.url} ({'; '.join(notes)}).", file=sys.stderr)
    print(
        f"Quick Connect code: {code.code}\nEnter it in any signed-in Jellyfin app (Settings → Quick Connect), or "
        "approve it in the dashboard. Waiting (press Ctrl+C to cancel)…",
        file=sys.stderr,
        flush=True,
    )
    signed = await svc.wait_quick_connect(code)
    server = await svc.add_signed_in(args.name, code, signed)
    if not signed.is_admin:
        print(not_admin_note(signed.username, server.name), file=sys.stderr)
    elif args.create_api_key:
        await svc.create_api_key(server.name)
        print(f"Created an API key for Zondarr on {server.name}.", file=sys.stderr)
    if args.json:
        print_json({**server_json(server, 0), "administrator": signed.is_admin})
    else:
        print(term(f"Added {server.name} ({server.kind.value} {server.version or ''}) at {server.url}."))
    return 0


async def cmd_server_api_key(ctx: AppContext, args: argparse.Namespace) -> int:
    svc = _jellyfin(ctx)
    if args.action == "create":
        await svc.create_api_key(args.name)
        text = f"Created an API key for Zondarr on {args.name}; it is stored in place of the sign-in token."
    else:
        await svc.revoke_api_key(args.name)
        text = f"Revoked Zondarr's API key on {args.name}. Sign in again to use the server."
    if args.json:
        print_json({"server": args.name, "api_key": "created" if args.action == "create" else "revoked"})
    else:
        print(text)
    return 0


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
        creds = Credentials(username=args.username, password=read_secret(args.password_stdin, "password"))
    else:
        method = AuthMethod.TOKEN if kind is ServerKind.PLEX else AuthMethod.API_KEY
        creds = Credentials(token=read_secret(args.token_stdin, "token"))
    server, notes = await ctx.servers.add_with_notes(NewServer(args.name, kind, args.url, method), creds)
    for note in notes:
        print(term(f"zondarr: {note}"), file=sys.stderr)
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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``server`` group: add (by URL and token/password, or by signing in), list, test, remove, discover, api-key."""
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
    add_arguments(add)
    add.set_defaults(in_context=cmd_server_add)
    with_json(ssub.add_parser("list", help="list servers")).set_defaults(in_context=cmd_server_list)
    test = with_json(ssub.add_parser("test", help="test a server's connection"))
    test.add_argument("name")
    test.set_defaults(in_context=cmd_server_test)
    rm = with_json(ssub.add_parser("remove", help="remove a server and its cached data"))
    rm.add_argument("name")
    rm.set_defaults(in_context=cmd_server_remove)
    register_discovery(ssub)
