"""Lifecycle of demo servers: determinism, stop, the CLI banner, bind errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from app.demo import DEFAULT_JELLYFIN_API_KEY, DEFAULT_PLEX_TOKEN, DemoConfig, start_demo_server
from app.demo.errors import DemoConfigError, DemoListenError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kind", ["plex", "jellyfin"])
def test_same_seed_gives_the_same_bytes(kind: str) -> None:
    def fetch(seed: int) -> bytes:
        with start_demo_server(DemoConfig(kind=kind, tracks=300, seed=seed)) as server:
            if kind == "plex":
                url = (
                    server.url
                    + "/library/sections/2/all?type=10&X-Plex-Container-Start=20&X-Plex-Container-Size=50"
                )
                return requests.get(url, headers={"X-Plex-Token": DEFAULT_PLEX_TOKEN}, timeout=5).content
            url = (
                server.url
                + "/Items?IncludeItemTypes=Audio&Recursive=true&StartIndex=20&Limit=50&Fields=Genres,DateCreated"
            )
            return requests.get(
                url, headers={"Authorization": f'MediaBrowser Token="{DEFAULT_JELLYFIN_API_KEY}"'}, timeout=5
            ).content

    assert fetch(11) == fetch(11)
    assert fetch(11) != fetch(12)


def test_stop_is_idempotent_and_closes_the_socket() -> None:
    server = start_demo_server(DemoConfig(kind="jellyfin", tracks=5, token="custom-key"))
    session = requests.Session()  # a keep-alive connection must not keep the server alive
    assert (
        session.get(
            server.url + "/System/Info",
            headers={"Authorization": f'MediaBrowser Token="{"custom-key"}"'},
            timeout=5,
        ).status_code
        == 200
    )
    server.stop()
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/system/info/public", timeout=2)


def test_bind_conflict_and_bad_config_raise_our_errors() -> None:
    with start_demo_server(DemoConfig(kind="plex", tracks=5)) as server:
        port = int(server.url.rsplit(":", 1)[1])
        with pytest.raises(DemoListenError):
            start_demo_server(DemoConfig(kind="plex", tracks=5, port=port))
    with pytest.raises(DemoConfigError):
        start_demo_server(DemoConfig(kind="emby"))
    with pytest.raises(DemoConfigError):
        start_demo_server(DemoConfig(kind="plex", faults="tracks:999"))


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("plex", "token=demo-plex-token tracks=12"),
        ("jellyfin", "api_key=demo-jellyfin-key user=admin password=demo-password tracks=12"),
    ],
)
def test_foreground_server_prints_one_line_and_stops_on_sigterm(kind: str, expected: str) -> None:
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "demo-server", "--kind", kind, "--tracks", "12"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith(f"demo {kind} server on http://127.0.0.1:") and line.endswith(expected)
        url = line.split()[4]
        assert (
            requests.get(
                url + ("/identity" if kind == "plex" else "/system/info/public"),
                headers={"X-Plex-Token": DEFAULT_PLEX_TOKEN},
                timeout=5,
            ).status_code
            == 200
        )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert proc.stdout.read() == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
