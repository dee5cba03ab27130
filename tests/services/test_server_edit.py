"""ServerService.update / probe_existing: a stored server gets a new URL (and maybe new credentials) only after a
successful test, against real demo servers over HTTP on loopback and a real SQLite cache in tmp_path."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.errors import AuthFailed, CacheError, ConfigurationError, ServerUnreachable, ValidationError
from app.core.filters import TrackFilter
from app.core.models import AuthMethod, Credentials, NewServer, Server, ServerKind, SyncStatus
from app.core.settings import Settings
from app.demo import DemoConfig, DemoServer, start_demo_server
from app.servers.registry import ServerRegistry
from app.services.runner import ThreadRunner
from app.services.servers import ServerService
from app.services.sync import SyncService
from app.storage import Cache, open_cache
from tests.services.fakes import MemorySecrets

T = TypeVar("T")
KEY = "edit-test-key-one"  # the stored secret: NOT the demo default, so a test that passes used it
NAME = "Home Jellyfin"


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    return asyncio.run(main())


class Edit:
    """A cache with one Jellyfin server (cached rows from a real sync) and the real ServerService."""

    def __init__(self, data: Path, home: DemoServer) -> None:
        self.cache: Cache = open_cache(data)
        self.secrets = MemorySecrets()
        self.runner = ThreadRunner()
        settings_ = Settings(connect_timeout_s=1.0, request_timeout_s=3.0, retries=0, retry_backoff_s=0.0)
        registry = ServerRegistry(settings_)
        self.service = ServerService(
            servers=self.cache.servers, secrets=self.secrets, clients=registry, runner=self.runner
        )
        self.sync = SyncService(
            servers=self.cache.servers,
            tracks=self.cache.tracks,
            users=self.cache.users,
            runs=self.cache.sync_runs,
            secrets=self.secrets,
            clients=registry,
            locks=self.cache.locks,
            runner=self.runner,
            settings=settings_,
        )
        new = NewServer(NAME, ServerKind.JELLYFIN, home.url, AuthMethod.API_KEY)
        run(self.service.add(new, Credentials(token=KEY)))

    def server(self) -> Server:
        return self.cache.servers.get_by_name(NAME)

    def secret(self) -> str | None:
        return self.secrets.get(self.server().secret_ref)

    def tracks(self) -> int:
        return self.cache.tracks.count(TrackFilter())

    def close(self) -> None:
        self.runner.close()
        self.cache.close()


@pytest.fixture
def demos() -> Iterator[dict[str, DemoServer]]:
    """Same seed = same machine identity: ``home`` and ``moved`` are one install at two addresses; ``other``
    is another install; ``rekeyed`` is the same install with a new API key; ``gone`` is a dead port."""
    configs = {
        "home": DemoConfig(kind="jellyfin", tracks=60, users=2, token=KEY),
        "moved": DemoConfig(kind="jellyfin", tracks=60, users=2, token=KEY),
        "other": DemoConfig(kind="jellyfin", tracks=25, users=2, token=KEY, seed=7),
        "rekeyed": DemoConfig(kind="jellyfin", tracks=60, users=2, token="edit-test-key-two"),
        "gone": DemoConfig(kind="jellyfin", tracks=1, users=1),
    }
    started = {name: start_demo_server(cfg) for name, cfg in configs.items()}
    started["gone"].stop()
    yield started
    for s in started.values():
        s.stop()


@pytest.fixture
def edit(tmp_path: Path, demos: dict[str, DemoServer]) -> Iterator[Edit]:
    e = Edit(tmp_path / "data", demos["home"])
    # tracks are what matter here (a users-listing hiccup would make the run PARTIAL, not FAILED)
    assert run(e.sync.sync([NAME])).status is not SyncStatus.FAILED
    assert e.tracks() == 60
    yield e
    e.close()


def test_new_url_of_the_same_install_keeps_rows_and_uses_the_stored_secret(
    edit: Edit, demos: dict[str, DemoServer]
) -> None:
    before = edit.server()
    assert demos["moved"].machine_id == before.machine_id  # the premise: one install, two addresses
    result = run(edit.service.update(NAME, demos["moved"].url + "/", None))
    assert result.server.url == demos["moved"].url  # normalised (trailing slash removed)
    assert result.warning is None and not result.check.identity_changed
    stored = edit.server()
    assert stored.url == demos["moved"].url and stored.machine_id == before.machine_id
    assert stored.id == before.id and edit.secret() == KEY
    assert edit.tracks() == 60
    again = run(edit.sync.sync([NAME]))  # the sync now talks to the new address and keeps every row
    assert again.status is not SyncStatus.FAILED and again.counts.added == 0 and again.counts.removed == 0
    assert edit.tracks() == 60
    demos["home"].stop()  # the old address is gone: the stored server no longer depends on it
    assert run(edit.service.test(NAME)).machine_id == before.machine_id


def test_other_install_is_allowed_with_a_warning_and_the_next_sync_replaces_rows(
    edit: Edit, demos: dict[str, DemoServer]
) -> None:
    before = edit.server()
    check = run(edit.service.probe_existing(NAME, demos["other"].url, None))
    assert check.identity_changed and check.warning is not None
    assert "different server (Zondarr Demo Jellyfin)" in check.warning and "replaced" in check.warning
    assert edit.server() == before  # probing stores nothing
    result = run(edit.service.update(NAME, demos["other"].url, None))
    assert result.warning == check.warning
    stored = edit.server()
    assert stored.url == demos["other"].url
    assert stored.machine_id == before.machine_id  # the sync, not the edit, notices the new identity
    assert edit.tracks() == 60
    assert run(edit.sync.sync([NAME])).status is not SyncStatus.FAILED
    assert edit.tracks() == 25
    assert edit.server().machine_id == demos["other"].machine_id != before.machine_id


def test_new_url_with_new_credentials_changes_both(edit: Edit, demos: dict[str, DemoServer]) -> None:
    result = run(edit.service.update(NAME, demos["rekeyed"].url, Credentials(token="edit-test-key-two")))
    assert result.warning is None
    assert edit.server().url == demos["rekeyed"].url and edit.secret() == "edit-test-key-two"


def test_stored_secret_is_what_a_none_credentials_test_uses(edit: Edit, demos: dict[str, DemoServer]) -> None:
    before = edit.server()
    with pytest.raises(AuthFailed):  # the rekeyed install refuses the stored key
        run(edit.service.probe_existing(NAME, demos["rekeyed"].url, None))
    with pytest.raises(AuthFailed):
        run(edit.service.update(NAME, demos["rekeyed"].url, None))
    assert edit.server() == before and edit.secret() == KEY


def test_wrong_token_changes_nothing(edit: Edit, demos: dict[str, DemoServer]) -> None:
    before = edit.server()
    with pytest.raises(AuthFailed) as info:
        run(edit.service.update(NAME, demos["moved"].url, Credentials(token="not-the-key")))
    assert "not-the-key" not in info.value.display()
    assert edit.server() == before and edit.secret() == KEY


@pytest.mark.parametrize("credentials", [None, Credentials(token=KEY)], ids=["stored", "given"])
def test_unreachable_url_changes_nothing(
    edit: Edit, demos: dict[str, DemoServer], credentials: Credentials | None
) -> None:
    before = edit.server()
    with pytest.raises(ServerUnreachable) as info:
        run(edit.service.update(NAME, demos["gone"].url, credentials))
    assert info.value.remedy
    assert edit.server() == before and edit.secret() == KEY


def test_ftp_url_and_incomplete_credentials_are_refused_before_any_request(edit: Edit) -> None:
    before = edit.server()
    with pytest.raises(ValidationError) as info:
        run(edit.service.update(NAME, "ftp://127.0.0.1:21", None))
    assert "http:// or https://" in info.value.user_message
    with pytest.raises(ValidationError):
        run(edit.service.update(NAME, before.url, Credentials(token="")))
    assert edit.server() == before and edit.secret() == KEY


def test_unknown_server_and_missing_secret(edit: Edit, demos: dict[str, DemoServer]) -> None:
    from app.core.errors import NotFoundError

    with pytest.raises(NotFoundError):
        run(edit.service.update("Nope", demos["moved"].url, None))
    edit.secrets.delete(edit.server().secret_ref)
    with pytest.raises(ConfigurationError):
        run(edit.service.update(NAME, demos["moved"].url, None))
    assert edit.server().url == demos["home"].url


def test_a_failing_url_write_puts_the_old_secret_back(edit: Edit, demos: dict[str, DemoServer]) -> None:
    store = edit.cache.servers

    class BrokenUrlWrite:
        """The real store whose URL write fails like a full disk would."""

        def __getattr__(self, name: str) -> object:
            return getattr(store, name)

        def set_url(self, server_id: int, url: str) -> Server:
            raise CacheError("The local cache could not be written.")

    edit.service._servers = BrokenUrlWrite()  # type: ignore[assignment]
    before = edit.server()
    with pytest.raises(CacheError):
        run(edit.service.update(NAME, demos["rekeyed"].url, Credentials(token="edit-test-key-two")))
    assert edit.server() == before and edit.secret() == KEY


def test_update_credentials_still_replaces_only_the_secret(edit: Edit, demos: dict[str, DemoServer]) -> None:
    before = edit.server()
    with pytest.raises(AuthFailed):
        run(edit.service.update_credentials(NAME, Credentials(token="edit-test-key-two")))
    assert edit.secret() == KEY
    identity = run(edit.service.update_credentials(NAME, Credentials(token=KEY)))
    assert identity.machine_id == before.machine_id
    assert edit.server().url == before.url and edit.secret() == KEY


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scheme=st.from_regex(r"[a-z][a-z0-9+.-]{0,8}", fullmatch=True).filter(
        lambda s: s not in ("http", "https")
    ),
    port=st.integers(min_value=1, max_value=65535),
)
def test_any_non_http_scheme_is_refused_and_changes_nothing(edit: Edit, scheme: str, port: int) -> None:
    before = edit.server()
    with pytest.raises(ValidationError):
        run(edit.service.update(NAME, f"{scheme}://127.0.0.1:{port}", None))
    assert edit.server() == before
