"""Server management use cases: add (test first, store nothing on failure), list, test, edit (new URL and/or
credentials, tested first), remove.

Coroutines for the event loop thread; blocking work goes through the runner.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from app.core import validate
from app.core.errors import BadServerResponse, ConfigurationError, ValidationError
from app.core.health import FailureClass, check_version, normalize_server_url
from app.core.models import (
    AuthMethod,
    ConnectResult,
    Credentials,
    NewServer,
    Server,
    ServerIdentity,
    ServerKind,
)
from app.core.ports import ClientFactory, Clock, Runner, SecretStore, ServerStore
from app.core.signin import ChosenConnection, not_admin_note
from app.services.connector import Connector


def validate_new_server(new: NewServer, credentials: Credentials) -> None:
    """Raises ValidationError when the form is incomplete for its kind and auth method."""
    if not new.name.strip():
        raise ValidationError("The server needs a name.", remedy="Give it a short name, like 'Home Plex'.")
    validate.name(new.name, "The server name")  # no control or text-direction characters
    if new.kind is ServerKind.PLEX and new.auth_method is not AuthMethod.TOKEN:
        raise ValidationError("A Plex server is added with its token.", remedy="Pass --token-stdin.")
    if new.auth_method is AuthMethod.PASSWORD:
        if not (credentials.username and credentials.password):
            raise ValidationError(
                "User/password login needs both.", remedy="Pass --username and the password on stdin."
            )
    elif not credentials.token:
        raise ValidationError(
            "No token or API key was given.",
            remedy="Pipe it on stdin (--token-stdin); it is never an argument.",
        )


@dataclass(frozen=True, slots=True)
class DetectedServer:
    """What answers at an address the admin pasted: its kind, the base URL to use and how it was normalised."""

    kind: ServerKind
    url: str
    notes: tuple[str, ...]

    @property
    def message(self) -> str:
        """ "using http://192.168.1.10:32400 — removed the web app path /web/index.html" (plain words)."""
        return f"using {self.url}" + (f" — {'; '.join(self.notes)}" if self.notes else "")


@dataclass(frozen=True, slots=True)
class EditCheck:
    """What a test of an edited server found: its identity, and ``warning`` (plain words for the admin) when the
    address answers as a different server install than the one whose rows are cached (None otherwise)."""

    identity: ServerIdentity
    warning: str | None = None

    @property
    def identity_changed(self) -> bool:
        return self.warning is not None


@dataclass(frozen=True, slots=True)
class ServerUpdate:
    """The result of :meth:`ServerService.update`: the stored server after the update and what the test found."""

    server: Server
    check: EditCheck

    @property
    def warning(self) -> str | None:
        return self.check.warning


def identity_warning(server: Server, identity: ServerIdentity) -> str | None:
    """The warning for a server whose address now answers with another machine identity; None when it is the same
    install or no identity was ever recorded (a draft)."""
    if server.machine_id is None or identity.machine_id == server.machine_id:
        return None
    return (
        f"This address answers as a different server ({identity.name}); its cached tracks and users will be "
        "replaced at the next sync."
    )


class ServerService:
    def __init__(
        self,
        *,
        servers: ServerStore,
        secrets: SecretStore,
        clients: ClientFactory,
        runner: Runner,
        clock: Clock = time.time,
    ) -> None:
        self._servers = servers
        self._secrets = secrets
        self._clients = clients
        self._runner = runner
        self._connector = Connector(secrets, clients, runner)
        self._clock = clock

    async def add(self, new: NewServer, credentials: Credentials) -> Server:
        """Tests the connection, then stores the server and its secret (a token, never a password).

        Raises ValidationError (bad input, name taken), ExternalServiceError (the test failed). On any failure
        nothing is stored.
        """
        return (await self.add_with_notes(new, credentials))[0]

    async def add_with_notes(self, new: NewServer, credentials: Credentials) -> tuple[Server, list[str]]:
        """:meth:`add`, and what the admin should know about the result: a Jellyfin account that is not an
        administrator (what will not work with it). Raises as :meth:`add`."""
        validate_new_server(new, credentials)
        await self._runner.read(self._refuse_taken_name, new.name)
        new = NewServer(new.name, new.kind, normalize_server_url(new.url, new.name)[0], new.auth_method)
        result: ConnectResult = await self._runner.net(self._clients.authenticate, new, credentials)
        server = await self.add_authenticated(new, result)
        notes: list[str] = []
        if result.is_admin is False:
            notes.append(not_admin_note(credentials.username or "", server.name))
        return server, notes

    async def add_authenticated(self, new: NewServer, result: ConnectResult) -> Server:
        """Stores a server whose sign-in already happened (``result`` from Quick Connect, or from
        :meth:`add`'s own test). Raises ValidationError (name taken, already added), BadServerResponse
        (unsupported version), CacheError. On any failure nothing is stored."""
        await self._runner.read(self._refuse_taken_name, new.name)
        check_version(new.name, result.identity)
        await self._runner.read(self._refuse_duplicate, result.identity, None)
        probe = Server(0, new.name, new.kind, new.url, new.auth_method)
        await self._runner.net(self._secrets.set, probe.secret_ref, result.token)
        try:
            return await self._runner.db(self._servers.add, new, result)
        except BaseException:
            await self._runner.net(self._secrets.delete, probe.secret_ref)
            raise

    async def detect(self, url: str) -> DetectedServer:
        """The kind of server at a pasted address (a bare ``host:port`` is tried with https, then http). Sends no
        credential. Raises ValidationError (malformed URL), BadServerResponse (failure class
        ``not_a_media_server``: "not a Plex or Jellyfin server")."""
        text = (url or "").strip()
        bare = "://" not in text and bool(text)
        tried = []
        for candidate in [f"https://{text}", f"http://{text}"] if bare else [text]:
            base, notes = normalize_server_url(candidate, "The address")
            tried.append(base)
            kind: ServerKind | None = await self._runner.net(self._clients.detect_kind, base)
            if kind is not None:
                added = [f"added {base.split(':', 1)[0]}://"] if bare else []
                return DetectedServer(kind, base, tuple(added + notes))
        raise BadServerResponse(
            text,
            f"{text} is not a Plex or Jellyfin server (nothing at this address answers like one).",
            remedy="Check the address and port: Plex usually listens on 32400, Jellyfin on 8096.",
            detail="tried " + ", ".join(tried),
            failure_class=FailureClass.NOT_A_MEDIA_SERVER.value,
        )

    async def add_from_plex(self, chosen: ChosenConnection, name: str | None = None) -> Server:
        """Adds a server picked from the Plex account: the chosen connection's address and the resource's own
        (server-scoped) token, tested first like :meth:`add`. Raises as :meth:`add`."""
        new = NewServer(
            name or chosen.resource.name, ServerKind.PLEX, chosen.connection.uri, AuthMethod.TOKEN
        )
        return await self.add(new, Credentials(token=chosen.resource.token))

    def _refuse_taken_name(self, name: str) -> None:
        if any(s.name == name for s in self._servers.list()):
            raise ValidationError(f"A server named {name!r} exists already.", remedy="Pick another name.")

    def _refuse_duplicate(self, identity: ServerIdentity, editing: int | None) -> None:
        """One server once: raises ValidationError when another configured server has this machine identifier
        (a Plex machineIdentifier or a Jellyfin server id), whatever its URL."""
        for other in self._servers.list():
            if other.id != editing and other.machine_id and other.machine_id == identity.machine_id:
                raise ValidationError(
                    f"This server is already added as {other.name}.",
                    remedy=f"Use {other.name}; to change its address, edit it (Servers → Edit…).",
                )

    async def test(self, name: str) -> ServerIdentity:
        """Connects with the stored secret and reads the identity. Raises NotFoundError, ConfigurationError,
        ExternalServiceError."""
        server = await self._runner.read(self._servers.get_by_name, name)
        identity = await self._identity_with_stored_secret(server)
        mark = getattr(self._servers, "mark_verified", None)
        if mark is not None:  # a successful test verifies a draft: from now on it is synced and watched
            await self._runner.db(mark, server.id, identity, self._clock())
        return identity

    async def save_draft(self, new: NewServer, credentials: Credentials) -> tuple[Server, list[str]]:
        """Stores a server WITHOUT testing it (status ``draft``, not active: it is neither synced nor watched
        until :meth:`test` succeeds) and its secret. Returns it and the notes on how its URL was normalised.
        Raises ValidationError (bad input, malformed URL, name taken)."""
        validate_new_server(new, credentials)
        if new.auth_method is AuthMethod.PASSWORD:
            raise ValidationError(
                "A user/password server is saved only after a successful test.",
                remedy="Use Test connection: the password is exchanged for a token and never stored.",
            )
        url, notes = normalize_server_url(new.url, new.name)
        new = NewServer(new.name, new.kind, url, new.auth_method)
        add_draft = getattr(self._servers, "add_draft", None)
        if add_draft is None:
            raise ConfigurationError("This build cannot store untested servers.")
        server: Server = await self._runner.db(add_draft, new)
        await self._runner.net(self._secrets.set, server.secret_ref, credentials.token or "")
        return server, notes

    async def activate(self, name: str, active: bool = True) -> Server:
        """Activates (enables) a verified server, or deactivates one. Raises NotFoundError, and ValidationError
        when activating a server that was never verified."""
        server = await self._runner.read(self._servers.get_by_name, name)
        set_enabled = getattr(self._servers, "set_enabled", None)
        if set_enabled is None:
            raise ConfigurationError("This build cannot activate servers.")
        await self._runner.db(set_enabled, server.id, active)
        return await self._runner.read(self._servers.get, server.id)

    async def probe(self, new: NewServer, credentials: Credentials) -> ServerIdentity:
        """Tests a server the admin is typing in (the Add/Edit dialog's **Test connection**): validates the form,
        reaches the server and checks the credentials. Stores nothing. Raises ValidationError,
        ExternalServiceError (ServerUnreachable, AuthFailed ...)."""
        validate_new_server(new, credentials)
        result: ConnectResult = await self._runner.net(self._clients.authenticate, new, credentials)
        await self._runner.read(
            self._refuse_duplicate, result.identity, None
        )  # said at Test time, not only at Save
        return result.identity

    async def update_credentials(self, name: str, credentials: Credentials) -> ServerIdentity:
        """Replaces the stored secret of an existing server after testing the new credentials against its stored
        URL. Nothing changes on failure. Raises NotFoundError, ValidationError, ExternalServiceError."""
        server = await self._runner.read(self._servers.get_by_name, name)
        return (await self.update(name, server.url, credentials)).check.identity

    async def probe_existing(self, name: str, url: str, credentials: Credentials | None) -> EditCheck:
        """Tests an edit of a stored server (the Edit dialog's **Test connection**): ``url`` with ``credentials``,
        or with the stored secret when ``credentials`` is None. Stores nothing. Raises NotFoundError,
        ValidationError (malformed URL, incomplete credentials), ConfigurationError (no stored secret),
        ExternalServiceError (ServerUnreachable, AuthFailed ...)."""
        server = await self._runner.read(self._servers.get_by_name, name)
        check, _ = await self._check_edit(server, url, credentials)
        return check

    async def update(self, name: str, url: str, credentials: Credentials | None) -> ServerUpdate:
        """Gives a stored server a new URL (and, when ``credentials`` is given, a new secret) after a successful
        test of exactly that URL with those credentials, or with the stored secret when ``credentials`` is None.
        The name, kind and sign-in method stay; so do the cached rows and the recorded identity: when the URL
        answers as another install, ``ServerUpdate.warning`` says so and the next sync replaces the rows.

        Nothing changes on any failure. Write order: the secret first, the URL row last. The old secret is read
        before it is replaced, so when the URL write fails (locked or full cache: the likelier failure) putting
        it back is one keychain write that does not depend on the cache; the URL write itself is one SQLite
        transaction, all or nothing. A crash between the two writes leaves the old URL with the new secret: the
        next sync or test fails with a message and no cached row is lost; repeating the edit fixes it. A draft
        becomes verified, as with :meth:`test`.

        Coroutine for the event loop. Raises NotFoundError, ValidationError (malformed or non-http(s) URL,
        incomplete credentials), ConfigurationError (no stored secret), ExternalServiceError (ServerUnreachable,
        AuthFailed ...), CacheError."""
        server = await self._runner.read(self._servers.get_by_name, name)
        check, (new_url, token) = await self._check_edit(server, url, credentials)
        old_secret: str | None = None
        if token is not None:
            old_secret = await self._runner.net(self._secrets.get, server.secret_ref)
            await self._runner.net(self._secrets.set, server.secret_ref, token)
        try:
            updated: Server = await self._runner.db(self._servers.set_url, server.id, new_url)
        except BaseException:
            if token is not None:  # undo: the URL did not change, so neither may the secret
                if old_secret is None:
                    await self._runner.net(self._secrets.delete, server.secret_ref)
                else:
                    await self._runner.net(self._secrets.set, server.secret_ref, old_secret)
            raise
        mark = getattr(self._servers, "mark_verified", None)
        if mark is not None:  # a successful test verifies a draft: from now on it is synced and watched
            updated = await self._runner.db(mark, server.id, check.identity, self._clock())
        return ServerUpdate(updated, check)

    async def _check_edit(
        self, server: Server, url: str, credentials: Credentials | None
    ) -> tuple[EditCheck, tuple[str, str | None]]:
        """Validates and tests an edit. Returns the check and (normalised URL, token to store or None to keep
        the stored secret)."""
        new_url = normalize_server_url(url, server.name)[0]
        new = NewServer(server.name, server.kind, new_url, server.auth_method)
        if credentials is not None:
            validate_new_server(new, credentials)
            result: ConnectResult = await self._runner.net(self._clients.authenticate, new, credentials)
            await self._runner.read(self._refuse_duplicate, result.identity, server.id)
            check = EditCheck(result.identity, identity_warning(server, result.identity))
            return check, (new_url, result.token)
        identity = await self._identity_with_stored_secret(dataclasses.replace(server, url=new_url))
        await self._runner.read(self._refuse_duplicate, identity, server.id)
        return EditCheck(identity, identity_warning(server, identity)), (new_url, None)

    async def _identity_with_stored_secret(self, server: Server) -> ServerIdentity:
        """Connects to ``server.url`` with the stored secret and reads the identity (checked against the minimum
        version). Raises ConfigurationError (no stored secret), ExternalServiceError, UnsupportedVersion."""
        client = await self._connector.connect(server, enabled_only=False)
        try:
            identity: ServerIdentity = await self._runner.net(client.identity)
        finally:
            await self._runner.net(client.close)
        check_version(server.name, identity)
        return identity

    async def remove(self, name: str) -> Server:
        """Removes the server, its cached rows and its secret. Raises NotFoundError."""
        server = await self._runner.read(self._servers.get_by_name, name)
        await self._runner.db(self._servers.remove, server.id)
        await self._runner.net(self._secrets.delete, server.secret_ref)
        return server
