"""Names outlive servers (DESIGN §3): after a server is removed, its sync runs and diagnostic results keep its name,
and its invitations say which target servers are gone; one with no target left cannot be redeemed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.core.health import DiagnosticResult, Outcome
from app.core.models import InvitationStatus, InvitationTarget, NewInvitation, RefusalReason
from app.services.invitations import invitation_status
from app.storage import Cache
from tests.services.people_fakes import AccountServer, Harness
from tests.storage.conftest import add_server


def test_sync_runs_and_diagnostics_keep_a_removed_servers_name(cache: Cache) -> None:
    home = add_server(cache, "Home Plex")
    other = add_server(cache, "Other")
    run = cache.sync_runs.start(home.id, "cli")
    kept = cache.sync_runs.start(other.id, "cli")
    diag = cache.diagnostics.start_run(1.0)
    cache.diagnostics.add_results(
        diag,
        [
            DiagnosticResult("reachable", Outcome.PASS, "ok", 1.0, server_id=home.id),
            DiagnosticResult("sqlite", Outcome.PASS, "ok", 1.0),
        ],
    )

    cache.servers.remove(home.id)

    runs = {r.id: r for r in cache.sync_runs.list()}
    assert runs[run.id].server_id is None and runs[run.id].removed_server == "Home Plex"
    assert runs[kept.id].server_id == other.id and runs[kept.id].removed_server is None
    loaded = cache.diagnostics.get(diag)
    assert loaded is not None
    assert [r.server for r in loaded.results] == [
        "Home Plex (removed)",
        None,
    ]  # None: a check of this computer


def _invitation(cache: Cache, code: str, *server_ids: int) -> None:
    names = {s.id: s.name for s in cache.servers.list()}
    cache.invitations.create(
        NewInvitation(code, tuple(InvitationTarget(i, names[i]) for i in server_ids), None, None, None, "")
    )


def test_invitations_say_which_target_servers_are_gone(cache: Cache) -> None:
    home = add_server(cache, "Home Plex")
    other = add_server(cache, "Other")
    _invitation(cache, "BOTHGONE", home.id)
    _invitation(cache, "SOMEGONE", home.id, other.id)
    _invitation(cache, "UNTOUCHED", other.id)

    cache.servers.remove(home.id)

    both = cache.invitations.get_by_code("BOTHGONE")
    some = cache.invitations.get_by_code("SOMEGONE")
    untouched = cache.invitations.get_by_code("UNTOUCHED")
    assert both is not None and some is not None and untouched is not None
    assert both.targets == () and both.removed_servers == ("Home Plex",)
    assert [t.server for t in some.targets] == ["Other"] and some.removed_servers == ("Home Plex",)
    assert untouched.removed_servers == ()
    assert invitation_status(both, 0.0) is InvitationStatus.NO_SERVERS
    assert invitation_status(some, 0.0) is InvitationStatus.ACTIVE
    assert both.to_json("no servers")["removed_servers"] == ["Home Plex"]


def test_an_invitation_with_no_server_left_cannot_be_redeemed(tmp_path: Path) -> None:
    h = Harness(tmp_path / "data", {"A": AccountServer(), "B": AccountServer()})
    try:
        service = h.people.invitations
        orphan = asyncio.run(service.create(["A"]))
        some = asyncio.run(service.create(["A", "B"]))
        h.cache.servers.remove(h.cache.servers.get_by_name("A").id)

        inv, reason = service.check(orphan.code)
        assert inv is not None and reason is RefusalReason.NO_SERVERS
        result = asyncio.run(service.redeem(orphan.code, "newbie"))
        assert not result.ok and result.reason == "no servers"
        assert "A" in result.message and "removed" in result.message
        assert dict((i.code, s) for i, s in service.overview())[orphan.code] is InvitationStatus.NO_SERVERS

        partly = asyncio.run(service.redeem(some.code, "newbie", None, "pw-123456"))  # the servers left work
        assert partly.ok, partly.message
        assert [o.server for o in partly.servers] == ["B"]
    finally:
        h.close()
