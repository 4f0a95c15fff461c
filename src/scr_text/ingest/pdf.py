"""PDF (pypdf): text per page, running headers/footers and page numbers dropped, footnotes moved to the end
and note markers set off, hyphenation at line ends undone, typographic ligatures spelt out, paragraphs
rebuilt from the line layout."""
from __future__ import annotations

import io
import re
import unicodedata
from collections import Counter

from scr_text.config import Limits, PdfSettings
from scr_text.errors import IngestError
from scr_text.ingest.text import without_controls

# Typeset reports often map "fi", "ffl" ... to one ligature glyph, which extracts as U+FB01 and the like:
# "signiﬁcant" would match no lemma, phrase or vocabulary entry. Only these are changed: full NFKC would
# also turn footnote markers ("review¹") into digits run into words.
_LIGATURES = {cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFB00, 0xFB07)}
_SOFT_HYPHEN = "\u00ad"  # where a word may break; shown only when it does, at a line end

_PAGE_NUMBER = re.compile(
    r"^\s*(?:page\s+)?[-–—(\[]?\s*\d{1,4}\s*[-–—)\]]?\s*(?:(?:of|/)\s*\d{1,4})?\s*$", re.IGNORECASE
)
_NUMBERED_START = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[•\-–*]|\([a-z0-9]+\))\s+\S")
_SENTENCE_END = re.compile(r"[.!?:;'\"’”)]\s*$")
_PARAGRAPH_START = re.compile(r"\s*[A-Z0-9\"'‘“(\[]")
_HYPHENATED = re.compile(r"[A-Za-z0-9][-\u00ad]$")
# The word before a hyphen that ends a line (itself hyphenated, maybe), and the letters that start the next line.
_LINE_END_PART = re.compile(r"(?:^|[^A-Za-z0-9-])([A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)-$")
_LINE_START_PART = re.compile(r"[a-z]+")
_WORD = re.compile(r"[A-Za-z]+")
_COMPOUND = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)+")
_MARKER = re.compile(r"\d{1,3}|[*†‡]")  # a note marker as drawn, when set small after text
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_NOTE_MARK = re.compile(r"^\s*(?:\d{1,3}\.?|[¹²³⁴⁵⁶⁷⁸⁹⁰]+|[*†‡])\s*[A-Za-z(\"'‘“]")


