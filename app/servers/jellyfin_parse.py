"""Jellyfin JSON (already decoded) → core records. Pure functions, no I/O; safe on any thread.

Decoded JSON can hold anything, so every field is type-checked: an item with a wrong type (``"Id": 5``,
``"RunTimeTicks": "x"``) is counted in ``Page.failed`` and skipped; a body of the wrong shape (not an object,
``Items`` not a list, no ``TotalRecordCount``) raises ``BadBody``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from app.core.live import is_live
from app.core.models import AlbumRecord, RemoteLibrary, RemoteUser, ServerIdentity, ServerKind, TrackRecord
from app.core.ports import Page
from app.servers.item_bounds import MAX_TEXT, BadItem, checked_album, checked_count, checked_track
from app.servers.translate import BadBody

T = TypeVar("T")
TICKS_PER_MS = 10_000


_BadItem = BadItem  # one item of a page cannot be read (counted, not raised to the caller)


# The readers below run for every field of every synced track: exact ``type()`` tests (``json`` builds exact
# str/int/float/bool/list/dict) instead of a generic isinstance helper, and bool (a subclass of int) is refused
# wherever a number is expected.


def _str(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    if type(value) is not str:
        raise _BadItem(f"{name} has type {type(value).__name__}")
    return value or None


def _int(item: dict[str, Any], name: str) -> int | None:
    value = item.get(name)
    if value is None or type(value) is int:
        return value
    if type(value) is not float:
        raise _BadItem(f"{name} has type {type(value).__name__}")
    if not math.isfinite(value) or value != int(value):
        raise _BadItem(f"{name}={value!r} is not a whole number")
    return int(value)


def _number(item: dict[str, Any], name: str) -> float | None:
    value = item.get(name)
    if value is None:
        return None
    kind = type(value)
    if kind is not int and kind is not float:
        raise _BadItem(f"{name} has type {kind.__name__}")
    if not math.isfinite(value):
        raise _BadItem(f"{name}={value!r}")
    return float(value)


def _strings(item: dict[str, Any], name: str) -> tuple[str, ...]:
    value = item.get(name)
    if value is None:
        return ()
    if type(value) is not list:
        raise _BadItem(f"{name} has type {type(value).__name__}")
    for v in value:
        if type(v) is not str:
            raise _BadItem(f"{name} holds a non-string")
    return tuple(v for v in value if v)


def _bool(item: dict[str, Any], name: str) -> bool | None:
    value = item.get(name)
    if value is None or type(value) is bool:
        return value
    raise _BadItem(f"{name} has type {type(value).__name__}")


def _dict(item: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = item.get(name)
    if value is None or type(value) is dict:
        return value
    raise _BadItem(f"{name} has type {type(value).__name__}")


def _epoch(item: dict[str, Any], name: str) -> float | None:
    """An ISO 8601 timestamp (Jellyfin writes 7 fraction digits and ``Z``) → UTC epoch seconds."""
    text = _str(item, name)
    if text is None:
        return None
    try:
        if "." in text:  # Python 3.11 takes at most 6 fraction digits in some forms: trim the rest
            head, _, tail = text.partition(".")
            digits = "".join(c for c in tail if c.isdigit())
            rest = tail[len(digits) :]
            text = f"{head}.{digits[:6]}{rest}"
        when = datetime.fromisoformat(text)
    except ValueError:
        raise _BadItem(f"{name}={text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return when.timestamp()
    except (OverflowError, OSError, ValueError):
        raise _BadItem(f"{name}={text!r}") from None


def _rating(item: dict[str, Any]) -> float | None:
    user_data = _dict(item, "UserData")
    rating = _number(user_data, "Rating") if user_data is not None else None
    if rating is None:
        rating = _number(item, "CommunityRating")
    return rating if rating is not None and 0 <= rating <= 10 else None  # out of range: not a rating


def _id(item: dict[str, Any]) -> str:
    value = _str(item, "Id")
    if not value:
        raise _BadItem("no Id")
    return value


def track_from_item(item: Any) -> TrackRecord:
    """One ``BaseItemDto`` of type Audio → TrackRecord. Raises _BadItem when it cannot be read."""
    if not isinstance(item, dict):
        raise _BadItem("not an object")
    title = _str(item, "Name") or ""
    album = _str(item, "Album")
    if len(title) > MAX_TEXT or (album is not None and len(album) > MAX_TEXT):
        raise _BadItem("Name or Album too long")  # before is_live reads them
    artists = _strings(item, "Artists")
    ticks = _number(item, "RunTimeTicks")
    return checked_track(
        TrackRecord(
            remote_id=_id(item),
            title=title,
            artist=artists[0] if artists else _str(item, "AlbumArtist"),
            album=album,
            album_artist=_str(item, "AlbumArtist"),
            album_remote_id=_str(item, "AlbumId"),
            genres=_strings(item, "Genres"),
            year=_int(item, "ProductionYear"),
            rating=_rating(item),
            duration_ms=int(ticks // TICKS_PER_MS) if ticks is not None and ticks >= 0 else None,
            track_no=_int(item, "IndexNumber"),
            disc_no=_int(item, "ParentIndexNumber"),
            added_at=_epoch(item, "DateCreated"),
            is_live=is_live(title, album),
        )
    )


def album_from_item(item: Any) -> AlbumRecord:
    """One ``BaseItemDto`` of type MusicAlbum → AlbumRecord. Raises _BadItem when it cannot be read."""
    if not isinstance(item, dict):
        raise _BadItem("not an object")
    artists = _strings(item, "Artists")
    return checked_album(
        AlbumRecord(
            remote_id=_id(item),
            title=_str(item, "Name") or "",
            artist=_str(item, "AlbumArtist") or (artists[0] if artists else None),
            year=_int(item, "ProductionYear"),
            genres=_strings(item, "Genres"),
        )
    )


def total_of(data: Any) -> int:
    """``TotalRecordCount`` of a ``BaseItemDtoQueryResult``. Raises BadBody when missing or not a count."""
    if not isinstance(data, dict):
        raise BadBody("expected a JSON object")
    total = data.get("TotalRecordCount")
    if isinstance(total, bool) or not isinstance(total, int):
        raise BadBody(f"TotalRecordCount={str(total)[:40]!r}")
    try:
        return checked_count(total, "TotalRecordCount")
    except ValueError as exc:
        raise BadBody(str(exc)) from None


def _page(data: Any, build: Callable[[Any], T]) -> Page[T]:
    total = total_of(data)
    raw = data.get("Items")
    if not isinstance(raw, list):
        raise BadBody("Items is not a list")
    items: list[T] = []
    failed_ids: list[str] = []
    for item in raw:
        try:
            items.append(build(item))
        except _BadItem:
            item_id = item.get("Id") if isinstance(item, dict) else None
            if isinstance(item_id, str) and item_id:
                failed_ids.append(item_id)
    return Page(items=items, total=total, failed=len(raw) - len(items), failed_ids=tuple(failed_ids))


def tracks_page(data: Any) -> Page[TrackRecord]:
    """A ``GET Items?IncludeItemTypes=Audio`` answer → Page of tracks. Raises BadBody on a bad shape."""
    return _page(data, track_from_item)


def albums_page(data: Any) -> Page[AlbumRecord]:
    """A ``GET Items?IncludeItemTypes=MusicAlbum`` answer → Page of albums. Raises BadBody on a bad shape."""
    return _page(data, album_from_item)


def music_folders(data: Any) -> list[RemoteLibrary]:
    """``GET Library/VirtualFolders`` → the music libraries (``CollectionType == "music"``, key = ``ItemId``)."""
    if not isinstance(data, list):
        raise BadBody("VirtualFolders is not a list")
    out = []
    for folder in data:
        if not isinstance(folder, dict):
            raise BadBody("a virtual folder is not an object")
        kind = folder.get("CollectionType")
        key = folder.get("ItemId")
        if isinstance(kind, str) and kind.lower() == "music":
            if not isinstance(key, str) or not key:
                raise BadBody("a music folder has no ItemId")
            name = folder.get("Name")
            out.append(RemoteLibrary(key=key, title=name if isinstance(name, str) and name else key))
    return out


def users(data: Any) -> list[RemoteUser]:
    """``GET Users`` → RemoteUsers. A malformed entry raises BadBody (a partial list would look like deletions)."""
    if not isinstance(data, list):
        raise BadBody("Users is not a list")
    out = []
    try:
        for user in data:
            if not isinstance(user, dict):
                raise _BadItem("a user is not an object")
            policy = _dict(user, "Policy") or {}
            everything = _bool(policy, "EnableAllFolders")
            folders = _strings(policy, "EnabledFolders")
            out.append(
                RemoteUser(
                    remote_id=_id(user),
                    username=_str(user, "Name") or _id(user),
                    email=None,
                    is_admin=bool(_bool(policy, "IsAdministrator")),
                    is_disabled=bool(_bool(policy, "IsDisabled")),
                    library_keys=None if everything or everything is None else folders,
                    last_active_at=_epoch(user, "LastActivityDate"),
                )
            )
    except _BadItem as exc:
        raise BadBody(f"bad user entry: {exc}") from None
    return out


def identity(data: Any) -> ServerIdentity:
    """``System/Info`` or ``System/Info/Public`` → ServerIdentity. Raises BadBody without ServerName/Id/Version."""
    if not isinstance(data, dict):
        raise BadBody("system info is not an object")
    values = [data.get(k) for k in ("Id", "ServerName", "Version")]
    if not all(isinstance(v, str) for v in values) or not values[0]:
        raise BadBody("system info lacks Id, ServerName or Version")
    machine_id, name, version = (str(v) for v in values)
    return ServerIdentity(machine_id=machine_id, name=name, version=version, kind=ServerKind.JELLYFIN)
