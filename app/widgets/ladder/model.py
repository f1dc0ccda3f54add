"""Depth ladder model: a fixed number of price rows over a grid of k ticks each.

Rows are price levels in view (row 0 = highest price), not book entries, so every update is a
single range `dataChanged`. `refresh()` builds a row cache once per frame (grouping, cumulative
sizes, traded volume, flashes, last-print fade, pre-formatted strings); `data()` only indexes it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont

from app.feeds.events import Side
from app.gui.theme import Theme, current_theme, monospace_font
from app.widgets.format import (
    MAX_PRICE_DECIMALS,
    SizeDecimals,
    decimals_for_step,
    decimals_to_show,
    fit_size_decimals,
    fmt_price,
    fmt_size,
    infer_tick,
)
from app.widgets.glyphs import SIGMA
from app.widgets.table import FixedColumnsModel, Index

if TYPE_CHECKING:
    from app.state.book import L2Book
    from app.state.tape import TradeTape
    from app.state.volume import VolumeAtPrice

COL_SOLD, COL_BID_CUM, COL_BID, COL_PRICE, COL_TRADE, COL_ASK, COL_ASK_CUM, COL_BOUGHT = range(8)
SIZE_COLUMNS = (COL_SOLD, COL_BID_CUM, COL_BID, COL_TRADE, COL_ASK, COL_ASK_CUM, COL_BOUGHT)
HEADERS = ("Sold", SIGMA + " Bid", "Bid", "Price", "Last", "Ask", SIGMA + " Ask", "Bought")
BAR_ROLE = int(Qt.ItemDataRole.UserRole) + 1  # float 0..1: size bar length
SIDE_ROLE = int(Qt.ItemDataRole.UserRole) + 2  # "Buy" / "Sell" / None: bar colour
PRICE_ROLE = int(Qt.ItemDataRole.UserRole) + 3  # float: the row's price
OWN_ROLE = int(Qt.ItemDataRole.UserRole) + 4  # (buy qty, sell qty) of own working orders

MODE_FIXED = "fixed"
MODE_EDGE = "edge"  # re-centre when the best price reaches the edge rows
MODE_CENTRE = "centre"  # always centred
MODES = (MODE_FIXED, MODE_EDGE, MODE_CENTRE)
GROUPINGS = (1, 2, 5, 10, 20, 50, 100, 250, 500, 1000)

FLASH_S = 0.45
LAST_FADE_S = 2.0
FADE_STEPS = 12
DEFAULT_ROWS = 40
EDGE_MARGIN_ROWS = 2  # edge mode re-centres once the best price is this close to an edge

# (side, price, remaining quantity) of the user's working orders for one symbol.
OrdersSource = Callable[[str], Iterable[tuple[Side, float, float]]]


def edge_margin(rows: int) -> int:
    """Rows at each edge of a `rows`-row ladder where the best price triggers edge-mode
    re-centring: `EDGE_MARGIN_ROWS`, fewer on short ladders so the middle stays usable."""
    if rows < 3:
        return 0
    return min(EDGE_MARGIN_ROWS, max(1, (rows - 1) // 4))


@dataclass(slots=True, frozen=True)
class PaintCell:
    """What the delegate paints in one cell."""

    text: str
    fg: QColor
    bg: QBrush | None
    font: QFont
    align: Qt.AlignmentFlag
    bar: float
    bar_colour: QColor | None
    own: bool


@dataclass(slots=True)
class LastPrint:
    """The newest print and when the ladder first saw it (monotonic seconds)."""

    price: float
    size: float
    side: Side
    seen_at: float


@dataclass(slots=True)
class LadderRow:
    """One row of the row cache."""

    bucket: int
    price: float
    bid: float = 0.0
    ask: float = 0.0
    bid_cum: float = 0.0
    ask_cum: float = 0.0
    bought: float = 0.0
    sold: float = 0.0
    last_size: float = 0.0
    last_side: Side | None = None
    last_level: int = 0  # fade level 0..FADE_STEPS (FADE_STEPS = just printed)
    flash_bid: int = 0  # flash level of the bid cell (0 = none)
    flash_ask: int = 0
    best_bid: bool = False
    best_ask: bool = False
    own_buy: float = 0.0
    own_sell: float = 0.0
    size_decimals: int = 0
    texts: list[str] = field(default_factory=list)

    def key(self) -> tuple[Any, ...]:
        """Everything that affects painting (to skip no-op frames)."""
        return (
            self.bucket, self.bid, self.ask, self.bid_cum, self.ask_cum, self.bought, self.sold,
            self.last_size, self.last_side, self.last_level, self.flash_bid, self.flash_ask,
            self.best_bid, self.best_ask, self.own_buy, self.own_sell, tuple(self.texts),
        )  # fmt: skip


class _Palette:
    """Brushes and fonts cached per theme (never created in data())."""

    def __init__(self, theme: Theme) -> None:
        self.theme = theme
        self.text = QBrush(theme.qcolor("text"))
        self.dim = QBrush(theme.qcolor("dim_text"))
        self.buy = QBrush(theme.qcolor("buy"))
        self.sell = QBrush(theme.qcolor("sell"))
        self.last = QBrush(theme.qcolor("last_trade"))
        self.price_bg = QBrush(theme.qcolor("price_bg"))
        self.bid_zone = QBrush(_mix(theme.qcolor("base"), theme.qcolor("buy_bg"), 0.35))
        self.ask_zone = QBrush(_mix(theme.qcolor("base"), theme.qcolor("sell_bg"), 0.35))
        self.best_bid_bg = QBrush(theme.qcolor("buy_bg"))
        self.best_ask_bg = QBrush(theme.qcolor("sell_bg"))
        flash = theme.qcolor("flash")
        base = theme.qcolor("base")
        self.flash = [
            QBrush(_mix(base, flash, 0.3 * i / FADE_STEPS)) for i in range(FADE_STEPS + 1)
        ]
        buy, sell, price_bg = theme.qcolor("buy"), theme.qcolor("sell"), theme.qcolor("price_bg")
        self.trade_buy = [
            QBrush(_mix(price_bg, buy, 0.2 + 0.45 * i / FADE_STEPS)) for i in range(FADE_STEPS + 1)
        ]
        self.trade_sell = [
            QBrush(_mix(price_bg, sell, 0.2 + 0.45 * i / FADE_STEPS)) for i in range(FADE_STEPS + 1)
        ]
        self.bar_buy = theme.qcolor("buy_bar")
        self.bar_sell = theme.qcolor("sell_bar")
        self.font = monospace_font()
        self.bold = QFont(self.font)
        self.bold.setBold(True)


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    t = max(0.0, min(1.0, t))
    return QColor(
        round(a.red() + (b.red() - a.red()) * t),
        round(a.green() + (b.green() - a.green()) * t),
        round(a.blue() + (b.blue() - a.blue()) * t),
    )


class LadderModel(FixedColumnsModel):
    """Fixed-row price ladder over an L2Book."""

    HEADERS = HEADERS
    SELECTABLE = False

    def __init__(
        self, rows: int = DEFAULT_ROWS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self._clock = clock
        self._n = max(1, rows)
        self._rows: list[LadderRow] = []
        self._book: L2Book | None = None
        self._symbol = ""
        self._volume: VolumeAtPrice | None = None
        self._tape: TradeTape | None = None
        self._last: LastPrint | None = None
        self._last_trade: object = None
        self._orders: OrdersSource | None = None
        self._tick: float | None = None
        self._tick_inferred = False
        self._tick_hint: Callable[[], float | None] | None = None
        self._lot_hint: Callable[[], float | None] | None = None
        self._sizes = SizeDecimals()
        self._size_width: int | None = None  # characters a size cell shows (None: unknown)
        # size column -> (market decimals, decimals shown) once lowered to fit its width
        self._fitted: dict[int, tuple[int, int]] = {}
        self.grouping = 1
        self.mode = MODE_EDGE
        self._top: int | None = None  # bucket index of row 0
        self._flash: dict[int, float] = {}
        self._decimals = 2
        self._pal = _Palette(current_theme())
        self._max_size = 0.0
        self._max_vol = 0.0
        self.frames = 0
        self._paint_cache: dict[int, list[PaintCell]] = {}

    # ---- configuration ---------------------------------------------------------------
    def set_source(
        self,
        book: L2Book | None,
        symbol: str,
        volume: VolumeAtPrice | None = None,
        tape: TradeTape | None = None,
        tick_hint: Callable[[], float | None] | None = None,
        lot_hint: Callable[[], float | None] | None = None,
    ) -> None:
        """Show `book` (None: empty) with the symbol's traded volume and tape (last print);
        `tick_hint` supplies the instrument's tick size, `lot_hint` its lot step (sizes are
        shown with the lot step's decimals, or the most decimals seen without one)."""
        self._book = book
        self._symbol = symbol
        self._volume = volume
        self._tape = tape
        self._last = None
        self._last_trade = tape.last_trade if tape is not None else None
        if tape is not None and tape.last_trade is not None:
            t = tape.last_trade
            self._last = LastPrint(t.price, t.size, t.side, -math.inf)
        self._tick_hint = tick_hint
        self._lot_hint = lot_hint
        self._sizes.reset()
        self._fitted.clear()
        self._tick = None
        self._tick_inferred = False
        self._top = None
        self._flash.clear()
        self.refresh()

    def recheck_tick(self) -> None:
        """Read the tick hint again (the venue's price grouping changed); keeps the centre."""
        if self._tick is not None:
            self._tick_inferred = True
        self.refresh()

    def set_orders_source(self, source: OrdersSource | None) -> None:
        """Where the user's working orders come from (shown through OWN_ROLE)."""
        self._orders = source
        self.refresh()

    @property
    def size_width(self) -> int | None:
        """Characters a size cell shows (None: no limit known)."""
        return self._size_width

    def set_size_width(self, chars: int | None) -> None:
        """How many characters a size cell shows (the view's column width; None: no limit).
        A size column too narrow for its largest size shows fewer decimals."""
        if chars is not None:
            chars = max(1, chars)
        if chars == self._size_width:
            return
        self._size_width = chars
        self._fitted.clear()
        self.refresh()

    def set_grouping(self, k: int) -> None:
        """Rows of k ticks; keeps the same price in the middle."""
        k = max(1, int(k))
        if k == self.grouping:
            return
        mid_price = self._centre_price()
        self.grouping = k
        self._flash.clear()
        self._fitted.clear()
        self._top = None if mid_price is None else self._bucket_round(mid_price) + self._n // 2
        self.refresh()

    def set_mode(self, mode: str) -> None:
        """fixed / edge / centre."""
        if mode in MODES:
            self.mode = mode
            if mode != MODE_FIXED:
                self.refresh()

    def set_row_count(self, rows: int) -> None:
        """Number of price rows (follows the view's height); keeps the centre."""
        rows = max(1, rows)
        if rows == self._n:
            return
        centre = None if self._top is None else self._top - self._n // 2
        self.beginResetModel()
        self._n = rows
        self._rows = []
        self._fitted.clear()
        if centre is not None:
            self._top = centre + rows // 2
        self.endResetModel()
        self.refresh()

    def apply_theme(self, theme: Theme) -> None:
        """New brushes; repaint everything."""
        self._pal = _Palette(theme)
        self._paint_cache.clear()
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, len(HEADERS) - 1)
            )

    # ---- navigation ------------------------------------------------------------------
    def recentre(self) -> None:
        """Put the mid (or the last print) in the middle row."""
        bucket = self._centre_bucket()
        if bucket is not None:
            self._top = bucket + self._n // 2
            self.refresh()

    def scroll_rows(self, rows: int) -> None:
        """Move the view up (positive: higher prices) by `rows` rows."""
        if self._top is None:
            return
        self._top += rows
        self.refresh()

    @property
    def tick(self) -> float | None:
        """The tick size in use (instrument's, or inferred from the book)."""
        return self._tick

    @property
    def price_decimals(self) -> int:
        """Decimals the price column is shown with (those of the row step)."""
        step = self.step
        return decimals_for_step(step) if step else self._decimals

    @property
    def size_decimals(self) -> int:
        """Decimals every size column is shown with (lot step, else the most seen)."""
        return self._sizes.decimals

    @property
    def step(self) -> float | None:
        """Price step between rows (grouping times tick)."""
        return None if self._tick is None else self._tick * self.grouping

    def row_for_price(self, price: float) -> int | None:
        """The row showing `price` (bid-side rounding), or None when out of view."""
        if self._top is None or self._tick is None:
            return None
        row = self._top - self._bucket_floor(price)
        return row if 0 <= row < self._n else None

    def row(self, r: int) -> LadderRow | None:
        """The cached row r."""
        return self._rows[r] if 0 <= r < len(self._rows) else None

    def rows(self) -> list[LadderRow]:
        """All cached rows, top (highest price) first."""
        return list(self._rows)

    # ---- grid arithmetic -------------------------------------------------------------
    def _ticks(self, price: float) -> int:
        assert self._tick is not None
        return round(price / self._tick)

    def _bucket_floor(self, price: float) -> int:
        return self._ticks(price) // self.grouping

    def _bucket_ceil(self, price: float) -> int:
        return -((-self._ticks(price)) // self.grouping)

    def _bucket_round(self, price: float) -> int:
        return round(self._ticks(price) / self.grouping)

    def _bucket_price(self, bucket: int) -> float:
        assert self._tick is not None
        return round(bucket * self.grouping * self._tick, MAX_PRICE_DECIMALS)

    def _ensure_tick(self) -> bool:
        """Use the instrument's tick (or the book's); until one is known, infer it from prices.
        An inferred tick is replaced as soon as the instrument's arrives."""
        if self._tick is not None and not self._tick_inferred:
            return True
        hint = self._tick_hint() if self._tick_hint is not None else None
        book = self._book
        if not hint and book is not None:
            hint = getattr(book, "tick_size", None)
        inferred = False
        if not hint and self._tick is None and book is not None:
            prices = [p for p, _ in book.bids(50)] + [p for p, _ in book.asks(50)]
            hint = infer_tick(prices)
            inferred = True
        if not hint or hint <= 0:
            return self._tick is not None
        if self._tick is not None and float(hint) != self._tick:
            centre = self._centre_price()
            self._tick = float(hint)
            self._flash.clear()
            self._top = None if centre is None else self._bucket_round(centre) + self._n // 2
        else:
            self._tick = float(hint)
        self._tick_inferred = inferred
        return True

    def _centre_price(self) -> float | None:
        if self._top is not None and self._tick is not None:
            return self._bucket_price(self._top - self._n // 2)
        return None

    def _centre_bucket(self) -> int | None:
        book = self._book
        if book is None or not self._ensure_tick():
            return None
        mid = book.mid()
        if mid is None:
            best = book.best_bid() or book.best_ask()
            mid = best[0] if best else None
        if mid is None and self._last is not None:
            mid = self._last.price
        return None if mid is None else self._bucket_round(mid)

    # ---- the per-frame row cache -----------------------------------------------------
    def refresh(self) -> bool:
        """Rebuild the row cache; emits one range dataChanged when anything visible changed."""
        new_rows = self._build()
        old_keys = [r.key() for r in self._rows]
        if len(new_rows) != len(self._rows):
            self.beginResetModel()
            self._paint_cache.clear()
            self._rows = new_rows
            self.endResetModel()
            self.frames += 1
            return True
        if [r.key() for r in new_rows] == old_keys:
            return False
        self._rows = new_rows
        self._paint_cache.clear()
        self.frames += 1
        self.dataChanged.emit(self.index(0, 0), self.index(self._n - 1, len(HEADERS) - 1))
        return True

    def animating(self) -> bool:
        """True while a flash or the last-print highlight is still fading."""
        return any(r.flash_bid or r.flash_ask or r.last_level for r in self._rows)

    def _build(self) -> list[LadderRow]:
        book = self._book
        n = self._n
        if book is None or not self._ensure_tick():
            return [
                LadderRow(bucket=0, price=math.nan, texts=[""] * len(HEADERS)) for _ in range(n)
            ]
        self._decimals = decimals_for_step(self.step or 1.0)
        now = self._clock()
        best_bid = book.best_bid()
        best_ask = book.best_ask()
        bb = self._bucket_floor(best_bid[0]) if best_bid else None
        ba = self._bucket_ceil(best_ask[0]) if best_ask else None
        self._place_view(bb, ba)
        top = self._top if self._top is not None else n // 2
        bottom = top - n + 1
        low_price = self._bucket_price(bottom) - (self.step or 0.0)
        high_price = self._bucket_price(top) + (self.step or 0.0)

        sizes = self._sizes
        sizes.set_step(self._lot_hint() if self._lot_hint is not None else None)
        observe = sizes.observe
        for price in book.take_changed_prices():
            self._flash[self._bucket_round(price)] = now
        if len(self._flash) > 4 * n:
            self._flash = {b: t for b, t in self._flash.items() if now - t < FLASH_S}

        bids: dict[int, float] = {}
        bid_above = 0.0  # bid size in buckets above the view
        if best_bid is not None and best_bid[0] >= low_price:
            for price, size in book.levels_between("Buy", low_price, best_bid[0]):
                observe(size)
                b = self._bucket_floor(price)
                if b > top:
                    bid_above += size
                else:
                    bids[b] = bids.get(b, 0.0) + size
        asks: dict[int, float] = {}
        ask_below = 0.0
        if best_ask is not None and best_ask[0] <= high_price:
            for price, size in book.levels_between("Sell", best_ask[0], high_price):
                observe(size)
                b = self._bucket_ceil(price)
                if b < bottom:
                    ask_below += size
                else:
                    asks[b] = asks.get(b, 0.0) + size

        buys: dict[int, float] = {}
        sells: dict[int, float] = {}
        if self._volume is not None:
            for price, (bought, sold) in self._volume.levels().items():
                if bought:
                    b = self._bucket_ceil(price)
                    buys[b] = buys.get(b, 0.0) + bought
                if sold:
                    b = self._bucket_floor(price)
                    sells[b] = sells.get(b, 0.0) + sold
        last = self._take_last(now)
        if last is not None:
            observe(last.size)
        own_buy: dict[int, float] = {}
        own_sell: dict[int, float] = {}
        if self._orders is not None:
            for side, price, qty in self._orders(self._symbol):
                if side == "Buy":
                    b = self._bucket_floor(price)
                    own_buy[b] = own_buy.get(b, 0.0) + qty
                else:
                    b = self._bucket_ceil(price)
                    own_sell[b] = own_sell.get(b, 0.0) + qty

        last_bucket = None
        last_level = 0
        if last is not None:
            last_bucket = (
                self._bucket_ceil(last.price)
                if last.side == "Buy"
                else self._bucket_floor(last.price)
            )
            age = now - last.seen_at  # inf for a print seen before the ladder was bound
            if age < LAST_FADE_S:
                last_level = max(0, math.ceil(FADE_STEPS * (1.0 - age / LAST_FADE_S)))

        rows: list[LadderRow] = []
        # cumulative: bids accumulate downward from the best bid, asks upward from the best ask
        cum_bid = bid_above
        cum_bids: dict[int, float] = {}
        for b in range(top, bottom - 1, -1):
            cum_bid += bids.get(b, 0.0)
            cum_bids[b] = cum_bid
        cum_ask = ask_below
        cum_asks: dict[int, float] = {}
        for b in range(bottom, top + 1):
            cum_ask += asks.get(b, 0.0)
            cum_asks[b] = cum_ask
        max_size = max([*bids.values(), *asks.values(), 0.0])
        max_vol = max([*buys.values(), *sells.values(), 0.0])
        self._max_size, self._max_vol = max_size, max_vol
        size_dec = sizes.decimals
        for b in range(top, bottom - 1, -1):
            row = LadderRow(bucket=b, price=self._bucket_price(b))
            row.bid = bids.get(b, 0.0)
            row.ask = asks.get(b, 0.0)
            row.bid_cum = cum_bids[b] if (bb is not None and b <= bb) else 0.0
            row.ask_cum = cum_asks[b] if (ba is not None and b >= ba) else 0.0
            row.bought = buys.get(b, 0.0)
            row.sold = sells.get(b, 0.0)
            row.best_bid = b == bb
            row.best_ask = b == ba
            row.own_buy = own_buy.get(b, 0.0)
            row.own_sell = own_sell.get(b, 0.0)
            row.size_decimals = size_dec
            if b == last_bucket and last is not None:
                row.last_size = last.size
                row.last_side = last.side
                row.last_level = last_level
            flashed = self._flash.get(b)
            if flashed is not None:
                level = max(0, math.ceil(FADE_STEPS * (1.0 - (now - flashed) / FLASH_S)))
                # flash the side the level belongs to (a removed level has no size left)
                if row.bid or (bb is not None and b <= bb):
                    row.flash_bid = level
                if row.ask or (ba is not None and b >= ba):
                    row.flash_ask = level
            rows.append(row)
        self._format_texts(rows, size_dec)
        return rows

    def _format_texts(self, rows: list[LadderRow], size_dec: int) -> None:
        """Cell texts: prices by the row step; each size column with one number of decimals
        (the market's, fewer where the column is too narrow for its largest size)."""
        fields = ("sold", "bid_cum", "bid", "last_size", "ask", "ask_cum", "bought")
        columns = {
            c: [getattr(r, name) for r in rows]
            for c, name in zip(SIZE_COLUMNS, fields, strict=True)
        }
        texts: dict[int, list[str]] = {}
        for c, values in columns.items():
            d = self._column_decimals(c, values, size_dec)
            texts[c] = [fmt_size(v, d) for v in values]
        texts[COL_PRICE] = [fmt_price(r.price, self._decimals) for r in rows]
        for i, row in enumerate(rows):
            row.texts = [texts[c][i] for c in range(len(HEADERS))]

    def _column_decimals(self, column: int, values: list[float], size_dec: int) -> int:
        """The market's size decimals, or fewer when the column is narrower than its largest
        size; once lowered it stays lowered (no flicker) until the width or the market changes."""
        width = self._size_width
        if width is None:
            return size_dec
        shown = [v for v in values if v > 0]
        before = self._fitted.get(column)
        if before is not None and before[0] != size_dec:
            before = None  # the market's decimals changed: fit again
        if not shown:
            return size_dec if before is None else before[1]
        smallest = min(shown)
        d = fit_size_decimals(max(shown), smallest, size_dec, width)
        if before is not None:
            d = min(d, max(before[1], decimals_to_show(smallest, size_dec)))
        self._fitted[column] = (size_dec, d)
        return d

    def _take_last(self, now: float) -> LastPrint | None:
        tape = self._tape
        if tape is not None and tape.last_trade is not self._last_trade:
            self._last_trade = trade = tape.last_trade
            if trade is not None:
                self._last = LastPrint(trade.price, trade.size, trade.side, now)
        return self._last

    def _place_view(self, bb: int | None, ba: int | None) -> None:
        n = self._n
        anchor = None
        if bb is not None and ba is not None:
            anchor = (bb + ba) // 2 if ba >= bb else bb
            if ba - bb > n - 1 - 2 * edge_margin(n) and self._last is not None:
                # a spread wider than the view: rows around the mid would all be empty, so
                # centre on the last print instead (kept inside the spread), as a DOM does
                anchor = min(max(self._bucket_round(self._last.price), bb), ba)
        elif bb is not None or ba is not None:
            anchor = bb if bb is not None else ba
        elif self._last is not None:
            anchor = self._bucket_round(self._last.price)
        if anchor is None:
            return
        if self._top is None or self.mode == MODE_CENTRE:
            self._top = anchor + n // 2
            return
        if self.mode == MODE_EDGE:
            margin = edge_margin(n)
            low, high = self._top - n + 1 + margin, self._top - margin
            if any(b is not None and not low <= b <= high for b in (bb, ba)):
                self._top = anchor + n // 2

    # ---- Qt model interface ----------------------------------------------------------
    def row_total(self) -> int:
        return len(self._rows)

    def header_alignment(self, section: int) -> int:
        return int(Qt.AlignmentFlag.AlignCenter)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        at = self.cell_at(index)
        if at is None:
            return None
        r, c = at
        row = self._rows[r]
        pal = self._pal
        if role == Qt.ItemDataRole.DisplayRole:
            return row.texts[c] if row.texts else ""
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if c == COL_PRICE:
                return int(Qt.AlignmentFlag.AlignCenter)
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole:
            return pal.bold if (c == COL_PRICE and (row.best_bid or row.best_ask)) else pal.font
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(row, c)
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._background(row, c)
        if role == BAR_ROLE:
            return self._bar(row, c)
        if role == SIDE_ROLE:
            if c in (COL_BID, COL_SOLD):
                return "Buy" if c == COL_BID else "Sell"
            if c in (COL_ASK, COL_BOUGHT):
                return "Sell" if c == COL_ASK else "Buy"
            if c == COL_TRADE:
                return row.last_side
            return None
        if role == PRICE_ROLE:
            return row.price
        if role == OWN_ROLE:
            return (row.own_buy, row.own_sell)
        if role == Qt.ItemDataRole.ToolTipRole and c == COL_PRICE and (row.own_buy or row.own_sell):
            buy = fmt_size(row.own_buy, row.size_decimals, blank_zero=False)
            sell = fmt_size(row.own_sell, row.size_decimals, blank_zero=False)
            return f"own working orders: buy {buy} / sell {sell}"
        if role == Qt.ItemDataRole.ToolTipRole and c == COL_TRADE and row.last_side:
            return f"last print: {row.last_side} {row.texts[COL_TRADE]} @ {row.texts[COL_PRICE]}"
        return None

    def paint_cell(self, r: int, c: int) -> PaintCell | None:
        """Everything the delegate draws for a cell, computed once per frame and cached."""
        cached = self._paint_cache.get(r)
        if cached is None:
            if not 0 <= r < len(self._rows):
                return None
            cached = self._paint_cache[r] = self._paint_row(self._rows[r])
        return cached[c] if 0 <= c < len(cached) else None

    def _paint_row(self, row: LadderRow) -> list[PaintCell]:
        pal = self._pal
        out = []
        centre = Qt.AlignmentFlag.AlignCenter
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for c in range(len(HEADERS)):
            bg = self._background(row, c)
            fraction = self._bar(row, c)
            bar_colour = None
            if fraction > 0:
                buy_bar = c in (COL_BID, COL_BOUGHT)
                bar_colour = pal.bar_buy if buy_bar else pal.bar_sell
            bold = c == COL_PRICE and (row.best_bid or row.best_ask)
            out.append(
                PaintCell(
                    text=row.texts[c] if row.texts else "",
                    fg=self._foreground(row, c).color(),
                    bg=bg,
                    font=pal.bold if bold else pal.font,
                    align=centre if c == COL_PRICE else right,
                    bar=min(1.0, fraction),
                    bar_colour=bar_colour,
                    own=c == COL_PRICE and bool(row.own_buy or row.own_sell),
                )
            )
        return out

    def _foreground(self, row: LadderRow, c: int) -> QBrush:
        pal = self._pal
        if c in (COL_BID, COL_BID_CUM):
            return pal.buy if c == COL_BID else pal.dim
        if c in (COL_ASK, COL_ASK_CUM):
            return pal.sell if c == COL_ASK else pal.dim
        if c == COL_SOLD:
            return pal.sell
        if c == COL_BOUGHT:
            return pal.buy
        if c == COL_TRADE:
            if row.last_level > FADE_STEPS // 2:
                return pal.last
            return pal.buy if row.last_side == "Buy" else pal.sell
        if c == COL_PRICE:
            if row.last_level:
                return pal.last
            if row.best_bid:
                return pal.buy
            if row.best_ask:
                return pal.sell
            return pal.text
        return pal.text

    def _background(self, row: LadderRow, c: int) -> QBrush | None:
        pal = self._pal
        if c == COL_BID and row.flash_bid:
            return pal.flash[row.flash_bid]
        if c == COL_ASK and row.flash_ask:
            return pal.flash[row.flash_ask]
        if c in (COL_PRICE, COL_TRADE) and row.last_side is not None:
            ramp = pal.trade_buy if row.last_side == "Buy" else pal.trade_sell
            return ramp[row.last_level]
        if c == COL_PRICE:
            if row.best_bid:
                return pal.best_bid_bg
            if row.best_ask:
                return pal.best_ask_bg
            return pal.price_bg
        if c in (COL_BID, COL_BID_CUM) and row.bid_cum > 0:
            return pal.bid_zone
        if c in (COL_ASK, COL_ASK_CUM) and row.ask_cum > 0:
            return pal.ask_zone
        return None

    def _bar(self, row: LadderRow, c: int) -> float:
        if c == COL_BID:
            return row.bid / self._max_size if self._max_size else 0.0
        if c == COL_ASK:
            return row.ask / self._max_size if self._max_size else 0.0
        if c == COL_BOUGHT:
            return row.bought / self._max_vol if self._max_vol else 0.0
        if c == COL_SOLD:
            return row.sold / self._max_vol if self._max_vol else 0.0
        return 0.0
