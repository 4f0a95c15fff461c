"""Ingestion: one reader per format behind ``read(path) -> Document``.

Every reader returns text whose paragraphs are separated by one blank line, so that
segmentation treats a text file, a DOCX and a rebuilt PDF alike.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable, Iterator

from scr_text.config import Settings
from scr_text.errors import IngestError, UserError
from scr_text.ingest.docx import read_docx
from scr_text.ingest.pdf import read_pdf
from scr_text.ingest.text import garbled_warning, read_text
from scr_text.records import BYTE_ORDER_MARK, Document

SUPPORTED = {".txt": "txt", ".md": "md", ".docx": "docx", ".pdf": "pdf"}


def _folder_files(folder: Path) -> Iterator[Path]:
    """A folder's files, recursively and sorted, hidden ones left out."""
    return (child for child in sorted(folder.rglob("*")) if child.is_file() and not child.name.startswith("."))


def expand_inputs(inputs: Iterable[str | Path]) -> Iterator[Path]:
    """Files as given, and folders expanded to their supported files (recursively, sorted).

    A named file with an unsupported extension is still yielded, so that ``read`` can
    report it; inside folders such files are passed over (``unsupported_in_folders`` lists them).
    """
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            yield from (child for child in _folder_files(p) if child.suffix.lower() in SUPPORTED)
        else:
            yield p


def unsupported_in_folders(inputs: Iterable[str | Path]) -> list[Path]:
    """The files ``expand_inputs`` passes over inside the given folders: of a type no reader takes."""
    return [child for item in inputs if Path(item).is_dir()
            for child in _folder_files(Path(item)) if child.suffix.lower() not in SUPPORTED]


def read(path: str | Path, settings: Settings, doc_id: str | None = None) -> Document:
    """Read one file into a Document, or raise IngestError naming the file and the reason."""
    p = Path(path)
    name = str(p)
    if not p.exists():  # before the type check: a mistyped path is the likelier mistake
        raise IngestError(name, "no such file or folder")
    fmt = SUPPORTED.get(p.suffix.lower())
    if fmt is None:
        raise IngestError(name, f"unsupported file type '{p.suffix or '(none)'}' (use .txt, .md, .docx or .pdf)")
    if not p.is_file():
        raise IngestError(name, "is not a regular file")
    size = p.stat().st_size
    if size > settings.limits.max_file_bytes:
        raise IngestError(name, f"is {size} bytes (limit {settings.limits.max_file_bytes})")
    data = p.read_bytes()
    if not data.strip():
        raise IngestError(name, "is empty")

    pages = 1
    if fmt in ("txt", "md"):
        text = read_text(data, name)
    elif fmt == "docx":
        text, pages = read_docx(data, name, settings.limits)
    else:
        text, pages = read_pdf(data, name, settings.limits, settings.pdf)
    warning = garbled_warning(text, settings.pdf.garbled_share) if fmt == "pdf" else None

    if not text.lstrip(BYTE_ORDER_MARK).strip():
        raise IngestError(name, "has no text" if fmt != "txt" else "is empty (whitespace only)")
    if len(text) > settings.limits.max_text_chars:
        raise IngestError(name, f"has {len(text)} characters of text (limit {settings.limits.max_text_chars})")
    return Document(
        doc_id=doc_id or p.stem,
        source_path=str(p.resolve()),
        format=fmt,
        sha256=hashlib.sha256(data).hexdigest(),
        text=text,
        pages=pages,
        warnings=[warning] if warning else [],
    )


def unique_ids(paths: list[Path]) -> list[str]:
    """File stems, made unique within a batch by a numeric suffix (a/notes.txt, b/notes.txt -> notes, notes-2)."""
    seen: dict[str, int] = {}
    ids = []
    for p in paths:
        stem = p.stem or "document"
        n = seen.get(stem, 0) + 1
        seen[stem] = n
        ids.append(stem if n == 1 else f"{stem}-{n}")
    return ids


def read_documents(inputs, settings: Settings) -> tuple[list[Document], list[str]]:
    """Documents from files and folders (ids: file stems made unique), and one line per file that failed."""
    paths = list(expand_inputs(inputs))
    if not paths:
        raise UserError("no input files found")
    documents, failed = [], []
    for path, doc_id in zip(paths, unique_ids(paths)):
        try:
            documents.append(read(path, settings, doc_id=doc_id))
        except UserError as exc:
            failed.append(str(exc))
    return documents, failed
