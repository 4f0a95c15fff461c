"""Plain text and Markdown: decode the bytes sensibly, keep the text as Python reads it."""
from __future__ import annotations

import codecs

from ..errors import IngestError

# Control characters that do not occur in real prose; a file full of them is binary.
_TEXT_CONTROLS = {"\t", "\n", "\r", "\f", "\v"}


def _decode(data: bytes, path: str) -> str:
    if data.startswith(codecs.BOM_UTF8):
        # Kept, as U+FEFF at offset 0: Python's own UTF-8 read keeps it, and offsets index that text (the
        # segmenter leaves it out of the first passage).
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise IngestError(path, "has a UTF-8 byte-order mark but is not valid UTF-8") from exc
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise IngestError(path, "has a UTF-16 byte-order mark but is not valid UTF-16") from exc
    if b"\x00" in data[:4096]:
        # UTF-16 without a BOM shows as every other byte zero in English text.
        sample = data[:4096]
        even_zeros = sample[0::2].count(0)
        odd_zeros = sample[1::2].count(0)
        half = len(sample) // 2 or 1
        if odd_zeros / half > 0.4 and even_zeros / half < 0.05:
            return _strict(data, "utf-16-le", path)
        if even_zeros / half > 0.4 and odd_zeros / half < 0.05:
            return _strict(data, "utf-16-be", path)
        raise IngestError(path, "looks like a binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Not UTF-8: Windows-1252 is the superset of Latin-1 that Word users produce; every
    # byte outside its five holes decodes, so fall back to Latin-1 for those.
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _strict(data: bytes, encoding: str, path: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise IngestError(path, f"is neither UTF-8 nor valid {encoding}") from exc


def read_text(data: bytes, path: str) -> str:
    """Decode ``data`` and translate newlines as Python's text mode does (\\r\\n and \\r -> \\n),
    so that offsets index the text a user gets from ``open(path).read()``."""
    text = _decode(data, path)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    controls = sum(1 for ch in text[:20000] if ch < " " and ch not in _TEXT_CONTROLS)
    if controls > max(8, len(text[:20000]) // 100):
        raise IngestError(path, "looks like a binary file, not text")
    return text
