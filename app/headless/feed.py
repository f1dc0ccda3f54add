"""`depthdesk feed`: run a venue feed without a window.

    depthdesk feed --venue bitmex [--url URL | --testnet] --symbol XBTUSD
        [--topics orderBookL2,trade,...] [--duration S] [--idle-exit S] [--events] [--book-out FILE]

`--events` prints every normalized event as one JSON line on stdout; `--book-out FILE` writes
the final book state as one JSON object (with several symbols, FILE names `{symbol}` and each
symbol gets its own file); `--idle-exit S` ends cleanly after S seconds without a received
message (heartbeat pongs do not count), `--duration S` after S seconds. Exit status 0 on a
clean end; 1 with one line on stderr for a fatal problem (bad URL, credentials rejected, never
connected); 2 for bad arguments.

A book that stays crossed (messages were lost) is rebuilt from a fresh snapshot where the
venue's channel allows it (`CrossedBookGuard`); each such rebuild counts in the `--book-out`
"resyncs", like any other voided and re-requested book.

Venues come from `VENUES`, a registry of `VenueSpec` entries. Adding a venue is one entry:
a `VenueSpec` with its URLs, default topics, a client factory (a `FeedClient`: `async run()`,
`async close()` and `request_fresh_book()`, reporting events), an optional frame replayer
factory for `depthdesk replay`, and a function reading the client's counters — see
`register_venue`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import orjson

from app.feeds.events import (
    Event,
    FeedError,
    FeedStatus,
    Latency,
    SubscriptionAck,
    event_to_json,
)

EventSink = Callable[[Event], None]
RawSink = Callable[[float, str | bytes], None]
EXIT_OK = 0
EXIT_FATAL = 1
EXIT_USAGE = 2


class FeedClient(Protocol):
    """What the headless runner needs from a venue client."""

    async def run(self) -> None:
        """Connect and reconnect until closed; raise on a fatal problem."""
        ...

    async def close(self) -> None:
        """Stop for good."""
        ...

    def request_fresh_book(self, symbol: str, reason: str) -> bool:
        """Rebuild a symbol's book from a fresh snapshot (emitting Resync); False when the
        venue's channel needs or allows none."""
        ...


class FrameReplayer(Protocol):
    """Applies recorded raw frames without a socket (a venue's engine)."""

    def apply(self, frame: str | bytes) -> list[Event]:
        """Events of one raw frame."""
        ...

    def reset(self, reason: str = "") -> list[Event]:
        """Drop all state (the recorded connection was re-established)."""
        ...


@dataclass(frozen=True)
class FeedCounters:
    """Counters reported in `--book-out`."""

    reconnects: int = 0
    resyncs: int = 0
    dropped_before_partial: int = 0
    connected: bool = False
    last_error: str = ""


@dataclass
class FeedRequest:
    """A venue-neutral description of the feed the user asked for."""

    venue: str
    url: str
    symbols: list[str]
    topics: list[str]
    heartbeat: bool = False
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VenueSpec:
    """One venue of `depthdesk feed` / `record` / `replay`."""

    name: str
    description: str
    live_url: str
    testnet_url: str | None
    default_topics: tuple[str, ...]
    make_client: Callable[[FeedRequest, EventSink, RawSink | None], FeedClient]
    client_counters: Callable[[Any], FeedCounters]
    make_replayer: Callable[[], FrameReplayer] | None = None
    replayer_counters: Callable[[Any], FeedCounters] | None = None
    validate: Callable[[FeedRequest], str | None] | None = None


VENUES: dict[str, VenueSpec] = {}


def register_venue(spec: VenueSpec) -> None:
    """Make a venue available to `--venue` (one entry per venue)."""
    VENUES[spec.name] = spec


# --------------------------------------------------------------------------------- BitMEX


BITMEX_KEY_ENV = "DEPTHDESK_BITMEX_KEY"
BITMEX_SECRET_ENV = "DEPTHDESK_BITMEX_SECRET"


