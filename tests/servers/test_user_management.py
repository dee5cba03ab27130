"""User management in the adapters, through plexapi / jellyfin-apiclient-python over real HTTP against the demo
servers; the demo's own state (users, policies, plex.tv shares) is the oracle."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.core.errors import NotFoundError, ServerError, ValidationError
from app.core.models import AuthMethod, Capability, Credentials, Server, ServerKind
from app.core.ports import MediaServerClient
from app.core.settings import Settings
from app.demo import DemoConfig, DemoServer, start_demo_server
from app.servers import ServerRegistry


@pytest.fixture(scope="module")
def plex() -> Iterator[DemoServer]:
    with start_demo_server(DemoConfig(kind="plex", tracks=30, users=4, libraries=3)) as server:
        yield server


@pytest.fixture(scope="module")
def jelly() -> Iterator[DemoServer]:
    with start_demo_server(DemoConfig(kind="jellyfin", tracks=30, users=4, libraries=3)) as server:
        yield server


def _connect(demo: DemoServer) -> MediaServerClient:
    kind = ServerKind(demo.config.kind)
    method = AuthMethod.TOKEN if kind is ServerKind.PLEX else AuthMethod.API_KEY
    reg = ServerRegistry(Settings(plex_tv_url=demo.url, request_timeout_s=5))
    return reg.connect(
        Server(1, f"Demo {kind.value}", kind, demo.url, method),
        Credentials(token=demo.config.effective_token),
    )


def _keys(demo: DemoServer) -> list[str]:
    return [k for k, _, _ in demo.library.music_libraries()]


def test_capabilities_are_declared() -> None:
    from app.servers.jellyfin import JellyfinClient
    from app.servers.plex import PlexClient

    assert {
        Capability.CREATE_USER,
        Capability.DELETE_USER,
        Capability.LIBRARY_ACCESS,
    } <= PlexClient.capabilities
    assert Capability.DISABLE_USER not in PlexClient.capabilities
    assert Capability.PASSWORD not in PlexClient.capabilities
    assert set(Capability) - {Capability.PENDING_INVITES} == set(JellyfinClient.capabilities)
    assert Capability.PENDING_INVITES in PlexClient.capabilities  # a new Plex account waits on plex.tv
    assert Capability.SIGN_IN_DEVICE not in PlexClient.capabilities


def test_jellyfin_create_limit_disable_delete(jelly: DemoServer) -> None:
    client = _connect(jelly)
    keys = _keys(jelly)
    try:
        user = client.create_user("Mallory", "s3cret-pw", "m@x.org", keys[1:])
        demo_user = next(u for u in jelly._ctx.users if u.jellyfin_id == user.remote_id)
        assert set(demo_user.library_keys or ()) == set(keys[1:])
        assert jelly._ctx.passwords[user.remote_id] == "s3cret-pw"
        with pytest.raises(ValidationError, match="taken"):
            client.create_user("mallory", "pw", None, ())
        with pytest.raises(ValidationError, match="no longer exists"):
            client.create_user("Other", "pw", None, ["not-a-library"])
        client.set_user_disabled(user.remote_id, True)
        assert next(u for u in client.users() if u.remote_id == user.remote_id).is_disabled
        client.set_library_access(user.remote_id, None)
        listed = next(u for u in client.users() if u.remote_id == user.remote_id)
        assert listed.library_keys is None and listed.is_disabled  # access changed, disabled state kept
        client.delete_user(user.remote_id)
        assert all(u.remote_id != user.remote_id for u in client.users())
        with pytest.raises(NotFoundError):
            client.set_user_disabled(user.remote_id, False)
        owner = jelly.library.users[0]
        with pytest.raises(ValidationError, match="administrator"):
            client.delete_user(owner.jellyfin_id)
    finally:
        client.close()


def test_plex_share_update_unshare_and_delete(plex: DemoServer) -> None:
    client = _connect(plex)
    keys = _keys(plex)
    try:
        user = client.create_user("newfriend@example.com", None, None, keys[:2])
        [share] = [s for s in plex._ctx.shares if s.email == "newfriend@example.com"]
        assert set(share.section_keys) == set(keys[:2]) and share.pending
        with pytest.raises(ValidationError, match="already has access"):
            client.create_user("newfriend@example.com", None, None, keys[:1])
        client.set_library_access(user.remote_id, keys[2:])  # pending: the share itself is changed
        assert set(share.section_keys) == set(keys[2:])
        client.delete_user(user.remote_id)
        assert all(s.email != "newfriend@example.com" for s in plex._ctx.shares)

        friend = plex.library.users[1]
        fid = str(friend.plex_id)
        client.set_library_access(fid, keys[1:2])  # updateFriend: PUT of the share
        assert [s.section_keys for s in plex._ctx.shares if s.user_id == friend.plex_id] == [(keys[1],)]
        client.set_library_access(fid, ())  # share removed, still a friend
        assert all(u.remote_id != fid for u in client.users())
        client.set_library_access(fid, keys[:1])  # updateFriend POSTs a new share for the friend
        assert [s.section_keys for s in plex._ctx.shares if s.user_id == friend.plex_id] == [(keys[0],)]
        with pytest.raises(ValidationError, match="cannot disable"):
            client.set_user_disabled(fid, True)
        with pytest.raises(ValidationError, match="no longer exists"):
            client.set_library_access(fid, ["999"])
        client.delete_user(fid)  # share removed, then removeFriend
        assert friend.plex_id in plex._ctx.removed_friends
        with pytest.raises(NotFoundError):
            client.delete_user(fid)
    finally:
        client.close()


def test_plex_tv_failure_is_a_server_error(plex: DemoServer) -> None:
    client = _connect(plex)
    try:
        plex.set_faults("any:500")
        with pytest.raises(ServerError):
            client.create_user("x@example.com", None, None, ())
    finally:
        plex.set_faults("")
        client.close()
