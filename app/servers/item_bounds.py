"""What a parsed item may hold before it is cached: numbers SQLite can store (INTEGER is 64-bit) and the app
can show (dates in years 1-9999), ids and texts of a sane length. An item outside these bounds is a counted
failed item (DESIGN §4 point 3), never a failed sync. Pure functions, any thread.

The checks run once per synced item, so they are one chain of comparisons, not a helper per field.
"""

from __future__ import annotations

from app.core.models import AlbumRecord, TrackRecord


class BadItem(Exception):
    """One item of a page cannot be read or holds values out of range (counted, not raised to the caller)."""


INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_COUNT = 1_000_000_000  # a listing total above this is no real library (DESIGN §7: up to 1,000,000 tracks)
MIN_EPOCH_S = -62_135_596_800.0  # 0001-01-01T00:00:00Z (Jellyfin's "no date")
MAX_EPOCH_S = 253_402_300_799.0  # 9999-12-31T23:59:59Z
MAX_YEAR = 9999
MAX_TEXT = 4096  # characters of a title, artist or album name
MAX_ID = 255  # characters of an id or a genre name
MAX_GENRES = 100


def _int_ok(value: int | None) -> bool:
    return value is None or INT64_MIN <= value <= INT64_MAX


def _texts_ok(*texts: str | None) -> bool:
    return all(t is None or len(t) <= MAX_TEXT for t in texts)


def _genres_ok(genres: tuple[str, ...]) -> bool:
    return len(genres) <= MAX_GENRES and all(len(g) <= MAX_ID for g in genres)


def checked_track(track: TrackRecord) -> TrackRecord:
    """``track`` itself; raises BadItem naming the first field out of range."""
    year, added = track.year, track.added_at
    if (
        len(track.remote_id) > MAX_ID
        or (track.album_remote_id is not None and len(track.album_remote_id) > MAX_ID)
        or (year is not None and not 0 <= year <= MAX_YEAR)
        or (added is not None and not MIN_EPOCH_S <= added <= MAX_EPOCH_S)
        or not (_int_ok(track.duration_ms) and _int_ok(track.track_no) and _int_ok(track.disc_no))
        or not _texts_ok(track.title, track.artist, track.album, track.album_artist)
        or not _genres_ok(track.genres)
    ):
        raise BadItem(f"track {track.remote_id[:MAX_ID]!r} holds a value out of range")
    return track


def checked_album(album: AlbumRecord) -> AlbumRecord:
    """``album`` itself; raises BadItem when a field is out of range."""
    if (
        len(album.remote_id) > MAX_ID
        or (album.year is not None and not 0 <= album.year <= MAX_YEAR)
        or not _texts_ok(album.title, album.artist)
        or not _genres_ok(album.genres)
    ):
        raise BadItem(f"album {album.remote_id[:MAX_ID]!r} holds a value out of range")
    return album


def checked_count(value: int, name: str) -> int:
    """A listing total; raises ValueError when it is negative or more than any library holds."""
    if not 0 <= value <= MAX_COUNT:
        raise ValueError(f"{name}={value} is not a plausible count")
    return value
