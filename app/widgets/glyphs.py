"""Typographic characters used in cell texts (escaped so linters never mistake them)."""

TIMES = "\u00d7"  # multiplication sign: "x3" prints, "10x" leverage
EN_DASH = "\u2013"  # "no value"
MINUS = "\u2212"
SIGMA = "\u03a3"
