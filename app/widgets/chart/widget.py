"""Candle chart dock (pyqtgraph): timeframes, volume pane, crosshair readout, follow-latest, LOD.

Data come from the session's CandleStore: closed bars are drawn by one cached item rebuilt only
when `closed_version` changes (or the level of detail does), the live bar by a small item
redrawn per tick. The view follows the newest bar only while the right edge is in view; End or
the "Latest" button jumps back. The wheel zooms time, the price axis fits the visible bars.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import QColor, QKeySequence, QShortcut
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
from app.widgets.format import decimals_for_step, fmt_price, fmt_size

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
        self._decimals = 1
        self._adjusting = False
        self._fitted = False  # the view was placed on real bars at least once

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
            plot.getAxis("right").setWidth(72)
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
            tick = price_step(self.session, self._symbol)
            self._decimals = decimals_for_step(tick) if tick else 1
            self.price_axis.decimals = self._decimals if tick else None
        self._closed_seen = -1
        self._live_seen = -1
        self._lod = 1
        self.following = True
        self._fitted = False
        self.update_now()
        self.update_account_lines()

    def _on_frame(self, aspects: Any) -> None:
        watched = f"candles:{self._symbol}" in aspects or f"trades:{self._symbol}" in aspects
        if watched and not self._redraw.isActive():
            self._redraw.start()
        if "account" in aspects:
            self.update_account_lines()

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
        top, bottom = max(highs), min(lows)
        pad = (top - bottom) * Y_PAD or max(abs(top) * 1e-4, 1e-6)
        (_, _), (y0, y1) = self.price_plot.vb.viewRange()
        want = (bottom - pad, top + pad)
        if abs(y0 - want[0]) > 1e-9 or abs(y1 - want[1]) > 1e-9:
            self.price_plot.setYRange(want[0], want[1], padding=0)
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
        """Write the OHLCV line of the bar under x (None: the newest bar)."""
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
        self.readout.setText(
            f"<span style='color:{theme.dim_text}'>{self._symbol} {self.timeframe} {stamp}</span> "
            f"O <span style='color:{colour}'>{fmt_price(o[i], d)}</span> "
            f"H <span style='color:{colour}'>{fmt_price(h[i], d)}</span> "
            f"L <span style='color:{colour}'>{fmt_price(lo[i], d)}</span> "
            f"C <span style='color:{colour}'>{fmt_price(c[i], d)}</span> "
            f"V <span style='color:{colour}'>{fmt_size(v[i], blank_zero=False)}</span> "
            f"<span style='color:{colour}'>{change:+.2f}%</span>"
        )


def _fmt_stamp(ts: float, interval: float) -> str:
    fmt = "%Y-%m-%d" if interval >= 86400 else "%m-%d %H:%M"
    return time.strftime(fmt, time.localtime(ts))
