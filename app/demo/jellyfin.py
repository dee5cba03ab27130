"""The demo Jellyfin server: the JSON endpoints jellyfin-apiclient-python uses (SERVER-PROTOCOLS.md, Jellyfin
a-d), with case-insensitive routes, query keys and body keys like ASP.NET. Every reply carries ``Date`` (added by
the transport). Auth as Jellyfin 10.11 with legacy authorization off (its default): only
``Authorization: MediaBrowser ... Token="..."`` or the ``ApiKey`` query parameter, holding the API key, a key made
by ``POST /Auth/Keys`` or a token issued by a sign-in; ``X-Emby-Token``, ``X-MediaBrowser-Token``,
``X-Emby-Authorization``, ``api_key=`` and the ``Emby`` scheme are refused (401). Roles as the OpenAPI document
marks them: a non-administrator gets 403 on library folders, user management and API keys. Errors carry the
bodies a real server sends (ProblemDetails JSON for 4xx; empty for 401). Handler threads call ``route``; state changes hold ``ctx.lock``.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from app.demo import control
from app.demo.context import JELLYFIN_VERSION, DemoContext
from app.demo.jellyfin_filters import parse_track_filters, select_tracks
from app.demo.jellyfin_items import ItemRenderer, iso, slice_ranges
from app.demo.jellyfin_quickconnect import QuickConnectRequest
from app.demo.jellyfin_signin import QC_CONTROL_PATH, JellyfinSignIn, problem
from app.demo.library import DemoUser
from app.demo.transport import Reply, Request, Routed, page_index

_TOKEN = re.compile(r'(?i)\btoken\s*=\s*"?([^",\s]*)"?')
_JSON = "application/json; charset=utf-8"
_AUTH_PROVIDER = "Jellyfin.Server.Implementations.Users.DefaultAuthenticationProvider"
_RESET_PROVIDER = "Jellyfin.Server.Implementations.Users.DefaultPasswordResetProvider"


def jreply(data: object, status: int = 200) -> Reply:
    return Reply(status, json.dumps(data, separators=(",", ":")).encode("utf-8"), _JSON)


def _json_body(body: bytes) -> dict[str, object] | None:
    """A JSON object body with lower-cased keys (ASP.NET binds case-insensitively), or None."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return None
    return {str(k).lower(): v for k, v in data.items()} if isinstance(data, dict) else None


