"""Where the cache lives: the default data folder and the cache file's name.

Standard library and platformdirs only, so that the window's entry point and the start-up head read
(``app.entry``, ``app.storage.head``) can name the same file as ``open_cache`` without loading the stores.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_FILE = "cache.sqlite3"


def default_data_dir() -> Path:
    """``$ZONDARR_DATA_DIR`` when set, else the platform's user data dir for "zondarr"."""
    env = os.environ.get("ZONDARR_DATA_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs  # only when no folder is given: a few ms of the window's start-up

    return Path(platformdirs.user_data_dir("zondarr", appauthor=False))
