"""Prepare passages for tagging (segment, embed, rule features) and train the tagger on a labelled corpus."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import ingest
from .codebook import Codebook
from .config import Settings, classifier_options
from .corpus import GoldCorpus, gold_labels
from .embed import Embedder
from .errors import UserError
from .evaluate import cross_validate
from .features import Batch
from .intake import ingest_files
from .locations import project_dir
from .model_card import library_versions
from .records import Document, Passage
from .rules import RuleTagger
from .segment import Segmenter, from_bytes
from .store import Store
from .tagger import Stages, TaggerModel


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


def read_documents(inputs, settings: Settings) -> tuple[list[Document], list[str]]:
    """Documents from files and folders (ids: file stems made unique), and one line per file that failed."""
    paths = list(ingest.expand_inputs(inputs))
    if not paths:
        raise UserError("no input files found")
    documents, failed = [], []
    for path, doc_id in zip(paths, ingest.unique_ids(paths)):
        try:
            documents.append(ingest.read(path, settings, doc_id=doc_id))
        except UserError as exc:
            failed.append(str(exc))
    return documents, failed


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


def train(corpus: GoldCorpus, store: Store, settings: Settings, codebook: Codebook, out: Path, name: str,
          folds: int = 5, progress: bool = True) -> TaggerModel:
    segmenter = Segmenter(settings.segment, settings.limits.max_passages_per_document)
    batch, Y, groups, embedder = corpus_batch(corpus, store, settings, codebook, segmenter, progress)
    options = classifier_options(settings, codebook)
    cv = cross_validate(batch, Y, groups, codebook.ids, folds=folds, systems=("combined",),
                        options=options)["systems"]["combined"]
    stages = Stages.fit(batch, Y, groups, codebook.ids, options)
    meta = [{"doc_id": p.doc_id, "start": p.start, "end": p.end, "text": p.text} for p in batch.passages]
    card = {
        "name": name,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "corpus": _display_path(corpus.root),
        "corpus_hash": corpus.fingerprint(),
        "n_documents": len(set(groups)),
        "n_passages": len(batch.passages),
        "embedding_model": embedder.model_id,
        "spacy_model": segmenter.model_id,
        "libraries": library_versions(),
        **options,
        "thresholds": dict(zip(codebook.ids, map(float, stages.thresholds))),
        # How many reviews teach each code: a code carried by a handful is the most fragile on new reviews.
        "coded_reviews": {c: len(set(groups[Y[:, j] == 1])) for j, c in enumerate(codebook.ids)},
        "review_gated": [c for c, g in zip(codebook.ids, stages.classifier.gated_) if g],
        "rules_decide": [c for c, r in zip(codebook.ids, stages.rules_decide) if r],
        "cv": {"folds": folds, **cv},
    }
    # Case facts are learnt from the tagger's out-of-fold scores, as they will see unseen reviews' tags.
    from .config import load_fact_config
    from .facts import FactExtractor, cross_validate_facts, reviews_from, save_fact_models, score_facts

    gold = {row["doc_id"]: row for row in corpus.cases}
    # Only reviews with a cases.csv row teach facts (an exported corpus may lack some: `export-corpus`).
    reviews = [r for r in reviews_from(batch.passages, stages.oof_proba, stages.thresholds) if r.doc_id in gold]
    if len(reviews) >= 2:
        fact_cfg = load_fact_config()
        fact_rows = cross_validate_facts(reviews, gold, fact_cfg, codebook, segmenter.nlp, folds)
        scored = score_facts(fact_rows, gold, codebook.family_codes("risk_factor"))
        card["facts_cv"] = {"folds": folds, **{k: v for k, v in scored.items()}}
        extractor = FactExtractor(fact_cfg, codebook, segmenter.nlp).fit(reviews, gold)
    else:
        extractor = None
    model = TaggerModel(codebook.hash, codebook.ids, stages, batch.embeddings, Y.astype(bool), meta, card)
    model.save(out)
    if extractor is not None:
        save_fact_models(extractor, out / "facts.skops")
    return model


def _display_path(path: Path) -> str:
    """Paths inside the project folder are recorded relative to it, so that cards do not name one machine."""
    try:
        return str(Path(path).resolve().relative_to(project_dir().resolve()))
    except ValueError:
        return str(path)
