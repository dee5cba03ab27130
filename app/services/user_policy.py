"""Which of a server's accounts Zondarr manages, and how (user policy lives here, never in an adapter).

* Accounts on the exclusion list are left out (deliberately deleted users are never re-imported).
* Accounts Zondarr "disabled" by removing their shares (Plex: ``core.ports.ShareMemory``) are listed as disabled,
  with the remembered libraries, so a sync keeps their rows and identity links and the Users page can enable them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from app.core.models import RememberedShare, RemoteUser
from app.core.ports import ExclusionStore, Runner, ShareMemory


def managed_users(
    listed: Sequence[RemoteUser], excluded: set[str], remembered: Iterable[RememberedShare]
) -> list[RemoteUser]:
    """``listed`` minus excluded accounts, plus remembered (disabled) accounts the server no longer lists. An
    empty answer stays empty (callers treat "zero users" as suspicious, not as deletions). Pure function."""
    if not listed:
        return list(listed)
    out = [u for u in listed if u.remote_id not in excluded]
    seen = {u.remote_id for u in listed}
    for share in remembered:
        if share.remote_id not in seen and share.remote_id not in excluded:
            out.append(
                RemoteUser(
                    remote_id=share.remote_id,
                    username=share.username or share.remote_id,
                    is_disabled=True,
                    library_keys=share.library_keys,
                )
            )
    return out


class UserPolicy:
    """Applies ``managed_users`` with the stores' current exclusions and remembered shares (read off the loop)."""

    def __init__(self, exclusions: ExclusionStore, shares: ShareMemory, runner: Runner) -> None:
        self._exclusions = exclusions
        self._shares = shares
        self._runner = runner

    async def apply(self, server_id: int, listed: Sequence[RemoteUser]) -> list[RemoteUser]:
        if not listed:
            return list(listed)
        excluded = await self._runner.read(self._exclusions.excluded, server_id)
        remembered = await self._runner.read(self._shares.remembered, server_id)
        return managed_users(listed, excluded, remembered)
