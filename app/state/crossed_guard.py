"""Recovery from crossed books: ask the feed for a fresh book when one stays crossed.

A venue's book is never crossed (best bid >= best ask); ours is when messages were lost. A
BitMEX orderBookL2 delete we never got leaves a stale level, a later insert on the other side
at that price crosses the book, and no unknown-id check ever fires. Rather than show that wrong
book until the next reconnect, `CrossedBookGuard` asks the feed for a fresh book of the symbol
once the crossing has lasted (`CROSSED_GRACE_S` and `CROSSED_MIN_UPDATES`), then waits for it
(`REQUEST_BACKOFF_S`) before it would ask again.

The feed's `request_fresh_book(symbol, reason) -> bool` voids its own state of that book, emits
a `Resync` (the book shows as resynchronising until the snapshot) and re-requests the snapshot.
It returns False when no request is needed or possible: every push of the channel is a whole
book (the next one replaces it), the feed is a recording, or it is not connected.

No Qt, no I/O: `after_event` runs in the event callback after the state applied the event, and
time is the state's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.feeds.events import BookLevels, Event
from app.state.market import MarketState

CROSSED_GRACE_S = 1.0
"""How long (state clock, wall time) a book must stay crossed before a fresh one is requested.
One venue burst can cross the book for a moment (an insert on one side whose matching delete
of the other side comes in the next frame); a second is far longer than that, and short next
to how long a wrong book would otherwise stay on screen (until a reconnect)."""

CROSSED_MIN_UPDATES = 2
"""Book deltas that must arrive after the crossing and leave the book crossed. Time alone would
judge a quiet book before its next message came: only once the following messages arrived and
did not repair the crossing is it lost data rather than a change split across frames."""

REQUEST_BACKOFF_S = 30.0
"""After a request, no other for that symbol until its fresh snapshot arrived or this long
passed. Longer than the feeds' own snapshot timeouts (BitMEX 15 s, BitMart v3 10 s), which
re-request a late snapshot themselves; this only re-arms the guard when nothing came at all."""

FreshBookRequest = Callable[[str, str], bool]
"""A feed client's `request_fresh_book(symbol, reason)`: True when a fresh book was requested."""


@dataclass(slots=True)
class _Request:
    """A fresh book asked for: when (state clock) and the book's snapshot count then."""

    at: float
    snapshots: int


class CrossedBookGuard:
    """Watches one `MarketState`; asks its feed for a fresh book of a symbol whose book stays
    crossed, once per crossing, and not again before that book arrived (or the back-off)."""

    def __init__(
        self,
        state: MarketState,
        request_fresh_book: FreshBookRequest,
        *,
        grace_s: float = CROSSED_GRACE_S,
        min_updates: int = CROSSED_MIN_UPDATES,
        backoff_s: float = REQUEST_BACKOFF_S,
    ) -> None:
        self.state = state
        self.request_fresh_book = request_fresh_book
        self.grace_s = grace_s
        self.min_updates = min_updates
        self.backoff_s = backoff_s
        self.requests = 0  # fresh books requested
        self.declined = 0  # crossings the feed made no request for (returned False)
        self._pending: dict[str, _Request] = {}
        # symbol -> `crossed_since` of the crossing the feed declined (not asked again)
        self._declined: dict[str, float] = {}

    def after_event(self, event: Event) -> bool:
        """Call once per event, after the state applied it; True when a fresh book was asked.

        Only book events matter: a crossing needs book deltas to count, and the awaited
        snapshot is one. The request (and the `Resync` it emits) happens inside this call."""
        if not isinstance(event, BookLevels):
            return False
        symbol = event.symbol
        if symbol in self._pending and not self._settled(symbol):
            return False
        state = self.state
        since = state.crossed_since.get(symbol)
        if since is None:
            if self._declined:
                self._declined.pop(symbol, None)
            return False
        if state.crossed_updates.get(symbol, 0) < self.min_updates:
            return False
        if self._declined.get(symbol) == since:
            return False
        lasted = state.clock() - since
        if lasted < self.grace_s:
            return False
        return self._request(symbol, since, lasted)

    def pending(self) -> list[str]:
        """Symbols whose requested fresh book has not arrived yet (within the back-off)."""
        return sorted(self._pending)

    def _settled(self, symbol: str) -> bool:
        """True (and forgotten) when the requested book arrived or the back-off passed."""
        request = self._pending[symbol]
        state = self.state
        if (
            state.book(symbol).snapshots > request.snapshots
            or state.clock() - request.at >= self.backoff_s
        ):
            del self._pending[symbol]
            return True
        return False

    def _request(self, symbol: str, since: float, lasted: float) -> bool:
        state = self.state
        book = state.book(symbol)
        bid, ask = book.best_bid(), book.best_ask()
        reason = (
            f"book crossed for {lasted:.1f} s: bid {bid[0] if bid else '-'}"
            f" >= ask {ask[0] if ask else '-'}"
        )
        # Pending before the call: the feed emits its Resync (and maybe more) from inside it.
        self._pending[symbol] = _Request(state.clock(), book.snapshots)
        if not self.request_fresh_book(symbol, reason):
            del self._pending[symbol]
            self._declined[symbol] = since
            self.declined += 1
            return False
        self.requests += 1
        return True


__all__ = [
    "CROSSED_GRACE_S",
    "CROSSED_MIN_UPDATES",
    "REQUEST_BACKOFF_S",
    "CrossedBookGuard",
    "FreshBookRequest",
]
