"""Plans for one page of a text search (``query(flt, sort, limit)`` with ``flt.search``), sorted by any column
but server. Three plans, chosen from cheap estimates of the match count:

* sort: collect every match through FTS5, look each track up, let SQLite keep the best rows. Cost grows with
  the number of matches (about 1.5 µs each), so it wins when matches are few.
* walk-set: walk the sort column's index in order and keep rows whose id is in the set of FTS matches, which
  SQLite builds once (about 0.1 µs per match) before the walk. Cost: the set plus the rows walked, which is
  about ``rows needed / match density``.
* walk-probe: walk the sort index and test each row passing the other filters. A row whose title, artist and
  album are ASCII is tested in Python (``ascii_matcher``: about 1.5 µs, exact, as ``unicode61`` tokenizes and
  folds only ASCII there); any other row asks FTS5 (``rowid = ?``), about 25 µs per word. Only when every word
  has at most ``PREFIX_INDEX_MAX`` characters: such a probe seeks in one prefix-index doclist (schema v4); a
  longer prefix makes FTS5 merge the doclists of every word with that prefix on each probe (milliseconds).
  Wins for broad searches ("a", "ka mi"), where building the set is the cost.

Matches may cluster in sort order (an artist's name, sorted by artist), so a walk gives up after a budget of
rows and the sort plan answers: a bad estimate costs at most the budget. All three give the same rows (the
storage tests compare each with the brute-force reference).

Filters that ``tracks_query.fold`` turns into tag tokens (schema v7) make "search + filters" one FTS5 query,
which FTS5 intersects itself: a count reads no row, and the sort and walk-set plans see only the view's matches.
A walk-probe stays with the row filters: a row's filter columns are read in about 2 µs, an FTS probe with tag
terms costs several probes (measured at 1M tracks: 82 ms instead of 24 ms for "ka" without live tracks).
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from app.core.filters import TrackFilter, TrackSort
from app.storage import tracks_query as q

PREFIX_INDEX_MAX = 3  # the longest FTS5 prefix index of schema v4 (prefix='1 2 3')
_PROBE_ONE = "SELECT 1 FROM tracks_fts WHERE tracks_fts MATCH ? AND rowid = ?"  # does one track match


class Plan(Enum):
    SORT = "sort"
    WALK_SET = "walk-set"
    WALK_PROBE = "walk-probe"


@dataclass(frozen=True, slots=True)
class SearchTuning:
    """Cost model of the plans (µs, measured at 1M tracks) and thresholds. Tests lower ``sort_cap`` and
    ``min_budget`` to drive small tables through the walks; ``force`` pins a page plan (tests, benchmark)."""

    sort_cap: int = 6000  # fewer FTS matches than this: sort them (found by a count that stops there)
    lookup_cost: float = 1.5  # per FTS match looked up by rowid (to test the other filters)
    scan_cost: float = 0.2  # per row of the other filters' index scan, testing membership in the FTS set
    set_cost: float = 0.12  # per FTS match put in a membership set
    sort_cost: float = 1.3  # per match read and sorted
    walk_cost: float = 0.6  # per row walked in a sort index (index step, Python)
    seek_cost: float = 2.0  # per walked row whose other filter columns are read
    probe_cost: float = 25.0  # per walked row and word, for an FTS probe
    test_cost: float = 1.5  # per walked row whose text is tested in Python (``ascii_matcher``)
    sample_windows: int = 8  # rowid windows of 1/256 of the id range each, for the match estimate
    budget_factor: float = 4.0  # a walk gives up after this many times the rows it expects to walk...
    min_budget: int = 3000  # ...but never before this many rows
    force: Plan | None = None
    fold_filters: bool = (
        True  # filters as FTS tag tokens when possible (tests turn it off to cover row filters)
    )


@dataclass(frozen=True, slots=True)
class PagePlan:
    plan: Plan
    budget: int = 0  # rows a walk may examine
    fts_drives: bool | None = None  # for the sort plan: see ``tracks_query.conditions``
    folded: bool = False  # run with the filters as tags (the search alone, no row filters): see ``choose``
    rows_per_match: float = 0.0  # rows a walk expects to examine per row of the view (0: unknown)


def estimate_matches(
    conn: sqlite3.Connection, words: Sequence[str], tuning: SearchTuning, tags: q.Tags = q.NO_TAGS
) -> int:
    """Tracks matching the words (with ``tags``, as in ``tracks_query.fts_query``), at least 1: exact when a
    word is longer than the prefix indexes (its prefix merge is paid once, counted or not) or when the matches
    are fewer than ``sort_cap``; else extrapolated from a few small rowid windows (FTS5 seeks to a rowid range).
    The windows come first: when most of them hold matches and they show far more than ``sort_cap``, the count
    up to ``sort_cap`` (about 5 ms for three broad words at 1M tracks) is not made. (Tracks synced together have
    neighbouring ids, so a few hundred matches of one album can fill one window: hits in one or two windows
    prove nothing.)"""
    if any(len(w) > PREFIX_INDEX_MAX for w in words):
        return max(1, q.fts_count(conn, words, tags=tags))
    sampled, windows_hit = _sampled_matches(conn, words, tuning, tags)
    if sampled >= 2 * tuning.sort_cap and 2 * windows_hit > tuning.sample_windows:
        return sampled
    capped = q.fts_count(conn, words, cap=tuning.sort_cap, tags=tags)
    if capped < tuning.sort_cap:
        return max(1, capped)
    return max(tuning.sort_cap, sampled)


def _sampled_matches(
    conn: sqlite3.Connection, words: Sequence[str], tuning: SearchTuning, tags: q.Tags
) -> tuple[int, int]:
    """The matches in ``sample_windows`` rowid windows of 1/256 of the id range each, scaled to the whole range,
    and how many windows held any; (0, 0) for an empty table."""
    windows, span, covered = _id_windows(conn, tuning.sample_windows, None)
    if not windows:
        return 0, 0
    parts = " UNION ALL ".join(
        ["SELECT count(*) AS n FROM tracks_fts WHERE tracks_fts MATCH ?1 AND rowid BETWEEN ? AND ?"]
        * len(windows)
    )
    params: list[object] = [q.fts_query(words, tags)]
    for start, end in windows:
        params += [start, end]
    counts = [int(n) for (n,) in conn.execute(parts, params)]
    return round(sum(counts) * span / covered), sum(1 for n in counts if n)


def _id_range(conn: sqlite3.Connection) -> tuple[int, int] | None:
    """The smallest and largest track id; None for an empty table. Two subqueries: min() and max() in one
    SELECT would scan the whole table."""
    lo, hi = conn.execute("SELECT (SELECT min(id) FROM tracks), (SELECT max(id) FROM tracks)").fetchone()
    return None if lo is None else (int(lo), int(hi))


def id_span(conn: sqlite3.Connection) -> int:
    """The size of the id range (at least 1): the plans' measure of the table. ``count(*)`` reads a whole index
    (about 5 ms at 1M tracks, on every page); the range is two index seeks. It exceeds the count by the ids of
    deleted tracks, which only makes walks look a little dearer than they are."""
    ids = _id_range(conn)
    return 1 if ids is None else ids[1] - ids[0] + 1


def _id_windows(
    conn: sqlite3.Connection, windows: int, rows: int | None
) -> tuple[list[tuple[int, int]], int, int]:
    """``windows`` rowid ranges of about ``rows`` ids each (None: 1/32 of the id range in all), spread over the
    id range; and the span and the number of ids they cover."""
    ids = _id_range(conn)
    if ids is None:
        return [], 1, 1
    lo, hi = ids
    span = hi - lo + 1
    if rows is None:
        rows = span // (32 * windows)
    out: list[tuple[int, int]] = []
    for start in sorted({lo + span * i // windows for i in range(windows)}):
        out.append((start, min(start + max(1, rows) - 1, hi)))
    return out, span, sum(e - s + 1 for s, e in out)


def _estimate_others(
    conn: sqlite3.Connection, flt: TrackFilter, server_id: int | None, total: int, tuning: SearchTuning
) -> int:
    """Tracks matching the filters other than the search: exact for a genre (a range of the clustered genre
    table), else extrapolated from rowid windows (an exact count of a broad filter scans most of an index)."""
    if flt.genre is not None:
        return q.count(conn, flt, server_id)
    windows, span, covered = _id_windows(conn, tuning.sample_windows, 512)
    if covered >= total:
        return q.count(conn, flt, server_id)
    terms, params = q.conditions(flt, server_id)
    n = 0
    for start, end in windows:
        # NOT INDEXED: a rowid range, not a filter index that would read the whole filter range
        sql = "SELECT count(*) FROM tracks NOT INDEXED" + q.where([*terms, "id BETWEEN ? AND ?"])  # noqa: S608
        n += int(conn.execute(sql, [*params, start, end]).fetchone()[0])
    return max(1, round(n * span / covered))


@dataclass(frozen=True, slots=True)
class _Sizes:
    total: int
    fts: int  # estimated FTS matches
    others: int  # tracks matching the other filters (total when there are none)
    fts_drives: bool | None  # the cheaper way to intersect (see ``tracks_query.conditions``)

    @property
    def matches(self) -> float:
        """Tracks of the view, assuming the search and the other filters are independent."""
        return self.fts * self.others / max(1, self.total)


def _sizes(
    conn: sqlite3.Connection,
    flt: TrackFilter,
    server_id: int | None,
    tuning: SearchTuning,
    fts: int,
) -> _Sizes:
    """``fts``: ``estimate_matches`` of the search."""
    total = id_span(conn)
    if not q.has_row_filters(flt, server_id):
        return _Sizes(total, min(fts, total), total, True)
    others = _estimate_others(conn, dataclasses.replace(flt, search=None), server_id, total, tuning)
    drives: bool | None = tuning.lookup_cost * fts <= tuning.set_cost * fts + tuning.scan_cost * others
    if not drives and others > total // 2:
        drives = None  # both ways read most of the table; measured: SQLite's own choice does best here
    return _Sizes(total, min(fts, total), others, drives)


def count(
    conn: sqlite3.Connection,
    flt: TrackFilter,
    server_id: int | None,
    tuning: SearchTuning,
    tags: q.Tags = q.NO_TAGS,
) -> int:
    """``count(flt)``. A search alone (with ``tags``) is counted in the FTS index; with other filters, either
    each FTS match is looked up, or the other filters' index is scanned against the set of FTS matches,
    whichever is cheaper."""
    if not q.search_words(flt.search) or not q.has_row_filters(flt, server_id):
        return q.count(conn, flt, server_id, tags=tags)
    fts = estimate_matches(conn, q.search_words(flt.search), tuning, tags)
    drives = _sizes(conn, flt, server_id, tuning, fts).fts_drives
    return q.count(conn, flt, server_id, drives, tags)


def choose(
    conn: sqlite3.Connection,
    flt: TrackFilter,
    server_id: int | None,
    rows_needed: int,
    tuning: SearchTuning,
    tags: q.Tags | None = None,
) -> PagePlan:
    """The cheapest plan for the first ``rows_needed`` rows of a searched view (see the module docstring).
    ``tags``: the view's filters as tag tokens (``tracks_query.fold``) when they all can be; a plan with
    ``folded`` runs the search with them instead of ``flt``'s filters and ``server_id``."""
    if tuning.force is not None:
        return PagePlan(tuning.force, budget=1 << 62, fts_drives=True, folded=tags is not None)
    words = q.search_words(flt.search)
    filtered = q.has_row_filters(flt, server_id)
    probe_walk = all(len(w) <= PREFIX_INDEX_MAX for w in words)
    folded_matches = 0
    if tags is not None:
        folded_matches = estimate_matches(conn, words, tuning, tags)  # exact below ``sort_cap``
        if folded_matches < tuning.sort_cap:
            return PagePlan(Plan.SORT, fts_drives=True, folded=True)
        if not probe_walk:
            # Without a probe walk, the plans with the filters in the FTS query read fewer rows than the same
            # plans with row filters: the unfolded estimates are not needed.
            return _folded_plan(rows_needed, id_span(conn), folded_matches, tuning)[1]
    fts = estimate_matches(conn, words, tuning)
    if fts < tuning.sort_cap and not filtered:
        return PagePlan(Plan.SORT, fts_drives=True)
    z = _sizes(conn, flt, server_id, tuning, fts)
    intersect = min(tuning.lookup_cost * z.fts, tuning.set_cost * z.fts + tuning.scan_cost * z.others)
    walked = rows_needed * z.total / max(z.matches, 1.0)
    fts_density = z.fts / z.total
    costs = {
        Plan.SORT: intersect + tuning.sort_cost * z.matches,
        Plan.WALK_SET: tuning.set_cost * z.fts
        + walked * (tuning.walk_cost + (tuning.seek_cost * fts_density if filtered else 0.0)),
    }
    if probe_walk:
        other_density = z.others / z.total
        if _python_testable(words):  # each row's text is read and tested in Python (``ascii_matcher``)
            per_row = tuning.walk_cost + tuning.seek_cost + other_density * tuning.test_cost
        else:
            per_row = tuning.walk_cost + (tuning.seek_cost if filtered else 0.0)
            per_row += other_density * tuning.probe_cost * len(words)
        costs[Plan.WALK_PROBE] = walked * per_row
    best = min(costs, key=lambda p: costs[p])
    budget = max(tuning.min_budget, int(tuning.budget_factor * walked))
    if tags is not None:
        cost, plan = _folded_plan(rows_needed, z.total, folded_matches, tuning)
        if cost < costs[best]:
            return plan
    return PagePlan(best, budget, z.fts_drives, rows_per_match=z.total / max(z.matches, 1.0))


