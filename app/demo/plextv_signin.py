"""The demo plex.tv's sign-in side (SERVER-PROTOCOLS.md "Signing in and finding servers"): PINs and the
account's resources.

* ``POST /api/v2/pins[?strong=true]`` (needs ``X-Plex-Client-Identifier``) → 201 ``{"id", "code",
  "clientIdentifier", "expiresIn": 900, "expiresAt", "authToken": null, ...}`` (JSON, or XML without
  ``Accept: application/json``).
* ``GET /api/v2/pins/{id}`` with the same client identifier, else 404 "Code not found or expired" (also once
  expired). ``authToken`` is set once the PIN is approved: by the control endpoint ``POST
  /zondarr-demo/plex-pin`` ``{"code": ..., "action": "approve"|"expire"}`` (loopback, server token), or by
  itself after ``approve_after_polls`` polls when that is set (demo mode).
* ``GET /api/v2/resources`` (account or server token) → this server (owned) with a dead local connection, the
  working address as a remote one and a relay; a shared server of a friend; a player that is not a server.

The approved account token is not the server's token: the resource's ``accessToken`` is (what a client must
store). Thread-safe: state changes hold ``ctx.lock``.
"""

from __future__ import annotations

import json
import secrets
import string
import time
from dataclasses import dataclass
from html import escape

from app.demo.context import PLEX_VERSION, DemoContext
from app.demo.control import is_loopback
from app.demo.transport import Reply, Request

PIN_CONTROL_PATH = "/zondarr-demo/plex-pin"
PIN_LIFETIME_S = 900
ACCOUNT_TOKEN = "demo-plex-account-token"  # what an approved PIN carries (the account's token)
DEAD_ADDRESS = "127.0.0.1:9"  # the discard port: nothing listens there on a test machine
FRIEND_MACHINE_ID = "f" * 40


def _x(text: str) -> str:
    return escape(text, quote=True)


@dataclass
class DemoPin:
    id: int
    code: str
    client_id: str
    expires_at: float
    token: str | None = None
    polls: int = 0


def _json(status: int, data: object) -> Reply:
    return Reply(status, json.dumps(data).encode(), "application/json; charset=utf-8")


