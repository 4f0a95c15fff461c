"""Coding consistency end to end: import a coder's coding into the store, gather coders (and the model
as one more coder) for agreement, list disagreements, and export the corpus as a REFI-QDA project."""
from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from scr_text.codebook import Codebook
from scr_text.coding.spans import ImportReport, Span, code_index, normalise_name, place_spans, read_csv, read_jsonl
from scr_text.config import Settings
from scr_text.errors import UserError
from scr_text.records import BYTE_ORDER_MARK
from scr_text.store.database import Store

MODEL_CODER = "model"


@dataclass
class CodingImport:
    reports: list[ImportReport]  # one per coder
    notes: list[str] = field(default_factory=list)  # how the file was read
    left_out: list[str] = field(default_factory=list)  # what was not imported, and why


def import_coding(path: Path, coder: str | None, store: Store, settings: Settings, codebook: Codebook,
                  allow_identifiers: bool = False, uncoded: str = "absent") -> CodingImport:
    """Import one file of coding. Each coder's coding of each review replaces what the store held for that
    coder and review, in one transaction. ``uncoded`` says what a passage of a coded review that no span
    reaches means: "absent" (seen, no code) or "missing" (not rated); with "missing", a span with an empty
    code list marks a passage as rated with no code. A refused import leaves the store as it was."""
    if uncoded not in ("absent", "missing"):
        raise UserError(f"--uncoded must be 'absent' or 'missing' (got '{uncoded}')")
    suffix = path.suffix.lower()
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    result = CodingImport([])
    added: list[str] = []
    if suffix == ".jsonl":
        spans = read_jsonl(path)
    elif suffix == ".csv":
        spans = read_csv(path)
    elif suffix == ".qdpx":
        spans, result.notes, result.left_out, added = _qdpx_spans(path, store, settings, allow_identifiers)
    else:
        raise UserError(f"{path}: use a .jsonl, .csv or .qdpx file")
    try:
        if not spans:
            raise UserError(f"{path}: no coded spans" + "".join(f"; {line}" for line in result.left_out))
        by_coder: dict[str, list[Span]] = {}
        for span in spans:
            name = coder or span.coder
            if not name:
                raise UserError(f"{path}: a span names no coder; pass --coder NAME")
            by_coder.setdefault(name, []).append(span)
    except UserError:
        store.remove_documents(added)
        raise
    result.reports = [_import_for(name, spans_of, store, settings, codebook, uncoded == "missing")
                      for name, spans_of in by_coder.items()]
    return result


def _import_for(coder: str, spans: list[Span], store: Store, settings: Settings, codebook: Codebook,
                uncoded_missing: bool) -> ImportReport:
    from scr_text.nlp.restore import stored_passages
    from scr_text.nlp.segment import Segmenter

    report = ImportReport(coder, spans=len(spans))
    index = code_index(codebook)
    unmapped: Counter[str] = Counter()
    mapped_spans = []
    for span in spans:
        ids = []
        for name in span.codes:
            key = normalise_name(name)
            if key in index:
                ids.append(index[key])
            else:
                unmapped[name] += 1
        if uncoded_missing and span.codes and not ids:
            continue  # only codes outside the codebook: this span rates nothing we compare
        mapped_spans.append(Span(span.doc_id, span.start, span.end, ids, coder))
    report.unmapped_codes = dict(unmapped)
    known = set(store.doc_ids())
    report.unknown_documents = sorted({s.doc_id for s in mapped_spans if s.doc_id not in known})
    stored = [s for s in mapped_spans if s.doc_id in known]
    docs = sorted({s.doc_id for s in stored})
    # A span past the end of the stored text was measured on some other text: placing it would be a guess.
    length = {d: len(store.document(d).text) for d in docs}
    report.overrunning_spans = dict(Counter(s.doc_id for s in stored if s.end > length[s.doc_id]))
    stored = [s for s in stored if s.end <= length[s.doc_id]]
    segmenter = Segmenter.from_settings(settings)
    passages = {d: stored_passages(store, [d], segmenter) for d in docs}
    placed, report.unplaced_spans = place_spans(stored, passages, settings.coding.min_share,
                                                settings.coding.whole_sentence)
    rows: dict[str, dict[int, list[str]]] = {d: {} for d in docs}
    for (doc_id, passage), codes in placed.items():
        rows[doc_id][passage] = sorted(codes)
    store.replace_codings(coder, rows, "import", uncoded_missing)
    report.documents = docs
    report.passages_coded = sum(1 for codes in placed.values() if codes)
    return report


