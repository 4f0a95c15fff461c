"""Bring files into the store: read, segment, store; one transaction per file.

A failed file is reported with one line and leaves nothing behind; the rest of the batch
goes on. A file whose content is already stored under its id is skipped without work.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from tqdm import tqdm

from scr_text import ingest
from scr_text.config import Settings
from scr_text.errors import DuplicateDocument, IngestError, UserError
from scr_text.hashing import file_sha256
from scr_text.nlp.segment import Segmenter, to_bytes
from scr_text.store.database import Store

# A check run on each document's passages before it is stored; returns one line per problem (empty: fine).
PassageCheck = Callable[[list], list[str]]


@dataclass
class IntakeReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # one line each
    failed: list[str] = field(default_factory=list)  # one line each: "path: reason"
    warnings: list[str] = field(default_factory=list)  # one line each: stored, but worth a look

    @property
    def ok(self) -> bool:
        return not self.failed and not self.duplicates

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.replaced)} replaced, {len(self.unchanged)} unchanged, "
            f"{len(self.duplicates)} duplicate(s) skipped, {len(self.failed)} failed"
        )


def ingest_files(
    inputs: Iterable[str | Path],
    store: Store,
    settings: Settings,
    segmenter: Segmenter | None = None,
    check: PassageCheck | None = None,
    progress: bool = True,
) -> IntakeReport:
    report = IntakeReport()
    paths = list(ingest.expand_inputs(inputs))
    if not paths:
        raise UserError("no input files found")
    # Build the spaCy pipeline only once a file actually needs segmenting.
    get_segmenter = functools.cache(
        lambda: segmenter or Segmenter.from_settings(settings)
    )
    for path in tqdm(paths, desc="ingest", unit="file", disable=not progress or len(paths) < 2):
        try:
            status, doc_id, warnings = _ingest_one(path, store, settings, get_segmenter, check)
        except DuplicateDocument as exc:
            report.duplicates.append(str(exc))
            continue
        except UserError as exc:
            report.failed.append(str(exc))
            continue
        getattr(report, status).append(doc_id)
        report.warnings += [f"{path}: {w}" for w in warnings]
    return report


def _ingest_one(path: Path, store: Store, settings: Settings, get_segmenter: Callable[[], Segmenter],
                check) -> tuple[str, str, list[str]]:
    resolved = str(path.resolve())
    # Fast path: the same bytes already stored from this file -> nothing to do.
    if path.is_file() and path.suffix.lower() in ingest.SUPPORTED:
        existing = store.find_by_sha(file_sha256(path))
        if existing is not None:
            stored = store.document(existing)
            if stored.source_path == resolved or existing == path.stem:
                return "unchanged", existing, []
            raise DuplicateDocument(str(path), existing)
    document = ingest.read(path, settings)
    document.doc_id = store.claim_doc_id(document)
    segmenter = get_segmenter()
    (passages,) = segmenter.transform([document])
    if not passages:
        raise IngestError(str(path), "has no passages")
    if check is not None:
        problems = check(passages)
        if problems:
            raise IngestError(str(path), "; ".join(problems))
    status = store.add_document(document, passages, to_bytes(passages, segmenter.nlp), segmenter.model_id)
    warnings = list(document.warnings)
    # The same review as another file (a DOCX and its TXT): stored, but said, so that one can be removed.
    for other, share in store.similar_reviews(document.doc_id, settings.intake.same_review_share):
        warnings.append(f"{share:.0%} of its passages are word for word in stored review '{other}': the same review "
                        f"twice? (`scr-text remove {document.doc_id}` takes this one out)")
    return status, document.doc_id, warnings
