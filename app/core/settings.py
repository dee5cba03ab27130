"""Typed settings: defaults, overridden by values stored in the cache, overridden by ``ZONDARR_*`` variables.

Validated at load: a bad value is refused with a ConfigurationError naming the setting and where it came from.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from urllib.parse import urlsplit

from app.core.errors import ConfigurationError, ValidationError

_BOUNDS: dict[str, tuple[float, float]] = {
    "page_size": (10, 5000),
    "connect_timeout_s": (0.1, 120),
    "request_timeout_s": (0.5, 600),
    "retries": (0, 10),
    "retry_backoff_s": (0, 60),
    "stale_after_h": (0.01, 24 * 365),
    "invite_expiry_interval_s": (10, 7 * 86400),
    "user_sync_interval_s": (10, 7 * 86400),
    "heartbeat_interval_s": (5, 86400),
    "delete_after_days": (0, 3650),
    "pending_invite_days": (1, 3650),
    "smtp_port": (1, 65535),
    "smtp_timeout_s": (1, 120),
    "webhook_timeout_s": (1, 60),
    "backup_keep": (1, 365),
    "max_response_mb": (1, 4096),
    "max_removal_pct": (0, 100),
    "full_sync_days": (0, 365),
}
_ALIASES = {"theme": {"auto": "system"}}  # ZONDARR_THEME=auto predates the setting

EXPIRY_ACTIONS = ("disable", "disable-then-delete")
DEFAULT_REMINDER_TEMPLATE = (
    "Hello {name},\n\nyour access to {server} ends on {date}.\n{note}\n"
    "Reply to this message if you would like to keep it."
)

# Settings that take one of a few words (the first is the default).
CHOICES: dict[str, tuple[str, ...]] = {
    "theme": ("system", "light", "dark"),
    "webhook_format": ("json", "ntfy", "discord"),
    "expiry_action": EXPIRY_ACTIONS,
}


@dataclass(frozen=True, slots=True)
class Settings:
    page_size: int = 500  # items per page request
    connect_timeout_s: float = 5.0
    request_timeout_s: float = 30.0  # overall deadline of one request, body included
    retries: int = 3  # extra attempts per page after the first
    retry_backoff_s: float = 0.5  # first backoff; doubles per attempt
    stale_after_h: float = 24.0  # a cache older than this is refreshed at start
    verify_tls: bool = True
    plex_tv_url: str = "https://plex.tv"
    invite_expiry_interval_s: int = 3600
    user_sync_interval_s: int = 900
    heartbeat_interval_s: int = 60
    # people over time: what the expire-accounts task does when an account's expiry date has come
    expiry_action: str = "disable"  # disable | disable-then-delete
    delete_after_days: int = 30  # grace period between disabling and deleting (disable-then-delete)
    pending_invite_days: int = 30  # Plex invitations pending longer are offered for cancelling
    auto_delete_expired: bool = False  # False: deletions wait for the admin's confirmation
    expiry_reminder_days: str = "7,1"  # days before expiry at which reminders go out ("" = none)
    reminder_template: str = DEFAULT_REMINDER_TEMPLATE  # {name} {server} {date} {note}
    # outbound e-mail (the password is in the secret store under core.ports.MAIL_PASSWORD_REF)
    smtp_host: str = ""  # empty = e-mail is off
    smtp_port: int = 587
    smtp_starttls: bool = True  # port 465 always uses implicit TLS
    smtp_user: str = ""
    smtp_from: str = ""
    smtp_timeout_s: float = 15.0
    # Desktop: the tray, start at login, the look, and who is told what (desktop notifications per kind;
    # an optional webhook whose secret part, if any, is in its URL and so kept in the keychain, not here).
    close_to_tray: bool = True  # closing the window keeps Zondarr running in the tray (where a tray exists)
    start_at_login: bool = False
    theme: str = "system"
    notify_incidents: bool = True
    notify_sync_problems: bool = True  # a sync failed or was held
    notify_redemptions: bool = True
    notify_expiring_accounts: bool = True
    webhook_format: str = "json"
    webhook_timeout_s: float = 10.0
    notify_email_to: str = (
        ""  # the admin's address for e-mail notifications ("" = none; uses the smtp_* settings)
    )
    # Who Zondarr says it is to Plex/plex.tv and Jellyfin: a UUID generated once per cache (storage creates it on
    # first open); empty only for settings built without a cache (tests), where a per-process UUID is used.
    client_identifier: str = ""
    plex_auth_url: str = "https://app.plex.tv/auth"  # the browser page of the plex.tv PIN sign-in
    discovery_address: str = "255.255.255.255:7359"  # where the Jellyfin LAN discovery datagram goes
    backup_keep: int = 7  # cache copies kept in the data folder's backups/ (daily, before migrations)
    max_response_mb: int = 64  # largest answer read from a server, counted after decompression
    # a complete listing that would remove more than this share of a library's tracks (or of a server's users)
    # is held for the admin's decision (DESIGN §4.6)
    max_removal_pct: float = 50.0
    # A refresh asks only for what changed; a complete listing follows after this many days (0 = always).
    full_sync_days: float = 7.0

    @classmethod
    def load(
        cls, stored: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Defaults < ``stored`` (the cache's settings table) < ``ZONDARR_<NAME>`` environment variables.

        Raises ConfigurationError naming the first bad value. Unknown stored keys are ignored (a newer version
        may have written them); unknown ``ZONDARR_*`` variables are ignored too (``ZONDARR_DATA_DIR`` etc.).
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            env_name = f"ZONDARR_{f.name.upper()}"
            for origin, raw in (
                ("the stored setting", (stored or {}).get(f.name)),
                (env_name, env.get(env_name)),
            ):
                if raw is not None:
                    values[f.name] = _convert(f.name, f.type, raw, origin)
        return cls(**values)  # type: ignore[arg-type]

    def to_raw(self) -> dict[str, str]:
        return {k: str(v) for k, v in dataclasses.asdict(self).items()}


def _convert(name: str, type_name: object, raw: str, origin: str) -> object:
    def bad(why: str) -> ConfigurationError:
        return ConfigurationError(
            f"Setting {name} has a bad value {raw!r} (from {origin}): {why}.",
            remedy=f"Fix or remove {origin} and start again.",
        )

    text = raw.strip()
    value: object
    if type_name in ("int", int):
        try:
            value = int(text)
        except ValueError:
            raise bad("expected a whole number") from None
    elif type_name in ("float", float):
        try:
            value = float(text)
        except ValueError:
            raise bad("expected a number") from None
    elif type_name in ("bool", bool):
        if text.lower() in ("1", "true", "yes", "on"):
            value = True
        elif text.lower() in ("0", "false", "no", "off"):
            value = False
        else:
            raise bad("expected true or false")
    else:
        value = text
    if name in _BOUNDS:
        lo, hi = _BOUNDS[name]
        if isinstance(value, int | float) and not lo <= value <= hi:
            raise bad(f"must be between {lo:g} and {hi:g}")
    if name == "expiry_action" and value not in EXPIRY_ACTIONS:
        raise bad(f"expected one of {', '.join(EXPIRY_ACTIONS)}")
    if name == "expiry_reminder_days":
        try:
            reminder_days(text)
        except ValueError as exc:
            raise bad(str(exc)) from None
    if name == "notify_email_to" and text and (text.count("@") != 1 or any(c.isspace() for c in text)):
        raise bad("expected one e-mail address")
    if name in CHOICES:
        value = _ALIASES.get(name, {}).get(text.lower(), text.lower())
        if value not in CHOICES[name]:
            raise bad(f"expected one of {', '.join(CHOICES[name])}")
    if name == "discovery_address":
        host, _, port = text.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise bad("expected host:port, like 255.255.255.255:7359")
    if name in ("plex_tv_url", "plex_auth_url"):
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise bad("expected an http(s) URL")
        value = text.rstrip("/")
    return value


def reminder_days(text: str) -> tuple[int, ...]:
    """``"7,1"`` → ``(7, 1)``: distinct whole days 1..365, largest first. Raises ValueError saying why."""
    out: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 365:
            raise ValueError("expected whole days between 1 and 365, separated by commas")
        out.add(int(part))
    return tuple(sorted(out, reverse=True))


def check_webhook_url(url: str) -> str:
    """The URL, trimmed; raises ValidationError (without echoing the URL, it may be a secret) when it is not an
    http(s) URL with a host."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValidationError(
            "The webhook address is not a web address.",
            remedy="Paste the whole address, starting with https://.",
        )
    return text
