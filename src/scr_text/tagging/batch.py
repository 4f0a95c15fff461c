"""A tagger's input: passages with their embeddings and rule hits (a ``Batch``), for new text or a labelled corpus."""
from __future__ import annotations

import numpy as np

from scr_text.codebook import Codebook
from scr_text.config import Settings
from scr_text.corpus import GoldCorpus, gold_labels
from scr_text.embed.encoder import Embedder
from scr_text.errors import UserError
from scr_text.ingest.intake import ingest_files
from scr_text.nlp.restore import stored_passages
from scr_text.nlp.segment import Segmenter
from scr_text.records import Passage
from scr_text.store.database import Store
from scr_text.tagging.features import Batch
from scr_text.tagging.rules import RuleTagger


def make_batch(passages: list[Passage], embedder: Embedder, rules: RuleTagger) -> Batch:
    return Batch(passages, embedder.transform([p.text for p in passages]), rules.transform(passages))


def corpus_batch(corpus: GoldCorpus, store: Store, settings: Settings, codebook: Codebook,
                 segmenter: Segmenter, progress: bool = True) -> tuple[Batch, np.ndarray, np.ndarray, Embedder]:
    """Ingest a labelled corpus into the store and return (batch, gold labels, review groups, embedder)."""
    report = ingest_files([corpus.texts], store, settings, segmenter=segmenter, progress=progress)
    if report.failed:
        raise UserError("; ".join(report.failed))
    if report.duplicates:  # gold rows are keyed by file stem: a review stored under another id cannot be labelled
        raise UserError("; ".join(report.duplicates) + " (use a fresh --store for training)")
    passages = stored_passages(store, sorted(report.added + report.replaced + report.unchanged), segmenter)
    Y = gold_labels(passages, corpus.passages, codebook.ids)  # checked before the costly embedding
    groups = np.array([p.doc_id for p in passages])
    if len(set(groups)) < 2:
        raise UserError(f"{corpus.root}: training and evaluation need at least two labelled reviews "
                        f"(folds are grouped by review); found {len(set(groups))}")
    embedder = Embedder(settings.embed, cache=store, progress=progress)
    batch = make_batch(passages, embedder, RuleTagger(codebook, segmenter.nlp))
    return batch, Y, groups, embedder
