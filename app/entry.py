"""The ``zondarr`` / ``python -m app`` entry point: the window without loading the command line first.

Without a subcommand (only ``--data-dir``, ``--demo``, ``--self-test``, ``--hidden``) it opens the window through
``app.main.run_gui`` having imported nothing but the standard library and ``app.storage.paths``; every other
command line (a subcommand, ``-h``/``--help``, ``--version``, an abbreviated or unknown option, a usage error)
goes to ``app.cli.main`` unchanged, so the CLI's parser stays the one place that defines, documents and rejects
options.
Main thread; returns the process exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from app.storage.paths import default_data_dir


class GuiOptions(NamedTuple):
    data_dir: Path | None
    demo: bool
    self_test: bool
    hidden: bool = False  # start in the tray (the start-at-login entry)


def gui_options(argv: Sequence[str]) -> GuiOptions | None:
    """The window's options when ``argv`` holds nothing else, parsed as ``app.cli.build_parser()`` parses them
    (the last ``--data-dir`` wins); None for anything else, which the CLI's parser then handles."""
    data_dir: str | None = None
    demo = self_test = hidden = False
    args = iter(argv)
    for arg in args:
        if arg == "--demo":
            demo = True
        elif arg == "--self-test":
            self_test = True
        elif arg == "--hidden":
            hidden = True
        elif arg == "--data-dir":
            value = next(args, None)
            if value is None or value.startswith("-"):
                return None  # for argparse to judge: a usage error, or a value that looks like an option
            data_dir = value
        elif arg.startswith("--data-dir="):
            data_dir = arg.partition("=")[2]
        else:
            return None
    return GuiOptions(None if data_dir is None else Path(data_dir), demo, self_test, hidden)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    options = gui_options(args)
    if options is None:
        from app.cli.main import main as cli_main

        return cli_main(args, open_window=_open_window)
    data_dir = options.data_dir or default_data_dir()
    return _open_window(data_dir, demo=options.demo, self_test=options.self_test, hidden=options.hidden)


def _open_window(data_dir: Path, *, demo: bool, self_test: bool, hidden: bool) -> int:
    from app.main import run_gui  # Qt is imported only when the window is wanted

    return run_gui(data_dir, demo=demo, self_test=self_test, hidden=hidden)
