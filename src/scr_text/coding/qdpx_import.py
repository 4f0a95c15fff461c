"""Read REFI-QDA projects (`.qdpx`) and codebooks (`.qdc`) from NVivo, ATLAS.ti, MAXQDA, QualCoder and scr-text.

Archives and XML from outside are untrusted: the zip is checked (entry count, unpacked size, path
traversal) before anything is read, and XML is parsed with defusedxml. Archive paths are matched
without regard to case (NVivo for Windows writes `Sources/`).

Nothing is placed by guesswork: positions are converted from the exporter's units (`qdpx_positions`),
checked against the selected text where the project gives it, and a selection that cannot be placed,
a source without plain text, and a PDF, picture or media selection are each named in ``left_out``.
"""
from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from scr_text.coding.qdpx_positions import ALL_CONVENTIONS, UNITS, Convention, PositionMap, normalise, text_matches
from scr_text.coding.spans import Span
from scr_text.config import Limits
from scr_text.errors import UserError
from scr_text.ingest.archive import check_zip

# Extensions tools append to a source's name; only these are taken off ("Interview 12.03.2021" keeps its dots).
_DOCUMENT_SUFFIXES = {".txt", ".text", ".md", ".docx", ".doc", ".rtf", ".odt", ".pdf", ".htm", ".html"}


@dataclass
class ImportedSource:
    doc_id: str
    name: str  # as the project names it
    text: str  # as scr-text stores it


@dataclass
class Project:
    origin: str
    convention: Convention | None  # None: the exporter is unknown and no selected text settled it
    sources: list[ImportedSource]
    spans: list[Span]  # offsets into each source's text
    codes: dict[str, str]  # code GUID -> name
    left_out: list[str] = field(default_factory=list)  # one line each: what was not imported, and why
    notes: list[str] = field(default_factory=list)  # how the project was read


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(elem, name: str):
    return [e for e in elem if _local(e.tag) == name]


def _guid(value: str | None) -> str:
    return (value or "").strip("{}").lower()


def _parse_xml(data: bytes, where: str):
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        return ElementTree.fromstring(data)
    except DefusedXmlException as exc:
        raise UserError(f"{where}: refused XML with entity or DTD tricks ({exc.__class__.__name__})") from exc
    except ElementTree.ParseError as exc:
        raise UserError(f"{where}: not well-formed XML ({exc})") from exc


def doc_id_for(name: str) -> str:
    """A review id from a source name: a document extension dropped, path separators made safe."""
    p = PurePosixPath(name.replace("\\", "/").split("/")[-1] if name else "")
    stem = p.stem if p.suffix.lower() in _DOCUMENT_SUFFIXES else p.name
    return re.sub(r"[\x00-\x1f]", "", stem).strip()


def default_convention(origin: str, units_by_exporter: dict[str, str]) -> Convention | None:
    """The convention configured for the exporter named in the project's ``origin`` (matched by substring)."""
    lowered = origin.lower()
    for key, units in units_by_exporter.items():
        if key.lower() in lowered:
            if units not in ("utf16", "codepoints"):
                raise UserError(f"coding.qdpx_units: '{key}' must be utf16 or codepoints (got '{units}')")
            return Convention(units, "stored")
    return None


class _Archive:
    def __init__(self, data: bytes):
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.names = {PurePosixPath(n.replace("\\", "/")).as_posix().lower(): n for n in self.zip.namelist()}

    def find(self, *candidates: str) -> str | None:
        for c in candidates:
            key = PurePosixPath(c.replace("\\", "/")).as_posix().lower()
            if key in self.names:
                return self.names[key]
        return None

    def text(self, name: str) -> str:
        data = self.zip.read(name)
        try:
            return data.decode("utf-8")  # a byte-order mark stays, as U+FEFF: positions do not count it
        except UnicodeDecodeError:
            return data.decode("cp1252", errors="replace")


