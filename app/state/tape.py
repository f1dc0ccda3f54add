"""Trade tape: a bounded ring of display rows, newest first, with same-timestamp aggregation."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from app.feeds.events import Side, Trade, Trades

NotionalFn = Callable[[float, float], float]


@dataclass(slots=True)
class TapeRow:
    """One tape line: a print, several prints of one taker order merged, or a liquidation.

    Treat rows as values: the tape replaces a row instead of changing it in place.

    `price` is the volume-weighted average of the merged prints, `count` how many were merged,
    `notional` the summed quote value (USD for BitMEX contracts).
    """

    timestamp: float
    symbol: str
    side: Side
    price: float
    size: float
    count: int = 1
    notional: float = 0.0
    is_liquidation: bool = False
    trade_id: str | None = None


class TradeTape:
    """Newest-first ring of TapeRows for one symbol; only display history is bounded."""

    def __init__(self, maxlen: int = 1000, notional_fn: NotionalFn | None = None) -> None:
        self._rows: deque[TapeRow] = deque(maxlen=max(1, maxlen))
        self.notional_fn = notional_fn
        self.last_trade: Trade | None = None
        self.trades_seen = 0
        self.version = 0

    @property
    def maxlen(self) -> int:
        """Ring size."""
        return self._rows.maxlen or 0

    def __len__(self) -> int:
        return len(self._rows)

    def notional_of(self, trade: Trade) -> float:
        """A print's quote value: the venue's own figure, else the instrument rule, else p*q."""
        if trade.notional is not None:
            return abs(trade.notional)
        if self.notional_fn is not None:
            return abs(self.notional_fn(trade.price, trade.size))
        return abs(trade.price * trade.size)

    def apply(self, ev: Trades) -> None:
        """Add a batch of prints (wire order, oldest first)."""
        if not ev.trades:
            return
        rows = self._rows
        for trade in ev.trades:
            notional = self.notional_of(trade)
            head = rows[0] if rows else None
            if (
                head is not None
                and not head.is_liquidation
                and head.timestamp == trade.timestamp
                and head.side == trade.side
                and head.symbol == trade.symbol
            ):
                size = head.size + trade.size
                if size > 0:
                    vwap = (head.price * head.size + trade.price * trade.size) / size
                else:
                    vwap = trade.price
                rows[0] = TapeRow(
                    head.timestamp,
                    head.symbol,
                    head.side,
                    vwap,
                    size,
                    head.count + 1,
                    head.notional + notional,
                    False,
                    head.trade_id,
                )
            else:
                rows.appendleft(
                    TapeRow(
                        trade.timestamp,
                        trade.symbol,
                        trade.side,
                        trade.price,
                        trade.size,
                        1,
                        notional,
                        False,
                        trade.trade_id,
                    )
                )
        self.trades_seen += len(ev.trades)
        self.last_trade = ev.trades[-1]
        self.version += 1

    def add_liquidation(self, row: TapeRow) -> None:
        """Show a liquidation inline (never merged with prints)."""
        self._rows.appendleft(row)
        self.version += 1

    def rows(
        self, n: int | None = None, min_size: float = 0.0, min_notional: float = 0.0
    ) -> list[TapeRow]:
        """Rows newest first, optionally filtered by size / notional and capped at n."""
        if min_size <= 0 and min_notional <= 0:
            if n is None or n >= len(self._rows):
                return list(self._rows)
            return [self._rows[i] for i in range(max(0, n))]
        out: list[TapeRow] = []
        for row in self._rows:
            if row.size >= min_size and row.notional >= min_notional:
                out.append(row)
                if n is not None and len(out) >= n:
                    break
        return out

    def clear(self) -> None:
        """Forget the display rows (counters and the last trade stay)."""
        self._rows.clear()
        self.version += 1


def _is_placeholder_id(trade_id: str) -> bool:
    """Zero GUIDs (BitMEX index prints) are not identities."""
    return trade_id.strip("0-") == ""


class TradeDeduper:
    """Drops prints already seen: by trade id, and for id-less venues by time in snapshots.

    A subscription image re-sent after a reconnect repeats prints that were applied before.
    Prints with an id are recognised by it; an id-less print in a snapshot is taken as already
    seen when it is not newer than the newest print applied so far.
    """

    def __init__(self, memory: int = 10_000) -> None:
        self._order: deque[str] = deque()
        self._seen: set[str] = set()
        self._memory = max(1, memory)
        self.newest: float | None = None
        self.duplicates = 0

    def fresh(self, trades: list[Trade], snapshot: bool = False) -> list[Trade]:
        """The prints of `trades` not seen before (order kept); remembers the new ones."""
        seen = self._seen
        newest = self.newest
        out: list[Trade] | None = None
        for i, trade in enumerate(trades):
            tid = trade.trade_id
            if tid is None or _is_placeholder_id(tid):
                duplicate = snapshot and newest is not None and trade.timestamp <= newest
            elif tid in seen:
                duplicate = True
            else:
                duplicate = False
                seen.add(tid)
                self._order.append(tid)
                if len(self._order) > self._memory:
                    seen.discard(self._order.popleft())
            if duplicate:
                self.duplicates += 1
                if out is None:
                    out = list(trades[:i])
                continue
            if out is not None:
                out.append(trade)
        result = trades if out is None else out
        if result:
            latest = max(t.timestamp for t in result)
            if self.newest is None or latest > self.newest:
                self.newest = latest
        return result
