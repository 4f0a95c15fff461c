"""Experiment, not part of the pipeline: how much does the combined tagger's figure lean on the codebook's
phrases fitting the text they are scored on?

The rule phrases were written with the development corpus in view, and the classifier learns how far to
trust their hits there. New reviews may word things the phrases do not cover. This script simulates that:
per code, a random share of the codebook's phrases and token patterns is kept, the others' hits are removed,
and the same review-grouped folds as `scr-text evaluate` are scored three ways:

- ``full``: the shipped setting (trained and scored with every phrase; = `evaluate`'s combined row);
- ``shifted``: trained with every phrase, scored on held-out reviews whose hits come from the kept phrases
  only: a committed model meeting text its phrases fit less well;
- ``retrained``: trained and scored with the kept phrases only: what retraining on such text would give.

The rules-only column is the rule stage's own F1 with the kept phrases, to show how much the rules were
weakened. Another weighting of the rule features is scored by pointing ``SCR_TEXT_CONFIG`` at a copy of
configs/pipeline.yaml with other ``tagger.feature_weights``.

    .venv/bin/python experiments/rule_shift.py [--keep 0.75,0.5] [--draws 2] [--folds 5] [--seed N]   (8 min)
"""
from __future__ import annotations

import argparse

import numpy as np
from shipped_corpus import shipped_batch


def kept_patterns(pattern_ids: list[str], keep: float, rng: np.random.Generator) -> set[str]:
    """Per code, a random ``keep`` share (at least one) of its phrase and pattern ids."""
    by_code: dict[str, list[str]] = {}
    for pid in pattern_ids:
        by_code.setdefault(pid.split("#")[0], []).append(pid)
    kept = set()
    for ids in by_code.values():
        n = max(1, round(keep * len(ids)))
        kept.update(rng.choice(sorted(ids), size=n, replace=False).tolist())
    return kept


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", default="0.75,0.5", help="shares of each code's phrases kept, comma-separated")
    ap.add_argument("--draws", type=int, default=2, help="random phrase draws per share")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=None, help="split seed, as `scr-text evaluate --seed`")
    args = ap.parse_args()

    from scr_text.codebook import load_codebook
    from scr_text.config import load_settings
    from scr_text.evaluation.cross_validation import subset
    from scr_text.evaluation.metrics import metrics
    from scr_text.nlp.segment import Segmenter
    from scr_text.tagging.classify import grouped_folds
    from scr_text.tagging.features import Batch
    from scr_text.tagging.options import classifier_options
    from scr_text.tagging.rules import RuleTagger
    from scr_text.tagging.tagger import Stages

    settings, codebook = load_settings(), load_codebook()
    codes = codebook.ids
    batch, Y, groups = shipped_batch(settings, codebook)
    rules = RuleTagger(codebook, Segmenter(settings.segment).nlp)
    scoped = [rules.scoped_hits(p) for p in batch.passages]
    assert np.allclose(rules.features_from(scoped), batch.rules), "the batch's rule features are not these phrases'"
    pattern_ids = sorted(rules.pattern_ids)  # sorted: the draws below follow this order, so they stay the same

    def with_rules(kept: set[str]) -> Batch:
        hits = [[h for h in row if h.hit.pattern_id in kept] for row in scoped]
        return Batch(batch.passages, batch.embeddings, rules.features_from(hits))

    def macro(P: np.ndarray) -> tuple[float, dict]:
        m = metrics(Y, P.astype(int), codes)
        return m["macro"]["f1"], {row["code"]: row["f1"] for row in m["per_code"]}

    options = classifier_options(settings.tagger, codebook)
    splits = grouped_folds(groups, args.folds, args.seed)
    shares = [float(s) for s in args.keep.split(",")]
    draws = {(q, d): with_rules(kept_patterns(pattern_ids, q, np.random.default_rng(1000 * d + round(100 * q))))
             for q in shares for d in range(args.draws)}
    full = np.zeros(Y.shape, dtype=bool)
    shifted = {key: np.zeros(Y.shape, dtype=bool) for key in draws}
    retrained = {key: np.zeros(Y.shape, dtype=bool) for key in draws}
    for n, (tr, te) in enumerate(splits, 1):
        stages = Stages.fit(subset(batch, tr), Y[tr], groups[tr], codes, dict(options))
        full[te] = stages.predict(subset(batch, te))
        for key, weak in draws.items():
            shifted[key][te] = stages.predict(subset(weak, te))
            weak_stages = Stages.fit(subset(weak, tr), Y[tr], groups[tr], codes, dict(options))
            retrained[key][te] = weak_stages.predict(subset(weak, te))
        print(f"fold {n}/{len(splits)} done", flush=True)

    full_macro, full_codes = macro(full)
    print(f"\nfull: combined macro-F1 {full_macro:.3f}; rules only {macro(batch.rule_hits)[0]:.3f}")
    print("\n| phrases kept | draw | rules only | shifted | retrained |\n|---|---|---|---|---|")
    # Scored once per draw: (rules only, shifted, retrained), each (macro-F1, per-code F1).
    scored = {key: (macro(weak.rule_hits), macro(shifted[key]), macro(retrained[key])) for key, weak in draws.items()}
    for (q, d), row in scored.items():
        print(f"| {q:.2f} | {d} | {row[0][0]:.3f} | {row[1][0]:.3f} | {row[2][0]:.3f} |")
    for q in shares:
        mean = np.mean([[m for m, _ in scored[(q, d)]] for d in range(args.draws)], axis=0)
        print(f"| {q:.2f} | mean | {mean[0]:.3f} | {mean[1]:.3f} | {mean[2]:.3f} |")
    print("\nper code, mean over draws: full / shifted / retrained")
    for q in shares:
        print(f"  phrases kept {q:.2f}")
        for c in codes:
            s = np.mean([scored[(q, d)][1][1][c] for d in range(args.draws)])
            r = np.mean([scored[(q, d)][2][1][c] for d in range(args.draws)])
            print(f"    {c:<24} {full_codes[c]:.3f} / {s:.3f} / {r:.3f}")


if __name__ == "__main__":
    main()
