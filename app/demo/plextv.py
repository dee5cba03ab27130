"""The plex.tv endpoints plexapi's MyPlexAccount uses, served by the demo Plex server itself (the app points
its plex.tv base URL at the demo): account, sign-in, users, server sections, shares and pending invites.

Shares live in memory (``DemoContext.shares``) and change under ``ctx.lock``. Handler threads call ``route``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from html import escape
from urllib.parse import parse_qsl

from app.demo.context import PLEX_VERSION, DemoContext, PlexShare
from app.demo.control import is_loopback
from app.demo.library import DemoUser
from app.demo.plextv_signin import PlexTvSignIn
from app.demo.transport import Reply, Request, Routed

INVITES_PATH = "/zondarr-demo/invites"  # tests and demo mode accept or decline pending invites here

_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_SECTION_ID_BASE = 500_000  # plex.tv-wide section ids differ from PMS section keys


def _x(text: str) -> str:
    return escape(text, quote=True)


def _xml(body: str, status: int = 200) -> Reply:
    return Reply(status, _HEAD + body.encode("utf-8"), "application/xml;charset=utf-8")


class PlexTv:
    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.signin = PlexTvSignIn(ctx, ctx.pin_approve_after_polls)

    def _container(self, inner: str, size: int) -> str:
        return (
            f'<MediaContainer friendlyName="myPlex" identifier="com.plexapp.plugins.myplex" '
            f'machineIdentifier="{self.ctx.machine_id}" totalSize="{size}" size="{size}">\n{inner}</MediaContainer>'
        )

    def route(self, request: Request) -> Routed:
        ctx = self.ctx
        path, method = request.path.rstrip("/") or "/", request.method
        token = request.headers.get("x-plex-token") or request.query.get("X-Plex-Token")
        ok = token == ctx.token
        missing = Routed(
            lambda e, i: _xml("<errors><error code='1000' message='Not found' status='404'/></errors>", 404),
            authorized=ok,
        )
        signin = self.signin
        if path == "/api/v2/pins" and method == "POST":
            return Routed(lambda e, i: signin.create_pin(request))
        if path.startswith("/api/v2/pins/") and method == "GET":
            return Routed(lambda e, i: signin.poll_pin(path.rsplit("/", 1)[1], request))
        if path == "/api/v2/resources" and method == "GET":
            return Routed(lambda e, i: signin.resources(), "resources", None, False, signin.accepts(token))
        if path == "/api/v2/user" and method == "GET":
            return Routed(lambda e, i: self._account(token), authorized=signin.accepts(token))
        if path == "/api/v2/users/signin" and method == "POST":
            return Routed(lambda e, i: self._signin(request.body), "login")
        if path == "/api/users" and method == "GET":
            return Routed(lambda empty, i: self._users(empty), "users", None, False, ok)
        if path in ("/api/invites/requested", "/api/invites/requests") and method == "GET":
            sent = path.endswith("requested")
            return Routed(lambda empty, i: self._invites(sent and not empty), authorized=ok)
        parts = path.split("/")  # ['', 'api', 'servers', MID, 'shared_servers', ID]
        if path.startswith("/api/v2/sharings/") and method == "DELETE":
            return Routed(lambda e, i: self._remove_friend(parts[-1]), authorized=ok)
        if path.startswith("/api/v2/sharings/") and method == "PUT":
            return Routed(lambda e, i: self._sharing_settings(parts[-1], request.query), authorized=ok)
        if len(parts) == 6 and parts[2] == "servers" and parts[4] == "shared_servers":
            if parts[3] != ctx.machine_id:
                return missing
            if method == "PUT":
                return Routed(lambda e, i: self._update_share(parts[5], request.body), authorized=ok)
            if method == "DELETE":
                return Routed(lambda e, i: self._delete_share(parts[5]), authorized=ok)
        if len(parts) in (4, 5) and parts[2] == "servers":
            if parts[3] != ctx.machine_id:
                return missing
            if len(parts) == 4 and method == "GET":
                return Routed(lambda e, i: self._server(), authorized=ok)
            if len(parts) == 5 and parts[4] == "shared_servers":
                if method == "GET":
                    return Routed(lambda e, i: self._shared_servers(None), authorized=ok)
                if method == "POST":
                    return Routed(lambda e, i: self._invite(request.body), authorized=ok)
        return missing

    def _account(self, token: str | None = None) -> Reply:
        owner = self.ctx.users[0]
        return _xml(
            f'<user id="{owner.plex_id}" uuid="{self.ctx.library.hex_id("owner-uuid", 0)[:16]}" username="{_x(owner.username)}" '
            f'title="{_x(owner.username)}" email="{_x(owner.email or "")}" friendlyName="{_x(owner.username)}" locale="" '
            f'confirmed="{int(self.ctx.account_confirmed)}" joinedAt="1500000000" emailOnlyAuth="0" hasPassword="1" protected="0" '
            f'thumb="https://plex.tv/users/{owner.plex_id}/avatar" authToken="{_x(token or self.ctx.token)}" '
            f'mailingListStatus="unsubscribed" mailingListActive="0" scrobbleTypes="" country="US" '
            f'subscriptionDescription="" restricted="0" anonymous="" home="1" guest="0" homeSize="{len(self.ctx.users)}" '
            f'homeAdmin="1" maxHomeSize="15" rememberExpiresAt="2000000000" adsConsent="" adsConsentSetAt="" '
            f'adsConsentReminderAt="" experimentalFeatures="0" twoFactorEnabled="0" backupCodesCreated="0">\n'
            f'  <subscription active="1" subscribedAt="2020-01-01 00:00:00 UTC" status="Active" paymentService="" '
            f'plan="lifetime">\n    <features>\n      <feature id="sync"/>\n    </features>\n  </subscription>\n'
            f'  <profile autoSelectAudio="1" defaultAudioLanguage="en" defaultSubtitleLanguage="en" autoSelectSubtitle="0" '
            f'defaultSubtitleAccessibility="0" defaultSubtitleForced="0"/>\n'
            f'  <entitlements>\n    <entitlement id="all"/>\n  </entitlements>\n  <roles>\n    <role id="plexpass"/>\n'
            f"  </roles>\n  <subscriptions>\n  </subscriptions>\n  <services>\n  </services>\n</user>"
        )

    def _signin(self, body: bytes) -> Reply:
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        owner = self.ctx.users[0]
        if form.get("login") in (owner.username, owner.email) and form.get("password") == self.ctx.password:
            reply = self._account()
            reply.status = 201
            return reply
        return _xml(
            '<errors><error code="1001" message="User could not be authenticated" status="401"/></errors>',
            401,
        )

    def invite_control(self, request: Request) -> Reply:
        """``POST /zondarr-demo/invites {"op": "accept"|"decline", "who": email or username}``: what the invitee
        does with the e-mail from Plex (loopback callers holding the token). Accepting makes a pending share a friend's."""
        if request.method != "POST" or not is_loopback(request.client):
            return Reply(403, b'{"error": "loopback POSTs only"}', "application/json")
        try:
            body = json.loads(request.body or b"{}")
            op, who = str(body["op"]), str(body["who"]).strip().lower()
        except (ValueError, KeyError, TypeError):
            return Reply(400, b'{"error": "bad body"}', "application/json")
        ctx = self.ctx
        with ctx.lock:
            share = next(
                (s for s in ctx.shares if s.pending and who in (s.email.lower(), s.username.lower())), None
            )
            if share is None or op not in ("accept", "decline"):
                return Reply(404, b'{"error": "no pending invite"}', "application/json")
            if op == "decline":
                ctx.shares.remove(share)
            else:
                name = share.username or share.email.split("@")[0]
                if not any(u.plex_id == share.user_id for u in ctx.users):
                    index = max(u.index for u in ctx.users) + 1
                    hex_id = ctx.library.hex_id("accepted-user", index)
                    ctx.users.append(
                        DemoUser(
                            index, name, share.email or None, share.user_id, hex_id, False, False, False, None
                        )
                    )
                ctx.shares[ctx.shares.index(share)] = dataclasses.replace(share, pending=False, username=name)
        return Reply(200, json.dumps({"user_id": share.user_id}).encode(), "application/json")

    def _users(self, empty: bool) -> Reply:
        ctx = self.ctx
        with ctx.lock:
            shares = {s.user_id: s for s in ctx.shares if not s.pending}
            users = [] if empty else [u for u in ctx.users[1:] if u.plex_id not in ctx.removed_friends]
        rows = []
        for u in users:
            s = shares.get(u.plex_id)
            server = "" if s is None else self._user_server_xml(s)
            rows.append(
                f'<User id="{u.plex_id}" title="{_x(u.username)}" username="{_x(u.username if u.email else "")}" '
                f'email="{_x(u.email or "")}" recommendationsPlaylistId="" thumb="https://plex.tv/users/{u.plex_id}/avatar" '
                f'protected="0" home="{int(u.home)}" allowTuners="0" allowSync="{int(s is None or s.allow_sync)}" allowCameraUpload="0" '
                f'allowChannels="0" allowSubtitleAdmin="0" filterAll="" filterMovies="" filterMusic="" '
                f'filterPhotos="" filterTelevision="" restricted="{int(u.home)}">\n{server}</User>\n'
            )
        return _xml(self._container("".join(rows), len(rows)))

    def _user_server_xml(self, s: PlexShare) -> str:
        ctx = self.ctx
        return (
            f'  <Server id="{s.id}" serverId="{self._server_id()}" machineIdentifier="{ctx.machine_id}" '
            f'name="{_x(ctx.name)}" lastSeenAt="{int(ctx.last_active(s.username, s.id))}" numLibraries="{len(s.section_keys)}" '
            f'allLibraries="{int(s.all_libraries)}" owned="0" pending="0"/>\n'
        )

    def _server_id(self) -> int:
        return 9000 + self.ctx.library.seed % 1000

    def _sections_xml(self, shared: tuple[str, ...] | None) -> str:
        secs = [("1", "movie", "Movies")] + [
            (k, "artist", t) for k, t, _ in self.ctx.library.music_libraries()
        ]
        out = []
        for key, kind, title in secs:
            flag = "" if shared is None else f' shared="{int(key in shared)}"'
            out.append(
                f'<Section id="{_SECTION_ID_BASE + int(key)}" key="{key}" type="{kind}" title="{_x(title)}"{flag}/>\n'
            )
        return "".join(out)

    def _server(self) -> Reply:
        ctx = self.ctx
        inner = (
            f'<Server accessToken="{_x(ctx.token)}" name="{_x(ctx.name)}" address="{ctx.host}" port="{ctx.port}" '
            f'version="{PLEX_VERSION}" scheme="http" host="{ctx.host}" localAddresses="{ctx.host}" '
            f'machineIdentifier="{ctx.machine_id}" createdAt="1600000000" updatedAt="1700000000" owned="1" synced="0">\n'
            f"{self._sections_xml(None)}</Server>\n"
        )
        return _xml(self._container(inner, 1))

    def _share_xml(self, s: PlexShare) -> str:
        accepted = 0 if s.pending else s.invited_at + 3600
        return (
            f'<SharedServer id="{s.id}" username="{_x(s.username)}" email="{_x(s.email)}" userID="{s.user_id}" '
            f'accessToken="demo-share-{s.id}" name="{_x(self.ctx.name)}" acceptedAt="{accepted}" invitedAt="{s.invited_at}" '
            f'allowSync="{int(s.allow_sync)}" allowCameraUpload="0" allowChannels="0" allowTuners="0" allowSubtitleAdmin="0" owned="0" '
            f'allLibraries="{int(s.all_libraries)}" filterAll="" filterMovies="" filterMusic="" filterPhotos="" '
            f'filterTelevision="">\n{self._sections_xml(s.section_keys)}</SharedServer>\n'
        )

    def _shared_servers(self, only: PlexShare | None) -> Reply:
        with self.ctx.lock:
            shares = [only] if only else list(self.ctx.shares)
            body = "".join(self._share_xml(s) for s in shares)
        return _xml(self._container(body, len(shares)))

    def _section_ids(self, raw: object) -> dict[int, str] | None:
        """plex.tv section ids -> PMS keys for a ``library_section_ids`` list; None when one is unknown."""
        keys = {_SECTION_ID_BASE + int(k): k for k, _, _ in self.ctx.library.music_libraries()}
        keys[_SECTION_ID_BASE + 1] = "1"  # the Movies section can be shared too
        try:
            ids = [int(x) for x in raw or []]  # type: ignore[attr-defined]
        except (TypeError, ValueError):
            return None
        return None if any(i not in keys for i in ids) else {i: keys[i] for i in ids}

    def _invite(self, body: bytes) -> Reply:
        """POST shared_servers: ``{"shared_server": {"library_section_ids": [...], "invited_email": ...}}``
        (a new share, pending until accepted) or ``"invited_id"`` (an existing friend: shared at once)."""
        try:
            data = json.loads(body or b"{}")
            shared = data["shared_server"]
            chosen = self._section_ids(shared.get("library_section_ids"))
            invited_id = str(shared.get("invited_id") or "").strip()
            who = str(shared.get("invited_email") or invited_id).strip()
            allow_sync = str((data.get("sharing_settings") or {}).get("allowSync") or "0") == "1"
        except (ValueError, KeyError, TypeError, AttributeError):
            return _xml('<errors><error code="1002" message="Invalid request" status="400"/></errors>', 400)
        if not who or chosen is None:
            return _xml(
                '<errors><error code="1002" message="Invalid email or library" status="400"/></errors>', 400
            )
        all_keys = tuple(k for k, _, _ in self.ctx.library.music_libraries())
        with self.ctx.lock:
            existing = [s for s in self.ctx.shares if who in (s.email, s.username, str(s.user_id))]
            if existing:
                return _xml(
                    '<errors><error code="1003" message="Already shared" status="422"/></errors>', 422
                )
            friend = next(
                (
                    u
                    for u in self.ctx.users[1:]
                    if who.lower() in (u.username.lower(), (u.email or "").lower(), str(u.plex_id))
                ),
                None,
            )
            if invited_id and (friend is None or friend.plex_id in self.ctx.removed_friends):
                return _xml(
                    '<errors><error code="1001" message="User not found" status="404"/></errors>', 404
                )
            share_id = self.ctx.last_share_id = (
                max([s.id for s in self.ctx.shares] + [self.ctx.last_share_id]) + 1
            )
            # plex.tv keeps one id per invited address, however often it is invited
            user_id = (
                friend.plex_id
                if friend
                else self.ctx.invitee_ids.setdefault(who.lower(), 7_000_000 + share_id)
            )
            username = friend.username if friend else ("" if "@" in who else who)
            email = (friend.email or "") if friend else (who if "@" in who else "")
            section_keys = tuple(chosen.values()) or all_keys
            share = PlexShare(
                share_id,
                user_id,
                username,
                email,
                section_keys,
                not chosen,
                not invited_id,
                int(time.time()),
                allow_sync,
            )
            self.ctx.shares.append(share)
        return self._shared_servers(share)

    def _find_share(self, share_id: str) -> PlexShare | None:
        return next((s for s in self.ctx.shares if str(s.id) == share_id), None)

    def _update_share(self, share_id: str, body: bytes) -> Reply:
        """PUT shared_servers/{id} (updateFriend): replaces the shared sections."""
        try:
            chosen = self._section_ids(json.loads(body or b"{}")["shared_server"].get("library_section_ids"))
        except (ValueError, KeyError, TypeError, AttributeError):
            chosen = None
        if not chosen:
            return _xml('<errors><error code="1002" message="Invalid request" status="400"/></errors>', 400)
        with self.ctx.lock:
            share = self._find_share(share_id)
            if share is None:
                return _xml('<errors><error code="1000" message="Not found" status="404"/></errors>', 404)
            share.section_keys = tuple(chosen.values())
            share.all_libraries = False
        return self._shared_servers(share)

    def _sharing_settings(self, user_id: str, query: dict[str, str]) -> Reply:
        """PUT /api/v2/sharings/{userId}?allowSync=0|1 (updateFriend's settings): every share of that friend."""
        with self.ctx.lock:
            shares = [s for s in self.ctx.shares if str(s.user_id) == user_id]
            if not shares:
                return _xml('<errors><error code="1000" message="Not found" status="404"/></errors>', 404)
            if "allowSync" in query:
                for share in shares:
                    share.allow_sync = query["allowSync"] == "1"
        return Reply(200, b"", "text/plain")

    def _delete_share(self, share_id: str) -> Reply:
        """DELETE shared_servers/{id} (updateFriend removeSections): the user loses this server."""
        with self.ctx.lock:
            share = self._find_share(share_id)
            if share is None:
                return _xml('<errors><error code="1000" message="Not found" status="404"/></errors>', 404)
            self.ctx.shares.remove(share)
        return Reply(200, b"", "text/plain")

    def _remove_friend(self, user_id: str) -> Reply:
        """DELETE /api/v2/sharings/{userId} (removeFriend): no longer a friend, every share of theirs is gone."""
        with self.ctx.lock:
            known = [u for u in self.ctx.users[1:] if str(u.plex_id) == user_id]
            shared = [s for s in self.ctx.shares if str(s.user_id) == user_id]
            if not known and not shared:
                return Reply(
                    404, b'{"errors":[{"code":1001,"message":"User not found"}]}', "application/json"
                )
            self.ctx.shares = [s for s in self.ctx.shares if str(s.user_id) != user_id]
            self.ctx.removed_friends.update(u.plex_id for u in known)
        return Reply(204, b"", "text/plain")

    def _invites(self, sent: bool) -> Reply:
        with self.ctx.lock:
            pending = [s for s in self.ctx.shares if s.pending] if sent else []
        rows = "".join(
            f'<Invite id="{s.id}" createdAt="{s.invited_at}" friend="1" home="0" server="1" username="" '
            f'email="{_x(s.email)}" thumb="" friendlyName="{_x(s.email)}">\n'
            f'<Server name="{_x(self.ctx.name)}" numLibraries="{len(s.section_keys)}"/>\n</Invite>\n'
            for s in pending
        )
        return _xml(self._container(rows, len(pending)))
