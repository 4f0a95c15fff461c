"""Experiment, not part of the pipeline: how does the combined tagger's macro-F1 grow with coded reviews?

Same review-grouped folds as `scr-text evaluate`; in each fold the combined system (same features,
review-level classifier, rule fallback, thresholds chosen on its training reviews) is trained on a random share of that
fold's training reviews and scores the whole held-out fold. Each share is drawn ``--repeats`` times; the
out-of-fold predictions of one draw are pooled over folds before scoring, as `evaluate` does. A curve still
rising at the full share says more coded reviews, not another model, is what the tagger lacks.

    .venv/bin/python experiments/learning_curve.py [--shares 0.25,0.5,0.75,1] [--repeats 3] [--folds 5]
"""
from __future__ import annotations

import argparse

import numpy as np
from shipped_corpus import shipped_batch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shares", default="0.25,0.5,0.75,1")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()

    from scr_text.codebook import load_codebook
    from scr_text.config import load_settings
    from scr_text.evaluation.cross_validation import subset
    from scr_text.evaluation.metrics import metrics
    from scr_text.tagging.classify import grouped_folds
    from scr_text.tagging.options import classifier_options
    from scr_text.tagging.tagger import Stages

    settings, codebook = load_settings(), load_codebook()
    batch, Y, groups = shipped_batch(settings, codebook)
    splits = grouped_folds(groups, args.folds)
    practice = [j for j, c in enumerate(codebook.ids) if c in codebook.family_codes("practice_learning")]
    print(f"{'share':>6}{'reviews/fold':>14}{'macro-F1':>10}{'s.d.':>7}{'practice F1':>13}")
    for share in (float(s) for s in args.shares.split(",")):
        macros, practice_f1, sizes = [], [], []
        for r in range(args.repeats if share < 1 else 1):
            rng = np.random.default_rng(r)
            P = np.zeros(Y.shape, dtype=int)
            for tr, te in splits:
                reviews = np.unique(groups[tr])
                keep = rng.choice(reviews, size=max(2, round(share * len(reviews))), replace=False)
                rows = tr[np.isin(groups[tr], keep)]
                sizes.append(len(keep))
                stages = Stages.fit(subset(batch, rows), Y[rows], groups[rows], codebook.ids, classifier_options(settings.tagger, codebook))
                P[te] = stages.predict(subset(batch, te))
            per_code = metrics(Y, P, codebook.ids)
            macros.append(per_code["macro"]["f1"])
            practice_f1.append(np.mean([per_code["per_code"][j]["f1"] or 0.0 for j in practice]))
        print(f"{share:>6.2f}{np.mean(sizes):>14.1f}{np.mean(macros):>10.3f}{np.std(macros):>7.3f}"
              f"{np.mean(practice_f1):>13.3f}", flush=True)


if __name__ == "__main__":
    main()
