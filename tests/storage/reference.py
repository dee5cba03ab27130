"""A brute-force, plain-Python statement of the track query semantics (``core.filters`` and the sort order in
``SqliteTrackStore``'s docstring). Tests compare the cache's answers against it; end-to-end tests can apply it
to ``tracks --json`` output.

Records are mappings shaped like ``Track.to_json()`` (keys server, title, artist, album, genres, year, rating,
duration_ms, is_live, added_at ...). The id tie-break uses ``record["_id"]`` (the local id) when present, else
the record's position in the input.

Case folding follows SQLite's unicode61 tokenizer for the characters tests use (one-to-one lower-casing);
characters where SQLite's older Unicode tables differ from Python's are out of scope here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from app.core.filters import SortColumn, TrackFilter, TrackSort

Record = Mapping[str, Any]

_SORT_FIELD = {
    SortColumn.TITLE: "title",
    SortColumn.ARTIST: "artist",
    SortColumn.ALBUM: "album",
    SortColumn.GENRE: "genre",
    SortColumn.YEAR: "year",
    SortColumn.RATING: "rating",
    SortColumn.DURATION: "duration_ms",
    SortColumn.ADDED: "added_at",
}
_TEXT = {SortColumn.TITLE, SortColumn.ARTIST, SortColumn.ALBUM, SortColumn.GENRE}


def _word_char(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return ch.isalnum() or cat[0] == "M" or cat == "Co"


def _fold(text: str) -> str:
    out = []
    for ch in text:
        low = ch.lower()
        out.append(low if len(low) == 1 else ch)
    return "".join(out).replace("ς", "σ")


def words(text: str | None) -> list[str]:
    if not text:
        return []
    return _fold("".join(ch if _word_char(ch) else " " for ch in text)).split()


def nocase(text: str) -> str:
    """SQLite's NOCASE collation key: only ASCII letters fold."""
    return "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in text)


def matches(rec: Record, flt: TrackFilter) -> bool:
    if flt.server is not None and rec["server"] != flt.server:
        return False
    if flt.genre is not None and flt.genre not in rec["genres"]:
        return False
    if flt.decade is not None and (rec["year"] is None or not flt.decade <= rec["year"] <= flt.decade + 9):
        return False
    if flt.min_rating is not None and (rec["rating"] is None or rec["rating"] < flt.min_rating):
        return False
    if flt.exclude_live and rec["is_live"]:
        return False
    wanted = words(flt.search)
    if wanted:
        have = words(rec["title"]) + words(rec["artist"]) + words(rec["album"])
        if not all(any(h.startswith(w) for h in have) for w in wanted):
            return False
    return True


def _value(rec: Record, column: SortColumn) -> Any:
    if column is SortColumn.GENRE:
        return rec["genres"][0] if rec["genres"] else None
    return rec[_SORT_FIELD[column]]


def sort_key(rec: Record, sort: TrackSort, tie: int) -> tuple[Any, ...]:
    """Ascending key; NULLs first. ``tie`` is the local id (or position)."""
    if sort.column is SortColumn.SERVER:
        return (nocase(rec["server"]), rec["server"], tie)
    value = _value(rec, sort.column)
    if value is None:
        return (0, "", tie)
    if sort.column in _TEXT:
        return (1, nocase(value), tie)
    return (1, value, tie)


def filter_and_sort(records: Iterable[Record], flt: TrackFilter, sort: TrackSort) -> list[Record]:
    """The records of a view, in view order."""
    recs: Sequence[Record] = list(records)
    keyed = [(sort_key(r, sort, r.get("_id", i)), r) for i, r in enumerate(recs) if matches(r, flt)]
    keyed.sort(key=lambda kr: kr[0], reverse=sort.descending)
    return [r for _, r in keyed]
