"""REFI-QDA exchange (NVivo, ATLAS.ti, MAXQDA, QualCoder): a `.qdpx` project (a zip holding
`project.qde` and the plain-text sources) and a `.qdc` codebook.

Archives and XML from outside are untrusted: the zip is checked (entry count, unpacked size, path
traversal) before anything is read, and XML is parsed with defusedxml.
"""
from __future__ import annotations

import io
import re
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from xml.sax.saxutils import escape as xml_escape

from .codebook import Codebook
from .coding import Span
from .config import Limits
from .errors import UserError
from .ingest.archive import check_zip

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
_NAMESPACE = uuid.UUID("6f1f6a52-1c6b-4f7e-9d2e-5c2a0b1e7d3a")  # scr-text's namespace for stable GUIDs


def guid(*parts: str) -> str:
    """The same object gets the same GUID in every export, so re-exports merge instead of duplicating."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _attr(value: str) -> str:
    return xml_escape(str(value), {'"': "&quot;"})


def codes_xml(codebook: Codebook) -> str:
    out = []
    for c in codebook.codes:
        description = c.definition + (f" Include: {c.include}" if c.include else "") + (f" Exclude: {c.exclude}" if c.exclude else "")
        out.append(f'<Code guid="{guid("code", c.id)}" name="{_attr(c.id)}" isCodable="true">'
                   f"<Description>{xml_escape(description.strip())}</Description></Code>")
    return "".join(out)


def codebook_qdc(codebook: Codebook) -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<CodeBook xmlns="{CODEBOOK_NS}"><Codes>{codes_xml(codebook)}</Codes></CodeBook>\n')


@dataclass
class ExportSource:
    doc_id: str
    text: str
    # (coder, start, end, codes) selections on this source
    selections: list[tuple[str, int, int, list[str]]]


def project_qde(name: str, codebook: Codebook, sources: list[ExportSource], coders: list[str]) -> str:
    users = "".join(f'<User guid="{guid("user", c)}" name="{_attr(c)}"/>' for c in coders)
    now = _now()
    parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{PROJECT_NS}" name="{_attr(name)}" '
             f'origin="scr-text" creationDateTime="{now}"><Users>{users}</Users>'
             f"<CodeBook><Codes>{codes_xml(codebook)}</Codes></CodeBook><Sources>"]
    for s in sources:
        sid = guid("source", s.doc_id)
        parts.append(f'<TextSource guid="{sid}" name="{_attr(s.doc_id)}.txt" plainTextPath="internal://{sid}.txt">')
        for coder, start, end, codes in s.selections:
            uid = guid("user", coder)
            sel = guid("selection", s.doc_id, coder, str(start), str(end))
            parts.append(f'<PlainTextSelection guid="{sel}" name="{_attr(s.doc_id)} {start}-{end}" startPosition="{start}" '
                         f'endPosition="{end}" creatingUser="{uid}" creationDateTime="{now}">')
            for code in codes:
                parts.append(f'<Coding guid="{guid("coding", sel, code)}" creatingUser="{uid}">'
                             f'<CodeRef targetGUID="{guid("code", code)}"/></Coding>')
            parts.append("</PlainTextSelection>")
        parts.append("</TextSource>")
    parts.append("</Sources></Project>\n")
    return "".join(parts)


def write_qdpx(out: Path, name: str, codebook: Codebook, sources: list[ExportSource], coders: list[str]) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", project_qde(name, codebook, sources, coders))
        for s in sources:
            z.writestr(f"sources/{guid('source', s.doc_id)}.txt", s.text.encode("utf-8"))
    tmp.replace(out)
    return out


# -- import -------------------------------------------------------------------------------

@dataclass
class ImportedSource:
    doc_id: str
    text: str


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse_xml(data: bytes, where: str):
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        return ElementTree.fromstring(data)
    except DefusedXmlException as exc:
        raise UserError(f"{where}: refused XML with entity or DTD tricks ({exc.__class__.__name__})") from exc
    except ElementTree.ParseError as exc:
        raise UserError(f"{where}: not well-formed XML ({exc})") from exc


def _normalised_offsets(text: str):
    """Map offsets in text with \\r\\n or \\r line ends to offsets in the text as scr-text reads it."""
    removed = [0] * (len(text) + 1)
    count = 0
    for i, ch in enumerate(text):
        removed[i] = count
        if ch == "\r" and i + 1 < len(text) and text[i + 1] == "\n":
            count += 1
    removed[len(text)] = count
    return lambda pos: pos - removed[max(0, min(pos, len(text)))]


def read_qdpx(path: Path, limits: Limits) -> tuple[list[ImportedSource], list[Span], dict[str, str]]:
    """Sources (text as scr-text reads it), coded spans (coder = the coding user's name), and code names."""
    data = path.read_bytes()
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise UserError(f"{path}: not a REFI-QDA project (.qdpx is a zip archive)")
    check_zip(data, str(path), limits)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = {PurePosixPath(n.replace("\\", "/")).as_posix(): n for n in z.namelist()}
        qde = next((n for n in names if n.lower().endswith(".qde")), None)
        if qde is None:
            raise UserError(f"{path}: no project.qde inside")
        root = _parse_xml(z.read(names[qde]), f"{path}:{qde}")
        if _local(root.tag) != "Project":
            raise UserError(f"{path}: {qde} is not a REFI-QDA project")
        users = {u.get("guid", "").strip("{}").lower(): u.get("name") or u.get("guid") for u in root.iter() if _local(u.tag) == "User"}
        codes = {c.get("guid", "").strip("{}").lower(): c.get("name", "") for c in root.iter() if _local(c.tag) == "Code"}
        sources, spans = [], []
        for src in (e for e in root.iter() if _local(e.tag) == "TextSource"):
            doc_id = Path(src.get("name") or src.get("guid")).stem
            text = _source_text(z, names, src, path)
            to_ours = _normalised_offsets(text)
            sources.append(ImportedSource(doc_id, text.replace("\r\n", "\n").replace("\r", "\n")))
            for sel in (e for e in src if _local(e.tag) == "PlainTextSelection"):
                try:
                    start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
                except (TypeError, ValueError) as exc:
                    raise UserError(f"{path}: a selection in '{doc_id}' has no valid positions") from exc
                for coding in (e for e in sel if _local(e.tag) == "Coding"):
                    ref = next((e for e in coding if _local(e.tag) == "CodeRef"), None)
                    if ref is None:
                        continue
                    user = (coding.get("creatingUser") or sel.get("creatingUser") or "").strip("{}").lower()
                    code_name = codes.get(ref.get("targetGUID", "").strip("{}").lower(), ref.get("targetGUID", ""))
                    spans.append(Span(doc_id, to_ours(start), to_ours(end), [code_name], users.get(user)))
    return sources, spans, codes


def _source_text(z: zipfile.ZipFile, names: dict[str, str], src, path: Path) -> str:
    content = next((e for e in src if _local(e.tag) == "PlainTextContent"), None)
    if content is not None and content.text is not None:
        return content.text
    ref = src.get("plainTextPath") or ""
    rel = re.sub(r"^internal://", "", ref)
    candidates = [f"sources/{rel}", rel]
    for c in candidates:
        key = PurePosixPath(c).as_posix()
        if key in names:
            return z.read(names[key]).decode("utf-8-sig")
    raise UserError(f"{path}: source '{src.get('name')}' has no readable plain text ({ref or 'no path'})")


def read_qdc(path: Path) -> list[tuple[str, str]]:
    """(name, description) of every code in a .qdc codebook (nested codes included)."""
    root = _parse_xml(path.read_bytes(), str(path))
    if _local(root.tag) != "CodeBook":
        raise UserError(f"{path}: not a REFI-QDA codebook")
    out = []
    for c in (e for e in root.iter() if _local(e.tag) == "Code"):
        desc = next((e.text or "" for e in c if _local(e.tag) == "Description"), "")
        out.append((c.get("name", ""), desc))
    return out
