"""``zondarr backup create|list|restore`` (DESIGN §3, §6). ``create`` runs over the open cache like other
commands; ``list`` and ``restore`` never open it (a damaged cache is exactly when they are needed, and a restore
must be the only process holding the file)."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from app.cli.render import print_json, with_json
from app.core.models import Backup
from app.services.context import AppContext
from app.storage.backups import list_backups, restore_backup
from app.storage.paths import default_data_dir

EXIT_OK = 0


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir) if args.data_dir else default_data_dir()


def _line(b: Backup) -> str:
    made = datetime.fromtimestamp(b.created_at).strftime("%Y-%m-%d %H:%M")
    return f"{b.name:<52} {made}  {b.reason:<22} {b.size / 1e6:>8.1f} MB  schema {b.schema_version}"


async def cmd_backup_create(ctx: AppContext, args: argparse.Namespace) -> int:
    backup = await ctx.backups.create("manual")
    if args.json:
        print_json(backup.to_json())
    else:
        print(
            f"Backed up the cache to {backup.name} ({backup.size / 1e6:.1f} MB) in the data folder's backups."
        )
    return EXIT_OK


def cmd_backup_list(args: argparse.Namespace) -> int:
    found = list_backups(_data_dir(args))
    if args.json:
        print_json([b.to_json() for b in found])
    elif not found:
        print("No backups yet. Make one with `zondarr backup create` (Zondarr also makes one every day).")
    else:
        for b in found:
            print(_line(b))
    return EXIT_OK


def cmd_backup_restore(args: argparse.Namespace) -> int:
    restored, kept = restore_backup(_data_dir(args), args.backup)
    if args.json:
        print_json({"restored": restored.to_json(), "kept": kept})
    else:
        print(f"Restored {restored.name}.")
        if kept:
            print(f"The cache it replaced was kept as {kept} (zondarr backup restore {kept} brings it back).")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = sub.add_parser("backup", help="back up the cache file, list backups, restore one")
    bsub = backup.add_subparsers(dest="backup_command", metavar="ACTION", required=True)
    with_json(bsub.add_parser("create", help="make a backup now")).set_defaults(in_context=cmd_backup_create)
    with_json(bsub.add_parser("list", help="backups, newest first")).set_defaults(standalone=cmd_backup_list)
    restore = with_json(
        bsub.add_parser("restore", help="replace the cache with a backup (Zondarr must be closed everywhere)")
    )
    restore.add_argument("backup", metavar="NAME|PATH", help="a name from `backup list`, or a backup file")
    restore.set_defaults(standalone=cmd_backup_restore)
