"""REFI-QDA projects as other tools write them (#40): each class of trouble real exports showed, in a small
project generated here. Positions in the exporter's units, archive paths in any case, sources that must not
merge silently, PDF selections, byte-order marks, and an import refused as a whole."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest

from scr_text.coding.qdpx_positions import Convention, PositionMap, normalise, text_matches

SMILE = "\U0001F642"  # outside the BMP: two UTF-16 code units, one code point
PARAS = [
    f"The health visitor noted the home was cold {SMILE} and the baby slept in the parents' bed.",
    "Police attended after the partner assaulted the mother; the school was not told.",
    "The core group did not meet again before the child protection conference.",
]


def scr(store, *args):
    return subprocess.run([sys.executable, "-m", "scr_text", "--store", str(store), *map(str, args)],
                          capture_output=True, text=True)


def utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


class Project:
    """A .qdpx written as a named exporter would write it."""

    def __init__(self, origin: str, sources_dir: str = "sources"):
        self.origin, self.sources_dir = origin, sources_dir
        self.sources: list[str] = []
        self.files: dict[str, bytes] = {}

    def text_source(self, name: str, raw: str, selections: list[tuple[int, int, str, str | None]], encoding="utf-8") -> None:
        """selections: (start, end, code name, selection name) in the exporter's units."""
        sid = str(uuid.uuid4())
        sels = "".join(
            f'<PlainTextSelection guid="{uuid.uuid4()}" startPosition="{s}" endPosition="{e}"'
            + (f' name="{label}"' if label is not None else "") + ' creatingUser="u1">'
            f'<Coding guid="{uuid.uuid4()}" creatingUser="u1"><CodeRef targetGUID="{self.code(code)}"/></Coding>'
            "</PlainTextSelection>" for s, e, code, label in selections)
        self.sources.append(f'<TextSource guid="{sid}" name="{name}" plainTextPath="internal://{sid}.txt">{sels}</TextSource>')
        self.files[f"{self.sources_dir}/{sid}.txt"] = raw.encode(encoding)

    def pdf_source(self, name: str, raw: str, start: int, end: int, code: str) -> None:
        sid, rid = str(uuid.uuid4()), str(uuid.uuid4())
        region = (f'<PDFSelection guid="{uuid.uuid4()}" page="1" firstX="10" firstY="10" secondX="200" secondY="80" '
                  f'creatingUser="u1"><Coding guid="{uuid.uuid4()}" creatingUser="u1"><CodeRef targetGUID="{self.code(code)}"/>'
                  "</Coding></PDFSelection>")
        text_sel = (f'<PlainTextSelection guid="{uuid.uuid4()}" startPosition="{start}" endPosition="{end}" creatingUser="u1">'
                    f'<Coding guid="{uuid.uuid4()}" creatingUser="u1"><CodeRef targetGUID="{self.code(code)}"/></Coding>'
                    "</PlainTextSelection>")
        self.sources.append(f'<PDFSource guid="{sid}" name="{name}" path="internal://{sid}.pdf">{region}'
                            f'<Representation guid="{rid}" plainTextPath="internal://{rid}.txt">{text_sel}</Representation></PDFSource>')
        self.files[f"{self.sources_dir}/{rid}.txt"] = raw.encode("utf-8")

    CODES = {"Domestic abuse": "domestic_abuse", "Unsafe sleep": "unsafe_sleep", "Planning": "planning"}

    def code(self, name: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, name))

    def write(self, path: Path) -> Path:
        codes = "".join(f'<Code guid="{self.code(n)}" name="{n}" isCodable="true"/>' for n in self.CODES)
        qde = (f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="{self.origin}">'
               f'<Users><User guid="u1" name="Robin"/></Users><CodeBook><Codes>{codes}</Codes></CodeBook>'
               f'<Sources>{"".join(self.sources)}</Sources></Project>')
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("project.qde", qde)
            for name, data in self.files.items():
                z.writestr(name, data)
        return path


def codings(store: Path, coder: str = "Robin") -> list[tuple[str, int, str]]:
    return sorted(sqlite3.connect(store).execute(
        "SELECT doc_id, passage, codes FROM codings WHERE coder=? AND codes != '[]'", (coder,)).fetchall())


def documents(store: Path) -> dict[str, str]:
    if not store.exists():
        return {}
    return dict(sqlite3.connect(store).execute("SELECT doc_id, text FROM documents").fetchall())


# -- positions -------------------------------------------------------------------------------

