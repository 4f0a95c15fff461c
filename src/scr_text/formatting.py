"""How figures are printed, one way for every report and card."""
from __future__ import annotations


def format_number(value, width: int = 0) -> str:
    """A metric to three decimals, or n/a where it is undefined (None)."""
    return f"{'n/a':>{width}}" if value is None else f"{value:>{width}.3f}"
