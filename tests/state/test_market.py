"""MarketState: routing, lazily created stores, aspects, reset/resync, --book-out shape."""

from __future__ import annotations

import json

from app.feeds.events import (
    AuthResult,
    Bar,
    Bars,
    BookLevels,
    CancelAllAfterReply,
    FeedError,
    FeedStatus,
    Latency,
    Quote,
    Reset,
    Resync,
    SubscriptionAck,
    TableRows,
    Ticker,
    Trade,
    Trades,
)
from app.state.market import MarketState

V = "bitmex"


class Clock:
    """A settable clock for MarketState."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def book_ev(
    symbol: str,
    bids: list[tuple[float, float]],
    asks: list[tuple[float, float]],
    snapshot: bool = False,
) -> BookLevels:
    return BookLevels(V, symbol, bids, asks, snapshot)


def trade(symbol: str, ts: float, side: str, price: float, size: float, tid: str) -> Trade:
    return Trade(V, symbol, side, price, size, ts, tid)  # type: ignore[arg-type]


def instrument_rows(action: str, rows: list[dict]) -> TableRows:
    return TableRows(V, "instrument", action, ["symbol"], rows, 1.0)  # type: ignore[arg-type]


def test_book_events_route_per_symbol_with_tick_from_instruments() -> None:
    m = MarketState(V)
    m.apply(
        instrument_rows(
            "partial",
            [
                {"symbol": "XBTUSD", "tickSize": 0.5, "isInverse": True, "multiplier": -100000000},
                {"symbol": "ETHUSD", "tickSize": 0.05},
            ],
        )
    )
    assert m.apply(book_ev("XBTUSD", [(100.0, 1)], [(100.5, 2)], True)) == {"book:XBTUSD"}
    assert m.apply(book_ev("ETHUSD", [(10.0, 1)], [(10.05, 2)], True)) == {"book:ETHUSD"}
    assert m.book("XBTUSD").tick_size == 0.5
    assert m.book("ETHUSD").tick_size == 0.05
    assert m.book("XBTUSD").best_bid() == (100.0, 1)
    assert m.book("ETHUSD").best_ask() == (10.05, 2)
    # a book created before its instrument gets the tick when the instrument arrives
    m.apply(book_ev("SOLUSD", [(1.0, 1)], [(1.1, 1)], True))
    assert m.book("SOLUSD").tick_size is None
    aspects = m.apply(instrument_rows("insert", [{"symbol": "SOLUSD", "tickSize": 0.01}]))
    assert aspects == {"instruments", "book:SOLUSD"}
    assert m.book("SOLUSD").tick_size == 0.01


def test_trades_feed_tape_candles_and_volume_and_dedupe() -> None:
    m = MarketState(V)
    ev = Trades(
        V,
        "XBTUSD",
        [
            trade("XBTUSD", 60.0, "Buy", 100.0, 5, "t1"),
            trade("XBTUSD", 60.0, "Buy", 100.5, 5, "t2"),
        ],
    )
    assert m.apply(ev) == {"trades:XBTUSD", "candles:XBTUSD"}
    tape = m.tape("XBTUSD")
    assert tape.trades_seen == 2 and len(tape.rows()) == 1
    assert m.candles("XBTUSD").series("1m").live_bar() == Bar(
        60.0, 100.0, 100.5, 100.0, 100.5, 10.0
    )
    assert m.volume("XBTUSD").at(100.5) == (5, 0)
    # the trade partial re-sent after a reconnect is not counted twice
    again = Trades(V, "XBTUSD", [trade("XBTUSD", 60.0, "Buy", 100.5, 5, "t2")], snapshot=True)
    assert m.apply(again) == set()
    assert tape.trades_seen == 2
    assert m.last_price("XBTUSD") == 100.5


def test_bars_quote_ticker_status_latency() -> None:
    m = MarketState(V)
    assert m.apply(Bars(V, "XBTUSD", "1m", [Bar(0.0, 1, 2, 0.5, 1.5, 10)])) == {"candles:XBTUSD"}
    q = Quote(V, "XBTUSD", 1.0, 2.0, 1.5, 3.0)
    assert m.apply(q) == {"quote:XBTUSD"} and m.quote("XBTUSD") is q
    t = Ticker(V, "BTC_USDT", 50000.0)
    assert m.apply(t) == {"ticker:BTC_USDT"} and m.ticker("BTC_USDT") is t
    assert m.apply(FeedStatus(V, "live", reconnects=3)) == {"status"}
    assert m.status is not None and m.status.state == "live" and m.reconnects == 3
    assert m.apply(Latency(V, 12.5)) == {"status", "latency"}
    assert m.latency_ms == 12.5


def test_errors_acks_auth_dms_are_recorded_and_bounded() -> None:
    m = MarketState(V, errors_maxlen=3)
    for i in range(5):
        m.apply(FeedError(V, f"bad {i}", status=400))
    assert list(m.errors) == ["[400] bad 2", "[400] bad 3", "[400] bad 4"]
    assert m.error_count == 5
    aspects = m.apply(SubscriptionAck(V, "trade:XBTUSD", "subscribe", False, "Unknown table"))
    assert "errors" in aspects and "Unknown table" in m.errors[-1]
    m.apply(SubscriptionAck(V, "trade:ETHUSD", "subscribe", True))
    assert m.subscriptions["trade:ETHUSD"].success
    m.apply(SubscriptionAck(V, "trade:ETHUSD", "unsubscribe", True))
    assert "trade:ETHUSD" not in m.subscriptions
    assert "auth" in m.apply(AuthResult(V, False, "Signature not valid.", 401))
    assert m.auth is not None and not m.auth.success and "401" in m.errors[-1]
    assert "dms" in m.apply(CancelAllAfterReply(V, 10.0, 70.0, 60000))
    assert m.dms is not None and m.dms.cancel_time == 70.0


def test_resync_clears_that_book_only_and_counts() -> None:
    m = MarketState(V)
    m.apply(book_ev("XBTUSD", [(100.0, 1)], [(101.0, 1)], True))
    m.apply(book_ev("ETHUSD", [(10.0, 1)], [(11.0, 1)], True))
    aspects = m.apply(Resync(V, "orderBookL2", "XBTUSD", "update for unknown id"))
    assert "book:XBTUSD" in aspects and "book:ETHUSD" not in aspects
    assert len(m.book("XBTUSD")) == 0 and m.book("XBTUSD").stale
    assert len(m.book("ETHUSD")) == 2
    assert m.resyncs == 1 and "unknown id" in m.errors[-1]
    m.apply(book_ev("XBTUSD", [(100.0, 2)], [(101.0, 1)], True))
    assert not m.book("XBTUSD").stale


def test_reset_clears_books_and_quotes_keeps_history() -> None:
    m = MarketState(V)
    m.apply(book_ev("XBTUSD", [(100.0, 1)], [(101.0, 1)], True))
    m.apply(Quote(V, "XBTUSD", 100.0, 1, 101.0, 1))
    m.apply(Trades(V, "XBTUSD", [trade("XBTUSD", 1.0, "Sell", 100.0, 1, "a")]))
    m.apply(
        TableRows(
            V,
            "position",
            "partial",
            ["account", "symbol", "currency"],
            [{"account": 1, "symbol": "XBTUSD", "currency": "XBt", "currentQty": 5}],
            1.0,
        )
    )
    m.apply(CancelAllAfterReply(V, 10.0, 70.0, 60000))
    aspects = m.apply(Reset(V, "reconnect"))
    assert {"status", "book:XBTUSD", "quote:XBTUSD", "account"} <= aspects
    assert len(m.book("XBTUSD")) == 0 and m.book("XBTUSD").stale
    assert m.quote("XBTUSD") is None
    assert m.tape("XBTUSD").trades_seen == 1 and len(m.tape("XBTUSD").rows()) == 1
    assert m.account.stale and m.account.positions()[0].qty == 5
    assert m.dms is not None  # the server-side timer survives a disconnect
    assert m.resets == 1


def test_liquidations_route_to_store_and_tape() -> None:
    m = MarketState(V)
    m.apply(instrument_rows("partial", [{"symbol": "XBTUSD", "tickSize": 0.5, "isInverse": True}]))
    row = {"orderID": "o1", "symbol": "XBTUSD", "side": "Sell", "price": 50000.0, "leavesQty": 1000}
    aspects = m.apply(TableRows(V, "liquidation", "insert", ["orderID"], [row], 42.0))
    assert aspects == {"liquidations", "trades:XBTUSD"}
    liq = m.liquidations.rows()[0]
    assert liq.notional == 1000  # inverse: qty is USD
    tape_row = m.tape("XBTUSD").rows()[0]
    assert tape_row.is_liquidation and tape_row.size == 1000 and tape_row.timestamp == 42.0


def test_account_and_unknown_tables() -> None:
    m = MarketState(V)
    order = {
        "orderID": "x",
        "symbol": "XBTUSD",
        "side": "Buy",
        "ordStatus": "New",
        "leavesQty": 10,
        "orderQty": 10,
        "price": 100.0,
    }
    assert m.apply(TableRows(V, "order", "partial", ["orderID"], [order], 1.0)) == {
        "account",
        "account:order",
    }
    assert m.account.working_orders()[0].order_id == "x"
    assert m.apply(TableRows(V, "settlement", "partial", [], [{"symbol": "A"}], 1.0)) == {
        "table:settlement"
    }
    assert list(m.keyless_tables["settlement"]) == [{"symbol": "A"}]
    m.apply(TableRows(V, "insurance", "partial", ["currency"], [{"currency": "XBt", "v": 1}], 1.0))
    m.apply(TableRows(V, "insurance", "update", ["currency"], [{"currency": "XBt", "v": 2}], 1.0))
    assert list(m.tables["insurance"].rows.values()) == [{"currency": "XBt", "v": 2}]


def test_book_snapshot_json_shape() -> None:
    m = MarketState(V)
    m.apply(book_ev("XBTUSD", [(99.5, 2), (100.0, 1)], [(101.0, 3), (100.5, 4)], True))
    m.apply(Trades(V, "XBTUSD", [trade("XBTUSD", 1.0, "Sell", 100.0, 1, "a")]))
    m.apply(Resync(V, "trade", "XBTUSD", "x"))
    out = m.book_snapshot_json("XBTUSD", reconnects=2, dropped_before_partial=7)
    assert out["venue"] == "bitmex" and out["symbol"] == "XBTUSD"
    assert out["bids"] == [[100.0, 1], [99.5, 2]]
    assert out["asks"] == [[100.5, 4], [101.0, 3]]
    assert out["trades"] == 1
    assert out["last_trade"]["price"] == 100.0 and out["last_trade"]["trade_id"] == "a"
    assert out["resyncs"] == 1 and out["reconnects"] == 2 and out["dropped_before_partial"] == 7
    json.dumps(out)
    empty = m.book_snapshot_json("NOPE")
    assert empty["bids"] == [] and empty["last_trade"] is None and empty["trades"] == 0


def test_bitmart_depth_resync_clears_the_book() -> None:
    m = MarketState("bitmart")
    m.apply(BookLevels("bitmart", "BTC_USDT", [(1.0, 1)], [(2.0, 1)], True))
    aspects = m.apply(Resync("bitmart", "spot/depth/increase100", "BTC_USDT", "sequence gap"))
    assert "book:BTC_USDT" in aspects and m.book("BTC_USDT").stale


def test_account_resync_marks_that_table_stale() -> None:
    m = MarketState(V)
    m.apply(TableRows(V, "order", "partial", ["orderID"], [], 1.0))
    assert "account" in m.apply(Resync(V, "order", None, "update for unknown key"))
    assert m.account.stale_tables == {"order"}


def test_liquidation_partial_is_not_shown_inline_on_the_tape() -> None:
    m = MarketState(V)
    row = {"orderID": "o1", "symbol": "XBTUSD", "side": "Buy", "price": 1.0, "leavesQty": 5}
    assert m.apply(TableRows(V, "liquidation", "partial", ["orderID"], [row], 1.0)) == {
        "liquidations"
    }
    assert len(m.liquidations) == 1 and len(m.tape("XBTUSD")) == 0


def test_unknown_event_kind_and_update_to_keyless_table_are_harmless() -> None:
    m = MarketState(V)

    class Odd:
        kind = "martian"

    assert m.apply(Odd()) == set()  # type: ignore[arg-type]
    assert m.apply(TableRows(V, "announcement", "update", [], [{"id": 1}], 1.0)) == set()
    assert m.events == 2


def test_crossed_book_is_flagged_once_and_cleared() -> None:
    m = MarketState(V)
    m.apply(book_ev("XBTUSD", [(100.0, 1)], [(101.0, 1)], True))
    assert m.crossed == set()
    aspects = m.apply(book_ev("XBTUSD", [(101.5, 1)], []))
    assert {"book:XBTUSD", "errors"} <= aspects
    assert m.crossed == {"XBTUSD"} and m.crossed_events == 1
    assert "crossed" in m.errors[-1]
    m.apply(book_ev("XBTUSD", [(101.0, 2)], []))  # still crossed: no new error
    assert m.crossed_events == 1 and m.error_count == 1
    m.apply(book_ev("XBTUSD", [(101.5, 0), (101.0, 0)], []))
    assert m.crossed == set()
    m.apply(book_ev("XBTUSD", [(102.0, 1)], []))
    m.apply(Reset(V))
    assert m.crossed == set() and m.crossed_events == 2


def test_crossed_since_and_updates_follow_the_crossing() -> None:
    clock = Clock(10.0)
    m = MarketState(V, clock=clock)
    m.apply(book_ev("XBTUSD", [(100.0, 1)], [(101.0, 1)], True))
    assert m.crossed_since == {} and m.crossed_updates == {}
    clock.now = 11.0
    m.apply(book_ev("XBTUSD", [(101.0, 1)], []))  # crosses: the crossing message is not counted
    assert m.crossed_since == {"XBTUSD": 11.0} and m.crossed_updates == {"XBTUSD": 0}
    clock.now = 12.0
    m.apply(book_ev("XBTUSD", [(99.0, 3)], []))
    m.apply(book_ev("XBTUSD", [], [(102.0, 3)]))
    assert m.crossed_since == {"XBTUSD": 11.0} and m.crossed_updates == {"XBTUSD": 2}
    # a snapshot that is crossed too is a new book: its crossing starts now, no updates yet
    clock.now = 13.0
    m.apply(book_ev("XBTUSD", [(105.0, 1)], [(104.0, 1)], True))
    assert m.crossed_since == {"XBTUSD": 13.0} and m.crossed_updates == {"XBTUSD": 0}
    assert m.crossed_events == 1
    m.apply(book_ev("XBTUSD", [(105.0, 0)], []))  # uncrossed
    assert m.crossed == set() and m.crossed_since == {} and m.crossed_updates == {}


def test_crossing_is_forgotten_when_the_book_is_voided() -> None:
    m = MarketState(V, clock=Clock(5.0))
    for sym in ("XBTUSD", "ETHUSD"):
        m.apply(book_ev(sym, [(100.0, 1)], [(101.0, 1)], True))
        m.apply(book_ev(sym, [(101.5, 1)], []))
    assert set(m.crossed_since) == {"XBTUSD", "ETHUSD"}
    m.apply(Resync(V, "orderBookL2", "XBTUSD", "unknown id"))
    assert m.crossed == {"ETHUSD"} and set(m.crossed_updates) == {"ETHUSD"}
    m.apply(BookLevels(V, "ETHUSD", [(100.5, None)], [], False))  # type: ignore[list-item]
    assert m.crossed == set() and m.crossed_since == {} and m.crossed_updates == {}
    m.apply(book_ev("XBTUSD", [(100.0, 1)], [(99.0, 1)], True))
    assert set(m.crossed_since) == {"XBTUSD"}
    m.apply(Reset(V))
    assert m.crossed == set() and m.crossed_since == {} and m.crossed_updates == {}


def test_unusable_values_never_raise_and_void_the_book() -> None:
    m = MarketState(V)
    m.apply(book_ev("XBTUSD", [(100.0, 1)], [(101.0, 1)], True))
    bad = BookLevels(V, "XBTUSD", [(100.5, None)], [], False)  # type: ignore[list-item]
    aspects = m.apply(bad)
    assert {"book:XBTUSD", "errors"} <= aspects
    assert m.book("XBTUSD").stale and len(m.book("XBTUSD")) == 0
    assert m.apply_failures == 1 and "could not apply book event for XBTUSD" in m.errors[-1]
    bad_trade = Trades(V, "XBTUSD", [Trade(V, "XBTUSD", "Buy", None, 1.0, 1.0, "z")])  # type: ignore[arg-type]
    assert "errors" in m.apply(bad_trade)
    assert m.apply_failures == 2
