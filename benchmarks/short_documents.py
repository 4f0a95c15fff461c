"""Does the tagger penalise a document for being short? Each review of a held-out fold is cut into
consecutive excerpts of k passages, each excerpt tagged as a document of its own (its own review-level
stage, neighbours and position), and scored against gold; k = whole is the review tagged as it stands.
The same passages are scored at every k, so a drop from the whole-review figure is what shortness costs.

Same grouped 5-fold split as `scr-text evaluate`; the combined tagger (`Stages`) is fitted per fold on
the training reviews only. Prints macro-F1 per k, and F1 per k for each code the review stage gates in at least one fold.

    .venv/bin/python benchmarks/short_documents.py [--sizes 1,5,10,20,40] [--folds 5] [--config FILE]
"""
from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np


def excerpts(batch, k: int):
    """The batch with each review's passages renamed into consecutive excerpts of ``k`` (the last may be shorter)."""
    from scr_text.tagging.features import Batch

    renamed, start, doc = [], 0, None
    for i, p in enumerate(batch.passages):
        if p.doc_id != doc:
            doc, start = p.doc_id, i
        renamed.append(replace(p, doc_id=f"{p.doc_id}#{(i - start) // k}"))
    return Batch(renamed, batch.embeddings, batch.rules)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,5,10,20,40")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--config", type=Path, default=None, help="a pipeline.yaml to use instead of the project's")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
    from shipped_corpus import shipped_batch

    from scr_text.codebook import load_codebook
    from scr_text.config import load_settings
    from scr_text.evaluation.cross_validation import subset
    from scr_text.evaluation.metrics import metrics
    from scr_text.tagging.classify import grouped_folds
    from scr_text.tagging.options import classifier_options
    from scr_text.tagging.tagger import Stages

    settings, codebook = load_settings(args.config), load_codebook()
    options = classifier_options(settings.tagger, codebook)
    batch, Y, groups = shipped_batch(settings, codebook)
    codes = codebook.ids
    preds = {k: np.zeros(Y.shape, dtype=bool) for k in ["whole", *sizes]}
    gated = np.zeros(len(codes), dtype=int)
    for n, (tr, te) in enumerate(grouped_folds(groups, args.folds), 1):
        stages = Stages.fit(subset(batch, tr), Y[tr], groups[tr], codes, options)
        gated += stages.classifier.gated_
        test = subset(batch, te)
        preds["whole"][te] = stages.predict(test)
        for k in sizes:
            preds[k][te] = stages.predict(excerpts(test, k))
        print(f"fold {n}/{args.folds}", flush=True)
    results = {k: metrics(Y, P.astype(int), codes) for k, P in preds.items()}
    shown = [c for c, g in zip(codes, gated) if g]
    print(f"\n{len(Y)} passages, {len(set(groups))} reviews; codes gated in every fold: "
          f"{', '.join(c for c, g in zip(codes, gated) if g == args.folds) or 'none'}")
    print("| excerpt of | macro-F1 | " + " | ".join(shown) + " |")
    print("|---|---|" + "---|" * len(shown))
    for k, r in results.items():
        label = "whole review" if k == "whole" else f"{k} passages"
        f1 = {row["code"]: row["f1"] or 0.0 for row in r["per_code"]}
        print(f"| {label} | {r['macro']['f1']:.3f} | " + " | ".join(f"{f1[c]:.3f}" for c in shown) + " |")


if __name__ == "__main__":
    main()
