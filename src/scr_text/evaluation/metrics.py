"""Per-code precision, recall, F1 and kappa, and 95% intervals for F1 and for one system's lead over
another, from resampling the reviews (a lead whose interval holds 0 is not settled by the corpus)."""
from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import cohen_kappa_score, precision_recall_fscore_support


def metrics(Y: np.ndarray, P: np.ndarray, codes: list[str]) -> dict:
    """Per code and macro-averaged precision, recall, F1 and Cohen's kappa."""
    p, r, f, _ = precision_recall_fscore_support(Y, P, average=None, zero_division=0)
    rows = []
    for j, code in enumerate(codes):
        if Y[:, j].sum() == 0 and P[:, j].sum() == 0:
            # Nothing to find and nothing found: undefined, and left out of the macro average.
            rows.append({"code": code, "precision": None, "recall": None, "f1": None, "kappa": None, "support": 0})
            continue
        same = (Y[:, j] == P[:, j]).all()
        kappa = 1.0 if same else float(cohen_kappa_score(Y[:, j], P[:, j]))
        rows.append({"code": code, "precision": float(p[j]), "recall": float(r[j]), "f1": float(f[j]), "kappa": kappa,
                     "support": int(Y[:, j].sum())})
    macro = {k: float(np.mean([row[k] for row in rows if row[k] is not None] or [np.nan]))
             for k in ("precision", "recall", "f1", "kappa")}
    return {"per_code": rows, "macro": macro}

def f1_intervals(Y: np.ndarray, preds: dict[str, np.ndarray], groups, codes: list[str], n_boot: int = 1000,
                 seed: int = 0) -> dict | None:
    """Per system, macro-F1 and its 95% interval from ``n_boot`` resamples of the reviews (``groups``): the
    review is what is resampled, since one review's passages are not independent. For the main system (the
    combined tagger, or the only one), each code's F1 and its interval. Where there is a combined tagger,
    also its lead over each other system, paired (both scored on the same resample), with the share of
    resamples in which it leads.

    The intervals are BCa (scipy.stats.bootstrap), not plain percentiles: a code found in a few reviews only
    scores 0 in a resample that leaves them all out while keeping a false positive, which gives macro-F1 a long
    lower tail that the percentile interval would carry whole. F1 per code is summed from per-review counts;
    a code absent from a resample and never predicted there is left out, as ``metrics`` does. Where that
    leaves a code's F1 undefined on some resamples, BCa cannot be computed, and its interval is the
    percentile one over the resamples where it is defined (each interval says its ``method``). None where
    there are fewer than two reviews to resample."""
    from scipy.stats import bootstrap

    _, g = np.unique(np.asarray(groups), return_inverse=True)
    n_reviews = int(g.max()) + 1 if len(g) else 0
    if n_reviews < 2:
        return None

    gold = Y.astype(bool)

    def per_review(P: np.ndarray) -> np.ndarray:
        """(reviews, tp/fp/fn, codes) counts."""
        P1 = P.astype(bool)
        out = np.zeros((n_reviews, 3, Y.shape[1]))
        np.add.at(out, g, np.stack([gold & P1, ~gold & P1, gold & ~P1], axis=1).astype(float))
        return out

    counts = {name: per_review(P) for name, P in preds.items()}

    def f1(name: str, reviews: np.ndarray) -> np.ndarray:
        """Each code's F1 (last axis) on the resamples in ``reviews`` (..., n_reviews) of review indices."""
        tp, fp, fn = np.moveaxis(counts[name][reviews].sum(axis=-3), -2, 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)

    def macro(name: str, reviews: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():  # a resample where no code is defined: NaN, left out of the interval
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(f1(name, reviews), axis=-1)

    def resampled(statistic) -> tuple[dict, np.ndarray]:
        """The statistic on the corpus with its interval (and how that was found), and its value on each
        resample. JSON has no NaN: an undefined figure is None, as in ``metrics``."""
        with warnings.catch_warnings():  # BCa has no interval where every resample gives the same value
            warnings.simplefilter("ignore")
            res = bootstrap((np.arange(n_reviews),), lambda r, axis=-1: statistic(r), n_resamples=n_boot,
                            method="BCa", random_state=seed)
        bounds, method = list(res.confidence_interval), "BCa"
        values = res.bootstrap_distribution[np.isfinite(res.bootstrap_distribution)]
        if len(values) and values.min() == values.max():
            bounds = [values[0], values[0]]  # e.g. a code every resample scores 1.0: the interval is that value
        elif 0 < len(values) < n_boot and np.isnan(bounds).any():
            # BCa needs the statistic on every resample; a code that some resamples leave undefined (they
            # hold none of its reviews and no false tag) gets the percentile interval of the others.
            bounds, method = list(np.percentile(values, [2.5, 97.5])), f"percentile of {len(values)} resamples"
        point, lo, hi = (float(v) if v == v else None for v in (statistic(np.arange(n_reviews)), *bounds))
        return {"point": point, "interval": [lo, hi], "method": method}, res.bootstrap_distribution

    out = {"resamples": n_boot, "reviews": n_reviews, "seed": seed, "macro_f1": {}}
    for name in preds:
        out["macro_f1"][name] = resampled(lambda r, name=name: macro(name, r))[0]
    main = "combined" if "combined" in preds else next(iter(preds))
    out["per_code"] = {"system": main, "codes": {}}
    for j, code in enumerate(codes):
        out["per_code"]["codes"][code] = resampled(lambda r, j=j: f1(main, r)[..., j])[0]
    if "combined" in preds and len(preds) > 1:
        out["combined_lead"] = {}
        for name in preds:
            if name != "combined":
                lead, dist = resampled(lambda r, name=name: macro("combined", r) - macro(name, r))
                out["combined_lead"][name] = lead | {"share_ahead": float(np.mean(dist > 0))}
    return out
