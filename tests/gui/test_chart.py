"""Candle chart: cached closed candles, live candle, follow-latest, LOD, readout."""

from __future__ import annotations

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from app.bridge import Bridge
from app.state.market import MarketState
from app.widgets.chart.items import LOD_MAX_BARS, resample
from app.widgets.chart.widget import ChartWidget
from tests.gui.conftest import bars, instrument, trades

SYM = "XBTUSD"
T0 = 1_700_000_040.0 - (1_700_000_040.0 % 60)


class _Session:
    def __init__(self, state: MarketState) -> None:
        self.state = state
        self.symbol = SYM
        self.bridge = Bridge(state)


def _history(n: int) -> list[tuple[float, float, float, float, float, float]]:
    rows = []
    price = 100.0
    for i in range(n):
        o = price
        c = price + (1.0 if i % 3 else -1.5)
        rows.append((T0 + 60 * i, o, max(o, c) + 0.5, min(o, c) - 0.5, c, 1000.0 + i))
        price = c
    return rows


@pytest.fixture
def chart(qtbot: QtBot, themes) -> tuple[ChartWidget, _Session]:
    state = MarketState("bitmex")
    state.apply(instrument(SYM, 0.5))
    session = _Session(state)
    widget = ChartWidget()
    qtbot.addWidget(widget)
    widget.resize(900, 500)
    widget.show()
    widget.bind_session(session)  # type: ignore[arg-type]
    return widget, session


def test_history_and_live_candle(chart: tuple[ChartWidget, _Session]) -> None:
    widget, session = chart
    session.state.apply(bars(SYM, "1m", _history(200)))
    widget.update_now()
    assert widget.closed_item.count == 200
    builds = widget.closed_item.builds
    last_open = T0 + 60 * 200
    session.state.apply(trades(SYM, ("Buy", 150.0, 5.0, last_open + 1)))
    widget.update_now()
    assert widget.live_item.count == 1
    session.state.apply(trades(SYM, ("Sell", 149.0, 5.0, last_open + 2)))
    widget.update_now()
    assert widget.closed_item.builds == builds  # a live tick never rebuilds closed candles
    (x0, x1), (y0, y1) = widget.price_plot.vb.viewRange()
    assert x0 < last_open < x1  # follows the newest bar
    assert y0 < 149.0 and y1 > 150.0
    widget.show_readout(None)
    text = widget.readout.text()
    assert "O" in text and "150.0" in text and "149.0" in text


def test_follow_latest_only_when_right_edge_in_view(chart: tuple[ChartWidget, _Session]) -> None:
    widget, session = chart
    session.state.apply(bars(SYM, "1m", _history(300)))
    widget.update_now()
    assert widget.following
    # the user pans back into history: the view must stay put when new bars arrive
    widget.price_plot.setXRange(T0, T0 + 60 * 50, padding=0)
    widget._on_manual_range()
    assert not widget.following
    before = widget.price_plot.vb.viewRange()[0]
    t_new = T0 + 60 * 305
    session.state.apply(trades(SYM, ("Buy", 150.0, 5.0, t_new)))
    session.state.apply(trades(SYM, ("Buy", 151.0, 5.0, t_new + 60)))
    widget.update_now()
    assert widget.price_plot.vb.viewRange()[0] == pytest.approx(before)
    widget.jump_to_latest()
    (x0, x1), _ = widget.price_plot.vb.viewRange()
    assert widget.following and x0 < t_new + 60 < x1


def test_y_axis_fits_visible_bars(chart: tuple[ChartWidget, _Session]) -> None:
    widget, session = chart
    rows = _history(100)
    rows.append((T0 + 60 * 100, 1000.0, 1001.0, 999.0, 1000.5, 5.0))  # an outlier far away
    session.state.apply(bars(SYM, "1m", rows))
    widget.update_now()
    _, (y0, y1) = widget.price_plot.vb.viewRange()
    assert y1 > 1000
    widget.price_plot.setXRange(T0, T0 + 60 * 30, padding=0)
    _, (y0, y1) = widget.price_plot.vb.viewRange()
    visible = rows[:31]
    assert y1 < 1000 and y0 <= min(r[3] for r in visible) and y1 >= max(r[2] for r in visible)


def test_timeframes_switch_series(chart: tuple[ChartWidget, _Session]) -> None:
    widget, session = chart
    session.state.apply(bars(SYM, "1m", _history(120)))
    widget.set_timeframe("5m")
    assert widget.series is session.state.candles(SYM).series("5m")
    assert widget.interval == 300
    widget.set_timeframe("1d")
    assert widget.tf_buttons["1d"].isChecked()


def test_level_of_detail_beyond_a_few_thousand_bars(chart: tuple[ChartWidget, _Session]) -> None:
    widget, session = chart
    n = 10_000
    session.state.apply(bars(SYM, "1m", _history(n)))
    widget.update_now()
    widget.price_plot.setXRange(T0, T0 + 60 * n, padding=0)
    assert widget._lod > 1
    assert widget.closed_item.count <= LOD_MAX_BARS
    widget.jump_to_latest()
    assert widget._lod == 1


def test_resample_keeps_extremes() -> None:
    t = np.arange(7, dtype=float)
    o = np.array([1, 2, 3, 4, 5, 6, 7], dtype=float)
    h = o + 1
    lo = o - 1
    c = o + 0.5
    v = np.ones(7)
    rt, ro, rh, rl, rc, rv = resample(t, o, h, lo, c, v, 3)
    assert list(rt) == [0, 3, 6]
    assert list(ro) == [1, 4, 7] and list(rh) == [4, 7, 8] and list(rl) == [0, 3, 6]
    assert list(rc) == [3.5, 6.5, 7.5] and list(rv) == [3, 3, 1]


def test_end_key_and_crosshair(qtbot: QtBot, chart: tuple[ChartWidget, _Session]) -> None:
    from PySide6.QtCore import QPointF, Qt

    widget, session = chart
    session.state.apply(bars(SYM, "1m", _history(300)))
    widget.update_now()
    widget.price_plot.setXRange(T0, T0 + 60 * 40, padding=0)
    widget._on_manual_range()
    assert not widget.following
    widget.graphics.setFocus()
    qtbot.keyClick(widget.graphics, Qt.Key.Key_End)
    assert widget.following
    # hover the 10th bar: crosshair shows, the readout names that bar's OHLC
    bar_t = T0 + 60 * (300 - 10) + 30
    _, (y0, y1) = widget.price_plot.vb.viewRange()
    scene_pos = widget.price_plot.vb.mapViewToScene(QPointF(bar_t, (y0 + y1) / 2))
    widget._on_mouse_moved((scene_pos,))
    assert widget.v_line.isVisible()
    bar = session.state.candles(SYM).series("1m").bar_at(-10)
    assert "O <span style='color:" in widget.readout.text()
    assert f"{bar.close:,.1f}" in widget.readout.text()
