"""Chart prices at any magnitude: readout, axis labels, axis width and y range by the tick."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QFontMetricsF, QImage, QPainter
from pytestqt.qtbot import QtBot

from app.widgets.chart.items import PriceAxis, VolumeAxis
from app.widgets.chart.widget import MIN_TICKS_IN_VIEW, ChartWidget, y_range
from tests.gui.conftest import FakeSession, bars, book, instrument, keep_artifact, trades

T0 = 1_618_670_000.0 - (1_618_670_000.0 % 60)


def _walk(price: float, tick: float, n: int = 90) -> list[tuple[float, ...]]:
    """n one-minute bars stepping a few ticks at a time, prices on the tick grid."""
    rows = []
    for i in range(n):
        o = price
        c = round(price + tick * (3 if i % 3 else -4), 12)
        h = round(max(o, c) + 2 * tick, 12)
        lo = round(min(o, c) - 2 * tick, 12)
        rows.append((T0 + 60 * i, o, h, lo, c, 1000.0 + 37 * i))
        price = c
    return rows


def _chart(qtbot: QtBot, session: FakeSession, width: int = 900) -> ChartWidget:
    widget = ChartWidget()
    qtbot.addWidget(widget)
    widget.resize(width, 460)
    widget.show()
    widget.bind_session(session)  # type: ignore[arg-type]
    return widget


def _market(symbol: str, tick: float | None, price: float, tick_for_bars: float) -> FakeSession:
    session = FakeSession(symbol=symbol)
    if tick is not None:
        session.state.apply(instrument(symbol, tick, lotSize=1))
    session.state.apply(bars(symbol, "1m", _walk(price, tick_for_bars)))
    return session


def _readout(widget: ChartWidget) -> dict[str, str]:
    plain = re.sub("<[^>]+>", "", widget.readout.text())
    return dict(re.findall(r"\b([OHLC]) (\S+)", plain))


def _drawn_labels(axis: PriceAxis) -> list[str]:
    """The labels pyqtgraph really draws (it drops those wider than the axis)."""
    image = QImage(200, 600, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    assert specs is not None
    return [text for _rect, _flags, text in specs[2]]


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def test_tiny_tick_readout_and_axis_labels(qtbot: QtBot, themes: Any, artifacts: Path) -> None:
    tick = 1e-7
    session = _market("EOSM21", tick, 0.0001268, tick)
    widget = _chart(qtbot, session)
    widget.update_now()
    assert widget.price_decimals == 7 and widget.tick == tick
    widget.show_readout(None)
    last = session.state.candles("EOSM21").series("1m").bar_at(-1)
    assert _readout(widget) == {
        "O": f"{last.open:.7f}",
        "H": f"{last.high:.7f}",
        "L": f"{last.low:.7f}",
        "C": f"{last.close:.7f}",
    }
    labels = _drawn_labels(widget.price_axis)
    assert len(labels) >= 3
    _, (y0, y1) = widget.price_plot.vb.viewRange()
    for text in labels:
        value = float(text)
        assert _decimals(text) == 7 and y0 <= value <= y1
        assert value / tick == pytest.approx(round(value / tick), abs=1e-6)  # on the tick grid
    assert len(set(labels)) == len(labels)
    # the axis is wide enough for its labels and the volume axis keeps the same width
    assert widget.axis_width >= widget.price_axis.label_width([y0, y1])
    assert widget.volume_plot.getAxis("right").width() == widget.price_axis.width()
    picture = artifacts / "chart_tiny_tick.png"
    widget.grab().save(str(picture))
    keep_artifact(picture)


def test_axis_labels_stay_on_the_tick_grid_when_zoomed_tight(qtbot: QtBot, themes: Any) -> None:
    axis = PriceAxis()
    axis.set_price_format(1e-7, 7)
    # 2.4 ticks over 300 px: pyqtgraph alone would put labels 0.5e-8 apart (0.00012665 ...)
    levels = axis.tickValues(0.00012658, 0.00012682, 300)
    spacings = [spacing for spacing, _values in levels]
    assert min(spacings) >= 1e-7 * (1 - 1e-9)
    strings = [axis.tickStrings(values, 1.0, spacing) for spacing, values in levels]
    flat = [s for level in strings for s in level]
    assert flat and set(flat) <= {"0.0001266", "0.0001267", "0.0001268"}
    assert len(set(flat)) == len(flat)


def test_xbtusd_labels_unchanged(qtbot: QtBot, themes: Any) -> None:
    axis = PriceAxis()
    axis.set_price_format(0.5, 1)
    assert axis.tickStrings([61240.0, 61260.0], 1.0, 20.0) == ["61,240", "61,260"]
    assert axis.tickStrings([61255.0], 1.0, 5.0) == ["61,255.0"]
    assert axis.tickStrings([61255.5], 1.0, 0.5) == ["61,255.5"]
    session = _market("XBTUSD", 0.5, 61234.5, 0.5)
    widget = _chart(qtbot, session)
    widget.update_now()
    widget.show_readout(None)
    last = session.state.candles("XBTUSD").series("1m").bar_at(-1)
    assert _readout(widget)["C"] == f"{last.close:,.1f}"
    assert widget.axis_width == 72 and widget.price_axis.width() == 72
    labels = _drawn_labels(widget.price_axis)
    assert labels and all(_decimals(t) <= 1 and "," in t for t in labels)
    assert all(float(t.replace(",", "")) % 0.5 == 0 for t in labels)


def test_decimals_follow_the_ladders_tick_source(qtbot: QtBot, themes: Any) -> None:
    sym = "EOSM21"
    session = FakeSession(symbol=sym)
    # a recording without the instrument row: the bars' own prices tell the decimals
    session.state.apply(bars(sym, "1m", _walk(0.0001268, 1e-7)))
    widget = _chart(qtbot, session)
    widget.update_now()
    assert widget.tick is None and widget.price_decimals == 7
    assert _readout(widget)["C"].startswith("0.000")
    # the book arrives: its tick is inferred as the ladder does
    bids = [(round(0.0001260 - 1e-7 * i, 10), 100.0) for i in range(10)]
    asks = [(round(0.0001261 + 1e-7 * i, 10), 100.0) for i in range(10)]
    session.state.apply(book(sym, bids, asks, snapshot=True))
    widget._on_frame({f"book:{sym}"})
    assert widget.tick == pytest.approx(1e-7) and widget.price_decimals == 7
    # the instrument's tick wins as soon as it is known
    session.state.apply(instrument(sym, 5e-8, lotSize=1))
    widget._on_frame({"instruments"})
    assert widget.tick == 5e-8 and widget.price_decimals == 8
    assert widget.price_axis.tick == 5e-8
    assert len(_readout(widget)["C"].split(".")[1]) == 8


def test_y_range_fits_tiny_bars_and_follows_moves_of_a_few_ticks(qtbot: QtBot, themes: Any) -> None:
    tick = 1e-10
    sym = "SHIBUSDT"
    session = FakeSession(symbol=sym)
    session.state.apply(instrument(sym, tick, lotSize=1))
    flat = [(T0 + 60 * i, 6.129e-6, 6.129e-6, 6.129e-6, 6.129e-6, 10.0) for i in range(30)]
    session.state.apply(bars(sym, "1m", flat))
    widget = _chart(qtbot, session)
    widget.update_now()
    _, (y0, y1) = widget.price_plot.vb.viewRange()
    assert y0 < 6.129e-6 < y1
    assert y1 - y0 == pytest.approx(6.129e-6 * 2e-4)  # flat: 0.02 % of the price
    # a print 5 ticks higher: the view must follow (an absolute tolerance would not)
    session.state.apply(trades(sym, ("Buy", 6.1295e-6, 5.0, T0 + 60 * 30 + 1)))
    session.state.apply(trades(sym, ("Buy", 6.1340e-6, 5.0, T0 + 60 * 30 + 2)))
    widget.update_now()
    _, (y0, y1) = widget.price_plot.vb.viewRange()
    assert y0 < 6.129e-6 and y1 > 6.134e-6
    assert y1 - y0 < 6.134e-6 * 0.01


def test_y_range_rules() -> None:
    # at least MIN_TICKS_IN_VIEW ticks around bars two ticks apart
    low, high = y_range(0.0001268, 0.0001266, 1e-7)
    assert high - low == pytest.approx(MIN_TICKS_IN_VIEW * 1e-7)
    assert low < 0.0001266 and high > 0.0001268
    # XBTUSD as before: flat bars span 0.02 % of the price, others are padded by 8 %
    assert y_range(60000.0, 60000.0, 0.5) == pytest.approx((59994.0, 60006.0))
    assert y_range(61284.0, 61234.0, 0.5) == pytest.approx((61230.0, 61288.0))
    assert y_range(0.0, 0.0, None) == (-0.5, 0.5)


def test_crosshair_reads_tiny_prices(qtbot: QtBot, themes: Any) -> None:
    tick = 1e-7
    session = _market("EOSM21", tick, 0.0001268, tick)
    widget = _chart(qtbot, session)
    widget.update_now()
    series = session.state.candles("EOSM21").series("1m")
    bar = series.bar_at(-5)
    target = QPointF(bar.open_time + 30, (bar.high + bar.low) / 2)
    scene = widget.price_plot.vb.mapViewToScene(target)
    widget._on_mouse_moved((scene,))
    back = widget.price_plot.vb.mapSceneToView(scene)
    assert back.y() == pytest.approx(target.y(), abs=tick / 10)
    assert widget.h_line.value() == pytest.approx(target.y(), abs=tick / 10)
    assert _readout(widget)["C"] == f"{bar.close:.7f}"


def test_narrow_chart_drops_the_readout_prefix_before_prices(qtbot: QtBot, themes: Any) -> None:
    session = _market("EOSM21", 1e-7, 0.0001268, 1e-7)
    widget = _chart(qtbot, session, width=1400)
    widget.update_now()
    assert "EOSM21 1m" in widget.readout.text()
    metrics = QFontMetricsF(widget.readout.font())
    values = re.sub("<[^>]+>", "", widget.readout.text()).split(" ", 4)[4]  # after the time
    assert values.startswith("O 0.000")
    # just wide enough for the prices and volume: symbol, timeframe and time make room
    controls = widget.width() - widget.readout.width()
    widget.resize(controls + math.ceil(metrics.horizontalAdvance(values)) + 4, 460)
    qtbot.waitUntil(lambda: "EOSM21" not in widget.readout.text())
    plain = re.sub("<[^>]+>", "", widget.readout.text())
    assert plain == values
    assert metrics.horizontalAdvance(plain) <= widget.readout.width()


def test_label_width_grows_with_the_price_text(qtbot: QtBot, themes: Any) -> None:
    axis = PriceAxis()
    axis.set_price_format(1e-10, 10)
    wide = axis.label_width([6.129e-6])
    axis.set_price_format(0.5, 1)
    narrow = axis.label_width([61234.5])
    assert wide > narrow


def test_volume_labels_are_plain_and_distinct(qtbot: QtBot, themes: Any) -> None:
    axis = VolumeAxis("right")
    assert axis.tickStrings([2000.0, 4000.0], 1.0, 2000.0) == ["2K", "4K"]  # as before
    assert axis.tickStrings([2e6, 4e6], 1.0, 2e6) == ["2.0M", "4.0M"]
    # labels 500 apart were all "2K" (2.5 rounds to 2); tiny volumes were 1e-05
    assert axis.tickStrings([1500.0, 2000.0, 2500.0], 1.0, 500.0) == ["1.5K", "2.0K", "2.5K"]
    assert axis.tickStrings([1e-5, 2e-5], 1.0, 1e-5) == ["0.00001", "0.00002"]
    assert axis.tickStrings([250.0, 500.0], 1.0, 250.0) == ["250", "500"]


def test_never_fewer_decimals_than_the_bars_have(qtbot: QtBot, themes: Any) -> None:
    # a legacy BitMart book grouped at 0.1 while the trades print at 0.01
    session = _market("BTC_USDT", 0.1, 61234.57, 0.01)
    widget = _chart(qtbot, session)
    widget.update_now()
    assert widget.tick == 0.1 and widget.price_decimals == 2
    assert _decimals(_readout(widget)["C"]) == 2
    # a live print with more decimals than any bar before widens the format at once
    last = session.state.candles("BTC_USDT").series("1m").bar_at(-1)
    session.state.apply(trades("BTC_USDT", ("Buy", 61234.575, 1.0, last.open_time + 61)))
    widget.update_now()
    assert widget.price_decimals == 3 and _readout(widget)["C"] == "61,234.575"
