"""Plain-Python stores fed by feed events: books, tape, candles, instruments, account. No Qt."""

from app.state.account import (
    AccountStore,
    ExecutionView,
    MarginView,
    OrderView,
    PositionView,
    WalletView,
)
from app.state.book import L2Book
from app.state.candles import TIMEFRAMES, CandleSeries, CandleStore
from app.state.instruments import InstrumentStore
from app.state.liquidations import LiquidationRow, LiquidationStore
from app.state.market import MarketState
from app.state.tape import TapeRow, TradeTape
from app.state.volume import VolumeAtPrice

__all__ = [
    "TIMEFRAMES",
    "AccountStore",
    "CandleSeries",
    "CandleStore",
    "ExecutionView",
    "InstrumentStore",
    "L2Book",
    "LiquidationRow",
    "LiquidationStore",
    "MarginView",
    "MarketState",
    "OrderView",
    "PositionView",
    "TapeRow",
    "TradeTape",
    "VolumeAtPrice",
    "WalletView",
]
