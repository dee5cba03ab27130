"""Every write path of the data folder survives OSError (full disk, missing or unwritable folder): a typed error
with a remedy, the previous file intact, no temporary file left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.errors import CacheError, FileWriteError
from app.storage import open_cache
from app.storage.secrets import FileSecrets
from tests.write_limits import needs_rlimit, run_limited


@needs_rlimit
def test_secrets_file_on_a_full_disk_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.json"
    FileSecrets(secrets).set("server:Old", "old-token-value")
    before = secrets.read_bytes()
    result, stderr = run_limited(
        """
        from pathlib import Path
        from app.core.errors import ZondarrError
        from app.storage.secrets import FileSecrets
        store = FileSecrets(Path(sys.argv[1]))
        limit_file_size(len(Path(sys.argv[1]).read_bytes()) + 10)
        try:
            store.set("server:New", "x" * 5000)
        except ZondarrError as err:
            report(type=type(err).__name__, message=err.user_message, remedy=err.remedy)
        else:
            report(type=None)
        """,
        str(secrets),
    )
    assert result["type"] == "FileWriteError", stderr
    assert "disk is full" in str(result["remedy"])
    assert "Traceback" not in stderr
    assert secrets.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secrets.json"]


def test_secrets_file_under_a_regular_file_is_a_typed_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    with pytest.raises(FileWriteError) as info:
        FileSecrets(blocker / "secrets.json").set("server:Home", "tok-123456")
    assert "does not exist" in info.value.remedy
    assert str(tmp_path) not in info.value.user_message  # no internal path in what the admin sees
    assert json.loads(json.dumps(info.value.to_dict()))["error"] == "FileWriteError"


def test_cache_in_a_folder_under_a_regular_file_is_a_typed_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CacheError) as info:
        open_cache(blocker / "data")
    assert "--data-dir" in info.value.remedy


@needs_rlimit
def test_cache_write_on_a_full_disk_is_a_cache_error_and_keeps_the_committed_rows(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with open_cache(data) as cache:
        cache.settings.save_raw({"page_size": "100"})
    size = (data / "cache.sqlite3").stat().st_size
    result, stderr = run_limited(
        """
        from pathlib import Path
        from app.core.errors import ZondarrError
        from app.storage import open_cache
        cache = open_cache(Path(sys.argv[1]))
        limit_file_size(int(sys.argv[2]))
        try:
            cache.settings.save_raw({f"k{i}": "v" * 1000 for i in range(2000)})
        except ZondarrError as err:
            report(type=type(err).__name__, remedy=err.remedy)
        else:
            report(type=None)
        """,
        str(data),
        str(size),
    )
    assert result["type"] == "CacheError", stderr
    assert "disk" in str(result["remedy"]).lower()
    with open_cache(data) as cache:
        kept = cache.settings.load_raw()
        kept.pop("client_identifier")  # every cache holds one from its first open
        assert kept == {"page_size": "100"}


def test_log_folder_that_cannot_be_created_is_a_typed_error(tmp_path: Path) -> None:
    from app.logsetup import configure_logging

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(FileWriteError) as info:
        configure_logging(blocker / "logs")
    assert info.value.remedy


@needs_rlimit
def test_log_lines_on_a_full_disk_are_dropped_with_one_notice_not_a_traceback_each(tmp_path: Path) -> None:
    result, stderr = run_limited(
        """
        import logging
        from pathlib import Path
        from app.logsetup import configure_logging
        path = configure_logging(Path(sys.argv[1]))
        logging.getLogger("t").info("first line")
        limit_file_size(path.stat().st_size + 100)
        for i in range(50):
            logging.getLogger("t").info("line %d %s", i, "x" * 500)
        report(done=True)
        """,
        str(tmp_path / "logs"),
    )
    assert result["done"] is True
    assert "Traceback" not in stderr and "Logging error" not in stderr
    assert stderr.count("log file could not be written") == 1
