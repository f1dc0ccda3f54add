"""Tape texts: one number of decimals per market for sizes and prices, aligned value units."""

from __future__ import annotations

import json
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QFontMetrics
from pytestqt.qtbot import QtBot

from app.feeds.bitmart.parse_legacy import LegacyParser
from app.feeds.bitmart.parse_v3 import V3Parser
from app.feeds.events import TableRows, Trade, Trades
from app.state.market import MarketState
from app.widgets.glyphs import TIMES
from app.widgets.tape.delegate import PAD
from app.widgets.tape.formatting import (
    TapeFormat,
    fmt_notional,
    fmt_value,
    small_value_decimals,
    without_sum_noise,
)
from app.widgets.tape.model import COL_COUNT, COL_NOTIONAL, COL_PRICE, COL_SIZE, TapeModel
from app.widgets.tape.widget import TapeWidget
from tests.conftest import read_frames
from tests.gui.conftest import FakeSession, instrument, trades

BM = "BTC_USDT"


def _v3_trades(*prints: tuple[str, str, str, int]) -> str:
    """A BitMart v3 `spot/trade` frame of (side, price, size, ms) prints, sizes as sent."""
    data = [
        {"symbol": BM, "side": s, "price": p, "size": q, "s_t": ms // 1000, "ms_t": ms}
        for s, p, q, ms in prints
    ]
    return json.dumps({"table": "spot/trade", "data": data})


class _V3Market:
    """A BitMart v3 market fed through the venue's parser (no lot step on this venue)."""

    def __init__(self) -> None:
        self.parser = V3Parser()
        self.state = MarketState("bitmart")

    def feed(self, *prints: tuple[str, str, str, int]) -> None:
        for ev in self.parser.parse(_v3_trades(*prints), 0.0).events:
            self.state.apply(ev)

    def rows(self) -> list[Any]:
        return self.state.tape(BM).rows()


def _column(model: TapeModel, column: int) -> list[str]:
    return [model.index(r, column).data() for r in range(model.rowCount())]


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def test_bitmart_sizes_line_up_at_the_most_decimals_seen(qtmodeltester, themes) -> None:
    market = _V3Market()
    market.feed(("sell", "60000.00", "2.1", 1000), ("buy", "60000.10", "2", 2000))
    model = TapeModel()
    model.refresh(market.rows())
    assert _column(model, COL_SIZE) == ["2.0", "2.1"]  # not 2 next to 2.1
    resets: list[int] = []
    changed: list[tuple[int, int]] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.dataChanged.connect(lambda a, b, _r=(): changed.append((a.row(), b.row())))
    # a finer size widens every row already shown, without a model reset
    market.feed(("buy", "60000.25", "0.125", 3000))
    model.refresh(market.rows())
    assert _column(model, COL_SIZE) == ["0.125", "2.000", "2.100"]
    assert resets == [] and changed == [(0, 2)]
    # whole sizes later never shrink the column
    market.feed(("sell", "60000.20", "3", 4000))
    model.refresh(market.rows())
    assert _column(model, COL_SIZE)[0] == "3.000"
    assert model.format.market_size_decimals == 3
    # prices: the decimals of the prints (no tick known), the point in one place
    assert _column(model, COL_PRICE) == [
        "60,000.20\u2007",
        "60,000.25\u2007",
        "60,000.10\u2007",
        "60,000.00\u2007",
    ]
    qtmodeltester.check(model)


def test_merged_prints_and_liquidations_follow_the_size_decimals(themes) -> None:
    market = _V3Market()
    # 0.1 + 0.2 merge (one taker order): 0.30000000000000004 must not teach eight decimals
    market.feed(("buy", "100.5", "1.25", 1000), ("sell", "100.4", "0.1", 2000))
    market.feed(("sell", "100.3", "0.2", 2000))
    model = TapeModel()
    model.refresh(market.rows())
    assert model.format.market_size_decimals == 2
    assert model.index(0, COL_COUNT).data() == f"{TIMES}2"
    assert model.index(0, COL_SIZE).data() == "0.30"
    assert model.index(0, COL_PRICE).data() == "100.33"  # VWAP: one more decimal
    assert model.index(1, COL_PRICE).data() == "100.5\u2007"  # its point under the VWAP's
    # prints only ever seen merged still count: 0.125 + 0.5 in one batch is 0.625, not 0.63
    market.feed(("buy", "100.6", "0.125", 3000), ("buy", "100.7", "0.5", 3000))
    model.refresh(market.rows())
    assert _column(model, COL_SIZE) == ["0.625", "0.300", "1.250"]
    # a liquidation inline is written like every other size
    market.state.apply(
        TableRows(
            "bitmart",
            "liquidation",
            "insert",
            ["orderID"],
            [{"orderID": "l1", "symbol": BM, "side": "Sell", "price": 99.0, "leavesQty": 5}],
            4.0,
        )
    )
    model.refresh(market.rows())
    assert model.index(0, COL_COUNT).data() == "LIQ"
    assert model.index(0, COL_SIZE).data() == "5.000"
    assert {_decimals(t) for t in _column(model, COL_SIZE)} == {3}


def _bitmex_session() -> FakeSession:
    session = FakeSession("bitmex", "XBTUSD")
    session.state.apply(instrument("XBTUSD", 0.5))  # lotSize 100: whole contracts
    return session


def _feed(session: FakeSession, event: Any) -> None:
    session.bridge.on_event(event)
    session.bridge.flush()


def test_bitmex_sizes_stay_integers_with_thousands_separators(qtbot: QtBot, themes) -> None:
    session = _bitmex_session()
    widget = TapeWidget()
    qtbot.addWidget(widget)
    widget.bind_session(session)  # type: ignore[arg-type]
    _feed(
        session,
        trades(
            "XBTUSD",
            ("Buy", 65000.0, 100.0, 1.0),
            ("Sell", 64999.5, 1200.0, 2.0),
            ("Buy", 65000.5, 35000.0, 3.0),
            ("Sell", 64999.0, 2_500_000.0, 4.0),
            ("Buy", 65000.0, 300.0, 5.0),
            ("Buy", 65000.5, 200.0, 5.0),
        ),
    )
    liq = {
        "orderID": "l1",
        "symbol": "XBTUSD",
        "side": "Sell",
        "price": 64990.0,
        "leavesQty": 25000,
    }
    _feed(session, TableRows("bitmex", "liquidation", "insert", ["orderID"], [liq], 6.0))
    model = widget.model
    assert model.format.market_size_decimals == 0
    assert _column(model, COL_SIZE) == ["25,000", "500", "2.50M", "35,000", "1,200", "100"]
    assert _column(model, COL_COUNT)[:2] == ["LIQ", f"{TIMES}2"]
    assert _column(model, COL_PRICE)[1:3] == ["65,000.20", "64,999.0\u2007"]
    # values: the last digit of 1,200 sits under the digit before K or M
    values = _column(model, COL_NOTIONAL)
    assert values == ["25.0K", "500 ", "2.50M", "35.0K", "1,200 ", "100 "]
    assert all(v[-2].isdigit() and (v[-1] == " " or v[-1] in "KMB") for v in values)


def test_a_lot_step_sets_the_decimals_before_any_size_needs_them(qtbot: QtBot, themes) -> None:
    session = FakeSession("bitmex", "ETH_USDT")
    session.state.apply(instrument("ETH_USDT", 0.01, lotSize=0.001, isInverse=False))
    widget = TapeWidget()
    qtbot.addWidget(widget)
    widget.bind_session(session)  # type: ignore[arg-type]
    _feed(session, trades("ETH_USDT", ("Buy", 3000.0, 0.5, 1.0), ("Sell", 3000.01, 2.0, 2.0)))
    assert _column(widget.model, COL_SIZE) == ["2.000", "0.500"]
    assert _column(widget.model, COL_PRICE) == ["3,000.01\u2007", "3,000.00\u2007"]


def test_another_market_learns_its_decimals_afresh(qtbot: QtBot, themes) -> None:
    bitmart = FakeSession("bitmart", BM)
    _feed(bitmart, Trades("bitmart", BM, [Trade("bitmart", BM, "Buy", 60000.5, 0.00012, 1.0)]))
    bitmex = _bitmex_session()
    _feed(bitmex, trades("XBTUSD", ("Buy", 65000.0, 100.0, 1.0)))
    widget = TapeWidget()
    qtbot.addWidget(widget)
    widget.bind_session(bitmart)  # type: ignore[arg-type]
    assert _column(widget.model, COL_SIZE) == ["0.00012"]
    widget.bind_session(bitmex)  # type: ignore[arg-type]
    assert _column(widget.model, COL_SIZE) == ["100"]
    assert _column(widget.model, COL_PRICE) == ["65,000.0\u2007"]
    _feed(bitmart, Trades("bitmart", BM, [Trade("bitmart", BM, "Sell", 60000.0, 2.0, 2.0)]))
    widget.bind_session(bitmart)  # type: ignore[arg-type]
    assert _column(widget.model, COL_SIZE) == ["2.00000", "0.00012"]


def test_a_narrow_size_column_drops_decimals_but_no_size_reads_zero(themes) -> None:
    market = _V3Market()
    market.feed(("buy", "100", "0.00012", 1000), ("sell", "100", "2", 2000))
    market.feed(("buy", "100", "123456.5", 3000))
    model = TapeModel()
    model.refresh(market.rows())
    assert _column(model, COL_SIZE)[0] == "123,456.50000"  # 13 characters
    model.set_size_width(12)
    assert _column(model, COL_SIZE) == ["123,456.5000", "2.0000", "0.0001"]
    model.set_size_width(5)  # far too narrow: 0.00012 still reads 0.0001 (the view elides)
    assert _column(model, COL_SIZE)[2] == "0.0001"
    tip = model.index(0, COL_SIZE).data(Qt.ItemDataRole.ToolTipRole)
    assert "123,456.50000" in tip  # the tooltip keeps every decimal
    model.set_size_width(None)
    assert _column(model, COL_SIZE)[0] == "123,456.50000"


def test_widget_fits_the_size_column_to_its_width(qtbot: QtBot, themes) -> None:
    session = FakeSession("bitmart", BM)
    widget = TapeWidget()
    qtbot.addWidget(widget)
    widget.resize(420, 400)
    widget.show()
    widget.bind_session(session)  # type: ignore[arg-type]
    big = [
        Trade("bitmart", BM, "Buy", 100.0, size, float(i))
        for i, size in enumerate([0.123456, 12_345_678.5, 654_321.25, 2.0])
    ]
    _feed(session, Trades("bitmart", BM, big))
    digit = QFontMetrics(widget.view.font()).horizontalAdvance("0")

    def chars() -> int:
        return (widget.view.horizontalHeader().sectionSize(COL_SIZE) - 2 * PAD) // digit

    assert chars() < len("654,321.250000")  # the market's six decimals do not fit
    qtbot.waitUntil(lambda: widget.model.format.size_decimals < 6)
    assert widget.model.format.market_size_decimals == 6
    sizes = _column(widget.model, COL_SIZE)
    assert max(len(s) for s in sizes) <= chars()
    assert sizes[-1].startswith("0.123")
    assert sizes[2] == "12.35M"  # millions stay compact


def test_one_new_print_writes_one_row(monkeypatch: pytest.MonkeyPatch, themes) -> None:
    state = MarketState("bitmart", tape_maxlen=500)
    prints = [("Buy" if i % 2 else "Sell", 100.0 + i / 100, 1.5 + i, float(i)) for i in range(500)]
    state.apply(Trades("bitmart", BM, [Trade("bitmart", BM, s, p, q, t) for s, p, q, t in prints]))
    model = TapeModel()
    model.refresh(state.tape(BM).rows(500))
    written: list[int] = []
    learned: list[int] = []
    texts, learn = model.format.texts, model.format.learn
    monkeypatch.setattr(model.format, "texts", lambda row: written.append(1) or texts(row))
    monkeypatch.setattr(
        model.format, "learn", lambda rows: learned.append(len(rows)) or learn(rows)
    )
    state.apply(Trades("bitmart", BM, [Trade("bitmart", BM, "Buy", 107.5, 2.5, 600.0)]))
    model.refresh(state.tape(BM).rows(500))
    assert len(written) == 1 and learned == [1]
    # a print merging into the head row replaces that row only
    state.apply(Trades("bitmart", BM, [Trade("bitmart", BM, "Buy", 107.6, 0.5, 600.0)]))
    model.refresh(state.tape(BM).rows(500))
    assert len(written) == 2 and learned == [1, 1]
    assert model.index(0, COL_SIZE).data() == "3.0"
    assert model.rowCount(QModelIndex()) == 500


def test_prices_show_the_prints_decimals_even_on_a_coarser_step(themes) -> None:
    market = _V3Market()
    market.feed(("buy", "60000.12", "1", 1000), ("sell", "60000", "1", 2000))
    model = TapeModel()
    model.set_price_step(0.1)  # a legacy book grouped at 0.1: the prints are finer
    model.refresh(market.rows())
    assert _column(model, COL_PRICE) == ["60,000.00\u2007", "60,000.12\u2007"]
    whole = _V3Market()
    whole.feed(("buy", "60000", "1", 1000), ("buy", "60001", "1", 1000))
    model = TapeModel()
    model.refresh(whole.rows())
    assert _column(model, COL_PRICE) == ["60,000.5"]  # the VWAP's point where the prints' is
    whole.feed(("sell", "59999", "1", 2000))
    model.refresh(whole.rows())
    assert _column(model, COL_PRICE) == ["59,999\u2008\u2007", "60,000.5"]


def test_legacy_bitmart_fixture_prints(themes) -> None:
    """The legacy feed's documented trade frame (BMX_ETH: counts 18556.00 beside 228.88,
    values in ETH)."""
    frame = next(line[2:] for line in read_frames("bitmart/legacy_trades.jsonl") if line[0] == "<")
    state = MarketState("bitmart-legacy")
    for ev in LegacyParser(accept_all=True).parse(frame, 0.0).events:
        state.apply(ev)
    model = TapeModel()
    model.refresh(state.tape("BMX_ETH").rows())
    sizes = _column(model, COL_SIZE)
    assert sizes[0] == "18,556.00" and "228.88" in sizes
    assert {_decimals(s) for s in sizes} == {2}
    assert set(_column(model, COL_PRICE)) == {"0.000112\u2007"}
    # values in ETH: one number of decimals, enough for the smallest (never 2 and 0)
    values = _column(model, COL_NOTIONAL)
    assert values[0] == "2.0783 " and "0.0256 " in values
    assert {_decimals(v.strip()) for v in values} == {4}


@pytest.mark.parametrize(
    ("value", "small_decimals", "text"),
    [
        (0.0, 2, "0 "),
        (0.02563456, 4, "0.0256 "),
        (7.2, 2, "7.20 "),
        (7.2, 4, "7.2000 "),
        (9.999, 2, "10 "),
        (600.0, 4, "600 "),
        (9_999.6, 2, "10.0K"),
        (720_000.0, 2, "720.0K"),
        (999_999.0, 2, "1.00M"),
        (9_020_000.0, 2, "9.02M"),
        (7_407_700_000.0, 2, "7.41B"),
        (float("nan"), 2, ""),
    ],
)
def test_value_texts(value: float, small_decimals: int, text: str) -> None:
    assert fmt_value(value, small_decimals) == text


def test_small_values_keep_three_significant_digits() -> None:
    cases = [(2.078272, 2), (0.16, 3), (0.02563456, 4), (1e-12, 8), (10.0, 0), (0.0, 0)]
    assert [small_value_decimals(v) for v, _ in cases] == [d for _, d in cases]
    assert small_value_decimals(float("nan")) == 0


def test_notional_units_never_show_a_thousand_of_one() -> None:
    assert fmt_notional(999_999.0) == "1.00M" and fmt_notional(2.5e9) == "2.50B"
    assert fmt_notional(9_999.0) == "9,999"


def test_sum_noise_is_dropped_but_decimals_kept() -> None:
    assert without_sum_noise(0.1 + 0.2) == 0.3
    assert without_sum_noise(123_456_789.1 + 0.2) == 123_456_789.3
    assert without_sum_noise(0.00012 + 0.00001) == 0.00013


def test_bad_numbers_never_raise(themes) -> None:
    fmt = TapeFormat()
    for value in (float("nan"), float("inf"), -1.0, 0.0, 1e300):
        state = MarketState("bitmart")
        state.apply(Trades("bitmart", BM, [Trade("bitmart", BM, "Buy", value, value, value)]))
        rows = state.tape(BM).rows()
        fmt.learn(rows)
        assert len(fmt.texts(rows[0])) == 5 and fmt.tooltip(rows[0])


def test_micro_prices_keep_every_decimal(themes) -> None:
    market = _V3Market()
    market.feed(("buy", "0.0000000987", "1500000", 1000), ("sell", "0.000000098", "20", 2000))
    model = TapeModel()
    model.refresh(market.rows())
    assert _column(model, COL_PRICE) == ["0.0000000980\u2007", "0.0000000987\u2007"]
    model.set_price_step(1e-10)
    assert model.format.price_decimals == 10
