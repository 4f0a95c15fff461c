"""Coding consistency end to end: import a coder's coding into the store, gather coders (and the model
as one more coder) for agreement, list disagreements, and export the corpus as a REFI-QDA project."""
from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from .codebook import Codebook
from .coding import ImportReport, Span, code_index, normalise_name, place_spans, read_csv, read_jsonl
from .config import Settings
from .errors import UserError
from .store import Store

MODEL_CODER = "model"


def import_coding(path: Path, coder: str | None, store: Store, settings: Settings, codebook: Codebook,
                  allow_identifiers: bool = False, uncoded: str = "absent") -> list[ImportReport]:
    """Import one file of coding; one report per coder in it. Each coder's coding of each review replaces
    what the store held for that coder and review, in one transaction. ``uncoded`` says what a passage of a
    coded review that no span reaches means: "absent" (seen, no code) or "missing" (not rated); with
    "missing", a span with an empty code list marks a passage as rated with no code."""
    if uncoded not in ("absent", "missing"):
        raise UserError(f"--uncoded must be 'absent' or 'missing' (got '{uncoded}')")
    suffix = path.suffix.lower()
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    if suffix == ".jsonl":
        spans = read_jsonl(path)
    elif suffix == ".csv":
        spans = read_csv(path)
    elif suffix == ".qdpx":
        spans = _qdpx_spans(path, store, settings, allow_identifiers)
    else:
        raise UserError(f"{path}: use a .jsonl, .csv or .qdpx file")
    if not spans:
        raise UserError(f"{path}: no coded spans")
    by_coder: dict[str, list[Span]] = {}
    for span in spans:
        name = coder or span.coder
        if not name:
            raise UserError(f"{path}: a span names no coder; pass --coder NAME")
        by_coder.setdefault(name, []).append(span)
    return [_import_for(name, spans_of, store, settings, codebook, uncoded == "missing") for name, spans_of in by_coder.items()]


def _import_for(coder: str, spans: list[Span], store: Store, settings: Settings, codebook: Codebook,
                uncoded_missing: bool) -> ImportReport:
    from .segment import Segmenter
    from .train import stored_passages

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
    segmenter = Segmenter(settings.segment, settings.limits.max_passages_per_document)
    passages = {d: stored_passages(store, [d], segmenter) for d in docs}
    cfg = settings.extra.get("coding", {})
    placed, report.unplaced_spans = place_spans(stored, passages,
                                                float(cfg.get("min_share", 0.5)), bool(cfg.get("whole_sentence", True)))
    rows: dict[str, dict[int, list[str]]] = {d: {} for d in docs}
    for (doc_id, passage), codes in placed.items():
        rows[doc_id][passage] = sorted(codes)
    store.replace_codings(coder, rows, "import", uncoded_missing)
    report.documents = docs
    report.passages_coded = sum(1 for codes in placed.values() if codes)
    return report


def _qdpx_spans(path: Path, store: Store, settings: Settings, allow_identifiers: bool) -> list[Span]:
    """Spans from a REFI-QDA project; its sources not yet in the store are ingested first (with the guard)."""
    from .intake import ingest_files
    from .qdpx import read_qdpx
    from .run import intake_check

    sources, spans, _ = read_qdpx(path, settings.limits)
    stored = set(store.doc_ids())
    missing = [s for s in sources if s.doc_id not in stored]
    if missing:
        with tempfile.TemporaryDirectory() as tmp:
            files = []
            for s in missing:
                f = Path(tmp) / f"{s.doc_id}.txt"
                f.write_text(s.text, encoding="utf-8")
                files.append(f)
            report = ingest_files(files, store, settings, progress=False, check=intake_check(settings, allow_identifiers, store))
            if report.failed:
                raise UserError("; ".join(report.failed))
    return spans


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
    from .qdpx import ExportSource

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
