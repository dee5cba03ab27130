"""Who Zondarr says it is to Plex, plex.tv and Jellyfin (what the admin sees under Authorized Devices on plex.tv
and Devices in the Jellyfin dashboard).

The client identifier is the ``client_identifier`` setting: a UUID generated once per cache by storage. It is
never derived from the hardware: plexapi's default is ``hex(uuid.getnode())``, the machine's MAC address, and
its product is "PlexAPI"; every Plex session overrides both per request (see ``GuardedSession``), so no
process-wide plexapi state is changed. Pure functions; any thread.
"""

from __future__ import annotations

import platform
import socket
import uuid

from app import __version__
from app.core.settings import Settings

PRODUCT = "Zondarr"
# Used only when settings were built without a cache (tests, probes): random, so never a hardware id.
_PROCESS_ID = str(uuid.uuid4())


def client_identifier(settings: Settings) -> str:
    return settings.client_identifier or _PROCESS_ID


def device_name() -> str:
    """The computer's name, as Plex's and Jellyfin's own apps show it ("Zondarr" when it has none)."""
    return (socket.gethostname() or "").split(".")[0][:64] or PRODUCT


def plex_headers(settings: Settings) -> dict[str, str]:
    """The ``X-Plex-*`` headers of every Plex and plex.tv request (never the token)."""
    return {
        "X-Plex-Product": PRODUCT,
        "X-Plex-Version": __version__,
        "X-Plex-Client-Identifier": client_identifier(settings),
        "X-Plex-Platform": platform.system() or "Unknown",
        "X-Plex-Platform-Version": platform.release() or "",
        "X-Plex-Device": platform.system() or "Desktop",
        "X-Plex-Device-Name": device_name(),
        "X-Plex-Provides": "controller",
    }
