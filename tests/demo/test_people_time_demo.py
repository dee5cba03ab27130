"""What the demo servers keep for people over time, over raw HTTP: last activity (Jellyfin LastActivityDate,
plex.tv lastSeenAt) that tests can stage, plex.tv "allow sync" per friend (PUT /api/v2/sharings/{id}), and
Jellyfin policies keeping MaxActiveSessions and the rest of a posted UserPolicy."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime

import pytest
import requests

from app.demo import DEFAULT_JELLYFIN_API_KEY, DEFAULT_PLEX_TOKEN, DemoConfig, DemoServer, start_demo_server

KEY = {"Authorization": f'MediaBrowser Token="{DEFAULT_JELLYFIN_API_KEY}"'}
PLEX = {"X-Plex-Token": DEFAULT_PLEX_TOKEN}


@pytest.fixture
def plex() -> Iterator[DemoServer]:  # its own server: the tests change plex.tv state
    with start_demo_server(DemoConfig(kind="plex", tracks=20, users=4, seed=3)) as server:
        yield server


@pytest.fixture
def jellyfin() -> Iterator[DemoServer]:
    with start_demo_server(DemoConfig(kind="jellyfin", tracks=20, users=4, seed=3)) as server:
        yield server


def test_jellyfin_last_activity_and_policy_fields(jellyfin: DemoServer) -> None:
    user = jellyfin.library.users[2]
    jellyfin._ctx.activity[user.username] = 1_750_000_000
    dto = requests.get(f"{jellyfin.url}/Users/{user.jellyfin_id}", headers=KEY, timeout=5).json()
    assert (
        datetime.fromisoformat(dto["LastActivityDate"].replace("0000Z", "+00:00")).timestamp()
        == 1_750_000_000
    )
    policy = dict(dto["Policy"], MaxActiveSessions=3, EnableRemoteAccess=False)
    r = requests.post(f"{jellyfin.url}/Users/{user.jellyfin_id}/Policy", json=policy, headers=KEY, timeout=5)
    assert r.status_code == 204
    again = requests.get(f"{jellyfin.url}/Users/{user.jellyfin_id}", headers=KEY, timeout=5).json()["Policy"]
    assert (again["MaxActiveSessions"], again["EnableRemoteAccess"]) == (3, False)


def test_plex_last_seen_and_allow_sync_per_friend(plex: DemoServer) -> None:
    friend = plex.library.users[1]
    plex._ctx.activity[friend.username] = 1_760_000_000
    users = ET.fromstring(requests.get(f"{plex.url}/api/users/", headers=PLEX, timeout=5).content)
    [row] = [u for u in users.iter("User") if u.get("id") == str(friend.plex_id)]
    server = next(row.iter("Server"))
    assert server.get("lastSeenAt") == "1760000000" and row.get("allowSync") == "1"
    r = requests.put(f"{plex.url}/api/v2/sharings/{friend.plex_id}?allowSync=0", headers=PLEX, timeout=5)
    assert r.status_code == 200
    assert [s.allow_sync for s in plex._ctx.shares if s.user_id == friend.plex_id] == [False]
    users = ET.fromstring(requests.get(f"{plex.url}/api/users/", headers=PLEX, timeout=5).content)
    assert [u.get("allowSync") for u in users.iter("User") if u.get("id") == str(friend.plex_id)] == ["0"]
    assert (
        requests.put(f"{plex.url}/api/v2/sharings/999999?allowSync=1", headers=PLEX, timeout=5).status_code
        == 404
    )
    assert (
        requests.put(f"{plex.url}/api/v2/sharings/{friend.plex_id}?allowSync=1", timeout=5).status_code == 401
    )
