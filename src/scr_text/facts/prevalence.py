"""The prevalence table: counts and shares of each case fact over a set of reviews, the risk
co-occurrence matrix, and the share of domestic-abuse cases in which someone other than the alleged
abuser harmed the child; compared with gold figures and with the published ones where they exist."""
from __future__ import annotations

from collections import Counter

import pandas as pd

TABLE_FACTS = ("outcome", "incident", "proceedings", "law", "perpetrator", "harm_by_da_perpetrator")


def _risks(row: dict) -> list[str]:
    value = row.get("risks_present") or ""
    return [r for r in (value if isinstance(value, list) else str(value).split(";")) if r]


def prevalence(rows: list[dict], risk_codes: list[str], da_code: str = "domestic_abuse") -> pd.DataFrame:
    """One row per figure: key, group, value, count, n (the denominator), percent."""
    n = len(rows)
    out = []
    for fact in TABLE_FACTS:
        counts = Counter(str(r[fact]) for r in rows)
        for value, count in sorted(counts.items()):
            out.append({"key": f"{fact}={value}", "group": fact, "value": value, "count": count, "n": n})
    for code in risk_codes:
        count = sum(code in _risks(r) for r in rows)
        out.append({"key": f"risk={code}", "group": "risk factor present", "value": code, "count": count, "n": n})
    da = [r for r in rows if da_code in _risks(r) and r["harm_by_da_perpetrator"] in ("yes", "no")]
    out.append({"key": "da_harm_by_other", "group": "domestic abuse cases",
                "value": "harm by someone other than the alleged abuser",
                "count": sum(r["harm_by_da_perpetrator"] == "no" for r in da), "n": len(da)})
    frame = pd.DataFrame(out)
    frame["percent"] = (100 * frame["count"] / frame["n"].where(frame["n"] > 0)).round(1)
    return frame


def cooccurrence(rows: list[dict], risk_codes: list[str]) -> pd.DataFrame:
    """Reviews in which both risk factors are present (the diagonal: reviews with that one)."""
    m = pd.DataFrame(0, index=risk_codes, columns=risk_codes)
    for r in rows:
        present = [c for c in _risks(r) if c in risk_codes]
        for a in present:
            for b in present:
                m.loc[a, b] += 1
    return m


def compare(extracted: pd.DataFrame, gold: pd.DataFrame | None, published: dict[str, float]) -> pd.DataFrame:
    """The extracted table with the gold percentage, its absolute error (percentage points) and the published figure."""
    table = extracted.copy()
    if gold is not None:
        g = gold.set_index("key")["percent"]
        table["gold_percent"] = table["key"].map(g)
        keys = set(table["key"])
        missing = gold[~gold["key"].isin(keys)].copy()  # a value gold has and the extraction never produced
        if len(missing):
            missing["count"], missing["percent"] = 0, 0.0
            missing["gold_percent"] = missing["key"].map(g)
            table = pd.concat([table, missing[table.columns]], ignore_index=True)
        table["abs_error_pp"] = (table["percent"] - table["gold_percent"]).abs().round(1)
    table["published_percent"] = table["key"].map(published)
    return table
