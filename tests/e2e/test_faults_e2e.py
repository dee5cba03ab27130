"""Faults injected by the demo servers: each sync ends with the documented status and message, and the cache
(`tracks --json`) is exactly what it was before that run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from tests.e2e.conftest import DemoPair, MemoryKeyring, demo_pair, run_cli

TRACKS = 1200  # 2 libraries of 600; page_size 50 → 12 pages per library
PAGE_ENV = {"ZONDARR_PAGE_SIZE": "50"}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DemoPair, object]]:
    data = tmp_path_factory.mktemp("faults")
    with demo_pair(TRACKS) as pair:
        pair.add_both(data)
        r = run_cli(data, "sync", env=PAGE_ENV)
        assert r.code == 0, r.err
        yield data, pair, run_cli(data, "tracks", "--json").json()


CASES = [
    # (server, fault spec, exit code, status, words in the message)
    ("plex", "tracks:500@7", 1, "failed", "answered with an error"),
    ("jellyfin", "tracks:500@7", 1, "failed", "answered with an error"),
    ("plex", "tracks:drop@2", 1, "failed", "could not be reached"),
    ("jellyfin", "tracks:drop@2", 1, "failed", "could not be reached"),
    ("plex", "tracks:malformed@1", 1, "failed", "could not read"),
    ("jellyfin", "tracks:malformed@1", 1, "failed", "could not read"),
    ("plex", "tracks:401@3+", 1, "failed", "refused the credentials"),
    ("jellyfin", "tracks:401@3+", 1, "failed", "refused the credentials"),
    ("plex", "tracks:empty", 3, "held", "ould remove 600 of 600 tracks from Music on Plex"),
    ("jellyfin", "tracks:empty", 3, "held", "ould remove 600 of 600 tracks from Music on Jelly"),
    ("plex", "tracks:truncate@1", 1, "failed", ""),
]


@pytest.mark.parametrize(
    ("kind", "spec", "code", "status", "words"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_fault_leaves_cache_unchanged(
    baseline, kind: str, spec: str, code: int, status: str, words: str
) -> None:  # type: ignore[no-untyped-def]
    data, pair, before = baseline
    server = pair.plex if kind == "plex" else pair.jellyfin
    name = "Plex" if kind == "plex" else "Jelly"
    server.set_faults(spec)
    try:
        # --full: every page is asked for (a refresh of an unchanged library would ask for none)
        r = run_cli(data, "sync", name, "--full", "--json", env=PAGE_ENV)
    finally:
        server.set_faults("")
    assert r.code == code, r.err + r.out
    out = r.json()
    assert out["status"] == status  # type: ignore[index]
    result = out["servers"][0]  # type: ignore[index]
    if words:
        assert words in (result["message"] + " " + out["summary"])  # type: ignore[operator]
    if status == "failed":
        assert result["error"]["correlation_id"]  # type: ignore[index]
        assert "demo-plex-token" not in r.out + r.err and "demo-jellyfin-key" not in r.out + r.err
    assert run_cli(data, "tracks", "--json").json() == before


def test_transient_fault_is_retried_to_success(baseline) -> None:  # type: ignore[no-untyped-def]
    data, pair, before = baseline
    pair.plex.set_faults("tracks:502@2x2")
    try:
        r = run_cli(data, "sync", "Plex", "--full", "--json", env=PAGE_ENV)
    finally:
        pair.plex.set_faults("")
    assert r.code == 0, r.err
    assert run_cli(data, "tracks", "--json").json() == before


def test_dripping_server_cannot_hang_a_sync(baseline) -> None:  # type: ignore[no-untyped-def]
    data, pair, before = baseline
    pair.jellyfin.set_faults("tracks:drip@1")
    env = {**PAGE_ENV, "ZONDARR_REQUEST_TIMEOUT_S": "1.5", "ZONDARR_RETRIES": "1"}
    try:
        r = run_cli(data, "sync", "Jelly", "--full", "--json", env=env)
    finally:
        pair.jellyfin.set_faults("")
    assert r.code == 1
    assert "did not answer within 1.5 seconds" in r.out
    assert run_cli(data, "tracks", "--json").json() == before


def test_wrong_token_is_refused_and_nothing_is_stored(baseline) -> None:  # type: ignore[no-untyped-def]
    data, pair, _ = baseline
    before = run_cli(data, "server", "list", "--json").json()
    r = run_cli(
        data,
        "server",
        "add",
        "--kind",
        "plex",
        "--name",
        "Wrong",
        "--url",
        pair.plex.url,
        "--token-stdin",
        stdin="not-the-token\n",
    )
    assert r.code == 1
    assert "Wrong" in r.err and "token" in r.err.lower() and "not-the-token" not in r.err
    r = run_cli(
        data,
        "server",
        "add",
        "--kind",
        "jellyfin",
        "--name",
        "WrongJ",
        "--url",
        pair.jellyfin.url,
        "--username",
        "admin",
        "--password-stdin",
        stdin="bad-password\n",
    )
    assert r.code == 1 and "WrongJ" in r.err and "bad-password" not in r.err
    assert run_cli(data, "server", "list", "--json").json() == before


def test_jellyfin_password_login_stores_a_token_not_the_password(tmp_path: Path) -> None:
    ring = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(ring)
    try:
        with demo_pair(50) as pair:
            r = run_cli(
                tmp_path,
                "server",
                "add",
                "--kind",
                "jellyfin",
                "--name",
                "J",
                "--url",
                pair.jellyfin.url,
                "--username",
                "admin",
                "--password-stdin",
                stdin="demo-password\n",
            )
            assert r.code == 0, r.err
            assert "demo-password" not in ring.values.values()
            assert run_cli(tmp_path, "sync").code == 0
            assert len(run_cli(tmp_path, "tracks", "--json").json()) == 50  # type: ignore[arg-type]
    finally:
        keyring.set_keyring(previous)
