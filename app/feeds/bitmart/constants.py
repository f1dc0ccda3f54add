"""BitMart wire constants: URLs, channel names, limits, intervals, error codes.

Two public APIs are covered: the legacy `openws` feed (JSON text frames, `subscribe` keys) and
the current v3 spot feed (`op`/`args` requests, raw-DEFLATE binary data frames).
"""

from __future__ import annotations

# --- venue names (the `venue` field of every event and the `--venue` CLI value) -------------
VENUE_LEGACY = "bitmart-legacy"
VENUE_V3 = "bitmart"

# --- legacy openws ---------------------------------------------------------------------------
LEGACY_URL = "wss://openws.bitmart.com"
LEGACY_SIM_PATH = "/"

# Request keys.
LEGACY_KEY_SUBSCRIBE = "subscribe"
LEGACY_KEY_UNSUBSCRIBE = "unsubscribe"
LEGACY_KEY_ERROR = "message"

# Channel names as sent in a request's `subscribe` value.
LEGACY_CH_PING = "ping"
LEGACY_CH_PRICE = "price"
LEGACY_CH_KLINE = "kline"
LEGACY_CH_ORDER = "order"
LEGACY_CH_TRADE = "trade"
LEGACY_DATA_CHANNELS = (LEGACY_CH_PRICE, LEGACY_CH_KLINE, LEGACY_CH_ORDER, LEGACY_CH_TRADE)

# Channel names as they come back in a reply's `subscribe` value (`order` comes back as `depth`).
LEGACY_REPLY_PONG = "pong"
LEGACY_REPLY_PRICE = "price"
LEGACY_REPLY_KLINE = "kline"
LEGACY_REPLY_DEPTH = "depth"
LEGACY_REPLY_TRADE = "trade"
LEGACY_REPLY_OF_REQUEST = {
    LEGACY_CH_PING: LEGACY_REPLY_PONG,
    LEGACY_CH_PRICE: LEGACY_REPLY_PRICE,
    LEGACY_CH_KLINE: LEGACY_REPLY_KLINE,
    LEGACY_CH_ORDER: LEGACY_REPLY_DEPTH,
    LEGACY_CH_TRADE: LEGACY_REPLY_TRADE,
}
LEGACY_REQUEST_OF_REPLY = {reply: req for req, reply in LEGACY_REPLY_OF_REQUEST.items()}

# Kline steps in minutes (REST v2 /v2/steps) and the timeframe label each one maps to.
LEGACY_KLINE_STEPS = (1, 3, 5, 15, 30, 45, 60, 120, 180, 240, 1440, 10080, 43200)
LEGACY_STEP_TIMEFRAME = {
    1: "1m",
    3: "3m",
    5: "5m",
    15: "15m",
    30: "30m",
    45: "45m",
    60: "1h",
    120: "2h",
    180: "3h",
    240: "4h",
    1440: "1d",
    10080: "1w",
    43200: "30d",
}
LEGACY_DEFAULT_STEP = 1

# Limits documented for the feed.
LEGACY_CONNECT_INTERVAL = 4.0  # "rate-limited to 1 per 4 seconds per IP"
# Margin added by the client: handshakes of successive sockets can arrive closer together
# at the server than they left the client.
LEGACY_CONNECT_MARGIN = 0.25
LEGACY_SUBSCRIBE_DEADLINE = 5.0  # disconnected if no subscribe within 5 s of connecting
# Client choices (undocumented by BitMart): heartbeat with the ping channel.
LEGACY_PING_INTERVAL = 15.0
LEGACY_PONG_TIMEOUT = 5.0
LEGACY_DEFAULT_PRECISION = 6  # fitted into each symbol's range (see legacy_precision)
# Price precision (decimal digits) bounds used when a symbol's own range is unknown.
LEGACY_PRECISION_MIN = 0
LEGACY_PRECISION_MAX = 12

# REST v2 symbol details: each symbol's valid precision range (`price_min_precision` ..
# `price_max_precision`). A simulator serves the same path next to its openws socket.
LEGACY_DETAILS_URL = "https://openapi.bitmart.com/v2/symbols_details"
LEGACY_DETAILS_PATH = "/v2/symbols_details"
LEGACY_DETAILS_TIMEOUT = 2.0  # well under the 5 s subscribe deadline
LEGACY_DETAILS_MAX_BYTES = 8 * 1024 * 1024
LEGACY_D_ID = "id"
LEGACY_D_BASE = "base_currency"
LEGACY_D_QUOTE = "quote_currency"
LEGACY_D_QUOTE_INCREMENT = "quote_increment"
LEGACY_D_BASE_MIN = "base_min_size"
LEGACY_D_BASE_MAX = "base_max_size"
LEGACY_D_MIN_PRECISION = "price_min_precision"
LEGACY_D_MAX_PRECISION = "price_max_precision"
LEGACY_D_EXPIRATION = "expiration"

# Legacy frame fields.
LEGACY_F_SYMBOL = "symbol"
LEGACY_F_PRECISION = "precision"
LEGACY_F_STEP = "step"
LEGACY_F_DATA = "data"
LEGACY_F_BUYS = "buys"
LEGACY_F_SELLS = "sells"
LEGACY_F_TRADES = "trades"

# --- current v3 spot ---------------------------------------------------------------------------
V3_URL = "wss://ws-manager-compress.bitmart.com/api?protocol=1.1"
V3_SIM_PATH = "/api"
V3_QUERY = "protocol=1.1"

V3_OP_SUBSCRIBE = "subscribe"
V3_OP_UNSUBSCRIBE = "unsubscribe"
V3_OP_REQUEST = "request"
V3_PING = "ping"
V3_PONG = "pong"

