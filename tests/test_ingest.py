"""Ingestion of real files: encodings, DOCX, multi-page PDF, and every kind of bad input."""
from __future__ import annotations

import io
import zipfile

import pytest

from docmaker import PARAGRAPHS, make_browser_pdf, make_docx, make_numbered_docx, make_pdf
from scr_text import ingest
from scr_text.errors import IngestError
from scr_text.ingest.intake import ingest_files

TEXT = "1. Introduction\n\n1.1 Child A lived with Mother and Mr X. The café was nearby — naïvely.\n\n1.2 Records were incomplete.\n"


@pytest.mark.parametrize(
    "encoding,prefix",
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16", b""), ("utf-16-le", b""), ("cp1252", b""), ("latin-1", b"")],
)
def test_text_encodings_decode_to_the_text_python_reads(tmp_path, settings, encoding, prefix):
    text = TEXT if encoding != "latin-1" else TEXT.replace("—", "-")  # Latin-1 has no dash
    f = tmp_path / "review.txt"
    f.write_bytes(prefix + text.encode(encoding))
    read = ingest.read(f, settings).text
    assert read == f.read_text(encoding=encoding)  # with a UTF-8 BOM, "\ufeff" + text
    assert read.removeprefix("\ufeff") == text


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_crlf_offsets_index_the_text_python_reads(tmp_path, settings, segmenter, bom):
    f = tmp_path / "crlf.txt"
    f.write_bytes(bom + TEXT.replace("\n", "\r\n").encode("utf-8"))
    document = ingest.read(f, settings)
    as_read = f.read_text(encoding="utf-8")
    assert document.text == as_read
    (passages,) = segmenter.transform([document])
    assert [as_read[p.start:p.end] for p in passages] == [p.text for p in passages]
    assert [p.text[:6] for p in passages] == ["1. Int", "1.1 Ch", "1.2 Re"]  # the BOM in no passage
    assert passages[0].start == len(bom and "\ufeff")


def test_docx_paragraphs_and_tables_round_trip(tmp_path, settings, segmenter):
    f = make_docx(tmp_path / "sub.docx", table_rows=[["Date", "Agency", "Contact"], ["March 2019", "Police", "Attended twice"],
                                                     ["May 2019", "", "No contact"]])
    document = ingest.read(f, settings)
    assert document.format == "docx" and document.doc_id == "sub"
    (passages,) = segmenter.transform([document])
    texts = [p.text for p in passages]
    assert texts[: len(PARAGRAPHS)] == PARAGRAPHS
    # A table row is one passage: the event with its date and agency (an empty cell leaves no gap).
    assert texts[len(PARAGRAPHS):] == ["Date | Agency | Contact", "March 2019 | Police | Attended twice", "May 2019 | No contact"]
    for p in passages:
        assert document.text[p.start:p.end] == p.text


def test_a_review_numbered_by_word_reads_back_with_its_numbers(tmp_path, settings, corpus_dir):
    import docx

    paragraphs = (corpus_dir / "texts" / "d02.txt").read_text(encoding="utf-8").strip().split("\n\n")
    f = make_numbered_docx(tmp_path / "d02.docx", paragraphs)
    assert docx.Document(str(f)).paragraphs[1].text.startswith("This review concerns")  # no number in the text
    assert ingest.read(f, settings).text.split("\n\n") == paragraphs


