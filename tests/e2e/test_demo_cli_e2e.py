"""The demo's own errors reach the admin as the app's: ``zondarr demo-server`` and ``zondarr demo`` with a bad
option or fault spec are usage errors (exit 2) that say what is wrong and what to do; a port in use is a
failure (exit 1). The demo shares no code with the app, so the CLI translates at its edge (``app/cli/demo.py``).
"""

from __future__ import annotations

from pathlib import Path

from app.demo import DemoConfig, start_demo_server
from tests.e2e.conftest import run_cli


def test_a_bad_fault_spec_is_a_usage_error_naming_the_rule(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "demo-server", "--kind", "plex", "--faults", "tracks:teapot")
    assert result.code == 2
    assert "zondarr: The fault rule 'tracks:teapot' is not valid" in result.err
    assert "Use ENDPOINT:FAULT" in result.err and "(ref " in result.err


def test_a_size_the_demo_refuses_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "demo-server", "--kind", "plex", "--libraries", "50")
    assert result.code == 2
    assert "zondarr: The demo server needs 1 to 20 music libraries. Pick 1 to 20. (ref " in result.err


def test_a_port_in_use_is_a_failure_with_a_remedy(tmp_path: Path) -> None:
    with start_demo_server(DemoConfig(kind="jellyfin", tracks=5)) as taken:
        port = taken.url.rsplit(":", 1)[1]
        result = run_cli(tmp_path, "demo-server", "--kind", "jellyfin", "--tracks", "5", "--port", port)
    assert result.code == 1
    assert f"could not listen on 127.0.0.1:{port}" in result.err and "Pick another port" in result.err
