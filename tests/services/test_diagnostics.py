"""DiagnosticsService and the bundle against real demo servers over HTTP and a real cache file."""

from __future__ import annotations

import asyncio
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.errors import CacheError
from app.core.health import DiagnosticRun, Outcome
from app.core.models import AuthMethod, Credentials, NewServer, ServerKind
from app.core.settings import Settings
from app.demo import DemoConfig, DemoServer, start_demo_server
from app.servers import ServerRegistry
from app.servers.diagnose import HttpProbe
from app.services.bundle import BundleWriter, _verify_clean
from app.services.diagnostics import DiagnosticsService
from app.services.runner import ThreadRunner
from app.services.servers import ServerService
from app.storage import open_cache
from app.storage.diagnostics import sqlite_version
from tests.services.fakes import MemorySecrets

SERVER_CHECKS = {
    "reachable",
    "TLS valid",
    "clock skew",
    "auth valid",
    "response time",
    "identity stable",
    "user listing",
    "admin permissions",
}


@pytest.fixture(scope="module")
def demos() -> Iterator[tuple[DemoServer, DemoServer]]:
    with start_demo_server(DemoConfig(kind="plex", tracks=60, libraries=2)) as plex:
        with start_demo_server(DemoConfig(kind="jellyfin", tracks=30, libraries=1)) as jelly:
            yield plex, jelly


class Env:
    def __init__(self, tmp_path: Path, plex: DemoServer, jelly: DemoServer) -> None:
        self.cache = open_cache(tmp_path / "data")
        self.offset = 0.0
        self.secrets = MemorySecrets()
        self.runner = ThreadRunner()
        settings = Settings(request_timeout_s=2.0, connect_timeout_s=1.0, plex_tv_url=plex.url)
        registry = ServerRegistry(settings)
        import time

        clock = lambda: time.time() + self.offset  # noqa: E731 - a skewable local clock
        self.service = DiagnosticsService(
            servers=self.cache.servers,
            store=self.cache.diagnostics,
            secrets=self.secrets,
            clients=registry,
            probe=HttpProbe(settings),
            runner=self.runner,
            data_dir=self.cache.data_dir,
            quick_check=self.cache.quick_check,
            clock=clock,
        )
        self.bundle = BundleWriter(
            settings=settings,
            servers=self.cache.servers,
            sync_runs=self.cache.sync_runs,
            errors=self.cache.error_events,
            diagnostics=self.cache.diagnostics,
            secrets=self.secrets,
            runner=self.runner,
            schema_version=self.cache.schema_version,
            sqlite_version=sqlite_version(),
            log_dir=tmp_path / "logs",
        )
        servers = ServerService(
            servers=self.cache.servers, secrets=self.secrets, clients=registry, runner=self.runner
        )
        for name, demo in (("Plex", plex), ("Jelly", jelly)):
            kind = ServerKind(demo.config.kind)
            method = AuthMethod.TOKEN if kind is ServerKind.PLEX else AuthMethod.API_KEY
            new = NewServer(name, kind, demo.url, method)
            asyncio.run(servers.add(new, Credentials(token=demo.config.effective_token)))

    def run(self, *names: str) -> DiagnosticRun:
        return asyncio.run(self.service.run(list(names) or None))

    def close(self) -> None:
        self.runner.close()
        self.cache.close()


@pytest.fixture
def env(tmp_path: Path, demos: tuple[DemoServer, DemoServer]) -> Iterator[Env]:
    e = Env(tmp_path, *demos)
    yield e
    for d in demos:
        d.set_faults("")
    e.close()


def outcomes(run: DiagnosticRun, server: str | None) -> dict[str, Outcome]:
    return {r.check: r.outcome for r in run.results if r.server == server}


