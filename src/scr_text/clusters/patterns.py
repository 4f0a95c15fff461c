"""Recurring patterns across a corpus: cluster each view of the passages, label the clusters, pick
their exemplars, and write clusters.json, clusters.csv, passages_clusters.csv and clusters.html."""
from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from scr_text.clusters.density import Cluster, ClusterResult, PassageClusterer, adjusted_rand, assign_outliers, ctfidf_terms
from scr_text.codebook import Codebook
from scr_text.config import ClusterSettings
from scr_text.records import Passage
from scr_text.tagging.features import is_heading, lemma_text


def view_index(view: str, passages: list[Passage], decided: np.ndarray, codebook: Codebook) -> np.ndarray:
    """Rows in the view: every passage but headings ("all"), or those tagged with a code of the family."""
    if view == "all":
        return np.array([i for i, p in enumerate(passages) if not is_heading(p.text)], dtype=int)
    cols = [j for j, c in enumerate(codebook.ids) if codebook.code(c).family == view]
    if not cols:
        raise ValueError(f"unknown cluster view '{view}'")
    return np.flatnonzero(decided[:, cols].any(axis=1))


def view_features(view: str, embeddings: np.ndarray, scores: np.ndarray, codebook: Codebook, weight: float) -> np.ndarray:
    """The passage embeddings, with the tagger's probabilities for the view's codes appended (scaled)."""
    if weight <= 0:
        return embeddings
    cols = [j for j, c in enumerate(codebook.ids) if view == "all" or codebook.code(c).family == view]
    return np.hstack([embeddings, weight * scores[:, cols]]).astype(np.float32)


def cluster_view(view: str, passages: list[Passage], embeddings: np.ndarray, scores: np.ndarray, decided: np.ndarray,
                 codebook: Codebook, cfg: ClusterSettings, stability: bool = True) -> tuple[np.ndarray, ClusterResult]:
    """Cluster one view. Returns (the view's row indices into ``passages``, the result)."""
    t0 = time.perf_counter()
    idx = view_index(view, passages, decided, codebook)
    X = view_features(view, embeddings[idx], scores[idx], codebook, cfg.code_weight)
    clusterer = PassageClusterer(cfg)
    labels = clusterer.fit_predict(X)
    if cfg.assign_outliers:
        labels = assign_outliers(X, labels, cfg.min_similarity)
    coords = clusterer.reduce(X, n_components=2) if len(X) > 3 else np.zeros((len(X), 2))
    ari = None
    if stability and len(X) >= 10:
        aris = [adjusted_rand(labels, PassageClusterer(cfg, seed=s).fit_predict(X)) for s in cfg.stability_seeds]
        ari = float(np.mean(aris)) if aris else None
    view_passages = [passages[i] for i in idx]
    clusters = describe(view_passages, X, labels, decided[idx], codebook, cfg)
    outliers = float(np.mean(labels == -1)) if len(labels) else 0.0
    return idx, ClusterResult(view, labels, coords, clusters, outliers, ari, time.perf_counter() - t0)


def describe(passages: list[Passage], X: np.ndarray, labels: np.ndarray, decided: np.ndarray, codebook: Codebook,
             cfg: ClusterSettings) -> list[Cluster]:
    terms = ctfidf_terms([lemma_text(p) for p in passages], labels, {str(w).lower() for w in cfg.labels.ignore},
                         cfg.labels.top_terms)
    unit = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    out = []
    for c in sorted(set(labels) - {-1}):
        members = np.flatnonzero(labels == c)
        shares = decided[members].mean(axis=0)
        code_shares = {codebook.ids[j]: round(float(shares[j]), 3) for j in np.argsort(-shares) if shares[j] > 0}
        top_codes = [code for code, share in list(code_shares.items())[:2] if share >= 0.3]
        words = terms.get(c, [])
        label = " · ".join(words[:3]) or f"cluster {c}"
        if top_codes:
            label += " (" + ", ".join(codebook.code(code).label.lower() for code in top_codes) + ")"
        out.append(Cluster(int(c), label, words, len(members), len({passages[i].doc_id for i in members}), code_shares,
                           exemplars(passages, unit, members, cfg.exemplars)))
    return out


def exemplars(passages: list[Passage], unit: np.ndarray, members: np.ndarray, n: int) -> list[dict]:
    """The members nearest the cluster's centroid, one per review first, then the next nearest."""
    centroid = unit[members].mean(axis=0)
    centroid /= max(np.linalg.norm(centroid), 1e-12)
    order = members[np.argsort(-(unit[members] @ centroid))]
    picked, seen = [], set()
    for i in order:
        if passages[i].doc_id not in seen:
            picked.append(i)
            seen.add(passages[i].doc_id)
        if len(picked) == n:
            break
    for i in order:
        if len(picked) == n:
            break
        if i not in picked:
            picked.append(i)
    return [{"doc_id": passages[i].doc_id, "passage": passages[i].index, "start": passages[i].start,
             "end": passages[i].end, "text": passages[i].text, "similarity": round(float(unit[i] @ centroid), 4)}
            for i in picked]


# -- outputs ----------------------------------------------------------------------------

def write_outputs(results: list[tuple[np.ndarray, ClusterResult]], passages: list[Passage], decided: np.ndarray,
                  codebook: Codebook, texts: dict[str, str], out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"clusters_json": out_dir / "clusters.json", "clusters_csv": out_dir / "clusters.csv",
             "passages_clusters": out_dir / "passages_clusters.csv", "clusters_html": out_dir / "clusters.html"}
    summary = [{"view": r.view, "passages": int(len(r.labels)), "clusters": len(r.clusters),
                "outliers": int((r.labels == -1).sum()), "outlier_share": round(r.outlier_share, 4),
                "stability_ari": None if r.stability_ari is None else round(r.stability_ari, 4),
                "seconds": round(r.seconds, 2), "items": [asdict(c) for c in r.clusters]} for _, r in results]
    paths["clusters_json"].write_text(json.dumps({"views": summary}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    rows = []
    for _, r in results:
        for c in r.clusters:
            rows.append({"view": r.view, "cluster": c.id, "label": c.label, "size": c.size, "reviews": c.reviews,
                         "code_shares": json.dumps(c.code_shares), "exemplars": json.dumps(
                             [{k: e[k] for k in ("doc_id", "start", "end")} for e in c.exemplars])})
    pd.DataFrame(rows, columns=["view", "cluster", "label", "size", "reviews", "code_shares", "exemplars"]).to_csv(
        paths["clusters_csv"], index=False)
    prow = []
    for idx, r in results:
        for k, i in enumerate(idx):
            p = passages[i]
            prow.append({"view": r.view, "doc_id": p.doc_id, "passage": p.index, "start": p.start, "end": p.end,
                         "cluster": int(r.labels[k]), "x": round(float(r.coords[k, 0]), 4), "y": round(float(r.coords[k, 1]), 4)})
    pd.DataFrame(prow).to_csv(paths["passages_clusters"], index=False)
    from scr_text.report.cluster_map import render_clusters

    render_clusters(results, passages, decided, codebook, texts, paths["clusters_html"])
    return paths


def summary_lines(results: list[tuple[np.ndarray, ClusterResult]]) -> list[str]:
    lines = []
    for _, r in results:
        ari = "n/a" if r.stability_ari is None else f"{r.stability_ari:.3f}"
        lines.append(f"{r.view}: {len(r.labels)} passages, {len(r.clusters)} clusters, "
                     f"{100 * r.outlier_share:.1f}% outliers, stability ARI across seeds {ari}, {r.seconds:.1f} s")
    return lines
