"""Word documents (python-docx): one passage per non-empty paragraph, with its automatic number, tracked changes
accepted; tables in reading order, a row at a time; text boxes after the paragraph they are anchored in;
footnotes, endnotes and then the page headers and footers (each distinct text once) at the end."""
from __future__ import annotations

import io
import re
import zipfile

from scr_text.config import Limits
from scr_text.errors import IngestError
from scr_text.ingest.archive import check_zip
from scr_text.ingest.docx_numbering import Numbering
from scr_text.ingest.text import without_controls

_STRICT = b"purl.oclc.org/ooxml/"  # the namespaces of Strict Open XML, where the usual (Transitional) file has schemas.openxmlformats.org


def read_docx(data: bytes, path: str, limits: Limits) -> tuple[str, int]:
    """Return the document's text (paragraphs separated by one blank line) and its page count (1)."""
    import docx  # python-docx; imported here so that plain-text users do not pay for lxml
    from docx.opc.exceptions import PackageNotFoundError

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise IngestError(path, "is not a valid DOCX file (not a zip archive)")
    check_zip(data, path, limits)
    if _is_strict(data):
        raise IngestError(path, "is saved as Strict Open XML, which python-docx cannot read; in Word, save it again as "
                                "'Word Document (*.docx)' rather than 'Strict Open XML Document' and try again")
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise IngestError(path, "is not a valid DOCX file") from exc
    except Exception as exc:  # lxml's XMLSyntaxError and friends: a damaged package
        raise IngestError(path, f"is a damaged DOCX file ({exc.__class__.__name__})") from exc

    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    try:
        notes = _notes(document, RT.FOOTNOTES, "footnote") + _notes(document, RT.ENDNOTES, "endnote")
        margins = _margin_texts(document, (RT.HEADER, RT.FOOTER))
    except Exception as exc:  # a damaged notes, header or footer part
        raise IngestError(path, f"is a damaged DOCX file ({exc.__class__.__name__} in its notes, headers or "
                                "footers)") from exc
    paragraphs = [without_controls(p) for p in [_clean(p) for p in _body_paragraphs(document)] + notes + margins]
    return "\n\n".join(p for p in paragraphs if p), 1


def _is_strict(data: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = {n.lower(): n for n in z.namelist()}
        rels = z.read(names["_rels/.rels"]) if "_rels/.rels" in names else b""
    return _STRICT in rels


def _related_roots(document, reltype: str):
    from docx.oxml import parse_xml

    for rel in document.part.rels.values():
        if rel.reltype == reltype and not rel.is_external:
            yield parse_xml(rel.target_part.blob)


def _notes(document, reltype: str, tag: str) -> list[str]:
    """Each footnote's (or endnote's) text, numbered in order ("1 Working Together ..."): python-docx does not
    read them, and a review's notes can carry substance. They go at the end, as the PDF reader puts its footnotes."""
    notes = []
    for root in _related_roots(document, reltype):
        for note in root.iter(_W + tag):
            if note.get(_W + "type"):  # the separator lines Word keeps among the notes
                continue
            parts = (_paragraph_text(p).strip() for p in note.iter(_W + "p"))
            text = " ".join(part for part in parts if part)
            if text:
                notes.append(f"{len(notes) + 1} {text}")
    return notes


def _margin_texts(document, reltypes) -> list[str]:
    """The paragraphs of the page headers and footers, each distinct text once: they are text of the file (a
    case name or a reference in a header is what the identifier guard must see), but not of every page."""
    numbering, seen = Numbering(document), {}
    for reltype in reltypes:
        for root in _related_roots(document, reltype):
            for text in _texts(root, document, numbering):
                seen.setdefault(_clean(text), None)
    return [t for t in seen if t]


def _body_paragraphs(document):
    """Paragraph texts in reading order: body paragraphs, and each table row as one paragraph (below)."""
    return _texts(document.element.body, document, Numbering(document))


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def _blocks(parent):
    """The paragraphs and tables under ``parent`` in reading order, including those wrapped in content
    controls (``w:sdt``, as templates and cover pages use) or custom XML, which python-docx passes over."""
    for child in parent.iterchildren():
        if child.tag in (_W + "p", _W + "tbl"):
            yield child
        elif child.tag in (_W + "sdt", _W + "sdtContent", _W + "customXml"):
            yield from _blocks(child)


def _texts(parent, document, numbering: Numbering):
    from docx.table import Table

    for block in _blocks(parent):
        if block.tag == _W + "p":
            label, text = numbering.label(block), _paragraph_text(block)
            yield f"{label} {text.lstrip()}" if label and text.strip() else text
            yield from _text_boxes(block, document, numbering)
        else:
            yield from _row_texts(Table(block, document), document, numbering)


def _text_boxes(p, document, numbering: Numbering):
    """The paragraphs of the text boxes anchored in paragraph ``p`` (a review's "key learning" box), after its
    own text. Word stores each box twice, as a drawing and as a VML fallback for old readers: the fallback's
    copy is skipped, as is a box inside another box (read with that box)."""
    for box in p.iter(_W + "txbxContent"):
        outer = box.getparent()
        while outer is not p and outer.tag not in (_MC_FALLBACK, _W + "txbxContent"):
            outer = outer.getparent()
        if outer is p:
            yield from _texts(box, document, numbering)


def _row_texts(table, document, numbering: Numbering):
    """Each row as one text, its cells joined by " | ": a chronology row (date | agency | event) is one record,
    and the event is read with its date and agency. A row of one cell is a box around ordinary text, so its
    paragraphs stay apart. A table inside a cell is read the same way."""
    for row in table.rows:
        cells = list({id(cell._tc): cell for cell in row.cells}.values())  # merged cells repeat
        if len(cells) == 1:
            yield from _texts(cells[0]._tc, document, numbering)
            continue
        texts = (" ".join(t for t in (_clean(x).replace("\n", " ") for x in _texts(cell._tc, document, numbering)) if t)
                 for cell in cells)
        yield " | ".join(t for t in texts if t)


def _paragraph_text(p) -> str:
    """A paragraph's text as it reads with tracked changes accepted: inserted text in, deleted and moved-away
    text out, and text inside inline content controls, smart tags and fields kept. (python-docx's
    ``Paragraph.text`` reads only the runs directly under the paragraph and its hyperlinks, so a draft review's
    tracked insertions were lost.) Each run's text is python-docx's (tabs, line breaks, hyphens); the runs of a
    text box anchored in the paragraph, under a paragraph of their own, are left out (``_text_boxes`` reads them)."""
    depth = sum(1 for _ in p.iterancestors(_W + "p"))  # > 0 for a paragraph in a text box
    runs = p.xpath("./descendant::w:r[not(ancestor::w:del) and not(ancestor::w:moveFrom)"
                   f" and count(ancestor::w:p) = {depth + 1}]")
    return "".join(r.text for r in runs)


def _clean(text: str) -> str:
    # A soft line break inside a paragraph must not read as a paragraph break.
    text = re.sub(r"[ \t]*\n\s*", "\n", text.replace("\r", "\n"))
    return text.strip()