def test_word_list_levels_restart_letters_bullets_and_an_instance_that_restarts(tmp_path, settings):
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import qn

    paragraphs = ["1. Findings", "1.1 First finding.", "(a) one", "(b) two", "1.2 Second finding.", "(a) again",
                  "• a bullet point", "2. Learning", "2.1 Third finding.", "3. Recommendations"]
    f = make_numbered_docx(tmp_path / "lists.docx", paragraphs)
    assert ingest.read(f, settings).text.split("\n\n") == paragraphs
    # A second instance of the list that restarts it (as "Restart numbering" in Word does) at its last heading.
    document = docx.Document(str(f))
    document.part.numbering_part.element.append(parse_xml(
        '<w:num xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" w:numId="91">'
        '<w:abstractNumId w:val="90"/><w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride></w:num>'))
    num_pr = document.paragraphs[-1]._p.get_or_add_pPr()._add_numPr()
    num_pr._add_ilvl().set(qn("w:val"), "0")
    num_pr._add_numId().set(qn("w:val"), "91")
    # A heading that keeps its style's list but sets its own level.
    document.add_paragraph("Sub-heading", style="Heading 1")._p.get_or_add_pPr()._add_numPr()._add_ilvl().set(
        qn("w:val"), "1")
    document.save(str(f))
    assert ingest.read(f, settings).text.split("\n\n")[-2:] == ["1. Recommendations", "1.1 Sub-heading"]
    from scr_text.ingest.docx_numbering import _FORMATS

    assert [_FORMATS[fmt](n) for fmt, n in [("lowerRoman", 14), ("upperRoman", 1949), ("upperLetter", 27),
                                            ("lowerLetter", 3), ("decimalZero", 7)]] == ["xiv", "MCMXLIX", "AA", "c", "07"]


def test_docx_footnotes_are_read_and_come_at_the_end(tmp_path, settings, segmenter):
    notes = ["Working Together to Safeguard Children (2018).", "The mother's partner was known to the police."]
    document = ingest.read(make_docx(tmp_path / "notes.docx", footnotes=notes), settings)
    (passages,) = segmenter.transform([document])
    assert [p.text for p in passages] == PARAGRAPHS + [f"1 {notes[0]}", f"2 {notes[1]}"]


def test_docx_box_and_merged_title_rows_keep_their_paragraphs_apart(tmp_path, settings, segmenter):
    import docx

    document = docx.Document()
    box = document.add_table(rows=1, cols=1)  # a one-cell table: a box around ordinary paragraphs
    box.cell(0, 0).text = "Key learning: plan before the first hearing."
    box.cell(0, 0).add_paragraph("Record why each decision was made.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Chronology"  # a title row spanning the table
    table.cell(1, 0).text, table.cell(1, 1).text = "June 2020", "Strategy meeting held"
    table.cell(1, 1).add_paragraph("")  # an empty paragraph in a cell leaves no extra space
    table.cell(1, 1).add_paragraph("and minuted")
    row = table.add_row()
    row.cells[0].text = "July 2020"
    nested = row.cells[1].add_table(rows=2, cols=1)  # a table inside a cell: its rows are read in turn
    nested.cell(0, 0).text, nested.cell(1, 0).text = "Police visit", "School report"
    document.save(tmp_path / "box.docx")
    (passages,) = segmenter.transform([ingest.read(tmp_path / "box.docx", settings)])
    assert [p.text for p in passages] == ["Key learning: plan before the first hearing.",
                                          "Record why each decision was made.", "Chronology",
                                          "June 2020 | Strategy meeting held and minuted",
                                          "July 2020 | Police visit School report"]


def test_docx_tracked_changes_read_as_accepted_and_content_controls_are_read(tmp_path, settings, segmenter):
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    w = nsdecls("w")
    change = w + ' w:id="{}" w:author="Reviewer" w:date="2024-01-01T00:00:00Z"'
    document = docx.Document()
    draft = document.add_paragraph("Mother told the health visitor ")
    for part in [  # a draft review's tracked edits: an insertion, a deletion, a moved phrase
        f'<w:ins {change.format(1)}><w:r><w:t xml:space="preserve">that Father had hit her</w:t></w:r></w:ins>',
        f'<w:del {change.format(2)}><w:r><w:delText>nothing</w:delText></w:r></w:del>',
        f'<w:moveFrom {change.format(3)}><w:r><w:t xml:space="preserve"> in March</w:t></w:r></w:moveFrom>',
        f'<w:r {w}><w:t xml:space="preserve">.</w:t></w:r>',
    ]:
        draft._p.append(parse_xml(part))
    control = document.add_paragraph("The referral was made on ")  # a template's date field
    control._p.append(parse_xml(f'<w:sdt {w}><w:sdtContent><w:r><w:t>3 May</w:t></w:r></w:sdtContent></w:sdt>'))
    # A whole block inside a content control, as a cover page or a template's summary box is.
    document.element.body.insert(len(document.element.body) - 1, parse_xml(
        f'<w:sdt {w}><w:sdtContent><w:p><w:r><w:t>No safety plan was made.</w:t></w:r></w:p></w:sdtContent></w:sdt>'))
    document.save(tmp_path / "draft.docx")
    read = ingest.read(tmp_path / "draft.docx", settings)
    (passages,) = segmenter.transform([read])
    assert [p.text for p in passages] == ["Mother told the health visitor that Father had hit her.",
                                          "The referral was made on 3 May", "No safety plan was made."]
    assert all(read.text[p.start:p.end] == p.text for p in passages)


def test_docx_text_box_is_read_once_after_its_paragraph(tmp_path, settings, segmenter):
    import docx
    from docx.oxml import parse_xml

    ns = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
          'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
          'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
          'xmlns:v="urn:schemas-microsoft-com:vml"')
    box = '<w:txbxContent><w:p><w:r><w:t>Key learning: see the child alone.</w:t></w:r></w:p></w:txbxContent>'
    document = docx.Document()
    anchor = document.add_paragraph("The social worker visited at home.")
    # As Word writes a text box: a drawing, and the same box again as VML for readers without drawings.
    anchor._p.append(parse_xml(
        f'<w:r {ns}><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:wsp><wps:txbx>{box}</wps:txbx>'
        f'</wps:wsp></w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox>{box}</v:textbox></v:shape>'
        '</w:pict></mc:Fallback></mc:AlternateContent></w:r>'))
    document.add_paragraph("The case was closed.")
    document.save(tmp_path / "box.docx")
    (passages,) = segmenter.transform([ingest.read(tmp_path / "box.docx", settings)])
    assert [p.text for p in passages] == ["The social worker visited at home.", "Key learning: see the child alone.",
                                          "The case was closed."]


