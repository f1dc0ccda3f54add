"""The BitMEX realtime wire protocol front-end of the simulator."""