def read_qdpx(path: Path, limits: Limits, units_by_exporter: dict[str, str]) -> Project:
    data = path.read_bytes()
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise UserError(f"{path}: not a REFI-QDA project (.qdpx is a zip archive)")
    check_zip(data, str(path), limits)
    archive = _Archive(data)
    qde = archive.find("project.qde") or next((real for low, real in archive.names.items() if low.endswith(".qde")), None)
    if qde is None:
        raise UserError(f"{path}: no project.qde inside")
    root = _parse_xml(archive.zip.read(qde), f"{path}:{qde}")
    if _local(root.tag) != "Project":
        raise UserError(f"{path}: {qde} is not a REFI-QDA project")
    users = {_guid(u.get("guid")): u.get("name") or u.get("guid") for u in root.iter() if _local(u.tag) == "User"}
    codes = {_guid(c.get("guid")): c.get("name", "") for c in root.iter() if _local(c.tag) == "Code"}
    origin = root.get("origin") or ""
    left_out: list[str] = []
    texts, selections = _text_sources(root, archive, left_out)
    sources, ids = _name_sources(texts)
    maps = [{} for _ in texts]  # per source: convention -> PositionMap, built when needed

    def span_under(k: int, convention: Convention, start: int, end: int):
        if convention not in maps[k]:
            maps[k][convention] = PositionMap(texts[k][1], convention)
        return maps[k][convention].span(start, end)

    normalised = [sources[i].text for i in ids]  # per text source, as stored
    convention, checked, notes = _choose_convention(origin, units_by_exporter, normalised, selections, span_under)
    spans, unplaced = [], Counter()
    for k, sel, start, end, given in selections:
        source = sources[ids[k]]
        placed = span_under(k, convention, start, end) if convention else _agreed_span(k, start, end, span_under)
        if placed is None:
            unplaced[(source.name, "its positions fall outside the text or inside a character" if convention else
                      "its positions mean different text in UTF-16 code units and in code points (set the exporter "
                      "in coding.qdpx_units)")] += 1
            continue
        if checked and given and not text_matches(given, source.text[placed[0]:placed[1]]):
            unplaced[(source.name, "the text at its positions is not the text the project gives for it")] += 1
            continue
        for coding in _children(sel, "Coding"):
            ref = next(iter(_children(coding, "CodeRef")), None)
            if ref is None:
                continue
            user = _guid(coding.get("creatingUser") or sel.get("creatingUser"))
            code = codes.get(_guid(ref.get("targetGUID")), ref.get("targetGUID", ""))
            spans.append(Span(source.doc_id, placed[0], placed[1], [code], users.get(user)))
    left_out += [f"{n} selection(s) on '{name}' not imported: {why}" for (name, why), n in sorted(unplaced.items())]
    return Project(origin, convention, sources, spans, codes, left_out, notes + _naming_notes(texts, sources, ids))


def _text_sources(root, archive: _Archive, left_out: list[str]):
    """(name, raw text) per text source, and (source index, selection, start, end, given text) per selection.
    PDF sources contribute their text representation; their page-region selections are left out."""
    sources_elem = next((e for e in root if _local(e.tag) == "Sources"), None)
    texts, selections = [], []
    for src in (list(sources_elem) if sources_elem is not None else []):
        kind = _local(src.tag)
        name = src.get("name") or src.get("guid") or "(unnamed)"
        if kind == "PDFSource":
            regions = len(_children(src, "PDFSelection"))
            if regions:
                left_out.append(f"{regions} PDF region selection(s) on '{name}' not imported: they mark page areas, "
                                "not text positions")
            for rep in _children(src, "Representation"):
                _add_text_source(rep, name, archive, texts, selections, left_out)
        elif kind == "TextSource":
            _add_text_source(src, name, archive, texts, selections, left_out)
        else:
            n = sum(_local(e.tag).endswith("Selection") for e in src.iter())
            if n:
                left_out.append(f"{n} selection(s) on {kind.replace('Source', '').lower()} source '{name}' not imported: "
                                "scr-text codes text only")
    return texts, selections


