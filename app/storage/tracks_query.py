"""SQL for the read side of the track store: filter conditions, sort orders and row mapping.

Nothing from a caller is ever interpolated into SQL: filter values are parameters, and the only text that is
spliced in comes from the fixed tables below (``SORT_EXPR``) keyed by the ``SortColumn`` whitelist.
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.core.filters import SortColumn, TrackFilter, TrackSort
from app.core.models import Track

# How each sortable column orders. The implicit rowid at the end of each sort index gives the id tie-break.
SORT_EXPR: dict[SortColumn, str] = {
    SortColumn.TITLE: "title COLLATE NOCASE",
    SortColumn.ARTIST: "artist COLLATE NOCASE",
    SortColumn.ALBUM: "album COLLATE NOCASE",
    SortColumn.GENRE: "genre COLLATE NOCASE",
    SortColumn.YEAR: "year",
    SortColumn.RATING: "rating",
    SortColumn.DURATION: "duration_ms",
    SortColumn.ADDED: "added_at",
}

# The index that delivers each sort order (forced with INDEXED BY when scanning in order is cheaper).
SORT_INDEX: dict[SortColumn, str] = {
    SortColumn.TITLE: "tracks_sort_title",
    SortColumn.ARTIST: "tracks_sort_artist",
    SortColumn.ALBUM: "tracks_sort_album",
    SortColumn.GENRE: "tracks_sort_genre",
    SortColumn.YEAR: "tracks_sort_year",
    SortColumn.RATING: "tracks_sort_rating",
    SortColumn.DURATION: "tracks_sort_duration",
    SortColumn.ADDED: "tracks_sort_added",
}

COLUMNS = (
    "id, server_id, library_id, remote_id, title, artist, album, album_artist, genres, year, rating, "
    "duration_ms, track_no, is_live, added_at"
)


def _word_char(ch: str) -> bool:
    return ch.isalnum() or unicodedata.category(ch)[0] == "M" or unicodedata.category(ch) == "Co"


def search_words(text: str | None) -> list[str]:
    """The words of a search text (see ``core.filters``): runs of letters, digits, marks and private-use
    characters. Case is NOT folded here: the FTS5 tokenizer folds query words exactly as it folded the indexed
    text (``TrackFilter.search_words`` casefolds, which would turn "ß" into "ss" and miss it)."""
    if not text:
        return []
    return "".join(ch if _word_char(ch) else " " for ch in text).split()


TAG = "\ue000"  # first character of every token of ``tracks_fts.tags`` (schema v7)
_MAX_GENRE = 200  # longer genre names are filtered row by row (their tag token would be huge)


@dataclass(frozen=True, slots=True)
class Tags:
    """Filter tokens of ``tracks_fts.tags`` (schema v7) that a search is ANDed with (``required``) or that its
    matches must not have (``excluded``)."""

    required: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.required) + len(self.excluded)


NO_TAGS = Tags()


def fold(flt: TrackFilter, server_id: int | None) -> Tags | None:
    """The filters of ``flt`` (and ``server_id``) as tag tokens, so that FTS5 intersects them with the search
    itself; None when one cannot be a token: a fractional minimum rating (it lies between two rating tokens),
    an unknown server (``-1``: the row filter answers "nothing" at once), a very long genre name. Exact for
    integer years (the model's type; a fractional year gets no decade token)."""
    required: list[str] = []
    if flt.genre is not None:
        if len(flt.genre) > _MAX_GENRE:
            return None
        try:
            required.append(f"{TAG}g{flt.genre.encode('utf-8').hex()}")  # SQL hex() of the same bytes
        except UnicodeEncodeError:  # a lone surrogate: no stored genre can equal it
            return None
    if flt.decade is not None:
        required.append(f"{TAG}d{flt.decade // 10}")
    if flt.min_rating is not None:
        if flt.min_rating != int(flt.min_rating):
            return None
        required.append(f"{TAG}r{int(flt.min_rating):02d}")  # a rating has every token up to its floor
    if server_id is not None:
        if server_id < 0:
            return None
        required.append(f"{TAG}s{server_id:d}")
    return Tags(tuple(required), (f"{TAG}l",) if flt.exclude_live else ())


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def fts_query(words: Sequence[str], tags: Tags = NO_TAGS) -> str:
    """An FTS5 query (passed as a parameter): every word as a quoted prefix term, so FTS5 syntax in a word
    (``"``, ``*``, ``OR``, ``NEAR``, ``:``) is plain text. Words from ``search_words`` hold no quotes; a quote is
    still doubled, as FTS5 string syntax requires, should one ever get here. ``tags`` are whole terms of the
    ``tags`` column. Only a word starting with ``TAG`` could match a tag token; only then are the words limited
    to the text columns (the column filter costs about 5 ms on a broad prefix at 1M tracks)."""
    expr = " AND ".join(_quoted(w) + "*" for w in words)
    if any(w.startswith(TAG) for w in words):
        expr = f"{{title artist album}} : ({expr})"
    if tags.required:
        expr = f"({expr}) AND tags : ({' AND '.join(_quoted(t) for t in tags.required)})"
    for term in tags.excluded:
        expr = f"({expr}) NOT tags : {_quoted(term)}"
    return expr


def fts_count(
    conn: sqlite3.Connection, words: Sequence[str], cap: int | None = None, tags: Tags = NO_TAGS
) -> int:
    """How many tracks the search words (with ``tags``) match, from the FTS index alone (no row lookups); with
    ``cap``, stops counting at ``cap`` (cheap: the cost grows with the count)."""
    if cap is None:
        sql = "SELECT count(*) FROM tracks_fts WHERE tracks_fts MATCH ?"
        return int(conn.execute(sql, (fts_query(words, tags),)).fetchone()[0])
    sql = "SELECT count(*) FROM (SELECT 1 FROM tracks_fts WHERE tracks_fts MATCH ? LIMIT ?)"
    return int(conn.execute(sql, (fts_query(words, tags), cap)).fetchone()[0])


def conditions(
    flt: TrackFilter,
    server_id: int | None,
    per_row: bool = False,
    fts_drives: bool | None = None,
    tags: Tags = NO_TAGS,
) -> tuple[list[str], list[object]]:
    """WHERE terms on ``tracks`` (unqualified columns) and their parameters. ``per_row``: the genre condition
    is a correlated probe per track (for in-order index scans) instead of a set built once. ``fts_drives``
    (with a search): True looks up each FTS match (``id IN``), False scans the other filters' index and tests
    membership in the set of FTS matches (``+id IN``: the unary plus keeps SQLite from driving with it);
    None lets SQLite choose. ``tags`` go into the search's FTS query."""
    terms: list[str] = []
    params: list[object] = []
    if flt.genre is not None:
        inner, inner_params = _genre_terms(flt, server_id)
        if per_row:
            probe = " AND ".join(["track_id = tracks.id", *inner])
            terms.append(f"EXISTS (SELECT 1 FROM track_genres WHERE {probe})")  # noqa: S608
        else:
            column = "+id" if fts_drives and search_words(flt.search) else "id"  # the FTS set drives instead
            terms.append(f"{column} IN (SELECT track_id FROM track_genres WHERE {' AND '.join(inner)})")  # noqa: S608
        params += inner_params
    else:
        own, own_params = _column_terms(flt, server_id)
        terms += own
        params += own_params
    words = search_words(flt.search)
    if words:
        column = "+id" if fts_drives is False else "id"
        terms.append(f"{column} IN (SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH ?)")  # noqa: S608
        params.append(fts_query(words, tags))
    return terms, params


def _column_terms(flt: TrackFilter, server_id: int | None) -> tuple[list[str], list[object]]:
    """Terms on the filter columns that ``tracks`` and ``track_genres`` both have (see schema v1)."""
    terms: list[str] = []
    params: list[object] = []
    if flt.decade is not None:
        terms.append("year BETWEEN ? AND ?")
        params += [flt.decade, flt.decade + 9]
    if flt.min_rating is not None:
        terms.append("rating >= ?")
        params.append(float(flt.min_rating))
    if flt.exclude_live:
        terms.append("is_live = 0")
    if server_id is not None:
        terms.append("server_id = ?")
        params.append(server_id)
    return terms, params


def _genre_terms(flt: TrackFilter, server_id: int | None) -> tuple[list[str], list[object]]:
    """Terms on ``track_genres``, which repeats the filter columns of its track."""
    terms, params = _column_terms(flt, server_id)
    return ["genre = ?", *terms], [flt.genre, *params]


def where(terms: Sequence[str]) -> str:
    return f" WHERE {' AND '.join(terms)}" if terms else ""


def has_row_filters(flt: TrackFilter, server_id: int | None) -> bool:
    """Whether anything but the search text filters."""
    return (
        server_id is not None
        or flt.genre is not None
        or flt.decade is not None
        or flt.min_rating is not None
        or flt.exclude_live
    )


def count(
    conn: sqlite3.Connection,
    flt: TrackFilter,
    server_id: int | None,
    fts_drives: bool | None = None,
    tags: Tags = NO_TAGS,
) -> int:
    """Tracks of the view; ``fts_drives`` and ``tags`` as in ``conditions``."""
    words = search_words(flt.search)
    if words and not has_row_filters(flt, server_id):
        return fts_count(conn, words, tags=tags)  # one doclist walk, no lookup of each matching track
    if flt.genre is not None:
        # Answered from the clustered genre table alone (it holds exactly one row per matching track).
        terms, params = _genre_terms(flt, server_id)
        source = "track_genres INDEXED BY track_genres_track" if words and fts_drives else "track_genres"
        if words:
            column = "+track_id" if fts_drives is False else "track_id"
            terms.append(f"{column} IN (SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH ?)")  # noqa: S608
            params.append(fts_query(words, tags))
        sql = f"SELECT count(*) FROM {source}" + where(terms)  # noqa: S608 - fixed terms
    else:
        terms, params = conditions(flt, server_id, fts_drives=fts_drives, tags=tags)
        source = "tracks"
        if words and fts_drives:
            source, terms, params = _fts_outer(terms, params)
        sql = f"SELECT count(*) FROM {source}" + where(terms)  # noqa: S608 - fixed terms
    return int(conn.execute(sql, params).fetchone()[0])


def _fts_outer(terms: list[str], params: list[object]) -> tuple[str, list[str], list[object]]:
    """A FROM clause that makes the FTS matches the outer loop (CROSS JOIN fixes the join order in SQLite),
    replacing the search term, which ``conditions`` puts last."""
    source = (
        "(SELECT rowid AS fts_id FROM tracks_fts WHERE tracks_fts MATCH ?) AS fts "
        "CROSS JOIN tracks ON tracks.id = fts.fts_id"
    )
    return source, terms[:-1], [params[-1], *params[:-1]]


def order_by(sort: TrackSort) -> str:
    direction = "DESC" if sort.descending else "ASC"
    return f" ORDER BY {SORT_EXPR[sort.column]} {direction}, id {direction}"


def page_sql(
    flt: TrackFilter,
    sort: TrackSort,
    server_id: int | None,
    select: str,
    in_order: bool = False,
    fts_drives: bool | None = None,
    tags: Tags = NO_TAGS,
) -> tuple[str, list[object]]:
    """SELECT ``select`` (one of the fixed column lists) for a non-server sort. ``in_order`` walks the sort
    column's index and tests each row (cheap when matches are dense: a page needs few rows); otherwise SQLite
    collects the matches through the filter indexes and sorts them (cheap when matches are few)."""
    terms, params = conditions(flt, server_id, per_row=in_order, fts_drives=fts_drives, tags=tags)
    if in_order:
        source = f"tracks INDEXED BY {SORT_INDEX[sort.column]}"
    elif fts_drives and search_words(flt.search):
        source, terms, params = _fts_outer(terms, params)  # look up each FTS match by rowid, then sort
    else:
        source = "tracks"
    return f"SELECT {select} FROM {source}" + where(terms) + order_by(sort), params  # noqa: S608 - whitelisted


def prefer_index_order(matches: int, total: int, rows_needed: int) -> bool:
    """Whether walking the sort index beats sorting the matches: walking reads about
    ``rows_needed * total / matches`` rows, sorting reads and orders ``matches`` rows (weighed 3x)."""
    return matches > 0 and rows_needed * total < 3 * matches * matches


def server_page_sql(
    flt: TrackFilter, server_id: int, descending: bool, select: str
) -> tuple[str, list[object]]:
    """One server's rows ordered by id (the server sort concatenates these, server by server)."""
    terms, params = conditions(flt, server_id)
    if flt.genre is not None:
        terms.append("server_id = ?")
        params.append(server_id)
    direction = "DESC" if descending else "ASC"
    return f"SELECT {select} FROM tracks" + where(terms) + f" ORDER BY id {direction}", params  # noqa: S608


def server_search_page_sql(
    words: Sequence[str], tags: Tags, descending: bool, select: str
) -> tuple[str, list[object]]:
    """One server's searched rows ordered by id when the view's filters and the server are all tag tokens
    (``fold``): FTS5 then yields exactly the view's rows, already in rowid order, so a page reads only its own
    rows (a page of 'ka' on a 1,000,000-track cache: about 1 ms; ordering the FTS set by id took about 50)."""
    direction = "DESC" if descending else "ASC"
    source = (
        "(SELECT rowid AS fts_id FROM tracks_fts WHERE tracks_fts MATCH ?) AS fts "
        "CROSS JOIN tracks ON tracks.id = fts.fts_id"
    )
    sql = f"SELECT {select} FROM {source} ORDER BY fts.fts_id {direction}"  # noqa: S608 - constants
    return sql, [fts_query(words, tags)]


def to_track(row: Sequence[Any], servers: dict[int, str], libraries: dict[int, str]) -> Track:
    (
        tid,
        sid,
        lid,
        remote_id,
        title,
        artist,
        album,
        album_artist,
        genres,
        year,
        rating,
        dur,
        no,
        live,
        added,
    ) = row
    return Track(
        id=tid,
        server_id=sid,
        server=servers.get(sid, ""),
        library=libraries.get(lid, ""),
        remote_id=remote_id,
        title=title,
        artist=artist,
        album=album,
        album_artist=album_artist,
        genres=tuple(json.loads(genres)),
        year=year,
        rating=rating,
        duration_ms=dur,
        track_no=no,
        is_live=bool(live),
        added_at=added,
    )
