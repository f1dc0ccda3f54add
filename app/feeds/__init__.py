"""Async venue clients: connect, authenticate, subscribe, keep alive, parse into events. No Qt."""