def test_pdf_footnotes_move_to_the_end_and_a_paragraph_runs_on_across_the_page(tmp_path, settings, segmenter):
    import random

    from fpdf import FPDF

    rng = random.Random(0)
    words = "social worker visited family health visitor recorded meeting police school nursery concerns plan".split()
    body = [f"{n}.1 " + " ".join(rng.choice(words) for _ in range(60)).capitalize() + "." for n in range(1, 9)]
    note = "1 Working Together to Safeguard Children (2018), chapter 4."

    class Review(FPDF):
        def footer(self):
            if self.page_no() == 1:  # the footnote, in small print above the page number
                self.set_y(-26)
                self.set_font("Helvetica", size=8)
                self.multi_cell(0, 4, note)
            self.set_y(-15)
            self.set_font("Helvetica", size=8)
            self.cell(0, 10, f"Page {self.page_no()}", align="C")

    pdf = Review()
    pdf.set_auto_page_break(True, margin=30)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for text in body:
        pdf.multi_cell(0, 6, text)
        pdf.ln(4)
    pdf.output(str(tmp_path / "notes.pdf"))
    document = ingest.read(tmp_path / "notes.pdf", settings)
    assert document.pages == 2
    (passages,) = segmenter.transform([document])
    # Every paragraph whole (one of them crosses the page break, where the footnote sat), then the footnote.
    assert [p.text for p in passages] == body + [note]


