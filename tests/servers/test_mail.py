"""The SMTP sender against the aiosmtpd stand-in: what arrives, and each failure as its typed error."""

from __future__ import annotations

import dataclasses

import pytest

from app.core.errors import AuthFailed, ConfigurationError, ServerError, ServerUnreachable, ValidationError
from app.core.ports import MAIL_PASSWORD_REF, MailMessage
from app.core.settings import Settings
from app.servers.mail import SmtpMailSender, valid_address
from tests.services.fakes import MemorySecrets
from tests.smtp_standin import free_port, smtp_standin


def Secrets(**values: str) -> MemorySecrets:
    secrets = MemorySecrets()
    secrets.values.update(values)
    return secrets


def sender_for(port: int, secrets: MemorySecrets | None = None, **overrides: object) -> SmtpMailSender:
    values: dict[str, object] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_starttls": False,
        "smtp_from": "admin@example.org",
        "smtp_timeout_s": 5.0,
    }
    settings = dataclasses.replace(Settings(), **(values | overrides))  # type: ignore[arg-type]
    return SmtpMailSender(lambda: settings, secrets or Secrets())


def test_a_message_arrives_with_its_headers_and_body() -> None:
    with smtp_standin() as smtp:
        sender = sender_for(smtp.port)
        assert sender.configured
        sender.send(
            MailMessage("cousin@example.org", "Your access ends\r\nBcc: x@y.z", "Ends on 2027-06-01.")
        )
        [got] = smtp.inbox.messages
    assert got.recipients == ["cousin@example.org"]
    assert got.message["From"] == "admin@example.org"
    assert got.message["Subject"] == "Your access ends Bcc: x@y.z"  # no header injection
    assert got.message["Bcc"] is None
    assert "Ends on 2027-06-01." in got.message.get_payload(decode=True).decode()


def test_login_with_the_stored_password_and_a_refused_login() -> None:
    with smtp_standin(user="mailer", password="s3cret-pw") as smtp:
        sender_for(smtp.port, Secrets(**{MAIL_PASSWORD_REF: "s3cret-pw"}), smtp_user="mailer").test()
        sender_for(smtp.port, Secrets(**{MAIL_PASSWORD_REF: "s3cret-pw"}), smtp_user="mailer").send(
            MailMessage("a@example.org", "s", "b")
        )
        with pytest.raises(AuthFailed) as info:
            sender_for(smtp.port, Secrets(**{MAIL_PASSWORD_REF: "wrong-pw"}), smtp_user="mailer").test()
        with pytest.raises(ConfigurationError):  # a user but no stored password
            sender_for(smtp.port, smtp_user="mailer").test()
        assert len(smtp.inbox.messages) == 1
    assert "wrong-pw" not in str(info.value) and "wrong-pw" not in info.value.detail
    assert info.value.service_name == "mail server 127.0.0.1"


def test_a_refused_or_malformed_address_is_a_validation_error() -> None:
    with smtp_standin() as smtp:
        smtp.inbox.refuse.add("gone@example.org")
        sender = sender_for(smtp.port)
        with pytest.raises(ValidationError, match="refused the address"):
            sender.send(MailMessage("gone@example.org", "s", "b"))
        with pytest.raises(ValidationError, match="not an e-mail address"):
            sender.send(MailMessage("no-at-sign", "s", "b"))
        assert smtp.inbox.messages == []


def test_nothing_listening_is_unreachable_and_no_host_is_not_configured() -> None:
    with pytest.raises(ServerUnreachable):
        sender_for(free_port()).test()
    off = SmtpMailSender(lambda: Settings(), Secrets())
    assert not off.configured
    with pytest.raises(ConfigurationError):
        off.send(MailMessage("a@example.org", "s", "b"))


def test_starttls_against_a_server_without_it_is_a_clear_error() -> None:
    with smtp_standin() as smtp, pytest.raises(ServerError) as info:
        sender_for(smtp.port, smtp_starttls=True).test()
    assert "STARTTLS" in str(info.value)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("a@example.org", True),
        ("a@b", False),
        ("x y@example.org", False),
        ("<a@example.org>", False),
        ("", False),
    ],
)
def test_valid_address(text: str, ok: bool) -> None:
    assert valid_address(text) is ok
