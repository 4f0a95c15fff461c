"""Agreement between coders (and the model as one more coder) at passage level, code by code:
percentage agreement, Cohen's kappa and Gwet's AC1 for each pair, Krippendorff's alpha over all coders,
each with a bootstrap 95% interval that resamples reviews, not passages.

Each coder's decisions for one code are a 0/1 vector over the same passages. Pair statistics come from
the 2x2 table of two such vectors, so the bootstrap sums per-review tables instead of recounting.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np


def pair_stats(n11: float, n10: float, n01: float, n00: float) -> dict[str, float]:
    """Percentage agreement, Cohen's kappa and Gwet's AC1 from a 2x2 table (NaN where undefined)."""
    n = n11 + n10 + n01 + n00
    if n == 0:
        return {"percent_agreement": np.nan, "cohen_kappa": np.nan, "gwet_ac1": np.nan}
    po = (n11 + n00) / n
    pa, pb = (n11 + n10) / n, (n11 + n01) / n  # each coder's rate of "yes"
    pe_kappa = pa * pb + (1 - pa) * (1 - pb)
    kappa = (po - pe_kappa) / (1 - pe_kappa) if pe_kappa < 1 else np.nan
    pi = (pa + pb) / 2
    pe_ac1 = 2 * pi * (1 - pi)
    ac1 = (po - pe_ac1) / (1 - pe_ac1)
    return {"percent_agreement": 100 * po, "cohen_kappa": kappa, "gwet_ac1": ac1}


def alpha_binary(ones: np.ndarray, raters: np.ndarray) -> float:
    """Krippendorff's alpha (nominal, two values) from per-unit counts of "yes" and of coders; units with
    fewer than two coders are not pairable and drop out."""
    keep = raters >= 2
    ones, raters = ones[keep].astype(float), raters[keep].astype(float)
    zeros = raters - ones
    n = raters.sum()
    if n <= 1:
        return np.nan
    disagree = (2 * ones * zeros / (raters - 1)).sum()  # o_10 + o_01 of the coincidence matrix
    n1, n0 = ones.sum(), zeros.sum()
    expected = 2 * n1 * n0 / (n - 1)
    return float(1 - disagree / expected) if expected > 0 else np.nan


@dataclass
class Units:
    """Passages coded by every coder compared: ``data[c]`` is coder c's (n_units, n_codes) 0/1 matrix."""

    keys: list[tuple[str, int]]  # (doc_id, passage)
    coders: list[str]
    codes: list[str]
    data: dict[str, np.ndarray]

    @property
    def docs(self) -> np.ndarray:
        return np.array([k[0] for k in self.keys])

    def coded_by_any(self) -> np.ndarray:
        return np.any([m.any(axis=1) for m in self.data.values()], axis=0)

    def subset(self, mask: np.ndarray) -> "Units":
        return Units([k for k, m in zip(self.keys, mask) if m], self.coders, self.codes,
                     {c: m[mask] for c, m in self.data.items()})


def build_units(codings: dict[str, dict[tuple[str, int], list[str]]], codes: list[str]) -> Units:
    """Units shared by all coders: passages of the reviews every coder coded."""
    coders = list(codings)
    docs = set.intersection(*({d for d, _ in c} for c in codings.values())) if codings else set()
    keys = sorted(k for k in set.union(*(set(c) for c in codings.values())) if k[0] in docs) if codings else []
    index = {c: j for j, c in enumerate(codes)}
    data = {}
    for coder in coders:
        m = np.zeros((len(keys), len(codes)), dtype=np.int8)
        for i, key in enumerate(keys):
            for code in codings[coder].get(key, []):
                if code in index:
                    m[i, index[code]] = 1
        data[coder] = m
    return Units(keys, coders, codes, data)


def _tables(a: np.ndarray, b: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Per-review 2x2 tables: (n_groups, 4) of n11, n10, n01, n00."""
    cells = np.stack([(a == 1) & (b == 1), (a == 1) & (b == 0), (a == 0) & (b == 1), (a == 0) & (b == 0)], axis=1)
    out = np.zeros((n_groups, 4))
    np.add.at(out, groups, cells.astype(float))
    return out


def agreement(units: Units, n_boot: int = 500, seed: int = 0) -> list[dict]:
    """One row per (code or ALL, coder pair): n, the three pair statistics, Krippendorff's alpha over all
    coders for that code, and bootstrap 95% intervals resampled by review."""
    import krippendorff

    rng = np.random.default_rng(seed)
    doc_ids, groups = np.unique(units.docs, return_inverse=True)
    n_groups = len(doc_ids)
    weights = rng.multinomial(n_groups, np.full(n_groups, 1 / n_groups), size=n_boot) if n_groups else np.zeros((0, 0))
    rows = []
    targets = [(code, [j]) for j, code in enumerate(units.codes)] + [("ALL", list(range(len(units.codes))))]
    for code, cols in targets:
        # Units for this target: passages, or passage x code pairs for ALL.
        vectors = {c: m[:, cols].reshape(-1) for c, m in units.data.items()}
        g = np.repeat(groups, len(cols)) if len(units.keys) else np.zeros(0, dtype=int)
        # Krippendorff's alpha over all coders (the krippendorff package), and per review for the bootstrap.
        matrix = np.stack([vectors[c] for c in units.coders]).astype(float)
        try:
            alpha = float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")) \
                if matrix.size and len(np.unique(matrix)) > 1 else np.nan
        except (ValueError, ZeroDivisionError):
            alpha = np.nan
        ones = matrix.sum(axis=0)
        per_doc_ones = np.zeros(n_groups)
        np.add.at(per_doc_ones, g, ones)
        alpha_boot = _boot_alpha(ones, len(units.coders), g, weights)
        for a, b in combinations(units.coders, 2):
            tables = _tables(vectors[a], vectors[b], g, n_groups)
            point = pair_stats(*tables.sum(axis=0))
            boot = [pair_stats(*(w @ tables)) for w in weights]
            row = {"code": code, "coder_a": a, "coder_b": b, "n_passages": len(units.keys), **point,
                   "krippendorff_alpha": alpha}
            for stat in ("percent_agreement", "cohen_kappa", "gwet_ac1"):
                lo, hi = _interval([r[stat] for r in boot])
                row[f"{stat}_ci_low"], row[f"{stat}_ci_high"] = lo, hi
            row["krippendorff_alpha_ci_low"], row["krippendorff_alpha_ci_high"] = _interval(alpha_boot)
            rows.append(row)
    return rows


def _boot_alpha(ones: np.ndarray, n_coders: int, groups: np.ndarray, weights: np.ndarray) -> list[float]:
    """Alpha per bootstrap resample of reviews (every unit has all coders, so each review's units repeat)."""
    out = []
    raters = np.full(len(ones), n_coders, dtype=float)
    for w in weights:
        reps = w[groups] if len(groups) else np.zeros(0)
        keep = reps > 0
        out.append(alpha_binary(np.repeat(ones[keep], reps[keep].astype(int)),
                                np.repeat(raters[keep], reps[keep].astype(int))))
    return out


def _interval(values) -> tuple[float, float]:
    v = np.array([x for x in values if x == x], dtype=float)  # NaN-free
    if not len(v):
        return np.nan, np.nan
    return float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))


def disagreements(units: Units, a: str, b: str, code: str) -> list[tuple[str, int]]:
    """Passages where coders a and b decided ``code`` differently."""
    j = units.codes.index(code)
    differ = units.data[a][:, j] != units.data[b][:, j]
    return [k for k, d in zip(units.keys, differ) if d]