def test_pdf_note_markers_are_set_off_from_the_word_they_follow(tmp_path, settings, segmenter):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.write(6, "Child B was the subject of care proceedings")
    pdf.char_vpos = "SUP"  # a smaller size, raised by text rise
    pdf.write(6, "12")
    pdf.char_vpos = "LINE"
    pdf.write(6, " and a Section 7 report was ordered.")
    lead = "The Guardian was appointed"
    pdf.set_xy(10, 30)
    pdf.cell(pdf.get_string_width(lead), 6, lead)
    pdf.set_font("Helvetica", size=7)  # a smaller size, raised by moving the text origin (as Word does)
    pdf.set_xy(pdf.get_x(), 28.8)
    pdf.cell(pdf.get_string_width("3"), 6, "3")
    pdf.set_font("Helvetica", size=11)
    pdf.set_xy(pdf.get_x(), 30)
    pdf.cell(0, 6, " within 7 days.")
    pdf.output(str(tmp_path / "markers.pdf"))
    document = ingest.read(tmp_path / "markers.pdf", settings)
    assert "Child B was the subject of care proceedings \u00b9\u00b2 and a Section 7 report was ordered." in document.text
    assert "The Guardian was appointed \u00b3 within 7 days." in document.text
    (passages,) = segmenter.transform([document])
    assert "proceeding" in [t.lemma_ for t in passages[0].analysis]  # not "proceedings12"


def test_pdf_ligatures_are_spelt_out_and_footnote_markers_kept(tmp_path, settings, segmenter):
    from pathlib import Path

    from fpdf import FPDF

    from scr_text.codebook import load_codebook
    from scr_text.tagging.rules import RuleTagger

    # A Unicode font with ligature glyphs: Debian's chromium brings DejaVu (via fontconfig).
    fonts = [f for f in ("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
                         "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf") if Path(f).exists()]
    if not fonts:
        pytest.skip("no TrueType font with ligature glyphs on this machine")
    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("Serif", fname=fonts[0])
    pdf.set_font("Serif", size=11)
    pdf.multi_cell(0, 6, "The of\ufb01cer noted signi\ufb01cant \ufb01ngertip marks\u00b9 in the \ufb01le.")
    pdf.output(str(tmp_path / "typeset.pdf"))
    document = ingest.read(tmp_path / "typeset.pdf", settings)
    assert document.text == "The officer noted significant fingertip marks\u00b9 in the file."
    (passages,) = segmenter.transform([document])
    codebook = load_codebook()
    hits = RuleTagger(codebook, segmenter.nlp).transform(passages)
    assert hits[0, codebook.ids.index("physical_abuse")] > 0  # the codebook's phrase "fingertip"


@pytest.mark.parametrize("review,space", [("d07", 4), ("d25", 4), ("d39", 4), ("d39", 2), ("d39", 1), ("d30", 1)])
def test_pdf_of_a_shipped_review_reads_back_paragraph_for_paragraph(tmp_path, settings, review, space):
    """Typeset with running header and footer, page breaks falling where they fall: a paragraph cut by a
    page break (d39: "... settled and doing" | "well."; d07: a page ending on a full stop, the next page
    going on in lower case) is one paragraph, and a short last page of one-line paragraphs (d25) keeps them
    apart (its own commonest line step is the paragraph spacing). A tight layout (2 mm between paragraphs of
    6 mm lines, a step of 1.33 lines) still shows its paragraph breaks, and so does a tighter one (1 mm, 1.17
    lines, under ``pdf.paragraph_gap``: the widest jump between the document's line steps)."""
    from scr_text.locations import SAMPLE_CORPUS

    text = (SAMPLE_CORPUS / "texts" / f"{review}.txt").read_text(encoding="utf-8")
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    document = ingest.read(make_pdf(tmp_path / f"{review}.pdf", paragraphs, paragraph_space=space), settings)
    assert document.pages >= 2
    assert document.text.split("\n\n") == paragraphs


def test_pdf_soft_hyphens_join_their_word(tmp_path, settings, segmenter):
    from fpdf import FPDF

    # A soft hyphen (U+00AD) marks where a word may break; typesetters leave one at a line end where it did,
    # and an invisible one inside a line.
    # fpdf2 lays soft hyphens out itself, so a placeholder goes in and the byte is set in the uncompressed
    # page (0xAD is the soft hyphen in the core fonts' WinAnsi encoding).
    pdf = FPDF()
    pdf.compress = False
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in ["The family's circumstances were discussed at the multi-agency safe~",
                 "guarding meeting, but the notes were never shared with the health vis~itor, who",
                 "did not learn of the concerns until much later."]:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    (tmp_path / "shy.pdf").write_bytes(bytes(pdf.output()).replace(b"~", b"\xad"))
    document = ingest.read(tmp_path / "shy.pdf", settings)
    assert document.text == ("The family's circumstances were discussed at the multi-agency safeguarding meeting, but the "
                             "notes were never shared with the health visitor, who did not learn of the concerns until "
                             "much later.")
    (passage,) = segmenter.transform([document])[0]
    assert "safeguarding" in [t.lemma_ for t in passage.analysis]


