"""``python -m app.demo --kind plex|jellyfin [...]``: run one demo server in the foreground (same as the
``zondarr demo-server`` subcommand). Exit codes: 0 stopped by a signal, 2 usage error."""

from __future__ import annotations

import argparse
import sys

from app.core.errors import ZondarrError
from app.demo.server import DemoConfig, serve_forever


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.demo", description="Run a demo Plex or Jellyfin server.")
    p.add_argument("--kind", choices=("plex", "jellyfin"), required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--tracks", type=int, default=1000)
    p.add_argument("--users", type=int, default=5)
    p.add_argument("--libraries", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--token", default=None)
    p.add_argument("--faults", default="")
    args = p.parse_args(argv)
    config = DemoConfig(
        kind=args.kind,
        host=args.host,
        port=args.port,
        tracks=args.tracks,
        users=args.users,
        libraries=args.libraries,
        seed=args.seed,
        token=args.token,
        faults=args.faults,
    )
    try:
        return serve_forever(config)
    except ZondarrError as exc:
        print(exc.display(), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
