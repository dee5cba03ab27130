"""Command-line input (DESIGN §6): numbers within stated bounds and finite, names without control or bidi
characters, a --server that names a server, strict JSON, escaped server text, a closed pipe ending quietly; and
nothing already stored can break a later command."""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli.main import main
from app.storage import open_cache
from tests.e2e.conftest import CliResult
from tests.storage.conftest import add_server, sync, track

ROOT = Path(__file__).resolve().parents[2]
ESC, RLO = "\x1b", "\u202e"


def cli(data: Path, *args: str) -> CliResult:
    """The real CLI in this process; an argparse usage error (SystemExit) is returned as its exit code."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["--data-dir", str(data), *args])
        except SystemExit as stop:
            code = int(stop.code or 0)
    return CliResult(code, out.getvalue(), err.getvalue())


def strict_json(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A cache with one server whose tracks and users carry terminal escapes, newlines and bidi overrides."""
    data = tmp_path_factory.mktemp("bounds") / "data"
    with open_cache(data) as cache:
        server = add_server(cache, "Home Plex")
        hostile = [
            track(
                "evil1", f"Red{ESC}[31m alert{ESC}]0;pwned{chr(7)}", artist="Fake\nrow — x — y [Home Plex]"
            ),
            track("evil2", f"gnp.{RLO}exe", artist="Bidi"),
        ]
        sync(cache, server.id, {"1": [*hostile, *(track(f"r{i}", f"Song {i}") for i in range(2000))]})
    yield data


def _invitations(data: Path) -> list[object]:
    r = cli(data, "invite", "list", "--json")
    assert r.code == 0, r.err
    return strict_json(r.out)  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("option", "value", "bound"),
    [
        ("--max-uses", "99999999999999999999999", "1,000,000"),
        ("--max-uses", "0", "1,000,000"),
        ("--max-uses", "1e3", "1,000,000"),
        ("--duration-days", str(10**20), "36,500"),
        ("--duration-days", "-5", "36,500"),
        ("--expires-in", "1e400", "36,500"),
        ("--expires-in", "inf", "36,500"),
        ("--expires-in", "nan", "36,500"),
        ("--expires-in", "36501", "36,500"),
        ("--expires-in", "0", "36,500"),
    ],
)
def test_invite_numbers_out_of_bounds_are_usage_errors_naming_the_bound(
    data: Path, option: str, value: str, bound: str
) -> None:
    before = _invitations(data)
    r = cli(data, "invite", "create", "--server", "Home Plex", option, value)
    assert r.code == 2, r.err
    assert bound in r.err and "Traceback" not in r.err
    assert _invitations(data) == before


