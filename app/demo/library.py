"""The synthetic music library behind the demo servers, deterministic from (seed, tracks, libraries).

Memory stays small at 1,000,000 tracks: only compact arrays of album boundaries and album->artist links are kept;
every track is derived from (seed, index) on demand, and albums/artists are derived the same way and kept in
bounded LRU caches. Layout: libraries own contiguous ranges of global track indices; inside a library, artists
own 1-5 consecutive albums and albums own 8-14 consecutive tracks (the last album of a library may be shorter).

Thread-safe for readers: everything is immutable after construction except the LRU caches (``functools``) and
the album lookup, built once under a lock.
"""

from __future__ import annotations

import hashlib
import random
import threading
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from app.demo import words
from app.demo.errors import DemoConfigError
from app.demo.live import is_live

MAX_TRACKS = 1_000_000
MAX_LIBRARIES = 20
MAX_USERS = 1000
_M64 = (1 << 64) - 1
# Plex ratingKeys: disjoint numeric ranges per item type, unique per server.
PLEX_ARTIST_BASE = 100
PLEX_ALBUM_BASE = 1_000_000
PLEX_TRACK_BASE = 2_000_000
PLEX_OWNER_ID = 1_000_001
PLEX_USER_BASE = 2_000_000
_EPOCH0 = 1_300_000_000  # 2011-03-13: addedAt values spread forward from here


_GOLDEN, _MUL1, _MUL2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_INV1, _INV2 = pow(_MUL1, -1, 1 << 64), pow(_MUL2, -1, 1 << 64)  # odd multipliers: invertible mod 2**64


def mix64(x: int) -> int:
    """SplitMix64 finaliser: a fast, well-spread 64-bit hash of an int (pure function, a bijection on 64 bits)."""
    x = (x + _GOLDEN) & _M64
    x = ((x ^ (x >> 30)) * _MUL1) & _M64
    x = ((x ^ (x >> 27)) * _MUL2) & _M64
    return x ^ (x >> 31)


def unmix64(y: int) -> int:
    """The inverse of ``mix64`` on 64-bit ints: each step undone in reverse order."""
    x = _unshift(y, 31)
    x = _unshift((x * _INV2) & _M64, 27)
    x = _unshift((x * _INV1) & _M64, 30)
    return (x - _GOLDEN) & _M64


