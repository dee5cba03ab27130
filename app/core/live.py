"""The rule that marks a track as a live version. Neither Plex nor Jellyfin has a field for it.

A track is live when its title or its album title contains, case-insensitively:

* ``(live`` or ``[live`` (``"Song (Live)"``, ``"Song [Live at Wembley]"``),
* ``- live`` or ``live at`` / ``live in`` / ``live from`` as words (``"Song - Live"``, ``"Live in Tokyo"``),
* the word ``unplugged``.

``"Live Forever"`` or ``"Alive"`` are not live: "live" alone as a word is not enough.
"""

from __future__ import annotations

import re

_LIVE = re.compile(
    r"[(\[]\s*live\b|-\s*live\b|\blive\s+(?:at|in|from|on)\b|\bunplugged\b",
    re.IGNORECASE,
)


def is_live(title: str | None, album: str | None = None) -> bool:
    """True when the title or the album title marks a live recording (see module docstring)."""
    return any(text and _LIVE.search(text) for text in (title, album))
