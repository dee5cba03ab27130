"""The rule that marks a track as a live version, as the app applies it after a sync (``app.core.live``).

The demo library marks its tracks with it so that a test can compare what the app computed with what the demo
meant. It is a copy on purpose (the demo imports nothing from the app); ``tests/demo/test_agrees_with_app.py``
checks that the copy and the app's rule agree.
"""

from __future__ import annotations

import re

# Plex and Jellyfin have no field for a live version: a title or album title marks it, case-insensitively,
# with "(live" / "[live", "- live", "live at|in|from|on" or the word "unplugged" ("Live Forever" is not live).
LIVE_PATTERN = re.compile(
    r"[(\[]\s*live\b|-\s*live\b|\blive\s+(?:at|in|from|on)\b|\bunplugged\b",
    re.IGNORECASE,
)


def _marked(text: str | None) -> bool:
    return text is not None and LIVE_PATTERN.search(text) is not None


def is_live(title: str | None, album: str | None = None) -> bool:
    """True when the title or the album title marks a live recording."""
    return _marked(title) or _marked(album)
