"""Tag review files or stored documents and produce the `tag` JSONL contract (one object per passage).

Tags of stored documents are kept in the store under the model's key, so that a re-run with the
same model and codebook tags nothing again.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm

from scr_text.ingest import read_documents
from scr_text.records import TagTable
from scr_text.tables import write_jsonl
from scr_text.tagging.components import Components, load_tagger


def as_table(results, codes: list[str]) -> TagTable:
    """The tagger's output for some passages (``PassageTags``) as a ``TagTable``."""
    results = list(results)
    scores = np.array([[r.scores.get(c, 0.0) for c in codes] for r in results], dtype=float).reshape(-1, len(codes))
    decided = np.array([[c in r.codes for c in codes] for r in results], dtype=bool).reshape(-1, len(codes))
    return TagTable(list(codes), [r.passage for r in results], scores, decided, [r.evidence() for r in results])


def tag_files(inputs, out: Path, parts: Components, progress: bool = True) -> tuple[int, int, list[str]]:
    """Tag files without storing them. Returns (documents tagged, passages written, one line per failed file)."""
    documents, failed = read_documents(inputs, parts.settings)
    segmenter = parts.file_segmenter
    # The rules match on the same spaCy pipeline that parses the files.
    tagger = load_tagger(parts.model, parts.codebook, segmenter, parts.settings.tagger.exemplars, parts.embedder)

    def rows():
        for document in tqdm(documents, desc="tag", unit="doc", disable=not progress or len(documents) < 2):
            (passages,) = segmenter.transform([document])
            for result in tagger.tag(passages, parts.embed(passages)):
                yield result.to_json()

    return len(documents), write_jsonl(rows(), out), failed


def tag_stored(parts: Components, doc_ids: list[str], run_id: int | None = None,
               progress: bool = True) -> tuple[str, TagTable]:
    """Tag stored documents that have no tags from this model yet; return (model key, their tags)."""
    store, key = parts.store, parts.model_key
    todo = [d for d in doc_ids if not store.has_tags(key, d)]
    for doc_id in tqdm(todo, desc="tag", unit="doc", disable=not progress or len(todo) < 2):
        passages = parts.stored_passages([doc_id])
        results = parts.tagger.tag(passages, parts.embed(passages))
        store.put_tags(key, run_id, [row for r in results for row in r.store_rows()])
    codes = parts.codebook.ids
    return key, TagTable.concat(codes, [store.tags(key, d, codes) for d in doc_ids])
