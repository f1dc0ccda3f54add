"""The venues the window can connect to, and what it subscribes to on each.

A venue key names an endpoint the user picks (BitMEX live/testnet, the demo simulator, BitMart
v3 or legacy, live or the demo simulator's BitMart front-ends). Each key belongs to one protocol
(`BITMEX`, `BITMART_V3`, `BITMART_LEGACY`), which decides the feed client and the topics.
"""

from __future__ import annotations

from app.feeds.bitmart import constants as bm
from app.feeds.bitmex import constants as bx

LIVE = "live"
TESTNET = "testnet"
DEMO = "demo"
CUSTOM = "custom"
BITMART_DEMO = "bitmart-demo"
BITMART_LEGACY_DEMO = "bitmart-legacy-demo"
BITMART_LIVE = "bitmart"
BITMART_LEGACY_LIVE = "bitmart-legacy"
REPLAY = "replay"  # a recording played back (`depthdesk --replay FILE`); its URL is the file

BITMEX = "bitmex"
BITMART_V3 = "bitmart-v3"
BITMART_LEGACY = "bitmart-legacy"
RECORDING = "recording"  # the replay key's "protocol": frames come from a file

STATE_VENUE = "bitmex"
DEFAULT_SYMBOL = "XBTUSD"
BITMART_DEFAULT_SYMBOL = "BTC_USDT"

_LABELS = {
    LIVE: "BitMEX",
    TESTNET: "BitMEX testnet",
    DEMO: "Demo simulator",
    CUSTOM: "Custom URL",
    BITMART_DEMO: "BitMart (demo, v3)",
    BITMART_LEGACY_DEMO: "BitMart legacy (demo)",
    BITMART_LIVE: "BitMart v3",
    BITMART_LEGACY_LIVE: "BitMart legacy",
    REPLAY: "Replay",
}

_PROTOCOL = {
    LIVE: BITMEX,
    TESTNET: BITMEX,
    DEMO: BITMEX,
    CUSTOM: BITMEX,
    BITMART_DEMO: BITMART_V3,
    BITMART_LEGACY_DEMO: BITMART_LEGACY,
    BITMART_LIVE: BITMART_V3,
    BITMART_LEGACY_LIVE: BITMART_LEGACY,
    REPLAY: RECORDING,
}

# Keys served by the embedded simulator (started on demand).
DEMO_KEYS = frozenset({DEMO, BITMART_DEMO, BITMART_LEGACY_DEMO})

SELECTABLE = (
    DEMO,
    BITMART_DEMO,
    BITMART_LEGACY_DEMO,
    LIVE,
    TESTNET,
    BITMART_LIVE,
    BITMART_LEGACY_LIVE,
)

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
# BitMart v3 channels of the shown symbol: ticker, incremental depth, trades, klines.
BITMART_V3_CHANNELS: tuple[str, ...] = (
    bm.V3_CH_TICKER,
    bm.V3_CH_DEPTH_INCREASE,
    bm.V3_CH_TRADE,
    f"{bm.V3_CH_KLINE_PREFIX}1m",
    f"{bm.V3_CH_KLINE_PREFIX}5m",
    f"{bm.V3_CH_KLINE_PREFIX}1H",
    f"{bm.V3_CH_KLINE_PREFIX}1D",
)


def topics_for(symbol: str, private: bool) -> list[str]:
    """Explicit BitMEX topics of one session (per-symbol filters spelled out, whole tables bare)."""
    topics = [f"{table}:{symbol}" for table in SYMBOL_TOPICS] + list(MARKET_TOPICS)
    if private:
        topics += PRIVATE_TOPICS
    return topics


def bitmart_v3_topics(symbol: str) -> list[str]:
    """BitMart v3 topics of one symbol."""
    return [f"{channel}:{symbol}" for channel in BITMART_V3_CHANNELS]


def bitmart_legacy_topics(symbol: str, precision: int, trade_precision: int) -> list[str]:
    """Legacy openws topics of one symbol: ticker, 1-minute klines, book at `precision`,
    trades at `trade_precision`."""
    return [
        f"{bm.LEGACY_CH_PRICE}:{symbol}",
        f"{bm.LEGACY_CH_KLINE}:{symbol}:{bm.LEGACY_DEFAULT_STEP}",
        f"{bm.LEGACY_CH_ORDER}:{symbol}:{precision}",
        f"{bm.LEGACY_CH_TRADE}:{symbol}:{trade_precision}",
    ]


def label(key: str) -> str:
    """Display name of a venue key."""
    return _LABELS.get(key, key)


def protocol(key: str) -> str:
    """The wire protocol of a venue key (BitMEX for unknown keys)."""
    return _PROTOCOL.get(key, BITMEX)


def state_venue(key: str) -> str:
    """The `venue` name events of this key carry (and MarketState is created with)."""
    proto = protocol(key)
    if proto == BITMART_V3:
        return bm.VENUE_V3
    if proto == BITMART_LEGACY:
        return bm.VENUE_LEGACY
    return STATE_VENUE


def is_demo(key: str) -> bool:
    """True for keys served by the embedded simulator."""
    return key in DEMO_KEYS


def default_symbol(key: str) -> str:
    """The symbol shown first on a venue."""
    if protocol(key) in (BITMART_V3, BITMART_LEGACY) and not is_demo(key):
        return BITMART_DEFAULT_SYMBOL
    return DEFAULT_SYMBOL


def symbol_for(key: str, symbol: str) -> str:
    """`symbol` if it can exist on the venue, else the venue's default (BitMart spot symbols
    are BASE_QUOTE, BitMEX ones have no underscore; the simulator lists the same market on all
    its front-ends)."""
    symbol = symbol.strip().upper()
    if not symbol:
        return default_symbol(key)
    if is_demo(key) or key == REPLAY:
        return symbol
    bitmart = protocol(key) != BITMEX
    if bitmart != ("_" in symbol):
        return default_symbol(key)
    return symbol


def url_for(key: str) -> str | None:
    """The fixed URL of a venue key (None for demo/custom, whose URL is only known at run time)."""
    return {
        LIVE: bx.LIVE_URL,
        TESTNET: bx.TESTNET_URL,
        BITMART_LIVE: bm.V3_URL,
        BITMART_LEGACY_LIVE: bm.LEGACY_URL,
    }.get(key)
