"""Media-server adapters: the only package that imports plexapi, jellyfin_apiclient_python and requests.

``ServerRegistry`` (a ``core.ports.ClientFactory``) builds ``PlexClient`` / ``JellyfinClient`` instances
(``core.ports.MediaServerClient``). Every call blocks; run it on the ``net`` pool.
"""

from typing import Any

from app.servers.registry import ServerRegistry

__all__ = ["JellyfinClient", "PlexClient", "ServerRegistry"]


def __getattr__(name: str) -> Any:
    """``PlexClient``/``JellyfinClient`` load lazily (see registry.py: start-up must not import the libraries)."""
    if name == "PlexClient":
        from app.servers.plex import PlexClient

        return PlexClient
    if name == "JellyfinClient":
        from app.servers.jellyfin import JellyfinClient

        return JellyfinClient
    raise AttributeError(name)
