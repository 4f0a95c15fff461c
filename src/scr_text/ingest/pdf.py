"""PDF (pypdf): text per page, running headers/footers and page numbers dropped,
hyphenation at line ends undone, typographic ligatures spelt out, paragraphs rebuilt from the line layout."""
from __future__ import annotations

import io
import re
import unicodedata
from collections import Counter

from ..config import Limits, PdfSettings
from ..errors import IngestError

# Typeset reports often map "fi", "ffl" ... to one ligature glyph, which extracts as U+FB01 and the like:
# "signiﬁcant" would match no lemma, phrase or vocabulary entry. Only these are changed: full NFKC would
# also turn footnote markers ("review¹") into digits run into words.
_LIGATURES = {cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFB00, 0xFB07)}

_PAGE_NUMBER = re.compile(
    r"^\s*(?:page\s+)?[-–—(\[]?\s*\d{1,4}\s*[-–—)\]]?\s*(?:(?:of|/)\s*\d{1,4})?\s*$", re.IGNORECASE
)
_NUMBERED_START = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[•\-–*]|\([a-z0-9]+\))\s+\S")
_SENTENCE_END = re.compile(r"[.!?:;'\"’”)]\s*$")
_HYPHENATED = re.compile(r"[A-Za-z]-$")


def read_pdf(data: bytes, path: str, limits: Limits, settings: PdfSettings) -> tuple[str, int]:
    """Return the rebuilt text (paragraphs separated by one blank line) and the number of pages."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise IngestError(path, "is not a PDF file")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            # Many PDFs are "encrypted" with an empty user password and open without one.
            try:
                if not reader.decrypt(""):
                    raise IngestError(path, "is an encrypted PDF; remove the password and try again")
            except (FileNotDecryptedError, NotImplementedError) as exc:
                raise IngestError(path, "is an encrypted PDF; remove the password and try again") from exc
        n_pages = len(reader.pages)
        if n_pages == 0:
            raise IngestError(path, "is a PDF with no pages")
        if n_pages > limits.max_pdf_pages:
            raise IngestError(path, f"has {n_pages} pages (limit {limits.max_pdf_pages})")
        pages: list[list[str]] = []
        breaks: set[tuple[int, int]] = set()  # (page, line) after which the layout leaves a gap
        total = 0
        for number, page in enumerate(reader.pages):
            lines, gaps = _page_lines(page)
            total += sum(len(ln) for ln in lines)
            if total > limits.max_text_chars:
                raise IngestError(path, f"extracts to more than {limits.max_text_chars} characters (limit)")
            pages.append(lines)
            breaks.update((number, i) for i in gaps)
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise IngestError(path, f"is a damaged or truncated PDF ({exc.__class__.__name__})") from exc
    except Exception as exc:  # pypdf raises a wide range on hostile input; none may escape as a crash
        raise IngestError(path, f"cannot be read as a PDF ({exc.__class__.__name__})") from exc

    pages = _strip_running_lines(pages, breaks, settings)
    text = _rebuild_paragraphs(pages).translate(_LIGATURES)
    if not text.strip():
        raise IngestError(path, "has no extractable text (a scanned PDF needs OCR first)")
    return text, n_pages


def _page_lines(page) -> tuple[list[str], set[int]]:
    """The page's text lines (pypdf's own line building) and the indexes of lines followed by a
    wider vertical gap than the page's usual line spacing: the layout's paragraph breaks."""
    heights: list[tuple[str, float]] = []  # (text without spaces, baseline y) per visual line

    def visit(text, cm, tm, _font, _size):
        if not text.strip():
            return
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        key = re.sub(r"\s+", "", text)
        if heights and abs(heights[-1][1] - y) < 1.0:
            heights[-1] = (heights[-1][0] + key, y)
        else:
            heights.append((key, y))

    text = page.extract_text(visitor_text=visit) or ""
    lines = [ln for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if ln.strip()]
    # Give each extracted line the baseline of the visual line with the same characters.
    ys: dict[str, list[float]] = {}
    for key, y in heights:
        ys.setdefault(key, []).append(y)
    baselines = [ys[k].pop(0) if ys.get(k) else None for k in (re.sub(r"\s+", "", ln) for ln in lines)]
    steps = [a - b for a, b in zip(baselines, baselines[1:]) if a is not None and b is not None and a > b]
    gaps: set[int] = set()
    if len(steps) >= 2:
        usual = sorted(steps)[len(steps) // 2]
        for i, (a, b) in enumerate(zip(baselines, baselines[1:])):
            if a is not None and b is not None and a - b > 1.35 * usual:
                gaps.add(i)
    return lines, gaps


def _norm(line: str) -> str:
    # Running headers often carry the page number: compare them with digits masked.
    return re.sub(r"\d+", "#", line.strip().lower())


def _strip_running_lines(pages: list[list[str]], breaks: set[tuple[int, int]], settings: PdfSettings) -> list[list[str]]:
    """Drop page numbers and lines that recur at the top or bottom of most pages. A line after
    which the layout leaves a gap is marked with a trailing newline for ``_rebuild_paragraphs``."""
    stripped_pages = [
        [ln.rstrip() + ("\n" if (p, i) in breaks else "") for i, ln in enumerate(page)] for p, page in enumerate(pages)
    ]
    edge = settings.edge_lines
    counts: Counter[str] = Counter()
    for lines in stripped_pages:
        counts.update({_norm(ln) for ln in lines[:edge] + lines[-edge:]})
    threshold = max(2, settings.repeated_line_min_share * len(pages))
    running = {key for key, n in counts.items() if n >= threshold and len(pages) > 1}

    cleaned = []
    for lines in stripped_pages:
        keep = []
        for i, line in enumerate(lines):
            at_edge = i < edge or i >= len(lines) - edge
            if at_edge and (_norm(line) in running or _PAGE_NUMBER.match(line)):
                continue
            keep.append(line)
        cleaned.append(keep)
    return cleaned


def _rebuild_paragraphs(pages: list[list[str]]) -> str:
    """Join lines into paragraphs: a paragraph ends at a short line that closes a sentence,
    at a short heading-like line, or before a numbered line; it may continue across a page."""
    lines = [ln for page in pages for ln in page]
    if not lines:
        return ""
    lengths = sorted(len(ln.rstrip("\n")) for ln in lines)
    full = lengths[int(0.8 * (len(lengths) - 1))] or 1  # a typical full line

    paragraphs: list[str] = []
    current = ""
    for i, raw in enumerate(lines):
        gap_after = raw.endswith("\n")
        raw = raw.rstrip("\n")
        line = raw.strip()
        if current:
            if _HYPHENATED.search(current) and line[:1].islower():
                current = current[:-1] + line  # undo a line-end hyphenation
            else:
                current = f"{current} {line}"
        else:
            current = line
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        short = len(raw) < 0.8 * full
        ends = (
            gap_after
            or not nxt
            or (_SENTENCE_END.search(line) is not None and _NUMBERED_START.match(nxt) is not None)
            or (short and _SENTENCE_END.search(line) is not None)
            or (len(raw) < 0.5 * full and not line.endswith((",", "-")))
            or (short and _NUMBERED_START.match(nxt) is not None)
        )
        if ends:
            paragraphs.append(re.sub(r"\s+", " ", current).strip())
            current = ""
    return "\n\n".join(p for p in paragraphs if p)
