"""Media-server adapters: the only package that imports plexapi, jellyfin_apiclient_python and requests.

``ServerRegistry`` (a ``core.ports.ClientFactory``) builds ``PlexClient`` / ``JellyfinClient`` instances
(``core.ports.MediaServerClient``). Every call blocks; run it on the ``net`` pool.
"""

from app.servers.jellyfin import JellyfinClient
from app.servers.plex import PlexClient
from app.servers.registry import ServerRegistry

__all__ = ["JellyfinClient", "PlexClient", "ServerRegistry"]
