"""A tiny scriptable HTTP server on 127.0.0.1 for adapter tests: routes return a Reply (status, headers,
body, optional drip/stall), and every request is recorded (method, path, query, headers)."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import quoteattr

from app.core.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture_bytes(rel: str) -> bytes:
    return (FIXTURES / rel).read_bytes()


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drip_s: float | None = None  # send the body one byte per drip_s seconds
    stall_s: float = 0.0  # wait before sending anything


Route = Callable[[Request], Reply]


class FakeServer:
    """Serves ``route(request)``; ``requests`` lists what it received, in order."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.requests: list[Request] = []
        self._stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body segments wait for delayed ACKs (40 ms)

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                req = Request(
                    method=self.command,
                    path=parts.path,
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                outer.requests.append(req)
                reply = outer.route(req)
                if reply.stall_s:
                    outer._stop.wait(reply.stall_s)
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Type": "text/xml;charset=utf-8", **reply.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if reply.drip_s is None:
                        self.wfile.write(reply.body)
                        return
                    for i in range(len(reply.body)):
                        if outer._stop.wait(reply.drip_s):
                            return
                        self.wfile.write(reply.body[i : i + 1])
                        self.wfile.flush()
                except OSError:
                    self.close_connection = True

            do_GET = do_POST = do_DELETE = do_HEAD = _handle

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up (a capped body, a timeout) is what these tests do; only real bugs print."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


def fast_settings(**kw: object) -> Settings:
    values: dict[str, object] = {"connect_timeout_s": 2.0, "request_timeout_s": 5.0}
    values.update(kw)
    return Settings(**values)  # type: ignore[arg-type]


def elapsed(fn: Callable[[], object]) -> float:
    start = time.monotonic()
    fn()
    return time.monotonic() - start


# ---------------------------------------------------------------------------------------------------------
# A fake Plex Media Server (+ plex.tv) serving recorded fixtures and a generated music section.

PLEX_TOKEN = "plex-secret-token-0042"
PLEX_MACHINE = "unique_id_123"
XML = {"Content-Type": "text/xml;charset=utf-8"}
JSON = {"Content-Type": "application/json; charset=utf-8"}


def plex_track_attrs(n: int) -> dict[str, str]:
    """Attributes of the n-th generated track: Unicode, live versions, unrated ones, missing fields."""
    album = ["Blue Train", "Ünïcødé ☃ 東京", "Live at Wembley", "Alive & Well"][n % 4]
    attrs = {
        "ratingKey": str(1000 + n),
        "type": "track",
        "title": f"Song {n}" + (" (Live)" if n % 7 == 0 else ""),
        "grandparentTitle": f"Artist {n % 5}",
        "parentTitle": album,
        "parentRatingKey": str(500 + n % 4),
        "duration": str(180_000 + n),
        "index": str(n % 12 + 1),
        "parentIndex": "1",
        "addedAt": str(1_600_000_000 + n),
    }
    if n % 3:
        attrs["userRating"] = str(n % 11)
    if n % 4 == 1:
        attrs["originalTitle"] = f"Guest {n}"
    if n % 6 == 0:
        attrs["year"] = str(1960 + n % 60)
    return attrs


def plex_container(children: list[str], total: int, offset: int = 0, **attrs: str) -> bytes:
    extra = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer size="{len(children)}" totalSize="{total}" offset="{offset}"{extra}>'
    return (head + "".join(children) + "</MediaContainer>").encode("utf-8")


def element(tag: str, attrs: dict[str, str], genres: tuple[str, ...] = ()) -> str:
    inner = "".join(f"<Genre tag={quoteattr(g)}/>" for g in genres)
    return f"<{tag} " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items()) + f">{inner}</{tag}>"


class FakePlex:
    """Routes of a Plex server whose music section ``3`` holds ``n_tracks`` generated tracks."""

    def __init__(self, n_tracks: int = 0, token: str = PLEX_TOKEN, machine: str = PLEX_MACHINE) -> None:
        self.token = token
        self.machine = machine
        self.tracks = [element("Track", plex_track_attrs(n)) for n in range(n_tracks)]
        self.albums = [
            element(
                "Directory",
                {
                    "ratingKey": str(500 + i),
                    "type": "album",
                    "title": f"Album {i}",
                    "parentTitle": "Artist",
                    "year": "1999",
                },
                ("Jazz", "Bebop") if i % 2 == 0 else (),
            )
            for i in range(4)
        ]
        self.overrides: dict[str, Reply] = {}

    def page(self, req: Request, items: list[str]) -> Reply:
        start = int(req.headers.get("x-plex-container-start") or req.query.get("X-Plex-Container-Start") or 0)
        size_raw = req.headers.get("x-plex-container-size") or req.query.get("X-Plex-Container-Size")
        size = len(items) if size_raw is None else int(size_raw)
        return Reply(200, plex_container(items[start : start + size], len(items), start), XML)

    def __call__(self, req: Request) -> Reply:
        if req.path in self.overrides:
            return self.overrides[req.path]
        if req.headers.get("x-plex-token") != self.token:
            return Reply(401, b"<html><body>401 Unauthorized</body></html>", {"Content-Type": "text/html"})
        if req.path == "/":
            body = fixture_bytes("plex/ha-core/plex_server_base.xml").decode()
            body = body.replace("{name}", "Den Plex").replace("{machine_identifier}", self.machine)
            return Reply(200, body.encode(), XML)
        if req.path == "/library/sections":
            return Reply(200, fixture_bytes("plex/ha-core/library_sections.xml"), XML)
        if req.path == "/library/sections/3/all":
            return self.page(req, self.albums if req.query.get("type") == "9" else self.tracks)
        if req.path == "/api/v2/user":
            body = fixture_bytes("plex/ha-core/plextv_account.xml").replace(b"faketoken", self.token.encode())
            return Reply(200, body, XML)
        if req.path == "/api/users/":
            return Reply(200, fixture_bytes("plex/ha-core/plextv_shared_users.xml"), XML)
        if req.path == f"/api/servers/{self.machine}/shared_servers":
            body = (
                '<MediaContainer><SharedServer userID="1000"><Section key="3" shared="1"/><Section key="1" shared="0"/>'
                '</SharedServer><SharedServer userID="1001"><Section key="1" shared="1"/></SharedServer></MediaContainer>'
            )
            return Reply(200, body.encode(), XML)
        return Reply(404, b"<html>404</html>", {"Content-Type": "text/html"})