def test_position_map_counts_as_each_tool_counts():
    raw = f"a{SMILE}b\r\nc"
    assert normalise(raw) == f"a{SMILE}b\nc"
    utf16 = PositionMap(raw, Convention("utf16", "stored"))
    points = PositionMap(raw, Convention("codepoints", "stored"))
    one_per_line = PositionMap(raw, Convention("codepoints", "lf"))
    # "b" is at UTF-16 position 3 (the emoji counts two) and at code point 2; "c" after a two-unit line end.
    assert utf16.offset(3) == 2 and points.offset(2) == 2
    assert utf16.offset(6) == 4 and points.offset(5) == 4 and one_per_line.offset(4) == 4
    assert utf16.offset(2) is None  # inside the emoji
    assert points.offset(4) is None  # between \r and \n
    assert utf16.offset(99) is None
    # A byte-order mark counts nothing: position 0 is the first character after it.
    marked = PositionMap("\ufeffabc", Convention("utf16", "stored"))
    assert marked.span(0, 2) == (1, 3)


def test_selected_text_check_allows_shortened_names_only():
    assert text_matches("the  partner\nassaulted", "the partner assaulted")
    assert text_matches("Police attended after the…", "Police attended after the partner assaulted")
    assert not text_matches("Police attended after", "olice attended after the")
    assert not text_matches("ab", "ab")  # too short to tell anything


# -- exporters' units ------------------------------------------------------------------------

def _nvivo_project(tmp_path, wrong_name: bool = False) -> Path:
    """NVivo for Windows: Sources/ with a capital S, CR LF line ends, UTF-16 positions, the selected text as the name."""
    raw = "\r\n\r\n".join(PARAS) + "\r\n"
    selections = []
    for i, code in ((1, "Domestic abuse"), (2, "Planning")):
        start = utf16_len(raw[:raw.index(PARAS[i])])
        label = PARAS[i][:40] + "…"
        if wrong_name and i == 2:
            label = "A sentence that is nowhere in this review at all…"
        selections.append((start, start + utf16_len(PARAS[i]), code, label))
    p = Project("NVivo 14 for Windows", sources_dir="Sources")
    p.text_source("Practice review.docx", raw, selections)
    return p.write(tmp_path / "nvivo.qdpx")


