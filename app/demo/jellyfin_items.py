"""Rendering of Jellyfin ``BaseItemDto`` objects (Audio, MusicAlbum, MusicArtist, CollectionFolder) for the demo.

Like a real server, fields that Jellyfin only returns when asked through ``Fields`` (``Genres``/``GenreItems``,
``DateCreated``, ``SortName``, ``Path``, ``ProviderIds``, ``ParentId``, ``CanDownload``) are included only when
requested; the others (Name, Id, Album, AlbumArtist, Artists, ProductionYear, RunTimeTicks, IndexNumber,
ParentIndexNumber, UserData, CommunityRating, Type) are always there when the item has a value.
Pure functions of the library; any thread.
"""

from __future__ import annotations

import json
import time
from functools import lru_cache

from app.demo.edits import LibraryEdits
from app.demo.library import DemoAlbum, DemoArtist, DemoLibrary, DemoTrack
from app.demo.words import GENRES

_ALBUM_LEVEL = frozenset({"genres"})  # gated members that live in the cached album part of a track
GATED_FIELDS = frozenset(
    {"genres", "datecreated", "sortname", "path", "providerids", "parentid", "candownload"}
)


def iso(epoch: int) -> str:
    """Jellyfin's date format: 7 fractional digits and a Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime(epoch))


class ItemRenderer:
    def __init__(self, library: DemoLibrary, edits: LibraryEdits) -> None:
        self.lib = library
        self.edits = edits
        self.genre_ids = {g: library.hex_id("genre", n) for n, g in enumerate(GENRES)}
        self._album_members = lru_cache(maxsize=4096)(self._make_album_members)
        self._name_id = lru_cache(maxsize=4096)(self._make_name_id)

    def genre_id(self, name: str) -> str:
        """The id of a genre (an edit may name one the word list lacks)."""
        return self.genre_ids.get(name) or self.lib.hex_id("genre:" + name, 0)

    def _user_data(self, item_id: str, rating: float | None = None) -> dict[str, object]:
        data: dict[str, object] = {
            "PlaybackPositionTicks": 0,
            "PlayCount": 0,
            "IsFavorite": False,
            "Played": False,
            "Key": item_id,
            "ItemId": item_id,
        }
        if rating is not None:
            data["Rating"] = rating
        return data

    def _common(
        self,
        out: dict[str, object],
        fields: frozenset[str],
        name: str,
        genres: tuple[str, ...],
        added: int,
        path: str,
        parent: str | None,
    ) -> None:
        if "genres" in fields:
            out["Genres"] = list(genres)
            out["GenreItems"] = [{"Name": g, "Id": self.genre_id(g)} for g in genres]
        if "datecreated" in fields:
            out["DateCreated"] = iso(added)
        if "sortname" in fields:
            out["SortName"] = name.casefold()
        if "path" in fields:
            out["Path"] = path
        if "providerids" in fields:
            out["ProviderIds"] = {}
        if "parentid" in fields and parent:
            out["ParentId"] = parent
        if "candownload" in fields:
            out["CanDownload"] = True

    def track(
        self, t: DemoTrack, server_id: str, fields: frozenset[str], user_data: bool = True
    ) -> dict[str, object]:
        """The track's BaseItemDto as a dict (decoded from ``track_json``: one source of truth)."""
        result: dict[str, object] = json.loads(self.track_json(t, server_id, fields, user_data))
        return result

    def track_json(self, t: DemoTrack, server_id: str, fields: frozenset[str], user_data: bool = True) -> str:
        """The track's BaseItemDto as JSON text. The album-level members are serialised once per album
        (cached), only the per-track members per call: that halves the cost of a 500-item page."""
        out: dict[str, object] = {
            "Name": t.title,
            "ServerId": server_id,
            "Id": t.jellyfin_id,
            "Container": "flac",
        }
        if fields:
            path = f"/data/music/{t.album_jellyfin_id}/{t.index}.flac"
            self._common(out, fields - _ALBUM_LEVEL, t.title, (), t.added_at, path, t.album_jellyfin_id)
        if t.duration_ms is not None:
            out["RunTimeTicks"] = t.duration_ms * 10_000
        if t.track_no is not None:
            out["IndexNumber"] = t.track_no
        if t.disc_no is not None:
            out["ParentIndexNumber"] = t.disc_no
        if t.year is not None:  # the track's own year (the Years filter matches it), not its album's
            out["PremiereDate"] = f"{t.year}-01-01T00:00:00.0000000Z"
            out["ProductionYear"] = t.year
        out["IsFolder"] = False
        out["Type"] = "Audio"
        if user_data:  # EnableUserData=false leaves it out, as Jellyfin does
            out["UserData"] = self._user_data(t.jellyfin_id, None if t.rating_is_community else t.rating)
        if t.rating is not None and t.rating_is_community:
            out["CommunityRating"] = t.rating
        if t.artist is None:
            out["Artists"] = out["ArtistItems"] = []
        else:
            out["Artists"] = [t.artist]
            own = (
                self._album_artist_id(t.album_index)
                if t.artist == t.album_artist
                else self._name_id(t.artist)
            )
            out["ArtistItems"] = [{"Name": t.artist, "Id": own}]
        text = json.dumps(out, separators=(",", ":"))
        return f"{text[:-1]},{self._album_members(t.album_index, server_id, 'genres' in fields, self.edits.album_stamp(t.album_index))}}}"

    def _album_artist_id(self, j: int) -> str:
        return self.lib.artist(self.lib.album(j).artist_index).jellyfin_id

    def _make_name_id(self, name: str) -> str:
        return self.lib.hex_id("artist:" + name, 0)

    def _make_album_members(self, j: int, server_id: str, genres: bool, stamp: float) -> str:
        """``stamp`` (the album's edit time) keys the cache: an edited album is serialised again."""
        a = self.edits.album(j)
        out: dict[str, object] = {"Album": a.title, "AlbumId": a.jellyfin_id}
        if a.album_artist is not None:
            out["AlbumArtist"] = a.album_artist
            out["AlbumArtists"] = [{"Name": a.album_artist, "Id": self._album_artist_id(j)}]
        else:
            out["AlbumArtists"] = []
        if genres:
            out["Genres"] = list(a.genres)
            out["GenreItems"] = [{"Name": g, "Id": self.genre_id(g)} for g in a.genres]
        out["LocationType"] = "FileSystem"
        out["MediaType"] = "Audio"
        return json.dumps(out, separators=(",", ":"))[1:-1]

    def album(self, a: DemoAlbum, server_id: str, fields: frozenset[str]) -> dict[str, object]:
        out: dict[str, object] = {"Name": a.title, "ServerId": server_id, "Id": a.jellyfin_id}
        self._common(
            out,
            fields,
            a.title,
            a.genres,
            a.added_at,
            f"/data/music/{a.jellyfin_id}",
            self.lib.library_key(a.library),
        )
        if a.year is not None:
            out["ProductionYear"] = a.year
        artist_id = self.lib.artist(a.artist_index).jellyfin_id
        out["IsFolder"] = True
        out["Type"] = "MusicAlbum"
        out["UserData"] = self._user_data(a.jellyfin_id)
        out["ChildCount"] = a.track_count
        out["Artists"] = [] if a.album_artist is None else [a.album_artist]
        if a.album_artist is not None:
            out["AlbumArtist"] = a.album_artist
            out["AlbumArtists"] = [{"Name": a.album_artist, "Id": artist_id}]
        out["LocationType"] = "FileSystem"
        out["MediaType"] = "Unknown"
        return out

    def artist(self, r: DemoArtist, server_id: str, fields: frozenset[str]) -> dict[str, object]:
        out: dict[str, object] = {"Name": r.name, "ServerId": server_id, "Id": r.jellyfin_id}
        self._common(out, fields, r.name, (), r.added_at, f"/data/music/{r.jellyfin_id}", None)
        out.update(
            {
                "IsFolder": True,
                "Type": "MusicArtist",
                "UserData": self._user_data(r.jellyfin_id),
                "LocationType": "FileSystem",
                "MediaType": "Unknown",
            }
        )
        return out

    def folder(self, key: str, title: str, collection: str, server_id: str) -> dict[str, object]:
        return {
            "Name": title,
            "ServerId": server_id,
            "Id": key,
            "IsFolder": True,
            "Type": "CollectionFolder",
            "CollectionType": collection,
            "LocationType": "FileSystem",
            "MediaType": "Unknown",
            "UserData": self._user_data(key),
        }


def slice_ranges(ranges: list[tuple[int, int]], start: int, limit: int | None) -> tuple[list[int], int]:
    """Indices ``[start, start+limit)`` of the concatenation of half-open ``ranges``, and the total length."""
    total = sum(hi - lo for lo, hi in ranges)
    want = total if limit is None else limit
    out: list[int] = []
    skip = start
    for lo, hi in ranges:
        if len(out) >= want:
            break
        n = hi - lo
        if skip >= n:
            skip -= n
            continue
        first = lo + skip
        skip = 0
        out.extend(range(first, min(hi, first + want - len(out))))
    return out, total