# ---------------------------------------------------------------------------------------------------------
# A fake Jellyfin server: public info, API key / password auth, virtual folders, Items, Users.

JF_KEY = "jellyfin-secret-key-0042"
JF_ACCESS = "jellyfin-access-token-77"
JF_USER = "user-id-0001"
JF_PASSWORD = "correct horse battery"
JF_SERVER_ID = "jf-server-1"


def jf_tracks(n: int) -> list[dict[str, object]]:
    recorded = [
        json.loads(fixture_bytes(f"jellyfin/music-assistant-tests/{f}.json"))
        for f in ("tracks_thrown_away", "tracks_where_the_bands_are", "tracks_zombie_christmas")
    ]
    out: list[dict[str, object]] = []
    for i in range(n):
        item = dict(recorded[i % 3])
        item["Id"] = f"jf-{i:05d}"
        if i % 2:
            item["Genres"] = ["Rock", "Ünïcødé"]
            item["DateCreated"] = "2023-12-11T12:10:40.7607527Z"
            item["CommunityRating"] = 7.5
        out.append(item)
    return out


class FakeJellyfin:
    """Routes of a Jellyfin server with one music library (``lib-music``) of ``n_tracks`` audio items."""

    def __init__(self, n_tracks: int = 0) -> None:
        self.tracks = jf_tracks(n_tracks)
        self.overrides: dict[str, Reply] = {}
        self.date = True

    def _json(self, data: object, status: int = 200) -> Reply:
        headers = dict(JSON)
        if self.date:
            headers["Date"] = "Mon, 01 Jan 2024 00:00:00 GMT"
        return Reply(status, json.dumps(data).encode(), headers)

    def __call__(self, req: Request) -> Reply:
        path = req.path.lower()
        if path in self.overrides:
            return self.overrides[path]
        public = {
            "ServerName": "Attic Jellyfin",
            "Id": JF_SERVER_ID,
            "Version": "10.10.7",
            "LocalAddress": "",
        }
        if path == "/system/info/public":
            return self._json(public)
        if path == "/users/authenticatebyname" and req.method == "POST":
            body = json.loads(req.body or b"{}")
            if body.get("username") == "admin" and body.get("Pw") == JF_PASSWORD:
                return self._json(
                    {
                        "AccessToken": JF_ACCESS,
                        "ServerId": JF_SERVER_ID,
                        "User": {"Id": JF_USER, "Name": "admin"},
                    }
                )
            return self._json({"error": "bad"}, 401)
        auth = req.headers.get("authorization", "")
        if f'Token="{JF_KEY}"' not in auth and f'Token="{JF_ACCESS}"' not in auth:
            return self._json({"error": "unauthorized"}, 401)
        if path == "/system/info":
            return self._json({**public, "OperatingSystem": "Linux"})
        if path == "/library/virtualfolders":
            return self._json(
                [
                    {"Name": "Movies", "CollectionType": "movies", "ItemId": "lib-movies", "Locations": []},
                    {"Name": "Music", "CollectionType": "music", "ItemId": "lib-music", "Locations": []},
                ]
            )
        if path == "/items":
            items = self.tracks if req.query.get("IncludeItemTypes") == "Audio" else []
            start = int(req.query.get("StartIndex", 0))
            limit = int(req.query.get("Limit", len(items)))
            return self._json(
                {"Items": items[start : start + limit], "TotalRecordCount": len(items), "StartIndex": start}
            )
        if path == "/users":
            return self._json(
                [
                    {
                        "Id": JF_USER,
                        "Name": "admin",
                        "Policy": {
                            "IsAdministrator": True,
                            "IsDisabled": False,
                            "EnableAllFolders": True,
                            "EnabledFolders": [],
                        },
                    },
                    {
                        "Id": "u2",
                        "Name": "kid",
                        "Policy": {
                            "IsAdministrator": False,
                            "IsDisabled": True,
                            "EnableAllFolders": False,
                            "EnabledFolders": ["lib-music"],
                        },
                    },
                ]
            )
        return self._json({"error": "not found"}, 404)
