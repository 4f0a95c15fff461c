"""Coders' coding: read it (JSONL, CSV, REFI-QDA), map its code names to codebook ids, map its spans to
passages, and keep it in the store as that coder's passage-level codes."""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from scr_text.codebook import Codebook
from scr_text.errors import UserError
from scr_text.records import Passage


@dataclass
class Span:
    doc_id: str
    start: int
    end: int
    codes: list[str]
    coder: str | None = None


@dataclass
class ImportReport:
    coder: str
    documents: list[str] = field(default_factory=list)
    passages_coded: int = 0
    spans: int = 0
    unmapped_codes: dict[str, int] = field(default_factory=dict)
    unknown_documents: list[str] = field(default_factory=list)
    unplaced_spans: int = 0  # spans that covered no passage enough to count
    overrunning_spans: dict[str, int] = field(default_factory=dict)  # review -> spans ending past its text

    def summary(self) -> str:
        parts = [f"coder '{self.coder}': {self.spans} span(s) in {len(self.documents)} review(s) -> "
                 f"{self.passages_coded} coded passage(s)"]
        if self.unmapped_codes:
            parts.append("unmapped codes (not in the codebook): " +
                         ", ".join(f"'{k}' x{v}" for k, v in sorted(self.unmapped_codes.items())))
        if self.unknown_documents:
            parts.append("reviews not in the store (ingest them first): " + ", ".join(sorted(set(self.unknown_documents))))
        if self.unplaced_spans:
            parts.append(f"{self.unplaced_spans} span(s) too short to count for any passage")
        if self.overrunning_spans:
            parts.append("span(s) ending past their review's text, not imported (offsets into another version of "
                         "it?): " + ", ".join(f"{d} x{n}" for d, n in sorted(self.overrunning_spans.items())))
        return "; ".join(parts)


def normalise_name(name: str) -> str:
    """A code name as imports match it: case, underscores, hyphens and spacing ignored."""
    return re.sub(r"[\s_\-]+", " ", name.strip().lower()).strip()


def code_index(codebook: Codebook) -> dict[str, str]:
    """Normalised id and label -> code id: how imported code names are recognised."""
    out = {}
    for c in codebook.codes:
        out[normalise_name(c.id)] = c.id
        out[normalise_name(c.label)] = c.id
    return out


def _checked(span: Span, where: str) -> Span:
    if not 0 <= span.start < span.end:
        raise UserError(f"{where}: start must be 0 or more and before end (got start {span.start}, end {span.end})")
    return span


def read_jsonl(path: Path) -> list[Span]:
    spans = []
    for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            codes = row["codes"] if isinstance(row["codes"], list) else [row["codes"]]
            span = Span(str(row["doc_id"]), int(row["start"]), int(row["end"]), [str(c) for c in codes], row.get("coder"))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise UserError(f"{path}:{n}: needs doc_id, start, end and codes ({exc.__class__.__name__})") from exc
        spans.append(_checked(span, f"{path}:{n}"))
    return spans


def read_csv(path: Path) -> list[Span]:
    spans = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"doc_id", "start", "end", "codes"} - set(reader.fieldnames or [])
        if missing:
            raise UserError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for n, row in enumerate(reader, 2):
            try:
                codes = [c.strip() for c in re.split(r"[;|]", row["codes"] or "") if c.strip()]
                span = Span(row["doc_id"], int(row["start"]), int(row["end"]), codes, row.get("coder") or None)
            except ValueError as exc:
                raise UserError(f"{path}:{n}: start and end must be whole numbers") from exc
            spans.append(_checked(span, f"{path}:{n}"))
    return spans


def place_spans(spans: list[Span], passages: dict[str, list[Passage]], min_share: float,
                whole_sentence: bool) -> tuple[dict[tuple[str, int], set[str]], int]:
    """Passage -> codes: a span counts for a passage it overlaps when it covers at least ``min_share`` of
    it, or one of its sentences whole. Returns the mapping and the number of spans placed nowhere."""
    out: dict[tuple[str, int], set[str]] = {}
    unplaced = 0
    for span in spans:
        placed = False
        for p in passages.get(span.doc_id, []):
            overlap = min(span.end, p.end) - max(span.start, p.start)
            if overlap <= 0:
                continue
            ok = overlap >= min_share * (p.end - p.start)
            if not ok and whole_sentence and p.analysis is not None:
                ok = any(span.start <= p.start + s.start_char and p.start + s.end_char <= span.end for s in p.analysis.sents)
            if ok:
                out.setdefault((p.doc_id, p.index), set()).update(span.codes)
                placed = True
        unplaced += not placed
    return out, unplaced
