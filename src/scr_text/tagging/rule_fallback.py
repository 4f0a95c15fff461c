"""The rule stage alone, for a code the classifier could not learn from its training reviews.

A code coded in only a few reviews (sexual exploitation is in three of the shipped 48) may have too little
to learn from once some of those reviews are held out: the classifier's out-of-fold decisions on its own
training reviews then find nothing, while the codebook's phrases still do. Per code, ``fit`` compares the
two on the training passages (the classifier's out-of-fold decisions against the rules' affirmed hits) and
hands the code to the rules where they score the higher F1. For such a code the probability is the
rules' own, measured on the training passages: P(coded | a hit) for a passage with a hit, P(coded | none)
for one without, and the threshold lies between the two, so that ``proba >= thresholds_`` is the rules'
decision and every code keeps one probability and one threshold.
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score


class RuleFallback:
    """``fit(hits, Y, oof_proba, thresholds)``; then ``transform(proba, hits)`` and ``thresholds_``.
    ``hits``: (n, k) bool, the rule stage's affirmed hits per code (``Batch.rule_hits``)."""

    def fit(self, hits: np.ndarray, Y: np.ndarray, oof_proba: np.ndarray, thresholds: np.ndarray) -> "RuleFallback":
        hits, Y = np.asarray(hits, dtype=bool), np.asarray(Y, dtype=int)
        k = Y.shape[1]
        self.rules_decide_ = np.zeros(k, dtype=bool)
        self.p_hit_, self.p_miss_ = np.zeros(k), np.zeros(k)
        self.thresholds_ = np.asarray(thresholds, dtype=float).copy()
        decided = oof_proba >= thresholds
        for j in range(k):
            y, h = Y[:, j], hits[:, j]
            # Add-one smoothing: a handful of hits should not claim certainty.
            p_hit = (y[h].sum() + 1) / (h.sum() + 2)
            p_miss = (y[~h].sum() + 1) / ((~h).sum() + 2)
            if p_hit <= p_miss or f1_score(y, h, zero_division=0) <= f1_score(y, decided[:, j], zero_division=0):
                continue
            self.rules_decide_[j] = True
            self.p_hit_[j], self.p_miss_[j] = p_hit, p_miss
            self.thresholds_[j] = (p_hit + p_miss) / 2
        self.oof_proba_ = self.transform(oof_proba, hits)
        return self

    def transform(self, proba: np.ndarray, hits: np.ndarray) -> np.ndarray:
        """``proba`` with the columns of rule-decided codes replaced by the rules' probabilities."""
        out = np.array(proba, dtype=float, copy=True)
        hits = np.asarray(hits, dtype=bool)
        for j in np.flatnonzero(self.rules_decide_):
            out[:, j] = np.where(hits[:, j], self.p_hit_[j], self.p_miss_[j])
        return out
