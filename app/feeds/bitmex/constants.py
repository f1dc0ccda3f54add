"""BitMEX realtime API constants: endpoints, limits, table names, currency units.

Sources are cited in the project's protocol notes (BitMEX realtime API reference).
"""

from __future__ import annotations

from typing import Final

VENUE: Final = "bitmex"

# Endpoints
LIVE_URL: Final = "wss://ws.bitmex.com/realtime"
TESTNET_URL: Final = "wss://ws.testnet.bitmex.com/realtime"
REALTIME_PATH: Final = "/realtime"
MULTIPLEX_PATH: Final = "/realtimemd"
LIVE_MULTIPLEX_URL: Final = "wss://ws.bitmex.com/realtimemd"
TESTNET_MULTIPLEX_URL: Final = "wss://ws.testnet.bitmex.com/realtimemd"
HEARTBEAT_QUERY: Final = "heartbeat=true"

# Authentication: the signature always covers GET /realtime, also on /realtimemd.
AUTH_VERB: Final = "GET"
AUTH_SIGN_PATH: Final = "/realtime"
AUTH_EXPIRES_AHEAD_S: Final = 30
HEADER_API_EXPIRES: Final = "api-expires"
HEADER_API_SIGNATURE: Final = "api-signature"
HEADER_API_KEY: Final = "api-key"

# Ops (client -> server)
OP_SUBSCRIBE: Final = "subscribe"
OP_UNSUBSCRIBE: Final = "unsubscribe"
OP_AUTH_KEY_EXPIRES: Final = "authKeyExpires"
OP_AUTH_KEY: Final = "authKey"
OP_CANCEL_ALL_AFTER: Final = "cancelAllAfter"
AUTH_OPS: Final = frozenset({OP_AUTH_KEY_EXPIRES, OP_AUTH_KEY})
PING: Final = "ping"
PONG: Final = "pong"

# Multiplexed (/realtimemd) packet types: [type, stream_id, topic, payload?]
MUX_MESSAGE: Final = 0
MUX_SUBSCRIBE: Final = 1
MUX_UNSUBSCRIBE: Final = 2

# Limits and timings
MAX_ARGS_PER_SUBSCRIBE: Final = 20
WATCHDOG_IDLE_S: Final = 5.0
PONG_TIMEOUT_S: Final = 5.0
HEARTBEAT_PING_INTERVAL_S: Final = 25.0
HEARTBEAT_SERVER_CLOSE_S: Final = 35.0
CONNECTIONS_PER_HOUR: Final = 60
RATE_LIMITED_WAIT_S: Final = 60.0
PARTIAL_TIMEOUT_S: Final = 15.0
BACKOFF_INITIAL_S: Final = 1.0
BACKOFF_MAX_S: Final = 60.0
CANCEL_ALL_AFTER_TIMEOUT_MS: Final = 60_000
CANCEL_ALL_AFTER_REFRESH_S: Final = 15.0

# HTTP-like statuses of error replies that mean "authentication failed"
AUTH_ERROR_STATUSES: Final = frozenset({401, 403, 419})
ALREADY_SUBSCRIBED_TEXT: Final = "already subscribed to this topic"

# Table actions
PARTIAL: Final = "partial"
INSERT: Final = "insert"
UPDATE: Final = "update"
DELETE: Final = "delete"

# Sides
BUY: Final = "Buy"
SELL: Final = "Sell"

# Public tables
ORDER_BOOK_L2: Final = "orderBookL2"
ORDER_BOOK_L2_25: Final = "orderBookL2_25"
ORDER_BOOK_10: Final = "orderBook10"
QUOTE: Final = "quote"
TRADE: Final = "trade"
INSTRUMENT: Final = "instrument"
LIQUIDATION: Final = "liquidation"
FUNDING: Final = "funding"
SETTLEMENT: Final = "settlement"
INSURANCE: Final = "insurance"
ANNOUNCEMENT: Final = "announcement"
CONNECTED: Final = "connected"
CHAT: Final = "chat"
PUBLIC_NOTIFICATIONS: Final = "publicNotifications"
TRADE_BIN_1M: Final = "tradeBin1m"
TRADE_BIN_5M: Final = "tradeBin5m"
TRADE_BIN_1H: Final = "tradeBin1h"
TRADE_BIN_1D: Final = "tradeBin1d"
QUOTE_BIN_TABLES: Final = frozenset({"quoteBin1m", "quoteBin5m", "quoteBin1h", "quoteBin1d"})

