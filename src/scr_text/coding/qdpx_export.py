"""REFI-QDA export (for NVivo, ATLAS.ti, MAXQDA, QualCoder): a `.qdpx` project (a zip holding
`project.qde` and the plain-text sources) and a `.qdc` codebook. Reading them is `qdpx_import`.

Sources are written as stored, in UTF-8; positions are code points into that text, not counting a leading
byte-order mark (tools skip one), so a review kept with its mark comes back with it.
"""
from __future__ import annotations

import re
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from scr_text.codebook import Codebook
from scr_text.records import BYTE_ORDER_MARK

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
    # (coder, start, end, codes) selections on this source, offsets into ``text``
    selections: list[tuple[str, int, int, list[str]]]

    @property
    def shift(self) -> int:
        """How far every offset moves in the export: a leading byte-order mark is not counted."""
        return len(self.text) - len(self.text.lstrip(BYTE_ORDER_MARK))


def project_qde(name: str, codebook: Codebook, sources: list[ExportSource], coders: list[str]) -> str:
    users = "".join(f'<User guid="{guid("user", c)}" name="{_attr(c)}"/>' for c in coders)
    now = _now()
    parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{PROJECT_NS}" name="{_attr(name)}" '
             f'origin="scr-text" creationDateTime="{now}"><Users>{users}</Users>'
             f"<CodeBook><Codes>{codes_xml(codebook)}</Codes></CodeBook><Sources>"]
    for s in sources:
        sid = guid("source", s.doc_id)
        shift = s.shift
        parts.append(f'<TextSource guid="{sid}" name="{_attr(s.doc_id)}.txt" plainTextPath="internal://{sid}.txt">')
        for coder, start, end, codes in s.selections:
            start, end = start - shift, end - shift
            uid = guid("user", coder)
            sel = guid("selection", s.doc_id, coder, str(start), str(end))
            # The name is the selected text (shortened, as other tools do): readers can check the positions.
            parts.append(f'<PlainTextSelection guid="{sel}" name="{_attr(_shortened(s.text[shift:][start:end]))}" startPosition="{start}" '
                         f'endPosition="{end}" creatingUser="{uid}" creationDateTime="{now}">')
            for code in codes:
                parts.append(f'<Coding guid="{guid("coding", sel, code)}" creatingUser="{uid}">'
                             f'<CodeRef targetGUID="{guid("code", code)}"/></Coding>')
            parts.append("</PlainTextSelection>")
        parts.append("</TextSource>")
    parts.append("</Sources></Project>\n")
    return "".join(parts)


def _shortened(text: str, limit: int = 200) -> str:
    text = re.sub(r"[\x00-\x08\x0e-\x1f]", "", " ".join(text.split()))  # XML 1.0 allows no other controls
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def write_qdpx(out: Path, name: str, codebook: Codebook, sources: list[ExportSource], coders: list[str]) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", project_qde(name, codebook, sources, coders))
        for s in sources:
            z.writestr(f"sources/{guid('source', s.doc_id)}.txt", s.text.encode("utf-8"))
    tmp.replace(out)
    return out
