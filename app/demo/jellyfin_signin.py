"""The demo Jellyfin's sign-in side (SERVER-PROTOCOLS.md "Jellyfin: finding servers on the network" and "Quick
Connect (10.8+) and API keys"):

* LAN discovery: a UDP socket of its own answering the datagram ``who is JellyfinServer?`` with
  ``{"Address", "Id", "Name", "EndpointAddress": null}`` (unicast back to the sender).
* Quick Connect (served by ``jellyfin_quickconnect``): approval from a test by the control endpoint ``POST /zondarr-demo/quick-connect {"code", "action": "approve"|"expire"}`` (loopback, admin;
  code ``*`` approves every pending request) as the server's first user (the administrator).
* API keys: ``POST /Auth/Keys?app=NAME`` (204), ``GET /Auth/Keys``, ``DELETE /Auth/Keys/{key}`` (administrators).

Thread-safe: state changes hold ``ctx.lock``; the UDP responder runs on its own daemon thread.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass

from app.demo.context import DemoContext
from app.demo.control import is_loopback
from app.demo.jellyfin_items import iso
from app.demo.jellyfin_quickconnect import QuickConnect
from app.demo.transport import Reply, Request

QC_CONTROL_PATH = "/zondarr-demo/quick-connect"
DISCOVERY_MESSAGE = b"who is JellyfinServer?"
_JSON = "application/json; charset=utf-8"


def jreply(data: object, status: int = 200) -> Reply:
    return Reply(status, json.dumps(data, separators=(",", ":")).encode("utf-8"), _JSON)


def problem(status: int, title: str, detail: str | None = None) -> Reply:
    """An ASP.NET ProblemDetails body, as Jellyfin sends for 4xx answers."""
    section = {400: "15.5.1", 403: "15.5.4", 404: "15.5.5", 405: "15.5.6"}.get(status, "15.5.1")
    body: dict[str, object] = {
        "type": f"https://tools.ietf.org/html/rfc9110#section-{section}",
        "title": title,
        "status": status,
        "traceId": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00",
    }
    if detail:
        body["detail"] = detail
    return Reply(status, json.dumps(body).encode(), "application/problem+json; charset=utf-8")


@dataclass
class IssuedKey:
    app: str
    created: float


class JellyfinSignIn:
    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.approve_after_polls = (
            0  # demo mode: a Quick Connect request approves itself after this many polls
        )
        self._polls: dict[str, int] = {}
        self.keys: dict[str, IssuedKey] = {}

    # ---- Quick Connect control (the requests themselves: app.demo.jellyfin_quickconnect) ---------------
    def control(self, request: Request, qc: QuickConnect) -> Reply:
        """``{"code", "action": "approve"|"expire"}``: the administrator approving a code in the dashboard, or
        time passing; code ``*`` approves every pending request (tests that cannot see the code)."""
        if request.method != "POST" or not is_loopback(request.client):
            return jreply({"error": "the control endpoint answers loopback POSTs only"}, 403)
        try:
            body = json.loads(request.body or b"{}")
            code, action = str(body["code"]), str(body.get("action", "approve"))
        except (ValueError, KeyError, TypeError):
            return jreply({"error": "expected {code, action}"}, 400)
        admin = self.ctx.users[0].jellyfin_id
        with qc.lock:
            live = [r for r in qc.requests.values() if qc.clock() - r.created_at <= qc.ttl_s]
            chosen = [r for r in live if code in ("*", r.code) and r.user_id is None]
            if action == "approve" and (chosen or code == "*"):
                for r in chosen:
                    qc.authorize(r.code, admin)
                return jreply(len(chosen))
            if action == "expire" and chosen:
                for r in chosen:
                    r.created_at -= qc.ttl_s + 1
                return jreply(len(chosen))
        return jreply({"error": "no such pending code or action"}, 404)

    def count_poll(self, secret: str, qc: QuickConnect) -> None:
        """Demo mode: the administrator "approves" a request by itself once it was polled often enough."""
        if not self.approve_after_polls:
            return
        with qc.lock:
            self._polls[secret] = self._polls.get(secret, 0) + 1
            request = qc.requests.get(secret)
            if (
                request is not None
                and request.user_id is None
                and self._polls[secret] >= self.approve_after_polls
            ):
                qc.authorize(request.code, self.ctx.users[0].jellyfin_id)

    # ---- API keys ---------------------------------------------------------------------------------------
    def create_key(self, app: str) -> Reply:
        if not app.strip():
            return problem(400, "Bad Request", "app is required")
        with self.ctx.lock:
            self.keys[secrets.token_hex(16)] = IssuedKey(app.strip(), time.time())
        return Reply(204, b"", _JSON)

    def list_keys(self) -> Reply:
        with self.ctx.lock:
            items = [
                {
                    "Id": n + 1,
                    "AccessToken": key,
                    "DeviceId": "",
                    "AppName": k.app,
                    "AppVersion": "",
                    "DeviceName": "",
                    "UserId": "00000000000000000000000000000000",
                    "IsActive": True,
                    "DateCreated": iso(int(k.created)),
                    "DateRevoked": None,
                    "DateLastActivity": iso(int(k.created)),
                    "UserName": None,
                }
                for n, (key, k) in enumerate(self.keys.items())
            ]
        return jreply({"Items": items, "TotalRecordCount": len(items), "StartIndex": 0})

    def revoke_key(self, key: str) -> Reply:
        with self.ctx.lock:
            found = next((k for k in self.keys if k.lower() == key.lower()), None)
            if found is not None:
                del self.keys[found]
        return Reply(204, b"", _JSON)  # Jellyfin answers 204 for an unknown key too

    def is_key(self, token: str) -> bool:
        with self.ctx.lock:
            return token in self.keys


class DiscoveryResponder:
    """Answers ``who is JellyfinServer?`` on a UDP port of its own (``port`` 0 = a free one)."""

    def __init__(self, ctx: DemoContext, host: str, port: int = 0) -> None:
        self.ctx = ctx
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="demo-jellyfin-discovery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, sender = self._sock.recvfrom(1024)
            except (TimeoutError, OSError):
                continue
            if data.strip() != DISCOVERY_MESSAGE:
                continue  # a real server ignores anything else
            answer = {
                "Address": self.ctx.url,
                "Id": self.ctx.identity(self.ctx.identity_changed()),
                "Name": self.ctx.name,
                "EndpointAddress": None,
            }
            try:
                self._sock.sendto(json.dumps(answer).encode(), sender)
            except OSError:
                continue

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._sock.close()
