"""Experiment, not part of the pipeline: is the tagger short of its macro-F1 target because of where it cuts
its scores or because of how it ranks passages?

Same review-grouped folds and combined system as `scr-text evaluate` (features, review-level classifier,
rule fallback). Per code, the held-out scores pooled over folds are cut two ways: at the thresholds each
fold chose on its training reviews (the shipped rule, = `evaluate`'s combined row), and at the one cut that
maximises F1 on those held-out scores themselves. The second looks at the answers, so it is not a result:
it is what the best single threshold per code would reach with these scores (a threshold per fold can do
a little better, as the shipped ones do for a code whose folds' scores sit at different levels). Average
precision and ROC AUC describe the ranking itself.

A third column asks whether the gap is in finding the reviews that carry a code or the passages within them:
the same scores with each review's presence of the code taken from gold (an oracle): zero in a review without
it, and in a review with it the review stage's probability set to 1 (the conditional score alone for a code
the review stage decides, the passage score for the others), cut at the shipped thresholds.

    .venv/bin/python experiments/threshold_ceiling.py [--folds 5] [--seed N]
"""
from __future__ import annotations

import argparse

import numpy as np
from shipped_corpus import shipped_batch


def best_cut_f1(y: np.ndarray, s: np.ndarray) -> float:
    """The highest F1 of ``s >= t`` over every cut t (each distinct score), in one sorted pass."""
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    tp = np.cumsum(y)
    last = np.r_[s[1:] != s[:-1], True]  # a cut can only fall after the last of tied scores
    k = np.arange(1, len(s) + 1)
    f1 = 2 * tp / (k + y.sum())
    return float(f1[last].max()) if y.any() else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()

    from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

    from scr_text.codebook import load_codebook
    from scr_text.config import load_settings
    from scr_text.evaluation.cross_validation import subset
    from scr_text.tagging.classify import grouped_folds
    from scr_text.tagging.options import classifier_options
    from scr_text.tagging.tagger import Stages

    settings, codebook = load_settings(), load_codebook()
    batch, Y, groups = shipped_batch(settings, codebook)
    scores, reviews, cuts = np.zeros(Y.shape), np.zeros(Y.shape), np.zeros(Y.shape)
    for n, (tr, te) in enumerate(grouped_folds(groups, args.folds, args.seed), 1):
        stages = Stages.fit(subset(batch, tr), Y[tr], groups[tr], codebook.ids, classifier_options(settings.tagger, codebook))
        scores[te], reviews[te] = stages.scores(subset(batch, te))
        cuts[te] = stages.thresholds
        print(f"fold {n} done", flush=True)

    _, review_of = np.unique(groups, return_inverse=True)
    print(f"{'code':<24}{'F1 shipped':>11}{'F1 best cut':>12}{'F1 review known':>16}{'AP':>7}{'AUC':>7}")
    rows = []
    for j, code in enumerate(codebook.ids):
        y, s, r = Y[:, j].astype(int), scores[:, j], reviews[:, j]
        known = (np.bincount(review_of, weights=y) > 0)[review_of]  # gold: the passage's review has the code
        oracle = np.where(np.isnan(r), s, s / np.maximum(r, 1e-12)) * known
        row = (f1_score(y, s >= cuts[:, j], zero_division=0), best_cut_f1(y, s),
               f1_score(y, oracle >= cuts[:, j], zero_division=0), average_precision_score(y, s), roc_auc_score(y, s))
        rows.append(row)
        print(f"{code:<24}{row[0]:>11.3f}{row[1]:>12.3f}{row[2]:>16.3f}{row[3]:>7.3f}{row[4]:>7.3f}")
    mean = np.mean(rows, axis=0)
    print(f"{'macro':<24}{mean[0]:>11.3f}{mean[1]:>12.3f}{mean[2]:>16.3f}{mean[3]:>7.3f}{mean[4]:>7.3f}")


if __name__ == "__main__":
    main()