def _bitmex_client(request: FeedRequest, on_event: EventSink, on_raw: RawSink | None) -> Any:
    from app.feeds.bitmex.auth import ApiCredentials
    from app.feeds.bitmex.client import BitmexClient, BitmexConfig

    key = request.env.get(BITMEX_KEY_ENV, "")
    secret = request.env.get(BITMEX_SECRET_ENV, "")
    creds = ApiCredentials(key, secret) if key and secret else None
    config = BitmexConfig(
        url=request.url,
        symbols=list(request.symbols),
        topics=list(request.topics),
        credentials=creds,
        heartbeat_mode=request.heartbeat,
    )
    return BitmexClient(config, on_event, on_raw=on_raw)


def _bitmex_counters(client: Any) -> FeedCounters:
    stats = client.stats
    engine = client.engine.stats
    return FeedCounters(
        reconnects=stats.reconnects,
        resyncs=engine.resyncs,
        dropped_before_partial=engine.dropped_before_partial,
        connected=stats.connects > 0,
        last_error=stats.last_error,
    )


def _bitmex_engine() -> Any:
    from app.feeds.bitmex.engine import BitmexEngine

    return BitmexEngine()


def _bitmex_engine_counters(engine: Any) -> FeedCounters:
    return FeedCounters(
        resyncs=engine.stats.resyncs,
        dropped_before_partial=engine.stats.dropped_before_partial,
        connected=True,
    )


def _bitmex_validate(request: FeedRequest) -> str | None:
    from app.feeds.bitmex.client import BitmexConfig, is_private

    try:
        BitmexConfig(symbols=list(request.symbols), topics=list(request.topics))
    except ValueError as exc:
        return str(exc)
    private = [t for t in request.topics if is_private(t)]
    has_creds = request.env.get(BITMEX_KEY_ENV) and request.env.get(BITMEX_SECRET_ENV)
    if private and not has_creds:
        return (
            f"private topics {','.join(private)} need {BITMEX_KEY_ENV} and "
            f"{BITMEX_SECRET_ENV} in the environment"
        )
    return None


def _register_bitmex() -> None:
    from app.feeds.bitmex.constants import LIVE_URL, TESTNET_URL

    register_venue(
        VenueSpec(
            name="bitmex",
            description="BitMEX realtime (orderBookL2, trade, quote, instrument, private tables)",
            live_url=LIVE_URL,
            testnet_url=TESTNET_URL,
            default_topics=("orderBookL2", "trade", "quote", "instrument"),
            make_client=_bitmex_client,
            client_counters=_bitmex_counters,
            make_replayer=_bitmex_engine,
            replayer_counters=_bitmex_engine_counters,
            validate=_bitmex_validate,
        )
    )


_register_bitmex()


def _register_bitmart() -> None:
    from app.feeds.bitmart.venues import register_bitmart_venues

    register_bitmart_venues()


_register_bitmart()


# --------------------------------------------------------------------------------- output


