"""Zondarr: a local-first admin desktop app for Plex and Jellyfin servers."""

__version__ = "0.1.0"