def _folded_plan(rows_needed: int, total: int, matches: int, tuning: SearchTuning) -> tuple[float, PagePlan]:
    """The cheaper folded plan and its cost: the FTS query yields exactly the view's ``matches``, so no lookup
    tests the filters and no row is read."""
    walked = rows_needed * total / matches
    costs = {
        Plan.SORT: (tuning.lookup_cost + tuning.sort_cost) * matches,
        Plan.WALK_SET: tuning.set_cost * matches + walked * tuning.walk_cost,
    }
    plan = min(costs, key=lambda p: costs[p])
    budget = max(tuning.min_budget, int(tuning.budget_factor * walked))
    return costs[plan], PagePlan(plan, budget, True, True, total / matches)


def _batch_size(needed: int, rows_per_match: float) -> int:
    if rows_per_match <= 0:
        return 256
    return max(16, min(256, int(needed * rows_per_match * 1.1) + 8))


def _python_testable(words: Sequence[str]) -> bool:
    """Whether ``ascii_matcher`` can test these words (all ASCII)."""
    return bool(words) and all(w.isascii() for w in words)


def ascii_matcher(words: Sequence[str]) -> Callable[[str | None, str | None, str | None], bool | None] | None:
    """A test of one track's title, artist and album against the search words that answers as ``tracks_fts``
    does (every word a prefix of a token) for ASCII text, and None for a track with other text; None when a
    word is not ASCII. Exact because ``unicode61`` (``remove_diacritics 0``) makes tokens of ASCII text from the
    runs of ASCII letters and digits and folds only A-Z there, and an ASCII word can only be a prefix of such a
    token (a word is one token: ``search_words``)."""
    if not _python_testable(words):
        return None
    tests = [re.compile("(?<![0-9a-z])" + re.escape(w.lower())).search for w in words]

    def test(title: str | None, artist: str | None, album: str | None) -> bool | None:
        text = f"{title or ''} {artist or ''} {album or ''}"
        if not text.isascii():
            return None
        text = text.lower()
        return all(found(text) is not None for found in tests)

    return test


