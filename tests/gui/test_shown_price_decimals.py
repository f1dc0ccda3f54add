"""Decimals of prices in tables and status lines: the market's tick, else the prices' own."""

from __future__ import annotations

import math

import pytest

from app.widgets.format import (
    UNKNOWN_PRICE_DECIMALS,
    SymbolPriceDecimals,
    fmt_price,
    shown_price_decimals,
)


@pytest.mark.parametrize(
    ("step", "decimals"),
    [(0.5, 1), (0.05, 2), (0.01, 2), (1.0, 0), (25.0, 0), (1e-07, 7), (1e-08, 8)],
)
def test_a_known_tick_decides_whatever_the_prices(step: float, decimals: int) -> None:
    assert shown_price_decimals(step) == decimals
    # a computed mark or average price finer than the tick is written at the tick
    assert shown_price_decimals(step, [60_012.37, 0.00012634]) == decimals


@pytest.mark.parametrize(
    ("prices", "decimals", "text"),
    [
        ([0.0001268], 7, "0.0001268"),
        ([0.00000242, 0.0000024], 8, "0.00000242"),
        ([60_000.5, 60_000.0], 1, "60,000.5"),
        ([60_000.0, 54_000.0], 0, "60,000"),
        ([3_000.05], 2, "3,000.05"),
        # an average with a float tail keeps 8 significant digits
        ([60_123.4567890123], 3, "60,123.457"),
        ([1e16], 0, "10,000,000,000,000,000"),
        # BitMEX's "no liquidation" price does not take a tiny market's decimals away
        ([0.0001268, 100_000_000.0], 7, "0.0001268"),
    ],
)
def test_without_a_tick_the_shown_prices_decide(
    prices: list[float], decimals: int, text: str
) -> None:
    for step in (None, 0.0, -0.5, math.nan, math.inf):
        assert shown_price_decimals(step, prices) == decimals
    assert fmt_price(prices[0], decimals) == text


def test_nothing_known_falls_back_to_two_decimals() -> None:
    assert shown_price_decimals(None) == UNKNOWN_PRICE_DECIMALS == 2
    assert shown_price_decimals(None, [None, math.nan, math.inf, 0.0]) == 2


def test_tiny_prices_never_read_in_scientific_notation() -> None:
    for price, step in [(0.0001268, 1e-7), (2.42e-06, 1e-8), (1.5e-11, None), (1e-12, 1e-12)]:
        text = fmt_price(price, shown_price_decimals(step, [price]))
        assert "e" not in text.lower() and float(text) == pytest.approx(price)


def test_symbol_decimals_follow_each_market_and_notice_a_new_tick() -> None:
    ticks: dict[str, float] = {"XBTUSD": 0.5}
    prices = SymbolPriceDecimals(ticks.get)
    prices.learn([("XBTUSD", 60_000.0), ("EOSM21", 0.0001268), ("EOSM21", 0.000127), ("X", None)])
    assert prices.decimals("XBTUSD") == 1
    assert prices.decimals("EOSM21") == 7  # the most any of its prices has
    assert prices.decimals("X") == 2  # listed without a price
    assert prices.decimals("ETHUSD") == 2  # never shown, no tick
    assert not prices.stale()
    ticks["EOSM21"] = 1e-6
    assert prices.stale()
    prices.learn([("EOSM21", 0.0001268)])
    assert not prices.stale() and prices.decimals("EOSM21") == 6
    ticks["TRXM21"] = 1e-8
    assert prices.decimals("TRXM21") == 8  # a tick alone decides for a market not shown
    assert not prices.stale()  # TRXM21 was not learned about: nothing shown changes
