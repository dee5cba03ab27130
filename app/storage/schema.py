"""Schema and migrations. ``PRAGMA user_version`` is the number of migrations applied.

Each migration is a SQL script run in one transaction together with the ``user_version`` bump; migrations only
add (tables, columns, indexes, triggers) and never lose rows. Append new migrations at the end; never edit one
that has shipped.
"""

from __future__ import annotations

import sqlite3

from app.core.errors import CacheError

# v1: the core tables. ``track_genres`` repeats year/rating/is_live/server_id of its track so that a genre
# filter (with decade, rating, live and server filters) is answered from this one clustered table, without a
# lookup per track. ``year`` is 0 there when the track has none (a primary key column cannot be NULL; 0 is
# never a decade). tracks use AUTOINCREMENT so a deleted track's id is never reused by a new one: the UI
# holds id snapshots and must not show a different track under an old id.
V1 = """
CREATE TABLE servers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    auth_method TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'verified',
    machine_id TEXT,
    remote_user_id TEXT,
    version TEXT,
    created_at REAL NOT NULL,
    last_synced_at REAL,
    last_verified_at REAL
);
CREATE TABLE libraries (
    id INTEGER PRIMARY KEY,
    server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    UNIQUE (server_id, key)
);
CREATE TABLE albums (
    id INTEGER PRIMARY KEY,
    server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    library_id INTEGER NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    remote_id TEXT NOT NULL,
    title TEXT NOT NULL,
    artist TEXT,
    year INTEGER,
    genres TEXT NOT NULL DEFAULT '[]',
    content_hash BLOB NOT NULL,
    synced_at REAL,
    UNIQUE (server_id, remote_id)
);
CREATE INDEX albums_library ON albums(library_id);
CREATE TABLE tracks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    library_id INTEGER NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    remote_id TEXT NOT NULL,
    title TEXT NOT NULL,
    artist TEXT,
    album TEXT,
    album_artist TEXT,
    album_remote_id TEXT,
    genre TEXT,
    genres TEXT NOT NULL DEFAULT '[]',
    year INTEGER,
    rating REAL CHECK (rating IS NULL OR rating BETWEEN 0 AND 10),
    duration_ms INTEGER,
    track_no INTEGER,
    disc_no INTEGER,
    is_live INTEGER NOT NULL DEFAULT 0,
    added_at REAL,
    content_hash BLOB NOT NULL,
    synced_at REAL,
    UNIQUE (server_id, remote_id)
);
CREATE INDEX tracks_library ON tracks(library_id);
CREATE TABLE track_genres (
    genre TEXT NOT NULL,
    year INTEGER NOT NULL,
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    rating REAL,
    is_live INTEGER NOT NULL,
    server_id INTEGER NOT NULL,
    PRIMARY KEY (genre, year, track_id)
) WITHOUT ROWID;
CREATE INDEX track_genres_track ON track_genres(track_id, genre, rating, is_live, server_id);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    remote_id TEXT NOT NULL,
    username TEXT NOT NULL,
    email TEXT,
    is_admin INTEGER NOT NULL DEFAULT 0,
    is_disabled INTEGER NOT NULL DEFAULT 0,
    library_keys TEXT,
    seen_at REAL,
    UNIQUE (server_id, remote_id)
);
CREATE TABLE sync_runs (
    id INTEGER PRIMARY KEY,
    server_id INTEGER REFERENCES servers(id) ON DELETE SET NULL,
    trigger TEXT NOT NULL,
    status TEXT NOT NULL,
    stage TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    total INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0,
    added INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    removed INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    failed_items INTEGER NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    error TEXT,
    correlation_id TEXT
);
CREATE INDEX sync_runs_server ON sync_runs(server_id, started_at);
CREATE INDEX sync_runs_status ON sync_runs(status);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

# v2: full-text search, the filter/sort indexes, and the staging tables of the sync write path.
# Sort indexes end in the implicit rowid (= id), which gives the id tie-break for free in both directions.
# ``tracks_filter_*`` cover the filter columns so a count is an index range scan without row lookups.
# The FTS update trigger fires only when a searched column really changes.
V2 = """
CREATE VIRTUAL TABLE tracks_fts USING fts5(
    title, artist, album,
    content='tracks', content_rowid='id',
    tokenize='unicode61 remove_diacritics 0'
);
CREATE TRIGGER tracks_fts_insert AFTER INSERT ON tracks BEGIN
    INSERT INTO tracks_fts(rowid, title, artist, album) VALUES (new.id, new.title, new.artist, new.album);
