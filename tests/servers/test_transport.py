"""Transport rules shared by both adapters: redirects never carry secrets to another origin, deadlines hold
for the whole request, TLS is verified by default, plex.tv rewriting is per client."""

from __future__ import annotations

import time

import pytest

from app.core.errors import AuthFailed, BadServerResponse, ServerError, ServerUnreachable
from app.servers import JellyfinClient, PlexClient
from app.servers.transport import (
    MAX_JSON_VALUES,
    MAX_XML_ATTRIBUTES,
    MAX_XML_TAGS,
    DeadlineExceeded,
    GuardedSession,
    ResponseTooLarge,
    UnsupportedUrl,
    check_markup,
    strip_secret_params,
)
from tests.servers.fakes import (
    JF_KEY,
    PLEX_TOKEN,
    XML,
    FakeJellyfin,
    FakePlex,
    Reply,
    Request,
    fast_settings,
)

SECRETS = (PLEX_TOKEN, JF_KEY)
MB = 1024 * 1024


def _recorder():  # type: ignore[no-untyped-def]
    return lambda req: Reply(401, b"<html>who are you</html>", {"Content-Type": "text/html"})


def _leaks(req: Request) -> list[str]:
    text = " ".join([*req.headers.values(), *req.query.values(), *req.query.keys()])
    return [s for s in SECRETS if s in text]


def test_plex_redirect_to_another_port_drops_the_token(serve) -> None:  # type: ignore[no-untyped-def]
    other = serve(_recorder())
    first = serve(
        lambda req: Reply(302, b"", {"Location": f"{other.url}{req.path}?X-Plex-Token={PLEX_TOKEN}&a=1"})
    )
    with pytest.raises(AuthFailed) as info:
        PlexClient.connect("Den", first.url, PLEX_TOKEN, fast_settings())
    assert first.requests[0].headers["x-plex-token"] == PLEX_TOKEN  # the configured server gets it
    assert other.requests, "the redirect was followed"
    assert all(not _leaks(r) for r in other.requests)
    assert other.requests[0].query == {"a": "1"}
    assert PLEX_TOKEN not in str(info.value) + info.value.detail


def test_jellyfin_redirect_to_another_port_drops_the_authorization(serve) -> None:  # type: ignore[no-untyped-def]
    fake = FakeJellyfin()
    other = serve(_recorder())
    first = serve(fake)
    fake.overrides["/system/info"] = Reply(307, b"", {"Location": f"{other.url}/system/info?ApiKey={JF_KEY}"})
    with pytest.raises(AuthFailed):
        JellyfinClient.connect("Attic", first.url, JF_KEY, None, fast_settings())
    assert other.requests and all(not _leaks(r) for r in other.requests)
    assert "authorization" not in other.requests[0].headers


def test_same_origin_redirect_keeps_the_token(serve) -> None:  # type: ignore[no-untyped-def]
    fake = FakePlex()
    srv = serve(fake)
    fake.overrides["/old-root"] = Reply(301, b"", {"Location": "/"})
    session = GuardedSession(fast_settings())
    response = session.get(srv.url + "/old-root", headers={"X-Plex-Token": PLEX_TOKEN})
    assert response.status_code == 200 and b"machineIdentifier" in response.content
    assert srv.requests[-1].headers["x-plex-token"] == PLEX_TOKEN


def test_strip_secret_params() -> None:
    url = "https://h/x?ApiKey=1&api_key=2&X-Plex-Token=3&keep=4&token=5"
    assert strip_secret_params(url) == "https://h/x?keep=4"


def test_only_http_and_https_are_requested() -> None:
    session = GuardedSession(fast_settings())
    for url in ("file:///etc/passwd", "ftp://h/x", "gopher://h"):
        with pytest.raises(UnsupportedUrl):
            session.get(url)


def test_tls_is_verified_by_default_and_libraries_cannot_turn_it_off() -> None:
    assert GuardedSession(fast_settings()).verify is True
    assert GuardedSession(fast_settings(verify_tls=False)).verify is False


def test_a_tls_failure_is_unreachable(serve) -> None:  # type: ignore[no-untyped-def]
    srv = serve(FakePlex())  # plain HTTP: a TLS handshake against it fails
    with pytest.raises(ServerUnreachable):
        PlexClient.connect("Den", srv.url.replace("http://", "https://"), PLEX_TOKEN, fast_settings())


