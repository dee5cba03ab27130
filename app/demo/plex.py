"""The demo Plex Media Server: the XML endpoints plexapi reads (SERVER-PROTOCOLS.md, Plex a-d), with the
plex.tv endpoints of ``plextv.py`` mounted on the same server.

Shapes follow the real captures in tests/fixtures/plex: tracks carry no Genre children and no year (those live
on albums, ``type=9``); ``userRating`` only when rated; ``originalTitle`` only when the track artist differs.
Thread-safe: rendering reads immutable library data; caches are ``functools.lru_cache``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from html import escape

from app.demo import control
from app.demo.context import PLEX_VERSION, DemoContext
from app.demo.library import PLEX_ALBUM_BASE, PLEX_ARTIST_BASE, PLEX_TRACK_BASE, DemoAlbum
from app.demo.plextv import INVITES_PATH, PlexTv
from app.demo.plextv_signin import PIN_CONTROL_PATH
from app.demo.transport import Reply, Request, Routed, page_index

XML_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_SECTION_ALL = re.compile(r"^/library/sections/(\d+)/(all|albums)/?$")
_METADATA = re.compile(r"^/library/metadata/(\d+)(/children)?/?$")
_METADATA_LIST = re.compile(r"^/library/metadata/(\d+(?:,\d+)+)/?$")  # what plexapi's fetchItems([...]) asks
_MOVIE_KEY = "1"
_TAG_VERSION = "1700000000"


def esc(text: str) -> str:
    """Escapes text for an XML attribute value (``&``, ``<``, ``>``, ``"``, ``'``)."""
    return escape(text, quote=True)


def xml_reply(body: str, status: int = 200) -> Reply:
    return Reply(status, XML_HEAD + body.encode("utf-8"))


class PlexApp:
    """Routes and renders one demo PMS. ``route`` runs on handler threads."""

    # A real PMS sends this on every reply (errors included): it is how a client tells Plex from anything else.
    reply_headers = {"X-Plex-Protocol": "1.0"}

    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.lib = ctx.library
        self.plextv = PlexTv(ctx)
        self._album_attrs = lru_cache(maxsize=16384)(self._make_album_attrs)

    # ---- transport hooks --------------------------------------------------------------------------------
    def error_reply(self, status: int) -> Reply:
        titles = {
            400: "Bad Request",
            401: "Unauthorized",
            403: "Forbidden",
            404: "Not Found",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }
        title = titles.get(status, "Error")
        html = f"<html><head><title>{title}</title></head><body><h1>{status} {title}</h1></body></html>"
        return Reply(status, html.encode(), "text/html")

    def malformed_body(self) -> bytes:
        # Unclosed elements and a stray '<' that plexapi's cleanXMLString cannot repair.
        return XML_HEAD + b'<MediaContainer size="2" totalSize="2"><Track title="x" <<<\x00 ratingKey=</Media'

    def authorized(self, request: Request) -> bool:
        token = request.headers.get("x-plex-token") or request.query.get("X-Plex-Token")
        return token == self.ctx.token

    # ---- routing ----------------------------------------------------------------------------------------
    def route(self, request: Request) -> Routed:
        path = request.path
        if path.startswith("/api/"):
            return self.plextv.route(request)
        ok = self.authorized(request)
        if path == "/auth" and request.method == "GET":  # the demo's stand-in for app.plex.tv/auth
            return Routed(lambda e, i: self._auth_page())
        if path == PIN_CONTROL_PATH:
            return Routed(lambda e, i: self.plextv.signin.control(request), authorized=ok)
        if path == INVITES_PATH:
            return Routed(lambda e, i: self.plextv.invite_control(request), authorized=ok)
        if path == control.PATH:
            return Routed(lambda e, i: control.handle(self.ctx, request), authorized=ok)
        if request.method != "GET":
            return Routed(lambda e, i: self.error_reply(404), authorized=ok)
        if path in ("/", "/identity"):
            # /identity answers without a token on a real server (clients probe it before signing in)
            public = ok or path == "/identity"
            return Routed(lambda e, changed: self._root(path == "/", changed), "identity", None, True, public)
        if path in ("/library", "/library/", "/library/sections", "/library/sections/"):
            full = path.startswith("/library/sections")
            return Routed(
                lambda empty, i: self._sections(empty) if full else self._library(),
                "libraries",
                None,
                False,
                ok,
            )
        start, size = self._paging(request)
        if start is None:
            return Routed(lambda e, i: self.error_reply(400), authorized=ok)
        if path == "/accounts":
            return Routed(
                lambda empty, i: self._accounts(start, size, empty),
                "users",
                page_index(start, size),
                False,
                ok,
            )
        m = _SECTION_ALL.match(path)
        if m:
            key, kind = m.group(1), "9" if m.group(2) == "albums" else request.query.get("type", "8")
            endpoint = {"10": "tracks", "9": "albums"}.get(kind)
            page = page_index(start, size) if endpoint else None
            return Routed(
                lambda empty, i: self._section_all(request, key, kind, start, size, empty),
                endpoint,
                page,
                False,
                ok,
                lambda: self._section_all(request, key, kind, 0, size, False),
            )
        m = _METADATA.match(path)
        if m:
            rk, children = int(m.group(1)), bool(m.group(2))
            return Routed(lambda e, i: self._metadata(rk, children), authorized=ok)
        m = _METADATA_LIST.match(path)
        if m:
            keys = [int(k) for k in dict.fromkeys(m.group(1).split(","))]
            return Routed(lambda e, i: self._metadata_list(keys), authorized=ok)
        return Routed(lambda e, i: self.error_reply(404), authorized=ok)

    @staticmethod
    def _paging(request: Request) -> tuple[int | None, int | None]:
        """Container start/size from the X-Plex-Container-* headers, else the same-named query parameters."""
        raw_start = request.headers.get(
            "x-plex-container-start", request.query.get("X-Plex-Container-Start", "0")
        )
        raw_size = request.headers.get("x-plex-container-size", request.query.get("X-Plex-Container-Size"))
        try:
            start = max(0, int(raw_start))
            size = None if raw_size is None else max(0, int(raw_size))
        except ValueError:
            return None, None
        return start, size

    def _auth_page(self) -> Reply:
        auto = self.ctx.pin_approve_after_polls
        what = (
            f"In demo mode this sign-in is approved by itself after {auto} checks: go back to Zondarr."
            if auto
            else "Approve it from a test with POST /zondarr-demo/plex-pin."
        )
        html = (
            "<!doctype html><html><head><title>Zondarr demo plex.tv</title></head><body>"
            f"<h1>Zondarr demo plex.tv</h1><p>{esc(what)}</p></body></html>"
        )
        return Reply(200, html.encode(), "text/html; charset=utf-8")

    # ---- renderers --------------------------------------------------------------------------------------
    def _root(self, full: bool, changed: bool) -> Reply:
        mid = self.ctx.identity(changed)
        if not full:
            return xml_reply(
                f'<MediaContainer size="0" claimed="1" machineIdentifier="{mid}" version="{PLEX_VERSION}"> </MediaContainer>'
            )
        dirs = "".join(
            f'<Directory count="1" key="{k}" title="{k}" />\n'
            for k in ("accounts", "identity", "library", "servers", "system")
        )
        owner = self.ctx.users[0].email or ""
        return xml_reply(
            f'<MediaContainer size="5" allowCameraUpload="0" allowChannelAccess="1" allowMediaDeletion="1" '
            f'allowSharing="1" allowSync="1" allowTuners="0" backgroundProcessing="1" certificate="0" '
            f'companionProxy="1" countryCode="usa" diagnostics="logs,databases" eventStream="1" '
            f'friendlyName="{esc(self.ctx.name)}" hubSearch="1" itemClusters="1" livetv="0" '
            f'machineIdentifier="{mid}" mediaProviders="1" multiuser="1" myPlex="1" myPlexMappingState="mapped" '
            f'myPlexSigninState="ok" myPlexSubscription="1" myPlexUsername="{esc(owner)}" offlineTranscode="1" '
            f'ownerFeatures="home,server-manager,session_kick,sync" photoAutoTag="1" platform="Linux" '
            f'platformVersion="12 (bookworm)" pluginHost="1" pushNotifications="0" readOnlyLibraries="0" '
            f'streamingBrainABRVersion="3" streamingBrainVersion="2" sync="1" transcoderActiveVideoSessions="0" '
            f'transcoderAudio="1" transcoderLyrics="1" transcoderPhoto="1" transcoderSubtitles="1" '
            f'transcoderVideo="1" updatedAt="1700000000" updater="1" version="{PLEX_VERSION}" voiceSearch="1">\n'
            f"{dirs}</MediaContainer>"
        )

    def _library(self) -> Reply:
        return xml_reply(
            '<MediaContainer size="3" allowSync="0" art="/:/resources/library-art.jpg" content="" '
            f'identifier="com.plexapp.plugins.library" mediaTagPrefix="/system/bundle/media/flags/" '
            f'mediaTagVersion="{_TAG_VERSION}" title1="Plex Library" title2="">\n'
            '<Directory key="sections" title="Library Sections" />\n<Directory key="recentlyAdded" title="Recently Added Content" />\n'
            '<Directory key="onDeck" title="On Deck" />\n</MediaContainer>'
        )

    def section_uuid(self, key: str) -> str:
        h = self.lib.hex_id("section-uuid", int(key))
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _section_dir(self, key: str, kind: str, title: str, agent: str, scanner: str) -> str:
        res = {"artist": "artist", "movie": "movie"}[kind]
        return (
            f'<Directory allowSync="1" art="/:/resources/{res}-fanart.jpg" composite="/library/sections/{key}/composite/1700000000" '
            f'filters="1" refreshing="0" thumb="/:/resources/{res}.png" key="{key}" type="{kind}" title="{esc(title)}" '
            f'agent="{agent}" scanner="{scanner}" language="en" uuid="{self.section_uuid(key)}" updatedAt="1700000000" '
            f'createdAt="1600000000" scannedAt="1700000000" content="1" directory="1" contentChangedAt="1000" hidden="0">\n'
            f'<Location id="{key}" path="/data/{esc(title)}" />\n</Directory>\n'
        )

    def _sections(self, empty: bool) -> Reply:
        parts = []
        if not empty:
            parts.append(
                self._section_dir(_MOVIE_KEY, "movie", "Movies", "tv.plex.agents.movie", "Plex Movie")
            )
            for key, title, _ in self.lib.music_libraries():
                parts.append(self._section_dir(key, "artist", title, "tv.plex.agents.music", "Plex Music"))
        return xml_reply(
            f'<MediaContainer size="{len(parts)}" allowSync="0" identifier="com.plexapp.plugins.library" '
            f'mediaTagPrefix="/system/bundle/media/flags/" mediaTagVersion="{_TAG_VERSION}" title1="Plex Library">\n'
            f"{''.join(parts)}</MediaContainer>"
        )

    def _accounts(self, start: int, size: int | None, empty: bool) -> Reply:
        rows = [(0, "")] + [(1 if u.index == 0 else u.plex_id, u.username) for u in self.ctx.users]
        if empty:
            rows = []
        page = rows[start:] if size is None else rows[start : start + size]
        body = "".join(
            f'<Account id="{i}" key="/accounts/{i}" name="{esc(n)}" defaultAudioLanguage="en" autoSelectAudio="1" '
            f'defaultSubtitleLanguage="en" subtitleMode="1" thumb="" />\n'
            for i, n in page
        )
        return xml_reply(
            f'<MediaContainer size="{len(page)}" totalSize="{len(rows)}" offset="{start}" '
            f'identifier="com.plexapp.system.accounts">\n{body}</MediaContainer>'
        )

    def _section_all(
        self, request: Request, key: str, kind: str, start: int, size: int | None, empty: bool
    ) -> Reply:
        lib = self.lib
        n = lib.library_index(key)
        if n is None and key != _MOVIE_KEY:
            return self.error_reply(404)
        title = "Movies" if n is None else lib.library_title(n)
        libs = [] if n is None or empty or kind not in ("8", "9", "10") else [n]
        filters = _filters(request.query, kind)
        if filters is None:
            return self.error_reply(400)
        edits = self.ctx.edits
        if kind == "10":
            only_added = all(field == "added" for field, _, _ in filters)
            if filters and only_added and "sort" not in request.query:
                after = max((v for _, op, v in filters if op == ">"), default=None)
                before = min((v for _, op, v in filters if op == "<"), default=None)
                page, total = edits.added_between(libs, after, before, start, size)
            elif filters or "sort" in request.query:
                found = _matching(libs, filters, edits.changed_tracks, edits.track_time)
                every = _sorted(found, request, edits.track_time)
                total, page = len(every), every[start:] if size is None else every[start : start + size]
            else:
                page, total = edits.track_slice(libs, start, size)
            items, group, title2 = [self._track_xml(i) for i in page], "track", "All Tracks"
        elif kind == "9":
            if filters:
                every = _matching(
                    libs,
                    filters,
                    lambda ls, f, t: edits.changed_albums(ls, t),
                    lambda j, f: edits.album_time(j),
                )
            else:
                every = [j for n_ in libs for j in range(*lib.album_range(n_))]
            total = len(every)
            page = every[start:] if size is None else every[start : start + size]
            items, group, title2 = [self._album_xml(edits.album(j)) for j in page], "album", "All Albums"
        else:
            every = [k for n_ in libs for k in range(*lib.artist_range(n_))]
            total = len(every)
            page = every[start:] if size is None else every[start : start + size]
            items, group, title2 = [self._artist_xml(k) for k in page], "artist", "All Artists"
        return xml_reply(
            f'<MediaContainer size="{len(items)}" totalSize="{total}" offset="{start}" allowSync="1" '
            f'art="/:/resources/artist-fanart.jpg" identifier="com.plexapp.plugins.library" librarySectionID="{key}" '
            f'librarySectionTitle="{esc(title)}" librarySectionUUID="{self.section_uuid(key)}" '
            f'mediaTagPrefix="/system/bundle/media/flags/" mediaTagVersion="{_TAG_VERSION}" mixedParents="1" '
            f'nocache="1" thumb="/:/resources/artist.png" title1="{esc(title)}" title2="{title2}" viewGroup="{group}">\n'
            f"{''.join(items)}</MediaContainer>"
        )

    def _metadata(self, rk: int, children: bool) -> Reply:
        """One item by ratingKey (what plexapi's reload asks for), or the children of an album/artist."""
        lib, edits = self.lib, self.ctx.edits
        if children and PLEX_ALBUM_BASE <= rk < PLEX_ALBUM_BASE + lib.album_count:
            a = edits.album(rk - PLEX_ALBUM_BASE)
            first = a.first_track
            items = [
                self._track_xml(i) for i in range(first, first + a.track_count) if not edits.is_deleted(i)
            ]
        elif children and PLEX_ARTIST_BASE <= rk < PLEX_ARTIST_BASE + lib.artist_count:
            items = [self._album_xml(edits.album(j)) for j in lib.artist_albums(rk - PLEX_ARTIST_BASE)]
        elif children:
            return self.error_reply(404)
        else:
            item = self._item_xml(rk)
            if item is None:
                return self.error_reply(404)
            items = [item]
        return self._metadata_reply(items)

    def _metadata_list(self, keys: list[int]) -> Reply:
        """The items of several ratingKeys (``/library/metadata/1,2,3``) that exist, in the order asked;
        unknown and deleted ones are left out, and 404 when none exists (as for one unknown key)."""
        items = [x for x in map(self._item_xml, keys) if x is not None]
        return self._metadata_reply(items) if items else self.error_reply(404)

    def _metadata_reply(self, items: list[str]) -> Reply:
        return xml_reply(
            f'<MediaContainer size="{len(items)}" allowSync="1" identifier="com.plexapp.plugins.library" '
            f'mediaTagPrefix="/system/bundle/media/flags/" mediaTagVersion="{_TAG_VERSION}">\n{"".join(items)}</MediaContainer>'
        )

    def _item_xml(self, rk: int) -> str | None:
        """The XML of the live track, album or artist with ratingKey ``rk``; None when there is none."""
        lib, edits = self.lib, self.ctx.edits
        if PLEX_TRACK_BASE <= rk < PLEX_ALBUM_BASE + PLEX_TRACK_BASE:
            i = rk - PLEX_TRACK_BASE
            try:
                edits.track(i)
            except IndexError:
                return None
            return None if edits.is_deleted(i) else self._track_xml(i)
        if PLEX_ALBUM_BASE <= rk < PLEX_ALBUM_BASE + lib.album_count:
            return self._album_xml(edits.album(rk - PLEX_ALBUM_BASE))
        if PLEX_ARTIST_BASE <= rk < PLEX_ARTIST_BASE + lib.artist_count:
            return self._artist_xml(rk - PLEX_ARTIST_BASE)
        return None

    def _make_album_attrs(self, j: int) -> str:
        """The parent/grandparent attributes every track of album ``j`` shares (cached: ~10x fewer albums)."""
        a = self.lib.album(j)
        artist = self.lib.artist(a.artist_index)
        key = self.lib.library_key(a.library)
        gp_title = "" if a.album_artist is None else f' grandparentTitle="{esc(a.album_artist)}"'
        return (
            f' parentRatingKey="{a.plex_id}" parentKey="/library/metadata/{a.plex_id}" parentGuid="{a.guid}"'
            f' parentTitle="{esc(a.title)}" parentThumb="/library/metadata/{a.plex_id}/thumb/{a.added_at}"'
            f' grandparentRatingKey="{artist.plex_id}" grandparentKey="/library/metadata/{artist.plex_id}"'
            f' grandparentGuid="plex://artist/{artist.jellyfin_id[:24]}"{gp_title}'
            f' grandparentThumb="/library/metadata/{artist.plex_id}/thumb/{artist.added_at}"'
            f' librarySectionID="{key}" librarySectionKey="/library/sections/{key}"'
            f' librarySectionTitle="{esc(self.lib.library_title(a.library))}"'
        )

    def _track_xml(self, i: int) -> str:
        edits = self.ctx.edits
        t = edits.track(i)
        rated_at = edits.track_time(i, "rated")
        rk = t.plex_id
        orig = (
            f' originalTitle="{esc(t.artist)}"' if t.artist is not None and t.artist != t.album_artist else ""
        )
        index = "" if t.track_no is None else f' index="{t.track_no}" parentIndex="{t.disc_no}"'
        dur = "" if t.duration_ms is None else f' duration="{t.duration_ms}"'
        rating = "" if t.rating is None else f' userRating="{t.rating:.1f}"'
        if rated_at is not None:
            rating += f' lastRatedAt="{int(rated_at)}"'
        size = (t.duration_ms or 200_000) * 40
        return (
            f'<Track ratingKey="{rk}" key="/library/metadata/{rk}" guid="{t.guid}" type="track" '
            f'title="{esc(t.title)}"{orig}{self._album_attrs(t.album_index)}{index}{dur}{rating} '
            f'summary="" thumb="/library/metadata/{t.album_plex_id}/thumb/{t.added_at}" addedAt="{t.added_at}" '
            f'updatedAt="{int(edits.track_time(i, "updated") or 0)}"><Media id="{rk}"{dur} bitrate="1000" audioChannels="2" audioCodec="flac" '
            f'container="flac"><Part id="{rk}" key="/library/parts/{rk}/{t.added_at}/file.flac"{dur} '
            f'file="/data/music/{t.album_plex_id}/{rk}.flac" size="{size}" container="flac" /></Media></Track>\n'
        )

    def _album_xml(self, a: DemoAlbum) -> str:
        artist = self.lib.artist(a.artist_index)
        parent_title = "" if a.album_artist is None else f' parentTitle="{esc(a.album_artist)}"'
        year = "" if a.year is None else f' year="{a.year}" originallyAvailableAt="{a.year}-01-01"'
        genres = "".join(f'<Genre tag="{esc(g)}" />' for g in a.genres)
        return (
            f'<Directory ratingKey="{a.plex_id}" key="/library/metadata/{a.plex_id}/children" '
            f'parentRatingKey="{artist.plex_id}" guid="{a.guid}" parentGuid="plex://artist/{artist.jellyfin_id[:24]}" '
            f'type="album" title="{esc(a.title)}" parentKey="/library/metadata/{artist.plex_id}"{parent_title} '
            f'summary="" index="1"{year} thumb="/library/metadata/{a.plex_id}/thumb/{a.added_at}" '
            f'parentThumb="/library/metadata/{artist.plex_id}/thumb/{artist.added_at}" leafCount="{a.track_count}" '
            f'addedAt="{a.added_at}" updatedAt="{int(self.ctx.edits.album_time(a.index))}">{genres}</Directory>\n'
        )

    def _artist_xml(self, k: int) -> str:
        r = self.lib.artist(k)
        return (
            f'<Directory ratingKey="{r.plex_id}" key="/library/metadata/{r.plex_id}/children" '
            f'guid="plex://artist/{r.jellyfin_id[:24]}" type="artist" title="{esc(r.name)}" summary="" index="1" '
            f'thumb="/library/metadata/{r.plex_id}/thumb/{r.added_at}" addedAt="{r.added_at}" updatedAt="{r.added_at + 60}" />\n'
        )


_FILTER = re.compile(r"^(?:(track|album)\.)?(updatedAt|addedAt|lastRatedAt)(>>|<<)$")
_FIELD = {"updatedAt": "updated", "addedAt": "added", "lastRatedAt": "rated"}


def _filters(query: dict[str, str], kind: str) -> list[tuple[str, str, float]] | None:
    """The time filters of a listing as (field, op, value): ``updatedAt>>=T`` is (updated, ">", T) and
    ``addedAt<<=T`` is (added, "<", T); ``album.updatedAt>>=T`` on tracks is the album's time. Plex's operators
    are strict: ``>>`` is "greater than" (after), ``<<`` "less than" (before). None for a filter the demo does
    not know or a value that is not a number (real Plex answers 400 too)."""
    out: list[tuple[str, str, float]] = []
    for name, value in query.items():
        m = _FILTER.match(name)
        if m is None:
            if name.endswith((">>", "<<")):
                return None
            continue
        prefix, attr, op = m.groups()
        try:
            when = float(value)
        except ValueError:
            return None
        field = _FIELD[attr]
        if prefix == "album" and kind == "10":
            if attr != "updatedAt":
                return None
            field = "album_updated"
        out.append((field, op[0], when))
    return out


def _matching(
    libs: list[int],
    filters: list[tuple[str, str, float]],
    find: Callable[[list[int], str, float], list[int]],
    time_of: Callable[[int, str], float | None],
) -> list[int]:
    """Items (in index order) whose times pass every filter (AND). ``find(libs, field, since)`` lists the items
    whose ``field`` is at or after ``since``: each "after" filter narrows the candidates that way (a listing
    with none starts from every item), then every filter is checked strictly on each candidate."""
    found: set[int] | None = None
    for field, _, since in [f for f in filters if f[1] == ">"] or [("added", ">", 0.0)]:
        hits = set(find(libs, field, since))
        found = hits if found is None else found & hits
    return sorted(i for i in found or () if all(_passes(time_of(i, f), op, v) for f, op, v in filters))


def _passes(stamp: float | None, op: str, value: float) -> bool:
    """A strict comparison; an item without the time (never rated) passes no filter on it."""
    return stamp is not None and (stamp > value if op == ">" else stamp < value)


def _sorted(indices: list[int], request: Request, time_of: Callable[[int, str], float | None]) -> list[int]:
    """``sort=updatedAt:desc`` and the like (ties in index order); other sorts keep index order."""
    raw = request.query.get("sort", "")
    attr, _, direction = raw.partition(":")
    field = _FIELD.get(attr)
    if field is None:
        return indices
    keyed = sorted(indices, key=lambda i: (time_of(i, field) or 0.0, i))
    return keyed[::-1] if direction == "desc" else keyed
