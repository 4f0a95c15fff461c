"""Word documents (python-docx): one passage per non-empty paragraph, tables included in reading order."""
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
    """Paragraph texts in reading order: body paragraphs and the paragraphs in table cells."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            yield Paragraph(block, document).text
        elif tag == "tbl":
            for row in Table(block, document).rows:
                seen = set()
                for cell in row.cells:
                    if id(cell._tc) in seen:  # merged cells repeat
                        continue
                    seen.add(id(cell._tc))
                    for para in cell.paragraphs:
                        yield para.text


def _clean(text: str) -> str:
    # A soft line break inside a paragraph must not read as a paragraph break.
    text = re.sub(r"[ \t]*\n\s*", "\n", text.replace("\r", "\n"))
    return text.strip()