def test_multipage_pdf_drops_running_lines_undoes_hyphens_and_rebuilds_paragraphs(tmp_path, settings, segmenter):
    body = PARAGRAPHS * 5 + ["3.1 There was little profes-\nsional curiosity about Mr X, and the record was incomplete."]
    f = make_pdf(tmp_path / "review.pdf", body)
    document = ingest.read(f, settings)
    assert document.pages >= 2
    assert "Confidential" not in document.text
    assert "Page 1" not in document.text and "Page 2" not in document.text
    assert "professional curiosity about Mr X" in document.text
    (passages,) = segmenter.transform([document])
    assert [p.text for p in passages] == [b.replace("-\n", "") for b in body]
    for p in passages:
        assert document.text[p.start:p.end] == p.text


def test_pdf_line_end_hyphens_keep_compounds_and_join_broken_words(tmp_path, settings):
    # Hand-set line breaks: the document's own usage decides, else the compound_heads setting.
    body = PARAGRAPHS + [
        "3.1 The safeguarding lead made a multi-agency referral, and safe-\nguarding was discussed at the meeting.",
        "3.2 There was no multi-\nagency meeting after Mother obtained a non-\nmolestation order in the spring.",
        "3.3 Child A was 15-\nyear-old Child B's half-\nbrother; a follow-up visit was mid-\nJanuary.",
    ]
    text = ingest.read(make_pdf(tmp_path / "hyphens.pdf", body), settings).text
    assert "and safeguarding was discussed" in text  # written as one word elsewhere: a broken word
    assert "no multi-agency meeting" in text  # written with the hyphen elsewhere
    assert "a non-molestation order" in text  # no other evidence: "non" is a compound head
    assert "15-year-old Child B's half-brother" in text  # a number; "half" a compound head
    assert "visit was mid-January" in text  # capital after the hyphen: never a broken word, and no space


@pytest.mark.parametrize("review, css", [
    ("d05", None), ("d11", None), ("d22", None),
    ("d17", "p { margin: 0; text-indent: 1.5em; }"), ("d30", "p { margin: 0; text-indent: 1.5em; }"),
    ("d17", "body { column-count: 2; column-gap: 1cm; } p { margin: 0 0 6pt 0; }"),
])
def test_a_review_printed_by_chromium_reads_back_paragraph_for_paragraph(tmp_path, settings, browser, corpus_dir,
                                                                         review, css):
    # Chromium, like a word processor, breaks lines after compounds' hyphens ("non-" | "molestation", "15-" |
    # "year-old", "low-" | "level") and prints no footer, so a page's last line has no gap below it. With
    # the css, paragraphs are marked by indenting their first line only, with no space between them, or set in
    # two columns (d17: a paragraph ends at the foot of the first column, a heading tops the second).
    paragraphs = [" ".join(p.split()) for p in
                  (corpus_dir / "texts" / f"{review}.txt").read_text(encoding="utf-8").split("\n\n")]
    f = make_browser_pdf(browser, tmp_path / f"{review}.pdf", paragraphs, **({"css": css} if css else {}))
    assert ingest.read(f, settings).text.split("\n\n") == paragraphs