class JellyfinApp:
    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.lib = ctx.library
        self.items = ItemRenderer(ctx.library, ctx.edits)
        self.movies_id = self.lib.hex_id("library-movies", 0)
        self.quick_connect = ctx.quick_connect
        self.signin = JellyfinSignIn(ctx)

    # ---- transport hooks --------------------------------------------------------------------------------
    def error_reply(self, status: int) -> Reply:
        if status == 401:
            return Reply(401, b"", "text/plain")  # the authentication handler's challenge has no body
        if status >= 500:
            return Reply(status, b"Error processing request.", "text/plain; charset=utf-8")
        titles = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed"}
        return problem(status, titles.get(status, "Error"))

    def malformed_body(self) -> bytes:
        return b'{"Items":[{"Id":"0f0f","Name":"Trunc\xff\xfe<html>not json'

    # ---- auth -------------------------------------------------------------------------------------------
    def caller(self, request: Request, query: dict[str, str]) -> tuple[bool, str | None]:
        """(authorised, user id or None for an API key). Only the non-legacy forms count (module docstring)."""
        header = request.headers.get("authorization", "")
        token = None
        if header[:13].lower() == "mediabrowser ":
            m = _TOKEN.search(header)
            token = m.group(1) if m and m.group(1) else None
        token = token or query.get("apikey")
        if not token:
            return False, None
        if token == self.ctx.token or self.signin.is_key(token):
            return True, None
        with self.ctx.lock:
            user_id = self.ctx.issued_tokens.get(token)
        return user_id is not None, user_id

    def is_admin(self, user_id: str | None) -> bool:
        """API keys act as an administrator; a user token as its user's policy says."""
        if user_id is None:
            return True
        u = self._find(user_id)
        return u is not None and bool(self._policy(u).get("IsAdministrator"))

    # ---- routing ----------------------------------------------------------------------------------------
    def route(self, request: Request) -> Routed:
        path = request.path.lower().rstrip("/") or "/"
        q = {k.lower(): v for k, v in request.query.items()}
        method = request.method
        ok, user_id = self.caller(request, q)
        parts = path.split("/")[1:]
        sid: Callable[[bool], str] = self.ctx.identity
        if path == control.PATH:
            return Routed(lambda e, i: control.handle(self.ctx, request), authorized=ok)
        elevated = ok and self.is_admin(user_id)
        forbidden = Routed(lambda e, i: self.error_reply(403), authorized=ok)
        signin = self.signin
        if path == QC_CONTROL_PATH:
            return Routed(lambda e, i: signin.control(request, self.quick_connect), authorized=elevated)
        if path == "/auth/keys" or path.startswith("/auth/keys/"):
            if ok and not elevated:
                return forbidden
            if path == "/auth/keys" and method == "POST":
                return Routed(lambda e, i: signin.create_key(q.get("app", "")), authorized=ok)
            if path == "/auth/keys" and method == "GET":
                return Routed(lambda e, i: signin.list_keys(), authorized=ok)
            if len(parts) == 3 and method == "DELETE":
                key = request.path.rstrip("/").rsplit("/", 1)[1]
                return Routed(lambda e, i: signin.revoke_key(key), authorized=ok)
        admin_only = (
            path in ("/library/virtualfolders", "/library/mediafolders", "/users/new")
            or (parts[0] == "users" and len(parts) == 3 and parts[2] == "policy")
            or (parts[0] == "users" and len(parts) == 2 and method == "DELETE")
        )
        if admin_only and ok and not elevated:
            return forbidden
        if path == "/system/info/public" and method == "GET":
            return Routed(lambda e, ch: jreply(self._public_info(sid(ch))), "identity", None, True)
        if path == "/system/ping":
            return Routed(lambda e, i: jreply("Jellyfin Server"))
        if path == "/system/info" and method == "GET":
            return Routed(lambda e, ch: jreply(self._system_info(sid(ch))), "identity", None, True, ok)
        if path == "/users/authenticatebyname" and method == "POST":
            return Routed(lambda e, i: self._login(request.body), "login")
        if path == "/quickconnect/connect":
            signin.count_poll(q.get("secret", ""), self.quick_connect)
        if path.startswith("/quickconnect/") or path == "/users/authenticatewithquickconnect":
            return self._quick_connect_route(path, method, request, q, ok, user_id)
        if path == "/users/public":
            return Routed(lambda e, i: jreply([]))
        if path in ("/library/virtualfolders", "/library/mediafolders", "/userviews") and method == "GET":
            return Routed(
                lambda empty, i: self._libraries(path, empty, q.get("userid") or user_id),
                "libraries",
                None,
                False,
                ok,
            )
        if path == "/items" and method == "GET":
            return self._items_route(q, q.get("userid") or user_id, ok)
        if path == "/sessions":
            return Routed(lambda e, i: jreply([]), authorized=ok)
        if parts[0] == "users" and method == "GET" and len(parts) <= 2:
            target = user_id if parts[-1] == "me" else (parts[1] if len(parts) == 2 else None)
            return Routed(lambda empty, i: self._users_get(target, empty), "users", None, False, ok)
        if parts[0] == "users" and len(parts) == 3 and parts[2] == "items" and method == "GET":
            return self._items_route(q, parts[1], ok)
        if parts[0] == "users" and len(parts) == 3 and parts[2] == "views" and method == "GET":
            return Routed(
                lambda empty, i: self._libraries("/userviews", empty, parts[1]), "libraries", None, False, ok
            )
        if path == "/users/new" and method == "POST":
            return Routed(lambda e, i: self._new_user(request.body), "users", None, False, ok)
        if parts[0] == "users" and len(parts) == 3 and parts[2] == "policy" and method == "POST":
            return Routed(lambda e, i: self._set_policy(parts[1], request.body), "users", None, False, ok)
        if parts[0] == "users" and len(parts) == 2 and method == "DELETE":
            return Routed(lambda e, i: self._delete_user(parts[1]), "users", None, False, ok)
        return Routed(lambda e, i: self.error_reply(404), authorized=ok)

    # ---- system -----------------------------------------------------------------------------------------
    def _public_info(self, server_id: str) -> dict[str, object]:
        return {
            "LocalAddress": self.ctx.url,
            "ServerName": self.ctx.name,
            "Version": JELLYFIN_VERSION,
            "ProductName": "Jellyfin Server",
            "OperatingSystem": "",
            "Id": server_id,
            "StartupWizardCompleted": True,
        }

    def _system_info(self, server_id: str) -> dict[str, object]:
        info = self._public_info(server_id)
        info.update(
            {
                "OperatingSystemDisplayName": "Linux",
                "PackageName": "zondarr-demo",
                "HasPendingRestart": False,
                "IsShuttingDown": False,
                "SupportsLibraryMonitor": True,
                "WebSocketPortNumber": self.ctx.port,
                "CompletedInstallations": [],
                "CanSelfRestart": False,
                "CanLaunchWebBrowser": False,
                "ProgramDataPath": "/var/lib/jellyfin",
                "WebPath": "/usr/share/jellyfin/web",
                "ItemsByNamePath": "/var/lib/jellyfin/metadata",
                "CachePath": "/var/cache/jellyfin",
                "LogPath": "/var/log/jellyfin",
                "InternalMetadataPath": "/var/lib/jellyfin/metadata",
                "TranscodingTempPath": "/var/lib/jellyfin/transcodes",
                "CastReceiverApplications": [],
                "HasUpdateAvailable": False,
                "EncoderLocation": "System",
                "SystemArchitecture": "X64",
            }
        )
        return info

    # ---- users ------------------------------------------------------------------------------------------
    def _find(self, user_id: str | None) -> DemoUser | None:
        return next((u for u in self.ctx.users if u.jellyfin_id == user_id), None)

    def _policy(self, u: DemoUser) -> dict[str, object]:
        with self.ctx.lock:
            stored = self.ctx.policies.get(u.jellyfin_id)
            if stored is not None:
                return dict(stored)
        folders = list(u.library_keys or ())
        return {
            "IsAdministrator": u.is_admin,
            "IsHidden": not u.is_admin,
            "EnableCollectionManagement": u.is_admin,
            "EnableSubtitleManagement": u.is_admin,
            "EnableLyricManagement": u.is_admin,
            "IsDisabled": u.is_disabled,
            "BlockedTags": [],
            "AllowedTags": [],
            "EnableUserPreferenceAccess": True,
            "AccessSchedules": [],
            "BlockUnratedItems": [],
            "EnableRemoteControlOfOtherUsers": u.is_admin,
            "EnableSharedDeviceControl": True,
            "EnableRemoteAccess": True,
            "EnableLiveTvManagement": u.is_admin,
            "EnableLiveTvAccess": True,
            "EnableMediaPlayback": True,
            "EnableAudioPlaybackTranscoding": True,
            "EnableVideoPlaybackTranscoding": True,
            "EnablePlaybackRemuxing": True,
            "ForceRemoteSourceTranscoding": False,
            "EnableContentDeletion": u.is_admin,
            "EnableContentDeletionFromFolders": [],
            "EnableContentDownloading": True,
            "EnableSyncTranscoding": True,
            "EnableMediaConversion": True,
            "EnabledDevices": [],
            "EnableAllDevices": True,
            "EnabledChannels": [],
            "EnableAllChannels": True,
            "EnabledFolders": folders,
            "EnableAllFolders": u.library_keys is None,
            "InvalidLoginAttemptCount": 0,
            "LoginAttemptsBeforeLockout": -1,
            "MaxActiveSessions": 0,
            "EnablePublicSharing": True,
            "BlockedMediaFolders": [],
            "BlockedChannels": [],
            "RemoteClientBitrateLimit": 0,
            "AuthenticationProviderId": _AUTH_PROVIDER,
            "PasswordResetProviderId": _RESET_PROVIDER,
            "SyncPlayAccess": "CreateAndJoinGroups",
        }

    def _user_dto(self, u: DemoUser, server_id: str | None = None) -> dict[str, object]:
        with self.ctx.lock:
            has_pw = bool(self.ctx.passwords.get(u.jellyfin_id))
        return {
            "Name": u.username,
            "ServerId": server_id or self.ctx.machine_id,
            "ServerName": self.ctx.name,
            "Id": u.jellyfin_id,
            "HasPassword": has_pw,
            "HasConfiguredPassword": has_pw,
            "HasConfiguredEasyPassword": False,
            "EnableAutoLogin": False,
            "LastLoginDate": iso(1_700_000_000 + u.index * 3600),
            "LastActivityDate": iso(int(self.ctx.last_active(u.username, u.index))),
            "Configuration": {
                "PlayDefaultAudioTrack": True,
                "SubtitleLanguagePreference": "",
                "DisplayMissingEpisodes": False,
                "GroupedFolders": [],
                "SubtitleMode": "Default",
                "DisplayCollectionsView": False,
                "EnableLocalPassword": False,
                "OrderedViews": [],
                "LatestItemsExcludes": [],
                "MyMediaExcludes": [],
                "HidePlayedInLatest": True,
                "RememberAudioSelections": True,
                "RememberSubtitleSelections": True,
                "EnableNextEpisodeAutoPlay": True,
            },
            "Policy": self._policy(u),
        }

    def _users_get(self, target: str | None, empty: bool) -> Reply:
        with self.ctx.lock:
            users = list(self.ctx.users)
        if target is None:
            return jreply([] if empty else [self._user_dto(u) for u in users])
        u = self._find(target)
        return self.error_reply(404) if u is None else jreply(self._user_dto(u))

    def _login(self, body: bytes) -> Reply:
        data = _json_body(body)
        if data is None:
            return self.error_reply(400)
        name, pw = str(data.get("username") or ""), str(data.get("pw") or "")
        with self.ctx.lock:
            u = next((x for x in self.ctx.users if x.username.lower() == name.lower()), None)
            good = u is not None and self.ctx.passwords.get(u.jellyfin_id, "") == pw
        if u is None or not good or self._policy(u)["IsDisabled"]:
            return self.error_reply(401)
        return jreply(self._auth_result(u))

    def _auth_result(self, u: DemoUser) -> dict[str, object]:
        """A new access token for ``u`` and the AuthenticationResult real servers send with it."""
        token = secrets.token_hex(16)
        with self.ctx.lock:
            self.ctx.issued_tokens[token] = u.jellyfin_id
        server_id = self.ctx.identity(self.ctx.identity_changed())
        session = {
            "Id": secrets.token_hex(16),
            "UserId": u.jellyfin_id,
            "UserName": u.username,
            "Client": "Zondarr",
            "DeviceName": "demo",
            "DeviceId": "demo",
            "ApplicationVersion": "1",
            "IsActive": True,
            "ServerId": server_id,
            "LastActivityDate": iso(1_700_000_000),
        }
        return {
            "User": self._user_dto(u, server_id),
            "SessionInfo": session,
            "AccessToken": token,
            "ServerId": server_id,
        }

    # ---- Quick Connect ----------------------------------------------------------------------------------
    def _quick_connect_route(
        self, path: str, method: str, request: Request, q: dict[str, str], ok: bool, user_id: str | None
    ) -> Routed:
        qc = self.quick_connect
        if path == "/quickconnect/enabled" and method == "GET":
            return Routed(lambda e, i: jreply(qc.enabled))
        if path == "/quickconnect/initiate" and method in ("POST", "GET"):
            auth = request.headers.get("authorization", "") or request.headers.get("x-emby-authorization", "")
            return Routed(lambda e, i: self._qc_reply(qc.initiate(auth), 401))
        if path == "/quickconnect/connect" and method == "GET":
            return Routed(lambda e, i: self._qc_reply(qc.by_secret(q.get("secret", "")), 404))
        if path == "/quickconnect/authorize" and method == "POST":
            return Routed(lambda e, i: self._qc_authorize(q, user_id), authorized=ok)
        if path == "/users/authenticatewithquickconnect" and method == "POST":
            return Routed(lambda e, i: self._qc_authenticate(request.body))
        return Routed(lambda e, i: self.error_reply(404), authorized=ok)

    def _qc_reply(self, request: QuickConnectRequest | None, missing: int) -> Reply:
        return self.error_reply(missing) if request is None else jreply(request.to_json())

    def _qc_authorize(self, q: dict[str, str], caller_id: str | None) -> Reply:
        target = q.get("userid") or caller_id
        caller = self._find(caller_id) if caller_id is not None else None
        is_admin = caller_id is None or (caller is not None and caller.is_admin)
        if target is None or self._find(target) is None:
            return self.error_reply(404)
        if target != caller_id and not is_admin:
            return self.error_reply(403)
        if not self.quick_connect.enabled:
            return self.error_reply(401)
        return (
            jreply(True) if self.quick_connect.authorize(q.get("code", ""), target) else self.error_reply(404)
        )

    def _qc_authenticate(self, body: bytes) -> Reply:
        data = _json_body(body) or {}
        request = self.quick_connect.redeem(str(data.get("secret") or ""))
        u = self._find(request.user_id) if request is not None else None
        if u is None:
            return self.error_reply(401)
        return jreply(self._auth_result(u))

    def _new_user(self, body: bytes) -> Reply:
        data = _json_body(body)
        name = str((data or {}).get("name") or "").strip()
        if not name:
            return self.error_reply(400)
        with self.ctx.lock:
            if any(u.username.lower() == name.lower() for u in self.ctx.users):
                return self.error_reply(400)
            index = max(u.index for u in self.ctx.users) + 1
            user = DemoUser(
                index, name, None, 0, self.lib.hex_id("new-user", index), False, False, False, None
            )
            self.ctx.users.append(user)
            self.ctx.passwords[user.jellyfin_id] = str((data or {}).get("password") or "")
        return jreply(self._user_dto(user))

    def _set_policy(self, user_id: str, body: bytes) -> Reply:
        raw = json.loads(body) if _json_body(body) is not None else None
        u = self._find(user_id)
        if u is None:
            return self.error_reply(404)
        if (
            not isinstance(raw, dict)
            or not raw.get("AuthenticationProviderId")
            or not raw.get("PasswordResetProviderId")
        ):
            return self.error_reply(400)  # real servers refuse a UserPolicy without the two provider ids
        folders = raw.get("EnabledFolders") or []
        keys = None if raw.get("EnableAllFolders", True) else tuple(str(f) for f in folders)
        new = dataclasses.replace(
            u,
            is_admin=bool(raw.get("IsAdministrator")),
            is_disabled=bool(raw.get("IsDisabled")),
            library_keys=keys,
        )
        with self.ctx.lock:
            self.ctx.users = [new if x.jellyfin_id == user_id else x for x in self.ctx.users]
            self.ctx.policies[user_id] = {**self._policy(u), **raw}
        return Reply(204, b"", _JSON)

    def _delete_user(self, user_id: str) -> Reply:
        with self.ctx.lock:
            u = self._find(user_id)
            if u is None or u.index == 0:
                return self.error_reply(404 if u is None else 400)
            self.ctx.users = [x for x in self.ctx.users if x.jellyfin_id != user_id]
            self.ctx.issued_tokens = {t: i for t, i in self.ctx.issued_tokens.items() if i != user_id}
        return Reply(204, b"", _JSON)

    # ---- libraries and items ----------------------------------------------------------------------------
    def _allowed(self, user_id: str | None) -> list[int] | None:
        """Library numbers the user may see (all for the API key); None when the user does not exist."""
        every = list(range(self.lib.libraries))
        if user_id is None:
            return every
        u = self._find(user_id)
        if u is None:
            return None
        policy = self._policy(u)
        if policy.get("EnableAllFolders", True):
            return every
        enabled = {str(f) for f in policy.get("EnabledFolders") or []}  # type: ignore[attr-defined]
        return [n for n in every if self.lib.library_key(n) in enabled]

    def _libraries(self, path: str, empty: bool, user_id: str | None) -> Reply:
        allowed = self._allowed(user_id)
        if allowed is None:
            return self.error_reply(404)
        sid = self.ctx.machine_id
        libs = [] if empty else [(self.lib.library_key(n), self.lib.library_title(n)) for n in allowed]
        if path == "/library/virtualfolders":
            folders: list[dict[str, object]] = [
                {
                    "Name": t,
                    "Locations": [f"/data/{t}"],
                    "CollectionType": "music",
                    "LibraryOptions": {"Enabled": True},
                    "ItemId": k,
                    "PrimaryImageItemId": k,
                    "RefreshStatus": "Idle",
                }
                for k, t in libs
            ]
            if not empty:
                folders.append(
                    {
                        "Name": "Movies",
                        "Locations": ["/data/Movies"],
                        "CollectionType": "movies",
                        "LibraryOptions": {"Enabled": True},
                        "ItemId": self.movies_id,
                        "RefreshStatus": "Idle",
                    }
                )
            return jreply(folders)
        items = [self.items.folder(k, t, "music", sid) for k, t in libs]
        if not empty:
            items.append(self.items.folder(self.movies_id, "Movies", "movies", sid))
        return jreply({"Items": items, "TotalRecordCount": len(items), "StartIndex": 0})

    def _items_route(self, q: dict[str, str], user_id: str | None, ok: bool) -> Routed:
        try:
            start = max(0, int(q.get("startindex") or 0))
            limit = None if q.get("limit") in (None, "") else max(0, int(q["limit"]))
        except ValueError:
            return Routed(lambda e, i: self.error_reply(400), authorized=ok)
        recursive = (q.get("recursive") or "false").lower() == "true"
        if not q.get("includeitemtypes") and not recursive and not q.get("parentid"):
            # The user's root: its library folders (what get_media_folders() asks for).
            return Routed(
                lambda empty, i: self._libraries("/userviews", empty, user_id), "libraries", None, False, ok
            )
        types = [t.strip().lower() for t in (q.get("includeitemtypes") or "audio").split(",")]
        kind = (
            "audio"
            if "audio" in types
            else "musicalbum"
            if "musicalbum" in types
            else "musicartist"
            if "musicartist" in types
            else ""
        )
        endpoint = {"audio": "tracks", "musicalbum": "albums"}.get(kind)
        page = page_index(start, limit) if endpoint else None
        return Routed(
            lambda empty, i: self._items(q, user_id, kind, start, limit, empty),
            endpoint,
            page,
            False,
            ok,
            lambda: self._items(q, user_id, kind, 0, limit, False),
        )

    @staticmethod
    def _changed(
        libs: list[int],
        since: dict[str, float],
        find: Callable[[list[int], str, float], list[int]],
        tracks: bool,
    ) -> list[int]:
        """Items matching every "changed since" filter. A track's save time also moves when its album is edited
        (its inherited genres and year change with it)."""
        found: set[int] | None = None
        for field, t in since.items():
            hits = set(find(libs, field, t))
            if tracks and field == "updated":
                hits |= set(find(libs, "album_updated", t))
            found = hits if found is None else found & hits
        return sorted(found or ())

    def _items(
        self, q: dict[str, str], user_id: str | None, kind: str, start: int, limit: int | None, empty: bool
    ) -> Reply:
        allowed = self._allowed(user_id)
        if allowed is None:
            return self.error_reply(404)
        parent = (q.get("parentid") or "").lower()
        if parent:
            n = self.lib.library_index(parent)
            if n is None and parent != self.movies_id:
                return self.error_reply(404)
            allowed = [n] if n is not None and n in allowed else []
        if empty or not kind:
            allowed = []
        since = _since(q)
        filters = parse_track_filters(q)
        if since is None or filters is None:
            return self.error_reply(400)
        edits = self.ctx.edits
        if kind == "audio" and filters.active:
            changed = self._changed(allowed, since, edits.changed_tracks, True) if since else None
            indices, total = select_tracks(edits, allowed, filters, changed, start, limit)
        elif kind == "audio" and since:
            every = self._changed(allowed, since, edits.changed_tracks, True)
            total, indices = len(every), every[start:] if limit is None else every[start : start + limit]
        elif kind == "audio":
            indices, total = edits.track_slice(allowed, start, limit)
        elif kind == "musicalbum" and since:
            every = self._changed(allowed, since, lambda ls, f, t: edits.changed_albums(ls, t), False)
            total, indices = len(every), every[start:] if limit is None else every[start : start + limit]
        else:
            span = self.lib.album_range if kind == "musicalbum" else self.lib.artist_range
            indices, total = slice_ranges([span(n) for n in allowed], start, limit)
        fields = frozenset(f.strip().lower() for f in (q.get("fields") or "").split(","))
        user_data = (q.get("enableuserdata") or "true").lower() != "false"
        sid = self.ctx.machine_id
        r = self.items
        if kind == "audio":
            parts = [r.track_json(edits.track(i), sid, fields, user_data) for i in indices]
        else:
            dicts = (
                [r.album(edits.album(j), sid, fields) for j in indices]
                if kind == "musicalbum"
                else [r.artist(self.lib.artist(k), sid, fields) for k in indices]
            )
            parts = [json.dumps(d, separators=(",", ":")) for d in dicts]
        if q.get("enabletotalrecordcount", "true").lower() == "false":
            total = len(parts)
        body = f'{{"Items":[{",".join(parts)}],"TotalRecordCount":{total},"StartIndex":{start}}}'
        return Reply(200, body.encode("utf-8"), _JSON)


def _since(q: dict[str, str]) -> dict[str, float] | None:
    """``MinDateLastSaved`` (metadata) and ``MinDateLastSavedForUser`` (user data: ratings) as epoch seconds by
    the demo's field names; None for a date that does not parse (ASP.NET answers 400)."""
    out: dict[str, float] = {}
    for name, field in (("mindatelastsaved", "updated"), ("mindatelastsavedforuser", "rated")):
        raw = q.get(name)
        if not raw:
            continue
        try:
            when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        out[field] = when.timestamp()
    return out