def test_nvivo_utf16_positions_land_on_the_selected_text(tmp_path):
    store = tmp_path / "s.sqlite"
    res = scr(store, "import-coding", _nvivo_project(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "UTF-16 code units" in res.stderr and "2 selected text(s) confirm it" in res.stderr
    assert codings(store) == [("Practice review", 1, '["domestic_abuse"]'), ("Practice review", 2, '["planning"]')]


def test_a_selection_whose_text_does_not_match_is_reported_not_placed(tmp_path):
    store = tmp_path / "s.sqlite"
    res = scr(store, "import-coding", _nvivo_project(tmp_path, wrong_name=True))
    assert res.returncode == 1
    assert "left out: 1 selection(s) on 'Practice review.docx' not imported: the text at its positions is not" in res.stderr
    assert codings(store) == [("Practice review", 1, '["domestic_abuse"]')]


def test_unknown_exporter_places_only_what_both_units_agree_on(tmp_path):
    # Positions in UTF-16 units, no selected text, an exporter we have no setting for: the selection before
    # the emoji is placed, the one after it is reported.
    raw = "\n\n".join(PARAS) + "\n"
    p = Project("Some QDA tool")
    first = (0, len(PARAS[0].split(SMILE)[0]), "Unsafe sleep", None)
    start = utf16_len(raw[:raw.index(PARAS[1])])
    p.text_source("review.txt", raw, [first, (start, start + len(PARAS[1]), "Domestic abuse", None)])
    store = tmp_path / "s.sqlite"
    res = scr(store, "import-coding", p.write(tmp_path / "other.qdpx"))
    assert res.returncode == 1
    assert "mean different text in UTF-16 code units and in code points" in res.stderr
    assert codings(store) == [("review", 0, '["unsafe_sleep"]')]


# -- sources that must not merge silently ----------------------------------------------------

def test_names_with_dots_stay_apart_and_same_texts_merge_with_a_note(tmp_path):
    p = Project("QualCoder 3.6")
    for name, para in (("Interview 12.03.2021", PARAS[1]), ("Interview 12.03.2022", PARAS[2]), ("copy of 2021.txt", PARAS[1])):
        p.text_source(name, para + "\n", [(0, len(para), "Domestic abuse", para)])
    store = tmp_path / "s.sqlite"
    res = scr(store, "import-coding", p.write(tmp_path / "dots.qdpx"))
    assert res.returncode == 0, res.stderr
    assert set(documents(store)) == {"Interview 12.03.2021", "Interview 12.03.2022"}
    assert "source 'copy of 2021.txt' has the same text as 'Interview 12.03.2021'" in res.stderr


def test_a_stored_review_of_the_same_name_with_other_text_is_not_overwritten(tmp_path):
    store = tmp_path / "s.sqlite"
    review = tmp_path / "review.txt"
    review.write_text(PARAS[2] + "\n", encoding="utf-8")
    assert scr(store, "ingest", review).returncode == 0
    p = Project("QualCoder 3.6")
    p.text_source("review.txt", PARAS[1] + "\n", [(0, len(PARAS[1]), "Domestic abuse", PARAS[1])])
    p.text_source("other.txt", PARAS[0] + "\n", [(0, len(PARAS[0]), "Unsafe sleep", PARAS[0])])
    res = scr(store, "import-coding", p.write(tmp_path / "clash.qdpx"))
    assert res.returncode == 1
    assert "the stored review 'review' has different text" in res.stderr
    assert documents(store)["review"] == PARAS[2] + "\n"
    assert codings(store) == [("other", 0, '["unsafe_sleep"]')]


def test_pdf_region_selections_are_named_and_the_text_representation_is_used(tmp_path):
    p = Project("ATLAS.ti 23")
    raw = PARAS[1] + "\n"
    p.pdf_source("Overview report.pdf", raw, 0, len(PARAS[1]), "Domestic abuse")
    store = tmp_path / "s.sqlite"
    res = scr(store, "import-coding", p.write(tmp_path / "pdf.qdpx"))
    assert res.returncode == 1
    assert "1 PDF region selection(s) on 'Overview report.pdf' not imported" in res.stderr
    assert codings(store) == [("Overview report", 0, '["domestic_abuse"]')]


def test_own_export_round_trips_reviews_that_differ_only_by_a_byte_order_mark(tmp_path):
    store = tmp_path / "s.sqlite"
    plain, marked = tmp_path / "plain.txt", tmp_path / "marked.txt"
    plain.write_text(PARAS[1] + "\n\n" + PARAS[2] + "\n", encoding="utf-8")
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    assert scr(store, "ingest", plain, marked).returncode == 0
    for doc in ("plain", "marked"):
        f = tmp_path / f"{doc}.jsonl"
        text = documents(store)[doc]
        f.write_text(json.dumps({"doc_id": doc, "start": text.index("The core"), "end": len(text) - 1, "codes": ["planning"]}) + "\n")
        assert scr(store, "import-coding", f, "--coder", "Robin").returncode == 0
    out = tmp_path / "own.qdpx"
    assert scr(store, "export-qdpx", "--out", out).returncode == 0
    fresh = tmp_path / "fresh.sqlite"
    res = scr(fresh, "import-coding", out)
    assert res.returncode == 0, res.stderr
    assert documents(fresh) == documents(store)
    assert codings(fresh) == codings(store) == [("marked", 1, '["planning"]'), ("plain", 1, '["planning"]')]
    # And back into the store it came from: the same reviews, nothing left out.
    res = scr(store, "import-coding", out)
    assert res.returncode == 0 and "left out" not in res.stderr, res.stderr


def test_a_refused_import_stores_nothing(tmp_path):
    p = Project("QualCoder 3.6")
    p.text_source("clean.txt", PARAS[1] + "\n", [(0, len(PARAS[1]), "Domestic abuse", PARAS[1])])
    named = "Police attended after Mr Jonathan Whitfield assaulted the mother at 14 Elm Road, Leeds LS6 2AB."
    p.text_source("named.txt", named + "\n", [(0, len(named), "Domestic abuse", named)])
    store = tmp_path / "s.sqlite"
    res = scr(store, "import-coding", p.write(tmp_path / "refused.qdpx"))
    assert res.returncode == 2 and "import refused, nothing stored" in res.stderr and "named" in res.stderr
    assert documents(store) == {} and not (store.exists() and codings(store))


@pytest.mark.parametrize("entries", [{"Project.QDE": None}, {"project.qde": None, "SOURCES": True}])
def test_archive_paths_are_matched_without_case(tmp_path, entries):
    p = Project("MAXQDA 24", sources_dir="SOURCES" if "SOURCES" in entries else "Sources")
    p.text_source("memo.txt", PARAS[2] + "\n", [(0, len(PARAS[2]), "Planning", PARAS[2])])
    path = p.write(tmp_path / "case.qdpx")
    if "Project.QDE" in entries:  # rename the project file's case inside the archive
        with zipfile.ZipFile(path) as z:
            items = {n: z.read(n) for n in z.namelist()}
        with zipfile.ZipFile(path, "w") as z:
            for n, data in items.items():
                z.writestr("Project.QDE" if n == "project.qde" else n, data)
    store = tmp_path / "s.sqlite"
    res = scr(store, "import-coding", path)
    assert res.returncode == 0, res.stderr
    assert codings(store) == [("memo", 0, '["planning"]')]