def walk_sql(
    flt: TrackFilter,
    sort: TrackSort,
    server_id: int | None,
    probe: bool,
    tags: q.Tags = q.NO_TAGS,
    text: bool = False,
) -> tuple[str, list[object]]:
    """``SELECT id, matches`` over the whole sort index in view order; ``matches`` is 1 for rows of the view.
    The CASE short-circuits, so the cheaper test comes first. With ``text`` (a probe walk): ``matches`` says
    only whether the row passes the other filters, and the row's title, artist and album follow, for the
    caller to test the search words (``ascii_matcher``)."""
    terms, params = q.conditions(dataclasses.replace(flt, search=None), server_id, per_row=True)
    match = q.fts_query(q.search_words(flt.search), tags)
    source = f"tracks INDEXED BY {q.SORT_INDEX[sort.column]}"
    if text:
        flag = f"CASE WHEN {' AND '.join(terms)} THEN 1 ELSE 0 END" if terms else "1"
        sql = f"SELECT id, {flag}, title, artist, album FROM {source}"  # noqa: S608 - whitelisted text
        return sql + q.order_by(sort), params
    if probe:  # the costly probe last: only rows passing the other filters pay it
        terms.append("EXISTS (SELECT 1 FROM tracks_fts WHERE tracks_fts MATCH ? AND rowid = tracks.id)")
        params.append(match)
    else:  # set membership first: it needs only the index entry, the other filters read the row
        terms.insert(0, "id IN (SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH ?)")
        params.insert(0, match)
    flag = f"CASE WHEN {' AND '.join(terms)} THEN 1 ELSE 0 END"
    return f"SELECT id, {flag} FROM {source}" + q.order_by(sort), params  # noqa: S608 - whitelisted text


