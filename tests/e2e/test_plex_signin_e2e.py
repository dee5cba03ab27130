"""Sign in with Plex over real HTTP against the demo plex.tv: the PIN approved, expired, cancelled and polled by
another client identifier (404), then the server picked from the account's resources (the dead local address
skipped, the resource's server token stored). The clock and sleep are injected: no real-time waits."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from app.core.settings import Settings
from app.core.signin import PlexPin, SignInCodeGone, SignInExpired
from app.demo import DemoConfig, DemoServer, start_demo_server
from app.demo.plextv_signin import ACCOUNT_TOKEN, FRIEND_MACHINE_ID, PIN_CONTROL_PATH
from app.demo.server import DEFAULT_PLEX_TOKEN
from app.servers.plex_account import PlexAccountClient
from app.services.plex_signin import PlexSignInService
from app.services.runner import ThreadRunner
from app.wiring import build_context


@pytest.fixture(scope="module")
def plex() -> Iterator[DemoServer]:
    server = start_demo_server(DemoConfig(kind="plex", tracks=30))
    yield server
    server.stop()


@pytest.fixture
def runner() -> Iterator[ThreadRunner]:
    r = ThreadRunner()
    yield r
    r.close()


def settings_for(plex: DemoServer, client_id: str = "11111111-2222-4333-8444-555555555555") -> Settings:
    return Settings(
        plex_tv_url=plex.url,
        plex_auth_url=plex.url + "/auth",
        client_identifier=client_id,
        request_timeout_s=5,
    )


def control(plex: DemoServer, pin: PlexPin, action: str) -> None:
    r = requests.post(
        plex.url + PIN_CONTROL_PATH,
        data=json.dumps({"code": pin.code, "action": action}),
        headers={"X-Plex-Token": DEFAULT_PLEX_TOKEN},
        timeout=5,
    )
    assert r.status_code == 200, r.text


class FakeTime:
    """The injected clock and sleep: a sleep advances the clock; ``on_sleep`` runs at each one (the admin)."""

    def __init__(self, on_sleep: object = None) -> None:
        self.now = 1_000_000.0
        self.sleeps = 0
        self.on_sleep = on_sleep

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds
        if callable(self.on_sleep):
            self.on_sleep(self.sleeps)


def service(plex: DemoServer, runner: ThreadRunner, fake: FakeTime, **kw: str) -> PlexSignInService:
    return PlexSignInService(
        account=PlexAccountClient(settings_for(plex, **kw)), runner=runner, clock=fake.clock, sleep=fake.sleep
    )


def test_pin_approved_in_the_browser_gives_the_account_token(plex: DemoServer, runner: ThreadRunner) -> None:
    async def go() -> tuple[PlexPin, str, FakeTime]:
        fake = FakeTime()
        svc = service(plex, runner, fake)
        pin = await svc.start()
        fake.on_sleep = lambda n: control(plex, pin, "approve") if n == 3 else None
        return pin, await svc.wait_for_token(pin), fake

    pin, token, fake = asyncio.run(go())
    assert token == ACCOUNT_TOKEN
    assert fake.sleeps == 3  # polled once a second until approved
    page = urlsplit(pin.auth_url)
    assert f"{page.scheme}://{page.netloc}{page.path}" == plex.url + "/auth"
    params = parse_qs(page.fragment.lstrip("?"))
    assert params["clientID"] == ["11111111-2222-4333-8444-555555555555"] and params["code"] == [pin.code]
    assert params["context[device][product]"] == ["Zondarr"]


def test_pin_not_approved_within_its_time_expires(plex: DemoServer, runner: ThreadRunner) -> None:
    async def go() -> int:
        fake = FakeTime()
        svc = service(plex, runner, fake)
        pin = await svc.start()
        fake.now = pin.expires_at - 2.5  # 15 minutes later, by the injected clock
        with pytest.raises(SignInExpired) as err:
            await svc.wait_for_token(pin)
        assert "15 minutes" in err.value.display()
        return fake.sleeps

    assert asyncio.run(go()) == 3


def test_pin_that_plextv_expired_is_reported_gone(plex: DemoServer, runner: ThreadRunner) -> None:
    async def go() -> None:
        fake = FakeTime()
        svc = service(plex, runner, fake)
        pin = await svc.start()
        control(plex, pin, "expire")
        with pytest.raises(SignInCodeGone) as err:
            await svc.wait_for_token(pin)
        assert "Start the sign-in again" in err.value.display()

    asyncio.run(go())


def test_pin_polled_with_another_client_identifier_is_a_404_handled(
    plex: DemoServer, runner: ThreadRunner
) -> None:
    async def go() -> None:
        fake = FakeTime()
        pin = await service(plex, runner, fake).start()
        control(plex, pin, "approve")
        other = service(plex, runner, fake, client_id="99999999-2222-4333-8444-555555555555")
        with pytest.raises(SignInCodeGone) as err:
            await other.wait_for_token(pin)
        assert "404" in err.value.detail

    asyncio.run(go())


def test_cancelled_wait_stops_polling(plex: DemoServer, runner: ThreadRunner) -> None:
    async def go() -> int:
        fake = FakeTime()
        svc = service(plex, runner, fake)
        pin = await svc.start()
        task = asyncio.get_running_loop().create_task(svc.wait_for_token(pin), name="plex-sign-in")
        while fake.sleeps < 2:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        polls = fake.sleeps
        await asyncio.sleep(0.05)
        assert fake.sleeps == polls  # nothing polls after Cancel
        return polls

    assert asyncio.run(go()) >= 2


def test_server_picked_from_resources_skips_the_dead_local_and_stores_the_resource_token(
    plex: DemoServer, tmp_path: Path
) -> None:
    ctx = build_context(tmp_path, {"plex_tv_url": plex.url})
    try:

        async def go() -> tuple[list[str], str, str]:
            found = await ctx.plex_signin.servers(ACCOUNT_TOKEN)
            resource = await ctx.plex_signin.find(ACCOUNT_TOKEN, None)
            chosen = await ctx.plex_signin.choose_connection(resource)
            await ctx.servers.add_from_plex(chosen, "Home Plex")
            return [r.machine_id for r in found], chosen.connection.uri, chosen.why

        ids, uri, why = asyncio.run(go())
        assert ids == [plex.machine_id, FRIEND_MACHINE_ID]  # owned first; the TV player is not a server
        assert uri == plex.url  # the remote address, not the dead local one
        assert why == "local address not reachable; using the remote http address"
        [server] = ctx.server_store.list()
        assert (server.name, server.url, server.machine_id) == ("Home Plex", plex.url, plex.machine_id)
        assert ctx.secrets is not None
        stored = ctx.secrets.get(server.secret_ref)
        assert stored == DEFAULT_PLEX_TOKEN and stored != ACCOUNT_TOKEN  # the resource's server token
    finally:
        ctx.close()


def test_https_before_http_and_no_http_when_https_is_required() -> None:
    from app.core.signin import PlexConnection, PlexResource, connection_order, explain_choice

    def c(uri: str, local: bool = False, relay: bool = False) -> PlexConnection:
        return PlexConnection(uri, uri.split(":")[0], local, relay)

    conns = (
        c("http://relay:1", relay=True),
        c("http://remote:1"),
        c("https://remote:1"),
        c("http://lan:1", local=True),
        c("https://lan:1", local=True),
    )
    res = PlexResource("S", "m", "t", True, False, conns)
    assert [x.uri for x in connection_order(res)] == [
        "https://lan:1",
        "http://lan:1",
        "https://remote:1",
        "http://remote:1",
        "http://relay:1",
    ]
    strict = dataclasses.replace(res, https_required=True)
    assert [x.uri for x in connection_order(strict)] == ["https://lan:1", "https://remote:1"]
    order = connection_order(res)
    assert explain_choice(order, order[2]) == "local addresses not reachable; using the remote https address"


def test_cli_sign_in_adds_the_picked_server_and_discover_lists_the_account(tmp_path: Path) -> None:
    from tests.e2e.conftest import run_cli

    server = start_demo_server(DemoConfig(kind="plex", tracks=10, pin_approve_after_polls=1))
    try:
        assert run_cli(tmp_path, "settings", "set", "plex_tv_url", server.url).code == 0
        added = run_cli(
            tmp_path, "server", "add", "--kind", "plex", "--sign-in", "--pick", server.machine_id, "--json"
        )
        assert added.code == 0, added.err
        assert "Sign in with Plex: open this link" in added.err and "code=" in added.err
        assert "local address not reachable; using the remote http address" in added.err
        row = added.json()
        assert row["name"] == "Zondarr Demo Plex" and row["url"] == server.url  # type: ignore[index]

        found = run_cli(
            tmp_path,
            "server",
            "discover",
            "--kind",
            "plex",
            "--token-stdin",
            "--json",
            stdin=ACCOUNT_TOKEN + "\n",
        )
        assert found.code == 0, found.err
        rows = found.json()
        assert [r["machine_id"] for r in rows] == [server.machine_id, FRIEND_MACHINE_ID]  # type: ignore[index,union-attr]
        mine, friend = rows  # type: ignore[misc]
        assert (
            mine["chosen"] == server.url and mine["added_as"] == "Zondarr Demo Plex" and mine["owned"] is True
        )
        assert friend["chosen"] is None and friend["owned"] is False
        assert {c["where"] for c in mine["connections"]} == {"local", "remote", "relay"}

        again = run_cli(
            tmp_path, "server", "add", "--sign-in", "--pick", "zondarr demo plex", "--name", "Twice"
        )
        assert again.code != 0 and "already added as Zondarr Demo Plex" in again.err
        # without --pick the first server not added yet is taken: the friend's, which no address reaches
        other = run_cli(tmp_path, "server", "add", "--sign-in")
        assert other.code == 1 and "Friend's Plex: none of its addresses answered" in other.err
    finally:
        server.stop()


def _self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A one-day certificate for 127.0.0.1 and its key, as PEM files (made with ``cryptography``, so the test
    needs no openssl program on the machine)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_the_remote_https_address_is_preferred_over_http(tmp_path: Path, runner: ThreadRunner) -> None:
    cert, key = _self_signed_certificate(tmp_path)
    secure = start_demo_server(DemoConfig(kind="plex", tracks=10, tls_cert=str(cert), tls_key=str(key)))
    plain = start_demo_server(DemoConfig(kind="plex", tracks=10, extra_connections=(("remote", secure.url),)))
    try:
        assert (
            secure.url.startswith("https://") and secure.machine_id == plain.machine_id
        )  # one install, two ways
        settings = dataclasses.replace(
            settings_for(plain), verify_tls=False
        )  # the test's self-signed certificate
        svc = PlexSignInService(account=PlexAccountClient(settings), runner=runner)

        async def go() -> tuple[str, str]:
            resource = await svc.find(ACCOUNT_TOKEN, plain.machine_id)
            chosen = await svc.choose_connection(resource)
            return chosen.connection.uri, chosen.why

        uri, why = asyncio.run(go())
        assert uri == secure.url
        assert why == "local address not reachable; using the remote https address"
    finally:
        plain.stop()
        secure.stop()