def test_a_healthy_pair_passes_every_scenario(env: Env) -> None:
    run = env.run()
    for server, libraries in (("Plex", 2), ("Jelly", 1)):
        got = outcomes(run, server)
        assert SERVER_CHECKS <= set(got)
        assert got.pop("TLS valid") is Outcome.SKIP  # http:// demo servers
        assert set(got.values()) == {Outcome.PASS}, got
        assert sum(name.startswith("library readable: ") for name in got) == libraries
        assert sum(name.startswith("paging consistent: ") for name in got) == libraries
    assert outcomes(run, None) == {n: Outcome.PASS for n in ("cache integrity", "WAL size", "free disk")}
    assert run.status == "passed" and run.summary.startswith(f"{len(run.results) - 2} passed, 0 failed")
    assert all(r.duration_ms >= 0 for r in run.results)
    reach = next(r for r in run.results if r.check == "reachable" and r.server == "Plex")
    assert "GET http://127.0.0.1" in reach.evidence and "/identity -> HTTP " in reach.evidence
    assert "demo-plex-token" not in repr(run)
    stored = env.service.get(run.id)
    assert stored is not None and stored.results == run.results
    assert [r.id for r in env.service.history()] == [run.id]


def test_clock_skew_identity_change_and_paging_faults_fail(
    env: Env, demos: tuple[DemoServer, DemoServer]
) -> None:
    plex, jelly = demos
    env.offset = 3600.0
    plex.set_faults("identity:identity-change")
    jelly.set_faults("tracks:empty@1")
    run = env.run()
    p, j = outcomes(run, "Plex"), outcomes(run, "Jelly")
    assert p["clock skew"] is Outcome.FAIL and j["clock skew"] is Outcome.FAIL
    assert p["identity stable"] is Outcome.FAIL and j["identity stable"] is Outcome.PASS
    paging = {k: v for k, v in j.items() if k.startswith("paging consistent")}
    assert list(paging.values()) == [Outcome.FAIL]
    skew = next(r for r in run.results if r.check == "clock skew" and r.server == "Jelly")
    assert "Date:" in skew.evidence and ("+3600 s" in skew.message or "+3601 s" in skew.message)
    assert run.status == "failed"


def test_an_unreachable_server_fails_reachable_and_skips_the_rest(
    env: Env, demos: tuple[DemoServer, DemoServer]
) -> None:
    demos[1].set_faults("any:drop")
    run = env.run("Jelly")
    j = outcomes(run, "Jelly")
    assert j["reachable"] is Outcome.FAIL and j["auth valid"] is Outcome.FAIL
    assert j["user listing"] is Outcome.SKIP and j["response time"] is Outcome.SKIP
    assert "Plex" not in {r.server for r in run.results}
    reach = next(r for r in run.results if r.check == "reachable")
    assert reach.message == "the connection broke [unreachable]", reach.message


def test_bundle_is_complete_and_clean(env: Env, tmp_path: Path) -> None:
    env.run()
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "zondarr.log").write_text(
        "line one\nGET /?X-Plex-Token=demo-plex-token\n", encoding="utf-8"
    )
    info = asyncio.run(env.bundle.export(tmp_path / "out" / "b.zip"))
    with zipfile.ZipFile(info.path) as zf:
        names = set(zf.namelist())
        blob = b"".join(zf.read(n) for n in names)
    assert {"versions.json", "settings.json", "schema.json", "sync_runs.json", "error_events.json"} <= names
    assert {"diagnostics.json", "servers.json", "zondarr.log.tail.txt"} <= names
    assert b"demo-plex-token" not in blob and b"demo-jellyfin-key" not in blob
    assert b"line one" in blob and b'"plexapi": "4.' in blob
    assert info.path.stat().st_mode & 0o777 == 0o600


def test_a_bundle_with_a_secret_left_in_is_refused() -> None:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "token is hunter2-secret")
    with pytest.raises(CacheError):
        _verify_clean(buf.getvalue(), ("hunter2-secret",))
    _verify_clean(buf.getvalue(), ("other-secret",))
