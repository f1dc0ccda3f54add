"""The only place feeds meet Qt: events in, coalesced repaint signals out.

A feed client calls `Bridge.on_event` for every normalized event. The bridge applies it to the
`MarketState`, remembers which aspects changed ("book:XBTUSD", "trades:XBTUSD", "status", ...) and
emits `frame(frozenset[str])` from a QTimer at most `max_hz` times a second, and only when
something changed. A burst of thousands of messages per second therefore costs at most one
repaint per frame: nothing queues up behind the feed and input stays responsive.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from app.feeds.events import (
    BookLevels,
    Event,
    FeedError,
    FeedState,
    FeedStatus,
    Latency,
    Reset,
    Resync,
)
from app.state.market import is_book_table

log = logging.getLogger(__name__)

DEFAULT_MAX_HZ = 60.0
STATUS_ASPECT = "status"
HEALTH_ASPECT = "health"


class StateSink(Protocol):
    """What the bridge needs from `app.state.market.MarketState`."""

    def apply(self, ev: Event) -> set[str]: ...


@dataclass
class FeedHealth:
    """What the status bar shows for one feed connection (keyed by the event's venue)."""

    venue: str
    state: FeedState = "connecting"
    detail: str = ""
    reconnects: int = 0
    rtt_ms: float | None = None
    events: int = 0
    last_event_at: float | None = None  # monotonic seconds
    errors: int = 0
    last_error: str = ""


@dataclass
class BookHealth:
    """Whether each symbol's book can be trusted right now (for the stale/resync banner).

    A Resync of any venue's book channel (BitMEX orderBook*, BitMart depth channels) marks the
    symbol's book as resyncing until its next snapshot; one without a symbol (an unfiltered
    BitMEX table) voids every book, so it marks every symbol that had a snapshot."""

    resyncing: dict[str, str] = field(default_factory=dict)  # symbol -> reason
    feed_state: FeedState | None = None
    feed_detail: str = ""  # why the feed is in that state ("end of recording", a close reason)
    seen_snapshot: set[str] = field(default_factory=set)

    def note(self, ev: Event) -> bool:
        """Update from one event; True when the banner may change."""
        if isinstance(ev, BookLevels):
            if ev.snapshot:
                self.seen_snapshot.add(ev.symbol)
                return self.resyncing.pop(ev.symbol, None) is not None
            return False
        if isinstance(ev, Resync):
            if not is_book_table(ev.table):
                return False
            symbols = [ev.symbol] if ev.symbol is not None else list(self.seen_snapshot)
            for symbol in symbols:
                self.resyncing[symbol] = ev.reason or "resync"
            return bool(symbols)
        if isinstance(ev, Reset):
            for symbol in self.seen_snapshot:
                self.resyncing[symbol] = ev.reason or "reconnected"
            self.seen_snapshot.clear()
            return True
        if isinstance(ev, FeedStatus):
            self.feed_state = ev.state
            self.feed_detail = ev.detail
            return True
        return False

    def banner(self, symbol: str) -> str:
        """Banner text for `symbol`'s book, or "" when it is live and consistent."""
        if self.feed_state in ("stale", "reconnecting", "down"):
            why = f" ({self.feed_detail[:80]})" if self.feed_detail else ""
            return f"{symbol} book is not live: feed {self.feed_state}{why}"
        reason = self.resyncing.get(symbol)
        if reason is not None:
            return f"{symbol} book resyncing ({reason}): waiting for a fresh snapshot"
        return ""


def crossed_banner(symbol: str, bid: str, ask: str) -> str:
    """Banner text while `symbol`'s book is crossed (best bid >= best ask, so updates were lost).

    A live feed of book updates (BitMEX orderBookL2, BitMart v3 depth/increase100) requests a
    fresh book once the crossing lasts (`app.state.crossed_guard`: about a second and two more
    updates), and the resync banner takes over; a feed that pushes the whole book every time
    (BitMart depth5 and legacy depth, BitMEX orderBook10) needs no request: the next push
    replaces it. A replay cannot ask, so the text claims nothing for it. The banner is not told
    which kind of feed it shows, so it names both."""
    return (
        f"{symbol} book crossed: bid {bid} \u2265 ask {ask} (updates lost). Live update feeds"
        " request a fresh book if it stays crossed; whole-book feeds replace it on the next push."
    )


class Bridge(QObject):
    """Applies events to the state and emits one coalesced `frame` per timer tick when dirty."""

    frame = Signal(object)  # frozenset[str] of changed aspects

    def __init__(
        self,
        state: StateSink,
        *,
        max_hz: float = DEFAULT_MAX_HZ,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self._clock = clock
        self._dirty: set[str] = set()
        self._taps: list[Callable[[Event], object]] = []
        self.feeds: dict[str, FeedHealth] = {}
        self.books = BookHealth()
        self.events_received = 0
        self.apply_errors = 0
        self.frames_emitted = 0
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, math.ceil(1000.0 / max_hz)))
        self._timer.timeout.connect(self._tick)

    @property
    def interval_ms(self) -> int:
        """The frame period in milliseconds."""
        return self._timer.interval()

    def add_tap(self, tap: Callable[[Event], object]) -> None:
        """Also call `tap(event)` for every event after the state applied it (cheap, no Qt)."""
        self._taps.append(tap)

    def remove_tap(self, tap: Callable[[Event], object]) -> None:
        """Stop calling `tap`."""
        if tap in self._taps:
            self._taps.remove(tap)

    def on_event(self, ev: Event) -> None:
        """Feed callback: apply to the state and mark what changed. Never raises."""
        self._receive(ev, self.state.apply, forwarded=False)

    def on_forwarded(self, ev: Event) -> None:
        """An event of another connection (the account panel forwards its private rows): applied
        as forwarded, so this connection's reconnects leave those tables alone; it does not
        count toward this feed's health. Never raises."""
        apply = getattr(self.state, "apply_forwarded", None)
        self._receive(ev, apply if callable(apply) else self.state.apply, forwarded=True)

    def drop_forwarded(self) -> None:
        """Forget what `on_forwarded` brought (the other connection logged out)."""
        drop = getattr(self.state, "drop_forwarded", None)
        changed = drop() if callable(drop) else set()
        if changed:
            self._dirty.update(changed)
            if not self._timer.isActive():
                self._timer.start()

    def _receive(self, ev: Event, apply: Callable[[Event], set[str]], *, forwarded: bool) -> None:
        self.events_received += 1
        try:
            changed = apply(ev)
        except Exception:  # a bad event must never take the window down
            self.apply_errors += 1
            log.exception("state could not apply %s event", getattr(ev, "kind", "?"))
            changed = {STATUS_ASPECT}
        if not forwarded:
            self._note_health(ev, changed)
        for tap in self._taps:
            try:
                tap(ev)
            except Exception:
                log.exception("event tap failed")
        if changed:
            self._dirty.update(changed)
            if not self._timer.isActive():
                self._timer.start()

    def _note_health(self, ev: Event, changed: set[str]) -> None:
        venue = getattr(ev, "venue", None)
        if isinstance(venue, str):
            health = self.feeds.get(venue)
            if health is None:
                health = self.feeds[venue] = FeedHealth(venue)
                changed.add(STATUS_ASPECT)
            health.events += 1
            health.last_event_at = self._clock()
            if isinstance(ev, FeedStatus):
                health.state = ev.state
                health.detail = ev.detail
                health.reconnects = ev.reconnects
                changed.add(STATUS_ASPECT)
            elif isinstance(ev, Latency):
                health.rtt_ms = ev.rtt_ms
                changed.add(STATUS_ASPECT)
            elif isinstance(ev, FeedError | Resync):
                health.errors += 1
                health.last_error = ev.message if isinstance(ev, FeedError) else ev.reason
                changed.add(STATUS_ASPECT)
        if self.books.note(ev):
            changed.add(HEALTH_ASPECT)

    def flush(self) -> None:
        """Emit pending changes now (one frame) if there are any."""
        if not self._dirty:
            return
        aspects = frozenset(self._dirty)
        self._dirty.clear()
        self.frames_emitted += 1
        self.frame.emit(aspects)

    def _tick(self) -> None:
        if self._dirty:
            self.flush()
        else:
            self._timer.stop()

    def stop(self) -> None:
        """Stop emitting (the session is closing)."""
        self._timer.stop()
        self._dirty.clear()
