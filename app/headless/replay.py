"""`depthdesk replay`: play a recording back as a feed, and the `ReplayFeed` the window uses.

    depthdesk replay FILE [--speed X] [--events] [--book-out FILE] [--symbol SYM] [--venue V]

Frames go through the venue's engine exactly as they did live; "reset" markers (reconnects)
drop the engine's state as the live client did. `--speed 1` (default) keeps the recorded pacing,
`--speed 10` plays ten times faster, `--speed 0` as fast as possible. Recordings of
`depthdesk record` and the cryptofeed captures under tests/fixtures are both accepted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.feeds.events import Event, FeedStatus
from app.headless.feed import (
    EXIT_OK,
    EXIT_USAGE,
    VENUES,
    EventPrinter,
    FeedCounters,
    FrameReplayer,
    book_out_paths,
    fail,
    install_signal_handlers,
    run_command,
    split_list,
    write_book_out,
)
from app.headless.recording import MARK_RESET, iter_recording, read_header

DEFAULT_VENUE = "bitmex"


@dataclass
class ReplayStats:
    """Counters of one replay."""

    frames: int = 0
    reconnects: int = 0
    events: int = 0
    last_t: float | None = None


class ReplayFeed:
    """A recording played through a venue engine, with the face of a live client.

    `run()` emits `FeedStatus` live at the start and down at the end, the engine's events in
    between; `close()` stops it early. Usable headless and from the window's loop.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        on_event: Callable[[Event], None],
        *,
        speed: float = 1.0,
        venue: str | None = None,
        replayer: FrameReplayer | None = None,
    ) -> None:
        self.path = Path(path)
        self.header = read_header(self.path)
        self.venue = venue or str(self.header.get("venue") or DEFAULT_VENUE)
        spec = VENUES.get(self.venue)
        if replayer is None:
            if spec is None or spec.make_replayer is None:
                raise ValueError(f"no replay support for venue {self.venue!r}")
            replayer = spec.make_replayer()
        self.engine: Any = replayer
        self.spec = spec
        self.on_event = on_event
        self.speed = speed
        self.stats = ReplayStats()
        self._closed = False

    def _emit(self, events: list[Event]) -> None:
        self.stats.events += len(events)
        for event in events:
            self.on_event(event)

    async def run(self) -> None:
        """Play the whole recording (or until `close()`)."""
        self.on_event(FeedStatus(self.venue, "live", f"replaying {self.path.name}"))
        engine = self.engine
        async for entry in iter_recording(self.path, self.speed):
            if self._closed:
                break
            self.stats.last_t = entry.t
            if entry.frame is not None:
                self.stats.frames += 1
                self._emit(engine.apply(entry.frame))
            elif entry.mark == MARK_RESET:
                if self.stats.frames:
                    self.stats.reconnects += 1
                self._emit(engine.reset(str(entry.info.get("reason", "reconnected"))))
        detail = "replay stopped" if self._closed else "end of recording"
        self.on_event(FeedStatus(self.venue, "down", detail, self.stats.reconnects))

    def request_fresh_book(self, symbol: str, reason: str) -> bool:
        """A recording cannot be asked for a fresh book: a crossed book stays as recorded until
        a recorded message uncrosses it. Always False."""
        return False

    def stop(self) -> None:
        """Stop playing at the next entry."""
        self._closed = True

    async def close(self) -> None:
        """Stop playing."""
        self.stop()

    def counters(self) -> FeedCounters:
        """Counters for `--book-out`."""
        if self.spec is not None and self.spec.replayer_counters is not None:
            base = self.spec.replayer_counters(self.engine)
        else:
            base = FeedCounters(connected=True)
        return FeedCounters(
            reconnects=self.stats.reconnects,
            resyncs=base.resyncs,
            dropped_before_partial=base.dropped_before_partial,
            connected=True,
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `depthdesk replay`."""
    parser.add_argument("file", help="recording to play")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="pace factor (default 1; 0 = as fast as possible)"
    )
    parser.add_argument("--venue", choices=sorted(VENUES), help="venue (default: from the file)")
    parser.add_argument("--symbol", action="append", help="symbol(s) for --book-out")
    parser.add_argument("--events", action="store_true", help="print events as JSON lines")
    parser.add_argument(
        "--book-out",
        help="write the final book state as JSON to FILE (several symbols: {symbol} in FILE)",
    )


async def run_async(args: argparse.Namespace) -> int:
    """The replay command on a running loop."""
    if args.speed < 0:
        print("depthdesk replay: error: --speed must be >= 0", file=sys.stderr)
        return EXIT_USAGE
    from app.state.market import MarketState

    printer = EventPrinter() if args.events else None
    state: MarketState | None = None

    def on_event(event: Event) -> None:
        assert state is not None
        state.apply(event)
        if printer is not None:
            printer(event)

    try:
        feed = ReplayFeed(args.file, on_event, speed=args.speed, venue=args.venue)
    except OSError as exc:
        return fail(f"cannot read {args.file}: {exc.strerror or exc}")
    except ValueError as exc:
        return fail(str(exc))
    state = MarketState(feed.venue)
    known = _book_symbols(args, feed)
    if args.book_out and known:
        early = book_out_paths(args.book_out, known)
        if isinstance(early, str):
            return fail(early)
    install_signal_handlers(feed.stop)
    try:
        await feed.run()
    except (OSError, UnicodeDecodeError) as exc:
        return fail(f"cannot read {args.file}: {exc}")
    if args.book_out:
        symbols = known or [s for s in state.symbols() if state.has_book(s)]
        if not symbols:
            return fail(f"{args.file}: no symbols to write (use --symbol)")
        paths = book_out_paths(args.book_out, symbols)
        if isinstance(paths, str):
            return fail(paths)
        write_book_out(paths, state, feed.counters())
    return EXIT_OK


def _book_symbols(args: argparse.Namespace, feed: ReplayFeed) -> list[str]:
    """The symbols `--book-out` writes: `--symbol`, else the recording header's."""
    return split_list(args.symbol) or [
        str(s) for s in feed.header.get("symbols", []) if isinstance(s, str)
    ]


def run(args: argparse.Namespace) -> int:
    """Entry point of `depthdesk replay`."""
    return run_command(run_async, args)


__all__ = ["ReplayFeed", "ReplayStats", "add_arguments", "run", "run_async"]
