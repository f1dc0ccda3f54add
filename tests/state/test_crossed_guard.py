"""CrossedBookGuard with a settable clock: when a crossed book earns a fresh-book request."""

from __future__ import annotations

from app.feeds.bitmart.constants import V3_SNAPSHOT_TIMEOUT
from app.feeds.bitmex.constants import PARTIAL_TIMEOUT_S
from app.feeds.events import BookLevels, Event, Latency, Resync
from app.state.crossed_guard import (
    CROSSED_GRACE_S,
    CROSSED_MIN_UPDATES,
    REQUEST_BACKOFF_S,
    CrossedBookGuard,
)
from app.state.market import MarketState

V = "bitmex"
SYM = "XBTUSD"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Feed:
    """A feed face: records requests; with `void`, emits a Resync into the state as the BitMEX
    and BitMart v3 clients do; `answer` is what request_fresh_book returns."""

    def __init__(self, state: MarketState, *, answer: bool = True, void: bool = True) -> None:
        self.state = state
        self.answer = answer
        self.void = void
        self.requests: list[tuple[str, str]] = []
        self.guard: CrossedBookGuard | None = None

    def request_fresh_book(self, symbol: str, reason: str) -> bool:
        self.requests.append((symbol, reason))
        if self.answer and self.void:
            self.deliver(Resync(V, "orderBookL2", symbol, reason))
        return self.answer

    def deliver(self, ev: Event) -> bool:
        """What the event sink does: apply, then let the guard look."""
        self.state.apply(ev)
        assert self.guard is not None
        return self.guard.after_event(ev)


def setup(**kw: object) -> tuple[Clock, MarketState, Feed, CrossedBookGuard]:
    clock = Clock()
    state = MarketState(V, clock=clock)
    feed = Feed(state, **kw)  # type: ignore[arg-type]
    feed.guard = CrossedBookGuard(state, feed.request_fresh_book)
    return clock, state, feed, feed.guard


def snap(bids: list[tuple[float, float]], asks: list[tuple[float, float]], sym: str = SYM) -> Event:
    return BookLevels(V, sym, bids, asks, True)


def delta(
    bids: list[tuple[float, float]], asks: list[tuple[float, float]], sym: str = SYM
) -> BookLevels:
    return BookLevels(V, sym, bids, asks, False)


GOOD = snap([(100.0, 1), (99.5, 2)], [(100.5, 1), (101.0, 2)])
CROSS = delta([(100.5, 7)], [])  # a bid at the best ask: the ask's delete was lost
NOISE = delta([(99.0, 1)], [])  # an update that leaves the crossing as it is


def test_the_back_off_outlasts_the_feeds_own_snapshot_timeouts() -> None:
    """Feeds re-request a late snapshot themselves; the guard must not ask again first."""
    assert REQUEST_BACKOFF_S > max(PARTIAL_TIMEOUT_S, V3_SNAPSHOT_TIMEOUT) > CROSSED_GRACE_S
    assert CROSSED_MIN_UPDATES >= 1


def test_a_crossing_the_next_message_repairs_asks_for_nothing() -> None:
    clock, state, feed, guard = setup()
    feed.deliver(GOOD)
    feed.deliver(CROSS)
    assert state.crossed == {SYM}
    feed.deliver(delta([], [(100.5, 0)]))  # the late delete arrives
    assert state.crossed == set()
    for _ in range(5):
        clock.now += 1.0
        assert not feed.deliver(NOISE)
    assert feed.requests == [] and guard.requests == 0


def test_a_book_that_stays_crossed_gets_one_request_after_the_grace_and_two_updates() -> None:
    clock, state, feed, guard = setup()
    feed.deliver(GOOD)
    crossed_at = clock.now
    feed.deliver(CROSS)
    clock.now += 0.2
    assert not feed.deliver(NOISE)
    clock.now += 0.2
    assert not feed.deliver(NOISE)  # two updates, but only 0.4 s
    clock.now = crossed_at + CROSSED_GRACE_S
    assert feed.deliver(NOISE)
    (request,) = feed.requests
    assert request == (SYM, "book crossed for 1.0 s: bid 100.5 >= ask 100.5")
    assert guard.requests == 1 and guard.pending() == [SYM]
    # the Resync voided the book: nothing crossed, an empty stale book until the snapshot
    assert state.crossed == set() and state.book(SYM).stale and len(state.book(SYM)) == 0
    assert state.resyncs == 1
    feed.deliver(GOOD)
    assert guard.pending() == [] and not state.book(SYM).stale and state.crossed == set()
    assert len(feed.requests) == 1


