"""Retrain from the analysts' coding, and say whether the new model is better on their reviews.

Their coded reviews are written out as a corpus with the base corpus (``coding.corpus_export``; their
coding replaces the base's for a review both have), and a new model is trained on it. The figures are on
the analysts' own reviews, against their codes:
- *before*: the current model's decisions;
- *after*: the new model's, out of fold. Each of their reviews is tagged by a fit on every other review
  (the base corpus and the rest of theirs, in ``folds`` groups), never by the final model, which has seen it.
The analysts coded while seeing the current model's suggestions, so *before* is, if anything, flattered.
Where one of their reviews is also in the base corpus, the current model may have been trained on it too:
the result lists those reviews (``in_base``).

Training reads the corpus through a store of its own (``work_store``), so that the base corpus's reviews do
not join the analysts' list in the project store; its embedding cache makes the next retrain faster.
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from scr_text.codebook import Codebook
from scr_text.coding.corpus_export import export_corpus
from scr_text.config import Settings
from scr_text.corpus import load_corpus
from scr_text.errors import UserError
from scr_text.evaluation.cross_validation import subset
from scr_text.evaluation.metrics import metrics
from scr_text.locations import default_corpus, project_dir
from scr_text.nlp.segment import Segmenter
from scr_text.store.database import Store
from scr_text.tagging.batch import corpus_batch
from scr_text.tagging.classify import grouped_folds
from scr_text.tagging.components import check_embeddings
from scr_text.tagging.options import classifier_options
from scr_text.tagging.tagger import Stages, TaggerModel
from scr_text.training.train import fit_model

RESULT_FILE = "retrain.json"  # in the new model's folder, beside its card


@dataclass
class RetrainResult:
    model: str  # the new model's folder name, under the project's models/
    current: str  # the model it was compared with
    coders: list[str]
    reviews: list[str]  # the analysts' coded reviews the figures are on
    in_base: list[str]  # ...of which the base corpus also has (the current model may have trained on them)
    passages: int
    base_corpus: str
    before: dict  # ``metrics`` of the current model on the analysts' reviews
    after: dict  # ...of the new model's fits, out of fold
    trained_at: str

    @classmethod
    def read(cls, model_dir: Path) -> "RetrainResult | None":
        path = Path(model_dir) / RESULT_FILE
        return cls(**json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else None


def training_store_path(store_path: Path) -> Path:
    """Where retraining reads its corpus through: beside the project store, not in it."""
    return Path(store_path).with_name(Path(store_path).stem + ".training.sqlite")


def per_code_rows(result: RetrainResult) -> list[tuple[str, int, float | None, float | None]]:
    """(code, passages the coders gave it, F1 before, F1 after) for each code either model or coder used."""
    after = {r["code"]: r["f1"] for r in result.after["per_code"]}
    return [(r["code"], r["support"], r["f1"], after[r["code"]]) for r in result.before["per_code"]
            if r["f1"] is not None or after[r["code"]] is not None]


def new_model_name() -> str:
    return "retrained-" + datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


def retrain(store: Store, coders: list[str], settings: Settings, codebook: Codebook, work_store: Store,
            name: str | None = None, step: Callable[[str, float], None] | None = None) -> RetrainResult:
    """Train ``models/<name>`` in the project folder on the base corpus plus the coders' coding (kept as
    ``corpora/<name>``, so that ``scr-text train --corpus`` can reproduce it), and measure it."""
    step = step or (lambda _text, _share: None)
    name = name or new_model_name()
    base_root = settings.resolve(settings.app.retrain.base_corpus) if settings.app.retrain.base_corpus else default_corpus()
    current = TaggerModel.load(settings.tagger.model)
    current.check_codebook(codebook)
    corpus_dir, model_dir = project_dir() / "corpora" / name, project_dir() / "models" / name
    if model_dir.exists() or corpus_dir.exists():
        raise UserError(f"{model_dir} or {corpus_dir}: exists already (nothing is overwritten)")

    try:
        return _retrain(store, coders, settings, codebook, work_store, name, base_root, current, corpus_dir, model_dir, step)
    except BaseException:  # a retrain that fails half way leaves no half-made corpus or model behind
        shutil.rmtree(corpus_dir, ignore_errors=True)
        shutil.rmtree(model_dir, ignore_errors=True)
        raise


def _retrain(store, coders, settings, codebook, work_store, name, base_root, current, corpus_dir, model_dir, step):
    folds = int(settings.app.retrain.folds)
    step("writing the analysts' coding out as a corpus", 0.05)
    report = export_corpus(store, coders, corpus_dir, codebook, load_corpus(base_root))
    if not report.reviews:
        raise UserError(f"no coded review by {', '.join(coders)}: accept, reject or add codes first")
    corpus = load_corpus(corpus_dir)

    step("reading the corpus (segmenting and embedding what is new)", 0.15)
    segmenter = Segmenter.from_settings(settings)
    batch, Y, groups, embedder = corpus_batch(corpus, work_store, settings, codebook, segmenter, progress=False)
    check_embeddings(current, settings.tagger.model, embedder)
    rows = np.flatnonzero(np.isin(groups, report.reviews))
    theirs = subset(batch, rows)

    step("the current model on the analysts' reviews", 0.3)
    before = current.stages.predict(theirs)
    after = np.zeros_like(before)
    options = classifier_options(settings.tagger, codebook)
    splits = grouped_folds(groups[rows], folds) if len(report.reviews) > 1 else [(np.array([], int), np.arange(len(rows)))]
    for n, (_, held) in enumerate(splits):
        step(f"the new model, out of fold, on the analysts' reviews ({n + 1} of {len(splits)})", 0.3 + 0.4 * n / len(splits))
        unseen = np.isin(groups, np.unique(groups[rows[held]]))
        train_rows = np.flatnonzero(~unseen)
        stages = Stages.fit(subset(batch, train_rows), Y[train_rows], groups[train_rows], codebook.ids, options)
        after[held] = stages.predict(subset(batch, rows[held]))

    result = RetrainResult(
        model=name, current=settings.tagger.model, coders=list(dict.fromkeys(coders)), reviews=report.reviews,
        in_base=report.replaced, passages=len(rows), base_corpus=str(base_root),
        before=metrics(Y[rows], before.astype(int), codebook.ids), after=metrics(Y[rows], after.astype(int), codebook.ids),
        trained_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    step("training the new model on everything", 0.75)
    summary = {k: v for k, v in asdict(result).items() if k not in ("before", "after")}
    fit_model(batch, Y, groups, corpus, settings, codebook, segmenter, embedder.model_id, model_dir, name, folds,
              card_extra={"retrained_from": {**summary, "macro_f1_before": result.before["macro"]["f1"],
                                             "macro_f1_after": result.after["macro"]["f1"]}})
    (model_dir / RESULT_FILE).write_text(json.dumps(asdict(result), indent=2) + "\n", encoding="utf-8")
    return result
