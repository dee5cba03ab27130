"""The webhook channel against a loopback HTTP stand-in: each format's body, a refusal and a dead address
recorded as error events, and the desktop callback and other channels unaffected by a failing one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.errors import ServerError, ServerUnreachable, ValidationError
from app.core.settings import Settings
from app.servers.mail import SmtpMailSender
from app.servers.webhook import WebhookChannel
from app.services.error_recorder import ErrorRecorder
from app.services.notifications import MailChannel, NotificationService
from app.services.runner import ThreadRunner
from app.storage import open_cache
from tests.services.fakes import MemorySecrets
from tests.smtp_standin import smtp_standin
from tests.webhook_standin import WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver()
    yield r
    r.close()


@pytest.mark.parametrize("fmt", ["json", "ntfy", "discord"])
def test_each_format_posts_what_its_receiver_reads(receiver: WebhookReceiver, fmt: str) -> None:
    channel = WebhookChannel(f"{receiver.url}/zondarr-alerts", Settings(webhook_format=fmt))
    channel.send("incident", "Server problem", "Demo Plex is down since 15:12.")
    path, body = receiver.posts[-1]
    if fmt == "json":
        assert path == "/zondarr-alerts"
        assert body["kind"] == "incident" and body["title"] == "Server problem" and body["app"] == "Zondarr"
        assert str(body["time"]).endswith("Z")
    elif fmt == "ntfy":  # ntfy's JSON publishing: posted to the root, the topic in the body
        assert path == "/" and body["topic"] == "zondarr-alerts" and body["message"].startswith("Demo Plex")
        assert body["tags"] == ["warning"]
    else:
        assert body == {
            "username": "Zondarr",
            "content": "**Server problem**\nDemo Plex is down since 15:12.",
        }


def test_a_refusal_and_a_dead_address_are_plain_errors_without_the_url(receiver: WebhookReceiver) -> None:
    receiver.status = 404
    secret_url = f"{receiver.url}/hooks/SECRET-TOKEN"
    with pytest.raises(ServerError) as refused:
        WebhookChannel(secret_url, Settings()).send("sync", "t", "x")
    assert "HTTP 404" in refused.value.user_message and "SECRET" not in refused.value.display()
    receiver.close()
    with pytest.raises(ServerUnreachable) as dead:
        WebhookChannel(secret_url, Settings(webhook_timeout_s=2)).send("sync", "t", "x")
    assert "SECRET" not in dead.value.display() + dead.value.detail
    with pytest.raises(ValidationError):
        WebhookChannel("ntfy.sh/topic", Settings())


def test_the_service_delivers_to_desktop_and_webhook_and_records_a_failing_channel(
    receiver: WebhookReceiver, tmp_path: Path
) -> None:
    cache = open_cache(tmp_path)
    runner = ThreadRunner()
    settings = Settings(notify_redemptions=False)
    dead = WebhookChannel("http://127.0.0.1:9/unused", Settings(webhook_timeout_s=1))  # discard port: refused
    live = WebhookChannel(f"{receiver.url}/ok", settings)
    service = NotificationService(
        lambda: settings, runner, lambda: [dead, live], ErrorRecorder(cache.error_events, runner)
    )
    desktop: list[tuple[str, str, str, bool]] = []
    service.set_desktop_channel(
        lambda kind, title, text, warning: desktop.append((kind, title, text, warning))
    )

    async def scenario() -> None:
        assert service.notify("incident", "Server problem", "Demo Plex is down", warning=True)
        assert not service.notify("redemption", "Invitation redeemed", "switched off")
        await service.drain()

    try:
        asyncio.run(scenario())
        assert desktop == [("incident", "Server problem", "Demo Plex is down", True)]
        assert [p for p, _ in receiver.posts] == ["/ok"]  # the dead channel did not stop the live one
        events = cache.error_events.list(limit=10)
        assert len(events) == 1 and events[0].server == "webhook"
        assert "did not answer" in events[0].user_message
    finally:
        runner.close()
        cache.close()


def test_an_email_notification_reaches_the_smtp_stand_in(tmp_path: Path) -> None:
    with smtp_standin() as smtp:
        settings = Settings(
            smtp_host=smtp.host,
            smtp_port=smtp.port,
            smtp_starttls=False,
            smtp_from="zondarr@example.org",
            notify_email_to="admin@example.org",
        )
        mail = SmtpMailSender(lambda: settings, MemorySecrets())
        runner = ThreadRunner()
        service = NotificationService(
            lambda: settings, runner, lambda: [MailChannel(mail, settings.notify_email_to)]
        )

        async def scenario() -> None:
            service.notify("expiring", "Accounts about to expire", "2 accounts expire within 7 days.")
            await service.drain()

        try:
            asyncio.run(scenario())
        finally:
            runner.close()
        [received] = smtp.inbox.messages
        assert received.recipients == ["admin@example.org"]
        assert received.message["Subject"] == "Zondarr: Accounts about to expire"
        assert "2 accounts expire" in received.message.get_payload(decode=True).decode()