def read_pdf(data: bytes, path: str, limits: Limits, settings: PdfSettings) -> tuple[str, int]:
    """Return the rebuilt text (paragraphs separated by one blank line) and the number of pages."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    # Readers (Acrobat, pypdf) accept up to 1024 bytes of anything before the header: a mail or web wrapper.
    if data.find(b"%PDF-", 0, 1024) < 0:
        raise IngestError(path, "is not a PDF file (no %PDF- header in its first 1024 bytes)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            # Many PDFs are "encrypted" with an empty user password and open without one.
            try:
                if not reader.decrypt(""):
                    raise IngestError(path, "is an encrypted PDF; remove the password and try again")
            except (FileNotDecryptedError, NotImplementedError) as exc:
                raise IngestError(path, "is an encrypted PDF; remove the password and try again") from exc
            except DependencyError as exc:  # cryptography is a dependency; this is a broken install
                raise IngestError(path, f"is an AES-encrypted PDF and pypdf cannot decrypt it here ({exc})") from exc
        n_pages = len(reader.pages)
        if n_pages == 0:
            raise IngestError(path, "is a PDF with no pages")
        if n_pages > limits.max_pdf_pages:
            raise IngestError(path, f"has {n_pages} pages (limit {limits.max_pdf_pages})")
        pages: list[list[str]] = []
        baselines: list[list[float | None]] = []
        lefts: list[list[float | None]] = []
        sizes: dict[tuple[int, int], float] = {}  # (page, line) -> font size, where known
        total = 0
        for number, page in enumerate(reader.pages):
            lines, line_baselines, line_sizes, line_lefts = _page_lines(page)
            total += sum(len(ln) for ln in lines)
            if total > limits.max_text_chars:
                raise IngestError(path, f"extracts to more than {limits.max_text_chars} characters (limit)")
            pages.append(lines)
            baselines.append(line_baselines)
            lefts.append(line_lefts)
            sizes.update({(number, i): size for i, size in enumerate(line_sizes) if size})
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise IngestError(path, f"is a damaged or truncated PDF ({exc.__class__.__name__})") from exc
    except Exception as exc:  # pypdf raises a wide range on hostile input; none may escape as a crash
        raise IngestError(path, f"cannot be read as a PDF ({exc.__class__.__name__})") from exc

    gaps = (_gaps(baselines, settings.paragraph_gap) | _before_indents(pages, lefts, sizes)
            | _column_ends(pages, baselines, sizes))
    pages, notes = _strip_page_furniture(pages, gaps, _small_print(pages, sizes), settings)
    # Footnotes go after the body, so that a paragraph running on to the next page stays whole.
    text = "\n\n".join(t for t in (_rebuild_paragraphs(pages, settings.compound_heads),
                                    _rebuild_paragraphs([notes], settings.compound_heads)) if t)
    text = without_controls(text.translate(_LIGATURES).replace(_SOFT_HYPHEN, ""))  # a soft hyphen inside a line is invisible
    if not text.strip():
        raise IngestError(path, "has no extractable text (a scanned PDF needs OCR first)")
    return text, n_pages


def _page_lines(page) -> tuple[list[str], list[float | None], list[float | None], list[float | None]]:
    """The page's text lines (pypdf's own line building, note markers set off), each line's baseline, its font
    size (its largest) and where it starts on the left; None where the line could not be matched to the
    drawing operations."""
    # Per visual line: text without spaces, baseline y, font size, the note markers in it as (offset into
    # that text, length), and its leftmost x.
    visual: list[tuple[str, float, float, list[tuple[int, int]], float]] = []

    def visit(text, cm, tm, _font, font_size):
        if not text.strip():
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        size = abs(font_size * tm[3] * cm[3])  # the text matrix and page transform scale the nominal size
        key = re.sub(r"\s+", "", text)
        if visual and abs(visual[-1][1] - y) < 0.5 * max(visual[-1][2], size):  # a superscript sits a little higher
            line, line_y, line_size, marks, left = visual[-1]
            if _MARKER.fullmatch(key) and size < 0.85 * line_size:  # small digits after text: a note marker
                marks = marks + [(len(line), len(key))]
            visual[-1] = (line + key, y if size > line_size else line_y, max(line_size, size), marks, min(left, x))
        else:
            visual.append((key, y, size, [], x))

    text = page.extract_text(visitor_text=visit) or ""
    lines = [ln for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if ln.strip()]
    # Give each extracted line the baseline, size and markers of the visual line with the same characters.
    found: dict[str, list[tuple[float, float, list[tuple[int, int]], float]]] = {}
    for key, y, size, marks, left in visual:
        found.setdefault(key, []).append((y, size, marks, left))
    matched = [found[k].pop(0) if found.get(k) else (None, None, [], None)
               for k in (re.sub(r"\s+", "", ln) for ln in lines)]
    lines = [_set_off_markers(ln, marks) if marks else ln for ln, (_, _, marks, _) in zip(lines, matched)]
    return lines, [m[0] for m in matched], [m[1] for m in matched], [m[3] for m in matched]


def _gaps(baselines: list[list[float | None]], ratio: float) -> set[tuple[int, int]]:
    """(page, line) of the lines followed by a vertical step over ``ratio`` times the document's usual line
    spacing: the layout's paragraph breaks. The spacing is the whole document's, not each page's: on a short
    last page of one-line paragraphs the paragraph spacing is the commonest step, and no gap would show."""
    def steps(ys):
        return [(i, a - b) for i, (a, b) in enumerate(zip(ys, ys[1:])) if a is not None and b is not None and a > b]

    per_page = [steps(ys) for ys in baselines]
    every = sorted(step for page in per_page for _, step in page)
    if len(every) < 2:
        return set()
    usual = every[len(every) // 2]
    # Spacing set tighter than ``ratio`` (a 1.6 line height with 4 pt between paragraphs: 1.17) still shows as
    # the widest jump between the distinct steps from the usual one up to ``ratio``: cut there, but never
    # nearer the usual step than 1.1 times it, which line-height jitter alone can reach.
    cut = ratio * usual
    ladder = sorted({round(x / usual, 2) for x in every if usual <= x <= cut})
    if len(ladder) > 1:
        jump, low, high = max((b / a, a, b) for a, b in zip(ladder, ladder[1:]))
        if high > 1.1 and jump > 1.05:
            cut = min(cut, max(1.1, (low + high) / 2) * usual)
    return {(p, i) for p, page in enumerate(per_page) for i, step in page if step > cut}


def _column_ends(pages: list[list[str]], baselines: list[list[float | None]],
                 sizes: dict[tuple[int, int], float]) -> set[tuple[int, int]]:
    """(page, line) of the lines at the foot of a column (the text goes on more than a line higher up the
    page) that end a paragraph as a page's last line does: the line closes a sentence and the next does not
    go on in lower case."""
    return {(p, i) for p, (lines, ys) in enumerate(zip(pages, baselines)) for i in range(len(lines) - 1)
            if ys[i] is not None and ys[i + 1] is not None and ys[i + 1] - ys[i] > sizes.get((p, i), 10.0)
            and _may_end_paragraph(lines[i], lines[i + 1].lstrip())}


def _may_end_paragraph(line: str, nxt: str) -> bool:
    """Whether a paragraph may end with ``line`` where nothing on the page shows it (at the end of a page or
    of a column): the line closes a sentence and the next line does not go on in lower case."""
    return _SENTENCE_END.search(line.rstrip("\n")) is not None and not nxt[:1].islower()


def _before_indents(pages: list[list[str]], lefts: list[list[float | None]],
                    sizes: dict[tuple[int, int], float]) -> set[tuple[int, int]]:
    """(page, line) of the lines followed by a paragraph whose first line is indented, in a layout that marks
    paragraphs so rather than with space between them: the next line starts between half an em and four ems
    right of the page's usual left edge (further is centred or in another column), begins a sentence, and
    this line closes one (the continuation lines of a list item, hung under its text, do not)."""
    out = set()
    for p, (lines, xs) in enumerate(zip(pages, lefts)):
        known = [round(x) for x in xs if x is not None]
        if len(known) < 5:
            continue
        left = Counter(known).most_common(1)[0][0]
        for i in range(1, len(lines)):
            x, size = xs[i], sizes.get((p, i), 10.0)
            if (x is not None and 0.5 * size < x - left < 4 * size and _PARAGRAPH_START.match(lines[i])
                    and _SENTENCE_END.search(lines[i - 1])):
                out.add((p, i - 1))
    return out


def _set_off_markers(line: str, marks: list[tuple[int, int]]) -> str:
    """Write each note marker as superscript after a space: extraction runs "proceedings" and its
    marker "1" together as "proceedings1", which no lemma, phrase or vocabulary entry would match.
    ``marks`` are (offset, length) in the line's characters without spaces."""
    starts = dict(marks)
    out: list[str] = []
    seen = 0  # non-space characters passed
    left = 0  # marker characters still to write
    for ch in line:
        if not ch.isspace():
            if seen in starts:
                left = starts[seen]
                if out and not out[-1].isspace():
                    out.append(" ")
            seen += 1
            if left:
                ch, left = ch.translate(_SUPERSCRIPT), left - 1
        out.append(ch)
    return "".join(out)


