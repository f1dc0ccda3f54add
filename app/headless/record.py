"""`depthdesk record`: save the raw frames of a live feed with their receive times.

    depthdesk record --venue bitmex [--url URL | --testnet] --symbol XBTUSD [--topics ...]
        --out FILE [--duration S] [--idle-exit S]

Every received frame is written as one line and flushed at once (see `app.headless.recording`),
so a crash loses nothing already received. Only incoming frames are written: authentication
frames the client sends never reach the file, and server echoes of them are redacted. A
"reset" marker is written whenever the connection's state became void (reconnect), so a replay
rebuilds exactly what the live client saw.
"""

from __future__ import annotations

import argparse
import sys
import time

from app.feeds.events import Event, Reset
from app.headless.feed import (
    EXIT_OK,
    EXIT_USAGE,
    FeedRunner,
    add_connection_arguments,
    build_request,
    fail,
    install_signal_handlers,
    run_command,
)
from app.headless.recording import MARK_RESET, RecordingWriter


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `depthdesk record`."""
    add_connection_arguments(parser)
    parser.add_argument("--out", required=True, help="recording file to write")


async def run_async(args: argparse.Namespace) -> int:
    """The record command on a running loop."""
    built = build_request(args)
    if isinstance(built, str):
        print(f"depthdesk record: error: {built}", file=sys.stderr)
        return EXIT_USAGE
    spec, request = built
    header = {
        "venue": spec.name,
        "url": request.url.split("?", 1)[0],
        "symbols": request.symbols,
        "topics": request.topics,
    }
    try:
        writer = RecordingWriter(args.out, header)
    except OSError as exc:
        return fail(f"cannot write {args.out}: {exc.strerror or exc}")

    def on_event(event: Event) -> None:
        if isinstance(event, Reset):
            writer.mark(time.time(), MARK_RESET, reason=event.reason)

    runner = FeedRunner(
        spec,
        request,
        on_event=on_event,
        on_raw=writer.frame,
        duration=args.duration,
        idle_exit=args.idle_exit,
    )
    install_signal_handlers(runner.request_stop)
    try:
        outcome = await runner.run()
    finally:
        writer.close()
    if outcome.fatal is not None:
        return fail(outcome.fatal)
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Entry point of `depthdesk record`."""
    return run_command(run_async, args)


__all__ = ["add_arguments", "run", "run_async"]