END;
CREATE TRIGGER tracks_fts_delete AFTER DELETE ON tracks BEGIN
    INSERT INTO tracks_fts(tracks_fts, rowid, title, artist, album)
    VALUES ('delete', old.id, old.title, old.artist, old.album);
END;
CREATE TRIGGER tracks_fts_update AFTER UPDATE OF title, artist, album ON tracks
WHEN old.title IS NOT new.title OR old.artist IS NOT new.artist OR old.album IS NOT new.album BEGIN
    INSERT INTO tracks_fts(tracks_fts, rowid, title, artist, album)
    VALUES ('delete', old.id, old.title, old.artist, old.album);
    INSERT INTO tracks_fts(rowid, title, artist, album) VALUES (new.id, new.title, new.artist, new.album);
END;
INSERT INTO tracks_fts(tracks_fts) VALUES ('rebuild');

CREATE INDEX tracks_sort_title ON tracks(title COLLATE NOCASE);
CREATE INDEX tracks_sort_artist ON tracks(artist COLLATE NOCASE);
CREATE INDEX tracks_sort_album ON tracks(album COLLATE NOCASE);
CREATE INDEX tracks_sort_genre ON tracks(genre COLLATE NOCASE);
CREATE INDEX tracks_sort_year ON tracks(year);
CREATE INDEX tracks_sort_rating ON tracks(rating);
CREATE INDEX tracks_sort_duration ON tracks(duration_ms);
CREATE INDEX tracks_sort_added ON tracks(added_at);
CREATE INDEX tracks_server ON tracks(server_id);
CREATE INDEX tracks_filter_year ON tracks(year, rating, is_live, server_id);
CREATE INDEX tracks_filter_rating ON tracks(rating, is_live, server_id, year);
CREATE INDEX tracks_filter_live ON tracks(is_live, server_id, year, rating);

