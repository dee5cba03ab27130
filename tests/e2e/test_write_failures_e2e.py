"""`server add` when the secrets file cannot be written (row 11 of the hostile-input table): a typed error with a
remedy and a reference, exit 1, no traceback, no temporary file, and nothing half-made (no server row)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from app.demo import DemoConfig, start_demo_server
from tests.e2e.conftest import run_cli, spawn_cli
from tests.write_limits import needs_rlimit, run_limited


def _add(data: Path, url: str) -> tuple[int, str]:
    proc = spawn_cli(
        data, "server", "add", "--kind", "plex", "--name", "Home Plex", "--url", url, "--token-stdin",
        stdin=subprocess.PIPE,
    )  # fmt: skip
    _, err = proc.communicate("demo-plex-token\n", timeout=60)
    return proc.returncode, err


def test_server_add_when_the_secrets_file_cannot_be_written_stores_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_cli(data, "settings").code == 0  # the data folder exists
    (data / "secrets.json").mkdir()  # something in the way of the file: every write of it fails
    with start_demo_server(DemoConfig(kind="plex", tracks=10)) as plex:
        code, err = _add(data, plex.url)
    assert code == 1, err
    assert "secrets file" in err and "secrets.json" in err and "(ref " in err  # what happened, what to do
    assert "Traceback" not in err
    assert [p.name for p in data.iterdir() if p.name.endswith(".tmp")] == []
    listed = run_cli(data, "server", "list", "--json")
    assert listed.code == 0 and listed.json() == []


@needs_rlimit
def test_server_add_on_a_full_disk_fails_typed_and_stores_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_cli(data, "settings").code == 0
    with start_demo_server(DemoConfig(kind="plex", tracks=10)) as plex:
        result, stderr = run_limited(
            """
            import io, os, contextlib
            os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
            sys.stdin = io.StringIO("demo-plex-token\\n")
            from app.cli.main import main
            limit_file_size(2)  # a tiny file still fits (secrets.json does not): the disk is full
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                code = main(["--data-dir", sys.argv[1], "server", "add", "--kind", "plex", "--name", "Home",
                             "--url", sys.argv[2], "--token-stdin"])
            report(code=code, err=err.getvalue())
            """,
            str(data),
            plex.url,
        )
    assert result["code"] == 1, stderr
    # whichever file hits the full disk first (the cache's WAL, here) says so, with a reference
    assert "disk" in str(result["err"]) and "(ref " in str(result["err"])
    assert "Traceback" not in str(result["err"]) + stderr
    assert not (data / "secrets.json").exists()
    assert run_cli(data, "server", "list", "--json").json() == []
    assert [p.name for p in data.iterdir() if p.name.endswith(".tmp")] == []
