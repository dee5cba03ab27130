"""The SQLite cache (DESIGN §3) and the secret store: the only package that imports ``sqlite3``.

The names below are loaded on first use (PEP 562): the desktop app reads ``app.storage.head`` before its first
paint, and loading every store (and the core models they import) with the package would delay that paint ~70 ms.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.storage.cache import Cache, open_cache
    from app.storage.paths import default_data_dir
    from app.storage.secrets import KeyringSecretStore, open_secret_store

__all__ = ["Cache", "KeyringSecretStore", "default_data_dir", "open_cache", "open_secret_store"]

_HOMES = {
    "Cache": "app.storage.cache",
    "default_data_dir": "app.storage.paths",
    "open_cache": "app.storage.cache",
    "KeyringSecretStore": "app.storage.secrets",
    "open_secret_store": "app.storage.secrets",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value