def test_numbers_at_the_bounds_are_accepted(data: Path) -> None:
    r = cli(
        data, "invite", "create", "--server", "Home Plex", "--max-uses", "1000000", "--duration-days", "36500",
        "--expires-in", "36500", "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    created = strict_json(r.out)
    assert created["max_uses"] == 1_000_000 and created["duration_days"] == 36_500  # type: ignore[index]


def test_an_infinite_or_huge_expiry_already_stored_breaks_no_later_command(data: Path) -> None:
    assert cli(data, "invite", "create", "--server", "Home Plex").code == 0
    assert cli(data, "invite", "create", "--server", "Home Plex").code == 0
    conn = sqlite3.connect(data / "cache.sqlite3")
    with conn:  # what an older build stored for --expires-in 1e400, and a year no calendar holds
        ids = [r[0] for r in conn.execute("SELECT id FROM invitations ORDER BY id DESC LIMIT 2")]
        conn.execute("UPDATE invitations SET expires_at = 9e999 WHERE id = ?", (ids[0],))
        conn.execute("UPDATE invitations SET expires_at = 1e300 WHERE id = ?", (ids[1],))
    conn.close()
    text = cli(data, "invite", "list")
    assert text.code == 0, text.err
    assert "never" in text.out and "after 9999" in text.out
    rows = _invitations(data)
    assert any(r["expires_at"] is None for r in rows)  # type: ignore[index]


def test_limit_below_one_and_an_unknown_server_are_usage_errors(data: Path) -> None:
    for limit in ("-1", "0", "abc", "1e9999"):
        r = cli(data, "tracks", "--limit", limit)
        assert r.code == 2 and "--limit" in r.err, (limit, r.err)
    r = cli(data, "tracks", "--limit", "1", "--json")
    assert r.code == 0 and len(strict_json(r.out)) == 1  # type: ignore[arg-type]
    for command in (("tracks",), ("users",), ("invite", "create"), ("users", "discrepancies"), ("diagnose",)):
        r = cli(data, *command, "--server", "nosuch")
        assert r.code == 2, (command, r.err)
        assert "nosuch" in r.err and "'Home Plex'" in r.err


@pytest.mark.parametrize("bad", [f"Home{ESC}[31m", "Two\nlines", f"{RLO}xelP", "Tab\there", "\x00nul"])
def test_names_with_control_or_bidi_characters_are_refused(data: Path, bad: str) -> None:
    r = cli(data, "server", "add", "--kind", "plex", "--name", bad, "--url", "http://127.0.0.1:1")
    assert r.code == 2 and "control or text-direction" in r.err
    r = cli(data, "identity", "link", bad, "Home Plex:someone")
    assert r.code == 2 and "control or text-direction" in r.err
    r = cli(data, "invite", "create", "--server", "Home Plex", "--note", bad)
    assert r.code == 2 and "control or text-direction" in r.err


def test_text_from_servers_is_printed_with_control_characters_escaped(data: Path) -> None:
    r = cli(data, "tracks", "--search", "alert")
    assert r.code == 0, r.err
    assert ESC not in r.out and chr(7) not in r.out
    assert "\\x1b[31m" in r.out and "Fake\\nrow" in r.out
    assert r.out.count("\n") == 1  # one track, one line: the newline in its artist cannot add a row
    r = cli(data, "tracks", "--search", "Bidi")
    assert RLO not in r.out and "\\u202e" in r.out
    as_json = cli(data, "tracks", "--search", "alert", "--json")  # JSON keeps the data, escaped the JSON way
    assert strict_json(as_json.out)[0]["title"].startswith(f"Red{ESC}")  # type: ignore[index]


def test_a_closed_stdout_ends_the_command_quietly_with_exit_0(data: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "--data-dir", str(data), "tracks", "--json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    head = proc.stdout.read(400)  # like `| head -c 400`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert len(head) == 400 and err == ""


_numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=-10, max_value=2_000_000).map(str),
    st.integers(min_value=2**62, max_value=10**25).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e400", "-1e400", "inf", "-inf", "nan", "", " ", "0x10", "1_000", "٣", "9" * 5000]),
    st.text(max_size=12),
)
_maybe = st.one_of(st.none(), _numbers)
_OPTIONS = {
    "invite": ("--max-uses", "--duration-days", "--expires-in"),
    "tracks": ("--limit", "--decade", "--min-rating"),
    "errors": ("--limit", "--limit", "--limit"),
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    command=st.sampled_from(sorted(_OPTIONS)),
    values=st.tuples(_maybe, _maybe, _maybe),
    text=st.one_of(st.none(), st.text(max_size=40)),
)
def test_no_command_line_input_makes_a_command_print_a_traceback(
    data: Path, command: str, values: tuple[str | None, str | None, str | None], text: str | None
) -> None:
    args = {
        "invite": ["invite", "create", "--server", "Home Plex"],
        "tracks": ["tracks"],
        "errors": ["errors"],
    }[command]
    for option, value in zip(_OPTIONS[command], values, strict=True):
        if value is not None:
            args += [option, value]
    if text is not None:
        args += ["--note" if command == "invite" else "--search", text]
    args = [*(x for x in args if "\x00" not in x), "--json"]  # the OS cannot pass NUL in an argument
    r = cli(data, *args)
    assert r.code in (0, 2), (args, r.code, r.err)
    assert "Traceback" not in r.err and "unexpected error" not in r.err, (args, r.err)
    if r.code == 0:
        strict_json(r.out)
    if command == "invite" and r.code == 0:  # what was stored must not break the next command
        for later in (("invite", "list"), ("invite", "list", "--json")):
            shown = cli(data, *later)
            assert shown.code == 0 and "unexpected error" not in shown.err, (args, later, shown.err)
