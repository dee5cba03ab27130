"""The demo's test/control endpoint, ``POST /zondarr-demo/edit``: edits the library as an admin would on a real
server (see ``edits.LibraryEdits``). Answers only loopback callers holding the server's token, so a demo server
bound to another address cannot be edited from the network.

Body (JSON): ``{"op": "edit_track", "index": 12, "title": "New"}``, ``{"op": "rate_track", "index": 12,
"rating": 8.0}``, ``{"op": "add_track", "album": 3, "title": "Bonus"}``, ``{"op": "delete_track", "index": 12}``,
``{"op": "edit_album", "album": 3, "genres": ["Jazz"], "year": 1999}``; ``{"op": "faults", "spec": "..."}``
replaces the server's faults (a benchmark in another process slows pages down after a fast first sync). Answer:
the item's ids as JSON.
"""

from __future__ import annotations

import ipaddress
import json

from app.demo.context import DemoContext
from app.demo.edits import EditError
from app.demo.errors import DemoConfigError
from app.demo.transport import Reply, Request

PATH = "/zondarr-demo/edit"
_EDITABLE = frozenset({"title", "artist", "duration_ms", "track_no", "disc_no"})


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _reply(status: int, data: object) -> Reply:
    return Reply(status, json.dumps(data).encode(), "application/json")


def handle(ctx: DemoContext, request: Request) -> Reply:
    """Applies one edit. 403 for a caller not on loopback, 400 for a bad body, 404 for an unknown item."""
    if request.method != "POST" or not is_loopback(request.client):
        return _reply(403, {"error": "the control endpoint answers loopback POSTs only"})
    edits = ctx.edits
    try:
        body = json.loads(request.body or b"{}")
        op = body["op"]
        if op == "faults":
            ctx.set_faults(str(body["spec"]))
            return _reply(200, {"faults": str(body["spec"])})
        if op == "edit_track":
            changes = {k: v for k, v in body.items() if k in _EDITABLE}
            t = edits.edit_track(int(body["index"]), **changes)
        elif op == "rate_track":
            rating = body.get("rating")
            t = edits.rate_track(int(body["index"]), None if rating is None else float(rating))
        elif op == "add_track":
            t = edits.add_track(int(body["album"]), str(body["title"]))
        elif op == "delete_track":
            edits.delete_track(int(body["index"]))
            return _reply(200, {"index": int(body["index"])})
        elif op == "edit_album":
            genres = body.get("genres")
            a = edits.edit_album(
                int(body["album"]),
                genres=None if genres is None else tuple(str(g) for g in genres),
                year=body.get("year", -1),
            )
            return _reply(200, {"album": a.index, "plex_id": a.plex_id, "jellyfin_id": a.jellyfin_id})
        else:
            return _reply(400, {"error": f"unknown op {op!r}"})
    except EditError as exc:
        return _reply(404, {"error": str(exc)})
    except DemoConfigError as exc:
        return _reply(400, {"error": f"bad faults: {exc}"})
    except (ValueError, KeyError, TypeError) as exc:
        return _reply(400, {"error": f"bad edit: {exc}"})
    return _reply(200, {"index": t.index, "plex_id": t.plex_id, "jellyfin_id": t.jellyfin_id})
