"""Plain text and Markdown: decode the bytes sensibly, keep the text as Python reads it."""
from __future__ import annotations

import codecs
import re

from scr_text.errors import IngestError

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


# C0 controls other than tab and newline, DEL and C1 controls: never prose, and a NUL cuts text in other tools.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def without_controls(text: str) -> str:
    """Extracted text (PDF, DOCX) without control characters; a form feed or vertical tab becomes a newline."""
    return _CONTROLS.sub("", text.replace("\f", "\n").replace("\v", "\n"))


# UTF-8 read as Windows-1252 ("â€™" for "’", "Ã©" for "é"), the Unicode replacement character and the
# private-use area (glyphs a PDF font maps to no character): the marks of text that did not extract.
_MOJIBAKE = re.compile(r"[ÃÂâ][\u0080-\u00bf\u20ac\u201a-\u2122\u0152\u0153\u0160\u0161\u0178\u017d\u017e]")
_UNDECODED = re.compile(r"[\ufffd\ue000-\uf8ff]")


def garbled_warning(text: str, max_share: float) -> str | None:
    """A warning when more than ``max_share`` of the text's non-space characters look mis-decoded."""
    chars = sum(1 for ch in text if not ch.isspace()) or 1
    mojibake, undecoded = len(_MOJIBAKE.findall(text)), len(_UNDECODED.findall(text))
    letters = sum(1 for ch in text if ch.isalpha())
    if undecoded / chars > max_share:
        return (f"{undecoded} characters did not extract (replacement or private-use characters: a font without "
                "a text mapping?); check the stored text, or OCR the file")
    if 2 * mojibake / chars > max_share:
        return f"looks mis-decoded ({mojibake} sequences such as 'â€™' for an apostrophe); check the stored text"
    if letters / chars < 0.5:
        return f"only {letters / chars:.0%} of its characters are letters: the text may be garbled; check the stored text"
    return None
