"""The desktop app opens the cache without its quick_check and runs ``Cache.quick_check()`` after the first paint."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import CacheError
from app.storage import open_cache


def _fill(data_dir: Path) -> Path:
    cache = open_cache(data_dir)
    cache.settings.save_raw({f"key{i}": "x" * 200 for i in range(2000)})  # many pages of real rows
    path = cache.path
    cache.close()
    return path


def test_deferred_check_passes_on_a_sound_cache(tmp_path: Path) -> None:
    _fill(tmp_path)
    cache = open_cache(tmp_path, check=False)
    try:
        cache.quick_check()  # no exception
    finally:
        cache.close()


def test_deferred_check_reports_a_damaged_file(tmp_path: Path) -> None:
    path = _fill(tmp_path)
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 20 * page
    for n in range(6, 16):  # scribble over the headers of b-tree pages in the middle of the file
        data[n * page : n * page + 12] = b"\x0d\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
    path.write_bytes(bytes(data))
    try:
        cache = open_cache(tmp_path, check=False)
    except CacheError:
        pytest.skip("this damage already broke opening; the deferred check is not reached")
    try:
        with pytest.raises(CacheError) as info:
            cache.quick_check()
        assert "damaged" in info.value.user_message
    finally:
        cache.close()
    with pytest.raises(CacheError):
        open_cache(tmp_path).close()
