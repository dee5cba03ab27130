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


# Every pattern of _LIVE contains one of these words, matched with the same case rules (``casefold`` and ``in``
# would differ: ``re.IGNORECASE`` also takes "Lıve" with a dotless ı). Searching for the bare words is about
# twice as fast and rules out almost every title; this runs for every synced track.
_WORDS = re.compile("live|unplugged", re.IGNORECASE)


def _marked(text: str | None) -> bool:
    return text is not None and _WORDS.search(text) is not None and _LIVE.search(text) is not None


def is_live(title: str | None, album: str | None = None) -> bool:
    """True when the title or the album title marks a live recording (see module docstring)."""
    return _marked(title) or _marked(album)