def _unshift(y: int, shift: int) -> int:
    """The x with ``x ^ (x >> shift) == y``: each round fixes ``shift`` more of the high bits."""
    x = y
    for _ in range(64 // shift):
        x = y ^ (x >> shift)
    return x


@dataclass(frozen=True, slots=True)
class DemoArtist:
    index: int
    name: str
    library: int
    plex_id: str
    jellyfin_id: str
    added_at: int


@dataclass(frozen=True, slots=True)
class DemoAlbum:
    index: int
    title: str
    artist_index: int
    artist: str  # the artist entity's name (Plex grandparent/parent title)
    album_artist: str | None  # None: the album has no album artist tag
    genres: tuple[str, ...]
    year: int | None
    added_at: int
    library: int
    first_track: int
    track_count: int
    double_disc: bool
    plex_id: str
    jellyfin_id: str
    guid: str
    is_live: bool = False  # the album title alone marks its tracks live


@dataclass(slots=True)  # not frozen: frozen __init__ costs ~3 us per track; treat as read-only
class DemoTrack:
    """Canonical fields of one track, as a correct cache should end up holding them (read-only by convention)."""

    index: int
    title: str
    artist: str | None  # the track artist (Plex originalTitle when it differs from the album artist)
    album: str
    album_artist: str | None
    album_index: int
    genres: tuple[str, ...]  # inherited from the album on Plex, carried on the track on Jellyfin
    year: int | None
    rating: float | None  # 0-10 in 0.5 steps
    rating_is_community: bool  # Jellyfin: rating in CommunityRating (True) or UserData.Rating (False)
    duration_ms: int | None
    track_no: int | None
    disc_no: int | None
    added_at: int
    library: int
    plex_id: str
    jellyfin_id: str
    album_plex_id: str
    album_jellyfin_id: str
    guid: str
    is_live: bool


@dataclass(frozen=True, slots=True)
class AlbumLookup:
    """Album indices (ascending) by Jellyfin id, by the album's base year and by its base title."""

    by_id: dict[str, int]
    by_year: dict[int | None, list[int]]
    by_title: dict[str, list[int]]


@dataclass(frozen=True, slots=True)
class DemoUser:
    """An account: index 0 is the owner/admin. ``library_keys`` None = every library (in the kind's keys)."""

    index: int
    username: str
    email: str | None
    plex_id: int
    jellyfin_id: str
    is_admin: bool
    is_disabled: bool  # Jellyfin only (Plex has no disabled accounts)
    home: bool  # Plex managed (home) user without an email
    library_keys: tuple[str, ...] | None


class DemoLibrary:
    """The synthetic data of one demo server. ``kind`` decides which ids ``music_libraries`` and the
    ``remote_id`` helpers return ("plex": numeric ratingKeys/section keys, "jellyfin": 32-hex ids).

    Raises DemoConfigError for sizes outside 0..1,000,000 tracks, 1..20 libraries, 0..1000 users.
    """

    def __init__(
        self, kind: str, seed: int = 1, tracks: int = 1000, libraries: int = 2, users: int = 5
    ) -> None:
        if kind not in ("plex", "jellyfin"):
            raise DemoConfigError(f"Unknown demo server kind {kind!r}.", remedy="Use plex or jellyfin.")
        if not 0 <= tracks <= MAX_TRACKS:
            raise DemoConfigError(
                "The demo library size must be 0 to 1,000,000 tracks.", remedy="Pick a smaller size."
            )
        if not 1 <= libraries <= MAX_LIBRARIES:
            raise DemoConfigError("The demo server needs 1 to 20 music libraries.", remedy="Pick 1 to 20.")
        if not 0 <= users <= MAX_USERS:
            raise DemoConfigError(
                "The demo server supports 0 to 1000 extra users.", remedy="Pick fewer users."
            )
        self.kind = kind
        self.seed = seed
        self.tracks = tracks
        self.libraries = libraries
        self._salt = mix64(seed & _M64 ^ 0x5EED)
        self._track_prefix = self.hex_id("track", -1)[:16]  # + 16 hex of a bijective hash of the index
        base, rest = divmod(tracks, libraries)
        sizes = [base + (rest if n == 0 else 0) for n in range(libraries)]
        self._lib_start = [sum(sizes[:n]) for n in range(libraries)] + [tracks]
        self._build_layout()
        self.album = lru_cache(maxsize=16384)(self._make_album)
        self.artist = lru_cache(maxsize=16384)(self._make_artist)
        self.users = self._make_users(users)
        self._lookup: AlbumLookup | None = None
        self._lookup_lock = threading.Lock()

    # ---- layout -----------------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        rng = random.Random(f"zondarr-demo:{self.seed}:{self.tracks}:{self.libraries}")
        starts, album_artist, artist_first = array("q"), array("q"), array("q")
        self._lib_first_album, self._lib_first_artist = [], []
        for lib in range(self.libraries):
            pos, end = self._lib_start[lib], self._lib_start[lib + 1]
            self._lib_first_album.append(len(starts))
            self._lib_first_artist.append(len(artist_first))
            while pos < end:
                artist_first.append(len(starts))
                for _ in range(rng.randint(1, 5)):
                    if pos >= end:
                        break
                    starts.append(pos)
                    album_artist.append(len(artist_first) - 1)
                    pos += rng.randint(8, 14)
        self._lib_first_album.append(len(starts))
        self._lib_first_artist.append(len(artist_first))
        starts.append(self.tracks)
        self._album_start, self._album_artist, self._artist_first = starts, album_artist, artist_first

    @property
    def album_count(self) -> int:
        return len(self._album_start) - 1

    @property
    def artist_count(self) -> int:
        return len(self._artist_first)

    def library_title(self, lib: int) -> str:
        titles = words.LIBRARY_TITLES
        return titles[lib] if lib < len(titles) else f"Music {lib + 1}"

    def library_key(self, lib: int) -> str:
        """Plex section key (the movie section is "1") or Jellyfin collection folder ItemId."""
        return str(lib + 2) if self.kind == "plex" else self.hex_id("library", lib)

    def library_index(self, key: str) -> int | None:
        """The library number for a kind key, or None when no music library has that key."""
        for lib in range(self.libraries):
            if self.library_key(lib) == key:
                return lib
        return None

    def track_range(self, lib: int) -> tuple[int, int]:
        return self._lib_start[lib], self._lib_start[lib + 1]

    def album_range(self, lib: int) -> tuple[int, int]:
        return self._lib_first_album[lib], self._lib_first_album[lib + 1]

    def artist_range(self, lib: int) -> tuple[int, int]:
        return self._lib_first_artist[lib], self._lib_first_artist[lib + 1]

    def music_libraries(self) -> list[tuple[str, str, int]]:
        """(key, title, track_count) of every music library, in server order."""
        return [
            (self.library_key(n), self.library_title(n), self._lib_start[n + 1] - self._lib_start[n])
            for n in range(self.libraries)
        ]

    def artist_albums(self, k: int) -> range:
        """Album indices of artist ``k`` (consecutive by construction)."""
        end = self._artist_first[k + 1] if k + 1 < self.artist_count else self.album_count
        return range(self._artist_first[k], end)

    def album_of(self, track_index: int) -> int:
        return bisect_right(self._album_start, track_index) - 1

    def album_tracks(self, j: int) -> range:
        """The track indices of album ``j`` (without building the album)."""
        return range(self._album_start[j], self._album_start[j + 1])

    def track_candidates(self, jellyfin_id: str) -> tuple[int, ...]:
        """The track indices a Jellyfin id can name: the base track whose id suffix is ``mix64(salt ^ i)`` and
        an added track (``LibraryEdits.add_track``) whose suffix is its index. Callers keep the one whose
        ``jellyfin_id`` really is the id; () when the id is not a track id of this library at all."""
        if len(jellyfin_id) != 32 or jellyfin_id[:16] != self._track_prefix:
            return ()
        try:
            suffix = int(jellyfin_id[16:], 16)
        except ValueError:
            return ()
        return (unmix64(suffix) ^ self._salt, suffix)

    def album_lookup(self) -> AlbumLookup:
        """Every album by Jellyfin id, base year and title, built once on first use (O(albums), then kept)."""
        with self._lookup_lock:
            if self._lookup is None:
                lookup = AlbumLookup({}, {}, {})
                for j in range(self.album_count):
                    a = self._make_album(j)  # not the LRU: a full pass would only evict the hot albums
                    lookup.by_id[a.jellyfin_id] = j
                    lookup.by_year.setdefault(a.year, []).append(j)
                    lookup.by_title.setdefault(a.title, []).append(j)
                self._lookup = lookup
            return self._lookup

    # ---- ids ------------------------------------------------------------------------------------------
    def hex_id(self, what: str, index: int) -> str:
        """A 32-hex GUID-like id (Jellyfin style), stable for (seed, what, index)."""
        return hashlib.md5(f"{self.seed}:{what}:{index}".encode(), usedforsecurity=False).hexdigest()

    def _h(self, what: int, index: int) -> int:
        return mix64(self._salt ^ mix64((what << 40) ^ index))

    # ---- artists and albums ---------------------------------------------------------------------------
    def _make_artist(self, k: int) -> DemoArtist:
        if not 0 <= k < self.artist_count:
            raise IndexError(k)
        h = self._h(1, k)
        names = words.ARTIST_NAMES
        name = names[h % len(names)]
        if (h >> 8) % 3:  # make names (nearly) unique while keeping the nasty ones intact
            name = f"{name} {k}" if (h >> 10) % 2 else f"{words.FIRST_NAMES[(h >> 12) % 12]} {name} {k}"
        lib = bisect_right(self._lib_first_artist, k) - 1
        added = _EPOCH0 + k * 2500 + (h >> 20) % 1000
        return DemoArtist(k, name, lib, str(PLEX_ARTIST_BASE + k), self.hex_id("artist", k), added)

    def _make_album(self, j: int) -> DemoAlbum:
        if not 0 <= j < self.album_count:
            raise IndexError(j)
        h = self._h(2, j)
        artist = self.artist(self._album_artist[j])
        tw = words.TITLE_WORDS
        if h % 100 < 6:
            title = words.LIVE_ALBUMS[(h >> 8) % len(words.LIVE_ALBUMS)]
        else:
            title = f"{tw[(h >> 8) % len(tw)]} {tw[(h >> 16) % len(tw)]}"
            title += words.ALBUM_SUFFIXES[(h >> 24) % len(words.ALBUM_SUFFIXES)]
        g = words.GENRES
        n_genres = 0 if (h >> 28) % 100 < 8 else 1 + (h >> 36) % 3
        genres = tuple(dict.fromkeys(g[(h >> (40 + 4 * n)) % len(g)] for n in range(n_genres)))
        year = None if (h >> 52) % 100 < 5 else 1950 + (h >> 44) % 80
        album_artist = None if (h >> 60) % 16 == 0 else artist.name
        first = self._album_start[j]
        count = self._album_start[j + 1] - first
        added = _EPOCH0 + j * 1700 + (h >> 32) % 900
        return DemoAlbum(
            j,
            title,
            artist.index,
            artist.name,
            album_artist,
            genres,
            year,
            added,
            artist.library,
            first,
            count,
            count >= 12 and (h >> 6) % 4 == 0,
            str(PLEX_ALBUM_BASE + j),
            self.hex_id("album", j),
            f"plex://album/{mix64(h):016x}{j:08x}",
            is_live(None, title),
        )

    # ---- tracks ---------------------------------------------------------------------------------------
    def track(self, i: int) -> DemoTrack:
        """Track ``i`` (global index, 0-based, ordered by library then album). Raises IndexError outside."""
        if not 0 <= i < self.tracks:
            raise IndexError(i)
        j = bisect_right(self._album_start, i) - 1
        album = self.album(j)
        h = self._h(3, i)
        h2 = mix64(h)
        tw = words.TITLE_WORDS
        roll = h % 100
        if roll < 3:
            title = words.DECOY_TITLES[(h >> 8) % len(words.DECOY_TITLES)]
        elif roll < 55:
            title = tw[(h >> 8) % len(tw)]
        else:
            title = f"{tw[(h >> 8) % len(tw)]} {tw[(h >> 16) % len(tw)]}"
        live_suffix = (h >> 24) % 100 < 5
        if live_suffix:  # the only way a track title becomes live (words and decoys never match the rule)
            title += words.LIVE_TRACK_SUFFIXES[(h >> 32) % len(words.LIVE_TRACK_SUFFIXES)]
        pos = i - album.first_track
        disc_no: int | None = 1
        track_no: int | None = pos + 1
        if album.double_disc and pos >= (album.track_count + 1) // 2:
            disc_no, track_no = 2, pos + 1 - (album.track_count + 1) // 2
        if (h >> 40) % 100 < 3:
            track_no = disc_no = None
        artist: str | None = album.album_artist
        if album.album_artist is None or (h >> 48) % 10 == 0:
            guest = words.ARTIST_NAMES[(h2 >> 8) % len(words.ARTIST_NAMES)]
            artist = guest if album.album_artist is None else f"{album.album_artist} feat. {guest}"
        rating = None if h2 % 3 else ((h2 >> 4) % 21) / 2
        duration = None if (h2 >> 12) % 50 == 0 else 60_000 + (h2 >> 20) % 540_000
        return DemoTrack(
            i,
            title,
            artist,
            album.title,
            album.album_artist,
            j,
            album.genres,
            album.year,
            rating,
            bool((h2 >> 2) & 1),
            duration,
            track_no,
            disc_no,
            album.added_at + pos * 7,
            album.library,
            str(PLEX_TRACK_BASE + i),
            f"{self._track_prefix}{mix64(self._salt ^ i):016x}",
            album.plex_id,
            album.jellyfin_id,
            f"plex://track/{h2:016x}{i:08x}",
            album.is_live or (live_suffix and is_live(title)),
        )

    def remote_id(self, item: DemoTrack | DemoAlbum | DemoArtist) -> str:
        """The id the server of this library's kind uses for the item."""
        return item.plex_id if self.kind == "plex" else item.jellyfin_id

    # ---- users ------------------------------------------------------------------------------------------
    def _make_users(self, extra: int) -> list[DemoUser]:
        out = [
            DemoUser(
                0,
                "admin",
                "admin@example.com",
                PLEX_OWNER_ID,
                self.hex_id("user", 0),
                True,
                False,
                False,
                None,
            )
        ]
        names = words.USER_NAMES
        for n in range(1, extra + 1):
            base = names[(n - 1) % len(names)]
            username = base if n <= len(names) else f"{base}{n}"
            email = None if n % 3 == 0 else f"user{n}@example.com"
            restricted = (self.library_key(0),) if n % 3 == 1 and self.libraries > 1 else None
            out.append(
                DemoUser(
                    n,
                    username,
                    email,
                    PLEX_USER_BASE + n,
                    self.hex_id("user", n),
                    False,
                    n % 4 == 0,
                    email is None,
                    restricted,
                )
            )
        return out