def test_time_alone_is_not_enough_on_a_quiet_book() -> None:
    clock, _, feed, _ = setup()
    feed.deliver(GOOD)
    feed.deliver(CROSS)
    clock.now += 10.0
    assert not feed.deliver(NOISE)  # the first message after the crossing, 10 s later
    assert feed.requests == []
    clock.now += 0.1
    assert feed.deliver(NOISE)
    assert len(feed.requests) == 1


def test_no_second_request_before_the_fresh_book_or_the_back_off() -> None:
    clock, _, feed, guard = setup(void=False)  # the book stays crossed: nothing arrives
    feed.deliver(GOOD)
    feed.deliver(CROSS)
    clock.now += 1.0
    feed.deliver(NOISE)
    assert feed.deliver(NOISE)
    asked_at = clock.now
    while clock.now < asked_at + REQUEST_BACKOFF_S - 1.0:
        clock.now += 1.0
        assert not feed.deliver(NOISE)
    assert len(feed.requests) == 1 and guard.pending() == [SYM]
    clock.now = asked_at + REQUEST_BACKOFF_S
    assert feed.deliver(NOISE)  # nothing came within the back-off: asked again
    assert len(feed.requests) == 2 and guard.requests == 2


def test_a_fresh_book_that_crosses_again_is_a_new_crossing() -> None:
    clock, state, feed, guard = setup()
    feed.deliver(GOOD)
    feed.deliver(CROSS)
    clock.now += 1.0
    feed.deliver(NOISE)
    feed.deliver(NOISE)
    feed.deliver(GOOD)  # the requested book
    assert guard.pending() == []
    clock.now += 0.5
    feed.deliver(CROSS)
    clock.now += 0.5
    feed.deliver(NOISE)
    assert not feed.deliver(NOISE)  # 0.5 s into the new crossing
    clock.now += 0.5
    assert feed.deliver(NOISE)
    assert len(feed.requests) == 2 and state.resyncs == 2


def test_a_feed_that_needs_no_request_is_asked_once_per_crossing() -> None:
    clock, state, feed, guard = setup(answer=False)
    feed.deliver(GOOD)
    feed.deliver(CROSS)
    clock.now += 1.0
    feed.deliver(NOISE)
    assert not feed.deliver(NOISE)
    assert len(feed.requests) == 1 and guard.declined == 1 and guard.pending() == []
    for _ in range(3):
        clock.now += 1.0
        feed.deliver(NOISE)
    assert len(feed.requests) == 1 and state.crossed == {SYM}
    # uncrossed, then crossed again: a new crossing is asked about again
    feed.deliver(delta([(100.5, 0)], []))
    feed.deliver(CROSS)
    clock.now += 1.0
    feed.deliver(NOISE)
    feed.deliver(NOISE)
    assert len(feed.requests) == 2 and guard.declined == 2 and guard.requests == 0


def test_snapshot_pushes_restart_the_crossing_so_they_are_never_asked_about() -> None:
    clock, state, feed, _ = setup(answer=False)
    crossed = snap([(101.0, 1)], [(100.5, 1)])
    for _ in range(10):  # a venue that pushes whole books: every push is a snapshot
        assert not feed.deliver(crossed)
        clock.now += 0.5
    assert state.crossed == {SYM} and feed.requests == []


def test_symbols_are_judged_each_on_their_own_and_other_events_are_ignored() -> None:
    clock, state, feed, _ = setup()
    other = "ETHUSD"
    feed.deliver(GOOD)
    feed.deliver(snap([(10.0, 1)], [(11.0, 1)], other))
    feed.deliver(CROSS)
    clock.now += 2.0
    assert not feed.deliver(Latency(V, 5.0))  # not a book event
    for _ in range(3):
        assert not feed.deliver(delta([(9.0, 1)], [], other))  # the other book is fine
    assert feed.requests == []
    feed.deliver(NOISE)
    assert feed.deliver(NOISE)
    assert [s for s, _ in feed.requests] == [SYM]
    assert state.book(other).best_bid() == (10.0, 1)
