"""Wire constants of the simulated BitMEX realtime API (tables, paths, limits, error texts)."""

from __future__ import annotations

REALTIME_PATH = "/realtime"
MULTIPLEX_PATH = "/realtimemd"
SIGNED_VERB_PATH = "GET/realtime"
VENUE = "bitmex"

WELCOME_INFO = "Welcome to the BitMEX Realtime API."
API_VERSION = "2.0.0"
DOCS_URL = "https://www.bitmex.com/app/wsAPI"
APP_NAME = "ws-feedhandler-depthdesk-sim"

MAX_ARGS = 20
PING = "ping"
PONG = "pong"
HEARTBEAT_QUERY = "heartbeat"
SUBSCRIBE_QUERY = "subscribe"
HEADER_API_KEY = "api-key"
HEADER_API_EXPIRES = "api-expires"
HEADER_API_SIGNATURE = "api-signature"
HEADER_API_NONCE = "api-nonce"

OP_SUBSCRIBE = "subscribe"
OP_UNSUBSCRIBE = "unsubscribe"
OP_AUTH_KEY = "authKey"
OP_AUTH_KEY_EXPIRES = "authKeyExpires"
OP_CANCEL_ALL_AFTER = "cancelAllAfter"
OPS = [OP_AUTH_KEY, OP_AUTH_KEY_EXPIRES, OP_CANCEL_ALL_AFTER, OP_SUBSCRIBE, OP_UNSUBSCRIBE]

# Tables the simulator drives with data.
T_L2 = "orderBookL2"
T_L2_25 = "orderBookL2_25"
T_OB10 = "orderBook10"
T_QUOTE = "quote"
T_TRADE = "trade"
T_INSTRUMENT = "instrument"
T_FUNDING = "funding"
T_LIQUIDATION = "liquidation"
T_ORDER = "order"
T_EXECUTION = "execution"
T_POSITION = "position"
T_MARGIN = "margin"
T_WALLET = "wallet"
BIN_TABLES = {"tradeBin1m": "1m", "tradeBin5m": "5m", "tradeBin1h": "1h", "tradeBin1d": "1d"}

PUBLIC_TABLES = [
    "announcement",
    "connected",
    "chat",
    "publicNotifications",
    T_INSTRUMENT,
    "settlement",
    T_FUNDING,
    "insurance",
    T_LIQUIDATION,
    T_L2,
    T_L2_25,
    T_OB10,
    T_QUOTE,
    T_TRADE,
    "quoteBin1m",
    "quoteBin5m",
    "quoteBin1h",
    "quoteBin1d",
    *BIN_TABLES,
]
PRIVATE_TABLES = [
    "privateNotifications",
    "account",
    T_WALLET,
    "affiliate",
    T_MARGIN,
    T_POSITION,
    "transact",
    T_ORDER,
    T_EXECUTION,
]
NO_SYMBOL_TABLES = {
    "account",
    "affiliate",
    "announcement",
    "connected",
    "chat",
    "insurance",
    "margin",
    "publicNotifications",
    "privateNotifications",
    "transact",
    "wallet",
}
L2_25_DEPTH = 25
OB10_DEPTH = 10

HELP = {
    "info": "See https://www.bitmex.com/app/wsAPI and https://www.bitmex.com/explorer "
    "for more documentation.",
    "usage": 'Send a message in the format: {"op": string, "args": Array<string>}',
    "ops": OPS,
    "subscribe": 'To subscribe, send: {"op": "subscribe", "args": [subscriptionTopic, ...]}.',
    "subscriptionSubjects": {"authenticationRequired": PRIVATE_TABLES, "public": PUBLIC_TABLES},
}

# Error texts (status codes alongside where they are used).
E_UNKNOWN_TABLE = "Unknown table: {table}"
E_TOO_MANY_ARGS = "Too many args sent. Max length is 20."
E_ALREADY_SUBSCRIBED = "You are already subscribed to this topic: {topic}"
E_NOT_SUBSCRIBED = (
    "Not subscribed to {topic}. Please see the documentation at https://ws.bitmex.com/app/wsAPI."
)
E_AUTH_REQUIRED = "User requested an account-locked subscription but no authorization was provided."
E_EXPIRED = "This request has expired - `expires` is in the past. Current time: {now}"
E_BAD_SIGNATURE = "Signature not valid."
E_INVALID_KEY = "Invalid API Key."
E_NONCE = "Nonce is not increasing. This nonce: {nonce}, last nonce: {last}"
E_ALREADY_AUTHED = "Session already authenticated."
E_BAD_AUTH_ARGS = "Invalid authentication arguments: expected [apiKey, expires, signature]."
E_UNKNOWN_OP = "Unknown or unsupported operation: {op}"
E_DECODE = (
    "Failed to decode incoming data: {detail}. Please see the documentation at "
    "https://www.bitmex.com/app/wsAPI"
)
E_BAD_TIMEOUT = "Invalid cancelAllAfter timeout: must be a non-negative integer of milliseconds."
E_RATE_LIMITED = "Rate limit exceeded, retry in 1 minute."
E_BAD_PATH = "Not Found"
E_INTERNAL = "Internal error while handling the request."

HEARTBEAT_CLOSE_REASON = "heartbeat timeout"
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
