"""`depthdesk gui` (the default command): arguments and entry point. No Qt at import time."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the window command."""
    from app.gui import venues  # constants only: no Qt

    venue = parser.add_mutually_exclusive_group()
    venue.add_argument(
        "--demo", action="store_true", help="start the embedded simulator and connect to it"
    )
    venue.add_argument("--testnet", action="store_true", help="connect to BitMEX testnet")
    venue.add_argument("--url", help="connect to this BitMEX-compatible realtime URL")
    venue.add_argument(
        "--venue",
        choices=venues.SELECTABLE,
        help="venue to show first (the demo ones run on the embedded simulator)",
    )
    venue.add_argument(
        "--replay",
        metavar="FILE",
        help="play a recording (depthdesk record, or a cryptofeed capture) into the window",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        metavar="X",
        help="replay pace: 1 as recorded (default), 10 ten times faster, 0 as fast as possible",
    )
    parser.add_argument("--symbol", help="instrument to show (default: the last one, or XBTUSD)")
    parser.add_argument(
        "--screenshot",
        metavar="FILE.png",
        help="save a picture of the whole window before quitting (use with --quit-after)",
    )
    parser.add_argument(
        "--quit-after",
        type=float,
        metavar="S",
        help="run for S seconds, then quit cleanly (exit status 0)",
    )
    parser.add_argument(
        "--settings",
        metavar="FILE.ini",
        help="keep layout and options in this ini file instead of the user's settings",
    )
    parser.add_argument("--theme", choices=("dark", "light"), help="colour theme")
    parser.add_argument("--seed", type=int, default=1, help="simulator seed for --demo")
    parser.add_argument(
        "--market",
        action="append",
        default=[],
        metavar="VENUE:SYMBOL",
        help="also open a ladder, tape and chart for this venue and symbol (repeatable), "
        "e.g. bitmart-demo:XBTUSD",
    )


def run(args: argparse.Namespace) -> int:
    """Open the window (imports Qt only now)."""
    if getattr(args, "speed", 1.0) < 0:
        print("depthdesk: error: --speed must be >= 0", file=sys.stderr)
        return 2
    problem = replay_problem(args)
    if problem is not None:
        print(f"depthdesk: error: {problem}", file=sys.stderr)
        return 1
    from app.gui.runner import run_window

    return run_window(args)


def replay_problem(args: argparse.Namespace) -> str | None:
    """Why `--replay FILE` cannot be played (checked before any window opens), else None."""
    path = getattr(args, "replay", None)
    if path is None:
        return None
    from app.headless.replay import ReplayFeed

    try:
        ReplayFeed(path, lambda _event: None)
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    except (ValueError, UnicodeDecodeError) as exc:
        return f"cannot replay {path}: {exc}"
    return None