def _not_found() -> Reply:
    return _json(404, {"errors": [{"code": 1020, "message": "Code not found or expired", "status": 404}]})


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class PlexTvSignIn:
    def __init__(self, ctx: DemoContext, approve_after_polls: int = 0) -> None:
        self.ctx = ctx
        self.approve_after_polls = approve_after_polls  # 0 = only the control endpoint approves
        self._pins: dict[int, DemoPin] = {}
        self._next_id = 1000

    def accepts(self, token: str | None) -> bool:
        return token in (self.ctx.token, ACCOUNT_TOKEN)

    # ---- pins ---------------------------------------------------------------------------------------------
    def create_pin(self, request: Request) -> Reply:
        client_id = request.headers.get("x-plex-client-identifier", "")
        if not client_id:
            return _json(400, {"errors": [{"code": 1000, "message": "X-Plex-Client-Identifier is missing"}]})
        strong = request.query.get("strong", "").lower() in ("1", "true")
        alphabet = (
            string.ascii_lowercase + string.digits if strong else string.ascii_uppercase + string.digits
        )
        code = "".join(secrets.choice(alphabet) for _ in range(25 if strong else 4))
        with self.ctx.lock:
            self._next_id += 1
            pin = DemoPin(self._next_id, code, client_id, time.time() + PIN_LIFETIME_S)
            self._pins[pin.id] = pin
            return self._pin_reply(pin, request, 201)

    def poll_pin(self, pin_id: str, request: Request) -> Reply:
        client_id = request.headers.get("x-plex-client-identifier", "")
        with self.ctx.lock:
            pin = self._pins.get(int(pin_id)) if pin_id.isdigit() else None
            if pin is None or pin.client_id != client_id or time.time() >= pin.expires_at:
                return _not_found()
            pin.polls += 1
            if pin.token is None and self.approve_after_polls and pin.polls >= self.approve_after_polls:
                pin.token = ACCOUNT_TOKEN
            return self._pin_reply(pin, request, 200)

    def _pin_reply(self, pin: DemoPin, request: Request, status: int) -> Reply:
        data = {
            "id": pin.id,
            "code": pin.code,
            "product": "Zondarr",
            "trusted": False,
            "qr": "",
            "clientIdentifier": pin.client_id,
            "location": {"code": "US", "country": "United States"},
            "expiresIn": max(0, int(pin.expires_at - time.time())),
            "createdAt": _iso(pin.expires_at - PIN_LIFETIME_S),
            "expiresAt": _iso(pin.expires_at),
            "authToken": pin.token,
            "newRegistration": None,
        }
        if "json" in request.headers.get("accept", ""):
            return _json(status, data)
        attrs = " ".join(
            f'{k}="{_x("" if v is None else str(v))}"' for k, v in data.items() if k != "location"
        )
        return Reply(
            status, f'<?xml version="1.0" encoding="UTF-8"?>\n<pin {attrs}/>'.encode(), "application/xml"
        )

    def control(self, request: Request) -> Reply:
        """``{"code": ..., "action": "approve"|"expire"}``: what the user does in the browser, or time passing."""
        if request.method != "POST" or not is_loopback(request.client):
            return _json(403, {"error": "the control endpoint answers loopback POSTs only"})
        try:
            body = json.loads(request.body or b"{}")
            code, action = str(body["code"]), str(body.get("action", "approve"))
        except (ValueError, KeyError, TypeError):
            return _json(400, {"error": "expected {code, action}"})
        with self.ctx.lock:
            pin = next((p for p in self._pins.values() if p.code == code), None)
            if pin is None or action not in ("approve", "expire"):
                return _json(404, {"error": "no such code or action"})
            if action == "approve":
                pin.token = ACCOUNT_TOKEN
            else:
                pin.expires_at = time.time() - 1
            return _json(200, {"id": pin.id})

    # ---- resources ----------------------------------------------------------------------------------------
    def resources(self) -> Reply:
        ctx = self.ctx
        port = ctx.port
        conns = (
            _connection("http", DEAD_ADDRESS, local=True)
            + _connection(ctx.scheme, f"{ctx.host}:{port}", local=False)
            + _connection(ctx.scheme, f"localhost:{port}", local=False, relay=True)
            + "".join(
                _connection(
                    uri.split("://", 1)[0],
                    uri.split("://", 1)[1],
                    local=where == "local",
                    relay=where == "relay",
                )
                for where, uri in ctx.extra_connections
            )
        )
        owned = _resource(ctx.name, ctx.machine_id, ctx.token, owned=True, connections=conns)
        friend = _resource(
            "Friend's Plex",
            FRIEND_MACHINE_ID,
            "demo-friend-server-token",
            owned=False,
            connections=_connection("http", DEAD_ADDRESS, local=False),
        )
        player = (
            '<resource name="Living Room TV" product="Plex for Android (TV)" provides="client,player" '
            'clientIdentifier="tv-1" owned="1" accessToken="" presence="1"><connections/></resource>\n'
        )
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<resources size="3">\n{friend}{player}{owned}</resources>'
        return Reply(200, body.encode(), "application/xml")


def _connection(protocol: str, address: str, *, local: bool, relay: bool = False) -> str:
    host, _, port = address.rpartition(":")
    return (
        f'<connection protocol="{protocol}" address="{host}" port="{port}" uri="{protocol}://{address}" '
        f'local="{int(local)}" relay="{int(relay)}" IPv6="0"/>\n'
    )


def _resource(name: str, machine_id: str, token: str, *, owned: bool, connections: str) -> str:
    return (
        f'<resource name="{_x(name)}" product="Plex Media Server" productVersion="{PLEX_VERSION}" platform="Linux" '
        f'platformVersion="12" device="PC" clientIdentifier="{machine_id}" createdAt="2020-01-01T00:00:00Z" '
        f'lastSeenAt="2026-01-01T00:00:00Z" provides="server" ownerId="{0 if owned else 4242}" '
        f'sourceTitle="{"" if owned else "friend"}" publicAddress="203.0.113.7" accessToken="{_x(token)}" '
        f'owned="{int(owned)}" home="0" synced="0" relay="1" presence="1" httpsRequired="0" '
        f'publicAddressMatches="1" dnsRebindingProtection="0" natLoopbackSupported="0">\n'
        f"<connections>\n{connections}</connections>\n</resource>\n"
    )
