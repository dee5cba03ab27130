"""User policy in the services (never in an adapter): excluded accounts are left out, accounts Zondarr disabled by
removing their shares are listed as disabled with the remembered libraries — over real HTTP against the demo
Jellyfin, through the one ``Connector``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from app.core.errors import ConfigurationError
from app.core.models import AuthMethod, Capability, RememberedShare, RemoteUser, Server, ServerKind
from app.core.settings import Settings
from app.demo.server import DemoConfig, DemoServer, start_demo_server
from app.servers.registry import ServerRegistry
from app.services.connector import Connector
from app.services.runner import ThreadRunner
from app.services.user_policy import UserPolicy, managed_users
from tests.services.fakes import MemorySecrets


class _Shares:
    def __init__(self, shares: list[RememberedShare]) -> None:
        self.shares = shares

    def remembered(self, server_id: int) -> list[RememberedShare]:
        return [s for s in self.shares if s.server_id == server_id]


class _Excluded:
    def __init__(self, ids: set[str]) -> None:
        self.ids = ids

    def excluded(self, server_id: int) -> set[str]:
        return self.ids


@pytest.fixture(scope="module")
def jelly() -> Iterator[DemoServer]:
    with start_demo_server(DemoConfig(kind="jellyfin", tracks=30, users=4, libraries=3)) as server:
        yield server


def test_the_connector_lists_users_as_zondarr_manages_them(jelly: DemoServer) -> None:
    runner = ThreadRunner()
    secrets = MemorySecrets()
    server = Server(1, "J", ServerKind.JELLYFIN, jelly.url, AuthMethod.API_KEY)
    secrets.set(server.secret_ref, jelly.config.effective_token)
    policy = UserPolicy(
        _Excluded({jelly.library.users[1].jellyfin_id}),  # type: ignore[arg-type]
        _Shares([RememberedShare(1, "gone-1", "ghost", ("a",), 0.0)]),  # type: ignore[arg-type]
        runner,
    )
    connector = Connector(secrets, ServerRegistry(Settings(request_timeout_s=5)), runner, policy)

    async def listing() -> dict[str, RemoteUser]:
        client = await connector.connect(server)
        try:
            assert Capability.LIST_USERS in client.capabilities
            assert await runner.net(client.music_libraries)
            return {u.remote_id: u for u in await connector.users(client, server)}
        finally:
            await connector.close(client)

    try:
        users = asyncio.run(listing())
    finally:
        runner.close()
    assert jelly.library.users[1].jellyfin_id not in users
    assert users["gone-1"].is_disabled and users["gone-1"].library_keys == ("a",)
    assert jelly.library.users[0].jellyfin_id in users


def test_without_a_stored_secret_the_one_no_credentials_error() -> None:
    runner = ThreadRunner()
    connector = Connector(MemorySecrets(), ServerRegistry(Settings()), runner)
    server = Server(1, "J", ServerKind.JELLYFIN, "http://127.0.0.1:9", AuthMethod.API_KEY)
    try:
        with pytest.raises(ConfigurationError) as caught:
            asyncio.run(connector.connect(server))
    finally:
        runner.close()
    assert caught.value.failure_class == "no_credentials"
    assert "no credentials are stored" in caught.value.user_message


def test_an_empty_answer_stays_empty_and_exclusions_win_over_remembered_shares() -> None:
    share = RememberedShare(1, "x", "", ("a",), 0.0)
    assert managed_users([], set(), [share]) == []
    listed = [RemoteUser("1", "one")]
    assert managed_users(listed, {"x"}, [share]) == listed
    [_, ghost] = managed_users(listed, set(), [share])
    assert ghost.username == "x" and ghost.is_disabled
