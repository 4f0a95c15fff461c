"""The classifier stage: one logistic regression per code over the passage features, with
probabilities calibrated (Platt scaling) on out-of-fold scores and a per-code decision threshold
tuned on those same out-of-fold scores. Folds are grouped by review, never by paragraph.

Optionally the n-gram columns are weighted per code before its regression sees them (``ngram_weights``)."""
from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold


def grouped_folds(groups, n_splits: int, seed: int | None = None):
    """K folds that keep each review whole. Without a seed the split is sklearn's deterministic one (folds of
    balanced size); a seed shuffles which reviews go together, to see how much a figure owes to one split."""
    groups = np.asarray(groups)
    n = min(n_splits, len(np.unique(groups)))
    splitter = GroupKFold(n_splits=n) if seed is None else GroupKFold(n_splits=n, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(groups)), groups=groups))


def best_threshold(y: np.ndarray, p: np.ndarray, floor: float = 0.05) -> float:
    """The threshold on p that maximises F1 on (y, p)."""
    if y.sum() == 0:
        return 0.5
    order = np.argsort(-p)
    tp = np.cumsum(y[order])
    fp = np.cumsum(1 - y[order])
    f1 = 2 * tp / (tp + fp + y.sum())
    k = int(np.argmax(f1))
    # Midway between the last accepted and the first rejected score.
    nxt = p[order[k + 1]] if k + 1 < len(order) else 0.0
    return float(max(floor, (p[order[k]] + nxt) / 2))


def ngram_weights(X, y: np.ndarray, columns: tuple[int, int], alpha: float = 1.0) -> np.ndarray:
    """Per-column scale for one code: 1 + |log-count ratio| on the n-gram columns ``columns`` (start, stop), 1
    elsewhere. The log-count ratio compares a column's share of the TF-IDF mass in the code's passages with its
    share in the others (the naive Bayes weighting of Wang and Manning's NBSVM, 2012); kept at 1 or more here, so
    no n-gram is switched off, only those that lean to one side are let count for more before the regulariser
    shrinks them. Computed from the labels, so only ever on the rows a model is trained on."""
    start, stop = columns
    T = X[:, start:stop]
    pos = alpha + np.asarray(T[y == 1].sum(axis=0)).ravel()
    neg = alpha + np.asarray(T[y == 0].sum(axis=0)).ravel()
    scale = np.ones(X.shape[1])
    scale[start:stop] = 1 + np.abs(np.log(pos / pos.sum()) - np.log(neg / neg.sum()))
    return scale


class ThemeClassifier:
    """Multi-label: ``fit(X, Y, groups)``, ``predict_proba(X) -> (n, k)``, ``predict(X) -> bool (n, k)``."""

    def __init__(self, codes: list[str], C: float = 4.0, n_splits: int = 5, class_weight: str | None = "balanced",
                 weighted_columns: tuple[int, int] | None = None, weighted_codes=None):
        self.codes = list(codes)
        self.C = C
        self.n_splits = n_splits
        self.class_weight = class_weight
        self.weighted_columns = weighted_columns  # n-gram columns to weight per code (None: no weighting)
        self.weighted_codes = weighted_codes  # the codes whose columns are weighted (None: every code)

    def _model(self) -> LogisticRegression:
        return LogisticRegression(C=self.C, class_weight=self.class_weight, solver="liblinear", max_iter=2000)

    def _fit_model(self, X, y: np.ndarray, code: str) -> LogisticRegression:
        if self.weighted_columns is None or (self.weighted_codes is not None and code not in self.weighted_codes):
            return self._model().fit(X, y)
        scale = ngram_weights(X, y, self.weighted_columns)
        model = self._model().fit(sparse.csr_matrix(X.multiply(scale)), y)
        # Folded into the coefficients: the model scores unweighted features as it scored the weighted ones,
        # and is saved as a plain logistic regression.
        model.coef_ = model.coef_ * scale
        return model

    def fit(self, X, Y: np.ndarray, groups) -> "ThemeClassifier":
        Y = np.asarray(Y, dtype=int)
        folds = grouped_folds(groups, self.n_splits)
        self.models_, self.platt_, self.thresholds_ = [], [], np.zeros(len(self.codes))
        self.oof_proba_ = np.zeros(Y.shape, dtype=float)
        for j in range(len(self.codes)):
            y = Y[:, j]
            scores = np.full(len(y), np.nan)
            for train, test in folds:
                if y[train].min() == y[train].max():
                    # Nothing to learn in this fold: its rows keep the only answer it could give, and say
                    # nothing about how scores map to probabilities. (Scoring them with a sentinel did, for a
                    # code found in a few reviews all held out together: it turned the calibration upside down.)
                    self.oof_proba_[test, j] = y[train].max()
                    continue
                scores[test] = self._fit_model(X[train], y[train], self.codes[j]).decision_function(X[test])
            model = self._fit_model(X, y, self.codes[j]) if 0 < y.sum() < len(y) else None
            scored = ~np.isnan(scores)
            platt = None
            if 0 < y[scored].sum() < scored.sum():
                platt = LogisticRegression(C=1e4, solver="lbfgs").fit(scores[scored, None], y[scored])
                self.oof_proba_[scored, j] = platt.predict_proba(scores[scored, None])[:, 1]
                self.thresholds_[j] = best_threshold(y[scored], self.oof_proba_[scored, j])
            else:  # too few coded reviews to calibrate: the model's own (class-balanced) probability, cut at 0.5
                self.thresholds_[j] = 0.5
            self.platt_.append(platt)
            self.models_.append(model)
        return self

    def predict_proba(self, X) -> np.ndarray:
        out = np.zeros((X.shape[0], len(self.codes)))
        for j, (model, platt) in enumerate(zip(self.models_, self.platt_)):
            if model is None:
                continue
            out[:, j] = (platt.predict_proba(model.decision_function(X)[:, None])[:, 1] if platt is not None
                         else model.predict_proba(X)[:, 1])
        return out

    def predict(self, X) -> np.ndarray:
        return self.predict_proba(X) >= self.thresholds_