V3_F_OP = "op"
V3_F_ARGS = "args"
V3_F_EVENT = "event"
V3_F_TOPIC = "topic"
V3_F_TABLE = "table"
V3_F_DATA = "data"
V3_F_ERROR_CODE = "errorCode"
V3_F_ERROR_MESSAGE = "errorMessage"

V3_CH_TICKER = "spot/ticker"
V3_CH_TRADE = "spot/trade"
V3_CH_DEPTH_INCREASE = "spot/depth/increase100"
V3_DEPTH_INCREASE_LEVELS = 100
V3_CH_DEPTH_PREFIX = "spot/depth"
V3_DEPTH_SNAPSHOT_LEVELS = (5, 20, 50)
V3_DEPTH_SNAPSHOT_CHANNELS = tuple(f"{V3_CH_DEPTH_PREFIX}{n}" for n in V3_DEPTH_SNAPSHOT_LEVELS)
V3_CH_KLINE_PREFIX = "spot/kline"
# Kline interval suffixes (case matters: m = minute, M = month) and their timeframe labels.
V3_KLINE_TIMEFRAME = {
    "1m": "1m",
    "5m": "5m",
    "15m": "15m",
    "30m": "30m",
    "1H": "1h",
    "2H": "2h",
    "4H": "4h",
    "1D": "1d",
    "1W": "1w",
    "1M": "1M",
}
V3_KLINE_SECONDS = {
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1H": 3600,
    "2H": 7200,
    "4H": 14400,
    "1D": 86400,
    "1W": 604800,
}
V3_KLINE_CHANNELS = tuple(f"{V3_CH_KLINE_PREFIX}{iv}" for iv in V3_KLINE_TIMEFRAME)
V3_CHANNELS = (
    V3_CH_TICKER,
    V3_CH_TRADE,
    V3_CH_DEPTH_INCREASE,
    *V3_DEPTH_SNAPSHOT_CHANNELS,
    *V3_KLINE_CHANNELS,
)
V3_DEPTH_TYPE_SNAPSHOT = "snapshot"
V3_DEPTH_TYPE_UPDATE = "update"

# Documented public-channel limits ("Stay Connected And Limit", "Connection Limit").
V3_MAX_ARGS_PER_MESSAGE = 20
V3_MAX_TOPICS_PER_CONNECTION = 115
V3_MAX_CONNECTIONS_PER_IP = 20
V3_MAX_CONNECTS_PER_WINDOW = 30
V3_CONNECT_WINDOW = 60.0
V3_MAX_MESSAGES_PER_WINDOW = 100  # subscribe/unsubscribe/request JSON messages and text pings
V3_MESSAGE_WINDOW = 10.0
V3_MAX_SUBSCRIBE_BYTES = 4096
# Window slots kept free by queued requests so a keep-alive ping never exceeds the limit.
V3_PING_HEADROOM = 2
V3_IDLE_DISCONNECT = 20.0  # no data for 20 s closes the connection
V3_LIFELESS_AFTER = 300.0  # no subscription within 5 minutes closes the connection
# Client choices: text ping every N < 20 s, pong expected within a few seconds.
V3_PING_INTERVAL = 15.0
V3_PONG_TIMEOUT = 5.0
V3_SNAPSHOT_TIMEOUT = 10.0

# Error codes (docs "WebSocket Error Code").
V3_ERR_INVALID_FORMAT = "90001"
V3_ERR_INVALID_OP = "90002"
V3_ERR_INVALID_ARGS = "90003"
V3_ERR_INVALID_CHANNEL = "90004"
V3_ERR_TOO_MANY_ARGS = "90005"
V3_ERR_TOO_MANY_TOPICS = "90006"
V3_ERR_MESSAGE_RATE = "90007"
V3_ERR_DUPLICATE = "90008"
V3_ERR_INVALID_SUBSCRIPTION = "90009"
V3_ERR_INVALID_SYMBOL = "92001"
V3_ERR_RECONNECT_RATE = "94001"
V3_ERR_TOO_MANY_CONNECTIONS = "94002"
V3_ERR_INTERNAL = "95000"
V3_ERROR_MESSAGES = {
    V3_ERR_INVALID_FORMAT: "Invalid message format",
    V3_ERR_INVALID_OP: "Invalid op param",
    V3_ERR_INVALID_ARGS: "Invalid args param",
    V3_ERR_INVALID_CHANNEL: "Invalid channel param",
    V3_ERR_TOO_MANY_ARGS: "Topic quantity in single subscription exceeds limit",
    V3_ERR_TOO_MANY_TOPICS: "Subscribed total topic quantity exceeds limit",
    V3_ERR_MESSAGE_RATE: "Subscribed message frequency exceeds limit, please try later",
    V3_ERR_DUPLICATE: "Duplicate subscription",
    V3_ERR_INVALID_SUBSCRIPTION: "Invalid subscription",
    V3_ERR_INVALID_SYMBOL: "Invalid symbol param",
    V3_ERR_RECONNECT_RATE: "Frequently reestablishing connections in a short period of time",
    V3_ERR_TOO_MANY_CONNECTIONS: (
        "The number of connections established between a single IP and the server exceeds "
        "the upper limit"
    ),
    V3_ERR_INTERNAL: "Internal system error",
}
# Codes after which the server closes the connection (limits exceeded).
V3_FATAL_CODES = frozenset(
    {V3_ERR_MESSAGE_RATE, V3_ERR_RECONNECT_RATE, V3_ERR_TOO_MANY_CONNECTIONS}
)

# --- shared client defaults ------------------------------------------------------------------
BACKOFF_INITIAL = 1.0
BACKOFF_MAX = 60.0
WATCHDOG_IDLE = 30.0
# Connects are paced by the process-wide ConnectionGate, so the handler's own budget is off.
CONNECTIONS_UNBUDGETED = 10**9
