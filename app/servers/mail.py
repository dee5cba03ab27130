"""Outbound e-mail over SMTP (``core.ports.MailSender``), with the standard library's ``smtplib``.

One connection per message (reminders are few): connect with a timeout, STARTTLS when set (implicit TLS on port
465), log in when a user is set (password from the secret store, read at each call), send, quit. Every socket
operation is bounded by ``smtp_timeout_s``; a body is plain text of bounded size. Outbound only: no listener.

Threading: every method blocks; call it on a ``net`` thread. Errors: only ``core.errors`` (see the Protocol);
messages name "mail server <host>" and never carry the password.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from app.core.errors import (
    AuthFailed,
    ConfigurationError,
    ServerError,
    ServerUnreachable,
    ValidationError,
    redact,
)
from app.core.ports import MAIL_PASSWORD_REF, MailMessage, SecretStore
from app.core.settings import Settings

MAX_BODY_CHARS = 20_000
MAX_SUBJECT_CHARS = 200
_REMEDY_SETTINGS = "Check the e-mail settings (Settings → E-mail) and use Test."


def valid_address(text: str) -> bool:
    """A bare address with one @, a dot in the domain, and no blanks or control characters."""
    name, addr = parseaddr(text)
    if not addr or addr != text.strip() or any(ch.isspace() or ord(ch) < 32 for ch in addr):
        return False
    local, at, domain = addr.rpartition("@")
    return bool(at and local and "." in domain and "@" not in local)


class SmtpMailSender:
    """``core.ports.MailSender`` over ``smtplib``. ``settings`` is called at each use (the current settings)."""

    def __init__(self, settings: Callable[[], Settings], secrets: SecretStore) -> None:
        self._settings = settings
        self._secrets = secrets

    @property
    def configured(self) -> bool:
        s = self._settings()
        return bool(s.smtp_host and s.smtp_from)

    def send(self, message: MailMessage) -> None:
        """Sends one plain-text message. Raises ConfigurationError, ValidationError, ExternalServiceError."""
        settings = self._ready()
        for who in (message.to, settings.smtp_from):
            if not valid_address(who):
                raise ValidationError(
                    f"{who!r} is not an e-mail address.", remedy="Fix the address and try again."
                )
        mail = EmailMessage()
        mail["From"] = settings.smtp_from
        mail["To"] = message.to
        mail["Subject"] = " ".join(message.subject.split())[:MAX_SUBJECT_CHARS]
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2])
        mail.set_content(message.body[:MAX_BODY_CHARS])
        with self._session(settings) as smtp:
            try:
                refused = smtp.send_message(mail)
            except smtplib.SMTPRecipientsRefused:
                refused = {message.to: (550, b"refused")}
            except smtplib.SMTPSenderRefused as exc:
                raise ServerError(
                    self._service(settings),
                    f"{self._service(settings)} refused the sender {settings.smtp_from} (SMTP {exc.smtp_code}).",
                    remedy=_REMEDY_SETTINGS,
                    detail=self._detail(exc),
                ) from None
            if refused:
                raise ValidationError(
                    f"{self._service(settings)} refused the address {message.to}.",
                    remedy="Check the person's e-mail address.",
                    detail=self._detail(refused),
                )

    def test(self) -> None:
        """Connects, starts TLS, logs in and quits. Raises like :meth:`send`."""
        with self._session(self._ready()) as smtp:
            smtp.noop()

    # -- internals -----------------------------------------------------------------------------------------

    def _ready(self) -> Settings:
        settings = self._settings()
        if not settings.smtp_host or not settings.smtp_from:
            raise ConfigurationError(
                "E-mail is not set up: a mail server and a sender address are needed.",
                remedy="Enter them in Settings → E-mail, then use Test.",
            )
        return settings

    @staticmethod
    def _service(settings: Settings) -> str:
        return f"mail server {settings.smtp_host}"

    def _detail(self, what: object) -> str:
        return redact(str(what), self._secrets.get(MAIL_PASSWORD_REF))

    @staticmethod
    def _error(service: str, what: str, exc: BaseException, password: str | None) -> ServerError:
        return ServerError(
            service, f"{service} {what}.", remedy=_REMEDY_SETTINGS, detail=redact(str(exc), password)
        )

    @staticmethod
    def _unreachable(service: str, exc: BaseException, password: str | None) -> ServerUnreachable:
        what = "timed out" if isinstance(exc, TimeoutError) else "could not be reached"
        return ServerUnreachable(
            service,
            f"{service} {what}.",
            remedy="Check the host and port, and whether the server needs STARTTLS, then use Test.",
            detail=f"{type(exc).__name__}: {redact(str(exc), password)}",
        )

    @contextmanager
    def _session(self, settings: Settings) -> Iterator[smtplib.SMTP]:
        service = self._service(settings)
        password = self._secrets.get(MAIL_PASSWORD_REF) if settings.smtp_user else None
        timeout = settings.smtp_timeout_s
        smtp: smtplib.SMTP | None = None
        try:
            if settings.smtp_port == 465:
                smtp = smtplib.SMTP_SSL(
                    settings.smtp_host,
                    settings.smtp_port,
                    timeout=timeout,
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
                if settings.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                if not password:
                    raise ConfigurationError(
                        "E-mail: no password is stored for the mail server user.",
                        remedy="Enter the password in Settings → E-mail.",
                    )
                try:
                    smtp.login(settings.smtp_user, password)
                except smtplib.SMTPServerDisconnected as exc:
                    # servers often hang up after a refused login (smtplib then tries the next mechanism)
                    raise smtplib.SMTPAuthenticationError(
                        535, b"closed the connection after the login"
                    ) from exc
            yield smtp
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthFailed(
                service,
                f"{service} refused the user name or password (SMTP {exc.smtp_code}).",
                remedy=_REMEDY_SETTINGS,
                detail=redact(str(exc), password),
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise self._error(
                service, "does not offer what the settings ask for (STARTTLS or login)", exc, password
            ) from None
        except smtplib.SMTPConnectError as exc:
            raise self._unreachable(service, exc, password) from None
        except smtplib.SMTPResponseException as exc:
            raise self._error(
                service, f"answered with an error (SMTP {exc.smtp_code})", exc, password
            ) from None
        except smtplib.SMTPServerDisconnected as exc:
            raise self._unreachable(service, exc, password) from None
        except smtplib.SMTPException as exc:
            raise self._error(service, "failed", exc, password) from None
        except OSError as exc:  # refused, DNS, TLS handshake (ssl.SSLError), timeouts
            raise self._unreachable(service, exc, password) from None
        finally:
            if smtp is not None:
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    smtp.close()
