"""Word documents (python-docx): one passage per non-empty paragraph; tables in reading order, a row at a time."""
from __future__ import annotations

import io
import re
import zipfile

from ..config import Limits
from ..errors import IngestError
from .archive import check_zip


def read_docx(data: bytes, path: str, limits: Limits) -> tuple[str, int]:
    """Return the document's text (paragraphs separated by one blank line) and its page count (1)."""
    import docx  # python-docx; imported here so that plain-text users do not pay for lxml
    from docx.opc.exceptions import PackageNotFoundError

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise IngestError(path, "is not a valid DOCX file (not a zip archive)")
    check_zip(data, path, limits)
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise IngestError(path, "is not a valid DOCX file") from exc
    except Exception as exc:  # lxml's XMLSyntaxError and friends: a damaged package
        raise IngestError(path, f"is a damaged DOCX file ({exc.__class__.__name__})") from exc

    paragraphs = [_clean(p) for p in _body_paragraphs(document)]
    return "\n\n".join(p for p in paragraphs if p), 1


def _body_paragraphs(document):
    """Paragraph texts in reading order: body paragraphs, and each table row as one paragraph, its cells
    joined by " | ". A chronology row (date | agency | event) is one record, and the event is read with its
    date and agency. A row of one cell is a box around ordinary text, so its paragraphs stay apart."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            yield Paragraph(block, document).text
        elif tag == "tbl":
            for row in Table(block, document).rows:
                cells = list({id(cell._tc): cell for cell in row.cells}.values())  # merged cells repeat
                if len(cells) == 1:
                    yield from (para.text for para in cells[0].paragraphs)
                    continue
                texts = [" ".join(_clean(para.text).replace("\n", " ") for para in cell.paragraphs) for cell in cells]
                yield " | ".join(t.strip() for t in texts if t.strip())


def _clean(text: str) -> str:
    # A soft line break inside a paragraph must not read as a paragraph break.
    text = re.sub(r"[ \t]*\n\s*", "\n", text.replace("\r", "\n"))
    return text.strip()