def walk(
    conn: sqlite3.Connection,
    flt: TrackFilter,
    sort: TrackSort,
    server_id: int | None,
    rows_needed: int,
    plan: PagePlan,
    tags: q.Tags = q.NO_TAGS,
) -> list[int] | None:
    """The ids of the first ``rows_needed`` rows of the view (fewer when the view is shorter), or None when
    the walk examined ``plan.budget`` rows without finding them all."""
    probe = plan.plan is Plan.WALK_PROBE
    words = q.search_words(flt.search)
    matcher = ascii_matcher(words) if probe and not tags else None  # tag tokens are for FTS5 to test
    if matcher is not None:
        sql, params = walk_sql(flt, sort, server_id, probe=True, text=True)
        match = q.fts_query(words)

        def tested(batch: list[tuple[Any, ...]]) -> Iterator[int]:
            """Rows passing the other filters, tested in Python; those with other than ASCII text by FTS5."""
            for tid, ok, title, artist, album in batch:
                if ok:
                    hit = matcher(title, artist, album)
                    if hit or (hit is None and conn.execute(_PROBE_ONE, (match, tid)).fetchone() is not None):
                        yield tid

        return _first_rows(conn.execute(sql, params), rows_needed, plan, tested)
    sql, params = walk_sql(flt, sort, server_id, probe=probe, tags=tags)
    return _first_rows(conn.execute(sql, params), rows_needed, plan, lambda b: (tid for tid, ok in b if ok))


def _first_rows(
    cursor: sqlite3.Cursor,
    rows_needed: int,
    plan: PagePlan,
    matching: Callable[[list[tuple[Any, ...]]], Iterable[int]],
) -> list[int] | None:
    """The ids ``matching`` yields from the walk's rows, up to ``rows_needed``; None once ``plan.budget`` rows
    were examined without finding them all."""
    found: list[int] = []
    examined = 0
    # Every row fetched is tested (a probe costs ~25 µs), so fetch about as many as the rows still needed
    # call for rather than a fixed 256: a page of 200 at one match in three tests ~660 rows, not 768.
    while batch := cursor.fetchmany(_batch_size(rows_needed - len(found), plan.rows_per_match)):
        for tid in matching(batch):
            found.append(int(tid))
            if len(found) >= rows_needed:
                cursor.close()
                return found
        examined += len(batch)
        if examined >= plan.budget:
            cursor.close()
            return None
    return found
