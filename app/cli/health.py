"""The ``health``, ``diagnose`` and ``errors`` commands: server health, the diagnostic checks with their support
bundle, and the recorded error events. ``register(subparsers)`` adds them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from app.cli.args import LIMIT, int_in
from app.cli.render import format_time, print_json, term, with_json
from app.core.errors import NotFoundError, ValidationError, ZondarrError
from app.core.health import REMEDIES, TITLES, Outcome, failure_class_of
from app.services.context import AppContext

EXIT_OK, EXIT_FAILURE = 0, 1


def describe_failure(err: ZondarrError) -> str:
    """Two lines for ``server test``: the failure class with its title, and the remedy."""
    fc = failure_class_of(err)
    if fc is None:
        return f"remedy: {err.remedy}" if err.remedy else ""
    return f"failure class: {fc.value} ({TITLES[fc]})\nremedy: {err.remedy or REMEDIES[fc]}"


def record_cli_error(ctx: AppContext, err: ZondarrError) -> None:
    """Stores the error a command ends with (the CLI's report path), outside the command's event loop."""
    asyncio.run(ctx.errors.record(err))


def _when(ts: float | None) -> str:
    return format_time(ts, "-", seconds=True)


def _pct(v: float | None) -> str:
    return "  -  " if v is None else f"{v:5.1f}%"


async def cmd_health(ctx: AppContext, args: argparse.Namespace) -> int:
    health = ctx.health.monitor
    if args.ack is not None:
        incident = await health.acknowledge(args.ack, args.note or "")
        if args.json:
            print_json(incident.to_json())
        else:
            print(f"Acknowledged incident {incident.id} ({incident.kind}).")
        return EXIT_OK
    if args.check:
        await health.heartbeat_round()
        await health.close()
    rows = health.summary()
    if args.json:
        print_json([r.to_json() for r in rows])
    elif not rows:
        print("No servers yet. Add one with `zondarr server add`.")
    else:
        print(f"{'SERVER':<20} {'STATUS':<12} {'LATENCY':>9}  {'UPTIME 24h / 7d / 30d':<24} INCIDENT")
        for r in rows:
            last = r.last_check
            latency = "-" if last is None or last.latency_ms is None else f"{last.latency_ms:.0f} ms"
            up = " / ".join(_pct(r.uptime[k]) for k in ("24h", "7d", "30d"))
            inc = r.open_incident
            shown = "-" if inc is None else f"#{inc.id} {inc.kind} since {_when(inc.opened_at)}"
            print(term(f"{r.server.name:<20} {r.status:<12} {latency:>9}  {up:<24} {shown}"))
    active = [r for r in rows if r.status not in ("draft", "disabled")]
    return EXIT_FAILURE if args.check and any(r.status != "up" for r in active) else EXIT_OK


async def cmd_diagnose(ctx: AppContext, args: argparse.Namespace) -> int:
    diagnostics, bundle = ctx.health.diagnostics, ctx.health.bundle
    run = await diagnostics.run(args.server or None)
    if args.json and not args.bundle:
        print_json(run.to_json())
    elif not args.json:
        for r in run.results:
            where = f"{r.server} · " if r.server else ""
            print(
                term(f"[{r.outcome.value.upper():<4}] {where}{r.check}: {r.message} ({r.duration_ms:.0f} ms)")
            )
        print(f"Diagnostics run {run.id}: {run.summary}.")
    if args.bundle:
        info = await bundle.export(Path(args.bundle))
        if args.json:
            out = run.to_json()
            out["bundle"] = {"path": str(info.path), "files": list(info.files), "bytes": info.size}
            print_json(out)
        else:
            print(f"Bundle written to {info.path} ({len(info.files)} files, {info.size / 1024:.0f} KB).")
    failed = any(r.outcome is Outcome.FAIL for r in run.results)
    return EXIT_FAILURE if failed else EXIT_OK


async def cmd_errors(ctx: AppContext, args: argparse.Namespace) -> int:
    errors = ctx.errors
    if args.id:
        events = errors.by_correlation(args.id)
        if not events:
            raise NotFoundError(
                f"No error with reference {args.id} is recorded.",
                remedy="Check the reference, or run `zondarr errors` to list recent errors.",
            )
    else:
        if args.limit < 1:
            raise ValidationError("--limit must be at least 1.", remedy="Pass --limit 50, for example.")
        events = errors.list(limit=args.limit, search=args.search)
    if args.json:
        print_json([e.to_json() for e in events])
        return EXIT_OK
    if not events:
        print("No errors recorded.")
    for e in events:
        print(term(f"{_when(e.created_at)}  ref {e.correlation_id}  {e.server or '-'}  {e.error_type}"))
        print(term(f"    {e.user_message}"))
        if e.detail and (args.id or args.verbose):
            print(term(f"    detail: {e.detail}"))
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``health``, ``diagnose`` and ``errors`` to the CLI."""
    h = sub.add_parser("health", help="server health: status, latency, uptime, incidents")
    h.add_argument(
        "--check", action="store_true", help="run one heartbeat round first (exit 1 if a server is down)"
    )
    h.add_argument(
        "--ack",
        type=int_in(1, 2**63 - 1, "--ack"),
        metavar="INCIDENT",
        help="acknowledge an incident (with --note)",
    )
    h.add_argument("--note", default="", help="note for --ack")
    with_json(h)
    h.set_defaults(in_context=cmd_health)

    d = sub.add_parser("diagnose", help="run the diagnostics scenarios; optionally export a redacted bundle")
    d.add_argument("--server", action="append", metavar="NAME", help="only this server (repeatable)")
    d.add_argument("--bundle", metavar="FILE.zip", help="write a redacted diagnostics bundle")
    with_json(d)
    d.set_defaults(in_context=cmd_diagnose)

    e = sub.add_parser("errors", help="recorded errors; --id shows the operator detail of one reference")
    e.add_argument("--id", metavar="CID", help="correlation id (the 'ref' shown with an error)")
    e.add_argument("--search", help="text or reference prefix to look for")
    e.add_argument("--limit", type=LIMIT, default=50)
    e.add_argument("--verbose", "-v", action="store_true", help="show operator detail for every error")
    with_json(e)
    e.set_defaults(in_context=cmd_errors)


def main_stderr(text: str) -> None:
    if text:
        print("\n".join(term(line) for line in text.splitlines()), file=sys.stderr)
