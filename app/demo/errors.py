"""The errors a demo server raises: the demo shares no code with the app (a stand-in that shared the app's code
would share its mistakes), so it has its own.

Each carries what happened (``user_message``) and what to do (``remedy``); the command line and the window turn
them into the app's own errors at their edge (``app/cli``), where a ``DemoConfigError`` is a usage error.
"""

from __future__ import annotations


class DemoError(Exception):
    """A demo server could not be built or started. ``str()`` is the message followed by the remedy."""

    def __init__(self, user_message: str, *, remedy: str = "", detail: str = "") -> None:
        self.user_message = user_message
        self.remedy = remedy
        self.detail = detail  # the underlying exception, for the log; never shown
        super().__init__(f"{user_message} {remedy}".strip())


class DemoConfigError(DemoError):
    """A demo config (kind, sizes) or fault spec is not valid."""


class DemoListenError(DemoError):
    """The demo server's address cannot be bound."""
