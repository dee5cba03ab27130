"""Every failure class (``core.health.FailureClass``), driven over real sockets on 127.0.0.1: the demo servers, a closed port, a
plain web server, a TLS server with a self-signed certificate made here, and stand-ins for old server versions.
Each case asserts the class carried by the raised error and its remedy text."""

from __future__ import annotations

import datetime
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.core.errors import ExternalServiceError, ValidationError, ZondarrError
from app.core.health import REMEDIES, FailureClass, normalize_server_url
from app.core.models import AuthMethod, Credentials, NewServer, ServerKind
from app.core.settings import Settings
from app.demo import DEFAULT_JELLYFIN_API_KEY, DEFAULT_PLEX_TOKEN, DemoConfig, DemoServer, start_demo_server
from app.servers import ServerRegistry
from app.servers.diagnose import HttpProbe


@pytest.fixture(scope="module")
def plex() -> Iterator[DemoServer]:
    with start_demo_server(DemoConfig(kind="plex", tracks=20)) as srv:
        yield srv


@pytest.fixture(scope="module")
def jelly() -> Iterator[DemoServer]:
    with start_demo_server(DemoConfig(kind="jellyfin", tracks=20)) as srv:
        yield srv


def registry(**kw: object) -> ServerRegistry:
    base: dict[str, object] = {"connect_timeout_s": 1.0, "request_timeout_s": 2.0, "retries": 0}
    return ServerRegistry(Settings(**{**base, **kw}))  # type: ignore[arg-type]


def fail(reg: ServerRegistry, kind: ServerKind, url: str, token: str = "some-token-1") -> ZondarrError:
    method = AuthMethod.TOKEN if kind is ServerKind.PLEX else AuthMethod.API_KEY
    with pytest.raises(ZondarrError) as info:
        reg.authenticate(NewServer("Den", kind, url, method), Credentials(token=token))
    assert token not in str(info.value) and token not in info.value.detail
    return info.value


def serve(handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    scheme = "https" if tls else "http"
    try:
        yield f"{scheme}://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def body_handler(make: Callable[[str], tuple[str, bytes]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            ctype, body = make(self.path)
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


# ---------------------------------------------------------------- malformed URL


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://media.local", "http:// or https://"),
        ("media.local:32400", "did you mean http://media.local:32400"),
        ("http://media.local:99999", "Port"),
        ("http://", "no host name"),
        ("http://h/?x=1", "'?' part"),
    ],
)
def test_malformed_url_names_the_problem(url: str, words: str) -> None:
    err = fail(registry(), ServerKind.PLEX, url)
    assert isinstance(err, ValidationError)
    assert err.failure_class == FailureClass.MALFORMED_URL
    assert words in err.user_message
    assert err.remedy  # scheme/host/port advice or the specific remedy


def test_normalisation_says_what_was_changed() -> None:
    url, notes = normalize_server_url(" http://h:8096/web/index.html#!/home ", "S")
    assert url == "http://h:8096"
    assert any("/web/index.html" in n for n in notes) and any("#" in n for n in notes)
    assert any("blanks" in n for n in notes)
    url, notes = normalize_server_url("https://h/jellyfin/", "S")
    assert (url, notes) == ("https://h/jellyfin", ["removed the trailing slash"])
    with pytest.raises(ValidationError) as info:
        normalize_server_url("http://user:pw@h:8096/web/", "S")
    assert info.value.failure_class == FailureClass.MALFORMED_URL


# ---------------------------------------------------------------- network classes


def test_dns_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def fake(host: object, *args: object, **kw: object) -> object:
        if host == "media.invalid":  # no real DNS query leaves the machine
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    for kind in ServerKind:
        err = fail(registry(), kind, "http://media.invalid:32400")
        assert err.failure_class == FailureClass.DNS_FAILURE, (kind, err.detail)
        assert err.remedy == REMEDIES[FailureClass.DNS_FAILURE] and "host name" in err.remedy


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    for kind in ServerKind:
        err = fail(registry(), kind, url)
        assert err.failure_class == FailureClass.CONNECTION_REFUSED, (kind, err.detail)
        assert "port" in err.remedy and "could not be reached" in err.user_message


