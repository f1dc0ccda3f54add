"""Simulator front-ends speaking the BitMart legacy and v3 protocols."""
