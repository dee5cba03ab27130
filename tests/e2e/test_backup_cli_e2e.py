"""`zondarr backup create|list|restore` end to end: a restore gives back exactly the state of the backup, the
daily task makes one, and a damaged cache's message leads to the restore that repairs it."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import demo_pair, run_cli
from tests.storage.test_backups import _dump

VIEWS = (
    ("tracks", "--json"),
    ("server", "list", "--json"),
    ("invite", "list", "--json"),
    ("settings", "--json"),
)


def _views(data: Path) -> list[object]:
    out = []
    for args in VIEWS:
        r = run_cli(data, *args)
        assert r.code == 0, r.err
        out.append(r.json())
    return out


def test_backup_then_a_change_then_restore_gives_back_exactly_the_earlier_state(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with demo_pair(40) as pair:
        pair.add_both(data)
        assert run_cli(data, "sync").code == 0
        assert run_cli(data, "invite", "create", "--server", "Plex", "--max-uses", "3").code == 0
        created = run_cli(data, "backup", "create", "--json")
        assert created.code == 0, created.err
        name = created.json()["name"]  # type: ignore[index]
        before_views, before_rows = _views(data), _dump(data)

        assert run_cli(data, "server", "remove", "Jelly").code == 0
        assert run_cli(data, "settings", "set", "page_size", "123").code == 0
        assert _views(data) != before_views

        restored = run_cli(data, "backup", "restore", name, "--json")
        assert restored.code == 0, restored.err
        kept = restored.json()["kept"]  # type: ignore[index]
        assert _dump(data) == before_rows
        assert _views(data) == before_views

        listed = run_cli(data, "backup", "list", "--json").json()
        assert [b["reason"] for b in listed] == ["before-restore", "manual"]  # type: ignore[index]
        assert listed[0]["name"] == kept  # type: ignore[index]


def test_the_daily_task_backs_up_and_a_damaged_cache_points_at_the_restore(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_cli(data, "settings", "set", "page_size", "250").code == 0
    task = run_cli(data, "tasks", "run", "backup", "--json")
    assert task.code == 0, task.err + task.out
    assert task.json()["status"] == "succeeded"  # type: ignore[index]
    [daily] = run_cli(data, "backup", "list", "--json").json()  # type: ignore[misc]
    assert daily["reason"] == "daily"

    (data / "cache.sqlite3").write_bytes(b"garbage, not a database" * 300)
    for suffix in ("-wal", "-shm"):
        (data / f"cache.sqlite3{suffix}").unlink(missing_ok=True)
    broken = run_cli(data, "tracks")
    assert broken.code == 1
    assert f"zondarr backup restore {daily['name']}" in broken.err
    assert "Traceback" not in broken.err

    fixed = run_cli(data, "backup", "restore", daily["name"])
    assert fixed.code == 0, fixed.err
    assert "was kept as" in fixed.out
    assert run_cli(data, "settings", "--json").json()["page_size"] == "250"  # type: ignore[index]


def test_restore_of_an_unknown_name_or_a_text_file_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_cli(data, "settings", "set", "page_size", "250").code == 0
    before = _dump(data)
    missing = run_cli(data, "backup", "restore", "nosuch.sqlite3", "--json")
    assert missing.code == 1 and missing.json()["error"] == "NotFoundError"  # type: ignore[index]
    text = tmp_path / "notes.txt"
    text.write_text("hello\n" * 1000)
    foreign = run_cli(data, "backup", "restore", str(text))
    assert foreign.code == 2 and "nothing was restored" in foreign.err
    assert _dump(data) == before