def _add_text_source(src, name: str, archive: _Archive, texts, selections, left_out) -> None:
    own = _children(src, "PlainTextSelection")
    content = next(iter(_children(src, "PlainTextContent")), None)
    raw = content.text if content is not None and content.text is not None else None
    ref = src.get("plainTextPath") or ""
    if raw is None and ref.startswith("internal://"):
        rel = ref[len("internal://"):]
        found = archive.find(f"sources/{rel}", rel)
        raw = archive.text(found) if found else None
    if raw is None:
        where = "its plain text is outside the archive" if ref else "it has no plain text"
        left_out.append(f"source '{name}' and its {len(own)} selection(s) not imported: {where} ({ref or 'no plainTextPath'})")
        return
    k = len(texts)
    texts.append((name, raw))
    for sel in own:
        try:
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
        except (TypeError, ValueError) as exc:
            raise UserError(f"a selection in '{name}' has no valid positions") from exc
        description = next((e.text or "" for e in _children(sel, "Description")), "")
        selections.append((k, sel, start, end, sel.get("name") or description))


def _name_sources(texts) -> tuple[list[ImportedSource], list[int]]:
    """One review per distinct text; a name already taken by a different text gets a numeric suffix."""
    sources: list[ImportedSource] = []
    by_text: dict[str, int] = {}
    taken: set[str] = set()
    ids = []
    for name, raw in texts:
        text = normalise(raw)
        if text in by_text:
            ids.append(by_text[text])
            continue
        base = doc_id_for(name) or "source"
        doc_id, n = base, 1
        while doc_id in taken:
            n += 1
            doc_id = f"{base}-{n}"
        taken.add(doc_id)
        by_text[text] = len(sources)
        ids.append(len(sources))
        sources.append(ImportedSource(doc_id, name, text))
    return sources, ids


def _naming_notes(texts, sources: list[ImportedSource], ids: list[int]) -> list[str]:
    notes = []
    for (name, _), i in zip(texts, ids):
        s = sources[i]
        if s.name != name:
            notes.append(f"source '{name}' has the same text as '{s.name}': one review, '{s.doc_id}', holds both's codings")
        elif s.doc_id != doc_id_for(name):
            notes.append(f"source '{name}' stored as '{s.doc_id}': another source with a different text has that name")
    return notes


def _choose_convention(origin, units_by_exporter, normalised, selections, span_under):
    """The project's convention: the one under which most selections hold the text the project gives for
    them (ties go to the exporter's configured convention), else the configured one. ``checked`` says
    whether the names are selected text, so that each selection can be held to its own."""
    default = default_convention(origin, units_by_exporter)
    votes = Counter()
    for k, _, start, end, given in selections:
        if not given:
            continue
        text = normalised[k]
        for c in ALL_CONVENTIONS:
            placed = span_under(k, c, start, end)
            if placed and text_matches(given, text[placed[0]:placed[1]]):
                votes[c] += 1
    exporter = f"exporter '{origin}'" if origin else "an unnamed exporter"
    if votes:
        best = max(votes.values())
        tied = [c for c in ALL_CONVENTIONS if votes[c] == best]
        chosen = default if default in tied else tied[0]
        return chosen, True, [f"positions read as {chosen}: {best} selected text(s) confirm it ({exporter})"]
    if default is not None:
        return default, False, [f"positions read as {default}, as configured for {exporter} (the project gives no "
                                "selected text to check them against)"]
    return None, False, [f"{exporter} is not in coding.qdpx_units: positions read with line ends as stored, and "
                         "a selection is placed only where UTF-16 code units and code points agree"]


def _agreed_span(k, start, end, span_under):
    found = {span_under(k, Convention(u, "stored"), start, end) for u in UNITS}
    return found.pop() if len(found) == 1 else None


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
