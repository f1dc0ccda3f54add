"""The venues the window can connect to, and what it subscribes to on each."""

from __future__ import annotations

from app.feeds.bitmex import constants as bx

LIVE = "live"
TESTNET = "testnet"
DEMO = "demo"
CUSTOM = "custom"

STATE_VENUE = "bitmex"
DEFAULT_SYMBOL = "XBTUSD"

_LABELS = {
    LIVE: "BitMEX",
    TESTNET: "BitMEX testnet",
    DEMO: "Demo simulator",
    CUSTOM: "Custom URL",
}

SELECTABLE = (DEMO, LIVE, TESTNET)

# Tables subscribed for the shown symbol only ("trade:XBTUSD").
SYMBOL_TOPICS: tuple[str, ...] = (
    bx.ORDER_BOOK_L2,
    bx.TRADE,
    bx.QUOTE,
    bx.TRADE_BIN_1M,
    bx.TRADE_BIN_5M,
    bx.TRADE_BIN_1H,
    bx.TRADE_BIN_1D,
)
# Whole tables: every instrument (for the symbol selector) and every liquidation.
MARKET_TOPICS: tuple[str, ...] = (bx.INSTRUMENT, bx.LIQUIDATION)
# Private tables of the account, all symbols.
PRIVATE_TOPICS: tuple[str, ...] = (
    bx.POSITION,
    bx.ORDER,
    bx.EXECUTION,
    bx.MARGIN,
    bx.WALLET,
)


def topics_for(symbol: str, private: bool) -> list[str]:
    """Explicit topics of one session (per-symbol filters spelled out, whole tables bare)."""
    topics = [f"{table}:{symbol}" for table in SYMBOL_TOPICS] + list(MARKET_TOPICS)
    if private:
        topics += PRIVATE_TOPICS
    return topics


def label(key: str) -> str:
    """Display name of a venue key."""
    return _LABELS.get(key, key)


def url_for(key: str) -> str | None:
    """The fixed URL of a venue key (None for demo/custom, whose URL is only known at run time)."""
    if key == LIVE:
        return bx.LIVE_URL
    if key == TESTNET:
        return bx.TESTNET_URL
    return None
