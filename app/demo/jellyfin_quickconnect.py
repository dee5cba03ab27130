"""Quick Connect on the demo Jellyfin, as Jellyfin 10.8+ answers it (QuickConnectController/QuickConnectManager):

* ``GET /QuickConnect/Enabled`` → ``true|false``;
* ``POST /QuickConnect/Initiate`` (no token; the MediaBrowser header names the device) → the request with its
  ``Secret`` and 6-digit ``Code``; 401 while Quick Connect is off;
* ``GET /QuickConnect/Connect?secret=`` → the request, ``Authenticated`` once approved; 404 when unknown or older
  than ``ttl_s`` (10 minutes on real servers);
* ``POST /QuickConnect/Authorize?code=&userId=`` (signed in) → ``true``; approves the device as ``userId``
  (default: the caller); approving for someone else needs an administrator (403), an unknown code is 404;
* ``POST /Users/AuthenticateWithQuickConnect {"Secret"}`` → a new access token for the approved user (401
  before approval).

State lives here under the demo context's lock; ``JellyfinApp`` routes to it. Stdlib only.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

_HEADER_FIELD = re.compile(r'(?i)\b(client|device|deviceid|version)\s*=\s*"([^"]*)"')


@dataclass
class QuickConnectRequest:
    secret: str
    code: str
    device_id: str
    device_name: str
    app_name: str
    app_version: str
    created_at: float
    user_id: str | None = None  # set when approved

    def to_json(self) -> dict[str, object]:
        return {
            "Secret": self.secret,
            "Authenticated": self.user_id is not None,
            "Code": self.code,
            "DeviceId": self.device_id,
            "DeviceName": self.device_name,
            "AppName": self.app_name,
            "AppVersion": self.app_version,
            "DateAdded": datetime.fromtimestamp(self.created_at, UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
        }


@dataclass
class QuickConnect:
    """The pending Quick Connect requests of one demo server."""

    lock: threading.RLock
    enabled: bool = True
    ttl_s: float = 600.0
    clock: Callable[[], float] = time.time
    requests: dict[str, QuickConnectRequest] = field(default_factory=dict)  # secret -> request

    def _live(self) -> list[QuickConnectRequest]:
        now = self.clock()
        for secret in [s for s, r in self.requests.items() if now - r.created_at > self.ttl_s]:
            del self.requests[secret]
        return list(self.requests.values())

    def initiate(self, authorization: str) -> QuickConnectRequest | None:
        """A new request for the device named in the MediaBrowser header; None while Quick Connect is off."""
        fields = {k.lower(): v for k, v in _HEADER_FIELD.findall(authorization)}
        with self.lock:
            if not self.enabled:
                return None
            taken = {r.code for r in self._live()}
            code = f"{secrets.randbelow(1_000_000):06d}"
            while code in taken:
                code = f"{secrets.randbelow(1_000_000):06d}"
            request = QuickConnectRequest(
                secret=secrets.token_hex(32),
                code=code,
                device_id=fields.get("deviceid", ""),
                device_name=fields.get("device", ""),
                app_name=fields.get("client", ""),
                app_version=fields.get("version", ""),
                created_at=self.clock(),
            )
            self.requests[request.secret] = request
            return request

    def by_secret(self, secret: str) -> QuickConnectRequest | None:
        with self.lock:
            return next((r for r in self._live() if r.secret == secret), None)

    def authorize(self, code: str, user_id: str) -> bool:
        """Approves the live request with ``code`` as ``user_id``; False when there is none."""
        with self.lock:
            request = next((r for r in self._live() if r.code == code and r.user_id is None), None)
            if request is None:
                return False
            request.user_id = user_id
            return True

    def redeem(self, secret: str) -> QuickConnectRequest | None:
        """The approved request for ``secret``, removed (a secret signs in once); None otherwise."""
        with self.lock:
            request = next((r for r in self._live() if r.secret == secret and r.user_id is not None), None)
            if request is not None:
                del self.requests[secret]
            return request
