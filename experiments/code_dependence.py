"""Experiment, not part of the pipeline: how much does a paragraph's context say about its gold codes?

Reads the gold labels only (no model). Per code: the share of paragraphs and of reviews that carry it; the
share of paragraphs carrying it within the reviews that do (what knowing the review tells); and the chance a
paragraph carries it when the paragraph before it (same review) does and when it does not (what a neighbour
tells). Last, the code it co-occurs with most in one paragraph, as lift (P(both) / (P(a) P(b))).

A code whose rate is the same within its reviews as overall, and the same after a coded paragraph as after
an uncoded one, is spread through the reviews paragraph by paragraph: its context (neighbours, review)
carries little about it, and the tagger has to find it in the paragraph's own words.

    .venv/bin/python experiments/code_dependence.py [--corpus DIR]
"""
from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    from scr_text.codebook import load_codebook
    from scr_text.corpus import load_corpus
    from scr_text.locations import SAMPLE_CORPUS

    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=SAMPLE_CORPUS)
    args = ap.parse_args()
    codes = load_codebook().ids
    rows = sorted(load_corpus(args.corpus).passages, key=lambda r: (r["doc_id"], r["para"]))
    Y = np.array([[c in r["codes"] for c in codes] for r in rows], dtype=bool)
    doc = np.array([r["doc_id"] for r in rows])
    reviews = np.unique(doc)
    same = doc[1:] == doc[:-1]  # pairs (paragraph, the one before it) within a review
    print(f"{len(rows)} gold paragraphs, {len(reviews)} reviews")
    print(f"{'code':24s} {'paras':>6s} {'reviews':>8s} {'in its reviews':>15s} {'after coded':>12s} "
          f"{'after uncoded':>14s}  most co-occurring code (lift)")
    for j, code in enumerate(codes):
        y = Y[:, j]
        if not y.any():
            print(f"{code:24s} not coded in this corpus")
            continue
        carrying = np.unique(doc[y])
        within = y[np.isin(doc, carrying)].mean()
        prev, cur = y[:-1][same], y[1:][same]
        # nan where no coded paragraph has another after it in its review
        after_coded = cur[prev].mean() if prev.any() else float("nan")
        lift = {other: (y & Y[:, k]).mean() / (y.mean() * Y[:, k].mean())
                for k, other in enumerate(codes) if k != j and Y[:, k].any()}
        top = max(lift, key=lift.get)
        print(f"{code:24s} {y.mean():6.3f} {len(carrying) / len(reviews):8.2f} {within:15.3f} "
              f"{after_coded:12.3f} {cur[~prev].mean():14.3f}  {top} ({lift[top]:.1f})")


if __name__ == "__main__":
    main()
