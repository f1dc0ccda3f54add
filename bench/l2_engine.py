"""orderBookL2 throughput of BitmexEngine against the parse floor and a naive list table."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from app.feeds.bitmex.engine import BitmexEngine
from app.feeds.events import BookLevels, Event
from bench.l2_stream import SYMBOL, Stream, make_stream
from bench.naive import NaiveTables

REPEATS = 3


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


def parse_floor(stream: Stream) -> Rate:
    """orjson.loads alone over the delta frames."""
    loads = orjson.loads
    frames = stream.deltas

    def body() -> float:
        t0 = time.perf_counter()
        for frame in frames:
            loads(frame)
        return time.perf_counter() - t0

    return Rate("orjson.loads only", len(frames), stream.delta_rows, _best(REPEATS, body))


def engine_rate(stream: Stream) -> tuple[Rate, float, BitmexEngine, list[Event]]:
    """BitmexEngine.apply over the delta frames after the partial; also the partial's time."""
    frames = stream.deltas
    partial_times: list[float] = []
    last: list[BitmexEngine] = []

    def body() -> float:
        engine = BitmexEngine()
        t0 = time.perf_counter()
        engine.apply(stream.partial)
        partial_times.append(time.perf_counter() - t0)
        apply = engine.apply
        t0 = time.perf_counter()
        for frame in frames:
            apply(frame)
        elapsed = time.perf_counter() - t0
        last[:] = [engine]
        return elapsed

    seconds = _best(REPEATS, body)
    # One more pass that keeps the events, for the book-apply figure and the sanity checks.
    engine = BitmexEngine()
    events: list[Event] = list(engine.apply(stream.partial))
    for frame in frames:
        events.extend(engine.apply(frame))
    rate = Rate("BitmexEngine.apply", len(frames), stream.delta_rows, seconds)
    return rate, min(partial_times), engine, events


def naive_rate(stream: Stream, messages: int) -> Rate:
    """The list-scanning connector algorithm on the first `messages` delta frames."""
    frames = stream.deltas[:messages]
    rows = sum(len(orjson.loads(f)["data"]) for f in frames if '"orderBookL2"' in f)
    tables = NaiveTables()
    tables.apply(stream.partial)
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


def run_size(levels: int, messages: int, naive_messages: int) -> dict[str, Rate | float | int]:
    """All measurements for one book size; prints them as it goes."""
    t0 = time.perf_counter()
    stream = make_stream(levels, messages)
    print(
        f"\n== orderBookL2, partial of {levels:,} levels, {len(stream.deltas):,} delta frames "
        f"({stream.delta_rows:,} book rows, {stream.trade_frames:,} trade frames); "
        f"generated in {time.perf_counter() - t0:.1f} s"
    )
    floor = parse_floor(stream)
    engine, partial_s, live_engine, events = engine_rate(stream)
    naive = naive_rate(stream, naive_messages)
    book = book_apply_rate(events)
    stats = live_engine.stats
    for rate in (floor, engine, naive, book):
        if rate is not None:
            print(
                f"  {rate.name:<34} {rate.msgs_per_s:>12,.0f} msgs/s"
                f" {rate.rows_per_s:>12,.0f} rows/s"
                f"   ({rate.messages:,} msgs in {rate.seconds:.3f} s)"
            )
    if book is None:
        print("  L2Book.apply(BookLevels)           skipped: app.state.book is not available")
    print(f"  partial of {levels:,} levels applied in {partial_s * 1000:.1f} ms")
    print(
        f"  engine/parse floor {engine.msgs_per_s / floor.msgs_per_s:.2f}; "
        f"engine/naive {engine.msgs_per_s / naive.msgs_per_s:,.0f}x; "
        f"levels held {live_engine.level_count('orderBookL2', SYMBOL):,}; "
        f"unknown keys {stats.unknown_keys}, resyncs {stats.resyncs}, malformed {stats.malformed}"
    )
    return {"floor": floor, "engine": engine, "naive": naive, "unknown": stats.unknown_keys}