def _zip_bytes(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def _bad_inputs(tmp_path, corpus_dir):
    good_pdf = make_pdf(tmp_path / "good.pdf", PARAGRAPHS).read_bytes()
    files = {
        "empty.txt": b"",
        "blank.txt": b"   \n\n\t \n",
        "bom_only.txt": b"\xef\xbb\xbf\r\n \n",
        "bom_not_utf8.txt": b"\xef\xbb\xbf1.1 Caf\xe9 visits were recorded.",
        "binary.txt": bytes(range(256)) * 40,
        "notes.rtf": b"{\\rtf1 hello}",
        "missing_review": None,  # never written: a mistyped path, without an extension
        "corrupt.pdf": b"%PDF-1.4\n" + b"\x13\x37garbage" * 50,
        "truncated.pdf": good_pdf[: len(good_pdf) // 3],
        "textless.pdf": None,
        "locked.pdf": None,
        "fake.docx": b"this is plain text pretending to be a Word file",
        "bomb.docx": _zip_bytes({"word/document.xml": b"\0" * (3 * 2**20)}),
        "traversal.docx": _zip_bytes({"../../evil.xml": b"<x/>"}),
        "copy_of_d01.txt": (corpus_dir / "texts" / "d01.txt").read_bytes(),
    }
    for name, data in files.items():
        if data is not None:
            (tmp_path / name).write_bytes(data)
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 50, 50)
    pdf.output(str(tmp_path / "textless.pdf"))
    make_pdf(tmp_path / "locked.pdf", PARAGRAPHS, encrypt_password="secret")
    return [tmp_path / n for n in files]


def test_every_bad_input_fails_alone_with_one_clear_line(tmp_path, settings, store, corpus_dir):
    settings.limits.max_decompressed_bytes = 2 * 2**20  # so that a small bomb trips the limit
    try:
        first = ingest_files([corpus_dir / "texts" / "d01.txt"], store, settings, progress=False)
        assert first.added == ["d01"]
        before = store.counts()
        bad = _bad_inputs(tmp_path, corpus_dir)
        good = tmp_path / "good.txt"
        good.write_text(TEXT, encoding="utf-8")
        report = ingest_files(bad + [good], store, settings, progress=False)
    finally:
        settings.limits.max_decompressed_bytes = 200 * 2**20
    assert report.added == ["good"]
    lines = report.failed + report.duplicates
    assert len(lines) == len(bad)
    for path in bad:
        (line,) = [x for x in lines if x.startswith(str(path) + ":")]
        assert "\n" not in line and "Traceback" not in line
    expect = {
        "empty.txt": "empty", "blank.txt": "empty", "bom_only.txt": "empty",
        "bom_not_utf8.txt": "byte-order mark but is not valid UTF-8", "binary.txt": "binary", "notes.rtf": "unsupported",
        "missing_review": "no such file or folder",
        "corrupt.pdf": "PDF", "truncated.pdf": "PDF", "textless.pdf": "no extractable text",
        "locked.pdf": "encrypted", "fake.docx": "not a valid DOCX", "bomb.docx": "decompression bomb",
        "traversal.docx": "outside the archive", "copy_of_d01.txt": "duplicate of already stored document 'd01'",
    }
    for name, reason in expect.items():
        (line,) = [x for x in lines if x.startswith(str(tmp_path / name) + ":")]
        assert reason in line, line
    after = store.counts()
    assert after["documents"] == before["documents"] + 1
    assert set(store.doc_ids()) == {"d01", "good"}


def test_reingesting_an_unchanged_file_is_a_silent_no_op(store, settings, corpus_dir):
    f = corpus_dir / "texts" / "d02.txt"
    assert ingest_files([f], store, settings, progress=False).added == ["d02"]
    counts = store.counts()
    again = ingest_files([f], store, settings, progress=False)
    assert again.unchanged == ["d02"] and again.ok
    assert store.counts() == counts


def test_same_stem_from_two_folders_gets_unique_ids(tmp_path, store, settings):
    for folder, text in (("a", "First review text.\n\nMore."), ("b", "Second review text.\n\nOther.")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notes.txt").write_text(text)
    report = ingest_files([tmp_path / "a", tmp_path / "b"], store, settings, progress=False)
    assert sorted(report.added) == ["notes", "notes-2"]


def test_read_rejects_unknown_extension_without_touching_the_file(tmp_path, settings):
    f = tmp_path / "x.odt"
    f.write_text("hello")
    with pytest.raises(IngestError, match="unsupported file type"):
        ingest.read(f, settings)
