"""Command line for people: ``invite``, ``users enable|disable|delete|sync|discrepancies|exclude``,
``identity`` and ``tasks``. ``register(subparsers)`` is called by ``app.cli.build_parser``; commands are
coroutines taking (AppContext, args) like the other commands. Exit codes (DESIGN §6): 0 success, 1 failure,
2 usage error, 3 partial success. Secrets (passwords) come from stdin only.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from app.cli.args import days_up_to, int_in, name_of
from app.cli.devices import register as register_device_commands
from app.cli.invitation_cards import register as register_card_commands
from app.cli.pending_invites import register as register_pending_invite_commands
from app.cli.people_outcomes import EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL, _exit_for, _print_outcomes
from app.cli.people_time import register as register_time_commands
from app.cli.people_time import restriction_options, restrictions_of
from app.cli.render import format_time, print_json, term, with_json
from app.core.errors import ValidationError, register_secret
from app.core.validate import MAX_DAYS, MAX_USES
from app.services.context import AppContext


def _when(text: str) -> float:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{text!r} is not a date.", remedy="Write it like 2030-12-31 or 2030-12-31T18:00+01:00."
        ) from None
    return (moment if moment.tzinfo else moment.astimezone()).timestamp()


def _read_password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise ValidationError("The password on stdin was empty.", remedy="Pipe the password on stdin.")
    register_secret(value)
    return value


# ---------------------------------------------------------------- invite


async def cmd_invite_create(ctx: AppContext, args: argparse.Namespace) -> int:
    service = ctx.people.invitations
    libraries: dict[str, list[str]] = {}
    for spec in args.library or []:
        server, sep, lib = spec.partition(":")
        if not sep or not server or not lib:
            raise ValidationError(f"{spec!r} is not SERVER:LIBRARY.", remedy="Write it like Plex:Music.")
        libraries.setdefault(server, []).append(lib)
    expires_at = _when(args.expires_at) if args.expires_at else None
    if args.expires_in is not None:
        if args.expires_in <= 0:
            raise ValidationError("--expires-in must be more than 0 days.", remedy="")
        expires_at = ctx.clock() + args.expires_in * 86400
    inv = await service.create(
        args.server,
        libraries,
        expires_at=expires_at,
        max_uses=args.max_uses,
        duration_days=args.duration_days,
        note=args.note or "",
        restrictions=restrictions_of(args),
    )
    if args.json:
        print_json(inv.to_json("active"))
    else:
        print(inv.code)
    return EXIT_OK


async def cmd_invite_list(ctx: AppContext, args: argparse.Namespace) -> int:
    rows = ctx.people.invitations.overview()
    if args.json:
        print_json([inv.to_json(status.value) for inv, status in rows])
        return EXIT_OK
    if not rows:
        print("No invitations yet. Create one with `zondarr invite create --server NAME`.")
    for inv, status in rows:
        uses = f"{inv.use_count}/{inv.max_uses if inv.max_uses is not None else '∞'}"
        servers = ", ".join(
            [*(t.server for t in inv.targets), *(f"{n} (removed)" for n in inv.removed_servers)]
        )
        print(
            term(
                f"{inv.code}  {status.value:<9} uses {uses:<7} expires {format_time(inv.expires_at):<16} {servers}"
            )
        )
    return EXIT_OK


async def cmd_invite_state(ctx: AppContext, args: argparse.Namespace) -> int:
    service = ctx.people.invitations
    if args.invite_command == "delete":
        inv = await service.delete(args.code)
        state = "deleted"
    else:
        inv = await service.set_enabled(args.code, args.invite_command == "enable")
        state = "enabled" if inv.enabled else "disabled"
    if args.json:
        print_json({"code": inv.code, "state": state})
    else:
        print(f"{inv.code} {state}.")
    return EXIT_OK


async def cmd_invite_check(ctx: AppContext, args: argparse.Namespace) -> int:
    service = ctx.people.invitations
    inv, reason = service.check(args.code)
    if inv is None or reason is not None:
        text = f"The invitation is {(reason.value if reason else 'not found')}."
        if args.json:
            print_json({"ok": False, "reason": reason.value if reason else "not found", "message": text})
        else:
            print(text)
        return EXIT_FAILURE
    outcomes = await service.preflight(
        args.code, args.username, args.email, None, quick_connect=args.quick_connect
    )
    _print_outcomes(outcomes, args.json, {"code": inv.code})
    return _exit_for(outcomes) if all(o.ok for o in outcomes) else EXIT_FAILURE


async def cmd_invite_redeem(ctx: AppContext, args: argparse.Namespace) -> int:
    """Exit 0 only when every target server has the account; otherwise 1 with the reason."""
    password = _read_password(args.password_stdin)
    result = await ctx.people.invitations.redeem(
        args.code, args.username, args.email, password, quick_connect=args.quick_connect
    )
    if args.json:
        print_json(result.to_json())
    else:
        for o in result.servers:
            print(f"{'OK  ' if o.ok else 'FAIL'} {term(o.message)}")
        print(term(result.message if result.ok else f"Not redeemed ({result.reason}): {result.message}"))
    return EXIT_OK if result.ok else EXIT_FAILURE


# ---------------------------------------------------------------- users


async def cmd_users_action(ctx: AppContext, args: argparse.Namespace) -> int:
    outcomes = await ctx.people.users.act(args.users_command, args.server, args.names)
    _print_outcomes(outcomes, args.json)
    return _exit_for(outcomes)


async def cmd_users_sync(ctx: AppContext, args: argparse.Namespace) -> int:
    admin = ctx.people.users
    if args.names:
        reports = [await admin.sync_server(ctx.server_store.get_by_name(n)) for n in args.names]
    else:
        reports = await admin.sync_all()
    if args.json:
        print_json([r.to_json() for r in reports])
    else:
        for r in reports:
            print(f"{'OK  ' if r.ok else 'FAIL'} {term(r.message)}")
    oks = [r.ok for r in reports]
    return EXIT_OK if all(oks) else EXIT_FAILURE if not any(oks) else EXIT_PARTIAL


async def cmd_users_discrepancies(ctx: AppContext, args: argparse.Namespace) -> int:
    orphaned, stale = ctx.people.users.discrepancies(args.server)
    if args.json:
        print_json(
            {
                "server": args.server,
                "orphaned": [u.to_json() for u in orphaned],
                "stale": [{"id": ref.remote_id} for ref in stale],
            }
        )
        return EXIT_OK
    print(f"Orphaned (on {args.server}, not managed by Zondarr): {len(orphaned)}")
    for u in orphaned:
        print(term(f"  {u.username} ({u.remote_id})"))
    print(f"Stale (managed by Zondarr, gone from {args.server}): {len(stale)}")
    for ref in stale:
        print(term(f"  {ref.remote_id}"))
    return EXIT_OK


async def cmd_users_exclude(ctx: AppContext, args: argparse.Namespace) -> int:
    admin = ctx.people.users
    for name in args.names:
        await admin.exclude(args.server, name)
    if args.json:
        print_json({"server": args.server, "excluded": list(args.names)})
    else:
        print(f"Excluded {len(args.names)} users of {args.server} from the users cache.")
    return EXIT_OK


# ---------------------------------------------------------------- identity


async def cmd_identity_list(ctx: AppContext, args: argparse.Namespace) -> int:
    service = ctx.people.identities
    views = service.views()
    suggestions = service.suggestions() if args.suggest else []
    if args.json:
        print_json(
            {
                "identities": [v.to_json() for v in views],
                "suggestions": [
                    {"by": s.by, "key": s.key, "accounts": [u.to_json() for u in s.accounts]}
                    for s in suggestions
                ],
            }
        )
        return EXIT_OK
    for v in views:
        accounts = ", ".join(f"{u.server}:{u.username}" for u in v.accounts) or "no accounts"
        print(term(f"{v.identity.id:>4} {v.identity.display_name:<24} {accounts}"))
    for s in suggestions:
        print(term(f"suggest ({s.by} {s.key}): " + ", ".join(f"{u.server}:{u.username}" for u in s.accounts)))
    return EXIT_OK


async def cmd_identity_link(ctx: AppContext, args: argparse.Namespace) -> int:
    service = ctx.people.identities
    refs = service.resolve(args.accounts)
    if args.identity_command == "unlink":
        await service.unlink(refs)
        result: dict[str, object] = {"unlinked": list(args.accounts)}
        text = f"Unlinked {len(refs)} accounts."
    else:
        identity = await service.link(args.name, refs, args.email)
        result = {"id": identity.id, "name": identity.display_name, "linked": list(args.accounts)}
        text = f"Linked {len(refs)} accounts to {identity.display_name}."
    if args.json:
        print_json(result)
    else:
        print(text)
    return EXIT_OK


async def cmd_identity_act(ctx: AppContext, args: argparse.Namespace) -> int:
    service = ctx.people.identities
    if args.identity_command == "delete":
        outcomes = await service.delete(args.name, with_accounts=args.with_accounts)
    else:
        outcomes = await service.act(args.name, args.identity_command)
    _print_outcomes(outcomes, args.json)
    return _exit_for(outcomes)


async def cmd_identity_show(ctx: AppContext, args: argparse.Namespace) -> int:
    rows = ctx.people.identities.grid(args.name)
    if args.json:
        print_json(
            [
                {
                    "server": r.server,
                    "username": r.username,
                    "is_disabled": r.is_disabled,
                    "libraries": [{"library": t, "access": a} for t, a in r.libraries],
                }
                for r in rows
            ]
        )
        return EXIT_OK
    for r in rows:
        libs = "  ".join(f"[{'x' if a else ' '}] {t}" for t, a in r.libraries)
        print(term(f"{r.server:<16} {r.username:<20} {'disabled ' if r.is_disabled else ''}{libs}"))
    return EXIT_OK


# ---------------------------------------------------------------- tasks


async def cmd_tasks(ctx: AppContext, args: argparse.Namespace) -> int:
    scheduler = ctx.people.tasks
    if args.tasks_command == "run":
        run = await scheduler.run_now(args.name)
        if args.json:
            print_json(
                {"task": run.task, "status": run.status, "message": run.message, "duration_s": run.duration_s}
            )
        else:
            print(term(f"{run.task}: {run.status} — {run.message}"))
        return EXIT_OK if run.status == "succeeded" else EXIT_FAILURE
    statuses = await scheduler.status()
    if args.json:
        print_json([s.to_json() for s in statuses])
        return EXIT_OK
    for s in statuses:
        last = s.last_run
        result = (
            "never run" if last is None else f"{last.status} {format_time(last.started_at)}: {last.message}"
        )
        print(
            term(f"{s.name:<20} every {s.interval_s:>6.0f} s  next {format_time(s.next_run_at):<16} {result}")
        )
    return EXIT_OK


# ---------------------------------------------------------------- parser


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the people commands to the main parser's subcommands (``users`` must exist already: its listing
    stays the default; the actions become sub-commands of it)."""
    inv = sub.add_parser("invite", help="create, list, disable, delete and redeem invitations")
    isub = inv.add_subparsers(dest="invite_command", metavar="ACTION", required=True)
    create = with_json(isub.add_parser("create", help="create an invitation and print its code"))
    create.add_argument(
        "--server", action="append", required=True, metavar="NAME", help="target server (repeat)"
    )
    create.add_argument(
        "--library", action="append", metavar="SERVER:LIBRARY", help="library to share (repeat)"
    )
    when = create.add_mutually_exclusive_group()
    when.add_argument("--expires-at", metavar="ISO", help="expiry date/time, e.g. 2030-12-31T18:00")
    when.add_argument(
        "--expires-in",
        type=days_up_to(what="--expires-in"),
        metavar="DAYS",
        help="expires this many days from now",
    )
    create.add_argument("--max-uses", type=int_in(1, MAX_USES, "--max-uses"), metavar="N")
    create.add_argument(
        "--duration-days",
        type=int_in(1, MAX_DAYS, "--duration-days"),
        metavar="N",
        help="accounts are disabled after N days",
    )
    create.add_argument("--note", metavar="TEXT", type=name_of("The note"))
    restriction_options(create)
    create.set_defaults(in_context=cmd_invite_create)
    with_json(isub.add_parser("list", help="invitations with status")).set_defaults(
        in_context=cmd_invite_list
    )
    for action, text in (("disable", "disable"), ("enable", "enable again"), ("delete", "delete")):
        sp = with_json(isub.add_parser(action, help=f"{text} an invitation"))
        sp.add_argument("code")
        sp.set_defaults(in_context=cmd_invite_state)
    check = with_json(
        isub.add_parser("check", help="validate a code and pre-flight its servers (creates nothing)")
    )
    check.add_argument("code")
    check.add_argument("--username", required=True)
    check.add_argument("--email")
    check.add_argument(
        "--quick-connect",
        action="store_true",
        help="Jellyfin: no password; the person signs in their devices with Quick Connect codes",
    )
    check.set_defaults(in_context=cmd_invite_check)
    redeem = with_json(isub.add_parser("redeem", help="create the invitee's account on every target server"))
    redeem.add_argument("code")
    redeem.add_argument("--username", required=True, help="new username (Plex: plex.tv username or email)")
    redeem.add_argument("--email")
    redeem.add_argument(
        "--password-stdin", action="store_true", help="read the password (Jellyfin) from stdin"
    )
    redeem.add_argument(
        "--quick-connect",
        action="store_true",
        help="Jellyfin: no password; the person signs in their devices with Quick Connect codes",
    )
    redeem.set_defaults(in_context=cmd_invite_redeem)
    register_card_commands(isub)

    users = sub.choices["users"]
    usub = users.add_subparsers(dest="users_command", metavar="ACTION")
    for action in ("enable", "disable", "delete"):
        sp = with_json(usub.add_parser(action, help=f"{action} accounts on one server"))
        sp.add_argument("--server", required=True, metavar="NAME")
        sp.add_argument("names", nargs="+", metavar="USER", help="username or id")
        sp.set_defaults(in_context=cmd_users_action)
    us = with_json(usub.add_parser("sync", help="re-read users from servers (all enabled ones by default)"))
    us.add_argument("names", nargs="*", metavar="NAME")
    us.set_defaults(in_context=cmd_users_sync)
    ud = with_json(usub.add_parser("discrepancies", help="orphaned and stale accounts of a server"))
    ud.add_argument("--server", required=True, metavar="NAME")
    ud.set_defaults(in_context=cmd_users_discrepancies)
    ux = with_json(usub.add_parser("exclude", help="never import these accounts again"))
    ux.add_argument("--server", required=True, metavar="NAME")
    ux.add_argument("names", nargs="+", metavar="USER")
    ux.set_defaults(in_context=cmd_users_exclude)
    register_device_commands(usub)
    register_pending_invite_commands(usub)

    ident = sub.add_parser("identity", help="people and their accounts across servers")
    idsub = ident.add_subparsers(dest="identity_command", metavar="ACTION", required=True)
    il = with_json(idsub.add_parser("list", help="identities (with --suggest: proposed links)"))
    il.add_argument("--suggest", action="store_true")
    il.set_defaults(in_context=cmd_identity_list)
    link = with_json(idsub.add_parser("link", help="link accounts to a person (created if new)"))
    link.add_argument("name", type=name_of("The person's name"))
    link.add_argument("accounts", nargs="+", metavar="SERVER:USER")
    link.add_argument("--email")
    link.set_defaults(in_context=cmd_identity_link)
    unlink = with_json(idsub.add_parser("unlink", help="unlink accounts"))
    unlink.add_argument("accounts", nargs="+", metavar="SERVER:USER")
    unlink.set_defaults(in_context=cmd_identity_link)
    show = with_json(idsub.add_parser("show", help="server × library access of a person"))
    show.add_argument("name")
    show.set_defaults(in_context=cmd_identity_show)
    for action in ("enable", "disable", "delete"):
        sp = with_json(idsub.add_parser(action, help=f"{action} every account of a person"))
        sp.add_argument("name")
        if action == "delete":
            sp.add_argument(
                "--with-accounts", action="store_true", help="delete the accounts on their servers"
            )
        sp.set_defaults(in_context=cmd_identity_act)

    register_time_commands(usub, idsub)

    tasks = sub.add_parser("tasks", help="background tasks")
    tsub = tasks.add_subparsers(dest="tasks_command", metavar="ACTION", required=True)
    with_json(tsub.add_parser("list", help="interval, next run and last result")).set_defaults(
        in_context=cmd_tasks
    )
    run = with_json(tsub.add_parser("run", help="run a task now"))
    run.add_argument("name")
    run.set_defaults(in_context=cmd_tasks)
