"""User management on Plex: a Plex "user" of a server is a plex.tv account the owner shares libraries with.

* create = ``MyPlexAccount.inviteFriend`` (a share pending until the invitee accepts it on plex.tv);
* library access = ``updateFriend`` (PUT the share, or POST a new one for a friend who has none);
* removing access = DELETE of the server's share (what ``updateFriend(removeSections=True)`` sends);
* delete = remove the share, then ``removeFriend`` when the friend has no other server of the owner.

Plex has no disabled accounts and no passwords Zondarr could set: services "disable" by removing the share and
remembering it (``core.ports.ShareMemory``). Section keys are turned into plexapi ``LibrarySection`` objects, so
plexapi maps them to plex.tv section ids itself (names could be ambiguous).

Threading: called by ``PlexClient`` under its lock, on a ``net`` thread; every call blocks. Errors: only
``core.errors`` (NotFoundError / ValidationError for the admin's input, ExternalServiceError for plex.tv).
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree.ElementTree import Element

from plexapi.library import LibrarySection
from plexapi.myplex import MyPlexAccount, MyPlexUser
from plexapi.server import PlexServer

from app.core.errors import NotFoundError, ValidationError
from app.core.models import RemoteUser, Restrictions
from app.servers.translate import BadBody
from app.servers.transport import GuardedSession
from app.servers.user_common import calling, not_supported

PLEX_TV = "https://plex.tv"


class PlexUserAdmin:
    """One use of the plex.tv account behind a connected Plex server (build one per call)."""

    def __init__(self, name: str, server: PlexServer, session: GuardedSession, token: str) -> None:
        self._name = name
        self._server = server
        self._session = session
        self._token = token
        self._mid = str(server.machineIdentifier)

    def _account(self) -> MyPlexAccount:
        return MyPlexAccount(token=self._token, session=self._session)

    def _sections(self, keys: Sequence[str] | None) -> list[LibrarySection]:
        """The server's sections for ``keys`` (every section for None). Raises ValidationError naming a key
        the server no longer has."""
        sections = {str(s.key): s for s in self._server.library.sections()}
        if keys is None:
            return list(sections.values())
        missing = [k for k in keys if k not in sections]
        if missing:
            raise ValidationError(
                f"{self._name}: the library {', '.join(missing)} no longer exists on this server.",
                remedy="Edit the invitation or the access and pick libraries that exist.",
            )
        return [sections[k] for k in keys]

    def _shares(self, account: MyPlexAccount) -> list[Element]:
        root = account.query(f"{PLEX_TV}/api/servers/{self._mid}/shared_servers")
        if not isinstance(root, Element):
            raise BadBody("shared_servers is not XML")
        return list(root.iter("SharedServer"))

    @staticmethod
    def _matches(share: Element, who: str) -> bool:
        wanted = who.strip().lower()
        return wanted != "" and wanted in (
            (share.get("userID") or "").lower(),
            (share.get("username") or "").lower(),
            (share.get("email") or "").lower(),
        )

    def _friend(self, account: MyPlexAccount, remote_id: str) -> MyPlexUser | None:
        return next((u for u in account.users() if str(u.id) == remote_id), None)

    def _remove_share(self, account: MyPlexAccount, share: Element) -> None:
        url = f"{PLEX_TV}/api/servers/{self._mid}/shared_servers/{share.get('id')}"
        account.query(url, self._session.delete)

    def create(
        self,
        who: str,
        email: str | None,
        library_keys: Sequence[str],
        restrictions: Restrictions | None = None,
    ) -> RemoteUser:
        """Shares ``library_keys`` (every library when empty) with the plex.tv account ``who`` (username or
        email). Raises ValidationError when that account already has this server or a library is missing."""
        with calling(self._name, "sharing libraries on plex.tv", (self._token,)):
            account = self._account()
            if any(self._matches(s, who) for s in self._shares(account)):
                raise ValidationError(
                    f"{self._name}: {who} already has access to this server.",
                    remedy="Pick another plex.tv account, or change that user's libraries instead.",
                )
            self._only_downloads(restrictions)
            sections = self._sections(library_keys) if library_keys else None
            allow_sync = bool(restrictions and restrictions.allow_downloads)
            root = account.inviteFriend(who, self._mid, sections=sections, allowSync=allow_sync)
            share = next(iter(root.iter("SharedServer")), None) if isinstance(root, Element) else None
            user_id = (share.get("userID") if share is not None else None) or ""
            username = (share.get("username") if share is not None else None) or who
        return RemoteUser(
            remote_id=user_id if user_id not in ("", "0") else who,
            username=username,
            email=email or (who if "@" in who else None),
            library_keys=tuple(library_keys) or None,
        )

    def set_access(self, remote_id: str, library_keys: Sequence[str] | None) -> None:
        """Shares exactly ``library_keys`` (None = every library; empty = removes this server's share).
        Raises NotFoundError when the account is neither a friend nor invited."""
        with calling(self._name, "changing library access on plex.tv", (self._token,)):
            account = self._account()
            share = next((s for s in self._shares(account) if self._matches(s, remote_id)), None)
            if library_keys is not None and len(library_keys) == 0:
                if share is not None:
                    self._remove_share(account, share)
                return
            sections = self._sections(library_keys)
            friend = self._friend(account, remote_id)
            if friend is not None and (share is None or library_keys is not None):
                # no share yet: updateFriend POSTs one (no sections = every library, like plex.tv's own UI)
                account.updateFriend(friend, self._mid, sections=None if library_keys is None else sections)
                return
            if share is None:
                raise NotFoundError(
                    f"{self._name}: no plex.tv account {remote_id} is shared with or invited to this server.",
                    remedy="Sync the server to refresh its users.",
                )
            # an invitation not accepted yet: change the pending share itself (what updateFriend PUTs)
            ids = account._getSectionIds(self._mid, sections)
            url = f"{PLEX_TV}/api/servers/{self._mid}/shared_servers/{share.get('id')}"
            body = {"server_id": self._mid, "shared_server": {"library_section_ids": ids}}
            account.query(url, self._session.put, json=body, headers={"Content-Type": "application/json"})

    def _only_downloads(self, restrictions: Restrictions | None) -> None:
        if restrictions is not None and (
            restrictions.max_sessions is not None or restrictions.allow_remote is not None
        ):
            raise not_supported(
                self._name, "Plex", "limit sessions or remote access", 'plex.tv only has "allow downloads".'
            )

    def set_restrictions(self, remote_id: str, restrictions: Restrictions) -> None:
        """plex.tv "allow sync" of the friend (``PUT /api/v2/sharings/{id}?allowSync=``). Raises ValidationError
        for the fields Plex does not have, NotFoundError for an account that is not a friend (yet)."""
        self._only_downloads(restrictions)
        if restrictions.allow_downloads is None:
            return
        with calling(self._name, "changing a user's restrictions on plex.tv", (self._token,)):
            account = self._account()
            friend = self._friend(account, remote_id)
            if friend is None:
                raise NotFoundError(
                    f"{self._name}: {remote_id} has not accepted the invitation yet.",
                    remedy="Try again once they accepted it on plex.tv.",
                )
            account.updateFriend(friend, self._mid, allowSync=restrictions.allow_downloads)

    def resend(self, remote_id: str) -> None:
        """Sends a pending invitation again: plex.tv has no "resend", so the pending share is removed and made
        again with the same libraries (plex.tv mails the invitee anew). Raises NotFoundError when nothing is
        pending for ``remote_id``, ValidationError when it was accepted meanwhile."""
        with calling(self._name, "sending an invitation again on plex.tv", (self._token,)):
            account = self._account()
            share = next((s for s in self._shares(account) if self._matches(s, remote_id)), None)
            if share is None:
                raise NotFoundError(
                    f"{self._name}: no invitation for {remote_id} is pending on plex.tv.",
                    remedy="Sync the server's users, then invite them again if needed.",
                )
            if (share.get("acceptedAt") or "0") not in ("0", ""):
                raise ValidationError(
                    f"{self._name}: {remote_id} has accepted the invitation already.", remedy=""
                )
            who = share.get("email") or share.get("username") or remote_id
            keys = None
            if share.get("allLibraries") != "1":
                keys = [s.get("key") or "" for s in share.iter("Section") if s.get("shared") == "1"]
            sections = self._sections(keys)
            self._remove_share(account, share)
            account.inviteFriend(who, self._mid, sections=sections)

    def sharing_allowed(self) -> bool:
        """Whether the owner's plex.tv account may share (its e-mail address is verified)."""
        with calling(self._name, "reading the plex.tv account", (self._token,)):
            return bool(self._account().confirmed)

    def delete(self, remote_id: str) -> None:
        """Removes this server's share (or pending invitation); a friend left without any server of the owner
        is removed as a friend too. Raises NotFoundError when there is nothing to remove."""
        with calling(self._name, "removing a user on plex.tv", (self._token,)):
            account = self._account()
            share = next((s for s in self._shares(account) if self._matches(s, remote_id)), None)
            friend = self._friend(account, remote_id)
            if share is None and friend is None:
                raise NotFoundError(
                    f"{self._name}: no plex.tv account {remote_id} is shared with this server.",
                    remedy="Sync the server to refresh its users.",
                )
            if share is not None:
                self._remove_share(account, share)
            if friend is not None and all(s.machineIdentifier == self._mid for s in friend.servers):
                account.removeFriend(friend)
