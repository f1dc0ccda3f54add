"""Partial-message metadata (keys, types, foreignKeys, attributes) of the simulated tables."""

from __future__ import annotations

from typing import Any

from app.sim.bitmex.constants import (
    BIN_TABLES,
    T_EXECUTION,
    T_FUNDING,
    T_INSTRUMENT,
    T_L2,
    T_L2_25,
    T_LIQUIDATION,
    T_MARGIN,
    T_OB10,
    T_ORDER,
    T_POSITION,
    T_QUOTE,
    T_TRADE,
    T_WALLET,
)

L2_META: dict[str, Any] = {
    "keys": ["symbol", "id", "side"],
    "types": {
        "symbol": "symbol",
        "id": "long",
        "side": "symbol",
        "size": "long",
        "price": "float",
        "timestamp": "timestamp",
    },
    "foreignKeys": {"symbol": "instrument", "side": "side"},
    "attributes": {"symbol": "grouped"},
}
OB10_META: dict[str, Any] = {
    "keys": ["symbol"],
    "types": {"symbol": "symbol", "bids": "", "asks": "", "timestamp": "timestamp"},
    "foreignKeys": {"symbol": "instrument"},
    "attributes": {"symbol": "sorted"},
}
QUOTE_META: dict[str, Any] = {
    "keys": [],
    "types": {
        "timestamp": "timestamp",
        "symbol": "symbol",
        "bidSize": "long",
        "bidPrice": "float",
        "askPrice": "float",
        "askSize": "long",
    },
    "foreignKeys": {"symbol": "instrument"},
    "attributes": {"timestamp": "sorted", "symbol": "grouped"},
}
TRADE_META: dict[str, Any] = {
    "keys": [],
    "types": {
        "timestamp": "timestamp",
        "symbol": "symbol",
        "side": "symbol",
        "size": "long",
        "price": "float",
        "tickDirection": "symbol",
        "trdMatchID": "guid",
        "grossValue": "long",
        "homeNotional": "float",
        "foreignNotional": "float",
        "trdType": "symbol",
    },
    "foreignKeys": {"symbol": "instrument", "side": "side"},
    "attributes": {"timestamp": "sorted", "symbol": "grouped"},
}
BIN_META: dict[str, Any] = {
    "keys": [],
    "types": {
        "timestamp": "timestamp",
        "symbol": "symbol",
        "open": "float",
        "high": "float",
        "low": "float",
        "close": "float",
        "trades": "long",
        "volume": "long",
        "vwap": "float",
        "lastSize": "long",
        "turnover": "long",
        "homeNotional": "float",
        "foreignNotional": "float",
    },
    "foreignKeys": {"symbol": "instrument"},
    "attributes": {"timestamp": "sorted", "symbol": "grouped"},
}
INSTRUMENT_META: dict[str, Any] = {
    "keys": ["symbol"],
    "types": {
        "symbol": "symbol",
        "tickSize": "float",
        "lotSize": "long",
        "multiplier": "long",
        "lastPrice": "float",
        "markPrice": "float",
        "fairPrice": "float",
        "fundingRate": "float",
        "openInterest": "long",
        "timestamp": "timestamp",
    },
    "foreignKeys": {},
    "attributes": {"symbol": "unique"},
}
FUNDING_META: dict[str, Any] = {
    "keys": [],
    "types": {
        "timestamp": "timestamp",
        "symbol": "symbol",
        "fundingInterval": "timespan",
        "fundingRate": "float",
        "fundingRateDaily": "float",
    },
    "foreignKeys": {"symbol": "instrument"},
    "attributes": {"timestamp": "sorted", "symbol": "grouped"},
}
LIQUIDATION_META: dict[str, Any] = {
    "keys": ["orderID"],
    "types": {
        "orderID": "guid",
        "symbol": "symbol",
        "side": "symbol",
        "price": "float",
        "leavesQty": "long",
    },
    "foreignKeys": {"symbol": "instrument", "side": "side"},
    "attributes": {"orderID": "grouped"},
}
ORDER_META: dict[str, Any] = {
    "keys": ["orderID"],
    "types": {
        "orderID": "guid",
        "account": "long",
        "symbol": "symbol",
        "side": "symbol",
        "orderQty": "long",
        "price": "float",
        "ordStatus": "symbol",
        "leavesQty": "long",
        "cumQty": "long",
        "avgPx": "float",
        "timestamp": "timestamp",
    },
    "foreignKeys": {"symbol": "instrument", "side": "side", "ordStatus": "ordStatus"},
    "attributes": {
        "orderID": "grouped",
        "account": "grouped",
        "ordStatus": "grouped",
        "workingIndicator": "grouped",
    },
}
EXECUTION_META: dict[str, Any] = {
    "keys": ["execID"],
    "types": {
        "execID": "guid",
        "orderID": "guid",
        "account": "long",
        "symbol": "symbol",
        "side": "symbol",
        "lastQty": "long",
        "lastPx": "float",
        "execType": "symbol",
        "commission": "float",
        "execCost": "long",
        "execComm": "long",
        "timestamp": "timestamp",
    },
    "foreignKeys": {"symbol": "instrument", "side": "side", "ordStatus": "ordStatus"},
    "attributes": {
        "execID": "grouped",
        "account": "grouped",
        "execType": "grouped",
        "transactTime": "sorted",
    },
}
POSITION_META: dict[str, Any] = {
    "keys": ["account", "symbol", "currency"],
    "types": {
        "account": "long",
        "symbol": "symbol",
        "currency": "symbol",
        "currentQty": "long",
        "avgEntryPrice": "float",
        "markPrice": "float",
        "unrealisedPnl": "long",
        "liquidationPrice": "float",
        "leverage": "float",
        "timestamp": "timestamp",
    },
    "foreignKeys": {"symbol": "instrument"},
    "attributes": {
        "account": "sorted",
        "symbol": "grouped",
        "currency": "grouped",
        "underlying": "grouped",
        "quoteCurrency": "grouped",
    },
}
MARGIN_META: dict[str, Any] = {
    "keys": ["account", "currency"],
    "types": {
        "account": "long",
        "currency": "symbol",
        "walletBalance": "long",
        "marginBalance": "long",
        "availableMargin": "long",
        "timestamp": "timestamp",
    },
    "foreignKeys": {},
    "attributes": {"account": "sorted", "currency": "grouped"},
}
WALLET_META: dict[str, Any] = {
    "keys": ["account", "currency"],
    "types": {"account": "long", "currency": "symbol", "amount": "long", "timestamp": "timestamp"},
    "foreignKeys": {},
    "attributes": {"account": "sorted", "currency": "grouped"},
}
QUIET_META: dict[str, Any] = {"keys": [], "types": {}, "foreignKeys": {}, "attributes": {}}

PUBLIC_META: dict[str, dict[str, Any]] = {
    T_L2: L2_META,
    T_L2_25: L2_META,
    T_OB10: OB10_META,
    T_QUOTE: QUOTE_META,
    T_TRADE: TRADE_META,
    T_INSTRUMENT: INSTRUMENT_META,
    T_FUNDING: FUNDING_META,
    T_LIQUIDATION: LIQUIDATION_META,
    **dict.fromkeys(BIN_TABLES, BIN_META),
}
PRIVATE_META: dict[str, dict[str, Any]] = {
    T_ORDER: ORDER_META,
    T_EXECUTION: EXECUTION_META,
    T_POSITION: POSITION_META,
    T_MARGIN: MARGIN_META,
    T_WALLET: WALLET_META,
}
