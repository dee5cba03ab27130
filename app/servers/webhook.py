"""The webhook notification channel: one JSON POST per notification, in a format the receiver understands.

Formats (setting ``webhook_format``):
- ``json``: ``{"app": "Zondarr", "kind", "title", "text", "time"}`` (``time``: UTC, ISO 8601) for anything that
  takes a JSON body (Home Assistant, n8n, a script);
- ``ntfy``: ntfy's JSON publishing: the URL names the topic (``https://ntfy.sh/my-topic``); the body
  ``{"topic", "title", "message", "tags"}`` is posted to the server's root, as ntfy expects;
- ``discord``: a Discord channel webhook URL; the body ``{"username": "Zondarr", "content"}`` (content cut to
  Discord's 2,000 characters).

The URL may itself be the secret (a Discord webhook token, an ntfy topic), so it lives in the keychain and never
appears in a message, log line or error event. The request goes through the app's ``GuardedSession`` (overall
deadline ``webhook_timeout_s``, TLS per the settings), follows no redirect (a body never goes to another place
than the admin named) and sends no cookies or environment credentials.

``send`` BLOCKS (up to the timeout): call it through ``Runner.net``. It raises ``ServerUnreachable`` (no answer,
timeout) or ``ServerError`` (a refusal), named "webhook".
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from app.core.errors import ServerError, ServerUnreachable
from app.core.settings import Settings, check_webhook_url
from app.servers.transport import GuardedSession, TransportFailure

SERVICE = "webhook"
DISCORD_LIMIT = 2000
_TAGS = {
    "incident": "warning",
    "sync": "arrows_counterclockwise",
    "redemption": "tada",
    "expiring": "hourglass",
}


def webhook_request(
    fmt: str, url: str, kind: str, title: str, text: str, now: float
) -> tuple[str, dict[str, Any]]:
    """(the URL to post to, the JSON body) of one notification in format ``fmt``."""
    if fmt == "ntfy":
        parts = urlsplit(url)
        topic = parts.path.strip("/").rpartition("/")[2]
        root = urlunsplit(parts._replace(path="/", query="", fragment=""))
        body: dict[str, Any] = {"topic": topic, "title": title, "message": text}
        if kind in _TAGS:
            body["tags"] = [_TAGS[kind]]
        return root, body
    if fmt == "discord":
        content = f"**{title}**\n{text}"
        if len(content) > DISCORD_LIMIT:
            content = content[: DISCORD_LIMIT - 1] + "…"
        return url, {"username": "Zondarr", "content": content}
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    return url, {"app": "Zondarr", "kind": kind, "title": title, "text": text, "time": stamp}


class WebhookChannel:
    """Posts notifications to one webhook URL. One instance per send is fine (no state besides the session)."""

    name = SERVICE

    def __init__(self, url: str, settings: Settings) -> None:
        self._url = check_webhook_url(url)
        self._format = settings.webhook_format
        self._settings = dataclasses.replace(settings, request_timeout_s=settings.webhook_timeout_s)

    def send(self, kind: str, title: str, text: str) -> None:
        """Posts one notification. BLOCKS; raises ServerUnreachable or ServerError (see the module docstring)."""
        target, body = webhook_request(self._format, self._url, kind, title, text, time.time())
        with GuardedSession(self._settings) as session:
            try:
                response = session.post(target, json=body, allow_redirects=False)
            except (requests.RequestException, TransportFailure) as exc:
                raise ServerUnreachable(
                    SERVICE,
                    "The webhook did not answer.",
                    detail=type(exc).__name__,  # the exception's text may hold the URL, which may be a secret
                    remedy="Check the webhook address and that its service is up; the notification was not sent.",
                ) from None
        if not 200 <= response.status_code < 300:
            raise ServerError(
                SERVICE,
                f"The webhook refused the notification (HTTP {response.status_code}).",
                remedy="Check the webhook address and its format in Settings → Notifications.",
                detail=f"status {response.status_code}, format {self._format}",
            )
