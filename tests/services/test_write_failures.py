"""The files the admin asks for (CSV export, diagnostics bundle) on a full disk or in a folder that is not one:
a FileWriteError with a remedy, the previous file intact, no temporary file left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.core.errors import FileWriteError
from app.services.bundle import _write_zip
from app.services.export import export_ids_csv
from app.storage import open_cache
from tests.storage.conftest import add_server, sync, track
from tests.write_limits import needs_rlimit, run_limited


def _cache_with_tracks(data: Path, n: int = 300) -> None:
    with open_cache(data) as cache:
        server = add_server(cache)
        sync(cache, server.id, {"1": [track(f"r{i}", f"Song {i} " + "x" * 40) for i in range(n)]})


@needs_rlimit
def test_csv_export_on_a_full_disk_keeps_the_old_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _cache_with_tracks(data)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "tracks.csv"
    target.write_text("the previous export\n")
    result, stderr = run_limited(
        """
        from pathlib import Path
        from app.core.errors import ZondarrError
        from app.core.filters import TrackFilter, TrackSort
        from app.services.export import export_ids_csv
        from app.storage import open_cache
        cache = open_cache(Path(sys.argv[1]))
        ids = cache.tracks.ids(TrackFilter(), TrackSort.parse("title"))
        limit_file_size(1000)  # the cache is only read from here on; the CSV needs ~25 kB
        try:
            export_ids_csv(cache.tracks, ids, Path(sys.argv[2]))
        except ZondarrError as err:
            report(type=type(err).__name__, message=err.user_message, remedy=err.remedy)
        else:
            report(type=None)
        """,
        str(data),
        str(target),
    )
    assert result["type"] == "FileWriteError", stderr
    assert "disk is full" in str(result["remedy"])
    assert target.read_text() == "the previous export\n"
    assert os.listdir(out_dir) == ["tracks.csv"]


@needs_rlimit
def test_bundle_on_a_full_disk_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "bundle.zip"
    target.write_bytes(b"old bundle")
    result, stderr = run_limited(
        """
        import os
        from pathlib import Path
        from app.core.errors import ZondarrError
        from app.services.bundle import _write_zip
        limit_file_size(64)
        try:
            _write_zip(Path(sys.argv[1]), {"a.txt": os.urandom(50_000).hex()}, ())
        except ZondarrError as err:
            report(type=type(err).__name__, remedy=err.remedy)
        else:
            report(type=None)
        """,
        str(target),
    )
    assert result["type"] == "FileWriteError", stderr
    assert "disk is full" in str(result["remedy"])
    assert target.read_bytes() == b"old bundle"
    assert os.listdir(tmp_path) == ["bundle.zip"]


def test_bundle_into_a_folder_that_is_a_file_is_a_typed_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(FileWriteError) as info:
        _write_zip(blocker / "bundle.zip", {"a.txt": "hello"}, ())
    assert "bundle.zip" in info.value.user_message
    assert str(tmp_path) not in info.value.user_message


def test_csv_export_into_a_folder_that_is_a_file_is_a_typed_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _cache_with_tracks(data, 5)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with open_cache(data) as cache, pytest.raises(FileWriteError) as info:
        export_ids_csv(cache.tracks, [1, 2, 3], blocker / "tracks.csv")
    assert "tracks.csv" in info.value.user_message
