"""REFI-QDA selection positions, in the exporting tool's units, as offsets into the text scr-text stores.

Tools count differently. NVivo (and other .NET and Qt tools) count UTF-16 code units, so a character
outside the Basic Multilingual Plane (an emoji) counts two; Python tools (QualCoder, scr-text) count code
points. Line ends may be counted as stored in the source file, as one character, or as two (MAXQDA
expects CR LF). A leading byte-order mark is never text and counts nothing.

``Convention`` names one way of counting; ``PositionMap`` converts a tool position to an offset, or
says it falls inside a character. Which convention a project uses comes from its exporter (the
``coding.qdpx_units`` table in the pipeline config), and is checked against the selected text wherever
the project gives it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from scr_text.records import BYTE_ORDER_MARK

UNITS = ("utf16", "codepoints")
LINE_ENDS = ("stored", "lf", "crlf")


@dataclass(frozen=True)
class Convention:
    units: str  # "utf16" | "codepoints"
    line_ends: str  # "stored" | "lf" | "crlf"

    def __str__(self) -> str:
        ends = {"stored": "line ends as stored", "lf": "line ends as one", "crlf": "line ends as two"}[self.line_ends]
        return f"{'UTF-16 code units' if self.units == 'utf16' else 'code points'}, {ends}"


ALL_CONVENTIONS = [Convention(u, e) for u in UNITS for e in LINE_ENDS]


def normalise(raw: str) -> str:
    """The text as scr-text stores it: line ends as \\n (a leading byte-order mark is kept, as on ingest)."""
    return raw.replace("\r\n", "\n").replace("\r", "\n")


class PositionMap:
    """Tool positions -> offsets into ``normalise(raw)`` under one convention."""

    def __init__(self, raw: str, convention: Convention):
        widths = []
        i = 0
        while i < len(raw):
            ch = raw[i]
            if ch == "\r" and raw[i + 1:i + 2] == "\n":
                stored, i = 2, i + 2
            elif ch in "\r\n":
                stored, i = 1, i + 1
            else:
                stored, i = 0, i + 1
            if stored:
                widths.append({"stored": stored, "lf": 1, "crlf": 2}[convention.line_ends])
            elif ch == BYTE_ORDER_MARK and not widths:
                widths.append(0)
            else:
                widths.append(2 if convention.units == "utf16" and ord(ch) > 0xFFFF else 1)
        # starts[k]: the tool position where normalised character k begins (the last entry: the end).
        self.starts = np.concatenate([[0], np.cumsum(widths)]).astype(np.int64)
        self.skip_leading = int(len(widths) > 0 and widths[0] == 0)

    def offset(self, position: int) -> int | None:
        """The offset where ``position`` falls, or None (past the end, or inside one character)."""
        k = int(np.searchsorted(self.starts, position, side="left"))
        if k >= len(self.starts) or self.starts[k] != position:
            return None
        # A zero-width leading mark shares position 0 with the first character: start after it.
        return max(k, self.skip_leading) if position == 0 else k

    def span(self, start: int, end: int) -> tuple[int, int] | None:
        a, b = self.offset(start), self.offset(end)
        return (a, b) if a is not None and b is not None and a < b else None


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def text_matches(given: str, selected: str) -> bool:
    """Whether a project's text for a selection (its name or description) is the text at its positions.
    Tools shorten long names, so a long enough prefix, or one ending in an ellipsis, counts."""
    g, s = _squash(given), _squash(selected)
    if len(g) < 3:
        return False
    if g == s:
        return True
    if g.endswith(("…", "...")):
        g = g.rstrip(".…").rstrip()
        return len(g) >= 3 and s.startswith(g)
    return len(g) >= 20 and s.startswith(g)
