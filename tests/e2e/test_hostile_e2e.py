"""Hostile servers (issue rows 1-8), end to end: the real CLI over real HTTP against the demo servers' hostile
faults. Each case asserts the documented outcome, and that the cache (`tracks --json`) is exactly what it was
before the run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.demo import DemoConfig, DemoServer, start_demo_server
from tests.e2e.conftest import DemoPair, demo_pair, run_cli

PAGE_ENV = {"ZONDARR_PAGE_SIZE": "50", "ZONDARR_MAX_RESPONSE_MB": "16"}
PASSWORD = "demo-password"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DemoPair, object]]:
    data = tmp_path_factory.mktemp("hostile")
    with demo_pair(600) as pair:
        pair.add_both(data)
        r = run_cli(data, "sync", env=PAGE_ENV)
        assert r.code == 0, r.err
        yield data, pair, run_cli(data, "tracks", "--json").json()


def _with_faults(server: DemoServer, spec: str):  # type: ignore[no-untyped-def]
    class _Faults:
        def __enter__(self) -> DemoServer:
            server.set_faults(spec)
            return server

        def __exit__(self, *exc: object) -> None:
            server.set_faults("")

    return _Faults()


def test_row1_a_sign_in_redirected_to_another_host_sends_no_password_there(baseline) -> None:  # type: ignore[no-untyped-def]
    data, _, before = baseline
    servers_before = run_cli(data, "server", "list", "--json").json()
    config = DemoConfig(kind="jellyfin", tracks=10, faults="login:redirect-post")
    with start_demo_server(
        config
    ) as jelly:  # a server not added yet (an added one is refused as a duplicate)
        r = run_cli(
            data, "server", "add", "--kind", "jellyfin", "--name", "Elsewhere", "--url", jelly.url,
            "--username", "admin", "--password-stdin", stdin=PASSWORD + "\n",
        )  # fmt: skip
        other = jelly.other_host
        assert other is not None and other.received == []  # nothing at all reached the other host
    assert r.code == 1, r.out + r.err
    assert "redirected a sign-in to another address" in r.err and PASSWORD not in r.out + r.err
    assert run_cli(data, "server", "list", "--json").json() == servers_before
    assert run_cli(data, "tracks", "--json").json() == before


def test_row2_an_account_creation_redirected_to_another_host_sends_no_password_there(baseline) -> None:  # type: ignore[no-untyped-def]
    data, pair, before = baseline
    r = run_cli(data, "invite", "create", "--server", "Jelly", "--max-uses", "1", "--json")
    assert r.code == 0, r.err
    code = r.json()["code"]  # type: ignore[index]
    users_before = [u.username for u in pair.jellyfin._ctx.users]
    with _with_faults(pair.jellyfin, "users:redirect-post") as jelly:
        r = run_cli(
            data, "invite", "redeem", code, "--username", "mallory", "--email", "m@example.com",
            "--password-stdin", "--json", stdin="invitee-secret-9\n",
        )  # fmt: skip
        other = jelly.other_host
    assert r.code != 0, r.out
    assert "invitee-secret-9" not in r.out + r.err
    assert "redirected an account creation to another address" in r.out + r.err
    assert other is not None and not other.got("invitee-secret-9") and other.received == []
    assert [u.username for u in pair.jellyfin._ctx.users] == users_before
    assert run_cli(data, "tracks", "--json").json() == before


CASES = [
    # (row, server, fault spec, exit code, status, failure class or None, words in the message)
    (3, "plex", "tracks:huge=200@1", 1, "failed", "response_too_large", "too large to read"),
    (3, "jellyfin", "tracks:huge=200@1", 1, "failed", "response_too_large", "too large to read"),
    (4, "plex", "tracks:gzip-bomb@1", 1, "failed", "response_too_large", "after decompression"),
    (4, "jellyfin", "tracks:gzip-bomb@1", 1, "failed", "response_too_large", "after decompression"),
    (5, "plex", "tracks:growing-total", 1, "failed", "listing_inconsistent", "grew from 300"),
    (5, "jellyfin", "tracks:growing-total", 1, "failed", "listing_inconsistent", "grew from 300"),
    (6, "plex", "tracks:repeat-page=1000000", 1, "failed", "listing_inconsistent", "repeated items"),
    (6, "jellyfin", "tracks:repeat-page=1000000", 1, "failed", "listing_inconsistent", "repeated items"),
    (7, "plex", "tracks:huge-year@2x1", 3, "partial", None, "1 items could not be read"),
    (7, "jellyfin", "tracks:huge-year@2x1", 3, "partial", None, "1 items could not be read"),
    (8, "plex", "tracks:huge-total", 1, "failed", "bad_response", "could not read"),
    (8, "jellyfin", "tracks:huge-total", 1, "failed", "bad_response", "could not read"),
]


@pytest.mark.parametrize(
    ("row", "kind", "spec", "code", "status", "failure_class", "words"),
    CASES,
    ids=[f"row{c[0]}-{c[1]}-{c[2]}" for c in CASES],
)
def test_hostile_listing_ends_as_documented_and_leaves_the_cache(  # type: ignore[no-untyped-def]
    baseline, row: int, kind: str, spec: str, code: int, status: str, failure_class: str | None, words: str
) -> None:
    data, pair, before = baseline
    server = pair.plex if kind == "plex" else pair.jellyfin
    name = "Plex" if kind == "plex" else "Jelly"
    with _with_faults(
        server, spec
    ):  # --full: the faults are in a complete listing (a refresh asks only for changes)
        r = run_cli(data, "sync", name, "--full", "--json", env=PAGE_ENV)
    assert r.code == code, r.err + r.out
    out = r.json()  # JSON even when the server announced 10**23 tracks (row 8)
    result = out["servers"][0]  # type: ignore[index]
    assert out["status"] == status and result["status"] == status  # type: ignore[index]
    assert words in result["message"] + " " + out["summary"], result  # type: ignore[operator]
    if failure_class is not None:
        assert result["error"]["failure_class"] == failure_class and result["error"]["remedy"]
        assert result["error"]["correlation_id"]
    else:
        assert result["failed_items"] == 1
    assert "Traceback" not in r.err
    assert run_cli(data, "tracks", "--json").json() == before