class EventPrinter:
    """Writes events as JSON lines (one per event), flushed per line.

    When the reader goes away (broken pipe, e.g. `| head`), printing stops and `on_closed` is
    called once so the run can end cleanly.
    """

    def __init__(
        self, stream: IO[bytes] | None = None, on_closed: Callable[[], None] | None = None
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout.buffer
        self.on_closed = on_closed
        self.count = 0
        self.closed = False

    def __call__(self, event: Event) -> None:
        if self.closed:
            return
        try:
            self.stream.write(orjson.dumps(event_to_json(event), option=orjson.OPT_APPEND_NEWLINE))
            self.stream.flush()
        except (BrokenPipeError, ValueError):
            self._reader_gone()
            return
        self.count += 1

    def _reader_gone(self) -> None:
        self.closed = True
        if self.stream is getattr(sys.stdout, "buffer", None):
            # Point stdout at /dev/null so the interpreter's final flush does not fail again.
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
        if self.on_closed is not None:
            self.on_closed()


def write_json_atomic(path: str | os.PathLike[str], payload: Any) -> None:
    """Write JSON to a temporary file and rename it over `path`."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2))
    tmp.replace(target)


SYMBOL_FIELD = "{symbol}"


def book_out_paths(pattern: str, symbols: list[str]) -> dict[str, Path] | str:
    """Where `--book-out` writes each symbol's object: FILE itself for one symbol; for several,
    FILE must contain `{symbol}`, replaced by each symbol. An error text otherwise."""
    if SYMBOL_FIELD not in pattern:
        if len(symbols) > 1:
            return (
                f"--book-out writes one book per file: with {len(symbols)} symbols, put "
                f"{SYMBOL_FIELD} in the file name (e.g. book-{SYMBOL_FIELD}.json)"
            )
        return {symbol: Path(pattern) for symbol in symbols}
    return {symbol: Path(pattern.replace(SYMBOL_FIELD, symbol)) for symbol in symbols}


def book_out_payload(state: Any, symbol: str, counters: FeedCounters) -> dict[str, Any]:
    """The `--book-out` JSON object of one symbol."""
    payload: dict[str, Any] = state.book_snapshot_json(
        symbol,
        resyncs=counters.resyncs,
        reconnects=counters.reconnects,
        dropped_before_partial=counters.dropped_before_partial,
    )
    return payload


def write_book_out(paths: dict[str, Path], state: Any, counters: FeedCounters) -> None:
    """Write each symbol's `--book-out` object to its file."""
    for symbol, path in paths.items():
        write_json_atomic(path, book_out_payload(state, symbol, counters))


def fail(message: str) -> int:
    """Print one line on stderr; the fatal exit status."""
    print(f"depthdesk: error: {message}", file=sys.stderr)
    return EXIT_FATAL


# --------------------------------------------------------------------------------- runner


@dataclass
class FeedOutcome:
    """How a headless run ended."""

    counters: FeedCounters
    fatal: str | None = None
    reason: str = ""


class FeedRunner:
    """Runs one venue client headless with --duration / --idle-exit limits."""

    def __init__(
        self,
        spec: VenueSpec,
        request: FeedRequest,
        *,
        on_event: EventSink,
        on_raw: RawSink | None = None,
        duration: float | None = None,
        idle_exit: float | None = None,
        poll: float = 0.05,
    ) -> None:
        self.spec = spec
        self.request = request
        self.duration = duration
        self.idle_exit = idle_exit
        self.poll = poll
        self._on_event = on_event
        self._on_raw = on_raw
        self._stopping = False
        self._last_rx = time.monotonic()
        self.client = spec.make_client(request, self._event, self._raw)
        self._stop = asyncio.Event()

    def _event(self, event: Event) -> None:
        if self._stopping:
            return
        if not isinstance(event, (FeedStatus, Latency)):
            self._last_rx = time.monotonic()  # data, acks, errors: not pongs or our own statuses
        self._on_event(event)

    def _raw(self, t: float, frame: str | bytes) -> None:
        if self._on_raw is not None and not self._stopping:
            self._on_raw(t, frame)

    def request_stop(self) -> None:
        """End the run cleanly (signal handlers call this)."""
        self._stop.set()

    async def run(self) -> FeedOutcome:
        """Run until a limit, a stop request, or a fatal error."""
        started = time.monotonic()
        self._last_rx = started
        task = asyncio.create_task(self.client.run())
        stopper = asyncio.create_task(self._stop.wait())
        reason = ""
        try:
            while True:
                done, _ = await asyncio.wait({task, stopper}, timeout=self._next_wait(started))
                now = time.monotonic()
                if task in done:
                    exc = task.exception()
                    if exc is not None:
                        return FeedOutcome(self._counters(), _one_line(exc))
                    reason = "feed ended"
                    break
                if stopper in done:
                    reason = "stopped"
                    break
                if self.duration is not None and now - started >= self.duration:
                    reason = "duration reached"
                    break
                if self.idle_exit is not None and now - self._last_rx >= self.idle_exit:
                    reason = "idle"
                    break
        finally:
            self._stopping = True
            stopper.cancel()
            await self._shutdown(task)
        counters = self._counters()
        if not counters.connected:
            detail = f": {counters.last_error}" if counters.last_error else ""
            return FeedOutcome(counters, f"could not connect to {self.request.url}{detail}")
        return FeedOutcome(counters, None, reason)

    def _next_wait(self, started: float) -> float:
        now = time.monotonic()
        waits = [self.poll]
        if self.duration is not None:
            waits.append(started + self.duration - now)
        if self.idle_exit is not None:
            waits.append(self._last_rx + self.idle_exit - now)
        return max(0.0, min(waits))

    async def _shutdown(self, task: asyncio.Task[None]) -> None:
        with contextlib.suppress(Exception):
            await self.client.close()
        try:
            await asyncio.wait_for(task, 5)
        except (asyncio.CancelledError, TimeoutError):
            task.cancel()
        except Exception:
            pass  # a failure of the run itself was already turned into the outcome

    def _counters(self) -> FeedCounters:
        return self.spec.client_counters(self.client)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text


def install_signal_handlers(stop: Callable[[], None]) -> None:
    """SIGINT/SIGTERM end the run cleanly where the loop supports it."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop)


# --------------------------------------------------------------------------------- CLI


def split_list(values: list[str] | None) -> list[str]:
    """Comma-separated and repeated option values, flattened, order kept, no duplicates."""
    out: list[str] = []
    for value in values or []:
        for item in value.split(","):
            item = item.strip()
            if item and item not in out:
                out.append(item)
    return out


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by `feed` and `record`."""
    parser.add_argument(
        "--venue", default="bitmex", choices=sorted(VENUES), help="venue (default: bitmex)"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--url", help="WebSocket URL (default: the venue's live endpoint)")
    where.add_argument("--testnet", action="store_true", help="use the venue's testnet")
    parser.add_argument(
        "--symbol", action="append", required=True, help="symbol (repeat or comma-separate)"
    )
    parser.add_argument(
        "--topics", action="append", help="topics/tables, comma-separated (default per venue)"
    )
    parser.add_argument(
        "--heartbeat", action="store_true", help="server heartbeat mode where supported"
    )
    parser.add_argument("--duration", type=float, help="stop after S seconds")
    parser.add_argument("--idle-exit", type=float, help="stop after S seconds without a message")


def build_request(args: argparse.Namespace) -> tuple[VenueSpec, FeedRequest] | str:
    """The venue and request from parsed arguments, or an error message."""
    spec = VENUES.get(args.venue)
    if spec is None:
        return f"unknown venue {args.venue!r}"
    if args.testnet:
        if spec.testnet_url is None:
            return f"{spec.name} has no testnet"
        url = spec.testnet_url
    else:
        url = args.url or spec.live_url
    symbols = split_list(args.symbol)
    topics = split_list(args.topics) or list(spec.default_topics)
    if not symbols:
        return "at least one --symbol is needed"
    for name in ("duration", "idle_exit"):
        value = getattr(args, name, None)
        if value is not None and value <= 0:
            return f"--{name.replace('_', '-')} must be positive"
    request = FeedRequest(
        spec.name, url, symbols, topics, heartbeat=args.heartbeat, env=dict(os.environ)
    )
    if spec.validate is not None:
        problem = spec.validate(request)
        if problem:
            return problem
    return spec, request


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `depthdesk feed`."""
    add_connection_arguments(parser)
    parser.add_argument("--events", action="store_true", help="print events as JSON lines")
    parser.add_argument(
        "--book-out",
        help="write the final book state as JSON to FILE (several symbols: {symbol} in FILE)",
    )


async def run_async(args: argparse.Namespace) -> int:
    """The feed command on a running loop."""
    built = build_request(args)
    if isinstance(built, str):
        print(f"depthdesk feed: error: {built}", file=sys.stderr)
        return EXIT_USAGE
    spec, request = built
    book_paths = book_out_paths(args.book_out, request.symbols) if args.book_out else {}
    if isinstance(book_paths, str):
        print(f"depthdesk feed: error: {book_paths}", file=sys.stderr)
        return EXIT_USAGE
    from app.state.crossed_guard import CrossedBookGuard
    from app.state.market import MarketState

    state = MarketState(spec.name)
    guard: CrossedBookGuard | None = None
    stops: list[Callable[[], None]] = []

    def reader_gone() -> None:
        for stop in stops:
            stop()

    printer = EventPrinter(on_closed=reader_gone) if args.events else None

    refused: list[str] = []  # refused subscriptions
    errors: list[str] = []  # other reported errors
    warnings: list[str] = []  # the client's own notices of a fallback

    def on_event(event: Event) -> None:
        state.apply(event)
        refusal = refusal_text(event)
        if refusal is not None:
            if isinstance(event, SubscriptionAck):
                refused.append(refusal)
            else:
                (warnings if getattr(event, "warning", False) else errors).append(refusal)
            print(f"depthdesk feed: {refusal}", file=sys.stderr)
        if printer is not None:
            printer(event)
        if guard is not None:
            guard.after_event(event)  # may emit a Resync (printed after this event)

    runner = FeedRunner(
        spec, request, on_event=on_event, duration=args.duration, idle_exit=args.idle_exit
    )
    guard = CrossedBookGuard(state, runner.client.request_fresh_book)
    stops.append(runner.request_stop)
    install_signal_handlers(runner.request_stop)
    outcome = await runner.run()
    if outcome.fatal is not None:
        return fail(outcome.fatal)
    if book_paths:
        write_book_out(book_paths, state, outcome.counters)
        empty = [s for s in request.symbols if not (state.book(s).bids(1) or state.book(s).asks(1))]
        reasons = refused or errors or warnings  # what explains an empty book best, first
        if empty and reasons:
            return fail(f"no book for {','.join(empty)}: {reasons[0]}")
    return EXIT_OK


def refusal_text(event: Event) -> str | None:
    """A one-line description of a refused subscription or a reported error, else None."""
    if isinstance(event, SubscriptionAck) and not event.success:
        return f"{event.op} {event.topic} refused: {event.error or 'no reason given'}"
    if isinstance(event, FeedError):
        status = f" ({event.status})" if event.status is not None else ""
        label = "warning" if event.warning else "error"
        return f"{label}{status}: {' '.join(event.message.split())}"
    return None


def run_command(
    command: Callable[[argparse.Namespace], Coroutine[Any, Any, int]], args: argparse.Namespace
) -> int:
    """Run a headless command's coroutine on a new loop: Ctrl-C is a clean end, an OSError
    one line on stderr and the fatal exit status."""
    try:
        return asyncio.run(command(args))
    except KeyboardInterrupt:
        return EXIT_OK
    except OSError as exc:
        return fail(_one_line(exc))


def run(args: argparse.Namespace) -> int:
    """Entry point of `depthdesk feed`."""
    return run_command(run_async, args)


__all__ = [
    "VENUES",
    "EventPrinter",
    "FeedClient",
    "FeedCounters",
    "FeedOutcome",
    "FeedRequest",
    "FeedRunner",
    "FrameReplayer",
    "VenueSpec",
    "add_arguments",
    "add_connection_arguments",
    "book_out_paths",
    "book_out_payload",
    "build_request",
    "register_venue",
    "run",
    "run_async",
    "run_command",
    "split_list",
    "write_book_out",
    "write_json_atomic",
]