def _small_print(pages: list[list[str]], sizes: dict[tuple[int, int], float]) -> set[tuple[int, int]]:
    """(page, line) of the lines set well below the body text's size (the size most characters have)."""
    by_size: Counter[float] = Counter()
    for (p, i), size in sizes.items():
        by_size[round(size, 1)] += len(pages[p][i])
    if not by_size:
        return set()
    body = by_size.most_common(1)[0][0]
    return {key for key, size in sizes.items() if size < 0.85 * body}


def _norm(line: str) -> str:
    # Running headers often carry the page number: compare them with digits masked.
    return re.sub(r"\d+", "#", line.strip().lower())


def _strip_page_furniture(pages: list[list[str]], breaks: set[tuple[int, int]], small: set[tuple[int, int]],
                         settings: PdfSettings) -> tuple[list[list[str]], list[str]]:
    """Drop the running headers and footers (lines that recur at the top or bottom of most pages) and
    page numbers, and take out the footnotes: small-print lines ending a page, from the first that starts
    with a note marker. Returns the pages and the footnotes. A line after which the layout leaves a gap is
    marked with a trailing newline for ``_rebuild_paragraphs``, as is each page's last footnote line."""
    stripped_pages = [
        [ln.rstrip() + ("\n" if (p, i) in breaks else "") for i, ln in enumerate(page)] for p, page in enumerate(pages)
    ]
    edge = settings.edge_lines
    running = _running_lines(stripped_pages, edge, settings.repeated_line_min_share)

    def kept(lines: list[str], running: set[str]) -> list[int]:
        return [i for i, line in enumerate(lines)
                if not ((i < edge or i >= len(lines) - edge) and (_norm(line) in running or _PAGE_NUMBER.match(line)))]

    if not any(kept(lines, running) for lines in stripped_pages):
        running = set()  # the recurring line is all the text there is: it is the text, not a running head
    cleaned, notes = [], []
    for p, lines in enumerate(stripped_pages):
        keep = kept(lines, running)
        body = len(keep)
        while body and (p, keep[body - 1]) in small:
            body -= 1
        if body == 0:  # a page all in small print is body text, not footnotes
            body = len(keep)
        # Footnotes begin at a note marker; small print above the first (a caption, a table) stays.
        while body < len(keep) and not _NOTE_MARK.match(lines[keep[body]]):
            body += 1
        page_text = [lines[i] for i in keep[:body]]
        page_notes = [lines[i] for i in keep[body:]]
        if page_notes:
            notes += page_notes[:-1] + [page_notes[-1].rstrip("\n") + "\n"]
        cleaned.append(page_text)
    # A page's end (with or without a footer or footnotes below its last line of text) is no paragraph
    # break where the text plainly runs on: the line does not close a sentence, or the next page starts in
    # lower case. Otherwise it is a break: a page may end a paragraph as well as cut one.
    following = [page[0] if page else "" for page in cleaned[1:]] + [""]
    for page, nxt in zip(cleaned, following):
        if page:
            page[-1] = page[-1].rstrip("\n") + ("\n" if _may_end_paragraph(page[-1], nxt) else "")
    return cleaned, notes


