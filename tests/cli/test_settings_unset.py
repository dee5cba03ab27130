"""`settings unset NAME` forgets the stored value: the default (or the environment) applies again."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import run_cli


def test_unset_brings_the_default_back(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert run_cli(data_dir, "settings", "set", "expiry_action", "disable-then-delete").code == 0
    assert run_cli(data_dir, "settings", "set", "delete_after_days", "9").code == 0
    assert run_cli(data_dir, "settings", "--json").json()["expiry_action"] == "disable-then-delete"  # type: ignore[index]
    assert run_cli(data_dir, "settings", "unset", "expiry_action").code == 0
    effective = run_cli(data_dir, "settings", "--json").json()
    assert effective["expiry_action"] == "disable" and effective["delete_after_days"] == "9"  # type: ignore[index]
