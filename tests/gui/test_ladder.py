"""Depth ladder model and widget, fed by real stores from events."""

from __future__ import annotations

import itertools
import json

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.feeds.bitmart.parse_v3 import V3Parser
from app.feeds.events import BookLevels, Trade, Trades
from app.state.market import MarketState
from app.widgets.ladder.model import (
    BAR_ROLE,
    COL_ASK,
    COL_ASK_CUM,
    COL_BID,
    COL_BID_CUM,
    COL_BOUGHT,
    COL_PRICE,
    COL_SOLD,
    COL_TRADE,
    MODE_CENTRE,
    MODE_EDGE,
    MODE_FIXED,
    OWN_ROLE,
    SIZE_COLUMNS,
    LadderModel,
    edge_margin,
    infer_tick,
)
from tests.gui.conftest import book, instrument, trades

SYM = "XBTUSD"


class Clock:
    """A hand-driven monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _state() -> MarketState:
    state = MarketState("bitmex")
    state.apply(instrument(SYM, 0.5))
    bids = [(100.0 - 0.5 * i, 10.0 * (i + 1)) for i in range(20)]
    asks = [(100.5 + 0.5 * i, 5.0 * (i + 1)) for i in range(20)]
    state.apply(book(SYM, bids, asks, snapshot=True))
    return state


def _model(state: MarketState, rows: int = 20, clock: Clock | None = None) -> LadderModel:
    model = LadderModel(rows=rows, clock=clock or Clock())
    model.set_source(
        state.book(SYM),
        SYM,
        state.volume(SYM),
        state.tape(SYM),
        lambda: state.instruments.tick_size(SYM),
    )
    return model


def _by_price(model: LadderModel) -> dict[float, list[str]]:
    return {row.price: row.texts for row in model.rows()}


def test_rows_show_the_book_on_a_fixed_tick_grid(qtmodeltester, themes) -> None:
    state = _state()
    model = _model(state)
    qtmodeltester.check(model)
    rows = model.rows()
    assert len(rows) == model.rowCount() == 20
    prices = [r.price for r in rows]
    assert prices == sorted(prices, reverse=True)
    assert all(abs(a - b - 0.5) < 1e-9 for a, b in itertools.pairwise(prices))
    by_price = {r.price: r for r in rows}
    the_book = state.book(SYM)
    for price, row in by_price.items():
        assert row.bid == the_book.size_at("Buy", price)
        assert row.ask == the_book.size_at("Sell", price)
    # best bid 100.0 (10), best ask 100.5 (5); the spread is in the middle of the view
    assert by_price[100.0].best_bid and by_price[100.5].best_ask
    assert model.index(rows.index(by_price[100.0]), COL_PRICE).data() == "100.0"
    assert model.index(rows.index(by_price[100.0]), COL_BID).data() == "10"
    # cumulative sizes grow away from the inside market
    assert by_price[99.5].bid_cum == 10 + 20
    assert by_price[101.0].ask_cum == 5 + 10
    assert by_price[100.5].bid_cum == 0 and by_price[100.0].ask_cum == 0


def test_cumulative_counts_levels_outside_the_view(qtmodeltester, themes) -> None:
    state = _state()
    model = _model(state, rows=6)
    model.set_mode(MODE_FIXED)
    model.scroll_rows(-6)  # view now far below the best bid
    bottom = model.rows()[-1]
    total_to_bottom = sum(s for p, s in state.book(SYM).bids() if p >= bottom.price)
    assert bottom.bid_cum == total_to_bottom
    qtmodeltester.check(model)


def test_grouping_sums_sizes_and_floors_bids_ceils_asks(qtmodeltester, themes) -> None:
    state = _state()
    model = _model(state)
    model.set_grouping(10)  # 5.0 per row
    qtmodeltester.check(model)
    by_price = {r.price: r for r in model.rows()}
    # bids 100.0 .. 95.5 floor into the 95.0 row except 100.0 (own row)
    assert by_price[100.0].bid == 10.0
    assert by_price[95.0].bid == sum(10.0 * (i + 1) for i in range(1, 11))
    # asks 100.5 .. 105.0 ceil into the 105.0 row
    assert by_price[105.0].ask == sum(5.0 * (i + 1) for i in range(0, 10))
    assert model.step == 5.0
    assert by_price[105.0].texts[COL_PRICE] == "105"


def test_modes_fixed_edge_and_centre(themes) -> None:
    state = _state()
    model = _model(state, rows=10)
    model.set_mode(MODE_FIXED)
    top_before = model.rows()[0].price
    # the market moves 20 ticks up: a fixed ladder stays put
    state.apply(book(SYM, [(110.0, 1.0)], [(110.5, 1.0)], snapshot=True))
    model.refresh()
    assert model.rows()[0].price == top_before
    model.set_mode(MODE_EDGE)
    assert any(r.best_bid for r in model.rows())
    top_edge = model.rows()[0].price
    # a one-tick move inside the view does not move an edge-mode ladder
    state.apply(book(SYM, [(110.5, 1.0)], [(111.0, 1.0)], snapshot=True))
    model.refresh()
    assert model.rows()[0].price == top_edge
    model.set_mode(MODE_CENTRE)
    model.refresh()
    prices = [r.price for r in model.rows()]
    assert prices[len(prices) // 2] in (110.5, 111.0)


def test_space_and_double_click_recentre_and_wheel_scrolls(qtbot: QtBot, themes) -> None:
    from app.widgets.ladder.widget import LadderWidget

    state = _state()
    widget = LadderWidget()
    qtbot.addWidget(widget)
    widget.resize(460, 500)
    widget.show()
    widget.model.set_source(state.book(SYM), SYM, state.volume(SYM), state.tape(SYM), lambda: 0.5)
    widget.mode_box.setCurrentIndex(widget.mode_box.findData(MODE_FIXED))
    n = widget.model.rowCount()
    assert n > 10  # rows follow the view height
    centre_top = widget.model.rows()[0].price
    widget.model.scroll_rows(-15)
    assert widget.model.rows()[0].price == centre_top - 7.5
    qtbot.keyClick(widget.view, Qt.Key.Key_Space)
    assert widget.model.rows()[0].price == centre_top
    widget.model.scroll_rows(5)
    qtbot.mouseDClick(widget.view.viewport(), Qt.MouseButton.LeftButton)
    assert widget.model.rows()[0].price == centre_top
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent

    event = QWheelEvent(
        QPointF(10, 10),
        QPointF(10, 10),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    widget.view.wheelEvent(event)
    assert widget.model.rows()[0].price == centre_top + 1.5


def test_last_print_marked_and_fading_and_volume_at_price(qtmodeltester, themes) -> None:
    clock = Clock()
    state = _state()
    model = _model(state, clock=clock)
    state.apply(trades(SYM, ("Buy", 100.5, 7.0, 1.0), ("Sell", 100.0, 3.0, 1.5)))
    state.apply(trades(SYM, ("Buy", 100.5, 2.0, 2.0)))
    model.refresh()
    rows = {r.price: r for r in model.rows()}
    assert rows[100.5].bought == 9.0 and rows[100.0].sold == 3.0
    assert rows[100.5].last_size == 2.0 and rows[100.5].last_side == "Buy"
    r = model.rows().index(rows[100.5])
    assert model.index(r, COL_TRADE).data() == "2"
    assert model.index(r, COL_BOUGHT).data() == "9"
    assert model.index(r, COL_BOUGHT).data(BAR_ROLE) == 1.0
    assert rows[100.5].last_level > 0 and model.animating()
    clock.now += 5.0
    model.refresh()
    assert {r.price: r for r in model.rows()}[100.5].last_level == 0
    assert model.index(r, COL_TRADE).data() == "2"  # still marked, no longer highlighted
    state.volume(SYM).reset()
    model.refresh()
    assert all(r.bought == 0 and r.sold == 0 for r in model.rows())
    assert model.index(r, COL_SOLD).data() == ""
    qtmodeltester.check(model)


def test_changed_levels_flash_then_fade(themes) -> None:
    clock = Clock()
    state = _state()
    model = _model(state, clock=clock)
    clock.now += 5.0
    model.refresh()
    assert not any(r.flash_bid or r.flash_ask for r in model.rows())
    state.apply(book(SYM, [(99.5, 77.0)], []))
    model.refresh()
    rows = {r.price: r for r in model.rows()}
    assert rows[99.5].flash_bid > 0 and rows[99.5].bid == 77.0
    assert rows[99.5].flash_ask == 0
    assert sum(1 for r in model.rows() if r.flash_bid or r.flash_ask) == 1
    clock.now += 1.0
    model.refresh()
    assert not any(r.flash_bid or r.flash_ask for r in model.rows())


def test_one_range_data_changed_per_refresh(qtbot: QtBot, themes) -> None:
    state = _state()
    model = _model(state)
    seen: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda tl, br, roles=None: seen.append((tl.row(), tl.column(), br.row(), br.column()))
    )
    for i in range(50):
        state.apply(book(SYM, [(99.0, float(i + 1))], [(101.0, float(i + 2))]))
    model.refresh()
    assert seen == [(0, 0, 19, 7)]
    model.refresh()  # nothing changed: no signal
    assert len(seen) == 1


def test_orders_source_marks_own_orders(themes) -> None:
    state = _state()
    model = _model(state)
    model.set_orders_source(lambda symbol: [("Buy", 99.0, 300.0), ("Sell", 101.5, 100.0)])
    rows = model.rows()
    r_buy = next(i for i, row in enumerate(rows) if row.price == 99.0)
    r_sell = next(i for i, row in enumerate(rows) if row.price == 101.5)
    assert model.index(r_buy, COL_PRICE).data(OWN_ROLE) == (300.0, 0.0)
    assert model.index(r_sell, COL_PRICE).data(OWN_ROLE) == (0.0, 100.0)


def test_empty_and_unknown_tick_books_do_not_break(qtmodeltester, themes) -> None:
    model = LadderModel(rows=8)
    qtmodeltester.check(model)
    state = MarketState("bitmex")
    state.apply(book(SYM, [(10.25, 1.0), (10.2, 2.0)], [(10.3, 1.0)], snapshot=True))
    model.set_source(state.book(SYM), SYM, state.volume(SYM), state.tape(SYM), lambda: None)
    assert model.tick == pytest.approx(0.05)
    assert any(r.bid == 1.0 for r in model.rows())
    qtmodeltester.check(model)


def test_infer_tick() -> None:
    assert infer_tick([100.0, 100.5, 101.5]) == 0.5
    assert infer_tick([1.23, 1.24]) == pytest.approx(0.01)
    assert infer_tick([5.0]) is None


def test_sizes_and_cumulative_columns_are_right_aligned_numbers(themes) -> None:
    state = _state()
    model = _model(state)
    r = next(i for i, row in enumerate(model.rows()) if row.price == 96.0)
    assert model.index(r, COL_BID_CUM).data() == f"{sum(10 * (i + 1) for i in range(9)):,}"
    align = model.index(r, COL_ASK_CUM).data(Qt.ItemDataRole.TextAlignmentRole)
    assert align & int(Qt.AlignmentFlag.AlignRight)
    assert model.index(r, COL_ASK).data() == ""


def test_inferred_tick_gives_way_to_the_instrument_tick(themes) -> None:
    state = MarketState("bitmex")
    state.apply(book("ETHUSD", [(3000.0, 1.0), (2999.9, 2.0)], [(3000.1, 1.0)], snapshot=True))
    model = LadderModel(rows=10)
    model.set_source(
        state.book("ETHUSD"),
        "ETHUSD",
        state.volume("ETHUSD"),
        state.tape("ETHUSD"),
        lambda: state.instruments.tick_size("ETHUSD"),
    )
    assert model.tick == pytest.approx(0.1)
    state.apply(instrument("ETHUSD", 0.05))
    model.refresh()
    assert model.tick == 0.05
    prices = [r.price for r in model.rows()]
    assert prices[0] - prices[1] == pytest.approx(0.05)
    assert {r.price: r.bid for r in model.rows()}.get(2999.9) == 2.0


def _v3_depth(kind: str, version: int, bids: list[list[str]], asks: list[list[str]]) -> str:
    """A BitMart v3 `spot/depth/increase100` frame as the venue sends it."""
    row = {"asks": asks, "bids": bids, "ms_t": 1, "symbol": "BTC_USDT", "type": kind}
    return json.dumps({"data": [{**row, "version": version}], "table": "spot/depth/increase100"})


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def test_bitmart_sizes_line_up_at_the_most_decimals_seen(themes) -> None:
    parser = V3Parser()
    state = MarketState("bitmart-v3")
    sym = "BTC_USDT"

    def feed(frame: str) -> None:
        for ev in parser.parse(frame, 0.0).events:
            state.apply(ev)

    feed(
        _v3_depth(
            "snapshot",
            10,
            bids=[["100.0", "0.5"], ["99.9", "0.123"], ["99.8", "1.2"]],
            asks=[["100.1", "2"], ["100.2", "0.75"]],
        )
    )
    state.apply(
        Trades("bitmart-v3", sym, [Trade("bitmart-v3", sym, "Buy", 100.1, 0.3, 1.0)], False)
    )
    model = LadderModel(rows=12, clock=Clock())
    model.set_source(
        state.book(sym),
        sym,
        state.volume(sym),
        state.tape(sym),
        lambda: None,
        lambda: state.instruments.lot_size(sym),  # BitMart sends no lot step
    )
    assert model.size_decimals == 3
    texts = _by_price(model)
    assert texts[100.0][COL_BID] == "0.500" and texts[99.9][COL_BID] == "0.123"
    assert texts[99.8][COL_BID] == "1.200" and texts[99.8][COL_BID_CUM] == "1.823"
    assert texts[100.1][COL_ASK] == "2.000" and texts[100.2][COL_ASK_CUM] == "2.750"
    assert texts[100.1][COL_BOUGHT] == "0.300" and texts[100.1][COL_TRADE] == "0.300"
    size_columns = (COL_SOLD, COL_BID_CUM, COL_BID, COL_TRADE, COL_ASK, COL_ASK_CUM, COL_BOUGHT)
    shown = [row.texts[c] for row in model.rows() for c in size_columns if row.texts[c]]
    assert len(shown) >= 10 and {_decimals(t) for t in shown} == {3}
    # whole sizes later on do not shrink the column; a finer size widens it for good
    feed(_v3_depth("update", 11, bids=[["100.0", "3"], ["99.9", "0"]], asks=[]))
    model.refresh()
    assert _by_price(model)[100.0][COL_BID] == "3.000"
    feed(_v3_depth("update", 12, bids=[["99.7", "0.00005"]], asks=[]))
    model.refresh()
    assert model.size_decimals == 5 and _by_price(model)[99.7][COL_BID] == "0.00005"
    assert _by_price(model)[100.0][COL_BID] == "3.00000"


def test_lot_step_sets_size_decimals_and_contracts_stay_integers(themes) -> None:
    state = MarketState("bitmex")
    state.apply(instrument(SYM, 0.5))  # lotSize 100
    state.apply(book(SYM, [(100.0, 1200.0), (99.5, 35000.0)], [(100.5, 100.0)], snapshot=True))
    model = _model(state)
    texts = _by_price(model)
    assert model.size_decimals == 0
    assert texts[100.0][COL_BID] == "1,200" and texts[99.5][COL_BID_CUM] == "36,200"
    # a lot step of 0.001 shows three decimals before any size needs them
    state.apply(instrument("ETH_USDT", 0.01, lotSize=0.001))
    state.apply(book("ETH_USDT", [(3000.0, 0.5)], [(3000.01, 2.0)], snapshot=True))
    eth = LadderModel(rows=10)
    eth.set_source(
        state.book("ETH_USDT"),
        "ETH_USDT",
        state.volume("ETH_USDT"),
        state.tape("ETH_USDT"),
        lambda: state.instruments.tick_size("ETH_USDT"),
        lambda: state.instruments.lot_size("ETH_USDT"),
    )
    assert _by_price(eth)[3000.0][COL_BID] == "0.500"
    assert _by_price(eth)[3000.01][COL_ASK] == "2.000"


def _row_of_best(model: LadderModel, side: str) -> int:
    flag = "best_bid" if side == "Buy" else "best_ask"
    return next(i for i, r in enumerate(model.rows()) if getattr(r, flag))


def test_edge_mode_recentres_when_the_best_price_reaches_the_edge_rows(themes) -> None:
    state = _state()
    model = _model(state, rows=20)
    model.set_mode(MODE_EDGE)
    assert _row_of_best(model, "Buy") == 10 and _row_of_best(model, "Sell") == 9
    margin = edge_margin(20)
    assert margin == 2

    def move(ticks: int) -> None:
        bid = 100.0 + 0.5 * ticks
        state.apply(book(SYM, [(bid, 1.0)], [(bid + 0.5, 1.0)], snapshot=True))
        model.refresh()

    move(-(20 - margin - 1 - 10))  # best bid on the last row before the margin: no move
    assert _row_of_best(model, "Buy") == 20 - margin - 1
    move(-(20 - margin - 10))  # one more tick: the best bid enters the bottom margin
    assert _row_of_best(model, "Buy") == 10
    up = 9 - margin  # the best ask on the first row below the top margin: no move
    move(-(20 - margin - 10) + up)
    assert _row_of_best(model, "Sell") == margin
    move(-(20 - margin - 10) + up + 1)  # the best ask enters the top margin: re-centred
    assert _row_of_best(model, "Sell") == 9
    # never on the first or last row, whatever the jump
    for ticks in (-30, 12, 19, -9, 40):
        move(ticks)
        for side in ("Buy", "Sell"):
            assert margin <= _row_of_best(model, side) < 20 - margin


def test_edge_margin_leaves_a_usable_middle_on_short_ladders() -> None:
    assert [edge_margin(n) for n in (1, 2, 3, 5, 8, 9, 20, 60)] == [0, 0, 1, 1, 1, 2, 2, 2]


def test_ladder_bound_after_prints_marks_the_last_one_without_highlight(themes) -> None:
    state = _state()
    state.apply(trades(SYM, ("Sell", 100.0, 300.0, 1.0)))
    model = _model(state)  # the tape already has a print when the ladder is bound
    row = _by_price(model)[100.0]
    assert row[COL_TRADE] == "300"
    assert {r.price: r for r in model.rows()}[100.0].last_level == 0


def _wide_bitmart_state(sym: str) -> MarketState:
    """A BitMart-like book: five-decimal sizes that add up to thousands."""
    state = MarketState("bitmart-v3")
    bids = [(round(60000 - 0.1 * i, 1), 100.0 + i + 0.12345) for i in range(30)]
    asks = [(round(60000.1 + 0.1 * i, 1), 0.00012 if i == 3 else 2000.5 + i) for i in range(30)]
    state.apply(BookLevels("bitmart-v3", sym, bids, asks, True))
    return state


def test_narrow_size_columns_show_fewer_decimals_and_stay_that_way(themes) -> None:
    sym = "BTC_USDT"
    state = _wide_bitmart_state(sym)
    model = LadderModel(rows=20)
    model.set_source(state.book(sym), sym, state.volume(sym), state.tape(sym), lambda: 0.1)
    assert model.size_decimals == 5
    bottom = model.rows()[-1]
    assert bottom.bid_cum > 1000 and len(bottom.texts[COL_BID_CUM]) > 9
    model.set_size_width(9)
    cums = [r.texts[COL_BID_CUM] for r in model.rows() if r.texts[COL_BID_CUM]]
    assert max(len(t) for t in cums) <= 9 and {_decimals(t) for t in cums} == {3}
    # the ask column holds 0.00012 beside 2,000.5: it keeps four decimals rather than show
    # 0.000 (the widest texts are then elided by the delegate, never clipped on the left)
    asks = [r.texts[COL_ASK] for r in model.rows() if r.texts[COL_ASK]]
    assert "0.0001" in asks and {_decimals(t) for t in asks} == {4}
    # the large sums leave the view: the column keeps its decimals (no flicker)
    model.set_mode(MODE_FIXED)
    model.scroll_rows(8)  # two bid rows left in view, their sums fit at five decimals
    model.refresh()
    cums = [r.texts[COL_BID_CUM] for r in model.rows() if r.texts[COL_BID_CUM]]
    assert cums and {_decimals(t) for t in cums} == {3}
    model.set_size_width(None)
    cums = [r.texts[COL_BID_CUM] for r in model.rows() if r.texts[COL_BID_CUM]]
    assert {_decimals(t) for t in cums} == {5}


def test_ladder_widget_fits_size_columns_to_its_width(qtbot: QtBot, themes) -> None:
    from PySide6.QtGui import QFontMetrics

    from app.widgets.ladder.delegate import PAD
    from app.widgets.ladder.widget import LadderWidget

    sym = "BTC_USDT"
    state = _wide_bitmart_state(sym)
    widget = LadderWidget()
    qtbot.addWidget(widget)
    widget.show()
    widget.model.set_source(state.book(sym), sym, state.volume(sym), state.tape(sym), lambda: 0.1)
    digit = QFontMetrics(widget.view.font()).horizontalAdvance("0")
    header = widget.view.horizontalHeader()

    def fits() -> int:
        return (min(header.sectionSize(c) for c in SIZE_COLUMNS) - 2 * PAD) // digit

    for width in (460, 900):
        widget.resize(width, 420)

        qtbot.waitUntil(lambda: widget.model.size_width == fits())
        cums = [r.texts[COL_BID_CUM] for r in widget.model.rows() if r.texts[COL_BID_CUM]]
        assert cums and max(len(t) for t in cums) <= fits()
    assert _decimals(widget.model.rows()[-1].texts[COL_BID_CUM]) == 5  # wide again: all five


def test_a_spread_wider_than_the_view_centres_on_the_last_print(themes) -> None:
    state = MarketState("bitmex")
    state.apply(instrument(SYM, 0.5))
    bids = [(100.0 - 0.5 * i, 10.0) for i in range(20)]
    asks = [(130.0 + 0.5 * i, 5.0) for i in range(20)]  # 60 ticks away: wider than 20 rows
    state.apply(book(SYM, bids, asks, snapshot=True))
    for mode in (MODE_EDGE, MODE_CENTRE):
        model = _model(state, rows=20)
        model.set_mode(mode)
        model.recentre()
        assert not any(r.best_bid or r.best_ask for r in model.rows())  # mid: empty rows
    state.apply(trades(SYM, ("Sell", 100.0, 2.0, 1.0)))
    for mode in (MODE_EDGE, MODE_CENTRE):
        model = _model(state, rows=20)
        model.set_mode(mode)
        model.refresh()
        assert 0 < _row_of_best(model, "Buy") < 19  # the side that traded is in view
        shown = [r for r in model.rows() if r.bid]
        assert len(shown) >= 8
