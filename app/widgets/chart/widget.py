"""Candle chart dock (pyqtgraph): timeframes, volume pane, crosshair readout, follow-latest, LOD.

Data come from the session's CandleStore: closed bars are drawn by one cached item rebuilt only
when `closed_version` changes (or the level of detail does), the live bar by a small item
redrawn per tick. The view follows the newest bar only while the right edge is in view; End or
the "Latest" button jumps back. The wheel zooms time, the price axis fits the visible bars.
Prices (readout, axis labels, account lines) are written with the market's tick decimals, the
tick taken where the ladder takes it; the right axes widen for long labels (0.0000061290).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import QColor, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.gui import settings as cfg
from app.gui.theme import Theme, current_theme, monospace_font
from app.widgets.binding import follow_frames, price_step
from app.widgets.chart.account_lines import AccountLines
from app.widgets.chart.items import (
    LOD_MAX_BARS,
    CandlesItem,
    PriceAxis,
    VolumeAxis,
    VolumeItem,
    resample,
)
from app.widgets.format import (
    decimals_for_step,
    fmt_price,
    fmt_size,
    infer_tick,
    price_decimals_seen,
)

if TYPE_CHECKING:
    from app.gui.session import FeedSession
    from app.state.candles import CandleSeries

TIMEFRAMES = ("1m", "5m", "15m", "1h", "4h", "1d")
DEFAULT_TIMEFRAME = "1m"
DEFAULT_VISIBLE_BARS = 120
MIN_VISIBLE_BARS = 30  # a short history (a venue without back-fill) is not squeezed to the edge
RIGHT_MARGIN_BARS = 3
REDRAW_MS = 40  # at most 25 chart redraws a second
Y_PAD = 0.08
MIN_TICKS_IN_VIEW = 6  # the price axis spans at least this many ticks
FLAT_SPAN = 2e-4  # flat bars: the price axis spans this fraction of the price
AXIS_WIDTH = 72  # px of the right axes, more when the price labels need it
AXIS_SHRINK_SLACK = 12  # px a wider axis keeps before narrowing again (no jitter)
DEFAULT_DECIMALS = 1  # prices of a market whose tick and prices are not known yet
BOOK_TICK_LEVELS = 50  # levels per side the tick is inferred from (as the ladder does)


class ChartWidget(QWidget):
    """The candle chart feature (dock content)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chartWidget")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.session: FeedSession | None = None
        self._symbol = ""
        self.timeframe = DEFAULT_TIMEFRAME
        self.series: CandleSeries | None = None
        self.following = True
        self._closed_seen = -1
        self._live_seen = -1
        self._lod = 1
        self._tick: float | None = None
        self._decimals = DEFAULT_DECIMALS
        self._seen_decimals = -1  # most decimals the shown bars' prices have (-1: none yet)
        self.axis_width = AXIS_WIDTH
        self._adjusting = False
        self._fitted = False  # the view was placed on real bars at least once
        self._readout_x: float | None = None  # the bar the readout describes (None: newest)

        # controls
        self.tf_group = QButtonGroup(self)
        self.tf_group.setExclusive(True)
        controls = QHBoxLayout()
        controls.setContentsMargins(4, 2, 4, 2)
        controls.setSpacing(2)
        self.tf_buttons: dict[str, QToolButton] = {}
        for tf in TIMEFRAMES:
            button = QToolButton(self)
            button.setText(tf)
            button.setCheckable(True)
            button.setObjectName(f"tf.{tf}")
            button.setAutoRaise(True)
            self.tf_group.addButton(button)
            self.tf_buttons[tf] = button
            controls.addWidget(button)
            button.clicked.connect(lambda _checked=False, t=tf: self.set_timeframe(t))
        self.tf_buttons[self.timeframe].setChecked(True)
        self.readout = QLabel(self)
        self.readout.setObjectName("chartReadout")
        self.readout.setFont(monospace_font())
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        # the OHLCV line may be cut on a narrow chart; it must not widen the dock
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.latest_button = QPushButton("Latest ⇥", self)
        self.latest_button.setToolTip("Jump to the newest candle and follow it (End)")
        self.latest_button.clicked.connect(self.jump_to_latest)
        self.end_shortcut = QShortcut(QKeySequence(Qt.Key.Key_End), self)
        self.end_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.end_shortcut.activated.connect(self.jump_to_latest)
        controls.addSpacing(10)
        controls.addWidget(self.readout, 1)
        controls.addWidget(self.latest_button)

        # plots
        self.graphics = pg.GraphicsLayoutWidget(self)
        self.graphics.setObjectName("chartGraphics")
        self.price_axis = PriceAxis("right")
        self.price_plot: pg.PlotItem = self.graphics.addPlot(
            row=0,
            col=0,
            axisItems={"bottom": pg.DateAxisItem(orientation="bottom"), "right": self.price_axis},
        )
        self.volume_plot: pg.PlotItem = self.graphics.addPlot(
            row=1,
            col=0,
            axisItems={
                "bottom": pg.DateAxisItem(orientation="bottom"),
                "right": VolumeAxis("right"),
            },
        )
        self.graphics.ci.layout.setRowStretchFactor(0, 4)
        self.graphics.ci.layout.setRowStretchFactor(1, 1)
        self.graphics.ci.layout.setSpacing(0)
        self.volume_plot.setXLink(self.price_plot)
        for plot in (self.price_plot, self.volume_plot):
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMouseEnabled(x=True, y=False)
            plot.enableAutoRange(x=False, y=False)
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.showAxis("right")
            plot.hideAxis("left")
            plot.getAxis("right").setTickFont(self.font())
            plot.getAxis("right").setWidth(AXIS_WIDTH)
        self.price_plot.getAxis("bottom").setStyle(showValues=False)
        self.price_plot.getAxis("bottom").setHeight(4)
        self.volume_plot.getAxis("right").setStyle(tickTextOffset=4)

        self.closed_item = CandlesItem(cached=True)
        self.live_item = CandlesItem(cached=False)
        self.closed_volume = VolumeItem(cached=True)
        self.live_volume = VolumeItem(cached=False)
        self.price_plot.addItem(self.closed_item)
        self.price_plot.addItem(self.live_item)
        self.volume_plot.addItem(self.closed_volume)
        self.volume_plot.addItem(self.live_volume)
        self.last_line = pg.InfiniteLine(angle=0, movable=False)
        self.price_plot.addItem(self.last_line, ignoreBounds=True)
        self.v_line = pg.InfiniteLine(angle=90, movable=False)
        self.h_line = pg.InfiniteLine(angle=0, movable=False)
        self.v_line_volume = pg.InfiniteLine(angle=90, movable=False)
        for line in (self.v_line, self.h_line):
            self.price_plot.addItem(line, ignoreBounds=True)
        self.volume_plot.addItem(self.v_line_volume, ignoreBounds=True)
        self._set_crosshair_visible(False)
        self.account_lines = AccountLines(self.price_plot)
        self.empty_label = pg.TextItem("waiting for candles…", anchor=(0.5, 0.5))
        self.price_plot.addItem(self.empty_label, ignoreBounds=True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(controls)
        layout.addWidget(self.graphics, 1)

        self._mouse_proxy = pg.SignalProxy(
            self.graphics.scene().sigMouseMoved, rateLimit=60, slot=self._on_mouse_moved
        )
        self.price_plot.vb.sigRangeChangedManually.connect(self._on_manual_range)
        self.price_plot.vb.sigXRangeChanged.connect(self._on_x_range)
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(REDRAW_MS)
        self._redraw.timeout.connect(self.update_now)
        self.apply_theme(current_theme())

    # ---- feature protocol ------------------------------------------------------------
    def bind_session(self, session: FeedSession | None) -> None:
        """Follow the candles of the session's symbol."""
        self.session = follow_frames(self.session, session, self._on_frame)
        self._symbol = session.symbol if session is not None else ""
        self._select_series()

    def apply_theme(self, theme: Theme) -> None:
        """Colours of background, axes, candles and crosshair."""
        self.graphics.setBackground(theme.base)
        for plot in (self.price_plot, self.volume_plot):
            for axis_name in ("right", "bottom"):
                axis = plot.getAxis(axis_name)
                axis.setPen(pg.mkPen(theme.grid, width=1))
                axis.setTextPen(pg.mkPen(theme.dim_text, width=1))
        up, down = QColor(theme.buy), QColor(theme.sell)
        self.closed_item.set_colours(up, down)
        self.live_item.set_colours(up, down)
        vol_up, vol_down = theme.qcolor("buy", 120), theme.qcolor("sell", 120)
        self.closed_volume.set_colours(vol_up, vol_down)
        self.live_volume.set_colours(vol_up, vol_down)
        cross = pg.mkPen(theme.dim_text, width=1, style=Qt.PenStyle.DashLine)
        for line in (self.v_line, self.h_line, self.v_line_volume):
            line.setPen(cross)
        self.last_line.setPen(pg.mkPen(theme.dim_text, width=1, style=Qt.PenStyle.DotLine))
        self.empty_label.setColor(theme.dim_text)
        self.account_lines.apply_theme(theme)
        self._theme = theme
        self._closed_seen = -1
        self._live_seen = -1
        self.update_now()

    def save_settings(self, settings: QSettings) -> None:
        """Persist the timeframe."""
        settings.setValue("timeframe", self.timeframe)

    def restore_settings(self, settings: QSettings) -> None:
        """Restore the timeframe."""
        tf = cfg.read_str(settings, "timeframe", DEFAULT_TIMEFRAME)
        if tf in TIMEFRAMES:
            self.set_timeframe(tf)

    # ---- public actions --------------------------------------------------------------
    def set_timeframe(self, timeframe: str) -> None:
        """Show another timeframe (the view jumps to its newest bars)."""
        if timeframe not in TIMEFRAMES:
            return
        self.timeframe = timeframe
        self.tf_buttons[timeframe].setChecked(True)
        self._select_series()

    def jump_to_latest(self) -> None:
        """Show the newest bars and follow them again."""
        self.following = True
        self._fit_latest()

    # ---- updates ---------------------------------------------------------------------
    def _select_series(self) -> None:
        self.series = None
        if self.session is not None and self._symbol:
            self.series = self.session.state.candles(self._symbol).series(self.timeframe)
        self._tick = None
        self._decimals = DEFAULT_DECIMALS
        self._seen_decimals = -1
        self.price_axis.set_price_format(None, None)
        if self.series is not None and len(self.series):
            _t, o, h, lo, c, _v = self.series.all_arrays()
            self._observe_prices(a[-DEFAULT_VISIBLE_BARS:] for a in (o, h, lo, c))
        self._update_price_format()
        self._closed_seen = -1
        self._live_seen = -1
        self._lod = 1
        self.following = True
        self._fitted = False
        self.update_now()
        self.update_account_lines()

    def _on_frame(self, aspects: Any) -> None:
        watched = f"candles:{self._symbol}" in aspects or f"trades:{self._symbol}" in aspects
        if "instruments" in aspects or (f"book:{self._symbol}" in aspects and self._tick is None):
            self._update_price_format()
        if watched and not self._redraw.isActive():
            self._redraw.start()
        if "account" in aspects:
            self.update_account_lines()

    # ---- price format ----------------------------------------------------------------
    @property
    def price_decimals(self) -> int:
        """Decimals the chart writes prices with (readout, labels, account lines)."""
        return self._decimals

    @property
    def tick(self) -> float | None:
        """The price step the chart's labels stay on (None while unknown)."""
        return self._tick

    def _find_tick(self) -> float | None:
        """The ladder's tick source: the session's price step (instrument tick, venue
        grouping), else the book's own tick, else one inferred from the book's prices."""
        session = self.session
        if session is None or not self._symbol:
            return None
        step = price_step(session, self._symbol)
        if step:
            return step
        book = session.state.book(self._symbol)
        step = getattr(book, "tick_size", None)
        if isinstance(step, float | int) and step > 0:
            return float(step)
        prices = [p for p, _ in book.bids(BOOK_TICK_LEVELS)]
        prices += [p for p, _ in book.asks(BOOK_TICK_LEVELS)]
        return infer_tick(prices)

    def _update_price_format(self) -> None:
        """Write prices with the market's tick decimals as soon as the tick is known, never
        with fewer than the bars' prices have (a book grouped coarser than the trades)."""
        tick = self._find_tick()
        if tick:
            decimals = max(decimals_for_step(tick), self._seen_decimals)
        elif self._seen_decimals >= 0:
            decimals = self._seen_decimals
        else:
            decimals = DEFAULT_DECIMALS
        if tick == self._tick and decimals == self._decimals:
            return
        self._tick = tick
        self._decimals = decimals
        self.price_axis.set_price_format(tick, decimals)
        self._fit_axis_width()
        self.update_account_lines()
        if not self.v_line.isVisible():
            self.show_readout(None)

    def _observe_prices(self, arrays: Iterable[Iterable[float]]) -> bool:
        """Learn the decimals of these bar prices; True when they have more than any before."""
        seen = price_decimals_seen(float(p) for a in arrays for p in a)
        if seen is None or seen <= self._seen_decimals:
            return False
        self._seen_decimals = seen
        return True

    def _fit_axis_width(self) -> None:
        """Widen both right axes (they stay equal so candles and volume bars line up) when
        the price labels need more room; narrow them again only when much less is needed."""
        _, (y0, y1) = self.price_plot.vb.viewRange()
        need = max(AXIS_WIDTH, self.price_axis.label_width([y0, y1]))
        if need > self.axis_width or need < self.axis_width - AXIS_SHRINK_SLACK:
            self.axis_width = need
            for plot in (self.price_plot, self.volume_plot):
                plot.getAxis("right").setWidth(need)

    def update_account_lines(self) -> None:
        """Working orders and the position (entry, liquidation) of the shown symbol as lines."""
        session = self.session
        if session is None or not self._symbol:
            self.account_lines.clear()
            return
        account = session.state.account
        self.account_lines.update(
            account.working_orders(self._symbol), account.position(self._symbol), self._decimals
        )

    @property
    def interval(self) -> float:
        """Seconds per bar of the shown timeframe."""
        return float(self.series.interval) if self.series is not None else 60.0

    def update_now(self) -> None:
        """Redraw what changed: closed candles when a bar closed, otherwise only the live bar."""
        series = self.series
        if series is None:
            for item in (self.closed_item, self.live_item, self.closed_volume, self.live_volume):
                item.clear()
            self._show_empty(True)
            return
        if self._tick is None:
            self._update_price_format()
        was_at_edge = self._right_edge_in_view()
        new_bar = False
        if series.closed_version != self._closed_seen:
            new_bar = True
            self._closed_seen = series.closed_version
            self._rebuild_closed()
        if series.live_version != self._live_seen:
            self._live_seen = series.live_version
            live = series.live_bar()
            if live is None:
                self.live_item.clear()
                self.live_volume.clear()
            else:
                a = [
                    np.array([x])
                    for x in (live.open_time, live.open, live.high, live.low, live.close)
                ]
                self.live_item.set_data(a[0], a[1], a[2], a[3], a[4], self.interval)
                if self._observe_prices(a[1:]):
                    self._update_price_format()
                self.live_volume.set_data(a[0], a[1], a[4], np.array([live.volume]), self.interval)
                self.last_line.setPos(live.close)
        self._show_empty(len(series) == 0)
        if len(series) and not self._fitted:
            self._fit_latest()
        elif len(series) and (self.following and (was_at_edge or new_bar)):
            self._follow()
        self._fit_y()
        if not self.v_line.isVisible():
            self.show_readout(None)

    def _show_empty(self, empty: bool) -> None:
        """With no bars: a time axis ending now and a centred "waiting" note."""
        self.empty_label.setVisible(empty)
        self.last_line.setVisible(not empty)
        if not empty:
            return
        now = time.time()
        span = self.interval * DEFAULT_VISIBLE_BARS
        self._set_x(now - span, now + self.interval * RIGHT_MARGIN_BARS)
        self.price_plot.setYRange(0, 1, padding=0)
        self.volume_plot.setYRange(0, 1, padding=0)
        self.empty_label.setPos(now - span / 2, 0.5)

    def _rebuild_closed(self) -> None:
        series = self.series
        if series is None:
            return
        t, o, h, lo, c, v = series.arrays()
        self._lod = self._lod_factor(len(t))
        if self._lod > 1:
            t, o, h, lo, c, v = resample(t, o, h, lo, c, v, self._lod)
        if self._observe_prices(a[-DEFAULT_VISIBLE_BARS:] for a in (o, h, lo, c)):
            self._update_price_format()
        width = self.interval * self._lod
        self.closed_item.set_data(t, o, h, lo, c, width)
        self.closed_volume.set_data(t, o, c, v, width)
        if series.live_bar() is None and len(t):
            self.last_line.setPos(float(c[-1]))

    def _lod_factor(self, total: int) -> int:
        (x0, x1), _ = self.price_plot.vb.viewRange()
        visible = min(total, max(1.0, (x1 - x0) / self.interval))
        return max(1, math.ceil(visible / LOD_MAX_BARS))

    def _last_time(self) -> float | None:
        return self.series.last_time() if self.series is not None else None

    def _right_edge_in_view(self) -> bool:
        last = self._last_time()
        if last is None:
            return True
        (x0, x1), _ = self.price_plot.vb.viewRange()
        return x0 <= last + self.interval and last <= x1

    def _follow(self) -> None:
        last = self._last_time()
        if last is None:
            return
        (x0, x1), _ = self.price_plot.vb.viewRange()
        right = last + self.interval * (1 + RIGHT_MARGIN_BARS)
        if x1 < right - 1e-9 or x1 > right + self.interval * RIGHT_MARGIN_BARS:
            span = x1 - x0
            self._set_x(right - span, right)

    def _fit_latest(self) -> None:
        last = self._last_time()
        if last is None:
            return
        right = last + self.interval * (1 + RIGHT_MARGIN_BARS)
        bars = len(self.series) if self.series is not None else 0
        visible = min(DEFAULT_VISIBLE_BARS, max(MIN_VISIBLE_BARS, bars + RIGHT_MARGIN_BARS))
        self._set_x(right - self.interval * visible, right)
        self._fitted = True
        self._fit_y()

    def _set_x(self, x0: float, x1: float) -> None:
        self._adjusting = True
        try:
            self.price_plot.setXRange(x0, x1, padding=0)
        finally:
            self._adjusting = False

    def _fit_y(self) -> None:
        series = self.series
        if series is None or len(series) == 0:
            return
        (x0, x1), _ = self.price_plot.vb.viewRange()
        t, _o, h, lo, _c, v = series.arrays()
        i0 = int(np.searchsorted(t, x0 - self.interval, side="left"))
        i1 = int(np.searchsorted(t, x1, side="right"))
        highs = [float(np.max(h[i0:i1]))] if i1 > i0 else []
        lows = [float(np.min(lo[i0:i1]))] if i1 > i0 else []
        vols = [float(np.max(v[i0:i1]))] if i1 > i0 else []
        live = series.live_bar()
        if live is not None and x0 - self.interval <= live.open_time <= x1:
            highs.append(live.high)
            lows.append(live.low)
            vols.append(live.volume)
        if not highs:
            return
        want = y_range(max(highs), min(lows), self._tick)
        (_, _), (y0, y1) = self.price_plot.vb.viewRange()
        tolerance = (want[1] - want[0]) * 1e-6  # relative: prices of any magnitude
        if abs(y0 - want[0]) > tolerance or abs(y1 - want[1]) > tolerance:
            self.price_plot.setYRange(want[0], want[1], padding=0)
            self._fit_axis_width()
        vmax = max(vols) if vols else 0.0
        self.volume_plot.setYRange(0, vmax * 1.1 if vmax > 0 else 1.0, padding=0)
        (ex0, ex1), (ey0, ey1) = self.price_plot.vb.viewRange()
        self.empty_label.setPos((ex0 + ex1) / 2, (ey0 + ey1) / 2)

    def _on_manual_range(self, *_args: object) -> None:
        self.following = self._right_edge_in_view()

    def _on_x_range(self, *_args: object) -> None:
        if self.series is None:
            return
        lod = self._lod_factor(self.series.closed_count)
        if lod != self._lod:
            self._rebuild_closed()
        if not self._adjusting:
            self._fit_y()

    # ---- crosshair -------------------------------------------------------------------
    def _set_crosshair_visible(self, visible: bool) -> None:
        for line in (self.v_line, self.h_line, self.v_line_volume):
            line.setVisible(visible)

    def _on_mouse_moved(self, event: tuple[QPointF]) -> None:
        pos = event[0]
        vb = self.price_plot.vb
        inside = self.price_plot.sceneBoundingRect().contains(pos) or (
            self.volume_plot.sceneBoundingRect().contains(pos)
        )
        if not inside or self.series is None or len(self.series) == 0:
            self._set_crosshair_visible(False)
            self.show_readout(None)
            return
        point = vb.mapSceneToView(pos)
        self._set_crosshair_visible(True)
        self.v_line.setPos(point.x())
        self.v_line_volume.setPos(point.x())
        self.h_line.setPos(point.y())
        self.show_readout(point.x())

    def show_readout(self, x: float | None) -> None:
        """Write the OHLCV line of the bar under x (None: the newest bar). A narrow chart drops
        the symbol and timeframe, then the bar's time, before it cuts any price."""
        self._readout_x = x
        series = self.series
        if series is None or len(series) == 0:
            self.readout.setText("")
            return
        t, o, h, lo, c, v = series.all_arrays()
        i = len(t) - 1 if x is None else int(np.searchsorted(t, x, side="right")) - 1
        i = min(max(i, 0), len(t) - 1)
        theme = self._theme
        colour = theme.buy if c[i] >= o[i] else theme.sell
        change = (c[i] - o[i]) / o[i] * 100 if o[i] else 0.0
        d = self._decimals
        stamp = _fmt_stamp(float(t[i]), self.interval)
        values = [
            ("O", fmt_price(o[i], d)),
            ("H", fmt_price(h[i], d)),
            ("L", fmt_price(lo[i], d)),
            ("C", fmt_price(c[i], d)),
            ("V", fmt_size(v[i], blank_zero=False)),
            ("", f"{change:+.2f}%"),
        ]
        plain = " ".join(f"{k} {text}" if k else text for k, text in values)
        rich = " ".join(
            f"{k} <span style='color:{colour}'>{text}</span>"
            if k
            else f"<span style='color:{colour}'>{text}</span>"
            for k, text in values
        )
        metrics = self.readout.fontMetrics()
        room = self.readout.width()
        for head in (f"{self._symbol} {self.timeframe} {stamp}", stamp, ""):
            line = f"{head} {plain}" if head else plain
            if not head or room <= 0 or metrics.horizontalAdvance(line) <= room:
                break
        prefix = f"<span style='color:{theme.dim_text}'>{head}</span> " if head else ""
        self.readout.setText(prefix + rich)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.show_readout(self._readout_x)


def y_range(top: float, bottom: float, tick: float | None) -> tuple[float, float]:
    """The price range showing bars from `bottom` to `top`: padded by `Y_PAD`, at least
    `MIN_TICKS_IN_VIEW` ticks, and for flat bars `FLAT_SPAN` of the price (1.0 at price 0)."""
    span = top - bottom
    least = MIN_TICKS_IN_VIEW * tick if tick else 0.0
    if span <= 0:
        least = max(least, abs(top) * FLAT_SPAN) or 1.0
    if span * (1 + 2 * Y_PAD) < least:
        mid = (top + bottom) / 2
        return mid - least / 2, mid + least / 2
    pad = span * Y_PAD
    return bottom - pad, top + pad


def _fmt_stamp(ts: float, interval: float) -> str:
    fmt = "%Y-%m-%d" if interval >= 86400 else "%m-%d %H:%M"
    return time.strftime(fmt, time.localtime(ts))
