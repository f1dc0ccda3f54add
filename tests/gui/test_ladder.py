"""Depth ladder model and widget, fed by real stores from events."""

from __future__ import annotations

import itertools

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

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
    LadderModel,
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
