"""User management on Jellyfin (SERVER-PROTOCOLS.md (d)): ``POST Users/New``, ``GET Users/{id}`` →
``Policy`` changed and posted back to ``POST Users/{id}/Policy`` (a real server refuses a policy without its
provider ids, so the current one is always read first), ``DELETE Users/{id}``.

Threading: called by ``JellyfinClient`` under its lock, on a ``net`` thread; every call blocks. Errors: only
``core.errors`` (NotFoundError / ValidationError for the admin's input, ExternalServiceError for the server).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.core.errors import NotFoundError, ServerError, ValidationError
from app.core.models import RemoteUser, Restrictions
from app.servers import jellyfin_parse
from app.servers.translate import BadBody, HttpStatus
from app.servers.user_common import calling


def apply_restrictions(policy: dict[str, Any], restrictions: Restrictions) -> None:
    """Writes the fields of ``restrictions`` that are set into a Jellyfin ``UserPolicy`` (in place)."""
    if restrictions.max_sessions is not None:
        policy["MaxActiveSessions"] = max(0, restrictions.max_sessions)
    if restrictions.allow_downloads is not None:
        policy["EnableContentDownloading"] = restrictions.allow_downloads
    if restrictions.allow_remote is not None:
        policy["EnableRemoteAccess"] = restrictions.allow_remote


class JellyfinUserAdmin:
    """Wraps the library's API object (``client.jellyfin``) of a connected server."""

    def __init__(self, name: str, api: Any, token: str) -> None:
        self._name = name
        self._api = api
        self._token = token

    def _policy(self, remote_id: str) -> dict[str, Any]:
        try:
            user = self._api.get_user(remote_id)
        except HttpStatus as exc:
            if exc.status in (400, 404):
                raise NotFoundError(
                    f"{self._name}: there is no user with id {remote_id} on this server.",
                    remedy="Sync the server to refresh its users.",
                ) from None
            raise
        policy = user.get("Policy") if isinstance(user, dict) else None
        if not isinstance(policy, dict):
            raise BadBody("Users/{id} has no Policy")
        return dict(policy)

    def _post_policy(self, remote_id: str, policy: dict[str, Any]) -> None:
        self._api._post(f"Users/{remote_id}/Policy", json=policy)

    def _check_libraries(self, keys: Sequence[str]) -> None:
        known = {lib.key for lib in jellyfin_parse.music_folders(self._api.virtual_folders())}
        missing = [k for k in keys if k not in known]
        if missing:
            raise ValidationError(
                f"{self._name}: the library {', '.join(missing)} no longer exists on this server.",
                remedy="Edit the invitation or the access and pick libraries that exist.",
            )

    def create(
        self,
        username: str,
        password: str | None,
        library_keys: Sequence[str],
        restrictions: Restrictions | None = None,
    ) -> RemoteUser:
        """Creates the user, then limits it to ``library_keys`` (every library when empty). When the policy
        cannot be set the new user is deleted again, so no account with too much access is left behind."""
        name = username.strip()
        if not name:
            raise ValidationError("A user name is needed.", remedy="Enter the new user's name.")
        if password is None:
            raise ValidationError(
                f"{self._name}: a Jellyfin account needs a password.", remedy="Pass the password on stdin."
            )
        with calling(self._name, "creating a user", (self._token, password)):
            if library_keys:
                self._check_libraries(library_keys)
            users = jellyfin_parse.users(self._api.get_users())
            if any(u.username.lower() == name.lower() for u in users):
                raise ValidationError(
                    f"{self._name}: the user name {name} is taken.", remedy="Pick another user name."
                )
            created = self._api.new_user(name, password)
            remote_id = created.get("Id") if isinstance(created, dict) else None
            if not isinstance(remote_id, str) or not remote_id:
                raise BadBody("Users/New answered without an Id")
            try:
                policy = self._policy(remote_id)
                policy["EnableAllFolders"] = not library_keys
                policy["EnabledFolders"] = list(library_keys)
                if restrictions is not None:
                    apply_restrictions(policy, restrictions)
                self._post_policy(remote_id, policy)
            except BaseException:
                try:
                    self._api.delete_user(remote_id)
                except Exception:  # best effort: the policy failure is what the admin must see
                    pass
                raise
        return RemoteUser(remote_id=remote_id, username=name, library_keys=tuple(library_keys) or None)

    def set_disabled(self, remote_id: str, disabled: bool) -> None:
        with calling(self._name, "changing a user", (self._token,)):
            policy = self._policy(remote_id)
            if policy.get("IsAdministrator") and disabled:
                raise ValidationError(
                    f"{self._name}: an administrator cannot be disabled from Zondarr.",
                    remedy="Remove the administrator role on the server first.",
                )
            policy["IsDisabled"] = disabled
            self._post_policy(remote_id, policy)

    def set_access(self, remote_id: str, library_keys: Sequence[str] | None) -> None:
        with calling(self._name, "changing library access", (self._token,)):
            if library_keys:
                self._check_libraries(library_keys)
            policy = self._policy(remote_id)
            policy["EnableAllFolders"] = library_keys is None
            policy["EnabledFolders"] = list(library_keys or ())
            self._post_policy(remote_id, policy)

    def quick_connect_enabled(self) -> bool:
        with calling(self._name, "asking whether Quick Connect is on", (self._token,)):
            return self._api._get("QuickConnect/Enabled") is True

    def authorize_device(self, remote_id: str, code: str) -> None:
        """Approves the device showing Quick Connect ``code`` as the account ``remote_id`` (an administrator's
        token may approve for anyone). Raises ValidationError for a malformed or unknown/expired code and when
        Quick Connect is off; NotFoundError for an unknown account."""
        digits = code.strip().replace(" ", "")
        if len(digits) != 6 or not digits.isdigit():
            raise ValidationError(
                f"{code!r} is not a Quick Connect code.", remedy="Type the 6 digits the Jellyfin app shows."
            )
        with calling(self._name, "signing in a device with Quick Connect", (self._token,)):
            if not self.quick_connect_enabled():
                raise ValidationError(
                    f"{self._name}: Quick Connect is turned off on this server.",
                    remedy="Turn it on in the Jellyfin dashboard (General → Quick Connect), then try again.",
                )
            self._policy(remote_id)  # NotFoundError for an account the server no longer has
            try:
                self._api._post("QuickConnect/Authorize", params={"code": digits, "userId": remote_id})
            except HttpStatus as exc:
                if exc.status == 404:
                    raise ValidationError(
                        f"{self._name}: no device is waiting with the code {digits}.",
                        remedy="Codes last about 10 minutes: ask them to start Quick Connect again and read "
                        "the new code.",
                    ) from None
                if exc.status in (401, 403):
                    raise ValidationError(
                        f"{self._name}: Zondarr's account may not sign in devices for other users.",
                        remedy="Connect this server with an administrator account or an API key.",
                    ) from None
                raise

    def set_restrictions(self, remote_id: str, restrictions: Restrictions) -> None:
        """Policy read-modify-write: ``MaxActiveSessions``, ``EnableContentDownloading``, ``EnableRemoteAccess``."""
        if restrictions.empty:
            return
        with calling(self._name, "changing a user's restrictions", (self._token,)):
            policy = self._policy(remote_id)
            apply_restrictions(policy, restrictions)
            self._post_policy(remote_id, policy)

    def delete(self, remote_id: str) -> None:
        with calling(self._name, "deleting a user", (self._token,)):
            policy = self._policy(remote_id)  # NotFoundError for an unknown id
            if policy.get("IsAdministrator"):
                raise ValidationError(
                    f"{self._name}: an administrator cannot be deleted from Zondarr.",
                    remedy="Remove the administrator role on the server first.",
                )
            try:
                self._api.delete_user(remote_id)
            except HttpStatus as exc:
                if exc.status == 404:
                    return  # gone already: the goal is reached
                raise ServerError(
                    self._name, f"{self._name}: the server refused to delete the user (HTTP {exc.status})."
                ) from None