def _qdpx_spans(path: Path, store: Store, settings: Settings, allow_identifiers: bool):
    """Spans from a REFI-QDA project, with its sources in the store; and the notes, the left-out lines and
    the reviews this import added.

    A source already stored under its name is used only if the stored text is the same; one whose text is
    stored under another name is mapped onto that review. The rest are ingested with the guard, all or
    none: if one is refused, none stays."""
    from scr_text.coding.qdpx_import import read_qdpx
    from scr_text.ingest.intake import ingest_files
    from scr_text.privacy.guard import intake_check

    project = read_qdpx(path, settings.limits, settings.coding.qdpx_units)
    notes, left_out = list(project.notes), list(project.left_out)
    target: dict[str, tuple[str, int] | None] = {}  # source doc_id -> (review id, offset shift), None: left out
    missing, added = [], []
    stored_ids = set(store.doc_ids())
    for s in project.sources:
        if s.doc_id in stored_ids:
            stored = store.document(s.doc_id).text
            if stored.lstrip(BYTE_ORDER_MARK) == s.text.lstrip(BYTE_ORDER_MARK):
                target[s.doc_id] = (s.doc_id, _leading_marks(stored) - _leading_marks(s.text))
            else:
                target[s.doc_id] = None
                left_out.append(f"source '{s.name}': the stored review '{s.doc_id}' has different text, so its codings "
                                "were not imported (rename the source, or remove that review first)")
        elif (same := store.find_by_text(s.text)) is not None:
            target[s.doc_id] = (same, 0)
            notes.append(f"source '{s.name}' has the text of stored review '{same}': its codings go there")
        else:
            target[s.doc_id] = (s.doc_id, 0)
            missing.append(s)
    if missing:
        with tempfile.TemporaryDirectory() as tmp:
            files = []
            for s in missing:
                f = Path(tmp) / f"{s.doc_id}.txt"
                f.write_text(s.text, encoding="utf-8")
                files.append(f)
            report = ingest_files(files, store, settings, progress=False, check=intake_check(settings, allow_identifiers, store))
            if report.failed or report.duplicates:
                store.remove_documents(report.added)
                raise UserError("import refused, nothing stored: " + "; ".join(report.failed + report.duplicates))
            added = report.added
    spans = []
    for span in project.spans:
        placed = target[span.doc_id]
        if placed is not None:
            spans.append(Span(placed[0], span.start + placed[1], span.end + placed[1], span.codes, span.coder))
    return spans, notes, left_out, added


def _leading_marks(text: str) -> int:
    return len(text) - len(text.lstrip(BYTE_ORDER_MARK))


def gather(store: Store, coders: list[str] | None, include_model: bool, model_key: str | None) -> dict[str, dict]:
    """Coder name -> {(doc_id, passage): codes}, the model included as MODEL_CODER when asked."""
    names = coders or store.coders()
    missing = [c for c in names if c not in store.coders()]
    if missing:
        raise UserError(f"no coding in the store for: {', '.join(missing)} (known coders: {', '.join(store.coders()) or 'none'})")
    out = {c: store.codings(c) for c in names}
    if include_model:
        if model_key is None:
            raise UserError("no model tags in the store; run `scr-text run` first")
        out[MODEL_CODER] = store.model_codings(model_key)
        if not out[MODEL_CODER]:
            raise UserError("the model has tagged none of these reviews; run `scr-text run` on them first")
    if len(out) < 2:
        raise UserError("agreement needs at least two coders (import coding, or add --include-model)")
    return out


def export_sources(store: Store, doc_ids: list[str], codings: dict[str, dict]) -> list:
    from scr_text.coding.qdpx_export import ExportSource

    sources = []
    for d in doc_ids:
        spans = {p.index: (p.start, p.end) for p in store.passages(d)}
        selections = []
        for coder, coded in codings.items():
            for (doc_id, passage), codes in sorted(coded.items()):
                if doc_id == d and codes:
                    start, end = spans[passage]
                    selections.append((coder, start, end, codes))
        sources.append(ExportSource(d, store.document(d).text, selections))
    return sources
