from __future__ import annotations

import pytest

from app.core.errors import ConfigurationError
from app.core.settings import Settings


def test_env_beats_stored_beats_default() -> None:
    s = Settings.load({"page_size": "200", "retries": "1"}, {"ZONDARR_RETRIES": "5"})
    assert s.page_size == 200 and s.retries == 5 and s.request_timeout_s == 30.0


@pytest.mark.parametrize(
    ("stored", "env", "name"),
    [
        ({"page_size": "many"}, {}, "page_size"),
        ({}, {"ZONDARR_PAGE_SIZE": "1"}, "page_size"),
        ({}, {"ZONDARR_VERIFY_TLS": "maybe"}, "verify_tls"),
        ({"plex_tv_url": "ftp://x"}, {}, "plex_tv_url"),
        ({}, {"ZONDARR_REQUEST_TIMEOUT_S": "-3"}, "request_timeout_s"),
        ({"theme": "purple"}, {}, "theme"),
        ({"webhook_format": "slack"}, {}, "webhook_format"),
        ({"webhook_timeout_s": "600"}, {}, "webhook_timeout_s"),
    ],
)
def test_bad_values_are_refused_by_name(stored: dict[str, str], env: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings.load(stored, env)
    assert name in info.value.user_message


def test_round_trip_and_unknown_keys_ignored() -> None:
    s = Settings(page_size=123, verify_tls=False)
    assert Settings.load({**s.to_raw(), "from_the_future": "1"}, {}) == s


def test_expiry_and_reminder_settings_are_validated() -> None:
    from app.core.settings import reminder_days

    s = Settings.load({"expiry_action": "disable-then-delete", "expiry_reminder_days": "1, 7,7"}, {})
    assert s.expiry_action == "disable-then-delete"
    assert reminder_days(s.expiry_reminder_days) == (7, 1)
    assert reminder_days("") == ()
    for bad in ({"expiry_action": "explode"}, {"expiry_reminder_days": "7,0"}, {"delete_after_days": "-1"}):
        with pytest.raises(ConfigurationError):
            Settings.load(bad, {})


def test_word_settings_are_normalised_and_the_old_theme_word_still_works() -> None:
    s = Settings.load({"theme": " Dark ", "webhook_format": "NTFY"}, {})
    assert (s.theme, s.webhook_format) == ("dark", "ntfy")
    assert Settings.load({}, {"ZONDARR_THEME": "auto"}).theme == "system"
    assert Settings().close_to_tray and not Settings().start_at_login
