"""BitMEX realtime WebSocket feed: constants, authentication, table engine and client."""