def _running_lines(pages: list[list[str]], edge: int, min_share: float) -> set[str]:
    """Lines (digits masked) that recur near the top or bottom of at least ``min_share`` of the pages, or of
    the odd pages or of the even pages alone (books and reports alternate their running heads), twice at least."""
    running: set[str] = set()
    for group in (pages, pages[0::2], pages[1::2]):
        counts: Counter[str] = Counter()
        for lines in group:
            counts.update({_norm(ln) for ln in lines[:edge] + lines[-edge:]})
        threshold = max(2, min_share * len(group))
        running |= {key for key, n in counts.items() if n >= threshold}
    return running if len(pages) > 1 else set()


def _rebuild_paragraphs(pages: list[list[str]], compound_heads=()) -> str:
    """Join lines into paragraphs: a paragraph ends at a short line that closes a sentence,
    at a short heading-like line, or before a numbered line; it may continue across a page."""
    lines = [ln for page in pages for ln in page]
    if not lines:
        return ""
    lengths = sorted(len(ln.rstrip("\n")) for ln in lines)
    full = lengths[int(0.8 * (len(lengths) - 1))] or 1  # a typical full line

    words = _InLineWords(lines, compound_heads)
    paragraphs: list[str] = []
    current = ""
    for i, raw in enumerate(lines):
        gap_after = raw.endswith("\n")
        raw = raw.rstrip("\n")
        line = raw.strip()
        if current:
            if _HYPHENATED.search(current):
                if current.endswith(_SOFT_HYPHEN) or words.breaks_word(current, line):
                    current = current[:-1] + line  # undo a line-end hyphenation (a soft hyphen is always one)
                else:
                    current += line  # a compound's own hyphen ("non-" "molestation"): the word runs on
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


