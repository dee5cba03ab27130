"""No token, API key or password used by a session ends up in the diagnostics bundle, the cache file, the logs,
the error events or the CLI's output — after real syncs, failures and a password login, over real HTTP."""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.errors import register_secret
from app.demo import (
    DEFAULT_JELLYFIN_PASSWORD,
    DEFAULT_JELLYFIN_USER,
    DemoConfig,
    DemoServer,
    start_demo_server,
)
from app.logsetup import RedactingFilter, configure_logging
from tests.e2e.conftest import CliResult, DemoPair, MemoryKeyring, demo_pair, run_cli


@pytest.fixture(scope="module")
def pair() -> Iterator[DemoPair]:
    with demo_pair(300) as p:
        yield p


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


@pytest.fixture(scope="module")
def other_jellyfin() -> Iterator[DemoServer]:
    with start_demo_server(DemoConfig(kind="jellyfin", tracks=20, seed=7)) as server:
        yield server


def test_bundle_cache_logs_and_error_events_hold_no_secret(
    tmp_path: Path, pair: DemoPair, other_jellyfin: DemoServer, memory_keyring: MemoryKeyring
) -> None:
    data = tmp_path / "data"
    outputs: list[CliResult] = []
    pair.add_both(data)
    # the password login goes to another Jellyfin install: one server is added once (by its server id)
    r = run_cli(
        data, "server", "add", "--kind", "jellyfin", "--name", "JellyPw", "--url", other_jellyfin.url,
        "--username", DEFAULT_JELLYFIN_USER, "--password-stdin", stdin=DEFAULT_JELLYFIN_PASSWORD + "\n",
    )  # fmt: skip
    assert r.code == 0, r.err
    outputs.append(r)
    outputs.append(run_cli(data, "sync"))
    assert outputs[-1].code == 0, outputs[-1].err
    # failures whose messages and details pass through URLs, headers and library exception texts
    pair.plex.set_faults("tracks:500@1+")
    pair.jellyfin.set_faults("identity:401")
    try:
        outputs.append(run_cli(data, "sync", "--json"))
        assert outputs[-1].code in (1, 3)
        outputs.append(run_cli(data, "server", "test", "Jelly"))
        assert outputs[-1].code == 1
        outputs.append(run_cli(data, "health", "--check", "--json"))
        outputs.append(run_cli(data, "health", "--check", "--json"))
        bundle = tmp_path / "bundle.zip"
        outputs.append(run_cli(data, "diagnose", "--bundle", str(bundle)))
        assert outputs[-1].code == 1 and bundle.exists(), outputs[-1].err
    finally:
        pair.plex.set_faults("")
        pair.jellyfin.set_faults("")
    events = run_cli(data, "errors", "--json", "--limit", "500")
    outputs.append(events)
    assert len(events.json()) >= 3  # type: ignore[arg-type]

    secrets = {v for v in memory_keyring.values.values() if len(v) >= 4}
    secrets |= {
        DEFAULT_JELLYFIN_PASSWORD,
        pair.plex.config.effective_token,
        pair.jellyfin.config.effective_token,
    }
    assert len(secrets) >= 4  # the access token from the password login is one of them

    blobs: dict[str, bytes] = {}
    with zipfile.ZipFile(bundle) as zf:
        for name in zf.namelist():
            blobs[f"bundle:{name}"] = zf.read(name)
        assert "zondarr.log.tail.txt" in zf.namelist() and "error_events.json" in zf.namelist()
    assert b'"server": "Jelly"' in blobs["bundle:error_events.json"]
    for path in files_under(data):  # the cache file (+ -wal), the logs, locks
        if path.name != "secrets.json":  # the 0600 fallback store (unused with the test keychain)
            blobs[str(path.relative_to(data))] = path.read_bytes()
    assert any(name.startswith("cache.sqlite3") for name in blobs)
    assert any(name.startswith("logs/") and blob for name, blob in blobs.items())
    for i, out in enumerate(outputs):
        blobs[f"cli output {i}"] = (out.out + out.err).encode()
    leaks = [(where, s) for where, blob in blobs.items() for s in secrets if s.encode() in blob]
    assert leaks == []


def test_the_log_file_redacts_urls_headers_keys_passwords_and_tracebacks(tmp_path: Path) -> None:
    path = configure_logging(tmp_path / "logs")
    log = logging.getLogger("tests.leak")
    register_secret("registered-secret-value")
    log.warning("GET http://h:32400/library/sections?X-Plex-Token=plex-tok-123&type=10")
    log.warning("headers %s", {"X-Plex-Token": "plex-tok-456", "X-Emby-Token": "emby-tok-789"})
    log.warning('Authorization: MediaBrowser Client="Zondarr", Token="jf-tok-abc"')
    log.warning("Authorization: Bearer bearer-tok-def")
    log.warning("url http://h:8096/Items?api_key=api-key-ghi&Limit=5 and apikey=api-key-jkl")
    log.warning('body {"Username": "admin", "Pw": "pw-mno", "Password": "pw-pqr"}')
    log.warning("password=pw-stu; then registered-secret-value shows up")
    try:
        raise RuntimeError("failed http://h/?X-Plex-Token=trace-tok-vwx")
    except RuntimeError:
        log.exception("sync crashed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "sync crashed" in text and "Traceback" in text and "RuntimeError" in text
    for secret in (
        "plex-tok-123", "plex-tok-456", "emby-tok-789", "jf-tok-abc", "bearer-tok-def", "api-key-ghi",
        "api-key-jkl", "pw-mno", "pw-pqr", "pw-stu", "registered-secret-value", "trace-tok-vwx",
    ):  # fmt: skip
        assert secret not in text, secret
    assert any(isinstance(f, RedactingFilter) for h in logging.getLogger().handlers for f in h.filters)


def test_the_log_rotates(tmp_path: Path) -> None:
    import logging.handlers

    path = configure_logging(tmp_path / "rot")
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "zondarr_file", None) == str(path))
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    handler.maxBytes = 2000  # small, to see a rollover without writing megabytes
    for i in range(100):
        logging.getLogger("tests.rot").warning("line %d %s", i, "x" * 40)
    handler.flush()
    assert (path.parent / "zondarr.log.1").exists() and path.stat().st_size <= 2000 + 200
    logging.getLogger().removeHandler(handler)
    handler.close()