def test_header_drip_is_bounded_too(serve) -> None:  # type: ignore[no-untyped-def]
    """A server that sends its status line one byte a second: per-read timeouts never fire, the deadline does."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip() -> None:
        conn, _ = listener.accept()
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
            if stop.wait(0.3):
                break
            try:
                conn.send(bytes([byte]))
            except OSError:
                break
        conn.close()

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    session = GuardedSession(fast_settings(request_timeout_s=1.0))
    start = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        session.get(f"http://127.0.0.1:{listener.getsockname()[1]}/")
    assert time.monotonic() - start < 1.8
    stop.set()
    listener.close()


def test_plex_tv_rewrite_is_per_client(serve) -> None:  # type: ignore[no-untyped-def]
    fake = FakePlex()
    a = serve(fake)
    rewritten = GuardedSession(fast_settings(), rewrite=[("https://plex.tv", a.url)])
    plain = GuardedSession(fast_settings())
    assert (
        rewritten.get("https://plex.tv/api/v2/user", headers={"X-Plex-Token": PLEX_TOKEN}).status_code == 200
    )
    assert a.requests[-1].path == "/api/v2/user"
    assert plain._rewrite("https://plex.tv/api/v2/user") == "https://plex.tv/api/v2/user"
    assert rewritten._rewrite("https://plex.tv.evil.example/x") == "https://plex.tv.evil.example/x"


def test_xml_without_charset_is_read_as_utf8(serve) -> None:  # type: ignore[no-untyped-def]
    fake = FakePlex()
    srv = serve(fake)
    client = PlexClient.connect("Den", srv.url, PLEX_TOKEN, fast_settings())
    track = '<Track ratingKey="9" title="Ünïcødé ☃ 東京"/>'
    body = f'<MediaContainer size="1" totalSize="1">{track}</MediaContainer>'.encode()
    fake.overrides["/library/sections/3/all"] = Reply(200, body, {"Content-Type": "text/xml"})
    assert client.fetch_tracks("3", 0, 1).items[0].title == "Ünïcødé ☃ 東京"
    assert XML  # the fake's default type does carry a charset


# -- hostile servers: no body follows a redirect to another origin; bounded answers -------------------------


def _login_recorder(req: Request) -> Reply:
    """Another host that would happily accept a password and hand out its own token."""
    return Reply(
        200, b'{"AccessToken":"evil","ServerId":"x","User":{"Id":"u"}}', {"Content-Type": "application/json"}
    )


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_jellyfin_sign_in_redirected_to_another_port_sends_nothing_there(serve, status: int) -> None:  # type: ignore[no-untyped-def]
    from tests.servers.fakes import JF_PASSWORD

    fake = FakeJellyfin()
    other = serve(_login_recorder)
    first = serve(fake)
    fake.overrides["/users/authenticatebyname"] = Reply(
        status, b"", {"Location": f"{other.url}/Users/AuthenticateByName"}
    )
    with pytest.raises(ServerError) as info:
        JellyfinClient.login("Attic", first.url, "admin", JF_PASSWORD, fast_settings())
    assert other.requests == []  # not even a GET: the sign-in is refused before anything reaches it
    err = info.value
    assert err.failure_class == "redirect_refused"
    assert "redirected a sign-in to another address" in err.user_message
    assert JF_PASSWORD not in err.display() + err.detail


def test_post_redirect_within_the_same_origin_is_followed(serve) -> None:  # type: ignore[no-untyped-def]
    seen: list[Request] = []

    def route(req: Request) -> Reply:
        seen.append(req)
        if req.path == "/old":
            return Reply(307, b"", {"Location": "/new"})
        return Reply(200, b"ok", {"Content-Type": "text/plain"})

    srv = serve(route)
    response = GuardedSession(fast_settings()).post(srv.url + "/old", json={"pw": "x"})
    assert response.status_code == 200 and [r.path for r in seen] == ["/old", "/new"]
    assert seen[1].body == b'{"pw": "x"}'


def test_get_redirect_to_another_origin_is_still_followed(serve) -> None:  # type: ignore[no-untyped-def]
    other = serve(lambda req: Reply(200, b"ok", {"Content-Type": "text/plain"}))
    first = serve(lambda req: Reply(302, b"", {"Location": f"{other.url}/x"}))
    assert GuardedSession(fast_settings()).get(first.url + "/y").content == b"ok"


def test_a_body_over_the_cap_stops_reading_at_the_cap(serve) -> None:  # type: ignore[no-untyped-def]
    body = b"<MediaContainer>" + b" " * (3 * 1024 * 1024) + b"</MediaContainer>"
    srv = serve(lambda req: Reply(200, body))
    with pytest.raises(ResponseTooLarge):
        GuardedSession(fast_settings(max_response_mb=2)).get(srv.url + "/")
    assert GuardedSession(fast_settings(max_response_mb=4)).get(srv.url + "/").content == body


def test_a_gzip_bomb_is_stopped_after_decompression(serve) -> None:  # type: ignore[no-untyped-def]
    import gzip

    bomb = gzip.compress(b"<a>" + b" " * (64 * 1024 * 1024), compresslevel=9)  # ~64 KB on the wire
    assert len(bomb) < 200_000
    srv = serve(lambda req: Reply(200, bomb, {"Content-Encoding": "gzip"}))
    start = time.monotonic()
    with pytest.raises(ResponseTooLarge):
        GuardedSession(fast_settings(max_response_mb=4)).get(srv.url + "/")
    assert time.monotonic() - start < 2.0


@pytest.mark.parametrize(
    ("body", "ok"),
    [
        (b"<a>" + b"<b/>" * (MAX_XML_TAGS - 10) + b"</a>", True),
        (b"<a>" + b"<b/>" * (MAX_XML_TAGS + 10) + b"</a>", False),
        (b" " * 1000 + b"<a>" + b"<b/>" * (MAX_XML_TAGS + 10) + b"</a>", False),  # blanks first
        (b"<a " + b'x="" ' * (MAX_XML_ATTRIBUTES - 10) + b"/>", True),
        (b"<a " + b'x="" ' * (MAX_XML_ATTRIBUTES + 10) + b"/>", False),  # attributes of one element
        (b"[" + b"{}," * (MAX_JSON_VALUES // 2 - 10) + b"0]", True),
        (b" \n[" + b"{}," * (MAX_JSON_VALUES // 2 + 10) + b"0]", False),
        (b'["' + b"x" * (5 * MB) + '\u00e9"]'.encode(), True),  # Latin-1: one byte a character decoded
        (b'["' + b"x" * (3 * MB) + '\u0100"]'.encode(), True),  # two bytes a character: 6 MB decoded
        (b'["' + b"x" * (5 * MB) + '\u0100"]'.encode(), False),  # two bytes a character: 10 MB decoded
        (b'["' + b"x" * (3 * MB) + '\U0001f600"]'.encode(), False),  # an emoji: 4 bytes a character
        (b'<a t="' + b"x" * (3 * MB) + '\U0001f600"/>'.encode(), False),  # XML is decoded by plexapi too
        (b"plain text, " * 200_000, True),
    ],
)
def test_markup_that_would_parse_into_gigabytes_is_refused(body: bytes, ok: bool) -> None:
    if ok:
        check_markup(body, 8 * MB)
    else:
        with pytest.raises(ResponseTooLarge):
            check_markup(body, 8 * MB)


def test_a_too_large_answer_is_a_bad_response_with_its_own_class(serve) -> None:  # type: ignore[no-untyped-def]
    fake = FakePlex(n_tracks=3)
    srv = serve(fake)
    client = PlexClient.connect("Den", srv.url, PLEX_TOKEN, fast_settings(max_response_mb=1))
    fake.overrides["/library/sections/3/all"] = Reply(200, b"<MediaContainer>" + b" " * 2_000_000)
    with pytest.raises(BadServerResponse) as info:
        client.fetch_tracks("3", 0, 50)
    assert info.value.failure_class == "response_too_large"
    assert "too large" in info.value.user_message and info.value.remedy


def test_plex_tv_password_sign_in_redirected_elsewhere_sends_nothing_there(serve) -> None:  # type: ignore[no-untyped-def]
    from app.servers.plex import sign_in

    other = serve(_login_recorder)
    plex_tv = serve(lambda req: Reply(307, b"", {"Location": f"{other.url}{req.path}"}))
    with pytest.raises(ServerError) as info:
        sign_in("Den", "owner@example.com", "hunter2-secret", fast_settings(plex_tv_url=plex_tv.url))
    assert other.requests == [] and plex_tv.requests[0].method == "POST"
    assert info.value.failure_class == "redirect_refused" and "a sign-in" in info.value.user_message
    assert "hunter2-secret" not in info.value.display() + info.value.detail


def test_a_quick_connect_secret_never_follows_a_redirect_to_another_origin() -> None:
    from app.servers.transport import strip_secret_params

    url = "http://jf:8096/QuickConnect/Connect?secret=abcdef0123&keep=1"
    assert strip_secret_params(url) == "http://jf:8096/QuickConnect/Connect?keep=1"
