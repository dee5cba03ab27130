"""Stand-in Plex (+ plex.tv) and Jellyfin servers on loopback with a synthetic library and fault injection
(DESIGN §7). Standard library only; nothing from the rest of ``app``. Public API: see ``app.demo.server``."""

from app.demo.errors import DemoConfigError, DemoError, DemoListenError
from app.demo.faults import FaultRule, parse_faults
from app.demo.library import DemoAlbum, DemoArtist, DemoLibrary, DemoTrack, DemoUser
from app.demo.server import (
    DEFAULT_JELLYFIN_API_KEY,
    DEFAULT_JELLYFIN_PASSWORD,
    DEFAULT_JELLYFIN_USER,
    DEFAULT_PLEX_TOKEN,
    DemoConfig,
    DemoServer,
    serve_forever,
    start_demo_server,
)

__all__ = [
    "DEFAULT_JELLYFIN_API_KEY",
    "DEFAULT_JELLYFIN_PASSWORD",
    "DEFAULT_JELLYFIN_USER",
    "DEFAULT_PLEX_TOKEN",
    "DemoAlbum",
    "DemoArtist",
    "DemoConfig",
    "DemoConfigError",
    "DemoError",
    "DemoLibrary",
    "DemoListenError",
    "DemoServer",
    "DemoTrack",
    "DemoUser",
    "FaultRule",
    "parse_faults",
    "serve_forever",
    "start_demo_server",
]