class _InLineWords:
    """The words and hyphenated compounds a document uses inside its lines, to tell a hyphen that breaks a
    word at a line end ("profes-" "sional") from one that belongs to a compound the line happens to end in
    ("non-" "molestation"). Word processors and browsers do not hyphenate by default, so in most reviews a
    line-end hyphen is a compound's; typesetting software does. The document's own usage decides: the same
    word written elsewhere with the hyphen or without it, else what such evidence says of its other
    line-end hyphens (whether it hyphenates at all), else whether either part is a word it uses. Before
    the last two, a number ("15-" "year-old") or a compound's first part ("non-", "low-"; the
    ``pdf.compound_heads`` setting) keeps its hyphen."""

    def __init__(self, lines: list[str], compound_heads=()):
        self.compound_heads = {h.lower() for h in compound_heads}
        lines = [ln.rstrip("\n").strip() for ln in lines]
        inner = []
        for i, line in enumerate(lines):
            if line.endswith("-"):  # leave out the pieces of words broken across lines
                line = line.rsplit(None, 1)[0] if " " in line else ""
            if i and lines[i - 1].endswith("-"):
                line = line.split(None, 1)[1] if " " in line else ""
            inner.append(line.lower())
        text = " ".join(inner)
        compounds = [c.split("-") for c in _COMPOUND.findall(text)]
        self.pairs = {f"{a}-{b}" for parts in compounds for a, b in zip(parts, parts[1:])}  # "multi-agency"
        self.heads = {parts[0] for parts in compounds}  # "non" of "non-accidental"
        self.words = set(_WORD.findall(_COMPOUND.sub(" ", text)))
        found = [self._evidence(a, b) for a, b in zip(lines, lines[1:])]
        self.hyphenates = found.count(True) > found.count(False)  # more breaks than compounds where known
        self.compound_seen = False in found

    def _parts(self, current: str, line: str) -> tuple[str, str] | None:
        head, tail = _LINE_END_PART.search(current), _LINE_START_PART.match(line)
        return (head.group(1).lower(), tail.group(0)) if head and tail else None

    def _evidence(self, current: str, line: str) -> bool | None:
        """True: written as one word elsewhere; False: written as a compound elsewhere, a number or a word that
        is hyphenated already, or the head is a prefix the document hyphenates ("non-", "multi-"); None: the
        document does not say."""
        parts = self._parts(current, line)
        if parts is None:
            return None
        head, tail = parts
        if not head.isalpha():
            return False  # "fifteen-year-" "old" is already a compound; "15-" "year-old" no word broken
        if f"{head}-{tail}" in self.pairs:
            return False
        if head + tail in self.words:
            return True
        return False if head in self.heads else None

    def breaks_word(self, current: str, line: str) -> bool:
        """Whether the hyphen ending ``current`` breaks a word that ``line`` completes (and is to go)."""
        if not line[:1].islower():
            return False  # "mid-" "January"
        found = self._evidence(current, line)
        if found is not None:
            return found
        head, tail = self._parts(current, line) or ("", "")
        if head in self.compound_heads:
            return False
        if self.hyphenates or self.compound_seen:
            return self.hyphenates
        return not (head in self.words or tail in self.words)  # "profes-" "sional" is neither
