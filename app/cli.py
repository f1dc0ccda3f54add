"""Depthdesk command line: the window by default, plus headless `feed`, `record`, `replay`, `sim`.

Each subcommand lives in its own module exposing `add_arguments(parser)` and `run(args) -> int`;
modules are imported only when their command runs, so the headless commands never load Qt.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "feed": ("app.headless.feed", "run a venue feed without a window"),
    "record": ("app.headless.record", "record raw frames with receive timestamps"),
    "replay": ("app.headless.replay", "play a recording back as a feed"),
    "sim": ("app.sim.cli", "run the embedded exchange simulator alone"),
    "gui": ("app.gui.launch", "open the terminal window (the default)"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser. With `command`, only that command's module is imported and
    configured (so one broken command cannot stop another); without it, every command is."""
    parser = argparse.ArgumentParser(prog="depthdesk", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if command is None or name == command:
            importlib.import_module(module_name).add_arguments(sub_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the chosen command; no command opens the window."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0] not in SUBCOMMANDS and args_list[0] not in ("-h", "--help")):
        args_list.insert(0, "gui")
    command = args_list[0] if args_list[0] in SUBCOMMANDS else ""
    parser = build_parser(command)
    args = parser.parse_args(args_list)
    module = importlib.import_module(SUBCOMMANDS[args.command][0])
    result: int = module.run(args)
    return result
