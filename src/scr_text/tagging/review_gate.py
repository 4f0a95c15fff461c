"""The review-level stage: whether a review carries a code at all, then which of its passages do.

Some codes are properties of a case before they are properties of a paragraph. Masked risk is the
clearest: once a review is about a risk that hid another, many of its paragraphs read as masked
risk that would not in another review; unsafe sleep and sexual exploitation cluster by review too.
A passage-level model sees one paragraph and cannot tell. So, per code, this stage factorises

    P(passage has code) = P(review has code) x P(passage has code | review has code)

- the review probability comes from a small logistic regression over summaries of the passage
  classifier's scores across the review (its highest score, the mean of its top three, its mean).
  Those summaries depend on length: a briefing of five paragraphs that states a fatal assault once has
  a low top-three mean and mean, like a long review without the code, and the review model scored it
  near zero. So for a document shorter than any training review, where the review model is outside
  what it learnt from, the review probability is floored at the passage's own score (a review has a
  code if any passage has it, so P(review has code) >= P(this passage has code)). Applied to every
  review, the floor cost 0.011 macro-F1 on the shipped corpus: it undoes the gate where the gate is
  right, on a stray high-scoring paragraph of a review without the code;
- the conditional one from a passage classifier trained only on passages of reviews that carry
  the code, so it learns which paragraphs of such a review carry it.

A code is gated only where this beats the passage classifier on the training reviews' out-of-fold
F1 (practice codes that appear in nearly every review are left alone). Every score it learns from
is out-of-fold, grouped by review, like the passage classifier's.
"""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from scr_text.tagging.classify import ThemeClassifier, best_threshold


def review_summaries(p: np.ndarray, groups) -> np.ndarray:
    """Per passage, its review's (max, mean of top 3, mean) of the scores ``p``."""
    groups = np.asarray(groups)
    out = np.zeros((len(p), 3))
    for g in np.unique(groups):
        rows = groups == g
        s = np.sort(p[rows])[::-1]
        out[rows] = (s[0], s[:3].mean(), s.mean())
    return out


def _first_rows(groups) -> tuple[np.ndarray, np.ndarray]:
    """(index of each review's first passage, each passage's review number)."""
    _, first, inverse = np.unique(np.asarray(groups), return_index=True, return_inverse=True)
    return first, inverse


def _best_f1(y: np.ndarray, p: np.ndarray) -> float:
    """F1 of ``p`` at the threshold the classifier would pick."""
    return float(f1_score(y, p >= best_threshold(y, p), zero_division=0))


class ReviewGatedClassifier:
    """Multi-label, like ``ThemeClassifier``, but scores depend on the review a passage is in:
    ``fit(X, Y, groups)``, ``predict_proba(X, groups)``, ``predict(X, groups)``, and
    ``scores(X, groups)`` for both the passage probabilities and, per passage and code, the probability
    that its review has the code (NaN for codes that are not gated). ``groups`` names each passage's
    review: pass whole reviews, since a review's probability summarises all of its passages."""

    def __init__(self, codes: list[str], C: float = 4.0, n_splits: int = 5, review_C: float = 10.0,
                 weighted_columns: tuple[int, int] | None = None, weighted_codes=None):
        self.codes = list(codes)
        self.C = C
        self.n_splits = n_splits
        self.review_C = review_C
        # Passed to the passage classifiers (``ThemeClassifier``).
        self.weighted_columns = weighted_columns
        self.weighted_codes = weighted_codes

    def _passage_classifier(self, codes: list[str]) -> ThemeClassifier:
        return ThemeClassifier(codes, C=self.C, n_splits=self.n_splits, weighted_columns=self.weighted_columns,
                               weighted_codes=self.weighted_codes)

    def fit(self, X, Y: np.ndarray, groups) -> "ReviewGatedClassifier":
        Y = np.asarray(Y, dtype=int)
        groups = np.asarray(groups)
        self.passage_ = self._passage_classifier(self.codes).fit(X, Y, groups)
        self.oof_proba_ = self.passage_.oof_proba_.copy()
        self.thresholds_ = self.passage_.thresholds_.copy()
        self.gated_ = np.zeros(len(self.codes), dtype=bool)
        self.review_models_: list = [None] * len(self.codes)
        self.conditional_models_: list = [None] * len(self.codes)
        first, inverse = _first_rows(groups)
        self.shortest_review_ = int(np.bincount(inverse).min())  # passages in the shortest training review
        for j in range(len(self.codes)):
            y = Y[:, j]
            has = np.bincount(inverse, weights=y, minlength=len(first)) > 0  # per review: any passage coded
            if has.all() or not has.any() or min(has.sum(), (~has).sum()) < 2:
                continue  # no review-level contrast to learn
            summaries = review_summaries(self.passage_.oof_proba_[:, j], groups)[first]
            review_model = LogisticRegression(C=self.review_C).fit(summaries, has)
            folds = StratifiedKFold(n_splits=min(self.n_splits, int(has.sum()), int((~has).sum())))
            q = np.zeros(len(first))
            for tr, te in folds.split(summaries, has):
                q[te] = LogisticRegression(C=self.review_C).fit(summaries[tr], has[tr]).predict_proba(summaries[te])[:, 1]
            inside = has[inverse]
            conditional = self._passage_classifier([self.codes[j]]).fit(X[inside], y[inside, None], groups[inside])
            if conditional.models_[0] is None:
                continue
            p = conditional.predict_proba(X)[:, 0]  # reviews without the code were not trained on
            p[inside] = conditional.oof_proba_[:, 0]
            gated = q[inverse] * p
            if _best_f1(y, gated) <= _best_f1(y, self.oof_proba_[:, j]):
                continue
            self.gated_[j] = True
            self.review_models_[j] = review_model
            self.conditional_models_[j] = conditional
            self.oof_proba_[:, j] = gated
            self.thresholds_[j] = best_threshold(y, gated)
        return self

    def scores(self, X, groups) -> tuple[np.ndarray, np.ndarray]:
        """(passage probabilities, review probabilities), both (n, k); see the class docstring."""
        passage = self.passage_.predict_proba(X)
        proba = passage.copy()
        _, inverse, sizes = np.unique(np.asarray(groups), return_inverse=True, return_counts=True)
        short = sizes[inverse] < self.shortest_review_
        review = np.full(proba.shape, np.nan)
        for j in np.flatnonzero(self.gated_):
            review[:, j] = self.review_models_[j].predict_proba(review_summaries(passage[:, j], groups))[:, 1]
            review[short, j] = np.maximum(review[short, j], passage[short, j])
            proba[:, j] = review[:, j] * self.conditional_models_[j].predict_proba(X)[:, 0]
        return proba, review

    def predict_proba(self, X, groups) -> np.ndarray:
        return self.scores(X, groups)[0]

    def predict(self, X, groups) -> np.ndarray:
        return self.predict_proba(X, groups) >= self.thresholds_
