"""K-fold cross-validation grouped by review (or one style left out at a time), for the rule stage alone,
the classifier alone, the combined tagger and a TF-IDF + logistic regression baseline."""
from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from scr_text.evaluation.metrics import f1_intervals, metrics
from scr_text.tagging.classify import grouped_folds
from scr_text.tagging.features import Batch
from scr_text.tagging.tagger import Stages

SYSTEMS = ("rules", "classifier", "combined", "baseline")

def subset(batch: Batch, idx) -> Batch:
    return Batch([batch.passages[i] for i in idx], batch.embeddings[idx], batch.rules[idx])

def _baseline(train: Batch, Ytr: np.ndarray, test: Batch) -> np.ndarray:
    """Word TF-IDF + one logistic regression per code, classes balanced, default 0.5 cut-off:
    the standard quick baseline, with no rules, embeddings, context or tuned thresholds."""
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    Xtr = vec.fit_transform([p.text for p in train.passages])
    Xte = vec.transform([p.text for p in test.passages])
    out = np.zeros((len(test.passages), Ytr.shape[1]), dtype=bool)
    for j in range(Ytr.shape[1]):
        if 0 < Ytr[:, j].sum() < len(Ytr):
            model = LogisticRegression(max_iter=2000, class_weight="balanced")
            out[:, j] = model.fit(Xtr, Ytr[:, j]).predict(Xte).astype(bool)
    return out

def style_splits(groups, styles: dict[str, str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Leave one style out: per style, (rows of every other style's reviews, rows of its own)."""
    labels = np.array([styles[g] for g in groups])
    return {s: (np.flatnonzero(labels != s), np.flatnonzero(labels == s)) for s in sorted(set(labels))}

def cross_validate(batch: Batch, Y: np.ndarray, groups, codes: list[str], folds: int = 5, systems=SYSTEMS,
                   options: dict | None = None, progress=None, seed: int | None = None,
                   resampling: dict | None = None, splits: dict | None = None) -> dict:
    """Out-of-fold predictions for each system; every fit sees only its training folds.
    ``options``: keyword arguments of the classifier (``config.classifier_options``); ``seed``: shuffle
    which reviews share a fold (``grouped_folds``); ``resampling``: keyword arguments of
    ``f1_intervals`` (``n_boot``, ``seed``), to add the intervals to the result; ``splits``: named
    (train rows, test rows) to use instead of K folds (``style_splits``), each scored on its own too."""
    groups = np.asarray(groups)
    preds = {s: np.zeros(Y.shape, dtype=bool) for s in systems}
    handed = np.zeros(len(codes), dtype=int)  # per code: in how many folds the combined tagger's rules decided it
    named = splits or {}
    splits = list(named.values()) if named else grouped_folds(groups, folds, seed)
    for n, (tr, te) in enumerate(splits, 1):
        train, test = subset(batch, tr), subset(batch, te)
        if "rules" in systems:
            preds["rules"][te] = test.rule_hits
        for name, use_rules in (("classifier", False), ("combined", True)):
            if name in systems:
                stages = Stages.fit(train, Y[tr], groups[tr], codes, options, use_rules=use_rules)
                preds[name][te] = stages.predict(test)
                handed += stages.rules_decide if use_rules else 0
        if "baseline" in systems:
            preds["baseline"][te] = _baseline(train, Y[tr], test)
        if progress:
            progress(n, len(splits))
    result = {"folds": len(splits), "seed": seed, "systems": {s: metrics(Y, preds[s].astype(int), codes) for s in systems},
              "rules_decide": {c: int(n) for c, n in zip(codes, handed) if n}}
    if named:  # each held-out part alone: macro-F1 over the codes it holds or was given
        result["splits"] = {name: {"reviews": len(set(groups[te])), "passages": len(te),
                                   "macro_f1": {s: metrics(Y[te], preds[s][te].astype(int), codes)["macro"]["f1"]
                                                for s in systems}}
                            for name, (_, te) in named.items()}
    if resampling is not None:
        result["intervals"] = f1_intervals(Y, preds, groups, codes, **resampling)
    return result
