"""Classes of trouble that public PDF and DOCX files showed (#40), each reproduced in a small file made here:
AES encryption, bytes before the PDF header, a recurring line that is the only text, running heads that
alternate between odd and even pages, control characters, mis-decoded text, and Strict Open XML."""
from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from docmaker import PARAGRAPHS, make_docx, make_pdf
from scr_text import ingest
from scr_text.errors import IngestError
from scr_text.ingest.text import garbled_warning, without_controls


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("bits", [128, 256])
def test_aes_encrypted_pdf_without_a_user_password_reads(tmp_path, settings, bits):
    pdf = make_pdf(tmp_path / "aes.pdf", PARAGRAPHS[:3], aes=bits)
    assert b"/AESV" in pdf.read_bytes()  # really AES, not RC4
    text = ingest.read(pdf, settings).text
    assert _words(PARAGRAPHS[1]) in _words(text)


def test_aes_encrypted_pdf_with_a_user_password_is_refused_clearly(tmp_path, settings):
    pdf = make_pdf(tmp_path / "locked.pdf", PARAGRAPHS[:2], encrypt_password="secret", aes=256)
    with pytest.raises(IngestError, match="encrypted PDF; remove the password"):
        ingest.read(pdf, settings)


def test_bytes_before_the_pdf_header_are_allowed(tmp_path, settings):
    clean = make_pdf(tmp_path / "clean.pdf", PARAGRAPHS[:3])
    wrapped = tmp_path / "wrapped.pdf"
    wrapped.write_bytes(b"Content-Type: application/pdf\r\n\r\n" + clean.read_bytes())
    assert ingest.read(wrapped, settings).text == ingest.read(clean, settings).text
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"x" * 2000 + clean.read_bytes())
    with pytest.raises(IngestError, match="no %PDF- header in its first 1024 bytes"):
        ingest.read(junk, settings)


def test_a_line_on_every_page_that_is_the_only_text_is_kept(tmp_path, settings):
    line = "This page records the strategy discussion held by the safeguarding partnership."
    pdf = make_pdf(tmp_path / "one-line.pdf", [line] * 3, header="", footer=False, pages_break_every=1)
    assert _words(line) in _words(ingest.read(pdf, settings).text)


def test_running_heads_alternating_between_odd_and_even_pages_are_dropped(tmp_path, settings):
    pdf = make_pdf(tmp_path / "book.pdf", PARAGRAPHS * 2, header="Local Child Safeguarding Practice Review",
                   even_header="Learning for the partnership", pages_break_every=2)
    text = ingest.read(pdf, settings).text
    assert ingest.read(pdf, settings).pages >= 4
    assert "Local Child Safeguarding Practice Review" not in text and "Learning for the partnership" not in text
    assert _words(PARAGRAPHS[1]) in _words(text)


def test_control_characters_are_not_stored(tmp_path, settings):
    assert without_controls("a\x00b\x07c\x0cd\x1fe\x85f\tg\nh") == "abc\nde" + "f\tg\nh"
    pdf = make_pdf(tmp_path / "controls.pdf", ["The social worker\x01 visited\x07 the family home\x02 twice."] + PARAGRAPHS[:1])
    text = ingest.read(pdf, settings).text
    assert not any(ch < " " and ch not in "\n\t" for ch in text)
    assert "visited" in text


def test_mis_decoded_text_is_stored_with_a_warning(tmp_path, settings):
    mojibake = ("The cafÃ© manager told the reviewer that the mother had said she was Ã  bout and that the "
                "childÂ´s father was Ã©loignÃ© from the family; the health visitor wrote it down as Ã¨ said.")
    pdf = make_pdf(tmp_path / "mojibake.pdf", [mojibake, PARAGRAPHS[0]])
    document = ingest.read(pdf, settings)
    assert document.warnings and "mis-decoded" in document.warnings[0]
    assert not ingest.read(make_pdf(tmp_path / "fine.pdf", PARAGRAPHS[:3]), settings).warnings
    assert "did not extract" in garbled_warning("Text \ufffd\ufffd\ufffd with \ue000\ue001 gaps", 0.02)
    store = tmp_path / "s.sqlite"
    res = subprocess.run([sys.executable, "-m", "scr_text", "--store", str(store), "ingest", str(pdf)],
                         capture_output=True, text=True)
    assert res.returncode == 0 and "warning:" in res.stderr and "mis-decoded" in res.stderr, res.stderr


def test_strict_open_xml_is_refused_saying_why(tmp_path, settings):
    normal = make_docx(tmp_path / "normal.docx")
    strict = tmp_path / "strict.docx"
    with zipfile.ZipFile(normal) as src, zipfile.ZipFile(strict, "w") as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "_rels/.rels":  # Strict names the main part's relationship in its own namespace
                data = data.replace(b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
                                    b"http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument")
            out.writestr(item, data)
    with pytest.raises(IngestError, match="Strict Open XML.*'Word Document"):
        ingest.read(strict, settings)


def test_docx_endnotes_are_read_after_the_footnotes(tmp_path, settings):
    docx = make_docx(tmp_path / "notes.docx", PARAGRAPHS[:2], footnotes=["Working Together 2018, chapter 4."],
                     endnotes=["The chronology was compiled from agency records."])
    text = ingest.read(docx, settings).text
    assert text.index("Working Together 2018") < text.index("The chronology was compiled") and _words(PARAGRAPHS[1]) in text