@pytest.fixture(scope="module")
def tls_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    handler = body_handler(lambda path: ("application/json", b"{}"))
    yield from serve(handler, ctx)


def test_tls_error_on_a_self_signed_certificate(tls_url: str) -> None:
    for kind in ServerKind:
        err = fail(registry(), kind, tls_url)
        assert err.failure_class == FailureClass.TLS_ERROR, (kind, err.detail)
        assert "certificate" in err.remedy
    probe = HttpProbe(Settings(connect_timeout_s=1, request_timeout_s=2)).probe(tls_url, ServerKind.JELLYFIN)
    assert probe.tls and probe.status is None and probe.failure_class is FailureClass.TLS_ERROR


def test_timeout(plex: DemoServer, jelly: DemoServer) -> None:
    for srv in (plex, jelly):
        srv.set_faults("any:timeout")
        try:
            kind = ServerKind(srv.config.kind)
            err = fail(registry(request_timeout_s=0.6), kind, srv.url, token=srv.config.effective_token)
        finally:
            srv.set_faults("")
        assert err.failure_class == FailureClass.TIMEOUT, (srv.config.kind, err.detail)
        assert "request_timeout" in err.remedy or "request timeout" in err.remedy


# ---------------------------------------------------------------- answers, but ...


def test_wrong_token_is_auth_failed(plex: DemoServer, jelly: DemoServer) -> None:
    reg = registry(plex_tv_url=plex.url)
    for srv in (plex, jelly):
        err = fail(reg, ServerKind(srv.config.kind), srv.url, token="expired-token-42")
        assert err.failure_class == FailureClass.AUTH_FAILED, (srv.config.kind, err.detail)
        assert "wrong or has expired" in err.remedy
    # the right tokens pass, so the class above is about the token, not the server
    reg.authenticate(
        NewServer("P", ServerKind.PLEX, plex.url, AuthMethod.TOKEN), Credentials(DEFAULT_PLEX_TOKEN)
    )


def test_not_a_media_server() -> None:
    handler = body_handler(lambda path: ("text/html", b"<html><body>Router login</body></html>"))
    for url in serve(handler):
        for kind in ServerKind:
            err = fail(registry(), kind, url)
            assert err.failure_class == FailureClass.NOT_A_MEDIA_SERVER, (kind, err.detail)
            assert "neither Plex nor Jellyfin" in err.remedy


def test_wrong_kind_chosen(plex: DemoServer, jelly: DemoServer) -> None:
    err = fail(registry(), ServerKind.PLEX, jelly.url, token=DEFAULT_JELLYFIN_API_KEY)
    assert err.failure_class == FailureClass.WRONG_KIND, err.detail
    assert "Jellyfin" in err.user_message and "Jellyfin" in err.remedy
    err = fail(registry(plex_tv_url=plex.url), ServerKind.JELLYFIN, plex.url, token=DEFAULT_PLEX_TOKEN)
    assert err.failure_class == FailureClass.WRONG_KIND, err.detail
    assert "Plex" in err.user_message and "Plex" in err.remedy


def old_server(path: str, kind: str) -> tuple[str, bytes]:
    if kind == "plex":
        return "text/xml", b'<MediaContainer size="0" machineIdentifier="old-1" version="1.19.5.3112" />'
    info = {"Id": "old-jf", "ServerName": "Old", "Version": "10.5.5", "ProductName": "Jellyfin Server"}
    return "application/json", json.dumps(info).encode()


@pytest.mark.parametrize(("kind", "minimum"), [(ServerKind.PLEX, "1.20.0"), (ServerKind.JELLYFIN, "10.8.0")])
def test_version_unsupported(kind: ServerKind, minimum: str) -> None:
    for url in serve(body_handler(lambda path: old_server(path, kind.value))):
        err = fail(registry(plex_tv_url=url), kind, url)
        assert isinstance(err, ExternalServiceError)
        assert err.failure_class == FailureClass.VERSION_UNSUPPORTED, err.detail
        assert minimum in err.remedy and "Update" in err.remedy


def test_error_json_carries_the_class(plex: DemoServer) -> None:
    err = fail(registry(), ServerKind.PLEX, plex.url, token="nope-nope")
    assert err.to_dict()["failure_class"] == "auth_failed"