# Private tables (authentication required)
ORDER: Final = "order"
EXECUTION: Final = "execution"
POSITION: Final = "position"
MARGIN: Final = "margin"
WALLET: Final = "wallet"
ACCOUNT: Final = "account"
AFFILIATE: Final = "affiliate"
TRANSACT: Final = "transact"
PRIVATE_NOTIFICATIONS: Final = "privateNotifications"

L2_TABLES: Final = frozenset({ORDER_BOOK_L2, ORDER_BOOK_L2_25})
# Tables that each carry a whole order book per symbol. Their BookLevels events do not say which
# table they came from, so a client follows at most one of them per symbol.
BOOK_TABLES: Final = frozenset({ORDER_BOOK_L2, ORDER_BOOK_L2_25, ORDER_BOOK_10})
# tradeBin table -> (timeframe label, interval seconds); bin timestamps are END times.
TRADE_BIN_INTERVALS: Final[dict[str, tuple[str, float]]] = {
    TRADE_BIN_1M: ("1m", 60.0),
    TRADE_BIN_5M: ("5m", 300.0),
    TRADE_BIN_1H: ("1h", 3600.0),
    TRADE_BIN_1D: ("1d", 86400.0),
}

PUBLIC_TABLES: Final = frozenset(
    {
        ANNOUNCEMENT,
        CONNECTED,
        CHAT,
        PUBLIC_NOTIFICATIONS,
        INSTRUMENT,
        SETTLEMENT,
        FUNDING,
        INSURANCE,
        LIQUIDATION,
        ORDER_BOOK_L2,
        ORDER_BOOK_L2_25,
        ORDER_BOOK_10,
        QUOTE,
        TRADE,
        *QUOTE_BIN_TABLES,
        *TRADE_BIN_INTERVALS,
    }
)
PRIVATE_TABLES: Final = frozenset(
    {
        PRIVATE_NOTIFICATIONS,
        ACCOUNT,
        WALLET,
        AFFILIATE,
        MARGIN,
        POSITION,
        TRANSACT,
        ORDER,
        EXECUTION,
    }
)
KNOWN_TABLES: Final = PUBLIC_TABLES | PRIVATE_TABLES
# Tables that never take a ":SYMBOL" filter.
NO_SYMBOL_TABLES: Final = frozenset(
    {
        ACCOUNT,
        AFFILIATE,
        ANNOUNCEMENT,
        CONNECTED,
        CHAT,
        INSURANCE,
        MARGIN,
        PUBLIC_NOTIFICATIONS,
        PRIVATE_NOTIFICATIONS,
        TRANSACT,
        WALLET,
    }
)
# Insert-only tables whose rows are events, not state: nothing to store per key.
STATELESS_TABLES: Final = frozenset({TRADE, QUOTE, *TRADE_BIN_INTERVALS, *QUOTE_BIN_TABLES})
# Keys used when a partial omits its `keys` field (the server always sends them; trimmed
# recordings do not).
DEFAULT_KEYS: Final[dict[str, tuple[str, ...]]] = {
    ORDER_BOOK_L2: ("symbol", "id", "side"),
    ORDER_BOOK_L2_25: ("symbol", "id", "side"),
    ORDER_BOOK_10: ("symbol",),
    INSTRUMENT: ("symbol",),
    LIQUIDATION: ("orderID",),
    ORDER: ("orderID",),
    EXECUTION: ("execID",),
    POSITION: ("account", "symbol"),
    MARGIN: ("account", "currency"),
    WALLET: ("account", "currency"),
}

# Settlement currencies: amounts arrive as integers in the minor unit.
# code -> (display currency, minor units per display unit)
CURRENCY_UNITS: Final[dict[str, tuple[str, float]]] = {
    "XBt": ("XBT", 1e8),
    "USDt": ("USDT", 1e6),
    "Gwei": ("ETH", 1e9),
}
CURRENCY_MINOR_UNITS: Final[dict[str, float]] = {k: v[1] for k, v in CURRENCY_UNITS.items()}

# Welcome message fields
WELCOME_INFO_PREFIX: Final = "Welcome to the BitMEX Realtime API"
