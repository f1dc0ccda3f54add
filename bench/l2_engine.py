"""orderBookL2 throughput of BitmexEngine against the parse floor and a naive list table."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from app.feeds.bitmex.engine import BitmexEngine
from app.feeds.events import BookLevels, Event
from bench.l2_stream import SYMBOL, Stream
from bench.naive import NaiveTables

REPEATS = 7
CHUNK = 250


@dataclass
class Rate:
    """Throughput of one measured loop."""

    name: str
    messages: int
    rows: int
    seconds: float

    @property
    def msgs_per_s(self) -> float:
        return self.messages / self.seconds

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


def _best(runs: int, body: Callable[[], float]) -> float:
    """Smallest time of `runs` calls of `body` (each returns its own measured seconds)."""
    return min(body() for _ in range(runs))


@dataclass
class Measured:
    """Parse floor and engine figures of one stream, plus the engine state and events of
    one extra untimed pass (for the book-apply figure and the sanity checks)."""

    stream: Stream
    floor: Rate
    engine: Rate
    partial_s: float
    live_engine: BitmexEngine
    events: list[Event]


def _timed(apply: Callable[[str], object], frames: list[str], clock: Callable[[], float]) -> float:
    """Seconds taken by `apply` over `frames`."""
    t0 = clock()
    for frame in frames:
        apply(frame)
    return clock() - t0


def measure(stream: Stream) -> Measured:
    """orjson.loads alone and BitmexEngine.apply over the same delta frames.

    The two are interleaved chunk by chunk (CHUNK frames: parse floor, then engine; the
    other way round on odd passes) over REPEATS passes, and each figure is the sum over
    chunks of the fastest pass: both see the same machine conditions, and bursts of load
    from other processes drop out. Each pass starts from a fresh engine, the stream's book
    partial (timed on its own) and its trade partial.
    """
    loads = orjson.loads
    clock = time.perf_counter
    chunks = [stream.deltas[i : i + CHUNK] for i in range(0, len(stream.deltas), CHUNK)]
    floor_best = [float("inf")] * len(chunks)
    engine_best = [float("inf")] * len(chunks)
    partial_best = float("inf")
    for k in range(REPEATS):
        engine = BitmexEngine()
        t0 = clock()
        engine.apply(stream.partial)
        partial_best = min(partial_best, clock() - t0)
        engine.apply(stream.trade_partial)
        apply = engine.apply
        for i, chunk in enumerate(chunks):
            if k % 2:  # engine first: neither side always meets frames the other just read
                engine_s = _timed(apply, chunk, clock)
                floor_s = _timed(loads, chunk, clock)
            else:
                floor_s = _timed(loads, chunk, clock)
                engine_s = _timed(apply, chunk, clock)
            floor_best[i] = min(floor_best[i], floor_s)
            engine_best[i] = min(engine_best[i], engine_s)
    engine = BitmexEngine()
    events: list[Event] = list(engine.apply(stream.partial))
    events.extend(engine.apply(stream.trade_partial))
    for frame in stream.deltas:
        events.extend(engine.apply(frame))
    n = len(stream.deltas)
    floor = Rate("orjson.loads only (parse floor)", n, stream.delta_rows, sum(floor_best))
    rate = Rate("BitmexEngine.apply", n, stream.delta_rows, sum(engine_best))
    return Measured(stream, floor, rate, partial_best, engine, events)


def naive_rate(stream: Stream, messages: int) -> Rate:
    """The list-scanning connector algorithm on the first `messages` delta frames."""
    frames = stream.deltas[:messages]
    rows = sum(len(orjson.loads(f)["data"]) for f in frames if '"orderBookL2"' in f)
    tables = NaiveTables()
    tables.apply(stream.partial)
    tables.apply(stream.trade_partial)
    t0 = time.perf_counter()
    for frame in frames:
        tables.apply(frame)
    return Rate("naive list table (scan per row)", len(frames), rows, time.perf_counter() - t0)


def book_apply_rate(events: list[Event]) -> Rate | None:
    """L2Book.apply over the engine's BookLevels (None when app.state.book is absent)."""
    try:
        from app.state.book import L2Book
    except ImportError:
        return None
    books = [e for e in events if isinstance(e, BookLevels)]
    snapshot, deltas = books[0], books[1:]
    rows = sum(len(e.bids) + len(e.asks) for e in deltas)

    def body() -> float:
        book = L2Book(SYMBOL, 0.5)
        book.apply(snapshot)
        t0 = time.perf_counter()
        for ev in deltas:
            book.apply(ev)
        return time.perf_counter() - t0

    return Rate("L2Book.apply(BookLevels)", len(deltas), rows, _best(REPEATS, body))


@dataclass
class SizeResult:
    """Figures of one book size and stream shape."""

    floor: Rate
    engine: Rate
    naive: Rate | None
    unknown_keys: int
    dropped_before_partial: int


def describe(stream: Stream) -> str:
    """One heading line for a stream."""
    where = (
        f"changes near the touch (mean depth {stream.skew:g} levels)"
        if stream.skew is not None
        else "changes uniform over the whole book"
    )
    return (
        f"orderBookL2, partial of {stream.levels:,} levels, {where}\n"
        f"   {len(stream.deltas):,} delta frames ({stream.delta_rows:,} book rows, "
        f"{stream.trade_frames:,} trade frames)"
    )


def report(m: Measured, naive_messages: int) -> SizeResult:
    """Print the figures of one measured stream (running the naive baseline and the
    book-apply figure now) and return them."""
    naive = naive_rate(m.stream, naive_messages) if naive_messages else None
    book = book_apply_rate(m.events)
    stats = m.live_engine.stats
    print(f"\n== {describe(m.stream)}")
    for rate in (m.floor, m.engine, naive, book):
        if rate is not None:
            print(
                f"  {rate.name:<34} {rate.msgs_per_s:>12,.0f} msgs/s"
                f" {rate.rows_per_s:>12,.0f} rows/s"
                f"   ({rate.messages:,} msgs in {rate.seconds:.3f} s)"
            )
    if book is None:
        print("  L2Book.apply(BookLevels)           skipped: app.state.book is not available")
    versus_naive = f"{m.engine.msgs_per_s / naive.msgs_per_s:,.0f}x" if naive else "not run"
    print(f"  partial of {m.stream.levels:,} levels applied in {m.partial_s * 1000:.1f} ms")
    print(
        f"  engine/parse floor {m.engine.msgs_per_s / m.floor.msgs_per_s:.2f}; "
        f"engine/naive {versus_naive}; "
        f"levels held {m.live_engine.level_count('orderBookL2', SYMBOL):,}; "
        f"unknown keys {stats.unknown_keys}, resyncs {stats.resyncs}, malformed {stats.malformed},"
        f" dropped before partial {stats.dropped_before_partial}"
    )
    return SizeResult(m.floor, m.engine, naive, stats.unknown_keys, stats.dropped_before_partial)
