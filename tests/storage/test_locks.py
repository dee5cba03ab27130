"""Cross-process job locks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from app.storage.locks import FileJobLocks

ROOT = Path(__file__).resolve().parents[2]


def test_second_acquisition_in_one_process_conflicts(tmp_path: Path) -> None:
    locks = FileJobLocks(tmp_path)
    held = locks.try_acquire("sync:Home")
    assert held is not None
    assert locks.try_acquire("sync:Home") is None
    assert FileJobLocks(tmp_path).try_acquire("sync:Home") is None
    other = locks.try_acquire("sync:Other")
    assert other is not None
    with held:
        pass
    again = locks.try_acquire("sync:Home")
    assert again is not None
    again.release()
    other.release()


def test_lock_held_by_another_process_and_freed_when_it_dies(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from app.storage.locks import FileJobLocks
        held = FileJobLocks(Path({str(tmp_path)!r})).try_acquire("sync:Home")
        print("held" if held else "busy", flush=True)
        time.sleep(60)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        assert FileJobLocks(tmp_path).try_acquire("sync:Home") is None
    finally:
        child.kill()
        child.wait()
    held = FileJobLocks(tmp_path).try_acquire("sync:Home")
    assert held is not None
    held.release()
