"""Recurring patterns: UMAP reduction of passage embeddings, density clustering (HDBSCAN), readable
labels from class-based TF-IDF over lemmas, exemplar passages, and stability across seeds.

Passages that fit no cluster stay outliers (label -1) and are counted; `assign_outliers` (off by
default) moves one into its nearest cluster when the cosine similarity to that cluster's centroid is
high enough.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from scr_text.config import ClusterSettings
from scr_text.locations import cache_dir

# Numba compiles UMAP's and pynndescent's kernels on first call; caching them on disk means the
# second run does not pay for it again.
os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir("numba")))


@dataclass
class Cluster:
    id: int
    label: str
    terms: list[str]
    size: int
    reviews: int
    code_shares: dict[str, float]
    exemplars: list[dict] = field(default_factory=list)  # {doc_id, passage, start, end, text, similarity}


@dataclass
class ClusterResult:
    view: str
    labels: np.ndarray  # per passage: cluster id, -1 for outliers
    coords: np.ndarray  # (n, 2) map coordinates
    clusters: list[Cluster]
    outlier_share: float
    stability_ari: float | None
    seconds: float


class PassageClusterer:
    """``fit_predict(X) -> labels``; ``reduce`` gives the UMAP space; every parameter from the config."""

    def __init__(self, cfg: ClusterSettings, seed: int | None = None):
        self.cfg = cfg
        self.seed = int(cfg.seed if seed is None else seed)

    def reduce(self, X: np.ndarray, n_components: int | None = None) -> np.ndarray:
        import warnings

        import umap

        params = dict(self.cfg.umap)
        if n_components is not None:
            params["n_components"] = n_components
        params["n_neighbors"] = min(int(params.get("n_neighbors", 15)), max(2, len(X) - 1))
        with warnings.catch_warnings():  # "n_jobs overridden by random_state": seeded runs are single-threaded by design
            warnings.simplefilter("ignore", UserWarning)
            return umap.UMAP(random_state=self.seed, n_jobs=1, **params).fit_transform(X)

    def fit_predict(self, X: np.ndarray) -> np.ndarray:
        from sklearn.cluster import HDBSCAN

        params = dict(self.cfg.hdbscan)
        if len(X) < max(4, int(params.get("min_cluster_size", 10))):
            return np.full(len(X), -1)
        self.reduced_ = self.reduce(X)
        self.labels_ = HDBSCAN(**params).fit_predict(self.reduced_)
        return self.labels_


def assign_outliers(X: np.ndarray, labels: np.ndarray, min_similarity: float) -> np.ndarray:
    """Outliers join the nearest cluster centroid (cosine) when similar enough; the rest stay -1."""
    labels = labels.copy()
    ids = sorted(set(labels) - {-1})
    if not ids:
        return labels
    unit = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    centroids = np.stack([unit[labels == c].mean(axis=0) for c in ids])
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    out = np.flatnonzero(labels == -1)
    if len(out):
        sims = unit[out] @ centroids.T
        best = sims.argmax(axis=1)
        ok = sims[np.arange(len(out)), best] >= min_similarity
        labels[out[ok]] = np.array(ids)[best[ok]]
    return labels


def ctfidf_terms(docs: list[str], labels: np.ndarray, ignore: set[str], top: int) -> dict[int, list[str]]:
    """Class-based TF-IDF (each cluster's passages as one document): the terms most distinctive of each."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    stop = sorted(set(ENGLISH_STOP_WORDS) | ignore)
    ids = sorted(set(labels) - {-1})
    if not ids:
        return {}
    joined = [" ".join(d for d, lab in zip(docs, labels) if lab == c) for c in ids]
    vec = CountVectorizer(stop_words=stop, ngram_range=(1, 2), min_df=1, token_pattern=r"(?u)\b[a-z][a-z]+\b")
    try:
        counts = vec.fit_transform(joined).toarray().astype(float)
    except ValueError:  # nothing but stop words
        return {c: [] for c in ids}
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    avg = counts.sum() / len(ids)
    idf = np.log(1 + avg / np.maximum(counts.sum(axis=0), 1))
    scores = tf * idf
    terms = vec.get_feature_names_out()
    out = {}
    for row, c in enumerate(ids):
        picked: list[str] = []
        for j in np.argsort(-scores[row]):
            t = terms[j]
            # Skip a unigram already inside a picked bigram, and vice versa.
            if any(t in p.split() or p in t.split() for p in picked):
                continue
            picked.append(t)
            if len(picked) == top:
                break
        out[c] = picked
    return out


def adjusted_rand(a: np.ndarray, b: np.ndarray) -> float:
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(a, b))
