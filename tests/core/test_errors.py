from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.core.errors import AuthFailed, ServerUnreachable, ZondarrError, redact, register_secret


def test_user_text_has_message_remedy_and_reference() -> None:
    err = AuthFailed("Home Plex")
    text = str(err)
    assert text.startswith("Home Plex: the server refused the credentials.")
    assert "Update the token" in text
    assert f"(ref {err.correlation_id})" in text
    assert err.to_dict()["server"] == "Home Plex"


def test_correlation_ids_differ() -> None:
    assert len({ServerUnreachable("x").correlation_id for _ in range(50)}) == 50


def test_detail_is_redacted() -> None:
    err = ZondarrError("boom", detail="GET http://h/library?X-Plex-Token=abcdef123&x=1")
    assert "abcdef123" not in err.detail and "X-Plex-Token=***" in err.detail


def test_redact_known_patterns() -> None:
    text = 'Authorization: MediaBrowser Client="z", Token="s3cr3tvalue" url=http://a/?api_key=K123456&ApiKey=Z999999'
    out = redact(text)
    for secret in ("s3cr3tvalue", "K123456", "Z999999"):
        assert secret not in out


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=8, max_size=40))
def test_registered_secret_never_survives(secret: str) -> None:
    register_secret(secret)
    assert secret not in redact(f"before {secret} after {secret}")
