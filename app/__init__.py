"""Depthdesk: a desktop trading-data terminal for BitMEX and BitMart."""

__version__ = "0.1.0"
