"""Account tables forwarded from the account panel's own connection survive a market-data Reset:
only the connection that delivered rows can void them."""

from __future__ import annotations

from app.feeds.events import Reset, TableRows
from app.state.market import MarketState

V = "bitmex"
POS_KEYS = ["account", "symbol", "currency"]


def _pos(qty: int) -> dict[str, object]:
    return {"account": 1, "symbol": "XBTUSD", "currency": "XBt", "currentQty": qty, "isOpen": True}


def _order(oid: str) -> dict[str, object]:
    return {"orderID": oid, "symbol": "XBTUSD", "side": "Buy", "orderQty": 10, "price": 100.0,
            "leavesQty": 10, "ordStatus": "New"}  # fmt: skip


def test_market_reset_leaves_forwarded_tables_fresh() -> None:
    m = MarketState(V)
    m.apply_forwarded(TableRows(V, "position", "partial", POS_KEYS, [_pos(5)], 0.0))
    m.apply_forwarded(TableRows(V, "order", "partial", ["orderID"], [_order("o1")], 0.0))
    assert m.forwarded_tables == {"position", "order"}
    m.apply(Reset(V, "market data reconnect"))
    assert not m.account.stale and m.account.stale_tables == set()
    assert m.account.positions()[0].qty == 5 and len(m.account.working_orders()) == 1


def test_own_tables_still_go_stale_next_to_forwarded_ones() -> None:
    m = MarketState(V)
    # this connection's own private table (a demo session with credentials)
    m.apply(TableRows(V, "margin", "partial", ["account", "currency"],
                      [{"account": 1, "currency": "XBt", "walletBalance": 1}], 0.0))  # fmt: skip
    m.apply_forwarded(TableRows(V, "position", "partial", POS_KEYS, [_pos(5)], 0.0))
    aspects = m.apply(Reset(V))
    assert m.account.stale_tables == {"margin"} and "account" in aspects
    m.apply(TableRows(V, "margin", "partial", ["account", "currency"], [], 0.0))
    assert not m.account.stale


def test_without_forwarding_a_reset_marks_account_tables_stale() -> None:
    m = MarketState(V)
    m.apply(TableRows(V, "position", "partial", POS_KEYS, [_pos(5)], 0.0))
    m.apply(Reset(V))
    assert m.account.stale_tables == {"position"}


def test_a_forwarded_reset_marks_only_forwarded_tables_stale() -> None:
    """The account connection itself reconnected: its tables wait for their fresh partials;
    the market connection's books and own tables are untouched."""
    from app.feeds.events import BookLevels

    m = MarketState(V)
    m.apply(BookLevels(V, "XBTUSD", [(100.0, 1.0)], [(100.5, 1.0)], True))
    m.apply_forwarded(TableRows(V, "position", "partial", POS_KEYS, [_pos(5)], 0.0))
    aspects = m.apply_forwarded(Reset(V, "account connection reconnect"))
    assert aspects == {"account"}
    assert m.account.stale_tables == {"position"} and m.account.positions()[0].qty == 5
    assert not m.book("XBTUSD").stale and m.book("XBTUSD").best_bid() == (100.0, 1.0)
    assert m.apply_forwarded(Reset(V)) == set()  # already waiting
    m.apply_forwarded(TableRows(V, "position", "partial", POS_KEYS, [_pos(6)], 0.0))
    assert not m.account.stale and m.account.positions()[0].qty == 6


def test_dropping_forwarded_rows_after_the_other_connection_logs_out() -> None:
    m = MarketState(V)
    assert m.drop_forwarded() == set()
    m.apply_forwarded(TableRows(V, "position", "partial", POS_KEYS, [_pos(5)], 0.0))
    assert m.drop_forwarded() == {"account"}
    assert m.account.positions() == [] and m.forwarded_tables == set()
