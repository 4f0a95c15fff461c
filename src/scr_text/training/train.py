"""Prepare passages for tagging (segment, embed, rule features) and train the tagger on a labelled corpus."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from scr_text.codebook import Codebook
from scr_text.config import Settings
from scr_text.corpus import GoldCorpus
from scr_text.evaluation.cross_validation import cross_validate
from scr_text.locations import project_dir
from scr_text.nlp.segment import Segmenter
from scr_text.store.database import Store
from scr_text.tagging.batch import corpus_batch
from scr_text.tagging.features import Batch
from scr_text.tagging.model_card import library_versions
from scr_text.tagging.options import classifier_options
from scr_text.tagging.tagger import Stages, TaggerModel


def train(corpus: GoldCorpus, store: Store, settings: Settings, codebook: Codebook, out: Path, name: str,
          folds: int = 5, progress: bool = True) -> TaggerModel:
    segmenter = Segmenter.from_settings(settings)
    batch, Y, groups, embedder = corpus_batch(corpus, store, settings, codebook, segmenter, progress)
    return fit_model(batch, Y, groups, corpus, settings, codebook, segmenter, embedder.model_id, out, name, folds)


def fit_model(batch: Batch, Y: np.ndarray, groups: np.ndarray, corpus: GoldCorpus, settings: Settings,
              codebook: Codebook, segmenter: Segmenter, embedding_model: str, out: Path, name: str, folds: int = 5,
              card_extra: dict | None = None) -> TaggerModel:
    """Cross-validate for the card, fit on every passage, learn the case facts, and save to ``out``;
    ``card_extra``: more entries for the model card (where a retrained model came from)."""
    options = classifier_options(settings.tagger, codebook)
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
        "embedding_model": embedding_model,
        "spacy_model": segmenter.model_id,
        "libraries": library_versions(),
        **options,
        "thresholds": dict(zip(codebook.ids, map(float, stages.thresholds))),
        # How many reviews teach each code: a code carried by a handful is the most fragile on new reviews.
        "coded_reviews": {c: len(set(groups[Y[:, j] == 1])) for j, c in enumerate(codebook.ids)},
        "review_gated": [c for c, g in zip(codebook.ids, stages.classifier.gated_) if g],
        "rules_decide": [c for c, r in zip(codebook.ids, stages.rules_decide) if r],
        "cv": {"folds": folds, **cv},
        **(card_extra or {}),
    }
    # Case facts are learnt from the tagger's out-of-fold scores, as they will see unseen reviews' tags.
    from scr_text.config import load_fact_config
    from scr_text.facts.extract import FactExtractor, cross_validate_facts, reviews_from, save_fact_models, score_facts

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
