"""scr-text's clustering side by side with BERTopic (defaults) on the same passages and embeddings.

The passages are the shipped corpus's paragraphs that carry a gold practice-learning code; each one's
"dominant" gold code is its rarest practice code in the corpus (the most specific). Printed for both:
wall time, number of clusters, outlier share, and the normalised mutual information between cluster
assignment and the dominant gold code (outliers count as one more cluster, as they stand).

scr-text appends the tagger's probabilities for the practice codes to each embedding; for the shipped
corpus it uses the model's out-of-fold probabilities (each from a fit that did not see that review), so
the gold codes do not leak into the clustering.

    .venv/bin/python benchmarks/bench_clusters.py        (needs the bench extra: pip install -e ".[bench]")
"""
from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from sklearn.metrics import normalized_mutual_info_score as nmi

    from scr_text.clusters.density import PassageClusterer
    from scr_text.clusters.patterns import view_features
    from scr_text.codebook import load_codebook
    from scr_text.config import load_settings
    from scr_text.corpus import gold_labels, load_corpus
    from scr_text.embed.encoder import Embedder
    from scr_text.ingest.intake import ingest_files
    from scr_text.locations import SAMPLE_CORPUS
    from scr_text.store.database import Store
    from scr_text.tagging.tagger import TaggerModel

    settings = load_settings()
    codebook = load_codebook()
    corpus = load_corpus(SAMPLE_CORPUS)
    model = TaggerModel.load("default")
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "b.sqlite") as store:
        ingest_files([corpus.texts], store, settings, progress=False)
        passages = store.passages()
        embeddings = Embedder(settings.embed, cache=store).transform([p.text for p in passages])
    if [(p.doc_id, p.start) for p in passages] != [(m["doc_id"], m["start"]) for m in model.exemplar_meta]:
        sys.exit("the default model was not trained on this corpus's passages; retrain it first")
    oof = model.stages.oof_proba
    Y = gold_labels(passages, corpus.passages, codebook.ids)
    practice = [j for j, c in enumerate(codebook.ids) if codebook.code(c).family == "practice_learning"]
    rows = np.flatnonzero(Y[:, practice].any(axis=1))
    freq = Y[:, practice].sum(axis=0)
    dominant = np.array([practice[min((k for k in range(len(practice)) if Y[i, practice[k]]), key=lambda k: freq[k])]
                         for i in rows])
    docs = [passages[i].text for i in rows]
    emb = embeddings[rows]

    # Both methods run UMAP, whose numba kernels compile on first use: warm them up first so that
    # neither pays the compilation in its timing.
    PassageClusterer(settings.cluster).reduce(np.random.default_rng(0).normal(size=(200, 20)))
    results = {}
    t = time.perf_counter()
    from bertopic import BERTopic

    topics, _ = BERTopic().fit_transform(docs, embeddings=emb)
    topics = np.array(topics)
    results["BERTopic (defaults)"] = (time.perf_counter() - t, topics)

    cfg = settings.cluster
    t = time.perf_counter()
    X = view_features("practice_learning", emb, oof[rows], codebook, cfg.code_weight)
    labels = PassageClusterer(cfg).fit_predict(X)
    results["scr-text"] = (time.perf_counter() - t, labels)
    t = time.perf_counter()
    labels = PassageClusterer(cfg).fit_predict(emb)
    results["scr-text, embeddings only"] = (time.perf_counter() - t, labels)

    print(f"{len(rows)} passages with a gold practice code; dominant codes: "
          f"{dict(Counter(codebook.ids[j] for j in dominant).most_common())}")
    print(f"{'method':<28}{'seconds':>9}{'clusters':>10}{'outliers':>10}{'NMI':>8}")
    for name, (seconds, lab) in results.items():
        print(f"{name:<28}{seconds:>9.2f}{len(set(lab) - {-1}):>10}{100 * np.mean(lab == -1):>9.1f}%"
              f"{nmi(dominant, lab):>8.3f}")


if __name__ == "__main__":
    main()
