"""The SQLite cache (DESIGN §3) and the secret store: the only package that imports ``sqlite3``."""

from app.storage.cache import Cache, default_data_dir, open_cache
from app.storage.secrets import KeyringSecretStore, open_secret_store

__all__ = ["Cache", "KeyringSecretStore", "default_data_dir", "open_cache", "open_secret_store"]
