"""``zondarr settings list|set|unset``: the settings stored in the cache, checked before they are stored."""

from __future__ import annotations

import argparse

from app.cli.render import (
    print_json,
    with_json,
)
from app.core.errors import ValidationError
from app.core.settings import Settings
from app.services.context import AppContext

EXIT_OK = 0


async def cmd_settings(ctx: AppContext, args: argparse.Namespace) -> int:
    """`settings [list]`, `settings set NAME VALUE` (validated before it is stored), `settings unset NAME`."""
    stored = ctx.settings_store.load_raw()
    if args.settings_command == "set":
        if args.name not in Settings.__dataclass_fields__:
            raise ValidationError(
                f"There is no setting named {args.name!r}.", remedy="See `zondarr settings list`."
            )
        Settings.load({**stored, args.name: args.value}, {})  # refuses a bad value, naming it
        await ctx.runner.db(ctx.settings_store.save_raw, {**stored, args.name: args.value})
    elif args.settings_command == "unset":
        await ctx.runner.db(ctx.settings_store.remove_raw, [args.name])
    effective = Settings.load(ctx.settings_store.load_raw()).to_raw()
    if args.json:
        print_json(effective)
    else:
        for name, value in effective.items():
            print(f"{name:<26} {value}")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``settings``."""
    st = with_json(sub.add_parser("settings", help="show or change settings stored in the cache"))
    stsub = st.add_subparsers(dest="settings_command", metavar="ACTION")
    stsub.add_parser("list", help="effective settings (ZONDARR_* variables win)")
    st_set = stsub.add_parser("set", help="store a setting")
    st_set.add_argument("name")
    st_set.add_argument("value")
    st_unset = stsub.add_parser("unset", help="forget a stored setting")
    st_unset.add_argument("name")
    st.set_defaults(in_context=cmd_settings)
