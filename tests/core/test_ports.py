"""The ports are split by capability, and the window is handed the read side of the tracks only."""

from __future__ import annotations

import typing

import app.core.health as health
from app.core import ports
from app.services.context import AppContext
from app.storage.tracks import SqliteTrackStore


def _methods(protocol: type) -> set[str]:
    return {n for n in dir(protocol) if not n.startswith("_")}


def test_the_window_gets_read_access_to_tracks_only() -> None:
    hints = typing.get_type_hints(AppContext)
    assert hints["tracks"] is ports.TrackReader
    reads, writes = _methods(ports.TrackReader), _methods(ports.TrackStaging)
    assert not reads & writes
    assert not {n for n in reads if "stag" in n or "commit" in n or "clear" in n}
    assert {"begin_staging", "stage_tracks", "commit_staging", "discard_staging"} <= writes
    assert reads | writes <= _methods(SqliteTrackStore)  # the store implements both sides


def test_clients_are_split_by_capability() -> None:
    listing, users, admin = (_methods(p) for p in (ports.TrackListing, ports.UserListing, ports.UserAdmin))
    assert "fetch_tracks" in listing and "users" not in listing and "delete_user" not in listing
    assert users - _methods(ports.ServerConnection) == {"users"}
    assert {"create_user", "delete_user", "set_library_access"} <= admin
    assert listing | admin <= _methods(ports.MediaServerClient)


def test_every_protocol_lives_in_ports() -> None:
    assert not [
        n for n, v in vars(health).items() if isinstance(v, type) and getattr(v, "_is_protocol", False)
    ]
    for name in ("HealthStore", "DiagnosticStore", "ServerProbe", "ErrorEventStore"):
        assert getattr(ports, name)._is_protocol
