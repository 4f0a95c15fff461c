"""Stored passages with their spaCy analyses restored from the store, so nothing is parsed twice."""
from __future__ import annotations

from scr_text.nlp.segment import Segmenter, from_bytes
from scr_text.records import Passage
from scr_text.store.database import Store


def stored_passages(store: Store, doc_ids: list[str], segmenter: Segmenter) -> list[Passage]:
    """Passages of stored documents with their spaCy analyses restored (no re-parsing)."""
    out = []
    for doc_id in doc_ids:
        passages = store.passages(doc_id)
        data, model = store.analysis(doc_id)
        if data is not None and model == segmenter.model_id:
            from_bytes(data, passages, segmenter.nlp)
        else:  # analysed by another pipeline: parse again
            fresh = segmenter.transform([store.document(doc_id)])[0]
            for p, f in zip(passages, fresh):
                p.analysis = f.analysis
        out += passages
    return out
