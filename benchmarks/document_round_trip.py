"""Check, not part of the pipeline: do the PDF and DOCX readers give back the paragraphs a review was written in?

Each review of a corpus (paragraphs separated by blank lines) is typeset as a PDF (running header, page
numbers, page breaks where they fall), as a Word file (and as one whose "1." and "1.1" are Word's automatic
numbers, not text), and as a web page printed to PDF by Chromium, with the test suite's document makers
(`tests/docmaker.py`: fpdf2, python-docx, Playwright driving Debian's Chromium), read back with
`scr_text.ingest`, and its paragraphs compared with the original's. Prints, per format, how many reviews come
back paragraph for paragraph, and for the others the first paragraphs that differ. Chromium, like a word
processor, breaks lines after a compound's hyphen ("non-" | "molestation"), which fpdf2 never does; it also
prints each review with paragraphs marked by first-line indents alone, and in two columns.

    .venv/bin/python benchmarks/document_round_trip.py [--corpus corpora/dev] [--paragraph-space MM]
"""
from __future__ import annotations

import argparse
import difflib
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

COLUMNS = "body { column-count: 2; column-gap: 1cm; } p { margin: 0 0 6pt 0; }"  # a two-column layout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=Path("corpora/dev"))
    ap.add_argument("--paragraph-space", type=float, default=4, help="PDF: mm between paragraphs (lines are 6 mm)")
    ap.add_argument("--font", type=Path, default=Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
                    help="PDF: TrueType font for the text (Debian's fonts-dejavu-core; the reviews use dashes "
                         "and curly quotes)")
    args = ap.parse_args()
    if not args.font.is_file():
        raise SystemExit(f"{args.font}: no such font (apt-get install fonts-dejavu-core, or give --font)")

    from playwright.sync_api import sync_playwright

    from docmaker import make_browser_pdf, make_docx, make_numbered_docx, make_pdf
    from scr_text import ingest
    from scr_text.config import load_settings

    settings = load_settings()
    files = sorted((args.corpus / "texts").glob("*.txt"))
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        makers = {"pdf": lambda path, paragraphs: make_pdf(path, paragraphs, paragraph_space=args.paragraph_space,
                                                         font=args.font),
                  "docx": make_docx,
                  "numbered.docx": make_numbered_docx,
                  "browser.pdf": lambda path, paragraphs: make_browser_pdf(browser, path, paragraphs),
                  # Paragraphs marked by indenting their first line, with no space between them.
                  "indented.pdf": lambda path, paragraphs: make_browser_pdf(
                      browser, path, paragraphs, css="p { margin: 0; text-indent: 1.5em; }"),
                  "columns.pdf": lambda path, paragraphs: make_browser_pdf(
                      browser, path, paragraphs, css=COLUMNS)}
        same = dict.fromkeys(makers, 0)
        for f in files:
            paragraphs = [" ".join(p.split()) for p in f.read_text(encoding="utf-8").split("\n\n") if p.strip()]
            for kind, make in makers.items():
                back = ingest.read(make(Path(tmp) / f"{f.stem}.{kind}", paragraphs), settings).text.split("\n\n")
                if back == paragraphs:
                    same[kind] += 1
                    continue
                diff = [d[:100] for d in difflib.ndiff(paragraphs, back) if d[:1] in "+-"]
                print(f"{f.stem}.{kind}: {len(paragraphs)} paragraphs written, {len(back)} read", *diff[:4], sep="\n  ")
    for kind in makers:
        print(f"{kind}: {same[kind]} of {len(files)} reviews read back paragraph for paragraph")


if __name__ == "__main__":
    main()