CREATE TABLE stage_albums (
    server_id INTEGER NOT NULL,
    library_key TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    title TEXT NOT NULL,
    artist TEXT,
    year INTEGER,
    genres TEXT NOT NULL,
    content_hash BLOB NOT NULL,
    PRIMARY KEY (server_id, remote_id)
) WITHOUT ROWID;
CREATE TABLE stage_tracks (
    server_id INTEGER NOT NULL,
    library_key TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    title TEXT NOT NULL,
    artist TEXT,
    album TEXT,
    album_artist TEXT,
    album_remote_id TEXT,
    genre TEXT,
    genres TEXT NOT NULL,
    year INTEGER,
    rating REAL,
    duration_ms INTEGER,
    track_no INTEGER,
    disc_no INTEGER,
    is_live INTEGER NOT NULL,
    added_at REAL,
    content_hash BLOB NOT NULL,
    PRIMARY KEY (server_id, remote_id)
) WITHOUT ROWID;
CREATE INDEX stage_tracks_library ON stage_tracks(server_id, library_key);
"""

# v3: primary data and history that later features fill. Primary data (identities, invitations, redemptions,
# settings, history) is never dropped to rebuild the cache.
V3 = """
CREATE TABLE identities (
    id INTEGER PRIMARY KEY,
    display_name TEXT NOT NULL,
    email TEXT,
    note TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
ALTER TABLE users ADD COLUMN identity_id INTEGER REFERENCES identities(id) ON DELETE SET NULL;
CREATE INDEX users_identity ON users(identity_id);

CREATE TABLE invitations (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL,
    expires_at REAL,
    max_uses INTEGER,
    use_count INTEGER NOT NULL DEFAULT 0,
    duration_days INTEGER,
    note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE invitation_servers (
    invitation_id INTEGER NOT NULL REFERENCES invitations(id) ON DELETE CASCADE,
    server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    PRIMARY KEY (invitation_id, server_id)
);
CREATE TABLE invitation_libraries (
    invitation_id INTEGER NOT NULL REFERENCES invitations(id) ON DELETE CASCADE,
    server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    library_key TEXT NOT NULL,
    PRIMARY KEY (invitation_id, server_id, library_key)
);
CREATE TABLE redemptions (
    id INTEGER PRIMARY KEY,
    invitation_id INTEGER NOT NULL REFERENCES invitations(id) ON DELETE CASCADE,
    server_id INTEGER REFERENCES servers(id) ON DELETE SET NULL,
    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    identity_id INTEGER REFERENCES identities(id) ON DELETE SET NULL,
    username TEXT NOT NULL,
    email TEXT,
    redeemed_at REAL NOT NULL,
    expires_at REAL,
    status TEXT NOT NULL DEFAULT 'ok',
    error TEXT
);
CREATE INDEX redemptions_invitation ON redemptions(invitation_id);

CREATE TABLE sync_state (
    server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    library_key TEXT NOT NULL,
    last_total INTEGER,
    last_complete_at REAL,
    machine_id TEXT,
    PRIMARY KEY (server_id, library_key)
);
CREATE TABLE health_checks (
    id INTEGER PRIMARY KEY,
    server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    checked_at REAL NOT NULL,
    ok INTEGER NOT NULL,
    latency_ms REAL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX health_checks_server ON health_checks(server_id, checked_at);
CREATE TABLE incidents (
    id INTEGER PRIMARY KEY,
    server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    opened_at REAL NOT NULL,
    closed_at REAL,
    acknowledged_at REAL,
    acknowledged_note TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX incidents_server ON incidents(server_id, opened_at);
CREATE TABLE diagnostic_runs (
    id INTEGER PRIMARY KEY,
    started_at REAL NOT NULL,
    finished_at REAL,
    status TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT ''
);
CREATE TABLE diagnostic_results (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES diagnostic_runs(id) ON DELETE CASCADE,
    server_id INTEGER REFERENCES servers(id) ON DELETE SET NULL,
    check_name TEXT NOT NULL,
    outcome TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    evidence TEXT NOT NULL DEFAULT ''
);
CREATE INDEX diagnostic_results_run ON diagnostic_results(run_id);
CREATE TABLE error_events (
    id INTEGER PRIMARY KEY,
    correlation_id TEXT NOT NULL,
    error_type TEXT NOT NULL DEFAULT '',
    user_message TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    server TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX error_events_correlation ON error_events(correlation_id);
CREATE INDEX error_events_created ON error_events(created_at);
CREATE TABLE task_runs (
    id INTEGER PRIMARY KEY,
    task TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    correlation_id TEXT
);
CREATE INDEX task_runs_task ON task_runs(task, started_at);
CREATE TABLE user_exclusions (
    server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    remote_id TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    PRIMARY KEY (server_id, remote_id)
);
"""

# v4: ``tracks_fts`` again, with prefix indexes for 1-, 2- and 3-character prefixes. Without them a short
# prefix query ("ka"*) merges the doclists of every indexed word with that prefix on each query (200 ms at 1M
# tracks); with them it reads one doclist, and a per-row probe (``rowid = ?``) can seek inside it. The table holds
# only derived data (external content = ``tracks``): it is dropped and rebuilt from ``tracks`` in the same
# transaction (about 6 s at 1M tracks). The v2 triggers name the table and keep working unchanged.
V4 = """
DROP TABLE tracks_fts;
CREATE VIRTUAL TABLE tracks_fts USING fts5(
    title, artist, album,
    content='tracks', content_rowid='id',
    tokenize='unicode61 remove_diacritics 0',
    prefix='1 2 3'
);
INSERT INTO tracks_fts(tracks_fts) VALUES ('rebuild');
"""

# v5: people (accounts, invitations, identities). ``identity_links`` names linked accounts by (server, remote id), so links are primary data
# that survive a users-cache rebuild; a trigger re-applies them to ``users.identity_id`` whenever a sync inserts
# an account row. ``remembered_shares`` keeps the library shares removed to "disable" a Plex account, so that
# enabling restores exactly them. ``redemptions.remote_id`` names the account a redemption created (rollback,
# account expiry).
V5 = """
CREATE TABLE identity_links (
    server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    remote_id TEXT NOT NULL,
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    linked_at REAL NOT NULL,
    PRIMARY KEY (server_id, remote_id)
);
CREATE INDEX identity_links_identity ON identity_links(identity_id);
CREATE TRIGGER users_identity_relink AFTER INSERT ON users WHEN new.identity_id IS NULL BEGIN
    UPDATE users SET identity_id = (
        SELECT identity_id FROM identity_links WHERE server_id = new.server_id AND remote_id = new.remote_id
    ) WHERE id = new.id;
END;
CREATE TABLE remembered_shares (
    server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    remote_id TEXT NOT NULL,
    username TEXT NOT NULL DEFAULT '',
    library_keys TEXT,
    removed_at REAL NOT NULL,
    PRIMARY KEY (server_id, remote_id)
);
ALTER TABLE redemptions ADD COLUMN remote_id TEXT;
CREATE INDEX redemptions_expiry ON redemptions(status, expires_at);
CREATE INDEX invitations_expiry ON invitations(enabled, expires_at);
"""

# v6: staging tables of the sync write path as plain rowid tables without any index or content hash. A page is
# appended in arrival order (random Jellyfin ids into a primary-key index made staging 3x slower); the merge
# de-duplicates (last staged row wins) and compares columns in SQL. Staged rows are transient: a run's leftovers
# are dropped (``begin_staging`` clears them anyway).
V6 = """
DROP TABLE stage_tracks;
DROP TABLE stage_albums;
CREATE TABLE stage_albums (
    server_id INTEGER NOT NULL,
    library_key TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    title TEXT NOT NULL,
    artist TEXT,
    year INTEGER,
    genres TEXT NOT NULL
);
CREATE TABLE stage_tracks (
    server_id INTEGER NOT NULL,
    library_key TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    title TEXT NOT NULL,
    artist TEXT,
    album TEXT,
    album_artist TEXT,
    album_remote_id TEXT,
    genre TEXT,
    genres TEXT NOT NULL,
    year INTEGER,
    rating REAL,
    duration_ms INTEGER,
    track_no INTEGER,
    disc_no INTEGER,
    is_live INTEGER NOT NULL,
    added_at REAL
);
"""

# The ``tags`` column of ``tracks_fts`` (v7): the filter values of a track as whole tokens, each starting with
# U+E000 (a private-use character, a word character for unicode61, so a tag stays one token):
# ``\ue000g<HEX>`` per genre (hex of its UTF-8 bytes: any genre name is one exact token), ``\ue000d<year // 10>``
# for a year 1000-2999, ``\ue000r00`` .. ``\ue000rNN`` for a rating (one per whole number up to it: rating >= n
# is the one token ``rNN``), ``\ue000l`` for a live track, ``\ue000s<server id>``. Built here and in the
# triggers from the row, so a 'delete' gets exactly the tokens that were inserted. ``tracks_query.fold`` builds
# the query side.
_P = "char(57344)"
_RATINGS = " || ".join(f"' ' || {_P} || 'r{k:02d}'" for k in range(11))  # 5 characters per token


def _tags(row: str) -> str:
    """SQL of the ``tags`` text of the track whose columns are ``row``-prefixed (``new.``, ``old.``, empty)."""
    genres = f"(SELECT group_concat({_P} || 'g' || hex(value), ' ') FROM json_each({row}genres))"  # noqa: S608
    return (
        f"IFNULL({genres}, '')"
        f" || CASE WHEN typeof({row}year) = 'integer' AND {row}year BETWEEN 1000 AND 2999"
        f" THEN ' ' || {_P} || 'd' || ({row}year / 10) ELSE '' END"
        f" || CASE WHEN {row}rating >= 0 THEN substr({_RATINGS}, 1, 5 * (CAST({row}rating AS INTEGER) + 1))"
        " ELSE '' END"
        f" || CASE WHEN {row}is_live = 0 THEN '' ELSE ' ' || {_P} || 'l' END"
        f" || ' ' || {_P} || 's' || {row}server_id"
    )


_FTS_COLUMNS = ("title", "artist", "album", "genres", "year", "rating", "is_live", "server_id")
_CHANGED = " OR ".join(f"old.{c} IS NOT new.{c}" for c in _FTS_COLUMNS)

# v7: ``tracks_fts`` again, with a ``tags`` column (above) so that a search combined with filters is ONE FTS5
# query that FTS5 intersects itself (``"ka"* AND tags:"\ue000d199"``): no lookup of each match or scan of each
# filter row (a broad search with a broad filter took 50-170 ms at 1M tracks, now 4-20 ms). Contentless
# (``content=''``): the tags exist in no table, and JSON functions cannot run inside FTS5's 'rebuild'; the
# triggers delete with the old row's values. ``detail=column`` (no token positions: queries are single-token
# prefix terms with column filters) and ``columnsize=0`` (no ranking) keep it about as large as v4's. The update
# trigger fires only when a column that feeds the index really changes.
V7 = f"""
DROP TRIGGER tracks_fts_insert;
DROP TRIGGER tracks_fts_delete;
DROP TRIGGER tracks_fts_update;
DROP TABLE tracks_fts;
CREATE VIRTUAL TABLE tracks_fts USING fts5(
    title, artist, album, tags,
    content='', columnsize=0, detail=column,
    tokenize='unicode61 remove_diacritics 0',
    prefix='1 2 3'
);
INSERT INTO tracks_fts(rowid, title, artist, album, tags) SELECT id, title, artist, album, {_tags("")} FROM tracks;
CREATE TRIGGER tracks_fts_insert AFTER INSERT ON tracks BEGIN
    INSERT INTO tracks_fts(rowid, title, artist, album, tags)
    VALUES (new.id, new.title, new.artist, new.album, {_tags("new.")});
END;
CREATE TRIGGER tracks_fts_delete AFTER DELETE ON tracks BEGIN
    INSERT INTO tracks_fts(tracks_fts, rowid, title, artist, album, tags)
    VALUES ('delete', old.id, old.title, old.artist, old.album, {_tags("old.")});
END;
CREATE TRIGGER tracks_fts_update AFTER UPDATE OF {", ".join(_FTS_COLUMNS)} ON tracks
WHEN {_CHANGED} BEGIN
    INSERT INTO tracks_fts(tracks_fts, rowid, title, artist, album, tags)
    VALUES ('delete', old.id, old.title, old.artist, old.album, {_tags("old.")});
    INSERT INTO tracks_fts(rowid, title, artist, album, tags)
    VALUES (new.id, new.title, new.artist, new.album, {_tags("new.")});
END;
"""  # noqa: S608 - fixed text: column names and constants only

# v8: people over time (expiry, reminders, history). ``account_expiry`` (primary data: when Zondarr ends an account, and when the
# expiry task disabled it), seeded from the redemptions' account durations; ``reminders_sent`` (one row per
# account, expiry date and threshold, so each reminder goes out once); ``account_events`` (the history of what
# Zondarr did to people; the server's name is kept after the server is removed); the account's last activity
# as the server reports it (cached); an invitation's restrictions (JSON).
V8 = """
ALTER TABLE users ADD COLUMN last_active_at REAL;
CREATE TABLE account_expiry (
    server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    remote_id TEXT NOT NULL,
    expires_at REAL NOT NULL,
    disabled_at REAL,
    set_at REAL NOT NULL,
    PRIMARY KEY (server_id, remote_id)
);
CREATE INDEX account_expiry_due ON account_expiry(expires_at);
INSERT OR IGNORE INTO account_expiry(server_id, remote_id, expires_at, disabled_at, set_at)
    SELECT server_id, remote_id, expires_at, CASE WHEN status = 'expired' THEN expires_at END, redeemed_at
    FROM redemptions
    WHERE server_id IS NOT NULL AND remote_id IS NOT NULL AND expires_at IS NOT NULL
    AND status IN ('ok', 'expired')
    ORDER BY redeemed_at DESC;
CREATE TABLE reminders_sent (
    server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    remote_id TEXT NOT NULL,
    expires_at REAL NOT NULL,
    days INTEGER NOT NULL,
    sent_at REAL NOT NULL,
    mailed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (server_id, remote_id, expires_at, days)
);
CREATE TABLE account_events (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    server_id INTEGER REFERENCES servers(id) ON DELETE SET NULL,
    server_name TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    username TEXT NOT NULL,
    identity_id INTEGER REFERENCES identities(id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    trigger TEXT NOT NULL,
    ok INTEGER NOT NULL,
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX account_events_account ON account_events(server_id, remote_id, at);
CREATE INDEX account_events_identity ON account_events(identity_id, at);
CREATE INDEX account_events_at ON account_events(at);
ALTER TABLE invitations ADD COLUMN restrictions TEXT;
"""

# v9: names outlive servers (DESIGN §3). Removing a server nulls ``sync_runs.server_id`` and
# ``diagnostic_results.server_id`` and drops its ``invitation_servers`` rows; a trigger that runs just before the
# delete keeps the server's name in those runs and results, and records per invitation which target is gone (so
# an invitation left without servers says so instead of staying "active").
V9 = """
ALTER TABLE sync_runs ADD COLUMN removed_server TEXT;
ALTER TABLE diagnostic_results ADD COLUMN removed_server TEXT;
CREATE TABLE invitation_removed_servers (
    invitation_id INTEGER NOT NULL REFERENCES invitations(id) ON DELETE CASCADE,
    server_name TEXT NOT NULL,
    removed_at REAL NOT NULL,
    PRIMARY KEY (invitation_id, server_name)
);
CREATE TRIGGER servers_keep_names BEFORE DELETE ON servers BEGIN
    UPDATE sync_runs SET removed_server = old.name WHERE server_id = old.id;
    UPDATE diagnostic_results SET removed_server = old.name WHERE server_id = old.id;
    INSERT OR IGNORE INTO invitation_removed_servers(invitation_id, server_name, removed_at)
        SELECT invitation_id, old.name, (julianday('now') - 2440587.5) * 86400.0
        FROM invitation_servers WHERE server_id = old.id;
END;
"""

# v10: Plex invitations pending on plex.tv (``users.pending_since``: invited then, not accepted yet)
V10 = """
ALTER TABLE users ADD COLUMN pending_since REAL;
"""

# v11: when each library was last listed (delta refresh, DESIGN §4.2): ``listed_since`` is the server's clock
# when the last successful listing began (a refresh asks for what changed after it), ``full_listed_at`` this
# app's clock when the last complete listing ended (a complete listing follows after ``full_sync_days``).
# Existing libraries have neither: their next sync is a complete listing.
V11 = """
ALTER TABLE libraries ADD COLUMN listed_since REAL;
ALTER TABLE libraries ADD COLUMN full_listed_at REAL;
"""

# v12: tracks a refresh found deleted without listing their library (DESIGN §4.2), staged like the listed ones
# and deleted by the merge of the same run.
V12 = """
CREATE TABLE stage_gone (
    server_id INTEGER NOT NULL,
    library_key TEXT NOT NULL,
    remote_id TEXT NOT NULL
);
"""

MIGRATIONS: tuple[str, ...] = (V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12)
LATEST = len(MIGRATIONS)


def _statements(script: str) -> list[str]:
    """Splits a script into complete statements (``sqlite3.complete_statement`` keeps trigger bodies whole)."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int | None = None) -> int:
    """Applies migrations ``user_version+1 .. target`` (default: all), each in its own transaction with its
    version bump. ``conn`` must be in autocommit mode. Returns the new version. Raises CacheError when the file
    was made by a newer Zondarr; lets ``sqlite3.Error`` through (the caller maps it)."""
    goal = LATEST if target is None else target
    current = schema_version(conn)
    if current > LATEST:
        raise CacheError(
            "The local cache was made by a newer version of Zondarr.",
            remedy="Update Zondarr, or start it with another data folder.",
            detail=f"cache schema version {current}, this build knows up to {LATEST}",
        )
    for version in range(current + 1, goal + 1):
        # executescript() would COMMIT on its own; statements are run one by one to keep ONE transaction.
        conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in _statements(MIGRATIONS[version - 1]):
                conn.execute(stmt)
            conn.execute(f"PRAGMA user_version={version:d}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return schema_version(conn)
