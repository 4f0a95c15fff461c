"""Agreement between coders (and the model as one more coder) at passage level: per code and over all
codes, percentage agreement, Cohen's kappa and Gwet's AC1 for each pair, Krippendorff's alpha over all
coders, each with a bootstrap 95% interval that resamples reviews, not passages.

A passage a coder did not rate is *missing* for that coder, not "no code": each pair is compared on the
passages both rated, and alpha uses every passage at least two coders rated (Krippendorff 2011).

Per code, a coder's value for a passage is 0/1. Over all codes (``ALL``), it is the set of codes the coder
gave the passage, one nominal category per distinct set: on data with one code per passage this is the
textbook multi-category statistic, and codes nobody used never enter it. ``ALL (passage x code)`` pools the
per-code decisions instead, every passage x code in use one unit: partial credit where sets overlap.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

MISSING = -1


def pair_stats(table: np.ndarray) -> dict[str, float]:
    """Percentage agreement, Cohen's kappa and Gwet's AC1 from a q x q table (rows: coder A's category,
    columns: coder B's); NaN where undefined. AC1 uses the q categories of the table."""
    table = np.asarray(table, dtype=float)
    return _pair_stats(np.trace(table), table.sum(axis=1), table.sum(axis=0))


def _pair_stats(agreed: float, rows: np.ndarray, cols: np.ndarray) -> dict[str, float]:
    """The same from what the statistics need: the agreeing count and each coder's count per category (the
    bootstrap sums these per review, which is far smaller than a table per review)."""
    n = rows.sum()
    if n == 0:
        return {"percent_agreement": np.nan, "cohen_kappa": np.nan, "gwet_ac1": np.nan}
    q = len(rows)
    po = agreed / n
    pa, pb = rows / n, cols / n  # each coder's category rates
    pe_kappa = float(pa @ pb)
    kappa = (po - pe_kappa) / (1 - pe_kappa) if pe_kappa < 1 else np.nan
    pi = (pa + pb) / 2
    pe_ac1 = float((pi * (1 - pi)).sum() / (q - 1)) if q > 1 else 1.0
    ac1 = (po - pe_ac1) / (1 - pe_ac1) if pe_ac1 < 1 else np.nan
    return {"percent_agreement": 100 * po, "cohen_kappa": kappa, "gwet_ac1": ac1}


def alpha_nominal(counts: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Krippendorff's alpha (nominal) from per-unit value counts (n_units, q), each unit weighted (a
    bootstrap resample's repetitions). Units with fewer than two ratings are not pairable and drop out."""
    counts = np.asarray(counts, dtype=float)
    m = counts.sum(axis=1)
    keep = m >= 2
    w = np.ones(len(counts)) if weights is None else np.asarray(weights, dtype=float)
    counts, m, w = counts[keep], m[keep], w[keep]
    scaled = counts * (w / (m - 1))[:, None]
    coincidences = scaled.T @ counts - np.diag(scaled.sum(axis=0))
    n_c = coincidences.sum(axis=1)
    n = n_c.sum()
    if n <= 1:
        return np.nan
    observed = coincidences.sum() - np.trace(coincidences)
    expected = (n ** 2 - (n_c ** 2).sum()) / (n - 1)
    return float(1 - observed / expected) if expected > 0 else np.nan


@dataclass
class Units:
    """Every passage at least one coder rated: ``data[c]`` is coder c's (n_units, n_codes) 0/1 matrix and
    ``rated[c]`` says which units coder c rated (the rest are missing for c)."""

    keys: list[tuple[str, int]]  # (doc_id, passage)
    coders: list[str]
    codes: list[str]
    data: dict[str, np.ndarray]
    rated: dict[str, np.ndarray]

    @property
    def docs(self) -> np.ndarray:
        return np.array([k[0] for k in self.keys])

    def coded_by_any(self) -> np.ndarray:
        return np.any([(m.any(axis=1) & self.rated[c]) for c, m in self.data.items()], axis=0)

    def subset(self, mask: np.ndarray) -> "Units":
        return Units([k for k, m in zip(self.keys, mask) if m], self.coders, self.codes,
                     {c: m[mask] for c, m in self.data.items()}, {c: r[mask] for c, r in self.rated.items()})

    def values(self, cols: list[int]) -> tuple[np.ndarray, int]:
        """(n_coders, n_units) category per coder and unit (MISSING where unrated) for these code columns,
        and the number of categories: 0/1 for one code, one category per distinct code set for several."""
        if len(cols) == 1:
            out = np.stack([np.where(self.rated[c], self.data[c][:, cols[0]], MISSING) for c in self.coders])
            return out.astype(int), 2
        index: dict[bytes, int] = {}
        out = np.full((len(self.coders), len(self.keys)), MISSING, dtype=int)
        for i, c in enumerate(self.coders):
            rows = self.data[c][:, cols]
            for u in np.flatnonzero(self.rated[c]):
                out[i, u] = index.setdefault(rows[u].tobytes(), len(index))
        return out, max(len(index), 1)

    def used_codes(self) -> list[int]:
        """Columns of the codes some coder gave some rated passage."""
        return [j for j in range(len(self.codes)) if any((m[:, j].astype(bool) & self.rated[c]).any()
                                                          for c, m in self.data.items())]

    def pooled(self) -> tuple[np.ndarray, int]:
        """(n_coders, n_units x n_used_codes) 0/1 (MISSING where unrated): every passage x code in use as a unit."""
        used = self.used_codes()
        out = np.stack([np.where(self.rated[c][:, None], self.data[c][:, used], MISSING).reshape(-1) for c in self.coders])
        return out.astype(int), 2


def build_units(codings: dict[str, dict[tuple[str, int], list[str]]], codes: list[str]) -> Units:
    """Units from coder -> {(doc_id, passage): codes}; a passage absent from a coder's dict is unrated."""
    coders = list(codings)
    keys = sorted(set().union(*(set(c) for c in codings.values()))) if codings else []
    index = {c: j for j, c in enumerate(codes)}
    data, rated = {}, {}
    for coder in coders:
        m = np.zeros((len(keys), len(codes)), dtype=np.int8)
        seen = np.zeros(len(keys), dtype=bool)
        for i, key in enumerate(keys):
            if key in codings[coder]:
                seen[i] = True
                for code in codings[coder][key]:
                    if code in index:
                        m[i, index[code]] = 1
        data[coder], rated[coder] = m, seen
    return Units(keys, coders, codes, data, rated)


def agreement(units: Units, n_boot: int = 500, seed: int = 0) -> list[dict]:
    """One row per (code or ALL, coder pair): the pair's n (passages both rated), the three pair statistics,
    Krippendorff's alpha over all coders, and bootstrap 95% intervals resampled by review."""
    import krippendorff

    rng = np.random.default_rng(seed)
    doc_ids, groups = np.unique(units.docs, return_inverse=True)
    n_groups = len(doc_ids)
    weights = rng.multinomial(n_groups, np.full(n_groups, 1 / n_groups), size=n_boot) if n_groups else np.zeros((0, 0))
    rows = []
    every = list(range(len(units.codes)))
    per_passage = len(units.used_codes())
    # (name, values, categories, each unit's review, binary?, units per passage)
    targets = [(code, *units.values([j]), groups, True, 1) for j, code in enumerate(units.codes)]
    targets.append(("ALL", *units.values(every), groups, False, 1))
    targets.append(("ALL (passage x code)", *units.pooled(), np.repeat(groups, per_passage), True, per_passage))
    for code, values, q, unit_groups, binary, per in targets:
        rated = values != MISSING
        # Alpha over all coders: the krippendorff package for the figure, the weighted form for the bootstrap.
        # Only units two or more coders rated can pair; the package is slow on the others, which change nothing.
        pairable = rated.sum(axis=0) >= 2
        observed = values[:, pairable][rated[:, pairable]]
        if observed.size and len(np.unique(observed)) > 1:
            alpha = float(krippendorff.alpha(
                reliability_data=np.where(rated, values, np.nan)[:, pairable].astype(float), level_of_measurement="nominal"))
        else:
            alpha = np.nan
        counts = np.stack([(values == k).sum(axis=0) for k in range(q)], axis=1)
        alpha_boot = [alpha_nominal(counts, w[unit_groups]) for w in weights]
        for (i, a), (j, b) in combinations(enumerate(units.coders), 2):
            both = rated[i] & rated[j]
            g, va, vb = unit_groups[both], values[i, both], values[j, both]
            # Per review: the agreeing count and each coder's count per category.
            agreed, rows_, cols_ = np.zeros(n_groups), np.zeros((n_groups, q)), np.zeros((n_groups, q))
            np.add.at(agreed, g, (va == vb).astype(float))
            np.add.at(rows_, (g, va), 1)
            np.add.at(cols_, (g, vb), 1)
            if not binary:  # code sets: the pair's own categories (as if the two were compared alone)
                used = (rows_.sum(axis=0) + cols_.sum(axis=0)) > 0
                rows_, cols_ = rows_[:, used], cols_[:, used]
            point = _pair_stats(agreed.sum(), rows_.sum(axis=0), cols_.sum(axis=0))
            boot = [_pair_stats(w @ agreed, w @ rows_, w @ cols_) for w in weights]
            row = {"code": code, "coder_a": a, "coder_b": b, "n_passages": int(both.sum()) // max(per, 1), **point,
                   "krippendorff_alpha": alpha}
            for stat in ("percent_agreement", "cohen_kappa", "gwet_ac1"):
                row[f"{stat}_ci_low"], row[f"{stat}_ci_high"] = _interval([r[stat] for r in boot])
            row["krippendorff_alpha_ci_low"], row["krippendorff_alpha_ci_high"] = _interval(alpha_boot)
            rows.append(row)
    return rows


def _interval(values) -> tuple[float, float]:
    v = np.array([x for x in values if x == x], dtype=float)  # NaN-free
    if not len(v):
        return np.nan, np.nan
    return float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))


def disagreements(units: Units, a: str, b: str, code: str) -> list[tuple[str, int]]:
    """Passages both coders rated where they decided ``code`` differently."""
    j = units.codes.index(code)
    both = units.rated[a] & units.rated[b]
    differ = both & (units.data[a][:, j] != units.data[b][:, j])
    return [k for k, d in zip(units.keys, differ) if d]
