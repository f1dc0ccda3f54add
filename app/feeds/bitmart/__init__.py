"""BitMart feeds: the legacy openws protocol and the current v3 spot protocol."""
